//! A deterministic network simulator for [`MeshNode`]s on one shared radio
//! channel: who hears whom is a directed graph, every transmission takes
//! its airtime at the configured bitrate, and each reception is lost with
//! a configured probability drawn from a caller-supplied random generator,
//! so a seed gives one reproducible run.
//!
//! Not modelled yet (the LoRa link layer, `spec/11`, is planned): collisions,
//! capture, duty-cycle limits, and fragmentation (datagrams above a node's
//! MTU are dropped by the node itself).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use bytes::Bytes;
use rand_core::Rng;

use crate::node::{Event, MeshNode};
use crate::routing::LinkId;

/// The link id every simulated node uses for the radio.
pub const RADIO: LinkId = LinkId(0);

/// The channel's physics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadioConfig {
    /// Bits per second (at least 1): a datagram of `n` bytes is on air for
    /// `ceil(8000 n / bitrate_bps)` ms.
    pub bitrate_bps: u64,
    /// Probability, in thousandths, that one receiver misses one
    /// transmission (0..=1000).
    pub loss_permille: u16,
}

/// What happened on the channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams transmitted.
    pub transmissions: u64,
    /// Bytes transmitted.
    pub bytes: u64,
    /// Receptions delivered to a node.
    pub receptions: u64,
    /// Receptions lost.
    pub lost: u64,
}

/// A datagram on air: (arrival time, tie-breaking order, receiver, bytes).
type InFlight = (u64, u64, usize, Vec<u8>);

/// The simulator: nodes, the hearing graph, datagrams in flight and virtual
/// time.
#[derive(Debug)]
pub struct Simulator<R> {
    nodes: Vec<MeshNode>,
    hears: Vec<Vec<usize>>,
    radio: RadioConfig,
    rng: R,
    now: u64,
    order: u64,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    events: Vec<(u64, usize, Event)>,
    stats: Stats,
    sent: Vec<u64>,
}

impl<R: Rng> Simulator<R> {
    /// An empty channel at time 0.
    pub fn new(radio: RadioConfig, rng: R) -> Self {
        Simulator {
            nodes: Vec::new(),
            hears: Vec::new(),
            radio: RadioConfig {
                bitrate_bps: radio.bitrate_bps.max(1),
                loss_permille: radio.loss_permille.min(1000),
            },
            rng,
            now: 0,
            order: 0,
            in_flight: BinaryHeap::new(),
            events: Vec::new(),
            stats: Stats::default(),
            sent: Vec::new(),
        }
    }

    /// Adds a node (its radio must be link [`RADIO`]); returns its index.
    pub fn add_node(&mut self, node: MeshNode) -> usize {
        self.nodes.push(node);
        self.hears.push(Vec::new());
        self.sent.push(0);
        self.nodes.len() - 1
    }

    /// `b` hears `a`'s transmissions.
    pub fn hear(&mut self, a: usize, b: usize) {
        if a != b && !self.hears[a].contains(&b) {
            self.hears[a].push(b);
        }
    }

    /// `a` and `b` hear each other.
    pub fn connect(&mut self, a: usize, b: usize) {
        self.hear(a, b);
        self.hear(b, a);
    }

    /// Whether `b` hears `a`.
    pub fn hears(&self, a: usize, b: usize) -> bool {
        self.hears[a].contains(&b)
    }

    /// The current virtual time, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A node.
    pub fn node(&self, i: usize) -> &MeshNode {
        &self.nodes[i]
    }

