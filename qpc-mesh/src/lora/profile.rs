//! Radio profiles and region plans (`spec/11-lora-link.md` §2): the LoRa
//! modulation parameters as validated values, the EU868 sub-bands with
//! their duty cycles, the US915 dwell time, and the link MTU that follows.

use crate::{Error, Result};

/// The largest LoRa PHY payload, bytes.
pub const MAX_PHY_PAYLOAD: usize = 255;

/// A LoRa bandwidth (the values with an exact symbol time in nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bandwidth {
    /// 125 kHz.
    Khz125,
    /// 250 kHz.
    Khz250,
    /// 500 kHz.
    Khz500,
}

impl Bandwidth {
    /// The bandwidth in hertz.
    pub fn hz(self) -> u32 {
        match self {
            Bandwidth::Khz125 => 125_000,
            Bandwidth::Khz250 => 250_000,
            Bandwidth::Khz500 => 500_000,
        }
    }

    /// The bandwidth for `hz`, if it is one of the three.
    pub fn from_hz(hz: u32) -> Result<Self> {
        match hz {
            125_000 => Ok(Bandwidth::Khz125),
            250_000 => Ok(Bandwidth::Khz250),
            500_000 => Ok(Bandwidth::Khz500),
            _ => Err(Error::InvalidConfig(
                "bandwidth: 125000, 250000 or 500000 Hz",
            )),
        }
    }
}

/// When the low-data-rate optimisation (LDRO) is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ldro {
    /// On exactly when the symbol time is at least 16.384 ms (the Semtech
    /// rule: SF11 and SF12 at 125 kHz, SF12 at 250 kHz).
    Auto,
    /// Always on.
    On,
    /// Always off.
    Off,
}

/// The LoRa modulation of a link: everything the time on air depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RadioProfile {
    spreading_factor: u8,
    bandwidth: Bandwidth,
    coding_rate: u8,
    preamble_symbols: u16,
    explicit_header: bool,
    crc: bool,
    ldro: Ldro,
}

/// The fields of a [`RadioProfile`], for construction with validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RadioParams {
    /// Spreading factor, 7..=12.
    pub spreading_factor: u8,
    /// Bandwidth.
    pub bandwidth: Bandwidth,
    /// Coding rate 4/(4 + n), n in 1..=4.
    pub coding_rate: u8,
    /// Programmed preamble length in symbols, 6..=65535.
    pub preamble_symbols: u16,
    /// Explicit (variable-length) header.
    pub explicit_header: bool,
    /// Payload CRC.
    pub crc: bool,
    /// Low-data-rate optimisation.
    pub ldro: Ldro,
}

impl RadioParams {
    /// The usual LoRaWAN-style settings at `spreading_factor` and 125 kHz:
    /// CR 4/5, 8 preamble symbols, explicit header, CRC, LDRO by the rule.
    pub fn lorawan(spreading_factor: u8) -> Self {
        RadioParams {
            spreading_factor,
            bandwidth: Bandwidth::Khz125,
            coding_rate: 1,
            preamble_symbols: 8,
            explicit_header: true,
            crc: true,
            ldro: Ldro::Auto,
        }
    }
}

impl RadioProfile {
    /// Validates `params` (spec §2.1).
    pub fn new(params: RadioParams) -> Result<Self> {
        if !(7..=12).contains(&params.spreading_factor) {
            return Err(Error::InvalidConfig("spreading factor: 7..=12"));
        }
        if !(1..=4).contains(&params.coding_rate) {
            return Err(Error::InvalidConfig("coding rate: 1..=4 (4/5..4/8)"));
        }
        if params.preamble_symbols < 6 {
            return Err(Error::InvalidConfig("preamble: at least 6 symbols"));
        }
        Ok(RadioProfile {
            spreading_factor: params.spreading_factor,
            bandwidth: params.bandwidth,
            coding_rate: params.coding_rate,
            preamble_symbols: params.preamble_symbols,
            explicit_header: params.explicit_header,
            crc: params.crc,
            ldro: params.ldro,
        })
    }

    /// The spreading factor.
    pub fn spreading_factor(&self) -> u8 {
        self.spreading_factor
    }

