//! The message vectors of `mesh.json`: announces signed with fixed keys,
//! envelope headers and every message decoded or refused by its type.

use super::*;

pub(super) fn announce_vectors(c: &Cast) -> Vec<MeshVector> {
    let cases: [(&str, &str, &Person, u32, u8, Hops); 4] = [
        (
            "announce-alice-origin",
            "alice's announce as she sends it: hop count 0, cost 0, no hop id (152 bytes)",
            &c.alice,
            1,
            Capabilities::TRANSPORT | Capabilities::SERVES_KEM_KEY,
            ORIGIN,
        ),
        (
            "announce-alice-relayed",
            "alice's announce relayed twice on a shared link: the transmitter's hop id makes it 160 bytes, the budget",
            &c.alice,
            2,
            Capabilities::TRANSPORT,
            relayed(2, 18, &c.relay),
        ),
        (
            "announce-bob-max-sequence",
            "the largest sequence number and every capability bit (unassigned ones are signed and kept)",
            &c.bob,
            u32::MAX,
            0xff,
            Hops {
                count: 15,
                limit: 15,
                cost: 254,
                transmitter: Some(c.carol.hop_id()),
            },
        ),
        (
            "announce-relay-neighbours-only",
            "hop limit 0: an announce for neighbours only",
            &c.relay,
            0,
            Capabilities::STORE,
            Hops {
                limit: 0,
                ..ORIGIN
            },
        ),
    ];
    cases
        .into_iter()
        .map(|(name, description, p, sequence, caps, hops)| {
            let a = Announce::sign(&p.identity, sequence, Capabilities(caps));
            let public = p.identity.public();
            vector(
                name,
                description,
                MeshCase::Announce {
                    signing_seed: p.signing_seed.to_vec(),
                    kem_seed: p.kem_seed.to_vec(),
                    kem_key_digest: public.kem_key_digest().to_vec(),
                    sequence,
                    capabilities: caps,
                    cost: hops.cost,
                    hop_count: hops.count,
                    hop_limit: hops.limit,
                    transmitter: hex_opt(hops.transmitter),
                    signing_key: public.signing_key().as_bytes().to_vec(),
                    address: public.address().as_bytes().to_vec(),
                    signed_bytes: signed_bytes(&a),
                    signature: a.signature().to_vec(),
                    encoded: announce(p, sequence, caps, hops),
                },
            )
        })
        .collect()
}

