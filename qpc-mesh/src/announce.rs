//! Signed announces (`spec/10-mesh.md` §4): an identity proves that it owns
//! its address with its Ed25519 key and the SHA-256 digest of its X-Wing key
//! (`spec/02` §4), under a sequence number, in 152 bytes (160 relayed).
//!
//! ```text
//! AnnounceBody (130 bytes)
//!   uint8  cost             sum of link costs so far (not signed)
//!   uint8  capabilities     signed
//!   opaque signing_key[32]
//!   opaque kem_key_digest[32]
//!   opaque signature[64]    over address || sequence || capabilities || kem_key_digest
//! ```

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::{self, Address, Identity, SignatureContext, SIGNATURE_LEN};
use qpc_wire::codec::Reader;

use crate::envelope::{Envelope, Header, HopId, MessageType};
use crate::{Error, Result};

/// Length of an [`AnnounceBody`](self) on the wire.
pub const ANNOUNCE_BODY_LEN: usize = 1 + 1 + 32 + 32 + SIGNATURE_LEN;
/// Length of the message under the announce signature (before the label).
pub const SIGNED_MESSAGE_LEN: usize = 16 + 4 + 1 + 32;
/// The context of announce signatures.
pub const CONTEXT: SignatureContext = SignatureContext::MeshAnnounce;

/// The capability flags of an announce (§4.3). Unknown bits are carried and
/// signed but mean nothing to this version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(pub u8);

impl Capabilities {
    /// The node relays messages for others.
    pub const TRANSPORT: u8 = 0x01;
    /// The node serves its `PublicIdentity` (with the X-Wing key) on request.
    pub const SERVES_KEM_KEY: u8 = 0x02;
    /// The node takes custody of messages for others (store-and-forward).
    pub const STORE: u8 = 0x04;

    /// Whether every bit of `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag == flag
    }
}

/// An announce whose address binding and signature have been checked (or
/// that was just signed). Only [`Announce::sign`] and [`UncheckedAnnounce::verify`]
/// make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    address: Address,
    sequence: u32,
    capabilities: Capabilities,
    signing_key: [u8; 32],
    kem_key_digest: [u8; 32],
    signature: [u8; SIGNATURE_LEN],
}

/// The fields of an announce as read from the wire, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedAnnounce {
    /// The address it claims (the envelope's destination).
    pub address: Address,
    /// The sequence number.
    pub sequence: u32,
    /// The capability flags.
    pub capabilities: Capabilities,
    /// The Ed25519 public key.
    pub signing_key: [u8; 32],
    /// SHA-256 of the X-Wing public key.
    pub kem_key_digest: [u8; 32],
    /// The signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// The bytes under the signature (after the context label, `spec/02` §6.1).
pub fn signed_message(
    address: &Address,
    sequence: u32,
    capabilities: Capabilities,
    kem_key_digest: &[u8; 32],
) -> [u8; SIGNED_MESSAGE_LEN] {
    let mut out = [0; SIGNED_MESSAGE_LEN];
    out[..16].copy_from_slice(address.as_bytes());
    out[16..20].copy_from_slice(&sequence.to_be_bytes());
    out[20] = capabilities.0;
    out[21..].copy_from_slice(kem_key_digest);
    out
}

impl UncheckedAnnounce {
    /// Whether every field equals `known`'s (then it needs no new check).
    pub fn is(&self, known: &Announce) -> bool {
        self.address == known.address
            && self.sequence == known.sequence
            && self.capabilities == known.capabilities
            && self.signing_key == known.signing_key
            && self.kem_key_digest == known.kem_key_digest
            && self.signature == known.signature
    }

    /// Applies the checks of §4.5 in order: the address binding
    /// (`address_mismatch`), the signing key (`invalid_public_key`), the
    /// signature (`bad_signature`).
    pub fn verify(self) -> Result<Announce> {
        if Address::derive(&self.signing_key, &self.kem_key_digest) != self.address {
            return Err(Error::AddressMismatch);
        }
        let key = identity::parse_signing_key(&self.signing_key)?;
        let message = signed_message(
            &self.address,
            self.sequence,
            self.capabilities,
            &self.kem_key_digest,
        );
        identity::verify(&key, CONTEXT, &message, &self.signature)?;
        Ok(Announce {
            address: self.address,
            sequence: self.sequence,
            capabilities: self.capabilities,
            signing_key: self.signing_key,
            kem_key_digest: self.kem_key_digest,
            signature: self.signature,
        })
    }
}

