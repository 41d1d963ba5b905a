//! `mls.json`: vectors for `spec/07-mls.md` — the application payload, the
//! delivery header and the delivery-ordering rules (transcripts).

use bytes::Bytes;
use qpc_crypto::identity::Address;
use qpc_crypto::identity::Identity;
use qpc_crypto::mls::credential::{credential_bytes, member_address};
use qpc_crypto::mls::delivery::{
    Admission, DeliveryHeader, DeliveryOrder, HeldItem, OrderConfig, Sequenced,
};
use qpc_crypto::mls::payload::{ApplicationPayload, ContentType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{deterministic_bytes, expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `mls.json`.
pub const PROTOCOL: &str = "qpc-mls";

/// One vector of `mls.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MlsVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: MlsCase,
}

/// The fields of an application payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadFields {
    /// `text` or `data`.
    pub content_type: String,
    /// 16 bytes.
    #[serde(with = "hex::serde")]
    pub message_id: Vec<u8>,
    /// Unix ms.
    pub timestamp_ms: u64,
    /// 16 bytes, or null.
    pub reply_to: Option<HexBytes>,
    /// The body.
    #[serde(with = "hex::serde")]
    pub body: Vec<u8>,
}

/// The §7.1 bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBounds {
    /// `max_held`.
    pub max_held: usize,
    /// `max_held_bytes`.
    pub max_held_bytes: usize,
    /// `max_seen`.
    pub max_seen: usize,
    /// `max_past_epochs`.
    pub max_past_epochs: u64,
    /// `window`.
    pub window: u64,
    /// `max_senders`.
    pub max_senders: usize,
}

/// One received message of an ordering transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The message bytes (their SHA-256 is the digest).
    #[serde(with = "hex::serde")]
    pub message: Vec<u8>,
    /// Its epoch.
    pub epoch: u64,
    /// `application` or `commit`.
    pub kind: String,
    /// The sender's address.
    #[serde(with = "hex::serde")]
    pub sender: Vec<u8>,
    /// The sender's sequence number.
    pub sequence: u64,
    /// What the step produces.
    pub events: Vec<String>,
}

