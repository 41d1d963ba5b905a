//! The KISS serial modem transport against pseudo-terminal pairs standing
//! in for two modems: the test bridges the two masters (a perfect radio
//! between the modems), so node A's KISS frames reach node B's serial port
//! and back. A message from A reaches B with its receipt; a garbage KISS
//! frame written to A's port is refused and counted, and A keeps going.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{config, keygen, temp_dir, NodeProcess};
use serde_json::json;

/// Two raw pseudo-terminal pairs and a perfect "radio" between their
/// masters; prints the two slave paths, then copies bytes both ways and
/// writes each hex line read from stdin into the first master (what the
/// first modem "hears"). Python's standard library has `pty`; Rust's does
/// not.
const MODEMS: &str = r#"
import os, pty, select, sys, tty
pairs = []
for _ in range(2):
    master, slave = pty.openpty()
    tty.setraw(slave)
    pairs.append((master, slave))
    print(os.ttyname(slave), flush=True)
a, b = pairs[0][0], pairs[1][0]
while True:
    ready, _, _ = select.select([a, b, 0], [], [])
    for fd in ready:
        if fd == 0:
            line = sys.stdin.readline()
            if not line:
                sys.exit(0)
            os.write(a, bytes.fromhex(line.strip()))
        else:
            os.write(b if fd == a else a, os.read(fd, 512))
"#;

/// The modem pair: the helper process and the two serial devices.
struct Modems {
    helper: Child,
    devices: [PathBuf; 2],
}

impl Modems {
    fn start() -> Modems {
        let mut helper = Command::new("python3")
            .args(["-c", MODEMS])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the pseudo-terminal helper");
        let mut lines = BufReader::new(helper.stdout.take().unwrap()).lines();
        let mut device = || PathBuf::from(lines.next().unwrap().unwrap());
        let devices = [device(), device()];
        Modems { helper, devices }
    }

    /// Writes `bytes` into the first node's serial port.
    fn inject(&mut self, bytes: &[u8]) {
        let stdin = self.helper.stdin.as_mut().unwrap();
        writeln!(stdin, "{}", hex::encode(bytes)).unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Modems {
    fn drop(&mut self) {
        let _ = self.helper.kill();
        let _ = self.helper.wait();
    }
}

fn kiss(device: &std::path::Path) -> String {
    format!("[lora]\nmode = \"kiss\"\nspreading_factor = 7\nregion = \"eu868-g3\"\n[lora.kiss]\ndevice = {device:?}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_talk_through_kiss_modems() {
    let dir = temp_dir("kiss");
    let (a_dir, b_dir) = (dir.join("a"), dir.join("b"));
    let (_, b) = (keygen(&a_dir), keygen(&b_dir));
    let mut modems = Modems::start();
    let [device_a, device_b] = modems.devices.clone();
    let node_a = NodeProcess::spawn(&a_dir, &config(&a_dir, None, &[], &kiss(&device_a)));
    let node_b = NodeProcess::spawn(&b_dir, &config(&b_dir, None, &[], &kiss(&device_b)));
    node_a.wait_route(&b).await;

    // Garbage from the "modem": a bad escape, another command, then noise.
    modems.inject(&[0xc0, 0x00, 0xdb, 0x01, 0xc0, 0xc0, 0x06, 0x01, 0xc0]);
    let sent = node_a
        .ask(json!({"op": "send", "to": b, "content": hex::encode("over serial")}))
        .await;
    assert_eq!(sent["ok"], true, "{sent}");
    node_a
        .until(
            "the receipt over KISS",
            json!({"op": "message", "id": sent["id"]}),
            |m| m["state"] == "confirmed",
        )
        .await;
    let inbox = node_b.ask(json!({"op": "inbox"})).await;
    assert_eq!(inbox["messages"][0]["content"], hex::encode("over serial"));
    let status = node_a.ask(json!({"op": "status"})).await;
    assert!(
        status["links"][0]["lost"].as_u64().unwrap() >= 2,
        "{status}"
    );
    assert!(node_a.log_text().contains("KISS frame refused"));
    drop((node_a, node_b, modems));
    std::fs::remove_dir_all(&dir).unwrap();
}
