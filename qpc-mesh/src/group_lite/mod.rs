//! MLS-Lite (`spec/12-mls-lite.md` part B): group messages for constrained
//! links under keys from an MLS exporter secret (or any 32-byte group
//! secret, e.g. one distributed over pairwise sessions). A message is a
//! 7-byte header (epoch id, sender index, counter), the ChaCha20-Poly1305
//! ciphertext and its 16-byte tag: 23 bytes of overhead, where a full MLS
//! PrivateMessage of the same content adds well over a hundred (§B.6).
//!
//! ```
//! use qpc_mesh::group_lite::{GroupLite, OVERHEAD};
//!
//! let secret = [0x42; 32];
//! let mut alice = GroupLite::new(9, &secret, 0, 3, 0, 60_000)?;
//! let mut bob = GroupLite::new(9, &secret, 1, 3, 0, 60_000)?;
//! alice.reserve(); // persist the returned limit before sealing
//! let message = alice.seal(b"ping")?;
//! assert_eq!(message.len(), 4 + OVERHEAD);
//! let opened = bob.open(&message, 0)?;
//! assert_eq!((opened.sender, &opened.content[..]), (0, &b"ping"[..]));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

mod export;
mod window;
mod wire;

use bytes::Bytes;
use qpc_crypto::identity::Address;
use qpc_crypto::mls::{GroupId, GroupMember};
use zeroize::Zeroizing;

use crate::symmetric::{expand, open, seal, Secret};
use crate::{Error, Result};
use window::ReplayWindow;

pub use export::{EXPORT_VERSION, MAX_EXPORT_LEN};
pub use window::REPLAY_WINDOW;
pub use wire::{LiteHeader, LiteMessage, HEADER_LEN, MAX_CONTENT_LEN, OVERHEAD};

/// The MLS exporter label; the context is the epoch as a uint64.
pub const EXPORTER_LABEL: &str = "qpc mls-lite v1";
/// The most members an epoch may have.
pub const MAX_MEMBERS: u16 = 1024;
/// Counters reserved by each [`GroupLite::reserve`].
pub const RESERVATION: u32 = 16;

const DESTINATION: &[u8] = b"qpc mls-lite destination v1";
const KEY: &[u8] = b"qpc mls-lite key v1";
const NONCE: &[u8] = b"qpc mls-lite nonce v1";

/// An opened MLS-Lite message.
#[derive(Debug, PartialEq, Eq)]
pub struct LiteOpened {
    /// The sender's index in the epoch's member list.
    pub sender: u16,
    /// The sender's counter.
    pub counter: u32,
    /// The full epoch the message was sealed in.
    pub epoch: u64,
    /// The content.
    pub content: Zeroizing<Vec<u8>>,
}

/// The keys and replay windows of one epoch.
struct LiteEpoch {
    epoch: u64,
    secret: Secret,
    members: u16,
    windows: Vec<ReplayWindow>,
}

impl LiteEpoch {
    fn new(epoch: u64, secret: &[u8; 32], members: u16) -> Result<Self> {
        if members == 0 || members > MAX_MEMBERS {
            return Err(Error::InvalidConfig("MLS-Lite: 1..=1024 members"));
        }
        Ok(LiteEpoch {
            epoch,
            secret: Zeroizing::new(*secret),
            members,
            windows: vec![ReplayWindow::default(); members.into()],
        })
    }

    fn destination(&self) -> Address {
        Address::from_bytes(*expand(&self.secret, &[DESTINATION]))
    }

    fn epoch_id(&self) -> u8 {
        self.epoch as u8
    }

    /// The AEAD key and nonce of `header`'s sender and counter.
    fn key_and_nonce(&self, header: &LiteHeader) -> (Secret, [u8; 12]) {
        let index = header.sender.to_be_bytes();
        let key = expand(&self.secret, &[KEY, &index]);
        let mut nonce = *expand::<12>(&self.secret, &[NONCE, &index]);
        for (n, c) in nonce[8..].iter_mut().zip(header.counter.to_be_bytes()) {
            *n ^= c;
        }
        (key, nonce)
    }
}

/// One member's MLS-Lite state: the current epoch, the previous one for a
/// grace period, and its own send counter.
pub struct GroupLite {
    own_index: u16,
    next_counter: u64,
    counter_limit: u64,
    grace_ms: u64,
    current: LiteEpoch,
    previous: Option<(LiteEpoch, u64)>,
}

impl core::fmt::Debug for GroupLite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupLite")
            .field("epoch", &self.current.epoch)
            .field("own_index", &self.own_index)
            .field("next_counter", &self.next_counter)
            .finish_non_exhaustive()
    }
}

/// The MLS-Lite secret of `group`'s current epoch, its epoch, this
/// member's index and the member count (§B.2).
pub fn mls_epoch_secret(
    member: &GroupMember,
    group: &GroupId,
) -> Result<(Zeroizing<[u8; 32]>, u64, u16, u16)> {
    let epoch = member.epoch(group)?;
    let exported =
        Zeroizing::new(member.export_secret(group, EXPORTER_LABEL, &epoch.to_be_bytes(), 32)?);
    let secret = Zeroizing::new(<[u8; 32]>::try_from(&exported[..]).expect("32 bytes"));
    let members = member.members(group)?;
    let own = member.address();
    let index = members
        .iter()
        .position(|a| *a == own)
        .ok_or(Error::InvalidConfig("MLS-Lite: not a member of the group"))?;
    let count = u16::try_from(members.len())
        .map_err(|_| Error::InvalidConfig("MLS-Lite: 1..=1024 members"))?;
    Ok((secret, epoch, index as u16, count))
}

