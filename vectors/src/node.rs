//! `node.json`: vectors for `spec/30-reference-node.md` — KISS framing
//! (§8), air packets (§7.1), QUIC datagram and control frames (§6, §9) and
//! the address a QUIC certificate binds (§5.2).

use qpc_crypto::identity::Identity;
use qpc_node::framing::{FrameFormat, FrameReader, CONTROL_FRAME, QUIC_DATAGRAM};
use qpc_node::lora::air::AirPacket;
use qpc_node::lora::kiss::{self, KissDecoder};
use qpc_node::quic::certificate;
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, ErrorClass, HexBytes, Vector};

/// The `protocol` field of `node.json`.
pub const PROTOCOL: &str = "qpc-node";

impl ErrorClass for qpc_node::Error {
    fn class(&self) -> &'static str {
        qpc_node::Error::class(self)
    }
}

/// One vector of `node.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: NodeCase,
}

/// One frame a KISS stream yields: its bytes or its error class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KissOutcome {
    /// The link frame (accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<HexBytes>,
    /// The class (refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which stream frame format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `QuicDatagram` (§6).
    Quic,
    /// `ControlFrame` (§9).
    Control,
}

impl Format {
    fn format(self) -> FrameFormat {
        match self {
            Format::Quic => QUIC_DATAGRAM,
            Format::Control => CONTROL_FRAME,
        }
    }
}

/// The kinds of node vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeCase {
    /// Encode one link frame as KISS.
    KissEncode {
        /// The link frame.
        frame: HexBytes,
        /// The KISS bytes (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoded: Option<HexBytes>,
        /// The class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode a KISS byte stream: every frame it closes, in order.
    KissDecode {
        /// The bytes from the modem.
        stream: HexBytes,
        /// What each closed frame gives.
        frames: Vec<KissOutcome>,
    },
    /// Decode one air packet.
    AirPacket {
        /// The UDP payload.
        packet: HexBytes,
        /// Its spreading factor (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spreading_factor: Option<u8>,
        /// Its link frame (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame: Option<HexBytes>,
        /// The class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Read length-prefixed frames from a stream that then ends.
    StreamFrames {
        /// QUIC datagram or control frames.
        format: Format,
        /// The stream's bytes.
        stream: HexBytes,
        /// The frames read before the end or the error.
        frames: Vec<HexBytes>,
        /// The class the stream ends with, if it does not end cleanly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// The address a peer certificate binds (§5.2).
    CertificateAddress {
        /// The DER certificate.
        certificate: HexBytes,
        /// The address (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<HexBytes>,
        /// The class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

fn kiss_outcomes(stream: &[u8]) -> Vec<KissOutcome> {
    KissDecoder::new()
        .push(stream)
        .into_iter()
        .map(|r| match r {
            Ok(frame) => KissOutcome {
                frame: Some(HexBytes(frame.to_vec())),
                error: None,
            },
            Err(e) => KissOutcome {
                frame: None,
                error: Some(e.class().to_string()),
            },
        })
        .collect()
}

fn read_frames(format: FrameFormat, stream: &[u8]) -> (Vec<HexBytes>, Option<String>) {
    let mut reader = FrameReader::new(format);
    reader.push(stream);
    let mut frames = Vec::new();
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => frames.push(HexBytes(frame.to_vec())),
            Ok(None) => break,
            Err(e) => return (frames, Some(e.class().to_string())),
        }
    }
    (frames, reader.finish().err().map(|e| e.class().to_string()))
}

fn outcome<T: PartialEq + std::fmt::Debug>(
    got: qpc_node::Result<T>,
    want: Option<T>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (expected_error, want) {
        (Some(class), _) => expect_error(class, got),
        (None, Some(want)) => expect_eq("output", got.map_err(|e| e.to_string())?, want),
        (None, None) => Err("a vector without output or error".into()),
    }
}

impl Vector for NodeVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            NodeCase::KissEncode {
                frame,
                encoded,
                expected_error,
            } => outcome(
                kiss::encode(&frame.0),
                encoded.as_ref().map(|e| e.0.clone()),
                expected_error,
            ),
            NodeCase::KissDecode { stream, frames } => {
                expect_eq("frames", kiss_outcomes(&stream.0), frames.clone())
            }
            NodeCase::AirPacket {
                packet,
                spreading_factor,
                frame,
                expected_error,
            } => outcome(
                AirPacket::decode(&packet.0).map(|p| (p.spreading_factor, p.frame.to_vec())),
                spreading_factor.zip(frame.as_ref().map(|f| f.0.clone())),
                expected_error,
            ),
            NodeCase::StreamFrames {
                format,
                stream,
                frames,
                expected_error,
            } => expect_eq(
                "frames and end",
                read_frames(format.format(), &stream.0),
                (frames.clone(), expected_error.clone()),
            ),
            NodeCase::CertificateAddress {
                certificate,
                address,
                expected_error,
            } => outcome(
                certificate::address_of(&certificate.0).map(|a| a.as_bytes().to_vec()),
                address.as_ref().map(|a| a.0.clone()),
                expected_error,
            ),
        }
    }
}

