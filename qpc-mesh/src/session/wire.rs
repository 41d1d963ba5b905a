//! The body of a Session mesh message (type `0xa`): its four kinds and
//! their decoding checks (`spec/12-mls-lite.md` §A.2).

use bytes::{BufMut, Bytes};
use qpc_crypto::xwing;

use crate::symmetric::TAG_LEN;
use crate::{Error, Result};

/// The longest content a Data message carries.
pub const MAX_CONTENT_LEN: usize = 1024;
/// The plaintext of an Init's sealed identity: tag, signing key, KEM key
/// digest, signature.
pub const IDENTITY_PLAINTEXT_LEN: usize = 2 + 32 + 32 + 64;
/// An Init body: kind, ephemeral X-Wing key, encapsulation, sealed
/// identity.
pub const INIT_LEN: usize =
    1 + xwing::PUBLIC_KEY_LEN + xwing::CIPHERTEXT_LEN + IDENTITY_PLAINTEXT_LEN + TAG_LEN;
/// A Response body: kind, initiator tag, encapsulation, sealed responder
/// tag.
pub const RESPONSE_LEN: usize = 1 + 2 + xwing::CIPHERTEXT_LEN + 2 + TAG_LEN;
/// A Data body without content: kind, tag, AEAD tag.
pub const DATA_OVERHEAD: usize = 1 + 2 + TAG_LEN;
/// A Resume body: kind, tag, epoch, AEAD tag.
pub const RESUME_LEN: usize = 1 + 2 + 2 + TAG_LEN;

/// The kind byte of each message.
const INIT: u8 = 0x01;
const RESPONSE: u8 = 0x02;
const DATA: u8 = 0x03;
const RESUME: u8 = 0x04;

/// Establishment, first message: initiator to responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// The initiator's ephemeral X-Wing public key (1216 bytes).
    pub ephemeral_key: Bytes,
    /// An encapsulation to the responder's static X-Wing key (1120 bytes).
    pub encapsulation: Bytes,
    /// The initiator's tag and identity proof, sealed (146 bytes).
    pub sealed_identity: Bytes,
}

/// Establishment, second message: responder to initiator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The initiator's receive tag, echoed: names the pending initiation.
    pub initiator_tag: u16,
    /// An encapsulation to the initiator's ephemeral key (1120 bytes).
    pub encapsulation: Bytes,
    /// The responder's receive tag, sealed (18 bytes): key confirmation.
    pub sealed_tag: Bytes,
}

/// An application message of an established session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// The receiver's tag for the session.
    pub tag: u16,
    /// Content and AEAD tag (16..=1040 bytes).
    pub ciphertext: Bytes,
}

/// A resumption: steps the session to `epoch` without a KEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The receiver's tag for the session.
    pub tag: u16,
    /// The epoch the sender has stepped to.
    pub epoch: u16,
    /// The AEAD tag over the empty plaintext.
    pub mac: [u8; TAG_LEN],
}

/// A decoded Session body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMessage {
    /// Establishment, initiator to responder.
    Init(Init),
    /// Establishment, responder to initiator.
    Response(Response),
    /// Application data.
    Data(Data),
    /// Resumption.
    Resume(Resume),
}

fn exact(body: &Bytes, len: usize) -> Result<()> {
    match body.len() {
        n if n < len => Err(Error::Wire(qpc_wire::Error::Truncated)),
        n if n > len => Err(Error::Wire(qpc_wire::Error::TrailingBytes(n - len))),
        _ => Ok(()),
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        message: "session message",
        reason,
    }
}

impl SessionMessage {
    /// Decodes a body with the checks of §A.2 in order (S1–S3); slices of
    /// `body`, nothing copied.
    pub fn decode(body: Bytes) -> Result<Self> {
        let kind = *body
            .first()
            .ok_or(Error::Wire(qpc_wire::Error::Truncated))?;
        let u16_at = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
        Ok(match kind {
            INIT => {
                exact(&body, INIT_LEN)?;
                let key_end = 1 + xwing::PUBLIC_KEY_LEN;
                let ct_end = key_end + xwing::CIPHERTEXT_LEN;
                SessionMessage::Init(Init {
                    ephemeral_key: body.slice(1..key_end),
                    encapsulation: body.slice(key_end..ct_end),
                    sealed_identity: body.slice(ct_end..),
                })
            }
            RESPONSE => {
                exact(&body, RESPONSE_LEN)?;
                let ct_end = 3 + xwing::CIPHERTEXT_LEN;
                SessionMessage::Response(Response {
                    initiator_tag: u16_at(1),
                    encapsulation: body.slice(3..ct_end),
                    sealed_tag: body.slice(ct_end..),
                })
            }
            DATA => {
                if body.len() < DATA_OVERHEAD {
                    return Err(Error::Wire(qpc_wire::Error::Truncated));
                }
                if body.len() > DATA_OVERHEAD + MAX_CONTENT_LEN {
                    return Err(Error::ContentTooLong {
                        len: body.len() - DATA_OVERHEAD,
                        max: MAX_CONTENT_LEN,
                    });
                }
                SessionMessage::Data(Data {
                    tag: u16_at(1),
                    ciphertext: body.slice(3..),
                })
            }
            RESUME => {
                exact(&body, RESUME_LEN)?;
                SessionMessage::Resume(Resume {
                    tag: u16_at(1),
                    epoch: u16_at(3),
                    mac: body[5..].try_into().expect("16 bytes"),
                })
            }
            _ => return Err(malformed("unknown kind")),
        })
    }

