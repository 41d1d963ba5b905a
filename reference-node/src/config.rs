//! The configuration file (`spec/30-reference-node.md` §3): TOML, unknown
//! keys refused, every value checked against its range.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use qpc_crypto::identity::Address;
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use serde::Deserialize;

use crate::error::{Error, Result};

/// Most pinned QUIC peers, and most radios on an emulated channel.
pub const MAX_PEERS: usize = 64;

/// A node's configuration, as read from its file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The data directory (`spec/30` §4).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The control API's Unix socket; `<data_dir>/control.sock` if unset.
    pub control_socket: Option<PathBuf>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Mesh engine settings.
    #[serde(default)]
    pub mesh: MeshConfig,
    /// The sender-certificate community.
    pub community: CommunityConfig,
    /// The QUIC transport.
    #[serde(default)]
    pub quic: QuicConfig,
    /// The LoRa radio, if any.
    pub lora: Option<LoraConfig>,
    /// FAPP (`spec/30` §16).
    #[serde(default)]
    pub fapp: FappConfig,
}

/// `[fapp]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FappConfig {
    /// `[fapp.therapist]`: the node is a therapist with this profile.
    pub therapist: Option<TherapistProfile>,
}

/// A therapist's profile (`[fapp.therapist]`, or `profile` of the
/// `fapp_announce` request): what the announces carry. The set fields take
/// the names of `spec/30` §16.2.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TherapistProfile {
    /// The licence (Approbation) number; only its hash is announced.
    pub licence: String,
    /// The practice's postal code, five digits.
    pub plz: String,
    /// Methods offered.
    pub methods: Vec<String>,
    /// Age groups treated.
    pub age_groups: Vec<String>,
    /// Modalities offered.
    pub modalities: Vec<String>,
    /// Payers accepted.
    pub payers: Vec<String>,
    /// Accessibility features.
    #[serde(default)]
    pub features: Vec<String>,
    /// ISO 639-1 language codes.
    pub languages: Vec<String>,
    /// How long a reservation holds a slot, ms (1,000 to 86,400,000).
    #[serde(default = "default_hold_ms")]
    pub hold_ms: u32,
    /// Confirm every held reservation at once (otherwise `fapp_confirm`).
    #[serde(default)]
    pub auto_confirm: bool,
}

fn default_hold_ms() -> u32 {
    15 * 60 * 1000
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./qpc-data")
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Text or JSON lines.
    #[serde(default)]
    pub format: LogFormat,
    /// A `tracing` filter.
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: default_level(),
        }
    }
}

fn default_level() -> String {
    "info".into()
}

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[mesh]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshConfig {
    /// How often the node announces itself, ms.
    #[serde(default = "default_announce_interval")]
    pub announce_interval_ms: u64,
    /// Own messages awaiting a receipt at once.
    #[serde(default = "default_max_outstanding")]
    pub max_outstanding: usize,
    /// HopAck timeout, ms.
    #[serde(default = "default_hop_ack_timeout")]
    pub hop_ack_timeout_ms: u64,
    /// First wait between path requests for a stored message, ms.
    #[serde(default = "default_path_retry")]
    pub path_retry_ms: u64,
    /// First wait for an end-to-end receipt before sending again, ms.
    #[serde(default = "default_retry_first")]
    pub retry_first_ms: u64,
    /// Messages the store-and-forward queue holds (in all and per
    /// destination).
    #[serde(default = "default_store_messages")]
    pub store_max_messages: usize,
    /// Bytes the store-and-forward queue holds.
    #[serde(default = "default_store_bytes")]
    pub store_max_bytes: usize,
}

impl Default for MeshConfig {
    fn default() -> Self {
        MeshConfig {
            announce_interval_ms: default_announce_interval(),
            max_outstanding: default_max_outstanding(),
            hop_ack_timeout_ms: default_hop_ack_timeout(),
            path_retry_ms: default_path_retry(),
            retry_first_ms: default_retry_first(),
            store_max_messages: default_store_messages(),
            store_max_bytes: default_store_bytes(),
        }
    }
}

fn default_announce_interval() -> u64 {
    60_000
}
fn default_max_outstanding() -> usize {
    64
}
fn default_hop_ack_timeout() -> u64 {
    2_000
}
fn default_path_retry() -> u64 {
    30_000
}
fn default_retry_first() -> u64 {
    60_000
}
fn default_store_messages() -> usize {
    256
}
fn default_store_bytes() -> usize {
    512 * 1024
}

