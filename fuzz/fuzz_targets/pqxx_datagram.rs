//! libFuzzer entry point for [`qpc_fuzz::pqxx_datagram`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::pqxx_datagram(data));
