//! The therapist, patient and relay engines driven by hand through the
//! cases spec/20 §9-§11 name.

mod common;

use bytes::Bytes;
use common::{announce_of, filter, identity, practice, rng, slot, DAY, NOW};
use qpc_fapp::announce::{licence_hash, SlotAnnounce};
use qpc_fapp::patient::{Patient, PatientConfig, PatientEvent, PatientState};
use qpc_fapp::relay::{Relay, RelayConfig};
use qpc_fapp::sealed::{Sealed, Status};
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_fapp::{FappMessage, NeighbourId, Outgoing, Step, To};

fn therapist(n: u8, slots: &[(u32, u64)]) -> Therapist {
    let mut t = Therapist::new(
        identity(n),
        licence_hash("LANR-123456789"),
        practice(b"80331"),
        TherapistConfig::default(),
        0,
    )
    .unwrap();
    for &(id, start) in slots {
        t.add_slot(NOW, slot(id, start)).unwrap();
    }
    t
}

fn only<E>(step: &Step<E>) -> &Outgoing {
    assert_eq!(step.outgoing.len(), 1, "one message");
    &step.outgoing[0]
}

fn sealed(message: &FappMessage) -> &Sealed {
    match message {
        FappMessage::Reservation(s) | FappMessage::Result(s) | FappMessage::Cancel(s) => s,
        other => panic!("not sealed: {other:?}"),
    }
}

/// A patient that has collected `announce` and learnt `therapist`'s
/// identity, its collection deadline passed: returns it and its first
/// reservation.
fn patient_reserving(announce: &SlotAnnounce, n: u8, seed: u64) -> (Patient, Sealed) {
    let mut r = rng(seed);
    let (mut patient, _) = Patient::search(
        PatientConfig::default(),
        "pseudonym@example.invalid".into(),
        filter(b"80"),
        NOW,
        &mut r,
    )
    .unwrap();
    let response = qpc_fapp::query::SlotResponse {
        query_id: *patient.query_id(),
        announces: vec![announce.clone()],
        more: vec![],
    };
    let step = patient.handle_response(NOW + 1, &response).unwrap();
    assert!(matches!(step.events[0], PatientEvent::IdentityNeeded(_)));
    patient.learn_identity(identity(n).public().clone());
    let step = patient.handle_timeout(NOW + 20_000, &mut r).unwrap();
    let reservation = sealed(&only(&step).message).clone();
    (patient, reservation)
}

#[test]
fn two_patients_race_for_one_slot_one_wins() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (mut alice, a) = patient_reserving(&announce, 1, 1);
    let (mut bob, b) = patient_reserving(&announce, 1, 2);
    let mut r = rng(9);
    let held = t.handle_reservation(NOW + 20_001, &a, &mut r).unwrap();
    let request = match &held.events[0] {
        TherapistEvent::Held { request_id, .. } => *request_id,
        e => panic!("{e:?}"),
    };
    assert!(
        announce_of(&held).slots.is_empty(),
        "held slot not announced"
    );
    let declined = t.handle_reservation(NOW + 20_002, &b, &mut r).unwrap();
    assert!(matches!(declined.events[0], TherapistEvent::Declined(_)));
    let confirmed = t.confirm(NOW + 20_003, &request, &mut r).unwrap();
    assert_eq!(t.slot_owner(7), Some((request, true)));

    let step = bob
        .handle_result(NOW + 20_004, sealed(&only(&declined).message), &mut r)
        .unwrap();
    assert!(matches!(
        step.events[0],
        PatientEvent::Refused(_, Status::Declined)
    ));
    assert_eq!(bob.state(), PatientState::Exhausted);
    let step = alice
        .handle_result(NOW + 20_004, sealed(&only(&confirmed).message), &mut r)
        .unwrap();
    assert!(matches!(step.events[0], PatientEvent::Booked(_)));
    assert_eq!(alice.state(), PatientState::Booked);
}

#[test]
fn an_expired_hold_frees_the_slot_and_tells_the_patient() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (mut alice, a) = patient_reserving(&announce, 1, 1);
    let mut r = rng(9);
    let held = t.handle_reservation(NOW + 20_001, &a, &mut r).unwrap();
    let request = match &held.events[0] {
        TherapistEvent::Held { request_id, .. } => *request_id,
        e => panic!("{e:?}"),
    };
    let deadline = t.poll_timeout().unwrap();
    assert_eq!(deadline, NOW + 20_001 + 15 * 60 * 1000);
    let expired = t.handle_timeout(deadline, &mut r).unwrap();
    assert!(matches!(expired.events[0], TherapistEvent::Expired(_)));
    assert_eq!(announce_of(&expired).slots.len(), 1, "free again");
    assert!(t.confirm(deadline, &request, &mut r).is_err());
    let result = expired
        .outgoing
        .iter()
        .find(|o| matches!(o.message, FappMessage::Result(_)))
        .unwrap();
    let step = alice
        .handle_result(deadline, sealed(&result.message), &mut r)
        .unwrap();
    assert!(matches!(
        step.events[0],
        PatientEvent::Refused(_, Status::Expired)
    ));
}

