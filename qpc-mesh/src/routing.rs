//! The routing table (`spec/10-mesh.md` §5): a sans-IO distance-vector
//! table fed by verified announces, loop-free by sequence numbers and a
//! feasibility condition (as in DSDV and Babel), with expiry, a hold time
//! for expired entries, a size bound with a stated eviction policy and a
//! per-neighbour quota.
//!
//! For each destination the table keeps one entry: the latest announce, the
//! selected neighbour, the metric (sum of link costs) and a state, live
//! until `expires_at`, then expired (still remembering sequence and metric,
//! so that replays stay refused) until `forget_at`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use qpc_crypto::identity::Address;

use crate::announce::{Announce, AnnouncePacket};
use crate::envelope::HopId;
use crate::path_request::PathResponse;
use crate::{Error, Result};

/// A metric of 255 means unreachable: such adverts are never installed.
pub const UNREACHABLE: u8 = u8::MAX;

/// A link of the local node, as numbered by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u16);

/// A neighbour: the link an advert arrived on and, on shared links, the
/// transmitter's hop id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Neighbour {
    /// The link.
    pub link: LinkId,
    /// The neighbour's hop id, if the message named it.
    pub hop_id: Option<HopId>,
}

/// Bounds and timers of a [`RoutingTable`] (§5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Most entries, live and expired together (1..=65536).
    pub capacity: usize,
    /// How long an accepted advert keeps a route live, in ms (at least 1).
    pub route_lifetime_ms: u64,
    /// How long an expired entry is remembered, in ms.
    pub hold_ms: u64,
    /// Most live routes installed through one neighbour (1..=capacity).
    pub max_routes_per_neighbour: usize,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            capacity: 1024,
            route_lifetime_ms: 30 * 60 * 1000,
            hold_ms: 10 * 60 * 1000,
            max_routes_per_neighbour: 256,
        }
    }
}

impl RoutingConfig {
    /// Checks the documented ranges (`invalid_config`).
    pub fn validate(&self) -> Result<()> {
        if !(1..=65536).contains(&self.capacity) {
            return Err(Error::InvalidConfig("routing capacity must be 1..=65536"));
        }
        if self.route_lifetime_ms == 0 {
            return Err(Error::InvalidConfig("route lifetime must be at least 1 ms"));
        }
        if !(1..=self.capacity).contains(&self.max_routes_per_neighbour) {
            return Err(Error::InvalidConfig(
                "routes per neighbour must be 1..=capacity",
            ));
        }
        Ok(())
    }
}

/// A verified announce as heard from a neighbour: from an announce or a
/// path response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// The verified announce.
    pub announce: Announce,
    /// The cost the message carried (before the link it arrived on).
    pub cost: u8,
    /// The message's hop count.
    pub hop_count: u8,
    /// The message's hop limit.
    pub hop_limit: u8,
    /// Who sent it.
    pub from: Neighbour,
}

impl Advert {
    /// The advert of an announce received on `link`. An announce with hop
    /// count 0 and no hop id comes from its originator, whose hop id is
    /// that of the announced address (§4.1).
    pub fn from_announce(packet: &AnnouncePacket, link: LinkId) -> Self {
        let originator = (packet.hop_count == 0).then(|| HopId::of(&packet.announce.address()));
        Advert {
            announce: packet.announce.clone(),
            cost: packet.cost,
            hop_count: packet.hop_count,
            hop_limit: packet.hop_limit,
            from: Neighbour {
                link,
                hop_id: packet.transmitter.or(originator),
            },
        }
    }

    /// The advert of a path response received on `link`.
    pub fn from_path_response(response: &PathResponse, link: LinkId) -> Self {
        Advert {
            announce: response.announce.clone(),
            cost: response.cost,
            hop_count: response.hop_count,
            hop_limit: response.hop_limit,
            from: Neighbour {
                link,
                hop_id: Some(response.transmitter),
            },
        }
    }
}

/// What the table did with an advert (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A new destination was installed.
    Installed,
    /// A newer sequence number replaced the route.
    UpdatedNewerSequence,
    /// The same sequence number with a strictly smaller metric replaced it.
    UpdatedBetterMetric,
    /// The same sequence number without a smaller metric: refused (it could
    /// form a loop, or is a duplicate).
    NotFeasible,
    /// The metric reached 255.
    Unreachable,
    /// The advert announces the local node.
    OwnAddress,
    /// The neighbour already holds its quota of routes.
    NeighbourQuota,
}

