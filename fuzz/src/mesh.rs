//! The qpc-mesh targets (`spec/10-mesh.md`): envelope headers, every
//! message by type, and the routing table, each against an independent
//! computation written from the spec in this file.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use bytes::Bytes;
use ed25519_dalek::{Signature, VerifyingKey};
use qpc_crypto::certificate::Issuer;
use qpc_crypto::identity::{Address, Identity, PUBLIC_IDENTITY_LEN};
use qpc_crypto::sealed_sender::ReceiverConfig;
use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities};
use qpc_mesh::envelope::{Envelope, Header, HopId, MessageType, LINK_LOCAL};
use qpc_mesh::fapp_frame::FappPacket;
use qpc_mesh::key_request::KeyResponse;
use qpc_mesh::message::Message;
use qpc_mesh::node::{Event, GroupHandle, LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::path_request::PathResponse;
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::{
    Advert, Decision, Forwarding, LinkId, Neighbour, RoutingConfig, RoutingTable, TableEvent,
};
use qpc_mesh::store::StoreConfig;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::node_sessions::{node_group_keys, SessionPeers};
use crate::{
    ed25519_is_canonical, mlkem_key_is_reduced, spec_address, x25519_is_low_order,
    ED25519_SMALL_ORDER,
};

/// The announce signature label (`spec/02` §6.2).
const ANNOUNCE_LABEL: &[u8] = b"qpc sig v1 mesh announce";

/// Error classes mesh decoding may produce.
const MESH_DECODE_CLASSES: &[&str] = &[
    "truncated",
    "trailing_bytes",
    "unknown_version",
    "unknown_message_type",
    "malformed",
    "address_mismatch",
    "invalid_public_key",
    "bad_signature",
    "content_too_long",
];

/// The fixed identities of the mesh targets: index 0 is the routing
/// target's local node.
static MESH_IDENTITIES: LazyLock<[Identity; 4]> = LazyLock::new(|| {
    [0x30u8, 0x31, 0x32, 0x33].map(|n| Identity::from_seeds(&[n; 32], &[n + 0x10; 32]))
});

/// The mesh fixture identities.
pub fn mesh_identities() -> &'static [Identity; 4] {
    &MESH_IDENTITIES
}

/// The header fields predicted from the spec: (type code, hop count, hop
/// limit, header length).
pub(crate) type PredictedHeader = (u8, u8, u8, usize);

/// `spec/10` §3.3 H1–H7, independently.
pub(crate) fn expected_header(d: &[u8]) -> Result<PredictedHeader, &'static str> {
    let first = *d.first().ok_or("truncated")?;
    if first >> 5 != 1 {
        return Err("unknown_version");
    }
    let code = first & 0x0f;
    if !(1..=0xc).contains(&code) {
        return Err("unknown_message_type");
    }
    let hops = *d.get(1).ok_or("truncated")?;
    if hops >> 4 > hops & 0x0f {
        return Err("malformed");
    }
    let len = if first & 0x10 != 0 { 30 } else { 22 };
    if d.len() < len {
        return Err("truncated");
    }
    Ok((code, hops >> 4, hops & 0x0f, len))
}

/// `spec/10` §4.5 A2–A4 on raw fields, independently.
fn expected_announce(dest: &[u8], seq: &[u8], body: &[u8]) -> Result<(), &'static str> {
    let (caps, key, digest, sig) = (body[1], &body[2..34], &body[34..66], &body[66..130]);
    if spec_address(key, digest)[..] != dest[..] {
        return Err("address_mismatch");
    }
    let key: [u8; 32] = key.try_into().expect("32 bytes");
    if !ed25519_is_canonical(&key) || ED25519_SMALL_ORDER.contains(&key) {
        return Err("invalid_public_key");
    }
    let Ok(verifying) = VerifyingKey::from_bytes(&key) else {
        return Err("invalid_public_key");
    };
    let signed = [
        &[ANNOUNCE_LABEL.len() as u8][..],
        ANNOUNCE_LABEL,
        dest,
        seq,
        &[caps],
        digest,
    ]
    .concat();
    let sig = Signature::from_bytes(sig.try_into().expect("64 bytes"));
    verifying
        .verify_strict(&signed, &sig)
        .map_err(|_| "bad_signature")
}

