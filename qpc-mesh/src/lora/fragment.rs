//! The sending side of fragmentation (`spec/11-lora-link.md` §6.4, §6.6):
//! a datagram split to the link MTU, kept for a while so that a NACK can be
//! answered with exactly the missing fragments, a bounded number of times.

use std::collections::VecDeque;

use bytes::Bytes;
use rand_core::CryptoRng;

use crate::lora::frame::{
    Fragment, LinkFrame, Nack, FRAGMENT_HEADER_LEN, MAX_FRAGMENTS, WHOLE_HEADER_LEN,
};
use crate::lora::profile::MAX_PHY_PAYLOAD;
use crate::{Error, Result};

/// The smallest link MTU (spec §2.3).
pub const MIN_MTU: usize = 16;

/// Splits `datagram` into link frames for a link of `mtu` bytes: one whole
/// frame if `1 + len <= mtu`, else fragments of `mtu − 4` bytes (the last
/// shorter) under `tag`. `datagram_too_long` beyond 64 fragments.
pub fn split(datagram: &Bytes, mtu: usize, tag: u16) -> Result<Vec<Bytes>> {
    if !(MIN_MTU..=MAX_PHY_PAYLOAD).contains(&mtu) {
        return Err(Error::InvalidConfig("link MTU: 16..=255"));
    }
    if datagram.len() + WHOLE_HEADER_LEN <= mtu {
        return Ok(vec![LinkFrame::Whole(datagram.clone()).to_bytes()?]);
    }
    let chunk = mtu - FRAGMENT_HEADER_LEN;
    if datagram.len() > MAX_FRAGMENTS * chunk {
        return Err(Error::DatagramTooLong {
            len: datagram.len(),
            max: MAX_FRAGMENTS * chunk,
        });
    }
    let count = datagram.len().div_ceil(chunk);
    (0..count)
        .map(|i| {
            LinkFrame::Fragment(Fragment {
                tag,
                index: i as u8,
                last: (count - 1) as u8,
                payload: datagram.slice(i * chunk..((i + 1) * chunk).min(datagram.len())),
            })
            .to_bytes()
        })
        .collect()
}

/// The sender's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmenterConfig {
    /// The link MTU, 16..=255.
    pub mtu: usize,
    /// Most fragmented datagrams kept for repeats (1..=256); the oldest
    /// is forgotten first.
    pub max_retained: usize,
    /// How long a datagram is kept, ms.
    pub retain_ms: u64,
    /// Most NACKs answered per datagram (1..=16).
    pub max_repeats: u8,
}

impl Default for FragmenterConfig {
    fn default() -> Self {
        FragmenterConfig {
            mtu: 51,
            max_retained: 8,
            retain_ms: 120_000,
            max_repeats: 4,
        }
    }
}

/// What a NACK asks of the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    /// Send these fragments again (exactly the missing ones, in order).
    Fragments(Vec<Bytes>),
    /// The datagram already used its repeats: forgotten, nothing is sent.
    GaveUp {
        /// The datagram's tag.
        tag: u16,
    },
    /// Every named fragment still waits to go on air (an earlier answer):
    /// nothing more is sent.
    Waiting,
    /// Not a datagram this sender holds (another sender's, or forgotten).
    Unknown,
}

#[derive(Debug, Clone)]
struct Sent {
    tag: u16,
    sent_ms: u64,
    datagram: Bytes,
    frames: Vec<Bytes>,
    repeats: u8,
}

/// The sending side of one link: tags, retained fragments, repeats.
#[derive(Debug, Clone)]
pub struct Fragmenter {
    config: FragmenterConfig,
    next_tag: u16,
    retained: VecDeque<Sent>,
}

impl Fragmenter {
    /// A sender whose first tag is drawn from `rng` (tags then count up,
    /// so independent senders rarely share one).
    pub fn new(config: FragmenterConfig, rng: &mut impl CryptoRng) -> Result<Self> {
        if !(MIN_MTU..=MAX_PHY_PAYLOAD).contains(&config.mtu)
            || !(1..=256).contains(&config.max_retained)
            || !(1..=16).contains(&config.max_repeats)
        {
            return Err(Error::InvalidConfig(
                "fragmenter: MTU 16..=255, 1..=256 retained, 1..=16 repeats",
            ));
        }
        Ok(Fragmenter {
            config,
            next_tag: (rng.next_u32() & 0xffff) as u16,
            retained: VecDeque::new(),
        })
    }

    /// The frames that carry `datagram`; fragmented datagrams are kept
    /// for repeats.
    pub fn send(&mut self, now: u64, datagram: &Bytes) -> Result<Vec<Bytes>> {
        let frames = split(datagram, self.config.mtu, self.next_tag)?;
        if frames.len() > 1 {
            if self.retained.len() == self.config.max_retained {
                self.retained.pop_front();
            }
            self.retained.push_back(Sent {
                tag: self.next_tag,
                sent_ms: now,
                datagram: datagram.clone(),
                frames: frames.clone(),
                repeats: 0,
            });
            self.next_tag = self.next_tag.wrapping_add(1);
        }
        Ok(frames)
    }

