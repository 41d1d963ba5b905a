//! The LoRa radios (`spec/30-reference-node.md` §7–§8): the emulated
//! shared channel over loopback UDP and a serial modem speaking KISS. Both
//! take link frames from the driver (already paced by its `LoraLink`) and
//! hand it the frames they hear as [`Input::RadioFrame`]. Between the
//! radio's link engine and the mesh sits [`pqlink`], which runs pqXX with
//! each neighbour ([`secured`] is its wire format, §15).

pub mod air;
pub mod kiss;
pub mod pqlink;
pub mod secured;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use qpc_mesh::lora::profile::{RadioProfile, MAX_PHY_PAYLOAD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use rand::rngs::StdRng;
use rand_core::Rng;

use crate::error::Result;
use crate::identity::os_rng;
use crate::runtime::Input;
use air::{AirPacket, AirReceiver, ReceptionId};
use kiss::KissDecoder;

/// Frames waiting for the radio.
pub const RADIO_QUEUE: usize = 256;
/// The most radios one emulated radio transmits to (configured and heard).
pub const MAX_RADIO_PEERS: usize = 64;

/// The radios an emulated radio transmits to: the configured ones, and
/// every radio it has heard a valid air packet from (§7), at most
/// [`MAX_RADIO_PEERS`].
#[derive(Debug, Default)]
struct Peers(Mutex<Vec<SocketAddr>>);

impl Peers {
    fn heard(&self, from: SocketAddr) {
        if let Ok(mut peers) = self.0.lock() {
            if peers.len() < MAX_RADIO_PEERS && !peers.contains(&from) {
                tracing::info!(%from, "radio heard a new radio: transmitting to it too");
                peers.push(from);
            }
        }
    }

