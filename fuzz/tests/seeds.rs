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
