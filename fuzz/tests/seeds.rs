//! The committed seed files are exactly what `qpc_fuzz::seeds` generates
//! (rewrite them with `cargo run -p qpc-fuzz --example write_seeds`).

use std::path::Path;

#[test]
fn seeds_are_committed() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for seed in qpc_fuzz::seeds::all() {
        let path = corpus.join(seed.target).join(seed.name);
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run the write_seeds example", path.display()));
        assert_eq!(committed, seed.bytes, "{} is stale", path.display());
    }
}

#[test]
fn seed_names_are_unique_and_targets_known() {
    let seeds = qpc_fuzz::seeds::all();
    for (i, seed) in seeds.iter().enumerate() {
        assert!(qpc_fuzz::TARGETS.contains(&seed.target), "{}", seed.target);
        assert!(
            seeds[..i]
                .iter()
                .all(|s| (s.target, s.name) != (seed.target, seed.name)),
            "duplicate seed {}/{}",
            seed.target,
            seed.name
        );
    }
}

#[test]
fn every_target_has_seeds() {
    let seeds = qpc_fuzz::seeds::all();
    for target in qpc_fuzz::TARGETS {
        assert!(
            seeds.iter().filter(|s| s.target == target).count() >= 5,
            "{target}"
        );
    }
}

/// The seeds cover what their names say (checked for the one-shot targets,
/// whose outcome is a single result).
#[test]
fn seeds_mean_what_they_say() {
    use bytes::Bytes;
    use qpc_wire::{codec, Frame, Hello};

    let class = |r: Result<(), qpc_wire::Error>| r.map_err(|e| e.class()).err().unwrap_or("ok");
    for seed in qpc_fuzz::seeds::all() {
        let outcome = match seed.target {
            "frame" => {
                let config = qpc_fuzz::decoder_config(seed.bytes[0]);
                class(Frame::decode(Bytes::copy_from_slice(&seed.bytes[1..]), &config).map(drop))
            }
            "hello" => {
                class(codec::decode_exact::<Hello>(Bytes::from(seed.bytes.clone())).map(drop))
            }
            _ => continue,
        };
        let expected = match seed.name {
            "padding" | "hello" | "empty-body" | "two-byte-length" | "version-2-allowed" => "ok",
            "spec-example"
            | "several-versions-and-capabilities"
            | "max-limits"
            | "no-capabilities" => "ok",
            "trailing-bytes" | "trailing-byte" => "trailing_bytes",
            "truncated-header" | "truncated-body" | "empty-input" | "odd-capability-bytes" => {
                "truncated"
            }
            "non-minimal-length" | "non-minimal-vector-length" => "non_minimal_length",
            "reserved-length-prefix" => "invalid_length_prefix",
            "unknown-frame-type" => "unknown_frame_type",
            "version-1-refused" => "unknown_version",
            "limit-0-too-large" => "frame_too_large",
            "thirty-three-versions" => "too_many_items",
            _ => "malformed",
        };
        assert_eq!(outcome, expected, "{}/{}", seed.target, seed.name);
    }
}

