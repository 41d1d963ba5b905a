//! Every mesh message, decoded by its envelope type (`spec/10-mesh.md` §3.4).

use bytes::Bytes;

use crate::announce::AnnouncePacket;
use crate::channel::ChannelPacket;
use crate::envelope::{Envelope, Header, MessageType};
use crate::fapp_frame::FappPacket;
use crate::key_request::{KeyRequest, KeyResponse};
use crate::path_request::{PathRequest, PathResponse};
use crate::receipt::{HopAck, Receipt};
use crate::{Error, Result};

/// First-contact data: the envelope and its sealed-sender payload
/// (`spec/05` §5.1), which relays carry without parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPacket {
    /// The envelope header (no source address: the sender is inside).
    pub header: Header,
    /// The `SealedMessage` bytes, at least one.
    pub payload: Bytes,
}

/// A message whose body only its end points read: a Session or MLS-Lite
/// message (`spec/12-mls-lite.md`); relays carry the body unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndToEndPacket {
    /// The envelope header.
    pub header: Header,
    /// The body, at least one byte.
    pub body: Bytes,
}

/// A decoded mesh message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A verified announce.
    Announce(AnnouncePacket),
    /// A path request.
    PathRequest(PathRequest),
    /// A verified path response.
    PathResponse(PathResponse),
    /// Sealed first-contact data.
    Sealed(SealedPacket),
    /// A request for an identity's X-Wing key.
    KeyRequest(KeyRequest),
    /// A checked identity, answering a key request (boxed: it holds the
    /// 1216-byte X-Wing key).
    KeyResponse(Box<KeyResponse>),
    /// A delivery receipt.
    Receipt(Receipt),
    /// A custody acknowledgement.
    HopAck(HopAck),
    /// A broadcast channel message (checked for length; open it with the
    /// channel's key).
    Channel(ChannelPacket),
    /// A pairwise session message (decode the body with
    /// [`crate::session::SessionMessage`]).
    Session(EndToEndPacket),
    /// An MLS-Lite group message (open it with [`crate::group_lite`]).
    GroupLite(EndToEndPacket),
    /// A FAPP frame, its payload unparsed (§14).
    Fapp(FappPacket),
}

impl Message {
    /// Decodes the body of `envelope` by its type, with every check of §3.4.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        Ok(match envelope.header.message_type {
            MessageType::Announce => Message::Announce(AnnouncePacket::from_envelope(envelope)?),
            MessageType::PathRequest => Message::PathRequest(PathRequest::from_envelope(envelope)?),
            MessageType::PathResponse => {
                Message::PathResponse(PathResponse::from_envelope(envelope)?)
            }
            MessageType::Sealed => {
                if envelope.body.is_empty() {
                    return Err(Error::Wire(qpc_wire::Error::Truncated));
                }
                Message::Sealed(SealedPacket {
                    header: envelope.header,
                    payload: envelope.body,
                })
            }
            MessageType::KeyRequest => Message::KeyRequest(KeyRequest::from_envelope(envelope)?),
            MessageType::KeyResponse => {
                Message::KeyResponse(Box::new(KeyResponse::from_envelope(envelope)?))
            }
            MessageType::Receipt => Message::Receipt(Receipt::from_envelope(envelope)?),
            MessageType::HopAck => Message::HopAck(HopAck::from_envelope(envelope)?),
            MessageType::Channel => Message::Channel(ChannelPacket::from_envelope(envelope)?),
            MessageType::Session => Message::Session(EndToEndPacket::from_envelope(envelope)?),
            MessageType::GroupLite => Message::GroupLite(EndToEndPacket::from_envelope(envelope)?),
            MessageType::Fapp => Message::Fapp(FappPacket::from_envelope(envelope)?),
        })
    }

    /// Decodes a whole datagram.
    pub fn decode(bytes: Bytes) -> Result<Self> {
        Self::from_envelope(Envelope::decode(bytes)?)
    }

    /// The envelope header of the message.
    pub fn header(&self) -> Header {
        match self {
            Message::Announce(a) => a.header(),
            Message::PathRequest(r) => r.header(),
            Message::PathResponse(r) => r.header(),
            Message::Sealed(s) => s.header.clone(),
            Message::KeyRequest(r) => r.header(),
            Message::KeyResponse(r) => r.header(),
            Message::Receipt(r) => r.header(),
            Message::HopAck(a) => a.header(),
            Message::Channel(c) => c.header.clone(),
            Message::Session(p) | Message::GroupLite(p) => p.header.clone(),
            Message::Fapp(p) => p.header.clone(),
        }
    }

    /// The datagram.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        match self {
            Message::Announce(a) => a.to_bytes(),
            Message::PathRequest(r) => r.to_bytes(),
            Message::PathResponse(r) => r.to_bytes(),
            Message::Sealed(s) => Envelope {
                header: s.header.clone(),
                body: s.payload.clone(),
            }
            .to_bytes(),
            Message::KeyRequest(r) => r.to_bytes(),
            Message::KeyResponse(r) => r.to_bytes(),
            Message::Receipt(r) => r.to_envelope().to_bytes(),
            Message::HopAck(a) => a.to_bytes(),
            Message::Channel(c) => c.to_bytes(),
            Message::Session(p) | Message::GroupLite(p) => Envelope {
                header: p.header.clone(),
                body: p.body.clone(),
            }
            .to_bytes(),
            Message::Fapp(p) => p.to_bytes(),
        }
    }
}

