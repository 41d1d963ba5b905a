//! Managed flooding (`spec/10-mesh.md` §13.6): counter-based rebroadcast
//! suppression (Ni et al., "The broadcast storm problem in a mobile ad hoc
//! network", MobiCom 1999).
//!
//! On the first sighting of a flooded message a relay schedules its
//! rebroadcast after a delay derived from its own hop id and the message's
//! key (no randomness, so runs are reproducible), counts the copies it
//! hears from neighbours while waiting, and at the due time transmits only
//! if it heard fewer than `threshold`. Pending entries are bounded.
//!
//! ```
//! use qpc_crypto::identity::Address;
//! use qpc_mesh::envelope::HopId;
//! use qpc_mesh::flood::{FloodConfig, FloodScheduler, Release};
//!
//! let config = FloodConfig { window_ms: 4000, threshold: 2, max_pending: 8 };
//! let mut flood = FloodScheduler::new(config, HopId([1; 8]))?;
//! let key = (0x9, Address::from_bytes([2; 16]), 7);
//! assert!(flood.schedule(key, "relay me", 100).is_none());
//! let due = flood.poll_timeout().unwrap();
//! assert!((100..=4100).contains(&due));
//! flood.heard_copy(&key);
//! assert_eq!(flood.poll_release(due), Some(Release::Transmit("relay me")));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::dedupe::DedupeKey;
use crate::envelope::HopId;
use crate::{Error, Result};

const DELAY_LABEL: &[u8] = b"qpc mesh flood delay v1";

/// The scheduler's policy and bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodConfig {
    /// Rebroadcast delays are drawn from `0..=window_ms`.
    pub window_ms: u64,
    /// Copies heard while waiting that suppress the rebroadcast (at least
    /// 1; `u16::MAX` never suppresses: naive flooding).
    pub threshold: u16,
    /// Most rebroadcasts waiting (at least 1).
    pub max_pending: usize,
}

impl Default for FloodConfig {
    /// The measured defaults (`spec/10` §13.7): a 12 s window, suppression
    /// after 3 copies, 64 pending.
    fn default() -> Self {
        FloodConfig {
            window_ms: 12_000,
            threshold: 3,
            max_pending: 64,
        }
    }
}

/// What a due entry becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release<T> {
    /// Fewer than `threshold` copies were heard: rebroadcast it.
    Transmit(T),
    /// Enough neighbours relayed it.
    Suppressed {
        /// The message.
        key: DedupeKey,
        /// Copies heard.
        heard: u16,
    },
}

#[derive(Debug, Clone)]
struct Pending<T> {
    due: u64,
    heard: u16,
    item: T,
}

/// Rebroadcasts waiting for their delay, by message key.
#[derive(Debug, Clone)]
pub struct FloodScheduler<T> {
    config: FloodConfig,
    own: HopId,
    pending: BTreeMap<DedupeKey, Pending<T>>,
}

/// The rebroadcast delay of `key` at the node `own`:
/// `uint64(SHA-256(label || own || type || destination || message_id)[..8]) mod (window_ms + 1)`.
pub fn delay(own: &HopId, key: &DedupeKey, window_ms: u64) -> u64 {
    let digest = Sha256::new()
        .chain_update(DELAY_LABEL)
        .chain_update(own.0)
        .chain_update([key.0])
        .chain_update(key.1.as_bytes())
        .chain_update(key.2.to_be_bytes())
        .finalize();
    let draw = u64::from_be_bytes(digest[..8].try_into().expect("8 of 32 bytes"));
    match window_ms.checked_add(1) {
        Some(span) => draw % span,
        None => draw,
    }
}

impl<T> FloodScheduler<T> {
    /// A scheduler for the node whose hop id is `own`.
    pub fn new(config: FloodConfig, own: HopId) -> Result<Self> {
        if config.threshold == 0 || config.max_pending == 0 {
            return Err(Error::InvalidConfig(
                "flood threshold and pending bound at least 1",
            ));
        }
        Ok(FloodScheduler {
            config,
            own,
            pending: BTreeMap::new(),
        })
    }

    /// Schedules the rebroadcast of a message seen for the first time.
    /// Returns the item back if it cannot be held (the key is already
    /// pending, or `max_pending` entries wait).
    pub fn schedule(&mut self, key: DedupeKey, item: T, now: u64) -> Option<T> {
        if self.pending.len() == self.config.max_pending || self.pending.contains_key(&key) {
            return Some(item);
        }
        let due = now.saturating_add(delay(&self.own, &key, self.config.window_ms));
        self.pending.insert(
            key,
            Pending {
                due,
                heard: 0,
                item,
            },
        );
        None
    }

