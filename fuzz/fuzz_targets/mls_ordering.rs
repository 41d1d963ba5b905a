//! libFuzzer entry point for [`qpc_fuzz::mls_ordering`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::mls_ordering(data));
