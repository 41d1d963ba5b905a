//! The pqXX targets: the three handshake messages, each read by the side
//! under test in the state it would really be in, and both transports
//! after a real handshake.
//!
//! The fixed parties, randomness, genuine transcripts and input builders
//! are in [`crate::fixtures::pqxx`]. Wherever the fuzzer cannot forge
//! something (an AEAD tag under a key it does not know, an Ed25519
//! signature), the oracles rely on it: only the messages and records the
//! harness can compute itself open, and only the deterministic signatures
//! the harness can recompute verify.

use std::collections::BTreeSet;
use std::fmt::Debug;

use qpc_crypto::identity::{self as crypto_identity, Identity, SignatureContext};
use qpc_crypto::pqxx::noise::NoiseHandshake;
use qpc_crypto::pqxx::transport::{StreamTransport, TransportConfig, MAX_PLAINTEXT_LEN};
use qpc_crypto::pqxx::{HandshakeConfig, Mode, PeerIdentity, Session};
use qpc_crypto::Error as CryptoError;

use crate::fixtures::pqxx::{
    self as fx, mode, Binding, Message, Op, Payload, Policy, Record, CIPHERTEXT_LEN, DH_LEN,
    MAX_MESSAGE_LEN, SMALL_APPLICATION_LEN, TAG_LEN,
};
use crate::fixtures::{self, NOW};
use crate::{mlkem_key_is_reduced, spec_address, x25519_is_low_order};

/// Whether `got` is the error `expected`: the same class for `malformed`,
/// `wrong_state` and `invalid_public_key` (whose texts only name the
/// detail), the same error otherwise.
fn same_error(got: &CryptoError, expected: &CryptoError) -> bool {
    match expected.class() {
        "malformed" | "wrong_state" | "invalid_public_key" => got.class() == expected.class(),
        _ => got == expected,
    }
}

#[track_caller]
fn assert_outcome<T: Debug, U: Debug>(
    got: &Result<T, CryptoError>,
    expected: &Result<U, CryptoError>,
    context: &dyn Debug,
) {
    let agree = match (got, expected) {
        (Ok(_), Ok(_)) => true,
        (Err(g), Err(e)) => same_error(g, e),
        _ => false,
    };
    assert!(agree, "got {got:?}, expected {expected:?} ({context:?})");
}

#[track_caller]
fn assert_wrong_state<T: Debug>(r: Result<T, CryptoError>, what: &str) {
    assert!(
        matches!(r, Err(CryptoError::WrongState(_))),
        "{what}: {r:?}, expected wrong_state"
    );
}

/// What verifying `binding` for the Noise static key `static_key` at
/// [`NOW`] must give: the signing key parsed by qpc-crypto's parser (which
/// the `identity` target fuzzes), then the expiry (valid through
/// `not_after_ms`), then the signature — only Alice's, Bob's or Carol's own
/// deterministic signature of `static || digest || not_after` verifies.
fn expected_binding(binding: &Binding, static_key: &[u8; 32]) -> Result<(), CryptoError> {
    crypto_identity::parse_signing_key(&binding.signing_key)?;
    if NOW > binding.not_after_ms {
        return Err(CryptoError::ExpiredBinding {
            not_after_ms: binding.not_after_ms,
            now_ms: NOW,
        });
    }
    let message = Binding::signed_bytes(static_key, &binding.kem_key_digest, binding.not_after_ms);
    let signed = [fixtures::alice(), fixtures::bob(), fixtures::carol()]
        .into_iter()
        .find(|id| id.public().signing_key().as_bytes() == &binding.signing_key)
        .is_some_and(|id| id.sign(SignatureContext::PqxxStaticKey, &message) == binding.signature);
    if !signed {
        return Err(CryptoError::BadSignature(
            SignatureContext::PqxxStaticKey.name(),
        ));
    }
    Ok(())
}

/// The policy: a pinned side accepts only that address, which commits to
/// the signing key and the KEM key digest (`spec/02`, computed here).
fn expected_policy(binding: &Binding, pinned: Option<[u8; 16]>) -> Result<(), CryptoError> {
    match pinned {
        Some(address) if address != spec_address(&binding.signing_key, &binding.kem_key_digest) => {
            Err(CryptoError::PeerRejected)
        }
        _ => Ok(()),
    }
}

