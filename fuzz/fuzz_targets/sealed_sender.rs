//! libFuzzer entry point for [`qpc_fuzz::sealed_sender`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::sealed_sender(data));