/// The kinds of MLS vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MlsCase {
    /// Encode a payload.
    MlsPayload {
        /// The fields.
        payload: PayloadFields,
        /// The unpadded encoding.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The padded MLS plaintext.
        #[serde(with = "hex::serde")]
        plaintext: Vec<u8>,
    },
    /// Decode an MLS plaintext.
    MlsPayloadDecode {
        /// The plaintext.
        #[serde(with = "hex::serde")]
        plaintext: Vec<u8>,
        /// The fields (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<PayloadFields>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode a delivery header.
    MlsDeliveryHeader {
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The sequence (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sequence: Option<u64>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// The address a credential and signature key bind (§4).
    MlsCredential {
        /// The BasicCredential identity bytes.
        #[serde(with = "hex::serde")]
        credential: Vec<u8>,
        /// The leaf's signature key.
        #[serde(with = "hex::serde")]
        signature_key: Vec<u8>,
        /// The member's address (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// An ordering transcript.
    MlsOrdering {
        /// The bounds.
        config: OrderBounds,
        /// The starting epoch.
        epoch: u64,
        /// The received messages, in order.
        steps: Vec<Step>,
    },
}

fn content_type(name: &str) -> Result<ContentType, String> {
    match name {
        "text" => Ok(ContentType::Text),
        "data" => Ok(ContentType::Data),
        _ => Err(format!("unknown content type {name:?}")),
    }
}

fn fields(p: &ApplicationPayload) -> PayloadFields {
    PayloadFields {
        content_type: match p.content_type {
            ContentType::Text => "text",
            ContentType::Data => "data",
        }
        .into(),
        message_id: p.message_id.to_vec(),
        timestamp_ms: p.timestamp_ms,
        reply_to: p.reply_to.map(|r| HexBytes(r.to_vec())),
        body: p.body.to_vec(),
    }
}

fn payload(f: &PayloadFields) -> Result<ApplicationPayload, String> {
    let id16 = |b: &[u8]| <[u8; 16]>::try_from(b).map_err(|_| "ids are 16 bytes".to_string());
    Ok(ApplicationPayload {
        content_type: content_type(&f.content_type)?,
        message_id: id16(&f.message_id)?,
        timestamp_ms: f.timestamp_ms,
        reply_to: f.reply_to.as_ref().map(|r| id16(&r.0)).transpose()?,
        body: Bytes::copy_from_slice(&f.body),
    })
}

/// A held or processed transcript message.
#[derive(Debug, Clone)]
struct Pending<'a>(&'a Step);

impl HeldItem for Pending<'_> {
    fn held_len(&self) -> usize {
        self.0.message.len()
    }
}

/// Runs a transcript; returns each step's events.
fn run(config: OrderBounds, epoch: u64, steps: &[Step]) -> Result<Vec<Vec<String>>, String> {
    let mut order = DeliveryOrder::new(
        OrderConfig {
            max_held: config.max_held,
            max_held_bytes: config.max_held_bytes,
            max_seen: config.max_seen,
            max_past_epochs: config.max_past_epochs,
            window: config.window,
            max_senders: config.max_senders,
        },
        epoch,
    );
    let mut out = Vec::new();
    for step in steps {
        let mut events = Vec::new();
        let digest: [u8; 32] = Sha256::digest(&step.message).into();
        let commit = match step.kind.as_str() {
            "commit" => true,
            "application" => false,
            k => return Err(format!("unknown step kind {k:?}")),
        };
        match order.admit(digest, step.epoch, commit, Pending(step)) {
            Admission::Held => events.push("held".into()),
            Admission::Duplicate => events.push("duplicate".into()),
            Admission::Dropped(r) => events.push(format!("dropped:{}", r.name())),
            Admission::Process(p) => {
                let mut queue = std::collections::VecDeque::from([(p, false)]);
                while let Some((Pending(s), released)) = queue.pop_front() {
                    // Released messages pass steps 3-4 again (§7.5).
                    if let Some(r) = order
                        .recheck(s.epoch, s.kind == "commit")
                        .filter(|_| released)
                    {
                        events.push(format!("dropped:{}", r.name()));
                        continue;
                    }
                    let ready = process(&mut order, s, &mut events)?;
                    for p in ready.into_iter().rev() {
                        queue.push_front((p, true));
                    }
                }
            }
        }
        out.push(events);
    }
    Ok(out)
}

/// §7.3 steps 4-6 for a message that decrypted.
fn process<'a>(
    order: &mut DeliveryOrder<Pending<'a>>,
    step: &'a Step,
    events: &mut Vec<String>,
) -> Result<Vec<Pending<'a>>, String> {
    let sender = Address::from_bytes(
        step.sender
            .as_slice()
            .try_into()
            .map_err(|_| "sender is 16 bytes")?,
    );
    match order.sequence(sender, step.sequence) {
        Err(r) => {
            events.push(format!("dropped:{}", r.name()));
            return Ok(Vec::new());
        }
        Ok(Sequenced::Gap { first, last }) => events.push(format!("gap:{first}-{last}")),
        Ok(Sequenced::InOrder | Sequenced::Late) => {}
    }
    order.mark_seen(Sha256::digest(&step.message).into());
    events.push(format!("delivered:{}", hex::encode(&step.message)));
    if step.kind != "commit" {
        return Ok(Vec::new());
    }
    let epoch = order.epoch() + 1;
    events.push(format!("epoch:{epoch}"));
    Ok(order.advance(epoch))
}

