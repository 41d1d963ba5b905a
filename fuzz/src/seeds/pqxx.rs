//! Seeds of the pqXX targets: the genuine messages and records of the fixed
//! handshakes ([`crate::fixtures::pqxx`]), near misses of each that fail
//! one named check, and wrapped payloads that reach every check behind the
//! AEAD.

use bytes::Bytes;

use crate::fixtures::pqxx::{
    self as fx, encode_ops, mode, Message, Op, Payload, DATAGRAM_REKEY_AFTER,
    SMALL_APPLICATION_LEN, STREAM_RECORDS,
};
use crate::fixtures::NOW;

use super::{cat, flip, with, ED25519_NEUTRAL};

const WRAP: u8 = mode::WRAP;

/// `payload` of `message`, decoded, changed by `f` and re-encoded.
fn edit(message: Message, payload: &[u8], f: impl FnOnce(&mut Payload)) -> Vec<u8> {
    let mut decoded = Payload::decode(message, payload, usize::MAX).expect("genuine payload");
    f(&mut decoded);
    decoded.encode(message)
}

/// `payload` (whose application of `app_len < 64` bytes comes last, after
/// its 1-byte length) with the length encoded as `length` instead.
fn with_length(payload: &[u8], app_len: usize, length: &[u8]) -> Vec<u8> {
    let start = payload.len() - app_len;
    cat(&[&payload[..start - 1], length, &payload[start..]])
}

/// The application-length seeds (`spec/06` §7.1 P3-P5, P7) of `target`
/// for a payload whose application has `app_len` bytes, wrapped with
/// `mode`.
fn length_seeds(
    add: &mut impl FnMut(&'static str, &'static str, Vec<u8>),
    target: &'static str,
    mode: u8,
    payload: &[u8],
    app_len: usize,
) {
    let n = u8::try_from(app_len).expect("short application");
    let wrap = |length: &[u8]| cat(&[&[mode], &with_length(payload, app_len, length)]);
    add(target, "wrap-reserved-length-prefix", wrap(&[0xc0 | n]));
    add(target, "wrap-non-minimal-length", wrap(&[0x40, n]));
    add(target, "wrap-application-truncated", wrap(&[n + 1]));
    // 64 001 as a (minimal) 4-byte varint: one over the default limit.
    add(
        target,
        "wrap-application-over-default-limit",
        wrap(&(0x8000_0000u32 | 64_001).to_be_bytes()),
    );
}

fn binding(p: &mut Payload) -> &mut fx::Binding {
    p.binding.as_mut().expect("binding")
}

/// The handshake seeds of `target`, which reads `message`: bindings,
/// policy, limits, layout.
fn binding_seeds(
    add: &mut impl FnMut(&'static str, &'static str, Vec<u8>),
    target: &'static str,
    message: Message,
    base: u8,
    payload: &[u8],
) {
    let wrap = |mode: u8, payload: &[u8]| cat(&[&[WRAP | base | mode], payload]);
    add(
        target,
        "wrap-other-static",
        wrap(mode::OTHER_STATIC, payload),
    );
    add(
        target,
        "wrap-other-static-resigned",
        wrap(mode::OTHER_STATIC | mode::RESIGN, payload),
    );
    let carol = mode::RESIGN | mode::SIGNER_CAROL;
    add(target, "wrap-carol-signs", wrap(carol, payload));
    add(
        target,
        "wrap-carol-pinned",
        wrap(carol | mode::PIN, payload),
    );
    let other_digest = edit(message, payload, |p| binding(p).kem_key_digest = [0x42; 32]);
    add(
        target,
        "wrap-other-digest",
        wrap(mode::RESIGN, &other_digest),
    );
    add(
        target,
        "wrap-other-digest-pinned",
        wrap(mode::RESIGN | mode::PIN, &other_digest),
    );
    add(
        target,
        "wrap-expired",
        wrap(
            mode::RESIGN,
            &edit(message, payload, |p| binding(p).not_after_ms = NOW - 1),
        ),
    );
    add(
        target,
        "wrap-expires-now",
        wrap(
            mode::RESIGN,
            &edit(message, payload, |p| binding(p).not_after_ms = NOW),
        ),
    );
    add(
        target,
        "wrap-forged-signature",
        wrap(0, &edit(message, payload, |p| binding(p).signature[9] ^= 1)),
    );
    add(
        target,
        "wrap-weak-key",
        wrap(
            0,
            &edit(message, payload, |p| {
                binding(p).signing_key = ED25519_NEUTRAL
            }),
        ),
    );
    let len = payload.len();
    add(target, "wrap-truncated", wrap(0, &payload[..len - 30]));
    add(
        target,
        "wrap-trailing-byte",
        wrap(0, &cat(&[payload, &[0]])),
    );
    add(target, "wrap-empty", wrap(0, &[]));
}

