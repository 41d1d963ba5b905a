//! Fetching an identity's X-Wing key on demand (`spec/10-mesh.md` §6.3).
//! An announce carries only the SHA-256 of the X-Wing key; a node that
//! wants to seal to an identity asks for its `PublicIdentity` (1249 bytes,
//! `spec/02` §3.1), which is accepted only if its address is the one asked
//! for — the address commits to both keys, so this is the whole check.
//!
//! ```text
//! KeyRequest body (8 bytes):     transmitter[8]
//! KeyResponse body (1257 bytes): transmitter[8] || PublicIdentity[1249]
//! ```
//!
//! Both are forwarded types: `hop_id` names the next hop (toward the
//! identity for a request, back toward the requester for a response); the
//! transmitter travels in the body so that relays can record the reverse
//! path. `message_id` is the request id in both.

use bytes::BufMut;
use qpc_crypto::identity::{Address, PublicIdentity, PUBLIC_IDENTITY_LEN};
use qpc_wire::codec::Reader;
use rand_core::CryptoRng;

use crate::envelope::{Envelope, Header, HopId, MessageType, HOP_ID_LEN};
use crate::{Error, Result};

/// Length of a `KeyRequest` body.
pub const KEY_REQUEST_BODY_LEN: usize = HOP_ID_LEN;
/// Length of a `KeyResponse` body.
pub const KEY_RESPONSE_BODY_LEN: usize = HOP_ID_LEN + PUBLIC_IDENTITY_LEN;

/// A request for `destination`'s `PublicIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    /// Whose identity is wanted.
    pub destination: Address,
    /// Random id; the response carries it back.
    pub request_id: u32,
    /// Relays crossed.
    pub hop_count: u8,
    /// Relays allowed.
    pub hop_limit: u8,
    /// The next hop toward `destination`, if named.
    pub next_hop: Option<HopId>,
    /// The node sending this copy.
    pub transmitter: HopId,
}

impl KeyRequest {
    /// A fresh request (hop count 0) with a random id.
    pub fn new(
        destination: Address,
        hop_limit: u8,
        transmitter: HopId,
        rng: &mut impl CryptoRng,
    ) -> Self {
        KeyRequest {
            destination,
            request_id: rng.next_u32(),
            hop_count: 0,
            hop_limit,
            next_hop: None,
            transmitter,
        }
    }

    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::KeyRequest,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.destination,
            message_id: self.request_id,
            hop_id: self.next_hop,
        }
    }

    /// Decodes the body of a KeyRequest envelope (§6.3 step K1).
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let Envelope { header, body } = envelope;
        let mut r = Reader::new(body);
        let transmitter = HopId(r.array()?);
        r.finish()?;
        Ok(KeyRequest {
            destination: header.destination,
            request_id: header.message_id,
            hop_count: header.hop_count,
            hop_limit: header.hop_limit,
            next_hop: header.hop_id,
            transmitter,
        })
    }

    /// The datagram: 30 or 38 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len() + KEY_REQUEST_BODY_LEN);
        header.encode(&mut out)?;
        out.put_slice(&self.transmitter.0);
        Ok(out)
    }
}

/// The answer: the identity whose address the request named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyResponse {
    /// The request id answered.
    pub request_id: u32,
    /// Relays crossed.
    pub hop_count: u8,
    /// Relays allowed.
    pub hop_limit: u8,
    /// The next hop toward the requester, if named.
    pub next_hop: Option<HopId>,
    /// The node sending this copy.
    pub transmitter: HopId,
    /// The verified identity (its address is the header's destination).
    pub identity: PublicIdentity,
}

impl KeyResponse {
    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::KeyResponse,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.identity.address(),
            message_id: self.request_id,
            hop_id: self.next_hop,
        }
    }

    /// Decodes and checks the body of a KeyResponse envelope (§6.3 steps
    /// K2–K5): the transmitter, exactly 1249 identity bytes, the identity's
    /// own checks (`spec/02` §3.3), and its address.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let Envelope { header, body } = envelope;
        let mut r = Reader::new(body);
        let transmitter = HopId(r.array()?);
        let encoded = r.bytes(PUBLIC_IDENTITY_LEN)?;
        r.finish()?;
        let identity = PublicIdentity::from_bytes(&encoded)?;
        if identity.address() != header.destination {
            return Err(Error::AddressMismatch);
        }
        Ok(KeyResponse {
            request_id: header.message_id,
            hop_count: header.hop_count,
            hop_limit: header.hop_limit,
            next_hop: header.hop_id,
            transmitter,
            identity,
        })
    }

    /// The datagram: 1279 or 1287 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len() + KEY_RESPONSE_BODY_LEN);
        header.encode(&mut out)?;
        out.put_slice(&self.transmitter.0);
        out.put_slice(&self.identity.to_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qpc_crypto::identity::Identity;

    fn response(identity: &Identity) -> KeyResponse {
        KeyResponse {
            request_id: 5,
            hop_count: 1,
            hop_limit: 3,
            next_hop: Some(HopId([4; 8])),
            transmitter: HopId([6; 8]),
            identity: identity.public().clone(),
        }
    }

    #[test]
    fn response_checks_the_address_and_the_identity() {
        let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
        let bytes = response(&alice).to_bytes().unwrap();
        assert_eq!(bytes.len(), 30 + KEY_RESPONSE_BODY_LEN);
        let decode =
            |b: &[u8]| KeyResponse::from_envelope(Envelope::decode(b.to_vec().into()).unwrap());
        assert_eq!(decode(&bytes).unwrap(), response(&alice));
        let mut other_address = bytes.clone();
        other_address[2] ^= 1;
        assert_eq!(
            decode(&other_address).unwrap_err().class(),
            "address_mismatch"
        );
        let mut version = bytes.clone();
        version[38] = 2;
        assert_eq!(decode(&version).unwrap_err().class(), "unknown_version");
        let mut weak = bytes.clone();
        weak[39..71].copy_from_slice(&[0; 32]);
        assert_eq!(decode(&weak).unwrap_err().class(), "invalid_public_key");
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]).unwrap_err().class(),
            "truncated"
        );
        assert_eq!(
            decode(&[&bytes[..], &[0]].concat()).unwrap_err().class(),
            "trailing_bytes"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn response_round_trip(id: u32, limit in 0u8..=15, next in proptest::option::of(any::<[u8; 8]>()), tx: [u8; 8]) {
            let identity = Identity::from_seeds(&[3; 32], &[4; 32]);
            let response = KeyResponse {
                request_id: id,
                hop_count: limit,
                hop_limit: limit,
                next_hop: next.map(HopId),
                transmitter: HopId(tx),
                identity: identity.public().clone(),
            };
            let bytes = response.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), response.header().encoded_len() + KEY_RESPONSE_BODY_LEN);
            let env = Envelope::decode(bytes.into()).unwrap();
            prop_assert_eq!(KeyResponse::from_envelope(env).unwrap(), response);
        }

        #[test]
        fn request_round_trip(id: u32, limit in 0u8..=15, next in proptest::option::of(any::<[u8; 8]>()), tx: [u8; 8]) {
            let request = KeyRequest {
                destination: Address::from_bytes([9; 16]),
                request_id: id,
                hop_count: limit / 2,
                hop_limit: limit,
                next_hop: next.map(HopId),
                transmitter: HopId(tx),
            };
            let bytes = request.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), request.header().encoded_len() + 8);
            let env = Envelope::decode(bytes.into()).unwrap();
            prop_assert_eq!(KeyRequest::from_envelope(env).unwrap(), request);
        }
    }
}
