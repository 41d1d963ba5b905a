//! `lora.json`: vectors for `spec/11-lora-link.md` — time on air (the
//! SF7–SF12 table and the published values), link profiles and their MTU,
//! duty-cycle transcripts, link frames, fragmentation, and reassembly
//! transcripts with loss, duplication, NACKs, conflicts and bounds.

use bytes::Bytes;
use qpc_mesh::lora::airtime::{payload_symbols, symbol_time_ns, time_on_air_ns};
use qpc_mesh::lora::duty_cycle::DutyCycleBudget;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::frame::LinkFrame;
use qpc_mesh::lora::profile::{
    Bandwidth, DutyCycle, Eu868SubBand, Ldro, LinkProfile, RadioParams, RadioProfile, Region,
};
use qpc_mesh::lora::reassembly::{GaveUp, Reassembler, ReassemblyConfig, Received};
use serde::{Deserialize, Serialize};

use crate::{expect_eq, expect_error, HexBytes, Vector};

mod generate;

pub use generate::generate;

/// The `protocol` field of `lora.json`.
pub const PROTOCOL: &str = "qpc-lora";

/// One vector of `lora.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoraVector {
    /// Unique name.
    pub name: String,
    /// What the vector exercises.
    pub description: String,
    /// Inputs and expected outputs.
    #[serde(flatten)]
    pub case: LoraCase,
}

/// Radio parameters (§2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadioJson {
    /// Spreading factor.
    pub spreading_factor: u8,
    /// Bandwidth, Hz.
    pub bandwidth_hz: u32,
    /// n of coding rate 4/(4 + n).
    pub coding_rate: u8,
    /// Preamble symbols.
    pub preamble_symbols: u16,
    /// Explicit header.
    pub explicit_header: bool,
    /// Payload CRC.
    pub crc: bool,
    /// `auto`, `on` or `off`.
    pub ldro: String,
}

impl RadioJson {
    fn profile(&self) -> qpc_mesh::Result<RadioProfile> {
        let ldro = match self.ldro.as_str() {
            "on" => Ldro::On,
            "off" => Ldro::Off,
            _ => Ldro::Auto,
        };
        RadioProfile::new(RadioParams {
            spreading_factor: self.spreading_factor,
            bandwidth: Bandwidth::from_hz(self.bandwidth_hz)?,
            coding_rate: self.coding_rate,
            preamble_symbols: self.preamble_symbols,
            explicit_header: self.explicit_header,
            crc: self.crc,
            ldro,
        })
    }
}

/// Time on air of one frame (positive vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AirtimeJson {
    /// Whether LDRO is in effect.
    pub ldro_on: bool,
    /// Symbol time, ns.
    pub symbol_time_ns: u64,
    /// Payload symbols (with the 8 of the fixed part).
    pub payload_symbols: u64,
    /// Time on air, ns.
    pub airtime_ns: u64,
}

/// What a link profile allows (positive vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkJson {
    /// The link MTU, bytes.
    pub mtu: usize,
    /// The duty cycle in thousandths, or null.
    pub duty_cycle_permille: Option<u16>,
    /// The dwell time, ns, or null.
    pub dwell_time_ns: Option<u64>,
}

/// A decoded link frame (§6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case", deny_unknown_fields)]
pub enum FrameJson {
    /// A whole datagram.
    Whole {
        /// The datagram.
        datagram: HexBytes,
    },
    /// A fragment.
    Fragment {
        /// Tag.
        tag: u16,
        /// Index.
        index: u8,
        /// Last index.
        last: u8,
        /// Payload.
        payload: HexBytes,
    },
    /// A NACK.
    Nack {
        /// Tag.
        tag: u16,
        /// Last index.
        last: u8,
        /// Missing indices, ascending.
        missing: Vec<u8>,
    },
}

fn frame_json(f: &LinkFrame) -> FrameJson {
    match f {
        LinkFrame::Whole(d) => FrameJson::Whole {
            datagram: HexBytes(d.to_vec()),
        },
        LinkFrame::Fragment(f) => FrameJson::Fragment {
            tag: f.tag,
            index: f.index,
            last: f.last,
            payload: HexBytes(f.payload.to_vec()),
        },
        LinkFrame::Nack(n) => FrameJson::Nack {
            tag: n.tag,
            last: n.last,
            missing: n.indices().collect(),
        },
    }
}

/// A duty-cycle step (§4): asks, then transmits if `transmit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyStep {
    /// Time, ms.
    pub at_ms: u64,
    /// The frame's airtime, ns.
    pub airtime_ns: u64,
    /// `can_transmit` at `at_ms`.
    pub can_transmit: bool,
    /// `earliest` from `at_ms`, or null (never).
    pub earliest_ms: Option<u64>,
    /// Whether the step then transmits at `at_ms` (only when allowed).
    pub transmit: bool,
}

