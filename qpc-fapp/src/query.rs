//! SlotQuery and SlotResponse (`spec/20-fapp.md` §6): an anonymous search
//! and the matching announces a relay returns along the query's reverse
//! path.
//!
//! ```text
//! struct {
//!     opaque query_id[16];       // random; no sender identity anywhere
//!     uint8  hop_limit;          // 1..=8; relays forward with one less
//!     opaque plz_prefix<V>;      // 0..=5 ASCII digits: the scope
//!     uint8  methods;            // each set: any-of, not empty
//!     uint8  age_groups;
//!     uint8  kinds;
//!     uint8  modalities;
//!     uint8  payers;
//!     uint8  required_features;  // all-of
//!     opaque languages<V>;       // any-of; empty = any
//!     uint64 earliest_ms;        // slot start window, earliest <= latest
//!     uint64 latest_ms;
//!     uint8  max_results;        // 1..=8
//! } SlotQuery;
//!
//! struct { opaque therapist[16]; uint32 sequence; } AnnounceRef;
//!
//! struct {
//!     opaque query_id[16];
//!     opaque announces<V>;       // concatenated SlotAnnounce messages, at most 8
//!     AnnounceRef more<V>;       // further matches not included, at most 32
//! } SlotResponse;
//! ```

use bytes::{BufMut, Bytes};
use qpc_crypto::identity::Address;
use qpc_wire::codec::{self, Reader};

use crate::announce::SlotAnnounce;
use crate::error::{Error, Result};
use crate::message::FappType;
use crate::model::{AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, PlzPrefix};

/// The largest hop limit a query may carry.
pub const MAX_HOP_LIMIT: u8 = 8;
/// The most announces a response or query asks for.
pub const MAX_RESULTS: u8 = 8;
/// The most further-match references in a response.
pub const MAX_MORE: usize = 32;
/// The longest `announces` vector: eight maximal announces.
pub const MAX_ANNOUNCES_LEN: usize = 8 * 1024;

/// A random query id: the only handle on a query, unlinkable to the asker.
pub type QueryId = [u8; 16];

/// What a patient looks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    /// Geographic scope.
    pub plz_prefix: PlzPrefix,
    /// Any of these methods.
    pub methods: Methods,
    /// Any of these age groups.
    pub age_groups: AgeGroups,
    /// A slot of any of these kinds.
    pub kinds: Kinds,
    /// Any of these modalities.
    pub modalities: Modalities,
    /// Any of these payers.
    pub payers: Payers,
    /// All of these features.
    pub required_features: Features,
    /// Any of these languages; empty means any.
    pub languages: Languages,
    /// Earliest slot start, Unix ms.
    pub earliest_ms: u64,
    /// Latest slot start, Unix ms.
    pub latest_ms: u64,
}

impl Filter {
    /// Whether the practice of `announce` matches, ignoring slots.
    pub fn matches_practice(&self, announce: &SlotAnnounce) -> bool {
        let p = &announce.practice;
        self.plz_prefix.matches(&p.plz)
            && self.methods.intersects(p.methods)
            && self.age_groups.intersects(p.age_groups)
            && self.modalities.intersects(p.modalities)
            && self.payers.intersects(p.payers)
            && p.features.contains(self.required_features)
            && (self.languages.is_empty() || self.languages.intersects(&p.languages))
    }

    /// Whether a slot of this kind and start matches.
    pub fn matches_slot(&self, kind: Kinds, start_ms: u64) -> bool {
        self.kinds.intersects(kind) && (self.earliest_ms..=self.latest_ms).contains(&start_ms)
    }

    /// Whether the announce matches: its practice and at least one slot.
    pub fn matches(&self, announce: &SlotAnnounce) -> bool {
        self.matches_practice(announce)
            && announce
                .slots
                .iter()
                .any(|s| self.matches_slot(s.kind, s.start_ms))
    }

    fn validate(&self) -> Result<()> {
        Methods::from_bits_nonempty(self.methods.bits())?;
        AgeGroups::from_bits_nonempty(self.age_groups.bits())?;
        Kinds::from_bits_nonempty(self.kinds.bits())?;
        Modalities::from_bits_nonempty(self.modalities.bits())?;
        Payers::from_bits_nonempty(self.payers.bits())?;
        if self.earliest_ms > self.latest_ms {
            return Err(Error::malformed("query", "earliest_ms after latest_ms"));
        }
        Ok(())
    }
}

/// A patient's anonymous search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotQuery {
    /// Random id: dedupe and reverse path.
    pub query_id: QueryId,
    /// Hops left, 1 to [`MAX_HOP_LIMIT`].
    pub hop_limit: u8,
    /// What is searched for.
    pub filter: Filter,
    /// How many announces the asker wants, 1 to [`MAX_RESULTS`].
    pub max_results: u8,
}

