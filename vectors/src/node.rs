//! `node.json`: vectors for `spec/30-reference-node.md` — KISS framing
//! (§8), air packets (§7.1), QUIC datagram and control frames (§6, §9) and
//! the address a QUIC certificate binds (§5.2).

use qpc_crypto::identity::Identity;
use qpc_mesh::envelope::{Header, HopId, MessageType};
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use qpc_node::framing::{FrameFormat, FrameReader, CONTROL_FRAME, QUIC_DATAGRAM};
use qpc_node::lora::air::AirPacket;
use qpc_node::lora::kiss::{self, KissDecoder};
use qpc_node::lora::secured::{addressing, Addressing, SecuredDatagram};
use qpc_node::quic::certificate;
use qpc_node::runtime::datagram_airtime_ns;
use qpc_wire::FrameType;
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
    /// Decode one LoRa link datagram starting with 0x01 (§15.1).
    SecuredDatagram {
        /// The link datagram.
        datagram: HexBytes,
        /// The receiver's hop id (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receiver: Option<HexBytes>,
        /// The sender's hop id (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sender: Option<HexBytes>,
        /// The frame type code point (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame_type: Option<u16>,
        /// The pqXX message or record (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<HexBytes>,
        /// The class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Who a mesh datagram sent on a LoRa link is for (§15.2).
    LoraAddressing {
        /// The mesh envelope.
        datagram: HexBytes,
        /// `everyone` (in the clear), `neighbour` or `acknowledgement`
        /// (inside pqXX).
        addressing: String,
        /// The neighbour's hop id, for `neighbour`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neighbour: Option<HexBytes>,
    },
    /// The frames and exact time on air of a link datagram at an EU868
    /// spreading factor (§15.6).
    DatagramAirtime {
        /// 7..=12 at 125 kHz, CR 4/5.
        spreading_factor: u8,
        /// The link datagram's length.
        length: usize,
        /// The link frames it takes (`11-lora-link.md` §6.4).
        frames: usize,
        /// Their time on air in all, ns.
        airtime_ns: u64,
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
            NodeCase::SecuredDatagram {
                datagram,
                receiver,
                sender,
                frame_type,
                body,
                expected_error,
            } => outcome(
                decode_secured(&datagram.0),
                match (receiver, sender, frame_type, body) {
                    (Some(r), Some(s), Some(t), Some(b)) => {
                        Some((r.0.clone(), s.0.clone(), *t, b.0.clone()))
                    }
                    _ => None,
                },
                expected_error,
            ),
            NodeCase::LoraAddressing {
                datagram,
                addressing,
                neighbour,
            } => expect_eq(
                "addressing",
                addressing_of(&datagram.0)?,
                (addressing.clone(), neighbour.as_ref().map(|n| n.0.clone())),
            ),
            NodeCase::DatagramAirtime {
                spreading_factor,
                length,
                frames,
                airtime_ns,
            } => expect_eq(
                "frames and airtime",
                airtime_of(*spreading_factor, *length)?,
                (*frames, *airtime_ns),
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

type Secured = (Vec<u8>, Vec<u8>, u16, Vec<u8>);

fn decode_secured(datagram: &[u8]) -> qpc_node::Result<Secured> {
    SecuredDatagram::decode(bytes::Bytes::copy_from_slice(datagram)).map(|d| {
        (
            d.receiver.0.to_vec(),
            d.sender.0.to_vec(),
            d.frame_type.code(),
            d.body.to_vec(),
        )
    })
}

fn addressing_of(datagram: &[u8]) -> Result<(String, Option<Vec<u8>>), String> {
    let mut reader = qpc_wire::codec::Reader::new(bytes::Bytes::copy_from_slice(datagram));
    let header = Header::decode(&mut reader).map_err(|e| e.to_string())?;
    Ok(match addressing(&header) {
        Addressing::Everyone => ("everyone".into(), None),
        Addressing::Neighbour(hop) => ("neighbour".into(), Some(hop.0.to_vec())),
        Addressing::Acknowledgement { .. } => ("acknowledgement".into(), None),
    })
}

fn eu868(spreading_factor: u8) -> Result<LinkProfile, String> {
    let radio =
        RadioProfile::new(RadioParams::lorawan(spreading_factor)).map_err(|e| e.to_string())?;
    LinkProfile::new(radio, Region::Eu868(Eu868SubBand::G3)).map_err(|e| e.to_string())
}

fn airtime_of(spreading_factor: u8, length: usize) -> Result<(usize, u64), String> {
    let profile = eu868(spreading_factor)?;
    let mtu = profile.mtu();
    let frames = if length < mtu {
        1
    } else {
        length.div_ceil(mtu - 4)
    };
    let airtime = datagram_airtime_ns(&profile, length).map_err(|e| e.to_string())?;
    Ok((frames, airtime))
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

fn secured(name: &str, description: &str, datagram: Vec<u8>) -> NodeVector {
    let case = match decode_secured(&datagram) {
        Ok((receiver, sender, frame_type, body)) => NodeCase::SecuredDatagram {
            datagram: HexBytes(datagram),
            receiver: Some(HexBytes(receiver)),
            sender: Some(HexBytes(sender)),
            frame_type: Some(frame_type),
            body: Some(HexBytes(body)),
            expected_error: None,
        },
        Err(e) => NodeCase::SecuredDatagram {
            datagram: HexBytes(datagram),
            receiver: None,
            sender: None,
            frame_type: None,
            body: None,
            expected_error: Some(e.class().to_string()),
        },
    };
    vector(name, description, case)
}

/// A secured datagram from hop `bb..` to hop `aa..` around `frame`.
fn secured_bytes(frame: &[u8]) -> Vec<u8> {
    [&[0x01][..], &[0xaa; 8], &[0xbb; 8], frame].concat()
}

fn mesh_datagram(message_type: MessageType, hop_id: Option<u8>) -> Vec<u8> {
    let header = Header {
        message_type,
        hop_count: 1,
        hop_limit: 8,
        destination: qpc_crypto::identity::Address::from_bytes([0x5d; 16]),
        message_id: 0x0102_0304,
        hop_id: hop_id.map(|b| HopId([b; 8])),
    };
    let mut out = Vec::new();
    header.encode(&mut out).unwrap_or_default();
    out.extend_from_slice(&[0xee; 4]);
    out
}

fn addressed(name: &str, message_type: MessageType, hop_id: Option<u8>) -> NodeVector {
    let datagram = mesh_datagram(message_type, hop_id);
    let (addressing, neighbour) = addressing_of(&datagram).unwrap_or_default();
    let description = format!(
        "a {message_type:?} envelope {} a hop id on a LoRa link: {addressing}",
        if hop_id.is_some() { "with" } else { "without" }
    );
    let case = NodeCase::LoraAddressing {
        datagram: HexBytes(datagram),
        addressing,
        neighbour: neighbour.map(HexBytes),
    };
    vector(name, &description, case)
}

fn airtime(name: &str, description: &str, spreading_factor: u8, length: usize) -> NodeVector {
    let (frames, airtime_ns) = airtime_of(spreading_factor, length).unwrap_or_default();
    let case = NodeCase::DatagramAirtime {
        spreading_factor,
        length,
        frames,
        airtime_ns,
    };
    vector(name, description, case)
}

fn lora_link_vectors() -> Vec<NodeVector> {
    let frame = |code: u16, body: &[u8]| {
        let mut out = vec![1];
        out.extend_from_slice(&code.to_be_bytes());
        out.push(body.len() as u8);
        out.extend_from_slice(body);
        out
    };
    let record = FrameType::PqxxDatagram.code();
    let message_3 = [&[0x01, 0x01, 0x03, 0x40, 0xc9][..], &[0x33; 201]].concat();
    let mut vectors = vec![
        secured(
            "secured-worked-example",
            "spec/30 §15.7: a 3-byte PqxxDatagram body from hop bb.. to hop aa..",
            secured_bytes(&frame(record, &[0x11; 3])),
        ),
        secured(
            "secured-message-3",
            "a 201-byte PqxxMessage3 (a 2-byte body length): the 223-byte datagram of spec/30 §15.6",
            secured_bytes(&message_3),
        ),
        secured("secured-truncated", "shorter than kind and hop ids", vec![0x01, 0xaa, 0xaa]),
        secured(
            "secured-kind",
            "a first byte other than 0x01",
            [&[0x21][..], &secured_bytes(&frame(record, &[]))[1..]].concat(),
        ),
        secured("secured-no-frame", "kind and hop ids only", secured_bytes(&[])),
        secured(
            "secured-frame-version",
            "a version 2 frame",
            secured_bytes(&[0x02, 0x01, 0x05, 0x00]),
        ),
        secured(
            "secured-frame-type",
            "an unregistered frame type",
            secured_bytes(&[0x01, 0xff, 0xff, 0x00]),
        ),
        secured(
            "secured-body-cut",
            "a frame body shorter than its length",
            secured_bytes(&[0x01, 0x01, 0x05, 0x02, 0x11]),
        ),
        secured(
            "secured-trailing",
            "a byte after the frame",
            secured_bytes(&[0x01, 0x01, 0x05, 0x00, 0x11]),
        ),
        secured(
            "secured-stream-record",
            "a PqxxStream frame is not carried on LoRa",
            secured_bytes(&frame(FrameType::PqxxStream.code(), &[0x11; 3])),
        ),
        secured(
            "secured-too-large",
            "a body length of 65 536",
            secured_bytes(&[0x01, 0x01, 0x05, 0x80, 0x01, 0x00, 0x00]),
        ),
    ];
    for (name, t, hop) in [
        ("addressing-announce", MessageType::Announce, Some(0x77)),
        (
            "addressing-path-request",
            MessageType::PathRequest,
            Some(0x77),
        ),
        ("addressing-channel", MessageType::Channel, Some(0x77)),
        ("addressing-group-lite", MessageType::GroupLite, Some(0x77)),
        ("addressing-sealed", MessageType::Sealed, Some(0x77)),
        ("addressing-sealed-flooded", MessageType::Sealed, None),
        (
            "addressing-key-request-flooded",
            MessageType::KeyRequest,
            None,
        ),
        (
            "addressing-key-response",
            MessageType::KeyResponse,
            Some(0x77),
        ),
        ("addressing-receipt", MessageType::Receipt, Some(0x77)),
        (
            "addressing-path-response",
            MessageType::PathResponse,
            Some(0x77),
        ),
        ("addressing-session", MessageType::Session, Some(0x77)),
        ("addressing-hop-ack", MessageType::HopAck, Some(0x77)),
    ] {
        vectors.push(addressed(name, t, hop));
    }
    for (sf, length, what) in [
        (9, 1256, "pqXX message 1 as a link datagram"),
        (9, 1344, "pqXX message 2"),
        (9, 223, "pqXX message 3"),
        (7, 1256, "pqXX message 1"),
        (7, 1344, "pqXX message 2"),
        (7, 223, "pqXX message 3"),
        (12, 1344, "pqXX message 2"),
        (9, 114, "the longest whole frame (115 bytes)"),
        (9, 115, "one byte more: two fragments"),
    ] {
        vectors.push(airtime(
            &format!("airtime-sf{sf}-{length}"),
            &format!("{what} at EU868 SF{sf}, 125 kHz, CR 4/5 (spec/30 §15.6)"),
            sf,
            length,
        ));
    }
    vectors
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
    vectors.extend(lora_link_vectors());
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
                | NodeCase::SecuredDatagram { expected_error, .. }
                | NodeCase::CertificateAddress { expected_error, .. } => {
                    classes.extend(expected_error.clone())
                }
                NodeCase::LoraAddressing { .. } | NodeCase::DatagramAirtime { .. } => {}
            }
        }
        let want = [
            "bad_certificate",
            "frame_too_large",
            "frame_too_long",
            "malformed",
            "trailing_bytes",
            "truncated",
            "unknown_frame_type",
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