pub(super) fn envelope_vectors(c: &Cast) -> Vec<MeshVector> {
    let header = |t, count, limit, id, hop: Option<HopId>| Header {
        message_type: t,
        hop_count: count,
        hop_limit: limit,
        destination: c.bob.address(),
        message_id: id,
        hop_id: hop,
    };
    let env_bytes = |h: Header, body: &[u8]| {
        Envelope {
            header: h,
            body: body.to_vec().into(),
        }
        .to_bytes()
        .expect("envelope encodes")
    };
    let mut out = Vec::new();
    let positives: Vec<(&str, &str, Vec<u8>)> =
        vec![
        (
            "envelope-sealed-origin",
            "a Sealed message as its sender sends it: 22-byte header, the body runs to the end",
            env_bytes(header(MessageType::Sealed, 0, 7, 0x0102_0304, None), b"sealed"),
        ),
        (
            "envelope-sealed-next-hop",
            "a Sealed message forwarded on a shared link, naming the next hop: 30-byte header",
            env_bytes(
                header(MessageType::Sealed, 2, 7, 0xdead_beef, Some(c.relay.hop_id())),
                b"x",
            ),
        ),
        (
            "envelope-path-request-relayed",
            "a relayed path request: header only, with the transmitter's hop id",
            env_bytes(
                header(MessageType::PathRequest, 1, 3, 7, Some(c.carol.hop_id())),
                b"",
            ),
        ),
        (
            "envelope-hop-count-at-limit",
            "hop count 15 = hop limit 15 is valid (the message is not relayed further)",
            env_bytes(header(MessageType::Sealed, 15, 15, u32::MAX, None), &[0]),
        ),
        (
            "envelope-neighbours-only",
            "hop limit 0: neighbours only; the header check does not look at the (announce) body",
            env_bytes(header(MessageType::Announce, 0, 0, 0, None), &[1, 2, 3]),
        ),
    ];
    for (name, description, encoded) in positives {
        let env = Envelope::decode(encoded.clone().into()).expect("positive");
        out.push(vector(
            name,
            description,
            MeshCase::Envelope {
                encoded,
                header: Some(header_json(&env.header)),
                body: Some(HexBytes(env.body.to_vec())),
                expected_error: None,
            },
        ));
    }
    let good = env_bytes(header(MessageType::Sealed, 1, 4, 9, None), b"z");
    let with_first = |b: u8| [&[b][..], &good[1..]].concat();
    let negatives: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("envelope-empty", "no byte at all (H1)", vec![], "truncated"),
        (
            "envelope-version-0",
            "version bits 0 (H2)",
            with_first(0x04),
            "unknown_version",
        ),
        (
            "envelope-version-2",
            "version bits 2 (H2)",
            with_first(0x44),
            "unknown_version",
        ),
        (
            "envelope-version-7",
            "version bits 7 (H2)",
            with_first(0xe4),
            "unknown_version",
        ),
        (
            "envelope-version-before-type",
            "version 2 and type 0: the version is checked first",
            with_first(0x40),
            "unknown_version",
        ),
        (
            "envelope-type-0",
            "the reserved type 0 (H3)",
            with_first(0x20),
            "unknown_message_type",
        ),
        (
            "envelope-type-13",
            "the first unassigned type (H3; 0xa-0xc are Session, GroupLite and Fapp)",
            with_first(0x2d),
            "unknown_message_type",
        ),
        (
            "envelope-type-15",
            "type 0xf with the hop id flag (H3)",
            with_first(0x3f),
            "unknown_message_type",
        ),
        (
            "envelope-type-before-truncation",
            "an unknown type in a 1-byte datagram: H3 fires before H4",
            vec![0x2d],
            "unknown_message_type",
        ),
        (
            "envelope-only-first-byte",
            "a valid first byte and nothing else (H4)",
            vec![0x24],
            "truncated",
        ),
        (
            "envelope-hop-count-above-limit",
            "hop count 4 above hop limit 3 (H5)",
            [&[0x24, 0x43][..], &good[2..]].concat(),
            "malformed",
        ),
        (
            "envelope-hops-before-truncation",
            "hop count above limit in a 2-byte datagram: H5 fires before H6",
            vec![0x24, 0xf0],
            "malformed",
        ),
        (
            "envelope-cut-in-destination",
            "ends inside the destination (H6)",
            good[..10].to_vec(),
            "truncated",
        ),
        (
            "envelope-cut-in-message-id",
            "ends inside the message id (H6)",
            good[..20].to_vec(),
            "truncated",
        ),
        (
            "envelope-missing-hop-id",
            "the hop id flag is set but only 4 of its 8 bytes follow (H7)",
            [&[0x34], &good[1..22], &[1, 2, 3, 4][..]].concat(),
            "truncated",
        ),
    ];
    for (name, description, encoded, error) in negatives {
        out.push(vector(
            name,
            description,
            MeshCase::Envelope {
                encoded,
                header: None,
                body: None,
                expected_error: Some(error.into()),
            },
        ));
    }
    out
}

