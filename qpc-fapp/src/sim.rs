//! FAPP over qpc-mesh's simulator (`SIMULATION.md`, section FAPP): every
//! node runs a [`FappDriver`] (a relay), some a therapist, some a patient;
//! the [`FappLayer`] is the simulator's [`Upper`] layer that feeds node
//! events through the drivers, plays the practices' decisions and the
//! scenario's timed actions, and records bookings.
//!
//! A run is deterministic per seed. [`run`] builds the network
//! (qpc-mesh's scenario builder), lets the therapists announce, starts the
//! patients' searches and reports a [`FappReport`].

use std::collections::BTreeMap;

use qpc_crypto::identity::Address;
use qpc_mesh::node::{Event, MeshNode};
use qpc_mesh::sim::metrics::Percentiles;
use qpc_mesh::sim::scenario::{self, NetworkConfig};
use qpc_mesh::sim::upper::Upper;
use qpc_mesh::sim::{Simulator, Stats};
use rand_chacha::rand_core::Rng;
use rand_chacha::ChaCha20Rng;

use crate::announce::licence_hash;
use crate::error::Result;
use crate::mesh::{DriverConfig, FappDriver, FappEvent};
use crate::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use crate::patient::{PatientConfig, PatientEvent, PatientState};
use crate::query::Filter;
use crate::sealed::RequestId;
use crate::therapist::{Therapist, TherapistConfig, TherapistEvent};

/// One hour, ms.
const HOUR: u64 = 3_600_000;

/// What a practice does with a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Practices {
    /// Longest time a practice takes to decide, ms (uniform from 0).
    pub decision_ms: u64,
    /// Holds confirmed, in thousandths; of the rest, half are declined
    /// and half left to expire.
    pub confirm_permille: u16,
}

/// A FAPP simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct FappConfig {
    /// The network (nodes, degree, loss, radio); its seed is the run's.
    pub network: NetworkConfig,
    /// Nodes that run a therapist (the first ones drawn).
    pub therapists: usize,
    /// Nodes that run a patient (distinct from the therapists).
    pub patients: usize,
    /// Free slots each therapist offers.
    pub slots_per_therapist: u32,
    /// The therapists' engine configuration.
    pub therapist: TherapistConfig,
    /// The patients' engine configuration.
    pub patient: PatientConfig,
    /// The practices' behaviour.
    pub practices: Practices,
    /// Mesh announces and FAPP announces before the first search, ms.
    pub warmup_ms: u64,
    /// Searches start uniformly within this time after the warm-up, ms.
    pub search_spread_ms: u64,
    /// The run ends this long after the last search could start, ms.
    pub tail_ms: u64,
    /// Therapists re-announce (adding a slot) this often during the
    /// searches, ms (0: never): announces superseded while reservations
    /// are in flight.
    pub reannounce_ms: u64,
    /// Reservations the therapist's node receives again this long later,
    /// ms (0: never): replayed reservations.
    pub replay_after_ms: u64,
}

