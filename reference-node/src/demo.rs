//! `qpc-node demo`: three nodes in one process on loopback,
//! A –QUIC– B –LoRa (emulated channel, SF9)– C. C is reachable from A only
//! through B; A fetches C's identity over the mesh, sends C an end-to-end
//! sealed message and gets C's receipt. Then FAPP (`spec/30` §16): C, a
//! therapist, announces free slots; A, a patient, searches, reserves one
//! and gets C's confirmation. Every step is driven through the nodes'
//! control API, as a user would, and printed with its timing and, for
//! FAPP, the LoRa airtime and bytes it cost.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::config::Config;
use crate::control;
use crate::error::{Error, Result};
use crate::identity;
use crate::node::{self, RunningNode};

/// How long one step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// The community seed of the demo (a test bed's shared issuer, spec/30 §3).
const DEMO_ISSUER_SEED: &str = "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3";

/// The directories and configurations of the demo's three nodes. Every
/// socket binds port 0 (the system chooses, so two runs never race for a
/// port): B starts first; A dials B's QUIC port and C's radio transmits to
/// B's radio, which learns C's when it hears it (`spec/30` §7).
#[derive(Debug, Clone)]
pub struct Topology {
    /// The working directory; each node's data directory is inside.
    pub dir: PathBuf,
    /// The LoRa spreading factor of B's and C's radios.
    pub spreading_factor: u8,
}

impl Topology {
    /// The topology under `dir`, its radios at `spreading_factor`.
    pub fn new(dir: &Path, spreading_factor: u8) -> Topology {
        Topology {
            dir: dir.to_path_buf(),
            spreading_factor,
        }
    }

    /// Node `name`'s data directory.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn common(&self, name: &str) -> String {
        format!(
            "data_dir = {dir:?}\n[log]\nlevel = \"warn\"\n[mesh]\nannounce_interval_ms = 20000\n\
             [community]\nissuer_seed = \"{DEMO_ISSUER_SEED}\"\n",
            dir = self.data_dir(name)
        )
    }

    fn lora(&self, peers: &str) -> String {
        format!(
            "[lora]\nmode = \"udp\"\nspreading_factor = {sf}\nregion = \"eu868-g3\"\n\
             [lora.udp]\nbind = \"127.0.0.1:0\"\npeers = [{peers}]\n",
            sf = self.spreading_factor
        )
    }

    /// B: QUIC on port 0 accepting A (address `a`, hex), its radio on
    /// port 0.
    pub fn config_b(&self, a: &str) -> String {
        format!(
            "{}[quic]\nlisten = \"127.0.0.1:0\"\n[[quic.peers]]\naddress = \"{a}\"\n{}",
            self.common("b"),
            self.lora("")
        )
    }

    /// A: QUIC on port 0, dialling B (address `b`) at `b_quic`.
    pub fn config_a(&self, b: &str, b_quic: SocketAddr) -> String {
        format!(
            "{}[quic]\nlisten = \"127.0.0.1:0\"\n[[quic.peers]]\naddress = \"{b}\"\nconnect = \"{b_quic}\"\n",
            self.common("a")
        )
    }

    /// C: its radio on port 0, transmitting to B's at `b_radio`.
    pub fn config_c(&self, b_radio: SocketAddr) -> String {
        format!(
            "{}{}",
            self.common("c"),
            self.lora(&format!("\"{b_radio}\""))
        )
    }
}

/// What the demo prints as it goes.
struct Account {
    start: Instant,
    step: usize,
}

impl Account {
    fn step(&mut self, what: &str, took: Duration) {
        self.step += 1;
        println!(
            "[{:>6.2} s] {}. {what} ({:.0} ms)",
            self.start.elapsed().as_secs_f64(),
            self.step,
            took.as_secs_f64() * 1e3
        );
    }
}

async fn ask(node: &RunningNode, request: Value) -> Result<Value> {
    let answer = control::call(&node.control_socket, &request).await?;
    if answer["ok"] == true {
        Ok(answer)
    } else {
        Err(Error::Io(std::io::Error::other(format!(
            "the node refused {request}: {answer}"
        ))))
    }
}

