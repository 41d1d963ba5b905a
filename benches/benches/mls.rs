//! MLS benches (`spec/07`), X-Wing (0x004D) and classical (0x0001) suites
//! side by side in one run (figures and sizes in benches/README.md):
//!
//! - `create`: a one-member group;
//! - `add/<n>`: one member added to a group of `n` (10, 100, 1000), our
//!   default add-only commit without an UpdatePath; `process-add/<n>`: an
//!   existing member processing that commit. Each iteration starts from
//!   the same state, restored with `import_state` outside the timing;
//! - `message-1KiB`: one application message of 1 KiB sent and received
//!   through our API (payload, Padmé, delivery header, ordering) against
//!   raw OpenMLS calls (`create_message`, serialise, parse,
//!   `process_message`) on the libcrux provider.
//!
//! The message sizes (KeyPackage, Welcome, commits with and without an
//! UpdatePath) are printed once per suite.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{black_box, criterion_main, BatchSize, Criterion};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, CredentialWithKey, KeyPackage, MlsGroup, MlsGroupCreateConfig,
    MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, ProcessedMessageContent, StagedWelcome,
    PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_libcrux_crypto::Provider;
use openmls_traits::types::SignatureScheme;
use qpc_crypto::identity::Identity;
use qpc_crypto::mls::payload::ContentType;
use qpc_crypto::mls::{GroupEvent, GroupId, GroupMember, MlsConfig, Suite};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn identity(i: u32) -> Identity {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    Identity::from_seeds(&seed, &[seed[3] ^ 0x5a; 32])
}

fn member(i: u32, config: &MlsConfig) -> GroupMember {
    GroupMember::new(identity(i), config.clone()).unwrap()
}

/// A group of `n` members made by member 0 with member 1 joined; returns
/// both members' saved states and the group id.
struct Fixture {
    group: GroupId,
    creator: Vec<u8>,
    joiner: Vec<u8>,
}

fn fixture(suite: Suite, n: u32, config: &MlsConfig, rng: &mut ChaCha20Rng) -> Fixture {
    let mut creator = member(0, config);
    let group = creator.create_group(rng, suite).unwrap();
    // Member 1 keeps the private keys of its key package; the others'
    // never need them (they do not join in the bench).
    let mut joiner = member(1, config);
    let mut packages = vec![joiner.key_package(rng, now_ms(), suite, false).unwrap()];
    packages.extend((2..n).map(|i| {
        member(i, config)
            .key_package(rng, now_ms(), suite, false)
            .unwrap()
    }));
    let refs: Vec<&[u8]> = packages.iter().map(Vec::as_slice).collect();
    let add = creator.add_members(rng, &group, &refs).unwrap();
    joiner.join(rng, add.welcome.as_ref().unwrap()).unwrap();
    Fixture {
        group,
        creator: creator.export_state().unwrap().to_vec(),
        joiner: joiner.export_state().unwrap().to_vec(),
    }
}

fn restore(i: u32, config: &MlsConfig, state: &[u8]) -> GroupMember {
    GroupMember::import_state(identity(i), config.clone(), state).unwrap()
}

fn sizes(suite: Suite, config: &MlsConfig, rng: &mut ChaCha20Rng) {
    for n in [10u32, 100, 1000] {
        for with_path in [false, true] {
            let config = MlsConfig {
                add_with_path: with_path,
                ..config.clone()
            };
            let mut creator = member(0, &config);
            let group = creator.create_group(rng, suite).unwrap();
            let packages: Vec<Vec<u8>> = (1..n)
                .map(|i| {
                    member(i, &config)
                        .key_package(rng, now_ms(), suite, false)
                        .unwrap()
                })
                .collect();
            let refs: Vec<&[u8]> = packages.iter().map(Vec::as_slice).collect();
            let fill = creator.add_members(rng, &group, &refs).unwrap();
            let extra = member(n, &config)
                .key_package(rng, now_ms(), suite, false)
                .unwrap();
            let add = creator.add_members(rng, &group, &[&extra]).unwrap();
            let update = creator.self_update(rng, &group).unwrap();
            println!(
                "sizes {suite:?} n={n} path_on_add={with_path}: key package {} B, welcome for {} {} B, \
                 add-one commit {} B, its welcome {} B, self-update commit {} B",
                extra.len(),
                n - 1,
                fill.welcome.as_ref().map_or(0, Vec::len),
                add.message.len(),
                add.welcome.as_ref().map_or(0, Vec::len),
                update.message.len()
            );
        }
    }
}

