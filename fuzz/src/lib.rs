//! Fuzz targets for qpc-wire, as plain functions.
//!
//! Each public function takes hostile bytes, drives one qpc-wire entry point
//! with them and **asserts properties** (a failed assertion is a panic, which
//! libFuzzer reports as a crash):
//!
//! | function | entry point | main properties |
//! |---|---|---|
//! | [`frame_decoder`] | [`FrameDecoder`] | any chunking gives the same frames and the same error as one piece; buffering bounded by [`DecoderConfig::max_buffered`]; frames re-encode to the consumed bytes; errors are sticky |
//! | [`frame`] | [`Frame::decode`] | accepted ⇒ re-encodes to the identical bytes; agrees with [`FrameHeader::parse`] and with [`FrameDecoder`] |
//! | [`hello`] | [`codec::decode_exact`]`::<`[`Hello`]`>` | accepted ⇒ valid and canonical (re-encodes identically); only decoding error classes |
//! | [`negotiation`] | [`Negotiator::handle_frame`] | outcome equals an independent computation: highest common version, capability intersection, or the predicted error; both peers agree; failures are sticky |
//!
//! The libFuzzer binaries in `fuzz_targets/` are one-line wrappers around
//! these functions (feature `libfuzzer`), and `tests/corpus_replay.rs` runs
//! the committed corpus through them on stable Rust. [`seeds`] generates that
//! committed seed corpus.
//!
//! Several targets read the first byte(s) of the input as a *selector* (a
//! configuration choice) and the rest as the payload; the layout is given in
//! each function's documentation.

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use qpc_wire::codec;
use qpc_wire::varint;
use qpc_wire::version::V1;
use qpc_wire::{
    DecoderConfig, Error, Frame, FrameDecoder, FrameEncoder, FrameHeader, FrameType, Hello,
    Negotiated, Negotiator, NegotiatorConfig, Timestamp, VersionSet,
};

pub mod seeds;

/// The names of the targets: each is a function of this crate, a binary in
/// `fuzz_targets/` and a directory of `fuzz/corpus/`.
pub const TARGETS: [&str; 4] = ["frame_decoder", "frame", "hello", "negotiation"];

/// Runs the target called `name` on `data`; `false` if there is no such
/// target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "frame_decoder" => frame_decoder(data),
        "frame" => frame(data),
        "hello" => hello(data),
        "negotiation" => negotiation(data),
        _ => return false,
    }
    true
}

/// Body limits a selector nibble chooses from (index 0 is the default).
pub const BODY_LIMITS: [u32; 16] = [
    DecoderConfig::DEFAULT_MAX_BODY_LEN,
    0,
    1,
    5,
    63,
    64,
    100,
    255,
    256,
    1000,
    4096,
    16383,
    16384,
    16385,
    65536,
    varint::MAX,
];

/// The [`DecoderConfig`] chosen by a selector byte: bits 0-3 index
/// [`BODY_LIMITS`]; bits 4-5 choose the accepted versions: `{1}` (the
/// supported set), `{1, 2}`, `{2}` (version 1 refused) or `1..=255`.
pub fn decoder_config(selector: u8) -> DecoderConfig {
    let versions = match (selector >> 4) & 0x03 {
        0 => VersionSet::supported(),
        1 => [1, 2].into_iter().collect(),
        2 => VersionSet::only(2),
        _ => (1..=u8::MAX).collect(),
    };
    DecoderConfig::new(BODY_LIMITS[usize::from(selector & 0x0f)], versions)
}

