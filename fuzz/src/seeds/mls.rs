//! Seeds of the MLS targets: genuine payloads and headers with one near
//! miss per check of `spec/07` §5-§6, and ordering op lists that reach
//! every branch of §7.

use bytes::Bytes;
use qpc_crypto::mls::delivery::DeliveryHeader;
use qpc_crypto::mls::payload::{ApplicationPayload, ContentType};
use qpc_crypto::padding::{pad, Padding};

use super::cat;

const PAYLOAD: u8 = 0;
const HEADER: u8 = 1;

fn payload(reply_to: Option<[u8; 16]>, body: &'static [u8]) -> Vec<u8> {
    ApplicationPayload {
        content_type: ContentType::Text,
        message_id: [7; 16],
        timestamp_ms: 1_800_000_000_000,
        reply_to,
        body: Bytes::from_static(body),
    }
    .encode()
    .expect("valid")
}

fn padded(encoded: &[u8]) -> Vec<u8> {
    pad(Padding::Padme, encoded).expect("pads")
}

/// One ordering op: `[id] [epoch delta] [sender | kind] [sequence]`.
fn op(id: u8, delta: i8, sender: u8, commit: bool, sequence: u8) -> [u8; 4] {
    [
        id,
        (delta as u8).wrapping_mul(32),
        sender | if commit { 0x80 } else { 0 },
        sequence,
    ]
}

fn ops(config: u8, list: &[[u8; 4]]) -> Vec<u8> {
    cat(&[&[config], &list.concat()])
}

/// Adds every MLS seed.
pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let t = "mls_payload";
    let good = payload(None, b"hey!");
    let edit = |i: usize, v: u8| {
        let mut e = good.clone();
        e[i] = v;
        cat(&[&[PAYLOAD], &padded(&e)])
    };
    let body = |b: &[u8]| cat(&[&[PAYLOAD], &padded(&cat(&[&good[..27], b]))]);
    add(t, "text", cat(&[&[PAYLOAD], &padded(&good)]));
    add(
        t,
        "reply",
        cat(&[
            &[PAYLOAD],
            &padded(&payload(Some([9; 16]), "grüß".as_bytes())),
        ]),
    );
    add(t, "unpadded", cat(&[&[PAYLOAD], &good]));
    add(t, "version-2", edit(0, 2));
    add(t, "content-type-3", edit(1, 3));
    add(t, "reply-flag-2", edit(26, 2));
    add(t, "truncated", cat(&[&[PAYLOAD], &padded(&good[..30])]));
    add(
        t,
        "trailing-byte",
        cat(&[&[PAYLOAD], &padded(&cat(&[&good, &[0]]))]),
    );
    add(
        t,
        "non-minimal-length",
        body(&[0x40, 4, b'h', b'e', b'y', b'!']),
    );
    add(t, "body-too-long", body(&[0x80, 0x10, 0, 1]));
    add(t, "not-utf8", body(&[2, 0xc3, 0x28]));
    add(
        t,
        "header",
        cat(&[&[HEADER], &DeliveryHeader { sequence: 5 }.encode()]),
    );
    add(t, "header-short", vec![HEADER, 1, 0, 0]);
    add(t, "header-version-0", cat(&[&[HEADER], &[0; 9]]));
    add(t, "empty", vec![]);

    let t = "mls_ordering";
    let a = 1;
    let b = 2;
    add(
        t,
        "in-order",
        ops(
            0xff,
            &[
                op(1, 0, a, false, 0),
                op(2, 0, a, false, 1),
                op(3, 0, b, false, 0),
            ],
        ),
    );
    add(
        t,
        "duplicate",
        ops(0xff, &[op(1, 0, a, false, 0), op(1, 0, a, false, 0)]),
    );
    add(
        t,
        "gap-late",
        ops(
            0xff,
            &[
                op(1, 0, a, false, 0),
                op(2, 0, a, false, 3),
                op(3, 0, a, false, 1),
                op(4, 0, a, false, 1),
            ],
        ),
    );
    add(
        t,
        "hold-release",
        ops(
            0xff,
            &[
                op(1, 1, b, false, 0),
                op(2, 0, a, true, 0),
                op(3, 0, a, false, 1),
            ],
        ),
    );
    add(
        t,
        "stale-commit",
        ops(0xff, &[op(1, 0, a, true, 0), op(2, -1, b, true, 0)]),
    );
    add(
        t,
        "held-full",
        ops(0x00, &[op(1, 1, b, false, 0), op(2, 0, a, true, 0)]),
    );
    add(
        t,
        "window-1",
        ops(
            0x0f,
            &[
                op(1, 0, a, false, 0),
                op(2, 0, a, false, 5),
                op(3, 0, a, false, 3),
                op(4, 0, a, false, 4),
            ],
        ),
    );
    add(
        t,
        "max-sequence",
        ops(0xff, &[op(1, 0, a, false, 0xff), op(2, 0, a, false, 1)]),
    );
    add(
        t,
        "too-many-senders",
        ops(
            0x3f,
            &[
                op(1, 0, 1, false, 0),
                op(2, 0, 2, false, 0),
                op(3, 0, 3, false, 0),
            ],
        ),
    );
    add(
        t,
        "too-old-epoch",
        ops(0x7f, &[op(1, 0, a, true, 0), op(2, -1, b, false, 0)]),
    );
}
