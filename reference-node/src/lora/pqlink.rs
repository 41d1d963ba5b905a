//! pqXX between LoRa neighbours (`spec/30-reference-node.md` §15): the
//! sans-IO engine that sits between the radio's `LoraLink` and the mesh
//! engine. Mesh datagrams addressed to one neighbour travel inside a pqXX
//! datagram transport with that neighbour, run after a handshake the first
//! such datagram starts; datagrams addressed to every radio in range stay
//! in the clear. Time (`now`, ms) and randomness come in as arguments.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity};
use qpc_crypto::pqxx::{
    DatagramTransport, HandshakeConfig, Initiator, LocalStatic, Mode, Responder, Session,
    TransportConfig,
};
use qpc_mesh::envelope::{Header, HopId};
use qpc_mesh::lora::link::priority_of;
use qpc_mesh::lora::queue::Priority;
use qpc_wire::codec::Reader;
use qpc_wire::FrameType;
use rand_core::CryptoRng;

use super::secured::{addressing, Addressing, SecuredDatagram, SECURED_KIND};
use crate::error::{Error, Result};

/// The start of every LoRa link handshake's prologue context, followed by
/// the initiator's and the responder's hop ids.
pub const CONTEXT_LABEL: &[u8] = b"qpc lora link";
/// One day, ms.
const DAY_MS: u64 = 86_400_000;

/// Bounds and timers of the engine (§15.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PqLinkConfig {
    /// Neighbours with state at once; beyond, the one least recently
    /// active is forgotten (its session too).
    pub max_neighbours: usize,
    /// Handshakes a neighbour's message 1 may start (responders) at once.
    pub max_responders: usize,
    /// Mesh datagrams waiting per neighbour for its handshake; beyond, the
    /// oldest is dropped.
    pub max_queued: usize,
    /// The first attempt's wait for message 2 (initiator) or message 3
    /// (responder), ms; each later attempt waits twice as long.
    pub handshake_timeout_ms: u64,
    /// Handshake attempts before the neighbour is given up.
    pub max_attempts: u32,
    /// How long a neighbour whose handshake failed is not tried again, ms.
    pub hold_down_ms: u64,
    /// Records in a row that fail to open before the session is replaced.
    pub max_open_failures: u32,
    /// How long a static key binding is valid, ms.
    pub binding_lifetime_ms: u64,
    /// Hop acknowledgements the engine can route: the last unicast
    /// datagrams received, by `(destination, message_id)`.
    pub max_acknowledged: usize,
    /// Addresses pinned to hop ids (learnt from verified announces).
    pub max_pins: usize,
}

impl Default for PqLinkConfig {
    fn default() -> Self {
        PqLinkConfig {
            max_neighbours: 32,
            max_responders: 4,
            max_queued: 16,
            handshake_timeout_ms: 20_000,
            max_attempts: 4,
            hold_down_ms: 60_000,
            max_open_failures: 3,
            binding_lifetime_ms: 30 * DAY_MS,
            max_acknowledged: 256,
            max_pins: 1024,
        }
    }
}

/// Which side of the handshake this node was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It sent message 1.
    Initiator,
    /// It answered message 1.
    Responder,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PqLinkEvent {
    /// A handshake completed: unicast datagrams to the neighbour now travel
    /// inside pqXX.
    Established {
        /// The authenticated neighbour.
        peer: Address,
        /// This node's role.
        role: Role,
        /// The attempt that completed (1 = the first).
        attempt: u32,
        /// From the attempt's first message to its end, ms.
        took_ms: u64,
        /// The lengths of messages 1, 2 and 3 as link datagrams, bytes.
        message_lens: [usize; 3],
    },
    /// Every attempt failed; the neighbour is held down and its queued
    /// datagrams are dropped.
    Failed {
        /// The neighbour.
        neighbour: HopId,
        /// The last attempt's error class (`timeout` if nothing came back).
        class: &'static str,
        /// Mesh datagrams dropped.
        dropped: usize,
    },
}

/// A session, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The neighbour's hop id.
    pub neighbour: HopId,
    /// Its authenticated address.
    pub peer: Address,
    /// When the session started, ms.
    pub since_ms: u64,
    /// Records sealed and opened.
    pub records_out: u64,
    /// Records opened.
    pub records_in: u64,
}

