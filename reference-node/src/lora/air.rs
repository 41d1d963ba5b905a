//! The emulated LoRa channel's packets and its receiver model
//! (`spec/30-reference-node.md` §7): an [`AirPacket`] is one link frame
//! with the spreading factor it was sent at, sent when its transmission
//! starts; [`AirReceiver`] decides, from exact airtimes, which packets a
//! radio hears when they end (collisions, half duplex, random loss) and
//! whether the channel is busy (carrier sense). Sans-IO: time in
//! nanoseconds and randomness come in.

use bytes::Bytes;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::profile::{RadioProfile, MAX_PHY_PAYLOAD};
use rand_core::Rng;

use crate::error::{Error, Result};

/// The air packet version.
pub const AIR_VERSION: u8 = 1;
/// Version and spreading factor.
pub const AIR_HEADER_LEN: usize = 2;

/// One transmission on the emulated channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirPacket {
    /// The spreading factor it was sent at.
    pub spreading_factor: u8,
    /// The link frame.
    pub frame: Bytes,
}

impl AirPacket {
    /// The UDP payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(AIR_HEADER_LEN + self.frame.len());
        out.extend_from_slice(&[AIR_VERSION, self.spreading_factor]);
        out.extend_from_slice(&self.frame);
        out
    }

    /// Parses a UDP payload (§7.1, checks in order: length, version).
    pub fn decode(bytes: &[u8]) -> Result<AirPacket> {
        if bytes.len() < AIR_HEADER_LEN + 1 {
            return Err(Error::Truncated("air packet"));
        }
        if bytes.len() > AIR_HEADER_LEN + MAX_PHY_PAYLOAD {
            return Err(Error::FrameTooLong {
                len: bytes.len() - AIR_HEADER_LEN,
                max: MAX_PHY_PAYLOAD,
            });
        }
        if bytes[0] != AIR_VERSION {
            return Err(Error::UnknownVersion(bytes[0]));
        }
        Ok(AirPacket {
            spreading_factor: bytes[1],
            frame: Bytes::copy_from_slice(&bytes[AIR_HEADER_LEN..]),
        })
    }
}

/// Why a packet was not heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Sent at another spreading factor.
    OtherSpreadingFactor,
    /// It overlapped another packet on air (both are lost).
    Collision,
    /// This radio transmitted while it was on air.
    HalfDuplex,
    /// The random loss draw.
    Lost,
}

/// A packet being received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reception {
    id: u64,
    start: u64,
    end: u64,
    collided: bool,
}

/// Names a reception from its start to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReceptionId(u64);

/// Packets on air at once that a radio keeps track of; beyond, a new one
/// is taken as a collision.
pub const MAX_RECEPTIONS: usize = 64;
/// Own transmissions remembered for the half-duplex rule.
const REMEMBERED_TRANSMISSIONS: usize = 16;

/// One radio's view of the channel: packets arrive when their
/// transmission starts and are heard, or not, when it ends.
#[derive(Debug, Clone)]
pub struct AirReceiver {
    radio: RadioProfile,
    /// Loss probability in parts per 2^32.
    loss_threshold: u64,
    receptions: Vec<Reception>,
    next_id: u64,
    /// When our own transmissions started and ended, ns (the last few).
    transmissions: Vec<(u64, u64)>,
}

impl AirReceiver {
    /// A receiver at `radio`'s settings losing packets with probability
    /// `loss` (0.0..=1.0).
    pub fn new(radio: RadioProfile, loss: f64) -> Self {
        AirReceiver {
            radio,
            loss_threshold: (loss.clamp(0.0, 1.0) * 4_294_967_296.0) as u64,
            receptions: Vec::new(),
            next_id: 0,
            transmissions: Vec::new(),
        }
    }

    /// The exact time on air of `frame_len` bytes at our settings.
    pub fn airtime_ns(&self, frame_len: usize) -> Result<u64> {
        Ok(time_on_air_ns(&self.radio, frame_len)?)
    }

    /// Channel activity detection: until when a packet being received
    /// keeps the channel busy at `now_ns`, if one does.
    pub fn busy_until(&self, now_ns: u64) -> Option<u64> {
        self.receptions
            .iter()
            .filter(|r| r.start <= now_ns && now_ns < r.end)
            .map(|r| r.end)
            .max()
    }

    /// Records our own transmission of `frame_len` bytes starting at
    /// `start_ns`; returns when it ends.
    pub fn transmitted(&mut self, start_ns: u64, frame_len: usize) -> Result<u64> {
        let end = start_ns.saturating_add(self.airtime_ns(frame_len)?);
        if self.transmissions.len() == REMEMBERED_TRANSMISSIONS {
            self.transmissions.remove(0);
        }
        self.transmissions.push((start_ns, end));
        Ok(end)
    }

