//! `channel.json`: vectors for `spec/10-mesh.md` §13 — broadcast channels:
//!
//! - `derive`: a channel key's id and AEAD key (§13.2);
//! - `seal`: a message sealed with a fixed message id and nonce extension,
//!   unsigned and signed (§13.3), or refused (`content_too_long`);
//! - `open`: a datagram opened by a member that may know the sender's
//!   Ed25519 key (§13.4), or refused with the class of the check that fires;
//! - `flood_delay`: the managed-flooding rebroadcast delay (§13.6);
//! - `flood_window`: the delay window weighted by new coverage (§13.6);
//! - `flood_decision`: a transcript of one flooded message at one node
//!   (§13.6 steps 1–5 over a known two-hop neighbourhood, §13.6.1): copies
//!   heard and polls, with what each poll releases.
//!
//! Negative `open` vectors with bad flags, a missing or bad signature are
//! built by hand here (ChaCha20-Poly1305 over an attacker's plaintext).

use bytes::Bytes;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use qpc_crypto::identity::{Address, Identity};
use qpc_mesh::channel::{associated_data, Channel, ChannelKey, ChannelPacket};
use qpc_mesh::dedupe::DedupeKey;
use qpc_mesh::envelope::{Envelope, HopId};
use qpc_mesh::flood::{self, FloodConfig, FloodScheduler, Release};
use qpc_mesh::neighbours::{NeighbourConfig, NeighbourTable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `channel.json`.
pub const PROTOCOL: &str = "qpc-mesh-channel";

/// One vector of `channel.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: ChannelCase,
}

/// What the sender of a `seal` vector is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sender {
    /// Ed25519 seed.
    #[serde(with = "hex::serde")]
    pub signing_seed: Vec<u8>,
    /// X-Wing seed (it only determines the address).
    #[serde(with = "hex::serde")]
    pub kem_seed: Vec<u8>,
    /// The identity's address (`spec/02` §4).
    #[serde(with = "hex::serde")]
    pub address: Vec<u8>,
    /// The Ed25519 public key.
    #[serde(with = "hex::serde")]
    pub signing_key: Vec<u8>,
}

/// The kinds of channel vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelCase {
    /// Derive the id and AEAD key of `key`.
    Derive {
        /// The channel key.
        #[serde(with = "hex::serde")]
        key: Vec<u8>,
        /// SHA-256("qpc mesh channel id v1" || key)[..16].
        #[serde(with = "hex::serde")]
        channel_id: Vec<u8>,
        /// SHA-256("qpc mesh channel aead v1" || key).
        #[serde(with = "hex::serde")]
        aead_key: Vec<u8>,
    },
    /// Seal `content` from `sender`.
    Seal {
        /// The channel key.
        #[serde(with = "hex::serde")]
        key: Vec<u8>,
        /// The sender.
        sender: Sender,
        /// Whether to sign.
        signed: bool,
        /// The hop limit.
        hop_limit: u8,
        /// The message id.
        message_id: u32,
        /// The nonce extension.
        #[serde(with = "hex::serde")]
        nonce_extension: Vec<u8>,
        /// The content.
        #[serde(with = "hex::serde")]
        content: Vec<u8>,
        /// The datagram (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datagram: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode `datagram` and open it with `key`.
    Open {
        /// The channel key.
        #[serde(with = "hex::serde")]
        key: Vec<u8>,
        /// The datagram.
        #[serde(with = "hex::serde")]
        datagram: Vec<u8>,
        /// The Ed25519 key the member knows for the sender, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        known_signing_key: Option<HexBytes>,
        /// The outcome (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opened: Option<Opened>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// The rebroadcast delay of a message at a node.
    FloodDelay {
        /// The node's hop id.
        #[serde(with = "hex::serde")]
        hop_id: Vec<u8>,
        /// The message type code.
        message_type: u8,
        /// The envelope destination.
        #[serde(with = "hex::serde")]
        destination: Vec<u8>,
        /// The message id.
        message_id: u32,
        /// The window, ms.
        window_ms: u64,
        /// The delay, ms.
        delay_ms: u64,
    },
    /// The rebroadcast window weighted by new coverage.
    FloodWindow {
        /// The configured window, ms.
        window_ms: u64,
        /// Neighbours the first transmitter leaves uncovered (absent:
        /// unknown).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uncovered: Option<usize>,
        /// Live neighbours.
        neighbours: usize,
        /// The window the delay is drawn from, ms.
        weighted_window_ms: u64,
    },
    /// A flooded message's life at one node.
    FloodDecision(FloodDecision),
}

/// A `flood_decision` transcript: a node with a known two-hop
/// neighbourhood relays (or originates) one message at time 0, then hears
/// copies and polls its scheduler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FloodDecision {
    /// The node's hop id.
    #[serde(with = "hex::serde")]
    pub own_hop_id: Vec<u8>,
    /// The message type code.
    pub message_type: u8,
    /// The envelope destination.
    #[serde(with = "hex::serde")]
    pub destination: Vec<u8>,
    /// The message id.
    pub message_id: u32,
    /// The node's live neighbours and what it learnt of theirs (N1, N2).
    pub neighbours: Vec<FloodNeighbour>,
    /// The scheduler's policy.
    pub config: FloodPolicy,
    /// Whether the node relays the message or originated it.
    pub role: FloodRole,
    /// A relay: the transmitter of the first copy (null: none named).
    pub first_transmitter: Option<HexBytes>,
    /// When the entry is first due, ms after time 0.
    pub due_ms: u64,
    /// Events in time order.
    pub steps: Vec<FloodStep>,
}

