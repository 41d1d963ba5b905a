//! `MeshNode`s on a virtual shared radio channel: announces flood under
//! their airtime budget and converge to loop-free next hops, Sealed
//! messages follow them hop by hop, and a node without a route finds one
//! with a path request.

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity};
use qpc_mesh::node::{Event, LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::{Forwarding, LinkId};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const RADIO: LinkId = LinkId(0);

/// Nodes on one channel; `range[i]` lists who hears node `i`.
struct Net {
    nodes: Vec<MeshNode>,
    range: Vec<Vec<usize>>,
    events: Vec<Vec<Event>>,
    heard: Vec<usize>,
    sent_bytes: Vec<usize>,
    now: u64,
}

impl Net {
    fn new(range: Vec<Vec<usize>>) -> Self {
        let nodes = (0..range.len())
            .map(|i| {
                let n = i as u8;
                let identity = Identity::from_seeds(&[n + 1; 32], &[n + 101; 32]);
                let mut node = MeshNode::new(identity, NodeConfig::default(), 1).unwrap();
                let link = LinkConfig {
                    mtu: 222,
                    cost: 9,
                    budget: AirtimeBudget::two_percent(50_000),
                    shared: true,
                };
                node.add_link(RADIO, link, 0).unwrap();
                node
            })
            .collect();
        let n = range.len();
        Net {
            nodes,
            range,
            events: vec![Vec::new(); n],
            heard: vec![0; n],
            sent_bytes: vec![0; n],
            now: 0,
        }
    }

    fn address(&self, i: usize) -> Address {
        self.nodes[i].address()
    }

    /// Delivers every pending transmission, repeatedly, at the current time.
    fn deliver(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(t) = self.nodes[i].poll_transmit() {
                    any = true;
                    assert!(t.bytes.len() <= 222);
                    self.sent_bytes[i] += t.bytes.len();
                    for &j in &self.range[i].clone() {
                        self.heard[j] += 1;
                        self.nodes[j].handle_datagram(
                            t.link,
                            Bytes::from(t.bytes.clone()),
                            self.now,
                        );
                    }
                }
                while let Some(e) = self.nodes[i].poll_event() {
                    self.events[i].push(e);
                }
            }
            if !any {
                return;
            }
        }
    }

    /// Runs timers and deliveries until `end`.
    fn run_until(&mut self, end: u64) {
        loop {
            self.deliver();
            let next = self.nodes.iter().filter_map(MeshNode::poll_timeout).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for node in &mut self.nodes {
                        if node.poll_timeout().is_some_and(|t| t <= self.now) {
                            node.handle_timeout(self.now);
                        }
                    }
                }
                _ => {
                    self.now = end;
                    self.deliver();
                    return;
                }
            }
        }
    }

    fn announce_all(&mut self) {
        for node in &mut self.nodes {
            node.announce(self.now).unwrap();
        }
    }

    /// Follows next hops from `from` to `to`; the visited nodes, or a panic
    /// on a loop or a dead end.
    fn walk(&self, from: usize, to: usize) -> Vec<usize> {
        let dest = self.address(to);
        let mut path = vec![from];
        let mut at = from;
        while at != to {
            let Forwarding::NextHop(route) =
                self.nodes[at].routing_table().forwarding(&dest, self.now)
            else {
                panic!("node {at} has no route to {to}");
            };
            let hop = route.next_hop.hop_id.expect("shared links name next hops");
            at = (0..self.nodes.len())
                .find(|&j| self.nodes[j].hop_id() == hop)
                .expect("a known neighbour");
            assert!(!path.contains(&at), "loop {path:?} -> {at}");
            assert!(
                self.range[path[path.len() - 1]].contains(&at),
                "next hop out of range"
            );
            path.push(at);
        }
        path
    }
}

fn chain(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            [i.checked_sub(1), (i + 1 < n).then_some(i + 1)]
                .into_iter()
                .flatten()
                .collect()
        })
        .collect()
}

