//! MLS variable-length integers (RFC 9420 §2.1.2).
//!
//! The two most significant bits of the first byte give the length of the
//! encoding: `00` one byte (6-bit value), `01` two bytes (14 bits), `10` four
//! bytes (30 bits); `11` is reserved and rejected. The value is big-endian in
//! the remaining bits. qpc, like MLS, requires the minimal encoding.

use bytes::BufMut;

use crate::{Error, Result};

/// The largest encodable value, 2^30 - 1.
pub const MAX: u32 = (1 << 30) - 1;

/// The longest encoding, in bytes.
pub const MAX_LEN: usize = 4;

/// The number of bytes of the minimal encoding of `value` (1, 2 or 4).
pub const fn encoded_len(value: u32) -> usize {
    if value < 1 << 6 {
        1
    } else if value < 1 << 14 {
        2
    } else {
        4
    }
}

/// The encoding length announced by a first byte, or the reserved-prefix error.
pub fn len_from_first_byte(first: u8) -> Result<usize> {
    match first >> 6 {
        0 => Ok(1),
        1 => Ok(2),
        2 => Ok(4),
        _ => Err(Error::InvalidLengthPrefix(first)),
    }
}

/// Appends the minimal encoding of `value`.
///
/// Fails with [`Error::ValueTooLarge`] above [`MAX`].
pub fn encode(value: u32, out: &mut impl BufMut) -> Result<()> {
    match encoded_len(value) {
        _ if value > MAX => return Err(Error::ValueTooLarge(value.into())),
        1 => out.put_u8(value as u8),
        2 => out.put_u16(value as u16 | 0x4000),
        _ => out.put_u32(value | 0x8000_0000),
    }
    Ok(())
}

/// Decodes a varint from the front of `input`.
///
/// Returns `Ok(None)` when `input` holds only part of a valid encoding (the
/// caller should wait for more bytes), otherwise the value and the number of
/// bytes it used. A reserved prefix is reported as soon as the first byte is
/// seen; a non-minimal encoding once it is complete.
pub fn decode(input: &[u8]) -> Result<Option<(u32, usize)>> {
    let Some(&first) = input.first() else {
        return Ok(None);
    };
    let len = len_from_first_byte(first)?;
    let Some(bytes) = input.get(..len) else {
        return Ok(None);
    };
    let value = bytes[1..]
        .iter()
        .fold(u32::from(first & 0x3f), |acc, &b| (acc << 8) | u32::from(b));
    let minimal = encoded_len(value);
    if minimal != len {
        return Err(Error::NonMinimalLength {
            value,
            used: len as u8,
            minimal: minimal as u8,
        });
    }
    Ok(Some((value, len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn rfc9420_examples() {
        // RFC 9420 §2.1.2 worked examples (taken from RFC 9000 §A.1).
        assert_eq!(decode(&[0x25]).unwrap(), Some((37, 1)));
        assert_eq!(decode(&[0x7b, 0xbd]).unwrap(), Some((15293, 2)));
        assert_eq!(
            decode(&[0x9d, 0x7f, 0x3e, 0x7d]).unwrap(),
            Some((494_878_333, 4))
        );
        // RFC 9420 states that 0x4025 (37 in two bytes) is invalid in MLS.
        assert_eq!(
            decode(&[0x40, 0x25]),
            Err(Error::NonMinimalLength {
                value: 37,
                used: 2,
                minimal: 1
            })
        );
    }

    #[test]
    fn boundaries() {
        for (value, len) in [(0, 1), (63, 1), (64, 2), (16383, 2), (16384, 4), (MAX, 4)] {
            let mut out = Vec::new();
            encode(value, &mut out).unwrap();
            assert_eq!(out.len(), len, "value {value}");
            assert_eq!(decode(&out).unwrap(), Some((value, len)));
        }
        assert_eq!(
            encode(MAX + 1, &mut Vec::new()),
            Err(Error::ValueTooLarge(u64::from(MAX) + 1))
        );
        assert_eq!(decode(&[0xc0]), Err(Error::InvalidLengthPrefix(0xc0)));
        assert_eq!(decode(&[0x80, 0, 0]).unwrap(), None);
    }

    proptest! {
        #[test]
        fn round_trip(value in 0..=MAX) {
            let mut out = Vec::new();
            encode(value, &mut out).unwrap();
            prop_assert_eq!(decode(&out).unwrap(), Some((value, out.len())));
            for cut in 0..out.len() {
                prop_assert_eq!(decode(&out[..cut]).unwrap(), None);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..6)) {
            let _ = decode(&bytes);
        }
    }
}