fn vector(name: &str, description: &str, case: NodeCase) -> NodeVector {
    NodeVector {
        name: name.into(),
        description: description.into(),
        case,
    }
}

fn kiss_decode(name: &str, description: &str, stream: Vec<u8>) -> NodeVector {
    let frames = kiss_outcomes(&stream);
    vector(
        name,
        description,
        NodeCase::KissDecode {
            stream: HexBytes(stream),
            frames,
        },
    )
}

fn air(name: &str, description: &str, packet: Vec<u8>) -> NodeVector {
    let (spreading_factor, frame, expected_error) = match AirPacket::decode(&packet) {
        Ok(p) => (
            Some(p.spreading_factor),
            Some(HexBytes(p.frame.to_vec())),
            None,
        ),
        Err(e) => (None, None, Some(e.class().to_string())),
    };
    let case = NodeCase::AirPacket {
        packet: HexBytes(packet),
        spreading_factor,
        frame,
        expected_error,
    };
    vector(name, description, case)
}

fn stream(name: &str, description: &str, format: Format, bytes: Vec<u8>) -> NodeVector {
    let (frames, expected_error) = read_frames(format.format(), &bytes);
    let case = NodeCase::StreamFrames {
        format,
        stream: HexBytes(bytes),
        frames,
        expected_error,
    };
    vector(name, description, case)
}

fn cert(name: &str, description: &str, der: Vec<u8>) -> NodeVector {
    let (address, expected_error) = match certificate::address_of(&der) {
        Ok(a) => (Some(HexBytes(a.as_bytes().to_vec())), None),
        Err(e) => (None, Some(e.class().to_string())),
    };
    let case = NodeCase::CertificateAddress {
        certificate: HexBytes(der),
        address,
        expected_error,
    };
    vector(name, description, case)
}

