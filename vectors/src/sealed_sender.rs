//! `sealed_sender.json`: vectors for `spec/05-sealed-sender.md` — sender
//! certificates, sealing with fixed encapsulation randomness, and receiver
//! transcripts (opening, the replay window, decoys), with the inputs that
//! must fail.
//!
//! Three kinds (spec/05 §11):
//!
//! - `certificate`: issue a certificate with an issuer seed (§4.3), then
//!   verify it with `roots` at `now_ms` (§4.4, §4.5);
//! - `seal`: seal with a fixed `eseed` (§6); positive vectors give every
//!   intermediate value (padded content, binding, signed bytes, signature,
//!   inner message) and the sealed bytes;
//! - `open`: a transcript (§7) — one receiver opens each step's bytes in
//!   order, and each step's `result` is `"message"`, `"decoy"` or an error
//!   class; a vector whose last step fails is negative and carries that
//!   class as `expected_error`.
//!
//! Messages that [`Sender`] refuses to produce (a bad sender signature, an
//! unknown inner kind, a certified small-order key, ...) are built here from
//! qpc-crypto's public HPKE, signature and certificate APIs. That builder is
//! checked against [`Sender::seal_padded_derand`] byte for byte on every
//! positive `seal` vector and on every untampered message it builds.

use bytes::{BufMut, Bytes};
use qpc_crypto::certificate::{Issuer, SenderCertificate, TrustRoot, CERTIFICATE_LEN};
use qpc_crypto::hpke;
use qpc_crypto::identity::{
    self, Address, Identity, PublicIdentity, SignatureContext, PUBLIC_IDENTITY_LEN, SIGNATURE_LEN,
};
use qpc_crypto::padding::{pad, Padding, LORA_BUCKETS};
use qpc_crypto::sealed_sender::{
    Kind, Opened, Receiver, ReceiverConfig, Sender, HPKE_INFO, SEALED_VERSION,
};
use qpc_crypto::xwing::ENCAPS_RANDOMNESS_LEN;
use qpc_crypto::Error;
use qpc_wire::codec;
use serde::{Deserialize, Serialize};

use crate::padding::Scheme;
use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `sealed_sender.json`.
pub const PROTOCOL: &str = "qpc-sealed-sender";

/// The HPKE exporter context of the binding (spec/05 §3, §5.6).
const BINDING_CONTEXT: &[u8] = b"qpc sealed sender binding v1";
/// The signed part of a certificate.
const TBS_LEN: usize = CERTIFICATE_LEN - SIGNATURE_LEN;
/// Length of the ML-KEM part of `enc`.
const MLKEM_CT_LEN: usize = 1088;
/// version, recipient and enc: where the ciphertext length starts.
const OUTER_FIXED: usize = 1 + 16 + hpke::ENC_LEN;

/// One vector of `sealed_sender.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedSenderVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: SealedSenderCase,
}

/// One step of an `open` transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The receiver's Unix time in milliseconds.
    pub now_ms: u64,
    /// The bytes to open.
    #[serde(with = "hex::serde")]
    pub sealed: Vec<u8>,
    /// `"message"`, `"decoy"` or an error class.
    pub result: String,
    /// The sender's address (`"message"` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<HexBytes>,
    /// The sender's Ed25519 key (`"message"` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_key: Option<HexBytes>,
    /// The sender's timestamp (`"message"` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_ms: Option<u64>,
    /// The message id (`"message"` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<HexBytes>,
    /// The unpadded content (`"message"` steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<HexBytes>,
}

