//! Scenarios of issue 6's bar beyond plain unicast: a destination offline
//! for minutes while relays hold its messages (and restart from their
//! exported state meanwhile), and broadcasts on a channel.

use qpc_crypto::identity::Address;

use super::adapter;
use super::scenario::{below, build, run, staggered_announces, NetworkConfig, Outcome};
use super::Simulator;
use crate::channel::ChannelKey;
use crate::envelope::MessageType;
use crate::node::{Event, MeshNode, NodeConfig};
use crate::{Error, Result};

/// The offline scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfflineConfig {
    /// The network.
    pub network: NetworkConfig,
    /// Announce warm-up before the destination goes offline.
    pub warmup_ms: u64,
    /// How long the destination stays offline.
    pub offline_ms: u64,
    /// Messages sent to it while it is offline, 10 s apart from 10 s in.
    pub messages: usize,
    /// Payload bytes per message.
    pub payload_len: usize,
    /// When, after the destination went offline, every node holding a
    /// message for it restarts from its exported state (`None`: no
    /// restart).
    pub restart_after_ms: Option<u64>,
    /// After the destination returns, before the run ends.
    pub drain_ms: u64,
}

impl Default for OfflineConfig {
    /// 100 nodes, a 300 s warm-up, 10 minutes offline, 5 messages,
    /// holders restarted after 5 minutes, 10 minutes to drain.
    fn default() -> Self {
        OfflineConfig {
            network: NetworkConfig::default(),
            warmup_ms: 300_000,
            offline_ms: 600_000,
            messages: 5,
            payload_len: 32,
            restart_after_ms: Some(300_000),
            drain_ms: 600_000,
        }
    }
}

/// What the offline scenario saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineReport {
    /// The origin and the destination.
    pub pair: (usize, usize),
    /// Hops between them on the graph.
    pub hops: usize,
    /// When the destination went offline and came back, ms.
    pub offline: (u64, u64),
    /// Nodes restarted, and the messages for the destination their stores
    /// held before and after the restart.
    pub restarted: Vec<(usize, usize, usize)>,
    /// Whether every restarted engine exported the same state as before.
    pub states_identical: bool,
    /// Messages sent, delivered, and confirmed to the origin.
    pub sent: usize,
    /// Delivered (all after the return).
    pub delivered: usize,
    /// Receipts at the origin.
    pub confirmed: usize,
    /// Deliveries before the destination came back (must be 0).
    pub delivered_early: usize,
    /// The latest delivery after the return, ms after it.
    pub last_delivery_after_return_ms: Option<u64>,
    /// Copies of messages for the destination still stored at the end.
    pub still_held: usize,
    /// Drop events for the destination's messages, by reason.
    pub drops: Vec<(String, usize)>,
}

impl OfflineReport {
    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        let held: Vec<String> = self
            .restarted
            .iter()
            .map(|(i, before, after)| format!("node {i}: {before} -> {after}"))
            .collect();
        vec![
            format!(
                "offline: node {} -> node {} ({} hops); destination offline from {:.0} s to {:.0} s",
                self.pair.0,
                self.pair.1,
                self.hops,
                self.offline.0 as f64 / 1000.0,
                self.offline.1 as f64 / 1000.0
            ),
            format!(
                "restarted from exported state: {} node(s) holding messages for it (held before -> after: {}); states identical: {}",
                self.restarted.len(),
                if held.is_empty() { "-".into() } else { held.join(", ") },
                self.states_identical
            ),
            format!(
                "messages: {} sent while offline, {} delivered ({} before the return), {} receipts; last delivery {} after the return",
                self.sent,
                self.delivered,
                self.delivered_early,
                self.confirmed,
                self.last_delivery_after_return_ms
                    .map_or("-".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0))
            ),
            format!(
                "at the end: {} copies still stored; drops for the destination: {}",
                self.still_held,
                drops_text(&self.drops)
            ),
        ]
    }
}

