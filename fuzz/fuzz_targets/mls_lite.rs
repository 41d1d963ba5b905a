//! libFuzzer entry point for [`qpc_fuzz::mls_lite`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::mls_lite(data));
