//! End-to-end delivery receipts and hop-by-hop custody acknowledgements
//! (`spec/10-mesh.md` §12).
//!
//! The sender of a message puts a fresh random 16-byte receipt key inside
//! the sealed content ([`MeshData`]); only the recipient can read it. The
//! recipient proves delivery by sending the key back in a [`Receipt`]:
//! relays see the key only once it has done its job.
//!
//! ```text
//! MeshData (sealed-sender content):  flags(1) [receipt_key(16)] content(rest)
//! Receipt body (16 bytes):           receipt_key(16)
//! HopAck: a bare header (hop count 0, hop limit 0) naming the
//!         acknowledged message's destination and message id, and on
//!         shared links the acknowledging node's hop id (22 / 30 bytes).
//! ```

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;
use qpc_wire::codec::Reader;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::envelope::{Envelope, Header, HopId, MessageType};
use crate::{Error, Result};

/// Length of a receipt key.
pub const RECEIPT_KEY_LEN: usize = 16;
/// Length of a [`ReceiptKey::id`].
pub const RECEIPT_ID_LEN: usize = 8;
/// `MeshData` flag: a receipt key follows.
pub const RECEIPT_REQUESTED: u8 = 0x01;
const RECEIPT_ID_LABEL: &[u8] = b"qpc mesh receipt id v1";

/// The secret that proves delivery of one message.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptKey(pub [u8; RECEIPT_KEY_LEN]);

impl core::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ReceiptKey({:02x?})", self.id())
    }
}

impl ReceiptKey {
    /// A fresh random key.
    pub fn random(rng: &mut impl CryptoRng) -> Self {
        let mut key = [0; RECEIPT_KEY_LEN];
        rng.fill_bytes(&mut key);
        ReceiptKey(key)
    }

    /// What the sender files the pending message under:
    /// `SHA-256("qpc mesh receipt id v1" || key)[..8]`, so that looking a
    /// received key up reveals nothing about the keys still pending.
    pub fn id(&self) -> [u8; RECEIPT_ID_LEN] {
        let digest = Sha256::new()
            .chain_update(RECEIPT_ID_LABEL)
            .chain_update(self.0)
            .finalize();
        let mut id = [0; RECEIPT_ID_LEN];
        id.copy_from_slice(&digest[..RECEIPT_ID_LEN]);
        id
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &ReceiptKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// The content of a sealed mesh message: an optional receipt key, then the
/// application's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshData {
    /// The key to return in a receipt, if the sender wants one.
    pub receipt: Option<ReceiptKey>,
    /// The application content (may be empty).
    pub content: Bytes,
}

impl MeshData {
    /// Decodes sealed content: unknown flag bits are `malformed`.
    pub fn decode(bytes: Bytes) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let flags = r.u8()?;
        if flags & !RECEIPT_REQUESTED != 0 {
            return Err(Error::Malformed {
                message: "mesh data",
                reason: "unknown flag bits",
            });
        }
        let receipt = match flags {
            RECEIPT_REQUESTED => Some(ReceiptKey(r.array()?)),
            _ => None,
        };
        let rest = r.remaining();
        Ok(MeshData {
            receipt,
            content: r.bytes(rest)?,
        })
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + RECEIPT_KEY_LEN + self.content.len());
        match &self.receipt {
            Some(key) => {
                out.put_u8(RECEIPT_REQUESTED);
                out.put_slice(&key.0);
            }
            None => out.put_u8(0),
        }
        out.put_slice(&self.content);
        out
    }
}

/// A delivery receipt on its way back to the sender (a forwarded type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The original sender.
    pub destination: Address,
    /// Random dedupe id of this receipt.
    pub message_id: u32,
    /// Relays crossed.
    pub hop_count: u8,
    /// Relays allowed.
    pub hop_limit: u8,
    /// The next hop, if named.
    pub next_hop: Option<HopId>,
    /// The key from the delivered message.
    pub key: ReceiptKey,
}

impl Receipt {
    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::Receipt,
            hop_count: self.hop_count,
            hop_limit: self.hop_limit,
            destination: self.destination,
            message_id: self.message_id,
            hop_id: self.next_hop,
        }
    }

    /// Decodes the body of a Receipt envelope: exactly 16 bytes.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let Envelope { header, body } = envelope;
        let mut r = Reader::new(body);
        let key = ReceiptKey(r.array()?);
        r.finish()?;
        Ok(Receipt {
            destination: header.destination,
            message_id: header.message_id,
            hop_count: header.hop_count,
            hop_limit: header.hop_limit,
            next_hop: header.hop_id,
            key,
        })
    }

    /// The envelope (header and the 16-byte body).
    pub fn to_envelope(&self) -> Envelope {
        Envelope {
            header: self.header(),
            body: Bytes::copy_from_slice(&self.key.0),
        }
    }
}

