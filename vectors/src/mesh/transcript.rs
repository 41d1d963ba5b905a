//! Routing and rebroadcast transcripts of `mesh.json` (`spec/10-mesh.md`
//! §10.2, §10.3): their JSON shapes and how qpc runs them.

use bytes::Bytes;
use qpc_crypto::identity::Address;
use qpc_mesh::message::Message;
use qpc_mesh::rebroadcast::{AirtimeBudget, AnnounceScheduler, DropReason, Dropped};
use qpc_mesh::routing::{
    Advert, Forwarding, LinkId, Outcome, RoutingConfig, RoutingTable, TableEvent,
};
use serde::{Deserialize, Serialize};

use super::hex_opt;
use crate::{expect_eq, HexBytes};

/// A routing table configuration (§5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfigJson {
    /// Most entries.
    pub capacity: usize,
    /// Route lifetime, ms.
    pub route_lifetime_ms: u64,
    /// Hold time after expiry, ms.
    pub hold_ms: u64,
    /// Most new routes per neighbour.
    pub max_routes_per_neighbour: usize,
}

impl From<RoutingConfigJson> for RoutingConfig {
    fn from(c: RoutingConfigJson) -> Self {
        RoutingConfig {
            capacity: c.capacity,
            route_lifetime_ms: c.route_lifetime_ms,
            hold_ms: c.hold_ms,
            max_routes_per_neighbour: c.max_routes_per_neighbour,
        }
    }
}

/// A link of the local node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkJson {
    /// The link id.
    pub link: u16,
    /// Its cost.
    pub cost: u8,
}

/// A table decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeJson {
    /// The decision name (§5.3).
    pub decision: String,
    /// Whether to rebroadcast.
    pub rebroadcast: bool,
    /// The evicted address, or null.
    pub evicted: Option<HexBytes>,
}

/// A table event (§5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EventJson {
    /// The route expired.
    Expired(HexBytes),
    /// The entry was forgotten.
    Forgotten(HexBytes),
}

/// A live route, as a lookup reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteJson {
    /// The next hop's link.
    pub link: u16,
    /// The next hop's hop id, or null.
    pub hop_id: Option<HexBytes>,
    /// The metric.
    pub metric: u8,
    /// Links to the destination.
    pub hops: u8,
    /// The announce's sequence number.
    pub sequence: u32,
    /// When the route expires.
    pub expires_at: u64,
}

/// A forwarding decision (§5.4): `"local"`, `"flood"` or a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ForwardingJson {
    /// `"local"` or `"flood"`.
    Word(String),
    /// The next hop.
    Route(RouteJson),
}

/// One step of a routing transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RoutingStep {
    /// A datagram (Announce or PathResponse) arrives on a link.
    Receive {
        /// The time.
        at_ms: u64,
        /// The link.
        link: u16,
        /// The datagram.
        datagram: HexBytes,
        /// The decision (positive steps).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<OutcomeJson>,
        /// The error class (refused steps).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
        /// Table events during the step.
        events: Vec<EventJson>,
    },
    /// Time passes.
    Timeout {
        /// The time.
        at_ms: u64,
        /// Table events during the step.
        events: Vec<EventJson>,
    },
    /// A forwarding query.
    Lookup {
        /// The time.
        at_ms: u64,
        /// The destination.
        destination: HexBytes,
        /// The decision.
        forwarding: ForwardingJson,
        /// Table events during the step (none: lookups do not change the table).
        events: Vec<EventJson>,
    },
}

/// A link's announce budget (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetJson {
    /// Bits per second.
    pub bitrate_bps: u64,
    /// Share in thousandths.
    pub share_permille: u16,
    /// Bucket size, bytes.
    pub burst_bytes: u32,
    /// Queue bound.
    pub max_queued: usize,
}

/// An announce that left the queue unsent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DroppedJson {
    /// The announced address.
    pub address: HexBytes,
    /// `superseded` or `queue_full`.
    pub reason: String,
}

/// One step of a rebroadcast transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RebroadcastStep {
    /// Queue an announce.
    Enqueue {
        /// The announced address.
        address: HexBytes,
        /// Its hop count.
        hop_count: u8,
        /// The datagram.
        bytes: HexBytes,
        /// What was dropped, or null.
        dropped: Option<DroppedJson>,
    },
    /// Send whatever the credit allows at `at_ms`.
    Poll {
        /// The time.
        at_ms: u64,
        /// The datagrams sent, in order.
        sent: Vec<HexBytes>,
        /// When to poll next, or null (nothing queued).
        next_timeout: Option<u64>,
    },
}

fn address(what: &str, bytes: &HexBytes) -> Result<Address, String> {
    bytes
        .0
        .as_slice()
        .try_into()
        .map(Address::from_bytes)
        .map_err(|_| format!("{what} must be 16 bytes"))
}

fn hex_address(a: &Address) -> HexBytes {
    HexBytes(a.as_bytes().to_vec())
}

pub(super) fn outcome_json(o: &Outcome) -> OutcomeJson {
    OutcomeJson {
        decision: o.decision.name().into(),
        rebroadcast: o.rebroadcast,
        evicted: o.evicted.as_ref().map(hex_address),
    }
}

pub(super) fn drain_events(table: &mut RoutingTable) -> Vec<EventJson> {
    std::iter::from_fn(|| table.poll_event())
        .map(|e| match e {
            TableEvent::Expired(a) => EventJson::Expired(hex_address(&a)),
            TableEvent::Forgotten(a) => EventJson::Forgotten(hex_address(&a)),
        })
        .collect()
}

