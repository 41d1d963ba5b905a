//! FAPP over qpc-mesh's `MeshNode` (`spec/20-fapp.md` §8.1): the driver
//! that feeds the bodies of type-`0xc` frames into the relay, therapist and
//! patient engines and turns their [`Step`]s into mesh sends.
//!
//! - [`FappDriver`] is the FAPP half of a node; every call borrows the
//!   node's [`MeshNode`], so a simulator that owns the mesh engines can
//!   drive it too;
//! - [`FappNode`] owns both halves: the API of the reference node.
//!
//! A node's own engines reach the network through its relay: what they
//! broadcast enters the relay from the node's own neighbour handle
//! [`OWN`] (so the relay caches the node's announces and keeps the reverse
//! path of its patient's query), and responses the relay routes to
//! [`OWN`] go to the patient.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use qpc_mesh::envelope::HopId;
use qpc_mesh::node::{Event, MeshNode, Transmit};
use qpc_mesh::routing::LinkId;
use rand_core::CryptoRng;

use crate::error::{Error, Result};
use crate::message::FappMessage;
use crate::model::Slot;
use crate::outgoing::{NeighbourId, Outgoing, Step, To};
use crate::patient::{Patient, PatientConfig, PatientEvent};
use crate::query::Filter;
use crate::relay::{Relay, RelayConfig, RelayEvent};
use crate::sealed::RequestId;
use crate::therapist::{Therapist, TherapistEvent};

/// The neighbour handle of the node's own engines.
pub const OWN: NeighbourId = NeighbourId(0);

/// Configuration of a [`FappDriver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    /// The relay engine.
    pub relay: RelayConfig,
    /// Most neighbours with a handle (1 to 65536); a new one beyond
    /// replaces the one heard from least recently.
    pub max_neighbours: usize,
    /// Events waiting to be drained (at least 1); beyond, the oldest go.
    pub max_events: usize,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            relay: RelayConfig::default(),
            max_neighbours: 1024,
            max_events: 1024,
        }
    }
}

/// What a FAPP node reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FappEvent {
    /// The therapist engine's event (a hold to decide, a cancel, ...).
    Therapist(TherapistEvent),
    /// The patient engine's event (booked, refused, timed out, ...).
    Patient(PatientEvent),
    /// The relay engine's event.
    Relay(RelayEvent),
    /// A FAPP message was refused; `class` is its error class (`spec/20`
    /// §12), e.g. `replayed` for a query heard again.
    Refused {
        /// The FAPP message type code, if the header was readable.
        fapp_type: Option<u8>,
        /// The error class.
        class: &'static str,
    },
    /// A mesh event that is not FAPP's (only from [`FappNode`]).
    Mesh(Event),
}

/// The bounded map between mesh neighbours (link and hop id) and the
/// engines' [`NeighbourId`] handles.
#[derive(Debug, Clone)]
struct Neighbours {
    capacity: usize,
    by_hop: BTreeMap<(LinkId, HopId), NeighbourId>,
    by_handle: BTreeMap<NeighbourId, (LinkId, HopId, u64)>,
    next: u32,
    clock: u64,
}

impl Neighbours {
    fn new(capacity: usize) -> Self {
        Neighbours {
            capacity,
            by_hop: BTreeMap::new(),
            by_handle: BTreeMap::new(),
            next: 1,
            clock: 0,
        }
    }

    /// The handle of (link, hop id), assigning one (and evicting the least
    /// recently heard) if it is new.
    fn handle(&mut self, link: LinkId, hop: HopId) -> NeighbourId {
        self.clock += 1;
        if let Some(&id) = self.by_hop.get(&(link, hop)) {
            self.by_handle.insert(id, (link, hop, self.clock));
            return id;
        }
        if self.by_handle.len() >= self.capacity {
            let oldest = self
                .by_handle
                .iter()
                .min_by_key(|(_, (_, _, at))| *at)
                .map(|(&id, &(l, h, _))| (id, l, h));
            if let Some((id, l, h)) = oldest {
                self.by_handle.remove(&id);
                self.by_hop.remove(&(l, h));
            }
        }
        let id = NeighbourId(self.next);
        self.next = self.next.checked_add(1).unwrap_or(1);
        self.by_hop.insert((link, hop), id);
        self.by_handle.insert(id, (link, hop, self.clock));
        id
    }