impl Default for FappConfig {
    fn default() -> Self {
        FappConfig {
            network: NetworkConfig {
                nodes: 500,
                mean_degree: 10.0,
                mtu: 4096,
                ..NetworkConfig::default()
            },
            therapists: 50,
            patients: 200,
            slots_per_therapist: 4,
            therapist: TherapistConfig {
                hold_ms: 60_000,
                ..TherapistConfig::default()
            },
            patient: PatientConfig {
                collect_ms: 10_000,
                result_grace_ms: 10_000,
                ..PatientConfig::default()
            },
            practices: Practices {
                decision_ms: 5_000,
                confirm_permille: 1000,
            },
            warmup_ms: 120_000,
            search_spread_ms: 600_000,
            tail_ms: 1_200_000,
            reannounce_ms: 0,
            replay_after_ms: 0,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FappReport {
    /// The seed.
    pub seed: u64,
    /// Patients that searched.
    pub patients: usize,
    /// Patients that ended booked.
    pub booked: usize,
    /// Patients that ended with every candidate refused or timed out.
    pub exhausted: usize,
    /// Patients still collecting or reserving at the end (0 expected).
    pub unfinished: usize,
    /// Time from search to booking of each booked patient, ms, ascending.
    pub time_to_booking_ms: Vec<u64>,
    /// Confirmed bookings beyond the first per (therapist, slot), counted
    /// over every patient's Booked events: 0 required.
    pub double_bookings: usize,
    /// Patients with more than one Booked event: 0 required.
    pub patients_booked_twice: usize,
    /// Patient bookings the therapist does not hold as booked for some
    /// request: 0 required (patients here never cancel a booking).
    pub bookings_unknown_to_therapist: usize,
    /// Mesh frames and bytes transmitted from the first search on.
    pub traffic: Stats,
    /// Type-0xc frames among them.
    pub fapp_frames: u64,
    /// Reservations replayed to a therapist and answered as replays.
    pub replays: usize,
}

impl FappReport {
    /// Share of patients booked.
    pub fn booked_share(&self) -> f64 {
        self.booked as f64 / self.patients.max(1) as f64
    }

    /// Time-to-booking percentiles.
    pub fn time_to_booking(&self) -> Option<Percentiles> {
        Percentiles::of_sorted(&self.time_to_booking_ms)
    }

    /// Mesh frames per booking.
    pub fn frames_per_booking(&self) -> f64 {
        self.traffic.transmissions as f64 / self.booked.max(1) as f64
    }

    /// Mesh bytes per booking.
    pub fn bytes_per_booking(&self) -> f64 {
        self.traffic.bytes as f64 / self.booked.max(1) as f64
    }
}

/// A timed action of the scenario at one node.
#[derive(Debug, Clone)]
enum Action {
    /// The patient of this node starts its search.
    Search,
    /// The practice confirms or declines a hold.
    Decide(RequestId, bool),
    /// The therapist adds a slot (and so re-announces).
    AddSlot,
    /// A reservation the node received arrives again.
    Replay(bytes::Bytes),
}

/// The FAPP side of every simulated node, as the simulator's upper layer.
#[derive(Debug)]
pub struct FappLayer {
    config: FappConfig,
    drivers: Vec<FappDriver>,
    actions: Vec<BTreeMap<(u64, u64), Action>>,
    counter: u64,
    search_started: BTreeMap<usize, u64>,
    /// Every Booked event: (patient node, time to booking, therapist, slot).
    booked: Vec<(usize, u64, Address, u32)>,
    exhausted: usize,
    replays: usize,
    next_slot: BTreeMap<usize, u32>,
}

impl FappLayer {
    fn schedule(&mut self, node: usize, at: u64, action: Action) {
        self.counter += 1;
        self.actions[node].insert((at, self.counter), action);
    }

    /// The driver of node `i`.
    pub fn driver(&self, i: usize) -> &FappDriver {
        &self.drivers[i]
    }

    fn run_actions(&mut self, node: usize, engine: &mut MeshNode, now: u64, rng: &mut ChaCha20Rng) {
        while let Some(entry) = self.actions[node].first_entry() {
            if entry.key().0 > now {
                break;
            }
            let action = entry.remove();
            self.perform(node, engine, action, now, rng);
        }
    }

    fn perform(
        &mut self,
        node: usize,
        engine: &mut MeshNode,
        action: Action,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) {
        let driver = &mut self.drivers[node];
        // Refusals (a decision on an expired hold, a full inventory) are
        // part of the races; the engines report them as events.
        let _ = match action {
            Action::Search => {
                self.search_started.insert(node, now);
                let filter = any_filter(now);
                driver.search(engine, self.config.patient, "p".into(), filter, now, rng)
            }
            Action::Decide(request_id, true) => driver.confirm(engine, &request_id, now, rng),
            Action::Decide(request_id, false) => driver.decline(engine, &request_id, now, rng),
            Action::AddSlot => {
                let id = self.next_slot.entry(node).or_insert(100);
                *id += 1;
                let slot = slot_at(*id, now + 2 * 24 * HOUR + u64::from(*id) * HOUR);
                driver.add_slot(engine, slot, now)
            }
            Action::Replay(payload) => {
                let event = Event::FappDelivered {
                    destination: engine.address(),
                    payload,
                };
                driver.handle_mesh_event(engine, event, now, rng);
                Ok(())
            }
        };
        self.react(node, now, rng);
    }

    /// Plays the practices' decisions and records the patients' outcomes.
    fn react(&mut self, node: usize, now: u64, rng: &mut ChaCha20Rng) {
        while let Some(event) = self.drivers[node].poll_event() {
            match event {
                FappEvent::Therapist(TherapistEvent::Held { request_id, .. }) => {
                    let practices = self.config.practices;
                    let delay = rng.next_u64() % (practices.decision_ms + 1);
                    let draw = (rng.next_u32() % 1000) as u16;
                    if draw < practices.confirm_permille {
                        self.schedule(node, now + delay, Action::Decide(request_id, true));
                    } else if draw % 2 == 0 {
                        self.schedule(node, now + delay, Action::Decide(request_id, false));
                    }
                }
                FappEvent::Therapist(TherapistEvent::Replayed(_)) => self.replays += 1,
                FappEvent::Patient(PatientEvent::Booked(candidate)) => {
                    let started = self.search_started.get(&node).copied().unwrap_or(now);
                    let booking = (node, now - started, candidate.therapist, candidate.slot.id);
                    self.booked.push(booking);
                }
                FappEvent::Patient(PatientEvent::Exhausted) => self.exhausted += 1,
                _ => {}
            }
        }
    }

    fn record_reservation(&mut self, node: usize, event: &Event, now: u64) {
        let replay = self.config.replay_after_ms;
        if let (Event::FappDelivered { payload, .. }, true) = (event, replay > 0) {
            let is_reservation = payload.get(1) == Some(&0x05);
            if is_reservation && self.drivers[node].therapist().is_some() {
                self.schedule(node, now + replay, Action::Replay(payload.clone()));
            }
        }
    }
}

impl Upper for FappLayer {
    fn on_event(
        &mut self,
        node: usize,
        engine: &mut MeshNode,
        event: &Event,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) {
        self.record_reservation(node, event, now);
        self.drivers[node].handle_mesh_event(engine, event.clone(), now, rng);
        self.react(node, now, rng);
    }

    fn poll_timeout(&self, node: usize) -> Option<u64> {
        let action = self.actions[node].keys().next().map(|k| k.0);
        [self.drivers[node].poll_timeout(), action]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_timeout(&mut self, node: usize, engine: &mut MeshNode, now: u64, rng: &mut ChaCha20Rng) {
        self.run_actions(node, engine, now, rng);
        self.drivers[node].handle_timeout(engine, now, rng);
        self.react(node, now, rng);
    }
}

/// A filter every simulated practice matches (PLZ prefix "1", any method,
/// adults, GKV) for slots within 30 days of `now`.
fn any_filter(now: u64) -> Filter {
    Filter {
        plz_prefix: PlzPrefix::new(b"1").expect("a digit"),
        methods: Methods::ALL,
        age_groups: AgeGroups::ADULTS,
        kinds: Kinds::ALL,
        modalities: Modalities::ALL,
        payers: Payers::GKV,
        required_features: Features::NONE,
        languages: Languages::default(),
        earliest_ms: now,
        latest_ms: now + 30 * 24 * HOUR,
    }
}

fn practice(rng: &mut ChaCha20Rng) -> Practice {
    let mut plz = *b"10000";
    for digit in &mut plz[1..] {
        *digit = b'0' + (rng.next_u32() % 10) as u8;
    }
    Practice {
        plz: Plz::new(plz).expect("digits"),
        methods: Methods::BEHAVIOURAL,
        age_groups: AgeGroups::ADULTS,
        modalities: Modalities::IN_PERSON,
        payers: Payers::GKV,
        features: Features::NONE,
        languages: Languages::new(&[*b"de"]).expect("a language"),
    }
}

fn slot_at(id: u32, start_ms: u64) -> Slot {
    Slot {
        id,
        start_ms,
        duration_min: 50,
        kind: Kinds::CONSULTATION,
    }
}

/// Builds the network and the FAPP layer: therapists are given their
/// slots and announce (mesh and FAPP) during the warm-up, the patients'
/// searches are scheduled.
pub fn build(config: &FappConfig) -> Result<(Simulator, FappLayer)> {
    let mut network = scenario::build(&config.network)?;
    let n = network.sim.len();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (network.sim.rng().next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let therapists = config.therapists.min(n);
    let patients = config.patients.min(n - therapists);
    let mut layer = FappLayer {
        config: config.clone(),
        drivers: Vec::with_capacity(n),
        actions: vec![BTreeMap::new(); n],
        counter: 0,
        search_started: BTreeMap::new(),
        booked: Vec::new(),
        exhausted: 0,
        replays: 0,
        next_slot: BTreeMap::new(),
    };
    for _ in 0..n {
        layer
            .drivers
            .push(FappDriver::new(DriverConfig::default())?);
    }
    for (k, &node) in order.iter().take(therapists).enumerate() {
        let identity = network.identity(node);
        let rng = network.sim.rng();
        let mut therapist = Therapist::new(
            identity,
            licence_hash("sim"),
            practice(rng),
            config.therapist,
            0,
        )?;
        for s in 0..config.slots_per_therapist {
            let start = 24 * HOUR + u64::from(s) * HOUR + k as u64 * 60_000;
            therapist.add_slot(0, slot_at(s, start))?;
        }
        let at = network.sim.rng().next_u64() % (config.warmup_ms / 2).max(1);
        network
            .sim
            .run_until_with(at.max(network.sim.now()), &mut layer);
        network
            .sim
            .with_node_upper(node, &mut layer, |layer, engine, now, _| {
                let driver = &mut layer.drivers[node];
                driver.set_therapist(engine, therapist)?;
                engine.announce(now)?;
                driver.announce(engine, now)
            })?;
        if config.reannounce_ms > 0 {
            let mut at = config.warmup_ms + config.reannounce_ms;
            while at < config.warmup_ms + config.search_spread_ms {
                layer.schedule(node, at, Action::AddSlot);
                at += config.reannounce_ms;
            }
        }
    }
    for &node in order.iter().skip(therapists).take(patients) {
        let at = config.warmup_ms + network.sim.rng().next_u64() % config.search_spread_ms.max(1);
        layer.schedule(node, at, Action::Search);
        network
            .sim
            .with_node_upper(node, &mut layer, |_, _, _, _| ());
    }
    Ok((network.sim, layer))
}

/// Runs one simulation and reports it.
pub fn run(config: &FappConfig) -> Result<FappReport> {
    let (mut sim, mut layer) = build(config)?;
    sim.run_until_with(config.warmup_ms, &mut layer);
    let before = sim.stats();
    let end = config.warmup_ms + config.search_spread_ms + config.tail_ms;
    sim.run_until_with(end, &mut layer);
    Ok(report(config, &sim, &layer, before))
}

fn report(config: &FappConfig, sim: &Simulator, layer: &FappLayer, before: Stats) -> FappReport {
    let traffic = sim.stats().since(&before);
    let mut per_slot: BTreeMap<(Address, u32), usize> = BTreeMap::new();
    let mut per_patient: BTreeMap<usize, usize> = BTreeMap::new();
    for &(patient, _, therapist, slot) in &layer.booked {
        *per_slot.entry((therapist, slot)).or_default() += 1;
        *per_patient.entry(patient).or_default() += 1;
    }
    let unknown = layer
        .booked
        .iter()
        .filter(|&&(_, _, therapist, slot)| {
            let holder = layer.drivers.iter().filter_map(FappDriver::therapist);
            let mut holder = holder.filter(|t| t.address() == therapist);
            holder.next().and_then(|t| t.slot_owner(slot)).map(|o| o.1) != Some(true)
        })
        .count();
    let mut unfinished = 0;
    for driver in &layer.drivers {
        if let Some(patient) = driver.patient() {
            let open = [PatientState::Collecting, PatientState::Reserving];
            unfinished += usize::from(open.contains(&patient.state()));
        }
    }
    let mut times: Vec<u64> = layer.booked.iter().map(|b| b.1).collect();
    times.sort_unstable();
    FappReport {
        seed: config.network.seed,
        patients: layer.search_started.len(),
        booked: per_patient.len(),
        exhausted: layer.exhausted,
        unfinished,
        time_to_booking_ms: times,
        double_bookings: per_slot.values().map(|c| c - 1).sum(),
        patients_booked_twice: per_patient.values().filter(|&&c| c > 1).count(),
        bookings_unknown_to_therapist: unknown,
        fapp_frames: traffic.frames_of(qpc_mesh::envelope::MessageType::Fapp),
        traffic,
        replays: layer.replays,
    }
}
