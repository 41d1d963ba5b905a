//! libFuzzer entry point for [`qpc_fuzz::node_stream_frames`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::node_stream_frames(data));