#[test]
fn announces_converge_along_a_chain_and_sealed_follows_next_hops() {
    let mut net = Net::new(chain(4));
    net.announce_all();
    net.run_until(60_000);
    for (from, to) in [(0, 3), (3, 0), (1, 3), (2, 0)] {
        let path = net.walk(from, to);
        assert_eq!(path.len(), from.abs_diff(to) + 1, "shortest path");
    }
    let route = net.nodes[0]
        .routing_table()
        .route(&net.address(3), net.now)
        .unwrap();
    assert_eq!((route.metric, route.hops), (27, 3));

    let heard_before = net.heard.clone();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let payload = Bytes::from_static(b"a sealed message, opaque to relays");
    let dest = net.address(3);
    net.nodes[0]
        .send_sealed(dest, payload.clone(), net.now, &mut rng)
        .unwrap();
    net.deliver();
    let delivered: Vec<_> = net.events[3]
        .iter()
        .filter_map(|e| match e {
            Event::Delivered { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![payload]);
    // Three transmissions (A, B, C), each heard by its one or two neighbours.
    let heard: usize = net
        .heard
        .iter()
        .zip(&heard_before)
        .map(|(a, b)| a - b)
        .sum();
    assert_eq!(heard, 1 + 2 + 2);
}

#[test]
fn overhearing_a_forwarded_message_does_not_block_it() {
    // 0 -> 1 -> 2 -> 3, and node 2 also hears node 0 (but 0 does not hear 2):
    // 2 overhears the copy 0 addresses to 1, then receives 1's copy.
    let mut range = chain(4);
    range[0].push(2);
    let mut net = Net::new(range);
    net.announce_all();
    net.run_until(60_000);
    assert_eq!(net.walk(0, 3), vec![0, 1, 2, 3]);
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let dest = net.address(3);
    net.nodes[0]
        .send_sealed(dest, Bytes::from_static(b"overheard"), net.now, &mut rng)
        .unwrap();
    net.deliver();
    let delivered = net.events[3]
        .iter()
        .filter(|e| matches!(e, Event::Delivered { .. }))
        .count();
    assert_eq!(delivered, 1);
}

#[test]
fn rebroadcasts_respect_the_airtime_share() {
    // A star: node 0 hears everyone and relays every announce once.
    let n = 6;
    let range = (0..n)
        .map(|i| if i == 0 { (1..n).collect() } else { vec![0] })
        .collect();
    let mut net = Net::new(range);
    net.announce_all();
    // 2% of 50 kbit/s = 1000 bit/s = 125 bytes/s after a full 160-byte
    // bucket: at 1 s node 0 has sent only its own 152-byte announce (8 + 125
    // bytes of credit do not cover a 160-byte relay).
    net.run_until(1_000);
    assert_eq!(net.sent_bytes[0], 152);
    net.run_until(60_000);
    // Own announce + five relays of 160 bytes each, never above the budget.
    assert_eq!(net.sent_bytes[0], 152 + 5 * 160);
    assert!(net.sent_bytes[0] as u64 <= 160 + 125 * 60);
    for i in 1..n {
        for j in 1..n {
            if i != j {
                assert_eq!(net.walk(i, j), vec![i, 0, j]);
            }
        }
    }
}

#[test]
fn a_late_node_finds_a_route_with_a_path_request() {
    // 0 - 1 - 2 - 3, then node 4 joins next to 3 after the announces.
    let mut range = chain(4);
    range.push(vec![]);
    let mut net = Net::new(range);
    net.announce_all();
    net.run_until(60_000);
    net.range[3].push(4);
    net.range[4].push(3);
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let dest = net.address(0);
    net.nodes[4]
        .send_sealed(
            dest,
            Bytes::from_static(b"first contact"),
            net.now,
            &mut rng,
        )
        .unwrap();
    net.deliver();
    assert!(net.events[4]
        .iter()
        .any(|e| *e == Event::PathFound { destination: dest }));
    assert_eq!(net.walk(4, 0), vec![4, 3, 2, 1, 0]);
    let route = net.nodes[4].routing_table().route(&dest, net.now).unwrap();
    assert_eq!(route.metric, 36);
    // The flooded Sealed copy reached node 0 too.
    assert!(net.events[0]
        .iter()
        .any(|e| matches!(e, Event::Delivered { .. })));
}

#[test]
fn forged_stale_and_replayed_datagrams_are_not_used() {
    use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities};

    let mut net = Net::new(chain(2));
    net.announce_all();
    net.run_until(10_000);
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
    let node0 = &mut net.nodes[0];
    let route_before = node0
        .routing_table()
        .route(&other.public().address(), 20_000);
    assert!(route_before.is_some(), "node 1's announce was heard");
    for bytes in [replay, stale, forged, vec![0x41, 0x07]] {
        node0.handle_datagram(RADIO, Bytes::from(bytes), 20_000);
    }
    node0.handle_datagram(LinkId(5), Bytes::from_static(&[0x21]), 20_000);
    let events: Vec<_> = std::iter::from_fn(|| node0.poll_event()).collect();
    let classes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected { class, .. } => Some(*class),
            _ => None,
        })
        .collect();
    // The replay is a duplicate: silently dropped, so it reports nothing.
    assert_eq!(
        classes,
        [
            "stale",
            "bad_signature",
            "unknown_version",
            "invalid_config"
        ]
    );
    assert_eq!(events.len(), classes.len());
    assert_eq!(
        node0
            .routing_table()
            .route(&other.public().address(), 20_000),
        route_before
    );
    assert!(node0.poll_transmit().is_none(), "nothing relayed");
}
