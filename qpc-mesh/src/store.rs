//! The store-and-forward message store (`spec/10-mesh.md` §12.1): data
//! messages (Sealed and Receipt) a node holds until the next hop takes
//! custody of them or a route to their destination appears. Bounded in
//! messages, per destination and in bytes, each message with a deadline;
//! whatever is pushed out or expires is reported, never lost silently.

use std::collections::{BTreeMap, VecDeque};

use qpc_crypto::identity::Address;

use crate::envelope::{Envelope, HopId};
use crate::routing::{LinkId, Neighbour};
use crate::{Error, Result};

/// A stored message's key: its destination and envelope message id.
pub type StoreKey = (Address, u32);

/// Bounds of a [`MessageStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// Messages held in all (at least 1).
    pub max_messages: usize,
    /// Messages held for one destination (1..=max_messages).
    pub max_per_destination: usize,
    /// Datagram bytes held in all (at least the largest datagram accepted).
    pub max_bytes: usize,
    /// How long a message is kept, ms (at least 1).
    pub ttl_ms: u64,
}

impl Default for StoreConfig {
    /// 256 messages, 32 per destination, 512 KiB, one day.
    fn default() -> Self {
        StoreConfig {
            max_messages: 256,
            max_per_destination: 32,
            max_bytes: 512 * 1024,
            ttl_ms: 24 * 3600 * 1000,
        }
    }
}

impl StoreConfig {
    /// Checks the documented ranges (`invalid_config`).
    pub fn validate(&self) -> Result<()> {
        if self.max_messages == 0
            || !(1..=self.max_messages).contains(&self.max_per_destination)
            || self.max_bytes == 0
            || self.ttl_ms == 0
        {
            return Err(Error::InvalidConfig(
                "store: messages >= 1, 1 <= per destination <= messages, bytes >= 1, ttl >= 1",
            ));
        }
        Ok(())
    }
}

/// What a stored message waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custody {
    /// A route to the destination; a path request is due at `retry_at`.
    AwaitingRoute {
        /// When to ask for a path again.
        retry_at: u64,
        /// Path requests sent for it so far.
        requests: u8,
    },
    /// The hop ack of `next_hop`, which was sent the message `attempts`
    /// times; resend at `retry_at`.
    AwaitingHopAck {
        /// The neighbour that was sent the message.
        next_hop: Neighbour,
        /// Transmissions so far.
        attempts: u8,
        /// When to resend.
        retry_at: u64,
    },
}

impl Custody {
    fn retry_at(&self) -> u64 {
        match *self {
            Custody::AwaitingRoute { retry_at, .. } | Custody::AwaitingHopAck { retry_at, .. } => {
                retry_at
            }
        }
    }
}

/// A message in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The envelope as it is to be transmitted (hop count already
    /// advanced; the hop id is set per transmission).
    pub envelope: Envelope,
    /// When it is dropped as expired.
    pub expires_at: u64,
    /// What it waits for.
    pub custody: Custody,
}

impl Stored {
    fn len(&self) -> usize {
        self.envelope.header.encoded_len() + self.envelope.body.len()
    }
}

/// Why the store let a message go without delivering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Its time to live ended.
    Expired,
    /// It was the oldest when the store (or its destination's share) was
    /// full.
    StoreFull,
    /// It alone is larger than the store's byte bound.
    TooLarge,
}

/// The bounded store.
#[derive(Debug, Clone)]
pub struct MessageStore {
    config: StoreConfig,
    entries: BTreeMap<StoreKey, Stored>,
    bytes: usize,
    /// Where custody of the latest `max_messages` messages went: the next
    /// hop that acknowledged each and the hop count it was sent with
    /// (§12.2, transient loops). Not exported: a restarted node only
    /// loses the loop check for what it handed on before.
    handed: VecDeque<(StoreKey, Neighbour, u8)>,
}

impl MessageStore {
    /// An empty store.
    pub fn new(config: StoreConfig) -> Result<Self> {
        config.validate()?;
        Ok(MessageStore {
            config,
            entries: BTreeMap::new(),
            bytes: 0,
            handed: VecDeque::new(),
        })
    }

    /// The bounds.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Messages held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Datagram bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// A held message.
    pub fn get(&self, key: &StoreKey) -> Option<&Stored> {
        self.entries.get(key)
    }