/// A neighbour and its known neighbours (empty: unknown).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodNeighbour {
    /// Its hop id.
    pub hop_id: HexBytes,
    /// Its neighbours, learnt from the announces it relayed at hop count 1.
    pub theirs: Vec<HexBytes>,
}

/// The parts of [`FloodConfig`] a transcript depends on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodPolicy {
    /// The window, ms.
    pub window_ms: u64,
    /// Copies that suppress when nothing is known.
    pub threshold: u16,
    /// Copies that cover a neighbour.
    pub cover: u8,
    /// A coverage-decided relay that heard fewer copies waits for its
    /// implicit acknowledgement.
    pub echo_below: u16,
    /// The originator's repeats.
    pub origin_repeats: u8,
}

/// What the node does with the message at time 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloodRole {
    /// It received the message first and schedules its rebroadcast.
    Relay,
    /// It sent the message itself (on every link, at once).
    Originator,
}

/// One event of a `flood_decision` transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FloodStep {
    /// The scheduler is polled.
    Poll(PollStep),
    /// A copy is heard.
    Heard(HeardStep),
}

/// A copy heard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeardStep {
    /// When, ms.
    pub at: u64,
    /// Its transmitter (null: none named).
    pub heard: Option<HexBytes>,
}

/// A poll and what it releases.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollStep {
    /// When, ms.
    pub at: u64,
    /// Always true.
    pub poll: bool,
    /// The releases due at `at`, in order.
    pub released: Vec<FloodRelease>,
}

/// What a poll releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloodRelease {
    /// The message is transmitted.
    Transmit,
    /// The message is dropped, having counted this many copies.
    Suppressed(u16),
}

impl FloodStep {
    fn at(&self) -> u64 {
        match self {
            FloodStep::Poll(p) => p.at,
            FloodStep::Heard(h) => h.at,
        }
    }
}

impl FloodDecision {
    /// Replays the transcript against qpc's [`FloodScheduler`] and a
    /// [`NeighbourTable`] filled at time 0: the first due time and each
    /// poll's releases.
    fn replay(&self) -> Result<(u64, Vec<Vec<FloodRelease>>), String> {
        let own = hop_id(&self.own_hop_id)?;
        let mut table =
            NeighbourTable::new(NeighbourConfig::default()).map_err(|e| e.to_string())?;
        for n in &self.neighbours {
            let id = hop_id(&n.hop_id.0)?;
            table.heard(id, 0);
            for theirs in &n.theirs {
                table.heard_relay(id, hop_id(&theirs.0)?, 0);
            }
        }
        let FloodPolicy {
            window_ms,
            threshold,
            cover,
            echo_below,
            origin_repeats,
        } = self.config;
        let config = FloodConfig {
            window_ms,
            threshold,
            max_pending: 1,
            cover,
            echo_below,
            origin_repeats,
        };
        let mut flood = FloodScheduler::new(config, own).map_err(|e| e.to_string())?;
        let key = message_key(self.message_type, &self.destination, self.message_id)?;
        let first = self
            .first_transmitter
            .as_ref()
            .map(|h| hop_id(&h.0))
            .transpose()?;
        let refused = match self.role {
            FloodRole::Relay => flood.schedule(key, (), first, 0, &table.view(own, 0)),
            FloodRole::Originator => flood.originated(key, (), 0),
        };
        let due = match (refused, flood.poll_timeout()) {
            (None, Some(due)) => due,
            _ => return Err("the scheduler does not hold the message".into()),
        };
        let mut polls = Vec::new();
        for step in &self.steps {
            match step {
                FloodStep::Heard(h) => {
                    flood.heard_copy(&key, h.heard.as_ref().map(|t| hop_id(&t.0)).transpose()?)
                }
                FloodStep::Poll(p) => {
                    let view = table.view(own, p.at);
                    let released = std::iter::from_fn(|| flood.poll_release(p.at, &view))
                        .map(|r| match r {
                            Release::Transmit(()) => FloodRelease::Transmit,
                            Release::Suppressed { heard, .. } => FloodRelease::Suppressed(heard),
                        })
                        .collect();
                    polls.push(released);
                }
            }
        }
        Ok((due, polls))
    }

