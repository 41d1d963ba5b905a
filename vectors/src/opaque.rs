//! `opaque.json`: vectors for OPAQUE password login (`spec/08-opaque.md`):
//! registration + login transcripts with every random value fixed (Argon2id
//! with small test parameters, with the production parameters, and the
//! test-only Identity KSF with explicit identities), logins that must fail
//! (wrong password, unknown user, tampered KE2 and KE3), replays into a
//! finished server login, and decoding negatives for the six messages, the
//! stored record and the server keys. The expected values are re-derived by
//! `vectors/independent/check_opaque.py`; the RFC 9807 vectors run through
//! the same Rust code in `qpc-crypto/tests/opaque_rfc9807.rs`.

use qpc_crypto::opaque::{
    Argon2idParams, Argon2idSuite, Binding, ClientConfig, ClientLogin, ClientLoginRandomness,
    ClientRegistration, IdentityKsfSuite, Ke1, Ke2, Ke3, RegistrationRandomness,
    RegistrationRecord, RegistrationRequest, RegistrationResponse, Server, ServerLoginRandomness,
    ServerRecord, Suite,
};
use serde::{Deserialize, Serialize};

use crate::{deterministic_bytes, expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `opaque.json`.
pub const PROTOCOL: &str = "qpc-opaque";

/// Small Argon2id parameters used by most vectors, for speed. **Test
/// parameters only**; production is m = 19456 KiB, t = 2, p = 1.
pub const TEST_ARGON2ID: Argon2idParams = Argon2idParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// One vector of `opaque.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpaqueVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: OpaqueCase,
}

/// The kinds of OPAQUE vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpaqueCase {
    /// Registration (optional) then one login, with fixed randomness.
    Login(Box<LoginCase>),
    /// Decoding one message, stored record or server key set.
    Decode(DecodeCase),
}

/// Argon2id cost parameters as stored in a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2idJson {
    /// `m` in KiB.
    pub memory_kib: u32,
    /// `t`.
    pub iterations: u32,
    /// `p`.
    pub parallelism: u32,
}

/// The server's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerKeysJson {
    /// The AKE private key (scalar, little-endian).
    #[serde(with = "hex::serde")]
    pub private_key: Vec<u8>,
    /// The 64-byte OPRF seed.
    #[serde(with = "hex::serde")]
    pub oprf_seed: Vec<u8>,
    /// The private key whose public key fake records carry.
    #[serde(with = "hex::serde")]
    pub fake_private_key: Vec<u8>,
    /// Derived: the server's public key.
    #[serde(with = "hex::serde")]
    pub public_key: Vec<u8>,
    /// Derived: the stored server keys (§5.2).
    #[serde(with = "hex::serde")]
    pub stored_keys: Vec<u8>,
}

/// A registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationJson {
    /// The password registered.
    #[serde(with = "hex::serde")]
    pub password: Vec<u8>,
    /// The OPRF blind.
    #[serde(with = "hex::serde")]
    pub blind: Vec<u8>,
    /// The envelope nonce.
    #[serde(with = "hex::serde")]
    pub envelope_nonce: Vec<u8>,
    /// Derived: the RegistrationRequest frame.
    #[serde(with = "hex::serde")]
    pub request_frame: Vec<u8>,
    /// Derived: the RegistrationResponse frame.
    #[serde(with = "hex::serde")]
    pub response_frame: Vec<u8>,
    /// Derived: the RegistrationRecord (upload) frame.
    #[serde(with = "hex::serde")]
    pub record_frame: Vec<u8>,
    /// Derived: the stored record (§5.1).
    #[serde(with = "hex::serde")]
    pub stored_record: Vec<u8>,
    /// Derived: the export key.
    #[serde(with = "hex::serde")]
    pub export_key: Vec<u8>,
}

/// Flip bits of one byte of a message body before delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tamper {
    /// Offset into the message body.
    pub offset: usize,
    /// The byte XORed in (non-zero).
    pub xor: u8,
}

/// An input fed to the server login after it finished or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// `"ke1"` or `"ke3"`: which frame of this transcript is fed again.
    pub message: String,
    /// The error class the server must report.
    pub expected_error: String,
}

