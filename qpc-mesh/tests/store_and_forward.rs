//! Store-and-forward, custody hand-off, receipts and restarts of
//! `MeshNode` (`spec/10-mesh.md` §8), driven by hand and in the simulator.

mod common;

use bytes::Bytes;
use qpc_mesh::delivery::RetryPolicy;
use qpc_mesh::envelope::{Envelope, MessageType};
use qpc_mesh::node::{DropReason, Event, LinkConfig, MeshNode, NodeConfig, Transmit};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::sim::topology::{EdgeConfig, Position};
use qpc_mesh::sim::{Simulator, RADIO};
use qpc_mesh::store::{Eviction, StoreConfig};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use common::{converse, drain, enable_messaging, identity, WIRE};

fn config() -> NodeConfig {
    NodeConfig {
        retry: RetryPolicy {
            first_timeout_ms: 5_000,
            max_timeout_ms: 20_000,
            max_attempts: 3,
            jitter_permille: 0,
        },
        ..NodeConfig::default()
    }
}

fn add_links(node: &mut MeshNode) {
    let link = |shared| LinkConfig {
        mtu: 4096,
        cost: 9,
        budget: AirtimeBudget::two_percent(50_000),
        shared,
    };
    node.add_link(RADIO, link(true), 0).unwrap();
    node.add_link(WIRE, link(false), 0).unwrap();
}

fn node(i: u8) -> MeshNode {
    let mut rng = ChaCha20Rng::from_seed([i; 32]);
    let mut node = MeshNode::new(identity(i), config(), 1, &mut rng).unwrap();
    add_links(&mut node);
    enable_messaging(&mut node, i);
    node
}

fn types(transmits: &[Transmit]) -> Vec<MessageType> {
    transmits
        .iter()
        .map(|t| {
            Envelope::decode(Bytes::from(t.bytes.clone()))
                .unwrap()
                .header
                .message_type
        })
        .collect()
}

/// Nodes 0 and 1 learn each other's routes over the point-to-point wire.
fn neighbours() -> (MeshNode, MeshNode) {
    let (mut a, mut b) = (node(0), node(1));
    a.announce(0).unwrap();
    b.announce(0).unwrap();
    let wire = |n: &mut MeshNode| -> Vec<Transmit> {
        drain(n).0.into_iter().filter(|t| t.link == WIRE).collect()
    };
    let (from_a, from_b) = (wire(&mut a), wire(&mut b));
    for t in from_a {
        b.handle_datagram(WIRE, t.bytes.into(), 1);
    }
    for t in from_b {
        a.handle_datagram(WIRE, t.bytes.into(), 1);
    }
    drain(&mut a);
    drain(&mut b);
    (a, b)
}

#[test]
fn custody_is_handed_over_and_a_retry_is_answered_without_a_second_delivery() {
    let (mut a, mut b) = neighbours();
    let handle = a.send(b.identity(), b"hello", 10).unwrap();
    let (sent, _) = drain(&mut a);
    assert_eq!(types(&sent), [MessageType::Sealed]);
    assert_eq!(a.store().len(), 1, "held until the next hop takes custody");

    b.handle_datagram(WIRE, sent[0].bytes.clone().into(), 20);
    let (answers, events) = drain(&mut b);
    assert_eq!(types(&answers), [MessageType::HopAck, MessageType::Receipt]);
    let received: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Received { content, from, .. } => Some((content.clone(), *from)),
            _ => None,
        })
        .collect();
    assert_eq!(received, [(Bytes::from_static(b"hello"), a.address())]);

    // The same sealed message under new envelope ids (end-to-end retries):
    // no second delivery; the receipt again, at most once per
    // `path_retry_ms` (30 s).
    let retry = |id_flip: u32| {
        let mut copy = Envelope::decode(sent[0].bytes.clone().into()).unwrap();
        copy.header.message_id ^= id_flip;
        Bytes::from(copy.to_bytes().unwrap())
    };
    b.handle_datagram(WIRE, retry(1), 30);
    let (soon, _) = drain(&mut b);
    assert_eq!(types(&soon), [MessageType::HopAck]);
    b.handle_datagram(WIRE, retry(2), 30_020);
    let (again, events) = drain(&mut b);
    // (b's relay of a's announce is due by now too.)
    let again: Vec<Transmit> = again
        .into_iter()
        .filter(|t| types(std::slice::from_ref(t)) != [MessageType::Announce])
        .collect();
    assert_eq!(types(&again), [MessageType::HopAck, MessageType::Receipt]);
    assert!(!events.iter().any(|e| matches!(e, Event::Received { .. })));

    // The HopAck empties a's store; the receipt confirms the message, once.
    a.handle_datagram(WIRE, answers[0].bytes.clone().into(), 40);
    assert!(a.store().is_empty());
    for receipt in [&answers[1], &again[1]] {
        a.handle_datagram(WIRE, receipt.bytes.clone().into(), 30_050);
    }
    let (acks, events) = drain(&mut a);
    let acks: Vec<MessageType> = types(&acks)
        .into_iter()
        .filter(|t| *t != MessageType::Announce)
        .collect();
    assert_eq!(acks, [MessageType::HopAck, MessageType::HopAck]);
    let confirmed: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::DeliveryConfirmed { .. }))
        .collect();
    assert_eq!(confirmed, [&Event::DeliveryConfirmed { handle }]);
    assert_eq!(a.outstanding(), 0);
}

