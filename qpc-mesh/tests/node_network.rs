//! `MeshNode`s in the simulator: announces flood under their airtime budget
//! and converge to loop-free next hops (also with loss), Sealed messages
//! follow them hop by hop with custody hand-off and come back confirmed by
//! receipts, a node without a route finds one with a path request, and
//! hostile datagrams change nothing.

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity};
use qpc_mesh::node::{Event, LinkConfig, MeshNode, MessageHandle, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::Forwarding;
use qpc_mesh::sim::topology::{EdgeConfig, Position};
use qpc_mesh::sim::{adapter, Simulator, Stats, RADIO};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const BITRATE: u64 = 50_000;
/// Sealed first-contact messages are about 1.4 KB (no fragmentation yet).
const DATA_MTU: usize = 2048;

fn node(i: usize) -> MeshNode {
    let n = i as u8;
    let identity = Identity::from_seeds(&[n + 1; 32], &[n + 101; 32]);
    let mut rng = ChaCha20Rng::from_seed([n; 32]);
    let mut node = MeshNode::new(identity, NodeConfig::default(), 1, &mut rng).unwrap();
    adapter::enable_messaging(&mut node).unwrap();
    node
}

fn radio(mtu: usize) -> LinkConfig {
    LinkConfig {
        mtu,
        cost: 9,
        budget: AirtimeBudget::two_percent(BITRATE),
        shared: true,
    }
}

/// An edge without latency.
fn lossy(loss_permille: u16) -> EdgeConfig {
    EdgeConfig {
        latency_ms: 0,
        loss_permille,
    }
}

const LOSSLESS: EdgeConfig = EdgeConfig {
    latency_ms: 0,
    loss_permille: 0,
};

fn add(s: &mut Simulator, i: usize, mtu: usize) {
    let at = Position {
        x: i as f64,
        y: 0.0,
    };
    s.add_node(node(i), at, radio(mtu)).unwrap();
}

fn sim(n: usize, seed: u64) -> Simulator {
    sim_with_mtu(n, seed, DATA_MTU)
}

fn sim_with_mtu(n: usize, seed: u64, mtu: usize) -> Simulator {
    let mut sim = Simulator::new(seed);
    sim.log_events();
    for i in 0..n {
        add(&mut sim, i, mtu);
    }
    sim
}

fn chain(n: usize) -> Simulator {
    let mut s = sim(n, 0);
    for i in 1..n {
        s.connect(i - 1, i, LOSSLESS);
    }
    s
}

fn address(s: &Simulator, i: usize) -> Address {
    s.node(i).address()
}

fn announce_all(s: &mut Simulator) {
    for i in 0..s.len() {
        s.with_node(i, |node, now, _| node.announce(now)).unwrap();
    }
}

/// Follows next hops from `from` to `to`; panics on a loop, a dead end or a
/// next hop out of range.
fn walk(s: &Simulator, from: usize, to: usize) -> Vec<usize> {
    let dest = address(s, to);
    let mut path = vec![from];
    let mut at = from;
    while at != to {
        let Forwarding::NextHop(route) = s.node(at).routing_table().forwarding(&dest, s.now())
        else {
            panic!("node {at} has no route to {to}");
        };
        let hop = route.next_hop.hop_id.expect("shared links name next hops");
        let next = (0..s.len())
            .find(|&j| s.node(j).hop_id() == hop)
            .expect("a known neighbour");
        assert!(!path.contains(&next), "loop {path:?} -> {next}");
        assert!(s.hears(at, next), "next hop {next} out of {at}'s range");
        path.push(next);
        at = next;
    }
    path
}

fn delivered(s: &Simulator, i: usize) -> Vec<Bytes> {
    s.events()
        .iter()
        .filter_map(|(_, n, e)| match e {
            Event::Received { content, .. } if *n == i => Some(content.clone()),
            _ => None,
        })
        .collect()
}

fn confirmed(s: &Simulator, i: usize) -> Vec<MessageHandle> {
    s.events()
        .iter()
        .filter_map(|(_, n, e)| match e {
            Event::DeliveryConfirmed { handle } if *n == i => Some(*handle),
            _ => None,
        })
        .collect()
}

/// Node `from` sends `content` to node `to`.
fn send(s: &mut Simulator, from: usize, to: usize, content: &[u8]) -> MessageHandle {
    let recipient = s.node(to).identity().clone();
    s.with_node(from, |node, now, _| node.send(&recipient, content, now))
        .unwrap()
}

#[test]
fn announces_converge_along_a_chain_and_sealed_follows_next_hops() {
    let mut s = chain(4);
    announce_all(&mut s);
    s.run_until(60_000);
    for (from, to) in [(0, 3), (3, 0), (1, 3), (2, 0)] {
        assert_eq!(
            walk(&s, from, to).len(),
            from.abs_diff(to) + 1,
            "shortest path"
        );
    }
    let route = s
        .node(0)
        .routing_table()
        .route(&address(&s, 3), s.now())
        .unwrap();
    assert_eq!((route.metric, route.hops), (27, 3));

    let before = s.stats();
    let payload = b"a sealed message, opaque to relays";
    let now = s.now();
    let handle = send(&mut s, 0, 3, payload);
    s.run_until(now + 5_000);
    assert_eq!(delivered(&s, 3), vec![Bytes::from_static(payload)]);
    assert_eq!(confirmed(&s, 0), vec![handle]);
    assert!(s.node(0).store().is_empty() && s.node(1).store().is_empty());
    assert_eq!(s.node(0).outstanding(), 0);
    // The message and the receipt cross three links each, every copy
    // acknowledged by its next hop: 12 transmissions, each heard by one
    // (ends of the chain) or two neighbours.
    let after = s.stats();
    assert_eq!(after.transmissions - before.transmissions, 12);
    assert_eq!(after.receptions - before.receptions, 20);
}

#[test]
fn overhearing_a_forwarded_message_does_not_block_it() {
    // 0 -> 1 -> 2 -> 3, and node 2 also hears node 0 (but 0 does not hear 2):
    // 2 overhears the copy 0 addresses to 1, then receives 1's copy.
    let mut s = chain(4);
    s.hear(0, 2, LOSSLESS);
    announce_all(&mut s);
    s.run_until(60_000);
    assert_eq!(walk(&s, 0, 3), vec![0, 1, 2, 3]);
    let now = s.now();
    send(&mut s, 0, 3, b"overheard");
    s.run_until(now + 5_000);
    assert_eq!(delivered(&s, 3).len(), 1);
    // Node 2 heard 0's announce directly, but 0 does not hear 2: the receipt
    // waits for 2's three unanswered hand-overs (about 3 s apart), then 2 forgets
    // that route, asks for a path and is answered through node 1.
    assert!(confirmed(&s, 0).is_empty());
    s.run_until(now + 60_000);
    assert_eq!(confirmed(&s, 0).len(), 1);
    assert_eq!(walk(&s, 2, 0), vec![2, 1, 0]);
    assert_eq!(delivered(&s, 3).len(), 1, "delivered once");
}

#[test]
fn rebroadcasts_respect_the_airtime_share() {
    // A star: node 0 hears everyone and relays every announce once.
    let mut s = sim(6, 0);
    for i in 1..6 {
        s.connect(0, i, LOSSLESS);
    }
    announce_all(&mut s);
    // 2% of 50 kbit/s = 125 bytes/s after a full 160-byte bucket: at 1 s
    // node 0 has sent only its own 152-byte announce (8 + 125 bytes of
    // credit do not cover a 160-byte relay).
    s.run_until(1_000);
    assert_eq!(s.traffic(0).bytes, 152);
    s.run_until(60_000);
    // Its own announce and five relays of 160 bytes, within the budget.
    assert_eq!(s.traffic(0).bytes, 152 + 5 * 160);
    assert!(s.traffic(0).bytes <= 160 + 125 * 60);
    for i in 1..6 {
        for j in 1..6 {
            if i != j {
                assert_eq!(walk(&s, i, j), vec![i, 0, j]);
            }
        }
    }
}

#[test]
fn a_late_node_finds_a_route_with_a_path_request() {
    // 0 - 1 - 2 - 3, then node 4 comes into range of 3 after the announces.
    let mut s = chain(4);
    add(&mut s, 4, DATA_MTU);
    announce_all(&mut s);
    s.run_until(60_000);
    s.connect(3, 4, LOSSLESS);
    let (now, dest) = (s.now(), address(&s, 0));
    send(&mut s, 4, 0, b"first contact");
    s.run_until(now + 10_000);
    let found = s
        .events()
        .iter()
        .any(|(_, n, e)| *n == 4 && *e == Event::PathFound { destination: dest });
    assert!(found);
    assert_eq!(walk(&s, 4, 0), vec![4, 3, 2, 1, 0]);
    let route = s.node(4).routing_table().route(&dest, s.now()).unwrap();
    assert_eq!(route.metric, 36);
    // The message waited in node 4's store for the path, then went along it.
    assert_eq!(delivered(&s, 0).len(), 1);
    assert_eq!(confirmed(&s, 4).len(), 1);
}

/// A 3 x 3 grid with reception loss, announcing every minute.
fn grid(loss_permille: u16, seed: u64) -> (Simulator, Stats) {
    let mut s = sim(9, seed);
    for i in 0..9 {
        if i % 3 < 2 {
            s.connect(i, i + 1, lossy(loss_permille));
        }
        if i < 6 {
            s.connect(i, i + 3, lossy(loss_permille));
        }
    }
    for round in 0..6u64 {
        announce_all(&mut s);
        s.run_until((round + 1) * 60_000);
    }
    let stats = s.stats();
    (s, stats)
}

/// Routes of all 72 ordered pairs that have the fewest hops.
fn shortest_routes(s: &Simulator) -> usize {
    let mut shortest_paths = 0;
    for from in 0..9 {
        for to in 0..9 {
            if from != to {
                // Every pair has a loop-free route (walk panics otherwise).
                let hops = walk(s, from, to).len() - 1;
                // Manhattan distance on the grid is the shortest path.
                let (a, b) = ((from % 3, from / 3), (to % 3, to / 3));
                let shortest = a.0.abs_diff(b.0) + a.1.abs_diff(b.1);
                assert!(hops >= shortest);
                shortest_paths += usize::from(hops == shortest);
            }
        }
    }
    shortest_paths
}

#[test]
fn a_lossless_grid_converges_to_shortest_paths() {
    let (s, stats) = grid(0, 0);
    assert_eq!(stats.lost, 0);
    assert_eq!(shortest_routes(&s), 72);
}

#[test]
fn a_lossy_grid_converges_loop_free_and_runs_are_reproducible() {
    let (s, stats) = grid(200, 42);
    assert!(stats.lost > 0 && stats.receptions > 0);
    // 20% loss: some routes settle on a longer path until the next round.
    let shortest = shortest_routes(&s);
    assert!(shortest >= 60, "{shortest} of 72 routes are shortest");
    assert_eq!(grid(200, 42).1, stats, "same seed, same run");
    assert_ne!(grid(200, 43).1, stats, "another seed, another run");
}

#[test]
fn the_x_wing_key_is_fetched_along_the_route_where_the_mtu_allows() {
    use qpc_mesh::node::DropReason;

    for mtu in [1500, 222] {
        let mut s = sim_with_mtu(4, 0, mtu);
        for i in 1..4 {
            s.connect(i - 1, i, LOSSLESS);
        }
        announce_all(&mut s);
        s.run_until(60_000);
        let dest = address(&s, 3);
        let before = s.stats().transmissions;
        s.with_node(0, |node, now, _| node.request_key(dest, now));
        let now = s.now();
        s.run_until(now + 10_000);
        let fetched: Vec<_> = s
            .events()
            .iter()
            .filter_map(|(_, n, e)| match e {
                Event::KeyFetched(identity) if *n == 0 => Some((**identity).clone()),
                _ => None,
            })
            .collect();
        if mtu == 1500 {
            assert_eq!(fetched, vec![s.node(3).identity().clone()]);
            // Three request hops along the route, three response hops back.
            assert_eq!(s.stats().transmissions - before, 6);
        } else {
            assert!(fetched.is_empty());
            let too_large = s.events().iter().any(|(_, n, e)| {
                *n == 3
                    && matches!(
                        e,
                        Event::Dropped {
                            reason: DropReason::TooLarge {
                                len: 1287,
                                mtu: 222
                            },
                            ..
                        }
                    )
            });
            assert!(
                too_large,
                "a 1287-byte response does not fit a 222-byte link"
            );
        }
    }
}

#[test]
fn forged_stale_and_replayed_datagrams_are_not_used() {
    use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities};
    use qpc_mesh::routing::LinkId;

    let mut s = chain(2);
    announce_all(&mut s);
    s.run_until(10_000);
    let other = Identity::from_seeds(&[2; 32], &[102; 32]);
    let announce = |sequence| AnnouncePacket {
        hop_count: 0,
        hop_limit: 7,
        transmitter: None,
        cost: 0,
        announce: Announce::sign(&other, sequence, Capabilities(Capabilities::TRANSPORT)),
    };
    let replay = announce(1).to_bytes().unwrap();
    let stale = announce(0).to_bytes().unwrap();
    let mut forged = announce(2).to_bytes().unwrap();
    forged[100] ^= 1;
    s.run_until(20_000);
    let route_before = s
        .node(0)
        .routing_table()
        .route(&other.public().address(), 20_000);
    assert!(route_before.is_some(), "node 1's announce was heard");
    let (events, relayed) = s.with_node(0, |node0, now, _| {
        for bytes in [replay, stale, forged, vec![0x41, 0x07]] {
            node0.handle_datagram(RADIO, Bytes::from(bytes), now);
        }
        node0.handle_datagram(LinkId(5), Bytes::from_static(&[0x21]), now);
        let events: Vec<_> = std::iter::from_fn(|| node0.poll_event()).collect();
        (events, node0.poll_transmit())
    });
    let outcomes: Vec<_> = events
        .iter()
        .map(|e| match e {
            Event::Rejected { class, .. } => *class,
            Event::Route { decision, .. } => decision.name(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // The replay matches the table's announce (no signature check) and is
    // not feasible; the rest are refused with their classes.
    assert_eq!(
        outcomes,
        [
            "not_feasible",
            "stale",
            "bad_signature",
            "unknown_version",
            "invalid_config"
        ]
    );
    assert_eq!(
        s.node(0)
            .routing_table()
            .route(&other.public().address(), 20_000),
        route_before
    );
    assert!(relayed.is_none(), "nothing relayed");
}

#[test]
fn a_better_path_at_the_hop_limit_is_taken_without_relaying() {
    use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities};
    use qpc_mesh::envelope::HopId;
    use qpc_mesh::routing::{Decision, LinkId};

    let mut relay = node(0);
    relay.add_link(RADIO, radio(222), 0).unwrap();
    let wired = LinkConfig {
        mtu: 1500,
        cost: 1,
        budget: AirtimeBudget::two_percent(1_000_000),
        shared: false,
    };
    relay.add_link(LinkId(1), wired, 0).unwrap();
    let far = Identity::from_seeds(&[50; 32], &[51; 32]);
    let at_limit = |cost| AnnouncePacket {
        hop_count: 3,
        hop_limit: 3,
        transmitter: Some(HopId([8; 8])),
        cost,
        announce: Announce::sign(&far, 4, Capabilities(0)),
    };
    // Heard first over the radio (cost 20 + 9), then the same announce over
    // the wire (cost 2 + 1): same sequence, smaller metric.
    relay.handle_datagram(RADIO, Bytes::from(at_limit(20).to_bytes().unwrap()), 0);
    relay.handle_datagram(LinkId(1), Bytes::from(at_limit(2).to_bytes().unwrap()), 1);
    let events: Vec<_> = std::iter::from_fn(|| relay.poll_event()).collect();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Rejected { .. })),
        "{events:?}"
    );
    let decisions: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Route { decision, .. } => Some(*decision),
            _ => None,
        })
        .collect();
    assert_eq!(
        decisions,
        [Decision::Installed, Decision::UpdatedBetterMetric]
    );
    let route = relay
        .routing_table()
        .route(&far.public().address(), 1)
        .unwrap();
    assert_eq!((route.metric, route.next_hop.link), (3, LinkId(1)));
    // At its hop limit the announce is not relayed: nothing goes out.
    assert!(relay.poll_transmit().is_none());
}

