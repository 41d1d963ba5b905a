//! `fapp.json`: vectors for `spec/20-fapp.md` — the licence hash, every
//! message built from its fields (announces and withdrawals signed with
//! fixed keys), decoding and refusals, signature checks, sealed messages
//! with fixed randomness and their refusals, and transcripts of the
//! therapist, relay and patient engines.

use bytes::Bytes;
use qpc_crypto::identity::Identity;
use qpc_crypto::xwing::XWingSecretKey;
use qpc_fapp::announce::{licence_hash, SlotAnnounce, SlotWithdraw};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::{AnnounceRef, Filter, SlotQuery, SlotResponse};
use qpc_fapp::sealed::Sealed;
use qpc_fapp::{FappMessage, FappType};
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, HexBytes, Vector};

mod generate;
mod transcript;

pub use generate::generate;
pub use transcript::{
    PatientInput, PatientStep, RelayInput, RelayStep, TherapistInput, TherapistStep, TranscriptStep,
};

/// The `protocol` field of `fapp.json`.
pub const PROTOCOL: &str = "qpc-fapp";

/// One vector of `fapp.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FappVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: FappCase,
}

/// An identity given by its two seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedsJson {
    /// Ed25519 seed.
    pub signing_seed: HexBytes,
    /// X-Wing seed.
    pub kem_seed: HexBytes,
}

impl SeedsJson {
    /// The identity.
    pub fn identity(&self) -> Result<Identity, String> {
        Ok(Identity::from_seeds(
            &seed(&self.signing_seed)?,
            &seed(&self.kem_seed)?,
        ))
    }
}

fn seed(bytes: &HexBytes) -> Result<[u8; 32], String> {
    bytes.0[..]
        .try_into()
        .map_err(|_| "a 32-byte seed".to_owned())
}

/// An X-Wing secret key from a 32-byte seed.
pub fn kem_key(bytes: &HexBytes) -> Result<XWingSecretKey, String> {
    Ok(XWingSecretKey::from_seed(&seed(bytes)?))
}

/// A practice (`spec/20` §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeJson {
    /// Five digits.
    pub plz: String,
    /// Methods bits.
    pub methods: u8,
    /// Age group bits.
    pub age_groups: u8,
    /// Modality bits.
    pub modalities: u8,
    /// Payer bits.
    pub payers: u8,
    /// Feature bits.
    pub features: u8,
    /// ISO 639-1 codes, ascending.
    pub languages: Vec<String>,
}

fn languages(codes: &[String]) -> Result<Languages, String> {
    let codes: Vec<[u8; 2]> = codes
        .iter()
        .map(|c| c.as_bytes().try_into().map_err(|_| format!("code {c:?}")))
        .collect::<Result<_, _>>()?;
    Languages::new(&codes).map_err(|e| e.to_string())
}

fn language_names(languages: &Languages) -> Vec<String> {
    languages
        .codes()
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

impl PracticeJson {
    /// The JSON form of a practice.
    pub fn of(p: &Practice) -> Self {
        PracticeJson {
            plz: String::from_utf8_lossy(p.plz.as_bytes()).into_owned(),
            methods: p.methods.bits(),
            age_groups: p.age_groups.bits(),
            modalities: p.modalities.bits(),
            payers: p.payers.bits(),
            features: p.features.bits(),
            languages: language_names(&p.languages),
        }
    }

    /// The practice.
    pub fn practice(&self) -> Result<Practice, String> {
        let e = |e: qpc_fapp::Error| e.to_string();
        let plz: [u8; 5] = self
            .plz
            .as_bytes()
            .try_into()
            .map_err(|_| "plz".to_owned())?;
        Ok(Practice {
            plz: Plz::new(plz).map_err(e)?,
            methods: Methods::from_bits(self.methods).map_err(e)?,
            age_groups: AgeGroups::from_bits(self.age_groups).map_err(e)?,
            modalities: Modalities::from_bits(self.modalities).map_err(e)?,
            payers: Payers::from_bits(self.payers).map_err(e)?,
            features: Features::from_bits(self.features).map_err(e)?,
            languages: languages(&self.languages)?,
        })
    }
}

/// A slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotJson {
    /// Slot id.
    pub id: u32,
    /// Start, Unix ms.
    pub start_ms: u64,
    /// Minutes.
    pub duration_min: u16,
    /// One Kinds bit.
    pub kind: u8,
}

