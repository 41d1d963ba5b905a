//! The MLS-Lite message layout (`spec/12-mls-lite.md` §B.3): a 7-byte
//! header, then ChaCha20-Poly1305 ciphertext and tag.

use bytes::{BufMut, Bytes};

use crate::symmetric::TAG_LEN;
use crate::{Error, Result};

/// Header length: epoch id, sender index, counter.
pub const HEADER_LEN: usize = 1 + 2 + 4;
/// Bytes an MLS-Lite message adds to its content.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// The longest content.
pub const MAX_CONTENT_LEN: usize = 1024;

/// The cleartext header; all of it is associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LiteHeader {
    /// The low 8 bits of the epoch.
    pub epoch_id: u8,
    /// The sender's index in the epoch's member list.
    pub sender: u16,
    /// The sender's message counter in the epoch.
    pub counter: u32,
}

impl LiteHeader {
    /// The 7 header bytes.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[0] = self.epoch_id;
        out[1..3].copy_from_slice(&self.sender.to_be_bytes());
        out[3..].copy_from_slice(&self.counter.to_be_bytes());
        out
    }
}

/// A decoded MLS-Lite message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteMessage {
    /// The header.
    pub header: LiteHeader,
    /// Ciphertext and tag (a slice of the input).
    pub ciphertext: Bytes,
}

impl LiteMessage {
    /// Decodes with check G1 of §B.4: at least 23 bytes (`truncated`), at
    /// most 23 + 1024 (`content_too_long`).
    pub fn decode(bytes: Bytes) -> Result<Self> {
        if bytes.len() < OVERHEAD {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        if bytes.len() > OVERHEAD + MAX_CONTENT_LEN {
            return Err(Error::ContentTooLong {
                len: bytes.len() - OVERHEAD,
                max: MAX_CONTENT_LEN,
            });
        }
        let header = LiteHeader {
            epoch_id: bytes[0],
            sender: u16::from_be_bytes([bytes[1], bytes[2]]),
            counter: u32::from_be_bytes(bytes[3..7].try_into().expect("4 bytes")),
        };
        Ok(LiteMessage {
            header,
            ciphertext: bytes.slice(HEADER_LEN..),
        })
    }

    /// The message bytes; refuses a ciphertext shorter than a tag
    /// (`malformed`) or longer than the bound (`content_too_long`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let content = self
            .ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Malformed {
                message: "MLS-Lite message",
                reason: "ciphertext shorter than a tag",
            })?;
        if content > MAX_CONTENT_LEN {
            return Err(Error::ContentTooLong {
                len: content,
                max: MAX_CONTENT_LEN,
            });
        }
        let mut out = Vec::with_capacity(HEADER_LEN + self.ciphertext.len());
        out.put_slice(&self.header.to_bytes());
        out.put_slice(&self.ciphertext);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(
            epoch_id in any::<u8>(),
            sender in any::<u16>(),
            counter in any::<u32>(),
            ciphertext in proptest::collection::vec(any::<u8>(), TAG_LEN..=TAG_LEN + MAX_CONTENT_LEN),
        ) {
            let message = LiteMessage {
                header: LiteHeader { epoch_id, sender, counter },
                ciphertext: Bytes::from(ciphertext),
            };
            let bytes = message.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), OVERHEAD + message.ciphertext.len() - TAG_LEN);
            prop_assert_eq!(LiteMessage::decode(Bytes::from(bytes)).unwrap(), message);
        }
    }

    #[test]
    fn bounds() {
        let class = |n: usize| {
            LiteMessage::decode(Bytes::from(vec![0; n]))
                .unwrap_err()
                .class()
        };
        assert_eq!(class(OVERHEAD - 1), "truncated");
        assert_eq!(class(OVERHEAD + MAX_CONTENT_LEN + 1), "content_too_long");
        assert!(LiteMessage::decode(Bytes::from(vec![0; OVERHEAD])).is_ok());
    }
}
