//! The data path of [`MeshNode`] (`spec/10-mesh.md` §12): sending sealed
//! messages, store-and-forward with custody hand-off, delivery to the
//! recipient, and receipts back to the sender.

use bytes::Bytes;
use qpc_crypto::identity::{Address, PublicIdentity};
use qpc_crypto::padding::Padding;
use qpc_crypto::sealed_sender::{Kind, Sender};
use rand_core::Rng;
use sha2::{Digest, Sha256};

use super::{DropReason, Event, MeshNode, MessageHandle, Outgoing, ReceivedDigest};
use crate::delivery::DeliveryEvent;
use crate::envelope::{Envelope, Header, MessageType, HEADER_LEN, HOP_ID_LEN};
use crate::lora::link::LinkReport;
use crate::path_request::{PATH_REQUEST_BODY_LEN, PATH_RESPONSE_BODY_LEN};
use crate::receipt::{HopAck, MeshData, Receipt, ReceiptKey};
use crate::routing::{Forwarding, LinkId, Neighbour};
use crate::store::{Custody, Eviction, StoreKey, Stored};
use crate::{Error, Result};
use qpc_wire::codec::Reader;

/// The longest wait between path requests, as a multiple of
/// `path_retry_ms`.
const MAX_PATH_RETRY_DOUBLINGS: u8 = 3;

/// A path request on a shared link: header, hop id, `min_sequence`.
const PATH_REQUEST_LEN: usize = HEADER_LEN + HOP_ID_LEN + PATH_REQUEST_BODY_LEN;

/// A path response on a shared link (§6.2): 172 bytes.
const PATH_RESPONSE_LEN: usize = HEADER_LEN + HOP_ID_LEN + PATH_RESPONSE_BODY_LEN;

impl MeshNode {
    /// Seals `content` to `recipient` (sealed sender, `spec/05`, with a
    /// receipt key inside) and sends it: along its route with custody
    /// hand-off, or stored while a path is requested (§12). With a session
    /// established with `recipient` (§12.7) the first copy goes in the
    /// session instead (the same receipt key inside), if it fits. The
    /// receipt arrives as [`Event::DeliveryConfirmed`]; without one the
    /// message is sent again, sealed, with backoff until
    /// [`Event::DeliveryFailed`].
    pub fn send(
        &mut self,
        recipient: &PublicIdentity,
        content: &[u8],
        now: u64,
    ) -> Result<MessageHandle> {
        self.advance(now);
        let destination = recipient.address();
        if destination == self.address() {
            return Err(Error::InvalidConfig("a node does not send to itself"));
        }
        if self.outbox.len() >= self.tracker.capacity() {
            return Err(Error::Full("messages awaiting a receipt"));
        }
        let messaging = self
            .messaging
            .as_ref()
            .ok_or(Error::InvalidConfig("messaging is not enabled"))?;
        let key = ReceiptKey::random(&mut self.rng);
        let data = MeshData {
            receipt: Some(key.clone()),
            content: Bytes::copy_from_slice(content),
        };
        let mut sealed_id = [0; 16];
        self.rng.fill_bytes(&mut sealed_id);
        let sender = Sender::new(&self.identity, messaging.certificate.clone())?;
        let sealed: Bytes = sender
            .seal(
                recipient,
                Kind::Message,
                now,
                sealed_id,
                &data.to_bytes(),
                Padding::Padme,
                &mut self.rng,
            )?
            .into();
        let handle = MessageHandle(self.next_handle);
        self.next_handle += 1;
        self.tracker
            .track(handle.0, destination, now, &mut self.rng);
        self.by_receipt_id.insert(key.id(), handle);
        self.outbox.insert(
            handle,
            Outgoing {
                destination,
                key,
                sealed: sealed.clone(),
            },
        );
        if self.send_in_session(&destination, &data, now).is_none() {
            self.originate(MessageType::Sealed, destination, sealed, now);
        }
        self.flush(now);
        Ok(handle)
    }

