//! `identity.json`: vectors for `spec/02-identity.md` — identities from
//! seeds, the public and secret encodings, addresses, safety numbers and
//! context-bound Ed25519 signatures.

use qpc_crypto::identity::{
    parse_signing_key, safety_number, verify, Address, Identity, PublicIdentity, SignatureContext,
    PUBLIC_IDENTITY_LEN,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `identity.json`.
pub const PROTOCOL: &str = "qpc-identity";

/// The only signature context label registered so far.
const TEST_CONTEXT: &str = "qpc sig v1 test";

/// One vector of `identity.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: IdentityCase,
}

/// The kinds of identity vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdentityCase {
    /// An identity from its two seeds, with every derived value.
    Identity {
        /// Ed25519 secret key (RFC 8032 seed).
        #[serde(with = "hex::serde")]
        signing_seed: Vec<u8>,
        /// X-Wing seed.
        #[serde(with = "hex::serde")]
        kem_seed: Vec<u8>,
        /// The 65-byte secret encoding.
        #[serde(with = "hex::serde")]
        secret_identity: Vec<u8>,
        /// The 1249-byte public encoding.
        #[serde(with = "hex::serde")]
        public_identity: Vec<u8>,
        /// The Ed25519 public key.
        #[serde(with = "hex::serde")]
        signing_key: Vec<u8>,
        /// SHA-256 of the X-Wing public key.
        #[serde(with = "hex::serde")]
        kem_key_digest: Vec<u8>,
        /// The 16-byte address.
        #[serde(with = "hex::serde")]
        address: Vec<u8>,
        /// This identity's 30-digit half of a safety number.
        fingerprint: String,
    },
    /// Parse a public identity.
    PublicIdentity {
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The address (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<HexBytes>,
        /// The KEM key digest (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kem_key_digest: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Parse a secret identity.
    SecretIdentity {
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The matching public identity (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_identity: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// An address from a signing key and a KEM key digest.
    Address {
        /// The Ed25519 public key.
        #[serde(with = "hex::serde")]
        signing_key: Vec<u8>,
        /// SHA-256 of the X-Wing public key.
        #[serde(with = "hex::serde")]
        kem_key_digest: Vec<u8>,
        /// The address.
        #[serde(with = "hex::serde")]
        address: Vec<u8>,
    },
    /// The safety number of two public identities.
    SafetyNumber {
        /// The first identity.
        #[serde(with = "hex::serde")]
        public_identity_a: Vec<u8>,
        /// The second identity.
        #[serde(with = "hex::serde")]
        public_identity_b: Vec<u8>,
        /// 60 decimal digits.
        safety_number: String,
    },
    /// Sign (deterministic Ed25519) and check that the signature verifies.
    Sign {
        /// Ed25519 secret key.
        #[serde(with = "hex::serde")]
        signing_seed: Vec<u8>,
        /// Context label (ASCII).
        context: String,
        /// The message.
        #[serde(with = "hex::serde")]
        message: Vec<u8>,
        /// The signature.
        #[serde(with = "hex::serde")]
        signature: Vec<u8>,
    },
    /// Verify a signature.
    Verify {
        /// Ed25519 public key.
        #[serde(with = "hex::serde")]
        signing_key: Vec<u8>,
        /// Context label (ASCII).
        context: String,
        /// The message.
        #[serde(with = "hex::serde")]
        message: Vec<u8>,
        /// The signature.
        #[serde(with = "hex::serde")]
        signature: Vec<u8>,
        /// `true` (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid: Option<bool>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

fn context_of(label: &str) -> Result<SignatureContext, String> {
    [
        SignatureContext::Test,
        SignatureContext::SenderCertificate,
        SignatureContext::SealedSender,
    ]
    .into_iter()
    .find(|c| c.label() == label.as_bytes())
    .ok_or_else(|| format!("unregistered signature context {label:?}"))
}

fn arr32(what: &str, bytes: &[u8]) -> Result<[u8; 32], String> {
    bytes
        .try_into()
        .map_err(|_| format!("{what} must be 32 bytes"))
}

fn check_one<T: PartialEq + std::fmt::Debug>(
    got: Result<T, qpc_crypto::Error>,
    want: Option<T>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (want, expected_error) {
        (Some(want), None) => expect_eq("result", got.map_err(|e| format!("rejected: {e}"))?, want),
        (None, Some(class)) => expect_error(class, got),
        _ => Err("exactly one of the expected value and expected_error must be present".into()),
    }
}

fn digits(fingerprint: [u8; 30]) -> String {
    fingerprint.iter().map(|&d| char::from(d)).collect()
}

impl Vector for IdentityVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            IdentityCase::Identity {
                signing_seed,
                kem_seed,
                secret_identity,
                public_identity,
                signing_key,
                kem_key_digest,
                address,
                fingerprint,
            } => {
                let id = Identity::from_seeds(
                    &arr32("signing_seed", signing_seed)?,
                    &arr32("kem_seed", kem_seed)?,
                );
                expect_eq(
                    "secret identity",
                    &id.to_secret_bytes()[..],
                    secret_identity,
                )?;
                let public = id.public();
                expect_eq("public identity", &public.to_bytes()[..], public_identity)?;
                expect_eq(
                    "signing key",
                    &public.signing_key().as_bytes()[..],
                    signing_key,
                )?;
                expect_eq(
                    "kem key digest",
                    &public.kem_key_digest()[..],
                    kem_key_digest,
                )?;
                expect_eq("address", &public.address().as_bytes()[..], address)?;
                expect_eq("fingerprint", &digits(public.fingerprint()), fingerprint)?;
                let parsed =
                    PublicIdentity::from_bytes(public_identity).map_err(|e| e.to_string())?;
                expect_eq("parsed public identity", &parsed, public)?;
                let again =
                    Identity::from_secret_bytes(secret_identity).map_err(|e| e.to_string())?;
                expect_eq("public of parsed secret", again.public(), public)
            }
            IdentityCase::PublicIdentity {
                encoded,
                address,
                kem_key_digest,
                expected_error,
            } => {
                let parsed = PublicIdentity::from_bytes(encoded);
                if let Ok(p) = &parsed {
                    expect_eq("re-encoding", &p.to_bytes()[..], encoded)?;
                }
                let got =
                    parsed.map(|p| (p.address().as_bytes().to_vec(), p.kem_key_digest().to_vec()));
                let want = match (address, kem_key_digest) {
                    (Some(a), Some(d)) => Some((a.0.clone(), d.0.clone())),
                    (None, None) => None,
                    _ => return Err("address and kem_key_digest go together".into()),
                };
                check_one(got, want, expected_error)
            }
            IdentityCase::SecretIdentity {
                encoded,
                public_identity,
                expected_error,
            } => {
                let parsed = Identity::from_secret_bytes(encoded);
                if let Ok(id) = &parsed {
                    expect_eq("re-encoding", &id.to_secret_bytes()[..], encoded)?;
                }
                let got = parsed.map(|id| id.public().to_bytes().to_vec());
                check_one(
                    got,
                    public_identity.as_ref().map(|p| p.0.clone()),
                    expected_error,
                )
            }
            IdentityCase::Address {
                signing_key,
                kem_key_digest,
                address,
            } => {
                let got = Address::derive(
                    &arr32("signing_key", signing_key)?,
                    &arr32("kem_key_digest", kem_key_digest)?,
                );
                expect_eq("address", &got.as_bytes()[..], address)
            }
            IdentityCase::SafetyNumber {
                public_identity_a,
                public_identity_b,
                safety_number: want,
            } => {
                let a = PublicIdentity::from_bytes(public_identity_a).map_err(|e| e.to_string())?;
                let b = PublicIdentity::from_bytes(public_identity_b).map_err(|e| e.to_string())?;
                expect_eq("safety number", &safety_number(&a, &b), want)?;
                expect_eq("safety number (swapped)", &safety_number(&b, &a), want)
            }
            IdentityCase::Sign {
                signing_seed,
                context,
                message,
                signature,
            } => {
                let context = context_of(context)?;
                let id = Identity::from_seeds(&arr32("signing_seed", signing_seed)?, &[0; 32]);
                expect_eq("signature", &id.sign(context, message)[..], signature)?;
                id.public()
                    .verify(context, message, signature)
                    .map_err(|e| format!("own signature rejected: {e}"))
            }
            IdentityCase::Verify {
                signing_key,
                context,
                message,
                signature,
                valid,
                expected_error,
            } => {
                let context = context_of(context)?;
                let got = parse_signing_key(&arr32("signing_key", signing_key)?)
                    .and_then(|key| verify(&key, context, message, signature))
                    .map(|()| true);
                check_one(got, *valid, expected_error)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// A deterministic 32-byte seed: SHA-256("qpc vectors " || label).
fn seed(label: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"qpc vectors ")
        .chain_update(label.as_bytes())
        .finalize()
        .into()
}

fn vector(name: &str, description: &str, case: IdentityCase) -> IdentityVector {
    IdentityVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("literal hex")
}

struct Named {
    name: &'static str,
    signing_seed: [u8; 32],
    kem_seed: [u8; 32],
}

impl Named {
    fn identity(&self) -> Identity {
        Identity::from_seeds(&self.signing_seed, &self.kem_seed)
    }
    fn public(&self) -> Vec<u8> {
        self.identity().public().to_bytes().to_vec()
    }
}

fn people() -> Vec<Named> {
    vec![
        Named {
            name: "alice",
            signing_seed: seed("alice signing"),
            kem_seed: seed("alice kem"),
        },
        Named {
            name: "bob",
            signing_seed: seed("bob signing"),
            kem_seed: seed("bob kem"),
        },
        Named {
            // Alice's signing key with another KEM key.
            name: "carol",
            signing_seed: seed("alice signing"),
            kem_seed: seed("carol kem"),
        },
        Named {
            name: "zero-seeds",
            signing_seed: [0; 32],
            kem_seed: [0; 32],
        },
        Named {
            name: "ff-seeds",
            signing_seed: [0xff; 32],
            kem_seed: [0xff; 32],
        },
    ]
}

fn identities(people: &[Named]) -> Vec<IdentityVector> {
    people
        .iter()
        .map(|p| {
            let id = p.identity();
            let public = id.public();
            let description = match p.name {
                "carol" => "alice's signing seed with another KEM seed: the address and the fingerprint change".to_owned(),
                name => format!("the identity of {name}'s seeds, with every derived value"),
            };
            vector(
                &format!("identity-{}", p.name),
                &description,
                IdentityCase::Identity {
                    signing_seed: p.signing_seed.to_vec(),
                    kem_seed: p.kem_seed.to_vec(),
                    secret_identity: id.to_secret_bytes().to_vec(),
                    public_identity: public.to_bytes().to_vec(),
                    signing_key: public.signing_key().as_bytes().to_vec(),
                    kem_key_digest: public.kem_key_digest().to_vec(),
                    address: public.address().as_bytes().to_vec(),
                    fingerprint: digits(public.fingerprint()),
                },
            )
        })
        .collect()
}

/// Small-order Ed25519 point encodings (the eight canonical ones and two
/// non-canonical ones) and an off-curve value.
const WEAK_KEYS: &[(&str, &str, &str)] = &[
    (
        "identity",
        "the neutral element (order 1)",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-2",
        "y = -1 (order 2)",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "order-4",
        "y = 0, x positive (order 4)",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-4-negative",
        "y = 0, x negative (order 4)",
        "0000000000000000000000000000000000000000000000000000000000000080",
    ),
    (
        "order-8",
        "a point of order 8",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ),
    (
        "order-8-negative",
        "a point of order 8, x negative",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ),
    (
        "order-8-b",
        "another point of order 8",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    ),
    (
        "order-8-b-negative",
        "another point of order 8, x negative",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    ),
    (
        "non-canonical-order-4",
        "y = p (non-canonical encoding of y = 0, order 4)",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "non-canonical-identity",
        "y = p + 1 (non-canonical encoding of the neutral element)",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "non-canonical-large-order",
        "y = p + 3: decodes to a point of large order, but y >= p is not canonical",
        "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "off-curve",
        "y = 2 is not the y-coordinate of a curve point",
        "0200000000000000000000000000000000000000000000000000000000000000",
    ),
];

fn public_identities(alice: &Named, bob: &Named) -> Vec<IdentityVector> {
    let ok = |name: &str, desc: &str, encoded: Vec<u8>| {
        let p = PublicIdentity::from_bytes(&encoded).expect("valid");
        vector(
            name,
            desc,
            IdentityCase::PublicIdentity {
                encoded,
                address: Some(HexBytes(p.address().as_bytes().to_vec())),
                kem_key_digest: Some(HexBytes(p.kem_key_digest().to_vec())),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, encoded: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            IdentityCase::PublicIdentity {
                encoded,
                address: None,
                kem_key_digest: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let a = alice.public();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = a.clone();
        f(&mut b);
        b
    };
    let mut out = vec![
        ok("public-alice", "alice's public identity parses", a.clone()),
        ok("public-bob", "bob's public identity parses", bob.public()),
        bad("public-empty", "no bytes", vec![], "wrong_length"),
        bad(
            "public-short",
            "1248 bytes: the last byte is missing",
            a[..PUBLIC_IDENTITY_LEN - 1].to_vec(),
            "wrong_length",
        ),
        bad(
            "public-long",
            "1250 bytes: one byte too many",
            with(&|b| b.push(0)),
            "wrong_length",
        ),
        bad(
            "public-version-0",
            "version byte 0 (reserved)",
            with(&|b| b[0] = 0),
            "unknown_version",
        ),
        bad(
            "public-version-2",
            "version byte 2 (unassigned)",
            with(&|b| b[0] = 2),
            "unknown_version",
        ),
        bad(
            "public-version-2-short",
            "version 2 and 1248 bytes: the length is checked first",
            with(&|b| {
                b[0] = 2;
                b.pop();
            }),
            "wrong_length",
        ),
        bad(
            "public-version-2-weak-key",
            "version 2 and a small-order signing key: the version is checked before the keys",
            with(&|b| {
                b[0] = 2;
                b[1..33].copy_from_slice(&hex(WEAK_KEYS[0].2));
            }),
            "unknown_version",
        ),
    ];
    for (name, desc, key) in WEAK_KEYS {
        out.push(bad(
            &format!("public-signing-key-{name}"),
            &format!("signing key {desc}"),
            with(&|b| b[1..33].copy_from_slice(&hex(key))),
            "invalid_public_key",
        ));
    }
    out.extend([
        bad(
            "public-mlkem-unreduced-first",
            "the first 12-bit ML-KEM coefficient is 0xfff >= q = 3329",
            with(&|b| {
                b[33] = 0xff;
                b[34] |= 0x0f;
            }),
            "invalid_public_key",
        ),
        bad(
            "public-mlkem-unreduced-q",
            "the last 12-bit coefficient of the ML-KEM key's t vector is exactly q = 3329 (0xd01)",
            with(&|b| {
                // Coefficient 767 occupies the high nibble of byte 1150 and byte 1151.
                let (i, j) = (33 + 1150, 33 + 1151);
                b[i] = (b[i] & 0x0f) | 0x10;
                b[j] = 0xd0;
            }),
            "invalid_public_key",
        ),
        bad(
            "public-x25519-zero",
            "the X25519 half of the KEM key is u = 0 (small order): no one could encapsulate to it",
            with(&|b| b[PUBLIC_IDENTITY_LEN - 32..].fill(0)),
            "invalid_public_key",
        ),
        bad(
            "public-x25519-order-8",
            "the X25519 half of the KEM key is a point of order 8",
            with(&|b| {
                b[PUBLIC_IDENTITY_LEN - 32..]
                    .copy_from_slice(&hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"))
            }),
            "invalid_public_key",
        ),
        bad(
            "public-weak-key-and-unreduced",
            "a small-order signing key and an unreduced ML-KEM key: the signing key is checked first",
            with(&|b| {
                b[1..33].copy_from_slice(&hex(WEAK_KEYS[0].2));
                b[33] = 0xff;
                b[34] |= 0x0f;
            }),
            "invalid_public_key",
        ),
    ]);
    out
}

fn secret_identities(alice: &Named) -> Vec<IdentityVector> {
    let s = alice.identity().to_secret_bytes().to_vec();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = s.clone();
        f(&mut b);
        b
    };
    let bad = |name: &str, desc: &str, encoded: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            IdentityCase::SecretIdentity {
                encoded,
                public_identity: None,
                expected_error: Some(error.into()),
            },
        )
    };
    vec![
        vector(
            "secret-alice",
            "alice's secret identity parses to her public identity",
            IdentityCase::SecretIdentity {
                encoded: s.clone(),
                public_identity: Some(HexBytes(alice.public())),
                expected_error: None,
            },
        ),
        bad("secret-empty", "no bytes", vec![], "wrong_length"),
        bad("secret-short", "64 bytes", s[..64].to_vec(), "wrong_length"),
        bad(
            "secret-long",
            "66 bytes",
            with(&|b| b.push(0)),
            "wrong_length",
        ),
        bad(
            "secret-version-0",
            "version byte 0 (reserved)",
            with(&|b| b[0] = 0),
            "unknown_version",
        ),
        bad(
            "secret-version-2",
            "version byte 2 (unassigned)",
            with(&|b| b[0] = 2),
            "unknown_version",
        ),
    ]
}

fn addresses(people: &[Named]) -> Vec<IdentityVector> {
    let mut out: Vec<_> = people[..2]
        .iter()
        .map(|p| {
            let id = p.identity();
            let public = id.public();
            vector(
                &format!("address-{}", p.name),
                &format!(
                    "{}'s address from the signing key and the KEM key digest alone",
                    p.name
                ),
                IdentityCase::Address {
                    signing_key: public.signing_key().as_bytes().to_vec(),
                    kem_key_digest: public.kem_key_digest().to_vec(),
                    address: public.address().as_bytes().to_vec(),
                },
            )
        })
        .collect();
    out.push(vector(
        "address-zero",
        "all-zero inputs (the derivation takes any 64 bytes)",
        IdentityCase::Address {
            signing_key: vec![0; 32],
            kem_key_digest: vec![0; 32],
            address: Address::derive(&[0; 32], &[0; 32]).as_bytes().to_vec(),
        },
    ));
    out
}

fn safety_numbers(people: &[Named]) -> Vec<IdentityVector> {
    let pairs = [
        (0, 1, "alice and bob"),
        (1, 0, "bob and alice: the same number, each half sorted"),
        (
            0,
            2,
            "alice and carol (same signing key, different KEM keys)",
        ),
        (0, 0, "alice with herself"),
        (3, 4, "the zero-seed and ff-seed identities"),
    ];
    pairs
        .iter()
        .map(|&(i, j, desc)| {
            let (a, b) = (people[i].identity(), people[j].identity());
            vector(
                &format!("safety-number-{}-{}", people[i].name, people[j].name),
                desc,
                IdentityCase::SafetyNumber {
                    public_identity_a: a.public().to_bytes().to_vec(),
                    public_identity_b: b.public().to_bytes().to_vec(),
                    safety_number: safety_number(a.public(), b.public()),
                },
            )
        })
        .collect()
}

/// Ed25519 group order L, little-endian.
const ORDER_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `s + L` as 32 little-endian bytes (s < L, so no overflow).
fn add_order(s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(ORDER_L[i]) + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0);
    out
}

fn signatures(alice: &Named, bob: &Named) -> Vec<IdentityVector> {
    let id = alice.identity();
    let key = id.public().signing_key().as_bytes().to_vec();
    let messages: [(&str, &str, Vec<u8>); 4] = [
        ("empty", "the empty message", vec![]),
        ("hello", "the ASCII message \"hello\"", b"hello".to_vec()),
        ("bytes", "the 256 bytes 00..ff", (0..=255).collect()),
        (
            "long",
            "1000 bytes (i * 7 mod 256)",
            (0..1000u32).map(|i| (i * 7 % 256) as u8).collect(),
        ),
    ];
    let mut out = Vec::new();
    for (name, desc, message) in &messages {
        let signature = id.sign(SignatureContext::Test, message).to_vec();
        out.push(vector(
            &format!("sign-{name}"),
            &format!("alice signs {desc} in context {TEST_CONTEXT:?}"),
            IdentityCase::Sign {
                signing_seed: alice.signing_seed.to_vec(),
                context: TEST_CONTEXT.into(),
                message: message.clone(),
                signature: signature.clone(),
            },
        ));
        out.push(vector(
            &format!("verify-{name}"),
            &format!("alice's signature on {desc} verifies"),
            IdentityCase::Verify {
                signing_key: key.clone(),
                context: TEST_CONTEXT.into(),
                message: message.clone(),
                signature,
                valid: Some(true),
                expected_error: None,
            },
        ));
    }
    out.push(vector(
        "sign-bob-hello",
        "bob signs \"hello\": another key, another signature",
        IdentityCase::Sign {
            signing_seed: bob.signing_seed.to_vec(),
            context: TEST_CONTEXT.into(),
            message: b"hello".to_vec(),
            signature: bob
                .identity()
                .sign(SignatureContext::Test, b"hello")
                .to_vec(),
        },
    ));

    let message = b"hello".to_vec();
    let good = id.sign(SignatureContext::Test, &message).to_vec();
    let bad =
        |name: &str, desc: &str, signing_key: Vec<u8>, msg: Vec<u8>, sig: Vec<u8>, error: &str| {
            vector(
                name,
                desc,
                IdentityCase::Verify {
                    signing_key,
                    context: TEST_CONTEXT.into(),
                    message: msg,
                    signature: sig,
                    valid: None,
                    expected_error: Some(error.into()),
                },
            )
        };
    let flip = |index: usize, bit: u8| {
        let mut s = good.clone();
        s[index] ^= 1 << bit;
        s
    };
    // Plain RFC 8032 Ed25519 over the message, without the context label.
    let unlabeled = {
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(&alice.signing_seed)
            .sign(&message)
            .to_bytes()
            .to_vec()
    };
    let mut s_plus_l = good[..32].to_vec();
    s_plus_l.extend(add_order(&good[32..]));
    let mut small_r = hex(WEAK_KEYS[0].2);
    small_r.extend_from_slice(&good[32..]);
    out.extend([
        bad(
            "verify-flipped-r",
            "bit 0 of R (signature byte 0) flipped",
            key.clone(),
            message.clone(),
            flip(0, 0),
            "bad_signature",
        ),
        bad(
            "verify-flipped-s",
            "bit 0 of S (signature byte 32) flipped",
            key.clone(),
            message.clone(),
            flip(32, 0),
            "bad_signature",
        ),
        bad(
            "verify-flipped-s-high",
            "the top bit of S (signature byte 63) set: S >= L",
            key.clone(),
            message.clone(),
            flip(63, 7),
            "bad_signature",
        ),
        bad(
            "verify-s-plus-l",
            "S replaced by S + L: the same value mod L but not canonical (a malleated signature lax verifiers accept)",
            key.clone(),
            message.clone(),
            s_plus_l,
            "bad_signature",
        ),
        bad(
            "verify-small-order-r",
            "R replaced by the neutral element (small order)",
            key.clone(),
            message.clone(),
            small_r,
            "bad_signature",
        ),
        bad(
            "verify-flipped-message",
            "bit 0 of the message's first byte flipped (\"iello\")",
            key.clone(),
            b"iello".to_vec(),
            good.clone(),
            "bad_signature",
        ),
        bad(
            "verify-wrong-key",
            "alice's signature checked against bob's key",
            bob.identity().public().signing_key().as_bytes().to_vec(),
            message.clone(),
            good.clone(),
            "bad_signature",
        ),
        bad(
            "verify-no-context-label",
            "a valid plain Ed25519 signature over the message without the context label",
            key.clone(),
            message.clone(),
            unlabeled,
            "bad_signature",
        ),
        bad(
            "verify-signature-63-bytes",
            "the signature's last byte is missing",
            key.clone(),
            message.clone(),
            good[..63].to_vec(),
            "wrong_length",
        ),
        bad(
            "verify-signature-65-bytes",
            "one byte appended to the signature",
            key.clone(),
            message.clone(),
            [&good[..], &[0]].concat(),
            "wrong_length",
        ),
        bad(
            "verify-signature-empty",
            "an empty signature",
            key.clone(),
            message.clone(),
            vec![],
            "wrong_length",
        ),
        bad(
            "verify-weak-key",
            "the signing key is the neutral element: rejected before the signature is looked at",
            hex(WEAK_KEYS[0].2),
            message.clone(),
            good.clone(),
            "invalid_public_key",
        ),
        bad(
            "verify-weak-key-short-signature",
            "a small-order signing key and a 63-byte signature: the key is checked first",
            hex(WEAK_KEYS[4].2),
            message.clone(),
            good[..63].to_vec(),
            "invalid_public_key",
        ),
    ]);
    out
}

/// The text of `identity.json`. Panics if qpc-crypto fails one of its own
/// vectors.
pub fn generate() -> String {
    let people = people();
    let vectors: Vec<IdentityVector> = [
        identities(&people),
        public_identities(&people[0], &people[1]),
        secret_identities(&people[0]),
        addresses(&people),
        safety_numbers(&people),
        signatures(&people[0], &people[1]),
    ]
    .concat();
    crate::checked_file(PROTOCOL, "spec/02-identity.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_with_unique_names() {
        let file = crate::assert_sound_generation::<IdentityVector>(generate);
        let negative = file
            .vectors
            .iter()
            .filter(|v| match &v.case {
                IdentityCase::PublicIdentity { expected_error, .. }
                | IdentityCase::SecretIdentity { expected_error, .. }
                | IdentityCase::Verify { expected_error, .. } => expected_error.is_some(),
                _ => false,
            })
            .count();
        assert!(negative >= 30, "{negative} negative vectors");
    }

    /// spec/02-identity.md §11.1, derived by hand: the signed bytes of
    /// "hello" in the test context are 0f || label || message.
    #[test]
    fn worked_example_signed_bytes() {
        use ed25519_dalek::Signer;
        let alice = &people()[0];
        let signed = hex("0f 717063207369672076312074657374 68656c6c6f");
        let raw = ed25519_dalek::SigningKey::from_bytes(&alice.signing_seed).sign(&signed);
        assert_eq!(
            raw.to_bytes(),
            alice.identity().sign(SignatureContext::Test, b"hello")
        );
    }

    /// spec/02-identity.md §11.2 and §7.2: the address input and the
    /// displayed safety number of alice and bob.
    #[test]
    fn worked_examples_address_and_safety_number() {
        let input = hex("7170632061646472657373207631
             821ea806d96a03580d2f2866b056ffd3e7124be5530514ee0b486f4a72ff9dda
             f538ed310c4863d21d29745ea9940f02d555026bb805d4d40b1af9e58d1a97d1"
            .replace(char::is_whitespace, "")
            .as_str());
        assert_eq!(input.len(), 78);
        let people = people();
        let (alice, bob) = (people[0].identity(), people[1].identity());
        assert_eq!(
            &Sha256::digest(&input)[..16],
            &alice.public().address().as_bytes()[..]
        );
        assert_eq!(
            hex::encode(alice.public().address().as_bytes()),
            "27a5c446d9ed0f20cec5dfe2e54ff312"
        );
        let shown: Vec<String> = safety_number(alice.public(), bob.public())
            .as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert_eq!(
            shown.join(" "),
            "10159 66683 36445 12031 83508 37848 34819 04234 47622 55059 73727 66327"
        );
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate().replacen(
            "\"fingerprint\": \"348190423447622550597372766327\"",
            "\"fingerprint\": \"348190423447622550597372766328\"",
            1,
        );
        let results = crate::verify_json::<IdentityVector>(&text).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
