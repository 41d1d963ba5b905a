//! FAPP frames in [`MeshNode`] (`spec/10-mesh.md` §14): the node carries
//! application bodies of type `0xc` without parsing them, one hop
//! (link-local broadcast or unicast, answered by the transmitter's hop id)
//! or routed to an address with custody (§12), and it routes answers to
//! unannounced reply addresses back along the way their request came.

use std::collections::VecDeque;

use bytes::Bytes;
use qpc_crypto::identity::Address;
use rand_core::Rng;

use super::{Event, MeshNode};
use crate::envelope::{Envelope, Header, HopId, MessageType, LINK_LOCAL};
use crate::fapp_frame::{restamped, FappPacket};
use crate::reverse_path::{RequestKey, ReversePaths};
use crate::routing::{LinkId, Neighbour};
use crate::{Error, Result};

/// The ways back to reply addresses (§14.3), and the reply addresses this
/// node named itself: both bounded in number (oldest first) and time.
#[derive(Debug, Clone)]
pub(super) struct ReplyRoutes {
    paths: ReversePaths,
    own: VecDeque<(Address, u64)>,
    capacity: usize,
    ttl_ms: u64,
}

fn reply_key(address: Address) -> RequestKey {
    (MessageType::Fapp, address, 0)
}

impl ReplyRoutes {
    pub(super) fn new(capacity: usize, ttl_ms: u64) -> Result<Self> {
        Ok(ReplyRoutes {
            paths: ReversePaths::new(capacity, ttl_ms)?,
            own: VecDeque::new(),
            capacity,
            ttl_ms,
        })
    }

    fn is_own(&mut self, address: &Address, now: u64) -> bool {
        let ttl = self.ttl_ms;
        self.own.retain(|(_, at)| at.saturating_add(ttl) > now);
        self.own.iter().any(|(a, _)| a == address)
    }

    fn add_own(&mut self, address: Address, now: u64) {
        if self.own.len() == self.capacity {
            self.own.pop_front();
        }
        self.own.push_back((address, now));
    }

    /// The neighbour a frame for reply address `destination` goes back to.
    pub(super) fn next_hop(&mut self, destination: &Address, now: u64) -> Option<Neighbour> {
        self.paths.get(reply_key(*destination), now)
    }

    /// Forgets the way back to `destination` (its next hop went silent).
    pub(super) fn forget(&mut self, destination: &Address, now: u64) {
        while self.paths.take(reply_key(*destination), now).is_some() {}
    }
}

impl MeshNode {
    /// Sends a FAPP body one hop to every neighbour: on every link but a
    /// point-to-point `except` (a shared `except` link is used: the other
    /// neighbours on it have not heard the body). A frame larger than a
    /// link's MTU is dropped there with an event.
    pub fn send_fapp_broadcast(
        &mut self,
        payload: &[u8],
        except: Option<LinkId>,
        now: u64,
    ) -> Result<()> {
        self.advance(now);
        check_payload(payload)?;
        for link in self.flood_links(except) {
            let bytes = self.link_local_frame(None, payload)?;
            // A refusal is reported as a drop event.
            let _ = self.transmit_bytes(link, LINK_LOCAL, bytes);
        }
        self.flush(now);
        Ok(())
    }

    /// Sends a FAPP body one hop to the neighbour `neighbour` on `link` (the
    /// transmitter of a frame received there); named on a shared link.
    pub fn send_fapp_to_neighbour(
        &mut self,
        link: LinkId,
        neighbour: HopId,
        payload: &[u8],
        now: u64,
    ) -> Result<()> {
        self.advance(now);
        check_payload(payload)?;
        if !self.links.contains_key(&link) {
            return Err(Error::InvalidConfig("unknown link"));
        }
        let bytes = self.link_local_frame(self.shared(link).then_some(neighbour), payload)?;
        let _ = self.transmit_bytes(link, LINK_LOCAL, bytes);
        self.flush(now);
        Ok(())
    }

