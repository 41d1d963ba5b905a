//! Fuzz targets for qpc-wire and qpc-crypto, as plain functions.
//!
//! Each public function takes hostile bytes, drives one entry point with
//! them and **asserts properties** (a failed assertion is a panic, which
//! libFuzzer reports as a crash):
//!
//! | function | entry point | main properties |
//! |---|---|---|
//! | [`frame_decoder`] | [`FrameDecoder`] | any chunking gives the same frames and the same error as one piece; buffering bounded by [`DecoderConfig::max_buffered`]; frames re-encode to the consumed bytes; errors are sticky |
//! | [`frame`] | [`Frame::decode`] | accepted ⇒ re-encodes to the identical bytes; agrees with [`FrameHeader::parse`] and with [`FrameDecoder`] |
//! | [`hello`] | [`codec::decode_exact`]`::<`[`Hello`]`>` | accepted ⇒ valid and canonical (re-encodes identically); only decoding error classes |
//! | [`negotiation`] | [`Negotiator::handle_frame`] | outcome equals an independent computation: highest common version, capability intersection, or the predicted error; both peers agree; failures are sticky |
//! | [`identity`] | [`PublicIdentity::from_bytes`], [`Identity::from_secret_bytes`] | the outcome and the error (which check fired) are predicted independently; accepted ⇒ round-trips, address and KEM digest recomputed; secret identities give valid public ones, equal to RustCrypto's X-Wing key |
//! | [`xwing`] | [`XWingPublicKey::from_bytes`], [`XWingCiphertext::from_bytes`], [`XWingSecretKey::decapsulate`](qpc_crypto::xwing::XWingSecretKey::decapsulate) | validity predicted (ML-KEM coefficient check, lengths); encapsulation and decapsulation agree with RustCrypto's `x-wing`; `non_contributory` exactly for small-order X25519 points; tampered ciphertexts give other secrets |
//! | [`hpke_open`] | [`hpke::open`], [`hpke::setup_receiver`] | only genuine ciphertexts open (re-sealing gives the same bytes); every failure is the predicted typed error; exporter lengths and determinism |
//! | [`sealed_sender`] | [`Receiver::open`](qpc_crypto::sealed_sender::Receiver::open) | accepted ⇒ a canonical [`SealedMessage`] for the receiver from the certified sender, refused when replayed; failures leave the receiver unchanged |
//! | [`sealed_inner`] | [`Receiver::open`](qpc_crypto::sealed_sender::Receiver::open) on a genuine envelope around fuzzed plaintext | the outcome equals an independent computation of every check of `spec/05` (inner layout, certificate, signature, window, padding) |
//! | [`certificate`] | [`codec::decode_exact`]`::<`[`SenderCertificate`]`>`, [`SenderCertificate::verify`] | layout exact and canonical; `verify` equals an independent computation for several roots and clocks |
//! | [`padding()`] | [`padding::unpad`], [`padding::pad`] | `unpad` equals an independent decoder under Padmé and bucket lists; accepted ⇒ `pad(content) == input`; padding round-trips within 12% |
//! | [`pqxx_responder_msg1`] | pqXX `Responder::read_message_1`, `write_message_2` | the outcome equals an independent computation (Noise layer, payload layout, ML-KEM key check, downgrade rule); accepted ⇒ message 2 is written, as predicted; failures are final |
//! | [`pqxx_initiator_msg2`] | pqXX `Initiator::read_message_2`, `write_message_3` | only genuine encryptions open; the outcome equals an independent computation (payload, KEM rule, downgrade, binding, policy); accepted ⇒ the session's peer, mode, hash and keys are right |
//! | [`pqxx_responder_msg3`] | pqXX `Responder::read_message_3` | only the genuine message 3 (or, classically, the harness's) opens; binding and policy computed independently; the session agrees with the initiator |
//! | [`pqxx_stream`] | pqXX `StreamTransport::open` | only the genuine next record opens; any error is fatal for opening and sealing |
//! | [`mls_payload`] | `ApplicationPayload::from_plaintext`, `DeliveryHeader::decode` | outcome (fields or error class) equals an independent decoder of `spec/07` §5-§6; accepted ⇒ re-encodes to the input |
//! | [`mls_ordering`] | `DeliveryOrder` (admit, sequence, advance) | every op's events equal an independent model of `spec/07` §7; the hold buffer stays within its bound |
//! | [`pqxx_datagram`] | pqXX `DatagramTransport::open` | every result equals a model of the window and epochs; no nonce opens twice; refused records never block a fresh genuine one |
//! | [`mesh_envelope`] | qpc-mesh `Envelope::decode` | the outcome and the check that fires equal `spec/10` §3.3 computed independently; accepted ⇒ fields are the input's bytes, re-encodes identically, relaying adds one hop up to the limit |
//! | [`mesh_message`] | qpc-mesh `Message::decode` | the outcome equals §3.3–§6.3 computed independently (lengths, address formula, strict key and signature over the spec's bytes, fetched identities' checks); accepted ⇒ re-encodes identically; genuine announces, path responses and key responses built and mutated by the harness reach every check |
//! | [`mesh_routing`] | qpc-mesh `RoutingTable` | every decision, `stale` error, event and lookup equals an independent model of §5; never above capacity |
//! | [`mesh_node`] | qpc-mesh `MeshNode` | raw and harness-built genuine datagrams (announces, FAPP, sessions and their Resumes, MLS-Lite groups) on known and unknown links never panic; every transmit decodes, verifies and fits its MTU; pending transmits, events and the table stay bounded; timers are in the future |
//! | [`lora_frame`] | qpc-mesh `LinkFrame::decode` | the outcome (fields or error class) equals `spec/11` §6.1–§6.3 computed independently; accepted ⇒ re-encodes identically |
//! | [`lora_reassembly`] | qpc-mesh `Reassembler` | every outcome, error class, NACK and give-up equals an independent model of §6.5; held bytes and datagrams in progress within their bounds |
//! | [`lora_link`] | qpc-mesh `LoraLink` | refusals queue nothing; frames fit the MTU; an untainted receiver completes only datagrams that were sent; queue, reassembly bytes, events and airtime within their bounds |
//! | [`mesh_channel`] | qpc-mesh `Message::decode` + `Channel::open`, `FloodScheduler` | the open outcome (content, sender, verification) or error class equals §12.4 computed independently (SHA-256, ChaCha20-Poly1305, strict Ed25519); genuine messages built and mutated by the harness reach every check; the flood scheduler equals a model of §12.6 and stays bounded |
//! | [`node_kiss`] | qpc-node `KissDecoder`, `kiss::encode` | any chunking gives the frames and error classes of `spec/30` §8 computed independently; accepted frames re-encode and decode again |
//! | [`node_air_packet`] | qpc-node `AirPacket::decode` | the outcome equals `spec/30` §7.1 (length, then version); accepted ⇒ re-encodes to the input |
//! | [`node_secured`] | qpc-node `SecuredDatagram::decode`, `PqLink::receive` | decoding equals `spec/30` §15.1 computed independently and re-encodes; a fresh engine passes cleartext only if not unicast (else `downgrade`), gives nothing from secured datagrams without a session, answers only a genuine message 1 |
//! | [`node_stream_frames`] | qpc-node `FrameReader` (QUIC datagram and control frames) | any chunking gives the frames and final class of `spec/30` §6 / §9 computed independently; frames re-encode to the bytes they came from |
//! | [`opaque::opaque_messages`] | the six OPAQUE message decoders, `ServerRecord::from_bytes`, `Server::keys_from_bytes` | frame outcome and class predicted independently; accepted ⇒ re-encodes identically; identity elements refused |
//! | [`opaque::opaque_client_login`] | `ClientLogin::finish` on any KE2 | only the genuine KE2 finishes (genuine KE3, keys); otherwise `invalid_element` or `login_failed` as predicted |
//! | [`opaque::opaque_server_login`] | `ServerLogin::handle_ke1`, `handle_ke3` | only the genuine KE1 + KE3 give the session key; unknown users never finish; inputs after the end are `wrong_state` |
//! | [`node_fapp_rows`] | qpc-node `decode_therapist_row`, `decode_cache_row` (the FAPP store rows), `Therapist::restore` | only store or FAPP-model classes; accepted ⇒ re-encodes to a row decoding to the same value; a restored engine exports the state it was given |
//! | [`fapp_message`] | qpc-fapp `FappMessage::decode` | header and fixed-length outcomes predicted from `spec/20` §3-§7; only decoding classes; accepted ⇒ re-encodes identically; announces verify or fail with a signature class |
//! | [`fapp_sealed`] | qpc-fapp `Therapist::handle_reservation` / `handle_cancel`, `Sealed::open`, `Notice::decode` on genuine HPKE around fuzzed plaintext | outcome equals the plaintext decoder, window and slot state; replays get the same answer and no second hold; forged messages never open |
//! | [`fapp_relay`] | qpc-fapp `Relay` on operation scripts | cache within capacity; only newer, verified, live announces cached and forwarded; dedupe and reverse paths equal an independent model; responses go back one hop only |
//! | [`fapp_node`] | qpc-fapp `FappNode` (relay and therapist over `MeshNode`) on datagrams, some wrapped into genuine type-`0xc` frames (link-local genuine announces, raw payloads, routed payloads and a genuine Reservation) | transmits fit the MTU and decode; transmits, events, neighbours within bounds; timers in the future; holds confirm |
//! | [`opaque::opaque_registration`] | `Server::registration_response`, `ClientRegistration::finish`, `Server::registration_finish` | genuine inputs reproduce the genuine outputs; deterministic; only predicted error classes |
//!
//! The libFuzzer binaries in `fuzz_targets/` are one-line wrappers around
//! these functions (feature `libfuzzer`), and `tests/corpus_replay.rs` runs
//! the committed corpus through them on stable Rust. [`seeds`] generates that
//! committed seed corpus, using the fixed keys and clock of [`fixtures`].
//!
//! Several targets read the first byte(s) of the input as a *selector* (a
//! configuration choice) and the rest as the payload; the layout is given in
//! each function's documentation.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use bytes::{Bytes, BytesMut};
use ed25519_dalek::SigningKey;
use qpc_crypto::certificate::{SenderCertificate, TrustRoot, CERTIFICATE_LEN};
use qpc_crypto::hpke::{self, ENC_LEN, TAG_LEN};
use qpc_crypto::identity::{
    self as crypto_identity, Address, Identity, PublicIdentity, SignatureContext,
    PUBLIC_IDENTITY_LEN, SECRET_IDENTITY_LEN,
};
use qpc_crypto::padding::{self, Padding, LORA_BUCKETS};
use qpc_crypto::sealed_sender::{Opened, ReceiverConfig, SealedMessage};
use qpc_crypto::xwing::{
    SharedSecret, XWingCiphertext, XWingPublicKey, CIPHERTEXT_LEN, PUBLIC_KEY_LEN,
};
use qpc_crypto::Error as CryptoError;
use qpc_wire::codec;
use qpc_wire::varint;
use qpc_wire::version::V1;
use qpc_wire::{
    DecoderConfig, Error, Frame, FrameDecoder, FrameEncoder, FrameHeader, FrameType, Hello,
    Negotiated, Negotiator, NegotiatorConfig, Timestamp, VersionSet,
};
use sha2::{Digest, Sha256};

