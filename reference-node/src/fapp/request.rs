//! The fields of the FAPP control requests (`spec/30-reference-node.md`
//! §16.2, §16.3): the names of the FAPP sets, RFC 3339 times, a profile's
//! practice, slots and the query filter.

use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::Filter;
use serde::Deserialize;

use crate::config::TherapistProfile;
use crate::error::{Error, Result};

/// The names of the set members (`spec/30` §16.2).
const METHODS: &[(&str, Methods)] = &[
    ("behavioural", Methods::BEHAVIOURAL),
    ("psychodynamic", Methods::PSYCHODYNAMIC),
    ("analytic", Methods::ANALYTIC),
    ("systemic", Methods::SYSTEMIC),
];
const AGE_GROUPS: &[(&str, AgeGroups)] = &[
    ("adults", AgeGroups::ADULTS),
    ("children", AgeGroups::CHILDREN),
];
const KINDS: &[(&str, Kinds)] = &[
    ("consultation", Kinds::CONSULTATION),
    ("acute", Kinds::ACUTE),
    ("probatory", Kinds::PROBATORY),
    ("therapy", Kinds::THERAPY),
];
const MODALITIES: &[(&str, Modalities)] = &[
    ("in_person", Modalities::IN_PERSON),
    ("video", Modalities::VIDEO),
    ("phone", Modalities::PHONE),
];
const PAYERS: &[(&str, Payers)] = &[
    ("gkv", Payers::GKV),
    ("pkv", Payers::PKV),
    ("beihilfe", Payers::BEIHILFE),
    ("self_pay", Payers::SELF_PAY),
];
const FEATURES: &[(&str, Features)] = &[("wheelchair", Features::WHEELCHAIR)];

pub(super) fn malformed(what: &'static str, reason: &'static str) -> Error {
    Error::Malformed { what, reason }
}

/// The union of the named members of `table`; `malformed` for an unknown
/// name.
fn set_of<T: Copy>(
    what: &'static str,
    names: &[String],
    table: &[(&str, T)],
    none: T,
    union: fn(T, T) -> T,
) -> Result<T> {
    names.iter().try_fold(none, |set, name| {
        table
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, flag)| union(set, flag))
            .ok_or(malformed(
                what,
                "an unknown name (spec/30 §16.2 lists them)",
            ))
    })
}

pub(super) fn kind_name(kind: Kinds) -> &'static str {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("", |(n, _)| n)
}

/// Parses an RFC 3339 time into Unix ms; `malformed` otherwise.
pub fn parse_time(what: &'static str, text: &str) -> Result<u64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| malformed(what, "not an RFC 3339 time (e.g. 2026-12-03T09:00:00Z)"))?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| malformed(what, "before 1970"))
}

/// Unix ms as RFC 3339 (UTC).
pub fn format_time(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn languages(names: &[String]) -> Result<Languages> {
    let mut codes = Vec::with_capacity(names.len());
    for name in names {
        let code: [u8; 2] = name
            .as_bytes()
            .try_into()
            .map_err(|_| malformed("languages", "a code is not two letters"))?;
        codes.push(code);
    }
    Ok(Languages::new(&codes)?)
}

/// The practice a profile describes; `malformed` (or the FAPP model's
/// error) for a bad field.
pub fn practice(profile: &TherapistProfile) -> Result<Practice> {
    let plz: [u8; 5] = profile
        .plz
        .as_bytes()
        .try_into()
        .map_err(|_| malformed("plz", "not five digits"))?;
    let practice = Practice {
        plz: Plz::new(plz)?,
        methods: set_of(
            "methods",
            &profile.methods,
            METHODS,
            Methods::NONE,
            Methods::union,
        )?,
        age_groups: set_of(
            "age_groups",
            &profile.age_groups,
            AGE_GROUPS,
            AgeGroups::NONE,
            AgeGroups::union,
        )?,
        modalities: set_of(
            "modalities",
            &profile.modalities,
            MODALITIES,
            Modalities::NONE,
            Modalities::union,
        )?,
        payers: set_of(
            "payers",
            &profile.payers,
            PAYERS,
            Payers::NONE,
            Payers::union,
        )?,
        features: set_of(
            "features",
            &profile.features,
            FEATURES,
            Features::NONE,
            Features::union,
        )?,
        languages: languages(&profile.languages)?,
    };
    practice.validate()?;
    if profile.licence.is_empty() || profile.licence.len() > 64 {
        return Err(malformed("licence", "empty or longer than 64 bytes"));
    }
    Ok(practice)
}

/// One slot of a `fapp_announce` request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    /// The therapist's slot id.
    pub id: u32,
    /// The start, RFC 3339.
    pub start: String,
    /// Minutes, 1 to 480.
    pub duration_min: u16,
    /// One kind name.
    pub kind: String,
}

