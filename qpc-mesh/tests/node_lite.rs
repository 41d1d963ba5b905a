//! MLS-Lite groups (type `0xb`) and session resumption inside `MeshNode`
//! (`spec/10-mesh.md` §12.7, §12.8; `spec/12-mls-lite.md` §A.15, §B.12):
//! flooded group messages opened by members and relayed by everyone,
//! refusals as events, the exported state, and a Resume that brings a
//! session back after a peer restored an old state. With `--nocapture`
//! the tests print bytes and SF7 airtime.

mod common;

use bytes::Bytes;
use qpc_mesh::envelope::{Envelope, MessageType};
use qpc_mesh::group_lite::OVERHEAD;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use qpc_mesh::node::{
    DropReason, Event, GroupHandle, GroupKeys, LinkConfig, MeshNode, NodeConfig, Transmit,
};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use common::{converse, drain, enable_messaging, identity, kind, WIRE};

/// A second point-to-point link, on which floods from the wire go on.
const ONWARD: LinkId = LinkId(2);
const GROUP: GroupHandle = GroupHandle(7);

fn config() -> NodeConfig {
    NodeConfig::default()
}

fn set_up(node: &mut MeshNode, i: u8) {
    for link in [WIRE, ONWARD] {
        node.add_link(
            link,
            LinkConfig {
                mtu: 4096,
                cost: 9,
                budget: AirtimeBudget::two_percent(50_000),
                shared: false,
            },
            0,
        )
        .unwrap();
    }
    enable_messaging(node, i);
}

fn node(i: u8) -> MeshNode {
    seeded(i, i)
}

/// Node `i` with its generator seeded from `seed` (a node restarted
/// without state draws other message ids than before).
fn seeded(i: u8, seed: u8) -> MeshNode {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut node = MeshNode::new(identity(i), config(), 1, &mut rng).unwrap();
    set_up(&mut node, i);
    node
}

fn restored(i: u8, state: &[u8]) -> MeshNode {
    let mut rng = ChaCha20Rng::from_seed([i + 50; 32]);
    let mut node = MeshNode::restore(identity(i), config(), state, &mut rng).unwrap();
    set_up(&mut node, i);
    node
}

/// The GroupLite transmits among `transmits` (relayed announces go too).
fn groups(transmits: Vec<Transmit>) -> Vec<Transmit> {
    transmits
        .into_iter()
        .filter(|t| kind(&t.bytes) == MessageType::GroupLite)
        .collect()
}

/// Nodes 0 and 1 on the wire, with each other's routes.
fn neighbours() -> (MeshNode, MeshNode) {
    let (mut a, mut b) = (node(0), node(1));
    a.announce(0).unwrap();
    b.announce(0).unwrap();
    converse(&mut a, &mut b, 1);
    (a, b)
}

fn keys(epoch: u64, own_index: u16, members: u16) -> GroupKeys {
    GroupKeys::from_secret(epoch, &[epoch as u8 ^ 0x5c; 32], own_index, members)
}

fn eu868_sf7() -> LinkProfile {
    let radio = RadioProfile::new(RadioParams::lorawan(7)).unwrap();
    LinkProfile::new(radio, Region::Eu868(Eu868SubBand::G1)).unwrap()
}

/// (link-frame bytes, airtime ms) of datagrams over LoRa SF7.
fn sf7(datagrams: &[&[u8]]) -> (usize, f64) {
    let link = eu868_sf7();
    let mut bytes = 0;
    let mut ns = 0;
    for d in datagrams {
        for frame in split(&Bytes::copy_from_slice(d), link.mtu(), 0).unwrap() {
            bytes += frame.len();
            ns += time_on_air_ns(link.radio(), frame.len()).unwrap();
        }
    }
    (bytes, ns as f64 / 1e6)
}

