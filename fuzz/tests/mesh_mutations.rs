//! A stable-Rust stand-in for libFuzzer on the qpc-mesh targets (LoRa link
//! targets included): proptest
//! mutates their seeds (bit flips, byte overwrites, truncation, splicing)
//! and runs the target, whose assertions are the properties.

use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Splice(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(seed, len)| Mutation::Splice(seed, len)),
    ]
}

fn mutated(target: &str, pick: usize, mutations: &[Mutation]) -> Vec<u8> {
    let all = qpc_fuzz::seeds::all();
    let seeds: Vec<_> = all.iter().filter(|s| s.target == target).collect();
    let mut bytes = seeds[pick % seeds.len()].bytes.clone();
    for m in mutations {
        match *m {
            Mutation::Flip(at, bit) if !bytes.is_empty() => {
                let i = at % bytes.len();
                bytes[i] ^= 1 << bit;
            }
            Mutation::Set(at, b) if !bytes.is_empty() => {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            Mutation::Truncate(at) if !bytes.is_empty() => bytes.truncate(at % bytes.len()),
            Mutation::Splice(other, len) => {
                let other = &seeds[other % seeds.len()].bytes;
                bytes.extend_from_slice(&other[..len % (other.len() + 1)]);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mesh_envelope(pick: usize, m in proptest::collection::vec(mutation(), 0..4)) {
        qpc_fuzz::mesh_envelope(&mutated("mesh_envelope", pick, &m));
    }

    #[test]
    fn mesh_message(pick: usize, m in proptest::collection::vec(mutation(), 0..4)) {
        qpc_fuzz::mesh_message(&mutated("mesh_message", pick, &m));
    }

    #[test]
    fn mesh_routing(pick: usize, m in proptest::collection::vec(mutation(), 0..6)) {
        qpc_fuzz::mesh_routing(&mutated("mesh_routing", pick, &m));
    }

    #[test]
    fn mesh_node(pick: usize, m in proptest::collection::vec(mutation(), 0..6)) {
        qpc_fuzz::mesh_node(&mutated("mesh_node", pick, &m));
    }

    #[test]
    fn lora_frame(pick: usize, m in proptest::collection::vec(mutation(), 0..4)) {
        qpc_fuzz::lora_frame(&mutated("lora_frame", pick, &m));
    }

    #[test]
    fn lora_reassembly(pick: usize, m in proptest::collection::vec(mutation(), 0..6)) {
        qpc_fuzz::lora_reassembly(&mutated("lora_reassembly", pick, &m));
    }

    #[test]
    fn mesh_channel(pick: usize, m in proptest::collection::vec(mutation(), 0..6)) {
        qpc_fuzz::mesh_channel(&mutated("mesh_channel", pick, &m));
    }
}
