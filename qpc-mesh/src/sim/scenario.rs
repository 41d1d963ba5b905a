//! Scenarios: a network built from a [`NetworkConfig`], a timeline of
//! [`Step`]s run in time order, and a [`Report`] of what was measured.
//! A new scenario is a function that builds its timeline (and, if it
//! needs one, a new kind of step).

use std::collections::BTreeMap;

use qpc_crypto::identity::{Address, Identity};

use super::adapter;
use super::metrics::{ratio, Summary};
use super::svg::{self, Plot};
use super::topology::{self, Connectivity, EdgeConfig, Topology};
use super::{Simulator, Stats};
use crate::envelope::MessageType;
use crate::flood::FloodConfig;
use crate::node::{LinkConfig, MeshNode, NodeConfig};
use crate::rebroadcast::AirtimeBudget;
use crate::{Error, Result};

/// The graph a network is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nodes on a line, each hearing its neighbours.
    Line,
    /// The smallest square-ish grid with at least the requested nodes
    /// (`ceil(sqrt n)` wide).
    Grid,
    /// A connected random geometric graph in the unit square.
    RandomGeometric,
}

/// Draws of a random geometric graph before giving up on connectivity.
const RGG_ATTEMPTS: usize = 100;

/// A network to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkConfig {
    /// The graph.
    pub shape: Shape,
    /// Nodes (a grid rounds up to full rows).
    pub nodes: usize,
    /// Target mean degree of a random geometric graph (sets its radius).
    pub mean_degree: f64,
    /// Every edge's latency and loss.
    pub edge: EdgeConfig,
    /// Every radio's bitrate, bits per second.
    pub bitrate_bps: u64,
    /// Every radio's MTU, bytes.
    pub mtu: usize,
    /// Every node's hop limit (1..=15).
    pub hop_limit: u8,
    /// Whether overlapping receptions collide ([`Simulator::model_collisions`]).
    pub collisions: bool,
    /// Every node's managed flooding of channel messages.
    pub flood: FloodConfig,
    /// Every node's periodic announces (`spec/10` §4.7) once the
    /// scenario's timeline made it announce; 0: only the timeline's.
    pub announce_interval_ms: u64,
    /// The seed of the whole run.
    pub seed: u64,
}

impl Default for NetworkConfig {
    /// 100 nodes, mean degree 10, 10% loss and 5 ms per edge, 50 kbit/s
    /// radios with a 2048-byte MTU (`SIMULATION.md` says why), the node's
    /// default hop limit (7), no collisions, no periodic announces, seed 1.
    fn default() -> Self {
        NetworkConfig {
            shape: Shape::RandomGeometric,
            nodes: 100,
            mean_degree: 10.0,
            edge: EdgeConfig {
                latency_ms: 5,
                loss_permille: 100,
            },
            bitrate_bps: 50_000,
            mtu: 2048,
            hop_limit: NodeConfig::default().hop_limit,
            collisions: false,
            flood: FloodConfig::default(),
            announce_interval_ms: 0,
            seed: 1,
        }
    }
}

impl NetworkConfig {
    /// Every node's engine configuration.
    pub fn node(&self) -> NodeConfig {
        NodeConfig {
            hop_limit: self.hop_limit,
            flood: self.flood,
            announce_interval_ms: self.announce_interval_ms,
            ..NodeConfig::default()
        }
    }

    /// The radio every node gets: shared, cost 9, a 2% announce budget.
    pub fn radio(&self) -> LinkConfig {
        LinkConfig {
            mtu: self.mtu,
            cost: 9,
            budget: AirtimeBudget::two_percent(self.bitrate_bps),
            shared: true,
        }
    }
}

/// A built network.
#[derive(Debug)]
pub struct Network {
    /// What it was built from.
    pub config: NetworkConfig,
    /// The simulator, its nodes joined as in `topology`.
    pub sim: Simulator,
    /// The graph.
    pub topology: Topology,
    /// Random geometric graphs drawn to get a connected one (1 otherwise).
    pub draws: usize,
    /// Each node's identity seeds (signing, KEM), to restart it.
    pub seeds: Vec<[[u8; 32]; 2]>,
}

