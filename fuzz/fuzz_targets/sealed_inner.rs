//! libFuzzer entry point for [`qpc_fuzz::sealed_inner`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::sealed_inner(data));
