//! The LoRa scenario of issue 7: a message crosses a line of LoRa hops
//! (EU868 sub-band g3, 10% duty cycle) with per-frame loss, stored and
//! forwarded with HopAcks, confirmed by an end-to-end receipt.

use bytes::Bytes;
use qpc_crypto::identity::{Identity, PublicIdentity};
use rand_core::Rng;

use super::lora::LoraTraffic;
use super::topology::{self, EdgeConfig};
use super::{adapter, Simulator};
use crate::delivery::RetryPolicy;
use crate::lora::airtime::time_on_air_ns;
use crate::lora::frame::MAX_FRAGMENTS;
use crate::lora::link::LoraLinkConfig;
use crate::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use crate::node::{Event, MeshNode, NodeConfig};
use crate::{Error, Result};

/// The scenario's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoraLineConfig {
    /// LoRa spreading factor (7..=12), 125 kHz, LoRaWAN defaults.
    pub spreading_factor: u8,
    /// Hops from one end to the other (nodes: hops + 1).
    pub hops: usize,
    /// Loss per frame and receiver, per mille.
    pub loss_permille: u16,
    /// Content bytes of the message (random, the first 8 its tag).
    pub content_len: usize,
    /// Every node announces once, 60 s apart, then this long passes
    /// before the message is sent, ms.
    pub warmup_ms: u64,
    /// How long to wait for the receipt after sending, ms.
    pub deadline_ms: u64,
    /// The seed of the run.
    pub seed: u64,
}

impl Default for LoraLineConfig {
    /// SF12, 3 hops, 10% loss, 1 KiB, a one-hour warm-up, 4 hours to
    /// deliver, seed 1.
    fn default() -> Self {
        LoraLineConfig {
            spreading_factor: 12,
            hops: 3,
            loss_permille: 100,
            content_len: 1024,
            warmup_ms: 3_600_000,
            deadline_ms: 4 * 3_600_000,
            seed: 1,
        }
    }
}

/// What the run measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoraLineReport {
    /// The configuration.
    pub config: LoraLineConfig,
    /// The link MTU (bytes per frame) and the datagram MTU the node saw.
    pub mtu: (usize, usize),
    /// Whether the destination received exactly the content sent.
    pub intact: bool,
    /// Deliveries of the message at the destination.
    pub deliveries: usize,
    /// From sending to delivery, and to the receipt at the origin, ms.
    pub delivered_after_ms: Option<u64>,
    /// From sending to the receipt at the origin, ms.
    pub receipt_after_ms: Option<u64>,
    /// Per node, during the message's time: airtime used (ns), frames on
    /// air, frames beyond first sendings (repeats and NACKs), datagrams
    /// the link refused.
    pub per_node: Vec<(u128, u64, u64, u64)>,
}

impl LoraLineReport {
    /// Total airtime, ns.
    pub fn airtime_ns(&self) -> u128 {
        self.per_node.iter().map(|n| n.0).sum()
    }

    /// The report as text lines.
    pub fn lines(&self) -> Vec<String> {
        let c = &self.config;
        let ms = |v: Option<u64>| {
            v.map_or("never".to_string(), |v| {
                format!("{:.1} s", v as f64 / 1000.0)
            })
        };
        let mut lines = vec![
            format!(
                "lora: SF{} EU868 g3 (10%), {} hops, {:.0}% frame loss, {} content bytes, seed {}; frame MTU {} B, datagram MTU {} B",
                c.spreading_factor, c.hops, f64::from(c.loss_permille) / 10.0, c.content_len, c.seed, self.mtu.0, self.mtu.1
            ),
            format!(
                "delivered {} ({} times, intact: {}), receipt after {}",
                ms(self.delivered_after_ms),
                self.deliveries,
                self.intact,
                ms(self.receipt_after_ms)
            ),
        ];
        for (i, (airtime, frames, repeated, refused)) in self.per_node.iter().enumerate() {
            lines.push(format!(
                "node {i}: airtime {:.1} s, {frames} frames, {repeated} repeated or NACK, {refused} refused by the link",
                *airtime as f64 / 1e9
            ));
        }
        let frames: u64 = self.per_node.iter().map(|n| n.1).sum();
        let repeated: u64 = self.per_node.iter().map(|n| n.2).sum();
        lines.push(format!(
            "total: airtime {:.1} s, {frames} frames, {repeated} repeated or NACK",
            self.airtime_ns() as f64 / 1e9
        ));
        lines
    }
}

/// The line of LoRa nodes after its warm-up: every node announced once.
pub(super) struct LoraLineNetwork {
    pub(super) sim: Simulator,
    pub(super) identities: Vec<PublicIdentity>,
    pub(super) profile: LinkProfile,
}

