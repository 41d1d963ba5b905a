//! Pairwise sessions inside [`MeshNode`] (`spec/12-mls-lite.md` §A.15,
//! `spec/10-mesh.md` §12.7): establishment with a peer whose identity is
//! known, Session (0xa) messages routed and stored like sealed data, and
//! [`MeshNode::send`] preferring an established session.
//!
//! A node holds at most `max_sessions` sessions, established or being
//! established. Opening or accepting one more pushes out the established
//! session used least recently ([`Event::SessionEvicted`]); when every
//! place is an establishment still waiting, the new one is refused
//! (`full`).
//!
//! [`MeshNode::resume_session`] steps an established session to its next
//! epoch with a 43-byte Resume (§A.6) instead of a new establishment: for
//! a peer that restored an older state (its counters too far behind) or
//! to bound what a stolen state reveals. The node that resumed retries
//! its Resume like an Init and, with no answer, gives the session up
//! ([`Event::SessionFailed`]): the peer no longer holds it, and only a
//! fresh [`MeshNode::open_session`] helps.

use std::collections::BTreeMap;

use bytes::Bytes;
use qpc_crypto::identity::{Address, PublicIdentity};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Event, MeshNode};
use crate::envelope::Envelope;
use crate::receipt::{MeshData, ReceiptKey};
use crate::routing::LinkId;
use crate::session::{accept, Initiator, Received, Session, SessionMessage, MAX_CONTENT_LEN};
use crate::{Error, Result};

/// Establishments sent to one peer before [`Event::SessionFailed`].
pub const MAX_SESSION_ATTEMPTS: u8 = 3;

/// An established session and when it was last used.
#[derive(Debug)]
struct Established {
    session: Session,
    last_used: u64,
    /// Our Resume waiting for the peer's answer (not persisted).
    resuming: Option<Retry>,
    /// The peer moved the session to its current epoch: answer its
    /// repeated Resumes of that epoch (its answer was lost), as only the
    /// end that did not resume does.
    answers_resumes: bool,
}

impl Established {
    fn new(session: Session, last_used: u64) -> Self {
        Established {
            session,
            last_used,
            resuming: None,
            answers_resumes: false,
        }
    }
}

/// When a message of ours waiting for its answer goes again, and how
/// often it went.
#[derive(Debug, Clone, Copy)]
struct Retry {
    at: u64,
    attempts: u8,
}

/// An establishment of ours waiting for its Response.
#[derive(Debug)]
struct Pending {
    initiator: Initiator,
    identity: PublicIdentity,
    retry_at: u64,
    attempts: u8,
}

/// The node's sessions, by peer address.
#[derive(Debug, Default)]
pub(super) struct SessionTable {
    established: BTreeMap<Address, Established>,
    pending: BTreeMap<Address, Pending>,
    next_tag: u16,
}

impl SessionTable {
    /// A table whose receive tags start at `first_tag` (drawn at random:
    /// tags then count up).
    pub(super) fn new(first_tag: u16) -> Self {
        SessionTable {
            next_tag: first_tag,
            ..SessionTable::default()
        }
    }

    fn len(&self) -> usize {
        self.established.len() + self.pending.len()
    }

    /// A receive tag no session of ours uses.
    fn fresh_tag(&mut self) -> u16 {
        loop {
            let tag = self.next_tag;
            self.next_tag = tag.wrapping_add(1);
            let in_use = self
                .established
                .values()
                .any(|e| e.session.receive_tag() == tag)
                || self
                    .pending
                    .values()
                    .any(|p| p.initiator.receive_tag() == tag);
            if !in_use {
                return tag;
            }
        }
    }

    /// When the next establishment or Resume is due for a retry.
    pub(super) fn poll_timeout(&self) -> Option<u64> {
        let resumes = self.established.values().filter_map(|e| e.resuming);
        self.pending
            .values()
            .map(|p| p.retry_at)
            .chain(resumes.map(|r| r.at))
            .min()
    }

    /// The established sessions, for the exported state.
    pub(super) fn export(&mut self) -> Vec<Zeroizing<Vec<u8>>> {
        self.established
            .values_mut()
            .map(|e| e.session.export())
            .collect()
    }

