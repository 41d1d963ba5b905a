//! Authenticated broadcast channels (`spec/10-mesh.md` §13): a symmetric
//! [`ChannelKey`] names its channel ([`ChannelId`]) and seals
//! [`ChannelPacket`]s (message type `0x9`) with ChaCha20-Poly1305; a
//! sender may also sign the content with its identity.
//!
//! ```text
//! body       nonce_extension[8] || ciphertext (plaintext + 16-byte tag)
//! nonce      message_id (uint32) || nonce_extension
//! aad        version|type byte || hop_limit || destination[16] || message_id
//! plaintext  sender[16] || flags || content [|| signature[64] if flags bit 0]
//! ```
//!
//! ```
//! use qpc_crypto::identity::Identity;
//! use qpc_mesh::channel::{Channel, ChannelKey};
//! use rand_chacha::rand_core::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
//! let channel = Channel::new(&ChannelKey::from_bytes([9; 32]));
//! let packet = channel.seal(&alice, b"hello", true, 7, &mut rng)?;
//! let key = *alice.public().signing_key().as_bytes();
//! let opened = channel.open(&packet, |_| Some(key))?;
//! assert_eq!((&opened.content[..], opened.sender_verified), (&b"hello"[..], true));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

use std::collections::VecDeque;

use bytes::Bytes;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use qpc_crypto::identity::{self, Address, Identity, SignatureContext, SIGNATURE_LEN};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::envelope::{Envelope, Header, MessageType, HEADER_LEN, VERSION};
use crate::node::MIN_MTU;
use crate::{Error, Result};

/// Length of a [`ChannelKey`].
pub const CHANNEL_KEY_LEN: usize = 32;
/// Length of a [`ChannelId`].
pub const CHANNEL_ID_LEN: usize = 16;
/// Length of the random nonce extension in front of the ciphertext.
pub const NONCE_EXTENSION_LEN: usize = 8;
/// Length of the Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Plaintext bytes before the content: sender address and flags.
pub const PLAINTEXT_PREFIX_LEN: usize = 16 + 1;
/// Flags bit 0: the plaintext ends with the sender's signature.
pub const FLAG_SIGNED: u8 = 0x01;
/// The largest plaintext: what fits [`MIN_MTU`] behind a relayed (30-byte)
/// header, the nonce extension and the tag: 172 − 30 − 8 − 16 = 118.
pub const MAX_PLAINTEXT_LEN: usize =
    MIN_MTU - HEADER_LEN - crate::envelope::HOP_ID_LEN - NONCE_EXTENSION_LEN - TAG_LEN;
/// The longest unsigned content: 118 − 17 = 101 bytes.
pub const MAX_UNSIGNED_CONTENT_LEN: usize = MAX_PLAINTEXT_LEN - PLAINTEXT_PREFIX_LEN;
/// The longest signed content: 101 − 64 = 37 bytes.
pub const MAX_SIGNED_CONTENT_LEN: usize = MAX_UNSIGNED_CONTENT_LEN - SIGNATURE_LEN;
/// The shortest body: nonce extension, tag and an empty unsigned plaintext.
pub const MIN_BODY_LEN: usize = NONCE_EXTENSION_LEN + TAG_LEN + PLAINTEXT_PREFIX_LEN;
/// The longest body (142 bytes).
pub const MAX_BODY_LEN: usize = NONCE_EXTENSION_LEN + TAG_LEN + MAX_PLAINTEXT_LEN;

const ID_LABEL: &[u8] = b"qpc mesh channel id v1";
const AEAD_LABEL: &[u8] = b"qpc mesh channel aead v1";

/// A channel's 32-byte secret, shared out of band by its members. Zeroized
/// on drop; `Debug` shows the channel id only.
#[derive(Clone)]
pub struct ChannelKey(Zeroizing<[u8; CHANNEL_KEY_LEN]>);

impl ChannelKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; CHANNEL_KEY_LEN]) -> Self {
        ChannelKey(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut key = Zeroizing::new([0; CHANNEL_KEY_LEN]);
        rng.fill_bytes(key.as_mut());
        ChannelKey(key)
    }

    /// The key bytes (to share with a new member).
    pub fn as_bytes(&self) -> &[u8; CHANNEL_KEY_LEN] {
        &self.0
    }

