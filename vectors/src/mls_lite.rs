//! `mls_lite.json`: vectors for `spec/12-mls-lite.md` part B — MLS-Lite:
//!
//! - `derive`: the destination, a sender's key and nonce base (§B.2);
//! - `seal`: a message with a given sender and counter (§B.3);
//! - `receive`: one member's transcript — messages opened at a time, and
//!   epoch changes — with the outcome each must produce (§B.4, §B.5):
//!   replay, a counter below the window, a foreign epoch, an unknown
//!   member, an own echo, tampering, lengths, the grace period.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use qpc_mesh::group_lite::{GroupLite, LiteHeader};
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

/// The JSON text of `mls_lite.json`.
pub fn generate() -> String {
    let vectors = [derives(), seals(), vec![receive()]].concat();
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
                _ => vec![],
            })
            .collect();
        let want = [
            "content_too_long",
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