#[test]
fn a_forged_receipt_confirms_nothing() {
    let (mut a, b) = neighbours();
    a.send(b.identity(), b"x", 10).unwrap();
    drain(&mut a);
    let forged = qpc_mesh::receipt::Receipt {
        destination: a.address(),
        message_id: 5,
        hop_count: 0,
        hop_limit: 7,
        next_hop: None,
        key: qpc_mesh::receipt::ReceiptKey([0; 16]),
    };
    let bytes = forged.to_envelope().to_bytes().unwrap();
    a.handle_datagram(WIRE, bytes.into(), 20);
    let (_, events) = drain(&mut a);
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::DeliveryConfirmed { .. })));
    assert_eq!(a.outstanding(), 1);
}

#[test]
fn a_silent_next_hop_loses_its_route_and_the_message_waits_then_gives_up() {
    let (mut a, b) = neighbours();
    let handle = a.send(b.identity(), b"into the void", 1).unwrap();
    let mut now = 0;
    let mut log = Vec::new();
    while let Some(at) = a.poll_timeout().filter(|&t| t <= 600_000) {
        now = at;
        a.handle_timeout(now);
        let (sent, events) = drain(&mut a);
        log.extend(types(&sent));
        if events.contains(&Event::DeliveryFailed {
            handle,
            destination: b.address(),
        }) {
            break;
        }
    }
    // Three hand-overs over the wire (one at send time), then path
    // requests; the end-to-end retries add no copy while one is stored.
    let sealed = log.iter().filter(|t| **t == MessageType::Sealed).count();
    assert!(sealed >= 2, "{log:?}");
    assert!(log.contains(&MessageType::PathRequest));
    assert!(a.routing_table().route(&b.address(), now).is_none());
    assert!(a.store().is_empty(), "given up with its stored copy");
    assert_eq!(a.outstanding(), 0);
    // 5 s + 10 s + 20 s after sending (no jitter).
    assert_eq!(now, 35_001);
}

/// A copy for `destination` that has crossed `hop_count` relays of its
/// `hop_limit`, naming `next_hop` (on a shared link: asks it for custody).
fn custody_copy(
    destination: &MeshNode,
    hop_count: u8,
    hop_limit: u8,
    next_hop: Option<qpc_mesh::envelope::HopId>,
) -> Vec<u8> {
    let header = qpc_mesh::envelope::Header {
        message_type: MessageType::Sealed,
        hop_count,
        hop_limit,
        destination: destination.address(),
        message_id: 77,
        hop_id: next_hop,
    };
    let body = Bytes::from_static(&[0x5a; 64]);
    Envelope { header, body }.to_bytes().unwrap().to_vec()
}

#[test]
fn a_copy_at_its_hop_limit_is_acknowledged_and_dropped() {
    // b relays, but the copy has no hop left for it: the link worked, so
    // b acknowledges it (a's route stays up) and reports the drop (§12.2).
    let (_, mut b) = neighbours();
    let far = node(5);
    b.handle_datagram(WIRE, custody_copy(&far, 3, 3, None).into(), 5);
    let (sent, events) = drain(&mut b);
    assert_eq!(types(&sent), [MessageType::HopAck]);
    assert!(events.contains(&Event::Dropped {
        destination: far.address(),
        reason: DropReason::HopLimit,
    }));
    assert!(b.store().is_empty());
}