/// `spec/10` §6.3 K4–K5 (with `spec/02` §3.3 steps 2–5) on 1249 identity
/// bytes, independently.
fn expected_identity(dest: &[u8], identity: &[u8]) -> Result<(), &'static str> {
    if identity[0] != 1 {
        return Err("unknown_version");
    }
    let key: [u8; 32] = identity[1..33].try_into().expect("32 bytes");
    let kem = &identity[33..];
    let key_ok = ed25519_is_canonical(&key)
        && !ED25519_SMALL_ORDER.contains(&key)
        && VerifyingKey::from_bytes(&key).is_ok();
    if !key_ok || !mlkem_key_is_reduced(&kem[..1184]) || x25519_is_low_order(&kem[1184..]) {
        return Err("invalid_public_key");
    }
    let digest: [u8; 32] = Sha256::digest(kem).into();
    if spec_address(&key, &digest)[..] != dest[..] {
        return Err("address_mismatch");
    }
    Ok(())
}

/// The whole of §3.3, §3.4, §4.5, §6.2, §6.3 and §8 (and the opaque
/// bodies of `spec/12`), independently.
fn expected_message(d: &[u8]) -> Result<(), &'static str> {
    let (code, _, _, len) = expected_header(d)?;
    let (dest, mid, body) = (&d[2..18], &d[18..22], &d[len..]);
    let exact = |want: usize| match body.len() {
        n if n < want => Err("truncated"),
        n if n > want => Err("trailing_bytes"),
        _ => Ok(()),
    };
    match code {
        1 => exact(130).and_then(|()| expected_announce(dest, mid, body)),
        2 => exact(4),
        3 => exact(142).and_then(|()| expected_announce(dest, &body[8..12], &body[12..])),
        4 => (!body.is_empty()).then_some(()).ok_or("truncated"),
        5 => exact(8),
        6 => exact(8 + PUBLIC_IDENTITY_LEN).and_then(|()| expected_identity(dest, &body[8..])),
        7 => exact(16),
        // §12.2 HA1-HA2: a HopAck is a bare header with hop limit 0.
        8 if d[1] & 0x0f != 0 => Err("malformed"),
        8 => exact(0),
        // Session and GroupLite bodies: end to end, not empty (spec/12).
        0xa | 0xb => (!body.is_empty()).then_some(()).ok_or("truncated"),
        // §14.1 F1-F2: a link-local FAPP frame has hop limit 0; the
        // transmitter (and a routed frame's reply address) and one byte.
        0xc if dest.iter().all(|&b| b == 0) && d[1] & 0x0f != 0 => Err("malformed"),
        0xc if dest.iter().all(|&b| b == 0) => (body.len() > 8).then_some(()).ok_or("truncated"),
        0xc => (body.len() > 24).then_some(()).ok_or("truncated"),
        // A Channel body: length only (§13.4 C1).
        _ => match body.len() {
            n if n < 41 => Err("truncated"),
            n if n > 142 => Err("content_too_long"),
            _ => Ok(()),
        },
    }
}

/// Fuzzes [`Envelope::decode`]: the outcome (and which check fires) equals
/// §3.3 computed independently; accepted ⇒ the fields are the input's
/// bytes, the envelope re-encodes to the input, and relaying adds exactly
/// one hop until the limit.
pub fn mesh_envelope(data: &[u8]) {
    let got = Envelope::decode(Bytes::copy_from_slice(data));
    match (expected_header(data), got) {
        (Err(class), Err(e)) => assert_eq!(e.class(), class, "{e:?}"),
        (Ok((code, count, limit, len)), Ok(env)) => {
            let h = &env.header;
            assert_eq!(
                (h.message_type.code(), h.hop_count, h.hop_limit),
                (code, count, limit)
            );
            assert_eq!(h.destination.as_bytes()[..], data[2..18]);
            assert_eq!(h.message_id.to_be_bytes()[..], data[18..22]);
            assert_eq!(
                h.hop_id.map(|HopId(b)| b.to_vec()),
                (len == 30).then(|| data[22..30].to_vec())
            );
            assert_eq!(env.body[..], data[len..]);
            assert_eq!(env.to_bytes().expect("re-encodes"), data);
            match h.relayed(Some(HopId([0xee; 8]))) {
                None => assert_eq!(count, limit),
                Some(next) => {
                    assert_eq!((next.hop_count, next.hop_limit), (count + 1, limit));
                    let mut out = Vec::new();
                    next.encode(&mut out).expect("relayed header encodes");
                    assert_eq!(out.len(), 30);
                }
            }
        }
        (want, got) => panic!("expected {want:?}, got {got:?}"),
    }
}

