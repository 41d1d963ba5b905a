//! The committed vector files are exactly what `generate` produces, and qpc
//! passes every vector in them.

use qpc_vectors::SUITES;

fn committed(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_files_are_generated_files() {
    for suite in SUITES {
        assert!(
            committed(suite.file) == (suite.generate)(),
            "{} differs from `qpc-vectors generate`; regenerate and review the diff",
            suite.file
        );
    }
}

#[test]
fn every_committed_vector_passes() {
    for suite in SUITES {
        let results = (suite.verify)(&committed(suite.file)).unwrap();
        assert!(!results.is_empty());
        let failures: Vec<_> = results.iter().filter(|r| r.failure.is_some()).collect();
        assert!(failures.is_empty(), "{}: {failures:#?}", suite.file);
    }
}

#[test]
fn a_tampered_vector_fails() {
    let text = committed("wire.json").replacen("\"encoded\": \"25\"", "\"encoded\": \"26\"", 1);
    let results = (SUITES[0].verify)(&text).unwrap();
    assert_eq!(results.iter().filter(|r| r.failure.is_some()).count(), 1);
}
