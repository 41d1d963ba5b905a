//! `MeshNode`: the sans-IO engine that ties the envelope, announces,
//! routing, path requests, deduplication and rebroadcast scheduling
//! together (`spec/10-mesh.md` §5.4, §6, §7).
//!
//! The driver adds links, then feeds datagrams with
//! [`MeshNode::handle_datagram`], fires [`MeshNode::handle_timeout`] at
//! [`MeshNode::poll_timeout`], and drains [`MeshNode::poll_transmit`] and
//! [`MeshNode::poll_event`]. Messages go end to end with
//! [`MeshNode::send`] once [`MeshNode::enable_messaging`] gave the node its
//! sealed-sender credentials; they are stored and forwarded with custody
//! hand-off and confirmed by receipts (§12, the `data` submodule), and the
//! node's durable state is exported with [`MeshNode::export_state`]
//! (§12.5, the `persist` submodule). Pairwise sessions (`spec/12` part A)
//! are opened with [`MeshNode::open_session`] and then carry what
//! [`MeshNode::send`] sends to that peer (§12.7, the `session`
//! submodule); a lost session is resumed with [`MeshNode::resume_session`].
//! Broadcast channels (§13) are joined
//! with [`MeshNode::join_channel`]. MLS-Lite groups (type `0xb`,
//! `spec/12` part B) are installed with [`MeshNode::join_group`] and
//! flooded like channels by [`MeshNode::send_group`] (§12.8, the `group`
//! submodule). FAPP bodies (type `0xc`, §14) go one
//! hop or routed with the `send_fapp_*` calls and arrive as
//! [`Event::FappReceived`] and [`Event::FappDelivered`] (the `app`
//! submodule). Fragmentation is not here yet: a
//! datagram larger than a link's MTU is dropped with an event.

mod app;
mod data;
mod group;
mod persist;
mod session;

pub use group::{GroupHandle, GroupKeys};

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use qpc_crypto::certificate::{SenderCertificate, TrustRoot};
use qpc_crypto::identity::{Address, Identity, PublicIdentity};
use qpc_crypto::sealed_sender::{Receiver, ReceiverConfig};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::announce::{Announce, AnnouncePacket, Capabilities};
use crate::channel::{ChannelId, ChannelKey, ChannelPacket, Membership};
use crate::dedupe::DuplicateFilter;
use crate::delivery::{DeliveryTracker, RetryPolicy};
use crate::envelope::{Envelope, Header, HopId, MessageType, LINK_LOCAL, MAX_HOP_LIMIT};
use crate::flood::{FloodConfig, FloodScheduler, Release};
use crate::key_request::{KeyRequest, KeyResponse};
use crate::message::{EndToEndPacket, Message};
use crate::neighbours::{NeighbourConfig, NeighbourTable};
use crate::path_request::{PathRequest, PathResponse};
use crate::rebroadcast::{AirtimeBudget, AnnounceScheduler, Dropped};
use crate::receipt::ReceiptKey;
use crate::reverse_path::{RequestKey, ReversePaths};
use crate::routing::{
    Advert, Decision, Forwarding, LinkId, Neighbour, RoutingConfig, RoutingTable, TableEvent,
};
use crate::store::{Eviction, MessageStore, StoreConfig};
use crate::{Error, Result};

/// The smallest link MTU: the largest control message (a path response
/// with a next hop, 172 bytes) must fit.
pub const MIN_MTU: usize = 172;

/// A link as the driver describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Largest datagram the link carries in one piece (at least [`MIN_MTU`]).
    pub mtu: usize,
    /// Routing cost (1..=254, `spec/10` §5.1).
    pub cost: u8,
    /// The announce budget (bitrate, share, bucket, queue).
    pub budget: AirtimeBudget,
    /// Shared (every neighbour hears every transmission: hop ids are named)
    /// or point-to-point.
    pub shared: bool,
}

