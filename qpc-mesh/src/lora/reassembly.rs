//! The receiving side of fragmentation (`spec/11-lora-link.md` §6.5):
//! a bounded reassembler with timeouts, duplicate and conflict handling and
//! selective-repeat NACKs.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::lora::frame::{Fragment, LinkFrame, Nack};
use crate::{Error, Result};

/// The reassembler's bounds and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Most datagrams in reassembly at once (1..=256).
    pub max_entries: usize,
    /// Most of them from one source (1..=`max_entries`).
    pub max_entries_per_source: usize,
    /// Most fragment bytes held in all (255..=1 MiB).
    pub max_bytes: usize,
    /// Longest datagram accepted (1..=16064 = 64 × 251).
    pub max_datagram_len: usize,
    /// A datagram not complete this long after its first fragment is
    /// given up, ms.
    pub lifetime_ms: u64,
    /// Quiet time after the last new fragment before a NACK, ms (at
    /// least 1).
    pub nack_delay_ms: u64,
    /// Each NACK answered by no new fragment doubles the quiet time before
    /// the next one, up to this, ms (at least `nack_delay_ms`; equal to
    /// it: a constant delay). A sender waiting for its duty-cycle budget
    /// cannot answer for up to a window, and the backoff spans that wait
    /// with few NACKs (spec §6.5).
    pub max_nack_delay_ms: u64,
    /// Most NACKs per datagram (0..=16); after the last one and one more
    /// quiet time the datagram is given up.
    pub max_nacks: u8,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_entries: 16,
            max_entries_per_source: 4,
            max_bytes: 16_384,
            max_datagram_len: 4096,
            lifetime_ms: 600_000,
            nack_delay_ms: 10_000,
            max_nack_delay_ms: 10_000,
            max_nacks: 4,
        }
    }
}

impl ReassemblyConfig {
    fn validate(&self) -> Result<()> {
        if !(1..=256).contains(&self.max_entries)
            || !(1..=self.max_entries).contains(&self.max_entries_per_source)
            || !(255..=1 << 20).contains(&self.max_bytes)
            || !(1..=64 * 251).contains(&self.max_datagram_len)
            || self.nack_delay_ms == 0
            || self.max_nack_delay_ms < self.nack_delay_ms
            || self.max_nacks > 16
        {
            return Err(Error::InvalidConfig(
                "reassembly: 1..=256 entries, per source 1..=entries, 255 B..=1 MiB, datagram 1..=16064 B, NACK delay >= 1 ms, longest NACK delay >= NACK delay, <= 16 NACKs",
            ));
        }
        Ok(())
    }
}

/// What a received frame gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A complete datagram (a whole frame, or the fragment that completed
    /// one).
    Datagram(Bytes),
    /// A new fragment, held.
    Stored,
    /// A copy of a fragment already held: ignored.
    Duplicate,
    /// A NACK, for the sender side ([`crate::lora::fragment::Fragmenter`]).
    Nack(Nack),
}

/// A datagram the reassembler gave up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaveUp {
    /// The source the caller named.
    pub source: u32,
    /// The datagram's tag.
    pub tag: u16,
    /// Fragments that arrived.
    pub received: u8,
    /// Fragments of the datagram.
    pub count: u8,
}

#[derive(Debug, Clone)]
struct Entry {
    source: u32,
    tag: u16,
    last: u8,
    parts: Vec<Option<Bytes>>,
    have: u64,
    bytes: usize,
    first_ms: u64,
    quiet_since_ms: u64,
    nacks: u8,
    /// NACKs sent since the last new fragment.
    unanswered: u8,
}

impl Entry {
    fn missing(&self) -> u64 {
        !self.have & (u64::MAX >> (63 - self.last))
    }

