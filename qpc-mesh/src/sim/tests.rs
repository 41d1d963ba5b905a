//! Simulator tests: timing, per-edge latency and loss, offline nodes,
//! restarts, point-to-point links, determinism and a small unicast run.

use qpc_crypto::identity::{Address, Identity};

use super::scenario::{self, NetworkConfig, ScaleConfig, Shape, UnicastConfig};
use super::topology::{EdgeConfig, Position};
use super::*;
use crate::envelope::MessageType;
use crate::node::{LinkConfig, MeshNode, NodeConfig};
use crate::rebroadcast::AirtimeBudget;
use crate::routing::TableEvent;
use rand_chacha::rand_core::SeedableRng;

/// 8000 bit/s: one byte per millisecond.
const BITRATE: u64 = 8000;

fn engine(i: u8) -> MeshNode {
    let identity = Identity::from_seeds(&[i + 1; 32], &[i + 50; 32]);
    let mut rng = ChaCha20Rng::from_seed([i; 32]);
    let mut node = MeshNode::new(identity, NodeConfig::default(), 1, &mut rng).unwrap();
    adapter::enable_messaging(&mut node).unwrap();
    node
}

fn radio(bitrate_bps: u64) -> LinkConfig {
    LinkConfig {
        mtu: 2048,
        cost: 9,
        budget: AirtimeBudget::two_percent(bitrate_bps),
        shared: true,
    }
}

fn edge(latency_ms: u64, loss_permille: u16) -> EdgeConfig {
    EdgeConfig {
        latency_ms,
        loss_permille,
    }
}

/// `n` nodes at 8000 bit/s, none hearing another yet, events logged.
fn network(n: u8) -> Simulator {
    let mut sim = Simulator::new(9);
    sim.log_events();
    for i in 0..n {
        let at = Position {
            x: f64::from(i),
            y: 0.0,
        };
        sim.add_node(engine(i), at, radio(BITRATE)).unwrap();
    }
    sim
}

fn address(sim: &Simulator, i: usize) -> Address {
    sim.node(i).address()
}

fn announce(sim: &mut Simulator, i: usize) {
    sim.with_node(i, |node, now, _| node.announce(now)).unwrap();
}

/// When node `i` first decided on an advert for `about`.
fn heard_at(sim: &Simulator, i: usize, about: usize) -> Option<u64> {
    let destination = address(sim, about);
    sim.events().iter().find_map(|(t, n, e)| match e {
        Event::Route { destination: d, .. } if *n == i && *d == destination => Some(*t),
        _ => None,
    })
}

#[test]
fn airtime_rounds_up() {
    assert_eq!(airtime_ms(152, 8000), 152);
    assert_eq!(airtime_ms(152, 1760), 691);
    assert_eq!(airtime_ms(1, 50_000), 1);
    assert_eq!(airtime_ms(0, 50_000), 0);
    assert_eq!(
        airtime_ms(10, 0),
        80_000,
        "a zero bitrate counts as 1 bit/s"
    );
}

#[test]
fn a_frame_arrives_after_its_airtime_plus_the_edge_latency() {
    let mut sim = network(2);
    sim.connect(0, 1, edge(40, 0));
    announce(&mut sim, 0);
    // A 152-byte announce: 152 ms on air, then 40 ms.
    sim.run_until(191);
    assert_eq!(sim.stats().receptions, 0);
    sim.run_until(192);
    assert_eq!(sim.stats().receptions, 1);
    assert_eq!(heard_at(&sim, 1, 0), Some(192));
    assert_eq!(sim.traffic(0).bytes, 152);
    // Node 1 relays it (160 bytes) on the shared radio, back to node 0.
    sim.run_until(10_000);
    assert_eq!(sim.traffic(1).bytes, 160);
}

#[test]
fn frames_queue_behind_the_one_on_air() {
    let mut sim = network(2);
    sim.connect(0, 1, edge(10, 0));
    let to = address(&sim, 1);
    // An announce (152 B) and a flooded key request (30 B) at once.
    sim.with_node(0, |node, now, _| {
        node.announce(now).unwrap();
        node.request_key(to, now);
    });
    assert_eq!(sim.traffic(0).frames, 2);
    // At 1 B/ms: the announce lands at 152 + 10, the request 30 ms later.
    for (t, received) in [(161, 0), (162, 1), (191, 1), (192, 2)] {
        sim.run_until(t);
        assert_eq!(sim.stats().receptions, received, "at {t} ms");
    }
}