impl SlotJson {
    /// The JSON form of a slot.
    pub fn of(s: &Slot) -> Self {
        SlotJson {
            id: s.id,
            start_ms: s.start_ms,
            duration_min: s.duration_min,
            kind: s.kind.bits(),
        }
    }

    /// The slot.
    pub fn slot(&self) -> Result<Slot, String> {
        Ok(Slot {
            id: self.id,
            start_ms: self.start_ms,
            duration_min: self.duration_min,
            kind: Kinds::from_bits(self.kind).map_err(|e| e.to_string())?,
        })
    }
}

/// A query's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryJson {
    /// Query id.
    pub query_id: HexBytes,
    /// Hop limit.
    pub hop_limit: u8,
    /// PLZ prefix digits.
    pub plz_prefix: String,
    /// Methods bits.
    pub methods: u8,
    /// Age group bits.
    pub age_groups: u8,
    /// Kinds bits.
    pub kinds: u8,
    /// Modality bits.
    pub modalities: u8,
    /// Payer bits.
    pub payers: u8,
    /// Required feature bits.
    pub required_features: u8,
    /// Language codes.
    pub languages: Vec<String>,
    /// Window start.
    pub earliest_ms: u64,
    /// Window end.
    pub latest_ms: u64,
    /// Announces wanted.
    pub max_results: u8,
}

impl QueryJson {
    /// The JSON form of a query.
    pub fn of(q: &SlotQuery) -> Self {
        let f = &q.filter;
        QueryJson {
            query_id: HexBytes(q.query_id.to_vec()),
            hop_limit: q.hop_limit,
            plz_prefix: String::from_utf8_lossy(f.plz_prefix.as_bytes()).into_owned(),
            methods: f.methods.bits(),
            age_groups: f.age_groups.bits(),
            kinds: f.kinds.bits(),
            modalities: f.modalities.bits(),
            payers: f.payers.bits(),
            required_features: f.required_features.bits(),
            languages: language_names(&f.languages),
            earliest_ms: f.earliest_ms,
            latest_ms: f.latest_ms,
            max_results: q.max_results,
        }
    }

    /// The query.
    pub fn query(&self) -> Result<SlotQuery, String> {
        let e = |e: qpc_fapp::Error| e.to_string();
        Ok(SlotQuery {
            query_id: self.query_id.0[..].try_into().map_err(|_| "16-byte id")?,
            hop_limit: self.hop_limit,
            filter: Filter {
                plz_prefix: PlzPrefix::new(self.plz_prefix.as_bytes()).map_err(e)?,
                methods: Methods::from_bits(self.methods).map_err(e)?,
                age_groups: AgeGroups::from_bits(self.age_groups).map_err(e)?,
                kinds: Kinds::from_bits(self.kinds).map_err(e)?,
                modalities: Modalities::from_bits(self.modalities).map_err(e)?,
                payers: Payers::from_bits(self.payers).map_err(e)?,
                required_features: Features::from_bits(self.required_features).map_err(e)?,
                languages: languages(&self.languages)?,
                earliest_ms: self.earliest_ms,
                latest_ms: self.latest_ms,
            },
            max_results: self.max_results,
        })
    }
}

/// A further-match reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefJson {
    /// Therapist address.
    #[serde(with = "hex::serde")]
    pub therapist: [u8; 16],
    /// Sequence.
    pub sequence: u32,
}

/// The fields of a ReservationRequest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestJson {
    /// Request id.
    pub request_id: HexBytes,
    /// Slot id.
    pub slot_id: u32,
    /// Creation time.
    pub created_ms: u64,
    /// Reply address.
    pub reply_address: HexBytes,
    /// Seed of the one-time reply key (the key is its X-Wing public key).
    pub reply_kem_seed: HexBytes,
    /// Contact.
    pub contact: String,
}

