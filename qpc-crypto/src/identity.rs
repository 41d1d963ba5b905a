//! qpc identities (`spec/02-identity.md`): an Ed25519 signing key plus an
//! X-Wing KEM key pair, a 16-byte address, and safety numbers.
//!
//! ```text
//! struct {
//!     uint8  version = 1;
//!     opaque signing_key[32];   // Ed25519 public key
//!     opaque kem_key[1216];     // X-Wing public key
//! } PublicIdentity;             // 1249 bytes
//!
//! struct {
//!     uint8  version = 1;
//!     opaque signing_seed[32];  // Ed25519 secret key (RFC 8032 seed)
//!     opaque kem_seed[32];      // X-Wing seed
//! } SecretIdentity;             // 65 bytes, zeroized
//!
//! kem_key_digest = SHA-256(kem_key)
//! address        = SHA-256("qpc address v1" || signing_key || kem_key_digest)[0..16]
//! ```
//!
//! Parsing rejects what no honest identity has: an Ed25519 key that is not
//! a canonical encoding of a point of large order, an X-Wing key failing
//! its ML-KEM check, and an X25519 half of small order (no one could ever
//! encapsulate to it).
//!
//! The address commits to the KEM key through its digest, so a node can
//! check an announce's address binding from 64 bytes (signing key and
//! digest) without the 1216-byte KEM key.
//!
//! ```
//! use qpc_crypto::identity::{Identity, SignatureContext};
//!
//! let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
//! let sig = alice.sign(SignatureContext::Test, b"hello");
//! alice.public().verify(SignatureContext::Test, b"hello", &sig).unwrap();
//! assert_eq!(alice.public().address().as_bytes().len(), 16);
//! ```

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::error::{fixed, Error};
use crate::xwing::{self, XWingPublicKey, XWingSecretKey};

/// Version byte of both encodings.
pub const IDENTITY_VERSION: u8 = 1;
/// Encoded [`PublicIdentity`] length.
pub const PUBLIC_IDENTITY_LEN: usize = 1 + 32 + xwing::PUBLIC_KEY_LEN;
/// Encoded secret identity length.
pub const SECRET_IDENTITY_LEN: usize = 1 + 32 + xwing::SEED_LEN;
/// Ed25519 signature length.
pub const SIGNATURE_LEN: usize = 64;

const ADDRESS_LABEL: &[u8] = b"qpc address v1";
const SAFETY_LABEL: &[u8] = b"qpc safety number v1";
/// SHA-512 iterations per safety-number half, as in Signal.
pub const SAFETY_ITERATIONS: usize = 5200;

/// A 16-byte qpc address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 16]);

impl Address {
    /// The address bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// An address from its bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Address(bytes)
    }

    /// The address of a signing key and the digest of a KEM key: what a node
    /// can check without the KEM key itself.
    pub fn derive(signing_key: &[u8; 32], kem_key_digest: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(ADDRESS_LABEL)
            .chain_update(signing_key)
            .chain_update(kem_key_digest)
            .finalize();
        Address(digest[..16].try_into().expect("16 of 32 bytes"))
    }
}

/// What a signature is for. The context label is signed with the message,
/// so a signature made for one purpose never verifies for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureContext {
    /// Only for tests and examples.
    Test,
    /// An issuer's signature on a sender certificate (`spec/05`).
    SenderCertificate,
    /// A sender's signature inside a sealed-sender message (`spec/05`).
    SealedSender,
    /// An identity's binding of a Noise static key (`spec/06`).
    PqxxStaticKey,
    /// A mesh announce (`spec/10`).
    MeshAnnounce,
    /// A sender's signature on a mesh broadcast channel message (`spec/10`).
    MeshChannel,
    /// An initiator's signature on a LoRa session establishment
    /// (`spec/12-mls-lite.md` part A).
    LoraSession,
    /// A therapist's FAPP slot announce or withdraw (`spec/20`).
    FappAnnounce,
}

impl SignatureContext {
    /// The label signed before the message.
    pub const fn label(self) -> &'static [u8] {
        match self {
            SignatureContext::Test => b"qpc sig v1 test",
            SignatureContext::SenderCertificate => b"qpc sig v1 sender certificate",
            SignatureContext::SealedSender => b"qpc sig v1 sealed sender",
            SignatureContext::PqxxStaticKey => b"qpc sig v1 pqxx static key",
            SignatureContext::MeshAnnounce => b"qpc sig v1 mesh announce",
            SignatureContext::MeshChannel => b"qpc sig v1 mesh channel",
            SignatureContext::LoraSession => b"qpc sig v1 lora session",
            SignatureContext::FappAnnounce => b"qpc sig v1 fapp announce",
        }
    }

    /// What the signed thing is called in errors.
    pub const fn name(self) -> &'static str {
        match self {
            SignatureContext::Test => "test message",
            SignatureContext::SenderCertificate => "sender certificate",
            SignatureContext::SealedSender => "sealed-sender message",
            SignatureContext::PqxxStaticKey => "pqXX static key binding",
            SignatureContext::MeshAnnounce => "mesh announce",
            SignatureContext::MeshChannel => "mesh channel message",
            SignatureContext::LoraSession => "LoRa session establishment",
            SignatureContext::FappAnnounce => "FAPP announce",
        }
    }
}

