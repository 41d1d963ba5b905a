//! `lora_session.json`: vectors for `spec/12-mls-lite.md` part A — LoRa
//! pairwise sessions:
//!
//! - `establish`: an Init and Response from fixed identities and a seeded
//!   generator, with the key schedule's intermediates (`th0`, `th1`,
//!   `root_0`);
//! - `accept`: an Init the responder must refuse (§A.3 A1–A7);
//! - `transcript`: an establishment, then steps — seal, open (in order,
//!   lost, reordered, replayed, tampered, too far ahead), resume, export and
//!   restore — with the datagram or outcome each must produce;
//! - `node_session`: the same inside two `MeshNode`s (§A.15): every
//!   datagram on their link while one opens a session and sends a message
//!   in it (the `node` submodule).
//!
//! The seeded generator (`rng_seed`, ChaCha20) fixes the randomness the
//! reference draws; an independent implementation needs only the recorded
//! bytes: the ephemeral seed, and the message ids inside the datagrams.

use hkdf::Hkdf;
use qpc_crypto::identity::Identity;
use qpc_crypto::xwing::{XWingCiphertext, XWingSecretKey};
use qpc_mesh::session::{accept, InitRandomness, Initiator, Received, Session};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{expect_eq, expect_error, HexBytes, Vector};

mod node;
pub use node::{NodeSession, WireDatagram};

/// The `protocol` field of `lora_session.json`.
pub const PROTOCOL: &str = "qpc-mesh-lora-session";

/// One vector of `lora_session.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoraSessionVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: LoraSessionCase,
}

/// An identity by its seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Ed25519 seed.
    pub signing_seed: HexBytes,
    /// X-Wing seed.
    pub kem_seed: HexBytes,
    /// The address (`spec/02` §4).
    pub address: HexBytes,
}

/// A session establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    /// Seed of the reference's ChaCha20 generator (for qpc only).
    pub rng_seed: u64,
    /// The initiator.
    pub initiator: Party,
    /// The responder.
    pub responder: Party,
    /// The initiator's ephemeral X-Wing seed.
    pub ephemeral_seed: HexBytes,
    /// The initiator's receive tag.
    pub initiator_tag: u16,
    /// The responder's receive tag.
    pub responder_tag: u16,
    /// The hop limit of both messages.
    pub hop_limit: u8,
    /// The Init datagram.
    pub init: HexBytes,
    /// The Response datagram.
    pub response: HexBytes,
    /// `th0` (§A.3).
    pub th0: HexBytes,
    /// `th1` (§A.3).
    pub th1: HexBytes,
    /// `root_0` (§A.3).
    pub root_0: HexBytes,
}

/// Which party acts in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The initiator.
    Initiator,
    /// The responder.
    Responder,
}

/// What an `open` step received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Got {
    /// Data content.
    Content {
        /// The sender's counter.
        counter: u32,
        /// The content.
        content: HexBytes,
    },
    /// The peer stepped to `epoch`, and so did the receiver.
    Resumed {
        /// The new epoch.
        epoch: u16,
    },
    /// The peer confirmed `epoch`.
    ResumeConfirmed {
        /// The epoch.
        epoch: u16,
    },
}

/// One step of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// `party` seals `content`.
    Seal {
        /// Who.
        party: Side,
        /// The content.
        content: HexBytes,
        /// The hop limit.
        hop_limit: u8,
        /// The datagram (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datagram: Option<HexBytes>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// `party` opens `datagram`.
    Open {
        /// Who.
        party: Side,
        /// The datagram.
        datagram: HexBytes,
        /// The outcome (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        received: Option<Got>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// `party` steps to the next epoch and sends a Resume.
    Resume {
        /// Who.
        party: Side,
        /// The hop limit.
        hop_limit: u8,
        /// The Resume datagram.
        datagram: HexBytes,
    },
    /// `party` sends a Resume for its current epoch (an answer).
    ResumeAnswer {
        /// Who.
        party: Side,
        /// The hop limit.
        hop_limit: u8,
        /// The Resume datagram.
        datagram: HexBytes,
    },
    /// `party` exports (reserving 16 send counters) and persists.
    Export {
        /// Who.
        party: Side,
    },
    /// `party` restarts from its last export.
    Restore {
        /// Who.
        party: Side,
    },
}

/// The kinds of vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoraSessionCase {
    /// An establishment.
    Establish(Establishment),
    /// An Init the responder refuses.
    Accept {
        /// The responder.
        responder: Party,
        /// The Init datagram.
        init: HexBytes,
        /// The error class.
        expected_error: String,
    },
    /// An establishment, then steps.
    Transcript {
        /// The establishment.
        establishment: Establishment,
        /// The steps, in order.
        steps: Vec<Step>,
    },
    /// Two nodes, a session and a message: the datagrams on their link.
    NodeSession(NodeSession),
}

