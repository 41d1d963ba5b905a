//! The committed seed corpus, generated here so that it is reproducible.
//!
//! `fuzz/corpus/<target>/<name>` holds the bytes of each [`Seed`];
//! `cargo run -p qpc-fuzz --example write_seeds` (re)writes them and the
//! `seeds_are_committed` test checks that the files match this code.
//!
//! The qpc-crypto seeds are built with the fixed keys, clock and
//! randomness of [`crate::fixtures`]: genuine identities, keys,
//! ciphertexts, certificates and sealed messages, and near misses of each
//! that fail one named check.

use qpc_crypto::certificate::SenderCertificate;
use qpc_crypto::hpke;
use qpc_crypto::padding::{self, Padding, LORA_BUCKETS};
use qpc_crypto::sealed_sender::{Kind, Sender};
use qpc_wire::hello::MIN_BODY_LIMIT;
use qpc_wire::{codec, FrameEncoder, FrameType, Hello, VersionSet};

use crate::fixtures::{self, inner_mode, Inner, CERT_EXPIRES, NOW};

mod channel;
mod fapp;
mod lora;
mod mesh;
mod mls;
mod node;
mod opaque;
mod pqxx;
mod session;

/// One seed input of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target (a function of this crate, a directory of `fuzz/corpus/`).
    pub target: &'static str,
    /// The file name.
    pub name: &'static str,
    /// The input.
    pub bytes: Vec<u8>,
}

/// Config selector (see [`crate::decoder_config`]) for the default 1 MiB
/// limit and version `{1}`; ORed with a frame retention mode in bits 6-7.
const DEFAULT_CONFIG: u8 = 0x00;
/// Chunk selector: the whole stream in one chunk (mode 3, cut at the end).
const WHOLE: u8 = 0xc0 | 63;
/// Chunk selector: one byte per chunk.
const BYTEWISE: u8 = 0x00;

fn frame(frame_type: FrameType, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    FrameEncoder::new(1, qpc_wire::varint::MAX)
        .encode(frame_type, body, &mut out)
        .expect("seed frame encodes");
    out
}

