//! What the engines hand to their driver (`spec/20-fapp.md` §8.1): FAPP
//! messages with an abstract destination, and events.
//!
//! The destinations map one to one onto qpc-mesh's `MeshNode` (mesh message
//! type `0xc`, Fapp): [`To::Broadcast`] and [`To::NeighboursExcept`] are an
//! authenticated flood from this node, [`To::Neighbour`] is one link-local
//! hop back along a reverse path, [`To::Address`] is sealed unicast routed to
//! a 16-byte mesh address.

use qpc_crypto::identity::Address;

use crate::message::FappMessage;

/// An opaque handle the driver gives each neighbour (a mesh link). The
/// relay learns nothing else about where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NeighbourId(pub u32);

/// Where an outgoing message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum To {
    /// Every neighbour (this node originates the message).
    Broadcast,
    /// Every neighbour but one (forwarding what that one sent).
    NeighboursExcept(NeighbourId),
    /// One neighbour (a response going back along a reverse path).
    Neighbour(NeighbourId),
    /// Routed unicast to a mesh address (sealed messages).
    Address(Address),
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The destination.
    pub to: To,
    /// The message.
    pub message: FappMessage,
}

/// The result of one call into an engine: messages to send and events for
/// the application, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<E> {
    /// Messages to send.
    pub outgoing: Vec<Outgoing>,
    /// What happened.
    pub events: Vec<E>,
}

impl<E> Default for Step<E> {
    fn default() -> Self {
        Step {
            outgoing: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl<E> Step<E> {
    pub(crate) fn send(&mut self, to: To, message: FappMessage) {
        self.outgoing.push(Outgoing { to, message });
    }

    pub(crate) fn event(&mut self, event: E) {
        self.events.push(event);
    }
}
