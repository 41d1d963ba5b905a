//! X-Wing against the outside world: the official draft vectors
//! (vectors/upstream/xwing-draft-test-vectors.json, from the draft's
//! repository) and a two-way cross-check with two independent
//! implementations, RustCrypto's `x-wing` and libcrux's `libcrux-kem`.

use qpc_crypto::xwing::{XWingCiphertext, XWingPublicKey, XWingSecretKey};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    #[serde(with = "hex::serde")]
    seed: Vec<u8>,
    #[serde(with = "hex::serde")]
    eseed: Vec<u8>,
    #[serde(with = "hex::serde")]
    ss: Vec<u8>,
    #[serde(with = "hex::serde")]
    sk: Vec<u8>,
    #[serde(with = "hex::serde")]
    pk: Vec<u8>,
    #[serde(with = "hex::serde")]
    ct: Vec<u8>,
}

fn upstream() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/upstream/xwing-draft-test-vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn official_draft_vectors() {
    let vectors = upstream();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let sk = XWingSecretKey::from_seed(&v.seed.clone().try_into().unwrap());
        assert_eq!(sk.seed()[..], v.sk[..]);
        assert_eq!(sk.public_key().to_bytes()[..], v.pk[..]);
        let pk = XWingPublicKey::from_bytes(&v.pk).unwrap();
        let (ct, ss) = pk
            .encapsulate_derand(&v.eseed.clone().try_into().unwrap())
            .unwrap();
        assert_eq!(ct.to_bytes()[..], v.ct[..]);
        assert_eq!(ss.as_bytes()[..], v.ss[..]);
        let decapsulated = sk
            .decapsulate(&XWingCiphertext::from_bytes(&v.ct).unwrap())
            .unwrap();
        assert_eq!(decapsulated.as_bytes()[..], v.ss[..]);
    }
}

/// Deterministic seeds for the cross-check.
fn seeds(n: u8) -> impl Iterator<Item = ([u8; 32], [u8; 64])> {
    (0..n).map(|i| {
        (
            [i.wrapping_mul(37).wrapping_add(1); 32],
            [i.wrapping_mul(11).wrapping_add(200); 64],
        )
    })
}

mod rustcrypto {
    use x_wing::{Decapsulate, DecapsulationKey, Decapsulator, EncapsulationKey, KeyExport};

    pub fn keypair(seed: [u8; 32]) -> (DecapsulationKey, Vec<u8>) {
        let dk = DecapsulationKey::from(seed);
        let pk = dk.encapsulation_key().to_bytes().to_vec();
        (dk, pk)
    }

    pub fn encapsulate(pk: &[u8], eseed: [u8; 64]) -> (Vec<u8>, Vec<u8>) {
        let ek = EncapsulationKey::try_from(pk).unwrap();
        let (ct, ss) = ek.encapsulate_deterministic(&eseed.into());
        (ct.to_vec(), ss.to_vec())
    }

    pub fn decapsulate(dk: &DecapsulationKey, ct: &[u8]) -> Vec<u8> {
        dk.decapsulate(ct.try_into().unwrap()).to_vec()
    }
}

mod libcrux {
    use libcrux_kem::{key_gen_derand, Algorithm, Ct, PrivateKey, PublicKey};

    const ALG: Algorithm = Algorithm::XWingKemDraft06;

    pub fn keypair(seed: [u8; 32]) -> (PrivateKey, Vec<u8>) {
        let (sk, pk) = key_gen_derand(ALG, &seed).unwrap();
        (sk, pk.encode())
    }

    pub fn encapsulate(pk: &[u8], eseed: [u8; 64]) -> (Vec<u8>, Vec<u8>) {
        let (ss, ct) = PublicKey::decode(ALG, pk)
            .unwrap()
            .encapsulate_derand(&eseed)
            .unwrap();
        (ct.encode(), ss.encode())
    }