    /// A packet whose transmission started at `now_ns` arrived: its
    /// reception and when it ends, or why it cannot be heard at all.
    pub fn start(
        &mut self,
        packet: &AirPacket,
        now_ns: u64,
    ) -> std::result::Result<(ReceptionId, u64), Missed> {
        if packet.spreading_factor != self.radio.spreading_factor() {
            return Err(Missed::OtherSpreadingFactor);
        }
        let airtime = self
            .airtime_ns(packet.frame.len())
            .map_err(|_| Missed::OtherSpreadingFactor)?;
        let end = now_ns.saturating_add(airtime);
        self.receptions.retain(|r| r.end > now_ns);
        if self.receptions.len() >= MAX_RECEPTIONS {
            return Err(Missed::Collision);
        }
        let mut collided = false;
        for other in &mut self.receptions {
            if other.start < end && now_ns < other.end {
                other.collided = true;
                collided = true;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.receptions.push(Reception {
            id,
            start: now_ns,
            end,
            collided,
        });
        Ok((ReceptionId(id), end))
    }

    /// The reception `id` ended: heard, or why not (checks in order:
    /// collision, half duplex, the loss draw).
    pub fn finish(
        &mut self,
        id: ReceptionId,
        rng: &mut impl Rng,
    ) -> std::result::Result<(), Missed> {
        let reception = self
            .receptions
            .iter()
            .find(|r| r.id == id.0)
            .copied()
            .ok_or(Missed::Collision)?;
        if reception.collided {
            return Err(Missed::Collision);
        }
        if self
            .transmissions
            .iter()
            .any(|&(s, e)| s < reception.end && reception.start < e)
        {
            return Err(Missed::HalfDuplex);
        }
        if u64::from(rng.next_u32()) < self.loss_threshold {
            return Err(Missed::Lost);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qpc_mesh::lora::profile::RadioParams;
    use rand_core::SeedableRng;

    fn sf9() -> RadioProfile {
        RadioProfile::new(RadioParams::lorawan(9)).unwrap()
    }

    #[test]
    fn worked_example() {
        let packet = AirPacket {
            spreading_factor: 9,
            frame: Bytes::from_static(&[0x00, 0xc0, 0xdb, 0x11]),
        };
        assert_eq!(packet.to_bytes(), [0x01, 0x09, 0x00, 0xc0, 0xdb, 0x11]);
        assert_eq!(
            AirReceiver::new(sf9(), 0.0).airtime_ns(4).unwrap(),
            123_904_000
        );
    }

    #[test]
    fn bad_packets_are_refused_in_order() {
        assert_eq!(AirPacket::decode(&[1, 9]).unwrap_err().class(), "truncated");
        assert_eq!(
            AirPacket::decode(&[2; 258]).unwrap_err().class(),
            "frame_too_long"
        );
        assert_eq!(
            AirPacket::decode(&[2, 9, 0]).unwrap_err().class(),
            "unknown_version"
        );
        assert_eq!(AirPacket::decode(&[1, 9, 0]).unwrap().frame.as_ref(), [0]);
    }

    #[test]
    fn collisions_half_duplex_carrier_sense_and_loss() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let mut rx = AirReceiver::new(sf9(), 0.0);
        let p = AirPacket {
            spreading_factor: 9,
            frame: Bytes::from_static(&[0; 4]),
        };
        let t = 123_904_000;
        let (first, end) = rx.start(&p, 0).unwrap();
        assert_eq!(end, t);
        assert_eq!(rx.busy_until(t / 2), Some(t));
        let (second, _) = rx.start(&p, t / 2).unwrap();
        assert_eq!(rx.finish(first, &mut rng), Err(Missed::Collision));
        assert_eq!(rx.finish(second, &mut rng), Err(Missed::Collision));
        let (clean, _) = rx.start(&p, 4 * t).unwrap();
        assert_eq!(rx.busy_until(5 * t), None);
        assert_eq!(rx.finish(clean, &mut rng), Ok(()));
        let (deaf, _) = rx.start(&p, 6 * t).unwrap();
        rx.transmitted(6 * t + 1, 4).unwrap();
        assert_eq!(rx.finish(deaf, &mut rng), Err(Missed::HalfDuplex));
        let other = AirPacket {
            spreading_factor: 7,
            ..p.clone()
        };
        assert_eq!(rx.start(&other, 10 * t), Err(Missed::OtherSpreadingFactor));
        let mut lossy = AirReceiver::new(sf9(), 1.0);
        let (id, _) = lossy.start(&p, 0).unwrap();
        assert_eq!(lossy.finish(id, &mut rng), Err(Missed::Lost));
    }

    proptest! {
        #[test]
        fn packets_round_trip(sf in any::<u8>(), frame in proptest::collection::vec(any::<u8>(), 1..=255)) {
            let p = AirPacket { spreading_factor: sf, frame: Bytes::from(frame) };
            prop_assert_eq!(AirPacket::decode(&p.to_bytes()).unwrap(), p);
        }
    }
}
