//! # qpc-mesh
//!
//! The qpc mesh (`spec/10-mesh.md`). Implemented so far:
//!
//! - [`envelope`]: the compact envelope header (22 bytes, 30 with a hop id);
//! - [`announce`]: signed announces proving the address binding (152 bytes,
//!   160 relayed);
//! - [`path_request`]: path requests and responses;
//! - [`key_request`]: fetching an identity's X-Wing key on demand;
//! - [`reverse_path`]: the bounded records that route answers back;
//! - [`fapp_frame`]: type `0xc`, FAPP bodies carried link-local or routed
//!   (`spec/20-fapp.md` §8.1), which the node hands to the application;
//! - [`message`]: every message decoded by its type;
//! - [`routing`]: the sans-IO routing table (sequence numbers, feasibility,
//!   expiry, bounded with eviction and a per-neighbour quota);
//! - [`rebroadcast`]: the announce rebroadcast scheduler (once per announce,
//!   an airtime share per link, lowest hop count first);
//! - [`dedupe`]: the bounded duplicate filter;
//! - [`channel`]: authenticated broadcast channels (ChaCha20-Poly1305
//!   under a channel key, optionally signed by the sender);
//! - [`flood`]: managed flooding, counter-based rebroadcast suppression;
//! - [`neighbours`]: two-hop neighbourhoods learnt from heard frames, which
//!   managed flooding consults;
//! - [`delivery`]: sender-side receipt tracking (retry with backoff and
//!   jitter, give-up);
//! - [`receipt`]: MeshData (sealed content with a receipt key), end-to-end
//!   Receipts and hop-by-hop HopAcks (§12);
//! - [`store`]: the bounded store-and-forward message store (§12.1);
//! - [`node`]: `MeshNode`, the sans-IO engine over all of the above
//!   (announcing, relaying, path requests and responses, sealed messages
//!   sent end to end, stored and forwarded with custody hand-off and
//!   confirmed by receipts, exported and restored state);
//! - [`sim`]: a deterministic discrete-event simulator (virtual time, radio
//!   media with per-edge latency and loss, bitrate and MTU, point-to-point
//!   links, offline nodes and restarts), line, grid and random geometric
//!   topologies, per-message metrics, SVG plots and scenarios; the
//!   `qpc-mesh-sim` binary (feature `cli`) runs them (`SIMULATION.md`);
//! - [`session`]: post-quantum pairwise sessions for LoRa (X-Wing both
//!   ways, a symmetric ratchet, resumption without a KEM; 46 bytes on air
//!   for 4 bytes of text; `spec/12-mls-lite.md` part A);
//! - [`group_lite`]: MLS-Lite, group messages under keys from an MLS
//!   exporter secret, 23 bytes of overhead (`spec/12-mls-lite.md` part B);
//! - [`lora`]: the LoRa link layer (`spec/11-lora-link.md`): radio
//!   profiles and region plans, exact airtime, duty-cycle budgets, the
//!   priority link queue, fragmentation with selective repeat.
//!
//! Still to come (see the issues): sessions, MLS-Lite and the LoRa link
//! layer inside `MeshNode` and the simulator.
//!
//! An announce from its originator, received by a neighbour over a shared
//! LoRa link of cost 9, verified, routed on and queued for rebroadcast:
//!
//! ```
//! use qpc_crypto::identity::Identity;
//! use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities};
//! use qpc_mesh::envelope::HopId;
//! use qpc_mesh::message::Message;
//! use qpc_mesh::rebroadcast::{AirtimeBudget, AnnounceScheduler};
//! use qpc_mesh::routing::{Advert, Decision, Forwarding, LinkId, RoutingConfig, RoutingTable};
//!
//! let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
//! let relay = Identity::from_seeds(&[3; 32], &[4; 32]);
//! let packet = AnnouncePacket {
//!     hop_count: 0,
//!     hop_limit: 7,
//!     transmitter: None,
//!     cost: 0,
//!     announce: Announce::sign(&alice, 1, Capabilities(Capabilities::TRANSPORT)),
//! };
//! let datagram = packet.to_bytes()?;
//! assert_eq!(datagram.len(), 152);
//!
//! // The relay decodes and verifies it, then asks its routing table.
//! let Message::Announce(received) = Message::decode(datagram.into())? else { unreachable!() };
//! let lora = LinkId(0);
//! let mut table = RoutingTable::new(relay.public().address(), RoutingConfig::default())?;
//! let outcome = table.ingest(&Advert::from_announce(&received, lora), 9, 0)?;
//! assert_eq!(outcome.decision, Decision::Installed);
//! let Forwarding::NextHop(route) = table.forwarding(&alice.public().address(), 1) else { unreachable!() };
//! assert_eq!((route.metric, route.next_hop.link), (9, lora));
//!
//! // One more hop, its own metric as cost, its hop id as transmitter: 160 bytes.
//! let relayed = AnnouncePacket {
//!     hop_count: 1,
//!     cost: route.metric,
//!     transmitter: Some(HopId::of(&relay.public().address())),
//!     ..received
//! };
//! let mut scheduler = AnnounceScheduler::new();
//! scheduler.add_link(lora, AirtimeBudget::two_percent(1760), 0)?;
//! scheduler.enqueue(lora, alice.public().address(), 1, relayed.to_bytes()?)?;
//! let (link, bytes) = scheduler.poll_transmit(0).expect("the bucket starts full");
//! assert_eq!((link, bytes.len()), (lora, 160));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```
//!
//! Nothing here owns I/O: time comes in as `now` (milliseconds, monotonic)
//! and randomness as `&mut impl rand_core::CryptoRng`.

pub mod announce;
pub mod channel;
pub mod dedupe;
pub mod delivery;
pub mod envelope;
mod error;
pub mod fapp_frame;
pub mod flood;
pub mod group_lite;
pub mod key_request;
pub mod lora;
pub mod message;
pub mod neighbours;
pub mod node;
pub mod path_request;
pub mod rebroadcast;
pub mod receipt;
pub mod reverse_path;
pub mod routing;
pub mod session;
pub mod sim;
pub mod store;
mod symmetric;

pub use error::{Error, Result};