    /// Counts a copy of `key` heard from a neighbour (no effect unless
    /// pending).
    pub fn heard_copy(&mut self, key: &DedupeKey) {
        if let Some(p) = self.pending.get_mut(key) {
            p.heard = p.heard.saturating_add(1);
        }
    }

    /// When the next entry is due.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.pending.values().map(|p| p.due).min()
    }

    /// The next entry due at `now` (earliest first, then by key), if any.
    pub fn poll_release(&mut self, now: u64) -> Option<Release<T>> {
        let (&key, _) = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .min_by_key(|(k, p)| (p.due, **k))?;
        let entry = self.pending.remove(&key)?;
        Some(if entry.heard < self.config.threshold {
            Release::Transmit(entry.item)
        } else {
            Release::Suppressed {
                key,
                heard: entry.heard,
            }
        })
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qpc_crypto::identity::Address;

    fn key(id: u32) -> DedupeKey {
        (0x9, Address::from_bytes([4; 16]), id)
    }

    fn config(threshold: u16, max_pending: usize) -> FloodConfig {
        FloodConfig {
            window_ms: 1000,
            threshold,
            max_pending,
        }
    }

    #[test]
    fn delays_are_spread_within_the_window_and_differ_by_node() {
        let delays: Vec<u64> = (0..64)
            .map(|i| delay(&HopId([i; 8]), &key(1), 1000))
            .collect();
        assert!(delays.iter().all(|&d| d <= 1000));
        let mut distinct = delays.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 50, "{distinct:?}");
        assert_eq!(delay(&HopId([1; 8]), &key(1), 0), 0);
        assert!(delay(&HopId([1; 8]), &key(1), u64::MAX) > 0);
    }

    #[test]
    fn enough_copies_suppress_and_the_bound_holds() {
        let mut f = FloodScheduler::new(config(2, 2), HopId([1; 8])).unwrap();
        assert_eq!(f.schedule(key(1), 'a', 0), None);
        assert_eq!(f.schedule(key(1), 'x', 0), Some('x'), "already pending");
        assert_eq!(f.schedule(key(2), 'b', 0), None);
        assert_eq!(f.schedule(key(3), 'c', 0), Some('c'), "full");
        f.heard_copy(&key(1));
        f.heard_copy(&key(1));
        f.heard_copy(&key(2));
        f.heard_copy(&key(9));
        let mut released = Vec::new();
        while let Some(r) = f.poll_release(1000) {
            released.push(r);
        }
        released.sort_by_key(|r| matches!(r, Release::Transmit(_)));
        assert_eq!(
            released,
            vec![
                Release::Suppressed {
                    key: key(1),
                    heard: 2
                },
                Release::Transmit('b')
            ]
        );
        assert!(f.is_empty() && f.poll_timeout().is_none());
        assert!(FloodScheduler::<()>::new(config(0, 1), HopId([1; 8])).is_err());
        assert!(FloodScheduler::<()>::new(config(1, 0), HopId([1; 8])).is_err());
    }

    proptest! {
        #[test]
        fn matches_a_model(ops in proptest::collection::vec((0u8..3, 0u32..6, 0u64..600), 0..80)) {
            let mut f = FloodScheduler::new(config(2, 3), HopId([7; 8])).unwrap();
            let mut model: BTreeMap<u32, (u64, u16)> = BTreeMap::new();
            let mut now = 0;
            for (op, id, step) in ops {
                now += step;
                match op {
                    0 => {
                        let held = model.len() < 3 && !model.contains_key(&id);
                        prop_assert_eq!(f.schedule(key(id), id, now).is_none(), held);
                        if held {
                            model.insert(id, (now + delay(&HopId([7; 8]), &key(id), 1000), 0));
                        }
                    }
                    1 => {
                        f.heard_copy(&key(id));
                        if let Some(m) = model.get_mut(&id) { m.1 += 1; }
                    }
                    _ => {
                        while let Some(r) = f.poll_release(now) {
                            let (&first, &(due, heard)) = model.iter().filter(|(_, m)| m.0 <= now).min_by_key(|(k, m)| (m.0, **k)).unwrap();
                            prop_assert!(due <= now);
                            model.remove(&first);
                            let want = if heard < 2 { Release::Transmit(first) } else { Release::Suppressed { key: key(first), heard } };
                            prop_assert_eq!(r, want);
                        }
                        prop_assert!(model.values().all(|m| m.0 > now));
                    }
                }
                prop_assert_eq!(f.poll_timeout(), model.values().map(|m| m.0).min());
                prop_assert!(f.len() <= 3);
            }
        }
    }
}
