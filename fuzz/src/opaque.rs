//! The OPAQUE targets (`spec/08-opaque.md`): every message parser, the
//! stored record and server keys, the server's registration and login, the
//! client's registration finish and login finish.
//!
//! The fixed server keys, password and randomness are in [`Fixture`]; the
//! genuine registration and login transcript is computed once. The suite
//! is the test-only Identity-KSF suite 255, so an iteration costs
//! microseconds instead of an Argon2id run; every other line of code is
//! the same as for suite 1. Where the fuzzer cannot forge something (a MAC
//! under keys it does not know), the oracles rely on it: only the genuine
//! KE2 finishes the client's login, only the genuine KE3 the server's.

use std::sync::LazyLock;

use qpc_crypto::opaque::{
    Binding, ClientConfig, ClientLogin, ClientLoginRandomness, ClientRegistration,
    IdentityKsfSuite, Ke1, Ke2, Ke3, RegistrationRandomness, RegistrationRecord,
    RegistrationRequest, RegistrationResponse, Server, ServerLoginRandomness, ServerRecord,
    KEYS_LEN, MAX_MESSAGE_LEN, RECORD_LEN,
};
use qpc_crypto::Error as CryptoError;
use qpc_wire::FrameType;

type Suite = IdentityKsfSuite;

/// The fixed keys, randomness and genuine transcript.
pub struct Fixture {
    /// The server.
    pub server: Server<Suite>,
    /// The client's configuration (default binding).
    pub config: ClientConfig<Suite>,
    /// The user's credential identifier.
    pub credential_identifier: &'static [u8],
    /// The password.
    pub password: &'static [u8],
    /// Registration randomness.
    pub registration_randomness: RegistrationRandomness,
    /// Login randomness of the client.
    pub login_randomness: ClientLoginRandomness,
    /// Login randomness of the server.
    pub server_randomness: ServerLoginRandomness,
    /// The genuine RegistrationRequest.
    pub request: RegistrationRequest,
    /// The genuine RegistrationResponse.
    pub response: RegistrationResponse,
    /// The genuine upload.
    pub upload: RegistrationRecord,
    /// The stored record.
    pub record: ServerRecord<Suite>,
    /// The export key.
    pub export_key: [u8; 64],
    /// The genuine KE1, KE2, KE3.
    pub ke1: Ke1,
    /// The genuine KE2.
    pub ke2: Ke2,
    /// The genuine KE3.
    pub ke3: Ke3,
    /// The session key.
    pub session_key: [u8; 64],
}

fn scalar(byte: u8) -> [u8; 32] {
    let mut s = [byte; 32];
    s[31] = 0x0f;
    s
}

/// The fixture, computed once.
pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let server = Server::<Suite>::from_keys(&scalar(3), &[7; 64], &scalar(5), Binding::default())
        .expect("fixed server keys");
    let config = ClientConfig::identity_ksf(Binding::default());
    let registration_randomness = RegistrationRandomness {
        blind: scalar(9),
        envelope_nonce: [0x11; 32],
    };
    let login_randomness = ClientLoginRandomness {
        blind: scalar(10),
        keyshare_seed: [0x22; 32],
        nonce: [0x33; 32],
    };
    let server_randomness = ServerLoginRandomness {
        fake_masking_key: [0x44; 64],
        masking_nonce: [0x55; 32],
        keyshare_seed: [0x66; 32],
        nonce: [0x77; 32],
    };
    let (credential_identifier, password) = (&b"alice"[..], &b"hunter2"[..]);
    let (state, request) =
        ClientRegistration::start_derand(&registration_randomness, &config, password).unwrap();
    let response = server
        .registration_response(&request, credential_identifier)
        .unwrap();
    let registered = state.finish(&response).unwrap();
    let record = server.registration_finish(&registered.record).unwrap();
    let (login, ke1) = ClientLogin::start_derand(&login_randomness, &config, password).unwrap();
    let ke2 = server
        .login()
        .handle_ke1_derand(
            &server_randomness,
            Some(&record),
            credential_identifier,
            &ke1,
        )
        .unwrap();
    let finished = login.finish(&ke2).unwrap();
    Fixture {
        credential_identifier,
        password,
        request,
        response,
        upload: registered.record,
        record,
        export_key: *registered.export_key.as_bytes(),
        ke1,
        ke2,
        ke3: finished.ke3,
        session_key: *finished.session_key.as_bytes(),
        registration_randomness,
        login_randomness,
        server_randomness,
        config,
        server,
    }
});

