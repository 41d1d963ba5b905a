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

    /// When the next establishment is due for a retry.
    pub(super) fn poll_timeout(&self) -> Option<u64> {
        self.pending.values().map(|p| p.retry_at).min()
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
        self.established.insert(
            session.peer(),
            Established {
                session,
                last_used: 0,
            },
        );
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

    /// Establishments whose Response is late: a fresh Init, or give up.
    pub(super) fn session_timeout(&mut self, now: u64) {
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
        self.sessions.established.insert(
            peer,
            Established {
                session: accepted.session,
                last_used: now,
            },
        );
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
        self.sessions.established.insert(
            peer,
            Established {
                session,
                last_used: now,
            },
        );
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
        let received = entry.session.open(datagram)?;
        entry.last_used = now;
        let peer = entry.session.peer();
        match received {
            Received::Content { content, .. } => {
                let data = MeshData::decode(Bytes::copy_from_slice(&content))?;
                let digest: [u8; 32] = Sha256::digest(&content[..]).into();
                self.deliver(peer, now, data, digest, now);
            }
            Received::Resumed { .. } => {
                let answer = entry.session.resume_answer(&mut self.rng, hop_limit)?;
                self.originate_datagram(answer.into(), now)?;
            }
            Received::ResumeConfirmed { .. } => {}
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
