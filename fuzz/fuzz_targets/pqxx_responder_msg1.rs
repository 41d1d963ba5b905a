//! libFuzzer entry point for [`qpc_fuzz::pqxx_responder_msg1`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::pqxx_responder_msg1(data));
