//! X-Wing, the hybrid post-quantum KEM (draft-connolly-cfrg-xwing-kem-06;
//! HPKE KEM id 0x647a): ML-KEM-768 and X25519 with a SHA3-256 combiner.
//!
//! The primitives come from well-kept crates: ML-KEM-768 from
//! `libcrux-ml-kem` (formally verified; AVX2 when the CPU has it), X25519
//! from `x25519-dalek`, SHA3/SHAKE from `libcrux-sha3`. This module only
//! composes them as the draft specifies, and differs from the stock X-Wing
//! crates in one way: an [`XWingSecretKey`] expands its 32-byte seed once
//! and keeps the expanded ML-KEM key, the X25519 scalar and both public
//! halves (all zeroized on drop), so decapsulation is one ML-KEM
//! decapsulation, one X25519 and one SHA3-256 — no re-expansion.
//!
//! One behaviour is qpc's choice (`spec/03-hybrid-kem-hpke.md`): an X25519
//! exchange that yields the all-zero secret (a low-order point as public key
//! or ciphertext) is rejected with [`Error::NonContributory`], on both
//! encapsulation and decapsulation.
//!
//! ```
//! use qpc_crypto::xwing::XWingSecretKey;
//!
//! let alice = XWingSecretKey::from_seed(&[7; 32]);
//! let (ct, ss) = alice.public_key().encapsulate_derand(&[9; 64]).unwrap();
//! assert_eq!(alice.decapsulate(&ct).unwrap(), ss);
//! ```

use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PrivateKey, MlKem768PublicKey};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{fixed, Error};

/// Encoded public (encapsulation) key: ML-KEM-768 key then X25519 key.
pub const PUBLIC_KEY_LEN: usize = MLKEM_PK_LEN + 32;
/// Encoded ciphertext: ML-KEM-768 ciphertext then X25519 ephemeral key.
pub const CIPHERTEXT_LEN: usize = MLKEM_CT_LEN + 32;
/// The secret key is a 32-byte seed.
pub const SEED_LEN: usize = 32;
/// Randomness consumed by one encapsulation.
pub const ENCAPS_RANDOMNESS_LEN: usize = 64;
/// Shared secret length.
pub const SHARED_SECRET_LEN: usize = 32;

const MLKEM_PK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;
const MLKEM_SK_LEN: usize = 2400;
/// `\./` `/^\`, the X-Wing label, last in the combiner input.
const LABEL: [u8; 6] = [0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c];

/// An X-Wing shared secret; zeroized on drop, compared in constant time.
#[derive(Clone)]
pub struct SharedSecret(Zeroizing<[u8; SHARED_SECRET_LEN]>);

impl SharedSecret {
    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; SHARED_SECRET_LEN] {
        &self.0
    }
}

impl PartialEq for SharedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for SharedSecret {}

impl core::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// SHA3-256(ss_M || ss_X || ct_X || pk_X || label), the X-Wing combiner.
fn combine(ss_m: &[u8; 32], ss_x: &[u8; 32], ct_x: &[u8; 32], pk_x: &[u8; 32]) -> SharedSecret {
    let mut input = Zeroizing::new([0u8; 32 * 4 + LABEL.len()]);
    for (chunk, part) in input.chunks_mut(32).zip([ss_m, ss_x, ct_x, pk_x]) {
        chunk.copy_from_slice(part);
    }
    input[128..].copy_from_slice(&LABEL);
    SharedSecret(Zeroizing::new(libcrux_sha3::sha256(&*input)))
}

/// An X-Wing public (encapsulation) key, validated when parsed.
#[derive(Clone)]
pub struct XWingPublicKey {
    mlkem: MlKem768PublicKey,
    x25519: X25519Public,
}

impl PartialEq for XWingPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.mlkem.as_slice() == other.mlkem.as_slice() && self.x25519 == other.x25519
    }
}

impl Eq for XWingPublicKey {}

impl core::fmt::Debug for XWingPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "XWingPublicKey(x25519 {:02x?}..)",
            &self.x25519.as_bytes()[..4]
        )
    }
}

