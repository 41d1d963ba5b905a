//! Two-hop neighbourhood knowledge for managed flooding (`spec/10-mesh.md`
//! §13.6 step 3), learnt from frames a node hears anyway, with no field
//! added to the wire:
//!
//! - a flooded frame names its transmitter in `hop_id`: that transmitter
//!   is a neighbour;
//! - an announce relayed with `hop_count` 1 was received by its
//!   transmitter straight from its originator: the originator is a
//!   neighbour of the transmitter.
//!
//! A rebroadcast is needed while some neighbour is not yet covered by the
//! transmitters heard relaying the message (Peng and Lu's "scalable
//! broadcast algorithm", MobiHoc 2000). Entries expire and are bounded.
//!
//! ```
//! use qpc_mesh::envelope::HopId;
//! use qpc_mesh::flood::Coverage;
//! use qpc_mesh::neighbours::{NeighbourConfig, NeighbourTable};
//!
//! let (me, a, b, c) = (HopId([0; 8]), HopId([1; 8]), HopId([2; 8]), HopId([3; 8]));
//! let mut table = NeighbourTable::new(NeighbourConfig::default())?;
//! table.heard(a, 0);
//! table.heard(b, 0);
//! table.heard_relay(a, b, 0); // a relayed b's announce at hop count 1
//! assert_eq!(table.view(me, 10).uncovered(&[a], 1), Some(0));
//! table.heard(c, 0);
//! assert_eq!(table.view(me, 10).uncovered(&[a], 1), Some(1), "c is not a's neighbour");
//! table.heard_relay(c, HopId([4; 8]), 0);
//! assert!(table.view(me, 10).beyond(&[a]), "c's neighbour 4 is two hops away");
//! assert!(!table.view(me, 10).beyond(&[c]));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

use std::collections::BTreeMap;

use crate::envelope::HopId;
use crate::flood::Coverage;
use crate::{Error, Result};

/// The table's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourConfig {
    /// Neighbours remembered (at least 1); beyond, the one heard least
    /// recently is forgotten.
    pub max_neighbours: usize,
    /// Neighbours of one neighbour remembered (at least 1); beyond, the one
    /// learnt least recently is forgotten.
    pub max_per_neighbour: usize,
    /// How long a neighbour, or a neighbour's neighbour, counts after it was
    /// last heard, ms (at least 1).
    pub lifetime_ms: u64,
}

impl Default for NeighbourConfig {
    /// 64 neighbours of 64 each, for 3 hours (longer than the announce
    /// interval, `spec/10` §4.7).
    fn default() -> Self {
        NeighbourConfig {
            max_neighbours: 64,
            max_per_neighbour: 64,
            lifetime_ms: 3 * 60 * 60 * 1000,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Neighbour {
    heard_at: u64,
    /// Their neighbours, with when each was last learnt.
    theirs: BTreeMap<HopId, u64>,
}

/// Who this node hears, and whom they hear.
#[derive(Debug, Clone)]
pub struct NeighbourTable {
    config: NeighbourConfig,
    neighbours: BTreeMap<HopId, Neighbour>,
}

/// Inserts `key` into a map bounded to `max`, forgetting the entry with the
/// smallest time first.
fn insert_bounded<V>(map: &mut BTreeMap<HopId, V>, key: HopId, max: usize, time: impl Fn(&V) -> u64)
where
    V: Default,
{
    if !map.contains_key(&key) && map.len() >= max {
        if let Some(oldest) = map
            .iter()
            .min_by_key(|(k, v)| (time(v), **k))
            .map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
    }
    map.entry(key).or_default();
}

impl NeighbourTable {
    /// An empty table.
    pub fn new(config: NeighbourConfig) -> Result<Self> {
        if config.max_neighbours == 0 || config.max_per_neighbour == 0 || config.lifetime_ms == 0 {
            return Err(Error::InvalidConfig(
                "neighbour table bounds and lifetime at least 1",
            ));
        }
        Ok(NeighbourTable {
            config,
            neighbours: BTreeMap::new(),
        })
    }

    /// `neighbour` transmitted a frame we heard at `now`.
    pub fn heard(&mut self, neighbour: HopId, now: u64) {
        insert_bounded(
            &mut self.neighbours,
            neighbour,
            self.config.max_neighbours,
            |n| n.heard_at,
        );
        if let Some(n) = self.neighbours.get_mut(&neighbour) {
            n.heard_at = n.heard_at.max(now);
        }
    }

    /// `neighbour` relayed, at `now`, what it had heard straight from
    /// `theirs`.
    pub fn heard_relay(&mut self, neighbour: HopId, theirs: HopId, now: u64) {
        self.heard(neighbour, now);
        let max = self.config.max_per_neighbour;
        if let Some(n) = self.neighbours.get_mut(&neighbour) {
            insert_bounded(&mut n.theirs, theirs, max, |&t| t);
            if let Some(t) = n.theirs.get_mut(&theirs) {
                *t = (*t).max(now);
            }
        }
    }

    /// The table as the node `own` sees it at `now`, for the flood
    /// scheduler.
    pub fn view(&self, own: HopId, now: u64) -> NeighbourView<'_> {
        NeighbourView {
            table: self,
            own,
            now,
        }
    }

    /// Neighbours held (live or not yet forgotten).
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// Whether no neighbour is held.
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }
}

/// A [`NeighbourTable`] at one time, from one node.
#[derive(Debug, Clone, Copy)]
pub struct NeighbourView<'a> {
    table: &'a NeighbourTable,
    own: HopId,
    now: u64,
}