    /// Sends a new data message of ours (a fresh envelope message id).
    pub(super) fn originate(
        &mut self,
        kind: MessageType,
        destination: Address,
        body: Bytes,
        now: u64,
    ) {
        let header = Header {
            message_type: kind,
            hop_count: 0,
            hop_limit: self.config.hop_limit,
            destination,
            message_id: self.rng.next_u32(),
            hop_id: None,
        };
        self.dedupe.first_sighting(&header);
        self.dispatch(Envelope { header, body }, now);
    }

    /// Stores a data message and sends it to the next hop of its route, or
    /// asks for a path when there is none (§12.1).
    pub(super) fn dispatch(&mut self, envelope: Envelope, now: u64) {
        let destination = envelope.header.destination;
        let stored = Stored {
            envelope,
            expires_at: now.saturating_add(self.store.config().ttl_ms),
            custody: Custody::AwaitingRoute {
                retry_at: now.saturating_add(self.config.path_retry_ms),
                requests: 0,
            },
        };
        let key = (destination, stored.envelope.header.message_id);
        let evicted = self.store.insert(stored);
        self.report_evictions(evicted);
        if self.store.get(&key).is_none() {
            return;
        }
        match self.next_hop(&destination, now) {
            Some(next_hop) => self.hand_over(key, next_hop, 1, now),
            None => self.ask_for_path(key, 0, now),
        }
    }

    /// The next hop towards `destination`: its route, else the way back
    /// to it as a FAPP reply address (§14.3).
    fn next_hop(&mut self, destination: &Address, now: u64) -> Option<Neighbour> {
        match self.table.forwarding(destination, now) {
            Forwarding::NextHop(route) => Some(route.next_hop),
            _ => self.replies.next_hop(destination, now),
        }
    }

    /// Sends a stored message to `next_hop` (its `attempts`-th time) and
    /// waits for its HopAck.
    fn hand_over(&mut self, key: StoreKey, next_hop: Neighbour, attempts: u8, now: u64) {
        let Some(stored) = self.store.get(&key) else {
            return;
        };
        if !self.within_hop_limit(&stored.envelope.header, next_hop, now) {
            self.store.remove(&key);
            self.push_event(Event::Dropped {
                destination: key.0,
                reason: DropReason::HopLimit,
            });
            return;
        }
        let mut header = stored.envelope.header.clone();
        header.hop_id = if self.shared(next_hop.link) {
            next_hop.hop_id
        } else {
            None
        };
        let datagram = Envelope {
            header,
            body: self.outgoing_body(&stored.envelope),
        }
        .to_bytes();
        let Ok(bytes) = datagram else {
            return;
        };
        let wait = self.hop_ack_wait(next_hop.link, bytes.len());
        if let Err(DropReason::TooLarge { .. }) = self.transmit_bytes(next_hop.link, key.0, bytes) {
            // Too large for the link (reported): it can never go this way.
            // Refused by a full transmit queue (reported), it stays in
            // custody and goes again when the HopAck wait ends.
            self.store.remove(&key);
            return;
        }
        self.await_hop_ack(key, next_hop, attempts, now.saturating_add(wait));
    }

    /// Whether a copy with `header` sent to `next_hop` can still arrive
    /// (§12.1 S8): a copy at its hop limit reaches only a next hop that is
    /// its destination, as the routing table knows it (a route of one hop);
    /// through any other the next hop must drop it. Next hops the table
    /// does not know (reply paths) are given the benefit of the doubt.
    fn within_hop_limit(&self, header: &Header, next_hop: Neighbour, now: u64) -> bool {
        header.hop_count < header.hop_limit
            || !matches!(self.table.route(&header.destination, now),
                Some(route) if route.next_hop == next_hop && route.hops > 1)
    }