impl Vector for MlsVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            MlsCase::MlsPayload {
                payload: f,
                encoded,
                plaintext,
            } => {
                let p = payload(f)?;
                expect_eq(
                    "encoded",
                    p.encode().map_err(|e| e.to_string())?,
                    encoded.clone(),
                )?;
                expect_eq(
                    "plaintext",
                    p.to_plaintext().map_err(|e| e.to_string())?,
                    plaintext.clone(),
                )?;
                expect_eq(
                    "decoded",
                    ApplicationPayload::from_plaintext(plaintext)
                        .map(|p| fields(&p))
                        .map_err(|e| e.to_string())?,
                    f.clone(),
                )
            }
            MlsCase::MlsPayloadDecode {
                plaintext,
                payload: Some(f),
                ..
            } => expect_eq(
                "payload",
                ApplicationPayload::from_plaintext(plaintext)
                    .map(|p| fields(&p))
                    .map_err(|e| e.to_string())?,
                f.clone(),
            ),
            MlsCase::MlsPayloadDecode {
                plaintext,
                expected_error: Some(e),
                ..
            } => expect_error(e, ApplicationPayload::from_plaintext(plaintext)),
            MlsCase::MlsDeliveryHeader {
                encoded,
                sequence: Some(s),
                ..
            } => expect_eq(
                "sequence",
                DeliveryHeader::decode(encoded)
                    .map(|h| h.sequence)
                    .map_err(|e| e.to_string())?,
                *s,
            ),
            MlsCase::MlsDeliveryHeader {
                encoded,
                expected_error: Some(e),
                ..
            } => expect_error(e, DeliveryHeader::decode(encoded)),
            MlsCase::MlsCredential {
                credential,
                signature_key,
                address: Some(a),
                ..
            } => expect_eq(
                "address",
                member_address(credential, signature_key)
                    .map(|a| a.as_bytes().to_vec())
                    .map_err(|e| e.to_string())?,
                a.0.clone(),
            ),
            MlsCase::MlsCredential {
                credential,
                signature_key,
                expected_error: Some(e),
                ..
            } => expect_error(e, member_address(credential, signature_key)),
            MlsCase::MlsOrdering {
                config,
                epoch,
                steps,
            } => {
                let got = run(*config, *epoch, steps)?;
                for (i, (step, events)) in steps.iter().zip(got).enumerate() {
                    expect_eq(&format!("events of step {i}"), events, step.events.clone())?;
                }
                Ok(())
            }
            _ => Err("vector has neither an expected value nor expected_error".into()),
        }
    }
}

fn vector(name: &str, description: &str, case: MlsCase) -> MlsVector {
    MlsVector {
        name: name.into(),
        description: description.into(),
        case,
    }
}

fn id(label: &str) -> [u8; 16] {
    deterministic_bytes(label, 16).try_into().expect("16")
}

