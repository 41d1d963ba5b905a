//! Frames: the unit every qpc stream carries.
//!
//! ```text
//! struct {
//!     uint8  version;      // protocol version (Hello frames: always 1)
//!     uint16 frame_type;   // registered code point, see FrameType
//!     opaque body<V>;      // MLS varint length (1, 2 or 4 bytes, minimal)
//! } Frame;
//! ```
//!
//! A header is therefore 4 to 7 bytes. Receivers validate the fields in that
//! order and report the first failure: unknown version, unknown frame type,
//! reserved length prefix, non-minimal length, body over the limit.

use bytes::{BufMut, Bytes};

use crate::{varint, DecoderConfig, Error, Result};

/// Registered frame types (`spec/00-overview.md`, "Frame types").
///
/// Ranges: `0x0001..=0x00ff` wire and session control, `0x0100..=0x01ff`
/// crypto, `0x0200..=0x02ff` mesh, `0x0300..=0x03ff` FAPP,
/// `0x0400..=0x04ff` node control; `0x0000` and `0xffff` are reserved.
/// Any code point not listed here is rejected with
/// [`Error::UnknownFrameType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u16)]
pub enum FrameType {
    /// Version and capability negotiation ([`crate::Hello`]).
    Hello = 0x0001,
    /// Length hiding: the body is arbitrary and discarded by the receiver.
    Padding = 0x0002,
    /// pqXX handshake message 1 (`spec/06-pq-noise.md`).
    PqxxMessage1 = 0x0101,
    /// pqXX handshake message 2.
    PqxxMessage2 = 0x0102,
    /// pqXX handshake message 3.
    PqxxMessage3 = 0x0103,
    /// pqXX transport record, stream (ordered) mode.
    PqxxStream = 0x0104,
    /// pqXX transport record, datagram (unordered) mode.
    PqxxDatagram = 0x0105,
    /// OPAQUE `RegistrationRequest` (`spec/08-opaque.md`).
    OpaqueRegistrationRequest = 0x0110,
    /// OPAQUE `RegistrationResponse`.
    OpaqueRegistrationResponse = 0x0111,
    /// OPAQUE `RegistrationRecord` (the client's upload).
    OpaqueRegistrationRecord = 0x0112,
    /// OPAQUE `KE1` (login start).
    OpaqueKe1 = 0x0113,
    /// OPAQUE `KE2` (server response).
    OpaqueKe2 = 0x0114,
    /// OPAQUE `KE3` (client finish).
    OpaqueKe3 = 0x0115,
}

impl FrameType {
    /// Every registered frame type, by code point.
    pub const REGISTRY: &'static [FrameType] = &[
        FrameType::Hello,
        FrameType::Padding,
        FrameType::PqxxMessage1,
        FrameType::PqxxMessage2,
        FrameType::PqxxMessage3,
        FrameType::PqxxStream,
        FrameType::PqxxDatagram,
        FrameType::OpaqueRegistrationRequest,
        FrameType::OpaqueRegistrationResponse,
        FrameType::OpaqueRegistrationRecord,
        FrameType::OpaqueKe1,
        FrameType::OpaqueKe2,
        FrameType::OpaqueKe3,
    ];

    /// The 16-bit code point.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The registered type for `code`, if any.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::REGISTRY.iter().copied().find(|t| t.code() == code)
    }

    /// The name used in the spec's registry table.
    pub const fn name(self) -> &'static str {
        match self {
            FrameType::Hello => "Hello",
            FrameType::Padding => "Padding",
            FrameType::PqxxMessage1 => "PqxxMessage1",
            FrameType::PqxxMessage2 => "PqxxMessage2",
            FrameType::PqxxMessage3 => "PqxxMessage3",
            FrameType::PqxxStream => "PqxxStream",
            FrameType::PqxxDatagram => "PqxxDatagram",
            FrameType::OpaqueRegistrationRequest => "OpaqueRegistrationRequest",
            FrameType::OpaqueRegistrationResponse => "OpaqueRegistrationResponse",
            FrameType::OpaqueRegistrationRecord => "OpaqueRegistrationRecord",
            FrameType::OpaqueKe1 => "OpaqueKe1",
            FrameType::OpaqueKe2 => "OpaqueKe2",
            FrameType::OpaqueKe3 => "OpaqueKe3",
        }
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Protocol version of the frame.
    pub version: u8,
    /// Registered frame type.
    pub frame_type: FrameType,
    /// Length of the body that follows the header.
    pub body_len: u32,
}

impl FrameHeader {
    /// The shortest header: version, type and a one-byte length.
    pub const MIN_LEN: usize = 4;
    /// The longest header: version, type and a four-byte length.
    pub const MAX_LEN: usize = 3 + varint::MAX_LEN;

    /// Parses a header from the front of `input`.
    ///
    /// Returns `Ok(None)` if `input` is a valid but incomplete prefix of a
    /// header, and `Ok(Some((header, header_len)))` once it is complete. Each
    /// field is checked as soon as its bytes are present, so hostile input is
    /// rejected early.
    pub fn parse(input: &[u8], config: &DecoderConfig) -> Result<Option<(Self, usize)>> {
        let Some(&version) = input.first() else {
            return Ok(None);
        };
        if !config.versions().contains(version) {
            return Err(Error::UnknownVersion(version));
        }
        let Some(code) = input.get(1..3) else {
            return Ok(None);
        };
        let code = u16::from_be_bytes([code[0], code[1]]);
        let frame_type = FrameType::from_code(code).ok_or(Error::UnknownFrameType(code))?;
        let Some((body_len, len_len)) = varint::decode(&input[3..])? else {
            return Ok(None);
        };
        if body_len > config.max_body_len() {
            return Err(Error::FrameTooLarge {
                len: body_len,
                max: config.max_body_len(),
            });
        }
        let header = FrameHeader {
            version,
            frame_type,
            body_len,
        };
        Ok(Some((header, 3 + len_len)))
    }

