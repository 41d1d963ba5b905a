//! # qpc-vectors
//!
//! Generates qpc's JSON test vectors and verifies an implementation (ours)
//! against them. One module per vector file; each file is
//! `{ "protocol", "spec", "version", "vectors": [ ... ] }` with bytes as
//! lowercase hex, and a JSON Schema beside it (`<file>.schema.json`).
//!
//! Expected values are checked independently of this crate by
//! `vectors/independent/`, a from-the-spec implementation in Python.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub mod channel;
pub mod fapp;
pub mod hpke;
pub mod identity;
pub mod lora;
pub mod lora_session;
pub mod mesh;
pub mod mls;
pub mod mls_lite;
pub mod node;
pub mod opaque;
pub mod padding;
pub mod pqxx;
pub mod sealed_sender;
pub mod wire;
pub mod xwing;

/// The envelope every vector file shares.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile<V> {
    /// Protocol area, e.g. `"qpc-wire"`.
    pub protocol: String,
    /// The normative spec file, relative to the repository root.
    pub spec: String,
    /// Version of this file's format.
    pub version: u32,
    /// The vectors.
    pub vectors: Vec<V>,
}

/// A vector that can check an implementation.
pub trait Vector {
    /// The vector's unique name.
    fn name(&self) -> &str;
    /// Runs the vector against qpc's implementation; `Err` says what differed.
    fn check(&self) -> Result<(), String>;
}

/// One vector file: how to generate it and how to verify it.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    /// File name inside `vectors/`.
    pub file: &'static str,
    /// The `protocol` field of the file.
    pub protocol: &'static str,
    /// Produces the file's JSON text (deterministic).
    pub generate: fn() -> String,
    /// Checks the file's JSON text; one result per vector.
    pub verify: fn(&str) -> Result<Vec<VectorResult>, String>,
}

/// Every vector file qpc ships.
pub const SUITES: &[Suite] = &[
    Suite {
        file: "wire.json",
        protocol: wire::PROTOCOL,
        generate: wire::generate,
        verify: verify_json::<wire::WireVector>,
    },
    Suite {
        file: "identity.json",
        protocol: identity::PROTOCOL,
        generate: identity::generate,
        verify: verify_json::<identity::IdentityVector>,
    },
    Suite {
        file: "xwing.json",
        protocol: xwing::PROTOCOL,
        generate: xwing::generate,
        verify: verify_json::<xwing::XWingVector>,
    },
    Suite {
        file: "hpke.json",
        protocol: hpke::PROTOCOL,
        generate: hpke::generate,
        verify: verify_json::<hpke::HpkeVector>,
    },
    Suite {
        file: "padding.json",
        protocol: padding::PROTOCOL,
        generate: padding::generate,
        verify: verify_json::<padding::PaddingVector>,
    },
    Suite {
        file: "sealed_sender.json",
        protocol: sealed_sender::PROTOCOL,
        generate: sealed_sender::generate,
        verify: verify_json::<sealed_sender::SealedSenderVector>,
    },
    Suite {
        file: "pqxx.json",
        protocol: pqxx::PROTOCOL,
        generate: pqxx::generate,
        verify: verify_json::<pqxx::PqxxVector>,
    },
    Suite {
        file: "mesh.json",
        protocol: mesh::PROTOCOL,
        generate: mesh::generate,
        verify: verify_json::<mesh::MeshVector>,
    },
    Suite {
        file: "lora.json",
        protocol: lora::PROTOCOL,
        generate: lora::generate,
        verify: verify_json::<lora::LoraVector>,
    },
    Suite {
        file: "channel.json",
        protocol: channel::PROTOCOL,
        generate: channel::generate,
        verify: verify_json::<channel::ChannelVector>,
    },
    Suite {
        file: "mls.json",
        protocol: mls::PROTOCOL,
        generate: mls::generate,
        verify: verify_json::<mls::MlsVector>,
    },
    Suite {
        file: "lora_session.json",
        protocol: lora_session::PROTOCOL,
        generate: lora_session::generate,
        verify: verify_json::<lora_session::LoraSessionVector>,
    },
    Suite {
        file: "mls_lite.json",
        protocol: mls_lite::PROTOCOL,
        generate: mls_lite::generate,
        verify: verify_json::<mls_lite::MlsLiteVector>,
    },
    Suite {
        file: "fapp.json",
        protocol: fapp::PROTOCOL,
        generate: fapp::generate,
        verify: verify_json::<fapp::FappVector>,
    },
    Suite {
        file: "opaque.json",
        protocol: opaque::PROTOCOL,
        generate: opaque::generate,
        verify: verify_json::<opaque::OpaqueVector>,
    },
    Suite {
        file: "node.json",
        protocol: node::PROTOCOL,
        generate: node::generate,
        verify: verify_json::<node::NodeVector>,
    },
];

