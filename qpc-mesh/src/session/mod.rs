//! Post-quantum pairwise sessions for LoRa (`spec/12-mls-lite.md` part A).
//!
//! Two nodes establish a forward-secret session with one X-Wing
//! encapsulation each way — the initiator to the responder's static key
//! and the responder to the initiator's ephemeral key — in two datagrams
//! (an Init of 2505 bytes and a Response of 1163 bytes on the mesh, each
//! fragmented once by the LoRa link layer). Then each Data message costs
//! 19 bytes on top of its content and the 22-byte mesh header: a 4-byte
//! text is 46 bytes on air. Each direction runs a symmetric ratchet (a
//! message key per counter, deleted after use, a bounded window of skipped
//! keys); the counter is the mesh `message_id` under a per-epoch mask. A
//! Resume message steps both sides to a new epoch without a KEM.
//!
//! ```
//! use qpc_crypto::identity::Identity;
//! use qpc_mesh::session::{accept, Initiator, Received};
//! use rand_chacha::rand_core::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
//! let (alice, bob) = (Identity::generate(&mut rng), Identity::generate(&mut rng));
//! let initiator = Initiator::start(&mut rng, &alice, bob.public(), 0x0a11, 7)?;
//! let mut accepted = accept(&mut rng, &bob, initiator.datagram(), 0x0b0b, 7)?;
//! let mut session = initiator.finish(&accepted.datagram)?;
//! // Persist before the first use of a counter block (here: discarded).
//! let _persisted = session.export();
//! let datagram = session.seal(b"ping", 7)?;
//! assert_eq!(datagram.len(), 45); // + 1 link-frame byte = 46 on air
//! let Received::Content { content, .. } = accepted.session.open(&datagram)? else {
//!     unreachable!()
//! };
//! assert_eq!(&content[..], b"ping");
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

mod chain;
mod export;
mod handshake;
mod keys;
mod state;
mod wire;

pub use chain::{MAX_SKIP, MAX_SKIPPED, RESERVATION};
pub use export::EXPORT_VERSION;
pub use handshake::{accept, Accepted, InitRandomness, Initiator};
pub use keys::Role;
pub use state::{Received, Session};
pub use wire::{
    Data, Init, Response, Resume, SessionMessage, DATA_OVERHEAD, IDENTITY_PLAINTEXT_LEN, INIT_LEN,
    MAX_CONTENT_LEN, RESPONSE_LEN, RESUME_LEN,
};

#[cfg(test)]
mod tests;
