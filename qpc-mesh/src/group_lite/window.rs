//! A sender's replay window (`spec/12-mls-lite.md` §B.4 G4): the highest
//! counter accepted and a 64-bit map of the ones below it.

use crate::{Error, Result};

/// How many counters below the highest accepted one are still accepted
/// once.
pub const REPLAY_WINDOW: u32 = 64;

/// One sender's window; empty until its first message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    highest: Option<u32>,
    /// Bit `i` set: counter `highest - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// `too_old` below the window, `replayed` if accepted before.
    pub fn check(&self, counter: u32) -> Result<()> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if counter > highest {
            return Ok(());
        }
        let age = highest - counter;
        if age >= REPLAY_WINDOW {
            return Err(Error::TooOld(counter.into()));
        }
        match self.seen >> age & 1 {
            1 => Err(Error::Replayed),
            _ => Ok(()),
        }
    }

    /// The highest accepted counter and the map below it (for export).
    pub fn parts(&self) -> (Option<u32>, u64) {
        (self.highest, self.seen)
    }

    /// A window from [`ReplayWindow::parts`] of a window that accepted
    /// `highest` (bit 0 of `seen` set).
    pub fn from_parts(highest: u32, seen: u64) -> Self {
        ReplayWindow {
            highest: Some(highest),
            seen,
        }
    }

    /// Records an accepted counter (after [`ReplayWindow::check`]).
    pub fn mark(&mut self, counter: u32) {
        match self.highest {
            Some(highest) if counter <= highest => self.seen |= 1 << (highest - counter),
            Some(highest) => {
                let shift = counter - highest;
                self.seen = if shift >= 64 { 0 } else { self.seen << shift } | 1;
                self.highest = Some(counter);
            }
            None => {
                self.highest = Some(counter);
                self.seen = 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_counter_once_within_the_window() {
        let mut w = ReplayWindow::default();
        for c in [5, 3, 70, 7] {
            w.check(c).unwrap();
            w.mark(c);
        }
        assert_eq!(w.check(70), Err(Error::Replayed));
        assert_eq!(w.check(7), Err(Error::Replayed));
        assert_eq!(w.check(8), Ok(()));
        assert_eq!(w.check(6).unwrap_err().class(), "too_old");
        assert_eq!(w.check(200), Ok(()));
    }
}
