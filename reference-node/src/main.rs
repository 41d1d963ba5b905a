//! `qpc-node`, the qpc reference node.
//!
//! **Status: not implemented.** The QUIC and LoRa transports, the store and
//! the `demo` arrive with the reference-node issue. Until then the binary
//! says so and exits with status 2 rather than pretending to work.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "qpc-node {}: the reference node is not implemented yet; \
         the protocol crates and `cargo run -p qpc-vectors -- verify` are usable now.",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