/// The outcome of one vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorResult {
    /// The vector's name.
    pub name: String,
    /// `None` if it passed, otherwise what went wrong.
    pub failure: Option<String>,
}

/// Checks every generated vector against qpc — a generator must never write
/// a vector its own implementation fails, so this panics on the first
/// failure — and serialises the file (format version 1).
pub fn checked_file<V: Vector + Serialize>(protocol: &str, spec: &str, vectors: Vec<V>) -> String {
    for v in &vectors {
        if let Err(e) = v.check() {
            panic!("generated vector {} fails: {e}", v.name());
        }
    }
    to_json(&VectorFile {
        protocol: protocol.into(),
        spec: spec.into(),
        version: 1,
        vectors,
    })
}

/// Test support: generation is deterministic and vector names are unique;
/// returns the parsed file for further checks.
#[cfg(test)]
pub(crate) fn assert_sound_generation<V: Vector + DeserializeOwned>(
    generate: fn() -> String,
) -> VectorFile<V> {
    let text = generate();
    assert_eq!(text, generate(), "generation is deterministic");
    let file: VectorFile<V> = serde_json::from_str(&text).expect("the file parses");
    let mut names: Vec<_> = file.vectors.iter().map(|v| v.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), file.vectors.len(), "vector names are unique");
    file
}

/// Deterministic test bytes: SHA-256("qpc vectors " || label || counter)
/// blocks, truncated to `len`. Independent checkers need not reproduce it:
/// every vector carries its bytes.
pub fn deterministic_bytes(label: &str, len: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    (0u32..)
        .flat_map(|i| {
            Sha256::new()
                .chain_update(b"qpc vectors ")
                .chain_update(label.as_bytes())
                .chain_update(i.to_be_bytes())
                .finalize()
        })
        .take(len)
        .collect()
}

/// Serialises a vector file as pretty JSON with a final newline.
pub fn to_json<V: Serialize>(file: &VectorFile<V>) -> String {
    let mut text = serde_json::to_string_pretty(file).expect("vectors serialise");
    text.push('\n');
    text
}

/// Parses a vector file and checks every vector in it.
pub fn verify_json<V: Vector + DeserializeOwned>(text: &str) -> Result<Vec<VectorResult>, String> {
    let file: VectorFile<V> =
        serde_json::from_str(text).map_err(|e| format!("unreadable vector file: {e}"))?;
    Ok(file
        .vectors
        .iter()
        .map(|v| VectorResult {
            name: v.name().to_owned(),
            failure: v.check().err(),
        })
        .collect())
}

/// Finds the suite for a file by its `protocol` field.
pub fn suite_for(text: &str) -> Result<&'static Suite, String> {
    #[derive(Deserialize)]
    struct Header {
        protocol: String,
    }
    let header: Header =
        serde_json::from_str(text).map_err(|e| format!("not a vector file: {e}"))?;
    SUITES
        .iter()
        .find(|s| s.protocol == header.protocol)
        .ok_or_else(|| format!("unknown protocol {:?}", header.protocol))
}

/// An error that maps to an error class of the spec (`00-overview.md` §5).
pub trait ErrorClass: std::fmt::Display {
    /// The class name, as used by `expected_error`.
    fn class(&self) -> &'static str;
}

impl ErrorClass for qpc_wire::Error {
    fn class(&self) -> &'static str {
        qpc_wire::Error::class(self)
    }
}

impl ErrorClass for qpc_crypto::Error {
    fn class(&self) -> &'static str {
        qpc_crypto::Error::class(self)
    }
}

impl ErrorClass for qpc_fapp::Error {
    fn class(&self) -> &'static str {
        qpc_fapp::Error::class(self)
    }
}

impl ErrorClass for qpc_mesh::Error {
    fn class(&self) -> &'static str {
        qpc_mesh::Error::class(self)
    }
}

/// Compares an expected error class with an outcome, for negative vectors.
pub fn expect_error<T: std::fmt::Debug, E: ErrorClass>(
    expected: &str,
    got: Result<T, E>,
) -> Result<(), String> {
    match got {
        Err(e) if e.class() == expected => Ok(()),
        Err(e) => Err(format!(
            "expected error {expected}, got {} ({e})",
            e.class()
        )),
        Ok(v) => Err(format!(
            "expected error {expected}, but it was accepted: {v:?}"
        )),
    }
}

/// Bytes serialised as lowercase hex, for optional and nested fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HexBytes(#[serde(with = "hex::serde")] pub Vec<u8>);

/// `Ok` if `got == want`, else a message naming `what`.
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}