fn hello_body(versions: &[u8], max_body_len: u32, capabilities: &[u16]) -> Vec<u8> {
    let hello = Hello::new(
        versions.iter().copied().collect::<VersionSet>(),
        max_body_len,
        capabilities.to_vec(),
    );
    codec::encode_to_vec(&hello).expect("seed Hello encodes")
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Every seed, in a fixed order.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |target, name, bytes: Vec<u8>| {
        seeds.push(Seed {
            target,
            name,
            bytes,
        })
    };

    let hello_v1 = hello_body(&[1], 1 << 20, &[0xff01]);
    let hello_frame = frame(FrameType::Hello, &hello_v1);
    let hello_wide = hello_body(&[255, 3, 2, 1], MIN_BODY_LIMIT, &[0, 1, 5, 0xff01, 0xffff]);
    let padding_hello = frame(FrameType::Padding, b"hello");
    let padding_world = frame(FrameType::Padding, b"world");
    let empty = frame(FrameType::Padding, b"");
    let body_64 = frame(FrameType::Padding, &[0x5a; 64]);
    let body_16384 = frame(FrameType::Padding, &[0xa5; 16384]);

    // --- frame_decoder: [config selector] [chunk selector] stream ---
    let t = "frame_decoder";
    add(
        t,
        "two-padding-whole",
        cat(&[&[DEFAULT_CONFIG, WHOLE], &padding_hello, &padding_world]),
    );
    add(
        t,
        "hello-padding-bytewise-keep-all",
        cat(&[&[0x40, BYTEWISE], &hello_frame, &padding_hello]),
    );
    add(
        t,
        "varint-sizes-random-chunks-keep-odd",
        cat(&[
            &[0x80, 0x80 | 7],
            &empty,
            &frame(FrameType::Padding, &[7; 63]),
            &body_64,
            &body_16384,
            &padding_world,
        ]),
    );
    add(
        t,
        "limit-64-exact-fixed-7",
        cat(&[&[0x05, 0x40 | 6], &body_64, &empty]),
    );
    add(
        t,
        "limit-63-too-large",
        cat(&[&[0x04, 0x40 | 2], &empty, &body_64]),
    );
    add(
        t,
        "many-empty-keep-latest",
        cat(&[&[0xc0, 0x40 | 3], &empty.repeat(20)]),
    );
    add(
        t,
        "unknown-version-after-frame",
        cat(&[&[DEFAULT_CONFIG, 0x40 | 4], &padding_hello, &[9, 0, 2, 0]]),
    );
    add(
        t,
        "unknown-frame-type",
        cat(&[&[DEFAULT_CONFIG, BYTEWISE], &[1, 0, 3, 0]]),
    );
    add(
        t,
        "reserved-length-prefix",
        cat(&[&[DEFAULT_CONFIG, BYTEWISE], &[1, 0, 2, 0xc0, 0, 0, 0]]),
    );
    add(
        t,
        "non-minimal-length",
        cat(&[&[DEFAULT_CONFIG, 0xc0 | 20], &[1, 0, 2, 0x40, 0x01, 0xaa]]),
    );
    add(
        t,
        "truncated-body-split",
        cat(&[
            &[DEFAULT_CONFIG, 0xc0 | 31],
            &frame(FrameType::Padding, &[1; 40])[..30],
        ]),
    );
    add(
        t,
        "version-2-allowed",
        cat(&[&[0x10, WHOLE], &[2, 0, 2, 1, 0xee], &padding_hello]),
    );
    add(
        t,
        "huge-announced-length",
        cat(&[&[0x0f, BYTEWISE], &[1, 0, 2, 0xbf, 0xff, 0xff, 0xff, 0]]),
    );

    // --- frame: [config selector] frame ---
    let t = "frame";
    // Found by the first libFuzzer run (a harness bug, not a qpc-wire one):
    // an empty datagram is truncated, an empty stream ends cleanly.
    add(t, "empty-input", vec![0x01]);
    add(t, "padding", cat(&[&[DEFAULT_CONFIG], &padding_hello]));
    add(t, "hello", cat(&[&[DEFAULT_CONFIG], &hello_frame]));
    add(t, "empty-body", cat(&[&[DEFAULT_CONFIG], &empty]));
    add(t, "two-byte-length", cat(&[&[DEFAULT_CONFIG], &body_64]));
    add(
        t,
        "trailing-bytes",
        cat(&[&[DEFAULT_CONFIG], &padding_hello, &[1, 0]]),
    );
    add(
        t,
        "truncated-header",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0x40]]),
    );
    add(
        t,
        "truncated-body",
        cat(&[&[DEFAULT_CONFIG], &padding_hello[..6]]),
    );
    add(
        t,
        "non-minimal-length",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0x40, 0x00]]),
    );
    add(
        t,
        "reserved-length-prefix",
        cat(&[&[DEFAULT_CONFIG], &[1, 0, 2, 0xff]]),
    );
    add(
        t,
        "unknown-frame-type",
        cat(&[&[DEFAULT_CONFIG], &[1, 0xff, 0xff, 0]]),
    );
    add(t, "version-2-allowed", cat(&[&[0x10], &[2, 0, 1, 0]]));
    add(t, "version-1-refused", cat(&[&[0x20], &empty]));
    add(t, "limit-0-too-large", cat(&[&[0x01], &padding_hello]));

    // --- hello: a Hello body ---
    let t = "hello";
    add(t, "spec-example", hello_v1.clone());
    add(t, "several-versions-and-capabilities", hello_wide.clone());
    add(
        t,
        "max-limits",
        hello_body(
            &(1..=32).collect::<Vec<u8>>(),
            qpc_wire::varint::MAX,
            &(0..64).collect::<Vec<u16>>(),
        ),
    );
    add(t, "no-capabilities", hello_body(&[1], MIN_BODY_LIMIT, &[]));
    add(t, "no-versions", vec![0x00, 0, 0, 1, 0, 0x00]);
    add(t, "versions-ascending", vec![0x02, 1, 2, 0, 0, 1, 0, 0x00]);
    add(t, "version-0", vec![0x01, 0, 0, 0, 1, 0, 0x00]);
    add(
        t,
        "limit-below-minimum",
        cat(&[&[0x01, 1], &(MIN_BODY_LIMIT - 1).to_be_bytes(), &[0x00]]),
    );
    add(
        t,
        "capabilities-descending",
        vec![0x01, 1, 0, 0, 1, 0, 0x04, 0, 2, 0, 1],
    );
    add(t, "trailing-byte", cat(&[&hello_v1, &[0]]));
    add(
        t,
        "odd-capability-bytes",
        vec![0x01, 1, 0, 0, 1, 0, 0x03, 0, 2, 0],
    );
    add(
        t,
        "thirty-three-versions",
        cat(&[
            &[33],
            &(1..=33).rev().collect::<Vec<u8>>(),
            &[0, 0, 1, 0, 0],
        ]),
    );
    add(
        t,
        "non-minimal-vector-length",
        vec![0x40, 0x01, 1, 0, 0, 1, 0, 0x00],
    );

    // --- negotiation: [versions mask] [capabilities mask] [mode] peer ---
    let t = "negotiation";
    add(
        t,
        "v1-body",
        cat(&[&[0x01, 0x00, 0], &hello_body(&[1], 1 << 20, &[])]),
    );
    add(
        t,
        "highest-common-and-intersection",
        cat(&[&[0x0f, 0xff, 0], &hello_wide]),
    );
    add(
        t,
        "no-common-version",
        cat(&[&[0x01, 0x00, 0], &hello_body(&[9, 7], 1000, &[])]),
    );
    add(t, "v1-frame", cat(&[&[0x01, 0xc0, 1], &hello_frame]));
    add(
        t,
        "padding-frame-first",
        cat(&[&[0x01, 0x00, 1], &padding_hello]),
    );
    add(
        t,
        "hello-frame-version-2",
        cat(&[
            &[0x03, 0x00, 1],
            &[2, 0, 1],
            &[hello_v1.len() as u8],
            &hello_v1,
        ]),
    );
    add(
        t,
        "bad-hello-body",
        cat(&[&[0x01, 0x00, 0], &[0x02, 1, 2, 0, 0, 1, 0, 0x00]]),
    );
    add(
        t,
        "timeout-checked-early",
        cat(&[&[0x01, 0x00, 2], &hello_v1]),
    );
    add(
        t,
        "arrives-at-deadline",
        cat(&[&[0x01, 0x00, 4], &hello_v1]),
    );
    add(
        t,
        "padding-after-success",
        cat(&[&[0x01, 0x00, 0xf8], &hello_v1]),
    );
    add(t, "no-local-versions", cat(&[&[0x00, 0x00, 0], &hello_v1]));

    crypto_seeds(&mut add);
    pqxx::seeds(&mut add);
    mesh::seeds(&mut add);
    lora::seeds(&mut add);
    channel::seeds(&mut add);
    mls::seeds(&mut add);
    opaque::seeds(&mut add);
    session::seeds(&mut add);
    node::seeds(&mut add);
    fapp::seeds(&mut add);
    seeds
}

