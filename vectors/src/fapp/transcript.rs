//! Transcripts of the FAPP engines: the steps, how to run them, and the
//! JSON form of their outputs and events. The generator runs an engine to
//! record the expected results; `check` runs it again and compares.

use qpc_fapp::patient::{Candidate, Patient, PatientConfig, PatientEvent};
use qpc_fapp::relay::{Relay, RelayConfig, RelayEvent};
use qpc_fapp::sealed::ReservationRequest;
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_fapp::{FappMessage, NeighbourId, Step, To};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use super::{address16, decode, encoded, kem_key, licence_hash, FappCase, SlotJson};
use crate::{expect_eq, HexBytes};

/// One outgoing message: `to` is `broadcast`, `except:<n>`,
/// `neighbour:<n>` or `address:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutJson {
    /// The destination.
    pub to: String,
    /// The message.
    pub message: HexBytes,
}

fn destination(to: &To) -> String {
    match to {
        To::Broadcast => "broadcast".into(),
        To::NeighboursExcept(n) => format!("except:{}", n.0),
        To::Neighbour(n) => format!("neighbour:{}", n.0),
        To::Address(a) => format!("address:{}", hex::encode(a.as_bytes())),
    }
}

/// What one step produced: outputs and events, or an error class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub(super) outputs: Vec<OutJson>,
    pub(super) events: Vec<String>,
    pub(super) error: Option<String>,
}

fn outcome<E>(result: qpc_fapp::Result<Step<E>>, event: impl Fn(&E) -> String) -> Outcome {
    match result {
        Ok(step) => Outcome {
            outputs: step
                .outgoing
                .iter()
                .map(|o| OutJson {
                    to: destination(&o.to),
                    message: HexBytes(o.message.encode().expect("engine output encodes")),
                })
                .collect(),
            events: step.events.iter().map(event).collect(),
            error: None,
        },
        Err(e) => Outcome {
            outputs: vec![],
            events: vec![],
            error: Some(e.class().into()),
        },
    }
}

fn check_outcomes(got: Vec<Outcome>, want: Vec<Outcome>) -> Result<(), String> {
    expect_eq("steps", got.len(), want.len())?;
    for (i, (g, w)) in got.into_iter().zip(want).enumerate() {
        expect_eq(&format!("step {i}"), g, w)?;
    }
    Ok(())
}

/// The reservation plaintext of a [`super::RequestJson`].
pub fn request_plaintext(r: &super::RequestJson) -> Result<Vec<u8>, String> {
    ReservationRequest {
        request_id: r.request_id.0[..].try_into().map_err(|_| "16-byte id")?,
        slot_id: r.slot_id,
        created_ms: r.created_ms,
        reply_address: address16(&r.reply_address)?,
        reply_key: kem_key(&r.reply_kem_seed)?.public_key().clone(),
        contact: r.contact.clone(),
    }
    .encode()
    .map_err(|e| e.to_string())
}

/// An input of a therapist transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum TherapistInput {
    /// `add_slot`.
    AddSlot {
        /// The slot.
        slot: SlotJson,
    },
    /// `announce`.
    Announce,
    /// `handle_reservation`.
    Reservation {
        /// The Reservation message.
        message: HexBytes,
    },
    /// `confirm`.
    Confirm {
        /// The request.
        request_id: HexBytes,
    },
    /// `decline`.
    Decline {
        /// The request.
        request_id: HexBytes,
    },
    /// `handle_timeout`.
    Timeout,
    /// `handle_cancel`.
    Cancel {
        /// The Cancel message.
        message: HexBytes,
    },
}

/// One step of a transcript: the clock, the input, and what it must
/// produce (outputs and events, or an error class). Therapist events are
/// `held <request> <slot> <until>`, `confirmed|declined|expired|cancelled|replayed
/// <request>`; relay events `cached <address> <sequence>`, `evicted
/// <address>`; patient events `identity_needed <address>`, `reserving|booked|
/// timed_out|skipped|late_confirmation_cancelled <address> <slot>`, `refused
/// <address> <slot> <status>`, `exhausted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptStep<I> {
    /// The clock.
    pub now: u64,
    /// The input.
    pub input: I,
    /// Messages sent.
    pub outputs: Vec<OutJson>,
    /// Events.
    pub events: Vec<String>,
    /// The error class, if the step is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_error: Option<String>,
}

