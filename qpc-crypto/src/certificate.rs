//! Sender certificates (`spec/05-sealed-sender.md`): an issuer (a server or
//! organisation the recipient trusts) vouches for a sender's identity until
//! an expiry time.
//!
//! ```text
//! struct {
//!     opaque signing_key[32];      // sender's Ed25519 key
//!     opaque kem_key_digest[32];   // SHA-256 of the sender's X-Wing key
//!     uint64 expires_ms;           // Unix time in milliseconds
//!     opaque issuer_key_id[8];
//!     opaque issuer_signature[64]; // over the four fields above, context
//!                                  // "qpc sig v1 sender certificate"
//! } SenderCertificate;             // 144 bytes
//!
//! issuer_key_id = SHA-256("qpc issuer key id v1" || issuer Ed25519 key)[0..8]
//! ```

use bytes::BufMut;
use ed25519_dalek::{SigningKey, VerifyingKey};
use qpc_wire::codec::{Decode, Encode, Reader};
use sha2::{Digest, Sha256};

use crate::identity::{self, Address, PublicIdentity, SignatureContext, SIGNATURE_LEN};
use crate::Error;

/// Encoded certificate length.
pub const CERTIFICATE_LEN: usize = 32 + 32 + 8 + 8 + SIGNATURE_LEN;
/// The signed part's length.
const TBS_LEN: usize = CERTIFICATE_LEN - SIGNATURE_LEN;

/// An issuer key id.
pub type KeyId = [u8; 8];

fn key_id(key: &VerifyingKey) -> KeyId {
    let digest = Sha256::new()
        .chain_update(b"qpc issuer key id v1")
        .chain_update(key.as_bytes())
        .finalize();
    digest[..8].try_into().expect("8 of 32 bytes")
}

/// A key the recipient trusts to issue sender certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    key: VerifyingKey,
    id: KeyId,
}

impl TrustRoot {
    /// A trust root from the issuer's Ed25519 public key.
    pub fn from_bytes(key: &[u8; 32]) -> Result<Self, Error> {
        let key = identity::parse_signing_key(key)?;
        Ok(TrustRoot {
            id: key_id(&key),
            key,
        })
    }

    /// The key id certificates name.
    pub fn key_id(&self) -> &KeyId {
        &self.id
    }
}

/// The issuing side: signs certificates.
pub struct Issuer {
    key: SigningKey,
    root: TrustRoot,
}

impl core::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Issuer")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer with an Ed25519 secret key (32-byte seed).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let public = key.verifying_key();
        Issuer {
            root: TrustRoot {
                id: key_id(&public),
                key: public,
            },
            key,
        }
    }

    /// The trust root recipients configure for this issuer.
    pub fn trust_root(&self) -> &TrustRoot {
        &self.root
    }

    /// Certifies `sender` until `expires_ms` (Unix milliseconds).
    pub fn issue(&self, sender: &PublicIdentity, expires_ms: u64) -> SenderCertificate {
        let mut cert = SenderCertificate {
            signing_key: sender.signing_key().to_bytes(),
            kem_key_digest: *sender.kem_key_digest(),
            expires_ms,
            issuer_key_id: self.root.id,
            issuer_signature: [0; SIGNATURE_LEN],
        };
        cert.issuer_signature =
            identity::sign(&self.key, SignatureContext::SenderCertificate, &cert.tbs());
        cert
    }
}

/// A sender certificate. Decoding checks only the layout; [`verify`]
/// checks issuer, signature and expiry.
///
/// [`verify`]: SenderCertificate::verify
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SenderCertificate {
    /// The sender's Ed25519 public key.
    pub signing_key: [u8; 32],
    /// SHA-256 of the sender's X-Wing public key.
    pub kem_key_digest: [u8; 32],
    /// Expiry, Unix milliseconds (exclusive).
    pub expires_ms: u64,
    /// Which trust root signed it.
    pub issuer_key_id: KeyId,
    /// The issuer's signature.
    pub issuer_signature: [u8; SIGNATURE_LEN],
}

impl SenderCertificate {
    /// The signed fields, in order.
    fn tbs(&self) -> [u8; TBS_LEN] {
        let mut out = [0; TBS_LEN];
        let mut w = &mut out[..];
        w.put_slice(&self.signing_key);
        w.put_slice(&self.kem_key_digest);
        w.put_u64(self.expires_ms);
        w.put_slice(&self.issuer_key_id);
        out
    }

    /// The certified sender's address.
    pub fn sender_address(&self) -> Address {
        Address::derive(&self.signing_key, &self.kem_key_digest)
    }

    /// Checks the certificate at `now_ms`: issuer among `roots`, issuer
    /// signature, not expired. Returns the sender's parsed signing key.
    pub fn verify(&self, roots: &[TrustRoot], now_ms: u64) -> Result<VerifyingKey, Error> {
        // Key ids are short: every root with the named id is tried.
        let mut candidates = roots
            .iter()
            .filter(|r| r.id == self.issuer_key_id)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::UnknownIssuer(self.issuer_key_id));
        }
        let tbs = self.tbs();
        if !candidates.any(|root| {
            identity::verify(
                &root.key,
                SignatureContext::SenderCertificate,
                &tbs,
                &self.issuer_signature,
            )
            .is_ok()
        }) {
            return Err(Error::BadSignature(
                SignatureContext::SenderCertificate.name(),
            ));
        }
        if now_ms >= self.expires_ms {
            return Err(Error::ExpiredCertificate {
                expires_ms: self.expires_ms,
                now_ms,
            });
        }
        identity::parse_signing_key(&self.signing_key)
    }
}

impl Encode for SenderCertificate {
    fn encoded_len(&self) -> usize {
        CERTIFICATE_LEN
    }

    fn encode(&self, out: &mut impl BufMut) -> qpc_wire::Result<()> {
        out.put_slice(&self.tbs());
        out.put_slice(&self.issuer_signature);
        Ok(())
    }
}

impl Decode for SenderCertificate {
    fn decode(r: &mut Reader) -> qpc_wire::Result<Self> {
        Ok(SenderCertificate {
            signing_key: r.array()?,
            kem_key_digest: r.array()?,
            expires_ms: r.u64()?,
            issuer_key_id: r.array()?,
            issuer_signature: r.array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use qpc_wire::codec;

    #[test]
    fn issue_verify_and_reject() {
        let issuer = Issuer::from_seed(&[9; 32]);
        let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
        let cert = issuer.issue(alice.public(), 1000);
        let roots = [issuer.trust_root().clone()];
        assert_eq!(
            cert.verify(&roots, 999).unwrap(),
            *alice.public().signing_key()
        );
        assert_eq!(cert.sender_address(), alice.public().address());
        assert_eq!(
            cert.verify(&roots, 1000).unwrap_err().class(),
            "expired_certificate"
        );
        let other = [Issuer::from_seed(&[8; 32]).trust_root().clone()];
        assert_eq!(
            cert.verify(&other, 0).unwrap_err().class(),
            "unknown_issuer"
        );
        let mut forged = cert.clone();
        forged.expires_ms += 1;
        assert_eq!(
            forged.verify(&roots, 0).unwrap_err().class(),
            "bad_signature"
        );

        let bytes = codec::encode_to_vec(&cert).unwrap();
        assert_eq!(bytes.len(), CERTIFICATE_LEN);
        assert_eq!(
            codec::decode_exact::<SenderCertificate>(bytes.into()).unwrap(),
            cert
        );
    }
}
