//! The six OPAQUE messages (`spec/08-opaque.md` §4): fixed-length byte
//! strings for qpc's suites, each carried alone in a qpc-wire frame of its
//! own type. Decoding checks the frame and the length; the group elements
//! inside are validated by the state machine that consumes the message.

use bytes::Bytes;
use qpc_wire::{DecoderConfig, Frame, FrameType};

use crate::Error;

/// The longest OPAQUE message body (KE2); a frame announcing a longer body
/// is refused with `frame_too_large` before its body is looked at.
pub const MAX_MESSAGE_LEN: usize = Ke2::LEN;

/// The one decoder configuration for OPAQUE frames: protocol version 1,
/// bodies up to [`MAX_MESSAGE_LEN`].
fn frame_config() -> DecoderConfig {
    DecoderConfig::with_max_body_len(MAX_MESSAGE_LEN as u32)
}

macro_rules! opaque_message {
    ($(#[$doc:meta])* $name:ident, $len:expr, $frame:ident, $what:literal, [$($element:expr),*]) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The encoded length in bytes.
            pub const LEN: usize = $len;
            /// The frame type that carries it.
            pub const FRAME_TYPE: FrameType = FrameType::$frame;

            /// Parses the message body: exactly [`Self::LEN`] bytes, else
            /// [`Error::WrongLength`].
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
                crate::error::fixed($what, bytes).map(Self)
            }

            /// Offsets of the ristretto255 elements inside the body.
            pub const ELEMENTS: &'static [usize] = &[$($element),*];

            /// Checks that every group element in the message decodes to a
            /// non-identity ristretto255 point ([`Error::InvalidElement`]).
            /// The state machines check this too; decoders that stop
            /// earlier can call it.
            pub fn validate(&self) -> Result<(), Error> {
                validate_elements($what, &self.0, Self::ELEMENTS)
            }

            /// The message body.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// The message in its qpc-wire frame (version 1).
            pub fn to_frame(&self) -> Vec<u8> {
                encode_frame(Self::FRAME_TYPE, &self.0)
            }

            /// Parses a frame holding exactly this message.
            pub fn from_frame(frame: &[u8]) -> Result<Self, Error> {
                Self::from_bytes(&decode_frame(Self::FRAME_TYPE, frame)?)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), $len)
            }
        }
    };
}

opaque_message!(
    /// `RegistrationRequest`: the blinded element (RFC 9807 §5.1.1).
    RegistrationRequest, 32, OpaqueRegistrationRequest, "RegistrationRequest", [0]
);
opaque_message!(
    /// `RegistrationResponse`: evaluated element and server public key.
    RegistrationResponse, 64, OpaqueRegistrationResponse, "RegistrationResponse", [0, 32]
);
opaque_message!(
    /// `RegistrationRecord` (the client's upload): client public key,
    /// masking key, envelope.
    RegistrationRecord, 192, OpaqueRegistrationRecord, "RegistrationRecord", [0]
);
opaque_message!(
    /// `KE1`: blinded element, client nonce, client ephemeral public key.
    Ke1, 96, OpaqueKe1, "KE1", [0, 64]
);
opaque_message!(
    /// `KE2`: evaluated element, masking nonce, masked response, server
    /// nonce, server ephemeral public key, server MAC.
    Ke2, 320, OpaqueKe2, "KE2", [0, 224]
);
opaque_message!(
    /// `KE3`: the client MAC.
    Ke3, 64, OpaqueKe3, "KE3", []
);

/// Checks the 32-byte elements of `body` at `offsets`.
fn validate_elements(what: &'static str, body: &[u8], offsets: &[usize]) -> Result<(), Error> {
    for &offset in offsets {
        opaque_ke::keypair::PublicKey::<opaque_ke::Ristretto255>::deserialize(
            &body[offset..offset + 32],
        )
        .map_err(|_| Error::InvalidElement(what))?;
    }
    Ok(())
}

/// Wraps `body` in a version-1 frame of `frame_type`.
fn encode_frame(frame_type: FrameType, body: &[u8]) -> Vec<u8> {
    let frame = Frame {
        version: qpc_wire::version::V1,
        frame_type,
        body: Bytes::copy_from_slice(body),
    };
    let mut out = Vec::with_capacity(body.len() + 4);
    frame
        .encode(&mut out)
        .expect("an OPAQUE body always fits a frame");
    out
}

