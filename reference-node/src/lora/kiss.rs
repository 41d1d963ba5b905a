//! KISS framing for a serial LoRa modem (`spec/30-reference-node.md` §8):
//! one link frame per KISS data frame on port 0, FEND-delimited, FESC
//! escaped. [`KissDecoder`] is sans-IO and bounded.

use bytes::Bytes;
use qpc_mesh::lora::profile::MAX_PHY_PAYLOAD;

use crate::error::{Error, Result};

/// Frame end.
pub const FEND: u8 = 0xc0;
/// Frame escape.
pub const FESC: u8 = 0xdb;
/// Transposed frame end (after FESC).
pub const TFEND: u8 = 0xdc;
/// Transposed frame escape (after FESC).
pub const TFESC: u8 = 0xdd;
/// The command byte of a data frame on port 0.
pub const DATA_FRAME: u8 = 0x00;

/// `frame` as a KISS data frame, with a leading and a trailing FEND;
/// `frame_too_long` above 255 bytes, `truncated` when empty.
pub fn encode(frame: &[u8]) -> Result<Vec<u8>> {
    check_payload_len(frame.len())?;
    let mut out = Vec::with_capacity(frame.len() + 4);
    out.extend_from_slice(&[FEND, DATA_FRAME]);
    for &b in frame {
        match b {
            FEND => out.extend_from_slice(&[FESC, TFEND]),
            FESC => out.extend_from_slice(&[FESC, TFESC]),
            _ => out.push(b),
        }
    }
    out.push(FEND);
    Ok(out)
}

fn check_payload_len(len: usize) -> Result<()> {
    if len == 0 {
        Err(Error::Truncated("KISS data frame"))
    } else if len > MAX_PHY_PAYLOAD {
        Err(Error::FrameTooLong {
            len,
            max: MAX_PHY_PAYLOAD,
        })
    } else {
        Ok(())
    }
}

/// What the decoder is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first FEND: bytes are discarded.
    Unsynced,
    /// Inside a frame.
    InFrame,
    /// Inside a frame, after a FESC.
    Escaped,
    /// Inside a frame already refused: discarding up to the next FEND.
    Discarding,
}

/// The streaming KISS decoder: push bytes, get frames and refusals.
#[derive(Debug)]
pub struct KissDecoder {
    state: State,
    /// The unescaped frame so far, command byte first (at most 256 bytes).
    frame: Vec<u8>,
    /// Why the current frame is refused, once it is.
    refusal: Option<Error>,
}

impl Default for KissDecoder {
    fn default() -> Self {
        KissDecoder::new()
    }
}

impl KissDecoder {
    /// A decoder that has seen nothing yet.
    pub fn new() -> Self {
        KissDecoder {
            state: State::Unsynced,
            frame: Vec::with_capacity(MAX_PHY_PAYLOAD + 1),
            refusal: None,
        }
    }

    /// Feeds `bytes`; every frame they complete, in order, accepted (the
    /// link frame without the command byte) or refused (its error).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Bytes>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == FEND {
                if let Some(result) = self.end_frame() {
                    out.push(result);
                }
                self.state = State::InFrame;
                continue;
            }
            match self.state {
                State::Unsynced | State::Discarding => {}
                State::InFrame if b == FESC => self.state = State::Escaped,
                State::InFrame => self.append(b),
                State::Escaped => {
                    self.state = State::InFrame;
                    match b {
                        TFEND => self.append(FEND),
                        TFESC => self.append(FESC),
                        _ => self.refuse(Error::Malformed {
                            what: "KISS frame",
                            reason: "FESC followed by neither TFEND nor TFESC",
                        }),
                    }
                }
            }
        }
        out
    }

    fn append(&mut self, b: u8) {
        if self.frame.len() > MAX_PHY_PAYLOAD {
            self.refuse(Error::FrameTooLong {
                len: MAX_PHY_PAYLOAD + 1,
                max: MAX_PHY_PAYLOAD,
            });
        } else {
            self.frame.push(b);
        }
    }

    fn refuse(&mut self, error: Error) {
        self.refusal = Some(error);
        self.state = State::Discarding;
        self.frame.clear();
    }

    /// Closes the current frame at a FEND: `None` for an empty frame (or
    /// the first FEND).
    fn end_frame(&mut self) -> Option<Result<Bytes>> {
        if let Some(error) = self.refusal.take() {
            return Some(Err(error));
        }
        if self.state == State::Escaped {
            self.frame.clear();
            return Some(Err(Error::Malformed {
                what: "KISS frame",
                reason: "FESC followed by neither TFEND nor TFESC",
            }));
        }
        if self.state == State::Unsynced || self.frame.is_empty() {
            return None;
        }
        let frame = std::mem::take(&mut self.frame);
        if frame[0] != DATA_FRAME {
            return Some(Err(Error::Malformed {
                what: "KISS frame",
                reason: "a command other than a data frame on port 0",
            }));
        }
        Some(check_payload_len(frame.len() - 1).map(|()| Bytes::copy_from_slice(&frame[1..])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        let kiss = encode(&[0x00, 0xc0, 0xdb, 0x11]).unwrap();
        assert_eq!(kiss, [0xc0, 0x00, 0x00, 0xdb, 0xdc, 0xdb, 0xdd, 0x11, 0xc0]);
        let out = KissDecoder::new().push(&kiss);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_ref().unwrap().as_ref(), [0x00, 0xc0, 0xdb, 0x11]);
    }

    fn classes(bytes: &[u8]) -> Vec<&'static str> {
        KissDecoder::new()
            .push(bytes)
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.class(), |_| "ok"))
            .collect()
    }

    #[test]
    fn refusals_resynchronise_at_the_next_fend() {
        assert_eq!(classes(&[1, 2, FEND, FEND, 0, 7, FEND]), ["ok"]);
        assert_eq!(
            classes(&[FEND, 0, FESC, 1, 2, FEND, 0, 7, FEND]),
            ["malformed", "ok"]
        );
        assert_eq!(classes(&[FEND, 6, 7, FEND]), ["malformed"]);
        assert_eq!(classes(&[FEND, FESC, FEND]), ["malformed"]);
        assert_eq!(classes(&[FEND, 0, FEND]), ["truncated"]);
        let mut long = vec![FEND, 0];
        long.extend([0x55; 256]);
        long.extend([FEND, 0, 1, FEND]);
        assert_eq!(classes(&long), ["frame_too_long", "ok"]);
        let mut max = vec![FEND, 0];
        max.extend([0x55; 255]);
        max.push(FEND);
        assert_eq!(classes(&max), ["ok"]);
        assert_eq!(encode(&[0; 256]).unwrap_err().class(), "frame_too_long");
        assert_eq!(encode(&[]).unwrap_err().class(), "truncated");
    }

    #[test]
    fn an_escape_split_across_reads_waits() {
        let mut d = KissDecoder::new();
        assert!(d.push(&[FEND, 0, 1, FESC]).is_empty());
        let out = d.push(&[TFEND, FEND]);
        assert_eq!(out[0].as_ref().unwrap().as_ref(), [1, FEND]);
    }

    proptest! {
        #[test]
        fn frames_round_trip_in_any_chunking(
            frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..=255), 0..6),
            cut in 1usize..40,
        ) {
            let stream: Vec<u8> = frames.iter().flat_map(|f| encode(f).unwrap()).collect();
            let mut d = KissDecoder::new();
            let mut out = Vec::new();
            for chunk in stream.chunks(cut) {
                for r in d.push(chunk) {
                    out.push(r.unwrap().to_vec());
                }
            }
            prop_assert_eq!(out, frames);
        }
    }
}