/// A reassembler configuration (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassemblyConfigJson {
    /// Most datagrams in reassembly.
    pub max_entries: usize,
    /// Most per source.
    pub max_entries_per_source: usize,
    /// Most bytes held.
    pub max_bytes: usize,
    /// Longest datagram.
    pub max_datagram_len: usize,
    /// Lifetime, ms.
    pub lifetime_ms: u64,
    /// NACK delay, ms.
    pub nack_delay_ms: u64,
    /// Longest NACK delay after unanswered NACKs, ms.
    pub max_nack_delay_ms: u64,
    /// Most NACKs per datagram.
    pub max_nacks: u8,
}

impl From<ReassemblyConfigJson> for ReassemblyConfig {
    fn from(c: ReassemblyConfigJson) -> Self {
        ReassemblyConfig {
            max_entries: c.max_entries,
            max_entries_per_source: c.max_entries_per_source,
            max_bytes: c.max_bytes,
            max_datagram_len: c.max_datagram_len,
            lifetime_ms: c.lifetime_ms,
            nack_delay_ms: c.nack_delay_ms,
            max_nack_delay_ms: c.max_nack_delay_ms,
            max_nacks: c.max_nacks,
        }
    }
}

/// A give-up (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaveUpJson {
    /// Source.
    pub source: u32,
    /// Tag.
    pub tag: u16,
    /// Fragments received.
    pub received: u8,
    /// Fragments of the datagram.
    pub count: u8,
}

impl From<GaveUp> for GaveUpJson {
    fn from(g: GaveUp) -> Self {
        GaveUpJson {
            source: g.source,
            tag: g.tag,
            received: g.received,
            count: g.count,
        }
    }
}

/// A reassembly step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReassemblyStep {
    /// A frame heard.
    Frame {
        /// Time, ms.
        at_ms: u64,
        /// The source.
        source: u32,
        /// The frame.
        frame: HexBytes,
        /// `datagram`, `stored`, `duplicate` or `nack` (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        /// The datagram completed, for `datagram`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datagram: Option<HexBytes>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
        /// Fragment bytes held afterwards.
        held_bytes: usize,
    },
    /// Timers run.
    Timeout {
        /// Time, ms.
        at_ms: u64,
        /// The NACK frames to send, sorted by bytes.
        nacks: Vec<HexBytes>,
        /// The give-ups, sorted by (source, tag).
        gave_up: Vec<GaveUpJson>,
        /// The next deadline afterwards, or null.
        next_timeout_ms: Option<u64>,
    },
}