impl Network {
    /// Node `i`'s identity.
    pub fn identity(&self, i: usize) -> Identity {
        Identity::from_seeds(&self.seeds[i][0], &self.seeds[i][1])
    }
}

/// Builds the topology, one default [`MeshNode`] per position (identities
/// from the seed) and their edges.
pub fn build(config: &NetworkConfig) -> Result<Network> {
    let mut sim = Simulator::new(config.seed);
    if config.collisions {
        sim.model_collisions();
    }
    let n = config.nodes;
    let (topology, draws) = match config.shape {
        Shape::Line => (topology::line(n, 1.0, config.edge), 1),
        Shape::Grid => {
            let width = (1..=n).find(|w| w * w >= n).unwrap_or(0);
            let height = if width == 0 { 0 } else { n.div_ceil(width) };
            (topology::grid(width, height, 1.0, config.edge), 1)
        }
        Shape::RandomGeometric => {
            let radius = topology::radius_for_degree(n, 1.0, config.mean_degree);
            topology::random_geometric_connected(
                n,
                1.0,
                radius,
                config.edge,
                sim.rng(),
                RGG_ATTEMPTS,
            )
            .ok_or(Error::InvalidConfig(
                "no connected random geometric graph in 100 draws: raise the degree",
            ))?
        }
    };
    let mut all_seeds = Vec::with_capacity(topology.positions.len());
    for &position in &topology.positions {
        let mut seeds = [[0u8; 32]; 2];
        for seed in &mut seeds {
            rand_core::Rng::fill_bytes(sim.rng(), seed);
        }
        let identity = Identity::from_seeds(&seeds[0], &seeds[1]);
        let mut engine = MeshNode::new(identity, config.node(), 1, sim.rng())?;
        adapter::enable_messaging(&mut engine)?;
        sim.add_node(engine, position, config.radio())?;
        all_seeds.push(seeds);
    }
    sim.add_edges(&topology);
    Ok(Network {
        config: *config,
        sim,
        topology,
        draws,
        seeds: all_seeds,
    })
}

/// One thing a scenario does at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The node announces itself.
    Announce(usize),
    /// A scenario message of the given length from one node to another.
    Send {
        /// The origin.
        from: usize,
        /// The destination.
        to: usize,
        /// Payload bytes.
        len: usize,
    },
    /// Measurement starts: traffic counts from here on.
    Measure,
}

/// Runs `(time, step)` in time order (stable for equal times), then
/// until `end`; returns the link statistics at [`Step::Measure`] (or at
/// the start).
pub fn run(sim: &mut Simulator, mut timeline: Vec<(u64, Step)>, end: u64) -> Result<Stats> {
    timeline.sort_by_key(|&(at, _)| at);
    let mut baseline = sim.stats();
    for (at, step) in timeline {
        sim.run_until(at);
        match step {
            Step::Announce(i) => sim.with_node(i, |engine, now, _| engine.announce(now))?,
            Step::Send { from, to, len } => {
                sim.send_message(from, to, len)?;
            }
            Step::Measure => baseline = sim.stats(),
        }
    }
    sim.run_until(end);
    Ok(baseline)
}

/// A uniform draw in `0..n` (n at least 1) by multiply-and-shift.
pub(super) fn below(sim: &mut Simulator, n: usize) -> usize {
    ((u128::from(rand_core::Rng::next_u64(sim.rng())) * n as u128) >> 64) as usize
}

/// Two distinct nodes (n at least 2).
fn pair(sim: &mut Simulator, n: usize) -> (usize, usize) {
    let from = below(sim, n);
    let to = (from + 1 + below(sim, n - 1)) % n;
    (from, to)
}

/// Every node announcing once at a uniform time in `0..spread_ms`.
pub(super) fn staggered_announces(sim: &mut Simulator, spread_ms: u64) -> Vec<(u64, Step)> {
    (0..sim.len())
        .map(|i| {
            (
                below(sim, spread_ms.max(1) as usize) as u64,
                Step::Announce(i),
            )
        })
        .collect()
}

