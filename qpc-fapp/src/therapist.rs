//! The therapist engine (`spec/20-fapp.md` §9): a slot inventory where a
//! slot has exactly one state, so a double booking cannot be represented.
//!
//! ```text
//!            reservation              confirm
//!   Free ─────────────────▶ Held ─────────────────▶ Booked
//!    ▲                       │  decline / hold timeout │
//!    └───────────────────────┴─────────────────────────┘ cancel
//! ```
//!
//! A reservation for a slot that is not `Free` is declined at once. Every
//! change of the free set is re-announced with the next sequence number.
//! A replayed reservation (the same sealed bytes, or the same request id
//! sealed again) gets the same answer and never a second hold.
//!
//! [`Therapist::state`] and [`Therapist::restore`] carry the durable part
//! of the engine (profile, last sequence, inventory) across a restart
//! (`spec/20` §9.1); a driver stores the state before it sends what the
//! step produced, so a sequence number is never announced twice.

use std::collections::BTreeMap;

use qpc_crypto::identity::{Address, Identity};
use qpc_crypto::xwing::XWingPublicKey;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::announce::{SlotAnnounce, SlotWithdraw, MAX_SLOTS};
use crate::error::{Error, Result};
use crate::message::{FappMessage, FappType};
use crate::model::{Practice, Slot};
use crate::outgoing::{Step, To};
use crate::replay::BoundedMap;
use crate::sealed::{Notice, RequestId, ReservationRequest, Sealed, Status};

/// Configuration of a [`Therapist`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TherapistConfig {
    /// How long a reservation holds a slot before it expires, ms (1 s to 24 h).
    pub hold_ms: u32,
    /// Lifetime of each announce, ms (1 min to 7 days); re-announced when
    /// a quarter of it is left.
    pub announce_lifetime_ms: u64,
    /// Reservations made further than this from `now` are `stale`, ms.
    pub replay_window_ms: u64,
    /// How many reservation digests and answers are remembered (1 to 65536).
    pub replay_capacity: usize,
}

impl Default for TherapistConfig {
    fn default() -> Self {
        TherapistConfig {
            hold_ms: 15 * 60 * 1000,
            announce_lifetime_ms: 24 * 3600 * 1000,
            replay_window_ms: 10 * 60 * 1000,
            replay_capacity: 1024,
        }
    }
}

impl TherapistConfig {
    fn validate(&self) -> Result<()> {
        let ok = (1000..=24 * 3600 * 1000).contains(&self.hold_ms)
            && (60_000..=7 * 24 * 3600 * 1000).contains(&self.announce_lifetime_ms)
            && (1..=65536).contains(&self.replay_capacity);
        ok.then_some(())
            .ok_or(Error::InvalidConfig("therapist configuration"))
    }
}

/// What the therapist's application learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TherapistEvent {
    /// A slot is on hold for a reservation until `until_ms`: confirm or
    /// decline it.
    Held {
        /// The reservation.
        request_id: RequestId,
        /// The slot.
        slot_id: u32,
        /// The patient's pseudonymous contact.
        contact: String,
        /// When the hold expires.
        until_ms: u64,
    },
    /// The patient was told the reservation is confirmed.
    Confirmed(RequestId),
    /// The patient was told the reservation is declined.
    Declined(RequestId),
    /// A hold ran out; the patient was told.
    Expired(RequestId),
    /// The patient cancelled; the slot is free again.
    Cancelled(RequestId),
    /// A reservation arrived again; it got its earlier answer (if any).
    Replayed(RequestId),
}

/// Where a patient's result goes.
#[derive(Debug, Clone)]
struct Reply {
    address: Address,
    key: XWingPublicKey,
}

#[derive(Debug, Clone)]
enum SlotState {
    Free,
    Held {
        request_id: RequestId,
        until_ms: u64,
        reply: Box<Reply>,
    },
    Booked {
        request_id: RequestId,
    },
}

impl SlotState {
    fn request(&self) -> Option<&RequestId> {
        match self {
            SlotState::Free => None,
            SlotState::Held { request_id, .. } | SlotState::Booked { request_id } => {
                Some(request_id)
            }
        }
    }
}

