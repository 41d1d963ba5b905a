//! Fuzz targets for qpc's MLS layers (`spec/07`): the application payload
//! and delivery header decoders, and the delivery-ordering state machine,
//! each against an independent model written here from the spec.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;
use qpc_crypto::identity::Address;
use qpc_crypto::mls::delivery::{
    Admission, DeliveryHeader, DeliveryOrder, DropReason, HeldItem, OrderConfig, Sequenced,
};
use qpc_crypto::mls::payload::{ApplicationPayload, MAX_BODY};

/// `[mode] bytes`: mode bit 0 clear decodes `bytes` as a padded
/// application payload, set as a delivery header. The outcome (fields or
/// error class) must equal [`expected_payload`] / [`expected_header`];
/// accepted input must re-encode to itself.
pub fn mls_payload(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let got = ApplicationPayload::from_plaintext(bytes);
        match (&got, expected_payload(bytes)) {
            (Ok(p), Ok(fields)) => {
                assert_eq!(summary(p), fields);
                assert_eq!(p.to_plaintext().expect("re-encodes"), bytes);
            }
            (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e:?}"),
            (got, want) => panic!("payload: got {got:?}, expected {want:?}"),
        }
    } else {
        match (DeliveryHeader::decode(bytes), expected_header(bytes)) {
            (Ok(h), Ok(sequence)) => {
                assert_eq!(h.sequence, sequence);
                assert_eq!(h.encode(), bytes);
            }
            (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e:?}"),
            (got, want) => panic!("header: got {got:?}, expected {want:?}"),
        }
    }
}

/// The fields of a payload the model compares: (content type, message id,
/// timestamp, reply-to, body).
type Fields = (u8, [u8; 16], u64, Option<[u8; 16]>, Bytes);

fn summary(p: &ApplicationPayload) -> Fields {
    (
        p.content_type.code(),
        p.message_id,
        p.timestamp_ms,
        p.reply_to,
        p.body.clone(),
    )
}

/// Padmé (`spec/04` §2), computed on u128 so it cannot overflow.
fn padme(len: usize) -> u128 {
    let l = len as u128;
    if l < 2 {
        return l;
    }
    let e = 127 - l.leading_zeros();
    let s = 32 - e.leading_zeros();
    let mask = (1u128 << (e - s)) - 1;
    (l + mask) & !mask
}

/// `spec/07` §6 decoding, step by step.
pub fn expected_payload(padded: &[u8]) -> Result<Fields, &'static str> {
    let end = padded.iter().rposition(|&b| b != 0).ok_or("bad_padding")?;
    if padded[end] != 0x80 || padme(end + 1) != padded.len() as u128 {
        return Err("bad_padding");
    }
    let data = &padded[..end];
    let take = |at: usize, n: usize| data.get(at..at + n).ok_or("truncated");
    if take(0, 1)?[0] != 1 {
        return Err("unknown_version");
    }
    let content_type = take(1, 1)?[0];
    if !(1..=2).contains(&content_type) {
        return Err("malformed");
    }
    let message_id: [u8; 16] = take(2, 16)?.try_into().expect("16");
    let timestamp = u64::from_be_bytes(take(18, 8)?.try_into().expect("8"));
    let (reply_to, at) = match take(26, 1)?[0] {
        0 => (None, 27),
        1 => (Some(take(27, 16)?.try_into().expect("16")), 43),
        _ => return Err("malformed"),
    };
    let first = take(at, 1)?[0];
    let width = 1usize << (first >> 6);
    if width == 8 {
        return Err("invalid_length_prefix");
    }
    let raw = take(at, width)?;
    let mut len = usize::from(first & 0x3f);
    for &b in &raw[1..] {
        len = len << 8 | usize::from(b);
    }
    let minimal = if len < 64 {
        1
    } else if len < 1 << 14 {
        2
    } else {
        4
    };
    if width != minimal {
        return Err("non_minimal_length");
    }
    if len > MAX_BODY {
        return Err("content_too_long");
    }
    let body = take(at + width, len)?;
    if at + width + len != data.len() {
        return Err("trailing_bytes");
    }
    if content_type == 1 && std::str::from_utf8(body).is_err() {
        return Err("malformed");
    }
    Ok((
        content_type,
        message_id,
        timestamp,
        reply_to,
        Bytes::copy_from_slice(body),
    ))
}

