//! Generation of `lora.json`: inputs chosen here, expected values from
//! qpc (re-derived by `vectors/independent/check_lora.py`).

use bytes::Bytes;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::frame::LinkFrame;

use super::{
    airtime_of, frame_json, link_of, run_duty, run_reassembly, LoraCase, LoraVector, RadioJson,
    ReassemblyConfigJson, ReassemblyStep, PROTOCOL,
};
use crate::{checked_file, deterministic_bytes, HexBytes};

fn lorawan(sf: u8) -> RadioJson {
    RadioJson {
        spreading_factor: sf,
        bandwidth_hz: 125_000,
        coding_rate: 1,
        preamble_symbols: 8,
        explicit_header: true,
        crc: true,
        ldro: "auto".into(),
    }
}

fn vector(name: impl Into<String>, description: impl Into<String>, case: LoraCase) -> LoraVector {
    LoraVector {
        name: name.into(),
        description: description.into(),
        case,
    }
}

fn airtime(name: &str, description: &str, radio: RadioJson, payload_len: usize) -> LoraVector {
    let (expected, expected_error) = match airtime_of(&radio, payload_len) {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.class().to_owned())),
    };
    vector(
        name,
        description,
        LoraCase::Airtime {
            radio,
            payload_len,
            expected,
            expected_error,
        },
    )
}

fn airtime_vectors() -> Vec<LoraVector> {
    let mut out = vec![
        airtime(
            "airtime-published-sf9-13",
            "published: SF9, 125 kHz, CR 4/5, 8-symbol preamble, explicit header, CRC, 13 bytes = 164.864 ms",
            lorawan(9),
            13,
        ),
        airtime(
            "airtime-published-sf12-50",
            "published: SF12, 125 kHz, CR 4/5, LDRO by the rule, 50 bytes = 2301.952 ms",
            lorawan(12),
            50,
        ),
    ];
    for sf in 7..=12 {
        for len in [13, 51, 115, 222, 255] {
            if (sf, len) == (9, 13) {
                continue;
            }
            out.push(airtime(
                &format!("airtime-table-sf{sf}-{len}"),
                "the spec §3.3 table: 125 kHz, CR 4/5, 8-symbol preamble, explicit header, CRC, LDRO by the rule",
                lorawan(sf),
                len,
            ));
        }
    }
    let variants: [(&str, &str, RadioJson, usize); 8] = [
        (
            "airtime-bw250-sf7-51",
            "250 kHz",
            RadioJson {
                bandwidth_hz: 250_000,
                ..lorawan(7)
            },
            51,
        ),
        (
            "airtime-bw250-sf12-51",
            "250 kHz, SF12: LDRO on by the rule",
            RadioJson {
                bandwidth_hz: 250_000,
                ..lorawan(12)
            },
            51,
        ),
        (
            "airtime-bw500-sf12-51",
            "500 kHz, SF12: LDRO off by the rule",
            RadioJson {
                bandwidth_hz: 500_000,
                ..lorawan(12)
            },
            51,
        ),
        (
            "airtime-cr48-sf10-51",
            "coding rate 4/8",
            RadioJson {
                coding_rate: 4,
                ..lorawan(10)
            },
            51,
        ),
        (
            "airtime-implicit-nocrc-sf12-0",
            "implicit header, no CRC, empty payload: only the 8 fixed symbols",
            RadioJson {
                explicit_header: false,
                crc: false,
                ..lorawan(12)
            },
            0,
        ),
        (
            "airtime-ldro-forced-sf7-20",
            "LDRO forced on at SF7",
            RadioJson {
                ldro: "on".into(),
                ..lorawan(7)
            },
            20,
        ),
        (
            "airtime-ldro-forced-off-sf12-51",
            "LDRO forced off at SF12",
            RadioJson {
                ldro: "off".into(),
                ..lorawan(12)
            },
            51,
        ),
        (
            "airtime-preamble32-sf9-53",
            "32-symbol preamble",
            RadioJson {
                preamble_symbols: 32,
                ..lorawan(9)
            },
            53,
        ),
    ];
    for (name, description, radio, len) in variants {
        out.push(airtime(name, description, radio, len));
    }
    let negatives: [(&str, &str, RadioJson, usize); 7] = [
        (
            "airtime-sf6",
            "spreading factor 6 is not supported",
            lorawan(6),
            13,
        ),
        ("airtime-sf13", "spreading factor 13", lorawan(13), 13),
        (
            "airtime-cr0",
            "coding rate index 0",
            RadioJson {
                coding_rate: 0,
                ..lorawan(7)
            },
            13,
        ),
        (
            "airtime-cr5",
            "coding rate index 5",
            RadioJson {
                coding_rate: 5,
                ..lorawan(7)
            },
            13,
        ),
        (
            "airtime-preamble5",
            "5-symbol preamble",
            RadioJson {
                preamble_symbols: 5,
                ..lorawan(7)
            },
            13,
        ),
        (
            "airtime-bw62500",
            "62.5 kHz is not supported",
            RadioJson {
                bandwidth_hz: 62_500,
                ..lorawan(7)
            },
            13,
        ),
        (
            "airtime-256-bytes",
            "a PHY payload holds at most 255 bytes",
            lorawan(7),
            256,
        ),
    ];
    for (name, description, radio, len) in negatives {
        out.push(airtime(name, description, radio, len));
    }
    out
}