mod channel;
mod fapp;
mod fapp_node;
pub mod fixtures;
mod lora;
mod mesh;
mod mls;
mod node;
mod node_sessions;
pub mod opaque;
mod pqxx;
pub mod seeds;
mod session;

pub use channel::{
    channel_mode, genuine_channel_message, mesh_channel, CHANNEL_KEY, CHANNEL_SENDER, FLOOD_CONFIG,
};
pub use fapp::{
    fapp_message, fapp_relay, fapp_sealed, genuine_fapp_messages, genuine_reservation_plaintext,
    FAPP_NOW, FAPP_RELAY_CONFIG, THERAPIST_SEEDS,
};
pub use fapp_node::fapp_node;
pub use lora::{lora_frame, lora_link, lora_reassembly};
pub use mesh::{
    genuine_message, mesh_envelope, mesh_identities, mesh_message, mesh_node, mesh_routing,
    message_mode, LINK_COSTS, NODE_MAX_PENDING, ROUTING_CONFIG,
};
pub use node::{node_air_packet, node_fapp_rows, node_kiss, node_secured, node_stream_frames};

pub use mls::{expected_header, expected_payload, mls_ordering, mls_payload};
pub use pqxx::{
    datagram_config, pqxx_datagram, pqxx_initiator_msg2, pqxx_responder_msg1, pqxx_responder_msg3,
    pqxx_stream, DATAGRAM_EPOCH_JUMPS, DATAGRAM_WINDOWS, STREAM_SMALL_LIMIT,
};
pub use session::{lora_session, mls_lite, session_mode, SessionFixture, SESSION_FIXTURE};

/// The names of the targets: each is a function of this crate, a binary in
/// `fuzz_targets/` and a directory of `fuzz/corpus/`.
pub const TARGETS: [&str; 41] = [
    "frame_decoder",
    "frame",
    "hello",
    "negotiation",
    "identity",
    "xwing",
    "hpke_open",
    "sealed_sender",
    "sealed_inner",
    "certificate",
    "padding",
    "pqxx_responder_msg1",
    "pqxx_initiator_msg2",
    "pqxx_responder_msg3",
    "pqxx_stream",
    "pqxx_datagram",
    "mesh_envelope",
    "mesh_message",
    "mesh_routing",
    "mesh_node",
    "lora_frame",
    "lora_reassembly",
    "lora_link",
    "mesh_channel",
    "mls_payload",
    "mls_ordering",
    "opaque_messages",
    "opaque_client_login",
    "opaque_server_login",
    "opaque_registration",
    "lora_session",
    "mls_lite",
    "node_kiss",
    "node_air_packet",
    "node_stream_frames",
    "node_secured",
    "node_fapp_rows",
    "fapp_message",
    "fapp_sealed",
    "fapp_relay",
    "fapp_node",
];

