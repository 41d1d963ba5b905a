//! Generation of `mesh.json`: fixed identities, their announces, hostile
//! variants and transcripts whose expected values qpc computes (and
//! `vectors/independent/check_mesh.py` re-derives).

use qpc_crypto::identity::{Address, Identity, SignatureContext};
use qpc_mesh::announce::{signed_message, Announce, AnnouncePacket, Capabilities};
use qpc_mesh::envelope::{Envelope, Header, HopId, MessageType};
use qpc_mesh::key_request::{KeyRequest, KeyResponse};
use qpc_mesh::message::Message;
use qpc_mesh::path_request::{PathRequest, PathResponse};
use qpc_mesh::rebroadcast::AnnounceScheduler;
use qpc_mesh::routing::{LinkId, RoutingTable};
use sha2::{Digest, Sha256};

use super::transcript::{self, *};
use super::{decoded_json, header_json, hex_opt, signed_bytes, MeshCase, MeshVector, PROTOCOL};
use crate::{checked_file, HexBytes};

/// The group order L of Ed25519, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// A deterministic 32-byte seed: SHA-256("qpc vectors " || label), as in
/// `identity.json`, so the same names give the same identities there.
fn seed(label: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"qpc vectors ")
        .chain_update(label.as_bytes())
        .finalize()
        .into()
}

struct Person {
    signing_seed: [u8; 32],
    kem_seed: [u8; 32],
    identity: Identity,
}

impl Person {
    fn named(name: &str) -> Self {
        let (signing_seed, kem_seed) = (
            seed(&format!("{name} signing")),
            seed(&format!("{name} kem")),
        );
        Person {
            signing_seed,
            kem_seed,
            identity: Identity::from_seeds(&signing_seed, &kem_seed),
        }
    }
    fn address(&self) -> Address {
        self.identity.public().address()
    }
    fn hop_id(&self) -> HopId {
        HopId::of(&self.address())
    }
    fn hex_address(&self) -> HexBytes {
        HexBytes(self.address().as_bytes().to_vec())
    }
}

struct Cast {
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
    erin: Person,
    relay: Person,
}

fn cast() -> Cast {
    Cast {
        alice: Person::named("alice"),
        bob: Person::named("bob"),
        carol: Person::named("carol"),
        dave: Person::named("dave"),
        erin: Person::named("erin"),
        relay: Person::named("relay"),
    }
}

fn vector(name: &str, description: &str, case: MeshCase) -> MeshVector {
    MeshVector {
        name: name.to_owned(),
        description: description.to_owned(),
        case,
    }
}

/// The hop fields and cost of an announce datagram.
#[derive(Clone, Copy)]
struct Hops {
    count: u8,
    limit: u8,
    cost: u8,
    transmitter: Option<HopId>,
}

const ORIGIN: Hops = Hops {
    count: 0,
    limit: 7,
    cost: 0,
    transmitter: None,
};

fn relayed(count: u8, cost: u8, transmitter: &Person) -> Hops {
    Hops {
        count,
        limit: 7,
        cost,
        transmitter: Some(transmitter.hop_id()),
    }
}

fn announce(p: &Person, sequence: u32, caps: u8, hops: Hops) -> Vec<u8> {
    AnnouncePacket {
        hop_count: hops.count,
        hop_limit: hops.limit,
        transmitter: hops.transmitter,
        cost: hops.cost,
        announce: Announce::sign(&p.identity, sequence, Capabilities(caps)),
    }
    .to_bytes()
    .expect("announce encodes")
}

fn response(
    p: &Person,
    sequence: u32,
    request_id: u32,
    cost: u8,
    next: Option<HopId>,
    tx: HopId,
) -> Vec<u8> {
    PathResponse {
        request_id,
        hop_count: 1,
        hop_limit: 5,
        next_hop: next,
        transmitter: tx,
        cost,
        announce: Announce::sign(&p.identity, sequence, Capabilities(Capabilities::TRANSPORT)),
    }
    .to_bytes()
    .expect("response encodes")
}

fn key_request(p: &Person, next: Option<HopId>, tx: HopId) -> Vec<u8> {
    KeyRequest {
        destination: p.address(),
        request_id: 0x5151_0001,
        hop_count: 1,
        hop_limit: 6,
        next_hop: next,
        transmitter: tx,
    }
    .to_bytes()
    .expect("key request encodes")
}

fn key_response_of(p: &Person, next: Option<HopId>, tx: HopId) -> Vec<u8> {
    KeyResponse {
        request_id: 0x5151_0001,
        hop_count: 0,
        hop_limit: 1,
        next_hop: next,
        transmitter: tx,
        identity: p.identity.public().clone(),
    }
    .to_bytes()
    .expect("key response encodes")
}

