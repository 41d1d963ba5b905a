//! libFuzzer entry point for [`qpc_fuzz::opaque::opaque_messages`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::opaque::opaque_messages(data));