#[test]
fn a_replayed_reservation_gets_the_same_answer_and_no_second_booking() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (_, a) = patient_reserving(&announce, 1, 1);
    let mut r = rng(9);
    let held = t.handle_reservation(NOW + 20_001, &a, &mut r).unwrap();
    let TherapistEvent::Held { request_id, .. } = held.events[0].clone() else {
        panic!()
    };
    let first = t.confirm(NOW + 20_002, &request_id, &mut r).unwrap();
    let again = t.handle_reservation(NOW + 20_003, &a, &mut r).unwrap();
    assert_eq!(again.events, vec![TherapistEvent::Replayed(request_id)]);
    assert_eq!(only(&again).message, only(&first).message, "same bytes");
    assert_eq!(t.slot_owner(7), Some((request_id, true)));
}

#[test]
fn a_decline_falls_back_to_the_next_slot() {
    let mut t = therapist(1, &[(7, NOW + DAY), (8, NOW + 2 * DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (mut alice, a) = patient_reserving(&announce, 1, 1);
    let mut r = rng(9);
    let held = t.handle_reservation(NOW + 20_001, &a, &mut r).unwrap();
    let TherapistEvent::Held {
        request_id,
        slot_id,
        ..
    } = held.events[0].clone()
    else {
        panic!()
    };
    assert_eq!(slot_id, 7, "earliest first");
    let declined = t.decline(NOW + 20_002, &request_id, &mut r).unwrap();
    let result = &declined.outgoing[0];
    let step = alice
        .handle_result(NOW + 20_003, sealed(&result.message), &mut r)
        .unwrap();
    let next = sealed(&only(&step).message).clone();
    let held = t.handle_reservation(NOW + 20_004, &next, &mut r).unwrap();
    assert!(matches!(
        held.events[0],
        TherapistEvent::Held { slot_id: 8, .. }
    ));
}

#[test]
fn a_result_timeout_cancels_and_a_late_confirmation_is_cancelled() {
    let mut t = therapist(1, &[(7, NOW + DAY), (8, NOW + 2 * DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (mut alice, a) = patient_reserving(&announce, 1, 1);
    let mut r = rng(9);
    let held = t.handle_reservation(NOW + 20_001, &a, &mut r).unwrap();
    let TherapistEvent::Held { request_id, .. } = held.events[0].clone() else {
        panic!()
    };
    let late = t.confirm(NOW + 20_002, &request_id, &mut r).unwrap();
    // The confirmation is delayed past the patient's deadline.
    let deadline = alice.poll_timeout().unwrap();
    let step = alice.handle_timeout(deadline, &mut r).unwrap();
    assert!(matches!(step.events[0], PatientEvent::TimedOut(_)));
    let cancel = &step.outgoing[0];
    assert!(matches!(cancel.message, FappMessage::Cancel(_)));
    let step = alice
        .handle_result(deadline + 1, sealed(&only(&late).message), &mut r)
        .unwrap();
    assert!(matches!(
        step.events[0],
        PatientEvent::LateConfirmationCancelled(_)
    ));
    let cancelled = t
        .handle_cancel(deadline + 2, sealed(&cancel.message))
        .unwrap();
    assert_eq!(
        cancelled.events,
        vec![TherapistEvent::Cancelled(request_id)]
    );
    assert_eq!(t.slot_owner(7), None);
}

fn relay() -> Relay {
    Relay::new(RelayConfig::default()).unwrap()
}

#[test]
fn relay_keeps_the_highest_sequence_and_refuses_forgeries() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let first = announce_of(&t.announce(NOW).unwrap());
    let second = announce_of(&t.announce(NOW + 1).unwrap());
    let mut relay = relay();
    let from = NeighbourId(1);
    let step = relay
        .handle(NOW + 2, from, &FappMessage::Announce(second.clone()))
        .unwrap();
    assert_eq!(only(&step).to, To::NeighboursExcept(from));
    let stale = relay.handle(NOW + 3, from, &FappMessage::Announce(first));
    assert_eq!(stale.unwrap_err().class(), "stale");
    let mut forged = second.clone();
    forged.sequence += 1;
    let err = relay.handle(NOW + 4, from, &FappMessage::Announce(forged));
    assert_eq!(err.unwrap_err().class(), "bad_signature");
    let mut expired = second;
    expired.sequence += 5;
    let err = relay.handle(NOW + DAY + 1, from, &FappMessage::Announce(expired));
    assert_eq!(err.unwrap_err().class(), "bad_expiry");
}

#[test]
fn relay_answers_forwards_dedupes_and_routes_back() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let mut relay = relay();
    relay
        .handle(NOW, NeighbourId(1), &FappMessage::Announce(announce))
        .unwrap();
    let mut r = rng(3);
    let (patient, step) = Patient::search(
        PatientConfig::default(),
        String::new(),
        filter(b"803"),
        NOW,
        &mut r,
    )
    .unwrap();
    let query = only(&step).message.clone();
    let step = relay.handle(NOW + 1, NeighbourId(2), &query).unwrap();
    assert_eq!(step.outgoing[0].to, To::Neighbour(NeighbourId(2)));
    let FappMessage::Response(response) = &step.outgoing[0].message else {
        panic!()
    };
    assert_eq!(response.announces.len(), 1);
    assert_eq!(&response.query_id, patient.query_id());
    assert_eq!(step.outgoing[1].to, To::NeighboursExcept(NeighbourId(2)));
    let err = relay.handle(NOW + 2, NeighbourId(3), &query).unwrap_err();
    assert_eq!(err.class(), "replayed");
    // A response from further away goes back to neighbour 2 only.
    let back = relay
        .handle(
            NOW + 3,
            NeighbourId(4),
            &FappMessage::Response(response.clone()),
        )
        .unwrap();
    assert_eq!(only(&back).to, To::Neighbour(NeighbourId(2)));
    // Nothing matches elsewhere.
    let (_, step) = Patient::search(
        PatientConfig::default(),
        String::new(),
        filter(b"1"),
        NOW,
        &mut r,
    )
    .unwrap();
    let step = relay
        .handle(NOW + 4, NeighbourId(2), &only(&step).message)
        .unwrap();
    assert!(step
        .outgoing
        .iter()
        .all(|o| !matches!(o.message, FappMessage::Response(_))));
}

#[test]
fn relay_rate_limits_each_neighbour() {
    let config = RelayConfig {
        burst: 2,
        per_second: 1,
        ..RelayConfig::default()
    };
    let mut relay = Relay::new(config).unwrap();
    let mut r = rng(4);
    let mut query = || {
        let (_, step) = Patient::search(
            PatientConfig::default(),
            String::new(),
            filter(b"8"),
            NOW,
            &mut r,
        )
        .unwrap();
        only(&step).message.clone()
    };
    let from = NeighbourId(1);
    relay.handle(NOW, from, &query()).unwrap();
    relay.handle(NOW, from, &query()).unwrap();
    let err = relay.handle(NOW, from, &query()).unwrap_err();
    assert_eq!(err.class(), "rate_limited");
    relay.handle(NOW, NeighbourId(2), &query()).unwrap();
    relay.handle(NOW + 1000, from, &query()).unwrap();
}

#[test]
fn relay_cache_evicts_the_soonest_expiry() {
    let config = RelayConfig {
        cache_capacity: 2,
        ..RelayConfig::default()
    };
    let mut relay = Relay::new(config).unwrap();
    let announces: Vec<SlotAnnounce> = (1..=3)
        .map(|n| {
            announce_of(
                &therapist(n, &[(1, NOW + DAY)])
                    .announce(NOW + u64::from(n))
                    .unwrap(),
            )
        })
        .collect();
    for a in &announces[..2] {
        relay
            .handle(NOW, NeighbourId(1), &FappMessage::Announce(a.clone()))
            .unwrap();
    }
    let step = relay
        .handle(
            NOW,
            NeighbourId(1),
            &FappMessage::Announce(announces[2].clone()),
        )
        .unwrap();
    let first = announces[0].therapist.address();
    assert!(step
        .events
        .contains(&qpc_fapp::relay::RelayEvent::Evicted(first)));
    assert_eq!(relay.cache().len(), 2);
    // A newcomer expiring before everything cached is refused.
    let mut t = therapist(9, &[(1, NOW + DAY)]);
    let early = announce_of(&t.announce(NOW - DAY / 2).unwrap());
    let err = relay.handle(NOW, NeighbourId(1), &FappMessage::Announce(early));
    assert_eq!(err.unwrap_err().class(), "full");
}

#[test]
fn sealed_messages_have_one_length_per_type() {
    let mut t = therapist(1, &[(7, NOW + DAY)]);
    let announce = announce_of(&t.announce(NOW).unwrap());
    let (_, a) = patient_reserving(&announce, 1, 1);
    let bytes = FappMessage::Reservation(a.clone()).encode().unwrap();
    assert_eq!(bytes.len(), 2 + 16 + 1120 + 1344 + 16);
    let decoded = FappMessage::decode(Bytes::from(bytes.clone())).unwrap();
    assert_eq!(decoded, FappMessage::Reservation(a));
    let err = FappMessage::decode(Bytes::from(bytes[..bytes.len() - 1].to_vec()));
    assert_eq!(err.unwrap_err().class(), "truncated");
}