#[test]
fn a_group_message_is_flooded_opened_once_and_relayed() {
    let (mut a, mut b) = neighbours();
    let mut c = node(2);
    a.join_group(GROUP, &keys(3, 0, 3), 10).unwrap();
    b.join_group(GroupHandle(99), &keys(3, 2, 3), 10).unwrap();
    // Counters need a reservation that an exported state holds (§B.5).
    assert_eq!(
        a.send_group(&GROUP, b"ping", 10).unwrap_err().class(),
        "wrong_state"
    );
    a.export_state().unwrap();
    a.send_group(&GROUP, b"ping", 10).unwrap();
    let (sent, _) = drain(&mut a);
    // At once on every link (§13.5).
    assert_eq!(sent.len(), 2);
    let datagram = sent[0].bytes.clone();
    assert_eq!(kind(&datagram), MessageType::GroupLite);
    assert_eq!(datagram.len(), 22 + OVERHEAD + 4);
    b.handle_datagram(WIRE, datagram.clone().into(), 11);
    let (relayed, events) = drain(&mut b);
    assert!(relayed.is_empty(), "the rebroadcast waits in the scheduler");
    assert_eq!(
        events,
        [Event::GroupReceived {
            group: GroupHandle(99),
            sender: 0,
            epoch: 3,
            payload: Bytes::from_static(b"ping"),
        }]
    );
    // The same message again: the duplicate filter drops it silently.
    b.handle_datagram(WIRE, datagram.clone().into(), 12);
    assert_eq!(drain(&mut b).1, []);
    // The flood window passes: b relays the copy, one hop more, to c.
    b.handle_timeout(60_000);
    let relayed = groups(drain(&mut b).0);
    // Not back on the point-to-point link it came on.
    assert_eq!(relayed.iter().map(|t| t.link).collect::<Vec<_>>(), [ONWARD]);
    let copy = Envelope::decode(Bytes::from(relayed[0].bytes.clone())).unwrap();
    assert_eq!(copy.header.hop_count, 1);
    // A non-member relays what it cannot read, without an event.
    c.handle_datagram(WIRE, relayed[0].bytes.clone().into(), 60_001);
    let (_, events) = drain(&mut c);
    assert_eq!(events, []);
    c.handle_timeout(120_000);
    let relayed = groups(drain(&mut c).0);
    assert_eq!(relayed.iter().map(|t| t.link).collect::<Vec<_>>(), [ONWARD]);
}

#[test]
fn refused_group_messages_are_events_and_not_relayed() {
    let (mut a, mut b) = neighbours();
    a.join_group(GROUP, &keys(3, 0, 2), 10).unwrap();
    b.join_group(GROUP, &keys(3, 1, 2), 10).unwrap();
    a.export_state().unwrap();
    a.send_group(&GROUP, b"ping", 10).unwrap();
    let datagram = drain(&mut a).0.remove(0).bytes;
    // A flipped ciphertext bit under a fresh message id: open_failed.
    let mut forged = datagram.clone();
    forged[21] ^= 1;
    *forged.last_mut().unwrap() ^= 1;
    b.handle_datagram(WIRE, forged.into(), 11);
    b.handle_datagram(WIRE, datagram.clone().into(), 11);
    // The genuine message replayed under another message id: replayed.
    let mut replay = datagram.clone();
    replay[21] ^= 2;
    b.handle_datagram(WIRE, replay.into(), 12);
    let (_, events) = drain(&mut b);
    let classes: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Rejected { class, .. } => Some(*class),
            _ => None,
        })
        .collect();
    assert_eq!(classes, ["open_failed", "replayed"]);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::GroupReceived { .. }))
            .count(),
        1
    );
    // Only the genuine message waits for its rebroadcast.
    b.handle_timeout(60_000);
    let (relayed, events) = drain(&mut b);
    assert_eq!(groups(relayed).len(), 1, "the genuine message only");
    assert!(!events.iter().any(|e| matches!(
        e,
        Event::Dropped {
            reason: DropReason::FloodQueueFull,
            ..
        }
    )));
    // The previous epoch stays readable for the grace period only.
    b.join_group(GROUP, &keys(4, 1, 2), 60_000).unwrap();
    a.send_group(&GROUP, b"late", 60_000).unwrap();
    let late = drain(&mut a).0.remove(0).bytes;
    b.handle_datagram(WIRE, late.into(), 60_000 + 59_999);
    assert!(matches!(
        &drain(&mut b).1[..],
        [Event::GroupReceived { epoch: 3, .. }]
    ));
    assert_eq!(
        b.join_group(GROUP, &keys(4, 1, 2), 1).unwrap_err().class(),
        "invalid_config"
    );
    assert_eq!(
        b.send_group(&GroupHandle(1), b"x", 1).unwrap_err().class(),
        "unknown_group"
    );
}