/// Splits `stream` into chunks as chosen by a selector byte. Bits 6-7 pick
/// the mode, bits 0-5 (`p`) parametrise it:
///
/// - `0`: one byte per chunk;
/// - `1`: fixed chunks of `p + 1` bytes;
/// - `2`: pseudo-random chunks of `0..=2(p + 1)` bytes, empty ones included;
/// - `3`: two chunks, cut at `len * p / 63`.
pub fn chunks(stream: &[u8], selector: u8) -> Vec<&[u8]> {
    let p = usize::from(selector & 0x3f);
    match selector >> 6 {
        0 => stream.chunks(1).collect(),
        1 => stream.chunks(p + 1).collect(),
        2 => {
            let mut state = 0x9e37_79b9_u32 ^ u32::from(selector);
            let mut rest = stream;
            let mut out = Vec::new();
            while !rest.is_empty() {
                // xorshift32: deterministic, never zero.
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let n = (state as usize % (2 * (p + 1) + 1)).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                out.push(chunk);
                rest = tail;
            }
            out
        }
        _ => {
            let (a, b) = stream.split_at(stream.len() * p / 63);
            vec![a, b]
        }
    }
}

/// Error classes that decoding untrusted bytes may produce.
const DECODE_CLASSES: &[&str] = &[
    "truncated",
    "frame_too_large",
    "non_minimal_length",
    "invalid_length_prefix",
    "unknown_version",
    "unknown_frame_type",
    "trailing_bytes",
    "too_many_items",
    "malformed",
];

fn assert_decode_class(e: &Error) {
    assert!(
        DECODE_CLASSES.contains(&e.class()),
        "decoding produced the non-decoding error class {:?}: {e:?}",
        e.class()
    );
}

/// The bytes `frame` encodes to.
fn encoded(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out).expect("a decoded frame encodes");
    out
}

/// Checks what every frame that came out of a decoder with `config` obeys.
fn check_frame(frame: &Frame, config: &DecoderConfig) {
    assert!(config.versions().contains(frame.version), "{frame:?}");
    assert!(
        frame.body.len() <= config.max_body_len() as usize,
        "{frame:?}"
    );
}

/// The reference run: the whole stream in one `decode` call after another.
struct WholeRun {
    frames: Vec<Frame>,
    /// `Ok` if the stream ended cleanly between frames.
    outcome: Result<(), Error>,
}

fn decode_whole(stream: &[u8], config: DecoderConfig) -> WholeRun {
    let mut decoder = FrameDecoder::new(config);
    let mut input = stream;
    let mut frames = Vec::new();
    let mut consumed = 0;
    let outcome = loop {
        match decoder.decode(&mut input) {
            Ok(Some(frame)) => {
                check_frame(&frame, &config);
                // The frame is exactly the bytes it consumed (minimal varint).
                let bytes = encoded(&frame);
                assert_eq!(&stream[consumed..consumed + bytes.len()], &bytes[..]);
                consumed += bytes.len();
                assert_eq!(consumed, stream.len() - input.len());
                assert_eq!(decoder.buffered(), 0);
                frames.push(frame);
            }
            Ok(None) => {
                assert!(input.is_empty(), "Ok(None) with input left");
                break decoder.finish();
            }
            Err(e) => break Err(e),
        }
        assert!(decoder.buffered() <= config.max_buffered());
    };
    // Whatever stopped the decoder, one-shot decoding of the bytes from the
    // start of the frame it stopped in reports the same thing.
    let rest = &stream[consumed..];
    match &outcome {
        Ok(()) => assert!(rest.is_empty()),
        Err(e) => {
            assert_decode_class(e);
            assert!(!rest.is_empty());
            let one_shot = Frame::decode(Bytes::copy_from_slice(rest), &config);
            assert_eq!(one_shot.as_ref().err(), Some(e), "rest {rest:02x?}");
        }
    }
    WholeRun { frames, outcome }
}