impl Announce {
    /// `identity`'s announce with `sequence` and `capabilities`.
    pub fn sign(identity: &Identity, sequence: u32, capabilities: Capabilities) -> Self {
        let public = identity.public();
        let address = public.address();
        let kem_key_digest = *public.kem_key_digest();
        let message = signed_message(&address, sequence, capabilities, &kem_key_digest);
        Announce {
            address,
            sequence,
            capabilities,
            signing_key: *public.signing_key().as_bytes(),
            kem_key_digest,
            signature: identity.sign(CONTEXT, &message),
        }
    }

    /// The announced address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The sequence number.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The capability flags.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// The Ed25519 public key.
    pub fn signing_key(&self) -> &[u8; 32] {
        &self.signing_key
    }

    /// SHA-256 of the X-Wing public key: a fetched `PublicIdentity` must
    /// match it.
    pub fn kem_key_digest(&self) -> &[u8; 32] {
        &self.kem_key_digest
    }

    /// The signature.
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// Appends the 130-byte `AnnounceBody` with the given `cost`.
    pub(crate) fn encode_body(&self, cost: u8, out: &mut impl BufMut) {
        out.put_u8(cost);
        out.put_u8(self.capabilities.0);
        out.put_slice(&self.signing_key);
        out.put_slice(&self.kem_key_digest);
        out.put_slice(&self.signature);
    }
}

/// Reads an `AnnounceBody` for `address` and `sequence`: the cost and the
/// unchecked announce.
pub(crate) fn read_body(
    r: &mut Reader,
    address: Address,
    sequence: u32,
) -> Result<(u8, UncheckedAnnounce)> {
    let cost = r.u8()?;
    let capabilities = Capabilities(r.u8()?);
    let signing_key = r.array()?;
    let kem_key_digest = r.array()?;
    let signature = r.array()?;
    Ok((
        cost,
        UncheckedAnnounce {
            address,
            sequence,
            capabilities,
            signing_key,
            kem_key_digest,
            signature,
        },
    ))
}

/// An announce in its envelope: the header (destination = address,
/// `message_id` = sequence, `hop_id` = transmitter) and the cost so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncePacket {
    /// Hops so far and the hop limit.
    pub hop_count: u8,
    /// The most relays the announce may cross.
    pub hop_limit: u8,
    /// The node that transmitted it, if named.
    pub transmitter: Option<HopId>,
    /// Sum of the link costs the announce crossed before this transmission.
    pub cost: u8,
    /// The verified announce.
    pub announce: Announce,
}

