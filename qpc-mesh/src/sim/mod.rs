//! A deterministic discrete-event simulator for [`MeshNode`]s (see
//! `SIMULATION.md` at the repository root).
//!
//! Virtual time is in milliseconds. Every node has one radio, link
//! [`RADIO`], a shared medium: its transmissions are heard along directed
//! edges, each with its own latency and loss. The radio sends one frame at
//! a time at the bitrate of the node's [`LinkConfig`] (a frame starts at
//! `max(now, end of the frame before)` and lasts `ceil(8000 len /
//! bitrate)` ms) and refuses frames above the link's MTU. Point-to-point
//! links between two nodes have their own link id, latency, loss and
//! bitrate. A frame is received `latency` ms after its last bit was sent,
//! unless the edge's loss draw drops it or the receiver is offline then.
//!
//! One seed drives everything through ChaCha20 streams (the loss draws,
//! and separately the scenario's choices and the nodes' randomness);
//! events at the same millisecond run in the order they were scheduled,
//! and no hash-map order is involved, so a seed gives one run.
//!
//! Collisions are optional ([`Simulator::model_collisions`], off by
//! default): two receptions that overlap in time at one receiver are both
//! lost, without capture (the stronger frame does not survive) and
//! without counting frames the loss draw already dropped.
//!
//! A node added with [`Simulator::add_lora_node`] has a LoRa radio
//! instead ([`lora`]): its datagrams go through a
//! [`crate::lora::link::LoraLink`] (fragmentation with selective repeat,
//! the priority queue, the sub-band's duty-cycle budget), what goes on air
//! are link frames lasting the radio profile's exact time on air, and each
//! frame is lost or collides on its own.
//!
//! Not modelled: capture, half duplex (a node hears while it transmits),
//! carrier sense, duty-cycle regulation on the plain radio beyond the
//! node's own airtime budget, fragmentation on the plain radio (a frame
//! above the MTU is refused), propagation
//! delay as a function of distance (an edge's latency is configured), and
//! processing time (a node's work takes no virtual time). A node taken
//! offline still finishes the frames its radio had already accepted.

pub mod adapter;
pub mod lora;
pub mod lora_line;
pub mod lora_session;
pub mod metrics;
pub mod recovery;
pub mod scenario;
pub mod svg;
pub mod topology;
pub mod upper;

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use bytes::Bytes;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::envelope::MessageType;
use crate::lora::link::LoraLinkConfig;
use crate::node::{Event, LinkConfig, MeshNode, MessageHandle, Transmit};
use crate::routing::LinkId;
use crate::{Error, Result};
use lora::{LoraPort, LoraTraffic};
use metrics::{Metrics, Traffic};
use topology::{breadth_first, EdgeConfig, Position, Topology};
use upper::{NoUpper, Upper};

/// The link id of every simulated node's radio.
pub const RADIO: LinkId = LinkId(0);

/// The ChaCha20 stream of the medium's loss draws.
const MEDIUM_STREAM: u64 = 0;
/// The ChaCha20 stream of the scenario's choices and the nodes' randomness.
const SCENARIO_STREAM: u64 = 1;

/// Milliseconds `len` bytes are on air at `bitrate_bps` (rounded up).
pub fn airtime_ms(len: usize, bitrate_bps: u64) -> u64 {
    (len as u64 * 8000).div_ceil(bitrate_bps.max(1))
}

/// What happened on the links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames transmitted.
    pub transmissions: u64,
    /// Bytes transmitted.
    pub bytes: u64,
    /// Frames handed to a receiving node.
    pub receptions: u64,
    /// Receptions dropped by the edge's loss draw.
    pub lost: u64,
    /// Receptions dropped because the receiver was offline.
    pub offline: u64,
    /// Frames refused: larger than the link's MTU, or on a link the
    /// simulator does not know.
    pub refused: u64,
    /// Receptions lost to a collision (when modelled).
    pub collided: u64,
    /// Frames transmitted by message type code (the low nibble of the
    /// envelope's first byte, `spec/10` §3).
    pub frames_by_type: [u64; 16],
}

