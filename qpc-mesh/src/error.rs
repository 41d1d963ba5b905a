//! The one error type of qpc-mesh.

/// Everything that can go wrong in qpc-mesh. Each variant maps to one error
/// class of `spec/10-mesh.md` §8, `spec/11-lora-link.md` §7 or
/// `spec/12-mls-lite.md` (see
/// [`Error::class`]); negative vectors
/// name these classes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The envelope header's version is not 1.
    #[error("unknown mesh envelope version {0}")]
    UnknownVersion(u8),
    /// The envelope header's message type is not registered.
    #[error("unknown mesh message type 0x{0:x}")]
    UnknownMessageType(u8),
    /// A message decoded but broke a rule of its definition.
    #[error("malformed {message}: {reason}")]
    Malformed {
        /// The message.
        message: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
    /// An announce's address is not the address of its keys.
    #[error("announced address is not the address of the announced keys")]
    AddressMismatch,
    /// An announce's sequence number is older than the one the routing
    /// table holds for its address.
    #[error("announce sequence {sequence} is older than the known {known}")]
    Stale {
        /// The announce's sequence number.
        sequence: u32,
        /// The sequence number the table holds.
        known: u32,
    },
    /// A configuration value is out of its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// A bounded queue or table is full: try again later (back-pressure).
    #[error("full: {0}")]
    Full(&'static str),
    /// A LoRa frame or PHY payload is longer than the link allows
    /// (`spec/11-lora-link.md`).
    #[error("frame of {len} bytes is longer than the {max} the link allows")]
    FrameTooLong {
        /// The frame's length.
        len: usize,
        /// The link's limit.
        max: usize,
    },
    /// A datagram needs more fragments than a link frame can number, or is
    /// longer than the reassembler accepts.
    #[error("datagram of {len} bytes is longer than the {max} the link carries")]
    DatagramTooLong {
        /// The datagram's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A transmission would last longer than the region's dwell time.
    #[error("airtime {airtime_ns} ns exceeds the dwell time of {limit_ns} ns")]
    DwellTimeExceeded {
        /// The frame's time on air.
        airtime_ns: u64,
        /// The region's limit.
        limit_ns: u64,
    },
    /// A transmission would exceed the sub-band's duty-cycle budget.
    #[error("duty-cycle budget exhausted (earliest start: {earliest_ms:?} ms)")]
    DutyCycleExceeded {
        /// When it may start, or `None` if never (longer than the
        /// allowance).
        earliest_ms: Option<u64>,
    },
    /// The link queue holds as many frames as it may.
    #[error("the link queue is full")]
    QueueFull,
    /// A link frame's kind is not registered.
    #[error("unknown link frame kind {0}")]
    UnknownLinkFrame(u8),
    /// A fragment disagrees with one already held under the same tag.
    #[error("fragment conflicts with the one held for tag {tag:#06x}")]
    ConflictingFragment {
        /// The tag.
        tag: u16,
    },
    /// Holding the fragment would exceed a reassembly bound.
    #[error("reassembly bound reached: {0}")]
    ReassemblyFull(&'static str),
    /// AEAD decryption failed: wrong channel key, altered header field
    /// covered by the associated data, or tampered ciphertext or tag.
    #[error("channel message does not open")]
    OpenFailed,
    /// Content or a body longer than a channel message may carry.
    #[error("content of {len} bytes is longer than the {max} allowed")]
    ContentTooLong {
        /// The length given.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// A channel message already delivered (same sender and message id).
    #[error("channel message replayed")]
    Replayed,
    /// A channel operation on a channel this node has not joined.
    #[error("not a member of this channel")]
    UnknownChannel,
    /// A group operation on an MLS-Lite group this node has not installed.
    #[error("no such MLS-Lite group installed")]
    UnknownGroup,
    /// Joining a channel beyond the configured number of channels.
    #[error("at most {0} channels may be joined")]
    ChannelLimit(usize),
    /// A session or MLS-Lite counter below the receiver's window, or one
    /// whose key is gone (`spec/12`).
    #[error("counter {0} is below the window")]
    TooOld(u64),
    /// A session counter further ahead of the receiver than its skip
    /// window, or a resumption epoch more than one step ahead (`spec/12`).
    #[error("counter or epoch {got} is more than {max} ahead")]
    TooFarAhead {
        /// The counter or epoch received.
        got: u64,
        /// How far ahead the receiver accepts.
        max: u64,
    },
    /// An MLS-Lite message of an epoch the receiver does not hold
    /// (`spec/12`).
    #[error("MLS-Lite epoch id {0} is neither the current nor a live previous epoch")]
    WrongEpoch(u8),
    /// A session message whose tag names no session of the receiver, or a
    /// response to no pending initiation (`spec/12`).
    #[error("no session with tag {0:#06x}")]
    UnknownSession(u16),
    /// An MLS-Lite sender index that is not a member (`spec/12`).
    #[error("sender index {0} is not a member")]
    UnknownMember(u16),
    /// A session's or MLS-Lite sender's counters or epochs are used up
    /// (`spec/12`).
    #[error("counter space exhausted: a new session or epoch is needed")]
    NonceExhausted,
    /// A state machine called out of order: a session message kind the
    /// state does not accept, or sealing past the persisted counter
    /// reservation (`spec/12`).
    #[error("wrong state: {0}")]
    WrongState(&'static str),
    /// The wire codec rejected the bytes (`truncated`, `trailing_bytes`, ...).
    #[error(transparent)]
    Wire(#[from] qpc_wire::Error),
    /// A key or signature check of qpc-crypto failed (`invalid_public_key`,
    /// `bad_signature`).
    #[error(transparent)]
    Crypto(#[from] qpc_crypto::Error),
}

impl Error {
    /// The error class name used by the spec and by `expected_error` in vectors.
    pub fn class(&self) -> &'static str {
        match self {
            Error::UnknownVersion(_) => "unknown_version",
            Error::UnknownMessageType(_) => "unknown_message_type",
            Error::Malformed { .. } => "malformed",
            Error::AddressMismatch => "address_mismatch",
            Error::Stale { .. } => "stale",
            Error::InvalidConfig(_) => "invalid_config",
            Error::Full(_) => "full",
            Error::FrameTooLong { .. } => "frame_too_long",
            Error::DatagramTooLong { .. } => "datagram_too_long",
            Error::DwellTimeExceeded { .. } => "dwell_time_exceeded",
            Error::DutyCycleExceeded { .. } => "duty_cycle_exceeded",
            Error::QueueFull => "queue_full",
            Error::UnknownLinkFrame(_) => "unknown_link_frame",
            Error::ConflictingFragment { .. } => "conflicting_fragment",
            Error::ReassemblyFull(_) => "reassembly_full",
            Error::OpenFailed => "open_failed",
            Error::ContentTooLong { .. } => "content_too_long",
            Error::Replayed => "replayed",
            Error::UnknownChannel => "unknown_channel",
            Error::UnknownGroup => "unknown_group",
            Error::ChannelLimit(_) => "channel_limit",
            Error::TooOld(_) => "too_old",
            Error::TooFarAhead { .. } => "too_far_ahead",
            Error::WrongEpoch(_) => "wrong_epoch",
            Error::UnknownSession(_) => "unknown_session",
            Error::UnknownMember(_) => "unknown_member",
            Error::NonceExhausted => "nonce_exhausted",
            Error::WrongState(_) => "wrong_state",
            Error::Wire(e) => e.class(),
            Error::Crypto(e) => e.class(),
        }
    }
}

/// The result type of qpc-mesh.
pub type Result<T, E = Error> = core::result::Result<T, E>;
