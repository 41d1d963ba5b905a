//! Starting a node from its configuration: the store, the identity, the
//! radio, the driver, the QUIC endpoint and the control socket, wired
//! together (`spec/30-reference-node.md` §2).

use std::net::SocketAddr;
use std::path::PathBuf;

use qpc_crypto::identity::Address;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{Config, LoraMode};
use crate::control;
use crate::error::{Error, Result};
use crate::identity::{self, os_rng};
use crate::lora::{start_kiss_radio, start_udp_radio};
use crate::quic::{certificate, QuicTransport};
use crate::runtime::{lora_link, pq_link, Driver, Radio};
use crate::store::Store;

/// Inputs waiting for the driver.
pub const INPUT_QUEUE: usize = 4096;

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    /// Its address.
    pub address: Address,
    /// Where its QUIC endpoint listens, if it does.
    pub quic_addr: Option<SocketAddr>,
    /// Its emulated radio's socket, if it has one.
    pub radio_addr: Option<SocketAddr>,
    /// Its control socket.
    pub control_socket: PathBuf,
    /// The driver; it ends after `shutdown`.
    pub driver: JoinHandle<Result<()>>,
}

/// Starts the node `config` describes (inside a tokio runtime).
pub async fn start(config: &Config) -> Result<RunningNode> {
    let store = Store::open(&config.data_dir)?;
    let identity = identity::load(&store)?;
    let cert = certificate::for_identity(&identity)?;
    let (inputs, receiver) = mpsc::channel(INPUT_QUEUE);
    let mut radio = None;
    let mut radio_addr = None;
    if let Some(lora) = &config.lora {
        let profile = lora.link_profile()?;
        let (tx, counters) = match (lora.mode, &lora.udp, &lora.kiss) {
            (LoraMode::Udp, Some(udp), _) => {
                let (tx, counters, addr) = start_udp_radio(
                    udp.bind,
                    udp.peers.clone(),
                    *profile.radio(),
                    udp.loss,
                    inputs.clone(),
                )
                .await?;
                radio_addr = Some(addr);
                (tx, counters)
            }
            (LoraMode::Kiss, _, Some(kiss)) => {
                start_kiss_radio(&kiss.device, inputs.clone()).await?
            }
            _ => return Err(Error::InvalidConfig("lora.mode without its table".into())),
        };
        let mut rng = os_rng()?;
        radio = Some(Radio {
            link: lora_link(profile, lora.queue_capacity, &mut rng)?,
            secure: pq_link(&identity, &profile, &mut rng)?,
            tx,
            counters,
            profile,
        });
    }
    let mut driver = Driver::new(config, store, identity, radio)?;
    let address = driver.address();
    let quic = QuicTransport::bind(
        config.quic.listen,
        cert,
        config.peer_addresses()?,
        inputs.clone(),
    )?;
    let quic_addr = match config.quic.listen {
        Some(_) => {
            tokio::spawn(quic.clone().accept());
            Some(quic.local_addr()?)
        }
        None => None,
    };
    for (index, peer) in config.quic.peers.iter().enumerate() {
        if let Some(addr) = peer.connect {
            tokio::spawn(quic.clone().dial(index, addr));
        }
    }
    driver.set_local_addresses(quic_addr, radio_addr);
    let control_socket = config.control_socket();
    tokio::spawn(control::serve(control::bind(&control_socket)?, inputs));
    tracing::info!(address = %hex::encode(address.as_bytes()), ?quic_addr, ?radio_addr, "node started");
    Ok(RunningNode {
        address,
        quic_addr,
        radio_addr,
        control_socket,
        driver: tokio::spawn(driver.run(receiver)),
    })
}

/// Runs the node until its driver ends.
pub async fn run(config: &Config) -> Result<()> {
    let node = start(config).await?;
    let result = node
        .driver
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    let _ = std::fs::remove_file(&node.control_socket);
    result
}
