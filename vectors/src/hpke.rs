//! `hpke.json`: vectors for HPKE base mode with X-Wing
//! (`spec/03-hybrid-kem-hpke.md`): sender and receiver contexts with several
//! messages and exports, single-shot open, the inputs that must fail, and
//! `DeriveKeyPair`.

use qpc_crypto::hpke;
use qpc_crypto::xwing::{self, XWingPublicKey, XWingSecretKey};
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `hpke.json`.
pub const PROTOCOL: &str = "qpc-hpke";

/// One vector of `hpke.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HpkeVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: HpkeCase,
}

/// One message of a context, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Associated data.
    #[serde(with = "hex::serde")]
    pub aad: Vec<u8>,
    /// Plaintext.
    #[serde(with = "hex::serde")]
    pub pt: Vec<u8>,
    /// Ciphertext (with its 16-byte tag).
    #[serde(with = "hex::serde")]
    pub ct: Vec<u8>,
}

/// One exported secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// The exporter context.
    #[serde(with = "hex::serde")]
    pub exporter_context: Vec<u8>,
    /// Length in bytes.
    pub length: usize,
    /// The exported value.
    #[serde(with = "hex::serde")]
    pub value: Vec<u8>,
}

/// The kinds of HPKE vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HpkeCase {
    /// SetupBaseS to the key of `recipient_seed` with `eseed` and `info`
    /// must give `enc` (and `shared_secret`); sealing the messages in order
    /// gives their `ct`. SetupBaseR from `enc` opens them in order. Both
    /// contexts export the `exports`.
    Context {
        /// X-Wing seed of the recipient.
        #[serde(with = "hex::serde")]
        recipient_seed: Vec<u8>,
        /// Encapsulation randomness.
        #[serde(with = "hex::serde")]
        eseed: Vec<u8>,
        /// HPKE `info`.
        #[serde(with = "hex::serde")]
        info: Vec<u8>,
        /// The encapsulated key (X-Wing ciphertext).
        #[serde(with = "hex::serde")]
        enc: Vec<u8>,
        /// The X-Wing shared secret (for debugging).
        #[serde(with = "hex::serde")]
        shared_secret: Vec<u8>,
        /// Messages, in sequence order.
        messages: Vec<Message>,
        /// Exported secrets.
        exports: Vec<Export>,
    },
    /// Single-shot open (sequence number 0).
    Open {
        /// X-Wing seed of the recipient.
        #[serde(with = "hex::serde")]
        recipient_seed: Vec<u8>,
        /// The encapsulated key.
        #[serde(with = "hex::serde")]
        enc: Vec<u8>,
        /// HPKE `info`.
        #[serde(with = "hex::serde")]
        info: Vec<u8>,
        /// Associated data.
        #[serde(with = "hex::serde")]
        aad: Vec<u8>,
        /// Ciphertext.
        #[serde(with = "hex::serde")]
        ct: Vec<u8>,
        /// The plaintext (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pt: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Single-shot seal that must fail.
    Seal {
        /// The recipient's public key bytes.
        #[serde(with = "hex::serde")]
        recipient_pk: Vec<u8>,
        /// Encapsulation randomness.
        #[serde(with = "hex::serde")]
        eseed: Vec<u8>,
        /// HPKE `info`.
        #[serde(with = "hex::serde")]
        info: Vec<u8>,
        /// Associated data.
        #[serde(with = "hex::serde")]
        aad: Vec<u8>,
        /// Plaintext.
        #[serde(with = "hex::serde")]
        pt: Vec<u8>,
        /// The error class.
        expected_error: String,
    },
    /// `DeriveKeyPair(ikm)`: the X-Wing seed and public key.
    DeriveKeyPair {
        /// Input keying material.
        #[serde(with = "hex::serde")]
        ikm: Vec<u8>,
        /// The derived X-Wing seed (secret key).
        #[serde(with = "hex::serde")]
        seed: Vec<u8>,
        /// The derived public key.
        #[serde(with = "hex::serde")]
        pk: Vec<u8>,
    },
}

use crate::xwing::{eseed_of, secret_key};

fn err(e: qpc_crypto::Error) -> String {
    format!("{} ({e})", e.class())
}

