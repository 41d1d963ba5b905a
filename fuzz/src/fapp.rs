//! The qpc-fapp targets (`spec/20-fapp.md`): every FAPP message decoder,
//! the sealed plaintext decoders behind the therapist engine, and the relay
//! engine on arbitrary message sequences.
//!
//! Fixed: three therapists (`THERAPIST_SEEDS`), a patient reply key, the
//! clock origin [`FAPP_NOW`], and the genuine messages of
//! [`genuine_fapp_messages`] (announces of several sequences and expiries,
//! a withdrawal) that the relay target can pick by index, since the fuzzer
//! cannot forge their signatures.

use std::collections::{HashMap, VecDeque};
use std::sync::LazyLock;

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity};
use qpc_crypto::xwing::XWingSecretKey;
use qpc_fapp::announce::{licence_hash, SlotAnnounce, SlotWithdraw};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::{Filter, SlotQuery, SlotResponse};
use qpc_fapp::relay::{Relay, RelayConfig};
use qpc_fapp::sealed::{Notice, ReservationRequest, Sealed, RESERVATION_PADDED_LEN};
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_fapp::{FappMessage, FappType, NeighbourId, To};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The FAPP targets' clock origin, Unix ms.
pub const FAPP_NOW: u64 = 1_800_000_000_000;
const HOUR: u64 = 3600 * 1000;
const DAY: u64 = 24 * HOUR;
/// Signing and KEM seeds of the fixed therapists.
pub const THERAPIST_SEEDS: [([u8; 32], [u8; 32]); 3] = [
    ([0x51; 32], [0x61; 32]),
    ([0x52; 32], [0x62; 32]),
    ([0x53; 32], [0x63; 32]),
];
const PLZS: [&[u8; 5]; 3] = [b"10115", b"10117", b"80331"];

static THERAPISTS: LazyLock<Vec<Identity>> = LazyLock::new(|| {
    THERAPIST_SEEDS
        .iter()
        .map(|(s, k)| Identity::from_seeds(s, k))
        .collect()
});
static REPLY_KEY: LazyLock<XWingSecretKey> =
    LazyLock::new(|| XWingSecretKey::from_seed(&[0x71; 32]));
static GENUINE: LazyLock<Vec<FappMessage>> = LazyLock::new(build_genuine);

fn practice(plz: &[u8; 5]) -> Practice {
    Practice {
        plz: Plz::new(*plz).expect("digits"),
        methods: Methods::BEHAVIOURAL,
        age_groups: AgeGroups::ALL,
        modalities: Modalities::IN_PERSON,
        payers: Payers::GKV.union(Payers::PKV),
        features: Features::NONE,
        languages: Languages::new(&[*b"de"]).expect("code"),
    }
}

fn slot(id: u32) -> Slot {
    Slot {
        id,
        start_ms: FAPP_NOW + DAY + u64::from(id) * HOUR,
        duration_min: 50,
        kind: Kinds::CONSULTATION,
    }
}

fn build_genuine() -> Vec<FappMessage> {
    let mut out = Vec::new();
    for (t, identity) in THERAPISTS.iter().enumerate() {
        let licence = licence_hash("LANR-000000001");
        for (sequence, expires) in [(1, DAY), (2, DAY), (3, 2 * DAY), (4, HOUR)] {
            let announce = SlotAnnounce::sign(
                identity,
                licence,
                sequence,
                FAPP_NOW + expires,
                60_000,
                practice(PLZS[t]),
                (1..=sequence).map(slot).collect(),
            )
            .expect("genuine announce");
            out.push(FappMessage::Announce(announce));
        }
        let withdraw = SlotWithdraw::sign(identity, 5, FAPP_NOW + DAY);
        out.push(FappMessage::Withdraw(withdraw));
    }
    out
}

/// The genuine messages the relay target picks from (and the seeds use).
pub fn genuine_fapp_messages() -> &'static [FappMessage] {
    &GENUINE
}

/// A genuine reservation plaintext for `slot_id` (seeds of `fapp_sealed`).
pub fn genuine_reservation_plaintext(slot_id: u32) -> Vec<u8> {
    ReservationRequest {
        request_id: [0x81; 16],
        slot_id,
        created_ms: FAPP_NOW,
        reply_address: Address::from_bytes([0x72; 16]),
        reply_key: REPLY_KEY.public_key().clone(),
        contact: "pseudonym@example.invalid".into(),
    }
    .encode()
    .expect("encodes")
}

