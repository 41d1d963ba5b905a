//! What a LoRa link datagram is (`spec/30-reference-node.md` §15.1–§15.2):
//! a mesh envelope in the clear, addressed to every radio in range, or a
//! [`SecuredDatagram`] — one pqXX handshake message or datagram record
//! between two neighbours, named by their hop ids. And which mesh
//! datagrams are addressed to one neighbour ([`addressing`]), so that
//! they travel only inside pqXX.

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;
use qpc_mesh::envelope::{Header, HopId, MessageType, HOP_ID_LEN};
use qpc_wire::{DecoderConfig, Frame, FrameType};

use crate::error::{Error, Result};

/// The first byte of a [`SecuredDatagram`]. A mesh envelope's first byte
/// carries version 1 in its top three bits (`0x20..=0x3f`), so the two
/// never collide.
pub const SECURED_KIND: u8 = 0x01;
/// Kind and the two hop ids.
pub const SECURED_HEADER_LEN: usize = 1 + 2 * HOP_ID_LEN;
/// The largest pqXX body a secured datagram carries (a Noise message).
pub const MAX_SECURED_BODY: usize = 65_535;
/// Bytes a record adds to the mesh datagram it carries: the header, a
/// frame header (at most 5 bytes for bodies up to 16 383 bytes) and the
/// record's nonce and tag.
pub const RECORD_OVERHEAD: usize = SECURED_HEADER_LEN + 5 + 8 + 16;

/// The link datagrams of a post-quantum pqXX handshake with empty
/// applications: messages 1, 2 and 3 (`spec/06` §7.2: 1234, 1322 and 201
/// bytes) after the header and a 5-byte frame header.
pub const HANDSHAKE_DATAGRAM_LENS: [usize; 3] = [
    SECURED_HEADER_LEN + 5 + 1234,
    SECURED_HEADER_LEN + 5 + 1322,
    SECURED_HEADER_LEN + 5 + 201,
];

/// One pqXX message or record on a LoRa link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuredDatagram {
    /// The neighbour it is for.
    pub receiver: HopId,
    /// The neighbour that sent it.
    pub sender: HopId,
    /// `PqxxMessage1`, `PqxxMessage2`, `PqxxMessage3` or `PqxxDatagram`.
    pub frame_type: FrameType,
    /// The handshake message or datagram record (`spec/06` §7.2, §9.3).
    pub body: Bytes,
}

fn carried(frame_type: FrameType) -> bool {
    matches!(
        frame_type,
        FrameType::PqxxMessage1
            | FrameType::PqxxMessage2
            | FrameType::PqxxMessage3
            | FrameType::PqxxDatagram
    )
}

impl SecuredDatagram {
    /// The link datagram.
    pub fn to_bytes(&self) -> Result<Bytes> {
        let frame = Frame {
            version: qpc_wire::version::V1,
            frame_type: self.frame_type,
            body: self.body.clone(),
        };
        let mut out = Vec::with_capacity(SECURED_HEADER_LEN + 7 + self.body.len());
        out.put_u8(SECURED_KIND);
        out.put_slice(&self.receiver.0);
        out.put_slice(&self.sender.0);
        frame.encode(&mut out)?;
        Ok(Bytes::from(out))
    }

    /// Parses a link datagram whose first byte is [`SECURED_KIND`]
    /// (checks in order: length, the frame of `spec/01` §4.3 with version 1
    /// and bodies up to 65 535 bytes filling the rest, its type).
    pub fn decode(bytes: Bytes) -> Result<SecuredDatagram> {
        if bytes.len() < SECURED_HEADER_LEN {
            return Err(Error::Truncated("secured datagram"));
        }
        if bytes[0] != SECURED_KIND {
            return Err(Error::Malformed {
                what: "secured datagram",
                reason: "first byte is not 0x01",
            });
        }
        let hop = |at: usize| {
            let mut id = [0; HOP_ID_LEN];
            id.copy_from_slice(&bytes[at..at + HOP_ID_LEN]);
            HopId(id)
        };
        let (receiver, sender) = (hop(1), hop(1 + HOP_ID_LEN));
        let config = DecoderConfig::new(
            MAX_SECURED_BODY as u32,
            qpc_wire::VersionSet::only(qpc_wire::version::V1),
        );
        let frame = Frame::decode(bytes.slice(SECURED_HEADER_LEN..), &config)?;
        if !carried(frame.frame_type) {
            return Err(Error::Malformed {
                what: "secured datagram",
                reason: "the frame is not a pqXX handshake message or datagram record",
            });
        }
        Ok(SecuredDatagram {
            receiver,
            sender,
            frame_type: frame.frame_type,
            body: frame.body,
        })
    }
}

