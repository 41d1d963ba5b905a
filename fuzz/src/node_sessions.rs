//! The session peers of the `mesh_node` target (`spec/12-mls-lite.md`
//! part A inside a node, `spec/10-mesh.md` §12.7): identity 1 opens a
//! session with the node, identity 2 answers the node's own Init; both
//! seal Data for the node, and every Data the node seals for them must
//! open under one of their sessions. They resume sessions, and answer the
//! node's Resumes (§A.6). Members 1 and 2 of the node's MLS-Lite group
//! ([`GROUP_SECRET`], `spec/12` part B) seal GroupLite messages for it, and
//! every GroupLite message the node originates must open at member 1.

use std::collections::BTreeSet;

use bytes::Bytes;
use qpc_mesh::envelope::{Envelope, Header, HopId, MessageType};
use qpc_mesh::group_lite::GroupLite;
use qpc_mesh::node::GroupKeys;
use qpc_mesh::session::{accept, InitRandomness, Initiator, Received, Session, SessionMessage};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::mesh::mesh_identities;

/// Identity 1's receive tag.
const OPENER_TAG: u16 = 0x0101;
/// Identity 2's receive tag.
const ANSWERER_TAG: u16 = 0x0202;
const HOP_LIMIT: u8 = 7;
/// The epoch secret of the node's MLS-Lite group.
pub(crate) const GROUP_SECRET: [u8; 32] = [0x6c; 32];
/// The group's epoch and member count; the node is member 0.
const GROUP_EPOCH: u64 = 5;
const GROUP_MEMBERS: u16 = 3;

/// The node's keys of the fixture group.
pub(crate) fn node_group_keys() -> GroupKeys {
    GroupKeys::from_secret(GROUP_EPOCH, &GROUP_SECRET, 0, GROUP_MEMBERS)
}

fn member(index: u16) -> GroupLite {
    GroupLite::new(GROUP_EPOCH, &GROUP_SECRET, index, GROUP_MEMBERS, 0, 0).expect("valid member")
}

/// The two peers of the node's sessions.
pub(crate) struct SessionPeers {
    rng: ChaCha20Rng,
    /// Identity 1 waiting for the node's Response.
    opener: Initiator,
    /// Identity 2's Response to the node's Init, once it saw one.
    response: Option<Vec<u8>>,
    /// Every session a peer established (index 0: identity 1, 1: 2).
    sessions: [Vec<Session>; 2],
    /// Data and GroupLite bodies the node sent that opened (its repeats
    /// may not).
    opened: BTreeSet<[u8; 32]>,
    /// The answers the peers owe to Resumes of the node.
    answers: Vec<Vec<u8>>,
    /// Group members 1 and 2 (index 0 and 1 here).
    members: [GroupLite; 2],
}

impl SessionPeers {
    pub(crate) fn new() -> Self {
        let mut rng = ChaCha20Rng::from_seed([0x5e; 32]);
        let ids = mesh_identities();
        let randomness = InitRandomness::draw(&mut rng);
        let opener =
            Initiator::start_with(&ids[1], ids[0].public(), OPENER_TAG, HOP_LIMIT, &randomness)
                .expect("a genuine Init");
        SessionPeers {
            rng,
            opener,
            response: None,
            sessions: [Vec::new(), Vec::new()],
            opened: BTreeSet::new(),
            answers: Vec::new(),
            members: [member(1), member(2)],
        }
    }

    /// The address of the peer `spec` bit 0 picks (identity 1 or 2).
    pub(crate) fn peer(spec: u8) -> qpc_crypto::identity::Address {
        mesh_identities()[1 + usize::from(spec & 1)]
            .public()
            .address()
    }

    /// A genuine GroupLite or Resume datagram from `spec`, then mutated
    /// like [`SessionPeers::message`]: `spec[0]` bit 0 picks a Resume (an
    /// answer the peers owe the node, else a fresh Resume of the latest
    /// session of the peer `spec[1]` bit 0 picks, kept beside the session
    /// it stepped from), else a GroupLite message of member `1 + spec[1]
    /// bit 0` with `spec[2]` content bytes of `spec[1]`, hop count and
    /// limit from `spec[1] >> 4` (`spec[1]` bit 1: with a hop id); then
    /// pairs (position, xor) from `spec[3..]`.
    pub(crate) fn lite_message(&mut self, spec: &[u8]) -> Option<Vec<u8>> {
        let head = spec.get(..3)?;
        let mut bytes = if head[0] & 1 == 1 {
            match self.answers.pop() {
                Some(answer) => answer,
                None => {
                    let sessions = &mut self.sessions[usize::from(head[1] & 1)];
                    let latest = sessions.last_mut()?;
                    let mut stepped = Session::restore(&latest.export()).ok()?;
                    let resume = stepped.resume(&mut self.rng, HOP_LIMIT).ok()?;
                    sessions.push(stepped);
                    resume
                }
            }
        } else {
            let member = &mut self.members[usize::from(head[1] & 1)];
            member.reserve();
            let content = vec![head[1]; usize::from(head[2])];
            let hops = head[1] >> 4;
            let header = Header {
                message_type: MessageType::GroupLite,
                hop_count: hops / 2,
                hop_limit: hops,
                destination: member.destination(),
                message_id: u32::from_be_bytes([head[0], head[1], head[2], 0x1b]),
                hop_id: (head[1] & 2 != 0).then_some(HopId([0xa5; 8])),
            };
            Envelope {
                header,
                body: Bytes::from(member.seal(&content).ok()?),
            }
            .to_bytes()
            .ok()?
        };
        for pair in spec[3..].chunks_exact(2) {
            let at = usize::from(pair[0]) % bytes.len();
            bytes[at] ^= pair[1];
        }
        Some(bytes)
    }

