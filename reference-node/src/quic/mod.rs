//! The QUIC transport (`spec/30-reference-node.md` §5–§6): one quinn
//! endpoint, a dialler per configured peer with a `connect` address, and
//! per connection a writer (one unidirectional stream of `QuicDatagram`
//! frames) and readers for the peer's streams. Datagrams go to the driver
//! as [`Input::Datagram`] on the peer's link.

pub mod certificate;
pub mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use qpc_crypto::identity::Address;
use qpc_mesh::routing::LinkId;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::framing::{FrameReader, QUIC_DATAGRAM};
use crate::runtime::{quic_link, Input, LinkWriter};
use certificate::NodeCertificate;

/// Datagrams waiting to be written to one connection.
pub const WRITE_QUEUE: usize = 1024;
/// The application error code that closes a connection on a framing error.
pub const FRAMING_ERROR_CODE: u32 = 1;

static CONNECTION_IDS: AtomicU64 = AtomicU64::new(1);

/// The QUIC side of a node.
#[derive(Debug, Clone)]
pub struct QuicTransport {
    endpoint: quinn::Endpoint,
    cert: Arc<NodeCertificate>,
    peers: Arc<Vec<Address>>,
    inputs: mpsc::Sender<Input>,
}

impl QuicTransport {
    /// Binds the endpoint (a server on `listen` if given, else a client on
    /// an ephemeral loopback port).
    pub fn bind(
        listen: Option<SocketAddr>,
        cert: NodeCertificate,
        peers: Vec<Address>,
        inputs: mpsc::Sender<Input>,
    ) -> Result<QuicTransport> {
        let endpoint = match listen {
            Some(addr) => quinn::Endpoint::server(tls::server_config(&cert, peers.clone())?, addr)?,
            None => quinn::Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)))?,
        };
        Ok(QuicTransport {
            endpoint,
            cert: Arc::new(cert),
            peers: Arc::new(peers),
            inputs,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.endpoint.local_addr()?)
    }

    /// Accepts connections for ever.
    pub async fn accept(self) {
        while let Some(incoming) = self.endpoint.accept().await {
            let this = self.clone();
            tokio::spawn(async move {
                match incoming.await {
                    Ok(connection) => this.serve(connection).await,
                    Err(e) => {
                        let e = tls::handshake_error(&e);
                        tracing::warn!(class = e.class(), "inbound QUIC handshake failed: {e}");
                    }
                }
            });
        }
    }

    /// Dials peer `index` at `addr`, and again 1 s after each loss.
    pub async fn dial(self, index: usize, addr: SocketAddr) {
        let peer = self.peers[index];
        loop {
            match self.connect(peer, addr).await {
                Ok(connection) => self.serve(connection).await,
                Err(e) => tracing::debug!(class = e.class(), %addr, "dial failed: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn connect(&self, peer: Address, addr: SocketAddr) -> Result<quinn::Connection> {
        let config = tls::client_config(&self.cert, peer)?;
        let connecting = self
            .endpoint
            .connect_with(config, addr, certificate::SERVER_NAME)
            .map_err(|e| Error::Quic(e.to_string()))?;
        connecting.await.map_err(|e| {
            let e = tls::handshake_error(&e);
            tracing::warn!(class = e.class(), %addr, "outbound QUIC handshake failed: {e}");
            e
        })
    }

    /// Carries one authenticated connection's datagrams until it closes.
    async fn serve(&self, connection: quinn::Connection) {
        let link = match tls::peer_address(&connection).and_then(|a| {
            self.peers.iter().position(|p| *p == a).ok_or_else(|| {
                Error::PeerRejected(format!(
                    "{} is not a configured peer",
                    hex::encode(a.as_bytes())
                ))
            })
        }) {
            Ok(index) => quic_link(index),
            Err(e) => {
                tracing::warn!(class = e.class(), "{e}");
                connection.close(FRAMING_ERROR_CODE.into(), e.class().as_bytes());
                return;
            }
        };
        let id = CONNECTION_IDS.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let up = Input::LinkUp {
            link,
            writer: LinkWriter { id, tx },
        };
        if self.inputs.send(up).await.is_err() {
            return;
        }
        tracing::info!(link = link.0, remote = %connection.remote_address(), "QUIC link up");
        tokio::spawn(write_datagrams(connection.clone(), rx));
        loop {
            match connection.accept_uni().await {
                Ok(stream) => {
                    tokio::spawn(read_datagrams(
                        connection.clone(),
                        stream,
                        link,
                        self.inputs.clone(),
                    ));
                }
                Err(e) => {
                    tracing::info!(link = link.0, "QUIC link down: {e}");
                    break;
                }
            }
        }
        let _ = self.inputs.send(Input::LinkDown { link, id }).await;
    }
}

/// Writes the driver's datagrams on one unidirectional stream.
async fn write_datagrams(connection: quinn::Connection, mut rx: mpsc::Receiver<Bytes>) {
    let mut stream = None;
    while let Some(datagram) = rx.recv().await {
        let frame = match QUIC_DATAGRAM.encode(&datagram) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(class = e.class(), "datagram not sent: {e}");
                continue;
            }
        };
        if stream.is_none() {
            stream = connection.open_uni().await.ok();
        }
        let Some(s) = stream.as_mut() else { return };
        if s.write_all(&frame).await.is_err() {
            return;
        }
    }
}

/// Reads `QuicDatagram` frames from one of the peer's streams.
async fn read_datagrams(
    connection: quinn::Connection,
    mut stream: quinn::RecvStream,
    link: LinkId,
    inputs: mpsc::Sender<Input>,
) {
    let mut reader = FrameReader::new(QUIC_DATAGRAM);
    loop {
        let chunk = match stream.read_chunk(16 * 1024, true).await {
            Ok(Some(chunk)) => chunk.bytes,
            Ok(None) => break,
            Err(_) => return,
        };
        reader.push(&chunk);
        loop {
            match reader.next_frame() {
                Ok(Some(bytes)) => {
                    if inputs.send(Input::Datagram { link, bytes }).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => return close_on(&connection, link, &e),
            }
        }
    }
    if let Err(e) = reader.finish() {
        close_on(&connection, link, &e);
    }
}

fn close_on(connection: &quinn::Connection, link: LinkId, e: &Error) {
    tracing::warn!(class = e.class(), link = link.0, "closing QUIC link: {e}");
    connection.close(FRAMING_ERROR_CODE.into(), e.class().as_bytes());
}
