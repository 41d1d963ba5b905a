//! `pqxx.json`: vectors for the pqXX handshake and transport
//! (`spec/06-pq-noise.md`): full handshake transcripts with fixed X25519
//! ephemerals and ML-KEM randomness followed by transport scripts in both
//! modes, handshakes that must fail (tampered, forged, downgraded, expired,
//! refused), replay-window walks, and the outside check: the published
//! cacophony vector for `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s`, run through
//! qpc's classical skeleton.

use qpc_crypto::identity::{Address, Identity};
use qpc_crypto::pqxx::noise::NoiseHandshake;
use qpc_crypto::pqxx::{
    derive_psk, DatagramTransport, HandshakeConfig, Initiator, InitiatorRandomness, LocalStatic,
    Mode, NonceWindow, Responder, ResponderRandomness, Session, StreamTransport, TransportConfig,
};
use serde::{Deserialize, Serialize};

use crate::{deterministic_bytes, expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `pqxx.json`.
pub const PROTOCOL: &str = "qpc-pqxx";

/// One vector of `pqxx.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PqxxVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: PqxxCase,
}

/// The kinds of pqXX vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PqxxCase {
    /// A handshake transcript, then optionally a transport script.
    Handshake(Box<HandshakeCase>),
    /// A walk through the datagram replay window.
    Window(WindowCase),
    /// The cacophony vector for `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s`.
    Cacophony(Box<CacophonyCase>),
}

/// One side's long-term keys, randomness and policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Ed25519 seed of the qpc identity (`spec/02`).
    #[serde(with = "hex::serde")]
    pub signing_seed: Vec<u8>,
    /// X-Wing seed of the qpc identity (`spec/02`).
    #[serde(with = "hex::serde")]
    pub kem_seed: Vec<u8>,
    /// X25519 private key of the Noise static key.
    #[serde(with = "hex::serde")]
    pub static_private: Vec<u8>,
    /// The static key binding's `not_after_ms`.
    pub not_after_ms: u64,
    /// X25519 ephemeral private key.
    #[serde(with = "hex::serde")]
    pub ephemeral: Vec<u8>,
    /// Initiator: ML-KEM-768 key generation seed `d || z` (64 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlkem_keygen_seed: Option<HexBytes>,
    /// Responder: ML-KEM-768 encapsulation randomness `m` (32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlkem_encaps_randomness: Option<HexBytes>,
    /// The application context bound in the prologue.
    #[serde(with = "hex::serde")]
    pub context: Vec<u8>,
    /// Whether this side uses ML-KEM-768.
    pub post_quantum: bool,
    /// Whether this side accepts a classical peer.
    pub allow_classical: bool,
    /// Largest application payload this side accepts.
    pub max_application_len: usize,
    /// If set, the only peer address this side accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_address: Option<HexBytes>,
    /// Derived: the Ed25519 identity key.
    #[serde(with = "hex::serde")]
    pub signing_key: Vec<u8>,
    /// Derived: SHA-256 of the X-Wing public key.
    #[serde(with = "hex::serde")]
    pub kem_key_digest: Vec<u8>,
    /// Derived: the address.
    #[serde(with = "hex::serde")]
    pub address: Vec<u8>,
    /// Derived: the X25519 static public key.
    #[serde(with = "hex::serde")]
    pub static_public: Vec<u8>,
    /// Derived: the encoded `StaticKeyBinding` this side sends.
    #[serde(with = "hex::serde")]
    pub binding: Vec<u8>,
}

/// One handshake message as it travels, and what its reader must do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeMessage {
    /// The application payload written (and, if accepted, read back).
    #[serde(with = "hex::serde")]
    pub payload: Vec<u8>,
    /// The Noise message bytes.
    #[serde(with = "hex::serde")]
    pub message: Vec<u8>,
    /// True if these bytes were not written by the honest sender (an
    /// attacker's or a tampered message): only the reader is checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub injected: bool,
    /// The error class the reader must report (the transcript ends here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_error: Option<String>,
}

/// A handshake transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeCase {
    /// Sends message 1.
    pub initiator: Party,
    /// Receives message 1.
    pub responder: Party,
    /// The injected clock when bindings are checked.
    pub now_ms: u64,
    /// Messages 1..=3 in order (fewer if one must fail).
    pub messages: Vec<HandshakeMessage>,
    /// Completed handshakes: the ML-KEM-768 shared secret, if used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlkem_shared_secret: Option<HexBytes>,
    /// Completed handshakes: the psk mixed into message 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psk: Option<HexBytes>,
    /// Completed handshakes: `"post_quantum"` or `"classical"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Completed handshakes: the final handshake hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_hash: Option<HexBytes>,
    /// Completed handshakes: records exchanged afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportScript>,
}

/// Which side acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The handshake initiator.
    Initiator,
    /// The handshake responder.
    Responder,
}

/// Transport limits and rekey policy (both sides use the same).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportSettings {
    /// Largest plaintext per record.
    pub max_plaintext_len: usize,
    /// Rekey after this many records under one key.
    pub rekey_after_messages: u64,
    /// Rekey when a key is this old.
    pub rekey_after_ms: u64,
    /// Datagram replay window size.
    pub replay_window: usize,
    /// Datagram: epochs a record may be ahead.
    pub max_epoch_jump: u16,
}

/// One transport operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransportEvent {
    /// `from` seals `plaintext` at `now_ms`: `record`, or `expected_error`.
    Seal {
        /// The sender.
        from: Side,
        /// The injected clock.
        now_ms: u64,
        /// Plaintext.
        #[serde(with = "hex::serde")]
        plaintext: Vec<u8>,
        /// The record produced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<HexBytes>,
        /// The error class expected instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// `to` opens `record`: `plaintext`, or `expected_error`.
    Open {
        /// The receiver.
        to: Side,
        /// The record received.
        #[serde(with = "hex::serde")]
        record: Vec<u8>,
        /// The plaintext recovered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plaintext: Option<HexBytes>,
        /// The error class expected instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

/// Records exchanged after a handshake, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportScript {
    /// `"stream"` or `"datagram"`.
    pub mode: String,
    /// Both sides' settings.
    pub config: TransportSettings,
    /// The injected clock when the transports start.
    pub start_ms: u64,
    /// The operations, in order.
    pub events: Vec<TransportEvent>,
}

/// A walk through a replay window: each counter is checked and, if new,
/// marked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowCase {
    /// The window size in counters.
    pub size: usize,
    /// Counters in arrival order with `"accept"`, `"replayed"` or `"too_old"`.
    pub steps: Vec<(u64, String)>,
}