    /// Sends a FAPP body to `destination` (an announced address, or a reply
    /// address a request came from) with custody hand-off, stored while no
    /// way is known (§12, §14.2). With `reply`, relays record the way back
    /// to that address and frames for it are delivered here (§14.3).
    pub fn send_fapp_routed(
        &mut self,
        destination: Address,
        reply: Option<Address>,
        payload: &[u8],
        now: u64,
    ) -> Result<()> {
        self.advance(now);
        check_payload(payload)?;
        if destination == LINK_LOCAL || reply == Some(LINK_LOCAL) {
            return Err(Error::InvalidConfig("the all-zero address is link-local"));
        }
        if let Some(reply) = reply {
            self.replies.add_own(reply, now);
        }
        if self.is_fapp_destination(&destination, now) {
            self.push_event(Event::FappDelivered {
                destination,
                payload: Bytes::copy_from_slice(payload),
            });
        } else {
            let packet = FappPacket {
                header: fapp_header(destination, 0, None),
                transmitter: self.hop_id(),
                reply,
                payload: Bytes::copy_from_slice(payload),
            };
            self.originate(MessageType::Fapp, destination, packet.body(), now);
        }
        self.flush(now);
        Ok(())
    }

    fn link_local_frame(&mut self, next_hop: Option<HopId>, payload: &[u8]) -> Result<Vec<u8>> {
        let mut header = fapp_header(LINK_LOCAL, 0, next_hop);
        header.message_id = self.rng.next_u32();
        FappPacket {
            header,
            transmitter: self.hop_id(),
            reply: None,
            payload: Bytes::copy_from_slice(payload),
        }
        .to_bytes()
    }

    fn is_fapp_destination(&mut self, destination: &Address, now: u64) -> bool {
        *destination == self.address() || self.replies.is_own(destination, now)
    }

    /// A FAPP frame received on `link` (§14.4): a link-local one goes to the
    /// application with its transmitter; a routed one records the way back
    /// to its reply address, then is delivered here or forwarded as data.
    pub(super) fn on_fapp(&mut self, link: LinkId, packet: FappPacket, custody: bool, now: u64) {
        if packet.is_link_local() {
            self.push_event(Event::FappReceived {
                link,
                neighbour: packet.transmitter,
                payload: packet.payload,
            });
            return;
        }
        if let Some(reply) = packet.reply {
            let from = Neighbour {
                link,
                hop_id: self.shared(link).then_some(packet.transmitter),
            };
            self.replies.paths.record(reply_key(reply), from, now);
        }
        let destination = packet.header.destination;
        if self.is_fapp_destination(&destination, now) {
            if custody {
                self.send_hop_ack(link, &packet.header);
            }
            self.push_event(Event::FappDelivered {
                destination,
                payload: packet.payload,
            });
            return;
        }
        let envelope = Envelope {
            body: packet.body(),
            header: packet.header,
        };
        self.on_data(link, envelope, custody, now);
    }

    /// The body to transmit for a stored data message: a routed FAPP frame
    /// names this node as its transmitter (§14.2).
    pub(super) fn outgoing_body(&self, envelope: &Envelope) -> Bytes {
        match envelope.header.message_type {
            MessageType::Fapp => restamped(&envelope.body, self.hop_id()),
            _ => envelope.body.clone(),
        }
    }
}

fn fapp_header(destination: Address, hop_limit: u8, hop_id: Option<HopId>) -> Header {
    Header {
        message_type: MessageType::Fapp,
        hop_count: 0,
        hop_limit,
        destination,
        message_id: 0,
        hop_id,
    }
}

fn check_payload(payload: &[u8]) -> Result<()> {
    match payload.is_empty() {
        true => Err(Error::InvalidConfig("a FAPP payload has at least one byte")),
        false => Ok(()),
    }
}
