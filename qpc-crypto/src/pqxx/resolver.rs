//! The snow resolver: snow's own primitives, with randomness injected.
//!
//! snow asks its resolver for an RNG when a handshake is built and draws
//! exactly one 32-byte X25519 ephemeral private key from it. qpc never lets
//! snow read global randomness: the caller's RNG (or a vector) supplies those
//! 32 bytes up front, and the RNG handed to snow yields them once and then
//! fails, so any unexpected draw is an error rather than silent entropy.

use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use zeroize::Zeroizing;

/// A resolver whose RNG yields one pre-drawn ephemeral key.
pub(super) struct InjectedResolver {
    ephemeral: Zeroizing<[u8; 32]>,
}

impl InjectedResolver {
    pub(super) fn new(ephemeral: &[u8; 32]) -> Self {
        InjectedResolver {
            ephemeral: Zeroizing::new(*ephemeral),
        }
    }
}

/// Yields its 32 bytes once, then refuses.
struct OneShot(Option<Zeroizing<[u8; 32]>>);

impl Random for OneShot {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        match self.0.take() {
            Some(bytes) if dest.len() == bytes.len() => {
                dest.copy_from_slice(&bytes[..]);
                Ok(())
            }
            _ => Err(snow::Error::Rng),
        }
    }
}

impl CryptoResolver for InjectedResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(OneShot(Some(self.ephemeral.clone()))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        DefaultResolver.resolve_dh(choice)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}