    /// The bandwidth.
    pub fn bandwidth(&self) -> Bandwidth {
        self.bandwidth
    }

    /// The coding rate index n of 4/(4 + n).
    pub fn coding_rate(&self) -> u8 {
        self.coding_rate
    }

    /// The preamble length in symbols.
    pub fn preamble_symbols(&self) -> u16 {
        self.preamble_symbols
    }

    /// Whether the header is explicit.
    pub fn explicit_header(&self) -> bool {
        self.explicit_header
    }

    /// Whether the payload CRC is on.
    pub fn crc(&self) -> bool {
        self.crc
    }

    /// Whether the low-data-rate optimisation is in effect (the rule
    /// applied for [`Ldro::Auto`]).
    pub fn ldro_on(&self) -> bool {
        match self.ldro {
            Ldro::On => true,
            Ldro::Off => false,
            // T_sym = 2^SF / BW >= 16.384 ms  <=>  2^SF * 10^6 >= 16384 * BW.
            Ldro::Auto => {
                (1u64 << self.spreading_factor) * 1_000_000
                    >= 16_384 * u64::from(self.bandwidth.hz())
            }
        }
    }
}

/// A duty-cycle limit in thousandths (1 = 0.1%, 10 = 1%, 100 = 10%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DutyCycle(pub u16);

/// An EU868 sub-band of ETSI EN 300 220-2 (ERC Recommendation 70-03,
/// annex 1, bands h1.4–h1.7; the names often used for them in quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Eu868SubBand {
    /// 868.0–868.6 MHz, 1% (h1.4, "g1"; the three default LoRaWAN channels).
    G1,
    /// 868.7–869.2 MHz, 0.1% (h1.5, "g2").
    G2,
    /// 869.4–869.65 MHz, 10% (h1.6, "g3"; 500 mW).
    G3,
    /// 869.7–870.0 MHz, 1% (h1.7, "g4").
    G4,
}

impl Eu868SubBand {
    /// The sub-band's duty-cycle limit.
    pub fn duty_cycle(self) -> DutyCycle {
        match self {
            Eu868SubBand::G1 | Eu868SubBand::G4 => DutyCycle(10),
            Eu868SubBand::G2 => DutyCycle(1),
            Eu868SubBand::G3 => DutyCycle(100),
        }
    }

    /// The sub-band's edges in kHz, `[low, high)`.
    pub fn range_khz(self) -> (u32, u32) {
        match self {
            Eu868SubBand::G1 => (868_000, 868_600),
            Eu868SubBand::G2 => (868_700, 869_200),
            Eu868SubBand::G3 => (869_400, 869_650),
            Eu868SubBand::G4 => (869_700, 870_000),
        }
    }
}

/// The regional rules a link obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// EU863-870 on one sub-band: a duty cycle over a sliding window, the
    /// LoRaWAN RP002 payload caps per data rate.
    Eu868(Eu868SubBand),
    /// US902-928: no duty cycle, 400 ms dwell time per transmission (FCC
    /// 15.247 as applied by LoRaWAN RP002).
    Us915,
}

/// The US915 dwell time: the longest transmission, ns.
pub const US915_DWELL_NS: u64 = 400_000_000;

/// A radio profile in a region: what a link may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkProfile {
    radio: RadioProfile,
    region: Region,
    mtu: usize,
}

impl LinkProfile {
    /// Checks that the region allows the radio profile and derives the
    /// link MTU (spec §2.3).
    pub fn new(radio: RadioProfile, region: Region) -> Result<Self> {
        let mtu = match region {
            Region::Eu868(_) => eu868_mtu(&radio)?,
            Region::Us915 => us915_mtu(&radio)?,
        };
        Ok(LinkProfile { radio, region, mtu })
    }

    /// The radio profile.
    pub fn radio(&self) -> &RadioProfile {
        &self.radio
    }

    /// The region.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The largest link frame, bytes.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// The duty-cycle limit, if the region has one.
    pub fn duty_cycle(&self) -> Option<DutyCycle> {
        match self.region {
            Region::Eu868(band) => Some(band.duty_cycle()),
            Region::Us915 => None,
        }
    }

