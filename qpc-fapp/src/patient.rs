//! The patient engine (`spec/20-fapp.md` §10): one search request, from
//! query to at most one confirmed booking.
//!
//! ```text
//!  Collecting ──deadline──▶ Reserving(best) ──confirmed──▶ Booked ──cancel──▶ Cancelled
//!                              │    ▲
//!        declined / expired /  │    │ next-ranked candidate
//!        result timeout        └────┘        (none left: Exhausted)
//! ```
//!
//! Only one reservation is outstanding at a time. A reservation given up
//! on (its result did not come in time) is cancelled, and if its
//! confirmation still arrives later, it is cancelled again, so the request
//! keeps at most one booking.

use std::collections::HashMap;

use qpc_crypto::identity::{Address, PublicIdentity};
use qpc_crypto::xwing::XWingSecretKey;
use rand_core::CryptoRng;

use crate::error::{Error, Result};
use crate::message::{FappMessage, FappType};
use crate::model::Slot;
use crate::outgoing::{Step, To};
use crate::query::{Filter, QueryId, SlotQuery, SlotResponse, MAX_HOP_LIMIT, MAX_RESULTS};
use crate::replay::BoundedMap;
use crate::sealed::{Notice, RequestId, ReservationRequest, Sealed, Status};

/// Configuration of a [`Patient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientConfig {
    /// How long responses are collected after the query, ms (1 to 600,000).
    pub collect_ms: u64,
    /// Added to an announce's `hold_ms` to wait for a result, ms (at most
    /// 600,000).
    pub result_grace_ms: u64,
    /// Most candidate slots kept, best first (1 to 256).
    pub max_candidates: usize,
    /// Announces valid longer than this from `now` are ignored, ms.
    pub max_announce_lifetime_ms: u64,
    /// The query's hop limit (1 to 8).
    pub hop_limit: u8,
    /// Announces asked for (1 to 8).
    pub max_results: u8,
}

impl Default for PatientConfig {
    fn default() -> Self {
        PatientConfig {
            collect_ms: 10_000,
            result_grace_ms: 30_000,
            max_candidates: 32,
            max_announce_lifetime_ms: 7 * 24 * 3600 * 1000,
            hop_limit: 4,
            max_results: MAX_RESULTS,
        }
    }
}

impl PatientConfig {
    fn validate(&self) -> Result<()> {
        let ok = (1..=600_000).contains(&self.collect_ms)
            && self.result_grace_ms <= 600_000
            && (1..=256).contains(&self.max_candidates)
            && (1..=MAX_HOP_LIMIT).contains(&self.hop_limit)
            && (1..=MAX_RESULTS).contains(&self.max_results);
        ok.then_some(())
            .ok_or(Error::InvalidConfig("patient configuration"))
    }
}

/// A slot a patient may reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The therapist's address.
    pub therapist: Address,
    /// The sequence of the announce that listed the slot.
    pub sequence: u32,
    /// The announce's hold time, ms.
    pub hold_ms: u32,
    /// The slot.
    pub slot: Slot,
}

impl Candidate {
    /// The ranking: earliest start first, then therapist address, then slot
    /// id (a total order, so every implementation ranks alike).
    fn rank(&self) -> (u64, Address, u32) {
        (self.slot.start_ms, self.therapist, self.slot.id)
    }
}

/// What the patient's application learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientEvent {
    /// The driver should fetch this therapist's public identity (mesh
    /// KeyRequest, `spec/10` §6.3) and pass it to [`Patient::learn_identity`].
    IdentityNeeded(Address),
    /// A reservation was sent.
    Reserving(Candidate),
    /// The reservation was confirmed: the request is done.
    Booked(Candidate),
    /// The therapist declined or let the hold expire; trying the next slot.
    Refused(Candidate, Status),
    /// No result in time; the reservation was cancelled, trying the next.
    TimedOut(Candidate),
    /// A candidate was skipped: its therapist's identity is not known.
    Skipped(Candidate),
    /// A confirmation for a reservation given up on arrived and was
    /// cancelled.
    LateConfirmationCancelled(Candidate),
    /// No candidate is left.
    Exhausted,
}

