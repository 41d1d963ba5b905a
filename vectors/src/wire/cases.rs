//! The cases of `wire.json`. Positive vectors take their expected bytes from
//! qpc-wire and are re-derived independently by `vectors/independent/`;
//! negative vectors are hand-assembled bytes.

use qpc_wire::{varint, FrameType};

use super::{
    decode_stream, run_negotiation, FrameFields, HelloFields, Hex, NegotiationStep, WireCase,
    WireVector, PROTOCOL,
};

const MIB: u32 = 1 << 20;

fn vector(name: &str, description: &str, case: WireCase) -> WireVector {
    WireVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

/// A deterministic body of `len` bytes (content is irrelevant to the wire).
fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("literal hex")
}

fn padding(len: usize, seed: u8) -> FrameFields {
    FrameFields {
        version: 1,
        frame_type: FrameType::Padding.code(),
        body: body(len, seed),
    }
}

fn encoded(frame: &FrameFields) -> Vec<u8> {
    super::encode_frame(&frame.to_frame().expect("registered")).expect("encodable")
}

fn hello_fields(versions: &[u8], max_body_len: u32, capabilities: &[u16]) -> HelloFields {
    HelloFields {
        versions: versions.to_vec(),
        max_body_len,
        capabilities: capabilities.to_vec(),
    }
}

fn hello_body(h: &HelloFields) -> Vec<u8> {
    qpc_wire::codec::encode_to_vec(&h.to_hello()).expect("valid Hello")
}

fn hello_frame(h: &HelloFields) -> Vec<u8> {
    encoded(&FrameFields {
        version: 1,
        frame_type: FrameType::Hello.code(),
        body: hello_body(h),
    })
}