impl Stats {
    /// What happened after `earlier` (an earlier snapshot of the same run).
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            transmissions: self.transmissions - earlier.transmissions,
            bytes: self.bytes - earlier.bytes,
            receptions: self.receptions - earlier.receptions,
            lost: self.lost - earlier.lost,
            offline: self.offline - earlier.offline,
            refused: self.refused - earlier.refused,
            collided: self.collided - earlier.collided,
            frames_by_type: std::array::from_fn(|t| {
                self.frames_by_type[t] - earlier.frames_by_type[t]
            }),
        }
    }

    /// Frames transmitted of one message type.
    pub fn frames_of(&self, message_type: MessageType) -> u64 {
        self.frames_by_type[usize::from(message_type.code())]
    }
}

/// One receiver of a port's frames.
#[derive(Debug, Clone, Copy)]
struct Hop {
    to: usize,
    link: LinkId,
    edge: EdgeConfig,
}

/// A node's end of a link: its configuration, when its transmitter is
/// next free, and who hears it.
#[derive(Debug)]
struct Port {
    config: LinkConfig,
    busy_until: u64,
    hops: Vec<Hop>,
    /// A LoRa radio: frames go through this link engine.
    lora: Option<LoraPort>,
}

#[derive(Debug)]
struct Slot {
    engine: MeshNode,
    position: Position,
    online: bool,
    ports: BTreeMap<LinkId, Port>,
    /// The pending timeout event, if any (older ones are ignored).
    timer: Option<u64>,
    traffic: Traffic,
}

/// Receptions in progress per receiver, to find overlaps.
#[derive(Debug, Default)]
struct Collisions {
    /// Per receiver: (start, end, order) of receptions not yet over.
    pending: Vec<Vec<(u64, u64, u64)>>,
    /// Orders of scheduled receptions that overlapped another.
    collided: BTreeSet<u64>,
}

impl Collisions {
    /// Records a reception of `[start, end)` at `to` scheduled as `order`
    /// at `now`, marking it and every pending one it overlaps.
    fn add(&mut self, to: usize, start: u64, end: u64, order: u64, now: u64) {
        if self.pending.len() <= to {
            self.pending.resize_with(to + 1, Vec::new);
        }
        let pending = &mut self.pending[to];
        // Receptions start no earlier than now: older ones cannot overlap.
        pending.retain(|&(_, until, _)| until > now);
        for &(from, until, other) in pending.iter() {
            if start < until && from < end {
                self.collided.insert(other);
                self.collided.insert(order);
            }
        }
        pending.push((start, end, order));
    }
}

#[derive(Debug)]
enum Action {
    Receive {
        from: usize,
        to: usize,
        link: LinkId,
        bytes: Bytes,
    },
    Timeout {
        node: usize,
    },
    /// A LoRa port's timer (frames due, NACKs, give-ups).
    LinkTimeout {
        node: usize,
    },
}

#[derive(Debug)]
struct Scheduled {
    at: u64,
    order: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

/// The simulator: nodes, links, the event queue and virtual time.
#[derive(Debug)]
pub struct Simulator {
    nodes: Vec<Slot>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    order: u64,
    now: u64,
    medium_rng: ChaCha20Rng,
    scenario_rng: ChaCha20Rng,
    stats: Stats,
    metrics: Metrics,
    log: Option<Vec<(u64, usize, Event)>>,
    collisions: Option<Collisions>,
    handles: BTreeMap<(usize, MessageHandle), u64>,
}

impl Simulator {
    /// An empty network at time 0, all randomness from `seed`.
    pub fn new(seed: u64) -> Self {
        let stream = |s| {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            rng.set_stream(s);
            rng
        };
        Simulator {
            nodes: Vec::new(),
            queue: BinaryHeap::new(),
            order: 0,
            now: 0,
            medium_rng: stream(MEDIUM_STREAM),
            scenario_rng: stream(SCENARIO_STREAM),
            stats: Stats::default(),
            metrics: Metrics::default(),
            log: None,
            collisions: None,
            handles: BTreeMap::new(),
        }
    }

    /// Keeps every node event from now on (see [`Simulator::events`]).
    pub fn log_events(&mut self) {
        self.log.get_or_insert_with(Vec::new);
    }

    /// Loses receptions that overlap at a receiver from now on (see the
    /// module documentation).
    pub fn model_collisions(&mut self) {
        self.collisions.get_or_insert_with(Collisions::default);
    }

