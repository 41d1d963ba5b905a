//! libFuzzer entry point for [`qpc_fuzz::mesh_channel`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::mesh_channel(data));
