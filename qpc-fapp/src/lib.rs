//! # qpc-fapp
//!
//! FAPP, the Free Appointment Propagation Protocol: licensed psychotherapists
//! announce free slots into the mesh; patients find and reserve them
//! anonymously, without a central registry.
//!
//! **Status: empty.** Nothing is implemented yet (see `spec/20-fapp.md` once
//! it exists). The crate fixes the dependency direction `qpc-mesh` <- `qpc-fapp`.
#![no_std]