/// Input selector of [`mesh_message`].
pub mod message_mode {
    /// The rest of the input is the datagram.
    pub const RAW: u8 = 0x00;
    /// The rest builds a genuine message, then mutates it (see
    /// [`super::genuine_message`]).
    pub const BUILD: u8 = 0x01;
}

/// A genuine datagram from `spec` bytes, then mutated: `spec[0]` kind (bit
/// 3: a FAPP frame, see `genuine_fapp_frame`, else bit 2: a key response
/// with the identity, else bit 0: path response, else an announce; bit 1:
/// with a hop id), `spec[1..5]` sequence,
/// `spec[5]` capabilities, `spec[6]` cost, `spec[7]` hops (the count is
/// capped at the limit), `spec[8]` identity index; then pairs (position,
/// xor mask) applied to the datagram. `None` if `spec` is shorter than 9.
pub fn genuine_message(spec: &[u8]) -> Option<Vec<u8>> {
    let head = spec.get(..9)?;
    let identity = &mesh_identities()[usize::from(head[8]) % 4];
    let sequence = u32::from_be_bytes(head[1..5].try_into().expect("4 bytes"));
    let announce = Announce::sign(identity, sequence, Capabilities(head[5]));
    let limit = head[7] & 0x0f;
    let count = (head[7] >> 4).min(limit);
    let hop = (head[0] & 0x02 != 0).then_some(HopId([0xa5; 8]));
    let mut bytes = if head[0] & 0x08 != 0 {
        genuine_fapp_frame(head, identity, hop, count, limit)
    } else if head[0] & 0x04 != 0 {
        KeyResponse {
            request_id: sequence,
            hop_count: count,
            hop_limit: limit,
            next_hop: hop,
            transmitter: HopId([0x5a; 8]),
            identity: identity.public().clone(),
        }
        .to_bytes()
    } else if head[0] & 0x01 == 0 {
        AnnouncePacket {
            hop_count: count,
            hop_limit: limit,
            transmitter: hop,
            cost: head[6],
            announce,
        }
        .to_bytes()
    } else {
        PathResponse {
            request_id: sequence.rotate_left(8),
            hop_count: count,
            hop_limit: limit,
            next_hop: hop,
            transmitter: HopId([0x5a; 8]),
            cost: head[6],
            announce,
        }
        .to_bytes()
    }
    .expect("genuine message encodes");
    for pair in spec[9..].chunks_exact(2) {
        let at = usize::from(pair[0]) % bytes.len();
        bytes[at] ^= pair[1];
    }
    Some(bytes)
}

/// A FAPP frame (§14) for `genuine_message`: link-local if `head[6]` bit 0
/// (hop fields 0), else routed to `identity` with `head[6]` bit 1 naming a
/// reply address; the payload is `head[1..5]`.
fn genuine_fapp_frame(
    head: &[u8],
    identity: &Identity,
    hop: Option<HopId>,
    count: u8,
    limit: u8,
) -> qpc_mesh::Result<Vec<u8>> {
    let link_local = head[6] & 0x01 != 0;
    let (destination, hop_count, hop_limit) = match link_local {
        true => (LINK_LOCAL, 0, 0),
        false => (identity.public().address(), count, limit),
    };
    FappPacket {
        header: Header {
            message_type: MessageType::Fapp,
            hop_count,
            hop_limit,
            destination,
            message_id: u32::from(head[5]),
            hop_id: hop,
        },
        transmitter: HopId([0x5a; 8]),
        reply: (!link_local && head[6] & 0x02 != 0).then(|| Address::from_bytes([head[5] | 1; 16])),
        payload: Bytes::copy_from_slice(&head[1..5]),
    }
    .to_bytes()
}

