//! Sealed sender (`spec/05-sealed-sender.md`): a relay learns only the
//! recipient; the recipient learns and authenticates the sender.
//!
//! ```text
//! struct {
//!     uint8  version = 1;
//!     opaque recipient[16];        // recipient address
//!     opaque enc[1120];            // HPKE enc (X-Wing ciphertext)
//!     opaque ciphertext<V>;        // HPKE(SealedInner), aad = version || recipient
//! } SealedMessage;
//!
//! struct {
//!     uint8  kind;                 // 0 message, 1 decoy
//!     SenderCertificate certificate;
//!     uint64 timestamp_ms;         // sender's Unix time
//!     opaque message_id[16];
//!     opaque padded_content<V>;    // spec/04 padding
//!     opaque signature[64];        // sender's Ed25519, context
//!                                  // "qpc sig v1 sealed sender", over
//!                                  // recipient || kind || certificate ||
//!                                  // timestamp_ms || message_id ||
//!                                  // padded_content<V> || binding
//! } SealedInner;
//!
//! binding = HPKE.Export("qpc sealed sender binding v1", 32)
//! ```
//!
//! The binding ties the signature to this HPKE context: a recipient cannot
//! re-seal the inner message to a third party as if it came from the sender.

use std::collections::HashMap;

use bytes::{BufMut, Bytes};
use ed25519_dalek::VerifyingKey;
use qpc_wire::codec::{self, Decode, Encode, Reader};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::certificate::{SenderCertificate, TrustRoot, CERTIFICATE_LEN};
use crate::hpke::{self, HpkeContext};
use crate::identity::{self, Address, Identity, PublicIdentity, SignatureContext, SIGNATURE_LEN};
use crate::padding::{self, Padding};
use crate::replay::ReplayWindow;
use crate::{xwing, Error};

/// Version byte of [`SealedMessage`]s.
pub const SEALED_VERSION: u8 = 1;
/// HPKE `info` of every sealed message.
pub const HPKE_INFO: &[u8] = b"qpc sealed sender v1";
const BINDING_LABEL: &[u8] = b"qpc sealed sender binding v1";
/// Largest padded content sent or accepted: 1 MiB. (A sealed message with
/// that much content is 1 MiB + 1,394 bytes: carry it in frames with a
/// larger limit than the 1 MiB default.)
pub const MAX_CONTENT_LEN: usize = 1 << 20;
/// Largest inner plaintext: the fixed fields, a 4-byte length and the content.
const MAX_INNER_LEN: usize = 1 + CERTIFICATE_LEN + 8 + 16 + 4 + MAX_CONTENT_LEN + SIGNATURE_LEN;
/// Largest outer ciphertext: the inner plaintext and the AEAD tag.
pub const MAX_CIPHERTEXT_LEN: usize = MAX_INNER_LEN + hpke::TAG_LEN;
/// Verified certificates remembered by a [`Receiver`].
const CERT_CACHE_LEN: usize = 256;

/// What a sealed message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Real content for the recipient.
    Message = 0,
    /// Cover traffic: valid in every respect, discarded after decryption.
    Decoy = 1,
}

/// The outer, relay-visible message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedMessage {
    /// The recipient's address.
    pub recipient: Address,
    /// The HPKE encapsulation.
    pub enc: [u8; hpke::ENC_LEN],
    /// The HPKE ciphertext of the inner message.
    pub ciphertext: Bytes,
}

impl SealedMessage {
    fn aad(recipient: &Address) -> [u8; 17] {
        let mut aad = [SEALED_VERSION; 17];
        aad[1..].copy_from_slice(recipient.as_bytes());
        aad
    }
}

impl Encode for SealedMessage {
    fn encoded_len(&self) -> usize {
        1 + 16 + hpke::ENC_LEN + codec::vl_encoded_len(self.ciphertext.len())
    }

    fn encode(&self, out: &mut impl BufMut) -> qpc_wire::Result<()> {
        out.put_slice(&Self::aad(&self.recipient));
        out.put_slice(&self.enc);
        codec::put_vl_bytes(out, &self.ciphertext)
    }
}

impl Decode for SealedMessage {
    fn decode(r: &mut Reader) -> qpc_wire::Result<Self> {
        let version = r.u8()?;
        if version != SEALED_VERSION {
            return Err(qpc_wire::Error::UnknownVersion(version));
        }
        Ok(SealedMessage {
            recipient: Address::from_bytes(r.array()?),
            enc: r.array()?,
            ciphertext: r.vl_bytes(MAX_CIPHERTEXT_LEN)?,
        })
    }
}

