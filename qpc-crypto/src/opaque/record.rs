//! The server's stored record of one registered user
//! (`spec/08-opaque.md` §5):
//!
//! ```text
//! struct {
//!     uint8  version;            // 1
//!     uint8  suite;              // Suite::ID
//!     opaque registration<V>;    // RegistrationRecord, 192 bytes
//! } StoredRecord;
//! ```

use bytes::{BufMut, Bytes};
use qpc_wire::codec::Reader;

use super::messages::RegistrationRecord;
use super::protocol_error;
use super::suite::Suite;
use crate::Error;

/// The only record version.
pub const RECORD_VERSION: u8 = 1;
/// The encoded length of a record: version, suite, a two-byte varint and
/// the 192-byte registration.
pub const RECORD_LEN: usize = 4 + RegistrationRecord::LEN;

/// A registered user's record, as the server stores it. It holds no secret
/// the server could use to log in as the user, but it is what an offline
/// dictionary attack starts from: store it confidentially.
pub struct ServerRecord<S: Suite> {
    pub(crate) registration: opaque_ke::ServerRegistration<S>,
}

impl<S: Suite> core::fmt::Debug for ServerRecord<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerRecord")
            .field("suite", &S::NAME)
            .finish_non_exhaustive()
    }
}

impl<S: Suite> Clone for ServerRecord<S> {
    fn clone(&self) -> Self {
        ServerRecord {
            registration: self.registration.clone(),
        }
    }
}

impl<S: Suite> ServerRecord<S> {
    /// Builds the record from the client's upload; the client public key
    /// must be a valid ristretto255 element ([`Error::InvalidElement`]).
    pub fn from_upload(upload: &RegistrationRecord) -> Result<Self, Error> {
        let upload = opaque_ke::RegistrationUpload::<S>::deserialize(upload.as_bytes())
            .map_err(|e| protocol_error(e, "RegistrationRecord"))?;
        Ok(ServerRecord {
            registration: opaque_ke::ServerRegistration::finish(upload),
        })
    }

    /// The client's upload this record holds.
    pub fn upload(&self) -> RegistrationRecord {
        RegistrationRecord::from_bytes(&self.registration.serialize())
            .expect("opaque-ke serialises 192 bytes")
    }

    /// The stored encoding ([`RECORD_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_LEN);
        out.put_u8(RECORD_VERSION);
        out.put_u8(S::ID);
        qpc_wire::codec::put_vl_bytes(&mut out, self.upload().as_bytes())
            .expect("192 bytes fit a varint");
        out
    }

    /// Parses a stored record. Checks, in order: version
    /// (`unknown_version`), suite (`unknown_suite`), the length prefix and
    /// that the input ends there (`truncated`, `non_minimal_length`,
    /// `invalid_length_prefix`), the registration length (`wrong_length`),
    /// no bytes after it (`trailing_bytes`), the client public key
    /// (`invalid_element`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut reader = Reader::new(Bytes::copy_from_slice(bytes));
        let version = reader.u8()?;
        if version != RECORD_VERSION {
            return Err(Error::UnknownVersion {
                what: "OPAQUE record",
                version,
            });
        }
        let suite = reader.u8()?;
        if suite != S::ID {
            return Err(Error::UnknownSuite {
                what: "OPAQUE record",
                suite,
            });
        }
        let registration = reader.vl_bytes(super::suite::MAX_INPUT_LEN)?;
        reader.finish()?;
        Self::from_upload(&RegistrationRecord::from_bytes(&registration)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opaque::{Argon2idSuite, IdentityKsfSuite};

    /// A record whose client public key is the ristretto255 base point.
    fn valid() -> Vec<u8> {
        const BASE: [u8; 32] = [
            0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00,
            0x51, 0x5f, 0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45,
            0xe0, 0x8d, 0x2d, 0x76,
        ];
        let mut upload = [0x11u8; 192];
        upload[..32].copy_from_slice(&BASE);
        let mut out = vec![1, Argon2idSuite::ID, 0x40, 0xc0];
        out.extend_from_slice(&upload);
        out
    }

    proptest::proptest! {
        #[test]
        fn record_round_trip(rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 160..=160)) {
            let mut bytes = valid();
            bytes[36..].copy_from_slice(&rest);
            let record = ServerRecord::<Argon2idSuite>::from_bytes(&bytes).unwrap();
            proptest::prop_assert_eq!(record.to_bytes(), bytes.clone());
            let upload = record.upload();
            proptest::prop_assert_eq!(&upload.as_bytes()[..], &bytes[4..]);
        }

        #[test]
        fn hostile_records_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..260)) {
            if let Ok(record) = ServerRecord::<Argon2idSuite>::from_bytes(&bytes) {
                proptest::prop_assert_eq!(record.to_bytes(), bytes);
            }
        }
    }

    #[test]
    fn round_trip_and_ordered_checks() {
        let bytes = valid();
        let record = ServerRecord::<Argon2idSuite>::from_bytes(&bytes).unwrap();
        assert_eq!(record.to_bytes(), bytes);
        let class = |b: &[u8]| {
            ServerRecord::<Argon2idSuite>::from_bytes(b)
                .unwrap_err()
                .class()
        };
        assert_eq!(class(&[]), "truncated");
        let mut v = bytes.clone();
        v[0] = 2;
        assert_eq!(class(&v), "unknown_version");
        assert_eq!(
            ServerRecord::<IdentityKsfSuite>::from_bytes(&bytes)
                .unwrap_err()
                .class(),
            "unknown_suite"
        );
        assert_eq!(class(&bytes[..bytes.len() - 1]), "truncated");
        let mut v = bytes.clone();
        v.push(0);
        assert_eq!(class(&v), "trailing_bytes");
        let mut v = vec![1, Argon2idSuite::ID, 0x40, 0xbf];
        v.extend_from_slice(&bytes[4..bytes.len() - 1]);
        assert_eq!(class(&v), "wrong_length");
        let mut v = bytes.clone();
        v[4..36].fill(0); // the identity element
        assert_eq!(class(&v), "invalid_element");
    }
}
