//! A [`MeshNode`]'s durable state (`spec/10-mesh.md` §12.5): what a restart
//! must not lose — the announce sequence, the message store, our messages
//! awaiting receipts, the digests of messages already delivered, and the
//! established sessions (each exported with its next 16 send counters
//! reserved, `spec/12` §A.7) and the installed MLS-Lite groups (likewise,
//! §B.11). Routes and establishments still waiting are not kept: routes
//! come back with the next announces, establishments are opened again.
//! Version 2 (without groups) still restores.
//!
//! ```text
//! uint8  version = 3
//! uint8  has_sequence; uint32 sequence          (present iff has_sequence = 1)
//! uint64 next_handle
//! uint16 stored;   stored   x StoredMessage
//! uint16 outgoing; outgoing x OutgoingMessage
//! uint16 received; received x ReceivedDigest
//! uint16 sessions; sessions x opaque session<V>  (spec/12 §A.7 export)
//! uint16 groups;   groups x (uint64 handle, opaque group<V>)
//!                                                (spec/12 §B.11 export;
//!                                                 absent in version 2)
//!
//! StoredMessage   = uint64 expires_at, uint8 custody,
//!                   custody 0: uint64 retry_at, uint8 requests
//!                   custody 1: uint16 link, uint8 has_hop_id, [8] hop_id
//!                              (iff has_hop_id = 1), uint8 attempts,
//!                              uint64 retry_at
//!                   opaque datagram<V>   (the envelope, no hop id)
//! OutgoingMessage = uint64 handle, [16] destination, [16] receipt_key,
//!                   uint8 attempts, uint64 next_at, opaque sealed<V>
//! ReceivedDigest  = [32] sha256(sealed, or a session's plaintext),
//!                   uint8 has_receipt,
//!                   [16] sender, [16] receipt_key   (iff has_receipt = 1)
//! ```

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::{Address, Identity};
use qpc_wire::codec::{self, Reader};
use rand_core::CryptoRng;

use super::GroupHandle;
use super::{MeshNode, MessageHandle, NodeConfig, Outgoing, ReceivedDigest};
use crate::envelope::{Envelope, HopId};
use crate::group_lite::{GroupLite, MAX_EXPORT_LEN};
use crate::receipt::ReceiptKey;
use crate::routing::{LinkId, Neighbour};
use crate::session::Session;
use crate::store::{Custody, Stored};
use crate::{Error, Result};
use zeroize::Zeroizing;

/// Version byte of an exported state.
pub const STATE_VERSION: u8 = 3;
/// The version before MLS-Lite groups, still restored (as no groups).
const STATE_VERSION_2: u8 = 2;
/// Largest datagram or sealed message a state may hold.
const MAX_ITEM_LEN: usize = 1 << 21;
/// Largest exported session (the skipped keys at their bound).
const MAX_SESSION_LEN: usize = 4096;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        message: "node state",
        reason,
    }
}

fn flag(r: &mut Reader) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(malformed("a presence flag is neither 0 nor 1")),
    }
}

fn count(r: &mut Reader, max: usize) -> Result<usize> {
    let n = usize::from(r.u16()?);
    if n > max {
        return Err(malformed("more entries than the configuration allows"));
    }
    Ok(n)
}

fn put_count(out: &mut Vec<u8>, n: usize) -> Result<()> {
    let n = u16::try_from(n).map_err(|_| malformed("more than 65535 entries"))?;
    out.put_u16(n);
    Ok(())
}

impl MeshNode {
    /// The durable state, to save before acting on anything the node
    /// transmitted (the same rule as `spec/07` §9). Each established
    /// session reserves its next 16 send counters here: between two
    /// exports a session seals at most 16 messages, then
    /// [`MeshNode::send`] falls back to sealed sender (`spec/12` §A.7);
    /// each installed group likewise reserves 16 counters for
    /// [`MeshNode::send_group`] (§B.11).
    pub fn export_state(&mut self) -> Result<Vec<u8>> {
        let mut out = vec![STATE_VERSION];
        match self.sequence {
            Some(s) => {
                out.put_u8(1);
                out.put_u32(s);
            }
            None => out.put_u8(0),
        }
        out.put_u64(self.next_handle);
        put_count(&mut out, self.store.len())?;
        for (_, stored) in self.store.iter() {
            out.put_u64(stored.expires_at);
            match stored.custody {
                Custody::AwaitingRoute { retry_at, requests } => {
                    out.put_u8(0);
                    out.put_u64(retry_at);
                    out.put_u8(requests);
                }
                Custody::AwaitingHopAck {
                    next_hop,
                    attempts,
                    retry_at,
                } => {
                    out.put_u8(1);
                    out.put_u16(next_hop.link.0);
                    match next_hop.hop_id {
                        Some(HopId(id)) => {
                            out.put_u8(1);
                            out.put_slice(&id);
                        }
                        None => out.put_u8(0),
                    }
                    out.put_u8(attempts);
                    out.put_u64(retry_at);
                }
            }
            codec::put_vl_bytes(&mut out, &stored.envelope.to_bytes()?)?;
        }
        put_count(&mut out, self.outbox.len())?;
        for (handle, outgoing) in &self.outbox {
            let (attempts, next_at) = self
                .tracker
                .progress(handle.0)
                .ok_or(malformed("an outgoing message is not tracked"))?;
            out.put_u64(handle.0);
            out.put_slice(outgoing.destination.as_bytes());
            out.put_slice(&outgoing.key.0);
            out.put_u8(attempts);
            out.put_u64(next_at);
            codec::put_vl_bytes(&mut out, &outgoing.sealed)?;
        }
        put_count(&mut out, self.received.len())?;
        for ReceivedDigest { digest, answer, .. } in &self.received {
            out.put_slice(digest);
            match answer {
                Some((sender, key)) => {
                    out.put_u8(1);
                    out.put_slice(sender.as_bytes());
                    out.put_slice(&key.0);
                }
                None => out.put_u8(0),
            }
        }
        let sessions = self.sessions.export();
        put_count(&mut out, sessions.len())?;
        for session in &sessions {
            codec::put_vl_bytes(&mut out, session)?;
        }
        let groups = self.export_groups();
        put_count(&mut out, groups.len())?;
        for (handle, group) in &groups {
            out.put_u64(handle.0);
            codec::put_vl_bytes(&mut out, group)?;
        }
        Ok(out)
    }

