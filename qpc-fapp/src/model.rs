//! The FAPP domain model (`spec/20-fapp.md` §2): what a practice offers and
//! what a slot is, with their canonical encodings.
//!
//! ```text
//! Methods (Fachrichtung)   bit 0 Verhaltenstherapie, 1 tiefenpsychologisch
//!                          fundiert, 2 analytisch, 3 systemisch
//! AgeGroups                bit 0 adults, 1 children and adolescents
//! Kinds (Terminart)        bit 0 Sprechstunde, 1 Akutbehandlung,
//!                          2 probatorische Sitzung, 3 Therapieplatz
//! Modalities               bit 0 Praxis, 1 Video, 2 Telefon
//! Payers (Kostenträger)    bit 0 GKV, 1 PKV, 2 Beihilfe, 3 Selbstzahler
//! Features                 bit 0 wheelchair access
//! Plz                      opaque plz[5], ASCII digits
//! Languages                opaque languages<V>: 1..8 ISO 639-1 codes
//!                          ([a-z]{2}), strictly ascending
//! Slot                     uint32 id, uint64 start_ms, uint16
//!                          duration_min (1..=480), uint8 kind (one Kinds bit)
//! ```

use bytes::BufMut;
use qpc_wire::codec::{self, Reader};

use crate::error::{Error, Result};

macro_rules! flags {
    ($(#[$doc:meta])* $name:ident, $what:literal {
        $($(#[$flag_doc:meta])* $flag:ident = $bit:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u8);

        impl $name {
            $($(#[$flag_doc])* pub const $flag: $name = $name(1 << $bit);)+
            /// Every defined flag.
            pub const ALL: $name = $name(0 $(| 1 << $bit)+);
            /// No flag.
            pub const NONE: $name = $name(0);

            /// The set from its byte; a reserved bit is `malformed`.
            pub fn from_bits(bits: u8) -> Result<Self> {
                if bits & !Self::ALL.0 != 0 {
                    return Err(Error::malformed($what, "reserved bit set"));
                }
                Ok($name(bits))
            }

            /// The set from its byte, which must not be empty.
            pub fn from_bits_nonempty(bits: u8) -> Result<Self> {
                match Self::from_bits(bits)? {
                    set if set.is_empty() => Err(Error::malformed($what, "empty set")),
                    set => Ok(set),
                }
            }

            /// The byte.
            pub const fn bits(self) -> u8 {
                self.0
            }

            /// Whether the sets share a flag.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// Whether every flag of `other` is in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The union of both sets.
            pub const fn union(self, other: Self) -> Self {
                $name(self.0 | other.0)
            }
        }
    };
}

flags!(
    /// Fachrichtung: the psychotherapy methods a practice offers.
    Methods, "methods" {
        /// Verhaltenstherapie.
        BEHAVIOURAL = 0,
        /// Tiefenpsychologisch fundierte Psychotherapie.
        PSYCHODYNAMIC = 1,
        /// Analytische Psychotherapie.
        ANALYTIC = 2,
        /// Systemische Therapie.
        SYSTEMIC = 3,
    }
);

flags!(
    /// Who a practice treats.
    AgeGroups, "age groups" {
        /// Adults.
        ADULTS = 0,
        /// Children and adolescents.
        CHILDREN = 1,
    }
);

flags!(
    /// Terminart: kinds of appointment. A slot has exactly one; a query asks
    /// for any of a set.
    Kinds, "kinds" {
        /// Psychotherapeutische Sprechstunde.
        CONSULTATION = 0,
        /// Akutbehandlung.
        ACUTE = 1,
        /// Probatorische Sitzung.
        PROBATORY = 2,
        /// Therapieplatz (ongoing therapy).
        THERAPY = 3,
    }
);

flags!(
    /// Modalität: how sessions take place.
    Modalities, "modalities" {
        /// In the practice.
        IN_PERSON = 0,
        /// Video.
        VIDEO = 1,
        /// Telephone.
        PHONE = 2,
    }
);

flags!(
    /// Kostenträger: who pays.
    Payers, "payers" {
        /// Gesetzliche Krankenversicherung.
        GKV = 0,
        /// Private Krankenversicherung.
        PKV = 1,
        /// Beihilfe.
        BEIHILFE = 2,
        /// Selbstzahler.
        SELF_PAY = 3,
    }
);

flags!(
    /// Accessibility features of a practice.
    Features, "features" {
        /// Wheelchair access.
        WHEELCHAIR = 0,
    }
);

/// A German postal code: exactly five ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Plz([u8; 5]);

impl Plz {
    /// Length of a PLZ.
    pub const LEN: usize = 5;

    /// A PLZ from its digits; anything but five ASCII digits is `malformed`.
    pub fn new(digits: [u8; 5]) -> Result<Self> {
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(Plz(digits))
        } else {
            Err(Error::malformed("plz", "not five ASCII digits"))
        }
    }

    /// The digits.
    pub fn as_bytes(&self) -> &[u8; 5] {
        &self.0
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self> {
        Plz::new(r.array()?)
    }
}

/// A PLZ prefix of 0 to 5 digits: the geographic scope of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlzPrefix {
    digits: [u8; 5],
    len: u8,
}

impl PlzPrefix {
    /// A prefix from its digits (at most five ASCII digits).
    pub fn new(digits: &[u8]) -> Result<Self> {
        if digits.len() > Plz::LEN {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems { max: Plz::LEN }));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::malformed("plz prefix", "not ASCII digits"));
        }
        let mut padded = [0; 5];
        padded[..digits.len()].copy_from_slice(digits);
        Ok(PlzPrefix {
            digits: padded,
            len: digits.len() as u8,
        })
    }

    /// The prefix's digits.
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[..usize::from(self.len)]
    }

    /// The lowest and highest PLZ with this prefix.
    pub fn range(&self) -> (Plz, Plz) {
        let fill = |digit| {
            let mut plz = [digit; 5];
            plz[..usize::from(self.len)].copy_from_slice(self.as_bytes());
            Plz(plz)
        };
        (fill(b'0'), fill(b'9'))
    }

    /// Whether `plz` starts with this prefix.
    pub fn matches(&self, plz: &Plz) -> bool {
        plz.0.starts_with(self.as_bytes())
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self> {
        PlzPrefix::new(&r.vl_bytes(Plz::LEN)?)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        Ok(codec::put_vl_bytes(out, self.as_bytes())?)
    }
}

/// A set of ISO 639-1 language codes, strictly ascending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Languages(Vec<[u8; 2]>);

impl Languages {
    /// At most this many languages.
    pub const MAX: usize = 8;

    /// A set from codes in any order (duplicates removed); each must be two
    /// lowercase ASCII letters.
    pub fn new(codes: &[[u8; 2]]) -> Result<Self> {
        let mut sorted = codes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        Languages::canonical(sorted)
    }

    fn canonical(codes: Vec<[u8; 2]>) -> Result<Self> {
        if codes.len() > Self::MAX {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: Self::MAX,
            }));
        }
        if !codes.iter().flatten().all(u8::is_ascii_lowercase) {
            return Err(Error::malformed("languages", "a code is not [a-z]{2}"));
        }
        if !codes.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::malformed("languages", "not strictly ascending"));
        }
        Ok(Languages(codes))
    }

    /// The codes.
    pub fn codes(&self) -> &[[u8; 2]] {
        &self.0
    }

    /// Whether there are no codes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the sets share a code.
    pub fn intersects(&self, other: &Languages) -> bool {
        self.0
            .iter()
            .any(|code| other.0.binary_search(code).is_ok())
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self> {
        let bytes = r.vl_bytes(2 * Self::MAX)?;
        if bytes.len() % 2 != 0 {
            return Err(Error::Wire(qpc_wire::Error::Truncated));
        }
        Languages::canonical(bytes.chunks(2).map(|c| [c[0], c[1]]).collect())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        Ok(codec::put_vl_bytes(out, self.0.as_flattened())?)
    }
}