/// `spec/07` §5 decoding.
pub fn expected_header(bytes: &[u8]) -> Result<u64, &'static str> {
    match bytes {
        [] => Err("truncated"),
        [v, ..] if *v != 1 => Err("unknown_version"),
        [_, rest @ ..] if rest.len() < 8 => Err("truncated"),
        [_, rest @ ..] if rest.len() > 8 => Err("trailing_bytes"),
        [_, rest @ ..] => Ok(u64::from_be_bytes(rest.try_into().expect("8"))),
    }
}

/// `[config] ops…`: drives a [`DeliveryOrder`] and a model of `spec/07` §7
/// side by side; every admission, sequence check and release must agree,
/// and the bounds must hold after every op.
///
/// Config: bits 0-1 `max_held` (0, 1, 3, 8), bits 2-3 `max_seen` (0, 2, 5,
/// 64), bits 4-5 `window` (1, 3, 16, 1024), bit 6 `max_senders` 2 or 8,
/// bit 7 `max_past_epochs` 0 or 2. Each op is 4 bytes: `[message id]
/// [epoch delta] [sender | kind << 7] [sequence]`; the message bytes are the
/// id (so ids repeat as duplicates), the epoch is the current one plus the
/// delta taken as a signed byte / 32, the sequence the byte (0xff meaning
/// 2^64 - 1).
pub fn mls_ordering(data: &[u8]) {
    let Some((&c, ops)) = data.split_first() else {
        return;
    };
    let config = OrderConfig {
        max_held: [0, 1, 3, 8][usize::from(c & 3)],
        // A message costs its id's low 2 bits + 1 bytes.
        max_held_bytes: 6,
        max_seen: [0, 2, 5, 64][usize::from(c >> 2 & 3)],
        window: [1, 3, 16, 1024][usize::from(c >> 4 & 3)],
        max_senders: if c & 0x40 == 0 { 2 } else { 8 },
        max_past_epochs: if c & 0x80 == 0 { 0 } else { 2 },
    };
    let mut order = DeliveryOrder::new(config, 10);
    let mut model = Model::new(config, 10);
    for op in ops.chunks_exact(4).take(256) {
        let epoch = (i64::try_from(order.epoch()).expect("small") + i64::from(op[1] as i8) / 32)
            .max(0) as u64;
        let msg = Msg {
            id: op[0],
            epoch,
            sender: op[2] & 0x0f,
            commit: op[2] & 0x80 != 0,
            sequence: if op[3] == 0xff {
                u64::MAX
            } else {
                u64::from(op[3])
            },
        };
        let got = run_real(&mut order, msg);
        let want = model.receive(msg);
        assert_eq!(got, want, "op {op:?}");
        assert!(order.held() <= config.max_held);
        assert_eq!(order.epoch(), model.epoch);
    }
}