impl Decision {
    /// The name used in transcripts.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Installed => "installed",
            Decision::UpdatedNewerSequence => "updated_newer_sequence",
            Decision::UpdatedBetterMetric => "updated_better_metric",
            Decision::NotFeasible => "not_feasible",
            Decision::Unreachable => "unreachable",
            Decision::OwnAddress => "own_address",
            Decision::NeighbourQuota => "neighbour_quota",
        }
    }

    /// Whether the route changed.
    pub fn accepted(self) -> bool {
        matches!(
            self,
            Decision::Installed | Decision::UpdatedNewerSequence | Decision::UpdatedBetterMetric
        )
    }
}

/// The result of [`RoutingTable::ingest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// Whether the announce should be rebroadcast (first time this sequence
    /// number is accepted, and the hop limit allows another hop).
    pub rebroadcast: bool,
    /// The destination evicted to make room, if any.
    pub evicted: Option<Address>,
}

/// A change the table made on its own, when time passed (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableEvent {
    /// A route's lifetime ended; the entry is kept until its hold time ends.
    Expired(Address),
    /// An expired entry's hold time ended; the destination is forgotten.
    Forgotten(Address),
}

/// A usable route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination.
    pub destination: Address,
    /// The neighbour to forward to.
    pub next_hop: Neighbour,
    /// Sum of the link costs to the destination.
    pub metric: u8,
    /// The advert's hop count + 1: links to the destination for an
    /// announce, to the answering node for a path response.
    /// Informational; routing uses `metric`.
    pub hops: u8,
    /// The announce's sequence number.
    pub sequence: u32,
    /// When the route expires.
    pub expires_at: u64,
}

/// How to send a message to a destination (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarding {
    /// The destination is the local node.
    Local,
    /// Send to the next hop of this route.
    NextHop(Route),
    /// No live route: flood with a hop limit (and send a path request).
    Flood,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live { expires_at: u64 },
    Expired { forget_at: u64 },
}

#[derive(Debug, Clone)]
struct Entry {
    announce: Announce,
    next_hop: Neighbour,
    metric: u8,
    hops: u8,
    state: State,
}

/// An entry's place in the deadline index: its state (0 expired, 1 live),
/// its next deadline (`forget_at` or `expires_at`) and its address.
type Deadline = (u8, u64, Address);

/// The smallest address, the lower bound of a range over [`Deadline`]s.
const FIRST_ADDRESS: Address = Address::from_bytes([0; 16]);

impl Entry {
    /// Eviction order: expired entries first (earliest `forget_at`), then
    /// live ones (earliest `expires_at`); the address breaks ties.
    fn eviction_key(&self, address: &Address) -> Deadline {
        match self.state {
            State::Expired { forget_at } => (0, forget_at, *address),
            State::Live { expires_at } => (1, expires_at, *address),
        }
    }
}

/// The routing table. Every call that takes `now` first applies the expiry
/// of §5.5 up to `now`; the resulting [`TableEvent`]s are drained with
/// [`RoutingTable::poll_event`] (at most `2 * capacity` wait; older ones
/// are dropped).
#[derive(Debug, Clone)]
pub struct RoutingTable {
    local: Address,
    config: RoutingConfig,
    entries: BTreeMap<Address, Entry>,
    /// Every entry's [`Entry::eviction_key`], kept in step with `entries`
    /// so that expiry, the next deadline and eviction need no scan.
    deadlines: BTreeSet<Deadline>,
    events: VecDeque<TableEvent>,
}

impl RoutingTable {
    /// An empty table for the node whose address is `local`.
    pub fn new(local: Address, config: RoutingConfig) -> Result<Self> {
        config.validate()?;
        Ok(RoutingTable {
            local,
            config,
            entries: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            events: VecDeque::new(),
        })
    }

