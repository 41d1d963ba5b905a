//! FAPP across real `qpc-node` processes, A –QUIC– B –QUIC– C: the
//! therapist C announces through the CLI, the patient A searches, reserves
//! and gets C's confirmation; then `kill -9` of both ends loses neither the
//! booking nor the sequence, and delivers nothing twice.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{quic_chain, temp_dir, NodeProcess, BIN, TIMEOUT};
use serde_json::{json, Value};

const PROFILE: &str = "licence = \"LANR-123456789\"\nplz = \"10115\"\n\
    methods = [\"behavioural\"]\nage_groups = [\"adults\"]\nmodalities = [\"in_person\", \"video\"]\n\
    payers = [\"gkv\"]\nlanguages = [\"de\", \"en\"]\nhold_ms = 60000\n";

/// `qpc-node fapp ARGS --socket S`: (success, stdout, stderr).
fn cli(node: &NodeProcess, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("fapp")
        .args(args)
        .arg("--socket")
        .arg(&node.socket)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An RFC 3339 time `hours` from now, on the minute.
fn in_hours(hours: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    qpc_node::fapp::format_time((now / 60 + hours * 60) * 60_000)
}

/// Asks until the answer is not a refusal for a missing identity (the
/// patient's node fetches the therapist's over the mesh).
async fn reserve(node: &NodeProcess, therapist: &str, slot: u32) -> Value {
    let start = Instant::now();
    loop {
        let answer = node
            .ask(json!({"op": "fapp_reserve", "therapist": therapist, "slot": slot}))
            .await;
        let waiting = answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("identity"));
        if !waiting || start.elapsed() > TIMEOUT {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn events<'a>(results: &'a Value, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    results["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |e| e["event"] == name)
}

/// Makes C a therapist with two slots through the CLI; the announce's
/// sequence.
fn announce(dir: &Path, c: &NodeProcess) -> u64 {
    let profile = dir.join("profile.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let (s1, s2) = (
        format!("1,{},50,consultation", in_hours(24)),
        format!("2,{},50,consultation", in_hours(48)),
    );
    let profile = profile.to_str().unwrap();
    let (ok, out, err) = cli(
        c,
        &[
            "announce",
            "--profile",
            profile,
            "--slot",
            &s1,
            "--slot",
            &s2,
        ],
    );
    assert!(ok, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["therapist"]["slots"].as_array().unwrap().len(), 2);
    answer["therapist"]["sequence"].as_u64().unwrap()
}

/// A searches (its query floods over B to C), reserves slot 1 of `c`, C
/// confirms through the CLI; returns when A is booked.
async fn book(a: &NodeProcess, c_node: &NodeProcess, c: &str) {
    let (ok, out, err) = cli(
        a,
        &[
            "query",
            "--plz",
            "10",
            "--kind",
            "consultation",
            "--collect-ms",
            "60000",
            "--wait",
            "30",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(c),
        "C's slots are not among the candidates: {out}"
    );
    let answer = reserve(a, c, 7).await;
    assert_eq!(answer["error"]["class"], "wrong_state", "{answer}");
    let answer = reserve(a, c, 1).await;
    assert_eq!(answer["ok"], true, "{answer}");
    let held = c_node
        .until("C holds slot 1", json!({"op": "fapp_results"}), |r| {
            events(r, "held").next().is_some()
        })
        .await;
    let request = events(&held, "held").next().unwrap()["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, _, err) = cli(c_node, &["confirm", "--request", &request]);
    assert!(ok, "{err}");
    a.until("A is booked", json!({"op": "fapp_results"}), |r| {
        r["search"]["state"] == "booked"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_a_therapists_slot_across_processes() {
    let started = Instant::now();
    let dir = temp_dir("fapp");
    let (c, [node_a, node_b, node_c]) = quic_chain(&dir).await;
    node_a.wait_route(&c).await;

    // Bad input is refused with its class.
    let (ok, _, err) = cli(
        &node_a,
        &["announce", "--slot", "1,2030-01-01T09:00:00Z,50,acute"],
    );
    assert!(!ok && err.contains("not a therapist"), "{err}");
    let (ok, _, err) = cli(&node_c, &["announce", "--slot", "1,tomorrow,50,acute"]);
    assert!(!ok && err.contains("RFC 3339"), "{err}");
    let (ok, _, err) = cli(&node_a, &["reserve", "--therapist", &c, "--slot", "1"]);
    assert!(!ok && err.contains("no search"), "{err}");

    let sequence = announce(&dir, &node_c);
    assert!(sequence >= 1);
    book(&node_a, &node_c, &c).await;

    let a = node_a.ask(json!({"op": "fapp_results"})).await;
    assert_eq!(events(&a, "booked").count(), 1, "{a}");
    let c_results = node_c.ask(json!({"op": "fapp_results"})).await;
    let slots = c_results["therapist"]["slots"].as_array().unwrap();
    assert_eq!(slots[0]["state"], "booked", "{c_results}");
    assert_eq!(slots[1]["state"], "free", "{c_results}");
    let status = node_b.ask(json!({"op": "status"})).await;
    assert_eq!(status["fapp"]["cached_announces"], 1, "{status}");
    println!(
        "fapp: announce, query, reserve, confirm across 3 processes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop((node_a, node_b, node_c));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_keeps_the_booking_and_the_sequence_never_goes_back() {
    let started = Instant::now();
    let dir = temp_dir("fapp-kill");
    let (c, [mut node_a, node_b, mut node_c]) = quic_chain(&dir).await;
    node_a.wait_route(&c).await;
    let mut highest = announce(&dir, &node_c);
    book(&node_a, &node_c, &c).await;

    // Announce in a burst and kill -9 in the middle of it: every sequence
    // the node answered with was stored before its announce went out.
    for round in 0..3 {
        for _ in 0..5 {
            let answer = node_c.ask(json!({"op": "fapp_announce"})).await;
            assert_eq!(answer["ok"], true, "{answer}");
            highest = highest.max(answer["therapist"]["sequence"].as_u64().unwrap());
        }
        let _ = node_c.ask(json!({"op": "fapp_announce"})).await;
        node_c.kill();
        node_c.restart();
        let after = node_c
            .until("C is back", json!({"op": "fapp_results"}), |r| {
                r["ok"] == true
            })
            .await;
        let sequence = after["therapist"]["sequence"].as_u64().unwrap();
        assert!(
            sequence >= highest,
            "round {round}: sequence went back from {highest} to {sequence}"
        );
        let slots = after["therapist"]["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 2, "{after}");
        assert_eq!(slots[0]["state"], "booked", "the booking was lost: {after}");
        highest = sequence;
    }
    // The relays accept the restarted therapist's next announce: its
    // sequence is newer than every one they cached.
    let slot = format!("3,{},50,consultation", in_hours(72));
    let (ok, out, err) = cli(&node_c, &["announce", "--slot", &slot]);
    assert!(ok, "{err}");
    let sequence = serde_json::from_str::<Value>(&out).unwrap()["therapist"]["sequence"]
        .as_u64()
        .unwrap();
    assert!(sequence > highest);
    let therapist = c.as_str();
    let start = Instant::now();
    loop {
        // A's relay answers A's query from its cache, which has slot 3 only
        // once B accepted the new announce and passed it on.
        let query = json!({"op": "fapp_query", "plz_prefix": "10", "collect_ms": 60000});
        assert_eq!(node_a.ask(query).await["ok"], true);
        let r = node_a.ask(json!({"op": "fapp_results"})).await;
        let candidates = r["search"]["candidates"].as_array().unwrap().clone();
        if candidates
            .iter()
            .any(|c| c["slot"] == 3 && c["therapist"] == therapist)
        {
            break;
        }
        assert!(start.elapsed() < TIMEOUT, "slot 3 never reached A: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = node_b.ask(json!({"op": "status"})).await;
    assert!(status["fapp"]["refused"]["stale"].is_null(), "{status}");

    // The patient's booking survives its own kill -9, logged once.
    node_a.kill();
    node_a.restart();
    let a = node_a
        .until("A is back", json!({"op": "fapp_results"}), |r| {
            r["ok"] == true
        })
        .await;
    assert_eq!(events(&a, "booked").count(), 1, "{a}");
    let c_results = node_c.ask(json!({"op": "fapp_results"})).await;
    assert_eq!(events(&c_results, "held").count(), 1, "{c_results}");
    assert_eq!(events(&c_results, "confirmed").count(), 1, "{c_results}");
    println!(
        "fapp kill -9: 3 kills of the therapist, 1 of the patient, sequence {highest} -> {sequence}, booking kept, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop((node_a, node_b, node_c));
    std::fs::remove_dir_all(&dir).unwrap();
}