fn link_vectors() -> Vec<LoraVector> {
    let cases: [(&str, RadioJson, &str); 14] = [
        ("link-eu868-g1-sf7", lorawan(7), "eu868_g1"),
        ("link-eu868-g1-sf8", lorawan(8), "eu868_g1"),
        ("link-eu868-g2-sf9", lorawan(9), "eu868_g2"),
        ("link-eu868-g3-sf10", lorawan(10), "eu868_g3"),
        ("link-eu868-g4-sf12", lorawan(12), "eu868_g4"),
        (
            "link-eu868-g3-bw250-sf7",
            RadioJson {
                bandwidth_hz: 250_000,
                ..lorawan(7)
            },
            "eu868_g3",
        ),
        (
            "link-eu868-bw250-sf8",
            RadioJson {
                bandwidth_hz: 250_000,
                ..lorawan(8)
            },
            "eu868_g1",
        ),
        (
            "link-eu868-bw500",
            RadioJson {
                bandwidth_hz: 500_000,
                ..lorawan(7)
            },
            "eu868_g1",
        ),
        ("link-us915-sf7", lorawan(7), "us915"),
        ("link-us915-sf8", lorawan(8), "us915"),
        ("link-us915-sf9", lorawan(9), "us915"),
        ("link-us915-sf10", lorawan(10), "us915"),
        ("link-us915-sf12", lorawan(12), "us915"),
        ("link-eu868-bad-radio", lorawan(13), "eu868_g1"),
    ];
    cases
        .into_iter()
        .map(|(name, radio, region)| {
            let (expected, expected_error) = match link_of(&radio, region).expect("known region") {
                Ok(l) => (Some(l), None),
                Err(e) => (None, Some(e.class().to_owned())),
            };
            vector(
                name,
                "the region's rules for the radio profile: MTU, duty cycle, dwell time (spec §2.2, §2.3)",
                LoraCase::LinkProfile {
                    radio,
                    region: region.into(),
                    expected,
                    expected_error,
                },
            )
        })
        .collect()
}

fn duty(
    name: &str,
    description: &str,
    permille: u16,
    window_ms: u64,
    plan: &[(u64, u64, bool)],
) -> LoraVector {
    let (allowance_ns, steps) = run_duty(permille, window_ms, plan);
    vector(
        name,
        description,
        LoraCase::DutyCycle {
            duty_cycle_permille: permille,
            window_ms,
            allowance_ns,
            steps,
        },
    )
}

fn duty_vectors() -> Vec<LoraVector> {
    // SF12 51-byte frames (2465.792 ms) on a 1% sub-band: 14 per hour fit.
    let sf12 = 2_465_792_000;
    let mut hour: Vec<(u64, u64, bool)> = (0..15).map(|i| (i * 3_000, sf12, true)).collect();
    hour.push((3_598_000, sf12, false));
    hour.push((3_600_000 - 100, sf12, true));
    let earliest = 2_465_792 + 3_600_000 - 2_465_792;
    hour.push((earliest, sf12, true));
    // SF7 13-byte frames (46.336 ms), 10% of one second.
    let sf7 = 46_336_000;
    let short = [
        (0, sf7, true),
        (47, sf7, true),
        (95, sf7, true),
        (95, 100_000_001, false),
        (1_000, sf7, true),
        (1_010, sf7, true),
        (1_100, sf7, true),
        (2_000, sf7, true),
    ];
    // The radio is busy during a transmission.
    let busy = [
        (0, sf12, true),
        (1_000, sf7, true),
        (2_465, sf7, false),
        (2_466, sf7, true),
    ];
    vec![
        duty(
            "duty-eu868-1pct-hour-sf12",
            "1% over one hour (36 s): the 15th SF12 frame waits until the first leaves the window",
            10,
            3_600_000,
            &hour,
        ),
        duty(
            "duty-10pct-1s-sf7",
            "10% over 1 s (100 ms): sliding, not fixed, windows; a frame longer than the allowance never goes",
            100,
            1_000,
            &short,
        ),
        duty(
            "duty-radio-busy",
            "a transmission may not start while the previous one is on air",
            1_000,
            10_000,
            &busy,
        ),
    ]
}

