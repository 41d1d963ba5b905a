//! FAPP in the node (`spec/30-reference-node.md` §16): the FAPP driver of
//! `qpc-fapp` next to the mesh engine, the control operations'
//! requests and answers, and what the store keeps of FAPP (the therapist's
//! inventory and sequence, the relay's cache, the event log).
//!
//! The driver task calls [`Fapp`] with its `MeshNode`; every change of the
//! therapist's durable state and of the cache is put into the step and
//! committed before the step's transmits go out (§2), so an announce's
//! sequence number is stored before the announce is on the air.

use std::collections::{BTreeMap, BTreeSet};

use qpc_crypto::identity::{Address, Identity, PublicIdentity};
use qpc_fapp::announce::licence_hash;
use qpc_fapp::mesh::{DriverConfig, FappDriver, FappEvent};
use qpc_fapp::patient::{Candidate, PatientConfig, PatientEvent, PatientState};
use qpc_fapp::relay::RelayEvent;
use qpc_fapp::therapist::{SlotStatus, Therapist, TherapistConfig, TherapistEvent, TherapistState};
use qpc_mesh::node::{Event, MeshNode};
use rand::rngs::StdRng;
use serde_json::{json, Value};

use crate::config::{decode_hex, Config, TherapistProfile};
use crate::error::{Error, Result};
use crate::store::{Step, Store};

mod request;
mod rows;

pub use request::{format_time, parse_time, practice, AnnounceSpec, QuerySpec, SlotSpec};
use request::{kind_name, malformed};
pub use rows::{decode_cache_row, decode_therapist_row, encode_cache_row, encode_therapist_row};

/// Most slots one `fapp_announce` adds (the inventory's bound).
pub const MAX_SLOTS_PER_REQUEST: usize = qpc_fapp::announce::MAX_SLOTS;
/// Most event-log rows in one `fapp_results` answer.
pub const MAX_EVENTS_ANSWER: usize = 1_000;
/// The default collection time of `fapp_query`, ms.
pub const DEFAULT_COLLECT_MS: u64 = 10_000;

fn candidate_json(c: &Candidate) -> Value {
    json!({
        "therapist": hex::encode(c.therapist.as_bytes()), "slot": c.slot.id,
        "start": format_time(c.slot.start_ms), "start_ms": c.slot.start_ms,
        "duration_min": c.slot.duration_min, "kind": kind_name(c.slot.kind),
        "sequence": c.sequence, "hold_ms": c.hold_ms,
    })
}

fn therapist_event(event: &TherapistEvent) -> Value {
    let id = |r: &[u8; 16]| hex::encode(r);
    match event {
        TherapistEvent::Held {
            request_id,
            slot_id,
            contact,
            until_ms,
        } => json!({"event": "held", "request_id": id(request_id), "slot": slot_id,
                    "contact": contact, "until_ms": until_ms}),
        TherapistEvent::Confirmed(r) => json!({"event": "confirmed", "request_id": id(r)}),
        TherapistEvent::Declined(r) => json!({"event": "declined", "request_id": id(r)}),
        TherapistEvent::Expired(r) => json!({"event": "expired", "request_id": id(r)}),
        TherapistEvent::Cancelled(r) => json!({"event": "cancelled", "request_id": id(r)}),
        TherapistEvent::Replayed(r) => json!({"event": "replayed", "request_id": id(r)}),
    }
}

fn patient_event(event: &PatientEvent) -> Option<Value> {
    let with = |name: &str, c: &Candidate| {
        let mut v = candidate_json(c);
        v["event"] = json!(name);
        v
    };
    Some(match event {
        PatientEvent::IdentityNeeded(_) => return None,
        PatientEvent::Reserving(c) => with("reserving", c),
        PatientEvent::Booked(c) => with("booked", c),
        PatientEvent::Refused(c, status) => {
            let mut v = with("refused", c);
            v["status"] = json!(status.name());
            v
        }
        PatientEvent::TimedOut(c) => with("timed_out", c),
        PatientEvent::Skipped(c) => with("skipped", c),
        PatientEvent::LateConfirmationCancelled(c) => with("late_confirmation_cancelled", c),
        PatientEvent::Exhausted => json!({"event": "exhausted"}),
    })
}

fn patient_state(state: PatientState) -> &'static str {
    match state {
        PatientState::Collecting => "collecting",
        PatientState::Reserving => "reserving",
        PatientState::Booked => "booked",
        PatientState::Exhausted => "exhausted",
        PatientState::Cancelled => "cancelled",
    }
}

/// A search the node's patient runs.
#[derive(Debug, Clone)]
struct Search {
    collect_until_ms: u64,
}

