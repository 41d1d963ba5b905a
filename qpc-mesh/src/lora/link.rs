//! The LoRa link engine (`spec/11-lora-link.md` §6.7): one radio's queue,
//! duty-cycle budget, fragmenter and reassembler put together, so that a
//! driver (the simulator, the reference node) hands it whole mesh datagrams
//! and gets frames to put on air, and the other way round.
//!
//! Nothing is lost silently: a datagram the link cannot take is refused
//! with an error and nothing of it is queued; a repeat or NACK that finds
//! the queue full, a datagram the reassembler gives up on, and a wait for
//! the duty-cycle budget are each a [`LoraLinkEvent`]. What became of each
//! datagram the link took is a [`LinkReport`]: queued, then sent once its
//! last frame went to the radio (again after repeats answering a NACK).

use std::collections::VecDeque;

use bytes::Bytes;
use rand_core::CryptoRng;

use crate::envelope::MessageType;
use crate::lora::airtime::time_on_air_ns;
use crate::lora::duty_cycle;
use crate::lora::fragment::{Fragmenter, FragmenterConfig, Repeat};
use crate::lora::frame::{FRAGMENT_HEADER_LEN, MAX_FRAGMENTS, WHOLE_HEADER_LEN};
use crate::lora::profile::LinkProfile;
use crate::lora::queue::{LinkEvent, LinkQueue, Priority};
use crate::lora::reassembly::{GaveUp, Reassembler, ReassemblyConfig, Received};
use crate::{Error, Result};

/// The most events held for the driver; beyond it the oldest is replaced
/// (drain them after every call).
pub const MAX_PENDING_EVENTS: usize = 256;

/// A link engine's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoraLinkConfig {
    /// The radio and its region; the link MTU follows from it.
    pub profile: LinkProfile,
    /// Most frames queued (1..=4096).
    pub queue_capacity: usize,
    /// The duty-cycle window, ms (where the region has a duty cycle).
    pub window_ms: u64,
    /// The sender side; its `mtu` is replaced by the profile's.
    pub fragmenter: FragmenterConfig,
    /// The receiver side.
    pub reassembly: ReassemblyConfig,
}

/// NACK rounds a datagram's repair takes beyond the NACKs that span a
/// sender's duty-cycle wait (spec §6.7: at 10% loss two or three are
/// usual).
const REPAIR_NACKS: u8 = 4;

impl LoraLinkConfig {
    /// The defaults for `profile`: 256 frames, a one-hour window, and the
    /// timers of spec §6.7 derived from the airtime of a full frame and,
    /// where the region has a duty cycle, from the window: a sender may
    /// have to wait up to a window for its budget, and its neighbour's
    /// reassembler must neither give up nor NACK often meanwhile.
    pub fn new(profile: LinkProfile) -> Self {
        let window_ms = duty_cycle::DEFAULT_WINDOW_MS;
        let frame_ms =
            time_on_air_ns(profile.radio(), profile.mtu()).map_or(0, |ns| ns.div_ceil(1_000_000));
        let defaults = ReassemblyConfig::default();
        let nack_delay_ms = defaults.nack_delay_ms.max(4 * frame_ms);
        let reassembly = match profile.duty_cycle() {
            None => ReassemblyConfig {
                nack_delay_ms,
                max_nack_delay_ms: nack_delay_ms,
                ..defaults
            },
            Some(_) => {
                let max_nack_delay_ms = (window_ms / 4).max(nack_delay_ms);
                let spanning = nacks_spanning(nack_delay_ms, max_nack_delay_ms, window_ms);
                ReassemblyConfig {
                    lifetime_ms: 2 * window_ms,
                    nack_delay_ms,
                    max_nack_delay_ms,
                    max_nacks: spanning.saturating_add(REPAIR_NACKS).min(16),
                    ..defaults
                }
            }
        };
        LoraLinkConfig {
            profile,
            queue_capacity: 256,
            window_ms,
            fragmenter: FragmenterConfig::default(),
            reassembly,
        }
    }
}