/// A step of a therapist transcript.
pub type TherapistStep = TranscriptStep<TherapistInput>;
/// A step of a relay transcript.
pub type RelayStep = TranscriptStep<RelayInput>;
/// A step of a patient transcript.
pub type PatientStep = TranscriptStep<PatientInput>;

/// Pairs inputs with the outcomes a run gave them.
fn record<I>(inputs: Vec<(u64, I)>, outcomes: Vec<Outcome>) -> Vec<TranscriptStep<I>> {
    inputs
        .into_iter()
        .zip(outcomes)
        .map(|((now, input), o)| TranscriptStep {
            now,
            input,
            outputs: o.outputs,
            events: o.events,
            expected_error: o.error,
        })
        .collect()
}

/// The inputs of recorded steps.
fn inputs<I: Clone>(steps: &[TranscriptStep<I>]) -> Vec<(u64, I)> {
    steps.iter().map(|s| (s.now, s.input.clone())).collect()
}

/// The outcomes recorded steps expect.
fn expected<I>(steps: &[TranscriptStep<I>]) -> Vec<Outcome> {
    steps
        .iter()
        .map(|s| Outcome {
            outputs: s.outputs.clone(),
            events: s.events.clone(),
            error: s.expected_error.clone(),
        })
        .collect()
}

fn therapist_event(e: &TherapistEvent) -> String {
    match e {
        TherapistEvent::Held {
            request_id,
            slot_id,
            until_ms,
            ..
        } => format!("held {} {slot_id} {until_ms}", hex::encode(request_id)),
        TherapistEvent::Confirmed(r) => format!("confirmed {}", hex::encode(r)),
        TherapistEvent::Declined(r) => format!("declined {}", hex::encode(r)),
        TherapistEvent::Expired(r) => format!("expired {}", hex::encode(r)),
        TherapistEvent::Cancelled(r) => format!("cancelled {}", hex::encode(r)),
        TherapistEvent::Replayed(r) => format!("replayed {}", hex::encode(r)),
    }
}

fn id16(bytes: &HexBytes) -> Result<[u8; 16], String> {
    bytes.0[..]
        .try_into()
        .map_err(|_| "a 16-byte id".to_owned())
}

fn sealed(message: &HexBytes) -> Result<qpc_fapp::sealed::Sealed, String> {
    match decode(message).map_err(|e| e.to_string())? {
        FappMessage::Reservation(s) | FappMessage::Result(s) | FappMessage::Cancel(s) => Ok(s),
        other => Err(format!("not sealed: {other:?}")),
    }
}

/// Runs a therapist transcript's inputs.
pub fn run_therapist(
    case: &FappCase,
    inputs: &[(u64, TherapistInput)],
) -> Result<Vec<Outcome>, String> {
    let FappCase::TherapistTranscript {
        therapist,
        licence,
        practice,
        hold_ms,
        announce_lifetime_ms,
        replay_window_ms,
        replay_capacity,
        rng_seed,
        ..
    } = case
    else {
        return Err("not a therapist transcript".into());
    };
    let config = TherapistConfig {
        hold_ms: *hold_ms,
        announce_lifetime_ms: *announce_lifetime_ms,
        replay_window_ms: *replay_window_ms,
        replay_capacity: *replay_capacity,
    };
    let mut t = Therapist::new(
        therapist.identity()?,
        licence_hash(licence),
        practice.practice()?,
        config,
        0,
    )
    .map_err(|e| e.to_string())?;
    let mut rng = ChaCha20Rng::from_seed([*rng_seed; 32]);
    let mut outcomes = Vec::new();
    for (now, input) in inputs {
        let now = *now;
        let result = match input {
            TherapistInput::AddSlot { slot } => t.add_slot(now, slot.slot()?),
            TherapistInput::Announce => t.announce(now),
            TherapistInput::Reservation { message } => {
                t.handle_reservation(now, &sealed(message)?, &mut rng)
            }
            TherapistInput::Confirm { request_id } => t.confirm(now, &id16(request_id)?, &mut rng),
            TherapistInput::Decline { request_id } => t.decline(now, &id16(request_id)?, &mut rng),
            TherapistInput::Timeout => t.handle_timeout(now, &mut rng),
            TherapistInput::Cancel { message } => t.handle_cancel(now, &sealed(message)?),
        };
        outcomes.push(outcome(result, therapist_event));
    }
    Ok(outcomes)
}