/// The signed bytes: `opaque label<V> || message`.
fn signed_bytes(context: SignatureContext, message: &[u8]) -> Vec<u8> {
    let label = context.label();
    let mut out = Vec::with_capacity(1 + label.len() + message.len());
    qpc_wire::codec::put_vl_bytes(&mut out, label).expect("short label");
    out.extend_from_slice(message);
    out
}

/// Someone's public identity, validated when parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicIdentity {
    signing: VerifyingKey,
    kem: XWingPublicKey,
    kem_digest: [u8; 32],
    address: Address,
}

impl core::fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicIdentity({:02x?})", self.address.0)
    }
}

impl PublicIdentity {
    fn new(signing: VerifyingKey, kem: XWingPublicKey) -> Self {
        let kem_digest: [u8; 32] = Sha256::digest(kem.to_bytes()).into();
        let address = Address::derive(signing.as_bytes(), &kem_digest);
        PublicIdentity {
            signing,
            kem,
            kem_digest,
            address,
        }
    }

    /// Parses the 1249-byte encoding. The Ed25519 key must be a valid,
    /// non-weak (not small-order) point; the X-Wing key must pass its check.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; PUBLIC_IDENTITY_LEN] = fixed("public identity", bytes)?;
        if bytes[0] != IDENTITY_VERSION {
            return Err(Error::UnknownVersion {
                what: "public identity",
                version: bytes[0],
            });
        }
        let signing = parse_signing_key(bytes[1..33].try_into().expect("32 bytes"))?;
        let kem = XWingPublicKey::from_bytes(&bytes[33..])?;
        if x25519_is_low_order(
            bytes[PUBLIC_IDENTITY_LEN - 32..]
                .try_into()
                .expect("32 bytes"),
        ) {
            return Err(Error::InvalidPublicKey("X25519 public key (small order)"));
        }
        Ok(Self::new(signing, kem))
    }

    /// The 1249-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_IDENTITY_LEN] {
        let mut out = [0; PUBLIC_IDENTITY_LEN];
        out[0] = IDENTITY_VERSION;
        out[1..33].copy_from_slice(self.signing.as_bytes());
        out[33..].copy_from_slice(&self.kem.to_bytes());
        out
    }

    /// The 16-byte address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The Ed25519 public key.
    pub fn signing_key(&self) -> &VerifyingKey {
        &self.signing
    }

    /// The X-Wing public key.
    pub fn kem_key(&self) -> &XWingPublicKey {
        &self.kem
    }

    /// SHA-256 of the encoded X-Wing public key.
    pub fn kem_key_digest(&self) -> &[u8; 32] {
        &self.kem_digest
    }

    /// Verifies a signature made with [`Identity::sign`] (strict RFC 8032
    /// verification: no malleable or small-order components).
    pub fn verify(
        &self,
        context: SignatureContext,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        verify(&self.signing, context, message, signature)
    }

    /// This identity's half of a safety number: 30 digits.
    pub fn fingerprint(&self) -> [u8; 30] {
        let mut hash = Sha512::new()
            .chain_update(SAFETY_LABEL)
            .chain_update(self.address.0)
            .chain_update(self.signing.as_bytes())
            .chain_update(self.kem_digest)
            .finalize();
        for _ in 0..SAFETY_ITERATIONS {
            hash = Sha512::new()
                .chain_update(hash)
                .chain_update(self.signing.as_bytes())
                .chain_update(self.kem_digest)
                .finalize();
        }
        let mut digits = [0u8; 30];
        for (group, chunk) in digits.chunks_mut(5).zip(hash.chunks(5)) {
            let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) % 100_000;
            for (i, digit) in group.iter_mut().enumerate() {
                *digit = b'0' + ((value / 10u64.pow(4 - i as u32)) % 10) as u8;
            }
        }
        digits
    }
}

