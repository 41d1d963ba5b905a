//! Path requests and responses (`spec/10-mesh.md` §6).
//!
//! A `PathRequest` is an envelope with a 4-byte body, the lowest announce
//! sequence number acceptable as an answer (0: any): destination = the
//! address sought, `message_id` = a random request id, `hop_id` = the
//! transmitter. It is flooded like an announce. A node that holds a route
//! whose announce is at least that fresh (or is the destination) answers
//! with a `PathResponse`, forwarded hop by hop back along the request's
//! reverse path:
//!
//! ```text
//! PathRequest body (4 bytes)
//!   uint32 min_sequence     0, or one more than the requester's broken
//!                           route's sequence (§6.1)
//!
//! PathResponse body (142 bytes)
//!   opaque transmitter[8]   hop id of the node sending this copy
//!   uint32 sequence         the announce's sequence number
//!   AnnounceBody            130 bytes (announce.rs)
//! ```
//!
//! Its header carries destination = the announced address, `message_id` =
//! the request id, `hop_id` = the next hop toward the requester. Relays
//! remember where requests came from in [`crate::reverse_path`].

use bytes::BufMut;
use qpc_crypto::identity::Address;
use qpc_wire::codec::Reader;
use rand_core::CryptoRng;

use crate::announce::{self, Announce, ANNOUNCE_BODY_LEN};
use crate::envelope::{Envelope, Header, HopId, MessageType, HOP_ID_LEN};
use crate::Result;

/// Length of a `PathRequest` body.
pub const PATH_REQUEST_BODY_LEN: usize = 4;
/// Length of a `PathResponse` body.
pub const PATH_RESPONSE_BODY_LEN: usize = HOP_ID_LEN + 4 + ANNOUNCE_BODY_LEN;

/// A request for a path to `destination`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRequest {
    /// The address sought.
    pub destination: Address,
    /// Random id; the response carries it back.
    pub request_id: u32,
    /// Hops so far.
    pub hop_count: u8,
    /// The most relays the request may cross.
    pub hop_limit: u8,
    /// The node that transmitted this copy, if named.
    pub transmitter: Option<HopId>,
    /// The lowest announce sequence number that answers it (0: any).
    pub min_sequence: u32,
}

impl PathRequest {
    /// A fresh request from its originator (hop count 0), with a random id.
    pub fn new(
        destination: Address,
        hop_limit: u8,
        transmitter: Option<HopId>,
        min_sequence: u32,
        rng: &mut impl CryptoRng,
    ) -> Self {
        PathRequest {
            destination,
            request_id: rng.next_u32(),
            hop_count: 0,
            hop_limit,
            transmitter,
            min_sequence,
        }
    }

    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::PathRequest,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.destination,
            message_id: self.request_id,
            hop_id: self.transmitter,
        }
    }

    /// The copy a relay floods: one more hop, `transmitter` = the relay's
    /// hop id on a shared link. `None` when the hop limit is reached.
    pub fn relayed(&self, transmitter: Option<HopId>) -> Option<Self> {
        (self.hop_count < self.hop_limit).then(|| PathRequest {
            hop_count: self.hop_count + 1,
            transmitter,
            ..self.clone()
        })
    }

    /// Decodes the body (exactly 4 bytes) of a PathRequest envelope.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let mut r = Reader::new(envelope.body);
        let min_sequence = r.u32()?;
        r.finish()?;
        let h = envelope.header;
        Ok(PathRequest {
            destination: h.destination,
            request_id: h.message_id,
            hop_count: h.hop_count,
            hop_limit: h.hop_limit,
            transmitter: h.hop_id,
            min_sequence,
        })
    }

    /// The datagram: 26 or 34 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.header().encoded_len() + PATH_REQUEST_BODY_LEN);
        self.header().encode(&mut out)?;
        out.put_u32(self.min_sequence);
        Ok(out)
    }
}

/// The answer to a path request: a verified announce of the destination,
/// on its way back to the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathResponse {
    /// The request id being answered.
    pub request_id: u32,
    /// Hops so far.
    pub hop_count: u8,
    /// The most relays the response may cross.
    pub hop_limit: u8,
    /// The next hop toward the requester, if named.
    pub next_hop: Option<HopId>,
    /// The node that transmitted this copy.
    pub transmitter: HopId,
    /// The responder's cost to the destination plus the links crossed since.
    pub cost: u8,
    /// The verified announce (its address is the header's destination).
    pub announce: Announce,
}

impl PathResponse {
    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::PathResponse,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.announce.address(),
            message_id: self.request_id,
            hop_id: self.next_hop,
        }
    }

    /// Decodes and verifies the body of a PathResponse envelope (the announce
    /// checks of §4.5 apply to the embedded announce).
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let Envelope { header, body } = envelope;
        let mut r = Reader::new(body);
        let transmitter = HopId(r.array()?);
        let sequence = r.u32()?;
        let (cost, unchecked) = announce::read_body(&mut r, header.destination, sequence)?;
        r.finish()?;
        Ok(PathResponse {
            request_id: header.message_id,
            hop_count: header.hop_count,
            hop_limit: header.hop_limit,
            next_hop: header.hop_id,
            transmitter,
            cost,
            announce: unchecked.verify()?,
        })
    }

    /// The datagram: 164 bytes, or 172 with a next hop.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len() + PATH_RESPONSE_BODY_LEN);
        header.encode(&mut out)?;
        out.put_slice(&self.transmitter.0);
        out.put_u32(self.announce.sequence());
        self.announce.encode_body(self.cost, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::announce::Capabilities;
    use proptest::prelude::*;
    use qpc_crypto::identity::Identity;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn request_is_a_header_and_a_minimum_sequence() {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
        let req = PathRequest::new(Address::from_bytes([1; 16]), 5, None, 0x0102_0304, &mut rng);
        let bytes = req.to_bytes().unwrap();
        assert_eq!(bytes.len(), 26);
        assert_eq!(&bytes[22..], &[1, 2, 3, 4]);
        let env = Envelope::decode(bytes.clone().into()).unwrap();
        assert_eq!(PathRequest::from_envelope(env).unwrap(), req);
        let env = Envelope::decode(bytes[..25].to_vec().into()).unwrap();
        assert_eq!(
            PathRequest::from_envelope(env).unwrap_err().class(),
            "truncated"
        );
        let mut long = bytes;
        long.push(0);
        let env = Envelope::decode(long.into()).unwrap();
        assert_eq!(
            PathRequest::from_envelope(env).unwrap_err().class(),
            "trailing_bytes"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn response_round_trip(id: u32, seq: u32, cost: u8, next in proptest::option::of(any::<[u8; 8]>()), tx: [u8; 8]) {
            let identity = Identity::from_seeds(&[4; 32], &[5; 32]);
            let resp = PathResponse {
                request_id: id,
                hop_count: 1,
                hop_limit: 4,
                next_hop: next.map(HopId),
                transmitter: HopId(tx),
                cost,
                announce: Announce::sign(&identity, seq, Capabilities(Capabilities::STORE)),
            };
            let bytes = resp.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), resp.header().encoded_len() + PATH_RESPONSE_BODY_LEN);
            let env = Envelope::decode(bytes.into()).unwrap();
            prop_assert_eq!(PathResponse::from_envelope(env).unwrap(), resp);
        }
    }
}
