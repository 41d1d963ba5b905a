//! The relay's announce cache (`spec/20-fapp.md` §11.2): one entry per
//! therapist with the highest sequence seen, indexed by PLZ for queries
//! and by expiry for eviction.
//!
//! - Lookup by therapist: a hash map.
//! - Queries: a `BTreeSet` of `(plz, therapist)`; a PLZ prefix is one
//!   contiguous range of it, walked in order until the query has its
//!   results or the scan budget is spent, so the cost does not grow with
//!   the cache, only with the entries inside the prefix that fail the
//!   other filters.
//! - Eviction: a `BTreeSet` of `(expires_ms, therapist)`. Expired entries
//!   go first; when the cache is full, the entry that expires soonest is
//!   evicted for a newcomer that expires later, and a newcomer that would
//!   expire no later than every entry is refused (`full`).

use std::collections::{BTreeSet, HashMap};

use qpc_crypto::identity::Address;

use crate::announce::SlotAnnounce;
use crate::error::{Error, Result};
use crate::model::{Plz, PlzPrefix};
use crate::query::{AnnounceRef, Filter, QueryId, MAX_MORE};

#[derive(Debug, Clone)]
struct Entry {
    sequence: u32,
    expires_ms: u64,
    /// `None` for a withdrawal (a tombstone).
    announce: Option<Box<SlotAnnounce>>,
}

/// What a query found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches<'a> {
    /// Matching announces, in `(plz, therapist)` order.
    pub announces: Vec<&'a SlotAnnounce>,
    /// Further matches beyond the announces asked for.
    pub more: Vec<AnnounceRef>,
}

/// The bounded announce cache with its two indexes.
#[derive(Debug, Clone)]
pub struct AnnounceCache {
    capacity: usize,
    entries: HashMap<Address, Entry>,
    by_plz: BTreeSet<(Plz, Address)>,
    by_expiry: BTreeSet<(u64, Address)>,
}

impl AnnounceCache {
    /// An empty cache of at most `capacity` therapists.
    pub fn new(capacity: usize) -> Self {
        AnnounceCache {
            capacity,
            entries: HashMap::new(),
            by_plz: BTreeSet::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Entries held (announces and withdrawals).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sequence held for `therapist`, if any.
    pub fn sequence(&self, therapist: &Address) -> Option<u32> {
        self.entries.get(therapist).map(|e| e.sequence)
    }

    /// The entry held for `therapist`: its sequence, expiry and announce
    /// (`None` for a withdrawal), for a driver that persists the cache.
    pub fn entry(&self, therapist: &Address) -> Option<(u32, u64, Option<&SlotAnnounce>)> {
        let e = self.entries.get(therapist)?;
        Some((e.sequence, e.expires_ms, e.announce.as_deref()))
    }

    /// The announce held for `therapist`, if any.
    pub fn announce(&self, therapist: &Address) -> Option<&SlotAnnounce> {
        self.entries.get(therapist)?.announce.as_deref()
    }

    /// `stale` unless `sequence` is newer than the one held for `therapist`.
    pub fn check_newer(&self, therapist: &Address, sequence: u32) -> Result<()> {
        match self.sequence(therapist) {
            Some(known) if sequence <= known => Err(Error::Stale { sequence, known }),
            _ => Ok(()),
        }
    }

    /// Drops every entry expired at `now`; returns them.
    pub fn purge_expired(&mut self, now: u64) -> Vec<Address> {
        let mut purged = Vec::new();
        while let Some(&(expires_ms, therapist)) = self.by_expiry.first() {
            if expires_ms > now {
                break;
            }
            self.remove(&therapist);
            purged.push(therapist);
        }
        purged
    }

    /// The earliest expiry held.
    pub fn next_expiry(&self) -> Option<u64> {
        self.by_expiry.first().map(|&(expires_ms, _)| expires_ms)
    }

    fn remove(&mut self, therapist: &Address) -> Option<Entry> {
        let entry = self.entries.remove(therapist)?;
        self.by_expiry.remove(&(entry.expires_ms, *therapist));
        if let Some(announce) = &entry.announce {
            self.by_plz.remove(&(announce.practice.plz, *therapist));
        }
        Some(entry)
    }

    /// Stores a verified announce (`Some`) or withdrawal (`None`) of
    /// `sequence` for `therapist`, after expired entries are purged;
    /// returns the therapist evicted to make room. `stale` if not newer,
    /// `full` if the eviction policy refuses it.
    pub fn insert(
        &mut self,
        now: u64,
        therapist: Address,
        sequence: u32,
        expires_ms: u64,
        announce: Option<SlotAnnounce>,
    ) -> Result<Option<Address>> {
        self.check_newer(&therapist, sequence)?;
        self.purge_expired(now);
        let mut evicted = None;
        if !self.entries.contains_key(&therapist) && self.entries.len() >= self.capacity {
            match self.by_expiry.first() {
                Some(&(soonest, victim)) if soonest < expires_ms => {
                    self.remove(&victim);
                    evicted = Some(victim);
                }
                _ => return Err(Error::Full("announce cache")),
            }
        }
        self.remove(&therapist);
        if let Some(announce) = &announce {
            self.by_plz.insert((announce.practice.plz, therapist));
        }
        self.by_expiry.insert((expires_ms, therapist));
        let entry = Entry {
            sequence,
            expires_ms,
            announce: announce.map(Box::new),
        };
        self.entries.insert(therapist, entry);
        Ok(evicted)
    }

    /// The live announces matching `filter` in its PLZ range, at most
    /// `max_results`, then up to [`MAX_MORE`] references to further ones;
    /// at most `max_scan` index entries are visited. The walk starts at the
    /// pivot of `query_id` and wraps around (`spec/20` §11.3), so that no
    /// PLZ is systematically answered first.
    pub fn query(
        &self,
        now: u64,
        query_id: &QueryId,
        filter: &Filter,
        max_results: usize,
        max_scan: usize,
    ) -> Matches<'_> {
        let (low, high) = filter.plz_prefix.range();
        let from = (low, Address::from_bytes([0; 16]));
        let to = (high, Address::from_bytes([0xff; 16]));
        let pivot = pivot(&filter.plz_prefix, query_id);
        let mut found = Matches {
            announces: Vec::new(),
            more: Vec::new(),
        };
        let walk = self
            .by_plz
            .range(pivot..=to)
            .chain(self.by_plz.range(from..pivot));
        for (_, therapist) in walk.take(max_scan) {
            let Some(entry) = self.entries.get(therapist) else {
                continue;
            };
            let Some(announce) = entry.announce.as_deref() else {
                continue;
            };
            if entry.expires_ms <= now || !filter.matches(announce) {
                continue;
            }
            if found.announces.len() < max_results {
                found.announces.push(announce);
            } else if found.more.len() < MAX_MORE {
                found.more.push(AnnounceRef {
                    therapist: *therapist,
                    sequence: entry.sequence,
                });
            } else {
                break;
            }
        }
        found
    }
}

/// Where a query's walk of the index starts (`spec/20` §11.3): the prefix
/// padded with the digits `'0' + query_id[i] % 10` for the positions it
/// leaves open, and the query id as the address.
fn pivot(prefix: &PlzPrefix, query_id: &QueryId) -> (Plz, Address) {
    let mut digits = [0; Plz::LEN];
    for (i, digit) in digits.iter_mut().enumerate() {
        *digit = match prefix.as_bytes().get(i) {
            Some(&d) => d,
            None => b'0' + query_id[i] % 10,
        };
    }
    let plz = Plz::new(digits).expect("ASCII digits");
    (plz, Address::from_bytes(*query_id))
}