/// The cacophony vector, unchanged (the transport messages continue after
/// the handshake, alternating sides, nonces from 0).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacophonyCase {
    /// The Noise protocol name.
    pub protocol_name: String,
    /// Initiator prologue.
    #[serde(with = "hex::serde")]
    pub init_prologue: Vec<u8>,
    /// Initiator psks.
    pub init_psks: Vec<HexBytes>,
    /// Initiator static private key.
    #[serde(with = "hex::serde")]
    pub init_static: Vec<u8>,
    /// Initiator ephemeral private key.
    #[serde(with = "hex::serde")]
    pub init_ephemeral: Vec<u8>,
    /// Responder prologue.
    #[serde(with = "hex::serde")]
    pub resp_prologue: Vec<u8>,
    /// Responder psks.
    pub resp_psks: Vec<HexBytes>,
    /// Responder static private key.
    #[serde(with = "hex::serde")]
    pub resp_static: Vec<u8>,
    /// Responder ephemeral private key.
    #[serde(with = "hex::serde")]
    pub resp_ephemeral: Vec<u8>,
    /// The final handshake hash.
    #[serde(with = "hex::serde")]
    pub handshake_hash: Vec<u8>,
    /// Payloads and ciphertexts, handshake first.
    pub messages: Vec<CacophonyMessage>,
}

/// One cacophony message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacophonyMessage {
    /// Plaintext payload.
    #[serde(with = "hex::serde")]
    pub payload: Vec<u8>,
    /// The message on the wire.
    #[serde(with = "hex::serde")]
    pub ciphertext: Vec<u8>,
}

impl Vector for PqxxVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            PqxxCase::Handshake(case) => case.check(),
            PqxxCase::Window(case) => case.check(),
            PqxxCase::Cacophony(case) => case.check(),
        }
    }
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

fn array<const N: usize>(what: &str, bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("{what} must be {N} bytes"))
}

fn hex_array<const N: usize>(what: &str, bytes: &Option<HexBytes>) -> Result<[u8; N], String> {
    array(what, &bytes.as_ref().ok_or(format!("{what} missing"))?.0)
}

impl Party {
    fn identity(&self) -> Result<Identity, String> {
        Ok(Identity::from_seeds(
            &array("signing_seed", &self.signing_seed)?,
            &array("kem_seed", &self.kem_seed)?,
        ))
    }

    /// Rebuilds the side's static key and checks every derived field.
    fn local(&self) -> Result<LocalStatic, String> {
        let identity = self.identity()?;
        let public = identity.public();
        let local = LocalStatic::from_private(
            &identity,
            &array("static_private", &self.static_private)?,
            self.not_after_ms,
        );
        expect_eq(
            "signing_key",
            &public.signing_key().to_bytes()[..],
            &self.signing_key,
        )?;
        expect_eq(
            "kem_key_digest",
            &public.kem_key_digest()[..],
            &self.kem_key_digest,
        )?;
        expect_eq("address", &public.address().as_bytes()[..], &self.address)?;
        expect_eq("static_public", &local.public()[..], &self.static_public)?;
        expect_eq(
            "binding",
            qpc_wire::codec::encode_to_vec(local.binding())
                .map_err(|e| e.to_string())?
                .as_slice(),
            &self.binding,
        )?;
        Ok(local)
    }

    fn config(&self) -> Result<HandshakeConfig, String> {
        let config = HandshakeConfig {
            context: self.context.clone(),
            post_quantum: self.post_quantum,
            allow_classical: self.allow_classical,
            max_application_len: self.max_application_len,
            ..HandshakeConfig::default()
        };
        Ok(match &self.pinned_address {
            Some(address) => {
                config.pinned(Address::from_bytes(array("pinned_address", &address.0)?))
            }
            None => config,
        })
    }

    fn initiator(&self) -> Result<Initiator, String> {
        let randomness = InitiatorRandomness {
            ephemeral: array("ephemeral", &self.ephemeral)?,
            kem_seed: hex_array("mlkem_keygen_seed", &self.mlkem_keygen_seed)?,
        };
        Initiator::new_derand(&self.local()?, self.config()?, &randomness)
            .map_err(|e| format!("initiator: {e}"))
    }

    fn responder(&self) -> Result<Responder, String> {
        let randomness = ResponderRandomness {
            ephemeral: array("ephemeral", &self.ephemeral)?,
            encapsulation: hex_array("mlkem_encaps_randomness", &self.mlkem_encaps_randomness)?,
        };
        Responder::new_derand(&self.local()?, self.config()?, &randomness)
            .map_err(|e| format!("responder: {e}"))
    }
}

/// The outcome of a reader: accepted with a payload, or an error class.
fn judge<T>(
    step: usize,
    message: &HandshakeMessage,
    got: Result<T, qpc_crypto::Error>,
    payload_of: impl Fn(&T) -> &[u8],
) -> Result<Option<T>, String> {
    let context = |e: String| format!("message {}: {e}", step + 1);
    match &message.expected_error {
        Some(class) => expect_error(class, got.map(|_| ()))
            .map_err(context)
            .map(|()| None),
        None => {
            let value = got.map_err(|e| context(format!("rejected: {e} ({})", e.class())))?;
            expect_eq("payload read", payload_of(&value), &message.payload[..]).map_err(context)?;
            Ok(Some(value))
        }
    }
}

/// Writes a message unless it was injected, comparing with the vector.
fn written(
    step: usize,
    message: &HandshakeMessage,
    write: impl FnOnce(&[u8]) -> Result<Vec<u8>, qpc_crypto::Error>,
) -> Result<(), String> {
    if message.injected {
        return Ok(());
    }
    let got = write(&message.payload).map_err(|e| format!("message {}: {e}", step + 1))?;
    expect_eq(&format!("message {}", step + 1), &got, &message.message)
}

impl HandshakeCase {
    fn check(&self) -> Result<(), String> {
        let mut initiator = Some(self.initiator.initiator()?);
        let mut responder = Some(self.responder.responder()?);
        let mut sessions = None;
        for (step, m) in self.messages.iter().enumerate() {
            let stop = m.expected_error.is_some();
            match step {
                0 => {
                    let i = initiator.as_mut().expect("present");
                    written(step, m, |p| i.write_message_1(p))?;
                    let r = responder.as_mut().expect("present");
                    judge(step, m, r.read_message_1(&m.message), |b| &b[..])?;
                }
                1 => {
                    let r = responder.as_mut().expect("present");
                    written(step, m, |p| r.write_message_2(p))?;
                    let i = initiator.as_mut().expect("present");
                    judge(
                        step,
                        m,
                        i.read_message_2(self.now_ms, &m.message),
                        |b| &b[..],
                    )?;
                }
                2 => {
                    let mut session_i = None;
                    let i = initiator.take().expect("present");
                    if m.injected {
                        drop(i);
                    } else {
                        let (message, session) = i
                            .write_message_3(&m.payload)
                            .map_err(|e| format!("message 3: {e}"))?;
                        expect_eq("message 3", &message, &m.message)?;
                        session_i = Some(session);
                    }
                    let r = responder.take().expect("present");
                    let got = r.read_message_3(self.now_ms, &m.message);
                    if let Some((session_r, _)) = judge(step, m, got, |(_, b)| &b[..])? {
                        sessions = session_i.map(|s| (s, session_r));
                    }
                }
                _ => return Err("at most three handshake messages".into()),
            }
            if stop {
                return expect_eq(
                    "messages after the failing one",
                    step + 1,
                    self.messages.len(),
                );
            }
        }
        match sessions {
            Some((i, r)) => self.check_sessions(i, r),
            None => Err("a transcript without an error must complete".into()),
        }
    }