    /// The channel id: SHA-256("qpc mesh channel id v1" || key)[..16].
    pub fn id(&self) -> ChannelId {
        let digest = Sha256::new()
            .chain_update(ID_LABEL)
            .chain_update(self.0.as_ref())
            .finalize();
        ChannelId(digest[..CHANNEL_ID_LEN].try_into().expect("16 of 32 bytes"))
    }

    /// The AEAD key: SHA-256("qpc mesh channel aead v1" || key).
    fn aead_key(&self) -> Zeroizing<[u8; 32]> {
        let digest = Sha256::new()
            .chain_update(AEAD_LABEL)
            .chain_update(self.0.as_ref())
            .finalize();
        Zeroizing::new(digest.into())
    }
}

impl core::fmt::Debug for ChannelKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ChannelKey(id {:02x?})", self.id().0)
    }
}

/// A channel's public name: the envelope destination of its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub [u8; CHANNEL_ID_LEN]);

impl ChannelId {
    /// The id as an envelope destination.
    pub fn as_address(&self) -> Address {
        Address::from_bytes(self.0)
    }

    /// The id an envelope destination names.
    pub fn of_address(address: &Address) -> Self {
        ChannelId(*address.as_bytes())
    }
}

/// A channel message as relays see it: header, nonce extension and
/// ciphertext (checked for length only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPacket {
    /// The envelope header (type `Channel`, destination the channel id).
    pub header: Header,
    /// The random nonce extension.
    pub nonce_extension: [u8; NONCE_EXTENSION_LEN],
    /// Ciphertext and tag, 33..=134 bytes.
    pub ciphertext: Bytes,
}

impl ChannelPacket {
    /// Checks the body length (C1) and splits it.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let body = envelope.body;
        if body.len() < MIN_BODY_LEN {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        if body.len() > MAX_BODY_LEN {
            return Err(Error::ContentTooLong {
                len: body.len(),
                max: MAX_BODY_LEN,
            });
        }
        let nonce_extension = body[..NONCE_EXTENSION_LEN]
            .try_into()
            .expect("checked length");
        Ok(ChannelPacket {
            header: envelope.header,
            nonce_extension,
            ciphertext: body.slice(NONCE_EXTENSION_LEN..),
        })
    }

    /// The datagram.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(NONCE_EXTENSION_LEN + self.ciphertext.len());
        body.extend_from_slice(&self.nonce_extension);
        body.extend_from_slice(&self.ciphertext);
        Envelope {
            header: self.header.clone(),
            body: body.into(),
        }
        .to_bytes()
    }
}

/// An opened channel message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMessage {
    /// The sender's address as the plaintext claims it (any member can
    /// claim any address unless `sender_verified`).
    pub sender: Address,
    /// Whether the message was signed.
    pub signed: bool,
    /// Whether the signature verified under the sender's known key.
    pub sender_verified: bool,
    /// The content.
    pub content: Bytes,
}

/// A joined channel: its id and AEAD key.
pub struct Channel {
    id: ChannelId,
    aead: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for Channel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Channel(id {:02x?})", self.id.0)
    }
}

impl Channel {
    /// The channel of `key` (the id and AEAD key are derived once).
    pub fn new(key: &ChannelKey) -> Self {
        Channel {
            id: key.id(),
            aead: key.aead_key(),
        }
    }

    /// The channel id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// Seals `content` from `sender` (hop limit `hop_limit`, a random
    /// message id and nonce extension), signed if `signed`.
    pub fn seal(
        &self,
        sender: &Identity,
        content: &[u8],
        signed: bool,
        hop_limit: u8,
        rng: &mut impl CryptoRng,
    ) -> Result<ChannelPacket> {
        let message_id = rng.next_u32();
        let mut nonce_extension = [0; NONCE_EXTENSION_LEN];
        rng.fill_bytes(&mut nonce_extension);
        self.seal_with(
            sender,
            content,
            signed,
            hop_limit,
            message_id,
            nonce_extension,
        )
    }

