//! `wire.json`: vectors for `spec/01-wire.md` — varints, frames, chunked
//! streams, Hello and the version negotiation.

use bytes::Bytes;
use qpc_wire::{
    codec, varint, DecoderConfig, Frame, FrameDecoder, FrameType, Hello, Negotiator,
    NegotiatorConfig, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, Vector};

mod cases;
pub use cases::generate;

/// The `protocol` field of `wire.json`.
pub const PROTOCOL: &str = "qpc-wire";

/// One vector of `wire.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: WireCase,
}

/// A frame as fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameFields {
    /// Header version.
    pub version: u8,
    /// Frame type code point.
    pub frame_type: u16,
    /// Body bytes.
    #[serde(with = "hex::serde")]
    pub body: Vec<u8>,
}

/// A Hello as fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloFields {
    /// Versions, highest first.
    pub versions: Vec<u8>,
    /// Largest accepted frame body.
    pub max_body_len: u32,
    /// Capabilities, ascending.
    pub capabilities: Vec<u16>,
}

/// The agreed result of a negotiation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegotiatedFields {
    /// Negotiated version.
    pub version: u8,
    /// Common capabilities, ascending.
    pub capabilities: Vec<u16>,
    /// The peer's frame body limit.
    pub peer_max_body_len: u32,
}

