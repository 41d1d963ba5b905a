//! Writes the seed corpus of [`qpc_fuzz::seeds`] into `fuzz/corpus/<target>/`.
//!
//! Run from anywhere: `cargo run -p qpc-fuzz --example write_seeds`. Existing
//! seed files are overwritten; other files in the corpus are left alone.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for seed in qpc_fuzz::seeds::all() {
        let dir = corpus.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(seed.name), &seed.bytes)?;
    }
    println!(
        "wrote {} seeds under {}",
        qpc_fuzz::seeds::all().len(),
        corpus.display()
    );
    Ok(())
}