/// Fuzzes the stream [`FrameDecoder`] against itself.
///
/// Layout: `[config selector] [chunking selector] stream...` (see
/// [`decoder_config`] and [`chunks`]; bits 6-7 of the config selector also
/// choose which frames the caller keeps alive: none, all, every other, the
/// latest). The stream is decoded twice, in one piece and in chunks, and:
///
/// - both runs yield the same frames and end with the same result (clean end,
///   or the same error, down to its fields);
/// - every frame re-encodes to exactly the bytes it was decoded from, and
///   respects the configured versions and body limit;
/// - `Ok(None)` is only returned once the chunk is used up;
/// - the decoder never buffers more than [`DecoderConfig::max_buffered`];
/// - after an error the decoder is poisoned: the same error on every call;
/// - frames kept alive while the decoder reuses its buffer are not altered.
pub fn frame_decoder(data: &[u8]) {
    let [config_sel, chunk_sel, stream @ ..] = data else {
        return;
    };
    let config = decoder_config(*config_sel);
    let reference = decode_whole(stream, config);

    let mut decoder = FrameDecoder::new(config);
    let mut kept: Vec<(usize, Frame)> = Vec::new();
    let mut count = 0;
    let mut error = None;
    'chunks: for mut chunk in chunks(stream, *chunk_sel) {
        loop {
            match decoder.decode(&mut chunk) {
                Ok(Some(frame)) => {
                    let expected = reference.frames.get(count);
                    assert_eq!(Some(&frame), expected, "frame {count} differs");
                    match config_sel >> 6 {
                        0 => {}
                        1 => kept.push((count, frame)),
                        2 if count % 2 == 1 => kept.push((count, frame)),
                        2 => {}
                        _ => {
                            kept.clear();
                            kept.push((count, frame));
                        }
                    }
                    count += 1;
                }
                Ok(None) => {
                    assert!(chunk.is_empty(), "Ok(None) with input left");
                    break;
                }
                Err(e) => {
                    error = Some(e);
                    break 'chunks;
                }
            }
            assert!(decoder.buffered() <= config.max_buffered());
        }
        assert!(decoder.buffered() <= config.max_buffered());
    }
    assert_eq!(count, reference.frames.len(), "frame count differs");
    let outcome = match error {
        Some(e) => {
            // Poisoned: the same error, whatever comes next.
            let mut more: &[u8] = &[1, 0, 2, 0];
            assert_eq!(decoder.decode(&mut more).as_ref().err(), Some(&e));
            assert_eq!(decoder.finish().as_ref().err(), Some(&e));
            assert_eq!(decoder.buffered(), 0);
            Err(e)
        }
        None => decoder.finish(),
    };
    assert_eq!(outcome, reference.outcome, "outcome differs");
    for (i, frame) in &kept {
        assert_eq!(
            Some(frame),
            reference.frames.get(*i),
            "kept frame {i} altered"
        );
    }
}

/// Fuzzes one-shot [`Frame::decode`] (datagram-style input).
///
/// Layout: `[config selector] frame...` (see [`decoder_config`]). Checks:
///
/// - accepted ⇒ the frame respects the config and re-encodes (with
///   [`Frame::encode`] and with [`FrameEncoder`]) to the identical bytes, and
///   [`FrameHeader::parse`] reports the same header and header length;
/// - the result agrees with a [`FrameDecoder`] fed the same bytes: the same
///   frame, `Truncated` ⇔ the stream decoder wants more, `TrailingBytes(n)` ⇔
///   the stream decoder leaves `n` bytes after one frame, and the same
///   header error otherwise.
pub fn frame(data: &[u8]) {
    let [config_sel, bytes @ ..] = data else {
        return;
    };
    let config = decoder_config(*config_sel);
    let one_shot = Frame::decode(Bytes::copy_from_slice(bytes), &config);
    let header = FrameHeader::parse(bytes, &config);
    let mut decoder = FrameDecoder::new(config);
    let mut input = bytes;
    let streamed = decoder.decode(&mut input);

    match one_shot {
        Ok(frame) => {
            check_frame(&frame, &config);
            assert_eq!(encoded(&frame), bytes);
            let mut out = BytesMut::new();
            FrameEncoder::new(frame.version, config.max_body_len())
                .encode(frame.frame_type, &frame.body, &mut out)
                .expect("an accepted frame is encodable");
            assert_eq!(&out[..], bytes);
            let expected_header = frame.header().expect("header of an accepted frame");
            assert_eq!(
                header,
                Ok(Some((expected_header, expected_header.encoded_len())))
            );
            assert_eq!(streamed, Ok(Some(frame)));
            assert!(input.is_empty());
            assert_eq!(decoder.finish(), Ok(()));
        }
        Err(Error::Truncated) => {
            if let Ok(Some((h, len))) = header {
                assert!(len + (h.body_len as usize) > bytes.len());
            } else {
                assert_eq!(header, Ok(None));
            }
            assert_eq!(streamed, Ok(None));
            assert!(input.is_empty());
            // An empty stream is a clean end; anything else is a partial frame.
            let expected = if bytes.is_empty() {
                Ok(())
            } else {
                Err(Error::Truncated)
            };
            assert_eq!(decoder.finish(), expected);
        }
        Err(Error::TrailingBytes(n)) => {
            assert!(n > 0 && n < bytes.len());
            let frame = streamed
                .expect("stream decoder accepts the first frame")
                .expect("the first frame is complete");
            assert_eq!(input.len(), n);
            let exact = Frame::decode(Bytes::copy_from_slice(&bytes[..bytes.len() - n]), &config);
            assert_eq!(exact, Ok(frame));
        }
        Err(e) => {
            assert_decode_class(&e);
            assert_eq!(header.as_ref().err(), Some(&e));
            assert_eq!(streamed.as_ref().err(), Some(&e));
        }
    }
}