fn varints() -> Vec<WireVector> {
    let ok = |name: &str, desc: &str, value: u32| {
        let mut out = Vec::new();
        varint::encode(value, &mut out).expect("in range");
        vector(
            name,
            desc,
            WireCase::Varint {
                encoded: out,
                value: Some(value),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, bytes: &str, error: &str| {
        vector(
            name,
            desc,
            WireCase::Varint {
                encoded: hex(bytes),
                value: None,
                expected_error: Some(error.into()),
            },
        )
    };
    vec![
        ok("varint-zero", "0 in one byte", 0),
        ok("varint-37", "RFC 9000 A.1 example 0x25", 37),
        ok("varint-max-1-byte", "63, the largest one-byte value", 63),
        ok("varint-min-2-byte", "64, the smallest two-byte value", 64),
        ok("varint-15293", "RFC 9000 A.1 example 0x7bbd", 15293),
        ok(
            "varint-max-2-byte",
            "16383, the largest two-byte value",
            16383,
        ),
        ok(
            "varint-min-4-byte",
            "16384, the smallest four-byte value",
            16384,
        ),
        ok(
            "varint-494878333",
            "RFC 9000 A.1 example 0x9d7f3e7d",
            494_878_333,
        ),
        ok("varint-max", "2^30 - 1, the largest value", varint::MAX),
        bad(
            "varint-non-minimal-2-byte",
            "37 in two bytes (RFC 9420 2.1.2's invalid example)",
            "4025",
            "non_minimal_length",
        ),
        bad(
            "varint-non-minimal-4-byte",
            "37 in four bytes",
            "80000025",
            "non_minimal_length",
        ),
        bad(
            "varint-non-minimal-4-byte-max",
            "16383 in four bytes",
            "80003fff",
            "non_minimal_length",
        ),
        bad(
            "varint-reserved-prefix",
            "prefix 0b11 (an 8-byte QUIC varint) is reserved in MLS",
            "c000000000000000",
            "invalid_length_prefix",
        ),
        bad(
            "varint-truncated-2-byte",
            "two-byte prefix, one byte present",
            "40",
            "truncated",
        ),
        bad(
            "varint-truncated-4-byte",
            "four-byte prefix, three bytes present",
            "800000",
            "truncated",
        ),
        bad("varint-empty", "no bytes at all", "", "truncated"),
    ]
}

fn frames() -> Vec<WireVector> {
    let ok = |name: &str, desc: &str, max: u32, frame: FrameFields| {
        vector(
            name,
            desc,
            WireCase::Frame {
                max_body_len: max,
                encoded: encoded(&frame),
                frame: Some(frame),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, max: u32, bytes: &str, error: &str| {
        vector(
            name,
            desc,
            WireCase::Frame {
                max_body_len: max,
                encoded: hex(bytes),
                frame: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let hello = FrameFields {
        version: 1,
        frame_type: FrameType::Hello.code(),
        body: hello_body(&hello_fields(&[1], MIB, &[0xff01])),
    };
    let mut too_long_for_100 = hex("01 0002 40 65");
    too_long_for_100.extend(body(101, 0));
    vec![
        ok(
            "frame-padding-empty",
            "Padding frame with an empty body: the shortest frame",
            MIB,
            padding(0, 0),
        ),
        ok(
            "frame-hello-worked-example",
            "the Hello frame of spec/01-wire.md's worked example",
            MIB,
            hello,
        ),
        ok(
            "frame-padding-63",
            "63-byte body: largest one-byte length",
            MIB,
            padding(63, 1),
        ),
        ok(
            "frame-padding-64",
            "64-byte body: smallest two-byte length",
            MIB,
            padding(64, 2),
        ),
        ok(
            "frame-padding-300",
            "300-byte body: length 0x412c",
            MIB,
            padding(300, 3),
        ),
        ok(
            "frame-padding-16384",
            "16 KiB body: smallest four-byte length",
            MIB,
            padding(16384, 4),
        ),
        ok(
            "frame-padding-at-limit",
            "body exactly at the receiver's limit of 100 bytes",
            100,
            padding(100, 5),
        ),
        bad(
            "frame-unknown-version",
            "header version 2 is not accepted",
            MIB,
            "02 0002 00",
            "unknown_version",
        ),
        bad(
            "frame-version-zero",
            "version 0 is reserved",
            MIB,
            "00 0002 00",
            "unknown_version",
        ),
        bad(
            "frame-type-reserved-zero",
            "frame type 0x0000 is reserved",
            MIB,
            "01 0000 00",
            "unknown_frame_type",
        ),
        bad(
            "frame-type-unregistered",
            "frame type 0x0003 is not registered",
            MIB,
            "01 0003 00",
            "unknown_frame_type",
        ),
        bad(
            "frame-type-reserved-ffff",
            "frame type 0xffff is reserved",
            MIB,
            "01 ffff 00",
            "unknown_frame_type",
        ),
        bad(
            "frame-length-non-minimal",
            "empty body with a two-byte length",
            MIB,
            "01 0002 4000",
            "non_minimal_length",
        ),
        bad(
            "frame-length-reserved-prefix",
            "length with the reserved 0b11 prefix",
            MIB,
            "01 0002 c0 00000000000000",
            "invalid_length_prefix",
        ),
        vector(
            "frame-over-limit",
            "101-byte body for a receiver whose limit is 100",
            WireCase::Frame {
                max_body_len: 100,
                encoded: too_long_for_100,
                frame: None,
                expected_error: Some("frame_too_large".into()),
            },
        ),
        bad(
            "frame-over-limit-huge",
            "a 2^30-1 byte body announced in 7 bytes: rejected before any allocation",
            MIB,
            "01 0002 bfffffff",
            "frame_too_large",
        ),
        bad(
            "frame-truncated-header",
            "input ends inside the frame type",
            MIB,
            "01 00",
            "truncated",
        ),
        bad(
            "frame-truncated-length",
            "input ends inside a two-byte length",
            MIB,
            "01 0002 41",
            "truncated",
        ),
        bad(
            "frame-truncated-body",
            "5-byte body announced, 2 present",
            MIB,
            "01 0002 05 aabb",
            "truncated",
        ),
        bad(
            "frame-trailing-bytes",
            "one byte after a complete frame",
            MIB,
            "01 0002 00 ff",
            "trailing_bytes",
        ),
    ]
}

fn stream(name: &str, desc: &str, max: u32, bytes: Vec<u8>, chunks: Vec<usize>) -> WireVector {
    let (frames, error) = decode_stream(&bytes, &chunks, max).expect("chunks fit");
    vector(
        name,
        desc,
        WireCase::Stream {
            max_body_len: max,
            stream: bytes,
            chunks,
            frames,
            expected_error: error.map(|e| e.class().into()),
        },
    )
}

fn streams() -> Vec<WireVector> {
    let three: Vec<u8> = [padding(0, 0), padding(70, 1), padding(5, 2)]
        .iter()
        .flat_map(encoded)
        .collect();
    let n = three.len();
    let mut then_unknown = encoded(&padding(3, 7));
    then_unknown.extend(hex("01 0042 00"));
    let mut then_huge = encoded(&padding(3, 8));
    then_huge.extend(hex("01 0002 8000ffff"));
    let cut_body = encoded(&padding(10, 9))[..8].to_vec();
    vec![
        stream(
            "stream-three-frames-one-chunk",
            "three frames delivered in one chunk",
            MIB,
            three.clone(),
            vec![n],
        ),
        stream(
            "stream-three-frames-bytewise",
            "the same stream one byte at a time",
            MIB,
            three.clone(),
            vec![1; n],
        ),
        stream(
            "stream-split-inside-header",
            "chunks end inside the type field and inside the two-byte length",
            MIB,
            three.clone(),
            vec![4, 2, 1, n - 7],
        ),
        stream(
            "stream-split-inside-body",
            "chunks of 7 bytes straddle every boundary",
            MIB,
            three.clone(),
            {
                let mut c = vec![7; n / 7];
                c.push(n % 7);
                c
            },
        ),
        stream(
            "stream-empty",
            "no bytes, then end of stream: no frames, no error",
            MIB,
            vec![],
            vec![],
        ),
        stream(
            "stream-empty-chunks",
            "empty chunks between non-empty ones are harmless",
            MIB,
            three.clone(),
            vec![0, 10, 0, n - 10, 0],
        ),
        stream(
            "stream-unknown-type-after-frame",
            "a good frame, then frame type 0x0042: one frame, then the error",
            MIB,
            then_unknown,
            vec![11],
        ),
        stream(
            "stream-oversized-after-frame",
            "a good frame, then a 65535-byte body for a 4096-byte limit",
            4096,
            then_huge,
            vec![6, 8],
        ),
        stream(
            "stream-truncated-at-end",
            "the stream ends inside a body: error at end of stream",
            MIB,
            cut_body,
            vec![3, 5],
        ),
    ]
}

fn hellos() -> Vec<WireVector> {
    let ok = |name: &str, desc: &str, h: HelloFields| {
        vector(
            name,
            desc,
            WireCase::Hello {
                encoded: hello_body(&h),
                hello: Some(h),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, bytes: &str, error: &str| {
        vector(
            name,
            desc,
            WireCase::Hello {
                encoded: hex(bytes),
                hello: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let mut too_many = vec![33u8];
    too_many.extend((1..=33).rev());
    too_many.extend(hex("00100000 00"));
    let mut too_many_caps = hex("01 01 00100000 4082");
    too_many_caps.extend((1..=65u16).flat_map(u16::to_be_bytes));
    vec![
        vector(
            "hello-too-many-capabilities",
            "65 capabilities; at most 64 are allowed",
            WireCase::Hello {
                encoded: too_many_caps,
                hello: None,
                expected_error: Some("too_many_items".into()),
            },
        ),
        ok(
            "hello-worked-example",
            "versions [1], 1 MiB, capability 0xff01 (spec/01-wire.md)",
            hello_fields(&[1], MIB, &[0xff01]),
        ),
        ok(
            "hello-three-versions",
            "versions [3,2,1], the largest limit, three capabilities",
            hello_fields(&[3, 2, 1], varint::MAX, &[1, 2, 0xf000]),
        ),
        ok(
            "hello-minimal",
            "one version, the smallest limit (256), no capabilities",
            hello_fields(&[255], 256, &[]),
        ),
        bad(
            "hello-no-versions",
            "an empty version list",
            "00 00100000 00",
            "malformed",
        ),
        bad(
            "hello-versions-ascending",
            "versions [1,2] are not strictly descending",
            "02 0102 00100000 00",
            "malformed",
        ),
        bad(
            "hello-versions-duplicate",
            "versions [1,1]",
            "02 0101 00100000 00",
            "malformed",
        ),
        bad(
            "hello-version-zero",
            "version 0 is reserved",
            "01 00 00100000 00",
            "malformed",
        ),
        bad(
            "hello-limit-too-small",
            "max_body_len 255 is below 256",
            "01 01 000000ff 00",
            "malformed",
        ),
        bad(
            "hello-malformed-before-trailing",
            "no versions and a trailing byte: the Hello rules are checked first",
            "00 00100000 00 ff",
            "malformed",
        ),
        bad(
            "hello-vector-longer-than-input",
            "versions<V> declares 40 bytes, 35 are present: truncated, not too_many_items",
            &format!("28 {}", "01".repeat(35)),
            "truncated",
        ),
        bad(
            "hello-limit-too-large",
            "max_body_len 2^30 exceeds the varint range",
            "01 01 40000000 00",
            "malformed",
        ),
        bad(
            "hello-capabilities-descending",
            "capabilities [2,1]",
            "01 01 00100000 04 0002 0001",
            "malformed",
        ),
        bad(
            "hello-capability-crosses-vector-end",
            "a 3-byte uint16 vector: the second element crosses its end",
            "01 01 00100000 03 0001 00",
            "truncated",
        ),
        bad(
            "hello-trailing-byte",
            "a valid Hello followed by one byte",
            "01 01 00100000 00 00",
            "trailing_bytes",
        ),
        bad(
            "hello-truncated",
            "input ends inside max_body_len",
            "01 01 0010",
            "truncated",
        ),
        vector(
            "hello-too-many-versions",
            "33 versions; at most 32 are allowed",
            WireCase::Hello {
                encoded: too_many,
                hello: None,
                expected_error: Some("too_many_items".into()),
            },
        ),
    ]
}

/// A transcript vector: `inputs` are (time, frame or timer); the results
/// are what qpc-wire produces, re-derived by the independent checker.
fn transcript(
    name: &str,
    desc: &str,
    local: HelloFields,
    timeout_ms: u64,
    inputs: Vec<(u64, Option<Vec<u8>>)>,
) -> WireVector {
    let mut steps: Vec<NegotiationStep> = inputs
        .into_iter()
        .map(|(at_ms, frame)| NegotiationStep {
            at_ms,
            frame: frame.map(Hex),
            result: String::new(),
        })
        .collect();
    let (local_frame, results, outcome) =
        run_negotiation(&local, timeout_ms, &steps).expect("valid local offer");
    for (step, result) in steps.iter_mut().zip(results) {
        step.result = result;
    }
    let (outcome, expected_error) = match outcome {
        Ok(o) => (Some(o), None),
        Err(e) => (None, Some(e.class().to_owned())),
    };
    vector(
        name,
        desc,
        WireCase::Negotiation {
            local,
            timeout_ms,
            local_frame,
            steps,
            outcome,
            expected_error,
        },
    )
}

fn negotiations() -> Vec<WireVector> {
    const T: u64 = 10_000;
    let v1 = hello_fields(&[1], MIB, &[]);
    let v321 = hello_fields(&[3, 2, 1], MIB, &[0x0001, 0x0007, 0xf000]);
    let peer_v1 = hello_frame(&hello_fields(&[1], 65536, &[0xf001]));
    let mut hello_in_v2 = hello_frame(&hello_fields(&[2, 1], 4096, &[]));
    hello_in_v2[0] = 2;
    let padding_v1 = encoded(&padding(4, 0));
    let mut padding_v2 = padding_v1.clone();
    padding_v2[0] = 2;
    let once = |frame: Vec<u8>| vec![(0, Some(frame))];
    let t = transcript;
    vec![
        t("negotiate-v1-v1", "both offer only version 1", v1.clone(), T, once(peer_v1.clone())),
        t(
            "negotiate-highest-common",
            "[3,2,1] meets [4,2,1]: version 2; capabilities intersect",
            v321.clone(),
            T,
            once(hello_frame(&hello_fields(&[4, 2, 1], 4096, &[0x0007, 0x0009, 0xf000]))),
        ),
        t(
            "negotiate-no-common-version",
            "[3,2,1] meets [5,4]: both lists in the error",
            v321,
            T,
            once(hello_frame(&hello_fields(&[5, 4], MIB, &[]))),
        ),
        t(
            "negotiate-v3-only-meets-v1",
            "a version-3-only peer still reads the version-1 Hello frame, then finds no common version",
            hello_fields(&[3], MIB, &[]),
            T,
            once(peer_v1.clone()),
        ),
        t("negotiate-padding-first", "the peer's first frame is Padding, not Hello", v1.clone(), T, once(padding_v1.clone())),
        t(
            "negotiate-hello-in-v2-frame",
            "a Hello frame whose header says version 2",
            hello_fields(&[2, 1], MIB, &[]),
            T,
            once(hello_in_v2),
        ),
        t(
            "negotiate-malformed-hello",
            "the peer's Hello lists no versions",
            v1.clone(),
            T,
            once(hex("01 0001 06 00 00100000 00")),
        ),
        t(
            "negotiate-frame-over-local-limit",
            "before the Hello, a 300-byte Padding frame exceeds the 256-byte limit we announced",
            hello_fields(&[1], 256, &[]),
            T,
            once(encoded(&padding(300, 1))),
        ),
        t(
            "negotiate-timeout",
            "no Hello: nothing happens 1 ms before the deadline, the negotiation fails at it",
            v1.clone(),
            T,
            vec![(T - 1, None), (T, None), (T + 5, Some(peer_v1.clone()))],
        ),
        t("negotiate-late-hello", "a Hello processed exactly at the deadline is too late", v1.clone(), T, vec![(T, Some(peer_v1.clone()))]),
        t(
            "negotiate-second-hello",
            "after Done, Padding is not the negotiation's business but a second Hello is an error",
            v1,
            T,
            vec![(0, Some(peer_v1.clone())), (T * 3, Some(padding_v1.clone())), (T * 3, Some(peer_v1))],
        ),
        t(
            "negotiate-old-version-after-done",
            "after agreeing on version 2 the receiver accepts only version-2 frames",
            hello_fields(&[2, 1], MIB, &[]),
            T,
            vec![
                (0, Some(hello_frame(&hello_fields(&[2, 1], MIB, &[])))),
                (1, Some(padding_v2)),
                (2, Some(padding_v1)),
            ],
        ),
    ]
}

/// The text of `wire.json`. Panics if qpc-wire fails one of its own vectors.
pub fn generate() -> String {
    let vectors: Vec<WireVector> =
        [varints(), frames(), streams(), hellos(), negotiations()].concat();
    crate::checked_file(PROTOCOL, "spec/01-wire.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-derived bytes from spec/01-wire.md's worked examples, checked
    /// against the encoder (not copied from it).
    #[test]
    fn worked_examples_match_hand_derivation() {
        let h = hello_fields(&[1], MIB, &[0xff01]);
        assert_eq!(hello_body(&h), hex("01 01 00100000 02 ff01"));
        assert_eq!(hello_frame(&h), hex("01 0001 09 01 01 00100000 02 ff01"));
        assert_eq!(encoded(&padding(300, 3))[..5], hex("01 0002 412c")[..]);
    }

    #[test]
    fn generation_is_deterministic_and_large_enough() {
        let file = crate::assert_sound_generation::<WireVector>(generate);
        let negative = file
            .vectors
            .iter()
            .filter(|v| match &v.case {
                WireCase::Varint { expected_error, .. }
                | WireCase::Frame { expected_error, .. }
                | WireCase::Stream { expected_error, .. }
                | WireCase::Hello { expected_error, .. }
                | WireCase::Negotiation { expected_error, .. } => expected_error.is_some(),
            })
            .count();
        assert!(
            file.vectors.len() >= 30 && negative >= 5,
            "{} vectors, {negative} negative",
            file.vectors.len()
        );
    }
}
