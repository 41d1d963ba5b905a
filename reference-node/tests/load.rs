//! Load: A –QUIC– B –QUIC– C on loopback; A sends `QPC_LOAD_MESSAGES`
//! messages to C through the relay B as fast as its control API and
//! `mesh.max_outstanding` allow. Every message is delivered once and
//! confirmed; the rate is printed. The default, 2,000, keeps the test set
//! within two minutes on a loaded 2-core machine; the 10,000 run is
//! `QPC_LOAD_MESSAGES=10000 cargo test -p qpc-node --test load -- --nocapture`.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{quic_chain, temp_dir};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_messages_relayed_over_quic() {
    let messages: usize = std::env::var("QPC_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let dir = temp_dir("load");
    let (c, [node_a, node_b, node_c]) = quic_chain(&dir).await;
    let c = &c;
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
