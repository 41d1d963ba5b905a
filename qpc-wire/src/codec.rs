//! The TLS presentation language (RFC 8446 §3) with MLS variable-length
//! vector headers (RFC 9420 §2.1.2), decoded strictly and without copying.
//!
//! - `uint8`, `uint16`, `uint32`, `uint64`: big-endian, no alignment;
//! - `opaque data<V>` and `T items<V>`: a [`varint`](crate::varint) byte
//!   length, then exactly that many bytes; a vector's elements must fill its
//!   byte length exactly (an element that would cross the end is an error);
//! - a message decoded with [`decode_exact`] must use every input byte.
//!
//! Why not `tls_codec` (which DESIGN.md suggests and OpenMLS uses)? Version
//! 0.4.2 is unfit for hostile input, as `tests/tls_codec_fitness.rs` shows:
//! its vector decoder reads elements past a vector's declared length, it
//! `debug_assert!`s (so panics in debug builds) on the reserved `0b11` length
//! prefix, it folds non-minimal lengths, over-long vectors and the reserved
//! prefix into one error, and its `SerializeBytes` allocates a `Vec` per field. This module is
//! the strict, allocation-free subset qpc needs.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use qpc_wire::codec::{self, Reader};
//!
//! let mut out = BytesMut::new();
//! codec::put_vl_bytes(&mut out, b"abc").unwrap();
//! out.extend_from_slice(&7u16.to_be_bytes());
//!
//! let mut r = Reader::new(out.freeze());
//! assert_eq!(r.vl_bytes(16).unwrap(), Bytes::from_static(b"abc"));
//! assert_eq!(r.u16().unwrap(), 7);
//! r.finish().unwrap();
//! ```

use alloc::vec::Vec;
use bytes::{Buf, BufMut, Bytes};

use crate::{varint, Error, Result};

/// A value with a TLS-presentation encoding.
pub trait Encode {
    /// The exact number of bytes [`Encode::encode`] writes.
    fn encoded_len(&self) -> usize;
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut impl BufMut) -> Result<()>;
}

/// A value that can be decoded from a [`Reader`].
pub trait Decode: Sized {
    /// Reads one value from the front of `r`.
    fn decode(r: &mut Reader) -> Result<Self>;
}

/// A cursor over received bytes. Byte fields are returned as [`Bytes`]
/// slices of the input, never copied.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    /// A reader over `buf`.
    pub fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Succeeds only if every byte was read.
    pub fn finish(self) -> Result<()> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(Error::TrailingBytes(n)),
        }
    }

    fn need(&self, n: usize) -> Result<()> {
        if self.buf.len() < n {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Reads a `uint8`.
    pub fn u8(&mut self) -> Result<u8> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    /// Reads a `uint16`.
    pub fn u16(&mut self) -> Result<u16> {
        self.need(2)?;
        Ok(self.buf.get_u16())
    }

    /// Reads a `uint32`.
    pub fn u32(&mut self) -> Result<u32> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    /// Reads a `uint64`.
    pub fn u64(&mut self) -> Result<u64> {
        self.need(8)?;
        Ok(self.buf.get_u64())
    }

    /// Reads an MLS variable-length integer.
    pub fn varint(&mut self) -> Result<u32> {
        match varint::decode(&self.buf)? {
            Some((value, len)) => {
                self.buf.advance(len);
                Ok(value)
            }
            None => Err(Error::Truncated),
        }
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<Bytes> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    /// Reads `N` bytes into an array (keys, hashes, ids).
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.need(N)?;
        let mut out = [0; N];
        self.buf.copy_to_slice(&mut out);
        Ok(out)
    }

    /// Reads `opaque data<V>` of at most `max` bytes.
    pub fn vl_bytes(&mut self, max: usize) -> Result<Bytes> {
        let len = self.varint()? as usize;
        if len > max {
            return Err(Error::TooManyItems { max });
        }
        self.bytes(len)
    }

    /// Reads `T items<V>` with at most `max_items` elements. The elements
    /// must fill the vector's byte length exactly.
    pub fn vl_vec<T: Decode>(&mut self, max_items: usize) -> Result<Vec<T>> {
        let len = self.varint()? as usize;
        let mut inner = Reader::new(self.bytes(len)?);
        let mut items = Vec::new();
        while inner.remaining() > 0 {
            if items.len() == max_items {
                return Err(Error::TooManyItems { max: max_items });
            }
            items.push(T::decode(&mut inner)?);
        }
        Ok(items)
    }
}

/// Decodes a whole message: every byte of `bytes` must be used.
pub fn decode_exact<T: Decode>(bytes: Bytes) -> Result<T> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Encodes `value` into a fresh buffer of exactly the right size.
pub fn encode_to_vec<T: Encode + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(value.encoded_len());
    value.encode(&mut out)?;
    Ok(out)
}