#[test]
fn a_copy_is_not_handed_to_a_next_hop_that_must_drop_it() {
    // a knows c two hops away through b (over the wire); a copy reaching
    // a over the radio with one hop left would arrive at b at its limit,
    // so a drops it (§12.1 S8) and still acknowledges it; with two hops
    // left it goes on to b.
    let (mut a, mut b) = neighbours();
    let mut c = node(2);
    c.announce(0).unwrap();
    for t in drain(&mut c).0.into_iter().filter(|t| t.link == RADIO) {
        b.handle_datagram(RADIO, t.bytes.into(), 2);
    }
    // b relays the announce after its rebroadcast delay.
    let relayed_at = b.poll_timeout().unwrap();
    b.handle_timeout(relayed_at);
    for t in drain(&mut b).0.into_iter().filter(|t| t.link == WIRE) {
        a.handle_datagram(WIRE, t.bytes.into(), relayed_at);
    }
    drain(&mut a);
    let now = relayed_at + 1;
    assert_eq!(a.routing_table().route(&c.address(), now).unwrap().hops, 2);
    let named = Some(a.hop_id());
    a.handle_datagram(RADIO, custody_copy(&c, 2, 3, named).into(), now);
    let (sent, events) = drain(&mut a);
    assert_eq!(types(&sent), [MessageType::HopAck]);
    assert!(events.contains(&Event::Dropped {
        destination: c.address(),
        reason: DropReason::HopLimit,
    }));
    assert!(a.store().is_empty());
    a.handle_datagram(RADIO, custody_copy(&c, 1, 3, named).into(), now + 1);
    let (sent, _) = drain(&mut a);
    assert_eq!(types(&sent), [MessageType::HopAck, MessageType::Sealed]);
    assert_eq!(a.store().len(), 1);
}

#[test]
fn the_store_reports_what_it_lets_go() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let tiny = NodeConfig {
        store: StoreConfig {
            max_messages: 2,
            max_per_destination: 2,
            max_bytes: 1 << 20,
            ttl_ms: 1_000,
        },
        ..config()
    };
    let mut a = MeshNode::new(identity(0), tiny, 1, &mut rng).unwrap();
    add_links(&mut a);
    enable_messaging(&mut a, 0);
    let far = identity(9).public().clone();
    for t in 0..3 {
        a.send(&far, b"m", t).unwrap();
    }
    let (_, events) = drain(&mut a);
    let full = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Dropped {
                    reason: DropReason::Store(Eviction::StoreFull),
                    ..
                }
            )
        })
        .count();
    assert_eq!(full, 1);
    a.handle_timeout(1_001);
    a.handle_timeout(1_002);
    let (_, events) = drain(&mut a);
    let expired = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Dropped {
                    reason: DropReason::Store(Eviction::Expired),
                    ..
                }
            )
        })
        .count();
    assert_eq!(expired, 2);
    assert!(a.store().is_empty());
}