fn group_ops(c: &mut Criterion) {
    let config = MlsConfig::default();
    for suite in Suite::ALL {
        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(suite.code()));
        sizes(suite, &config, &mut rng);
        let name = match suite {
            Suite::XWing => "xwing",
            Suite::Classical => "classical",
        };
        let mut g = c.benchmark_group(format!("mls/{name}"));
        g.sample_size(10).measurement_time(Duration::from_secs(5));
        g.bench_function("create", |b| {
            let mut m = member(
                0,
                &MlsConfig {
                    max_groups: usize::MAX,
                    ..config.clone()
                },
            );
            b.iter(|| m.create_group(&mut rng, suite).unwrap())
        });
        for n in [10u32, 100, 1000] {
            let f = fixture(suite, n, &config, &mut rng);
            let newcomer = member(n, &config)
                .key_package(&mut rng, now_ms(), suite, true)
                .unwrap();
            let commit = restore(0, &config, &f.creator)
                .add_members(&mut rng, &f.group, &[&newcomer])
                .unwrap()
                .message;
            g.bench_function(format!("add/{n}"), |b| {
                b.iter_batched(
                    || restore(0, &config, &f.creator),
                    |mut m| m.add_members(&mut rng, &f.group, &[&newcomer]).unwrap(),
                    BatchSize::PerIteration,
                )
            });
            g.bench_function(format!("process-add/{n}"), |b| {
                b.iter_batched(
                    || restore(1, &config, &f.joiner),
                    |mut m| {
                        let events = m.receive(&mut rng, &commit).unwrap();
                        assert!(
                            matches!(events[0], GroupEvent::MembersAdded { .. }),
                            "{events:?}"
                        );
                        events
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        g.finish();
    }
}

/// Two raw OpenMLS members of one group: (sender, its signer, receiver).
fn raw_pair(suite: Suite) -> (MlsGroup, Provider, SignatureKeyPair, MlsGroup, Provider) {
    let ciphersuite = match suite {
        Suite::XWing => {
            openmls::prelude::Ciphersuite::MLS_256_XWING_CHACHA20POLY1305_SHA256_Ed25519
        }
        Suite::Classical => {
            openmls::prelude::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
        }
    };
    let make = |name: &[u8]| {
        let provider = Provider::new().unwrap();
        let keys = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.to_vec()).into(),
            signature_key: keys.to_public_vec().into(),
        };
        (provider, keys, credential)
    };
    let (pa, ka, ca) = make(b"alice");
    let (pb, kb, cb) = make(b"bob");
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(ciphersuite)
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .build();
    let mut alice = MlsGroup::new(&pa, &ka, &config, ca).unwrap();
    let kp = KeyPackage::builder()
        .build(ciphersuite, &pb, &kb, cb)
        .unwrap();
    let (_, welcome, _) = alice
        .add_members_without_update(&pa, &ka, &[kp.key_package().clone()])
        .unwrap();
    alice.merge_pending_commit(&pa).unwrap();
    let MlsMessageBodyIn::Welcome(welcome) =
        MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap())
            .unwrap()
            .extract()
    else {
        unreachable!("add_members returns a Welcome")
    };
    let join = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .build();
    let bob = StagedWelcome::new_from_welcome(&pb, &join, welcome, None)
        .unwrap()
        .into_group(&pb)
        .unwrap();
    (alice, pa, ka, bob, pb)
}

fn messages(c: &mut Criterion) {
    let body = vec![0x42u8; 1024];
    let config = MlsConfig::default();
    for suite in Suite::ALL {
        let name = match suite {
            Suite::XWing => "xwing",
            Suite::Classical => "classical",
        };
        let mut g = c.benchmark_group(format!("mls/{name}/message-1KiB"));
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (mut alice, mut bob) = (member(0, &config), member(1, &config));
        let group = alice.create_group(&mut rng, suite).unwrap();
        let kp = bob.key_package(&mut rng, now_ms(), suite, false).unwrap();
        let add = alice.add_members(&mut rng, &group, &[&kp]).unwrap();
        bob.join(&mut rng, add.welcome.as_ref().unwrap()).unwrap();
        g.bench_function("qpc", |b| {
            b.iter(|| {
                let (_, message) = alice
                    .send(
                        &mut rng,
                        1,
                        &group,
                        ContentType::Data,
                        black_box(&body),
                        None,
                    )
                    .unwrap();
                let events = bob.receive(&mut rng, &message).unwrap();
                assert!(matches!(&events[..], [GroupEvent::Message { .. }]));
                events
            })
        });
        let (mut ra, pa, ka, mut rb, pb) = raw_pair(suite);
        g.bench_function("raw-openmls", |b| {
            b.iter(|| {
                let out = ra.create_message(&pa, &ka, black_box(&body)).unwrap();
                let bytes = out.tls_serialize_detached().unwrap();
                let message = MlsMessageIn::tls_deserialize_exact(&bytes).unwrap();
                let processed = rb
                    .process_message(&pb, message.try_into_protocol_message().unwrap())
                    .unwrap();
                match processed.into_content() {
                    ProcessedMessageContent::ApplicationMessage(m) => m.into_bytes(),
                    _ => unreachable!(),
                }
            })
        });
        g.finish();
    }
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; a private module
    // keeps `missing_docs` quiet, as in the other benches.
    criterion::criterion_group!(benches, super::messages, super::group_ops);
}

criterion_main!(group::benches);