/// The six message kinds in selector order: name, frame type, length,
/// element offsets (written from `spec/08` §4, not taken from the crate).
pub const MESSAGES: [(&str, u16, usize, &[usize]); 6] = [
    ("registration_request", 0x0110, 32, &[0]),
    ("registration_response", 0x0111, 64, &[0, 32]),
    ("registration_record", 0x0112, 192, &[0]),
    ("ke1", 0x0113, 96, &[0, 64]),
    ("ke2", 0x0114, 320, &[0, 224]),
    ("ke3", 0x0115, 64, &[]),
];

/// The class `spec/08` §8 predicts for decoding `input` as a frame of
/// `frame_type` with a body of `len` bytes, or the body.
pub fn predict_frame(input: &[u8], frame_type: u16, len: usize) -> Result<&[u8], &'static str> {
    let version = *input.first().ok_or("truncated")?;
    if version != 1 {
        return Err("unknown_version");
    }
    let code = input.get(1..3).ok_or("truncated")?;
    let code = u16::from_be_bytes([code[0], code[1]]);
    if FrameType::from_code(code).is_none() {
        return Err("unknown_frame_type");
    }
    let first = *input.get(3).ok_or("truncated")?;
    let length_len = match first >> 6 {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => return Err("invalid_length_prefix"),
    };
    let length_bytes = input.get(3..3 + length_len).ok_or("truncated")?;
    let body_len = length_bytes[1..]
        .iter()
        .fold(usize::from(first & 0x3f), |acc, &b| {
            (acc << 8) | usize::from(b)
        });
    let minimal = match body_len {
        0..=63 => 1,
        64..=16383 => 2,
        _ => 4,
    };
    if minimal != length_len {
        return Err("non_minimal_length");
    }
    if body_len > MAX_MESSAGE_LEN {
        return Err("frame_too_large");
    }
    let start = 3 + length_len;
    match input.len().cmp(&(start + body_len)) {
        std::cmp::Ordering::Less => return Err("truncated"),
        std::cmp::Ordering::Greater => return Err("trailing_bytes"),
        std::cmp::Ordering::Equal => {}
    }
    if code != frame_type {
        return Err("unexpected_frame");
    }
    let body = &input[start..];
    if body.len() != len {
        return Err("wrong_length");
    }
    Ok(body)
}

#[track_caller]
fn assert_class<T: std::fmt::Debug>(got: &Result<T, CryptoError>, allowed: &[&str]) {
    if let Err(e) = got {
        assert!(
            allowed.contains(&e.class()),
            "unexpected error {e} ({})",
            e.class()
        );
    }
}

/// Decodes `input` as the message `index` and checks the prediction;
/// returns the body if it decoded, with its element validation result.
fn decode_message(index: usize, input: &[u8]) -> Option<(Vec<u8>, Result<(), CryptoError>)> {
    macro_rules! run {
        ($ty:ident) => {{
            let got = $ty::from_frame(input);
            let predicted = predict_frame(input, $ty::FRAME_TYPE.code(), $ty::LEN);
            match (&got, predicted) {
                (Ok(m), Ok(body)) => {
                    assert_eq!(&m.as_bytes()[..], body);
                    assert_eq!(m.to_frame(), input, "re-encodes identically");
                    assert_eq!(&$ty::from_bytes(body).unwrap(), m);
                    Some((body.to_vec(), m.validate()))
                }
                (Err(e), Err(class)) => {
                    assert_eq!(e.class(), class, "{e}");
                    None
                }
                _ => panic!("got {got:?}, predicted {predicted:?}"),
            }
        }};
    }
    let (name, _, _, offsets) = MESSAGES[index];
    let decoded = match name {
        "registration_request" => run!(RegistrationRequest),
        "registration_response" => run!(RegistrationResponse),
        "registration_record" => run!(RegistrationRecord),
        "ke1" => run!(Ke1),
        "ke2" => run!(Ke2),
        _ => run!(Ke3),
    };
    if let Some((body, valid)) = &decoded {
        assert_class(valid, &["invalid_element"]);
        // The identity element is never valid; all-valid bodies stay valid
        // when a non-element byte changes.
        if offsets.iter().any(|&o| body[o..o + 32] == [0; 32]) {
            assert!(valid.is_err(), "identity element accepted");
        }
    }
    decoded
}