/// "I have taken custody of (destination, message id)": sent by the next
/// hop on the link the message came on; never relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopAck {
    /// The acknowledged message's destination.
    pub destination: Address,
    /// The acknowledged message's id.
    pub message_id: u32,
    /// The acknowledging node, named on shared links.
    pub from: Option<HopId>,
}

impl HopAck {
    /// The acknowledgement of the message with `header` by `from`.
    pub fn of(header: &Header, from: Option<HopId>) -> Self {
        HopAck {
            destination: header.destination,
            message_id: header.message_id,
            from,
        }
    }

    /// The envelope header.
    pub fn header(&self) -> Header {
        Header {
            message_type: MessageType::HopAck,
            hop_count: 0,
            hop_limit: 0,
            destination: self.destination,
            message_id: self.message_id,
            hop_id: self.from,
        }
    }

    /// Decodes a HopAck envelope: hop limit 0 (so hop count 0), no body.
    pub fn from_envelope(envelope: Envelope) -> Result<Self> {
        let h = &envelope.header;
        if h.hop_limit != 0 {
            return Err(Error::Malformed {
                message: "hop ack",
                reason: "hop limit must be 0",
            });
        }
        if !envelope.body.is_empty() {
            return Err(Error::Wire(qpc_wire::Error::TrailingBytes(
                envelope.body.len(),
            )));
        }
        Ok(HopAck {
            destination: h.destination,
            message_id: h.message_id,
            from: h.hop_id,
        })
    }

    /// The 22- or 30-byte datagram.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.encoded_len());
        header.encode(&mut out)?;
        Ok(out)
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mesh_data_layout_and_flags() {
        let data = MeshData {
            receipt: Some(ReceiptKey([7; 16])),
            content: Bytes::from_static(b"hi"),
        };
        let bytes = data.to_bytes();
        assert_eq!(bytes.len(), 19);
        assert_eq!(bytes[0], RECEIPT_REQUESTED);
        assert_eq!(MeshData::decode(bytes.into()).unwrap(), data);
        let plain = MeshData::decode(Bytes::from_static(&[0])).unwrap();
        assert_eq!((plain.receipt, plain.content.len()), (None, 0));
        let err = MeshData::decode(Bytes::from_static(&[2, 1])).unwrap_err();
        assert_eq!(err.class(), "malformed");
        let short = MeshData::decode(Bytes::from_static(&[1, 1, 2])).unwrap_err();
        assert_eq!(short.class(), "truncated");
        assert_eq!(
            MeshData::decode(Bytes::new()).unwrap_err().class(),
            "truncated"
        );
    }

    #[test]
    fn hop_acks_are_bare_headers() {
        let ack = HopAck {
            destination: Address::from_bytes([3; 16]),
            message_id: 9,
            from: None,
        };
        let bytes = ack.to_bytes().unwrap();
        assert_eq!(bytes.len(), 22);
        let env = Envelope::decode(bytes.clone().into()).unwrap();
        assert_eq!(HopAck::from_envelope(env).unwrap(), ack);
        let mut body = bytes.clone();
        body.push(0);
        let env = Envelope::decode(body.into()).unwrap();
        assert_eq!(
            HopAck::from_envelope(env).unwrap_err().class(),
            "trailing_bytes"
        );
        let mut limit = bytes;
        limit[1] = 0x01;
        let env = Envelope::decode(limit.into()).unwrap();
        assert_eq!(HopAck::from_envelope(env).unwrap_err().class(), "malformed");
    }

    #[test]
    fn receipt_ids_differ_from_keys() {
        let key = ReceiptKey([1; 16]);
        assert_ne!(key.id(), [1; 8]);
        assert!(key.matches(&ReceiptKey([1; 16])));
        assert!(!key.matches(&ReceiptKey([2; 16])));
    }

    proptest! {
        #[test]
        fn receipts_round_trip(dest in any::<[u8; 16]>(), id in any::<u32>(), limit in 0u8..=15,
                               hop in proptest::option::of(any::<[u8; 8]>()), key in any::<[u8; 16]>()) {
            let receipt = Receipt {
                destination: Address::from_bytes(dest),
                message_id: id,
                hop_count: limit / 2,
                hop_limit: limit,
                next_hop: hop.map(HopId),
                key: ReceiptKey(key),
            };
            let bytes = receipt.to_envelope().to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), 38 + hop.map_or(0, |_| 8));
            let env = Envelope::decode(bytes.into()).unwrap();
            prop_assert_eq!(Receipt::from_envelope(env).unwrap(), receipt);
        }

        #[test]
        fn mesh_data_round_trips(key in proptest::option::of(any::<[u8; 16]>()),
                                 content in proptest::collection::vec(any::<u8>(), 0..64)) {
            let data = MeshData { receipt: key.map(ReceiptKey), content: content.into() };
            prop_assert_eq!(MeshData::decode(data.to_bytes().into()).unwrap(), data);
        }
    }
}
