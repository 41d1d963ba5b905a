//! Generation of `mesh.json`: fixed identities, their announces, hostile
//! variants and transcripts whose expected values qpc computes (and
//! `vectors/independent/check_mesh.py` re-derives).

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity, SignatureContext};
use qpc_mesh::announce::{signed_message, Announce, AnnouncePacket, Capabilities};
use qpc_mesh::envelope::{Envelope, Header, HopId, MessageType};
use qpc_mesh::key_request::{KeyRequest, KeyResponse};
use qpc_mesh::message::Message;
use qpc_mesh::path_request::{PathRequest, PathResponse};
use qpc_mesh::rebroadcast::AnnounceScheduler;
use qpc_mesh::receipt::{HopAck, MeshData, Receipt, ReceiptKey};
use qpc_mesh::routing::{LinkId, RoutingTable};
use sha2::{Digest, Sha256};

use super::transcript::{self, *};
use super::{decoded_json, header_json, hex_opt, signed_bytes, MeshCase, MeshVector, PROTOCOL};
use crate::{checked_file, HexBytes};

mod fapp_frames;
mod messages;
mod scripts;

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

/// The `mesh.json` text (deterministic).
pub fn generate() -> String {
    let c = cast();
    let mut vectors = Vec::new();
    vectors.extend(messages::envelope_vectors(&c));
    vectors.extend(messages::announce_vectors(&c));
    vectors.extend(messages::decode_vectors(&c));
    vectors.extend(fapp_frames::fapp_frame_vectors(&c));
    vectors.extend(messages::mesh_data_vectors());
    vectors.extend(scripts::relay_vectors(&c));
    vectors.extend(scripts::routing_vectors(&c));
    vectors.extend(scripts::rebroadcast_vectors(&c));
    checked_file(PROTOCOL, "spec/10-mesh.md", vectors)
}