    /// The stored message `key` waits for `next_hop`'s HopAck until
    /// `retry_at`.
    fn await_hop_ack(&mut self, key: StoreKey, next_hop: Neighbour, attempts: u8, retry_at: u64) {
        let custody = Custody::AwaitingHopAck {
            next_hop,
            attempts,
            retry_at,
        };
        self.store.set_custody(&key, custody);
    }

    /// How long to wait for the HopAck of a `len`-byte datagram on `link`
    /// (§12.1 S1): `hop_ack_timeout_ms` plus four airtimes of the datagram
    /// at the link's bitrate (the transmission, queueing behind one more,
    /// and the way back with margin).
    fn hop_ack_wait(&self, link: LinkId, len: usize) -> u64 {
        let bitrate = self
            .links
            .get(&link)
            .map_or(1, |l| l.budget.bitrate_bps.max(1));
        let airtime_ms = (len as u64 * 8000).div_ceil(bitrate);
        self.config
            .hop_ack_timeout_ms
            .saturating_add(airtime_ms.saturating_mul(4))
    }

    /// How long a path request and its response may take (§12.1 S4):
    /// `2 · hop_limit · (airtime(34) + airtime(172))` at the slowest
    /// link's bitrate — a request and a response on a shared link across
    /// every hop the request may travel, twice for queueing.
    fn path_round_trip_ms(&self) -> u64 {
        let bitrate = self
            .links
            .values()
            .map(|l| l.budget.bitrate_bps.max(1))
            .min()
            .unwrap_or(1);
        let bytes = (PATH_REQUEST_LEN + PATH_RESPONSE_LEN) as u64;
        (bytes * 8000)
            .div_ceil(bitrate)
            .saturating_mul(2 * u64::from(self.config.hop_limit))
    }

    /// The S4 retry at which a message still without a route is flooded
    /// (§12.1): the first whose unanswered request is at least a path
    /// round trip old, at the latest the one after the longest wait.
    fn flood_at_request(&self) -> u8 {
        let round_trip = self.path_round_trip_ms();
        (1..=MAX_PATH_RETRY_DOUBLINGS)
            .find(|&r| self.config.path_retry_ms.saturating_mul(1 << (r - 1)) >= round_trip)
            .unwrap_or(MAX_PATH_RETRY_DOUBLINGS + 1)
    }

    /// What became of a datagram the driver handed to `link` (§12.1 S1a,
    /// `spec/11` §6.7): for a data message in our custody awaiting its
    /// HopAck over `link`, if the datagram is the copy handed to that next
    /// hop (the same header, naming it on a shared link), the timer starts
    /// again — `link_queue_timeout_ms`
    /// while its frames wait in the link's queue, the HopAck wait of a
    /// [`crate::node::MIN_MTU`]-byte datagram once its last frame went to
    /// the radio. Reports on anything else change nothing.
    pub fn handle_link_report(
        &mut self,
        link: LinkId,
        report: LinkReport,
        datagram: &[u8],
        now: u64,
    ) {
        self.advance(now);
        let Ok(header) = Header::decode(&mut Reader::new(Bytes::copy_from_slice(
            &datagram[..datagram.len().min(HEADER_LEN + HOP_ID_LEN)],
        ))) else {
            return;
        };
        let key = (header.destination, header.message_id);
        let Some(Custody::AwaitingHopAck {
            next_hop, attempts, ..
        }) = self.store.get(&key).map(|s| s.custody)
        else {
            return;
        };
        // The copy handed to the next hop names it on a shared link; a
        // flooded copy of the same message (§12.1 S4) names nobody.
        let named = next_hop.hop_id.filter(|_| self.shared(link));
        if next_hop.link != link || header.hop_id != named {
            return;
        }
        let wait = match report {
            LinkReport::Queued => self.config.link_queue_timeout_ms,
            LinkReport::Sent => self.hop_ack_wait(link, super::MIN_MTU),
        };
        self.await_hop_ack(key, next_hop, attempts, now.saturating_add(wait));
    }