/// The encoded length a sealed message of `kind` must have.
fn sealed_len(kind: u8) -> Option<usize> {
    match kind {
        5 => Some(2 + 16 + 1120 + 1344 + 16),
        6 | 7 => Some(2 + 16 + 1120 + 32 + 16),
        _ => None,
    }
}

const DECODE_CLASSES: &[&str] = &[
    "truncated",
    "trailing_bytes",
    "malformed",
    "too_many_items",
    "non_minimal_length",
    "invalid_length_prefix",
    "unknown_version",
    "unknown_fapp_type",
];

/// `FappMessage::decode` on any bytes. The header outcome and the exact
/// outcome of the fixed-length types (withdraw, sealed) are predicted from
/// `spec/20` §3-§7; other errors must be decoding classes; accepted ⇒
/// re-encodes to the input; announces (also inside responses) verify or
/// fail with `invalid_public_key` / `bad_signature`.
pub fn fapp_message(data: &[u8]) {
    let result = FappMessage::decode(Bytes::copy_from_slice(data));
    let class = result.as_ref().err().map(qpc_fapp::Error::class);
    match data {
        [v, ..] if *v != 1 => assert_eq!(class, Some("unknown_version")),
        [] | [_] => assert_eq!(class, Some("truncated")),
        [_, t, ..] if !(1..=7).contains(t) => assert_eq!(class, Some("unknown_fapp_type")),
        [_, t, ..] => {
            let fixed = if *t == 2 { Some(142) } else { sealed_len(*t) };
            if let Some(len) = fixed {
                let want = match data.len().cmp(&len) {
                    core::cmp::Ordering::Less => Some("truncated"),
                    core::cmp::Ordering::Greater => Some("trailing_bytes"),
                    core::cmp::Ordering::Equal => None,
                };
                assert_eq!(class, want, "fixed-length type {t}");
            }
        }
    }
    if let Some(class) = class {
        assert!(DECODE_CLASSES.contains(&class), "decoder gave {class}");
    }
    let Ok(message) = result else {
        return;
    };
    assert_eq!(message.encode().expect("re-encodes"), data, "canonical");
    assert_eq!(message.fapp_type().code(), data[1]);
    let announces = match &message {
        FappMessage::Announce(a) => vec![a.clone()],
        FappMessage::Response(r) => r.announces.clone(),
        _ => vec![],
    };
    for announce in announces {
        if let Err(e) = announce.verify() {
            assert!(matches!(e.class(), "invalid_public_key" | "bad_signature"));
        }
    }
}

fn therapist() -> Therapist {
    let identity = &THERAPISTS[0];
    let copy = Identity::from_secret_bytes(&identity.to_secret_bytes()[..]).expect("copy");
    let config = TherapistConfig::default();
    let mut t = Therapist::new(copy, [0; 32], practice(PLZS[0]), config, 0).expect("therapist");
    t.add_slot(FAPP_NOW, slot(1)).expect("slot");
    t
}