/// Bounds and policy of a [`MeshNode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeConfig {
    /// The routing table.
    pub routing: RoutingConfig,
    /// Keys the duplicate filter remembers.
    pub dedupe_capacity: usize,
    /// Reverse-path records held.
    pub reverse_paths: usize,
    /// How long a reverse-path record, and our own pending request, lasts.
    pub path_request_ttl_ms: u64,
    /// Hop limit of our announces, floods and path requests (at most 15).
    pub hop_limit: u8,
    /// Our capabilities; without `TRANSPORT` nothing is relayed.
    pub capabilities: Capabilities,
    /// Transmits and events waiting to be drained (each). A transmit beyond
    /// is refused with [`DropReason::TransmitQueueFull`] (announces wait in
    /// their rebroadcast queue instead); an event beyond pushes out the
    /// oldest, counted by [`MeshNode::events_lost`].
    pub max_pending: usize,
    /// Our own announce repeats this often, ms, less a jitter of up to a
    /// quarter drawn from the node's generator (§4.7); 0: only when
    /// [`MeshNode::announce`] is called.
    pub announce_interval_ms: u64,
    /// The store-and-forward bounds (§12.1).
    pub store: StoreConfig,
    /// How long to wait for a next hop's HopAck before sending again, ms
    /// (at least 1), on top of four airtimes of the datagram at the link's
    /// bitrate (§12.1 S1).
    pub hop_ack_timeout_ms: u64,
    /// How long a data message waits for its HopAck while the link reports
    /// its frames queued ([`MeshNode::handle_link_report`], §12.1 S1a), ms
    /// (at least 1): a bound for a link that never reports it sent.
    pub link_queue_timeout_ms: u64,
    /// Transmissions to one next hop before its route is taken as broken
    /// (at least 1).
    pub hop_attempts: u8,
    /// First wait between path requests for a stored message, ms (at least
    /// 1); it doubles per request up to 8 times this.
    pub path_retry_ms: u64,
    /// End-to-end retries of our own messages (§12.3).
    pub retry: RetryPolicy,
    /// Our messages awaiting a receipt at once (1..=65535).
    pub max_outstanding: usize,
    /// Sealed messages remembered by digest to suppress duplicates and
    /// answer them with the receipt again (1..=65535).
    pub received_capacity: usize,
    /// Managed flooding of channel messages (§13.6).
    pub flood: FloodConfig,
    /// The two-hop neighbourhood that managed flooding consults (§13.6).
    pub neighbours: NeighbourConfig,
    /// Channels that may be joined at once.
    pub max_channels: usize,
    /// Pairwise sessions held at once, established or being established
    /// (0..=65535; 0: none are opened or accepted, §12.7).
    pub max_sessions: usize,
    /// How long an establishment waits for its Response, and a Resume for
    /// its answer, before a fresh one, ms (at least 1).
    pub session_retry_ms: u64,
    /// MLS-Lite groups installed at once (at most 65535, §12.8).
    pub max_groups: usize,
    /// How long a group's previous epoch stays readable after a new one
    /// is installed, ms (`spec/12` §B.5).
    pub group_grace_ms: u64,
    /// Deliveries each channel remembers to refuse replays (§13.4 C7).
    pub channel_replay_window: usize,
    /// Ways back to FAPP reply addresses held, and reply addresses of our
    /// own remembered (each, at least 1; §14.3).
    pub reply_routes: usize,
    /// How long a way back to a reply address lasts, ms (at least 1;
    /// §14.3): longer than a FAPP hold plus its grace.
    pub reply_route_ttl_ms: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            routing: RoutingConfig::default(),
            dedupe_capacity: 4096,
            reverse_paths: 256,
            path_request_ttl_ms: 30_000,
            hop_limit: 7,
            capabilities: Capabilities(Capabilities::TRANSPORT),
            max_pending: 1024,
            announce_interval_ms: 15 * 60 * 1000,
            store: StoreConfig::default(),
            hop_ack_timeout_ms: 2_000,
            link_queue_timeout_ms: 2 * 3_600_000,
            hop_attempts: 4,
            path_retry_ms: 30_000,
            retry: RetryPolicy::default(),
            max_outstanding: 64,
            received_capacity: 1024,
            flood: FloodConfig::default(),
            neighbours: NeighbourConfig::default(),
            max_channels: 8,
            channel_replay_window: 256,
            max_sessions: 8,
            session_retry_ms: 600_000,
            max_groups: 4,
            group_grace_ms: 60_000,
            reply_routes: 256,
            reply_route_ttl_ms: 30 * 60 * 1000,
        }
    }
}

impl NodeConfig {
    fn validate(&self) -> Result<()> {
        if self.hop_limit > MAX_HOP_LIMIT
            || self.max_pending == 0
            || self.hop_ack_timeout_ms == 0
            || self.link_queue_timeout_ms == 0
            || self.hop_attempts == 0
            || self.path_retry_ms == 0
            || !(1..=STATE_MAX_ENTRIES).contains(&self.max_outstanding)
            || !(1..=STATE_MAX_ENTRIES).contains(&self.received_capacity)
            || self.store.max_messages > STATE_MAX_ENTRIES
            || self.channel_replay_window == 0
            || self.max_sessions > STATE_MAX_ENTRIES
            || self.session_retry_ms == 0
            || self.max_groups > STATE_MAX_ENTRIES
            || self.reply_routes == 0
            || self.reply_route_ttl_ms == 0
        {
            return Err(Error::InvalidConfig(
                "hop limit at most 15; pending, timeouts, attempts, channel replay window and reply routes at least 1; outstanding, received and stored messages 1..=65535, sessions and groups at most 65535",
            ));
        }
        self.store.validate()
    }
}

/// The most entries of one kind an exported state holds (§12.5, `uint16`).
const STATE_MAX_ENTRIES: usize = 65_535;

/// Names one of our messages from [`MeshNode::send`] to its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageHandle(pub u64);

/// A datagram to send on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The link.
    pub link: LinkId,
    /// The datagram.
    pub bytes: Vec<u8>,
}

/// Why a message was not sent or forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The hop limit was reached.
    HopLimit,
    /// The datagram is larger than the link's MTU (fragmentation is planned).
    TooLarge {
        /// The datagram length.
        len: usize,
        /// The link's MTU.
        mtu: usize,
    },
    /// This node does not relay (`TRANSPORT` not set).
    NotTransport,
    /// A path response without a reverse-path record.
    NoReversePath,
    /// The store let the message go (expired, full, or too large for it).
    Store(Eviction),
    /// A sealed message for us arrived, but messaging is not enabled.
    NoMessaging,
    /// A flooded channel message was not rebroadcast: enough neighbours
    /// were heard relaying it (§13.6).
    Suppressed {
        /// Copies heard while the rebroadcast waited.
        heard: u16,
    },
    /// The flood scheduler holds its maximum of pending rebroadcasts.
    FloodQueueFull,
    /// `max_pending` transmits wait undrained (§12.4).
    TransmitQueueFull,
    /// Our periodic announce: announce sequence numbers are used up (§4.6).
    SequenceExhausted,
}