enum Handshake {
    Initiating(Box<Initiator>),
    Responding(Box<Responder>),
}

struct Pending {
    /// `None` once the attempt failed before its deadline.
    handshake: Option<Handshake>,
    role: Role,
    started_ms: u64,
    deadline_ms: u64,
    /// Link datagram lengths of messages 1, 2 and 3 so far.
    message_lens: [usize; 3],
    last_error: &'static str,
}

struct Established {
    transport: DatagramTransport,
    peer: Address,
    since_ms: u64,
    open_failures: u32,
    records_out: u64,
    records_in: u64,
}

#[derive(Default)]
struct Neighbour {
    session: Option<Established>,
    pending: Option<Pending>,
    queue: VecDeque<Bytes>,
    /// Initiator attempts since the last session (0 = none yet).
    attempts: u32,
    hold_until_ms: u64,
    last_active_ms: u64,
    /// When a handshake was last started because records did not open.
    resynchronised_ms: Option<u64>,
}

/// The engine for one radio.
pub struct PqLink {
    identity: Identity,
    local: LocalStatic,
    binding_not_after_ms: u64,
    own: HopId,
    config: PqLinkConfig,
    neighbours: BTreeMap<HopId, Neighbour>,
    pins: BTreeMap<HopId, Address>,
    acknowledged: VecDeque<((Address, u32), HopId)>,
    transmits: VecDeque<(Priority, Bytes)>,
    events: VecDeque<PqLinkEvent>,
}

impl core::fmt::Debug for PqLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PqLink")
            .field("own", &self.own)
            .field("neighbours", &self.neighbours.len())
            .finish_non_exhaustive()
    }
}

fn hex_hop(h: &HopId) -> String {
    hex::encode(h.0)
}

fn header_of(datagram: &Bytes) -> Option<Header> {
    Header::decode(&mut Reader::new(datagram.clone())).ok()
}

