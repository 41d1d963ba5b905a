//! # qpc-crypto
//!
//! Identity, the X-Wing hybrid KEM, HPKE, post-quantum Noise, sealed sender,
//! padding, MLS groups and OPAQUE login for qpc.
//!
//! **Status: empty.** Nothing is implemented yet; the constructions are fixed
//! in the project's DESIGN.md and will be specified in `spec/02-*` to
//! `spec/08-*` as they land. The crate exists so the workspace has its final
//! shape and dependency direction (`qpc-wire` <- `qpc-crypto`).
#![no_std]
