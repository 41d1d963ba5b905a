//! The one place where the simulator meets the node's messaging API: how a
//! node gets its sealed-sender credentials, how a scenario message is sent,
//! and which node events are observations of it.
//!
//! A scenario message's content starts with its tag (8 bytes, big endian)
//! and is padded with zeros to the length the scenario asks for; the node
//! seals it (about 1.4 KB on air with its receipt key, `spec/10` §3.6) and
//! confirms it with an end-to-end receipt.

use bytes::Bytes;
use qpc_crypto::certificate::Issuer;
use qpc_crypto::identity::PublicIdentity;
use qpc_crypto::sealed_sender::ReceiverConfig;

use super::metrics::Observation;
use crate::node::{Event, MeshNode, MessageHandle};
use crate::Result;

/// Bytes of the tag at the start of a payload.
pub const TAG_LEN: usize = 8;

/// The seed of the simulated community's certificate issuer: every node
/// trusts it and holds a certificate from it.
const ISSUER_SEED: [u8; 32] = [0x51; 32];

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

/// Gives `engine` a certificate of the simulated community (never
/// expiring) and makes it trust the community's issuer.
pub fn enable_messaging(engine: &mut MeshNode) -> Result<()> {
    let issuer = Issuer::from_seed(&ISSUER_SEED);
    let certificate = issuer.issue(engine.identity(), u64::MAX);
    engine.enable_messaging(
        certificate,
        vec![issuer.trust_root().clone()],
        ReceiverConfig::default(),
    )
}

/// Sends message `tag` of `len` content bytes from `engine` to
/// `destination`.
pub fn send(
    engine: &mut MeshNode,
    destination: &PublicIdentity,
    tag: u64,
    len: usize,
    now: u64,
) -> Result<MessageHandle> {
    engine.send(destination, &payload(tag, len), now)
}

/// What a node event says about scenario messages; `tag_of_handle` names
/// the reporting node's own messages.
pub fn observation(
    event: &Event,
    tag_of_handle: impl Fn(MessageHandle) -> Option<u64>,
) -> Option<Observation> {
    match event {
        Event::Received { content, .. } => {
            tag_of(content).map(|tag| Observation::Delivered { tag })
        }
        Event::DeliveryConfirmed { handle } => {
            tag_of_handle(*handle).map(|tag| Observation::Confirmed { tag })
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
        let delivered = Event::Received {
            from: qpc_crypto::identity::Address::from_bytes([1; 16]),
            timestamp_ms: 1,
            content: payload(5, 100),
        };
        assert_eq!(
            observation(&delivered, |_| None),
            Some(Observation::Delivered { tag: 5 })
        );
        let confirmed = Event::DeliveryConfirmed {
            handle: MessageHandle(3),
        };
        let tags = |h: MessageHandle| (h.0 == 3).then_some(7);
        assert_eq!(
            observation(&confirmed, tags),
            Some(Observation::Confirmed { tag: 7 })
        );
    }
}