/// How many NACKs, the quiet time doubling from `first_ms` up to `max_ms`,
/// it takes until more than `span_ms` (plus one first delay) has passed
/// without an answer: a reassembler with that many NACKs left outlasts a
/// sender's wait of `span_ms` for its budget.
fn nacks_spanning(first_ms: u64, max_ms: u64, span_ms: u64) -> u8 {
    let (mut waited, mut delay, mut nacks) = (0u64, first_ms.max(1), 0u8);
    while waited <= span_ms.saturating_add(first_ms) && nacks < 16 {
        waited = waited.saturating_add(delay);
        delay = delay.saturating_mul(2).min(max_ms);
        nacks += 1;
    }
    nacks
}

/// What the driver should know about, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoraLinkEvent {
    /// The next frame waits for the duty-cycle budget until `until_ms`.
    BudgetExhausted {
        /// When it may go.
        until_ms: u64,
    },
    /// A datagram being reassembled was given up (fragments lost for
    /// good).
    ReassemblyGaveUp(GaveUp),
    /// A NACK for one of our datagrams came after its last allowed
    /// repeat: the datagram is forgotten.
    RepeatsExhausted {
        /// The datagram's tag.
        tag: u16,
    },
    /// Frames the engine itself wanted to send (a NACK, or repeats
    /// answering one) did not fit the queue and were not sent.
    ControlRefused {
        /// How many frames.
        frames: usize,
    },
}

/// What became of a datagram the link took (spec §6.7), for the mesh
/// node's HopAck timer (`spec/10` §12.1 S1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkReport {
    /// Its frames wait in the queue (the datagram was taken, or repeats of
    /// it answering a NACK were queued).
    Queued,
    /// The last of its queued frames was handed to the radio.
    Sent,
}

/// A datagram some of whose frames still wait in the queue.
#[derive(Debug, Clone)]
struct InFlight {
    /// Its fragment tag; `None` for a whole frame.
    tag: Option<u16>,
    datagram: Bytes,
    queued: usize,
}

/// One LoRa radio's link engine.
#[derive(Debug, Clone)]
pub struct LoraLink {
    queue: LinkQueue,
    fragmenter: Fragmenter,
    reassembler: Reassembler,
    queue_capacity: usize,
    mtu: usize,
    events: VecDeque<LoraLinkEvent>,
    in_flight: VecDeque<InFlight>,
    reports: VecDeque<(LinkReport, Bytes)>,
}

impl LoraLink {
    /// A link engine for `config`; the first fragment tag is drawn from
    /// `rng`. `invalid_config` if any part is out of range.
    pub fn new(config: LoraLinkConfig, rng: &mut impl CryptoRng) -> Result<Self> {
        let mtu = config.profile.mtu();
        let fragmenter = Fragmenter::new(
            FragmenterConfig {
                mtu,
                ..config.fragmenter
            },
            rng,
        )?;
        Ok(LoraLink {
            queue: LinkQueue::new(config.profile, config.queue_capacity, config.window_ms)?,
            fragmenter,
            reassembler: Reassembler::new(config.reassembly)?,
            queue_capacity: config.queue_capacity,
            mtu,
            events: VecDeque::new(),
            in_flight: VecDeque::new(),
            reports: VecDeque::new(),
        })
    }

    /// The longest datagram the link carries: 64 fragments of `MTU − 4`
    /// bytes, and no more than the reassembler accepts. This is the MTU a
    /// mesh node should declare for the link.
    pub fn max_datagram_len(&self) -> usize {
        (MAX_FRAGMENTS * (self.mtu - FRAGMENT_HEADER_LEN))
            .min(self.reassembler.config().max_datagram_len)
    }

    /// How many frames `len` bytes take.
    pub fn frames_for(&self, len: usize) -> usize {
        if len + WHOLE_HEADER_LEN <= self.mtu {
            1
        } else {
            len.div_ceil(self.mtu - FRAGMENT_HEADER_LEN)
        }
    }

