//! The announce rebroadcast scheduler (`spec/10-mesh.md` §7): per link, a
//! token bucket limits announces to a share of the link's bitrate, and a
//! bounded queue sends the announce with the lowest hop count first.
//!
//! Credit is counted in micro-bits so that integer arithmetic is exact: a
//! link of `bitrate_bps` with a share of `share_permille` earns
//! `bitrate_bps * share_permille` micro-bits per millisecond, and a packet
//! of `n` bytes costs `8 * n * 10^6`.

use std::collections::BTreeMap;

use qpc_crypto::identity::Address;

use crate::routing::LinkId;
use crate::{Error, Result};

/// The largest announce datagram (relayed, with a transmitter hop id).
pub const MAX_ANNOUNCE_LEN: usize = 160;
const MICROBITS_PER_BYTE: u128 = 8_000_000;

/// How much of a link announces may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AirtimeBudget {
    /// The link's bitrate, bits per second (at least 1).
    pub bitrate_bps: u64,
    /// The share of it for announces, in thousandths (1..=1000; 20 = 2%).
    pub share_permille: u16,
    /// Bucket size in bytes (at least [`MAX_ANNOUNCE_LEN`]).
    pub burst_bytes: u32,
    /// Most announces waiting on the link (at least 1).
    pub max_queued: usize,
}

impl AirtimeBudget {
    /// A 2% share with a bucket of one announce and 32 queued.
    pub fn two_percent(bitrate_bps: u64) -> Self {
        AirtimeBudget {
            bitrate_bps,
            share_permille: 20,
            burst_bytes: MAX_ANNOUNCE_LEN as u32,
            max_queued: 32,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.bitrate_bps == 0
            || !(1..=1000).contains(&self.share_permille)
            || (self.burst_bytes as usize) < MAX_ANNOUNCE_LEN
            || self.max_queued == 0
        {
            return Err(Error::InvalidConfig(
                "airtime budget: bitrate >= 1, share 1..=1000 permille, burst >= 160 bytes, queue >= 1",
            ));
        }
        Ok(())
    }

    fn rate(&self) -> u128 {
        u128::from(self.bitrate_bps) * u128::from(self.share_permille)
    }

    fn capacity(&self) -> u128 {
        u128::from(self.burst_bytes) * MICROBITS_PER_BYTE
    }
}

/// Why an announce left a queue without being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A newer or cheaper copy for the same destination replaced it.
    Superseded,
    /// The queue was full and this announce had the highest hop count.
    QueueFull,
}

/// An announce that will not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// The link.
    pub link: LinkId,
    /// The announced address.
    pub destination: Address,
    /// Why.
    pub reason: DropReason,
}

#[derive(Debug, Clone)]
struct Queued {
    destination: Address,
    hop_count: u8,
    order: u64,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct LinkQueue {
    budget: AirtimeBudget,
    credit: u128,
    updated: u64,
    queue: Vec<Queued>,
}

impl LinkQueue {
    fn refill(&mut self, now: u64) {
        self.credit = self.credit_at(now);
        self.updated = self.updated.max(now);
    }

    /// The credit at `now` without changing the state (saturating: any
    /// time span and bitrate are safe).
    fn credit_at(&self, now: u64) -> u128 {
        let elapsed = u128::from(now.saturating_sub(self.updated));
        self.credit
            .saturating_add(elapsed.saturating_mul(self.budget.rate()))
            .min(self.budget.capacity())
    }

    /// Index of the next announce: lowest hop count, then first queued.
    fn head(&self) -> Option<usize> {
        (0..self.queue.len()).min_by_key(|&i| (self.queue[i].hop_count, self.queue[i].order))
    }

    /// Index of the announce to drop first: highest hop count, then last queued.
    fn tail(&self) -> Option<usize> {
        (0..self.queue.len()).max_by_key(|&i| (self.queue[i].hop_count, self.queue[i].order))
    }
}

/// Rate-limited announce queues, one per link.
#[derive(Debug, Clone, Default)]
pub struct AnnounceScheduler {
    links: BTreeMap<LinkId, LinkQueue>,
    next_order: u64,
}

impl AnnounceScheduler {
    /// A scheduler without links.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or reconfigures) a link; its bucket starts full.
    pub fn add_link(&mut self, link: LinkId, budget: AirtimeBudget, now: u64) -> Result<()> {
        budget.validate()?;
        self.links.insert(
            link,
            LinkQueue {
                budget,
                credit: budget.capacity(),
                updated: now,
                queue: Vec::new(),
            },
        );
        Ok(())
    }