/// Every vector of `node.json`, deterministically.
pub fn generate() -> String {
    let worked = vec![0x00, 0xc0, 0xdb, 0x11];
    let mut vectors = vec![
        vector(
            "kiss-encode-worked-example",
            "spec/30 §13: FEND, command 0, escaped frame, FEND",
            NodeCase::KissEncode {
                frame: HexBytes(worked.clone()),
                encoded: kiss::encode(&worked).ok().map(HexBytes),
                expected_error: None,
            },
        ),
        vector(
            "kiss-encode-too-long",
            "a frame above 255 bytes is refused",
            NodeCase::KissEncode {
                frame: HexBytes(vec![0x55; 256]),
                encoded: None,
                expected_error: Some("frame_too_long".into()),
            },
        ),
        kiss_decode(
            "kiss-decode-resync",
            "noise before the first FEND is discarded, empty frames skipped, two frames decoded",
            vec![1, 2, 0xc0, 0xc0, 0, 5, 0xc0, 0, 0xdb, 0xdd, 6, 0xc0],
        ),
        kiss_decode(
            "kiss-decode-refusals",
            "a bad escape, another command, an empty data frame; each refused, the next frame decodes",
            vec![0xc0, 0, 0xdb, 1, 0xc0, 6, 1, 0xc0, 0, 0xc0, 0, 7, 0xc0],
        ),
        kiss_decode(
            "kiss-decode-too-long",
            "256 payload bytes are refused; the longest, 255, is accepted",
            [&[0xc0, 0][..], &[0x55; 256], &[0xc0, 0], &[0x66; 255], &[0xc0]].concat(),
        ),
        kiss_decode(
            "kiss-decode-unclosed",
            "a frame without its closing FEND yields nothing yet",
            vec![0xc0, 0, 1, 2],
        ),
        air("air-worked-example", "spec/30 §13 at SF9", vec![1, 9, 0x00, 0xc0, 0xdb, 0x11]),
        air("air-longest", "a 255-byte frame at SF12", [&[1, 12][..], &[0x42; 255]].concat()),
        air("air-truncated", "no frame byte", vec![1, 9]),
        air("air-too-long", "a 256-byte frame", [&[1, 12][..], &[0x42; 256]].concat()),
        air("air-version", "version 2", vec![2, 9, 0]),
        stream(
            "quic-worked-example",
            "spec/30 §13",
            Format::Quic,
            vec![0, 4, 0x00, 0xc0, 0xdb, 0x11],
        ),
        stream(
            "quic-two-then-truncated",
            "two frames, then a frame cut short",
            Format::Quic,
            vec![0, 1, 0xaa, 0, 2, 0xbb, 0xcc, 0, 3, 0xdd],
        ),
        stream("quic-zero-length", "a length of zero", Format::Quic, vec![0, 0]),
        stream(
            "quic-too-large",
            "16385 bytes announced",
            Format::Quic,
            vec![0x40, 0x01, 0xee],
        ),
        stream(
            "control-status",
            "spec/30 §13: the status request",
            Format::Control,
            [&[0, 0, 0, 15][..], br#"{"op":"status"}"#].concat(),
        ),
        stream(
            "control-too-large",
            "a control frame above 1 MiB",
            Format::Control,
            vec![0, 0x10, 0, 1, b'{'],
        ),
    ];
    let identity = Identity::from_seeds(&[0x30; 32], &[0x31; 32]);
    let der = certificate::for_identity(&identity)
        .map(|c| c.certificate.to_vec())
        .unwrap_or_default();
    vectors.push(cert(
        "certificate-of-identity",
        "the reference node's certificate of Identity::from_seeds([0x30; 32], [0x31; 32]) (spec/02 §5): its key, URI name and address",
        der.clone(),
    ));
    vectors.push(cert(
        "certificate-not-der",
        "bytes that are not a certificate",
        vec![0x30, 0x03, 1, 2, 3],
    ));
    let mut trailing = der;
    trailing.push(0);
    vectors.push(cert(
        "certificate-trailing-byte",
        "the certificate followed by one byte",
        trailing,
    ));
    crate::checked_file(PROTOCOL, "spec/30-reference-node.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_sound_and_covers_every_class() {
        let file = crate::assert_sound_generation::<NodeVector>(generate);
        let mut classes = std::collections::BTreeSet::new();
        for v in &file.vectors {
            match &v.case {
                NodeCase::KissDecode { frames, .. } => {
                    classes.extend(frames.iter().filter_map(|f| f.error.clone()))
                }
                NodeCase::KissEncode { expected_error, .. }
                | NodeCase::AirPacket { expected_error, .. }
                | NodeCase::StreamFrames { expected_error, .. }
                | NodeCase::CertificateAddress { expected_error, .. } => {
                    classes.extend(expected_error.clone())
                }
            }
        }
        let want = [
            "bad_certificate",
            "frame_too_large",
            "frame_too_long",
            "malformed",
            "truncated",
            "unknown_version",
        ];
        assert_eq!(classes.into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_mutated_vector_fails() {
        let text = generate().replace("\"spreading_factor\": 9", "\"spreading_factor\": 8");
        let results = crate::verify_json::<NodeVector>(&text).unwrap();
        assert!(results.iter().any(|r| r.failure.is_some()));
    }
}
