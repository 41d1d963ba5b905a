//! The LoRa link layer (`spec/11-lora-link.md`): what one LoRa radio may
//! send and how datagrams cross it.
//!
//! - [`profile`]: radio profiles (SF, bandwidth, coding rate, preamble,
//!   header, CRC, LDRO) and region plans (EU868 sub-bands and duty cycles,
//!   US915 dwell time), and the link MTU that follows;
//! - [`airtime`]: the Semtech time-on-air formula in exact nanoseconds;
//! - [`duty_cycle`]: the per-sub-band sliding-window airtime budget;
//! - [`queue`]: the bounded priority queue in front of the radio, with
//!   back-pressure;
//! - [`frame`]: link frames (whole, fragment, NACK);
//! - [`fragment`]: splitting to the MTU and answering NACKs;
//! - [`reassembly`]: the bounded reassembler with selective repeat;
//! - [`link`]: the link engine that puts them together for one radio.
//!
//! A 1 KiB datagram over SF12 (51-byte frames), one fragment lost, asked
//! for again and delivered:
//!
//! ```
//! use bytes::Bytes;
//! use qpc_mesh::lora::fragment::{Fragmenter, FragmenterConfig, Repeat};
//! use qpc_mesh::lora::reassembly::{Reassembler, ReassemblyConfig, Received};
//! use rand_core::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
//! let mut sender = Fragmenter::new(FragmenterConfig::default(), &mut rng)?;
//! let mut receiver = Reassembler::new(ReassemblyConfig::default())?;
//! let datagram = Bytes::from(vec![0x5a; 1024]);
//! let frames = sender.send(0, &datagram)?;
//! assert_eq!(frames.len(), 22);
//! for (i, frame) in frames.iter().enumerate() {
//!     if i != 3 {
//!         assert!(!matches!(receiver.handle_frame(0, 0, frame.clone())?, Received::Datagram(_)));
//!     }
//! }
//! let at = receiver.poll_timeout().unwrap();
//! receiver.handle_timeout(at);
//! let nack = receiver.poll_transmit().unwrap();
//! let Received::Nack(nack) = receiver.handle_frame(at, 0, nack)? else { unreachable!() };
//! let Repeat::Fragments(again) = sender.handle_nack(at, &nack, |_| false) else { unreachable!() };
//! assert_eq!(again, [frames[3].clone()]);
//! assert_eq!(receiver.handle_frame(at, 0, again[0].clone())?, Received::Datagram(datagram));
//! # Ok::<(), qpc_mesh::Error>(())
//! ```

pub mod airtime;
pub mod duty_cycle;
pub mod fragment;
pub mod frame;
pub mod link;
pub mod profile;
pub mod queue;
pub mod reassembly;