    fn check(&self) -> Result<(), String> {
        if self.steps.windows(2).any(|w| w[0].at() > w[1].at()) {
            return Err("steps out of time order".into());
        }
        // Copies come from listed neighbours, so hearing them (N1) leaves
        // the table as it was.
        let listed = |t: &HexBytes| self.neighbours.iter().any(|n| n.hop_id == *t);
        if self
            .steps
            .iter()
            .any(|s| matches!(s, FloodStep::Heard(HeardStep { heard: Some(t), .. }) if !listed(t)))
        {
            return Err("a copy from a node that is not a listed neighbour".into());
        }
        let mut want = Vec::new();
        for step in &self.steps {
            if let FloodStep::Poll(p) = step {
                if !p.poll {
                    return Err("a poll step with poll false".into());
                }
                want.push(p.released.clone());
            }
        }
        let (due, polls) = self.replay()?;
        expect_eq("due_ms", due, self.due_ms)?;
        expect_eq("releases", polls, want)
    }
}

/// An opened message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// The sender address.
    pub sender: HexBytes,
    /// Whether it was signed.
    pub signed: bool,
    /// Whether the signature verified under the known key.
    pub sender_verified: bool,
    /// The content.
    pub content: HexBytes,
}

fn key32(bytes: &[u8]) -> Result<[u8; 32], String> {
    bytes.try_into().map_err(|_| "a 32-byte key".to_owned())
}

fn hop_id(bytes: &[u8]) -> Result<HopId, String> {
    Ok(HopId(bytes.try_into().map_err(|_| "an 8-byte hop id")?))
}

fn message_key(message_type: u8, destination: &[u8], message_id: u32) -> Result<DedupeKey, String> {
    let dest: [u8; 16] = destination
        .try_into()
        .map_err(|_| "a 16-byte destination")?;
    Ok((message_type, Address::from_bytes(dest), message_id))
}

fn open(key: &[u8], datagram: &[u8], known: Option<[u8; 32]>) -> qpc_mesh::Result<Opened> {
    let channel = Channel::new(&ChannelKey::from_bytes(key32(key).expect("32-byte key")));
    let envelope = Envelope::decode(Bytes::copy_from_slice(datagram))?;
    let packet = ChannelPacket::from_envelope(envelope)?;
    let m = channel.open(&packet, |_| known)?;
    Ok(Opened {
        sender: HexBytes(m.sender.as_bytes().to_vec()),
        signed: m.signed,
        sender_verified: m.sender_verified,
        content: HexBytes(m.content.to_vec()),
    })
}

impl Vector for ChannelVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            ChannelCase::Derive {
                key,
                channel_id,
                aead_key,
            } => {
                let k = ChannelKey::from_bytes(key32(key)?);
                expect_eq("channel id", &k.id().0[..], &channel_id[..])?;
                // The AEAD key is private to qpc-mesh: check it through a
                // sealed message that only it opens.
                let sender = Identity::from_seeds(&[1; 32], &[2; 32]);
                let packet = Channel::new(&k)
                    .seal_with(&sender, b"", false, 0, 0, [0; 8])
                    .map_err(|e| e.to_string())?;
                let split = packet.ciphertext.len() - 16;
                let mut plaintext = packet.ciphertext[..split].to_vec();
                ChaCha20Poly1305::new(aead_key[..].into())
                    .decrypt_in_place_detached(
                        &Nonce::default(),
                        &associated_data(&packet.header).map_err(|e| e.to_string())?,
                        &mut plaintext,
                        packet.ciphertext[split..].into(),
                    )
                    .map_err(|_| "the AEAD key does not open qpc's message".to_owned())
            }
            ChannelCase::Seal {
                key,
                sender,
                signed,
                hop_limit,
                message_id,
                nonce_extension,
                content,
                datagram,
                expected_error,
            } => {
                let identity =
                    Identity::from_seeds(&key32(&sender.signing_seed)?, &key32(&sender.kem_seed)?);
                let public = identity.public();
                expect_eq("address", &public.address().as_bytes()[..], &sender.address)?;
                expect_eq(
                    "signing key",
                    &public.signing_key().as_bytes()[..],
                    &sender.signing_key,
                )?;
                let ext: [u8; 8] = nonce_extension[..]
                    .try_into()
                    .map_err(|_| "an 8-byte nonce extension")?;
                let got = Channel::new(&ChannelKey::from_bytes(key32(key)?))
                    .seal_with(&identity, content, *signed, *hop_limit, *message_id, ext)
                    .and_then(|p| p.to_bytes());
                match (datagram, expected_error) {
                    (Some(d), None) => {
                        expect_eq("datagram", got.map_err(|e| e.to_string())?, d.0.clone())
                    }
                    (None, Some(class)) => expect_error(class, got),
                    _ => Err("exactly one of datagram and expected_error".into()),
                }
            }
            ChannelCase::Open {
                key,
                datagram,
                known_signing_key,
                opened,
                expected_error,
            } => {
                let known = known_signing_key
                    .as_ref()
                    .map(|k| key32(&k.0))
                    .transpose()?;
                let got = open(key, datagram, known);
                match (opened, expected_error) {
                    (Some(o), None) => expect_eq("opened", &got.map_err(|e| e.to_string())?, o),
                    (None, Some(class)) => expect_error(class, got),
                    _ => Err("exactly one of opened and expected_error".into()),
                }
            }
            ChannelCase::FloodDelay {
                hop_id,
                message_type,
                destination,
                message_id,
                window_ms,
                delay_ms,
            } => {
                let key = message_key(*message_type, destination, *message_id)?;
                expect_eq(
                    "delay",
                    flood::delay(&self::hop_id(hop_id)?, &key, *window_ms),
                    *delay_ms,
                )
            }
            ChannelCase::FloodWindow {
                window_ms,
                uncovered,
                neighbours,
                weighted_window_ms,
            } => expect_eq(
                "weighted window",
                flood::weighted_window(*window_ms, *uncovered, *neighbours),
                *weighted_window_ms,
            ),
            ChannelCase::FloodDecision(d) => d.check(),
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