fn seed32(b: &HexBytes) -> Result<[u8; 32], String> {
    b.0[..].try_into().map_err(|_| "a 32-byte seed".to_owned())
}

fn identity(p: &Party) -> Result<Identity, String> {
    Ok(Identity::from_seeds(
        &seed32(&p.signing_seed)?,
        &seed32(&p.kem_seed)?,
    ))
}

fn party(signing_seed: [u8; 32], kem_seed: [u8; 32]) -> Party {
    let id = Identity::from_seeds(&signing_seed, &kem_seed);
    Party {
        signing_seed: HexBytes(signing_seed.to_vec()),
        kem_seed: HexBytes(kem_seed.to_vec()),
        address: HexBytes(id.public().address().as_bytes().to_vec()),
    }
}

/// `th0`, `th1` and `root_0` of §A.3, recomputed from the datagrams and
/// the two secret keys.
fn intermediates(
    responder: &Identity,
    ephemeral_seed: &[u8; 32],
    init: &[u8],
    response: &[u8],
) -> ([u8; 32], [u8; 32], [u8; 32]) {
    let (pk_e, ct_s, sealed) = (&init[23..23 + 1216], &init[1239..2359], &init[2359..]);
    let ct_e = &response[25..25 + 1120];
    let th0: [u8; 32] = Sha256::new()
        .chain_update(b"qpc lora session v1")
        .chain_update(responder.public().address().as_bytes())
        .chain_update(pk_e)
        .chain_update(ct_s)
        .finalize()
        .into();
    let th1: [u8; 32] = Sha256::new()
        .chain_update(th0)
        .chain_update(sealed)
        .chain_update(ct_e)
        .finalize()
        .into();
    let decap = |sk: &XWingSecretKey, ct: &[u8]| {
        *sk.decapsulate(&XWingCiphertext::from_bytes(ct).expect("1120 bytes"))
            .expect("decapsulates")
            .as_bytes()
    };
    let ss_s = decap(responder.kem_secret(), ct_s);
    let ss_e = decap(&XWingSecretKey::from_seed(ephemeral_seed), ct_e);
    let ikm = Zeroizing::new([ss_s, ss_e].concat());
    let mut root = [0; 32];
    Hkdf::<Sha256>::new(Some(&th1), &ikm)
        .expand(b"qpc lora session root v1", &mut root)
        .expect("32 bytes");
    (th0, th1, root)
}

/// The two sessions of an establishment and the generator after it.
struct Established {
    establishment: Establishment,
    initiator: Session,
    responder: Session,
    rng: ChaCha20Rng,
}

fn establish(
    rng_seed: u64,
    initiator: Party,
    responder: Party,
    tags: (u16, u16),
    hop_limit: u8,
) -> Result<Established, String> {
    let (a, b) = (identity(&initiator)?, identity(&responder)?);
    let mut rng = ChaCha20Rng::seed_from_u64(rng_seed);
    let randomness = InitRandomness::draw(&mut rng);
    let init = Initiator::start_with(&a, b.public(), tags.0, hop_limit, &randomness)
        .map_err(|e| e.to_string())?;
    let accepted =
        accept(&mut rng, &b, init.datagram(), tags.1, hop_limit).map_err(|e| e.to_string())?;
    let session = init.finish(&accepted.datagram).map_err(|e| e.to_string())?;
    let (th0, th1, root) = intermediates(
        &b,
        &randomness.ephemeral_seed,
        init.datagram(),
        &accepted.datagram,
    );
    Ok(Established {
        establishment: Establishment {
            rng_seed,
            initiator,
            responder,
            ephemeral_seed: HexBytes(randomness.ephemeral_seed.to_vec()),
            initiator_tag: tags.0,
            responder_tag: tags.1,
            hop_limit,
            init: HexBytes(init.datagram().to_vec()),
            response: HexBytes(accepted.datagram.clone()),
            th0: HexBytes(th0.to_vec()),
            th1: HexBytes(th1.to_vec()),
            root_0: HexBytes(root.to_vec()),
        },
        initiator: session,
        responder: accepted.session,
        rng,
    })
}

fn reestablish(e: &Establishment) -> Result<Established, String> {
    let got = establish(
        e.rng_seed,
        e.initiator.clone(),
        e.responder.clone(),
        (e.initiator_tag, e.responder_tag),
        e.hop_limit,
    )?;
    expect_eq("establishment", &got.establishment, e)?;
    Ok(got)
}

