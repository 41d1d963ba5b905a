//! OPAQUE state machines end to end: success with Argon2id (small and
//! production parameters), and every failure the spec names.

use qpc_crypto::opaque::{
    Argon2idParams, Argon2idSuite, Binding, ClientConfig, ClientLogin, ClientRegistration, Ke2,
    Ke3, Server, ServerRecord,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const SMALL: Argon2idParams = Argon2idParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

struct Setup {
    rng: ChaCha20Rng,
    config: ClientConfig<Argon2idSuite>,
    server: Server<Argon2idSuite>,
    record: ServerRecord<Argon2idSuite>,
}

fn register(params: Argon2idParams, password: &[u8]) -> Setup {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let config = ClientConfig::argon2id(params).unwrap();
    let server = Server::generate(&mut rng, Binding::default()).unwrap();
    let (registration, request) = ClientRegistration::start(&mut rng, &config, password).unwrap();
    let response = server.registration_response(&request, b"alice").unwrap();
    let registered = registration.finish(&response).unwrap();
    let record = server.registration_finish(&registered.record).unwrap();
    let stored = ServerRecord::<Argon2idSuite>::from_bytes(&record.to_bytes()).unwrap();
    Setup {
        rng,
        config,
        server,
        record: stored,
    }
}

#[test]
fn login_with_production_argon2id() {
    let mut s = register(Argon2idParams::PRODUCTION, b"correct horse");
    let (login, ke1) = ClientLogin::start(&mut s.rng, &s.config, b"correct horse").unwrap();
    let mut server_login = s.server.login();
    let ke2 = server_login
        .handle_ke1(&mut s.rng, Some(&s.record), b"alice", &ke1)
        .unwrap();
    let client = login.finish(&ke2).unwrap();
    let key = server_login.handle_ke3(&client.ke3).unwrap();
    assert_eq!(key, client.session_key);
    assert_eq!(client.server_public_key, s.server.public_key());
}

#[test]
fn wrong_password_and_unknown_user_fail_alike() {
    let mut s = register(SMALL, b"right");
    // Wrong password.
    let (login, ke1) = ClientLogin::start(&mut s.rng, &s.config, b"wrong").unwrap();
    let mut server_login = s.server.login();
    let ke2 = server_login
        .handle_ke1(&mut s.rng, Some(&s.record), b"alice", &ke1)
        .unwrap();
    assert_eq!(login.finish(&ke2).unwrap_err().class(), "login_failed");
    // Unknown user: the server answers with a fake record.
    let (login, ke1) = ClientLogin::start(&mut s.rng, &s.config, b"right").unwrap();
    let ke2 = s
        .server
        .login()
        .handle_ke1(&mut s.rng, None, b"mallory", &ke1)
        .unwrap();
    assert_eq!(ke2.as_bytes().len(), Ke2::LEN);
    assert_eq!(login.finish(&ke2).unwrap_err().class(), "login_failed");
}

#[test]
fn tampering_and_replay_are_refused() {
    let mut s = register(SMALL, b"pw");
    let (login, ke1) = ClientLogin::start(&mut s.rng, &s.config, b"pw").unwrap();
    let mut server_login = s.server.login();
    assert_eq!(
        server_login
            .handle_ke3(&Ke3::from_bytes(&[0; 64]).unwrap())
            .unwrap_err()
            .class(),
        "wrong_state"
    );
    let ke2 = server_login
        .handle_ke1(&mut s.rng, Some(&s.record), b"alice", &ke1)
        .unwrap();
    // Every byte of KE2's MAC and masked response matters to the client.
    for i in [40, 100, 300, 319] {
        let (login, _) = ClientLogin::start(&mut s.rng, &s.config, b"pw").unwrap();
        let mut bad = *ke2.as_bytes();
        bad[i] ^= 1;
        let err = login.finish(&Ke2::from_bytes(&bad).unwrap()).unwrap_err();
        assert!(
            matches!(err.class(), "login_failed" | "invalid_element"),
            "{err}"
        );
    }
    let client = login.finish(&ke2).unwrap();
    // A tampered KE3 fails the login for good.
    let mut tampered = s.server.login();
    let (login2, ke1b) = ClientLogin::start(&mut s.rng, &s.config, b"pw").unwrap();
    let ke2b = tampered
        .handle_ke1(&mut s.rng, Some(&s.record), b"alice", &ke1b)
        .unwrap();
    let ke3b = login2.finish(&ke2b).unwrap().ke3;
    let mut bad_b = *ke3b.as_bytes();
    bad_b[5] ^= 0x80;
    assert_eq!(
        tampered
            .handle_ke3(&Ke3::from_bytes(&bad_b).unwrap())
            .unwrap_err()
            .class(),
        "login_failed"
    );
    assert_eq!(
        tampered.handle_ke3(&ke3b).unwrap_err().class(),
        "wrong_state"
    );
    // The honest login finishes once; replays are refused.
    server_login.handle_ke3(&client.ke3).unwrap();
    assert_eq!(
        server_login.handle_ke3(&client.ke3).unwrap_err().class(),
        "wrong_state"
    );
    assert_eq!(
        server_login
            .handle_ke1(&mut s.rng, Some(&s.record), b"alice", &ke1)
            .unwrap_err()
            .class(),
        "wrong_state"
    );
}

#[test]
fn server_keys_round_trip() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let server = Server::<Argon2idSuite>::generate(&mut rng, Binding::default()).unwrap();
    let bytes = server.keys_to_bytes();
    let again = Server::<Argon2idSuite>::keys_from_bytes(&bytes, Binding::default()).unwrap();
    assert_eq!(again.public_key(), server.public_key());
    assert_eq!(again.keys_to_bytes(), bytes);
    let mut other = bytes.to_vec();
    other[1] = 0xff;
    assert_eq!(
        Server::<Argon2idSuite>::keys_from_bytes(&other, Binding::default())
            .unwrap_err()
            .class(),
        "unknown_suite"
    );
}

#[test]
fn inputs_are_bounded() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let config = ClientConfig::argon2id(SMALL).unwrap();
    let class = |r: Result<
        (ClientLogin<'_, Argon2idSuite>, qpc_crypto::opaque::Ke1),
        qpc_crypto::Error,
    >| { r.unwrap_err().class() };
    assert_eq!(
        class(ClientLogin::start(&mut rng, &config, b"")),
        "malformed"
    );
    assert_eq!(
        class(ClientLogin::start(&mut rng, &config, &[b'x'; 1025])),
        "content_too_long"
    );
    assert!(ClientLogin::start(&mut rng, &config, &[b'x'; 1024]).is_ok());
    let server = Server::<Argon2idSuite>::generate(&mut rng, Binding::default()).unwrap();
    let (_, request) = ClientRegistration::start(&mut rng, &config, b"pw").unwrap();
    assert_eq!(
        server
            .registration_response(&request, &[0; 1025])
            .unwrap_err()
            .class(),
        "content_too_long"
    );
    // Blinds must be scalars in 1..l.
    let zero_blind = qpc_crypto::opaque::ClientLoginRandomness {
        blind: [0; 32],
        keyshare_seed: [1; 32],
        nonce: [2; 32],
    };
    assert_eq!(
        class(ClientLogin::start_derand(&zero_blind, &config, b"pw")),
        "invalid_config"
    );
}
