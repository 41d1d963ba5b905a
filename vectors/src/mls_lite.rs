//! `mls_lite.json`: vectors for `spec/12-mls-lite.md` part B — MLS-Lite:
//!
//! - `derive`: the destination, a sender's key and nonce base (§B.2);
//! - `seal`: a message with a given sender and counter (§B.3);
//! - `receive`: one member's transcript — messages opened at a time, and
//!   epoch changes — with the outcome each must produce (§B.4, §B.5):
//!   replay, a counter below the window, a foreign epoch, an unknown
//!   member, an own echo, tampering, lengths, the grace period;
//! - `carry`: the type-`0xb` datagram a `MeshNode` floods (§B.12);
//! - `carriage_receive`: datagrams fed to a `MeshNode` with the group
//!   installed, and what it reports (§B.12, `spec/10` §12.8).

use bytes::Bytes;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use qpc_crypto::identity::Identity;
use qpc_mesh::envelope::{Envelope, Header, HopId, MessageType};
use qpc_mesh::group_lite::{GroupLite, LiteHeader};
use qpc_mesh::node::{Event, GroupHandle, GroupKeys, LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use rand_chacha::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::{expect_eq, HexBytes, Vector};

/// The `protocol` field of `mls_lite.json`.
pub const PROTOCOL: &str = "qpc-mesh-mls-lite";

/// One vector of `mls_lite.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MlsLiteVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: MlsLiteCase,
}

/// A member's view of an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The epoch.
    pub epoch: u64,
    /// The epoch secret.
    pub secret: HexBytes,
    /// The member's index.
    pub own_index: u16,
    /// The member count.
    pub members: u16,
}

/// An opened message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// The sender index.
    pub sender: u16,
    /// The counter.
    pub counter: u32,
    /// The full epoch.
    pub epoch: u64,
    /// The content.
    pub content: HexBytes,
}

/// A step of a `receive` transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// Open `message` at `now`.
    Open {
        /// The time, ms.
        now: u64,
        /// The message.
        message: HexBytes,
        /// The outcome (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opened: Option<Opened>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Move to a later epoch at `now`.
    Advance {
        /// The time, ms.
        now: u64,
        /// The new epoch.
        member: Member,
    },
}

/// What a node reported for a GroupLite datagram of a `carriage_receive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriageStep {
    /// The time, ms.
    pub now: u64,
    /// The datagram.
    pub datagram: HexBytes,
    /// The delivered message (positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Delivered>,
    /// The error class of the refusal, or `not_for_group` for a datagram
    /// the node only relays (negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_error: Option<String>,
}

/// A `group_received` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The sender index.
    pub sender: u16,
    /// The epoch.
    pub epoch: u64,
    /// The payload.
    pub content: HexBytes,
}

/// The kinds of vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MlsLiteCase {
    /// Derivations of §B.2.
    Derive {
        /// The epoch secret.
        secret: HexBytes,
        /// The sender index.
        sender: u16,
        /// The mesh destination.
        destination: HexBytes,
        /// The sender's AEAD key.
        key: HexBytes,
        /// The sender's nonce base.
        nonce: HexBytes,
    },
    /// A sealed message.
    Seal {
        /// The sender's view (its index is the sender).
        member: Member,
        /// The counter.
        counter: u32,
        /// The content.
        content: HexBytes,
        /// The message.
        message: HexBytes,
    },
    /// The first GroupLite datagram a node with `member`'s keys floods
    /// (counter 0).
    Carry {
        /// The sender's view.
        member: Member,
        /// The node's hop limit.
        hop_limit: u8,
        /// The envelope's message id (the node's random draw).
        message_id: u32,
        /// The content.
        content: HexBytes,
        /// The datagram.
        datagram: HexBytes,
    },
    /// Datagrams received by a node with `receiver`'s keys installed.
    CarriageReceive {
        /// The receiver.
        receiver: Member,
        /// The steps.
        steps: Vec<CarriageStep>,
    },
    /// A receiver's transcript.
    Receive {
        /// The receiver at the start.
        receiver: Member,
        /// How long a previous epoch stays readable, ms.
        grace_ms: u64,
        /// The steps.
        steps: Vec<Step>,
    },
}