impl AnnouncePacket {
    /// The envelope header of this packet.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::Announce,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.announce.address,
            message_id: self.announce.sequence,
            hop_id: self.transmitter,
        }
    }

    /// The copy a relay transmits (§5.3): one more hop, `cost` = the relay's
    /// metric for the destination, `transmitter` = the relay's hop id on a
    /// shared link. `None` when the hop limit is reached.
    pub fn relayed(&self, metric: u8, transmitter: Option<HopId>) -> Option<Self> {
        (self.hop_count < self.hop_limit).then(|| AnnouncePacket {
            hop_count: self.hop_count + 1,
            cost: metric,
            transmitter,
            ..self.clone()
        })
    }

    /// Decodes and verifies the body of an envelope of type Announce
    /// (§4.5, steps after the header).
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        Self::from_envelope_known(envelope, None)
    }

    /// Like [`AnnouncePacket::from_envelope`], but a copy whose signed fields
    /// equal those of `known` (an announce verified before, e.g. the routing
    /// table's) is accepted without checking A2–A4 again (§7.1).
    pub fn from_envelope_known(envelope: Envelope, known: Option<&Announce>) -> Result<Self> {
        let Envelope { header, body } = envelope;
        let mut r = Reader::new(body);
        let (cost, unchecked) = read_body(&mut r, header.destination, header.message_id)?;
        r.finish()?;
        let announce = match known {
            Some(known) if unchecked.is(known) => known.clone(),
            _ => unchecked.verify()?,
        };
        Ok(AnnouncePacket {
            hop_count: header.hop_count,
            hop_limit: header.hop_limit,
            transmitter: header.hop_id,
            cost,
            announce,
        })
    }

    /// Decodes and verifies a whole datagram that must be an announce.
    pub fn decode(bytes: Bytes) -> Result<Self> {
        let envelope = Envelope::decode(bytes)?;
        if envelope.header.message_type != MessageType::Announce {
            return Err(Error::Malformed {
                message: "announce",
                reason: "the envelope holds another message type",
            });
        }
        Self::from_envelope(envelope)
    }

    /// The datagram: 152 bytes, or 160 with a transmitter.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len() + ANNOUNCE_BODY_LEN);
        header.encode(&mut out)?;
        self.announce.encode_body(self.cost, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::HEADER_LEN;
    use proptest::prelude::*;

    fn alice() -> Identity {
        Identity::from_seeds(&[1; 32], &[2; 32])
    }

    fn packet(transmitter: Option<HopId>) -> AnnouncePacket {
        AnnouncePacket {
            hop_count: 0,
            hop_limit: 7,
            transmitter,
            cost: 0,
            announce: Announce::sign(&alice(), 42, Capabilities(Capabilities::TRANSPORT)),
        }
    }

    #[test]
    fn sizes_meet_the_budget() {
        assert_eq!(ANNOUNCE_BODY_LEN, 130);
        assert_eq!(packet(None).to_bytes().unwrap().len(), HEADER_LEN + 130);
        assert_eq!(packet(Some(HopId([3; 8]))).to_bytes().unwrap().len(), 160);
    }

    #[test]
    fn round_trip_verifies() {
        let p = packet(Some(HopId([3; 8])));
        let bytes = p.to_bytes().unwrap();
        assert_eq!(AnnouncePacket::decode(bytes.into()).unwrap(), p);
    }

    #[test]
    fn each_check_has_its_class() {
        let bytes = packet(None).to_bytes().unwrap();
        let class = |b: Vec<u8>| AnnouncePacket::decode(b.into()).unwrap_err().class();
        let mut wrong_address = bytes.clone();
        wrong_address[2] ^= 1;
        assert_eq!(class(wrong_address), "address_mismatch");
        let mut wrong_sequence = bytes.clone();
        wrong_sequence[21] ^= 1;
        assert_eq!(class(wrong_sequence), "bad_signature");
        let mut wrong_caps = bytes.clone();
        wrong_caps[HEADER_LEN + 1] ^= 0x80;
        assert_eq!(class(wrong_caps), "bad_signature");
        let mut cost_changed = bytes.clone();
        cost_changed[HEADER_LEN] = 9;
        assert!(
            AnnouncePacket::decode(cost_changed.into()).is_ok(),
            "cost is not signed"
        );
        assert_eq!(class(bytes[..bytes.len() - 1].to_vec()), "truncated");
        assert_eq!(class([&bytes[..], &[0]].concat()), "trailing_bytes");
    }

    #[test]
    fn relaying_adds_a_hop_and_sets_cost_and_transmitter() {
        let p = packet(None);
        let r = p.relayed(9, Some(HopId([5; 8]))).unwrap();
        assert_eq!(
            (r.hop_count, r.cost, r.transmitter),
            (1, 9, Some(HopId([5; 8])))
        );
        assert_eq!(r.announce, p.announce, "the signed part is untouched");
        let last = AnnouncePacket { hop_count: 7, ..p };
        assert!(last.relayed(9, None).is_none());
    }

    #[test]
    fn a_known_announce_is_not_verified_again_but_a_changed_one_is() {
        let p = packet(None);
        let known = p.announce.clone();
        let mut cheaper = p.clone();
        cheaper.cost = 0;
        let env = |b: Vec<u8>| Envelope::decode(b.into()).unwrap();
        let got =
            AnnouncePacket::from_envelope_known(env(cheaper.to_bytes().unwrap()), Some(&known));
        assert_eq!(got.unwrap(), cheaper);
        let mut forged = p.to_bytes().unwrap();
        forged[100] ^= 1;
        let got = AnnouncePacket::from_envelope_known(env(forged), Some(&known));
        assert_eq!(got.unwrap_err().class(), "bad_signature");
    }

    #[test]
    fn weak_signing_key_is_refused_after_the_address_check() {
        let mut neutral = [0u8; 32];
        neutral[0] = 1;
        let digest = [7u8; 32];
        let unchecked = UncheckedAnnounce {
            address: Address::derive(&neutral, &digest),
            sequence: 1,
            capabilities: Capabilities(0),
            signing_key: neutral,
            kem_key_digest: digest,
            signature: [0; 64],
        };
        assert_eq!(
            unchecked.verify().unwrap_err().class(),
            "invalid_public_key"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn announce_round_trip(seq: u32, caps: u8, cost: u8, limit in 0u8..=15, hop in proptest::option::of(any::<[u8; 8]>())) {
            let p = AnnouncePacket {
                hop_count: limit / 2,
                hop_limit: limit,
                transmitter: hop.map(HopId),
                cost,
                announce: Announce::sign(&alice(), seq, Capabilities(caps)),
            };
            let bytes = p.to_bytes().unwrap();
            prop_assert_eq!(AnnouncePacket::decode(bytes.into()).unwrap(), p);
        }
    }
}
