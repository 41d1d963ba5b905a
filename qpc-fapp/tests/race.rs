//! 1000 seeded runs of patients racing for few slots (spec/20 §9-§10),
//! with random delivery order, delays, losses, practice decisions and
//! timeouts: never a double booking, at most one booking per patient
//! request, and without losses no booking the patient does not hold.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::{filter, identity, practice, rng, slot, DAY, NOW};
use qpc_crypto::identity::{Address, Identity};
use qpc_fapp::announce::licence_hash;
use qpc_fapp::patient::{Patient, PatientConfig, PatientEvent, PatientState};
use qpc_fapp::query::SlotResponse;
use qpc_fapp::sealed::RequestId;
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_fapp::{FappMessage, Step, To};
use rand_chacha::rand_core::Rng;
use rand_chacha::ChaCha20Rng;

const HOLD_MS: u32 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Therapist(usize),
    Patient(usize),
}

#[derive(Debug)]
enum Action {
    Deliver(Node, Node, Box<FappMessage>),
    Decide(usize, RequestId),
}

struct World {
    rng: ChaCha20Rng,
    loss_percent: u32,
    lost: usize,
    clock: u64,
    queue: BTreeMap<(u64, u64), Action>,
    counter: u64,
    therapists: Vec<Therapist>,
    patients: Vec<Patient>,
    addresses: HashMap<Address, usize>,
    /// Which patient sent the reservation a therapist holds a request for.
    request_owner: HashMap<RequestId, usize>,
    /// Booked events seen per patient.
    booked: Vec<usize>,
}

impl World {
    fn schedule(&mut self, delay: u64, action: Action) {
        self.counter += 1;
        self.queue
            .insert((self.clock + delay, self.counter), action);
    }

    fn send(&mut self, from: Node, to: Node, message: FappMessage) {
        if self.rng.next_u32() % 100 < self.loss_percent {
            self.lost += 1;
            return;
        }
        let delay = u64::from(self.rng.next_u32() % 1_000);
        self.schedule(delay, Action::Deliver(from, to, Box::new(message)));
    }

    fn route<E>(&mut self, from: Node, step: Step<E>) {
        for out in step.outgoing {
            let to = match out.to {
                To::Address(a) => match self.addresses.get(&a) {
                    Some(&t) => Node::Therapist(t),
                    None => self.reply_owner(from),
                },
                _ => continue, // announces: the patients already have them
            };
            self.send(from, to, out.message);
        }
    }

    /// A result goes to a reply address, which the harness does not map:
    /// it is offered to every patient (see `deliver`).
    fn reply_owner(&self, from: Node) -> Node {
        match from {
            Node::Therapist(_) => Node::Patient(usize::MAX),
            patient => patient,
        }
    }

    fn therapist_step(&mut self, t: usize, step: Step<TherapistEvent>) {
        for event in &step.events {
            if let TherapistEvent::Held { request_id, .. } = event {
                let delay = u64::from(self.rng.next_u32() % 1_500);
                self.schedule(delay, Action::Decide(t, *request_id));
            }
        }
        self.route(Node::Therapist(t), step);
    }

    fn patient_step(&mut self, p: usize, step: Step<PatientEvent>) {
        let booked = step
            .events
            .iter()
            .filter(|e| matches!(e, PatientEvent::Booked(_)))
            .count();
        self.booked[p] += booked;
        self.route(Node::Patient(p), step);
    }

    fn deliver(&mut self, from: Node, to: Node, message: FappMessage) {
        let now = self.clock;
        let mut r = rng(self.counter);
        match (to, message) {
            (Node::Therapist(t), FappMessage::Reservation(sealed)) => {
                if let Ok(step) = self.therapists[t].handle_reservation(now, &sealed, &mut r) {
                    if let Node::Patient(p) = from {
                        for e in &step.events {
                            if let TherapistEvent::Held { request_id, .. } = e {
                                self.request_owner.insert(*request_id, p);
                            }
                        }
                    }
                    self.therapist_step(t, step);
                }
            }
            (Node::Therapist(t), FappMessage::Cancel(sealed)) => {
                if let Ok(step) = self.therapists[t].handle_cancel(now, &sealed) {
                    self.therapist_step(t, step);
                }
            }
            (Node::Patient(_), FappMessage::Result(sealed)) => {
                // The reply address is one patient's only: offer it to all,
                // exactly one recognises it.
                for p in 0..self.patients.len() {
                    if let Ok(step) = self.patients[p].handle_result(now, &sealed, &mut r) {
                        self.patient_step(p, step);
                        break;
                    }
                }
            }
            (to, message) => panic!("unexpected {message:?} to {to:?}"),
        }
    }

    fn fire_timeouts(&mut self) {
        let now = self.clock;
        let mut r = rng(self.counter ^ 0x5555);
        for t in 0..self.therapists.len() {
            if self.therapists[t]
                .poll_timeout()
                .is_some_and(|at| at <= now)
            {
                let step = self.therapists[t].handle_timeout(now, &mut r).unwrap();
                self.therapist_step(t, step);
            }
        }
        for p in 0..self.patients.len() {
            if self.patients[p].poll_timeout().is_some_and(|at| at <= now) {
                let step = self.patients[p].handle_timeout(now, &mut r).unwrap();
                self.patient_step(p, step);
            }
        }
    }

    fn next_timer(&self) -> Option<u64> {
        let therapists = self.therapists.iter().filter_map(Therapist::poll_timeout);
        let patients = self.patients.iter().filter_map(Patient::poll_timeout);
        therapists
            .chain(patients)
            .filter(|&at| at < NOW + DAY / 2)
            .min()
    }