/// The policy of mode bit [`mode::PIN`]: pinned to `honest`'s address.
fn pin(mode: u8, config: &mut HandshakeConfig, honest: &Identity) -> Option<[u8; 16]> {
    if mode & mode::PIN == 0 {
        return None;
    }
    let address = honest.public().address();
    *config = config.clone().pinned(address);
    Some(*address.as_bytes())
}

/// The authenticated peer is the binding's signer, with the spec's address.
#[track_caller]
fn check_peer(peer: &PeerIdentity, binding: &Binding) {
    assert_eq!(peer.signing_key.as_bytes(), &binding.signing_key);
    assert_eq!(peer.kem_key_digest, binding.kem_key_digest);
    assert_eq!(
        peer.address.as_bytes(),
        &spec_address(&binding.signing_key, &binding.kem_key_digest)
    );
    assert_eq!(peer.not_after_ms, binding.not_after_ms);
}

/// Both ends of a finished handshake hold the same hash and keys: a
/// stream over the session and one over the harness's Noise state open
/// each other's records.
#[track_caller]
fn check_same_keys(session: Session, noise: NoiseHandshake) {
    assert_eq!(session.handshake_hash(), &noise.handshake_hash());
    let config = TransportConfig::default();
    let mut ours = session.into_stream(config.clone(), NOW).expect("stream");
    let mut theirs =
        StreamTransport::new(noise.split().expect("finished"), config, NOW).expect("stream");
    let (mut record, mut plain) = (Vec::new(), Vec::new());
    theirs.seal(NOW, b"ping", &mut record).expect("seal");
    ours.open(&record, &mut plain)
        .expect("the session opens the harness's record");
    assert_eq!(plain, b"ping");
    record.clear();
    ours.seal(NOW, b"pong", &mut record).expect("seal");
    theirs
        .open(&record, &mut plain)
        .expect("the harness opens the session's record");
    assert_eq!(plain, b"pong");
}

// ---------------------------------------------------------------------------
// Message 1
// ---------------------------------------------------------------------------

/// What Bob's `read_message_1` must give for a message whose Noise
/// plaintext is `plaintext` (or whose Noise layer failed): the payload
/// layout, the FIPS 203 modulus check of an offered key, the downgrade rule.
fn expected_message_1(
    plaintext: Result<Vec<u8>, CryptoError>,
    config: &HandshakeConfig,
) -> Result<Payload, CryptoError> {
    let payload = Payload::decode(Message::One, &plaintext?, config.max_application_len)?;
    if let Some(key) = &payload.kem {
        if !mlkem_key_is_reduced(key) {
            return Err(CryptoError::InvalidPublicKey(
                "ML-KEM-768 encapsulation key",
            ));
        }
    }
    if payload.kem.is_none() && !config.allow_classical {
        return Err(CryptoError::Downgrade);
    }
    Ok(payload)
}