    /// Queues `datagram` at `priority`, fragmented if it needs to be.
    /// Refused, with nothing queued: `datagram_too_long` beyond
    /// [`LoraLink::max_datagram_len`], `queue_full` if the queue cannot hold
    /// all its frames, and the queue's own refusals (`dwell_time_exceeded`,
    /// `duty_cycle_exceeded`) for a frame that could never go.
    pub fn send(&mut self, now: u64, priority: Priority, datagram: &Bytes) -> Result<()> {
        let max = self.max_datagram_len();
        if datagram.is_empty() || datagram.len() > max {
            return Err(Error::DatagramTooLong {
                len: datagram.len(),
                max,
            });
        }
        if self.queue.len() + self.frames_for(datagram.len()) > self.queue_capacity {
            return Err(Error::QueueFull);
        }
        let frames = self.fragmenter.send(now, datagram)?;
        let tag = match frames.first().map(|f| frame_kind(f)) {
            Some(FrameKind::Fragment(tag)) => Some(tag),
            _ => None,
        };
        let count = frames.len();
        let mut frames = frames.into_iter();
        // The first frame is the longest: if it may go, every one may.
        if let Some(first) = frames.next() {
            self.queue.enqueue(priority, first)?;
        }
        for frame in frames {
            self.queue.enqueue(priority, frame)?;
        }
        self.in_flight.push_back(InFlight {
            tag,
            datagram: datagram.clone(),
            queued: count,
        });
        self.push_report(LinkReport::Queued, datagram.clone());
        Ok(())
    }

    /// Handles one frame heard at `now` from `source` (what the driver
    /// knows of the transmitter, or 0). Returns a complete datagram, if
    /// this frame completed one. A NACK for one of our datagrams queues
    /// the missing fragments that do not already wait in the queue. Errors are the reassembler's (spec §6.5):
    /// the frame is dropped, the link goes on.
    pub fn handle_frame(&mut self, now: u64, source: u32, frame: Bytes) -> Result<Option<Bytes>> {
        match self.reassembler.handle_frame(now, source, frame)? {
            Received::Datagram(datagram) => Ok(Some(datagram)),
            Received::Stored | Received::Duplicate => Ok(None),
            Received::Nack(nack) => {
                self.hold_in_flight(now);
                let queue = &self.queue;
                match self
                    .fragmenter
                    .handle_nack(now, &nack, |frame| queue.contains(frame))
                {
                    Repeat::Fragments(frames) => self.enqueue_repeats(nack.tag, frames),
                    Repeat::GaveUp { tag } => {
                        self.push_event(LoraLinkEvent::RepeatsExhausted { tag })
                    }
                    Repeat::Waiting | Repeat::Unknown => {}
                }
                Ok(None)
            }
        }
    }

    /// The next frame to put on air at `now`, if the radio is idle and the
    /// duty-cycle budget allows it.
    pub fn poll_transmit(&mut self, now: u64) -> Option<Bytes> {
        let frame = self.queue.poll_transmit(now);
        self.collect_queue_events();
        if let Some(frame) = &frame {
            self.frame_left(now, frame);
        }
        frame
    }

    /// The next report on a datagram the link took, oldest first, with the
    /// datagram (at most 256 pending, the oldest replaced).
    pub fn poll_report(&mut self) -> Option<(LinkReport, Bytes)> {
        self.reports.pop_front()
    }

