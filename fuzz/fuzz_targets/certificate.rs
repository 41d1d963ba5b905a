//! libFuzzer entry point for [`qpc_fuzz::certificate`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::certificate(data));
