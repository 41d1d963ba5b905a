//! The self-signed certificate bound to a qpc identity
//! (`spec/30-reference-node.md` §5.2): its key is the identity's Ed25519
//! key, and one URI subject alternative name carries the KEM key digest,
//! so a peer derives the identity's address from the certificate alone.

use qpc_crypto::identity::{Address, Identity};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::OID_SIG_ED25519;

use crate::error::{Error, Result};

/// The URI name's prefix; 64 lowercase hex digits of the digest follow.
pub const KEM_DIGEST_URI_PREFIX: &str = "urn:qpc:kem-key-digest:";

/// The DNS name in the certificate and the server name clients send.
pub const SERVER_NAME: &str = "qpc.invalid";

/// A certificate and its private key, for rustls.
#[derive(Debug)]
pub struct NodeCertificate {
    /// The DER certificate.
    pub certificate: CertificateDer<'static>,
    /// The identity's Ed25519 key as PKCS#8.
    pub key: PrivateKeyDer<'static>,
}

/// Makes the certificate of `identity`.
pub fn for_identity(identity: &Identity) -> Result<NodeCertificate> {
    let secret = identity.to_secret_bytes();
    let seed = &secret[1..33];
    let pair =
        aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed).map_err(quic_error)?;
    let pkcs8 = pair.to_pkcs8().map_err(quic_error)?;
    let key_pair = rcgen::KeyPair::try_from(pkcs8.as_ref()).map_err(quic_error)?;
    let mut params =
        rcgen::CertificateParams::new(vec![SERVER_NAME.to_string()]).map_err(quic_error)?;
    // The address as the serial number: the certificate of an identity is
    // always the same bytes (Ed25519 signatures are deterministic).
    params.serial_number = Some(rcgen::SerialNumber::from_slice(
        identity.public().address().as_bytes(),
    ));
    let uri = format!(
        "{KEM_DIGEST_URI_PREFIX}{}",
        hex::encode(identity.public().kem_key_digest())
    );
    params
        .subject_alt_names
        .push(rcgen::SanType::URI(uri.try_into().map_err(quic_error)?));
    let certificate = params.self_signed(&key_pair).map_err(quic_error)?;
    Ok(NodeCertificate {
        certificate: certificate.der().clone(),
        key: PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec()).into(),
    })
}

fn quic_error(e: impl std::fmt::Display) -> Error {
    Error::Quic(e.to_string())
}

/// The address a peer certificate names (§5.2), or `bad_certificate`.
pub fn address_of(der: &[u8]) -> Result<Address> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| Error::BadCertificate("not a DER X.509 certificate"))?;
    if !rest.is_empty() {
        return Err(Error::BadCertificate("bytes after the certificate"));
    }
    let spki = cert.public_key();
    if spki.algorithm.algorithm != OID_SIG_ED25519 {
        return Err(Error::BadCertificate("the key is not Ed25519"));
    }
    let signing_key: [u8; 32] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| Error::BadCertificate("the Ed25519 key is not 32 bytes"))?;
    let names = cert
        .subject_alternative_name()
        .map_err(|_| Error::BadCertificate("the subject alternative names do not parse"))?
        .ok_or(Error::BadCertificate("no subject alternative names"))?;
    let mut digests = names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => uri.strip_prefix(KEM_DIGEST_URI_PREFIX),
            _ => None,
        });
    let digest = digests
        .next()
        .ok_or(Error::BadCertificate("no KEM key digest name"))?;
    if digests.next().is_some() {
        return Err(Error::BadCertificate("two KEM key digest names"));
    }
    if digest.len() != 64 || digest.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::BadCertificate(
            "the KEM key digest is not 64 lowercase hex digits",
        ));
    }
    let mut kem_key_digest = [0; 32];
    hex::decode_to_slice(digest, &mut kem_key_digest)
        .map_err(|_| Error::BadCertificate("the KEM key digest is not hex"))?;
    Ok(Address::derive(&signing_key, &kem_key_digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_names_the_identity_address() {
        let identity = Identity::from_seeds(&[1; 32], &[2; 32]);
        let cert = for_identity(&identity).unwrap();
        assert_eq!(
            address_of(&cert.certificate).unwrap(),
            identity.public().address()
        );
    }

    #[test]
    fn other_certificates_are_refused() {
        let ecdsa = rcgen::generate_simple_self_signed(vec![SERVER_NAME.into()]).unwrap();
        assert_eq!(
            address_of(ecdsa.cert.der()).unwrap_err().to_string(),
            "bad peer certificate: the key is not Ed25519"
        );
        assert_eq!(
            address_of(&[0x30, 0x03, 1, 2, 3]).unwrap_err().class(),
            "bad_certificate"
        );
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let plain = rcgen::CertificateParams::new(vec![SERVER_NAME.to_string()])
            .unwrap()
            .self_signed(&ed)
            .unwrap();
        assert_eq!(
            address_of(plain.der()).unwrap_err().to_string(),
            "bad peer certificate: no KEM key digest name"
        );
    }
}
