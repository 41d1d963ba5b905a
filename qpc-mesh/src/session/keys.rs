//! The session key schedule (`spec/12-mls-lite.md` §A.3, §A.5): transcript
//! hashes, handshake keys, per-epoch keys and the symmetric chain step.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::symmetric::{expand, extract, Secret};

const TRANSCRIPT: &[u8] = b"qpc lora session v1";
const INIT: &[u8] = b"qpc lora session init v1";
const CONFIRM: &[u8] = b"qpc lora session confirm v1";
const ROOT: &[u8] = b"qpc lora session root v1";
const I2R: &[u8] = b"qpc lora session i2r v1";
const R2I: &[u8] = b"qpc lora session r2i v1";
const MASK: &[u8] = b"qpc lora session mask v1";
const NEXT: &[u8] = b"qpc lora session next v1";
const RESUME_I2R: &[u8] = b"qpc lora session resume i2r v1";
const RESUME_R2I: &[u8] = b"qpc lora session resume r2i v1";
const MESSAGE_KEY: &[u8] = b"qpc lora session mk v1";
const CHAIN_KEY: &[u8] = b"qpc lora session ck v1";

/// Which side of the establishment a party was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent the Init.
    Initiator,
    /// Answered with the Response.
    Responder,
}

/// `th0 = SHA-256("qpc lora session v1" || responder address || ephemeral key || encapsulation)`.
pub(crate) fn transcript0(
    responder: &[u8; 16],
    ephemeral_key: &[u8],
    encapsulation: &[u8],
) -> [u8; 32] {
    Sha256::new()
        .chain_update(TRANSCRIPT)
        .chain_update(responder)
        .chain_update(ephemeral_key)
        .chain_update(encapsulation)
        .finalize()
        .into()
}

/// `th1 = SHA-256(th0 || sealed identity || response encapsulation)`.
pub(crate) fn transcript1(
    th0: &[u8; 32],
    sealed_identity: &[u8],
    encapsulation: &[u8],
) -> [u8; 32] {
    Sha256::new()
        .chain_update(th0)
        .chain_update(sealed_identity)
        .chain_update(encapsulation)
        .finalize()
        .into()
}

/// The key sealing the Init's identity: HKDF(salt th0, ikm ss_s, "init").
pub(crate) fn init_key(th0: &[u8; 32], ss_static: &[u8; 32]) -> Secret {
    expand(&extract(th0, ss_static), &[INIT])
}

/// The Response's key-confirmation key and the epoch-0 root:
/// `prk = HKDF-Extract(th1, ss_s || ss_e)`.
pub(crate) fn handshake_keys(
    th1: &[u8; 32],
    ss_static: &[u8; 32],
    ss_ephemeral: &[u8; 32],
) -> (Secret, Secret) {
    let ikm = Zeroizing::new([&ss_static[..], &ss_ephemeral[..]].concat());
    let prk = extract(th1, &ikm);
    (expand(&prk, &[CONFIRM]), expand(&prk, &[ROOT]))
}

/// Everything one epoch's root yields, seen from one role.
pub(crate) struct EpochKeys {
    pub send_chain: Secret,
    pub receive_chain: Secret,
    pub send_mask: u32,
    pub receive_mask: u32,
    pub send_resume: Secret,
    pub receive_resume: Secret,
    /// The next epoch's root; the caller deletes this epoch's.
    pub next_root: Secret,
}

impl EpochKeys {
    /// Derives the keys of the epoch whose root is `root`.
    pub fn derive(root: &[u8; 32], role: Role) -> Self {
        let (i2r, r2i) = (expand(root, &[I2R]), expand(root, &[R2I]));
        let masks = expand::<8>(root, &[MASK]);
        let mask_i2r = u32::from_be_bytes(masks[..4].try_into().expect("4"));
        let mask_r2i = u32::from_be_bytes(masks[4..].try_into().expect("4"));
        let (resume_i2r, resume_r2i) = (expand(root, &[RESUME_I2R]), expand(root, &[RESUME_R2I]));
        let next_root = expand(root, &[NEXT]);
        match role {
            Role::Initiator => EpochKeys {
                send_chain: i2r,
                receive_chain: r2i,
                send_mask: mask_i2r,
                receive_mask: mask_r2i,
                send_resume: resume_i2r,
                receive_resume: resume_r2i,
                next_root,
            },
            Role::Responder => EpochKeys {
                send_chain: r2i,
                receive_chain: i2r,
                send_mask: mask_r2i,
                receive_mask: mask_i2r,
                send_resume: resume_r2i,
                receive_resume: resume_i2r,
                next_root,
            },
        }
    }
}

/// One chain step: `(message key, next chain key)` of chain key `ck`.
pub(crate) fn chain_step(ck: &[u8; 32]) -> (Secret, Secret) {
    (expand(ck, &[MESSAGE_KEY]), expand(ck, &[CHAIN_KEY]))
}