/// The kinds of sealed-sender vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SealedSenderCase {
    /// Issue a certificate (§4.3) with `issuer_seed` for `signing_key` and
    /// `kem_key_digest` until `expires_ms`: `issuer_key_id`, `encoded` and
    /// `sender_address` are always expected. Then configure `roots` (§4.4)
    /// and verify `encoded` at `now_ms` (§4.5): positive vectors return
    /// `signing_key`, negative ones fail with `expected_error`.
    Certificate {
        /// The issuer's Ed25519 seed.
        #[serde(with = "hex::serde")]
        issuer_seed: Vec<u8>,
        /// The certified Ed25519 key.
        #[serde(with = "hex::serde")]
        signing_key: Vec<u8>,
        /// The certified KEM key digest.
        #[serde(with = "hex::serde")]
        kem_key_digest: Vec<u8>,
        /// Expiry, Unix milliseconds.
        expires_ms: u64,
        /// Trust-root keys of the verifier, in order.
        roots: Vec<HexBytes>,
        /// The verifier's Unix time.
        now_ms: u64,
        /// The issuer's key id.
        #[serde(with = "hex::serde")]
        issuer_key_id: Vec<u8>,
        /// The 144-byte certificate.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The certified sender's address.
        #[serde(with = "hex::serde")]
        sender_address: Vec<u8>,
        /// The error class of verification (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Seal `content` (§6) with the fixed `eseed`.
    Seal {
        /// The sender's Ed25519 seed.
        #[serde(with = "hex::serde")]
        sender_signing_seed: Vec<u8>,
        /// The sender's X-Wing seed.
        #[serde(with = "hex::serde")]
        sender_kem_seed: Vec<u8>,
        /// The sender's certificate.
        #[serde(with = "hex::serde")]
        certificate: Vec<u8>,
        /// The recipient's encoded `PublicIdentity`.
        #[serde(with = "hex::serde")]
        recipient_public_identity: Vec<u8>,
        /// `SealedInner.kind`: 0 message, 1 decoy.
        message_kind: u8,
        /// The sender's Unix time.
        timestamp_ms: u64,
        /// The message id.
        #[serde(with = "hex::serde")]
        message_id: Vec<u8>,
        /// The unpadded content (or `content_len`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<HexBytes>,
        /// Instead of `content`, for long content: its length, the content
        /// being the bytes `i mod 251` (as in `padding.json`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_len: Option<usize>,
        /// The padding scheme the sender uses for the link (§5.3).
        padding: Scheme,
        /// The encapsulation randomness.
        #[serde(with = "hex::serde")]
        eseed: Vec<u8>,
        /// The padded content (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        padded_content: Option<HexBytes>,
        /// The HPKE export binding the signature (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        binding: Option<HexBytes>,
        /// `signed` of §5.5, without the signature label (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<HexBytes>,
        /// The sender's signature (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<HexBytes>,
        /// The encoded `SealedInner` (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inner: Option<HexBytes>,
        /// The encoded `SealedMessage` (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sealed: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A receiver opens each step in order.
    Open {
        /// The recipient's Ed25519 seed.
        #[serde(with = "hex::serde")]
        recipient_signing_seed: Vec<u8>,
        /// The recipient's X-Wing seed.
        #[serde(with = "hex::serde")]
        recipient_kem_seed: Vec<u8>,
        /// Trust-root keys, in order.
        roots: Vec<HexBytes>,
        /// The padding schemes the receiver accepts (§7.4).
        paddings: Vec<Scheme>,
        /// Oldest acceptable timestamp, relative to now.
        max_age_ms: u64,
        /// Furthest acceptable timestamp in the future.
        max_skew_ms: u64,
        /// Replay-window entries (0 is treated as 1).
        capacity: u64,
        /// The transcript.
        steps: Vec<Step>,
        /// The last step's class, when it is an error (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

fn padding_of(scheme: Scheme) -> Padding {
    match scheme {
        Scheme::Padme => Padding::Padme,
        Scheme::Lora => Padding::Buckets(LORA_BUCKETS),
    }
}

/// A receiver's accepted schemes (`ReceiverConfig::paddings` is static).
fn paddings_of(schemes: &[Scheme]) -> Result<&'static [Padding], String> {
    const LORA: Padding = Padding::Buckets(LORA_BUCKETS);
    Ok(match schemes {
        [] => &[],
        [Scheme::Padme] => &[Padding::Padme],
        [Scheme::Lora] => &[LORA],
        [Scheme::Padme, Scheme::Lora] => &[Padding::Padme, LORA],
        [Scheme::Lora, Scheme::Padme] => &[LORA, Padding::Padme],
        other => return Err(format!("unsupported paddings {other:?}")),
    })
}

/// `content`, or the `content_len` bytes `i mod 251`.
fn content_input(
    content: &Option<HexBytes>,
    content_len: Option<usize>,
) -> Result<Vec<u8>, String> {
    match (content, content_len) {
        (Some(c), None) => Ok(c.0.clone()),
        (None, Some(len)) => Ok(counting(len)),
        _ => Err("exactly one of content and content_len must be present".into()),
    }
}

/// The bytes `i mod 251`.
fn counting(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A fixed-size API input, or `wrong_length` (spec/05 §9).
fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| Error::WrongLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}

fn arr32(what: &str, bytes: &[u8]) -> Result<[u8; 32], String> {
    bytes
        .try_into()
        .map_err(|_| format!("{what} must be 32 bytes"))
}

fn err(e: Error) -> String {
    format!("{} ({e})", e.class())
}

/// Configures trust roots (§4.4): `wrong_length` or `invalid_public_key`.
fn trust_roots(roots: &[HexBytes]) -> Result<Vec<TrustRoot>, Error> {
    roots
        .iter()
        .map(|r| TrustRoot::from_bytes(&fixed("trust root", &r.0)?))
        .collect()
}

/// A certificate input: 144 bytes (`wrong_length` otherwise), any content.
fn decode_certificate(bytes: &[u8]) -> Result<SenderCertificate, Error> {
    let bytes: [u8; CERTIFICATE_LEN] = fixed("certificate", bytes)?;
    Ok(codec::decode_exact(Bytes::copy_from_slice(&bytes))?)
}

fn encode_certificate(cert: &SenderCertificate) -> Vec<u8> {
    codec::encode_to_vec(cert).expect("fixed size")
}

/// Issues a certificate for any key pair (§4.3), even one no `Identity`
/// has: qpc's `Issuer::issue` needs a parsed `PublicIdentity`.
fn issue_raw(
    issuer_seed: &[u8; 32],
    signing_key: [u8; 32],
    kem_key_digest: [u8; 32],
    expires_ms: u64,
) -> SenderCertificate {
    let mut cert = SenderCertificate {
        signing_key,
        kem_key_digest,
        expires_ms,
        issuer_key_id: *Issuer::from_seed(issuer_seed).trust_root().key_id(),
        issuer_signature: [0; SIGNATURE_LEN],
    };
    let tbs = encode_certificate(&cert);
    cert.issuer_signature = identity::sign(
        &ed25519_dalek::SigningKey::from_bytes(issuer_seed),
        SignatureContext::SenderCertificate,
        &tbs[..TBS_LEN],
    );
    cert
}

/// The issuer's public key: the trust root to configure.
fn issuer_public(seed: &[u8; 32]) -> Vec<u8> {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
        .to_vec()
}

/// A sealed message under construction, with the hooks that make the
/// malformed ones.
#[derive(Clone)]
struct Draft<'a> {
    /// Who signs (normally the certified sender).
    signer: &'a Identity,
    /// The encoded certificate.
    certificate: Vec<u8>,
    /// Encrypted to, and addressed to.
    recipient: &'a PublicIdentity,
    kind: u8,
    timestamp_ms: u64,
    message_id: [u8; 16],
    /// The content, for the expected result.
    content: Vec<u8>,
    padded: Vec<u8>,
    eseed: [u8; ENCAPS_RANDOMNESS_LEN],
    /// Sign over this recipient address instead of the real one.
    signed_recipient: Option<[u8; 16]>,
    /// Sign over the binding of this (recipient, eseed) context instead.
    binding_from: Option<(&'a PublicIdentity, [u8; ENCAPS_RANDOMNESS_LEN])>,
    /// Sign in this context instead of "qpc sig v1 sealed sender".
    sign_context: SignatureContext,
    /// Encrypt with this aad instead of `version || recipient`.
    aad: Option<Vec<u8>>,
}

/// Every value §6 computes.
struct Parts {
    binding: Vec<u8>,
    signed: Vec<u8>,
    signature: Vec<u8>,
    inner: Vec<u8>,
    sealed: Vec<u8>,
}

impl Draft<'_> {
    /// §6 S4–S10, then `tamper` on the inner bytes before encryption.
    fn parts_with(&self, tamper: impl FnOnce(&mut Vec<u8>)) -> Result<Parts, Error> {
        let address = *self.recipient.address().as_bytes();
        let (enc, mut ctx) =
            hpke::setup_sender_derand(self.recipient.kem_key(), HPKE_INFO, &self.eseed)?;
        let binding = match &self.binding_from {
            None => ctx.export(BINDING_CONTEXT, 32)?.to_vec(),
            Some((other, eseed)) => hpke::setup_sender_derand(other.kem_key(), HPKE_INFO, eseed)?
                .1
                .export(BINDING_CONTEXT, 32)?
                .to_vec(),
        };
        let mut fields = Vec::new();
        fields.put_u8(self.kind);
        fields.extend_from_slice(&self.certificate);
        fields.put_u64(self.timestamp_ms);
        fields.extend_from_slice(&self.message_id);
        codec::put_vl_bytes(&mut fields, &self.padded)?;
        let signed_recipient = self.signed_recipient.unwrap_or(address);
        let signed = [&signed_recipient[..], &fields, &binding].concat();
        let signature = self.signer.sign(self.sign_context, &signed).to_vec();
        let mut inner = [&fields[..], &signature].concat();
        tamper(&mut inner);
        let aad = self
            .aad
            .clone()
            .unwrap_or_else(|| [&[SEALED_VERSION][..], &address].concat());
        let ciphertext = ctx.seal(&aad, &inner)?;
        let mut sealed = vec![SEALED_VERSION];
        sealed.extend_from_slice(&address);
        sealed.extend_from_slice(&enc);
        codec::put_vl_bytes(&mut sealed, &ciphertext)?;
        Ok(Parts {
            binding,
            signed,
            signature,
            inner,
            sealed,
        })
    }

    fn parts(&self) -> Result<Parts, Error> {
        self.parts_with(|_| {})
    }

    /// Whether [`Sender`] can make this message: then it must make the
    /// same bytes.
    fn honest(&self) -> bool {
        self.signed_recipient.is_none()
            && self.binding_from.is_none()
            && self.sign_context == SignatureContext::SealedSender
            && self.aad.is_none()
            && self.kind <= 1
            && self.certificate.len() == CERTIFICATE_LEN
            && Sender::new(self.signer, decode_certificate(&self.certificate).unwrap()).is_ok()
    }

    /// Seals with [`Sender::seal_padded_derand`].
    fn seal_with_sender(&self) -> Result<Vec<u8>, Error> {
        let kind = if self.kind == 0 {
            Kind::Message
        } else {
            Kind::Decoy
        };
        Sender::new(self.signer, decode_certificate(&self.certificate)?)?.seal_padded_derand(
            self.recipient,
            kind,
            self.timestamp_ms,
            self.message_id,
            &self.padded,
            &self.eseed,
        )
    }

    /// The sealed message; for an honest draft, checked against [`Sender`].
    fn sealed(&self) -> Sealed {
        let parts = self.parts().expect("buildable");
        if self.honest() {
            assert!(
                self.seal_with_sender().expect("Sender seals") == parts.sealed,
                "the vector builder and Sender::seal_padded_derand differ"
            );
        }
        self.with_bytes(parts.sealed)
    }

    /// The message re-encrypted (same `eseed`, so the same binding) after
    /// `tamper` changed the signed inner bytes.
    fn sealed_with_inner(&self, tamper: impl FnOnce(&mut Vec<u8>)) -> Sealed {
        self.with_bytes(self.parts_with(tamper).expect("buildable").sealed)
    }

    /// These bytes, with this draft's metadata as the expected delivery.
    fn with_bytes(&self, bytes: Vec<u8>) -> Sealed {
        let key: [u8; 32] = self.certificate[..32].try_into().expect("32");
        let digest: [u8; 32] = self.certificate[32..64].try_into().expect("32");
        Sealed {
            bytes,
            sender: *Address::derive(&key, &digest).as_bytes(),
            sender_key: key,
            timestamp_ms: self.timestamp_ms,
            message_id: self.message_id,
            content: self.content.clone(),
        }
    }
}

/// A sealed message and what opening it delivers.
#[derive(Clone)]
struct Sealed {
    bytes: Vec<u8>,
    sender: [u8; 16],
    sender_key: [u8; 32],
    timestamp_ms: u64,
    message_id: [u8; 16],
    content: Vec<u8>,
}

impl Sealed {
    fn map(&self, f: impl FnOnce(&mut Vec<u8>)) -> Sealed {
        let mut out = self.clone();
        f(&mut out.bytes);
        out
    }
}

/// What qpc's `seal` produced: `Sender`'s bytes and the builder's parts.
type SealRun = Result<(Vec<u8>, Vec<u8>, Parts), Error>;

#[allow(clippy::too_many_arguments)]
fn run_seal(
    sender_signing_seed: &[u8],
    sender_kem_seed: &[u8],
    certificate: &[u8],
    recipient_public_identity: &[u8],
    message_kind: u8,
    timestamp_ms: u64,
    message_id: &[u8],
    content: &[u8],
    padding: Scheme,
    eseed: &[u8],
) -> Result<SealRun, String> {
    let signer = Identity::from_seeds(
        &arr32("sender_signing_seed", sender_signing_seed)?,
        &arr32("sender_kem_seed", sender_kem_seed)?,
    );
    let kind = match message_kind {
        0 => Kind::Message,
        1 => Kind::Decoy,
        k => return Err(format!("message_kind {k} cannot be sealed")),
    };
    Ok((|| {
        // §6 inputs, then S0, S2, S4..S10.
        let recipient = PublicIdentity::from_bytes(recipient_public_identity)?;
        let cert = decode_certificate(certificate)?;
        let sender = Sender::new(&signer, cert)?;
        let message_id: [u8; 16] = fixed("message id", message_id)?;
        let eseed: [u8; ENCAPS_RANDOMNESS_LEN] = fixed("eseed", eseed)?;
        let padded = pad(padding_of(padding), content)?;
        let sealed = sender.seal_padded_derand(
            &recipient,
            kind,
            timestamp_ms,
            message_id,
            &padded,
            &eseed,
        )?;
        let parts = Draft {
            signer: &signer,
            certificate: certificate.to_vec(),
            recipient: &recipient,
            kind: message_kind,
            timestamp_ms,
            message_id,
            content: content.to_vec(),
            padded: padded.clone(),
            eseed,
            signed_recipient: None,
            binding_from: None,
            sign_context: SignatureContext::SealedSender,
            aad: None,
        }
        .parts()?;
        Ok((sealed, padded, parts))
    })())
}

/// One step's outcome as a [`Step`] (with the given bytes and time).
fn outcome(now_ms: u64, sealed: &[u8], got: Result<Option<Opened>, Error>) -> Step {
    let mut step = Step {
        now_ms,
        sealed: sealed.to_vec(),
        result: String::new(),
        sender: None,
        sender_key: None,
        timestamp_ms: None,
        message_id: None,
        content: None,
    };
    match got {
        Ok(Some(opened)) => {
            step.result = "message".into();
            step.sender = Some(HexBytes(opened.sender.as_bytes().to_vec()));
            step.sender_key = Some(HexBytes(opened.sender_key.to_bytes().to_vec()));
            step.timestamp_ms = Some(opened.timestamp_ms);
            step.message_id = Some(HexBytes(opened.message_id.to_vec()));
            step.content = Some(HexBytes(opened.content));
        }
        Ok(None) => step.result = "decoy".into(),
        Err(e) => step.result = e.class().into(),
    }
    step
}

fn is_delivery(result: &str) -> bool {
    matches!(result, "message" | "decoy")
}

#[allow(clippy::too_many_arguments)]
fn run_open(
    recipient_signing_seed: &[u8],
    recipient_kem_seed: &[u8],
    roots: &[HexBytes],
    paddings: &[Scheme],
    max_age_ms: u64,
    max_skew_ms: u64,
    capacity: u64,
    steps: &[Step],
    expected_error: &Option<String>,
) -> Result<(), String> {
    let identity = Identity::from_seeds(
        &arr32("recipient_signing_seed", recipient_signing_seed)?,
        &arr32("recipient_kem_seed", recipient_kem_seed)?,
    );
    let roots = trust_roots(roots).map_err(|e| format!("trust roots refused: {}", err(e)))?;
    let config = ReceiverConfig {
        paddings: paddings_of(paddings)?,
        max_age_ms,
        max_skew_ms,
        replay_capacity: usize::try_from(capacity).map_err(|_| "capacity too large")?,
    };
    let mut receiver = Receiver::new(identity, roots, config);
    for (i, want) in steps.iter().enumerate() {
        let got = receiver.open(want.now_ms, &want.sealed);
        let detail = match &got {
            Err(e) => format!(" ({e})"),
            Ok(_) => String::new(),
        };
        let got = outcome(want.now_ms, &want.sealed, got);
        if got.result != want.result {
            return Err(format!(
                "step {i}: got {}{detail}, want {}",
                got.result, want.result
            ));
        }
        expect_eq(&format!("step {i} sender"), &got.sender, &want.sender)?;
        expect_eq(
            &format!("step {i} sender key"),
            &got.sender_key,
            &want.sender_key,
        )?;
        expect_eq(
            &format!("step {i} timestamp"),
            got.timestamp_ms,
            want.timestamp_ms,
        )?;
        expect_eq(
            &format!("step {i} message id"),
            &got.message_id,
            &want.message_id,
        )?;
        expect_eq(&format!("step {i} content"), &got.content, &want.content)?;
    }
    let last = steps.last().ok_or("a transcript needs a step")?;
    let want_error = (!is_delivery(&last.result)).then(|| last.result.clone());
    expect_eq(
        "expected_error (the last step's class)",
        expected_error,
        &want_error,
    )
}

impl Vector for SealedSenderVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            SealedSenderCase::Certificate {
                issuer_seed,
                signing_key,
                kem_key_digest,
                expires_ms,
                roots,
                now_ms,
                issuer_key_id,
                encoded,
                sender_address,
                expected_error,
            } => {
                let seed = arr32("issuer_seed", issuer_seed)?;
                let issuer = Issuer::from_seed(&seed);
                expect_eq(
                    "issuer key id",
                    &issuer.trust_root().key_id()[..],
                    issuer_key_id,
                )?;
                let cert = issue_raw(
                    &seed,
                    arr32("signing_key", signing_key)?,
                    arr32("kem_key_digest", kem_key_digest)?,
                    *expires_ms,
                );
                expect_eq("encoded", &encode_certificate(&cert), encoded)?;
                let decoded = decode_certificate(encoded).map_err(err)?;
                expect_eq("decoded certificate", &decoded, &cert)?;
                expect_eq(
                    "sender address",
                    &decoded.sender_address().as_bytes()[..],
                    sender_address,
                )?;
                let got = trust_roots(roots)
                    .and_then(|roots| decoded.verify(&roots, *now_ms))
                    .map(|key| key.to_bytes().to_vec());
                match expected_error {
                    None => expect_eq("verified key", &got.map_err(err)?, signing_key),
                    Some(class) => expect_error(class, got),
                }
            }
            SealedSenderCase::Seal {
                sender_signing_seed,
                sender_kem_seed,
                certificate,
                recipient_public_identity,
                message_kind,
                timestamp_ms,
                message_id,
                content,
                content_len,
                padding,
                eseed,
                padded_content,
                binding,
                signed,
                signature,
                inner,
                sealed,
                expected_error,
            } => {
                let got = run_seal(
                    sender_signing_seed,
                    sender_kem_seed,
                    certificate,
                    recipient_public_identity,
                    *message_kind,
                    *timestamp_ms,
                    message_id,
                    &content_input(content, *content_len)?,
                    *padding,
                    eseed,
                )?;
                let outputs = [padded_content, binding, signed, signature, inner, sealed];
                match expected_error {
                    Some(class) if outputs.iter().all(|o| o.is_none()) => {
                        expect_error(class, got.map(|(sealed, ..)| hex::encode(sealed)))
                    }
                    None if outputs.iter().all(|o| o.is_some()) => {
                        let (qpc, padded, parts) = got.map_err(err)?;
                        let want = |o: &Option<HexBytes>| o.as_ref().expect("present").0.clone();
                        expect_eq("sealed (Sender)", &qpc, &want(sealed))?;
                        expect_eq("padded content", &padded, &want(padded_content))?;
                        expect_eq("binding", &parts.binding, &want(binding))?;
                        expect_eq("signed", &parts.signed, &want(signed))?;
                        expect_eq("signature", &parts.signature, &want(signature))?;
                        expect_eq("inner", &parts.inner, &want(inner))?;
                        expect_eq("sealed (recomputed from inner)", &parts.sealed, &qpc)
                    }
                    _ => Err("either all six outputs or expected_error must be present".into()),
                }
            }
            SealedSenderCase::Open {
                recipient_signing_seed,
                recipient_kem_seed,
                roots,
                paddings,
                max_age_ms,
                max_skew_ms,
                capacity,
                steps,
                expected_error,
            } => run_open(
                recipient_signing_seed,
                recipient_kem_seed,
                roots,
                paddings,
                *max_age_ms,
                *max_skew_ms,
                *capacity,
                steps,
                expected_error,
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// The issuer of spec/05 §12.1.
const ISSUER_SEED: [u8; 32] = [9; 32];
/// An issuer bob does not trust.
const OTHER_ISSUER_SEED: [u8; 32] = [8; 32];
/// The senders' clock when sealing: 2023-11-14 22:13:20 UTC.
const NOW: u64 = 1_700_000_000_000;
/// Certificate expiry, one day later (spec/05 §12.1).
const EXPIRES: u64 = NOW + DAY;
const DAY: u64 = 86_400_000;
/// Time between sealing and opening.
const TRANSIT: u64 = 2_000;
/// When bob opens.
const OPEN_AT: u64 = NOW + TRANSIT;
/// The defaults of spec/05 §7.4.
const MAX_AGE: u64 = 7 * DAY;
const MAX_SKEW: u64 = 300_000;
const CAPACITY: u64 = 100_000;
/// The neutral element: a small-order Ed25519 key (spec/02 §3.5).
const NEUTRAL: [u8; 32] = {
    let mut p = [0; 32];
    p[0] = 1;
    p
};

use crate::deterministic_bytes as bytes;

fn message_id(label: &str) -> [u8; 16] {
    bytes(&format!("sealed id {label}"), 16)
        .try_into()
        .expect("16")
}

fn eseed(label: &str) -> [u8; ENCAPS_RANDOMNESS_LEN] {
    bytes(&format!("sealed eseed {label}"), ENCAPS_RANDOMNESS_LEN)
        .try_into()
        .expect("64")
}

fn content(len: usize) -> Vec<u8> {
    match len {
        5 => b"hello".to_vec(),
        _ => bytes(&format!("sealed content {len}"), len),
    }
}

fn vector(name: &str, description: &str, case: SealedSenderCase) -> SealedSenderVector {
    SealedSenderVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

/// Flips bit `bit` of byte `index`.
fn flip(index: usize, bit: u8) -> impl Fn(&mut Vec<u8>) {
    move |b| b[index] ^= 1 << bit
}

/// A varint (minimal), for hand-made length fields.
fn varint(value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    qpc_wire::varint::encode(value, &mut out).expect("small");
    out
}

struct Person {
    signing_seed: [u8; 32],
    kem_seed: [u8; 32],
    id: Identity,
}

impl Person {
    fn new(signing_seed: [u8; 32], kem_seed: [u8; 32]) -> Self {
        Person {
            signing_seed,
            kem_seed,
            id: Identity::from_seeds(&signing_seed, &kem_seed),
        }
    }

    fn public(&self) -> &PublicIdentity {
        self.id.public()
    }

    fn address(&self) -> [u8; 16] {
        *self.public().address().as_bytes()
    }
}

/// A receiver configuration.
#[derive(Clone)]
struct Rx {
    signing_seed: [u8; 32],
    kem_seed: [u8; 32],
    roots: Vec<Vec<u8>>,
    paddings: Vec<Scheme>,
    max_age_ms: u64,
    max_skew_ms: u64,
    capacity: u64,
}

/// The expected result of a step.
#[derive(Clone, Copy)]
enum Want {
    Message,
    Decoy,
    Fails(&'static str),
}

fn step(now_ms: u64, s: &Sealed, want: Want) -> Step {
    let mut step = Step {
        now_ms,
        sealed: s.bytes.clone(),
        result: String::new(),
        sender: None,
        sender_key: None,
        timestamp_ms: None,
        message_id: None,
        content: None,
    };
    match want {
        Want::Message => {
            step.result = "message".into();
            step.sender = Some(HexBytes(s.sender.to_vec()));
            step.sender_key = Some(HexBytes(s.sender_key.to_vec()));
            step.timestamp_ms = Some(s.timestamp_ms);
            step.message_id = Some(HexBytes(s.message_id.to_vec()));
            step.content = Some(HexBytes(s.content.clone()));
        }
        Want::Decoy => step.result = "decoy".into(),
        Want::Fails(class) => step.result = class.into(),
    }
    step
}

fn open(name: &str, description: &str, rx: &Rx, steps: Vec<Step>) -> SealedSenderVector {
    let last = &steps.last().expect("a step").result;
    let expected_error = (!is_delivery(last)).then(|| last.clone());
    vector(
        name,
        description,
        SealedSenderCase::Open {
            recipient_signing_seed: rx.signing_seed.to_vec(),
            recipient_kem_seed: rx.kem_seed.to_vec(),
            roots: rx.roots.iter().cloned().map(HexBytes).collect(),
            paddings: rx.paddings.clone(),
            max_age_ms: rx.max_age_ms,
            max_skew_ms: rx.max_skew_ms,
            capacity: rx.capacity,
            steps,
            expected_error,
        },
    )
}

/// A single-step transcript at [`OPEN_AT`].
fn open1(name: &str, description: &str, rx: &Rx, s: &Sealed, want: Want) -> SealedSenderVector {
    open(name, description, rx, vec![step(OPEN_AT, s, want)])
}

struct World {
    alice: Person,
    bob: Person,
    carol: Person,
    /// Alice's signing key with another KEM key.
    alice_kem2: Person,
    cert_alice: SenderCertificate,
    cert_carol: SenderCertificate,
}

impl World {
    fn new() -> Self {
        let issuer = Issuer::from_seed(&ISSUER_SEED);
        let alice = Person::new([1; 32], [2; 32]);
        let cert_alice = issuer.issue(alice.public(), EXPIRES);
        let carol = Person::new([5; 32], [6; 32]);
        let cert_carol = issuer.issue(carol.public(), EXPIRES);
        assert_eq!(
            issue_raw(
                &ISSUER_SEED,
                cert_alice.signing_key,
                cert_alice.kem_key_digest,
                EXPIRES
            ),
            cert_alice,
            "issue_raw and Issuer::issue differ"
        );
        World {
            alice,
            bob: Person::new([3; 32], [4; 32]),
            carol,
            alice_kem2: Person::new([1; 32], [7; 32]),
            cert_alice,
            cert_carol,
        }
    }

    fn rx(&self, who: &Person) -> Rx {
        Rx {
            signing_seed: who.signing_seed,
            kem_seed: who.kem_seed,
            roots: vec![issuer_public(&ISSUER_SEED)],
            paddings: vec![Scheme::Padme, Scheme::Lora],
            max_age_ms: MAX_AGE,
            max_skew_ms: MAX_SKEW,
            capacity: CAPACITY,
        }
    }

    fn bob_rx(&self) -> Rx {
        self.rx(&self.bob)
    }

    /// Alice's message `label` to bob at [`NOW`], Padmé.
    fn draft(&self, label: &str, content: &[u8]) -> Draft<'_> {
        Draft {
            signer: &self.alice.id,
            certificate: encode_certificate(&self.cert_alice),
            recipient: self.bob.public(),
            kind: 0,
            timestamp_ms: NOW,
            message_id: message_id(label),
            content: content.to_vec(),
            padded: pad(Padding::Padme, content).expect("pads"),
            eseed: eseed(label),
            signed_recipient: None,
            binding_from: None,
            sign_context: SignatureContext::SealedSender,
            aad: None,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn certificate_vector(
    name: &str,
    description: &str,
    issuer_seed: [u8; 32],
    signing_key: [u8; 32],
    kem_key_digest: [u8; 32],
    expires_ms: u64,
    roots: Vec<Vec<u8>>,
    now_ms: u64,
    error: Option<&str>,
) -> SealedSenderVector {
    let cert = issue_raw(&issuer_seed, signing_key, kem_key_digest, expires_ms);
    vector(
        name,
        description,
        SealedSenderCase::Certificate {
            issuer_seed: issuer_seed.to_vec(),
            signing_key: signing_key.to_vec(),
            kem_key_digest: kem_key_digest.to_vec(),
            expires_ms,
            roots: roots.into_iter().map(HexBytes).collect(),
            now_ms,
            issuer_key_id: cert.issuer_key_id.to_vec(),
            encoded: encode_certificate(&cert),
            sender_address: cert.sender_address().as_bytes().to_vec(),
            expected_error: error.map(Into::into),
        },
    )
}

fn certificates(w: &World) -> Vec<SealedSenderVector> {
    let key = |p: &Person| p.public().signing_key().to_bytes();
    let digest = |p: &Person| *p.public().kem_key_digest();
    let root = issuer_public(&ISSUER_SEED);
    let other = issuer_public(&OTHER_ISSUER_SEED);
    let weak_root = NEUTRAL.to_vec();
    let (ak, ad) = (key(&w.alice), digest(&w.alice));
    let cert = |name: &str,
                desc: &str,
                signing_key: [u8; 32],
                expires_ms: u64,
                roots: Vec<Vec<u8>>,
                now_ms: u64,
                error: Option<&str>| {
        certificate_vector(
            name,
            desc,
            ISSUER_SEED,
            signing_key,
            ad,
            expires_ms,
            roots,
            now_ms,
            error,
        )
    };
    vec![
        cert(
            "certificate-worked-example",
            "spec/05 §12.1: issuer seed 09*32 certifies alice (seeds 01*32, 02*32) until 1700086400000; verified one day earlier",
            ak,
            EXPIRES,
            vec![root.clone()],
            NOW,
            None,
        ),
        certificate_vector(
            "certificate-carol",
            "carol's keys, verified at the certificate's last valid millisecond",
            ISSUER_SEED,
            key(&w.carol),
            digest(&w.carol),
            EXPIRES,
            vec![root.clone()],
            EXPIRES - 1,
            None,
        ),
        certificate_vector(
            "certificate-other-issuer-second-root",
            "issued by the other issuer (seed 08*32), found as the second of two roots by its key id",
            OTHER_ISSUER_SEED,
            ak,
            ad,
            EXPIRES,
            vec![root.clone(), other.clone()],
            NOW,
            None,
        ),
        cert(
            "certificate-expires-max",
            "expires_ms = 2^64 - 1, verified at 2^64 - 2",
            ak,
            u64::MAX,
            vec![root.clone()],
            u64::MAX - 1,
            None,
        ),
        cert(
            "certificate-expired",
            "verified at now_ms = expires_ms: expiry is exclusive (§4.6)",
            ak,
            EXPIRES,
            vec![root.clone()],
            EXPIRES,
            Some("expired_certificate"),
        ),
        cert(
            "certificate-expires-zero",
            "expires_ms = 0 is expired at every time, even now_ms = 0",
            ak,
            0,
            vec![root.clone()],
            0,
            Some("expired_certificate"),
        ),
        cert(
            "certificate-unknown-issuer",
            "the verifier trusts only the other issuer (C1)",
            ak,
            EXPIRES,
            vec![other.clone()],
            NOW,
            Some("unknown_issuer"),
        ),
        cert(
            "certificate-no-roots",
            "the verifier trusts nobody (C1)",
            ak,
            EXPIRES,
            vec![],
            NOW,
            Some("unknown_issuer"),
        ),
        cert(
            "certificate-unknown-issuer-and-expired",
            "unknown issuer at now_ms = expires_ms: C1 comes before C3",
            ak,
            EXPIRES,
            vec![other.clone()],
            EXPIRES,
            Some("unknown_issuer"),
        ),
        cert(
            "certificate-small-order-signing-key",
            "a validly signed certificate for the neutral element as signing key (C4)",
            NEUTRAL,
            EXPIRES,
            vec![root.clone()],
            NOW,
            Some("invalid_public_key"),
        ),
        cert(
            "certificate-small-order-signing-key-expired",
            "a small-order signing key at now_ms = expires_ms: C3 comes before C4",
            NEUTRAL,
            EXPIRES,
            vec![root.clone()],
            EXPIRES,
            Some("expired_certificate"),
        ),
        cert(
            "certificate-root-31-bytes",
            "a trust-root key of 31 bytes is refused at configuration (§4.4)",
            ak,
            EXPIRES,
            vec![root[..31].to_vec()],
            NOW,
            Some("wrong_length"),
        ),
        cert(
            "certificate-root-small-order",
            "a small-order trust-root key (the neutral element) is refused at configuration (§4.4), before the matching root is used",
            ak,
            EXPIRES,
            vec![weak_root, root],
            NOW,
            Some("invalid_public_key"),
        ),
    ]
}

struct SealSpec<'a> {
    name: String,
    sender: &'a Person,
    description: String,
    draft: Draft<'a>,
    padding: Scheme,
    /// The receiver that accepts it.
    rx: Rx,
}

fn seal_vector(spec: &SealSpec<'_>) -> SealedSenderVector {
    let d = &spec.draft;
    let sender = spec.sender;
    let (qpc, padded, parts) = run_seal(
        &sender.signing_seed,
        &sender.kem_seed,
        &d.certificate,
        &d.recipient.to_bytes(),
        d.kind,
        d.timestamp_ms,
        &d.message_id,
        &d.content,
        spec.padding,
        &d.eseed,
    )
    .expect("valid inputs")
    .expect("seals");
    vector(
        &spec.name,
        &spec.description,
        SealedSenderCase::Seal {
            sender_signing_seed: sender.signing_seed.to_vec(),
            sender_kem_seed: sender.kem_seed.to_vec(),
            certificate: d.certificate.clone(),
            recipient_public_identity: d.recipient.to_bytes().to_vec(),
            message_kind: d.kind,
            timestamp_ms: d.timestamp_ms,
            message_id: d.message_id.to_vec(),
            content: Some(HexBytes(d.content.clone())),
            content_len: None,
            padding: spec.padding,
            eseed: d.eseed.to_vec(),
            padded_content: Some(HexBytes(padded)),
            binding: Some(HexBytes(parts.binding)),
            signed: Some(HexBytes(parts.signed)),
            signature: Some(HexBytes(parts.signature)),
            inner: Some(HexBytes(parts.inner)),
            sealed: Some(HexBytes(qpc)),
            expected_error: None,
        },
    )
}

/// Positive `seal` vectors, each followed by an `open` that accepts it.
fn seals(w: &World) -> Vec<SealedSenderVector> {
    let lora_only = Rx {
        paddings: vec![Scheme::Lora],
        ..w.bob_rx()
    };
    let mut specs = Vec::new();
    for (kind, len) in [
        (0, 0),
        (0, 5),
        (0, 100),
        (0, 1024),
        (0, 4096),
        (1, 0),
        (1, 100),
        (1, 1024),
        (1, 4096),
    ] {
        let what = if kind == 0 { "message" } else { "decoy" };
        let label = format!("{what}-{len}");
        let mut draft = w.draft(&label, &content(len));
        draft.kind = kind;
        let size = match len {
            0 => " (the layout of spec/05 §12.2)",
            5 => " (\"hello\")",
            _ => "",
        };
        specs.push(SealSpec {
            name: label.clone(),
            sender: &w.alice,
            description: format!("alice seals a {what} of {len} bytes to bob, Padmé{size}"),
            draft,
            padding: Scheme::Padme,
            rx: w.bob_rx(),
        });
    }
    for len in [5, 221] {
        let label = format!("lora-message-{len}");
        let mut draft = w.draft(&label, &content(len));
        draft.padded = pad(Padding::Buckets(LORA_BUCKETS), &draft.content).expect("fits");
        specs.push(SealSpec {
            name: label,
            sender: &w.alice,
            description: format!(
                "alice seals {len} bytes to bob for a LoRa link, padded to the {}-byte bucket; bob accepts the default paddings (Padmé and the buckets)",
                draft.padded.len()
            ),
            draft,
            padding: Scheme::Lora,
            rx: w.bob_rx(),
        });
    }
    specs.push(SealSpec {
        name: "message-23".into(),
        sender: &w.alice,
        description: "alice seals 23 bytes, Padmé: the 24 padded bytes are also the canonical LoRa bucket padding (§5.3)".into(),
        draft: w.draft("message-23", &content(23)),
        padding: Scheme::Padme,
        rx: w.bob_rx(),
    });
    let mut carol = w.draft("carol-message-5", b"hello");
    carol.signer = &w.carol.id;
    carol.certificate = encode_certificate(&w.cert_carol);
    specs.push(SealSpec {
        name: "carol-message-5".into(),
        sender: &w.carol,
        description: "carol seals \"hello\" to bob with her own certificate".into(),
        draft: carol,
        padding: Scheme::Padme,
        rx: w.bob_rx(),
    });
    let mut out = Vec::new();
    let both = specs
        .iter()
        .find(|s| s.name == "message-23")
        .expect("message-23")
        .draft
        .sealed();
    for spec in &specs {
        let mut seal = seal_vector(spec);
        seal.name = format!("seal-{}", spec.name);
        out.push(seal);
        let kind = if spec.draft.kind == 0 {
            Want::Message
        } else {
            Want::Decoy
        };
        out.push(open1(
            &format!("open-{}", spec.name),
            &format!(
                "bob opens seal-{} {TRANSIT} ms after it was sealed{}",
                spec.name,
                if spec.draft.kind == 1 {
                    ": a valid decoy is discarded"
                } else {
                    ""
                }
            ),
            &spec.rx,
            &spec.draft.sealed(),
            kind,
        ));
    }
    out.push(open1(
        "open-message-23-at-lora-only-receiver",
        "seal-message-23 at a receiver whose paddings hold only the LoRa buckets: canonical there too",
        &lora_only,
        &both,
        Want::Message,
    ));
    out.push(open1(
        "open-message-23-at-padme-only-receiver",
        "seal-message-23 at a receiver whose paddings hold only Padmé",
        &Rx {
            paddings: vec![Scheme::Padme],
            ..w.bob_rx()
        },
        &both,
        Want::Message,
    ));
    out
}

/// A seal input's content.
#[derive(Clone)]
enum Content {
    Bytes(Vec<u8>),
    /// The bytes `i mod 251`.
    Len(usize),
}

/// `seal` vectors that must fail (§6).
fn seal_failures(w: &World) -> Vec<SealedSenderVector> {
    let base = w.draft("seal-failure", b"hello");
    let bob = w.bob.public().to_bytes().to_vec();
    let fail = |name: &str,
                desc: &str,
                sender: &Person,
                certificate: Vec<u8>,
                recipient: Vec<u8>,
                message_id: Vec<u8>,
                content: Content,
                padding: Scheme,
                eseed: Vec<u8>,
                error: &str| {
        vector(
            name,
            desc,
            SealedSenderCase::Seal {
                sender_signing_seed: sender.signing_seed.to_vec(),
                sender_kem_seed: sender.kem_seed.to_vec(),
                certificate,
                recipient_public_identity: recipient,
                message_kind: 0,
                timestamp_ms: NOW,
                message_id,
                content: match &content {
                    Content::Bytes(b) => Some(HexBytes(b.clone())),
                    Content::Len(_) => None,
                },
                content_len: match content {
                    Content::Bytes(_) => None,
                    Content::Len(len) => Some(len),
                },
                padding,
                eseed,
                padded_content: None,
                binding: None,
                signed: None,
                signature: None,
                inner: None,
                sealed: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let cert = base.certificate.clone();
    let id = base.message_id.to_vec();
    let hello = Content::Bytes(b"hello".to_vec());
    let e = base.eseed.to_vec();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bob.clone();
        f(&mut b);
        b
    };
    vec![
        fail(
            "seal-certificate-of-another-identity",
            "alice seals with carol's certificate (S0)",
            &w.alice,
            encode_certificate(&w.cert_carol),
            bob.clone(),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "certificate_mismatch",
        ),
        fail(
            "seal-certificate-other-kem-key",
            "an identity with alice's signing key but another KEM key seals with alice's certificate: the kem_key_digest differs (S0)",
            &w.alice_kem2,
            cert.clone(),
            bob.clone(),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "certificate_mismatch",
        ),
        fail(
            "seal-certificate-143-bytes",
            "the certificate input is 143 bytes",
            &w.alice,
            cert[..143].to_vec(),
            bob.clone(),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "wrong_length",
        ),
        fail(
            "seal-too-long-to-pad",
            "222 bytes padded for a LoRa link: 223 bytes with the marker exceed the largest bucket (S2)",
            &w.alice,
            cert.clone(),
            bob.clone(),
            id.clone(),
            Content::Bytes(content(222)),
            Scheme::Lora,
            e.clone(),
            "too_long_to_pad",
        ),
        fail(
            "seal-content-too-long",
            "content of 1048576 bytes (i mod 251), Padmé: padded to 1081344 bytes, over MAX_CONTENT_LEN; the sender emits nothing (S3)",
            &w.alice,
            cert.clone(),
            bob.clone(),
            id.clone(),
            Content::Len(1 << 20),
            Scheme::Padme,
            e.clone(),
            "content_too_long",
        ),
        fail(
            "seal-recipient-1248-bytes",
            "the recipient's PublicIdentity without its last byte (02 §3.3 step 1)",
            &w.alice,
            cert.clone(),
            bob[..PUBLIC_IDENTITY_LEN - 1].to_vec(),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "wrong_length",
        ),
        fail(
            "seal-recipient-version-2",
            "the recipient's PublicIdentity has version 2 (02 §3.3 step 2)",
            &w.alice,
            cert.clone(),
            with(&|b| b[0] = 2),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "unknown_version",
        ),
        fail(
            "seal-recipient-small-order-x25519",
            "the recipient's X25519 half is all zero: decoding the identity refuses it (02 §3.3 step 5) before encapsulation could fail with non_contributory (S4)",
            &w.alice,
            cert.clone(),
            with(&|b| b[PUBLIC_IDENTITY_LEN - 32..].fill(0)),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "invalid_public_key",
        ),
        fail(
            "seal-recipient-mlkem-unreduced",
            "the recipient's first ML-KEM coefficient is 0xfff (03 §2.3)",
            &w.alice,
            cert.clone(),
            with(&|b| {
                b[33] = 0xff;
                b[34] |= 0x0f;
            }),
            id.clone(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "invalid_public_key",
        ),
        fail(
            "seal-message-id-15-bytes",
            "a message id of 15 bytes",
            &w.alice,
            cert.clone(),
            bob.clone(),
            id[..15].to_vec(),
            hello.clone(),
            Scheme::Padme,
            e.clone(),
            "wrong_length",
        ),
        fail(
            "seal-eseed-63-bytes",
            "an eseed of 63 bytes",
            &w.alice,
            cert,
            bob,
            id,
            hello,
            Scheme::Padme,
            e[..63].to_vec(),
            "wrong_length",
        ),
    ]
}

/// Negative `open` vectors on the outer layer (R1–R11).
fn outer_failures(w: &World) -> Vec<SealedSenderVector> {
    let rx = w.bob_rx();
    let base = w.draft("message-0", b"").sealed();
    let len = base.bytes.len();
    assert_eq!(len, 1390, "spec/05 §8.2");
    let ct_start = OUTER_FIXED + 2; // the length is `40 fb`
    let bad = |name: &str, desc: &str, s: Sealed, class: &'static str| {
        open1(name, desc, &rx, &s, Want::Fails(class))
    };
    let flipped = |name: &str, desc: &str, index: usize, bit: u8, class: &'static str| {
        bad(name, desc, base.map(flip(index, bit)), class)
    };
    let cut = |name: &str, at: usize, what: &str| {
        bad(
            name,
            &format!(
                "the first {at} byte{} of message-0: {what}",
                if at == 1 { "" } else { "s" }
            ),
            base.map(|b| b.truncate(at)),
            "truncated",
        )
    };
    let with_length = |length: &[u8], body: &[u8]| {
        base.map(|b| {
            b.truncate(OUTER_FIXED);
            b.extend_from_slice(length);
            b.extend_from_slice(body);
        })
    };
    let body = base.bytes[ct_start..].to_vec();
    let mut out = vec![
        open1(
            "open-wrong-recipient",
            "alice's message to bob, opened by carol (R7)",
            &w.rx(&w.carol),
            &base,
            Want::Fails("wrong_recipient"),
        ),
        flipped(
            "open-flip-version",
            "bit 7 of the version byte flipped: version 0x81 (R2)",
            0,
            7,
            "unknown_version",
        ),
        bad(
            "open-version-0",
            "version 0 (reserved)",
            base.map(|b| b[0] = 0),
            "unknown_version",
        ),
        bad(
            "open-version-2",
            "version 2 (unassigned)",
            base.map(|b| b[0] = 2),
            "unknown_version",
        ),
        bad(
            "open-version-2-alone",
            "the single byte 02: the version is checked before anything else is read (R2 before R3)",
            base.map(|b| *b = vec![2]),
            "unknown_version",
        ),
        flipped(
            "open-flip-recipient-first",
            "bit 0 of the recipient's first byte flipped (R7)",
            1,
            0,
            "wrong_recipient",
        ),
        flipped(
            "open-flip-recipient-last",
            "bit 7 of the recipient's last byte flipped (R7)",
            16,
            7,
            "wrong_recipient",
        ),
        flipped(
            "open-flip-ct-m-first",
            "bit 0 of enc's first byte (ML-KEM ciphertext) flipped: implicit rejection gives another key",
            17,
            0,
            "open_failed",
        ),
        flipped(
            "open-flip-ct-m-last",
            "bit 7 of the ML-KEM ciphertext's last byte flipped",
            17 + MLKEM_CT_LEN - 1,
            7,
            "open_failed",
        ),
        flipped(
            "open-flip-ct-x-first",
            "bit 0 of enc's X25519 part flipped",
            17 + MLKEM_CT_LEN,
            0,
            "open_failed",
        ),
        flipped(
            "open-flip-ct-x-top-bit",
            "bit 7 of ct_X's last byte flipped: X25519 ignores it (same DH output), but the X-Wing combiner hashes ct_X as bytes",
            OUTER_FIXED - 1,
            7,
            "open_failed",
        ),
        flipped(
            "open-flip-length-low-bit",
            "the ciphertext length 40fb becomes 40fa (250): one byte is left over (R6)",
            OUTER_FIXED + 1,
            0,
            "trailing_bytes",
        ),
        flipped(
            "open-flip-length-grow",
            "the ciphertext length 40fb becomes 40ff (255): the message ends inside the ciphertext (R5)",
            OUTER_FIXED + 1,
            2,
            "truncated",
        ),
        flipped(
            "open-flip-length-prefix",
            "the ciphertext length's first byte 40 becomes c0: the reserved varint prefix (R5)",
            OUTER_FIXED,
            7,
            "invalid_length_prefix",
        ),
        flipped(
            "open-flip-length-one-byte-form",
            "the length's first byte 40 becomes 00: a one-byte length 0, then 252 bytes left over (R6)",
            OUTER_FIXED,
            6,
            "trailing_bytes",
        ),
        flipped(
            "open-flip-ciphertext-first",
            "bit 0 of the ciphertext's first byte flipped (R11)",
            ct_start,
            0,
            "open_failed",
        ),
        flipped(
            "open-flip-ciphertext-middle",
            "bit 3 of ciphertext byte 117 flipped (R11)",
            ct_start + 117,
            3,
            "open_failed",
        ),
        flipped(
            "open-flip-tag-first",
            "bit 0 of the tag's first byte flipped (R11)",
            len - 16,
            0,
            "open_failed",
        ),
        flipped(
            "open-flip-tag-last",
            "bit 7 of the tag's last byte flipped (R11)",
            len - 1,
            7,
            "open_failed",
        ),
        cut("open-empty", 0, "nothing (R1)"),
        cut("open-truncated-version-only", 1, "the version alone (R3)"),
        cut(
            "open-truncated-in-recipient",
            10,
            "a 9-byte recipient (R3)",
        ),
        cut(
            "open-truncated-after-recipient",
            17,
            "no enc (R4)",
        ),
        cut(
            "open-truncated-in-ct-m",
            600,
            "enc ends inside the ML-KEM ciphertext (R4)",
        ),
        cut(
            "open-truncated-after-ct-m",
            17 + MLKEM_CT_LEN,
            "enc without its X25519 part (R4)",
        ),
        cut(
            "open-truncated-after-enc",
            OUTER_FIXED,
            "no ciphertext length (R5)",
        ),
        cut(
            "open-truncated-in-length",
            OUTER_FIXED + 1,
            "half of the 2-byte ciphertext length (R5)",
        ),
        cut(
            "open-truncated-after-length",
            OUTER_FIXED + 2,
            "a length of 251 and no ciphertext (R5)",
        ),
        cut(
            "open-truncated-in-ciphertext",
            ct_start + 100,
            "100 of 251 ciphertext bytes (R5)",
        ),
        cut(
            "open-truncated-without-tag",
            len - 16,
            "the ciphertext without its tag (R5)",
        ),
        cut(
            "open-truncated-last-byte",
            len - 1,
            "the last byte missing (R5)",
        ),
        bad(
            "open-extended-one-byte",
            "message-0 followed by one zero byte (R6)",
            base.map(|b| b.push(0)),
            "trailing_bytes",
        ),
        bad(
            "open-extended-16-bytes",
            "message-0 followed by 16 bytes ff (R6)",
            base.map(|b| b.extend_from_slice(&[0xff; 16])),
            "trailing_bytes",
        ),
        bad(
            "open-ciphertext-too-long",
            "a ciphertext length of 1048830, one more than MAX_CIPHERTEXT_LEN, with no ciphertext: the limit is checked before the bytes are read (R5)",
            with_length(&varint(1_048_830), &[]),
            "too_many_items",
        ),
        bad(
            "open-ciphertext-at-limit-truncated",
            "a ciphertext length of 1048829 (MAX_CIPHERTEXT_LEN, allowed) with only 251 bytes (R5)",
            with_length(&varint(1_048_829), &body),
            "truncated",
        ),
        bad(
            "open-length-non-minimal",
            "the ciphertext length 251 as the 4-byte varint 800000fb (R5)",
            with_length(&[0x80, 0, 0, 0xfb], &body),
            "non_minimal_length",
        ),
        bad(
            "open-length-reserved-prefix",
            "the ciphertext length as c0fb, the reserved prefix (R5)",
            with_length(&[0xc0, 0xfb], &body),
            "invalid_length_prefix",
        ),
        bad(
            "open-ct-x-zero",
            "enc's X25519 part all zero: the X25519 output is all zero (R8)",
            base.map(|b| b[17 + MLKEM_CT_LEN..OUTER_FIXED].fill(0)),
            "non_contributory",
        ),
        bad(
            "open-ciphertext-15-bytes",
            "a ciphertext of 15 bytes, shorter than the tag (R10)",
            with_length(&varint(15), &body[..15]),
            "open_failed",
        ),
        bad(
            "open-ciphertext-empty",
            "an empty ciphertext (R10)",
            with_length(&varint(0), &[]),
            "open_failed",
        ),
        bad(
            "open-ciphertext-tag-only",
            "the ciphertext is its last 16 bytes, the tag alone (R11)",
            with_length(&varint(16), &body[body.len() - 16..]),
            "open_failed",
        ),
        bad(
            "open-order-truncated-and-wrong-recipient",
            "recipient flipped and the last byte missing: the layout (R5) comes before the recipient (R7)",
            base.map(|b| {
                b[1] ^= 1;
                b.pop();
            }),
            "truncated",
        ),
        bad(
            "open-order-trailing-and-wrong-recipient",
            "recipient flipped and one byte appended: R6 comes before R7",
            base.map(|b| {
                b[1] ^= 1;
                b.push(0);
            }),
            "trailing_bytes",
        ),
        bad(
            "open-order-wrong-recipient-and-ct-x-zero",
            "recipient flipped and enc's X25519 part zero: R7 comes before R8",
            base.map(|b| {
                b[1] ^= 1;
                b[17 + MLKEM_CT_LEN..OUTER_FIXED].fill(0);
            }),
            "wrong_recipient",
        ),
        bad(
            "open-order-ct-x-zero-and-short-ciphertext",
            "enc's X25519 part zero and a 15-byte ciphertext: R8 comes before R10",
            with_length(&varint(15), &body[..15]).map(|b| b[17 + MLKEM_CT_LEN..OUTER_FIXED].fill(0)),
            "non_contributory",
        ),
    ];
    let mut wrong_aad = w.draft("message-0", b"");
    wrong_aad.aad = Some(Vec::new());
    out.push(bad(
        "open-aad-empty",
        "message-0 encrypted with an empty aad instead of version || recipient (R11)",
        wrong_aad.sealed(),
        "open_failed",
    ));
    let mut other_recipient_aad = w.draft("message-0", b"");
    other_recipient_aad.aad = Some([&[SEALED_VERSION][..], &w.carol.address()].concat());
    out.push(bad(
        "open-aad-other-recipient",
        "message-0 encrypted with aad 01 || carol's address, sent to bob (R11)",
        other_recipient_aad.sealed(),
        "open_failed",
    ));
    out
}

/// Negative `open` vectors on the inner layer, the certificate and the
/// sender signature (R12–R25).
fn inner_failures(w: &World) -> Vec<SealedSenderVector> {
    let rx = w.bob_rx();
    let d = w.draft("message-0", b"");
    // Inner offsets (spec/05 §5.3), for content 0: P = 1.
    const CERT: usize = 1;
    const TS: usize = 145;
    const ID: usize = 153;
    const P: usize = 169;
    const SIG: usize = 171;
    let inner = |name: &str, desc: &str, tamper: &dyn Fn(&mut Vec<u8>), class: &'static str| {
        open1(
            name,
            &format!(
                "{desc}; re-encrypted to bob with message-0's eseed, so the binding is unchanged"
            ),
            &rx,
            &d.sealed_with_inner(tamper),
            Want::Fails(class),
        )
    };
    let flipped = |name: &str, desc: &str, index: usize, class: &'static str| {
        inner(name, desc, &flip(index, 0), class)
    };
    let mut out = vec![
        inner("open-inner-kind-2", "inner kind 2 (R13)", &|b| b[0] = 2, "malformed"),
        inner("open-inner-kind-255", "inner kind 255 (R13)", &|b| b[0] = 255, "malformed"),
        inner(
            "open-inner-kind-2-alone",
            "the inner message is the single byte 02: the kind is checked before anything else is read (R13 before R14)",
            &|b| *b = vec![2],
            "malformed",
        ),
        inner("open-inner-empty", "an empty inner message (R12)", &|b| b.clear(), "truncated"),
        inner(
            "open-inner-kind-only",
            "the inner message is the kind byte alone (R14)",
            &|b| b.truncate(1),
            "truncated",
        ),
        inner(
            "open-inner-truncated-in-certificate",
            "the inner message cut to 100 bytes, inside the certificate (R14)",
            &|b| b.truncate(100),
            "truncated",
        ),
        inner(
            "open-inner-truncated-in-timestamp",
            "the inner message cut to 150 bytes, inside the timestamp (R15)",
            &|b| b.truncate(150),
            "truncated",
        ),
        inner(
            "open-inner-truncated-in-message-id",
            "the inner message cut to 160 bytes, inside the message id (R16)",
            &|b| b.truncate(160),
            "truncated",
        ),
        inner(
            "open-inner-truncated-before-content",
            "the inner message cut before the content length (R17)",
            &|b| b.truncate(P),
            "truncated",
        ),
        inner(
            "open-inner-truncated-signature",
            "the inner message without the signature's last byte (R18)",
            &|b| {
                b.pop();
            },
            "truncated",
        ),
        inner(
            "open-inner-trailing-byte",
            "one zero byte after the inner message's signature (R19)",
            &|b| b.push(0),
            "trailing_bytes",
        ),
        inner(
            "open-inner-content-too-long",
            "a padded-content length of 1048577, one more than the limit, and nothing after it (R17)",
            &|b| {
                b.truncate(P);
                b.extend_from_slice(&varint(1_048_577));
            },
            "too_many_items",
        ),
        inner(
            "open-inner-content-non-minimal",
            "the padded-content length 1 as the 2-byte varint 4001 (R17)",
            &|b| {
                b[P] = 0x01;
                b.insert(P, 0x40);
            },
            "non_minimal_length",
        ),
        inner(
            "open-inner-content-reserved-prefix",
            "the padded-content length byte 01 becomes c1, the reserved prefix (R17)",
            &|b| b[P] = 0xc1,
            "invalid_length_prefix",
        ),
        flipped(
            "open-inner-flip-kind",
            "bit 0 of the kind flipped: the message becomes a decoy the sender did not sign (R25)",
            0,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-signing-key",
            "bit 0 of the certificate's signing key flipped: the issuer signature fails (R21)",
            CERT,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-kem-key-digest",
            "bit 0 of the certificate's kem_key_digest flipped (R21)",
            CERT + 32,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-expires",
            "bit 0 of the certificate's expires_ms flipped (R21)",
            CERT + 64 + 7,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-issuer-key-id",
            "bit 0 of the certificate's issuer_key_id flipped: no root has that id (R20)",
            CERT + 72,
            "unknown_issuer",
        ),
        flipped(
            "open-inner-flip-issuer-signature",
            "bit 0 of the certificate's issuer signature flipped (R21)",
            CERT + 80,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-timestamp",
            "bit 0 of timestamp_ms flipped (R25)",
            TS + 7,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-message-id",
            "bit 0 of the message id flipped (R25)",
            ID,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-content-length",
            "the padded-content length 01 becomes 00: the signature then starts one byte early and one byte is left over (R19)",
            P,
            "trailing_bytes",
        ),
        flipped(
            "open-inner-flip-content",
            "the padding marker 80 becomes 81: the signature covers the padded content (R25, before padding R28)",
            P + 1,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-signature-r",
            "bit 0 of the sender signature's R flipped (R25)",
            SIG,
            "bad_signature",
        ),
        flipped(
            "open-inner-flip-signature-s",
            "bit 0 of the sender signature's S flipped (R25)",
            SIG + 32,
            "bad_signature",
        ),
    ];

    // Certificates (R20–R23).
    let issuer_cert = |cert: &SenderCertificate| {
        let mut d = w.draft("message-0", b"");
        d.certificate = encode_certificate(cert);
        d
    };
    let other_issuer = Issuer::from_seed(&OTHER_ISSUER_SEED).issue(w.alice.public(), EXPIRES);
    out.push(open1(
        "open-unknown-issuer",
        "alice's certificate is from the other issuer, which bob does not trust (R20)",
        &rx,
        &issuer_cert(&other_issuer).sealed(),
        Want::Fails("unknown_issuer"),
    ));
    out.push(open1(
        "open-no-trust-roots",
        "message-0 at a receiver with no trust roots (R20)",
        &Rx {
            roots: vec![],
            ..rx.clone()
        },
        &d.sealed(),
        Want::Fails("unknown_issuer"),
    ));
    let mut extended = w.cert_alice.clone();
    extended.expires_ms += DAY;
    out.push(open1(
        "open-bad-issuer-signature",
        "alice's certificate with expires_ms moved one day later after signing, sealed by Sender (which checks only the keys) (R21)",
        &rx,
        &issuer_cert(&extended).sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut weak = issuer_cert(&issue_raw(
        &ISSUER_SEED,
        NEUTRAL,
        w.cert_alice.kem_key_digest,
        EXPIRES,
    ));
    weak.signer = &w.alice.id;
    out.push(open1(
        "open-certificate-small-order-key",
        "a certificate validly issued by bob's trust root for the neutral element (small order) as signing key (R23)",
        &rx,
        &weak.sealed(),
        Want::Fails("invalid_public_key"),
    ));
    out.push(open(
        "open-expired-certificate",
        "message-0 opened at now_ms = expires_ms (R22)",
        &rx,
        vec![step(
            EXPIRES,
            &d.sealed(),
            Want::Fails("expired_certificate"),
        )],
    ));
    let mut late = w.draft("late", b"hello");
    late.timestamp_ms = EXPIRES - 1_000;
    out.push(open(
        "open-expired-in-transit",
        "sealed one second before the certificate expires, opened one second after: the receiver's time decides (§4.6)",
        &rx,
        vec![step(EXPIRES + 1_000, &late.sealed(), Want::Fails("expired_certificate"))],
    ));
    out.push(open(
        "open-certificate-last-valid-ms",
        "message-0 opened at now_ms = expires_ms - 1",
        &rx,
        vec![step(EXPIRES - 1, &d.sealed(), Want::Message)],
    ));

    // Sender signatures (R25).
    let mut by_carol = w.draft("message-0", b"");
    by_carol.signer = &w.carol.id;
    out.push(open1(
        "open-signature-by-another-key",
        "signed by carol's key with alice's certificate (R25)",
        &rx,
        &by_carol.sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut other_recipient = w.draft("message-0", b"");
    other_recipient.signed_recipient = Some(w.carol.address());
    out.push(open1(
        "open-signature-over-another-recipient",
        "alice signed carol's address as recipient, with the right binding, and sealed to bob (R25)",
        &rx,
        &other_recipient.sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut other_binding = w.draft("message-0", b"");
    other_binding.binding_from = Some((w.bob.public(), eseed("another context")));
    out.push(open1(
        "open-signature-over-another-binding",
        "alice signed the binding of another HPKE context to bob (R25)",
        &rx,
        &other_binding.sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut resealed = w.draft("message-0", b"");
    resealed.binding_from = Some((w.bob.public(), resealed.eseed));
    resealed.eseed = eseed("resealed");
    out.push(open1(
        "open-resealed-under-new-enc",
        "message-0's genuine inner message (signed with its own binding) re-encrypted to bob under a new enc: the binding differs (§5.6, R25)",
        &rx,
        &resealed.sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut forwarded = w.draft("message-0", b"");
    forwarded.binding_from = Some((w.bob.public(), forwarded.eseed));
    forwarded.signed_recipient = Some(w.bob.address());
    forwarded.recipient = w.carol.public();
    forwarded.eseed = eseed("forwarded");
    out.push(open1(
        "open-resealed-to-another-recipient",
        "bob re-encrypts alice's genuine inner message to carol: recipient and binding differ (§5.6, R25)",
        &w.rx(&w.carol),
        &forwarded.sealed(),
        Want::Fails("bad_signature"),
    ));
    let mut test_label = w.draft("message-0", b"");
    test_label.sign_context = SignatureContext::Test;
    out.push(open1(
        "open-signature-other-label",
        "alice signed the right bytes under the label \"qpc sig v1 test\" (R25)",
        &rx,
        &test_label.sealed(),
        Want::Fails("bad_signature"),
    ));

    // Order of the certificate and signature checks.
    let mut untrusted_by_carol = issuer_cert(&other_issuer);
    untrusted_by_carol.signer = &w.carol.id;
    out.push(open(
        "open-order-unknown-issuer-and-bad-signature",
        "an untrusted issuer and a signature by the wrong key: R20 comes before R25",
        &rx,
        vec![step(
            OPEN_AT,
            &untrusted_by_carol.sealed(),
            Want::Fails("unknown_issuer"),
        )],
    ));
    let mut shortened = w.cert_alice.clone();
    shortened.expires_ms = NOW + 1_000;
    out.push(open1(
        "open-order-bad-issuer-signature-and-expired",
        "alice's certificate with expires_ms moved back to 1700000001000 after signing, opened at 1700000002000: it is expired by its (forged) field, but R21 comes before R22",
        &rx,
        &issuer_cert(&shortened).sealed(),
        Want::Fails("bad_signature"),
    ));
    out.push(open(
        "open-order-expired-and-bad-sender-signature",
        "signed by carol's key with alice's certificate, opened at expires_ms: R22 comes before R25",
        &rx,
        vec![step(EXPIRES, &by_carol.sealed(), Want::Fails("expired_certificate"))],
    ));
    out.push(open(
        "open-order-expired-and-small-order-key",
        "a certified small-order key opened at expires_ms: R22 comes before R23",
        &rx,
        vec![step(
            EXPIRES,
            &weak.sealed(),
            Want::Fails("expired_certificate"),
        )],
    ));
    out
}

/// Replay, the acceptance window and padding (R26–R29).
fn window_and_padding(w: &World) -> Vec<SealedSenderVector> {
    let rx = w.bob_rx();
    let hello = b"hello";
    let at = |label: &str, ts: u64| {
        let mut d = w.draft(label, hello);
        d.timestamp_ms = ts;
        d
    };
    let base = w.draft("message-5", hello);
    let m = base.sealed();
    let mut decoy = w.draft("decoy-5", hello);
    decoy.kind = 1;
    let mut out = vec![
        open(
            "open-replayed",
            "the same bytes opened twice (R27)",
            &rx,
            vec![
                step(OPEN_AT, &m, Want::Message),
                step(OPEN_AT + 1, &m, Want::Fails("replayed")),
            ],
        ),
        open(
            "open-replayed-resealed",
            "alice re-seals message-5 (same timestamp, id and content) under a new eseed: another encryption of the same message (§5.3, R27)",
            &rx,
            vec![
                step(OPEN_AT, &m, Want::Message),
                step(
                    OPEN_AT + 1,
                    &Draft {
                        eseed: eseed("retransmission"),
                        ..base.clone()
                    }
                    .sealed(),
                    Want::Fails("replayed"),
                ),
            ],
        ),
        open(
            "open-replayed-decoy",
            "a decoy opened twice: decoys are recorded like messages (§7.5)",
            &rx,
            vec![
                step(OPEN_AT, &decoy.sealed(), Want::Decoy),
                step(OPEN_AT, &decoy.sealed(), Want::Fails("replayed")),
            ],
        ),
        open(
            "open-same-id-other-timestamp-or-sender",
            "the same message id with another timestamp, and from another sender, are other messages (§7.3)",
            &rx,
            vec![
                step(OPEN_AT, &m, Want::Message),
                step(OPEN_AT, &Draft { timestamp_ms: NOW + 1, eseed: eseed("id again 1"), ..base.clone() }.sealed(), Want::Message),
                step(
                    OPEN_AT,
                    &Draft {
                        signer: &w.carol.id,
                        certificate: encode_certificate(&w.cert_carol),
                        eseed: eseed("id again 2"),
                        ..base.clone()
                    }
                    .sealed(),
                    Want::Message,
                ),
            ],
        ),
        open(
            "open-window-edges",
            "at now = 1700000000000: timestamps now - max_age (accepted), now - max_age - 1 (stale), now + max_skew (accepted), now + max_skew + 1 (stale), then now (accepted)",
            &rx,
            vec![
                step(NOW, &at("oldest", NOW - MAX_AGE).sealed(), Want::Message),
                step(NOW, &at("too old", NOW - MAX_AGE - 1).sealed(), Want::Fails("stale")),
                step(NOW, &at("newest", NOW + MAX_SKEW).sealed(), Want::Message),
                step(NOW, &at("too new", NOW + MAX_SKEW + 1).sealed(), Want::Fails("stale")),
                step(NOW, &at("now", NOW).sealed(), Want::Message),
            ],
        ),
        open(
            "open-stale-too-old",
            "timestamp now - max_age - 1 (R26)",
            &rx,
            vec![step(NOW, &at("too old", NOW - MAX_AGE - 1).sealed(), Want::Fails("stale"))],
        ),
        open(
            "open-stale-future",
            "timestamp now + max_skew + 1 (R26)",
            &rx,
            vec![step(NOW, &at("too new", NOW + MAX_SKEW + 1).sealed(), Want::Fails("stale"))],
        ),
        open(
            "open-stale-zero-timestamp",
            "timestamp 0 is always stale (the floor starts at 0)",
            &Rx {
                max_age_ms: u64::MAX,
                ..rx.clone()
            },
            vec![step(NOW, &at("zero", 0).sealed(), Want::Fails("stale"))],
        ),
        open(
            "open-oldest-accepted",
            "timestamp now - max_age exactly is accepted",
            &rx,
            vec![step(NOW, &at("oldest", NOW - MAX_AGE).sealed(), Want::Message)],
        ),
        open(
            "open-newest-accepted",
            "timestamp now + max_skew exactly is accepted",
            &rx,
            vec![step(NOW, &at("newest", NOW + MAX_SKEW).sealed(), Want::Message)],
        ),
    ];

    // Capacity eviction raises the floor.
    let small = Rx {
        capacity: 2,
        ..rx.clone()
    };
    let a = at("window a", NOW - 3_000).sealed();
    let b = at("window b", NOW - 2_000).sealed();
    let c = at("window c", NOW - 1_000).sealed();
    let a2 = at("window a2", NOW - 3_000).sealed();
    let d = at("window d", NOW - 2_999).sealed();
    let e = at("window e", NOW).sealed();
    let f = at("window f", NOW - 1_999).sealed();
    out.push(open(
        "open-capacity-eviction",
        "capacity 2: a (now-3000), b (now-2000) accepted; a replayed; c (now-1000) evicts a and the floor rises to a's timestamp; a and another message at a's timestamp are stale; d (now-2999) is accepted and evicts b (floor now-2000); b stale; c replayed; d stale (at or below the floor, though remembered: stale is checked first); e (now) evicts d; c replayed; f (now-1999) accepted",
        &small,
        vec![
            step(OPEN_AT, &a, Want::Message),
            step(OPEN_AT, &b, Want::Message),
            step(OPEN_AT, &a, Want::Fails("replayed")),
            step(OPEN_AT, &c, Want::Message),
            step(OPEN_AT, &a, Want::Fails("stale")),
            step(OPEN_AT, &a2, Want::Fails("stale")),
            step(OPEN_AT, &d, Want::Message),
            step(OPEN_AT, &b, Want::Fails("stale")),
            step(OPEN_AT, &c, Want::Fails("replayed")),
            step(OPEN_AT, &d, Want::Fails("stale")),
            step(OPEN_AT, &e, Want::Message),
            step(OPEN_AT, &c, Want::Fails("replayed")),
            step(OPEN_AT, &f, Want::Message),
        ],
    ));
    out.push(open(
        "open-capacity-zero-is-one",
        "capacity 0 acts as 1: b evicts a, whose replay is then stale",
        &Rx {
            capacity: 0,
            ..rx.clone()
        },
        vec![
            step(OPEN_AT, &a, Want::Message),
            step(OPEN_AT, &b, Want::Message),
            step(OPEN_AT, &a, Want::Fails("stale")),
        ],
    ));
    let short = Rx {
        max_age_ms: 10_000,
        ..rx.clone()
    };
    let later = at("window later", NOW + 19_000).sealed();
    let above = at("window above floor", NOW - 2_999).sealed();
    out.push(open(
        "open-aged-out-then-clock-back",
        "max_age 10 s: a (now-3000) accepted at 1700000002000; at 1700000022000 g (now+19000) is accepted and a ages out, raising the floor to a's timestamp; the clock then moves back to 1700000002000: a is stale, not accepted again, while a message one millisecond above the floor is accepted (§7.3)",
        &short,
        vec![
            step(OPEN_AT, &a, Want::Message),
            step(OPEN_AT + 20_000, &later, Want::Message),
            step(OPEN_AT, &a, Want::Fails("stale")),
            step(OPEN_AT, &above, Want::Message),
        ],
    ));
    out.push(open(
        "open-expired-after-cache",
        "message-5 accepted; another message with the same (cached) certificate at now = expires_ms is refused: the cache still checks expiry (§7.6)",
        &rx,
        vec![
            step(OPEN_AT, &m, Want::Message),
            step(EXPIRES, &at("after expiry", EXPIRES - 1_000).sealed(), Want::Fails("expired_certificate")),
        ],
    ));
    let mut two_roots = rx.clone();
    two_roots.roots = vec![
        issuer_public(&OTHER_ISSUER_SEED),
        issuer_public(&ISSUER_SEED),
    ];
    let mut from_other = w.draft("carol other issuer", hello);
    from_other.signer = &w.carol.id;
    from_other.certificate =
        encode_certificate(&Issuer::from_seed(&OTHER_ISSUER_SEED).issue(w.carol.public(), EXPIRES));
    out.push(open(
        "open-two-roots-and-decoys",
        "bob trusts two issuers: alice's message (issuer 09) and decoy, and carol's message (issuer 08) are accepted",
        &two_roots,
        vec![
            step(OPEN_AT, &m, Want::Message),
            step(OPEN_AT, &decoy.sealed(), Want::Decoy),
            step(OPEN_AT, &from_other.sealed(), Want::Message),
        ],
    ));

    // Padding (R28).
    let padded = |label: &str, kind: u8, padded: Vec<u8>| {
        let mut d = w.draft(label, hello);
        d.kind = kind;
        d.padded = padded;
        d
    };
    let lora_hello = pad(Padding::Buckets(LORA_BUCKETS), hello).expect("fits");
    let non_canonical = [&hello[..], &[0x80, 0]].concat();
    let lora_only = Rx {
        paddings: vec![Scheme::Lora],
        ..rx.clone()
    };
    let padme_only = Rx {
        paddings: vec![Scheme::Padme],
        ..rx.clone()
    };
    out.extend([
        open1(
            "open-bad-padding-non-canonical",
            "\"hello\" 80 00: 7 bytes where Padmé(6) = 6, sealed by Sender::seal_padded_derand (R28)",
            &rx,
            &padded("bad padding", 0, non_canonical.clone()).sealed(),
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-bad-padding-no-marker",
            "padded content of six zero bytes (R28)",
            &rx,
            &padded("no marker", 0, vec![0; 6]).sealed(),
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-bad-padding-empty",
            "an empty padded content (R28)",
            &rx,
            &padded("empty padding", 0, vec![]).sealed(),
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-padme-at-lora-only-receiver",
            "a Padmé-padded message (\"hello\", 6 bytes) at a receiver whose paddings hold only the LoRa buckets (R28)",
            &lora_only,
            &m,
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-padme-empty-at-lora-only-receiver",
            "message-0 (empty content, Padmé-padded to the single byte 80) at a receiver whose paddings hold only the LoRa buckets (R28)",
            &lora_only,
            &w.draft("message-0", b"").sealed(),
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-lora-at-padme-only-receiver",
            "\"hello\" padded to the 24-byte bucket at a receiver whose paddings hold only Padmé (R28)",
            &padme_only,
            &padded("lora at padme", 0, lora_hello.clone()).sealed(),
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-lora-at-lora-padme-receiver",
            "\"hello\" padded to the 24-byte bucket at a receiver with paddings [lora, padme]: the order does not matter",
            &Rx {
                paddings: vec![Scheme::Lora, Scheme::Padme],
                ..rx.clone()
            },
            &padded("lora at padme", 0, lora_hello).sealed(),
            Want::Message,
        ),
        open1(
            "open-no-accepted-paddings",
            "message-5 at a receiver with an empty paddings list: nothing is accepted (§7.4)",
            &Rx {
                paddings: vec![],
                ..rx.clone()
            },
            &m,
            Want::Fails("bad_padding"),
        ),
        open1(
            "open-bad-padding-decoy",
            "a decoy with non-canonical padding fails like a message would (§7.5)",
            &rx,
            &padded("bad padding decoy", 1, non_canonical.clone()).sealed(),
            Want::Fails("bad_padding"),
        ),
        open(
            "open-rejected-not-recorded",
            "a message with message-5's timestamp and id but bad padding, and a copy with a flipped signature, are rejected without being recorded; the genuine message-5 is then accepted (§7.1)",
            &rx,
            vec![
                step(
                    OPEN_AT,
                    &Draft {
                        padded: non_canonical.clone(),
                        eseed: eseed("not recorded"),
                        ..base.clone()
                    }
                    .sealed(),
                    Want::Fails("bad_padding"),
                ),
                // 176: the signature, after 169 + 1 + 6 bytes.
                step(OPEN_AT, &base.sealed_with_inner(flip(176, 0)), Want::Fails("bad_signature")),
                step(OPEN_AT, &m, Want::Message),
            ],
        ),
        open(
            "open-order-stale-and-bad-padding",
            "a stale timestamp and non-canonical padding: R26 comes before R28",
            &rx,
            vec![step(
                NOW,
                &Draft {
                    timestamp_ms: NOW - MAX_AGE - 1,
                    ..padded("stale bad padding", 0, non_canonical.clone())
                }
                .sealed(),
                Want::Fails("stale"),
            )],
        ),
        open(
            "open-order-replayed-decoy-bad-padding",
            "a decoy accepted, then another decoy with its timestamp and id and non-canonical padding: R27 comes before R28",
            &rx,
            vec![
                step(OPEN_AT, &decoy.sealed(), Want::Decoy),
                step(
                    OPEN_AT,
                    &Draft {
                        padded: non_canonical.clone(),
                        eseed: eseed("replayed bad padding"),
                        ..decoy.clone()
                    }
                    .sealed(),
                    Want::Fails("replayed"),
                ),
            ],
        ),
        open(
            "open-order-bad-signature-and-stale",
            "a stale timestamp and a signature by the wrong key: R25 comes before R26",
            &rx,
            vec![step(
                NOW,
                &Draft {
                    signer: &w.carol.id,
                    ..at("bad signature stale", NOW - MAX_AGE - 1)
                }
                .sealed(),
                Want::Fails("bad_signature"),
            )],
        ),
    ]);
    out
}

/// The text of `sealed_sender.json`. Panics if qpc-crypto fails one of its
/// own vectors.
pub fn generate() -> String {
    let w = World::new();
    let vectors: Vec<SealedSenderVector> = [
        certificates(&w),
        seals(&w),
        seal_failures(&w),
        outer_failures(&w),
        inner_failures(&w),
        window_and_padding(&w),
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/05-sealed-sender.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> crate::VectorFile<SealedSenderVector> {
        serde_json::from_str(&generate()).unwrap()
    }

    fn is_negative(v: &SealedSenderVector) -> bool {
        match &v.case {
            SealedSenderCase::Certificate { expected_error, .. }
            | SealedSenderCase::Seal { expected_error, .. }
            | SealedSenderCase::Open { expected_error, .. } => expected_error.is_some(),
        }
    }

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let file = crate::assert_sound_generation::<SealedSenderVector>(generate);
        let negative = file.vectors.iter().filter(|v| is_negative(v)).count();
        assert!(negative >= 90, "{negative} negative vectors");
    }

    /// spec/05 §12.1, the worked certificate.
    #[test]
    fn worked_example_certificate() {
        let file = file();
        let v = file
            .vectors
            .iter()
            .find(|v| v.name == "certificate-worked-example")
            .unwrap();
        let SealedSenderCase::Certificate {
            issuer_key_id,
            encoded,
            sender_address,
            roots,
            ..
        } = &v.case
        else {
            panic!("a certificate vector")
        };
        assert_eq!(
            hex::encode(&roots[0].0),
            "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618"
        );
        assert_eq!(hex::encode(issuer_key_id), "55dd1a345528ded5");
        assert_eq!(
            hex::encode(encoded),
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\
             01eba7f63ebe3bde984385c499280859aac9a8c403804fe47ebbf31982d74353\
             0000018bd50bc400\
             55dd1a345528ded5\
             68bdcf424a8ff5ea6341a6d12ff823684cffeb01e90bc0180bf1754427811d79\
             2e751639e89e05dacff860e6322da4671522cbf408ddbf2dac1e3fe479c75006"
        );
        assert_eq!(
            hex::encode(sender_address),
            "518e68596a79c6d5e723e0f428c1d336"
        );
    }

    /// spec/05 §8.2 and §12.2: sizes and the signed bytes of content 0.
    #[test]
    fn worked_example_sizes() {
        let file = file();
        let sizes: Vec<(String, usize, usize)> = file
            .vectors
            .iter()
            .filter_map(|v| match &v.case {
                SealedSenderCase::Seal {
                    sealed: Some(s),
                    signed: Some(signed),
                    ..
                } => Some((v.name.clone(), s.0.len(), signed.0.len())),
                _ => None,
            })
            .collect();
        let size = |name: &str| sizes.iter().find(|s| s.0 == name).unwrap();
        assert_eq!(size("seal-message-0").1, 1390);
        assert_eq!(size("seal-message-0").2 + 25, 244);
        assert_eq!(size("seal-message-100").1, 1494);
        assert_eq!(size("seal-message-1024").1, 2478);
        assert_eq!(size("seal-message-4096").1, 5742);
        assert_eq!(size("seal-decoy-0").1, 1390);
        assert_eq!(size("seal-lora-message-5").1, 1413);
        assert_eq!(size("seal-lora-message-221").1, 1612);
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate();
        let file: crate::VectorFile<SealedSenderVector> = serde_json::from_str(&text).unwrap();
        let SealedSenderCase::Seal {
            sealed: Some(sealed),
            ..
        } = &file
            .vectors
            .iter()
            .find(|v| v.name == "seal-message-5")
            .unwrap()
            .case
        else {
            panic!("a seal vector")
        };
        // Change the last hex digit of its `sealed` (the first occurrence
        // of those bytes in the file): only this vector fails.
        let hex_sealed = hex::encode(&sealed.0);
        let mut tampered = hex_sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        let text = text.replacen(&hex_sealed, &tampered, 1);
        let results = crate::verify_json::<SealedSenderVector>(&text).unwrap();
        let failed: Vec<_> = results
            .iter()
            .filter(|r| r.failure.is_some())
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(failed, ["seal-message-5"]);
    }
}