fn vector(name: &str, description: &str, case: ChannelCase) -> ChannelVector {
    ChannelVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

const KEY: [u8; 32] = [0x4b; 32];
const MESSAGE_ID: u32 = 0x1234_5678;
const NONCE_EXTENSION: [u8; 8] = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7];

fn alice() -> Identity {
    Identity::from_seeds(&[0x11; 32], &[0x12; 32])
}

fn sender_of(identity: &Identity, signing_seed: [u8; 32], kem_seed: [u8; 32]) -> Sender {
    Sender {
        signing_seed: signing_seed.to_vec(),
        kem_seed: kem_seed.to_vec(),
        address: identity.public().address().as_bytes().to_vec(),
        signing_key: identity.public().signing_key().as_bytes().to_vec(),
    }
}

fn signing_key_of(identity: &Identity) -> [u8; 32] {
    *identity.public().signing_key().as_bytes()
}

fn derives() -> Vec<ChannelVector> {
    [
        ("derive-zero-key", [0u8; 32]),
        ("derive-vector-key", KEY),
        ("derive-counting-key", core::array::from_fn(|i| i as u8)),
    ]
    .into_iter()
    .map(|(name, key)| {
        let aead = Sha256::new()
            .chain_update(b"qpc mesh channel aead v1")
            .chain_update(key)
            .finalize();
        vector(
            name,
            "channel id and AEAD key of a channel key",
            ChannelCase::Derive {
                key: key.to_vec(),
                channel_id: ChannelKey::from_bytes(key).id().0.to_vec(),
                aead_key: aead.to_vec(),
            },
        )
    })
    .collect()
}

/// A seal vector; `n` makes its message id unique (no nonce repeats
/// across the vectors under `KEY`).
fn seal_case(
    n: u32,
    signed: bool,
    content: &[u8],
    hop_limit: u8,
) -> (ChannelCase, Option<Vec<u8>>) {
    let message_id = MESSAGE_ID + n;
    let identity = alice();
    let datagram = Channel::new(&ChannelKey::from_bytes(KEY))
        .seal_with(
            &identity,
            content,
            signed,
            hop_limit,
            message_id,
            NONCE_EXTENSION,
        )
        .and_then(|p| p.to_bytes())
        .ok();
    let case = ChannelCase::Seal {
        key: KEY.to_vec(),
        sender: sender_of(&identity, [0x11; 32], [0x12; 32]),
        signed,
        hop_limit,
        message_id,
        nonce_extension: NONCE_EXTENSION.to_vec(),
        content: content.to_vec(),
        datagram: datagram.clone().map(HexBytes),
        expected_error: datagram.is_none().then(|| "content_too_long".to_owned()),
    };
    (case, datagram)
}

