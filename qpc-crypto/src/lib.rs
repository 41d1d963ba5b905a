//! # qpc-crypto
//!
//! The cryptography of qpc, built on well-kept crates (never hand-written
//! primitives). Implemented so far:
//!
//! - [`cover`]: a sans-IO cover-traffic scheduler with decoys
//!   (`spec/04-padding.md`);
//! - [`hpke`]: HPKE base mode on X-Wing (`spec/03-hybrid-kem-hpke.md`);
//! - [`identity`]: Ed25519 + X-Wing identities, addresses, safety numbers
//!   (`spec/02-identity.md`);
//! - [`opaque`]: OPAQUE password login, RFC 9807 with Argon2id
//!   (`spec/08-opaque.md`);
//! - [`padding`]: Padmé and fixed-bucket length hiding (`spec/04-padding.md`);
//! - [`certificate`], [`sealed_sender`], [`replay`]: sealed sender with
//!   sender certificates and a bounded replay window
//!   (`spec/05-sealed-sender.md`);
//! - [`mls`]: MLS groups on OpenMLS with the X-Wing suite, delivery
//!   ordering and persistence (`spec/07-mls.md`);
//! - [`pqxx`]: the post-quantum Noise handshake and transports
//!   (`spec/06-pq-noise.md`);
//! - [`xwing`]: the X-Wing hybrid KEM with long-lived expanded secret keys
//!   (`spec/03-hybrid-kem-hpke.md`).
//!
//! Randomness always comes in as `&mut impl rand_core::CryptoRng`; nothing
//! here reads global randomness, clocks or files.

pub mod certificate;
pub mod cover;
mod error;
pub mod hpke;
pub mod identity;
pub mod mls;
pub mod opaque;
pub mod padding;
pub mod pqxx;
pub mod replay;
pub mod sealed_sender;
pub mod xwing;

pub use error::Error;
