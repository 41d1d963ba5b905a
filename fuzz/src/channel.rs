//! The qpc-mesh broadcast channel target (`spec/10-mesh.md` §13): channel
//! datagrams decoded and opened with a fixed key against an independent
//! computation of §13.4, and the flood scheduler of §13.6 against a model.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use bytes::Bytes;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use ed25519_dalek::{Signature, VerifyingKey};
use qpc_crypto::identity::{Address, Identity};
use qpc_mesh::channel::{Channel, ChannelKey, ChannelMessage, ChannelPacket};
use qpc_mesh::envelope::{Envelope, HopId};
use qpc_mesh::flood::{self, FloodConfig, FloodScheduler, Release, Unknown};
use qpc_mesh::message::Message;
use sha2::{Digest, Sha256};

/// The fixed channel key of the target.
pub const CHANNEL_KEY: [u8; 32] = [0xc5; 32];

/// The fixed sender: the identity whose key the member knows.
pub static CHANNEL_SENDER: LazyLock<Identity> =
    LazyLock::new(|| Identity::from_seeds(&[0x41; 32], &[0x42; 32]));

/// The flood scheduler configuration of the target.
pub const FLOOD_CONFIG: FloodConfig = FloodConfig {
    window_ms: 700,
    threshold: 2,
    max_pending: 4,
    cover: 1,
    echo_below: 2,
    origin_repeats: 3,
};

/// Input selector of [`mesh_channel`] (first byte, modulo 3).
pub mod channel_mode {
    /// The rest is a raw datagram, opened by a member that knows the
    /// sender's key.
    pub const RAW: u8 = 0;
    /// The rest builds a genuine message, then mutates it: byte 0 bit 0
    /// signed, bit 1 relayed (hop id), bits 4-7 hop limit; byte 1 content
    /// length (capped at the maximum); then (position, xor mask) pairs.
    pub const BUILD: u8 = 1;
    /// The rest drives the flood scheduler: 3-byte operations
    /// `[op, id, step]`, time advancing by `step * 7` ms; `op % 3`: 0
    /// schedules message `id % 8`, 1 counts a copy heard, 2 releases.
    pub const FLOOD: u8 = 2;
}

/// A genuine channel datagram from a [`channel_mode::BUILD`] spec.
pub fn genuine_channel_message(spec: &[u8]) -> Option<Vec<u8>> {
    let (&flags, rest) = spec.split_first()?;
    let (&len, mutations) = rest.split_first()?;
    let signed = flags & 1 != 0;
    let max = if signed { 37 } else { 101 };
    let content = vec![0x63; usize::from(len).min(max)];
    let channel = Channel::new(&ChannelKey::from_bytes(CHANNEL_KEY));
    let message_id = u32::from(len) << 8 | u32::from(flags);
    let mut packet = channel
        .seal_with(
            &CHANNEL_SENDER,
            &content,
            signed,
            flags >> 4,
            message_id,
            [flags; 8],
        )
        .expect("content within bounds");
    if flags & 2 != 0 {
        packet.header = packet.header.relayed(Some(HopId([0xd1; 8])))?;
    }
    let mut bytes = packet.to_bytes().expect("encodes");
    for pair in mutations.chunks_exact(2) {
        let at = usize::from(pair[0]) % bytes.len();
        bytes[at] ^= pair[1];
    }
    Some(bytes)
}

/// An opened message as predicted: (sender, signed, verified, content).
type PredictedOpen = ([u8; 16], bool, bool, Vec<u8>);

/// §3.3 and §13.4 C1–C6 on raw bytes, independently: the opened message
/// or the error class.
fn expected_open(d: &[u8]) -> Result<PredictedOpen, &'static str> {
    let (code, _, hop_limit, len) = crate::mesh::expected_header(d)?;
    if code != 9 {
        return Err("not a channel message");
    }
    let body = &d[len..];
    if body.len() < 41 {
        return Err("truncated");
    }
    if body.len() > 142 {
        return Err("content_too_long");
    }
    let id = &Sha256::new()
        .chain_update(b"qpc mesh channel id v1")
        .chain_update(CHANNEL_KEY)
        .finalize()[..16];
    if d[2..18] != *id {
        return Err("malformed");
    }
    let aead_key = Sha256::new()
        .chain_update(b"qpc mesh channel aead v1")
        .chain_update(CHANNEL_KEY)
        .finalize();
    let mut nonce = Nonce::default();
    nonce[..4].copy_from_slice(&d[18..22]);
    nonce[4..].copy_from_slice(&body[..8]);
    let ad = [&[0x29, hop_limit], &d[2..22]].concat();
    let split = body.len() - 16;
    let mut plaintext = body[8..split].to_vec();
    ChaCha20Poly1305::new(aead_key[..].into())
        .decrypt_in_place_detached(&nonce, &ad, &mut plaintext, body[split..].into())
        .map_err(|_| "open_failed")?;
    let flags = plaintext[16];
    if flags > 1 {
        return Err("malformed");
    }
    let end = if flags == 1 {
        plaintext
            .len()
            .checked_sub(64)
            .filter(|&e| e >= 17)
            .ok_or("malformed")?
    } else {
        plaintext.len()
    };
    let sender: [u8; 16] = plaintext[..16].try_into().expect("16 bytes");
    let content = plaintext[17..end].to_vec();
    let mut verified = false;
    if flags == 1 && sender == *CHANNEL_SENDER.public().address().as_bytes() {
        let key = VerifyingKey::from_bytes(CHANNEL_SENDER.public().signing_key().as_bytes())
            .expect("valid key");
        let label = b"qpc sig v1 mesh channel";
        let signed = [
            &[label.len() as u8][..],
            label,
            id,
            &d[18..22],
            &body[..8],
            &[flags],
            &content,
        ]
        .concat();
        let sig = Signature::from_bytes(plaintext[end..].try_into().expect("64 bytes"));
        key.verify_strict(&signed, &sig)
            .map_err(|_| "bad_signature")?;
        verified = true;
    }
    Ok((sender, flags == 1, verified, content))
}

