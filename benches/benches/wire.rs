//! Wire-layer throughput: stream decoding and encoding of frames against a
//! plain memcpy of the same bytes, per body size (see `benches/README.md`).
//!
//! Each group `wire/<size>` moves the same stream (1 MiB of bodies in
//! frames of `<size>`), so the three benches' throughputs compare directly:
//!
//! - `decode`: [`FrameDecoder`] fed the pre-encoded stream in 64 KiB chunks
//!   (like socket reads), every frame dropped as soon as it is returned;
//! - `encode`: [`FrameEncoder`] writing every frame into a reused
//!   [`BytesMut`];
//! - `memcpy`: `copy_from_slice` of the stream into a preallocated buffer,
//!   the yardstick (decoding copies each body once, so this is its floor).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use qpc_benches::{padding_stream, size_label, BODY_SIZES, READ_CHUNK};
use qpc_wire::{DecoderConfig, FrameDecoder, FrameEncoder, FrameType};

fn wire(c: &mut Criterion) {
    for size in BODY_SIZES {
        let stream = padding_stream(size);
        let mut group = c.benchmark_group(format!("wire/{}", size_label(size)));
        group.throughput(Throughput::Bytes(stream.bytes.len() as u64));

        group.bench_function(BenchmarkId::from_parameter("decode"), |b| {
            b.iter(|| {
                let mut decoder = FrameDecoder::new(DecoderConfig::default());
                let mut frames = 0usize;
                for mut chunk in black_box(&stream.bytes[..]).chunks(READ_CHUNK) {
                    while let Some(frame) = decoder.decode(&mut chunk).expect("valid stream") {
                        black_box(&frame);
                        frames += 1;
                    }
                }
                assert_eq!(frames, stream.frames);
                decoder
            })
        });

        let encoder = FrameEncoder::new(1, DecoderConfig::DEFAULT_MAX_BODY_LEN);
        let mut out = BytesMut::with_capacity(stream.bytes.len());
        let encode_all = |out: &mut BytesMut| {
            out.clear();
            let body = black_box(&stream.body[..]);
            for _ in 0..stream.frames {
                encoder
                    .encode(FrameType::Padding, body, out)
                    .expect("body within the limit");
            }
        };
        // The encode bench really writes the stream the decode bench reads.
        encode_all(&mut out);
        assert_eq!(out[..], stream.bytes[..]);
        group.bench_function(BenchmarkId::from_parameter("encode"), |b| {
            b.iter(|| {
                encode_all(&mut out);
                black_box(&out);
            })
        });

        let mut dst = vec![0u8; stream.bytes.len()];
        group.bench_function(BenchmarkId::from_parameter("memcpy"), |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&stream.bytes[..]));
                black_box(&dst);
            })
        });
        group.finish();
    }
}

mod group {
    // `criterion_group!` defines an undocumented `pub fn`; keeping it in a
    // private module keeps `missing_docs` quiet without an `allow`.
    criterion::criterion_group!(benches, super::wire);
}

criterion_main!(group::benches);
