//! The race scenarios of `spec/20` over the mesh simulator, with loss:
//! patients racing for one or two slots, holds that expire, announces
//! superseded while reservations are in flight, and reservations replayed
//! to the therapist. Every seed: no double booking, no patient booked
//! twice, every booking held by the therapist, every patient booked or
//! exhausted. 100 seeds here; `FAPP_RACE_SEEDS=1000` for the full run.

use qpc_fapp::patient::PatientConfig;
use qpc_fapp::sim::{run, FappConfig, FappReport, Practices};
use qpc_fapp::therapist::TherapistConfig;
use qpc_mesh::sim::scenario::NetworkConfig;
use qpc_mesh::sim::topology::EdgeConfig;

fn race(seed: u64) -> FappConfig {
    let defaults = FappConfig::default();
    let variant = seed % 4;
    FappConfig {
        network: NetworkConfig {
            nodes: 6 + (seed % 5) as usize,
            mean_degree: 3.0,
            edge: EdgeConfig {
                latency_ms: 5,
                loss_permille: [0, 50, 150][(seed / 4 % 3) as usize],
            },
            seed,
            ..defaults.network
        },
        therapists: 1 + (seed % 2) as usize,
        patients: 2 + (seed % 3) as usize,
        slots_per_therapist: 1 + (seed / 2 % 2) as u32,
        therapist: TherapistConfig {
            hold_ms: 5_000,
            ..TherapistConfig::default()
        },
        patient: PatientConfig {
            collect_ms: 2_000,
            result_grace_ms: 2_000,
            ..PatientConfig::default()
        },
        practices: Practices {
            decision_ms: 3_000,
            // Variant 1: most holds are declined or left to expire.
            confirm_permille: if variant == 1 { 300 } else { 900 },
        },
        warmup_ms: 20_000,
        search_spread_ms: 1_000,
        tail_ms: 120_000,
        // Variant 2: re-announces every 1.5 s while reservations fly.
        reannounce_ms: if variant == 2 { 1_500 } else { 0 },
        // Variant 3: every reservation arrives again 2 s later.
        replay_after_ms: if variant == 3 { 2_000 } else { 0 },
    }
}

fn check(report: &FappReport) {
    let seed = report.seed;
    assert_eq!(report.double_bookings, 0, "seed {seed}: {report:?}");
    assert_eq!(report.patients_booked_twice, 0, "seed {seed}: {report:?}");
    assert_eq!(
        report.bookings_unknown_to_therapist, 0,
        "seed {seed}: {report:?}"
    );
    assert_eq!(report.unfinished, 0, "seed {seed}: {report:?}");
    assert_eq!(
        report.booked + report.exhausted,
        report.patients,
        "seed {seed}: {report:?}"
    );
}

#[test]
fn seeded_races_over_the_mesh_never_double_book() {
    let seeds: u64 = std::env::var("FAPP_RACE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let (mut booked, mut patients, mut replays) = (0, 0, 0);
    for seed in 0..seeds {
        let report = run(&race(seed)).unwrap();
        check(&report);
        booked += report.booked;
        patients += report.patients;
        replays += report.replays;
    }
    println!("{seeds} seeds: {booked}/{patients} patients booked, {replays} replays answered");
    assert!(booked > 0 && replays > 0);
    // Slots are scarcer than patients in most seeds: some lose the race.
    assert!(booked < patients);
}