/// The unicast scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnicastConfig {
    /// The network.
    pub network: NetworkConfig,
    /// Messages, between uniformly random distinct pairs.
    pub messages: usize,
    /// Payload bytes per message.
    pub payload_len: usize,
    /// Announces are spread over the first 10 s; traffic starts here.
    pub warmup_ms: u64,
    /// Between two messages.
    pub interval_ms: u64,
    /// After the last message, before the run ends.
    pub drain_ms: u64,
}

impl Default for UnicastConfig {
    /// 200 messages of 32 content bytes (sealed: about 1.45 KB) one second apart after a 300 s warm-up
    /// (a relay needs ~130 s of its 2% budget to pass on 100 announces),
    /// 300 s to drain (end-to-end retries start after 60 s).
    fn default() -> Self {
        UnicastConfig {
            network: NetworkConfig::default(),
            messages: 200,
            payload_len: 32,
            warmup_ms: 300_000,
            interval_ms: 1_000,
            drain_ms: 300_000,
        }
    }
}

/// Announce warm-up, then messages between random pairs.
pub fn unicast(config: &UnicastConfig) -> Result<Outcome> {
    let mut network = build(&config.network)?;
    let sim = &mut network.sim;
    let n = sim.len();
    if n < 2 {
        return Err(Error::InvalidConfig("unicast needs at least two nodes"));
    }
    let mut timeline = staggered_announces(sim, 10_000);
    timeline.push((config.warmup_ms, Step::Measure));
    for k in 0..config.messages as u64 {
        let (from, to) = pair(sim, n);
        let at = config.warmup_ms + k * config.interval_ms;
        let len = config.payload_len;
        timeline.push((at, Step::Send { from, to, len }));
    }
    let last = config.warmup_ms + config.messages as u64 * config.interval_ms;
    let baseline = run(sim, timeline, last + config.drain_ms)?;
    Ok(Outcome::new("unicast", network, baseline))
}

/// The scale scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleConfig {
    /// The network.
    pub network: NetworkConfig,
    /// Simulated time.
    pub duration_ms: u64,
    /// Each node announces at a random phase, then every interval.
    pub announce_interval_ms: u64,
    /// Between two messages (random distinct pairs), from the start.
    pub message_interval_ms: u64,
    /// Payload bytes per message.
    pub payload_len: usize,
}

impl Default for ScaleConfig {
    /// 1000 nodes for one hour, each announcing every 20 minutes (within
    /// the 30-minute route lifetime), a 32-byte message (sealed: about 1.45 KB) every 10 s.
    fn default() -> Self {
        ScaleConfig {
            network: NetworkConfig {
                nodes: 1000,
                ..NetworkConfig::default()
            },
            duration_ms: 3_600_000,
            announce_interval_ms: 1_200_000,
            message_interval_ms: 10_000,
            payload_len: 32,
        }
    }
}

/// Periodic announces from every node and a steady trickle of messages.
pub fn scale(config: &ScaleConfig) -> Result<Outcome> {
    let mut network = build(&config.network)?;
    let sim = &mut network.sim;
    let n = sim.len();
    if n < 2 || config.announce_interval_ms == 0 || config.message_interval_ms == 0 {
        return Err(Error::InvalidConfig(
            "scale needs two nodes and non-zero intervals",
        ));
    }
    let mut timeline = Vec::new();
    for (phase, step) in staggered_announces(sim, config.announce_interval_ms) {
        let times = (phase..config.duration_ms).step_by(config.announce_interval_ms as usize);
        timeline.extend(times.map(|at| (at, step)));
    }
    for at in (0..config.duration_ms).step_by(config.message_interval_ms as usize) {
        let (from, to) = pair(sim, n);
        let len = config.payload_len;
        timeline.push((at, Step::Send { from, to, len }));
    }
    let baseline = run(sim, timeline, config.duration_ms)?;
    Ok(Outcome::new("scale", network, baseline))
}