/// The decrypted inner message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SealedInner {
    kind: Kind,
    certificate: SenderCertificate,
    timestamp_ms: u64,
    message_id: [u8; 16],
    padded_content: Bytes,
    signature: [u8; SIGNATURE_LEN],
}

impl SealedInner {
    /// The bytes the sender signs.
    fn signed_bytes(&self, recipient: &Address, binding: &[u8]) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(16 + 1 + CERTIFICATE_LEN + 24 + 4 + self.padded_content.len() + 32);
        out.put_slice(recipient.as_bytes());
        out.put_u8(self.kind as u8);
        self.certificate.encode(&mut out).expect("fixed size");
        out.put_u64(self.timestamp_ms);
        out.put_slice(&self.message_id);
        codec::put_vl_bytes(&mut out, &self.padded_content).expect("bounded content");
        out.put_slice(binding);
        out
    }
}

impl Encode for SealedInner {
    fn encoded_len(&self) -> usize {
        1 + CERTIFICATE_LEN
            + 8
            + 16
            + codec::vl_encoded_len(self.padded_content.len())
            + SIGNATURE_LEN
    }

    fn encode(&self, out: &mut impl BufMut) -> qpc_wire::Result<()> {
        out.put_u8(self.kind as u8);
        self.certificate.encode(out)?;
        out.put_u64(self.timestamp_ms);
        out.put_slice(&self.message_id);
        codec::put_vl_bytes(out, &self.padded_content)?;
        out.put_slice(&self.signature);
        Ok(())
    }
}

impl Decode for SealedInner {
    fn decode(r: &mut Reader) -> qpc_wire::Result<Self> {
        let kind = match r.u8()? {
            0 => Kind::Message,
            1 => Kind::Decoy,
            _ => {
                return Err(qpc_wire::Error::Malformed {
                    message: "SealedInner",
                    reason: "unknown kind",
                })
            }
        };
        Ok(SealedInner {
            kind,
            certificate: SenderCertificate::decode(r)?,
            timestamp_ms: r.u64()?,
            message_id: r.array()?,
            padded_content: r.vl_bytes(MAX_CONTENT_LEN)?,
            signature: r.array()?,
        })
    }
}

fn binding(ctx: &HpkeContext) -> Result<Zeroizing<Vec<u8>>, Error> {
    ctx.export(BINDING_LABEL, 32)
}

/// The sending side: an identity and its certificate.
pub struct Sender<'a> {
    identity: &'a Identity,
    certificate: SenderCertificate,
}

impl<'a> Sender<'a> {
    /// A sender; fails if `certificate` is not for `identity`.
    pub fn new(identity: &'a Identity, certificate: SenderCertificate) -> Result<Self, Error> {
        let public = identity.public();
        if certificate.signing_key != public.signing_key().to_bytes()
            || certificate.kem_key_digest != *public.kem_key_digest()
        {
            return Err(Error::CertificateMismatch);
        }
        Ok(Sender {
            identity,
            certificate,
        })
    }

    /// Pads `content` with `padding` and seals it to `recipient`.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        recipient: &PublicIdentity,
        kind: Kind,
        timestamp_ms: u64,
        message_id: [u8; 16],
        content: &[u8],
        padding: Padding,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, Error> {
        let padded = padding::pad(padding, content)?;
        let mut eseed = Zeroizing::new([0u8; xwing::ENCAPS_RANDOMNESS_LEN]);
        rng.fill_bytes(&mut *eseed);
        self.seal_padded_derand(recipient, kind, timestamp_ms, message_id, &padded, &eseed)
    }

    /// Seals already padded content with fixed encapsulation randomness:
    /// the deterministic core of [`Sender::seal`], for test vectors.
    pub fn seal_padded_derand(
        &self,
        recipient: &PublicIdentity,
        kind: Kind,
        timestamp_ms: u64,
        message_id: [u8; 16],
        padded_content: &[u8],
        eseed: &[u8; xwing::ENCAPS_RANDOMNESS_LEN],
    ) -> Result<Vec<u8>, Error> {
        if padded_content.len() > MAX_CONTENT_LEN {
            return Err(Error::ContentTooLong {
                len: padded_content.len(),
                max: MAX_CONTENT_LEN,
            });
        }
        let address = recipient.address();
        let (enc, mut ctx) = hpke::setup_sender_derand(recipient.kem_key(), HPKE_INFO, eseed)?;
        let mut inner = SealedInner {
            kind,
            certificate: self.certificate.clone(),
            timestamp_ms,
            message_id,
            padded_content: Bytes::copy_from_slice(padded_content),
            signature: [0; SIGNATURE_LEN],
        };
        let signed = inner.signed_bytes(&address, &binding(&ctx)?);
        inner.signature = self.identity.sign(SignatureContext::SealedSender, &signed);
        let plaintext = Zeroizing::new(codec::encode_to_vec(&inner)?);
        let sealed = SealedMessage {
            recipient: address,
            enc,
            ciphertext: ctx.seal(&SealedMessage::aad(&address), &plaintext)?.into(),
        };
        Ok(codec::encode_to_vec(&sealed)?)
    }
}

