//! The mesh envelope header (`spec/10-mesh.md` §3): version, message type,
//! hop count and limit, destination, message id and an optional hop id.
//!
//! ```text
//! byte 0       version (bits 7-5) | HOP_ID flag (bit 4) | type (bits 3-0)
//! byte 1       hop_count (bits 7-4) | hop_limit (bits 3-0)
//! bytes 2..18  destination (16-byte address)
//! bytes 18..22 message_id (uint32)
//! bytes 22..30 hop_id (8 bytes, present iff the flag is set)
//! ```

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;
use qpc_wire::codec::Reader;

use crate::{Error, Result};

/// The envelope version this crate speaks.
pub const VERSION: u8 = 1;
/// Header length without a hop id.
pub const HEADER_LEN: usize = 22;
/// Length of a [`HopId`].
pub const HOP_ID_LEN: usize = 8;
/// The largest hop limit (4 bits).
pub const MAX_HOP_LIMIT: u8 = 15;

const HOP_ID_FLAG: u8 = 0x10;

/// The registered mesh message types (`spec/00-overview.md` §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// A signed announce of an identity (§4).
    Announce,
    /// A request for a path to a destination (§6).
    PathRequest,
    /// The answer to a path request: a stored announce, sent back (§6).
    PathResponse,
    /// First-contact data: a sealed-sender message (`spec/05`) for the
    /// destination (§3.5).
    Sealed,
    /// A request for the destination's `PublicIdentity` (§6.3).
    KeyRequest,
    /// The answer: the destination's `PublicIdentity` (§6.3).
    KeyResponse,
    /// An end-to-end delivery receipt, back to the sender (§12.3).
    Receipt,
    /// A hop-by-hop custody acknowledgement, never relayed (§12.2).
    HopAck,
    /// A broadcast channel message, flooded to every node (§13).
    Channel,
    /// A pairwise post-quantum session message: establishment, data or
    /// resumption (`spec/12-mls-lite.md` part A).
    Session,
    /// An MLS-Lite group message (`spec/12-mls-lite.md` part B).
    GroupLite,
    /// A FAPP frame (`spec/20-fapp.md` §8.1): an application body the mesh
    /// carries opaquely, link-local or routed (§14).
    Fapp,
}

impl MessageType {
    /// Every registered type, in code point order.
    pub const ALL: [MessageType; 12] = [
        MessageType::Announce,
        MessageType::PathRequest,
        MessageType::PathResponse,
        MessageType::Sealed,
        MessageType::KeyRequest,
        MessageType::KeyResponse,
        MessageType::Receipt,
        MessageType::HopAck,
        MessageType::Channel,
        MessageType::Session,
        MessageType::GroupLite,
        MessageType::Fapp,
    ];

    /// The 4-bit code point.
    pub const fn code(self) -> u8 {
        match self {
            MessageType::Announce => 0x1,
            MessageType::PathRequest => 0x2,
            MessageType::PathResponse => 0x3,
            MessageType::Sealed => 0x4,
            MessageType::KeyRequest => 0x5,
            MessageType::KeyResponse => 0x6,
            MessageType::Receipt => 0x7,
            MessageType::HopAck => 0x8,
            MessageType::Channel => 0x9,
            MessageType::Session => 0xa,
            MessageType::GroupLite => 0xb,
            MessageType::Fapp => 0xc,
        }
    }

    /// The type of a code point, or `unknown_message_type`.
    pub fn from_code(code: u8) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or(Error::UnknownMessageType(code))
    }

    /// Whether messages of this type are flooded (the hop id names the
    /// transmitter) rather than forwarded hop by hop (the hop id names the
    /// next hop).
    pub const fn is_flooded(self) -> bool {
        matches!(
            self,
            MessageType::Announce
                | MessageType::PathRequest
                | MessageType::Channel
                | MessageType::GroupLite
        )
    }

    /// Whether messages of this type are data that is stored and forwarded
    /// with custody hand-off (§12; Session messages since §12.7). Routed
    /// FAPP frames are data too, decided by their destination: see
    /// [`Header::is_data`].
    pub const fn is_data(self) -> bool {
        matches!(
            self,
            MessageType::Sealed | MessageType::Receipt | MessageType::Session
        )
    }
}

