//! FAPP over `MeshNode` through the [`FappNode`] API, on a line of three
//! nodes joined by point-to-point links: the therapist announces, the
//! patient two hops away queries, fetches the therapist's key, reserves,
//! and the practice's confirmation comes back along the reverse path.

mod common;

use std::collections::VecDeque;

use bytes::Bytes;
use common::{filter, identity, practice, rng, slot, DAY, NOW};
use qpc_crypto::identity::Identity;
use qpc_fapp::announce::licence_hash;
use qpc_fapp::mesh::{DriverConfig, FappEvent, FappNode};
use qpc_fapp::patient::{PatientConfig, PatientEvent, PatientState};
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_mesh::node::{LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use rand_chacha::ChaCha20Rng;

/// Link `k` joins node `k` and node `k + 1`.
fn link_config() -> LinkConfig {
    LinkConfig {
        mtu: 4096,
        cost: 1,
        budget: AirtimeBudget::two_percent(1_000_000),
        shared: false,
    }
}

struct Line {
    nodes: Vec<FappNode>,
    events: Vec<Vec<FappEvent>>,
    now: u64,
    rng: ChaCha20Rng,
}

impl Line {
    fn new(ids: &[Identity]) -> Line {
        let mut rng = rng(7);
        let mut nodes = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let copy = Identity::from_secret_bytes(&id.to_secret_bytes()[..]).unwrap();
            let config = NodeConfig {
                announce_interval_ms: 0,
                ..NodeConfig::default()
            };
            let mut mesh = MeshNode::new(copy, config, 1, &mut rng).unwrap();
            let links = [i.checked_sub(1), (i + 1 < ids.len()).then_some(i)];
            for k in links.into_iter().flatten() {
                mesh.add_link(LinkId(k as u16), link_config(), NOW).unwrap();
            }
            nodes.push(FappNode::new(mesh, DriverConfig::default()).unwrap());
        }
        let events = vec![Vec::new(); nodes.len()];
        Line {
            nodes,
            events,
            now: NOW,
            rng,
        }
    }

    /// Delivers every transmit (1 ms a hop) and fires timers until `end`.
    fn run_until(&mut self, end: u64) {
        loop {
            let mut queue = VecDeque::new();
            for (i, node) in self.nodes.iter_mut().enumerate() {
                while let Some(t) = node.poll_transmit() {
                    let k = t.link.0 as usize;
                    let to = if k == i { i + 1 } else { k };
                    queue.push_back((to, t.link, t.bytes));
                }
            }
            if let Some((to, link, bytes)) = queue.pop_front() {
                for (to, link, bytes) in std::iter::once((to, link, bytes)).chain(queue) {
                    let node = &mut self.nodes[to];
                    node.handle_datagram(link, Bytes::from(bytes), self.now, &mut self.rng);
                }
                self.now += 1;
                self.collect();
                continue;
            }
            let next = self.nodes.iter().filter_map(FappNode::poll_timeout).min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    for node in &mut self.nodes {
                        node.handle_timeout(self.now, &mut self.rng);
                    }
                    self.collect();
                }
                _ => break,
            }
        }
        self.now = self.now.max(end);
    }

    fn collect(&mut self) {
        for (i, node) in self.nodes.iter_mut().enumerate() {
            while let Some(event) = node.poll_event() {
                self.events[i].push(event);
            }
        }
    }
}

#[test]
fn a_patient_two_hops_away_books_a_slot() {
    let ids: Vec<Identity> = (1..=3).map(identity).collect();
    let mut line = Line::new(&ids);
    let (now, rng) = (line.now, &mut line.rng);
    // The therapist runs on node 0 with the node's identity.
    let copy = Identity::from_secret_bytes(&ids[0].to_secret_bytes()[..]).unwrap();
    let mut therapist = Therapist::new(
        copy,
        licence_hash("L-1"),
        practice(b"10115"),
        TherapistConfig::default(),
        0,
    )
    .unwrap();
    therapist.add_slot(now, slot(1, NOW + DAY)).unwrap();
    line.nodes[0].with_driver(now, rng, |driver, mesh, _| {
        driver.set_therapist(mesh, therapist).unwrap();
        mesh.announce(now).unwrap();
        driver.announce(mesh, now).unwrap();
    });
    line.run_until(NOW + 1_000);
    assert!(
        line.nodes[2].driver().relay().cache().len() == 1,
        "the announce reached the far relay"
    );
    let (now, rng) = (line.now, &mut line.rng);
    line.nodes[2].with_driver(now, rng, |driver, mesh, rng| {
        let config = PatientConfig {
            collect_ms: 2_000,
            ..PatientConfig::default()
        };
        driver
            .search(mesh, config, "p@example".into(), filter(b"10"), now, rng)
            .unwrap();
    });
    line.run_until(NOW + 5_000);
    let held = line.events[0].iter().find_map(|e| match e {
        FappEvent::Therapist(TherapistEvent::Held { request_id, .. }) => Some(*request_id),
        _ => None,
    });
    let request_id = held.expect("the reservation reached the therapist");
    let (now, rng) = (line.now, &mut line.rng);
    line.nodes[0].with_driver(now, rng, |driver, mesh, rng| {
        driver.confirm(mesh, &request_id, now, rng).unwrap();
    });
    line.run_until(NOW + 10_000);
    let patient = line.nodes[2].driver().patient().unwrap();
    assert_eq!(patient.state(), PatientState::Booked);
    assert!(line.events[2]
        .iter()
        .any(|e| matches!(e, FappEvent::Patient(PatientEvent::Booked(c)) if c.slot.id == 1)));
    assert_eq!(
        line.nodes[0].driver().therapist().unwrap().slot_owner(1),
        Some((request_id, true))
    );
}
