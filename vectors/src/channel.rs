//! `channel.json`: vectors for `spec/10-mesh.md` §13 — broadcast channels:
//!
//! - `derive`: a channel key's id and AEAD key (§13.2);
//! - `seal`: a message sealed with a fixed message id and nonce extension,
//!   unsigned and signed (§13.3), or refused (`content_too_long`);
//! - `open`: a datagram opened by a member that may know the sender's
//!   Ed25519 key (§13.4), or refused with the class of the check that fires;
//! - `flood_delay`: the managed-flooding rebroadcast delay (§13.6).
//! - `flood_window`: the delay window weighted by new coverage (§13.6).
//!
//! Negative `open` vectors with bad flags, a missing or bad signature are
//! built by hand here (ChaCha20-Poly1305 over an attacker's plaintext).

use bytes::Bytes;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use qpc_crypto::identity::{Address, Identity};
use qpc_mesh::channel::{associated_data, Channel, ChannelKey, ChannelPacket};
use qpc_mesh::envelope::{Envelope, HopId};
use qpc_mesh::flood;
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
                let hop = HopId(hop_id[..].try_into().map_err(|_| "an 8-byte hop id")?);
                let dest: [u8; 16] = destination[..]
                    .try_into()
                    .map_err(|_| "a 16-byte destination")?;
                let key = (*message_type, Address::from_bytes(dest), *message_id);
                expect_eq("delay", flood::delay(&hop, &key, *window_ms), *delay_ms)
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

/// The JSON text of `channel.json`.
pub fn generate() -> String {
    let vectors = [
        derives(),
        seals_and_opens(),
        flood_delays(),
        flood_windows(),
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
    fn a_mutated_vector_fails() {
        let text = generate().replace("\"hop_limit\": 7", "\"hop_limit\": 6");
        let results = crate::verify_json::<ChannelVector>(&text).unwrap();
        assert!(results.iter().any(|r| r.failure.is_some()));
    }
}