/// One free appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The therapist's id for the slot, unique within the announce.
    pub id: u32,
    /// Start, Unix ms.
    pub start_ms: u64,
    /// Duration in minutes, 1 to 480.
    pub duration_min: u16,
    /// The kind of appointment: exactly one [`Kinds`] flag.
    pub kind: Kinds,
}

impl Slot {
    /// Encoded length.
    pub const LEN: usize = 4 + 8 + 2 + 1;
    /// The longest slot, in minutes.
    pub const MAX_DURATION_MIN: u16 = 480;

    pub(crate) fn decode(r: &mut Reader) -> Result<Self> {
        let slot = Slot {
            id: r.u32()?,
            start_ms: r.u64()?,
            duration_min: r.u16()?,
            kind: Kinds::from_bits(r.u8()?)?,
        };
        slot.validate()?;
        Ok(slot)
    }

    /// Checks the duration range and that the kind is one flag.
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_DURATION_MIN).contains(&self.duration_min) {
            return Err(Error::malformed("slot", "duration outside 1..=480 minutes"));
        }
        if self.kind.bits().count_ones() != 1 {
            return Err(Error::malformed("slot", "kind is not exactly one flag"));
        }
        Ok(())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32(self.id);
        out.put_u64(self.start_ms);
        out.put_u16(self.duration_min);
        out.put_u8(self.kind.bits());
    }
}

/// What a practice offers, as announced: everything a query filters on
/// except the slots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Practice {
    /// Postal code (never an address).
    pub plz: Plz,
    /// Methods offered (not empty).
    pub methods: Methods,
    /// Age groups treated (not empty).
    pub age_groups: AgeGroups,
    /// Modalities offered (not empty).
    pub modalities: Modalities,
    /// Payers accepted (not empty).
    pub payers: Payers,
    /// Accessibility features.
    pub features: Features,
    /// Languages offered (at least one).
    pub languages: Languages,
}

impl Practice {
    /// Checks what decoding checks: non-empty sets, at least one language.
    pub fn validate(&self) -> Result<()> {
        Methods::from_bits_nonempty(self.methods.bits())?;
        AgeGroups::from_bits_nonempty(self.age_groups.bits())?;
        Modalities::from_bits_nonempty(self.modalities.bits())?;
        Payers::from_bits_nonempty(self.payers.bits())?;
        if self.languages.is_empty() {
            return Err(Error::malformed("languages", "a practice offers none"));
        }
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self> {
        let practice = Practice {
            plz: Plz::decode(r)?,
            methods: Methods::from_bits_nonempty(r.u8()?)?,
            age_groups: AgeGroups::from_bits_nonempty(r.u8()?)?,
            modalities: Modalities::from_bits_nonempty(r.u8()?)?,
            payers: Payers::from_bits_nonempty(r.u8()?)?,
            features: Features::from_bits(r.u8()?)?,
            languages: Languages::decode(r)?,
        };
        if practice.languages.is_empty() {
            return Err(Error::malformed("languages", "a practice offers none"));
        }
        Ok(practice)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_slice(self.plz.as_bytes());
        out.put_slice(&[
            self.methods.bits(),
            self.age_groups.bits(),
            self.modalities.bits(),
            self.payers.bits(),
            self.features.bits(),
        ]);
        self.languages.encode(out)
    }
}