    /// The quiet time before the next NACK (or the give-up):
    /// `min(nack_delay · 2^unanswered, max_nack_delay)`.
    fn quiet_ms(&self, config: &ReassemblyConfig) -> u64 {
        let factor = 1u64.checked_shl(u32::from(self.unanswered));
        config
            .nack_delay_ms
            .saturating_mul(factor.unwrap_or(u64::MAX))
            .min(config.max_nack_delay_ms)
    }

    fn deadline(&self, config: &ReassemblyConfig) -> u64 {
        self.first_ms
            .saturating_add(config.lifetime_ms)
            .min(self.quiet_since_ms.saturating_add(self.quiet_ms(config)))
    }
}

/// Reassembles fragmented datagrams from any number of sources, within
/// fixed bounds.
#[derive(Debug, Clone)]
pub struct Reassembler {
    config: ReassemblyConfig,
    entries: Vec<Entry>,
    held_bytes: usize,
    transmits: VecDeque<Bytes>,
    events: VecDeque<GaveUp>,
}

impl Reassembler {
    /// A reassembler with `config`.
    pub fn new(config: ReassemblyConfig) -> Result<Self> {
        config.validate()?;
        Ok(Reassembler {
            config,
            entries: Vec::new(),
            held_bytes: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// Handles one frame heard at `now` from `source` (a link-level
    /// source the driver knows, or 0). Fragment errors: the frame's
    /// decoding error; `conflicting_fragment` (the datagram is dropped);
    /// `datagram_too_long` (dropped); `reassembly_full` (the byte bound:
    /// the fragment is not held). At an entry bound the oldest partial
    /// datagram is given up to admit a new one.
    pub fn handle_frame(&mut self, now: u64, source: u32, frame: Bytes) -> Result<Received> {
        match LinkFrame::decode(frame)? {
            LinkFrame::Whole(datagram) => Ok(Received::Datagram(datagram)),
            LinkFrame::Nack(nack) => Ok(Received::Nack(nack)),
            LinkFrame::Fragment(f) => self.handle_fragment(now, source, f),
        }
    }

    fn handle_fragment(&mut self, now: u64, source: u32, f: Fragment) -> Result<Received> {
        let len = f.payload.len();
        let pos = match self
            .entries
            .iter()
            .position(|e| e.source == source && e.tag == f.tag)
        {
            Some(pos) => pos,
            None => {
                self.admit(source);
                self.entries.push(Entry {
                    source,
                    tag: f.tag,
                    last: f.last,
                    parts: vec![None; usize::from(f.last) + 1],
                    have: 0,
                    bytes: 0,
                    first_ms: now,
                    quiet_since_ms: now,
                    nacks: 0,
                    unanswered: 0,
                });
                self.entries.len() - 1
            }
        };
        let entry = &self.entries[pos];
        if entry.last != f.last {
            self.drop_entry(pos);
            return Err(Error::ConflictingFragment { tag: f.tag });
        }
        if let Some(held) = &entry.parts[usize::from(f.index)] {
            if *held == f.payload {
                return Ok(Received::Duplicate);
            }
            self.drop_entry(pos);
            return Err(Error::ConflictingFragment { tag: f.tag });
        }
        let total = entry.bytes + len;
        if total > self.config.max_datagram_len {
            self.drop_entry(pos);
            return Err(Error::DatagramTooLong {
                len: total,
                max: self.config.max_datagram_len,
            });
        }
        if self.held_bytes + len > self.config.max_bytes {
            if entry.have == 0 {
                self.drop_entry(pos);
            }
            return Err(Error::ReassemblyFull("bytes held"));
        }
        self.held_bytes += len;
        let entry = &mut self.entries[pos];
        entry.bytes += len;
        entry.have |= 1 << f.index;
        entry.quiet_since_ms = now;
        entry.unanswered = 0;
        entry.parts[usize::from(f.index)] = Some(f.payload);
        if entry.missing() != 0 {
            return Ok(Received::Stored);
        }
        let entry = self.take_entry(pos);
        let mut datagram = BytesMut::with_capacity(entry.bytes);
        for part in entry.parts.into_iter().flatten() {
            datagram.extend_from_slice(&part);
        }
        Ok(Received::Datagram(datagram.freeze()))
    }

    /// Makes room for a new entry from `source`: at the source's bound its
    /// oldest partial datagram is given up, else at the total bound the
    /// oldest of all (oldest: the smallest `(first, source, tag)`). A
    /// sender that sends anew has given up its older datagrams; a stale
    /// entry (an overheard datagram, one its sender abandoned) must not
    /// shut out the next one for its whole lifetime.
    fn admit(&mut self, source: u32) {
        let from_source = self.entries.iter().filter(|e| e.source == source).count();
        let pick = if from_source >= self.config.max_entries_per_source {
            Some(source)
        } else if self.entries.len() >= self.config.max_entries {
            None
        } else {
            return;
        };
        let oldest = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| pick.is_none_or(|s| e.source == s))
            .min_by_key(|(_, e)| (e.first_ms, e.source, e.tag))
            .map(|(pos, _)| pos);
        if let Some(pos) = oldest {
            self.give_up(pos);
        }
    }

    fn take_entry(&mut self, pos: usize) -> Entry {
        let entry = self.entries.swap_remove(pos);
        self.held_bytes -= entry.bytes;
        entry
    }

    fn drop_entry(&mut self, pos: usize) {
        self.take_entry(pos);
    }

    fn give_up(&mut self, pos: usize) {
        let e = self.take_entry(pos);
        if self.events.len() == self.config.max_entries {
            self.events.pop_front();
        }
        self.events.push_back(GaveUp {
            source: e.source,
            tag: e.tag,
            received: e.have.count_ones() as u8,
            count: e.last + 1,
        });
    }

    /// Runs the timers due at `now`: a NACK for each quiet incomplete
    /// datagram with NACKs left, give-up for the others and for those past
    /// their lifetime. The quiet time doubles with each NACK that no new
    /// fragment followed, up to `max_nack_delay_ms`.
    pub fn handle_timeout(&mut self, now: u64) {
        let mut pos = 0;
        while pos < self.entries.len() {
            let config = self.config;
            let e = &mut self.entries[pos];
            let expired = now >= e.first_ms.saturating_add(config.lifetime_ms);
            let quiet = now >= e.quiet_since_ms.saturating_add(e.quiet_ms(&config));
            if expired || (quiet && e.nacks == config.max_nacks) {
                self.give_up(pos);
                continue;
            }
            if quiet {
                e.nacks += 1;
                e.unanswered = e.unanswered.saturating_add(1);
                e.quiet_since_ms = now;
                let nack = LinkFrame::Nack(Nack {
                    tag: e.tag,
                    last: e.last,
                    missing: e.missing(),
                });
                if self.transmits.len() == config.max_entries {
                    self.transmits.pop_front();
                }
                // An entry always misses a fragment, so the NACK encodes.
                if let Ok(bytes) = nack.to_bytes() {
                    self.transmits.push_back(bytes);
                }
            }
            pos += 1;
        }
    }

    /// When to call [`Reassembler::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.entries.iter().map(|e| e.deadline(&self.config)).min()
    }

    /// The next NACK frame to send (at control priority). At most
    /// `max_entries` wait; older ones are replaced.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    /// The next give-up. At most `max_entries` wait; older ones are
    /// replaced.
    pub fn poll_event(&mut self) -> Option<GaveUp> {
        self.events.pop_front()
    }

    /// Fragment bytes held.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Datagrams in reassembly.
    pub fn in_progress(&self) -> usize {
        self.entries.len()
    }

    /// The configuration.
    pub fn config(&self) -> &ReassemblyConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::fragment::split;
    use proptest::prelude::*;

    fn datagram(len: usize) -> Bytes {
        (0..len).map(|i| (i * 7) as u8).collect::<Vec<u8>>().into()
    }

    #[test]
    fn out_of_order_and_duplicated_fragments_reassemble() {
        let d = datagram(300);
        let frames = split(&d, 51, 9).unwrap();
        let mut r = Reassembler::new(ReassemblyConfig::default()).unwrap();
        let mut order: Vec<usize> = (0..frames.len()).rev().collect();
        order.insert(2, order[0]);
        let mut got = None;
        for (n, &i) in order.iter().enumerate() {
            match r.handle_frame(n as u64, 1, frames[i].clone()).unwrap() {
                Received::Datagram(out) => got = Some(out),
                Received::Duplicate => assert_eq!(n, 2),
                Received::Stored => {}
                Received::Nack(_) => unreachable!(),
            }
        }
        assert_eq!(got.unwrap(), d);
        assert_eq!((r.held_bytes(), r.in_progress()), (0, 0));
    }

    #[test]
    fn conflicts_drop_the_datagram() {
        let frames = split(&datagram(100), 51, 3).unwrap();
        let mut r = Reassembler::new(ReassemblyConfig::default()).unwrap();
        r.handle_frame(0, 0, frames[0].clone()).unwrap();
        let mut changed = frames[0].to_vec();
        changed[10] ^= 1;
        let err = r.handle_frame(0, 0, changed.into()).unwrap_err();
        assert_eq!(err.class(), "conflicting_fragment");
        assert_eq!((r.held_bytes(), r.in_progress()), (0, 0));
        // Same tag, another count.
        r.handle_frame(0, 0, frames[0].clone()).unwrap();
        let other = split(&datagram(200), 51, 3).unwrap();
        assert_eq!(
            r.handle_frame(0, 0, other[1].clone()).unwrap_err().class(),
            "conflicting_fragment"
        );
        // Same tag from another source is another datagram.
        r.handle_frame(0, 0, frames[0].clone()).unwrap();
        assert_eq!(
            r.handle_frame(0, 1, other[1].clone()).unwrap(),
            Received::Stored
        );
    }

    #[test]
    fn nacks_then_give_up() {
        let config = ReassemblyConfig {
            max_nacks: 2,
            nack_delay_ms: 100,
            max_nack_delay_ms: 100,
            ..ReassemblyConfig::default()
        };
        let frames = split(&datagram(200), 51, 7).unwrap();
        let mut r = Reassembler::new(config).unwrap();
        r.handle_frame(0, 5, frames[1].clone()).unwrap();
        r.handle_frame(10, 5, frames[3].clone()).unwrap();
        assert_eq!(r.poll_timeout(), Some(110));
        r.handle_timeout(109);
        assert!(r.poll_transmit().is_none());
        for at in [110, 210] {
            r.handle_timeout(at);
            let nack = r.poll_transmit().unwrap();
            assert_eq!(&nack[..], &[0x84, 0, 7, 0b10101]);
        }
        r.handle_timeout(310);
        assert_eq!(
            r.poll_event(),
            Some(GaveUp {
                source: 5,
                tag: 7,
                received: 2,
                count: 5
            })
        );
        assert_eq!(
            (r.held_bytes(), r.in_progress(), r.poll_timeout()),
            (0, 0, None)
        );
    }

    #[test]
    fn unanswered_nacks_back_off_and_a_new_fragment_resets_the_delay() {
        let config = ReassemblyConfig {
            max_nacks: 8,
            nack_delay_ms: 100,
            max_nack_delay_ms: 350,
            ..ReassemblyConfig::default()
        };
        let frames = split(&datagram(200), 51, 7).unwrap();
        let mut r = Reassembler::new(config).unwrap();
        r.handle_frame(0, 5, frames[0].clone()).unwrap();
        let mut nacks_at = Vec::new();
        while nacks_at.len() < 4 {
            let now = r.poll_timeout().unwrap();
            r.handle_timeout(now);
            nacks_at.extend(r.poll_transmit().map(|_| now));
        }
        // 100, then 200, 350 (capped), 350 after the previous NACK.
        assert_eq!(nacks_at, [100, 300, 650, 1000]);
        r.handle_frame(1010, 5, frames[1].clone()).unwrap();
        assert_eq!(r.poll_timeout(), Some(1110));
    }

    #[test]
    fn bounds_are_enforced() {
        let config = ReassemblyConfig {
            max_entries: 2,
            max_entries_per_source: 1,
            max_bytes: 255,
            max_datagram_len: 300,
            ..ReassemblyConfig::default()
        };
        let mut r = Reassembler::new(config).unwrap();
        let a = split(&datagram(400), 51, 1).unwrap();
        let b = split(&datagram(400), 51, 2).unwrap();
        let gave_up = |source, tag| GaveUp {
            source,
            tag,
            received: 1,
            count: 9,
        };
        // Source 0 at its bound: its older datagram (b) makes room for a.
        r.handle_frame(0, 0, b[0].clone()).unwrap();
        r.handle_frame(1, 0, a[0].clone()).unwrap();
        assert_eq!(r.poll_event(), Some(gave_up(0, 2)));
        r.handle_frame(2, 1, b[0].clone()).unwrap();
        // Both entries taken: the oldest of all (source 0's a) goes.
        r.handle_frame(3, 2, b[0].clone()).unwrap();
        assert_eq!(r.poll_event(), Some(gave_up(0, 1)));
        assert_eq!(r.in_progress(), 2);
        r.handle_frame(4, 0, a[0].clone()).unwrap();
        assert_eq!(r.poll_event(), Some(gave_up(1, 2)));
        for f in &a[1..4] {
            r.handle_frame(0, 0, f.clone()).unwrap();
        }
        // 6 x 47 = 282 held would exceed 255 bytes.
        assert_eq!(
            r.handle_frame(0, 0, a[4].clone()).unwrap_err().class(),
            "reassembly_full"
        );
        assert!(r.held_bytes() <= 255);
        let mut r = Reassembler::new(ReassemblyConfig {
            max_bytes: 1024,
            ..config
        })
        .unwrap();
        for f in &a[..6] {
            r.handle_frame(0, 0, f.clone()).unwrap();
        }
        assert_eq!(
            r.handle_frame(0, 0, a[6].clone()).unwrap_err().class(),
            "datagram_too_long"
        );
        assert_eq!(r.in_progress(), 0);
    }

    proptest! {
        /// Any datagram, any MTU, any arrival order with duplicates:
        /// the datagram comes out intact and the held bytes stay bounded.
        #[test]
        fn fragments_in_any_order_round_trip(
            len in 1usize..3000,
            mtu in 16usize..=255,
            tag in any::<u16>(),
            shuffle in proptest::collection::vec(any::<u16>(), 0..200),
        ) {
            let d = datagram(len);
            let Ok(frames) = split(&d, mtu, tag) else {
                prop_assert!(len > 64 * (mtu - 4));
                return Ok(());
            };
            let mut order: Vec<usize> = (0..frames.len()).collect();
            for (i, s) in shuffle.iter().enumerate() {
                let (a, b) = (i % order.len(), usize::from(*s) % order.len());
                order.swap(a, b);
                if s % 5 == 0 { order.push(order[b]); }
            }
            let mut r = Reassembler::new(ReassemblyConfig { max_bytes: 1 << 20, max_datagram_len: 64 * 251, ..ReassemblyConfig::default() }).unwrap();
            let mut outputs = Vec::new();
            for i in order {
                if let Received::Datagram(out) = r.handle_frame(0, 0, frames[i].clone()).unwrap() {
                    outputs.push(out);
                }
            }
            prop_assert!(!outputs.is_empty());
            prop_assert_eq!(&outputs[0], &d);
            prop_assert!(r.held_bytes() <= r.config().max_bytes);
        }
    }
}
