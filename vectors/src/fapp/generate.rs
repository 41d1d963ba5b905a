//! Generation of `fapp.json`: fixed keys, clock and randomness.

use qpc_crypto::hpke;
use qpc_crypto::identity::{Address, Identity};
use qpc_fapp::announce::{licence_hash, SlotAnnounce, SlotWithdraw};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::{AnnounceRef, Filter, SlotQuery, SlotResponse};
use qpc_fapp::sealed::{Notice, Sealed, Status};
use qpc_fapp::{FappMessage, FappType};

use super::transcript::{
    patient_steps, relay_steps, request_plaintext, run_patient, therapist_steps, PatientInput,
    RelayConfigJson, RelayInput, TherapistInput,
};
use super::{
    kem_key, FappCase, FappVector, PracticeJson, QueryJson, RefJson, ReplyJson, RequestJson,
    SeedsJson, SlotJson, PROTOCOL,
};
use crate::{deterministic_bytes, HexBytes};

const NOW: u64 = 1_800_000_000_000;
const HOUR: u64 = 3600 * 1000;
const DAY: u64 = 24 * HOUR;
const LICENCE: &str = "LANR-123456789";

fn v(name: &str, description: &str, case: FappCase) -> FappVector {
    FappVector {
        name: name.into(),
        description: description.into(),
        case,
    }
}

fn hexb(bytes: &[u8]) -> HexBytes {
    HexBytes(bytes.to_vec())
}

fn seeds(n: u8) -> SeedsJson {
    SeedsJson {
        signing_seed: HexBytes(vec![n; 32]),
        kem_seed: HexBytes(vec![n.wrapping_add(1); 32]),
    }
}

fn therapist(n: u8) -> Identity {
    seeds(n).identity().expect("seeds")
}

const A: u8 = 0xa1;
const B: u8 = 0xb1;
const C: u8 = 0xc1;

fn practice_a() -> Practice {
    Practice {
        plz: Plz::new(*b"80331").expect("plz"),
        methods: Methods::BEHAVIOURAL.union(Methods::SYSTEMIC),
        age_groups: AgeGroups::ADULTS,
        modalities: Modalities::IN_PERSON.union(Modalities::VIDEO),
        payers: Payers::GKV.union(Payers::SELF_PAY),
        features: Features::WHEELCHAIR,
        languages: Languages::new(&[*b"de", *b"en"]).expect("codes"),
    }
}

fn practice_b() -> Practice {
    Practice {
        plz: Plz::new(*b"80469").expect("plz"),
        methods: Methods::PSYCHODYNAMIC,
        age_groups: AgeGroups::ALL,
        modalities: Modalities::VIDEO,
        payers: Payers::PKV.union(Payers::BEIHILFE),
        features: Features::NONE,
        languages: Languages::new(&[*b"de", *b"tr"]).expect("codes"),
    }
}

fn slot(id: u32, start_ms: u64, kind: Kinds) -> Slot {
    Slot {
        id,
        start_ms,
        duration_min: 50,
        kind,
    }
}

fn announce(
    n: u8,
    practice: Practice,
    sequence: u32,
    expires_ms: u64,
    slots: Vec<Slot>,
) -> SlotAnnounce {
    SlotAnnounce::sign(
        &therapist(n),
        licence_hash(LICENCE),
        sequence,
        expires_ms,
        60_000,
        practice,
        slots,
    )
    .expect("announce")
}

fn slots_a() -> Vec<Slot> {
    vec![
        slot(7, NOW + DAY, Kinds::CONSULTATION),
        slot(9, NOW + DAY + 2 * HOUR, Kinds::THERAPY),
    ]
}

fn bytes(m: &FappMessage) -> Vec<u8> {
    m.encode().expect("encodes")
}

fn a_announce() -> SlotAnnounce {
    announce(A, practice_a(), 1, NOW + DAY, slots_a())
}

fn b_announce() -> SlotAnnounce {
    announce(
        B,
        practice_b(),
        7,
        NOW + 2 * DAY,
        vec![slot(1, NOW + 2 * DAY - HOUR, Kinds::ACUTE)],
    )
}

fn query(id: u8, prefix: &[u8], max_results: u8) -> SlotQuery {
    SlotQuery {
        query_id: [id; 16],
        hop_limit: 3,
        filter: Filter {
            plz_prefix: PlzPrefix::new(prefix).expect("digits"),
            methods: Methods::ALL,
            age_groups: AgeGroups::ADULTS,
            kinds: Kinds::ALL,
            modalities: Modalities::ALL,
            payers: Payers::ALL,
            required_features: Features::NONE,
            languages: Languages::default(),
            earliest_ms: NOW,
            latest_ms: NOW + 30 * DAY,
        },
        max_results,
    }
}