impl SlotSpec {
    pub(super) fn slot(&self, now: u64) -> Result<Slot> {
        let start_ms = parse_time("slot start", &self.start)?;
        if start_ms <= now {
            return Err(malformed("slot start", "not in the future"));
        }
        let kind = KINDS
            .iter()
            .find(|(n, _)| *n == self.kind)
            .map(|&(_, k)| k)
            .ok_or(malformed(
                "slot kind",
                "an unknown name (spec/30 §16.2 lists them)",
            ))?;
        let slot = Slot {
            id: self.id,
            start_ms,
            duration_min: self.duration_min,
            kind,
        };
        slot.validate()?;
        Ok(slot)
    }
}

/// The `fapp_announce` request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceSpec {
    /// Makes the node a therapist with this profile (or changes it).
    #[serde(default)]
    pub profile: Option<TherapistProfile>,
    /// Free slots to add.
    #[serde(default)]
    pub slots: Vec<SlotSpec>,
}

/// The `fapp_query` request: the filter (absent sets mean "any").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// PLZ prefix, 0 to 5 digits.
    #[serde(default)]
    pub plz_prefix: String,
    /// Methods, any of.
    pub methods: Option<Vec<String>>,
    /// Age groups, any of.
    pub age_groups: Option<Vec<String>>,
    /// Slot kinds, any of.
    pub kinds: Option<Vec<String>>,
    /// Modalities, any of.
    pub modalities: Option<Vec<String>>,
    /// Payers, any of.
    pub payers: Option<Vec<String>>,
    /// Features, all of.
    #[serde(default)]
    pub features: Vec<String>,
    /// Languages, any of (none: any).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Earliest start, RFC 3339 (default: now).
    pub earliest: Option<String>,
    /// Latest start, RFC 3339 (default: no bound).
    pub latest: Option<String>,
    /// How long responses are collected before the best slot is reserved,
    /// ms (1 to 600,000).
    pub collect_ms: Option<u64>,
    /// The pseudonymous contact the therapist gets with a reservation.
    #[serde(default)]
    pub contact: String,
}

fn any_of<T: Copy>(
    what: &'static str,
    names: &Option<Vec<String>>,
    table: &[(&str, T)],
    none: T,
    union: fn(T, T) -> T,
) -> Result<T> {
    match names {
        Some(names) => set_of(what, names, table, none, union),
        None => Ok(table.iter().fold(none, |s, &(_, f)| union(s, f))),
    }
}

impl QuerySpec {
    pub(super) fn filter(&self, now: u64) -> Result<Filter> {
        Ok(Filter {
            plz_prefix: PlzPrefix::new(self.plz_prefix.as_bytes())?,
            methods: any_of(
                "methods",
                &self.methods,
                METHODS,
                Methods::NONE,
                Methods::union,
            )?,
            age_groups: any_of(
                "age_groups",
                &self.age_groups,
                AGE_GROUPS,
                AgeGroups::NONE,
                AgeGroups::union,
            )?,
            kinds: any_of("kinds", &self.kinds, KINDS, Kinds::NONE, Kinds::union)?,
            modalities: any_of(
                "modalities",
                &self.modalities,
                MODALITIES,
                Modalities::NONE,
                Modalities::union,
            )?,
            payers: any_of("payers", &self.payers, PAYERS, Payers::NONE, Payers::union)?,
            required_features: set_of(
                "features",
                &self.features,
                FEATURES,
                Features::NONE,
                Features::union,
            )?,
            languages: languages(&self.languages)?,
            earliest_ms: match &self.earliest {
                Some(t) => parse_time("earliest", t)?,
                None => now,
            },
            latest_ms: match &self.latest {
                Some(t) => parse_time("latest", t)?,
                None => u64::MAX,
            },
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::fapp) fn profile() -> TherapistProfile {
        TherapistProfile {
            licence: "LANR-1".into(),
            plz: "10115".into(),
            methods: vec!["behavioural".into(), "systemic".into()],
            age_groups: vec!["adults".into()],
            modalities: vec!["video".into()],
            payers: vec!["gkv".into()],
            features: vec![],
            languages: vec!["de".into()],
            hold_ms: 60_000,
            auto_confirm: false,
        }
    }

    #[test]
    fn bad_profiles_slots_and_times_are_malformed() {
        let mut p = profile();
        p.methods = vec!["hypnosis".into()];
        assert_eq!(practice(&p).unwrap_err().class(), "malformed");
        let mut p = profile();
        p.plz = "1011".into();
        assert_eq!(practice(&p).unwrap_err().class(), "malformed");
        let mut p = profile();
        p.payers = vec![];
        assert!(practice(&p).is_err());
        assert_eq!(
            parse_time("t", "tomorrow").unwrap_err().class(),
            "malformed"
        );
        let ms = parse_time("t", "2026-12-03T09:00:00Z").unwrap();
        assert_eq!(format_time(ms), "2026-12-03T09:00:00Z");
        let slot = |start: &str, kind: &str| SlotSpec {
            id: 1,
            start: start.into(),
            duration_min: 50,
            kind: kind.into(),
        };
        assert!(slot("2026-12-03T09:00:00Z", "acute").slot(ms - 1).is_ok());
        assert!(slot("2026-12-03T09:00:00Z", "acute").slot(ms).is_err());
        assert!(slot("2026-12-03T09:00:00Z", "massage").slot(0).is_err());
    }
}