/// What the node reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A verified advert was decided on.
    Route {
        /// The announced address.
        destination: Address,
        /// The decision.
        decision: Decision,
    },
    /// The routing table expired or forgot an entry.
    Table(TableEvent),
    /// A message for this node arrived, authenticated by sealed sender
    /// (`spec/05`); a receipt went back if the sender asked for one.
    Received {
        /// The sender's address.
        from: Address,
        /// The sender's timestamp, Unix ms.
        timestamp_ms: u64,
        /// The content.
        content: Bytes,
    },
    /// The receipt for one of our messages arrived.
    DeliveryConfirmed {
        /// The message.
        handle: MessageHandle,
    },
    /// No receipt came for one of our messages after every retry.
    DeliveryFailed {
        /// The message.
        handle: MessageHandle,
        /// Its destination.
        destination: Address,
    },
    /// A path response answered our request.
    PathFound {
        /// The destination.
        destination: Address,
    },
    /// A key response answered our request: the identity, checked against
    /// the address asked for; seal to it with `spec/05`.
    KeyFetched(Box<PublicIdentity>),
    /// A datagram was refused; `class` is the error class of `spec/10` §8.
    Rejected {
        /// The link it came on.
        link: LinkId,
        /// The error class.
        class: &'static str,
    },
    /// A message to `destination` was not sent or forwarded.
    Dropped {
        /// The destination.
        destination: Address,
        /// Why.
        reason: DropReason,
    },
    /// An announce left a rebroadcast queue unsent.
    AnnounceDropped(Dropped),
    /// A message of a joined channel, opened (§13.4).
    ChannelReceived {
        /// The channel.
        channel: ChannelId,
        /// The sender the plaintext names.
        sender: Address,
        /// Whether the sender's signature verified under the key of its
        /// announce; `false` for unsigned messages and unknown senders.
        sender_verified: bool,
        /// The envelope's message id.
        message_id: u32,
        /// The content.
        content: Bytes,
    },
    /// A pairwise session with `peer` is established (`spec/12` §A.3):
    /// [`MeshNode::send`] to it now uses the session.
    SessionEstablished {
        /// The peer.
        peer: Address,
    },
    /// No Response came to our establishments with `peer`.
    SessionFailed {
        /// The peer.
        peer: Address,
    },
    /// The session with `peer` was pushed out to make room (§12.7).
    SessionEvicted {
        /// The peer.
        peer: Address,
    },
    /// The session with `peer` moved to `epoch` by a resumption
    /// (`spec/12` §A.6): at the end that resumed when the peer's answer
    /// (or Data of the new epoch) arrived, at the other end when the
    /// Resume (or Data of the next epoch, D6) stepped it.
    SessionResumed {
        /// The peer.
        peer: Address,
        /// The new epoch.
        epoch: u16,
    },
    /// A message of an installed MLS-Lite group, opened (`spec/12` §B.4).
    GroupReceived {
        /// The group.
        group: GroupHandle,
        /// The sender's index in the epoch's member list.
        sender: u16,
        /// The epoch it was sealed in.
        epoch: u64,
        /// The content.
        payload: Bytes,
    },
    /// A link-local FAPP frame arrived (§14.1): answer its transmitter with
    /// [`MeshNode::send_fapp_to_neighbour`].
    FappReceived {
        /// The link it came on.
        link: LinkId,
        /// The transmitting neighbour's hop id.
        neighbour: HopId,
        /// The FAPP message.
        payload: Bytes,
    },
    /// A routed FAPP frame for this node's address or one of its reply
    /// addresses arrived (§14.2).
    FappDelivered {
        /// The address it was sent to.
        destination: Address,
        /// The FAPP message.
        payload: Bytes,
    },
}

/// What sending and opening messages needs (`spec/05`).
#[derive(Debug)]
struct Messaging {
    certificate: SenderCertificate,
    receiver: Receiver,
}

/// A sealed message delivered here: its SHA-256, whom to send the receipt
/// to with which key when a retry of it arrives, and when a receipt for it
/// last went out (not persisted).
#[derive(Debug, Clone)]
struct ReceivedDigest {
    digest: [u8; 32],
    answer: Option<(Address, ReceiptKey)>,
    receipt_sent_at: u64,
}

/// One of our messages awaiting its receipt.
#[derive(Debug, Clone)]
struct Outgoing {
    destination: Address,
    key: ReceiptKey,
    sealed: Bytes,
}

/// The sans-IO mesh node.
#[derive(Debug)]
pub struct MeshNode {
    identity: Identity,
    config: NodeConfig,
    links: BTreeMap<LinkId, LinkConfig>,
    table: RoutingTable,
    dedupe: DuplicateFilter,
    scheduler: AnnounceScheduler,
    reverse: ReversePaths,
    own_requests: VecDeque<(RequestKey, u64)>,
    channels: BTreeMap<ChannelId, Membership>,
    flood_scheduler: FloodScheduler<(Message, Option<LinkId>)>,
    neighbours: NeighbourTable,
    sequence: Option<u32>,
    now: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    events_lost: u64,
    next_announce: Option<u64>,
    rng: ChaCha20Rng,
    store: MessageStore,
    messaging: Option<Messaging>,
    tracker: DeliveryTracker,
    outbox: BTreeMap<MessageHandle, Outgoing>,
    by_receipt_id: BTreeMap<[u8; 8], MessageHandle>,
    next_handle: u64,
    received: VecDeque<ReceivedDigest>,
    sessions: session::SessionTable,
    groups: BTreeMap<GroupHandle, crate::group_lite::GroupLite>,
    replies: app::ReplyRoutes,
}