pub(super) fn decode_vectors(c: &Cast) -> Vec<MeshVector> {
    let mut out = Vec::new();
    let request_ids = [0x3333_4444u32, 0x1111_2222];
    let request = |dest: &Person, id: u32, count: u8, tx: Option<HopId>| {
        PathRequest {
            destination: dest.address(),
            request_id: id,
            hop_count: count,
            hop_limit: 5,
            transmitter: tx,
            min_sequence: if tx.is_some() { 8 } else { 0 },
        }
        .to_bytes()
        .expect("request encodes")
    };
    let sealed = Envelope {
        header: Header {
            message_type: MessageType::Sealed,
            hop_count: 1,
            hop_limit: 7,
            destination: c.dave.address(),
            message_id: 0x0bad_cafe,
            hop_id: Some(c.relay.hop_id()),
        },
        body: crate::deterministic_bytes("mesh sealed payload", 40).into(),
    }
    .to_bytes()
    .expect("sealed encodes");
    let key_response = key_response_of(&c.dave, Some(c.carol.hop_id()), c.dave.hop_id());
    let receipt_of = |next_hop| {
        Receipt {
            destination: c.alice.address(),
            message_id: 0x7e57_0001,
            hop_count: 2,
            hop_limit: 7,
            next_hop,
            key: ReceiptKey(
                crate::deterministic_bytes("mesh receipt key", 16)
                    .try_into()
                    .expect("16 bytes"),
            ),
        }
        .to_envelope()
        .to_bytes()
        .expect("receipt encodes")
    };
    let receipt = receipt_of(Some(c.carol.hop_id()));
    let receipt_without_hop = receipt_of(None);
    let hop_ack_from = |from| {
        HopAck {
            destination: c.dave.address(),
            message_id: 0x0bad_cafe,
            from,
        }
        .to_bytes()
        .expect("hop ack encodes")
    };
    let hop_ack = hop_ack_from(None);
    let positives: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "decode-announce-origin",
            "alice's announce from alice",
            announce(&c.alice, 7, Capabilities::TRANSPORT, ORIGIN),
        ),
        (
            "decode-announce-relayed",
            "alice's announce relayed by the relay node",
            announce(
                &c.alice,
                7,
                Capabilities::TRANSPORT,
                relayed(1, 9, &c.relay),
            ),
        ),
        (
            "decode-announce-unknown-capabilities",
            "unassigned capability bits are accepted (they are signed)",
            announce(&c.erin, 3, 0xf8, ORIGIN),
        ),
        (
            "decode-path-request-origin",
            "a path request for dave from its requester (no hop id, empty body)",
            request(&c.dave, request_ids[0], 0, None),
        ),
        (
            "decode-path-request-relayed",
            "a relayed path request naming its transmitter",
            request(&c.dave, request_ids[1], 2, Some(c.carol.hop_id())),
        ),
        (
            "decode-path-response-next-hop",
            "dave's announce in a path response forwarded to a named next hop (172 bytes)",
            response(
                &c.dave,
                5,
                request_ids[1],
                12,
                Some(c.carol.hop_id()),
                c.relay.hop_id(),
            ),
        ),
        (
            "decode-path-response-point-to-point",
            "a path response on a point-to-point link: no next hop (164 bytes)",
            response(&c.dave, 5, request_ids[1], 1, None, c.dave.hop_id()),
        ),
        (
            "decode-sealed",
            "a Sealed message with a 40-byte body (relays do not parse it)",
            sealed.clone(),
        ),
        (
            "decode-key-request-next-hop",
            "a key request for dave's identity, forwarded to a named next hop (38 bytes)",
            key_request(&c.dave, Some(c.carol.hop_id()), c.relay.hop_id()),
        ),
        (
            "decode-key-request-flooded",
            "a key request flooded without a route: no hop id (30 bytes)",
            key_request(&c.dave, None, c.erin.hop_id()),
        ),
        (
            "decode-key-response",
            "dave's PublicIdentity answering a key request, to a named next hop (1287 bytes)",
            key_response.clone(),
        ),
        (
            "decode-receipt-next-hop",
            "a delivery receipt for alice forwarded to a named next hop (46 bytes)",
            receipt.clone(),
        ),
        (
            "decode-receipt-point-to-point",
            "a delivery receipt on a point-to-point link: no hop id (38 bytes)",
            receipt_without_hop.clone(),
        ),
        (
            "decode-hop-ack",
            "custody of the Sealed message above taken on a point-to-point link: a bare 22-byte header",
            hop_ack.clone(),
        ),
        (
            "decode-hop-ack-shared",
            "carol takes custody of it on a shared link, naming herself (30 bytes)",
            hop_ack_from(Some(c.carol.hop_id())),
        ),
    ];
    for (name, description, encoded) in positives {
        let m = Message::decode(encoded.clone().into()).expect("positive");
        out.push(vector(
            name,
            description,
            MeshCase::Decode {
                encoded,
                decoded: Some(decoded_json(&m)),
                expected_error: None,
            },
        ));
    }

    let raw = || RawAnnounce::of(&c.alice, 7, Capabilities::TRANSPORT);
    let edit = |f: &dyn Fn(&mut RawAnnounce)| {
        let mut r = raw();
        f(&mut r);
        r.bytes()
    };
    let genuine = raw().bytes();
    let mut neutral = [0u8; 32];
    neutral[0] = 1;
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xf0;
    non_canonical[31] = 0x7f;
    let bound = |key: [u8; 32]| {
        edit(&|r| {
            r.signing_key = key;
            r.address = *Address::derive(&key, &r.kem_key_digest).as_bytes();
        })
    };
    let wrong_context = edit(&|r| {
        let message = signed_message(
            &Address::from_bytes(r.address),
            r.sequence,
            Capabilities(r.capabilities),
            &r.kem_key_digest,
        );
        r.signature = c.alice.identity.sign(SignatureContext::Test, &message);
    });
    let resp = response(&c.dave, 5, 9, 1, None, c.dave.hop_id());
    let mut resp_seq = resp.clone();
    resp_seq[22 + 8 + 3] ^= 1;
    let mut resp_dest = resp.clone();
    resp_dest[5] ^= 0x40;
    // Key response offsets (with a next hop): identity at 38, its version
    // byte, signing key 39..71, ML-KEM key 71..1255, X25519 key 1255..1287.
    let identity_at = 30 + 8;
    let with_identity_bytes = |at: usize, part: &[u8]| {
        let mut b = key_response.clone();
        b[identity_at + at..identity_at + at + part.len()].copy_from_slice(part);
        b
    };
    let negatives: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "decode-announce-bad-signature",
            "one bit of the signature's R flipped (A4)",
            edit(&|r| r.signature[0] ^= 1),
            "bad_signature",
        ),
        (
            "decode-announce-sequence-changed",
            "the sequence (the header's message id) raised by one: it is signed (A4)",
            edit(&|r| r.sequence += 1),
            "bad_signature",
        ),
        (
            "decode-announce-capabilities-changed",
            "a capability bit added: capabilities are signed (A4)",
            edit(&|r| r.capabilities |= Capabilities::STORE),
            "bad_signature",
        ),
        (
            "decode-announce-s-plus-l",
            "the signature's S replaced by S + L: the same point equation, refused as non-canonical (02 §6.3 step 3)",
            edit(&|r| r.signature = with_s_plus_l(r.signature)),
            "bad_signature",
        ),
        (
            "decode-announce-wrong-context",
            "a signature of the same 53 bytes under the test label: contexts do not mix",
            wrong_context,
            "bad_signature",
        ),
        (
            "decode-announce-destination-changed",
            "one bit of the destination flipped: the address is not the keys' (A2)",
            edit(&|r| r.address[15] ^= 1),
            "address_mismatch",
        ),
        (
            "decode-announce-kem-digest-changed",
            "another KEM key digest under alice's address (A2, before the signature)",
            edit(&|r| r.kem_key_digest[0] ^= 1),
            "address_mismatch",
        ),
        (
            "decode-announce-signing-key-swapped",
            "bob's signing key under alice's address (A2)",
            edit(&|r| r.signing_key = *c.bob.identity.public().signing_key().as_bytes()),
            "address_mismatch",
        ),
        (
            "decode-announce-small-order-key",
            "the neutral element as signing key, with its own matching address (A3)",
            bound(neutral),
            "invalid_public_key",
        ),
        (
            "decode-announce-non-canonical-key",
            "a signing key with y = p + 3 (non-canonical), with its own matching address (A3)",
            bound(non_canonical),
            "invalid_public_key",
        ),
        (
            "decode-announce-truncated",
            "the last signature byte missing (A1)",
            genuine[..genuine.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-announce-trailing",
            "one byte after the signature (A1)",
            [&genuine[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-announce-header-only",
            "an announce header without a body (A1)",
            genuine[..22].to_vec(),
            "truncated",
        ),
        (
            "decode-path-request-with-body",
            "a path request with a 1-byte body",
            [&request(&c.dave, 1, 0, None)[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-path-response-truncated",
            "a path response missing its last byte (P1)",
            resp[..resp.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-path-response-trailing",
            "a path response with one byte more (P2)",
            [&resp[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-path-response-sequence-changed",
            "the body's sequence changed: the embedded signature fails (P4)",
            resp_seq,
            "bad_signature",
        ),
        (
            "decode-path-response-destination-changed",
            "the header's destination changed: not the embedded keys' address (P3)",
            resp_dest,
            "address_mismatch",
        ),
        (
            "decode-sealed-empty",
            "a Sealed message without a body",
            sealed[..30].to_vec(),
            "truncated",
        ),
        (
            "decode-announce-hop-count-above-limit",
            "a genuine announce whose hop count (8) exceeds its limit (7)",
            [&genuine[..1], &[0x87], &genuine[2..]].concat(),
            "malformed",
        ),
        (
            "decode-announce-version-2",
            "a genuine announce under envelope version 2",
            [&[0x41], &genuine[1..]].concat(),
            "unknown_version",
        ),
        (
            "decode-key-request-truncated",
            "a key request with 7 of its 8 body bytes (K1)",
            key_request(&c.dave, None, c.erin.hop_id())[..29].to_vec(),
            "truncated",
        ),
        (
            "decode-key-request-trailing",
            "a key request with a 9-byte body (K1)",
            [&key_request(&c.dave, None, c.erin.hop_id())[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-key-response-truncated",
            "a key response missing the identity's last byte (K2)",
            key_response[..key_response.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-key-response-trailing",
            "a key response with one byte after the identity (K3)",
            [&key_response[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-key-response-identity-version",
            "the identity's version byte is 2 (K4, 02 §3.3 step 2)",
            with_identity_bytes(0, &[2]),
            "unknown_version",
        ),
        (
            "decode-key-response-small-order-signing-key",
            "the identity's signing key is the neutral element (K4, 02 §3.3 step 3)",
            with_identity_bytes(1, &neutral),
            "invalid_public_key",
        ),
        (
            "decode-key-response-unreduced-ml-kem",
            "the identity's first ML-KEM coefficient is 4095 >= q (K4, 02 §3.3 step 4)",
            with_identity_bytes(33, &[0xff, 0x0f]),
            "invalid_public_key",
        ),
        (
            "decode-key-response-small-order-x25519",
            "the identity's X25519 key is 0, of small order (K4, 02 §3.3 step 5)",
            with_identity_bytes(1217, &[0; 32]),
            "invalid_public_key",
        ),
        (
            "decode-key-response-wrong-identity",
            "bob's valid identity answering for dave's address (K5): the substitution a relay would try",
            {
                let mut b = key_response.clone();
                b[identity_at..].copy_from_slice(&c.bob.identity.public().to_bytes());
                b
            },
            "address_mismatch",
        ),
        (
            "decode-unknown-type",
            "a genuine announce body under the unassigned type 13",
            [&[0x2d], &genuine[1..]].concat(),
            "unknown_message_type",
        ),
        (
            "decode-receipt-truncated",
            "a receipt with a 15-byte key (R1)",
            receipt[..receipt.len() - 1].to_vec(),
            "truncated",
        ),
        (
            "decode-receipt-trailing",
            "a receipt with a byte after its key (R1)",
            [&receipt[..], &[0]].concat(),
            "trailing_bytes",
        ),
        (
            "decode-hop-ack-hop-limit",
            "a hop ack with hop limit 1: it would be relayed (HA1)",
            {
                let mut b = hop_ack.clone();
                b[1] = 0x01;
                b
            },
            "malformed",
        ),
        (
            "decode-hop-ack-body",
            "a hop ack with a body (HA2)",
            [&hop_ack[..], &[0]].concat(),
            "trailing_bytes",
        ),
    ];
    for (name, description, encoded, error) in negatives {
        out.push(vector(
            name,
            description,
            MeshCase::Decode {
                encoded,
                decoded: None,
                expected_error: Some(error.into()),
            },
        ));
    }
    out
}

/// Sealed content of mesh messages (§8.3), accepted and refused.
pub(super) fn mesh_data_vectors() -> Vec<MeshVector> {
    let key: [u8; 16] = crate::deterministic_bytes("mesh receipt key", 16)
        .try_into()
        .expect("16 bytes");
    let with_key = MeshData {
        receipt: Some(ReceiptKey(key)),
        content: Bytes::from_static(b"see you at 3"),
    }
    .to_bytes();
    let positives = [
        (
            "mesh-data-with-receipt",
            "flags 01, the receipt key, the content",
            with_key.clone(),
        ),
        (
            "mesh-data-no-receipt",
            "flags 00: no receipt wanted, content follows",
            [&[0][..], b"hi"].concat(),
        ),
        ("mesh-data-empty", "flags 00 and no content", vec![0]),
    ];
    let mut out: Vec<MeshVector> = positives
        .into_iter()
        .map(|(name, description, encoded)| {
            let data = MeshData::decode(encoded.clone().into()).expect("positive");
            vector(
                name,
                description,
                MeshCase::MeshData {
                    encoded,
                    receipt_key: Some(data.receipt.map(|k| HexBytes(k.0.to_vec()))),
                    content: Some(HexBytes(data.content.to_vec())),
                    expected_error: None,
                },
            )
        })
        .collect();
    let negatives = [
        ("mesh-data-nothing", "no flags byte", vec![], "truncated"),
        (
            "mesh-data-short-key",
            "flags 01 and a 15-byte key",
            with_key[..16].to_vec(),
            "truncated",
        ),
        (
            "mesh-data-unknown-flag",
            "flag bit 1 is not assigned",
            vec![0x02, 0x61],
            "malformed",
        ),
    ];
    for (name, description, encoded, error) in negatives {
        out.push(vector(
            name,
            description,
            MeshCase::MeshData {
                encoded,
                receipt_key: None,
                content: None,
                expected_error: Some(error.into()),
            },
        ));
    }
    out
}