    fn get(&self, id: NeighbourId) -> Option<(LinkId, HopId)> {
        self.by_handle.get(&id).map(|&(l, h, _)| (l, h))
    }
}

/// A message one of the node's engines hands to another of them.
enum Local {
    /// To the relay, from [`OWN`].
    Relay(FappMessage),
    /// To the patient (a response the relay routed to [`OWN`]).
    Patient(FappMessage),
}

/// The FAPP half of a node: a relay, optionally a therapist and a patient,
/// and the neighbour handles; every call borrows the node's [`MeshNode`].
pub struct FappDriver {
    config: DriverConfig,
    relay: Relay,
    therapist: Option<Therapist>,
    patient: Option<Patient>,
    neighbours: Neighbours,
    events: VecDeque<FappEvent>,
}

impl core::fmt::Debug for FappDriver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FappDriver")
            .field("therapist", &self.therapist)
            .field("patient", &self.patient)
            .finish_non_exhaustive()
    }
}

impl FappDriver {
    /// A driver with a relay and no therapist or patient.
    pub fn new(config: DriverConfig) -> Result<Self> {
        if !(1..=65536).contains(&config.max_neighbours) || config.max_events == 0 {
            return Err(Error::InvalidConfig(
                "driver: 1 to 65536 neighbours, at least 1 event",
            ));
        }
        Ok(FappDriver {
            relay: Relay::new(config.relay)?,
            config,
            therapist: None,
            patient: None,
            neighbours: Neighbours::new(config.max_neighbours),
            events: VecDeque::new(),
        })
    }

    /// Runs `therapist` on this node; its address must be the mesh node's
    /// (`wrong_recipient` otherwise), so that reservations routed to the
    /// announced address arrive here.
    pub fn set_therapist(&mut self, mesh: &MeshNode, therapist: Therapist) -> Result<()> {
        if therapist.address() != mesh.address() {
            return Err(Error::WrongRecipient);
        }
        self.therapist = Some(therapist);
        Ok(())
    }

    /// The therapist engine, if any.
    pub fn therapist(&self) -> Option<&Therapist> {
        self.therapist.as_ref()
    }

    /// The patient engine of the current search, if any.
    pub fn patient(&self) -> Option<&Patient> {
        self.patient.as_ref()
    }

    /// The relay engine.
    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// The relay engine, to restore its persisted cache
    /// ([`Relay::restore`]).
    pub fn relay_mut(&mut self) -> &mut Relay {
        &mut self.relay
    }

    /// Gives the patient a therapist's public identity the node already
    /// knows (instead of waiting for a fetch over the mesh).
    pub fn learn_identity(&mut self, identity: qpc_crypto::identity::PublicIdentity) {
        if let Some(patient) = self.patient.as_mut() {
            patient.learn_identity(identity);
        }
    }

    /// Patient: reserves `slot_id` of `therapist` from the current
    /// search's candidates now ([`Patient::reserve`]); `wrong_state` with
    /// no search.
    pub fn reserve(
        &mut self,
        mesh: &mut MeshNode,
        therapist: &qpc_crypto::identity::Address,
        slot_id: u32,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let patient = self
            .patient
            .as_mut()
            .ok_or(Error::WrongState("no search on this node"))?;
        let step = patient.reserve(now, therapist, slot_id, rng)?;
        self.apply(mesh, step, FappEvent::Patient, now);
        Ok(())
    }

    /// Starts a search (replacing any earlier one): the query goes out
    /// through the node's relay.
    pub fn search(
        &mut self,
        mesh: &mut MeshNode,
        config: PatientConfig,
        contact: String,
        filter: Filter,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let (patient, step) = Patient::search(config, contact, filter, now, rng)?;
        self.patient = Some(patient);
        self.apply(mesh, step, FappEvent::Patient, now);
        Ok(())
    }

    /// Therapist: signs and broadcasts an announce of the free slots.
    pub fn announce(&mut self, mesh: &mut MeshNode, now: u64) -> Result<()> {
        self.therapist_step(mesh, now, |t| t.announce(now))
    }

    /// Therapist: adds a free slot and re-announces.
    pub fn add_slot(&mut self, mesh: &mut MeshNode, slot: Slot, now: u64) -> Result<()> {
        self.add_slots(mesh, &[slot], now)
    }