/// One login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    /// The password the client types.
    #[serde(with = "hex::serde")]
    pub password: Vec<u8>,
    /// Client: the OPRF blind.
    #[serde(with = "hex::serde")]
    pub blind: Vec<u8>,
    /// Client: the ephemeral key seed.
    #[serde(with = "hex::serde")]
    pub client_keyshare_seed: Vec<u8>,
    /// Client: the nonce.
    #[serde(with = "hex::serde")]
    pub client_nonce: Vec<u8>,
    /// Server: the fake record's masking key (drawn for every login).
    #[serde(with = "hex::serde")]
    pub fake_masking_key: Vec<u8>,
    /// Server: the masking nonce.
    #[serde(with = "hex::serde")]
    pub masking_nonce: Vec<u8>,
    /// Server: the ephemeral key seed.
    #[serde(with = "hex::serde")]
    pub server_keyshare_seed: Vec<u8>,
    /// Server: the nonce.
    #[serde(with = "hex::serde")]
    pub server_nonce: Vec<u8>,
    /// If set, KE2 is altered on its way to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ke2_tamper: Option<Tamper>,
    /// If set, KE3 is altered on its way to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ke3_tamper: Option<Tamper>,
    /// The class the client's finish must fail with (then no KE3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_expected_error: Option<String>,
    /// The class the server's KE3 check must fail with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_expected_error: Option<String>,
    /// Inputs fed to the server login after it finished or failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replays: Vec<Replay>,
    /// Derived: the KE1 frame.
    #[serde(with = "hex::serde")]
    pub ke1_frame: Vec<u8>,
    /// Derived: the KE2 frame the server sends.
    #[serde(with = "hex::serde")]
    pub ke2_frame: Vec<u8>,
    /// Derived: the KE3 frame the client sends (if its finish succeeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ke3_frame: Option<HexBytes>,
    /// Derived: the session key (both sides, successful logins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<HexBytes>,
    /// Derived: the client's export key (successful client finish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_key: Option<HexBytes>,
}

/// Registration (absent: an unknown user) and login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginCase {
    /// Suite id: 1 (Argon2id) or 255 (test-only Identity KSF).
    pub suite: u8,
    /// Suite 1: the Argon2id parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argon2id: Option<Argon2idJson>,
    /// The context string.
    #[serde(with = "hex::serde")]
    pub context: Vec<u8>,
    /// Explicit client identity, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_identity: Option<HexBytes>,
    /// Explicit server identity, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_identity: Option<HexBytes>,
    /// The server's keys.
    pub server: ServerKeysJson,
    /// The credential identifier the server looks the user up by.
    #[serde(with = "hex::serde")]
    pub credential_identifier: Vec<u8>,
    /// The registration; absent means the user is unknown to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationJson>,
    /// The login.
    pub login: LoginJson,
}

/// What a decode vector decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeCase {
    /// `registration_request`, `registration_response`,
    /// `registration_record`, `ke1`, `ke2`, `ke3` (a frame), `stored_record`
    /// or `server_keys` (raw bytes, suite 1).
    pub message: String,
    /// The bytes.
    #[serde(with = "hex::serde")]
    pub encoding: Vec<u8>,
    /// The class the decoder must fail with; absent: the input is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_error: Option<String>,
}

fn array<const N: usize>(what: &str, bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("{what}: {} bytes, want {N}", bytes.len()))
}

fn tampered(frame: &[u8], body_len: usize, tamper: Option<Tamper>) -> Vec<u8> {
    let mut frame = frame.to_vec();
    if let Some(t) = tamper {
        let header = frame.len() - body_len;
        frame[header + t.offset] ^= t.xor;
    }
    frame
}

/// Compares an outcome with an optional expected error class: `Ok(Some)`
/// when it succeeded as expected, `Ok(None)` when it failed as expected.
fn outcome<T: std::fmt::Debug>(
    what: &str,
    expected_error: &Option<String>,
    got: Result<T, qpc_crypto::Error>,
) -> Result<Option<T>, String> {
    match expected_error {
        Some(class) => expect_error(class, got)
            .map(|()| None)
            .map_err(|e| format!("{what}: {e}")),
        None => got.map(Some).map_err(|e| format!("{what}: {e}")),
    }
}

impl LoginCase {
    fn binding(&self) -> Binding {
        Binding {
            context: self.context.clone(),
            client_identity: self.client_identity.as_ref().map(|h| h.0.clone()),
            server_identity: self.server_identity.as_ref().map(|h| h.0.clone()),
        }
    }

