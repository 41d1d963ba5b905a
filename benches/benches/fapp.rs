//! qpc-fapp benches (spec/20 §11), both yardsticks in one run (ratios in
//! benches/README.md):
//!
//! - `fapp/query`: one relay query (`Relay::handle` of a SlotQuery, a new
//!   query id each time: dedupe, index walk, response built) with 1,000 and
//!   with 100,000 cached announces, the same query;
//! - `fapp/ingest`: 1,000 announces of distinct therapists into a fresh
//!   relay (`Relay::handle`: expiry, sequence, strict Ed25519, cache and
//!   index insert, the forwarded copy), against raw ed25519-dalek
//!   `verify_strict` of the same signed bytes (key decoding included).
//!
//! Announces are random (seeded): PLZ uniform over 10000-99999, random
//! methods, payers, modalities, 1-4 slots of random kinds.

use criterion::{black_box, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use qpc_crypto::identity::{self, SignatureContext};
use qpc_fapp::announce::{SlotAnnounce, TherapistKey};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, PlzPrefix, Practice,
    Slot,
};
use qpc_fapp::query::{Filter, SlotQuery};
use qpc_fapp::relay::{Relay, RelayConfig};
use qpc_fapp::{FappMessage, NeighbourId};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const NOW: u64 = 1_800_000_000_000;
const DAY: u64 = 24 * 3600 * 1000;

fn flags(rng: &mut ChaCha20Rng, mask: u8) -> u8 {
    loop {
        let bits = (rng.next_u32() as u8) & mask;
        if bits != 0 {
            return bits;
        }
    }
}

/// A random announce of therapist `i`, signed with its own Ed25519 key
/// (the KEM key digest is random: relays never see the KEM key).
fn announce(i: u32, rng: &mut ChaCha20Rng) -> SlotAnnounce {
    let mut seed = [0; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    let key = SigningKey::from_bytes(&seed);
    let mut digest = [0; 32];
    rng.fill_bytes(&mut digest);
    let plz = format!("{:05}", 10_000 + rng.next_u32() % 90_000);
    let slots = (0..1 + rng.next_u32() % 4)
        .map(|id| Slot {
            id,
            start_ms: NOW + DAY + u64::from(rng.next_u32() % 1_000_000),
            duration_min: 50,
            kind: Kinds::from_bits(1 << (rng.next_u32() % 4)).expect("one flag"),
        })
        .collect();
    let mut announce = SlotAnnounce {
        therapist: TherapistKey {
            signing_key: key.verifying_key().to_bytes(),
            kem_key_digest: digest,
        },
        licence_hash: [0x11; 32],
        sequence: 1,
        expires_ms: NOW + DAY,
        hold_ms: 900_000,
        practice: Practice {
            plz: Plz::new(plz.as_bytes().try_into().expect("5 digits")).expect("digits"),
            methods: Methods::from_bits(flags(rng, 0x0f)).expect("bits"),
            age_groups: AgeGroups::from_bits(flags(rng, 0x03)).expect("bits"),
            modalities: Modalities::from_bits(flags(rng, 0x07)).expect("bits"),
            payers: Payers::from_bits(flags(rng, 0x0f)).expect("bits"),
            features: Features::from_bits(rng.next_u32() as u8 & 1).expect("bits"),
            languages: Languages::new(&[*b"de"]).expect("code"),
        },
        slots,
        signature: [0; 64],
    };
    let signed = announce.signed().expect("encodes");
    announce.signature = identity::sign(&key, SignatureContext::FappAnnounce, &signed);
    announce
}

fn announces(n: u32) -> Vec<FappMessage> {
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    (0..n)
        .map(|i| FappMessage::Announce(announce(i, &mut rng)))
        .collect()
}

fn config(capacity: usize) -> RelayConfig {
    RelayConfig {
        cache_capacity: capacity,
        burst: u32::MAX,
        per_second: u32::MAX,
        ..RelayConfig::default()
    }
}

fn filled(messages: &[FappMessage]) -> Relay {
    let mut relay = Relay::new(config(messages.len())).expect("config");
    for m in messages {
        relay.handle(NOW, NeighbourId(1), m).expect("ingests");
    }
    relay
}

fn query() -> SlotQuery {
    SlotQuery {
        query_id: [0; 16],
        hop_limit: 1,
        filter: Filter {
            plz_prefix: PlzPrefix::new(b"8").expect("digit"),
            methods: Methods::BEHAVIOURAL.union(Methods::PSYCHODYNAMIC),
            age_groups: AgeGroups::ADULTS,
            kinds: Kinds::ALL,
            modalities: Modalities::ALL,
            payers: Payers::GKV,
            required_features: Features::NONE,
            languages: Languages::default(),
            earliest_ms: NOW,
            latest_ms: NOW + 30 * DAY,
        },
        max_results: 8,
    }
}

fn relay_query(c: &mut Criterion) {
    let all = announces(100_000);
    let mut g = c.benchmark_group("fapp/query");
    for (name, n) in [("1k", 1_000), ("100k", 100_000)] {
        let mut relay = filled(&all[..n]);
        let mut q = query();
        let mut counter = 0u128;
        g.bench_function(name, |b| {
            b.iter(|| {
                counter += 1;
                q.query_id = counter.to_be_bytes();
                let step = relay
                    .handle(NOW + 1, NeighbourId(2), &FappMessage::Query(q.clone()))
                    .expect("answers");
                black_box(step)
            })
        });
    }
    g.finish();
}

fn ingest(c: &mut Criterion) {
    let batch = announces(1_000);
    let signed: Vec<(VerifyingKey, Vec<u8>, Signature)> = batch
        .iter()
        .map(|m| match m {
            FappMessage::Announce(a) => {
                let mut bytes = vec![SignatureContext::FappAnnounce.label().len() as u8];
                bytes.extend_from_slice(SignatureContext::FappAnnounce.label());
                bytes.extend_from_slice(&a.signed().expect("encodes"));
                let key = VerifyingKey::from_bytes(&a.therapist.signing_key).expect("key");
                (key, bytes, Signature::from_bytes(&a.signature))
            }
            _ => unreachable!("announces"),
        })
        .collect();
    let mut g = c.benchmark_group("fapp/ingest");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.sample_size(10);
    g.bench_function("relay", |b| {
        b.iter_batched(
            || Relay::new(config(batch.len())).expect("config"),
            |mut relay| {
                for m in &batch {
                    black_box(relay.handle(NOW, NeighbourId(1), m).expect("ingests"));
                }
                relay
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("raw_verify", |b| {
        b.iter(|| {
            for (key, bytes, signature) in &signed {
                let key = VerifyingKey::from_bytes(black_box(key.as_bytes())).expect("key");
                key.verify_strict(black_box(bytes), signature)
                    .expect("verifies");
            }
        })
    });
    g.finish();
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; a private module
    // keeps `missing_docs` quiet, as in the wire bench.
    criterion::criterion_group!(benches, super::relay_query, super::ingest);
}

criterion_main!(group::benches);