    /// A restored session; `false` if its peer or tag is already taken.
    pub(super) fn restore(&mut self, session: Session) -> bool {
        let tag = session.receive_tag();
        let tag_taken = self
            .established
            .values()
            .any(|e| e.session.receive_tag() == tag);
        if tag_taken || self.established.contains_key(&session.peer()) {
            return false;
        }
        self.established
            .insert(session.peer(), Established::new(session, 0));
        true
    }
}

impl MeshNode {
    /// Starts a session with `peer` (its identity from an announce and
    /// [`MeshNode::request_key`]): an Init (`spec/12` §A.3) routed to it
    /// and stored and forwarded like sealed data. [`Event::SessionEstablished`]
    /// follows the Response; without one after `session_retry_ms` a fresh
    /// Init goes, and after [`MAX_SESSION_ATTEMPTS`] [`Event::SessionFailed`].
    /// Nothing happens if a session with `peer` exists or is being
    /// established. `full` if `max_sessions` establishments are waiting.
    pub fn open_session(&mut self, peer: &PublicIdentity, now: u64) -> Result<()> {
        self.advance(now);
        let address = peer.address();
        if address == self.address() {
            return Err(Error::InvalidConfig("a node has no session with itself"));
        }
        if self.sessions.established.contains_key(&address)
            || self.sessions.pending.contains_key(&address)
        {
            return Ok(());
        }
        self.make_room_for_session()?;
        self.send_init(peer.clone(), 1, now)?;
        self.flush(now);
        Ok(())
    }

    /// Established sessions.
    pub fn sessions(&self) -> usize {
        self.sessions.established.len()
    }

    /// Whether a session with `peer` is established.
    pub fn has_session(&self, peer: &Address) -> bool {
        self.sessions.established.contains_key(peer)
    }

    /// Forgets the session with `peer` (established or being established);
    /// `false` if there was none.
    pub fn close_session(&mut self, peer: &Address) -> bool {
        let established = self.sessions.established.remove(peer).is_some();
        self.sessions.pending.remove(peer).is_some() || established
    }

    /// Steps the session with `peer` to its next epoch and sends the
    /// Resume (`spec/12` §A.6, §A.15): both ends restart their counters at
    /// 0 without a KEM. [`Event::SessionResumed`] follows the peer's
    /// answer; without one after `session_retry_ms` the Resume goes again,
    /// and after [`MAX_SESSION_ATTEMPTS`] the session is dropped with
    /// [`Event::SessionFailed`] (the peer lost it: open a new one). Until
    /// the next [`MeshNode::export_state`] reserves counters of the new
    /// epoch, [`MeshNode::send`] goes sealed. Nothing happens while a
    /// Resume of ours waits; `wrong_state` without an established
    /// session, `nonce_exhausted` after epoch 65535.
    pub fn resume_session(&mut self, peer: &Address, now: u64) -> Result<()> {
        self.advance(now);
        let hop_limit = self.config.hop_limit;
        let entry = self
            .sessions
            .established
            .get_mut(peer)
            .ok_or(Error::WrongState("no established session with this peer"))?;
        if entry.resuming.is_some() {
            return Ok(());
        }
        let datagram = entry.session.resume(&mut self.rng, hop_limit)?;
        entry.resuming = Some(Retry {
            at: now.saturating_add(self.config.session_retry_ms),
            attempts: 1,
        });
        entry.answers_resumes = false;
        entry.last_used = now;
        self.originate_datagram(datagram.into(), now)?;
        self.flush(now);
        Ok(())
    }

    /// Resumes whose answer is late: the Resume again (a fresh message id,
    /// §A.8), or give the session up.
    fn resume_timeout(&mut self, now: u64) {
        let hop_limit = self.config.hop_limit;
        let retry_ms = self.config.session_retry_ms;
        let mut failed = Vec::new();
        let mut resend = Vec::new();
        for (peer, entry) in self.sessions.established.iter_mut() {
            let Some(retry) = entry.resuming.filter(|r| r.at <= now) else {
                continue;
            };
            let again = (retry.attempts < MAX_SESSION_ATTEMPTS)
                .then(|| entry.session.resume_answer(&mut self.rng, hop_limit).ok())
                .flatten();
            match again {
                Some(datagram) => {
                    entry.resuming = Some(Retry {
                        at: now.saturating_add(retry_ms),
                        attempts: retry.attempts + 1,
                    });
                    resend.push(datagram);
                }
                None => failed.push(*peer),
            }
        }
        for peer in failed {
            self.sessions.established.remove(&peer);
            self.push_event(Event::SessionFailed { peer });
        }
        for datagram in resend {
            // A refusal is reported as an event; the next retry tries again.
            let _ = self.originate_datagram(datagram.into(), now);
        }
    }