/// Sealed plaintexts behind a genuine HPKE layer: `[mode] plaintext`.
///
/// - mode bits 0-1 = 0: a ReservationRequest sealed to therapist 0 (bit 2:
///   a genuine reply key spliced in at offset 44; bit 3: `created_ms` set
///   to now); the therapist's outcome equals the plaintext decoder's, the
///   window rule and the slot state; accepted ⇒ canonical, and the same
///   sealed bytes again get the same answer and no second hold;
/// - 1: a ResultNotice sealed to the reply key: opens to a notice that is
///   accepted exactly when it is 21 bytes with status 1-3, and re-encodes;
/// - 2: a CancelNotice sealed to therapist 0: `wrong_state` when it is 20
///   bytes (nothing is held), the decoder's error otherwise;
/// - 3: the bytes as a whole Reservation message: never accepted.
pub fn fapp_sealed(data: &[u8]) {
    let Some((&mode, plaintext)) = data.split_first() else {
        return;
    };
    let therapist_key = THERAPISTS[0].public().kem_key();
    let address = THERAPISTS[0].public().address();
    let mut r = ChaCha20Rng::from_seed([mode; 32]);
    match mode & 3 {
        0 => {
            let mut plaintext = plaintext.to_vec();
            if mode & 4 != 0 && plaintext.len() >= 44 + 1216 {
                plaintext[44..44 + 1216].copy_from_slice(&REPLY_KEY.public_key().to_bytes());
            }
            if mode & 8 != 0 && plaintext.len() >= 28 {
                plaintext[20..28].copy_from_slice(&FAPP_NOW.to_be_bytes());
            }
            if plaintext.len() >= RESERVATION_PADDED_LEN {
                return;
            }
            let sealed = Sealed::seal(
                FappType::Reservation,
                address,
                therapist_key,
                &plaintext,
                &mut r,
            )
            .expect("fits the bucket");
            let mut t = therapist();
            let decoded = ReservationRequest::decode(&plaintext);
            let outcome = t.handle_reservation(FAPP_NOW, &sealed, &mut r);
            match (decoded, outcome) {
                (Err(want), Err(got)) => assert_eq!(got.class(), want.class()),
                (Ok(request), Err(got)) => {
                    assert_eq!(got.class(), "stale");
                    assert!(request.created_ms.abs_diff(FAPP_NOW) > 600_000);
                }
                (Ok(request), Ok(step)) => {
                    assert_eq!(request.encode().expect("encodes"), plaintext, "canonical");
                    let held = matches!(step.events[0], TherapistEvent::Held { .. });
                    assert_eq!(held, request.slot_id == 1, "only slot 1 is free");
                    let again = t
                        .handle_reservation(FAPP_NOW + 1, &sealed, &mut r)
                        .expect("replay");
                    assert_eq!(
                        again.events,
                        vec![TherapistEvent::Replayed(request.request_id)]
                    );
                    let first_result = step
                        .outgoing
                        .iter()
                        .find(|o| matches!(o.message, FappMessage::Result(_)));
                    assert_eq!(again.outgoing.first(), first_result, "the same answer");
                    assert_eq!(t.slot_owner(1).is_some(), held);
                }
                (Err(e), Ok(_)) => panic!("accepted a plaintext the decoder refuses: {e}"),
            }
        }
        1 => {
            let reply = Address::from_bytes([0x72; 16]);
            let kind = FappType::ReservationResult;
            let Ok(sealed) = Sealed::seal(kind, reply, REPLY_KEY.public_key(), plaintext, &mut r)
            else {
                assert!(plaintext.len() >= 32, "only too long to pad");
                return;
            };
            let opened = sealed.open(kind, &reply, &REPLY_KEY).expect("genuine");
            assert_eq!(&opened[..], plaintext);
            let notice = Notice::decode(kind, &opened);
            let valid = plaintext.len() == 21 && (1..=3).contains(&plaintext[20]);
            assert_eq!(notice.is_ok(), valid);
            if let Ok(notice) = notice {
                assert_eq!(notice.encode(), plaintext);
            }
        }
        2 => {
            let Ok(sealed) =
                Sealed::seal(FappType::Cancel, address, therapist_key, plaintext, &mut r)
            else {
                return;
            };
            let err = therapist()
                .handle_cancel(FAPP_NOW, &sealed)
                .expect_err("nothing to cancel");
            let want = match plaintext.len() {
                20 => "wrong_state",
                n if n < 20 => "truncated",
                _ => "trailing_bytes",
            };
            assert_eq!(err.class(), want);
        }
        _ => {
            let Ok(FappMessage::Reservation(sealed)) =
                FappMessage::decode(Bytes::copy_from_slice(plaintext))
            else {
                return;
            };
            let err = therapist()
                .handle_reservation(FAPP_NOW, &sealed, &mut r)
                .expect_err("forged");
            assert!(
                matches!(
                    err.class(),
                    "wrong_recipient" | "open_failed" | "non_contributory"
                ),
                "{}",
                err.class()
            );
        }
    }
}

/// The relay target's configuration: small bounds, so every one is reached.
pub const FAPP_RELAY_CONFIG: RelayConfig = RelayConfig {
    cache_capacity: 2,
    max_announce_lifetime_ms: 3 * DAY,
    query_capacity: 3,
    query_ttl_ms: 60_000,
    max_responses_per_query: 2,
    max_scan: 8,
    burst: 4,
    per_second: 1,
    max_neighbours: 3,
};