fn frame(name: &str, description: &str, encoded: Vec<u8>) -> LoraVector {
    let (decoded, expected_error) = match LinkFrame::decode(Bytes::from(encoded.clone())) {
        Ok(f) => (Some(frame_json(&f)), None),
        Err(e) => (None, Some(e.class().to_owned())),
    };
    vector(
        name,
        description,
        LoraCase::Frame {
            encoded: HexBytes(encoded),
            decoded,
            expected_error,
        },
    )
}

fn frame_vectors() -> Vec<LoraVector> {
    let payload = deterministic_bytes("lora fragment", 47);
    let mut full_nack = vec![0xbf, 0xfe, 0xed];
    full_nack.extend_from_slice(&[0xff; 8]);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "frame-whole",
            "a whole datagram: one header byte",
            [&[0x00][..], &deterministic_bytes("lora whole", 22)].concat(),
        ),
        (
            "frame-fragment",
            "fragment 2 of 0..=5 under tag 0x1234",
            [&[0x45, 0x12, 0x34, 0x02][..], &payload].concat(),
        ),
        (
            "frame-fragment-last-63",
            "the 64th fragment of 64",
            [&[0x7f, 0x00, 0x01, 0x3f][..], &payload[..1]].concat(),
        ),
        (
            "frame-nack",
            "NACK: fragments 0 and 9 of 0..=9 missing",
            vec![0x89, 0x12, 0x34, 0x01, 0x02],
        ),
        (
            "frame-nack-64",
            "NACK: all 64 fragments missing (8-byte bitmap)",
            full_nack,
        ),
        ("frame-empty", "no bytes", vec![]),
        (
            "frame-whole-reserved",
            "reserved bits of a whole frame set",
            vec![0x01, 0xaa],
        ),
        (
            "frame-whole-empty",
            "a whole frame without a datagram",
            vec![0x00],
        ),
        ("frame-kind-3", "kind 3 is reserved", vec![0xc0, 0xaa]),
        (
            "frame-fragment-short",
            "a fragment header cut short",
            vec![0x41, 0x00, 0x01],
        ),
        (
            "frame-fragment-last-0",
            "a fragmented datagram of one fragment",
            vec![0x40, 0, 1, 0, 0xaa],
        ),
        (
            "frame-fragment-index",
            "fragment index above last",
            vec![0x41, 0, 1, 2, 0xaa],
        ),
        (
            "frame-fragment-empty",
            "a fragment without bytes",
            vec![0x41, 0, 1, 1],
        ),
        (
            "frame-nack-short-header",
            "a NACK header cut short",
            vec![0x81, 0, 1],
        ),
        (
            "frame-nack-short-bitmap",
            "a NACK bitmap cut short",
            vec![0x89, 0, 1, 0xff],
        ),
        (
            "frame-nack-last-0",
            "a NACK of a one-fragment datagram",
            vec![0x80, 0, 1, 1],
        ),
        (
            "frame-nack-nothing-missing",
            "a NACK naming no fragment",
            vec![0x81, 0, 1, 0],
        ),
        (
            "frame-nack-above-last",
            "a NACK naming a fragment above last",
            vec![0x81, 0, 1, 4],
        ),
        (
            "frame-nack-trailing",
            "bytes after the NACK bitmap",
            vec![0x81, 0, 1, 1, 0],
        ),
        (
            "frame-256-bytes",
            "longer than any PHY payload",
            vec![0x00; 256],
        ),
    ];
    cases
        .into_iter()
        .map(|(name, description, encoded)| frame(name, description, encoded))
        .collect()
}

fn split_vector(
    name: &str,
    description: &str,
    datagram: Vec<u8>,
    mtu: usize,
    tag: u16,
) -> LoraVector {
    let (frames, expected_error) = match split(&Bytes::from(datagram.clone()), mtu, tag) {
        Ok(fs) => (
            Some(fs.iter().map(|f| HexBytes(f.to_vec())).collect()),
            None,
        ),
        Err(e) => (None, Some(e.class().to_owned())),
    };
    vector(
        name,
        description,
        LoraCase::Split {
            datagram: HexBytes(datagram),
            mtu,
            tag,
            frames,
            expected_error,
        },
    )
}

