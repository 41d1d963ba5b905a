//! The sans-IO link queue (`spec/11-lora-link.md` §5): frames wait by
//! priority, leave only when the radio is idle and the duty-cycle budget
//! allows, and the caller hears about back-pressure instead of losing
//! frames silently.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::lora::airtime;
use crate::lora::duty_cycle::DutyCycleBudget;
use crate::lora::profile::LinkProfile;
use crate::{Error, Result};

/// The most frames a queue may be configured to hold.
pub const MAX_QUEUE_CAPACITY: usize = 4096;

/// Which frames go first: lower values first, first in first out within a
/// priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Receipts, hop acknowledgements, NACKs and other control frames.
    Control = 0,
    /// Data (sealed messages and their fragments).
    Data = 1,
    /// Announces.
    Announce = 2,
}

/// Back-pressure the caller should act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// The next frame waits for the duty-cycle budget until `until_ms`
    /// (reported once per wait).
    BudgetExhausted {
        /// When it may go.
        until_ms: u64,
    },
}

/// A bounded priority queue in front of one LoRa radio.
#[derive(Debug, Clone)]
pub struct LinkQueue {
    profile: LinkProfile,
    budget: Option<DutyCycleBudget>,
    queues: [VecDeque<(Bytes, u64)>; 3],
    capacity: usize,
    busy_until_ns: u128,
    reported_until: Option<u64>,
    events: VecDeque<LinkEvent>,
    airtime_used_ns: u128,
}

impl LinkQueue {
    /// A queue of at most `capacity` frames (1..=[`MAX_QUEUE_CAPACITY`])
    /// for `profile`, with a duty-cycle window of `window_ms` where the
    /// region has a duty cycle.
    pub fn new(profile: LinkProfile, capacity: usize, window_ms: u64) -> Result<Self> {
        if !(1..=MAX_QUEUE_CAPACITY).contains(&capacity) {
            return Err(Error::InvalidConfig("link queue capacity: 1..=4096"));
        }
        let budget = profile
            .duty_cycle()
            .map(|duty| DutyCycleBudget::new(duty, window_ms))
            .transpose()?;
        Ok(LinkQueue {
            profile,
            budget,
            queues: Default::default(),
            capacity,
            busy_until_ns: 0,
            reported_until: None,
            events: VecDeque::new(),
            airtime_used_ns: 0,
        })
    }

    /// Queues `frame`. Refused, and not queued: `frame_too_long` above the
    /// MTU, `dwell_time_exceeded` beyond the region's dwell time,
    /// `duty_cycle_exceeded` if its airtime exceeds the whole allowance,
    /// `queue_full` when the queue holds its capacity.
    pub fn enqueue(&mut self, priority: Priority, frame: Bytes) -> Result<()> {
        let mtu = self.profile.mtu();
        if frame.len() > mtu {
            return Err(Error::FrameTooLong {
                len: frame.len(),
                max: mtu,
            });
        }
        let airtime_ns = airtime::time_on_air_ns(self.profile.radio(), frame.len())?;
        if let Some(limit_ns) = self.profile.dwell_limit_ns().filter(|&l| airtime_ns > l) {
            return Err(Error::DwellTimeExceeded {
                airtime_ns,
                limit_ns,
            });
        }
        if self
            .budget
            .as_ref()
            .is_some_and(|b| airtime_ns > b.allowance_ns())
        {
            return Err(Error::DutyCycleExceeded { earliest_ms: None });
        }
        if self.len() >= self.capacity {
            return Err(Error::QueueFull);
        }
        self.queues[priority as usize].push_back((frame, airtime_ns));
        Ok(())
    }