    /// When to call [`LoraLink::poll_transmit`] or
    /// [`LoraLink::handle_timeout`] next.
    pub fn poll_timeout(&self, now: u64) -> Option<u64> {
        [
            self.queue.poll_timeout(now),
            self.reassembler.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the timers due at `now`: NACKs for quiet partial datagrams,
    /// give-ups, and forgetting old retained datagrams.
    pub fn handle_timeout(&mut self, now: u64) {
        self.reassembler.handle_timeout(now);
        self.hold_in_flight(now);
        self.fragmenter.handle_timeout(now);
        let nacks: Vec<Bytes> = std::iter::from_fn(|| self.reassembler.poll_transmit()).collect();
        self.enqueue_own(Priority::Control, nacks);
        while let Some(gave_up) = self.reassembler.poll_event() {
            self.push_event(LoraLinkEvent::ReassemblyGaveUp(gave_up));
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<LoraLinkEvent> {
        self.collect_queue_events();
        self.events.pop_front()
    }

    /// Total airtime put on air, ns.
    pub fn airtime_used_ns(&self) -> u128 {
        self.queue.airtime_used_ns()
    }

    /// Frames waiting for the radio.
    pub fn queued_frames(&self) -> usize {
        self.queue.len()
    }

    /// Fragment bytes held by the reassembler.
    pub fn reassembly_bytes(&self) -> usize {
        self.reassembler.held_bytes()
    }

    /// Queues frames the engine itself produced, or reports that they did
    /// not fit; returns how many were queued.
    fn enqueue_own(&mut self, priority: Priority, frames: Vec<Bytes>) -> usize {
        let total = frames.len();
        let refused = frames
            .into_iter()
            .filter(|frame| self.queue.enqueue(priority, frame.clone()).is_err())
            .count();
        if refused > 0 {
            self.push_event(LoraLinkEvent::ControlRefused { frames: refused });
        }
        total - refused
    }

    /// Queues the repeats answering a NACK for our datagram `tag`; the
    /// datagram is in flight again until the last of them went out.
    fn enqueue_repeats(&mut self, tag: u16, frames: Vec<Bytes>) {
        let queued = self.enqueue_own(Priority::Data, frames);
        let Some(datagram) = self.fragmenter.datagram(tag).filter(|_| queued > 0) else {
            return;
        };
        match self.in_flight.iter_mut().find(|f| f.tag == Some(tag)) {
            Some(entry) => entry.queued += queued,
            None => self.in_flight.push_back(InFlight {
                tag: Some(tag),
                datagram: datagram.clone(),
                queued,
            }),
        }
        self.push_report(LinkReport::Queued, datagram);
    }

    /// A frame went to the radio: if it was the last queued one of its
    /// datagram, the datagram is sent (and its retention starts again).
    fn frame_left(&mut self, now: u64, frame: &Bytes) {
        let position = match frame_kind(frame) {
            FrameKind::Whole => self
                .in_flight
                .iter()
                .position(|f| f.tag.is_none() && f.datagram[..] == frame[WHOLE_HEADER_LEN..]),
            FrameKind::Fragment(tag) => self.in_flight.iter().position(|f| f.tag == Some(tag)),
            FrameKind::Other => None,
        };
        let Some(position) = position else {
            return;
        };
        let entry = &mut self.in_flight[position];
        entry.queued = entry.queued.saturating_sub(1);
        if entry.queued > 0 {
            return;
        }
        if let Some(entry) = self.in_flight.remove(position) {
            if let Some(tag) = entry.tag {
                self.fragmenter.restart_retention(tag, now);
            }
            self.push_report(LinkReport::Sent, entry.datagram);
        }
    }

    /// A datagram whose frames still wait in the queue is not forgotten:
    /// its retention starts when the last of them goes (spec §6.6).
    fn hold_in_flight(&mut self, now: u64) {
        for tag in self.in_flight.iter().filter_map(|f| f.tag) {
            self.fragmenter.restart_retention(tag, now);
        }
    }

    fn push_report(&mut self, report: LinkReport, datagram: Bytes) {
        if self.reports.len() == MAX_PENDING_EVENTS {
            self.reports.pop_front();
        }
        self.reports.push_back((report, datagram));
    }

    fn collect_queue_events(&mut self) {
        while let Some(LinkEvent::BudgetExhausted { until_ms }) = self.queue.poll_event() {
            self.push_event(LoraLinkEvent::BudgetExhausted { until_ms });
        }
    }

    fn push_event(&mut self, event: LoraLinkEvent) {
        if self.events.len() == MAX_PENDING_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

/// What a queued frame carries, read from its first bytes (spec §6.1).
enum FrameKind {
    Whole,
    Fragment(u16),
    Other,
}

fn frame_kind(frame: &[u8]) -> FrameKind {
    match (frame.first().map(|b| b >> 6), frame.get(1..3)) {
        (Some(0), _) => FrameKind::Whole,
        (Some(1), Some(tag)) => FrameKind::Fragment(u16::from_be_bytes([tag[0], tag[1]])),
        _ => FrameKind::Other,
    }
}

/// The queue priority of a mesh datagram (spec §6.7): path requests and
/// responses, receipts, hop acks and key requests are control; announces
/// go last; everything else (sealed data, key responses, channel
/// messages, types this node does not know) is data.
pub fn priority_of(datagram: &[u8]) -> Priority {
    let code = datagram.first().map_or(0, |b| b & 0x0f);
    match MessageType::from_code(code) {
        Ok(MessageType::Announce) => Priority::Announce,
        Ok(
            MessageType::PathRequest
            | MessageType::PathResponse
            | MessageType::KeyRequest
            | MessageType::Receipt
            | MessageType::HopAck,
        ) => Priority::Control,
        _ => Priority::Data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::profile::{Eu868SubBand, RadioParams, RadioProfile, Region};
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn link(sf: u8, capacity: usize) -> LoraLink {
        let profile = LinkProfile::new(
            RadioProfile::new(RadioParams::lorawan(sf)).unwrap(),
            Region::Eu868(Eu868SubBand::G3),
        )
        .unwrap();
        let config = LoraLinkConfig {
            queue_capacity: capacity,
            ..LoraLinkConfig::new(profile)
        };
        LoraLink::new(config, &mut ChaCha20Rng::seed_from_u64(1)).unwrap()
    }

    fn datagram(len: usize) -> Bytes {
        (0..len)
            .map(|i| (i * 13 + 5) as u8)
            .collect::<Vec<_>>()
            .into()
    }

    /// Runs both links in time order until neither has anything to do
    /// (or an hour has passed), dropping the frames `lose` picks; returns
    /// the datagrams each completed. Frames arrive when they are sent.
    fn exchange(
        a: &mut LoraLink,
        b: &mut LoraLink,
        lose: &mut impl FnMut() -> bool,
    ) -> (Vec<Bytes>, Vec<Bytes>) {
        fn step(
            x: &mut LoraLink,
            y: &mut LoraLink,
            now: u64,
            lose: &mut impl FnMut() -> bool,
        ) -> Vec<Bytes> {
            x.handle_timeout(now);
            let mut got = Vec::new();
            if let Some(frame) = x.poll_transmit(now) {
                if !lose() {
                    got.extend(y.handle_frame(now, 1, frame).unwrap_or(None));
                }
            }
            got
        }
        let (mut at_a, mut at_b) = (Vec::new(), Vec::new());
        let mut now = 0;
        while let Some(next) = [a.poll_timeout(now), b.poll_timeout(now)]
            .into_iter()
            .flatten()
            .min()
        {
            if next > 3_600_000 {
                break;
            }
            now = now.max(next);
            at_b.extend(step(a, b, now, lose));
            at_a.extend(step(b, a, now, lose));
        }
        (at_a, at_b)
    }

    #[test]
    fn sf12_frames_a_kib_into_22_and_declares_its_datagram_mtu() {
        let mut a = link(12, 64);
        assert_eq!(a.max_datagram_len(), 64 * 47);
        assert_eq!(a.frames_for(50), 1);
        assert_eq!(a.frames_for(1024), 22);
        a.send(0, Priority::Data, &datagram(1024)).unwrap();
        assert_eq!(a.queued_frames(), 22);
    }

    #[test]
    fn a_datagram_that_does_not_fit_queues_nothing() {
        let mut a = link(12, 21);
        assert_eq!(
            a.send(0, Priority::Data, &datagram(1024)),
            Err(Error::QueueFull)
        );
        assert_eq!(a.queued_frames(), 0);
        assert!(matches!(
            a.send(0, Priority::Data, &datagram(64 * 47 + 1)),
            Err(Error::DatagramTooLong { .. })
        ));
        assert!(matches!(
            a.send(0, Priority::Data, &Bytes::new()),
            Err(Error::DatagramTooLong { .. })
        ));
        assert_eq!(a.queued_frames(), 0);
    }

    #[test]
    fn a_lost_fragment_is_nacked_and_repeated() {
        let (mut a, mut b) = (link(9, 64), link(9, 64));
        let d = datagram(700);
        a.send(0, Priority::Data, &d).unwrap();
        let frames = a.frames_for(d.len());
        let mut sent = 0;
        // The third frame is lost; b's NACK and a's single repeat are not.
        let (at_a, at_b) = exchange(&mut a, &mut b, &mut || {
            sent += 1;
            sent == 3
        });
        assert!(at_a.is_empty());
        assert_eq!(at_b, [d]);
        // Every fragment once, one NACK, one repeat.
        assert_eq!(sent, frames + 2);
    }

    #[test]
    fn the_budget_holds_frames_back_and_says_so() {
        // 440 SF12 frames need about 17 minutes of air; sub-band G3 allows
        // 10 %, six minutes an hour.
        let mut a = link(12, 512);
        for _ in 0..20 {
            a.send(0, Priority::Data, &datagram(1024)).unwrap();
        }
        let mut waits = 0;
        for second in 0..3600 {
            a.poll_transmit(second * 1000);
            while let Some(e) = a.poll_event() {
                waits += usize::from(matches!(e, LoraLinkEvent::BudgetExhausted { .. }));
            }
        }
        assert!(waits > 0);
        assert!(a.queued_frames() > 0);
        assert!(a.airtime_used_ns() <= 360_000_000_000);
    }

    #[test]
    fn a_datagram_is_reported_sent_when_its_last_frame_leaves_and_again_after_repeats() {
        let (mut a, mut b) = (link(9, 64), link(9, 64));
        let (big, small) = (datagram(700), datagram(40));
        a.send(0, Priority::Data, &big).unwrap();
        a.send(0, Priority::Control, &small).unwrap();
        let reports = |l: &mut LoraLink| std::iter::from_fn(|| l.poll_report()).collect::<Vec<_>>();
        assert_eq!(
            reports(&mut a),
            [
                (LinkReport::Queued, big.clone()),
                (LinkReport::Queued, small.clone())
            ]
        );
        let frames = a.frames_for(big.len());
        let mut now = 0;
        let mut sent_after = Vec::new();
        for i in 0..=frames {
            let frame = loop {
                now += 1;
                if let Some(f) = a.poll_transmit(now) {
                    break f;
                }
            };
            for (report, d) in reports(&mut a) {
                assert_eq!(report, LinkReport::Sent);
                sent_after.push((i, d));
            }
            // Fragment 3 of the big datagram is lost.
            if i != 3 {
                b.handle_frame(now, 1, frame).unwrap();
            }
        }
        // The whole Control frame went first, the big datagram's last
        // fragment last.
        assert_eq!(sent_after, [(0, small), (frames, big.clone())]);
        b.handle_timeout(now + 60_000);
        let nack = b.poll_transmit(now + 60_000).expect("a NACK");
        assert_eq!(a.handle_frame(now + 60_000, 2, nack), Ok(None));
        assert_eq!(reports(&mut a), [(LinkReport::Queued, big.clone())]);
        assert!(a.poll_transmit(now + 120_000).is_some());
        assert_eq!(reports(&mut a), [(LinkReport::Sent, big)]);
    }

    #[test]
    fn mesh_types_map_to_priorities() {
        let first = |t: MessageType| [0x20 | t.code()];
        assert_eq!(
            priority_of(&first(MessageType::Announce)),
            Priority::Announce
        );
        assert_eq!(priority_of(&first(MessageType::HopAck)), Priority::Control);
        assert_eq!(priority_of(&first(MessageType::Receipt)), Priority::Control);
        assert_eq!(priority_of(&first(MessageType::Sealed)), Priority::Data);
        assert_eq!(priority_of(&[0x2f]), Priority::Data);
        assert_eq!(priority_of(&[]), Priority::Data);
    }

    proptest! {
        #[test]
        fn datagrams_cross_a_lossy_link_intact_or_are_reported(
            lens in proptest::collection::vec(1usize..1500, 1..4),
            loss in 0u8..30,
            seed in any::<u64>(),
        ) {
            let (mut a, mut b) = (link(9, 1024), link(9, 1024));
            let sent: Vec<Bytes> = lens.iter().map(|&l| datagram(l)).collect();
            for d in &sent {
                a.send(0, Priority::Data, d).unwrap();
            }
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let (at_a, at_b) = exchange(&mut a, &mut b, &mut || rng.next_u32() % 100 < u32::from(loss));
            prop_assert!(at_a.is_empty());
            // Whatever arrived is one of the sent datagrams, whole, and no
            // more of them than were sent.
            prop_assert!(at_b.iter().all(|d| sent.contains(d)));
            prop_assert!(at_b.len() <= sent.len());
            // Without loss, everything arrives.
            if loss == 0 {
                prop_assert_eq!(at_b.len(), sent.len());
            }
            prop_assert!(b.reassembly_bytes() <= 16_384);
        }
    }
}
