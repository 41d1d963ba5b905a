//! The LoRa link layer end to end (`spec/11-lora-link.md` §8): on-air
//! efficiency of fragmentation, and selective repeat over a seeded lossy
//! channel compared with the formula of §8.2.

use bytes::Bytes;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::fragment::{split, Fragmenter, FragmenterConfig, Repeat};
use qpc_mesh::lora::frame::LinkFrame;
use qpc_mesh::lora::profile::{RadioParams, RadioProfile};
use qpc_mesh::lora::reassembly::{Reassembler, ReassemblyConfig, Received};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn lorawan(sf: u8) -> RadioProfile {
    RadioProfile::new(RadioParams::lorawan(sf)).unwrap()
}

/// (fragments, bytes on air, airtime ns) of one datagram.
fn cost(len: usize, sf: u8, mtu: usize) -> (usize, usize, u64) {
    let frames = split(&Bytes::from(vec![0xa5; len]), mtu, 0).unwrap();
    let bytes = frames.iter().map(Bytes::len).sum();
    let airtime = frames
        .iter()
        .map(|f| time_on_air_ns(&lorawan(sf), f.len()).unwrap())
        .sum();
    (frames.len(), bytes, airtime)
}

#[test]
fn fragmentation_efficiency_matches_spec_table() {
    // spec §8.1: 1 KiB and 1.4 KiB (1434 bytes) at SF7 (222) and SF12 (51).
    let table = [
        (1024, 7, 222, (5, 1044, 1_649_920_000)),
        (1024, 12, 51, (22, 1112, 53_919_744_000)),
        (1434, 7, 222, (7, 1462, 2_305_792_000)),
        (1434, 12, 51, (31, 1558, 75_620_352_000)),
    ];
    for (len, sf, mtu, want) in table {
        let got = cost(len, sf, mtu);
        println!(
            "{len} B at SF{sf} ({mtu} B frames): {} fragments, {} B on air, efficiency {:.2}%, airtime {:.3} ms",
            got.0,
            got.1,
            100.0 * len as f64 / got.1 as f64,
            got.2 as f64 / 1e6
        );
        assert_eq!(got, want);
    }
    // An unfragmented frame costs one byte: a 47-byte datagram (22-byte
    // envelope + 25) is a 48-byte frame.
    assert_eq!(
        cost(47, 12, 51),
        (1, 48, time_on_air_ns(&lorawan(12), 48).unwrap())
    );
}

/// Sends `datagrams` of `len` bytes over a channel losing each frame
/// (fragments, repeats and NACKs alike) with probability `loss`; returns
/// (fragment transmissions, NACK transmissions, delivered) in total.
fn selective_repeat(
    len: usize,
    mtu: usize,
    loss: f64,
    datagrams: usize,
    seed: u64,
) -> (usize, usize, usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let config = FragmenterConfig {
        mtu,
        max_repeats: 16,
        ..FragmenterConfig::default()
    };
    let mut sender = Fragmenter::new(config, &mut rng).unwrap();
    let mut receiver = Reassembler::new(ReassemblyConfig {
        max_nacks: 16,
        lifetime_ms: u64::MAX / 4,
        ..ReassemblyConfig::default()
    })
    .unwrap();
    let lost = |rng: &mut ChaCha20Rng| (rng.next_u64() as f64 / u64::MAX as f64) < loss;
    let (mut fragments, mut nacks, mut delivered) = (0, 0, 0);
    let mut now = 0;
    for i in 0..datagrams {
        let datagram = Bytes::from(vec![i as u8; len]);
        let mut in_flight = sender.send(now, &datagram).unwrap();
        let mut done = false;
        while !done {
            for frame in in_flight.drain(..) {
                fragments += 1;
                if !lost(&mut rng) {
                    if let Received::Datagram(d) = receiver.handle_frame(now, 0, frame).unwrap() {
                        assert_eq!(d, datagram);
                        delivered += 1;
                        done = true;
                    }
                }
            }
            let Some(at) = receiver.poll_timeout() else {
                // Complete, or every fragment was lost (nothing to NACK).
                break;
            };
            now = at;
            receiver.handle_timeout(now);
            while let Some(nack) = receiver.poll_transmit() {
                nacks += 1;
                if lost(&mut rng) {
                    continue;
                }
                let Ok(Received::Nack(nack)) = receiver.handle_frame(now, 0, nack) else {
                    panic!("a NACK decodes");
                };
                if let Repeat::Fragments(again) = sender.handle_nack(now, &nack, |_| false) {
                    in_flight.extend(again);
                }
            }
            if receiver.in_progress() == 0 && !done {
                break;
            }
        }
        now += 1;
    }
    (fragments, nacks, delivered)
}

#[test]
fn selective_repeat_at_ten_percent_loss_matches_the_formula() {
    let (p, runs) = (0.1, 2000);
    for (len, mtu) in [(1024usize, 51usize), (1024, 222)] {
        let n = len.div_ceil(mtu - 4) as f64;
        let (fragments, nacks, delivered) = selective_repeat(len, mtu, p, runs, 11);
        let per_fragments = fragments as f64 / runs as f64;
        let per_nacks = nacks as f64 / runs as f64;
        // spec §8.2: E[fragment tx] = n / (1 - p);
        // E[NACK tx] = (1 / (1 - p)) * sum_k (1 - (1 - p^k)^n).
        let want_fragments = n / (1.0 - p);
        let want_nacks: f64 = (1..60)
            .map(|k| 1.0 - (1.0 - p.powi(k)).powf(n))
            .sum::<f64>()
            / (1.0 - p);
        println!(
            "{len} B, {mtu} B frames, 10% loss: {per_fragments:.3} fragment tx (formula {want_fragments:.3}), {per_nacks:.3} NACK tx (formula {want_nacks:.3}), {delivered}/{runs} delivered"
        );
        assert_eq!(delivered, runs, "selective repeat delivers every datagram");
        assert!((per_fragments / want_fragments - 1.0).abs() < 0.02);
        assert!((per_nacks / want_nacks - 1.0).abs() < 0.08);
    }
}

#[test]
fn nack_frames_are_small() {
    // A NACK of a 22-fragment datagram: 3 + 3 bytes.
    let nack = LinkFrame::Nack(qpc_mesh::lora::frame::Nack {
        tag: 1,
        last: 21,
        missing: 1 << 20,
    });
    assert_eq!(nack.to_bytes().unwrap().len(), 6);
}
