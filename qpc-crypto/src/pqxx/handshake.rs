//! The pqXX handshake state machines.
//!
//! Each step consumes the current state; an error leaves the machine failed
//! for good (Noise handshakes are not retried), so no step can be replayed
//! against a half-finished state.

use bytes::Bytes;
use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PrivateKey, MlKem768PublicKey};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::binding::{LocalStatic, PeerIdentity, StaticKeyBinding};
use super::noise::NoiseHandshake;
use super::payload::{Message1Payload, Message2Payload, Message3Payload};
use super::transport::{DatagramTransport, StreamTransport, TransportConfig, TransportKeys};
use super::{derive_psk, HandshakeConfig, Mode};
use crate::Error;

/// The initiator's randomness: its X25519 ephemeral and ML-KEM key seed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct InitiatorRandomness {
    /// X25519 ephemeral private key.
    pub ephemeral: [u8; 32],
    /// ML-KEM-768 `KeyGen_internal` seed `d || z` (FIPS 203).
    pub kem_seed: [u8; 64],
}

impl InitiatorRandomness {
    /// Draws fresh randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut r = InitiatorRandomness {
            ephemeral: [0; 32],
            kem_seed: [0; 64],
        };
        rng.fill_bytes(&mut r.ephemeral);
        rng.fill_bytes(&mut r.kem_seed);
        r
    }
}

/// The responder's randomness: its X25519 ephemeral and ML-KEM
/// encapsulation randomness.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ResponderRandomness {
    /// X25519 ephemeral private key.
    pub ephemeral: [u8; 32],
    /// ML-KEM-768 `Encaps_internal` randomness `m` (FIPS 203).
    pub encapsulation: [u8; 32],
}

impl ResponderRandomness {
    /// Draws fresh randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut r = ResponderRandomness {
            ephemeral: [0; 32],
            encapsulation: [0; 32],
        };
        rng.fill_bytes(&mut r.ephemeral);
        rng.fill_bytes(&mut r.encapsulation);
        r
    }
}

/// A finished handshake: who the peer is, how it was protected, and the
/// keys for one transport.
#[derive(Debug)]
pub struct Session {
    peer: PeerIdentity,
    mode: Mode,
    handshake_hash: [u8; 32],
    keys: TransportKeys,
}

impl Session {
    fn finish(noise: NoiseHandshake, peer: PeerIdentity, mode: Mode) -> Result<Self, Error> {
        let handshake_hash = noise.handshake_hash();
        Ok(Session {
            peer,
            mode,
            handshake_hash,
            keys: noise.split()?,
        })
    }

    /// The authenticated peer.
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    /// Whether ML-KEM-768 took part.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The final Noise handshake hash, the same on both sides (for channel
    /// binding).
    pub fn handshake_hash(&self) -> &[u8; 32] {
        &self.handshake_hash
    }

    /// Runs the session as an ordered stream from `now_ms`.
    pub fn into_stream(
        self,
        config: TransportConfig,
        now_ms: u64,
    ) -> Result<StreamTransport, Error> {
        StreamTransport::new(self.keys, config, now_ms)
    }

    /// Runs the session as unordered datagrams from `now_ms`.
    pub fn into_datagram(
        self,
        config: TransportConfig,
        now_ms: u64,
    ) -> Result<DatagramTransport, Error> {
        DatagramTransport::new(self.keys, config, now_ms)
    }
}

/// Authenticates the peer from its binding and applies the policy.
fn authenticate(
    noise: &NoiseHandshake,
    binding: &StaticKeyBinding,
    config: &HandshakeConfig,
    now_ms: u64,
) -> Result<PeerIdentity, Error> {
    let remote_static = noise
        .remote_static()
        .ok_or(Error::WrongState("no remote static key"))?;
    let peer = binding.verify(&remote_static, now_ms)?;
    if !(config.accept_peer)(&peer) {
        return Err(Error::PeerRejected);
    }
    Ok(peer)
}

fn payload_bytes(payload: zeroize::Zeroizing<Vec<u8>>) -> Bytes {
    Bytes::copy_from_slice(&payload)
}

/// The initiator's ML-KEM-768 key pair for one handshake.
struct KemPair {
    private: MlKem768PrivateKey,
    public: MlKem768PublicKey,
}

enum InitiatorState {
    Start(Box<NoiseHandshake>, Option<KemPair>),
    Sent1(Box<NoiseHandshake>, Option<KemPair>),
    Received2(Box<NoiseHandshake>, PeerIdentity, Mode),
    Failed,
}

