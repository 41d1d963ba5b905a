//! Delivery ordering of group messages (`spec/07` §7): a pure state
//! machine, driven by [`super::GroupMember`] and by the ordering vectors.
//!
//! Every MLS message a member sends carries a [`DeliveryHeader`] as its MLS
//! `authenticated_data`: a per-sender sequence number that starts at 0 and
//! grows by one with every message (handshake or application) the member
//! sends to the group. Before decryption a message is admitted on its
//! SHA-256 digest and its (cleartext) epoch:
//!
//! 1. a digest seen before is a duplicate and is dropped;
//! 2. a message for the next epoch is held (at most `max_held` messages and
//!    `max_held_bytes` bytes) until the commit that opens its epoch is
//!    merged, then released in arrival order; one for a later epoch is
//!    dropped;
//! 3. a handshake message for a past epoch is stale; an application message
//!    more than `max_past_epochs` epochs old is too old; both are dropped;
//! 4. everything else is processed.
//!
//! Released messages go through steps 3 and 4 again against the epoch at
//! the time they are processed.
//!
//! After decryption the authenticated sender and sequence number are
//! checked against that sender's window: the next number is in order, a
//! higher one reports the gap before it, a missing number among the
//! `window` numbers below the sender's newest is a late delivery that fills
//! its gap, a number already seen is a duplicate and anything older is too
//! old.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use qpc_wire::codec::Reader;

use crate::identity::Address;
use crate::Error;

/// The delivery header's version byte.
pub const HEADER_VERSION: u8 = 1;
/// The encoded header length.
pub const HEADER_LEN: usize = 9;

/// The MLS `authenticated_data` of every qpc group message.
///
/// ```text
/// struct { uint8 version = 1; uint64 sequence; } DeliveryHeader;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryHeader {
    /// The sender's sequence number.
    pub sequence: u64,
}

impl DeliveryHeader {
    /// The 9-byte encoding.
    pub fn encode(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = HEADER_VERSION;
        out[1..].copy_from_slice(&self.sequence.to_be_bytes());
        out
    }

    /// Parses exactly 9 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes::Bytes::copy_from_slice(bytes));
        let version = r.u8()?;
        if version != HEADER_VERSION {
            return Err(Error::UnknownVersion {
                what: "delivery header",
                version,
            });
        }
        let sequence = r.u64()?;
        r.finish()?;
        Ok(DeliveryHeader { sequence })
    }
}

/// The bounds of a [`DeliveryOrder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderConfig {
    /// Messages held for the next epoch, at most.
    pub max_held: usize,
    /// Bytes held for the next epoch, at most.
    pub max_held_bytes: usize,
    /// Digests remembered for duplicate detection (oldest forgotten first).
    pub max_seen: usize,
    /// How many epochs back application messages are still processed.
    pub max_past_epochs: u64,
    /// The per-sender sequence window: how many numbers below a sender's
    /// newest may still arrive late.
    pub window: u64,
    /// Senders tracked, at most.
    pub max_senders: usize,
}

impl Default for OrderConfig {
    fn default() -> Self {
        OrderConfig {
            max_held: 256,
            max_held_bytes: 1 << 20,
            max_seen: 4096,
            max_past_epochs: 3,
            window: 1024,
            max_senders: 4096,
        }
    }
}

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A handshake message for an epoch that is already over.
    StaleEpoch,
    /// An application message older than `max_past_epochs`.
    TooOldEpoch,
    /// The hold buffer for the next epoch is full.
    HeldFull,
    /// A message for an epoch beyond the next one.
    FutureEpoch,
    /// A sequence number older than the sender's window.
    TooOldSequence,
    /// A sequence number the sender already used.
    DuplicateSequence,
    /// More senders than `max_senders`.
    TooManySenders,
    /// MLS refused the message (bad signature, tag, epoch secrets gone...).
    Rejected,
    /// The delivery header is missing or malformed.
    BadHeader,
    /// The application payload is malformed (`spec/07` §6).
    BadPayload,
    /// A commit brings in a leaf without a qpc credential (`spec/07` §4).
    InvalidCredential,
}

impl DropReason {
    /// The reason's name in the spec and the vectors.
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::StaleEpoch => "stale_epoch",
            DropReason::TooOldEpoch => "too_old_epoch",
            DropReason::HeldFull => "held_full",
            DropReason::FutureEpoch => "future_epoch",
            DropReason::TooOldSequence => "too_old_sequence",
            DropReason::DuplicateSequence => "duplicate_sequence",
            DropReason::TooManySenders => "too_many_senders",
            DropReason::Rejected => "rejected",
            DropReason::BadHeader => "bad_header",
            DropReason::BadPayload => "bad_payload",
            DropReason::InvalidCredential => "invalid_credential",
        }
    }
}

/// What to do with an arriving message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission<T> {
    /// Decrypt and process it now.
    Process(T),
    /// Kept until its epoch opens.
    Held,
    /// Its digest was seen before.
    Duplicate,
    /// Dropped for this reason.
    Dropped(DropReason),
}