    fn check_sessions(&self, i: Session, r: Session) -> Result<(), String> {
        expect_eq(
            "responder's view of the initiator",
            &r.peer().address.as_bytes()[..],
            &self.initiator.address,
        )?;
        expect_eq(
            "initiator's view of the responder",
            &i.peer().address.as_bytes()[..],
            &self.responder.address,
        )?;
        let hash = self
            .handshake_hash
            .as_ref()
            .ok_or("handshake_hash missing")?;
        expect_eq(
            "handshake hash (initiator)",
            &i.handshake_hash()[..],
            &hash.0[..],
        )?;
        expect_eq(
            "handshake hash (responder)",
            &r.handshake_hash()[..],
            &hash.0[..],
        )?;
        expect_eq("mode (responder)", r.mode(), i.mode())?;
        let mode = match i.mode() {
            Mode::PostQuantum => "post_quantum",
            Mode::Classical => "classical",
        };
        expect_eq("mode", Some(mode), self.mode.as_deref())?;
        let psk = derive_psk(
            self.mlkem_shared_secret
                .as_ref()
                .map(|s| array::<32>("mlkem_shared_secret", &s.0))
                .transpose()?
                .as_ref(),
        );
        expect_eq("psk", Some(&psk[..]), self.psk.as_ref().map(|p| &p.0[..]))?;
        match &self.transport {
            Some(script) => script.run(i, r),
            None => Ok(()),
        }
    }
}

impl TransportSettings {
    fn config(&self) -> TransportConfig {
        TransportConfig {
            max_plaintext_len: self.max_plaintext_len,
            rekey_after_messages: self.rekey_after_messages,
            rekey_after_ms: self.rekey_after_ms,
            replay_window: self.replay_window,
            max_epoch_jump: self.max_epoch_jump,
        }
    }
}

/// Either transport, so one script runner serves both modes.
enum Link {
    Stream(StreamTransport),
    Datagram(DatagramTransport),
}

impl Link {
    fn new(session: Session, script: &TransportScript) -> Result<Self, String> {
        let config = script.config.config();
        let link = match script.mode.as_str() {
            "stream" => session
                .into_stream(config, script.start_ms)
                .map(Link::Stream),
            "datagram" => session
                .into_datagram(config, script.start_ms)
                .map(Link::Datagram),
            other => return Err(format!("unknown transport mode {other:?}")),
        };
        link.map_err(|e| e.to_string())
    }

    fn seal(&mut self, now_ms: u64, plaintext: &[u8]) -> Result<Vec<u8>, qpc_crypto::Error> {
        let mut out = Vec::new();
        match self {
            Link::Stream(t) => t.seal(now_ms, plaintext, &mut out),
            Link::Datagram(t) => t.seal(now_ms, plaintext, &mut out),
        }
        .map(|()| out)
    }

    fn open(&mut self, record: &[u8]) -> Result<Vec<u8>, qpc_crypto::Error> {
        let mut out = Vec::new();
        match self {
            Link::Stream(t) => t.open(record, &mut out),
            Link::Datagram(t) => t.open(record, &mut out),
        }
        .map(|()| out)
    }
}

/// Compares an outcome with a vector's `value` or `expected_error`.
fn outcome(
    what: &str,
    got: Result<Vec<u8>, qpc_crypto::Error>,
    value: &Option<HexBytes>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (value, expected_error) {
        (Some(want), None) => match got {
            Ok(v) => expect_eq(what, &v, &want.0),
            Err(e) => Err(format!("{what}: rejected: {e} ({})", e.class())),
        },
        (None, Some(class)) => expect_error(class, got).map_err(|e| format!("{what}: {e}")),
        _ => Err(format!("{what}: exactly one of a value and expected_error")),
    }
}

impl TransportScript {
    fn run(&self, initiator: Session, responder: Session) -> Result<(), String> {
        let mut i = Link::new(initiator, self)?;
        let mut r = Link::new(responder, self)?;
        for (n, event) in self.events.iter().enumerate() {
            match event {
                TransportEvent::Seal {
                    from,
                    now_ms,
                    plaintext,
                    record,
                    expected_error,
                } => {
                    let link = if *from == Side::Initiator {
                        &mut i
                    } else {
                        &mut r
                    };
                    let what = format!("event {n} (seal)");
                    outcome(&what, link.seal(*now_ms, plaintext), record, expected_error)?;
                }
                TransportEvent::Open {
                    to,
                    record,
                    plaintext,
                    expected_error,
                } => {
                    let link = if *to == Side::Initiator {
                        &mut i
                    } else {
                        &mut r
                    };
                    let what = format!("event {n} (open)");
                    outcome(&what, link.open(record), plaintext, expected_error)?;
                }
            }
        }
        Ok(())
    }
}

impl WindowCase {
    fn check(&self) -> Result<(), String> {
        let mut window = NonceWindow::new(self.size);
        expect_eq("window size", window.size(), self.size as u64)?;
        for (n, (counter, want)) in self.steps.iter().enumerate() {
            let got = match window.check(*counter, *counter) {
                Ok(()) => {
                    window.mark(*counter);
                    "accept"
                }
                Err(e) => e.class(),
            };
            expect_eq(&format!("step {n} (counter {counter})"), got, want.as_str())?;
        }
        Ok(())
    }
}