#[test]
fn each_edge_has_its_own_latency_and_loss() {
    let mut sim = network(3);
    sim.hear(0, 1, edge(5, 0));
    sim.hear(0, 2, edge(500, 0));
    announce(&mut sim, 0);
    sim.run_until(1_000);
    assert_eq!(heard_at(&sim, 1, 0), Some(152 + 5));
    assert_eq!(heard_at(&sim, 2, 0), Some(152 + 500));
    // Replacing the edge to 2 by a lossless one that loses everything.
    sim.hear(0, 2, edge(0, 1000));
    assert!(sim.hears(0, 2) && !sim.hears(2, 0));
    let before = sim.stats();
    announce(&mut sim, 0);
    sim.run_until(100_000);
    let after = sim.stats();
    assert_eq!(after.lost - before.lost, 1);
    assert_eq!(after.receptions - before.receptions, 1);
}

#[test]
fn loss_draws_follow_the_configured_rate() {
    let mut sim = network(2);
    sim.hear(0, 1, edge(0, 250));
    for k in 0..400u16 {
        let mut far = [0xee; 16];
        far[..2].copy_from_slice(&k.to_be_bytes());
        sim.with_node(0, |node, now, _| {
            node.request_key(Address::from_bytes(far), now)
        });
        let next = sim.now() + 1_000;
        sim.run_until(next);
    }
    let s = sim.stats();
    // One hearer per frame: 400 key requests for unknown addresses, each
    // flooded once and lost with probability 1/4.
    let frames = sim.traffic(0).frames;
    assert_eq!(s.lost + s.receptions, frames);
    assert_eq!(frames, 400);
    assert!((74..134).contains(&s.lost), "{} lost", s.lost);
}

#[test]
fn offline_nodes_neither_receive_nor_send_nor_time_out() {
    // At 8000 bit/s a 2% budget refills one announce in about 8 s: steps
    // here are 10 s apart.
    let mut sim = network(2);
    sim.connect(0, 1, edge(0, 0));
    announce(&mut sim, 1);
    sim.run_until(10_000);
    assert!(heard_at(&sim, 0, 1).is_some());
    let relayed = sim.traffic(0).frames;

    sim.set_online(0, false);
    assert!(!sim.is_online(0));
    announce(&mut sim, 1);
    sim.run_until(20_000);
    assert_eq!(sim.stats().offline, 1);
    // Queued while offline: nothing goes on air.
    announce(&mut sim, 0);
    sim.run_until(30_000);
    assert_eq!(sim.traffic(0).frames, relayed);
    assert!(heard_at(&sim, 1, 0).is_none());
    // Node 0's route to 1 would expire at 30 min; offline, it is not told.
    sim.run_until(40 * 60 * 1000);
    let expired = |sim: &Simulator| {
        sim.events()
            .iter()
            .any(|(_, n, e)| *n == 0 && matches!(e, Event::Table(TableEvent::Expired(_))))
    };
    assert!(!expired(&sim));

    sim.set_online(0, true);
    let back = sim.now();
    sim.run_until(back + 1_000);
    assert_eq!(heard_at(&sim, 1, 0), Some(back + 152));
    assert!(expired(&sim));
}

#[test]
fn a_replaced_engine_keeps_the_nodes_links() {
    let mut sim = network(2);
    sim.connect(0, 1, edge(0, 0));
    announce(&mut sim, 0);
    sim.run_until(1_000);
    let old = sim.replace_node(1, engine(1)).unwrap();
    assert_eq!(old.routing_table().len(), 1);
    assert!(sim.node(1).routing_table().is_empty());
    announce(&mut sim, 1);
    // Node 0's budget (20 B/s at 8000 bit/s) lets its next announce out
    // about 8 s after the first.
    announce(&mut sim, 0);
    sim.run_until(20_000);
    assert!(heard_at(&sim, 0, 1).is_some(), "the new engine transmits");
    assert_eq!(sim.node(1).routing_table().len(), 1, "and receives");
}