    /// The encoded size of this header.
    pub fn encoded_len(&self) -> usize {
        3 + varint::encoded_len(self.body_len)
    }

    /// Appends the header. Version 0 is reserved and refused.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<()> {
        if self.version == 0 {
            return Err(Error::UnknownVersion(0));
        }
        if self.body_len > varint::MAX {
            return Err(Error::ValueTooLarge(self.body_len.into()));
        }
        out.put_u8(self.version);
        out.put_u16(self.frame_type.code());
        varint::encode(self.body_len, out)
    }
}

/// A complete frame. `body` is a slice of the received buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Protocol version of the frame.
    pub version: u8,
    /// Registered frame type.
    pub frame_type: FrameType,
    /// The frame body.
    pub body: Bytes,
}

impl Frame {
    /// Decodes exactly one frame that fills all of `bytes` (datagram-style
    /// input). The body is a slice of `bytes`, not a copy.
    pub fn decode(mut bytes: Bytes, config: &DecoderConfig) -> Result<Self> {
        let (header, header_len) = FrameHeader::parse(&bytes, config)?.ok_or(Error::Truncated)?;
        let total = header_len + header.body_len as usize;
        if bytes.len() < total {
            return Err(Error::Truncated);
        }
        if bytes.len() > total {
            return Err(Error::TrailingBytes(bytes.len() - total));
        }
        Ok(Frame {
            version: header.version,
            frame_type: header.frame_type,
            body: bytes.split_off(header_len),
        })
    }

    /// The header describing this frame (fails if the body is too long for
    /// any frame).
    pub fn header(&self) -> Result<FrameHeader> {
        let body_len = u32::try_from(self.body.len())
            .ok()
            .filter(|&len| len <= varint::MAX)
            .ok_or(Error::ValueTooLarge(self.body.len() as u64))?;
        Ok(FrameHeader {
            version: self.version,
            frame_type: self.frame_type,
            body_len,
        })
    }

    /// Appends the encoded frame.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<()> {
        self.header()?.encode(out)?;
        out.put_slice(&self.body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn config() -> DecoderConfig {
        DecoderConfig::default()
    }

    #[test]
    fn registry_codes_are_unique_and_named() {
        for (i, t) in FrameType::REGISTRY.iter().enumerate() {
            assert_eq!(FrameType::from_code(t.code()), Some(*t));
            assert!(FrameType::REGISTRY[..i]
                .iter()
                .all(|u| u.code() != t.code()));
            assert!(!t.name().is_empty());
        }
        assert_eq!(FrameType::from_code(0), None);
        assert_eq!(FrameType::from_code(0xffff), None);
    }

    #[test]
    fn header_fields_checked_in_order() {
        let c = config();
        assert_eq!(FrameHeader::parse(&[], &c), Ok(None));
        assert_eq!(FrameHeader::parse(&[9], &c), Err(Error::UnknownVersion(9)));
        assert_eq!(FrameHeader::parse(&[1, 0], &c), Ok(None));
        assert_eq!(
            FrameHeader::parse(&[1, 0, 0], &c),
            Err(Error::UnknownFrameType(0))
        );
        assert_eq!(FrameHeader::parse(&[1, 0, 2], &c), Ok(None));
        assert_eq!(
            FrameHeader::parse(&[1, 0, 2, 0xc0], &c),
            Err(Error::InvalidLengthPrefix(0xc0))
        );
        assert_eq!(FrameHeader::parse(&[1, 0, 2, 0x40], &c), Ok(None));
    }

    #[test]
    fn one_shot_decode_is_exact() {
        let c = config();
        let frame = Bytes::from_static(&[1, 0, 2, 2, 0xaa, 0xbb]);
        let decoded = Frame::decode(frame.clone(), &c).unwrap();
        assert_eq!(decoded.body, Bytes::from_static(&[0xaa, 0xbb]));
        assert_eq!(decoded.body.as_ptr(), frame[4..].as_ptr());
        assert_eq!(Frame::decode(frame.slice(..5), &c), Err(Error::Truncated));
        let mut long = frame.to_vec();
        long.push(0);
        assert_eq!(Frame::decode(long.into(), &c), Err(Error::TrailingBytes(1)));
    }

    proptest! {
        #[test]
        fn frame_round_trip(body in proptest::collection::vec(any::<u8>(), 0..70_000), hello: bool) {
            let frame_type = if hello { FrameType::Hello } else { FrameType::Padding };
            let frame = Frame { version: 1, frame_type, body: body.into() };
            let mut out = Vec::new();
            frame.encode(&mut out).unwrap();
            prop_assert_eq!(out.len(), frame.header().unwrap().encoded_len() + frame.body.len());
            prop_assert_eq!(Frame::decode(out.into(), &config()).unwrap(), frame);
        }
    }
}