pub(super) fn forwarding_json(f: Forwarding) -> ForwardingJson {
    match f {
        Forwarding::Local => ForwardingJson::Word("local".into()),
        Forwarding::Flood => ForwardingJson::Word("flood".into()),
        Forwarding::NextHop(r) => ForwardingJson::Route(RouteJson {
            link: r.next_hop.link.0,
            hop_id: hex_opt(r.next_hop.hop_id),
            metric: r.metric,
            hops: r.hops,
            sequence: r.sequence,
            expires_at: r.expires_at,
        }),
    }
}

/// The advert a datagram carries (§10.2), or the error decoding it.
pub(super) fn advert_of(datagram: &[u8], link: LinkId) -> Result<Advert, qpc_mesh::Error> {
    match Message::decode(Bytes::copy_from_slice(datagram))? {
        Message::Announce(p) => Ok(Advert::from_announce(&p, link)),
        Message::PathResponse(r) => Ok(Advert::from_path_response(&r, link)),
        _ => Err(qpc_mesh::Error::Malformed {
            message: "routing transcript",
            reason: "only announces and path responses carry adverts",
        }),
    }
}

/// The outcome of one `receive` step: a decision or an error class.
pub(super) fn receive(
    table: &mut RoutingTable,
    links: &[LinkJson],
    link: u16,
    datagram: &[u8],
    now: u64,
) -> Result<Result<OutcomeJson, String>, String> {
    let cost = links
        .iter()
        .find(|l| l.link == link)
        .ok_or_else(|| format!("unknown link {link}"))?
        .cost;
    let outcome =
        advert_of(datagram, LinkId(link)).and_then(|advert| table.ingest(&advert, cost, now));
    Ok(outcome
        .map(|o| outcome_json(&o))
        .map_err(|e| e.class().to_owned()))
}

pub(super) fn check_routing(
    config: &RoutingConfigJson,
    local: &HexBytes,
    links: &[LinkJson],
    steps: &[RoutingStep],
) -> Result<(), String> {
    let mut table = RoutingTable::new(address("local_address", local)?, (*config).into())
        .map_err(|e| e.to_string())?;
    for (i, step) in steps.iter().enumerate() {
        let at = |what: &str| format!("step {i} {what}");
        let events = match step {
            RoutingStep::Receive {
                at_ms,
                link,
                datagram,
                outcome,
                expected_error,
                events,
            } => {
                let got = receive(&mut table, links, *link, &datagram.0, *at_ms)?;
                match (outcome, expected_error, got) {
                    (Some(want), None, Ok(got)) => expect_eq(&at("outcome"), &got, want)?,
                    (None, Some(want), Err(got)) => expect_eq(&at("error"), &got, want)?,
                    (_, _, got) => return Err(format!("{}: got {got:?}", at("outcome"))),
                }
                events
            }
            RoutingStep::Timeout { at_ms, events } => {
                table.handle_timeout(*at_ms);
                events
            }
            RoutingStep::Lookup {
                at_ms,
                destination,
                forwarding,
                events,
            } => {
                let got = table.forwarding(&address("destination", destination)?, *at_ms);
                expect_eq(&at("forwarding"), &forwarding_json(got), forwarding)?;
                events
            }
        };
        expect_eq(&at("events"), &drain_events(&mut table), events)?;
    }
    Ok(())
}

pub(super) const LINK: LinkId = LinkId(0);

pub(super) fn budget_of(b: &BudgetJson) -> AirtimeBudget {
    AirtimeBudget {
        bitrate_bps: b.bitrate_bps,
        share_permille: b.share_permille,
        burst_bytes: b.burst_bytes,
        max_queued: b.max_queued,
    }
}

pub(super) fn dropped_json(d: Option<Dropped>) -> Option<DroppedJson> {
    d.map(|d| DroppedJson {
        address: hex_address(&d.destination),
        reason: match d.reason {
            DropReason::Superseded => "superseded",
            DropReason::QueueFull => "queue_full",
        }
        .into(),
    })
}

pub(super) fn poll(s: &mut AnnounceScheduler, now: u64) -> (Vec<HexBytes>, Option<u64>) {
    let sent = std::iter::from_fn(|| s.poll_transmit(now))
        .map(|(_, b)| HexBytes(b))
        .collect();
    (sent, s.poll_timeout(now))
}

pub(super) fn check_rebroadcast(
    budget: &BudgetJson,
    steps: &[RebroadcastStep],
) -> Result<(), String> {
    let mut s = AnnounceScheduler::new();
    s.add_link(LINK, budget_of(budget), 0)
        .map_err(|e| e.to_string())?;
    for (i, step) in steps.iter().enumerate() {
        match step {
            RebroadcastStep::Enqueue {
                address: a,
                hop_count,
                bytes,
                dropped,
            } => {
                let got = s
                    .enqueue(LINK, address("address", a)?, *hop_count, bytes.0.clone())
                    .map_err(|e| e.to_string())?;
                expect_eq(&format!("step {i} dropped"), &dropped_json(got), dropped)?;
            }
            RebroadcastStep::Poll {
                at_ms,
                sent,
                next_timeout,
            } => {
                let (got_sent, got_timeout) = poll(&mut s, *at_ms);
                expect_eq(&format!("step {i} sent"), &got_sent, sent)?;
                expect_eq(
                    &format!("step {i} next_timeout"),
                    &got_timeout,
                    next_timeout,
                )?;
            }
        }
    }
    Ok(())
}