/// The side that sends message 1.
pub struct Initiator {
    state: InitiatorState,
    config: HandshakeConfig,
    binding: StaticKeyBinding,
}

impl core::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Initiator").finish_non_exhaustive()
    }
}

impl Initiator {
    /// Starts a handshake with fresh randomness from `rng`.
    pub fn new(
        local: &LocalStatic,
        config: HandshakeConfig,
        rng: &mut impl CryptoRng,
    ) -> Result<Self, Error> {
        Self::new_derand(local, config, &InitiatorRandomness::generate(rng))
    }

    /// Starts a handshake with the given randomness (vectors, tests).
    pub fn new_derand(
        local: &LocalStatic,
        config: HandshakeConfig,
        randomness: &InitiatorRandomness,
    ) -> Result<Self, Error> {
        let noise = NoiseHandshake::new(
            true,
            &config.prologue()?,
            local.private(),
            &randomness.ephemeral,
        )?;
        let kem = config.post_quantum.then(|| {
            let (private, public) = mlkem768::generate_key_pair(randomness.kem_seed).into_parts();
            KemPair { private, public }
        });
        Ok(Initiator {
            state: InitiatorState::Start(Box::new(noise), kem),
            config,
            binding: local.binding().clone(),
        })
    }

    /// Message 1: the ephemeral key, the ML-KEM offer and `application`
    /// (which is not confidential: no key exists yet).
    pub fn write_message_1(&mut self, application: &[u8]) -> Result<Vec<u8>, Error> {
        let InitiatorState::Start(mut noise, kem) =
            core::mem::replace(&mut self.state, InitiatorState::Failed)
        else {
            return Err(Error::WrongState("message 1 is written once, first"));
        };
        let payload = Message1Payload {
            encapsulation_key: kem.as_ref().map(|pair| Box::new(*pair.public.as_slice())),
            application: self.config.check_application(application)?,
        };
        let message = noise.write(&payload.encode()?)?;
        self.state = InitiatorState::Sent1(noise, kem);
        Ok(message)
    }

    /// Reads message 2 at `now_ms`: decapsulates, authenticates the
    /// responder, applies the downgrade rule and the policy. Returns the
    /// responder's application payload.
    pub fn read_message_2(&mut self, now_ms: u64, message: &[u8]) -> Result<Bytes, Error> {
        let InitiatorState::Sent1(mut noise, kem) =
            core::mem::replace(&mut self.state, InitiatorState::Failed)
        else {
            return Err(Error::WrongState("message 2 is read after message 1"));
        };
        let payload = Message2Payload::decode(
            payload_bytes(noise.read(message)?),
            self.config.max_application_len,
        )?;
        let (psk, mode) = match (kem, payload.ciphertext) {
            (Some(pair), Some(ciphertext)) => {
                let ciphertext = MlKem768Ciphertext::from(*ciphertext);
                let mut ss = mlkem768::decapsulate(&pair.private, &ciphertext);
                let psk = derive_psk(Some(&ss));
                ss.zeroize();
                (psk, Mode::PostQuantum)
            }
            (None, Some(_)) => return Err(Error::Malformed("ML-KEM ciphertext without an offer")),
            (_, None) if self.config.allow_classical => (derive_psk(None), Mode::Classical),
            (_, None) => return Err(Error::Downgrade),
        };
        let peer = authenticate(&noise, &payload.binding, &self.config, now_ms)?;
        noise.set_psk(&psk)?;
        self.state = InitiatorState::Received2(noise, peer, mode);
        Ok(payload.application)
    }

    /// Message 3: this side's binding and `application` (post-quantum
    /// confidential in [`Mode::PostQuantum`]). Returns the message and the
    /// finished session.
    pub fn write_message_3(mut self, application: &[u8]) -> Result<(Vec<u8>, Session), Error> {
        let InitiatorState::Received2(mut noise, peer, mode) =
            core::mem::replace(&mut self.state, InitiatorState::Failed)
        else {
            return Err(Error::WrongState("message 3 is written after message 2"));
        };
        let payload = Message3Payload {
            binding: self.binding.clone(),
            application: self.config.check_application(application)?,
        };
        let message = noise.write(&payload.encode()?)?;
        Ok((message, Session::finish(*noise, peer, mode)?))
    }
}

enum ResponderState {
    Start(Box<NoiseHandshake>),
    Received1(Box<NoiseHandshake>, Option<Box<MlKem768PublicKey>>),
    Sent2(Box<NoiseHandshake>, Mode),
    Failed,
}