    /// Adds an online node at `position` whose radio ([`RADIO`]) is
    /// `radio` (its bitrate is the budget's); returns its index.
    pub fn add_node(
        &mut self,
        engine: MeshNode,
        position: Position,
        radio: LinkConfig,
    ) -> Result<usize> {
        self.push_node(engine, position, radio, None)
    }

    /// Adds an online node at `position` whose radio ([`RADIO`]) is a LoRa
    /// radio driven through a [`crate::lora::link::LoraLink`] of `config`
    /// (its fragment tags drawn from the scenario stream); the node sees
    /// a shared link of routing cost `cost` with the link's datagram MTU.
    pub fn add_lora_node(
        &mut self,
        engine: MeshNode,
        position: Position,
        config: LoraLinkConfig,
        cost: u8,
    ) -> Result<usize> {
        let port = LoraPort::new(config, &mut self.scenario_rng)?;
        let radio = port.node_link(cost)?;
        self.push_node(engine, position, radio, Some(port))
    }

    fn push_node(
        &mut self,
        mut engine: MeshNode,
        position: Position,
        radio: LinkConfig,
        lora: Option<LoraPort>,
    ) -> Result<usize> {
        engine.add_link(RADIO, radio, self.now)?;
        let port = Port {
            config: radio,
            busy_until: 0,
            hops: Vec::new(),
            lora,
        };
        self.nodes.push(Slot {
            engine,
            position,
            online: true,
            ports: BTreeMap::from([(RADIO, port)]),
            timer: None,
            traffic: Traffic::default(),
        });
        let i = self.nodes.len() - 1;
        self.touch(i, self.now);
        Ok(i)
    }

    /// `b` hears `a`'s radio over an edge with `edge`'s latency and loss
    /// (replacing an earlier edge `a` to `b`).
    pub fn hear(&mut self, a: usize, b: usize, edge: EdgeConfig) {
        if a == b {
            return;
        }
        let hops = &mut self.port_mut(a, RADIO).hops;
        let hop = Hop {
            to: b,
            link: RADIO,
            edge,
        };
        match hops.iter_mut().find(|h| h.to == b) {
            Some(h) => *h = hop,
            None => hops.push(hop),
        }
    }

    /// `a` and `b` hear each other.
    pub fn connect(&mut self, a: usize, b: usize, edge: EdgeConfig) {
        self.hear(a, b, edge);
        self.hear(b, a, edge);
    }

    /// Adds every edge of `topology` (whose node indices are this
    /// simulator's).
    pub fn add_edges(&mut self, topology: &Topology) {
        for e in &topology.edges {
            self.hear(e.from, e.to, e.config);
        }
    }

    /// Joins `a` and `b` by a point-to-point link `link` (not [`RADIO`])
    /// at both ends, with `config` (made non-shared; its budget's bitrate is
    /// the link's) and `edge`'s latency and loss each way.
    pub fn connect_point_to_point(
        &mut self,
        a: usize,
        b: usize,
        link: LinkId,
        config: LinkConfig,
        edge: EdgeConfig,
    ) -> Result<()> {
        if link == RADIO || a == b || a.max(b) >= self.nodes.len() {
            return Err(Error::InvalidConfig(
                "a point-to-point link joins two distinct nodes on a link other than the radio",
            ));
        }
        let config = LinkConfig {
            shared: false,
            ..config
        };
        for (from, to) in [(a, b), (b, a)] {
            self.nodes[from].engine.add_link(link, config, self.now)?;
            let port = Port {
                config,
                busy_until: self.now,
                hops: vec![Hop { to, link, edge }],
                lora: None,
            };
            self.nodes[from].ports.insert(link, port);
        }
        Ok(())
    }

    fn port_mut(&mut self, node: usize, link: LinkId) -> &mut Port {
        self.nodes[node]
            .ports
            .get_mut(&link)
            .expect("every node has its radio port")
    }

    /// Whether `b` hears `a` on any link.
    pub fn hears(&self, a: usize, b: usize) -> bool {
        self.nodes[a]
            .ports
            .values()
            .any(|p| p.hops.iter().any(|h| h.to == b))
    }

