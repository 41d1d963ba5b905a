//! Broadcast channels over `MeshNode`s in the simulator (`spec/10` §13):
//! members deliver once and verify signed senders they know, non-members
//! relay, and managed flooding meets the bar of issue 6 item 6 on a
//! 100-node random geometric graph with 10% loss (≥ 99% reach, ≤ 0.6
//! transmissions per node; naive flooding spends 1.0).

use qpc_crypto::identity::Identity;
use qpc_mesh::channel::{ChannelId, ChannelKey};
use qpc_mesh::flood::FloodConfig;
use qpc_mesh::node::{Event, LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::sim::topology::{self, EdgeConfig, Position, Topology};
use qpc_mesh::sim::Simulator;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A LoRa-like 1760 bit/s channel: a relayed 81-byte channel message is
/// on air for 369 ms.
const BITRATE: u64 = 1760;
const NODES: usize = 100;
/// Radio range in the unit square: mean degree 9.5–10.8 and hop diameter
/// 9 over the seeds (checked below).
const RADIUS: f64 = 0.2;
const LOSS_PERMILLE: u16 = 100;
const SEEDS: [u8; 5] = [1, 2, 3, 4, 5];
const BROADCASTS_PER_SEED: usize = 8;
/// Quiet time after each broadcast: longer than 15 hops of the widest window.
const SETTLE_MS: u64 = 200_000;

fn channel_key() -> ChannelKey {
    ChannelKey::from_bytes([0xc4; 32])
}

fn node(i: usize, flood: FloodConfig, hop_limit: u8) -> MeshNode {
    let n = i as u8;
    let identity = Identity::from_seeds(&[n; 32], &[n ^ 0x80; 32]);
    let config = NodeConfig {
        flood,
        hop_limit,
        ..NodeConfig::default()
    };
    let mut rng = ChaCha20Rng::from_seed([n; 32]);
    let mut node = MeshNode::new(identity, config, 1, &mut rng).unwrap();
    node.join_channel(channel_key()).unwrap();
    node
}

fn radio(bitrate_bps: u64) -> LinkConfig {
    LinkConfig {
        mtu: 222,
        cost: 9,
        budget: AirtimeBudget::two_percent(bitrate_bps),
        shared: true,
    }
}

fn edge(loss_permille: u16) -> EdgeConfig {
    EdgeConfig {
        latency_ms: 0,
        loss_permille,
    }
}

/// Adds `nodes` to a simulator at `positions` on a radio of `bitrate_bps`.
fn populate(sim: &mut Simulator, nodes: Vec<MeshNode>, positions: &[Position], bitrate_bps: u64) {
    for (node, &at) in nodes.into_iter().zip(positions) {
        sim.add_node(node, at, radio(bitrate_bps)).unwrap();
    }
}

/// A connected random geometric graph of [`NODES`] nodes in the unit
/// square with radio range [`RADIUS`] and [`LOSS_PERMILLE`] per reception.
fn random_geometric_graph(seed: u8) -> Topology {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    topology::random_geometric_connected(NODES, 1.0, RADIUS, edge(LOSS_PERMILLE), &mut rng, 100)
        .expect("a connected draw")
        .0
}

fn diameter(graph: &Topology) -> usize {
    (0..graph.len())
        .filter_map(|i| graph.hop_distances(i).into_iter().flatten().max())
        .max()
        .unwrap_or(0)
}

#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    /// Deliveries over (broadcasts × receivers).
    reach: f64,
    /// Transmissions over (broadcasts × nodes).
    tx_per_node: f64,
    /// The worst single broadcast's reach.
    worst_reach: f64,
}

/// Broadcasts from random origins on the graph of each seed.
fn measure(flood: FloodConfig, seeds: &[u8], broadcasts: usize) -> Outcome {
    let (mut delivered, mut receivers, mut transmissions, mut nodes) = (0usize, 0, 0u64, 0);
    let mut worst_reach = 1.0f64;
    for &seed in seeds {
        let graph = random_geometric_graph(seed);
        let mut sim = Simulator::new(u64::from(seed ^ 0x55));
        sim.log_events();
        let engines = (0..NODES).map(|i| node(i, flood, 15)).collect();
        populate(&mut sim, engines, &graph.positions, BITRATE);
        sim.add_edges(&graph);
        let channel = channel_key().id();
        let mut rng = ChaCha20Rng::from_seed([seed ^ 0xaa; 32]);
        for _ in 0..broadcasts {
            let origin = (rng.next_u32() as usize) % NODES;
            let before = (sim.stats().transmissions, sim.events().len());
            let now = sim.now();
            let id = sim
                .with_node(origin, |n, now, _| {
                    n.send_channel(&channel, b"broadcast", false, now)
                })
                .unwrap();
            sim.run_until(now + SETTLE_MS);
            let got = sim.events()[before.1..]
                .iter()
                .filter(|(_, _, e)| {
                    matches!(e, Event::ChannelReceived { message_id, .. } if *message_id == id)
                })
                .count();
            delivered += got;
            receivers += NODES - 1;
            worst_reach = worst_reach.min(got as f64 / (NODES - 1) as f64);
            transmissions += sim.stats().transmissions - before.0;
            nodes += NODES;
        }
    }
    Outcome {
        reach: delivered as f64 / receivers as f64,
        tx_per_node: transmissions as f64 / nodes as f64,
        worst_reach,
    }
}

fn naive() -> FloodConfig {
    FloodConfig {
        threshold: u16::MAX,
        cover: 0,
        echo_below: 0,
        ..FloodConfig::default()
    }
}