impl LoraLineNetwork {
    /// Builds the line of `config` and runs its warm-up.
    pub(super) fn warmed_up(config: &LoraLineConfig) -> Result<Self> {
        if config.hops == 0 || config.content_len < adapter::TAG_LEN {
            return Err(Error::InvalidConfig(
                "lora needs a hop and content for the tag",
            ));
        }
        let profile = LinkProfile::new(
            RadioProfile::new(RadioParams::lorawan(config.spreading_factor))?,
            Region::Eu868(Eu868SubBand::G3),
        )?;
        let link = LoraLinkConfig::new(profile);
        let mut sim = Simulator::new(config.seed);
        let n = config.hops + 1;
        let line = topology::line(
            n,
            1.0,
            EdgeConfig {
                latency_ms: 0,
                loss_permille: config.loss_permille,
            },
        );
        // The HopAck wait runs from the link's report that the datagram's
        // last frame went on air (§12.1 S1a) and covers the receiver's NACK
        // delay, after which the repeats are reported sent again. A path
        // request and its response take about a minute over three SF12
        // hops: retried sooner, the message is flooded (§12.1 S4) before
        // the route arrives, and the flooded copy spends a third of the
        // hour's duty-cycle budget.
        // The end-to-end retry (§12.3) waits four times what the longest
        // datagram takes on air over every hop (64 full frames a hop: 158 s
        // at SF12): retried sooner, a second copy crosses the line behind
        // the first, and the two spend the relays' duty-cycle budget that
        // the receipt and its path request need. Our own path request and
        // its reverse-path records last as long as the wait between
        // requests.
        let frame_ms = time_on_air_ns(profile.radio(), profile.mtu())?.div_ceil(1_000_000);
        let crossing_ms = frame_ms * MAX_FRAGMENTS as u64 * config.hops as u64;
        let path_retry_ms = 120_000;
        let defaults = NodeConfig::default();
        let node = NodeConfig {
            announce_interval_ms: 0,
            hop_ack_timeout_ms: 3 * link.reassembly.nack_delay_ms + defaults.hop_ack_timeout_ms,
            path_retry_ms,
            path_request_ttl_ms: path_retry_ms,
            retry: RetryPolicy {
                first_timeout_ms: 4 * crossing_ms,
                max_timeout_ms: 16 * crossing_ms,
                ..defaults.retry
            },
            ..defaults
        };
        let mut identities = Vec::with_capacity(n);
        for &position in &line.positions {
            let mut seeds = [[0u8; 32]; 2];
            for seed in &mut seeds {
                sim.rng().fill_bytes(seed);
            }
            let identity = Identity::from_seeds(&seeds[0], &seeds[1]);
            identities.push(identity.public().clone());
            let mut engine = MeshNode::new(identity, node, 1, sim.rng())?;
            adapter::enable_messaging(&mut engine)?;
            sim.add_lora_node(engine, position, link, 9)?;
        }
        sim.add_edges(&line);
        for i in 0..n {
            sim.run_until(i as u64 * 60_000);
            sim.with_node(i, |engine, now, _| engine.announce(now))?;
        }
        sim.run_until(config.warmup_ms);
        Ok(LoraLineNetwork {
            sim,
            identities,
            profile,
        })
    }

    /// Per node: airtime used (ns) and traffic so far.
    pub(super) fn usage(&self) -> Vec<(u128, LoraTraffic)> {
        (0..self.identities.len())
            .map(|i| {
                (
                    self.sim.lora_airtime_ns(i).unwrap_or(0),
                    self.sim.lora_traffic(i).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Per node, since `before` (an earlier [`LoraLineNetwork::usage`]):
    /// airtime (ns), frames, frames beyond first sendings, refusals.
    pub(super) fn usage_since(&self, before: &[(u128, LoraTraffic)]) -> Vec<(u128, u64, u64, u64)> {
        before
            .iter()
            .zip(self.usage())
            .map(|((airtime, b), (now_airtime, t))| {
                (
                    now_airtime - airtime,
                    t.frames - b.frames,
                    t.repeated_frames().saturating_sub(b.repeated_frames()),
                    t.refused - b.refused,
                )
            })
            .collect()
    }
}

/// Runs the scenario.
pub fn lora_line(config: &LoraLineConfig) -> Result<LoraLineReport> {
    let mut net = LoraLineNetwork::warmed_up(config)?;
    let n = net.identities.len();
    let before = net.usage();
    let sim = &mut net.sim;
    let mut content = vec![0u8; config.content_len];
    sim.rng().fill_bytes(&mut content);
    let content = Bytes::from(content);
    let destination = net.identities[n - 1].clone();
    sim.log_events();
    let sent_at = sim.now();
    sim.with_node(0, |engine, now, _| engine.send(&destination, &content, now))?;
    let (mut delivered_at, mut receipt_at, mut deliveries, mut intact) = (None, None, 0, true);
    let mut seen = 0;
    while receipt_at.is_none() && sim.now() < sent_at + config.deadline_ms {
        sim.run_until(sim.now() + 10_000);
        for (at, i, event) in &sim.events()[seen..] {
            match event {
                Event::Received { content: got, .. } if *i == n - 1 => {
                    deliveries += 1;
                    intact &= *got == content;
                    delivered_at.get_or_insert(at - sent_at);
                }
                Event::DeliveryConfirmed { .. } if *i == 0 => {
                    receipt_at.get_or_insert(at - sent_at);
                }
                _ => {}
            }
        }
        seen = sim.events().len();
    }
    let datagram_mtu = sim.radio(0).map_or(0, |r| r.mtu);
    Ok(LoraLineReport {
        config: *config,
        mtu: (net.profile.mtu(), datagram_mtu),
        intact: intact && deliveries > 0,
        deliveries,
        delivered_after_ms: delivered_at,
        receipt_after_ms: receipt_at,
        per_node: net.usage_since(&before),
    })
}
