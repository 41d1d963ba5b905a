//! MLS lifecycle, restart and ordering tests over real OpenMLS groups, for
//! both suites (`spec/07`).

use std::time::{SystemTime, UNIX_EPOCH};

use qpc_crypto::identity::{Address, Identity};
use qpc_crypto::mls::delivery::DropReason;
use qpc_crypto::mls::payload::ContentType;
use qpc_crypto::mls::{negotiate_suite, GroupEvent, GroupId, GroupMember, MlsConfig, Suite};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The test is the driver, so it may read the clock: OpenMLS checks key
/// package lifetimes against the system clock (spec/07 §11).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn member(seed: u8) -> GroupMember {
    GroupMember::new(
        Identity::from_seeds(&[seed; 32], &[seed ^ 0xa5; 32]),
        MlsConfig::default(),
    )
    .unwrap()
}

fn text(member: &mut GroupMember, rng: &mut ChaCha20Rng, group: &GroupId, body: &str) -> Vec<u8> {
    member
        .send(
            rng,
            now_ms(),
            group,
            ContentType::Text,
            body.as_bytes(),
            None,
        )
        .unwrap()
        .1
}

/// The text bodies of the Message events.
fn texts(events: &[GroupEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            GroupEvent::Message { payload, .. } => {
                Some(String::from_utf8(payload.body.to_vec()).unwrap())
            }
            _ => None,
        })
        .collect()
}

fn deliver(
    to: &mut [&mut GroupMember],
    rng: &mut ChaCha20Rng,
    message: &[u8],
) -> Vec<Vec<GroupEvent>> {
    to.iter_mut()
        .map(|m| m.receive(rng, message).unwrap())
        .collect()
}

