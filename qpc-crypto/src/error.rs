//! The one error type of qpc-crypto.

/// Everything that can go wrong in qpc-crypto. Each variant maps to an error
/// class of the spec (see [`Error::class`]), used by negative vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, ciphertext or other fixed-size value had the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    WrongLength {
        /// What was being parsed.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// A public key failed validation (e.g. ML-KEM's modulus check).
    #[error("invalid {0}")]
    InvalidPublicKey(&'static str),
    /// An X25519 exchange produced the all-zero shared secret (a low-order
    /// point): X-Wing in qpc rejects it on both sides.
    #[error("X25519 produced the all-zero shared secret (low-order point)")]
    NonContributory,
    /// A serialised secret or public identity had an unknown version byte.
    #[error("unknown {what} version {version}")]
    UnknownVersion {
        /// What was being parsed.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A signature did not verify.
    #[error("bad signature on {0}")]
    BadSignature(&'static str),
    /// Padded bytes were not produced by the padding scheme.
    #[error("bad padding: {0}")]
    BadPadding(&'static str),
    /// Content too long for the largest padding bucket.
    #[error("{len} bytes do not fit the largest padding bucket of {max} bytes")]
    TooLongToPad {
        /// Content plus marker length.
        len: usize,
        /// The largest bucket.
        max: usize,
    },
    /// AEAD decryption failed: wrong key, context or tampered ciphertext.
    #[error("decryption failed")]
    OpenFailed,
    /// hpke-rs reported an error other than a failed open.
    #[error("HPKE: {0}")]
    Hpke(String),
    /// A certificate names an issuer that is not a configured trust root.
    #[error("unknown certificate issuer {0:02x?}")]
    UnknownIssuer([u8; 8]),
    /// A certificate's expiry has passed.
    #[error("certificate expired at {expires_ms} (now {now_ms})")]
    ExpiredCertificate {
        /// The certificate's expiry.
        expires_ms: u64,
        /// The injected current time.
        now_ms: u64,
    },
    /// A sender certificate does not certify the sending identity.
    #[error("the certificate is for another identity")]
    CertificateMismatch,
    /// Content longer than a message may carry.
    #[error("content of {len} bytes exceeds the maximum of {max}")]
    ContentTooLong {
        /// The content length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A sealed message is addressed to someone else.
    #[error("message addressed to another recipient")]
    WrongRecipient,
    /// A message id was seen before within the replay window.
    #[error("replayed message")]
    Replayed,
    /// A message's timestamp is outside the acceptance window.
    #[error("timestamp {timestamp_ms} outside the window at {now_ms}")]
    Stale {
        /// The message's timestamp.
        timestamp_ms: u64,
        /// The injected current time.
        now_ms: u64,
    },
    /// Bytes that do not parse as the structure named (pqXX payloads and
    /// records).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A method was called in a state where it is not allowed (e.g. a
    /// handshake message out of turn, or a session after a failure).
    #[error("not allowed now: {0}")]
    WrongState(&'static str),
    /// The peer did not use the post-quantum part and the policy does not
    /// allow a classical handshake.
    #[error("downgrade refused: the peer did not use ML-KEM-768")]
    Downgrade,
    /// The application's policy refused the authenticated peer.
    #[error("peer rejected by policy")]
    PeerRejected,
    /// A static-key binding's validity has passed.
    #[error("static key binding expired at {not_after_ms} (now {now_ms})")]
    ExpiredBinding {
        /// The binding's last valid instant.
        not_after_ms: u64,
        /// The injected current time.
        now_ms: u64,
    },
    /// A datagram counter fell below the replay window, or its epoch key is
    /// gone.
    #[error("datagram nonce {nonce:#x} is older than the replay window")]
    TooOld {
        /// The record's explicit nonce.
        nonce: u64,
    },
    /// A configuration value is out of its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// The nonce or epoch space of a transport is used up: a new handshake
    /// is needed.
    #[error("nonce space exhausted: run a new handshake")]
    NonceExhausted,
    /// An MLS ciphersuite qpc does not support (or this member was not
    /// configured for).
    #[error("unsupported MLS ciphersuite 0x{0:04x}")]
    UnsupportedSuite(u16),
    /// Two members share no MLS ciphersuite.
    #[error("no common MLS ciphersuite: we support {ours:04x?}, the peer {theirs:04x?}")]
    NoCommonSuite {
        /// Our suites, in preference order.
        ours: Vec<u16>,
        /// The peer's suites.
        theirs: Vec<u16>,
    },
    /// A key package is of another suite than the group.
    #[error("key package of suite 0x{offered:04x} for a group of suite 0x{group:04x}")]
    SuiteMismatch {
        /// The group's suite.
        group: u16,
        /// The key package's suite.
        offered: u16,
    },
    /// An MLS credential is not a qpc credential (`spec/07` §4).
    #[error("not a qpc MLS credential")]
    InvalidCredential,
    /// No group with this id.
    #[error("unknown group")]
    UnknownGroup,
    /// No member with this address in the group.
    #[error("unknown group member")]
    UnknownMember,
    /// OpenMLS refused an operation.
    #[error("MLS: {0}")]
    Mls(String),
    /// OPAQUE login failed: wrong password, unknown user, or a tampered
    /// KE2 (client) or KE3 (server). Deliberately one variant for all.
    #[error("login failed")]
    LoginFailed,
    /// An OPAQUE message or record carries a group element that is not the
    /// canonical encoding of a non-identity ristretto255 point (or the
    /// server reflected the client's blinded element during registration).
    #[error("invalid group element in {0}")]
    InvalidElement(&'static str),
    /// A stored record or key set names a suite this side does not run.
    #[error("unknown {what} suite {suite:#04x}")]
    UnknownSuite {
        /// What was being parsed.
        what: &'static str,
        /// The suite id found.
        suite: u8,
    },
    /// The wire codec rejected the bytes.
    #[error(transparent)]
    Wire(#[from] qpc_wire::Error),
}

impl Error {
    /// The error class name used by the spec and by `expected_error` in vectors.
    pub fn class(&self) -> &'static str {
        match self {
            Error::WrongLength { .. } => "wrong_length",
            Error::InvalidPublicKey(_) => "invalid_public_key",
            Error::NonContributory => "non_contributory",
            Error::UnknownVersion { .. } => "unknown_version",
            Error::BadSignature(_) => "bad_signature",
            Error::BadPadding(_) => "bad_padding",
            Error::OpenFailed => "open_failed",
            Error::UnknownIssuer(_) => "unknown_issuer",
            Error::ExpiredCertificate { .. } => "expired_certificate",
            Error::WrongRecipient => "wrong_recipient",
            Error::CertificateMismatch => "certificate_mismatch",
            Error::ContentTooLong { .. } => "content_too_long",
            Error::Replayed => "replayed",
            Error::Stale { .. } => "stale",
            Error::Hpke(_) => "hpke",
            Error::TooLongToPad { .. } => "too_long_to_pad",
            Error::Malformed(_) => "malformed",
            Error::WrongState(_) => "wrong_state",
            Error::Downgrade => "downgrade",
            Error::PeerRejected => "peer_rejected",
            Error::ExpiredBinding { .. } => "expired_binding",
            Error::TooOld { .. } => "too_old",
            Error::NonceExhausted => "nonce_exhausted",
            Error::InvalidConfig(_) => "invalid_config",
            Error::UnsupportedSuite(_) => "unsupported_suite",
            Error::NoCommonSuite { .. } => "no_common_suite",
            Error::SuiteMismatch { .. } => "suite_mismatch",
            Error::InvalidCredential => "invalid_credential",
            Error::UnknownGroup => "unknown_group",
            Error::UnknownMember => "unknown_member",
            Error::Mls(_) => "mls",
            Error::LoginFailed => "login_failed",
            Error::InvalidElement(_) => "invalid_element",
            Error::UnknownSuite { .. } => "unknown_suite",
            Error::Wire(e) => e.class(),
        }
    }
}

/// Converts a slice to a fixed-size array or reports [`Error::WrongLength`].
pub(crate) fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| Error::WrongLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}
