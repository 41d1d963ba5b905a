//! LoRa link frames (`spec/11-lora-link.md` §6.1): one PHY payload each.
//!
//! The first byte's top two bits are the kind:
//!
//! | kind | layout | length |
//! |---|---|---|
//! | `00` Whole | `0x00`, datagram | 1 + datagram |
//! | `01` Fragment | `0x40 \| last`, `tag` (u16), `index`, payload | 4 + payload |
//! | `10` Nack | `0x80 \| last`, `tag` (u16), missing-fragment bitmap | 3 + ⌈(last + 1) / 8⌉ |
//! | `11` | reserved: `unknown_link_frame` | |
//!
//! `last` (6 bits) is the index of the datagram's last fragment (1..=63:
//! 2 to 64 fragments); bit `i` of the bitmap (byte `i / 8`, value
//! `1 << (i % 8)`) says fragment `i` is missing.

use bytes::{BufMut, Bytes, BytesMut};

use crate::lora::profile::MAX_PHY_PAYLOAD;
use crate::{Error, Result};

/// The header of a whole (unfragmented) datagram.
pub const WHOLE_HEADER_LEN: usize = 1;
/// The header of a fragment.
pub const FRAGMENT_HEADER_LEN: usize = 4;
/// The most fragments of one datagram.
pub const MAX_FRAGMENTS: usize = 64;

const KIND_WHOLE: u8 = 0b00;
const KIND_FRAGMENT: u8 = 0b01;
const KIND_NACK: u8 = 0b10;

/// One fragment of a datagram.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// The sender's tag for the datagram.
    pub tag: u16,
    /// This fragment's index, 0..=`last`.
    pub index: u8,
    /// The index of the last fragment, 1..=63.
    pub last: u8,
    /// The fragment's bytes (not empty).
    pub payload: Bytes,
}

/// A receiver's request for the missing fragments of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nack {
    /// The datagram's tag.
    pub tag: u16,
    /// The index of its last fragment, 1..=63.
    pub last: u8,
    /// Bit `i` set: fragment `i` is missing (not zero, nothing above `last`).
    pub missing: u64,
}

impl Nack {
    /// The missing indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=self.last).filter(|i| self.missing >> i & 1 == 1)
    }
}

/// A decoded link frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkFrame {
    /// A datagram that fits one frame (not empty).
    Whole(Bytes),
    /// A fragment.
    Fragment(Fragment),
    /// A NACK.
    Nack(Nack),
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        message: "link frame",
        reason,
    }
}

fn check_last(last: u8) -> Result<()> {
    if last == 0 || usize::from(last) >= MAX_FRAGMENTS {
        return Err(malformed("a fragmented datagram has 2 to 64 fragments"));
    }
    Ok(())
}

fn bitmap_len(last: u8) -> usize {
    usize::from(last) / 8 + 1
}

fn check_missing(last: u8, missing: u64) -> Result<()> {
    let all = u64::MAX >> (63 - last);
    if missing == 0 || missing & !all != 0 {
        return Err(malformed(
            "a NACK names 1..=last+1 fragments, none above last",
        ));
    }
    Ok(())
}