    /// Answers a NACK heard at `now` with the named fragments for which
    /// `waiting` is false; those still waiting to go on air (an earlier
    /// answer behind a duty-cycle wait) are not queued twice. A NACK
    /// whose fragments all wait is answered by nothing and spends no
    /// repeat (spec §6.6).
    pub fn handle_nack(
        &mut self,
        now: u64,
        nack: &Nack,
        waiting: impl Fn(&Bytes) -> bool,
    ) -> Repeat {
        self.handle_timeout(now);
        let Some(pos) = self
            .retained
            .iter()
            .position(|s| s.tag == nack.tag && s.frames.len() == usize::from(nack.last) + 1)
        else {
            return Repeat::Unknown;
        };
        let sent = &mut self.retained[pos];
        let frames: Vec<Bytes> = nack
            .indices()
            .map(|i| sent.frames[usize::from(i)].clone())
            .filter(|frame| !waiting(frame))
            .collect();
        if frames.is_empty() {
            return Repeat::Waiting;
        }
        if sent.repeats == self.config.max_repeats {
            self.retained.remove(pos);
            return Repeat::GaveUp { tag: nack.tag };
        }
        sent.repeats += 1;
        Repeat::Fragments(frames)
    }

    /// The datagram retained under `tag`, if any.
    pub fn datagram(&self, tag: u16) -> Option<Bytes> {
        self.sent(tag).map(|s| s.datagram.clone())
    }

    /// The last frame of the datagram under `tag` went on air at `now`:
    /// its retention time starts again (spec §6.6), so that a NACK after a
    /// long wait for the duty-cycle budget still finds it.
    pub fn restart_retention(&mut self, tag: u16, now: u64) {
        if let Some(sent) = self.retained.iter_mut().find(|s| s.tag == tag) {
            sent.sent_ms = now;
        }
    }

    fn sent(&self, tag: u16) -> Option<&Sent> {
        self.retained.iter().find(|s| s.tag == tag)
    }

    /// Forgets datagrams older than the retention time.
    pub fn handle_timeout(&mut self, now: u64) {
        let keep_from = now.saturating_sub(self.config.retain_ms);
        self.retained.retain(|s| s.sent_ms >= keep_from);
    }

    /// Fragmented datagrams held for repeats.
    pub fn retained(&self) -> usize {
        self.retained.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn small_datagrams_cost_one_byte() {
        let d = Bytes::from(vec![7; 50]);
        let frames = split(&d, 51, 0).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].len(), 51);
        assert_eq!(frames[0][0], 0x00);
    }

    #[test]
    fn fragments_fill_the_mtu() {
        let d = Bytes::from((0..1024u32).map(|i| i as u8).collect::<Vec<_>>());
        let frames = split(&d, 51, 0xbeef).unwrap();
        assert_eq!(frames.len(), 22);
        assert!(frames[..21].iter().all(|f| f.len() == 51));
        assert_eq!(frames[21].len(), 4 + 1024 - 21 * 47);
        let joined: Vec<u8> = frames.iter().flat_map(|f| f[4..].to_vec()).collect();
        assert_eq!(joined, d);
        assert_eq!(
            split(&Bytes::from(vec![0; 64 * 47 + 1]), 51, 0)
                .unwrap_err()
                .class(),
            "datagram_too_long"
        );
        assert_eq!(
            split(&Bytes::new(), 51, 0).unwrap_err().class(),
            "malformed"
        );
    }

    #[test]
    fn nacks_get_exactly_the_missing_fragments_a_bounded_number_of_times() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let config = FragmenterConfig {
            max_repeats: 2,
            ..FragmenterConfig::default()
        };
        let mut s = Fragmenter::new(config, &mut rng).unwrap();
        let frames = s.send(0, &Bytes::from(vec![1; 200])).unwrap();
        assert_eq!(frames.len(), 5);
        let tag = u16::from_be_bytes([frames[0][1], frames[0][2]]);
        let nack = Nack {
            tag,
            last: 4,
            missing: 0b10010,
        };
        for _ in 0..2 {
            assert_eq!(
                s.handle_nack(10, &nack, |_| false),
                Repeat::Fragments(vec![frames[1].clone(), frames[4].clone()])
            );
        }
        assert_eq!(s.handle_nack(10, &nack, |_| false), Repeat::GaveUp { tag });
        assert_eq!(s.handle_nack(10, &nack, |_| false), Repeat::Unknown);
        let other = Nack { last: 5, ..nack };
        assert_eq!(s.handle_nack(10, &other, |_| false), Repeat::Unknown);
        // Retention: forgotten after retain_ms.
        let frames = s.send(100, &Bytes::from(vec![2; 100])).unwrap();
        assert_eq!(s.retained(), 1);
        s.handle_timeout(100 + config.retain_ms + 1);
        assert_eq!(s.retained(), 0);
        assert_eq!(frames.len(), 3);
    }
}
