//! Reservation, ReservationResult and Cancel (`spec/20-fapp.md` §7): HPKE
//! (X-Wing, `spec/03`) messages of one fixed length per type.
//!
//! ```text
//! struct {
//!     opaque recipient[16];     // therapist address, or the patient's reply address
//!     opaque enc[1120];         // X-Wing ciphertext
//!     opaque ciphertext[N];     // N = 1360 (Reservation) or 48 (the others)
//! } Sealed;
//!
//! ciphertext = HPKE.Seal(pk, info, aad = header || recipient, Pad(plaintext))
//!
//! struct {                      // info "qpc fapp reservation v1", padded to 1344
//!     opaque request_id[16];
//!     uint32 slot_id;
//!     uint64 created_ms;
//!     opaque reply_address[16];
//!     opaque reply_key[1216];   // fresh one-time X-Wing public key
//!     opaque contact<V>;        // pseudonymous contact, UTF-8, at most 64 bytes
//! } ReservationRequest;
//!
//! struct {                      // info "qpc fapp result v1", padded to 32
//!     opaque request_id[16];
//!     uint32 slot_id;
//!     uint8  status;            // 1 confirmed, 2 declined, 3 expired
//! } ResultNotice;
//!
//! struct {                      // info "qpc fapp cancel v1", padded to 32
//!     opaque request_id[16];
//!     uint32 slot_id;
//! } CancelNotice;
//! ```
//!
//! Padding is `spec/04`'s bucket scheme with one bucket per type, so every
//! message of a type has the same length whatever the contact.

use bytes::{BufMut, Bytes};
use qpc_crypto::hpke::{self, ENC_LEN, TAG_LEN};
use qpc_crypto::identity::Address;
use qpc_crypto::padding::{self, Padding};
use qpc_crypto::xwing::{self, XWingPublicKey, XWingSecretKey};
use qpc_wire::codec::{self, Reader};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::message::FappType;

/// The padded length of a reservation plaintext.
pub const RESERVATION_PADDED_LEN: usize = 1344;
/// The padded length of a result or cancel plaintext.
pub const NOTICE_PADDED_LEN: usize = 32;
/// The longest pseudonymous contact, bytes.
pub const MAX_CONTACT_LEN: usize = 64;
/// A reservation's random id, shared by patient and therapist only.
pub type RequestId = [u8; 16];

const RESERVATION_BUCKET: &[usize] = &[RESERVATION_PADDED_LEN];
const NOTICE_BUCKET: &[usize] = &[NOTICE_PADDED_LEN];

/// Which sealed message type: fixes the info label, padding and length.
fn scheme(kind: FappType) -> (&'static [u8], Padding) {
    match kind {
        FappType::Reservation => (
            b"qpc fapp reservation v1",
            Padding::Buckets(RESERVATION_BUCKET),
        ),
        FappType::ReservationResult => (b"qpc fapp result v1", Padding::Buckets(NOTICE_BUCKET)),
        _ => (b"qpc fapp cancel v1", Padding::Buckets(NOTICE_BUCKET)),
    }
}

/// The ciphertext length of a sealed message type.
pub fn ciphertext_len(kind: FappType) -> usize {
    match kind {
        FappType::Reservation => RESERVATION_PADDED_LEN + TAG_LEN,
        _ => NOTICE_PADDED_LEN + TAG_LEN,
    }
}

/// A sealed FAPP message (Reservation, ReservationResult or Cancel; the
/// enclosing [`FappMessage`](crate::FappMessage) variant says which).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sealed {
    /// Who can open it.
    pub recipient: Address,
    /// The X-Wing encapsulation.
    pub enc: Box<[u8; ENC_LEN]>,
    /// The AEAD ciphertext, of [`ciphertext_len`] bytes.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// Seals `plaintext` (padded here) to `key` with encapsulation
    /// randomness `eseed`.
    pub fn seal_derand(
        kind: FappType,
        recipient: Address,
        key: &XWingPublicKey,
        plaintext: &[u8],
        eseed: &[u8; xwing::ENCAPS_RANDOMNESS_LEN],
    ) -> Result<Self> {
        let (info, padding) = scheme(kind);
        let padded = Zeroizing::new(padding::pad(padding, plaintext)?);
        let (enc, ciphertext) =
            hpke::seal_derand(key, info, &aad(kind, &recipient), &padded, eseed)?;
        Ok(Sealed {
            recipient,
            enc: Box::new(enc),
            ciphertext,
        })
    }

    /// Seals with fresh randomness from `rng`.
    pub fn seal(
        kind: FappType,
        recipient: Address,
        key: &XWingPublicKey,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut eseed = Zeroizing::new([0; xwing::ENCAPS_RANDOMNESS_LEN]);
        rng.fill_bytes(&mut *eseed);
        Sealed::seal_derand(kind, recipient, key, plaintext, &eseed)
    }

    /// Opens with the recipient's secret key: `wrong_recipient` if
    /// `recipient` is not `own`, then `open_failed`, then `bad_padding`.
    pub fn open(
        &self,
        kind: FappType,
        own: &Address,
        key: &XWingSecretKey,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if &self.recipient != own {
            return Err(Error::WrongRecipient);
        }
        let (info, padding) = scheme(kind);
        let padded = hpke::open(
            key,
            &self.enc[..],
            info,
            &aad(kind, &self.recipient),
            &self.ciphertext,
        )?;
        Ok(Zeroizing::new(padding::unpad(padding, &padded)?.to_vec()))
    }

    /// The whole message of type `kind`.
    pub fn encode(&self, kind: FappType) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 16 + ENC_LEN + self.ciphertext.len());
        kind.put_header(&mut out);
        out.put_slice(self.recipient.as_bytes());
        out.put_slice(&self.enc[..]);
        out.put_slice(&self.ciphertext);
        out
    }

    pub(crate) fn decode_body(kind: FappType, r: &mut Reader) -> Result<Self> {
        Ok(Sealed {
            recipient: Address::from_bytes(r.array()?),
            enc: Box::new(r.array()?),
            ciphertext: r.bytes(ciphertext_len(kind))?.to_vec(),
        })
    }
}