    /// Runs the transcript and fills in every derived field.
    fn compute(&self) -> Result<LoginCase, String> {
        match (self.suite, self.argon2id) {
            (1, Some(p)) => {
                let params = Argon2idParams {
                    memory_kib: p.memory_kib,
                    iterations: p.iterations,
                    parallelism: p.parallelism,
                };
                let mut config = ClientConfig::argon2id(params).map_err(|e| e.to_string())?;
                config.binding = self.binding();
                self.run::<Argon2idSuite>(&config)
            }
            (255, None) => {
                self.run::<IdentityKsfSuite>(&ClientConfig::identity_ksf(self.binding()))
            }
            (suite, _) => Err(format!("unsupported suite {suite} / KSF combination")),
        }
    }

    fn run<S: Suite>(&self, config: &ClientConfig<S>) -> Result<LoginCase, String> {
        let e = |e: qpc_crypto::Error| e.to_string();
        let mut out = self.clone();
        let keys = &self.server;
        let server = Server::<S>::from_keys(
            &array("private_key", &keys.private_key)?,
            &array("oprf_seed", &keys.oprf_seed)?,
            &array("fake_private_key", &keys.fake_private_key)?,
            self.binding(),
        )
        .map_err(e)?;
        out.server.public_key = server.public_key().to_vec();
        out.server.stored_keys = server.keys_to_bytes().to_vec();

        let cid = &self.credential_identifier;
        let mut record = None;
        if let Some(reg) = &self.registration {
            let randomness = RegistrationRandomness {
                blind: array("blind", &reg.blind)?,
                envelope_nonce: array("envelope_nonce", &reg.envelope_nonce)?,
            };
            let (state, request) =
                ClientRegistration::start_derand(&randomness, config, &reg.password).map_err(e)?;
            let request_frame = request.to_frame();
            let request = RegistrationRequest::from_frame(&request_frame).map_err(e)?;
            let response = server.registration_response(&request, cid).map_err(e)?;
            let response_frame = response.to_frame();
            let registered = state
                .finish(&RegistrationResponse::from_frame(&response_frame).map_err(e)?)
                .map_err(e)?;
            let record_frame = registered.record.to_frame();
            let stored = server
                .registration_finish(&RegistrationRecord::from_frame(&record_frame).map_err(e)?)
                .map_err(e)?
                .to_bytes();
            let r = out.registration.as_mut().expect("cloned");
            r.request_frame = request_frame;
            r.response_frame = response_frame;
            r.record_frame = record_frame;
            r.export_key = registered.export_key.as_bytes().to_vec();
            record = Some(ServerRecord::<S>::from_bytes(&stored).map_err(e)?);
            r.stored_record = stored;
        }

        let l = &self.login;
        let randomness = ClientLoginRandomness {
            blind: array("blind", &l.blind)?,
            keyshare_seed: array("client_keyshare_seed", &l.client_keyshare_seed)?,
            nonce: array("client_nonce", &l.client_nonce)?,
        };
        let (client, ke1) =
            ClientLogin::start_derand(&randomness, config, &l.password).map_err(e)?;
        let ke1_frame = ke1.to_frame();
        let server_randomness = ServerLoginRandomness {
            fake_masking_key: array("fake_masking_key", &l.fake_masking_key)?,
            masking_nonce: array("masking_nonce", &l.masking_nonce)?,
            keyshare_seed: array("server_keyshare_seed", &l.server_keyshare_seed)?,
            nonce: array("server_nonce", &l.server_nonce)?,
        };
        let mut server_login = server.login();
        let ke2 = server_login
            .handle_ke1_derand(
                &server_randomness,
                record.as_ref(),
                cid,
                &Ke1::from_frame(&ke1_frame).map_err(e)?,
            )
            .map_err(e)?;
        let ke2_frame = ke2.to_frame();
        let delivered = tampered(&ke2_frame, Ke2::LEN, l.ke2_tamper);
        let finished = outcome(
            "client finish",
            &l.client_expected_error,
            Ke2::from_frame(&delivered).and_then(|ke2| client.finish(&ke2)),
        )?;
        let o = &mut out.login;
        o.ke1_frame = ke1_frame.clone();
        o.ke2_frame = ke2_frame;
        o.ke3_frame = None;
        o.session_key = None;
        o.export_key = None;
        if let Some(finished) = finished {
            let ke3_frame = finished.ke3.to_frame();
            let delivered = tampered(&ke3_frame, Ke3::LEN, l.ke3_tamper);
            let session_key = outcome(
                "server KE3",
                &l.server_expected_error,
                Ke3::from_frame(&delivered).and_then(|ke3| server_login.handle_ke3(&ke3)),
            )?;
            if let Some(key) = session_key {
                expect_eq(
                    "session keys agree",
                    key.as_bytes(),
                    finished.session_key.as_bytes(),
                )?;
                o.session_key = Some(HexBytes(key.as_bytes().to_vec()));
            }
            o.export_key = Some(HexBytes(finished.export_key.as_bytes().to_vec()));
            o.ke3_frame = Some(HexBytes(ke3_frame));
        } else if l.server_expected_error.is_some() {
            return Err("a server error needs a KE3".into());
        }
        for replay in &l.replays {
            let got = match (replay.message.as_str(), &o.ke3_frame) {
                ("ke1", _) => Ke1::from_frame(&ke1_frame)
                    .and_then(|ke1| {
                        server_login.handle_ke1_derand(
                            &server_randomness,
                            record.as_ref(),
                            cid,
                            &ke1,
                        )
                    })
                    .map(|_| ()),
                ("ke3", Some(frame)) => Ke3::from_frame(&frame.0)
                    .and_then(|ke3| server_login.handle_ke3(&ke3))
                    .map(|_| ()),
                (other, _) => return Err(format!("cannot replay {other:?}")),
            };
            expect_error(&replay.expected_error, got)
                .map_err(|e| format!("replayed {}: {e}", replay.message))?;
        }
        Ok(out)
    }
}

