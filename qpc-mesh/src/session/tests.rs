//! Establishment, ratchet, loss, reordering, resumption and restarts over
//! real X-Wing keys.

use qpc_crypto::identity::Identity;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;

struct Pair {
    rng: ChaCha20Rng,
    alice: Session,
    bob: Session,
}

fn established(seed: u64) -> Pair {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (a, b) = (Identity::generate(&mut rng), Identity::generate(&mut rng));
    let initiator = Initiator::start(&mut rng, &a, b.public(), 0x1111, 7).unwrap();
    assert_eq!(initiator.datagram().len(), 22 + INIT_LEN);
    let accepted = accept(&mut rng, &b, initiator.datagram(), 0x2222, 7).unwrap();
    assert_eq!(accepted.datagram.len(), 22 + RESPONSE_LEN);
    assert_eq!(accepted.session.peer(), a.public().address());
    assert_eq!(
        &accepted.initiator_signing_key,
        a.public().signing_key().as_bytes()
    );
    let mut alice = initiator.finish(&accepted.datagram).unwrap();
    let mut bob = accepted.session;
    assert_eq!(
        (alice.peer(), alice.role()),
        (b.public().address(), Role::Initiator)
    );
    alice.export();
    bob.export();
    Pair { rng, alice, bob }
}

fn content(received: Received) -> (u32, Vec<u8>) {
    match received {
        Received::Content { counter, content } => (counter, content.to_vec()),
        other => panic!("expected content, got {other:?}"),
    }
}

#[test]
fn both_directions_and_the_4_byte_budget() {
    let Pair {
        mut alice, mut bob, ..
    } = established(1);
    let d = alice.seal(b"ping", 7).unwrap();
    assert_eq!(d.len(), 22 + DATA_OVERHEAD + 4);
    assert_eq!(content(bob.open(&d).unwrap()), (0, b"ping".to_vec()));
    let r = bob.seal(b"pong", 7).unwrap();
    assert_eq!(content(alice.open(&r).unwrap()), (0, b"pong".to_vec()));
    assert_eq!(bob.open(&d).unwrap_err().class(), "replayed");
    // A relay changes hop count and hop id only: still opens.
    let d2 = alice.seal(b"two", 7).unwrap();
    let relayed = [
        &[d2[0] | 0x10, d2[1] + 0x10],
        &d2[2..22],
        &[0xee; 8][..],
        &d2[22..],
    ]
    .concat();
    assert_eq!(content(bob.open(&relayed).unwrap()), (1, b"two".to_vec()));
}

#[test]
fn loss_and_reordering_within_the_window() {
    let Pair {
        mut alice, mut bob, ..
    } = established(2);
    let sent: Vec<_> = (0..5u8).map(|i| alice.seal(&[i], 3).unwrap()).collect();
    assert_eq!(content(bob.open(&sent[3]).unwrap()).0, 3);
    assert_eq!(content(bob.open(&sent[1]).unwrap()).0, 1);
    assert_eq!(bob.open(&sent[1]).unwrap_err().class(), "replayed");
    assert_eq!(content(bob.open(&sent[0]).unwrap()).0, 0);
    // sent[2] lost, sent[4] arrives.
    assert_eq!(content(bob.open(&sent[4]).unwrap()).0, 4);
}

#[test]
fn tampering_and_far_counters_change_nothing() {
    let Pair {
        mut alice, mut bob, ..
    } = established(3);
    let d = alice.seal(b"data", 7).unwrap();
    for at in [1, 21, 23, d.len() - 1] {
        let mut bad = d.clone();
        bad[at] ^= 0x01;
        assert!(bob.open(&bad).is_err());
    }
    let mut other_tag = d.clone();
    other_tag[23] ^= 0xff;
    assert_eq!(bob.open(&other_tag).unwrap_err().class(), "unknown_session");
    assert_eq!(content(bob.open(&d).unwrap()).0, 0);
    // 70 counters ahead: beyond the skip window.
    for _ in 0..14 {
        alice.export();
        for _ in 0..5 {
            alice.seal(b"x", 7).unwrap();
        }
    }
    let far = alice.seal(b"far", 7).unwrap();
    assert_eq!(bob.open(&far).unwrap_err().class(), "too_far_ahead");
}

#[test]
fn sealing_needs_a_persisted_reservation() {
    let Pair { mut alice, .. } = established(4);
    for _ in 0..RESERVATION {
        alice.seal(b"x", 7).unwrap();
    }
    assert_eq!(alice.seal(b"x", 7).unwrap_err().class(), "wrong_state");
}

#[test]
fn a_restored_session_never_reuses_a_counter() {
    let Pair {
        mut alice, mut bob, ..
    } = established(5);
    let persisted = alice.export();
    let used = alice.seal(b"before crash", 7).unwrap();
    assert_eq!(content(bob.open(&used).unwrap()).0, 0);
    // Alice crashes and restarts from what she persisted.
    let mut restored = Session::restore(&persisted).unwrap();
    restored.export();
    let after = restored.seal(b"after", 7).unwrap();
    assert_eq!(content(bob.open(&after).unwrap()), (16, b"after".to_vec()));
    assert_ne!(after[18..22], used[18..22]);
}