    /// [`Channel::seal`] with the message id and nonce extension given:
    /// for test vectors only, both MUST otherwise be fresh random values
    /// (a repeated pair under one key repeats the ChaCha20 nonce).
    pub fn seal_with(
        &self,
        sender: &Identity,
        content: &[u8],
        signed: bool,
        hop_limit: u8,
        message_id: u32,
        nonce_extension: [u8; NONCE_EXTENSION_LEN],
    ) -> Result<ChannelPacket> {
        let max = if signed {
            MAX_SIGNED_CONTENT_LEN
        } else {
            MAX_UNSIGNED_CONTENT_LEN
        };
        if content.len() > max {
            return Err(Error::ContentTooLong {
                len: content.len(),
                max,
            });
        }
        let header = Header {
            message_type: MessageType::Channel,
            hop_count: 0,
            hop_limit,
            destination: self.id.as_address(),
            message_id,
            hop_id: None,
        };
        let flags = if signed { FLAG_SIGNED } else { 0 };
        let mut plaintext = Vec::with_capacity(MAX_PLAINTEXT_LEN + TAG_LEN);
        plaintext.extend_from_slice(sender.public().address().as_bytes());
        plaintext.push(flags);
        plaintext.extend_from_slice(content);
        if signed {
            let signed_bytes = signed_bytes(
                &self.id,
                header.message_id,
                &nonce_extension,
                flags,
                content,
            );
            plaintext.extend_from_slice(&sender.sign(SignatureContext::MeshChannel, &signed_bytes));
        }
        let tag = self
            .cipher()
            .encrypt_in_place_detached(
                &nonce(header.message_id, &nonce_extension),
                &associated_data(&header)?,
                &mut plaintext,
            )
            .map_err(|_| Error::InvalidConfig("channel message too long for ChaCha20-Poly1305"))?;
        plaintext.extend_from_slice(&tag);
        Ok(ChannelPacket {
            header,
            nonce_extension,
            ciphertext: plaintext.into(),
        })
    }

    /// Opens a packet of this channel (checks C2–C6 of §13.4).
    /// `signing_key` gives the Ed25519 key known for a sender address, if
    /// any; a signed message from a sender without a known key opens with
    /// `sender_verified == false`.
    pub fn open(
        &self,
        packet: &ChannelPacket,
        signing_key: impl FnOnce(&Address) -> Option<[u8; 32]>,
    ) -> Result<ChannelMessage> {
        let header = &packet.header;
        if header.message_type != MessageType::Channel || header.destination != self.id.as_address()
        {
            return Err(Error::Malformed {
                message: "channel message",
                reason: "not a message of this channel",
            });
        }
        let ciphertext = &packet.ciphertext;
        let split = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Wire(qpc_wire::Error::Truncated))?;
        let mut plaintext = ciphertext[..split].to_vec();
        self.cipher()
            .decrypt_in_place_detached(
                &nonce(header.message_id, &packet.nonce_extension),
                &associated_data(header)?,
                &mut plaintext,
                Tag::from_slice(&ciphertext[split..]),
            )
            .map_err(|_| Error::OpenFailed)?;
        if plaintext.len() < PLAINTEXT_PREFIX_LEN {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        let sender = Address::from_bytes(plaintext[..16].try_into().expect("16 bytes"));
        let flags = plaintext[16];
        if flags & !FLAG_SIGNED != 0 {
            return Err(Error::Malformed {
                message: "channel message",
                reason: "reserved flag bits set",
            });
        }
        let signed = flags & FLAG_SIGNED != 0;
        let plaintext = Bytes::from(plaintext);
        let content_end = if signed {
            plaintext
                .len()
                .checked_sub(SIGNATURE_LEN)
                .filter(|&end| end >= PLAINTEXT_PREFIX_LEN)
                .ok_or(Error::Malformed {
                    message: "channel message",
                    reason: "signed flag without a signature",
                })?
        } else {
            plaintext.len()
        };
        let content = plaintext.slice(PLAINTEXT_PREFIX_LEN..content_end);
        let mut sender_verified = false;
        if signed {
            if let Some(key) = signing_key(&sender) {
                let key = identity::parse_signing_key(&key)?;
                let message = signed_bytes(
                    &self.id,
                    header.message_id,
                    &packet.nonce_extension,
                    flags,
                    &content,
                );
                identity::verify(
                    &key,
                    SignatureContext::MeshChannel,
                    &message,
                    &plaintext[content_end..],
                )?;
                sender_verified = true;
            }
        }
        Ok(ChannelMessage {
            sender,
            signed,
            sender_verified,
            content,
        })
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(self.aead.as_ref().into())
    }
}

