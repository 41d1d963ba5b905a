//! `kill -9` durability: A –QUIC– B –QUIC– C; A sends messages to C while
//! the relay B and then the recipient C are killed and restarted. Every
//! message A's node accepted is delivered exactly once and confirmed.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{quic_chain, temp_dir, TIMEOUT};
use serde_json::json;

const MESSAGES: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_and_delivers_nothing_twice() {
    let dir = temp_dir("durability");
    let (c, [node_a, mut node_b, mut node_c]) = quic_chain(&dir).await;
    let c = &c;
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