/// Ed25519 encodings that are not acceptable public keys.
const ED25519_NEUTRAL: [u8; 32] = {
    let mut p = [0u8; 32];
    p[0] = 1;
    p
};
/// y = 2 is not on the curve.
const ED25519_NOT_ON_CURVE: [u8; 32] = {
    let mut p = [0u8; 32];
    p[0] = 2;
    p
};
/// y = p + 3: a point, but not its canonical encoding.
const ED25519_NON_CANONICAL: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xf0;
    p[31] = 0x7f;
    p
};
/// An X25519 point of order 8.
const X25519_ORDER_8: [u8; 32] = [
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
];
/// p + 1 (≡ 1, a point of order 4) with bit 255 set, which X25519 ignores.
const X25519_P_PLUS_1_HIGH_BIT: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xee;
    p
};
/// p - 1 (order 4 on the twist) with bit 255 set.
const X25519_MINUS_1_HIGH_BIT: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xec;
    p
};

fn with(mut bytes: Vec<u8>, at: usize, part: &[u8]) -> Vec<u8> {
    bytes[at..at + part.len()].copy_from_slice(part);
    bytes
}

fn flip(mut bytes: Vec<u8>, at: usize, mask: u8) -> Vec<u8> {
    bytes[at] ^= mask;
    bytes
}

/// A genuine inner message from Alice to Bob, signed for the HPKE context
/// of `sealed_inner` inputs with encapsulation byte `eseed`.
fn inner(eseed: u8, kind: u8, cert: SenderCertificate, timestamp_ms: u64, content: &[u8]) -> Inner {
    let (_, _, binding) = fixtures::inner_context(eseed);
    let mut inner = Inner {
        kind,
        certificate: cert,
        timestamp_ms,
        message_id: [eseed; 16],
        padded_content: padding::pad(Padding::Padme, content).expect("pads").into(),
        signature: [0; 64],
    };
    inner.signature = inner.alice_signature(&binding);
    inner
}

