//! The committed seed corpus, generated here so that it is reproducible.
//!
//! `fuzz/corpus/<target>/<name>` holds the bytes of each [`Seed`];
//! `cargo run -p qpc-fuzz --example write_seeds` (re)writes them and the
//! `seeds_are_committed` test checks that the files match this code.

use qpc_wire::hello::MIN_BODY_LIMIT;
use qpc_wire::{codec, FrameEncoder, FrameType, Hello, VersionSet};

/// One seed input of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target (a function of this crate, a directory of `fuzz/corpus/`).
    pub target: &'static str,
    /// The file name.
    pub name: &'static str,
    /// The input.
    pub bytes: Vec<u8>,
}

/// Config selector (see [`crate::decoder_config`]) for the default 1 MiB
/// limit and version `{1}`; ORed with a frame retention mode in bits 6-7.
const DEFAULT_CONFIG: u8 = 0x00;
/// Chunk selector: the whole stream in one chunk (mode 3, cut at the end).
const WHOLE: u8 = 0xc0 | 63;
/// Chunk selector: one byte per chunk.
const BYTEWISE: u8 = 0x00;

fn frame(frame_type: FrameType, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    FrameEncoder::new(1, qpc_wire::varint::MAX)
        .encode(frame_type, body, &mut out)
        .expect("seed frame encodes");
    out
}