/// The FAPP half of the node.
#[derive(Debug)]
pub struct Fapp {
    identity: Identity,
    driver: FappDriver,
    profile: Option<TherapistProfile>,
    saved: Option<TherapistState>,
    search: Option<Search>,
    cache_changed: BTreeSet<Address>,
    events: Vec<Value>,
    confirm: Vec<[u8; 16]>,
    refused: BTreeMap<&'static str, u64>,
}

fn clone_identity(identity: &Identity) -> Result<Identity> {
    Ok(Identity::from_secret_bytes(
        &identity.to_secret_bytes()[..],
    )?)
}

fn therapist_config(profile: &TherapistProfile) -> TherapistConfig {
    TherapistConfig {
        hold_ms: profile.hold_ms,
        ..TherapistConfig::default()
    }
}

impl Fapp {
    /// The FAPP half of a node of `identity`, restored from the store: the
    /// relay's cache (expired or unverifiable rows are dropped and logged)
    /// and the therapist (the stored inventory and sequence; the profile of
    /// `[fapp.therapist]` if the configuration has one, else the stored one).
    pub fn new(
        config: &Config,
        store: &Store,
        identity: &Identity,
        mesh: &MeshNode,
        now: u64,
    ) -> Result<Fapp> {
        let mut fapp = Fapp {
            identity: clone_identity(identity)?,
            driver: FappDriver::new(DriverConfig::default())?,
            profile: None,
            saved: None,
            search: None,
            cache_changed: BTreeSet::new(),
            events: Vec::new(),
            confirm: Vec::new(),
            refused: BTreeMap::new(),
        };
        for (address, row) in store.fapp_cache()? {
            let address = Address::from_bytes(address);
            let restored = decode_cache_row(&row).and_then(|(sequence, expires_ms, announce)| {
                let relay = fapp.driver.relay_mut();
                Ok(relay.restore(now, address, sequence, expires_ms, announce)?)
            });
            if let Err(e) = restored {
                tracing::info!(class = e.class(), therapist = %hex::encode(address.as_bytes()), "cached announce dropped: {e}");
                fapp.cache_changed.insert(address);
            }
        }
        let configured = config.fapp.therapist.as_ref();
        let stored = store
            .fapp_therapist()?
            .map(|bytes| decode_therapist_row(&bytes, configured))
            .transpose()?;
        match (stored, configured) {
            (Some((profile, state)), _) => {
                fapp.saved = Some(state.clone());
                fapp.install(mesh, profile, state)?;
            }
            (None, Some(profile)) => {
                let state = TherapistState {
                    licence_hash: licence_hash(&profile.licence),
                    practice: practice(profile)?,
                    sequence: 0,
                    refresh_at_ms: 0,
                    slots: Vec::new(),
                };
                fapp.install(mesh, profile.clone(), state)?;
            }
            (None, None) => {}
        }
        Ok(fapp)
    }

    fn install(
        &mut self,
        mesh: &MeshNode,
        profile: TherapistProfile,
        state: TherapistState,
    ) -> Result<()> {
        let identity = clone_identity(&self.identity)?;
        let therapist = Therapist::restore(identity, therapist_config(&profile), state)?;
        self.driver.set_therapist(mesh, therapist)?;
        self.profile = Some(profile);
        Ok(())
    }

    /// Takes one mesh event: FAPP frames are consumed, the rest handed
    /// back (`KeyFetched` after the patient saw it).
    pub fn on_mesh_event(
        &mut self,
        mesh: &mut MeshNode,
        event: Event,
        now: u64,
        rng: &mut StdRng,
    ) -> Option<Event> {
        self.driver.handle_mesh_event(mesh, event, now, rng)
    }