    pub fn decapsulate(sk: &PrivateKey, ct: &[u8]) -> Vec<u8> {
        Ct::decode(ALG, ct)
            .unwrap()
            .decapsulate(sk)
            .unwrap()
            .encode()
    }
}

#[test]
fn cross_check_with_rustcrypto_x_wing_both_ways() {
    for (seed, eseed) in seeds(8) {
        let ours = XWingSecretKey::from_seed(&seed);
        let (theirs, their_pk) = rustcrypto::keypair(seed);
        assert_eq!(ours.public_key().to_bytes()[..], their_pk[..]);

        // Theirs encapsulates, we decapsulate.
        let (ct, ss) = rustcrypto::encapsulate(&their_pk, eseed);
        let got = ours
            .decapsulate(&XWingCiphertext::from_bytes(&ct).unwrap())
            .unwrap();
        assert_eq!(got.as_bytes()[..], ss[..]);

        // We encapsulate, they decapsulate.
        let (ct, ss) = ours.public_key().encapsulate_derand(&eseed).unwrap();
        assert_eq!(
            rustcrypto::decapsulate(&theirs, &ct.to_bytes()),
            ss.as_bytes()
        );
    }
}

#[test]
fn cross_check_with_libcrux_kem_both_ways() {
    for (seed, eseed) in seeds(8) {
        let ours = XWingSecretKey::from_seed(&seed);
        let (theirs, their_pk) = libcrux::keypair(seed);
        assert_eq!(ours.public_key().to_bytes()[..], their_pk[..]);

        let (ct, ss) = libcrux::encapsulate(&their_pk, eseed);
        let got = ours
            .decapsulate(&XWingCiphertext::from_bytes(&ct).unwrap())
            .unwrap();
        assert_eq!(got.as_bytes()[..], ss[..]);

        let (ct, ss) = ours.public_key().encapsulate_derand(&eseed).unwrap();
        assert_eq!(libcrux::decapsulate(&theirs, &ct.to_bytes()), ss.as_bytes());
    }
}

#[test]
fn random_ciphertexts_agree_across_implementations() {
    // Implicit rejection must also agree: arbitrary ML-KEM ciphertext bytes
    // decapsulate to the same (pseudo-random) secret everywhere.
    for (seed, eseed) in seeds(4) {
        let ours = XWingSecretKey::from_seed(&seed);
        let (ct, _) = ours.public_key().encapsulate_derand(&eseed).unwrap();
        let mut bytes = ct.to_bytes();
        bytes[17] ^= 0x40;
        let got = ours
            .decapsulate(&XWingCiphertext::from_bytes(&bytes).unwrap())
            .unwrap();
        let (rc, _) = rustcrypto::keypair(seed);
        let (lc, _) = libcrux::keypair(seed);
        assert_eq!(rustcrypto::decapsulate(&rc, &bytes), got.as_bytes());
        assert_eq!(libcrux::decapsulate(&lc, &bytes), got.as_bytes());
    }
}

#[test]
fn the_two_backends_differ_on_an_all_zero_x25519_ciphertext() {
    // The behaviour qpc had to choose (spec/03): libcrux rejects, x-wing's
    // default key accepts, qpc rejects.
    let seed = [9; 32];
    let ours = XWingSecretKey::from_seed(&seed);
    let (ct, _) = ours.public_key().encapsulate_derand(&[1; 64]).unwrap();
    let mut bytes = ct.to_bytes();
    bytes[1088..].fill(0);
    let (rc, _) = rustcrypto::keypair(seed);
    let _accepted = rustcrypto::decapsulate(&rc, &bytes);
    let (lc, _) = libcrux::keypair(seed);
    assert!(
        libcrux_kem::Ct::decode(libcrux_kem::Algorithm::XWingKemDraft06, &bytes)
            .unwrap()
            .decapsulate(&lc)
            .is_err()
    );
    assert_eq!(
        ours.decapsulate(&XWingCiphertext::from_bytes(&bytes).unwrap())
            .unwrap_err()
            .class(),
        "non_contributory"
    );
}