fn split_vectors() -> Vec<LoraVector> {
    let d = |len: usize| deterministic_bytes(&format!("lora datagram {len}"), len);
    vec![
        split_vector(
            "split-fits-50",
            "a 50-byte datagram in a 51-byte frame",
            d(50),
            51,
            0x0102,
        ),
        split_vector(
            "split-51-at-51",
            "one byte too many: two fragments",
            d(51),
            51,
            0x0103,
        ),
        split_vector(
            "split-200-at-51",
            "200 bytes in 5 fragments of 47 (last 12)",
            d(200),
            51,
            0xfffe,
        ),
        split_vector(
            "split-1024-at-222",
            "1 KiB at SF7: 5 fragments of 218 (last 152)",
            d(1024),
            222,
            0x7000,
        ),
        split_vector("split-3008-at-51", "64 fragments: the most", d(3008), 51, 9),
        split_vector(
            "split-3009-at-51",
            "65 fragments would be needed",
            d(3009),
            51,
            9,
        ),
        split_vector("split-empty", "an empty datagram", vec![], 51, 1),
        split_vector("split-mtu-15", "an MTU below 16", d(50), 15, 1),
    ]
}

/// Placeholder steps whose expectations `run_reassembly` fills in.
enum Op {
    Frame(u64, u32, Bytes),
    Timeout(u64),
}

fn reassembly(
    name: &str,
    description: &str,
    config: ReassemblyConfigJson,
    ops: Vec<Op>,
) -> LoraVector {
    let steps: Vec<ReassemblyStep> = ops
        .into_iter()
        .map(|op| match op {
            Op::Frame(at_ms, source, frame) => ReassemblyStep::Frame {
                at_ms,
                source,
                frame: HexBytes(frame.to_vec()),
                outcome: None,
                datagram: None,
                expected_error: None,
                held_bytes: 0,
            },
            Op::Timeout(at_ms) => ReassemblyStep::Timeout {
                at_ms,
                nacks: vec![],
                gave_up: vec![],
                next_timeout_ms: None,
            },
        })
        .collect();
    let steps = run_reassembly(config, &steps).expect("valid configuration");
    vector(name, description, LoraCase::Reassembly { config, steps })
}

const CONFIG: ReassemblyConfigJson = ReassemblyConfigJson {
    max_entries: 4,
    max_entries_per_source: 2,
    max_bytes: 600,
    max_datagram_len: 500,
    lifetime_ms: 60_000,
    nack_delay_ms: 2_000,
    max_nack_delay_ms: 2_000,
    max_nacks: 2,
};

/// [`CONFIG`] with NACK backoff: unanswered NACKs double the delay up to
/// 6 s, and up to 5 NACKs.
const BACKOFF: ReassemblyConfigJson = ReassemblyConfigJson {
    max_nack_delay_ms: 6_000,
    max_nacks: 5,
    ..CONFIG
};

fn fragments(len: usize, tag: u16) -> Vec<Bytes> {
    split(
        &Bytes::from(deterministic_bytes(&format!("lora datagram {len}"), len)),
        51,
        tag,
    )
    .expect("splits")
}