/// Records a therapist transcript's expected results.
pub fn therapist_steps(case: &FappCase, inputs: Vec<(u64, TherapistInput)>) -> Vec<TherapistStep> {
    let outcomes = run_therapist(case, &inputs).expect("transcript runs");
    record(inputs, outcomes)
}

pub(super) fn check_therapist(case: &FappCase) -> Result<(), String> {
    let FappCase::TherapistTranscript { steps, .. } = case else {
        return Err("not a therapist transcript".into());
    };
    check_outcomes(run_therapist(case, &inputs(steps))?, expected(steps))
}

/// A relay configuration (`spec/20` §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayConfigJson {
    /// Cache capacity.
    pub cache_capacity: usize,
    /// Maximum announce lifetime, ms.
    pub max_announce_lifetime_ms: u64,
    /// Query table capacity.
    pub query_capacity: usize,
    /// Reverse path lifetime, ms.
    pub query_ttl_ms: u64,
    /// Responses routed back per query.
    pub max_responses_per_query: u8,
    /// Index entries visited per query.
    pub max_scan: usize,
    /// Token bucket size.
    pub burst: u32,
    /// Tokens per second.
    pub per_second: u32,
    /// Buckets kept.
    pub max_neighbours: usize,
}

impl RelayConfigJson {
    /// The configuration.
    pub fn config(&self) -> RelayConfig {
        RelayConfig {
            cache_capacity: self.cache_capacity,
            max_announce_lifetime_ms: self.max_announce_lifetime_ms,
            query_capacity: self.query_capacity,
            query_ttl_ms: self.query_ttl_ms,
            max_responses_per_query: self.max_responses_per_query,
            max_scan: self.max_scan,
            burst: self.burst,
            per_second: self.per_second,
            max_neighbours: self.max_neighbours,
        }
    }
}

/// The input of a relay transcript step: a message from a neighbour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayInput {
    /// The neighbour handle.
    pub from: u32,
    /// The message.
    pub message: HexBytes,
}

fn relay_event(e: &RelayEvent) -> String {
    match e {
        RelayEvent::Cached(a, s) => format!("cached {} {s}", hex::encode(a.as_bytes())),
        RelayEvent::Evicted(a) => format!("evicted {}", hex::encode(a.as_bytes())),
    }
}

fn run_relay(
    config: &RelayConfigJson,
    inputs: &[(u64, RelayInput)],
) -> Result<Vec<Outcome>, String> {
    let mut relay = Relay::new(config.config()).map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for (now, input) in inputs {
        let from = NeighbourId(input.from);
        let result = decode(&input.message).and_then(|m| relay.handle(*now, from, &m));
        outcomes.push(outcome(result, relay_event));
    }
    Ok(outcomes)
}

/// Records a relay transcript's expected results.
pub fn relay_steps(config: &RelayConfigJson, inputs: Vec<(u64, RelayInput)>) -> Vec<RelayStep> {
    let outcomes = run_relay(config, &inputs).expect("transcript runs");
    record(inputs, outcomes)
}

pub(super) fn check_relay(config: &RelayConfigJson, steps: &[RelayStep]) -> Result<(), String> {
    check_outcomes(run_relay(config, &inputs(steps))?, expected(steps))
}