/// Runs the target called `name` on `data`; `false` if there is no such
/// target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "frame_decoder" => frame_decoder(data),
        "frame" => frame(data),
        "hello" => hello(data),
        "negotiation" => negotiation(data),
        "identity" => identity(data),
        "xwing" => xwing(data),
        "hpke_open" => hpke_open(data),
        "sealed_sender" => sealed_sender(data),
        "sealed_inner" => sealed_inner(data),
        "certificate" => certificate(data),
        "padding" => padding(data),
        "pqxx_responder_msg1" => pqxx_responder_msg1(data),
        "pqxx_initiator_msg2" => pqxx_initiator_msg2(data),
        "pqxx_responder_msg3" => pqxx_responder_msg3(data),
        "pqxx_stream" => pqxx_stream(data),
        "pqxx_datagram" => pqxx_datagram(data),
        "mesh_envelope" => mesh_envelope(data),
        "mesh_message" => mesh_message(data),
        "mesh_routing" => mesh_routing(data),
        "mesh_node" => mesh_node(data),
        "lora_frame" => lora_frame(data),
        "node_kiss" => node_kiss(data),
        "node_air_packet" => node_air_packet(data),
        "node_stream_frames" => node_stream_frames(data),
        "node_secured" => node_secured(data),
        "node_fapp_rows" => node_fapp_rows(data),
        "lora_reassembly" => lora_reassembly(data),
        "lora_link" => lora_link(data),
        "mesh_channel" => mesh_channel(data),
        "mls_payload" => mls_payload(data),
        "mls_ordering" => mls_ordering(data),
        "opaque_messages" => opaque::opaque_messages(data),
        "opaque_client_login" => opaque::opaque_client_login(data),
        "opaque_server_login" => opaque::opaque_server_login(data),
        "opaque_registration" => opaque::opaque_registration(data),
        "lora_session" => lora_session(data),
        "mls_lite" => mls_lite(data),
        "fapp_message" => fapp_message(data),
        "fapp_node" => fapp_node(data),
        "fapp_sealed" => fapp_sealed(data),
        "fapp_relay" => fapp_relay(data),
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

// ---------------------------------------------------------------------------
// qpc-crypto targets
// ---------------------------------------------------------------------------

/// ML-KEM's modulus q.
const MLKEM_Q: u16 = 3329;
/// Bytes of 12-bit coefficients in an ML-KEM-768 encapsulation key (the 32
/// bytes of `rho` follow).
const MLKEM_T_LEN: usize = 1152;
/// ML-KEM-768 encapsulation key length.
const MLKEM_PK_LEN: usize = MLKEM_T_LEN + 32;
/// ML-KEM-768 ciphertext length.
const MLKEM_CT_LEN: usize = 1088;

/// Whether every 12-bit coefficient of an ML-KEM-768 encapsulation key is
/// reduced modulo q: the FIPS 203 §7.2 check, computed here directly.
pub fn mlkem_key_is_reduced(key: &[u8]) -> bool {
    key[..MLKEM_T_LEN].chunks_exact(3).all(|c| {
        let a = u16::from(c[0]) | (u16::from(c[1] & 0x0f) << 8);
        let b = u16::from(c[1] >> 4) | (u16::from(c[2]) << 4);
        a < MLKEM_Q && b < MLKEM_Q
    })
}

/// Encodings (bit 255 cleared) of the X25519 points of small order, on the
/// curve and on its twist: u = 0, 1, p - 1, the two points of order 8, and
/// the non-canonical encodings p and p + 1 (libsodium's list).
const X25519_LOW_ORDER: [[u8; 32]; 7] = {
    let mut list = [[0u8; 32]; 7];
    list[1][0] = 1;
    let mut i = 0;
    while i < 3 {
        // p - 1, p, p + 1 = 2^255 - 20, -19, -18, little-endian.
        let mut v = [0xff; 32];
        v[0] = 0xec + i as u8;
        v[31] = 0x7f;
        list[2 + i] = v;
        i += 1;
    }
    list[5] = [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ];
    list[6] = [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ];
    list
};

/// Whether an X25519 public key (32 bytes) is a point of small order
/// (X25519 ignores bit 255).
pub fn x25519_is_low_order(u: &[u8]) -> bool {
    let mut u: [u8; 32] = u.try_into().expect("32 bytes");
    u[31] &= 0x7f;
    X25519_LOW_ORDER.contains(&u)
}

/// The canonical encodings of the eight Ed25519 points of small order.
pub const ED25519_SMALL_ORDER: [[u8; 32]; 8] = {
    let mut list = [[0u8; 32]; 8];
    list[0][0] = 1; // the neutral element (0, 1)
    let mut minus_one = [0xff; 32]; // (0, -1), order 2
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    list[1] = minus_one;
    // (±sqrt(-1), 0), order 4: list[2] is all zero, list[3] has the sign bit.
    list[3][31] = 0x80;
    let order8 = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let order8b = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    list[4] = order8;
    list[5] = order8;
    list[5][31] |= 0x80;
    list[6] = order8b;
    list[7] = order8b;
    list[7][31] |= 0x80;
    list
};

/// Whether 32 bytes are a canonical Ed25519 point encoding as far as can
/// be told without curve arithmetic: `y < p`, and no sign bit on `x = 0`
/// (the points with `y = ±1`).
pub fn ed25519_is_canonical(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    let sign = bytes[31] & 0x80 != 0;
    // y < p = 2^255 - 19 ⇔ not (all of bytes 1..31 are 0xff, top 0x7f, and
    // byte 0 >= 0xed).
    let y_reduced = !(y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f && y[0] >= 0xed);
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    y_reduced && !(sign && (y == one || y == minus_one))
}

/// `SHA-256(data)`.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// The address of a signing key and KEM key digest, computed from
/// `spec/02-identity.md` (not with [`Address::derive`]).
pub fn spec_address(signing_key: &[u8], kem_key_digest: &[u8]) -> [u8; 16] {
    sha256(&[b"qpc address v1", signing_key, kem_key_digest])[..16]
        .try_into()
        .expect("16 bytes")
}

