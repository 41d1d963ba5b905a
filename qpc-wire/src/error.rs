//! The one error type of qpc-wire.

use alloc::vec::Vec;

/// Everything that can go wrong while encoding, decoding or negotiating.
///
/// Each variant maps to one error class of `spec/01-wire.md` (see
/// [`Error::class`]); negative test vectors name these classes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended in the middle of a value or frame.
    #[error("input ended in the middle of a value or frame")]
    Truncated,
    /// A frame announced a body longer than the configured limit.
    #[error("frame body of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The announced body length.
        len: u32,
        /// The configured maximum.
        max: u32,
    },
    /// A variable-length integer was not encoded in the fewest bytes.
    #[error("value {value} encoded in {used} bytes; the minimal encoding has {minimal}")]
    NonMinimalLength {
        /// The decoded value.
        value: u32,
        /// Bytes the encoding used.
        used: u8,
        /// Bytes the minimal encoding uses.
        minimal: u8,
    },
    /// A variable-length integer started with the reserved prefix `0b11`.
    #[error("variable-length integer with reserved prefix 0b11 (first byte 0x{0:02x})")]
    InvalidLengthPrefix(u8),
    /// A value does not fit in a variable-length integer (at most 2^30 - 1).
    #[error("value {0} does not fit in a variable-length integer (max 2^30 - 1)")]
    ValueTooLarge(u64),
    /// A frame carried a protocol version this endpoint does not accept.
    #[error("unknown protocol version {0}")]
    UnknownVersion(u8),
    /// A frame carried a frame type that is not in the registry.
    #[error("unknown frame type 0x{0:04x}")]
    UnknownFrameType(u16),
    /// A message was followed by bytes that belong to no field.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// A vector held more elements than its field allows.
    #[error("vector with more than {max} elements")]
    TooManyItems {
        /// The field's maximum element count.
        max: usize,
    },
    /// A message decoded but broke one of its rules.
    #[error("malformed {message}: {reason}")]
    Malformed {
        /// The message type.
        message: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
    /// The two peers share no protocol version.
    #[error("no common protocol version: we support {local:?}, the peer supports {remote:?}")]
    NoCommonVersion {
        /// Versions this endpoint supports, highest first.
        local: Vec<u8>,
        /// Versions the peer offered, highest first.
        remote: Vec<u8>,
    },
    /// A frame arrived that the negotiation state does not allow.
    #[error("unexpected frame type 0x{frame_type:04x} while {state}")]
    UnexpectedFrame {
        /// The frame type received.
        frame_type: u16,
        /// What the state machine was doing.
        state: &'static str,
    },
    /// The peer's Hello did not arrive before the deadline.
    #[error("no Hello from the peer before the deadline")]
    Timeout,
}

impl Error {
    /// The error class name used by the spec and by `expected_error` in vectors.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::FrameTooLarge { .. } => "frame_too_large",
            Error::NonMinimalLength { .. } => "non_minimal_length",
            Error::InvalidLengthPrefix(_) => "invalid_length_prefix",
            Error::ValueTooLarge(_) => "value_too_large",
            Error::UnknownVersion(_) => "unknown_version",
            Error::UnknownFrameType(_) => "unknown_frame_type",
            Error::TrailingBytes(_) => "trailing_bytes",
            Error::TooManyItems { .. } => "too_many_items",
            Error::Malformed { .. } => "malformed",
            Error::NoCommonVersion { .. } => "no_common_version",
            Error::UnexpectedFrame { .. } => "unexpected_frame",
            Error::Timeout => "timeout",
        }
    }
}