/// Fuzzes [`Message::decode`]. The first byte is a [`message_mode`]. The
/// outcome equals §3.3–§6.2 computed independently (header checks, body
/// lengths, the address formula, strict key and signature checks with
/// `ed25519-dalek` over the spec's signed bytes); errors are decoding
/// classes only; accepted ⇒ re-encodes to the input and an announce's
/// fields are the input's bytes.
pub fn mesh_message(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let datagram = match mode {
        message_mode::BUILD => match genuine_message(rest) {
            Some(d) => d,
            None => return,
        },
        _ => rest.to_vec(),
    };
    let got = Message::decode(Bytes::copy_from_slice(&datagram));
    if let Err(e) = &got {
        assert!(MESH_DECODE_CLASSES.contains(&e.class()), "{e:?}");
    }
    match (expected_message(&datagram), got) {
        (Err(class), Err(e)) => assert_eq!(e.class(), class, "{e:?}"),
        (Ok(()), Ok(m)) => {
            assert_eq!(m.to_bytes().expect("re-encodes"), datagram);
            if let Message::Announce(p) = &m {
                assert_eq!(
                    p.announce.signing_key()[..],
                    datagram[datagram.len() - 128..][..32]
                );
                assert_eq!(p.announce.sequence().to_be_bytes()[..], datagram[18..22]);
            }
        }
        (want, got) => panic!("expected {want:?}, got {got:?}"),
    }
}

/// The routing target's table bounds.
pub const ROUTING_CONFIG: RoutingConfig = RoutingConfig {
    capacity: 3,
    route_lifetime_ms: 1000,
    hold_ms: 400,
    max_routes_per_neighbour: 2,
};
/// Link costs of the routing target (link i costs `LINK_COSTS[i]`).
pub const LINK_COSTS: [u8; 3] = [1, 9, 200];

/// An independent model of `spec/10` §5 for the routing target: address →
/// (sequence, metric, hops, neighbour, live?, deadline).
#[derive(Default)]
struct Model {
    entries: BTreeMap<Address, (u32, u8, u8, Neighbour, bool, u64)>,
    events: Vec<TableEvent>,
}

impl Model {
    fn expire(&mut self, now: u64) {
        let hold = ROUTING_CONFIG.hold_ms;
        let mut gone = Vec::new();
        for (a, e) in self.entries.iter_mut() {
            if e.4 && e.5 <= now {
                (e.4, e.5) = (false, e.5 + hold);
                self.events.push(TableEvent::Expired(*a));
            }
            if !e.4 && e.5 <= now {
                gone.push(*a);
                self.events.push(TableEvent::Forgotten(*a));
            }
        }
        for a in gone {
            self.entries.remove(&a);
        }
    }

    fn ingest(
        &mut self,
        local: Address,
        a: &Advert,
        cost: u8,
        now: u64,
    ) -> Result<(Decision, bool, Option<Address>), u32> {
        self.expire(now);
        let address = a.announce.address();
        let seq = a.announce.sequence();
        let metric = a.cost.saturating_add(cost);
        let relay = a.hop_count < a.hop_limit;
        if address == local {
            return Ok((Decision::OwnAddress, false, None));
        }
        if metric == 255 {
            return Ok((Decision::Unreachable, false, None));
        }
        let fresh = (
            seq,
            metric,
            a.hop_count + 1,
            a.from,
            true,
            now + ROUTING_CONFIG.route_lifetime_ms,
        );
        match self.entries.get(&address).copied() {
            None => {
                let via = self
                    .entries
                    .values()
                    .filter(|e| e.3 == a.from && e.4)
                    .count();
                if via >= ROUTING_CONFIG.max_routes_per_neighbour {
                    return Ok((Decision::NeighbourQuota, false, None));
                }
                let mut evicted = None;
                if self.entries.len() >= ROUTING_CONFIG.capacity {
                    let victim = *self
                        .entries
                        .iter()
                        .min_by_key(|(k, e)| (e.4, e.5, **k))
                        .expect("full")
                        .0;
                    self.entries.remove(&victim);
                    evicted = Some(victim);
                }
                self.entries.insert(address, fresh);
                Ok((Decision::Installed, relay, evicted))
            }
            Some(e) if seq < e.0 => Err(e.0),
            Some(e) if seq > e.0 => {
                self.entries.insert(address, fresh);
                Ok((Decision::UpdatedNewerSequence, relay, None))
            }
            Some(e) if metric < e.1 => {
                self.entries.insert(address, fresh);
                Ok((Decision::UpdatedBetterMetric, false, None))
            }
            Some(_) => Ok((Decision::NotFeasible, false, None)),
        }
    }
}

