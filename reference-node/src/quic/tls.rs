//! The QUIC profile's TLS side (`spec/30-reference-node.md` §5): TLS 1.3
//! only, X25519MLKEM768 as the only key exchange, Ed25519 as the only
//! signature scheme, mutual authentication with the certificate of §5.2,
//! and peers pinned by address.

use std::sync::Arc;

use qpc_crypto::identity::Address;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::certificate::{self, NodeCertificate};
use crate::error::{Error, Result};

/// The ALPN protocol id.
pub const ALPN: &[u8] = b"qpc/1";

/// The crypto provider of a qpc link: aws-lc-rs with its key exchange
/// groups cut down to X25519MLKEM768.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        kx_groups: vec![aws_lc_rs::kx_group::X25519MLKEM768],
        ..aws_lc_rs::default_provider()
    })
}

/// Checks a peer certificate against the pinned addresses.
#[derive(Debug)]
pub struct PinnedPeers {
    pinned: Vec<Address>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedPeers {
    /// A verifier accepting exactly the certificates of `pinned`.
    pub fn new(pinned: Vec<Address>) -> Arc<Self> {
        Arc::new(PinnedPeers {
            pinned,
            algorithms: aws_lc_rs::default_provider().signature_verification_algorithms,
        })
    }

    fn check(&self, der: &[u8]) -> std::result::Result<(), rustls::Error> {
        match certificate::address_of(der) {
            Ok(address) if self.pinned.contains(&address) => Ok(()),
            Ok(address) => {
                let e = Error::PeerRejected(format!(
                    "{} is not a configured peer",
                    hex::encode(address.as_bytes())
                ));
                tracing::warn!(class = e.class(), "{e}");
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
            Err(e) => {
                tracing::warn!(class = e.class(), "{e}");
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::BadEncoding,
                ))
            }
        }
    }

    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme != SignatureScheme::ED25519 {
            return Err(rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::NoSignatureSchemesInCommon,
            ));
        }
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

/// The signature methods both verifier traits share: TLS 1.3 only,
/// Ed25519 only.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::Tls13RequiredForQuic,
            ))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            self.signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            vec![SignatureScheme::ED25519]
        }
    };
}

impl ServerCertVerifier for PinnedPeers {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    handshake_signatures!();
}

impl ClientCertVerifier for PinnedPeers {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    handshake_signatures!();
}

fn tls_error(e: rustls::Error) -> Error {
    Error::Quic(format!("TLS configuration: {e}"))
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(Some(
            quinn::IdleTimeout::try_from(std::time::Duration::from_secs(10)).expect("10 s fits"),
        ))
        .keep_alive_interval(Some(std::time::Duration::from_secs(2)))
        .max_concurrent_bidi_streams(0u8.into())
        .max_concurrent_uni_streams(4u8.into());
    Arc::new(transport)
}

/// The server side: any of `pinned` may connect.
pub fn server_config(cert: &NodeCertificate, pinned: Vec<Address>) -> Result<quinn::ServerConfig> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .with_client_cert_verifier(PinnedPeers::new(pinned))
        .with_single_cert(vec![cert.certificate.clone()], cert.key.clone_key())
        .map_err(tls_error)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicServerConfig::try_from(tls).map_err(|e| Error::Quic(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    config.transport_config(transport());
    Ok(config)
}

/// The client side, dialling `peer`.
pub fn client_config(cert: &NodeCertificate, peer: Address) -> Result<quinn::ClientConfig> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(PinnedPeers::new(vec![peer]))
        .with_client_auth_cert(vec![cert.certificate.clone()], cert.key.clone_key())
        .map_err(tls_error)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicClientConfig::try_from(tls).map_err(|e| Error::Quic(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(quic));
    config.transport_config(transport());
    Ok(config)
}

/// The class of a failed handshake: `downgrade` when no key exchange group
/// was common (the peer offered no X25519MLKEM768), `peer_rejected` or
/// `bad_certificate` when a certificate was refused, else `io`.
pub fn handshake_error(e: &quinn::ConnectionError) -> Error {
    let text = e.to_string();
    if text.contains("NoKxGroupsInCommon") || text.contains("HandshakeFailure") {
        Error::Downgrade
    } else if text.contains("ApplicationVerificationFailure") {
        Error::PeerRejected("the certificate's address is not pinned".into())
    } else if text.contains("BadEncoding") || text.contains("BadCertificate") {
        Error::BadCertificate("the certificate is not bound to a qpc identity")
    } else {
        Error::Quic(text)
    }
}

/// The address of the authenticated peer of `connection`.
pub fn peer_address(connection: &quinn::Connection) -> Result<Address> {
    let certs = connection
        .peer_identity()
        .and_then(|any| any.downcast::<Vec<CertificateDer<'static>>>().ok())
        .ok_or(Error::BadCertificate("the peer presented no certificate"))?;
    let first = certs
        .first()
        .ok_or(Error::BadCertificate("the peer presented no certificate"))?;
    certificate::address_of(first)
}
