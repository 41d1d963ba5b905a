//! A session's persisted state (`spec/12-mls-lite.md` §A.7): exporting
//! reserves a block of send counters, so a restored session never reuses
//! one.

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;
use qpc_wire::codec::Reader;
use zeroize::Zeroizing;

use crate::session::chain::{ReceiveChain, SendChain, MAX_SKIPPED};
use crate::session::keys::Role;
use crate::session::state::{Epoch, Session};
use crate::symmetric::Secret;
use crate::{Error, Result};

/// The version byte of an exported session.
pub const EXPORT_VERSION: u8 = 1;

const COUNTER_SPACE: u64 = 1 << 32;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        message: "exported session",
        reason,
    }
}

fn secret(r: &mut Reader) -> Result<Secret> {
    Ok(Zeroizing::new(r.array()?))
}

impl Session {
    /// The state to persist. It reserves the next 16 send counters: the
    /// live session may seal with them, a session restored from these
    /// bytes starts after them. Persist the bytes before sending with the
    /// reserved counters; export again when [`Session::seal`] asks for it.
    pub fn export(&mut self) -> Zeroizing<Vec<u8>> {
        let (send_key, send_next) = self.epoch.send.reserve();
        let e = &self.epoch;
        let mut out = Zeroizing::new(Vec::with_capacity(300));
        out.put_u8(EXPORT_VERSION);
        out.put_u8(match self.role {
            Role::Initiator => 0,
            Role::Responder => 1,
        });
        out.put_slice(self.own.as_bytes());
        out.put_slice(self.peer.as_bytes());
        out.put_u16(self.own_tag);
        out.put_u16(self.peer_tag);
        out.put_u16(e.number);
        for key in [&e.next_root, &e.send_resume, &e.receive_resume] {
            out.put_slice(&key[..]);
        }
        out.put_u32(e.send_mask);
        out.put_u32(e.receive_mask);
        out.put_slice(&send_key[..]);
        out.put_u64(send_next);
        out.put_slice(&e.receive.key[..]);
        out.put_u64(e.receive.next);
        out.put_u8(e.receive.skipped.len() as u8);
        for (counter, key) in &e.receive.skipped {
            out.put_u32(*counter);
            out.put_slice(&key[..]);
        }
        out
    }

    /// A session from [`Session::export`]'s bytes.
    pub fn restore(bytes: &[u8]) -> Result<Session> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes));
        let version = r.u8()?;
        if version != EXPORT_VERSION {
            return Err(Error::UnknownVersion(version));
        }
        let role = match r.u8()? {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(malformed("role")),
        };
        let own = Address::from_bytes(r.array()?);
        let peer = Address::from_bytes(r.array()?);
        let (own_tag, peer_tag, number) = (r.u16()?, r.u16()?, r.u16()?);
        let (next_root, send_resume, receive_resume) =
            (secret(&mut r)?, secret(&mut r)?, secret(&mut r)?);
        let (send_mask, receive_mask) = (r.u32()?, r.u32()?);
        let send_key = secret(&mut r)?;
        let send_next = r.u64()?;
        let receive_key = secret(&mut r)?;
        let receive_next = r.u64()?;
        if send_next > COUNTER_SPACE || receive_next > COUNTER_SPACE {
            return Err(malformed("counter beyond 2^32"));
        }
        let count = usize::from(r.u8()?);
        if count > MAX_SKIPPED {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: MAX_SKIPPED,
            }));
        }
        let mut skipped = std::collections::VecDeque::with_capacity(count);
        for _ in 0..count {
            skipped.push_back((r.u32()?, secret(&mut r)?));
        }
        r.finish()?;
        Ok(Session {
            role,
            own,
            peer,
            own_tag,
            peer_tag,
            epoch: Epoch {
                number,
                send: SendChain {
                    key: send_key,
                    next: send_next,
                    limit: send_next,
                },
                receive: ReceiveChain {
                    key: receive_key,
                    next: receive_next,
                    skipped,
                },
                send_mask,
                receive_mask,
                send_resume,
                receive_resume,
                next_root,
            },
        })
    }
}