#[test]
fn resumption_resynchronises_counters_without_a_kem() {
    let Pair {
        mut rng,
        mut alice,
        mut bob,
    } = established(6);
    // Bob restored an old state and fell behind beyond the window.
    let old_bob = bob.export();
    for _ in 0..14 {
        alice.export();
        for _ in 0..5 {
            let d = alice.seal(b"m", 7).unwrap();
            bob.open(&d).unwrap();
        }
    }
    let mut bob = Session::restore(&old_bob).unwrap();
    let d = alice.seal(b"lost?", 7).unwrap();
    assert_eq!(bob.open(&d).unwrap_err().class(), "too_far_ahead");
    let resume = bob.resume(&mut rng, 7).unwrap();
    assert_eq!(resume.len(), 22 + RESUME_LEN);
    assert_eq!(alice.open(&resume).unwrap(), Received::Resumed { epoch: 1 });
    let answer = alice.resume_answer(&mut rng, 7).unwrap();
    assert_eq!(
        bob.open(&answer).unwrap(),
        Received::ResumeConfirmed { epoch: 1 }
    );
    let mut forged = answer.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(bob.open(&forged).unwrap_err().class(), "open_failed");
    alice.export();
    let d = alice.seal(b"again", 7).unwrap();
    assert_eq!(content(bob.open(&d).unwrap()), (0, b"again".to_vec()));
}

#[test]
fn a_lost_resume_is_caught_up_by_the_next_data_message() {
    let Pair {
        mut rng,
        mut alice,
        mut bob,
    } = established(7);
    let _lost = alice.resume(&mut rng, 7).unwrap();
    alice.export();
    let d = alice.seal(b"new epoch", 7).unwrap();
    assert_eq!(content(bob.open(&d).unwrap()).1, b"new epoch");
    assert_eq!((alice.epoch(), bob.epoch()), (1, 1));
}

#[test]
fn establishment_rejections() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (a, b, c) = (
        Identity::generate(&mut rng),
        Identity::generate(&mut rng),
        Identity::generate(&mut rng),
    );
    let initiator = Initiator::start(&mut rng, &a, b.public(), 1, 7).unwrap();
    let init = initiator.datagram().to_vec();
    // For another node.
    assert_eq!(
        accept(&mut rng, &c, &init, 2, 7).unwrap_err().class(),
        "malformed"
    );
    // A flipped bit in the sealed identity.
    let mut bad = init.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        accept(&mut rng, &b, &bad, 2, 7).unwrap_err().class(),
        "open_failed"
    );
    let accepted = accept(&mut rng, &b, &init, 2, 7).unwrap();
    let mut forged = accepted.datagram.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(
        initiator.finish(&forged).unwrap_err().class(),
        "open_failed"
    );
    assert!(initiator.finish(&accepted.datagram).is_ok());
    assert_eq!(initiator.finish(&init).unwrap_err().class(), "malformed");
}

#[test]
fn restore_rejects_bad_state() {
    let Pair { mut alice, .. } = established(9);
    let good = alice.export();
    assert!(Session::restore(&good).is_ok());
    let mut v = good.to_vec();
    v[0] = 2;
    assert_eq!(Session::restore(&v).unwrap_err().class(), "unknown_version");
    assert_eq!(
        Session::restore(&good[..good.len() - 1])
            .unwrap_err()
            .class(),
        "truncated"
    );
    let long = [&good[..], &[0]].concat();
    assert_eq!(
        Session::restore(&long).unwrap_err().class(),
        "trailing_bytes"
    );
}

mod exported {
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static EXPORTED: LazyLock<Vec<u8>> = LazyLock::new(|| {
        let Pair {
            mut alice, mut bob, ..
        } = established(10);
        let sent: Vec<_> = (0..3u8).map(|i| alice.seal(&[i], 7).unwrap()).collect();
        bob.open(&sent[2]).unwrap();
        bob.export().to_vec()
    });

    proptest! {
        /// Restoring re-exports the same state, one reservation further;
        /// edited bytes restore or fail with a class, never panic.
        #[test]
        fn restore_round_trips_and_survives_edits(at in 0usize..400, mask in 1u8..) {
            let restored = Session::restore(&EXPORTED).unwrap();
            let mut again = restored;
            let reexported = again.export();
            prop_assert_eq!(reexported.len(), EXPORTED.len());
            prop_assert_eq!(&reexported[..144], &EXPORTED[..144]);
            prop_assert_eq!(&reexported[184..], &EXPORTED[184..]);
            let mut edited = EXPORTED.clone();
            let at = at % edited.len();
            edited[at] ^= mask;
            if let Err(e) = Session::restore(&edited) {
                prop_assert!(["unknown_version", "malformed", "too_many_items", "truncated", "trailing_bytes"].contains(&e.class()));
            }
        }
    }
}
