//! Managed flooding (`spec/10-mesh.md` §13.6): counter-based rebroadcast
//! suppression (Ni et al., "The broadcast storm problem in a mobile ad hoc
//! network", MobiCom 1999).
//!
//! On the first sighting of a flooded message a relay schedules its
//! rebroadcast after a delay derived from its own hop id and the message's
//! key (no randomness, so runs are reproducible), counts the copies it
//! hears from neighbours and notes their transmitters while waiting. At
//! the due time it transmits if some neighbour is not covered by those
//! transmitters (when the two-hop neighbourhood is known,
//! [`crate::neighbours`]), else if it heard fewer than `threshold` copies.
//! After a coverage-decided transmission it listens one more window: a
//! neighbour that should relay (it has neighbours of its own that no
//! transmitter heard covers) but is not heard relaying makes it repeat once
//! (the originator up to `origin_repeats` times): the copies a node hears
//! are its implicit acknowledgements. Pending entries are bounded.
//!
//! ```
//! use qpc_crypto::identity::Address;
//! use qpc_mesh::envelope::HopId;
//! use qpc_mesh::flood::{FloodConfig, FloodScheduler, Release, Unknown};
//!
//! let config = FloodConfig { window_ms: 4000, threshold: 2, max_pending: 8, cover: 1, echo_below: 2, origin_repeats: 3 };
//! let mut flood = FloodScheduler::new(config, HopId([1; 8]))?;
//! let key = (0x9, Address::from_bytes([2; 16]), 7);
//! assert!(flood.schedule(key, "relay me", Some(HopId([2; 8])), 100, &Unknown).is_none());
//! let due = flood.poll_timeout().unwrap();
//! assert!((100..=4100).contains(&due));
//! flood.heard_copy(&key, Some(HopId([3; 8])));
//! // No two-hop knowledge: one copy heard is below the threshold.
//! assert_eq!(flood.poll_release(due, &Unknown), Some(Release::Transmit("relay me")));
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
    /// Copies that cover a neighbour when two-hop neighbourhoods are known
    /// (§13.6 step 3); 0 ignores them (counter-based only).
    pub cover: u8,
    /// A relay that transmitted on coverage having heard fewer copies than
    /// this waits one window for the neighbours it should have reached to
    /// relay, and repeats once if one of them stays silent (§13.6 step 5);
    /// 0: never, `u16::MAX` (the default): every coverage-decided relay.
    pub echo_below: u16,
    /// Repeats an originator makes, a window apart, while a neighbour that
    /// should relay its message is not heard doing so (§13.6 step 5; a
    /// relay repeats at most once).
    pub origin_repeats: u8,
}

