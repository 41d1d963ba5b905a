//! `xwing.json`: vectors for the X-Wing hybrid KEM of
//! `spec/03-hybrid-kem-hpke.md` — key generation from a seed,
//! encapsulation with fixed randomness, decapsulation (including implicit
//! rejection), and the inputs qpc rejects. The three official
//! draft-connolly-cfrg-xwing-kem-06 vectors are included unchanged.

use qpc_crypto::xwing::{
    XWingCiphertext, XWingPublicKey, XWingSecretKey, CIPHERTEXT_LEN, ENCAPS_RANDOMNESS_LEN,
    PUBLIC_KEY_LEN,
};
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, HexBytes, Vector};

/// The `protocol` field of `xwing.json`.
pub const PROTOCOL: &str = "qpc-xwing";

const MLKEM_PK_LEN: usize = 1184;
const MLKEM_CT_LEN: usize = 1088;

/// One vector of `xwing.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XWingVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: XWingCase,
}

/// The kinds of X-Wing vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum XWingCase {
    /// Key generation from `seed`, encapsulation to the result with `eseed`,
    /// decapsulation of the ciphertext (the draft's test-vector format).
    Kem {
        /// The 32-byte secret key (seed).
        #[serde(with = "hex::serde")]
        seed: Vec<u8>,
        /// The 64 bytes of encapsulation randomness.
        #[serde(with = "hex::serde")]
        eseed: Vec<u8>,
        /// The 1216-byte public key.
        #[serde(with = "hex::serde")]
        pk: Vec<u8>,
        /// The 1120-byte ciphertext.
        #[serde(with = "hex::serde")]
        ct: Vec<u8>,
        /// The 32-byte shared secret.
        #[serde(with = "hex::serde")]
        ss: Vec<u8>,
    },
    /// Encapsulation to `pk` with `eseed`.
    Encapsulate {
        /// The public key bytes.
        #[serde(with = "hex::serde")]
        pk: Vec<u8>,
        /// The 64 bytes of encapsulation randomness.
        #[serde(with = "hex::serde")]
        eseed: Vec<u8>,
        /// The ciphertext (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ct: Option<HexBytes>,
        /// The shared secret (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ss: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decapsulation of `ct` with the key of `seed`.
    Decapsulate {
        /// The 32-byte secret key (seed).
        #[serde(with = "hex::serde")]
        seed: Vec<u8>,
        /// The ciphertext bytes.
        #[serde(with = "hex::serde")]
        ct: Vec<u8>,
        /// The shared secret (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ss: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

/// A secret key from a vector's seed field.
pub(crate) fn secret_key(seed: &[u8]) -> Result<XWingSecretKey, String> {
    let seed: [u8; 32] = seed.try_into().map_err(|_| "seed must be 32 bytes")?;
    Ok(XWingSecretKey::from_seed(&seed))
}

/// A vector's `eseed` field as encapsulation randomness.
pub(crate) fn eseed_of(eseed: &[u8]) -> Result<[u8; ENCAPS_RANDOMNESS_LEN], String> {
    eseed
        .try_into()
        .map_err(|_| format!("eseed must be {ENCAPS_RANDOMNESS_LEN} bytes"))
}

/// What qpc-crypto returned: a value or the error a negative vector names.
type Outcome<T> = Result<T, qpc_crypto::Error>;
/// `(ct, ss)` of an encapsulation.
type Encapsulated = (Vec<u8>, Vec<u8>);

fn encapsulate(pk: &[u8], eseed: &[u8]) -> Result<Outcome<Encapsulated>, String> {
    let eseed = eseed_of(eseed)?;
    Ok(XWingPublicKey::from_bytes(pk)
        .and_then(|pk| pk.encapsulate_derand(&eseed))
        .map(|(ct, ss)| (ct.to_bytes().to_vec(), ss.as_bytes().to_vec())))
}

fn decapsulate(seed: &[u8], ct: &[u8]) -> Result<Outcome<Vec<u8>>, String> {
    let sk = secret_key(seed)?;
    Ok(XWingCiphertext::from_bytes(ct)
        .and_then(|ct| sk.decapsulate(&ct))
        .map(|ss| ss.as_bytes().to_vec()))
}

fn check_one<T: PartialEq + std::fmt::Debug>(
    got: Result<T, qpc_crypto::Error>,
    want: Option<T>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (want, expected_error) {
        (Some(want), None) => expect_eq("result", got.map_err(|e| format!("rejected: {e}"))?, want),
        (None, Some(class)) => expect_error(class, got),
        _ => Err("exactly one of the expected values and expected_error must be present".into()),
    }
}

impl Vector for XWingVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            XWingCase::Kem {
                seed,
                eseed,
                pk,
                ct,
                ss,
            } => {
                let sk = secret_key(seed)?;
                expect_eq("pk", &sk.public_key().to_bytes()[..], pk)?;
                let (got_ct, got_ss) = encapsulate(pk, eseed)?.map_err(|e| e.to_string())?;
                expect_eq("ct", &got_ct, ct)?;
                expect_eq("ss (encapsulation)", &got_ss, ss)?;
                expect_eq(
                    "ss (decapsulation)",
                    &decapsulate(seed, ct)?.map_err(|e| e.to_string())?,
                    ss,
                )
            }
            XWingCase::Encapsulate {
                pk,
                eseed,
                ct,
                ss,
                expected_error,
            } => {
                let want = match (ct, ss) {
                    (Some(ct), Some(ss)) => Some((ct.0.clone(), ss.0.clone())),
                    (None, None) => None,
                    _ => return Err("ct and ss go together".into()),
                };
                check_one(encapsulate(pk, eseed)?, want, expected_error)
            }
            XWingCase::Decapsulate {
                seed,
                ct,
                ss,
                expected_error,
            } => check_one(
                decapsulate(seed, ct)?,
                ss.as_ref().map(|s| s.0.clone()),
                expected_error,
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// The official vectors, unchanged (`vectors/upstream/`, draft -06).
const UPSTREAM: &str = include_str!("../upstream/xwing-draft-test-vectors.json");

#[derive(Deserialize)]
struct Upstream {
    #[serde(with = "hex::serde")]
    seed: Vec<u8>,
    #[serde(with = "hex::serde")]
    eseed: Vec<u8>,
    #[serde(with = "hex::serde")]
    ss: Vec<u8>,
    #[serde(with = "hex::serde")]
    pk: Vec<u8>,
    #[serde(with = "hex::serde")]
    ct: Vec<u8>,
}

use crate::deterministic_bytes as bytes;

fn vector(name: &str, description: &str, case: XWingCase) -> XWingVector {
    XWingVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("literal hex")
}

fn kem(name: &str, description: &str, seed: Vec<u8>, eseed: Vec<u8>) -> XWingVector {
    let sk = secret_key(&seed).expect("32 bytes");
    let pk = sk.public_key().to_bytes().to_vec();
    let (ct, ss) = sk
        .public_key()
        .encapsulate_derand(&eseed_of(&eseed).expect("64 bytes"))
        .expect("contributory");
    vector(
        name,
        description,
        XWingCase::Kem {
            seed,
            eseed,
            pk,
            ct: ct.to_bytes().to_vec(),
            ss: ss.as_bytes().to_vec(),
        },
    )
}

fn kems() -> Vec<XWingVector> {
    let upstream: Vec<Upstream> = serde_json::from_str(UPSTREAM).expect("upstream vectors");
    let mut out: Vec<XWingVector> = upstream
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            vector(
                &format!("xwing-draft06-official-{}", i + 1),
                &format!(
                    "official draft-connolly-cfrg-xwing-kem-06 test vector {} (spec/test-vectors.json), unchanged",
                    i + 1
                ),
                XWingCase::Kem {
                    seed: u.seed,
                    eseed: u.eseed,
                    pk: u.pk,
                    ct: u.ct,
                    ss: u.ss,
                },
            )
        })
        .collect();
    out.extend([
        kem(
            "xwing-qpc-1",
            "qpc vector: seed and eseed from SHA-256 of labels",
            bytes("xwing seed 1", 32),
            bytes("xwing eseed 1", 64),
        ),
        kem(
            "xwing-qpc-2",
            "qpc vector: another seed and eseed",
            bytes("xwing seed 2", 32),
            bytes("xwing eseed 2", 64),
        ),
        kem(
            "xwing-qpc-zero",
            "qpc vector: all-zero seed and eseed (an all-zero X25519 scalar is clamped, so still valid)",
            vec![0; 32],
            vec![0; 64],
        ),
        kem(
            "xwing-qpc-ff",
            "qpc vector: all-0xff seed and eseed",
            vec![0xff; 32],
            vec![0xff; 64],
        ),
    ]);
    out
}

/// X25519 u-coordinates that yield the all-zero shared secret with every
/// scalar (RFC 7748 §6.1 and the known low-order list): 0, 1, the two
/// points of order 8, p - 1, and non-canonical encodings of these.
const LOW_ORDER_X25519: &[(&str, &str, &str)] = &[
    (
        "zero",
        "u = 0",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "one",
        "u = 1 (order 4)",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-8",
        "a point of order 8",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ),
    (
        "order-8-b",
        "the other point of order 8",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    ),
    (
        "p-minus-1",
        "u = p - 1 (order 2)",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "p",
        "u = p, a non-canonical 0",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "p-plus-1",
        "u = p + 1, a non-canonical 1",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "high-bit-zero",
        "u = 0 with the top bit set (ignored by X25519)",
        "0000000000000000000000000000000000000000000000000000000000000080",
    ),
];

fn encapsulations() -> Vec<XWingVector> {
    let sk = XWingSecretKey::from_seed(&bytes("xwing seed 1", 32).try_into().expect("32"));
    let pk = sk.public_key().to_bytes().to_vec();
    let eseed = bytes("xwing eseed 1", 64);
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = pk.clone();
        f(&mut b);
        b
    };
    let bad = |name: &str, desc: &str, pk: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            XWingCase::Encapsulate {
                pk,
                eseed: eseed.clone(),
                ct: None,
                ss: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let (ct, ss) = sk
        .public_key()
        .encapsulate_derand(&eseed_of(&eseed).expect("64"))
        .expect("valid");
    let mut out = vec![
        vector(
            "encapsulate-qpc-1",
            "encapsulation to xwing-qpc-1's public key (the same ct and ss)",
            XWingCase::Encapsulate {
                pk: pk.clone(),
                eseed: eseed.clone(),
                ct: Some(HexBytes(ct.to_bytes().to_vec())),
                ss: Some(HexBytes(ss.as_bytes().to_vec())),
                expected_error: None,
            },
        ),
        bad(
            "encapsulate-pk-empty",
            "an empty public key",
            vec![],
            "wrong_length",
        ),
        bad(
            "encapsulate-pk-short",
            "1215 bytes: the last byte is missing",
            pk[..PUBLIC_KEY_LEN - 1].to_vec(),
            "wrong_length",
        ),
        bad(
            "encapsulate-pk-long",
            "1217 bytes: one byte appended",
            with(&|b| b.push(0)),
            "wrong_length",
        ),
        bad(
            "encapsulate-pk-mlkem-only",
            "the 1184-byte ML-KEM key alone",
            pk[..MLKEM_PK_LEN].to_vec(),
            "wrong_length",
        ),
        bad(
            "encapsulate-mlkem-unreduced-first",
            "the first 12-bit ML-KEM coefficient is 0xfff >= q = 3329",
            with(&|b| {
                b[0] = 0xff;
                b[1] |= 0x0f;
            }),
            "invalid_public_key",
        ),
        bad(
            "encapsulate-mlkem-unreduced-q",
            "the last coefficient of t is exactly q = 3329",
            with(&|b| {
                b[1150] = (b[1150] & 0x0f) | 0x10;
                b[1151] = 0xd0;
            }),
            "invalid_public_key",
        ),
        bad(
            "encapsulate-unreduced-and-low-order",
            "an unreduced ML-KEM key and an all-zero X25519 key: the ML-KEM check comes first",
            with(&|b| {
                b[0] = 0xff;
                b[1] |= 0x0f;
                b[MLKEM_PK_LEN..].fill(0);
            }),
            "invalid_public_key",
        ),
    ];
    for (name, desc, u) in LOW_ORDER_X25519 {
        out.push(bad(
            &format!("encapsulate-x25519-{name}"),
            &format!("the X25519 public key is {desc}: the X25519 secret is all zero"),
            with(&|b| b[MLKEM_PK_LEN..].copy_from_slice(&hex(u))),
            "non_contributory",
        ));
    }
    out
}

fn decapsulations() -> Vec<XWingVector> {
    let seed = bytes("xwing seed 1", 32);
    let sk = secret_key(&seed).expect("32");
    let (ct, _) = sk
        .public_key()
        .encapsulate_derand(&eseed_of(&bytes("xwing eseed 1", 64)).expect("64"))
        .expect("valid");
    let ct = ct.to_bytes().to_vec();
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = ct.clone();
        f(&mut b);
        b
    };
    let ok = |name: &str, desc: &str, ct: Vec<u8>| {
        let ss = decapsulate(&seed, &ct).expect("seed").expect("accepted");
        vector(
            name,
            desc,
            XWingCase::Decapsulate {
                seed: seed.clone(),
                ct,
                ss: Some(HexBytes(ss)),
                expected_error: None,
            },
        )
    };
    let bad = |name: &str, desc: &str, ct: Vec<u8>, error: &str| {
        vector(
            name,
            desc,
            XWingCase::Decapsulate {
                seed: seed.clone(),
                ct,
                ss: None,
                expected_error: Some(error.into()),
            },
        )
    };
    let mut out = vec![
        ok(
            "decapsulate-qpc-1",
            "xwing-qpc-1's ciphertext",
            ct.clone(),
        ),
        ok(
            "decapsulate-implicit-rejection-first-byte",
            "bit 0 of the ML-KEM ciphertext flipped: ML-KEM rejects implicitly, giving this pseudo-random secret",
            with(&|b| b[0] ^= 1),
        ),
        ok(
            "decapsulate-implicit-rejection-last-byte",
            "bit 7 of the ML-KEM ciphertext's last byte flipped (implicit rejection)",
            with(&|b| b[MLKEM_CT_LEN - 1] ^= 0x80),
        ),
        ok(
            "decapsulate-x25519-changed",
            "bit 0 of the X25519 ciphertext flipped: another X25519 secret, another shared secret",
            with(&|b| b[MLKEM_CT_LEN] ^= 1),
        ),
        ok(
            "decapsulate-x25519-high-bit",
            "the top bit of the X25519 ciphertext set: X25519 ignores it, but the combiner hashes ct_X as received",
            with(&|b| b[CIPHERTEXT_LEN - 1] ^= 0x80),
        ),
        bad("decapsulate-ct-empty", "an empty ciphertext", vec![], "wrong_length"),
        bad(
            "decapsulate-ct-short",
            "1119 bytes: the last byte is missing",
            ct[..CIPHERTEXT_LEN - 1].to_vec(),
            "wrong_length",
        ),
        bad(
            "decapsulate-ct-long",
            "1121 bytes: one byte appended",
            with(&|b| b.push(0)),
            "wrong_length",
        ),
        bad(
            "decapsulate-ct-mlkem-only",
            "the 1088-byte ML-KEM ciphertext alone",
            ct[..MLKEM_CT_LEN].to_vec(),
            "wrong_length",
        ),
    ];
    for (name, desc, u) in LOW_ORDER_X25519 {
        out.push(bad(
            &format!("decapsulate-x25519-{name}"),
            &format!("the X25519 ciphertext is {desc}: the X25519 secret is all zero"),
            with(&|b| b[MLKEM_CT_LEN..].copy_from_slice(&hex(u))),
            "non_contributory",
        ));
    }
    out
}

/// The text of `xwing.json`. Panics if qpc-crypto fails one of its own
/// vectors.
pub fn generate() -> String {
    let vectors: Vec<XWingVector> = [kems(), encapsulations(), decapsulations()].concat();
    crate::checked_file(PROTOCOL, "spec/03-hybrid-kem-hpke.md", vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_includes_the_official_vectors() {
        let file = crate::assert_sound_generation::<XWingVector>(generate);
        let official = file
            .vectors
            .iter()
            .filter(|v| v.name.starts_with("xwing-draft06-official-"))
            .count();
        assert_eq!(official, 3);
    }

    #[test]
    fn a_tampered_vector_fails() {
        let text = generate().replacen(
            "\"expected_error\": \"non_contributory\"",
            "\"expected_error\": \"wrong_length\"",
            1,
        );
        let results = crate::verify_json::<XWingVector>(&text).unwrap();
        assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
    }
}