/// Fuzzes identity parsing: the whole input is tried as a public identity
/// (1249 bytes) and as a secret identity (65 bytes).
///
/// Public identity: the outcome is predicted independently, including
/// which check fires first (length, version, then the Ed25519 key — which
/// must be rejected if non-canonical or of small order —, then the ML-KEM
/// coefficient check, then the small-order X25519 list). Accepted ⇒
/// `to_bytes()` is the input, the keys are the input's, the KEM digest is
/// SHA-256 of the KEM key, the address is both [`Address::derive`] and the
/// spec's formula, and parsing is idempotent.
///
/// Secret identity: accepted exactly when 65 bytes of version 1; then it
/// re-encodes to the input, its Ed25519 key is the seed's, its X-Wing key
/// equals the one RustCrypto's `x-wing` expands from the seed, its public
/// identity parses back to itself, and it signs what it verifies, bound to
/// the context.
pub fn identity(data: &[u8]) {
    check_public_identity(data);
    check_secret_identity(data);
}

fn check_public_identity(data: &[u8]) {
    let parsed = PublicIdentity::from_bytes(data);
    if data.len() != PUBLIC_IDENTITY_LEN {
        let expected = CryptoError::WrongLength {
            what: "public identity",
            expected: PUBLIC_IDENTITY_LEN,
            got: data.len(),
        };
        assert_eq!(parsed.err(), Some(expected));
        return;
    }
    if data[0] != 1 {
        let expected = CryptoError::UnknownVersion {
            what: "public identity",
            version: data[0],
        };
        assert_eq!(parsed.err(), Some(expected));
        return;
    }
    let signing: &[u8; 32] = data[1..33].try_into().expect("32 bytes");
    let kem = &data[33..];
    let ed25519_plausible = ed25519_is_canonical(signing) && !ED25519_SMALL_ORDER.contains(signing);
    let mlkem_reduced = mlkem_key_is_reduced(&kem[..MLKEM_PK_LEN]);
    let x25519_low = x25519_is_low_order(&kem[MLKEM_PK_LEN..]);
    match parsed {
        Ok(id) => {
            assert!(ed25519_plausible, "accepted Ed25519 key {signing:02x?}");
            assert!(mlkem_reduced, "accepted an unreduced ML-KEM key");
            assert!(!x25519_low, "accepted a small-order X25519 key");
            assert_eq!(id.to_bytes()[..], data[..]);
            assert_eq!(id.signing_key().as_bytes(), signing);
            assert_eq!(id.kem_key().to_bytes()[..], kem[..]);
            let digest = sha256(&[kem]);
            assert_eq!(id.kem_key_digest(), &digest);
            assert_eq!(id.address(), Address::derive(signing, &digest));
            assert_eq!(id.address().as_bytes(), &spec_address(signing, &digest));
            assert_eq!(PublicIdentity::from_bytes(&id.to_bytes()).as_ref(), Ok(&id));
            // The all-zero signature has a small-order R: never valid.
            assert_eq!(
                id.verify(SignatureContext::Test, data, &[0; 64]),
                Err(CryptoError::BadSignature("test message"))
            );
        }
        // Which points are on the curve is not predicted here; anything
        // that is not plausible must be refused by this check.
        Err(CryptoError::InvalidPublicKey("Ed25519 public key")) => {}
        Err(e) => {
            assert!(
                ed25519_plausible,
                "Ed25519 key {signing:02x?} not reported first: {e:?}"
            );
            let expected = if !mlkem_reduced {
                CryptoError::InvalidPublicKey("ML-KEM-768 encapsulation key")
            } else if x25519_low {
                CryptoError::InvalidPublicKey("X25519 public key (small order)")
            } else {
                panic!("a valid ML-KEM and X25519 key refused: {e:?}")
            };
            assert_eq!(e, expected);
        }
    }
}

fn check_secret_identity(data: &[u8]) {
    let parsed = Identity::from_secret_bytes(data);
    let expected_error = if data.len() != SECRET_IDENTITY_LEN {
        Some(CryptoError::WrongLength {
            what: "secret identity",
            expected: SECRET_IDENTITY_LEN,
            got: data.len(),
        })
    } else if data[0] != 1 {
        Some(CryptoError::UnknownVersion {
            what: "secret identity",
            version: data[0],
        })
    } else {
        None
    };
    let id = match (parsed, expected_error) {
        (Ok(id), None) => id,
        (Err(e), Some(expected)) => return assert_eq!(e, expected),
        (got, expected) => panic!("got {got:?}, expected error {expected:?}"),
    };
    let signing_seed: &[u8; 32] = data[1..33].try_into().expect("32 bytes");
    let kem_seed: [u8; 32] = data[33..].try_into().expect("32 bytes");
    assert_eq!(id.to_secret_bytes()[..], data[..]);
    let public = id.public();
    assert_eq!(
        public.signing_key(),
        &SigningKey::from_bytes(signing_seed).verifying_key()
    );
    assert_eq!(id.kem_secret().seed(), &kem_seed);
    assert_eq!(id.kem_secret().public_key(), public.kem_key());
    {
        use x_wing::{Decapsulator, KeyExport};
        let theirs = x_wing::DecapsulationKey::from(kem_seed);
        assert_eq!(
            public.kem_key().to_bytes()[..],
            theirs.encapsulation_key().to_bytes()[..],
            "X-Wing key expansion differs from RustCrypto's"
        );
    }
    let digest = sha256(&[&public.kem_key().to_bytes()]);
    assert_eq!(public.kem_key_digest(), &digest);
    assert_eq!(
        public.address().as_bytes(),
        &spec_address(public.signing_key().as_bytes(), &digest)
    );
    // An honest identity is always a valid public identity.
    assert_eq!(
        PublicIdentity::from_bytes(&public.to_bytes()).as_ref(),
        Ok(public)
    );
    let signature = id.sign(SignatureContext::Test, data);
    assert_eq!(
        public.verify(SignatureContext::Test, data, &signature),
        Ok(())
    );
    assert_eq!(
        public.verify(SignatureContext::SealedSender, data, &signature),
        Err(CryptoError::BadSignature("sealed-sender message"))
    );
}

/// RustCrypto's X-Wing decapsulation key for the fixed recipient, rejecting
/// non-contributory X25519 exchanges like qpc does.
static THEIR_RECIPIENT: LazyLock<x_wing::DecapsulationKeyRejectNonContrib> =
    LazyLock::new(|| x_wing::DecapsulationKeyRejectNonContrib::from(fixtures::BOB_SEEDS.1));

/// Mode bit of [`xwing`]: encapsulate honestly, then tamper.
pub const XWING_TAMPER: u8 = 0x01;