impl DecodeCase {
    fn decode(&self) -> Result<(), qpc_crypto::Error> {
        let b = &self.encoding[..];
        match self.message.as_str() {
            "registration_request" => RegistrationRequest::from_frame(b)?.validate(),
            "registration_response" => RegistrationResponse::from_frame(b)?.validate(),
            "registration_record" => RegistrationRecord::from_frame(b)?.validate(),
            "ke1" => Ke1::from_frame(b)?.validate(),
            "ke2" => Ke2::from_frame(b)?.validate(),
            "ke3" => Ke3::from_frame(b)?.validate(),
            "stored_record" => ServerRecord::<Argon2idSuite>::from_bytes(b).map(|_| ()),
            "server_keys" => {
                Server::<Argon2idSuite>::keys_from_bytes(b, Binding::default()).map(|_| ())
            }
            _ => Err(qpc_crypto::Error::Malformed(
                "unknown message name in vector",
            )),
        }
    }
}

impl Vector for OpaqueVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            OpaqueCase::Login(case) => {
                let computed = case.compute()?;
                let want = serde_json::to_value(case.as_ref()).expect("serialises");
                let got = serde_json::to_value(&computed).expect("serialises");
                first_difference("", &got, &want)
            }
            OpaqueCase::Decode(case) => match &case.expected_error {
                Some(class) => expect_error(class, case.decode()),
                None => case
                    .decode()
                    .map_err(|e| format!("valid input refused: {e}")),
            },
        }
    }
}

/// `Ok` if equal, else the path of the first differing field.
fn first_difference(
    path: &str,
    got: &serde_json::Value,
    want: &serde_json::Value,
) -> Result<(), String> {
    use serde_json::Value;
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for key in g.keys().chain(w.keys()) {
                let null = Value::Null;
                first_difference(
                    &format!("{path}.{key}"),
                    g.get(key).unwrap_or(&null),
                    w.get(key).unwrap_or(&null),
                )?;
            }
            Ok(())
        }
        _ if got == want => Ok(()),
        _ => Err(format!("{path}: got {got}, want {want}")),
    }
}

// ---------------------------------------------------------------------------
// Generation

fn bytes(label: &str, len: usize) -> Vec<u8> {
    deterministic_bytes(&format!("opaque {label}"), len)
}

/// A scalar in `1..l`: deterministic bytes with the top four bits cleared
/// (below 2^252 < l), never zero in practice (checked).
fn scalar(label: &str) -> Vec<u8> {
    let mut s = bytes(label, 32);
    s[31] &= 0x0f;
    assert!(s.iter().any(|&b| b != 0));
    s
}