/// A joined channel and its bounded window of recently delivered
/// `(sender, message_id)` pairs, which refuses replays that the duplicate
/// filter has forgotten.
#[derive(Debug)]
pub struct Membership {
    channel: Channel,
    recent: VecDeque<(Address, u32)>,
    window: usize,
}

impl Membership {
    /// Membership of `key`'s channel remembering `window` (at least 1)
    /// deliveries.
    pub fn new(key: &ChannelKey, window: usize) -> Result<Self> {
        if window == 0 {
            return Err(Error::InvalidConfig("channel replay window at least 1"));
        }
        Ok(Membership {
            channel: Channel::new(key),
            recent: VecDeque::with_capacity(window),
            window,
        })
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Opens `packet` ([`Channel::open`]) and refuses a `(sender,
    /// message_id)` already in the window with `replayed` (C7).
    pub fn receive(
        &mut self,
        packet: &ChannelPacket,
        signing_key: impl FnOnce(&Address) -> Option<[u8; 32]>,
    ) -> Result<ChannelMessage> {
        let message = self.channel.open(packet, signing_key)?;
        let entry = (message.sender, packet.header.message_id);
        if self.recent.contains(&entry) {
            return Err(Error::Replayed);
        }
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
        Ok(message)
    }
}

/// The nonce: message id (big-endian) then the extension.
fn nonce(message_id: u32, extension: &[u8; NONCE_EXTENSION_LEN]) -> Nonce {
    let mut nonce = Nonce::default();
    nonce[..4].copy_from_slice(&message_id.to_be_bytes());
    nonce[4..].copy_from_slice(extension);
    nonce
}

/// The associated data: the header fields relays do not change (the first
/// byte without the hop id flag, the hop limit, destination, message id).
pub fn associated_data(header: &Header) -> Result<[u8; HEADER_LEN]> {
    let out = header.originated()?;
    debug_assert_eq!(out[0], VERSION << 5 | MessageType::Channel.code());
    Ok(out)
}

/// The bytes the sender signs: channel id, message id, nonce extension,
/// flags and content.
pub fn signed_bytes(
    id: &ChannelId,
    message_id: u32,
    nonce_extension: &[u8; NONCE_EXTENSION_LEN],
    flags: u8,
    content: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(CHANNEL_ID_LEN + 4 + NONCE_EXTENSION_LEN + 1 + content.len());
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&message_id.to_be_bytes());
    out.extend_from_slice(nonce_extension);
    out.push(flags);
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::HopId;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::from_seed([3; 32])
    }

    fn alice() -> Identity {
        Identity::from_seeds(&[1; 32], &[2; 32])
    }

    fn key_of(id: &Identity) -> [u8; 32] {
        *id.public().signing_key().as_bytes()
    }

    #[test]
    fn budget_fits_the_smallest_mtu() {
        assert_eq!(
            (MAX_UNSIGNED_CONTENT_LEN, MAX_SIGNED_CONTENT_LEN),
            (101, 37)
        );
        let channel = Channel::new(&ChannelKey::from_bytes([5; 32]));
        let sender = alice();
        for (signed, len) in [(false, 101), (true, 37)] {
            let mut packet = channel
                .seal(&sender, &vec![0xaa; len], signed, 15, &mut rng())
                .unwrap();
            packet.header = packet.header.relayed(Some(HopId([1; 8]))).unwrap();
            assert_eq!(packet.to_bytes().unwrap().len(), MIN_MTU);
            let too_long = channel.seal(&sender, &vec![0; len + 1], signed, 15, &mut rng());
            assert_eq!(too_long.unwrap_err().class(), "content_too_long");
        }
    }

    #[test]
    fn relays_may_change_hop_fields_but_nothing_else() {
        let channel = Channel::new(&ChannelKey::from_bytes([5; 32]));
        let sender = alice();
        let packet = channel.seal(&sender, b"hi", false, 7, &mut rng()).unwrap();
        let mut relayed = packet.clone();
        relayed.header = packet.header.relayed(Some(HopId([4; 8]))).unwrap();
        let opened = channel.open(&relayed, |_| None).unwrap();
        assert_eq!(opened.sender, sender.public().address());
        assert!(!opened.signed && !opened.sender_verified);
        let mut limit = packet.clone();
        limit.header.hop_limit = 8;
        assert_eq!(
            channel.open(&limit, |_| None).unwrap_err().class(),
            "open_failed"
        );
        let other = Channel::new(&ChannelKey::from_bytes([6; 32]));
        assert_eq!(
            other.open(&packet, |_| None).unwrap_err().class(),
            "malformed"
        );
    }

    #[test]
    fn signatures_verify_only_under_the_senders_key() {
        let channel = Channel::new(&ChannelKey::from_bytes([5; 32]));
        let (sender, mallory) = (alice(), Identity::from_seeds(&[8; 32], &[9; 32]));
        let packet = channel
            .seal(&sender, b"signed", true, 7, &mut rng())
            .unwrap();
        let opened = channel.open(&packet, |_| Some(key_of(&sender))).unwrap();
        assert!(opened.signed && opened.sender_verified);
        assert!(!channel.open(&packet, |_| None).unwrap().sender_verified);
        let wrong = channel.open(&packet, |_| Some(key_of(&mallory)));
        assert_eq!(wrong.unwrap_err().class(), "bad_signature");
    }

    #[test]
    fn the_window_refuses_replays_until_they_fall_out() {
        let key = ChannelKey::from_bytes([5; 32]);
        let mut member = Membership::new(&key, 1).unwrap();
        let mut r = rng();
        let first = member
            .channel()
            .seal(&alice(), b"1", false, 3, &mut r)
            .unwrap();
        let second = member
            .channel()
            .seal(&alice(), b"2", false, 3, &mut r)
            .unwrap();
        assert!(member.receive(&first, |_| None).is_ok());
        assert_eq!(
            member.receive(&first, |_| None).unwrap_err().class(),
            "replayed"
        );
        assert!(member.receive(&second, |_| None).is_ok());
        assert!(
            member.receive(&first, |_| None).is_ok(),
            "pushed out of a window of 1"
        );
        assert!(Membership::new(&key, 0).is_err());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let key = ChannelKey::from_bytes([0x5a; 32]);
        let shown = format!("{key:?} {:?}", Channel::new(&key));
        assert!(!shown.contains("5a, 5a"), "{shown}");
    }

    proptest! {
        #[test]
        fn seal_open_and_packets_round_trip(
            content in proptest::collection::vec(any::<u8>(), 0..=MAX_SIGNED_CONTENT_LEN),
            signed in any::<bool>(),
            seed in any::<[u8; 32]>(),
            hops in 0u8..=15,
        ) {
            let channel = Channel::new(&ChannelKey::from_bytes(seed));
            let sender = alice();
            let mut r = rand_chacha::ChaCha20Rng::from_seed(seed);
            let packet = channel.seal(&sender, &content, signed, hops, &mut r).unwrap();
            let bytes = packet.to_bytes().unwrap();
            let decoded = ChannelPacket::from_envelope(Envelope::decode(bytes.into()).unwrap()).unwrap();
            prop_assert_eq!(&decoded, &packet);
            let opened = channel.open(&decoded, |_| Some(key_of(&sender))).unwrap();
            prop_assert_eq!(&opened.content[..], &content[..]);
            prop_assert_eq!(opened.sender_verified, signed);
        }

        #[test]
        fn hostile_bodies_never_open(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let channel = Channel::new(&ChannelKey::from_bytes([5; 32]));
            let header = Header {
                message_type: MessageType::Channel,
                hop_count: 0,
                hop_limit: 3,
                destination: channel.id().as_address(),
                message_id: 1,
                hop_id: None,
            };
            let envelope = Envelope { header, body: body.into() };
            if let Ok(packet) = ChannelPacket::from_envelope(envelope) {
                prop_assert_eq!(channel.open(&packet, |_| None).unwrap_err().class(), "open_failed");
            }
        }
    }
}
