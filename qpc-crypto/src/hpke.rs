//! HPKE (RFC 9180) base mode with X-Wing, as draft-ietf-hpke-pq specifies
//! it: suite (KEM 0x647a X-Wing, KDF 0x0001 HKDF-SHA256, AEAD 0x0003
//! ChaCha20Poly1305).
//!
//! The KEM step is our [`xwing`](crate::xwing) (expanded long-lived keys);
//! the key schedule, AEAD and exporter are `hpke-rs` 0.8 with its libcrux
//! backend, given the X-Wing shared secret (X-Wing is used as the HPKE KEM
//! directly: `enc` is the 1120-byte X-Wing ciphertext). hpke-rs is built
//! with an RNG that always fails, so it can never draw randomness behind
//! the caller's back: all randomness comes in through the API.
//!
//! ```
//! use qpc_crypto::{hpke, xwing::XWingSecretKey};
//!
//! let bob = XWingSecretKey::from_seed(&[1; 32]);
//! let (enc, ct) = hpke::seal_derand(bob.public_key(), b"info", b"aad", b"hi", &[2; 64]).unwrap();
//! assert_eq!(&hpke::open(&bob, &enc, b"info", b"aad", &ct).unwrap()[..], b"hi");
//! ```

use hpke_rs::hpke_types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use hpke_rs::{Context, Hpke, HpkeError, Mode};
use hpke_rs_libcrux::HpkeLibcrux;
use rand_core::{CryptoRng, TryCryptoRng, TryRng};
use zeroize::Zeroizing;

use crate::xwing::{self, XWingCiphertext, XWingPublicKey, XWingSecretKey};
use crate::Error;

/// The HPKE KEM id of X-Wing.
pub const KEM_ID: u16 = 0x647a;
/// HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// ChaCha20Poly1305.
pub const AEAD_ID: u16 = 0x0003;
/// Length of `enc`: an X-Wing ciphertext.
pub const ENC_LEN: usize = xwing::CIPHERTEXT_LEN;
/// AEAD tag length.
pub const TAG_LEN: usize = 16;

/// An RNG that refuses: hpke-rs is only used for deterministic steps.
#[derive(Debug)]
pub struct NoRandomness;

/// The error [`NoRandomness`] returns.
#[derive(Debug, thiserror::Error)]
#[error("qpc never lets hpke-rs draw randomness")]
pub struct NoRandomnessError;

impl TryRng for NoRandomness {
    type Error = NoRandomnessError;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Err(NoRandomnessError)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Err(NoRandomnessError)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
        Err(NoRandomnessError)
    }
}

impl TryCryptoRng for NoRandomness {}

type Backend = HpkeLibcrux<NoRandomness>;

fn suite() -> Hpke<Backend> {
    Hpke::new_with_rng(
        Mode::Base,
        KemAlgorithm::XWingDraft06,
        KdfAlgorithm::HkdfSha256,
        AeadAlgorithm::ChaCha20Poly1305,
        NoRandomness,
    )
}

fn hpke_error(e: HpkeError) -> Error {
    match e {
        HpkeError::OpenError => Error::OpenFailed,
        other => Error::Hpke(format!("{other:?}")),
    }
}

/// An HPKE context (sender or receiver) for several messages or exports.
pub struct HpkeContext(Context<Backend>);

impl HpkeContext {
    fn new(shared_secret: &xwing::SharedSecret, info: &[u8]) -> Result<Self, Error> {
        suite()
            .key_schedule(shared_secret.as_bytes(), info, &[], &[])
            .map(HpkeContext)
            .map_err(hpke_error)
    }

    /// Encrypts the next message.
    pub fn seal(&mut self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        self.0.seal(aad, plaintext).map_err(hpke_error)
    }

    /// Decrypts the next message. A ciphertext shorter than the tag cannot
    /// open, like any other forgery.
    pub fn open(&mut self, aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if ciphertext.len() < TAG_LEN {
            return Err(Error::OpenFailed);
        }
        self.0
            .open(aad, ciphertext)
            .map(Zeroizing::new)
            .map_err(hpke_error)
    }

    /// The RFC 9180 exporter.
    pub fn export(&self, context: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.0
            .export(context, len)
            .map(Zeroizing::new)
            .map_err(hpke_error)
    }
}

/// Sets up a sender context with encapsulation randomness `eseed`; returns
/// `enc` and the context.
pub fn setup_sender_derand(
    recipient: &XWingPublicKey,
    info: &[u8],
    eseed: &[u8; xwing::ENCAPS_RANDOMNESS_LEN],
) -> Result<([u8; ENC_LEN], HpkeContext), Error> {
    let (ct, ss) = recipient.encapsulate_derand(eseed)?;
    Ok((ct.to_bytes(), HpkeContext::new(&ss, info)?))
}

/// Sets up a sender context with fresh randomness.
pub fn setup_sender(
    recipient: &XWingPublicKey,
    info: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], HpkeContext), Error> {
    let mut eseed = Zeroizing::new([0u8; xwing::ENCAPS_RANDOMNESS_LEN]);
    rng.fill_bytes(&mut *eseed);
    setup_sender_derand(recipient, info, &eseed)
}

/// Sets up a receiver context from `enc`.
pub fn setup_receiver(
    recipient: &XWingSecretKey,
    enc: &[u8],
    info: &[u8],
) -> Result<HpkeContext, Error> {
    let ss = recipient.decapsulate(&XWingCiphertext::from_bytes(enc)?)?;
    HpkeContext::new(&ss, info)
}

/// Single-shot seal with encapsulation randomness `eseed` (for vectors).
pub fn seal_derand(
    recipient: &XWingPublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    eseed: &[u8; xwing::ENCAPS_RANDOMNESS_LEN],
) -> Result<([u8; ENC_LEN], Vec<u8>), Error> {
    let (enc, mut ctx) = setup_sender_derand(recipient, info, eseed)?;
    Ok((enc, ctx.seal(aad, plaintext)?))
}

/// Single-shot seal with fresh randomness.
pub fn seal(
    recipient: &XWingPublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENC_LEN], Vec<u8>), Error> {
    let (enc, mut ctx) = setup_sender(recipient, info, rng)?;
    Ok((enc, ctx.seal(aad, plaintext)?))
}

/// Single-shot open.
pub fn open(
    recipient: &XWingSecretKey,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    setup_receiver(recipient, enc, info)?.open(aad, ciphertext)
}

/// HPKE `DeriveKeyPair(ikm)` for X-Wing (draft-ietf-hpke-pq): the seed is
/// `SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 32)`, that is SHAKE256
/// over `ikm || "HPKE-v1" || "KEM" || I2OSP(0x647a, 2) ||
/// I2OSP(13, 2) || "DeriveKeyPair" || I2OSP(32, 2)`.
pub fn derive_key_pair(ikm: &[u8]) -> XWingSecretKey {
    const LABEL: &[u8] = b"DeriveKeyPair";
    let mut input = Zeroizing::new(Vec::with_capacity(ikm.len() + 32));
    input.extend_from_slice(ikm);
    input.extend_from_slice(b"HPKE-v1KEM");
    input.extend_from_slice(&KEM_ID.to_be_bytes());
    input.extend_from_slice(&(LABEL.len() as u16).to_be_bytes());
    input.extend_from_slice(LABEL);
    input.extend_from_slice(&(xwing::SEED_LEN as u16).to_be_bytes());
    let seed = Zeroizing::new(libcrux_sha3::shake256::<{ xwing::SEED_LEN }>(&input));
    XWingSecretKey::from_seed(&seed)
}
