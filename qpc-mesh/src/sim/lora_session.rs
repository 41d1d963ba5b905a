//! Sessions on LoRa (`spec/12-mls-lite.md` §A.15): the two ends of a LoRa
//! line fetch each other's identity (announce, then a key request), open a
//! pairwise session, and exchange messages in it, each way in turn; then
//! one more message goes sealed, for comparison. The report gives the
//! airtime of the establishment and, per message, the datagram bytes and
//! airtime every node spent on it.

use bytes::Bytes;
use qpc_crypto::identity::Address;
use rand_core::Rng;

use super::lora::LoraTraffic;
use super::lora_line::{LoraLineConfig, LoraLineNetwork};
use super::Simulator;
use crate::node::Event;
use crate::{Error, Result};

/// The scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoraSessionConfig {
    /// The line (its `content_len` is not used).
    pub line: LoraLineConfig,
    /// Messages sent in the session, alternately from each end.
    pub messages: usize,
    /// Content bytes of each message.
    pub content_len: usize,
    /// How long each step (key fetch, establishment, a message and its
    /// receipt) may take, ms.
    pub step_deadline_ms: u64,
}

impl Default for LoraSessionConfig {
    /// SF7, 3 hops, 10% loss, a 10-minute warm-up; 4 messages of 16 bytes;
    /// 30 minutes per step.
    fn default() -> Self {
        LoraSessionConfig {
            line: LoraLineConfig {
                spreading_factor: 7,
                warmup_ms: 600_000,
                ..LoraLineConfig::default()
            },
            messages: 4,
            content_len: 16,
            step_deadline_ms: 1_800_000,
        }
    }
}

/// What one step cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCost {
    /// How long it took, ms (`None`: not within the deadline).
    pub after_ms: Option<u64>,
    /// Per node: airtime (ns) and datagram bytes handed to the link.
    pub per_node: Vec<(u128, u64)>,
}

impl StepCost {
    /// Total airtime, ns.
    pub fn airtime_ns(&self) -> u128 {
        self.per_node.iter().map(|n| n.0).sum()
    }

    fn line(&self, what: &str) -> String {
        let after = self.after_ms.map_or("never".to_string(), |ms| {
            format!("{:.1} s", ms as f64 / 1000.0)
        });
        let nodes: Vec<String> = self
            .per_node
            .iter()
            .map(|(airtime, bytes)| format!("{:.2} s/{bytes} B", *airtime as f64 / 1e9))
            .collect();
        format!(
            "{what}: after {after}, airtime {:.2} s (per node airtime/datagram bytes: {})",
            self.airtime_ns() as f64 / 1e9,
            nodes.join(", ")
        )
    }
}

/// What the run measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoraSessionReport {
    /// The configuration.
    pub config: LoraSessionConfig,
    /// The key request and its response.
    pub key_fetch: StepCost,
    /// From opening the session to its establishment at the opener.
    pub establishment: StepCost,
    /// Each session message, from sending to its receipt; whether it
    /// arrived intact.
    pub messages: Vec<(StepCost, bool)>,
    /// The same content sealed (the session closed), for comparison.
    pub sealed: (StepCost, bool),
}

impl LoraSessionReport {
    /// Whether everything arrived: the key, the session, every message.
    pub fn complete(&self) -> bool {
        self.key_fetch.after_ms.is_some()
            && self.establishment.after_ms.is_some()
            && self.messages.iter().all(|m| m.0.after_ms.is_some() && m.1)
            && self.sealed.0.after_ms.is_some()
            && self.sealed.1
    }

    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        let l = &self.config.line;
        let mut lines = vec![format!(
            "lora session: SF{} EU868 g3 (10%), {} hops, {:.0}% frame loss, seed {}; {} messages of {} B",
            l.spreading_factor,
            l.hops,
            f64::from(l.loss_permille) / 10.0,
            l.seed,
            self.config.messages,
            self.config.content_len
        )];
        lines.push(self.key_fetch.line("key fetch"));
        lines.push(self.establishment.line("establishment"));
        for (i, (cost, intact)) in self.messages.iter().enumerate() {
            lines.push(cost.line(&format!("session message {i} (intact: {intact})")));
        }
        lines.push(
            self.sealed
                .0
                .line(&format!("sealed message (intact: {})", self.sealed.1)),
        );
        lines
    }
}