/// Fuzzes X-Wing parsing and decapsulation.
///
/// Layout: `[mode] bytes...`. `bytes` is parsed as a public key and as a
/// ciphertext:
///
/// - public key: accepted ⇔ 1216 bytes whose ML-KEM coefficients are
///   reduced (computed here, and RustCrypto's `x-wing` agrees); accepted ⇒
///   round-trips, and encapsulating to it with randomness `[mode; 64]`
///   fails with `non_contributory` exactly for small-order X25519 halves,
///   otherwise gives the ciphertext and secret RustCrypto computes;
/// - ciphertext: accepted ⇔ 1120 bytes; round-trips.
///
/// Then a ciphertext for the fixed secret key (Bob's) is built. Mode bit 0
/// clear: `bytes` repeated (or zeros) to 1120 bytes. Set: an honest
/// encapsulation with randomness `bytes[..64]` (zero-extended), which must
/// decapsulate to its secret, then XOR edits `(index u16 BE mod 1120,
/// mask)` from `bytes[64..]`; a changed ciphertext must give another
/// secret. Decapsulation fails with `non_contributory` exactly for
/// small-order X25519 halves, otherwise agrees with RustCrypto's `x-wing`
/// and is deterministic.
pub fn xwing(data: &[u8]) {
    let [mode, bytes @ ..] = data else {
        return;
    };
    check_xwing_public_key(bytes, *mode);
    let parsed = XWingCiphertext::from_bytes(bytes);
    if bytes.len() == CIPHERTEXT_LEN {
        assert_eq!(parsed.expect("1120 bytes").to_bytes()[..], bytes[..]);
    } else {
        let expected = CryptoError::WrongLength {
            what: "X-Wing ciphertext",
            expected: CIPHERTEXT_LEN,
            got: bytes.len(),
        };
        assert_eq!(parsed.err(), Some(expected));
    }

    if mode & XWING_TAMPER == 0 {
        let mut ct = [0u8; CIPHERTEXT_LEN];
        if !bytes.is_empty() {
            for (out, b) in ct.iter_mut().zip(bytes.iter().cycle()) {
                *out = *b;
            }
        }
        let _ = check_decapsulation(&ct);
    } else {
        let (eseed_part, edits) = bytes.split_at(bytes.len().min(64));
        let mut eseed = [0u8; 64];
        eseed[..eseed_part.len()].copy_from_slice(eseed_part);
        let key = fixtures::recipient_key();
        let (ct, ss) = key
            .public_key()
            .encapsulate_derand(&eseed)
            .expect("encapsulation to an honest key");
        let honest = ct.to_bytes();
        let mut tampered = honest;
        for edit in edits.chunks_exact(3) {
            let index = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % CIPHERTEXT_LEN;
            tampered[index] ^= edit[2];
        }
        let got = check_decapsulation(&tampered);
        if tampered == honest {
            assert_eq!(got, Ok(ss), "honest ciphertext");
        } else if let Ok(other) = got {
            assert_ne!(other, ss, "a tampered ciphertext gave the same secret");
        }
    }
}

fn check_xwing_public_key(bytes: &[u8], mode: u8) {
    let ours = XWingPublicKey::from_bytes(bytes);
    let theirs = x_wing::EncapsulationKey::try_from(bytes);
    if bytes.len() != PUBLIC_KEY_LEN {
        let expected = CryptoError::WrongLength {
            what: "X-Wing public key",
            expected: PUBLIC_KEY_LEN,
            got: bytes.len(),
        };
        assert_eq!(ours.err(), Some(expected));
        assert!(theirs.is_err());
        return;
    }
    let reduced = mlkem_key_is_reduced(&bytes[..MLKEM_PK_LEN]);
    assert_eq!(theirs.is_ok(), reduced, "RustCrypto's ML-KEM check differs");
    let pk = match ours {
        Ok(pk) => pk,
        Err(e) => {
            assert!(!reduced, "reduced key refused: {e:?}");
            assert_eq!(
                e,
                CryptoError::InvalidPublicKey("ML-KEM-768 encapsulation key")
            );
            return;
        }
    };
    assert!(reduced, "unreduced ML-KEM key accepted");
    assert_eq!(pk.to_bytes()[..], bytes[..]);
    assert_eq!(XWingPublicKey::from_bytes(&pk.to_bytes()).as_ref(), Ok(&pk));
    let eseed = [mode; 64];
    let encapsulated = pk.encapsulate_derand(&eseed);
    if x25519_is_low_order(&bytes[MLKEM_PK_LEN..]) {
        assert_eq!(encapsulated.err(), Some(CryptoError::NonContributory));
        return;
    }
    let (ct, ss) = encapsulated.expect("encapsulation to a valid key");
    let (their_ct, their_ss) = theirs
        .expect("checked")
        .encapsulate_deterministic(&eseed.into());
    assert_eq!(ct.to_bytes()[..], their_ct[..], "ciphertext differs");
    assert_eq!(ss.as_bytes()[..], their_ss[..], "shared secret differs");
}

/// Decapsulates `ct` with the fixed key, checking it against RustCrypto.
fn check_decapsulation(ct: &[u8; CIPHERTEXT_LEN]) -> Result<SharedSecret, CryptoError> {
    use x_wing::TryDecapsulate;
    let key = fixtures::recipient_key();
    let parsed = XWingCiphertext::from_bytes(ct).expect("1120 bytes");
    let ours = key.decapsulate(&parsed);
    let theirs = THEIR_RECIPIENT.try_decapsulate(ct[..].try_into().expect("1120 bytes"));
    if x25519_is_low_order(&ct[MLKEM_CT_LEN..]) {
        assert_eq!(ours, Err(CryptoError::NonContributory));
        assert!(theirs.is_err(), "RustCrypto accepted a small-order point");
        return ours;
    }
    let ss = ours.expect("decapsulation of a contributory ciphertext");
    let theirs = theirs.expect("RustCrypto refused a contributory ciphertext");
    assert_eq!(ss.as_bytes()[..], theirs[..], "shared secret differs");
    assert_eq!(
        key.decapsulate(&parsed).as_ref(),
        Ok(&ss),
        "not deterministic"
    );
    Ok(ss)
}

/// Length of `enc` chosen by the first byte of an [`hpke_open`] input: 1120
/// if bit 7 is clear, else `1056 + (selector & 0x7f)` (1056 to 1183).
pub fn hpke_enc_len(selector: u8) -> usize {
    if selector & 0x80 == 0 {
        ENC_LEN
    } else {
        ENC_LEN - 64 + usize::from(selector & 0x7f)
    }
}

