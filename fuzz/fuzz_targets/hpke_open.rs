//! libFuzzer entry point for [`qpc_fuzz::hpke_open`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::hpke_open(data));
