//! Load: A –QUIC– B –QUIC– C on loopback; A sends `QPC_LOAD_MESSAGES`
//! (default 10,000) messages to C through the relay B as fast as its
//! control API and `mesh.max_outstanding` allow. Every message is
//! delivered once and confirmed; the rate is printed.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{config, keygen, temp_dir, NodeProcess};
use qpc_node::demo::free_udp_port;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_relayed_over_quic() {
    let messages: usize = std::env::var("QPC_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = temp_dir("load");
    let dirs: Vec<_> = ["a", "b", "c"].iter().map(|n| dir.join(n)).collect();
    let addresses: Vec<String> = dirs.iter().map(|d| keygen(d)).collect();
    let (a, b, c) = (&addresses[0], &addresses[1], &addresses[2]);
    let [pa, pb, pc] = [
        free_udp_port().unwrap(),
        free_udp_port().unwrap(),
        free_udp_port().unwrap(),
    ];
    let node_a = NodeProcess::spawn(&dirs[0], &config(&dirs[0], Some(pa), &[(b, Some(pb))], ""));
    let node_b = NodeProcess::spawn(
        &dirs[1],
        &config(&dirs[1], Some(pb), &[(a, None), (c, Some(pc))], ""),
    );
    let node_c = NodeProcess::spawn(&dirs[2], &config(&dirs[2], Some(pc), &[(b, None)], ""));
    node_a.wait_route(c).await;
    // The first message fetches C's identity; the rest are timed.
    let first = node_a
        .ask(json!({"op": "send", "to": c, "content": "00"}))
        .await;
    node_a
        .until(
            "the first receipt",
            json!({"op": "message", "id": first["id"]}),
            |m| m["state"] == "confirmed",
        )
        .await;

    let start = Instant::now();
    let mut sent = 0;
    while sent < messages {
        let answer = node_a
            .ask(
                json!({"op": "send", "to": c, "content": hex::encode((sent as u32).to_be_bytes())}),
            )
            .await;
        if answer["ok"] == true {
            sent += 1;
        } else {
            assert_eq!(answer["error"]["class"], "full", "{answer}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    node_a
        .until("every receipt", json!({"op": "status"}), |s| {
            s["outstanding"] == 0
        })
        .await;
    let elapsed = start.elapsed();
    let mut seen = BTreeSet::new();
    let mut after = None;
    loop {
        let page = node_c.ask(json!({"op": "inbox", "after": after})).await;
        let rows = page["messages"].as_array().unwrap().clone();
        let Some(last) = rows.last() else { break };
        after = last["seq"].as_u64();
        for row in &rows {
            assert!(
                seen.insert(row["content"].as_str().unwrap().to_string()),
                "delivered twice: {row}"
            );
        }
    }
    assert_eq!(seen.len(), messages + 1, "lost messages");
    println!(
        "load: {messages} messages A -> B -> C over QUIC in {:.2} s: {:.0} messages/s, 0 lost, 0 duplicated",
        elapsed.as_secs_f64(),
        messages as f64 / elapsed.as_secs_f64()
    );
    drop((node_a, node_b, node_c));
    std::fs::remove_dir_all(&dir).unwrap();
}