/// Fuzzes message 1: Bob (fixed static key and randomness, the policy of
/// mode bits 0-1) reads it, and if he accepts it, writes message 2.
///
/// Layout: `[mode] bytes` (see [`fx::message_1`] and [`fx::mode`]): with
/// `WRAP`, `bytes` is the *payload*, which a harness initiator encrypts
/// (`WRONG_CONTEXT`: under another prologue); otherwise `bytes` is the
/// message. Checks:
///
/// - the outcome equals an independent computation: the Noise plaintext
///   (the wrapped payload; for raw messages, what a harness Noise
///   responder reads — `malformed` / `open_failed` from the Noise layer),
///   then the payload layout decoded here (`kem` 0 or 1, a 1184-byte key,
///   the application within the policy's limit, nothing after), the
///   ML-KEM key's coefficients (checked here), the downgrade rule; a wrong
///   prologue is `open_failed`; accepted ⇒ the application is the payload's;
/// - after a refusal, reading again and writing message 2 are
///   `wrong_state` (the handshake failed for good); so are both after an
///   accepted message 1 is read again (mode bit 3);
/// - accepted ⇒ message 2 is written (`content_too_long` exactly when the
///   reply exceeds the policy's limit, mode bit 2; `non_contributory` if
///   the initiator's ephemeral is of small order), has the predicted
///   length, and if the harness wrote message 1, its Noise state opens
///   message 2 and finds Bob's genuine binding, the reply and an ML-KEM
///   ciphertext exactly when Bob answers post-quantum (offer and policy);
///   for the genuine messages 1 it is the genuine message 2; Bob cannot
///   write it twice.
pub fn pqxx_responder_msg1(data: &[u8]) {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let Some(input) = fx::message_1(*mode, bytes) else {
        return;
    };
    let config = Policy::from_mode(*mode).config();
    let mut bob = fx::responder(config.clone());
    let got = bob.read_message_1(&input.message);

    let mut writer = input.writer;
    let plaintext = if mode & mode::WRAP != 0 {
        // Under another prologue the tag cannot verify.
        input.payload.ok_or(CryptoError::OpenFailed)
    } else {
        let read = fx::noise_responder(&fx::BOB_STATIC, fx::CONTEXT)
            .read(&input.message)
            .map(|p| p.to_vec());
        if let Ok(p) = &read {
            // A message from the harness's ephemeral: keep a Noise state
            // that wrote it, to read message 2.
            let mut w = fx::noise_initiator(&fx::ALICE_STATIC, fx::CONTEXT);
            if w.write(p).is_ok_and(|m| m == input.message) {
                writer = Some(w);
            }
        }
        read
    };
    let expected = expected_message_1(plaintext, &config);
    assert_outcome(&got, &expected, &(mode, input.message.len()));
    let (Ok(application), Ok(payload)) = (got, expected) else {
        assert_wrong_state(
            bob.read_message_1(&input.message),
            "message 1 after a refusal",
        );
        assert_wrong_state(bob.write_message_2(fx::APP_2), "message 2 after a refusal");
        return;
    };
    assert_eq!(application, payload.application);
    if mode & mode::REPEAT_1 != 0 {
        assert_wrong_state(bob.read_message_1(&input.message), "message 1 read twice");
        assert_wrong_state(bob.write_message_2(fx::APP_2), "message 2 after a misuse");
        return;
    }

    let long_reply = [0x52; SMALL_APPLICATION_LEN + 1];
    let reply: &[u8] = if mode & mode::LONG_REPLY != 0 {
        &long_reply
    } else {
        fx::APP_2
    };
    let m2 = bob.write_message_2(reply);
    assert_wrong_state(bob.write_message_2(reply), "message 2 written twice");
    assert_wrong_state(
        bob.read_message_1(&input.message),
        "message 1 after message 2",
    );
    if reply.len() > config.max_application_len {
        assert_eq!(
            m2,
            Err(CryptoError::ContentTooLong {
                len: reply.len(),
                max: config.max_application_len
            })
        );
        return;
    }
    if x25519_is_low_order(&input.message[..DH_LEN]) {
        // `ee` with a small-order ephemeral is all zero: refused.
        assert_eq!(m2.err(), Some(CryptoError::NonContributory));
        return;
    }
    let m2 = m2.expect("message 2 after an accepted message 1");
    let post_quantum = payload.kem.is_some() && config.post_quantum;
    let expected_payload = Payload {
        kem: post_quantum.then(|| vec![0; CIPHERTEXT_LEN].into()),
        binding: Some(Binding::genuine(fixtures::bob(), fx::bob_static().public())),
        application: reply.to_vec().into(),
    };
    // e, encrypted s, encrypted payload.
    let payload_len = expected_payload.encode(Message::Two).len();
    assert_eq!(m2.len(), DH_LEN + DH_LEN + TAG_LEN + payload_len + TAG_LEN);
    if let Some(mut w) = writer {
        let read = w
            .read(&m2)
            .expect("Bob's message 2 opens for the writer of message 1");
        let p2 = Payload::decode(Message::Two, &read, usize::MAX).expect("Bob's payload decodes");
        assert_eq!(
            p2.kem.as_ref().map(|c| c.len()),
            post_quantum.then_some(CIPHERTEXT_LEN)
        );
        assert_eq!(p2.binding, expected_payload.binding);
        assert_eq!(p2.application, expected_payload.application);
    }
    for t in [fx::transcript(false), fx::transcript(true)] {
        if input.message == t.m1
            && reply == fx::APP_2
            && post_quantum == (t.mode == Mode::PostQuantum)
        {
            assert_eq!(m2, t.m2, "message 2 is deterministic");
        }
    }
}