/// Fuzzes [`RoutingTable`] against an independent model of §5. The input
/// is a list of 4-byte operations `[op, a, b, c]`; time advances by
/// `(op >> 4) * 97` ms before each. `op & 3`: 0 and 1 receive an announce
/// of identity `a % 4` (0 is the local node) with sequence `b % 6`, cost
/// `c`, on link `(op >> 2) % 3`, from neighbour hop id `b >> 6`, hop count
/// `(c & 1) * 7` of limit 7; 2 applies expiry; 3 looks up identity `a % 4`.
/// Every decision, error, event and lookup equals the model's; the table
/// never exceeds its capacity.
pub fn mesh_routing(data: &[u8]) {
    let ids = mesh_identities();
    let local = ids[0].public().address();
    let mut table = RoutingTable::new(local, ROUTING_CONFIG).expect("valid config");
    let mut model = Model::default();
    let mut now = 0u64;
    for op in data.chunks_exact(4).take(256) {
        now += u64::from(op[0] >> 4) * 97;
        match op[0] & 3 {
            0 | 1 => {
                let link = usize::from(op[0] >> 2) % 3;
                let advert = Advert {
                    announce: Announce::sign(
                        &ids[usize::from(op[1]) % 4],
                        u32::from(op[2] % 6),
                        Capabilities(0),
                    ),
                    cost: op[3],
                    hop_count: (op[3] & 1) * 7,
                    hop_limit: 7,
                    from: Neighbour {
                        link: LinkId(link as u16),
                        hop_id: Some(HopId([op[2] >> 6; 8])),
                    },
                };
                let got = table.ingest(&advert, LINK_COSTS[link], now);
                let want = model.ingest(local, &advert, LINK_COSTS[link], now);
                match (got, want) {
                    (Ok(o), Ok((decision, rebroadcast, evicted))) => {
                        assert_eq!(
                            (o.decision, o.rebroadcast, o.evicted),
                            (decision, rebroadcast, evicted)
                        );
                    }
                    (Err(e), Err(known)) => assert_eq!(
                        e,
                        qpc_mesh::Error::Stale {
                            sequence: advert.announce.sequence(),
                            known
                        }
                    ),
                    (got, want) => panic!("table {got:?}, model {want:?}"),
                }
            }
            2 => {
                table.handle_timeout(now);
                model.expire(now);
            }
            _ => {
                let dest = ids[usize::from(op[1]) % 4].public().address();
                let want = if dest == local {
                    Forwarding::Local
                } else {
                    match model.entries.get(&dest) {
                        Some(e) if e.4 && e.5 > now => {
                            let route =
                                table.route(&dest, now).expect("the model has a live route");
                            assert_eq!(
                                (
                                    route.sequence,
                                    route.metric,
                                    route.hops,
                                    route.next_hop,
                                    route.expires_at
                                ),
                                (e.0, e.1, e.2, e.3, e.5)
                            );
                            Forwarding::NextHop(route)
                        }
                        _ => Forwarding::Flood,
                    }
                };
                assert_eq!(table.forwarding(&dest, now), want);
            }
        }
        let events: Vec<_> = std::iter::from_fn(|| table.poll_event()).collect();
        assert_eq!(events, std::mem::take(&mut model.events));
        assert!(table.len() <= ROUTING_CONFIG.capacity);
        assert_eq!(table.len(), model.entries.len());
    }
}

