//! OPAQUE benches (`spec/08-opaque.md`): a whole registration and a whole
//! login (client and server, in memory) with the production Argon2id
//! parameters, Argon2id alone beside them (its share of each), and a login
//! with the test-only Identity KSF (the protocol without key stretching).

use criterion::{black_box, criterion_main, Criterion};
use qpc_crypto::opaque::{
    Argon2idParams, Argon2idSuite, Binding, ClientConfig, ClientLogin, ClientRegistration,
    IdentityKsfSuite, Server, ServerRecord, Suite,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const USER: &[u8] = b"alice@example.org";
const PASSWORD: &[u8] = b"correct horse battery staple";

fn register<S: Suite>(
    rng: &mut ChaCha20Rng,
    config: &ClientConfig<S>,
    server: &Server<S>,
) -> ServerRecord<S> {
    let (state, request) = ClientRegistration::start(rng, config, PASSWORD).unwrap();
    let response = server.registration_response(&request, USER).unwrap();
    let registered = state.finish(&response).unwrap();
    server.registration_finish(&registered.record).unwrap()
}

fn login<S: Suite>(
    rng: &mut ChaCha20Rng,
    config: &ClientConfig<S>,
    server: &Server<S>,
    record: &ServerRecord<S>,
) -> [u8; 64] {
    let (state, ke1) = ClientLogin::start(rng, config, PASSWORD).unwrap();
    let mut server_login = server.login();
    let ke2 = server_login
        .handle_ke1(rng, Some(record), USER, &ke1)
        .unwrap();
    let client = state.finish(&ke2).unwrap();
    *server_login.handle_ke3(&client.ke3).unwrap().as_bytes()
}

fn production(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let config = ClientConfig::production();
    let server = Server::<Argon2idSuite>::generate(&mut rng, Binding::default()).unwrap();
    let record = register(&mut rng, &config, &server);
    let argon2 = Argon2idParams::PRODUCTION.argon2().unwrap();

    let mut g = c.benchmark_group("opaque/argon2id-19MiB-t2-p1");
    g.sample_size(10);
    g.bench_function("argon2id-alone", |b| {
        let mut out = [0u8; 64];
        b.iter(|| {
            argon2
                .hash_password_into(black_box(&[7; 64]), &[0; 16], &mut out)
                .unwrap();
            out
        })
    });
    g.bench_function("registration", |b| {
        b.iter(|| register(&mut rng, &config, &server))
    });
    g.bench_function("login", |b| {
        b.iter(|| login(&mut rng, &config, &server, &record))
    });
    g.finish();
}

fn identity_ksf(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let config = ClientConfig::identity_ksf(Binding::default());
    let server = Server::<IdentityKsfSuite>::generate(&mut rng, Binding::default()).unwrap();
    let record = register(&mut rng, &config, &server);
    let mut g = c.benchmark_group("opaque/identity-ksf");
    g.bench_function("login", |b| {
        b.iter(|| login(&mut rng, &config, &server, &record))
    });
    g.finish();
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; a private module
    // keeps `missing_docs` quiet, as in the wire bench.
    criterion::criterion_group!(benches, super::production, super::identity_ksf);
}

criterion_main!(group::benches);