fn cost(net: &LoraLineNetwork, before: &[(u128, LoraTraffic)], after_ms: Option<u64>) -> StepCost {
    StepCost {
        after_ms,
        per_node: before
            .iter()
            .zip(net.usage())
            .map(|((a, b), (a2, t))| (a2 - a, t.datagram_bytes - b.datagram_bytes))
            .collect(),
    }
}

/// Runs until an event after the `seen`-th that `found` picks, or the
/// deadline; returns how long it took.
fn run_until_event(
    sim: &mut Simulator,
    deadline_ms: u64,
    mut found: impl FnMut(usize, &Event) -> bool,
) -> Option<u64> {
    let start = sim.now();
    let mut seen = sim.events().len();
    while sim.now() < start + deadline_ms {
        sim.run_until(sim.now() + 1_000);
        let hit = sim.events()[seen..]
            .iter()
            .find(|(_, i, e)| found(*i, e))
            .map(|(at, _, _)| at - start);
        if hit.is_some() {
            return hit;
        }
        seen = sim.events().len();
    }
    None
}

/// Sends `content` from `from` to `to` and waits for the receipt.
fn message(
    net: &mut LoraLineNetwork,
    from: usize,
    to: usize,
    content: &Bytes,
    deadline_ms: u64,
) -> Result<(StepCost, bool)> {
    let before = net.usage();
    let recipient = net.identities[to].clone();
    let handle = net
        .sim
        .with_node(from, |n, now, _| n.send(&recipient, content, now))?;
    let mut intact = false;
    let after = run_until_event(&mut net.sim, deadline_ms, |i, e| match e {
        Event::Received { content: got, .. } if i == to => {
            intact = got == content;
            false
        }
        Event::DeliveryConfirmed { handle: h } => i == from && *h == handle,
        _ => false,
    });
    Ok((cost(net, &before, after), intact))
}

/// Runs the scenario.
pub fn lora_session(config: &LoraSessionConfig) -> Result<LoraSessionReport> {
    let mut net = LoraLineNetwork::warmed_up(&LoraLineConfig {
        content_len: 8,
        ..config.line
    })?;
    let last = net.identities.len() - 1;
    let peer: Address = net.identities[last].address();
    let deadline = config.step_deadline_ms;
    net.sim.log_events();

    let before = net.usage();
    net.sim.with_node(0, |n, now, _| n.request_key(peer, now));
    let fetched = run_until_event(
        &mut net.sim,
        deadline,
        |i, e| matches!(e, Event::KeyFetched(id) if i == 0 && id.address() == peer),
    );
    let key_fetch = cost(&net, &before, fetched);

    let before = net.usage();
    let identity = net.identities[last].clone();
    net.sim
        .with_node(0, |n, now, _| n.open_session(&identity, now))?;
    let established = run_until_event(
        &mut net.sim,
        deadline,
        |i, e| matches!(e, Event::SessionEstablished { peer: p } if i == 0 && *p == peer),
    );
    let establishment = cost(&net, &before, established);
    if established.is_none() {
        return Err(Error::InvalidConfig(
            "the session was not established in time",
        ));
    }

    let mut content = vec![0u8; config.content_len];
    let mut messages = Vec::with_capacity(config.messages);
    for k in 0..config.messages {
        // A driver persists the state before its transmits go (this
        // reserves the session's counters, spec/12 §A.7).
        for i in [0, last] {
            net.sim.with_node(i, |n, _, _| n.export_state())?;
        }
        net.sim.rng().fill_bytes(&mut content);
        let (from, to) = if k % 2 == 0 { (0, last) } else { (last, 0) };
        messages.push(message(
            &mut net,
            from,
            to,
            &Bytes::copy_from_slice(&content),
            deadline,
        )?);
    }
    net.sim.with_node(0, |n, _, _| n.close_session(&peer));
    net.sim.rng().fill_bytes(&mut content);
    let sealed = message(
        &mut net,
        0,
        last,
        &Bytes::copy_from_slice(&content),
        deadline,
    )?;
    Ok(LoraSessionReport {
        config: *config,
        key_fetch,
        establishment,
        messages,
        sealed,
    })
}