// ---------------------------------------------------------------------------
// Message 2
// ---------------------------------------------------------------------------

/// What Alice's `read_message_2` must give for a message whose Noise
/// plaintext is `plaintext`: the payload layout, the KEM rule (a ciphertext
/// needs an offer; no ciphertext is a downgrade unless allowed), the
/// binding for the writer's static key, the policy.
fn expected_message_2(
    plaintext: Result<Vec<u8>, CryptoError>,
    config: &HandshakeConfig,
    pinned: Option<[u8; 16]>,
    static_key: &[u8; 32],
) -> Result<(Payload, Mode), CryptoError> {
    let payload = Payload::decode(Message::Two, &plaintext?, config.max_application_len)?;
    let mode = match (config.post_quantum, payload.kem.is_some()) {
        (true, true) => Mode::PostQuantum,
        (false, true) => return Err(CryptoError::Malformed("ML-KEM ciphertext without an offer")),
        (_, false) if config.allow_classical => Mode::Classical,
        (_, false) => return Err(CryptoError::Downgrade),
    };
    let binding = payload.binding.as_ref().expect("message 2 has a binding");
    expected_binding(binding, static_key)?;
    expected_policy(binding, pinned)?;
    Ok((payload, mode))
}

/// Fuzzes message 2: Alice (fixed static key and randomness, the policy of
/// mode bits 0-1, pinned to Bob's address with bit 2) has written message 1
/// and reads it.
///
/// Layout: `[mode] bytes` (see [`fx::message_2`] and [`fx::mode`]): with
/// `WRAP`, `bytes` is the payload, rewritten as `RESIGN` / `SIGNER_CAROL`
/// say and encrypted by a harness responder (Bob's static key, or Carol's
/// with `OTHER_STATIC`) that read Alice's message 1; otherwise `bytes` is
/// the message. Checks:
///
/// - raw messages: a harness Noise initiator in Alice's state reads them;
///   one that opens must be exactly what Bob's Noise state writes for that
///   plaintext (only genuine encryptions open);
/// - the outcome equals an independent computation (payload layout,
///   `ML-KEM ciphertext without an offer`, downgrade rule, binding key,
///   expiry and signature for the writer's static key, policy); accepted ⇒
///   the application is the payload's;
/// - after a refusal, reading again and writing message 3 are
///   `wrong_state`; so are both after an accepted message 2 is read again
///   (mode bit 6);
/// - accepted ⇒ message 3 is written and has the predicted length; the
///   session's peer is the binding's signer (address per the spec), its
///   mode post-quantum exactly when a ciphertext answered the offer; the
///   genuine message 2 gives the genuine message 3 and handshake hash; a
///   classical session agrees with the harness's Noise state (which reads
///   Alice's genuine binding and application in message 3) on the
///   handshake hash and both transport keys.
pub fn pqxx_initiator_msg2(data: &[u8]) {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let mut config = Policy::from_mode(*mode).config();
    let pinned = pin(*mode, &mut config, fixtures::bob());
    let t = fx::transcript(!config.post_quantum);
    let (mut alice, m1) = fx::initiator_after_1(config.clone());
    assert_eq!(m1, t.m1, "message 1 is deterministic");
    let Some(input) = fx::message_2(*mode, bytes, t) else {
        return;
    };

    let mut writer = input.writer;
    let plaintext = match input.payload {
        Some(payload) => Ok(payload),
        None => {
            let mut mirror = fx::noise_initiator(&fx::ALICE_STATIC, fx::CONTEXT);
            assert_eq!(mirror.write(&t.payload1).expect("message 1"), t.m1);
            let read = mirror.read(&input.message).map(|p| p.to_vec());
            if let Ok(p) = &read {
                let mut w = fx::noise_responder(&fx::BOB_STATIC, fx::CONTEXT);
                w.read(&t.m1).expect("genuine message 1");
                assert_eq!(
                    w.write(p).expect("re-encrypts"),
                    input.message,
                    "a message 2 that is not Bob's encryption opened"
                );
                writer = Some(w);
            }
            read
        }
    };
    let expected = expected_message_2(plaintext, &config, pinned, &input.writer_static);
    let got = alice.read_message_2(NOW, &input.message);
    assert_outcome(&got, &expected, &(mode, input.message.len()));
    let (Ok(application), Ok((payload, expected_mode))) = (got, expected) else {
        assert_wrong_state(
            alice.read_message_2(NOW, &input.message),
            "message 2 after a refusal",
        );
        assert_wrong_state(
            alice.write_message_3(fx::APP_3),
            "message 3 after a refusal",
        );
        return;
    };
    assert_eq!(application, payload.application);
    if mode & mode::REPEAT_2 != 0 {
        assert_wrong_state(
            alice.read_message_2(NOW, &input.message),
            "message 2 read twice",
        );
        assert_wrong_state(alice.write_message_3(fx::APP_3), "message 3 after a misuse");
        return;
    }
    let binding = payload.binding.expect("message 2 has a binding");

    let (m3, session) = alice
        .write_message_3(fx::APP_3)
        .expect("message 3 after an accepted message 2");
    assert_eq!(m3.len(), DH_LEN + TAG_LEN + t.payload3.len() + TAG_LEN);
    check_peer(session.peer(), &binding);
    assert_eq!(session.mode(), expected_mode);
    if input.message == t.m2 {
        assert_eq!(
            m3, t.m3,
            "the genuine message 2 gives the genuine message 3"
        );
        assert_eq!(session.handshake_hash(), &t.handshake_hash);
    }
    if let (Some(mut w), Mode::Classical) = (writer, expected_mode) {
        w.set_psk(&fx::classical_psk()).expect("psk");
        let read = w.read(&m3).expect("the harness reads Alice's message 3");
        assert_eq!(&read[..], &t.payload3[..]);
        check_same_keys(session, w);
    }
}