    /// When [`Fapp::on_time`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.driver.poll_timeout()
    }

    /// Fires the engines' timers.
    pub fn on_time(&mut self, mesh: &mut MeshNode, now: u64, rng: &mut StdRng) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.driver.handle_timeout(mesh, now, rng);
        }
    }

    /// Drains the engines' events into the event log (and confirms holds
    /// when the profile says so); whether there were any.
    pub fn drain(
        &mut self,
        mesh: &mut MeshNode,
        identities: &BTreeMap<Address, PublicIdentity>,
        now: u64,
        rng: &mut StdRng,
    ) -> bool {
        let mut any = false;
        loop {
            while let Some(event) = self.driver.poll_event() {
                any = true;
                self.on_event(event, identities, now);
            }
            if self.confirm.is_empty() {
                return any;
            }
            for request_id in std::mem::take(&mut self.confirm) {
                if let Err(e) = self.driver.confirm(mesh, &request_id, now, rng) {
                    tracing::warn!(class = e.class(), "automatic confirmation failed: {e}");
                }
            }
        }
    }

    fn log(&mut self, mut event: Value, now: u64) {
        tracing::info!(%event, "fapp");
        event["at_ms"] = json!(now);
        self.events.push(event);
    }

    fn on_event(
        &mut self,
        event: FappEvent,
        identities: &BTreeMap<Address, PublicIdentity>,
        now: u64,
    ) {
        match event {
            FappEvent::Therapist(event) => {
                if let TherapistEvent::Held { request_id, .. } = &event {
                    if self.profile.as_ref().is_some_and(|p| p.auto_confirm) {
                        self.confirm.push(*request_id);
                    }
                }
                let mut value = therapist_event(&event);
                value["role"] = json!("therapist");
                self.log(value, now);
            }
            FappEvent::Patient(PatientEvent::IdentityNeeded(address)) => {
                if let Some(identity) = identities.get(&address) {
                    self.driver.learn_identity(identity.clone());
                }
            }
            FappEvent::Patient(event) => {
                if let Some(mut value) = patient_event(&event) {
                    value["role"] = json!("patient");
                    self.log(value, now);
                }
            }
            FappEvent::Relay(RelayEvent::Cached(address, _) | RelayEvent::Evicted(address)) => {
                self.cache_changed.insert(address);
            }
            FappEvent::Refused { fapp_type, class } => {
                tracing::debug!(?fapp_type, class, "FAPP message refused");
                *self.refused.entry(class).or_default() += 1;
            }
            FappEvent::Mesh(event) => tracing::debug!(?event, "mesh event via FAPP"),
        }
    }

    /// Puts what changed into `step` (the therapist row, cache rows, event
    /// log rows); whether anything did.
    pub fn collect(&mut self, step: &mut Step) -> Result<bool> {
        let mut changed = false;
        if let (Some(therapist), Some(profile)) = (self.driver.therapist(), &self.profile) {
            let state = therapist.state();
            if self.saved.as_ref() != Some(&state) {
                step.fapp_therapist = Some(encode_therapist_row(profile, &state)?);
                self.saved = Some(state);
                changed = true;
            }
        }
        for address in std::mem::take(&mut self.cache_changed) {
            let row = match self.driver.relay().cache().entry(&address) {
                Some((sequence, expires_ms, announce)) => {
                    Some(encode_cache_row(sequence, expires_ms, announce)?)
                }
                None => None,
            };
            step.fapp_cache.push((*address.as_bytes(), row));
            changed = true;
        }
        for event in self.events.drain(..) {
            step.fapp_events
                .push(serde_json::to_vec(&event).map_err(|e| Error::Store(e.to_string()))?);
            changed = true;
        }
        Ok(changed)
    }

    /// `fapp_announce`: becomes a therapist (or changes the profile),
    /// adds slots and announces.
    pub fn announce(&mut self, mesh: &mut MeshNode, spec: AnnounceSpec, now: u64) -> Result<Value> {
        if spec.slots.len() > MAX_SLOTS_PER_REQUEST {
            return Err(Error::FrameTooLarge {
                what: "slot list",
                len: spec.slots.len(),
                max: MAX_SLOTS_PER_REQUEST,
            });
        }
        let slots = spec
            .slots
            .iter()
            .map(|s| s.slot(now))
            .collect::<Result<Vec<_>>>()?;
        if let Some(profile) = spec.profile {
            let mut state = match self.driver.therapist() {
                Some(t) => t.state(),
                None => TherapistState {
                    licence_hash: [0; 32],
                    practice: practice(&profile)?,
                    sequence: 0,
                    refresh_at_ms: 0,
                    slots: Vec::new(),
                },
            };
            state.licence_hash = licence_hash(&profile.licence);
            state.practice = practice(&profile)?;
            self.install(mesh, profile, state)?;
        } else if self.driver.therapist().is_none() {
            return Err(Error::Fapp(qpc_fapp::Error::WrongState(
                "not a therapist: give a profile or configure [fapp.therapist]",
            )));
        }
        if slots.is_empty() {
            self.driver.announce(mesh, now)?;
        } else {
            self.driver.add_slots(mesh, &slots, now)?;
        }
        let mut answer = self.inventory();
        answer["ok"] = json!(true);
        Ok(answer)
    }

    /// `fapp_query`: starts a search (replacing any earlier one).
    pub fn query(
        &mut self,
        mesh: &mut MeshNode,
        spec: QuerySpec,
        now: u64,
        rng: &mut StdRng,
    ) -> Result<Value> {
        let collect_ms = spec.collect_ms.unwrap_or(DEFAULT_COLLECT_MS);
        let config = PatientConfig {
            collect_ms,
            ..PatientConfig::default()
        };
        let filter = spec.filter(now)?;
        self.driver
            .search(mesh, config, spec.contact, filter, now, rng)?;
        let collect_until_ms = now.saturating_add(collect_ms);
        self.search = Some(Search { collect_until_ms });
        let query_id = self.driver.patient().map(|p| hex::encode(p.query_id()));
        Ok(json!({"ok": true, "query_id": query_id, "collect_until_ms": collect_until_ms}))
    }

    /// `fapp_reserve`: reserves a collected slot now.
    pub fn reserve(
        &mut self,
        mesh: &mut MeshNode,
        therapist: &str,
        slot: u32,
        now: u64,
        rng: &mut StdRng,
    ) -> Result<Value> {
        let therapist = Address::from_bytes(
            decode_hex(therapist, "therapist")
                .map_err(|_| malformed("reserve request", "`therapist` is not 32 hex digits"))?,
        );
        self.driver.reserve(mesh, &therapist, slot, now, rng)?;
        Ok(json!({"ok": true, "state": "reserving"}))
    }

    /// `fapp_confirm` / `fapp_decline`: decides a held reservation.
    pub fn decide(
        &mut self,
        mesh: &mut MeshNode,
        request_id: &str,
        confirm: bool,
        now: u64,
        rng: &mut StdRng,
    ) -> Result<Value> {
        let id: [u8; 16] = decode_hex(request_id, "request_id")
            .map_err(|_| malformed("decision", "`request_id` is not 32 hex digits"))?;
        if confirm {
            self.driver.confirm(mesh, &id, now, rng)?;
        } else {
            self.driver.decline(mesh, &id, now, rng)?;
        }
        Ok(json!({"ok": true}))
    }

    fn inventory(&self) -> Value {
        let Some(therapist) = self.driver.therapist() else {
            return json!({"therapist": null});
        };
        let state = therapist.state();
        let slots: Vec<Value> = state
            .slots
            .iter()
            .map(|(slot, status)| {
                let mut v = json!({
                    "id": slot.id, "start": format_time(slot.start_ms), "start_ms": slot.start_ms,
                    "duration_min": slot.duration_min, "kind": kind_name(slot.kind),
                });
                match status {
                    SlotStatus::Free => v["state"] = json!("free"),
                    SlotStatus::Held {
                        request_id,
                        until_ms,
                        ..
                    } => {
                        v["state"] = json!("held");
                        v["request_id"] = json!(hex::encode(request_id));
                        v["until_ms"] = json!(until_ms);
                    }
                    SlotStatus::Booked { request_id } => {
                        v["state"] = json!("booked");
                        v["request_id"] = json!(hex::encode(request_id));
                    }
                }
                v
            })
            .collect();
        json!({"therapist": {
            "address": hex::encode(therapist.address().as_bytes()),
            "sequence": state.sequence,
            "slots": slots,
        }})
    }

    fn search_json(&self) -> Value {
        match (self.driver.patient(), &self.search) {
            (Some(patient), Some(search)) => json!({
                "query_id": hex::encode(patient.query_id()),
                "state": patient_state(patient.state()),
                "collect_until_ms": search.collect_until_ms,
                "candidates": patient.candidates().iter().map(candidate_json).collect::<Vec<_>>(),
            }),
            _ => Value::Null,
        }
    }

    /// `fapp_results`: the search, the inventory and the event log after
    /// row `after`.
    pub fn results(&self, store: &Store, after: Option<u64>) -> Result<Value> {
        let events: Vec<Value> = store
            .fapp_events(after, MAX_EVENTS_ANSWER)?
            .into_iter()
            .map(|(seq, bytes)| {
                let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                v["seq"] = json!(seq);
                v
            })
            .collect();
        let mut answer = self.inventory();
        answer["ok"] = json!(true);
        answer["search"] = self.search_json();
        answer["events"] = json!(events);
        Ok(answer)
    }

    /// FAPP's part of `status`.
    pub fn status(&self) -> Value {
        let (free, held, booked, sequence) = match self.driver.therapist() {
            Some(t) => {
                let state = t.state();
                let count =
                    |f: fn(&SlotStatus) -> bool| state.slots.iter().filter(|(_, s)| f(s)).count();
                (
                    count(|s| matches!(s, SlotStatus::Free)),
                    count(|s| matches!(s, SlotStatus::Held { .. })),
                    count(|s| matches!(s, SlotStatus::Booked { .. })),
                    Some(state.sequence),
                )
            }
            None => (0, 0, 0, None),
        };
        json!({
            "therapist": self.driver.therapist().is_some(),
            "sequence": sequence,
            "slots": {"free": free, "held": held, "booked": booked},
            "cached_announces": self.driver.relay().cache().len(),
            "search": self.driver.patient().map(|p| patient_state(p.state())),
            "refused": self.refused,
        })
    }
}
