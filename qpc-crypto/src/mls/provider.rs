//! The OpenMLS provider of a member: libcrux cryptography, an RNG the
//! caller seeds before every operation, and in-memory storage that
//! [`super::state`] exports and imports.

use std::sync::Mutex;

use openmls_libcrux_crypto::CryptoProvider;
use openmls_memory_storage::MemoryStorage;
use openmls_traits::random::OpenMlsRand;
use openmls_traits::OpenMlsProvider;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;

/// The randomness OpenMLS draws: a ChaCha20 stream keyed by 32 bytes of the
/// caller's RNG at the start of each operation.
pub(crate) struct InjectedRand(Mutex<Option<ChaCha20Rng>>);

/// The RNG was used before an operation seeded it (a bug in this module).
#[derive(Debug, thiserror::Error)]
#[error("MLS randomness used before it was seeded")]
pub(crate) struct Unseeded;

impl OpenMlsRand for InjectedRand {
    type Error = Unseeded;

    fn random_array<const N: usize>(&self) -> Result<[u8; N], Unseeded> {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }

    fn random_vec(&self, len: usize) -> Result<Vec<u8>, Unseeded> {
        let mut out = vec![0u8; len];
        self.fill(&mut out)?;
        Ok(out)
    }
}

impl InjectedRand {
    fn fill(&self, out: &mut [u8]) -> Result<(), Unseeded> {
        let mut guard = self.0.lock().map_err(|_| Unseeded)?;
        guard.as_mut().ok_or(Unseeded)?.fill_bytes(out);
        Ok(())
    }
}

/// One member's provider.
pub(crate) struct Provider {
    crypto: CryptoProvider,
    rand: InjectedRand,
    pub(crate) storage: MemoryStorage,
}

impl Provider {
    /// A provider over `storage`.
    pub(crate) fn new(storage: MemoryStorage) -> Result<Self, Error> {
        Ok(Provider {
            crypto: CryptoProvider::new()
                .map_err(|e| Error::Mls(format!("crypto provider: {e:?}")))?,
            rand: InjectedRand(Mutex::new(None)),
            storage,
        })
    }

    /// Keys OpenMLS's RNG from `rng` for one operation; the key is wiped
    /// when the returned guard is dropped.
    pub(crate) fn seed(&self, rng: &mut impl CryptoRng) -> Seeded<'_> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *seed);
        if let Ok(mut guard) = self.rand.0.lock() {
            *guard = Some(ChaCha20Rng::from_seed(*seed));
        }
        Seeded(&self.rand)
    }
}

/// While alive, OpenMLS's RNG is keyed; dropping it wipes the key (the
/// ChaCha20 state would otherwise reveal the last operation's secrets).
pub(crate) struct Seeded<'a>(&'a InjectedRand);

impl Drop for Seeded<'_> {
    fn drop(&mut self) {
        if let Ok(mut guard) = (self.0).0.lock() {
            *guard = None;
        }
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = CryptoProvider;
    type RandProvider = InjectedRand;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &MemoryStorage {
        &self.storage
    }

    fn crypto(&self) -> &CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &InjectedRand {
        &self.rand
    }
}
