//! Cover traffic (`spec/04-padding.md`, "Decoy traffic"): a sans-IO
//! scheduler whose output is a Poisson process of sending slots,
//! independent of when the user actually sends.
//!
//! Real messages wait in a bounded queue for the next slot; a slot with
//! nothing queued carries a decoy: a sealed-sender message of kind
//! [`Kind::Decoy`] with random content of the same padded size, which the
//! recipient discards after decryption. On the sender's link an observer
//! sees the same stream of equally sized sealed messages whatever the user
//! does. Inter-slot gaps are exponential with the configured mean, drawn
//! from the injected RNG; time comes from the caller.
//!
//! ```
//! use qpc_crypto::cover::{CoverScheduler, Slot};
//! use qpc_wire::Timestamp;
//! use rand_core::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let mut cover = CoverScheduler::new(60_000, 16, Timestamp(0), &mut rng);
//! cover.push("hello").unwrap();
//! let due = cover.poll_timeout();
//! assert_eq!(cover.handle_timeout(due, &mut rng), Some(Slot::Real("hello")));
//! let next = cover.poll_timeout();
//! assert_eq!(cover.handle_timeout(next, &mut rng), Some(Slot::Decoy));
//! ```

use std::collections::VecDeque;

use qpc_wire::Timestamp;
use rand_core::CryptoRng;

use crate::identity::PublicIdentity;
use crate::padding::Padding;
use crate::sealed_sender::{Kind, Sender};
use crate::Error;

/// What a slot carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot<T> {
    /// The oldest queued real message.
    Real(T),
    /// Nothing was queued: send a decoy.
    Decoy,
}

/// The scheduler. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct CoverScheduler<T> {
    mean_interval_ms: u64,
    capacity: usize,
    queue: VecDeque<T>,
    next_slot: Timestamp,
}

/// An exponentially distributed delay with the given mean, from `rng`.
fn exponential_ms(mean_ms: u64, rng: &mut impl CryptoRng) -> u64 {
    // U uniform in (0, 1] from 53 random bits; -ln(U) is Exp(1).
    let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    (-u.ln() * mean_ms as f64).round() as u64
}

impl<T> CoverScheduler<T> {
    /// Slots every `mean_interval_ms` on average (at least 1); at most
    /// `capacity` (at least 1) real messages wait. The first slot is drawn from `now`.
    pub fn new(
        mean_interval_ms: u64,
        capacity: usize,
        now: Timestamp,
        rng: &mut impl CryptoRng,
    ) -> Self {
        let mean_interval_ms = mean_interval_ms.max(1);
        CoverScheduler {
            mean_interval_ms,
            capacity: capacity.max(1),
            queue: VecDeque::new(),
            next_slot: Timestamp(now.0.saturating_add(exponential_ms(mean_interval_ms, rng))),
        }
    }

    /// Queues a real message for the next free slot; refuses (returning it)
    /// when the queue is full, so the caller can apply back-pressure.
    pub fn push(&mut self, message: T) -> Result<(), T> {
        if self.queue.len() >= self.capacity {
            return Err(message);
        }
        self.queue.push_back(message);
        Ok(())
    }

    /// Real messages waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// When the next slot is due.
    pub fn poll_timeout(&self) -> Timestamp {
        self.next_slot
    }

    /// If a slot is due at `now`, returns what to send in it and draws the
    /// next slot, no earlier than `now`. Slots missed by a late driver are
    /// dropped, not sent in a burst: after a late call at most one more slot
    /// follows at once, then the Poisson schedule resumes.
    pub fn handle_timeout(&mut self, now: Timestamp, rng: &mut impl CryptoRng) -> Option<Slot<T>> {
        if now < self.next_slot {
            return None;
        }
        let gap = exponential_ms(self.mean_interval_ms, rng);
        self.next_slot = Timestamp(self.next_slot.0.saturating_add(gap).max(now.0));
        Some(self.queue.pop_front().map_or(Slot::Decoy, Slot::Real))
    }
}

/// Seals a decoy to `recipient`: random content of `content_len` bytes (use
/// the length of typical real content so the padded sizes match).
pub fn seal_decoy(
    sender: &Sender<'_>,
    recipient: &PublicIdentity,
    now_ms: u64,
    content_len: usize,
    padding: Padding,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, Error> {
    let mut content = vec![0u8; content_len];
    rng.fill_bytes(&mut content);
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    sender.seal(recipient, Kind::Decoy, now_ms, id, &content, padding, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn output_rate_does_not_depend_on_real_traffic() {
        // Two users, same RNG seed: one idle, one busy. Their slot times are
        // identical; only the (encrypted) contents differ.
        let times = |busy: bool| {
            let mut rng = ChaCha20Rng::seed_from_u64(7);
            let mut s = CoverScheduler::new(1000, 1000, Timestamp(0), &mut rng);
            let mut out = Vec::new();
            for i in 0..500u32 {
                if busy && i % 3 == 0 {
                    let _ = s.push(i);
                }
                let due = s.poll_timeout();
                let slot = s.handle_timeout(due, &mut rng).unwrap();
                out.push((due, matches!(slot, Slot::Real(_))));
            }
            out
        };
        let (idle, busy) = (times(false), times(true));
        assert!(idle.iter().zip(&busy).all(|(a, b)| a.0 == b.0));
        assert!(busy.iter().any(|s| s.1) && !idle.iter().any(|s| s.1));
        // Mean gap close to the configured 1000 ms.
        let mean = idle.last().unwrap().0 .0 as f64 / idle.len() as f64;
        assert!((850.0..1150.0).contains(&mean), "mean gap {mean}");
    }

    #[test]
    fn decoys_look_like_messages_and_are_discarded() {
        use crate::certificate::Issuer;
        use crate::identity::Identity;
        use crate::sealed_sender::{Receiver, ReceiverConfig};

        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let issuer = Issuer::from_seed(&[9; 32]);
        let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
        let sender = Sender::new(&alice, issuer.issue(alice.public(), u64::MAX)).unwrap();
        let mut bob = Receiver::new(
            Identity::from_seeds(&[3; 32], &[4; 32]),
            vec![issuer.trust_root().clone()],
            ReceiverConfig::default(),
        );
        let bob_public = bob.identity().public().clone();
        let now = 1_700_000_000_000;
        let decoy = seal_decoy(&sender, &bob_public, now, 300, Padding::Padme, &mut rng).unwrap();
        let real = sender
            .seal(
                &bob_public,
                Kind::Message,
                now,
                [1; 16],
                &[b'x'; 300],
                Padding::Padme,
                &mut rng,
            )
            .unwrap();
        assert_eq!(decoy.len(), real.len());
        assert_eq!(bob.open(now, &decoy).unwrap(), None);
        assert_eq!(bob.open(now, &real).unwrap().unwrap().content, [b'x'; 300]);
    }

    #[test]
    fn queue_is_bounded_and_fifo() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut s = CoverScheduler::new(10, 2, Timestamp(0), &mut rng);
        s.push(1).unwrap();
        s.push(2).unwrap();
        assert_eq!(s.push(3), Err(3));
        assert_eq!(
            s.handle_timeout(Timestamp(0), &mut rng).is_none(),
            s.poll_timeout() > Timestamp(0)
        );
        let due = s.poll_timeout();
        assert_eq!(s.handle_timeout(due, &mut rng), Some(Slot::Real(1)));
    }
}