/// The stored record parser: the §5.1 checks predicted in order;
/// accepted ⇒ re-encodes identically.
fn stored_record(input: &[u8]) {
    let got = ServerRecord::<Suite>::from_bytes(input);
    let predicted: Result<(), &str> = (|| {
        let version = *input.first().ok_or("truncated")?;
        if version != 1 {
            return Err("unknown_version");
        }
        let suite = *input.get(1).ok_or("truncated")?;
        if suite != 0xff {
            return Err("unknown_suite");
        }
        Ok(())
    })();
    match (&got, predicted) {
        (Ok(record), Ok(())) => {
            assert_eq!(input.len(), RECORD_LEN);
            assert_eq!(record.to_bytes(), input);
            assert_eq!(&record.upload().as_bytes()[..], &input[4..]);
        }
        (Err(e), Ok(())) => assert!(
            [
                "truncated",
                "trailing_bytes",
                "wrong_length",
                "invalid_element",
                "invalid_length_prefix",
                "non_minimal_length",
                "too_many_items"
            ]
            .contains(&e.class()),
            "{e}"
        ),
        (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e}"),
        (Ok(_), Err(class)) => panic!("accepted, predicted {class}"),
    }
    if input.len() == RECORD_LEN && input[..4] == [1, 0xff, 0x40, 0xc0] {
        let upload = RegistrationRecord::from_bytes(&input[4..]).unwrap();
        assert_eq!(got.is_ok(), upload.validate().is_ok());
    }
}

/// The server keys parser: length, version, suite as predicted; accepted
/// ⇒ re-encodes identically.
fn server_keys(input: &[u8]) {
    let got = Server::<Suite>::keys_from_bytes(input, Binding::default());
    let predicted = if input.len() != KEYS_LEN {
        Err("wrong_length")
    } else if input[0] != 1 {
        Err("unknown_version")
    } else if input[1] != 0xff {
        Err("unknown_suite")
    } else {
        Ok(())
    };
    match (&got, predicted) {
        (Ok(server), Ok(())) => assert_eq!(&server.keys_to_bytes()[..], input),
        (Err(e), Ok(())) => assert_eq!(e.class(), "invalid_config", "{e}"),
        (Err(e), Err(class)) => assert_eq!(e.class(), class, "{e}"),
        (Ok(_), Err(class)) => panic!("accepted, predicted {class}"),
    }
}

/// `opaque_messages`: `[selector] bytes`. Selector mod 8: 0-5 decode
/// `bytes` as the frame of [`MESSAGES`]`[selector]`, 6 as a stored record,
/// 7 as server keys. Frame outcomes (down to the class) are predicted
/// independently; accepted frames re-encode identically and element
/// validation only fails with `invalid_element` (always for an identity
/// element); stored formats follow §5 in order and round-trip.
pub fn opaque_messages(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    match selector % 8 {
        index @ 0..=5 => {
            decode_message(usize::from(index), input);
        }
        6 => stored_record(input),
        _ => server_keys(input),
    }
}

/// XORs `mask` (cycled; empty: unchanged) into `genuine`.
fn masked(genuine: &[u8], mask: &[u8]) -> Vec<u8> {
    genuine
        .iter()
        .zip(mask.iter().cycle().chain(std::iter::repeat(&0)))
        .map(|(g, m)| g ^ m)
        .collect()
}

/// Mode bit 0 of the login and registration targets: the rest of the
/// input is an XOR mask over the genuine message body (structure-aware,
/// reaches the MAC checks); clear: the rest is a frame.
pub const MASK: u8 = 0x01;

/// The frame a target feeds: the masked genuine body in a frame, or the
/// input itself.
fn delivered(mode: u8, genuine: &[u8], frame_type: FrameType, rest: &[u8]) -> Vec<u8> {
    if mode & MASK != 0 {
        let body = masked(genuine, rest);
        let mut out = vec![1];
        out.extend_from_slice(&frame_type.code().to_be_bytes());
        let len = body.len();
        if len < 64 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
        }
        out.extend_from_slice(&body);
        out
    } else {
        rest.to_vec()
    }
}

const DECODE_CLASSES: [&str; 10] = [
    "truncated",
    "trailing_bytes",
    "frame_too_large",
    "unknown_version",
    "unknown_frame_type",
    "unexpected_frame",
    "wrong_length",
    "invalid_length_prefix",
    "non_minimal_length",
    "invalid_element",
];

