//! The FAPP frame (`spec/10-mesh.md` §14): how a type-`0xc` envelope
//! carries an application body that the mesh does not parse.
//!
//! ```text
//! link-local (destination = LINK_LOCAL, hop limit 0):
//!   transmitter[8] || payload
//! routed (any other destination):
//!   transmitter[8] || reply_address[16] || payload
//! ```
//!
//! The transmitter is the hop id of the node that puts the datagram on the
//! link (rewritten at every hop), so that a receiver can answer it one hop
//! back; a routed frame's reply address (all zero: none) is where the
//! answer to it will be sent, and relays record the way back to it (§14.3).

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;

use crate::envelope::{Envelope, Header, HopId, MessageType, HOP_ID_LEN, LINK_LOCAL};
use crate::{Error, Result};

/// The reply-address field of a routed frame that names none.
const NO_REPLY: [u8; 16] = [0; 16];

/// A decoded FAPP frame and its envelope header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FappPacket {
    /// The envelope header (type [`MessageType::Fapp`]).
    pub header: Header,
    /// The hop id of the node that transmitted this datagram.
    pub transmitter: HopId,
    /// Routed frames: where the answer goes (`None`: no answer expected, or
    /// a link-local frame).
    pub reply: Option<Address>,
    /// The application body, at least one byte.
    pub payload: Bytes,
}

impl FappPacket {
    /// Whether this is a link-local frame (one hop, never relayed by the
    /// mesh).
    pub fn is_link_local(&self) -> bool {
        self.header.destination == LINK_LOCAL
    }

    /// Decodes the body of a type-`0xc` envelope: a link-local frame must
    /// have hop limit 0 (`malformed`); the fields must be there and the
    /// payload at least one byte (`truncated`).
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let header = envelope.header;
        if header.message_type != MessageType::Fapp {
            return Err(Error::Malformed {
                message: "fapp frame",
                reason: "not a Fapp envelope",
            });
        }
        let link_local = header.destination == LINK_LOCAL;
        if link_local && header.hop_limit != 0 {
            return Err(Error::Malformed {
                message: "fapp frame",
                reason: "a link-local frame has hop limit 0",
            });
        }
        let fixed = HOP_ID_LEN + if link_local { 0 } else { 16 };
        let body = envelope.body;
        if body.len() <= fixed {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        let mut transmitter = [0; HOP_ID_LEN];
        transmitter.copy_from_slice(&body[..HOP_ID_LEN]);
        let reply = (!link_local)
            .then(|| {
                let mut reply = [0; 16];
                reply.copy_from_slice(&body[HOP_ID_LEN..fixed]);
                reply
            })
            .filter(|r| *r != NO_REPLY)
            .map(Address::from_bytes);
        Ok(FappPacket {
            header,
            transmitter: HopId(transmitter),
            reply,
            payload: body.slice(fixed..),
        })
    }

    /// The envelope body: transmitter, reply address (routed frames), payload.
    pub fn body(&self) -> Bytes {
        let mut out = Vec::with_capacity(HOP_ID_LEN + 16 + self.payload.len());
        out.put_slice(&self.transmitter.0);
        if !self.is_link_local() {
            let reply = self.reply.map_or(NO_REPLY, |r| *r.as_bytes());
            out.put_slice(&reply);
        }
        out.put_slice(&self.payload);
        out.into()
    }

    /// The datagram.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Envelope {
            header: self.header.clone(),
            body: self.body(),
        }
        .to_bytes()
    }
}

/// A routed frame's body with `transmitter` written over the previous one
/// (a relay names itself when it hands the frame on, §14.2).
pub(crate) fn restamped(body: &Bytes, transmitter: HopId) -> Bytes {
    let mut out = body.to_vec();
    if let Some(field) = out.get_mut(..HOP_ID_LEN) {
        field.copy_from_slice(&transmitter.0);
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(destination: [u8; 16], hop_limit: u8, hop_id: Option<[u8; 8]>) -> Header {
        Header {
            message_type: MessageType::Fapp,
            hop_count: 0,
            hop_limit,
            destination: Address::from_bytes(destination),
            message_id: 7,
            hop_id: hop_id.map(HopId),
        }
    }

    #[test]
    fn link_local_frames_have_hop_limit_zero() {
        let envelope = Envelope {
            header: header([0; 16], 1, None),
            body: Bytes::from_static(&[1; 9]),
        };
        let err = FappPacket::from_envelope(envelope).unwrap_err();
        assert_eq!(err.class(), "malformed");
    }

    #[test]
    fn an_empty_payload_is_truncated() {
        for (destination, len) in [([0; 16], 8), ([5; 16], 24)] {
            let envelope = Envelope {
                header: header(destination, 0, None),
                body: Bytes::from(vec![1; len]),
            };
            let err = FappPacket::from_envelope(envelope).unwrap_err();
            assert_eq!(err.class(), "truncated");
        }
    }

    #[test]
    fn restamping_changes_only_the_transmitter() {
        let body = Bytes::from_static(&[1, 1, 1, 1, 1, 1, 1, 1, 9, 9]);
        let out = restamped(&body, HopId([2; 8]));
        assert_eq!(&out[..], &[2, 2, 2, 2, 2, 2, 2, 2, 9, 9]);
    }

    proptest! {
        #[test]
        fn round_trip(
            routed in proptest::option::of((any::<[u8; 16]>(), 0u8..=15)),
            hop_id in proptest::option::of(any::<[u8; 8]>()),
            transmitter in any::<[u8; 8]>(),
            reply in proptest::option::of(any::<[u8; 16]>()),
            payload in proptest::collection::vec(any::<u8>(), 1..64),
        ) {
            let (destination, hop_limit) = routed
                .filter(|(d, _)| *d != [0; 16])
                .unwrap_or(([0; 16], 0));
            let link_local = destination == [0; 16];
            let packet = FappPacket {
                header: header(destination, hop_limit, hop_id),
                transmitter: HopId(transmitter),
                reply: reply.filter(|r| !link_local && *r != NO_REPLY).map(Address::from_bytes),
                payload: payload.into(),
            };
            let bytes = packet.to_bytes().unwrap();
            let decoded = FappPacket::from_envelope(Envelope::decode(bytes.clone().into()).unwrap()).unwrap();
            prop_assert_eq!(&decoded, &packet);
            prop_assert_eq!(decoded.to_bytes().unwrap(), bytes);
        }
    }
}
