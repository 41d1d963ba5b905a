//! # qpc-wire
//!
//! The bottom layer of qpc (normative text: `spec/01-wire.md`):
//!
//! - [`codec`]: the TLS presentation language (RFC 8446 §3) with MLS
//!   variable-length vector headers (RFC 9420 §2.1.2), strict and zero-copy;
//! - [`varint`]: the MLS variable-length integer, minimal encoding enforced;
//! - [`frame`]: the frame layout and the frame-type registry;
//! - [`decoder`] / [`encoder`]: a sans-IO, bounded, zero-copy [`FrameDecoder`]
//!   and its [`FrameEncoder`];
//! - [`hello`] / [`negotiation`]: the Hello message and the sans-IO version and
//!   capability negotiation.
//!
//! The crate is `no_std` + `alloc`; the default `std` feature only adds
//! `std::error::Error` impls. Nothing here performs I/O or reads a clock: time
//! comes in as a [`Timestamp`].
//!
//! ```
//! use bytes::BytesMut;
//! use qpc_wire::{DecoderConfig, FrameDecoder, FrameEncoder, FrameType};
//!
//! let mut wire = BytesMut::new();
//! let encoder = FrameEncoder::new(1, 1024);
//! encoder.encode(FrameType::Padding, b"hello", &mut wire).unwrap();
//! encoder.encode(FrameType::Padding, b"world", &mut wire).unwrap();
//!
//! let mut decoder = FrameDecoder::new(DecoderConfig::default());
//! let mut input = &wire[..];
//! let mut bodies = Vec::new();
//! while let Some(frame) = decoder.decode(&mut input).unwrap() {
//!     bodies.push(frame.body);
//! }
//! assert_eq!(bodies, [&b"hello"[..], &b"world"[..]]);
//! decoder.finish().unwrap(); // no partial frame left behind
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod decoder;
pub mod encoder;
mod error;
pub mod frame;
pub mod hello;
pub mod negotiation;
mod time;
pub mod varint;
pub mod version;

pub use decoder::{DecoderConfig, FrameDecoder};
pub use encoder::FrameEncoder;
pub use error::Error;
pub use frame::{Frame, FrameHeader, FrameType};
pub use hello::Hello;
pub use negotiation::{Negotiated, Negotiator, NegotiatorConfig};
pub use time::Timestamp;
pub use version::VersionSet;

/// Result type of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
