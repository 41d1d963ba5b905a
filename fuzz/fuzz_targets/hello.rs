//! libFuzzer entry point for [`qpc_fuzz::hello`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::hello(data));
