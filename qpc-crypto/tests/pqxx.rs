//! pqXX end to end: handshake outcomes, downgrade rule, policy, and both
//! transports (rekey, reordering, replay).

use qpc_crypto::identity::Identity;
use qpc_crypto::pqxx::{
    HandshakeConfig, Initiator, LocalStatic, Mode, Responder, Session, TransportConfig,
};
use qpc_crypto::Error;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NOW: u64 = 1_000_000;

struct Party {
    identity: Identity,
    local: LocalStatic,
}

fn party(seed: u8) -> Party {
    let identity = Identity::from_seeds(&[seed; 32], &[seed ^ 0xff; 32]);
    let local = LocalStatic::from_private(&identity, &[seed.wrapping_add(1); 32], NOW + 1000);
    Party { identity, local }
}

fn handshake(a: HandshakeConfig, b: HandshakeConfig) -> Result<(Session, Session), (u8, Error)> {
    let (alice, bob) = (party(1), party(2));
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut initiator = Initiator::new(&alice.local, a, &mut rng).map_err(|e| (0, e))?;
    let mut responder = Responder::new(&bob.local, b, &mut rng).map_err(|e| (0, e))?;
    let m1 = initiator.write_message_1(b"hello").map_err(|e| (1, e))?;
    assert_eq!(
        &responder.read_message_1(&m1).map_err(|e| (1, e))?[..],
        b"hello"
    );
    let m2 = responder.write_message_2(b"from bob").map_err(|e| (2, e))?;
    assert_eq!(
        &initiator.read_message_2(NOW, &m2).map_err(|e| (2, e))?[..],
        b"from bob"
    );
    let (m3, session_a) = initiator
        .write_message_3(b"from alice")
        .map_err(|e| (3, e))?;
    let (session_b, app) = responder.read_message_3(NOW, &m3).map_err(|e| (3, e))?;
    assert_eq!(&app[..], b"from alice");
    assert_eq!(session_a.peer().address, bob.identity.public().address());
    assert_eq!(session_b.peer().address, alice.identity.public().address());
    assert_eq!(session_a.handshake_hash(), session_b.handshake_hash());
    assert_eq!(session_a.mode(), session_b.mode());
    Ok((session_a, session_b))
}

fn classical() -> HandshakeConfig {
    HandshakeConfig {
        post_quantum: false,
        allow_classical: true,
        ..HandshakeConfig::default()
    }
}

fn tolerant() -> HandshakeConfig {
    HandshakeConfig {
        allow_classical: true,
        ..HandshakeConfig::default()
    }
}

#[test]
fn post_quantum_by_default() {
    let (a, _) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
    assert_eq!(a.mode(), Mode::PostQuantum);
}

#[test]
fn downgrade_rule() {
    // A classical initiator is refused by a strict responder at message 1.
    let err = handshake(classical(), HandshakeConfig::default()).unwrap_err();
    assert_eq!(err, (1, Error::Downgrade));
    // A responder that answers a PQ offer classically is refused by a
    // strict initiator at message 2.
    let err = handshake(HandshakeConfig::default(), classical()).unwrap_err();
    assert_eq!(err, (2, Error::Downgrade));
    // Where both policies allow it, the session is classical, and says so.
    let (a, _) = handshake(tolerant(), classical()).unwrap();
    assert_eq!(a.mode(), Mode::Classical);
    let (a, _) = handshake(classical(), tolerant()).unwrap();
    assert_eq!(a.mode(), Mode::Classical);
}

#[test]
fn policy_and_context() {
    let bob = party(2).identity.public().address();
    assert!(handshake(
        HandshakeConfig::default().pinned(bob),
        HandshakeConfig::default()
    )
    .is_ok());
    let carol = party(3).identity.public().address();
    let err = handshake(
        HandshakeConfig::default().pinned(carol),
        HandshakeConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, (2, Error::PeerRejected));
    let other = HandshakeConfig {
        context: b"other application".to_vec(),
        ..HandshakeConfig::default()
    };
    let err = handshake(other, HandshakeConfig::default()).unwrap_err();
    assert_eq!(err, (1, Error::OpenFailed));
}

#[test]
fn steps_out_of_order_fail_for_good() {
    let alice = party(1);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut initiator = Initiator::new(&alice.local, HandshakeConfig::default(), &mut rng).unwrap();
    assert!(matches!(
        initiator.read_message_2(NOW, &[0; 100]),
        Err(Error::WrongState(_))
    ));
    assert!(matches!(
        initiator.write_message_1(b""),
        Err(Error::WrongState(_))
    ));
}