/// Where an authenticated sequence number falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequenced {
    /// The next number (or the first one seen from this sender).
    InOrder,
    /// Numbers `first..=last` were skipped; this one is delivered.
    Gap {
        /// The first missing number.
        first: u64,
        /// The last missing number.
        last: u64,
    },
    /// A number reported missing earlier, now delivered.
    Late,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SenderWindow {
    pub(crate) next: u64,
    pub(crate) missing: BTreeSet<u64>,
}

/// The ordering state of one group for one member.
#[derive(Debug, Clone)]
pub struct DeliveryOrder<T> {
    config: OrderConfig,
    pub(crate) epoch: u64,
    seen: HashSet<[u8; 32]>,
    pub(crate) seen_order: VecDeque<[u8; 32]>,
    pub(crate) held: VecDeque<(u64, T)>,
    held_bytes: usize,
    pub(crate) senders: BTreeMap<Address, SenderWindow>,
}

/// Something the hold buffer can hold: it knows its size in bytes.
pub trait HeldItem {
    /// The bytes it costs to hold.
    fn held_len(&self) -> usize;
}

impl HeldItem for Vec<u8> {
    fn held_len(&self) -> usize {
        self.len()
    }
}

impl<T: HeldItem> DeliveryOrder<T> {
    /// A fresh state at `epoch` (the epoch a member created or joined at).
    pub fn new(config: OrderConfig, epoch: u64) -> Self {
        DeliveryOrder {
            config,
            epoch,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            senders: BTreeMap::new(),
        }
    }

