//! `qpc-mesh-sim`: runs a simulator scenario and prints its figures, the
//! wall time and the simulated/real speed ratio; `--svg` writes a plot.
//! See `SIMULATION.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use qpc_mesh::flood::FloodConfig;
use qpc_mesh::node::NodeConfig;
use qpc_mesh::sim::lora_line::{lora_line, LoraLineConfig};
use qpc_mesh::sim::lora_session::{lora_session, LoraSessionConfig};
use qpc_mesh::sim::recovery::{self, BroadcastConfig, OfflineConfig};
use qpc_mesh::sim::scenario::{self, NetworkConfig, Outcome, ScaleConfig, Shape, UnicastConfig};
use qpc_mesh::sim::topology::EdgeConfig;

#[derive(Parser)]
#[command(about = "Deterministic qpc mesh simulations")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Announce warm-up, then messages between random pairs.
    Unicast {
        #[command(flatten)]
        network: NetworkArgs,
        /// Messages to send.
        #[arg(long, default_value_t = 200)]
        messages: usize,
        /// Warm-up before the first message, seconds.
        #[arg(long, default_value_t = 300)]
        warmup_s: u64,
        /// After the last message, before the run ends, seconds.
        #[arg(long, default_value_t = 300)]
        drain_s: u64,
    },
    /// Periodic announces and some traffic for a long run (default 1000
    /// nodes, one hour).
    Scale {
        #[command(flatten)]
        network: NetworkArgs,
        /// Simulated time, seconds.
        #[arg(long, default_value_t = 3600)]
        duration_s: u64,
        /// Each node's announce interval, seconds.
        #[arg(long, default_value_t = 1200)]
        announce_interval_s: u64,
        /// Seconds between two messages.
        #[arg(long, default_value_t = 10)]
        message_interval_s: u64,
    },
    /// A destination offline for minutes while a distant node sends to it;
    /// the nodes holding its messages restart from exported state.
    Offline {
        #[command(flatten)]
        network: NetworkArgs,
        /// How long the destination is offline, seconds.
        #[arg(long, default_value_t = 600)]
        offline_s: u64,
        /// Messages sent to it while offline.
        #[arg(long, default_value_t = 5)]
        messages: usize,
        /// Do not restart the holders.
        #[arg(long)]
        no_restart: bool,
    },
    /// Broadcasts on a channel every node joined, from random origins.
    Broadcast {
        #[command(flatten)]
        network: NetworkArgs,
        /// Broadcasts to send.
        #[arg(long, default_value_t = 40)]
        broadcasts: usize,
        /// Managed flooding: copies heard that suppress a rebroadcast
        /// (0: naive flooding).
        #[arg(long, default_value_t = FloodConfig::default().threshold)]
        threshold: u16,
        /// Managed flooding: the rebroadcast delay window, ms.
        #[arg(long, default_value_t = FloodConfig::default().window_ms)]
        window_ms: u64,
        /// Managed flooding: copies that cover a known neighbour (0: ignore
        /// two-hop neighbourhoods, counter-based only).
        #[arg(long, default_value_t = FloodConfig::default().cover)]
        cover: u8,
        /// Managed flooding: repeats an originator makes while a neighbour
        /// that should relay its broadcast is not heard doing so.
        #[arg(long, default_value_t = FloodConfig::default().origin_repeats)]
        origin_repeats: u8,
        /// Every node's announce interval, s, after its first announce in
        /// the warm-up (0: it announces once).
        #[arg(long, default_value_t = NodeConfig::default().announce_interval_ms / 1000)]
        announce_interval_s: u64,
    },
    /// A message over a line of LoRa hops (EU868 g3), with a receipt back.
    Lora {
        /// Spreading factor (7..=12).
        #[arg(long, default_value_t = 12)]
        sf: u8,
        /// Hops (nodes: hops + 1).
        #[arg(long, default_value_t = 3)]
        hops: usize,
        /// Loss per frame and receiver (0..=1).
        #[arg(long, default_value_t = 0.1)]
        loss: f64,
        /// Content bytes.
        #[arg(long, default_value_t = 1024)]
        content: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A pairwise session between the ends of a LoRa line (EU868 g3):
    /// key fetch, establishment, messages each way, one sealed for
    /// comparison.
    LoraSession {
        /// Spreading factor (7..=12).
        #[arg(long, default_value_t = 7)]
        sf: u8,
        /// Hops (nodes: hops + 1).
        #[arg(long, default_value_t = 3)]
        hops: usize,
        /// Loss per frame and receiver (0..=1).
        #[arg(long, default_value_t = 0.1)]
        loss: f64,
        /// Messages in the session.
        #[arg(long, default_value_t = 4)]
        messages: usize,
        /// Content bytes of each.
        #[arg(long, default_value_t = 16)]
        content: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Topology {
    Line,
    Grid,
    Rgg,
}

#[derive(Args)]
struct NetworkArgs {
    /// The graph.
    #[arg(long, value_enum, default_value = "rgg")]
    topology: Topology,
    /// Nodes (default: 100 for unicast, 1000 for scale).
    #[arg(long)]
    nodes: Option<usize>,
    /// Mean degree of a random geometric graph.
    #[arg(long, default_value_t = 10.0)]
    degree: f64,
    /// Frame loss per edge, 0..=1.
    #[arg(long, default_value_t = 0.1)]
    loss: f64,
    /// Latency per edge, ms.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// Radio bitrate, bit/s.
    #[arg(long, default_value_t = 50_000)]
    bitrate: u64,
    /// Radio MTU, bytes.
    #[arg(long, default_value_t = 2048)]
    mtu: usize,
    /// Every node's hop limit (1..=15; default 7, 15 for broadcast).
    #[arg(long)]
    hop_limit: Option<u8>,
    /// Overlapping receptions at a receiver are lost (no capture).
    #[arg(long)]
    collisions: bool,
    /// Content bytes per message (sealed with its receipt key: about
    /// 1,410 bytes more on air).
    #[arg(long, default_value_t = 32)]
    payload: usize,
    /// The run's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Writes an SVG plot of the run here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

impl NetworkArgs {
    fn config(&self, default_nodes: usize, default_hop_limit: u8) -> Result<NetworkConfig, String> {
        let loss_permille = permille(self.loss)?;
        Ok(NetworkConfig {
            shape: match self.topology {
                Topology::Line => Shape::Line,
                Topology::Grid => Shape::Grid,
                Topology::Rgg => Shape::RandomGeometric,
            },
            nodes: self.nodes.unwrap_or(default_nodes),
            mean_degree: self.degree,
            edge: EdgeConfig {
                latency_ms: self.latency_ms,
                loss_permille,
            },
            bitrate_bps: self.bitrate,
            mtu: self.mtu,
            hop_limit: self.hop_limit.unwrap_or(default_hop_limit),
            collisions: self.collisions,
            flood: FloodConfig::default(),
            announce_interval_ms: 0,
            seed: self.seed,
        })
    }
}

/// A `--loss` probability in thousandths.
fn permille(loss: f64) -> Result<u16, String> {
    if !(0.0..=1.0).contains(&loss) {
        return Err("--loss is a probability, 0..=1".into());
    }
    Ok((loss * 1000.0).round() as u16)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qpc-mesh-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let started = Instant::now();

    let mut extra = Vec::new();
    let (outcome, args) = match &cli.scenario {
        Scenario::Lora {
            sf,
            hops,
            loss,
            content,
            seed,
        } => {
            let config = LoraLineConfig {
                spreading_factor: *sf,
                hops: *hops,
                loss_permille: permille(*loss)?,
                content_len: *content,
                seed: *seed,
                ..LoraLineConfig::default()
            };
            let report = lora_line(&config).map_err(|e| e.to_string())?;
            for line in report.lines() {
                println!("{line}");
            }
            println!("wall time {:.2} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        Scenario::LoraSession {
            sf,
            hops,
            loss,
            messages,
            content,
            seed,
        } => {
            let defaults = LoraSessionConfig::default();
            let config = LoraSessionConfig {
                line: LoraLineConfig {
                    spreading_factor: *sf,
                    hops: *hops,
                    loss_permille: permille(*loss)?,
                    seed: *seed,
                    ..defaults.line
                },
                messages: *messages,
                content_len: *content,
                ..defaults
            };
            let report = lora_session(&config).map_err(|e| e.to_string())?;
            for line in report.lines() {
                println!("{line}");
            }
            println!("wall time {:.2} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        Scenario::Unicast {
            network,
            messages,
            warmup_s,
            drain_s,
        } => {
            let config = UnicastConfig {
                network: network.config(100, 7)?,
                messages: *messages,
                payload_len: network.payload,
                warmup_ms: warmup_s * 1000,
                drain_ms: drain_s * 1000,
                ..UnicastConfig::default()
            };
            let outcome = scenario::unicast(&config).map_err(|e| e.to_string())?;
            (outcome, network)
        }
        Scenario::Scale {
            network,
            duration_s,
            announce_interval_s,
            message_interval_s,
        } => {
            let config = ScaleConfig {
                network: network.config(1000, 7)?,
                duration_ms: duration_s * 1000,
                announce_interval_ms: announce_interval_s * 1000,
                message_interval_ms: message_interval_s * 1000,
                payload_len: network.payload,
            };
            let outcome = scenario::scale(&config).map_err(|e| e.to_string())?;
            (outcome, network)
        }
        Scenario::Offline {
            network,
            offline_s,
            messages,
            no_restart,
        } => {
            let config = OfflineConfig {
                network: network.config(100, 7)?,
                offline_ms: offline_s * 1000,
                messages: *messages,
                payload_len: network.payload,
                restart_after_ms: (!no_restart).then_some(offline_s * 1000 / 2),
                ..OfflineConfig::default()
            };
            let (outcome, report) = recovery::offline(&config).map_err(|e| e.to_string())?;
            extra = report.lines();
            (outcome, network)
        }
        Scenario::Broadcast {
            network,
            broadcasts,
            threshold,
            window_ms,
            cover,
            origin_repeats,
            announce_interval_s,
        } => {
            let naive = *threshold == 0;
            let flood = FloodConfig {
                window_ms: *window_ms,
                threshold: if naive { u16::MAX } else { *threshold },
                cover: if naive { 0 } else { *cover },
                echo_below: if naive {
                    0
                } else {
                    FloodConfig::default().echo_below
                },
                origin_repeats: *origin_repeats,
                ..FloodConfig::default()
            };
            let config = BroadcastConfig {
                network: NetworkConfig {
                    flood,
                    announce_interval_ms: announce_interval_s.saturating_mul(1000),
                    ..network.config(100, 15)?
                },
                broadcasts: *broadcasts,
                ..BroadcastConfig::default()
            };
            let (outcome, report) = recovery::broadcast(&config).map_err(|e| e.to_string())?;
            extra = report.lines();
            (outcome, network)
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let mut lines = outcome.lines();
    lines.extend(extra);
    lines.push(speed(&outcome, wall));
    for line in &lines {
        println!("{line}");
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, outcome.svg(&lines[..lines.len() - 1]))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Wall time (building the network included) and the speed ratio.
fn speed(outcome: &Outcome, wall_s: f64) -> String {
    let simulated = outcome.network.sim.now() as f64 / 1000.0;
    format!(
        "wall time {wall_s:.2} s, simulated/real {:.0}x",
        simulated / wall_s.max(1e-9)
    )
}
