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

/// spec/00 §3.1: the registered frame types.
const FRAME_TYPES: [u16; 13] = [
    0x0001, 0x0002, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0110, 0x0111, 0x0112, 0x0113, 0x0114,
    0x0115,
];

/// spec/01 §2.3: a varint's value and length.
fn model_varint(data: &[u8]) -> Result<(usize, usize), &'static str> {
    let first = *data.first().ok_or("truncated")?;
    let n = match first >> 6 {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => return Err("invalid_length_prefix"),
    };
    let bytes = data.get(..n).ok_or("truncated")?;
    let value = bytes[1..]
        .iter()
        .fold(usize::from(first & 0x3f), |v, &b| v << 8 | usize::from(b));
    let minimal = match value {
        0..=63 => 1,
        64..=16_383 => 2,
        _ => 4,
    };
    if n != minimal {
        return Err("non_minimal_length");
    }
    Ok((value, n))
}

/// What §15.1 gives for a link datagram starting with 0x01: the frame
/// type and body, or the class.
pub fn model_secured(data: &[u8]) -> Result<(u16, Vec<u8>), &'static str> {
    if data.len() < 17 {
        return Err("truncated");
    }
    if data[0] != 0x01 {
        return Err("malformed");
    }
    let frame = &data[17..];
    match frame.first() {
        None => return Err("truncated"),
        Some(&v) if v != 1 => return Err("unknown_version"),
        Some(_) => {}
    }
    let code = frame.get(1..3).ok_or("truncated")?;
    let code = u16::from_be_bytes([code[0], code[1]]);
    if !FRAME_TYPES.contains(&code) {
        return Err("unknown_frame_type");
    }
    let (len, n) = model_varint(&frame[3..])?;
    if len > 65_535 {
        return Err("frame_too_large");
    }
    let body = &frame[3 + n..];
    if body.len() < len {
        return Err("truncated");
    }
    if body.len() > len {
        return Err("trailing_bytes");
    }
    if ![0x0101, 0x0102, 0x0103, 0x0105].contains(&code) {
        return Err("malformed");
    }
    Ok((code, body.to_vec()))
}

