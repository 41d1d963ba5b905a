//! pqXX's ML-KEM-768 (libcrux-ml-kem, the faster) agrees byte for byte with
//! RustCrypto's independent `ml-kem` on keys, ciphertexts and shared
//! secrets from the same FIPS 203 seeds and randomness, including implicit
//! rejection of a tampered ciphertext.

use libcrux_ml_kem::mlkem768;
use ml_kem::kem::{Decapsulate, KeyExport};
use proptest::prelude::*;

fn compare(seed: [u8; 64], m: [u8; 32]) {
    let pair = mlkem768::generate_key_pair(seed);
    let dk = ml_kem::DecapsulationKey768::from_seed(seed.into());
    let ek = dk.encapsulation_key();
    assert_eq!(
        pair.public_key().as_slice(),
        &ek.to_bytes()[..],
        "encapsulation key"
    );

    let (ct, ss) = mlkem768::encapsulate(pair.public_key(), m);
    let (rc_ct, rc_ss) = ek.encapsulate_deterministic(&m.into());
    assert_eq!(ct.as_slice(), &rc_ct[..], "ciphertext");
    assert_eq!(&ss[..], &rc_ss[..], "shared secret");

    let mut tampered = *ct.as_slice();
    tampered[0] ^= 1;
    let rejected = mlkem768::decapsulate(pair.private_key(), &tampered.into());
    let rc_tampered = rc_ct
        .iter()
        .enumerate()
        .map(|(i, b)| if i == 0 { b ^ 1 } else { *b });
    let rc_rejected = dk.decapsulate(&rc_tampered.collect());
    assert_eq!(&rejected[..], &rc_rejected[..], "implicit rejection");
    assert_ne!(rejected, ss);
}

#[test]
fn fixed_seeds_agree() {
    for b in [0u8, 1, 0x5a, 0xff] {
        compare([b; 64], [b ^ 0x33; 32]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn random_seeds_agree(seed in any::<[u8; 32]>(), z in any::<[u8; 32]>(), m in any::<[u8; 32]>()) {
        let mut full = [0u8; 64];
        full[..32].copy_from_slice(&seed);
        full[32..].copy_from_slice(&z);
        compare(full, m);
    }
}