fn secret(m: &Member) -> Result<[u8; 32], String> {
    m.secret.0[..]
        .try_into()
        .map_err(|_| "a 32-byte secret".to_owned())
}

fn sender(m: &Member, first_counter: u32) -> Result<GroupLite, String> {
    let mut g = GroupLite::new(
        m.epoch,
        &secret(m)?,
        m.own_index,
        m.members,
        first_counter,
        0,
    )
    .map_err(|e| e.to_string())?;
    g.reserve();
    Ok(g)
}

fn run(receiver: &mut GroupLite, step: &Step) -> Result<Step, String> {
    Ok(match step {
        Step::Open { now, message, .. } => {
            let got = receiver.open(&message.0, *now);
            Step::Open {
                now: *now,
                message: message.clone(),
                opened: got.as_ref().ok().map(|o| Opened {
                    sender: o.sender,
                    counter: o.counter,
                    epoch: o.epoch,
                    content: HexBytes(o.content.to_vec()),
                }),
                expected_error: got.err().map(|e| e.class().to_owned()),
            }
        }
        Step::Advance { now, member } => {
            receiver
                .advance(
                    member.epoch,
                    &secret(member)?,
                    member.own_index,
                    member.members,
                    *now,
                )
                .map_err(|e| e.to_string())?;
            step.clone()
        }
    })
}

fn keys(m: &Member) -> Result<GroupKeys, String> {
    Ok(GroupKeys::from_secret(
        m.epoch,
        &secret(m)?,
        m.own_index,
        m.members,
    ))
}

const GROUP: GroupHandle = GroupHandle(1);
const LINK: LinkId = LinkId(1);

/// A node with `m`'s group installed and one point-to-point link.
fn group_node(m: &Member, hop_limit: u8) -> Result<MeshNode, String> {
    let config = NodeConfig {
        hop_limit,
        ..NodeConfig::default()
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(m.own_index));
    let identity = Identity::from_seeds(&[0x4c; 32], &[0x4d; 32]);
    let mut node = MeshNode::new(identity, config, 1, &mut rng).map_err(|e| e.to_string())?;
    let link = LinkConfig {
        mtu: 4096,
        cost: 1,
        budget: AirtimeBudget::two_percent(50_000),
        // Point-to-point: the originator names no hop id (on a shared link
        // it would name itself, spec/10 §13.5).
        shared: false,
    };
    node.add_link(LINK, link, 0).map_err(|e| e.to_string())?;
    node.join_group(GROUP, &keys(m)?, 0)
        .map_err(|e| e.to_string())?;
    Ok(node)
}

/// What `node` reports for `datagram` at `now`.
fn carriage_step(node: &mut MeshNode, now: u64, datagram: &HexBytes) -> CarriageStep {
    node.handle_datagram(LINK, Bytes::from(datagram.0.clone()), now);
    let mut step = CarriageStep {
        now,
        datagram: datagram.clone(),
        delivered: None,
        expected_error: Some("not_for_group".to_owned()),
    };
    while let Some(event) = node.poll_event() {
        match event {
            Event::GroupReceived {
                sender,
                epoch,
                payload,
                ..
            } => {
                step.delivered = Some(Delivered {
                    sender,
                    epoch,
                    content: HexBytes(payload.to_vec()),
                });
                step.expected_error = None;
            }
            Event::Rejected { class, .. } => step.expected_error = Some(class.to_owned()),
            _ => {}
        }
    }
    step
}

/// The node's first GroupLite datagram, its message id replaced by
/// `message_id` (the node draws it at random).
fn carried(m: &Member, hop_limit: u8, message_id: u32, content: &[u8]) -> Result<Vec<u8>, String> {
    let mut node = group_node(m, hop_limit)?;
    node.export_state().map_err(|e| e.to_string())?;
    node.send_group(&GROUP, content, 0)
        .map_err(|e| e.to_string())?;
    let mut datagram = node.poll_transmit().ok_or("the node floods nothing")?.bytes;
    datagram[18..22].copy_from_slice(&message_id.to_be_bytes());
    Ok(datagram)
}

