//! The `mesh_message` seeds fail exactly the check their names say.

use bytes::Bytes;
use qpc_fuzz::{genuine_message, message_mode};
use qpc_mesh::message::Message;

#[test]
fn mesh_message_seeds_mean_what_they_say() {
    let mut checked = 0;
    for seed in qpc_fuzz::seeds::all() {
        if seed.target != "mesh_message" || seed.bytes.is_empty() {
            continue;
        }
        let datagram = match seed.bytes[0] {
            message_mode::BUILD => genuine_message(&seed.bytes[1..]).expect("seed spec"),
            _ => seed.bytes[1..].to_vec(),
        };
        let outcome = match Message::decode(Bytes::from(datagram)) {
            Ok(_) => "ok",
            Err(e) => e.class(),
        };
        let expected = match seed.name {
            "build-address-mismatch" | "build-digest-changed" => "address_mismatch",
            "build-sequence-changed"
            | "build-capabilities-changed"
            | "build-signature-r"
            | "build-signature-s-top"
            | "build-response-sequence" => "bad_signature",
            "build-hops-invalid" | "raw-hop-ack-hop-limit" => "malformed",
            "build-version" => "unknown_version",
            "build-type" => "unknown_message_type",
            "raw-path-request-with-body" | "raw-announce-trailing" | "raw-key-request-trailing" => {
                "trailing_bytes"
            }
            "raw-sealed-empty"
            | "raw-announce-truncated"
            | "raw-key-response-truncated"
            | "raw-receipt-truncated"
            | "raw-path-request-short" => "truncated",
            "raw-key-response-version" => "unknown_version",
            "raw-key-response-weak-key"
            | "raw-key-response-unreduced"
            | "raw-key-response-low-order-x25519" => "invalid_public_key",
            "raw-key-response-address" => "address_mismatch",
            _ => "ok",
        };
        assert_eq!(outcome, expected, "seed {}", seed.name);
        checked += 1;
    }
    assert!(checked >= 20);
}
