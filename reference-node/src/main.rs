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
    /// Runs three nodes on loopback, A -QUIC- B -LoRa (emulated, SF9)- C, and
    /// sends a message from A to C.
    Demo,
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
        Command::Demo => {
            init_logs(LogFormat::Text, "warn");
            demo::run().await
        }
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