impl EndToEndPacket {
    /// Checks that the body is not empty (`truncated`).
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        if envelope.body.is_empty() {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        Ok(EndToEndPacket {
            header: envelope.header,
            body: envelope.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sealed_needs_a_payload() {
        let header = Header {
            message_type: MessageType::Sealed,
            hop_count: 0,
            hop_limit: 3,
            destination: qpc_crypto::identity::Address::from_bytes([2; 16]),
            message_id: 9,
            hop_id: None,
        };
        let empty = Envelope {
            header: header.clone(),
            body: Bytes::new(),
        };
        let bytes = empty.to_bytes().unwrap();
        assert_eq!(
            Message::decode(bytes.into()).unwrap_err().class(),
            "truncated"
        );
        let one = Envelope {
            header,
            body: Bytes::from_static(b"x"),
        };
        let bytes = one.to_bytes().unwrap();
        let decoded = Message::decode(bytes.clone().into()).unwrap();
        assert_eq!(decoded.to_bytes().unwrap(), bytes);
    }

    fn any_request() -> impl Strategy<Value = PathRequest> {
        (
            any::<[u8; 16]>(),
            any::<u32>(),
            0u8..=15,
            proptest::option::of(any::<[u8; 8]>()),
            any::<u32>(),
        )
            .prop_map(|(dest, id, limit, hop, min)| PathRequest {
                destination: qpc_crypto::identity::Address::from_bytes(dest),
                request_id: id,
                hop_count: limit / 3,
                hop_limit: limit,
                transmitter: hop.map(crate::envelope::HopId),
                min_sequence: min,
            })
    }

    fn any_sealed() -> impl Strategy<Value = SealedPacket> {
        (
            any_request(),
            proptest::collection::vec(any::<u8>(), 1..300),
        )
            .prop_map(|(r, body)| SealedPacket {
                header: Header {
                    message_type: MessageType::Sealed,
                    ..r.header()
                },
                payload: body.into(),
            })
    }

    proptest! {
        #[test]
        fn path_requests_and_sealed_round_trip(r in any_request(), s in any_sealed()) {
            for m in [Message::PathRequest(r), Message::Sealed(s)] {
                let bytes = m.to_bytes().unwrap();
                prop_assert_eq!(Message::decode(bytes.into()).unwrap(), m);
            }
        }

        #[test]
        fn accepted_messages_re_encode_identically(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(m) = Message::decode(data.clone().into()) {
                prop_assert_eq!(m.to_bytes().unwrap(), data);
            }
        }
    }
}
