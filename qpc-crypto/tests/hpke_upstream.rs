//! HPKE against the official draft-ietf-hpke-pq vectors
//! (vectors/upstream/hpke-pq-test-vectors.json, hpkewg/hpke-pq at 74dafaa)
//! for qpc's suite: KEM 0x647a (X-Wing), KDF 0x0001, AEAD 0x0003, base mode.

use qpc_crypto::{hpke, xwing};
use serde::Deserialize;

#[derive(Deserialize)]
struct Encryption {
    #[serde(with = "hex::serde")]
    aad: Vec<u8>,
    #[serde(with = "hex::serde")]
    ct: Vec<u8>,
    #[serde(with = "hex::serde")]
    pt: Vec<u8>,
}

#[derive(Deserialize)]
struct Export {
    #[serde(with = "hex::serde")]
    exporter_context: Vec<u8>,
    #[serde(rename = "L")]
    len: usize,
    #[serde(with = "hex::serde")]
    exported_value: Vec<u8>,
}

#[derive(Deserialize)]
struct Suite {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    #[serde(with = "hex::serde")]
    info: Vec<u8>,
    #[serde(rename = "ikmE", with = "hex::serde")]
    ikm_e: Vec<u8>,
    #[serde(rename = "ikmR", with = "hex::serde")]
    ikm_r: Vec<u8>,
    #[serde(rename = "skRm", with = "hex::serde")]
    sk_rm: Vec<u8>,
    #[serde(rename = "pkRm", with = "hex::serde")]
    pk_rm: Vec<u8>,
    #[serde(with = "hex::serde")]
    enc: Vec<u8>,
    encryptions: Vec<Encryption>,
    exports: Vec<Export>,
}

fn ours() -> Vec<Suite> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/upstream/hpke-pq-test-vectors.json"
    );
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter()
        .filter(|v| v["kem_id"] == 0x647a && v["kdf_id"] == 1 && v["aead_id"] == 3)
        .map(|v| serde_json::from_value(v).unwrap())
        .collect()
}

#[test]
fn official_hpke_pq_vectors_for_our_suite() {
    let suites = ours();
    assert!(!suites.is_empty(), "the file has our suite");
    for s in suites {
        assert_eq!(
            (s.mode, s.kem_id, s.kdf_id, s.aead_id),
            (0, hpke::KEM_ID, hpke::KDF_ID, hpke::AEAD_ID)
        );
        let sk = hpke::derive_key_pair(&s.ikm_r);
        assert_eq!(sk.seed()[..], s.sk_rm[..], "DeriveKeyPair");
        assert_eq!(sk.public_key().to_bytes()[..], s.pk_rm[..]);

        let pk = xwing::XWingPublicKey::from_bytes(&s.pk_rm).unwrap();
        let eseed: [u8; 64] = s.ikm_e.clone().try_into().unwrap();
        let (enc, mut sender) = hpke::setup_sender_derand(&pk, &s.info, &eseed).unwrap();
        assert_eq!(enc[..], s.enc[..], "enc");
        let mut receiver = hpke::setup_receiver(&sk, &s.enc, &s.info).unwrap();
        for (i, e) in s.encryptions.iter().enumerate() {
            assert_eq!(sender.seal(&e.aad, &e.pt).unwrap(), e.ct, "seal #{i}");
            assert_eq!(
                &receiver.open(&e.aad, &e.ct).unwrap()[..],
                &e.pt[..],
                "open #{i}"
            );
        }
        for x in &s.exports {
            assert_eq!(
                &sender.export(&x.exporter_context, x.len).unwrap()[..],
                &x.exported_value[..]
            );
            assert_eq!(
                &receiver.export(&x.exporter_context, x.len).unwrap()[..],
                &x.exported_value[..]
            );
        }
    }
}

#[test]
fn tampering_fails_to_open() {
    let sk = xwing::XWingSecretKey::from_seed(&[3; 32]);
    let (enc, ct) =
        hpke::seal_derand(sk.public_key(), b"info", b"aad", b"secret", &[4; 64]).unwrap();
    assert_eq!(
        &hpke::open(&sk, &enc, b"info", b"aad", &ct).unwrap()[..],
        b"secret"
    );
    let open = |enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
        hpke::open(&sk, enc, info, aad, ct).unwrap_err().class()
    };
    assert_eq!(open(&enc, b"other", b"aad", &ct), "open_failed");
    assert_eq!(open(&enc, b"info", b"other", &ct), "open_failed");
    let mut flipped = ct.clone();
    flipped[0] ^= 1;
    assert_eq!(open(&enc, b"info", b"aad", &flipped), "open_failed");
    let mut enc2 = enc;
    enc2[5] ^= 1;
    assert_eq!(open(&enc2, b"info", b"aad", &ct), "open_failed");
    assert_eq!(open(&enc[..100], b"info", b"aad", &ct), "wrong_length");
    assert_eq!(open(&enc, b"info", b"aad", &ct[..10]), "open_failed");
}
