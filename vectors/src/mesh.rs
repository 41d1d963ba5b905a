//! `mesh.json`: vectors for `spec/10-mesh.md` — envelope headers, announce
//! signatures with fixed keys, every message decoded (and refused) by its
//! type, routing-table transcripts and rebroadcast-scheduler transcripts.

use bytes::Bytes;
use qpc_crypto::identity::Identity;
use qpc_mesh::announce::{Announce, AnnouncePacket, Capabilities, CONTEXT};
use qpc_mesh::envelope::{Envelope, Header, HopId};
use qpc_mesh::message::Message;
use qpc_mesh::receipt::MeshData;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{expect_eq, expect_error, HexBytes, Vector};

mod generate;
mod transcript;

pub use generate::generate;
pub use transcript::{
    BudgetJson, DroppedJson, EventJson, ForwardingJson, LinkJson, OutcomeJson, RebroadcastStep,
    RoutingConfigJson, RoutingStep,
};

/// The `protocol` field of `mesh.json`.
pub const PROTOCOL: &str = "qpc-mesh";

/// One vector of `mesh.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeshVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: MeshCase,
}

/// The header fields of an `envelope` vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderJson {
    /// `announce`, `path_request`, `path_response`, `sealed`, `key_request`
    /// or `key_response`.
    pub message_type: String,
    /// Relays crossed.
    pub hop_count: u8,
    /// Relays allowed.
    pub hop_limit: u8,
    /// The destination address.
    pub destination: HexBytes,
    /// The message id.
    pub message_id: u32,
    /// The hop id, or null.
    pub hop_id: Option<HexBytes>,
}

/// The kinds of mesh vector (`spec/10-mesh.md` §10).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeshCase {
    /// Decode an envelope header (§3.3) and split off the body.
    Envelope {
        /// The datagram.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The header (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<HeaderJson>,
        /// The body (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Sign an announce with fixed keys and encode it (§4).
    Announce {
        /// Ed25519 secret key.
        #[serde(with = "hex::serde")]
        signing_seed: Vec<u8>,
        /// X-Wing seed.
        #[serde(with = "hex::serde")]
        kem_seed: Vec<u8>,
        /// SHA-256 of the X-Wing public key of `kem_seed`.
        #[serde(with = "hex::serde")]
        kem_key_digest: Vec<u8>,
        /// The sequence number.
        sequence: u32,
        /// The capability flags.
        capabilities: u8,
        /// The cost field.
        cost: u8,
        /// The hop count.
        hop_count: u8,
        /// The hop limit.
        hop_limit: u8,
        /// The transmitter hop id, or null.
        transmitter: Option<HexBytes>,
        /// The Ed25519 public key.
        #[serde(with = "hex::serde")]
        signing_key: Vec<u8>,
        /// The address.
        #[serde(with = "hex::serde")]
        address: Vec<u8>,
        /// The whole Ed25519 input: label prefix, label, announce message.
        #[serde(with = "hex::serde")]
        signed_bytes: Vec<u8>,
        /// The signature.
        #[serde(with = "hex::serde")]
        signature: Vec<u8>,
        /// The datagram.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
    },
    /// Decode (and verify) a whole datagram by its type (§3.4).
    Decode {
        /// The datagram.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The decoded fields, by type (§10.1; positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decoded: Option<Value>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode the sealed content of a mesh message (§8.3).
    MeshData {
        /// The content bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The receipt key, or null (positive vectors).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        receipt_key: Option<Option<HexBytes>>,
        /// The application content (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// What a relay transmits on after accepting a flooded message (§5.3,
    /// §6.1): an Announce (with `cost` = its metric) or a PathRequest.
    Relay {
        /// The datagram received.
        #[serde(with = "hex::serde")]
        received: Vec<u8>,
        /// Cost of the link it arrived on (announces).
        link_cost: u8,
        /// The relay's hop id on the outgoing link, or null (point-to-point).
        transmitter: Option<HopIdJson>,
        /// The datagram relayed, or null at the hop limit.
        relayed: Option<HexBytes>,
    },
    /// A routing-table transcript (§10.2).
    Routing {
        /// The table configuration.
        config: RoutingConfigJson,
        /// The local node's address.
        local_address: HexBytes,
        /// The links and their costs.
        links: Vec<LinkJson>,
        /// The steps.
        steps: Vec<RoutingStep>,
    },
    /// A rebroadcast-scheduler transcript (§10.3).
    Rebroadcast {
        /// The link's budget.
        budget: BudgetJson,
        /// The steps.
        steps: Vec<RebroadcastStep>,
    },
}

/// A field that is present (possibly null) as `Some`; absent is `None`
/// through `#[serde(default)]`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<HexBytes>>, D::Error> {
    Option::<HexBytes>::deserialize(d).map(Some)
}

/// An 8-byte hop id as hex.
pub type HopIdJson = HexBytes;

/// The copy a relay transmits (§5.3 and §6.1), or `None` at the hop limit.
pub(crate) fn relayed_copy(
    received: &[u8],
    link_cost: u8,
    transmitter: Option<HopId>,
) -> Result<Option<Vec<u8>>, String> {
    let copy = match Message::decode(Bytes::copy_from_slice(received)).map_err(|e| e.to_string())? {
        Message::Announce(p) => {
            let metric = p.cost.saturating_add(link_cost);
            p.relayed(metric, transmitter).map(Message::Announce)
        }
        Message::PathRequest(r) => r.relayed(transmitter).map(Message::PathRequest),
        _ => return Err("only announces and path requests are relayed by flooding".into()),
    };
    copy.map(|m| m.to_bytes().map_err(|e| e.to_string()))
        .transpose()
}

pub(crate) fn hex_opt(id: Option<HopId>) -> Option<HexBytes> {
    id.map(|HopId(b)| HexBytes(b.to_vec()))
}

/// The `message_type` name of a header.
pub(crate) fn type_name(header: &Header) -> &'static str {
    use qpc_mesh::envelope::MessageType::*;
    match header.message_type {
        Announce => "announce",
        PathRequest => "path_request",
        PathResponse => "path_response",
        Sealed => "sealed",
        KeyRequest => "key_request",
        KeyResponse => "key_response",
        Receipt => "receipt",
        HopAck => "hop_ack",
        Channel => "channel",
        Session => "session",
        GroupLite => "group_lite",
        Fapp => "fapp",
    }
}

