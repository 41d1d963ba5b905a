//! The one error type of qpc-fapp.

/// Everything that can go wrong in qpc-fapp. Each variant maps to one error
/// class of `spec/00-overview.md` §5 (see [`Error::class`]); negative
/// vectors name these classes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A FAPP message's version byte is not 1.
    #[error("unknown FAPP version {0}")]
    UnknownVersion(u8),
    /// A FAPP message type that is not registered (`spec/20` §3).
    #[error("unknown FAPP message type 0x{0:02x}")]
    UnknownFappType(u8),
    /// A message decoded but broke a rule of its definition.
    #[error("malformed {message}: {reason}")]
    Malformed {
        /// The message or field.
        message: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
    /// An announce or withdraw whose expiry is not after `now`, or further
    /// ahead than the receiver's maximum lifetime.
    #[error("announce expiry {expires_ms} is outside ({now_ms}, {now_ms} + max lifetime]")]
    BadExpiry {
        /// The message's expiry, Unix ms.
        expires_ms: u64,
        /// The receiver's clock, Unix ms.
        now_ms: u64,
    },
    /// An announce or withdraw whose sequence number is not newer than the
    /// one held for the same therapist.
    #[error("sequence {sequence} is not newer than the known {known}")]
    Stale {
        /// The message's sequence number.
        sequence: u32,
        /// The sequence number already held.
        known: u32,
    },
    /// A reservation whose creation time is further from `now` than the
    /// therapist's replay window.
    #[error("reservation made at {created_ms} is outside the window around {now_ms}")]
    OutsideWindow {
        /// The reservation's creation time, Unix ms.
        created_ms: u64,
        /// The receiver's clock, Unix ms.
        now_ms: u64,
    },
    /// A query id this relay has already handled.
    #[error("replayed {0}")]
    Replayed(&'static str),
    /// A neighbour sent more than its token bucket allows.
    #[error("neighbour {0} is over its rate limit")]
    RateLimited(u32),
    /// A bounded table refuses an entry its eviction policy would not make
    /// room for.
    #[error("full: {0}")]
    Full(&'static str),
    /// A sealed message addressed to another address.
    #[error("sealed message for another recipient")]
    WrongRecipient,
    /// A call the state machine does not allow in its current state.
    #[error("wrong state: {0}")]
    WrongState(&'static str),
    /// A configuration value is out of its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A decoding error of the wire codec.
    #[error(transparent)]
    Wire(#[from] qpc_wire::Error),
    /// A cryptographic error (signature, key, HPKE, padding).
    #[error(transparent)]
    Crypto(#[from] qpc_crypto::Error),
    /// A mesh error (sending over `MeshNode`, building a simulation).
    #[error(transparent)]
    Mesh(#[from] qpc_mesh::Error),
}

impl Error {
    /// The error class (`spec/00-overview.md` §5).
    pub fn class(&self) -> &'static str {
        match self {
            Error::UnknownVersion(_) => "unknown_version",
            Error::UnknownFappType(_) => "unknown_fapp_type",
            Error::Malformed { .. } => "malformed",
            Error::BadExpiry { .. } => "bad_expiry",
            Error::Stale { .. } | Error::OutsideWindow { .. } => "stale",
            Error::Replayed(_) => "replayed",
            Error::RateLimited(_) => "rate_limited",
            Error::Full(_) => "full",
            Error::WrongRecipient => "wrong_recipient",
            Error::WrongState(_) => "wrong_state",
            Error::InvalidConfig(_) => "invalid_config",
            Error::Wire(e) => e.class(),
            Error::Crypto(e) => e.class(),
            Error::Mesh(e) => e.class(),
        }
    }

    pub(crate) fn malformed(message: &'static str, reason: &'static str) -> Self {
        Error::Malformed { message, reason }
    }
}

/// qpc-fapp's result type.
pub type Result<T> = core::result::Result<T, Error>;