/// What both sides of a context produced.
struct ContextOutput {
    enc: Vec<u8>,
    shared_secret: Vec<u8>,
    messages: Vec<Message>,
    exports: Vec<Export>,
}

/// Runs both sides of a context.
fn run_context(
    recipient_seed: &[u8],
    eseed: &[u8],
    info: &[u8],
    plaintexts: &[(Vec<u8>, Vec<u8>)],
    exports: &[(Vec<u8>, usize)],
) -> Result<ContextOutput, String> {
    let sk = secret_key(recipient_seed)?;
    let eseed = eseed_of(eseed)?;
    let (enc, mut sender) =
        hpke::setup_sender_derand(sk.public_key(), info, &eseed).map_err(err)?;
    let (_, ss) = sk.public_key().encapsulate_derand(&eseed).map_err(err)?;
    let mut receiver = hpke::setup_receiver(&sk, &enc, info).map_err(err)?;
    let mut messages = Vec::new();
    for (i, (aad, pt)) in plaintexts.iter().enumerate() {
        let ct = sender.seal(aad, pt).map_err(err)?;
        let opened = receiver
            .open(aad, &ct)
            .map_err(|e| format!("open #{i}: {}", err(e)))?;
        expect_eq(&format!("opened #{i}"), &opened[..], &pt[..])?;
        messages.push(Message {
            aad: aad.clone(),
            pt: pt.clone(),
            ct,
        });
    }
    let mut out = Vec::new();
    for (context, length) in exports {
        let value = sender.export(context, *length).map_err(err)?.to_vec();
        let theirs = receiver.export(context, *length).map_err(err)?;
        expect_eq("receiver export", &theirs[..], &value[..])?;
        out.push(Export {
            exporter_context: context.clone(),
            length: *length,
            value,
        });
    }
    Ok(ContextOutput {
        enc: enc.to_vec(),
        shared_secret: ss.as_bytes().to_vec(),
        messages,
        exports: out,
    })
}

