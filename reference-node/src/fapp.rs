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
use qpc_crypto::xwing::XWingPublicKey;
use qpc_fapp::announce::{licence_hash, SlotAnnounce};
use qpc_fapp::mesh::{DriverConfig, FappDriver, FappEvent};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::patient::{Candidate, PatientConfig, PatientEvent, PatientState};
use qpc_fapp::query::Filter;
use qpc_fapp::relay::RelayEvent;
use qpc_fapp::therapist::{SlotStatus, Therapist, TherapistConfig, TherapistEvent, TherapistState};
use qpc_fapp::FappMessage;
use qpc_mesh::node::{Event, MeshNode};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{decode_hex, Config, TherapistProfile};
use crate::error::{Error, Result};
use crate::store::{Step, Store};

/// Most slots one `fapp_announce` adds (the inventory's bound).
pub const MAX_SLOTS_PER_REQUEST: usize = qpc_fapp::announce::MAX_SLOTS;
/// Most event-log rows in one `fapp_results` answer.
pub const MAX_EVENTS_ANSWER: usize = 1_000;
/// The default collection time of `fapp_query`, ms.
pub const DEFAULT_COLLECT_MS: u64 = 10_000;

/// The names of the set members (`spec/30` §16.2).
const METHODS: &[(&str, Methods)] = &[
    ("behavioural", Methods::BEHAVIOURAL),
    ("psychodynamic", Methods::PSYCHODYNAMIC),
    ("analytic", Methods::ANALYTIC),
    ("systemic", Methods::SYSTEMIC),
];
const AGE_GROUPS: &[(&str, AgeGroups)] = &[
    ("adults", AgeGroups::ADULTS),
    ("children", AgeGroups::CHILDREN),
];
const KINDS: &[(&str, Kinds)] = &[
    ("consultation", Kinds::CONSULTATION),
    ("acute", Kinds::ACUTE),
    ("probatory", Kinds::PROBATORY),
    ("therapy", Kinds::THERAPY),
];
const MODALITIES: &[(&str, Modalities)] = &[
    ("in_person", Modalities::IN_PERSON),
    ("video", Modalities::VIDEO),
    ("phone", Modalities::PHONE),
];
const PAYERS: &[(&str, Payers)] = &[
    ("gkv", Payers::GKV),
    ("pkv", Payers::PKV),
    ("beihilfe", Payers::BEIHILFE),
    ("self_pay", Payers::SELF_PAY),
];
const FEATURES: &[(&str, Features)] = &[("wheelchair", Features::WHEELCHAIR)];

fn malformed(what: &'static str, reason: &'static str) -> Error {
    Error::Malformed { what, reason }
}

/// The union of the named members of `table`; `malformed` for an unknown
/// name.
fn set_of<T: Copy>(
    what: &'static str,
    names: &[String],
    table: &[(&str, T)],
    none: T,
    union: fn(T, T) -> T,
) -> Result<T> {
    names.iter().try_fold(none, |set, name| {
        table
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, flag)| union(set, flag))
            .ok_or(malformed(
                what,
                "an unknown name (spec/30 §16.2 lists them)",
            ))
    })
}

fn kind_name(kind: Kinds) -> &'static str {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("", |(n, _)| n)
}

/// Parses an RFC 3339 time into Unix ms; `malformed` otherwise.
pub fn parse_time(what: &'static str, text: &str) -> Result<u64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| malformed(what, "not an RFC 3339 time (e.g. 2026-12-03T09:00:00Z)"))?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| malformed(what, "before 1970"))
}

/// Unix ms as RFC 3339 (UTC).
pub fn format_time(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn languages(names: &[String]) -> Result<Languages> {
    let mut codes = Vec::with_capacity(names.len());
    for name in names {
        let code: [u8; 2] = name
            .as_bytes()
            .try_into()
            .map_err(|_| malformed("languages", "a code is not two letters"))?;
        codes.push(code);
    }
    Ok(Languages::new(&codes)?)
}

/// The practice a profile describes; `malformed` (or the FAPP model's
/// error) for a bad field.
pub fn practice(profile: &TherapistProfile) -> Result<Practice> {
    let plz: [u8; 5] = profile
        .plz
        .as_bytes()
        .try_into()
        .map_err(|_| malformed("plz", "not five digits"))?;
    let practice = Practice {
        plz: Plz::new(plz)?,
        methods: set_of(
            "methods",
            &profile.methods,
            METHODS,
            Methods::NONE,
            Methods::union,
        )?,
        age_groups: set_of(
            "age_groups",
            &profile.age_groups,
            AGE_GROUPS,
            AgeGroups::NONE,
            AgeGroups::union,
        )?,
        modalities: set_of(
            "modalities",
            &profile.modalities,
            MODALITIES,
            Modalities::NONE,
            Modalities::union,
        )?,
        payers: set_of(
            "payers",
            &profile.payers,
            PAYERS,
            Payers::NONE,
            Payers::union,
        )?,
        features: set_of(
            "features",
            &profile.features,
            FEATURES,
            Features::NONE,
            Features::union,
        )?,
        languages: languages(&profile.languages)?,
    };
    practice.validate()?;
    if profile.licence.is_empty() || profile.licence.len() > 64 {
        return Err(malformed("licence", "empty or longer than 64 bytes"));
    }
    Ok(practice)
}

/// One slot of a `fapp_announce` request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    /// The therapist's slot id.
    pub id: u32,
    /// The start, RFC 3339.
    pub start: String,
    /// Minutes, 1 to 480.
    pub duration_min: u16,
    /// One kind name.
    pub kind: String,
}