/// Seals an arbitrary plaintext under `KEY` for the header of `template`.
fn hand_sealed(template: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let packet =
        ChannelPacket::from_envelope(Envelope::decode(Bytes::copy_from_slice(template)).unwrap())
            .unwrap();
    let aead = Sha256::new()
        .chain_update(b"qpc mesh channel aead v1")
        .chain_update(KEY)
        .finalize();
    let mut nonce = Nonce::default();
    nonce[..4].copy_from_slice(&packet.header.message_id.to_be_bytes());
    nonce[4..].copy_from_slice(&packet.nonce_extension);
    let mut buf = plaintext.to_vec();
    let tag = ChaCha20Poly1305::new(aead[..].into())
        .encrypt_in_place_detached(&nonce, &associated_data(&packet.header).unwrap(), &mut buf)
        .unwrap();
    buf.extend_from_slice(&tag);
    let header_len = packet.header.encoded_len();
    [&template[..header_len], &NONCE_EXTENSION[..], &buf].concat()
}

fn seals_and_opens() -> Vec<ChannelVector> {
    let mut out = Vec::new();
    let (unsigned, unsigned_dg) = seal_case(0, false, b"hello mesh", 7);
    let (signed, signed_dg) = seal_case(1, true, b"signed hello", 7);
    out.push(vector(
        "seal-unsigned",
        "an unsigned message, 10 bytes of content: 73 bytes",
        unsigned,
    ));
    out.push(vector(
        "seal-signed",
        "a signed message, 12 bytes of content: 139 bytes",
        signed,
    ));
    for (n, name, signed, len) in [
        (2, "seal-unsigned-longest", false, 101),
        (3, "seal-signed-longest", true, 37),
    ] {
        let (case, _) = seal_case(n, signed, &vec![0x5c; len], 15);
        out.push(vector(
            name,
            "the longest content: 172 bytes once relayed with a hop id",
            case,
        ));
    }
    for (n, name, signed, len) in [
        (4, "seal-unsigned-too-long", false, 102),
        (5, "seal-signed-too-long", true, 38),
    ] {
        let (case, _) = seal_case(n, signed, &vec![0x5c; len], 15);
        out.push(vector(name, "one byte of content too many", case));
    }
    let (unsigned_dg, signed_dg) = (unsigned_dg.unwrap(), signed_dg.unwrap());
    let identity = alice();
    let alice_key = signing_key_of(&identity);
    let mallory = Identity::from_seeds(&[0x66; 32], &[0x67; 32]);
    // The copy a relay sends: hop count 1, its hop id named (flag set).
    let relayed = |d: &[u8]| {
        [
            &[d[0] | 0x10, d[1] + 0x10],
            &d[2..22],
            &[0xee; 8][..],
            &d[22..],
        ]
        .concat()
    };
    let with = |d: &[u8], at: usize, x: u8| {
        let mut d = d.to_vec();
        d[at] ^= x;
        d
    };
    let body_at = 22 + 8;
    let mut plaintext = alice().public().address().as_bytes().to_vec();
    plaintext.push(0x02);
    plaintext.extend_from_slice(b"flags");
    let bad_flags = hand_sealed(&unsigned_dg, &plaintext);
    plaintext[16] = 0x01;
    let signed_without_signature = hand_sealed(&unsigned_dg, &plaintext);
    // A valid signature with one bit flipped, sealed again.
    let signed_plaintext = {
        let packet = ChannelPacket::from_envelope(
            Envelope::decode(Bytes::copy_from_slice(&signed_dg)).unwrap(),
        )
        .unwrap();
        let split = packet.ciphertext.len() - 16;
        let mut p = packet.ciphertext[..split].to_vec();
        let aead = Sha256::new()
            .chain_update(b"qpc mesh channel aead v1")
            .chain_update(KEY)
            .finalize();
        let mut nonce = Nonce::default();
        nonce[..4].copy_from_slice(&packet.header.message_id.to_be_bytes());
        nonce[4..].copy_from_slice(&NONCE_EXTENSION);
        ChaCha20Poly1305::new(aead[..].into())
            .decrypt_in_place_detached(
                &nonce,
                &associated_data(&packet.header).unwrap(),
                &mut p,
                packet.ciphertext[split..].into(),
            )
            .unwrap();
        p
    };
    let bad_signature = hand_sealed(
        &signed_dg,
        &with(&signed_plaintext, signed_plaintext.len() - 1, 0x01),
    );
    let ok = |name: &str, description: &str, datagram: Vec<u8>, known: Option<[u8; 32]>| {
        let opened = open(&KEY, &datagram, known).expect("opens");
        vector(
            name,
            description,
            ChannelCase::Open {
                key: KEY.to_vec(),
                datagram,
                known_signing_key: known.map(|k| HexBytes(k.to_vec())),
                opened: Some(opened),
                expected_error: None,
            },
        )
    };
    out.push(ok(
        "open-unsigned",
        "the seal-unsigned datagram",
        unsigned_dg.clone(),
        None,
    ));
    out.push(ok(
        "open-unsigned-relayed",
        "relayed: hop count 1 and a hop id; neither is in the associated data",
        relayed(&unsigned_dg),
        None,
    ));
    out.push(ok(
        "open-signed-known-sender",
        "signed, the member knows the sender's key: verified",
        signed_dg.clone(),
        Some(alice_key),
    ));
    out.push(ok(
        "open-signed-unknown-sender",
        "signed, the member does not know the sender's key: opens unverified",
        relayed(&signed_dg),
        None,
    ));
    let bad = |name: &str,
               description: &str,
               key: [u8; 32],
               datagram: Vec<u8>,
               known: Option<[u8; 32]>,
               class: &str| {
        vector(
            name,
            description,
            ChannelCase::Open {
                key: key.to_vec(),
                datagram,
                known_signing_key: known.map(|k| HexBytes(k.to_vec())),
                opened: None,
                expected_error: Some(class.to_owned()),
            },
        )
    };
    let last = unsigned_dg.len() - 1;
    let negatives = [
        (
            "open-wrong-key",
            "the destination is rewritten to the wrong key's channel, so only the key differs",
            {
                let other = ChannelKey::from_bytes([0x4c; 32]).id();
                let mut d = unsigned_dg.clone();
                d[2..18].copy_from_slice(&other.0);
                (d, [0x4c; 32], None)
            },
            "open_failed",
        ),
        (
            "open-flipped-tag",
            "the last tag bit flipped",
            (with(&unsigned_dg, last, 0x80), KEY, None),
            "open_failed",
        ),
        (
            "open-flipped-ciphertext",
            "a ciphertext bit flipped",
            (with(&unsigned_dg, body_at, 0x01), KEY, None),
            "open_failed",
        ),
        (
            "open-altered-hop-limit",
            "hop limit 7 raised to 8 (covered by the associated data)",
            (with(&unsigned_dg, 1, 0x0f), KEY, None),
            "open_failed",
        ),
        (
            "open-altered-message-id",
            "the message id changed (associated data and nonce)",
            (with(&unsigned_dg, 21, 0x01), KEY, None),
            "open_failed",
        ),
        (
            "open-altered-nonce-extension",
            "the nonce extension changed",
            (with(&unsigned_dg, 22, 0x01), KEY, None),
            "open_failed",
        ),
        (
            "open-other-channel",
            "a datagram for another channel id: not this channel's message",
            (with(&unsigned_dg, 2, 0x01), KEY, None),
            "malformed",
        ),
        (
            "open-truncated-body",
            "40 body bytes, one below the minimum 41",
            (unsigned_dg[..22 + 40].to_vec(), KEY, None),
            "truncated",
        ),
        (
            "open-body-too-long",
            "143 body bytes, one above the maximum 142",
            ([&unsigned_dg[..], &[0; 143 - 51][..]].concat(), KEY, None),
            "content_too_long",
        ),
        (
            "open-bad-flags",
            "flags 0x02: a reserved bit",
            (bad_flags, KEY, None),
            "malformed",
        ),
        (
            "open-signed-without-signature",
            "flags 0x01 and 5 bytes after them: no room for a signature",
            (signed_without_signature, KEY, Some(alice_key)),
            "malformed",
        ),
        (
            "open-bad-signature",
            "the signature's last bit flipped, sealed again",
            (bad_signature, KEY, Some(alice_key)),
            "bad_signature",
        ),
        (
            "open-signed-wrong-known-key",
            "the member holds another key for the claimed sender",
            (signed_dg.clone(), KEY, Some(signing_key_of(&mallory))),
            "bad_signature",
        ),
    ];
    for (name, description, (datagram, key, known), class) in negatives {
        out.push(bad(name, description, key, datagram, known, class));
    }
    out
}