/// The outcome of a qpc-crypto seed, as one word: `ok` or an error class,
/// computed from the documented input layout with the fixed keys of
/// `qpc_fuzz::fixtures` (not with the target functions).
fn crypto_outcome(target: &str, data: &[u8]) -> String {
    use bytes::Bytes;
    use qpc_crypto::certificate::SenderCertificate;
    use qpc_crypto::identity::{Identity, PublicIdentity};
    use qpc_crypto::padding::{self, Padding};
    use qpc_crypto::xwing::{XWingCiphertext, XWingPublicKey};
    use qpc_crypto::{hpke, Error};
    use qpc_fuzz::fixtures;
    use qpc_wire::codec;

    fn class<T>(r: Result<T, Error>) -> String {
        r.map_or_else(|e| e.class().to_string(), |_| "ok".to_string())
    }
    fn opened(r: Result<Option<qpc_crypto::sealed_sender::Opened>, Error>) -> String {
        match r {
            Ok(Some(_)) => "ok".to_string(),
            Ok(None) => "decoy".to_string(),
            Err(e) => e.class().to_string(),
        }
    }
    match target {
        "identity" if data.len() == 65 => class(Identity::from_secret_bytes(data)),
        "identity" => class(PublicIdentity::from_bytes(data)),
        "xwing" => {
            let (mode, bytes) = (data[0], &data[1..]);
            let key = fixtures::recipient_key();
            if mode & 1 == 1 {
                let mut eseed = [0u8; 64];
                eseed.copy_from_slice(&bytes[..64]);
                let (ct, ss) = key.public_key().encapsulate_derand(&eseed).unwrap();
                let mut ct = ct.to_bytes();
                for edit in bytes[64..].chunks_exact(3) {
                    let index = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % ct.len();
                    ct[index] ^= edit[2];
                }
                match key.decapsulate(&XWingCiphertext::from_bytes(&ct).unwrap()) {
                    Ok(other) if other == ss => "same-secret".to_string(),
                    Ok(_) => "other-secret".to_string(),
                    Err(e) => e.class().to_string(),
                }
            } else if bytes.len() == 1216 {
                match XWingPublicKey::from_bytes(bytes) {
                    Ok(pk) => format!("encapsulate-{}", class(pk.encapsulate_derand(&[mode; 64]))),
                    Err(e) => e.class().to_string(),
                }
            } else {
                let ct: Vec<u8> = bytes.iter().copied().cycle().take(1120).collect();
                format!(
                    "decapsulate-{}",
                    class(key.decapsulate(&XWingCiphertext::from_bytes(&ct).unwrap()))
                )
            }
        }
        "hpke_open" => {
            let enc_len = qpc_fuzz::hpke_enc_len(data[0]);
            let export_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
            let rest = &data[4..];
            let (enc, rest) = rest.split_at(enc_len.min(rest.len()));
            let (aad, ct) = rest.split_at(usize::from(data[1]).min(rest.len()));
            let key = fixtures::recipient_key();
            match hpke::open(key, enc, fixtures::HPKE_OPEN_INFO, aad, ct) {
                Ok(_) => {
                    let ctx = hpke::setup_receiver(key, enc, fixtures::HPKE_OPEN_INFO).unwrap();
                    format!(
                        "ok-export-{}",
                        class(ctx.export(fixtures::EXPORT_CONTEXT, export_len))
                    )
                }
                Err(e) => e.class().to_string(),
            }
        }
        "sealed_sender" => opened(fixtures::receiver().open(fixtures::NOW, data)),
        "sealed_inner" => {
            let input = fixtures::sealed_inner_message(data).unwrap();
            opened(fixtures::receiver().open(fixtures::NOW, &input.sealed))
        }
        "certificate" => {
            let mode = data[0];
            let mut cert = match codec::decode_exact::<SenderCertificate>(Bytes::copy_from_slice(
                &data[1..],
            )) {
                Ok(cert) => cert,
                Err(e) => return e.class().to_string(),
            };
            if mode & 1 != 0 {
                cert.issuer_key_id = *fixtures::issuer().trust_root().key_id();
                cert.issuer_signature =
                    fixtures::issuer_signature(&fixtures::certificate_tbs(&cert));
            }
            let now = match (mode >> 1) & 3 {
                0 => fixtures::NOW,
                1 => cert.expires_ms - 1,
                2 => cert.expires_ms,
                _ => u64::MAX,
            };
            let trusted = fixtures::issuer().trust_root().clone();
            let untrusted = fixtures::other_issuer().trust_root().clone();
            let roots = match (mode >> 3) & 3 {
                0 => vec![trusted],
                1 => vec![untrusted, trusted],
                2 => vec![],
                _ => vec![untrusted],
            };
            class(cert.verify(&roots, now))
        }
        "padding" => {
            let schemes = [
                ("padme", Padding::Padme),
                ("lora", Padding::Buckets(padding::LORA_BUCKETS)),
                ("small", Padding::Buckets(&[1, 2, 3, 100, 4096])),
            ];
            let accepted: Vec<&str> = schemes
                .iter()
                .filter(|(_, s)| padding::unpad(*s, data).is_ok())
                .map(|(name, _)| *name)
                .collect();
            if accepted.is_empty() {
                "bad_padding".to_string()
            } else {
                accepted.join("+")
            }
        }
        t if t.starts_with("pqxx_") => pqxx_outcome(t, data),
        "mls_payload" => {
            use qpc_crypto::mls::{delivery::DeliveryHeader, payload::ApplicationPayload};
            match data.split_first() {
                None => "empty".to_string(),
                Some((0, bytes)) => class(ApplicationPayload::from_plaintext(bytes)),
                Some((_, bytes)) => format!("header-{}", class(DeliveryHeader::decode(bytes))),
            }
        }
        _ => unreachable!("{target}"),
    }
}

