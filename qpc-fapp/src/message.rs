//! The FAPP message header and registry (`spec/20-fapp.md` §3):
//!
//! ```text
//! struct {
//!     uint8 version = 1;
//!     uint8 type;          // FappType
//!     select (type) { ... } body;
//! } FappMessage;
//! ```
//!
//! A FAPP message is the body of a mesh message of type `0xc` (Fapp). The
//! header is part of what announces sign and what sealed messages
//! authenticate, so a message of one type never passes for another.

use bytes::{BufMut, Bytes};
use qpc_wire::codec::Reader;

use crate::announce::{SlotAnnounce, SlotWithdraw};
use crate::error::{Error, Result};
use crate::query::{SlotQuery, SlotResponse};
use crate::sealed::Sealed;

/// The FAPP protocol version.
pub const FAPP_VERSION: u8 = 1;

/// The registered FAPP message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FappType {
    /// A therapist's signed offer of free slots.
    SlotAnnounce = 0x01,
    /// A therapist's signed withdrawal of every offer.
    SlotWithdraw = 0x02,
    /// A patient's anonymous search.
    SlotQuery = 0x03,
    /// Matching announces for a query.
    SlotResponse = 0x04,
    /// A reservation sealed to a therapist.
    Reservation = 0x05,
    /// A therapist's answer sealed to a patient's one-time key.
    ReservationResult = 0x06,
    /// A patient's cancellation sealed to a therapist.
    Cancel = 0x07,
}

impl FappType {
    /// The type of a code point; unregistered ones are `unknown_fapp_type`.
    pub fn from_code(code: u8) -> Result<Self> {
        Ok(match code {
            0x01 => FappType::SlotAnnounce,
            0x02 => FappType::SlotWithdraw,
            0x03 => FappType::SlotQuery,
            0x04 => FappType::SlotResponse,
            0x05 => FappType::Reservation,
            0x06 => FappType::ReservationResult,
            0x07 => FappType::Cancel,
            other => return Err(Error::UnknownFappType(other)),
        })
    }

    /// The code point.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The two header bytes of a message of this type.
    pub const fn header(self) -> [u8; 2] {
        [FAPP_VERSION, self as u8]
    }

    pub(crate) fn put_header(self, out: &mut Vec<u8>) {
        out.put_slice(&self.header());
    }
}

/// Reads the header: `unknown_version`, then `unknown_fapp_type`.
pub(crate) fn read_header(r: &mut Reader) -> Result<FappType> {
    let version = r.u8()?;
    if version != FAPP_VERSION {
        return Err(Error::UnknownVersion(version));
    }
    FappType::from_code(r.u8()?)
}

/// Any FAPP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FappMessage {
    /// SlotAnnounce (0x01).
    Announce(SlotAnnounce),
    /// SlotWithdraw (0x02).
    Withdraw(SlotWithdraw),
    /// SlotQuery (0x03).
    Query(SlotQuery),
    /// SlotResponse (0x04).
    Response(SlotResponse),
    /// Reservation (0x05).
    Reservation(Sealed),
    /// ReservationResult (0x06).
    Result(Sealed),
    /// Cancel (0x07).
    Cancel(Sealed),
}

impl FappMessage {
    /// Decodes one whole message: header, body, no trailing bytes. The
    /// checks run in field order; the first that fails names the error.
    pub fn decode(bytes: Bytes) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let message = match read_header(&mut r)? {
            FappType::SlotAnnounce => FappMessage::Announce(SlotAnnounce::decode_body(&mut r)?),
            FappType::SlotWithdraw => FappMessage::Withdraw(SlotWithdraw::decode_body(&mut r)?),
            FappType::SlotQuery => FappMessage::Query(SlotQuery::decode_body(&mut r)?),
            FappType::SlotResponse => FappMessage::Response(SlotResponse::decode_body(&mut r)?),
            kind @ (FappType::Reservation | FappType::ReservationResult | FappType::Cancel) => {
                let sealed = Sealed::decode_body(kind, &mut r)?;
                match kind {
                    FappType::Reservation => FappMessage::Reservation(sealed),
                    FappType::ReservationResult => FappMessage::Result(sealed),
                    _ => FappMessage::Cancel(sealed),
                }
            }
        };
        r.finish()?;
        Ok(message)
    }

    /// The message's type.
    pub fn fapp_type(&self) -> FappType {
        match self {
            FappMessage::Announce(_) => FappType::SlotAnnounce,
            FappMessage::Withdraw(_) => FappType::SlotWithdraw,
            FappMessage::Query(_) => FappType::SlotQuery,
            FappMessage::Response(_) => FappType::SlotResponse,
            FappMessage::Reservation(_) => FappType::Reservation,
            FappMessage::Result(_) => FappType::ReservationResult,
            FappMessage::Cancel(_) => FappType::Cancel,
        }
    }

    /// The encoding, header included.
    pub fn encode(&self) -> Result<Vec<u8>> {
        match self {
            FappMessage::Announce(m) => m.encode(),
            FappMessage::Withdraw(m) => Ok(m.encode()),
            FappMessage::Query(m) => m.encode(),
            FappMessage::Response(m) => m.encode(),
            FappMessage::Reservation(m) | FappMessage::Result(m) | FappMessage::Cancel(m) => {
                Ok(m.encode(self.fapp_type()))
            }
        }
    }
}
