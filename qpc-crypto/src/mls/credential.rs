//! MLS credentials bound to qpc identities (`spec/07` §4).
//!
//! A member's MLS signature key is its identity's Ed25519 key, and its
//! credential is a `BasicCredential` whose identity is
//!
//! ```text
//! struct {
//!     uint8 version = 1;
//!     opaque kem_key_digest[32];   // SHA-256 of the X-Wing public key
//! } QpcCredential;                 // 33 bytes
//! ```
//!
//! so that anyone in the group computes the member's qpc address,
//! `Address::derive(signature_key, kem_key_digest)` (`spec/02`), without
//! the 1216-byte X-Wing key.

use ed25519_dalek::{Signer as _, SigningKey};
use openmls::prelude::{BasicCredential, Credential, CredentialType, CredentialWithKey};
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;

use crate::identity::{parse_signing_key, Address, Identity};
use crate::Error;

/// The `version` byte of a [`QpcCredential`](self).
pub const CREDENTIAL_VERSION: u8 = 1;
/// The length of the credential's identity field.
pub const CREDENTIAL_LEN: usize = 33;

/// The credential identity bytes of `identity`.
pub fn credential_bytes(identity: &Identity) -> [u8; CREDENTIAL_LEN] {
    let mut out = [0u8; CREDENTIAL_LEN];
    out[0] = CREDENTIAL_VERSION;
    out[1..].copy_from_slice(identity.public().kem_key_digest());
    out
}

/// The address a credential identity and an Ed25519 signature key bind:
/// the credential must be exactly 33 bytes of version 1 and the key a
/// valid Ed25519 key.
pub fn member_address(credential: &[u8], signature_key: &[u8]) -> Result<Address, Error> {
    let invalid = Error::InvalidCredential;
    let credential: &[u8; CREDENTIAL_LEN] = credential.try_into().map_err(|_| invalid.clone())?;
    if credential[0] != CREDENTIAL_VERSION {
        return Err(invalid);
    }
    let key: &[u8; 32] = signature_key.try_into().map_err(|_| invalid.clone())?;
    parse_signing_key(key).map_err(|_| invalid)?;
    let digest: &[u8; 32] = credential[1..].try_into().expect("32 bytes");
    Ok(Address::derive(key, digest))
}

/// The address of an OpenMLS credential with its signature key, fully
/// validated (for leaves entering a group).
pub(crate) fn address_of(credential: &Credential, signature_key: &[u8]) -> Result<Address, Error> {
    if credential.credential_type() != CredentialType::Basic {
        return Err(Error::InvalidCredential);
    }
    member_address(credential.serialized_content(), signature_key)
}

/// The address of a leaf already in the group, whose key was validated by
/// [`address_of`] when it entered: only the layout is re-checked.
pub(crate) fn address_of_member(
    credential: &Credential,
    signature_key: &[u8],
) -> Result<Address, Error> {
    let credential: &[u8; CREDENTIAL_LEN] = credential
        .serialized_content()
        .try_into()
        .map_err(|_| Error::InvalidCredential)?;
    let key: &[u8; 32] = signature_key
        .try_into()
        .map_err(|_| Error::InvalidCredential)?;
    let digest: &[u8; 32] = credential[1..].try_into().expect("32 bytes");
    Ok(Address::derive(key, digest))
}

/// The credential with key OpenMLS puts in our leaf.
pub(crate) fn credential_with_key(identity: &Identity) -> CredentialWithKey {
    CredentialWithKey {
        credential: BasicCredential::new(credential_bytes(identity).to_vec()).into(),
        signature_key: identity.public().signing_key().as_bytes().to_vec().into(),
    }
}

/// OpenMLS's signer over an identity's Ed25519 key: plain Ed25519 of what
/// MLS's `SignWithLabel` builds ("MLS 1.0 " labels), which can never equal
/// a qpc context-bound message ("qpc sig v1 " labels, `spec/02`).
pub(crate) struct MlsSigner<'a>(pub(crate) &'a SigningKey);

impl Signer for MlsSigner<'_> {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.0.sign(payload).to_bytes().to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_binds_the_address() {
        let alice = Identity::from_seeds(&[1; 32], &[2; 32]);
        let cred = credential_bytes(&alice);
        let key = alice.public().signing_key().as_bytes();
        assert_eq!(member_address(&cred, key), Ok(alice.public().address()));
        let mut bad = cred;
        bad[0] = 2;
        assert_eq!(member_address(&bad, key), Err(Error::InvalidCredential));
        assert_eq!(
            member_address(&cred[..32], key),
            Err(Error::InvalidCredential)
        );
        assert_eq!(
            member_address(&cred, &key[..31]),
            Err(Error::InvalidCredential)
        );
        let bob = Identity::from_seeds(&[3; 32], &[4; 32]);
        assert_ne!(
            member_address(&cred, bob.public().signing_key().as_bytes()),
            Ok(alice.public().address())
        );
    }
}
