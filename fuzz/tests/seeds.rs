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