impl CacophonyCase {
    fn check(&self) -> Result<(), String> {
        expect_eq(
            "protocol_name",
            self.protocol_name.as_str(),
            qpc_crypto::pqxx::noise::PROTOCOL_NAME,
        )?;
        let side = |initiator, prologue: &[u8], psks: &[HexBytes], s: &[u8], e: &[u8]| {
            let psk: [u8; 32] = array("psk", &psks.first().ok_or("one psk")?.0)?;
            let mut hs = NoiseHandshake::new(
                initiator,
                prologue,
                &array("static", s)?,
                &array("ephemeral", e)?,
            )
            .map_err(|e| e.to_string())?;
            hs.set_psk(&psk).map_err(|e| e.to_string())?;
            Ok::<_, String>(hs)
        };
        let mut init = side(
            true,
            &self.init_prologue,
            &self.init_psks,
            &self.init_static,
            &self.init_ephemeral,
        )?;
        let mut resp = side(
            false,
            &self.resp_prologue,
            &self.resp_psks,
            &self.resp_static,
            &self.resp_ephemeral,
        )?;
        let (handshake, transport) = self.messages.split_at(3.min(self.messages.len()));
        for (n, m) in handshake.iter().enumerate() {
            let (writer, reader) = if n % 2 == 0 {
                (&mut init, &mut resp)
            } else {
                (&mut resp, &mut init)
            };
            let sent = writer
                .write(&m.payload)
                .map_err(|e| format!("message {n}: {e}"))?;
            expect_eq(&format!("message {n}"), &sent, &m.ciphertext)?;
            let read = reader
                .read(&sent)
                .map_err(|e| format!("message {n}: {e}"))?;
            expect_eq(&format!("payload {n}"), &read[..], &m.payload[..])?;
        }
        expect_eq(
            "handshake hash (initiator)",
            &init.handshake_hash()[..],
            &self.handshake_hash[..],
        )?;
        expect_eq(
            "handshake hash (responder)",
            &resp.handshake_hash()[..],
            &self.handshake_hash[..],
        )?;
        let (i_send, i_receive) = init
            .split()
            .map_err(|e| e.to_string())?
            .into_cipher_states();
        let (r_send, r_receive) = resp
            .split()
            .map_err(|e| e.to_string())?
            .into_cipher_states();
        // Transport messages alternate, continuing the handshake's turn order:
        // message 3 is the responder's, each direction's nonce from 0.
        for (n, m) in transport.iter().enumerate() {
            let (send, receive) = if n % 2 == 0 {
                (&r_send, &i_receive)
            } else {
                (&i_send, &r_receive)
            };
            let nonce = (n / 2) as u64;
            let mut buf = m.payload.clone();
            send.encrypt_in_place(nonce, &[], &mut buf, 0)
                .map_err(|e| e.to_string())?;
            expect_eq(&format!("transport message {n}"), &buf, &m.ciphertext)?;
            receive
                .decrypt_in_place(nonce, &[], &mut buf)
                .map_err(|e| e.to_string())?;
            expect_eq(&format!("transport payload {n}"), &buf, &m.payload)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PublicKey};

/// The injected clock of every handshake vector (2027-01-15).
const NOW: u64 = 1_800_000_000_000;
const CONTEXT: &[u8] = b"qpc vectors";

/// A strict post-quantum party named `who`, with derived fields filled in.
fn party(who: &str, initiator: bool) -> Party {
    let mut p = Party {
        signing_seed: deterministic_bytes(&format!("pqxx {who} signing"), 32),
        kem_seed: deterministic_bytes(&format!("pqxx {who} kem"), 32),
        static_private: deterministic_bytes(&format!("pqxx {who} static"), 32),
        not_after_ms: NOW + 86_400_000,
        ephemeral: deterministic_bytes(&format!("pqxx {who} ephemeral"), 32),
        mlkem_keygen_seed: initiator
            .then(|| HexBytes(deterministic_bytes(&format!("pqxx {who} mlkem keygen"), 64))),
        mlkem_encaps_randomness: (!initiator)
            .then(|| HexBytes(deterministic_bytes(&format!("pqxx {who} mlkem encaps"), 32))),
        context: CONTEXT.to_vec(),
        post_quantum: true,
        allow_classical: false,
        max_application_len: qpc_crypto::pqxx::MAX_APPLICATION_LEN,
        pinned_address: None,
        signing_key: Vec::new(),
        kem_key_digest: Vec::new(),
        address: Vec::new(),
        static_public: Vec::new(),
        binding: Vec::new(),
    };
    p.derive();
    p
}

impl Party {
    /// Fills the derived fields from the secrets.
    fn derive(&mut self) {
        let identity = self.identity().expect("seeds");
        let local = LocalStatic::from_private(
            &identity,
            &array("static", &self.static_private).expect("32 bytes"),
            self.not_after_ms,
        );
        let public = identity.public();
        self.signing_key = public.signing_key().to_bytes().to_vec();
        self.kem_key_digest = public.kem_key_digest().to_vec();
        self.address = public.address().as_bytes().to_vec();
        self.static_public = local.public().to_vec();
        self.binding = qpc_wire::codec::encode_to_vec(local.binding()).expect("encodes");
    }

    fn with(mut self, change: impl FnOnce(&mut Party)) -> Party {
        change(&mut self);
        self.derive();
        self
    }

    fn classical(self) -> Party {
        self.with(|p| {
            p.post_quantum = false;
            p.allow_classical = true;
        })
    }

    /// The ML-KEM-768 encapsulation key this initiator offers.
    fn encapsulation_key(&self) -> MlKem768PublicKey {
        let seed = hex_array::<64>("seed", &self.mlkem_keygen_seed).expect("initiator");
        mlkem768::generate_key_pair(seed).into_parts().1
    }

    /// A bare Noise handshake with this party's keys (the attacker's tool:
    /// it writes whatever payload it is given).
    fn raw(&self, initiator: bool) -> NoiseHandshake {
        let mut prologue = b"qpc pqxx\x01".to_vec();
        qpc_wire::codec::put_vl_bytes(&mut prologue, &self.context).expect("short");
        NoiseHandshake::new(
            initiator,
            &prologue,
            &array("static", &self.static_private).expect("32"),
            &array("ephemeral", &self.ephemeral).expect("32"),
        )
        .expect("valid keys")
    }
}

fn vl(application: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    qpc_wire::codec::put_vl_bytes(&mut out, application).expect("short");
    out
}

/// `Message1Payload` written by hand from the spec.
fn payload_1(kem: Option<&[u8]>, application: &[u8]) -> Vec<u8> {
    let mut out = match kem {
        Some(key) => [&[1][..], key].concat(),
        None => vec![0],
    };
    out.extend(vl(application));
    out
}

/// `Message2Payload` written by hand from the spec.
fn payload_2(ciphertext: Option<&[u8]>, binding: &[u8], application: &[u8]) -> Vec<u8> {
    let mut out = match ciphertext {
        Some(ct) => [&[1][..], ct].concat(),
        None => vec![0],
    };
    out.extend_from_slice(binding);
    out.extend(vl(application));
    out
}

/// `Message3Payload` written by hand from the spec.
fn payload_3(binding: &[u8], application: &[u8]) -> Vec<u8> {
    [binding, &vl(application)].concat()
}

fn flip(mut bytes: Vec<u8>, index: usize) -> Vec<u8> {
    let i = index.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    bytes
}

/// A binding with one signature bit flipped.
fn forged(binding: &[u8]) -> Vec<u8> {
    flip(binding.to_vec(), binding.len() - 1)
}

/// The responder's message 2 as an attacker holding the responder's keys
/// writes it: `payload` gets message 1's payload.
fn attacker_message_2(
    responder: &Party,
    m1: &[u8],
    payload: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let mut noise = responder.raw(false);
    let p1 = noise.read(m1).expect("genuine message 1");
    noise.write(&payload(&p1)).expect("writes")
}

/// Encapsulates to the key in message 1's payload with the responder's
/// randomness: `(ciphertext, shared secret)`.
fn encapsulate(responder: &Party, p1: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let key = MlKem768PublicKey::from(array::<1184>("ek", &p1[1..1185]).expect("offer"));
    let m = hex_array::<32>("m", &responder.mlkem_encaps_randomness).expect("responder");
    let (ct, ss) = mlkem768::encapsulate(&key, m);
    (ct.as_slice().to_vec(), ss)
}

/// The initiator's message 3 as an attacker holding the initiator's keys
/// writes it, mixing in `psk_of(message 2's payload)`.
fn attacker_message_3(
    initiator: &Party,
    application_1: &[u8],
    m2: &[u8],
    psk_of: impl FnOnce(&[u8]) -> [u8; 32],
    payload: Vec<u8>,
) -> Vec<u8> {
    let mut noise = initiator.raw(true);
    let key = initiator.encapsulation_key();
    noise
        .write(&payload_1(Some(key.as_slice()), application_1))
        .expect("writes");
    let p2 = noise.read(m2).expect("genuine message 2");
    noise.set_psk(&psk_of(&p2)).expect("psk");
    noise.write(&payload).expect("writes")
}

/// The real psk an initiator derives from message 2's payload.
fn real_psk(initiator: &Party, p2: &[u8]) -> [u8; 32] {
    let seed = hex_array::<64>("seed", &initiator.mlkem_keygen_seed).expect("initiator");
    let private = mlkem768::generate_key_pair(seed).into_parts().0;
    let ct = MlKem768Ciphertext::from(array::<1088>("ct", &p2[1..1089]).expect("ct"));
    *derive_psk(Some(&mlkem768::decapsulate(&private, &ct)))
}

/// Replacement bytes for a message, from the honest messages before it
/// (`None`: the honest message).
type Inject = Option<Box<dyn Fn(&[Vec<u8>]) -> Vec<u8>>>;

/// Where a handshake vector's run deviates from the honest one.
struct Deviation {
    /// 0-based message index.
    step: usize,
    /// Replacement bytes from the honest messages so far (`None`: honest).
    inject: Inject,
    /// The error class the reader must report.
    expect: &'static str,
}

const PAYLOADS: [&[u8]; 3] = [
    b"message 1: not confidential",
    b"message 2: classically confidential",
    b"message 3: post-quantum confidential",
];

/// Runs a handshake with qpc's implementation, recording every message.
/// With a deviation, the transcript ends at the deviating step, whose
/// reader must fail with the declared class.
fn run(
    name: &str,
    description: &str,
    initiator: Party,
    responder: Party,
    deviation: Option<Deviation>,
    transport: Option<Plan<'_>>,
) -> PqxxVector {
    let mut case = HandshakeCase {
        initiator,
        responder,
        now_ms: NOW,
        messages: Vec::new(),
        mlkem_shared_secret: None,
        psk: None,
        mode: None,
        handshake_hash: None,
        transport: None,
    };
    let mut i = Some(case.initiator.initiator().expect("initiator"));
    let mut r = Some(case.responder.responder().expect("responder"));
    let mut honest: Vec<Vec<u8>> = Vec::new();
    let mut sessions = None;
    for (step, payload) in PAYLOADS.iter().enumerate() {
        let payload = payload.to_vec();
        let deviating = deviation.as_ref().filter(|d| d.step == step);
        let injected = deviating.is_some_and(|d| d.inject.is_some());
        let mut session_i = None;
        let message = if injected {
            let d = deviating.expect("deviating");
            (d.inject.as_ref().expect("inject"))(&honest)
        } else {
            match step {
                0 => i
                    .as_mut()
                    .unwrap()
                    .write_message_1(&payload)
                    .expect("writes"),
                1 => r
                    .as_mut()
                    .unwrap()
                    .write_message_2(&payload)
                    .expect("writes"),
                _ => {
                    let (m, s) = i.take().unwrap().write_message_3(&payload).expect("writes");
                    session_i = Some(s);
                    m
                }
            }
        };
        let read: Result<(), qpc_crypto::Error> = match step {
            0 => r.as_mut().unwrap().read_message_1(&message).map(drop),
            1 => i.as_mut().unwrap().read_message_2(NOW, &message).map(drop),
            _ => r
                .take()
                .unwrap()
                .read_message_3(NOW, &message)
                .map(|(s, _)| {
                    sessions = session_i.map(|i| (i, s));
                }),
        };
        honest.push(message.clone());
        case.messages.push(HandshakeMessage {
            payload,
            message,
            injected,
            expected_error: deviating.map(|d| d.expect.to_owned()),
        });
        if let Some(d) = deviating {
            match read {
                Err(e) if e.class() == d.expect => break,
                other => panic!("{name}: expected {}, got {other:?}", d.expect),
            }
        }
        read.unwrap_or_else(|e| panic!("{name}: message {step} rejected: {e}"));
    }
    if let Some((si, sr)) = sessions {
        let p2 = {
            let mut noise = case.initiator.raw(true);
            noise
                .write(&payload_1(
                    case.initiator
                        .post_quantum
                        .then(|| case.initiator.encapsulation_key())
                        .as_ref()
                        .map(|k| &k.as_slice()[..]),
                    PAYLOADS[0],
                ))
                .expect("writes");
            noise.read(&honest[1]).expect("reads")
        };
        if si.mode() == Mode::PostQuantum {
            let seed = hex_array::<64>("seed", &case.initiator.mlkem_keygen_seed).expect("seed");
            let private = mlkem768::generate_key_pair(seed).into_parts().0;
            let ct = MlKem768Ciphertext::from(array::<1088>("ct", &p2[1..1089]).expect("ct"));
            let ss = mlkem768::decapsulate(&private, &ct);
            case.mlkem_shared_secret = Some(HexBytes(ss.to_vec()));
            case.mode = Some("post_quantum".into());
            case.psk = Some(HexBytes(derive_psk(Some(&ss)).to_vec()));
        } else {
            case.mode = Some("classical".into());
            case.psk = Some(HexBytes(derive_psk(None).to_vec()));
        }
        case.handshake_hash = Some(HexBytes(si.handshake_hash().to_vec()));
        if let Some((mode, settings, script)) = transport {
            let mut recorder = Recorder::new(si, sr, settings, mode);
            script(&mut recorder);
            case.transport = Some(recorder.finish());
        }
    }
    PqxxVector {
        name: name.into(),
        description: description.into(),
        case: PqxxCase::Handshake(Box::new(case)),
    }
}

/// Records a transport script while running it.
struct Recorder {
    initiator: Link,
    responder: Link,
    script: TransportScript,
    /// Every record sealed so far, by index.
    records: Vec<Vec<u8>>,
}

impl Recorder {
    fn new(i: Session, r: Session, config: TransportSettings, mode: &str) -> Self {
        let script = TransportScript {
            mode: mode.into(),
            config,
            start_ms: NOW,
            events: Vec::new(),
        };
        Recorder {
            initiator: Link::new(i, &script).expect("transport"),
            responder: Link::new(r, &script).expect("transport"),
            script,
            records: Vec::new(),
        }
    }

    fn link(&mut self, side: Side) -> &mut Link {
        match side {
            Side::Initiator => &mut self.initiator,
            Side::Responder => &mut self.responder,
        }
    }

    /// Seals; returns the record's index (`expect`: the error class it must
    /// fail with instead).
    fn seal(&mut self, from: Side, now_ms: u64, plaintext: &[u8], expect: Option<&str>) -> usize {
        let got = self.link(from).seal(now_ms, plaintext);
        let (record, expected_error) = settle("seal", got, expect);
        if let Some(r) = &record {
            self.records.push(r.0.clone());
        }
        self.script.events.push(TransportEvent::Seal {
            from,
            now_ms,
            plaintext: plaintext.to_vec(),
            record,
            expected_error,
        });
        self.records.len() - 1
    }

    fn open(&mut self, to: Side, record: Vec<u8>, expect: Option<&str>) {
        let got = self.link(to).open(&record);
        let (plaintext, expected_error) = settle("open", got, expect);
        self.script.events.push(TransportEvent::Open {
            to,
            record,
            plaintext,
            expected_error,
        });
    }

    /// Opens the record sealed as number `index`.
    fn deliver(&mut self, to: Side, index: usize, expect: Option<&str>) {
        let record = self.records[index].clone();
        self.open(to, record, expect);
    }

    fn finish(self) -> TransportScript {
        self.script
    }
}

/// Checks a generated outcome against the declared expectation.
fn settle(
    what: &str,
    got: Result<Vec<u8>, qpc_crypto::Error>,
    expect: Option<&str>,
) -> (Option<HexBytes>, Option<String>) {
    match (got, expect) {
        (Ok(v), None) => (Some(HexBytes(v)), None),
        (Err(e), Some(class)) if e.class() == class => (None, Some(class.to_owned())),
        (got, expect) => panic!("{what}: expected {expect:?}, got {got:?}"),
    }
}

fn settings(
    rekey_after_messages: u64,
    max_plaintext_len: usize,
    max_epoch_jump: u16,
) -> TransportSettings {
    TransportSettings {
        max_plaintext_len,
        rekey_after_messages,
        rekey_after_ms: 1_000,
        replay_window: 1024,
        max_epoch_jump,
    }
}

fn alice() -> Party {
    party("alice", true)
}

fn bob() -> Party {
    party("bob", false)
}

fn stream_script(t: &mut Recorder) {
    use Side::{Initiator as I, Responder as R};
    // Four records; the third is the last under the first key (count 3).
    for n in 0..4u8 {
        let index = t.seal(I, NOW + u64::from(n), &[b'a', n], None);
        t.deliver(R, index, None);
    }
    // The responder's first record comes after 2 s: it is the last under
    // its first key (age 1 s).
    for n in 0..3u8 {
        let index = t.seal(
            R,
            NOW + 2_000 + u64::from(n),
            &[b'b'; 40][..usize::from(n) * 20],
            None,
        );
        t.deliver(I, index, None);
    }
    t.seal(I, NOW + 3_000, &[0; 65], Some("content_too_long"));
    let index = t.seal(I, NOW + 3_001, b"tampered on the way", None);
    let tampered = flip(t.records[index].clone(), 3);
    t.open(R, tampered, Some("open_failed"));
    t.deliver(R, index, Some("wrong_state"));
}

fn datagram_script(t: &mut Recorder) {
    use Side::{Initiator as I, Responder as R};
    // Epochs of three records: 0-2 in epoch 0, 3-5 in 1, and so on.
    for n in 0..21u8 {
        t.seal(I, NOW + u64::from(n), &[b'd', n], None);
    }
    for index in [1, 0, 2, 4, 3] {
        t.deliver(R, index, None);
    }
    t.deliver(R, 2, Some("replayed"));
    t.deliver(R, 9, None); // epoch 3: two ahead, within max_epoch_jump
    t.deliver(R, 5, Some("too_old")); // epoch 1: key gone
    t.deliver(R, 7, None); // epoch 2: the previous epoch
    let tampered = flip(t.records[8].clone(), 12);
    t.open(R, tampered, Some("open_failed"));
    t.deliver(R, 8, None); // the forgery did no harm
    t.deliver(R, 20, Some("malformed")); // epoch 6: too far ahead
    t.deliver(R, 12, None);
    t.deliver(R, 20, None); // epoch 6 now only two ahead of 4
    t.open(R, vec![0; 7], Some("malformed"));
    let mut reserved = vec![0xff; 8];
    reserved.extend_from_slice(&t.records[13][8..]);
    t.open(R, reserved, Some("malformed")); // nonce 2^64 - 1 is reserved
    t.open(R, vec![0; 8 + 15], Some("malformed"));
    t.open(R, vec![0; 8 + 65 + 16], Some("content_too_long"));
    t.seal(I, NOW + 50, &[0; 65], Some("content_too_long"));
    for n in 0..2u8 {
        let index = t.seal(R, NOW + u64::from(n), &[b'e', n], None);
        t.deliver(I, index, None);
    }
}

/// A transport to run after a handshake: mode, settings, script.
type Plan<'a> = (&'a str, TransportSettings, &'a dyn Fn(&mut Recorder));

fn honest(
    name: &str,
    description: &str,
    initiator: Party,
    responder: Party,
    transport: Option<Plan<'_>>,
) -> PqxxVector {
    run(name, description, initiator, responder, None, transport)
}

fn failing(
    name: &str,
    description: &str,
    initiator: Party,
    responder: Party,
    step: usize,
    inject: Inject,
    expect: &'static str,
) -> PqxxVector {
    let deviation = Deviation {
        step,
        inject,
        expect,
    };
    run(
        name,
        description,
        initiator,
        responder,
        Some(deviation),
        None,
    )
}

fn completed() -> Vec<PqxxVector> {
    vec![
        honest(
            "pqxx-pq-stream",
            "post-quantum handshake with application payloads in all three messages, then stream records: a count rekey (every 3), an age rekey (1 s), an oversized seal, a tampered record (fatal) and the stream refusing everything after",
            alice(),
            bob(),
            Some(("stream", settings(3, 64, 8), &stream_script)),
        ),
        honest(
            "pqxx-pq-datagram",
            "post-quantum handshake, then datagrams: epochs of 3 records, reordering, a replay, a record from a discarded epoch, the previous epoch, a forgery that does no harm, epochs too far ahead (max_epoch_jump 2), short and oversized records",
            alice(),
            bob(),
            Some(("datagram", settings(3, 64, 2), &datagram_script)),
        ),
        honest(
            "pqxx-classical-stream",
            "classical handshake: a classical initiator and a responder that allows it; the psk is SHA-256(label || 0x00)",
            alice().classical(),
            bob().with(|p| p.allow_classical = true),
            Some(("stream", settings(3, 64, 8), &stream_script)),
        ),
        honest(
            "pqxx-classical-answer-accepted",
            "a post-quantum initiator that allows classical meets a classical responder: the session is classical",
            alice().with(|p| p.allow_classical = true),
            bob().classical(),
            None,
        ),
        honest(
            "pqxx-pq-empty-context",
            "post-quantum handshake with an empty context",
            alice().with(|p| p.context.clear()),
            bob().with(|p| p.context.clear()),
            None,
        ),
        honest(
            "pqxx-pq-pinned",
            "both sides pin the other's address",
            alice().with(|p| p.pinned_address = Some(HexBytes(bob().address))),
            bob().with(|p| p.pinned_address = Some(HexBytes(alice().address))),
            None,
        ),
    ]
}

fn tamper(step: usize, index: usize) -> Inject {
    Some(Box::new(move |_: &[Vec<u8>]| {
        flip(honest_messages()[step].clone(), index)
    }))
}

/// The honest alice-bob messages (what `tamper` flips bits in).
fn honest_messages() -> Vec<Vec<u8>> {
    let (a, b) = (alice(), bob());
    let mut i = a.initiator().expect("initiator");
    let mut r = b.responder().expect("responder");
    let m1 = i.write_message_1(PAYLOADS[0]).expect("m1");
    r.read_message_1(&m1).expect("reads");
    let m2 = r.write_message_2(PAYLOADS[1]).expect("m2");
    i.read_message_2(NOW, &m2).expect("reads");
    let (m3, _) = i.write_message_3(PAYLOADS[2]).expect("m3");
    vec![m1, m2, m3]
}

fn message_1_failures() -> Vec<PqxxVector> {
    let injected_1 = |payload: Vec<u8>| -> Inject {
        Some(Box::new(move |_: &[Vec<u8>]| {
            alice().raw(true).write(&payload).expect("writes")
        }))
    };
    let key = alice().encapsulation_key().as_slice().to_vec();
    let mut bad_key = key.clone();
    bad_key[0] = 0xff;
    bad_key[1] |= 0x0f; // first coefficient 4095 >= q
    let mut trailing = payload_1(Some(&key), PAYLOADS[0]);
    trailing.push(0);
    let truncated = payload_1(Some(&key), PAYLOADS[0])[..100].to_vec();
    let non_minimal = [&[1][..], &key, &[0x40, 0x03], b"abc"].concat();
    let mut unknown_kem = payload_1(Some(&key), PAYLOADS[0]);
    unknown_kem[0] = 2;
    vec![
        failing("pqxx-m1-tampered-ephemeral", "message 1 with a bit of the ephemeral key flipped", alice(), bob(), 0, tamper(0, 0), "open_failed"),
        failing("pqxx-m1-tampered-payload", "message 1 with a bit of the encrypted payload flipped", alice(), bob(), 0, tamper(0, 600), "open_failed"),
        failing("pqxx-m1-context-mismatch", "the responder binds another context in its prologue", alice(), bob().with(|p| p.context = b"another application".to_vec()), 0, None, "open_failed"),
        failing("pqxx-m1-downgrade", "a classical initiator meets a responder that requires ML-KEM-768", alice().classical(), bob(), 0, None, "downgrade"),
        failing("pqxx-m1-offer-stripped", "an attacker holding the initiator's keys sends message 1 without the ML-KEM offer to a strict responder", alice(), bob(), 0, injected_1(payload_1(None, PAYLOADS[0])), "downgrade"),
        failing("pqxx-m1-invalid-encapsulation-key", "the ML-KEM-768 encapsulation key has a coefficient of 4095 (FIPS 203 modulus check)", alice(), bob(), 0, injected_1(payload_1(Some(&bad_key), PAYLOADS[0])), "invalid_public_key"),
        failing("pqxx-m1-unknown-kem", "message 1's kem field is 2", alice(), bob(), 0, injected_1(unknown_kem), "malformed"),
        failing("pqxx-m1-trailing-bytes", "a byte after the application payload", alice(), bob(), 0, injected_1(trailing), "trailing_bytes"),
        failing("pqxx-m1-truncated", "message 1's payload ends inside the encapsulation key", alice(), bob(), 0, injected_1(truncated), "truncated"),
        failing("pqxx-m1-non-minimal-length", "the application length 3 written in two bytes (0x4003)", alice(), bob(), 0, injected_1(non_minimal), "non_minimal_length"),
        failing("pqxx-m1-application-too-long", "the responder accepts at most 8 application bytes", alice(), bob().with(|p| p.max_application_len = 8), 0, None, "content_too_long"),
    ]
}

fn message_2_failures() -> Vec<PqxxVector> {
    // An attacker holding bob's keys answers message 1 with `make(p1)`.
    let injected_2 = |responder: Party, make: fn(&Party, &[u8]) -> Vec<u8>| -> Inject {
        Some(Box::new(move |m: &[Vec<u8>]| {
            attacker_message_2(&responder, &m[0], |p1| make(&responder, p1))
        }))
    };
    vec![
        failing(
            "pqxx-m2-low-order-ephemeral",
            "message 2 carries the low-order X25519 point u = 0 as the responder's ephemeral: ee is all zero",
            alice(),
            bob(),
            1,
            Some(Box::new(|_: &[Vec<u8>]| {
                let mut m2 = honest_messages()[1].clone();
                m2[..32].fill(0);
                m2
            })),
            "non_contributory",
        ),
        failing(
            "pqxx-m2-tampered",
            "message 2 with a bit of the encrypted static key flipped",
            alice(),
            bob(),
            1,
            tamper(1, 40),
            "open_failed",
        ),
        failing(
            "pqxx-m2-bad-signature",
            "the responder's binding signature has a bit flipped",
            alice(),
            bob(),
            1,
            injected_2(bob(), |b, p1| {
                payload_2(
                    Some(&encapsulate(b, p1).0),
                    &forged(&b.binding),
                    PAYLOADS[1],
                )
            }),
            "bad_signature",
        ),
        failing(
            "pqxx-m2-binding-of-another-key",
            "the responder presents a valid binding made for another static key (carol's)",
            alice(),
            bob(),
            1,
            injected_2(bob(), |b, p1| {
                payload_2(
                    Some(&encapsulate(b, p1).0),
                    &party("carol", false).binding,
                    PAYLOADS[1],
                )
            }),
            "bad_signature",
        ),
        failing(
            "pqxx-m2-weak-signing-key",
            "the responder's binding names a small-order Ed25519 key",
            alice(),
            bob(),
            1,
            injected_2(bob(), |b, p1| {
                let mut binding = b.binding.clone();
                binding[..32]
                    .copy_from_slice(&[1; 1].iter().copied().chain([0; 31]).collect::<Vec<u8>>());
                payload_2(Some(&encapsulate(b, p1).0), &binding, PAYLOADS[1])
            }),
            "invalid_public_key",
        ),
        failing(
            "pqxx-m2-expired-binding",
            "the responder's binding expired one millisecond before now",
            alice(),
            bob().with(|p| p.not_after_ms = NOW - 1),
            1,
            None,
            "expired_binding",
        ),
        failing(
            "pqxx-m2-peer-rejected",
            "the initiator pins carol's address",
            alice().with(|p| p.pinned_address = Some(HexBytes(party("carol", false).address))),
            bob(),
            1,
            None,
            "peer_rejected",
        ),
        failing(
            "pqxx-m2-downgrade",
            "a responder answers the ML-KEM offer classically; the initiator requires ML-KEM-768",
            alice(),
            bob().classical(),
            1,
            None,
            "downgrade",
        ),
        failing(
            "pqxx-m2-ciphertext-without-offer",
            "a classical initiator receives an ML-KEM ciphertext it never asked for",
            alice().classical(),
            bob().with(|p| p.allow_classical = true),
            1,
            injected_2(bob(), |b, _| {
                payload_2(
                    Some(&deterministic_bytes("pqxx stray ciphertext", 1088)),
                    &b.binding,
                    PAYLOADS[1],
                )
            }),
            "malformed",
        ),
    ]
}

fn message_3_failures() -> Vec<PqxxVector> {
    // An attacker holding alice's keys answers message 2 with `payload`,
    // mixing in the real psk or the classical one.
    let injected_3 = |right_psk: bool, payload: Vec<u8>| -> Inject {
        Some(Box::new(move |m: &[Vec<u8>]| {
            let a = alice();
            let psk_of = |p2: &[u8]| {
                if right_psk {
                    real_psk(&a, p2)
                } else {
                    *derive_psk(None)
                }
            };
            attacker_message_3(&a, PAYLOADS[0], &m[1], psk_of, payload.clone())
        }))
    };
    let a = alice();
    vec![
        failing("pqxx-m3-tampered", "message 3 with a bit of the encrypted static key flipped", alice(), bob(), 2, tamper(2, 5), "open_failed"),
        failing("pqxx-m3-wrong-psk", "the initiator mixes in the classical psk although ML-KEM-768 was used", alice(), bob(), 2, injected_3(false, payload_3(&a.binding, PAYLOADS[2])), "open_failed"),
        failing("pqxx-m3-bad-signature", "the initiator's binding signature has a bit flipped (hand-built with the right psk, so decryption succeeds and the signature check fails)", alice(), bob(), 2, injected_3(true, payload_3(&forged(&a.binding), PAYLOADS[2])), "bad_signature"),
        failing("pqxx-m3-peer-rejected", "the responder pins carol's address", alice(), bob().with(|p| p.pinned_address = Some(HexBytes(party("carol", true).address))), 2, None, "peer_rejected"),
        failing("pqxx-m3-expired-binding", "the initiator's binding expired one millisecond before now", alice().with(|p| p.not_after_ms = NOW - 1), bob(), 2, None, "expired_binding"),
    ]
}

/// Replay-window walks; the expected results come from a model that
/// remembers every counter, not from the window itself.
fn windows() -> Vec<PqxxVector> {
    let walk = |name: &str, description: &str, size: usize, counters: Vec<u64>| {
        let mut seen = std::collections::BTreeSet::new();
        let steps = counters
            .into_iter()
            .map(|c| {
                let highest = seen.iter().next_back().copied();
                let result = match highest {
                    Some(h) if c + size as u64 <= h => "too_old",
                    _ if seen.contains(&c) => "replayed",
                    _ => {
                        seen.insert(c);
                        "accept"
                    }
                };
                (c, result.to_owned())
            })
            .collect();
        PqxxVector {
            name: name.into(),
            description: description.into(),
            case: PqxxCase::Window(WindowCase { size, steps }),
        }
    };
    let pseudo_random: Vec<u64> = deterministic_bytes("pqxx window walk", 400)
        .chunks(2)
        .scan(0u64, |base, pair| {
            *base += u64::from(pair[0] % 40);
            Some(base.saturating_sub(u64::from(pair[1]) * 12))
        })
        .collect();
    vec![
        walk("pqxx-window-edges", "window of 1024: a counter exactly 1024 below the highest is too old, 1023 below is still inside", 1024,
            vec![0, 0, 5, 3, 5, 1029, 5, 6, 6, 1028, 100_000, 98_977, 98_976, 99_999, 100_000]),
        walk("pqxx-window-walk", "window of 2048 over 200 pseudo-random counters that mostly rise", 2048, pseudo_random),
    ]
}

/// The outside check: the one cacophony vector for
/// `Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s`, unchanged.
fn cacophony() -> PqxxVector {
    const UPSTREAM: &str = include_str!("../upstream/noise-cacophony-xxpsk3.json");
    let case: CacophonyCase = serde_json::from_str(UPSTREAM).expect("cacophony vector");
    PqxxVector {
        name: "pqxx-cacophony-xxpsk3".into(),
        description: "outside check: cacophony's Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s vector (snow 0.10 tests/vectors/cacophony.txt), unchanged, through qpc's classical skeleton and Noise cipher states".into(),
        case: PqxxCase::Cacophony(Box::new(case)),
    }
}

/// Writes `pqxx.json`.
pub fn generate() -> String {
    let vectors = [
        completed(),
        message_1_failures(),
        message_2_failures(),
        message_3_failures(),
        windows(),
        vec![cacophony()],
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/06-pq-noise.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let _file = crate::assert_sound_generation::<PqxxVector>(generate);
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate();
        let file: crate::VectorFile<PqxxVector> = serde_json::from_str(&text).unwrap();
        let hash = match &file.vectors[0].case {
            PqxxCase::Handshake(c) => hex::encode(&c.handshake_hash.as_ref().unwrap().0),
            _ => unreachable!(),
        };
        let tampered = text.replacen(&hash, &format!("00{}", &hash[2..]), 1);
        let results = crate::verify_json::<PqxxVector>(&tampered).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
