//! Sender-side delivery tracking for end-to-end receipts
//! (`spec/10-mesh.md` §12.3): which messages await a receipt, when to send
//! them again with exponential backoff and jitter, and when to give up.
//! `MeshNode` calls [`DeliveryTracker::acknowledge`] once a receipt's key
//! matched; the receiver suppresses the duplicates a retry creates.

use std::collections::BTreeMap;

use qpc_crypto::identity::Address;
use rand_core::CryptoRng;

use crate::{Error, Result};

/// When to retry and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry, ms (at least 1).
    pub first_timeout_ms: u64,
    /// Largest wait between two attempts, ms (at least `first_timeout_ms`).
    pub max_timeout_ms: u64,
    /// Transmissions in all, the first included (at least 1).
    pub max_attempts: u8,
    /// Each wait is drawn uniformly within ± this share of it, in
    /// thousandths (0..=500), so that nodes do not retry in lockstep.
    pub jitter_permille: u16,
}

impl Default for RetryPolicy {
    /// LoRa-friendly: 60 s, doubling up to 16 min, six transmissions,
    /// ±25%: a message is given up about 47 minutes after it was sent.
    fn default() -> Self {
        RetryPolicy {
            first_timeout_ms: 60_000,
            max_timeout_ms: 960_000,
            max_attempts: 6,
            jitter_permille: 250,
        }
    }
}

impl RetryPolicy {
    fn validate(&self) -> Result<()> {
        if self.first_timeout_ms == 0
            || self.max_timeout_ms < self.first_timeout_ms
            || self.max_attempts == 0
            || self.jitter_permille > 500
        {
            return Err(Error::InvalidConfig(
                "retry policy: first timeout >= 1, max >= first, attempts >= 1, jitter <= 500",
            ));
        }
        Ok(())
    }

    /// The nominal wait after transmission `attempt` (1-based):
    /// `min(max, first * 2^(attempt - 1))`.
    pub fn nominal_wait(&self, attempt: u8) -> u64 {
        let doublings = u32::from(attempt.saturating_sub(1)).min(63);
        self.first_timeout_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_timeout_ms)
    }

    fn wait(&self, attempt: u8, rng: &mut impl CryptoRng) -> u64 {
        let nominal = self.nominal_wait(attempt);
        let spread = nominal * u64::from(self.jitter_permille) / 1000;
        // Uniform in nominal - spread ..= nominal + spread.
        let draw = (u128::from(rng.next_u64()) * u128::from(2 * spread + 1)) >> 64;
        (nominal - spread + draw as u64).max(1)
    }
}

/// What the tracker asks of the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// Send the message again (with a fresh envelope message id, as the
    /// relays' duplicate filters remember the old one).
    Retry {
        /// The tracked message.
        handle: u64,
        /// Its destination.
        destination: Address,
        /// This transmission's number (2 for the first retry).
        attempt: u8,
    },
    /// No receipt after every attempt: the message is given up.
    GaveUp {
        /// The tracked message.
        handle: u64,
        /// Its destination.
        destination: Address,
    },
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    destination: Address,
    attempts: u8,
    next_at: u64,
}

/// Messages awaiting a receipt, at most `capacity` of them.
#[derive(Debug, Clone)]
pub struct DeliveryTracker {
    policy: RetryPolicy,
    capacity: usize,
    pending: BTreeMap<u64, Pending>,
}

impl DeliveryTracker {
    /// A tracker with `policy` for at most `capacity` (at least 1) messages.
    pub fn new(policy: RetryPolicy, capacity: usize) -> Result<Self> {
        policy.validate()?;
        if capacity == 0 {
            return Err(Error::InvalidConfig("delivery capacity must be at least 1"));
        }
        Ok(DeliveryTracker {
            policy,
            capacity,
            pending: BTreeMap::new(),
        })
    }

    /// Starts tracking a message just sent for the first time. Returns
    /// `false`, tracking nothing, if the tracker is full or the id is
    /// already tracked.
    pub fn track(
        &mut self,
        handle: u64,
        destination: Address,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> bool {
        if self.pending.len() >= self.capacity || self.pending.contains_key(&handle) {
            return false;
        }
        let next_at = now.saturating_add(self.policy.wait(1, rng));
        self.pending.insert(
            handle,
            Pending {
                destination,
                attempts: 1,
                next_at,
            },
        );
        true
    }

    /// A verified receipt arrived: stop tracking. `false` if the message
    /// was not tracked (a duplicate or late receipt).
    pub fn acknowledge(&mut self, handle: u64) -> bool {
        self.pending.remove(&handle).is_some()
    }

    /// A tracked message's transmissions so far and when its next retry
    /// or give-up is due, for persistence.
    pub fn progress(&self, handle: u64) -> Option<(u8, u64)> {
        self.pending.get(&handle).map(|p| (p.attempts, p.next_at))
    }

    /// Tracks a message restored from persisted state. `false`, tracking
    /// nothing, if full, already tracked, or `attempts` is 0 or above the
    /// policy's maximum.
    pub fn restore(
        &mut self,
        handle: u64,
        destination: Address,
        attempts: u8,
        next_at: u64,
    ) -> bool {
        if self.pending.len() >= self.capacity
            || self.pending.contains_key(&handle)
            || !(1..=self.policy.max_attempts).contains(&attempts)
        {
            return false;
        }
        self.pending.insert(
            handle,
            Pending {
                destination,
                attempts,
                next_at,
            },
        );
        true
    }

    /// Whether `handle` is tracked.
    pub fn contains(&self, handle: u64) -> bool {
        self.pending.contains_key(&handle)
    }

    /// The most messages tracked at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Messages awaiting a receipt.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing awaits a receipt.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When [`DeliveryTracker::handle_timeout`] is next needed.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.pending.values().map(|p| p.next_at).min()
    }

