//! Version and capability negotiation: a symmetric Hello exchange.
//!
//! Both peers send a [`Hello`] as their first frame, without waiting for the
//! other's. On receiving the peer's Hello each side computes, independently
//! and identically:
//!
//! - the version: the highest version in both lists, or
//!   [`Error::NoCommonVersion`] naming both lists;
//! - the capabilities: the intersection of both lists, ascending;
//! - the frame size limit towards the peer: the peer's `max_body_len`.
//!
//! The exchange is unauthenticated; the authenticated handshake that follows
//! binds both Hello encodings into its transcript (`spec/01-wire.md`,
//! "Security considerations"), which turns any tampering into a handshake
//! failure.
//!
//! ```
//! use qpc_wire::{Frame, Negotiator, NegotiatorConfig, Timestamp};
//!
//! let (config, now) = (NegotiatorConfig::default(), Timestamp::from_millis(0));
//! let mut alice = Negotiator::new(config.clone(), now).unwrap();
//! let mut bob = Negotiator::new(config.clone(), now).unwrap();
//! // Both send first; each decodes the other's Hello with the pre-negotiation
//! // decoder configuration.
//! let to_bob = Frame::decode(alice.poll_transmit().unwrap(), &config.decoder_config()).unwrap();
//! let to_alice = Frame::decode(bob.poll_transmit().unwrap(), &config.decoder_config()).unwrap();
//! let a = alice.handle_frame(now, &to_alice).unwrap().clone();
//! let b = bob.handle_frame(now, &to_bob).unwrap().clone();
//! assert_eq!(a.version, 1);
//! assert_eq!((a.version, &a.capabilities), (b.version, &b.capabilities));
//! ```

use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use core::time::Duration;

use crate::frame::{Frame, FrameType};
use crate::version::V1;
use crate::{
    codec, varint, DecoderConfig, Error, FrameEncoder, Hello, Result, Timestamp, VersionSet,
};

/// What a [`Negotiator`] offers and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatorConfig {
    /// Versions to offer.
    pub versions: VersionSet,
    /// Largest frame body this side accepts (announced to the peer).
    pub max_body_len: u32,
    /// Capability code points to offer.
    pub capabilities: Vec<u16>,
    /// How long to wait for the peer's Hello.
    pub timeout: Duration,
}

