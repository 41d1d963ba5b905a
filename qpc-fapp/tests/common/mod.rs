//! Fixed identities, practices and filters for the engine tests.
#![allow(dead_code)]

use qpc_crypto::identity::Identity;
use qpc_fapp::announce::SlotAnnounce;
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::Filter;
use qpc_fapp::{FappMessage, Step};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The tests' clock origin, Unix ms.
pub const NOW: u64 = 1_800_000_000_000;
/// One day, ms.
pub const DAY: u64 = 24 * 3600 * 1000;

pub fn rng(seed: u64) -> ChaCha20Rng {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&seed.to_be_bytes());
    ChaCha20Rng::from_seed(bytes)
}

pub fn identity(n: u8) -> Identity {
    Identity::from_seeds(&[n; 32], &[n.wrapping_add(100); 32])
}

pub fn practice(plz: &[u8; 5]) -> Practice {
    Practice {
        plz: Plz::new(*plz).unwrap(),
        methods: Methods::BEHAVIOURAL.union(Methods::SYSTEMIC),
        age_groups: AgeGroups::ADULTS,
        modalities: Modalities::IN_PERSON.union(Modalities::VIDEO),
        payers: Payers::GKV.union(Payers::SELF_PAY),
        features: Features::WHEELCHAIR,
        languages: Languages::new(&[*b"de", *b"en"]).unwrap(),
    }
}

pub fn slot(id: u32, start_ms: u64) -> Slot {
    Slot {
        id,
        start_ms,
        duration_min: 50,
        kind: Kinds::CONSULTATION,
    }
}

pub fn filter(prefix: &[u8]) -> Filter {
    Filter {
        plz_prefix: PlzPrefix::new(prefix).unwrap(),
        methods: Methods::ALL,
        age_groups: AgeGroups::ADULTS,
        kinds: Kinds::ALL,
        modalities: Modalities::ALL,
        payers: Payers::GKV,
        required_features: Features::NONE,
        languages: Languages::default(),
        earliest_ms: NOW,
        latest_ms: NOW + 30 * DAY,
    }
}

/// The announce among a step's outgoing messages.
pub fn announce_of<E>(step: &Step<E>) -> SlotAnnounce {
    step.outgoing
        .iter()
        .find_map(|o| match &o.message {
            FappMessage::Announce(a) => Some(a.clone()),
            _ => None,
        })
        .expect("an announce")
}