fn server_keys(label: &str) -> ServerKeysJson {
    ServerKeysJson {
        private_key: scalar(&format!("{label} server private key")),
        oprf_seed: bytes(&format!("{label} oprf seed"), 64),
        fake_private_key: scalar(&format!("{label} fake private key")),
        public_key: Vec::new(),
        stored_keys: Vec::new(),
    }
}

fn registration(label: &str, password: &[u8]) -> RegistrationJson {
    RegistrationJson {
        password: password.to_vec(),
        blind: scalar(&format!("{label} registration blind")),
        envelope_nonce: bytes(&format!("{label} envelope nonce"), 32),
        request_frame: Vec::new(),
        response_frame: Vec::new(),
        record_frame: Vec::new(),
        stored_record: Vec::new(),
        export_key: Vec::new(),
    }
}

fn login(label: &str, password: &[u8]) -> LoginJson {
    LoginJson {
        password: password.to_vec(),
        blind: scalar(&format!("{label} login blind")),
        client_keyshare_seed: bytes(&format!("{label} client keyshare seed"), 32),
        client_nonce: bytes(&format!("{label} client nonce"), 32),
        fake_masking_key: bytes(&format!("{label} fake masking key"), 64),
        masking_nonce: bytes(&format!("{label} masking nonce"), 32),
        server_keyshare_seed: bytes(&format!("{label} server keyshare seed"), 32),
        server_nonce: bytes(&format!("{label} server nonce"), 32),
        ke2_tamper: None,
        ke3_tamper: None,
        client_expected_error: None,
        server_expected_error: None,
        replays: Vec::new(),
        ke1_frame: Vec::new(),
        ke2_frame: Vec::new(),
        ke3_frame: None,
        session_key: None,
        export_key: None,
    }
}

const PASSWORD: &[u8] = b"correct horse battery staple";
const USER: &[u8] = b"alice@example.org";

/// A qpc-profile case (suite 1, default binding) for `label`.
fn qpc_case(label: &str, params: Argon2idParams) -> LoginCase {
    LoginCase {
        suite: Argon2idSuite::ID,
        argon2id: Some(Argon2idJson {
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
        }),
        context: qpc_crypto::opaque::CONTEXT.to_vec(),
        client_identity: None,
        server_identity: None,
        server: server_keys(label),
        credential_identifier: USER.to_vec(),
        registration: Some(registration(label, PASSWORD)),
        login: login(label, PASSWORD),
    }
}

fn login_vector(name: &str, description: &str, case: LoginCase) -> OpaqueVector {
    let case = case.compute().unwrap_or_else(|e| panic!("{name}: {e}"));
    OpaqueVector {
        name: name.into(),
        description: description.into(),
        case: OpaqueCase::Login(Box::new(case)),
    }
}