    /// Puts a stored message back to awaiting a route and sends a path
    /// request (its `requests + 1`-th); once a request went unanswered for
    /// a path round trip, the message is also flooded once with the hop
    /// limit (§12.1 S4).
    fn ask_for_path(&mut self, key: StoreKey, requests: u8, now: u64) {
        if requests > 0 && requests == self.flood_at_request() {
            self.flood_stored(&key);
        }
        let doublings = requests.min(MAX_PATH_RETRY_DOUBLINGS);
        let wait = self.config.path_retry_ms.saturating_mul(1 << doublings);
        self.store.set_custody(
            &key,
            Custody::AwaitingRoute {
                retry_at: now.saturating_add(wait),
                requests: requests.saturating_add(1),
            },
        );
        self.request_path(key.0, now);
    }

    /// Floods a copy of a stored message, naming no next hop.
    fn flood_stored(&mut self, key: &StoreKey) {
        let Some(stored) = self.store.get(key) else {
            return;
        };
        let envelope = Envelope {
            header: stored.envelope.header.clone(),
            body: self.outgoing_body(&stored.envelope),
        };
        let Ok(bytes) = envelope.to_bytes() else {
            return;
        };
        for link in self.flood_links(None) {
            // A refusal is reported as a drop event.
            let _ = self.transmit_bytes(link, key.0, bytes.clone());
        }
    }

    /// A route to `destination` appeared: stored messages go now.
    pub(super) fn release_stored(&mut self, destination: Address, now: u64) {
        let Some(route) = self.table.route(&destination, now) else {
            return;
        };
        for key in self.store.awaiting_route(&destination) {
            self.hand_over(key, route.next_hop, 1, now);
        }
    }

    /// Expiry and retries of the store (§12.1).
    pub(super) fn store_timeout(&mut self, now: u64) {
        for (key, _) in self.store.expire(now) {
            self.push_event(Event::Dropped {
                destination: key.0,
                reason: DropReason::Store(Eviction::Expired),
            });
        }
        for key in self.store.due(now) {
            let Some(custody) = self.store.get(&key).map(|s| s.custody) else {
                continue;
            };
            match custody {
                Custody::AwaitingHopAck {
                    next_hop, attempts, ..
                } if attempts < self.config.hop_attempts => {
                    self.hand_over(key, next_hop, attempts + 1, now);
                }
                Custody::AwaitingHopAck { next_hop, .. } => {
                    // The next hop stayed silent: its route is broken.
                    self.table.break_route(&key.0, &next_hop, now);
                    self.replies.forget(&key.0, now);
                    self.redispatch(key, 0, now);
                }
                Custody::AwaitingRoute { requests, .. } => self.redispatch(key, requests, now),
            }
        }
    }

    fn redispatch(&mut self, key: StoreKey, requests: u8, now: u64) {
        match self.next_hop(&key.0, now) {
            Some(next_hop) => self.hand_over(key, next_hop, 1, now),
            None => self.ask_for_path(key, requests, now),
        }
    }

    /// End-to-end retries and give-ups of our own messages (§12.3).
    pub(super) fn delivery_timeout(&mut self, now: u64) {
        for event in self.tracker.handle_timeout(now, &mut self.rng) {
            match event {
                DeliveryEvent::Retry { handle, .. } => {
                    let Some(out) = self.outbox.get(&MessageHandle(handle)) else {
                        continue;
                    };
                    // A copy still held here goes as soon as it can anyway.
                    if !self.store.holds_body(&out.destination, &out.sealed) {
                        let (destination, sealed) = (out.destination, out.sealed.clone());
                        self.originate(MessageType::Sealed, destination, sealed, now);
                    }
                }
                DeliveryEvent::GaveUp {
                    handle,
                    destination,
                } => {
                    let handle = MessageHandle(handle);
                    self.forget_outgoing(handle);
                    self.push_event(Event::DeliveryFailed {
                        handle,
                        destination,
                    });
                }
            }
        }
    }