/// The outcome of a pqXX seed, computed with the real state machines from
/// the documented input layouts: a handshake error class, or the session's
/// mode and peer (`pq-bob`); for transports, how many records gave each
/// result (`ok=3 replayed=1`).
fn pqxx_outcome(target: &str, data: &[u8]) -> String {
    use qpc_crypto::pqxx::{transport::TransportConfig, Mode, PeerIdentity, Session};
    use qpc_crypto::Error;
    use qpc_fuzz::fixtures::pqxx::{self as fx, mode, Op, Policy};
    use qpc_fuzz::fixtures::{self, NOW};
    use std::collections::BTreeMap;

    fn class<T>(r: Result<T, Error>) -> String {
        r.map_or_else(|e| e.class().to_string(), |_| "ok".to_string())
    }
    fn peer(p: &PeerIdentity) -> &'static str {
        let key = p.signing_key.as_bytes();
        [
            ("alice", fixtures::alice()),
            ("bob", fixtures::bob()),
            ("carol", fixtures::carol()),
        ]
        .into_iter()
        .find(|(_, id)| id.public().signing_key().as_bytes() == key)
        .map_or("unknown", |(name, _)| name)
    }
    fn session(s: &Session) -> String {
        let mode = match s.mode() {
            Mode::PostQuantum => "pq",
            Mode::Classical => "classical",
        };
        format!("{mode}-{}", peer(s.peer()))
    }
    fn counts(classes: Vec<String>) -> String {
        let mut counts = BTreeMap::new();
        for class in classes {
            *counts.entry(class).or_insert(0) += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(c, n)| format!("{c}={n}")).collect();
        counts.join(" ")
    }
    fn records(ops: &[u8], datagram: bool) -> Vec<Vec<u8>> {
        let genuine = if datagram {
            &fx::records().datagram
        } else {
            &fx::records().stream
        };
        fx::ops(ops, datagram)
            .into_iter()
            .map(|op| match op {
                Op::Literal(bytes) => bytes.to_vec(),
                Op::Genuine(n) => genuine[n].record.clone(),
            })
            .collect()
    }

    let (m, bytes) = (data[0], &data[1..]);
    let mut out = Vec::new();
    match target {
        "pqxx_responder_msg1" => {
            let input = fx::message_1(m, bytes).unwrap();
            let mut bob = fx::responder(Policy::from_mode(m).config());
            if let Err(e) = bob.read_message_1(&input.message) {
                return e.class().to_string();
            }
            if m & mode::REPEAT_1 != 0 {
                return format!("ok-again-{}", class(bob.read_message_1(&input.message)));
            }
            let reply: &[u8] = if m & mode::LONG_REPLY != 0 {
                &[0; 17]
            } else {
                fx::APP_2
            };
            match bob.write_message_2(reply) {
                Ok(m2) if m2.len() > 1000 => "ok-pq".to_string(),
                Ok(_) => "ok-classical".to_string(),
                Err(e) => format!("ok-reply-{}", e.class()),
            }
        }
        "pqxx_initiator_msg2" => {
            let mut config = Policy::from_mode(m).config();
            if m & mode::PIN != 0 {
                config = config.pinned(fixtures::bob().public().address());
            }
            let t = fx::transcript(!config.post_quantum);
            let (mut alice, _) = fx::initiator_after_1(config);
            let input = fx::message_2(m, bytes, t).unwrap();
            if let Err(e) = alice.read_message_2(NOW, &input.message) {
                return e.class().to_string();
            }
            if m & mode::REPEAT_2 != 0 {
                return format!(
                    "ok-again-{}",
                    class(alice.read_message_2(NOW, &input.message))
                );
            }
            session(&alice.write_message_3(fx::APP_3).unwrap().1)
        }
        "pqxx_responder_msg3" => {
            let classical = m & mode::CLASSICAL != 0;
            let t = fx::transcript(classical);
            let mut config = if classical {
                Policy::Tolerant
            } else {
                Policy::Strict
            }
            .config();
            if m & mode::SMALL_APPLICATION != 0 {
                config.max_application_len = fx::SMALL_APPLICATION_LEN;
            }
            if m & mode::PIN != 0 {
                config = config.pinned(fixtures::alice().public().address());
            }
            let bob = fx::responder_after_2(config, t);
            let input = fx::message_3(m, bytes, t).unwrap();
            match bob.read_message_3(NOW, &input.message) {
                Ok((s, _)) => session(&s),
                Err(e) => e.class().to_string(),
            }
        }
        "pqxx_stream" => {
            let config = TransportConfig {
                max_plaintext_len: if m & 1 != 0 {
                    qpc_fuzz::STREAM_SMALL_LIMIT
                } else {
                    65_511
                },
                ..TransportConfig::default()
            };
            let mut bob = fx::bob_session().into_stream(config, NOW).unwrap();
            counts(
                records(bytes, false)
                    .iter()
                    .map(|r| class(bob.open(r, &mut out)))
                    .collect(),
            )
        }
        "pqxx_datagram" => {
            let config = qpc_fuzz::datagram_config(m);
            let mut bob = fx::bob_session().into_datagram(config, NOW).unwrap();
            counts(
                records(bytes, true)
                    .iter()
                    .map(|r| class(bob.open(r, &mut out)))
                    .collect(),
            )
        }
        _ => unreachable!("{target}"),
    }
}

