//! Fuzz targets of the qpc-mesh LoRa link layer (`spec/11-lora-link.md`
//! §6): link frames and the reassembler, each against an independent model
//! written from the spec, and the link engine that joins them (§6.7).

use std::collections::BTreeMap;

use bytes::Bytes;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::frame::LinkFrame;
use qpc_mesh::lora::link::{LoraLink, LoraLinkConfig, MAX_PENDING_EVENTS};
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use qpc_mesh::lora::queue::Priority;
use qpc_mesh::lora::reassembly::{GaveUp, Reassembler, ReassemblyConfig, Received};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// What spec §6.1–§6.3 says a PHY payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFrame {
    /// Kind 0.
    Whole(Vec<u8>),
    /// Kind 1: tag, index, last, payload.
    Fragment(u16, u8, u8, Vec<u8>),
    /// Kind 2: tag, last, missing bitmap.
    Nack(u16, u8, u64),
}

/// The spec's decoding, checks L1–L8 in order; `Err` is the error class.
pub fn model_decode(b: &[u8]) -> Result<ModelFrame, &'static str> {
    if b.len() > 255 {
        return Err("frame_too_long");
    }
    let Some(&first) = b.first() else {
        return Err("truncated");
    };
    let (kind, last) = (first >> 6, first & 0x3f);
    let tag = || u16::from(b[1]) << 8 | u16::from(b[2]);
    match kind {
        0 if last != 0 || b.len() == 1 => Err("malformed"),
        0 => Ok(ModelFrame::Whole(b[1..].to_vec())),
        1 if b.len() < 4 => Err("truncated"),
        1 if last == 0 || b[3] > last || b.len() == 4 => Err("malformed"),
        1 => Ok(ModelFrame::Fragment(tag(), b[3], last, b[4..].to_vec())),
        2 if b.len() < 3 => Err("truncated"),
        2 if last == 0 => Err("malformed"),
        2 => {
            let want = 3 + (usize::from(last) + 1).div_ceil(8);
            if b.len() < want {
                return Err("truncated");
            }
            if b.len() > want {
                return Err("trailing_bytes");
            }
            let mut missing = 0u64;
            for i in 0..64u32 {
                let byte = b.get(3 + (i / 8) as usize).copied().unwrap_or(0);
                if byte >> (i % 8) & 1 == 1 {
                    if i > u32::from(last) {
                        return Err("malformed");
                    }
                    missing |= 1 << i;
                }
            }
            if missing == 0 {
                return Err("malformed");
            }
            Ok(ModelFrame::Nack(tag(), last, missing))
        }
        _ => Err("unknown_link_frame"),
    }
}

fn as_model(frame: &LinkFrame) -> ModelFrame {
    match frame {
        LinkFrame::Whole(d) => ModelFrame::Whole(d.to_vec()),
        LinkFrame::Fragment(f) => ModelFrame::Fragment(f.tag, f.index, f.last, f.payload.to_vec()),
        LinkFrame::Nack(n) => ModelFrame::Nack(n.tag, n.last, n.missing),
    }
}

/// Fuzzes `LinkFrame::decode` on the whole input: the outcome (fields or
/// error class) equals [`model_decode`]; accepted frames re-encode to the
/// input.
pub fn lora_frame(data: &[u8]) {
    let got = LinkFrame::decode(Bytes::copy_from_slice(data));
    match (&got, model_decode(data)) {
        (Ok(frame), Ok(want)) => {
            assert_eq!(as_model(frame), want);
            assert_eq!(&frame.to_bytes().expect("re-encodes")[..], data);
        }
        (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e}"),
        (got, want) => panic!("got {got:?}, the spec says {want:?}"),
    }
}

/// The reassembler configuration of [`lora_reassembly`]: small, so that
/// every bound is reached.
pub const REASSEMBLY_CONFIG: ReassemblyConfig = ReassemblyConfig {
    max_entries: 4,
    max_entries_per_source: 2,
    max_bytes: 600,
    max_datagram_len: 500,
    lifetime_ms: 5_000,
    nack_delay_ms: 500,
    max_nack_delay_ms: 1_000,
    max_nacks: 2,
};

/// Lengths of the genuine datagrams of [`lora_reassembly`] (51-byte MTU).
pub const GENUINE_LENS: [usize; 4] = [60, 200, 480, 520];

#[derive(Debug, Clone)]
struct ModelEntry {
    last: u8,
    parts: BTreeMap<u8, Vec<u8>>,
    first: u64,
    quiet: u64,
    nacks: u8,
    unanswered: u32,
}