    /// Frees a place for one more session: pushes out the established
    /// session used least recently if the table is full.
    fn make_room_for_session(&mut self) -> Result<()> {
        if self.sessions.len() < self.config.max_sessions {
            return Ok(());
        }
        let oldest = self
            .sessions
            .established
            .iter()
            .min_by_key(|(_, e)| e.last_used)
            .map(|(peer, _)| *peer)
            .ok_or(Error::Full("sessions being established"))?;
        self.sessions.established.remove(&oldest);
        self.push_event(Event::SessionEvicted { peer: oldest });
        Ok(())
    }

    fn send_init(&mut self, identity: PublicIdentity, attempts: u8, now: u64) -> Result<()> {
        let tag = self.sessions.fresh_tag();
        let initiator = Initiator::start(
            &mut self.rng,
            &self.identity,
            &identity,
            tag,
            self.config.hop_limit,
        )?;
        let datagram = Bytes::copy_from_slice(initiator.datagram());
        self.sessions.pending.insert(
            identity.address(),
            Pending {
                initiator,
                identity,
                retry_at: now.saturating_add(self.config.session_retry_ms),
                attempts,
            },
        );
        self.originate_datagram(datagram, now)
    }

    /// Sends a Session datagram of ours (its header, part of the
    /// associated data, is already made) with store-and-forward (§12.1).
    fn originate_datagram(&mut self, datagram: Bytes, now: u64) -> Result<()> {
        let envelope = Envelope::decode(datagram)?;
        self.dedupe.first_sighting(&envelope.header);
        self.dispatch(envelope, now);
        Ok(())
    }

    /// Establishments whose Response and Resumes whose answer is late: a
    /// fresh one, or give up.
    pub(super) fn session_timeout(&mut self, now: u64) {
        self.resume_timeout(now);
        let due: Vec<Address> = self
            .sessions
            .pending
            .iter()
            .filter(|(_, p)| p.retry_at <= now)
            .map(|(a, _)| *a)
            .collect();
        for peer in due {
            let Some(pending) = self.sessions.pending.remove(&peer) else {
                continue;
            };
            if pending.attempts >= MAX_SESSION_ATTEMPTS
                || self
                    .send_init(pending.identity, pending.attempts + 1, now)
                    .is_err()
            {
                self.push_event(Event::SessionFailed { peer });
            }
        }
    }

    /// Seals `data` in the established session with `recipient` and sends
    /// it; `None` (nothing sent) without a session, for content the
    /// session cannot carry, or once the counters the last exported state
    /// reserved are used up (`spec/12` §A.7): the caller then seals it
    /// with sealed sender.
    pub(super) fn send_in_session(
        &mut self,
        recipient: &Address,
        data: &MeshData,
        now: u64,
    ) -> Option<()> {
        let plaintext = Zeroizing::new(data.to_bytes());
        if plaintext.len() > MAX_CONTENT_LEN {
            return None;
        }
        let hop_limit = self.config.hop_limit;
        let entry = self.sessions.established.get_mut(recipient)?;
        let datagram = entry.session.seal(&plaintext, hop_limit).ok()?;
        entry.last_used = now;
        self.originate_datagram(datagram.into(), now).ok()
    }

    /// A Session message for us (first sighting, its HopAck sent).
    pub(super) fn on_session(&mut self, link: LinkId, envelope: Envelope, now: u64) {
        let outcome = envelope.to_bytes().and_then(|datagram| {
            match SessionMessage::decode(envelope.body.clone())? {
                SessionMessage::Init(_) => self.on_init(&datagram, now),
                SessionMessage::Response(r) => self.on_response(r.initiator_tag, &datagram, now),
                SessionMessage::Data(d) => self.on_session_data(d.tag, &datagram, now),
                SessionMessage::Resume(r) => self.on_session_data(r.tag, &datagram, now),
            }
        });
        if let Err(e) = outcome {
            self.push_event(Event::Rejected {
                link,
                class: e.class(),
            });
        }
    }