pub(crate) fn header_json(h: &Header) -> HeaderJson {
    HeaderJson {
        message_type: type_name(h).into(),
        hop_count: h.hop_count,
        hop_limit: h.hop_limit,
        destination: HexBytes(h.destination.as_bytes().to_vec()),
        message_id: h.message_id,
        hop_id: hex_opt(h.hop_id),
    }
}

fn announce_fields(a: &Announce) -> Value {
    json!({
        "capabilities": a.capabilities().0,
        "signing_key": hex::encode(a.signing_key()),
        "kem_key_digest": hex::encode(a.kem_key_digest()),
        "signature": hex::encode(a.signature()),
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        a.extend(b);
    }
    a
}

/// The `decoded` object of a message (§10.1).
pub(crate) fn decoded_json(m: &Message) -> Value {
    let h = m.header();
    let common = json!({
        "message_type": type_name(&h),
        "hop_count": h.hop_count,
        "hop_limit": h.hop_limit,
    });
    let hex_id = |id: Option<HopId>| id.map(|HopId(b)| hex::encode(b));
    let specific = match m {
        Message::Announce(p) => merge(
            json!({
                "address": hex::encode(p.announce.address().as_bytes()),
                "sequence": p.announce.sequence(),
                "transmitter": hex_id(p.transmitter),
                "cost": p.cost,
            }),
            announce_fields(&p.announce),
        ),
        Message::PathRequest(r) => json!({
            "destination": hex::encode(r.destination.as_bytes()),
            "request_id": r.request_id,
            "transmitter": hex_id(r.transmitter),
            "min_sequence": r.min_sequence,
        }),
        Message::PathResponse(r) => merge(
            json!({
                "address": hex::encode(r.announce.address().as_bytes()),
                "request_id": r.request_id,
                "next_hop": hex_id(r.next_hop),
                "transmitter": hex::encode(r.transmitter.0),
                "sequence": r.announce.sequence(),
                "cost": r.cost,
            }),
            announce_fields(&r.announce),
        ),
        Message::Session(p) | Message::GroupLite(p) => json!({
            "destination": hex::encode(p.header.destination.as_bytes()),
            "message_id": p.header.message_id,
            "hop_id": hex_id(p.header.hop_id),
            "body": hex::encode(&p.body),
        }),
        Message::Fapp(p) => json!({
            "destination": hex::encode(p.header.destination.as_bytes()),
            "message_id": p.header.message_id,
            "next_hop": hex_id(p.header.hop_id),
            "transmitter": hex::encode(p.transmitter.0),
            "reply_address": p.reply.map(|a| hex::encode(a.as_bytes())),
            "payload": hex::encode(&p.payload),
        }),
        Message::Sealed(s) => json!({
            "destination": hex::encode(s.header.destination.as_bytes()),
            "message_id": s.header.message_id,
            "next_hop": hex_id(s.header.hop_id),
            "payload": hex::encode(&s.payload),
        }),
        Message::KeyRequest(r) => json!({
            "destination": hex::encode(r.destination.as_bytes()),
            "request_id": r.request_id,
            "next_hop": hex_id(r.next_hop),
            "transmitter": hex::encode(r.transmitter.0),
        }),
        Message::KeyResponse(r) => json!({
            "address": hex::encode(r.identity.address().as_bytes()),
            "request_id": r.request_id,
            "next_hop": hex_id(r.next_hop),
            "transmitter": hex::encode(r.transmitter.0),
            "public_identity": hex::encode(r.identity.to_bytes()),
        }),
        Message::Receipt(r) => json!({
            "destination": hex::encode(r.destination.as_bytes()),
            "message_id": r.message_id,
            "next_hop": hex_id(r.next_hop),
            "receipt_key": hex::encode(r.key.0),
            "receipt_id": hex::encode(r.key.id()),
        }),
        Message::HopAck(a) => json!({
            "destination": hex::encode(a.destination.as_bytes()),
            "message_id": a.message_id,
            "from": hex_id(a.from),
        }),
        Message::Channel(c) => json!({
            "channel_id": hex::encode(c.header.destination.as_bytes()),
            "message_id": c.header.message_id,
            "transmitter": hex_id(c.header.hop_id),
            "nonce_extension": hex::encode(c.nonce_extension),
            "ciphertext": hex::encode(&c.ciphertext),
        }),
    };
    merge(common, specific)
}

pub(crate) fn arr32(what: &str, bytes: &[u8]) -> Result<[u8; 32], String> {
    bytes
        .try_into()
        .map_err(|_| format!("{what} must be 32 bytes"))
}

pub(crate) fn hop_id(what: &str, bytes: &Option<HexBytes>) -> Result<Option<HopId>, String> {
    bytes
        .as_ref()
        .map(|b| {
            b.0.as_slice()
                .try_into()
                .map(HopId)
                .map_err(|_| format!("{what} must be 8 bytes"))
        })
        .transpose()
}

/// The whole Ed25519 input of an announce (`spec/10` §4.2).
pub(crate) fn signed_bytes(a: &Announce) -> Vec<u8> {
    let label = CONTEXT.label();
    let message = qpc_mesh::announce::signed_message(
        &a.address(),
        a.sequence(),
        a.capabilities(),
        a.kem_key_digest(),
    );
    [&[label.len() as u8][..], label, &message].concat()
}

fn check_envelope(
    encoded: &[u8],
    header: &Option<HeaderJson>,
    body: &Option<HexBytes>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    let got = Envelope::decode(Bytes::copy_from_slice(encoded));
    match (header, body, expected_error) {
        (Some(want_header), Some(want_body), None) => {
            let env = got.map_err(|e| format!("rejected: {e}"))?;
            expect_eq("header", &header_json(&env.header), want_header)?;
            expect_eq("body", &env.body[..], &want_body.0[..])?;
            expect_eq(
                "re-encoding",
                &env.to_bytes().map_err(|e| e.to_string())?[..],
                encoded,
            )
        }
        (None, None, Some(class)) => expect_error(class, got),
        _ => Err("either header and body, or expected_error".into()),
    }
}

fn check_decode(
    encoded: &[u8],
    decoded: &Option<Value>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    let got = Message::decode(Bytes::copy_from_slice(encoded));
    match (decoded, expected_error) {
        (Some(want), None) => {
            let m = got.map_err(|e| format!("rejected: {e}"))?;
            expect_eq("decoded", &decoded_json(&m), want)?;
            expect_eq(
                "re-encoding",
                &m.to_bytes().map_err(|e| e.to_string())?[..],
                encoded,
            )
        }
        (None, Some(class)) => expect_error(class, got),
        _ => Err("exactly one of decoded and expected_error".into()),
    }
}

fn check_mesh_data(
    encoded: &[u8],
    receipt_key: &Option<Option<HexBytes>>,
    content: &Option<HexBytes>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    let got = MeshData::decode(Bytes::copy_from_slice(encoded));
    match (receipt_key, content, expected_error) {
        (Some(key), Some(content), None) => {
            let data = got.map_err(|e| format!("rejected: {e}"))?;
            let got_key = data.receipt.as_ref().map(|k| &k.0[..]);
            expect_eq("receipt key", got_key, key.as_ref().map(|k| &k.0[..]))?;
            expect_eq("content", &data.content[..], &content.0[..])?;
            expect_eq("re-encoding", &data.to_bytes()[..], encoded)
        }
        (None, None, Some(class)) => expect_error(class, got),
        _ => Err("either receipt_key and content, or expected_error".into()),
    }
}

impl Vector for MeshVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            MeshCase::Envelope {
                encoded,
                header,
                body,
                expected_error,
            } => check_envelope(encoded, header, body, expected_error),
            MeshCase::Announce {
                signing_seed,
                kem_seed,
                kem_key_digest,
                sequence,
                capabilities,
                cost,
                hop_count,
                hop_limit,
                transmitter,
                signing_key,
                address,
                signed_bytes: want_signed,
                signature,
                encoded,
            } => {
                let id = Identity::from_seeds(
                    &arr32("signing_seed", signing_seed)?,
                    &arr32("kem_seed", kem_seed)?,
                );
                let public = id.public();
                expect_eq(
                    "kem key digest",
                    &public.kem_key_digest()[..],
                    kem_key_digest,
                )?;
                expect_eq(
                    "signing key",
                    &public.signing_key().as_bytes()[..],
                    signing_key,
                )?;
                expect_eq("address", &public.address().as_bytes()[..], address)?;
                let announce = Announce::sign(&id, *sequence, Capabilities(*capabilities));
                expect_eq("signed bytes", &signed_bytes(&announce), want_signed)?;
                expect_eq("signature", &announce.signature()[..], signature)?;
                let packet = AnnouncePacket {
                    hop_count: *hop_count,
                    hop_limit: *hop_limit,
                    transmitter: hop_id("transmitter", transmitter)?,
                    cost: *cost,
                    announce,
                };
                let bytes = packet.to_bytes().map_err(|e| e.to_string())?;
                expect_eq("encoded", &bytes, encoded)?;
                let parsed = AnnouncePacket::decode(bytes.into()).map_err(|e| e.to_string())?;
                expect_eq("decoded", &parsed, &packet)
            }
            MeshCase::Decode {
                encoded,
                decoded,
                expected_error,
            } => check_decode(encoded, decoded, expected_error),
            MeshCase::MeshData {
                encoded,
                receipt_key,
                content,
                expected_error,
            } => check_mesh_data(encoded, receipt_key, content, expected_error),
            MeshCase::Relay {
                received,
                link_cost,
                transmitter,
                relayed,
            } => {
                let got = relayed_copy(received, *link_cost, hop_id("transmitter", transmitter)?)?;
                expect_eq(
                    "relayed",
                    got.as_deref(),
                    relayed.as_ref().map(|r| &r.0[..]),
                )
            }
            MeshCase::Routing {
                config,
                local_address,
                links,
                steps,
            } => transcript::check_routing(config, local_address, links, steps),
            MeshCase::Rebroadcast { budget, steps } => transcript::check_rebroadcast(budget, steps),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{assert_sound_generation, VectorFile};

    #[test]
    fn generation_is_sound_and_covers_the_bar() {
        let file: VectorFile<MeshVector> = assert_sound_generation(generate);
        let errors: Vec<&str> = file
            .vectors
            .iter()
            .filter_map(|v| match &v.case {
                MeshCase::Envelope { expected_error, .. }
                | MeshCase::Decode { expected_error, .. } => expected_error.as_deref(),
                _ => None,
            })
            .collect();
        for class in [
            "bad_signature",
            "address_mismatch",
            "invalid_public_key",
            "truncated",
            "trailing_bytes",
            "unknown_version",
            "unknown_message_type",
            "malformed",
            "unknown_version",
        ] {
            assert!(errors.contains(&class), "no negative vector for {class}");
        }
        let transcripts = file
            .vectors
            .iter()
            .filter(|v| matches!(v.case, MeshCase::Routing { .. }))
            .count();
        assert!(transcripts >= 3);
    }

    #[test]
    fn a_changed_expectation_fails() {
        let text = generate();
        let file: VectorFile<MeshVector> = serde_json::from_str(&text).unwrap();
        for v in &file.vectors {
            let mut changed = v.clone();
            let touched = match &mut changed.case {
                MeshCase::Announce { signature, .. } => {
                    signature[0] ^= 1;
                    true
                }
                MeshCase::Routing { steps, .. } => {
                    steps.pop();
                    steps.push(RoutingStep::Timeout {
                        at_ms: u64::MAX,
                        events: vec![],
                    });
                    true
                }
                _ => false,
            };
            if touched {
                assert!(changed.check().is_err(), "{} still passes", v.name);
            }
        }
    }
}