/// The kinds of wire vector. Exactly one of the expected value and
/// `expected_error` is present.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireCase {
    /// Decode `encoded` as one varint; positive vectors also encode `value`.
    Varint {
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The value (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<u32>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode `encoded` as exactly one frame, receiver limit `max_body_len`,
    /// accepted versions {1}; positive vectors also encode `frame`.
    Frame {
        /// Receiver's body limit.
        max_body_len: u32,
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The frame (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame: Option<FrameFields>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Feed `stream` to a stream decoder in chunks of the given sizes (they
    /// sum to the stream length), then signal end of stream. `frames` are
    /// those completed before any error.
    Stream {
        /// Receiver's body limit.
        max_body_len: u32,
        /// The bytes.
        #[serde(with = "hex::serde")]
        stream: Vec<u8>,
        /// Chunk sizes, in order.
        chunks: Vec<usize>,
        /// The frames produced, in order.
        frames: Vec<FrameFields>,
        /// The error class, if the stream must fail.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Decode `encoded` as a Hello body; positive vectors also encode `hello`.
    Hello {
        /// The bytes.
        #[serde(with = "hex::serde")]
        encoded: Vec<u8>,
        /// The Hello (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hello: Option<HelloFields>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A transcript of the negotiation state machine: a negotiator offering
    /// `local` (started at time 0 with `timeout_ms`) must first transmit
    /// `local_frame`, then each step's input must give the step's `result`.
    /// Frames are decoded with the pre-negotiation decoder configuration
    /// (local versions plus 1, local `max_body_len`) until the negotiation is
    /// done, and with the negotiated one (only the agreed version) after.
    Negotiation {
        /// Our offer.
        local: HelloFields,
        /// How long the negotiator waits for the peer's Hello.
        timeout_ms: u64,
        /// The frame that must be our Hello (what we transmit first).
        #[serde(with = "hex::serde")]
        local_frame: Vec<u8>,
        /// The inputs, in order.
        steps: Vec<NegotiationStep>,
        /// The final outcome, if the transcript ends with the negotiation done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<NegotiatedFields>,
        /// The final error class, if the transcript ends with it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
}

/// One input to the negotiation state machine and what it must produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegotiationStep {
    /// The time of the input, in milliseconds since the start.
    pub at_ms: u64,
    /// A frame received from the peer (absent for a timer event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Hex>,
    /// `"awaiting"` (still waiting for the Hello), `"done"`, or the error
    /// class the input fails with.
    pub result: String,
}

/// Bytes serialised as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hex(#[serde(with = "hex::serde")] pub Vec<u8>);

impl FrameFields {
    fn of(frame: &Frame) -> Self {
        FrameFields {
            version: frame.version,
            frame_type: frame.frame_type.code(),
            body: frame.body.to_vec(),
        }
    }

    fn to_frame(&self) -> Result<Frame, String> {
        let frame_type = FrameType::from_code(self.frame_type)
            .ok_or_else(|| format!("frame type 0x{:04x} is not registered", self.frame_type))?;
        Ok(Frame {
            version: self.version,
            frame_type,
            body: self.body.clone().into(),
        })
    }
}

impl HelloFields {
    fn of(hello: &Hello) -> Self {
        HelloFields {
            versions: hello.versions.clone(),
            max_body_len: hello.max_body_len,
            capabilities: hello.capabilities.clone(),
        }
    }

    fn to_hello(&self) -> Hello {
        Hello {
            versions: self.versions.clone(),
            max_body_len: self.max_body_len,
            capabilities: self.capabilities.clone(),
        }
    }

    fn config(&self) -> NegotiatorConfig {
        NegotiatorConfig {
            versions: self.versions.iter().copied().collect(),
            max_body_len: self.max_body_len,
            capabilities: self.capabilities.clone(),
            ..NegotiatorConfig::default()
        }
    }
}

fn encode_frame(frame: &Frame) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    frame.encode(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Runs a stream decoder over `stream` split into `chunks`.
fn decode_stream(
    stream: &[u8],
    chunks: &[usize],
    max_body_len: u32,
) -> Result<(Vec<FrameFields>, Option<qpc_wire::Error>), String> {
    if chunks.iter().sum::<usize>() != stream.len() {
        return Err("chunk sizes do not sum to the stream length".into());
    }
    let mut decoder = FrameDecoder::new(DecoderConfig::with_max_body_len(max_body_len));
    let mut frames = Vec::new();
    let mut rest = stream;
    for &size in chunks {
        let (mut chunk, tail) = rest.split_at(size);
        rest = tail;
        loop {
            match decoder.decode(&mut chunk) {
                Ok(Some(frame)) => frames.push(FrameFields::of(&frame)),
                Ok(None) => break,
                Err(e) => return Ok((frames, Some(e))),
            }
        }
    }
    Ok((frames, decoder.finish().err()))
}

/// Our Hello frame, each step's result, and the final outcome.
type Transcript = (
    Vec<u8>,
    Vec<String>,
    Result<NegotiatedFields, qpc_wire::Error>,
);

/// Runs a negotiation transcript: returns our Hello frame, each step's
/// result, and the final outcome.
fn run_negotiation(
    local: &HelloFields,
    timeout_ms: u64,
    steps: &[NegotiationStep],
) -> Result<Transcript, String> {
    let config = NegotiatorConfig {
        timeout: std::time::Duration::from_millis(timeout_ms),
        ..local.config()
    };
    let mut negotiator = Negotiator::new(config.clone(), Timestamp(0))
        .map_err(|e| format!("bad local offer: {e}"))?;
    let sent = negotiator
        .poll_transmit()
        .ok_or("no Hello transmitted")?
        .to_vec();
    let mut results = Vec::new();
    let mut last = None;
    let mut previous_ms = 0;
    let mut stream_closed = false;
    for step in steps {
        if step.at_ms < previous_ms {
            return Err("steps go back in time".into());
        }
        if stream_closed {
            return Err("a step follows a frame that failed to decode".into());
        }
        previous_ms = step.at_ms;
        let now = Timestamp(step.at_ms);
        let result = match &step.frame {
            None => negotiator
                .handle_timeout(now)
                .map(|()| negotiator.outcome().cloned()),
            Some(Hex(bytes)) => {
                let decoder = match negotiator.outcome() {
                    Some(done) => done.decoder_config(),
                    None => config.decoder_config(),
                };
                match Frame::decode(Bytes::copy_from_slice(bytes), &decoder) {
                    Ok(frame) => negotiator.handle_frame(now, &frame).cloned().map(Some),
                    Err(e) => {
                        stream_closed = true;
                        Err(e)
                    }
                }
            }
        };
        results.push(match &result {
            Ok(Some(_)) => "done".to_owned(),
            Ok(None) => "awaiting".to_owned(),
            Err(e) => e.class().to_owned(),
        });
        last = Some(result);
    }
    let last = match last {
        None => return Err("a transcript needs at least one step".into()),
        Some(Ok(None)) => return Err("a transcript must not end awaiting".into()),
        Some(result) => result.map(|n| n.expect("done")),
    };
    let outcome = last.map(|n| NegotiatedFields {
        version: n.version,
        capabilities: n.capabilities,
        peer_max_body_len: n.peer_max_body_len,
    });
    Ok((sent, results, outcome))
}

/// Positive vector when `expected_error` is absent, else negative.
fn check_outcome<T: PartialEq + std::fmt::Debug>(
    got: Result<T, qpc_wire::Error>,
    want: Option<T>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (want, expected_error) {
        (Some(want), None) => {
            expect_eq("decoded", got.map_err(|e| format!("rejected: {e}"))?, want)
        }
        (None, Some(class)) => expect_error(class, got),
        _ => Err("exactly one of the expected value and expected_error must be present".into()),
    }
}

impl Vector for WireVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            WireCase::Varint {
                encoded,
                value,
                expected_error,
            } => {
                let decoded = match varint::decode(encoded) {
                    Ok(Some((v, len))) if len == encoded.len() => Ok(v),
                    Ok(Some((_, len))) => Err(qpc_wire::Error::TrailingBytes(encoded.len() - len)),
                    Ok(None) => Err(qpc_wire::Error::Truncated),
                    Err(e) => Err(e),
                };
                check_outcome(decoded, *value, expected_error)?;
                if let Some(value) = value {
                    let mut out = Vec::new();
                    varint::encode(*value, &mut out).map_err(|e| e.to_string())?;
                    expect_eq("encoding", &out, encoded)?;
                }
                Ok(())
            }
            WireCase::Frame {
                max_body_len,
                encoded,
                frame,
                expected_error,
            } => {
                let config = DecoderConfig::with_max_body_len(*max_body_len);
                let decoded = Frame::decode(Bytes::copy_from_slice(encoded), &config)
                    .map(|f| FrameFields::of(&f));
                check_outcome(decoded, frame.clone(), expected_error)?;
                if let Some(frame) = frame {
                    expect_eq("encoding", &encode_frame(&frame.to_frame()?)?, encoded)?;
                }
                Ok(())
            }
            WireCase::Stream {
                max_body_len,
                stream,
                chunks,
                frames,
                expected_error,
            } => {
                let (got, error) = decode_stream(stream, chunks, *max_body_len)?;
                expect_eq("frames", &got, frames)?;
                expect_eq(
                    "error",
                    error.map(|e| e.class().to_owned()),
                    expected_error.clone(),
                )
            }
            WireCase::Hello {
                encoded,
                hello,
                expected_error,
            } => {
                let decoded = codec::decode_exact::<Hello>(Bytes::copy_from_slice(encoded))
                    .map(|h| HelloFields::of(&h));
                check_outcome(decoded, hello.clone(), expected_error)?;
                if let Some(hello) = hello {
                    let bytes =
                        codec::encode_to_vec(&hello.to_hello()).map_err(|e| e.to_string())?;
                    expect_eq("encoding", &bytes, encoded)?;
                }
                Ok(())
            }
            WireCase::Negotiation {
                local,
                timeout_ms,
                local_frame,
                steps,
                outcome,
                expected_error,
            } => {
                let (sent, results, got) = run_negotiation(local, *timeout_ms, steps)?;
                expect_eq("local Hello frame", &sent, local_frame)?;
                for (step, got) in steps.iter().zip(&results) {
                    expect_eq(&format!("step at {} ms", step.at_ms), got, &step.result)?;
                }
                check_outcome(got, outcome.clone(), expected_error)
            }
        }
    }
}