#[test]
fn the_graphs_are_connected_with_mean_degree_about_ten() {
    for seed in SEEDS {
        let graph = random_geometric_graph(seed);
        let degree = graph.connectivity().mean_degree;
        println!(
            "seed {seed}: mean degree {degree:.1}, diameter {}",
            diameter(&graph)
        );
        assert!((8.0..=12.5).contains(&degree), "mean degree {degree}");
        assert!(diameter(&graph) <= 15, "the hop limit covers it");
    }
}

#[test]
fn managed_flooding_meets_the_bar_and_naive_flooding_does_not() {
    let managed = measure(FloodConfig::default(), &SEEDS, BROADCASTS_PER_SEED);
    let flat = measure(naive(), &SEEDS, BROADCASTS_PER_SEED);
    println!("defaults {:?}: {managed:?}", FloodConfig::default());
    println!("naive: {flat:?}");
    assert!(managed.reach >= 0.99, "{managed:?}");
    assert!(managed.tx_per_node <= 0.6, "{managed:?}");
    // Every node relays exactly once under naive flooding (all are reached).
    assert!(
        flat.tx_per_node > 0.99 && flat.reach >= managed.reach - 0.01,
        "{flat:?}"
    );
}

/// The defaults were chosen on `SEEDS`; 40 other graphs check that the
/// choice is not fitted to them.
#[test]
fn managed_flooding_meets_the_bar_on_held_out_graphs() {
    let held_out: Vec<u8> = (6..=45).collect();
    let managed = measure(FloodConfig::default(), &held_out, BROADCASTS_PER_SEED);
    println!("defaults on seeds 6-45: {managed:?}");
    assert!(managed.reach >= 0.99, "{managed:?}");
    assert!(managed.tx_per_node <= 0.6, "{managed:?}");
}

/// The sweep behind the defaults (`spec/10` §13.7):
/// `cargo test -p qpc-mesh --test channel_flooding -- --ignored --nocapture`.
#[test]
#[ignore = "a parameter sweep of a few minutes; run it to re-derive the defaults"]
fn flood_parameter_sweep() {
    let flat = measure(naive(), &SEEDS, BROADCASTS_PER_SEED);
    println!("naive: {flat:?}");
    for window_ms in [2000, 4000, 8000, 12000, 16000] {
        for threshold in [1, 2, 3, 4] {
            let config = FloodConfig {
                window_ms,
                threshold,
                ..FloodConfig::default()
            };
            let o = measure(config, &SEEDS, BROADCASTS_PER_SEED);
            println!(
                "window {window_ms} ms threshold {threshold}: reach {:.4} (worst {:.3}) tx/node {:.3}",
                o.reach, o.worst_reach, o.tx_per_node
            );
            assert!(
                o.tx_per_node <= flat.tx_per_node,
                "suppression only removes transmissions"
            );
        }
    }
}

/// Three nodes in a line; the middle one is not a member.
fn line() -> (Simulator, ChannelId) {
    let mut sim = Simulator::new(9);
    sim.log_events();
    let mut nodes: Vec<MeshNode> = (0..3)
        .map(|i| node(i + 1, FloodConfig::default(), 7))
        .collect();
    let id = channel_key().id();
    assert!(nodes[1].leave_channel(&id));
    assert!(!nodes[1].leave_channel(&id));
    let line = topology::line(3, 1.0, edge(0));
    populate(&mut sim, nodes, &line.positions, 50_000);
    sim.add_edges(&line);
    (sim, id)
}

fn received(sim: &Simulator, at: usize) -> Vec<(bool, Vec<u8>)> {
    sim.events()
        .iter()
        .filter_map(|(_, i, e)| match e {
            Event::ChannelReceived {
                sender_verified,
                content,
                channel,
                sender,
                ..
            } if *i == at => {
                assert_eq!(
                    (*channel, *sender),
                    (channel_key().id(), sim.node(0).address())
                );
                Some((*sender_verified, content.to_vec()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn non_members_relay_and_members_verify_known_senders() {
    let (mut sim, id) = line();
    // Before any announce the far member cannot verify the signature.
    sim.with_node(0, |n, now, _| n.send_channel(&id, b"early", true, now))
        .unwrap();
    sim.run_until(10_000);
    // After the announces (relayed within a 2% airtime share) it can.
    for i in 0..3 {
        sim.with_node(i, |n, now, _| n.announce(now)).unwrap();
    }
    sim.run_until(100_000);
    sim.with_node(0, |n, now, _| n.send_channel(&id, b"late", true, now))
        .unwrap();
    sim.run_until(110_000);
    assert_eq!(
        received(&sim, 2),
        vec![(false, b"early".to_vec()), (true, b"late".to_vec())]
    );
    assert!(received(&sim, 1).is_empty(), "not a member");
    assert!(
        received(&sim, 0).is_empty(),
        "the sender does not deliver to itself"
    );
    let long = [0; 38];
    let err = sim.with_node(0, |n, now, _| n.send_channel(&id, &long, true, now));
    assert_eq!(err.unwrap_err().class(), "content_too_long");
    let unknown = ChannelKey::from_bytes([1; 32]).id();
    let err = sim.with_node(0, |n, now, _| n.send_channel(&unknown, b"x", false, now));
    assert_eq!(err.unwrap_err().class(), "unknown_channel");
}

#[test]
fn the_channel_count_is_bounded() {
    let mut n = node(1, FloodConfig::default(), 7);
    for k in 1..8u8 {
        n.join_channel(ChannelKey::from_bytes([k; 32])).unwrap();
    }
    n.join_channel(channel_key()).unwrap();
    let err = n.join_channel(ChannelKey::from_bytes([99; 32]));
    assert_eq!(err.unwrap_err().class(), "channel_limit");
}
