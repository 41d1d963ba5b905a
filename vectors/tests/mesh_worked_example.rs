//! The worked example of `spec/10-mesh.md` §10.4 is the generated
//! `announce-alice-origin` vector, byte for byte.

use qpc_vectors::mesh::{MeshCase, MeshVector};
use qpc_vectors::VectorFile;

/// The hex words at the start of each line of the second code block of
/// §10.4 (the datagram), concatenated.
fn spec_datagram() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/10-mesh.md");
    let spec = std::fs::read_to_string(path).expect("spec/10-mesh.md");
    let section = spec
        .split("### 10.4 Worked example")
        .nth(1)
        .expect("§10.4 exists");
    let block = section.split("```").nth(3).expect("the datagram block");
    block
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

#[test]
fn the_spec_example_is_the_vector() {
    let file: VectorFile<MeshVector> =
        serde_json::from_str(&qpc_vectors::mesh::generate()).expect("mesh.json parses");
    let vector = file
        .vectors
        .iter()
        .find(|v| v.name == "announce-alice-origin")
        .expect("the vector exists");
    let MeshCase::Announce { encoded, .. } = &vector.case else {
        panic!("an announce vector");
    };
    let datagram = spec_datagram();
    assert_eq!(datagram.len(), 2 * 152);
    assert_eq!(datagram, hex::encode(encoded));
}