impl ModelEntry {
    /// The quiet time before the next NACK: doubled per unanswered NACK,
    /// capped.
    fn delay(&self) -> u64 {
        let c = REASSEMBLY_CONFIG;
        (c.nack_delay_ms << self.unanswered.min(32)).min(c.max_nack_delay_ms)
    }

    fn bytes(&self) -> usize {
        self.parts.values().map(Vec::len).sum()
    }
    fn missing(&self) -> u64 {
        (0..=self.last)
            .filter(|i| !self.parts.contains_key(i))
            .fold(0, |m, i| m | 1 << i)
    }
}

/// Spec §6.5, written out directly.
#[derive(Debug, Default)]
struct ModelReassembler {
    entries: BTreeMap<(u32, u16), ModelEntry>,
    /// The entry the last frame's admission gave up.
    evicted: Option<GaveUp>,
}

#[derive(Debug, PartialEq, Eq)]
enum ModelOutcome {
    Datagram(Vec<u8>),
    Stored,
    Duplicate,
    Nack(u16, u8, u64),
}

impl ModelReassembler {
    fn held(&self) -> usize {
        self.entries.values().map(ModelEntry::bytes).sum()
    }

    fn frame(&mut self, now: u64, source: u32, bytes: &[u8]) -> Result<ModelOutcome, &'static str> {
        let c = REASSEMBLY_CONFIG;
        let (tag, index, last, payload) = match model_decode(bytes)? {
            ModelFrame::Whole(d) => return Ok(ModelOutcome::Datagram(d)),
            ModelFrame::Nack(t, l, m) => return Ok(ModelOutcome::Nack(t, l, m)),
            ModelFrame::Fragment(t, i, l, p) => (t, i, l, p),
        };
        let key = (source, tag);
        if !self.entries.contains_key(&key) {
            // At a bound the oldest (first, source, tag) entry, of this
            // source or of all, is given up.
            let at_source =
                self.entries.keys().filter(|k| k.0 == source).count() >= c.max_entries_per_source;
            if at_source || self.entries.len() >= c.max_entries {
                let oldest = self
                    .entries
                    .iter()
                    .filter(|(k, _)| !at_source || k.0 == source)
                    .min_by_key(|(k, e)| (e.first, k.0, k.1))
                    .map(|(k, _)| *k)
                    .expect("at a bound, entries exist");
                let e = self.entries.remove(&oldest).expect("present");
                self.evicted = Some(GaveUp {
                    source: oldest.0,
                    tag: oldest.1,
                    received: e.parts.len() as u8,
                    count: e.last + 1,
                });
            }
            let fresh = ModelEntry {
                last,
                parts: BTreeMap::new(),
                first: now,
                quiet: now,
                nacks: 0,
                unanswered: 0,
            };
            self.entries.insert(key, fresh);
        }
        // Held bytes after any admission give-up (step 5 follows step 1).
        let held = self.held();
        let e = self.entries.get_mut(&key).expect("present");
        let conflict = e.last != last || e.parts.get(&index).is_some_and(|p| *p != payload);
        if conflict {
            self.entries.remove(&key);
            return Err("conflicting_fragment");
        }
        if e.parts.contains_key(&index) {
            return Ok(ModelOutcome::Duplicate);
        }
        if e.bytes() + payload.len() > c.max_datagram_len {
            self.entries.remove(&key);
            return Err("datagram_too_long");
        }
        if held + payload.len() > c.max_bytes {
            if e.parts.is_empty() {
                self.entries.remove(&key);
            }
            return Err("reassembly_full");
        }
        e.parts.insert(index, payload);
        e.quiet = now;
        e.unanswered = 0;
        if e.parts.len() < usize::from(last) + 1 {
            return Ok(ModelOutcome::Stored);
        }
        let e = self.entries.remove(&key).expect("present");
        Ok(ModelOutcome::Datagram(
            e.parts.into_values().flatten().collect(),
        ))
    }

    /// NACK frames and give-ups at `now`, sorted.
    fn timeout(&mut self, now: u64) -> (Vec<Vec<u8>>, Vec<GaveUp>) {
        let c = REASSEMBLY_CONFIG;
        let (mut nacks, mut gave_up) = (Vec::new(), Vec::new());
        self.entries.retain(|&(source, tag), e| {
            let expired = now >= e.first + c.lifetime_ms;
            let quiet = now >= e.quiet + e.delay();
            if expired || (quiet && e.nacks == c.max_nacks) {
                gave_up.push(GaveUp {
                    source,
                    tag,
                    received: e.parts.len() as u8,
                    count: e.last + 1,
                });
                return false;
            }
            if quiet {
                e.nacks += 1;
                e.unanswered += 1;
                e.quiet = now;
                let mut nack = vec![0x80 | e.last, (tag >> 8) as u8, tag as u8];
                nack.extend_from_slice(&e.missing().to_le_bytes()[..usize::from(e.last) / 8 + 1]);
                nacks.push(nack);
            }
            true
        });
        nacks.sort();
        gave_up.sort_by_key(|g| (g.source, g.tag));
        (nacks, gave_up)
    }
}

