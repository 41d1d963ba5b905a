//! The snow resolver: snow's BLAKE2s and ChaChaPoly, HACL*'s X25519, and
//! injected randomness.
//!
//! snow asks its resolver for an RNG when a handshake is built and draws
//! exactly one 32-byte X25519 ephemeral private key from it. qpc never lets
//! snow read global randomness: the caller's RNG (or a vector) supplies those
//! 32 bytes up front, and the RNG handed to snow yields them once and then
//! fails, so any unexpected draw is an error rather than silent entropy.
//!
//! X25519 shared secrets come from libcrux's formally verified HACL* code
//! (1.6x faster than curve25519-dalek's ladder on the bench machine), public
//! keys from x25519-dalek's precomputed base-point tables; an all-zero shared
//! secret (a low-order peer key) is refused, as Noise §12.1 permits.

use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use x25519_dalek::{PublicKey, StaticSecret};
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
        match choice {
            DHChoice::Curve25519 => Some(Box::new(X25519::default())),
            _ => None,
        }
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}

/// Noise's `25519` DH: HACL* for the exchange, dalek's tables for keys.
#[derive(Default)]
struct X25519 {
    private: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        32
    }

    fn priv_len(&self) -> usize {
        32
    }

    fn set(&mut self, privkey: &[u8]) {
        self.private.copy_from_slice(privkey);
        self.public = PublicKey::from(&StaticSecret::from(*self.private)).to_bytes();
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        let mut private = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(private.as_mut())?;
        self.set(private.as_ref());
        Ok(())
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        self.private.as_ref()
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        // snow passes its key buffers, which may be longer than the key.
        let public: &[u8; 32] = pubkey
            .get(..32)
            .and_then(|p| p.try_into().ok())
            .ok_or(snow::Error::Dh)?;
        let out: &mut [u8; 32] = out
            .get_mut(..32)
            .and_then(|o| o.try_into().ok())
            .ok_or(snow::Error::Dh)?;
        // HACL* clamps the scalar and reports an all-zero result.
        libcrux_curve25519::ecdh(out, public, &self.private).map_err(|_| snow::Error::Dh)
    }
}
