//! The simulator's LoRa radio (`SIMULATION.md`, "LoRa"): a node's radio
//! port driven through a [`LoraLink`], so that what goes on air are LoRa
//! link frames (fragments, NACKs) timed by the radio profile's exact
//! airtime and held back by the link's duty-cycle budget, while the
//! `MeshNode` above sees one link with the datagram MTU the link offers.

use bytes::Bytes;

use crate::lora::airtime::time_on_air_ns;
use crate::lora::link::{priority_of, LinkReport, LoraLink, LoraLinkConfig, LoraLinkEvent};
use crate::node::LinkConfig;
use crate::rebroadcast::AirtimeBudget;
use crate::Result;

/// What one node's LoRa port did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoraTraffic {
    /// Datagrams the node handed to the link and the link took.
    pub datagrams: u64,
    /// Bytes of those datagrams.
    pub datagram_bytes: u64,
    /// Datagrams the link refused (`queue_full`, `datagram_too_long`, …).
    pub refused: u64,
    /// Frames the first sending of those datagrams takes.
    pub first_frames: u64,
    /// Frames put on air (first sendings, repeats answering NACKs, NACKs).
    pub frames: u64,
    /// Datagrams reassembled from received frames.
    pub reassembled: u64,
    /// Received frames the reassembler refused.
    pub frames_rejected: u64,
    /// Link events: waits for the duty-cycle budget.
    pub budget_waits: u64,
    /// Link events: reassemblies given up, repeats exhausted, control
    /// frames refused.
    pub link_failures: u64,
}

impl LoraTraffic {
    /// Frames beyond the first sending of each datagram: repeated
    /// fragments and NACKs.
    pub fn repeated_frames(&self) -> u64 {
        self.frames.saturating_sub(self.first_frames)
    }
}

/// A node's LoRa port: the link engine, its pending timer and counters.
#[derive(Debug)]
pub(super) struct LoraPort {
    pub(super) link: LoraLink,
    config: LoraLinkConfig,
    pub(super) timer: Option<u64>,
    pub(super) traffic: LoraTraffic,
}

impl LoraPort {
    pub(super) fn new(config: LoraLinkConfig, rng: &mut impl rand_core::CryptoRng) -> Result<Self> {
        Ok(LoraPort {
            link: LoraLink::new(config, rng)?,
            config,
            timer: None,
            traffic: LoraTraffic::default(),
        })
    }

    /// The link the `MeshNode` is given: the LoRa link's datagram MTU, and
    /// as bitrate the effective one of a full frame (what the node's
    /// announce budget and HopAck wait are computed from).
    pub(super) fn node_link(&self, cost: u8) -> Result<LinkConfig> {
        let profile = self.config.profile;
        let mtu = profile.mtu();
        let airtime_ns = time_on_air_ns(profile.radio(), mtu)?;
        let bitrate_bps =
            ((mtu as u128 * 8 * 1_000_000_000) / u128::from(airtime_ns.max(1))) as u64;
        Ok(LinkConfig {
            mtu: self.link.max_datagram_len(),
            cost,
            budget: AirtimeBudget::two_percent(bitrate_bps.max(1)),
            shared: true,
        })
    }

    /// Hands a datagram of the node to the link.
    pub(super) fn send(&mut self, now: u64, datagram: &Bytes) {
        match self.link.send(now, priority_of(datagram), datagram) {
            Ok(()) => {
                self.traffic.datagrams += 1;
                self.traffic.datagram_bytes += datagram.len() as u64;
                self.traffic.first_frames += self.link.frames_for(datagram.len()) as u64;
            }
            Err(_) => self.traffic.refused += 1,
        }
    }

    /// A frame heard from node `source`: a datagram, if it completed one.
    pub(super) fn receive(&mut self, now: u64, source: usize, frame: Bytes) -> Option<Bytes> {
        match self.link.handle_frame(now, source as u32, frame) {
            Ok(Some(datagram)) => {
                self.traffic.reassembled += 1;
                Some(datagram)
            }
            Ok(None) => None,
            Err(_) => {
                self.traffic.frames_rejected += 1;
                None
            }
        }
    }

    /// The next frame to put on air now, with its airtime in ms.
    pub(super) fn next_frame(&mut self, now: u64) -> Option<(Bytes, u64)> {
        let frame = self.link.poll_transmit(now)?;
        self.traffic.frames += 1;
        // The queue only releases frames the profile allows.
        let airtime_ns = time_on_air_ns(self.config.profile.radio(), frame.len()).unwrap_or(0);
        Some((frame, airtime_ns.div_ceil(1_000_000)))
    }

    /// What became of the datagrams the link took, for the node.
    pub(super) fn take_reports(&mut self) -> Vec<(LinkReport, Bytes)> {
        std::iter::from_fn(|| self.link.poll_report()).collect()
    }

    /// Counts the link's events.
    pub(super) fn drain_events(&mut self) {
        while let Some(event) = self.link.poll_event() {
            match event {
                LoraLinkEvent::BudgetExhausted { .. } => self.traffic.budget_waits += 1,
                _ => self.traffic.link_failures += 1,
            }
        }
    }
}