    /// Which nodes `origin` reaches over links of online nodes (`origin`
    /// included, online or not).
    pub fn reachable_from(&self, origin: usize) -> Vec<bool> {
        breadth_first(self.nodes.len(), origin, |at| {
            self.nodes[at]
                .ports
                .values()
                .flat_map(|p| p.hops.iter().map(|h| h.to))
                .filter(|&to| self.nodes[to].online)
                .collect()
        })
        .iter()
        .map(Option::is_some)
        .collect()
    }

    /// Takes node `i` offline or back online. Offline, it receives nothing,
    /// sends nothing (its engine keeps what it queues) and gets no
    /// timeouts.
    pub fn set_online(&mut self, i: usize, online: bool) {
        self.nodes[i].online = online;
        self.touch(i, self.now);
    }

    /// Whether node `i` is online.
    pub fn is_online(&self, i: usize) -> bool {
        self.nodes[i].online
    }

    /// Replaces node `i`'s engine (a restart, e.g. from exported state),
    /// giving it the node's links; returns the old engine.
    pub fn replace_node(&mut self, i: usize, mut engine: MeshNode) -> Result<MeshNode> {
        for (&link, port) in &self.nodes[i].ports {
            engine.add_link(link, port.config, self.now)?;
        }
        let old = std::mem::replace(&mut self.nodes[i].engine, engine);
        self.touch(i, self.now);
        Ok(old)
    }