/// `opaque_client_login`: `[mode] rest`, KE2 delivered to a client login
/// started with the fixed randomness (see [`MASK`]). Only the genuine KE2
/// finishes, with the genuine KE3, session key and export key; anything
/// else that decodes with valid elements is `login_failed`.
pub fn opaque_client_login(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let frame = delivered(mode, f.ke2.as_bytes(), FrameType::OpaqueKe2, rest);
    let (login, ke1) =
        ClientLogin::start_derand(&f.login_randomness, &f.config, f.password).unwrap();
    assert_eq!(ke1, f.ke1, "deterministic KE1");
    let decoded = decode_message(4, &frame);
    let got = Ke2::from_frame(&frame).and_then(|ke2| login.finish(&ke2));
    assert_class(&got, &[&DECODE_CLASSES[..], &["login_failed"]].concat());
    match (&got, decoded) {
        (Ok(out), Some((body, valid))) => {
            assert!(valid.is_ok());
            assert_eq!(
                &body[..],
                &f.ke2.as_bytes()[..],
                "a forged KE2 was accepted"
            );
            assert_eq!(out.ke3, f.ke3);
            assert_eq!(out.session_key.as_bytes(), &f.session_key);
            assert_eq!(out.export_key.as_bytes(), &f.export_key);
            assert_eq!(out.server_public_key, f.server.public_key());
        }
        (Err(e), Some((body, valid))) => {
            assert_ne!(
                &body[..],
                &f.ke2.as_bytes()[..],
                "the genuine KE2 failed: {e}"
            );
            let class = if valid.is_err() {
                "invalid_element"
            } else {
                "login_failed"
            };
            assert_eq!(e.class(), class, "{e}");
        }
        (Err(_), None) => {}
        (Ok(_), None) => panic!("accepted an undecodable KE2"),
    }
}

/// `opaque_server_login`: `[mode] rest`. Bit 1 of `mode` set: `rest` is a
/// KE1 frame (bit 0 ignored), answered from the user's record (bit 2 clear)
/// or as an unknown user (bit 2 set), followed by the genuine KE3. Bit 1
/// clear: the genuine KE1, then KE3 delivered as [`MASK`] says. Only the
/// genuine KE1 and KE3 give the session key; every KE3 or KE1 after the
/// end is `wrong_state`.
pub fn opaque_server_login(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let record = (mode & 0x04 == 0).then_some(&f.record);
    let mut login = f.server.login();
    let (ke1_frame, ke3_frame) = if mode & 0x02 != 0 {
        (rest.to_vec(), f.ke3.to_frame())
    } else {
        (
            f.ke1.to_frame(),
            delivered(mode, f.ke3.as_bytes(), FrameType::OpaqueKe3, rest),
        )
    };
    let decoded = decode_message(3, &ke1_frame);
    let ke2 = Ke1::from_frame(&ke1_frame).and_then(|ke1| {
        login.handle_ke1_derand(&f.server_randomness, record, f.credential_identifier, &ke1)
    });
    assert_class(&ke2, &DECODE_CLASSES);
    match (&ke2, &decoded) {
        (Ok(ke2), Some((body, valid))) => {
            assert!(valid.is_ok());
            assert_eq!(ke2.validate().map_err(|e| e.class()), Ok(()));
            assert_eq!(
                body == &f.ke1.as_bytes()[..] && record.is_some(),
                *ke2 == f.ke2
            );
        }
        (Err(e), Some((_, valid))) => {
            assert_eq!(e.class(), "invalid_element", "{e}");
            assert!(valid.is_err());
        }
        (Err(_), None) => {}
        (Ok(_), None) => panic!("accepted an undecodable KE1"),
    }
    if ke2.is_err() {
        let again = login.handle_ke3(&f.ke3);
        assert_eq!(again.unwrap_err().class(), "wrong_state");
        return;
    }
    let genuine_ke1 = ke1_frame == f.ke1.to_frame() && record.is_some();
    let got = Ke3::from_frame(&ke3_frame).and_then(|ke3| login.handle_ke3(&ke3));
    let decoded_ke3 = decode_message(5, &ke3_frame);
    match (&got, decoded_ke3) {
        (Ok(key), Some((body, _))) => {
            assert!(
                genuine_ke1 && body == f.ke3.as_bytes(),
                "a forged login finished"
            );
            assert_eq!(key.as_bytes(), &f.session_key);
        }
        (Err(e), Some((body, _))) => {
            assert!(
                !(genuine_ke1 && body == f.ke3.as_bytes()),
                "the genuine login failed: {e}"
            );
            assert_eq!(e.class(), "login_failed", "{e}");
        }
        (Err(e), None) => {
            assert!(DECODE_CLASSES.contains(&e.class()), "{e}");
            // The KE3 frame never reached the state machine: it still waits.
            let genuine = login.handle_ke3(&f.ke3);
            assert_eq!(genuine.is_ok(), genuine_ke1, "{genuine:?}");
            return;
        }
        (Ok(_), None) => panic!("accepted an undecodable KE3"),
    }
    for _ in 0..2 {
        assert_eq!(login.handle_ke3(&f.ke3).unwrap_err().class(), "wrong_state");
        let ke1 = f.ke1.clone();
        let replay =
            login.handle_ke1_derand(&f.server_randomness, record, f.credential_identifier, &ke1);
        assert_eq!(replay.unwrap_err().class(), "wrong_state");
    }
}