/// Runs transcripts: the two sessions, their last exports, the generator.
struct Runner {
    sessions: [Session; 2],
    saved: [Zeroizing<Vec<u8>>; 2],
    rng: ChaCha20Rng,
}

fn index(side: Side) -> usize {
    match side {
        Side::Initiator => 0,
        Side::Responder => 1,
    }
}

impl Runner {
    fn new(e: Established) -> Self {
        Runner {
            sessions: [e.initiator, e.responder],
            saved: [Zeroizing::new(Vec::new()), Zeroizing::new(Vec::new())],
            rng: e.rng,
        }
    }

    /// Runs `step` (its inputs), returning it with the outputs filled in.
    fn run(&mut self, step: &Step) -> Result<Step, String> {
        let err = |e: qpc_mesh::Error| e.to_string();
        Ok(match step {
            Step::Seal {
                party,
                content,
                hop_limit,
                ..
            } => {
                let got = self.sessions[index(*party)].seal(&content.0, *hop_limit);
                Step::Seal {
                    party: *party,
                    content: content.clone(),
                    hop_limit: *hop_limit,
                    datagram: got.as_ref().ok().map(|d| HexBytes(d.clone())),
                    expected_error: got.err().map(|e| e.class().to_owned()),
                }
            }
            Step::Open {
                party, datagram, ..
            } => {
                let got = self.sessions[index(*party)].open(&datagram.0);
                let received = got.as_ref().ok().map(|r| match r {
                    Received::Content { counter, content } => Got::Content {
                        counter: *counter,
                        content: HexBytes(content.to_vec()),
                    },
                    Received::Resumed { epoch } => Got::Resumed { epoch: *epoch },
                    Received::ResumeConfirmed { epoch } => Got::ResumeConfirmed { epoch: *epoch },
                });
                Step::Open {
                    party: *party,
                    datagram: datagram.clone(),
                    received,
                    expected_error: got.err().map(|e| e.class().to_owned()),
                }
            }
            Step::Resume {
                party, hop_limit, ..
            } => Step::Resume {
                party: *party,
                hop_limit: *hop_limit,
                datagram: HexBytes(
                    self.sessions[index(*party)]
                        .resume(&mut self.rng, *hop_limit)
                        .map_err(err)?,
                ),
            },
            Step::ResumeAnswer {
                party, hop_limit, ..
            } => Step::ResumeAnswer {
                party: *party,
                hop_limit: *hop_limit,
                datagram: HexBytes(
                    self.sessions[index(*party)]
                        .resume_answer(&mut self.rng, *hop_limit)
                        .map_err(err)?,
                ),
            },
            Step::Export { party } => {
                self.saved[index(*party)] = self.sessions[index(*party)].export();
                step.clone()
            }
            Step::Restore { party } => {
                self.sessions[index(*party)] =
                    Session::restore(&self.saved[index(*party)]).map_err(err)?;
                step.clone()
            }
        })
    }
}