/// `[community]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityConfig {
    /// The issuer seed, 64 hex digits.
    pub issuer_seed: String,
}

/// `[quic]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuicConfig {
    /// Where the endpoint listens.
    pub listen: Option<SocketAddr>,
    /// The pinned peers.
    #[serde(default)]
    pub peers: Vec<QuicPeer>,
}

/// One `[[quic.peers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuicPeer {
    /// The peer's address, 32 hex digits.
    pub address: String,
    /// Where to dial it.
    pub connect: Option<SocketAddr>,
}

/// `[lora]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraConfig {
    /// The emulated channel or a serial modem.
    pub mode: LoraMode,
    /// Spreading factor, 7..=12.
    #[serde(default = "default_sf")]
    pub spreading_factor: u8,
    /// The region plan.
    #[serde(default)]
    pub region: RegionName,
    /// Frames the radio queue holds.
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// `[lora.udp]`.
    pub udp: Option<UdpRadioConfig>,
    /// `[lora.kiss]`.
    pub kiss: Option<KissConfig>,
}

fn default_sf() -> u8 {
    9
}
fn default_queue() -> usize {
    256
}

/// Which radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoraMode {
    /// The emulated channel over loopback UDP (`spec/30` §7).
    Udp,
    /// A serial modem speaking KISS (`spec/30` §8).
    Kiss,
}

/// A region plan by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum RegionName {
    /// EU868 g1, 1%.
    #[default]
    #[serde(rename = "eu868-g1")]
    Eu868G1,
    /// EU868 g2, 0.1%.
    #[serde(rename = "eu868-g2")]
    Eu868G2,
    /// EU868 g3, 10%.
    #[serde(rename = "eu868-g3")]
    Eu868G3,
    /// EU868 g4, 1%.
    #[serde(rename = "eu868-g4")]
    Eu868G4,
    /// US915: no duty cycle, 400 ms dwell.
    #[serde(rename = "us915")]
    Us915,
}

impl RegionName {
    fn region(self) -> Region {
        match self {
            RegionName::Eu868G1 => Region::Eu868(Eu868SubBand::G1),
            RegionName::Eu868G2 => Region::Eu868(Eu868SubBand::G2),
            RegionName::Eu868G3 => Region::Eu868(Eu868SubBand::G3),
            RegionName::Eu868G4 => Region::Eu868(Eu868SubBand::G4),
            RegionName::Us915 => Region::Us915,
        }
    }
}

/// `[lora.udp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpRadioConfig {
    /// This radio's socket.
    pub bind: SocketAddr,
    /// The other radios of the channel.
    #[serde(default)]
    pub peers: Vec<SocketAddr>,
    /// Receive loss probability.
    #[serde(default)]
    pub loss: f64,
}