    /// Stops tracking one of our messages, with any copy still stored here.
    fn forget_outgoing(&mut self, handle: MessageHandle) {
        let Some(out) = self.outbox.remove(&handle) else {
            return;
        };
        self.by_receipt_id.remove(&out.key.id());
        self.tracker.acknowledge(handle.0);
        let copies: Vec<StoreKey> = self
            .store
            .iter()
            .filter(|(k, s)| k.0 == out.destination && s.envelope.body == out.sealed)
            .map(|(k, _)| *k)
            .collect();
        for key in copies {
            self.store.remove(&key);
        }
    }

    /// A Sealed or Receipt message, first sighting (§12.2): ours to open, or
    /// to take custody of and forward.
    pub(super) fn on_data(&mut self, link: LinkId, envelope: Envelope, custody: bool, now: u64) {
        let header = envelope.header.clone();
        if header.destination == self.address() {
            if custody {
                self.send_hop_ack(link, &header);
            }
            match header.message_type {
                MessageType::Receipt => self.on_receipt(envelope),
                MessageType::Session => self.on_session(link, envelope, now),
                _ => self.on_sealed_for_us(link, envelope.body, now),
            }
            return;
        }
        if !self.relays() {
            self.push_event(Event::Dropped {
                destination: header.destination,
                reason: DropReason::NotTransport,
            });
            return;
        }
        let Some(next) = header.relayed(None) else {
            // The copy arrived: the link works, only the hop limit ends it
            // here. Acknowledged, the sender does not take its route for
            // broken (§12.2).
            if custody {
                self.send_hop_ack(link, &header);
            }
            self.push_event(Event::Dropped {
                destination: header.destination,
                reason: DropReason::HopLimit,
            });
            return;
        };
        let relayed = Envelope {
            header: next,
            body: self.outgoing_body(&envelope),
        };
        if custody {
            self.send_hop_ack(link, &header);
            self.break_loop(link, &header, now);
            self.dispatch(relayed, now);
            return;
        }
        // A flooded copy asks for no custody, and is not stored here: with a
        // route, it goes to the next hop (which takes custody of it); without
        // one, it is flooded on (§12.1).
        let next_hop = self.next_hop(&header.destination, now);
        if next_hop.is_some_and(|n| !self.within_hop_limit(&relayed.header, n, now)) {
            self.push_event(Event::Dropped {
                destination: header.destination,
                reason: DropReason::HopLimit,
            });
            return;
        }
        let links = match next_hop {
            Some(next) => vec![next.link],
            None => self.flood_links(Some(link)),
        };
        for l in links {
            let mut copy = relayed.clone();
            copy.header.hop_id = next_hop.filter(|_| self.shared(l)).and_then(|n| n.hop_id);
            if let Ok(bytes) = copy.to_bytes() {
                let _ = self.transmit_bytes(l, header.destination, bytes);
            }
        }
    }

    /// Split horizon for a custody copy we relay (§12.2): a route that
    /// would hand it back where it came from is broken (as after silent
    /// hop attempts, §12.1 S5), so that the copy waits for a newer route
    /// instead of circling until its hop limit. It came from our next hop
    /// when that is the point-to-point link it arrived on, or when the
    /// neighbour we handed it to before sends it back with a hop count
    /// above the one we sent (it was relayed since; a retransmission from
    /// our previous hop, its HopAck lost, carries a smaller one, and a copy
    /// that took a parallel path of our length an equal one).
    fn break_loop(&mut self, link: LinkId, header: &Header, now: u64) {
        let key = (header.destination, header.message_id);
        if let Some((via, sent_hop_count)) = self.store.take_handed(&key) {
            if header.hop_count > sent_hop_count {
                self.table.break_route(&header.destination, &via, now);
            }
        }
        if !self.shared(link) {
            if let Some(next) = self.next_hop(&header.destination, now) {
                if next.link == link {
                    self.table.break_route(&header.destination, &next, now);
                }
            }
        }
    }