    /// A state rebuilt from its parts (`spec/07` §9), within `config`'s
    /// bounds.
    pub(crate) fn from_parts(
        config: OrderConfig,
        epoch: u64,
        seen: Vec<[u8; 32]>,
        held: Vec<(u64, T)>,
        senders: BTreeMap<Address, SenderWindow>,
    ) -> Self {
        let mut order = DeliveryOrder::new(config, epoch);
        seen.into_iter().for_each(|d| order.mark_seen(d));
        for (epoch, item) in held {
            if epoch == order.epoch.saturating_add(1) && order.fits(&item) {
                order.held_bytes += item.held_len();
                order.held.push_back((epoch, item));
            }
        }
        order.senders = senders.into_iter().take(config.max_senders).collect();
        order
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Messages currently held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Step 1-4 of the module doc for a message with this digest and epoch.
    pub fn admit(
        &mut self,
        digest: [u8; 32],
        epoch: u64,
        handshake: bool,
        item: T,
    ) -> Admission<T> {
        if self.seen.contains(&digest) {
            return Admission::Duplicate;
        }
        if epoch > self.epoch {
            if epoch != self.epoch.saturating_add(1) {
                return Admission::Dropped(DropReason::FutureEpoch);
            }
            if !self.fits(&item) {
                return Admission::Dropped(DropReason::HeldFull);
            }
            self.mark_seen(digest);
            self.held_bytes += item.held_len();
            self.held.push_back((epoch, item));
            return Admission::Held;
        }
        match self.recheck(epoch, handshake) {
            Some(reason) => Admission::Dropped(reason),
            None => Admission::Process(item),
        }
    }

    fn fits(&self, item: &T) -> bool {
        self.held.len() < self.config.max_held
            && self.held_bytes.saturating_add(item.held_len()) <= self.config.max_held_bytes
    }

    /// Steps 3 and 4 for a message of `epoch` at the current epoch (also
    /// for released messages, just before they are processed).
    pub fn recheck(&self, epoch: u64, handshake: bool) -> Option<DropReason> {
        if handshake && epoch < self.epoch {
            Some(DropReason::StaleEpoch)
        } else if epoch.saturating_add(self.config.max_past_epochs) < self.epoch {
            Some(DropReason::TooOldEpoch)
        } else {
            None
        }
    }

    /// Forgets a sender's window (when a commit adds or removes it: an
    /// added member's numbering starts again at 0).
    pub fn forget(&mut self, sender: &Address) {
        self.senders.remove(sender);
    }

    /// The senders with a window.
    pub fn senders(&self) -> impl Iterator<Item = &Address> {
        self.senders.keys()
    }

    /// Remembers a digest (after a message was processed, or when sent).
    pub fn mark_seen(&mut self, digest: [u8; 32]) {
        if self.config.max_seen == 0 || !self.seen.insert(digest) {
            return;
        }
        self.seen_order.push_back(digest);
        while self.seen_order.len() > self.config.max_seen {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    /// Checks an authenticated sender's sequence number and records it.
    pub fn sequence(&mut self, sender: Address, sequence: u64) -> Result<Sequenced, DropReason> {
        let window = self.config.window;
        let Some(track) = self.senders.get_mut(&sender) else {
            if self.senders.len() >= self.config.max_senders {
                return Err(DropReason::TooManySenders);
            }
            let next = sequence.checked_add(1).ok_or(DropReason::TooOldSequence)?;
            self.senders.insert(
                sender,
                SenderWindow {
                    next,
                    missing: BTreeSet::new(),
                },
            );
            return Ok(Sequenced::InOrder);
        };
        if sequence >= track.next {
            let next = sequence.checked_add(1).ok_or(DropReason::TooOldSequence)?;
            let result = if sequence == track.next {
                Sequenced::InOrder
            } else {
                let first = track.next;
                let from = first.max(sequence.saturating_sub(window));
                track.missing.extend(from..sequence);
                Sequenced::Gap {
                    first,
                    last: sequence - 1,
                }
            };
            track.next = next;
            let floor = sequence.saturating_sub(window);
            track.missing = track.missing.split_off(&floor);
            return Ok(result);
        }
        if track.missing.remove(&sequence) {
            Ok(Sequenced::Late)
        } else if sequence < (track.next - 1).saturating_sub(window) {
            Err(DropReason::TooOldSequence)
        } else {
            Err(DropReason::DuplicateSequence)
        }
    }

    /// Moves to `epoch` (after a commit was merged) and returns the held
    /// messages that are no longer in the future, in arrival order. Held
    /// messages of later epochs stay.
    pub fn advance(&mut self, epoch: u64) -> Vec<T> {
        self.epoch = epoch;
        let (ready, keep): (VecDeque<_>, VecDeque<_>) =
            self.held.drain(..).partition(|(e, _)| *e <= epoch);
        self.held = keep;
        self.held_bytes = self.held.iter().map(|(_, item)| item.held_len()).sum();
        ready.into_iter().map(|(_, item)| item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a() -> Address {
        Address::from_bytes([1; 16])
    }

    #[test]
    fn header_round_trip_and_errors() {
        let h = DeliveryHeader {
            sequence: 0x0102030405060708,
        };
        assert_eq!(DeliveryHeader::decode(&h.encode()), Ok(h));
        assert_eq!(
            DeliveryHeader::decode(&[]).unwrap_err().class(),
            "truncated"
        );
        assert_eq!(
            DeliveryHeader::decode(&[2; 9]).unwrap_err().class(),
            "unknown_version"
        );
        assert_eq!(
            DeliveryHeader::decode(&[1; 10]).unwrap_err().class(),
            "trailing_bytes"
        );
    }

    #[test]
    fn sequence_window() {
        let mut o = DeliveryOrder::<Vec<u8>>::new(
            OrderConfig {
                window: 4,
                ..OrderConfig::default()
            },
            0,
        );
        assert_eq!(o.sequence(a(), 10), Ok(Sequenced::InOrder));
        assert_eq!(o.sequence(a(), 11), Ok(Sequenced::InOrder));
        assert_eq!(o.sequence(a(), 11), Err(DropReason::DuplicateSequence));
        assert_eq!(
            o.sequence(a(), 14),
            Ok(Sequenced::Gap {
                first: 12,
                last: 13
            })
        );
        assert_eq!(o.sequence(a(), 13), Ok(Sequenced::Late));
        assert_eq!(o.sequence(a(), 13), Err(DropReason::DuplicateSequence));
        assert_eq!(
            o.sequence(a(), 20),
            Ok(Sequenced::Gap {
                first: 15,
                last: 19
            })
        );
        // 12 fell out of the window (the newest is 20: floor 20 - 4 = 16).
        assert_eq!(o.sequence(a(), 12), Err(DropReason::TooOldSequence));
        assert_eq!(o.sequence(a(), 18), Ok(Sequenced::Late));
        assert_eq!(o.sequence(a(), u64::MAX), Err(DropReason::TooOldSequence));
    }

    #[test]
    fn admission_and_release() {
        let m = |i: u8| vec![i];
        let config = OrderConfig {
            max_held: 1,
            ..OrderConfig::default()
        };
        let mut o = DeliveryOrder::new(config, 5);
        assert_eq!(o.admit([1; 32], 6, false, m(1)), Admission::Held);
        assert_eq!(o.admit([1; 32], 6, false, m(1)), Admission::Duplicate);
        let dropped = |r| Admission::Dropped(r);
        assert_eq!(
            o.admit([2; 32], 6, false, m(2)),
            dropped(DropReason::HeldFull)
        );
        assert_eq!(
            o.admit([2; 32], 7, false, m(2)),
            dropped(DropReason::FutureEpoch)
        );
        assert_eq!(
            o.admit([3; 32], 4, true, m(3)),
            dropped(DropReason::StaleEpoch)
        );
        assert_eq!(o.admit([3; 32], 2, false, m(4)), Admission::Process(m(4)));
        assert_eq!(
            o.admit([3; 32], 1, false, m(5)),
            dropped(DropReason::TooOldEpoch)
        );
        assert_eq!(o.advance(6), vec![m(1)]);
        assert_eq!(o.held(), 0);
        // The byte bound.
        let config = OrderConfig {
            max_held_bytes: 3,
            ..OrderConfig::default()
        };
        let mut o = DeliveryOrder::new(config, 0);
        assert_eq!(o.admit([1; 32], 1, false, vec![0; 2]), Admission::Held);
        assert_eq!(
            o.admit([2; 32], 1, false, vec![0; 2]),
            dropped(DropReason::HeldFull)
        );
        assert_eq!(o.admit([3; 32], 1, false, vec![0; 1]), Admission::Held);
    }
}
