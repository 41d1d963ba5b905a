//! The sans-IO stream frame decoder.
//!
//! Bytes go in as they arrive, in any chunking; complete frames come out one
//! at a time as [`Frame`]s whose bodies are [`Bytes`] slices of the decoder's
//! buffer. The decoder holds at most one frame: its buffer never grows past
//! [`FrameHeader::MAX_LEN`] + [`DecoderConfig::max_body_len`] bytes, and a
//! header announcing a longer body is rejected before anything is allocated
//! for it. After an error the stream cannot be resynchronised, so the decoder
//! is poisoned and returns that error on every later call.

use bytes::{Bytes, BytesMut};

use crate::frame::{Frame, FrameHeader};
use crate::{varint, Error, Result, VersionSet};

/// Limits for a [`FrameDecoder`] (and for one-shot [`Frame::decode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    max_body_len: u32,
    versions: VersionSet,
}

impl DecoderConfig {
    /// The default body limit: 1 MiB.
    pub const DEFAULT_MAX_BODY_LEN: u32 = 1 << 20;

    /// Accepts `versions` and bodies up to `max_body_len` (clamped to
    /// 2^30 - 1, the largest encodable length).
    pub fn new(max_body_len: u32, versions: VersionSet) -> Self {
        DecoderConfig {
            max_body_len: max_body_len.min(varint::MAX),
            versions,
        }
    }

    /// The supported versions with the given body limit.
    pub fn with_max_body_len(max_body_len: u32) -> Self {
        Self::new(max_body_len, VersionSet::supported())
    }

    /// Largest accepted body, in bytes.
    pub fn max_body_len(&self) -> u32 {
        self.max_body_len
    }

    /// Protocol versions accepted in frame headers.
    pub fn versions(&self) -> &VersionSet {
        &self.versions
    }

    /// The most bytes a decoder with this configuration ever buffers.
    pub fn max_buffered(&self) -> usize {
        FrameHeader::MAX_LEN + self.max_body_len as usize
    }
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self::with_max_body_len(Self::DEFAULT_MAX_BODY_LEN)
    }
}

/// Small frames are gathered into one allocation of up to this many bytes so
/// that they share a buffer; larger frames get a buffer of their own size.
const BATCH: usize = 16 * 1024;

#[derive(Debug)]
enum State {
    /// Collecting header bytes into `header`.
    Header {
        header: [u8; FrameHeader::MAX_LEN],
        len: usize,
    },
    /// Header parsed; collecting the body into `buf`.
    Body(FrameHeader),
    /// A previous call failed; the stream is unusable.
    Failed(Error),
}

/// Sans-IO decoder of a stream of frames. See the [module docs](self).
#[derive(Debug)]
pub struct FrameDecoder {
    config: DecoderConfig,
    state: State,
    buf: BytesMut,
}

impl FrameDecoder {
    /// A decoder enforcing `config`.
    pub fn new(config: DecoderConfig) -> Self {
        FrameDecoder {
            config,
            state: Self::fresh_header(),
            buf: BytesMut::new(),
        }
    }

    fn fresh_header() -> State {
        State::Header {
            header: [0; FrameHeader::MAX_LEN],
            len: 0,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Restricts the versions accepted from now on (after negotiation).
    pub fn set_versions(&mut self, versions: VersionSet) {
        self.config.versions = versions;
    }

    /// Consumes bytes from the front of `input` until one frame is complete
    /// and returns it, or until `input` is empty (then `Ok(None)`; the partial
    /// frame is kept). Call again with the rest of `input` for further frames.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<Frame>> {
        let result = self.step(input);
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
        }
        result
    }

    /// Succeeds if no partial frame is buffered: call at end of stream to
    /// detect truncation.
    pub fn finish(&self) -> Result<()> {
        match &self.state {
            State::Header { len: 0, .. } => Ok(()),
            State::Failed(e) => Err(e.clone()),
            _ => Err(Error::Truncated),
        }
    }

    /// Bytes currently buffered for the frame in progress.
    pub fn buffered(&self) -> usize {
        match &self.state {
            State::Header { len, .. } => *len,
            State::Body(_) => self.buf.len(),
            State::Failed(_) => 0,
        }
    }

    fn step(&mut self, input: &mut &[u8]) -> Result<Option<Frame>> {
        if let State::Header { header, len } = &mut self.state {
            let take = (FrameHeader::MAX_LEN - *len).min(input.len());
            header[*len..*len + take].copy_from_slice(&input[..take]);
            match FrameHeader::parse(&header[..*len + take], &self.config)? {
                None => {
                    // No complete header in what we copied: `input` is used up.
                    *len += take;
                    *input = &[];
                    return Ok(None);
                }
                Some((parsed, header_len)) => {
                    *input = &input[header_len - *len..];
                    self.state = State::Body(parsed);
                    self.make_room(parsed.body_len as usize);
                }
            }
        }
        match &self.state {
            State::Body(header) => {
                let missing = header.body_len as usize - self.buf.len();
                let take = missing.min(input.len());
                self.buf.extend_from_slice(&input[..take]);
                *input = &input[take..];
                if take < missing {
                    return Ok(None);
                }
                let frame = Frame {
                    version: header.version,
                    frame_type: header.frame_type,
                    body: self.take_body(),
                };
                self.state = Self::fresh_header();
                Ok(Some(frame))
            }
            State::Failed(e) => Err(e.clone()),
            State::Header { .. } => unreachable!("header state handled above"),
        }
    }

