//! `qpc-node`: the command line of the qpc reference node
//! (`spec/30-reference-node.md`; README "Reference node").

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qpc_node::config::{Config, LogFormat};
use qpc_node::{control, demo, identity, node, Error};
use serde_json::{json, Value};
use tracing_subscriber::EnvFilter;

/// The qpc reference node.
#[derive(Debug, Parser)]
#[command(name = "qpc-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a client subcommand finds the node.
#[derive(Debug, clap::Args)]
struct Target {
    /// The node's configuration file (its control socket is read from it).
    #[arg(long, short, required_unless_present = "socket")]
    config: Option<PathBuf>,
    /// The control socket, instead of --config.
    #[arg(long)]
    socket: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates a data directory with a fresh identity and prints its address.
    Keygen {
        /// The data directory.
        #[arg(long, default_value = "./qpc-data")]
        data_dir: PathBuf,
    },
    /// Runs a node.
    Run {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Prints a running node's status (JSON).
    Status(Target),
    /// Sends a message to an address through a running node.
    Send {
        #[command(flatten)]
        target: Target,
        /// The recipient's address (32 hex digits).
        #[arg(long)]
        to: String,
        /// The content as text.
        #[arg(long, conflicts_with = "hex", required_unless_present = "hex")]
        text: Option<String>,
        /// The content as hex.
        #[arg(long)]
        hex: Option<String>,
        /// Wait up to this many seconds for the receipt.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Prints the messages a running node delivered (JSON).
    Inbox {
        #[command(flatten)]
        target: Target,
        /// Only those after this arrival number.
        #[arg(long)]
        after: Option<u64>,
    },
    /// Stops a running node.
    Shutdown(Target),
    /// FAPP: announce free slots, search, reserve (`spec/30` §16).
    #[command(subcommand)]
    Fapp(FappCommand),
    /// Runs three nodes on loopback, A -QUIC- B -LoRa (emulated, SF9)- C, and
    /// sends a message from A to C.
    Demo,
}

/// `qpc-node fapp ...`.
#[derive(Debug, Subcommand)]
enum FappCommand {
    /// Therapist: adds free slots (or only re-announces) and announces.
    Announce {
        #[command(flatten)]
        target: Target,
        /// A TOML file with the therapist profile (the fields of
        /// `[fapp.therapist]`), to become a therapist or change the profile.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// A free slot: ID,START,MINUTES,KIND, e.g.
        /// 1,2026-12-03T09:00:00Z,50,consultation (repeatable).
        #[arg(long = "slot")]
        slots: Vec<String>,
    },
    /// Patient: searches; prints the candidates when the collection ends.
    Query {
        #[command(flatten)]
        target: Target,
        /// PLZ prefix (0 to 5 digits).
        #[arg(long, default_value = "")]
        plz: String,
        /// Slot kinds, any of (repeatable; default any).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Methods, any of (repeatable; default any).
        #[arg(long = "method")]
        methods: Vec<String>,
        /// Payers, any of (repeatable; default any).
        #[arg(long = "payer")]
        payers: Vec<String>,
        /// Languages, any of (repeatable; default any).
        #[arg(long = "language")]
        languages: Vec<String>,
        /// Collection time, ms: after it the best slot is reserved unless
        /// `fapp reserve` chose one.
        #[arg(long)]
        collect_ms: Option<u64>,
        /// The pseudonymous contact the therapist gets.
        #[arg(long, default_value = "")]
        contact: String,
        /// Wait up to this many seconds for the first candidates.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Patient: reserves a slot the search collected.
    Reserve {
        #[command(flatten)]
        target: Target,
        /// The therapist's address (32 hex digits).
        #[arg(long)]
        therapist: String,
        /// The slot id.
        #[arg(long)]
        slot: u32,
        /// Wait up to this many seconds for the therapist's answer.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Therapist: confirms a held reservation.
    Confirm {
        #[command(flatten)]
        target: Target,
        /// The request id (from `fapp results`).
        #[arg(long)]
        request: String,
    },
    /// Therapist: declines a held reservation.
    Decline {
        #[command(flatten)]
        target: Target,
        /// The request id (from `fapp results`).
        #[arg(long)]
        request: String,
    },
    /// Prints the search, the inventory and the FAPP event log (JSON).
    Results {
        #[command(flatten)]
        target: Target,
        /// Only events after this row.
        #[arg(long)]
        after: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&Error::Io(e)),
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("qpc-node: error [{}]: {e}", e.class());
    if e.class() == "invalid_config" {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

fn init_logs(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn execute(command: Command) -> qpc_node::Result<()> {
    match command {
        Command::Keygen { data_dir } => {
            let public = identity::keygen(&data_dir)?;
            println!("{}", hex::encode(public.address().as_bytes()));
            Ok(())
        }
        Command::Run { config } => {
            let config = Config::load(&config)?;
            init_logs(config.log.format, &config.log.level);
            node::run(&config).await
        }
        Command::Status(target) => print(&request(&target, &json!({"op": "status"})).await?),
        Command::Send {
            target,
            to,
            text,
            hex,
            wait,
        } => {
            let content = match (text, hex) {
                (Some(text), _) => hex::encode(text),
                (None, Some(hex)) => hex,
                (None, None) => String::new(),
            };
            let answer = request(
                &target,
                &json!({"op": "send", "to": to, "content": content}),
            )
            .await?;
            print(&answer)?;
            if let Some(seconds) = wait {
                wait_for_receipt(&target, &answer["id"], seconds).await?;
            }
            Ok(())
        }
        Command::Inbox { target, after } => {
            print(&request(&target, &json!({"op": "inbox", "after": after})).await?)
        }
        Command::Shutdown(target) => print(&request(&target, &json!({"op": "shutdown"})).await?),
        Command::Fapp(command) => fapp(command).await,
        Command::Demo => {
            init_logs(LogFormat::Text, "warn");
            demo::run().await
        }
    }
}

/// `ID,START,MINUTES,KIND` as a `fapp_announce` slot.
fn slot_arg(text: &str) -> qpc_node::Result<Value> {
    let parts: Vec<&str> = text.split(',').collect();
    let bad = || Error::InvalidConfig(format!("--slot {text:?}: expected ID,START,MINUTES,KIND"));
    let [id, start, minutes, kind] = parts[..] else {
        return Err(bad());
    };
    let id: u32 = id.trim().parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.trim().parse().map_err(|_| bad())?;
    Ok(json!({"id": id, "start": start.trim(), "duration_min": minutes, "kind": kind.trim()}))
}

fn list(values: Vec<String>) -> Value {
    if values.is_empty() {
        Value::Null
    } else {
        json!(values)
    }
}

async fn fapp(command: FappCommand) -> qpc_node::Result<()> {
    match command {
        FappCommand::Announce {
            target,
            profile,
            slots,
        } => {
            let slots = slots
                .iter()
                .map(|s| slot_arg(s))
                .collect::<Result<Vec<_>, _>>()?;
            let mut op = json!({"op": "fapp_announce", "slots": slots});
            if let Some(path) = profile {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::InvalidConfig(format!("{}: {e}", path.display())))?;
                let profile: qpc_node::config::TherapistProfile = toml::from_str(&text)
                    .map_err(|e| Error::InvalidConfig(format!("{}: {e}", path.display())))?;
                op["profile"] = json!(profile);
            }
            print(&request(&target, &op).await?)
        }
        FappCommand::Query {
            target,
            plz,
            kinds,
            methods,
            payers,
            languages,
            collect_ms,
            contact,
            wait,
        } => {
            let op = json!({
                "op": "fapp_query", "plz_prefix": plz, "kinds": list(kinds),
                "methods": list(methods), "payers": list(payers), "languages": languages,
                "collect_ms": collect_ms, "contact": contact,
            });
            let answer = request(&target, &op).await?;
            print(&answer)?;
            if let Some(seconds) = wait {
                let found = poll(&target, seconds, "no candidate within the wait", |r| {
                    let c = &r["search"]["candidates"];
                    (c.as_array().is_some_and(|c| !c.is_empty())).then(|| c.clone())
                })
                .await?;
                print(&found)?;
            }
            Ok(())
        }
        FappCommand::Reserve {
            target,
            therapist,
            slot,
            wait,
        } => {
            let op = json!({"op": "fapp_reserve", "therapist": therapist, "slot": slot});
            print(&request(&target, &op).await?)?;
            if let Some(seconds) = wait {
                let done = poll(&target, seconds, "no answer within the wait", |r| {
                    let state = r["search"]["state"].as_str();
                    (state != Some("reserving")).then(|| r["search"].clone())
                })
                .await?;
                print(&done)?;
                if done["state"] != "booked" {
                    return Err(Error::Io(std::io::Error::other(format!(
                        "not booked: the search is {}",
                        done["state"]
                    ))));
                }
            }
            Ok(())
        }
        FappCommand::Confirm {
            target,
            request: id,
        } => print(&request(&target, &json!({"op": "fapp_confirm", "request_id": id})).await?),
        FappCommand::Decline {
            target,
            request: id,
        } => print(&request(&target, &json!({"op": "fapp_decline", "request_id": id})).await?),
        FappCommand::Results { target, after } => {
            print(&request(&target, &json!({"op": "fapp_results", "after": after})).await?)
        }
    }
}

/// Polls `fapp_results` every 200 ms until `done` gives a value.
async fn poll(
    target: &Target,
    seconds: u64,
    timeout: &str,
    done: impl Fn(&Value) -> Option<Value>,
) -> qpc_node::Result<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let answer = request(target, &json!({"op": "fapp_results"})).await?;
        if let Some(value) = done(&answer) {
            return Ok(value);
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::Io(std::io::Error::other(timeout.to_string())));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn wait_for_receipt(target: &Target, id: &Value, seconds: u64) -> qpc_node::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let answer = request(target, &json!({"op": "message", "id": id})).await?;
        match answer["state"].as_str() {
            Some("confirmed") => return print(&answer),
            Some("failed") => {
                return Err(Error::Io(std::io::Error::other(
                    "no receipt came: the message failed",
                )))
            }
            _ if std::time::Instant::now() >= deadline => {
                return Err(Error::Io(std::io::Error::other(
                    "no receipt within the wait",
                )))
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

async fn request(target: &Target, value: &Value) -> qpc_node::Result<Value> {
    let socket = match (&target.socket, &target.config) {
        (Some(socket), _) => socket.clone(),
        (None, Some(config)) => Config::load(config)?.control_socket(),
        (None, None) => return Err(Error::InvalidConfig("give --config or --socket".into())),
    };
    let answer = control::call(&socket, value).await?;
    if answer["ok"].as_bool() == Some(true) {
        Ok(answer)
    } else {
        Err(Error::Io(std::io::Error::other(format!(
            "the node refused the request [{}]: {}",
            answer["error"]["class"].as_str().unwrap_or("?"),
            answer["error"]["message"].as_str().unwrap_or("")
        ))))
    }
}

fn print(value: &Value) -> qpc_node::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).map_err(|e| Error::Io(e.into()))?
    );
    Ok(())
}