/// The destination of a link-local FAPP frame (§14.1): all zero, which is
/// no node's address (an address is a SHA-256 output, `spec/02` §4).
pub const LINK_LOCAL: Address = Address::from_bytes([0; 16]);

/// The first 8 bytes of a node's address: how a neighbour is named on a
/// shared (broadcast) link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HopId(pub [u8; HOP_ID_LEN]);

impl HopId {
    /// The hop id of an address.
    pub fn of(address: &Address) -> Self {
        let mut id = [0; HOP_ID_LEN];
        id.copy_from_slice(&address.as_bytes()[..HOP_ID_LEN]);
        HopId(id)
    }
}

/// A decoded envelope header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The message type.
    pub message_type: MessageType,
    /// Relays the message has crossed (0 when the originator sends it).
    pub hop_count: u8,
    /// The most relays the message may cross (at most [`MAX_HOP_LIMIT`]).
    pub hop_limit: u8,
    /// The destination address (for announces: the announced address).
    pub destination: Address,
    /// Dedupe id; for announces, the announce's sequence number.
    pub message_id: u32,
    /// Transmitter (flooded types) or next hop (forwarded types), if named.
    pub hop_id: Option<HopId>,
}

impl Header {
    /// Whether the message is data stored and forwarded with custody (§12):
    /// a Sealed or Receipt message, or a routed FAPP frame (§14.2).
    pub fn is_data(&self) -> bool {
        self.message_type.is_data()
            || (self.message_type == MessageType::Fapp && self.destination != LINK_LOCAL)
    }

    /// The encoded length: 22 or 30 bytes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.hop_id.map_or(0, |_| HOP_ID_LEN)
    }

    /// Reads a header from the front of `r`, applying the checks of §3.3 in
    /// order.
    pub fn decode(r: &mut Reader) -> Result<Self> {
        let first = r.u8()?;
        let version = first >> 5;
        if version != VERSION {
            return Err(Error::UnknownVersion(version));
        }
        let message_type = MessageType::from_code(first & 0x0f)?;
        let hops = r.u8()?;
        let (hop_count, hop_limit) = (hops >> 4, hops & 0x0f);
        if hop_count > hop_limit {
            return Err(Error::Malformed {
                message: "envelope header",
                reason: "hop count above hop limit",
            });
        }
        let destination = Address::from_bytes(r.array()?);
        let message_id = r.u32()?;
        let hop_id = match first & HOP_ID_FLAG {
            0 => None,
            _ => Some(HopId(r.array()?)),
        };
        Ok(Header {
            message_type,
            hop_count,
            hop_limit,
            destination,
            message_id,
            hop_id,
        })
    }

    /// Appends the encoding; refuses hop fields the layout cannot carry.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<()> {
        if self.hop_limit > MAX_HOP_LIMIT || self.hop_count > self.hop_limit {
            return Err(Error::Malformed {
                message: "envelope header",
                reason: "hop count above hop limit, or hop limit above 15",
            });
        }
        let flag = self.hop_id.map_or(0, |_| HOP_ID_FLAG);
        out.put_u8(VERSION << 5 | flag | self.message_type.code());
        out.put_u8(self.hop_count << 4 | self.hop_limit);
        out.put_slice(self.destination.as_bytes());
        out.put_u32(self.message_id);
        if let Some(HopId(id)) = self.hop_id {
            out.put_slice(&id);
        }
        Ok(())
    }

    /// The 22 bytes the originator sent: hop count 0 and no hop id. A relay
    /// changes only those two fields, so end-to-end associated data covers
    /// these bytes (`spec/10-mesh.md` §13.3, `spec/12-mls-lite.md`).
    pub fn originated(&self) -> Result<[u8; HEADER_LEN]> {
        let origin = Header {
            hop_count: 0,
            hop_id: None,
            ..self.clone()
        };
        let mut out = Vec::with_capacity(HEADER_LEN);
        origin.encode(&mut out)?;
        Ok(out.try_into().expect("a header without hop id is 22 bytes"))
    }

    /// The header a relay transmits: one more hop, and `hop_id` as given.
    /// `None` when the hop limit is reached (the message is not forwarded).
    pub fn relayed(&self, hop_id: Option<HopId>) -> Option<Self> {
        (self.hop_count < self.hop_limit).then(|| Header {
            hop_count: self.hop_count + 1,
            hop_id,
            ..self.clone()
        })
    }
}