    /// Entries held, live and expired.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes a verified advert that arrived over a link of cost `link_cost`
    /// (1..=254) and decides on it (§5.3). Fails with `stale` when the
    /// announce is older than the entry's.
    pub fn ingest(&mut self, advert: &Advert, link_cost: u8, now: u64) -> Result<Outcome> {
        if !(1..UNREACHABLE).contains(&link_cost) {
            return Err(Error::InvalidConfig("link cost must be 1..=254"));
        }
        self.expire(now);
        let address = advert.announce.address();
        let sequence = advert.announce.sequence();
        let metric = advert.cost.saturating_add(link_cost);
        let may_relay = advert.hop_count < advert.hop_limit;
        let outcome = |decision, rebroadcast, evicted| Outcome {
            decision,
            rebroadcast,
            evicted,
        };
        if address == self.local {
            return Ok(outcome(Decision::OwnAddress, false, None));
        }
        if metric == UNREACHABLE {
            return Ok(outcome(Decision::Unreachable, false, None));
        }
        let fresh = Entry {
            announce: advert.announce.clone(),
            next_hop: advert.from,
            metric,
            hops: advert.hop_count.saturating_add(1),
            state: State::Live {
                expires_at: now.saturating_add(self.config.route_lifetime_ms),
            },
        };
        let Some(entry) = self.entries.get(&address) else {
            if self.live_routes_via(advert.from) >= self.config.max_routes_per_neighbour {
                return Ok(outcome(Decision::NeighbourQuota, false, None));
            }
            let evicted = self.make_room();
            self.put(address, fresh);
            return Ok(outcome(Decision::Installed, may_relay, evicted));
        };
        let known = entry.announce.sequence();
        if sequence < known {
            return Err(Error::Stale { sequence, known });
        }
        if sequence > known {
            self.put(address, fresh);
            return Ok(outcome(Decision::UpdatedNewerSequence, may_relay, None));
        }
        if metric < entry.metric {
            self.put(address, fresh);
            return Ok(outcome(Decision::UpdatedBetterMetric, false, None));
        }
        Ok(outcome(Decision::NotFeasible, false, None))
    }

    /// Takes the live route to `destination` out of use if it goes through
    /// `via`, whose link stayed silent (§12.1 S5): the entry expires now and
    /// is held as after its lifetime, so only a newer sequence number (or a
    /// strictly smaller metric) installs a route again — an equal sequence
    /// could come back through this node and loop. `true` if it did.
    pub fn break_route(&mut self, destination: &Address, via: &Neighbour, now: u64) -> bool {
        self.expire(now);
        let hold = self.config.hold_ms;
        let Some(entry) = self.entries.get(destination) else {
            return false;
        };
        let through_via = matches!(entry.state, State::Live { .. })
            && entry.next_hop.link == via.link
            && (via.hop_id.is_none() || entry.next_hop.hop_id == via.hop_id);
        if through_via {
            let forget_at = now.saturating_add(hold);
            self.set_state(destination, State::Expired { forget_at });
            self.push_event(TableEvent::Expired(*destination));
        }
        through_via
    }

    /// The live route to `destination`, if any.
    pub fn route(&self, destination: &Address, now: u64) -> Option<Route> {
        let entry = self.entries.get(destination)?;
        match entry.state {
            State::Live { expires_at } if expires_at > now => Some(Route {
                destination: *destination,
                next_hop: entry.next_hop,
                metric: entry.metric,
                hops: entry.hops,
                sequence: entry.announce.sequence(),
                expires_at,
            }),
            _ => None,
        }
    }

    /// The announce held for `destination`, live or expired (it was
    /// verified when it was accepted).
    pub fn known_announce(&self, destination: &Address) -> Option<&Announce> {
        self.entries.get(destination).map(|e| &e.announce)
    }

    /// The forwarding decision for `destination` (§5.4).
    pub fn forwarding(&self, destination: &Address, now: u64) -> Forwarding {
        if *destination == self.local {
            return Forwarding::Local;
        }
        self.route(destination, now)
            .map_or(Forwarding::Flood, Forwarding::NextHop)
    }

    /// The stored announce and metric of a live route, to answer a path
    /// request with.
    pub fn announce_for(&self, destination: &Address, now: u64) -> Option<(&Announce, u8)> {
        let route = self.route(destination, now)?;
        let entry = self.entries.get(destination)?;
        Some((&entry.announce, route.metric))
    }

    /// Applies expiry up to `now` (§5.5).
    pub fn handle_timeout(&mut self, now: u64) {
        self.expire(now);
    }

