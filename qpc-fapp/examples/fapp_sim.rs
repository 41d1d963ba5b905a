//! Runs the FAPP simulation over many seeds and prints one line per seed
//! and the median and 90th percentile over the seeds (SIMULATION.md,
//! section FAPP).
//!
//! ```text
//! cargo run --release -p qpc-fapp --example fapp_sim -- [SEEDS] [NODES THERAPISTS PATIENTS]
//! ```
//!
//! Defaults: 20 seeds, 500 nodes, 50 therapists, 200 patients.

use qpc_fapp::sim::{run, FappConfig, FappReport};
use qpc_mesh::sim::scenario::NetworkConfig;

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// The nearest-rank percentile of ascending `values`.
fn percentile(sorted: &[f64], p: usize) -> f64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn summary(name: &str, reports: &[FappReport], f: impl Fn(&FappReport) -> f64) {
    let mut values: Vec<f64> = reports.iter().map(f).collect();
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<28} median {:>12.3}   p90 {:>12.3}",
        percentile(&values, 50),
        percentile(&values, 90)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds = arg(&args, 1, 20) as u64;
    let defaults = FappConfig::default();
    let mut reports = Vec::new();
    println!("seed  booked/patients  exhausted  unfinished  ttb_p50_ms  ttb_p90_ms  frames/booking  bytes/booking  fapp_frames  double");
    for seed in 1..=seeds {
        let config = FappConfig {
            network: NetworkConfig {
                nodes: arg(&args, 2, defaults.network.nodes),
                seed,
                ..defaults.network
            },
            therapists: arg(&args, 3, defaults.therapists),
            patients: arg(&args, 4, defaults.patients),
            ..defaults.clone()
        };
        let report = match run(&config) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("seed {seed}: {e}");
                std::process::exit(1);
            }
        };
        let ttb = report.time_to_booking();
        println!(
            "{:>4}  {:>6}/{:<8}  {:>9}  {:>10}  {:>10}  {:>10}  {:>14.0}  {:>13.0}  {:>11}  {:>6}",
            seed,
            report.booked,
            report.patients,
            report.exhausted,
            report.unfinished,
            ttb.map_or(0, |t| t.p50),
            ttb.map_or(0, |t| t.p90),
            report.frames_per_booking(),
            report.bytes_per_booking(),
            report.fapp_frames,
            report.double_bookings + report.patients_booked_twice,
        );
        reports.push(report);
    }
    println!();
    summary("share booked", &reports, FappReport::booked_share);
    summary("time to booking p50, ms", &reports, |r| {
        r.time_to_booking().map_or(0.0, |t| t.p50 as f64)
    });
    summary("time to booking p90, ms", &reports, |r| {
        r.time_to_booking().map_or(0.0, |t| t.p90 as f64)
    });
    summary(
        "mesh frames per booking",
        &reports,
        FappReport::frames_per_booking,
    );
    summary(
        "mesh bytes per booking",
        &reports,
        FappReport::bytes_per_booking,
    );
    let bookings: usize = reports.iter().map(|r| r.booked).sum();
    let by_type: Vec<String> = (1..16)
        .filter_map(|t| {
            let frames: u64 = reports.iter().map(|r| r.traffic.frames_by_type[t]).sum();
            (frames > 0).then(|| format!("0x{t:x}: {:.0}", frames as f64 / bookings.max(1) as f64))
        })
        .collect();
    println!(
        "frames per booking by mesh type, all seeds: {}",
        by_type.join(", ")
    );
    let double: usize = reports
        .iter()
        .map(|r| r.double_bookings + r.patients_booked_twice)
        .sum();
    let unfinished: usize = reports.iter().map(|r| r.unfinished).sum();
    println!("double bookings over {seeds} seeds: {double}; unfinished patients: {unfinished}");
}