    /// A node restarted from [`MeshNode::export_state`] bytes, with every
    /// check of §12.5: the state must fit `config` (nothing is dropped to
    /// make it fit). Links and messaging are set up again by the driver;
    /// timers in the state are absolute and simply fall due.
    pub fn restore(
        identity: Identity,
        config: NodeConfig,
        state: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut node = MeshNode::new(identity, config, 0, rng)?;
        let mut r = Reader::new(Bytes::copy_from_slice(state));
        let version = r.u8()?;
        if version != STATE_VERSION && version != STATE_VERSION_2 {
            return Err(Error::UnknownVersion(version));
        }
        node.sequence = if flag(&mut r)? { Some(r.u32()?) } else { None };
        node.next_handle = r.u64()?;
        for _ in 0..count(&mut r, config.store.max_messages)? {
            let stored = read_stored(&mut r)?;
            if !node.store.insert(stored).is_empty() {
                return Err(malformed("the stored messages exceed the store bounds"));
            }
        }
        for _ in 0..count(&mut r, config.max_outstanding)? {
            let handle = MessageHandle(r.u64()?);
            let destination = Address::from_bytes(r.array()?);
            let key = ReceiptKey(r.array()?);
            let attempts = r.u8()?;
            let next_at = r.u64()?;
            let sealed = r.vl_bytes(MAX_ITEM_LEN)?;
            if handle.0 >= node.next_handle
                || !node
                    .tracker
                    .restore(handle.0, destination, attempts, next_at)
            {
                return Err(malformed("an outgoing message is repeated or out of range"));
            }
            node.by_receipt_id.insert(key.id(), handle);
            node.outbox.insert(
                handle,
                Outgoing {
                    destination,
                    key,
                    sealed,
                },
            );
        }
        for _ in 0..count(&mut r, config.received_capacity)? {
            let digest = r.array()?;
            let answer = if flag(&mut r)? {
                Some((Address::from_bytes(r.array()?), ReceiptKey(r.array()?)))
            } else {
                None
            };
            node.received.push_back(ReceivedDigest {
                digest,
                answer,
                receipt_sent_at: 0,
            });
        }
        for _ in 0..count(&mut r, config.max_sessions)? {
            let bytes = Zeroizing::new(r.vl_bytes(MAX_SESSION_LEN)?.to_vec());
            let session = Session::restore(&bytes)?;
            if session.peer() == node.address() || !node.sessions.restore(session) {
                return Err(malformed("a session is repeated or not ours"));
            }
        }
        if version == STATE_VERSION {
            for _ in 0..count(&mut r, config.max_groups)? {
                let handle = GroupHandle(r.u64()?);
                let bytes = Zeroizing::new(r.vl_bytes(MAX_EXPORT_LEN)?.to_vec());
                let lite = GroupLite::restore(&bytes, config.group_grace_ms)?;
                if !node.restore_group(handle, lite) {
                    return Err(malformed("a group handle is repeated"));
                }
            }
        }
        r.finish()?;
        Ok(node)
    }
}

fn read_stored(r: &mut Reader) -> Result<Stored> {
    let expires_at = r.u64()?;
    let custody = match r.u8()? {
        0 => Custody::AwaitingRoute {
            retry_at: r.u64()?,
            requests: r.u8()?,
        },
        1 => {
            let link = LinkId(r.u16()?);
            let hop_id = if flag(r)? {
                Some(HopId(r.array()?))
            } else {
                None
            };
            Custody::AwaitingHopAck {
                next_hop: Neighbour { link, hop_id },
                attempts: r.u8()?,
                retry_at: r.u64()?,
            }
        }
        _ => return Err(malformed("unknown custody state")),
    };
    let envelope = Envelope::decode(r.vl_bytes(MAX_ITEM_LEN)?)?;
    let header = &envelope.header;
    if !header.is_data() || header.hop_id.is_some() {
        return Err(malformed("a stored message is not data, or names a hop"));
    }
    Ok(Stored {
        envelope,
        expires_at,
        custody,
    })
}