/// An announce datagram from raw fields (hostile ones included), no hop id.
struct RawAnnounce {
    address: [u8; 16],
    sequence: u32,
    capabilities: u8,
    signing_key: [u8; 32],
    kem_key_digest: [u8; 32],
    signature: [u8; 64],
}

impl RawAnnounce {
    fn of(p: &Person, sequence: u32, caps: u8) -> Self {
        let a = Announce::sign(&p.identity, sequence, Capabilities(caps));
        RawAnnounce {
            address: *a.address().as_bytes(),
            sequence,
            capabilities: caps,
            signing_key: *a.signing_key(),
            kem_key_digest: *a.kem_key_digest(),
            signature: *a.signature(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0x21, 0x07];
        out.extend_from_slice(&self.address);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&[0, self.capabilities]);
        out.extend_from_slice(&self.signing_key);
        out.extend_from_slice(&self.kem_key_digest);
        out.extend_from_slice(&self.signature);
        out
    }
}

fn with_s_plus_l(signature: [u8; 64]) -> [u8; 64] {
    let mut out = signature;
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(out[32 + i]) + u16::from(ED25519_L[i]) + carry;
        out[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

fn announce_vectors(c: &Cast) -> Vec<MeshVector> {
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

fn envelope_vectors(c: &Cast) -> Vec<MeshVector> {
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
            "envelope-type-7",
            "the first unassigned type (H3)",
            with_first(0x27),
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
            vec![0x27],
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

fn decode_vectors(c: &Cast) -> Vec<MeshVector> {
    let mut out = Vec::new();
    let request_ids = [0x3333_4444u32, 0x1111_2222];
    let request = |dest: &Person, id: u32, count: u8, tx: Option<HopId>| {
        PathRequest {
            destination: dest.address(),
            request_id: id,
            hop_count: count,
            hop_limit: 5,
            transmitter: tx,
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
            "a genuine announce body under the unassigned type 7",
            [&[0x27], &genuine[1..]].concat(),
            "unknown_message_type",
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

/// (name, description, received datagram, link cost, relay hop id).
type RelayCase<'a> = (&'a str, &'a str, Vec<u8>, u8, Option<HopId>);

fn relay_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    let request = |count, limit| {
        PathRequest {
            destination: c.dave.address(),
            request_id: 0x0102_0304,
            hop_count: count,
            hop_limit: limit,
            transmitter: Some(c.carol.hop_id()),
        }
        .to_bytes()
        .expect("request encodes")
    };
    let cases: Vec<RelayCase<'_>> = vec![
        (
            "relay-announce-origin-shared",
            "alice's own announce relayed on a shared link: 31, hop 1, cost 0 + 9, the relay's hop id (160 bytes)",
            announce(&c.alice, 1, t, ORIGIN),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-announce-point-to-point",
            "a relayed announce sent on over a point-to-point link: no hop id, cost 18 + 1",
            announce(&c.alice, 1, t, relayed(2, 18, &c.bob)),
            1,
            None,
        ),
        (
            "relay-announce-saturating-cost",
            "cost 250 + 9 saturates at 255 (the relay's own table marks it unreachable; the copy shows the rule)",
            announce(&c.bob, 3, t, relayed(1, 250, &c.carol)),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-announce-at-limit",
            "hop count 7 = hop limit 7: not relayed",
            announce(&c.bob, 3, t, relayed(7, 40, &c.carol)),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-path-request",
            "a path request flooded on: hop 2 of 5, the relay's hop id",
            request(1, 5),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-path-request-at-limit",
            "a path request at its hop limit: not relayed",
            request(5, 5),
            9,
            Some(c.relay.hop_id()),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, description, received, link_cost, transmitter)| {
            let relayed = super::relayed_copy(&received, link_cost, transmitter)
                .expect("relayable")
                .map(HexBytes);
            vector(
                name,
                description,
                MeshCase::Relay {
                    received,
                    link_cost,
                    transmitter: hex_opt(transmitter),
                    relayed,
                },
            )
        })
        .collect()
}

/// Builds a routing transcript by running qpc's table.
struct RoutingScript {
    table: RoutingTable,
    config: RoutingConfigJson,
    local: HexBytes,
    links: Vec<LinkJson>,
    steps: Vec<RoutingStep>,
}

impl RoutingScript {
    fn new(local: &Person, config: RoutingConfigJson, links: &[(u16, u8)]) -> Self {
        RoutingScript {
            table: RoutingTable::new(local.address(), config.into()).expect("valid config"),
            config,
            local: local.hex_address(),
            links: links
                .iter()
                .map(|&(link, cost)| LinkJson { link, cost })
                .collect(),
            steps: Vec::new(),
        }
    }

    fn receive(&mut self, at_ms: u64, link: u16, datagram: Vec<u8>) -> &mut Self {
        let got = transcript::receive(&mut self.table, &self.links, link, &datagram, at_ms)
            .expect("known link");
        let (outcome, expected_error) = match got {
            Ok(o) => (Some(o), None),
            Err(class) => (None, Some(class)),
        };
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Receive {
            at_ms,
            link,
            datagram: HexBytes(datagram),
            outcome,
            expected_error,
            events,
        });
        self
    }

    fn timeout(&mut self, at_ms: u64) -> &mut Self {
        self.table.handle_timeout(at_ms);
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Timeout { at_ms, events });
        self
    }

    fn lookup(&mut self, at_ms: u64, destination: &Person) -> &mut Self {
        let forwarding =
            transcript::forwarding_json(self.table.forwarding(&destination.address(), at_ms));
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Lookup {
            at_ms,
            destination: destination.hex_address(),
            forwarding,
            events,
        });
        self
    }

    fn finish(&mut self, name: &str, description: &str) -> MeshVector {
        vector(
            name,
            description,
            MeshCase::Routing {
                config: self.config,
                local_address: self.local.clone(),
                links: self.links.clone(),
                steps: std::mem::take(&mut self.steps),
            },
        )
    }
}

fn routing_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    let config = |capacity, lifetime, hold, quota| RoutingConfigJson {
        capacity,
        route_lifetime_ms: lifetime,
        hold_ms: hold,
        max_routes_per_neighbour: quota,
    };
    let mut tampered = announce(&c.alice, 12, t, relayed(1, 0, &c.carol));
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let on_limit = Hops {
        count: 7,
        ..relayed(7, 40, &c.erin)
    };
    let feasibility = RoutingScript::new(&c.relay, config(16, 60_000, 30_000, 16), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 10, t, ORIGIN))
        .receive(10, 1, announce(&c.alice, 10, t, relayed(1, 9, &c.bob)))
        .receive(20, 0, announce(&c.alice, 10, t, Hops { transmitter: None, ..relayed(1, 3, &c.bob) }))
        .lookup(30, &c.alice)
        .receive(40, 0, announce(&c.alice, 10, t, Hops { transmitter: None, ..relayed(1, 3, &c.bob) }))
        .receive(50, 1, announce(&c.alice, 11, t, relayed(2, 20, &c.carol)))
        .receive(60, 0, announce(&c.alice, 10, t, ORIGIN))
        .receive(70, 1, announce(&c.alice, 11, t, relayed(2, 250, &c.carol)))
        .receive(80, 1, announce(&c.relay, 99, t, relayed(1, 9, &c.bob)))
        .receive(90, 1, announce(&c.bob, 1, t, on_limit))
        .receive(100, 1, tampered)
        .lookup(110, &c.carol)
        .lookup(120, &c.relay)
        .receive(130, 0, response(&c.dave, 5, 77, 2, Some(c.relay.hop_id()), c.erin.hop_id()))
        .lookup(140, &c.dave)
        .finish(
            "routing-feasibility-and-freshness",
            "install, a worse and a better path for the same sequence, a duplicate, a newer sequence, \
             a stale replay, an unreachable metric, our own announce, an announce at its hop limit, a forged \
             announce, lookups (next hop, flood, local) and a route learned from a path response",
        );
    let expiry = RoutingScript::new(&c.relay, config(16, 1000, 500, 16), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 10, t, ORIGIN))
        .lookup(999, &c.alice)
        .timeout(1000)
        .lookup(1000, &c.alice)
        .receive(1200, 1, announce(&c.alice, 10, t, ORIGIN))
        .receive(1250, 1, announce(&c.alice, 9, t, ORIGIN))
        .receive(1300, 0, announce(&c.alice, 10, t, ORIGIN))
        .lookup(1300, &c.alice)
        .receive(2300, 1, announce(&c.bob, 1, t, ORIGIN))
        .timeout(2800)
        .receive(2900, 1, announce(&c.alice, 3, t, ORIGIN))
        .timeout(5000)
        .finish(
            "routing-expiry-and-hold",
            "a route expires at its lifetime; the expired entry keeps sequence and metric during the hold \
             (equal metric not feasible, older sequence stale, strictly better metric revives it); expiry \
             inside a receive; forgetting; an old sequence accepted once forgotten; expiry and forgetting \
             of several entries in one call, in address order",
        );
    let eviction = RoutingScript::new(&c.relay, config(3, 10_000, 5000, 2), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 1, t, relayed(1, 9, &c.carol)))
        .receive(10, 1, announce(&c.bob, 1, t, relayed(1, 9, &c.carol)))
        .receive(20, 1, announce(&c.dave, 1, t, relayed(1, 9, &c.carol)))
        .receive(30, 1, announce(&c.dave, 1, t, relayed(1, 9, &c.erin)))
        .receive(40, 0, announce(&c.erin, 1, t, ORIGIN))
        .lookup(50, &c.alice)
        .timeout(10_010)
        .receive(10_020, 0, announce(&c.carol, 1, t, ORIGIN))
        .lookup(10_030, &c.bob)
        .receive(10_040, 1, announce(&c.alice, 1, t, relayed(1, 9, &c.carol)))
        .finish(
            "routing-eviction-and-quota",
            "capacity 3, two new routes per neighbour: a third destination via the same neighbour is \
             refused, a full table evicts the least recently refreshed live entry, then an expired entry \
             before any live one",
        );
    vec![feasibility, expiry, eviction]
}