impl Vector for LoraSessionVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            LoraSessionCase::Establish(e) => reestablish(e).map(|_| ()),
            LoraSessionCase::NodeSession(v) => node::check(v),
            LoraSessionCase::Accept {
                responder,
                init,
                expected_error,
            } => {
                let mut rng = ChaCha20Rng::seed_from_u64(0);
                let got =
                    accept(&mut rng, &identity(responder)?, &init.0, 1, 7).map(|a| a.datagram);
                expect_error(expected_error, got)
            }
            LoraSessionCase::Transcript {
                establishment,
                steps,
            } => {
                let mut runner = Runner::new(reestablish(establishment)?);
                for (i, step) in steps.iter().enumerate() {
                    expect_eq(&format!("step {i}"), &runner.run(step)?, step)?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

fn vector(name: &str, description: &str, case: LoraSessionCase) -> LoraSessionVector {
    LoraSessionVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

fn alice() -> Party {
    party([0xa1; 32], [0xa2; 32])
}

fn bob() -> Party {
    party([0xb1; 32], [0xb2; 32])
}

/// Steps a transcript builder: runs each input step and records it.
struct Script {
    runner: Runner,
    steps: Vec<Step>,
}

impl Script {
    fn run(&mut self, step: Step) -> Step {
        let done = self.runner.run(&step).expect("generated steps run");
        self.steps.push(done.clone());
        done
    }

    fn export(&mut self, party: Side) {
        self.run(Step::Export { party });
    }

    fn restore(&mut self, party: Side) {
        self.run(Step::Restore { party });
    }

    fn seal(&mut self, party: Side, content: &[u8]) -> Vec<u8> {
        let step = self.run(Step::Seal {
            party,
            content: HexBytes(content.to_vec()),
            hop_limit: 7,
            datagram: None,
            expected_error: None,
        });
        match step {
            Step::Seal { datagram, .. } => datagram.map(|d| d.0).unwrap_or_default(),
            _ => unreachable!(),
        }
    }

    fn open(&mut self, party: Side, datagram: &[u8]) {
        self.run(Step::Open {
            party,
            datagram: HexBytes(datagram.to_vec()),
            received: None,
            expected_error: None,
        });
    }

    fn resume(&mut self, party: Side, answer: bool) -> Vec<u8> {
        let (hop_limit, datagram) = (7, HexBytes(Vec::new()));
        let step = match answer {
            false => Step::Resume {
                party,
                hop_limit,
                datagram,
            },
            true => Step::ResumeAnswer {
                party,
                hop_limit,
                datagram,
            },
        };
        match self.run(step) {
            Step::Resume { datagram, .. } | Step::ResumeAnswer { datagram, .. } => datagram.0,
            _ => unreachable!(),
        }
    }
}

fn flipped(d: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut d = d.to_vec();
    d[at] ^= mask;
    d
}

/// A transcript: the establishment, then the steps `script` runs.
fn transcript(established: Established, script: impl FnOnce(&mut Script)) -> LoraSessionCase {
    let establishment = established.establishment.clone();
    let mut s = Script {
        runner: Runner::new(established),
        steps: Vec::new(),
    };
    script(&mut s);
    LoraSessionCase::Transcript {
        establishment,
        steps: s.steps,
    }
}

fn ratchet_steps(s: &mut Script) {
    use Side::{Initiator as A, Responder as B};
    s.seal(A, b"no reservation yet");
    s.export(A);
    s.export(B);
    let first = s.seal(A, b"ping");
    s.open(B, &first);
    let reply = s.seal(B, b"pong");
    s.open(A, &reply);
    s.open(B, &first);
    let sent: Vec<_> = (0..4u8).map(|i| s.seal(A, &[b'm', b'0' + i])).collect();
    s.open(B, &sent[2]);
    s.open(B, &sent[0]);
    s.open(B, &flipped(&sent[3], sent[3].len() - 1, 0x01));
    s.open(B, &flipped(&sent[3], 1, 0x01));
    s.open(B, &flipped(&sent[3], 23, 0x01));
    s.open(B, &sent[3][..22 + 10]);
    let relayed = [
        &[sent[3][0] | 0x10, sent[3][1] + 0x10],
        &sent[3][2..22],
        &[0xee; 8],
        &sent[3][22..],
    ]
    .concat();
    s.open(B, &relayed);
    s.open(B, &flipped(&sent[3], 22, 0x04));
    s.open(A, &sent[1]);
    // 70 more, none delivered: the next is beyond the skip window.
    for _ in 0..5 {
        s.export(A);
        for _ in 0..14 {
            s.seal(A, b"lost");
        }
    }
    s.export(A);
    let far = s.seal(A, b"far");
    s.open(B, &far);
    s.open(B, &sent[1]);
}

fn recovery_steps(s: &mut Script) {
    use Side::{Initiator as A, Responder as B};
    s.export(A);
    s.export(B);
    let before = s.seal(A, b"before crash");
    s.open(B, &before);
    // The initiator crashes and restarts from its export: no counter reused.
    s.restore(A);
    s.seal(A, b"refused");
    s.export(A);
    let after = s.seal(A, b"after restart");
    s.open(B, &after);
    // The responder resumes; the initiator follows and answers.
    let resume = s.resume(B, false);
    s.open(A, &resume);
    let answer = s.resume(A, true);
    s.open(B, &flipped(&answer, answer.len() - 1, 0x01));
    s.open(B, &answer);
    s.open(A, &resume);
    s.open(B, &[&answer[..], &[0]].concat());
    s.export(A);
    s.export(B);
    let epoch1 = s.seal(A, b"epoch 1");
    s.open(B, &epoch1);
    s.open(B, &after);
    // A lost Resume: the first Data of the new epoch steps the peer.
    let _lost = s.resume(A, false);
    s.export(A);
    let epoch2 = s.seal(A, b"epoch 2");
    s.open(B, &epoch2);
    s.open(B, &answer);
}

fn accepts(e: &Establishment) -> Vec<LoraSessionVector> {
    let init = &e.init.0;
    let carol = party([0xc1; 32], [0xc2; 32]);
    let mut bad_key = init.clone();
    bad_key[23] = 0xff;
    bad_key[24] = 0xff;
    let negatives = [
        (
            "accept-flipped-identity",
            "the sealed identity's last bit flipped (A4)",
            e.responder.clone(),
            flipped(init, init.len() - 1, 0x01),
            "open_failed",
        ),
        (
            "accept-flipped-encapsulation",
            "a bit of the ML-KEM ciphertext flipped: implicit rejection, then A4",
            e.responder.clone(),
            flipped(init, 23 + 1216 + 5, 0x01),
            "open_failed",
        ),
        (
            "accept-altered-hop-limit",
            "the hop limit changed (associated data, A4)",
            e.responder.clone(),
            flipped(init, 1, 0x01),
            "open_failed",
        ),
        (
            "accept-other-responder",
            "an Init for bob given to carol (A1)",
            carol,
            init.clone(),
            "malformed",
        ),
        (
            "accept-bad-ephemeral-key",
            "an ML-KEM coefficient of the ephemeral key above q (A2)",
            e.responder.clone(),
            bad_key,
            "invalid_public_key",
        ),
        (
            "accept-truncated",
            "one byte short (S3)",
            e.responder.clone(),
            init[..init.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "accept-trailing",
            "one byte too many (S3)",
            e.responder.clone(),
            [&init[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "accept-unknown-kind",
            "kind 5 (S2)",
            e.responder.clone(),
            flipped(init, 22, 0x04),
            "malformed",
        ),
        (
            "accept-response",
            "a Response given to the responder (A1)",
            e.responder.clone(),
            {
                let mut r = e.response.0.clone();
                r[2..18].copy_from_slice(&e.responder.address.0);
                r
            },
            "wrong_state",
        ),
    ];
    negatives
        .into_iter()
        .map(|(name, description, responder, init, class)| {
            vector(
                name,
                description,
                LoraSessionCase::Accept {
                    responder,
                    init: HexBytes(init),
                    expected_error: class.to_owned(),
                },
            )
        })
        .collect()
}

/// The JSON text of `lora_session.json`.
pub fn generate() -> String {
    let make = |seed| establish(seed, alice(), bob(), (0xa11c, 0xb0b0), 7).expect("establishes");
    let first = make(1);
    let mut out = vec![vector(
        "establish",
        "alice establishes a session with bob: Init 2505 bytes, Response 1163 bytes",
        LoraSessionCase::Establish(first.establishment.clone()),
    )];
    out.extend(accepts(&first.establishment));
    out.push(vector(
        "transcript-ratchet",
        "a reservation first, both directions, loss, reordering, replay, tampering, a relayed copy, and a counter beyond the window",
        transcript(make(2), ratchet_steps),
    ));
    out.push(vector(
        "transcript-recovery",
        "a restart from an export, a resumption with its answer, and a lost Resume caught up by Data",
        transcript(make(3), recovery_steps),
    ));
    let seeds = [HexBytes(vec![0x0a; 32]), HexBytes(vec![0x0b; 32])];
    let session = node::run(alice(), bob(), seeds, 7, HexBytes(b"hello".to_vec()))
        .expect("the nodes establish and deliver");
    out.push(vector(
        "node-session",
        "two MeshNodes on a point-to-point link: alice opens a session with bob and sends \"hello\" in it; Init, Response, Data and Receipt, each HopAcked",
        LoraSessionCase::NodeSession(session),
    ));
    crate::checked_file(PROTOCOL, "spec/12-mls-lite.md", out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(file: &crate::VectorFile<LoraSessionVector>) -> std::collections::BTreeSet<String> {
        file.vectors
            .iter()
            .flat_map(|v| match &v.case {
                LoraSessionCase::Accept { expected_error, .. } => vec![expected_error.clone()],
                LoraSessionCase::Transcript { steps, .. } => steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::Seal { expected_error, .. } | Step::Open { expected_error, .. } => {
                            expected_error.clone()
                        }
                        _ => None,
                    })
                    .collect(),
                _ => vec![],
            })
            .collect()
    }

    #[test]
    fn generation_is_sound_and_covers_the_classes() {
        let file = crate::assert_sound_generation::<LoraSessionVector>(generate);
        let want = [
            "invalid_public_key",
            "malformed",
            "open_failed",
            "replayed",
            "too_far_ahead",
            "too_old",
            "trailing_bytes",
            "truncated",
            "unknown_session",
            "wrong_state",
        ];
        assert_eq!(classes(&file).into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn a_mutated_vector_fails() {
        let text = generate().replacen("\"counter\": 0", "\"counter\": 1", 1);
        let results = crate::verify_json::<LoraSessionVector>(&text).unwrap();
        assert!(results.iter().any(|r| r.failure.is_some()));
    }
}