    /// Therapist: adds free slots and re-announces once
    /// ([`Therapist::add_slots`]).
    pub fn add_slots(&mut self, mesh: &mut MeshNode, slots: &[Slot], now: u64) -> Result<()> {
        self.therapist_step(mesh, now, |t| t.add_slots(now, slots))
    }

    /// Therapist: confirms a held reservation (the patient is told).
    pub fn confirm(
        &mut self,
        mesh: &mut MeshNode,
        request_id: &RequestId,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.therapist_step(mesh, now, |t| t.confirm(now, request_id, rng))
    }

    /// Therapist: declines a held reservation (the slot is free again).
    pub fn decline(
        &mut self,
        mesh: &mut MeshNode,
        request_id: &RequestId,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.therapist_step(mesh, now, |t| t.decline(now, request_id, rng))
    }

    /// Runs a therapist action and sends its step.
    fn therapist_step(
        &mut self,
        mesh: &mut MeshNode,
        now: u64,
        action: impl FnOnce(&mut Therapist) -> Result<Step<TherapistEvent>>,
    ) -> Result<()> {
        let step = action(self.therapist_mut()?)?;
        self.apply(mesh, step, FappEvent::Therapist, now);
        Ok(())
    }

    fn therapist_mut(&mut self) -> Result<&mut Therapist> {
        self.therapist
            .as_mut()
            .ok_or(Error::WrongState("no therapist on this node"))
    }

