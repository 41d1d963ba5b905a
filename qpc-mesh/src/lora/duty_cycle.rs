//! The duty-cycle budget of one sub-band (`spec/11-lora-link.md` §4): a
//! sliding window of transmission records.
//!
//! A transmission occupies `[start, start + airtime)`. The rule: in every
//! window `[s, s + W)`, the airtime overlapping it is at most the
//! allowance `W · duty`. A new transmission may start at `now` if the radio
//! is idle and the airtime of the transmissions that end after
//! `now + airtime − W`, plus its own, is within the allowance; spec §4.2
//! shows this keeps every window within the budget. Times are exact: the
//! clock is in milliseconds, airtime in nanoseconds, and the arithmetic is
//! in `u128` nanoseconds.

use std::collections::VecDeque;

use crate::lora::profile::DutyCycle;
use crate::{Error, Result};

/// The default window: one hour (the duty-cycle observation period of
/// ETSI EN 300 220-1).
pub const DEFAULT_WINDOW_MS: u64 = 3_600_000;
/// The longest window accepted: one day.
pub const MAX_WINDOW_MS: u64 = 86_400_000;
const NS_PER_MS: u128 = 1_000_000;

/// One transmission the budget remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmission {
    /// Start, ns since the clock's origin.
    pub start_ns: u128,
    /// Time on air, ns.
    pub airtime_ns: u64,
}

impl Transmission {
    /// The end, ns.
    pub fn end_ns(&self) -> u128 {
        self.start_ns + u128::from(self.airtime_ns)
    }
}

/// The sliding-window airtime budget of one sub-band.
///
/// It holds only transmissions that can still count (ending after
/// `now − W`); all but the oldest lie inside the window `[now − W, now)`,
/// so their airtime sums to at most twice the allowance and their number
/// to at most that over the shortest frame's airtime.
#[derive(Debug, Clone)]
pub struct DutyCycleBudget {
    window_ns: u128,
    allowance_ns: u128,
    records: VecDeque<Transmission>,
}

impl DutyCycleBudget {
    /// A budget of `duty` thousandths over a window of `window_ms`
    /// (1..=[`MAX_WINDOW_MS`]); `duty` is 1..=1000.
    pub fn new(duty: DutyCycle, window_ms: u64) -> Result<Self> {
        if !(1..=1000).contains(&duty.0) || !(1..=MAX_WINDOW_MS).contains(&window_ms) {
            return Err(Error::InvalidConfig(
                "duty cycle: 1..=1000 permille over a window of 1 ms..=1 day",
            ));
        }
        let window_ns = u128::from(window_ms) * NS_PER_MS;
        Ok(DutyCycleBudget {
            window_ns,
            allowance_ns: window_ns * u128::from(duty.0) / 1000,
            records: VecDeque::new(),
        })
    }

    /// The airtime allowed in any window, ns.
    pub fn allowance_ns(&self) -> u64 {
        // At most one day of nanoseconds: fits.
        self.allowance_ns as u64
    }

    /// The window, ms.
    pub fn window_ms(&self) -> u64 {
        (self.window_ns / NS_PER_MS) as u64
    }

    /// The transmissions that can still count, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &Transmission> {
        self.records.iter()
    }

    fn idle_from_ns(&self) -> u128 {
        self.records.back().map_or(0, Transmission::end_ns)
    }

    /// Airtime of the transmissions ending after `after_ns`.
    fn counted_after(&self, after_ns: u128) -> u128 {
        self.records
            .iter()
            .rev()
            .take_while(|r| r.end_ns() > after_ns)
            .map(|r| u128::from(r.airtime_ns))
            .sum()
    }

    /// Whether a transmission of `airtime_ns` may start at `now` (ms).
    pub fn can_transmit(&self, airtime_ns: u64, now: u64) -> bool {
        let start = u128::from(now) * NS_PER_MS;
        let airtime = u128::from(airtime_ns);
        // Ending after start + airtime - W  <=>  end + W > start + airtime.
        start >= self.idle_from_ns()
            && airtime <= self.allowance_ns
            && self.counted_after((start + airtime).saturating_sub(self.window_ns)) + airtime
                <= self.allowance_ns
    }

    /// The earliest time (ms, at least `now`) at which a transmission of
    /// `airtime_ns` may start, or `None` if it never can (longer than the
    /// allowance).
    pub fn earliest(&self, airtime_ns: u64, now: u64) -> Option<u64> {
        let airtime = u128::from(airtime_ns);
        if airtime > self.allowance_ns {
            return None;
        }
        // The newest records whose airtime fits beside this one may stay
        // counted; the newest of the others must have left the window.
        let mut kept = airtime;
        let blocking = self.records.iter().rev().find(|r| {
            kept += u128::from(r.airtime_ns);
            kept > self.allowance_ns
        });
        let budget_ns = blocking.map_or(0, |r| r.end_ns() + self.window_ns - airtime);
        let from_ns = budget_ns.max(self.idle_from_ns());
        let from_ms = u64::try_from(from_ns.div_ceil(NS_PER_MS)).ok()?;
        Some(from_ms.max(now))
    }

    /// Records a transmission of `airtime_ns` starting at `now`;
    /// `duty_cycle_exceeded` (with the earliest start) if it may not.
    pub fn transmit(&mut self, airtime_ns: u64, now: u64) -> Result<()> {
        if !self.can_transmit(airtime_ns, now) {
            return Err(Error::DutyCycleExceeded {
                earliest_ms: self.earliest(airtime_ns, now),
            });
        }
        let start_ns = u128::from(now) * NS_PER_MS;
        // Records ending at or before now - W can never count again.
        while self
            .records
            .front()
            .is_some_and(|r| r.end_ns() + self.window_ns <= start_ns)
        {
            self.records.pop_front();
        }
        self.records.push_back(Transmission {
            start_ns,
            airtime_ns,
        });
        Ok(())
    }
}