impl SlotSpec {
    fn slot(&self, now: u64) -> Result<Slot> {
        let start_ms = parse_time("slot start", &self.start)?;
        if start_ms <= now {
            return Err(malformed("slot start", "not in the future"));
        }
        let kind = KINDS
            .iter()
            .find(|(n, _)| *n == self.kind)
            .map(|&(_, k)| k)
            .ok_or(malformed(
                "slot kind",
                "an unknown name (spec/30 §16.2 lists them)",
            ))?;
        let slot = Slot {
            id: self.id,
            start_ms,
            duration_min: self.duration_min,
            kind,
        };
        slot.validate()?;
        Ok(slot)
    }
}

/// The `fapp_announce` request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceSpec {
    /// Makes the node a therapist with this profile (or changes it).
    #[serde(default)]
    pub profile: Option<TherapistProfile>,
    /// Free slots to add.
    #[serde(default)]
    pub slots: Vec<SlotSpec>,
}

/// The `fapp_query` request: the filter (absent sets mean "any").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// PLZ prefix, 0 to 5 digits.
    #[serde(default)]
    pub plz_prefix: String,
    /// Methods, any of.
    pub methods: Option<Vec<String>>,
    /// Age groups, any of.
    pub age_groups: Option<Vec<String>>,
    /// Slot kinds, any of.
    pub kinds: Option<Vec<String>>,
    /// Modalities, any of.
    pub modalities: Option<Vec<String>>,
    /// Payers, any of.
    pub payers: Option<Vec<String>>,
    /// Features, all of.
    #[serde(default)]
    pub features: Vec<String>,
    /// Languages, any of (none: any).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Earliest start, RFC 3339 (default: now).
    pub earliest: Option<String>,
    /// Latest start, RFC 3339 (default: no bound).
    pub latest: Option<String>,
    /// How long responses are collected before the best slot is reserved,
    /// ms (1 to 600,000).
    pub collect_ms: Option<u64>,
    /// The pseudonymous contact the therapist gets with a reservation.
    #[serde(default)]
    pub contact: String,
}

fn any_of<T: Copy>(
    what: &'static str,
    names: &Option<Vec<String>>,
    table: &[(&str, T)],
    none: T,
    union: fn(T, T) -> T,
) -> Result<T> {
    match names {
        Some(names) => set_of(what, names, table, none, union),
        None => Ok(table.iter().fold(none, |s, &(_, f)| union(s, f))),
    }
}

impl QuerySpec {
    fn filter(&self, now: u64) -> Result<Filter> {
        Ok(Filter {
            plz_prefix: PlzPrefix::new(self.plz_prefix.as_bytes())?,
            methods: any_of(
                "methods",
                &self.methods,
                METHODS,
                Methods::NONE,
                Methods::union,
            )?,
            age_groups: any_of(
                "age_groups",
                &self.age_groups,
                AGE_GROUPS,
                AgeGroups::NONE,
                AgeGroups::union,
            )?,
            kinds: any_of("kinds", &self.kinds, KINDS, Kinds::NONE, Kinds::union)?,
            modalities: any_of(
                "modalities",
                &self.modalities,
                MODALITIES,
                Modalities::NONE,
                Modalities::union,
            )?,
            payers: any_of("payers", &self.payers, PAYERS, Payers::NONE, Payers::union)?,
            required_features: set_of(
                "features",
                &self.features,
                FEATURES,
                Features::NONE,
                Features::union,
            )?,
            languages: languages(&self.languages)?,
            earliest_ms: match &self.earliest {
                Some(t) => parse_time("earliest", t)?,
                None => now,
            },
            latest_ms: match &self.latest {
                Some(t) => parse_time("latest", t)?,
                None => u64::MAX,
            },
        })
    }
}

