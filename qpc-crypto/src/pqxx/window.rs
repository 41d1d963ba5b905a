//! A sliding replay window over datagram counters (the bitmap of RFC 6479).
//!
//! The window remembers the highest counter accepted and which of the
//! `size` counters below it were seen. A counter above the highest is new;
//! one `size` or more below it is too old; one inside the window is new
//! unless its bit is set. Checking never changes the window: only
//! authenticated records are marked ([`NonceWindow::mark`]).

use crate::Error;

/// The replay window. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct NonceWindow {
    bits: Vec<u64>,
    highest: Option<u64>,
}

impl NonceWindow {
    /// A window remembering `size` counters, rounded up to a multiple of 64.
    pub fn new(size: usize) -> Self {
        NonceWindow {
            bits: vec![0; size.div_ceil(64).max(1)],
            highest: None,
        }
    }

    /// How many counters the window covers.
    pub fn size(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// Whether `counter` (reported as `nonce` in errors) may be accepted.
    pub fn check(&self, counter: u64, nonce: u64) -> Result<(), Error> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if counter > highest {
            return Ok(());
        }
        if highest - counter >= self.size() {
            return Err(Error::TooOld { nonce });
        }
        if self.bit(counter) {
            return Err(Error::Replayed);
        }
        Ok(())
    }

    /// Records `counter` as seen (after [`check`](Self::check) passed and
    /// the record authenticated).
    pub fn mark(&mut self, counter: u64) {
        match self.highest {
            Some(highest) if counter <= highest => {}
            Some(highest) => {
                let cleared = (counter - highest).min(self.size());
                for c in (counter - cleared + 1)..=counter {
                    self.set_bit(c, false);
                }
                self.highest = Some(counter);
            }
            None => self.highest = Some(counter),
        }
        self.set_bit(counter, true);
    }

    fn slot(&self, counter: u64) -> (usize, u64) {
        let index = counter % self.size();
        ((index / 64) as usize, 1 << (index % 64))
    }

    fn bit(&self, counter: u64) -> bool {
        let (word, mask) = self.slot(counter);
        self.bits[word] & mask != 0
    }

    fn set_bit(&mut self, counter: u64, value: bool) {
        let (word, mask) = self.slot(counter);
        if value {
            self.bits[word] |= mask;
        } else {
            self.bits[word] &= !mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_once_and_refuses_old() {
        let mut w = NonceWindow::new(1024);
        for c in [5, 3, 1028, 7] {
            assert!(w.check(c, c).is_ok(), "{c}");
            w.mark(c);
        }
        assert_eq!(w.check(5, 5), Err(Error::Replayed));
        assert_eq!(w.check(4, 4), Err(Error::TooOld { nonce: 4 }));
        assert!(w.check(6, 6).is_ok());
        assert_eq!(w.check(1028, 1028), Err(Error::Replayed));
    }

    proptest! {
        /// The window agrees with a model that remembers every counter:
        /// nothing is accepted twice, and everything new inside the window
        /// is accepted.
        #[test]
        fn matches_a_complete_model(counters in proptest::collection::vec(0u64..5000, 1..400)) {
            let mut w = NonceWindow::new(1024);
            let mut seen = std::collections::BTreeSet::new();
            for c in counters {
                let highest = seen.iter().next_back().copied();
                let in_window = highest.is_none_or(|h| c > h || h - c < 1024);
                match w.check(c, c) {
                    Ok(()) => {
                        prop_assert!(in_window && !seen.contains(&c));
                        w.mark(c);
                        seen.insert(c);
                    }
                    Err(Error::Replayed) => prop_assert!(seen.contains(&c) && in_window),
                    Err(Error::TooOld { .. }) => prop_assert!(!in_window),
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                }
            }
        }
    }
}
