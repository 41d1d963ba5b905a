//! Why qpc-wire's codec is not built on `tls_codec` 0.4.2 (the version
//! OpenMLS uses): these tests pin the behaviours that make it unfit for
//! hostile input, beside qpc's own strict behaviour on the same bytes.
//! If a future tls_codec fixes them, these tests fail and the choice can be
//! revisited.

use bytes::Bytes;
use qpc_wire::codec::Reader;
use qpc_wire::Error;
use tls_codec::DeserializeBytes;

#[test]
fn vector_elements_may_cross_the_declared_length() {
    // `uint16 items<V>` declaring 3 bytes, then two more bytes.
    let bytes = [0x03, 0x00, 0x01, 0x00, 0x02];
    let (items, rest) = Vec::<u16>::tls_deserialize_bytes(&bytes).unwrap();
    // tls_codec reads the second element across the vector's end.
    assert_eq!(items, [1, 2]);
    assert!(rest.is_empty());
    // qpc rejects it.
    let strict = Reader::new(Bytes::copy_from_slice(&bytes)).vl_vec::<u16>(8);
    assert_eq!(strict, Err(Error::Truncated));
}

#[test]
fn reserved_length_prefix_panics_in_debug_builds() {
    let outcome = std::panic::catch_unwind(|| Vec::<u8>::tls_deserialize_bytes(&[0xc0]).is_err());
    if cfg!(debug_assertions) {
        assert!(
            outcome.is_err(),
            "tls_codec debug_assert!s on the 0b11 prefix"
        );
    } else {
        assert_eq!(outcome.ok(), Some(true));
    }
    let strict = Reader::new(Bytes::from_static(&[0xc0])).vl_bytes(8);
    assert_eq!(strict, Err(Error::InvalidLengthPrefix(0xc0)));
}

#[test]
fn non_minimal_lengths_get_the_generic_vector_error() {
    // The same `InvalidVectorLength` also covers over-long vectors and (in
    // release builds) the reserved prefix; qpc names each case.
    let non_minimal = Vec::<u8>::tls_deserialize_bytes(&[0x40, 0x01, 0xaa]).unwrap_err();
    assert_eq!(non_minimal, tls_codec::Error::InvalidVectorLength);
    let strict = Reader::new(Bytes::from_static(&[0x40, 0x01, 0xaa])).vl_bytes(8);
    assert_eq!(strict.unwrap_err().class(), "non_minimal_length");
}