/// A finished scenario.
#[derive(Debug)]
pub struct Outcome {
    /// The scenario's name.
    pub name: &'static str,
    /// The network as the run left it.
    pub network: Network,
    /// Link statistics when measurement started.
    pub baseline: Stats,
}

/// Figures of a finished scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Nodes.
    pub nodes: usize,
    /// The graph's components and degree.
    pub connectivity: Connectivity,
    /// Simulated time, ms.
    pub sim_ms: u64,
    /// The scenario messages.
    pub summary: Summary,
    /// Link statistics since measurement started.
    pub measured: Stats,
    /// Share of ordered node pairs with a live route at the end.
    pub route_coverage: f64,
    /// Share of ordered node pairs at most `hop_limit + 1` hops apart (the
    /// farthest an announce travels).
    pub within_announce_reach: f64,
    /// Of the pairs within announce reach, the share with a live route.
    pub coverage_within_reach: f64,
    /// Announces left unsent by rebroadcast queues.
    pub announces_dropped: u64,
}

impl Report {
    /// Frames per delivered message, during measurement (None if none
    /// was delivered).
    pub fn frames_per_delivery(&self) -> Option<f64> {
        per(self.measured.transmissions, self.summary.delivered)
    }

    /// Bytes per delivered message, during measurement.
    pub fn bytes_per_delivery(&self) -> Option<f64> {
        per(self.measured.bytes, self.summary.delivered)
    }
}

/// The farthest an announce travels: its originator's hop limit plus one
/// (a copy is relayed while its hop count is below the limit).
fn reach_hops(config: &NetworkConfig) -> usize {
    usize::from(config.hop_limit) + 1
}

fn per(total: u64, count: usize) -> Option<f64> {
    (count > 0).then(|| total as f64 / count as f64)
}

impl Outcome {
    pub(super) fn new(name: &'static str, network: Network, baseline: Stats) -> Self {
        Outcome {
            name,
            network,
            baseline,
        }
    }

    fn addresses(&self) -> BTreeMap<Address, usize> {
        let sim = &self.network.sim;
        (0..sim.len()).map(|i| (sim.node(i).address(), i)).collect()
    }

    /// Whether node `i` holds a live route to node `j`, for every pair
    /// (`routed[i][j]`, false on the diagonal).
    fn routed(&self) -> Vec<Vec<bool>> {
        let sim = &self.network.sim;
        let addresses = self.addresses();
        (0..sim.len())
            .map(|i| {
                let table = sim.node(i).routing_table();
                let mut row = vec![false; sim.len()];
                for (address, &j) in &addresses {
                    row[j] = j != i && table.route(address, sim.now()).is_some();
                }
                row
            })
            .collect()
    }

    /// For each node, how many other nodes hold a live route to it.
    fn routes_to(&self) -> Vec<usize> {
        let routed = self.routed();
        (0..routed.len())
            .map(|j| routed.iter().filter(|row| row[j]).count())
            .collect()
    }