/// A destination goes offline after the warm-up; a distant origin sends it
/// messages; the nodes holding them restart from exported state; the
/// destination returns and announces.
pub fn offline(config: &OfflineConfig) -> Result<(Outcome, OfflineReport)> {
    let mut network = build(&config.network)?;
    let n = network.sim.len();
    if n < 3 {
        return Err(Error::InvalidConfig("offline needs at least three nodes"));
    }
    let (origin, destination, hops) = distant_pair(&mut network.sim, &network.topology);
    let timeline = staggered_announces(&mut network.sim, 10_000);
    let gone = config.warmup_ms;
    let back = gone + config.offline_ms;
    run(&mut network.sim, timeline, gone)?;
    network.sim.log_events();
    network.sim.set_online(destination, false);
    let baseline = network.sim.stats();
    let mut tags = Vec::new();
    let mut restarted = Vec::new();
    let mut states_identical = true;
    let sends: Vec<u64> = (1..=config.messages as u64)
        .map(|k| gone + 10_000 * k)
        .collect();
    let restart_at = config.restart_after_ms.map(|d| gone + d);
    let mut points: Vec<u64> = sends.clone();
    points.extend(restart_at);
    points.sort_unstable();
    for at in points {
        network.sim.run_until(at);
        if sends.contains(&at) {
            tags.push(
                network
                    .sim
                    .send_message(origin, destination, config.payload_len)?,
            );
        }
        if Some(at) == restart_at {
            let address = network.sim.node(destination).address();
            for i in (0..n).filter(|&i| i != destination) {
                let held = held_for(network.sim.node(i), &address);
                if held == 0 {
                    continue;
                }
                let state = network.sim.with_node(i, |n, _, _| n.export_state())?;
                let mut engine = MeshNode::restore(
                    network.identity(i),
                    config.network.node(),
                    &state,
                    network.sim.rng(),
                )?;
                adapter::enable_messaging(&mut engine)?;
                states_identical &= engine.export_state()? == state;
                network.sim.replace_node(i, engine)?;
                restarted.push((i, held, held_for(network.sim.node(i), &address)));
            }
        }
    }
    network.sim.run_until(back);
    network.sim.set_online(destination, true);
    network
        .sim
        .with_node(destination, |engine, now, _| engine.announce(now))?;
    network.sim.run_until(back + config.drain_ms);
    let address = network.sim.node(destination).address();
    let still_held = (0..n)
        .map(|i| held_for(network.sim.node(i), &address))
        .sum();
    let drops = drops_for(network.sim.events(), &address);
    let records = network.sim.metrics().records();
    let mine: Vec<_> = tags.iter().map(|&t| records[t as usize]).collect();
    let report = OfflineReport {
        pair: (origin, destination),
        hops,
        offline: (gone, back),
        restarted,
        states_identical,
        sent: mine.len(),
        delivered: mine.iter().filter(|r| r.delivered_at.is_some()).count(),
        confirmed: mine.iter().filter(|r| r.receipt_at.is_some()).count(),
        delivered_early: mine
            .iter()
            .filter(|r| r.delivered_at.is_some_and(|t| t < back))
            .count(),
        last_delivery_after_return_ms: mine
            .iter()
            .filter_map(|r| r.delivered_at)
            .max()
            .map(|t| t.saturating_sub(back)),
        still_held,
        drops,
    };
    Ok((Outcome::new("offline", network, baseline), report))
}

/// Drop events for messages to `destination` among `events`, by reason
/// (the variant's name).
fn drops_for(events: &[(u64, usize, Event)], destination: &Address) -> Vec<(String, usize)> {
    let mut drops: Vec<(String, usize)> = Vec::new();
    for (_, _, e) in events {
        if let Event::Dropped {
            destination: d,
            reason,
        } = e
        {
            if d == destination {
                let debug = format!("{reason:?}");
                let why = debug.split([' ', '{']).next().unwrap_or_default();
                match drops.iter_mut().find(|(w, _)| w == why) {
                    Some((_, c)) => *c += 1,
                    None => drops.push((why.to_string(), 1)),
                }
            }
        }
    }
    drops
}

/// Drops as `reason count, …` (`none` if there were none).
fn drops_text(drops: &[(String, usize)]) -> String {
    if drops.is_empty() {
        return "none".to_string();
    }
    drops
        .iter()
        .map(|(why, n)| format!("{why} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Messages for `destination` in a node's store.
fn held_for(node: &MeshNode, destination: &Address) -> usize {
    node.store()
        .iter()
        .filter(|(k, s)| {
            k.0 == *destination && s.envelope.header.message_type == MessageType::Sealed
        })
        .count()
}

/// A random destination and the node farthest from it (hops), its origin.
fn distant_pair(
    sim: &mut Simulator,
    topology: &super::topology::Topology,
) -> (usize, usize, usize) {
    let destination = below(sim, sim.len());
    let hops = topology.hop_distances(destination);
    let (origin, far) = hops
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|h| (i, h)))
        .max_by_key(|&(i, h)| (h, std::cmp::Reverse(i)))
        .expect("the destination itself is at distance 0");
    (origin, destination, far)
}

/// The broadcast scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BroadcastConfig {
    /// The network (every node joins one channel; by default every node
    /// re-announces at the engine's default interval, 15 minutes).
    pub network: NetworkConfig,
    /// Every node announces first in the first 10 s of this warm-up, so
    /// that neighbours learn each other's neighbourhoods (§13.6.1).
    pub warmup_ms: u64,
    /// Broadcasts, each from a random node.
    pub broadcasts: usize,
    /// Between two broadcasts (long enough for one to die down).
    pub interval_ms: u64,
}