/// The kinds of FAPP vector (`spec/20-fapp.md` §14).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FappCase {
    /// SHA-256 of the labelled licence number.
    LicenceHash {
        /// The licence number.
        licence: String,
        /// The hash.
        hash: HexBytes,
    },
    /// A SlotAnnounce signed by `therapist`.
    Announce {
        /// The therapist.
        therapist: SeedsJson,
        /// The licence number.
        licence: String,
        /// Sequence.
        sequence: u32,
        /// Expiry.
        expires_ms: u64,
        /// Hold time.
        hold_ms: u32,
        /// The practice.
        practice: PracticeJson,
        /// The slots.
        slots: Vec<SlotJson>,
        /// The therapist's address.
        address: HexBytes,
        /// The message.
        message: HexBytes,
    },
    /// A SlotWithdraw signed by `therapist`.
    Withdraw {
        /// The therapist.
        therapist: SeedsJson,
        /// Sequence.
        sequence: u32,
        /// Expiry.
        expires_ms: u64,
        /// The therapist's address.
        address: HexBytes,
        /// The message.
        message: HexBytes,
    },
    /// A SlotQuery.
    Query {
        /// The fields.
        query: QueryJson,
        /// The message.
        message: HexBytes,
    },
    /// A SlotResponse.
    Response {
        /// Query id.
        query_id: HexBytes,
        /// Whole announce messages.
        announces: Vec<HexBytes>,
        /// Further matches.
        more: Vec<RefJson>,
        /// The message.
        message: HexBytes,
    },
    /// Decoding any message.
    Decode {
        /// The bytes.
        message: HexBytes,
        /// The type code (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fapp_type: Option<u8>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Verifying an announce or withdrawal.
    Verify {
        /// The message.
        message: HexBytes,
        /// The therapist address (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Sealing a plaintext with encapsulation randomness `eseed`.
    Seal {
        /// 5, 6 or 7.
        fapp_type: u8,
        /// Recipient address.
        recipient: HexBytes,
        /// Seed of the recipient's X-Wing key.
        recipient_kem_seed: HexBytes,
        /// The unpadded plaintext.
        plaintext: HexBytes,
        /// For reservations, the plaintext's fields.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<RequestJson>,
        /// 64 bytes of encapsulation randomness.
        eseed: HexBytes,
        /// The message.
        message: HexBytes,
    },
    /// Opening a sealed message as `own_address` with `kem_seed`.
    Open {
        /// 5, 6 or 7.
        fapp_type: u8,
        /// The receiver's address.
        own_address: HexBytes,
        /// The receiver's X-Wing seed.
        kem_seed: HexBytes,
        /// The message.
        message: HexBytes,
        /// The unpadded plaintext (positive vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plaintext: Option<HexBytes>,
        /// The error class (negative vectors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A therapist engine transcript (`spec/20` §9).
    TherapistTranscript {
        /// The therapist.
        therapist: SeedsJson,
        /// The licence number.
        licence: String,
        /// The practice.
        practice: PracticeJson,
        /// Hold time, ms.
        hold_ms: u32,
        /// Announce lifetime, ms.
        announce_lifetime_ms: u64,
        /// Replay window, ms.
        replay_window_ms: u64,
        /// Replay capacity.
        replay_capacity: usize,
        /// Seed of the RNG that seals results (opaque to other
        /// implementations, which open the results instead).
        rng_seed: u8,
        /// The reply keys of the transcript's reservations, to open results.
        replies: Vec<ReplyJson>,
        /// The steps.
        steps: Vec<TherapistStep>,
    },
    /// A relay engine transcript (`spec/20` §11).
    RelayTranscript {
        /// The configuration.
        config: transcript::RelayConfigJson,
        /// The steps.
        steps: Vec<RelayStep>,
    },
    /// A patient engine transcript (`spec/20` §10).
    PatientTranscript {
        /// Collection time, ms.
        collect_ms: u64,
        /// Result grace, ms.
        result_grace_ms: u64,
        /// Candidates kept.
        max_candidates: usize,
        /// Contact.
        contact: String,
        /// The search filter (the query id comes from the RNG).
        filter: QueryJson,
        /// The therapists whose identities the patient learns.
        therapists: Vec<SeedsJson>,
        /// Seed of the patient's RNG (opaque to other implementations).
        rng_seed: u8,
        /// Start time.
        now: u64,
        /// The query broadcast at the start.
        query: HexBytes,
        /// The steps.
        steps: Vec<PatientStep>,
    },
}

/// A reply address and its key's seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyJson {
    /// Reply address.
    pub address: HexBytes,
    /// X-Wing seed of the reply key.
    pub kem_seed: HexBytes,
}

fn decode(bytes: &HexBytes) -> qpc_fapp::Result<FappMessage> {
    FappMessage::decode(Bytes::copy_from_slice(&bytes.0))
}

fn encoded(m: &FappMessage) -> Result<Vec<u8>, String> {
    m.encode().map_err(|e| e.to_string())
}

fn check_built(built: &FappMessage, message: &HexBytes) -> Result<(), String> {
    expect_eq("message", encoded(built)?, message.0.clone())?;
    let decoded = decode(message).map_err(|e| e.to_string())?;
    expect_eq("decoded", &decoded, built)
}

fn sealed_kind(code: u8) -> Result<FappType, String> {
    match FappType::from_code(code).map_err(|e| e.to_string())? {
        kind @ (FappType::Reservation | FappType::ReservationResult | FappType::Cancel) => Ok(kind),
        _ => Err(format!("type {code} is not sealed")),
    }
}

fn sealed_of(kind: FappType, message: &HexBytes) -> qpc_fapp::Result<Sealed> {
    match (kind, decode(message)?) {
        (FappType::Reservation, FappMessage::Reservation(s))
        | (FappType::ReservationResult, FappMessage::Result(s))
        | (FappType::Cancel, FappMessage::Cancel(s)) => Ok(s),
        _ => Err(qpc_fapp::Error::WrongState("another message type")),
    }
}

fn address16(bytes: &HexBytes) -> Result<qpc_crypto::identity::Address, String> {
    let a: [u8; 16] = bytes.0[..].try_into().map_err(|_| "16-byte address")?;
    Ok(qpc_crypto::identity::Address::from_bytes(a))
}

impl Vector for FappVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            FappCase::LicenceHash { licence, hash } => {
                expect_eq("hash", &licence_hash(licence)[..], &hash.0[..])
            }
            FappCase::Announce {
                therapist,
                licence,
                sequence,
                expires_ms,
                hold_ms,
                practice,
                slots,
                address,
                message,
            } => {
                let identity = therapist.identity()?;
                let slots = slots.iter().map(SlotJson::slot).collect::<Result<_, _>>()?;
                let announce = SlotAnnounce::sign(
                    &identity,
                    licence_hash(licence),
                    *sequence,
                    *expires_ms,
                    *hold_ms,
                    practice.practice()?,
                    slots,
                )
                .map_err(|e| e.to_string())?;
                let got = announce.verify().map_err(|e| e.to_string())?;
                expect_eq("address", &got.as_bytes()[..], &address.0[..])?;
                check_built(&FappMessage::Announce(announce), message)
            }
            FappCase::Withdraw {
                therapist,
                sequence,
                expires_ms,
                address,
                message,
            } => {
                let withdraw = SlotWithdraw::sign(&therapist.identity()?, *sequence, *expires_ms);
                let got = withdraw.verify().map_err(|e| e.to_string())?;
                expect_eq("address", &got.as_bytes()[..], &address.0[..])?;
                check_built(&FappMessage::Withdraw(withdraw), message)
            }
            FappCase::Query { query, message } => {
                check_built(&FappMessage::Query(query.query()?), message)
            }
            FappCase::Response {
                query_id,
                announces,
                more,
                message,
            } => {
                let announces = announces
                    .iter()
                    .map(|a| match decode(a) {
                        Ok(FappMessage::Announce(a)) => Ok(a),
                        other => Err(format!("not an announce: {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
                let response = SlotResponse {
                    query_id: query_id.0[..].try_into().map_err(|_| "16-byte id")?,
                    announces,
                    more: more
                        .iter()
                        .map(|r| AnnounceRef {
                            therapist: qpc_crypto::identity::Address::from_bytes(r.therapist),
                            sequence: r.sequence,
                        })
                        .collect(),
                };
                check_built(&FappMessage::Response(response), message)
            }
            FappCase::Decode {
                message,
                fapp_type,
                expected_error,
            } => match (fapp_type, expected_error) {
                (Some(code), None) => {
                    let m = decode(message).map_err(|e| e.to_string())?;
                    expect_eq("type", m.fapp_type().code(), *code)?;
                    expect_eq("re-encoding", encoded(&m)?, message.0.clone())
                }
                (None, Some(class)) => expect_error(class, decode(message)),
                _ => Err("exactly one of fapp_type and expected_error".into()),
            },
            FappCase::Verify {
                message,
                address,
                expected_error,
            } => {
                let verified = decode(message).and_then(|m| match m {
                    FappMessage::Announce(a) => a.verify(),
                    FappMessage::Withdraw(w) => w.verify(),
                    _ => Err(qpc_fapp::Error::WrongState("not signed")),
                });
                match (address, expected_error) {
                    (Some(address), None) => {
                        let got = verified.map_err(|e| e.to_string())?;
                        expect_eq("address", &got.as_bytes()[..], &address.0[..])
                    }
                    (None, Some(class)) => expect_error(class, verified),
                    _ => Err("exactly one of address and expected_error".into()),
                }
            }
            FappCase::Seal {
                fapp_type,
                recipient,
                recipient_kem_seed,
                plaintext,
                request,
                eseed,
                message,
            } => {
                let kind = sealed_kind(*fapp_type)?;
                if let Some(request) = request {
                    expect_eq(
                        "plaintext",
                        transcript::request_plaintext(request)?,
                        plaintext.0.clone(),
                    )?;
                }
                let key = kem_key(recipient_kem_seed)?;
                let eseed: [u8; 64] = eseed.0[..].try_into().map_err(|_| "64-byte eseed")?;
                let sealed = Sealed::seal_derand(
                    kind,
                    address16(recipient)?,
                    key.public_key(),
                    &plaintext.0,
                    &eseed,
                )
                .map_err(|e| e.to_string())?;
                expect_eq("message", sealed.encode(kind), message.0.clone())
            }
            FappCase::Open {
                fapp_type,
                own_address,
                kem_seed,
                message,
                plaintext,
                expected_error,
            } => {
                let kind = sealed_kind(*fapp_type)?;
                let key = kem_key(kem_seed)?;
                let own = address16(own_address)?;
                let opened = sealed_of(kind, message)
                    .and_then(|s| s.open(kind, &own, &key))
                    .map(|p| p.to_vec());
                match (plaintext, expected_error) {
                    (Some(p), None) => {
                        expect_eq("plaintext", opened.map_err(|e| e.to_string())?, p.0.clone())
                    }
                    (None, Some(class)) => expect_error(class, opened),
                    _ => Err("exactly one of plaintext and expected_error".into()),
                }
            }
            FappCase::TherapistTranscript { .. } => transcript::check_therapist(&self.case),
            FappCase::RelayTranscript { config, steps } => transcript::check_relay(config, steps),
            FappCase::PatientTranscript { .. } => transcript::check_patient(&self.case),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_sound_and_covers_every_kind_and_class() {
        let file = crate::assert_sound_generation::<FappVector>(generate);
        let mut kinds = std::collections::BTreeSet::new();
        let mut classes = std::collections::BTreeSet::new();
        for v in &file.vectors {
            let value = serde_json::to_value(v).expect("serialises");
            kinds.insert(value["kind"].as_str().expect("kind").to_owned());
            let steps = value["steps"].as_array().cloned().unwrap_or_default();
            for error in std::iter::once(&value).chain(&steps) {
                if let Some(class) = error["expected_error"].as_str() {
                    classes.insert(class.to_owned());
                }
            }
        }
        assert_eq!(kinds.len(), 12, "{kinds:?}");
        for class in [
            "bad_expiry",
            "bad_padding",
            "bad_signature",
            "invalid_public_key",
            "malformed",
            "non_minimal_length",
            "open_failed",
            "rate_limited",
            "replayed",
            "stale",
            "too_many_items",
            "trailing_bytes",
            "truncated",
            "unknown_fapp_type",
            "unknown_version",
            "wrong_recipient",
            "wrong_state",
        ] {
            assert!(classes.contains(class), "no vector of class {class}");
        }
    }
}