fn encodings() -> Vec<FappVector> {
    let mut out = vec![
        v(
            "licence-hash",
            "SHA-256 of the labelled licence number (§5)",
            FappCase::LicenceHash {
                licence: LICENCE.into(),
                hash: hexb(&licence_hash(LICENCE)),
            },
        ),
        v(
            "licence-hash-utf8",
            "a licence number with non-ASCII UTF-8",
            FappCase::LicenceHash {
                licence: "Approbation 4711/Ärztekammer".into(),
                hash: hexb(&licence_hash("Approbation 4711/Ärztekammer")),
            },
        ),
    ];
    for (name, n, a, practice) in [
        ("announce-a", A, a_announce(), practice_a()),
        ("announce-b", B, b_announce(), practice_b()),
        (
            "announce-no-slots",
            A,
            announce(A, practice_a(), 2, NOW + DAY, vec![]),
            practice_a(),
        ),
    ] {
        out.push(v(
            name,
            "a SlotAnnounce signed with fixed keys (§5)",
            FappCase::Announce {
                therapist: seeds(n),
                licence: LICENCE.into(),
                sequence: a.sequence,
                expires_ms: a.expires_ms,
                hold_ms: a.hold_ms,
                practice: PracticeJson::of(&practice),
                slots: a.slots.iter().map(SlotJson::of).collect(),
                address: hexb(therapist(n).public().address().as_bytes()),
                message: hexb(&bytes(&FappMessage::Announce(a))),
            },
        ));
    }
    let w = SlotWithdraw::sign(&therapist(A), 3, NOW + DAY);
    out.push(v(
        "withdraw",
        "a SlotWithdraw (§5)",
        FappCase::Withdraw {
            therapist: seeds(A),
            sequence: 3,
            expires_ms: NOW + DAY,
            address: hexb(therapist(A).public().address().as_bytes()),
            message: hexb(&bytes(&FappMessage::Withdraw(w))),
        },
    ));
    let mut narrow = query(0x11, b"803", 4);
    narrow.filter.languages = Languages::new(&[*b"en", *b"de"]).expect("codes");
    narrow.filter.required_features = Features::WHEELCHAIR;
    narrow.filter.kinds = Kinds::CONSULTATION.union(Kinds::PROBATORY);
    for (name, q) in [
        ("query-basic", query(0x10, b"80", 8)),
        ("query-narrow", narrow),
        ("query-everywhere", query(0x12, b"", 1)),
    ] {
        out.push(v(
            name,
            "a SlotQuery (§6)",
            FappCase::Query {
                query: QueryJson::of(&q),
                message: hexb(&bytes(&FappMessage::Query(q))),
            },
        ));
    }
    let response = SlotResponse {
        query_id: [0x10; 16],
        announces: vec![a_announce(), b_announce()],
        more: vec![AnnounceRef {
            therapist: therapist(C).public().address(),
            sequence: 4,
        }],
    };
    out.push(v(
        "response",
        "a SlotResponse with two announces and a reference (§6)",
        FappCase::Response {
            query_id: hexb(&[0x10; 16]),
            announces: response
                .announces
                .iter()
                .map(|a| hexb(&bytes(&FappMessage::Announce(a.clone()))))
                .collect(),
            more: response
                .more
                .iter()
                .map(|r| RefJson {
                    therapist: *r.therapist.as_bytes(),
                    sequence: r.sequence,
                })
                .collect(),
            message: hexb(&bytes(&FappMessage::Response(response.clone()))),
        },
    ));
    let empty = SlotResponse {
        query_id: [0x13; 16],
        announces: vec![],
        more: vec![],
    };
    out.push(v(
        "response-empty",
        "a SlotResponse with nothing",
        FappCase::Response {
            query_id: hexb(&[0x13; 16]),
            announces: vec![],
            more: vec![],
            message: hexb(&bytes(&FappMessage::Response(empty))),
        },
    ));
    out
}

/// Offsets in an announce message (§5): header 2, keys 64, licence 32,
/// sequence 4, expiry 8, hold 4, then the practice.
const PLZ_AT: usize = 2 + 64 + 32 + 4 + 8 + 4;
const METHODS_AT: usize = PLZ_AT + 5;
const LANGUAGES_AT: usize = METHODS_AT + 5;
const SLOTS_AT: usize = LANGUAGES_AT + 1 + 4;

fn patched(base: &[u8], at: usize, with: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    out[at..at + with.len()].copy_from_slice(with);
    out
}

fn spliced(base: &[u8], at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    [&base[..at], insert, &base[at + remove..]].concat()
}

fn unsigned(mut a: SlotAnnounce, slots: Vec<Slot>) -> Vec<u8> {
    a.slots = slots;
    bytes(&FappMessage::Announce(a))
}

