//! The frame decoder performs no heap allocation per frame in steady state.
//!
//! This binary installs a counting global allocator, which counts every
//! thread's allocations. It therefore runs without the libtest harness
//! (`harness = false` in Cargo.toml): the harness's own threads allocated
//! while the test ran and made the counts flaky under load.

use bytes::BytesMut;
use qpc_wire::{DecoderConfig, FrameDecoder, FrameEncoder, FrameType};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn stream_of(frames: usize, body_len: usize) -> Vec<u8> {
    let encoder = FrameEncoder::new(1, 1 << 20);
    let mut out = BytesMut::new();
    let body = vec![0x5a; body_len];
    for _ in 0..frames {
        encoder.encode(FrameType::Padding, &body, &mut out).unwrap();
    }
    out.to_vec()
}

/// Decodes `stream` in `chunk`-sized pieces, dropping each frame after use,
/// and returns (frames decoded, heap allocations made meanwhile).
fn decode_counting(decoder: &mut FrameDecoder, stream: &[u8], chunk: usize) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    let mut frames = 0;
    for mut piece in stream.chunks(chunk) {
        while let Some(frame) = decoder.decode(&mut piece).unwrap() {
            frames += usize::from(!frame.body.is_empty());
        }
    }
    (frames, region.change().allocations)
}

fn main() {
    zero_allocations_per_frame_in_steady_state();
    println!("allocations: steady-state decoding made 0 heap allocations");
}

fn zero_allocations_per_frame_in_steady_state() {
    for (body_len, chunk) in [
        (64, 1500),
        (1024, 1500),
        (1024, 1),
        (1024, 65536),
        (65536, 4096),
    ] {
        let mut decoder = FrameDecoder::new(DecoderConfig::default());
        // Warm-up: the first frames allocate the decoder's buffer.
        let (_, warm_allocs) = decode_counting(&mut decoder, &stream_of(4, body_len), chunk);
        assert!(warm_allocs <= 2, "warm-up made {warm_allocs} allocations");

        let stream = stream_of(2000, body_len);
        let (frames, allocations) = decode_counting(&mut decoder, &stream, chunk);
        assert_eq!(frames, 2000);
        assert_eq!(
            allocations, 0,
            "{allocations} allocations for {frames} frames of {body_len} B in chunks of {chunk}"
        );
        decoder.finish().unwrap();
    }
}