#[test]
fn groups_are_bounded_and_survive_a_restart() {
    let mut a = node(0);
    for g in 0..4 {
        a.join_group(GroupHandle(g), &keys(1, 0, 2), 0).unwrap();
    }
    assert_eq!(
        a.join_group(GroupHandle(9), &keys(1, 0, 2), 0)
            .unwrap_err()
            .class(),
        "full"
    );
    let bad = NodeConfig {
        max_groups: 65_536,
        ..config()
    };
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    assert!(MeshNode::new(identity(0), bad, 1, &mut rng).is_err());

    let mut b = node(1);
    b.join_group(GROUP, &keys(1, 1, 2), 0).unwrap();
    let state = a.export_state().unwrap();
    a.send_group(&GroupHandle(0), b"one", 1).unwrap();
    let first = drain(&mut a).0.remove(0).bytes;
    b.handle_datagram(WIRE, first.clone().into(), 2);
    let b_state = b.export_state().unwrap();
    assert_eq!(b_state[0], 3, "version 3 carries the groups");
    // a restarts from its state: it seals from the reserved counter 16,
    // and b, restarted too, refuses the message it delivered before.
    let mut a = restored(0, &state);
    let mut b = restored(1, &b_state);
    assert_eq!(a.group_epoch(&GroupHandle(3)), Some(1));
    b.handle_datagram(WIRE, first.into(), 3);
    let (_, events) = drain(&mut b);
    assert!(events.contains(&Event::Rejected {
        link: WIRE,
        class: "replayed"
    }));
    a.export_state().unwrap();
    a.send_group(&GroupHandle(0), b"two", 4).unwrap();
    let second = drain(&mut a).0.remove(0).bytes;
    assert_eq!(&second[22 + 3..22 + 7], &16u32.to_be_bytes());
    b.handle_datagram(WIRE, second.into(), 5);
    assert!(drain(&mut b)
        .1
        .iter()
        .any(|e| matches!(e, Event::GroupReceived { payload, .. } if &payload[..] == b"two")));

    // A version 2 state (no groups section) still restores, with no groups.
    let v2 = node(2).export_state().unwrap();
    let mut v2 = v2[..v2.len() - 2].to_vec();
    v2[0] = 2;
    let old = restored(2, &v2);
    assert_eq!(old.group_epoch(&GROUP), None);
}

#[test]
fn group_overhead_on_air() {
    let (mut a, _) = neighbours();
    a.join_group(GROUP, &keys(1, 0, 2), 0).unwrap();
    a.export_state().unwrap();
    for content in [4usize, 100] {
        a.send_group(&GROUP, &vec![0x61; content], 1).unwrap();
        let datagram = drain(&mut a).0.remove(0).bytes;
        let (on_air, ms) = sf7(&[&datagram]);
        println!(
            "MLS-Lite via MeshNode, {content}-byte payload: datagram {} B (mesh header 22 + MLS-Lite {} + {content}), {on_air} B on air, SF7 {ms:.3} ms",
            datagram.len(),
            OVERHEAD
        );
        assert_eq!(datagram.len(), 22 + OVERHEAD + content);
        assert_eq!(on_air, datagram.len() + 1);
    }
}