/// A message that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The sender's address (from its certificate).
    pub sender: Address,
    /// The sender's Ed25519 key.
    pub sender_key: VerifyingKey,
    /// The sender's timestamp.
    pub timestamp_ms: u64,
    /// The message id.
    pub message_id: [u8; 16],
    /// The unpadded content.
    pub content: Vec<u8>,
}

/// Limits of a [`Receiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Padding schemes accepted (content padded canonically under any of
    /// them is accepted; the content is the same whichever matches).
    pub paddings: &'static [Padding],
    /// Oldest acceptable timestamp, relative to now.
    pub max_age_ms: u64,
    /// Furthest acceptable timestamp in the future (clock skew).
    pub max_skew_ms: u64,
    /// Message ids remembered for replay detection.
    pub replay_capacity: usize,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            paddings: &[Padding::Padme, Padding::Buckets(padding::LORA_BUCKETS)],
            max_age_ms: 7 * 24 * 3600 * 1000,
            max_skew_ms: 5 * 60 * 1000,
            replay_capacity: 100_000,
        }
    }
}

/// The receiving side: opens sealed messages addressed to its identity.
pub struct Receiver {
    identity: Identity,
    roots: Vec<TrustRoot>,
    config: ReceiverConfig,
    replay: ReplayWindow,
    verified: HashMap<SenderCertificate, VerifyingKey>,
}

