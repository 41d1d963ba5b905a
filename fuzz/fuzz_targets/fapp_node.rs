//! libFuzzer entry point for [`qpc_fuzz::fapp_node`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::fapp_node(data));