#[test]
fn point_to_point_links_have_their_own_bitrate_and_refuse_unknown_links() {
    let mut sim = network(2);
    let wire = LinkConfig {
        mtu: 1500,
        cost: 1,
        budget: AirtimeBudget::two_percent(1_000_000),
        shared: true,
    };
    let link = LinkId(1);
    assert!(sim
        .connect_point_to_point(0, 1, RADIO, wire, edge(0, 0))
        .is_err());
    sim.connect_point_to_point(0, 1, link, wire, edge(3, 0))
        .unwrap();
    assert!(sim.hears(0, 1) && sim.hears(1, 0));
    announce(&mut sim, 0);
    sim.run_until(1_000);
    // 152 bytes at 1 Mbit/s: 2 ms, then 3 ms; the radio hears nothing.
    assert_eq!(heard_at(&sim, 1, 0), Some(5));
    // On both of node 0's links; node 1 relays it on its radio only.
    assert_eq!(sim.stats().transmissions, 3);
    assert_eq!(sim.stats().receptions, 1);
    // A link the node has but the simulator does not know is refused.
    let unknown = radio(BITRATE);
    sim.with_node(0, |node, now, _| {
        node.add_link(LinkId(9), unknown, now)?;
        node.announce(now)
    })
    .unwrap();
    assert_eq!(sim.stats().refused, 1);
}

fn small_unicast(seed: u64) -> scenario::Outcome {
    scenario::unicast(&UnicastConfig {
        network: NetworkConfig {
            nodes: 16,
            mean_degree: 5.0,
            seed,
            ..NetworkConfig::default()
        },
        messages: 12,
        warmup_ms: 60_000,
        drain_ms: 20_000,
        ..UnicastConfig::default()
    })
    .unwrap()
}

#[test]
fn a_seed_gives_one_run_to_the_byte() {
    let a = small_unicast(5);
    let b = small_unicast(5);
    assert_eq!(a.network.sim.stats(), b.network.sim.stats());
    assert_eq!(a.network.sim.metrics(), b.network.sim.metrics());
    assert_eq!(a.lines(), b.lines());
    assert_eq!(a.svg(&[]), b.svg(&[]));
    let c = small_unicast(6);
    assert_ne!(a.network.sim.stats(), c.network.sim.stats());
    assert_ne!(a.svg(&[]), c.svg(&[]));
}

#[test]
fn a_lossless_line_delivers_every_message() {
    let outcome = scenario::unicast(&UnicastConfig {
        network: NetworkConfig {
            shape: Shape::Line,
            nodes: 5,
            edge: edge(5, 0),
            ..NetworkConfig::default()
        },
        messages: 10,
        warmup_ms: 30_000,
        drain_ms: 10_000,
        ..UnicastConfig::default()
    })
    .unwrap();
    let report = outcome.report();
    let s = report.summary;
    assert_eq!((s.sent, s.with_path, s.delivered), (10, 10, 10));
    assert_eq!(s.delivery_ratio(), 1.0);
    assert_eq!(report.route_coverage, 1.0);
    assert_eq!(report.within_announce_reach, 1.0);
    // About 1470 bytes per hop at 50 kbit/s: 235 ms on air plus 5 ms,
    // after the hop's custody ack of the message ahead.
    let p = s.latency_ms.unwrap();
    assert!(p.p50 >= 240 && p.max <= 4 * 260 + 100, "{p:?}");
    // Per hop (at most four): the message, its hop ack, the receipt and
    // its hop ack (plus the odd path request or announce relay).
    let frames = report.frames_per_delivery().unwrap();
    assert!((4.0..=16.5).contains(&frames), "{frames}");
    let bytes = report.bytes_per_delivery().unwrap();
    // Per hop about 1470 + 22 + 46 + 22 bytes.
    assert!(bytes >= 1422.0 && bytes <= frames / 4.0 * 1600.0, "{bytes}");
    let svg = outcome.svg(&outcome.lines());
    assert_eq!(svg.matches("<line ").count(), 4);
}