impl SlotQuery {
    /// Checks the ranges an encoder must respect (decoding checks them too).
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_HOP_LIMIT).contains(&self.hop_limit) {
            return Err(Error::malformed("query", "hop_limit outside 1..=8"));
        }
        self.filter.validate()?;
        if !(1..=MAX_RESULTS).contains(&self.max_results) {
            return Err(Error::malformed("query", "max_results outside 1..=8"));
        }
        Ok(())
    }

    /// The whole message.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let f = &self.filter;
        let mut out = Vec::with_capacity(64);
        FappType::SlotQuery.put_header(&mut out);
        out.put_slice(&self.query_id);
        out.put_u8(self.hop_limit);
        f.plz_prefix.encode(&mut out)?;
        out.put_slice(&[
            f.methods.bits(),
            f.age_groups.bits(),
            f.kinds.bits(),
            f.modalities.bits(),
            f.payers.bits(),
            f.required_features.bits(),
        ]);
        f.languages.encode(&mut out)?;
        out.put_u64(f.earliest_ms);
        out.put_u64(f.latest_ms);
        out.put_u8(self.max_results);
        Ok(out)
    }

    pub(crate) fn decode_body(r: &mut Reader) -> Result<Self> {
        let query_id = r.array()?;
        let hop_limit = r.u8()?;
        if !(1..=MAX_HOP_LIMIT).contains(&hop_limit) {
            return Err(Error::malformed("query", "hop_limit outside 1..=8"));
        }
        let filter = Filter {
            plz_prefix: PlzPrefix::decode(r)?,
            methods: Methods::from_bits_nonempty(r.u8()?)?,
            age_groups: AgeGroups::from_bits_nonempty(r.u8()?)?,
            kinds: Kinds::from_bits_nonempty(r.u8()?)?,
            modalities: Modalities::from_bits_nonempty(r.u8()?)?,
            payers: Payers::from_bits_nonempty(r.u8()?)?,
            required_features: Features::from_bits(r.u8()?)?,
            languages: Languages::decode(r)?,
            earliest_ms: r.u64()?,
            latest_ms: r.u64()?,
        };
        if filter.earliest_ms > filter.latest_ms {
            return Err(Error::malformed("query", "earliest_ms after latest_ms"));
        }
        let max_results = r.u8()?;
        if !(1..=MAX_RESULTS).contains(&max_results) {
            return Err(Error::malformed("query", "max_results outside 1..=8"));
        }
        Ok(SlotQuery {
            query_id,
            hop_limit,
            filter,
            max_results,
        })
    }
}

/// A matching announce a response names but does not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnnounceRef {
    /// The therapist.
    pub therapist: Address,
    /// The announce's sequence.
    pub sequence: u32,
}

impl AnnounceRef {
    const LEN: usize = 16 + 4;
}

/// Matching announces for a query, sent back along its reverse path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotResponse {
    /// The query answered.
    pub query_id: QueryId,
    /// Matching announces, at most [`MAX_RESULTS`].
    pub announces: Vec<SlotAnnounce>,
    /// Further matches, at most [`MAX_MORE`].
    pub more: Vec<AnnounceRef>,
}

impl SlotResponse {
    /// The whole message.
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.announces.len() > usize::from(MAX_RESULTS) || self.more.len() > MAX_MORE {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: usize::from(MAX_RESULTS),
            }));
        }
        let mut announces = Vec::new();
        for announce in &self.announces {
            announces.extend_from_slice(&announce.encode()?);
        }
        if announces.len() > MAX_ANNOUNCES_LEN {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: MAX_ANNOUNCES_LEN,
            }));
        }
        let mut out = Vec::with_capacity(32 + announces.len() + self.more.len() * 20);
        FappType::SlotResponse.put_header(&mut out);
        out.put_slice(&self.query_id);
        codec::put_vl_bytes(&mut out, &announces)?;
        let mut more = Vec::with_capacity(self.more.len() * AnnounceRef::LEN);
        for r in &self.more {
            more.put_slice(r.therapist.as_bytes());
            more.put_u32(r.sequence);
        }
        codec::put_vl_bytes(&mut out, &more)?;
        Ok(out)
    }

    pub(crate) fn decode_body(r: &mut Reader) -> Result<Self> {
        let query_id = r.array()?;
        let announces = decode_announces(r.vl_bytes(MAX_ANNOUNCES_LEN)?)?;
        let mut inner = Reader::new(r.vl_bytes(MAX_MORE * AnnounceRef::LEN)?);
        let mut more = Vec::new();
        while inner.remaining() > 0 {
            more.push(AnnounceRef {
                therapist: Address::from_bytes(inner.array()?),
                sequence: inner.u32()?,
            });
        }
        Ok(SlotResponse {
            query_id,
            announces,
            more,
        })
    }
}

/// Announces back to back: each is a whole SlotAnnounce message whose own
/// vectors give its length, so it is decoded in place.
fn decode_announces(bytes: Bytes) -> Result<Vec<SlotAnnounce>> {
    let mut r = Reader::new(bytes);
    let mut announces = Vec::new();
    while r.remaining() > 0 {
        if announces.len() == usize::from(MAX_RESULTS) {
            return Err(Error::Wire(qpc_wire::Error::TooManyItems {
                max: usize::from(MAX_RESULTS),
            }));
        }
        match crate::message::read_header(&mut r)? {
            FappType::SlotAnnounce => announces.push(SlotAnnounce::decode_body(&mut r)?),
            _ => {
                return Err(Error::malformed(
                    "response",
                    "an entry is not a SlotAnnounce",
                ))
            }
        }
    }
    Ok(announces)
}