/// Every qpc-crypto seed (pqXX included) has the outcome listed here (and
/// every listed seed exists): the seeds cover what their names say.
#[test]
fn crypto_seeds_mean_what_they_say() {
    #[rustfmt::skip]
    let expected: &[(&str, &[(&str, &str)])] = &[
        ("identity", &[
            ("public-alice", "ok"), ("public-bob", "ok"), ("secret-alice", "ok"),
            ("secret-version-2", "unknown_version"), ("secret-short", "wrong_length"),
            ("public-version-0", "unknown_version"), ("public-truncated", "wrong_length"),
            ("public-ed25519-neutral", "invalid_public_key"),
            ("public-ed25519-not-on-curve", "invalid_public_key"),
            ("public-ed25519-non-canonical", "invalid_public_key"),
            ("public-mlkem-unreduced", "invalid_public_key"),
            ("public-x25519-zero", "invalid_public_key"),
            ("public-x25519-order-8", "invalid_public_key"),
            ("public-x25519-p-plus-1-high-bit", "invalid_public_key"),
            ("empty", "wrong_length"),
        ]),
        ("xwing", &[
            ("public-key", "encapsulate-ok"),
            ("public-key-unreduced", "invalid_public_key"),
            ("public-key-x25519-zero", "encapsulate-non_contributory"),
            ("ciphertext-honest", "decapsulate-ok"),
            ("ciphertext-x25519-zero", "decapsulate-non_contributory"),
            ("ciphertext-x25519-minus-1-high-bit", "decapsulate-non_contributory"),
            ("ciphertext-pattern", "decapsulate-ok"),
            ("tamper-none", "same-secret"), ("tamper-mlkem", "other-secret"),
            ("tamper-x25519-high-bit", "other-secret"),
            ("tamper-twice-cancels", "same-secret"),
        ]),
        ("hpke_open", &[
            ("genuine", "ok-export-ok"), ("genuine-empty-export-0", "ok-export-ok"),
            ("export-max", "ok-export-ok"), ("export-too-long", "ok-export-hpke"),
            ("tampered-tag", "open_failed"), ("wrong-aad", "open_failed"),
            ("short-ciphertext", "open_failed"), ("enc-short", "wrong_length"),
            ("enc-long", "wrong_length"), ("enc-x25519-zero", "non_contributory"),
        ]),
        ("sealed_sender", &[
            ("message", "ok"), ("decoy", "decoy"), ("lora-padded", "ok"),
            ("empty-content", "ok"), ("expired-certificate", "expired_certificate"),
            ("unknown-issuer", "unknown_issuer"), ("stale", "stale"),
            ("from-the-future", "stale"), ("timestamp-zero", "stale"),
            ("bad-padding", "bad_padding"), ("wrong-recipient", "wrong_recipient"),
            ("truncated", "truncated"), ("trailing-byte", "trailing_bytes"),
            ("version-2", "unknown_version"), ("flipped-ciphertext", "open_failed"),
            ("enc-x25519-zero", "non_contributory"),
            ("non-minimal-length", "non_minimal_length"), ("empty", "truncated"),
        ]),
        ("sealed_inner", &[
            ("message", "ok"), ("decoy", "decoy"), ("lora-padded", "bad_signature"),
            ("forged-signature", "bad_signature"), ("resigned-message", "ok"),
            ("unknown-kind", "malformed"), ("truncated", "truncated"),
            ("trailing-byte", "trailing_bytes"), ("content-over-1mib", "too_many_items"),
            ("unknown-issuer", "unknown_issuer"), ("forged-certificate", "bad_signature"),
            ("resigned-certificate-expired", "expired_certificate"),
            ("resigned-weak-key", "invalid_public_key"),
            ("resigned-other-sender", "bad_signature"), ("alice-key-any-digest", "ok"),
            ("stale", "stale"), ("timestamp-zero", "stale"), ("bad-padding", "bad_padding"),
            ("empty", "truncated"),
        ]),
        ("certificate", &[
            ("alice", "ok"), ("alice-last-valid-ms", "ok"),
            ("alice-expires-now", "expired_certificate"),
            ("alice-clock-max", "expired_certificate"), ("alice-two-roots", "ok"),
            ("alice-no-roots", "unknown_issuer"), ("alice-untrusted-root", "unknown_issuer"),
            ("other-issuer", "unknown_issuer"), ("other-issuer-two-roots", "ok"),
            ("forged-expiry", "bad_signature"), ("resigned-weak-key", "invalid_public_key"),
            ("resigned-non-canonical-key", "invalid_public_key"),
            ("resigned-any-issuer-id", "ok"), ("truncated", "truncated"),
            ("trailing-byte", "trailing_bytes"), ("empty", "truncated"),
        ]),
        ("padding", &[
            ("padme-hello", "padme"), ("padme-1000", "padme"), ("lora-24", "padme+lora"),
            ("lora-222", "lora"), ("marker-only", "padme+small"),
            ("small-buckets-3", "padme+small"), ("no-marker", "bad_padding"),
            ("not-marker", "bad_padding"), ("wrong-length", "bad_padding"),
            ("length-prefix-2-pow-63", "bad_padding"),
            ("length-prefix-largest-rounding", "bad_padding"),
            ("length-prefix-overflow", "padme"), ("empty", "bad_padding"),
        ]),
        ("pqxx_responder_msg1", &[
            ("genuine", "ok-pq"), ("genuine-tolerant", "ok-pq"),
            ("offer-to-classical", "ok-classical"),
            ("small-limit-long-reply", "ok-reply-content_too_long"),
            ("genuine-read-twice", "ok-again-wrong_state"),
            ("classical-to-strict", "downgrade"), ("classical-to-tolerant", "ok-classical"),
            ("flipped-tag", "open_failed"), ("flipped-ephemeral", "open_failed"),
            ("short-31", "malformed"), ("short-47", "open_failed"), ("empty", "malformed"),
            ("wrap-genuine", "ok-pq"), ("wrap-wrong-context", "open_failed"),
            ("wrap-classical-tolerant", "ok-classical"), ("wrap-classical-strict", "downgrade"),
            ("wrap-unknown-kem", "malformed"), ("wrap-unreduced-key", "invalid_public_key"),
            ("wrap-truncated-key", "truncated"), ("wrap-trailing-byte", "trailing_bytes"),
            ("wrap-application-over-limit", "content_too_long"),
            ("wrap-application-at-limit", "ok-pq"),
            ("wrap-reserved-length-prefix", "invalid_length_prefix"),
            ("wrap-non-minimal-length", "non_minimal_length"),
            ("wrap-application-truncated", "truncated"),
            ("wrap-application-over-default-limit", "content_too_long"), ("wrap-empty", "truncated"),
        ]),
        ("pqxx_initiator_msg2", &[
            ("genuine", "pq-bob"), ("genuine-pinned", "pq-bob"), ("genuine-tolerant", "pq-bob"),
            ("genuine-classical", "classical-bob"),
            ("genuine-read-twice", "ok-again-wrong_state"),
            ("classical-to-strict", "open_failed"), ("flipped-tag", "open_failed"),
            ("flipped-ephemeral", "open_failed"), ("low-order-ephemeral", "non_contributory"),
            ("short-79", "malformed"), ("short-80", "open_failed"), ("empty", "malformed"),
            ("wrap-genuine", "pq-bob"), ("wrap-classical", "classical-bob"),
            ("wrap-classical-to-tolerant", "classical-bob"),
            ("wrap-classical-to-strict", "downgrade"),
            ("wrap-ciphertext-without-offer", "malformed"),
            ("wrap-tampered-ciphertext", "pq-bob"), ("wrap-unknown-kem", "malformed"),
            ("wrap-application-over-limit", "content_too_long"),
            ("wrap-reserved-length-prefix", "invalid_length_prefix"),
            ("wrap-non-minimal-length", "non_minimal_length"),
            ("wrap-application-truncated", "truncated"),
            ("wrap-application-over-default-limit", "content_too_long"),
            ("wrap-other-static", "bad_signature"), ("wrap-other-static-resigned", "pq-bob"),
            ("wrap-carol-signs", "pq-carol"), ("wrap-carol-pinned", "peer_rejected"),
            ("wrap-other-digest", "pq-bob"), ("wrap-other-digest-pinned", "peer_rejected"),
            ("wrap-expired", "expired_binding"), ("wrap-expires-now", "pq-bob"),
            ("wrap-forged-signature", "bad_signature"), ("wrap-weak-key", "invalid_public_key"),
            ("wrap-truncated", "truncated"), ("wrap-trailing-byte", "trailing_bytes"),
            ("wrap-empty", "truncated"),
        ]),
        ("pqxx_responder_msg3", &[
            ("genuine", "pq-alice"), ("genuine-classical", "classical-alice"),
            ("genuine-pinned", "pq-alice"), ("genuine-small-limit", "pq-alice"),
            ("classical-to-post-quantum", "open_failed"),
            ("post-quantum-to-classical", "open_failed"), ("flipped-tag", "open_failed"),
            ("flipped-static", "open_failed"), ("flipped-payload", "open_failed"),
            ("short-47", "malformed"), ("short-48", "open_failed"),
            ("trailing-byte", "open_failed"), ("empty", "malformed"),
            ("wrap-post-quantum", "open_failed"), ("wrap-classical", "classical-alice"),
            ("wrap-application-over-limit", "content_too_long"),
            ("wrap-reserved-length-prefix", "invalid_length_prefix"),
            ("wrap-non-minimal-length", "non_minimal_length"),
            ("wrap-application-truncated", "truncated"),
            ("wrap-application-over-default-limit", "content_too_long"),
            ("wrap-other-static", "bad_signature"),
            ("wrap-other-static-resigned", "classical-alice"),
            ("wrap-carol-signs", "classical-carol"), ("wrap-carol-pinned", "peer_rejected"),
            ("wrap-other-digest", "classical-alice"),
            ("wrap-other-digest-pinned", "peer_rejected"),
            ("wrap-expired", "expired_binding"), ("wrap-expires-now", "classical-alice"),
            ("wrap-forged-signature", "bad_signature"), ("wrap-weak-key", "invalid_public_key"),
            ("wrap-truncated", "truncated"), ("wrap-trailing-byte", "trailing_bytes"),
            ("wrap-empty", "truncated"),
        ]),
        ("mls_payload", &[
            ("text", "ok"), ("reply", "ok"), ("unpadded", "bad_padding"),
            ("version-2", "unknown_version"), ("content-type-3", "malformed"),
            ("reply-flag-2", "malformed"), ("truncated", "truncated"),
            ("trailing-byte", "trailing_bytes"), ("non-minimal-length", "non_minimal_length"),
            ("body-too-long", "content_too_long"), ("not-utf8", "malformed"),
            ("header", "header-ok"), ("header-short", "header-truncated"),
            ("header-version-0", "header-unknown_version"), ("empty", "empty"),
        ]),
        ("pqxx_stream", &[
            ("in-order", "ok=16"), ("in-order-literal", "ok=4"),
            ("skip-one", "ok=1 open_failed=1 wrong_state=1"),
            ("replay", "ok=2 open_failed=1 wrong_state=1"),
            ("replay-after-key-update", "ok=4 open_failed=1"),
            ("unknown-flags", "malformed=1 ok=1"),
            ("key-update-flag-cleared", "ok=2 open_failed=1"),
            ("forgery-then-genuine", "ok=1 open_failed=1 wrong_state=1"),
            ("short-record", "malformed=1"), ("empty-record", "malformed=1 ok=1"),
            ("small-limit", "content_too_long=1 ok=9 wrong_state=1"),
            ("truncated-literal", "malformed=1"), ("no-records", ""),
        ]),
        ("pqxx_datagram", &[
            ("in-order", "ok=64"), ("in-order-literal", "ok=4"), ("reverse", "ok=41"),
            ("replay", "ok=2 replayed=2"), ("forgery-then-genuine", "ok=3 open_failed=2"),
            ("epochs", "ok=6 too_old=1"), ("epoch-jump-refused", "malformed=1 ok=2"),
            ("epoch-jump-2", "ok=3 too_old=1"), ("window", "ok=3 too_old=2"),
            ("window-1152", "ok=3 replayed=1"), ("small-limit", "content_too_long=1 ok=3"),
            ("short", "malformed=2"), ("old-epoch-forgery", "ok=4 too_old=1"),
            ("reserved-nonce", "malformed=1 ok=1"), ("far-epoch-forgery", "malformed=1 ok=1"),
            ("max-jump-forgery", "ok=2 open_failed=1"), ("no-records", ""),
        ]),
    ];
    let seeds = qpc_fuzz::seeds::all();
    for (target, table) in expected {
        let names: Vec<&str> = seeds
            .iter()
            .filter(|s| s.target == *target)
            .map(|s| s.name)
            .collect();
        let listed: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, listed, "{target}: seeds and table differ");
        for (name, outcome) in *table {
            let seed = seeds
                .iter()
                .find(|s| s.target == *target && s.name == *name)
                .expect("listed");
            assert_eq!(
                crypto_outcome(target, &seed.bytes),
                *outcome,
                "{target}/{name}"
            );
        }
    }
}