/// An input of a patient transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum PatientInput {
    /// `handle_response`.
    Response {
        /// The SlotResponse message.
        message: HexBytes,
    },
    /// `learn_identity` of the transcript's therapist `index`.
    Identity {
        /// Index into `therapists`.
        index: usize,
    },
    /// `handle_timeout`.
    Timeout,
    /// `handle_result`.
    Result {
        /// The ReservationResult message.
        message: HexBytes,
    },
}

fn candidate(c: &Candidate) -> String {
    format!("{} {}", hex::encode(c.therapist.as_bytes()), c.slot.id)
}

fn patient_event(e: &PatientEvent) -> String {
    match e {
        PatientEvent::IdentityNeeded(a) => format!("identity_needed {}", hex::encode(a.as_bytes())),
        PatientEvent::Reserving(c) => format!("reserving {}", candidate(c)),
        PatientEvent::Booked(c) => format!("booked {}", candidate(c)),
        PatientEvent::Refused(c, s) => format!("refused {} {}", candidate(c), s.name()),
        PatientEvent::TimedOut(c) => format!("timed_out {}", candidate(c)),
        PatientEvent::Skipped(c) => format!("skipped {}", candidate(c)),
        PatientEvent::LateConfirmationCancelled(c) => {
            format!("late_confirmation_cancelled {}", candidate(c))
        }
        PatientEvent::Exhausted => "exhausted".into(),
    }
}

/// Runs a patient transcript: the query broadcast, then each step.
pub fn run_patient(
    case: &FappCase,
    inputs: &[(u64, PatientInput)],
) -> Result<(HexBytes, Vec<Outcome>), String> {
    let FappCase::PatientTranscript {
        collect_ms,
        result_grace_ms,
        max_candidates,
        contact,
        filter,
        therapists,
        rng_seed,
        now,
        ..
    } = case
    else {
        return Err("not a patient transcript".into());
    };
    let config = PatientConfig {
        collect_ms: *collect_ms,
        result_grace_ms: *result_grace_ms,
        max_candidates: *max_candidates,
        hop_limit: filter.hop_limit,
        max_results: filter.max_results,
        ..PatientConfig::default()
    };
    let mut rng = ChaCha20Rng::from_seed([*rng_seed; 32]);
    let query = filter.query()?;
    let (mut patient, step) =
        Patient::search(config, contact.clone(), query.filter, *now, &mut rng)
            .map_err(|e| e.to_string())?;
    let broadcast = HexBytes(encoded(&step.outgoing[0].message)?);
    let mut outcomes = Vec::new();
    for (now, input) in inputs {
        let result = match input {
            PatientInput::Response { message } => {
                match decode(message).map_err(|e| e.to_string())? {
                    FappMessage::Response(r) => patient.handle_response(*now, &r),
                    other => return Err(format!("not a response: {other:?}")),
                }
            }
            PatientInput::Identity { index } => {
                let id = therapists
                    .get(*index)
                    .ok_or("no such therapist")?
                    .identity()?;
                patient.learn_identity(id.public().clone());
                Ok(Step::default())
            }
            PatientInput::Timeout => patient.handle_timeout(*now, &mut rng),
            PatientInput::Result { message } => {
                patient.handle_result(*now, &sealed(message)?, &mut rng)
            }
        };
        outcomes.push(outcome(result, patient_event));
    }
    Ok((broadcast, outcomes))
}

pub(super) fn check_patient(case: &FappCase) -> Result<(), String> {
    let FappCase::PatientTranscript { steps, query, .. } = case else {
        return Err("not a patient transcript".into());
    };
    let (broadcast, got) = run_patient(case, &inputs(steps))?;
    expect_eq("query", &broadcast, query)?;
    check_outcomes(got, expected(steps))
}

/// Records a patient transcript's expected results.
pub fn patient_steps(inputs: Vec<(u64, PatientInput)>, outcomes: Vec<Outcome>) -> Vec<PatientStep> {
    record(inputs, outcomes)
}
