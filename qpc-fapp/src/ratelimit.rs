//! Per-neighbour token buckets (`spec/20-fapp.md` §11.4): each message a
//! neighbour sends the relay costs one token; a bucket holds at most
//! `burst` tokens and refills at `per_second` tokens a second. Buckets are
//! bounded: a new neighbour beyond `max_neighbours` replaces the one heard
//! from least recently.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::outgoing::NeighbourId;

/// Milli-tokens per token: buckets count in thousandths so that refill is
/// exact in integer milliseconds.
const MILLI: u64 = 1000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: u64,
    last_ms: u64,
}

/// The token buckets of every neighbour.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    burst: u64,
    per_second: u64,
    max_neighbours: usize,
    buckets: HashMap<NeighbourId, Bucket>,
}

impl RateLimiter {
    /// Buckets of `burst` tokens refilled at `per_second` tokens a second,
    /// for at most `max_neighbours` neighbours.
    pub fn new(burst: u32, per_second: u32, max_neighbours: usize) -> Self {
        RateLimiter {
            burst: u64::from(burst) * MILLI,
            per_second: u64::from(per_second),
            max_neighbours,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token from `from`'s bucket at `now`: `rate_limited` if
    /// there is none.
    pub fn take(&mut self, from: NeighbourId, now: u64) -> Result<()> {
        if !self.buckets.contains_key(&from) && self.buckets.len() >= self.max_neighbours {
            let idlest = self.buckets.iter().min_by_key(|(id, b)| (b.last_ms, **id));
            if let Some((&idlest, _)) = idlest {
                self.buckets.remove(&idlest);
            }
        }
        let burst = self.burst;
        let bucket = self.buckets.entry(from).or_insert(Bucket {
            level: burst,
            last_ms: now,
        });
        let elapsed = now.saturating_sub(bucket.last_ms);
        bucket.level = burst.min(
            bucket
                .level
                .saturating_add(elapsed.saturating_mul(self.per_second)),
        );
        bucket.last_ms = bucket.last_ms.max(now);
        if bucket.level < MILLI {
            return Err(Error::RateLimited(from.0));
        }
        bucket.level -= MILLI;
        Ok(())
    }
}
