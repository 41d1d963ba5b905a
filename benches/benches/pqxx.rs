//! pqXX benches, each beside its yardstick in the same run (ratios in
//! benches/README.md):
//!
//! - handshake: snow's classical `Noise_XX_25519_ChaChaPoly_BLAKE2s` (as
//!   shipped: default resolver, OS randomness) vs qpc's pqXX (post-quantum
//!   and classical mode) vs ML-KEM-768 keygen + encaps + decaps alone, in
//!   both crates.io implementations (libcrux-ml-kem, RustCrypto ml-kem);
//! - transport: seal + open of 1 KiB, qpc's stream and datagram modes vs
//!   snow's `TransportState` write + read.

use std::sync::Arc;

use criterion::{black_box, criterion_main, Criterion, Throughput};
use qpc_crypto::identity::Identity;
use qpc_crypto::pqxx::{
    HandshakeConfig, Initiator, LocalStatic, Responder, Session, TransportConfig,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const NOW: u64 = 1_800_000_000_000;
const CLASSICAL_XX: &str = "Noise_XX_25519_ChaChaPoly_BLAKE2s";

fn local(seed: u8) -> LocalStatic {
    let identity = Identity::from_seeds(&[seed; 32], &[seed; 32]);
    LocalStatic::from_private(&identity, &[seed ^ 0x55; 32], u64::MAX)
}

/// One complete pqXX handshake with empty application payloads.
fn pqxx(
    alice: &LocalStatic,
    bob: &LocalStatic,
    config: &HandshakeConfig,
    rng: &mut ChaCha20Rng,
) -> (Session, Session) {
    let mut i = Initiator::new(alice, config.clone(), rng).unwrap();
    let mut r = Responder::new(bob, config.clone(), rng).unwrap();
    let m1 = i.write_message_1(&[]).unwrap();
    r.read_message_1(&m1).unwrap();
    let m2 = r.write_message_2(&[]).unwrap();
    i.read_message_2(NOW, &m2).unwrap();
    let (m3, si) = i.write_message_3(&[]).unwrap();
    let (sr, _) = r.read_message_3(NOW, &m3).unwrap();
    (si, sr)
}

/// One complete classical snow XX handshake.
fn snow_xx(i_static: &[u8], r_static: &[u8]) -> (snow::TransportState, snow::TransportState) {
    let params = || CLASSICAL_XX.parse().unwrap();
    let mut i = snow::Builder::new(params())
        .local_private_key(i_static)
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut r = snow::Builder::new(params())
        .local_private_key(r_static)
        .unwrap()
        .build_responder()
        .unwrap();
    let (mut buf, mut payload) = ([0u8; 256], [0u8; 256]);
    let n = i.write_message(&[], &mut buf).unwrap();
    r.read_message(&buf[..n], &mut payload).unwrap();
    let n = r.write_message(&[], &mut buf).unwrap();
    i.read_message(&buf[..n], &mut payload).unwrap();
    let n = i.write_message(&[], &mut buf).unwrap();
    r.read_message(&buf[..n], &mut payload).unwrap();
    (
        i.into_transport_mode().unwrap(),
        r.into_transport_mode().unwrap(),
    )
}

fn libcrux_mlkem(seed: [u8; 64], m: [u8; 32]) -> [u8; 32] {
    use libcrux_ml_kem::mlkem768;
    let pair = mlkem768::generate_key_pair(seed);
    let (ct, ss) = mlkem768::encapsulate(pair.public_key(), m);
    let ss2 = mlkem768::decapsulate(pair.private_key(), &ct);
    assert_eq!(ss, ss2);
    ss2
}

fn rustcrypto_mlkem(seed: [u8; 64], m: [u8; 32]) -> [u8; 32] {
    use ml_kem::kem::Decapsulate;
    let dk = ml_kem::DecapsulationKey768::from_seed(seed.into());
    let (ct, ss) = dk.encapsulation_key().encapsulate_deterministic(&m.into());
    let ss2 = dk.decapsulate(&ct);
    assert_eq!(ss, ss2);
    ss2.into()
}

fn handshake(c: &mut Criterion) {
    let (alice, bob) = (local(1), local(2));
    let pq = HandshakeConfig::default();
    let classical = HandshakeConfig {
        post_quantum: false,
        allow_classical: true,
        accept_peer: Arc::new(|_| true),
        ..HandshakeConfig::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let builder = snow::Builder::new(CLASSICAL_XX.parse().unwrap());
    let (i_static, r_static) = (
        builder.generate_keypair().unwrap().private,
        builder.generate_keypair().unwrap().private,
    );

    let mut g = c.benchmark_group("pqxx/handshake");
    g.bench_function("snow-XX-classical", |b| {
        b.iter(|| snow_xx(black_box(&i_static), black_box(&r_static)))
    });
    g.bench_function("qpc-pqXX", |b| {
        b.iter(|| pqxx(black_box(&alice), &bob, &pq, &mut rng))
    });
    g.bench_function("qpc-pqXX-classical-mode", |b| {
        b.iter(|| pqxx(black_box(&alice), &bob, &classical, &mut rng))
    });
    g.bench_function("mlkem768-libcrux", |b| {
        b.iter(|| libcrux_mlkem(black_box([3; 64]), black_box([4; 32])))
    });
    g.bench_function("mlkem768-rustcrypto", |b| {
        b.iter(|| rustcrypto_mlkem(black_box([3; 64]), black_box([4; 32])))
    });
    g.finish();
}

fn transport(c: &mut Criterion) {
    let data = vec![0x42u8; 1024];
    let (alice, bob) = (local(1), local(2));
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut g = c.benchmark_group("pqxx/transport-1KiB");
    g.throughput(Throughput::Bytes(data.len() as u64));

    let (mut ti, mut tr) = snow_xx(&[1; 32], &[2; 32]);
    let (mut wire, mut plain) = (vec![0u8; 2048], vec![0u8; 2048]);
    g.bench_function("snow", |b| {
        b.iter(|| {
            let n = ti.write_message(black_box(&data), &mut wire).unwrap();
            tr.read_message(&wire[..n], &mut plain).unwrap()
        })
    });

    let (si, sr) = pqxx(&alice, &bob, &HandshakeConfig::default(), &mut rng);
    let mut si = si.into_stream(TransportConfig::default(), NOW).unwrap();
    let mut sr = sr.into_stream(TransportConfig::default(), NOW).unwrap();
    let (mut record, mut opened) = (Vec::with_capacity(2048), Vec::with_capacity(2048));
    g.bench_function("qpc-stream", |b| {
        b.iter(|| {
            record.clear();
            si.seal(NOW, black_box(&data), &mut record).unwrap();
            sr.open(&record, &mut opened).unwrap();
        })
    });

    let (di, dr) = pqxx(&alice, &bob, &HandshakeConfig::default(), &mut rng);
    let mut di = di.into_datagram(TransportConfig::default(), NOW).unwrap();
    let mut dr = dr.into_datagram(TransportConfig::default(), NOW).unwrap();
    g.bench_function("qpc-datagram", |b| {
        b.iter(|| {
            record.clear();
            di.seal(NOW, black_box(&data), &mut record).unwrap();
            dr.open(&record, &mut opened).unwrap();
        })
    });
    g.finish();
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; a private module
    // keeps `missing_docs` quiet, as in the other benches.
    criterion::criterion_group!(benches, super::handshake, super::transport);
}

criterion_main!(group::benches);
