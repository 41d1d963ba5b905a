//! The node's identity and credentials: `keygen`, the operating system's
//! randomness, and the sealed-sender certificate the node issues itself
//! from the community seed (`spec/30-reference-node.md` §3, §12).

use std::path::Path;

use qpc_crypto::certificate::{Issuer, SenderCertificate, TrustRoot};
use qpc_crypto::identity::{Identity, PublicIdentity};
use rand::rngs::{StdRng, SysRng};
use rand_core::SeedableRng;

use crate::error::{Error, Result};
use crate::store::Store;

/// A generator seeded from the operating system (the node's only source
/// of randomness; the engines get it as an argument).
pub fn os_rng() -> Result<StdRng> {
    StdRng::try_from_rng(&mut SysRng)
        .map_err(|e| Error::Io(std::io::Error::other(format!("OS randomness: {e}"))))
}

/// Creates the data directory's store and a fresh identity in it.
pub fn keygen(data_dir: &Path) -> Result<PublicIdentity> {
    let store = Store::open(data_dir)?;
    let identity = Identity::generate(&mut os_rng()?);
    store.create_identity(&identity)?;
    Ok(identity.public().clone())
}

/// The identity in `store`, or `invalid_config` if there is none.
pub fn load(store: &Store) -> Result<Identity> {
    store.identity()?.ok_or_else(|| {
        Error::InvalidConfig(
            "no identity in the data directory, run `qpc-node keygen` first".into(),
        )
    })
}

/// A never-expiring certificate for `identity` from the community
/// issuer, and the issuer's root to trust.
pub fn community_credentials(
    identity: &PublicIdentity,
    issuer_seed: &[u8; 32],
) -> (SenderCertificate, TrustRoot) {
    let issuer = Issuer::from_seed(issuer_seed);
    (
        issuer.issue(identity, u64::MAX),
        issuer.trust_root().clone(),
    )
}
