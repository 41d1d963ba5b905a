//! Helpers shared by the Criterion benches in `benches/benches/`; see
//! `benches/README.md` for how to run them and the latest figures.

use bytes::BytesMut;
use qpc_wire::{FrameEncoder, FrameType};

/// Body sizes the wire bench measures: 64 B, 1 KiB and 64 KiB.
pub const BODY_SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// Bytes of frame bodies per benchmarked stream (1 MiB), so that every size
/// moves about the same amount of data per iteration.
pub const STREAM_BODY_BYTES: usize = 1 << 20;

/// Chunk size the decode bench feeds the decoder with, like socket reads.
pub const READ_CHUNK: usize = 64 * 1024;

/// A pre-encoded stream of Padding frames for the wire bench.
#[derive(Debug, Clone)]
pub struct Stream {
    /// One frame body (every frame carries the same body).
    pub body: Vec<u8>,
    /// How many frames the stream holds.
    pub frames: usize,
    /// The encoded frames, back to back.
    pub bytes: Vec<u8>,
}

/// `STREAM_BODY_BYTES / body_len` (at least one) Padding frames of
/// `body_len` patterned bytes each, encoded as version-1 frames.
pub fn padding_stream(body_len: usize) -> Stream {
    let body: Vec<u8> = (0..body_len).map(|i| (i % 251) as u8).collect();
    let frames = (STREAM_BODY_BYTES / body_len.max(1)).max(1);
    let encoder = FrameEncoder::new(1, qpc_wire::varint::MAX);
    let mut out = BytesMut::new();
    for _ in 0..frames {
        encoder
            .encode(FrameType::Padding, &body, &mut out)
            .expect("bench frame encodes");
    }
    Stream {
        body,
        frames,
        bytes: out.to_vec(),
    }
}

/// A human label for a body size (`64B`, `1KiB`, `64KiB`).
pub fn size_label(len: usize) -> String {
    if len >= 1024 && len % 1024 == 0 {
        format!("{}KiB", len / 1024)
    } else {
        format!("{len}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qpc_wire::{DecoderConfig, FrameDecoder};

    #[test]
    fn streams_decode_to_their_frames() {
        for size in BODY_SIZES {
            let stream = padding_stream(size);
            let header = 3 + qpc_wire::varint::encoded_len(size as u32);
            assert_eq!(stream.bytes.len(), stream.frames * (header + size));
            let mut decoder = FrameDecoder::new(DecoderConfig::default());
            let mut count = 0;
            for mut chunk in stream.bytes.chunks(READ_CHUNK) {
                while let Some(frame) = decoder.decode(&mut chunk).unwrap() {
                    assert_eq!(frame.body, stream.body);
                    count += 1;
                }
            }
            decoder.finish().unwrap();
            assert_eq!(count, stream.frames);
        }
    }

    #[test]
    fn labels() {
        assert_eq!(
            BODY_SIZES.map(size_label),
            ["64B".to_string(), "1KiB".into(), "64KiB".into()]
        );
    }
}
