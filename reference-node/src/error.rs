//! The node's one error type; [`Error::class`] gives the error class of
//! `spec/30-reference-node.md` §11 (and `spec/00-overview.md` §5).

/// What went wrong in the node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file or value is out of its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Input that breaks a rule of its definition.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The rule it broke.
        reason: &'static str,
    },
    /// Input that ends inside a value or frame.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A stream or control frame announces more than the bound.
    #[error("{what} of {len} bytes is above the limit of {max}")]
    FrameTooLarge {
        /// What was being decoded.
        what: &'static str,
        /// The announced length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A radio frame longer than a LoRa PHY payload.
    #[error("radio frame of {len} bytes is above {max}")]
    FrameTooLong {
        /// Its length (or the bound plus one, when it was cut off).
        len: usize,
        /// The bound.
        max: usize,
    },
    /// An air packet of a version the node does not run.
    #[error("unknown air packet version {0}")]
    UnknownVersion(u8),
    /// A QUIC peer offered no post-quantum key exchange.
    #[error("the peer offered no post-quantum key exchange (X25519MLKEM768 is required)")]
    Downgrade,
    /// A QUIC peer certificate not shaped as spec/30 §5.2 says.
    #[error("bad peer certificate: {0}")]
    BadCertificate(&'static str),
    /// A QUIC peer whose address is not pinned.
    #[error("peer rejected: {0}")]
    PeerRejected(String),
    /// A bounded queue refuses more for now.
    #[error("full: {0}")]
    Full(&'static str),
    /// The database failed or is locked.
    #[error("store: {0}")]
    Store(String),
    /// A socket, device or file failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The mesh engine refused an operation.
    #[error("mesh: {0}")]
    Mesh(#[from] qpc_mesh::Error),
    /// An identity operation failed.
    #[error("identity: {0}")]
    Crypto(#[from] qpc_crypto::Error),
    /// A QUIC connection or TLS set-up failed.
    #[error("quic: {0}")]
    Quic(String),
    /// A qpc-wire frame was refused.
    #[error("frame: {0}")]
    Wire(#[from] qpc_wire::Error),
    /// A unicast mesh datagram arrived on a LoRa link outside pqXX.
    #[error("{0} arrived in the clear on a LoRa link: unicast datagrams travel inside pqXX")]
    Unprotected(&'static str),
    /// A pqXX record from a neighbour the node has no session with.
    #[error("no pqXX session with neighbour {0}")]
    UnknownSession(String),
    /// A FAPP engine refused an operation (`spec/20` §12).
    #[error("fapp: {0}")]
    Fapp(#[from] qpc_fapp::Error),
    /// A LoRa neighbour did not complete the pqXX handshake in time.
    #[error("timeout: {0}")]
    Timeout(String),
}

impl Error {
    /// The error class (`spec/30-reference-node.md` §11).
    pub fn class(&self) -> &'static str {
        match self {
            Error::InvalidConfig(_) => "invalid_config",
            Error::Malformed { .. } => "malformed",
            Error::Truncated(_) => "truncated",
            Error::FrameTooLarge { .. } => "frame_too_large",
            Error::FrameTooLong { .. } => "frame_too_long",
            Error::UnknownVersion(_) => "unknown_version",
            Error::Downgrade => "downgrade",
            Error::BadCertificate(_) => "bad_certificate",
            Error::PeerRejected(_) => "peer_rejected",
            Error::Full(_) => "full",
            Error::Store(_) => "store",
            Error::Io(_) | Error::Quic(_) => "io",
            Error::Mesh(e) => e.class(),
            Error::Crypto(e) => e.class(),
            Error::Wire(e) => e.class(),
            Error::Fapp(e) => e.class(),
            Error::Unprotected(_) => "downgrade",
            Error::UnknownSession(_) => "unknown_session",
            Error::Timeout(_) => "timeout",
        }
    }
}

macro_rules! store_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Store(e.to_string())
            }
        }
    )*};
}

store_error!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// The node's result type.
pub type Result<T> = std::result::Result<T, Error>;