/// Who a mesh datagram sent on a shared link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// Every radio in range: flooded types, and forwarded types without a
    /// hop id (a flood, e.g. a key request without a route). Sent in the
    /// clear.
    Everyone,
    /// The neighbour the hop id names (forwarded types): inside pqXX.
    Neighbour(HopId),
    /// A hop acknowledgement: for the neighbour that sent the message it
    /// acknowledges; inside pqXX.
    Acknowledgement {
        /// The acknowledged message's destination.
        destination: Address,
        /// Its message id.
        message_id: u32,
    },
}

/// How `header`'s datagram travels on a shared link (§15.2).
pub fn addressing(header: &Header) -> Addressing {
    match (header.message_type, header.hop_id) {
        (MessageType::HopAck, _) => Addressing::Acknowledgement {
            destination: header.destination,
            message_id: header.message_id,
        },
        (t, _) if t.is_flooded() || t == MessageType::GroupLite => Addressing::Everyone,
        (_, Some(next_hop)) => Addressing::Neighbour(next_hop),
        (_, None) => Addressing::Everyone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TYPES: [FrameType; 4] = [
        FrameType::PqxxMessage1,
        FrameType::PqxxMessage2,
        FrameType::PqxxMessage3,
        FrameType::PqxxDatagram,
    ];

    #[test]
    fn worked_example() {
        let d = SecuredDatagram {
            receiver: HopId([0xaa; 8]),
            sender: HopId([0xbb; 8]),
            frame_type: FrameType::PqxxDatagram,
            body: Bytes::from_static(&[0x11; 3]),
        };
        let bytes = d.to_bytes().unwrap();
        assert_eq!(
            hex::encode(&bytes),
            "01aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb01010503111111"
        );
        assert_eq!(SecuredDatagram::decode(bytes).unwrap(), d);
    }

    #[test]
    fn bad_datagrams_are_refused_in_order() {
        let class = |hex: &str| {
            SecuredDatagram::decode(Bytes::from(hex::decode(hex).unwrap()))
                .unwrap_err()
                .class()
        };
        let hops = "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb";
        assert_eq!(class("01aaaa"), "truncated");
        assert_eq!(class(&format!("21{hops}01010500")), "malformed");
        assert_eq!(class(&format!("01{hops}")), "truncated");
        assert_eq!(class(&format!("01{hops}02010500")), "unknown_version");
        assert_eq!(class(&format!("01{hops}01ffff00")), "unknown_frame_type");
        assert_eq!(class(&format!("01{hops}0101050211")), "truncated");
        assert_eq!(class(&format!("01{hops}010105001111")), "trailing_bytes");
        assert_eq!(class(&format!("01{hops}01010400")), "malformed");
        assert_eq!(
            class(&format!("01{hops}0101058001000000")),
            "frame_too_large"
        );
    }

    #[test]
    fn unicast_types_are_for_one_neighbour() {
        let header = |message_type, hop_id| Header {
            message_type,
            hop_count: 0,
            hop_limit: 8,
            destination: Address::from_bytes([7; 16]),
            message_id: 9,
            hop_id,
        };
        let h = Some(HopId([3; 8]));
        for t in [
            MessageType::Announce,
            MessageType::PathRequest,
            MessageType::Channel,
            MessageType::GroupLite,
        ] {
            assert_eq!(addressing(&header(t, h)), Addressing::Everyone);
        }
        for t in [
            MessageType::PathResponse,
            MessageType::Sealed,
            MessageType::KeyRequest,
            MessageType::KeyResponse,
            MessageType::Receipt,
            MessageType::Session,
        ] {
            assert_eq!(
                addressing(&header(t, h)),
                Addressing::Neighbour(HopId([3; 8]))
            );
            assert_eq!(addressing(&header(t, None)), Addressing::Everyone);
        }
        let ack = header(MessageType::HopAck, h);
        assert_eq!(
            addressing(&ack),
            Addressing::Acknowledgement {
                destination: ack.destination,
                message_id: 9
            }
        );
    }

    proptest! {
        #[test]
        fn datagrams_round_trip(
            receiver in any::<[u8; 8]>(),
            sender in any::<[u8; 8]>(),
            t in 0..4usize,
            body in proptest::collection::vec(any::<u8>(), 0..2000),
        ) {
            let d = SecuredDatagram {
                receiver: HopId(receiver),
                sender: HopId(sender),
                frame_type: TYPES[t],
                body: Bytes::from(body),
            };
            prop_assert_eq!(SecuredDatagram::decode(d.to_bytes().unwrap()).unwrap(), d);
        }
    }
}
