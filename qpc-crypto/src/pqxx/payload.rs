//! The pqXX payloads carried inside the three Noise messages.
//!
//! ```text
//! struct {
//!     uint8 kem;                                // 0 = none, 1 = ML-KEM-768
//!     select (kem) { case 1: opaque encapsulation_key[1184]; }
//!     opaque application<V>;
//! } Message1Payload;
//!
//! struct {
//!     uint8 kem;                                // the KEM used: 0 or 1
//!     select (kem) { case 1: opaque ciphertext[1088]; }
//!     StaticKeyBinding responder;
//!     opaque application<V>;
//! } Message2Payload;
//!
//! struct {
//!     StaticKeyBinding initiator;
//!     opaque application<V>;
//! } Message3Payload;
//! ```

use bytes::Bytes;
use qpc_wire::codec::{self, Decode, Encode, Reader};

use super::binding::{StaticKeyBinding, BINDING_LEN};
use crate::Error;

/// ML-KEM-768 encapsulation key length.
pub const ENCAPSULATION_KEY_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length.
pub const CIPHERTEXT_LEN: usize = 1088;

/// The `kem` code points.
const KEM_NONE: u8 = 0;
const KEM_ML_KEM_768: u8 = 1;

/// Message 1: the initiator's offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Message1Payload {
    pub encapsulation_key: Option<Box<[u8; ENCAPSULATION_KEY_LEN]>>,
    pub application: Bytes,
}

/// Message 2: the responder's answer and binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Message2Payload {
    pub ciphertext: Option<Box<[u8; CIPHERTEXT_LEN]>>,
    pub binding: StaticKeyBinding,
    pub application: Bytes,
}

/// Message 3: the initiator's binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Message3Payload {
    pub binding: StaticKeyBinding,
    pub application: Bytes,
}

fn put_kem<const N: usize>(out: &mut Vec<u8>, value: &Option<Box<[u8; N]>>) {
    match value {
        Some(bytes) => {
            out.push(KEM_ML_KEM_768);
            out.extend_from_slice(&bytes[..]);
        }
        None => out.push(KEM_NONE),
    }
}

fn read_kem<const N: usize>(r: &mut Reader) -> Result<Option<Box<[u8; N]>>, Error> {
    match r.u8()? {
        KEM_NONE => Ok(None),
        KEM_ML_KEM_768 => Ok(Some(Box::new(r.array()?))),
        _ => Err(Error::Malformed("pqXX payload: unknown kem")),
    }
}

fn put_application(out: &mut Vec<u8>, application: &[u8]) -> Result<(), Error> {
    Ok(codec::put_vl_bytes(out, application)?)
}

/// Reads the trailing application payload (at most `max` bytes) and checks
/// nothing follows it.
fn read_application(mut r: Reader, max: usize) -> Result<Bytes, Error> {
    let len = r.varint()? as usize;
    if len > max {
        return Err(Error::ContentTooLong { len, max });
    }
    let application = r.bytes(len)?;
    r.finish()?;
    Ok(application)
}

impl Message1Payload {
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(1 + ENCAPSULATION_KEY_LEN + 4 + self.application.len());
        put_kem(&mut out, &self.encapsulation_key);
        put_application(&mut out, &self.application)?;
        Ok(out)
    }

    pub fn decode(bytes: Bytes, max_application: usize) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let encapsulation_key = read_kem(&mut r)?;
        let application = read_application(r, max_application)?;
        Ok(Message1Payload {
            encapsulation_key,
            application,
        })
    }
}

impl Message2Payload {
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out =
            Vec::with_capacity(1 + CIPHERTEXT_LEN + BINDING_LEN + 4 + self.application.len());
        put_kem(&mut out, &self.ciphertext);
        self.binding.encode(&mut out)?;
        put_application(&mut out, &self.application)?;
        Ok(out)
    }

    pub fn decode(bytes: Bytes, max_application: usize) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let ciphertext = read_kem(&mut r)?;
        let binding = StaticKeyBinding::decode(&mut r)?;
        let application = read_application(r, max_application)?;
        Ok(Message2Payload {
            ciphertext,
            binding,
            application,
        })
    }
}

impl Message3Payload {
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(BINDING_LEN + 4 + self.application.len());
        self.binding.encode(&mut out)?;
        put_application(&mut out, &self.application)?;
        Ok(out)
    }

    pub fn decode(bytes: Bytes, max_application: usize) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let binding = StaticKeyBinding::decode(&mut r)?;
        let application = read_application(r, max_application)?;
        Ok(Message3Payload {
            binding,
            application,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn binding(seed: u8) -> StaticKeyBinding {
        let bytes: Vec<u8> = (0..BINDING_LEN as u8).map(|i| i ^ seed).collect();
        StaticKeyBinding::decode(&mut Reader::new(Bytes::from(bytes))).unwrap()
    }

    proptest! {
        #[test]
        fn payloads_round_trip(
            with_kem: bool,
            seed: u8,
            application in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let application = Bytes::from(application);
            let m1 = Message1Payload {
                encapsulation_key: with_kem.then(|| Box::new([seed; ENCAPSULATION_KEY_LEN])),
                application: application.clone(),
            };
            prop_assert_eq!(Message1Payload::decode(m1.encode()?.into(), 300)?, m1);
            let m2 = Message2Payload {
                ciphertext: with_kem.then(|| Box::new([seed; CIPHERTEXT_LEN])),
                binding: binding(seed),
                application: application.clone(),
            };
            prop_assert_eq!(Message2Payload::decode(m2.encode()?.into(), 300)?, m2);
            let m3 = Message3Payload { binding: binding(seed), application };
            prop_assert_eq!(Message3Payload::decode(m3.encode()?.into(), 300)?, m3);
        }

        /// Hostile bytes are refused with a typed error, never a panic.
        #[test]
        fn hostile_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
            let bytes = Bytes::from(bytes);
            let _ = Message1Payload::decode(bytes.clone(), 64);
            let _ = Message2Payload::decode(bytes.clone(), 64);
            let _ = Message3Payload::decode(bytes, 64);
        }
    }
}
