//! Three real `qpc-node` processes, A –QUIC– B –LoRa (emulated, SF7)– C: a
//! message from A reaches C and A gets the receipt; the CLI client
//! subcommands work against a running node.

mod common;

use std::process::Command;

use common::{bound, keygen, temp_dir, NodeProcess, BIN};
use qpc_node::demo::Topology;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_with_a_receipt() {
    let dir = temp_dir("interop");
    let topology = Topology::new(&dir, 7);
    let addresses: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| keygen(&topology.data_dir(n)))
        .collect();
    let [a, b, c] = [&addresses[0], &addresses[1], &addresses[2]];
    let node_b = NodeProcess::spawn(&topology.data_dir("b"), &topology.config_b(a));
    let (Some(b_quic), Some(b_radio)) = bound(&node_b).await else {
        panic!("B reports no QUIC port or radio port");
    };
    let at = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let node_a = NodeProcess::spawn(&topology.data_dir("a"), &topology.config_a(b, at(b_quic)));
    let node_c = NodeProcess::spawn(&topology.data_dir("c"), &topology.config_c(at(b_radio)));
    let nodes = [node_a, node_b, node_c];
    let (node_a, node_c) = (&nodes[0], &nodes[2]);
    node_a.wait_route(c).await;

    // The CLI: `send --wait` returns once the receipt is in.
    let out = Command::new(BIN)
        .args(["send", "--config"])
        .arg(&node_a.config)
        .args(["--to", c, "--text", "hello over two links", "--wait", "90"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        node_a.log_text()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("confirmed"));

    let inbox = node_c.ask(json!({"op": "inbox"})).await;
    let messages = inbox["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["from"], a.as_str());
    assert_eq!(messages[0]["content"], hex::encode("hello over two links"));

    let status = Command::new(BIN)
        .args(["status", "--socket"])
        .arg(&node_c.socket)
        .output()
        .unwrap();
    assert!(status.status.success());
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["address"], c.as_str());
    assert!(status["links"][0]["airtime_ms"].as_f64().unwrap() > 0.0);

    // Refusals come back with their class.
    let refused = node_a
        .ask(json!({"op": "send", "to": "zz", "content": ""}))
        .await;
    assert_eq!(refused["error"]["class"], "malformed");
    let refused = node_a.ask(json!({"op": "fly"})).await;
    assert_eq!(refused["error"]["class"], "malformed");
    for node in &nodes {
        assert_eq!(node.ask(json!({"op": "shutdown"})).await["ok"], true);
    }
    let _ = b;
    drop(nodes);
    std::fs::remove_dir_all(&dir).unwrap();
}