fn logins() -> Vec<OpaqueVector> {
    let mut v = vec![
        login_vector(
            "login_argon2id_test_params",
            "registration and a successful login, suite 1 with Argon2id test parameters m=256 KiB, t=1, p=1 (not for production)",
            qpc_case("basic", TEST_ARGON2ID),
        ),
        login_vector(
            "login_argon2id_production_params",
            "registration and a successful login, suite 1 with the production Argon2id parameters m=19456 KiB, t=2, p=1",
            qpc_case("production", Argon2idParams::PRODUCTION),
        ),
    ];
    let mut identities = qpc_case("identities", TEST_ARGON2ID);
    identities.suite = IdentityKsfSuite::ID;
    identities.argon2id = None;
    identities.context = b"qpc/opaque/test".to_vec();
    identities.client_identity = Some(HexBytes(b"alice".to_vec()));
    identities.server_identity = Some(HexBytes(b"qpc.example".to_vec()));
    v.push(login_vector(
        "login_identity_ksf_explicit_identities",
        "test-only suite 255 (Identity KSF) with another context and explicit client and server identities",
        identities,
    ));

    let mut wrong = qpc_case("basic", TEST_ARGON2ID);
    wrong.login.password = b"correct horse battery stable".to_vec();
    wrong.login.client_expected_error = Some("login_failed".into());
    v.push(login_vector(
        "wrong_password",
        "the login uses another password: the client's finish fails with login_failed and sends no KE3",
        wrong,
    ));
    let mut unknown = qpc_case("basic", TEST_ARGON2ID);
    unknown.registration = None;
    unknown.login.client_expected_error = Some("login_failed".into());
    v.push(login_vector(
        "unknown_user",
        "the server has no record for the credential identifier and answers from a fake record (fake_private_key, fake_masking_key): KE2 has the normal length and the client fails with login_failed, the same class as a wrong password",
        unknown,
    ));
    for (name, offset, what) in [
        ("tampered_ke2_masking_nonce", 40, "the masking nonce"),
        ("tampered_ke2_masked_response", 100, "the masked response"),
        ("tampered_ke2_server_nonce", 200, "the server nonce"),
        ("tampered_ke2_server_mac", 300, "the server MAC"),
    ] {
        let mut case = qpc_case("basic", TEST_ARGON2ID);
        case.login.ke2_tamper = Some(Tamper { offset, xor: 0x01 });
        case.login.client_expected_error = Some("login_failed".into());
        v.push(login_vector(
            name,
            &format!("one bit of {what} in KE2 (body offset {offset}) flipped on the way: the client fails with login_failed"),
            case,
        ));
    }
    let mut ke3 = qpc_case("basic", TEST_ARGON2ID);
    ke3.login.ke3_tamper = Some(Tamper {
        offset: 5,
        xor: 0x80,
    });
    ke3.login.server_expected_error = Some("login_failed".into());
    ke3.login.replays = vec![Replay {
        message: "ke3".into(),
        expected_error: "wrong_state".into(),
    }];
    v.push(login_vector(
        "tampered_ke3",
        "one bit of KE3 flipped: the server fails with login_failed; the login is then dead, so the genuine KE3 afterwards gets wrong_state",
        ke3,
    ));
    let mut replay = qpc_case("basic", TEST_ARGON2ID);
    replay.login.replays = vec![
        Replay {
            message: "ke3".into(),
            expected_error: "wrong_state".into(),
        },
        Replay {
            message: "ke1".into(),
            expected_error: "wrong_state".into(),
        },
    ];
    v.push(login_vector(
        "replay_after_finish",
        "a successful login, then the same KE3 and the same KE1 fed again to the finished server login: both wrong_state",
        replay,
    ));
    v
}

fn decode(
    name: &str,
    description: &str,
    message: &str,
    encoding: Vec<u8>,
    expected_error: Option<&str>,
) -> OpaqueVector {
    OpaqueVector {
        name: name.into(),
        description: description.into(),
        case: OpaqueCase::Decode(DecodeCase {
            message: message.into(),
            encoding,
            expected_error: expected_error.map(Into::into),
        }),
    }
}

