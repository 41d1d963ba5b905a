//! libFuzzer entry point for [`qpc_fuzz::lora_link`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::lora_link(data));
