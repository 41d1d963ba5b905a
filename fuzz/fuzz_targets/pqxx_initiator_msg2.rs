//! libFuzzer entry point for [`qpc_fuzz::pqxx_initiator_msg2`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qpc_fuzz::pqxx_initiator_msg2(data));