/// A node on one radio, without a simulator.
fn lone(config: NodeConfig) -> MeshNode {
    let identity = Identity::from_seeds(&[7; 32], &[8; 32]);
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let mut node = MeshNode::new(identity, config, 1, &mut rng).unwrap();
    node.add_link(RADIO, radio(1024), 0).unwrap();
    node
}

fn drain(node: &mut MeshNode) -> usize {
    std::iter::from_fn(|| node.poll_transmit()).count()
}

#[test]
fn own_announces_repeat_with_jitter_within_a_quarter_interval() {
    let interval = 60_000;
    let mut node = lone(NodeConfig {
        announce_interval_ms: interval,
        ..NodeConfig::default()
    });
    assert_eq!(
        node.poll_timeout(),
        None,
        "nothing before the first announce"
    );
    node.announce(0).unwrap();
    assert_eq!(drain(&mut node), 1);
    let mut at = 0;
    let mut gaps = Vec::new();
    for _ in 0..8 {
        let due = node.poll_timeout().unwrap();
        assert!((at + interval * 3 / 4..=at + interval).contains(&due));
        node.handle_timeout(due - 1);
        assert_eq!(drain(&mut node), 0, "not before it is due");
        node.handle_timeout(due);
        assert_eq!(drain(&mut node), 1, "one announce per interval");
        gaps.push(due - at);
        at = due;
    }
    gaps.dedup();
    assert!(gaps.len() > 1, "jittered: {gaps:?}");
    let mut quiet = lone(NodeConfig {
        announce_interval_ms: 0,
        ..NodeConfig::default()
    });
    quiet.announce(0).unwrap();
    assert_eq!(quiet.poll_timeout(), None, "0: no periodic announces");
}

#[test]
fn a_full_transmit_queue_refuses_with_an_event_and_holds_announces_back() {
    let mut node = lone(NodeConfig {
        max_pending: 2,
        ..NodeConfig::default()
    });
    node.join_channel(qpc_mesh::channel::ChannelKey::from_bytes([1; 32]))
        .unwrap();
    let channel = qpc_mesh::channel::ChannelKey::from_bytes([1; 32]).id();
    for now in 0..3 {
        node.send_channel(&channel, b"hi", false, now).unwrap();
    }
    let events: Vec<Event> = std::iter::from_fn(|| node.poll_event()).collect();
    assert_eq!(
        events,
        vec![Event::Dropped {
            destination: channel.as_address(),
            reason: qpc_mesh::node::DropReason::TransmitQueueFull
        }],
        "the third is refused, not the first pushed out"
    );
    // The announce waits in its queue until the driver drains.
    node.announce(3).unwrap();
    assert!(std::iter::from_fn(|| node.poll_event()).next().is_none());
    assert_eq!(drain(&mut node), 2);
    node.handle_timeout(4);
    assert_eq!(drain(&mut node), 1, "the announce goes once there is room");
    assert_eq!(node.events_lost(), 0);
}