/// Fuzzes [`Hello`] decoding: the whole input is one Hello body.
///
/// Checks: accepted ⇒ [`Hello::validate`] passes, the Hello re-encodes to
/// the identical bytes, [`codec::Encode::encoded_len`] is exact and
/// [`Hello::new`] (the canonical constructor) rebuilds the same value;
/// rejected ⇒ the error is a decoding error class, and `TrailingBytes(n)`
/// means the input without its last `n` bytes is an accepted Hello.
pub fn hello(data: &[u8]) {
    use codec::Encode;
    match codec::decode_exact::<Hello>(Bytes::copy_from_slice(data)) {
        Ok(hello) => {
            hello.validate().expect("a decoded Hello is valid");
            assert_eq!(hello.encoded_len(), data.len());
            assert_eq!(codec::encode_to_vec(&hello).expect("encodes"), data);
            let rebuilt = Hello::new(
                hello.version_set(),
                hello.max_body_len,
                hello.capabilities.clone(),
            );
            assert_eq!(rebuilt, hello);
        }
        Err(Error::TrailingBytes(n)) => {
            assert!(n > 0 && n < data.len());
            let prefix = Bytes::copy_from_slice(&data[..data.len() - n]);
            assert!(codec::decode_exact::<Hello>(prefix).is_ok());
        }
        Err(e) => {
            assert_decode_class(&e);
            assert!(
                !matches!(
                    e,
                    Error::UnknownVersion(_)
                        | Error::UnknownFrameType(_)
                        | Error::FrameTooLarge { .. }
                ),
                "frame-level error from the Hello codec: {e:?}"
            );
        }
    }
}

/// Versions a local-versions selector bit stands for (bit i ⇒ entry i).
pub const NEGOTIATION_VERSIONS: [u8; 8] = [1, 2, 3, 4, 5, 6, 200, 255];
/// Capabilities a local-capabilities selector bit stands for.
pub const NEGOTIATION_CAPABILITIES: [u16; 8] = [0, 1, 2, 5, 9, 0x0100, 0xff01, 0xffff];

/// When the local negotiator starts.
const START: Timestamp = Timestamp(1_000);