fn flood_delays() -> Vec<ChannelVector> {
    let destination = ChannelKey::from_bytes(KEY).id().0;
    [
        (0u8, 2000u64, 0x9u8),
        (1, 2000, 0x9),
        (2, 2000, 0x9),
        (1, 0, 0x9),
        (1, u64::MAX, 0x9),
        (1, 2000, 0x2),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (n, window_ms, message_type))| {
        let hop_id = [n; 8];
        let key = (message_type, Address::from_bytes(destination), MESSAGE_ID);
        vector(
            &format!("flood-delay-{i}"),
            "the rebroadcast delay: SHA-256 of label, hop id and message key, mod window + 1",
            ChannelCase::FloodDelay {
                hop_id: hop_id.to_vec(),
                message_type,
                destination: destination.to_vec(),
                message_id: MESSAGE_ID,
                window_ms,
                delay_ms: flood::delay(&HopId(hop_id), &key, window_ms),
            },
        )
    })
    .collect()
}

fn flood_windows() -> Vec<ChannelVector> {
    [
        (12_000u64, Some(0usize), 10usize),
        (12_000, Some(5), 10),
        (12_000, Some(10), 10),
        (12_000, Some(3), 7),
        (12_000, None, 10),
        (12_000, Some(1), 0),
        (u64::MAX, Some(1), 3),
        (0, Some(2), 2),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (window_ms, uncovered, neighbours))| {
        vector(
            &format!("flood-window-{i}"),
            "the window weighted by new coverage: window - floor(3 window u / (4 n)); unknown or no neighbours: window",
            ChannelCase::FloodWindow {
                window_ms,
                uncovered,
                neighbours,
                weighted_window_ms: flood::weighted_window(window_ms, uncovered, neighbours),
            },
        )
    })
    .collect()
}