#[test]
fn stream_transport_rekeys_in_step() {
    let (a, b) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
    let config = TransportConfig {
        rekey_after_messages: 3,
        rekey_after_ms: 50,
        ..TransportConfig::default()
    };
    let mut a = a.into_stream(config.clone(), NOW).unwrap();
    let mut b = b.into_stream(config, NOW).unwrap();
    let (mut record, mut plain) = (Vec::new(), Vec::new());
    let mut records = Vec::new();
    for i in 0..20u64 {
        record.clear();
        // Every third record and every 60 ms force a key update.
        a.seal(NOW + i * 7, &i.to_be_bytes(), &mut record).unwrap();
        records.push(record.clone());
        b.open(&record, &mut plain).unwrap();
        assert_eq!(plain, i.to_be_bytes());
    }
    // Records are distinct and a replayed one kills the stream.
    assert_ne!(records[0], records[3]);
    assert_eq!(b.open(&records[5], &mut plain), Err(Error::OpenFailed));
    assert!(matches!(
        b.open(&records[5], &mut plain),
        Err(Error::WrongState(_))
    ));
}

#[test]
fn datagram_transport_reorders_rejects_replays_and_follows_epochs() {
    let (a, b) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
    let config = TransportConfig {
        rekey_after_messages: 100,
        ..TransportConfig::default()
    };
    let mut a = a.into_datagram(config.clone(), NOW).unwrap();
    let mut b = b.into_datagram(config, NOW).unwrap();
    let records: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| {
            let mut out = Vec::new();
            a.seal(NOW, &i.to_be_bytes(), &mut out).unwrap();
            out
        })
        .collect();
    let mut plain = Vec::new();
    // Deliver 0..200 backwards (two epochs), then skip ahead.
    for i in (0..200).rev() {
        b.open(&records[i], &mut plain).unwrap();
        assert_eq!(plain, (i as u32).to_be_bytes());
    }
    assert_eq!(b.open(&records[10], &mut plain), Err(Error::Replayed));
    b.open(&records[2999], &mut plain).unwrap_err(); // 29 epochs ahead > 8
    b.open(&records[700], &mut plain).unwrap();
    // Epoch 2 is far behind epoch 7: its key is gone.
    assert!(matches!(
        b.open(&records[250], &mut plain),
        Err(Error::TooOld { .. })
    ));
    b.open(&records[650], &mut plain).unwrap(); // previous epoch, in window
    let mut tampered = records[701].clone();
    tampered[20] ^= 1;
    assert_eq!(b.open(&tampered, &mut plain), Err(Error::OpenFailed));
    b.open(&records[701], &mut plain).unwrap(); // a forgery did not hurt
    for record in &records[702..2800] {
        b.open(record, &mut plain).unwrap();
    }
    assert!(matches!(
        b.open(&records[703], &mut plain),
        Err(Error::TooOld { .. })
    ));
}

#[test]
fn config_ranges_are_enforced() {
    let (a, _) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
    for bad in [
        TransportConfig {
            max_epoch_jump: 0,
            ..TransportConfig::default()
        },
        TransportConfig {
            max_epoch_jump: 65,
            ..TransportConfig::default()
        },
        TransportConfig {
            replay_window: 1023,
            ..TransportConfig::default()
        },
        TransportConfig {
            rekey_after_messages: 0,
            ..TransportConfig::default()
        },
    ] {
        let (session, _) =
            handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
        assert!(matches!(
            session.into_datagram(bad, NOW),
            Err(Error::InvalidConfig(_))
        ));
    }
    assert!(a.into_datagram(TransportConfig::default(), NOW).is_ok());
}

#[test]
fn oversized_messages_are_refused() {
    let (a, _) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
    let config = TransportConfig {
        max_plaintext_len: 100,
        ..TransportConfig::default()
    };
    let mut a = a.into_datagram(config, NOW).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        a.seal(NOW, &[0; 101], &mut out),
        Err(Error::ContentTooLong { len: 101, max: 100 })
    );
}