/// The side that receives message 1.
pub struct Responder {
    state: ResponderState,
    config: HandshakeConfig,
    binding: StaticKeyBinding,
    encapsulation: [u8; 32],
}

impl core::fmt::Debug for Responder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Responder").finish_non_exhaustive()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.encapsulation.zeroize();
    }
}

impl Responder {
    /// Waits for message 1, with fresh randomness from `rng`.
    pub fn new(
        local: &LocalStatic,
        config: HandshakeConfig,
        rng: &mut impl CryptoRng,
    ) -> Result<Self, Error> {
        Self::new_derand(local, config, &ResponderRandomness::generate(rng))
    }

    /// Waits for message 1, with the given randomness (vectors, tests).
    pub fn new_derand(
        local: &LocalStatic,
        config: HandshakeConfig,
        randomness: &ResponderRandomness,
    ) -> Result<Self, Error> {
        let noise = NoiseHandshake::new(
            false,
            &config.prologue()?,
            local.private(),
            &randomness.ephemeral,
        )?;
        Ok(Responder {
            state: ResponderState::Start(Box::new(noise)),
            config,
            binding: local.binding().clone(),
            encapsulation: randomness.encapsulation,
        })
    }

    /// Reads message 1: checks the ML-KEM offer (FIPS 203 encapsulation-key
    /// check) and the downgrade rule. Returns the initiator's application
    /// payload.
    pub fn read_message_1(&mut self, message: &[u8]) -> Result<Bytes, Error> {
        let ResponderState::Start(mut noise) =
            core::mem::replace(&mut self.state, ResponderState::Failed)
        else {
            return Err(Error::WrongState("message 1 is read once, first"));
        };
        let payload = Message1Payload::decode(
            payload_bytes(noise.read(message)?),
            self.config.max_application_len,
        )?;
        let offer = match payload.encapsulation_key {
            Some(bytes) => {
                let key = MlKem768PublicKey::from(*bytes);
                if !mlkem768::validate_public_key(&key) {
                    return Err(Error::InvalidPublicKey("ML-KEM-768 encapsulation key"));
                }
                Some(Box::new(key))
            }
            None => None,
        };
        if offer.is_none() && !self.config.allow_classical {
            return Err(Error::Downgrade);
        }
        self.state = ResponderState::Received1(noise, offer);
        Ok(payload.application)
    }

    /// Message 2: the ML-KEM ciphertext (if offered and this side uses
    /// ML-KEM), this side's binding and `application` (confidential against
    /// classical adversaries only).
    pub fn write_message_2(&mut self, application: &[u8]) -> Result<Vec<u8>, Error> {
        let ResponderState::Received1(mut noise, offer) =
            core::mem::replace(&mut self.state, ResponderState::Failed)
        else {
            return Err(Error::WrongState("message 2 is written after message 1"));
        };
        let (ciphertext, psk, mode) = match offer.filter(|_| self.config.post_quantum) {
            Some(key) => {
                let (ciphertext, mut ss) = mlkem768::encapsulate(&key, self.encapsulation);
                let psk = derive_psk(Some(&ss));
                ss.zeroize();
                (
                    Some(Box::new(*ciphertext.as_slice())),
                    psk,
                    Mode::PostQuantum,
                )
            }
            None if self.config.allow_classical => (None, derive_psk(None), Mode::Classical),
            None => return Err(Error::Downgrade),
        };
        let payload = Message2Payload {
            ciphertext,
            binding: self.binding.clone(),
            application: self.config.check_application(application)?,
        };
        let message = noise.write(&payload.encode()?)?;
        noise.set_psk(&psk)?;
        self.state = ResponderState::Sent2(noise, mode);
        Ok(message)
    }

    /// Reads message 3 at `now_ms`: authenticates the initiator and applies
    /// the policy. Returns the finished session and the initiator's
    /// application payload.
    pub fn read_message_3(
        mut self,
        now_ms: u64,
        message: &[u8],
    ) -> Result<(Session, Bytes), Error> {
        let ResponderState::Sent2(mut noise, mode) =
            core::mem::replace(&mut self.state, ResponderState::Failed)
        else {
            return Err(Error::WrongState("message 3 is read after message 2"));
        };
        let payload = Message3Payload::decode(
            payload_bytes(noise.read(message)?),
            self.config.max_application_len,
        )?;
        let peer = authenticate(&noise, &payload.binding, &self.config, now_ms)?;
        Ok((Session::finish(*noise, peer, mode)?, payload.application))
    }
}