/// The node of the `flood_decision` vectors and its neighbourhood: `A`,
/// `B`, `C` and `Y` are neighbours, `Z` (`Y`'s) is two hops away.
const ME: u8 = 0x01;
const A: u8 = 0x0a;
const B: u8 = 0x0b;
const C: u8 = 0x0c;
const Y: u8 = 0x0d;
const Z: u8 = 0x0e;

/// One event of a transcript as written here: a copy from a transmitter
/// (`None`: none named) or a poll.
enum Event {
    Heard(Option<u8>),
    Poll,
}

fn hop_hex(n: u8) -> HexBytes {
    HexBytes(vec![n; 8])
}

/// A `flood_decision` vector; the due time and releases are qpc's.
fn flood_decision(
    (name, description): (&str, &str),
    config: FloodPolicy,
    neighbours: &[(u8, &[u8])],
    role: FloodRole,
    first: Option<u8>,
    events: &[(u64, Event)],
) -> ChannelVector {
    let mut d = FloodDecision {
        own_hop_id: vec![ME; 8],
        message_type: 0x9,
        destination: ChannelKey::from_bytes(KEY).id().0.to_vec(),
        message_id: MESSAGE_ID,
        neighbours: neighbours
            .iter()
            .map(|&(id, theirs)| FloodNeighbour {
                hop_id: hop_hex(id),
                theirs: theirs.iter().map(|&t| hop_hex(t)).collect(),
            })
            .collect(),
        config,
        role,
        first_transmitter: first.map(hop_hex),
        due_ms: 0,
        steps: events
            .iter()
            .map(|(at, e)| match e {
                Event::Heard(t) => FloodStep::Heard(HeardStep {
                    at: *at,
                    heard: t.map(hop_hex),
                }),
                Event::Poll => FloodStep::Poll(PollStep {
                    at: *at,
                    poll: true,
                    released: Vec::new(),
                }),
            })
            .collect(),
    };
    let (due, mut polls) = d.replay().expect("a transcript qpc replays");
    d.due_ms = due;
    for step in d.steps.iter_mut().rev() {
        if let FloodStep::Poll(p) = step {
            p.released = polls.pop().expect("one result per poll");
        }
    }
    // The copies before the first poll arrive while the entry waits, and
    // that poll finds it due.
    let first_poll = d.steps.iter().position(|s| matches!(s, FloodStep::Poll(_)));
    let (early, poll) = d.steps.split_at(first_poll.expect("a poll"));
    assert!(
        early.iter().all(|s| s.at() < due) && poll[0].at() >= due,
        "{name}: due at {due}"
    );
    vector(name, description, ChannelCase::FloodDecision(d))
}