/// The associated data: the message header and the recipient.
fn aad(kind: FappType, recipient: &Address) -> [u8; 18] {
    let mut out = [0; 18];
    out[..2].copy_from_slice(&kind.header());
    out[2..].copy_from_slice(recipient.as_bytes());
    out
}

/// What a patient asks a therapist for, inside a Reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    /// Random id of this reservation.
    pub request_id: RequestId,
    /// The slot asked for.
    pub slot_id: u32,
    /// When the patient made it, Unix ms (the therapist's replay window).
    pub created_ms: u64,
    /// Where the result goes (a fresh random mesh address).
    pub reply_address: Address,
    /// The one-time key the result is sealed to.
    pub reply_key: XWingPublicKey,
    /// A pseudonymous contact the practice can reach, at most 64 bytes.
    pub contact: String,
}

impl ReservationRequest {
    /// The plaintext (before padding).
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.contact.len() > MAX_CONTACT_LEN {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: MAX_CONTACT_LEN,
            }));
        }
        let mut out = Vec::with_capacity(RESERVATION_PADDED_LEN);
        out.put_slice(&self.request_id);
        out.put_u32(self.slot_id);
        out.put_u64(self.created_ms);
        out.put_slice(self.reply_address.as_bytes());
        out.put_slice(&self.reply_key.to_bytes());
        codec::put_vl_bytes(&mut out, self.contact.as_bytes())?;
        Ok(out)
    }

    /// Decodes an unpadded plaintext; the reply key must pass X-Wing's
    /// checks (`invalid_public_key`), the contact must be UTF-8.
    pub fn decode(plaintext: &[u8]) -> Result<Self> {
        let mut r = Reader::new(Bytes::copy_from_slice(plaintext));
        let request_id = r.array()?;
        let slot_id = r.u32()?;
        let created_ms = r.u64()?;
        let reply_address = Address::from_bytes(r.array()?);
        let reply_key = XWingPublicKey::from_bytes(&r.bytes(xwing::PUBLIC_KEY_LEN)?)?;
        let contact = String::from_utf8(r.vl_bytes(MAX_CONTACT_LEN)?.to_vec())
            .map_err(|_| Error::malformed("reservation", "contact is not UTF-8"))?;
        r.finish()?;
        Ok(ReservationRequest {
            request_id,
            slot_id,
            created_ms,
            reply_address,
            reply_key,
            contact,
        })
    }
}

/// A therapist's answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The slot is booked for the patient.
    Confirmed = 1,
    /// The slot is not available (or the practice said no).
    Declined = 2,
    /// The hold ran out before the practice decided.
    Expired = 3,
}

impl Status {
    fn from_code(code: u8) -> Result<Self> {
        match code {
            1 => Ok(Status::Confirmed),
            2 => Ok(Status::Declined),
            3 => Ok(Status::Expired),
            _ => Err(Error::malformed("result", "unknown status")),
        }
    }

    /// The spec's name of the status.
    pub fn name(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Declined => "declined",
            Status::Expired => "expired",
        }
    }
}

/// The plaintext of a ReservationResult (`status` present) or a Cancel
/// (`status` absent): the request and the slot it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notice {
    /// The reservation concerned.
    pub request_id: RequestId,
    /// Its slot.
    pub slot_id: u32,
    /// The answer, in a ReservationResult only.
    pub status: Option<Status>,
}

impl Notice {
    /// The plaintext (before padding).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(NOTICE_PADDED_LEN);
        out.put_slice(&self.request_id);
        out.put_u32(self.slot_id);
        if let Some(status) = self.status {
            out.put_u8(status as u8);
        }
        out
    }

    /// Decodes the plaintext of a ReservationResult or a Cancel.
    pub fn decode(kind: FappType, plaintext: &[u8]) -> Result<Self> {
        let mut r = Reader::new(Bytes::copy_from_slice(plaintext));
        let request_id = r.array()?;
        let slot_id = r.u32()?;
        let status = match kind {
            FappType::ReservationResult => Some(Status::from_code(r.u8()?)?),
            _ => None,
        };
        r.finish()?;
        Ok(Notice {
            request_id,
            slot_id,
            status,
        })
    }
}