fn rebroadcast_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    struct Script {
        scheduler: AnnounceScheduler,
        steps: Vec<RebroadcastStep>,
    }
    impl Script {
        fn enqueue(&mut self, p: &Person, hop_count: u8, bytes: Vec<u8>) -> &mut Self {
            let dropped = self
                .scheduler
                .enqueue(transcript::LINK, p.address(), hop_count, bytes.clone())
                .expect("fits");
            self.steps.push(RebroadcastStep::Enqueue {
                address: p.hex_address(),
                hop_count,
                bytes: HexBytes(bytes),
                dropped: transcript::dropped_json(dropped),
            });
            self
        }
        fn poll(&mut self, at_ms: u64) -> &mut Self {
            let (sent, next_timeout) = transcript::poll(&mut self.scheduler, at_ms);
            self.steps.push(RebroadcastStep::Poll {
                at_ms,
                sent,
                next_timeout,
            });
            self
        }
    }
    let script = |budget: BudgetJson| {
        let mut scheduler = AnnounceScheduler::new();
        scheduler
            .add_link(LinkId(0), transcript::budget_of(&budget), 0)
            .expect("valid budget");
        (
            budget,
            Script {
                scheduler,
                steps: Vec::new(),
            },
        )
    };
    let hop = |n: u8, cost| relayed(n, cost, &c.relay);

    let (lora, mut s) = script(BudgetJson {
        bitrate_bps: 1760,
        share_permille: 20,
        burst_bytes: 160,
        max_queued: 3,
    });
    s.enqueue(&c.alice, 3, announce(&c.alice, 1, t, hop(3, 27)))
        .enqueue(&c.bob, 1, announce(&c.bob, 1, t, hop(1, 9)))
        .enqueue(
            &c.carol,
            2,
            announce(
                &c.carol,
                1,
                t,
                Hops {
                    transmitter: None,
                    ..hop(2, 18)
                },
            ),
        )
        .enqueue(&c.dave, 5, announce(&c.dave, 1, t, hop(5, 45)))
        .enqueue(&c.erin, 0, announce(&c.erin, 1, t, ORIGIN))
        .enqueue(&c.bob, 1, announce(&c.bob, 2, t, hop(1, 9)))
        .poll(0)
        .poll(36_363)
        .poll(36_364)
        .poll(100_000)
        .poll(200_000);
    let first = vector(
        "rebroadcast-lora-two-percent",
        "2% of 1760 bit/s (LoRa SF9): a full queue drops the highest hop count, a newer announce for a \
         queued address replaces it in place, lowest hop count first, one 160-byte announce per 36.4 s, \
         credit capped at the bucket",
        MeshCase::Rebroadcast {
            budget: lora,
            steps: s.steps,
        },
    );
    let (fast, mut s) = script(BudgetJson {
        bitrate_bps: 50_000,
        share_permille: 50,
        burst_bytes: 480,
        max_queued: 8,
    });
    s.enqueue(&c.alice, 2, announce(&c.alice, 4, t, hop(2, 2)))
        .enqueue(&c.bob, 2, announce(&c.bob, 4, t, hop(2, 2)))
        .enqueue(&c.carol, 2, announce(&c.carol, 4, t, hop(2, 2)))
        .enqueue(&c.dave, 1, announce(&c.dave, 4, t, hop(1, 1)))
        .poll(0)
        .poll(100)
        .enqueue(&c.erin, 0, announce(&c.erin, 4, t, ORIGIN))
        .poll(200)
        .poll(1000);
    let second = vector(
        "rebroadcast-burst",
        "5% of 50 kbit/s with a 480-byte bucket: a burst of three, equal hop counts in queue order, \
         partial refill",
        MeshCase::Rebroadcast {
            budget: fast,
            steps: s.steps,
        },
    );
    vec![first, second]
}

/// The `mesh.json` text (deterministic).
pub fn generate() -> String {
    let c = cast();
    let mut vectors = Vec::new();
    vectors.extend(envelope_vectors(&c));
    vectors.extend(announce_vectors(&c));
    vectors.extend(decode_vectors(&c));
    vectors.extend(relay_vectors(&c));
    vectors.extend(routing_vectors(&c));
    vectors.extend(rebroadcast_vectors(&c));
    checked_file(PROTOCOL, "spec/10-mesh.md", vectors)
}
