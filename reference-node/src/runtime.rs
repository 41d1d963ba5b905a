//! The driver task (`spec/30-reference-node.md` §2): it owns the sans-IO
//! [`MeshNode`] and the radio's [`LoraLink`], feeds them every input with
//! the system clock and OS randomness, commits each step to the store and
//! only then lets the step's transmits and control replies out.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity, PublicIdentity};
use qpc_crypto::sealed_sender::ReceiverConfig;
use qpc_mesh::delivery::RetryPolicy;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::frame::{FRAGMENT_HEADER_LEN, WHOLE_HEADER_LEN};
use qpc_mesh::lora::link::{LoraLink, LoraLinkConfig};
use qpc_mesh::lora::profile::LinkProfile;
use qpc_mesh::node::{Event, LinkConfig, MeshNode, MessageHandle, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use qpc_mesh::store::StoreConfig;
use rand::rngs::StdRng;
use rand_core::Rng;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::{decode_hex, Config};
use crate::control::Request;
use crate::error::{Error, Result};
use crate::fapp::Fapp;
use crate::identity::{community_credentials, os_rng};
use crate::lora::pqlink::{PqLink, PqLinkConfig, PqLinkEvent, Role};
use crate::lora::secured::{HANDSHAKE_DATAGRAM_LENS, RECORD_OVERHEAD};
use crate::lora::RadioCounters;
use crate::store::{InboxRecord, MessageState, OutboxRecord, Step, Store};

/// The radio's link id.
pub const LORA_LINK: LinkId = LinkId(1000);
/// A QUIC link's MTU (§6).
pub const QUIC_MTU: usize = 16_384;
/// Inputs handled in one step at most.
pub const MAX_INPUTS_PER_STEP: usize = 256;
/// How often a key request for a waiting message is sent again, ms.
pub const KEY_RETRY_MS: u64 = 5_000;
/// The first announce goes out within this many ms of start-up.
pub const FIRST_ANNOUNCE_JITTER_MS: u64 = 1_500;
/// Longest `send` content.
pub const MAX_CONTENT_LEN: usize = 65_536;
/// Most inbox rows in one `inbox` answer.
pub const MAX_INBOX_ANSWER: usize = 1_000;
/// Completed LoRa link handshakes `status` lists (the latest).
pub const MAX_HANDSHAKES_LISTED: usize = 16;

/// The link of QUIC peer `index` (its position in the configuration).
pub fn quic_link(index: usize) -> LinkId {
    LinkId(1 + index as u16)
}

/// The current Unix time, ms.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where the driver writes one connection's datagrams.
#[derive(Debug)]
pub struct LinkWriter {
    /// The connection, to tell a stale `LinkDown` from the current one.
    pub id: u64,
    /// The connection's write queue.
    pub tx: mpsc::Sender<Bytes>,
}

/// Everything the driver is told.
#[derive(Debug)]
pub enum Input {
    /// A mesh datagram from a QUIC link.
    Datagram {
        /// The link.
        link: LinkId,
        /// The datagram.
        bytes: Bytes,
    },
    /// A link frame the radio heard.
    RadioFrame {
        /// What the radio knows of the transmitter.
        source: u32,
        /// The frame.
        frame: Bytes,
    },
    /// A QUIC connection to a pinned peer is up.
    LinkUp {
        /// The peer's link.
        link: LinkId,
        /// Its writer.
        writer: LinkWriter,
    },
    /// A QUIC connection closed.
    LinkDown {
        /// The peer's link.
        link: LinkId,
        /// The connection.
        id: u64,
    },
    /// A control API request.
    Control {
        /// The request.
        request: Request,
        /// Where the answer goes.
        reply: oneshot::Sender<Value>,
    },
}

/// The driver's handle on the radio.
#[derive(Debug)]
pub struct Radio {
    /// The radio's link engine.
    pub link: LoraLink,
    /// pqXX with the radio's neighbours (§15).
    pub secure: PqLink,
    /// The radio task's frame queue.
    pub tx: mpsc::Sender<Bytes>,
    /// The radio task's counters.
    pub counters: Arc<RadioCounters>,
    /// The radio profile.
    pub profile: LinkProfile,
}

/// Per-link counters, for `status`.
#[derive(Debug, Default, Clone)]
struct LinkStats {
    datagrams_in: u64,
    datagrams_out: u64,
    bytes_in: u64,
    bytes_out: u64,
}

/// The driver.
#[derive(Debug)]
pub struct Driver {
    mesh: MeshNode,
    fapp: Fapp,
    store: Store,
    rng: StdRng,
    radio: Option<Radio>,
    peers: Vec<Address>,
    writers: BTreeMap<LinkId, LinkWriter>,
    stats: BTreeMap<LinkId, LinkStats>,
    identities: BTreeMap<Address, PublicIdentity>,
    outbox: BTreeMap<u64, OutboxRecord>,
    by_handle: BTreeMap<MessageHandle, u64>,
    destinations: BTreeSet<Address>,
    next_id: u64,
    max_outstanding: usize,
    announce_interval_ms: u64,
    next_announce: u64,
    next_key_retry: u64,
    started_ms: u64,
    handshakes: std::collections::VecDeque<Value>,
    local_addresses: Value,
    step: Step,
    dirty: bool,
    replies: Vec<(oneshot::Sender<Value>, Value)>,
    shutdown: bool,
}

fn node_config(config: &Config) -> NodeConfig {
    let m = &config.mesh;
    let defaults = NodeConfig::default();
    NodeConfig {
        max_outstanding: m.max_outstanding,
        hop_ack_timeout_ms: m.hop_ack_timeout_ms,
        path_retry_ms: m.path_retry_ms,
        retry: RetryPolicy {
            first_timeout_ms: m.retry_first_ms,
            max_timeout_ms: m.retry_first_ms.saturating_mul(16),
            ..defaults.retry
        },
        store: StoreConfig {
            max_messages: m.store_max_messages,
            max_per_destination: m.store_max_messages,
            max_bytes: m.store_max_bytes,
            ..defaults.store
        },
        ..defaults
    }
}

fn error_reply(e: &Error) -> Value {
    json!({"ok": false, "error": {"class": e.class(), "message": e.to_string()}})
}

fn hex_address(address: &Address) -> String {
    hex::encode(address.as_bytes())
}

impl Driver {
    /// A driver for `identity`, restored from the store's last state if
    /// there is one.
    pub fn new(
        config: &Config,
        store: Store,
        identity: Identity,
        radio: Option<Radio>,
    ) -> Result<Driver> {
        let mut rng = os_rng()?;
        let public = identity.public().clone();
        let identity_copy = Identity::from_secret_bytes(&identity.to_secret_bytes()[..])?;
        let node_config = node_config(config);
        let mut mesh = match store.mesh_state()? {
            Some(state) => MeshNode::restore(identity, node_config, &state, &mut rng)?,
            None => MeshNode::new(identity, node_config, 0, &mut rng)?,
        };
        let (certificate, root) = community_credentials(&public, &config.issuer_seed()?);
        mesh.enable_messaging(certificate, vec![root], ReceiverConfig::default())?;
        let now = now_ms();
        let fapp = Fapp::new(config, &store, &identity_copy, &mesh, now)?;
        let peers = config.peer_addresses()?;
        for index in 0..peers.len() {
            let link = LinkConfig {
                mtu: QUIC_MTU,
                cost: 1,
                budget: AirtimeBudget::two_percent(100_000_000),
                shared: false,
            };
            mesh.add_link(quic_link(index), link, now)?;
        }
        if let Some(radio) = &radio {
            let mtu = radio.profile.mtu();
            let airtime = time_on_air_ns(radio.profile.radio(), mtu)?;
            let bitrate = (8 * mtu as u64 * 1_000_000_000 / airtime.max(1)).max(1);
            let link = LinkConfig {
                mtu: radio.link.max_datagram_len() - RECORD_OVERHEAD,
                cost: 4,
                budget: AirtimeBudget::two_percent(bitrate),
                shared: true,
            };
            mesh.add_link(LORA_LINK, link, now)?;
        }
        let jitter = u64::from(rng.next_u32()) % FIRST_ANNOUNCE_JITTER_MS;
        let outbox: BTreeMap<u64, OutboxRecord> = store.outbox()?.into_iter().collect();
        let by_handle = outbox
            .iter()
            .filter_map(|(id, r)| r.handle.map(|h| (MessageHandle(h), *id)))
            .collect();
        let identities = store
            .identities()?
            .into_iter()
            .map(|i| (i.address(), i))
            .collect();
        Ok(Driver {
            next_id: store.next_id()?,
            mesh,
            fapp,
            store,
            rng,
            radio,
            peers,
            writers: BTreeMap::new(),
            stats: BTreeMap::new(),
            identities,
            outbox,
            by_handle,
            destinations: BTreeSet::new(),
            max_outstanding: config.mesh.max_outstanding,
            announce_interval_ms: config.mesh.announce_interval_ms,
            next_announce: now + jitter,
            next_key_retry: now,
            started_ms: now,
            handshakes: std::collections::VecDeque::new(),
            local_addresses: json!({"quic": null, "radio": null}),
            step: Step::default(),
            dirty: true,
            replies: Vec::new(),
            shutdown: false,
        })
    }

    /// This node's address.
    pub fn address(&self) -> Address {
        self.mesh.address()
    }

    /// Where the QUIC endpoint and the emulated radio are bound (for
    /// `status`: a configuration may bind port 0).
    pub fn set_local_addresses(&mut self, quic: Option<SocketAddr>, radio: Option<SocketAddr>) {
        let text = |a: Option<SocketAddr>| a.map(|a| a.to_string());
        self.local_addresses = json!({"quic": text(quic), "radio": text(radio)});
    }

    /// Runs until `shutdown` or until every input sender is gone.
    pub async fn run(mut self, mut inputs: mpsc::Receiver<Input>) -> Result<()> {
        loop {
            let now = now_ms();
            self.on_time(now);
            self.finish_step(now)?;
            if self.shutdown {
                tracing::info!("shutting down");
                return Ok(());
            }
            let wait = self.next_wake(now).saturating_sub(now_ms());
            tokio::select! {
                input = inputs.recv() => {
                    let Some(input) = input else { return Ok(()) };
                    let now = now_ms();
                    self.handle(input, now);
                    for _ in 1..MAX_INPUTS_PER_STEP {
                        match inputs.try_recv() {
                            Ok(input) => self.handle(input, now),
                            Err(_) => break,
                        }
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
        }
    }

    fn next_wake(&self, now: u64) -> u64 {
        let mut wake = self.next_announce;
        for t in [self.mesh.poll_timeout(), self.fapp.poll_timeout()]
            .into_iter()
            .flatten()
        {
            wake = wake.min(t);
        }
        if let Some(radio) = &self.radio {
            for t in [radio.link.poll_timeout(now), radio.secure.poll_timeout()] {
                wake = t.map_or(wake, |t| wake.min(t));
            }
        }
        if self.awaiting_key().next().is_some() {
            wake = wake.min(self.next_key_retry);
        }
        wake.max(now)
    }

    fn on_time(&mut self, now: u64) {
        if self.mesh.poll_timeout().is_some_and(|t| t <= now) {
            self.mesh.handle_timeout(now);
            self.dirty = true;
        }
        if self.fapp.poll_timeout().is_some_and(|t| t <= now) {
            self.fapp.on_time(&mut self.mesh, now, &mut self.rng);
            self.dirty = true;
        }
        if let Some(radio) = &mut self.radio {
            if radio.link.poll_timeout(now).is_some_and(|t| t <= now) {
                radio.link.handle_timeout(now);
            }
            if radio.secure.poll_timeout().is_some_and(|t| t <= now) {
                radio.secure.handle_timeout(now, &mut self.rng);
            }
        }
        if now >= self.next_announce {
            self.announce(now);
        }
        if now >= self.next_key_retry {
            self.next_key_retry = now + KEY_RETRY_MS;
            let waiting: BTreeSet<Address> = self.awaiting_key().collect();
            for address in waiting {
                self.mesh.request_key(address, now);
                self.dirty = true;
            }
        }
    }

    fn announce(&mut self, now: u64) {
        if let Err(e) = self.mesh.announce(now) {
            tracing::warn!(class = e.class(), "announce failed: {e}");
        }
        // ±10%, so that nodes started together drift apart.
        let tenth = (self.announce_interval_ms / 10).max(1);
        let jitter = u64::from(self.rng.next_u32()) % (2 * tenth);
        self.next_announce = now + self.announce_interval_ms - tenth + jitter;
        self.dirty = true;
    }

    fn awaiting_key(&self) -> impl Iterator<Item = Address> + '_ {
        self.outbox
            .values()
            .filter(|r| r.state == MessageState::AwaitingKey)
            .filter_map(|r| decode_hex::<16>(&r.to, "to").ok().map(Address::from_bytes))
    }

    fn handle(&mut self, input: Input, now: u64) {
        match input {
            Input::Datagram { link, bytes } => {
                let stats = self.stats.entry(link).or_default();
                stats.datagrams_in += 1;
                stats.bytes_in += bytes.len() as u64;
                self.mesh.handle_datagram(link, bytes, now);
                self.dirty = true;
            }
            Input::RadioFrame { source, frame } => self.radio_frame(source, frame, now),
            Input::LinkUp { link, writer } => {
                self.writers.insert(link, writer);
                self.announce(now);
            }
            Input::LinkDown { link, id } => {
                if self.writers.get(&link).is_some_and(|w| w.id == id) {
                    self.writers.remove(&link);
                }
            }
            Input::Control { request, reply } => {
                let answer = self
                    .control(request, now)
                    .unwrap_or_else(|e| error_reply(&e));
                self.replies.push((reply, answer));
            }
        }
    }

    fn radio_frame(&mut self, source: u32, frame: Bytes, now: u64) {
        let Some(radio) = &mut self.radio else { return };
        let heard = radio
            .link
            .handle_frame(now, source, frame)
            .map_err(Error::from)
            .and_then(|datagram| match datagram {
                Some(d) => radio.secure.receive(d, now, &mut self.rng),
                None => Ok(None),
            });
        match heard {
            Ok(Some(datagram)) => {
                let stats = self.stats.entry(LORA_LINK).or_default();
                stats.datagrams_in += 1;
                stats.bytes_in += datagram.len() as u64;
                self.mesh.handle_datagram(LORA_LINK, datagram, now);
                self.dirty = true;
            }
            Ok(None) => {}
            Err(e @ (Error::Unprotected(_) | Error::Crypto(_))) => {
                tracing::warn!(class = e.class(), "LoRa datagram refused: {e}")
            }
            Err(e) => tracing::debug!(class = e.class(), "radio frame refused: {e}"),
        }
    }

    /// Drains the engine's events, commits, then lets the transmits and
    /// replies out (the durability rule, §2).
    fn finish_step(&mut self, now: u64) -> Result<()> {
        loop {
            let mut any = false;
            while let Some(event) = self.mesh.poll_event() {
                any = true;
                let rng = &mut self.rng;
                if let Some(event) = self.fapp.on_mesh_event(&mut self.mesh, event, now, rng) {
                    self.on_event(event, now);
                }
            }
            any |= self
                .fapp
                .drain(&mut self.mesh, &self.identities, now, &mut self.rng);
            if !any {
                break;
            }
        }
        if self.fapp.collect(&mut self.step)? {
            self.dirty = true;
        }
        if self.dirty {
            self.step.mesh_state = self.mesh.export_state()?;
            let step = std::mem::take(&mut self.step);
            self.store.commit(&step)?;
            self.dirty = false;
        }
        while let Some(transmit) = self.mesh.poll_transmit() {
            self.transmit(transmit.link, Bytes::from(transmit.bytes), now);
        }
        if let Some(radio) = &mut self.radio {
            while let Some((priority, datagram)) = radio.secure.poll_transmit() {
                if let Err(e) = radio.link.send(now, priority, &datagram) {
                    tracing::debug!(class = e.class(), "radio refused a datagram: {e}");
                }
            }
            while let Some(event) = radio.secure.poll_event() {
                Self::on_link_security(&mut self.handshakes, &radio.profile, event);
            }
            while let Some(frame) = radio.link.poll_transmit(now) {
                if radio.tx.try_send(frame).is_err() {
                    tracing::warn!("radio task queue full: a frame was dropped");
                }
            }
            while let Some(event) = radio.link.poll_event() {
                tracing::debug!(?event, "radio link");
            }
            // The HopAck timers run from when a datagram went on air
            // (spec/10 §12.1 S1a).
            while let Some((report, datagram)) = radio.link.poll_report() {
                self.mesh
                    .handle_link_report(LORA_LINK, report, &datagram, now);
            }
        }
        for (reply, answer) in self.replies.drain(..) {
            let _ = reply.send(answer);
        }
        Ok(())
    }

    /// Logs a link security event; a completed handshake is kept for
    /// `status` with its bytes and airtime.
    fn on_link_security(
        handshakes: &mut std::collections::VecDeque<Value>,
        profile: &LinkProfile,
        event: PqLinkEvent,
    ) {
        match event {
            PqLinkEvent::Established {
                peer,
                role,
                attempt,
                took_ms,
                message_lens,
            } => {
                let airtime_ms: Vec<f64> = message_lens
                    .iter()
                    .map(|&len| datagram_airtime_ns(profile, len).unwrap_or(0) as f64 / 1e6)
                    .collect();
                tracing::info!(peer = %hex_address(&peer), ?role, attempt, took_ms, ?message_lens, ?airtime_ms, "pqXX link session up");
                if handshakes.len() == MAX_HANDSHAKES_LISTED {
                    handshakes.pop_front();
                }
                handshakes.push_back(json!({
                    "peer": hex_address(&peer),
                    "role": if role == Role::Initiator { "initiator" } else { "responder" },
                    "attempt": attempt, "took_ms": took_ms,
                    "message_lens": message_lens, "airtime_ms": airtime_ms,
                }));
            }
            PqLinkEvent::Failed {
                neighbour,
                class,
                dropped,
            } => tracing::warn!(
                neighbour = %hex::encode(neighbour.0), class, dropped,
                "pqXX handshake with a LoRa neighbour failed"
            ),
        }
    }

    fn transmit(&mut self, link: LinkId, bytes: Bytes, now: u64) {
        let len = bytes.len() as u64;
        let sent = if link == LORA_LINK {
            match &mut self.radio {
                Some(radio) => radio
                    .secure
                    .send(bytes, now, &mut self.rng)
                    .map_err(|e| {
                        tracing::debug!(class = e.class(), "datagram not sent on LoRa: {e}")
                    })
                    .is_ok(),
                None => false,
            }
        } else {
            match self.writers.get(&link) {
                Some(w) => w.tx.try_send(bytes).is_ok(),
                None => false,
            }
        };
        if sent {
            let stats = self.stats.entry(link).or_default();
            stats.datagrams_out += 1;
            stats.bytes_out += len;
        } else {
            tracing::debug!(link = link.0, "datagram not sent: link down or full");
        }
    }

    fn on_event(&mut self, event: Event, now: u64) {
        match event {
            Event::Received {
                from,
                timestamp_ms,
                content,
            } => {
                tracing::info!(from = %hex_address(&from), len = content.len(), "message delivered");
                self.step.inbox.push(InboxRecord {
                    from: hex_address(&from),
                    timestamp_ms,
                    content: hex::encode(&content),
                });
                self.dirty = true;
            }
            Event::DeliveryConfirmed { handle } => self.set_state(handle, MessageState::Confirmed),
            Event::DeliveryFailed { handle, .. } => self.set_state(handle, MessageState::Failed),
            Event::KeyFetched(identity) => {
                let address = identity.address();
                tracing::info!(address = %hex_address(&address), "identity fetched");
                self.step.identities.push((*identity).clone());
                self.identities.insert(address, *identity);
                self.dirty = true;
                self.send_waiting(address, now);
            }
            Event::Route {
                destination,
                decision,
            } => {
                if decision.accepted() {
                    tracing::debug!(destination = %hex_address(&destination), ?decision, "route");
                    self.destinations.insert(destination);
                    if let Some(radio) = &mut self.radio {
                        radio.secure.learn(destination);
                    }
                }
            }
            Event::Rejected { link, class } => {
                tracing::debug!(class, link = link.0, "datagram refused by the mesh")
            }
            other => tracing::debug!(event = ?other, "mesh"),
        }
    }

    fn set_state(&mut self, handle: MessageHandle, state: MessageState) {
        let Some(id) = self.by_handle.get(&handle).copied() else {
            return;
        };
        if let Some(record) = self.outbox.get_mut(&id) {
            tracing::info!(id, ?state, "message");
            record.state = state;
            self.step.outbox.push((id, record.clone()));
            self.dirty = true;
        }
    }

    fn send_waiting(&mut self, address: Address, now: u64) {
        let to = hex_address(&address);
        let waiting: Vec<u64> = self
            .outbox
            .iter()
            .filter(|(_, r)| r.state == MessageState::AwaitingKey && r.to == to)
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            if let Err(e) = self.seal_and_send(id, now) {
                tracing::warn!(id, class = e.class(), "message not sent yet: {e}");
            }
        }
    }

    /// Hands outbox message `id` to the engine (its identity is known).
    fn seal_and_send(&mut self, id: u64, now: u64) -> Result<()> {
        let record = self.outbox.get(&id).ok_or(Error::Full("unknown message"))?;
        let address = Address::from_bytes(decode_hex(&record.to, "to")?);
        let identity = self
            .identities
            .get(&address)
            .ok_or(Error::Full("identity"))?;
        let content = hex::decode(&record.content).map_err(|_| Error::Malformed {
            what: "outbox record",
            reason: "content is not hex",
        })?;
        let handle = self.mesh.send(identity, &content, now)?;
        self.dirty = true;
        self.by_handle.insert(handle, id);
        if let Some(record) = self.outbox.get_mut(&id) {
            record.state = MessageState::Sent;
            record.handle = Some(handle.0);
            self.step.outbox.push((id, record.clone()));
        }
        Ok(())
    }

    fn control(&mut self, request: Request, now: u64) -> Result<Value> {
        Ok(match request {
            Request::Status => self.status(now)?,
            Request::Identity => json!({
                "ok": true,
                "address": hex_address(&self.mesh.address()),
                "public_identity": hex::encode(self.mesh.identity().to_bytes()),
            }),
            Request::Routes => {
                let routes: Vec<Value> = self
                    .destinations
                    .iter()
                    .filter_map(|d| self.mesh.routing_table().route(d, now))
                    .map(|r| json!({"destination": hex_address(&r.destination), "link": r.next_hop.link.0, "metric": r.metric}))
                    .collect();
                json!({"ok": true, "routes": routes})
            }
            Request::Send { to, content } => self.send(&to, &content, now)?,
            Request::Message { id } => {
                let record = self.outbox.get(&id).ok_or(Error::Malformed {
                    what: "message request",
                    reason: "no message has this id",
                })?;
                json!({"ok": true, "id": id, "to": record.to, "state": record.state})
            }
            Request::Inbox { after } => {
                let messages: Vec<Value> = self
                    .store
                    .inbox(after, MAX_INBOX_ANSWER)?
                    .into_iter()
                    .map(|(seq, r)| json!({"seq": seq, "from": r.from, "timestamp_ms": r.timestamp_ms, "content": r.content}))
                    .collect();
                json!({"ok": true, "messages": messages})
            }
            Request::Announce => {
                self.announce(now);
                json!({"ok": true})
            }
            Request::FappAnnounce(spec) => {
                self.dirty = true;
                self.fapp.announce(&mut self.mesh, *spec, now)?
            }
            Request::FappQuery(spec) => {
                self.dirty = true;
                self.fapp.query(&mut self.mesh, *spec, now, &mut self.rng)?
            }
            Request::FappReserve { therapist, slot } => {
                self.dirty = true;
                let rng = &mut self.rng;
                self.fapp
                    .reserve(&mut self.mesh, &therapist, slot, now, rng)?
            }
            Request::FappConfirm { request_id } => {
                self.dirty = true;
                let rng = &mut self.rng;
                self.fapp
                    .decide(&mut self.mesh, &request_id, true, now, rng)?
            }
            Request::FappDecline { request_id } => {
                self.dirty = true;
                let rng = &mut self.rng;
                self.fapp
                    .decide(&mut self.mesh, &request_id, false, now, rng)?
            }
            Request::FappResults { after } => self.fapp.results(&self.store, after)?,
            Request::Shutdown => {
                self.shutdown = true;
                json!({"ok": true})
            }
        })
    }

    fn send(&mut self, to: &str, content: &str, now: u64) -> Result<Value> {
        let address = Address::from_bytes(decode_hex(to, "to").map_err(|_| Error::Malformed {
            what: "send request",
            reason: "`to` is not 32 hex digits",
        })?);
        let content = hex::decode(content).map_err(|_| Error::Malformed {
            what: "send request",
            reason: "`content` is not hex",
        })?;
        if content.len() > MAX_CONTENT_LEN {
            return Err(Error::FrameTooLarge {
                what: "message content",
                len: content.len(),
                max: MAX_CONTENT_LEN,
            });
        }
        if address == self.mesh.address() {
            return Err(Error::InvalidConfig(
                "a node does not send to itself".into(),
            ));
        }
        if self.mesh.outstanding() + self.awaiting_key().count() >= self.max_outstanding {
            return Err(Error::Full("messages awaiting a receipt"));
        }
        let id = self.next_id;
        let record = OutboxRecord {
            to: hex_address(&address),
            content: hex::encode(&content),
            state: MessageState::AwaitingKey,
            handle: None,
        };
        self.outbox.insert(id, record.clone());
        if self.identities.contains_key(&address) {
            if let Err(e) = self.seal_and_send(id, now) {
                self.outbox.remove(&id);
                return Err(e);
            }
        } else {
            self.step.outbox.push((id, record));
            self.mesh.request_key(address, now);
            self.next_key_retry = now + KEY_RETRY_MS;
        }
        self.next_id += 1;
        self.step.next_id = Some(self.next_id);
        self.dirty = true;
        let state = self.outbox[&id].state;
        Ok(json!({"ok": true, "id": id, "state": state}))
    }

    fn status(&self, now: u64) -> Result<Value> {
        let mut links = Vec::new();
        for (index, peer) in self.peers.iter().enumerate() {
            let link = quic_link(index);
            let s = self.stats.get(&link).cloned().unwrap_or_default();
            links.push(json!({
                "link": link.0, "kind": "quic", "peer": hex_address(peer),
                "up": self.writers.contains_key(&link),
                "datagrams_in": s.datagrams_in, "datagrams_out": s.datagrams_out,
                "bytes_in": s.bytes_in, "bytes_out": s.bytes_out,
            }));
        }
        if let Some(radio) = &self.radio {
            let s = self.stats.get(&LORA_LINK).cloned().unwrap_or_default();
            let c = radio.counters.snapshot();
            links.push(json!({
                "link": LORA_LINK.0, "kind": "lora", "peer": null, "up": true,
                "datagrams_in": s.datagrams_in, "datagrams_out": s.datagrams_out,
                "bytes_in": s.bytes_in, "bytes_out": s.bytes_out,
                "frames_in": c.frames_in, "frames_out": c.frames_out,
                "frame_bytes_out": c.bytes_out, "lost": c.lost,
                "airtime_ms": radio.link.airtime_used_ns() as f64 / 1e6,
                "pqxx_sessions": radio.secure.sessions().iter().map(|s| json!({
                    "neighbour": hex::encode(s.neighbour.0), "peer": hex_address(&s.peer),
                    "since_ms": s.since_ms, "records_out": s.records_out, "records_in": s.records_in,
                })).collect::<Vec<_>>(),
                "pqxx_handshakes": self.handshakes,
            }));
        }
        let routes = self
            .destinations
            .iter()
            .filter(|d| self.mesh.routing_table().route(d, now).is_some())
            .count();
        Ok(json!({
            "ok": true,
            "address": hex_address(&self.mesh.address()),
            "bound": self.local_addresses,
            "uptime_ms": now.saturating_sub(self.started_ms),
            "routes": routes,
            "stored": self.mesh.store().len(),
            "outstanding": self.mesh.outstanding(),
            "inbox": self.store.inbox_len()?,
            "links": links,
            "fapp": self.fapp.status(),
        }))
    }
}

/// The exact time on air of a `len`-byte link datagram at `profile`: one
/// whole frame, or the fragments of `11-lora-link.md` §6.4.
pub fn datagram_airtime_ns(profile: &LinkProfile, len: usize) -> Result<u64> {
    let mtu = profile.mtu();
    if len + WHOLE_HEADER_LEN <= mtu {
        return Ok(time_on_air_ns(profile.radio(), len + WHOLE_HEADER_LEN)?);
    }
    let chunk = mtu - FRAGMENT_HEADER_LEN;
    let mut total = 0;
    for start in (0..len).step_by(chunk) {
        let payload = chunk.min(len - start);
        total += time_on_air_ns(profile.radio(), payload + FRAGMENT_HEADER_LEN)?;
    }
    Ok(total)
}

/// The link security engine for a radio at `profile`: its handshake
/// timeout is three times the airtime of an empty-application pqXX
/// handshake (§15.4) plus 5 s.
pub fn pq_link(identity: &Identity, profile: &LinkProfile, rng: &mut StdRng) -> Result<PqLink> {
    let mut airtime = 0;
    for len in HANDSHAKE_DATAGRAM_LENS {
        airtime += datagram_airtime_ns(profile, len)?;
    }
    let config = PqLinkConfig {
        handshake_timeout_ms: 3 * airtime / 1_000_000 + 5_000,
        ..PqLinkConfig::default()
    };
    PqLink::new(identity, config, now_ms(), rng)
}

/// A radio's link engine for `profile` with `queue_capacity` frames.
pub fn lora_link(
    profile: LinkProfile,
    queue_capacity: usize,
    rng: &mut StdRng,
) -> Result<LoraLink> {
    let config = LoraLinkConfig {
        queue_capacity,
        ..LoraLinkConfig::new(profile)
    };
    Ok(LoraLink::new(config, rng)?)
}
