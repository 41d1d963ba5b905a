//! SlotAnnounce and SlotWithdraw (`spec/20-fapp.md` §5): a therapist's
//! signed offer of free slots, and its signed withdrawal.
//!
//! ```text
//! struct {
//!     opaque signing_key[32];     // the therapist identity's Ed25519 key
//!     opaque kem_key_digest[32];  // SHA-256 of its X-Wing key
//!     opaque licence_hash[32];    // SHA-256(opaque "qpc fapp licence v1"<V> || licence)
//!     uint32 sequence;            // a higher sequence supersedes
//!     uint64 expires_ms;
//!     uint32 hold_ms;             // how long a reservation holds a slot
//!     Practice practice;
//!     Slot   slots<V>;            // at most 32, ids strictly ascending
//!     opaque signature[64];
//! } SlotAnnounce;
//!
//! struct {
//!     opaque signing_key[32];
//!     opaque kem_key_digest[32];
//!     uint32 sequence;
//!     uint64 expires_ms;          // the tombstone's lifetime
//!     opaque signature[64];
//! } SlotWithdraw;
//! ```
//!
//! The signature is Ed25519 under context `qpc sig v1 fapp announce` over
//! the message header and every field before it. The therapist's address
//! is `Address::derive(signing_key, kem_key_digest)` (`spec/02` §4): it is
//! not carried, so it cannot disagree.

use bytes::BufMut;
use qpc_crypto::identity::{self, Address, Identity, SignatureContext, SIGNATURE_LEN};
use qpc_wire::codec::{self, Reader};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::message::FappType;
use crate::model::{Practice, Slot};

/// At most this many slots in one announce.
pub const MAX_SLOTS: usize = 32;
/// The domain-separation label of the licence hash.
pub const LICENCE_LABEL: &[u8] = b"qpc fapp licence v1";

/// SHA-256(opaque "qpc fapp licence v1"<V> || licence): binds an announce
/// to a licence (Approbation) number without publishing it in clear.
pub fn licence_hash(licence: &str) -> [u8; 32] {
    let mut label = Vec::with_capacity(1 + LICENCE_LABEL.len());
    codec::put_vl_bytes(&mut label, LICENCE_LABEL).expect("short label");
    Sha256::new()
        .chain_update(label)
        .chain_update(licence.as_bytes())
        .finalize()
        .into()
}

/// A therapist's public keys as announces carry them: the Ed25519 key and
/// the digest of the X-Wing key, which together give the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TherapistKey {
    /// Ed25519 public key.
    pub signing_key: [u8; 32],
    /// SHA-256 of the X-Wing public key.
    pub kem_key_digest: [u8; 32],
}

impl TherapistKey {
    /// The key of an identity.
    pub fn of(identity: &Identity) -> Self {
        TherapistKey {
            signing_key: identity.public().signing_key().to_bytes(),
            kem_key_digest: *identity.public().kem_key_digest(),
        }
    }

    /// The therapist's address.
    pub fn address(&self) -> Address {
        Address::derive(&self.signing_key, &self.kem_key_digest)
    }

    fn decode(r: &mut Reader) -> Result<Self> {
        Ok(TherapistKey {
            signing_key: r.array()?,
            kem_key_digest: r.array()?,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.put_slice(&self.signing_key);
        out.put_slice(&self.kem_key_digest);
    }

    /// Verifies `signature` on `signed` (strict Ed25519): `invalid_public_key`
    /// or `bad_signature`.
    fn verify(&self, signed: &[u8], signature: &[u8; SIGNATURE_LEN]) -> Result<()> {
        let key = identity::parse_signing_key(&self.signing_key)?;
        Ok(identity::verify(
            &key,
            SignatureContext::FappAnnounce,
            signed,
            signature,
        )?)
    }
}

/// A therapist's signed offer of free slots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotAnnounce {
    /// Who offers.
    pub therapist: TherapistKey,
    /// The licence binding ([`licence_hash`]).
    pub licence_hash: [u8; 32],
    /// A higher sequence supersedes a lower one.
    pub sequence: u32,
    /// Unix ms after which the announce is void.
    pub expires_ms: u64,
    /// How long a reservation holds a slot, ms.
    pub hold_ms: u32,
    /// What the practice offers.
    pub practice: Practice,
    /// Free slots, ids strictly ascending.
    pub slots: Vec<Slot>,
    /// Ed25519 signature over the header and the fields above.
    pub signature: [u8; SIGNATURE_LEN],
}

impl SlotAnnounce {
    /// Signs the fields with `identity` (the key fields are the identity's).
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        identity: &Identity,
        licence_hash: [u8; 32],
        sequence: u32,
        expires_ms: u64,
        hold_ms: u32,
        practice: Practice,
        slots: Vec<Slot>,
    ) -> Result<Self> {
        let mut announce = SlotAnnounce {
            therapist: TherapistKey::of(identity),
            licence_hash,
            sequence,
            expires_ms,
            hold_ms,
            practice,
            slots,
            signature: [0; SIGNATURE_LEN],
        };
        announce.practice.validate()?;
        check_slots(&announce.slots)?;
        announce.signature = identity.sign(SignatureContext::FappAnnounce, &announce.signed()?);
        Ok(announce)
    }