    /// Retries and give-ups due at `now`, in message-id order.
    pub fn handle_timeout(&mut self, now: u64, rng: &mut impl CryptoRng) -> Vec<DeliveryEvent> {
        let due: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.next_at <= now)
            .map(|(&id, _)| id)
            .collect();
        let mut events = Vec::with_capacity(due.len());
        for handle in due {
            let p = self.pending.get_mut(&handle).expect("due entries exist");
            if p.attempts >= self.policy.max_attempts {
                let destination = p.destination;
                self.pending.remove(&handle);
                events.push(DeliveryEvent::GaveUp {
                    handle,
                    destination,
                });
                continue;
            }
            p.attempts += 1;
            p.next_at = now.saturating_add(self.policy.wait(p.attempts, rng));
            events.push(DeliveryEvent::Retry {
                handle,
                destination: p.destination,
                attempt: p.attempts,
            });
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn dest() -> Address {
        Address::from_bytes([7; 16])
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let policy = RetryPolicy {
            first_timeout_ms: 100,
            max_timeout_ms: 300,
            max_attempts: 4,
            jitter_permille: 0,
        };
        assert_eq!(
            (1..=4).map(|a| policy.nominal_wait(a)).collect::<Vec<_>>(),
            [100, 200, 300, 300]
        );
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let mut t = DeliveryTracker::new(policy, 4).unwrap();
        assert!(t.track(9, dest(), 0, &mut rng));
        assert!(!t.track(9, dest(), 0, &mut rng), "already tracked");
        let mut log = Vec::new();
        while let Some(at) = t.poll_timeout() {
            log.push((at, t.handle_timeout(at, &mut rng)));
        }
        let retry = |attempt| DeliveryEvent::Retry {
            handle: 9,
            destination: dest(),
            attempt,
        };
        let gave_up = DeliveryEvent::GaveUp {
            handle: 9,
            destination: dest(),
        };
        assert_eq!(
            log,
            [
                (100, vec![retry(2)]),
                (300, vec![retry(3)]),
                (600, vec![retry(4)]),
                (900, vec![gave_up])
            ]
        );
        assert!(t.is_empty());
    }

    #[test]
    fn receipts_stop_retries_and_capacity_is_bounded() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let mut t = DeliveryTracker::new(RetryPolicy::default(), 2).unwrap();
        assert!(t.track(1, dest(), 0, &mut rng));
        assert!(t.track(2, dest(), 0, &mut rng));
        assert!(!t.track(3, dest(), 0, &mut rng), "full");
        assert!(t.acknowledge(1));
        assert!(!t.acknowledge(1), "a duplicate receipt");
        let events = t.handle_timeout(u64::MAX, &mut rng);
        assert_eq!(events.len(), 1);
        assert!(matches!(
            events[0],
            DeliveryEvent::Retry {
                handle: 2,
                attempt: 2,
                ..
            }
        ));
        let bad = RetryPolicy {
            jitter_permille: 501,
            ..RetryPolicy::default()
        };
        assert!(DeliveryTracker::new(bad, 1).is_err());
    }

    proptest! {
        #[test]
        fn waits_stay_within_the_jitter(seed: [u8; 32], attempt in 1u8..10) {
            let policy = RetryPolicy::default();
            let mut rng = ChaCha20Rng::from_seed(seed);
            let nominal = policy.nominal_wait(attempt);
            let w = policy.wait(attempt, &mut rng);
            prop_assert!(w >= nominal * 3 / 4 && w <= nominal * 5 / 4);
        }

        #[test]
        fn every_message_ends_acknowledged_or_given_up(
            seed: [u8; 32],
            acks in proptest::collection::vec(any::<bool>(), 1..12),
        ) {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let policy = RetryPolicy::default();
            let mut t = DeliveryTracker::new(policy, 16).unwrap();
            for id in 0..acks.len() as u64 {
                prop_assert!(t.track(id, dest(), 0, &mut rng));
            }
            let (mut retries, mut gave_up) = (0usize, 0usize);
            let mut last = 0;
            while let Some(at) = t.poll_timeout() {
                prop_assert!(at >= last);
                last = at;
                for e in t.handle_timeout(at, &mut rng) {
                    match e {
                        DeliveryEvent::Retry { handle, attempt, .. } => {
                            retries += 1;
                            prop_assert!(attempt <= policy.max_attempts);
                            if acks[handle as usize] {
                                t.acknowledge(handle);
                            }
                        }
                        DeliveryEvent::GaveUp { handle, .. } => {
                            gave_up += 1;
                            prop_assert!(!acks[handle as usize]);
                        }
                    }
                }
            }
            let never_acked = acks.iter().filter(|a| !**a).count();
            prop_assert_eq!(gave_up, never_acked);
            prop_assert_eq!(retries, acks.len() + never_acked * 4);
        }
    }
}