// ---------------------------------------------------------------------------
// Message 3
// ---------------------------------------------------------------------------

/// What Bob's `read_message_3` must give for the Noise plaintext
/// `plaintext`: the payload layout, the binding for the writer's static
/// key, the policy.
fn expected_message_3(
    plaintext: &[u8],
    config: &HandshakeConfig,
    pinned: Option<[u8; 16]>,
    static_key: &[u8; 32],
) -> Result<Payload, CryptoError> {
    let payload = Payload::decode(Message::Three, plaintext, config.max_application_len)?;
    let binding = payload.binding.as_ref().expect("message 3 has a binding");
    expected_binding(binding, static_key)?;
    expected_policy(binding, pinned)?;
    Ok(payload)
}

/// Fuzzes message 3: Bob (post-quantum, or classical with mode bit 0;
/// application limit 16 with bit 1; pinned to Alice's address with bit 2) has
/// read the genuine message 1 and written message 2, and reads it.
///
/// Layout: `[mode] bytes` (see [`fx::message_3`] and [`fx::mode`]): with
/// `WRAP`, `bytes` is the payload, rewritten as `RESIGN` / `SIGNER_CAROL`
/// say and encrypted by a harness initiator (Alice's static key, or
/// Carol's with `OTHER_STATIC`) that wrote message 1 and read message 2,
/// with the classical psk; otherwise `bytes` is the message. Checks:
///
/// - raw messages: only the genuine message 3 opens; anything else is
///   `malformed` (over 65535 bytes, or too short for the encrypted static
///   key) or `open_failed`;
/// - wrapped payloads: in a post-quantum handshake, `open_failed` (the
///   psk without the ML-KEM secret does not complete it); in a classical
///   one, the outcome equals an independent computation (payload layout
///   and limit, binding key, expiry and signature for the writer's static
///   key, policy);
/// - accepted ⇒ the application is the payload's, the peer is the
///   binding's signer (address per the spec), the mode is the handshake's;
///   the session agrees with the writer on the handshake hash and both
///   transport keys (the genuine message: the genuine hash, and Bob's
///   stream opens Alice's genuine first record and writes the genuine
///   first record of his own).
pub fn pqxx_responder_msg3(data: &[u8]) {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let classical = mode & mode::CLASSICAL != 0;
    let t = fx::transcript(classical);
    let mut config = if classical {
        Policy::Tolerant
    } else {
        Policy::Strict
    }
    .config();
    if mode & mode::SMALL_APPLICATION != 0 {
        config.max_application_len = SMALL_APPLICATION_LEN;
    }
    let pinned = pin(*mode, &mut config, fixtures::alice());
    let bob = fx::responder_after_2(config.clone(), t);
    let Some(input) = fx::message_3(*mode, bytes, t) else {
        return;
    };
    let message = &input.message;
    let expected = match &input.payload {
        Some(_) if !classical => Err(CryptoError::OpenFailed),
        Some(payload) => expected_message_3(payload, &config, pinned, &input.writer_static),
        None if *message == t.m3 => {
            expected_message_3(&t.payload3, &config, pinned, &input.writer_static)
        }
        None if message.len() > MAX_MESSAGE_LEN || message.len() < DH_LEN + TAG_LEN => {
            Err(CryptoError::Malformed("Noise message"))
        }
        None => Err(CryptoError::OpenFailed),
    };
    let got = bob.read_message_3(NOW, message);
    assert_outcome(&got, &expected, &(mode, message.len()));
    let (Ok((session, application)), Ok(payload)) = (got, expected) else {
        return;
    };
    assert_eq!(application, payload.application);
    check_peer(session.peer(), payload.binding.as_ref().expect("binding"));
    assert_eq!(session.mode(), t.mode);
    match input.writer {
        Some(writer) => check_same_keys(session, writer),
        None => {
            assert_eq!(session.handshake_hash(), &t.handshake_hash);
            let mut stream = session
                .into_stream(TransportConfig::default(), NOW)
                .expect("stream");
            let (mut plain, mut record) = (Vec::new(), Vec::new());
            stream
                .open(&t.alice_record, &mut plain)
                .expect("Alice's record");
            assert_eq!(plain, b"ping");
            stream.seal(NOW, b"pong", &mut record).expect("seal");
            assert_eq!(record, t.bob_record);
        }
    }
}