/// Fuzzes HPKE opening for the fixed recipient (Bob's X-Wing key, `info`
/// [`fixtures::HPKE_OPEN_INFO`]).
///
/// Layout: `[enc length selector] [aad length] [export length u16 BE]
/// enc aad ciphertext` (see [`hpke_enc_len`]; short inputs give short
/// parts). Checks:
///
/// - [`hpke::open`] and [`hpke::setup_receiver`] fail with `wrong_length`
///   (enc not 1120 bytes) or `non_contributory` (small-order X25519 half)
///   exactly when predicted;
/// - otherwise `open` either fails with `open_failed` — and so does the
///   receiver context, again and again (a failure does not advance it) — or
///   succeeds, and then the message is genuine: a fresh context seals the
///   plaintext to exactly the ciphertext, the context opens it once (the
///   next sequence number refuses it), and another `info` refuses it;
/// - the exporter gives the requested length up to 8160 bytes, the same
///   bytes from every context of that `enc`, and an `hpke` error beyond.
pub fn hpke_open(data: &[u8]) {
    let [enc_sel, aad_len, e0, e1, rest @ ..] = data else {
        return;
    };
    let (enc, rest) = rest.split_at(hpke_enc_len(*enc_sel).min(rest.len()));
    let (aad, ct) = rest.split_at(usize::from(*aad_len).min(rest.len()));
    let export_len = usize::from(u16::from_be_bytes([*e0, *e1]));
    let key = fixtures::recipient_key();
    let info = fixtures::HPKE_OPEN_INFO;

    let opened = hpke::open(key, enc, info, aad, ct);
    let receiver = hpke::setup_receiver(key, enc, info);
    let setup_error = if enc.len() != ENC_LEN {
        Some(CryptoError::WrongLength {
            what: "X-Wing ciphertext",
            expected: ENC_LEN,
            got: enc.len(),
        })
    } else if x25519_is_low_order(&enc[MLKEM_CT_LEN..]) {
        Some(CryptoError::NonContributory)
    } else {
        None
    };
    if let Some(e) = setup_error {
        assert_eq!(opened.err(), Some(e.clone()));
        assert_eq!(receiver.err(), Some(e));
        return;
    }
    let mut ctx = receiver.expect("valid enc");
    match opened {
        Ok(plaintext) => {
            assert_eq!(plaintext.len() + TAG_LEN, ct.len());
            let mut fresh = hpke::setup_receiver(key, enc, info).expect("valid enc");
            assert_eq!(
                fresh.seal(aad, &plaintext).expect("seal"),
                ct,
                "opened a ciphertext that is not the genuine encryption"
            );
            assert_eq!(
                ctx.open(aad, ct).as_deref().map(|p| &p[..]),
                Ok(&plaintext[..])
            );
            assert_eq!(ctx.open(aad, ct).err(), Some(CryptoError::OpenFailed));
            assert_eq!(
                hpke::open(key, enc, b"another info", aad, ct).err(),
                Some(CryptoError::OpenFailed)
            );
        }
        Err(e) => {
            assert_eq!(e, CryptoError::OpenFailed);
            for _ in 0..2 {
                assert_eq!(ctx.open(aad, ct).err(), Some(CryptoError::OpenFailed));
            }
        }
    }
    let exported = ctx.export(fixtures::EXPORT_CONTEXT, export_len);
    let again = hpke::setup_receiver(key, enc, info)
        .expect("valid enc")
        .export(fixtures::EXPORT_CONTEXT, export_len);
    if export_len <= fixtures::MAX_EXPORT_LEN {
        let exported = exported.expect("export within the HKDF limit");
        assert_eq!(exported.len(), export_len);
        assert_eq!(&exported[..], &again.expect("export")[..], "export differs");
    } else {
        assert_eq!(exported.err().map(|e| e.class()), Some("hpke"));
        assert_eq!(again.err().map(|e| e.class()), Some("hpke"));
    }
}

/// Error classes [`Receiver::open`] may report for hostile input.
///
/// [`Receiver::open`]: qpc_crypto::sealed_sender::Receiver::open
const SEALED_ERROR_CLASSES: &[&str] = &[
    "truncated",
    "non_minimal_length",
    "invalid_length_prefix",
    "unknown_version",
    "trailing_bytes",
    "too_many_items",
    "malformed",
    "wrong_recipient",
    "non_contributory",
    "open_failed",
    "unknown_issuer",
    "bad_signature",
    "expired_certificate",
    "invalid_public_key",
    "stale",
    "replayed",
    "bad_padding",
];

/// Fuzzes [`Receiver::open`] with raw bytes: a fresh receiver for Bob
/// trusting [`fixtures::issuer`], at [`fixtures::NOW`]. The seeds are
/// genuine sealed messages (and near misses), which libFuzzer mutates.
///
/// Checks: bytes that do not decode as a [`SealedMessage`] fail with that
/// decoding error; decodable ones re-encode identically and, if addressed
/// to someone else, fail with `wrong_recipient`; every error is of a class
/// hostile input may cause, and opening the same bytes again gives the same
/// error (failures leave the receiver unchanged). Accepted ⇒ addressed to
/// Bob, from Alice (the only certified sender) with her key, timestamp in
/// the window, and opening it again is `replayed`.
///
/// [`Receiver::open`]: qpc_crypto::sealed_sender::Receiver::open
pub fn sealed_sender(data: &[u8]) {
    let mut bob = fixtures::receiver();
    let first = bob.open(fixtures::NOW, data);
    let bob_address = fixtures::bob().public().address();
    match codec::decode_exact::<SealedMessage>(Bytes::copy_from_slice(data)) {
        Err(e) => {
            assert_decode_class(&e);
            assert_eq!(first.as_ref().err(), Some(&CryptoError::Wire(e)));
        }
        Ok(sealed) => {
            assert_eq!(codec::encode_to_vec(&sealed).expect("encodes"), data);
            if sealed.recipient != bob_address {
                assert_eq!(first.as_ref().err(), Some(&CryptoError::WrongRecipient));
            }
        }
    }
    match first {
        Ok(opened) => {
            if let Some(opened) = opened {
                check_opened(&opened);
            }
            assert_eq!(
                bob.open(fixtures::NOW, data).err(),
                Some(CryptoError::Replayed)
            );
        }
        Err(e) => {
            assert!(
                SEALED_ERROR_CLASSES.contains(&e.class()),
                "unexpected error {e:?}"
            );
            assert_eq!(
                bob.open(fixtures::NOW, data).err(),
                Some(e),
                "state changed"
            );
        }
    }
}

/// What every opened message satisfies: from Alice, within the window.
fn check_opened(opened: &Opened) {
    let alice = fixtures::alice().public();
    assert_eq!(opened.sender, alice.address());
    assert_eq!(&opened.sender_key, alice.signing_key());
    let config = ReceiverConfig::default();
    assert!(opened.timestamp_ms > 0);
    assert!(opened.timestamp_ms.saturating_add(config.max_age_ms) >= fixtures::NOW);
    assert!(opened.timestamp_ms <= fixtures::NOW + config.max_skew_ms);
}

