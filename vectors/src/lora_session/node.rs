//! `node_session` vectors (`spec/12-mls-lite.md` §A.15, `spec/10-mesh.md`
//! §12.7): two `MeshNode`s, each created with a fixed 32-byte seed for a
//! ChaCha20 generator, know each other's route over a point-to-point link;
//! the initiator opens a session, both export their state, and the
//! initiator sends one message. The vector is every datagram on the link
//! in order: Init, HopAck, Response, HopAck, Data, HopAck, Receipt, HopAck.
//!
//! What a node draws from its generator is fixed by §A.15: the node's own
//! generator is seeded with the first 32 bytes of the given one, its first
//! word starts the receive tags, an Init draws the ephemeral seed, the
//! encapsulation seed and the message id, an accepted Init the
//! encapsulation seed and the Response's message id, and a receipt's
//! message id is the responder's next word.

use qpc_crypto::certificate::Issuer;
use qpc_crypto::sealed_sender::ReceiverConfig;
use qpc_mesh::node::{LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use super::{identity, Party, Side};
use crate::{expect_eq, HexBytes};

/// The one link of the two nodes.
const WIRE: LinkId = LinkId(1);

/// Two nodes, a session between them and one message in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSession {
    /// The node that opens the session and sends.
    pub initiator: Party,
    /// The node that accepts and receives.
    pub responder: Party,
    /// The seed of each node's ChaCha20 generator (initiator, responder).
    pub node_seeds: [HexBytes; 2],
    /// The nodes' hop limit.
    pub hop_limit: u8,
    /// The message's content.
    pub content: HexBytes,
    /// Every datagram on the link, in order.
    pub wire: Vec<WireDatagram>,
}

/// One datagram on the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireDatagram {
    /// Its sender.
    pub from: Side,
    /// The datagram.
    pub datagram: HexBytes,
}

fn node(party: &Party, seed: &HexBytes, hop_limit: u8) -> Result<MeshNode, String> {
    let id = identity(party)?;
    let public = id.public().clone();
    let seed: [u8; 32] = seed.0[..].try_into().map_err(|_| "a 32-byte node seed")?;
    let config = NodeConfig {
        hop_limit,
        announce_interval_ms: 0,
        ..NodeConfig::default()
    };
    let mut node = MeshNode::new(id, config, 1, &mut ChaCha20Rng::from_seed(seed))
        .map_err(|e| e.to_string())?;
    let link = LinkConfig {
        mtu: 4096,
        cost: 1,
        budget: AirtimeBudget::two_percent(50_000),
        shared: false,
    };
    node.add_link(WIRE, link, 0).map_err(|e| e.to_string())?;
    let issuer = Issuer::from_seed(&[0x1e; 32]);
    node.enable_messaging(
        issuer.issue(&public, u64::MAX),
        vec![issuer.trust_root().clone()],
        ReceiverConfig::default(),
    )
    .map_err(|e| e.to_string())?;
    Ok(node)
}

/// Carries the two nodes' datagrams to each other until both are quiet,
/// appending them to `wire`.
fn exchange(nodes: &mut [MeshNode; 2], now: u64, wire: &mut Vec<WireDatagram>) {
    loop {
        let mut quiet = true;
        for (from, side) in [(0, Side::Initiator), (1, Side::Responder)] {
            while let Some(t) = nodes[from].poll_transmit() {
                quiet = false;
                wire.push(WireDatagram {
                    from: side,
                    datagram: HexBytes(t.bytes.clone()),
                });
                nodes[1 - from].handle_datagram(WIRE, t.bytes.into(), now);
            }
        }
        if quiet {
            return;
        }
    }
}

/// Runs the two nodes: announces (not recorded), the session, a message.
pub(super) fn run(
    initiator: Party,
    responder: Party,
    node_seeds: [HexBytes; 2],
    hop_limit: u8,
    content: HexBytes,
) -> Result<NodeSession, String> {
    let mut nodes = [
        node(&initiator, &node_seeds[0], hop_limit)?,
        node(&responder, &node_seeds[1], hop_limit)?,
    ];
    for n in &mut nodes {
        n.announce(1_000).map_err(|e| e.to_string())?;
    }
    exchange(&mut nodes, 1_000, &mut Vec::new());
    let responder_identity = nodes[1].identity().clone();
    let mut wire = Vec::new();
    nodes[0]
        .open_session(&responder_identity, 2_000)
        .map_err(|e| e.to_string())?;
    exchange(&mut nodes, 2_000, &mut wire);
    for n in &mut nodes {
        n.export_state().map_err(|e| e.to_string())?;
    }
    nodes[0]
        .send(&responder_identity, &content.0, 3_000)
        .map_err(|e| e.to_string())?;
    exchange(&mut nodes, 3_000, &mut wire);
    Ok(NodeSession {
        initiator,
        responder,
        node_seeds,
        hop_limit,
        content,
        wire,
    })
}

/// Checks a vector by running the nodes again.
pub(super) fn check(v: &NodeSession) -> Result<(), String> {
    let got = run(
        v.initiator.clone(),
        v.responder.clone(),
        v.node_seeds.clone(),
        v.hop_limit,
        v.content.clone(),
    )?;
    let lens: Vec<usize> = got.wire.iter().map(|d| d.datagram.0.len()).collect();
    expect_eq(
        "datagram lengths",
        lens,
        v.wire.iter().map(|d| d.datagram.0.len()).collect(),
    )?;
    expect_eq("node session", &got, v)
}