#[test]
fn unreachable_destinations_do_not_count_against_delivery() {
    let mut sim = network(3);
    sim.connect(0, 1, edge(0, 0));
    for i in 0..3 {
        announce(&mut sim, i);
    }
    sim.run_until(10_000);
    let reach = sim.reachable_from(0);
    assert_eq!(reach, [true, true, false]);
    sim.send_message(0, 1, 50).unwrap();
    sim.send_message(0, 2, 50).unwrap();
    sim.set_online(1, false);
    assert_eq!(sim.reachable_from(0), [true, false, false]);
    sim.set_online(1, true);
    sim.run_until(20_000);
    let s = sim.metrics().summary();
    assert_eq!((s.sent, s.with_path, s.delivered), (2, 1, 1));
    assert_eq!(s.delivery_ratio(), 1.0);
}

#[test]
fn overlapping_receptions_collide_only_when_modelled() {
    for modelled in [false, true] {
        // 0 and 2 both reach 1 and announce at once; later 0 alone.
        let mut sim = network(3);
        if modelled {
            sim.model_collisions();
        }
        sim.hear(0, 1, edge(0, 0));
        sim.hear(2, 1, edge(3, 0));
        announce(&mut sim, 0);
        announce(&mut sim, 2);
        sim.run_until(10_000);
        announce(&mut sim, 0);
        sim.run_until(20_000);
        let s = sim.stats();
        let (collided, received) = if modelled { (2, 1) } else { (0, 3) };
        assert_eq!((s.collided, s.receptions), (collided, received));
        assert_eq!(heard_at(&sim, 1, 2).is_some(), !modelled);
        // The second announce from 0 overlaps nothing.
        assert!(heard_at(&sim, 1, 0).is_some());
    }
}

#[test]
fn the_scale_scenario_announces_periodically_and_sends_steadily() {
    let outcome = scenario::scale(&ScaleConfig {
        network: NetworkConfig {
            nodes: 20,
            mean_degree: 6.0,
            ..NetworkConfig::default()
        },
        duration_ms: 300_000,
        announce_interval_ms: 60_000,
        message_interval_ms: 10_000,
        payload_len: 200,
    })
    .unwrap();
    let report = outcome.report();
    assert_eq!(report.sim_ms, 300_000);
    assert_eq!(report.summary.sent, 30);
    // Five rounds of 20 own announces, and relays.
    let announces = report.measured.frames_of(MessageType::Announce);
    assert!(announces >= 5 * 20, "{announces}");
    let typed: u64 = report.measured.frames_by_type.iter().sum();
    assert_eq!(typed, report.measured.transmissions);
    assert!(report.summary.delivered > 0);
    assert!(report.route_coverage > 0.9, "{}", report.route_coverage);
}

#[test]
fn a_kibibyte_crosses_three_sf7_lora_hops_with_frame_loss_intact() {
    let config = super::lora_line::LoraLineConfig {
        spreading_factor: 7,
        ..super::lora_line::LoraLineConfig::default()
    };
    let report = super::lora_line::lora_line(&config).unwrap();
    println!("{}", report.lines().join("\n"));
    assert!(report.intact, "{:?}", report.lines());
    assert!(report.receipt_after_ms.is_some(), "the receipt came back");
    // SF7 frames are 222 bytes: the sealed message is fragmented.
    assert_eq!(report.mtu.0, 222);
    assert!(report.per_node.iter().all(|n| n.1 > 0));
}

#[test]
fn a_session_is_established_and_carries_messages_over_three_sf7_lora_hops() {
    let config = super::lora_session::LoraSessionConfig::default();
    let report = super::lora_session::lora_session(&config).unwrap();
    println!("{}", report.lines().join("\n"));
    assert!(report.complete(), "{:?}", report.lines());
    // A session message of 16 bytes is an 82-byte datagram (30-byte
    // header with the hop id) at its sender, plus its HopAcks; the sealed
    // one is Padmé-padded sealed sender, over a kilobyte.
    let sealed_bytes = report.sealed.0.per_node[0].1;
    assert!(sealed_bytes > 1000);
    for (i, (cost, _)) in report.messages.iter().enumerate() {
        let sender = if i % 2 == 0 { 0 } else { config.line.hops };
        assert!(
            cost.per_node[sender].1 < sealed_bytes / 4,
            "{:?}",
            report.lines()
        );
    }
    assert!(report.sealed.0.airtime_ns() > report.messages[0].0.airtime_ns());
}