/// Test support: the most airtime overlapping any window `[s, s + W)`,
/// from the definition, at every breakpoint of the (piecewise linear)
/// overlap function: `s = start` and `s = end − W` of each transmission.
#[cfg(test)]
pub(crate) fn worst_window_ns(sent: &[Transmission], window_ms: u64) -> u128 {
    let window = i128::from(window_ms) * NS_PER_MS as i128;
    let overlap = |s: i128| -> i128 {
        sent.iter()
            .map(|r| (r.end_ns() as i128).min(s + window) - (r.start_ns as i128).max(s))
            .map(|o| o.max(0))
            .sum()
    };
    sent.iter()
        .flat_map(|r| [r.start_ns as i128, r.end_ns() as i128 - window])
        .map(overlap)
        .max()
        .unwrap_or(0) as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_percent_of_an_hour_is_36_seconds() {
        let mut b = DutyCycleBudget::new(DutyCycle(10), DEFAULT_WINDOW_MS).unwrap();
        assert_eq!(b.allowance_ns(), 36_000_000_000);
        // 2.301952 s frames: 15 fit (34.529 s), the 16th waits for the first
        // to leave the window.
        let frame = 2_301_952_000;
        let mut now = 0;
        for _ in 0..15 {
            assert!(b.can_transmit(frame, now));
            b.transmit(frame, now).unwrap();
            now += 2302;
        }
        assert!(!b.can_transmit(frame, now));
        let at = b.earliest(frame, now).unwrap();
        // The first ends at 2301.952 ms; it leaves once start + 2301.952 ms
        // - 3600 s >= 2301.952 ms, i.e. start >= 3600 s.
        assert_eq!(at, 3_600_000);
        assert!(b.can_transmit(frame, at) && !b.can_transmit(frame, at - 1));
        let err = b.transmit(frame, now).unwrap_err();
        assert_eq!(err.class(), "duty_cycle_exceeded");
        assert_eq!(b.earliest(36_000_000_001, 0), None);
    }

    #[test]
    fn the_radio_sends_one_frame_at_a_time() {
        let mut b = DutyCycleBudget::new(DutyCycle(1000), 1000).unwrap();
        b.transmit(1_500_000, 10).unwrap();
        assert!(!b.can_transmit(1, 11));
        assert_eq!(b.earliest(1, 11), Some(12));
        assert!(DutyCycleBudget::new(DutyCycle(0), 1000).is_err());
        assert!(DutyCycleBudget::new(DutyCycle(1001), 1000).is_err());
        assert!(DutyCycleBudget::new(DutyCycle(10), 0).is_err());
        assert!(DutyCycleBudget::new(DutyCycle(10), MAX_WINDOW_MS + 1).is_err());
    }

    proptest! {
        /// Random configurations and traffic: every window, checked at
        /// every breakpoint of the (piecewise linear) overlap function,
        /// stays within the allowance, and `earliest` is the first
        /// millisecond `can_transmit` allows.
        #[test]
        fn no_window_ever_exceeds_the_budget(
            duty in 1u16..=1000,
            window_ms in 1u64..=5_000,
            traffic in proptest::collection::vec((0u64..400, 1u64..=600_000_000, any::<bool>()), 1..120),
        ) {
            let mut b = DutyCycleBudget::new(DutyCycle(duty), window_ms).unwrap();
            let mut sent: Vec<Transmission> = Vec::new();
            let mut now = 0u64;
            for (gap, airtime, wait) in traffic {
                now += gap;
                let earliest = b.earliest(airtime, now);
                match earliest {
                    Some(t) => {
                        prop_assert!(t >= now && b.can_transmit(airtime, t));
                        prop_assert!(t == now || !b.can_transmit(airtime, t - 1));
                    }
                    None => prop_assert!(u128::from(airtime) > b.allowance_ns),
                }
                let at = if wait { earliest } else { Some(now) };
                if let Some(at) = at {
                    if b.can_transmit(airtime, at) {
                        b.transmit(airtime, at).unwrap();
                        sent.push(*b.records.back().unwrap());
                        now = at;
                    } else {
                        prop_assert!(b.transmit(airtime, at).is_err());
                    }
                }
            }
            prop_assert!(worst_window_ns(&sent, window_ms) <= b.allowance_ns);
            let kept: u128 = b.records.iter().map(|r| u128::from(r.airtime_ns)).sum();
            prop_assert!(kept <= 2 * b.allowance_ns);
        }
    }
}