    /// When the table next needs [`RoutingTable::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<u64> {
        [0, 1]
            .into_iter()
            .filter_map(|state| self.first_deadline(state))
            .min()
    }

    /// The earliest deadline among entries in `state` (0 expired, 1 live).
    fn first_deadline(&self, state: u8) -> Option<u64> {
        let (found, deadline, _) = self.deadlines.range((state, 0, FIRST_ADDRESS)..).next()?;
        (*found == state).then_some(*deadline)
    }

    /// The addresses of entries in `state` whose deadline is at or before
    /// `now`.
    fn due(&self, state: u8, now: u64) -> impl Iterator<Item = Address> + '_ {
        self.deadlines
            .range((state, 0, FIRST_ADDRESS)..)
            .take_while(move |(found, deadline, _)| *found == state && *deadline <= now)
            .map(|(_, _, address)| *address)
    }

    /// Installs or replaces the entry for `address`.
    fn put(&mut self, address: Address, entry: Entry) {
        if let Some(old) = self.entries.get(&address) {
            self.deadlines.remove(&old.eviction_key(&address));
        }
        self.deadlines.insert(entry.eviction_key(&address));
        self.entries.insert(address, entry);
    }

    /// Removes the entry for `address`.
    fn remove(&mut self, address: &Address) {
        if let Some(old) = self.entries.remove(address) {
            self.deadlines.remove(&old.eviction_key(address));
        }
    }

    /// Moves the entry for `address` to `state`.
    fn set_state(&mut self, address: &Address, state: State) {
        if let Some(entry) = self.entries.get_mut(address) {
            self.deadlines.remove(&entry.eviction_key(address));
            entry.state = state;
            self.deadlines.insert(entry.eviction_key(address));
        }
    }

    /// The next table event, oldest first.
    pub fn poll_event(&mut self) -> Option<TableEvent> {
        self.events.pop_front()
    }

    fn push_event(&mut self, event: TableEvent) {
        if self.events.len() == 2 * self.config.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    fn expire(&mut self, now: u64) {
        let hold = self.config.hold_ms;
        // Address order, as §5.5 lists the events of one expiry.
        let mut due: Vec<Address> = self.due(0, now).chain(self.due(1, now)).collect();
        due.sort_unstable();
        for address in due {
            let Some(mut state) = self.entries.get(&address).map(|e| e.state) else {
                continue;
            };
            if let State::Live { expires_at } = state {
                state = State::Expired {
                    forget_at: expires_at.saturating_add(hold),
                };
                self.set_state(&address, state);
                self.push_event(TableEvent::Expired(address));
            }
            if let State::Expired { forget_at } = state {
                if forget_at <= now {
                    self.remove(&address);
                    self.push_event(TableEvent::Forgotten(address));
                }
            }
        }
    }

    fn live_routes_via(&self, neighbour: Neighbour) -> usize {
        self.entries
            .values()
            .filter(|e| e.next_hop == neighbour && matches!(e.state, State::Live { .. }))
            .count()
    }

    /// Evicts one entry if the table is full (§5.6) and says which.
    fn make_room(&mut self) -> Option<Address> {
        if self.entries.len() < self.config.capacity {
            return None;
        }
        let (_, _, victim) = *self.deadlines.first()?;
        self.remove(&victim);
        Some(victim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::announce::Capabilities;
    use qpc_crypto::identity::Identity;

    fn identity(n: u8) -> Identity {
        Identity::from_seeds(&[n; 32], &[n; 32])
    }

    fn advert(id: &Identity, sequence: u32, cost: u8, link: u16) -> Advert {
        Advert {
            announce: Announce::sign(id, sequence, Capabilities(0)),
            cost,
            hop_count: 1,
            hop_limit: 4,
            from: Neighbour {
                link: LinkId(link),
                hop_id: None,
            },
        }
    }

    fn table(capacity: usize, quota: usize) -> RoutingTable {
        let config = RoutingConfig {
            capacity,
            route_lifetime_ms: 1000,
            hold_ms: 500,
            max_routes_per_neighbour: quota,
        };
        RoutingTable::new(identity(99).public().address(), config).unwrap()
    }

    #[test]
    fn feasibility_and_freshness() {
        let (mut t, d) = (table(8, 8), identity(1));
        let addr = d.public().address();
        let decide = |t: &mut RoutingTable, a: &Advert, now| t.ingest(a, 1, now).unwrap();
        let first = decide(&mut t, &advert(&d, 5, 3, 0), 0);
        assert_eq!(
            (first.decision, first.rebroadcast),
            (Decision::Installed, true)
        );
        assert_eq!(t.route(&addr, 0).unwrap().metric, 4);
        let worse = decide(&mut t, &advert(&d, 5, 3, 1), 1);
        assert_eq!(worse.decision, Decision::NotFeasible);
        let better = decide(&mut t, &advert(&d, 5, 1, 1), 2);
        assert_eq!(
            (better.decision, better.rebroadcast),
            (Decision::UpdatedBetterMetric, false)
        );
        assert_eq!(t.route(&addr, 2).unwrap().next_hop.link, LinkId(1));
        let newer = decide(&mut t, &advert(&d, 6, 9, 0), 3);
        assert_eq!(
            (newer.decision, newer.rebroadcast),
            (Decision::UpdatedNewerSequence, true)
        );
        assert_eq!(
            t.ingest(&advert(&d, 5, 0, 0), 1, 4).unwrap_err(),
            Error::Stale {
                sequence: 5,
                known: 6
            }
        );
    }

    #[test]
    fn expiry_then_hold_then_forgotten() {
        let (mut t, d) = (table(8, 8), identity(1));
        let addr = d.public().address();
        t.ingest(&advert(&d, 5, 0, 0), 1, 0).unwrap();
        assert_eq!(t.poll_timeout(), Some(1000));
        assert!(t.route(&addr, 999).is_some());
        t.handle_timeout(1000);
        assert_eq!(t.poll_event(), Some(TableEvent::Expired(addr)));
        assert_eq!(t.forwarding(&addr, 1000), Forwarding::Flood);
        // The hold keeps replays of the old sequence out.
        assert_eq!(
            t.ingest(&advert(&d, 4, 0, 0), 1, 1200).unwrap_err().class(),
            "stale"
        );
        t.handle_timeout(1500);
        assert_eq!(t.poll_event(), Some(TableEvent::Forgotten(addr)));
        assert!(t.is_empty());
    }

    #[test]
    fn eviction_prefers_expired_then_oldest() {
        let mut t = table(2, 2);
        let (a, b, c) = (identity(1), identity(2), identity(3));
        t.ingest(&advert(&a, 1, 0, 0), 1, 0).unwrap();
        t.ingest(&advert(&b, 1, 0, 1), 1, 10).unwrap();
        let out = t.ingest(&advert(&c, 1, 0, 2), 1, 20).unwrap();
        assert_eq!(out.evicted, Some(a.public().address()));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn quota_and_own_address_and_unreachable() {
        let mut t = table(8, 1);
        let (a, b) = (identity(1), identity(2));
        t.ingest(&advert(&a, 1, 0, 0), 1, 0).unwrap();
        let out = t.ingest(&advert(&b, 1, 0, 0), 1, 0).unwrap();
        assert_eq!(out.decision, Decision::NeighbourQuota);
        let own = t.ingest(&advert(&identity(99), 1, 0, 0), 1, 0).unwrap();
        assert_eq!(own.decision, Decision::OwnAddress);
        let far = t.ingest(&advert(&b, 1, 250, 1), 5, 0).unwrap();
        assert_eq!(far.decision, Decision::Unreachable);
        assert_eq!(
            t.forwarding(&identity(99).public().address(), 0),
            Forwarding::Local
        );
    }

    #[test]
    fn config_bounds() {
        let bad = RoutingConfig {
            capacity: 0,
            ..RoutingConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().class(), "invalid_config");
        let mut t = table(2, 2);
        assert_eq!(
            t.ingest(&advert(&identity(1), 1, 0, 0), 0, 0)
                .unwrap_err()
                .class(),
            "invalid_config"
        );
    }

    /// The expired (0) or live (1) deadlines a scan over every entry finds.
    fn scanned_deadlines(t: &RoutingTable) -> BTreeSet<Deadline> {
        t.entries.iter().map(|(a, e)| e.eviction_key(a)).collect()
    }

    proptest::proptest! {
        /// The deadline index always mirrors the entries, so the next
        /// deadline, expiry and eviction match a scan over every entry.
        #[test]
        fn deadline_index_mirrors_entries(
            ops in proptest::collection::vec((0u8..3, 0usize..5, 1u32..4, 0u8..4, 0u16..3, 0u64..700), 1..40)
        ) {
            let ids: Vec<Identity> = (1..=5).map(identity).collect();
            let mut t = table(4, 3);
            let mut now = 0;
            for (op, who, sequence, cost, link, step) in ops {
                now += step;
                let address = ids[who].public().address();
                match op {
                    0 => { let _ = t.ingest(&advert(&ids[who], sequence, cost, link), 1, now); }
                    1 => { t.break_route(&address, &Neighbour { link: LinkId(link), hop_id: None }, now); }
                    _ => t.handle_timeout(now),
                }
                let scanned = scanned_deadlines(&t);
                proptest::prop_assert_eq!(&t.deadlines, &scanned);
                proptest::prop_assert_eq!(t.poll_timeout(), scanned.iter().map(|k| k.1).min());
                proptest::prop_assert!(t.len() <= 4);
            }
        }
    }
}