impl PqLink {
    /// An engine for `identity` (a fresh static key bound to it from
    /// `now`).
    pub fn new(
        identity: &Identity,
        config: PqLinkConfig,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<PqLink> {
        let identity = Identity::from_secret_bytes(identity.to_secret_bytes().as_ref())?;
        let not_after = now.saturating_add(config.binding_lifetime_ms);
        Ok(PqLink {
            local: LocalStatic::generate(&identity, not_after, rng),
            binding_not_after_ms: not_after,
            own: HopId::of(&identity.public().address()),
            identity,
            config,
            neighbours: BTreeMap::new(),
            pins: BTreeMap::new(),
            acknowledged: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// Pins `address` to its hop id: a handshake with that hop id must
    /// authenticate exactly this address (call it for every address whose
    /// announce the mesh verified).
    pub fn learn(&mut self, address: Address) {
        let hop = HopId::of(&address);
        if !self.pins.contains_key(&hop) && self.pins.len() >= self.config.max_pins {
            self.pins.pop_first();
        }
        self.pins.insert(hop, address);
    }

    /// Takes a mesh datagram the engine wants on the radio: in the clear if
    /// it is for everyone, else sealed to its neighbour (or queued while
    /// their handshake runs).
    pub fn send(&mut self, datagram: Bytes, now: u64, rng: &mut impl CryptoRng) -> Result<()> {
        let header = header_of(&datagram).ok_or(Error::Malformed {
            what: "mesh datagram",
            reason: "no envelope header",
        })?;
        match addressing(&header) {
            Addressing::Everyone => {
                self.transmits.push_back((priority_of(&datagram), datagram));
                Ok(())
            }
            Addressing::Neighbour(hop) => self.seal_to(hop, datagram, now, rng),
            Addressing::Acknowledgement {
                destination,
                message_id,
            } => {
                let key = (destination, message_id);
                let hop = self
                    .acknowledged
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == key)
                    .map(|(_, hop)| *hop)
                    .ok_or_else(|| {
                        Error::UnknownSession("a hop ack for a message no neighbour sent".into())
                    })?;
                self.seal_to(hop, datagram, now, rng)
            }
        }
    }

    /// Takes a link datagram the radio heard: the mesh datagram it carries
    /// for this node, if any. Refused input leaves sessions as they were.
    pub fn receive(
        &mut self,
        datagram: Bytes,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Bytes>> {
        if datagram.first() != Some(&SECURED_KIND) {
            return match header_of(&datagram).map(|h| addressing(&h)) {
                None | Some(Addressing::Everyone) => Ok(Some(datagram)),
                Some(_) => Err(Error::Unprotected("a unicast mesh datagram")),
            };
        }
        let len = datagram.len();
        let secured = SecuredDatagram::decode(datagram)?;
        if secured.receiver != self.own || secured.sender == self.own {
            return Ok(None);
        }
        let hop = secured.sender;
        match secured.frame_type {
            FrameType::PqxxMessage1 => self.on_message_1(hop, &secured.body, len, now, rng),
            FrameType::PqxxMessage2 => self.on_message_2(hop, &secured.body, len, now),
            FrameType::PqxxMessage3 => self.on_message_3(hop, &secured.body, len, now),
            _ => return self.on_record(hop, &secured.body, now, rng),
        }?;
        Ok(None)
    }

    /// Runs the handshake timers: retries and give-ups.
    pub fn handle_timeout(&mut self, now: u64, rng: &mut impl CryptoRng) {
        let due: Vec<HopId> = self
            .neighbours
            .iter()
            .filter(|(_, n)| n.pending.as_ref().is_some_and(|p| p.deadline_ms <= now))
            .map(|(hop, _)| *hop)
            .collect();
        for hop in due {
            self.expire(hop, now, rng);
        }
    }

    /// When to call [`PqLink::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.neighbours
            .values()
            .filter_map(|n| n.pending.as_ref().map(|p| p.deadline_ms))
            .min()
    }

    /// The next link datagram for the radio, with its queue priority.
    pub fn poll_transmit(&mut self) -> Option<(Priority, Bytes)> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<PqLinkEvent> {
        self.events.pop_front()
    }

    /// The sessions up now.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.neighbours
            .iter()
            .filter_map(|(hop, n)| {
                n.session.as_ref().map(|s| SessionInfo {
                    neighbour: *hop,
                    peer: s.peer,
                    since_ms: s.since_ms,
                    records_out: s.records_out,
                    records_in: s.records_in,
                })
            })
            .collect()
    }

    /// The neighbour's state, made if new (beyond the bound, forgetting the
    /// least recently active one without a session, else the least
    /// recently active one: strangers' handshakes cannot push out
    /// sessions while a stranger's state remains).
    fn neighbour(&mut self, hop: HopId, now: u64) -> &mut Neighbour {
        if !self.neighbours.contains_key(&hop)
            && self.neighbours.len() >= self.config.max_neighbours
        {
            if let Some(oldest) = self
                .neighbours
                .iter()
                .min_by_key(|(_, n)| (n.session.is_some(), n.last_active_ms))
                .map(|(h, _)| *h)
            {
                self.neighbours.remove(&oldest);
            }
        }
        let n = self.neighbours.entry(hop).or_default();
        n.last_active_ms = now;
        n
    }

    /// The handshake with `hop`, this node being `role`: the prologue
    /// context names both ends (§15.3), the policy pins the peer to `hop`
    /// and, once its announce was verified, to its address.
    fn handshake_config(&self, hop: HopId, role: Role) -> HandshakeConfig {
        let pinned = self.pins.get(&hop).copied();
        let (initiator, responder) = match role {
            Role::Initiator => (self.own, hop),
            Role::Responder => (hop, self.own),
        };
        let mut context = CONTEXT_LABEL.to_vec();
        context.extend_from_slice(&initiator.0);
        context.extend_from_slice(&responder.0);
        HandshakeConfig {
            context,
            accept_peer: Arc::new(move |peer| {
                HopId::of(&peer.address) == hop && pinned.is_none_or(|a| a == peer.address)
            }),
            ..HandshakeConfig::default()
        }
    }

    fn secured(&self, hop: HopId, frame_type: FrameType, body: Vec<u8>) -> Result<Bytes> {
        SecuredDatagram {
            receiver: hop,
            sender: self.own,
            frame_type,
            body: Bytes::from(body),
        }
        .to_bytes()
    }

    fn seal_to(
        &mut self,
        hop: HopId,
        datagram: Bytes,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let max_queued = self.config.max_queued;
        let n = self.neighbour(hop, now);
        if let Some(session) = &mut n.session {
            let mut record = Vec::new();
            match session.transport.seal(now, &datagram, &mut record) {
                Ok(()) => {
                    session.records_out += 1;
                    let bytes = self.secured(hop, FrameType::PqxxDatagram, record)?;
                    self.transmits.push_back((priority_of(&datagram), bytes));
                    return Ok(());
                }
                // The nonce space is used up: a new handshake replaces it.
                Err(_) => n.session = None,
            }
        }
        if now < n.hold_until_ms {
            return Err(Error::Timeout(format!(
                "neighbour {} is held down after a failed pqXX handshake",
                hex_hop(&hop)
            )));
        }
        if n.queue.len() >= max_queued {
            n.queue.pop_front();
        }
        n.queue.push_back(datagram);
        if n.pending.is_none() {
            n.attempts = 0;
            self.start_initiator(hop, now, rng)?;
        }
        Ok(())
    }

    /// A new static key when less than a day of the binding remains.
    fn renew_binding(&mut self, now: u64, rng: &mut impl CryptoRng) {
        if now.saturating_add(DAY_MS) > self.binding_not_after_ms {
            self.binding_not_after_ms = now.saturating_add(self.config.binding_lifetime_ms);
            self.local = LocalStatic::generate(&self.identity, self.binding_not_after_ms, rng);
        }
    }

    /// Starts the next initiator attempt toward `hop`.
    fn start_initiator(&mut self, hop: HopId, now: u64, rng: &mut impl CryptoRng) -> Result<()> {
        self.renew_binding(now, rng);
        let mut initiator = Initiator::new(
            &self.local,
            self.handshake_config(hop, Role::Initiator),
            rng,
        )?;
        let message = initiator.write_message_1(&[])?;
        let bytes = self.secured(hop, FrameType::PqxxMessage1, message)?;
        let timeout = self.config.handshake_timeout_ms;
        let n = self.neighbour(hop, now);
        n.attempts += 1;
        n.pending = Some(Pending {
            handshake: Some(Handshake::Initiating(Box::new(initiator))),
            role: Role::Initiator,
            started_ms: now,
            deadline_ms: now.saturating_add(timeout << (n.attempts - 1).min(16)),
            message_lens: [bytes.len(), 0, 0],
            last_error: "timeout",
        });
        self.transmits.push_back((Priority::Control, bytes));
        Ok(())
    }

    fn on_message_1(
        &mut self,
        hop: HopId,
        body: &[u8],
        len: usize,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let (initiating, responding) =
            match self.neighbours.get(&hop).and_then(|n| n.pending.as_ref()) {
                Some(p) => (p.role == Role::Initiator, p.role == Role::Responder),
                None => (false, false),
            };
        // Both sides started at once: the lower hop id stays the initiator.
        if initiating && self.own < hop {
            return Ok(());
        }
        let responders = self
            .neighbours
            .values()
            .filter(|n| {
                n.pending
                    .as_ref()
                    .is_some_and(|p| p.role == Role::Responder)
            })
            .count();
        if !responding && responders >= self.config.max_responders {
            return Err(Error::Full("pqXX handshakes in progress"));
        }
        self.renew_binding(now, rng);
        let mut responder = Responder::new(
            &self.local,
            self.handshake_config(hop, Role::Responder),
            rng,
        )?;
        responder.read_message_1(body)?;
        let message = responder.write_message_2(&[])?;
        let bytes = self.secured(hop, FrameType::PqxxMessage2, message)?;
        let timeout = self.config.handshake_timeout_ms;
        let n = self.neighbour(hop, now);
        n.pending = Some(Pending {
            handshake: Some(Handshake::Responding(Box::new(responder))),
            role: Role::Responder,
            started_ms: now,
            deadline_ms: now.saturating_add(timeout),
            message_lens: [len, bytes.len(), 0],
            last_error: "timeout",
        });
        self.transmits.push_back((Priority::Control, bytes));
        Ok(())
    }

    /// The pending handshake of `hop` if it is an initiator (`role`) still
    /// alive, taken out; its bookkeeping stays.
    fn take_handshake(&mut self, hop: HopId, role: Role) -> Option<Handshake> {
        let pending = self.neighbours.get_mut(&hop)?.pending.as_mut()?;
        if pending.role != role {
            return None;
        }
        pending.handshake.take()
    }

    /// Records that the pending attempt of `hop` failed with `e`; it is
    /// retried (or given up) at its deadline.
    fn attempt_failed(&mut self, hop: HopId, e: Error) -> Error {
        if let Some(p) = self
            .neighbours
            .get_mut(&hop)
            .and_then(|n| n.pending.as_mut())
        {
            p.last_error = e.class();
        }
        e
    }

    fn on_message_2(&mut self, hop: HopId, body: &[u8], len: usize, now: u64) -> Result<()> {
        let Some(Handshake::Initiating(mut initiator)) = self.take_handshake(hop, Role::Initiator)
        else {
            return Ok(());
        };
        let finished = initiator
            .read_message_2(now, body)
            .and_then(|_| initiator.write_message_3(&[]));
        let (message, session) = finished.map_err(|e| self.attempt_failed(hop, e.into()))?;
        let bytes = self.secured(hop, FrameType::PqxxMessage3, message)?;
        let sent = bytes.len();
        self.transmits.push_back((Priority::Control, bytes));
        self.establish(hop, session, [len, sent], now)
    }

    fn on_message_3(&mut self, hop: HopId, body: &[u8], len: usize, now: u64) -> Result<()> {
        let Some(Handshake::Responding(responder)) = self.take_handshake(hop, Role::Responder)
        else {
            return Ok(());
        };
        let (session, _) = responder
            .read_message_3(now, body)
            .map_err(|e| self.attempt_failed(hop, e.into()))?;
        self.establish(hop, session, [0, len], now)
    }

    /// The handshake with `hop` finished (`last_lens`: the lengths of
    /// messages 2 and 3 this side learnt last, 0 if known already): the
    /// session replaces any older one, and the queued datagrams go out
    /// sealed.
    fn establish(
        &mut self,
        hop: HopId,
        session: Session,
        last_lens: [usize; 2],
        now: u64,
    ) -> Result<()> {
        if session.mode() != Mode::PostQuantum {
            return Err(Error::Downgrade);
        }
        let peer = session.peer().address;
        let transport = session.into_datagram(TransportConfig::default(), now)?;
        let n = self.neighbour(hop, now);
        let Some(pending) = n.pending.take() else {
            return Ok(());
        };
        let attempt = n.attempts.max(1);
        n.attempts = 0;
        n.session = Some(Established {
            transport,
            peer,
            since_ms: now,
            open_failures: 0,
            records_out: 0,
            records_in: 0,
        });
        let queued: Vec<Bytes> = n.queue.drain(..).collect();
        self.events.push_back(PqLinkEvent::Established {
            peer,
            role: pending.role,
            attempt,
            took_ms: now.saturating_sub(pending.started_ms),
            message_lens: [
                pending.message_lens[0],
                pending.message_lens[1].max(last_lens[0]),
                pending.message_lens[2].max(last_lens[1]),
            ],
        });
        for datagram in queued {
            let mut record = Vec::new();
            if let Some(s) = self
                .neighbours
                .get_mut(&hop)
                .and_then(|n| n.session.as_mut())
            {
                s.transport.seal(now, &datagram, &mut record)?;
                s.records_out += 1;
            }
            let bytes = self.secured(hop, FrameType::PqxxDatagram, record)?;
            self.transmits.push_back((priority_of(&datagram), bytes));
        }
        Ok(())
    }

    fn on_record(
        &mut self,
        hop: HopId,
        record: &[u8],
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Bytes>> {
        let Some(session) = self
            .neighbours
            .get_mut(&hop)
            .and_then(|n| n.session.as_mut())
        else {
            self.resynchronise(hop, now, rng);
            return Err(Error::UnknownSession(hex_hop(&hop)));
        };
        let mut out = Vec::new();
        if let Err(e) = session.transport.open(record, &mut out) {
            if e.class() == "open_failed" {
                session.open_failures += 1;
                if session.open_failures >= self.config.max_open_failures {
                    self.resynchronise(hop, now, rng);
                }
            }
            return Err(e.into());
        }
        session.open_failures = 0;
        session.records_in += 1;
        let datagram = Bytes::from(out);
        // Every unicast datagram is remembered, not only the types that
        // take custody today: a HopAck answers whatever the mesh stored.
        if let Some(h) = header_of(&datagram) {
            if self.acknowledged.len() >= self.config.max_acknowledged {
                self.acknowledged.pop_front();
            }
            self.acknowledged
                .push_back(((h.destination, h.message_id), hop));
        }
        self.neighbour(hop, now);
        Ok(Some(datagram))
    }

    /// `hop` sends records this node cannot open (it lost its session, or
    /// the two hold different ones): start a new handshake, if `hop` is a
    /// pinned neighbour, none runs, it is not held down, and the last
    /// resynchronisation is at least `hold_down_ms` old (so that forged
    /// records cannot make the node spend airtime on handshakes).
    fn resynchronise(&mut self, hop: HopId, now: u64, rng: &mut impl CryptoRng) {
        if !self.pins.contains_key(&hop) {
            return;
        }
        let hold_down = self.config.hold_down_ms;
        let n = self.neighbour(hop, now);
        let recent = n
            .resynchronised_ms
            .is_some_and(|t| now.saturating_sub(t) < hold_down);
        if n.pending.is_some() || now < n.hold_until_ms || recent {
            return;
        }
        n.resynchronised_ms = Some(now);
        n.session = None;
        n.attempts = 0;
        if let Err(e) = self.start_initiator(hop, now, rng) {
            tracing::warn!(class = e.class(), "pqXX handshake not started: {e}");
        }
    }

    /// The pending handshake of `hop` reached its deadline.
    fn expire(&mut self, hop: HopId, now: u64, rng: &mut impl CryptoRng) {
        let (max_attempts, hold_down) = (self.config.max_attempts, self.config.hold_down_ms);
        let n = self.neighbour(hop, now);
        let Some(pending) = n.pending.take() else {
            return;
        };
        let retry = match pending.role {
            Role::Initiator => n.attempts < max_attempts,
            Role::Responder => !n.queue.is_empty(),
        };
        if retry {
            if pending.role == Role::Responder {
                n.attempts = 0;
            }
            if let Err(e) = self.start_initiator(hop, now, rng) {
                tracing::warn!(class = e.class(), "pqXX handshake not started: {e}");
            }
            return;
        }
        if pending.role == Role::Responder {
            if n.session.is_none() {
                self.neighbours.remove(&hop);
            }
            return;
        }
        let dropped = n.queue.len();
        n.queue.clear();
        n.attempts = 0;
        n.hold_until_ms = now.saturating_add(hold_down);
        self.events.push_back(PqLinkEvent::Failed {
            neighbour: hop,
            class: pending.last_error,
            dropped,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::secured::HANDSHAKE_DATAGRAM_LENS;
    use qpc_mesh::envelope::MessageType;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    struct Side {
        link: PqLink,
        address: Address,
    }

    fn side(seed: u8, rng: &mut ChaCha20Rng) -> Side {
        let identity = Identity::from_seeds(&[seed; 32], &[seed ^ 0x55; 32]);
        Side {
            address: identity.public().address(),
            link: PqLink::new(&identity, PqLinkConfig::default(), 0, rng).unwrap(),
        }
    }

    /// Two neighbours that heard each other's announces.
    fn pair(rng: &mut ChaCha20Rng) -> (Side, Side) {
        let (mut a, mut b) = (side(1, rng), side(2, rng));
        a.link.learn(b.address);
        b.link.learn(a.address);
        (a, b)
    }

    fn datagram(message_type: MessageType, next_hop: Option<&Address>, body: &[u8]) -> Bytes {
        let header = Header {
            message_type,
            hop_count: 0,
            hop_limit: 8,
            destination: Address::from_bytes([9; 16]),
            message_id: 77,
            hop_id: next_hop.map(HopId::of),
        };
        let mut out = Vec::new();
        header.encode(&mut out).unwrap();
        out.extend_from_slice(body);
        Bytes::from(out)
    }

    /// Moves every transmit of `from` to `to`; what `to` delivered.
    fn carry(
        from: &mut Side,
        to: &mut Side,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) -> Vec<Result<Bytes>> {
        let mut delivered = Vec::new();
        while let Some((_, bytes)) = from.link.poll_transmit() {
            if let Some(r) = to.link.receive(bytes, now, rng).transpose() {
                delivered.push(r);
            }
        }
        delivered
    }

    fn handshake(
        a: &mut Side,
        b: &mut Side,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) -> Vec<Result<Bytes>> {
        let mut delivered = Vec::new();
        for _ in 0..3 {
            delivered.extend(carry(a, b, now, rng));
            delivered.extend(carry(b, a, now, rng));
        }
        delivered
    }

    #[test]
    fn a_unicast_datagram_crosses_inside_pqxx() {
        let rng = &mut ChaCha20Rng::seed_from_u64(1);
        let (mut a, mut b) = pair(rng);
        let sealed = datagram(MessageType::Sealed, Some(&b.address), b"secret body");
        a.link.send(sealed.clone(), 10, rng).unwrap();
        let (_, message_1) = a.link.poll_transmit().unwrap();
        assert_eq!(message_1.len(), HANDSHAKE_DATAGRAM_LENS[0]);
        assert!(b.link.receive(message_1, 10, rng).unwrap().is_none());
        let delivered = handshake(&mut b, &mut a, 20, rng);
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].as_ref().unwrap(), &sealed);
        for side in [&mut a, &mut b] {
            match side.link.poll_event() {
                Some(PqLinkEvent::Established {
                    message_lens,
                    attempt,
                    ..
                }) => {
                    assert_eq!(message_lens, HANDSHAKE_DATAGRAM_LENS);
                    assert_eq!(attempt, 1);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(a.link.sessions()[0].peer, b.address);
        assert_eq!(b.link.sessions()[0].peer, a.address);
        // The next datagram goes out at once, as one record.
        a.link.send(sealed.clone(), 30, rng).unwrap();
        let (_, record) = a.link.poll_transmit().unwrap();
        assert_eq!(
            record.len(),
            sealed.len() + crate::lora::secured::RECORD_OVERHEAD
        );
        assert!(!record.windows(11).any(|w| w == b"secret body"));
        let mut tampered = record.to_vec();
        *tampered.last_mut().unwrap() ^= 1;
        let refused = b.link.receive(Bytes::from(tampered), 30, rng).unwrap_err();
        assert_eq!(refused.class(), "open_failed");
        assert_eq!(
            b.link.receive(record.clone(), 30, rng).unwrap().unwrap(),
            sealed
        );
        assert_eq!(
            b.link.receive(record, 30, rng).unwrap_err().class(),
            "replayed"
        );
        // The hop ack for it goes back to A inside pqXX too.
        let ack = datagram(MessageType::HopAck, Some(&b.address), b"");
        b.link.send(ack.clone(), 31, rng).unwrap();
        assert_eq!(carry(&mut b, &mut a, 31, rng)[0].as_ref().unwrap(), &ack);
    }

    #[test]
    fn broadcasts_stay_clear_and_clear_unicast_is_refused() {
        let rng = &mut ChaCha20Rng::seed_from_u64(2);
        let (mut a, mut b) = pair(rng);
        let announce = datagram(MessageType::Announce, None, &[0; 130]);
        a.link.send(announce.clone(), 0, rng).unwrap();
        let (priority, bytes) = a.link.poll_transmit().unwrap();
        assert_eq!((priority, &bytes), (Priority::Announce, &announce));
        assert_eq!(b.link.receive(bytes, 0, rng).unwrap().unwrap(), announce);
        let flood = datagram(MessageType::KeyRequest, None, &[0; 8]);
        assert_eq!(
            b.link.receive(flood.clone(), 0, rng).unwrap().unwrap(),
            flood
        );
        for clear in [
            datagram(MessageType::Sealed, Some(&b.address), b"x"),
            datagram(MessageType::HopAck, Some(&a.address), b""),
        ] {
            assert_eq!(
                b.link.receive(clear, 0, rng).unwrap_err().class(),
                "downgrade"
            );
        }
        let ack = datagram(MessageType::HopAck, Some(&a.address), b"");
        assert_eq!(
            a.link.send(ack, 0, rng).unwrap_err().class(),
            "unknown_session"
        );
    }

    #[test]
    fn a_peer_not_matching_the_pin_is_refused_then_given_up() {
        let rng = &mut ChaCha20Rng::seed_from_u64(3);
        let (mut a, mut b) = pair(rng);
        let mut impostor = *b.address.as_bytes();
        impostor[15] ^= 1;
        a.link.learn(Address::from_bytes(impostor));
        a.link
            .send(
                datagram(MessageType::Sealed, Some(&b.address), b"x"),
                0,
                rng,
            )
            .unwrap();
        let mut now = 0;
        for attempt in 1..=4 {
            let errors = handshake(&mut a, &mut b, now, rng);
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].as_ref().unwrap_err().class(), "peer_rejected");
            assert!(a.link.sessions().is_empty(), "attempt {attempt}");
            now = a.link.poll_timeout().unwrap();
            a.link.handle_timeout(now, rng);
        }
        assert_eq!(
            a.link.poll_event(),
            Some(PqLinkEvent::Failed {
                neighbour: HopId::of(&b.address),
                class: "peer_rejected",
                dropped: 1
            })
        );
        let held = a.link.send(
            datagram(MessageType::Sealed, Some(&b.address), b"x"),
            now,
            rng,
        );
        assert_eq!(held.unwrap_err().class(), "timeout");
    }

    #[test]
    fn the_binding_is_renewed_before_it_expires() {
        let rng = &mut ChaCha20Rng::seed_from_u64(6);
        let (mut a, mut b) = pair(rng);
        let late = PqLinkConfig::default().binding_lifetime_ms - DAY_MS + 1;
        let sealed = datagram(MessageType::Sealed, Some(&b.address), b"late");
        a.link.send(sealed.clone(), late, rng).unwrap();
        assert!(a.link.binding_not_after_ms > late + DAY_MS);
        let delivered = handshake(&mut a, &mut b, late, rng);
        assert_eq!(delivered[0].as_ref().unwrap(), &sealed);
    }

    #[test]
    fn silence_is_retried_with_backoff_then_a_timeout() {
        let rng = &mut ChaCha20Rng::seed_from_u64(4);
        let (mut a, b) = pair(rng);
        a.link
            .send(
                datagram(MessageType::Sealed, Some(&b.address), b"x"),
                0,
                rng,
            )
            .unwrap();
        let mut deadlines = Vec::new();
        while let Some(t) = a.link.poll_timeout() {
            assert!(a
                .link
                .poll_transmit()
                .is_some_and(|(p, _)| p == Priority::Control));
            deadlines.push(t);
            a.link.handle_timeout(t, rng);
        }
        assert_eq!(deadlines, [20_000, 60_000, 140_000, 300_000]);
        assert!(matches!(
            a.link.poll_event(),
            Some(PqLinkEvent::Failed {
                class: "timeout",
                dropped: 1,
                ..
            })
        ));
    }

    #[test]
    fn simultaneous_handshakes_and_a_restart_converge() {
        let rng = &mut ChaCha20Rng::seed_from_u64(5);
        let (mut a, mut b) = pair(rng);
        let to_b = datagram(MessageType::Sealed, Some(&b.address), b"to b");
        let to_a = datagram(MessageType::Sealed, Some(&a.address), b"to a");
        a.link.send(to_b.clone(), 0, rng).unwrap();
        b.link.send(to_a.clone(), 0, rng).unwrap();
        let delivered: Vec<Bytes> = handshake(&mut a, &mut b, 0, rng)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(delivered.len(), 2);
        assert!(delivered.contains(&to_a) && delivered.contains(&to_b));
        // B restarts: it has no session, answers A's record by starting a
        // new handshake, and A's next datagram goes through it.
        b = Side {
            link: PqLink::new(
                &Identity::from_seeds(&[2; 32], &[2 ^ 0x55; 32]),
                PqLinkConfig::default(),
                1,
                rng,
            )
            .unwrap(),
            address: b.address,
        };
        b.link.learn(a.address);
        a.link.send(to_b.clone(), 1, rng).unwrap();
        let lost = carry(&mut a, &mut b, 1, rng);
        assert_eq!(lost[0].as_ref().unwrap_err().class(), "unknown_session");
        handshake(&mut b, &mut a, 2, rng);
        a.link.send(to_b.clone(), 3, rng).unwrap();
        assert_eq!(carry(&mut a, &mut b, 3, rng)[0].as_ref().unwrap(), &to_b);
    }
}
