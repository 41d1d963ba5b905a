//! The worked example of `spec/11-lora-link.md` §11 is what qpc-mesh
//! produces: the two fragments, their airtime and the NACK for the second.

use bytes::Bytes;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::profile::{RadioParams, RadioProfile};
use qpc_mesh::lora::reassembly::{Reassembler, ReassemblyConfig};

/// The hex of each code block of §11, whitespace removed.
fn spec_blocks() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/11-lora-link.md");
    let spec = std::fs::read_to_string(path).expect("spec/11-lora-link.md");
    let section = spec
        .split("## 11. Worked example")
        .nth(1)
        .expect("§11 exists");
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| block.split_whitespace().collect())
        .collect()
}

#[test]
fn the_spec_example_is_what_qpc_sends() {
    let datagram = Bytes::from((0u8..60).collect::<Vec<_>>());
    let frames = split(&datagram, 51, 0x0a0b).unwrap();
    let hex: Vec<String> = frames.iter().map(hex::encode).collect();
    assert_eq!(hex, spec_blocks());
    let sf12 = RadioProfile::new(RadioParams::lorawan(12)).unwrap();
    assert_eq!(
        time_on_air_ns(&sf12, frames[0].len()).unwrap(),
        2_465_792_000
    );
    assert_eq!(
        time_on_air_ns(&sf12, frames[1].len()).unwrap(),
        1_318_912_000
    );
    let mut receiver = Reassembler::new(ReassemblyConfig::default()).unwrap();
    receiver.handle_frame(0, 0, frames[0].clone()).unwrap();
    receiver.handle_timeout(receiver.poll_timeout().unwrap());
    assert_eq!(
        &receiver.poll_transmit().unwrap()[..],
        [0x81, 0x0a, 0x0b, 0x02]
    );
}