    /// The bytes before the AEAD output: what the associated data covers
    /// after the mesh header (§A.4).
    pub fn prefix(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5);
        match self {
            SessionMessage::Init(_) => out.put_u8(INIT),
            SessionMessage::Response(r) => {
                out.put_u8(RESPONSE);
                out.put_u16(r.initiator_tag);
            }
            SessionMessage::Data(d) => {
                out.put_u8(DATA);
                out.put_u16(d.tag);
            }
            SessionMessage::Resume(r) => {
                out.put_u8(RESUME);
                out.put_u16(r.tag);
                out.put_u16(r.epoch);
            }
        }
        out
    }

    /// The body; refuses fields of the wrong length (`malformed`) and
    /// content above [`MAX_CONTENT_LEN`] (`content_too_long`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let check = |field: &Bytes, len: usize, what: &'static str| {
            (field.len() == len).then_some(()).ok_or(malformed(what))
        };
        let mut out = self.prefix();
        match self {
            SessionMessage::Init(i) => {
                check(
                    &i.ephemeral_key,
                    xwing::PUBLIC_KEY_LEN,
                    "ephemeral key length",
                )?;
                check(
                    &i.encapsulation,
                    xwing::CIPHERTEXT_LEN,
                    "encapsulation length",
                )?;
                check(
                    &i.sealed_identity,
                    IDENTITY_PLAINTEXT_LEN + TAG_LEN,
                    "sealed identity length",
                )?;
                out.extend_from_slice(&i.ephemeral_key);
                out.extend_from_slice(&i.encapsulation);
                out.extend_from_slice(&i.sealed_identity);
            }
            SessionMessage::Response(r) => {
                check(
                    &r.encapsulation,
                    xwing::CIPHERTEXT_LEN,
                    "encapsulation length",
                )?;
                check(&r.sealed_tag, 2 + TAG_LEN, "sealed tag length")?;
                out.extend_from_slice(&r.encapsulation);
                out.extend_from_slice(&r.sealed_tag);
            }
            SessionMessage::Data(d) => {
                let content = d
                    .ciphertext
                    .len()
                    .checked_sub(TAG_LEN)
                    .ok_or(malformed("ciphertext shorter than a tag"))?;
                if content > MAX_CONTENT_LEN {
                    return Err(Error::ContentTooLong {
                        len: content,
                        max: MAX_CONTENT_LEN,
                    });
                }
                out.extend_from_slice(&d.ciphertext);
            }
            SessionMessage::Resume(r) => out.extend_from_slice(&r.mac),
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(len: usize) -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), len).prop_map(Bytes::from)
    }

    fn any_message() -> impl Strategy<Value = SessionMessage> {
        prop_oneof![
            (
                bytes(xwing::PUBLIC_KEY_LEN),
                bytes(xwing::CIPHERTEXT_LEN),
                bytes(IDENTITY_PLAINTEXT_LEN + TAG_LEN)
            )
                .prop_map(|(ephemeral_key, encapsulation, sealed_identity)| {
                    SessionMessage::Init(Init {
                        ephemeral_key,
                        encapsulation,
                        sealed_identity,
                    })
                }),
            (
                any::<u16>(),
                bytes(xwing::CIPHERTEXT_LEN),
                bytes(2 + TAG_LEN)
            )
                .prop_map(|(initiator_tag, encapsulation, sealed_tag)| {
                    SessionMessage::Response(Response {
                        initiator_tag,
                        encapsulation,
                        sealed_tag,
                    })
                }),
            (
                any::<u16>(),
                (TAG_LEN..=TAG_LEN + MAX_CONTENT_LEN).prop_flat_map(bytes)
            )
                .prop_map(|(tag, ciphertext)| SessionMessage::Data(Data { tag, ciphertext })),
            (any::<u16>(), any::<u16>(), any::<[u8; TAG_LEN]>())
                .prop_map(|(tag, epoch, mac)| SessionMessage::Resume(Resume { tag, epoch, mac })),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(message in any_message()) {
            let encoded = message.to_bytes().unwrap();
            prop_assert_eq!(SessionMessage::decode(Bytes::from(encoded.clone())).unwrap(), message);
        }

        #[test]
        fn hostile_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(m) = SessionMessage::decode(Bytes::from(body.clone())) {
                prop_assert_eq!(m.to_bytes().unwrap(), body);
            }
        }
    }

    #[test]
    fn lengths_and_classes() {
        assert_eq!((INIT_LEN, RESPONSE_LEN, RESUME_LEN), (2483, 1141, 21));
        let class = |b: &[u8]| {
            SessionMessage::decode(Bytes::copy_from_slice(b))
                .unwrap_err()
                .class()
        };
        assert_eq!(class(&[]), "truncated");
        assert_eq!(class(&[0x05]), "malformed");
        assert_eq!(class(&[DATA, 0, 0]), "truncated");
        assert_eq!(class(&[RESUME; RESUME_LEN + 1]), "trailing_bytes");
        let long = [&[DATA][..], &[0; DATA_OVERHEAD + MAX_CONTENT_LEN]].concat();
        assert_eq!(class(&long), "content_too_long");
    }
}