/// Fuzzes the inside of sealed messages: the input is the inner plaintext,
/// which the harness seals to Bob in a genuine HPKE envelope, so that
/// decryption succeeds and every later check of [`Receiver::open`] is
/// reached.
///
/// Layout: `[mode] [eseed] inner...` (see
/// [`fixtures::sealed_inner_message`]). Inner bytes that decode (with this
/// crate's own decoder, [`fixtures::Inner`]) are first rewritten as the
/// mode bits of [`fixtures::inner_mode`] say: Alice's key into the
/// certificate, the certificate re-signed by the trusted issuer, the message
/// re-signed by Alice with the right binding. The envelope uses
/// encapsulation randomness `[eseed; 64]`.
///
/// The outcome of a fresh receiver at [`fixtures::NOW`] must equal an
/// independent computation of `spec/05`: inner layout errors as decoded
/// here; unknown issuer; certificate signature (only the issuer's own
/// deterministic signature verifies); expiry; the certificate's Ed25519
/// key; the sender's signature (only Alice's own, with this binding);
/// timestamp window; padding under Padmé or the LoRa buckets; then `None`
/// for a decoy or the opened message. Opening the same bytes again gives
/// `replayed` after a success and the same error after a failure.
///
/// [`Receiver::open`]: qpc_crypto::sealed_sender::Receiver::open
pub fn sealed_inner(data: &[u8]) {
    let Some(input) = fixtures::sealed_inner_message(data) else {
        return;
    };
    let mut bob = fixtures::receiver();
    let got = bob.open(fixtures::NOW, &input.sealed);
    let expected = expected_inner_outcome(&input.plaintext, &input.binding);
    assert_eq!(got, expected, "plaintext {:02x?}", input.plaintext);
    let again = bob.open(fixtures::NOW, &input.sealed);
    match got {
        Ok(_) => assert_eq!(again, Err(CryptoError::Replayed)),
        Err(e) => assert_eq!(again, Err(e)),
    }
}

fn expected_inner_outcome(plaintext: &[u8], binding: &[u8]) -> Result<Option<Opened>, CryptoError> {
    let inner = fixtures::Inner::decode(plaintext)?;
    let cert = &inner.certificate;
    let sender_key = expected_verify(cert, &fixtures::roots(), fixtures::NOW)?;
    let alice = fixtures::alice().public();
    if cert.signing_key != *alice.signing_key().as_bytes()
        || inner.signature != inner.alice_signature(binding)
    {
        return Err(CryptoError::BadSignature(
            SignatureContext::SealedSender.name(),
        ));
    }
    let config = ReceiverConfig::default();
    let ts = inner.timestamp_ms;
    if ts == 0
        || ts.saturating_add(config.max_age_ms) < fixtures::NOW
        || ts > fixtures::NOW + config.max_skew_ms
    {
        return Err(CryptoError::Stale {
            timestamp_ms: ts,
            now_ms: fixtures::NOW,
        });
    }
    let content = [Padding::Padme, Padding::Buckets(LORA_BUCKETS)]
        .into_iter()
        .find_map(|scheme| expected_unpad(scheme, &inner.padded_content).ok())
        .ok_or(CryptoError::BadPadding(
            "not padded under an accepted scheme",
        ))?;
    Ok((inner.kind == 0).then(|| Opened {
        sender: Address::derive(&cert.signing_key, &cert.kem_key_digest),
        sender_key,
        timestamp_ms: ts,
        message_id: inner.message_id,
        content: content.to_vec(),
    }))
}