/// Decodes one frame filling `frame` and checks its type.
fn decode_frame(expected: FrameType, frame: &[u8]) -> Result<Bytes, Error> {
    let frame = Frame::decode(Bytes::copy_from_slice(frame), &frame_config())?;
    if frame.frame_type != expected {
        return Err(qpc_wire::Error::UnexpectedFrame {
            frame_type: frame.frame_type.code(),
            state: expected.name(),
        }
        .into());
    }
    Ok(frame.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    macro_rules! round_trip {
        ($test:ident, $ty:ident) => {
            proptest! {
                #[test]
                fn $test(body in proptest::collection::vec(any::<u8>(), $ty::LEN..=$ty::LEN)) {
                    let message = $ty::from_bytes(&body).unwrap();
                    prop_assert_eq!(&message.as_bytes()[..], &body[..]);
                    let frame = message.to_frame();
                    prop_assert_eq!($ty::from_frame(&frame).unwrap(), message.clone());
                    // Any other length is refused, framed or not.
                    prop_assert_eq!($ty::from_bytes(&body[1..]).unwrap_err().class(), "wrong_length");
                    let mut long = body.clone();
                    long.push(0);
                    prop_assert_eq!($ty::from_bytes(&long).unwrap_err().class(), "wrong_length");
                    let oversized = if $ty::LEN == MAX_MESSAGE_LEN { "frame_too_large" } else { "wrong_length" };
                    prop_assert_eq!(
                        $ty::from_frame(&encode_frame($ty::FRAME_TYPE, &long)).unwrap_err().class(),
                        oversized
                    );
                    // A truncated or extended frame is refused by the frame layer.
                    prop_assert_eq!($ty::from_frame(&frame[..frame.len() - 1]).unwrap_err().class(), "truncated");
                    let mut trailing = frame.clone();
                    trailing.push(0);
                    prop_assert_eq!($ty::from_frame(&trailing).unwrap_err().class(), "trailing_bytes");
                }
            }
        };
    }

    round_trip!(registration_request_round_trip, RegistrationRequest);
    round_trip!(registration_response_round_trip, RegistrationResponse);
    round_trip!(registration_record_round_trip, RegistrationRecord);
    round_trip!(ke1_round_trip, Ke1);
    round_trip!(ke2_round_trip, Ke2);
    round_trip!(ke3_round_trip, Ke3);

    /// The frame table of spec/08 §4.2: headers and total lengths.
    #[test]
    fn spec_frame_table() {
        fn header(frame: Vec<u8>, body_len: usize) -> (Vec<u8>, usize) {
            (frame[..frame.len() - body_len].to_vec(), frame.len())
        }
        let cases = [
            (
                header(RegistrationRequest([1; 32]).to_frame(), 32),
                "01011020",
                36,
            ),
            (
                header(RegistrationResponse([1; 64]).to_frame(), 64),
                "0101114040",
                69,
            ),
            (
                header(RegistrationRecord([1; 192]).to_frame(), 192),
                "01011240c0",
                197,
            ),
            (header(Ke1([1; 96]).to_frame(), 96), "0101134060", 101),
            (header(Ke2([1; 320]).to_frame(), 320), "0101144140", 325),
            (header(Ke3([1; 64]).to_frame(), 64), "0101154040", 69),
        ];
        for ((got, len), want, want_len) in cases {
            let hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!((hex.as_str(), len), (want, want_len));
        }
    }

    #[test]
    fn identity_elements_are_refused() {
        assert_eq!(
            Ke1([0; 96]).validate().unwrap_err().class(),
            "invalid_element"
        );
        assert_eq!(
            Ke2([0; 320]).validate().unwrap_err().class(),
            "invalid_element"
        );
        assert!(Ke3([0; 64]).validate().is_ok(), "KE3 holds no element");
    }

    #[test]
    fn wrong_frame_type_is_unexpected() {
        let ke3 = Ke3::from_bytes(&[7; 64]).unwrap();
        let err = Ke2::from_frame(&ke3.to_frame()).unwrap_err();
        assert_eq!(err.class(), "unexpected_frame");
    }

    proptest! {
        #[test]
        fn hostile_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Ke1::from_frame(&bytes);
            let _ = Ke2::from_frame(&bytes);
            let _ = Ke3::from_frame(&bytes);
            let _ = RegistrationRequest::from_frame(&bytes);
            let _ = RegistrationResponse::from_frame(&bytes);
            let _ = RegistrationRecord::from_frame(&bytes);
        }
    }
}