fn payload_vectors() -> Vec<MlsVector> {
    let base = ApplicationPayload {
        content_type: ContentType::Text,
        message_id: id("mls message id"),
        timestamp_ms: 1_800_000_000_000,
        reply_to: None,
        body: Bytes::from_static(b"hey!"),
    };
    let cases = [
        (
            "payload-text-4-bytes",
            "a 4-byte text: 32 encoded bytes, padded to 36",
            base.clone(),
        ),
        (
            "payload-empty-data",
            "empty data body: the 28-byte minimum",
            ApplicationPayload {
                content_type: ContentType::Data,
                body: Bytes::new(),
                ..base.clone()
            },
        ),
        (
            "payload-reply",
            "a reply: has_reply_to = 1 and the 16-byte id",
            ApplicationPayload {
                reply_to: Some(id("mls reply to")),
                body: Bytes::from_static("grüß dich".as_bytes()),
                ..base.clone()
            },
        ),
        (
            "payload-data-300",
            "300 bytes of data: a 2-byte varint length, Padmé to 336",
            ApplicationPayload {
                content_type: ContentType::Data,
                body: Bytes::from(deterministic_bytes("mls body 300", 300)),
                ..base.clone()
            },
        ),
        (
            "payload-data-70000",
            "70,000 bytes: a 4-byte varint length",
            ApplicationPayload {
                content_type: ContentType::Data,
                body: Bytes::from(deterministic_bytes("mls body 70000", 70_000)),
                timestamp_ms: u64::MAX,
                ..base.clone()
            },
        ),
    ];
    let mut out: Vec<_> = cases
        .into_iter()
        .map(|(name, desc, p)| {
            vector(
                name,
                desc,
                MlsCase::MlsPayload {
                    payload: fields(&p),
                    encoded: p.encode().expect("valid"),
                    plaintext: p.to_plaintext().expect("valid"),
                },
            )
        })
        .collect();
    let good = base.encode().expect("valid");
    let pad = |encoded: &[u8]| {
        qpc_crypto::padding::pad(qpc_crypto::padding::Padding::Padme, encoded).expect("pads")
    };
    let edit = |i: usize, v: u8| {
        let mut e = good.clone();
        e[i] = v;
        pad(&e)
    };
    let body_of = |body: &[u8]| pad(&[&good[..27], body].concat());
    out.push(vector(
        "decode-text",
        "a padded payload decodes to its fields",
        MlsCase::MlsPayloadDecode {
            plaintext: pad(&good),
            payload: Some(fields(&base)),
            expected_error: None,
        },
    ));
    let negatives: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "decode-no-marker",
            "all zeros: no 0x80 marker",
            vec![0; 36],
            "bad_padding",
        ),
        (
            "decode-not-padme-length",
            "the marker is there but the length is not Padmé's",
            [good.as_slice(), &[0x80, 0, 0, 0, 0]].concat(),
            "bad_padding",
        ),
        (
            "decode-unpadded",
            "the encoding without padding (its last byte is not 0x80)",
            good.clone(),
            "bad_padding",
        ),
        (
            "decode-version-2",
            "version 2",
            edit(0, 2),
            "unknown_version",
        ),
        (
            "decode-content-type-0",
            "content type 0",
            edit(1, 0),
            "malformed",
        ),
        (
            "decode-content-type-3",
            "content type 3",
            edit(1, 3),
            "malformed",
        ),
        (
            "decode-reply-flag-2",
            "has_reply_to = 2",
            edit(26, 2),
            "malformed",
        ),
        (
            "decode-truncated-body",
            "the body is shorter than its length",
            pad(&good[..good.len() - 1]),
            "truncated",
        ),
        (
            "decode-truncated-header",
            "only the version byte",
            pad(&good[..1]),
            "truncated",
        ),
        (
            "decode-reply-truncated",
            "has_reply_to = 1 but the id is cut off",
            pad(&[&good[..26], &[1, 0xaa, 0xbb]].concat()),
            "truncated",
        ),
        (
            "decode-trailing",
            "a byte after the body",
            pad(&[good.as_slice(), &[0x41]].concat()),
            "trailing_bytes",
        ),
        (
            "decode-non-minimal-length",
            "the body length 4 as a 2-byte varint",
            body_of(&[0x40, 0x04, b'h', b'e', b'y', b'!']),
            "non_minimal_length",
        ),
        (
            "decode-reserved-length-prefix",
            "a varint starting 0b11",
            body_of(&[0xc0, 0, 0, 0]),
            "invalid_length_prefix",
        ),
        (
            "decode-body-too-long",
            "a body length of 1,048,577",
            body_of(&[0x80, 0x10, 0x00, 0x01]),
            "content_too_long",
        ),
        (
            "decode-text-not-utf8",
            "text that is not UTF-8",
            body_of(&[2, 0xc3, 0x28]),
            "malformed",
        ),
    ];
    out.extend(negatives.into_iter().map(|(name, desc, plaintext, error)| {
        vector(
            name,
            desc,
            MlsCase::MlsPayloadDecode {
                plaintext,
                payload: None,
                expected_error: Some(error.into()),
            },
        )
    }));
    out
}

