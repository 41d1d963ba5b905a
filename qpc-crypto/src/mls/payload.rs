//! qpc's application payload inside an MLS application message
//! (`spec/07` §6), padded with Padmé (`spec/04`).
//!
//! ```text
//! struct {
//!     uint8 version = 1;
//!     uint8 content_type;            // 1 = text (UTF-8), 2 = data
//!     opaque message_id[16];
//!     uint64 timestamp_ms;
//!     uint8 has_reply_to;            // 0 or 1
//!     select (has_reply_to) { case 1: opaque reply_to[16]; }
//!     opaque body<V>;                // at most MAX_BODY bytes
//! } ApplicationPayload;
//! ```
//!
//! The MLS plaintext is `pad(Padmé, encode(ApplicationPayload))`.

use bytes::Bytes;
use qpc_wire::codec::{self, Reader};

use crate::padding::{self, Padding};
use crate::Error;

/// The payload format version.
pub const PAYLOAD_VERSION: u8 = 1;
/// The largest body a payload may carry (1 MiB).
pub const MAX_BODY: usize = 1 << 20;

/// What a payload's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// UTF-8 text.
    Text,
    /// Opaque application data.
    Data,
}

impl ContentType {
    /// The code point.
    pub const fn code(self) -> u8 {
        match self {
            ContentType::Text => 1,
            ContentType::Data => 2,
        }
    }

    fn from_code(code: u8) -> Result<Self, Error> {
        match code {
            1 => Ok(ContentType::Text),
            2 => Ok(ContentType::Data),
            _ => Err(Error::Malformed(
                "application payload: unknown content type",
            )),
        }
    }
}

/// One application message of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationPayload {
    /// What the body is.
    pub content_type: ContentType,
    /// The sender's id for this message (random, for replies and receipts).
    pub message_id: [u8; 16],
    /// The sender's clock when it wrote the message (Unix ms).
    pub timestamp_ms: u64,
    /// The message this one answers.
    pub reply_to: Option<[u8; 16]>,
    /// The content.
    pub body: Bytes,
}

impl ApplicationPayload {
    /// The unpadded encoding. Fails for a body over [`MAX_BODY`] or text
    /// that is not UTF-8.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.check()?;
        let mut out = Vec::with_capacity(44 + self.body.len());
        out.push(PAYLOAD_VERSION);
        out.push(self.content_type.code());
        out.extend_from_slice(&self.message_id);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        match &self.reply_to {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(id);
            }
            None => out.push(0),
        }
        codec::put_vl_bytes(&mut out, &self.body)?;
        Ok(out)
    }

    /// The MLS plaintext: the encoding, Padmé-padded.
    pub fn to_plaintext(&self) -> Result<Vec<u8>, Error> {
        padding::pad(Padding::Padme, &self.encode()?)
    }

    /// Parses an MLS plaintext: padding first, then the layout, strictly.
    pub fn from_plaintext(plaintext: &[u8]) -> Result<Self, Error> {
        let encoded = padding::unpad(Padding::Padme, plaintext)?;
        Self::decode(Bytes::copy_from_slice(encoded))
    }

    /// Parses the unpadded encoding: every byte must be used.
    pub fn decode(bytes: Bytes) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != PAYLOAD_VERSION {
            return Err(Error::UnknownVersion {
                what: "application payload",
                version,
            });
        }
        let content_type = ContentType::from_code(r.u8()?)?;
        let message_id = r.array()?;
        let timestamp_ms = r.u64()?;
        let reply_to = match r.u8()? {
            0 => None,
            1 => Some(r.array()?),
            _ => {
                return Err(Error::Malformed(
                    "application payload: has_reply_to not 0 or 1",
                ))
            }
        };
        let len = r.varint()? as usize;
        if len > MAX_BODY {
            return Err(Error::ContentTooLong { len, max: MAX_BODY });
        }
        let body = r.bytes(len)?;
        r.finish()?;
        let payload = ApplicationPayload {
            content_type,
            message_id,
            timestamp_ms,
            reply_to,
            body,
        };
        payload.check()?;
        Ok(payload)
    }

    fn check(&self) -> Result<(), Error> {
        if self.body.len() > MAX_BODY {
            return Err(Error::ContentTooLong {
                len: self.body.len(),
                max: MAX_BODY,
            });
        }
        if self.content_type == ContentType::Text && std::str::from_utf8(&self.body).is_err() {
            return Err(Error::Malformed("application payload: text is not UTF-8"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload() -> impl Strategy<Value = ApplicationPayload> {
        (
            any::<bool>(),
            any::<[u8; 16]>(),
            any::<u64>(),
            proptest::option::of(any::<[u8; 16]>()),
            proptest::collection::vec(any::<u8>(), 0..300),
            ".{0,40}",
        )
            .prop_map(|(text, message_id, timestamp_ms, reply_to, data, s)| {
                ApplicationPayload {
                    content_type: if text {
                        ContentType::Text
                    } else {
                        ContentType::Data
                    },
                    message_id,
                    timestamp_ms,
                    reply_to,
                    body: if text {
                        Bytes::from(s)
                    } else {
                        Bytes::from(data)
                    },
                }
            })
    }

    proptest! {
        #[test]
        fn round_trip(p in payload()) {
            let plaintext = p.to_plaintext().unwrap();
            prop_assert_eq!(ApplicationPayload::from_plaintext(&plaintext).unwrap(), p.clone());
            prop_assert_eq!(plaintext.len(), crate::padding::padme(p.encode().unwrap().len() + 1));
        }

        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = ApplicationPayload::from_plaintext(&bytes) {
                prop_assert_eq!(p.to_plaintext().unwrap(), bytes);
            }
        }
    }

    #[test]
    fn rejects_each_rule() {
        let good = ApplicationPayload {
            content_type: ContentType::Text,
            message_id: [7; 16],
            timestamp_ms: 5,
            reply_to: None,
            body: Bytes::from_static(b"hi"),
        };
        let enc = good.encode().unwrap();
        let class = |bytes: &[u8]| {
            ApplicationPayload::decode(Bytes::copy_from_slice(bytes))
                .unwrap_err()
                .class()
        };
        let with = |i: usize, v: u8| {
            let mut e = enc.clone();
            e[i] = v;
            e
        };
        assert_eq!(class(&with(0, 2)), "unknown_version");
        assert_eq!(class(&with(1, 3)), "malformed");
        assert_eq!(class(&with(26, 2)), "malformed");
        assert_eq!(class(&enc[..enc.len() - 1]), "truncated");
        assert_eq!(class(&[enc.as_slice(), &[0]].concat()), "trailing_bytes");
        let bad_utf8 = [&enc[..27], &[2, 0xff, 0xfe]].concat();
        assert_eq!(class(&bad_utf8), "malformed");
        let too_long = [&enc[..27], &[0x80, 0x10, 0x00, 0x01]].concat();
        assert_eq!(class(&too_long), "content_too_long");
        let huge = ApplicationPayload {
            body: Bytes::from(vec![0; MAX_BODY + 1]),
            content_type: ContentType::Data,
            ..good
        };
        assert_eq!(huge.encode().unwrap_err().class(), "content_too_long");
    }
}