/// The node target's links: a shared LoRa-like link and a point-to-point one.
const NODE_LINKS: [(u16, usize, u8, bool); 2] = [(0, 222, 9, true), (1, 4096, 1, false)];
/// The node target's bound on pending transmits and events (small, so that
/// the bound is reached).
pub const NODE_MAX_PENDING: usize = 8;

/// The node target's store bounds (small, so that they are reached).
pub const NODE_STORE: StoreConfig = StoreConfig {
    max_messages: 4,
    max_per_destination: 2,
    max_bytes: 8192,
    ttl_ms: 60_000,
};

/// A `mesh_node` item whose kind has bit 5 set: `spec[0] % 4 == 3` makes
/// the node resume its session with the peer `spec[0]` bit 2 picks (no
/// datagram), anything else is a [`SessionPeers::lite_message`] spec.
fn lite_item(
    node: &mut MeshNode,
    peers: &mut SessionPeers,
    spec: &[u8],
    now: u64,
) -> Option<Vec<u8>> {
    match spec.first() {
        Some(action) if action % 4 == 3 => {
            let _ = node.resume_session(&SessionPeers::peer(action >> 2), now);
            None
        }
        _ => peers.lite_message(spec),
    }
}

/// The handle of the `mesh_node` target's MLS-Lite group.
const FUZZ_GROUP: GroupHandle = GroupHandle(0x6c);

fn fuzz_node_config() -> NodeConfig {
    NodeConfig {
        routing: ROUTING_CONFIG,
        dedupe_capacity: 16,
        reverse_paths: 4,
        path_request_ttl_ms: 5000,
        max_pending: NODE_MAX_PENDING,
        store: NODE_STORE,
        hop_ack_timeout_ms: 2000,
        path_retry_ms: 3000,
        max_outstanding: 2,
        received_capacity: 4,
        ..NodeConfig::default()
    }
}

/// The local node is identity 0 of [`mesh_identities`], rebuilt from its seeds.
fn fuzz_identity() -> Identity {
    Identity::from_seeds(&[0x30; 32], &[0x40; 32])
}

fn fuzz_node() -> MeshNode {
    let mut rng = ChaCha20Rng::from_seed([0x55; 32]);
    let mut node =
        MeshNode::new(fuzz_identity(), fuzz_node_config(), 1, &mut rng).expect("valid config");
    let issuer = Issuer::from_seed(&[0x66; 32]);
    let certificate = issuer.issue(node.identity(), u64::MAX);
    node.enable_messaging(
        certificate,
        vec![issuer.trust_root().clone()],
        ReceiverConfig::default(),
    )
    .expect("our certificate");
    for (id, mtu, cost, shared) in NODE_LINKS {
        let link = LinkConfig {
            mtu,
            cost,
            budget: AirtimeBudget::two_percent(50_000),
            shared,
        };
        node.add_link(LinkId(id), link, 0).expect("valid link");
    }
    node
}