/// The stored form of a slot's state (the `fapp_therapist` row, §16.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum StoredStatus {
    Free,
    Held {
        request_id: String,
        until_ms: u64,
        reply_address: String,
        reply_key: String,
    },
    Booked {
        request_id: String,
    },
}

/// A slot of the `fapp_therapist` row (no `deny_unknown_fields`: serde
/// does not support it with `flatten`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSlot {
    id: u32,
    start_ms: u64,
    duration_min: u16,
    kind: u8,
    #[serde(flatten)]
    status: StoredStatus,
}

/// The `fapp_therapist` row: the engine's durable state and the profile
/// the node was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredTherapist {
    profile: TherapistProfile,
    sequence: u32,
    refresh_at_ms: u64,
    slots: Vec<StoredSlot>,
}

fn stored_slot(slot: &Slot, status: &SlotStatus) -> StoredSlot {
    let status = match status {
        SlotStatus::Free => StoredStatus::Free,
        SlotStatus::Held {
            request_id,
            until_ms,
            reply_address,
            reply_key,
        } => StoredStatus::Held {
            request_id: hex::encode(request_id),
            until_ms: *until_ms,
            reply_address: hex::encode(reply_address.as_bytes()),
            reply_key: hex::encode(reply_key.to_bytes()),
        },
        SlotStatus::Booked { request_id } => StoredStatus::Booked {
            request_id: hex::encode(request_id),
        },
    };
    StoredSlot {
        id: slot.id,
        start_ms: slot.start_ms,
        duration_min: slot.duration_min,
        kind: slot.kind.bits(),
        status,
    }
}

fn store_error(reason: &'static str) -> Error {
    Error::Store(format!(
        "the stored FAPP therapist does not decode: {reason}"
    ))
}

impl StoredTherapist {
    fn of(profile: &TherapistProfile, state: &TherapistState) -> Self {
        StoredTherapist {
            profile: profile.clone(),
            sequence: state.sequence,
            refresh_at_ms: state.refresh_at_ms,
            slots: state
                .slots
                .iter()
                .map(|(s, st)| stored_slot(s, st))
                .collect(),
        }
    }

    /// The engine state; the practice comes from `profile` (the
    /// configuration's, if it has one, else the stored one).
    fn state(&self, profile: &TherapistProfile) -> Result<TherapistState> {
        let hex16 = |h: &str| decode_hex::<16>(h, "id").map_err(|_| store_error("an id"));
        let mut slots = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            let slot = Slot {
                id: s.id,
                start_ms: s.start_ms,
                duration_min: s.duration_min,
                kind: Kinds::from_bits(s.kind)?,
            };
            let status = match &s.status {
                StoredStatus::Free => SlotStatus::Free,
                StoredStatus::Held {
                    request_id,
                    until_ms,
                    reply_address,
                    reply_key,
                } => SlotStatus::Held {
                    request_id: hex16(request_id)?,
                    until_ms: *until_ms,
                    reply_address: Address::from_bytes(hex16(reply_address)?),
                    reply_key: Box::new(XWingPublicKey::from_bytes(
                        &hex::decode(reply_key).map_err(|_| store_error("a reply key"))?,
                    )?),
                },
                StoredStatus::Booked { request_id } => SlotStatus::Booked {
                    request_id: hex16(request_id)?,
                },
            };
            slots.push((slot, status));
        }
        Ok(TherapistState {
            licence_hash: licence_hash(&profile.licence),
            practice: practice(profile)?,
            sequence: self.sequence,
            refresh_at_ms: self.refresh_at_ms,
            slots,
        })
    }
}

/// Encodes the `fapp_therapist` row of §16.4.
pub fn encode_therapist_row(profile: &TherapistProfile, state: &TherapistState) -> Result<Vec<u8>> {
    serde_json::to_vec(&StoredTherapist::of(profile, state))
        .map_err(|e| Error::Store(e.to_string()))
}

/// Decodes a `fapp_therapist` row (§16.4): its profile and the engine
/// state, the practice taken from `profile` if given (else the stored
/// profile's); `store` or the FAPP model's class for anything else.
pub fn decode_therapist_row(
    bytes: &[u8],
    profile: Option<&TherapistProfile>,
) -> Result<(TherapistProfile, TherapistState)> {
    let stored: StoredTherapist =
        serde_json::from_slice(bytes).map_err(|_| store_error("not the documented JSON"))?;
    let profile = profile.unwrap_or(&stored.profile).clone();
    let state = stored.state(&profile)?;
    Ok((profile, state))
}