#[allow(clippy::too_many_lines)]
fn crypto_seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let alice = fixtures::alice();
    let bob = fixtures::bob();
    let carol = fixtures::carol();
    let issuer = fixtures::issuer();
    let cert = fixtures::alice_certificate(issuer, CERT_EXPIRES);
    let cert_bytes = codec::encode_to_vec(&cert).expect("certificate encodes");
    let day = 86_400_000;

    // --- identity: a public (1249 bytes) or secret (65 bytes) identity ---
    let t = "identity";
    let public = alice.public().to_bytes().to_vec();
    let kem_x25519 = public.len() - 32;
    add(t, "public-alice", public.clone());
    add(t, "public-bob", bob.public().to_bytes().to_vec());
    add(t, "secret-alice", alice.to_secret_bytes().to_vec());
    add(
        t,
        "secret-version-2",
        with(alice.to_secret_bytes().to_vec(), 0, &[2]),
    );
    add(t, "secret-short", alice.to_secret_bytes()[..64].to_vec());
    add(t, "public-version-0", with(public.clone(), 0, &[0]));
    add(t, "public-truncated", public[..public.len() - 1].to_vec());
    add(
        t,
        "public-ed25519-neutral",
        with(public.clone(), 1, &ED25519_NEUTRAL),
    );
    add(
        t,
        "public-ed25519-not-on-curve",
        with(public.clone(), 1, &ED25519_NOT_ON_CURVE),
    );
    add(
        t,
        "public-ed25519-non-canonical",
        with(public.clone(), 1, &ED25519_NON_CANONICAL),
    );
    add(
        t,
        "public-mlkem-unreduced",
        with(public.clone(), 33, &[0xff, public[34] | 0x0f]),
    );
    add(
        t,
        "public-x25519-zero",
        with(public.clone(), kem_x25519, &[0; 32]),
    );
    add(
        t,
        "public-x25519-order-8",
        with(public.clone(), kem_x25519, &X25519_ORDER_8),
    );
    add(
        t,
        "public-x25519-p-plus-1-high-bit",
        with(public.clone(), kem_x25519, &X25519_P_PLUS_1_HIGH_BIT),
    );
    add(t, "empty", Vec::new());

    // --- xwing: [mode] bytes ---
    let t = "xwing";
    let key = fixtures::recipient_key();
    let pk = key.public_key().to_bytes().to_vec();
    let (ct, _) = key
        .public_key()
        .encapsulate_derand(&[5; 64])
        .expect("honest encapsulation");
    let ct = ct.to_bytes().to_vec();
    add(t, "public-key", cat(&[&[0], &pk]));
    add(
        t,
        "public-key-unreduced",
        cat(&[&[0], &with(pk.clone(), 0, &[0xff, pk[1] | 0x0f])]),
    );
    add(
        t,
        "public-key-x25519-zero",
        cat(&[&[0], &with(pk.clone(), 1184, &[0; 32])]),
    );
    add(t, "ciphertext-honest", cat(&[&[0], &ct]));
    add(
        t,
        "ciphertext-x25519-zero",
        cat(&[&[0], &with(ct.clone(), 1088, &[0; 32])]),
    );
    add(
        t,
        "ciphertext-x25519-minus-1-high-bit",
        cat(&[&[0], &with(ct.clone(), 1088, &X25519_MINUS_1_HIGH_BIT)]),
    );
    add(t, "ciphertext-pattern", vec![0, 1, 2, 3]);
    let eseed = [0x5a; 64];
    add(t, "tamper-none", cat(&[&[1], &eseed]));
    add(t, "tamper-mlkem", cat(&[&[1], &eseed, &[0, 17, 0x40]]));
    add(
        t,
        "tamper-x25519-high-bit",
        cat(&[&[1], &eseed, &[0x04, 0x5f, 0x80]]),
    );
    add(
        t,
        "tamper-twice-cancels",
        cat(&[&[1], &eseed, &[0, 5, 0xff, 0, 5, 0xff]]),
    );

    // --- hpke_open: [enc selector] [aad len] [export len] enc aad ct ---
    let t = "hpke_open";
    let info = fixtures::HPKE_OPEN_INFO;
    let (enc, sealed) =
        hpke::seal_derand(key.public_key(), info, b"aad", b"hello", &[7; 64]).expect("seal");
    let input = |enc: &[u8], aad: &[u8], ct: &[u8], export: u16| {
        fixtures::hpke_open_input(enc, aad, ct, export)
    };
    add(t, "genuine", input(&enc, b"aad", &sealed, 32));
    let (enc0, sealed0) =
        hpke::seal_derand(key.public_key(), info, b"", b"", &[8; 64]).expect("seal");
    add(t, "genuine-empty-export-0", input(&enc0, b"", &sealed0, 0));
    add(
        t,
        "export-max",
        input(&enc, b"aad", &sealed, fixtures::MAX_EXPORT_LEN as u16),
    );
    add(
        t,
        "export-too-long",
        input(&enc, b"aad", &sealed, fixtures::MAX_EXPORT_LEN as u16 + 1),
    );
    let last = sealed.len() - 1;
    add(
        t,
        "tampered-tag",
        input(&enc, b"aad", &flip(sealed.clone(), last, 1), 32),
    );
    add(t, "wrong-aad", input(&enc, b"aae", &sealed, 32));
    add(
        t,
        "short-ciphertext",
        input(&enc, b"aad", &sealed[..15], 32),
    );
    add(
        t,
        "enc-short",
        input(&enc[..hpke::ENC_LEN - 1], b"aad", &sealed, 32),
    );
    add(
        t,
        "enc-long",
        input(&cat(&[&enc, &[0]]), b"aad", &sealed, 32),
    );
    add(
        t,
        "enc-x25519-zero",
        input(&with(enc.to_vec(), 1088, &[0; 32]), b"aad", &sealed, 32),
    );

    // --- sealed_sender: a sealed message for Bob ---
    let t = "sealed_sender";
    let bob_public = bob.public().clone();
    let seal = |cert: &SenderCertificate,
                to: &qpc_crypto::identity::PublicIdentity,
                kind,
                ts,
                id: u8,
                padded: &[u8]| {
        Sender::new(alice, cert.clone())
            .expect("Alice's certificate")
            .seal_padded_derand(to, kind, ts, [id; 16], padded, &[id; 64])
            .expect("seal")
    };
    let padme = |content: &[u8]| padding::pad(Padding::Padme, content).expect("pads");
    let message = seal(
        &cert,
        &bob_public,
        Kind::Message,
        NOW,
        1,
        &padme(b"hello bob"),
    );
    add(t, "message", message.clone());
    add(
        t,
        "decoy",
        seal(&cert, &bob_public, Kind::Decoy, NOW, 2, &padme(b"cover")),
    );
    add(
        t,
        "lora-padded",
        seal(
            &cert,
            &bob_public,
            Kind::Message,
            NOW,
            3,
            &padding::pad(Padding::Buckets(LORA_BUCKETS), b"on air").expect("pads"),
        ),
    );
    add(
        t,
        "empty-content",
        seal(&cert, &bob_public, Kind::Message, NOW, 4, &padme(b"")),
    );
    add(
        t,
        "expired-certificate",
        seal(
            &fixtures::alice_certificate(issuer, NOW),
            &bob_public,
            Kind::Message,
            NOW,
            5,
            &padme(b"late"),
        ),
    );
    add(
        t,
        "unknown-issuer",
        seal(
            &fixtures::alice_certificate(fixtures::other_issuer(), CERT_EXPIRES),
            &bob_public,
            Kind::Message,
            NOW,
            6,
            &padme(b"who?"),
        ),
    );
    add(
        t,
        "stale",
        seal(
            &cert,
            &bob_public,
            Kind::Message,
            NOW - 8 * day,
            7,
            &padme(b"old"),
        ),
    );
    add(
        t,
        "from-the-future",
        seal(
            &cert,
            &bob_public,
            Kind::Message,
            NOW + 5 * 60 * 1000 + 1,
            8,
            &padme(b"soon"),
        ),
    );
    add(
        t,
        "timestamp-zero",
        seal(&cert, &bob_public, Kind::Message, 0, 9, &padme(b"epoch")),
    );
    add(
        t,
        "bad-padding",
        seal(&cert, &bob_public, Kind::Message, NOW, 10, b"not padded"),
    );
    add(
        t,
        "wrong-recipient",
        seal(
            &cert,
            &carol.public().clone(),
            Kind::Message,
            NOW,
            11,
            &padme(b"hi carol"),
        ),
    );
    add(t, "truncated", message[..message.len() - 1].to_vec());
    add(t, "trailing-byte", cat(&[&message, &[0]]));
    add(t, "version-2", with(message.clone(), 0, &[2]));
    add(
        t,
        "flipped-ciphertext",
        flip(message.clone(), message.len() - 3, 4),
    );
    add(
        t,
        "enc-x25519-zero",
        with(message.clone(), 17 + 1088, &[0; 32]),
    );
    {
        // The ciphertext length as a 4-byte varint instead of 2 bytes.
        let header = 1 + 16 + hpke::ENC_LEN;
        let ct_len = message.len() - header - 2;
        let len = u32::try_from(ct_len).expect("short") | 0x8000_0000;
        add(
            t,
            "non-minimal-length",
            cat(&[
                &message[..header],
                &len.to_be_bytes(),
                &message[header + 2..],
            ]),
        );
    }
    add(t, "empty", Vec::new());

    // --- sealed_inner: [mode] [eseed] inner ---
    let t = "sealed_inner";
    let e = 0x11;
    let message = inner(e, 0, cert.clone(), NOW, b"hello bob");
    let input = |mode: u8, inner: &[u8]| fixtures::sealed_inner_input(mode, e, inner);
    add(t, "message", input(0, &message.encode()));
    add(
        t,
        "decoy",
        input(0, &inner(e, 1, cert.clone(), NOW, b"cover").encode()),
    );
    add(
        t,
        "lora-padded",
        input(0, &{
            let mut lora = message.clone();
            lora.padded_content = padding::pad(Padding::Buckets(LORA_BUCKETS), b"on air")
                .expect("pads")
                .into();
            lora.encode()
        }),
    );
    add(
        t,
        "forged-signature",
        input(0, &flip(message.encode(), message.encode().len() - 1, 1)),
    );
    add(
        t,
        "resigned-message",
        input(
            inner_mode::RESIGN_MESSAGE,
            &flip(message.encode(), message.encode().len() - 1, 1),
        ),
    );
    add(
        t,
        "unknown-kind",
        input(0, &with(message.encode(), 0, &[2])),
    );
    add(
        t,
        "truncated",
        input(0, &message.encode()[..message.encode().len() - 1]),
    );
    add(
        t,
        "trailing-byte",
        input(0, &cat(&[&message.encode(), &[0]])),
    );
    add(
        t,
        "content-over-1mib",
        input(
            0,
            &cat(&[
                &message.encode()[..1 + 144 + 8 + 16],
                &(0x8000_0000u32 | ((1 << 20) + 1)).to_be_bytes(),
            ]),
        ),
    );
    add(
        t,
        "unknown-issuer",
        input(
            0,
            &inner(
                e,
                0,
                fixtures::alice_certificate(fixtures::other_issuer(), CERT_EXPIRES),
                NOW,
                b"who?",
            )
            .encode(),
        ),
    );
    add(
        t,
        "forged-certificate",
        input(0, &{
            let mut forged = message.clone();
            forged.certificate.expires_ms += 1;
            forged.signature = forged.alice_signature(&fixtures::inner_context(e).2);
            forged.encode()
        }),
    );
    let resign = inner_mode::RESIGN_CERTIFICATE | inner_mode::RESIGN_MESSAGE;
    let with_cert = |f: &dyn Fn(&mut SenderCertificate)| {
        let mut changed = message.clone();
        f(&mut changed.certificate);
        changed.encode()
    };
    add(
        t,
        "resigned-certificate-expired",
        input(resign, &with_cert(&|c| c.expires_ms = NOW)),
    );
    add(
        t,
        "resigned-weak-key",
        input(resign, &with_cert(&|c| c.signing_key = ED25519_NEUTRAL)),
    );
    add(
        t,
        "resigned-other-sender",
        input(
            resign,
            &with_cert(&|c| c.signing_key = carol.public().signing_key().to_bytes()),
        ),
    );
    add(
        t,
        "alice-key-any-digest",
        input(
            resign | inner_mode::ALICE_KEY,
            &with_cert(&|c| {
                c.signing_key = [0x77; 32];
                c.kem_key_digest = [0x42; 32];
            }),
        ),
    );
    let with_inner = |f: &dyn Fn(&mut Inner)| {
        let mut changed = message.clone();
        f(&mut changed);
        changed.encode()
    };
    add(
        t,
        "stale",
        input(
            inner_mode::RESIGN_MESSAGE,
            &with_inner(&|i| i.timestamp_ms = NOW - 8 * day),
        ),
    );
    add(
        t,
        "timestamp-zero",
        input(
            inner_mode::RESIGN_MESSAGE,
            &with_inner(&|i| i.timestamp_ms = 0),
        ),
    );
    add(
        t,
        "bad-padding",
        input(
            inner_mode::RESIGN_MESSAGE,
            &with_inner(&|i| i.padded_content = b"not padded"[..].into()),
        ),
    );
    add(t, "empty", input(0, &[]));

    // --- certificate: [mode] certificate ---
    let t = "certificate";
    let mode = |clock: u8, roots: u8| {
        (clock << crate::certificate_mode::CLOCK_SHIFT)
            | (roots << crate::certificate_mode::ROOTS_SHIFT)
    };
    add(t, "alice", cat(&[&[mode(0, 0)], &cert_bytes]));
    add(t, "alice-last-valid-ms", cat(&[&[mode(1, 0)], &cert_bytes]));
    add(t, "alice-expires-now", cat(&[&[mode(2, 0)], &cert_bytes]));
    add(t, "alice-clock-max", cat(&[&[mode(3, 0)], &cert_bytes]));
    add(t, "alice-two-roots", cat(&[&[mode(0, 1)], &cert_bytes]));
    add(t, "alice-no-roots", cat(&[&[mode(0, 2)], &cert_bytes]));
    add(
        t,
        "alice-untrusted-root",
        cat(&[&[mode(0, 3)], &cert_bytes]),
    );
    let other = codec::encode_to_vec(&fixtures::alice_certificate(
        fixtures::other_issuer(),
        CERT_EXPIRES,
    ))
    .expect("certificate encodes");
    add(t, "other-issuer", cat(&[&[mode(0, 0)], &other]));
    add(t, "other-issuer-two-roots", cat(&[&[mode(0, 1)], &other]));
    add(
        t,
        "forged-expiry",
        cat(&[&[mode(0, 0)], &flip(cert_bytes.clone(), 71, 1)]),
    );
    let resign = crate::certificate_mode::RESIGN;
    add(
        t,
        "resigned-weak-key",
        cat(&[&[resign], &with(cert_bytes.clone(), 0, &ED25519_NEUTRAL)]),
    );
    add(
        t,
        "resigned-non-canonical-key",
        cat(&[
            &[resign],
            &with(cert_bytes.clone(), 0, &ED25519_NON_CANONICAL),
        ]),
    );
    add(
        t,
        "resigned-any-issuer-id",
        cat(&[&[resign], &with(cert_bytes.clone(), 72, &[0xee; 8])]),
    );
    add(t, "truncated", cat(&[&[0], &cert_bytes[..143]]));
    add(t, "trailing-byte", cat(&[&[0], &cert_bytes, &[0]]));
    add(t, "empty", vec![0]);

    // --- padding: padded bytes ---
    let t = "padding";
    add(t, "padme-hello", padme(b"hello"));
    add(t, "padme-1000", padme(&[0x61; 1000]));
    add(
        t,
        "lora-24",
        padding::pad(Padding::Buckets(LORA_BUCKETS), &[7; 23]).expect("pads"),
    );
    add(
        t,
        "lora-222",
        padding::pad(Padding::Buckets(LORA_BUCKETS), &[7; 221]).expect("pads"),
    );
    add(t, "marker-only", vec![padding::MARKER]);
    add(t, "small-buckets-3", vec![9, 9, padding::MARKER]);
    add(t, "no-marker", vec![0, 0, 0]);
    add(t, "not-marker", vec![1, 0x81]);
    add(t, "wrong-length", vec![1, 2, padding::MARKER, 0]);
    // The first 8 bytes are also a length for `padme`: 2^63 - 1, 2^64 - 2^57
    // (the largest that rounds without overflow), and the overflow range.
    add(
        t,
        "length-prefix-2-pow-63",
        cat(&[&(u64::MAX >> 1).to_le_bytes(), &[padding::MARKER]]),
    );
    add(
        t,
        "length-prefix-largest-rounding",
        cat(&[
            &(u64::MAX - (1 << 57) + 1).to_le_bytes(),
            &[padding::MARKER],
        ]),
    );
    add(
        t,
        "length-prefix-overflow",
        cat(&[&u64::MAX.to_le_bytes(), &[padding::MARKER, 0]]),
    );
    add(t, "empty", Vec::new());
}
