//! qpc-crypto benches. Every group measures our API beside the yardstick it
//! must be compared with, in the same run (ratios in benches/README.md):
//!
//! - X-Wing keygen / encaps / decaps: ours vs RustCrypto `x-wing` and
//!   libcrux's `libcrux-kem`, each called directly;
//! - HPKE single-shot seal + open for 64 B, 1 KiB, 64 KiB;
//! - sealed sender seal + open of 1 KiB vs its parts (HPKE seal + open plus
//!   one Ed25519 sign + verify over the same bytes);
//! - Padmé pad + unpad vs a memcpy of the same bytes.

use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::{Signer, SigningKey};
use qpc_crypto::certificate::Issuer;
use qpc_crypto::hpke;
use qpc_crypto::identity::Identity;
use qpc_crypto::padding::{self, Padding};
use qpc_crypto::sealed_sender::{Kind, Receiver, ReceiverConfig, Sender};
use qpc_crypto::xwing::{XWingCiphertext, XWingSecretKey};

const SEED: [u8; 32] = [7; 32];
const ESEED: [u8; 64] = [9; 64];

fn xwing(c: &mut Criterion) {
    use x_wing::{Decapsulate, Decapsulator, KeyExport};
    let alg = libcrux_kem::Algorithm::XWingKemDraft06;

    let mut g = c.benchmark_group("xwing/keygen");
    g.bench_function("qpc", |b| {
        b.iter(|| XWingSecretKey::from_seed(black_box(&SEED)))
    });
    g.bench_function("x-wing", |b| {
        b.iter(|| {
            let dk = x_wing::DecapsulationKey::from(*black_box(&SEED));
            dk.encapsulation_key().to_bytes()
        })
    });
    g.bench_function("libcrux-kem", |b| {
        b.iter(|| libcrux_kem::key_gen_derand(alg, black_box(&SEED)).unwrap())
    });
    g.finish();

    let ours = XWingSecretKey::from_seed(&SEED);
    let pk_bytes = ours.public_key().to_bytes();
    let rc_dk = x_wing::DecapsulationKey::from(SEED);
    let rc_ek = x_wing::EncapsulationKey::try_from(&pk_bytes[..]).unwrap();
    let (lc_sk, lc_pk) = libcrux_kem::key_gen_derand(alg, &SEED).unwrap();

    let mut g = c.benchmark_group("xwing/encaps");
    g.bench_function("qpc", |b| {
        b.iter(|| {
            ours.public_key()
                .encapsulate_derand(black_box(&ESEED))
                .unwrap()
        })
    });
    g.bench_function("x-wing", |b| {
        b.iter(|| rc_ek.encapsulate_deterministic(black_box(&ESEED.into())))
    });
    g.bench_function("libcrux-kem", |b| {
        b.iter(|| lc_pk.encapsulate_derand(black_box(&ESEED)).unwrap())
    });
    g.finish();

    let (ct, _) = ours.public_key().encapsulate_derand(&ESEED).unwrap();
    let ct_bytes = ct.to_bytes();
    let rc_ct = x_wing::Ciphertext::try_from(&ct_bytes[..]).unwrap();
    let lc_ct = libcrux_kem::Ct::decode(alg, &ct_bytes).unwrap();
    let mut g = c.benchmark_group("xwing/decaps");
    g.bench_function("qpc", |b| {
        b.iter(|| ours.decapsulate(black_box(&ct)).unwrap())
    });
    g.bench_function("qpc-parse+decaps", |b| {
        b.iter(|| {
            ours.decapsulate(&XWingCiphertext::from_bytes(black_box(&ct_bytes)).unwrap())
                .unwrap()
        })
    });
    g.bench_function("x-wing", |b| {
        b.iter(|| rc_dk.decapsulate(black_box(&rc_ct)))
    });
    g.bench_function("libcrux-kem", |b| {
        b.iter(|| black_box(&lc_ct).decapsulate(&lc_sk).unwrap())
    });
    g.finish();
}

fn hpke_seal_open(c: &mut Criterion) {
    let sk = XWingSecretKey::from_seed(&SEED);
    let mut g = c.benchmark_group("hpke/seal+open");
    for size in [64usize, 1024, 64 * 1024] {
        let pt = vec![0x42u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &pt, |b, pt| {
            b.iter(|| {
                let (enc, ct) =
                    hpke::seal_derand(sk.public_key(), b"info", b"aad", pt, &ESEED).unwrap();
                hpke::open(&sk, &enc, b"info", b"aad", &ct).unwrap()
            })
        });
    }
    g.finish();
}

fn sealed_sender(c: &mut Criterion) {
    const NOW: u64 = 1_700_000_000_000;
    let issuer = Issuer::from_seed(&[1; 32]);
    let alice = Identity::from_seeds(&[2; 32], &[3; 32]);
    let sender = Sender::new(&alice, issuer.issue(alice.public(), u64::MAX)).unwrap();
    let config = ReceiverConfig {
        replay_capacity: 4096,
        ..ReceiverConfig::default()
    };
    let mut bob = Receiver::new(
        Identity::from_seeds(&[4; 32], &[5; 32]),
        vec![issuer.trust_root().clone()],
        config,
    );
    let bob_public = bob.identity().public().clone();
    let content = vec![0x61u8; 1024];
    let padded = padding::pad(Padding::Padme, &content).unwrap();

    let mut g = c.benchmark_group("sealed_sender/1KiB");
    let mut counter = 0u64;
    g.bench_function("seal+open", |b| {
        b.iter(|| {
            counter += 1;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&counter.to_be_bytes());
            let sealed = sender
                .seal_padded_derand(
                    &bob_public,
                    Kind::Message,
                    NOW + counter,
                    id,
                    &padded,
                    &ESEED,
                )
                .unwrap();
            bob.open(NOW + counter, &sealed).unwrap().unwrap()
        })
    });
    let signer = SigningKey::from_bytes(&[2; 32]);
    let verifier = signer.verifying_key();
    let bob_kem = XWingSecretKey::from_seed(&[5; 32]);
    g.bench_function("parts: hpke seal+open + ed25519 sign+verify", |b| {
        b.iter(|| {
            let (enc, ct) =
                hpke::seal_derand(bob_kem.public_key(), b"info", b"aad", &padded, &ESEED).unwrap();
            let pt = hpke::open(&bob_kem, &enc, b"info", b"aad", &ct).unwrap();
            let sig = signer.sign(&pt);
            verifier.verify_strict(&pt, &sig).unwrap()
        })
    });
    g.finish();
}

fn padme(c: &mut Criterion) {
    let content = vec![0x61u8; 1024];
    let mut g = c.benchmark_group("padme/1KiB");
    g.throughput(Throughput::Bytes(1024));
    g.bench_function("pad+unpad", |b| {
        b.iter(|| {
            let padded = padding::pad(Padding::Padme, black_box(&content)).unwrap();
            padding::unpad(Padding::Padme, &padded).unwrap().len()
        })
    });
    let mut buf = vec![0u8; 1024];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            buf.copy_from_slice(black_box(&content));
            black_box(&buf);
        })
    });
    g.finish();
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; a private module
    // keeps `missing_docs` quiet, as in the wire bench.
    criterion::criterion_group!(
        benches,
        super::xwing,
        super::hpke_seal_open,
        super::sealed_sender,
        super::padme
    );
}

criterion_main!(group::benches);