/// Fuzzes the [`Negotiator`] with a hostile peer.
///
/// Layout: `[versions mask] [capabilities mask] [mode] peer...`. The masks
/// pick our versions from [`NEGOTIATION_VERSIONS`] and our capabilities from
/// [`NEGOTIATION_CAPABILITIES`]. Mode bits:
///
/// - bit 0: `peer` is a whole frame (decoded with every version allowed;
///   undecodable frames end the run) instead of a Hello body sent in a
///   version-1 Hello frame;
/// - bit 1: call `handle_timeout` just before the deadline first (harmless);
/// - bit 2: the frame arrives at the deadline (too late: `Timeout`);
/// - bit 3: after the outcome, a Padding frame arrives (leaves a success
///   alone, repeats a failure);
/// - bits 4-7: how far into the timeout (in sixteenths) the frame arrives.
///
/// The outcome is compared with an independent computation: the peer's
/// frame must be a version-1 Hello whose body decodes, received before the
/// deadline; the version is the highest one in both lists (else
/// `NoCommonVersion` naming both lists); the capabilities are the
/// intersection, ascending; the limits and the peer's Hello are passed
/// through. On success, a negotiator configured like the peer reaches the
/// same version and capabilities from our Hello, and a second Hello fails
/// the negotiation. Every failure is sticky.
pub fn negotiation(data: &[u8]) {
    let [version_mask, cap_mask, mode, peer @ ..] = data else {
        return;
    };
    let pick = |mask: u8, i: usize| mask & (1 << i) != 0;
    let local_versions: Vec<u8> = NEGOTIATION_VERSIONS
        .iter()
        .enumerate()
        .filter(|&(i, _)| pick(*version_mask, i))
        .map(|(_, &v)| v)
        .rev()
        .collect();
    let local_caps: Vec<u16> = NEGOTIATION_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|&(i, _)| pick(*cap_mask, i))
        .map(|(_, &c)| c)
        .collect();
    let config = NegotiatorConfig {
        versions: local_versions.iter().copied().collect(),
        capabilities: local_caps.clone(),
        ..NegotiatorConfig::default()
    };
    let local_max = config.max_body_len;
    let deadline = START.saturating_add(config.timeout);
    let mut us = match Negotiator::new(config, START) {
        Ok(n) => n,
        Err(e) => {
            assert!(local_versions.is_empty(), "valid config refused: {e:?}");
            assert_eq!(e.class(), "malformed");
            return;
        }
    };
    assert!(
        !local_versions.is_empty(),
        "a Hello without versions was built"
    );
    assert_eq!(us.local_hello().versions, local_versions);
    assert_eq!(us.local_hello().capabilities, local_caps);
    let our_frame = us.poll_transmit().expect("our Hello");
    assert_eq!(us.poll_transmit(), None, "Hello sent twice");
    assert_eq!(us.poll_timeout(), Some(deadline));

    let frame = if mode & 1 == 1 {
        let any = DecoderConfig::new(varint::MAX, (1..=u8::MAX).collect());
        match Frame::decode(Bytes::copy_from_slice(peer), &any) {
            Ok(frame) => frame,
            Err(_) => return,
        }
    } else {
        Frame {
            version: V1,
            frame_type: FrameType::Hello,
            body: Bytes::copy_from_slice(peer),
        }
    };
    let late = mode & 4 != 0;
    let now = if late {
        deadline
    } else {
        Timestamp(START.0 + (deadline.0 - START.0) * u64::from(mode >> 4) / 16)
    };

    if mode & 2 != 0 {
        assert_eq!(us.handle_timeout(Timestamp(deadline.0 - 1)), Ok(()));
        assert_eq!(us.poll_timeout(), Some(deadline));
    }
    let expected = if late {
        Err(Error::Timeout)
    } else {
        expected_outcome(&local_versions, &local_caps, local_max, &frame)
    };
    let actual = us.handle_frame(now, &frame).cloned();
    assert_eq!(actual, expected, "peer frame {frame:?} at {now:?}");
    assert_eq!(us.outcome(), actual.as_ref().ok());
    assert_eq!(us.poll_timeout(), None);

    let padding = Frame {
        version: V1,
        frame_type: FrameType::Padding,
        body: Bytes::new(),
    };
    match actual {
        Ok(negotiated) => {
            let later = Timestamp(deadline.0 + 1);
            assert_eq!(us.handle_timeout(later), Ok(()), "timeout after success");
            if mode & 8 != 0 {
                let after = us.handle_frame(later, &padding).cloned();
                assert_eq!(after.as_ref(), Ok(&negotiated), "outcome changed");
            }
            assert_eq!(
                negotiated.decoder_config(),
                DecoderConfig::new(local_max, VersionSet::only(negotiated.version))
            );
            peer_agrees(&negotiated, our_frame);
            // A second Hello is a protocol violation that fails for good.
            let again = us.handle_frame(now, &frame).cloned();
            let Err(e) = again else {
                panic!("second Hello accepted: {again:?}");
            };
            assert_eq!(e.class(), "unexpected_frame");
            assert_sticky(&mut us, &e, &padding);
        }
        Err(e) => assert_sticky(&mut us, &e, &padding),
    }
}

