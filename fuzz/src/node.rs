//! Fuzz targets of the reference node's decoders
//! (`spec/30-reference-node.md` §6–§9): KISS frames, air packets and
//! length-prefixed stream frames, each against an independent model
//! written from the spec and under arbitrary chunking.

use qpc_node::framing::{FrameFormat, FrameReader, CONTROL_FRAME, QUIC_DATAGRAM};
use qpc_node::lora::air::AirPacket;
use qpc_node::lora::kiss::{self, KissDecoder};

/// Splits `data` at the positions the selector bytes name: the first byte
/// is a chunk length seed (1..=64), the rest is the stream.
fn chunks(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&c, rest)) => (usize::from(c % 64) + 1, rest),
        None => (1, data),
    }
}

/// What §8 says a KISS byte stream holds: for each FEND-closed frame
/// after the first FEND, its payload or its error class.
pub fn model_kiss(stream: &[u8]) -> Vec<Result<Vec<u8>, &'static str>> {
    let mut out = Vec::new();
    let Some(start) = stream.iter().position(|&b| b == 0xc0) else {
        return out;
    };
    let body = &stream[start + 1..];
    let mut pieces: Vec<&[u8]> = body.split(|&b| b == 0xc0).collect();
    // The last piece is not closed by a FEND yet.
    pieces.pop();
    for piece in pieces {
        if piece.is_empty() {
            continue;
        }
        let mut frame = Vec::new();
        let mut error = None;
        let mut i = 0;
        while i < piece.len() {
            let b = piece[i];
            let value = if b == 0xdb {
                i += 1;
                match piece.get(i) {
                    Some(0xdc) => 0xc0,
                    Some(0xdd) => 0xdb,
                    _ => {
                        error = Some("malformed");
                        break;
                    }
                }
            } else {
                b
            };
            if frame.len() == 256 {
                error = Some("frame_too_long");
                break;
            }
            frame.push(value);
            i += 1;
        }
        out.push(match error {
            Some(class) => Err(class),
            None if frame[0] != 0x00 => Err("malformed"),
            None if frame.len() == 1 => Err("truncated"),
            None => Ok(frame[1..].to_vec()),
        });
    }
    out
}

/// `KissDecoder`: any chunking gives the model's frames and classes;
/// accepted frames re-encode to a stream that decodes to them again.
/// Layout: chunk selector byte, then the stream.
pub fn node_kiss(data: &[u8]) {
    let (chunk, stream) = chunks(data);
    let mut decoder = KissDecoder::new();
    let mut got = Vec::new();
    for piece in stream.chunks(chunk) {
        for result in decoder.push(piece) {
            got.push(result.map(|f| f.to_vec()).map_err(|e| e.class()));
        }
    }
    assert_eq!(
        got,
        model_kiss(stream),
        "KISS decoder disagrees with spec/30 §8"
    );
    for frame in got.into_iter().flatten() {
        let encoded = kiss::encode(&frame).expect("an accepted frame re-encodes");
        let again = KissDecoder::new().push(&encoded);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].as_ref().ok().map(|f| f.to_vec()), Some(frame));
    }
}

/// `AirPacket::decode`: the outcome equals §7.1 (length, then version);
/// accepted ⇒ re-encodes to the input.
pub fn node_air_packet(data: &[u8]) {
    let expected: Result<(), &str> = if data.len() < 3 {
        Err("truncated")
    } else if data.len() > 257 {
        Err("frame_too_long")
    } else if data[0] != 1 {
        Err("unknown_version")
    } else {
        Ok(())
    };
    match AirPacket::decode(data) {
        Ok(packet) => {
            assert_eq!(expected, Ok(()));
            assert_eq!(packet.spreading_factor, data[1]);
            assert_eq!(packet.to_bytes(), data);
        }
        Err(e) => assert_eq!(Err(e.class()), expected),
    }
}

/// The frames and final outcome §6 / §9 give for `stream` in `format`.
fn model_frames(format: FrameFormat, stream: &[u8]) -> (Vec<Vec<u8>>, Result<(), &'static str>) {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
        if rest.is_empty() {
            return (frames, Ok(()));
        }
        if rest.len() < format.prefix_len {
            return (frames, Err("truncated"));
        }
        let len = rest[..format.prefix_len]
            .iter()
            .fold(0usize, |n, &b| n << 8 | usize::from(b));
        if len == 0 {
            return (frames, Err("malformed"));
        }
        if len > format.max_len {
            return (frames, Err("frame_too_large"));
        }
        if rest.len() < format.prefix_len + len {
            return (frames, Err("truncated"));
        }
        frames.push(rest[format.prefix_len..format.prefix_len + len].to_vec());
        rest = &rest[format.prefix_len + len..];
    }
}

/// `FrameReader` for QUIC datagram frames (selector bit 7 clear) or
/// control frames (set): any chunking gives the model's frames and final
/// class; frames re-encode to the bytes they came from; memory stays
/// within one frame and one chunk. Layout: selector byte (bit 7: format,
/// bits 0-5: chunk length − 1), then the stream.
pub fn node_stream_frames(data: &[u8]) {
    let (chunk, stream) = chunks(data);
    let format = match data.first() {
        Some(s) if s & 0x80 != 0 => CONTROL_FRAME,
        _ => QUIC_DATAGRAM,
    };
    let (want_frames, want_end) = model_frames(format, stream);
    let mut reader = FrameReader::new(format);
    let mut frames = Vec::new();
    let mut failed = None;
    'outer: for piece in stream.chunks(chunk) {
        reader.push(piece);
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => frames.push(frame.to_vec()),
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e.class());
                    break 'outer;
                }
            }
        }
    }
    let end = match failed {
        Some(class) => Err(class),
        None => reader.finish().map_err(|e| e.class()),
    };
    assert_eq!(frames, want_frames);
    assert_eq!(end, want_end);
    let mut offset = 0;
    for frame in &frames {
        let encoded = format.encode(frame).expect("a decoded frame re-encodes");
        assert_eq!(&stream[offset..offset + encoded.len()], &encoded[..]);
        offset += encoded.len();
    }
    assert!(reader.max_buffered(chunk) >= format.prefix_len + format.max_len);
}