impl Vector for HpkeVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            HpkeCase::Context {
                recipient_seed,
                eseed,
                info,
                enc,
                shared_secret,
                messages,
                exports,
            } => {
                let plaintexts: Vec<_> = messages
                    .iter()
                    .map(|m| (m.aad.clone(), m.pt.clone()))
                    .collect();
                let lengths: Vec<_> = exports
                    .iter()
                    .map(|x| (x.exporter_context.clone(), x.length))
                    .collect();
                let got = run_context(recipient_seed, eseed, info, &plaintexts, &lengths)?;
                expect_eq("enc", &got.enc, enc)?;
                expect_eq("shared secret", &got.shared_secret, shared_secret)?;
                expect_eq("messages", &got.messages, messages)?;
                expect_eq("exports", &got.exports, exports)?;
                // The receiver opens the given ciphertexts (not only its own).
                let sk = secret_key(recipient_seed)?;
                let mut receiver = hpke::setup_receiver(&sk, enc, info).map_err(err)?;
                for (i, m) in messages.iter().enumerate() {
                    let pt = receiver
                        .open(&m.aad, &m.ct)
                        .map_err(|e| format!("open #{i}: {}", err(e)))?;
                    expect_eq(&format!("plaintext #{i}"), &pt[..], &m.pt[..])?;
                }
                Ok(())
            }
            HpkeCase::Open {
                recipient_seed,
                enc,
                info,
                aad,
                ct,
                pt,
                expected_error,
            } => {
                let sk = secret_key(recipient_seed)?;
                let got = hpke::open(&sk, enc, info, aad, ct).map(|pt| pt.to_vec());
                match (pt, expected_error) {
                    (Some(pt), None) => expect_eq("plaintext", got.map_err(err)?, pt.0.clone()),
                    (None, Some(class)) => expect_error(class, got),
                    _ => Err("exactly one of pt and expected_error must be present".into()),
                }
            }
            HpkeCase::Seal {
                recipient_pk,
                eseed,
                info,
                aad,
                pt,
                expected_error,
            } => {
                let eseed = eseed_of(eseed)?;
                let got = XWingPublicKey::from_bytes(recipient_pk)
                    .and_then(|pk| hpke::seal_derand(&pk, info, aad, pt, &eseed));
                expect_error(expected_error, got)
            }
            HpkeCase::DeriveKeyPair { ikm, seed, pk } => {
                let sk = hpke::derive_key_pair(ikm);
                expect_eq("seed", &sk.seed()[..], seed)?;
                expect_eq("pk", &sk.public_key().to_bytes()[..], pk)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

use crate::deterministic_bytes as bytes;

fn vector(name: &str, description: &str, case: HpkeCase) -> HpkeVector {
    HpkeVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

struct ContextSpec {
    name: &'static str,
    description: &'static str,
    seed_label: &'static str,
    eseed_label: &'static str,
    info: Vec<u8>,
    messages: Vec<(Vec<u8>, Vec<u8>)>,
    exports: Vec<(Vec<u8>, usize)>,
}

fn context(spec: &ContextSpec) -> HpkeVector {
    let recipient_seed = bytes(spec.seed_label, 32);
    let eseed = bytes(spec.eseed_label, 64);
    let ContextOutput {
        enc,
        shared_secret,
        messages,
        exports,
    } = run_context(
        &recipient_seed,
        &eseed,
        &spec.info,
        &spec.messages,
        &spec.exports,
    )
    .expect("valid context");
    vector(
        spec.name,
        spec.description,
        HpkeCase::Context {
            recipient_seed,
            eseed,
            info: spec.info.clone(),
            enc,
            shared_secret,
            messages,
            exports,
        },
    )
}

fn context_specs() -> Vec<ContextSpec> {
    vec![
        ContextSpec {
            name: "context-single",
            description: "one message: single-shot seal and open, plus two exports",
            seed_label: "hpke recipient 1",
            eseed_label: "hpke eseed 1",
            info: b"qpc hpke test info".to_vec(),
            messages: vec![(b"aad".to_vec(), b"hello, world".to_vec())],
            exports: vec![(vec![], 32), (b"qpc export".to_vec(), 64)],
        },
        ContextSpec {
            name: "context-sequence",
            description: "four messages in one context: sequence numbers 0..3 give four nonces",
            seed_label: "hpke recipient 1",
            eseed_label: "hpke eseed 2",
            info: b"qpc hpke sequence".to_vec(),
            messages: vec![
                (b"seq 0".to_vec(), b"first".to_vec()),
                (b"seq 1".to_vec(), b"second".to_vec()),
                (vec![], b"third, empty aad".to_vec()),
                (b"seq 3".to_vec(), vec![]),
            ],
            exports: vec![(b"after four".to_vec(), 16)],
        },
        ContextSpec {
            name: "context-same-plaintext",
            description:
                "the same plaintext and aad sealed three times: three different ciphertexts",
            seed_label: "hpke recipient 2",
            eseed_label: "hpke eseed 3",
            info: vec![],
            messages: vec![(vec![], b"again".to_vec()); 3],
            exports: vec![],
        },
        ContextSpec {
            name: "context-empty",
            description: "empty info, aad and plaintext: the ciphertext is the 16-byte tag alone",
            seed_label: "hpke recipient 2",
            eseed_label: "hpke eseed 4",
            info: vec![],
            messages: vec![(vec![], vec![])],
            exports: vec![(vec![], 0), (vec![], 1)],
        },
        ContextSpec {
            name: "context-long",
            description: "a 1000-byte plaintext with 300 bytes of aad",
            seed_label: "hpke recipient 1",
            eseed_label: "hpke eseed 5",
            info: bytes("hpke long info", 100),
            messages: vec![(bytes("hpke long aad", 300), bytes("hpke long pt", 1000))],
            exports: vec![(b"long".to_vec(), 255 * 32)],
        },
        ContextSpec {
            name: "context-export-only",
            description: "no messages, exports only",
            seed_label: "hpke recipient 2",
            eseed_label: "hpke eseed 6",
            info: b"export only".to_vec(),
            messages: vec![],
            exports: vec![
                (b"a".to_vec(), 32),
                (b"b".to_vec(), 32),
                (b"a".to_vec(), 42),
            ],
        },
    ]
}

fn opens(single: &HpkeVector, sequence: &HpkeVector) -> Vec<HpkeVector> {
    let HpkeCase::Context {
        recipient_seed,
        enc,
        info,
        messages,
        ..
    } = &single.case
    else {
        unreachable!("a context")
    };
    let m = &messages[0];
    let open = |name: &str,
                desc: &str,
                enc: Vec<u8>,
                info: &[u8],
                aad: &[u8],
                ct: Vec<u8>,
                error: Option<&str>| {
        vector(
            name,
            desc,
            HpkeCase::Open {
                recipient_seed: recipient_seed.clone(),
                enc,
                info: info.to_vec(),
                aad: aad.to_vec(),
                ct,
                pt: error.is_none().then(|| HexBytes(m.pt.clone())),
                expected_error: error.map(Into::into),
            },
        )
    };
    let flip = |bytes: &[u8], index: usize| {
        let mut b = bytes.to_vec();
        b[index] ^= 1;
        b
    };
    let mut out = vec![
        open(
            "open-single",
            "context-single's message, opened single-shot",
            enc.clone(),
            info,
            &m.aad,
            m.ct.clone(),
            None,
        ),
        open(
            "open-wrong-info",
            "another info: another key schedule",
            enc.clone(),
            b"qpc hpke test infO",
            &m.aad,
            m.ct.clone(),
            Some("open_failed"),
        ),
        open(
            "open-empty-info",
            "info omitted",
            enc.clone(),
            b"",
            &m.aad,
            m.ct.clone(),
            Some("open_failed"),
        ),
        open(
            "open-wrong-aad",
            "another aad",
            enc.clone(),
            info,
            b"aaD",
            m.ct.clone(),
            Some("open_failed"),
        ),
        open(
            "open-flipped-ct-first",
            "bit 0 of the ciphertext's first byte flipped",
            enc.clone(),
            info,
            &m.aad,
            flip(&m.ct, 0),
            Some("open_failed"),
        ),
        open(
            "open-flipped-tag",
            "bit 0 of the tag's last byte flipped",
            enc.clone(),
            info,
            &m.aad,
            flip(&m.ct, m.ct.len() - 1),
            Some("open_failed"),
        ),
        open(
            "open-flipped-enc-mlkem",
            "bit 0 of enc's first byte (ML-KEM part) flipped: implicit rejection, another secret",
            flip(enc, 0),
            info,
            &m.aad,
            m.ct.clone(),
            Some("open_failed"),
        ),
        open(
            "open-flipped-enc-x25519",
            "bit 0 of enc's X25519 part flipped",
            flip(enc, 1088),
            info,
            &m.aad,
            m.ct.clone(),
            Some("open_failed"),
        ),
        open(
            "open-truncated-ct",
            "the ciphertext cut to 15 bytes, shorter than the tag",
            enc.clone(),
            info,
            &m.aad,
            m.ct[..15].to_vec(),
            Some("open_failed"),
        ),
        open(
            "open-empty-ct",
            "an empty ciphertext",
            enc.clone(),
            info,
            &m.aad,
            vec![],
            Some("open_failed"),
        ),
        open(
            "open-ct-without-last-byte",
            "the ciphertext without its last byte",
            enc.clone(),
            info,
            &m.aad,
            m.ct[..m.ct.len() - 1].to_vec(),
            Some("open_failed"),
        ),
        open(
            "open-enc-short",
            "enc of 1119 bytes",
            enc[..enc.len() - 1].to_vec(),
            info,
            &m.aad,
            m.ct.clone(),
            Some("wrong_length"),
        ),
        open(
            "open-enc-long",
            "enc of 1121 bytes",
            [&enc[..], &[0]].concat(),
            info,
            &m.aad,
            m.ct.clone(),
            Some("wrong_length"),
        ),
        open(
            "open-enc-empty",
            "an empty enc",
            vec![],
            info,
            &m.aad,
            m.ct.clone(),
            Some("wrong_length"),
        ),
        open(
            "open-enc-short-and-ct-truncated",
            "a 1119-byte enc and a 15-byte ciphertext: enc is checked first",
            enc[..enc.len() - 1].to_vec(),
            info,
            &m.aad,
            m.ct[..15].to_vec(),
            Some("wrong_length"),
        ),
        open(
            "open-enc-x25519-zero",
            "enc's X25519 part all zero: the X25519 secret is all zero",
            {
                let mut e = enc.clone();
                e[1088..].fill(0);
                e
            },
            info,
            &m.aad,
            m.ct.clone(),
            Some("non_contributory"),
        ),
        open(
            "open-enc-x25519-zero-and-ct-truncated",
            "enc's X25519 part all zero and a 15-byte ciphertext: decapsulation comes first",
            {
                let mut e = enc.clone();
                e[1088..].fill(0);
                e
            },
            info,
            &m.aad,
            m.ct[..15].to_vec(),
            Some("non_contributory"),
        ),
    ];
    // Out of order: the second message of a context opened as the first.
    let HpkeCase::Context {
        recipient_seed,
        enc,
        info,
        messages,
        ..
    } = &sequence.case
    else {
        unreachable!("a context")
    };
    out.push(vector(
        "open-out-of-order",
        "context-sequence's message 1 opened single-shot (sequence number 0): the nonce differs",
        HpkeCase::Open {
            recipient_seed: recipient_seed.clone(),
            enc: enc.clone(),
            info: info.clone(),
            aad: messages[1].aad.clone(),
            ct: messages[1].ct.clone(),
            pt: None,
            expected_error: Some("open_failed".into()),
        },
    ));
    out.push(vector(
        "open-sequence-first",
        "context-sequence's message 0 opened single-shot",
        HpkeCase::Open {
            recipient_seed: recipient_seed.clone(),
            enc: enc.clone(),
            info: info.clone(),
            aad: messages[0].aad.clone(),
            ct: messages[0].ct.clone(),
            pt: Some(HexBytes(messages[0].pt.clone())),
            expected_error: None,
        },
    ));
    out
}

fn seals() -> Vec<HpkeVector> {
    let pk = XWingSecretKey::from_seed(&bytes("hpke recipient 1", 32).try_into().expect("32"))
        .public_key()
        .to_bytes()
        .to_vec();
    let seal = |name: &str, desc: &str, recipient_pk: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            HpkeCase::Seal {
                recipient_pk,
                eseed: bytes("hpke eseed 1", 64),
                info: b"qpc hpke test info".to_vec(),
                aad: b"aad".to_vec(),
                pt: b"hello, world".to_vec(),
                expected_error: error.into(),
            },
        )
    };
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = pk.clone();
        f(&mut b);
        b
    };
    vec![
        seal(
            "seal-pk-short",
            "a 1215-byte recipient key",
            pk[..xwing::PUBLIC_KEY_LEN - 1].to_vec(),
            "wrong_length",
        ),
        seal(
            "seal-mlkem-unreduced",
            "the recipient's first ML-KEM coefficient is 0xfff",
            with(&|b| {
                b[0] = 0xff;
                b[1] |= 0x0f;
            }),
            "invalid_public_key",
        ),
        seal(
            "seal-x25519-zero",
            "the recipient's X25519 key is all zero",
            with(&|b| b[1184..].fill(0)),
            "non_contributory",
        ),
    ]
}

