//! The fixed keys, clock and helpers of the qpc-crypto targets, shared with
//! [`crate::seeds`] and the tests so that seeds are built exactly the way
//! the targets read them.
//!
//! Everything is deterministic: identities come from fixed seeds, sealing
//! uses fixed encapsulation randomness, and time is [`NOW`].

use std::sync::LazyLock;

use bytes::Bytes;
use ed25519_dalek::SigningKey;
use qpc_crypto::certificate::{Issuer, SenderCertificate, TrustRoot};
use qpc_crypto::hpke::{self, HpkeContext};
use qpc_crypto::identity::{self, Address, Identity, SignatureContext};
use qpc_crypto::sealed_sender::{Receiver, ReceiverConfig, SealedMessage, HPKE_INFO};
use qpc_crypto::xwing::XWingSecretKey;
use qpc_wire::codec::{self, Reader};

pub mod pqxx;

/// The injected clock of every receiver and certificate check (Unix ms).
pub const NOW: u64 = 1_700_000_000_000;
/// Expiry of the certificates the seeds carry: one day after [`NOW`].
pub const CERT_EXPIRES: u64 = NOW + 86_400_000;

/// Alice, the sender: Ed25519 seed and X-Wing seed.
pub const ALICE_SEEDS: ([u8; 32], [u8; 32]) = ([1; 32], [2; 32]);
/// Bob, the receiver (and the fixed X-Wing / HPKE recipient key).
pub const BOB_SEEDS: ([u8; 32], [u8; 32]) = ([3; 32], [4; 32]);
/// Carol, someone else (messages sealed to her are not for Bob).
pub const CAROL_SEEDS: ([u8; 32], [u8; 32]) = ([5; 32], [6; 32]);
/// The issuer Bob trusts.
pub const ISSUER_SEED: [u8; 32] = [9; 32];
/// An issuer Bob does not trust.
pub const OTHER_ISSUER_SEED: [u8; 32] = [8; 32];

/// HPKE `info` of the `hpke_open` target (seeds are sealed with it).
pub const HPKE_OPEN_INFO: &[u8] = b"qpc fuzz hpke";
/// The exporter context of the `hpke_open` target.
pub const EXPORT_CONTEXT: &[u8] = b"qpc fuzz export";
/// The sealed-sender binding label (`spec/05-sealed-sender.md`).
pub const BINDING_LABEL: &[u8] = b"qpc sealed sender binding v1";
/// The largest HPKE export with HKDF-SHA256: 255 blocks of 32 bytes.
pub const MAX_EXPORT_LEN: usize = 255 * 32;

static ALICE: LazyLock<Identity> =
    LazyLock::new(|| Identity::from_seeds(&ALICE_SEEDS.0, &ALICE_SEEDS.1));
static BOB: LazyLock<Identity> = LazyLock::new(|| Identity::from_seeds(&BOB_SEEDS.0, &BOB_SEEDS.1));
static CAROL: LazyLock<Identity> =
    LazyLock::new(|| Identity::from_seeds(&CAROL_SEEDS.0, &CAROL_SEEDS.1));
static ISSUER: LazyLock<Issuer> = LazyLock::new(|| Issuer::from_seed(&ISSUER_SEED));
static OTHER_ISSUER: LazyLock<Issuer> = LazyLock::new(|| Issuer::from_seed(&OTHER_ISSUER_SEED));

/// Alice's identity.
pub fn alice() -> &'static Identity {
    &ALICE
}

/// Bob's identity (use [`receiver`] for a fresh receiver).
pub fn bob() -> &'static Identity {
    &BOB
}

/// Carol's identity.
pub fn carol() -> &'static Identity {
    &CAROL
}

/// Bob's X-Wing secret key: the fixed key of the `xwing` and `hpke_open`
/// targets.
pub fn recipient_key() -> &'static XWingSecretKey {
    BOB.kem_secret()
}

/// The issuer Bob trusts.
pub fn issuer() -> &'static Issuer {
    &ISSUER
}

/// An issuer Bob does not trust.
pub fn other_issuer() -> &'static Issuer {
    &OTHER_ISSUER
}

/// Bob's trust roots.
pub fn roots() -> Vec<TrustRoot> {
    vec![ISSUER.trust_root().clone()]
}