impl MeshNode {
    /// A node for `identity`; its first announce gets `first_sequence`
    /// (persisted by the driver, `spec/10` §4.6). `rng` seeds the node's
    /// own generator (message and request ids, receipt keys, jitter).
    pub fn new(
        identity: Identity,
        config: NodeConfig,
        first_sequence: u32,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        config.validate()?;
        let mut seed = [0; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = ChaCha20Rng::from_seed(seed);
        let first_tag = (rand_core::Rng::next_u32(&mut rng) & 0xffff) as u16;
        let address = identity.public().address();
        Ok(MeshNode {
            table: RoutingTable::new(address, config.routing)?,
            dedupe: DuplicateFilter::new(config.dedupe_capacity)?,
            reverse: ReversePaths::new(config.reverse_paths, config.path_request_ttl_ms)?,
            flood_scheduler: FloodScheduler::new(config.flood, HopId::of(&address))?,
            neighbours: NeighbourTable::new(config.neighbours)?,
            channels: BTreeMap::new(),
            identity,
            config,
            links: BTreeMap::new(),
            scheduler: AnnounceScheduler::new(),
            own_requests: VecDeque::new(),
            sequence: first_sequence.checked_sub(1),
            now: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            events_lost: 0,
            next_announce: None,
            rng,
            store: MessageStore::new(config.store)?,
            messaging: None,
            tracker: DeliveryTracker::new(config.retry, config.max_outstanding)?,
            outbox: BTreeMap::new(),
            by_receipt_id: BTreeMap::new(),
            next_handle: 0,
            received: VecDeque::new(),
            sessions: session::SessionTable::new(first_tag),
            groups: BTreeMap::new(),
            replies: app::ReplyRoutes::new(config.reply_routes, config.reply_route_ttl_ms)?,
        })
    }

    /// Gives the node what it needs to send messages (its sender
    /// certificate, `spec/05` §4) and to open them (the trust roots whose
    /// certificates it accepts).
    pub fn enable_messaging(
        &mut self,
        certificate: SenderCertificate,
        roots: Vec<TrustRoot>,
        receiver: ReceiverConfig,
    ) -> Result<()> {
        // Checks that the certificate is ours.
        qpc_crypto::sealed_sender::Sender::new(&self.identity, certificate.clone())?;
        let secret = self.identity.to_secret_bytes();
        let own = Identity::from_secret_bytes(&secret[..])?;
        self.messaging = Some(Messaging {
            certificate,
            receiver: Receiver::new(own, roots, receiver),
        });
        Ok(())
    }

    /// The message store (read only).
    pub fn store(&self) -> &MessageStore {
        &self.store
    }

    /// Our messages still awaiting a receipt.
    pub fn outstanding(&self) -> usize {
        self.outbox.len()
    }

    /// This node's address.
    pub fn address(&self) -> Address {
        self.identity.public().address()
    }

    /// This node's public identity.
    pub fn identity(&self) -> &PublicIdentity {
        self.identity.public()
    }

    /// This node's hop id.
    pub fn hop_id(&self) -> HopId {
        HopId::of(&self.address())
    }

    /// The routing table (read only).
    pub fn routing_table(&self) -> &RoutingTable {
        &self.table
    }

    /// Adds or reconfigures a link.
    pub fn add_link(&mut self, link: LinkId, config: LinkConfig, now: u64) -> Result<()> {
        if config.mtu < MIN_MTU || !(1..=254).contains(&config.cost) {
            return Err(Error::InvalidConfig("link MTU at least 172, cost 1..=254"));
        }
        self.scheduler.add_link(link, config.budget, now)?;
        self.links.insert(link, config);
        Ok(())
    }

    /// Signs a new announce (the next sequence number) and queues it on
    /// every link.
    pub fn announce(&mut self, now: u64) -> Result<()> {
        self.advance(now);
        let sequence = match self.sequence {
            None => 0,
            Some(s) => s.checked_add(1).ok_or(Error::InvalidConfig(
                "announce sequence numbers are used up",
            ))?,
        };
        self.sequence = Some(sequence);
        self.queue_own_announce(sequence, now)?;
        self.flush(now);
        Ok(())
    }

    /// Queues our announce of `sequence` on every link and draws when the
    /// next periodic one is due (§4.7).
    fn queue_own_announce(&mut self, sequence: u32, now: u64) -> Result<()> {
        let packet = AnnouncePacket {
            hop_count: 0,
            hop_limit: self.config.hop_limit,
            transmitter: None,
            cost: 0,
            announce: self.own_announce(sequence),
        };
        let bytes = packet.to_bytes()?;
        let links: Vec<LinkId> = self.links.keys().copied().collect();
        for link in links {
            self.queue_announce(link, self.address(), 0, bytes.clone());
        }
        let interval = self.config.announce_interval_ms;
        self.next_announce = (interval > 0).then(|| {
            let jitter = rand_core::Rng::next_u64(&mut self.rng) % (interval / 4 + 1);
            now.saturating_add(interval - jitter)
        });
        Ok(())
    }

    /// Joins the channel of `key` (joining twice is harmless); at most
    /// `max_channels` at once (`channel_limit`).
    pub fn join_channel(&mut self, key: ChannelKey) -> Result<ChannelId> {
        let id = key.id();
        if !self.channels.contains_key(&id) {
            if self.channels.len() >= self.config.max_channels {
                return Err(Error::ChannelLimit(self.config.max_channels));
            }
            let member = Membership::new(&key, self.config.channel_replay_window)?;
            self.channels.insert(id, member);
        }
        Ok(id)
    }

    /// Leaves a channel; its messages are still relayed. `false` if it was
    /// not joined.
    pub fn leave_channel(&mut self, channel: &ChannelId) -> bool {
        self.channels.remove(channel).is_some()
    }

    /// Seals `content` for a joined channel (signed with our identity if
    /// `signed`) and floods it (§13); returns its message id.
    pub fn send_channel(
        &mut self,
        channel: &ChannelId,
        content: &[u8],
        signed: bool,
        now: u64,
    ) -> Result<u32> {
        self.advance(now);
        let member = self.channels.get(channel).ok_or(Error::UnknownChannel)?;
        let packet = member.channel().seal(
            &self.identity,
            content,
            signed,
            self.config.hop_limit,
            &mut self.rng,
        )?;
        let message_id = packet.header.message_id;
        self.originate_flooded(Message::Channel(packet), now);
        Ok(message_id)
    }

    /// Floods a Channel or GroupLite message of ours: sent at once on every
    /// link, marked seen, and repeated while a neighbour that should relay
    /// it is not heard doing so (§13.6 step 5).
    fn originate_flooded(&mut self, message: Message, now: u64) {
        let header = message.header();
        self.dedupe.first_sighting(&header);
        self.flood(&message, None);
        let key = DuplicateFilter::key(&header);
        let _ = self.flood_scheduler.originated(key, (message, None), now);
        self.flush(now);
    }

    /// Takes one datagram received on `link` (`spec/10` §7.1).
    pub fn handle_datagram(&mut self, link: LinkId, bytes: Bytes, now: u64) {
        self.advance(now);
        if let Err(e) = self.receive(link, bytes, now) {
            self.push_event(Event::Rejected {
                link,
                class: e.class(),
            });
        }
        self.flush(now);
    }

    /// Applies expiry, retries stored and unconfirmed messages, and sends
    /// the announces the budgets now allow.
    pub fn handle_timeout(&mut self, now: u64) {
        self.advance(now);
        self.table.handle_timeout(now);
        self.store_timeout(now);
        self.delivery_timeout(now);
        self.session_timeout(now);
        if self.next_announce.is_some_and(|due| due <= now) && self.announce(now).is_err() {
            self.next_announce = None;
            self.push_event(Event::Dropped {
                destination: self.address(),
                reason: DropReason::SequenceExhausted,
            });
        }
        self.flush(now);
    }

    /// When the node next needs [`MeshNode::handle_timeout`] (call it again
    /// after draining [`MeshNode::poll_transmit`]: announces wait while the
    /// transmits are full).
    pub fn poll_timeout(&self) -> Option<u64> {
        let table = self.table.poll_timeout();
        // Announces due while `max_pending` transmits wait go when they
        // are drained: the driver polls again after draining.
        let scheduler = (self.transmits.len() < self.config.max_pending)
            .then(|| self.scheduler.poll_timeout(self.now))
            .flatten();
        let store = self.store.poll_timeout();
        let tracker = self.tracker.poll_timeout();
        let flood = self.flood_scheduler.poll_timeout();
        let sessions = self.sessions.poll_timeout();
        [
            table,
            scheduler,
            store,
            tracker,
            flood,
            sessions,
            self.next_announce,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Events pushed out undrained because `max_pending` waited (never
    /// reset).
    pub fn events_lost(&self) -> u64 {
        self.events_lost
    }

    fn advance(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    /// The sequence number to answer a path request for us with: ours, or
    /// the next one if the request asks for exactly that (a neighbour lost
    /// its route to us, §6.1); `None` before our first announce or for any
    /// other minimum.
    fn own_sequence_for(&mut self, min_sequence: u32) -> Option<u32> {
        let current = self.sequence?;
        if min_sequence <= current {
            return Some(current);
        }
        let next = current.checked_add(1).filter(|&n| n == min_sequence)?;
        // Not flooded as an announce: that would reach one-way neighbours
        // too and reinstate the route the requester gave up (§4.7).
        self.sequence = Some(next);
        Some(next)
    }

    fn own_announce(&self, sequence: u32) -> Announce {
        Announce::sign(&self.identity, sequence, self.config.capabilities)
    }

    fn relays(&self) -> bool {
        self.config.capabilities.has(Capabilities::TRANSPORT)
    }

    fn shared(&self, link: LinkId) -> bool {
        self.links.get(&link).is_some_and(|l| l.shared)
    }

    /// Our hop id, named on shared links only.
    fn own_hop_id_on(&self, link: LinkId) -> Option<HopId> {
        self.shared(link).then(|| self.hop_id())
    }

    fn receive(&mut self, link: LinkId, bytes: Bytes, now: u64) -> Result<()> {
        let link_cost = self
            .links
            .get(&link)
            .ok_or(Error::InvalidConfig("unknown link"))?
            .cost;
        let envelope = Envelope::decode(bytes)?;
        let header = &envelope.header;
        // A flooded frame on a shared link names its transmitter: a
        // neighbour (§13.6).
        let transmitter = header
            .hop_id
            .filter(|_| header.message_type.is_flooded() && self.shared(link));
        if let Some(t) = transmitter {
            self.neighbours.heard(t, now);
        }
        // A HopAck names its sender, is never filtered and never relayed.
        if header.message_type == MessageType::HopAck {
            let ack = crate::receipt::HopAck::from_envelope(envelope)?;
            self.on_hop_ack(link, ack);
            return Ok(());
        }
        // A forwarded message naming another next hop is not ours to act on,
        // and must not enter the filter: it may reach us later as next hop.
        let named_elsewhere = header.hop_id.is_some_and(|h| h != self.hop_id());
        if !header.message_type.is_flooded() && self.shared(link) && named_elsewhere {
            return Ok(());
        }
        // Link-local FAPP frames bypass the filter: the application's
        // engines deduplicate what they forward (§14.4).
        if header.message_type == MessageType::Fapp && header.destination == LINK_LOCAL {
            let packet = crate::fapp_frame::FappPacket::from_envelope(envelope)?;
            self.on_fapp(link, packet, false, now);
            return Ok(());
        }
        // Announces bypass the filter: the table's copy of the announce
        // spares re-verifying duplicates, and a cheaper copy of a known
        // sequence is still worth a decision (§5.3 R8, §7.1).
        if header.message_type == MessageType::Announce {
            let known = self.table.known_announce(&header.destination);
            let packet = AnnouncePacket::from_envelope_known(envelope, known)?;
            return self.on_announce(link, link_cost, packet, now);
        }
        // Data named to us (or on a point-to-point link) asks for custody:
        // a duplicate means our HopAck was lost (acknowledged again), or,
        // if we no longer hold it, that a copy came back to us around a
        // transient loop: then we take custody again rather than lose it
        // (the hop limit ends a loop, with an event; §12.2).
        let custody =
            header.is_data() && (header.hop_id == Some(self.hop_id()) || !self.shared(link));
        let returned = custody
            && header.destination != self.address()
            && self
                .store
                .get(&(header.destination, header.message_id))
                .is_none();
        if !self.dedupe.first_sighting(header) && !returned {
            if custody {
                self.send_hop_ack(link, header);
            }
            // A neighbour relayed it: counts towards suppression (§13.6).
            self.flood_scheduler
                .heard_copy(&DuplicateFilter::key(header), transmitter);
            return Ok(());
        }
        match Message::from_envelope(envelope)? {
            Message::Announce(packet) => self.on_announce(link, link_cost, packet, now),
            Message::PathRequest(request) => {
                self.on_path_request(link, request, now);
                Ok(())
            }
            Message::PathResponse(response) => {
                self.on_path_response(link, link_cost, response, now)
            }
            Message::Sealed(packet) => {
                let envelope = Envelope {
                    header: packet.header,
                    body: packet.payload,
                };
                self.on_data(link, envelope, custody, now);
                Ok(())
            }
            Message::Receipt(receipt) => {
                self.on_data(link, receipt.to_envelope(), custody, now);
                Ok(())
            }
            Message::HopAck(ack) => {
                self.on_hop_ack(link, ack);
                Ok(())
            }
            Message::KeyRequest(request) => {
                self.on_key_request(link, request, now);
                Ok(())
            }
            Message::KeyResponse(response) => {
                self.on_key_response(*response, now);
                Ok(())
            }
            Message::Channel(packet) => {
                self.on_channel(link, packet, now);
                Ok(())
            }
            Message::Session(packet) => {
                let envelope = Envelope {
                    header: packet.header,
                    body: packet.body,
                };
                self.on_data(link, envelope, custody, now);
                Ok(())
            }
            Message::Fapp(packet) => {
                self.on_fapp(link, packet, custody, now);
                Ok(())
            }
            Message::GroupLite(packet) => {
                self.on_group(link, packet, now);
                Ok(())
            }
        }
    }

    /// Delivers a message of a joined channel once, then schedules its
    /// rebroadcast, member or not (§13.5); a member does not relay a
    /// message it cannot open.
    fn on_channel(&mut self, link: LinkId, packet: ChannelPacket, now: u64) {
        let channel = ChannelId::of_address(&packet.header.destination);
        if let Some(member) = self.channels.get_mut(&channel) {
            let table = &self.table;
            let opened = member.receive(&packet, |sender| {
                table.known_announce(sender).map(|a| *a.signing_key())
            });
            match opened {
                Ok(message) => self.push_event(Event::ChannelReceived {
                    channel,
                    sender: message.sender,
                    sender_verified: message.sender_verified,
                    message_id: packet.header.message_id,
                    content: message.content,
                }),
                Err(e) => {
                    self.push_event(Event::Rejected {
                        link,
                        class: e.class(),
                    });
                    return;
                }
            }
        }
        self.relay_flooded(link, Message::Channel(packet), now);
    }

    /// Schedules the rebroadcast of a Channel or GroupLite message (§13.5,
    /// §12.8), or drops it with an event.
    fn relay_flooded(&mut self, link: LinkId, message: Message, now: u64) {
        let header = message.header();
        let destination = header.destination;
        let transmitter = header.hop_id.filter(|_| self.shared(link));
        let reason = if !self.relays() {
            DropReason::NotTransport
        } else if let Some(header) = header.relayed(None) {
            let key = DuplicateFilter::key(&header);
            let relayed = with_header(&message, header);
            let coverage = self.neighbours.view(self.hop_id(), now);
            match self.flood_scheduler.schedule(
                key,
                (relayed, Some(link)),
                transmitter,
                now,
                &coverage,
            ) {
                None => return,
                Some(_) => DropReason::FloodQueueFull,
            }
        } else {
            DropReason::HopLimit
        };
        self.push_event(Event::Dropped {
            destination,
            reason,
        });
    }

    fn on_announce(
        &mut self,
        link: LinkId,
        cost: u8,
        packet: AnnouncePacket,
        now: u64,
    ) -> Result<()> {
        let outcome = self
            .table
            .ingest(&Advert::from_announce(&packet, link), cost, now)?;
        let destination = packet.announce.address();
        // From the originator itself, or relayed at hop count 1 by a
        // transmitter that heard the originator directly (§13.6.1).
        if self.shared(link) {
            let originator = HopId::of(&destination);
            match (packet.hop_count, packet.transmitter) {
                (0, _) => self.neighbours.heard(originator, now),
                (1, Some(t)) => self.neighbours.heard_relay(t, originator, now),
                _ => {}
            }
        }
        self.push_event(Event::Route {
            destination,
            decision: outcome.decision,
        });
        if outcome.decision.accepted() {
            self.release_stored(destination, now);
        }
        let Some(route) = self.table.route(&destination, now) else {
            return Ok(());
        };
        let better = outcome.decision == Decision::UpdatedBetterMetric;
        if !self.relays() || !(outcome.rebroadcast || better) {
            return Ok(());
        }
        for l in self.flood_links(Some(link)) {
            let Some(copy) = packet.relayed(route.metric, self.own_hop_id_on(l)) else {
                return Ok(());
            };
            let bytes = copy.to_bytes()?;
            if outcome.rebroadcast {
                self.queue_announce(l, destination, copy.hop_count, bytes);
            } else {
                self.scheduler
                    .update_queued(l, destination, copy.hop_count, bytes)?;
            }
        }
        Ok(())
    }

    fn on_path_request(&mut self, link: LinkId, request: PathRequest, now: u64) {
        let from = Neighbour {
            link,
            hop_id: request.transmitter,
        };
        let answer = if request.destination == self.address() {
            // Not announced yet, or asked for a sequence number more than one
            // ahead of ours (nobody can know one): nothing to answer with.
            let Some(sequence) = self.own_sequence_for(request.min_sequence) else {
                return;
            };
            Some((self.own_announce(sequence), 0))
        } else {
            self.table
                .announce_for(&request.destination, now)
                .filter(|(a, _)| a.sequence() >= request.min_sequence)
                .map(|(a, metric)| (a.clone(), metric))
        };
        if let Some((announce, cost)) = answer {
            let response = PathResponse {
                request_id: request.request_id,
                hop_count: 0,
                // The reverse path has as many relays as the request crossed.
                hop_limit: request.hop_count,
                next_hop: self.shared(link).then_some(from.hop_id).flatten(),
                transmitter: self.hop_id(),
                cost,
                announce,
            };
            self.transmit(link, request.destination, &Message::PathResponse(response));
            return;
        }
        if !self.relays() {
            return;
        }
        if request.hop_count >= request.hop_limit {
            self.push_event(Event::Dropped {
                destination: request.destination,
                reason: DropReason::HopLimit,
            });
            return;
        }
        let key = (
            MessageType::PathRequest,
            request.destination,
            request.request_id,
        );
        self.reverse.record(key, from, now);
        self.flood(&Message::PathRequest(request), Some(link));
    }

    fn on_path_response(
        &mut self,
        link: LinkId,
        cost: u8,
        response: PathResponse,
        now: u64,
    ) -> Result<()> {
        let destination = response.announce.address();
        let outcome = self
            .table
            .ingest(&Advert::from_path_response(&response, link), cost, now)?;
        self.push_event(Event::Route {
            destination,
            decision: outcome.decision,
        });
        if outcome.decision.accepted() {
            self.release_stored(destination, now);
        }
        let key = (MessageType::PathRequest, destination, response.request_id);
        if self.finish_own_request(key) {
            self.push_event(Event::PathFound { destination });
            return Ok(());
        }
        let Some(back) = self.reverse.take(key, now) else {
            self.push_event(Event::Dropped {
                destination,
                reason: DropReason::NoReversePath,
            });
            return Ok(());
        };
        let Some(route) = self.table.route(&destination, now) else {
            return Ok(());
        };
        if response.hop_count >= response.hop_limit {
            self.push_event(Event::Dropped {
                destination,
                reason: DropReason::HopLimit,
            });
            return Ok(());
        }
        let forwarded = PathResponse {
            hop_count: response.hop_count + 1,
            next_hop: self.shared(back.link).then_some(back.hop_id).flatten(),
            transmitter: self.hop_id(),
            cost: route.metric,
            ..response
        };
        self.transmit(back.link, destination, &Message::PathResponse(forwarded));
        Ok(())
    }

    /// Sends `message` on every link but a point-to-point `arrived_on`; on
    /// shared links flooded types name us as transmitter.
    fn flood(&mut self, message: &Message, arrived_on: Option<LinkId>) {
        let links = self.flood_links(arrived_on);
        let destination = message.header().destination;
        for link in links {
            let copy = match message {
                Message::PathRequest(r) => {
                    let transmitter = self.own_hop_id_on(link);
                    let copy = match arrived_on {
                        Some(_) => r.relayed(transmitter),
                        None => Some(PathRequest {
                            transmitter,
                            ..r.clone()
                        }),
                    };
                    let Some(copy) = copy else { continue };
                    Message::PathRequest(copy)
                }
                Message::Channel(_) | Message::GroupLite(_) => {
                    let header = Header {
                        hop_id: self.own_hop_id_on(link),
                        ..message.header()
                    };
                    with_header(message, header)
                }
                other => other.clone(),
            };
            self.transmit(link, destination, &copy);
        }
    }

    /// Every link but a point-to-point `arrived_on` (a shared link carries
    /// a flood on to the neighbours that did not hear it).
    fn flood_links(&self, arrived_on: Option<LinkId>) -> Vec<LinkId> {
        self.links
            .keys()
            .copied()
            .filter(|&l| Some(l) != arrived_on || self.shared(l))
            .collect()
    }

    fn request_path(&mut self, destination: Address, now: u64) {
        if self.own_request_pending(MessageType::PathRequest, destination, now) {
            return;
        }
        // A destination we knew but lost the route to must answer with a
        // newer announce: an equal sequence could lead back through us
        // (§6.1, §12.1 S5).
        let min_sequence = match self.table.route(&destination, now) {
            Some(_) => 0,
            None => self
                .table
                .known_announce(&destination)
                .map_or(0, |a| a.sequence().saturating_add(1)),
        };
        let request = PathRequest::new(
            destination,
            self.config.hop_limit,
            None,
            min_sequence,
            &mut self.rng,
        );
        self.start_own_request(request.header(), now);
        self.flood(&Message::PathRequest(request), None);
    }

    /// Whether a request of ours of this type for `destination` is still
    /// pending (purging those older than the request TTL).
    fn own_request_pending(&mut self, kind: MessageType, destination: Address, now: u64) -> bool {
        let ttl = self.config.path_request_ttl_ms;
        self.own_requests.retain(|r| r.1.saturating_add(ttl) > now);
        self.own_requests
            .iter()
            .any(|((k, d, _), _)| (*k, *d) == (kind, destination))
    }

    /// Remembers a request we originate (bounded like the reverse paths) and
    /// marks it seen, so that copies flooded back are dropped.
    fn start_own_request(&mut self, header: Header, now: u64) {
        if self.own_requests.len() == self.config.reverse_paths {
            self.own_requests.pop_front();
        }
        let key = (header.message_type, header.destination, header.message_id);
        self.own_requests.push_back((key, now));
        self.dedupe.first_sighting(&header);
    }

    /// Whether `key` was our request (and forgets it).
    fn finish_own_request(&mut self, key: RequestKey) -> bool {
        match self.own_requests.iter().position(|r| r.0 == key) {
            Some(i) => {
                self.own_requests.remove(i);
                true
            }
            None => false,
        }
    }

    /// Asks for `destination`'s `PublicIdentity` (its X-Wing key): along the
    /// route if one is known, else flooded (§6.3). The answer arrives as
    /// [`Event::KeyFetched`]; on links whose MTU is below 1287 bytes it is
    /// dropped until the LoRa link layer fragments (`spec/11`, planned).
    pub fn request_key(&mut self, destination: Address, now: u64) {
        self.advance(now);
        if !self.own_request_pending(MessageType::KeyRequest, destination, now) {
            let hop_id = self.hop_id();
            let request =
                KeyRequest::new(destination, self.config.hop_limit, hop_id, &mut self.rng);
            self.start_own_request(request.header(), now);
            self.send_key_request(request, None, now);
        }
        self.flush(now);
    }

    /// Sends a key request along the route to its destination, else floods
    /// it (naming no next hop) on every link but a point-to-point `arrived_on`.
    fn send_key_request(&mut self, request: KeyRequest, arrived_on: Option<LinkId>, now: u64) {
        let destination = request.destination;
        if let Forwarding::NextHop(route) = self.table.forwarding(&destination, now) {
            let next = route.next_hop;
            let copy = KeyRequest {
                next_hop: if self.shared(next.link) {
                    next.hop_id
                } else {
                    None
                },
                ..request
            };
            self.transmit(next.link, destination, &Message::KeyRequest(copy));
            return;
        }
        for link in self.flood_links(arrived_on) {
            let copy = KeyRequest {
                next_hop: None,
                ..request.clone()
            };
            self.transmit(link, destination, &Message::KeyRequest(copy));
        }
    }

    fn on_key_request(&mut self, link: LinkId, request: KeyRequest, now: u64) {
        let from = Neighbour {
            link,
            hop_id: Some(request.transmitter),
        };
        if request.destination == self.address() {
            let response = KeyResponse {
                request_id: request.request_id,
                hop_count: 0,
                // The reverse path has as many relays as the request crossed.
                hop_limit: request.hop_count,
                next_hop: self.shared(link).then_some(request.transmitter),
                transmitter: self.hop_id(),
                identity: self.identity.public().clone(),
            };
            self.transmit(
                link,
                request.destination,
                &Message::KeyResponse(Box::new(response)),
            );
            return;
        }
        if !self.relays() || request.hop_count >= request.hop_limit {
            let reason = if self.relays() {
                DropReason::HopLimit
            } else {
                DropReason::NotTransport
            };
            self.push_event(Event::Dropped {
                destination: request.destination,
                reason,
            });
            return;
        }
        let header = request.header();
        self.reverse.record(
            (header.message_type, header.destination, header.message_id),
            from,
            now,
        );
        let relayed = KeyRequest {
            hop_count: request.hop_count + 1,
            transmitter: self.hop_id(),
            ..request
        };
        self.send_key_request(relayed, Some(link), now);
    }

    fn on_key_response(&mut self, response: KeyResponse, now: u64) {
        let destination = response.identity.address();
        let key = (MessageType::KeyRequest, destination, response.request_id);
        if self.finish_own_request(key) {
            self.push_event(Event::KeyFetched(Box::new(response.identity)));
            return;
        }
        let Some(back) = self.reverse.take(key, now) else {
            self.push_event(Event::Dropped {
                destination,
                reason: DropReason::NoReversePath,
            });
            return;
        };
        if response.hop_count >= response.hop_limit {
            self.push_event(Event::Dropped {
                destination,
                reason: DropReason::HopLimit,
            });
            return;
        }
        let forwarded = KeyResponse {
            hop_count: response.hop_count + 1,
            next_hop: self.shared(back.link).then_some(back.hop_id).flatten(),
            transmitter: self.hop_id(),
            ..response
        };
        self.transmit(
            back.link,
            destination,
            &Message::KeyResponse(Box::new(forwarded)),
        );
    }

    fn queue_announce(
        &mut self,
        link: LinkId,
        destination: Address,
        hop_count: u8,
        bytes: Vec<u8>,
    ) {
        match self.scheduler.enqueue(link, destination, hop_count, bytes) {
            Ok(Some(dropped)) => self.push_event(Event::AnnounceDropped(dropped)),
            Ok(None) => {}
            Err(e) => self.push_event(Event::Rejected {
                link,
                class: e.class(),
            }),
        }
    }

    fn transmit(&mut self, link: LinkId, destination: Address, message: &Message) {
        if let Ok(bytes) = message.to_bytes() {
            // A refusal is reported as a drop event.
            let _ = self.transmit_bytes(link, destination, bytes);
        }
    }

    /// Queues a datagram; refuses it (with a drop event, whose reason it
    /// returns) if it exceeds the link's MTU or `max_pending` transmits
    /// wait.
    fn transmit_bytes(
        &mut self,
        link: LinkId,
        destination: Address,
        bytes: Vec<u8>,
    ) -> std::result::Result<(), DropReason> {
        let mtu = self.links.get(&link).map_or(0, |l| l.mtu);
        let refused = if bytes.len() > mtu {
            DropReason::TooLarge {
                len: bytes.len(),
                mtu,
            }
        } else if self.transmits.len() >= self.config.max_pending {
            DropReason::TransmitQueueFull
        } else {
            self.transmits.push_back(Transmit { link, bytes });
            return Ok(());
        };
        self.push_event(Event::Dropped {
            destination,
            reason: refused,
        });
        Err(refused)
    }

    fn push_event(&mut self, event: Event) {
        if self.events.len() >= self.config.max_pending {
            self.events.pop_front();
            self.events_lost = self.events_lost.saturating_add(1);
        }
        self.events.push_back(event);
    }

    /// Table events to node events, due channel rebroadcasts, then
    /// whatever announces may go now.
    fn flush(&mut self, now: u64) {
        while let Some(e) = self.table.poll_event() {
            self.push_event(Event::Table(e));
        }
        loop {
            let coverage = self.neighbours.view(self.hop_id(), now);
            let Some(release) = self.flood_scheduler.poll_release(now, &coverage) else {
                break;
            };
            match release {
                Release::Transmit((message, arrived_on)) => {
                    self.flood(&message, arrived_on);
                }
                Release::Suppressed { key, heard } => self.push_event(Event::Dropped {
                    destination: key.1,
                    reason: DropReason::Suppressed { heard },
                }),
            }
        }
        // Announces are at most 160 bytes and links carry at least 172;
        // while the transmits are full they wait in their queues.
        while self.transmits.len() < self.config.max_pending {
            let Some((link, bytes)) = self.scheduler.poll_transmit(now) else {
                break;
            };
            self.transmits.push_back(Transmit { link, bytes });
        }
    }
}

/// A flooded message (Channel or GroupLite) under another header: what a
/// relay sends (§13.5); other messages are returned unchanged.
fn with_header(message: &Message, header: Header) -> Message {
    match message {
        Message::Channel(c) => Message::Channel(ChannelPacket {
            header,
            ..c.clone()
        }),
        Message::GroupLite(p) => Message::GroupLite(EndToEndPacket {
            header,
            body: p.body.clone(),
        }),
        other => other.clone(),
    }
}
