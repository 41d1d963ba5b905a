//! `qpc-vectors`: writes qpc's JSON test vectors and verifies against them.
//!
//! - `qpc-vectors generate [--dir DIR]` rewrites every vector file
//!   (deterministically: running it twice gives identical files);
//! - `qpc-vectors verify [FILE...]` checks qpc's implementation against the
//!   given files (default: every file in the vectors directory), printing
//!   `<file>: N passed, M failed` per file and a total line; the exit status
//!   is non-zero on any failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qpc_vectors::{suite_for, SUITES};

#[derive(Parser)]
#[command(version, about = "Generate and verify qpc test vectors")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every vector file.
    Generate {
        /// Directory to write into.
        #[arg(long, default_value_os_t = default_dir())]
        dir: PathBuf,
    },
    /// Verify vector files (default: all of them).
    Verify {
        /// Vector files to check.
        files: Vec<PathBuf>,
        /// Print every vector, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
}

fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(dir: &Path) -> Result<(), String> {
    for suite in SUITES {
        let path = dir.join(suite.file);
        std::fs::write(&path, (suite.generate)())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `path` relative to the working directory where possible, for short output.
fn shown(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Verifies one file; returns (passed, failed).
fn verify_file(path: &Path, verbose: bool) -> (usize, usize) {
    let results = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| suite_for(&text).and_then(|suite| (suite.verify)(&text)));
    let results = match results {
        Ok(results) => results,
        Err(e) => {
            println!("{}: 0 passed, 1 failed ({e})", shown(path));
            return (0, 1);
        }
    };
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    for r in &results {
        match &r.failure {
            Some(why) => println!("  FAIL {}: {why}", r.name),
            None if verbose => println!("  ok   {}", r.name),
            None => {}
        }
    }
    println!(
        "{}: {} passed, {failed} failed",
        shown(path),
        results.len() - failed
    );
    (results.len() - failed, failed)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Generate { dir } => match generate(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Verify { files, verbose } => {
            let files = if files.is_empty() {
                SUITES.iter().map(|s| default_dir().join(s.file)).collect()
            } else {
                files
            };
            let (passed, failed) = files
                .iter()
                .map(|f| verify_file(f, verbose))
                .fold((0, 0), |(p, f), (p2, f2)| (p + p2, f + f2));
            println!("{passed} passed, {failed} failed");
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