    /// A genuine Session datagram for the node from `spec`, then mutated
    /// like [`crate::mesh::genuine_message`]: `spec[0] % 3` picks identity
    /// 1's Init, identity 2's Response (once there is one), or Data of a
    /// peer's latest session (`spec[1]` bit 0 the peer) carrying a
    /// receipt-less mesh content of `spec[2]` bytes of `spec[1]`; then
    /// pairs (position, xor) from `spec[3..]`.
    pub(crate) fn message(&mut self, spec: &[u8]) -> Option<Vec<u8>> {
        let head = spec.get(..3)?;
        let mut bytes = match head[0] % 3 {
            0 => self.opener.datagram().to_vec(),
            1 => self.response.clone()?,
            _ => {
                let session = self.sessions[usize::from(head[1] & 1)].last_mut()?;
                // Flags 0 (no receipt), then the content (spec/10 §12.3).
                let mut plaintext = vec![0u8];
                plaintext.resize(1 + usize::from(head[2]), head[1]);
                let _reserved = session.export();
                session.seal(&plaintext, HOP_LIMIT).ok()?
            }
        };
        for pair in spec[3..].chunks_exact(2) {
            let at = usize::from(pair[0]) % bytes.len();
            bytes[at] ^= pair[1];
        }
        Some(bytes)
    }

    /// A datagram the node originated: a Response to identity 1 completes
    /// its session, an Init to identity 2 is answered, and Data to a peer
    /// must open under one of its sessions unless it repeats one that did.
    pub(crate) fn observe(&mut self, datagram: &[u8]) {
        // Relayed copies (hop count above 0) are not the node's own.
        let Some(envelope) = Envelope::decode(datagram.to_vec().into())
            .ok()
            .filter(|e| e.header.hop_count == 0)
        else {
            return;
        };
        if envelope.header.message_type == MessageType::GroupLite {
            // An originator repeat (§13.6 step 5) is the same bytes again.
            let digest: [u8; 32] = Sha256::digest(&envelope.body).into();
            let opened = self.members[0].open(&envelope.body, 0).is_ok();
            assert!(
                opened || self.opened.contains(&digest),
                "the node sealed a group message member 1 cannot open"
            );
            self.opened.insert(digest);
            return;
        }
        let ids = mesh_identities();
        let Some(peer) = [1, 2]
            .into_iter()
            .find(|&i| envelope.header.destination == ids[i].public().address())
        else {
            return;
        };
        let Ok(message) = SessionMessage::decode(envelope.body.clone()) else {
            return;
        };
        match message {
            SessionMessage::Response(_) if peer == 1 => {
                if let Ok(session) = self.opener.finish(datagram) {
                    self.sessions[0].push(session);
                }
            }
            SessionMessage::Init(_) if peer == 2 => {
                let accepted = accept(&mut self.rng, &ids[2], datagram, ANSWERER_TAG, HOP_LIMIT)
                    .expect("the node's Init is genuine");
                self.response = Some(accepted.datagram);
                self.sessions[1].push(accepted.session);
            }
            SessionMessage::Resume(_) => {
                // The session the Resume names steps (or confirms) and
                // owes the node an answer.
                for session in self.sessions[peer - 1].iter_mut() {
                    if let Ok(Received::Resumed { .. }) = session.open(datagram) {
                        if let Ok(answer) = session.resume_answer(&mut self.rng, HOP_LIMIT) {
                            self.answers.push(answer);
                        }
                    }
                }
            }
            SessionMessage::Data(_) => {
                let digest: [u8; 32] = Sha256::digest(&envelope.body).into();
                let opened = self.sessions[peer - 1]
                    .iter_mut()
                    .any(|s| matches!(s.open(datagram), Ok(Received::Content { .. })));
                assert!(
                    opened || self.opened.contains(&digest),
                    "the node sealed a Data its peer cannot open"
                );
                self.opened.insert(digest);
            }
            _ => {}
        }
    }
}