/// `opaque_registration`: `[mode] rest`. Mode bits 1-2: 0 the server
/// answers a RegistrationRequest, 1 the client finishes with a
/// RegistrationResponse, 2 the server stores an upload (bit 0 as
/// [`MASK`] in each). The genuine message reproduces the genuine output;
/// responses are deterministic; a changed evaluation never gives the
/// genuine export key, a changed response never the genuine record.
pub fn opaque_registration(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    match (mode >> 1) % 3 {
        0 => {
            let frame = delivered(
                mode,
                f.request.as_bytes(),
                FrameType::OpaqueRegistrationRequest,
                rest,
            );
            let decoded = decode_message(0, &frame);
            let answer = |frame: &[u8]| {
                RegistrationRequest::from_frame(frame)
                    .and_then(|r| f.server.registration_response(&r, f.credential_identifier))
            };
            let got = answer(&frame);
            assert_class(&got, &DECODE_CLASSES);
            if let Ok(response) = &got {
                let (body, valid) = decoded.expect("decoded");
                assert!(valid.is_ok());
                assert_eq!(response.as_bytes()[32..], f.server.public_key());
                assert_eq!(answer(&frame).unwrap(), *response, "deterministic");
                assert_eq!(body == f.request.as_bytes(), *response == f.response);
            }
        }
        1 => {
            let frame = delivered(
                mode,
                f.response.as_bytes(),
                FrameType::OpaqueRegistrationResponse,
                rest,
            );
            let decoded = decode_message(1, &frame);
            let (state, request) =
                ClientRegistration::start_derand(&f.registration_randomness, &f.config, f.password)
                    .unwrap();
            assert_eq!(request, f.request);
            let got = RegistrationResponse::from_frame(&frame).and_then(|r| state.finish(&r));
            assert_class(&got, &DECODE_CLASSES);
            match (&got, decoded) {
                (Ok(out), Some((body, valid))) => {
                    assert!(valid.is_ok());
                    let genuine = body == f.response.as_bytes();
                    assert_eq!(genuine, out.record == f.upload);
                    // The export key depends on the evaluation only, the
                    // envelope also on the server key.
                    let same_evaluation = body[..32] == f.response.as_bytes()[..32];
                    assert_eq!(same_evaluation, out.export_key.as_bytes() == &f.export_key);
                    assert_eq!(out.server_public_key[..], body[32..]);
                    assert_eq!(out.record.as_bytes()[96..128], [0x11; 32], "envelope nonce");
                }
                (Err(e), Some((body, valid))) => {
                    assert_eq!(e.class(), "invalid_element", "{e}");
                    assert!(
                        valid.is_err() || body[..32] == f.request.as_bytes()[..],
                        "{e}"
                    );
                }
                (Err(_), None) => {}
                (Ok(_), None) => panic!("accepted an undecodable response"),
            }
        }
        _ => {
            let frame = delivered(
                mode,
                f.upload.as_bytes(),
                FrameType::OpaqueRegistrationRecord,
                rest,
            );
            let decoded = decode_message(2, &frame);
            let got = RegistrationRecord::from_frame(&frame)
                .and_then(|u| f.server.registration_finish(&u));
            assert_class(&got, &DECODE_CLASSES);
            if let Ok(record) = &got {
                let (body, valid) = decoded.expect("decoded");
                assert!(valid.is_ok());
                let stored = record.to_bytes();
                assert_eq!(stored[..4], [1, 0xff, 0x40, 0xc0]);
                assert_eq!(stored[4..], body[..]);
                assert_eq!(
                    ServerRecord::<Suite>::from_bytes(&stored)
                        .unwrap()
                        .to_bytes(),
                    stored
                );
            }
        }
    }
}
