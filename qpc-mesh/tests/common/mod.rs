//! Helpers the `MeshNode` integration tests share: fixed identities,
//! messaging credentials from one community issuer, draining a node, and
//! two nodes talking over a point-to-point wire.

#![allow(dead_code)] // each test binary uses its own subset

use bytes::Bytes;
use qpc_crypto::certificate::Issuer;
use qpc_crypto::identity::Identity;
use qpc_crypto::sealed_sender::ReceiverConfig;
use qpc_mesh::envelope::{Envelope, MessageType};
use qpc_mesh::node::{Event, MeshNode, Transmit};
use qpc_mesh::routing::LinkId;

/// The point-to-point link between two test nodes.
pub const WIRE: LinkId = LinkId(1);

/// Node `i`'s fixed identity.
pub fn identity(i: u8) -> Identity {
    Identity::from_seeds(&[i + 1; 32], &[i + 101; 32])
}

/// Gives node `i` messaging credentials from the tests' community issuer.
pub fn enable_messaging(node: &mut MeshNode, i: u8) {
    let issuer = Issuer::from_seed(&[77; 32]);
    let certificate = issuer.issue(&identity(i).public().clone(), u64::MAX);
    node.enable_messaging(
        certificate,
        vec![issuer.trust_root().clone()],
        ReceiverConfig::default(),
    )
    .unwrap();
}

/// Everything `node` has to transmit and to report.
pub fn drain(node: &mut MeshNode) -> (Vec<Transmit>, Vec<Event>) {
    (
        std::iter::from_fn(|| node.poll_transmit()).collect(),
        std::iter::from_fn(|| node.poll_event()).collect(),
    )
}

/// The message type of a datagram.
pub fn kind(bytes: &[u8]) -> MessageType {
    Envelope::decode(Bytes::copy_from_slice(bytes))
        .unwrap()
        .header
        .message_type
}

/// What [`converse`] saw: each datagram (sender, bytes) and event (node,
/// event).
pub type Conversation = (Vec<(usize, Vec<u8>)>, Vec<(usize, Event)>);

/// Delivers the [`WIRE`] transmits of `a` and `b` to each other until both
/// are quiet.
pub fn converse(a: &mut MeshNode, b: &mut MeshNode, now: u64) -> Conversation {
    let (mut datagrams, mut events) = (Vec::new(), Vec::new());
    loop {
        let (to_b, from_a) = drain(a);
        let (to_a, from_b) = drain(b);
        events.extend(from_a.into_iter().map(|e| (0, e)));
        events.extend(from_b.into_iter().map(|e| (1, e)));
        if to_a.is_empty() && to_b.is_empty() {
            return (datagrams, events);
        }
        for t in to_b.into_iter().filter(|t| t.link == WIRE) {
            datagrams.push((0, t.bytes.clone()));
            b.handle_datagram(WIRE, t.bytes.into(), now);
        }
        for t in to_a.into_iter().filter(|t| t.link == WIRE) {
            datagrams.push((1, t.bytes.clone()));
            a.handle_datagram(WIRE, t.bytes.into(), now);
        }
    }
}