/// Appends `opaque data<V>`.
pub fn put_vl_bytes(out: &mut impl BufMut, data: &[u8]) -> Result<()> {
    varint::encode(vl_len(data.len())?, out)?;
    out.put_slice(data);
    Ok(())
}

/// Appends `T items<V>`.
pub fn put_vl_vec<T: Encode>(out: &mut impl BufMut, items: &[T]) -> Result<()> {
    let body: usize = items.iter().map(Encode::encoded_len).sum();
    varint::encode(vl_len(body)?, out)?;
    items.iter().try_for_each(|item| item.encode(out))
}

/// The encoded size of `opaque data<V>` holding `len` bytes.
pub fn vl_encoded_len(len: usize) -> usize {
    varint::encoded_len(u32::try_from(len).unwrap_or(u32::MAX)) + len
}

/// The encoded size of `T items<V>`.
pub fn vl_vec_encoded_len<T: Encode>(items: &[T]) -> usize {
    vl_encoded_len(items.iter().map(Encode::encoded_len).sum())
}

fn vl_len(len: usize) -> Result<u32> {
    u32::try_from(len)
        .ok()
        .filter(|&l| l <= varint::MAX)
        .ok_or(Error::ValueTooLarge(len as u64))
}

macro_rules! uint_codec {
    ($($t:ty => $get:ident, $put:ident;)*) => {$(
        impl Encode for $t {
            fn encoded_len(&self) -> usize {
                core::mem::size_of::<$t>()
            }
            fn encode(&self, out: &mut impl BufMut) -> Result<()> {
                out.$put(*self);
                Ok(())
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader) -> Result<Self> {
                r.$get()
            }
        }
    )*};
}

uint_codec! {
    u8 => u8, put_u8;
    u16 => u16, put_u16;
    u32 => u32, put_u32;
    u64 => u64, put_u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vector_elements_must_fill_the_length() {
        // uint16 items<V> announcing 3 bytes: the second element would cross
        // the vector's end, which tls_codec 0.4.2 accepts and qpc rejects.
        let bytes = Bytes::from_static(&[0x03, 0x00, 0x01, 0x00, 0x02]);
        let mut r = Reader::new(bytes);
        assert_eq!(r.vl_vec::<u16>(8), Err(Error::Truncated));
    }

    #[test]
    fn vector_item_bound() {
        let bytes = Bytes::from_static(&[0x03, 1, 2, 3]);
        assert_eq!(
            Reader::new(bytes.clone()).vl_vec::<u8>(2),
            Err(Error::TooManyItems { max: 2 })
        );
        assert_eq!(Reader::new(bytes).vl_vec::<u8>(3).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn bytes_are_not_copied() {
        let input = Bytes::from(alloc::vec![0x02, 0xaa, 0xbb]);
        let field = Reader::new(input.clone()).vl_bytes(2).unwrap();
        assert_eq!(field.as_ptr(), input[1..].as_ptr());
    }

    proptest! {
        #[test]
        fn vl_bytes_round_trip(data in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            let mut out = Vec::new();
            put_vl_bytes(&mut out, &data).unwrap();
            prop_assert_eq!(out.len(), vl_encoded_len(data.len()));
            let mut r = Reader::new(out.into());
            prop_assert_eq!(&r.vl_bytes(data.len()).unwrap()[..], &data[..]);
            r.finish().unwrap();
        }

        #[test]
        fn vl_vec_round_trip(items in proptest::collection::vec(any::<u64>(), 0..100)) {
            let mut out = Vec::new();
            put_vl_vec(&mut out, &items).unwrap();
            prop_assert_eq!(out.len(), vl_vec_encoded_len(&items));
            let decoded: Vec<u64> = Reader::new(out.into()).vl_vec(100).unwrap();
            prop_assert_eq!(decoded, items);
        }

        #[test]
        fn uints_round_trip(a: u8, b: u16, c: u32, d: u64) {
            let mut out = Vec::new();
            a.encode(&mut out).unwrap();
            b.encode(&mut out).unwrap();
            c.encode(&mut out).unwrap();
            d.encode(&mut out).unwrap();
            prop_assert_eq!(out.len(), 15);
            let mut r = Reader::new(out.into());
            prop_assert_eq!((r.u8()?, r.u16()?, r.u32()?, r.u64()?), (a, b, c, d));
            r.finish().unwrap();
        }

        #[test]
        fn hostile_vectors_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Reader::new(data.clone().into()).vl_vec::<u16>(8);
            let _ = Reader::new(data.into()).vl_bytes(32);
        }
    }
}
