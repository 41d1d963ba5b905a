//! The one place where the simulator meets the node's messaging API: how a
//! scenario message is sent, and which node events are observations of it.
//!
//! Today's node does not decrypt, so a scenario message is an opaque
//! payload that starts with its tag (8 bytes, big endian) and is padded
//! with zeros to the length the scenario asks for (a sealed first-contact
//! message is about 1.4 KB). When the node gains end-to-end messages and
//! receipts, `send` and `observation` change here and nowhere else.

use bytes::Bytes;
use qpc_crypto::identity::PublicIdentity;
use rand_core::CryptoRng;

use super::metrics::Observation;
use crate::node::{Event, MeshNode};
use crate::Result;

/// Bytes of the tag at the start of a payload.
pub const TAG_LEN: usize = 8;

/// The payload of message `tag`: the tag, then zeros up to `len` bytes
/// (at least [`TAG_LEN`]).
pub fn payload(tag: u64, len: usize) -> Bytes {
    let mut bytes = vec![0; len.max(TAG_LEN)];
    bytes[..TAG_LEN].copy_from_slice(&tag.to_be_bytes());
    Bytes::from(bytes)
}

/// The tag a payload starts with.
pub fn tag_of(payload: &[u8]) -> Option<u64> {
    let tag: [u8; TAG_LEN] = payload.get(..TAG_LEN)?.try_into().ok()?;
    Some(u64::from_be_bytes(tag))
}

/// Sends message `tag` of `len` bytes from `engine` to `destination`.
pub fn send(
    engine: &mut MeshNode,
    destination: &PublicIdentity,
    tag: u64,
    len: usize,
    now: u64,
    rng: &mut impl CryptoRng,
) -> Result<()> {
    engine.send_sealed(destination.address(), payload(tag, len), now, rng)
}

/// What a node event says about scenario messages.
pub fn observation(event: &Event) -> Option<Observation> {
    match event {
        Event::Delivered { payload, .. } => {
            tag_of(payload).map(|tag| Observation::Delivered { tag })
        }
        Event::AnnounceDropped(_) => Some(Observation::AnnounceDropped),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_tag() {
        let p = payload(0x0102_0304_0506_0708, 20);
        assert_eq!(p.len(), 20);
        assert_eq!(&p[..9], &[1, 2, 3, 4, 5, 6, 7, 8, 0]);
        assert_eq!(tag_of(&p), Some(0x0102_0304_0506_0708));
        assert_eq!(payload(9, 0).len(), TAG_LEN);
        assert_eq!(tag_of(&[1, 2, 3]), None);
        let delivered = Event::Delivered {
            message_id: 1,
            payload: payload(5, 100),
        };
        assert_eq!(
            observation(&delivered),
            Some(Observation::Delivered { tag: 5 })
        );
    }
}
