//! libFuzzer entry point for [`qpc_fuzz::frame_decoder`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::frame_decoder(data));
