//! Seeds of the qpc-mesh targets: headers of every type and hop layout and
//! near misses failing each check of `spec/10` §3.3; genuine announces,
//! path messages and Sealed bodies with one check broken each; and routing
//! scripts reaching every decision.

use crate::mesh::genuine_message;
use crate::mesh::message_mode::{BUILD, RAW};

use super::{cat, ED25519_NEUTRAL};

/// A `genuine_message` spec: kind, sequence, capabilities, cost, hops,
/// identity, then (position, mask) mutations.
fn build(
    kind: u8,
    sequence: u32,
    cost: u8,
    hops: u8,
    identity: u8,
    mutations: &[(u8, u8)],
) -> Vec<u8> {
    let mut spec = vec![kind];
    spec.extend_from_slice(&sequence.to_be_bytes());
    spec.extend_from_slice(&[0x01, cost, hops, identity]);
    for &(at, mask) in mutations {
        spec.extend_from_slice(&[at, mask]);
    }
    spec
}

/// One routing operation (see [`crate::mesh_routing`]).
fn op(code: u8, a: u8, b: u8, c: u8) -> [u8; 4] {
    [code, a, b, c]
}

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let announce = genuine_message(&build(0, 7, 0, 0x07, 1, &[])).expect("spec");
    let relayed = genuine_message(&build(2, 7, 9, 0x17, 2, &[])).expect("spec");
    let response = genuine_message(&build(3, 9, 4, 0x13, 3, &[])).expect("spec");
    let key_response = genuine_message(&build(6, 9, 0, 0x01, 2, &[])).expect("spec");
    // Identity offsets in a key response with a hop id: version 38, signing
    // key 39..71, ML-KEM key 71..1255, X25519 key 1255..1287.
    let key_response_with = |at: usize, part: &[u8]| {
        let mut b = key_response.clone();
        b[at..at + part.len()].copy_from_slice(part);
        b
    };

    let t = "mesh_envelope";
    add(t, "announce", announce.clone());
    add(t, "announce-relayed", relayed.clone());
    add(t, "path-response", response.clone());
    add(t, "path-request", cat(&[&[0x22, 0x05], &[0x11; 20]]));
    add(
        t,
        "sealed-next-hop",
        cat(&[&[0x34, 0x27], &[0x22; 28], b"body"]),
    );
    add(t, "hops-at-limit", cat(&[&[0x24, 0xff], &[0; 20]]));
    add(t, "version-2", cat(&[&[0x44, 0x07], &[0; 20]]));
    add(t, "type-0", cat(&[&[0x20, 0x07], &[0; 20]]));
    add(t, "type-7", vec![0x27]);
    add(
        t,
        "key-request",
        cat(&[&[0x35, 0x13], &[0x66; 28], &[0x77; 8]]),
    );
    add(t, "hop-count-above-limit", vec![0x24, 0x43]);
    add(t, "cut-in-destination", vec![0x24, 0x07, 1, 2, 3]);
    add(t, "missing-hop-id", cat(&[&[0x34, 0x07], &[0; 24]]));
    add(t, "empty", Vec::new());

    let t = "mesh_message";
    add(t, "raw-announce", cat(&[&[RAW], &announce]));
    add(t, "raw-announce-relayed", cat(&[&[RAW], &relayed]));
    add(
        t,
        "fapp-link-local",
        cat(&[&[BUILD], &build(0x08, 1, 1, 0, 1, &[])]),
    );
    add(
        t,
        "fapp-routed-reply",
        cat(&[&[BUILD], &build(0x0a, 2, 2, 0x27, 2, &[])]),
    );
    add(t, "raw-path-response", cat(&[&[RAW], &response]));
    add(
        t,
        "raw-path-request",
        cat(&[&[RAW, 0x22, 0x05], &[0x11; 20], &[0, 0, 0, 7]]),
    );
    add(
        t,
        "raw-path-request-with-body",
        cat(&[&[RAW, 0x22, 0x05], &[0x11; 25]]),
    );
    add(
        t,
        "raw-path-request-short",
        cat(&[&[RAW, 0x22, 0x05], &[0x11; 23]]),
    );
    add(
        t,
        "raw-sealed",
        cat(&[&[RAW, 0x24, 0x07], &[0x33; 20], b"sealed"]),
    );
    add(
        t,
        "raw-sealed-empty",
        cat(&[&[RAW, 0x24, 0x07], &[0x33; 20]]),
    );
    add(
        t,
        "raw-receipt",
        cat(&[&[RAW, 0x37, 0x27], &[0x44; 20], &[0x55; 8], &[0x66; 16]]),
    );
    add(
        t,
        "raw-receipt-truncated",
        cat(&[&[RAW, 0x27, 0x27], &[0x44; 20], &[0x66; 15]]),
    );
    add(t, "raw-hop-ack", cat(&[&[RAW, 0x28, 0x00], &[0x44; 20]]));
    add(
        t,
        "raw-hop-ack-hop-limit",
        cat(&[&[RAW, 0x28, 0x01], &[0x44; 20]]),
    );
    add(
        t,
        "raw-announce-truncated",
        cat(&[&[RAW], &announce[..announce.len() - 1]]),
    );
    add(t, "raw-announce-trailing", cat(&[&[RAW], &announce, &[0]]));
    add(
        t,
        "raw-key-request",
        cat(&[&[RAW, 0x35, 0x13], &[0x66; 28], &[0x77; 8]]),
    );
    add(
        t,
        "raw-key-request-trailing",
        cat(&[&[RAW, 0x25, 0x13], &[0x66; 20], &[0x77; 9]]),
    );
    add(t, "raw-key-response", cat(&[&[RAW], &key_response]));
    add(
        t,
        "raw-key-response-truncated",
        cat(&[&[RAW], &key_response[..key_response.len() - 1]]),
    );
    add(
        t,
        "raw-key-response-version",
        cat(&[&[RAW], &key_response_with(38, &[2])]),
    );
    add(
        t,
        "raw-key-response-weak-key",
        cat(&[&[RAW], &key_response_with(39, &ED25519_NEUTRAL)]),
    );
    add(
        t,
        "raw-key-response-unreduced",
        cat(&[&[RAW], &key_response_with(71, &[0xff, 0x0f])]),
    );
    add(
        t,
        "raw-key-response-low-order-x25519",
        cat(&[&[RAW], &key_response_with(1255, &[0; 32])]),
    );
    add(
        t,
        "raw-key-response-address",
        cat(&[&[RAW], &key_response_with(2, &[0])]),
    );
    add(
        t,
        "build-key-response",
        cat(&[&[BUILD], &build(6, 3, 0, 0x12, 1, &[])]),
    );
    add(
        t,
        "build-announce",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 0, &[])]),
    );
    add(
        t,
        "build-announce-max",
        cat(&[&[BUILD], &build(2, u32::MAX, 254, 0xff, 3, &[])]),
    );
    add(
        t,
        "build-response",
        cat(&[&[BUILD], &build(1, 5, 3, 0x25, 2, &[])]),
    );
    add(
        t,
        "build-response-next-hop",
        cat(&[&[BUILD], &build(3, 5, 3, 0x25, 2, &[])]),
    );
    // Announce offsets: destination 2..18, sequence 18..22, cost 22,
    // capabilities 23, key 24..56, digest 56..88, signature 88..152.
    add(
        t,
        "build-address-mismatch",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(3, 1)])]),
    );
    add(
        t,
        "build-sequence-changed",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(21, 1)])]),
    );
    add(
        t,
        "build-capabilities-changed",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(23, 4)])]),
    );
    add(
        t,
        "build-cost-changed",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(22, 0xff)])]),
    );
    add(
        t,
        "build-digest-changed",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(60, 1)])]),
    );
    add(
        t,
        "build-signature-r",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(88, 1)])]),
    );
    add(
        t,
        "build-signature-s-top",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(151, 0x80)])]),
    );
    add(
        t,
        "build-hops-invalid",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(1, 0xf0)])]),
    );
    add(
        t,
        "build-version",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(0, 0x40)])]),
    );
    add(
        t,
        "build-type",
        cat(&[&[BUILD], &build(0, 1, 0, 0x07, 1, &[(0, 0x0c)])]),
    );
    add(
        t,
        "build-response-sequence",
        cat(&[&[BUILD], &build(1, 5, 3, 0x25, 2, &[(33, 1)])]),
    );
    add(t, "empty", Vec::new());

    let t = "mesh_routing";
    let script = |ops: &[[u8; 4]]| ops.concat();
    add(
        t,
        "feasibility",
        script(&[
            op(0x10, 1, 3, 0),  // install identity 1, seq 3, link 0
            op(0x14, 1, 3, 0),  // same sequence on link 1: not feasible
            op(0x10, 1, 3, 0),  // duplicate
            op(0x10, 1, 2, 0),  // older: stale
            op(0x18, 1, 4, 40), // newer on link 2
            op(0x13, 1, 0, 0),  // lookup
            op(0x10, 0, 1, 0),  // own address
            op(0x18, 2, 1, 60), // 60 + 200 saturates: unreachable
        ]),
    );
    add(
        t,
        "quota-eviction-expiry",
        script(&[
            op(0x10, 1, 0x41, 0),
            op(0x10, 2, 0x41, 0),
            op(0x10, 3, 0x41, 0), // third via the same neighbour: quota
            op(0x10, 3, 0x81, 0),
            op(0xf2, 0, 0, 0),
            op(0xf2, 0, 0, 0),
            op(0x33, 2, 0, 0),
            op(0xf2, 0, 0, 0),
            op(0x10, 2, 0x01, 1), // hop count 7: installed, no rebroadcast
            op(0x13, 2, 0, 0),
        ]),
    );
    add(
        t,
        "better-metric-then-expiry-inside-receive",
        script(&[
            op(0x18, 1, 1, 0), // link 2 (cost 200)
            op(0x10, 1, 1, 0), // link 0 (cost 1): better metric
            op(0x13, 1, 0, 0),
            op(0xf0, 2, 1, 0), // time passes: identity 1 expires inside this receive
            op(0xf0, 2, 1, 0),
            op(0x13, 1, 0, 0),
        ]),
    );
    add(
        t,
        "hold-keeps-sequence",
        script(&[
            op(0x10, 3, 4, 0),
            op(0xb2, 0, 0, 0), // expired
            op(0x10, 3, 3, 0), // older than the held sequence: stale
            op(0x10, 3, 4, 2), // same sequence, worse metric: not feasible
            op(0x40, 3, 5, 0), // newer: revived
            op(0x13, 3, 0, 0),
        ]),
    );
    add(t, "empty", Vec::new());

    let t = "mesh_node";
    let item = |control: u8, body: &[u8]| cat(&[&[control, body.len() as u8], body]);
    // FAPP frames (§14): link-local from a neighbour; routed to the local
    // node naming a reply address; routed on to identity 3.
    add(
        t,
        "fapp-frames",
        cat(&[
            &item(0x08, &build(0x08, 1, 1, 0, 1, &[])),
            &item(0x09, &build(0x08, 2, 2, 0x07, 0, &[])),
            &item(0x09, &build(0x08, 3, 2, 0x07, 3, &[])),
            &item(0xf4, &build(0x08, 4, 0, 0x07, 3, &[])),
        ]),
    );
    // Session datagrams from the fixture peers (kind bit 4): identity 1's
    // Init, identity 2's Response to the node's Init, Data of a session.
    add(
        t,
        "session-init-response-data",
        cat(&[
            &item(0x08, &[0x10, 0, 0, 0]),
            &item(0x08, &[0x10, 1, 0, 0]),
            &item(0x18, &[0x10, 2, 1, 4]),
        ]),
    );
    // MLS-Lite and resumption (kind bit 5): GroupLite messages of members
    // 1 and 2 (one relayed with a hop id, one tampered), after an export
    // the node's own group messages; on the 4096-byte link, announces of
    // identities 1 and 2 (so that the node's Init and Response go out),
    // identity 1's Init and
    // identity 2's Response to the node's Init, then identity 2's Resume (answered), the node resuming (its
    // Resume goes with the next item, a raw empty datagram), the answer
    // identity 2 owes, and Data of the new epoch.
    add(
        t,
        "group-lite-and-resume",
        cat(&[
            &item(0x08, &[0x20, 0x00, 0x71, 4]),
            &item(0x08, &[0x20, 0x00, 0xa3, 9]),
            &item(0x08, &[0x20, 0x00, 0x70, 4, 30, 0x01]),
            &item(0x09, &build(0x00, 1, 1, 0x07, 1, &[])),
            &item(0x09, &build(0x00, 1, 1, 0x07, 2, &[])),
            &item(0x09, &[0x10, 0, 0, 0]),
            &item(0x09, &[0x10, 1, 0, 0]),
            &item(0x19, &[0x20, 0x01, 0x01, 0]),
            &item(0x19, &[0x20, 0x07]),
            &item(0x01, &[]),
            &item(0x19, &[0x20, 0x01, 0x01, 0]),
            &item(0x1d, &[0x10, 2, 1, 4]),
        ]),
    );
    let spec = |kind, seq, hops, identity| build(kind, seq, 0, hops, identity, &[]);
    add(t, "raw-announce-shared", item(0x00, &announce));
    add(t, "raw-announce-point-to-point", item(0x01, &relayed));
    add(t, "unknown-link", item(0x02, &announce));
    add(
        t,
        "announces-then-expiry",
        cat(&[
            &item(0x08, &spec(0, 1, 0x07, 1)),
            &item(0x08, &spec(2, 1, 0x17, 2)),
            &item(0x09, &spec(0, 1, 0x07, 3)),
            &item(0xfc, &spec(0, 2, 0x07, 1)),
            &item(0xfc, b""),
        ]),
    );
    add(
        t,
        "path-request-and-response",
        cat(&[
            &item(0x08, &spec(0, 3, 0x07, 2)),
            &item(0x00, &cat(&[&[0x32, 0x15], &[0; 20], &[0x11; 8]])),
            &item(0x08, &spec(1, 3, 0x13, 2)),
            &item(0x08, &spec(3, 3, 0x13, 3)),
        ]),
    );
    // A key request for the local node (identity 0), from a neighbour.
    let local = crate::mesh_identities()[0].public().address();
    let key_request_for_local = cat(&[&[0x25, 0x13], local.as_bytes(), &[0, 0, 0, 1], &[0x77; 8]]);
    add(
        t,
        "key-request-for-local",
        item(0x00, &key_request_for_local),
    );
    add(
        t,
        "sealed-for-relay",
        item(0x00, &cat(&[&[0x24, 0x07], &[0x44; 20], b"payload"])),
    );
    add(t, "empty", Vec::new());
}