fn lifecycle(suite: Suite) {
    let mut rng = ChaCha20Rng::seed_from_u64(suite.code() as u64);
    let (mut alice, mut bob, mut carol, mut dave) = (member(1), member(2), member(3), member(4));
    let group = alice.create_group(&mut rng, suite).unwrap();

    // Add two members in one commit.
    let kp_bob = bob.key_package(&mut rng, now_ms(), suite, false).unwrap();
    let kp_carol = carol.key_package(&mut rng, now_ms(), suite, true).unwrap();
    let add = alice
        .add_members(&mut rng, &group, &[&kp_bob, &kp_carol])
        .unwrap();
    assert_eq!(
        alice.members(&group).unwrap(),
        vec![alice.address(), bob.address(), carol.address()]
    );
    let welcome = add.welcome.unwrap();
    // A Welcome that fails (here: a flipped byte in its last, encrypted,
    // part) leaves the storage as it was: Bob's single-use key package
    // is still there for the genuine Welcome.
    let mut tampered = welcome.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    assert!(bob.join(&mut rng, &tampered).is_err());
    assert!(bob.groups().next().is_none());
    for m in [&mut bob, &mut carol] {
        match m.join(&mut rng, &welcome).unwrap() {
            GroupEvent::Joined {
                group: g,
                epoch,
                members,
            } => {
                assert_eq!((g, epoch, members.len()), (group.clone(), 1, 3));
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(m.suite(&group).unwrap(), suite);
    }
    // Bob's single-use key package was consumed; a second join fails.
    assert!(bob.join(&mut rng, &welcome).is_err());

    // Messages in every direction.
    let hello = text(&mut alice, &mut rng, &group, "hello");
    for events in deliver(&mut [&mut bob, &mut carol], &mut rng, &hello) {
        assert_eq!(texts(&events), ["hello"]);
        assert!(
            matches!(&events[0], GroupEvent::Message { sender, sequence: 1, .. } if *sender == alice.address())
        );
    }
    let reply = text(&mut carol, &mut rng, &group, "hi from carol");
    assert_eq!(
        texts(&alice.receive(&mut rng, &reply).unwrap()),
        ["hi from carol"]
    );
    assert_eq!(
        texts(&bob.receive(&mut rng, &reply).unwrap()),
        ["hi from carol"]
    );
    // An echo of our own message, and a duplicate, are dropped.
    assert_eq!(
        alice.receive(&mut rng, &hello).unwrap(),
        [GroupEvent::Duplicate {
            group: group.clone()
        }]
    );
    assert_eq!(
        bob.receive(&mut rng, &reply).unwrap(),
        [GroupEvent::Duplicate {
            group: group.clone()
        }]
    );

    // Bob updates his keys (post-compromise security).
    let epoch_secret = alice.export_secret(&group, "test", b"", 32).unwrap();
    let update = bob.self_update(&mut rng, &group).unwrap();
    for events in deliver(&mut [&mut alice, &mut carol], &mut rng, &update.message) {
        assert!(events.contains(&GroupEvent::KeysUpdated {
            group: group.clone(),
            member: bob.address()
        }));
        assert!(events.contains(&GroupEvent::EpochChanged {
            group: group.clone(),
            epoch: 2
        }));
    }
    assert_ne!(
        alice.export_secret(&group, "test", b"", 32).unwrap(),
        epoch_secret
    );
    assert_eq!(
        alice.export_secret(&group, "test", b"", 32).unwrap(),
        carol.export_secret(&group, "test", b"", 32).unwrap()
    );

    // Alice removes Carol.
    let remove = alice
        .remove_members(&mut rng, &group, &[carol.address()])
        .unwrap();
    let events = bob.receive(&mut rng, &remove.message).unwrap();
    assert!(events.contains(&GroupEvent::MembersRemoved {
        group: group.clone(),
        by: alice.address(),
        removed: vec![carol.address()]
    }));
    let events = carol.receive(&mut rng, &remove.message).unwrap();
    assert_eq!(
        events.last(),
        Some(&GroupEvent::Removed {
            group: group.clone()
        })
    );
    assert!(carol.groups().next().is_none());
    let secret = text(&mut alice, &mut rng, &group, "after carol left");
    assert!(matches!(
        carol.receive(&mut rng, &secret),
        Err(qpc_crypto::Error::UnknownGroup)
    ));
    assert_eq!(
        texts(&bob.receive(&mut rng, &secret).unwrap()),
        ["after carol left"]
    );

    // Carol rejoins with her last-resort key package, with Dave.
    let kp_dave = dave.key_package(&mut rng, now_ms(), suite, false).unwrap();
    let readd = bob
        .add_members(&mut rng, &group, &[&kp_carol, &kp_dave])
        .unwrap();
    alice.receive(&mut rng, &readd.message).unwrap();
    for m in [&mut carol, &mut dave] {
        m.join(&mut rng, readd.welcome.as_ref().unwrap()).unwrap();
    }
    let all = text(&mut dave, &mut rng, &group, "dave here");
    for events in deliver(&mut [&mut alice, &mut bob, &mut carol], &mut rng, &all) {
        assert_eq!(texts(&events), ["dave here"]);
    }
    // Re-added, Carol numbers her messages from 0 again; the others forgot
    // her old window when the commit re-added her.
    let back = text(&mut carol, &mut rng, &group, "carol is back");
    for events in deliver(&mut [&mut alice, &mut bob, &mut dave], &mut rng, &back) {
        assert_eq!(texts(&events), ["carol is back"], "{events:?}");
        assert!(matches!(
            &events[0],
            GroupEvent::Message { sequence: 0, .. }
        ));
    }

    // Dave leaves: his proposal, then Alice's commit.
    let leave = dave.leave(&mut rng, &group).unwrap();
    for events in deliver(&mut [&mut alice, &mut bob, &mut carol], &mut rng, &leave) {
        assert_eq!(
            events,
            [GroupEvent::LeaveRequested {
                group: group.clone(),
                member: dave.address()
            }]
        );
    }
    let commit = alice.commit_pending(&mut rng, &group).unwrap();
    for m in [&mut bob, &mut carol] {
        m.receive(&mut rng, &commit.message).unwrap();
    }
    assert_eq!(
        dave.receive(&mut rng, &commit.message).unwrap().last(),
        Some(&GroupEvent::Removed {
            group: group.clone()
        })
    );
    let members = vec![alice.address(), bob.address(), carol.address()];
    for m in [&alice, &bob, &carol] {
        assert_eq!(m.members(&group).unwrap(), members);
        assert_eq!(m.epoch(&group).unwrap(), 5);
    }
}

#[test]
fn lifecycle_xwing() {
    lifecycle(Suite::XWing);
}

#[test]
fn lifecycle_classical() {
    lifecycle(Suite::Classical);
}

#[test]
fn suites_are_negotiated_and_mismatches_reported() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (mut alice, mut bob) = (member(1), member(2));
    let classical_only = MlsConfig {
        suites: vec![Suite::Classical],
        ..MlsConfig::default()
    };
    let mut carol =
        GroupMember::new(Identity::from_seeds(&[3; 32], &[4; 32]), classical_only).unwrap();
    assert_eq!(
        negotiate_suite(&Suite::ALL, &[Suite::Classical]),
        Ok(Suite::Classical)
    );
    let err = negotiate_suite(&[Suite::XWing], &[Suite::Classical]).unwrap_err();
    assert_eq!(err.class(), "no_common_suite");
    assert_eq!(
        err.to_string(),
        "no common MLS ciphersuite: we support [004d], the peer [0001]"
    );
    assert_eq!(
        carol
            .key_package(&mut rng, now_ms(), Suite::XWing, false)
            .unwrap_err()
            .class(),
        "unsupported_suite"
    );

    let group = alice.create_group(&mut rng, Suite::XWing).unwrap();
    let classical_kp = bob
        .key_package(&mut rng, now_ms(), Suite::Classical, false)
        .unwrap();
    let err = alice
        .add_members(&mut rng, &group, &[&classical_kp])
        .unwrap_err();
    assert_eq!(err.class(), "suite_mismatch");
    assert_eq!(
        err.to_string(),
        "key package of suite 0x0001 for a group of suite 0x004d"
    );
    // Nothing changed.
    assert_eq!(alice.epoch(&group).unwrap(), 0);
    assert_eq!(alice.members(&group).unwrap(), vec![alice.address()]);
}

#[test]
fn restart_mid_conversation_loses_nothing() {
    for suite in Suite::ALL {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let (mut alice, mut bob) = (member(1), member(2));
        let group = alice.create_group(&mut rng, suite).unwrap();
        let kp = bob.key_package(&mut rng, now_ms(), suite, false).unwrap();
        let add = alice.add_members(&mut rng, &group, &[&kp]).unwrap();
        bob.join(&mut rng, &add.welcome.unwrap()).unwrap();
        let m1 = text(&mut alice, &mut rng, &group, "one");
        assert_eq!(texts(&bob.receive(&mut rng, &m1).unwrap()), ["one"]);
        // A message for the next epoch arrives before its commit: held.
        let update = alice.self_update(&mut rng, &group).unwrap();
        let m2 = text(&mut alice, &mut rng, &group, "two");
        assert_eq!(
            bob.receive(&mut rng, &m2).unwrap(),
            [GroupEvent::Held {
                group: group.clone(),
                epoch: 2
            }]
        );

        // Bob's process dies; his state was saved; a new process loads it.
        let saved = bob.export_state().unwrap();
        drop(bob);
        let identity = Identity::from_seeds(&[2; 32], &[2 ^ 0xa5; 32]);
        let mut bob = GroupMember::import_state(identity, MlsConfig::default(), &saved).unwrap();
        assert_eq!(
            bob.export_state().unwrap(),
            saved,
            "export is deterministic"
        );

        // The commit arrives: the held message is released after it.
        let events = bob.receive(&mut rng, &update.message).unwrap();
        assert_eq!(texts(&events), ["two"]);
        assert_eq!(bob.epoch(&group).unwrap(), 2);
        // The duplicate set survived the restart.
        assert_eq!(
            bob.receive(&mut rng, &m1).unwrap(),
            [GroupEvent::Duplicate {
                group: group.clone()
            }]
        );
        let m3 = text(&mut bob, &mut rng, &group, "three");
        assert_eq!(texts(&alice.receive(&mut rng, &m3).unwrap()), ["three"]);
        // Wrong identity or bytes are refused.
        let other = Identity::from_seeds(&[9; 32], &[9; 32]);
        assert!(GroupMember::import_state(other, MlsConfig::default(), &saved).is_err());
        let identity = || Identity::from_seeds(&[2; 32], &[2 ^ 0xa5; 32]);
        assert!(GroupMember::import_state(
            identity(),
            MlsConfig::default(),
            &saved[..saved.len() - 1]
        )
        .is_err());
    }
}

#[test]
fn gaps_late_messages_and_stale_commits() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let (mut alice, mut bob, mut carol) = (member(1), member(2), member(3));
    let suite = Suite::Classical;
    let group = alice.create_group(&mut rng, suite).unwrap();
    let kps =
        [&mut bob, &mut carol].map(|m| m.key_package(&mut rng, now_ms(), suite, false).unwrap());
    let add = alice
        .add_members(&mut rng, &group, &[&kps[0], &kps[1]])
        .unwrap();
    for m in [&mut bob, &mut carol] {
        m.join(&mut rng, add.welcome.as_ref().unwrap()).unwrap();
    }
    let first = text(&mut alice, &mut rng, &group, "a");
    let lost = text(&mut alice, &mut rng, &group, "b");
    let third = text(&mut alice, &mut rng, &group, "c");
    bob.receive(&mut rng, &first).unwrap();
    let events = bob.receive(&mut rng, &third).unwrap();
    assert_eq!(
        events[0],
        GroupEvent::Gap {
            group: group.clone(),
            sender: alice.address(),
            first: 2,
            last: 2
        }
    );
    assert_eq!(texts(&events), ["c"]);
    assert_eq!(texts(&bob.receive(&mut rng, &lost).unwrap()), ["b"]);

    // Concurrent commits: Bob's and Carol's updates for the same epoch;
    // Alice takes the first, the second is stale.
    let (u_bob, u_carol) = (
        bob.self_update(&mut rng, &group).unwrap(),
        carol.self_update(&mut rng, &group).unwrap(),
    );
    alice.receive(&mut rng, &u_bob.message).unwrap();
    assert_eq!(
        alice.receive(&mut rng, &u_carol.message).unwrap(),
        [GroupEvent::Dropped {
            group: group.clone(),
            reason: DropReason::StaleEpoch
        }]
    );
    // Hostile bytes are errors, not panics.
    for bad in [&b""[..], &[0u8; 3], &first[..first.len() / 2]] {
        assert!(alice.receive(&mut rng, bad).is_err());
    }
    let mut tampered = third.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(alice.members(&group).unwrap().len(), 3,);
    let events = carol.receive(&mut rng, &tampered).unwrap();
    assert!(
        matches!(
            &events[..],
            [GroupEvent::Dropped {
                reason: DropReason::Rejected,
                ..
            }]
        ),
        "{events:?}"
    );
    let _: Address = alice.address();
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Random bytes and edited genuine messages never panic: they are
        /// errors or drop events, and the group keeps working.
        #[test]
        fn receive_never_panics(noise in proptest::collection::vec(any::<u8>(), 0..300), at in any::<usize>(), xor in 1u8..) {
            let mut rng = ChaCha20Rng::seed_from_u64(17);
            let (mut alice, mut bob) = (member(1), member(2));
            let group = alice.create_group(&mut rng, Suite::Classical).unwrap();
            let kp = bob.key_package(&mut rng, now_ms(), Suite::Classical, false).unwrap();
            let add = alice.add_members(&mut rng, &group, &[&kp]).unwrap();
            bob.join(&mut rng, add.welcome.as_ref().unwrap()).unwrap();
            let _ = bob.receive(&mut rng, &noise);
            let _ = bob.join(&mut rng, &noise);
            let mut edited = text(&mut alice, &mut rng, &group, "edited");
            let i = at % edited.len();
            edited[i] ^= xor;
            if let Ok(events) = bob.receive(&mut rng, &edited) {
                prop_assert!(events.iter().all(|e| matches!(e, GroupEvent::Dropped { .. } | GroupEvent::Held { .. })), "{events:?}");
            }
            let after = text(&mut alice, &mut rng, &group, "still fine");
            let events = bob.receive(&mut rng, &after).unwrap();
            prop_assert!(texts(&events).contains(&"still fine".to_string()), "{events:?}");
        }
    }
}