fn open_datagram(d: &[u8]) {
    let channel = Channel::new(&ChannelKey::from_bytes(CHANNEL_KEY));
    let sender = CHANNEL_SENDER.public();
    let known = |a: &Address| (*a == sender.address()).then(|| *sender.signing_key().as_bytes());
    let decoded = Message::decode(Bytes::copy_from_slice(d));
    let got = decoded.and_then(|m| match m {
        Message::Channel(packet) => {
            assert_eq!(packet.to_bytes().expect("re-encodes"), d);
            channel.open(&packet, known)
        }
        _ => Err(qpc_mesh::Error::Malformed {
            message: "fuzz",
            reason: "not a channel message",
        }),
    });
    match (expected_open(d), got) {
        (
            Ok((s, signed, verified, content)),
            Ok(ChannelMessage {
                sender,
                signed: sg,
                sender_verified,
                content: c,
            }),
        ) => {
            assert_eq!(
                (s, signed, verified, content),
                (*sender.as_bytes(), sg, sender_verified, c.to_vec())
            );
        }
        (Err("not a channel message"), Err(e)) => assert!(e.class() != "open_failed", "{e:?}"),
        (Err(class), Err(e)) => assert_eq!(e.class(), class, "{e:?}"),
        (want, got) => panic!("expected {want:?}, got {got:?}"),
    }
    // Envelope-level agreement, for every input.
    if let Ok(env) = Envelope::decode(Bytes::copy_from_slice(d)) {
        if let Ok(packet) = ChannelPacket::from_envelope(env) {
            assert!((41..=142).contains(&(8 + packet.ciphertext.len())));
        }
    }
}

fn drive_flood(ops: &[u8]) {
    let own = HopId([0x5e; 8]);
    let key = |id: u8| (9u8, Address::from_bytes([0x77; 16]), u32::from(id % 8));
    let mut scheduler = FloodScheduler::new(FLOOD_CONFIG, own).expect("valid config");
    // The model: key -> (due, heard).
    let mut model: BTreeMap<(u8, Address, u32), (u64, u16)> = BTreeMap::new();
    let mut now = 0u64;
    for op in ops.chunks_exact(3).take(512) {
        now += u64::from(op[2]) * 7;
        let k = key(op[1]);
        match op[0] % 3 {
            0 => {
                let held = model.len() < FLOOD_CONFIG.max_pending && !model.contains_key(&k);
                assert_eq!(
                    scheduler.schedule(k, k.2, None, now, &Unknown).is_none(),
                    held
                );
                if held {
                    let due = now + flood::delay(&own, &k, FLOOD_CONFIG.window_ms);
                    assert!(due <= now + FLOOD_CONFIG.window_ms);
                    model.insert(k, (due, 0));
                }
            }
            1 => {
                scheduler.heard_copy(&k, None);
                if let Some(m) = model.get_mut(&k) {
                    m.1 += 1;
                }
            }
            _ => {
                while let Some(release) = scheduler.poll_release(now, &Unknown) {
                    let (&first, &(due, heard)) = model
                        .iter()
                        .filter(|(_, m)| m.0 <= now)
                        .min_by_key(|(k, m)| (m.0, **k))
                        .expect("the model has a due entry");
                    assert!(due <= now);
                    model.remove(&first);
                    let want = if heard < FLOOD_CONFIG.threshold {
                        Release::Transmit(first.2)
                    } else {
                        Release::Suppressed { key: first, heard }
                    };
                    assert_eq!(release, want);
                }
                assert!(model.values().all(|m| m.0 > now));
            }
        }
        assert_eq!(scheduler.poll_timeout(), model.values().map(|m| m.0).min());
        assert!(scheduler.len() <= FLOOD_CONFIG.max_pending);
    }
}

/// Fuzzes broadcast channels (`spec/10` §13). `data[0] % 3` selects a
/// [`channel_mode`]. Datagrams: `Message::decode` then `Channel::open`
/// with [`CHANNEL_KEY`] and [`CHANNEL_SENDER`]'s key known give exactly
/// the outcome (or error class) of §3.3 and §13.4 computed independently
/// (SHA-256 derivations, ChaCha20-Poly1305, strict Ed25519 over the spec's
/// bytes); accepted packets re-encode to the input. Flood: every release,
/// suppression and timer of [`FloodScheduler`] without neighbourhood
/// knowledge equals a model of §13.6 (counter-based; the coverage rules
/// have unit tests and proptests in `qpc-mesh`); never more than
/// `max_pending` entries.
pub fn mesh_channel(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        channel_mode::BUILD => {
            if let Some(d) = genuine_channel_message(rest) {
                open_datagram(&d);
            }
        }
        channel_mode::FLOOD => drive_flood(rest),
        _ => open_datagram(rest),
    }
}