    /// Runs `f` on node `i`'s engine with the current time and the
    /// scenario's random generator, then collects what it queued.
    pub fn with_node<T>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut MeshNode, u64, &mut ChaCha20Rng) -> T,
    ) -> T {
        self.with_node_upper(i, &mut NoUpper, |_, engine, now, rng| f(engine, now, rng))
    }

    /// Runs `f` on `upper` and node `i`'s engine with the current time and
    /// the scenario's random generator, then collects what it queued
    /// (`upper` sees the node's events first).
    pub fn with_node_upper<T, U: Upper>(
        &mut self,
        i: usize,
        upper: &mut U,
        f: impl FnOnce(&mut U, &mut MeshNode, u64, &mut ChaCha20Rng) -> T,
    ) -> T {
        let out = f(
            upper,
            &mut self.nodes[i].engine,
            self.now,
            &mut self.scenario_rng,
        );
        self.touch_with(i, self.now, upper);
        out
    }

    /// Sends a scenario message of `len` bytes from `origin` to
    /// `destination` through the [`adapter`]; returns its tag.
    pub fn send_message(&mut self, origin: usize, destination: usize, len: usize) -> Result<u64> {
        let path = self.reachable_from(origin)[destination] && self.nodes[destination].online;
        let tag = self.metrics.sent(origin, destination, self.now, path);
        let to = self.nodes[destination].engine.identity().clone();
        let handle = self.with_node(origin, |engine, now, _| {
            adapter::send(engine, &to, tag, len, now)
        })?;
        self.handles.insert((origin, handle), tag);
        Ok(tag)
    }

    /// The scenario's random generator (the stream the nodes also use).
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.scenario_rng
    }

    /// The current virtual time, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// A node's engine.
    pub fn node(&self, i: usize) -> &MeshNode {
        &self.nodes[i].engine
    }

    /// A node's position.
    pub fn position(&self, i: usize) -> Position {
        self.nodes[i].position
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Link statistics so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What node `i` has transmitted.
    pub fn traffic(&self, i: usize) -> Traffic {
        self.nodes[i].traffic
    }

    /// The scenario messages' records.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every event since [`Simulator::log_events`]: (time, node, event).
    pub fn events(&self) -> &[(u64, usize, Event)] {
        self.log.as_deref().unwrap_or_default()
    }

    /// Schedules `action`; returns its order (unique, increasing).
    fn schedule(&mut self, at: u64, action: Action) -> u64 {
        self.order += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            order: self.order,
            action,
        }));
        self.order
    }

    /// Collects node `i`'s events and (online) transmits, and schedules
    /// its next timeout no earlier than `earliest`.
    fn touch(&mut self, i: usize, earliest: u64) {
        self.touch_with(i, earliest, &mut NoUpper);
    }

    /// [`Simulator::touch`] with `upper` seeing each event first and its
    /// timer counted in.
    fn touch_with(&mut self, i: usize, earliest: u64, upper: &mut impl Upper) {
        while let Some(event) = self.nodes[i].engine.poll_event() {
            let engine = &mut self.nodes[i].engine;
            upper.on_event(i, engine, &event, self.now, &mut self.scenario_rng);
            let handles = &self.handles;
            let tag_of_handle = |h| handles.get(&(i, h)).copied();
            if let Some(observation) = adapter::observation(&event, tag_of_handle) {
                self.metrics.observe(i, self.now, observation);
            }
            if let Some(log) = &mut self.log {
                log.push((self.now, i, event));
            }
        }
        if !self.nodes[i].online {
            self.nodes[i].timer = None;
            return;
        }
        while let Some(t) = self.nodes[i].engine.poll_transmit() {
            let now = self.now;
            match self.nodes[i]
                .ports
                .get_mut(&t.link)
                .and_then(|p| p.lora.as_mut())
            {
                Some(lora) => lora.send(now, &Bytes::from(t.bytes)),
                None => self.put_on_air(i, t),
            }
        }
        self.pump_lora(i);
        let now = self.now;
        let slot = &mut self.nodes[i];
        if let Some(lora) = slot.ports.get_mut(&RADIO).and_then(|p| p.lora.as_mut()) {
            for (report, datagram) in lora.take_reports() {
                slot.engine
                    .handle_link_report(RADIO, report, &datagram, now);
            }
        }
        let next = [self.nodes[i].engine.poll_timeout(), upper.poll_timeout(i)]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.max(earliest));
        if next != self.nodes[i].timer {
            self.nodes[i].timer = next;
            if let Some(at) = next {
                self.schedule(at, Action::Timeout { node: i });
            }
        }
    }

    /// Puts the frames node `i`'s LoRa port may send now on air (one at a
    /// time: the next when the radio is idle again) and schedules the
    /// port's timer.
    fn pump_lora(&mut self, i: usize) {
        let now = self.now;
        let online = self.nodes[i].online;
        let Some(port) = self.nodes[i].ports.get_mut(&RADIO) else {
            return;
        };
        let busy_until = port.busy_until;
        let Some(lora) = port.lora.as_mut() else {
            return;
        };
        let mut frame = None;
        if busy_until <= now && online {
            frame = lora.next_frame(now);
        }
        lora.drain_events();
        if let Some((bytes, airtime)) = frame {
            self.put_frame_on_air(i, RADIO, bytes, airtime, false);
        }
        let Some(port) = self.nodes[i].ports.get_mut(&RADIO) else {
            return;
        };
        let busy_until = port.busy_until;
        let Some(lora) = port.lora.as_mut() else {
            return;
        };
        let due = lora
            .link
            .poll_timeout(now)
            .map(|t| t.max(busy_until).max(now + 1));
        if due != lora.timer {
            lora.timer = due;
            if let Some(at) = due {
                self.schedule(at, Action::LinkTimeout { node: i });
            }
        }
    }

    /// Node `i`'s radio as its engine sees it.
    pub fn radio(&self, i: usize) -> Option<LinkConfig> {
        Some(self.nodes.get(i)?.ports.get(&RADIO)?.config)
    }

    /// What node `i`'s LoRa port did (`None` without one).
    pub fn lora_traffic(&self, i: usize) -> Option<LoraTraffic> {
        let port = self.nodes.get(i)?.ports.get(&RADIO)?;
        port.lora.as_ref().map(|l| l.traffic)
    }

    /// Airtime node `i`'s LoRa port put on air, ns (`None` without one).
    pub fn lora_airtime_ns(&self, i: usize) -> Option<u128> {
        let port = self.nodes.get(i)?.ports.get(&RADIO)?;
        port.lora.as_ref().map(|l| l.link.airtime_used_ns())
    }

    /// Queues a datagram behind the port's previous frame and schedules
    /// its receptions.
    fn put_on_air(&mut self, i: usize, transmit: Transmit) {
        let len = transmit.bytes.len();
        let Some(port) = self.nodes[i].ports.get(&transmit.link) else {
            self.stats.refused += 1;
            return;
        };
        if len > port.config.mtu {
            self.stats.refused += 1;
            return;
        }
        let airtime = airtime_ms(len, port.config.budget.bitrate_bps);
        self.put_frame_on_air(i, transmit.link, Bytes::from(transmit.bytes), airtime, true);
    }

    /// Puts `bytes` on `link` for `airtime` ms from when the port is free;
    /// `mesh` if they are a mesh datagram (counted by type).
    fn put_frame_on_air(&mut self, i: usize, link: LinkId, bytes: Bytes, airtime: u64, mesh: bool) {
        let now = self.now;
        let len = bytes.len();
        let Some(port) = self.nodes[i].ports.get_mut(&link) else {
            self.stats.refused += 1;
            return;
        };
        let start = now.max(port.busy_until);
        let end = start + airtime;
        port.busy_until = end;
        // Taken for the loop (the loss draws and the queue are borrowed
        // too), put back after it.
        let hops = std::mem::take(&mut port.hops);
        self.stats.transmissions += 1;
        self.stats.bytes += len as u64;
        if let Some(first) = bytes.first().filter(|_| mesh) {
            self.stats.frames_by_type[usize::from(first & 0x0f)] += 1;
        }
        let traffic = &mut self.nodes[i].traffic;
        traffic.frames += 1;
        traffic.bytes += len as u64;
        for hop in &hops {
            // A uniform draw in 0..1000 by multiply-and-shift.
            let draw = (u64::from(self.medium_rng.next_u32()) * 1000) >> 32;
            if draw < u64::from(hop.edge.loss_permille) {
                self.stats.lost += 1;
                continue;
            }
            let action = Action::Receive {
                from: i,
                to: hop.to,
                link: hop.link,
                bytes: bytes.clone(),
            };
            let order = self.schedule(end + hop.edge.latency_ms, action);
            if let Some(c) = &mut self.collisions {
                let latency = hop.edge.latency_ms;
                c.add(hop.to, start + latency, end + latency, order, now);
            }
        }
        if let Some(port) = self.nodes[i].ports.get_mut(&link) {
            port.hops = hops;
        }
    }

    /// Runs every scheduled reception and timeout up to `end` (inclusive)
    /// in time order, then sets the clock to `end` (if later).
    pub fn run_until(&mut self, end: u64) {
        self.run_until_with(end, &mut NoUpper);
    }

    /// [`Simulator::run_until`] with an upper layer over the nodes: it sees
    /// every node event first and its timers fire with the node's.
    pub fn run_until_with(&mut self, end: u64, upper: &mut impl Upper) {
        while self.queue.peek().is_some_and(|Reverse(s)| s.at <= end) {
            let Some(Reverse(next)) = self.queue.pop() else {
                break;
            };
            self.now = self.now.max(next.at);
            match next.action {
                Action::Receive {
                    from,
                    to,
                    link,
                    bytes,
                } => {
                    let collided = self.collisions.as_mut();
                    if collided.is_some_and(|c| c.collided.remove(&next.order)) {
                        self.stats.collided += 1;
                        continue;
                    }
                    if !self.nodes[to].online {
                        self.stats.offline += 1;
                        continue;
                    }
                    self.stats.receptions += 1;
                    let now = self.now;
                    let slot = &mut self.nodes[to];
                    let datagram = match slot.ports.get_mut(&link).and_then(|p| p.lora.as_mut()) {
                        Some(lora) => lora.receive(now, from, bytes),
                        None => Some(bytes),
                    };
                    if let Some(datagram) = datagram {
                        slot.engine.handle_datagram(link, datagram, now);
                    }
                    self.touch_with(to, self.now, upper);
                }
                Action::Timeout { node } => {
                    let slot = &mut self.nodes[node];
                    if !slot.online || slot.timer != Some(next.at) {
                        continue;
                    }
                    slot.timer = None;
                    slot.engine.handle_timeout(self.now);
                    upper.on_timeout(node, &mut slot.engine, self.now, &mut self.scenario_rng);
                    // A timeout handled at `now` is not due again at `now`.
                    self.touch_with(node, self.now + 1, upper);
                }
                Action::LinkTimeout { node } => {
                    let now = self.now;
                    let slot = &mut self.nodes[node];
                    let Some(lora) = slot.ports.get_mut(&RADIO).and_then(|p| p.lora.as_mut())
                    else {
                        continue;
                    };
                    if lora.timer != Some(next.at) {
                        continue;
                    }
                    lora.timer = None;
                    lora.link.handle_timeout(now);
                    self.touch_with(node, now + 1, upper);
                }
            }
        }
        self.now = self.now.max(end);
    }
}

#[cfg(test)]
mod tests;