    /// The longest single transmission the region allows, ns.
    pub fn dwell_limit_ns(&self) -> Option<u64> {
        match self.region {
            Region::Eu868(_) => None,
            Region::Us915 => Some(US915_DWELL_NS),
        }
    }
}

/// LoRaWAN RP002 EU868 caps (the application payload N of DR0–DR6).
fn eu868_mtu(radio: &RadioProfile) -> Result<usize> {
    match (radio.bandwidth(), radio.spreading_factor()) {
        (Bandwidth::Khz125, 10..=12) => Ok(51),
        (Bandwidth::Khz125, 9) => Ok(115),
        (Bandwidth::Khz125, 7..=8) | (Bandwidth::Khz250, 7) => Ok(222),
        _ => Err(Error::InvalidConfig(
            "EU868: SF7-SF12 at 125 kHz or SF7 at 250 kHz",
        )),
    }
}

/// LoRaWAN RP002 US915 caps (N of DR1–DR3); DR0 (SF10, 11 bytes) is
/// below the 16-byte minimum MTU of spec §2.3.
fn us915_mtu(radio: &RadioProfile) -> Result<usize> {
    match (radio.bandwidth(), radio.spreading_factor()) {
        (Bandwidth::Khz125, 9) => Ok(53),
        (Bandwidth::Khz125, 8) => Ok(125),
        (Bandwidth::Khz125, 7) => Ok(242),
        _ => Err(Error::InvalidConfig("US915: SF7-SF9 at 125 kHz")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(sf: u8, bandwidth: Bandwidth) -> RadioProfile {
        RadioProfile::new(RadioParams {
            bandwidth,
            ..RadioParams::lorawan(sf)
        })
        .unwrap()
    }

    #[test]
    fn ldro_auto_follows_the_symbol_time() {
        let on: Vec<(u8, Bandwidth)> = [Bandwidth::Khz125, Bandwidth::Khz250, Bandwidth::Khz500]
            .into_iter()
            .flat_map(|bw| (7..=12).map(move |sf| (sf, bw)))
            .filter(|&(sf, bw)| profile(sf, bw).ldro_on())
            .collect();
        assert_eq!(
            on,
            [
                (11, Bandwidth::Khz125),
                (12, Bandwidth::Khz125),
                (12, Bandwidth::Khz250)
            ]
        );
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        for params in [
            RadioParams::lorawan(6),
            RadioParams::lorawan(13),
            RadioParams {
                coding_rate: 0,
                ..RadioParams::lorawan(7)
            },
            RadioParams {
                coding_rate: 5,
                ..RadioParams::lorawan(7)
            },
            RadioParams {
                preamble_symbols: 5,
                ..RadioParams::lorawan(7)
            },
        ] {
            assert_eq!(
                RadioProfile::new(params).unwrap_err().class(),
                "invalid_config"
            );
        }
        assert!(Bandwidth::from_hz(62_500).is_err());
    }

    #[test]
    fn mtu_follows_the_region_and_data_rate() {
        let eu = |sf, bw| {
            LinkProfile::new(profile(sf, bw), Region::Eu868(Eu868SubBand::G3)).map(|l| l.mtu())
        };
        let mtus: Vec<usize> = (7..=12)
            .map(|sf| eu(sf, Bandwidth::Khz125).unwrap())
            .collect();
        assert_eq!(mtus, [222, 222, 115, 51, 51, 51]);
        assert_eq!(eu(7, Bandwidth::Khz250).unwrap(), 222);
        assert!(eu(8, Bandwidth::Khz250).is_err());
        assert!(eu(7, Bandwidth::Khz500).is_err());
        let us =
            |sf| LinkProfile::new(profile(sf, Bandwidth::Khz125), Region::Us915).map(|l| l.mtu());
        assert_eq!(
            [us(7).unwrap(), us(8).unwrap(), us(9).unwrap()],
            [242, 125, 53]
        );
        assert!(us(10).is_err());
        assert!(us(11).is_err() && us(12).is_err());
    }

    #[test]
    fn sub_band_duty_cycles() {
        use Eu868SubBand::*;
        let duty: Vec<u16> = [G1, G2, G3, G4].iter().map(|b| b.duty_cycle().0).collect();
        assert_eq!(duty, [10, 1, 100, 10]);
    }
}