impl XWingPublicKey {
    /// Parses a 1216-byte key, applying ML-KEM's encapsulation-key check
    /// (FIPS 203 §7.2: every coefficient reduced modulo q).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; PUBLIC_KEY_LEN] = fixed("X-Wing public key", bytes)?;
        let mlkem = MlKem768PublicKey::try_from(&bytes[..MLKEM_PK_LEN]).expect("length checked");
        if !mlkem768::validate_public_key(&mlkem) {
            return Err(Error::InvalidPublicKey("ML-KEM-768 encapsulation key"));
        }
        let x25519: [u8; 32] = bytes[MLKEM_PK_LEN..].try_into().expect("length checked");
        Ok(XWingPublicKey {
            mlkem,
            x25519: X25519Public::from(x25519),
        })
    }

    /// The 1216-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        let mut out = [0; PUBLIC_KEY_LEN];
        out[..MLKEM_PK_LEN].copy_from_slice(self.mlkem.as_slice());
        out[MLKEM_PK_LEN..].copy_from_slice(self.x25519.as_bytes());
        out
    }

    /// Encapsulates a fresh shared secret to this key.
    pub fn encapsulate(
        &self,
        rng: &mut impl CryptoRng,
    ) -> Result<(XWingCiphertext, SharedSecret), Error> {
        let mut eseed = Zeroizing::new([0u8; ENCAPS_RANDOMNESS_LEN]);
        rng.fill_bytes(&mut *eseed);
        self.encapsulate_derand(&eseed)
    }

    /// Encapsulates with caller-supplied randomness (`eseed` of the draft:
    /// 32 bytes for ML-KEM, then the 32-byte X25519 ephemeral secret). For
    /// test vectors; real use must pass fresh uniform randomness.
    pub fn encapsulate_derand(
        &self,
        eseed: &[u8; ENCAPS_RANDOMNESS_LEN],
    ) -> Result<(XWingCiphertext, SharedSecret), Error> {
        let ek_x = StaticSecret::from(<[u8; 32]>::try_from(&eseed[32..]).expect("32 bytes"));
        let ct_x = X25519Public::from(&ek_x);
        let ss_x = ek_x.diffie_hellman(&self.x25519);
        if !ss_x.was_contributory() {
            return Err(Error::NonContributory);
        }
        let m_rand: [u8; 32] = eseed[..32].try_into().expect("32 bytes");
        let (ct_m, mut ss_m) = mlkem768::encapsulate(&self.mlkem, m_rand);
        let ss = combine(
            &ss_m,
            ss_x.as_bytes(),
            ct_x.as_bytes(),
            self.x25519.as_bytes(),
        );
        ss_m.zeroize();
        Ok((
            XWingCiphertext {
                mlkem: ct_m,
                x25519: ct_x.to_bytes(),
            },
            ss,
        ))
    }
}

/// An X-Wing ciphertext.
#[derive(Clone)]
pub struct XWingCiphertext {
    mlkem: MlKem768Ciphertext,
    x25519: [u8; 32],
}

impl XWingCiphertext {
    /// Parses a 1120-byte ciphertext (any bytes of that length are a
    /// ciphertext: ML-KEM rejects implicitly).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; CIPHERTEXT_LEN] = fixed("X-Wing ciphertext", bytes)?;
        Ok(XWingCiphertext {
            mlkem: MlKem768Ciphertext::try_from(&bytes[..MLKEM_CT_LEN]).expect("length checked"),
            x25519: bytes[MLKEM_CT_LEN..].try_into().expect("length checked"),
        })
    }

    /// The 1120-byte encoding.
    pub fn to_bytes(&self) -> [u8; CIPHERTEXT_LEN] {
        let mut out = [0; CIPHERTEXT_LEN];
        out[..MLKEM_CT_LEN].copy_from_slice(self.mlkem.as_slice());
        out[MLKEM_CT_LEN..].copy_from_slice(&self.x25519);
        out
    }
}

impl core::fmt::Debug for XWingCiphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "XWingCiphertext(x25519 {:02x?}..)", &self.x25519[..4])
    }
}

/// A long-lived X-Wing secret (decapsulation) key: the seed and its
/// expansion, kept so that decapsulation never re-expands. Zeroized on drop.
pub struct XWingSecretKey {
    seed: Zeroizing<[u8; SEED_LEN]>,
    mlkem: MlKem768PrivateKey,
    x25519: StaticSecret,
    public: XWingPublicKey,
}

impl Drop for XWingSecretKey {
    fn drop(&mut self) {
        self.mlkem[..MLKEM_SK_LEN].zeroize();
    }
}