fn fuzz_query(prefix_sel: u8, id: u8, hop: u8) -> SlotQuery {
    let digits = PLZS[usize::from(prefix_sel % 3)];
    let len = usize::from(prefix_sel / 3 % 6);
    SlotQuery {
        query_id: [id % 4; 16],
        hop_limit: 1 + hop % 8,
        filter: Filter {
            plz_prefix: PlzPrefix::new(&digits[..len]).expect("digits"),
            methods: Methods::ALL,
            age_groups: AgeGroups::ALL,
            kinds: Kinds::ALL,
            modalities: Modalities::ALL,
            payers: Payers::ALL,
            required_features: Features::NONE,
            languages: Languages::default(),
            earliest_ms: FAPP_NOW,
            latest_ms: FAPP_NOW + 30 * DAY,
        },
        max_results: 1 + hop % 2,
    }
}

/// The relay engine on a script of operations, each `[op] args…`:
/// op bits 0-2 pick the operation, bits 3-4 the neighbour (0-3):
///
/// | op | args | operation |
/// |---|---|---|
/// | 0 | index | a genuine announce or withdrawal |
/// | 1 | len, bytes | any bytes, if they decode |
/// | 2 | minutes | the clock moves on |
/// | 3 | prefix, id, hop | a query (ids 0-3, so they repeat) |
/// | 4 | id, index | a response for query id 0-3 carrying a genuine announce |
/// | 5 | | `handle_timeout` |
///
/// Properties, against a model kept here: the cache never exceeds its
/// capacity; an accepted announce or withdrawal was newer than what the
/// cache held, verifies, is live, and is forwarded unchanged to the other
/// neighbours only; a query is refused as `replayed` exactly while an
/// earlier one with its id is live in the model (unless the bucket or
/// table refused first); responses to a query go back to its neighbour
/// only and carry live announces in the prefix; forwarded queries have one
/// hop less; sealed messages are `wrong_state`.
pub fn fapp_relay(data: &[u8]) {
    let mut relay = Relay::new(FAPP_RELAY_CONFIG).expect("config");
    let mut now = FAPP_NOW;
    let mut paths = Paths::default();
    let mut ops = data.iter().copied();
    while let Some(op) = ops.next() {
        let from = NeighbourId(u32::from(op >> 3 & 3));
        let message = match op & 7 {
            0 => {
                let i = usize::from(ops.next().unwrap_or(0)) % GENUINE.len();
                GENUINE[i].clone()
            }
            1 => {
                let len = usize::from(ops.next().unwrap_or(0));
                let bytes: Vec<u8> = ops.by_ref().take(len).collect();
                match FappMessage::decode(Bytes::from(bytes)) {
                    Ok(m) => m,
                    Err(_) => continue,
                }
            }
            2 => {
                now += u64::from(ops.next().unwrap_or(0)) * 60_000;
                continue;
            }
            3 => {
                let (p, id, hop) = (ops.next(), ops.next(), ops.next());
                FappMessage::Query(fuzz_query(
                    p.unwrap_or(0),
                    id.unwrap_or(0),
                    hop.unwrap_or(0),
                ))
            }
            4 => {
                let id = ops.next().unwrap_or(0) % 4;
                let i = usize::from(ops.next().unwrap_or(0)) % GENUINE.len();
                let announces = match &GENUINE[i] {
                    FappMessage::Announce(a) => vec![a.clone()],
                    _ => vec![],
                };
                FappMessage::Response(SlotResponse {
                    query_id: [id; 16],
                    announces,
                    more: vec![],
                })
            }
            5 => {
                relay.handle_timeout(now);
                assert!(relay.cache().next_expiry().is_none_or(|at| at > now));
                continue;
            }
            _ => continue,
        };
        step_relay(&mut relay, now, from, &message, &mut paths);
        assert!(relay.cache().len() <= FAPP_RELAY_CONFIG.cache_capacity);
    }
}

/// An independent model of the relay's reverse paths: insertion-ordered,
/// the oldest forgotten beyond the capacity; re-recording a known id keeps
/// its place.
#[derive(Default)]
struct Paths {
    order: VecDeque<[u8; 16]>,
    paths: HashMap<[u8; 16], (NeighbourId, u64)>,
}