impl Default for BroadcastConfig {
    /// 100 nodes with hop limit 15 and the engine's periodic announces, a
    /// 300 s warm-up, 40 broadcasts 200 s apart.
    fn default() -> Self {
        BroadcastConfig {
            network: NetworkConfig {
                hop_limit: 15,
                announce_interval_ms: NodeConfig::default().announce_interval_ms,
                ..NetworkConfig::default()
            },
            warmup_ms: 300_000,
            broadcasts: 40,
            interval_ms: 200_000,
        }
    }
}

/// What the broadcast scenario saw.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastReport {
    /// Broadcasts sent.
    pub broadcasts: usize,
    /// Deliveries over broadcasts x other nodes.
    pub mean_reach: f64,
    /// The worst single broadcast's reach.
    pub worst_reach: f64,
    /// The worst broadcast's number (from 0), origin and the origin's
    /// degree in the graph.
    pub worst: (usize, usize, usize),
    /// The worst broadcast's drop events, by reason.
    pub worst_drops: Vec<(String, usize)>,
    /// Channel frames over broadcasts x nodes (naive flooding: 1).
    pub tx_per_node: f64,
    /// The flood window and threshold used.
    pub flood: (u64, u16),
}

impl BroadcastReport {
    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!(
            "broadcast: {} broadcasts, mean reach {:.2}% (worst {:.2}%: broadcast {} from node {} of degree {}), {:.3} channel transmissions per node per broadcast (window {} ms, threshold {})",
            self.broadcasts,
            100.0 * self.mean_reach,
            100.0 * self.worst_reach,
            self.worst.0,
            self.worst.1,
            self.worst.2,
            self.tx_per_node,
            self.flood.0,
            self.flood.1
        ),
            format!("worst broadcast's drops: {}", drops_text(&self.worst_drops)),
        ]
    }
}

/// The channel every node of the broadcast scenario joins.
const CHANNEL_KEY: [u8; 32] = [0xb7; 32];

/// Every node joins one channel; broadcasts from random origins.
pub fn broadcast(config: &BroadcastConfig) -> Result<(Outcome, BroadcastReport)> {
    let mut network = build(&config.network)?;
    let degrees: Vec<usize> = network.topology.neighbours().iter().map(Vec::len).collect();
    let sim = &mut network.sim;
    let n = sim.len();
    if n < 2 || config.broadcasts == 0 {
        return Err(Error::InvalidConfig(
            "broadcast needs two nodes and a broadcast",
        ));
    }
    let key = ChannelKey::from_bytes(CHANNEL_KEY);
    let channel = key.id();
    for i in 0..n {
        sim.with_node(i, |engine, _, _| {
            engine.join_channel(ChannelKey::from_bytes(CHANNEL_KEY))
        })?;
    }
    let announces = staggered_announces(sim, 10_000);
    run(sim, announces, config.warmup_ms)?;
    sim.log_events();
    let baseline = sim.stats();
    let (mut delivered, mut worst_reach, mut worst) = (0usize, f64::INFINITY, (0, 0, 0));
    let mut worst_drops = Vec::new();
    for k in 0..config.broadcasts as u64 {
        let at = config.warmup_ms + 1 + k * config.interval_ms;
        sim.run_until(at);
        let origin = below(sim, n);
        let from = sim.events().len();
        let id = sim.with_node(origin, |engine, now, _| {
            engine.send_channel(&channel, &k.to_be_bytes(), false, now)
        })?;
        sim.run_until(at + config.interval_ms - 1);
        let got = sim.events()[from..]
            .iter()
            .filter(|(_, _, e)| matches!(e, Event::ChannelReceived { message_id, .. } if *message_id == id))
            .count();
        delivered += got;
        let reach = got as f64 / (n - 1) as f64;
        if reach < worst_reach {
            (worst_reach, worst) = (reach, (k as usize, origin, degrees[origin]));
            worst_drops = drops_for(&sim.events()[from..], &channel.as_address());
        }
    }
    let frames = sim.stats().since(&baseline).frames_of(MessageType::Channel);
    let report = BroadcastReport {
        broadcasts: config.broadcasts,
        mean_reach: delivered as f64 / (config.broadcasts * (n - 1)) as f64,
        worst_reach,
        worst,
        worst_drops,
        tx_per_node: frames as f64 / (config.broadcasts * n) as f64,
        flood: (
            config.network.flood.window_ms,
            config.network.flood.threshold,
        ),
    };
    Ok((Outcome::new("broadcast", network, baseline), report))
}