impl core::fmt::Debug for XWingSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("XWingSecretKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl XWingSecretKey {
    /// Expands a 32-byte seed (the draft's `expandDecapsulationKey`).
    pub fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        let mut expanded = Zeroizing::new(libcrux_sha3::shake256::<96>(seed));
        let mlkem_seed: [u8; 64] = expanded[..64].try_into().expect("64 bytes");
        let (mlkem, mlkem_public) = mlkem768::generate_key_pair(mlkem_seed).into_parts();
        let x25519 = StaticSecret::from(<[u8; 32]>::try_from(&expanded[64..]).expect("32 bytes"));
        expanded.zeroize();
        let public = XWingPublicKey {
            mlkem: mlkem_public,
            x25519: X25519Public::from(&x25519),
        };
        XWingSecretKey {
            seed: Zeroizing::new(*seed),
            mlkem,
            x25519,
            public,
        }
    }

    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        rng.fill_bytes(&mut *seed);
        Self::from_seed(&seed)
    }

    /// The seed, the key's serialised form.
    pub fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    /// The matching public key.
    pub fn public_key(&self) -> &XWingPublicKey {
        &self.public
    }

    /// Recovers the shared secret from `ct`.
    pub fn decapsulate(&self, ct: &XWingCiphertext) -> Result<SharedSecret, Error> {
        let ss_x = self.x25519.diffie_hellman(&X25519Public::from(ct.x25519));
        if !ss_x.was_contributory() {
            return Err(Error::NonContributory);
        }
        let mut ss_m = mlkem768::decapsulate(&self.mlkem, &ct.mlkem);
        let ss = combine(
            &ss_m,
            ss_x.as_bytes(),
            &ct.x25519,
            self.public.x25519.as_bytes(),
        );
        ss_m.zeroize();
        Ok(ss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_named() {
        let short = XWingPublicKey::from_bytes(&[0; PUBLIC_KEY_LEN - 1]).unwrap_err();
        assert_eq!(
            short,
            Error::WrongLength {
                what: "X-Wing public key",
                expected: PUBLIC_KEY_LEN,
                got: PUBLIC_KEY_LEN - 1
            }
        );
        let long = XWingCiphertext::from_bytes(&[0; CIPHERTEXT_LEN + 1]).unwrap_err();
        assert_eq!(long.class(), "wrong_length");
    }

    #[test]
    fn unreduced_mlkem_key_is_rejected() {
        let mut bytes = XWingSecretKey::from_seed(&[1; 32]).public_key().to_bytes();
        // The first 12-bit coefficient set to 0xfff > q = 3329.
        bytes[0] = 0xff;
        bytes[1] |= 0x0f;
        assert_eq!(
            XWingPublicKey::from_bytes(&bytes),
            Err(Error::InvalidPublicKey("ML-KEM-768 encapsulation key"))
        );
    }

    #[test]
    fn all_zero_x25519_is_rejected_both_ways() {
        let sk = XWingSecretKey::from_seed(&[2; 32]);
        let (ct, _) = sk.public_key().encapsulate_derand(&[3; 64]).unwrap();
        let mut bytes = ct.to_bytes();
        bytes[MLKEM_CT_LEN..].fill(0);
        let zero_ct = XWingCiphertext::from_bytes(&bytes).unwrap();
        assert_eq!(sk.decapsulate(&zero_ct), Err(Error::NonContributory));

        let mut pk = sk.public_key().to_bytes();
        pk[MLKEM_PK_LEN..].fill(0);
        let zero_pk = XWingPublicKey::from_bytes(&pk).unwrap();
        assert_eq!(
            zero_pk.encapsulate_derand(&[3; 64]).unwrap_err(),
            Error::NonContributory
        );
    }

    #[test]
    fn tampered_ciphertext_gives_a_different_secret() {
        let sk = XWingSecretKey::from_seed(&[4; 32]);
        let (ct, ss) = sk.public_key().encapsulate_derand(&[5; 64]).unwrap();
        for index in [0, MLKEM_CT_LEN - 1, MLKEM_CT_LEN + 5] {
            let mut bytes = ct.to_bytes();
            bytes[index] ^= 1;
            let other = sk
                .decapsulate(&XWingCiphertext::from_bytes(&bytes).unwrap())
                .unwrap();
            assert_ne!(other, ss, "flip at {index}");
        }
    }
}