/// A failed negotiator reports `e` through every entry point.
fn assert_sticky(us: &mut Negotiator, e: &Error, padding: &Frame) {
    assert!(us.outcome().is_none());
    assert_eq!(us.poll_timeout(), None);
    assert_eq!(us.handle_frame(START, padding).cloned().as_ref(), Err(e));
    assert_eq!(us.handle_timeout(START).as_ref(), Err(e));
    assert_eq!(us.handle_timeout(Timestamp(u64::MAX)).as_ref(), Err(e));
}

/// What negotiating against `frame` (in time) must give, computed without
/// the [`Negotiator`].
fn expected_outcome(
    local_versions: &[u8],
    local_caps: &[u16],
    local_max_body_len: u32,
    frame: &Frame,
) -> Result<Negotiated, Error> {
    if frame.frame_type != FrameType::Hello {
        return Err(Error::UnexpectedFrame {
            frame_type: frame.frame_type.code(),
            state: "awaiting the peer's Hello",
        });
    }
    if frame.version != V1 {
        return Err(Error::Malformed {
            message: "Hello frame",
            reason: "header version must be 1",
        });
    }
    let peer: Hello = codec::decode_exact(frame.body.clone())?;
    let ours: BTreeSet<u8> = local_versions.iter().copied().collect();
    let theirs: BTreeSet<u8> = peer.versions.iter().copied().collect();
    let Some(&version) = ours.intersection(&theirs).max() else {
        return Err(Error::NoCommonVersion {
            local: local_versions.to_vec(),
            remote: peer.versions.clone(),
        });
    };
    let ours: BTreeSet<u16> = local_caps.iter().copied().collect();
    let theirs: BTreeSet<u16> = peer.capabilities.iter().copied().collect();
    Ok(Negotiated {
        version,
        capabilities: ours.intersection(&theirs).copied().collect(),
        peer_max_body_len: peer.max_body_len,
        local_max_body_len,
        peer_hello: peer,
    })
}

/// A negotiator configured like the peer reaches the same result from our
/// Hello frame, decoded with its own pre-negotiation decoder configuration.
fn peer_agrees(negotiated: &Negotiated, our_frame: Bytes) {
    let peer_hello = &negotiated.peer_hello;
    assert!(negotiated.capabilities.iter().all(|&c| negotiated.has(c)));
    let config = NegotiatorConfig {
        versions: peer_hello.version_set(),
        max_body_len: peer_hello.max_body_len,
        capabilities: peer_hello.capabilities.clone(),
        ..NegotiatorConfig::default()
    };
    let decoder_config = config.decoder_config();
    let mut them = Negotiator::new(config, START).expect("a valid Hello is a valid config");
    assert_eq!(them.local_hello(), peer_hello);
    let frame = Frame::decode(our_frame, &decoder_config).expect("the peer decodes our Hello");
    let theirs = them
        .handle_frame(START, &frame)
        .expect("the peer accepts our Hello");
    assert_eq!(theirs.version, negotiated.version);
    assert_eq!(theirs.capabilities, negotiated.capabilities);
    assert_eq!(theirs.peer_max_body_len, negotiated.local_max_body_len);
    assert_eq!(theirs.local_max_body_len, negotiated.peer_max_body_len);
    assert_eq!(
        negotiated.encoder(),
        FrameEncoder::new(negotiated.version, peer_hello.max_body_len)
    );
}