/// A slot's state as [`Therapist::state`] exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotStatus {
    /// Free: listed in the next announce.
    Free,
    /// On hold for a reservation until `until_ms`.
    Held {
        /// The reservation.
        request_id: RequestId,
        /// When the hold expires, Unix ms.
        until_ms: u64,
        /// Where the result goes.
        reply_address: Address,
        /// The one-time key the result is sealed to.
        reply_key: Box<XWingPublicKey>,
    },
    /// Booked for a confirmed reservation.
    Booked {
        /// The reservation.
        request_id: RequestId,
    },
}

/// The durable part of a [`Therapist`] (`spec/20` §9.1): what a driver
/// stores so that a restarted node neither reuses a sequence number nor
/// forgets a hold or a booking. The replay memory (digests and answers of
/// recent reservations) is not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TherapistState {
    /// The licence hash the announces carry.
    pub licence_hash: [u8; 32],
    /// The practice.
    pub practice: Practice,
    /// The last sequence number announced (or about to be: see the module
    /// documentation).
    pub sequence: u32,
    /// When the announce is next refreshed, Unix ms (`u64::MAX` after a
    /// withdrawal).
    pub refresh_at_ms: u64,
    /// The inventory, at most [`MAX_SLOTS`] slots with distinct ids.
    pub slots: Vec<(Slot, SlotStatus)>,
}

/// A therapist's FAPP engine.
pub struct Therapist {
    identity: Identity,
    licence_hash: [u8; 32],
    practice: Practice,
    config: TherapistConfig,
    sequence: u32,
    refresh_at_ms: u64,
    slots: BTreeMap<u32, (Slot, SlotState)>,
    /// Digests of sealed reservations seen, to their request.
    seen: BoundedMap<[u8; 32], RequestId>,
    /// The result sent for each answered request, to resend on a replay.
    answers: BoundedMap<RequestId, Sealed>,
}

impl core::fmt::Debug for Therapist {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Therapist")
            .field("address", &self.address())
            .field("sequence", &self.sequence)
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Therapist {
    /// A therapist with an empty inventory; `sequence` is the last sequence
    /// number it announced (0 if never), which the driver persists.
    pub fn new(
        identity: Identity,
        licence_hash: [u8; 32],
        practice: Practice,
        config: TherapistConfig,
        sequence: u32,
    ) -> Result<Self> {
        config.validate()?;
        practice.validate()?;
        Ok(Therapist {
            identity,
            licence_hash,
            practice,
            config,
            sequence,
            refresh_at_ms: 0,
            slots: BTreeMap::new(),
            seen: BoundedMap::new(config.replay_capacity),
            answers: BoundedMap::new(config.replay_capacity),
        })
    }

    /// A therapist restored from `state` (see [`Therapist::state`]);
    /// `invalid_config` for a bad configuration, `malformed` for a state no
    /// engine could have exported (a bad practice or slot, a duplicate slot
    /// id, more than [`MAX_SLOTS`] slots).
    pub fn restore(
        identity: Identity,
        config: TherapistConfig,
        state: TherapistState,
    ) -> Result<Self> {
        let mut therapist = Therapist::new(
            identity,
            state.licence_hash,
            state.practice,
            config,
            state.sequence,
        )?;
        if state.slots.len() > MAX_SLOTS {
            return Err(Error::malformed("therapist state", "too many slots"));
        }
        for (slot, status) in state.slots {
            slot.validate()?;
            let state = match status {
                SlotStatus::Free => SlotState::Free,
                SlotStatus::Held {
                    request_id,
                    until_ms,
                    reply_address,
                    reply_key,
                } => SlotState::Held {
                    request_id,
                    until_ms,
                    reply: Box::new(Reply {
                        address: reply_address,
                        key: *reply_key,
                    }),
                },
                SlotStatus::Booked { request_id } => SlotState::Booked { request_id },
            };
            if therapist.slots.insert(slot.id, (slot, state)).is_some() {
                return Err(Error::malformed("therapist state", "duplicate slot id"));
            }
        }
        therapist.refresh_at_ms = state.refresh_at_ms;
        Ok(therapist)
    }

    /// The durable state, for [`Therapist::restore`].
    pub fn state(&self) -> TherapistState {
        let slots = self.slots.values().map(|(slot, state)| {
            let status = match state {
                SlotState::Free => SlotStatus::Free,
                SlotState::Held {
                    request_id,
                    until_ms,
                    reply,
                } => SlotStatus::Held {
                    request_id: *request_id,
                    until_ms: *until_ms,
                    reply_address: reply.address,
                    reply_key: Box::new(reply.key.clone()),
                },
                SlotState::Booked { request_id } => SlotStatus::Booked {
                    request_id: *request_id,
                },
            };
            (*slot, status)
        });
        TherapistState {
            licence_hash: self.licence_hash,
            practice: self.practice.clone(),
            sequence: self.sequence,
            refresh_at_ms: self.refresh_at_ms,
            slots: slots.collect(),
        }
    }

    /// The therapist's address.
    pub fn address(&self) -> Address {
        self.identity.public().address()
    }

    /// The last sequence number announced.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The free slots (what the next announce lists, before dropping past
    /// ones).
    pub fn free_slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots
            .values()
            .filter(|(_, state)| matches!(state, SlotState::Free))
            .map(|(slot, _)| slot)
    }