    /// Every held message, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&StoreKey, &Stored)> {
        self.entries.iter()
    }

    /// Whether a message for `destination` with this body is held (a
    /// retransmission of the same sealed message under a new message id).
    pub fn holds_body(&self, destination: &Address, body: &[u8]) -> bool {
        self.for_destination(destination)
            .any(|k| self.entries[&k].envelope.body == body)
    }

    /// Holds `stored` (replacing an entry with the same key), pushing out
    /// the earliest-expiring messages (of its destination first) until the
    /// bounds hold. Returns what was pushed out, with why.
    pub fn insert(&mut self, stored: Stored) -> Vec<(StoreKey, Stored, Eviction)> {
        let header = &stored.envelope.header;
        let key = (header.destination, header.message_id);
        let mut evicted = Vec::new();
        if stored.len() > self.config.max_bytes {
            evicted.push((key, stored, Eviction::TooLarge));
            return evicted;
        }
        self.remove(&key);
        while self.for_destination(&key.0).count() >= self.config.max_per_destination {
            let oldest = self.earliest(self.for_destination(&key.0));
            self.evict_into(oldest, Eviction::StoreFull, &mut evicted);
        }
        while self.entries.len() >= self.config.max_messages
            || self.bytes + stored.len() > self.config.max_bytes
        {
            let oldest = self.earliest(self.entries.keys().copied());
            self.evict_into(oldest, Eviction::StoreFull, &mut evicted);
        }
        self.bytes += stored.len();
        self.entries.insert(key, stored);
        evicted
    }

    /// Takes a message out.
    pub fn remove(&mut self, key: &StoreKey) -> Option<Stored> {
        let stored = self.entries.remove(key)?;
        self.bytes -= stored.len();
        Some(stored)
    }

    /// Sets what a held message waits for.
    pub fn set_custody(&mut self, key: &StoreKey, custody: Custody) {
        if let Some(stored) = self.entries.get_mut(key) {
            stored.custody = custody;
        }
    }

    /// The message acknowledged on `link` by the node `by` (named on shared
    /// links, `None` on point-to-point ones), taken out if it awaited that
    /// neighbour's ack; where custody went is remembered
    /// ([`MessageStore::take_handed`]).
    pub fn acknowledged(
        &mut self,
        key: &StoreKey,
        link: LinkId,
        by: Option<HopId>,
    ) -> Option<Stored> {
        let stored = self.entries.get(key)?;
        let Custody::AwaitingHopAck { next_hop, .. } = stored.custody else {
            return None;
        };
        if next_hop.link != link || by.is_some_and(|h| next_hop.hop_id != Some(h)) {
            return None;
        }
        let hop_count = stored.envelope.header.hop_count;
        if self.handed.len() >= self.config.max_messages {
            self.handed.pop_front();
        }
        self.handed.push_back((*key, next_hop, hop_count));
        self.remove(key)
    }

    /// The next hop that took custody of `key` from us and the hop count
    /// we sent it with, if remembered (forgotten once asked).
    pub fn take_handed(&mut self, key: &StoreKey) -> Option<(Neighbour, u8)> {
        let pos = self.handed.iter().position(|(k, _, _)| k == key)?;
        self.handed.remove(pos).map(|(_, n, h)| (n, h))
    }

    /// Keys of the messages for `destination` that await a route.
    pub fn awaiting_route(&self, destination: &Address) -> Vec<StoreKey> {
        self.for_destination(destination)
            .filter(|k| matches!(self.entries[k].custody, Custody::AwaitingRoute { .. }))
            .collect()
    }

    /// Takes out the messages whose time to live ended by `now`.
    pub fn expire(&mut self, now: u64) -> Vec<(StoreKey, Stored)> {
        let keys: Vec<StoreKey> = self
            .entries
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.remove(&k).map(|s| (k, s)))
            .collect()
    }

    /// Keys of the messages whose retry is due by `now`.
    pub fn due(&self, now: u64) -> Vec<StoreKey> {
        self.entries
            .iter()
            .filter(|(_, s)| s.custody.retry_at() <= now)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The earliest expiry or retry.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.entries
            .values()
            .map(|s| s.expires_at.min(s.custody.retry_at()))
            .min()
    }

    fn for_destination<'a>(&'a self, destination: &Address) -> impl Iterator<Item = StoreKey> + 'a {
        self.entries
            .range((*destination, 0)..=(*destination, u32::MAX))
            .map(|(k, _)| *k)
    }

    /// The key, among `keys`, that expires first (key order breaks ties).
    fn earliest(&self, keys: impl Iterator<Item = StoreKey>) -> StoreKey {
        keys.min_by_key(|k| (self.entries[k].expires_at, *k))
            .expect("only called while the store holds a message")
    }

    fn evict_into(
        &mut self,
        key: StoreKey,
        why: Eviction,
        out: &mut Vec<(StoreKey, Stored, Eviction)>,
    ) {
        if let Some(stored) = self.remove(&key) {
            out.push((key, stored, why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Header, MessageType};
    use crate::routing::LinkId;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn stored(dest: u8, id: u32, len: usize, expires_at: u64) -> Stored {
        Stored {
            envelope: Envelope {
                header: Header {
                    message_type: MessageType::Sealed,
                    hop_count: 0,
                    hop_limit: 7,
                    destination: Address::from_bytes([dest; 16]),
                    message_id: id,
                    hop_id: None,
                },
                body: Bytes::from(vec![dest; len]),
            },
            expires_at,
            custody: Custody::AwaitingRoute {
                retry_at: expires_at,
                requests: 0,
            },
        }
    }

    fn config(messages: usize, per: usize, bytes: usize) -> StoreConfig {
        StoreConfig {
            max_messages: messages,
            max_per_destination: per,
            max_bytes: bytes,
            ttl_ms: 1000,
        }
    }

    #[test]
    fn bounds_push_out_the_earliest_expiring() {
        let mut store = MessageStore::new(config(3, 2, 10_000)).unwrap();
        assert!(store.insert(stored(1, 1, 10, 50)).is_empty());
        assert!(store.insert(stored(1, 2, 10, 40)).is_empty());
        let out = store.insert(stored(1, 3, 10, 60));
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].0 .1, out[0].2), (2, Eviction::StoreFull));
        assert!(store.insert(stored(2, 1, 10, 70)).is_empty());
        let out = store.insert(stored(3, 1, 10, 80));
        assert_eq!(out[0].0, (Address::from_bytes([1; 16]), 1));
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn byte_bound_and_too_large() {
        let mut store = MessageStore::new(config(10, 10, 100)).unwrap();
        let out = store.insert(stored(1, 1, 200, 5));
        assert_eq!(out[0].2, Eviction::TooLarge);
        assert!(store.is_empty());
        store.insert(stored(1, 1, 40, 5));
        let out = store.insert(stored(1, 2, 40, 6));
        assert_eq!(out.len(), 1, "22 + 40 twice exceeds 100 bytes");
        assert_eq!(store.bytes(), 62);
    }

    #[test]
    fn acks_only_from_the_awaited_link() {
        let mut store = MessageStore::new(config(4, 4, 1000)).unwrap();
        store.insert(stored(1, 1, 4, 100));
        let key = (Address::from_bytes([1; 16]), 1);
        let next_hop = Neighbour {
            link: LinkId(2),
            hop_id: None,
        };
        let other = Neighbour {
            link: LinkId(3),
            hop_id: None,
        };
        assert!(
            store.acknowledged(&key, next_hop.link, None).is_none(),
            "awaits a route"
        );
        store.set_custody(
            &key,
            Custody::AwaitingHopAck {
                next_hop,
                attempts: 1,
                retry_at: 10,
            },
        );
        assert_eq!(store.due(9), vec![]);
        assert_eq!(store.due(10), vec![key]);
        assert!(store.acknowledged(&key, other.link, None).is_none());
        assert!(store.acknowledged(&key, next_hop.link, None).is_some());
        assert!(store.is_empty());
    }

    proptest! {
        #[test]
        fn bounds_hold_under_any_inserts(ops in proptest::collection::vec((0u8..4, any::<u32>(), 0usize..120, 0u64..100), 0..60)) {
            let cfg = config(8, 3, 400);
            let mut store = MessageStore::new(cfg).unwrap();
            let mut inserted = 0usize;
            let mut out = 0usize;
            for (dest, id, len, expires) in ops {
                let key = (Address::from_bytes([dest; 16]), id);
                let replaced = store.get(&key).is_some();
                inserted += 1;
                out += store.insert(stored(dest, id, len, expires)).len() + usize::from(replaced);
                prop_assert!(store.len() <= cfg.max_messages);
                prop_assert!(store.bytes() <= cfg.max_bytes);
                let total: usize = store.iter().map(|(_, s)| s.len()).sum();
                prop_assert_eq!(total, store.bytes());
                for d in 0u8..4 {
                    let n = store.iter().filter(|(k, _)| k.0 == Address::from_bytes([d; 16])).count();
                    prop_assert!(n <= cfg.max_per_destination);
                }
            }
            // Nothing vanishes unreported: held + reported = inserted.
            prop_assert_eq!(store.len() + out, inserted);
        }
    }
}