    /// Opens a sealed message for us; duplicates (retries) are recognised
    /// by digest and only answered with the receipt again.
    fn on_sealed_for_us(&mut self, link: LinkId, payload: Bytes, now: u64) {
        let digest: [u8; 32] = Sha256::digest(&payload).into();
        let pause = self.config.path_retry_ms;
        if let Some(seen) = self.received.iter_mut().find(|r| r.digest == digest) {
            // Copies of one message arrive in bursts (retries, floods): one
            // receipt per `path_retry_ms` answers them all.
            let due = seen.receipt_sent_at.saturating_add(pause) <= now;
            if let (Some((from, key)), true) = (seen.answer.clone(), due) {
                seen.receipt_sent_at = now;
                self.send_receipt(from, key, now);
            }
            return;
        }
        let Some(messaging) = self.messaging.as_mut() else {
            self.push_event(Event::Dropped {
                destination: self.address(),
                reason: DropReason::NoMessaging,
            });
            return;
        };
        let opened = match messaging.receiver.open(now, &payload) {
            Ok(opened) => opened,
            Err(e) => {
                self.push_event(Event::Rejected {
                    link,
                    class: e.class(),
                });
                return;
            }
        };
        let Some(opened) = opened else {
            // A decoy: valid, discarded.
            self.remember_received(digest, None, now);
            return;
        };
        let data = match MeshData::decode(opened.content.into()) {
            Ok(data) => data,
            Err(e) => {
                self.push_event(Event::Rejected {
                    link,
                    class: e.class(),
                });
                return;
            }
        };
        self.deliver(opened.sender, opened.timestamp_ms, data, digest, now);
    }

    pub(super) fn remember_received(
        &mut self,
        digest: [u8; 32],
        answer: Option<(Address, ReceiptKey)>,
        now: u64,
    ) {
        if self.received.len() == self.config.received_capacity {
            self.received.pop_front();
        }
        self.received.push_back(ReceivedDigest {
            digest,
            answer,
            receipt_sent_at: now,
        });
    }

    pub(super) fn send_receipt(&mut self, to: Address, key: ReceiptKey, now: u64) {
        let body = Bytes::copy_from_slice(&key.0);
        self.originate(MessageType::Receipt, to, body, now);
    }

    /// A receipt for us: confirms the message whose key it returns; a
    /// duplicate or unknown receipt changes nothing.
    fn on_receipt(&mut self, envelope: Envelope) {
        let Ok(receipt) = Receipt::from_envelope(envelope) else {
            return;
        };
        let Some(&handle) = self.by_receipt_id.get(&receipt.key.id()) else {
            return;
        };
        if self
            .outbox
            .get(&handle)
            .is_some_and(|out| out.key.matches(&receipt.key))
        {
            self.forget_outgoing(handle);
            self.push_event(Event::DeliveryConfirmed { handle });
        }
    }

    /// A neighbour took custody of a message we hold for it: on a shared
    /// link only the next hop we named counts, and it must name itself
    /// (§12.2 S7).
    pub(super) fn on_hop_ack(&mut self, link: LinkId, ack: HopAck) {
        let by = match (self.shared(link), ack.from) {
            (false, _) => None,
            (true, Some(from)) => Some(from),
            (true, None) => return,
        };
        self.store
            .acknowledged(&(ack.destination, ack.message_id), link, by);
    }

    pub(super) fn send_hop_ack(&mut self, link: LinkId, header: &Header) {
        let ack = HopAck::of(header, self.own_hop_id_on(link));
        if let Ok(bytes) = ack.to_bytes() {
            let _ = self.transmit_bytes(link, header.destination, bytes);
        }
    }

    fn report_evictions(&mut self, evicted: Vec<(StoreKey, Stored, Eviction)>) {
        for (key, _, why) in evicted {
            self.push_event(Event::Dropped {
                destination: key.0,
                reason: DropReason::Store(why),
            });
        }
    }
}