impl HeldItem for Msg {
    fn held_len(&self) -> usize {
        usize::from(self.id & 3) + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Msg {
    id: u8,
    epoch: u64,
    sender: u8,
    commit: bool,
    sequence: u64,
}

fn digest(id: u8) -> [u8; 32] {
    [id; 32]
}

fn address(sender: u8) -> Address {
    Address::from_bytes([sender; 16])
}

fn run_real(order: &mut DeliveryOrder<Msg>, msg: Msg) -> Vec<String> {
    let mut events = Vec::new();
    match order.admit(digest(msg.id), msg.epoch, msg.commit, msg) {
        Admission::Held => events.push("held".into()),
        Admission::Duplicate => events.push("duplicate".into()),
        Admission::Dropped(r) => events.push(r.name().into()),
        Admission::Process(m) => {
            let mut queue = VecDeque::from([(m, false)]);
            while let Some((m, released)) = queue.pop_front() {
                if let Some(r) = order.recheck(m.epoch, m.commit).filter(|_| released) {
                    events.push(r.name().into());
                    continue;
                }
                match order.sequence(address(m.sender), m.sequence) {
                    Err(r) => {
                        events.push(r.name().into());
                        continue;
                    }
                    Ok(Sequenced::Gap { first, last }) => {
                        assert!(first <= last);
                        events.push(format!("gap {first}-{last}"));
                    }
                    Ok(_) => {}
                }
                order.mark_seen(digest(m.id));
                events.push(format!("delivered {}", m.id));
                if m.commit {
                    let epoch = order.epoch() + 1;
                    for r in order.advance(epoch).into_iter().rev() {
                        queue.push_front((r, true));
                    }
                }
            }
        }
    }
    events
}

/// The §7 model: plain lists and a set of every number each sender has
/// delivered.
struct Model {
    config: OrderConfig,
    epoch: u64,
    seen: VecDeque<u8>,
    held: Vec<Msg>,
    senders: BTreeMap<u8, (u64, BTreeSet<u64>)>,
}

impl Model {
    fn new(config: OrderConfig, epoch: u64) -> Self {
        Model {
            config,
            epoch,
            seen: VecDeque::new(),
            held: Vec::new(),
            senders: BTreeMap::new(),
        }
    }

    fn remember(&mut self, id: u8) {
        if self.config.max_seen > 0 && !self.seen.contains(&id) {
            self.seen.push_back(id);
            if self.seen.len() > self.config.max_seen {
                self.seen.pop_front();
            }
        }
    }

    fn receive(&mut self, m: Msg) -> Vec<String> {
        if self.seen.contains(&m.id) {
            return vec!["duplicate".into()];
        }
        if m.epoch > self.epoch {
            let bytes: usize = self.held.iter().map(HeldItem::held_len).sum();
            if m.epoch > self.epoch + 1 {
                return vec![DropReason::FutureEpoch.name().into()];
            }
            if self.held.len() >= self.config.max_held
                || bytes + m.held_len() > self.config.max_held_bytes
            {
                return vec![DropReason::HeldFull.name().into()];
            }
            self.remember(m.id);
            self.held.push(m);
            return vec!["held".into()];
        }
        if let Some(r) = self.stale(m) {
            return vec![r.name().into()];
        }
        let mut events = Vec::new();
        let mut queue = vec![(m, false)];
        while !queue.is_empty() {
            let (m, released) = queue.remove(0);
            if let Some(r) = self.stale(m).filter(|_| released) {
                events.push(r.name().into());
                continue;
            }
            if let Err(r) = self.sequence(m, &mut events) {
                events.push(r.name().into());
                continue;
            }
            self.remember(m.id);
            events.push(format!("delivered {}", m.id));
            if m.commit {
                self.epoch += 1;
                let epoch = self.epoch;
                let (ready, keep): (Vec<_>, Vec<_>) =
                    self.held.drain(..).partition(|h| h.epoch <= epoch);
                self.held = keep;
                queue.splice(0..0, ready.into_iter().map(|r| (r, true)));
            }
        }
        events
    }

    /// §7.2 steps 3-4.
    fn stale(&self, m: Msg) -> Option<DropReason> {
        if m.commit && m.epoch < self.epoch {
            Some(DropReason::StaleEpoch)
        } else if m.epoch + self.config.max_past_epochs < self.epoch {
            Some(DropReason::TooOldEpoch)
        } else {
            None
        }
    }

    /// §7.4 with the missing set recomputed from what was delivered.
    fn sequence(&mut self, m: Msg, events: &mut Vec<String>) -> Result<(), DropReason> {
        let window = self.config.window;
        let s = m.sequence;
        if !self.senders.contains_key(&m.sender) {
            if self.senders.len() >= self.config.max_senders {
                return Err(DropReason::TooManySenders);
            }
            if s == u64::MAX {
                return Err(DropReason::TooOldSequence);
            }
            // The baseline: nothing before it is "missing".
            self.senders.insert(
                m.sender,
                (
                    s + 1,
                    (0..=s)
                        .collect::<BTreeSet<u64>>()
                        .split_off(&s.saturating_sub(window)),
                ),
            );
            return Ok(());
        }
        let (next, delivered) = self.senders.get_mut(&m.sender).expect("present");
        if s == u64::MAX {
            return Err(DropReason::TooOldSequence);
        }
        if s >= *next {
            if s > *next {
                events.push(format!("gap {}-{}", *next, s - 1));
            }
            *next = s + 1;
        } else if s < (*next - 1).saturating_sub(window) {
            return Err(DropReason::TooOldSequence);
        } else if delivered.contains(&s) {
            return Err(DropReason::DuplicateSequence);
        }
        // A number inside the window that was neither delivered nor skipped
        // over is impossible, so "not delivered" means "missing".
        delivered.insert(s);
        let floor = (*next - 1).saturating_sub(window);
        *delivered = delivered.split_off(&floor);
        Ok(())
    }
}
