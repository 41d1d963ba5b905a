//! Helpers for the integration tests: real `qpc-node` processes with
//! temporary data directories, driven through their control sockets.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_qpc-node");

/// Generous: the machine may be loaded.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh directory for test `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qpc-node-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `qpc-node keygen` into `data_dir`; the new address.
pub fn keygen(data_dir: &Path) -> String {
    let out = Command::new(BIN)
        .args(["keygen", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A running `qpc-node run`.
pub struct NodeProcess {
    /// The process.
    pub child: Child,
    /// Its configuration file.
    pub config: PathBuf,
    /// Its control socket.
    pub socket: PathBuf,
    /// Its stderr (the log).
    pub log: PathBuf,
}

impl NodeProcess {
    /// Writes `config` (whose data_dir is `data_dir`) and starts the node.
    pub fn spawn(data_dir: &Path, config: &str) -> NodeProcess {
        let path = data_dir.with_extension("toml");
        std::fs::write(&path, config).unwrap();
        let log = data_dir.with_extension("log");
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        NodeProcess {
            child,
            config: path,
            socket: data_dir.join("control.sock"),
            log,
        }
    }

    /// Rewrites the configuration so that a restart binds the ports the
    /// node has now (its QUIC port and radio port may have been 0).
    pub async fn pin_ports(&mut self) {
        let (quic, radio) = bound(self).await;
        let mut text = std::fs::read_to_string(&self.config).unwrap();
        if let Some(port) = quic {
            text = text.replace(
                "listen = \"127.0.0.1:0\"",
                &format!("listen = \"127.0.0.1:{port}\""),
            );
        }
        if let Some(port) = radio {
            text = text.replace(
                "bind = \"127.0.0.1:0\"",
                &format!("bind = \"127.0.0.1:{port}\""),
            );
        }
        std::fs::write(&self.config, text).unwrap();
    }

    /// Starts the node again from the same configuration.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap();
        self.child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Asks the node; retries while the socket is not up yet.
    pub async fn ask(&self, request: Value) -> Value {
        let start = Instant::now();
        loop {
            match qpc_node::control::call(&self.socket, &request).await {
                Ok(answer) => return answer,
                Err(_) if start.elapsed() < TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("node unreachable: {e}\n{}", self.log_text()),
            }
        }
    }

    /// Polls `request` until `done` holds for the answer.
    pub async fn until(&self, what: &str, request: Value, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let answer = self.ask(request.clone()).await;
            if done(&answer) {
                return answer;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out: {what}; last answer {answer}\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the node has a route to `address`.
    pub async fn wait_route(&self, address: &str) {
        self.until("route", json!({"op": "routes"}), |r| {
            r["routes"]
                .as_array()
                .is_some_and(|v| v.iter().any(|x| x["destination"] == address))
        })
        .await;
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node's configuration: QUIC on `listen`, pinned `peers` (address,
/// optional port to dial), optional extra TOML.
pub fn config(
    data_dir: &Path,
    listen: Option<u16>,
    peers: &[(&str, Option<u16>)],
    extra: &str,
) -> String {
    let mut text = format!(
        "data_dir = {data_dir:?}\n[log]\nlevel = \"info\"\n[mesh]\nannounce_interval_ms = 5000\nmax_outstanding = 256\npath_retry_ms = 1000\nretry_first_ms = 5000\nstore_max_messages = 1024\nstore_max_bytes = 4194304\n[community]\nissuer_seed = \"{}\"\n[quic]\n",
        "ab".repeat(32)
    );
    if let Some(port) = listen {
        text += &format!("listen = \"127.0.0.1:{port}\"\n");
    }
    for (address, connect) in peers {
        text += &format!("[[quic.peers]]\naddress = \"{address}\"\n");
        if let Some(port) = connect {
            text += &format!("connect = \"127.0.0.1:{port}\"\n");
        }
    }
    text + extra
}

/// The socket addresses a running node is bound to: (QUIC, radio).
pub async fn bound(node: &NodeProcess) -> (Option<u16>, Option<u16>) {
    let status = node.ask(json!({"op": "status"})).await;
    let port = |key: &str| {
        status["bound"][key]
            .as_str()
            .map(|a| a.parse::<std::net::SocketAddr>().unwrap().port())
    };
    (port("quic"), port("radio"))
}

/// A –QUIC– B –QUIC– C under `dir`, started one after another, each
/// listening on a port the system chose (0) and dialling the nodes already
/// running, so no port is picked before it is bound. A restarted node
/// binds the port it had again ([`NodeProcess::restart`]) and dials its
/// peers again; C's address and the three nodes.
pub async fn quic_chain(dir: &Path) -> (String, [NodeProcess; 3]) {
    let dirs: Vec<_> = ["a", "b", "c"].iter().map(|n| dir.join(n)).collect();
    let addresses: Vec<String> = dirs.iter().map(|d| keygen(d)).collect();
    let (a, b, c) = (&addresses[0], &addresses[1], &addresses[2]);
    let node_a = NodeProcess::spawn(&dirs[0], &config(&dirs[0], Some(0), &[(b, None)], ""));
    let pa = bound(&node_a).await.0;
    let node_b = NodeProcess::spawn(
        &dirs[1],
        &config(&dirs[1], Some(0), &[(a, pa), (c, None)], ""),
    );
    let pb = bound(&node_b).await.0;
    let node_c = NodeProcess::spawn(&dirs[2], &config(&dirs[2], Some(0), &[(b, pb)], ""));
    let mut nodes = [node_a, node_b, node_c];
    for node in &mut nodes {
        node.pin_ports().await;
    }
    (c.clone(), nodes)
}