/// A fresh receiver for Bob (empty replay window and certificate cache)
/// trusting [`issuer`], with the default configuration.
pub fn receiver() -> Receiver {
    Receiver::new(
        Identity::from_seeds(&BOB_SEEDS.0, &BOB_SEEDS.1),
        roots(),
        ReceiverConfig::default(),
    )
}

/// Signs `tbs` (the first 80 bytes of a certificate) as [`issuer`] does.
pub fn issuer_signature(tbs: &[u8]) -> [u8; 64] {
    identity::sign(
        &SigningKey::from_bytes(&ISSUER_SEED),
        SignatureContext::SenderCertificate,
        tbs,
    )
}

/// The 80 signed bytes of a certificate.
pub fn certificate_tbs(cert: &SenderCertificate) -> Vec<u8> {
    let mut bytes = codec::encode_to_vec(cert).expect("a certificate encodes");
    bytes.truncate(80);
    bytes
}

/// A certificate for Alice from `issuer` expiring at `expires_ms`.
pub fn alice_certificate(issuer: &Issuer, expires_ms: u64) -> SenderCertificate {
    issuer.issue(ALICE.public(), expires_ms)
}

/// The fields of a sealed-sender inner message (`SealedInner` of
/// `spec/05-sealed-sender.md`), decoded by this crate independently of
/// qpc-crypto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inner {
    /// 0 message, 1 decoy (anything else is refused before this is built).
    pub kind: u8,
    /// The sender certificate.
    pub certificate: SenderCertificate,
    /// The sender's timestamp.
    pub timestamp_ms: u64,
    /// The message id.
    pub message_id: [u8; 16],
    /// The padded content.
    pub padded_content: Bytes,
    /// The sender's signature.
    pub signature: [u8; 64],
}

/// The largest padded content of a sealed message (1 MiB).
pub const MAX_CONTENT_LEN: usize = 1 << 20;

impl Inner {
    /// Decodes the spec's layout, reporting the first failure as qpc-wire
    /// does: `kind` (0 or 1), certificate (144), timestamp, id, content
    /// (`<V>`, at most 1 MiB), signature, nothing after.
    pub fn decode(bytes: &[u8]) -> Result<Inner, qpc_wire::Error> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes));
        let kind = r.u8()?;
        if kind > 1 {
            return Err(qpc_wire::Error::Malformed {
                message: "SealedInner",
                reason: "unknown kind",
            });
        }
        let certificate = SenderCertificate {
            signing_key: r.array()?,
            kem_key_digest: r.array()?,
            expires_ms: r.u64()?,
            issuer_key_id: r.array()?,
            issuer_signature: r.array()?,
        };
        let inner = Inner {
            kind,
            certificate,
            timestamp_ms: r.u64()?,
            message_id: r.array()?,
            padded_content: r.vl_bytes(MAX_CONTENT_LEN)?,
            signature: r.array()?,
        };
        r.finish()?;
        Ok(inner)
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.kind];
        out.extend(codec::encode_to_vec(&self.certificate).expect("certificate"));
        out.extend(self.timestamp_ms.to_be_bytes());
        out.extend(self.message_id);
        codec::put_vl_bytes(&mut out, &self.padded_content).expect("content");
        out.extend(self.signature);
        out
    }

    /// What the sender signs: `recipient || kind || certificate ||
    /// timestamp || id || padded_content<V> || binding`.
    pub fn signed_bytes(&self, recipient: &Address, binding: &[u8]) -> Vec<u8> {
        let mut out = recipient.as_bytes().to_vec();
        out.push(self.kind);
        out.extend(codec::encode_to_vec(&self.certificate).expect("certificate"));
        out.extend(self.timestamp_ms.to_be_bytes());
        out.extend(self.message_id);
        codec::put_vl_bytes(&mut out, &self.padded_content).expect("content");
        out.extend(binding);
        out
    }

    /// Alice's signature on this message for Bob under `binding`.
    pub fn alice_signature(&self, binding: &[u8]) -> [u8; 64] {
        ALICE.sign(
            SignatureContext::SealedSender,
            &self.signed_bytes(&BOB.public().address(), binding),
        )
    }
}