/// Verifies `signature` by `key` on `message` for `context` (strict RFC 8032).
pub fn verify(
    key: &VerifyingKey,
    context: SignatureContext,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let signature = Signature::from_bytes(&fixed("signature", signature)?);
    key.verify_strict(&signed_bytes(context, message), &signature)
        .map_err(|_| Error::BadSignature(context.name()))
}

/// Parses an Ed25519 public key, rejecting encodings that are not a point,
/// non-canonical encodings (y >= p, RFC 8032 §5.1.3) and weak (small-order)
/// points.
pub fn parse_signing_key(bytes: &[u8; 32]) -> Result<VerifyingKey, Error> {
    match VerifyingKey::from_bytes(bytes) {
        Ok(key) if !key.is_weak() && y_is_canonical(bytes) => Ok(key),
        _ => Err(Error::InvalidPublicKey("Ed25519 public key")),
    }
}

/// Whether the y coordinate of an encoded Edwards point is below
/// p = 2^255 - 19 (little-endian, sign bit ignored). With a point that
/// decompresses and is not of small order, this is exactly "the encoding
/// is canonical": the only other non-canonical encodings set the sign bit
/// of x = 0, which only the small-order points y = 1 and y = -1 have.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff);
    !(top && bytes[0] >= 0xed)
}

/// Whether an X25519 public key has small order (on the curve or its
/// twist): a clamped scalar is a multiple of 8 and kills exactly those.
fn x25519_is_low_order(u: &[u8; 32]) -> bool {
    x25519_dalek::x25519([0x55; 32], *u) == [0; 32]
}

/// The 60-digit safety number of two identities, the same on both sides:
/// both 30-digit fingerprints, lower first.
pub fn safety_number(a: &PublicIdentity, b: &PublicIdentity) -> String {
    let (fa, fb) = (a.fingerprint(), b.fingerprint());
    let (first, second) = if fa <= fb { (fa, fb) } else { (fb, fa) };
    first
        .iter()
        .chain(&second)
        .map(|&d| char::from(d))
        .collect()
}

/// Signs `message` for `context` with `key` (Ed25519, RFC 8032).
pub fn sign(key: &SigningKey, context: SignatureContext, message: &[u8]) -> [u8; SIGNATURE_LEN] {
    key.sign(&signed_bytes(context, message)).to_bytes()
}

/// One's own identity: both secret keys (zeroized on drop) and the public
/// identity.
pub struct Identity {
    signing: SigningKey,
    kem: XWingSecretKey,
    public: PublicIdentity,
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The identity of two 32-byte seeds (Ed25519 secret key, X-Wing seed).
    pub fn from_seeds(signing_seed: &[u8; 32], kem_seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(signing_seed);
        let kem = XWingSecretKey::from_seed(kem_seed);
        let public = PublicIdentity::new(signing.verifying_key(), kem.public_key().clone());
        Identity {
            signing,
            kem,
            public,
        }
    }