impl Vector for MlsLiteVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            MlsLiteCase::Derive {
                secret: s,
                sender: index,
                destination,
                key,
                nonce,
            } => {
                let member = Member {
                    epoch: 0,
                    secret: s.clone(),
                    own_index: *index,
                    members: *index + 1,
                };
                let mut g = sender(&member, 0)?;
                expect_eq(
                    "destination",
                    &g.destination().as_bytes()[..],
                    &destination.0[..],
                )?;
                // The key and nonce are private: check them through a
                // message only they open.
                let message = g.seal(b"").map_err(|e| e.to_string())?;
                let header = LiteHeader {
                    epoch_id: 0,
                    sender: *index,
                    counter: 0,
                };
                let mut empty = Vec::new();
                ChaCha20Poly1305::new(key.0[..].into())
                    .decrypt_in_place_detached(
                        Nonce::from_slice(&nonce.0),
                        &header.to_bytes(),
                        &mut empty,
                        message[7..].into(),
                    )
                    .map_err(|_| "the key and nonce do not open qpc's message".to_owned())
            }
            MlsLiteCase::Seal {
                member,
                counter,
                content,
                message,
            } => expect_eq(
                "message",
                sender(member, *counter)?
                    .seal(&content.0)
                    .map_err(|e| e.to_string())?,
                message.0.clone(),
            ),
            MlsLiteCase::Carry {
                member,
                hop_limit,
                message_id,
                content,
                datagram,
            } => expect_eq(
                "datagram",
                carried(member, *hop_limit, *message_id, &content.0)?,
                datagram.0.clone(),
            ),
            MlsLiteCase::CarriageReceive { receiver, steps } => {
                let mut node = group_node(receiver, 7)?;
                for (i, step) in steps.iter().enumerate() {
                    let got = carriage_step(&mut node, step.now, &step.datagram);
                    expect_eq(&format!("step {i}"), &got, step)?;
                }
                Ok(())
            }
            MlsLiteCase::Receive {
                receiver,
                grace_ms,
                steps,
            } => {
                let mut g = GroupLite::new(
                    receiver.epoch,
                    &secret(receiver)?,
                    receiver.own_index,
                    receiver.members,
                    0,
                    *grace_ms,
                )
                .map_err(|e| e.to_string())?;
                for (i, step) in steps.iter().enumerate() {
                    expect_eq(&format!("step {i}"), &run(&mut g, step)?, step)?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

fn vector(name: &str, description: &str, case: MlsLiteCase) -> MlsLiteVector {
    MlsLiteVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

fn member(epoch: u64, own_index: u16) -> Member {
    Member {
        epoch,
        secret: HexBytes(vec![epoch as u8 ^ 0x3c; 32]),
        own_index,
        members: 3,
    }
}

fn sealed(m: &Member, counter: u32, content: &[u8]) -> Vec<u8> {
    sender(m, counter).unwrap().seal(content).unwrap()
}

/// Derivation checks need the key and nonce from outside the crate:
/// HKDF-Expand as §B.2 states it.
fn expand(secret: &[u8], label: &[u8], index: u16, len: usize) -> Vec<u8> {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::from_prk(secret).expect("32-byte PRK");
    let mut out = vec![0; len];
    hkdf.expand_multi_info(&[label, &index.to_be_bytes()], &mut out)
        .expect("short output");
    out
}

fn derives() -> Vec<MlsLiteVector> {
    [(0x3c, 0u16), (0x3c, 2), (0x00, 1023)]
        .into_iter()
        .map(|(byte, index)| {
            let s = vec![byte; 32];
            let m = Member {
                epoch: 0,
                secret: HexBytes(s.clone()),
                own_index: index,
                members: index + 1,
            };
            let destination = sender(&m, 0).unwrap().destination().as_bytes().to_vec();
            vector(
                &format!("derive-{byte:02x}-sender-{index}"),
                "destination, key and nonce base of a sender",
                MlsLiteCase::Derive {
                    secret: HexBytes(s.clone()),
                    sender: index,
                    destination: HexBytes(destination),
                    key: HexBytes(expand(&s, b"qpc mls-lite key v1", index, 32)),
                    nonce: HexBytes(expand(&s, b"qpc mls-lite nonce v1", index, 12)),
                },
            )
        })
        .collect()
}

fn seals() -> Vec<MlsLiteVector> {
    [
        ("seal-4-bytes", member(7, 0), 0, b"ping".to_vec()),
        ("seal-100-bytes", member(7, 2), 41, vec![b'a'; 100]),
        ("seal-empty", member(300, 1), 0xffff_fffe, Vec::new()),
    ]
    .into_iter()
    .map(|(name, m, counter, content)| {
        let message = sealed(&m, counter, &content);
        vector(
            name,
            "a message: 7 header bytes, ciphertext, 16-byte tag",
            MlsLiteCase::Seal {
                member: m,
                counter,
                content: HexBytes(content),
                message: HexBytes(message),
            },
        )
    })
    .collect()
}

fn receive() -> MlsLiteVector {
    let (alice, carol, bob) = (member(7, 0), member(7, 2), member(7, 1));
    let open = |now: u64, message: Vec<u8>| Step::Open {
        now,
        message: HexBytes(message),
        opened: None,
        expected_error: None,
    };
    let a0 = sealed(&alice, 0, b"hello");
    let a1 = sealed(&alice, 1, b"one");
    let a2 = sealed(&alice, 2, b"two");
    let with = |m: &[u8], at: usize, x: u8| {
        let mut m = m.to_vec();
        m[at] ^= x;
        m
    };
    let next = member(8, 1);
    let inputs = vec![
        open(0, a0.clone()),
        open(0, a0.clone()),
        open(0, sealed(&carol, 5, b"carol")),
        open(0, with(&a2, a2.len() - 1, 0x01)),
        open(0, with(&a2, 6, 0x01)),
        open(0, with(&a2, 0, 0x01)),
        open(0, with(&a2, 2, 0x04)),
        open(0, sealed(&bob, 0, b"own echo")),
        open(0, a2[..22].to_vec()),
        open(0, vec![0; 23 + 1025]),
        open(0, sealed(&alice, 100, b"far ahead")),
        open(0, a1),
        open(0, sealed(&alice, 40, b"inside the window")),
        Step::Advance {
            now: 1000,
            member: next.clone(),
        },
        open(1499, sealed(&alice, 90, b"in flight")),
        open(1500, sealed(&alice, 3, b"after the grace period")),
        open(1500, sealed(&member(8, 0), 0, b"epoch 8")),
        open(1500, sealed(&member(9, 0), 0, b"epoch 9")),
    ];
    let mut g = GroupLite::new(7, &secret(&bob).unwrap(), 1, 3, 0, 500).unwrap();
    let steps = inputs.iter().map(|s| run(&mut g, s).unwrap()).collect();
    vector(
        "receive-transcript",
        "bob (index 1 of 3) receives: replay, tampering, foreign epoch, unknown member, own echo, lengths, a counter below the window, a new epoch with a 500 ms grace period",
        MlsLiteCase::Receive {
            receiver: bob,
            grace_ms: 500,
            steps,
        },
    )
}

/// A GroupLite datagram as an originator (hop count 0) or a relay (hop
/// count 1, naming itself) sends it.
fn envelope(destination: [u8; 16], message_id: u32, relayed: bool, body: Vec<u8>) -> HexBytes {
    let header = Header {
        message_type: MessageType::GroupLite,
        hop_count: u8::from(relayed),
        hop_limit: 7,
        destination: qpc_crypto::identity::Address::from_bytes(destination),
        message_id,
        hop_id: relayed.then_some(HopId([0x7e; 8])),
    };
    HexBytes(
        Envelope {
            header,
            body: Bytes::from(body),
        }
        .to_bytes()
        .unwrap(),
    )
}

fn carriage() -> Vec<MlsLiteVector> {
    let carry = [
        ("carry-4-bytes", member(7, 0), 7, 0x0b0b_0001, b"ping".to_vec()),
        ("carry-100-bytes", member(9, 2), 3, 0xdead_beef, vec![b'a'; 100]),
    ]
    .into_iter()
    .map(|(name, m, hop_limit, message_id, content)| {
        let datagram = carried(&m, hop_limit, message_id, &content).unwrap();
        vector(
            name,
            "the first GroupLite datagram a node floods: the mesh header (type 0xb, the epoch's destination), then the LiteMessage",
            MlsLiteCase::Carry {
                member: m,
                hop_limit,
                message_id,
                content: HexBytes(content),
                datagram: HexBytes(datagram),
            },
        )
    });
    let (alice, bob) = (member(7, 0), member(7, 1));
    let to = sender(&bob, 0).unwrap().destination().as_bytes().to_owned();
    let a1 = sealed(&alice, 1, b"relayed");
    let mut tampered = sealed(&alice, 2, b"tampered");
    *tampered.last_mut().unwrap() ^= 1;
    let mut foreign_epoch = sealed(&alice, 3, b"epoch 8");
    foreign_epoch[0] = 8;
    let inputs = [
        envelope(to, 1, false, sealed(&alice, 0, b"hello")),
        envelope(to, 2, true, a1.clone()),
        envelope([0x99; 16], 3, false, sealed(&alice, 4, b"elsewhere")),
        envelope(to, 4, false, sealed(&alice, 5, b"short")[..22].to_vec()),
        envelope(to, 5, false, tampered),
        envelope(to, 6, false, sealed(&bob, 0, b"own echo")),
        envelope(to, 7, true, a1),
        envelope(to, 8, false, foreign_epoch),
    ];
    let mut node = group_node(&bob, 7).unwrap();
    let steps = inputs
        .iter()
        .enumerate()
        .map(|(i, d)| carriage_step(&mut node, i as u64, d))
        .collect();
    let receive = vector(
        "carriage-receive",
        "bob's node (index 1 of 3, epoch 7) receives GroupLite datagrams: an original, a relayed copy, another destination (only relayed), a short body, a tampered tag, its own echo, a replay under a new message id, a foreign epoch id",
        MlsLiteCase::CarriageReceive {
            receiver: bob,
            steps,
        },
    );
    carry.chain([receive]).collect()
}

/// The JSON text of `mls_lite.json`.
pub fn generate() -> String {
    let vectors = [derives(), seals(), vec![receive()], carriage()].concat();
    crate::checked_file(PROTOCOL, "spec/12-mls-lite.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_sound_and_covers_the_classes() {
        let file = crate::assert_sound_generation::<MlsLiteVector>(generate);
        let classes: std::collections::BTreeSet<_> = file
            .vectors
            .iter()
            .flat_map(|v| match &v.case {
                MlsLiteCase::Receive { steps, .. } => steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::Open { expected_error, .. } => expected_error.clone(),
                        _ => None,
                    })
                    .collect(),
                MlsLiteCase::CarriageReceive { steps, .. } => steps
                    .iter()
                    .filter_map(|s| s.expected_error.clone())
                    .collect(),
                _ => vec![],
            })
            .collect();
        let want = [
            "content_too_long",
            "not_for_group",
            "open_failed",
            "replayed",
            "too_old",
            "truncated",
            "unknown_member",
            "wrong_epoch",
        ];
        assert_eq!(classes.into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_mutated_vector_fails() {
        let text = generate().replacen("\"counter\": 41", "\"counter\": 42", 1);
        let results = crate::verify_json::<MlsLiteVector>(&text).unwrap();
        assert!(results.iter().any(|r| r.failure.is_some()));
    }
}