impl Default for FloodConfig {
    /// The measured defaults (`spec/10` §13.7): a 12 s window, suppression
    /// after 3 copies, 64 pending, an implicit acknowledgement for every
    /// coverage-decided relay, three repeats at the originator.
    fn default() -> Self {
        FloodConfig {
            window_ms: 12_000,
            threshold: 3,
            max_pending: 64,
            cover: 1,
            echo_below: u16::MAX,
            origin_repeats: 3,
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

/// Distinct transmitters remembered per pending message.
const MAX_TRANSMITTERS: usize = 16;

/// What the scheduler asks about the two-hop neighbourhood (§13.6.1);
/// [`crate::neighbours::NeighbourView`] answers from what the node heard.
pub trait Coverage {
    /// How many live neighbours `transmitters` cover fewer than `copies`
    /// times; `None` if no transmitter's neighbourhood is known.
    fn uncovered(&self, transmitters: &[HopId], copies: u8) -> Option<usize>;
    /// Whether a live neighbour that none of `transmitters` covers has a
    /// live neighbour of its own that is neither us, nor our neighbour, nor
    /// covered by `transmitters`: it would relay if it heard us.
    fn beyond(&self, transmitters: &[HopId]) -> bool;
    /// Live neighbours.
    fn neighbours(&self) -> usize;
}

/// Nothing is known: counter-based suppression only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unknown;

impl Coverage for Unknown {
    fn uncovered(&self, _: &[HopId], _: u8) -> Option<usize> {
        None
    }

    fn beyond(&self, _: &[HopId]) -> bool {
        false
    }

    fn neighbours(&self) -> usize {
        0
    }
}

#[derive(Debug, Clone)]
struct Pending<T> {
    due: u64,
    heard: u16,
    transmitters: Vec<HopId>,
    /// Whether the entry waits, after a transmission of ours, for the
    /// neighbours it should have reached to relay (§13.6 step 5).
    echo: bool,
    /// Repeats left while a neighbour that should relay stays silent.
    repeats: u8,
    item: T,
}

impl<T> Pending<T> {
    fn note(&mut self, transmitter: Option<HopId>) {
        if let Some(t) = transmitter {
            if self.transmitters.len() < MAX_TRANSMITTERS && !self.transmitters.contains(&t) {
                self.transmitters.push(t);
            }
        }
    }
}

/// Rebroadcasts waiting for their delay, by message key.
#[derive(Debug, Clone)]
pub struct FloodScheduler<T> {
    config: FloodConfig,
    own: HopId,
    pending: BTreeMap<DedupeKey, Pending<T>>,
}

/// The window of §13.6 step 1: `window_ms − (3 × window_ms × u) / (4 × n)`
/// for `u` of `n` live neighbours left uncovered by the first transmitter
/// (`window_ms` if unknown or `n` = 0), in 128-bit integers.
pub fn weighted_window(window_ms: u64, uncovered: Option<usize>, neighbours: usize) -> u64 {
    match uncovered {
        Some(u) if neighbours > 0 => {
            let (w, u, n) = (
                u128::from(window_ms),
                u.min(neighbours) as u128,
                neighbours as u128,
            );
            (w - 3 * w * u / (4 * n)) as u64
        }
        _ => window_ms,
    }
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

    /// Schedules the rebroadcast of a message seen for the first time, from
    /// `transmitter` if the frame named one; the more of our neighbours
    /// that transmitter leaves uncovered, the shorter the window (§13.6
    /// step 1). Returns the item back if it cannot be held (the key is
    /// already pending, or `max_pending` entries wait).
    pub fn schedule(
        &mut self,
        key: DedupeKey,
        item: T,
        transmitter: Option<HopId>,
        now: u64,
        coverage: &impl Coverage,
    ) -> Option<T> {
        if self.pending.len() == self.config.max_pending || self.pending.contains_key(&key) {
            return Some(item);
        }
        let uncovered = match (self.config.cover, transmitter) {
            (0, _) | (_, None) => None,
            (_, Some(t)) => coverage.uncovered(&[t], 1),
        };
        let window = weighted_window(self.config.window_ms, uncovered, coverage.neighbours());
        let due = now.saturating_add(delay(&self.own, &key, window));
        let mut entry = Pending {
            due,
            heard: 0,
            transmitters: Vec::new(),
            echo: false,
            repeats: 1,
            item,
        };
        entry.note(transmitter);
        self.pending.insert(key, entry);
        None
    }

    /// Counts a copy of `key` heard from a neighbour, `transmitter` if the
    /// frame named one (no effect unless pending).
    pub fn heard_copy(&mut self, key: &DedupeKey, transmitter: Option<HopId>) {
        if let Some(p) = self.pending.get_mut(key) {
            p.heard = p.heard.saturating_add(1);
            p.note(transmitter);
        }
    }

    /// Waits one window for the neighbours of a message we originated to
    /// relay it, and repeats it up to `origin_repeats` times while one that
    /// should stays silent (§13.6 step 5); returns the item back if `cover`
    /// or `origin_repeats` is 0, the key is pending or `max_pending`
    /// entries wait.
    pub fn originated(&mut self, key: DedupeKey, item: T, now: u64) -> Option<T> {
        if self.config.cover == 0
            || self.config.origin_repeats == 0
            || self.pending.len() == self.config.max_pending
            || self.pending.contains_key(&key)
        {
            return Some(item);
        }
        let entry = Pending {
            due: now.saturating_add(self.config.window_ms),
            heard: 0,
            transmitters: Vec::new(),
            echo: true,
            repeats: self.config.origin_repeats,
            item,
        };
        self.pending.insert(key, entry);
        None
    }

    /// When the next entry is due.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.pending.values().map(|p| p.due).min()
    }

    /// The next entry due at `now` (earliest first, then by key), if any,
    /// decided by §13.6 steps 3 and 5 with what `coverage` knows.
    pub fn poll_release(&mut self, now: u64, coverage: &impl Coverage) -> Option<Release<T>>
    where
        T: Clone,
    {
        loop {
            let (&key, _) = self
                .pending
                .iter()
                .filter(|(_, p)| p.due <= now)
                .min_by_key(|(k, p)| (p.due, **k))?;
            let mut entry = self.pending.remove(&key)?;
            if entry.echo {
                // Step 5: a neighbour that should have relayed ours, had it
                // heard it, was not heard relaying (a copy it sends records
                // it as a transmitter and so covers it).
                if !coverage.beyond(&entry.transmitters) {
                    continue;
                }
                entry.repeats -= 1;
                if entry.repeats == 0 {
                    return Some(Release::Transmit(entry.item));
                }
                let item = entry.item.clone();
                entry.due = now.saturating_add(self.config.window_ms);
                self.pending.insert(key, entry);
                return Some(Release::Transmit(item));
            }
            let judged = match self.config.cover {
                0 => None,
                cover => coverage.uncovered(&entry.transmitters, cover),
            };
            let transmit = match judged {
                Some(left) => left > 0,
                None => entry.heard < self.config.threshold,
            };
            if !transmit {
                return Some(Release::Suppressed {
                    key,
                    heard: entry.heard,
                });
            }
            if judged.is_some() && entry.heard < self.config.echo_below {
                let item = entry.item.clone();
                entry.echo = true;
                entry.due = now.saturating_add(self.config.window_ms);
                self.pending.insert(key, entry);
                return Some(Release::Transmit(item));
            }
            return Some(Release::Transmit(entry.item));
        }
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
            cover: 1,
            echo_below: 2,
            origin_repeats: 3,
        }
    }

    fn scheduler(config: FloodConfig) -> FloodScheduler<char> {
        FloodScheduler::new(config, HopId([1; 8])).unwrap()
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
        assert_eq!(f.schedule(key(1), 'a', None, 0, &Unknown), None);
        assert_eq!(
            f.schedule(key(1), 'x', None, 0, &Unknown),
            Some('x'),
            "already pending"
        );
        assert_eq!(f.schedule(key(2), 'b', None, 0, &Unknown), None);
        assert_eq!(
            f.schedule(key(3), 'c', None, 0, &Unknown),
            Some('c'),
            "full"
        );
        f.heard_copy(&key(1), None);
        f.heard_copy(&key(1), None);
        f.heard_copy(&key(2), None);
        f.heard_copy(&key(9), None);
        let mut released = Vec::new();
        while let Some(r) = f.poll_release(1000, &Unknown) {
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

    /// Knows the neighbourhood: one neighbour is left unless `b` was
    /// heard; someone two hops away is left unless `c` was.
    struct Fake;

    impl Coverage for Fake {
        fn uncovered(&self, heard: &[HopId], _: u8) -> Option<usize> {
            Some(usize::from(!heard.contains(&HopId([3; 8]))))
        }

        fn beyond(&self, heard: &[HopId]) -> bool {
            !heard.contains(&HopId([4; 8]))
        }

        fn neighbours(&self) -> usize {
            4
        }
    }

    #[test]
    fn known_coverage_decides_over_the_counter_and_repeats_for_a_silent_neighbour() {
        let mut f = FloodScheduler::new(config(2, 4), HopId([1; 8])).unwrap();
        let (a, b, c) = (HopId([2; 8]), HopId([3; 8]), HopId([4; 8]));
        f.schedule(key(1), 'a', Some(a), 0, &Unknown);
        f.schedule(key(2), 'b', Some(a), 0, &Unknown);
        f.schedule(key(3), 'c', Some(a), 0, &Unknown);
        f.schedule(key(4), 'd', Some(a), 0, &Unknown);
        for _ in 0..3 {
            f.heard_copy(&key(1), Some(b));
            f.heard_copy(&key(4), Some(a));
        }
        f.heard_copy(&key(2), Some(a));
        let drain = |f: &mut FloodScheduler<char>, now| {
            let mut out = Vec::new();
            while let Some(r) = f.poll_release(now, &Fake) {
                out.push(r);
            }
            out.sort_by_key(|r| format!("{r:?}"));
            out
        };
        assert_eq!(
            drain(&mut f, 1000),
            vec![
                Release::Suppressed {
                    key: key(1),
                    heard: 3
                },
                Release::Transmit('b'),
                Release::Transmit('c'),
                Release::Transmit('d'),
            ],
            "an uncovered neighbour is served above the threshold"
        );
        // 'd' heard 3 copies before: no echo. 'b' and 'c' (1 and 0) wait
        // a window for c, whom Fake expects to relay: 'c' hears c; 'b'
        // hears only a, which does not answer for c.
        assert_eq!(f.len(), 2);
        f.heard_copy(&key(3), Some(c));
        f.heard_copy(&key(2), Some(a));
        assert_eq!(drain(&mut f, 1999), vec![]);
        assert_eq!(
            drain(&mut f, 2000 + 1000),
            vec![Release::Transmit('b')],
            "repeated once"
        );
        assert!(f.is_empty());
        let mut off = scheduler(FloodConfig {
            cover: 0,
            ..config(2, 4)
        });
        off.schedule(key(3), 'c', Some(a), 0, &Unknown);
        assert_eq!(
            off.poll_release(1000, &Fake),
            Some(Release::Transmit('c')),
            "cover 0 never asks, never repeats"
        );
        assert!(off.is_empty());
    }

    #[test]
    fn an_originator_repeats_until_the_neighbour_it_needs_relays() {
        let mut f = scheduler(config(2, 4));
        assert_eq!(f.originated(key(1), 'a', 0), None);
        assert_eq!(f.originated(key(2), 'b', 0), None);
        assert_eq!(f.originated(key(2), 'x', 0), Some('x'), "already pending");
        // Fake: someone beyond needs it unless 4 was heard.
        let mut sent = Vec::new();
        for window in 1..=5 {
            match window {
                2 => f.heard_copy(&key(2), Some(HopId([2; 8]))),
                3 => f.heard_copy(&key(2), Some(HopId([4; 8]))),
                _ => {}
            }
            while let Some(r) = f.poll_release(window * 1000, &Fake) {
                sent.push((window, r));
            }
        }
        assert_eq!(
            sent,
            vec![
                (1, Release::Transmit('a')),
                (1, Release::Transmit('b')),
                (2, Release::Transmit('a')),
                (2, Release::Transmit('b')),
                (3, Release::Transmit('a')),
            ],
            "three repeats of 'a'; 'b' goes on past a copy from 2 and stops at one from 4"
        );
        assert!(f.is_empty());
        let mut once = scheduler(FloodConfig {
            origin_repeats: 0,
            ..config(2, 4)
        });
        assert_eq!(once.originated(key(1), 'a', 0), Some('a'), "no repeats");
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
                        prop_assert_eq!(f.schedule(key(id), id, None, now, &Unknown).is_none(), held);
                        if held {
                            model.insert(id, (now + delay(&HopId([7; 8]), &key(id), 1000), 0));
                        }
                    }
                    1 => {
                        f.heard_copy(&key(id), None);
                        if let Some(m) = model.get_mut(&id) { m.1 += 1; }
                    }
                    _ => {
                        while let Some(r) = f.poll_release(now, &Unknown) {
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