/// Polls `check` every 50 ms until it gives a value; `what` names the step
/// in the timeout error.
async fn until<F, Fut>(what: &str, mut check: F) -> Result<(Value, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<Value>>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await? {
            return Ok((v, start.elapsed()));
        }
        if start.elapsed() > STEP_TIMEOUT {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "demo step timed out after {} s: {what}",
                    STEP_TIMEOUT.as_secs()
                ),
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn short(address: &str) -> &str {
    address.get(..8).unwrap_or(address)
}

/// The demo therapist's profile (`spec/30` §16.2).
fn demo_profile() -> Value {
    json!({
        "licence": "LANR-123456789", "plz": "10115", "methods": ["behavioural", "psychodynamic"],
        "age_groups": ["adults"], "modalities": ["in_person", "video"], "payers": ["gkv", "pkv"],
        "languages": ["de", "en"], "hold_ms": 600_000,
    })
}

/// What a node's radio sent so far: (airtime ms, frames, bytes on air).
#[derive(Debug, Clone, Copy, Default)]
struct Air {
    airtime_ms: f64,
    frames: u64,
    bytes: u64,
}

impl Air {
    async fn of(node: &RunningNode) -> Result<Air> {
        let status = ask(node, json!({"op": "status"})).await?;
        let lora = status["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["kind"] == "lora");
        Ok(lora.map_or(Air::default(), |l| Air {
            airtime_ms: l["airtime_ms"].as_f64().unwrap_or(0.0),
            frames: l["frames_out"].as_u64().unwrap_or(0),
            bytes: l["frame_bytes_out"].as_u64().unwrap_or(0),
        }))
    }

    /// B's and C's radios together.
    async fn lora(nodes: &[RunningNode; 3]) -> Result<Air> {
        let (b, c) = (Air::of(&nodes[1]).await?, Air::of(&nodes[2]).await?);
        Ok(Air {
            airtime_ms: b.airtime_ms + c.airtime_ms,
            frames: b.frames + c.frames,
            bytes: b.bytes + c.bytes,
        })
    }

    fn since(self, before: Air) -> String {
        format!(
            "LoRa: {} frames, {} bytes, {:.1} ms airtime",
            self.frames - before.frames,
            self.bytes - before.bytes,
            self.airtime_ms - before.airtime_ms
        )
    }
}

/// A's QUIC bytes out and in so far.
async fn quic_bytes(node: &RunningNode) -> Result<(u64, u64)> {
    let status = ask(node, json!({"op": "status"})).await?;
    let link = &status["links"][0];
    Ok((
        link["bytes_out"].as_u64().unwrap_or(0),
        link["bytes_in"].as_u64().unwrap_or(0),
    ))
}

/// The FAPP steps: C announces, A searches, reserves, C confirms.
async fn fapp(account: &mut Account, nodes: &[RunningNode; 3], c: &str) -> Result<()> {
    println!("\nFAPP: C is a therapist behind LoRa, A a patient on QUIC");
    let (node_a, node_c) = (&nodes[0], &nodes[2]);
    let now = crate::runtime::now_ms();
    let slots: Vec<Value> = (1..=3u64)
        .map(|i| {
            let start = (now / 3_600_000 + 24 * i) * 3_600_000;
            json!({"id": i, "start": crate::fapp::format_time(start), "duration_min": 50,
                   "kind": "consultation"})
        })
        .collect();
    let (air, quic) = (Air::lora(nodes).await?, quic_bytes(node_a).await?);
    let t = Instant::now();
    let answer = ask(
        node_c,
        json!({"op": "fapp_announce", "profile": demo_profile(), "slots": slots}),
    )
    .await?;
    let sequence = answer["therapist"]["sequence"].clone();
    until("A's relay caches C's announce", || async {
        let s = ask(node_a, json!({"op": "status"})).await?;
        Ok((s["fapp"]["cached_announces"] == 1).then_some(s))
    })
    .await?;
    let quic_now = quic_bytes(node_a).await?;
    account.step(
        &format!(
            "C announces 3 slots (sequence {sequence}, signed, PLZ 10115); B's relay caches it \
             and passes it to A's ({}; QUIC B->A {} bytes)",
            Air::lora(nodes).await?.since(air),
            quic_now.1 - quic.1
        ),
        t.elapsed(),
    );
    let (air, quic) = (Air::lora(nodes).await?, quic_now);
    let t = Instant::now();
    ask(
        node_a,
        json!({"op": "fapp_query", "plz_prefix": "10", "kinds": ["consultation"],
               "collect_ms": 60_000, "contact": "pseudonym-7f3a"}),
    )
    .await?;
    let (search, _) = until("A's search finds C's slots", || async {
        let r = ask(node_a, json!({"op": "fapp_results"})).await?;
        let found = r["search"]["candidates"]
            .as_array()
            .is_some_and(|c| c.len() == 3);
        Ok(found.then(|| r["search"].clone()))
    })
    .await?;
    let best = &search["candidates"][0];
    let found = t.elapsed();
    until("B forwards the query onto LoRa", || async {
        // The frame count and the airtime are two counters: wait for both.
        let now = Air::lora(nodes).await?;
        let on_air = now.frames > air.frames && now.airtime_ms > air.airtime_ms;
        Ok(on_air.then_some(json!(now.frames)))
    })
    .await?;
    let quic_now = quic_bytes(node_a).await?;
    account.step(
        &format!(
            "A searches (query id {}…, no identity in it): 3 candidates from A's relay cache \
             in {:.0} ms, best slot {} at {}; the query floods on via B, in the clear on LoRa \
             by design (QUIC A->B {} bytes; {})",
            short(search["query_id"].as_str().unwrap_or("")),
            found.as_secs_f64() * 1e3,
            best["slot"],
            best["start"].as_str().unwrap_or("?"),
            quic_now.0 - quic.0,
            Air::lora(nodes).await?.since(air)
        ),
        t.elapsed(),
    );
    let (air, quic) = (Air::lora(nodes).await?, quic_now);
    let t = Instant::now();
    let slot = best["slot"].clone();
    until("A reserves the slot", || async {
        let answer = control::call(
            &node_a.control_socket,
            &json!({"op": "fapp_reserve", "therapist": c, "slot": slot}),
        )
        .await?;
        Ok((answer["ok"] == true).then_some(answer))
    })
    .await?;
    let (held, _) = until("C holds the slot", || async {
        let r = ask(node_c, json!({"op": "fapp_results"})).await?;
        Ok(r["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["event"] == "held").cloned()))
    })
    .await?;
    account.step(
        &format!(
            "A reserves slot {slot}: sealed to C's X-Wing key, routed A-B-C inside pqXX on \
             LoRa; C holds it (contact {})",
            held["contact"]
        ),
        t.elapsed(),
    );
    let t2 = Instant::now();
    ask(
        node_c,
        json!({"op": "fapp_confirm", "request_id": held["request_id"]}),
    )
    .await?;
    until("A gets C's confirmation", || async {
        let r = ask(node_a, json!({"op": "fapp_results"})).await?;
        Ok((r["search"]["state"] == "booked").then_some(r))
    })
    .await?;
    let quic_now = quic_bytes(node_a).await?;
    account.step(
        &format!(
            "C confirms; A has the sealed result at its one-time reply address: booked \
             (reservation and result: QUIC A->B {} / B->A {} bytes; {})",
            quic_now.0 - quic.0,
            quic_now.1 - quic.1,
            Air::lora(nodes).await?.since(air)
        ),
        t2.elapsed(),
    );
    Ok(())
}

/// Runs the demo in a fresh temporary directory.
pub async fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("qpc-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = run_in(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs the demo with its data directories under `dir`.
pub async fn run_in(dir: &Path) -> Result<()> {
    let mut account = Account {
        start: Instant::now(),
        step: 0,
    };
    println!("qpc-node demo: A -QUIC- B -LoRa (emulated channel, SF9, EU868 g3 10%)- C\n");
    let topology = Topology::new(dir, 9);
    let t = Instant::now();
    let mut addresses = Vec::new();
    for name in ["a", "b", "c"] {
        addresses.push(hex::encode(
            identity::keygen(&topology.data_dir(name))?
                .address()
                .as_bytes(),
        ));
    }
    let [a, b, c] = [
        addresses[0].as_str(),
        addresses[1].as_str(),
        addresses[2].as_str(),
    ];
    account.step(
        &format!(
            "identities made: A {}…, B {}…, C {}…",
            short(a),
            short(b),
            short(c)
        ),
        t.elapsed(),
    );
    let t = Instant::now();
    let node_b = node::start(&Config::parse(&topology.config_b(a))?).await?;
    let (Some(b_quic), Some(b_radio)) = (node_b.quic_addr, node_b.radio_addr) else {
        return Err(Error::InvalidConfig(
            "B has no QUIC endpoint or radio".into(),
        ));
    };
    let node_a = node::start(&Config::parse(&topology.config_a(b, b_quic))?).await?;
    let node_c = node::start(&Config::parse(&topology.config_c(b_radio))?).await?;
    let nodes = [node_a, node_b, node_c];
    account.step(
        "nodes started (redb stores, QUIC endpoints, radios, control sockets)",
        t.elapsed(),
    );
    let (node_a, node_c) = (&nodes[0], &nodes[2]);
    let (_, took) = until("the QUIC link A-B comes up", || async {
        let s = ask(node_a, json!({"op": "status"})).await?;
        Ok((s["links"][0]["up"] == true).then_some(s))
    })
    .await?;
    account.step(
        "QUIC link A-B up: TLS 1.3, X25519MLKEM768 only, identities pinned",
        took,
    );
    let (_, took) = until("A learns a route to C", || async {
        let r = ask(node_a, json!({"op": "routes"})).await?;
        let found = r["routes"]
            .as_array()
            .is_some_and(|routes| routes.iter().any(|route| route["destination"] == c));
        Ok(found.then_some(r))
    })
    .await?;
    account.step(
        "A has a route to C: C's announce crossed LoRa to B, then QUIC to A",
        took,
    );
    let text = "hello C, this is A: sealed end to end, across QUIC and LoRa";
    let t = Instant::now();
    let sent = ask(
        node_a,
        json!({"op": "send", "to": c, "content": hex::encode(text)}),
    )
    .await?;
    let id = sent["id"].clone();
    account.step(
        &format!("A sends message {id} to C (state: {})", sent["state"]),
        t.elapsed(),
    );
    let node_b = &nodes[1];
    let (handshake, took) = until("the pqXX handshake B-C on LoRa", || async {
        let s = ask(node_b, json!({"op": "status"})).await?;
        Ok(s["links"][1]["pqxx_handshakes"].get(0).cloned())
    })
    .await?;
    let lens = &handshake["message_lens"];
    let airtime: Vec<f64> = handshake["airtime_ms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect();
    account.step(
        &format!(
            "pqXX link B-C up on LoRa (B {}, attempt {}, {} ms): messages of {}, {}, {} bytes, \
             {:.1} ms airtime at SF9 in all; unicast datagrams B-C now travel inside it",
            handshake["role"].as_str().unwrap_or("?"),
            handshake["attempt"],
            handshake["took_ms"],
            lens[0],
            lens[1],
            lens[2],
            airtime.iter().sum::<f64>()
        ),
        took,
    );
    let (_, took) = until("C receives A's message", || async {
        let inbox = ask(node_c, json!({"op": "inbox"})).await?;
        Ok(inbox["messages"]
            .as_array()
            .and_then(|m| m.first().cloned()))
    })
    .await
    .map(|(message, took)| {
        let content = hex::decode(message["content"].as_str().unwrap_or("")).unwrap_or_default();
        println!(
            "           C's inbox: from {}…: {:?}",
            short(message["from"].as_str().unwrap_or("")),
            String::from_utf8_lossy(&content)
        );
        (message, took)
    })?;
    account.step(
        "C has the message: A fetched C's identity over the mesh, sealed to its X-Wing key",
        took,
    );
    let (_, took) = until("A gets C's receipt", || async {
        let m = ask(node_a, json!({"op": "message", "id": id})).await?;
        Ok((m["state"] == "confirmed").then_some(m))
    })
    .await?;
    account.step("A has C's end-to-end receipt: message confirmed", took);
    fapp(&mut account, &nodes, c).await?;
    println!("\nper link:");
    for (name, node) in ["A", "B", "C"].iter().zip(&nodes) {
        let status = ask(node, json!({"op": "status"})).await?;
        for link in status["links"].as_array().into_iter().flatten() {
            let airtime = match link["kind"].as_str() {
                Some("lora") => format!(
                    ", {} frames / {} bytes on air, airtime {:.1} ms, {} packets not heard",
                    link["frames_out"],
                    link["frame_bytes_out"],
                    link["airtime_ms"].as_f64().unwrap_or(0.0),
                    link["lost"]
                ),
                _ => String::new(),
            };
            println!(
                "  {name} {:<4}: out {} datagrams / {} bytes, in {} datagrams / {} bytes{airtime}",
                link["kind"].as_str().unwrap_or("?"),
                link["datagrams_out"],
                link["bytes_out"],
                link["datagrams_in"],
                link["bytes_in"]
            );
        }
    }
    for node in nodes {
        ask(&node, json!({"op": "shutdown"})).await?;
        node.driver
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    }
    println!(
        "\ndemo completed in {:.2} s",
        account.start.elapsed().as_secs_f64()
    );
    Ok(())
}
