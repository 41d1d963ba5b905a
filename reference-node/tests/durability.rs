//! `kill -9` durability: A –QUIC– B –QUIC– C; A sends messages to C while
//! the relay B and then the recipient C are killed and restarted. Every
//! message A's node accepted is delivered exactly once and confirmed.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{config, keygen, temp_dir, NodeProcess, TIMEOUT};
use qpc_node::demo::free_udp_port;
use serde_json::json;

const MESSAGES: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_and_delivers_nothing_twice() {
    let dir = temp_dir("durability");
    let dirs: Vec<_> = ["a", "b", "c"].iter().map(|n| dir.join(n)).collect();
    let addresses: Vec<String> = dirs.iter().map(|d| keygen(d)).collect();
    let (a, b, c) = (&addresses[0], &addresses[1], &addresses[2]);
    let [pa, pb, pc] = [
        free_udp_port().unwrap(),
        free_udp_port().unwrap(),
        free_udp_port().unwrap(),
    ];
    let node_a = NodeProcess::spawn(&dirs[0], &config(&dirs[0], Some(pa), &[(b, Some(pb))], ""));
    let mut node_b = NodeProcess::spawn(
        &dirs[1],
        &config(&dirs[1], Some(pb), &[(a, Some(pa)), (c, Some(pc))], ""),
    );
    let mut node_c =
        NodeProcess::spawn(&dirs[2], &config(&dirs[2], Some(pc), &[(b, Some(pb))], ""));
    node_a.wait_route(c).await;

    let mut ids = Vec::new();
    for i in 0..MESSAGES {
        if i == MESSAGES / 3 {
            node_b.kill();
            node_b.restart();
        }
        if i == 2 * MESSAGES / 3 {
            node_c.kill();
            node_c.restart();
        }
        let answer = node_a
            .ask(json!({"op": "send", "to": c, "content": hex::encode(format!("message {i}"))}))
            .await;
        assert_eq!(answer["ok"], true, "{answer}");
        ids.push(answer["id"].clone());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Kill the recipient once more while messages are in flight.
    node_c.kill();
    node_c.restart();

    let start = Instant::now();
    for id in &ids {
        loop {
            let m = node_a.ask(json!({"op": "message", "id": id})).await;
            if m["state"] == "confirmed" {
                break;
            }
            assert_ne!(m["state"], "failed", "{m}");
            assert!(
                start.elapsed() < 3 * TIMEOUT,
                "message {id} not confirmed: {m}\n{}",
                node_a.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let inbox = node_c.ask(json!({"op": "inbox"})).await;
    let contents: Vec<String> = inbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = contents.iter().collect();
    let expected: BTreeSet<String> = (0..MESSAGES)
        .map(|i| hex::encode(format!("message {i}")))
        .collect();
    assert_eq!(
        distinct.len(),
        contents.len(),
        "a message was delivered twice"
    );
    assert_eq!(distinct, expected.iter().collect(), "a message was lost");
    println!("durability: {MESSAGES} sent, {} delivered, 0 lost, 0 duplicated, two kill -9 of C and one of B", contents.len());
    drop((node_a, node_b, node_c));
    std::fs::remove_dir_all(&dir).unwrap();
}
