//! The symmetric ratchet of one direction (`spec/12-mls-lite.md` §A.5):
//! chain key to message key, each used once and deleted, a bounded window
//! of skipped keys for loss and reordering, and the send counter's
//! persisted reservation (§A.7).

use std::collections::VecDeque;

use crate::session::keys::chain_step;
use crate::symmetric::Secret;
use crate::{Error, Result};

/// The most counters a receiver derives ahead of the next expected one.
pub const MAX_SKIP: u64 = 64;
/// The most skipped message keys a receiver holds (the oldest goes first).
pub const MAX_SKIPPED: usize = 64;
/// Counters reserved by each export of the send state.
pub const RESERVATION: u64 = 16;

/// The sending chain: the chain key of counter `next`.
pub(crate) struct SendChain {
    pub key: Secret,
    pub next: u64,
    /// Counters from here on are not covered by a persisted export.
    pub limit: u64,
}

impl SendChain {
    /// A chain at counter 0 that must be exported before its first use.
    pub fn new(key: Secret) -> Self {
        SendChain {
            key,
            next: 0,
            limit: 0,
        }
    }

    /// The message key of the next counter, deleted from the chain.
    pub fn next_key(&mut self) -> Result<(u32, Secret)> {
        let n = u32::try_from(self.next).map_err(|_| Error::NonceExhausted)?;
        if self.next >= self.limit {
            return Err(Error::WrongState(
                "export the session before sending further",
            ));
        }
        let (mk, ck) = chain_step(&self.key);
        self.key = ck;
        self.next += 1;
        Ok((n, mk))
    }

    /// Reserves [`RESERVATION`] more counters: returns the chain key and
    /// counter a restored session starts from (the live chain may use the
    /// counters up to it).
    pub fn reserve(&mut self) -> (Secret, u64) {
        let limit = (self.next + RESERVATION).min(1 << 32);
        let mut key = self.key.clone();
        for _ in self.next..limit {
            key = chain_step(&key).1;
        }
        self.limit = limit;
        (key, limit)
    }
}

/// Where the key for a received counter comes from.
pub(crate) enum Candidate {
    /// A held skipped key, at this position.
    Skipped(usize, Secret),
    /// Derived ahead: the message key, the chain key after it, and the
    /// skipped keys before it.
    Ahead {
        counter: u64,
        key: Secret,
        chain: Secret,
        skipped: Vec<(u32, Secret)>,
    },
}

impl Candidate {
    /// The message key to try.
    pub fn key(&self) -> &Secret {
        match self {
            Candidate::Skipped(_, key) | Candidate::Ahead { key, .. } => key,
        }
    }
}

/// The receiving chain: the chain key of counter `next` and the skipped
/// keys below it.
pub(crate) struct ReceiveChain {
    pub key: Secret,
    pub next: u64,
    pub skipped: VecDeque<(u32, Secret)>,
}

impl ReceiveChain {
    /// A chain at counter 0.
    pub fn new(key: Secret) -> Self {
        ReceiveChain {
            key,
            next: 0,
            skipped: VecDeque::new(),
        }
    }

    /// The key for counter `n`, without changing the chain (checks D3–D4).
    pub fn candidate(&self, n: u32) -> Result<Candidate> {
        let counter = u64::from(n);
        if counter < self.next {
            return match self.skipped.iter().position(|(c, _)| *c == n) {
                Some(at) => Ok(Candidate::Skipped(at, self.skipped[at].1.clone())),
                None if self.next - counter <= MAX_SKIPPED as u64 => Err(Error::Replayed),
                None => Err(Error::TooOld(counter)),
            };
        }
        if counter - self.next > MAX_SKIP {
            return Err(Error::TooFarAhead {
                got: counter - self.next,
                max: MAX_SKIP,
            });
        }
        let mut chain = self.key.clone();
        let mut skipped = Vec::new();
        for c in self.next..counter {
            let (mk, ck) = chain_step(&chain);
            skipped.push((c as u32, mk));
            chain = ck;
        }
        let (key, chain) = chain_step(&chain);
        Ok(Candidate::Ahead {
            counter,
            key,
            chain,
            skipped,
        })
    }

    /// Adopts a candidate whose message opened: its key is deleted.
    pub fn commit(&mut self, candidate: Candidate) {
        match candidate {
            Candidate::Skipped(at, _) => {
                self.skipped.remove(at);
            }
            Candidate::Ahead {
                counter,
                chain,
                skipped,
                ..
            } => {
                self.skipped.extend(skipped);
                while self.skipped.len() > MAX_SKIPPED {
                    self.skipped.pop_front();
                }
                self.key = chain;
                self.next = counter + 1;
            }
        }
    }
}