    /// An Init: accepted from any peer whose identity proof verifies
    /// (§A.3). It replaces an earlier session with the same peer (the
    /// peer lost it and establishes anew). When both sides open at once,
    /// the Init of the smaller address wins.
    fn on_init(&mut self, datagram: &[u8], now: u64) -> Result<()> {
        let tag = self.sessions.fresh_tag();
        let accepted = accept(
            &mut self.rng,
            &self.identity,
            datagram,
            tag,
            self.config.hop_limit,
        )?;
        let peer = accepted.session.peer();
        if self.sessions.pending.contains_key(&peer) && self.address() < peer {
            return Ok(());
        }
        self.sessions.pending.remove(&peer);
        if self.sessions.established.remove(&peer).is_none() {
            self.make_room_for_session()?;
        }
        self.sessions
            .established
            .insert(peer, Established::new(accepted.session, now));
        self.originate_datagram(accepted.datagram.into(), now)?;
        self.push_event(Event::SessionEstablished { peer });
        Ok(())
    }

    /// A Response: completes the establishment its initiator `tag` names.
    fn on_response(&mut self, tag: u16, datagram: &[u8], now: u64) -> Result<()> {
        let (peer, pending) = self
            .sessions
            .pending
            .iter()
            .find(|(_, p)| p.initiator.receive_tag() == tag)
            .ok_or(Error::UnknownSession(tag))?;
        let (peer, session) = (*peer, pending.initiator.finish(datagram)?);
        self.sessions.pending.remove(&peer);
        self.sessions
            .established
            .insert(peer, Established::new(session, now));
        self.push_event(Event::SessionEstablished { peer });
        Ok(())
    }

    /// Data or a Resume, for the session our receive `tag` names.
    fn on_session_data(&mut self, tag: u16, datagram: &[u8], now: u64) -> Result<()> {
        let hop_limit = self.config.hop_limit;
        let entry = self
            .sessions
            .established
            .values_mut()
            .find(|e| e.session.receive_tag() == tag)
            .ok_or(Error::UnknownSession(tag))?;
        let before = entry.session.epoch();
        let received = entry.session.open(datagram)?;
        entry.last_used = now;
        let peer = entry.session.peer();
        let epoch = entry.session.epoch();
        // The peer moved us on (a Resume, R4, or Data of the next epoch
        // whose Resume was lost, D6): we answer its repeated Resumes.
        if epoch != before {
            entry.answers_resumes = true;
        }
        // Anything that opens in the epoch we resumed to shows the peer is
        // there too.
        let confirmed = entry.resuming.take().is_some();
        let answer = match &received {
            Received::Resumed { .. } => true,
            Received::ResumeConfirmed { .. } => !confirmed && entry.answers_resumes,
            Received::Content { .. } => false,
        };
        let answer = match answer {
            true => Some(entry.session.resume_answer(&mut self.rng, hop_limit)?),
            false => None,
        };
        if confirmed || epoch != before {
            self.push_event(Event::SessionResumed { peer, epoch });
        }
        if let Some(answer) = answer {
            self.originate_datagram(answer.into(), now)?;
        }
        if let Received::Content { content, .. } = received {
            let data = MeshData::decode(Bytes::copy_from_slice(&content))?;
            let digest: [u8; 32] = Sha256::digest(&content[..]).into();
            self.deliver(peer, now, data, digest, now);
        }
        Ok(())
    }

    /// Delivers an opened message from `from` once: a message whose
    /// receipt key was already delivered (a retry, perhaps by the other
    /// path) is only answered with the receipt again.
    pub(super) fn deliver(
        &mut self,
        from: Address,
        timestamp_ms: u64,
        data: MeshData,
        digest: [u8; 32],
        now: u64,
    ) {
        let answer = data.receipt.map(|key| (from, key));
        if let Some((_, key)) = &answer {
            if self.delivered_before(&from, key) {
                self.send_receipt(from, key.clone(), now);
                return;
            }
        }
        self.remember_received(digest, answer.clone(), now);
        self.push_event(Event::Received {
            from,
            timestamp_ms,
            content: data.content,
        });
        if let Some((from, key)) = answer {
            self.send_receipt(from, key, now);
        }
    }

    fn delivered_before(&self, from: &Address, key: &ReceiptKey) -> bool {
        self.received.iter().any(|r| {
            r.answer
                .as_ref()
                .is_some_and(|(f, k)| f == from && k.matches(key))
        })
    }
}
