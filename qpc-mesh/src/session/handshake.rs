//! Establishment (`spec/12-mls-lite.md` §A.3): Init and Response, one
//! X-Wing encapsulation each way, the initiator signed in, the responder
//! proven by its static X-Wing key.

use bytes::Bytes;
use qpc_crypto::identity::{self, Address, Identity, PublicIdentity, SignatureContext};
use qpc_crypto::xwing::{SharedSecret, XWingCiphertext, XWingPublicKey, XWingSecretKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::session::keys::{handshake_keys, init_key, transcript0, transcript1, Role};
use crate::session::state::{associated_data, datagram, decode_for, header, Epoch, Session};
use crate::session::wire::{Init, Response, SessionMessage};
use crate::symmetric::{open, seal};
use crate::{Error, Result};

/// The AEAD nonce of the two establishment messages: their keys are used
/// once.
const HANDSHAKE_NONCE: [u8; 12] = [0; 12];

/// The randomness an Init consumes, in the order [`Initiator::start`] draws
/// it.
#[derive(Clone)]
pub struct InitRandomness {
    /// Seed of the ephemeral X-Wing key.
    pub ephemeral_seed: Zeroizing<[u8; 32]>,
    /// X-Wing encapsulation randomness for the responder's static key.
    pub encapsulation_seed: Zeroizing<[u8; 64]>,
    /// The envelope's message id.
    pub message_id: u32,
}

impl InitRandomness {
    /// Draws it from `rng`.
    pub fn draw(rng: &mut impl CryptoRng) -> Self {
        let mut r = InitRandomness {
            ephemeral_seed: Zeroizing::new([0; 32]),
            encapsulation_seed: Zeroizing::new([0; 64]),
            message_id: 0,
        };
        rng.fill_bytes(&mut *r.ephemeral_seed);
        rng.fill_bytes(&mut *r.encapsulation_seed);
        r.message_id = rng.next_u32();
        r
    }
}

/// The initiator between its Init and the Response.
pub struct Initiator {
    own: Address,
    responder: Address,
    receive_tag: u16,
    ephemeral: XWingSecretKey,
    th0: [u8; 32],
    ss_static: SharedSecret,
    sealed_identity: Bytes,
    datagram: Vec<u8>,
}

impl core::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Initiator")
            .field("responder", &self.responder)
            .field("receive_tag", &self.receive_tag)
            .finish_non_exhaustive()
    }
}

/// What the responder learns and sends when it accepts an Init.
#[derive(Debug)]
pub struct Accepted {
    /// The established session.
    pub session: Session,
    /// The initiator's Ed25519 key, which signed the Init.
    pub initiator_signing_key: [u8; 32],
    /// The Response datagram, to send (and send again, byte for byte, if
    /// the same Init arrives again).
    pub datagram: Vec<u8>,
}

impl Initiator {
    /// Starts an establishment with `responder`: draws [`InitRandomness`]
    /// from `rng`. `receive_tag` is the tag the responder will name the
    /// session with; it must be unique among the initiator's sessions.
    pub fn start(
        rng: &mut impl CryptoRng,
        identity: &Identity,
        responder: &PublicIdentity,
        receive_tag: u16,
        hop_limit: u8,
    ) -> Result<Self> {
        let randomness = InitRandomness::draw(rng);
        Self::start_with(identity, responder, receive_tag, hop_limit, &randomness)
    }

    /// [`Initiator::start`] with the randomness given (test vectors).
    pub fn start_with(
        identity: &Identity,
        responder: &PublicIdentity,
        receive_tag: u16,
        hop_limit: u8,
        randomness: &InitRandomness,
    ) -> Result<Self> {
        let ephemeral = XWingSecretKey::from_seed(&randomness.ephemeral_seed);
        let ephemeral_key = ephemeral.public_key().to_bytes();
        let (ct, ss_static) = responder
            .kem_key()
            .encapsulate_derand(&randomness.encapsulation_seed)?;
        let encapsulation = ct.to_bytes();
        let responder_address = responder.address();
        let th0 = transcript0(responder_address.as_bytes(), &ephemeral_key, &encapsulation);
        let public = identity.public();
        let mut plaintext = Zeroizing::new(Vec::with_capacity(130));
        plaintext.extend_from_slice(&receive_tag.to_be_bytes());
        plaintext.extend_from_slice(public.signing_key().as_bytes());
        plaintext.extend_from_slice(public.kem_key_digest());
        let signed = [&th0[..], &receive_tag.to_be_bytes()].concat();
        plaintext.extend_from_slice(&identity.sign(SignatureContext::LoraSession, &signed));
        let header = header(responder_address, randomness.message_id, hop_limit);
        let mut init = Init {
            ephemeral_key: Bytes::copy_from_slice(&ephemeral_key),
            encapsulation: Bytes::copy_from_slice(&encapsulation),
            sealed_identity: Bytes::new(),
        };
        let aad = associated_data(&header, &SessionMessage::Init(init.clone()))?;
        let key = init_key(&th0, ss_static.as_bytes());
        let sealed_identity = Bytes::from(seal(&key, &HANDSHAKE_NONCE, &aad, &plaintext));
        init.sealed_identity = sealed_identity.clone();
        let message = SessionMessage::Init(init);
        Ok(Initiator {
            own: public.address(),
            responder: responder_address,
            receive_tag,
            ephemeral,
            th0,
            ss_static,
            sealed_identity,
            datagram: datagram(header, &message)?,
        })
    }