/// `[lora.kiss]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KissConfig {
    /// The modem's serial device.
    pub device: PathBuf,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::InvalidConfig(format!("{}: {e}", path.display())))?;
        Config::parse(&text)
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<Config> {
        let config: Config =
            toml::from_str(text).map_err(|e| Error::InvalidConfig(e.to_string().trim().into()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        if let Some(profile) = &self.fapp.therapist {
            crate::fapp::practice(profile)
                .map_err(|e| Error::InvalidConfig(format!("fapp.therapist: {e}")))?;
            check(
                (1_000..=86_400_000).contains(&profile.hold_ms),
                "fapp.therapist.hold_ms must be 1000..=86400000",
            )?;
        }
        let m = &self.mesh;
        check(
            (100..=86_400_000).contains(&m.announce_interval_ms),
            "mesh.announce_interval_ms must be 100..=86400000",
        )?;
        check(
            (1..=65_535).contains(&m.max_outstanding),
            "mesh.max_outstanding must be 1..=65535",
        )?;
        check(
            (1..=600_000).contains(&m.hop_ack_timeout_ms),
            "mesh.hop_ack_timeout_ms must be 1..=600000",
        )?;
        check(
            (1..=3_600_000).contains(&m.path_retry_ms),
            "mesh.path_retry_ms must be 1..=3600000",
        )?;
        check(
            (1..=3_600_000).contains(&m.retry_first_ms),
            "mesh.retry_first_ms must be 1..=3600000",
        )?;
        check(
            (1..=65_535).contains(&m.store_max_messages),
            "mesh.store_max_messages must be 1..=65535",
        )?;
        check(
            (1024..=1 << 30).contains(&m.store_max_bytes),
            "mesh.store_max_bytes must be 1024..=1073741824",
        )?;
        self.issuer_seed()?;
        check(
            self.quic.peers.len() <= MAX_PEERS,
            "quic.peers holds at most 64 peers",
        )?;
        self.peer_addresses()?;
        if let Some(lora) = &self.lora {
            lora.link_profile()?;
            check(
                (1..=4096).contains(&lora.queue_capacity),
                "lora.queue_capacity must be 1..=4096",
            )?;
            match lora.mode {
                LoraMode::Udp => {
                    let udp = lora.udp.as_ref().ok_or_else(|| {
                        Error::InvalidConfig("lora.mode = \"udp\" needs [lora.udp]".into())
                    })?;
                    check(
                        udp.peers.len() <= MAX_PEERS,
                        "lora.udp.peers holds at most 64 radios",
                    )?;
                    check(
                        (0.0..=1.0).contains(&udp.loss),
                        "lora.udp.loss must be 0.0..=1.0",
                    )?;
                }
                LoraMode::Kiss => {
                    check(
                        lora.kiss.is_some(),
                        "lora.mode = \"kiss\" needs [lora.kiss]",
                    )?;
                }
            }
        }
        Ok(())
    }

    /// The community issuer seed.
    pub fn issuer_seed(&self) -> Result<[u8; 32]> {
        decode_hex(&self.community.issuer_seed, "community.issuer_seed")
    }

    /// The pinned peers' addresses, in configuration order.
    pub fn peer_addresses(&self) -> Result<Vec<Address>> {
        self.quic
            .peers
            .iter()
            .map(|p| decode_hex(&p.address, "quic.peers[].address").map(Address::from_bytes))
            .collect()
    }

    /// The control socket's path.
    pub fn control_socket(&self) -> PathBuf {
        self.control_socket
            .clone()
            .unwrap_or_else(|| self.data_dir.join("control.sock"))
    }
}

impl LoraConfig {
    /// The radio profile and region this configuration names.
    pub fn link_profile(&self) -> Result<LinkProfile> {
        let radio = RadioProfile::new(RadioParams::lorawan(self.spreading_factor))
            .map_err(|_| Error::InvalidConfig("lora.spreading_factor must be 7..=12".into()))?;
        LinkProfile::new(radio, self.region.region())
            .map_err(|e| Error::InvalidConfig(format!("lora: {e}")))
    }
}

fn check(ok: bool, message: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig(message.into()))
    }
}

/// Decodes exactly `N` bytes of hex for the key `key`.
pub fn decode_hex<const N: usize>(text: &str, key: &str) -> Result<[u8; N]> {
    let mut out = [0; N];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| Error::InvalidConfig(format!("{key} must be {} hex digits", 2 * N)))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "5151515151515151515151515151515151515151515151515151515151515151";

    #[test]
    fn defaults_fill_a_minimal_file() {
        let c = Config::parse(&format!("[community]\nissuer_seed = \"{SEED}\"\n")).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("./qpc-data"));
        assert_eq!(c.control_socket(), PathBuf::from("./qpc-data/control.sock"));
        assert_eq!(c.mesh.announce_interval_ms, 60_000);
        assert_eq!(c.log.format, LogFormat::Text);
        assert!(c.lora.is_none() && c.quic.listen.is_none());
    }

    #[test]
    fn bad_files_name_the_key() {
        let cases = [
            ("data_dir = 3\n", "data_dir"),
            ("[community]\nissuer_seed = \"00\"\n", "issuer_seed"),
            (
                &format!("colour = 1\n[community]\nissuer_seed = \"{SEED}\"\n"),
                "colour",
            ),
            (
                &format!("[community]\nissuer_seed = \"{SEED}\"\n[lora]\nmode = \"udp\"\n"),
                "[lora.udp]",
            ),
            (
                &format!("[community]\nissuer_seed = \"{SEED}\"\n[lora]\nmode = \"kiss\"\nspreading_factor = 13\n[lora.kiss]\ndevice = \"/dev/null\"\n"),
                "spreading_factor",
            ),
            ("[community\n", "line 1"),
        ];
        for (text, needle) in cases {
            let e = Config::parse(text).unwrap_err();
            assert_eq!(e.class(), "invalid_config");
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
    }
}