// ---------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------

/// The receive limit of the small-limit transport configurations.
pub const STREAM_SMALL_LIMIT: usize = 8;

/// What Bob's stream must answer to `record` when it expects genuine
/// record `next` (`spec/06` §9.2 S1-S4): a record holds at least the flags
/// byte and the tag; the plaintext limit; the flags (in the clear) are 0 or
/// `KEY_UPDATE`; then only the genuine record `next` opens.
fn expected_stream(
    record: &[u8],
    next: usize,
    max: usize,
    genuine: &[Record],
) -> Result<(), CryptoError> {
    let Some(body) = record.len().checked_sub(1 + TAG_LEN) else {
        return Err(CryptoError::Malformed("stream record too short"));
    };
    if body > max {
        return Err(CryptoError::ContentTooLong { len: body, max });
    }
    if record[0] > 1 {
        return Err(CryptoError::Malformed("unknown stream flags"));
    }
    if genuine.get(next).is_some_and(|g| g.record == record) {
        Ok(())
    } else {
        Err(CryptoError::OpenFailed)
    }
}

/// Fuzzes the stream transport: Bob's side of a real post-quantum
/// handshake receives a sequence of records.
///
/// Layout: `[config] ops` (see [`fx::ops`]): config bit 0 limits Bob's
/// plaintexts to 8 bytes; each op is a literal record or one of Alice's 16
/// genuine records (which carry key updates every third record). Checks,
/// against a model that only knows which genuine record comes next and
/// whether the stream failed:
///
/// - every result is predicted: `malformed` below 17 bytes,
///   `content_too_long` over the limit, `malformed` for flags other than 0
///   and 1 (they travel in the clear), success exactly for the genuine
///   record that comes next (with its plaintext), `open_failed` otherwise;
/// - a failure clears the output, and every later call, opening or
///   sealing, is `wrong_state` (stream errors are fatal);
/// - at the end, a stream that did not fail opens the next genuine record,
///   and Bob's first own record is the genuine one (receiving never touches
///   the sending direction).
pub fn pqxx_stream(data: &[u8]) {
    let [selector, ops @ ..] = data else {
        return;
    };
    let config = TransportConfig {
        max_plaintext_len: if selector & 1 != 0 {
            STREAM_SMALL_LIMIT
        } else {
            MAX_PLAINTEXT_LEN
        },
        ..TransportConfig::default()
    };
    let max = config.max_plaintext_len;
    let mut bob = fx::bob_session().into_stream(config, NOW).expect("stream");
    let genuine = &fx::records().stream;
    let (mut next, mut failed) = (0, false);
    let mut out = Vec::new();
    for op in fx::ops(ops, false) {
        let record = match op {
            Op::Literal(bytes) => bytes,
            Op::Genuine(n) => &genuine[n].record[..],
        };
        out.clear();
        out.extend_from_slice(b"stale");
        let got = bob.open(record, &mut out);
        if failed {
            assert_wrong_state(got, "open after a stream error");
            continue;
        }
        assert_outcome(
            &got,
            &expected_stream(record, next, max, genuine),
            &(next, record),
        );
        match got {
            Ok(()) => {
                assert_eq!(out, genuine[next].plaintext);
                next += 1;
            }
            Err(_) => {
                assert!(out.is_empty(), "a failed open left bytes in the output");
                failed = true;
            }
        }
    }

    let mut record = Vec::new();
    if failed {
        let g = &genuine[next.min(genuine.len() - 1)];
        assert_wrong_state(bob.open(&g.record, &mut out), "open after a stream error");
        assert_wrong_state(
            bob.seal(NOW, b"pong", &mut record),
            "seal after a stream error",
        );
        return;
    }
    if let Some(g) = genuine.get(next).filter(|g| g.plaintext.len() <= max) {
        bob.open(&g.record, &mut out)
            .expect("the next genuine record opens");
        assert_eq!(out, g.plaintext);
    }
    bob.seal(NOW, b"pong", &mut record).expect("seal");
    assert_eq!(record, fx::transcript(false).bob_record);
}

