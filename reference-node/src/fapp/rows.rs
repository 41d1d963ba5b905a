//! The FAPP rows of the node's store (`spec/30-reference-node.md` §16.4):
//! `fapp_therapist` (the therapist's durable state and profile) and
//! `fapp_cache` (one relay cache entry), as JSON.

use qpc_crypto::identity::Address;
use qpc_crypto::xwing::XWingPublicKey;
use qpc_fapp::announce::{licence_hash, SlotAnnounce};
use qpc_fapp::model::{Kinds, Slot};
use qpc_fapp::therapist::{SlotStatus, TherapistState};
use qpc_fapp::FappMessage;
use serde::{Deserialize, Serialize};

use super::request::practice;
use crate::config::{decode_hex, TherapistProfile};
use crate::error::{Error, Result};

/// The stored form of a slot's state (the `fapp_therapist` row, §16.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum StoredStatus {
    Free,
    Held {
        request_id: String,
        until_ms: u64,
        reply_address: String,
        reply_key: String,
    },
    Booked {
        request_id: String,
    },
}

/// A slot of the `fapp_therapist` row (no `deny_unknown_fields`: serde
/// does not support it with `flatten`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSlot {
    id: u32,
    start_ms: u64,
    duration_min: u16,
    kind: u8,
    #[serde(flatten)]
    status: StoredStatus,
}

/// The `fapp_therapist` row: the engine's durable state and the profile
/// the node was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredTherapist {
    profile: TherapistProfile,
    sequence: u32,
    refresh_at_ms: u64,
    slots: Vec<StoredSlot>,
}

fn stored_slot(slot: &Slot, status: &SlotStatus) -> StoredSlot {
    let status = match status {
        SlotStatus::Free => StoredStatus::Free,
        SlotStatus::Held {
            request_id,
            until_ms,
            reply_address,
            reply_key,
        } => StoredStatus::Held {
            request_id: hex::encode(request_id),
            until_ms: *until_ms,
            reply_address: hex::encode(reply_address.as_bytes()),
            reply_key: hex::encode(reply_key.to_bytes()),
        },
        SlotStatus::Booked { request_id } => StoredStatus::Booked {
            request_id: hex::encode(request_id),
        },
    };
    StoredSlot {
        id: slot.id,
        start_ms: slot.start_ms,
        duration_min: slot.duration_min,
        kind: slot.kind.bits(),
        status,
    }
}

pub(super) fn store_error(reason: &'static str) -> Error {
    Error::Store(format!(
        "the stored FAPP therapist does not decode: {reason}"
    ))
}

impl StoredTherapist {
    fn of(profile: &TherapistProfile, state: &TherapistState) -> Self {
        StoredTherapist {
            profile: profile.clone(),
            sequence: state.sequence,
            refresh_at_ms: state.refresh_at_ms,
            slots: state
                .slots
                .iter()
                .map(|(s, st)| stored_slot(s, st))
                .collect(),
        }
    }

    /// The engine state; the practice comes from `profile` (the
    /// configuration's, if it has one, else the stored one).
    fn state(&self, profile: &TherapistProfile) -> Result<TherapistState> {
        let hex16 = |h: &str| decode_hex::<16>(h, "id").map_err(|_| store_error("an id"));
        let mut slots = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            let slot = Slot {
                id: s.id,
                start_ms: s.start_ms,
                duration_min: s.duration_min,
                kind: Kinds::from_bits(s.kind)?,
            };
            let status = match &s.status {
                StoredStatus::Free => SlotStatus::Free,
                StoredStatus::Held {
                    request_id,
                    until_ms,
                    reply_address,
                    reply_key,
                } => SlotStatus::Held {
                    request_id: hex16(request_id)?,
                    until_ms: *until_ms,
                    reply_address: Address::from_bytes(hex16(reply_address)?),
                    reply_key: Box::new(XWingPublicKey::from_bytes(
                        &hex::decode(reply_key).map_err(|_| store_error("a reply key"))?,
                    )?),
                },
                StoredStatus::Booked { request_id } => SlotStatus::Booked {
                    request_id: hex16(request_id)?,
                },
            };
            slots.push((slot, status));
        }
        Ok(TherapistState {
            licence_hash: licence_hash(&profile.licence),
            practice: practice(profile)?,
            sequence: self.sequence,
            refresh_at_ms: self.refresh_at_ms,
            slots,
        })
    }
}

