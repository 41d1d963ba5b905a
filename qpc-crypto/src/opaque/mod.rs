//! OPAQUE password login, RFC 9807 (`spec/08-opaque.md`).
//!
//! opaque-ke 4 with the ristretto255-SHA512 OPRF, `TripleDh<Ristretto255,
//! SHA-512>` and Argon2id key stretching ([`Argon2idSuite`]); the test-only
//! [`IdentityKsfSuite`] runs the RFC 9807 vectors through the same code.
//!
//! ```text
//! Client                                         Server
//! ClientRegistration::start   ── RegistrationRequest ──>  registration_response
//! ClientRegistration::finish  <── RegistrationResponse ──
//!                             ── RegistrationRecord ──>   registration_finish -> ServerRecord
//! ClientLogin::start          ── KE1 ──>                  ServerLogin::handle_ke1
//! ClientLogin::finish         <── KE2 ──
//!                             ── KE3 ──>                  ServerLogin::handle_ke3
//! session key, export key                                 session key
//! ```
//!
//! Sans-IO: randomness comes in as `&mut impl CryptoRng` (or fixed, via
//! the `*_derand` entry points), nothing reads a clock or a file.
//!
//! ```
//! use qpc_crypto::opaque::*;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let config = ClientConfig::identity_ksf(Binding::default()); // production: ClientConfig::production()
//! let server = Server::<IdentityKsfSuite>::generate(&mut rng, Binding::default()).unwrap();
//!
//! let (registration, request) = ClientRegistration::start(&mut rng, &config, b"hunter2").unwrap();
//! let response = server.registration_response(&request, b"alice").unwrap();
//! let registered = registration.finish(&response).unwrap();
//! let record = server.registration_finish(&registered.record).unwrap();
//!
//! let (login, ke1) = ClientLogin::start(&mut rng, &config, b"hunter2").unwrap();
//! let mut server_login = server.login();
//! let ke2 = server_login.handle_ke1(&mut rng, Some(&record), b"alice", &ke1).unwrap();
//! let client = login.finish(&ke2).unwrap();
//! let session_key = server_login.handle_ke3(&client.ke3).unwrap();
//! assert_eq!(client.session_key, session_key);
//! assert_eq!(client.export_key, registered.export_key);
//! ```

mod client;
mod messages;
mod randomness;
mod record;
mod server;
mod suite;

use opaque_ke::errors::{InternalError, ProtocolError};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use client::{ClientLogin, ClientRegistration, LoginOutput, RegistrationOutput};
pub use messages::{
    Ke1, Ke2, Ke3, RegistrationRecord, RegistrationRequest, RegistrationResponse, MAX_MESSAGE_LEN,
};
pub use randomness::{
    is_nonzero_canonical_scalar, random_scalar, ClientLoginRandomness, RegistrationRandomness,
    ServerLoginRandomness,
};
pub use record::{ServerRecord, RECORD_LEN, RECORD_VERSION};
pub use server::{Server, ServerLogin, KEYS_LEN, KEYS_VERSION};
pub use suite::{
    Argon2idParams, Argon2idSuite, Binding, ClientConfig, IdentityKsfSuite, Suite, MAX_INPUT_LEN,
};

use crate::Error;

/// qpc's context string, bound into every login's transcript.
pub const CONTEXT: &[u8] = b"qpc/opaque/v1";
/// SHA-512 output length: session key, export key, KSF output.
pub const HASH_LEN: usize = 64;

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<[u8; HASH_LEN]>);

        impl $name {
            pub(crate) fn from_slice(bytes: &[u8]) -> Self {
                let mut key = Zeroizing::new([0u8; HASH_LEN]);
                key.copy_from_slice(bytes);
                $name(key)
            }

            /// The key bytes.
            pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
                &self.0
            }
        }

        /// Constant-time comparison.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(other.0.as_ref()).into()
            }
        }

        impl Eq for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_key!(
    /// The 64-byte session key both sides derive from a login.
    SessionKey
);
secret_key!(
    /// The 64-byte export key: a client-only secret, stable across logins,
    /// for encrypting application data under the password (§7.2).
    ExportKey
);

/// Maps an opaque-ke error to qpc's classes; `what` names the input that
/// was being processed.
pub(crate) fn protocol_error(error: ProtocolError, what: &'static str) -> Error {
    match error {
        ProtocolError::InvalidLoginError => Error::LoginFailed,
        ProtocolError::SerializationError
        | ProtocolError::ReflectedValueError
        | ProtocolError::LibraryError(InternalError::OprfError(_))
        | ProtocolError::LibraryError(InternalError::OprfInternalError(_)) => {
            Error::InvalidElement(what)
        }
        ProtocolError::SizeError { .. } => Error::Malformed(what),
        ProtocolError::LibraryError(InternalError::KsfError) => {
            Error::InvalidConfig("key stretching failed")
        }
        ProtocolError::LibraryError(_) | ProtocolError::Custom(_) => Error::Malformed(what),
    }
}