/// Where a patient's request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientState {
    /// Collecting responses until the deadline.
    Collecting,
    /// A reservation is outstanding.
    Reserving,
    /// A slot is booked.
    Booked,
    /// Every candidate failed.
    Exhausted,
    /// The booking was cancelled.
    Cancelled,
}

struct Pending {
    request_id: RequestId,
    reply_address: Address,
    reply_key: XWingSecretKey,
    candidate: Candidate,
}

/// A patient's FAPP engine for one search request.
pub struct Patient {
    config: PatientConfig,
    contact: String,
    state: PatientState,
    query_id: QueryId,
    filter: Filter,
    deadline_ms: u64,
    candidates: Vec<Candidate>,
    sequences: HashMap<Address, u32>,
    identities: HashMap<Address, PublicIdentity>,
    current: Option<Pending>,
    abandoned: BoundedMap<Address, Pending>,
}

impl core::fmt::Debug for Patient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Patient")
            .field("state", &self.state)
            .field("candidates", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut out = [0; N];
    rng.fill_bytes(&mut out);
    out
}

impl Patient {
    /// Starts a search: returns the patient and the query to broadcast.
    pub fn search(
        config: PatientConfig,
        contact: String,
        filter: Filter,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<(Self, Step<PatientEvent>)> {
        config.validate()?;
        let query = SlotQuery {
            query_id: random(rng),
            hop_limit: config.hop_limit,
            filter,
            max_results: config.max_results,
        };
        query.validate()?;
        let contact_len = contact.len();
        if contact_len > crate::sealed::MAX_CONTACT_LEN {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: crate::sealed::MAX_CONTACT_LEN,
            }));
        }
        let patient = Patient {
            config,
            contact,
            state: PatientState::Collecting,
            query_id: query.query_id,
            filter: query.filter.clone(),
            deadline_ms: now.saturating_add(config.collect_ms),
            candidates: Vec::new(),
            sequences: HashMap::new(),
            identities: HashMap::new(),
            current: None,
            abandoned: BoundedMap::new(config.max_candidates),
        };
        let mut step = Step::default();
        step.send(To::Broadcast, FappMessage::Query(query));
        Ok((patient, step))
    }

    /// Where the request stands.
    pub fn state(&self) -> PatientState {
        self.state
    }

    /// The query id (for the driver's reverse-path bookkeeping).
    pub fn query_id(&self) -> &QueryId {
        &self.query_id
    }

    /// The reply address of the outstanding reservation: where its result
    /// will be sent (the driver names it in the routed frame, `spec/20`
    /// §8.1).
    pub fn reply_address(&self) -> Option<Address> {
        self.current.as_ref().map(|p| p.reply_address)
    }

    /// The candidates not tried yet, best first.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Collects the matching slots of a response's announces. Announces
    /// that do not verify, are expired, too long-lived, or superseded by one
    /// already seen are ignored. Only while collecting (`wrong_state`).
    pub fn handle_response(
        &mut self,
        now: u64,
        response: &SlotResponse,
    ) -> Result<Step<PatientEvent>> {
        if self.state != PatientState::Collecting || response.query_id != self.query_id {
            return Err(Error::WrongState("not collecting for this query"));
        }
        let mut step = Step::default();
        let latest = now.saturating_add(self.config.max_announce_lifetime_ms);
        for announce in &response.announces {
            let Ok(therapist) = announce.verify() else {
                continue;
            };
            let fresh = self
                .sequences
                .get(&therapist)
                .is_none_or(|&seen| announce.sequence > seen);
            let live = announce.expires_ms > now && announce.expires_ms <= latest;
            if !(fresh && live && self.filter.matches_practice(announce)) {
                continue;
            }
            if self.sequences.len() == self.config.max_candidates
                && !self.sequences.contains_key(&therapist)
            {
                continue;
            }
            self.sequences.insert(therapist, announce.sequence);
            self.candidates.retain(|c| c.therapist != therapist);
            let slots = announce
                .slots
                .iter()
                .filter(|s| s.start_ms > now && self.filter.matches_slot(s.kind, s.start_ms));
            self.candidates.extend(slots.map(|&slot| Candidate {
                therapist,
                sequence: announce.sequence,
                hold_ms: announce.hold_ms,
                slot,
            }));
            self.candidates.sort_by_key(Candidate::rank);
            self.candidates.truncate(self.config.max_candidates);
            if !self.identities.contains_key(&therapist) {
                step.event(PatientEvent::IdentityNeeded(therapist));
            }
        }
        Ok(step)
    }

    /// Gives the engine a therapist's public identity (kept only if that
    /// therapist is a candidate).
    pub fn learn_identity(&mut self, identity: PublicIdentity) {
        let address = identity.address();
        if self.sequences.contains_key(&address) {
            self.identities.insert(address, identity);
        }
    }

    /// Ends collection at the deadline (reserving the best candidate) and
    /// gives up on a reservation whose result is overdue (cancelling it and
    /// reserving the next).
    pub fn handle_timeout(
        &mut self,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<PatientEvent>> {
        let mut step = Step::default();
        if now < self.deadline_ms {
            return Ok(step);
        }
        match self.state {
            PatientState::Collecting => self.reserve_next(now, rng, &mut step)?,
            PatientState::Reserving => {
                if let Some(pending) = self.current.take() {
                    step.event(PatientEvent::TimedOut(pending.candidate));
                    self.send_cancel(&pending, rng, &mut step)?;
                    self.abandoned.insert(pending.reply_address, pending);
                }
                self.reserve_next(now, rng, &mut step)?;
            }
            _ => {}
        }
        Ok(step)
    }

    /// Reserves the patient's own choice now instead of waiting for the
    /// collection deadline (`spec/20` §10 step 3): the candidate for
    /// `slot_id` of `therapist`. Only while collecting (`wrong_state`);
    /// `wrong_state` too if no such candidate was collected or the
    /// therapist's identity has not been fetched yet. If the result does
    /// not confirm, the engine goes on with the best remaining candidate.
    pub fn reserve(
        &mut self,
        now: u64,
        therapist: &Address,
        slot_id: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<PatientEvent>> {
        if self.state != PatientState::Collecting {
            return Err(Error::WrongState("not collecting: a reservation was made"));
        }
        let index = self
            .candidates
            .iter()
            .position(|c| c.therapist == *therapist && c.slot.id == slot_id)
            .ok_or(Error::WrongState("no such candidate slot"))?;
        if !self.identities.contains_key(therapist) {
            return Err(Error::WrongState(
                "the therapist's identity is not fetched yet",
            ));
        }
        let chosen = self.candidates.remove(index);
        self.candidates.insert(0, chosen);
        let mut step = Step::default();
        self.reserve_next(now, rng, &mut step)?;
        Ok(step)
    }

    /// When [`Patient::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        matches!(
            self.state,
            PatientState::Collecting | PatientState::Reserving
        )
        .then_some(self.deadline_ms)
    }

    fn reserve_next(
        &mut self,
        now: u64,
        rng: &mut impl CryptoRng,
        step: &mut Step<PatientEvent>,
    ) -> Result<()> {
        while !self.candidates.is_empty() {
            let candidate = self.candidates.remove(0);
            let Some(identity) = self.identities.get(&candidate.therapist) else {
                step.event(PatientEvent::Skipped(candidate));
                continue;
            };
            let reply_key = XWingSecretKey::generate(rng);
            let request = ReservationRequest {
                request_id: random(rng),
                slot_id: candidate.slot.id,
                created_ms: now,
                reply_address: Address::from_bytes(random(rng)),
                reply_key: reply_key.public_key().clone(),
                contact: self.contact.clone(),
            };
            let sealed = Sealed::seal(
                FappType::Reservation,
                candidate.therapist,
                identity.kem_key(),
                &request.encode()?,
                rng,
            )?;
            step.send(
                To::Address(candidate.therapist),
                FappMessage::Reservation(sealed),
            );
            step.event(PatientEvent::Reserving(candidate));
            self.current = Some(Pending {
                request_id: request.request_id,
                reply_address: request.reply_address,
                reply_key,
                candidate,
            });
            self.state = PatientState::Reserving;
            self.deadline_ms = now
                .saturating_add(u64::from(candidate.hold_ms))
                .saturating_add(self.config.result_grace_ms);
            return Ok(());
        }
        self.state = PatientState::Exhausted;
        step.event(PatientEvent::Exhausted);
        Ok(())
    }

    fn send_cancel(
        &self,
        pending: &Pending,
        rng: &mut impl CryptoRng,
        step: &mut Step<PatientEvent>,
    ) -> Result<()> {
        let Some(identity) = self.identities.get(&pending.candidate.therapist) else {
            return Ok(());
        };
        let notice = Notice {
            request_id: pending.request_id,
            slot_id: pending.candidate.slot.id,
            status: None,
        };
        let sealed = Sealed::seal(
            FappType::Cancel,
            pending.candidate.therapist,
            identity.kem_key(),
            &notice.encode(),
            rng,
        )?;
        step.send(
            To::Address(pending.candidate.therapist),
            FappMessage::Cancel(sealed),
        );
        Ok(())
    }

    /// Handles a ReservationResult sent to one of this request's reply
    /// addresses (`wrong_recipient` otherwise; then `open_failed`,
    /// `bad_padding`, decoding errors, `malformed` for another request).
    pub fn handle_result(
        &mut self,
        now: u64,
        sealed: &Sealed,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<PatientEvent>> {
        let mut step = Step::default();
        let is_current = self
            .current
            .as_ref()
            .is_some_and(|p| p.reply_address == sealed.recipient);
        let pending = match (is_current, self.abandoned.get(&sealed.recipient)) {
            (true, _) => self.current.as_ref().expect("current"),
            (false, Some(pending)) => pending,
            (false, None) => return Err(Error::WrongRecipient),
        };
        let plaintext = sealed.open(
            FappType::ReservationResult,
            &pending.reply_address,
            &pending.reply_key,
        )?;
        let notice = Notice::decode(FappType::ReservationResult, &plaintext)?;
        if notice.request_id != pending.request_id || notice.slot_id != pending.candidate.slot.id {
            return Err(Error::malformed("result", "for another reservation"));
        }
        let status = notice.status.expect("results carry a status");
        let candidate = pending.candidate;
        match (is_current && self.state == PatientState::Reserving, status) {
            (true, Status::Confirmed) => {
                self.state = PatientState::Booked;
                step.event(PatientEvent::Booked(candidate));
            }
            (true, refused) => {
                self.current = None;
                step.event(PatientEvent::Refused(candidate, refused));
                self.reserve_next(now, rng, &mut step)?;
            }
            (false, Status::Confirmed) if !is_current => {
                self.send_cancel(pending, rng, &mut step)?;
                step.event(PatientEvent::LateConfirmationCancelled(candidate));
            }
            _ => {}
        }
        Ok(step)
    }

    /// Cancels the booking.
    pub fn cancel(&mut self, rng: &mut impl CryptoRng) -> Result<Step<PatientEvent>> {
        if self.state != PatientState::Booked {
            return Err(Error::WrongState("nothing booked"));
        }
        let mut step = Step::default();
        if let Some(pending) = self.current.take() {
            self.send_cancel(&pending, rng, &mut step)?;
        }
        self.state = PatientState::Cancelled;
        Ok(step)
    }
}
