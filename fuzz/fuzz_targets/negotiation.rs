//! libFuzzer entry point for [`qpc_fuzz::negotiation`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::negotiation(data));