    fn run(&mut self) {
        loop {
            let next_action = self.queue.keys().next().map(|&(at, _)| at);
            let next = match (next_action, self.next_timer()) {
                (None, None) => break,
                (a, b) => a.into_iter().chain(b).min().unwrap(),
            };
            self.clock = self.clock.max(next);
            self.fire_timeouts();
            let due = self
                .queue
                .keys()
                .next()
                .copied()
                .filter(|&(at, _)| at <= self.clock);
            if let Some(key) = due {
                let action = self.queue.remove(&key).unwrap();
                self.perform(action);
            }
        }
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Deliver(from, to, message) => self.deliver(from, to, *message),
            Action::Decide(t, request) => {
                let mut r = rng(self.counter ^ 0xaaaa);
                let now = self.clock;
                let choice = self.rng.next_u32() % 10;
                let result = match choice {
                    0..=5 => self.therapists[t].confirm(now, &request, &mut r),
                    6..=7 => self.therapists[t].decline(now, &request, &mut r),
                    _ => return, // let the hold expire
                };
                if let Ok(step) = result {
                    self.therapist_step(t, step);
                }
            }
        }
    }
}

fn identities() -> Vec<Identity> {
    (1..=3).map(identity).collect()
}

fn run_once(seed: u64, ids: &[Identity]) -> (usize, usize) {
    let mut r = rng(seed);
    let therapist_count = 1 + (r.next_u32() % 3) as usize;
    let patient_count = 2 + (r.next_u32() % 4) as usize;
    let loss_percent = if seed % 2 == 0 { 0 } else { 15 };
    let config = TherapistConfig {
        hold_ms: HOLD_MS,
        ..TherapistConfig::default()
    };
    let mut therapists = Vec::new();
    let mut announces = Vec::new();
    for (t, id) in ids.iter().take(therapist_count).enumerate() {
        let copy = Identity::from_secret_bytes(&id.to_secret_bytes()[..]).unwrap();
        let mut therapist =
            Therapist::new(copy, licence_hash("L"), practice(b"10115"), config, 0).unwrap();
        let slots = 1 + r.next_u32() % 2;
        for s in 0..slots {
            therapist
                .add_slot(
                    NOW,
                    slot(s, NOW + DAY + u64::from(s) * 3_600_000 + t as u64),
                )
                .unwrap();
        }
        let step = therapist.announce(NOW).unwrap();
        let FappMessage::Announce(a) = &step.outgoing[0].message else {
            panic!()
        };
        announces.push(a.clone());
        therapists.push(therapist);
    }
    let patient_config = PatientConfig {
        collect_ms: 100,
        result_grace_ms: 500,
        ..PatientConfig::default()
    };
    let mut patients = Vec::new();
    for _ in 0..patient_count {
        let (mut patient, _) =
            Patient::search(patient_config, "p".into(), filter(b"1"), NOW, &mut r).unwrap();
        let response = SlotResponse {
            query_id: *patient.query_id(),
            announces: announces.clone(),
            more: vec![],
        };
        patient.handle_response(NOW, &response).unwrap();
        for id in ids.iter().take(therapist_count) {
            patient.learn_identity(id.public().clone());
        }
        patients.push(patient);
    }
    let addresses = therapists
        .iter()
        .enumerate()
        .map(|(i, t)| (t.address(), i))
        .collect();
    let mut world = World {
        rng: r,
        loss_percent,
        lost: 0,
        clock: NOW,
        queue: BTreeMap::new(),
        counter: seed << 20,
        therapists,
        patients,
        addresses,
        request_owner: HashMap::new(),
        booked: vec![0; patient_count],
    };
    world.run();
    check(&world, seed)
}

/// The properties; returns (bookings, lost messages).
fn check(world: &World, seed: u64) -> (usize, usize) {
    let mut bookings = 0;
    let mut holders = HashSet::new();
    for (p, patient) in world.patients.iter().enumerate() {
        assert!(
            world.booked[p] <= 1,
            "seed {seed}: patient {p} booked twice"
        );
        assert_eq!(
            world.booked[p] == 1,
            patient.state() == PatientState::Booked,
            "seed {seed}: patient {p}"
        );
    }
    for (t, therapist) in world.therapists.iter().enumerate() {
        for slot_id in 0..2 {
            let Some((request, true)) = therapist.slot_owner(slot_id) else {
                continue;
            };
            bookings += 1;
            let owner = world.request_owner[&request];
            assert!(
                holders.insert((t, owner, slot_id)),
                "seed {seed}: double booking"
            );
            if world.lost == 0 {
                assert_eq!(
                    world.patients[owner].state(),
                    PatientState::Booked,
                    "seed {seed}: therapist {t} slot {slot_id} booked for patient {owner}, who does not know"
                );
            }
        }
    }
    // Without losses, a patient holds at most one therapist-side booking.
    if world.lost == 0 {
        let mut per_patient = HashMap::new();
        for &(_, owner, _) in &holders {
            *per_patient.entry(owner).or_insert(0) += 1;
        }
        assert!(
            per_patient.values().all(|&n| n <= 1),
            "seed {seed}: {per_patient:?}"
        );
    }
    (bookings, world.lost)
}

#[test]
fn a_thousand_seeded_races_never_double_book() {
    let ids = identities();
    let mut bookings = 0;
    let mut lost = 0;
    for seed in 0..1000 {
        let (b, l) = run_once(seed, &ids);
        bookings += b;
        lost += l;
    }
    // The runs are not vacuous: slots get booked and messages get lost.
    assert!(bookings > 500, "{bookings} bookings");
    assert!(lost > 100, "{lost} messages lost");
}