fn genuine_datagram(k: usize) -> Bytes {
    (0..GENUINE_LENS[k])
        .map(|i| (i as u8).wrapping_mul(31) ^ k as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// Fuzzes the [`Reassembler`] (configuration [`REASSEMBLY_CONFIG`])
/// against an independent model of spec §6.5. The input is a list of
/// operations `[op] ...`; `source = (op >> 2) & 3`:
/// - `op & 3 == 0`: `[n]` then `n` raw bytes, one frame from `source`;
/// - `1`: `[sel, index]`: fragment `index` of genuine datagram `sel & 3`
///   (lengths [`GENUINE_LENS`], 51-byte MTU) under tag `sel >> 2`;
/// - `2`: time advances by `(op >> 4) * 97` ms and timers run;
/// - `3`: time advances by `(op >> 4)` ms.
///
/// Every outcome, error class, NACK and give-up (at a timer, or to admit
/// a new datagram at an entry bound) equals the model's; held
/// bytes equal the model's and stay within `max_bytes`, datagrams in
/// progress within `max_entries`; `poll_timeout` is the model's earliest
/// deadline.
pub fn lora_reassembly(data: &[u8]) {
    let mut r = Reassembler::new(REASSEMBLY_CONFIG).expect("valid config");
    let mut model = ModelReassembler::default();
    let mut now = 0u64;
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let source = u32::from((op >> 2) & 3);
        let frame = match op & 3 {
            0 => {
                let Some((&n, tail)) = rest.split_first() else {
                    return;
                };
                let n = usize::from(n).min(tail.len());
                let (frame, tail) = tail.split_at(n);
                rest = tail;
                Some(frame.to_vec())
            }
            1 => {
                let [sel, index, ref tail @ ..] = *rest else {
                    return;
                };
                rest = tail;
                let frames = split(
                    &genuine_datagram(usize::from(sel & 3)),
                    51,
                    u16::from(sel >> 2),
                )
                .expect("genuine datagrams split");
                Some(frames[usize::from(index) % frames.len()].to_vec())
            }
            2 => {
                now += u64::from(op >> 4) * 97;
                r.handle_timeout(now);
                let (want_nacks, want_gave_up) = model.timeout(now);
                let mut nacks: Vec<Vec<u8>> = std::iter::from_fn(|| r.poll_transmit())
                    .map(|b| b.to_vec())
                    .collect();
                nacks.sort();
                let mut gave_up: Vec<GaveUp> = std::iter::from_fn(|| r.poll_event()).collect();
                gave_up.sort_by_key(|g| (g.source, g.tag));
                assert_eq!(nacks, want_nacks);
                assert_eq!(gave_up, want_gave_up);
                None
            }
            _ => {
                now += u64::from(op >> 4);
                None
            }
        };
        if let Some(frame) = frame {
            let got = r.handle_frame(now, source, Bytes::from(frame.clone()));
            match (got, model.frame(now, source, &frame)) {
                (Ok(got), Ok(want)) => {
                    let got = match got {
                        Received::Datagram(d) => ModelOutcome::Datagram(d.to_vec()),
                        Received::Stored => ModelOutcome::Stored,
                        Received::Duplicate => ModelOutcome::Duplicate,
                        Received::Nack(n) => ModelOutcome::Nack(n.tag, n.last, n.missing),
                    };
                    assert_eq!(got, want);
                }
                (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e}"),
                (got, want) => panic!("got {got:?}, the model says {want:?}"),
            }
            let evicted: Vec<GaveUp> = std::iter::from_fn(|| r.poll_event()).collect();
            assert_eq!(
                evicted,
                model.evicted.take().into_iter().collect::<Vec<_>>()
            );
        }
        assert_eq!(r.held_bytes(), model.held());
        assert!(r.held_bytes() <= REASSEMBLY_CONFIG.max_bytes);
        assert_eq!(r.in_progress(), model.entries.len());
        assert!(r.in_progress() <= REASSEMBLY_CONFIG.max_entries);
        let c = REASSEMBLY_CONFIG;
        let deadline = model
            .entries
            .values()
            .map(|e| (e.first + c.lifetime_ms).min(e.quiet + e.delay()))
            .min();
        assert_eq!(r.poll_timeout(), deadline);
    }
}

/// The two link engines of [`lora_link`]: SF12 on EU868 sub-band G3 (10 %),
/// 32 frames queued, the reassembler of [`REASSEMBLY_CONFIG`].
fn fuzz_link(seed: u64) -> LoraLink {
    let profile = LinkProfile::new(
        RadioProfile::new(RadioParams::lorawan(12)).expect("valid radio"),
        Region::Eu868(Eu868SubBand::G3),
    )
    .expect("valid profile");
    let config = LoraLinkConfig {
        queue_capacity: 32,
        window_ms: 600_000,
        reassembly: REASSEMBLY_CONFIG,
        ..LoraLinkConfig::new(profile)
    };
    LoraLink::new(config, &mut ChaCha20Rng::seed_from_u64(seed)).expect("valid config")
}

/// Fuzzes two [`LoraLink`] engines, `a` sending genuine datagrams to `b`
/// over a channel the input controls (spec §6.7). Each operation is one
/// byte, some with arguments:
///
/// - `0`: `a` sends genuine datagram `arg & 3` at priority `arg >> 2 & 3`;
/// - `1`: the next frame `a` may send at `now` is delivered to `b` (kept if
///   bit 4 of the op is clear, lost otherwise);
/// - `2`: the same from `b` to `a` (NACKs);
/// - `3`: `n`, then `n` bytes: an arbitrary frame to `b` (taints `b`);
/// - `4`: the same to `a`;
/// - else: time passes by `op >> 4` × 997 ms and both run their timers.
///
/// Checks: a frame on air fits the MTU; every datagram an untainted `b`
/// completes is one `a` sent; the queue, the reassembler's bytes and the
/// pending events stay within their bounds; the airtime in any 10-minute
/// window stays within the 10 % budget (checked over the whole run:
/// airtime ≤ 60 s × (elapsed windows + 2)).
pub fn lora_link(data: &[u8]) {
    let (mut a, mut b) = (fuzz_link(1), fuzz_link(2));
    let mut now = 0u64;
    let mut sent: Vec<Bytes> = Vec::new();
    let mut tainted = false;
    let mut rest = data;
    let mtu = 51;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op & 0x0f {
            0 => {
                let Some((&arg, tail)) = rest.split_first() else {
                    return;
                };
                rest = tail;
                let datagram = genuine_datagram(usize::from(arg & 3));
                let priority = [Priority::Control, Priority::Data, Priority::Announce]
                    [usize::from(arg >> 2 & 3) % 3];
                let before = a.queued_frames();
                match a.send(now, priority, &datagram) {
                    Ok(()) => {
                        assert_eq!(a.queued_frames(), before + a.frames_for(datagram.len()));
                        sent.push(datagram);
                    }
                    Err(_) => assert_eq!(a.queued_frames(), before, "a refusal queues nothing"),
                }
            }
            1 | 2 => {
                let (from, to) = if op & 0x0f == 1 {
                    (&mut a, &mut b)
                } else {
                    (&mut b, &mut a)
                };
                if let Some(frame) = from.poll_transmit(now) {
                    assert!(frame.len() <= mtu);
                    if op & 0x10 == 0 {
                        let got = to.handle_frame(now, 7, frame);
                        if op & 0x0f == 1 && !tainted {
                            if let Ok(Some(d)) = got {
                                assert!(sent.contains(&d), "b completed a datagram a never sent");
                            }
                        }
                    }
                }
            }
            3 | 4 => {
                let Some((&n, tail)) = rest.split_first() else {
                    return;
                };
                let n = usize::from(n).min(tail.len());
                let (frame, tail) = tail.split_at(n);
                rest = tail;
                let to = if op & 0x0f == 3 {
                    tainted = true;
                    &mut b
                } else {
                    &mut a
                };
                let _ = to.handle_frame(now, 7, Bytes::copy_from_slice(frame));
            }
            _ => {
                now += u64::from(op >> 4) * 997;
                a.handle_timeout(now);
                b.handle_timeout(now);
            }
        }
        for link in [&mut a, &mut b] {
            assert!(link.queued_frames() <= 32);
            assert!(link.reassembly_bytes() <= REASSEMBLY_CONFIG.max_bytes);
            let budget = 60_000_000_000u128 * (u128::from(now / 600_000) + 2);
            assert!(link.airtime_used_ns() <= budget);
            let mut events = 0;
            while link.poll_event().is_some() {
                events += 1;
            }
            assert!(events <= MAX_PENDING_EVENTS);
        }
    }
}