    /// The Init datagram: send it, and send it again unchanged if no
    /// Response comes (§A.8).
    pub fn datagram(&self) -> &[u8] {
        &self.datagram
    }

    /// The tag this initiation is named by in the Response.
    pub fn receive_tag(&self) -> u16 {
        self.receive_tag
    }

    /// Completes the establishment with the responder's Response
    /// (checks I1–I4 of §A.3). A Response that does not open leaves the
    /// initiator waiting.
    pub fn finish(&self, datagram: &[u8]) -> Result<Session> {
        let (header, message) = decode_for(&self.own, datagram)?;
        let SessionMessage::Response(response) = &message else {
            return Err(Error::WrongState("an initiator waits for a Response"));
        };
        if response.initiator_tag != self.receive_tag {
            return Err(Error::UnknownSession(response.initiator_tag));
        }
        let ct = XWingCiphertext::from_bytes(&response.encapsulation)?;
        let ss_ephemeral = self.ephemeral.decapsulate(&ct)?;
        let th1 = transcript1(&self.th0, &self.sealed_identity, &response.encapsulation);
        let (confirm, root) =
            handshake_keys(&th1, self.ss_static.as_bytes(), ss_ephemeral.as_bytes());
        let aad = associated_data(&header, &message)?;
        let tag = open(&confirm, &HANDSHAKE_NONCE, &aad, &response.sealed_tag)?;
        Ok(Session {
            role: Role::Initiator,
            own: self.own,
            peer: self.responder,
            own_tag: self.receive_tag,
            peer_tag: u16::from_be_bytes([tag[0], tag[1]]),
            epoch: Epoch::from_root(0, &root, Role::Initiator),
        })
    }
}

/// The responder's side: checks an Init (A1–A7 of §A.3) and answers it.
/// `receive_tag` must be unique among the responder's sessions. The caller
/// decides whether it wants a session with the initiator (its address is
/// [`Session::peer`]).
pub fn accept(
    rng: &mut impl CryptoRng,
    identity: &Identity,
    init_datagram: &[u8],
    receive_tag: u16,
    hop_limit: u8,
) -> Result<Accepted> {
    let own = identity.public().address();
    let (init_header, message) = decode_for(&own, init_datagram)?;
    let SessionMessage::Init(init) = &message else {
        return Err(Error::WrongState("a responder accepts only an Init"));
    };
    let ephemeral = XWingPublicKey::from_bytes(&init.ephemeral_key)?;
    let ct = XWingCiphertext::from_bytes(&init.encapsulation)?;
    let ss_static = identity.kem_secret().decapsulate(&ct)?;
    let th0 = transcript0(own.as_bytes(), &init.ephemeral_key, &init.encapsulation);
    let aad = associated_data(&init_header, &message)?;
    let plaintext = open(
        &init_key(&th0, ss_static.as_bytes()),
        &HANDSHAKE_NONCE,
        &aad,
        &init.sealed_identity,
    )?;
    let initiator_tag = u16::from_be_bytes([plaintext[0], plaintext[1]]);
    let signing_key: [u8; 32] = plaintext[2..34].try_into().expect("32 bytes");
    let kem_key_digest: [u8; 32] = plaintext[34..66].try_into().expect("32 bytes");
    let verifying_key = identity::parse_signing_key(&signing_key)?;
    let signed = [&th0[..], &plaintext[..2]].concat();
    identity::verify(
        &verifying_key,
        SignatureContext::LoraSession,
        &signed,
        &plaintext[66..],
    )?;
    let mut eseed = Zeroizing::new([0; 64]);
    rng.fill_bytes(&mut *eseed);
    let (ct_e, ss_ephemeral) = ephemeral.encapsulate_derand(&eseed)?;
    let encapsulation = Bytes::copy_from_slice(&ct_e.to_bytes());
    let th1 = transcript1(&th0, &init.sealed_identity, &encapsulation);
    let (confirm, root) = handshake_keys(&th1, ss_static.as_bytes(), ss_ephemeral.as_bytes());
    let peer = Address::derive(&signing_key, &kem_key_digest);
    let header = header(peer, rng.next_u32(), hop_limit);
    let mut response = Response {
        initiator_tag,
        encapsulation,
        sealed_tag: Bytes::new(),
    };
    let aad = associated_data(&header, &SessionMessage::Response(response.clone()))?;
    response.sealed_tag = Bytes::from(seal(
        &confirm,
        &HANDSHAKE_NONCE,
        &aad,
        &receive_tag.to_be_bytes(),
    ));
    Ok(Accepted {
        session: Session {
            role: Role::Responder,
            own,
            peer,
            own_tag: receive_tag,
            peer_tag: initiator_tag,
            epoch: Epoch::from_root(0, &root, Role::Responder),
        },
        initiator_signing_key: signing_key,
        datagram: datagram(header, &SessionMessage::Response(response))?,
    })
}