impl NeighbourView<'_> {
    fn live(&self, at: u64) -> bool {
        self.now.saturating_sub(at) < self.table.config.lifetime_ms
    }

    /// Live neighbours.
    fn neighbours(&self) -> impl Iterator<Item = (&HopId, &Neighbour)> {
        self.table
            .neighbours
            .iter()
            .filter(|(_, n)| self.live(n.heard_at))
    }

    /// Live neighbours of `who`.
    fn theirs<'b>(&'b self, who: &'b Neighbour) -> impl Iterator<Item = &'b HopId> {
        who.theirs
            .iter()
            .filter(|(_, &at)| self.live(at))
            .map(|(id, _)| id)
    }

    /// How many of `transmitters` are `who` or have it as a live neighbour.
    fn covered_by(&self, transmitters: &[HopId], who: &HopId) -> usize {
        transmitters
            .iter()
            .filter(|t| {
                *t == who
                    || self
                        .table
                        .neighbours
                        .get(t)
                        .is_some_and(|n| n.theirs.get(who).is_some_and(|&at| self.live(at)))
            })
            .count()
    }
}

impl Coverage for NeighbourView<'_> {
    fn uncovered(&self, transmitters: &[HopId], copies: u8) -> Option<usize> {
        let known = transmitters.iter().any(|t| {
            self.table
                .neighbours
                .get(t)
                .is_some_and(|n| self.theirs(n).next().is_some())
        });
        known.then(|| {
            self.neighbours()
                .filter(|(who, _)| self.covered_by(transmitters, who) < usize::from(copies))
                .count()
        })
    }

    fn neighbours(&self) -> usize {
        NeighbourView::neighbours(self).count()
    }

    fn beyond(&self, transmitters: &[HopId]) -> bool {
        let mine = |id: &HopId| {
            self.table
                .neighbours
                .get(id)
                .is_some_and(|n| self.live(n.heard_at))
        };
        self.neighbours()
            .filter(|(who, _)| self.covered_by(transmitters, who) == 0)
            .any(|(_, n)| {
                self.theirs(n)
                    .any(|m| *m != self.own && !mine(m) && self.covered_by(transmitters, m) == 0)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(i: u8) -> HopId {
        HopId([i; 8])
    }

    fn small() -> NeighbourConfig {
        NeighbourConfig {
            max_neighbours: 3,
            max_per_neighbour: 2,
            lifetime_ms: 100,
        }
    }

    #[test]
    fn coverage_counts_copies_and_expires() {
        let mut t = NeighbourTable::new(small()).unwrap();
        assert_eq!(
            t.view(id(0), 0).uncovered(&[id(1)], 1),
            None,
            "nothing known"
        );
        t.heard_relay(id(1), id(2), 0);
        t.heard(id(2), 0);
        t.heard(id(3), 50);
        // 1 covers itself and 2; 3 is left.
        assert_eq!(t.view(id(0), 60).uncovered(&[id(1)], 1), Some(1));
        assert_eq!(t.view(id(0), 60).uncovered(&[id(1), id(3)], 1), Some(0));
        // Two copies each: 1 and 2 are covered once, 3 once.
        assert_eq!(t.view(id(0), 60).uncovered(&[id(1), id(3)], 2), Some(3));
        // Two hops: 2 is 1's neighbour but also ours; 9 only 3's.
        assert!(!t.view(id(0), 60).beyond(&[id(1)]));
        t.heard_relay(id(3), id(9), 60);
        t.heard_relay(id(3), id(0), 60);
        assert!(t.view(id(0), 60).beyond(&[id(1)]));
        assert!(!t.view(id(0), 60).beyond(&[id(3)]), "3 covers 9; 0 is us");
        // 1's knowledge expired at 100; 3 still lives.
        assert_eq!(t.view(id(0), 100).uncovered(&[id(1)], 1), None);
        assert!(NeighbourTable::new(NeighbourConfig {
            lifetime_ms: 0,
            ..small()
        })
        .is_err());
    }

    #[test]
    fn bounds_forget_the_least_recent() {
        let mut t = NeighbourTable::new(small()).unwrap();
        for i in 1..=4 {
            t.heard(id(i), u64::from(i));
        }
        assert_eq!(t.len(), 3);
        assert!(!t.neighbours.contains_key(&id(1)));
        for (k, theirs) in [7, 8, 9].into_iter().enumerate() {
            t.heard_relay(id(4), id(theirs), 10 + k as u64);
        }
        let theirs: Vec<HopId> = t.neighbours[&id(4)].theirs.keys().copied().collect();
        assert_eq!(theirs, vec![id(8), id(9)]);
    }

    proptest! {
        #[test]
        fn stays_bounded_under_any_input(ops in proptest::collection::vec((any::<bool>(), 0u8..20, 0u8..20, 0u64..50), 0..200)) {
            let mut t = NeighbourTable::new(small()).unwrap();
            let mut now = 0;
            for (relay, a, b, step) in ops {
                now += step;
                if relay { t.heard_relay(id(a), id(b), now) } else { t.heard(id(a), now) }
                prop_assert!(t.len() <= 3);
                prop_assert!(t.neighbours.values().all(|n| n.theirs.len() <= 2));
                let u = t.view(id(0), now).uncovered(&[id(a)], 1);
                prop_assert!(u.is_none_or(|u| u <= t.len()));
            }
        }
    }
}