    /// Queues an announce datagram (at most [`MAX_ANNOUNCE_LEN`] bytes) for
    /// `link`. Returns what was dropped to keep the bounds, if anything.
    pub fn enqueue(
        &mut self,
        link: LinkId,
        destination: Address,
        hop_count: u8,
        bytes: Vec<u8>,
    ) -> Result<Option<Dropped>> {
        if bytes.len() > MAX_ANNOUNCE_LEN {
            return Err(Error::Malformed {
                message: "announce",
                reason: "longer than 160 bytes",
            });
        }
        let q = self
            .links
            .get_mut(&link)
            .ok_or(Error::InvalidConfig("unknown link"))?;
        let order = self.next_order;
        self.next_order += 1;
        let dropped = |destination, reason| {
            Some(Dropped {
                link,
                destination,
                reason,
            })
        };
        if let Some(old) = q.queue.iter_mut().find(|e| e.destination == destination) {
            old.hop_count = hop_count;
            old.bytes = bytes;
            return Ok(dropped(destination, DropReason::Superseded));
        }
        let new = Queued {
            destination,
            hop_count,
            order,
            bytes,
        };
        if q.queue.len() < q.budget.max_queued {
            q.queue.push(new);
            return Ok(None);
        }
        let worst = q.tail().expect("a full queue is not empty");
        if q.queue[worst].hop_count > hop_count {
            let out = std::mem::replace(&mut q.queue[worst], new);
            return Ok(dropped(out.destination, DropReason::QueueFull));
        }
        Ok(dropped(destination, DropReason::QueueFull))
    }

