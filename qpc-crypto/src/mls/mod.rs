//! MLS groups (RFC 9420) on OpenMLS, with the post-quantum X-Wing suite
//! 0x004D by default (`spec/07-mls.md`).
//!
//! - [`Suite`]: the two ciphersuites qpc speaks and their negotiation;
//! - [`credential`]: MLS credentials bound to qpc identities;
//! - [`payload`]: qpc's application payload inside MLS, Padmé-padded;
//! - [`delivery`]: the delivery header and the ordering rules (hold future
//!   epochs, drop duplicates, report gaps), a pure state machine;
//! - [`GroupMember`]: the sans-IO engine over OpenMLS that ties them
//!   together and survives a restart through [`GroupMember::export_state`].
//!
//! Randomness comes in as an argument on every call that needs it and is
//! handed to OpenMLS through the provider's RNG. Two things OpenMLS does
//! not let us inject are stated in the spec (§11): HPKE encapsulation
//! inside `openmls_libcrux_crypto` draws its ephemeral randomness from its
//! own OS-seeded generator, and OpenMLS checks key-package lifetimes
//! against the system clock.

pub mod credential;
pub mod delivery;
mod member;
pub mod payload;
mod provider;
mod state;

pub use member::{Commit, GroupEvent, GroupId, GroupMember, MlsConfig};

use crate::Error;
use openmls::prelude::Ciphersuite;

/// The MLS ciphersuites qpc supports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// `MLS_256_XWING_CHACHA20POLY1305_SHA256_Ed25519` (0x004D): X-Wing
    /// (ML-KEM-768 + X25519) for HPKE, post-quantum confidentiality. The
    /// default.
    #[default]
    XWing,
    /// `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (0x0001): classical.
    Classical,
}

impl Suite {
    /// Every supported suite, most preferred first.
    pub const ALL: [Suite; 2] = [Suite::XWing, Suite::Classical];

    /// The 16-bit MLS code point.
    pub const fn code(self) -> u16 {
        match self {
            Suite::XWing => 0x004D,
            Suite::Classical => 0x0001,
        }
    }

    /// The suite with this code point, if qpc supports it.
    pub fn from_code(code: u16) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.code() == code)
    }

    pub(crate) fn ciphersuite(self) -> Ciphersuite {
        match self {
            Suite::XWing => Ciphersuite::MLS_256_XWING_CHACHA20POLY1305_SHA256_Ed25519,
            Suite::Classical => Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        }
    }

    pub(crate) fn of(ciphersuite: Ciphersuite) -> Result<Suite, Error> {
        let code = u16::from(ciphersuite);
        Suite::from_code(code).ok_or(Error::UnsupportedSuite(code))
    }
}

/// Picks the suite for a group between two members: the first of `ours`
/// (our preference order) that `theirs` also offers.
///
/// ```
/// use qpc_crypto::mls::{negotiate_suite, Suite};
/// assert_eq!(negotiate_suite(&Suite::ALL, &[Suite::Classical]), Ok(Suite::Classical));
/// assert!(negotiate_suite(&[Suite::XWing], &[Suite::Classical]).is_err());
/// ```
pub fn negotiate_suite(ours: &[Suite], theirs: &[Suite]) -> Result<Suite, Error> {
    ours.iter()
        .copied()
        .find(|s| theirs.contains(s))
        .ok_or_else(|| Error::NoCommonSuite {
            ours: ours.iter().map(|s| s.code()).collect(),
            theirs: theirs.iter().map(|s| s.code()).collect(),
        })
}
