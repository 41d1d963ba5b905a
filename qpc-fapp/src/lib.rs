//! # qpc-fapp
//!
//! FAPP, the Free Appointment Propagation Protocol (`spec/20-fapp.md`):
//! licensed psychotherapists announce free slots into the mesh; patients
//! find and reserve them anonymously, without a central registry.
//!
//! | module | concept |
//! |---|---|
//! | [`model`] | the domain: methods, age groups, kinds, modalities, payers, PLZ, languages, slots |
//! | [`message`] | the FAPP header and message-type registry, [`FappMessage`] |
//! | [`announce`] | SlotAnnounce / SlotWithdraw, signed; the licence binding |
//! | [`query`] | SlotQuery / SlotResponse and the matching rules |
//! | [`sealed`] | Reservation / ReservationResult / Cancel: HPKE on X-Wing, fixed lengths |
//! | [`therapist`], [`patient`], [`relay`] | the three sans-IO state machines |
//! | [`index`], [`ratelimit`], [`replay`] | the relay's cache and index, token buckets, bounded maps |
//! | [`outgoing`] | what engines return: messages with an abstract destination, events |
//! | [`sim`] | FAPP scenarios over qpc-mesh's simulator (bookings, traffic, double bookings) |
//! | [`mesh`] | the engines over qpc-mesh's `MeshNode`: [`mesh::FappDriver`], [`mesh::FappNode`] |
//!
//! The engines are sans-IO: they take decoded messages, `now` (Unix ms)
//! and an RNG, and return [`Step`]s of [`Outgoing`] messages and events.
//! [`mesh::FappNode`] runs them over qpc-mesh's `MeshNode` (mesh message
//! type `0xc`), mapping [`To`] onto link-local broadcasts, link-local
//! replies and routed unicast (`spec/20` §8.1).
//!
//! ```
//! use qpc_fapp::{FappMessage, Error};
//!
//! // Version 1, type 0x7f: not a registered FAPP message type.
//! let err = FappMessage::decode(bytes::Bytes::from_static(&[1, 0x7f])).unwrap_err();
//! assert_eq!(err.class(), "unknown_fapp_type");
//! ```

pub mod announce;
pub mod error;
pub mod index;
pub mod mesh;
pub mod message;
pub mod model;
pub mod outgoing;
pub mod patient;
pub mod query;
pub mod ratelimit;
pub mod relay;
pub mod replay;
pub mod sealed;
pub mod sim;
pub mod therapist;

pub use error::{Error, Result};
pub use message::{FappMessage, FappType};
pub use outgoing::{NeighbourId, Outgoing, Step, To};