    /// A node, to call `announce` or `send_sealed` on (at [`Simulator::now`]).
    pub fn node_mut(&mut self, i: usize) -> &mut MeshNode {
        &mut self.nodes[i]
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Channel statistics so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Bytes node `i` has transmitted.
    pub fn bytes_sent_by(&self, i: usize) -> u64 {
        self.sent[i]
    }

    /// Every event so far: (time, node, event).
    pub fn events(&self) -> &[(u64, usize, Event)] {
        &self.events
    }

    fn airtime(&self, len: usize) -> u64 {
        (len as u64 * 8000).div_ceil(self.radio.bitrate_bps)
    }

    /// Puts every pending transmission on air and collects events.
    fn drain(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(t) = self.nodes[i].poll_transmit() {
                self.stats.transmissions += 1;
                self.stats.bytes += t.bytes.len() as u64;
                self.sent[i] += t.bytes.len() as u64;
                let arrival = self.now + self.airtime(t.bytes.len());
                for j in self.hears[i].clone() {
                    // A uniform draw in 0..1000 by multiply-and-shift.
                    let draw = (u64::from(self.rng.next_u32()) * 1000) >> 32;
                    if draw < u64::from(self.radio.loss_permille) {
                        self.stats.lost += 1;
                        continue;
                    }
                    self.order += 1;
                    self.in_flight
                        .push(Reverse((arrival, self.order, j, t.bytes.clone())));
                }
            }
            while let Some(e) = self.nodes[i].poll_event() {
                self.events.push((self.now, i, e));
            }
        }
    }

    /// Runs receptions and timers in time order until `end` (inclusive),
    /// then sets the clock to `end`.
    pub fn run_until(&mut self, end: u64) {
        loop {
            self.drain();
            let arrival = self.in_flight.peek().map(|Reverse(f)| f.0);
            let timer = self.nodes.iter().filter_map(MeshNode::poll_timeout).min();
            let Some(next) = arrival.into_iter().chain(timer).min().filter(|&t| t <= end) else {
                break;
            };
            self.now = self.now.max(next);
            while let Some(Reverse((at, _, to, bytes))) = self.in_flight.peek().cloned() {
                if at > self.now {
                    break;
                }
                self.in_flight.pop();
                self.stats.receptions += 1;
                self.nodes[to].handle_datagram(RADIO, Bytes::from(bytes), self.now);
            }
            for node in &mut self.nodes {
                if node.poll_timeout().is_some_and(|t| t <= self.now) {
                    node.handle_timeout(self.now);
                }
            }
        }
        self.now = self.now.max(end);
        self.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{LinkConfig, NodeConfig};
    use crate::rebroadcast::AirtimeBudget;
    use qpc_crypto::identity::Identity;
    use rand_chacha::rand_core::SeedableRng;

    fn pair(loss_permille: u16) -> Simulator<rand_chacha::ChaCha20Rng> {
        let radio = RadioConfig {
            bitrate_bps: 1760,
            loss_permille,
        };
        let mut sim = Simulator::new(radio, rand_chacha::ChaCha20Rng::from_seed([1; 32]));
        for n in [1u8, 2] {
            let mut node = MeshNode::new(
                Identity::from_seeds(&[n; 32], &[n; 32]),
                NodeConfig::default(),
                1,
                &mut rand_chacha::ChaCha20Rng::from_seed([n; 32]),
            )
            .unwrap();
            let link = LinkConfig {
                mtu: 222,
                cost: 9,
                budget: AirtimeBudget::two_percent(1760),
                shared: true,
            };
            node.add_link(RADIO, link, 0).unwrap();
            sim.add_node(node);
        }
        sim.connect(0, 1);
        sim
    }

    #[test]
    fn receptions_arrive_after_their_airtime() {
        let mut sim = pair(0);
        sim.node_mut(0).announce(0).unwrap();
        // 152 bytes at 1760 bit/s: 691 ms on air.
        sim.run_until(690);
        assert_eq!(sim.stats().receptions, 0);
        sim.run_until(691);
        assert_eq!(sim.stats().receptions, 1);
        let peer = sim.node(0).address();
        assert!(sim.node(1).routing_table().route(&peer, 691).is_some());
    }

    #[test]
    fn total_loss_delivers_nothing() {
        let mut sim = pair(1000);
        sim.node_mut(0).announce(0).unwrap();
        sim.node_mut(1).announce(0).unwrap();
        sim.run_until(10_000);
        let stats = sim.stats();
        assert_eq!(
            (stats.transmissions, stats.receptions, stats.lost),
            (2, 0, 2)
        );
        assert!(sim.node(1).routing_table().is_empty());
    }
}
