//! `qpc-node`, the qpc reference node (`spec/30-reference-node.md`): the
//! sans-IO mesh engine of `qpc-mesh` driven by tokio, with QUIC (quinn and
//! rustls, X25519MLKEM768 only, certificates bound to the qpc identity)
//! and LoRa (an emulated channel over loopback UDP, or a KISS serial
//! modem) transports, a redb store that survives `kill -9`, and a local
//! control API.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | the TOML configuration file (§3) |
//! | [`identity`] | keygen, OS randomness, community credentials |
//! | [`store`] | the redb database and its tables (§4) |
//! | [`quic`] | the QUIC profile, certificate and link (§5–§6) |
//! | [`lora`] | air packets, KISS, the two radios, and pqXX with LoRa neighbours (§7–§8, §15) |
//! | [`framing`] | length-prefixed stream frames (§6, §9) |
//! | [`runtime`] | the driver task (§2) |
//! | [`control`] | the control API (§9) |
//! | [`fapp`] | FAPP in the node: the driver's FAPP half, its control operations and tables (§16) |
//! | [`node`] | starting a node |
//! | [`demo`] | the three-node demo |

pub mod config;
pub mod control;
pub mod demo;
pub mod error;
pub mod fapp;
pub mod framing;
pub mod identity;
pub mod lora;
pub mod node;
pub mod quic;
pub mod runtime;
pub mod store;

pub use error::{Error, Result};