    /// Ensures `buf` (empty at this point) can hold `body_len` bytes without
    /// growing: reuse the current allocation when every frame handed out from
    /// it has been dropped, otherwise allocate a bounded new one.
    fn make_room(&mut self, body_len: usize) {
        if body_len == 0 || self.buf.capacity() >= body_len || self.buf.try_reclaim(body_len) {
            return;
        }
        let cap = body_len.max(BATCH.min(self.config.max_body_len as usize));
        self.buf = BytesMut::with_capacity(cap);
    }

    fn take_body(&mut self) -> Bytes {
        if self.buf.is_empty() {
            return Bytes::new();
        }
        self.buf.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FrameEncoder, FrameType};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn encode_all(bodies: &[Vec<u8>]) -> Vec<u8> {
        let encoder = FrameEncoder::new(1, varint::MAX);
        let mut out = Vec::new();
        for body in bodies {
            encoder.encode(FrameType::Padding, body, &mut out).unwrap();
        }
        out
    }

    fn decode_chunked(stream: &[u8], cuts: &[usize], config: DecoderConfig) -> Result<Vec<Bytes>> {
        let mut decoder = FrameDecoder::new(config);
        let mut frames = Vec::new();
        let mut start = 0;
        for end in cuts.iter().copied().chain([stream.len()]) {
            let mut chunk = &stream[start..end.max(start)];
            while let Some(frame) = decoder.decode(&mut chunk)? {
                frames.push(frame.body);
            }
            assert!(chunk.is_empty());
            start = end.max(start);
        }
        decoder.finish()?;
        Ok(frames)
    }

    #[test]
    fn oversized_frame_rejected_before_allocation() {
        let mut decoder = FrameDecoder::new(DecoderConfig::with_max_body_len(100));
        // Padding frame announcing 2^30 - 1 bytes.
        let mut input: &[u8] = &[1, 0, 2, 0xbf, 0xff, 0xff, 0xff];
        assert_eq!(
            decoder.decode(&mut input),
            Err(Error::FrameTooLarge {
                len: varint::MAX,
                max: 100
            })
        );
        assert_eq!(decoder.buf.capacity(), 0);
        // Poisoned: the same error again, whatever comes next.
        let mut more: &[u8] = &[1, 0, 2, 0];
        assert!(matches!(
            decoder.decode(&mut more),
            Err(Error::FrameTooLarge { .. })
        ));
        assert!(decoder.finish().is_err());
    }

    #[test]
    fn truncation_reported_at_finish() {
        let stream = encode_all(&[alloc::vec![7; 10]]);
        for cut in 1..stream.len() {
            let mut decoder = FrameDecoder::new(DecoderConfig::default());
            let mut input = &stream[..cut];
            assert_eq!(decoder.decode(&mut input), Ok(None));
            // The 4-byte header is held apart from the body buffer.
            assert_eq!(decoder.buffered(), if cut < 4 { cut } else { cut - 4 });
            assert_eq!(decoder.finish(), Err(Error::Truncated));
        }
    }

    #[test]
    fn buffer_never_exceeds_bound() {
        let config = DecoderConfig::with_max_body_len(300);
        let stream = encode_all(&[alloc::vec![1; 300], alloc::vec![2; 5], alloc::vec![3; 299]]);
        let mut decoder = FrameDecoder::new(config);
        let mut input = &stream[..];
        while let Some(frame) = decoder.decode(&mut input).unwrap() {
            assert!(decoder.buf.capacity() <= config.max_buffered());
            drop(frame);
        }
    }

    proptest! {
        #[test]
        fn any_chunking_yields_the_same_frames(
            bodies in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..300), 0..12),
            mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
        ) {
            let stream = encode_all(&bodies);
            let mut cuts: Vec<usize> = cuts.drain(..).map(|i| i.index(stream.len() + 1)).collect();
            cuts.sort_unstable();
            let frames = decode_chunked(&stream, &cuts, DecoderConfig::default()).unwrap();
            prop_assert_eq!(frames, bodies);
        }

        #[test]
        fn one_byte_at_a_time(bodies in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..100), 0..5)) {
            let stream = encode_all(&bodies);
            let cuts: Vec<usize> = (1..stream.len()).collect();
            prop_assert_eq!(decode_chunked(&stream, &cuts, DecoderConfig::default()).unwrap(), bodies);
        }

        #[test]
        fn hostile_streams_never_panic_and_stay_bounded(
            stream in proptest::collection::vec(any::<u8>(), 0..200),
            chunk in 1usize..17,
        ) {
            let config = DecoderConfig::with_max_body_len(64);
            let mut decoder = FrameDecoder::new(config);
            for mut part in stream.chunks(chunk) {
                while let Ok(Some(_)) = decoder.decode(&mut part) {}
                prop_assert!(decoder.buf.capacity() <= config.max_buffered());
            }
        }
    }
}