/// Encodes the `fapp_therapist` row of §16.4.
pub fn encode_therapist_row(profile: &TherapistProfile, state: &TherapistState) -> Result<Vec<u8>> {
    serde_json::to_vec(&StoredTherapist::of(profile, state))
        .map_err(|e| Error::Store(e.to_string()))
}

/// Decodes a `fapp_therapist` row (§16.4): its profile and the engine
/// state, the practice taken from `profile` if given (else the stored
/// profile's); `store` or the FAPP model's class for anything else.
pub fn decode_therapist_row(
    bytes: &[u8],
    profile: Option<&TherapistProfile>,
) -> Result<(TherapistProfile, TherapistState)> {
    let stored: StoredTherapist =
        serde_json::from_slice(bytes).map_err(|_| store_error("not the documented JSON"))?;
    let profile = profile.unwrap_or(&stored.profile).clone();
    let state = stored.state(&profile)?;
    Ok((profile, state))
}

/// Decodes a `fapp_cache` row (§4): sequence, expiry and announce (`None`
/// for a withdrawal).
pub fn decode_cache_row(bytes: &[u8]) -> Result<(u32, u64, Option<SlotAnnounce>)> {
    let row: CacheRow = serde_json::from_slice(bytes).map_err(|_| store_error("a cache row"))?;
    let announce = row.announce.as_deref().map(decode_announce).transpose()?;
    Ok((row.sequence, row.expires_ms, announce))
}

/// Encodes a `fapp_cache` row.
pub fn encode_cache_row(
    sequence: u32,
    expires_ms: u64,
    announce: Option<&SlotAnnounce>,
) -> Result<Vec<u8>> {
    let announce = announce
        .map(|a| FappMessage::Announce(a.clone()).encode().map(hex::encode))
        .transpose()?;
    let row = CacheRow {
        sequence,
        expires_ms,
        announce,
    };
    serde_json::to_vec(&row).map_err(|e| Error::Store(e.to_string()))
}

/// A `fapp_cache` row: one therapist's cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheRow {
    sequence: u32,
    expires_ms: u64,
    /// The SlotAnnounce message as heard (spec/20 §3, §5), hex; `None` for
    /// a withdrawal.
    announce: Option<String>,
}

fn decode_announce(hex_message: &str) -> Result<SlotAnnounce> {
    let message = hex::decode(hex_message).map_err(|_| store_error("an announce"))?;
    match FappMessage::decode(bytes::Bytes::from(message))? {
        FappMessage::Announce(a) => Ok(a),
        _ => Err(store_error("an announce")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fapp::request::tests::profile;
    use qpc_crypto::xwing::XWingSecretKey;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn the_therapist_row_round_trips_every_slot_state() {
        let mut rng = StdRng::seed_from_u64(7);
        let key = XWingSecretKey::generate(&mut rng).public_key().clone();
        let slot = |id| Slot {
            id,
            start_ms: 1_900_000_000_000 + u64::from(id),
            duration_min: 50,
            kind: Kinds::ACUTE,
        };
        let state = TherapistState {
            licence_hash: licence_hash("LANR-1"),
            practice: practice(&profile()).unwrap(),
            sequence: 41,
            refresh_at_ms: 5,
            slots: vec![
                (slot(1), SlotStatus::Free),
                (
                    slot(2),
                    SlotStatus::Held {
                        request_id: [2; 16],
                        until_ms: 9,
                        reply_address: Address::from_bytes([3; 16]),
                        reply_key: Box::new(key),
                    },
                ),
                (
                    slot(3),
                    SlotStatus::Booked {
                        request_id: [4; 16],
                    },
                ),
            ],
        };
        let row = encode_therapist_row(&profile(), &state).unwrap();
        assert_eq!(
            decode_therapist_row(&row, None).unwrap(),
            (profile(), state)
        );
        for bad in [&b"{}"[..], b"[]", br#"{"profile":1}"#, b"\xff"] {
            assert_eq!(
                decode_therapist_row(bad, None).unwrap_err().class(),
                "store"
            );
        }
    }
}