    /// Takes one mesh event: FAPP frames and fetched identities are
    /// consumed (`None`); any other event is handed back.
    pub fn handle_mesh_event(
        &mut self,
        mesh: &mut MeshNode,
        event: Event,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Option<Event> {
        match event {
            Event::FappReceived {
                link,
                neighbour,
                payload,
            } => {
                let from = self.neighbours.handle(link, neighbour);
                if let Some(message) = self.decode(payload) {
                    self.link_local(mesh, from, message, now);
                }
                None
            }
            Event::FappDelivered { payload, .. } => {
                if let Some(message) = self.decode(payload) {
                    self.routed(mesh, message, now, rng);
                }
                None
            }
            Event::KeyFetched(identity) => {
                if let Some(patient) = self.patient.as_mut() {
                    patient.learn_identity(*identity.clone());
                }
                Some(Event::KeyFetched(identity))
            }
            other => Some(other),
        }
    }

    /// Fires the engines' timers.
    pub fn handle_timeout(&mut self, mesh: &mut MeshNode, now: u64, rng: &mut impl CryptoRng) {
        for address in self.relay.handle_timeout(now) {
            self.push(FappEvent::Relay(RelayEvent::Evicted(address)));
        }
        let due = |t: Option<u64>| t.is_some_and(|t| t <= now);
        if let Some(therapist) = self.therapist.as_mut().filter(|t| due(t.poll_timeout())) {
            let step = therapist.handle_timeout(now, rng);
            self.applied(mesh, step, FappEvent::Therapist, now);
        }
        if let Some(patient) = self.patient.as_mut().filter(|p| due(p.poll_timeout())) {
            let step = patient.handle_timeout(now, rng);
            self.applied(mesh, step, FappEvent::Patient, now);
        }
    }

    /// When [`FappDriver::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        [
            self.relay.poll_timeout(),
            self.therapist.as_ref().and_then(Therapist::poll_timeout),
            self.patient.as_ref().and_then(Patient::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<FappEvent> {
        self.events.pop_front()
    }

    fn push(&mut self, event: FappEvent) {
        if self.events.len() >= self.config.max_events {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    fn refused(&mut self, fapp_type: Option<u8>, error: &Error) {
        self.push(FappEvent::Refused {
            fapp_type,
            class: error.class(),
        });
    }

    fn decode(&mut self, payload: Bytes) -> Option<FappMessage> {
        let fapp_type = payload.get(1).copied();
        FappMessage::decode(payload)
            .map_err(|e| self.refused(fapp_type, &e))
            .ok()
    }

    /// A link-local message from a neighbour: announces, withdrawals,
    /// queries and responses go to the relay, except responses to our own
    /// patient's query, which the relay routes to [`OWN`].
    fn link_local(
        &mut self,
        mesh: &mut MeshNode,
        from: NeighbourId,
        message: FappMessage,
        now: u64,
    ) {
        let code = message.fapp_type().code();
        match self.relay.handle(now, from, &message) {
            Ok(step) => self.apply(mesh, step, FappEvent::Relay, now),
            Err(e) => self.refused(Some(code), &e),
        }
    }

    /// A routed message for this node: reservations and cancels for the
    /// therapist, results for the patient.
    fn routed(
        &mut self,
        mesh: &mut MeshNode,
        message: FappMessage,
        now: u64,
        rng: &mut impl CryptoRng,
    ) {
        let code = Some(message.fapp_type().code());
        match message {
            FappMessage::Reservation(sealed) => {
                let step = self
                    .therapist_mut()
                    .map(|t| t.handle_reservation(now, &sealed, rng));
                self.routed_step(mesh, step, code, FappEvent::Therapist, now);
            }
            FappMessage::Cancel(sealed) => {
                let step = self.therapist_mut().map(|t| t.handle_cancel(now, &sealed));
                self.routed_step(mesh, step, code, FappEvent::Therapist, now);
            }
            FappMessage::Result(sealed) => {
                let step = match self.patient.as_mut() {
                    Some(patient) => Ok(patient.handle_result(now, &sealed, rng)),
                    None => Err(Error::WrongRecipient),
                };
                self.routed_step(mesh, step, code, FappEvent::Patient, now);
            }
            _ => self.refused(code, &Error::WrongState("a link-local message sent routed")),
        }
    }

    fn routed_step<E>(
        &mut self,
        mesh: &mut MeshNode,
        step: Result<Result<Step<E>>>,
        code: Option<u8>,
        wrap: fn(E) -> FappEvent,
        now: u64,
    ) {
        match step.and_then(|s| s) {
            Ok(step) => self.apply(mesh, step, wrap, now),
            Err(e) => self.refused(code, &e),
        }
    }

    fn applied<E>(
        &mut self,
        mesh: &mut MeshNode,
        step: Result<Step<E>>,
        wrap: fn(E) -> FappEvent,
        now: u64,
    ) {
        match step {
            Ok(step) => self.apply(mesh, step, wrap, now),
            Err(e) => self.refused(None, &e),
        }
    }

    /// Sends a step's messages and reports its events; messages for the
    /// node's own engines are handed on until none is left.
    fn apply<E>(&mut self, mesh: &mut MeshNode, step: Step<E>, wrap: fn(E) -> FappEvent, now: u64) {
        let mut local = VecDeque::new();
        self.emit(mesh, step, wrap, &mut local, now);
        while let Some(next) = local.pop_front() {
            match next {
                Local::Relay(message) => match self.relay.handle(now, OWN, &message) {
                    Ok(step) => self.emit(mesh, step, FappEvent::Relay, &mut local, now),
                    Err(e) => {
                        // Our own message goes out even if the relay
                        // refuses it (e.g. our own bucket is empty).
                        self.refused(Some(message.fapp_type().code()), &e);
                        self.send(mesh, To::Broadcast, &message, now);
                    }
                },
                Local::Patient(FappMessage::Response(response)) => {
                    let Some(patient) = self.patient.as_mut() else {
                        continue;
                    };
                    match patient.handle_response(now, &response) {
                        Ok(step) => {
                            self.fetch_identities(mesh, &step, now);
                            self.emit(mesh, step, FappEvent::Patient, &mut local, now);
                        }
                        Err(e) => self.refused(Some(0x04), &e),
                    }
                }
                Local::Patient(_) => {}
            }
        }
    }

    fn fetch_identities(&mut self, mesh: &mut MeshNode, step: &Step<PatientEvent>, now: u64) {
        for event in &step.events {
            if let PatientEvent::IdentityNeeded(address) = event {
                mesh.request_key(*address, now);
            }
        }
    }

    fn emit<E>(
        &mut self,
        mesh: &mut MeshNode,
        step: Step<E>,
        wrap: fn(E) -> FappEvent,
        local: &mut VecDeque<Local>,
        now: u64,
    ) {
        for Outgoing { to, message } in step.outgoing {
            match to {
                To::Broadcast => local.push_back(Local::Relay(message)),
                To::Neighbour(OWN) => local.push_back(Local::Patient(message)),
                _ => self.send(mesh, to, &message, now),
            }
        }
        for event in step.events {
            self.push(wrap(event));
        }
    }

    /// Puts a message on the mesh: link-local to every neighbour or one, or
    /// routed to an address (a reservation names its reply address).
    fn send(&mut self, mesh: &mut MeshNode, to: To, message: &FappMessage, now: u64) {
        let code = Some(message.fapp_type().code());
        let bytes = match message.encode() {
            Ok(bytes) => bytes,
            Err(e) => return self.refused(code, &e),
        };
        let sent = match to {
            To::Broadcast | To::NeighboursExcept(OWN) => {
                mesh.send_fapp_broadcast(&bytes, None, now)
            }
            To::NeighboursExcept(n) => {
                let except = self.neighbours.get(n).map(|(link, _)| link);
                mesh.send_fapp_broadcast(&bytes, except, now)
            }
            To::Neighbour(n) => match self.neighbours.get(n) {
                Some((link, hop)) => mesh.send_fapp_to_neighbour(link, hop, &bytes, now),
                None => return self.refused(code, &Error::WrongState("neighbour forgotten")),
            },
            To::Address(address) => {
                let reply = match message {
                    FappMessage::Reservation(_) => {
                        self.patient.as_ref().and_then(Patient::reply_address)
                    }
                    _ => None,
                };
                mesh.send_fapp_routed(address, reply, &bytes, now)
            }
        };
        if let Err(e) = sent {
            self.push(FappEvent::Refused {
                fapp_type: code,
                class: e.class(),
            });
        }
    }
}

/// A FAPP node: a [`MeshNode`] and its [`FappDriver`], driven like the
/// mesh node (datagrams in, timeouts, transmits and events out).
#[derive(Debug)]
pub struct FappNode {
    mesh: MeshNode,
    driver: FappDriver,
}

impl FappNode {
    /// A node of `mesh` with a relay.
    pub fn new(mesh: MeshNode, config: DriverConfig) -> Result<Self> {
        Ok(FappNode {
            mesh,
            driver: FappDriver::new(config)?,
        })
    }

    /// The mesh node.
    pub fn mesh(&self) -> &MeshNode {
        &self.mesh
    }

    /// The mesh node, to add links, announce, or send messages.
    pub fn mesh_mut(&mut self) -> &mut MeshNode {
        &mut self.mesh
    }

    /// The FAPP driver (engines and state).
    pub fn driver(&self) -> &FappDriver {
        &self.driver
    }

    /// Runs `f` on the driver with the mesh node, then takes the mesh
    /// events it caused.
    pub fn with_driver<T, R: CryptoRng>(
        &mut self,
        now: u64,
        rng: &mut R,
        f: impl FnOnce(&mut FappDriver, &mut MeshNode, &mut R) -> T,
    ) -> T {
        let out = f(&mut self.driver, &mut self.mesh, rng);
        self.drain(now, rng);
        out
    }

    /// Takes one datagram received on `link`.
    pub fn handle_datagram(
        &mut self,
        link: LinkId,
        bytes: Bytes,
        now: u64,
        rng: &mut impl CryptoRng,
    ) {
        self.mesh.handle_datagram(link, bytes, now);
        self.drain(now, rng);
    }

    /// Fires the mesh's and the engines' timers.
    pub fn handle_timeout(&mut self, now: u64, rng: &mut impl CryptoRng) {
        self.mesh.handle_timeout(now);
        self.driver.handle_timeout(&mut self.mesh, now, rng);
        self.drain(now, rng);
    }

    /// When [`FappNode::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        [self.mesh.poll_timeout(), self.driver.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.mesh.poll_transmit()
    }

    /// The next event: the engines' and the mesh's.
    pub fn poll_event(&mut self) -> Option<FappEvent> {
        self.driver.poll_event()
    }

    /// Feeds the mesh's events through the driver; the rest become
    /// [`FappEvent::Mesh`].
    fn drain(&mut self, now: u64, rng: &mut impl CryptoRng) {
        while let Some(event) = self.mesh.poll_event() {
            if let Some(other) = self
                .driver
                .handle_mesh_event(&mut self.mesh, event, now, rng)
            {
                self.driver.push(FappEvent::Mesh(other));
            }
        }
    }
}