fn hello_body(versions: &[u8], max_body_len: u32, capabilities: &[u16]) -> Vec<u8> {
    let hello = Hello::new(
        versions.iter().copied().collect::<VersionSet>(),
        max_body_len,
        capabilities.to_vec(),
    );
    codec::encode_to_vec(&hello).expect("seed Hello encodes")
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Every seed, in a fixed order.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |target, name, bytes: Vec<u8>| {
        seeds.push(Seed {
            target,
            name,
            bytes,
        })
    };

    let hello_v1 = hello_body(&[1], 1 << 20, &[0xff01]);
    let hello_frame = frame(FrameType::Hello, &hello_v1);
    let hello_wide = hello_body(&[255, 3, 2, 1], MIN_BODY_LIMIT, &[0, 1, 5, 0xff01, 0xffff]);
    let padding_hello = frame(FrameType::Padding, b"hello");
    let padding_world = frame(FrameType::Padding, b"world");
    let empty = frame(FrameType::Padding, b"");
    let body_64 = frame(FrameType::Padding, &[0x5a; 64]);
    let body_16384 = frame(FrameType::Padding, &[0xa5; 16384]);

    // --- frame_decoder: [config selector] [chunk selector] stream ---
    let t = "frame_decoder";
    add(
        t,
        "two-padding-whole",
        cat(&[&[DEFAULT_CONFIG, WHOLE], &padding_hello, &padding_world]),
    );
    add(
        t,
        "hello-padding-bytewise-keep-all",
        cat(&[&[0x40, BYTEWISE], &hello_frame, &padding_hello]),
    );
    add(
        t,
        "varint-sizes-random-chunks-keep-odd",
        cat(&[
            &[0x80, 0x80 | 7],
            &empty,
            &frame(FrameType::Padding, &[7; 63]),
            &body_64,
            &body_16384,
            &padding_world,
        ]),
    );
    add(
        t,
        "limit-64-exact-fixed-7",
        cat(&[&[0x05, 0x40 | 6], &body_64, &empty]),
    );
    add(
        t,
        "limit-63-too-large",
        cat(&[&[0x04, 0x40 | 2], &empty, &body_64]),
    );
    add(
        t,
        "many-empty-keep-latest",
        cat(&[&[0xc0, 0x40 | 3], &empty.repeat(20)]),
    );
    add(
        t,
        "unknown-version-after-frame",
        cat(&[&[DEFAULT_CONFIG, 0x40 | 4], &padding_hello, &[9, 0, 2, 0]]),
    );
    add(
        t,
        "unknown-frame-type",
        cat(&[&[DEFAULT_CONFIG, BYTEWISE], &[1, 0, 3, 0]]),
    );
    add(
        t,
        "reserved-length-prefix",
        cat(&[&[DEFAULT_CONFIG, BYTEWISE], &[1, 0, 2, 0xc0, 0, 0, 0]]),
    );
    add(
        t,
        "non-minimal-length",
        cat(&[&[DEFAULT_CONFIG, 0xc0 | 20], &[1, 0, 2, 0x40, 0x01, 0xaa]]),
    );
    add(
        t,
        "truncated-body-split",
        cat(&[
            &[DEFAULT_CONFIG, 0xc0 | 31],
            &frame(FrameType::Padding, &[1; 40])[..30],
        ]),
    );
    add(
        t,
        "version-2-allowed",
        cat(&[&[0x10, WHOLE], &[2, 0, 2, 1, 0xee], &padding_hello]),
    );
    add(
        t,
        "huge-announced-length",
        cat(&[&[0x0f, BYTEWISE], &[1, 0, 2, 0xbf, 0xff, 0xff, 0xff, 0]]),
    );

    // --- frame: [config selector] frame ---
    let t = "frame";
    // Found by the first libFuzzer run (a harness bug, not a qpc-wire one):
    // an empty datagram is truncated, an empty stream ends cleanly.
    add(t, "empty-input", vec![0x01]);
    add(t, "padding", cat(&[&[DEFAULT_CONFIG], &padding_hello]));
    add(t, "hello", cat(&[&[DEFAULT_CONFIG], &hello_frame]));
    add(t, "empty-body", cat(&[&[DEFAULT_CONFIG], &empty]));
    add(t, "two-byte-length", cat(&[&[DEFAULT_CONFIG], &body_64]));
    add(
        t,
        "trailing-bytes",
        cat(&[&[DEFAULT_CONFIG], &padding_hello, &[1, 0]]),
    );
    add(
        t,
        "truncated-header",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0x40]]),
    );
    add(
        t,
        "truncated-body",
        cat(&[&[DEFAULT_CONFIG], &padding_hello[..6]]),
    );
    add(
        t,
        "non-minimal-length",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0x40, 0x00]]),
    );
    add(
        t,
        "reserved-length-prefix",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0xff]]),
    );
    add(
        t,
        "unknown-frame-type",
        cat(&[&[DEFAULT_CONFIG], &[1, 0xff, 0xff, 0]]),
    );
    add(t, "version-2-allowed", cat(&[&[0x10], &[2, 0, 1, 0]]));
    add(t, "version-1-refused", cat(&[&[0x20], &empty]));
    add(t, "limit-0-too-large", cat(&[&[0x01], &padding_hello]));

    // --- hello: a Hello body ---
    let t = "hello";
    add(t, "spec-example", hello_v1.clone());
    add(t, "several-versions-and-capabilities", hello_wide.clone());
    add(
        t,
        "max-limits",
        hello_body(
            &(1..=32).collect::<Vec<u8>>(),
            qpc_wire::varint::MAX,
            &(0..64).collect::<Vec<u16>>(),
        ),
    );
    add(t, "no-capabilities", hello_body(&[1], MIN_BODY_LIMIT, &[]));
    add(t, "no-versions", vec![0x00, 0, 0, 1, 0, 0x00]);
    add(t, "versions-ascending", vec![0x02, 1, 2, 0, 0, 1, 0, 0x00]);
    add(t, "version-0", vec![0x01, 0, 0, 0, 1, 0, 0x00]);
    add(
        t,
        "limit-below-minimum",
        cat(&[&[0x01, 1], &(MIN_BODY_LIMIT - 1).to_be_bytes(), &[0x00]]),
    );
    add(
        t,
        "capabilities-descending",
        vec![0x01, 1, 0, 0, 1, 0, 0x04, 0, 2, 0, 1],
    );
    add(t, "trailing-byte", cat(&[&hello_v1, &[0]]));
    add(
        t,
        "odd-capability-bytes",
        vec![0x01, 1, 0, 0, 1, 0, 0x03, 0, 2, 0],
    );
    add(
        t,
        "thirty-three-versions",
        cat(&[
            &[33],
            &(1..=33).rev().collect::<Vec<u8>>(),
            &[0, 0, 1, 0, 0],
        ]),
    );
    add(
        t,
        "non-minimal-vector-length",
        vec![0x40, 0x01, 1, 0, 0, 1, 0, 0x00],
    );

    // --- negotiation: [versions mask] [capabilities mask] [mode] peer ---
    let t = "negotiation";
    add(
        t,
        "v1-body",
        cat(&[&[0x01, 0x00, 0], &hello_body(&[1], 1 << 20, &[])]),
    );
    add(
        t,
        "highest-common-and-intersection",
        cat(&[&[0x0f, 0xff, 0], &hello_wide]),
    );
    add(
        t,
        "no-common-version",
        cat(&[&[0x01, 0x00, 0], &hello_body(&[9, 7], 1000, &[])]),
    );
    add(t, "v1-frame", cat(&[&[0x01, 0xc0, 1], &hello_frame]));
    add(
        t,
        "padding-frame-first",
        cat(&[&[0x01, 0x00, 1], &padding_hello]),
    );
    add(
        t,
        "hello-frame-version-2",
        cat(&[
            &[0x03, 0x00, 1],
            &[2, 0, 1],
            &[hello_v1.len() as u8],
            &hello_v1,
        ]),
    );
    add(
        t,
        "bad-hello-body",
        cat(&[&[0x01, 0x00, 0], &[0x02, 1, 2, 0, 0, 1, 0, 0x00]]),
    );
    add(
        t,
        "timeout-checked-early",
        cat(&[&[0x01, 0x00, 2], &hello_v1]),
    );
    add(
        t,
        "arrives-at-deadline",
        cat(&[&[0x01, 0x00, 4], &hello_v1]),
    );
    add(
        t,
        "padding-after-success",
        cat(&[&[0x01, 0x00, 0xf8], &hello_v1]),
    );
    add(t, "no-local-versions", cat(&[&[0x00, 0x00, 0], &hello_v1]));
    seeds
}