/// `spec/06-pq-noise.md` §14, value for value (the Python checker in
/// `vectors/independent/` reproduces the same example independently).
#[test]
fn spec_worked_example() {
    use qpc_crypto::pqxx::{InitiatorRandomness, ResponderRandomness};
    let now = 1_000_000;
    let run = |pq: bool| {
        let ia = Identity::from_seeds(&[1; 32], &[2; 32]);
        let ra = Identity::from_seeds(&[3; 32], &[4; 32]);
        let li = LocalStatic::from_private(&ia, &[5; 32], 1_001_000);
        let lr = LocalStatic::from_private(&ra, &[6; 32], 1_001_000);
        let config = HandshakeConfig {
            context: b"ctx".to_vec(),
            post_quantum: pq,
            allow_classical: !pq,
            ..HandshakeConfig::default()
        };
        let ir = InitiatorRandomness {
            ephemeral: [7; 32],
            kem_seed: [8; 64],
        };
        let rr = ResponderRandomness {
            ephemeral: [9; 32],
            encapsulation: [10; 32],
        };
        let mut i = Initiator::new_derand(&li, config.clone(), &ir).unwrap();
        let mut r = Responder::new_derand(&lr, config, &rr).unwrap();
        let m1 = i.write_message_1(b"one").unwrap();
        r.read_message_1(&m1).unwrap();
        let m2 = r.write_message_2(b"two").unwrap();
        i.read_message_2(now, &m2).unwrap();
        let (m3, si) = i.write_message_3(b"three").unwrap();
        let (sr, _) = r.read_message_3(now, &m3).unwrap();
        ([m1, m2, m3], si, sr)
    };
    let ([m1, m2, m3], si, sr) = run(true);
    assert_eq!((m1.len(), m2.len(), m3.len()), (1237, 1325, 206));
    assert_eq!(
        hex::encode(&m1[..32]),
        "13be4feaeaf204c7fd3358fc9c00721881d174278128227ec674f37f7fe97b6d"
    );
    assert_eq!(
        hex::encode(si.handshake_hash()),
        "f13ac720658cbd3fb11f68e2ae80887695c662757e6551abbf7c46368f3e30bc"
    );
    let mut record = Vec::new();
    let mut stream = si.into_stream(TransportConfig::default(), now).unwrap();
    stream.seal(now, &[0; 3], &mut record).unwrap();
    assert_eq!(
        hex::encode(&record),
        "005b89276ca9bb5f60e1b654c94d1d5ca4aee147"
    );
    record.clear();
    let mut datagram = sr.into_datagram(TransportConfig::default(), now).unwrap();
    datagram.seal(now, &[0; 3], &mut record).unwrap();
    assert_eq!(
        hex::encode(&record),
        "0000000000000000654887c982e2ae96d289c6a1cae983c8763669"
    );
    let ([m1, m2, m3], si, _) = run(false);
    assert_eq!((m1.len(), m2.len(), m3.len()), (53, 237, 206));
    assert_eq!(si.mode(), Mode::Classical);
    assert_eq!(
        hex::encode(si.handshake_hash()),
        "55606ea209f47858357db0aa9f3fb09c441213a03cec4f7077a5651dfd3b113b"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Datagrams delivered in any order, with duplicates: each opens exactly
    /// once, to its own plaintext, whatever the rekey interval.
    #[test]
    fn datagrams_open_once_in_any_order(
        rekey in 1u64..6,
        order in proptest::collection::vec(0usize..40, 1..120),
    ) {
        let (a, b) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
        let config = TransportConfig { rekey_after_messages: rekey, max_epoch_jump: 64, ..TransportConfig::default() };
        let mut a = a.into_datagram(config.clone(), NOW).unwrap();
        let mut b = b.into_datagram(config, NOW).unwrap();
        let records: Vec<Vec<u8>> = (0..40u8)
            .map(|i| {
                let mut out = Vec::new();
                a.seal(NOW, &[i; 5], &mut out).unwrap();
                out
            })
            .collect();
        let mut opened = std::collections::BTreeSet::new();
        let mut plain = Vec::new();
        for i in order {
            match b.open(&records[i], &mut plain) {
                Ok(()) => {
                    proptest::prop_assert_eq!(&plain, &[i as u8; 5]);
                    proptest::prop_assert!(opened.insert(i), "opened twice");
                }
                // Refused only as a replay, or as a record whose epoch key is gone.
                Err(Error::Replayed) => proptest::prop_assert!(opened.contains(&i)),
                Err(Error::TooOld { .. }) => {}
                Err(e) => proptest::prop_assert!(false, "unexpected {e:?}"),
            }
        }
    }

    /// Stream records of any size open in order, across rekeys.
    #[test]
    fn stream_round_trip(
        rekey in 1u64..5,
        sizes in proptest::collection::vec(0usize..2000, 1..30),
    ) {
        let (a, b) = handshake(HandshakeConfig::default(), HandshakeConfig::default()).unwrap();
        let config = TransportConfig { rekey_after_messages: rekey, ..TransportConfig::default() };
        let mut a = a.into_stream(config.clone(), NOW).unwrap();
        let mut b = b.into_stream(config, NOW).unwrap();
        let (mut record, mut plain) = (Vec::new(), Vec::new());
        for (n, size) in sizes.into_iter().enumerate() {
            let data = vec![n as u8; size];
            record.clear();
            a.seal(NOW, &data, &mut record).unwrap();
            proptest::prop_assert_eq!(record.len(), 1 + size + 16);
            b.open(&record, &mut plain).unwrap();
            proptest::prop_assert_eq!(&plain, &data);
        }
    }
}