    /// Whether `frame` (these exact bytes) waits in the queue.
    pub fn contains(&self, frame: &Bytes) -> bool {
        self.queues.iter().flatten().any(|(f, _)| f == frame)
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Whether no frame waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total airtime transmitted, ns.
    pub fn airtime_used_ns(&self) -> u128 {
        self.airtime_used_ns
    }

    /// The duty-cycle budget, where the region has one.
    pub fn budget(&self) -> Option<&DutyCycleBudget> {
        self.budget.as_ref()
    }

    fn head(&self) -> Option<(usize, u64)> {
        self.queues
            .iter()
            .position(|q| !q.is_empty())
            .map(|i| (i, self.queues[i][0].1))
    }

    /// When the head frame may start (ms, at least `now`).
    fn start_of(&self, airtime_ns: u64, now: u64) -> Option<u64> {
        let idle_ms = u64::try_from(self.busy_until_ns.div_ceil(1_000_000)).ok()?;
        let from = now.max(idle_ms);
        match &self.budget {
            Some(b) => b.earliest(airtime_ns, from),
            None => Some(from),
        }
    }

    /// The next frame to put on air at `now`, if the radio is idle and the
    /// budget allows the highest-priority frame (strict priority: a later
    /// frame never overtakes a waiting one). A wait for the budget is
    /// reported as [`LinkEvent::BudgetExhausted`].
    pub fn poll_transmit(&mut self, now: u64) -> Option<Bytes> {
        let (queue, airtime_ns) = self.head()?;
        let start = self.start_of(airtime_ns, now)?;
        if start > now {
            let idle = u128::from(now) * 1_000_000 >= self.busy_until_ns;
            if idle && self.reported_until != Some(start) {
                self.reported_until = Some(start);
                self.events
                    .push_back(LinkEvent::BudgetExhausted { until_ms: start });
            }
            return None;
        }
        if let Some(b) = &mut self.budget {
            b.transmit(airtime_ns, now).ok()?;
        }
        let (frame, _) = self.queues[queue].pop_front()?;
        self.busy_until_ns = u128::from(now) * 1_000_000 + u128::from(airtime_ns);
        self.airtime_used_ns += u128::from(airtime_ns);
        self.reported_until = None;
        Some(frame)
    }

    /// When to call [`LinkQueue::poll_transmit`] next, if a frame waits.
    pub fn poll_timeout(&self, now: u64) -> Option<u64> {
        let (_, airtime_ns) = self.head()?;
        self.start_of(airtime_ns, now)
    }

    /// The next back-pressure event (at most one is pending).
    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::duty_cycle::{worst_window_ns, Transmission};
    use crate::lora::profile::{Eu868SubBand, RadioParams, RadioProfile, Region};
    use proptest::prelude::*;

    fn link(sf: u8, region: Region) -> LinkProfile {
        LinkProfile::new(RadioProfile::new(RadioParams::lorawan(sf)).unwrap(), region).unwrap()
    }

    #[test]
    fn control_goes_before_data_before_announces() {
        let mut q = LinkQueue::new(link(7, Region::Eu868(Eu868SubBand::G3)), 8, 3_600_000).unwrap();
        q.enqueue(Priority::Announce, Bytes::from_static(b"a"))
            .unwrap();
        q.enqueue(Priority::Data, Bytes::from_static(b"d1"))
            .unwrap();
        q.enqueue(Priority::Control, Bytes::from_static(b"c"))
            .unwrap();
        q.enqueue(Priority::Data, Bytes::from_static(b"d2"))
            .unwrap();
        let mut now = 0;
        let mut order = Vec::new();
        while let Some(t) = q.poll_timeout(now) {
            now = t;
            order.push(q.poll_transmit(now).unwrap());
        }
        assert_eq!(order, [&b"c"[..], b"d1", b"d2", b"a"]);
        assert!(q.poll_event().is_none());
    }

    #[test]
    fn back_pressure_is_reported_not_silent() {
        // SF12 on G2 (0.1%): 3.6 s per hour, one 51-byte frame (2.466 s).
        let mut q =
            LinkQueue::new(link(12, Region::Eu868(Eu868SubBand::G2)), 2, 3_600_000).unwrap();
        let frame = Bytes::from(vec![0; 51]);
        q.enqueue(Priority::Data, frame.clone()).unwrap();
        q.enqueue(Priority::Data, frame.clone()).unwrap();
        assert_eq!(
            q.enqueue(Priority::Control, frame.clone())
                .unwrap_err()
                .class(),
            "queue_full"
        );
        assert_eq!(
            q.enqueue(Priority::Data, Bytes::from(vec![0; 52]))
                .unwrap_err()
                .class(),
            "frame_too_long"
        );
        assert!(q.poll_transmit(0).is_some());
        assert!(q.poll_transmit(5_000).is_none());
        let Some(LinkEvent::BudgetExhausted { until_ms }) = q.poll_event() else {
            panic!("the wait is reported");
        };
        assert!(q.poll_transmit(6_000).is_none());
        assert!(q.poll_event().is_none(), "reported once");
        assert_eq!(q.poll_timeout(6_000), Some(until_ms));
        assert!(q.poll_transmit(until_ms).is_some());
        assert_eq!(q.airtime_used_ns(), 2 * 2_465_792_000);
    }

    #[test]
    fn us915_refuses_frames_beyond_the_dwell_time() {
        // A 32-symbol preamble at SF9: 53 bytes take 427 ms.
        let radio = RadioProfile::new(RadioParams {
            preamble_symbols: 32,
            ..RadioParams::lorawan(9)
        })
        .unwrap();
        let profile = LinkProfile::new(radio, Region::Us915).unwrap();
        let mut q = LinkQueue::new(profile, 4, 3_600_000).unwrap();
        assert!(q.budget().is_none());
        let err = q
            .enqueue(Priority::Data, Bytes::from(vec![0; 53]))
            .unwrap_err();
        assert_eq!(err.class(), "dwell_time_exceeded");
        q.enqueue(Priority::Data, Bytes::from(vec![0; 40])).unwrap();
        assert_eq!(q.poll_transmit(0).map(|f| f.len()), Some(40));
    }

    proptest! {
        /// Random frames, priorities and polling times on random sub-bands,
        /// spreading factors and windows: what the queue puts on air never
        /// overlaps and never exceeds the allowance in any window; nothing
        /// is lost (every frame is queued, refused, sent or still waiting).
        #[test]
        fn the_link_never_transmits_past_its_budget(
            sf in 7u8..=12,
            band in 0usize..4,
            window_ms in 1_000u64..=60_000,
            ops in proptest::collection::vec((0u64..3_000, 1usize..=222, 0usize..3, any::<bool>()), 1..80),
        ) {
            use Eu868SubBand::*;
            let profile = link(sf, Region::Eu868([G1, G2, G3, G4][band]));
            let mut q = LinkQueue::new(profile, 16, window_ms).unwrap();
            let priorities = [Priority::Control, Priority::Data, Priority::Announce];
            let (mut now, mut sent, mut queued) = (0u64, Vec::new(), 0usize);
            for (gap, len, priority, follow_timer) in ops {
                now += gap;
                // Refusals (queue_full, or a frame above the allowance) are
                // the caller's to handle; accepted frames must all go or wait.
                if q.enqueue(priorities[priority], Bytes::from(vec![0; len.min(profile.mtu())])).is_ok() {
                    queued += 1;
                }
                if follow_timer {
                    if let Some(t) = q.poll_timeout(now) {
                        prop_assert!(t >= now);
                        now = t;
                    }
                }
                while let Some(frame) = q.poll_transmit(now) {
                    let airtime_ns = airtime::time_on_air_ns(profile.radio(), frame.len()).unwrap();
                    sent.push(Transmission { start_ns: u128::from(now) * 1_000_000, airtime_ns });
                }
            }
            prop_assert!(sent.windows(2).all(|w| w[0].end_ns() <= w[1].start_ns));
            let allowance = u128::from(q.budget().unwrap().allowance_ns());
            prop_assert!(worst_window_ns(&sent, window_ms) <= allowance);
            prop_assert_eq!(queued, sent.len() + q.len());
        }
    }
}