/// The datagram receive rules of `spec/06` §9.3-9.4 (D1-D7): a replay
/// window over counters, the current and previous epoch keys, a bounded
/// jump ahead.
#[derive(Debug, Clone)]
struct DatagramModel {
    window: u64,
    max_epoch_jump: u64,
    max_len: usize,
    highest: Option<u64>,
    seen: BTreeSet<u64>,
    epoch: u64,
}

const COUNTER_MASK: u64 = (1 << 48) - 1;

impl DatagramModel {
    fn new(config: &TransportConfig) -> Self {
        DatagramModel {
            window: config.replay_window.div_ceil(64) as u64 * 64,
            max_epoch_jump: u64::from(config.max_epoch_jump),
            max_len: config.max_plaintext_len,
            highest: None,
            seen: BTreeSet::new(),
            epoch: 0,
        }
    }

    /// The answer to `record`, which is genuine or not.
    fn expect(&self, record: &[u8], genuine: bool) -> Result<(), CryptoError> {
        let Some(header) = record.get(..8) else {
            return Err(CryptoError::Malformed("datagram too short"));
        };
        let nonce = u64::from_be_bytes(header.try_into().expect("8 bytes"));
        if nonce == u64::MAX {
            return Err(CryptoError::Malformed("reserved nonce"));
        }
        let (epoch, counter) = (nonce >> 48, nonce & COUNTER_MASK);
        let Some(body) = record.len().checked_sub(8 + TAG_LEN) else {
            return Err(CryptoError::Malformed("datagram too short"));
        };
        if body > self.max_len {
            return Err(CryptoError::ContentTooLong {
                len: body,
                max: self.max_len,
            });
        }
        if let Some(highest) = self.highest.filter(|&h| counter <= h) {
            if highest - counter >= self.window {
                return Err(CryptoError::TooOld { nonce });
            }
            if self.seen.contains(&counter) {
                return Err(CryptoError::Replayed);
            }
        }
        if epoch + 1 < self.epoch {
            return Err(CryptoError::TooOld { nonce });
        }
        if epoch > self.epoch + self.max_epoch_jump {
            return Err(CryptoError::Malformed("datagram epoch too far ahead"));
        }
        if genuine {
            Ok(())
        } else {
            Err(CryptoError::OpenFailed)
        }
    }

    fn accept(&mut self, nonce: u64) {
        let counter = nonce & COUNTER_MASK;
        self.seen.insert(counter);
        self.highest = Some(self.highest.map_or(counter, |h| h.max(counter)));
        self.epoch = self.epoch.max(nonce >> 48);
    }
}

/// The index of `record` among the genuine datagram records (record `i`
/// has counter `i`).
fn genuine_datagram(record: &[u8], genuine: &[Record]) -> Option<usize> {
    let nonce = u64::from_be_bytes(record.get(..8)?.try_into().ok()?);
    let index = usize::try_from(nonce & COUNTER_MASK).ok()?;
    genuine
        .get(index)
        .filter(|g| g.record == record)
        .map(|_| index)
}

