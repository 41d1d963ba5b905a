//! Length-prefixed frames on a byte stream: the QUIC link's `QuicDatagram`
//! (`spec/30-reference-node.md` §6, a 2-byte length) and the control API's
//! `ControlFrame` (§9, a 4-byte length). [`FrameReader`] is sans-IO: the
//! caller pushes what it read and pops whole frames.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{Error, Result};

/// The shape of one kind of frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameFormat {
    /// Bytes of the big-endian length prefix: 2 or 4.
    pub prefix_len: usize,
    /// The longest body.
    pub max_len: usize,
    /// What the frames are, for errors.
    pub what: &'static str,
}

/// A mesh datagram on a QUIC stream (§6).
pub const QUIC_DATAGRAM: FrameFormat = FrameFormat {
    prefix_len: 2,
    max_len: 16_384,
    what: "QUIC datagram frame",
};

/// A control API request or response (§9).
pub const CONTROL_FRAME: FrameFormat = FrameFormat {
    prefix_len: 4,
    max_len: 1 << 20,
    what: "control frame",
};

impl FrameFormat {
    /// `body` with its length prefix; `frame_too_large` above the bound,
    /// `malformed` when empty.
    pub fn encode(&self, body: &[u8]) -> Result<Vec<u8>> {
        self.check_len(body.len())?;
        let len = (body.len() as u32).to_be_bytes();
        let mut out = Vec::with_capacity(self.prefix_len + body.len());
        out.extend_from_slice(&len[4 - self.prefix_len..]);
        out.extend_from_slice(body);
        Ok(out)
    }

    fn check_len(&self, len: usize) -> Result<()> {
        self.refusal(len).map_or(Ok(()), Err)
    }

    /// Why a body of `len` bytes is refused, if it is.
    fn refusal(&self, len: usize) -> Option<Error> {
        if len == 0 {
            Some(Error::Malformed {
                what: self.what,
                reason: "a length of zero",
            })
        } else if len > self.max_len {
            Some(Error::FrameTooLarge {
                what: self.what,
                len,
                max: self.max_len,
            })
        } else {
            None
        }
    }
}

/// Reassembles frames from the chunks of a stream. Errors are final: after
/// one, every call returns it again.
#[derive(Debug)]
pub struct FrameReader {
    format: FrameFormat,
    buffer: BytesMut,
    /// The refused length, once one was read.
    failed: Option<usize>,
}

impl FrameReader {
    /// A reader of `format` frames.
    pub fn new(format: FrameFormat) -> Self {
        FrameReader {
            format,
            buffer: BytesMut::new(),
            failed: None,
        }
    }

    /// The most bytes a reader ever holds: one frame and one chunk of at
    /// most `chunk` bytes, when the caller pops every frame after each push.
    pub fn max_buffered(&self, chunk: usize) -> usize {
        self.format.prefix_len + self.format.max_len + chunk
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// The next whole frame's body, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>> {
        if let Some(e) = self.refused() {
            return Err(e);
        }
        let n = self.format.prefix_len;
        if self.buffer.len() < n {
            return Ok(None);
        }
        let mut prefix = [0; 4];
        prefix[4 - n..].copy_from_slice(&self.buffer[..n]);
        let len = u32::from_be_bytes(prefix) as usize;
        if let Some(e) = self.format.refusal(len) {
            self.failed = Some(len);
            self.buffer.clear();
            return Err(e);
        }
        if self.buffer.len() < n + len {
            return Ok(None);
        }
        self.buffer.advance(n);
        Ok(Some(self.buffer.split_to(len).freeze()))
    }

    /// The stream ended: `truncated` if it ended inside a frame.
    pub fn finish(&self) -> Result<()> {
        if let Some(e) = self.refused() {
            return Err(e);
        }
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(Error::Truncated(self.format.what))
        }
    }

    fn refused(&self) -> Option<Error> {
        self.failed.and_then(|len| self.format.refusal(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        assert_eq!(
            QUIC_DATAGRAM.encode(&[0x00, 0xc0, 0xdb, 0x11]).unwrap(),
            [0x00, 0x04, 0x00, 0xc0, 0xdb, 0x11]
        );
        let status = CONTROL_FRAME.encode(br#"{"op":"status"}"#).unwrap();
        assert_eq!(&status[..4], [0, 0, 0, 15]);
    }

    #[test]
    fn bad_lengths_are_refused_for_good() {
        let mut r = FrameReader::new(QUIC_DATAGRAM);
        r.push(&[0x40, 0x01, 0xff]);
        assert_eq!(r.next_frame().unwrap_err().class(), "frame_too_large");
        r.push(&[0x00, 0x01, 0xff]);
        assert_eq!(r.next_frame().unwrap_err().class(), "frame_too_large");
        let mut r = FrameReader::new(QUIC_DATAGRAM);
        r.push(&[0x00, 0x00]);
        assert_eq!(r.next_frame().unwrap_err().class(), "malformed");
        assert_eq!(r.finish().unwrap_err().class(), "malformed");
        let mut r = FrameReader::new(CONTROL_FRAME);
        r.push(&[0, 0, 0, 3, b'{']);
        assert_eq!(r.next_frame().unwrap(), None);
        assert_eq!(r.finish().unwrap_err().class(), "truncated");
        assert_eq!(QUIC_DATAGRAM.encode(&[]).unwrap_err().class(), "malformed");
        assert_eq!(
            QUIC_DATAGRAM.encode(&[0; 16_385]).unwrap_err().class(),
            "frame_too_large"
        );
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_frames_back(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..8),
            cut in 1usize..50,
        ) {
            let stream: Vec<u8> = bodies.iter().flat_map(|b| QUIC_DATAGRAM.encode(b).unwrap()).collect();
            let mut r = FrameReader::new(QUIC_DATAGRAM);
            let mut out = Vec::new();
            for chunk in stream.chunks(cut) {
                r.push(chunk);
                while let Some(frame) = r.next_frame().unwrap() {
                    out.push(frame.to_vec());
                }
            }
            r.finish().unwrap();
            prop_assert_eq!(out, bodies);
        }
    }
}