/// The LoRa link security engine (`spec/30` §15) on hostile link
/// datagrams: `SecuredDatagram::decode` equals the model of §15.1 and
/// re-encodes accepted input exactly; `PqLink::receive` of the same bytes
/// on a fresh engine never panics, passes cleartext through only when it
/// is not addressed to one neighbour (§15.2, else `downgrade`), and gives
/// nothing from a secured datagram it has no handshake or session for:
/// a forged record is `unknown_session`, a stray message 2 or 3 is
/// ignored, a message 1 either fails with a handshake class or (only if
/// it is a genuine message 1) makes the engine answer with one message 2.
/// Layout: `[mode] datagram…`; mode bit 0 writes the engine's hop id into
/// the receiver field.
pub fn node_secured(data: &[u8]) {
    use bytes::Bytes;
    use qpc_crypto::identity::Identity;
    use qpc_mesh::envelope::{Header, HopId};
    use qpc_node::lora::pqlink::{PqLink, PqLinkConfig};
    use qpc_node::lora::secured::{addressing, Addressing, SecuredDatagram};
    use rand_chacha::rand_core::SeedableRng;

    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let identity = Identity::from_seeds(&[0x51; 32], &[0x52; 32]);
    let own = HopId::of(&identity.public().address());
    let mut datagram = rest.to_vec();
    if mode & 1 == 1 && datagram.len() >= 9 {
        datagram[1..9].copy_from_slice(&own.0);
    }
    let bytes = Bytes::from(datagram.clone());
    let model = model_secured(&datagram);
    match SecuredDatagram::decode(bytes.clone()) {
        Ok(d) => {
            assert_eq!(model, Ok((d.frame_type.code(), d.body.to_vec())));
            assert_eq!(d.to_bytes().expect("re-encodes"), bytes);
        }
        Err(e) if datagram.first() == Some(&0x01) => {
            assert_eq!(model.as_ref().map(|_| ()).map_err(|c| *c), Err(e.class()))
        }
        Err(_) => {}
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let mut link = PqLink::new(&identity, PqLinkConfig::default(), 0, &mut rng).expect("engine");
    let result = link.receive(bytes.clone(), 1, &mut rng);
    if datagram.first() != Some(&0x01) {
        let header = Header::decode(&mut qpc_wire::codec::Reader::new(bytes.clone())).ok();
        match header.map(|h| addressing(&h)) {
            None | Some(Addressing::Everyone) => assert_eq!(result.ok().flatten(), Some(bytes)),
            Some(_) => assert_eq!(result.map_err(|e| e.class()).err(), Some("downgrade")),
        }
        assert!(link.poll_transmit().is_none());
        return;
    }
    let Ok((code, _)) = model else {
        assert_eq!(result.map_err(|e| e.class()).err(), model.err());
        return;
    };
    let for_us = datagram[1..9] == own.0 && datagram[9..17] != own.0;
    match (for_us, code, result) {
        (false, _, r) => assert!(matches!(r, Ok(None))),
        (true, 0x0105, r) => assert_eq!(r.map_err(|e| e.class()).err(), Some("unknown_session")),
        (true, 0x0102 | 0x0103, r) => assert!(matches!(r, Ok(None))),
        (true, _, Ok(None)) => {
            let (_, reply) = link
                .poll_transmit()
                .expect("a genuine message 1 is answered");
            let reply = SecuredDatagram::decode(reply).expect("the answer decodes");
            assert_eq!(reply.frame_type.code(), 0x0102);
        }
        (true, _, r) => assert!(r.is_err(), "{r:?}"),
    }
    assert!(link.poll_transmit().is_none());
    assert!(link.sessions().is_empty());
}

/// The node's FAPP store rows (`spec/30` §16.4): mode bit 0 picks the
/// `fapp_cache` decoder, else the `fapp_therapist` one. Refusals are
/// `store` or a FAPP model class; an accepted row re-encodes to one that
/// decodes to the same value, and an accepted therapist state restores an
/// engine that exports it unchanged, or is refused as `malformed` or
/// `invalid_config`.
pub fn node_fapp_rows(data: &[u8]) {
    use qpc_fapp::therapist::{Therapist, TherapistConfig};
    use qpc_node::fapp::{
        decode_cache_row, decode_therapist_row, encode_cache_row, encode_therapist_row,
    };
    let Some((&mode, row)) = data.split_first() else {
        return;
    };
    let allowed = |class: &str| !matches!(class, "io" | "invalid_config");
    if mode & 1 == 1 {
        match decode_cache_row(row) {
            Ok((sequence, expires_ms, announce)) => {
                let again = encode_cache_row(sequence, expires_ms, announce.as_ref())
                    .expect("an accepted row re-encodes");
                let back = decode_cache_row(&again).expect("a re-encoded row decodes");
                assert_eq!(back, (sequence, expires_ms, announce));
            }
            Err(e) => assert!(allowed(e.class()), "cache row: {}", e.class()),
        }
        return;
    }
    match decode_therapist_row(row, None) {
        Ok((profile, state)) => {
            let again = encode_therapist_row(&profile, &state).expect("re-encodes");
            let back = decode_therapist_row(&again, None).expect("a re-encoded row decodes");
            assert_eq!(back, (profile.clone(), state.clone()));
            let identity = qpc_crypto::identity::Identity::from_seeds(&[1; 32], &[2; 32]);
            let config = TherapistConfig {
                hold_ms: profile.hold_ms,
                ..TherapistConfig::default()
            };
            match Therapist::restore(identity, config, state.clone()) {
                Ok(therapist) => assert_eq!(therapist.state(), state),
                Err(e) => assert!(
                    matches!(e.class(), "malformed" | "invalid_config"),
                    "restore: {}",
                    e.class()
                ),
            }
        }
        Err(e) => assert!(allowed(e.class()), "therapist row: {}", e.class()),
    }
}