fn decodes() -> Vec<FappVector> {
    let a = bytes(&FappMessage::Announce(a_announce()));
    let q = bytes(&FappMessage::Query(query(0x10, b"80", 8)));
    let w = bytes(&FappMessage::Withdraw(SlotWithdraw::sign(
        &therapist(A),
        3,
        NOW + DAY,
    )));
    let (reservation, _) = reservation_for(A, 7, 1, NOW);
    let mut out = Vec::new();
    for (name, message) in [
        ("decode-announce", &a),
        ("decode-query", &q),
        ("decode-withdraw", &w),
        ("decode-reservation", &reservation),
    ] {
        out.push(v(
            name,
            "decodes and re-encodes identically",
            FappCase::Decode {
                message: hexb(message),
                fapp_type: Some(message[1]),
                expected_error: None,
            },
        ));
    }
    let q_prefix = 2 + 16 + 1;
    let q_sets = q_prefix + 1 + 2;
    let q_max = q.len() - 1;
    let q_window = q_max - 16;
    // A response whose one entry is a withdraw: query id, announces<V>
    // (a two-byte varint for 142), the withdraw, an empty more<V>.
    let response_with_withdraw =
        [&[1, 4][..], &[0x10; 16], &[0x40, w.len() as u8], &w, &[0]].concat();
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("decode-empty", "no header", vec![], "truncated"),
        (
            "decode-version-0",
            "version 0",
            patched(&a, 0, &[0]),
            "unknown_version",
        ),
        (
            "decode-version-2",
            "version 2",
            patched(&a, 0, &[2]),
            "unknown_version",
        ),
        (
            "decode-type-0",
            "type 0 is reserved",
            vec![1, 0],
            "unknown_fapp_type",
        ),
        (
            "decode-type-8",
            "type 8 is unassigned",
            vec![1, 8, 0, 0],
            "unknown_fapp_type",
        ),
        (
            "decode-announce-truncated",
            "one byte short",
            a[..a.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-announce-trailing",
            "one byte extra",
            [&a[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-reserved-method",
            "a reserved Methods bit",
            patched(&a, METHODS_AT, &[0x19]),
            "malformed",
        ),
        (
            "decode-no-method",
            "an empty Methods set",
            patched(&a, METHODS_AT, &[0]),
            "malformed",
        ),
        (
            "decode-reserved-feature",
            "a reserved Features bit",
            patched(&a, METHODS_AT + 4, &[0x03]),
            "malformed",
        ),
        (
            "decode-bad-plz",
            "a PLZ with a letter",
            patched(&a, PLZ_AT + 2, b"x"),
            "malformed",
        ),
        (
            "decode-languages-unsorted",
            "languages not ascending",
            patched(&a, LANGUAGES_AT + 1, b"ende"),
            "malformed",
        ),
        (
            "decode-languages-uppercase",
            "a language code in capitals",
            patched(&a, LANGUAGES_AT + 1, b"DE"),
            "malformed",
        ),
        (
            "decode-languages-odd",
            "a languages vector of odd length",
            patched(&a, LANGUAGES_AT, &[3]),
            "truncated",
        ),
        (
            "decode-languages-too-many",
            "a languages vector of 18 bytes",
            patched(&a, LANGUAGES_AT, &[18]),
            "too_many_items",
        ),
        (
            "decode-languages-non-minimal",
            "a two-byte varint for 4",
            spliced(&a, LANGUAGES_AT, 1, &[0x40, 0x04]),
            "non_minimal_length",
        ),
        (
            "decode-slots-partial",
            "a slots vector of 29 bytes",
            patched(&a, SLOTS_AT, &[29]),
            "truncated",
        ),
        (
            "decode-slot-duration-0",
            "a slot of 0 minutes",
            patched(&a, SLOTS_AT + 1 + 12, &[0, 0]),
            "malformed",
        ),
        (
            "decode-slot-two-kinds",
            "a slot with two kinds",
            patched(&a, SLOTS_AT + 1 + 14, &[0x03]),
            "malformed",
        ),
        (
            "decode-slots-unordered",
            "slot ids not ascending",
            unsigned(a_announce(), slots_a().into_iter().rev().collect()),
            "malformed",
        ),
        (
            "decode-query-hop-0",
            "hop limit 0",
            patched(&q, 18, &[0]),
            "malformed",
        ),
        (
            "decode-query-hop-9",
            "hop limit 9",
            patched(&q, 18, &[9]),
            "malformed",
        ),
        (
            "decode-query-prefix-6",
            "a prefix of six digits",
            spliced(&q, q_prefix, 3, &[6, b'8', b'0', b'3', b'3', b'1', b'0']),
            "too_many_items",
        ),
        (
            "decode-query-prefix-letter",
            "a prefix with a letter",
            patched(&q, q_prefix + 1, b"a"),
            "malformed",
        ),
        (
            "decode-query-no-kind",
            "an empty kinds set",
            patched(&q, q_sets + 2, &[0]),
            "malformed",
        ),
        (
            "decode-query-window",
            "earliest after latest",
            patched(&q, q_window, &(NOW + 31 * DAY).to_be_bytes()),
            "malformed",
        ),
        (
            "decode-query-max-0",
            "max_results 0",
            patched(&q, q_max, &[0]),
            "malformed",
        ),
        (
            "decode-query-max-9",
            "max_results 9",
            patched(&q, q_max, &[9]),
            "malformed",
        ),
        (
            "decode-response-withdraw",
            "a response entry that is not an announce",
            response_with_withdraw,
            "malformed",
        ),
        (
            "decode-withdraw-truncated",
            "a 141-byte withdraw",
            w[..w.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-reservation-truncated",
            "a reservation one byte short",
            reservation[..reservation.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-reservation-trailing",
            "a reservation one byte long",
            [&reservation[..], &[0]].concat(),
            "trailing_bytes",
        ),
    ];
    out.extend(
        cases
            .into_iter()
            .map(|(name, description, message, class)| {
                v(
                    name,
                    description,
                    FappCase::Decode {
                        message: hexb(&message),
                        fapp_type: None,
                        expected_error: Some(class.into()),
                    },
                )
            }),
    );
    out
}

fn verifies() -> Vec<FappVector> {
    let a = bytes(&FappMessage::Announce(a_announce()));
    let w = bytes(&FappMessage::Withdraw(SlotWithdraw::sign(
        &therapist(A),
        3,
        NOW + DAY,
    )));
    let address = Some(hexb(therapist(A).public().address().as_bytes()));
    let mut neutral = [0u8; 32];
    neutral[0] = 1;
    let ok = |name: &str, m: &[u8]| {
        v(
            name,
            "verifies under the therapist's key",
            FappCase::Verify {
                message: hexb(m),
                address: address.clone(),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, d: &str, m: Vec<u8>, class: &str| {
        v(
            name,
            d,
            FappCase::Verify {
                message: hexb(&m),
                address: None,
                expected_error: Some(class.into()),
            },
        )
    };
    let last = a.len() - 1;
    vec![
        ok("verify-announce", &a),
        ok("verify-withdraw", &w),
        bad(
            "verify-forged-signature",
            "a flipped signature bit",
            patched(&a, last, &[a[last] ^ 1]),
            "bad_signature",
        ),
        bad(
            "verify-changed-sequence",
            "the sequence raised after signing",
            patched(&a, 2 + 96, &[0, 0, 0, 9]),
            "bad_signature",
        ),
        bad(
            "verify-withdraw-forged",
            "a flipped withdraw signature bit",
            patched(&w, 141, &[w[141] ^ 0x80]),
            "bad_signature",
        ),
        bad(
            "verify-neutral-key",
            "the neutral element as signing key",
            patched(&a, 2, &neutral),
            "invalid_public_key",
        ),
    ]
}

/// A fixed reply key seed and address for reservation `k`.
fn reply(k: u8) -> (HexBytes, Address) {
    (
        HexBytes(vec![0x70 + k; 32]),
        Address::from_bytes([0x60 + k; 16]),
    )
}

fn request(slot_id: u32, k: u8, created_ms: u64) -> RequestJson {
    let (kem_seed, address) = reply(k);
    RequestJson {
        request_id: HexBytes(vec![0x50 + k; 16]),
        slot_id,
        created_ms,
        reply_address: hexb(address.as_bytes()),
        reply_kem_seed: kem_seed,
        contact: format!("patient-{k}@example.invalid"),
    }
}

fn eseed(label: &str) -> [u8; 64] {
    deterministic_bytes(label, 64).try_into().expect("64 bytes")
}

/// A Reservation from patient `k` for `slot_id` at therapist `n`.
fn reservation_for(n: u8, slot_id: u32, k: u8, created_ms: u64) -> (Vec<u8>, RequestJson) {
    let r = request(slot_id, k, created_ms);
    let plaintext = request_plaintext(&r).expect("request");
    let t = therapist(n);
    let sealed = Sealed::seal_derand(
        FappType::Reservation,
        t.public().address(),
        t.public().kem_key(),
        &plaintext,
        &eseed(&format!("fapp reservation {n} {slot_id} {k} {created_ms}")),
    )
    .expect("seals");
    (sealed.encode(FappType::Reservation), r)
}

fn seals() -> Vec<FappVector> {
    let t = therapist(A);
    let own = t.public().address();
    let mut out = Vec::new();
    let r = request(7, 1, NOW);
    let plaintext = request_plaintext(&r).expect("request");
    let e = eseed("fapp seal reservation");
    let sealed = Sealed::seal_derand(
        FappType::Reservation,
        own,
        t.public().kem_key(),
        &plaintext,
        &e,
    )
    .expect("seal");
    let reservation = sealed.encode(FappType::Reservation);
    out.push(v(
        "seal-reservation",
        "a Reservation sealed to therapist A with fixed eseed (§7)",
        FappCase::Seal {
            fapp_type: 5,
            recipient: hexb(own.as_bytes()),
            recipient_kem_seed: seeds(A).kem_seed,
            plaintext: hexb(&plaintext),
            request: Some(r.clone()),
            eseed: hexb(&e),
            message: hexb(&reservation),
        },
    ));
    let (reply_seed, reply_address) = reply(1);
    let reply_key = kem_key(&reply_seed).expect("seed");
    let notices = [
        (
            "seal-result-confirmed",
            FappType::ReservationResult,
            reply_address,
            reply_seed.clone(),
            Some(Status::Confirmed),
        ),
        (
            "seal-result-declined",
            FappType::ReservationResult,
            reply_address,
            reply_seed.clone(),
            Some(Status::Declined),
        ),
        (
            "seal-cancel",
            FappType::Cancel,
            own,
            seeds(A).kem_seed,
            None,
        ),
    ];
    let mut sealed_notices = Vec::new();
    for (name, kind, to, seed, status) in notices {
        let notice = Notice {
            request_id: [0x51; 16],
            slot_id: 7,
            status,
        };
        let e = eseed(name);
        let key = kem_key(&seed).expect("seed");
        let s =
            Sealed::seal_derand(kind, to, key.public_key(), &notice.encode(), &e).expect("seal");
        let message = s.encode(kind);
        sealed_notices.push((kind, to, seed.clone(), notice.encode(), message.clone()));
        out.push(v(
            name,
            "a notice sealed with fixed eseed (§7)",
            FappCase::Seal {
                fapp_type: kind.code(),
                recipient: hexb(to.as_bytes()),
                recipient_kem_seed: seed,
                plaintext: hexb(&notice.encode()),
                request: None,
                eseed: hexb(&e),
                message: hexb(&message),
            },
        ));
    }
    let open = |name: &str,
                d: &str,
                kind: FappType,
                own: Address,
                seed: &HexBytes,
                m: &[u8],
                plaintext: Option<&[u8]>,
                class: Option<&str>| {
        v(
            name,
            d,
            FappCase::Open {
                fapp_type: kind.code(),
                own_address: hexb(own.as_bytes()),
                kem_seed: seed.clone(),
                message: hexb(m),
                plaintext: plaintext.map(hexb),
                expected_error: class.map(Into::into),
            },
        )
    };
    out.push(open(
        "open-reservation",
        "therapist A opens it",
        FappType::Reservation,
        own,
        &seeds(A).kem_seed,
        &reservation,
        Some(&plaintext),
        None,
    ));
    let (kind, to, seed, p, m) = &sealed_notices[0];
    out.push(open(
        "open-result",
        "the patient opens it with the reply key",
        *kind,
        *to,
        seed,
        m,
        Some(p),
        None,
    ));
    let other = therapist(B).public().address();
    out.push(open(
        "open-wrong-recipient",
        "addressed to A, opened by B",
        FappType::Reservation,
        other,
        &seeds(B).kem_seed,
        &reservation,
        None,
        Some("wrong_recipient"),
    ));
    let last = reservation.len() - 1;
    out.push(open(
        "open-tampered",
        "a flipped ciphertext bit",
        FappType::Reservation,
        own,
        &seeds(A).kem_seed,
        &patched(&reservation, last, &[reservation[last] ^ 1]),
        None,
        Some("open_failed"),
    ));
    let aad = [
        &FappType::ReservationResult.header()[..],
        reply_address.as_bytes(),
    ]
    .concat();
    let (enc, ct) = hpke::seal_derand(
        reply_key.public_key(),
        b"qpc fapp result v1",
        &aad,
        &[0x42; 32],
        &eseed("fapp bad padding"),
    )
    .expect("seal");
    let unpadded = [
        &FappType::ReservationResult.header()[..],
        reply_address.as_bytes(),
        &enc,
        &ct,
    ]
    .concat();
    out.push(open(
        "open-bad-padding",
        "a result whose 32 bytes have no 0x80 marker",
        FappType::ReservationResult,
        reply_address,
        &reply_seed,
        &unpadded,
        None,
        Some("bad_padding"),
    ));
    let (ct_info, _) = hpke::seal_derand(
        reply_key.public_key(),
        b"qpc fapp cancel v1",
        &aad,
        &[0x42; 32],
        &eseed("fapp wrong info"),
    )
    .map(|(enc, ct)| {
        (
            [
                &FappType::ReservationResult.header()[..],
                reply_address.as_bytes(),
                &enc,
                &ct,
            ]
            .concat(),
            (),
        )
    })
    .expect("seal");
    out.push(open(
        "open-wrong-info",
        "a result sealed under the cancel info label",
        FappType::ReservationResult,
        reply_address,
        &reply_seed,
        &ct_info,
        None,
        Some("open_failed"),
    ));
    out
}

fn therapist_case(
    name: &str,
    description: &str,
    hold_ms: u32,
    inputs: Vec<(u64, TherapistInput)>,
    replies: &[u8],
) -> FappVector {
    let mut case = FappCase::TherapistTranscript {
        therapist: seeds(A),
        licence: LICENCE.into(),
        practice: PracticeJson::of(&practice_a()),
        hold_ms,
        announce_lifetime_ms: DAY,
        replay_window_ms: 10 * 60 * 1000,
        replay_capacity: 16,
        rng_seed: 0x33,
        replies: replies
            .iter()
            .map(|&k| {
                let (kem_seed, address) = reply(k);
                ReplyJson {
                    address: hexb(address.as_bytes()),
                    kem_seed,
                }
            })
            .collect(),
        steps: vec![],
    };
    let steps = therapist_steps(&case, inputs);
    if let FappCase::TherapistTranscript { steps: s, .. } = &mut case {
        *s = steps;
    }
    v(name, description, case)
}

fn add_slot(id: u32, start_ms: u64) -> TherapistInput {
    TherapistInput::AddSlot {
        slot: SlotJson::of(&slot(id, start_ms, Kinds::CONSULTATION)),
    }
}

fn reservation_input(n: u8, slot_id: u32, k: u8, created_ms: u64) -> TherapistInput {
    TherapistInput::Reservation {
        message: hexb(&reservation_for(n, slot_id, k, created_ms).0),
    }
}

fn request_id(k: u8) -> HexBytes {
    request(0, k, 0).request_id
}

fn resealed(k: u8) -> TherapistInput {
    let r = request(7, k, NOW + 10);
    let t = therapist(A);
    let sealed = Sealed::seal_derand(
        FappType::Reservation,
        t.public().address(),
        t.public().kem_key(),
        &request_plaintext(&r).expect("r"),
        &eseed("fapp resealed"),
    )
    .expect("seal");
    TherapistInput::Reservation {
        message: hexb(&sealed.encode(FappType::Reservation)),
    }
}

fn bad_reply_key() -> TherapistInput {
    let mut plaintext = request_plaintext(&request(7, 4, NOW + 30)).expect("r");
    plaintext[44..44 + 384 * 3].fill(0xff);
    let t = therapist(A);
    let sealed = Sealed::seal_derand(
        FappType::Reservation,
        t.public().address(),
        t.public().kem_key(),
        &plaintext,
        &eseed("fapp bad key"),
    )
    .expect("seal");
    TherapistInput::Reservation {
        message: hexb(&sealed.encode(FappType::Reservation)),
    }
}

fn cancel_input(k: u8, slot_id: u32) -> TherapistInput {
    let t = therapist(A);
    let notice = Notice {
        request_id: [0x50 + k; 16],
        slot_id,
        status: None,
    };
    let sealed = Sealed::seal_derand(
        FappType::Cancel,
        t.public().address(),
        t.public().kem_key(),
        &notice.encode(),
        &eseed("fapp cancel"),
    )
    .expect("seal");
    TherapistInput::Cancel {
        message: hexb(&sealed.encode(FappType::Cancel)),
    }
}

fn therapist_transcripts() -> Vec<FappVector> {
    let slot_at = NOW + DAY;
    vec![
        therapist_case(
            "therapist-race",
            "two patients reserve the one slot: the first is held then confirmed, the second declined at once (§9)",
            60_000,
            vec![
                (NOW, add_slot(7, slot_at)),
                (NOW + 100, reservation_input(A, 7, 1, NOW + 50)),
                (NOW + 110, reservation_input(A, 7, 2, NOW + 60)),
                (NOW + 5_000, TherapistInput::Confirm { request_id: request_id(1) }),
                (NOW + 5_001, TherapistInput::Decline { request_id: request_id(2) }),
            ],
            &[1, 2],
        ),
        therapist_case(
            "therapist-expired-hold",
            "a hold runs out: the patient is told, the slot is free again, a late confirm is refused (§9)",
            60_000,
            vec![
                (NOW, add_slot(7, slot_at)),
                (NOW + 100, reservation_input(A, 7, 1, NOW + 50)),
                (NOW + 60_099, TherapistInput::Timeout),
                (NOW + 60_100, TherapistInput::Timeout),
                (NOW + 60_101, TherapistInput::Confirm { request_id: request_id(1) }),
                (NOW + 60_200, reservation_input(A, 7, 2, NOW + 60_150)),
            ],
            &[1, 2],
        ),
        therapist_case(
            "therapist-replayed-reservation",
            "the same sealed bytes and the same request sealed again get the same answer, no second booking; stale, misaddressed and bad-key reservations are refused; a cancel frees the slot once (§9)",
            60_000,
            vec![
                (NOW, add_slot(7, slot_at)),
                (NOW + 100, reservation_input(A, 7, 1, NOW + 50)),
                (NOW + 200, TherapistInput::Confirm { request_id: request_id(1) }),
                (NOW + 300, reservation_input(A, 7, 1, NOW + 50)),
                (NOW + 400, resealed(1)),
                (NOW + 500, reservation_input(A, 7, 3, NOW - 11 * 60 * 1000)),
                (NOW + 600, reservation_input(B, 7, 3, NOW + 550)),
                (NOW + 700, bad_reply_key()),
                (NOW + 800, cancel_input(1, 7)),
                (NOW + 900, cancel_input(1, 7)),
                (NOW + 1_000, TherapistInput::Announce),
            ],
            &[1, 3],
        ),
    ]
}

const RELAY_CONFIG: RelayConfigJson = RelayConfigJson {
    cache_capacity: 2,
    max_announce_lifetime_ms: 7 * DAY,
    query_capacity: 8,
    query_ttl_ms: 60_000,
    max_responses_per_query: 2,
    max_scan: 64,
    burst: 3,
    per_second: 1,
    max_neighbours: 4,
};

fn relay_case(name: &str, description: &str, inputs: Vec<(u64, u32, Vec<u8>)>) -> FappVector {
    let inputs = inputs
        .into_iter()
        .map(|(now, from, message)| {
            let message = HexBytes(message);
            (now, RelayInput { from, message })
        })
        .collect();
    v(
        name,
        description,
        FappCase::RelayTranscript {
            config: RELAY_CONFIG,
            steps: relay_steps(&RELAY_CONFIG, inputs),
        },
    )
}

fn relay_transcripts() -> Vec<FappVector> {
    let msg = |m: FappMessage| bytes(&m);
    let a = |seq, expires| {
        msg(FappMessage::Announce(announce(
            A,
            practice_a(),
            seq,
            expires,
            slots_a(),
        )))
    };
    let query_msg = |id, prefix: &[u8], max| msg(FappMessage::Query(query(id, prefix, max)));
    let a1 = a(1, NOW + DAY);
    let last = a1.len() - 1;
    let mut neutral = [0u8; 32];
    neutral[0] = 1;
    let (reservation, _) = reservation_for(A, 7, 1, NOW);
    let b = msg(FappMessage::Announce(b_announce()));
    let c = msg(FappMessage::Announce(announce(
        C,
        practice_a(),
        1,
        NOW + 3 * DAY,
        slots_a(),
    )));
    let response = |id| {
        msg(FappMessage::Response(SlotResponse {
            query_id: [id; 16],
            announces: vec![b_announce()],
            more: vec![],
        }))
    };
    vec![
        relay_case(
            "relay-superseded-announce",
            "a higher sequence replaces the cached announce, a lower one is stale, a withdrawal hides the therapist (§11)",
            vec![
                (NOW, 1, a(2, NOW + DAY)),
                (NOW + 1_000, 1, a(1, NOW + DAY)),
                (NOW + 2_000, 2, a(3, NOW + DAY)),
                (NOW + 3_000, 3, query_msg(0x20, b"80", 8)),
                (NOW + 4_000, 1, msg(FappMessage::Withdraw(SlotWithdraw::sign(&therapist(A), 4, NOW + DAY)))),
                (NOW + 5_000, 1, a(3, NOW + DAY)),
                (NOW + 6_000, 3, query_msg(0x21, b"80", 8)),
            ],
        ),
        relay_case(
            "relay-forged-signature",
            "forged, badly keyed, expired and too long-lived announces and sealed messages are refused (§11.1)",
            vec![
                (NOW, 1, patched(&a1, last, &[a1[last] ^ 1])),
                (NOW + 1_000, 1, patched(&a1, 2, &neutral)),
                (NOW + DAY, 2, a1.clone()),
                (NOW + 3_000, 2, a(5, NOW + 8 * DAY)),
                (NOW + 4_000, 3, reservation),
                (NOW + 5_000, 3, a1),
            ],
        ),
        relay_case(
            "relay-queries",
            "answers from the cache with a reference to a further match, forwards with one hop less, dedupes, routes responses back along the reverse path, rate-limits and evicts the soonest expiry (§11)",
            vec![
                (NOW, 1, a(1, NOW + DAY)),
                (NOW + 1, 1, b.clone()),
                (NOW + 1_000, 2, query_msg(0x30, b"80", 1)),
                (NOW + 1_001, 3, query_msg(0x30, b"80", 1)),
                (NOW + 2_000, 3, response(0x30)),
                (NOW + 2_001, 3, response(0x30)),
                (NOW + 2_002, 3, response(0x30)),
                (NOW + 2_003, 4, response(0x31)),
                (NOW + 2_004, 3, response(0x30)),
                (NOW + 3_000, 2, query_msg(0x32, b"1", 8)),
                (NOW + 3_000, 2, query_msg(0x33, b"8046", 8)),
                (NOW + 3_000, 2, query_msg(0x34, b"8", 8)),
                (NOW + 4_000, 1, c),
            ],
        ),
        relay_case(
            "relay-query-pivot",
            "the walk of the index starts at the query's pivot and wraps (§11.3): pivot 80000 answers 80331 first, pivot 80400 answers 80469 first",
            vec![
                (NOW, 1, a(1, NOW + DAY)),
                (NOW + 1, 1, b.clone()),
                (NOW + 1_000, 2, pivot_query([0x00; 16])),
                (NOW + 1_001, 3, pivot_query([0x00, 0x00, 0x04, 0x00, 0x00, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])),
            ],
        ),
    ]
}

/// A query for prefix "8", one announce, with the given id (its pivot,
/// §11.3, comes from bytes 1..5).
fn pivot_query(query_id: [u8; 16]) -> Vec<u8> {
    bytes(&FappMessage::Query(SlotQuery {
        query_id,
        ..query(0, b"8", 1)
    }))
}

fn patient_transcript() -> FappVector {
    let filter = QueryJson::of(&SlotQuery {
        query_id: [0; 16],
        ..query(0, b"80", 8)
    });
    let mut case = FappCase::PatientTranscript {
        collect_ms: 1_000,
        result_grace_ms: 5_000,
        max_candidates: 8,
        contact: "patient@example.invalid".into(),
        filter,
        therapists: vec![seeds(A), seeds(B)],
        rng_seed: 0x44,
        now: NOW,
        query: HexBytes(vec![]),
        steps: vec![],
    };
    let a = announce(
        A,
        practice_a(),
        1,
        NOW + DAY,
        vec![slot(7, NOW + DAY - HOUR, Kinds::CONSULTATION)],
    );
    let response = bytes(&FappMessage::Response(SlotResponse {
        query_id: [0; 16],
        announces: vec![a, b_announce()],
        more: vec![],
    }));
    // The query id comes from the RNG: run once to learn it.
    let (query, _) = run_patient(&case, &[]).expect("runs");
    let query_id: [u8; 16] = query.0[2..18].try_into().expect("id");
    let response = [&response[..2], &query_id[..], &response[18..]].concat();
    let mut inputs = vec![
        (
            NOW + 200,
            PatientInput::Response {
                message: HexBytes(response),
            },
        ),
        (NOW + 300, PatientInput::Identity { index: 0 }),
        (NOW + 300, PatientInput::Identity { index: 1 }),
        (NOW + 1_000, PatientInput::Timeout),
    ];
    // Therapist A declines, therapist B confirms: their engines answer.
    let mut therapists =
        [(A, practice_a(), 7u32), (B, practice_b(), 1u32)].map(|(n, p, slot_id)| {
            let mut t = qpc_fapp::therapist::Therapist::new(
                therapist(n),
                licence_hash(LICENCE),
                p,
                Default::default(),
                0,
            )
            .expect("t");
            let start = if n == A {
                NOW + DAY - HOUR
            } else {
                NOW + 2 * DAY - HOUR
            };
            let kind = if n == A {
                Kinds::CONSULTATION
            } else {
                Kinds::ACUTE
            };
            t.add_slot(NOW, slot(slot_id, start, kind)).expect("slot");
            t
        });
    let mut rng =
        <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed([0x55; 32]);
    for (i, now) in [(0usize, NOW + 1_500), (1, NOW + 2_500)] {
        let (_, outcomes) = run_patient(&case, &inputs).expect("runs");
        let out = &outcomes.last().expect("a step").outputs;
        let sealed = match qpc_fapp::FappMessage::decode(bytes::Bytes::from(
            out.last().expect("a reservation").message.0.clone(),
        ))
        .expect("decodes")
        {
            FappMessage::Reservation(s) => s,
            other => panic!("{other:?}"),
        };
        let t = &mut therapists[i];
        let held = t
            .handle_reservation(now - 100, &sealed, &mut rng)
            .expect("held");
        let Some(qpc_fapp::therapist::TherapistEvent::Held { request_id, .. }) =
            held.events.first().cloned()
        else {
            panic!("not held")
        };
        let answer = if i == 0 {
            t.decline(now - 50, &request_id, &mut rng)
        } else {
            t.confirm(now - 50, &request_id, &mut rng)
        }
        .expect("answers");
        let result = answer
            .outgoing
            .iter()
            .find(|o| matches!(o.message, FappMessage::Result(_)))
            .expect("result");
        inputs.push((
            now,
            PatientInput::Result {
                message: HexBytes(bytes(&result.message)),
            },
        ));
    }
    let (query, outcomes) = run_patient(&case, &inputs).expect("runs");
    let steps = patient_steps(inputs, outcomes);
    if let FappCase::PatientTranscript {
        query: q, steps: s, ..
    } = &mut case
    {
        *q = query;
        *s = steps;
    }
    v("patient-decline-fallback", "collect two announces, reserve the earliest slot, fall back to the next after a decline, book on confirmation (§10)", case)
}

/// `fapp.json`, deterministically.
pub fn generate() -> String {
    let vectors = [
        encodings(),
        decodes(),
        verifies(),
        seals(),
        therapist_transcripts(),
        relay_transcripts(),
        vec![patient_transcript()],
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/20-fapp.md", vectors)
}