impl GroupLite {
    /// A member of epoch `epoch` with `secret`, at `own_index` of `members`,
    /// sending from `first_counter` (0 in a new epoch; after a restart, the
    /// last persisted [`GroupLite::reserve`] limit). The previous epoch
    /// stays readable for `grace_ms` after [`GroupLite::advance`].
    pub fn new(
        epoch: u64,
        secret: &[u8; 32],
        own_index: u16,
        members: u16,
        first_counter: u32,
        grace_ms: u64,
    ) -> Result<Self> {
        let current = LiteEpoch::new(epoch, secret, members)?;
        if own_index >= members {
            return Err(Error::InvalidConfig(
                "MLS-Lite: own index beyond the members",
            ));
        }
        Ok(GroupLite {
            own_index,
            next_counter: first_counter.into(),
            counter_limit: first_counter.into(),
            grace_ms,
            current,
            previous: None,
        })
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.current.epoch
    }

    /// The 16-byte mesh destination of the epoch's messages (type
    /// GroupLite).
    pub fn destination(&self) -> Address {
        self.current.destination()
    }

    /// Whether `destination` is the current epoch's, or the previous
    /// epoch's while its grace period runs at `now` (§B.5): the messages
    /// [`GroupLite::open`] may accept travel there.
    pub fn is_destination(&self, destination: &Address, now: u64) -> bool {
        *destination == self.current.destination()
            || self.previous.as_ref().is_some_and(|(previous, until)| {
                now < *until && *destination == previous.destination()
            })
    }

    /// Moves to a later epoch at `now`; the current one stays readable
    /// until `now + grace_ms`. The send counter restarts at 0 (reserve
    /// before sealing).
    pub fn advance(
        &mut self,
        epoch: u64,
        secret: &[u8; 32],
        own_index: u16,
        members: u16,
        now: u64,
    ) -> Result<()> {
        if epoch <= self.current.epoch {
            return Err(Error::InvalidConfig("MLS-Lite: epochs only move forward"));
        }
        if own_index >= members {
            return Err(Error::InvalidConfig(
                "MLS-Lite: own index beyond the members",
            ));
        }
        let next = LiteEpoch::new(epoch, secret, members)?;
        let old = core::mem::replace(&mut self.current, next);
        self.previous = Some((old, now.saturating_add(self.grace_ms)));
        self.own_index = own_index;
        self.next_counter = 0;
        self.counter_limit = 0;
        Ok(())
    }

    /// Reserves the next [`RESERVATION`] counters and returns the limit:
    /// persist it before sealing with them, and restart from it.
    pub fn reserve(&mut self) -> u32 {
        self.counter_limit = (self.next_counter + u64::from(RESERVATION)).min(u32::MAX.into());
        self.counter_limit as u32
    }

    /// Seals `content` as this member's next message.
    pub fn seal(&mut self, content: &[u8]) -> Result<Vec<u8>> {
        if content.len() > MAX_CONTENT_LEN {
            return Err(Error::ContentTooLong {
                len: content.len(),
                max: MAX_CONTENT_LEN,
            });
        }
        let counter = u32::try_from(self.next_counter).map_err(|_| Error::NonceExhausted)?;
        if self.next_counter >= self.counter_limit {
            return Err(if counter == u32::MAX {
                Error::NonceExhausted
            } else {
                Error::WrongState("reserve counters before sealing")
            });
        }
        self.next_counter += 1;
        let header = LiteHeader {
            epoch_id: self.current.epoch_id(),
            sender: self.own_index,
            counter,
        };
        let (key, nonce) = self.current.key_and_nonce(&header);
        let aad = header.to_bytes();
        LiteMessage {
            header,
            ciphertext: Bytes::from(seal(&key, &nonce, &aad, content)),
        }
        .to_bytes()
    }

    /// Opens a message at `now` (checks G1–G6 of §B.4).
    pub fn open(&mut self, message: &[u8], now: u64) -> Result<LiteOpened> {
        let message = LiteMessage::decode(Bytes::copy_from_slice(message))?;
        let header = message.header;
        let in_previous = header.epoch_id != self.current.epoch_id()
            && self.previous.as_ref().is_some_and(|(previous, until)| {
                previous.epoch_id() == header.epoch_id && now < *until
            });
        if header.epoch_id != self.current.epoch_id() && !in_previous {
            return Err(Error::WrongEpoch(header.epoch_id));
        }
        let own_index = self.own_index;
        let epoch = match &mut self.previous {
            Some((previous, _)) if in_previous => previous,
            _ => &mut self.current,
        };
        if header.sender >= epoch.members {
            return Err(Error::UnknownMember(header.sender));
        }
        if !in_previous && header.sender == own_index {
            return Err(Error::Replayed);
        }
        epoch.windows[usize::from(header.sender)].check(header.counter)?;
        let (key, nonce) = epoch.key_and_nonce(&header);
        let content = open(&key, &nonce, &header.to_bytes(), &message.ciphertext)?;
        epoch.windows[usize::from(header.sender)].mark(header.counter);
        Ok(LiteOpened {
            sender: header.sender,
            counter: header.counter,
            epoch: epoch.epoch,
            content,
        })
    }
}

#[cfg(test)]
mod tests;
