//! `padding.json`: vectors for `spec/04-padding.md` — Padmé and the LoRa
//! buckets, padding and canonical unpadding.

use qpc_crypto::padding::{pad, unpad, Padding, LORA_BUCKETS};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `padding.json`.
pub const PROTOCOL: &str = "qpc-padding";

/// Padded bytes are given in full up to this length.
const FULL_HEX_MAX: usize = 512;

/// One vector of `padding.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaddingVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: PaddingCase,
}

/// A padding scheme by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Padmé.
    Padme,
    /// The LoRa buckets.
    Lora,
}

impl Scheme {
    fn padding(self) -> Padding {
        match self {
            Scheme::Padme => Padding::Padme,
            Scheme::Lora => Padding::Buckets(LORA_BUCKETS),
        }
    }
}

/// The kinds of padding vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaddingCase {
    /// Pad the content of `content_len` bytes (byte i is i mod 251) under
    /// `scheme`; positive vectors also unpad the result.
    Pad {
        /// The scheme.
        scheme: Scheme,
        /// Content length; the content is the bytes `i mod 251`.
        content_len: usize,
        /// Padded length (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        padded_len: Option<usize>,
        /// SHA-256 of the padded bytes (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        padded_sha256: Option<HexBytes>,
        /// The padded bytes, when at most 512 bytes (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        padded: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Unpad `padded` under `scheme`.
    Unpad {
        /// The scheme.
        scheme: Scheme,
        /// The padded bytes.
        #[serde(with = "hex::serde")]
        padded: Vec<u8>,
        /// The content (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

/// The content of a `pad` vector: byte i is i mod 251.
pub fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

impl Vector for PaddingVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            PaddingCase::Pad {
                scheme,
                content_len,
                padded_len,
                padded_sha256,
                padded,
                expected_error,
            } => {
                let content = content(*content_len);
                let got = pad(scheme.padding(), &content);
                match (padded_len, padded_sha256, expected_error) {
                    (Some(len), Some(sha), None) => {
                        let got = got.map_err(|e| format!("rejected: {e}"))?;
                        expect_eq("padded length", got.len(), *len)?;
                        expect_eq("padded SHA-256", &Sha256::digest(&got)[..], &sha.0[..])?;
                        match padded {
                            Some(p) => expect_eq("padded", &got, &p.0)?,
                            None if got.len() <= FULL_HEX_MAX => {
                                return Err("padded bytes missing".into())
                            }
                            None => {}
                        }
                        let back =
                            unpad(scheme.padding(), &got).map_err(|e| format!("unpad: {e}"))?;
                        expect_eq("unpadded", back, &content[..])
                    }
                    (None, None, Some(class)) if padded.is_none() => expect_error(class, got),
                    _ => Err("padded_len and padded_sha256, or expected_error alone".into()),
                }
            }
            PaddingCase::Unpad {
                scheme,
                padded,
                content,
                expected_error,
            } => {
                let got = unpad(scheme.padding(), padded).map(<[u8]>::to_vec);
                match (content, expected_error) {
                    (Some(c), None) => expect_eq(
                        "content",
                        got.map_err(|e| format!("rejected: {e}"))?,
                        c.0.clone(),
                    ),
                    (None, Some(class)) => expect_error(class, got),
                    _ => Err("exactly one of content and expected_error must be present".into()),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

fn vector(name: &str, description: &str, case: PaddingCase) -> PaddingVector {
    PaddingVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

fn pad_ok(scheme: Scheme, content_len: usize, description: &str) -> PaddingVector {
    let padded = pad(scheme.padding(), &content(content_len)).expect("fits");
    let name = match scheme {
        Scheme::Padme => format!("pad-padme-{content_len}"),
        Scheme::Lora => format!("pad-lora-{content_len}"),
    };
    vector(
        &name,
        description,
        PaddingCase::Pad {
            scheme,
            content_len,
            padded_len: Some(padded.len()),
            padded_sha256: Some(HexBytes(Sha256::digest(&padded).to_vec())),
            padded: (padded.len() <= FULL_HEX_MAX).then(|| HexBytes(padded.clone())),
            expected_error: None,
        },
    )
}

fn pads() -> Vec<PaddingVector> {
    let mut lengths: Vec<(usize, String)> = vec![
        (0, "empty content: the marker alone".into()),
        (1, "one byte".into()),
    ];
    for k in 1..=16u32 {
        let p = 1usize << k;
        for (len, what) in [(p - 1, "2^k - 1"), (p, "2^k"), (p + 1, "2^k + 1")] {
            if !lengths.iter().any(|(l, _)| *l == len) {
                lengths.push((len, format!("{len} = {} with k = {k}", what)));
            }
        }
    }
    lengths.sort_by_key(|(l, _)| *l);
    let mut out: Vec<_> = lengths
        .iter()
        .map(|(len, what)| {
            let note = if *len == 128 {
                "; L = 129 has the largest relative overhead, 15/129 = 11.63%"
            } else {
                ""
            };
            pad_ok(Scheme::Padme, *len, &format!("Padmé, {what}{note}"))
        })
        .collect();
    for (len, what) in [
        (0, "empty content: smallest bucket"),
        (1, "one byte"),
        (22, "22 + marker = 23: the 24-byte bucket"),
        (23, "23 + marker = 24: exactly the smallest bucket"),
        (24, "24 + marker = 25: the 32-byte bucket"),
        (31, "31 + marker: exactly 32"),
        (63, "63 + marker: exactly 64"),
        (100, "100 + marker: the 128-byte bucket"),
        (159, "159 + marker: exactly 160"),
        (160, "160 + marker: the largest bucket, 222"),
        (221, "221 + marker = 222: the largest content that fits"),
    ] {
        out.push(pad_ok(Scheme::Lora, len, &format!("LoRa buckets, {what}")));
    }
    for (len, what) in [(222, "222 + marker = 223 > 222"), (300, "300 bytes")] {
        out.push(vector(
            &format!("pad-lora-{len}-too-long"),
            &format!("LoRa buckets, {what}: too long for the largest bucket"),
            PaddingCase::Pad {
                scheme: Scheme::Lora,
                content_len: len,
                padded_len: None,
                padded_sha256: None,
                padded: None,
                expected_error: Some("too_long_to_pad".into()),
            },
        ));
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("literal hex")
}

fn unpads() -> Vec<PaddingVector> {
    let ok = |name: &str, desc: &str, scheme: Scheme, padded: Vec<u8>| {
        let content = unpad(scheme.padding(), &padded)
            .expect("canonical")
            .to_vec();
        vector(
            name,
            desc,
            PaddingCase::Unpad {
                scheme,
                padded,
                content: Some(HexBytes(content)),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, scheme: Scheme, padded: Vec<u8>| {
        vector(
            name,
            desc,
            PaddingCase::Unpad {
                scheme,
                padded,
                content: None,
                expected_error: Some("bad_padding".into()),
            },
        )
    };
    let padme = |content: &[u8]| pad(Padding::Padme, content).expect("padme");
    let lora = |content: &[u8]| pad(Padding::Buckets(LORA_BUCKETS), content).expect("fits");
    // Content of 8 bytes: L = 9, Padmé(9) = 10, so one zero follows the marker.
    let eight = padme(b"abcdefgh");
    vec![
        ok("unpad-padme-marker-only", "the padding of empty content", Scheme::Padme, hex("80")),
        ok("unpad-padme-8", "8 bytes of content: L = 9 pads to 10", Scheme::Padme, eight.clone()),
        ok(
            "unpad-padme-content-ends-in-zeros",
            "content ending in zero bytes: only the zeros after the last 0x80 are padding",
            Scheme::Padme,
            padme(&[0x80, 0, 0, 0x80, 0, 0, 0]),
        ),
        ok(
            "unpad-lora-5",
            "5 bytes in the 24-byte bucket",
            Scheme::Lora,
            lora(b"hello"),
        ),
        bad("unpad-empty", "no bytes: no marker", Scheme::Padme, vec![]),
        bad("unpad-all-zeros", "ten zero bytes: no marker", Scheme::Padme, vec![0; 10]),
        bad("unpad-one-zero", "a single zero byte: no marker", Scheme::Padme, vec![0]),
        bad(
            "unpad-marker-0x81",
            "the last non-zero byte is 0x81, not 0x80",
            Scheme::Padme,
            hex("61626364656667688100"),
        ),
        bad(
            "unpad-marker-0x01",
            "the last non-zero byte is 0x01",
            Scheme::Padme,
            hex("61626364656667680100"),
        ),
        bad(
            "unpad-nonzero-after-marker",
            "a non-zero byte after the marker: it becomes the last non-zero byte, which is not 0x80",
            Scheme::Padme,
            hex("6162636465666768 80 00 00 01 00 00"),
        ),
        bad(
            "unpad-over-padded",
            "8 bytes of content padded to 12 instead of 10",
            Scheme::Padme,
            [&eight[..], &[0, 0]].concat(),
        ),
        bad(
            "unpad-under-padded",
            "8 bytes of content and the marker without the zero byte Padmé(9) = 10 requires",
            Scheme::Padme,
            eight[..9].to_vec(),
        ),
        bad(
            "unpad-marker-only-plus-zero",
            "empty content padded to 2 bytes (Padmé(1) = 1)",
            Scheme::Padme,
            hex("8000"),
        ),
        bad(
            "unpad-lora-not-a-bucket",
            "content of 5 bytes padded to 25 bytes, not a bucket size",
            Scheme::Lora,
            [&lora(b"hello")[..], &[0]].concat(),
        ),
        bad(
            "unpad-lora-over-padded",
            "content of 5 bytes padded to the 32-byte bucket instead of 24",
            Scheme::Lora,
            {
                let mut p = lora(b"hello");
                p.resize(32, 0);
                p
            },
        ),
        bad(
            "unpad-lora-padme-form",
            "Padmé's padding of 5 bytes (6 bytes) is not a LoRa bucket",
            Scheme::Lora,
            padme(b"hello"),
        ),
        bad(
            "unpad-lora-too-long",
            "222 bytes of content and the marker (223 bytes): longer than the largest bucket",
            Scheme::Lora,
            {
                let mut p = content(222);
                p.push(0x80);
                p
            },
        ),
        bad(
            "unpad-lora-too-long-zeros",
            "content of 5 bytes, the marker, and zeros up to 256 bytes",
            Scheme::Lora,
            {
                let mut p = b"hello\x80".to_vec();
                p.resize(256, 0);
                p
            },
        ),
    ]
}

/// The text of `padding.json`. Panics if qpc-crypto fails one of its own
/// vectors.
pub fn generate() -> String {
    let vectors: Vec<PaddingVector> = [pads(), unpads()].concat();
    crate::checked_file(PROTOCOL, "spec/04-padding.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qpc_crypto::padding::padme;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let _file = crate::assert_sound_generation::<PaddingVector>(generate);
    }

    /// The tables of spec/04-padding.md §2 and §5, and its worked examples.
    #[test]
    fn spec_tables() {
        for (l, want) in [
            (0, 0),
            (1, 1),
            (8, 8),
            (9, 10),
            (100, 104),
            (129, 144),
            (1000, 1024),
            (1025, 1088),
            (65535, 65536),
            (65537, 67584),
        ] {
            assert_eq!(padme(l), want, "Padmé({l})");
        }
        let rows: [(usize, [usize; 3]); 16] = [
            (1, [2, 3, 4]),
            (2, [4, 5, 6]),
            (3, [8, 10, 10]),
            (4, [16, 18, 18]),
            (5, [32, 36, 36]),
            (6, [64, 72, 72]),
            (7, [128, 144, 144]),
            (8, [256, 272, 272]),
            (9, [512, 544, 544]),
            (10, [1024, 1088, 1088]),
            (11, [2048, 2176, 2176]),
            (12, [4096, 4352, 4352]),
            (13, [8192, 8704, 8704]),
            (14, [16384, 17408, 17408]),
            (15, [32768, 34816, 34816]),
            (16, [65536, 67584, 67584]),
        ];
        for (k, padded) in rows {
            let p = 1usize << k;
            for (n, want) in [p - 1, p, p + 1].into_iter().zip(padded) {
                assert_eq!(padme(n + 1), want, "content {n}");
            }
        }
        assert_eq!(
            pad(Padding::Padme, b"abcdefgh").unwrap(),
            hex("6162636465666768 8000")
        );
        assert_eq!(pad(Padding::Padme, b"hello, world").unwrap().len(), 14);
        assert_eq!(pad(Scheme::Lora.padding(), b"hello").unwrap().len(), 24);
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate().replacen("\"padded_len\": 144", "\"padded_len\": 145", 1);
        let results = crate::verify_json::<PaddingVector>(&text).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