    fn now(&self) -> Vec<SocketAddr> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// What a radio did, for `status`.
#[derive(Debug, Default)]
pub struct RadioCounters {
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    lost: AtomicU64,
}

/// A copy of [`RadioCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadioSnapshot {
    /// Frames heard and handed to the driver.
    pub frames_in: u64,
    /// Frames put on air.
    pub frames_out: u64,
    /// Bytes of those frames.
    pub bytes_out: u64,
    /// Packets not heard (collision, half duplex, loss) or refused.
    pub lost: u64,
}

impl RadioCounters {
    /// The counters now.
    pub fn snapshot(&self) -> RadioSnapshot {
        RadioSnapshot {
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }

    fn sent(&self, len: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(len as u64, Ordering::Relaxed);
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Nanoseconds on the channel's clock.
fn channel_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// Longest random wait before a transmission, ms (§7.2): nodes that find
/// the channel free at the same moment rarely start together.
pub const MAX_BACKOFF_MS: u64 = 100;

/// The emulated radio's shared state: the receiver model and the
/// randomness for backoff and loss.
#[derive(Debug)]
struct Channel {
    receiver: AirReceiver,
    rng: StdRng,
}

type SharedChannel = Arc<Mutex<Channel>>;

/// Starts the emulated radio on `bind`: frames from the returned queue go
/// on air to `peers`, packets heard go to `inputs`.
pub async fn start_udp_radio(
    bind: SocketAddr,
    peers: Vec<SocketAddr>,
    radio: RadioProfile,
    loss: f64,
    inputs: mpsc::Sender<Input>,
) -> Result<(mpsc::Sender<Bytes>, Arc<RadioCounters>, SocketAddr)> {
    let socket = Arc::new(UdpSocket::bind(bind).await?);
    let local = socket.local_addr()?;
    let channel = Arc::new(Mutex::new(Channel {
        receiver: AirReceiver::new(radio, loss),
        rng: os_rng()?,
    }));
    let counters = Arc::new(RadioCounters::default());
    let (tx, rx) = mpsc::channel(RADIO_QUEUE);
    let epoch = Instant::now();
    let sf = radio.spreading_factor();
    let peers = Arc::new(Peers(Mutex::new(peers)));
    tokio::spawn(transmit_udp(
        socket.clone(),
        peers.clone(),
        sf,
        channel.clone(),
        counters.clone(),
        rx,
        epoch,
    ));
    tokio::spawn(receive_udp(
        socket,
        peers,
        channel,
        counters.clone(),
        inputs,
        epoch,
    ));
    Ok((tx, counters, local))
}

/// How long to wait before transmitting at `now`: a random backoff, after
/// the end of any packet being received (carrier sense, §7.2); `None` if
/// the channel state is gone.
fn wait_before_transmit(channel: &SharedChannel, now: u64) -> Option<u64> {
    let mut c = channel.lock().ok()?;
    let backoff = u64::from(c.rng.next_u32()) % (MAX_BACKOFF_MS * 1_000_000);
    let busy = c.receiver.busy_until(now).map_or(0, |end| end - now);
    Some(busy + backoff)
}

/// Puts each frame on air: after carrier sense and backoff its packet goes
/// out when its transmission starts, and the radio is busy for its airtime.
async fn transmit_udp(
    socket: Arc<UdpSocket>,
    peers: Arc<Peers>,
    spreading_factor: u8,
    channel: SharedChannel,
    counters: Arc<RadioCounters>,
    mut rx: mpsc::Receiver<Bytes>,
    epoch: Instant,
) {
    while let Some(frame) = rx.recv().await {
        loop {
            let Some(wait) = wait_before_transmit(&channel, channel_ns(epoch)) else {
                return;
            };
            tokio::time::sleep(Duration::from_nanos(wait)).await;
            let free = channel
                .lock()
                .map(|c| c.receiver.busy_until(channel_ns(epoch)).is_none());
            if free.unwrap_or(true) {
                break;
            }
        }
        let start = channel_ns(epoch);
        let end = match channel.lock() {
            Ok(mut c) => c.receiver.transmitted(start, frame.len()),
            Err(_) => return,
        };
        let Ok(end) = end else { continue };
        let len = frame.len();
        let packet = AirPacket {
            spreading_factor,
            frame,
        }
        .to_bytes();
        for peer in peers.now() {
            let _ = socket.send_to(&packet, peer).await;
        }
        counters.sent(len);
        tokio::time::sleep(Duration::from_nanos(end.saturating_sub(channel_ns(epoch)))).await;
    }
}

async fn receive_udp(
    socket: Arc<UdpSocket>,
    peers: Arc<Peers>,
    channel: SharedChannel,
    counters: Arc<RadioCounters>,
    inputs: mpsc::Sender<Input>,
    epoch: Instant,
) {
    let mut buf = vec![0; 2048];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let now = channel_ns(epoch);
        let packet = match AirPacket::decode(&buf[..len]) {
            Ok(p) => p,
            Err(e) => {
                RadioCounters::count(&counters.lost);
                tracing::warn!(class = e.class(), %from, "air packet refused: {e}");
                continue;
            }
        };
        peers.heard(from);
        let started = match channel.lock() {
            Ok(mut c) => c.receiver.start(&packet, now),
            Err(_) => return,
        };
        match started {
            Ok((id, end)) => {
                let delivery = Delivery {
                    channel: channel.clone(),
                    counters: counters.clone(),
                    inputs: inputs.clone(),
                    source: u32::from(from.port()),
                };
                let wait = Duration::from_nanos(end.saturating_sub(now));
                tokio::spawn(delivery.at_end(id, packet.frame, wait));
            }
            Err(missed) => {
                RadioCounters::count(&counters.lost);
                tracing::debug!(?missed, %from, "air packet not heard");
            }
        }
    }
}

/// Hands a packet to the driver when its reception ends, if it is heard.
struct Delivery {
    channel: SharedChannel,
    counters: Arc<RadioCounters>,
    inputs: mpsc::Sender<Input>,
    source: u32,
}

impl Delivery {
    async fn at_end(self, id: ReceptionId, frame: Bytes, wait: Duration) {
        tokio::time::sleep(wait).await;
        let heard = match self.channel.lock() {
            Ok(mut c) => {
                let Channel { receiver, rng } = &mut *c;
                receiver.finish(id, rng)
            }
            Err(_) => return,
        };
        if let Err(missed) = heard {
            RadioCounters::count(&self.counters.lost);
            tracing::debug!(?missed, source = self.source, "air packet not heard");
            return;
        }
        RadioCounters::count(&self.counters.frames_in);
        let input = Input::RadioFrame {
            source: self.source,
            frame,
        };
        if self.inputs.try_send(input).is_err() {
            tracing::warn!("driver queue full: a radio frame was dropped");
        }
    }
}

/// Starts the KISS modem on `device` (opened twice: one handle reads, one
/// writes, so a pending read never holds up a write).
pub async fn start_kiss_radio(
    device: &Path,
    inputs: mpsc::Sender<Input>,
) -> Result<(mpsc::Sender<Bytes>, Arc<RadioCounters>)> {
    let reader = tokio::fs::OpenOptions::new()
        .read(true)
        .open(device)
        .await?;
    let writer = tokio::fs::OpenOptions::new()
        .write(true)
        .open(device)
        .await?;
    let counters = Arc::new(RadioCounters::default());
    let (tx, rx) = mpsc::channel(RADIO_QUEUE);
    tokio::spawn(write_kiss(writer, counters.clone(), rx));
    tokio::spawn(read_kiss(reader, counters.clone(), inputs));
    Ok((tx, counters))
}

async fn write_kiss(
    mut device: tokio::fs::File,
    counters: Arc<RadioCounters>,
    mut rx: mpsc::Receiver<Bytes>,
) {
    while let Some(frame) = rx.recv().await {
        let Ok(bytes) = kiss::encode(&frame) else {
            continue;
        };
        if device.write_all(&bytes).await.is_err() || device.flush().await.is_err() {
            tracing::warn!("KISS modem write failed");
            return;
        }
        counters.sent(frame.len());
    }
}

async fn read_kiss(
    mut device: tokio::fs::File,
    counters: Arc<RadioCounters>,
    inputs: mpsc::Sender<Input>,
) {
    let mut decoder = KissDecoder::new();
    let mut buf = vec![0; 4 * (MAX_PHY_PAYLOAD + 2)];
    loop {
        let len = match device.read(&mut buf).await {
            Ok(0) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Ok(len) => len,
            Err(e) => {
                tracing::warn!("KISS modem read failed: {e}");
                return;
            }
        };
        for result in decoder.push(&buf[..len]) {
            match result {
                Ok(frame) => {
                    RadioCounters::count(&counters.frames_in);
                    if inputs
                        .try_send(Input::RadioFrame { source: 0, frame })
                        .is_err()
                    {
                        tracing::warn!("driver queue full: a radio frame was dropped");
                    }
                }
                Err(e) => {
                    RadioCounters::count(&counters.lost);
                    tracing::warn!(class = e.class(), "KISS frame refused: {e}");
                }
            }
        }
    }
}
