//! # qpc-mesh
//!
//! Mesh envelopes, announces, routing, store-and-forward, broadcast channels,
//! MLS-Lite, the LoRa link layer, the sans-IO `MeshNode` and a deterministic
//! network simulator.
//!
//! **Status: empty.** Nothing is implemented yet (see `spec/10-mesh.md` and
//! `spec/11-lora-link.md` once they exist). The crate fixes the dependency
//! direction `qpc-crypto` <- `qpc-mesh`.
#![no_std]
