//! libFuzzer entry point for [`qpc_fuzz::node_fapp_rows`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::node_fapp_rows(data));