#[allow(clippy::too_many_lines)]
pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let pq = fx::transcript(false);
    let cl = fx::transcript(true);
    let raw = |mode: u8, message: &[u8]| cat(&[&[mode], message]);
    let over_limit = [0x61; SMALL_APPLICATION_LEN + 1];
    let at_limit = [0x61; SMALL_APPLICATION_LEN];

    // --- pqxx_responder_msg1: [mode] message, or [WRAP|mode] payload ---
    let t = "pqxx_responder_msg1";
    let m1 = &pq.m1;
    add(t, "genuine", raw(0, m1));
    add(t, "genuine-tolerant", raw(1, m1));
    add(t, "offer-to-classical", raw(2, m1));
    add(t, "small-limit-long-reply", raw(3 | mode::LONG_REPLY, m1));
    add(t, "genuine-read-twice", raw(mode::REPEAT_1, m1));
    add(t, "classical-to-strict", raw(0, &cl.m1));
    add(t, "classical-to-tolerant", raw(1, &cl.m1));
    add(t, "flipped-tag", raw(0, &flip(m1.clone(), m1.len() - 1, 1)));
    add(t, "flipped-ephemeral", raw(0, &flip(m1.clone(), 0, 1)));
    add(t, "short-31", raw(0, &m1[..31]));
    add(t, "short-47", raw(0, &m1[..47]));
    add(t, "empty", vec![0]);
    let p1 = &pq.payload1;
    add(t, "wrap-genuine", raw(WRAP, p1));
    add(t, "wrap-wrong-context", raw(WRAP | mode::WRONG_CONTEXT, p1));
    add(t, "wrap-classical-tolerant", raw(WRAP | 1, &cl.payload1));
    add(t, "wrap-classical-strict", raw(WRAP, &cl.payload1));
    add(t, "wrap-unknown-kem", raw(WRAP, &with(p1.clone(), 0, &[2])));
    add(
        t,
        "wrap-unreduced-key",
        raw(WRAP, &with(p1.clone(), 1, &[0xff, p1[2] | 0x0f])),
    );
    add(t, "wrap-truncated-key", raw(WRAP, &p1[..100]));
    add(t, "wrap-trailing-byte", raw(WRAP, &cat(&[p1, &[0]])));
    let app = |a: &[u8]| {
        edit(Message::One, p1, |p| {
            p.application = Bytes::copy_from_slice(a);
        })
    };
    add(
        t,
        "wrap-application-over-limit",
        raw(WRAP | 3, &app(&over_limit)),
    );
    add(
        t,
        "wrap-application-at-limit",
        raw(WRAP | 3, &app(&at_limit)),
    );
    length_seeds(add, t, WRAP, p1, fx::APP_1.len());
    add(t, "wrap-empty", vec![WRAP]);

    // --- pqxx_initiator_msg2 ---
    let t = "pqxx_initiator_msg2";
    let m2 = &pq.m2;
    add(t, "genuine", raw(0, m2));
    add(t, "genuine-pinned", raw(mode::PIN, m2));
    add(t, "genuine-tolerant", raw(1, m2));
    add(t, "genuine-classical", raw(2, &cl.m2));
    add(t, "genuine-read-twice", raw(mode::REPEAT_2, m2));
    add(t, "classical-to-strict", raw(0, &cl.m2));
    add(t, "flipped-tag", raw(0, &flip(m2.clone(), m2.len() - 1, 1)));
    add(t, "flipped-ephemeral", raw(0, &flip(m2.clone(), 0, 1)));
    add(
        t,
        "low-order-ephemeral",
        raw(0, &with(m2.clone(), 0, &[0; 32])),
    );
    add(t, "short-79", raw(0, &m2[..79]));
    add(t, "short-80", raw(0, &m2[..80]));
    add(t, "empty", vec![0]);
    let p2 = &pq.payload2;
    add(t, "wrap-genuine", raw(WRAP, p2));
    add(t, "wrap-classical", raw(WRAP | 2, &cl.payload2));
    add(t, "wrap-classical-to-tolerant", raw(WRAP | 1, &cl.payload2));
    add(t, "wrap-classical-to-strict", raw(WRAP, &cl.payload2));
    add(t, "wrap-ciphertext-without-offer", raw(WRAP | 2, p2));
    add(
        t,
        "wrap-tampered-ciphertext",
        raw(WRAP, &flip(p2.clone(), 5, 1)),
    );
    add(t, "wrap-unknown-kem", raw(WRAP, &with(p2.clone(), 0, &[7])));
    add(
        t,
        "wrap-application-over-limit",
        raw(
            WRAP | 3,
            &edit(Message::Two, p2, |p| {
                p.application = Bytes::copy_from_slice(&over_limit);
            }),
        ),
    );
    length_seeds(add, t, WRAP, p2, fx::APP_2.len());
    binding_seeds(add, t, Message::Two, 0, p2);

    // --- pqxx_responder_msg3 ---
    let t = "pqxx_responder_msg3";
    let m3 = &pq.m3;
    add(t, "genuine", raw(0, m3));
    add(t, "genuine-classical", raw(mode::CLASSICAL, &cl.m3));
    add(t, "genuine-pinned", raw(mode::PIN, m3));
    add(t, "genuine-small-limit", raw(mode::SMALL_APPLICATION, m3));
    add(t, "classical-to-post-quantum", raw(0, &cl.m3));
    add(t, "post-quantum-to-classical", raw(mode::CLASSICAL, m3));
    add(t, "flipped-tag", raw(0, &flip(m3.clone(), m3.len() - 1, 1)));
    add(t, "flipped-static", raw(0, &flip(m3.clone(), 0, 1)));
    add(t, "flipped-payload", raw(0, &flip(m3.clone(), 60, 0x80)));
    add(t, "short-47", raw(0, &m3[..47]));
    add(t, "short-48", raw(0, &m3[..48]));
    add(t, "trailing-byte", raw(0, &cat(&[m3, &[0]])));
    add(t, "empty", vec![0]);
    let p3 = &cl.payload3;
    add(t, "wrap-post-quantum", raw(WRAP, p3));
    add(t, "wrap-classical", raw(WRAP | mode::CLASSICAL, p3));
    add(
        t,
        "wrap-application-over-limit",
        raw(
            WRAP | mode::CLASSICAL | mode::SMALL_APPLICATION,
            &edit(Message::Three, p3, |p| {
                p.application = Bytes::copy_from_slice(&over_limit);
            }),
        ),
    );
    length_seeds(add, t, WRAP | mode::CLASSICAL, p3, fx::APP_3.len());
    binding_seeds(add, t, Message::Three, mode::CLASSICAL, p3);

    // --- pqxx_stream: [config] ops ---
    let t = "pqxx_stream";
    let records = fx::records();
    let stream = |config: u8, ops: &[Op<'_>]| cat(&[&[config], &encode_ops(ops, false)]);
    let g = Op::Genuine;
    let all: Vec<Op<'_>> = (0..STREAM_RECORDS).map(g).collect();
    let rec = |n: usize| &records.stream[n].record[..];
    add(t, "in-order", stream(0, &all));
    add(
        t,
        "in-order-literal",
        stream(0, &(0..4).map(|n| Op::Literal(rec(n))).collect::<Vec<_>>()),
    );
    add(t, "skip-one", stream(0, &[g(0), g(2), g(1)]));
    add(t, "replay", stream(0, &[g(0), g(1), g(1), g(2)]));
    add(
        t,
        "replay-after-key-update",
        stream(0, &[g(0), g(1), g(2), g(3), g(2)]),
    );
    add(
        t,
        "unknown-flags",
        stream(0, &[g(0), Op::Literal(&with(rec(1).to_vec(), 0, &[2]))]),
    );
    // Record 2 is the last under its key: its flags byte says so.
    add(
        t,
        "key-update-flag-cleared",
        stream(
            0,
            &[g(0), g(1), Op::Literal(&with(rec(2).to_vec(), 0, &[0]))],
        ),
    );
    let forged = flip(rec(1).to_vec(), 3, 0x10);
    add(
        t,
        "forgery-then-genuine",
        stream(0, &[g(0), Op::Literal(&forged), g(1)]),
    );
    add(t, "short-record", stream(0, &[Op::Literal(&rec(0)[..16])]));
    add(t, "empty-record", stream(0, &[g(0), Op::Literal(&[])]));
    add(t, "small-limit", stream(1, &all[..11]));
    add(t, "truncated-literal", vec![0, 20, 1, 2, 3]);
    add(t, "no-records", vec![0]);

    // --- pqxx_datagram: [config] ops ---
    let t = "pqxx_datagram";
    let datagram = |config: u8, ops: &[Op<'_>]| cat(&[&[config], &encode_ops(ops, true)]);
    let rec = |n: usize| &records.datagram[n].record[..];
    let epoch = DATAGRAM_REKEY_AFTER as usize;
    // Selector 2: epoch jumps up to 8, no plaintext limit, window 1024.
    add(
        t,
        "in-order",
        datagram(2, &(0..64).map(g).collect::<Vec<_>>()),
    );
    add(
        t,
        "in-order-literal",
        datagram(2, &(0..4).map(|n| Op::Literal(rec(n))).collect::<Vec<_>>()),
    );
    add(
        t,
        "reverse",
        datagram(2, &(0..=40).rev().map(g).collect::<Vec<_>>()),
    );
    add(t, "replay", datagram(2, &[g(5), g(5), g(4), g(5)]));
    let forged_body = flip(rec(7).to_vec(), 9, 1);
    let forged_nonce = with(rec(8).to_vec(), 7, &[9]);
    add(
        t,
        "forgery-then-genuine",
        datagram(
            2,
            &[
                Op::Literal(&forged_body),
                g(7),
                Op::Literal(&forged_nonce),
                g(8),
                g(9),
            ],
        ),
    );
    add(
        t,
        "epochs",
        datagram(
            2,
            &[
                g(0),
                g(epoch),
                g(1000),
                g(2 * epoch),
                g(2500),
                g(2100),
                g(1500),
            ],
        ),
    );
    add(
        t,
        "epoch-jump-refused",
        datagram(0, &[g(0), g(2 * epoch), g(1)]),
    );
    add(
        t,
        "epoch-jump-2",
        datagram(1, &[g(0), g(2 * epoch), g(epoch), g(2100)]),
    );
    add(
        t,
        "window",
        datagram(2, &[g(0), g(1100), g(50), g(76), g(77)]),
    );
    add(
        t,
        "window-1152",
        datagram(2 | 8, &[g(0), g(1100), g(50), g(0)]),
    );
    add(t, "small-limit", datagram(2 | 4, &[g(0), g(1), g(2), g(3)]));
    add(
        t,
        "short",
        datagram(2, &[Op::Literal(&rec(1)[..7]), Op::Literal(&rec(1)[..23])]),
    );
    let old_epoch = cat(&[&3000u64.to_be_bytes(), &[0; 16]]);
    add(
        t,
        "old-epoch-forgery",
        datagram(
            2,
            &[
                g(0),
                g(epoch),
                g(2 * epoch),
                Op::Literal(&old_epoch),
                g(2 * epoch + 1),
            ],
        ),
    );
    let reserved = cat(&[&u64::MAX.to_be_bytes(), &[0; 16]]);
    add(
        t,
        "reserved-nonce",
        datagram(2, &[Op::Literal(&reserved), g(0)]),
    );
    let far = cat(&[&(9u64 << 48 | 5).to_be_bytes(), &[0; 16]]);
    add(
        t,
        "far-epoch-forgery",
        datagram(2, &[Op::Literal(&far), g(0)]),
    );
    // Selector 3: epoch jumps up to 64; a forgery 64 epochs ahead costs 64
    // rekeys, then fails.
    let jump = cat(&[&(64u64 << 48 | 5).to_be_bytes(), &[0; 17]]);
    add(
        t,
        "max-jump-forgery",
        datagram(3, &[Op::Literal(&jump), g(0), g(5)]),
    );
    add(t, "no-records", vec![2]);
}