/// A header and the body after it (the rest of the datagram), not yet
/// decoded by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The header.
    pub header: Header,
    /// The body bytes (a slice of the input, not copied).
    pub body: Bytes,
}

impl Envelope {
    /// Splits a datagram into its header and body.
    pub fn decode(bytes: Bytes) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let header = Header::decode(&mut r)?;
        let rest = r.remaining();
        let body = r.bytes(rest)?;
        Ok(Envelope { header, body })
    }

    /// The datagram: header then body.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.header.encoded_len() + self.body.len());
        self.header.encode(&mut out)?;
        out.extend_from_slice(&self.body);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(hop_id: Option<HopId>) -> Header {
        Header {
            message_type: MessageType::Sealed,
            hop_count: 2,
            hop_limit: 7,
            destination: Address::from_bytes([0xab; 16]),
            message_id: 0x0102_0304,
            hop_id,
        }
    }

    #[test]
    fn layout_of_a_forwarded_header() {
        let mut out = Vec::new();
        header(Some(HopId([9; 8]))).encode(&mut out).unwrap();
        assert_eq!(out.len(), 30);
        assert_eq!(out[0], 0x34, "version 1, hop id flag, type 4");
        assert_eq!(out[1], 0x27);
        assert_eq!(&out[18..22], &[1, 2, 3, 4]);
        assert_eq!(&out[22..], &[9; 8]);
    }

    #[test]
    fn rejections_follow_the_check_order() {
        let decode = |b: &[u8]| Header::decode(&mut Reader::new(Bytes::copy_from_slice(b)));
        let mut good = Vec::new();
        header(None).encode(&mut good).unwrap();
        assert_eq!(decode(&[]).unwrap_err().class(), "truncated");
        let mut v2 = good.clone();
        v2[0] = 0x44;
        assert_eq!(decode(&v2).unwrap_err(), Error::UnknownVersion(2));
        let mut t0 = good.clone();
        t0[0] = 0x20;
        assert_eq!(decode(&t0).unwrap_err(), Error::UnknownMessageType(0));
        let mut t13 = good.clone();
        t13[0] = 0x2d;
        assert_eq!(decode(&t13).unwrap_err(), Error::UnknownMessageType(13));
        let mut hops = good.clone();
        hops[1] = 0x32;
        assert_eq!(decode(&hops).unwrap_err().class(), "malformed");
        assert_eq!(decode(&good[..21]).unwrap_err().class(), "truncated");
        let mut flagged = good.clone();
        flagged[0] |= HOP_ID_FLAG;
        assert_eq!(decode(&flagged).unwrap_err().class(), "truncated");
    }

    #[test]
    fn relaying_stops_at_the_limit() {
        let mut h = header(None);
        h.hop_count = 6;
        let next = h.relayed(Some(HopId([1; 8]))).unwrap();
        assert_eq!((next.hop_count, next.hop_id), (7, Some(HopId([1; 8]))));
        assert!(next.relayed(None).is_none());
    }

    fn any_header() -> impl Strategy<Value = Header> {
        (
            0..MessageType::ALL.len(),
            0..=MAX_HOP_LIMIT,
            any::<u8>(),
            any::<[u8; 16]>(),
            any::<u32>(),
            proptest::option::of(any::<[u8; 8]>()),
        )
            .prop_map(|(t, limit, count, dest, id, hop)| Header {
                message_type: MessageType::ALL[t],
                hop_count: count % (limit + 1),
                hop_limit: limit,
                destination: Address::from_bytes(dest),
                message_id: id,
                hop_id: hop.map(HopId),
            })
    }

    proptest! {
        #[test]
        fn envelope_round_trip(h in any_header(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let env = Envelope { header: h, body: body.into() };
            let bytes = env.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), env.header.encoded_len() + env.body.len());
            prop_assert_eq!(Envelope::decode(bytes.into()).unwrap(), env);
        }

        #[test]
        fn hostile_headers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(env) = Envelope::decode(data.clone().into()) {
                prop_assert_eq!(env.to_bytes().unwrap(), data);
            }
        }
    }
}
