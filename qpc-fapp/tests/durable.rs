//! The durable state of the therapist (`spec/20` §9.1), the relay cache's
//! restore, and the patient's own choice of slot (§10 step 3).

mod common;

use common::{announce_of, filter, identity, practice, rng, slot, DAY, NOW};
use proptest::collection::btree_map;
use proptest::prelude::*;
use qpc_crypto::identity::Address;
use qpc_crypto::xwing::XWingSecretKey;
use qpc_fapp::announce::licence_hash;
use qpc_fapp::model::{Kinds, Slot};
use qpc_fapp::patient::{Patient, PatientConfig, PatientEvent, PatientState};
use qpc_fapp::query::SlotResponse;
use qpc_fapp::relay::{Relay, RelayConfig};
use qpc_fapp::therapist::{SlotStatus, Therapist, TherapistConfig, TherapistEvent, TherapistState};
use qpc_fapp::FappMessage;

fn therapist_with(slots: &[Slot]) -> Therapist {
    let mut t = Therapist::new(
        identity(1),
        licence_hash("LANR-1"),
        practice(b"80331"),
        TherapistConfig::default(),
        0,
    )
    .unwrap();
    t.add_slots(NOW, slots).unwrap();
    t
}

fn status() -> impl Strategy<Value = SlotStatus> {
    let key = XWingSecretKey::generate(&mut rng(3)).public_key().clone();
    prop_oneof![
        Just(SlotStatus::Free),
        (any::<[u8; 16]>(), any::<u64>(), any::<[u8; 16]>()).prop_map(move |(r, until_ms, a)| {
            SlotStatus::Held {
                request_id: r,
                until_ms,
                reply_address: Address::from_bytes(a),
                reply_key: Box::new(key.clone()),
            }
        }),
        any::<[u8; 16]>().prop_map(|r| SlotStatus::Booked { request_id: r }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn state_restore_state_is_the_identity(
        sequence in any::<u32>(),
        refresh_at_ms in any::<u64>(),
        slots in btree_map(any::<u32>(), (any::<u64>(), 1u16..=480, 0u32..4, status()), 0..=32),
    ) {
        let slots: Vec<(Slot, SlotStatus)> = slots
            .into_iter()
            .map(|(id, (start_ms, duration_min, k, status))| {
                let kind = Kinds::from_bits(1 << k).unwrap();
                (Slot { id, start_ms, duration_min, kind }, status)
            })
            .collect();
        let state = TherapistState {
            licence_hash: [9; 32],
            practice: practice(b"10115"),
            sequence,
            refresh_at_ms,
            slots,
        };
        let t = Therapist::restore(identity(1), TherapistConfig::default(), state.clone()).unwrap();
        prop_assert_eq!(t.sequence(), sequence);
        prop_assert_eq!(t.state(), state);
    }
}

#[test]
fn restore_refuses_states_no_engine_exports() {
    let free = |id| (slot(id, NOW + DAY), SlotStatus::Free);
    let base = TherapistState {
        licence_hash: [0; 32],
        practice: practice(b"10115"),
        sequence: 1,
        refresh_at_ms: 0,
        slots: vec![],
    };
    let restore = |slots: Vec<(Slot, SlotStatus)>| {
        let state = TherapistState {
            slots,
            ..base.clone()
        };
        Therapist::restore(identity(1), TherapistConfig::default(), state)
    };
    assert_eq!(
        restore(vec![free(1), free(1)]).unwrap_err().class(),
        "malformed"
    );
    assert_eq!(
        restore((0..33).map(free).collect()).unwrap_err().class(),
        "malformed"
    );
    let mut long = free(2);
    long.0.duration_min = 481;
    assert_eq!(restore(vec![long]).unwrap_err().class(), "malformed");
    assert!(restore((0..32).map(free).collect()).is_ok());
}

#[test]
fn a_restored_therapist_continues_its_sequence_and_keeps_its_hold() {
    let mut t = therapist_with(&[slot(1, NOW + DAY), slot(2, NOW + 2 * DAY)]);
    assert_eq!(t.sequence(), 1, "two slots, one announce");
    assert_eq!(
        t.add_slots(NOW, &[slot(3, NOW + DAY), slot(3, NOW + DAY)])
            .unwrap_err()
            .class(),
        "wrong_state"
    );
    let announce = announce_of(&t.announce(NOW).unwrap());
    let mut r = rng(5);
    let (mut patient, _) = Patient::search(
        PatientConfig::default(),
        "p".into(),
        filter(b"80"),
        NOW,
        &mut r,
    )
    .unwrap();
    let response = SlotResponse {
        query_id: *patient.query_id(),
        announces: vec![announce],
        more: vec![],
    };
    patient.handle_response(NOW + 1, &response).unwrap();
    let therapist = identity(1).public().address();
    assert_eq!(
        patient
            .reserve(NOW + 2, &therapist, 2, &mut r)
            .unwrap_err()
            .class(),
        "wrong_state",
        "identity not known yet"
    );
    patient.learn_identity(identity(1).public().clone());
    assert_eq!(
        patient
            .reserve(NOW + 2, &therapist, 9, &mut r)
            .unwrap_err()
            .class(),
        "wrong_state",
        "no such candidate"
    );
    // The patient chooses slot 2 although slot 1 ranks first.
    let step = patient.reserve(NOW + 2, &therapist, 2, &mut r).unwrap();
    assert!(matches!(step.events[0], PatientEvent::Reserving(c) if c.slot.id == 2));
    assert_eq!(patient.state(), PatientState::Reserving);
    let FappMessage::Reservation(sealed) = &step.outgoing[0].message else {
        panic!("a reservation");
    };
    let held = t.handle_reservation(NOW + 3, sealed, &mut r).unwrap();
    let TherapistEvent::Held { request_id, .. } = held.events[0].clone() else {
        panic!("held");
    };

    // Restart: the engine comes back from its state alone.
    let state = t.state();
    let mut t = Therapist::restore(identity(1), TherapistConfig::default(), state.clone()).unwrap();
    assert_eq!(t.state(), state);
    let next = announce_of(&t.announce(NOW + 4).unwrap());
    assert_eq!(next.sequence, state.sequence + 1);
    assert_eq!(next.slots.iter().map(|s| s.id).collect::<Vec<_>>(), [1]);
    t.confirm(NOW + 5, &request_id, &mut r).unwrap();
    assert_eq!(t.slot_owner(2), Some((request_id, true)));
}

#[test]
fn the_relay_cache_comes_back_from_its_entries() {
    let mut t = therapist_with(&[slot(1, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let address = identity(1).public().address();
    let mut relay = Relay::new(RelayConfig::default()).unwrap();
    relay
        .handle(
            NOW,
            qpc_fapp::NeighbourId(1),
            &FappMessage::Announce(announce.clone()),
        )
        .unwrap();
    let (sequence, expires_ms, cached) = relay.cache().entry(&address).unwrap();
    let cached = cached.cloned();
    let mut restored = Relay::new(RelayConfig::default()).unwrap();
    restored
        .restore(NOW + 1, address, sequence, expires_ms, cached.clone())
        .unwrap();
    assert_eq!(restored.cache().announce(&address), cached.as_ref());
    let mut fresh = Relay::new(RelayConfig::default()).unwrap();
    let wrong = fresh.restore(NOW + 1, address, sequence + 1, expires_ms, cached.clone());
    assert_eq!(wrong.unwrap_err().class(), "wrong_recipient");
    let expired = fresh.restore(expires_ms, address, sequence, expires_ms, cached);
    assert_eq!(expired.unwrap_err().class(), "bad_expiry");
    fresh.restore(NOW, address, 7, NOW + DAY, None).unwrap();
    assert_eq!(fresh.cache().entry(&address), Some((7, NOW + DAY, None)));
}
