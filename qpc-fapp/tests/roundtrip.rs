//! Proptest round trips: every message type decodes to what was encoded,
//! and its encoding is the only one that decodes to it.

use bytes::Bytes;
use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use qpc_crypto::identity::Address;
use qpc_fapp::announce::{SlotAnnounce, SlotWithdraw, TherapistKey};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::{AnnounceRef, Filter, SlotQuery, SlotResponse};
use qpc_fapp::sealed::{ciphertext_len, Sealed};
use qpc_fapp::{FappMessage, FappType};

fn set(mask: u8) -> impl Strategy<Value = u8> {
    (1..=mask).prop_filter("in mask", move |b| b & !mask == 0)
}

fn languages(min: usize) -> impl Strategy<Value = Languages> {
    btree_set(
        any::<[u8; 2]>().prop_map(|[a, b]| [b'a' + a % 26, b'a' + b % 26]),
        min..=8,
    )
    .prop_map(|codes| Languages::new(&codes.into_iter().collect::<Vec<_>>()).expect("codes"))
}

fn digits(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(0u8..10, 0..=max).prop_map(|d| d.into_iter().map(|x| b'0' + x).collect())
}

fn practice() -> impl Strategy<Value = Practice> {
    (
        vec(0u8..10, 5),
        set(0x0f),
        set(0x03),
        set(0x07),
        set(0x0f),
        0u8..2,
        languages(1),
    )
        .prop_map(|(plz, m, a, mo, p, f, languages)| Practice {
            plz: Plz::new(core::array::from_fn(|i| b'0' + plz[i])).expect("digits"),
            methods: Methods::from_bits(m).expect("bits"),
            age_groups: AgeGroups::from_bits(a).expect("bits"),
            modalities: Modalities::from_bits(mo).expect("bits"),
            payers: Payers::from_bits(p).expect("bits"),
            features: Features::from_bits(f).expect("bits"),
            languages,
        })
}

fn slots() -> impl Strategy<Value = Vec<Slot>> {
    btree_map(any::<u32>(), (any::<u64>(), 1u16..=480, 0u32..4), 0..=32).prop_map(|m| {
        m.into_iter()
            .map(|(id, (start_ms, duration_min, k))| Slot {
                id,
                start_ms,
                duration_min,
                kind: Kinds::from_bits(1 << k).expect("one flag"),
            })
            .collect()
    })
}

fn announce() -> impl Strategy<Value = SlotAnnounce> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<(u32, u64, u32)>(),
        practice(),
        slots(),
        vec(any::<u8>(), 64),
    )
        .prop_map(
            |(k, d, l, (sequence, expires_ms, hold_ms), practice, slots, sig)| SlotAnnounce {
                therapist: TherapistKey {
                    signing_key: k,
                    kem_key_digest: d,
                },
                licence_hash: l,
                sequence,
                expires_ms,
                hold_ms,
                practice,
                slots,
                signature: sig.try_into().expect("64 bytes"),
            },
        )
}

fn query() -> impl Strategy<Value = SlotQuery> {
    (
        any::<[u8; 16]>(),
        1u8..=8,
        digits(5),
        (
            set(0x0f),
            set(0x03),
            set(0x0f),
            set(0x07),
            set(0x0f),
            0u8..2,
        ),
        languages(0),
        any::<(u64, u64)>(),
        1u8..=8,
    )
        .prop_map(
            |(query_id, hop_limit, prefix, (m, a, k, mo, p, f), languages, (x, y), max_results)| {
                SlotQuery {
                    query_id,
                    hop_limit,
                    filter: Filter {
                        plz_prefix: PlzPrefix::new(&prefix).expect("digits"),
                        methods: Methods::from_bits(m).expect("bits"),
                        age_groups: AgeGroups::from_bits(a).expect("bits"),
                        kinds: Kinds::from_bits(k).expect("bits"),
                        modalities: Modalities::from_bits(mo).expect("bits"),
                        payers: Payers::from_bits(p).expect("bits"),
                        required_features: Features::from_bits(f).expect("bits"),
                        languages,
                        earliest_ms: x.min(y),
                        latest_ms: x.max(y),
                    },
                    max_results,
                }
            },
        )
}

fn sealed(kind: FappType) -> impl Strategy<Value = Sealed> {
    (
        any::<[u8; 16]>(),
        vec(any::<u8>(), 1120),
        vec(any::<u8>(), ciphertext_len(kind)),
    )
        .prop_map(|(r, enc, ciphertext)| Sealed {
            recipient: Address::from_bytes(r),
            enc: Box::new(enc.try_into().expect("1120 bytes")),
            ciphertext,
        })
}

fn message() -> impl Strategy<Value = FappMessage> {
    prop_oneof![
        announce().prop_map(FappMessage::Announce),
        (
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<(u32, u64)>(),
            vec(any::<u8>(), 64)
        )
            .prop_map(|(k, d, (sequence, expires_ms), sig)| FappMessage::Withdraw(
                SlotWithdraw {
                    therapist: TherapistKey {
                        signing_key: k,
                        kem_key_digest: d
                    },
                    sequence,
                    expires_ms,
                    signature: sig.try_into().expect("64 bytes"),
                }
            )),
        query().prop_map(FappMessage::Query),
        (
            any::<[u8; 16]>(),
            vec(announce(), 0..=3),
            vec(any::<([u8; 16], u32)>(), 0..=32)
        )
            .prop_map(
                |(query_id, announces, more)| FappMessage::Response(SlotResponse {
                    query_id,
                    announces,
                    more: more
                        .into_iter()
                        .map(|(t, sequence)| AnnounceRef {
                            therapist: Address::from_bytes(t),
                            sequence
                        })
                        .collect(),
                })
            ),
        sealed(FappType::Reservation).prop_map(FappMessage::Reservation),
        sealed(FappType::ReservationResult).prop_map(FappMessage::Result),
        sealed(FappType::Cancel).prop_map(FappMessage::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_message_round_trips(m in message()) {
        let bytes = m.encode().unwrap();
        prop_assert_eq!(bytes[..2].to_vec(), m.fapp_type().header().to_vec());
        let decoded = FappMessage::decode(Bytes::from(bytes.clone())).unwrap();
        prop_assert_eq!(&decoded, &m);
        prop_assert_eq!(decoded.encode().unwrap(), bytes);
    }

    #[test]
    fn every_prefix_of_a_message_is_refused(m in message(), cut in any::<prop::sample::Index>()) {
        let bytes = m.encode().unwrap();
        let cut = cut.index(bytes.len());
        prop_assert!(FappMessage::decode(Bytes::copy_from_slice(&bytes[..cut])).is_err());
    }
}