/// The kinds of LoRa vector (§9).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoraCase {
    /// Time on air of one frame (§3).
    Airtime {
        /// The radio.
        radio: RadioJson,
        /// PHY payload length.
        payload_len: usize,
        /// The expected values (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<AirtimeJson>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A radio profile in a region (§2.2, §2.3).
    LinkProfile {
        /// The radio.
        radio: RadioJson,
        /// `eu868_g1`..`eu868_g4` or `us915`.
        region: String,
        /// What it allows (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<LinkJson>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A duty-cycle transcript (§4).
    DutyCycle {
        /// Thousandths.
        duty_cycle_permille: u16,
        /// Window, ms.
        window_ms: u64,
        /// The allowance, ns.
        allowance_ns: u64,
        /// The steps.
        steps: Vec<DutyStep>,
    },
    /// Decode one link frame (§6.1–§6.3).
    Frame {
        /// The PHY payload.
        encoded: HexBytes,
        /// The frame (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decoded: Option<FrameJson>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// Split a datagram to the MTU (§6.4).
    Split {
        /// The datagram.
        datagram: HexBytes,
        /// The link MTU.
        mtu: usize,
        /// The tag.
        tag: u16,
        /// The frames (positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frames: Option<Vec<HexBytes>>,
        /// The error class (negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_error: Option<String>,
    },
    /// A reassembly transcript (§6.5).
    Reassembly {
        /// The configuration.
        config: ReassemblyConfigJson,
        /// The steps.
        steps: Vec<ReassemblyStep>,
    },
}

fn region(name: &str) -> Result<Region, String> {
    Ok(match name {
        "eu868_g1" => Region::Eu868(Eu868SubBand::G1),
        "eu868_g2" => Region::Eu868(Eu868SubBand::G2),
        "eu868_g3" => Region::Eu868(Eu868SubBand::G3),
        "eu868_g4" => Region::Eu868(Eu868SubBand::G4),
        "us915" => Region::Us915,
        _ => return Err(format!("unknown region {name}")),
    })
}

pub(crate) fn airtime_of(radio: &RadioJson, len: usize) -> qpc_mesh::Result<AirtimeJson> {
    let profile = radio.profile()?;
    Ok(AirtimeJson {
        ldro_on: profile.ldro_on(),
        symbol_time_ns: symbol_time_ns(&profile),
        payload_symbols: payload_symbols(&profile, len)?,
        airtime_ns: time_on_air_ns(&profile, len)?,
    })
}

pub(crate) fn link_of(
    radio: &RadioJson,
    region_name: &str,
) -> Result<qpc_mesh::Result<LinkJson>, String> {
    let region = region(region_name)?;
    Ok(radio
        .profile()
        .and_then(|r| LinkProfile::new(r, region))
        .map(|l| LinkJson {
            mtu: l.mtu(),
            duty_cycle_permille: l.duty_cycle().map(|d| d.0),
            dwell_time_ns: l.dwell_limit_ns(),
        }))
}

fn one_of<T: PartialEq + std::fmt::Debug>(
    got: qpc_mesh::Result<T>,
    expected: &Option<T>,
    expected_error: &Option<String>,
) -> Result<(), String> {
    match (expected, expected_error) {
        (Some(want), None) => {
            expect_eq("result", &got.map_err(|e| format!("rejected: {e}"))?, want)
        }
        (None, Some(class)) => expect_error(class, got),
        _ => Err("exactly one of the expected values and expected_error".into()),
    }
}

/// Runs a duty-cycle plan of (at_ms, airtime_ns, transmit) with qpc.
pub(crate) fn run_duty(
    duty: u16,
    window_ms: u64,
    plan: &[(u64, u64, bool)],
) -> (u64, Vec<DutyStep>) {
    let mut b = DutyCycleBudget::new(DutyCycle(duty), window_ms).expect("valid budget");
    let steps = plan
        .iter()
        .map(|&(at_ms, airtime_ns, transmit)| {
            let step = DutyStep {
                at_ms,
                airtime_ns,
                can_transmit: b.can_transmit(airtime_ns, at_ms),
                earliest_ms: b.earliest(airtime_ns, at_ms),
                transmit,
            };
            if transmit {
                // Refused when not allowed; the step records which.
                let _ = b.transmit(airtime_ns, at_ms);
            }
            step
        })
        .collect();
    (b.allowance_ns(), steps)
}

pub(crate) fn run_reassembly(
    config: ReassemblyConfigJson,
    steps: &[ReassemblyStep],
) -> Result<Vec<ReassemblyStep>, String> {
    let mut r = Reassembler::new(config.into()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for step in steps {
        out.push(match step {
            ReassemblyStep::Frame {
                at_ms,
                source,
                frame,
                ..
            } => {
                let got = r.handle_frame(*at_ms, *source, Bytes::copy_from_slice(&frame.0));
                let (outcome, datagram, expected_error) = match got {
                    Ok(Received::Datagram(d)) => {
                        (Some("datagram"), Some(HexBytes(d.to_vec())), None)
                    }
                    Ok(Received::Stored) => (Some("stored"), None, None),
                    Ok(Received::Duplicate) => (Some("duplicate"), None, None),
                    Ok(Received::Nack(_)) => (Some("nack"), None, None),
                    Err(e) => (None, None, Some(e.class().to_owned())),
                };
                ReassemblyStep::Frame {
                    at_ms: *at_ms,
                    source: *source,
                    frame: frame.clone(),
                    outcome: outcome.map(str::to_owned),
                    datagram,
                    expected_error,
                    held_bytes: r.held_bytes(),
                }
            }
            ReassemblyStep::Timeout { at_ms, .. } => {
                r.handle_timeout(*at_ms);
                let mut nacks: Vec<HexBytes> = std::iter::from_fn(|| r.poll_transmit())
                    .map(|b| HexBytes(b.to_vec()))
                    .collect();
                nacks.sort_by(|a, b| a.0.cmp(&b.0));
                let mut gave_up: Vec<GaveUpJson> = std::iter::from_fn(|| r.poll_event())
                    .map(Into::into)
                    .collect();
                gave_up.sort_by_key(|g| (g.source, g.tag));
                ReassemblyStep::Timeout {
                    at_ms: *at_ms,
                    nacks,
                    gave_up,
                    next_timeout_ms: r.poll_timeout(),
                }
            }
        });
    }
    Ok(out)
}

impl Vector for LoraVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self) -> Result<(), String> {
        match &self.case {
            LoraCase::Airtime {
                radio,
                payload_len,
                expected,
                expected_error,
            } => one_of(airtime_of(radio, *payload_len), expected, expected_error),
            LoraCase::LinkProfile {
                radio,
                region,
                expected,
                expected_error,
            } => one_of(link_of(radio, region)?, expected, expected_error),
            LoraCase::DutyCycle {
                duty_cycle_permille,
                window_ms,
                allowance_ns,
                steps,
            } => {
                let mut b = DutyCycleBudget::new(DutyCycle(*duty_cycle_permille), *window_ms)
                    .map_err(|e| e.to_string())?;
                expect_eq("allowance", b.allowance_ns(), *allowance_ns)?;
                for (i, s) in steps.iter().enumerate() {
                    let what = |f: &str| format!("step {i}: {f}");
                    expect_eq(
                        &what("can_transmit"),
                        b.can_transmit(s.airtime_ns, s.at_ms),
                        s.can_transmit,
                    )?;
                    expect_eq(
                        &what("earliest"),
                        b.earliest(s.airtime_ns, s.at_ms),
                        s.earliest_ms,
                    )?;
                    if s.transmit {
                        let got = b.transmit(s.airtime_ns, s.at_ms);
                        expect_eq(&what("transmit"), got.is_ok(), s.can_transmit)?;
                    }
                }
                Ok(())
            }
            LoraCase::Frame {
                encoded,
                decoded,
                expected_error,
            } => {
                let got = LinkFrame::decode(Bytes::copy_from_slice(&encoded.0));
                if let Ok(frame) = &got {
                    expect_eq(
                        "re-encoding",
                        frame.to_bytes().map_err(|e| e.to_string())?.to_vec(),
                        encoded.0.clone(),
                    )?;
                }
                one_of(got.map(|f| frame_json(&f)), decoded, expected_error)
            }
            LoraCase::Split {
                datagram,
                mtu,
                tag,
                frames,
                expected_error,
            } => {
                let got = split(&Bytes::copy_from_slice(&datagram.0), *mtu, *tag)
                    .map(|fs| fs.iter().map(|f| HexBytes(f.to_vec())).collect::<Vec<_>>());
                one_of(got, frames, expected_error)
            }
            LoraCase::Reassembly { config, steps } => {
                let got = run_reassembly(*config, steps)?;
                for (i, (g, w)) in got.iter().zip(steps).enumerate() {
                    expect_eq(&format!("step {i}"), g, w)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{assert_sound_generation, VectorFile};

    #[test]
    fn generation_is_sound_and_covers_the_bar() {
        let file: VectorFile<LoraVector> = assert_sound_generation(generate);
        let mut errors = Vec::new();
        for v in &file.vectors {
            match &v.case {
                LoraCase::Airtime { expected_error, .. }
                | LoraCase::LinkProfile { expected_error, .. }
                | LoraCase::Frame { expected_error, .. }
                | LoraCase::Split { expected_error, .. } => errors.extend(expected_error.clone()),
                LoraCase::Reassembly { steps, .. } => {
                    for s in steps {
                        if let ReassemblyStep::Frame { expected_error, .. } = s {
                            errors.extend(expected_error.clone());
                        }
                    }
                }
                LoraCase::DutyCycle { .. } => {}
            }
        }
        for class in [
            "truncated",
            "trailing_bytes",
            "malformed",
            "unknown_link_frame",
            "frame_too_long",
            "invalid_config",
            "datagram_too_long",
            "conflicting_fragment",
            "reassembly_full",
        ] {
            assert!(
                errors.iter().any(|e| e == class),
                "no negative vector for {class}"
            );
        }
        let published = file.vectors.iter().filter(|v| {
            matches!(&v.case, LoraCase::Airtime { expected: Some(a), .. } if a.airtime_ns == 164_864_000 || a.airtime_ns == 2_301_952_000)
        });
        assert_eq!(published.count(), 2);
    }

    #[test]
    fn a_changed_expectation_fails() {
        let file: VectorFile<LoraVector> = serde_json::from_str(&generate()).unwrap();
        for v in &file.vectors {
            let mut changed = v.clone();
            match &mut changed.case {
                LoraCase::Airtime {
                    expected: Some(a), ..
                } => a.airtime_ns += 1,
                LoraCase::DutyCycle { steps, .. } => steps[0].can_transmit ^= true,
                LoraCase::Reassembly { steps, .. } => match &mut steps[0] {
                    ReassemblyStep::Frame { held_bytes, .. } => *held_bytes += 1,
                    ReassemblyStep::Timeout { at_ms, .. } => *at_ms += 1,
                },
                _ => continue,
            }
            assert!(changed.check().is_err(), "{} still passes", v.name);
        }
    }
}
