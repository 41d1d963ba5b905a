//! LoRa time on air (`spec/11-lora-link.md` §3): the Semtech formula of
//! the SX127x/SX126x datasheets and AN1200.13, in exact integer
//! nanoseconds.
//!
//! With `T_sym = 2^SF / BW`, the number of symbols is
//! `N = n_preamble + 4.25 + 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC −
//! 20·IH) / (4·(SF − 2·DE))) · (CR + 4), 0)`. Counting in quarter symbols
//! makes `N` an integer, and `T_sym / 4` is a whole number of nanoseconds
//! at 125, 250 and 500 kHz, so the product is exact.

use crate::lora::profile::{RadioProfile, MAX_PHY_PAYLOAD};
use crate::{Error, Result};

/// The symbol time of `radio`, ns (exact).
pub fn symbol_time_ns(radio: &RadioProfile) -> u64 {
    (1u64 << radio.spreading_factor()) * 1_000_000_000 / u64::from(radio.bandwidth().hz())
}

/// The number of payload symbols (including the 8 of the fixed part that
/// carries the header) for `payload_len` bytes.
pub fn payload_symbols(radio: &RadioProfile, payload_len: usize) -> Result<u64> {
    if payload_len > MAX_PHY_PAYLOAD {
        return Err(Error::FrameTooLong {
            len: payload_len,
            max: MAX_PHY_PAYLOAD,
        });
    }
    let sf = i64::from(radio.spreading_factor());
    let bits = 8 * payload_len as i64 - 4 * sf + 28 + if radio.crc() { 16 } else { 0 }
        - if radio.explicit_header() { 0 } else { 20 };
    let per_block = 4 * (sf - if radio.ldro_on() { 2 } else { 0 });
    // ceil(bits / per_block) for positive bits; nothing for the rest.
    let blocks = if bits > 0 {
        (bits + per_block - 1) / per_block
    } else {
        0
    };
    Ok(8 + blocks as u64 * (u64::from(radio.coding_rate()) + 4))
}

/// The time on air of one frame of `payload_len` bytes, ns (exact).
/// `frame_too_long` above 255 bytes.
pub fn time_on_air_ns(radio: &RadioProfile, payload_len: usize) -> Result<u64> {
    let quarter_symbols =
        4 * u64::from(radio.preamble_symbols()) + 17 + 4 * payload_symbols(radio, payload_len)?;
    Ok(quarter_symbols * symbol_time_ns(radio) / 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::profile::{Bandwidth, Ldro, RadioParams};

    fn lorawan(sf: u8) -> RadioProfile {
        RadioProfile::new(RadioParams::lorawan(sf)).unwrap()
    }

    #[test]
    fn published_values_to_the_nanosecond() {
        // Semtech's LoRa calculator / AN1200.13: SF9, 125 kHz, CR 4/5,
        // 8-symbol preamble, explicit header, CRC, 13 bytes.
        assert_eq!(time_on_air_ns(&lorawan(9), 13).unwrap(), 164_864_000);
        // SF12, 125 kHz, CR 4/5, LDRO (auto), 50 bytes.
        assert_eq!(time_on_air_ns(&lorawan(12), 50).unwrap(), 2_301_952_000);
    }

    #[test]
    fn symbol_times_are_exact() {
        for sf in 7..=12 {
            for bw in [Bandwidth::Khz125, Bandwidth::Khz250, Bandwidth::Khz500] {
                let radio = RadioProfile::new(RadioParams {
                    bandwidth: bw,
                    ..RadioParams::lorawan(sf)
                })
                .unwrap();
                let t = symbol_time_ns(&radio);
                assert_eq!(
                    u128::from(t) * u128::from(bw.hz()),
                    (1u128 << sf) * 1_000_000_000
                );
                assert_eq!(t % 4, 0, "quarter symbols are whole nanoseconds");
            }
        }
    }

    #[test]
    fn header_crc_and_ldro_change_the_count() {
        let base = RadioParams::lorawan(12);
        let symbols = |p: RadioParams| payload_symbols(&RadioProfile::new(p).unwrap(), 10).unwrap();
        // 80 - 48 + 28 + 16 = 76 bits; 76/40 -> 2 blocks of 5 symbols.
        assert_eq!(symbols(base), 18);
        // Implicit header: 56 bits -> 2 blocks; no CRC: 60 -> 2; LDRO off: 76/48 -> 2.
        assert_eq!(
            symbols(RadioParams {
                ldro: Ldro::Off,
                ..base
            }),
            18
        );
        assert_eq!(
            symbols(RadioParams {
                coding_rate: 4,
                ..base
            }),
            24
        );
        assert_eq!(
            symbols(RadioParams {
                explicit_header: false,
                crc: false,
                ..base
            }),
            13
        );
        // Nothing to carry beyond the fixed part: 8 symbols.
        let tiny = RadioParams {
            explicit_header: false,
            crc: false,
            ..RadioParams::lorawan(12)
        };
        assert_eq!(
            payload_symbols(&RadioProfile::new(tiny).unwrap(), 0).unwrap(),
            8
        );
    }

    #[test]
    fn airtime_grows_with_length_and_refuses_oversized_frames() {
        let radio = lorawan(7);
        let times: Vec<u64> = (0..=255)
            .map(|n| time_on_air_ns(&radio, n).unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(
            time_on_air_ns(&radio, 256).unwrap_err().class(),
            "frame_too_long"
        );
    }
}