/// A frame with header version 1 and `frame_type`, unchecked.
fn raw_frame(version: u8, frame_type: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![version];
    out.extend_from_slice(&frame_type.to_be_bytes());
    let len = body.len();
    if len < 64 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&(0x4000 | len as u16).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

fn decodes(basic: &LoginCase) -> Vec<OpaqueVector> {
    let reg = basic.registration.as_ref().expect("registered");
    let ke1 = &basic.login.ke1_frame;
    let ke2 = &basic.login.ke2_frame;
    let ke3 = &basic.login.ke3_frame.as_ref().expect("finished").0;
    let record = &reg.stored_record;
    let keys = &basic.server.stored_keys;
    let body = |frame: &[u8], len: usize| frame[frame.len() - len..].to_vec();
    let ke1_body = &body(ke1, Ke1::LEN);
    let with = |bytes: &[u8], at: usize, value: &[u8]| {
        let mut b = bytes.to_vec();
        b[at..at + value.len()].copy_from_slice(value);
        b
    };
    let mut longer_record = record.clone();
    longer_record.push(0);
    vec![
        decode("decode_ke1_valid", "the KE1 frame of login_argon2id_test_params", "ke1", ke1.clone(), None),
        decode("decode_registration_record_valid", "the upload frame of login_argon2id_test_params", "registration_record", reg.record_frame.clone(), None),
        decode("decode_stored_record_valid", "the stored record of login_argon2id_test_params", "stored_record", record.clone(), None),
        decode("decode_server_keys_valid", "the stored server keys of login_argon2id_test_params", "server_keys", keys.clone(), None),
        decode("ke1_truncated_frame", "the KE1 frame without its last byte", "ke1", ke1[..ke1.len() - 1].to_vec(), Some("truncated")),
        decode("ke1_trailing_byte", "a zero byte after the KE1 frame", "ke1", [&ke1[..], &[0]].concat(), Some("trailing_bytes")),
        decode("ke1_short_body", "a KE1 frame whose body is 95 bytes", "ke1", raw_frame(1, 0x0113, &ke1_body[..95]), Some("wrong_length")),
        decode("ke3_long_body", "a KE3 frame whose body is 65 bytes", "ke3", raw_frame(1, 0x0115, &[&body(ke3, Ke3::LEN)[..], &[0][..]].concat()), Some("wrong_length")),
        decode("ke2_oversized_frame", "a KE2 frame announcing 321 bytes, above the 320-byte OPAQUE limit", "ke2", raw_frame(1, 0x0114, &[&body(ke2, Ke2::LEN)[..], &[0][..]].concat()), Some("frame_too_large")),
        decode("ke2_given_ke3_frame", "a KE3 frame where KE2 is expected", "ke2", ke3.clone(), Some("unexpected_frame")),
        decode("ke1_frame_version_2", "the KE1 frame with header version 2", "ke1", with(ke1, 0, &[2]), Some("unknown_version")),
        decode("ke1_identity_blinded_element", "KE1 whose blinded element is the identity (32 zero bytes)", "ke1", raw_frame(1, 0x0113, &with(ke1_body, 0, &[0; 32])), Some("invalid_element")),
        decode("ke1_non_canonical_keyshare", "KE1 whose client keyshare is not a canonical encoding (all 0xff)", "ke1", raw_frame(1, 0x0113, &with(ke1_body, 64, &[0xff; 32])), Some("invalid_element")),
        decode("registration_request_identity", "a RegistrationRequest holding the identity element", "registration_request", raw_frame(1, 0x0110, &[0; 32]), Some("invalid_element")),
        decode("registration_response_bad_server_key", "a RegistrationResponse whose server public key is negative (odd s), not a canonical encoding", "registration_response", raw_frame(1, 0x0111, &with(&body(&reg.response_frame, RegistrationResponse::LEN), 32, &[1])), Some("invalid_element")),
        decode("stored_record_version_2", "a stored record with version 2", "stored_record", with(record, 0, &[2]), Some("unknown_version")),
        decode("stored_record_suite_255", "a record of the test-only suite 255 given to a suite-1 server", "stored_record", with(record, 1, &[0xff]), Some("unknown_suite")),
        decode("stored_record_truncated", "the stored record without its last byte", "stored_record", record[..record.len() - 1].to_vec(), Some("truncated")),
        decode("stored_record_trailing_byte", "a zero byte after the stored record", "stored_record", longer_record, Some("trailing_bytes")),
        decode("stored_record_short_registration", "a record whose registration is 191 bytes", "stored_record", [&[1, 1, 0x40, 0xbf][..], &record[4..195]].concat(), Some("wrong_length")),
        decode("stored_record_identity_client_key", "a record whose client public key is the identity", "stored_record", with(record, 4, &[0; 32]), Some("invalid_element")),
        decode("server_keys_version_2", "server keys with version 2", "server_keys", with(keys, 0, &[2]), Some("unknown_version")),
        decode("server_keys_truncated", "server keys without the last byte", "server_keys", keys[..keys.len() - 1].to_vec(), Some("wrong_length")),
        decode("server_keys_zero_private_key", "server keys whose private key is zero", "server_keys", with(keys, 66, &[0; 32]), Some("invalid_config")),
        decode("server_keys_identity_fake_key", "server keys whose fake-record public key is the identity", "server_keys", with(keys, 98, &[0; 32]), Some("invalid_config")),
    ]
}

/// The file's JSON text.
pub fn generate() -> String {
    let mut vectors = logins();
    let OpaqueCase::Login(basic) = &vectors[0].case else {
        unreachable!("the first vector is a login")
    };
    let basic = basic.as_ref().clone();
    vectors.extend(decodes(&basic));
    crate::checked_file(PROTOCOL, "spec/08-opaque.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let _file = crate::assert_sound_generation::<OpaqueVector>(generate);
    }

    #[test]
    fn a_changed_expectation_is_caught() {
        let text = generate();
        let file: crate::VectorFile<OpaqueVector> = serde_json::from_str(&text).unwrap();
        let mut v = file.vectors[0].clone();
        let OpaqueCase::Login(case) = &mut v.case else {
            panic!()
        };
        case.login.session_key.as_mut().unwrap().0[0] ^= 1;
        assert!(v.check().unwrap_err().contains("session_key"));
    }
}