    /// Replaces the queued copy of `destination`'s announce on `link`, if
    /// one is waiting, with a better one (same sequence, lower cost: §5.3
    /// R8). Returns whether a copy was replaced; nothing is queued otherwise.
    pub fn update_queued(
        &mut self,
        link: LinkId,
        destination: Address,
        hop_count: u8,
        bytes: Vec<u8>,
    ) -> Result<bool> {
        if bytes.len() > MAX_ANNOUNCE_LEN {
            return Err(Error::Malformed {
                message: "announce",
                reason: "longer than 160 bytes",
            });
        }
        let q = self
            .links
            .get_mut(&link)
            .ok_or(Error::InvalidConfig("unknown link"))?;
        match q.queue.iter_mut().find(|e| e.destination == destination) {
            Some(old) => {
                old.hop_count = hop_count;
                old.bytes = bytes;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The next announce whose link has the credit for it (links in id order).
    pub fn poll_transmit(&mut self, now: u64) -> Option<(LinkId, Vec<u8>)> {
        for (link, q) in &mut self.links {
            q.refill(now);
            let Some(i) = q.head() else { continue };
            let cost = q.queue[i].bytes.len() as u128 * MICROBITS_PER_BYTE;
            if q.credit >= cost {
                q.credit -= cost;
                return Some((*link, q.queue.remove(i).bytes));
            }
        }
        None
    }

    /// When the next queued announce can go (`now` if one can go now).
    pub fn poll_timeout(&self, now: u64) -> Option<u64> {
        self.links
            .values()
            .filter_map(|q| {
                let head = &q.queue[q.head()?];
                let credit = q.credit_at(now);
                let cost = head.bytes.len() as u128 * MICROBITS_PER_BYTE;
                let wait = cost.saturating_sub(credit).div_ceil(q.budget.rate());
                Some(now.saturating_add(u64::try_from(wait).unwrap_or(u64::MAX)))
            })
            .min()
    }

    /// Announces waiting on `link`.
    pub fn queued(&self, link: LinkId) -> usize {
        self.links.get(&link).map_or(0, |q| q.queue.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(n: u8) -> Address {
        Address::from_bytes([n; 16])
    }

    #[test]
    fn two_percent_of_1760_bps_sends_one_announce_per_36_seconds() {
        let mut s = AnnounceScheduler::new();
        let link = LinkId(0);
        s.add_link(link, AirtimeBudget::two_percent(1760), 0)
            .unwrap();
        s.enqueue(link, addr(1), 1, vec![0; 160]).unwrap();
        s.enqueue(link, addr(2), 1, vec![0; 160]).unwrap();
        assert_eq!(
            s.poll_transmit(0).map(|(l, b)| (l, b.len())),
            Some((link, 160))
        );
        assert_eq!(s.poll_transmit(0), None);
        // 1280 bits at 35.2 bit/s: 36 364 ms (rounded up).
        assert_eq!(s.poll_timeout(0), Some(36_364));
        assert_eq!(s.poll_transmit(36_363), None);
        assert!(s.poll_transmit(36_364).is_some());
        assert_eq!(s.poll_timeout(36_364), None);
    }

    #[test]
    fn lowest_hop_count_first_and_bounded() {
        let mut s = AnnounceScheduler::new();
        let link = LinkId(3);
        let budget = AirtimeBudget {
            max_queued: 2,
            ..AirtimeBudget::two_percent(1_000_000)
        };
        s.add_link(link, budget, 0).unwrap();
        assert_eq!(s.enqueue(link, addr(1), 5, vec![1]).unwrap(), None);
        assert_eq!(s.enqueue(link, addr(2), 3, vec![2]).unwrap(), None);
        let out = s.enqueue(link, addr(3), 1, vec![3]).unwrap().unwrap();
        assert_eq!(
            (out.destination, out.reason),
            (addr(1), DropReason::QueueFull)
        );
        let refused = s.enqueue(link, addr(4), 9, vec![4]).unwrap().unwrap();
        assert_eq!(refused.destination, addr(4));
        let superseded = s.enqueue(link, addr(2), 0, vec![5]).unwrap().unwrap();
        assert_eq!(superseded.reason, DropReason::Superseded);
        assert_eq!(s.poll_transmit(0).unwrap().1, vec![5]);
        assert_eq!(s.poll_transmit(0).unwrap().1, vec![3]);
        assert_eq!(s.queued(link), 0);
    }

    #[test]
    fn better_copies_replace_only_queued_ones() {
        let mut s = AnnounceScheduler::new();
        let link = LinkId(1);
        s.add_link(link, AirtimeBudget::two_percent(1760), 0)
            .unwrap();
        assert!(!s.update_queued(link, addr(1), 2, vec![1]).unwrap());
        assert_eq!(s.queued(link), 0);
        s.enqueue(link, addr(1), 3, vec![2]).unwrap();
        assert!(s.update_queued(link, addr(1), 2, vec![3]).unwrap());
        assert_eq!(s.poll_transmit(0).unwrap().1, vec![3]);
        assert!(s.update_queued(LinkId(9), addr(1), 2, vec![3]).is_err());
    }

    #[test]
    fn extreme_times_and_rates_do_not_overflow() {
        let mut s = AnnounceScheduler::new();
        let budget = AirtimeBudget {
            bitrate_bps: u64::MAX,
            share_permille: 1000,
            burst_bytes: u32::MAX,
            max_queued: 1,
        };
        s.add_link(LinkId(0), budget, 0).unwrap();
        s.poll_transmit(u64::MAX);
        s.enqueue(LinkId(0), addr(1), 0, vec![0; 160]).unwrap();
        assert_eq!(s.poll_timeout(u64::MAX), Some(u64::MAX));
        assert!(s.poll_transmit(u64::MAX).is_some());
    }

    proptest! {
        #[test]
        fn airtime_never_exceeds_the_share(gaps in proptest::collection::vec(0u64..5_000, 1..60)) {
            let mut s = AnnounceScheduler::new();
            let link = LinkId(0);
            let budget = AirtimeBudget::two_percent(10_000);
            s.add_link(link, budget, 0).unwrap();
            let (mut now, mut sent_bits) = (0u64, 0u128);
            for (i, gap) in gaps.iter().enumerate() {
                now += gap;
                let _ = s.enqueue(link, addr(i as u8), (i % 4) as u8, vec![0; 100]).unwrap();
                while let Some((_, b)) = s.poll_transmit(now) {
                    sent_bits += b.len() as u128 * 8;
                }
            }
            // Bucket plus earned credit: burst + rate * elapsed.
            let allowed = 160 * 8 + u128::from(now) * 10_000 * 20 / 1_000_000;
            prop_assert!(sent_bits <= allowed);
        }
    }
}