    /// The figures.
    pub fn report(&self) -> Report {
        let sim = &self.network.sim;
        let n = sim.len();
        let stats = sim.stats();
        let routed = self.routed();
        let reach = reach_hops(&self.network.config);
        let (mut pairs, mut routes, mut near, mut near_routes) = (0, 0, 0, 0);
        for (i, row) in routed.iter().enumerate() {
            let hops = self.network.topology.hop_distances(i);
            for j in (0..n).filter(|&j| j != i) {
                let within = hops[j].is_some_and(|h| h <= reach);
                pairs += 1;
                routes += usize::from(row[j]);
                near += usize::from(within);
                near_routes += usize::from(within && row[j]);
            }
        }
        Report {
            nodes: n,
            connectivity: self.network.topology.connectivity(),
            sim_ms: sim.now(),
            summary: sim.metrics().summary(),
            measured: stats.since(&self.baseline),
            route_coverage: ratio(routes, pairs),
            within_announce_reach: ratio(near, pairs),
            coverage_within_reach: ratio(near_routes, near),
            announces_dropped: sim.metrics().announces_dropped,
        }
    }

    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        let config = &self.network.config;
        let r = self.report();
        let s = &r.summary;
        let c = &r.connectivity;
        let mut lines = vec![
            format!(
                "{}: {} nodes ({:?}, mean degree {:.1}, {} component(s), {} draw(s)), seed {}",
                self.name,
                r.nodes,
                config.shape,
                c.mean_degree,
                c.components,
                self.network.draws,
                config.seed
            ),
            format!(
                "links: loss {:.1}%, latency {} ms, {} bit/s, MTU {} B, hop limit {}, collisions {}; simulated {:.1} s",
                f64::from(config.edge.loss_permille) / 10.0,
                config.edge.latency_ms,
                config.bitrate_bps,
                config.mtu,
                config.hop_limit,
                if config.collisions { "on" } else { "off" },
                r.sim_ms as f64 / 1000.0
            ),
            format!(
                "messages: {} sent, {} with a path, {} delivered ({:.2}% where a path exists), {} receipts ({:.2}%)",
                s.sent,
                s.with_path,
                s.delivered,
                100.0 * s.delivery_ratio(),
                s.confirmed,
                100.0 * s.receipt_ratio()
            ),
        ];
        lines.push(match s.latency_ms {
            Some(p) => format!(
                "latency (nearest rank): p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
                p.p50, p.p90, p.p99, p.max
            ),
            None => "latency: nothing delivered".to_string(),
        });
        let m = &r.measured;
        lines.push(format!(
            "measured: {} frames, {} bytes, {} receptions, {} lost, {} collided; per delivered message {} frames, {} bytes",
            m.transmissions,
            m.bytes,
            m.receptions,
            m.lost,
            m.collided,
            r.frames_per_delivery().map_or("-".into(), |f| format!("{f:.1}")),
            r.bytes_per_delivery().map_or("-".into(), |f| format!("{f:.0}"))
        ));
        let by_type: Vec<String> = MessageType::ALL
            .iter()
            .map(|&t| format!("{t:?} {}", m.frames_of(t)))
            .collect();
        lines.push(format!("measured frames by type: {}", by_type.join(", ")));
        lines.push(format!(
            "Sealed frames per delivered message {}",
            per(m.frames_of(MessageType::Sealed), s.delivered)
                .map_or("-".into(), |f| format!("{f:.1}"))
        ));
        lines.push(format!(
            "announces: routes for {:.2}% of node pairs; {:.2}% of pairs are within {} hops (hop limit + 1), {:.2}% of those have one; {} dropped from rebroadcast queues",
            100.0 * r.route_coverage,
            100.0 * r.within_announce_reach,
            reach_hops(config),
            100.0 * r.coverage_within_reach,
            r.announces_dropped
        ));
        lines
    }

    /// The run as an SVG: nodes coloured by the share of messages to them
    /// that were delivered (grey: none sent to them), or, when no message
    /// was sent, by the share of other nodes with a route to them.
    pub fn svg(&self, title: &[String]) -> String {
        let sim = &self.network.sim;
        let records = sim.metrics().records();
        let mut latencies: Vec<u64> = records.iter().filter_map(|r| r.latency()).collect();
        latencies.sort_unstable();
        let (scores, label): (Vec<Option<f64>>, &str) = if records.is_empty() {
            let others = sim.len().saturating_sub(1).max(1) as f64;
            let scores = self
                .routes_to()
                .iter()
                .map(|&c| Some(c as f64 / others))
                .collect();
            (scores, "routed to by")
        } else {
            let mut to = vec![(0usize, 0usize); sim.len()];
            for r in records {
                to[r.destination].0 += 1;
                to[r.destination].1 += usize::from(r.delivered_at.is_some());
            }
            let scores = to
                .iter()
                .map(|&(sent, got)| (sent > 0).then(|| got as f64 / sent as f64))
                .collect();
            (scores, "delivered")
        };
        svg::render(&Plot {
            topology: &self.network.topology,
            scores: &scores,
            score_label: label,
            latencies_ms: &latencies,
            title,
        })
    }
}