/// Decodes a `fapp_cache` row (§4): sequence, expiry and announce (`None`
/// for a withdrawal).
pub fn decode_cache_row(bytes: &[u8]) -> Result<(u32, u64, Option<SlotAnnounce>)> {
    let row: CacheRow = serde_json::from_slice(bytes).map_err(|_| store_error("a cache row"))?;
    let announce = row.announce.as_deref().map(decode_announce).transpose()?;
    Ok((row.sequence, row.expires_ms, announce))
}

/// Encodes a `fapp_cache` row.
pub fn encode_cache_row(
    sequence: u32,
    expires_ms: u64,
    announce: Option<&SlotAnnounce>,
) -> Result<Vec<u8>> {
    let announce = announce
        .map(|a| FappMessage::Announce(a.clone()).encode().map(hex::encode))
        .transpose()?;
    let row = CacheRow {
        sequence,
        expires_ms,
        announce,
    };
    serde_json::to_vec(&row).map_err(|e| Error::Store(e.to_string()))
}

/// A `fapp_cache` row: one therapist's cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheRow {
    sequence: u32,
    expires_ms: u64,
    /// The SlotAnnounce message as heard (spec/20 §3, §5), hex; `None` for
    /// a withdrawal.
    announce: Option<String>,
}

fn decode_announce(hex_message: &str) -> Result<SlotAnnounce> {
    let message = hex::decode(hex_message).map_err(|_| store_error("an announce"))?;
    match FappMessage::decode(bytes::Bytes::from(message))? {
        FappMessage::Announce(a) => Ok(a),
        _ => Err(store_error("an announce")),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use qpc_crypto::xwing::XWingSecretKey;
    use rand::SeedableRng;

    fn profile() -> TherapistProfile {
        TherapistProfile {
            licence: "LANR-1".into(),
            plz: "10115".into(),
            methods: vec!["behavioural".into(), "systemic".into()],
            age_groups: vec!["adults".into()],
            modalities: vec!["video".into()],
            payers: vec!["gkv".into()],
            features: vec![],
            languages: vec!["de".into()],
            hold_ms: 60_000,
            auto_confirm: false,
        }
    }

    #[test]
    fn the_therapist_row_round_trips_every_slot_state() {
        let mut rng = StdRng::seed_from_u64(7);
        let key = XWingSecretKey::generate(&mut rng).public_key().clone();
        let slot = |id| Slot {
            id,
            start_ms: 1_900_000_000_000 + u64::from(id),
            duration_min: 50,
            kind: Kinds::ACUTE,
        };
        let state = TherapistState {
            licence_hash: licence_hash("LANR-1"),
            practice: practice(&profile()).unwrap(),
            sequence: 41,
            refresh_at_ms: 5,
            slots: vec![
                (slot(1), SlotStatus::Free),
                (
                    slot(2),
                    SlotStatus::Held {
                        request_id: [2; 16],
                        until_ms: 9,
                        reply_address: Address::from_bytes([3; 16]),
                        reply_key: Box::new(key),
                    },
                ),
                (
                    slot(3),
                    SlotStatus::Booked {
                        request_id: [4; 16],
                    },
                ),
            ],
        };
        let row = encode_therapist_row(&profile(), &state).unwrap();
        assert_eq!(
            decode_therapist_row(&row, None).unwrap(),
            (profile(), state)
        );
        for bad in [&b"{}"[..], b"[]", br#"{"profile":1}"#, b"\xff"] {
            assert_eq!(
                decode_therapist_row(bad, None).unwrap_err().class(),
                "store"
            );
        }
    }

    #[test]
    fn bad_profiles_slots_and_times_are_malformed() {
        let mut p = profile();
        p.methods = vec!["hypnosis".into()];
        assert_eq!(practice(&p).unwrap_err().class(), "malformed");
        let mut p = profile();
        p.plz = "1011".into();
        assert_eq!(practice(&p).unwrap_err().class(), "malformed");
        let mut p = profile();
        p.payers = vec![];
        assert!(practice(&p).is_err());
        assert_eq!(
            parse_time("t", "tomorrow").unwrap_err().class(),
            "malformed"
        );
        let ms = parse_time("t", "2026-12-03T09:00:00Z").unwrap();
        assert_eq!(format_time(ms), "2026-12-03T09:00:00Z");
        let slot = |start: &str, kind: &str| SlotSpec {
            id: 1,
            start: start.into(),
            duration_min: 50,
            kind: kind.into(),
        };
        assert!(slot("2026-12-03T09:00:00Z", "acute").slot(ms - 1).is_ok());
        assert!(slot("2026-12-03T09:00:00Z", "acute").slot(ms).is_err());
        assert!(slot("2026-12-03T09:00:00Z", "massage").slot(0).is_err());
    }
}