    /// The request a slot is held or booked for, and whether it is booked.
    pub fn slot_owner(&self, slot_id: u32) -> Option<(RequestId, bool)> {
        match self.slots.get(&slot_id)? {
            (_, SlotState::Free) => None,
            (_, SlotState::Held { request_id, .. }) => Some((*request_id, false)),
            (_, SlotState::Booked { request_id }) => Some((*request_id, true)),
        }
    }

    /// Signs and broadcasts an announce of the current free slots with the
    /// next sequence number.
    pub fn announce(&mut self, now: u64) -> Result<Step<TherapistEvent>> {
        let mut step = Step::default();
        self.reannounce(now, &mut step)?;
        Ok(step)
    }

    fn reannounce(&mut self, now: u64, step: &mut Step<TherapistEvent>) -> Result<()> {
        let sequence = self.next_sequence()?;
        let lifetime = self.config.announce_lifetime_ms;
        let slots = self.free_slots().filter(|s| s.start_ms > now).copied();
        let announce = SlotAnnounce::sign(
            &self.identity,
            self.licence_hash,
            sequence,
            now.saturating_add(lifetime),
            self.config.hold_ms,
            self.practice.clone(),
            slots.collect(),
        )?;
        self.refresh_at_ms = now.saturating_add(lifetime - lifetime / 4);
        step.send(To::Broadcast, FappMessage::Announce(announce));
        Ok(())
    }

    fn next_sequence(&mut self) -> Result<u32> {
        self.sequence = self
            .sequence
            .checked_add(1)
            .ok_or(Error::WrongState("sequence numbers used up"))?;
        Ok(self.sequence)
    }

    /// Signs and broadcasts a withdrawal of every offer, remembered by
    /// relays for one announce lifetime.
    pub fn withdraw(&mut self, now: u64) -> Result<Step<TherapistEvent>> {
        let sequence = self.next_sequence()?;
        let expires = now.saturating_add(self.config.announce_lifetime_ms);
        let withdraw = SlotWithdraw::sign(&self.identity, sequence, expires);
        self.refresh_at_ms = u64::MAX;
        let mut step = Step::default();
        step.send(To::Broadcast, FappMessage::Withdraw(withdraw));
        Ok(step)
    }

    /// Adds a free slot (at most 32 in the inventory) and re-announces.
    pub fn add_slot(&mut self, now: u64, slot: Slot) -> Result<Step<TherapistEvent>> {
        self.add_slots(now, &[slot])
    }

    /// Adds free slots and re-announces once; all or none are added
    /// (`full` beyond 32 in the inventory, `wrong_state` for an id in use
    /// or given twice).
    pub fn add_slots(&mut self, now: u64, slots: &[Slot]) -> Result<Step<TherapistEvent>> {
        for (i, slot) in slots.iter().enumerate() {
            slot.validate()?;
            if self.slots.contains_key(&slot.id) || slots[..i].iter().any(|s| s.id == slot.id) {
                return Err(Error::WrongState("slot id in use"));
            }
        }
        if self.slots.len() + slots.len() > MAX_SLOTS {
            return Err(Error::Full("slot inventory"));
        }
        for slot in slots {
            self.slots.insert(slot.id, (*slot, SlotState::Free));
        }
        self.announce(now)
    }