fn flood_decisions() -> Vec<ChannelVector> {
    use Event::{Heard, Poll};
    let defaults = FloodPolicy {
        window_ms: 12_000,
        threshold: 3,
        cover: 1,
        echo_below: u16::MAX,
        origin_repeats: 3,
    };
    let cover2 = FloodPolicy {
        cover: 2,
        ..defaults
    };
    let (w, relay, origin) = (defaults.window_ms, FloodRole::Relay, FloodRole::Originator);
    // A covers B and C; Y is left, and Z is beyond it.
    let bridge: &[(u8, &[u8])] = &[(A, &[B, C]), (B, &[]), (C, &[]), (Y, &[Z])];
    let clique: &[(u8, &[u8])] = &[(A, &[B, C]), (B, &[A, C]), (C, &[A, B])];
    let unknown: &[(u8, &[u8])] = &[(A, &[]), (B, &[]), (C, &[])];
    vec![
        flood_decision(
            ("flood-decision-suppressed-by-coverage", "A covers every neighbour (B, C): suppressed at the due time although no copy was counted; the entry then ends"),
            defaults, &[(A, &[B, C]), (B, &[]), (C, &[])], relay, Some(A),
            &[(w, Poll), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-uncovered-neighbour", "A covers B only, the copy from B (neighbourhood unknown) covers B: C is left, so transmit although nothing lies beyond C; the implicit acknowledgement then finds no one who should relay and ends"),
            defaults, &[(A, &[B]), (B, &[]), (C, &[])], relay, Some(A),
            &[(1, Heard(Some(B))), (w, Poll), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-counter-suppressed", "no neighbourhood known: 3 copies reach the threshold 3"),
            defaults, unknown, relay, Some(A),
            &[(1, Heard(Some(B))), (2, Heard(Some(C))), (3, Heard(None)), (w, Poll)],
        ),
        flood_decision(
            ("flood-decision-counter-transmits", "no transmitter named and no neighbourhood known: 2 copies are below the threshold 3; a counter-decided relay does not wait for an acknowledgement"),
            defaults, unknown, relay, None,
            &[(1, Heard(None)), (2, Heard(Some(B))), (w, Poll), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-relay-repeats-for-silent-neighbour", "A covers B and C, Y is left: transmit; in the following window only B's copy is heard, which does not cover Y or Z: Y stayed silent, so one repeat, then the entry ends"),
            defaults, bridge, relay, Some(A),
            &[(w, Poll), (w + 10, Heard(Some(B))), (2 * w, Poll), (3 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-relay-acknowledged-by-neighbour", "as relay-repeats-for-silent-neighbour, but Y's copy is heard in the following window: Y covers itself and Z, no repeat"),
            defaults, bridge, relay, Some(A),
            &[(w, Poll), (w + 10, Heard(Some(B))), (w + 20, Heard(Some(Y))), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-relay-echo-below", "echo_below 2: Y is left, so transmit, but 2 copies were counted (B, and one naming no transmitter): no acknowledgement wait, no repeat"),
            FloodPolicy { echo_below: 2, ..defaults }, bridge, relay, Some(A),
            &[(1, Heard(Some(B))), (2, Heard(None)), (w, Poll), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-originator-repeats", "the originator's one neighbour Y has Z beyond it and never relays; a copy from B does not acknowledge for Y: origin_repeats 3 repeats a window apart, then the entry ends"),
            defaults, &[(B, &[]), (Y, &[Z])], origin, None,
            &[(10, Heard(Some(B))), (w, Poll), (2 * w, Poll), (3 * w, Poll), (4 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-originator-acknowledged", "the originator repeats once (only B was heard), then hears Y's copy: no further repeat"),
            defaults, &[(B, &[]), (Y, &[Z])], origin, None,
            &[(10, Heard(Some(B))), (w, Poll), (w + 10, Heard(Some(Y))), (2 * w, Poll), (3 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-cover-2-one-transmitter", "cover 2 in a clique: A alone covers each neighbour once, fewer than 2: transmit (cover 1 would suppress); the weighted window still counts A's single coverage (u = 0)"),
            cover2, clique, relay, Some(A),
            &[(w, Poll), (2 * w, Poll)],
        ),
        flood_decision(
            ("flood-decision-cover-2-two-transmitters", "cover 2 in a clique: A and B each cover A, B and C: suppressed with 1 copy counted"),
            cover2, clique, relay, Some(A),
            &[(1, Heard(Some(B))), (w, Poll)],
        ),
    ]
}

/// The JSON text of `channel.json`.
pub fn generate() -> String {
    let vectors = [
        derives(),
        seals_and_opens(),
        flood_delays(),
        flood_windows(),
        flood_decisions(),
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/10-mesh.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_sound_and_covers_every_class() {
        let file = crate::assert_sound_generation::<ChannelVector>(generate);
        let classes: std::collections::BTreeSet<_> = file
            .vectors
            .iter()
            .filter_map(|v| match &v.case {
                ChannelCase::Seal { expected_error, .. }
                | ChannelCase::Open { expected_error, .. } => expected_error.clone(),
                _ => None,
            })
            .collect();
        let want = [
            "bad_signature",
            "content_too_long",
            "malformed",
            "open_failed",
            "truncated",
        ];
        assert_eq!(classes.into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_changed_flood_decision_fails() {
        let file = crate::assert_sound_generation::<ChannelVector>(generate);
        let decisions = file.vectors.iter().filter_map(|v| match &v.case {
            ChannelCase::FloodDecision(d) => Some(d),
            _ => None,
        });
        for d in decisions {
            let mut later = d.clone();
            later.due_ms += 1;
            assert!(later.check().is_err());
            let mut quiet = d.clone();
            let releases = quiet.steps.iter_mut().filter_map(|s| match s {
                FloodStep::Poll(p) => p.released.pop(),
                FloodStep::Heard(_) => None,
            });
            assert!(
                releases.count() > 0 && quiet.check().is_err(),
                "a release dropped"
            );
        }
    }

    #[test]
    fn a_mutated_vector_fails() {
        let text = generate().replace("\"hop_limit\": 7", "\"hop_limit\": 6");
        let results = crate::verify_json::<ChannelVector>(&text).unwrap();
        assert!(results.iter().any(|r| r.failure.is_some()));
    }
}
