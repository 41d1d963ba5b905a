//! Binding a Noise static key to a qpc identity.
//!
//! ```text
//! struct {
//!     opaque signing_key[32];      // the identity's Ed25519 key
//!     opaque kem_key_digest[32];   // SHA-256 of its X-Wing public key
//!     uint64 not_after_ms;         // last instant the binding is valid
//!     opaque signature[64];        // Ed25519, context "qpc sig v1 pqxx static key",
//! } StaticKeyBinding;              //   over noise_static[32] || kem_key_digest || not_after_ms
//! ```
//!
//! The identity signs its Noise static key once, when the key is made; a
//! handshake then costs one signature verification per side. The peer's
//! address follows from `signing_key` and `kem_key_digest` (`spec/02`).

use bytes::BufMut;
use ed25519_dalek::VerifyingKey;
use qpc_wire::codec::{Decode, Encode, Reader};
use rand_core::CryptoRng;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::identity::{self, Address, Identity, SignatureContext, SIGNATURE_LEN};
use crate::Error;

/// Encoded length of a [`StaticKeyBinding`].
pub const BINDING_LEN: usize = 32 + 32 + 8 + SIGNATURE_LEN;

/// An identity's signed statement "this Noise static key is mine".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeyBinding {
    signing_key: [u8; 32],
    kem_key_digest: [u8; 32],
    not_after_ms: u64,
    signature: [u8; SIGNATURE_LEN],
}

fn signed_message(static_key: &[u8; 32], kem_key_digest: &[u8; 32], not_after_ms: u64) -> [u8; 72] {
    let mut message = [0; 72];
    let mut w = &mut message[..];
    w.put_slice(static_key);
    w.put_slice(kem_key_digest);
    w.put_u64(not_after_ms);
    message
}

impl StaticKeyBinding {
    /// `identity`'s binding of `static_key`, valid until `not_after_ms`.
    pub fn sign(identity: &Identity, static_key: &[u8; 32], not_after_ms: u64) -> Self {
        let public = identity.public();
        let kem_key_digest = *public.kem_key_digest();
        let message = signed_message(static_key, &kem_key_digest, not_after_ms);
        StaticKeyBinding {
            signing_key: public.signing_key().to_bytes(),
            kem_key_digest,
            not_after_ms,
            signature: identity.sign(SignatureContext::PqxxStaticKey, &message),
        }
    }

    /// Checks the binding for the peer's `static_key` at `now_ms` and
    /// returns who the peer is.
    pub fn verify(&self, static_key: &[u8; 32], now_ms: u64) -> Result<PeerIdentity, Error> {
        let key = identity::parse_signing_key(&self.signing_key)?;
        if now_ms > self.not_after_ms {
            return Err(Error::ExpiredBinding {
                not_after_ms: self.not_after_ms,
                now_ms,
            });
        }
        let message = signed_message(static_key, &self.kem_key_digest, self.not_after_ms);
        identity::verify(
            &key,
            SignatureContext::PqxxStaticKey,
            &message,
            &self.signature,
        )?;
        Ok(PeerIdentity {
            signing_key: key,
            kem_key_digest: self.kem_key_digest,
            address: Address::derive(&self.signing_key, &self.kem_key_digest),
            not_after_ms: self.not_after_ms,
        })
    }
}

impl Encode for StaticKeyBinding {
    fn encoded_len(&self) -> usize {
        BINDING_LEN
    }

    fn encode(&self, out: &mut impl BufMut) -> qpc_wire::Result<()> {
        out.put_slice(&self.signing_key);
        out.put_slice(&self.kem_key_digest);
        out.put_u64(self.not_after_ms);
        out.put_slice(&self.signature);
        Ok(())
    }
}

impl Decode for StaticKeyBinding {
    fn decode(r: &mut Reader) -> qpc_wire::Result<Self> {
        Ok(StaticKeyBinding {
            signing_key: r.array()?,
            kem_key_digest: r.array()?,
            not_after_ms: r.u64()?,
            signature: r.array()?,
        })
    }
}

/// The authenticated peer at the end of a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's Ed25519 identity key.
    pub signing_key: VerifyingKey,
    /// SHA-256 of the peer's X-Wing public key.
    pub kem_key_digest: [u8; 32],
    /// The peer's address (`spec/02`).
    pub address: Address,
    /// When the peer's static key binding expires.
    pub not_after_ms: u64,
}

/// This side's Noise static key pair and its binding to the identity.
pub struct LocalStatic {
    private: Zeroizing<[u8; 32]>,
    public: [u8; 32],
    binding: StaticKeyBinding,
}

impl core::fmt::Debug for LocalStatic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalStatic")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl LocalStatic {
    /// A fresh static key bound to `identity` until `not_after_ms`.
    pub fn generate(identity: &Identity, not_after_ms: u64, rng: &mut impl CryptoRng) -> Self {
        let mut private = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(private.as_mut());
        Self::from_private(identity, &private, not_after_ms)
    }

    /// The static key with X25519 private key `private`, bound to
    /// `identity` until `not_after_ms`.
    pub fn from_private(identity: &Identity, private: &[u8; 32], not_after_ms: u64) -> Self {
        let public = PublicKey::from(&StaticSecret::from(*private)).to_bytes();
        LocalStatic {
            private: Zeroizing::new(*private),
            public,
            binding: StaticKeyBinding::sign(identity, &public, not_after_ms),
        }
    }

    /// The X25519 public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The binding sent in the handshake.
    pub fn binding(&self) -> &StaticKeyBinding {
        &self.binding
    }

    pub(super) fn private(&self) -> &[u8; 32] {
        &self.private
    }
}