    /// Removes a free slot and re-announces; held and booked slots stay.
    pub fn remove_slot(&mut self, now: u64, slot_id: u32) -> Result<Step<TherapistEvent>> {
        match self.slots.get(&slot_id) {
            Some((_, SlotState::Free)) => {
                self.slots.remove(&slot_id);
                self.announce(now)
            }
            Some(_) => Err(Error::WrongState("slot is held or booked")),
            None => Err(Error::WrongState("no such slot")),
        }
    }

    /// Handles a Reservation: `wrong_recipient`, `open_failed`,
    /// `bad_padding`, decoding errors, `invalid_public_key` (reply key) and
    /// `stale` (outside the replay window) reject it; otherwise the slot is
    /// held (event [`TherapistEvent::Held`], re-announce) or the
    /// reservation is declined at once.
    pub fn handle_reservation(
        &mut self,
        now: u64,
        sealed: &Sealed,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<TherapistEvent>> {
        let mut step = Step::default();
        if sealed.recipient != self.address() {
            return Err(Error::WrongRecipient);
        }
        let digest: [u8; 32] = Sha256::digest(sealed.encode(FappType::Reservation)).into();
        if let Some(request_id) = self.seen.get(&digest).copied() {
            self.replay(request_id, &mut step);
            return Ok(step);
        }
        let own = self.address();
        let plaintext = sealed.open(FappType::Reservation, &own, self.identity.kem_secret())?;
        let request = ReservationRequest::decode(&plaintext)?;
        if now.abs_diff(request.created_ms) > self.config.replay_window_ms {
            return Err(Error::OutsideWindow {
                created_ms: request.created_ms,
                now_ms: now,
            });
        }
        self.seen.insert(digest, request.request_id);
        if self.is_known(&request.request_id) {
            self.replay(request.request_id, &mut step);
            return Ok(step);
        }
        let reply = Reply {
            address: request.reply_address,
            key: request.reply_key,
        };
        match self.slots.get_mut(&request.slot_id) {
            Some((slot, state @ SlotState::Free)) if slot.start_ms > now => {
                let until_ms = now.saturating_add(u64::from(self.config.hold_ms));
                *state = SlotState::Held {
                    request_id: request.request_id,
                    until_ms,
                    reply: Box::new(reply),
                };
                step.event(TherapistEvent::Held {
                    request_id: request.request_id,
                    slot_id: request.slot_id,
                    contact: request.contact,
                    until_ms,
                });
                self.reannounce(now, &mut step)?;
            }
            _ => {
                let notice = Notice {
                    request_id: request.request_id,
                    slot_id: request.slot_id,
                    status: Some(Status::Declined),
                };
                self.answer(notice, &reply, rng, &mut step)?;
                step.event(TherapistEvent::Declined(request.request_id));
            }
        }
        Ok(step)
    }

    fn is_known(&self, request_id: &RequestId) -> bool {
        self.answers.get(request_id).is_some()
            || self
                .slots
                .values()
                .any(|(_, state)| state.request() == Some(request_id))
    }

    /// A reservation seen before: its answer again, if it has one yet.
    fn replay(&self, request_id: RequestId, step: &mut Step<TherapistEvent>) {
        if let Some(result) = self.answers.get(&request_id) {
            step.send(
                To::Address(result.recipient),
                FappMessage::Result(result.clone()),
            );
        }
        step.event(TherapistEvent::Replayed(request_id));
    }

    fn answer(
        &mut self,
        notice: Notice,
        reply: &Reply,
        rng: &mut impl CryptoRng,
        step: &mut Step<TherapistEvent>,
    ) -> Result<()> {
        let sealed = Sealed::seal(
            FappType::ReservationResult,
            reply.address,
            &reply.key,
            &notice.encode(),
            rng,
        )?;
        self.answers.insert(notice.request_id, sealed.clone());
        step.send(To::Address(reply.address), FappMessage::Result(sealed));
        Ok(())
    }

    fn held(&mut self, now: u64, request_id: &RequestId) -> Result<(u32, Box<Reply>)> {
        for (slot_id, (_, state)) in &mut self.slots {
            if let SlotState::Held {
                request_id: held,
                until_ms,
                reply,
            } = state
            {
                if held == request_id {
                    if *until_ms <= now {
                        return Err(Error::WrongState("the hold has expired"));
                    }
                    let reply = reply.clone();
                    *state = SlotState::Free;
                    return Ok((*slot_id, reply));
                }
            }
        }
        Err(Error::WrongState("no slot is held for this request"))
    }

    /// Confirms a held reservation: the slot is booked, the patient told.
    pub fn confirm(
        &mut self,
        now: u64,
        request_id: &RequestId,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<TherapistEvent>> {
        self.decide(now, request_id, Status::Confirmed, rng)
    }

    /// Declines a held reservation: the slot is free again (re-announced).
    pub fn decline(
        &mut self,
        now: u64,
        request_id: &RequestId,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<TherapistEvent>> {
        self.decide(now, request_id, Status::Declined, rng)
    }

    fn decide(
        &mut self,
        now: u64,
        request_id: &RequestId,
        status: Status,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<TherapistEvent>> {
        let (slot_id, reply) = self.held(now, request_id)?;
        let mut step = Step::default();
        let notice = Notice {
            request_id: *request_id,
            slot_id,
            status: Some(status),
        };
        self.answer(notice, &reply, rng, &mut step)?;
        if status == Status::Confirmed {
            if let Some((_, state)) = self.slots.get_mut(&slot_id) {
                *state = SlotState::Booked {
                    request_id: *request_id,
                };
            }
            step.event(TherapistEvent::Confirmed(*request_id));
        } else {
            step.event(TherapistEvent::Declined(*request_id));
            self.reannounce(now, &mut step)?;
        }
        Ok(step)
    }

    /// Handles a Cancel of a held or booked reservation: the slot is free
    /// again (re-announced). A cancel of anything else is `wrong_state`.
    pub fn handle_cancel(&mut self, now: u64, sealed: &Sealed) -> Result<Step<TherapistEvent>> {
        let own = self.address();
        let plaintext = sealed.open(FappType::Cancel, &own, self.identity.kem_secret())?;
        let notice = Notice::decode(FappType::Cancel, &plaintext)?;
        match self.slots.get_mut(&notice.slot_id) {
            Some((_, state)) if state.request() == Some(&notice.request_id) => {
                *state = SlotState::Free;
            }
            _ => return Err(Error::WrongState("no such reservation to cancel")),
        }
        let mut step = Step::default();
        step.event(TherapistEvent::Cancelled(notice.request_id));
        self.reannounce(now, &mut step)?;
        Ok(step)
    }

    /// Expires holds whose time has come (the patients are told, the slots
    /// re-announced) and refreshes the announce when due.
    pub fn handle_timeout(
        &mut self,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<Step<TherapistEvent>> {
        let mut step = Step::default();
        let mut expired = Vec::new();
        for (slot_id, (_, state)) in &mut self.slots {
            if let SlotState::Held {
                request_id,
                until_ms,
                reply,
            } = state
            {
                if *until_ms <= now {
                    expired.push((*slot_id, *request_id, reply.clone()));
                    *state = SlotState::Free;
                }
            }
        }
        for (slot_id, request_id, reply) in &expired {
            let notice = Notice {
                request_id: *request_id,
                slot_id: *slot_id,
                status: Some(Status::Expired),
            };
            self.answer(notice, reply, rng, &mut step)?;
            step.event(TherapistEvent::Expired(*request_id));
        }
        if !expired.is_empty() || now >= self.refresh_at_ms {
            self.reannounce(now, &mut step)?;
        }
        Ok(step)
    }

    /// When [`Therapist::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        let holds = self.slots.values().filter_map(|(_, state)| match state {
            SlotState::Held { until_ms, .. } => Some(*until_ms),
            _ => None,
        });
        holds
            .chain((self.refresh_at_ms != u64::MAX).then_some(self.refresh_at_ms))
            .min()
    }
}
