//! Reverse-path records (`spec/10-mesh.md` §6.1, §6.3): which neighbour a
//! relayed request came from, so that its answer can be forwarded back hop
//! by hop without naming the requester. A record is keyed by the request's
//! type, destination and id; it is bounded in number (the oldest record is
//! dropped when full) and in time (records older than `ttl_ms` are ignored
//! and purged), and used once.

use std::collections::VecDeque;

use qpc_crypto::identity::Address;

use crate::envelope::MessageType;
use crate::routing::Neighbour;
use crate::{Error, Result};

/// What a record is found by: the request's type, destination and id.
pub type RequestKey = (MessageType, Address, u32);

/// The bounded records.
#[derive(Debug, Clone)]
pub struct ReversePaths {
    capacity: usize,
    ttl_ms: u64,
    records: VecDeque<(RequestKey, Neighbour, u64)>,
}

impl ReversePaths {
    /// At most `capacity` (at least 1) records, each valid for `ttl_ms`
    /// (at least 1).
    pub fn new(capacity: usize, ttl_ms: u64) -> Result<Self> {
        if capacity == 0 || ttl_ms == 0 {
            return Err(Error::InvalidConfig(
                "reverse paths: capacity and ttl must be at least 1",
            ));
        }
        Ok(ReversePaths {
            capacity,
            ttl_ms,
            records: VecDeque::with_capacity(capacity),
        })
    }

    fn purge(&mut self, now: u64) {
        let ttl = self.ttl_ms;
        self.records.retain(|r| r.2.saturating_add(ttl) > now);
    }

    /// Records that the request `key` arrived from `from` at `now`.
    pub fn record(&mut self, key: RequestKey, from: Neighbour, now: u64) {
        self.purge(now);
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back((key, from, now));
    }

    /// Takes the record of request `key`, if still valid: the neighbour to
    /// send its answer to.
    pub fn take(&mut self, key: RequestKey, now: u64) -> Option<Neighbour> {
        self.purge(now);
        let i = self.records.iter().position(|r| r.0 == key)?;
        self.records.remove(i).map(|r| r.1)
    }

    /// The newest valid record of `key`, kept for further use (routes of
    /// replies that may come more than once, `spec/10` §14.3).
    pub fn get(&mut self, key: RequestKey, now: u64) -> Option<Neighbour> {
        self.purge(now);
        self.records.iter().rev().find(|r| r.0 == key).map(|r| r.1)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::LinkId;

    #[test]
    fn records_are_bounded_in_number_and_time_and_used_once() {
        let dest = Address::from_bytes([1; 16]);
        let key = |id| (MessageType::PathRequest, dest, id);
        let from = |l| Neighbour {
            link: LinkId(l),
            hop_id: None,
        };
        let mut paths = ReversePaths::new(2, 100).unwrap();
        paths.record(key(1), from(1), 0);
        paths.record(key(2), from(2), 10);
        paths.record(key(3), from(3), 20);
        assert_eq!(paths.len(), 2);
        assert_eq!(paths.take(key(1), 20), None, "pushed out");
        assert_eq!(
            paths.take((MessageType::Sealed, dest, 2), 20),
            None,
            "another type"
        );
        assert_eq!(paths.take(key(2), 20), Some(from(2)));
        assert_eq!(paths.take(key(2), 20), None, "taken once");
        assert_eq!(paths.take(key(3), 120), None, "expired");
        assert!(paths.is_empty());
        assert!(ReversePaths::new(0, 1).is_err());
    }

    #[test]
    fn get_keeps_the_newest_record() {
        let key = (MessageType::Fapp, Address::from_bytes([1; 16]), 0);
        let from = |l| Neighbour {
            link: LinkId(l),
            hop_id: None,
        };
        let mut paths = ReversePaths::new(4, 100).unwrap();
        paths.record(key, from(1), 0);
        paths.record(key, from(2), 5);
        assert_eq!(paths.get(key, 10), Some(from(2)));
        assert_eq!(paths.get(key, 10), Some(from(2)), "kept");
        assert_eq!(paths.get(key, 105), None, "expired");
    }
}