/// Mode bits of the `sealed_inner` target.
pub mod inner_mode {
    /// Set the certificate's issuer key id to Bob's root and re-sign it.
    pub const RESIGN_CERTIFICATE: u8 = 0x01;
    /// Put Alice's signing key into the certificate.
    pub const ALICE_KEY: u8 = 0x02;
    /// Re-sign the message as Alice (with the right binding).
    pub const RESIGN_MESSAGE: u8 = 0x04;
}

/// The HPKE sender context and the sealed-sender binding for encapsulation
/// randomness `[eseed; 64]` to Bob.
pub fn inner_context(eseed: u8) -> ([u8; hpke::ENC_LEN], HpkeContext, Vec<u8>) {
    let (enc, ctx) = hpke::setup_sender_derand(BOB.public().kem_key(), HPKE_INFO, &[eseed; 64])
        .expect("Bob's key is honest");
    let binding = ctx
        .export(BINDING_LABEL, 32)
        .expect("32-byte export")
        .to_vec();
    (enc, ctx, binding)
}

/// Applies the mode bits of a `sealed_inner` input to a decoded inner
/// message: the rewrites the target performs before sealing.
pub fn rewrite_inner(mut inner: Inner, mode: u8, binding: &[u8]) -> Inner {
    if mode & inner_mode::ALICE_KEY != 0 {
        inner.certificate.signing_key = ALICE.public().signing_key().to_bytes();
    }
    if mode & inner_mode::RESIGN_CERTIFICATE != 0 {
        inner.certificate.issuer_key_id = *ISSUER.trust_root().key_id();
        inner.certificate.issuer_signature = issuer_signature(&certificate_tbs(&inner.certificate));
    }
    if mode & inner_mode::RESIGN_MESSAGE != 0 {
        inner.signature = inner.alice_signature(binding);
    }
    inner
}

/// What a `sealed_inner` input stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedInnerInput {
    /// The encoded sealed message for Bob.
    pub sealed: Vec<u8>,
    /// The inner plaintext it carries.
    pub plaintext: Vec<u8>,
    /// The sealed-sender binding of its HPKE context.
    pub binding: Vec<u8>,
}

/// The sealed message a `sealed_inner` input stands for (layout `[mode]
/// [eseed] inner...`); `None` for inputs shorter than two bytes. Inner
/// bytes that decode are rewritten as the mode says and re-encoded; the
/// others are sealed as they are.
pub fn sealed_inner_message(data: &[u8]) -> Option<SealedInnerInput> {
    let [mode, eseed, inner @ ..] = data else {
        return None;
    };
    let (enc, mut ctx, binding) = inner_context(*eseed);
    let plaintext = match Inner::decode(inner) {
        Ok(decoded) => rewrite_inner(decoded, *mode, &binding).encode(),
        Err(_) => inner.to_vec(),
    };
    let recipient = BOB.public().address();
    let mut aad = vec![1];
    aad.extend(recipient.as_bytes());
    let sealed = SealedMessage {
        recipient,
        enc,
        ciphertext: ctx.seal(&aad, &plaintext).expect("seal").into(),
    };
    Some(SealedInnerInput {
        sealed: codec::encode_to_vec(&sealed).expect("sealed message encodes"),
        plaintext,
        binding,
    })
}

/// The `sealed_inner` input that seals `inner` with `mode` and `eseed`.
pub fn sealed_inner_input(mode: u8, eseed: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![mode, eseed];
    out.extend(inner);
    out
}

/// Header of an `hpke_open` input: `[enc length selector] [aad length]
/// [export length, u16 big-endian]`, then `enc`, `aad` and the ciphertext.
pub fn hpke_open_input(enc: &[u8], aad: &[u8], ct: &[u8], export_len: u16) -> Vec<u8> {
    let selector = match enc.len() {
        hpke::ENC_LEN => 0,
        n => {
            assert!((hpke::ENC_LEN - 64..hpke::ENC_LEN + 64).contains(&n));
            0x80 | (n + 64 - hpke::ENC_LEN) as u8
        }
    };
    let mut out = vec![selector, u8::try_from(aad.len()).expect("short aad")];
    out.extend(export_len.to_be_bytes());
    out.extend(enc);
    out.extend(aad);
    out.extend(ct);
    out
}