impl core::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("identity", &self.identity)
            .field("replay", &self.replay.len())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver for `identity` trusting certificates from `roots`.
    pub fn new(identity: Identity, roots: Vec<TrustRoot>, config: ReceiverConfig) -> Self {
        Receiver {
            identity,
            roots,
            replay: ReplayWindow::new(
                config.max_age_ms,
                config.max_skew_ms,
                config.replay_capacity,
            ),
            config,
            verified: HashMap::new(),
        }
    }

    /// The receiver's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Opens `bytes` at Unix time `now_ms`. Returns `Ok(None)` for a valid
    /// decoy (discarded silently), `Ok(Some(..))` for a message. Checks, in
    /// order: layout, recipient, decryption, inner layout, certificate,
    /// sender signature, timestamp and replay, padding.
    pub fn open(&mut self, now_ms: u64, bytes: &[u8]) -> Result<Option<Opened>, Error> {
        let sealed: SealedMessage = codec::decode_exact(Bytes::copy_from_slice(bytes))?;
        if sealed.recipient != self.identity.public().address() {
            return Err(Error::WrongRecipient);
        }
        let mut ctx = hpke::setup_receiver(self.identity.kem_secret(), &sealed.enc, HPKE_INFO)?;
        let plaintext = ctx.open(&SealedMessage::aad(&sealed.recipient), &sealed.ciphertext)?;
        let inner: SealedInner = codec::decode_exact(Bytes::copy_from_slice(&plaintext))?;
        let sender_key = self.verify_certificate(&inner.certificate, now_ms)?;
        let signed = inner.signed_bytes(&sealed.recipient, &binding(&ctx)?);
        identity::verify(
            &sender_key,
            SignatureContext::SealedSender,
            &signed,
            &inner.signature,
        )?;
        let sender = inner.certificate.sender_address();
        self.replay
            .check(now_ms, inner.timestamp_ms, sender, inner.message_id)?;
        let content = self
            .config
            .paddings
            .iter()
            .find_map(|&scheme| padding::unpad(scheme, &inner.padded_content).ok())
            .ok_or(Error::BadPadding("not padded under an accepted scheme"))?
            .to_vec();
        self.replay
            .record(now_ms, inner.timestamp_ms, sender, inner.message_id);
        Ok((inner.kind == Kind::Message).then_some(Opened {
            sender,
            sender_key,
            timestamp_ms: inner.timestamp_ms,
            message_id: inner.message_id,
            content,
        }))
    }

    /// Verifies a certificate, remembering verified ones (bounded): most
    /// messages come from senders seen before.
    fn verify_certificate(
        &mut self,
        cert: &SenderCertificate,
        now_ms: u64,
    ) -> Result<VerifyingKey, Error> {
        if let Some(key) = self.verified.get(cert) {
            if now_ms >= cert.expires_ms {
                return Err(Error::ExpiredCertificate {
                    expires_ms: cert.expires_ms,
                    now_ms,
                });
            }
            return Ok(*key);
        }
        let key = cert.verify(&self.roots, now_ms)?;
        if self.verified.len() >= CERT_CACHE_LEN {
            self.verified.clear();
        }
        self.verified.insert(cert.clone(), key);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::Issuer;

    struct World {
        issuer: Issuer,
        alice: Identity,
        bob: Receiver,
    }

    fn world() -> World {
        let issuer = Issuer::from_seed(&[9; 32]);
        let bob = Receiver::new(
            Identity::from_seeds(&[3; 32], &[4; 32]),
            vec![issuer.trust_root().clone()],
            ReceiverConfig::default(),
        );
        World {
            issuer,
            alice: Identity::from_seeds(&[1; 32], &[2; 32]),
            bob,
        }
    }

    const NOW: u64 = 1_700_000_000_000;

    fn seal(w: &World, kind: Kind, id: u8, content: &[u8]) -> Vec<u8> {
        let cert = w.issuer.issue(w.alice.public(), NOW + 1000);
        let sender = Sender::new(&w.alice, cert).unwrap();
        let padded = padding::pad(Padding::Padme, content).unwrap();
        let bob = w.bob.identity().public().clone();
        sender
            .seal_padded_derand(&bob, kind, NOW, [id; 16], &padded, &[id; 64])
            .unwrap()
    }

    #[test]
    fn round_trip_decoy_and_replay() {
        let mut w = world();
        let msg = seal(&w, Kind::Message, 1, b"hello bob");
        let opened = w.bob.open(NOW, &msg).unwrap().unwrap();
        assert_eq!(opened.content, b"hello bob");
        assert_eq!(opened.sender, w.alice.public().address());
        assert_eq!(w.bob.open(NOW, &msg).unwrap_err(), Error::Replayed);
        let decoy = seal(&w, Kind::Decoy, 2, b"cover");
        assert_eq!(decoy.len(), seal(&w, Kind::Message, 3, b"cover").len());
        assert_eq!(w.bob.open(NOW, &decoy).unwrap(), None);
    }

    #[test]
    fn lora_padding_is_accepted_and_oversized_content_refused() {
        let mut w = world();
        let cert = w.issuer.issue(w.alice.public(), NOW + 1000);
        let sender = Sender::new(&w.alice, cert).unwrap();
        let bob = w.bob.identity().public().clone();
        let padded = padding::pad(Padding::Buckets(padding::LORA_BUCKETS), b"on air").unwrap();
        let msg = sender
            .seal_padded_derand(&bob, Kind::Message, NOW, [7; 16], &padded, &[7; 64])
            .unwrap();
        assert_eq!(w.bob.open(NOW, &msg).unwrap().unwrap().content, b"on air");
        let huge = vec![0; MAX_CONTENT_LEN + 1];
        let err = sender
            .seal_padded_derand(&bob, Kind::Message, NOW, [8; 16], &huge, &[8; 64])
            .unwrap_err();
        assert_eq!(err.class(), "content_too_long");
    }

    #[test]
    fn every_check_fires() {
        let mut w = world();
        let msg = seal(&w, Kind::Message, 1, b"x");
        assert_eq!(
            w.bob.open(NOW + 1000, &msg).unwrap_err().class(),
            "expired_certificate"
        );
        let mut other = Receiver::new(
            Identity::from_seeds(&[3; 32], &[4; 32]),
            vec![],
            ReceiverConfig::default(),
        );
        assert_eq!(other.open(NOW, &msg).unwrap_err().class(), "unknown_issuer");
        let mut carol = Receiver::new(
            Identity::from_seeds(&[5; 32], &[6; 32]),
            vec![],
            ReceiverConfig::default(),
        );
        assert_eq!(
            carol.open(NOW, &msg).unwrap_err().class(),
            "wrong_recipient"
        );
        for i in [0, 17, 17 + 1120 + 2, msg.len() - 1] {
            let mut flipped = msg.clone();
            flipped[i] ^= 0x01;
            assert!(w.bob.open(NOW, &flipped).is_err(), "flip at {i}");
        }
        assert_eq!(
            w.bob.open(NOW, &msg[..msg.len() - 1]).unwrap_err().class(),
            "truncated"
        );
        let mut extended = msg.clone();
        extended.push(0);
        assert_eq!(
            w.bob.open(NOW, &extended).unwrap_err().class(),
            "trailing_bytes"
        );
        assert_eq!(
            w.bob
                .open(NOW + 8 * 24 * 3600 * 1000, &msg)
                .unwrap_err()
                .class(),
            "expired_certificate"
        );
    }
}
