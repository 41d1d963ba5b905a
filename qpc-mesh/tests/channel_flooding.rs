//! Broadcast channels over `MeshNode`s in the simulator (`spec/10` §12):
//! members deliver once and verify signed senders they know, non-members
//! relay, and managed flooding meets the bar of issue 6 item 6 on a
//! 100-node random geometric graph with 10% loss (≥ 99% reach, ≤ 0.6
//! transmissions per node; naive flooding spends 1.0).

use std::collections::VecDeque;

use qpc_crypto::identity::Identity;
use qpc_mesh::channel::{ChannelId, ChannelKey};
use qpc_mesh::flood::FloodConfig;
use qpc_mesh::node::{Event, LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::sim::{RadioConfig, Simulator, RADIO};
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
    let mut node = MeshNode::new(identity, config, 1).unwrap();
    let link = LinkConfig {
        mtu: 222,
        cost: 9,
        budget: AirtimeBudget::two_percent(BITRATE),
        shared: true,
    };
    node.add_link(RADIO, link, 0).unwrap();
    node.join_channel(channel_key()).unwrap();
    node
}

/// A random geometric graph: `n` points uniform in the unit square, an
/// edge between points closer than `radius`; redrawn (same seed stream)
/// until connected.
fn random_geometric_graph(n: usize, radius: f64, seed: u8) -> Vec<Vec<usize>> {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut unit = || f64::from(rng.next_u32()) / f64::from(u32::MAX);
    loop {
        let points: Vec<(f64, f64)> = (0..n).map(|_| (unit(), unit())).collect();
        let adjacency: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| {
                        let (dx, dy) = (points[i].0 - points[j].0, points[i].1 - points[j].1);
                        i != j && dx * dx + dy * dy < radius * radius
                    })
                    .collect()
            })
            .collect();
        if hop_distances(&adjacency, 0).iter().all(Option::is_some) {
            return adjacency;
        }
    }
}

fn hop_distances(adjacency: &[Vec<usize>], from: usize) -> Vec<Option<usize>> {
    let mut distance = vec![None; adjacency.len()];
    distance[from] = Some(0);
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        for &next in &adjacency[at] {
            if distance[next].is_none() {
                distance[next] = Some(distance[at].unwrap() + 1);
                queue.push_back(next);
            }
        }
    }
    distance
}

fn diameter(adjacency: &[Vec<usize>]) -> usize {
    (0..adjacency.len())
        .filter_map(|i| hop_distances(adjacency, i).into_iter().flatten().max())
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
        let adjacency = random_geometric_graph(NODES, RADIUS, seed);
        let radio = RadioConfig {
            bitrate_bps: BITRATE,
            loss_permille: LOSS_PERMILLE,
        };
        let mut sim = Simulator::new(radio, ChaCha20Rng::from_seed([seed ^ 0x55; 32]));
        for i in 0..NODES {
            sim.add_node(node(i, flood, 15));
        }
        for (i, neighbours) in adjacency.iter().enumerate() {
            for &j in neighbours {
                sim.hear(i, j);
            }
        }
        let channel = channel_key().id();
        let mut rng = ChaCha20Rng::from_seed([seed ^ 0xaa; 32]);
        for _ in 0..broadcasts {
            let origin = (rng.next_u32() as usize) % NODES;
            let before = (sim.stats().transmissions, sim.events().len());
            let now = sim.now();
            let id = sim
                .node_mut(origin)
                .send_channel(&channel, b"broadcast", false, now, &mut rng)
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
        ..FloodConfig::default()
    }
}

#[test]
fn the_graphs_are_connected_with_mean_degree_about_ten() {
    for seed in SEEDS {
        let adjacency = random_geometric_graph(NODES, RADIUS, seed);
        let degree = adjacency.iter().map(Vec::len).sum::<usize>() as f64 / NODES as f64;
        println!(
            "seed {seed}: mean degree {degree:.1}, diameter {}",
            diameter(&adjacency)
        );
        assert!((8.0..=12.5).contains(&degree), "mean degree {degree}");
        assert!(diameter(&adjacency) <= 15, "the hop limit covers it");
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

/// The sweep behind the defaults (`spec/10` §12.7):
/// `cargo test -p qpc-mesh --test channel_flooding -- --ignored --nocapture`.
#[test]
#[ignore = "a parameter sweep of a few minutes; run it to re-derive the defaults"]
fn flood_parameter_sweep() {
    let flat = measure(naive(), &SEEDS, BROADCASTS_PER_SEED);
    println!("naive: {flat:?}");
    for window_ms in [1000, 2000, 3000, 4000, 8000] {
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
fn line() -> (Simulator<ChaCha20Rng>, ChannelId) {
    let radio = RadioConfig {
        bitrate_bps: 50_000,
        loss_permille: 0,
    };
    let mut sim = Simulator::new(radio, ChaCha20Rng::from_seed([9; 32]));
    for i in 0..3 {
        sim.add_node(node(i + 1, FloodConfig::default(), 7));
    }
    let id = channel_key().id();
    assert!(sim.node_mut(1).leave_channel(&id));
    assert!(!sim.node_mut(1).leave_channel(&id));
    sim.connect(0, 1);
    sim.connect(1, 2);
    (sim, id)
}

fn received(sim: &Simulator<ChaCha20Rng>, at: usize) -> Vec<(bool, Vec<u8>)> {
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
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    // Before any announce the far member cannot verify the signature.
    sim.node_mut(0)
        .send_channel(&id, b"early", true, 0, &mut rng)
        .unwrap();
    sim.run_until(10_000);
    // After the announces (relayed within a 2% airtime share) it can.
    for i in 0..3 {
        sim.node_mut(i).announce(10_000).unwrap();
    }
    sim.run_until(100_000);
    sim.node_mut(0)
        .send_channel(&id, b"late", true, 100_000, &mut rng)
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
    let err = sim
        .node_mut(0)
        .send_channel(&id, &long, true, 110_000, &mut rng);
    assert_eq!(err.unwrap_err().class(), "content_too_long");
    let unknown = ChannelKey::from_bytes([1; 32]).id();
    let err = sim
        .node_mut(0)
        .send_channel(&unknown, b"x", false, 110_000, &mut rng);
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