fn header_vectors() -> Vec<MlsVector> {
    let ok = |name: &str, sequence: u64| {
        vector(
            name,
            "a delivery header",
            MlsCase::MlsDeliveryHeader {
                encoded: DeliveryHeader { sequence }.encode().to_vec(),
                sequence: Some(sequence),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, encoded: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            MlsCase::MlsDeliveryHeader {
                encoded,
                sequence: None,
                expected_error: Some(error.into()),
            },
        )
    };
    vec![
        ok("header-0", 0),
        ok("header-5", 5),
        ok("header-max", u64::MAX),
        bad(
            "header-empty",
            "no bytes (a message without authenticated data)",
            vec![],
            "truncated",
        ),
        bad(
            "header-short",
            "8 bytes",
            vec![1, 0, 0, 0, 0, 0, 0, 0],
            "truncated",
        ),
        bad(
            "header-long",
            "10 bytes",
            vec![1, 0, 0, 0, 0, 0, 0, 0, 5, 0],
            "trailing_bytes",
        ),
        bad(
            "header-version-0",
            "version 0",
            vec![0; 9],
            "unknown_version",
        ),
        bad(
            "header-version-2",
            "version 2",
            [&[2u8][..], &[0; 8]].concat(),
            "unknown_version",
        ),
    ]
}

/// Builds transcript steps: `(message label, epoch, kind, sender, sequence)`;
/// the events are computed by [`run`] and checked by the independent
/// checker.
fn transcript(
    name: &str,
    description: &str,
    config: OrderBounds,
    epoch: u64,
    steps: &[(&str, u64, &str, u8, u64)],
) -> MlsVector {
    let mut steps: Vec<Step> = steps
        .iter()
        .map(|&(label, epoch, kind, sender, sequence)| Step {
            message: deterministic_bytes(&format!("mls ordering {label}"), 12),
            epoch,
            kind: kind.into(),
            sender: vec![sender; 16],
            sequence,
            events: Vec::new(),
        })
        .collect();
    let events = run(config, epoch, &steps).expect("valid transcript");
    for (step, events) in steps.iter_mut().zip(events) {
        step.events = events;
    }
    vector(
        name,
        description,
        MlsCase::MlsOrdering {
            config,
            epoch,
            steps,
        },
    )
}

fn ordering_vectors() -> Vec<MlsVector> {
    let d = OrderBounds {
        max_held: 256,
        max_held_bytes: 1 << 20,
        max_seen: 4096,
        max_past_epochs: 3,
        window: 1024,
        max_senders: 4096,
    };
    const A: u8 = 0xa1;
    const B: u8 = 0xb2;
    const C: u8 = 0xc3;
    vec![
        transcript("order-in-order", "three messages in order from one sender, then one from another", d, 0, &[
            ("a0", 0, "application", A, 0), ("a1", 0, "application", A, 1), ("a2", 0, "application", A, 2), ("b7", 0, "application", B, 7),
        ]),
        transcript("order-duplicate", "the same bytes twice: the second is a duplicate before any decryption", d, 0, &[
            ("a0", 0, "application", A, 0), ("a0", 0, "application", A, 0),
        ]),
        transcript("order-gap-late", "a gap is reported, late messages fill it, a reused number is dropped", d, 0, &[
            ("a0", 0, "application", A, 0), ("a3", 0, "application", A, 3), ("a1", 0, "application", A, 1), ("a2", 0, "application", A, 2), ("a1-again", 0, "application", A, 1), ("a4", 0, "application", A, 4),
        ]),
        transcript("order-hold-release", "a message of the next epoch is held until its commit, then released right after it", d, 4, &[
            ("b0-e5", 5, "application", B, 0), ("b0-e5", 5, "application", B, 0), ("a-commit", 4, "commit", A, 0), ("a1-e5", 5, "application", A, 1),
        ]),
        transcript("order-release-chain", "a commit held for epoch 1 is released by the commit of epoch 0 and opens epoch 2, whose message is then processed", d, 0, &[
            ("b-commit-e1", 1, "commit", B, 0), ("a-commit-e0", 0, "commit", A, 0), ("c-e2", 2, "application", C, 0),
        ]),
        transcript("order-two-held-commits", "two commits for epoch 1 are held; after epoch 0's commit the first is merged and the second, re-checked when released, is stale", d, 0, &[
            ("b-commit-e1", 1, "commit", B, 0), ("c-commit-e1", 1, "commit", C, 0), ("a-commit-e0", 0, "commit", A, 0),
        ]),
        transcript("order-future-epoch", "only the next epoch is held: a message two epochs ahead is dropped before any cryptography", d, 7, &[
            ("b-e9", 9, "application", B, 0), ("b-e8", 8, "application", B, 1),
        ]),
        transcript("order-held-bytes", "with max_held_bytes = 20, a second 12-byte message for the next epoch does not fit", OrderBounds { max_held_bytes: 20, ..d }, 0, &[
            ("f1", 1, "application", B, 0), ("f2", 1, "application", B, 1), ("commit", 0, "commit", A, 0),
        ]),
        transcript("order-concurrent-commits", "two commits for epoch 0: the first wins, the second is stale", d, 0, &[
            ("a-commit", 0, "commit", A, 0), ("b-commit", 0, "commit", B, 0), ("b-late-app", 0, "application", B, 1),
        ]),
        transcript("order-past-epochs", "with max_past_epochs = 1, an application message one epoch old is delivered, two epochs old is too old", OrderBounds { max_past_epochs: 1, ..d }, 0, &[
            ("c0", 0, "commit", A, 0), ("c1", 1, "commit", A, 1), ("b-e1", 1, "application", B, 0), ("b-e0", 0, "application", B, 1),
        ]),
        transcript("order-held-full", "with max_held = 2, a third future message is dropped", OrderBounds { max_held: 2, ..d }, 0, &[
            ("f1", 1, "application", B, 0), ("f2", 1, "application", B, 1), ("f3", 1, "application", B, 2), ("commit", 0, "commit", A, 0),
        ]),
        transcript("order-seen-evicted", "with max_seen = 2, a forgotten duplicate reaches the sequence check and is dropped there", OrderBounds { max_seen: 2, ..d }, 0, &[
            ("a0", 0, "application", A, 0), ("a1", 0, "application", A, 1), ("a2", 0, "application", A, 2), ("a0", 0, "application", A, 0), ("a2", 0, "application", A, 2),
        ]),
        transcript("order-window", "with window = 4: after a jump to 10, the 4 numbers 6..=9 may arrive late, 5 and below are too old", OrderBounds { window: 4, ..d }, 0, &[
            ("a0", 0, "application", A, 0), ("a10", 0, "application", A, 10), ("a3", 0, "application", A, 3), ("a7", 0, "application", A, 7), ("a9", 0, "application", A, 9), ("a6", 0, "application", A, 6), ("a9b", 0, "application", A, 9), ("a5", 0, "application", A, 5),
        ]),
        transcript("order-max-sequence", "sequence 2^64 - 1 can never be in order", d, 0, &[
            ("a-max", 0, "application", A, u64::MAX), ("a5", 0, "application", A, 5), ("a-max2", 0, "application", A, u64::MAX),
        ]),
        transcript("order-too-many-senders", "with max_senders = 2, a third sender is dropped", OrderBounds { max_senders: 2, ..d }, 0, &[
            ("a0", 0, "application", A, 0), ("b0", 0, "application", B, 0), ("c0", 0, "application", C, 0), ("a1", 0, "application", A, 1),
        ]),
        transcript("order-stale-sequence-commit", "a commit whose sequence number was already used is not merged", d, 0, &[
            ("a0", 0, "application", A, 0), ("a-commit-reuse", 0, "commit", A, 0), ("a1", 0, "application", A, 1),
        ]),
    ]
}

fn credential_vectors() -> Vec<MlsVector> {
    let alice = Identity::from_seeds(&[0x11; 32], &[0x22; 32]);
    let bob = Identity::from_seeds(&[0x33; 32], &[0x44; 32]);
    let key = |i: &Identity| i.public().signing_key().as_bytes().to_vec();
    let ok = |name: &str, i: &Identity| {
        vector(
            name,
            "a member's credential and signature key bind its address",
            MlsCase::MlsCredential {
                credential: credential_bytes(i).to_vec(),
                signature_key: key(i),
                address: Some(HexBytes(i.public().address().as_bytes().to_vec())),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, credential: Vec<u8>, signature_key: Vec<u8>| {
        vector(
            name,
            desc,
            MlsCase::MlsCredential {
                credential,
                signature_key,
                address: None,
                expected_error: Some("invalid_credential".into()),
            },
        )
    };
    let cred = credential_bytes(&alice).to_vec();
    let mut v2 = cred.clone();
    v2[0] = 2;
    let mut non_canonical = vec![0xffu8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f;
    let mut identity_point = vec![0u8; 32];
    identity_point[0] = 1;
    vec![
        ok("credential-alice", &alice),
        ok("credential-bob", &bob),
        bad(
            "credential-version-2",
            "credential version 2",
            v2,
            key(&alice),
        ),
        bad(
            "credential-short",
            "32-byte credential",
            cred[..32].to_vec(),
            key(&alice),
        ),
        bad(
            "credential-long",
            "34-byte credential",
            [cred.as_slice(), &[0]].concat(),
            key(&alice),
        ),
        bad(
            "credential-key-short",
            "31-byte signature key",
            cred.clone(),
            key(&alice)[..31].to_vec(),
        ),
        bad(
            "credential-key-small-order",
            "the neutral point as signature key",
            cred.clone(),
            identity_point,
        ),
        bad(
            "credential-key-non-canonical",
            "a non-canonical encoding (y = p + 1)",
            cred,
            non_canonical,
        ),
    ]
}

/// The text of `mls.json`. Panics if qpc-crypto fails one of its own
/// vectors.
pub fn generate() -> String {
    let vectors = [
        payload_vectors(),
        header_vectors(),
        credential_vectors(),
        ordering_vectors(),
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/07-mls.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let _file = crate::assert_sound_generation::<MlsVector>(generate);
    }

    /// The transcripts do what their descriptions say (checked by hand
    /// against spec/07 §7, so the generator is not its own oracle).
    #[test]
    fn transcripts_match_the_spec_by_hand() {
        let file: crate::VectorFile<MlsVector> = serde_json::from_str(&generate()).unwrap();
        let events = |name: &str| -> Vec<Vec<String>> {
            let v = file.vectors.iter().find(|v| v.name == name).unwrap();
            let MlsCase::MlsOrdering { steps, .. } = &v.case else {
                panic!()
            };
            steps
                .iter()
                .map(|s| {
                    s.events
                        .iter()
                        .map(|e| {
                            e.split(':').next().unwrap().to_string()
                                + e.strip_prefix("delivered:").map_or("", |_| "")
                        })
                        .collect()
                })
                .collect()
        };
        let e = |s: &[&[&str]]| -> Vec<Vec<String>> {
            s.iter()
                .map(|x| x.iter().map(|y| y.to_string()).collect())
                .collect()
        };
        assert_eq!(
            events("order-gap-late"),
            e(&[
                &["delivered"],
                &["gap", "delivered"],
                &["delivered"],
                &["delivered"],
                &["dropped"],
                &["delivered"]
            ])
        );
        assert_eq!(
            events("order-hold-release"),
            e(&[
                &["held"],
                &["duplicate"],
                &["delivered", "epoch", "delivered"],
                &["delivered"]
            ])
        );
        assert_eq!(
            events("order-release-chain"),
            e(&[
                &["held"],
                &["delivered", "epoch", "delivered", "epoch"],
                &["delivered"]
            ])
        );
        assert_eq!(
            events("order-two-held-commits"),
            e(&[
                &["held"],
                &["held"],
                &["delivered", "epoch", "delivered", "epoch", "dropped"]
            ])
        );
        assert_eq!(
            events("order-held-full"),
            e(&[
                &["held"],
                &["held"],
                &["dropped"],
                &["delivered", "epoch", "delivered", "delivered"]
            ])
        );
        let v = file
            .vectors
            .iter()
            .find(|v| v.name == "order-window")
            .unwrap();
        let MlsCase::MlsOrdering { steps, .. } = &v.case else {
            panic!()
        };
        let flat: Vec<&str> = steps
            .iter()
            .map(|s| s.events.last().unwrap().as_str())
            .collect();
        assert_eq!(flat[2], "dropped:too_old_sequence");
        assert!(flat[3].starts_with("delivered:"));
        assert!(
            flat[5].starts_with("delivered:"),
            "6 = 10 - window is still in"
        );
        assert_eq!(flat[6], "dropped:duplicate_sequence");
        assert_eq!(flat[7], "dropped:too_old_sequence");
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate().replacen("\"held\"", "\"duplicate\"", 1);
        let results = crate::verify_json::<MlsVector>(&text).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
