//! libFuzzer entry point for [`qpc_fuzz::identity`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::identity(data));
