//! libFuzzer entry point for [`qpc_fuzz::opaque::opaque_registration`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::opaque::opaque_registration(data));
