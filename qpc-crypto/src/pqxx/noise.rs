//! The classical skeleton: a plain `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s`
//! handshake on snow, with injected ephemerals and a psk set at run time.
//!
//! pqXX ([`super::Initiator`], [`super::Responder`]) is this handshake with
//! structured payloads and the ML-KEM-derived psk. On its own it reproduces
//! the published cacophony vectors (`spec/06-pq-noise.md` §13), which shows
//! the skeleton is real Noise.

use zeroize::Zeroizing;

use super::resolver::InjectedResolver;
use super::transport::TransportKeys;
use crate::Error;

/// The Noise protocol name, hashed into the initial handshake state.
pub const PROTOCOL_NAME: &str = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s";

/// The largest Noise message (Noise §3).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// The AEAD tag length.
pub const TAG_LEN: usize = 16;

/// The psk location of `XXpsk3`: mixed after message 3's tokens.
const PSK_LOCATION: usize = 3;

/// One side of a `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s` handshake.
pub struct NoiseHandshake {
    state: snow::HandshakeState,
}

impl core::fmt::Debug for NoiseHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NoiseHandshake")
            .field("initiator", &self.state.is_initiator())
            .field("finished", &self.state.is_handshake_finished())
            .finish_non_exhaustive()
    }
}

impl NoiseHandshake {
    /// Starts a handshake. `ephemeral` is this side's X25519 ephemeral
    /// private key (drawn from the caller's RNG, or fixed by a vector).
    pub fn new(
        initiator: bool,
        prologue: &[u8],
        static_private: &[u8; 32],
        ephemeral: &[u8; 32],
    ) -> Result<Self, Error> {
        let params = PROTOCOL_NAME.parse().map_err(snow_error)?;
        let builder =
            snow::Builder::with_resolver(params, Box::new(InjectedResolver::new(ephemeral)))
                .prologue(prologue)
                .map_err(snow_error)?
                .local_private_key(static_private)
                .map_err(snow_error)?;
        let state = if initiator {
            builder.build_initiator()
        } else {
            builder.build_responder()
        }
        .map_err(snow_error)?;
        Ok(NoiseHandshake { state })
    }

    /// Writes the next handshake message carrying `payload`.
    pub fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = vec![0; MAX_MESSAGE_LEN];
        let len = self
            .state
            .write_message(payload, &mut out)
            .map_err(snow_error)?;
        out.truncate(len);
        Ok(out)
    }

    /// Reads the next handshake message and returns its payload.
    pub fn read(&mut self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if message.len() > MAX_MESSAGE_LEN {
            return Err(Error::Malformed("Noise message over 65535 bytes"));
        }
        let mut out = Zeroizing::new(vec![0; message.len()]);
        let len = self
            .state
            .read_message(message, &mut out)
            .map_err(snow_error)?;
        out.truncate(len);
        Ok(out)
    }

    /// Sets the psk mixed in by message 3 (before that message is written
    /// or read).
    pub fn set_psk(&mut self, psk: &[u8; 32]) -> Result<(), Error> {
        self.state.set_psk(PSK_LOCATION, psk).map_err(snow_error)
    }

    /// The peer's static public key, once received.
    pub fn remote_static(&self) -> Option<[u8; 32]> {
        self.state.get_remote_static()?.try_into().ok()
    }

    /// The handshake hash `h` so far (final after message 3).
    pub fn handshake_hash(&self) -> [u8; 32] {
        let mut h = [0; 32];
        h.copy_from_slice(self.state.get_handshake_hash());
        h
    }

    /// Whether all three messages have been processed.
    pub fn is_finished(&self) -> bool {
        self.state.is_handshake_finished()
    }

    /// Noise `Split()`: the transport keys, oriented for this side.
    pub fn split(mut self) -> Result<TransportKeys, Error> {
        if !self.state.is_handshake_finished() {
            return Err(Error::WrongState("split before the handshake finished"));
        }
        let (initiator_to_responder, responder_to_initiator) =
            self.state.dangerously_get_raw_split();
        let (send, receive) = if self.state.is_initiator() {
            (initiator_to_responder, responder_to_initiator)
        } else {
            (responder_to_initiator, initiator_to_responder)
        };
        Ok(TransportKeys::new(send, receive))
    }
}

/// Maps snow's errors onto qpc's classes: a failed AEAD is `open_failed`,
/// an all-zero X25519 result `non_contributory`, bytes of the wrong shape
/// `malformed`, anything else a misuse.
fn snow_error(error: snow::Error) -> Error {
    match error {
        snow::Error::Decrypt => Error::OpenFailed,
        snow::Error::Dh => Error::NonContributory,
        snow::Error::Input => Error::Malformed("Noise message"),
        _ => Error::WrongState("Noise handshake"),
    }
}