/// The Session datagrams' lengths in a conversation.
fn session_datagrams(datagrams: &[(usize, Vec<u8>)]) -> Vec<&[u8]> {
    datagrams
        .iter()
        .filter(|d| kind(&d.1) == MessageType::Session)
        .map(|d| &d.1[..])
        .collect()
}

fn received(events: &[(usize, Event)], at: usize) -> Vec<Bytes> {
    events
        .iter()
        .filter_map(|(n, e)| match e {
            Event::Received { content, .. } if *n == at => Some(content.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_resume_brings_back_a_session_whose_peer_restored_an_old_state() {
    let (mut a, mut b) = neighbours();
    let (a_addr, b_addr) = (a.address(), b.address());
    a.open_session(&b.identity().clone(), 10).unwrap();
    let (establishment, _) = converse(&mut a, &mut b, 10);
    let establishment = session_datagrams(&establishment);
    let old_b = b.export_state().unwrap();
    // a sends 80 messages in the session, exporting as a driver does;
    // b takes them all. Then b restarts from the state before them.
    let mut now = 20;
    let mut delivered = 0;
    for _ in 0..5 {
        a.export_state().unwrap();
        for i in 0..16u32 {
            a.send(&b.identity().clone(), &i.to_be_bytes(), now)
                .unwrap();
        }
        let (datagrams, events) = converse(&mut a, &mut b, now);
        assert!(!datagrams.iter().any(|d| kind(&d.1) == MessageType::Sealed));
        delivered += received(&events, 1).len();
        now += 1;
    }
    assert_eq!(delivered, 80);
    let mut b = restored(1, &old_b);
    a.export_state().unwrap();
    a.send(&b.identity().clone(), b"lost", now).unwrap();
    let (_, events) = converse(&mut a, &mut b, now);
    // b's receive chain is 80 counters behind: more than 64 (D4).
    assert!(events.contains(&(
        1,
        Event::Rejected {
            link: WIRE,
            class: "too_far_ahead"
        }
    )));
    assert_eq!(received(&events, 1), [] as [Bytes; 0]);

    // b resumes: one Resume each way, and both are in epoch 1.
    b.resume_session(&a_addr, now).unwrap();
    let (datagrams, events) = converse(&mut a, &mut b, now);
    let resume = session_datagrams(&datagrams);
    assert_eq!(resume.iter().map(|d| d.len()).collect::<Vec<_>>(), [43, 43]);
    assert!(events.contains(&(
        1,
        Event::SessionResumed {
            peer: a_addr,
            epoch: 1
        }
    )));
    assert!(events.contains(&(
        0,
        Event::SessionResumed {
            peer: b_addr,
            epoch: 1
        }
    )));
    // The new epoch is exported before its first Data (§A.7), then the
    // messages flow in the session again, both ways.
    a.export_state().unwrap();
    b.export_state().unwrap();
    now += 1;
    a.send(&b.identity().clone(), b"again", now).unwrap();
    b.send(&a.identity().clone(), b"back", now).unwrap();
    let (datagrams, events) = converse(&mut a, &mut b, now);
    assert!(!datagrams.iter().any(|d| kind(&d.1) == MessageType::Sealed));
    assert!(received(&events, 1).contains(&Bytes::from_static(b"again")));
    assert_eq!(received(&events, 0), [Bytes::from_static(b"back")]);

    let (resume_bytes, resume_ms) = sf7(&resume);
    let (full_bytes, full_ms) = sf7(&establishment);
    println!(
        "SF7 resume: {} datagrams, {resume_bytes} B on air, {resume_ms:.3} ms; full establishment: {} datagrams, {full_bytes} B on air, {full_ms:.3} ms ({:.1}x the bytes, {:.1}x the airtime)",
        resume.len(),
        establishment.len(),
        full_bytes as f64 / resume_bytes as f64,
        full_ms / resume_ms
    );
    assert_eq!(resume_bytes, 88);
    assert_eq!(full_bytes, 3740);
}

#[test]
fn a_resume_to_a_peer_without_the_session_gives_it_up() {
    let (mut a, mut b) = neighbours();
    let b_addr = b.address();
    a.open_session(&b.identity().clone(), 10).unwrap();
    converse(&mut a, &mut b, 10);
    // b restarts without any state: it knows no session.
    let mut b = seeded(1, 201);
    b.announce(11).unwrap();
    converse(&mut a, &mut b, 11);
    assert_eq!(
        b.resume_session(&a.address(), 12).unwrap_err().class(),
        "wrong_state"
    );
    a.resume_session(&b_addr, 12).unwrap();
    // A second call while the Resume waits sends nothing.
    a.resume_session(&b_addr, 12).unwrap();
    let retry = config().session_retry_ms;
    let mut now = 12;
    let mut resumes = 0;
    let mut events = Vec::new();
    for _ in 0..4 {
        let (datagrams, e) = converse(&mut a, &mut b, now);
        resumes += session_datagrams(&datagrams)
            .iter()
            .filter(|d| d.len() == 43)
            .count();
        events.extend(e);
        now += retry;
        a.handle_timeout(now);
    }
    assert_eq!(resumes, 3);
    assert!(events.contains(&(
        1,
        Event::Rejected {
            link: WIRE,
            class: "unknown_session"
        }
    )));
    assert!(events.contains(&(0, Event::SessionFailed { peer: b_addr })));
    assert!(!a.has_session(&b_addr));
    // Only a fresh establishment helps now.
    a.open_session(&b.identity().clone(), now).unwrap();
    let (_, events) = converse(&mut a, &mut b, now);
    assert!(events.contains(&(0, Event::SessionEstablished { peer: b_addr })));
}

#[test]
fn a_lost_resume_is_repeated_and_answered_by_a_peer_that_followed_its_data() {
    let (mut a, mut b) = neighbours();
    let (a_addr, b_addr) = (a.address(), b.address());
    a.open_session(&b.identity().clone(), 10).unwrap();
    converse(&mut a, &mut b, 10);
    a.resume_session(&b_addr, 20).unwrap();
    // The Resume is lost (the store still holds it for its HopAck: the
    // custody retry is dropped too).
    let (lost, _) = drain(&mut a);
    assert_eq!(
        session_datagrams(&lost.into_iter().map(|t| (0, t.bytes)).collect::<Vec<_>>()).len(),
        1
    );
    a.export_state().unwrap();
    a.send(&b.identity().clone(), b"epoch 1", 21).unwrap();
    let (first, _) = drain(&mut a);
    for t in first
        .into_iter()
        .filter(|t| t.link == WIRE && kind(&t.bytes) == MessageType::Session)
    {
        b.handle_datagram(WIRE, t.bytes.into(), 21);
    }
    // b followed the Data into epoch 1 (D6) and reports the resumption.
    let (_, events) = converse(&mut a, &mut b, 21);
    assert!(received(&events, 1).contains(&Bytes::from_static(b"epoch 1")));
    assert!(events.contains(&(
        1,
        Event::SessionResumed {
            peer: a_addr,
            epoch: 1
        }
    )));
    // a's repeated Resume is answered by b, which completes a's.
    let start = 21 + config().session_retry_ms;
    let mut all = Vec::new();
    for now in start..start + 3 {
        a.handle_timeout(now);
        b.handle_timeout(now);
        all.extend(converse(&mut a, &mut b, now).1);
    }
    assert!(all.contains(&(
        0,
        Event::SessionResumed {
            peer: b_addr,
            epoch: 1
        }
    )));
    assert!(!all
        .iter()
        .any(|e| matches!(e, (_, Event::SessionFailed { .. }))));
    assert!(a.has_session(&b_addr) && b.has_session(&a_addr));
}