impl Paths {
    fn live(&self, id: &[u8; 16], now: u64) -> Option<NeighbourId> {
        self.paths
            .get(id)
            .filter(|&&(_, expires)| expires > now)
            .map(|&(from, _)| from)
    }

    fn record(&mut self, id: [u8; 16], from: NeighbourId, expires: u64) {
        if self.paths.insert(id, (from, expires)).is_none() {
            self.order.push_back(id);
            if self.order.len() > FAPP_RELAY_CONFIG.query_capacity {
                let oldest = self.order.pop_front().expect("non-empty");
                self.paths.remove(&oldest);
            }
        }
    }
}

fn step_relay(
    relay: &mut Relay,
    now: u64,
    from: NeighbourId,
    message: &FappMessage,
    paths: &mut Paths,
) {
    let therapist = match message {
        FappMessage::Announce(a) => Some((a.therapist.address(), a.sequence, a.expires_ms)),
        FappMessage::Withdraw(w) => Some((w.therapist.address(), w.sequence, w.expires_ms)),
        _ => None,
    };
    let before = therapist.and_then(|(t, _, _)| relay.cache().sequence(&t));
    let result = relay.handle(now, from, message);
    let step = match result {
        Err(e) => {
            let class = e.class();
            match message {
                FappMessage::Reservation(_) | FappMessage::Result(_) | FappMessage::Cancel(_) => {
                    assert!(matches!(class, "wrong_state" | "rate_limited"), "{class}")
                }
                FappMessage::Query(q) => {
                    let live = paths.live(&q.query_id, now).is_some();
                    // The bucket is charged before dedupe: a live id may
                    // also be refused as rate_limited.
                    assert!(matches!(class, "replayed" | "rate_limited"), "{class}");
                    assert!(class != "replayed" || live, "replayed without a live path");
                }
                FappMessage::Response(_) => {
                    // a live path may have used up its responses
                    assert!(matches!(class, "wrong_state" | "rate_limited"), "{class}");
                }
                _ => assert!(matches!(
                    class,
                    "rate_limited"
                        | "bad_expiry"
                        | "stale"
                        | "bad_signature"
                        | "invalid_public_key"
                        | "full"
                )),
            }
            return;
        }
        Ok(step) => step,
    };
    match message {
        FappMessage::Announce(_) | FappMessage::Withdraw(_) => {
            let (address, sequence, expires) = therapist.expect("signed");
            assert!(before.is_none_or(|known| sequence > known), "not newer");
            assert!(expires > now);
            assert_eq!(relay.cache().sequence(&address), Some(sequence));
            assert_eq!(step.outgoing.len(), 1);
            assert_eq!(step.outgoing[0].to, To::NeighboursExcept(from));
            assert_eq!(&step.outgoing[0].message, message);
            let verified = match message {
                FappMessage::Announce(a) => a.verify(),
                FappMessage::Withdraw(w) => w.verify(),
                _ => unreachable!(),
            };
            assert_eq!(
                verified.expect("only verified messages are cached"),
                address
            );
        }
        FappMessage::Query(q) => {
            assert!(paths.live(&q.query_id, now).is_none(), "a live id accepted");
            paths.record(q.query_id, from, now + FAPP_RELAY_CONFIG.query_ttl_ms);
            for out in &step.outgoing {
                match &out.message {
                    FappMessage::Response(r) => {
                        assert_eq!(out.to, To::Neighbour(from));
                        assert_eq!(r.query_id, q.query_id);
                        assert!(r.announces.len() <= usize::from(q.max_results));
                        for a in &r.announces {
                            assert!(a.expires_ms > now);
                            assert!(a
                                .practice
                                .plz
                                .as_bytes()
                                .starts_with(q.filter.plz_prefix.as_bytes()));
                        }
                    }
                    FappMessage::Query(f) => {
                        assert_eq!(out.to, To::NeighboursExcept(from));
                        assert_eq!(f.hop_limit + 1, q.hop_limit);
                    }
                    other => panic!("a query produced {other:?}"),
                }
            }
        }
        FappMessage::Response(r) => {
            let back = paths.live(&r.query_id, now).expect("a live path");
            assert_eq!(step.outgoing.len(), 1);
            assert_eq!(step.outgoing[0].to, To::Neighbour(back));
        }
        other => panic!("a relay accepted {other:?}"),
    }
}
