//! FAPP over the mesh simulator at reduced size (the full 500-node runs
//! are `cargo run --release -p qpc-fapp --example fapp_sim`).

use qpc_fapp::sim::{run, FappConfig};
use qpc_mesh::sim::scenario::NetworkConfig;

fn small(seed: u64) -> FappConfig {
    let defaults = FappConfig::default();
    FappConfig {
        network: NetworkConfig {
            nodes: 40,
            mean_degree: 6.0,
            seed,
            ..defaults.network
        },
        therapists: 5,
        patients: 15,
        search_spread_ms: 120_000,
        tail_ms: 600_000,
        ..defaults
    }
}

#[test]
fn patients_book_over_a_lossy_mesh_without_double_bookings() {
    let report = run(&small(1)).unwrap();
    println!("{report:?}");
    assert_eq!(report.patients, 15);
    assert_eq!(report.double_bookings, 0);
    assert_eq!(report.patients_booked_twice, 0);
    assert_eq!(report.unfinished, 0);
    assert_eq!(report.booked + report.exhausted, report.patients);
    // 20 slots for 15 patients, 10% loss per edge: most book.
    assert!(report.booked >= 10, "{} booked", report.booked);
    assert!(report.fapp_frames > 0);
}
