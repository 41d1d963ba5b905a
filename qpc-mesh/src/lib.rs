//! # qpc-mesh
//!
//! The qpc mesh (`spec/10-mesh.md`). Implemented so far:
//!
//! - [`envelope`]: the compact envelope header (22 bytes, 30 with a hop id);
//! - [`announce`]: signed announces proving the address binding (152 bytes,
//!   160 relayed);
//! - [`path_request`]: path requests and responses, and the bounded
//!   reverse-path records that route responses back;
//! - [`message`]: every message decoded by its type;
//! - [`routing`]: the sans-IO routing table (sequence numbers, feasibility,
//!   expiry, bounded with eviction and a per-neighbour quota);
//! - [`rebroadcast`]: the announce rebroadcast scheduler (once per announce,
//!   an airtime share per link, lowest hop count first);
//! - [`dedupe`]: the bounded duplicate filter.
//!
//! Still to come (see the issue): store-and-forward, receipts, broadcast
//! channels, the `MeshNode` engine, the LoRa link layer and the simulator.
//!
//! Nothing here owns I/O: time comes in as `now` (milliseconds, monotonic)
//! and randomness as `&mut impl rand_core::CryptoRng`.

pub mod announce;
pub mod dedupe;
pub mod envelope;
mod error;
pub mod message;
pub mod path_request;
pub mod rebroadcast;
pub mod routing;

pub use error::{Error, Result};