/// The issuers whose roots the [`certificate`] target may trust, with
/// their secret seeds (to recompute their deterministic signatures).
fn known_issuers() -> [(&'static TrustRoot, [u8; 32]); 2] {
    [
        (fixtures::issuer().trust_root(), fixtures::ISSUER_SEED),
        (
            fixtures::other_issuer().trust_root(),
            fixtures::OTHER_ISSUER_SEED,
        ),
    ]
}

/// What [`SenderCertificate::verify`] must return, computed from
/// `spec/05`: an issuer id among `roots` (else `unknown_issuer`), a
/// signature by one of the roots with that id (the fuzzer cannot forge
/// Ed25519, so only the issuer's own deterministic signature verifies),
/// not expired, then the certificate's key (parsed with qpc-crypto's
/// parser, which the `identity` target fuzzes).
fn expected_verify(
    cert: &SenderCertificate,
    roots: &[TrustRoot],
    now_ms: u64,
) -> Result<ed25519_dalek::VerifyingKey, CryptoError> {
    let named: Vec<&TrustRoot> = roots
        .iter()
        .filter(|r| *r.key_id() == cert.issuer_key_id)
        .collect();
    if named.is_empty() {
        return Err(CryptoError::UnknownIssuer(cert.issuer_key_id));
    }
    let tbs = fixtures::certificate_tbs(cert);
    let signed = named.iter().any(|root| {
        known_issuers().iter().any(|(known, seed)| {
            known == root
                && cert.issuer_signature
                    == crypto_identity::sign(
                        &SigningKey::from_bytes(seed),
                        SignatureContext::SenderCertificate,
                        &tbs,
                    )
        })
    });
    if !signed {
        return Err(CryptoError::BadSignature(
            SignatureContext::SenderCertificate.name(),
        ));
    }
    if now_ms >= cert.expires_ms {
        return Err(CryptoError::ExpiredCertificate {
            expires_ms: cert.expires_ms,
            now_ms,
        });
    }
    crypto_identity::parse_signing_key(&cert.signing_key)
}

/// Mode bits of the [`certificate`] target.
pub mod certificate_mode {
    /// Set the issuer key id to the trusted root's and re-sign.
    pub const RESIGN: u8 = 0x01;
    /// Bits 1-2: the clock (see [`crate::certificate`]).
    pub const CLOCK_SHIFT: u8 = 1;
    /// Bits 3-4: the roots (see [`crate::certificate`]).
    pub const ROOTS_SHIFT: u8 = 3;
}

/// Fuzzes sender certificates.
///
/// Layout: `[mode] certificate...`. Decoding with
/// [`codec::decode_exact`] succeeds exactly for 144 bytes (`truncated`
/// below, `trailing_bytes(n)` above); a decoded certificate has the input's
/// fields, re-encodes identically, and its sender address is the spec's.
/// Then, with mode bit 0 set, its issuer id is set to the trusted root's
/// and it is re-signed by that issuer, and [`SenderCertificate::verify`]
/// runs with the clock of bits 1-2 (`NOW`, `expires - 1`, `expires`,
/// `u64::MAX`) and the roots of bits 3-4 (trusted; untrusted and trusted;
/// none; untrusted). The result must equal an independent computation
/// (see `expected_verify`); a success returns the certificate's key.
pub fn certificate(data: &[u8]) {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let decoded = codec::decode_exact::<SenderCertificate>(Bytes::copy_from_slice(bytes));
    let mut cert = match bytes.len() {
        n if n < CERTIFICATE_LEN => return assert_eq!(decoded, Err(Error::Truncated)),
        n if n > CERTIFICATE_LEN => {
            return assert_eq!(decoded, Err(Error::TrailingBytes(n - CERTIFICATE_LEN)))
        }
        _ => decoded.expect("144 bytes are a certificate"),
    };
    assert_eq!(&cert.signing_key[..], &bytes[..32]);
    assert_eq!(&cert.kem_key_digest[..], &bytes[32..64]);
    assert_eq!(cert.expires_ms.to_be_bytes()[..], bytes[64..72]);
    assert_eq!(&cert.issuer_key_id[..], &bytes[72..80]);
    assert_eq!(&cert.issuer_signature[..], &bytes[80..]);
    {
        use codec::Encode;
        assert_eq!(cert.encoded_len(), CERTIFICATE_LEN);
    }
    assert_eq!(codec::encode_to_vec(&cert).expect("encodes"), bytes);
    assert_eq!(
        cert.sender_address().as_bytes(),
        &spec_address(&bytes[..32], &bytes[32..64])
    );

    if mode & certificate_mode::RESIGN != 0 {
        let trusted = fixtures::issuer();
        let mut tbs = bytes[..72].to_vec();
        tbs.extend(trusted.trust_root().key_id());
        cert.issuer_key_id = *trusted.trust_root().key_id();
        cert.issuer_signature = fixtures::issuer_signature(&tbs);
    }
    let now = match (mode >> certificate_mode::CLOCK_SHIFT) & 3 {
        0 => fixtures::NOW,
        1 => cert.expires_ms.saturating_sub(1),
        2 => cert.expires_ms,
        _ => u64::MAX,
    };
    let trusted = fixtures::issuer().trust_root().clone();
    let untrusted = fixtures::other_issuer().trust_root().clone();
    assert_ne!(trusted.key_id(), untrusted.key_id());
    let roots = match (mode >> certificate_mode::ROOTS_SHIFT) & 3 {
        0 => vec![trusted],
        1 => vec![untrusted, trusted],
        2 => vec![],
        _ => vec![untrusted],
    };
    let got = cert.verify(&roots, now);
    assert_eq!(
        got,
        expected_verify(&cert, &roots, now),
        "{cert:?} at {now}"
    );
    if let Ok(key) = got {
        assert_eq!(key.as_bytes(), &cert.signing_key);
    }
}

/// The padding schemes the [`padding()`] target checks: Padmé, the LoRa
/// buckets, no bucket at all and a short list with small buckets.
pub const PADDING_SCHEMES: [Padding; 4] = [
    Padding::Padme,
    Padding::Buckets(LORA_BUCKETS),
    Padding::Buckets(&[]),
    Padding::Buckets(&[1, 2, 3, 100, 4096]),
];

/// Padmé computed from the paper's definition with 128-bit arithmetic:
/// `L` rounded up to a multiple of `2^(E - S)`, `E = floor(log2 L)`,
/// `S = floor(log2 E) + 1`.
pub fn expected_padme(len: u64) -> u128 {
    if len < 2 {
        return u128::from(len);
    }
    let e = 63 - len.leading_zeros();
    let s = 32 - e.leading_zeros();
    let step = 1u128 << (e - s);
    u128::from(len).div_ceil(step) * step
}

/// The padded length for `len` bytes (content plus marker), or `None` if
/// it does not fit.
fn expected_target(scheme: Padding, len: usize) -> Option<usize> {
    match scheme {
        Padding::Padme => usize::try_from(expected_padme(len as u64)).ok(),
        Padding::Buckets(sizes) => sizes.iter().copied().find(|&s| s >= len),
    }
}

/// `unpad` from `spec/04-padding.md`: strip trailing zeros, require the
/// `0x80` marker, require the length to be the target of the content.
fn expected_unpad(scheme: Padding, padded: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(marker) = padded.iter().rposition(|&b| b != 0) else {
        return Err(CryptoError::BadPadding("no marker"));
    };
    if padded[marker] != padding::MARKER {
        return Err(CryptoError::BadPadding("not the marker"));
    }
    if expected_target(scheme, marker + 1) != Some(padded.len()) {
        return Err(CryptoError::BadPadding("wrong length"));
    }
    Ok(&padded[..marker])
}

/// Fuzzes padding: the whole input is unpadded and padded under every
/// scheme of [`PADDING_SCHEMES`].
///
/// - [`padding::unpad`] gives the content an independent decoder finds, or
///   a `bad_padding` error when it finds none; accepted ⇒
///   `pad(content) == input`;
/// - [`padding::pad`] of the input has the independently computed length
///   (`too_long_to_pad` naming the largest bucket when none fits), is the
///   input, the marker and zeros, unpads to the input, and Padmé adds at
///   most 12%;
/// - [`Padding::target`] and [`padding::padme`] of the length in the first
///   eight bytes (little-endian) match the paper's definition computed in
///   128 bits, are idempotent and monotone; where rounding up overflows
///   `usize`, `padme` saturates and `target` is `too_long_to_pad`.
pub fn padding(data: &[u8]) {
    for scheme in PADDING_SCHEMES {
        let got = padding::unpad(scheme, data);
        match (&got, expected_unpad(scheme, data)) {
            (Ok(content), Ok(expected)) => {
                assert_eq!(content, &expected);
                assert_eq!(padding::pad(scheme, content).expect("pads"), data);
            }
            (Err(e), Err(_)) => assert_eq!(e.class(), "bad_padding", "{e:?}"),
            (got, expected) => panic!("{scheme:?}: got {got:?}, expected {expected:?}"),
        }

        let len = data.len() + 1;
        match (padding::pad(scheme, data), expected_target(scheme, len)) {
            (Ok(padded), Some(target)) => {
                assert_eq!(padded.len(), target);
                assert_eq!(&padded[..data.len()], data);
                assert_eq!(padded[data.len()], padding::MARKER);
                assert!(padded[len..].iter().all(|&b| b == 0));
                assert_eq!(padding::unpad(scheme, &padded), Ok(data));
                if scheme == Padding::Padme {
                    assert!((target - len) * 100 <= len * 12, "Padmé({len}) = {target}");
                }
            }
            (Err(e), None) => {
                let Padding::Buckets(sizes) = scheme else {
                    panic!("Padmé refused {len}: {e:?}");
                };
                let max = sizes.last().copied().unwrap_or(0);
                assert_eq!(e, CryptoError::TooLongToPad { len, max });
            }
            (got, expected) => panic!("{scheme:?} pad: got {got:?}, expected {expected:?}"),
        }
    }

    if let Some(bytes) = data.get(..8) {
        let n = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        let Ok(n) = usize::try_from(n) else {
            return;
        };
        let expected = usize::try_from(expected_padme(n as u64));
        let p = padding::padme(n);
        match expected {
            Ok(expected) => {
                assert_eq!(p, expected, "padme({n})");
                assert_eq!(Padding::Padme.target(n), Ok(p));
                assert_eq!(padding::padme(p), p, "padme not idempotent at {n}");
            }
            Err(_) => {
                // Rounding up does not fit: padme saturates, target refuses.
                assert_eq!(p, usize::MAX, "padme({n})");
                let max = usize::MAX;
                assert_eq!(
                    Padding::Padme.target(n),
                    Err(CryptoError::TooLongToPad { len: n, max })
                );
            }
        }
        if let Some(next) = n.checked_add(1) {
            assert!(padding::padme(next) >= p, "padme not monotone at {n}");
        }
    }
}