    /// A fresh identity.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut seeds = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(&mut *seeds);
        let (s, k) = seeds.split_at(32);
        Self::from_seeds(s.try_into().expect("32"), k.try_into().expect("32"))
    }

    /// Parses the 65-byte secret encoding.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes = Zeroizing::new(fixed::<SECRET_IDENTITY_LEN>("secret identity", bytes)?);
        if bytes[0] != IDENTITY_VERSION {
            return Err(Error::UnknownVersion {
                what: "secret identity",
                version: bytes[0],
            });
        }
        Ok(Self::from_seeds(
            bytes[1..33].try_into().expect("32"),
            bytes[33..].try_into().expect("32"),
        ))
    }

    /// The 65-byte secret encoding (handle with care; zeroized on drop).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; SECRET_IDENTITY_LEN]> {
        let mut out = Zeroizing::new([0; SECRET_IDENTITY_LEN]);
        out[0] = IDENTITY_VERSION;
        out[1..33].copy_from_slice(self.signing.as_bytes());
        out[33..].copy_from_slice(self.kem.seed());
        out
    }

    /// The public identity.
    pub fn public(&self) -> &PublicIdentity {
        &self.public
    }

    /// The X-Wing secret key (for decapsulation).
    pub fn kem_secret(&self) -> &XWingSecretKey {
        &self.kem
    }

    /// The Ed25519 secret key, for protocols that sign their own labelled
    /// structures (MLS, `spec/07` §4).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// Signs `message` for `context` (Ed25519, RFC 8032; deterministic).
    pub fn sign(&self, context: SignatureContext, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        sign(&self.signing, context, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity::from_seeds(&[1; 32], &[2; 32])
    }

    #[test]
    fn public_identity_round_trip_and_address() {
        let id = alice();
        let bytes = id.public().to_bytes();
        let parsed = PublicIdentity::from_bytes(&bytes).unwrap();
        assert_eq!(&parsed, id.public());
        assert_eq!(parsed.address(), id.public().address());
        let digest: [u8; 32] = Sha256::digest(&bytes[33..]).into();
        assert_eq!(
            Address::derive(&bytes[1..33].try_into().unwrap(), &digest),
            parsed.address()
        );
    }

    #[test]
    fn secret_round_trip() {
        let id = alice();
        let again = Identity::from_secret_bytes(&*id.to_secret_bytes()).unwrap();
        assert_eq!(again.public(), id.public());
        let mut bad = *id.to_secret_bytes();
        bad[0] = 2;
        assert_eq!(
            Identity::from_secret_bytes(&bad).unwrap_err().class(),
            "unknown_version"
        );
    }

    #[test]
    fn signatures_are_bound_to_message_and_key() {
        let id = alice();
        let sig = id.sign(SignatureContext::Test, b"m");
        let public = id.public();
        public.verify(SignatureContext::Test, b"m", &sig).unwrap();
        assert!(public.verify(SignatureContext::Test, b"n", &sig).is_err());
        let other = Identity::from_seeds(&[3; 32], &[2; 32]);
        assert!(other
            .public()
            .verify(SignatureContext::Test, b"m", &sig)
            .is_err());
        assert_eq!(
            public
                .verify(SignatureContext::Test, b"m", &sig[..63])
                .unwrap_err()
                .class(),
            "wrong_length"
        );
    }

    #[test]
    fn weak_and_invalid_signing_keys_are_rejected() {
        let mut bytes = alice().public().to_bytes();
        // The identity point (small order): weak.
        bytes[1..33].copy_from_slice(&{
            let mut p = [0u8; 32];
            p[0] = 1;
            p
        });
        assert_eq!(
            PublicIdentity::from_bytes(&bytes).unwrap_err(),
            Error::InvalidPublicKey("Ed25519 public key")
        );
        // y = 2 is not on the curve.
        bytes[1..33].copy_from_slice(&{
            let mut p = [0u8; 32];
            p[0] = 2;
            p
        });
        assert!(PublicIdentity::from_bytes(&bytes).is_err());
        // y = p + 3: decodes to a point, but is not the canonical encoding.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xf0;
        non_canonical[31] = 0x7f;
        assert!(parse_signing_key(&non_canonical).is_err());
    }

    /// The byte-level canonicity check agrees with re-compressing the
    /// point, on every encoding of y in [p - 32, 2^255) and y < 32 (both
    /// signs of x) and on random encodings.
    #[test]
    fn canonical_check_equals_recompression() {
        let by_compression = |bytes: &[u8; 32]| match VerifyingKey::from_bytes(bytes) {
            Ok(key) if !key.is_weak() && key.to_edwards().compress().as_bytes() == bytes => Ok(key),
            _ => Err(Error::InvalidPublicKey("Ed25519 public key")),
        };
        let mut cases = Vec::new();
        for low in 0..=255u8 {
            for sign in [0, 0x80] {
                let mut high = [0xffu8; 32];
                high[0] = low;
                high[31] = 0x7f | sign;
                let mut small = [0u8; 32];
                small[0] = low;
                small[31] = sign;
                cases.extend([high, small]);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut b = [0u8; 32];
            for chunk in b.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            cases.push(b);
        }
        cases.push(*alice().public().signing_key().as_bytes());
        for bytes in cases {
            assert_eq!(
                parse_signing_key(&bytes),
                by_compression(&bytes),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn small_order_x25519_half_is_rejected() {
        let mut bytes = alice().public().to_bytes();
        bytes[PUBLIC_IDENTITY_LEN - 32..].copy_from_slice(&[0; 32]);
        assert_eq!(
            PublicIdentity::from_bytes(&bytes).unwrap_err(),
            Error::InvalidPublicKey("X25519 public key (small order)")
        );
        bytes[PUBLIC_IDENTITY_LEN - 32] = 1;
        assert!(PublicIdentity::from_bytes(&bytes).is_err());
    }

    #[test]
    fn safety_number_is_symmetric_and_sixty_digits() {
        let (a, b) = (alice(), Identity::from_seeds(&[5; 32], &[6; 32]));
        let n = safety_number(a.public(), b.public());
        assert_eq!(n, safety_number(b.public(), a.public()));
        assert_eq!(n.len(), 60);
        assert!(n.bytes().all(|c| c.is_ascii_digit()));
        let c = Identity::from_seeds(&[1; 32], &[7; 32]);
        assert_ne!(
            a.public().fingerprint(),
            c.public().fingerprint(),
            "the KEM key is bound"
        );
    }
}
