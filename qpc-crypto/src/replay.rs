//! A bounded replay window for signed, timestamped messages.
//!
//! A message `(timestamp, sender, id)` is accepted once, if its timestamp is
//! within `max_age` before and `max_skew` after the injected clock, and above
//! the *floor*: the newest timestamp ever evicted for lack of room. Entries
//! older than `max_age` are dropped (their messages are refused as stale
//! anyway); when the window is full the oldest entry is evicted. Every
//! eviction raises the floor to the evicted timestamp, so an evicted message
//! can never be accepted again, even if the clock moves backwards. Memory:
//! `capacity` entries of 40 bytes.

use std::collections::BTreeSet;

use crate::identity::Address;
use crate::Error;

/// The replay window. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    max_age_ms: u64,
    max_skew_ms: u64,
    capacity: usize,
    floor_ms: u64,
    seen: BTreeSet<(u64, Address, [u8; 16])>,
}

impl ReplayWindow {
    /// A window accepting timestamps from `max_age_ms` in the past to
    /// `max_skew_ms` in the future, remembering at most `capacity` messages.
    pub fn new(max_age_ms: u64, max_skew_ms: u64, capacity: usize) -> Self {
        ReplayWindow {
            max_age_ms,
            max_skew_ms,
            capacity: capacity.max(1),
            floor_ms: 0,
            seen: BTreeSet::new(),
        }
    }

    /// Messages currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Checks a message without recording it.
    pub fn check(
        &self,
        now_ms: u64,
        timestamp_ms: u64,
        sender: Address,
        id: [u8; 16],
    ) -> Result<(), Error> {
        let too_old =
            timestamp_ms.saturating_add(self.max_age_ms) < now_ms || timestamp_ms <= self.floor_ms;
        if too_old || timestamp_ms > now_ms.saturating_add(self.max_skew_ms) {
            return Err(Error::Stale {
                timestamp_ms,
                now_ms,
            });
        }
        if self.seen.contains(&(timestamp_ms, sender, id)) {
            return Err(Error::Replayed);
        }
        Ok(())
    }

    /// Records a message that passed [`ReplayWindow::check`] (and everything
    /// else): from now on it is a replay.
    pub fn record(&mut self, now_ms: u64, timestamp_ms: u64, sender: Address, id: [u8; 16]) {
        let horizon = now_ms.saturating_sub(self.max_age_ms);
        while let Some(&(oldest, ..)) = self.seen.first() {
            if oldest >= horizon && self.seen.len() < self.capacity {
                break;
            }
            // Aged-out entries raise the floor too: if the clock ever moves
            // backwards, their messages stay refused.
            self.floor_ms = self.floor_ms.max(oldest);
            self.seen.pop_first();
        }
        self.seen.insert((timestamp_ms, sender, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a() -> Address {
        Address::from_bytes([1; 16])
    }

    #[test]
    fn window_rules() {
        let mut w = ReplayWindow::new(1000, 100, 3);
        w.check(5000, 4500, a(), [1; 16]).unwrap();
        w.record(5000, 4500, a(), [1; 16]);
        assert_eq!(w.check(5000, 4500, a(), [1; 16]), Err(Error::Replayed));
        assert!(matches!(
            w.check(5000, 3999, a(), [2; 16]),
            Err(Error::Stale { .. })
        ));
        assert!(matches!(
            w.check(5000, 5101, a(), [2; 16]),
            Err(Error::Stale { .. })
        ));
        w.check(5000, 5100, a(), [2; 16]).unwrap();
    }

    #[test]
    fn eviction_raises_the_floor() {
        let mut w = ReplayWindow::new(1_000_000, 0, 2);
        for (ts, id) in [(10, 1), (20, 2), (30, 3)] {
            w.check(100, ts, a(), [id; 16]).unwrap();
            w.record(100, ts, a(), [id; 16]);
        }
        assert_eq!(w.len(), 2);
        // (10, 1) was evicted: it is refused as stale, not accepted again.
        assert!(matches!(
            w.check(100, 10, a(), [1; 16]),
            Err(Error::Stale { .. })
        ));
        assert_eq!(w.check(100, 20, a(), [2; 16]), Err(Error::Replayed));
    }

    proptest! {
        #[test]
        fn nothing_is_accepted_twice(events in proptest::collection::vec((0u64..50, 0u8..4), 1..200)) {
            let mut w = ReplayWindow::new(20, 5, 8);
            let mut accepted = std::collections::HashSet::new();
            for (i, (ts, id)) in events.into_iter().enumerate() {
                let now = i as u64 / 4;
                if w.check(now, ts, a(), [id; 16]).is_ok() {
                    prop_assert!(accepted.insert((ts, id)), "accepted twice: {:?}", (ts, id));
                    w.record(now, ts, a(), [id; 16]);
                }
                prop_assert!(w.len() <= 8);
            }
        }
    }
}