fn derivations() -> Vec<HpkeVector> {
    let cases: [(&str, &str, Vec<u8>); 3] = [
        (
            "derive-key-pair-32",
            "32 bytes of ikm",
            bytes("hpke ikm", 32),
        ),
        (
            "derive-key-pair-64",
            "64 bytes of ikm",
            bytes("hpke ikm", 64),
        ),
        ("derive-key-pair-empty", "empty ikm", vec![]),
    ];
    cases
        .into_iter()
        .map(|(name, desc, ikm)| {
            let sk = hpke::derive_key_pair(&ikm);
            vector(
                name,
                &format!("DeriveKeyPair from {desc}"),
                HpkeCase::DeriveKeyPair {
                    ikm,
                    seed: sk.seed().to_vec(),
                    pk: sk.public_key().to_bytes().to_vec(),
                },
            )
        })
        .collect()
}

/// The text of `hpke.json`. Panics if qpc-crypto fails one of its own
/// vectors.
pub fn generate() -> String {
    let contexts: Vec<HpkeVector> = context_specs().iter().map(context).collect();
    let opens = opens(&contexts[0], &contexts[1]);
    let vectors: Vec<HpkeVector> = [contexts, opens, seals(), derivations()].concat();
    crate::checked_file(PROTOCOL, "spec/03-hybrid-kem-hpke.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let _file = crate::assert_sound_generation::<HpkeVector>(generate);
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate().replacen("\"length\": 32,", "\"length\": 31,", 1);
        let results = crate::verify_json::<HpkeVector>(&text).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
