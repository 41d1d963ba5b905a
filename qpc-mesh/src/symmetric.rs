//! The two symmetric primitives of the LoRa session and MLS-Lite key
//! schedules (`spec/12-mls-lite.md`): HKDF-SHA256 (RFC 5869) and
//! ChaCha20-Poly1305 (RFC 8439) with a detached 16-byte tag appended.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The AEAD tag length.
pub(crate) const TAG_LEN: usize = 16;

/// A 32-byte secret that zeroizes on drop.
pub(crate) type Secret = Zeroizing<[u8; 32]>;

/// `HKDF-Extract(salt, ikm)`.
pub(crate) fn extract(salt: &[u8], ikm: &[u8]) -> Secret {
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    let mut out = Zeroizing::new([0; 32]);
    out.copy_from_slice(&prk);
    out
}

/// `HKDF-Expand(prk, info, N)`, `info` the concatenation of `info`.
pub(crate) fn expand<const N: usize>(prk: &[u8; 32], info: &[&[u8]]) -> Zeroizing<[u8; N]> {
    let hkdf = Hkdf::<Sha256>::from_prk(prk).expect("a 32-byte PRK is valid");
    let mut out = Zeroizing::new([0; N]);
    hkdf.expand_multi_info(info, &mut *out)
        .expect("N is far below 255 blocks");
    out
}

/// `ciphertext || tag` of `plaintext`.
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = ChaCha20Poly1305::new(key.into())
        .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, &mut out)
        .expect("plaintexts here are far below the AEAD limit");
    out.extend_from_slice(&tag);
    out
}

/// The plaintext of `ciphertext || tag`, or `open_failed`.
pub(crate) fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let split = sealed.len().checked_sub(TAG_LEN).ok_or(Error::OpenFailed)?;
    let mut plaintext = Zeroizing::new(sealed[..split].to_vec());
    ChaCha20Poly1305::new(key.into())
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            &mut plaintext,
            Tag::from_slice(&sealed[split..]),
        )
        .map_err(|_| Error::OpenFailed)?;
    Ok(plaintext)
}

/// A 12-byte nonce: eight zero bytes, then `n` big-endian.
pub(crate) fn counter_nonce(n: u32) -> [u8; 12] {
    let mut nonce = [0; 12];
    nonce[8..].copy_from_slice(&n.to_be_bytes());
    nonce
}