#[test]
fn a_restarted_sender_keeps_its_store_and_its_receipts() {
    let radio = LinkConfig {
        mtu: 2048,
        cost: 9,
        budget: AirtimeBudget::two_percent(50_000),
        shared: true,
    };
    let bare = |i: u8| {
        let mut rng = ChaCha20Rng::from_seed([i; 32]);
        let mut n = MeshNode::new(identity(i), config(), 1, &mut rng).unwrap();
        enable_messaging(&mut n, i);
        n
    };
    let mut s = Simulator::new(3);
    s.log_events();
    for i in 0..2 {
        let at = Position {
            x: f64::from(i),
            y: 0.0,
        };
        s.add_node(bare(i), at, radio).unwrap();
    }
    // Node 1 is out of range: node 0 stores the message and asks for paths.
    // (Time is Unix ms: sealed-sender timestamps start after 0.)
    s.run_until(1);
    let recipient = s.node(1).identity().clone();
    let handle = s
        .with_node(0, |n, now, _| n.send(&recipient, b"later", now))
        .unwrap();
    s.run_until(5_000);
    assert_eq!(s.node(0).store().len(), 1);

    let state = s.with_node(0, |n, _, _| n.export_state()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let mut restarted = MeshNode::restore(identity(0), config(), &state, &mut rng).unwrap();
    enable_messaging(&mut restarted, 0);
    assert_eq!(restarted.export_state().unwrap(), state, "nothing lost");
    s.replace_node(0, restarted).unwrap();

    let lossless = EdgeConfig {
        latency_ms: 0,
        loss_permille: 0,
    };
    s.connect(0, 1, lossless);
    s.with_node(1, |n, now, _| n.announce(now)).unwrap();
    s.run_until(20_000);
    let confirmed = s
        .events()
        .iter()
        .any(|(_, n, e)| *n == 0 && *e == Event::DeliveryConfirmed { handle });
    assert!(confirmed);
    assert!(s.node(0).store().is_empty());
}

#[test]
fn hostile_state_bytes_are_refused() {
    let (mut a, b) = neighbours();
    a.send(b.identity(), b"x", 1).unwrap();
    let state = a.export_state().unwrap();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    for cut in 0..state.len() {
        assert!(MeshNode::restore(identity(0), config(), &state[..cut], &mut rng).is_err());
    }
    let mut version = state.clone();
    version[0] = 4;
    let err = MeshNode::restore(identity(0), config(), &version, &mut rng).unwrap_err();
    assert_eq!(err.class(), "unknown_version");
    let mut trailing = state;
    trailing.push(0);
    let err = MeshNode::restore(identity(0), config(), &trailing, &mut rng).unwrap_err();
    assert_eq!(err.class(), "trailing_bytes");
}

#[test]
fn a_session_carries_messages_both_ways_and_survives_a_restart() {
    let (mut a, mut b) = neighbours();
    let (a_addr, b_addr) = (a.address(), b.address());
    a.open_session(&b.identity().clone(), 10).unwrap();
    let (datagrams, events) = converse(&mut a, &mut b, 10);
    // Init (2505 B) and Response (1163 B), each HopAcked (22 B).
    let lens: Vec<usize> = datagrams.iter().map(|d| d.1.len()).collect();
    assert_eq!(lens, [2505, 22, 1163, 22]);
    assert!(events.contains(&(0, Event::SessionEstablished { peer: b_addr })));
    assert!(events.contains(&(1, Event::SessionEstablished { peer: a_addr })));
    // Sealing waits for counters a persisted state reserved (spec/12 §A.7).
    let b_state = b.export_state().unwrap();
    a.export_state().unwrap();

    let handle = a.send(&b.identity().clone(), b"hello", 20).unwrap();
    let (datagrams, events) = converse(&mut a, &mut b, 20);
    // Data: 22 + 1 + 2 + (17 + 5) + 16 = 63 B; HopAck; receipt; HopAck.
    let first = Envelope::decode(Bytes::from(datagrams[0].1.clone())).unwrap();
    assert_eq!(first.header.message_type, MessageType::Session);
    assert_eq!(datagrams[0].1.len(), 63);
    let received = events.iter().find_map(|(n, e)| match e {
        Event::Received { from, content, .. } if *n == 1 => Some((*from, content.clone())),
        _ => None,
    });
    assert_eq!(received, Some((a_addr, Bytes::from_static(b"hello"))));
    assert!(events.contains(&(0, Event::DeliveryConfirmed { handle })));

    // b restarts from its state: the session goes on, both ways.
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let mut b = MeshNode::restore(identity(1), config(), &b_state, &mut rng).unwrap();
    add_links(&mut b);
    enable_messaging(&mut b, 1);
    assert!(b.has_session(&a_addr));
    b.export_state().unwrap();
    let reply = b.send(&a.identity().clone(), b"hi back", 30).unwrap();
    let (datagrams, events) = converse(&mut a, &mut b, 30);
    // Routes are not kept: b asks for a path, then sends in the session.
    let kinds: Vec<MessageType> = datagrams
        .iter()
        .filter(|d| d.0 == 1)
        .map(|d| {
            Envelope::decode(Bytes::from(d.1.clone()))
                .unwrap()
                .header
                .message_type
        })
        .collect();
    assert_eq!(kinds[0], MessageType::PathRequest);
    assert!(kinds.contains(&MessageType::Session) && !kinds.contains(&MessageType::Sealed));
    assert!(events.iter().any(|(n, e)| *n == 0
        && matches!(e, Event::Received { content, .. } if &content[..] == b"hi back")));
    assert!(events.contains(&(1, Event::DeliveryConfirmed { handle: reply })));
}

#[test]
fn a_full_session_table_pushes_out_the_least_recently_used() {
    let (mut a, mut b) = neighbours();
    let b_addr = b.address();
    a.open_session(&b.identity().clone(), 10).unwrap();
    converse(&mut a, &mut b, 10);
    assert!(a.has_session(&b_addr));
    let mut one = config();
    one.max_sessions = 1;
    let state = a.export_state().unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let mut a = MeshNode::restore(identity(0), one, &state, &mut rng).unwrap();
    add_links(&mut a);
    a.open_session(&identity(2).public().clone(), 20).unwrap();
    let (_, events) = drain(&mut a);
    assert!(events.contains(&Event::SessionEvicted { peer: b_addr }));
    assert!(!a.has_session(&b_addr));
    // The one place now waits for a Response: a further one is refused.
    let err = a
        .open_session(&identity(3).public().clone(), 21)
        .unwrap_err();
    assert_eq!(err.class(), "full");
}
