//! Replays every committed input of every target on stable Rust.
//!
//! For each target in [`qpc_fuzz::TARGETS`], every file of
//! `fuzz/corpus/<target>/` (which must not be empty) and, if the directory
//! exists, of `fuzz/artifacts/<target>/` (crash inputs libFuzzer saved) runs
//! through the matching function of `qpc_fuzz`. A failed property panics
//! and names the file.

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, file: &Path) {
    let data = std::fs::read(file).expect("readable corpus file");
    let outcome = std::panic::catch_unwind(|| qpc_fuzz::run(target, &data));
    match outcome {
        Ok(known) => assert!(known, "unknown target {target}"),
        Err(_) => panic!("target {target} failed on {} ({data:02x?})", file.display()),
    }
}

#[test]
fn corpus_and_artifacts_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in qpc_fuzz::TARGETS {
        let corpus = files(&root.join("corpus").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ is empty");
        let artifacts = files(&root.join("artifacts").join(target));
        for file in corpus.iter().chain(&artifacts) {
            replay(target, file);
        }
        println!(
            "{target}: {} corpus and {} artifact inputs replayed",
            corpus.len(),
            artifacts.len()
        );
    }
}

#[test]
fn no_stray_corpus_directories() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for entry in std::fs::read_dir(&root).expect("fuzz/corpus exists") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            qpc_fuzz::TARGETS.contains(&&*name),
            "fuzz/corpus/{name} belongs to no target"
        );
    }
}