/// Replay windows a datagram config selects: the minimum, and one that
/// rounds up to 1152.
pub const DATAGRAM_WINDOWS: [usize; 2] = [1024, 1100];
/// Epoch jumps a datagram config selects.
pub const DATAGRAM_EPOCH_JUMPS: [u16; 4] = [1, 2, 8, 64];

/// The datagram transport configuration of a `pqxx_datagram` selector:
/// bits 0-1 the epoch jump ([`DATAGRAM_EPOCH_JUMPS`]), bit 2 a 1-byte
/// plaintext limit, bit 3 the window ([`DATAGRAM_WINDOWS`]).
pub fn datagram_config(selector: u8) -> TransportConfig {
    TransportConfig {
        max_plaintext_len: if selector & 4 != 0 {
            1
        } else {
            MAX_PLAINTEXT_LEN
        },
        replay_window: DATAGRAM_WINDOWS[usize::from(selector >> 3 & 1)],
        max_epoch_jump: DATAGRAM_EPOCH_JUMPS[usize::from(selector & 3)],
        ..TransportConfig::default()
    }
}

/// Fuzzes the datagram transport: Bob's side of a real post-quantum
/// handshake receives a sequence of records.
///
/// Layout: `[config] ops` (see [`datagram_config`] and [`fx::ops`]): each
/// op is a literal record or one of Alice's 4096 genuine records (counter
/// `i`, epochs of 1536 records). Checks:
///
/// - every result equals an independent model of the receive rules of
///   `spec/06` §9.3-9.4 (header and tag length, the reserved nonce
///   2^64 - 1, plaintext limit, a window over counters that
///   refuses what is too old or already seen, the current and previous
///   epoch keys, a bounded jump ahead; then only genuine records open):
///   since the model only changes on success, refused records — forgeries
///   among them — can never prevent a later genuine record from opening;
/// - an accepted record is genuine, has its plaintext, and its 8-byte
///   nonce and its bytes were never accepted before (a set of accepted
///   nonces, kept apart from the model); a refused record clears the
///   output;
/// - at the end, the next fresh genuine record the model allows opens, and
///   Bob's first own record is the genuine one.
pub fn pqxx_datagram(data: &[u8]) {
    let [selector, ops @ ..] = data else {
        return;
    };
    let config = datagram_config(*selector);
    let mut model = DatagramModel::new(&config);
    let mut bob = fx::bob_session()
        .into_datagram(config, NOW)
        .expect("datagram");
    let genuine = &fx::records().datagram;
    let mut nonces = BTreeSet::new();
    let mut opened = BTreeSet::new();
    let mut out = Vec::new();
    for op in fx::ops(ops, true) {
        let record = match op {
            Op::Literal(bytes) => bytes,
            Op::Genuine(n) => &genuine[n].record[..],
        };
        let index = genuine_datagram(record, genuine);
        let expected = model.expect(record, index.is_some());
        out.clear();
        out.extend_from_slice(b"stale");
        let got = bob.open(record, &mut out);
        assert_outcome(&got, &expected, &(&model.highest, model.epoch, record));
        if got.is_err() {
            assert!(out.is_empty(), "a refused record left bytes in the output");
            continue;
        }
        let nonce = u64::from_be_bytes(record[..8].try_into().expect("8 bytes"));
        assert!(nonces.insert(nonce), "nonce {nonce:#x} accepted twice");
        assert!(opened.insert(record.to_vec()), "a record opened twice");
        let index = index.expect("only genuine records open");
        assert_eq!(out, genuine[index].plaintext);
        model.accept(nonce);
    }

    let fresh = model.highest.map_or(0, |h| h as usize + 1);
    if let Some(g) = genuine.get(fresh) {
        if model.expect(&g.record, true).is_ok() {
            bob.open(&g.record, &mut out)
                .expect("a fresh genuine record opens whatever came before");
            assert_eq!(out, g.plaintext);
        }
    }
    let mut record = Vec::new();
    bob.seal(NOW, b"!", &mut record).expect("seal");
    assert_eq!(record, fx::records().bob_datagram);
}
