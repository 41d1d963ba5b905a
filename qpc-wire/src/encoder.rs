//! Frame encoding.

use bytes::BufMut;

use crate::codec::Encode;
use crate::frame::{FrameHeader, FrameType};
use crate::{varint, Error, Result};

/// Writes frames of one protocol version, refusing bodies over the peer's
/// limit (learned from its Hello).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameEncoder {
    version: u8,
    max_body_len: u32,
}

impl FrameEncoder {
    /// An encoder for `version` that refuses bodies over `max_body_len`
    /// (clamped to 2^30 - 1).
    pub fn new(version: u8, max_body_len: u32) -> Self {
        FrameEncoder {
            version,
            max_body_len: max_body_len.min(varint::MAX),
        }
    }

    /// The version written into every header.
    pub fn version(&self) -> u8 {
        self.version
    }

    fn header(&self, frame_type: FrameType, body_len: usize) -> Result<FrameHeader> {
        let len = u32::try_from(body_len).unwrap_or(u32::MAX);
        if len > self.max_body_len {
            return Err(Error::FrameTooLarge {
                len,
                max: self.max_body_len,
            });
        }
        Ok(FrameHeader {
            version: self.version,
            frame_type,
            body_len: len,
        })
    }

    /// Appends a frame carrying `body`.
    pub fn encode(&self, frame_type: FrameType, body: &[u8], out: &mut impl BufMut) -> Result<()> {
        self.header(frame_type, body.len())?.encode(out)?;
        out.put_slice(body);
        Ok(())
    }

    /// Appends a frame whose body is the encoding of `message`, written
    /// straight into `out` without an intermediate buffer.
    pub fn encode_message<M: Encode + ?Sized>(
        &self,
        frame_type: FrameType,
        message: &M,
        out: &mut impl BufMut,
    ) -> Result<()> {
        self.header(frame_type, message.encoded_len())?
            .encode(out)?;
        message.encode(out)
    }
}
