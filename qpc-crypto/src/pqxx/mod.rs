//! pqXX: a post-quantum hybrid Noise handshake and its transport
//! (`spec/06-pq-noise.md`).
//!
//! `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s` on snow. The initiator puts an
//! ephemeral ML-KEM-768 encapsulation key in message 1's payload, the
//! responder its ciphertext in message 2's, and both feed
//! `SHA-256("qpc pqxx v1 psk" || kem || ss)` in as the psk that message 3
//! mixes in. Every key after message 3 therefore depends on both X25519 and
//! ML-KEM-768. Each side's Noise static key is bound to its qpc identity by
//! an Ed25519 signature ([`StaticKeyBinding`]) carried encrypted in messages
//! 2 and 3.
//!
//! ```text
//! Initiator                                   Responder
//! Initiator::new, write_message_1  ── 1 ──>   Responder::new, read_message_1
//! read_message_2                   <── 2 ──   write_message_2
//! write_message_3 -> Session       ── 3 ──>   read_message_3 -> Session
//! ```
//!
//! A [`Session`] becomes a [`StreamTransport`] or a [`DatagramTransport`].
//! Everything is sans-IO: randomness and time come in as arguments.

mod binding;
mod handshake;
pub mod noise;
mod payload;
mod resolver;
pub mod transport;
mod window;

use std::sync::Arc;

use bytes::Bytes;
use qpc_wire::{Frame, FrameType};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use binding::{LocalStatic, PeerIdentity, StaticKeyBinding, BINDING_LEN};
pub use handshake::{Initiator, InitiatorRandomness, Responder, ResponderRandomness, Session};
pub use payload::{CIPHERTEXT_LEN, ENCAPSULATION_KEY_LEN};
pub use transport::{DatagramTransport, StreamTransport, TransportConfig};
pub use window::NonceWindow;

use crate::identity::Address;
use crate::Error;

/// The first bytes of every pqXX prologue.
pub const PROLOGUE_LABEL: &[u8] = b"qpc pqxx";
/// The label of the psk derivation.
pub const PSK_LABEL: &[u8] = b"qpc pqxx v1 psk";
/// The longest application context bound in the prologue.
pub const MAX_CONTEXT_LEN: usize = 1024;
/// The longest application payload a handshake message may carry, leaving
/// room for the largest pqXX payload inside one Noise message.
pub const MAX_APPLICATION_LEN: usize = 64_000;

/// Which key exchange protected the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// X25519 and ML-KEM-768: confidentiality holds against a quantum
    /// adversary recording today.
    PostQuantum,
    /// X25519 only, allowed only where the policy says so.
    Classical,
}

/// Decides whether an authenticated peer may complete the handshake.
pub type PeerPolicy = Arc<dyn Fn(&PeerIdentity) -> bool + Send + Sync>;

/// How a side runs the handshake.
#[derive(Clone)]
pub struct HandshakeConfig {
    /// Application context bound in the prologue (both sides must agree),
    /// at most [`MAX_CONTEXT_LEN`] bytes.
    pub context: Vec<u8>,
    /// Use ML-KEM-768: the initiator offers it; a responder answers an offer
    /// with it. Turning this off requires `allow_classical`.
    pub post_quantum: bool,
    /// Accept a peer that does not use ML-KEM-768 (a downgrade otherwise).
    pub allow_classical: bool,
    /// Largest application payload accepted in a handshake message.
    pub max_application_len: usize,
    /// Accepts or rejects the peer's identity.
    pub accept_peer: PeerPolicy,
}

impl core::fmt::Debug for HandshakeConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HandshakeConfig")
            .field("context", &self.context)
            .field("post_quantum", &self.post_quantum)
            .field("allow_classical", &self.allow_classical)
            .field("max_application_len", &self.max_application_len)
            .finish_non_exhaustive()
    }
}

impl Default for HandshakeConfig {
    /// Post-quantum only, empty context, any authenticated peer.
    fn default() -> Self {
        HandshakeConfig {
            context: Vec::new(),
            post_quantum: true,
            allow_classical: false,
            max_application_len: MAX_APPLICATION_LEN,
            accept_peer: Arc::new(|_| true),
        }
    }
}

impl HandshakeConfig {
    /// Accept only the peer with `address` (which commits to both its
    /// identity keys).
    pub fn pinned(mut self, address: Address) -> Self {
        self.accept_peer = Arc::new(move |peer| peer.address == address);
        self
    }

    /// The prologue: `"qpc pqxx" || uint8 version (1) || opaque context<V>`.
    fn prologue(&self) -> Result<Vec<u8>, Error> {
        if self.context.len() > MAX_CONTEXT_LEN {
            return Err(Error::ContentTooLong {
                len: self.context.len(),
                max: MAX_CONTEXT_LEN,
            });
        }
        if self.max_application_len > MAX_APPLICATION_LEN {
            return Err(Error::ContentTooLong {
                len: self.max_application_len,
                max: MAX_APPLICATION_LEN,
            });
        }
        if !self.post_quantum && !self.allow_classical {
            return Err(Error::InvalidConfig(
                "post_quantum off requires allow_classical",
            ));
        }
        let mut prologue = Vec::with_capacity(PROLOGUE_LABEL.len() + 3 + self.context.len());
        prologue.extend_from_slice(PROLOGUE_LABEL);
        prologue.push(qpc_wire::version::V1);
        qpc_wire::codec::put_vl_bytes(&mut prologue, &self.context)?;
        Ok(prologue)
    }

    fn check_application(&self, application: &[u8]) -> Result<Bytes, Error> {
        if application.len() > self.max_application_len {
            return Err(Error::ContentTooLong {
                len: application.len(),
                max: self.max_application_len,
            });
        }
        Ok(Bytes::copy_from_slice(application))
    }
}

/// The psk: `SHA-256(PSK_LABEL || uint8 kem || ss)`, with `kem` 1 and the
/// 32-byte ML-KEM shared secret, or `kem` 0 and no secret (classical).
pub fn derive_psk(shared_secret: Option<&[u8; 32]>) -> Zeroizing<[u8; 32]> {
    let mut hash = Sha256::new();
    hash.update(PSK_LABEL);
    match shared_secret {
        Some(ss) => {
            hash.update([1]);
            hash.update(ss);
        }
        None => hash.update([0]),
    }
    Zeroizing::new(hash.finalize().into())
}

/// Wraps a handshake message or transport record in a qpc-wire frame of
/// `frame_type` (one of the `Pqxx*` types).
pub fn to_frame(frame_type: FrameType, body: &[u8]) -> Result<Vec<u8>, Error> {
    let frame = Frame {
        version: qpc_wire::version::V1,
        frame_type,
        body: Bytes::copy_from_slice(body),
    };
    let mut out = Vec::with_capacity(body.len() + 7);
    frame.encode(&mut out)?;
    Ok(out)
}