    /// The signed bytes: header and every field before the signature.
    pub fn signed(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(160 + self.slots.len() * Slot::LEN);
        FappType::SlotAnnounce.put_header(&mut out);
        self.therapist.encode(&mut out);
        out.put_slice(&self.licence_hash);
        out.put_u32(self.sequence);
        out.put_u64(self.expires_ms);
        out.put_u32(self.hold_ms);
        self.practice.encode(&mut out)?;
        let mut slots = Vec::with_capacity(self.slots.len() * Slot::LEN);
        self.slots.iter().for_each(|slot| slot.encode(&mut slots));
        codec::put_vl_bytes(&mut out, &slots)?;
        Ok(out)
    }

    /// The whole message.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = self.signed()?;
        out.put_slice(&self.signature);
        Ok(out)
    }

    /// Verifies the signature; returns the therapist's address.
    pub fn verify(&self) -> Result<Address> {
        self.therapist.verify(&self.signed()?, &self.signature)?;
        Ok(self.therapist.address())
    }

    pub(crate) fn decode_body(r: &mut Reader) -> Result<Self> {
        Ok(SlotAnnounce {
            therapist: TherapistKey::decode(r)?,
            licence_hash: r.array()?,
            sequence: r.u32()?,
            expires_ms: r.u64()?,
            hold_ms: r.u32()?,
            practice: Practice::decode(r)?,
            slots: decode_slots(r)?,
            signature: r.array()?,
        })
    }
}

fn decode_slots(r: &mut Reader) -> Result<Vec<Slot>> {
    let bytes = r.vl_bytes(MAX_SLOTS * Slot::LEN)?;
    let mut inner = Reader::new(bytes);
    let mut slots = Vec::new();
    while inner.remaining() > 0 {
        slots.push(Slot::decode(&mut inner)?);
    }
    check_slots(&slots)?;
    Ok(slots)
}

fn check_slots(slots: &[Slot]) -> Result<()> {
    if slots.len() > MAX_SLOTS {
        return Err(Error::Wire(qpc_wire::Error::TooManyItems {
            max: MAX_SLOTS,
        }));
    }
    slots.iter().try_for_each(Slot::validate)?;
    if !slots.windows(2).all(|w| w[0].id < w[1].id) {
        return Err(Error::malformed("slots", "ids not strictly ascending"));
    }
    Ok(())
}

/// A therapist's signed withdrawal of every offer: supersedes announces of
/// lower sequence until `expires_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotWithdraw {
    /// Who withdraws.
    pub therapist: TherapistKey,
    /// Higher than the announces it supersedes.
    pub sequence: u32,
    /// Unix ms until which relays remember the withdrawal.
    pub expires_ms: u64,
    /// Ed25519 signature over the header and the fields above.
    pub signature: [u8; SIGNATURE_LEN],
}

impl SlotWithdraw {
    /// Encoded length, header included.
    pub const LEN: usize = 2 + 64 + 4 + 8 + SIGNATURE_LEN;

    /// Signs a withdrawal with `identity`.
    pub fn sign(identity: &Identity, sequence: u32, expires_ms: u64) -> Self {
        let mut withdraw = SlotWithdraw {
            therapist: TherapistKey::of(identity),
            sequence,
            expires_ms,
            signature: [0; SIGNATURE_LEN],
        };
        withdraw.signature = identity.sign(SignatureContext::FappAnnounce, &withdraw.signed());
        withdraw
    }

    /// The signed bytes: header and every field before the signature.
    pub fn signed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        FappType::SlotWithdraw.put_header(&mut out);
        self.therapist.encode(&mut out);
        out.put_u32(self.sequence);
        out.put_u64(self.expires_ms);
        out
    }

    /// The whole message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.signed();
        out.put_slice(&self.signature);
        out
    }

    /// Verifies the signature; returns the therapist's address.
    pub fn verify(&self) -> Result<Address> {
        self.therapist.verify(&self.signed(), &self.signature)?;
        Ok(self.therapist.address())
    }

    pub(crate) fn decode_body(r: &mut Reader) -> Result<Self> {
        Ok(SlotWithdraw {
            therapist: TherapistKey::decode(r)?,
            sequence: r.u32()?,
            expires_ms: r.u64()?,
            signature: r.array()?,
        })
    }
}