/// Fuzzes [`MeshNode`] with a sequence of datagrams. Each item starts with
/// a control byte: bits 0-1 the link (2 and 3 are unknown links), bit 2 a
/// timer call before the datagram, bits 4-7 time advancing in seconds; then
/// a length byte `n` and, if bit 3 is set, a [`genuine_message`] spec of
/// `n` bytes (a [`SessionPeers::lite_message`] spec instead if its first
/// byte has bit 5 set, its second byte `% 4 == 3` making the node resume
/// its session with a peer instead of a datagram; a
/// [`SessionPeers::message`] spec if bit 4 is set; bit 3 of that byte
/// makes a FAPP frame), else a raw datagram of `n` bytes. Properties: nothing panics;
/// every transmit decodes (and verifies) as a message and fits its link's
/// MTU; at most [`NODE_MAX_PENDING`] transmits and events wait; the table
/// stays within its capacity; after a timer call the next timeout is in the
/// future; the store stays within its bounds; the exported state restores
/// to a node that exports the same bytes (the same length once sessions,
/// whose reserved counters move on, are in it); every Data the node seals
/// opens at its peer, and every GroupLite message it originates at a
/// fellow member. The node starts with a message of its own to
/// identity 1 in flight, an establishment with identity 2 and an MLS-Lite
/// group installed, so that its store, receipt tracking, sessions and
/// group are exercised; each established session is sent a message, the
/// group a message after each item (refused until a reservation), and the
/// state is exported after every datagram, as a driver does.
pub fn mesh_node(data: &[u8]) {
    let mut node = fuzz_node();
    let mut now = 1u64;
    node.announce(now).expect("first announce");
    node.send(mesh_identities()[1].public(), b"fuzz", now)
        .expect("one message fits");
    node.open_session(mesh_identities()[2].public(), now)
        .expect("a session may be opened");
    let mut peers = SessionPeers::new();
    // A FAPP frame of ours in flight too, naming a reply address (§14.3).
    let reply = Address::from_bytes([0x73; 16]);
    node.send_fapp_routed(
        mesh_identities()[2].public().address(),
        Some(reply),
        b"fapp",
        now,
    )
    .expect("a FAPP frame");
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        now += u64::from(control >> 4) * 1000;
        if control & 0x04 != 0 {
            node.handle_timeout(now);
            assert!(
                node.poll_timeout().is_none_or(|t| t > now),
                "timer not in the future"
            );
        }
        let datagram = if control & 0x08 != 0 {
            let genuine = match body.first() {
                Some(kind) if kind & 0x20 != 0 => {
                    // The group is installed with the first such item
                    // (installing it again is refused: same epoch).
                    let _ = node.join_group(FUZZ_GROUP, &node_group_keys(), now);
                    lite_item(&mut node, &mut peers, &body[1..], now)
                }

                Some(kind) if kind & 0x10 != 0 => peers.message(&body[1..]),
                _ => genuine_message(body),
            };
            match genuine {
                Some(d) => d,
                None => continue,
            }
        } else {
            body.to_vec()
        };
        node.handle_datagram(
            LinkId(u16::from(control & 0x03)),
            Bytes::from(datagram),
            now,
        );
        // Refused until an export reserved counters (spec/12 §B.5), or
        // before the group is installed.
        let _ = node.send_group(&FUZZ_GROUP, b"group", now);
        let mut transmits = 0;
        while let Some(t) = node.poll_transmit() {
            transmits += 1;
            let mtu = NODE_LINKS
                .iter()
                .find(|l| l.0 == t.link.0)
                .expect("a configured link")
                .1;
            assert!(t.bytes.len() <= mtu);
            peers.observe(&t.bytes);
            if let Err(e) = Message::decode(Bytes::from(t.bytes)) {
                panic!("the node sent an invalid datagram: {e}");
            }
        }
        assert!(transmits <= NODE_MAX_PENDING);
        let events: Vec<Event> = std::iter::from_fn(|| node.poll_event()).collect();
        assert!(events.len() <= NODE_MAX_PENDING);
        for event in events {
            if let Event::SessionEstablished { peer } = event {
                let identity = mesh_identities()
                    .iter()
                    .find(|i| i.public().address() == peer)
                    .expect("a fixture peer");
                // Refused only when every receipt place is taken.
                let _ = node.send(identity.public(), b"in session", now);
            }
        }
        node.export_state().expect("state encodes");
        assert!(node.routing_table().len() <= ROUTING_CONFIG.capacity);
        let store = node.store();
        assert!(store.len() <= NODE_STORE.max_messages && store.bytes() <= NODE_STORE.max_bytes);
    }
    let state = node.export_state().expect("state encodes");
    let mut rng = ChaCha20Rng::from_seed([0x77; 32]);
    let mut restored = MeshNode::restore(fuzz_identity(), fuzz_node_config(), &state, &mut rng)
        .expect("an exported state restores");
    let again = restored.export_state().expect("state encodes");
    // Reserved counters of sessions and the group move on with each export.
    if node.sessions() == 0 && node.group_epoch(&FUZZ_GROUP).is_none() {
        assert_eq!(again, state);
    } else {
        assert_eq!(again.len(), state.len());
    }
}