fn reassembly_vectors() -> Vec<LoraVector> {
    let f5 = fragments(200, 0x0a0b);
    let f11 = fragments(480, 0x0c0d);
    let f12 = fragments(520, 0x0e0f);
    let f2 = fragments(60, 0x0a0b);
    let g2 = fragments(60, 0x1111);
    let mut changed = f5[2].to_vec();
    changed[10] ^= 0x01;
    let at = |t: u64, s: u32, f: &Bytes| Op::Frame(t, s, f.clone());
    vec![
        reassembly(
            "reassembly-out-of-order-duplicate",
            "5 fragments in reverse order, one twice: the duplicate is ignored, the datagram completes",
            CONFIG,
            vec![at(0, 1, &f5[4]), at(10, 1, &f5[3]), at(20, 1, &f5[3]), at(30, 1, &f5[2]), at(40, 1, &f5[1]), at(50, 1, &f5[0])],
        ),
        reassembly(
            "reassembly-loss-nack-repeat",
            "fragments 1 and 3 lost; after the NACK delay a NACK names exactly them; their repeats complete the datagram",
            CONFIG,
            vec![
                at(0, 1, &f5[0]),
                at(100, 1, &f5[2]),
                at(200, 1, &f5[4]),
                Op::Timeout(2_199),
                Op::Timeout(2_200),
                at(2_500, 1, &f5[1]),
                Op::Timeout(4_500),
                at(4_600, 1, &f5[3]),
                Op::Timeout(10_000),
            ],
        ),
        reassembly(
            "reassembly-nacks-exhausted",
            "nothing more arrives: two NACKs, then the datagram is given up",
            CONFIG,
            vec![at(0, 2, &f11[5]), at(0, 2, &f11[10]), Op::Timeout(2_000), Op::Timeout(4_000), Op::Timeout(6_000)],
        ),
        reassembly(
            "reassembly-nack-backoff",
            "unanswered NACKs at 2, 6 (4 s later) and 12 s (6 s, the cap); a repeat at 13 s resets the delay to 2 s; NACKs at 15 and 19 s, give-up at 25 s",
            BACKOFF,
            vec![
                at(0, 1, &f5[0]),
                at(0, 1, &f5[2]),
                Op::Timeout(2_000),
                Op::Timeout(5_999),
                Op::Timeout(6_000),
                Op::Timeout(12_000),
                at(13_000, 1, &f5[1]),
                Op::Timeout(15_000),
                Op::Timeout(19_000),
                Op::Timeout(24_999),
                Op::Timeout(25_000),
            ],
        ),
        reassembly(
            "reassembly-lifetime",
            "fragments keep trickling in but the datagram is not complete within its 60 s lifetime",
            CONFIG,
            (0..10u64)
                .map(|i| at(i * 1_900, 0, &f11[i as usize]))
                .chain([Op::Timeout(19_000), Op::Timeout(60_000)])
                .collect(),
        ),
        reassembly(
            "reassembly-conflicts",
            "a fragment with other bytes, then one with another count, under the same tag: conflicting_fragment drops the datagram",
            CONFIG,
            vec![
                at(0, 0, &f5[2]),
                at(1, 0, &f5[0]),
                at(2, 0, &Bytes::from(changed)),
                at(3, 0, &f5[2]),
                at(4, 0, &f2[0]),
                at(5, 0, &f5[2]),
            ],
        ),
        reassembly(
            "reassembly-sources",
            "the same tag from two sources is two datagrams",
            CONFIG,
            vec![at(0, 0, &f5[0]), at(0, 7, &f2[1]), at(1, 7, &f2[0]), at(1, 0, &f5[1])],
        ),
        reassembly(
            "reassembly-bounds",
            "per-source and total entry bounds give up the oldest partial datagram (of the source, else of all), reported at the next timeout; then the byte bound: reassembly_full; a datagram above 500 bytes: datagram_too_long",
            CONFIG,
            {
                let mut ops = vec![
                    at(0, 0, &f5[0]),
                    at(0, 0, &f11[0]),
                    at(0, 0, &g2[0]),
                    at(0, 1, &g2[0]),
                    at(0, 2, &g2[0]),
                    at(0, 3, &g2[0]),
                ];
                ops.extend(f11[1..11].iter().map(|f| at(1, 0, f)));
                ops.push(Op::Timeout(1));
                // A fifth entry gives up the oldest (source 1's); its second
                // fragment would hold 621 bytes: reassembly_full.
                ops.extend(f11[1..3].iter().map(|f| at(2, 1, f)));
                ops
            },
        ),
        reassembly(
            "reassembly-too-long",
            "12 fragments of 47 bytes exceed the 500-byte datagram limit at the 11th",
            CONFIG,
            f12.iter().map(|f| at(0, 3, f)).collect(),
        ),
        reassembly(
            "reassembly-other-frames",
            "whole frames and NACKs pass through; an undecodable frame is refused with its class",
            CONFIG,
            vec![
                Op::Frame(0, 0, Bytes::from_static(&[0x00, 0x01, 0x02])),
                Op::Frame(0, 0, Bytes::from_static(&[0x84, 0x0a, 0x0b, 0x0a])),
                Op::Frame(0, 0, Bytes::from_static(&[0x41, 0x0a])),
                Op::Frame(0, 0, Bytes::from_static(&[0xc1])),
            ],
        ),
    ]
}

/// The text of `lora.json`.
pub fn generate() -> String {
    let vectors = [
        airtime_vectors(),
        link_vectors(),
        duty_vectors(),
        frame_vectors(),
        split_vectors(),
        reassembly_vectors(),
    ]
    .concat();
    checked_file(PROTOCOL, "spec/11-lora-link.md", vectors)
}