impl Default for NegotiatorConfig {
    fn default() -> Self {
        NegotiatorConfig {
            versions: VersionSet::supported(),
            max_body_len: DecoderConfig::DEFAULT_MAX_BODY_LEN,
            capabilities: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl NegotiatorConfig {
    /// The frame decoder configuration before negotiation: our versions plus
    /// version 1 (every Hello travels in a version-1 frame), and the body
    /// limit we announce.
    pub fn decoder_config(&self) -> DecoderConfig {
        let mut versions = self.versions;
        versions.insert(V1);
        DecoderConfig::new(self.max_body_len, versions)
    }
}

/// The outcome both peers agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The protocol version for every later frame.
    pub version: u8,
    /// Capabilities both sides offered, ascending.
    pub capabilities: Vec<u16>,
    /// The largest body the peer accepts.
    pub peer_max_body_len: u32,
    /// The largest body we accept (what our Hello announced).
    pub local_max_body_len: u32,
    /// The peer's Hello, as received (for transcript binding).
    pub peer_hello: Hello,
}

impl Negotiated {
    /// An encoder for frames to the peer.
    pub fn encoder(&self) -> FrameEncoder {
        FrameEncoder::new(self.version, self.peer_max_body_len)
    }

    /// The frame decoder configuration from now on: only the negotiated
    /// version, and the body limit we announced.
    pub fn decoder_config(&self) -> DecoderConfig {
        DecoderConfig::new(self.local_max_body_len, VersionSet::only(self.version))
    }

    /// Whether both sides offered `capability`.
    pub fn has(&self, capability: u16) -> bool {
        self.capabilities.binary_search(&capability).is_ok()
    }
}

#[derive(Debug)]
enum State {
    AwaitingHello { deadline: Timestamp },
    Done(Negotiated),
    Failed(Error),
}

/// The sans-IO negotiation state machine. See the [module docs](self).
#[derive(Debug)]
pub struct Negotiator {
    local: Hello,
    outgoing: Option<Bytes>,
    state: State,
}

impl Negotiator {
    /// Starts a negotiation at `now`; fails if `config` makes an invalid Hello.
    pub fn new(config: NegotiatorConfig, now: Timestamp) -> Result<Self> {
        let local = Hello::new(config.versions, config.max_body_len, config.capabilities);
        let mut frame = BytesMut::new();
        FrameEncoder::new(V1, varint::MAX).encode_message(FrameType::Hello, &local, &mut frame)?;
        Ok(Negotiator {
            local,
            outgoing: Some(frame.freeze()),
            state: State::AwaitingHello {
                deadline: now.saturating_add(config.timeout),
            },
        })
    }

    /// Our Hello.
    pub fn local_hello(&self) -> &Hello {
        &self.local
    }

    /// The encoded Hello frame to send, exactly once.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outgoing.take()
    }

    /// When [`Negotiator::handle_timeout`] must be called, while waiting.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match self.state {
            State::AwaitingHello { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Fails the negotiation with [`Error::Timeout`] if no Hello arrived
    /// before `now` reached the deadline. Once failed, returns that failure.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Result<()> {
        match &self.state {
            State::AwaitingHello { deadline } if now >= *deadline => Err(self.fail(Error::Timeout)),
            State::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// The agreed outcome, once there is one.
    pub fn outcome(&self) -> Option<&Negotiated> {
        match &self.state {
            State::Done(n) => Some(n),
            _ => None,
        }
    }

    /// Handles a frame from the peer received at `now`. The first one must be
    /// its Hello, before the deadline. After the negotiation is done, a
    /// second Hello is an error and other frames are not this machine's
    /// business (they leave the outcome unchanged).
    pub fn handle_frame(&mut self, now: Timestamp, frame: &Frame) -> Result<&Negotiated> {
        self.handle_timeout(now)?;
        let outcome = match &self.state {
            State::Done(_) if frame.frame_type != FrameType::Hello => {
                return Ok(self.outcome().expect("done"))
            }
            State::Done(_) => Err(Error::UnexpectedFrame {
                frame_type: frame.frame_type.code(),
                state: "negotiation is finished",
            }),
            State::AwaitingHello { .. } => self.negotiate(frame),
            State::Failed(e) => Err(e.clone()),
        };
        match outcome {
            Ok(negotiated) => {
                self.state = State::Done(negotiated);
                Ok(self.outcome().expect("just set"))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn negotiate(&self, frame: &Frame) -> Result<Negotiated> {
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
        let version = self
            .local
            .versions
            .iter()
            .copied()
            .find(|v| peer.versions.contains(v))
            .ok_or_else(|| Error::NoCommonVersion {
                local: self.local.versions.clone(),
                remote: peer.versions.clone(),
            })?;
        let capabilities = self
            .local
            .capabilities
            .iter()
            .copied()
            .filter(|c| peer.capabilities.binary_search(c).is_ok())
            .collect();
        Ok(Negotiated {
            version,
            capabilities,
            peer_max_body_len: peer.max_body_len,
            local_max_body_len: self.local.max_body_len,
            peer_hello: peer,
        })
    }

    fn fail(&mut self, e: Error) -> Error {
        self.state = State::Failed(e.clone());
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    const T0: Timestamp = Timestamp(0);

    fn negotiator(versions: &[u8], caps: &[u16]) -> Negotiator {
        let config = NegotiatorConfig {
            versions: versions.iter().copied().collect(),
            capabilities: caps.to_vec(),
            ..NegotiatorConfig::default()
        };
        Negotiator::new(config, T0).unwrap()
    }

    fn hello_of(n: &mut Negotiator) -> Frame {
        let config = DecoderConfig::new(1 << 20, (1..=255).collect());
        Frame::decode(n.poll_transmit().unwrap(), &config).unwrap()
    }

    #[test]
    fn highest_common_version_and_capability_intersection() {
        let mut a = negotiator(&[1, 2, 3], &[5, 1, 9]);
        let mut b = negotiator(&[2, 3, 4], &[9, 5, 7]);
        let (ha, hb) = (hello_of(&mut a), hello_of(&mut b));
        let out_a = a.handle_frame(T0, &hb).unwrap().clone();
        let out_b = b.handle_frame(T0, &ha).unwrap().clone();
        assert_eq!((out_a.version, out_b.version), (3, 3));
        assert_eq!(out_a.capabilities, vec![5, 9]);
        assert_eq!(out_a.capabilities, out_b.capabilities);
        assert_eq!(a.poll_timeout(), None);
        assert_eq!(*out_a.decoder_config().versions(), VersionSet::only(3));
    }

    #[test]
    fn no_common_version_names_both_sides() {
        let mut a = negotiator(&[3, 2], &[]);
        let mut b = negotiator(&[1], &[]);
        let err = a.handle_frame(T0, &hello_of(&mut b)).unwrap_err();
        assert_eq!(
            err,
            Error::NoCommonVersion {
                local: vec![3, 2],
                remote: vec![1]
            }
        );
        assert_eq!(
            err.to_string(),
            "no common protocol version: we support [3, 2], the peer supports [1]"
        );
        // Failure is sticky, through every entry point.
        let again = hello_of(&mut negotiator(&[3], &[]));
        assert_eq!(a.handle_frame(T0, &again), Err(err.clone()));
        assert_eq!(a.handle_timeout(T0), Err(err));
    }

    #[test]
    fn pre_negotiation_decoder_accepts_version_1_hellos() {
        // A peer that supports only version 3 still receives a version-1 Hello
        // frame and reports no_common_version rather than unknown_version.
        let config = NegotiatorConfig {
            versions: VersionSet::only(3),
            ..NegotiatorConfig::default()
        };
        let mut a = Negotiator::new(config.clone(), T0).unwrap();
        let mut b = negotiator(&[1], &[]);
        let hello = Frame::decode(b.poll_transmit().unwrap(), &config.decoder_config()).unwrap();
        assert_eq!(
            a.handle_frame(T0, &hello).unwrap_err().class(),
            "no_common_version"
        );
    }

    #[test]
    fn first_frame_must_be_a_version_1_hello() {
        let mut a = negotiator(&[1], &[]);
        let padding = Frame {
            version: 1,
            frame_type: FrameType::Padding,
            body: Bytes::new(),
        };
        let err = a.handle_frame(T0, &padding).unwrap_err();
        assert_eq!(err.class(), "unexpected_frame");
        let mut b = negotiator(&[1], &[]);
        let mut hello = hello_of(&mut negotiator(&[2, 1], &[]));
        hello.version = 2;
        assert_eq!(b.handle_frame(T0, &hello).unwrap_err().class(), "malformed");
    }

    #[test]
    fn after_done_only_a_second_hello_is_an_error() {
        let mut a = negotiator(&[1], &[]);
        let hello = hello_of(&mut negotiator(&[1], &[]));
        let outcome = a.handle_frame(T0, &hello).unwrap().clone();
        let padding = Frame {
            version: 1,
            frame_type: FrameType::Padding,
            body: Bytes::new(),
        };
        // Later frames, even past the deadline, leave the outcome alone.
        assert_eq!(a.handle_frame(Timestamp(60_000), &padding), Ok(&outcome));
        let err = a.handle_frame(T0, &hello).unwrap_err();
        assert_eq!(err.class(), "unexpected_frame");
        assert_eq!(a.outcome(), None);
    }

    #[test]
    fn deadline_is_inclusive_and_applies_to_frames() {
        let mut a = negotiator(&[1], &[]);
        let deadline = a.poll_timeout().unwrap();
        assert_eq!(deadline, Timestamp(10_000));
        a.handle_timeout(Timestamp(9_999)).unwrap();
        assert_eq!(a.handle_timeout(deadline), Err(Error::Timeout));
        assert_eq!(a.poll_timeout(), None);

        let mut late = negotiator(&[1], &[]);
        let hello = hello_of(&mut negotiator(&[1], &[]));
        assert_eq!(late.handle_frame(deadline, &hello), Err(Error::Timeout));
    }

    #[test]
    fn transmit_is_sent_once() {
        let mut a = negotiator(&[1], &[]);
        assert!(a.poll_transmit().is_some());
        assert!(a.poll_transmit().is_none());
    }
}