impl LinkFrame {
    /// Decodes one PHY payload (spec §6.1–§6.3, checks L1–L8 in order).
    pub fn decode(frame: Bytes) -> Result<Self> {
        if frame.len() > MAX_PHY_PAYLOAD {
            return Err(Error::FrameTooLong {
                len: frame.len(),
                max: MAX_PHY_PAYLOAD,
            });
        }
        let Some(&first) = frame.first() else {
            return Err(qpc_wire::Error::Truncated.into());
        };
        let low = first & 0x3f;
        match first >> 6 {
            KIND_WHOLE => {
                if low != 0 {
                    return Err(malformed("reserved bits of a whole frame are set"));
                }
                if frame.len() == WHOLE_HEADER_LEN {
                    return Err(malformed("a whole frame carries a datagram"));
                }
                Ok(LinkFrame::Whole(frame.slice(WHOLE_HEADER_LEN..)))
            }
            KIND_FRAGMENT => {
                if frame.len() < FRAGMENT_HEADER_LEN {
                    return Err(qpc_wire::Error::Truncated.into());
                }
                check_last(low)?;
                let (tag, index) = (u16::from_be_bytes([frame[1], frame[2]]), frame[3]);
                if index > low {
                    return Err(malformed("fragment index above last"));
                }
                if frame.len() == FRAGMENT_HEADER_LEN {
                    return Err(malformed("a fragment carries at least one byte"));
                }
                Ok(LinkFrame::Fragment(Fragment {
                    tag,
                    index,
                    last: low,
                    payload: frame.slice(FRAGMENT_HEADER_LEN..),
                }))
            }
            KIND_NACK => {
                if frame.len() < 3 {
                    return Err(qpc_wire::Error::Truncated.into());
                }
                check_last(low)?;
                let want = 3 + bitmap_len(low);
                if frame.len() < want {
                    return Err(qpc_wire::Error::Truncated.into());
                }
                if frame.len() > want {
                    return Err(qpc_wire::Error::TrailingBytes(frame.len() - want).into());
                }
                let missing = frame[3..]
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (i, &b)| acc | u64::from(b) << (8 * i));
                check_missing(low, missing)?;
                Ok(LinkFrame::Nack(Nack {
                    tag: u16::from_be_bytes([frame[1], frame[2]]),
                    last: low,
                    missing,
                }))
            }
            kind => Err(Error::UnknownLinkFrame(kind)),
        }
    }

    /// Encodes the frame; the rules of [`LinkFrame::decode`] apply.
    pub fn to_bytes(&self) -> Result<Bytes> {
        let mut out = BytesMut::new();
        match self {
            LinkFrame::Whole(datagram) => {
                if datagram.is_empty() {
                    return Err(malformed("a whole frame carries a datagram"));
                }
                out.put_u8(KIND_WHOLE << 6);
                out.put_slice(datagram);
            }
            LinkFrame::Fragment(f) => {
                check_last(f.last)?;
                if f.index > f.last || f.payload.is_empty() {
                    return Err(malformed("fragment index above last or empty payload"));
                }
                out.put_u8(KIND_FRAGMENT << 6 | f.last);
                out.put_u16(f.tag);
                out.put_u8(f.index);
                out.put_slice(&f.payload);
            }
            LinkFrame::Nack(n) => {
                check_last(n.last)?;
                check_missing(n.last, n.missing)?;
                out.put_u8(KIND_NACK << 6 | n.last);
                out.put_u16(n.tag);
                out.put_slice(&n.missing.to_le_bytes()[..bitmap_len(n.last)]);
            }
        }
        if out.len() > MAX_PHY_PAYLOAD {
            return Err(Error::FrameTooLong {
                len: out.len(),
                max: MAX_PHY_PAYLOAD,
            });
        }
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(bytes: &[u8]) -> Result<LinkFrame> {
        LinkFrame::decode(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn layouts() {
        assert_eq!(
            decode(&[0x00, 0xaa]).unwrap(),
            LinkFrame::Whole(Bytes::from_static(&[0xaa]))
        );
        let f = decode(&[0x45, 0x12, 0x34, 0x02, 0xbb]).unwrap();
        assert_eq!(
            f,
            LinkFrame::Fragment(Fragment {
                tag: 0x1234,
                index: 2,
                last: 5,
                payload: Bytes::from_static(&[0xbb])
            })
        );
        let n = decode(&[0x89, 0x12, 0x34, 0x01, 0x02]).unwrap();
        let LinkFrame::Nack(n) = n else { panic!() };
        assert_eq!((n.last, n.missing), (9, 0x0201));
        assert_eq!(n.indices().collect::<Vec<_>>(), [0, 9]);
    }

    #[test]
    fn hostile_frames_are_refused_by_class() {
        for (bytes, class) in [
            (&[][..], "truncated"),
            (&[0x01, 0xaa], "malformed"),
            (&[0x00], "malformed"),
            (&[0xc0, 0xaa], "unknown_link_frame"),
            (&[0x41, 0x00, 0x01], "truncated"),
            (&[0x40, 0, 1, 0, 0xaa], "malformed"),
            (&[0x41, 0, 1, 2, 0xaa], "malformed"),
            (&[0x41, 0, 1, 1], "malformed"),
            (&[0x81, 0, 1], "truncated"),
            (&[0x81, 0, 1, 0], "malformed"),
            (&[0x81, 0, 1, 4], "malformed"),
            (&[0x81, 0, 1, 1, 0], "trailing_bytes"),
        ] {
            assert_eq!(decode(bytes).unwrap_err().class(), class, "{bytes:02x?}");
        }
        assert_eq!(decode(&[0; 256]).unwrap_err().class(), "frame_too_long");
    }

    fn arb_frame() -> impl Strategy<Value = LinkFrame> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 1..=254)
                .prop_map(|d| LinkFrame::Whole(d.into())),
            (
                any::<u16>(),
                1u8..=63,
                any::<u8>(),
                proptest::collection::vec(any::<u8>(), 1..=251)
            )
                .prop_map(|(tag, last, index, payload)| LinkFrame::Fragment(
                    Fragment {
                        tag,
                        index: index % (last + 1),
                        last,
                        payload: payload.into()
                    }
                )),
            (any::<u16>(), 1u8..=63, any::<u64>()).prop_map(|(tag, last, bits)| {
                let all = u64::MAX >> (63 - last);
                let missing = if bits & all == 0 { 1 } else { bits & all };
                LinkFrame::Nack(Nack { tag, last, missing })
            }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(frame in arb_frame()) {
            let bytes = frame.to_bytes().unwrap();
            prop_assert_eq!(LinkFrame::decode(bytes.clone()).unwrap(), frame);
        }

        #[test]
        fn decoded_frames_re_encode(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(frame) = decode(&bytes) {
                prop_assert_eq!(&frame.to_bytes().unwrap()[..], &bytes[..]);
            }
        }
    }
}
