//! libFuzzer entry point for [`qpc_fuzz::pqxx_responder_msg3`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::pqxx_responder_msg3(data));
