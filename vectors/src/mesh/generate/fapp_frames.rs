//! Type-`0xc` FAPP frames (`spec/10-mesh.md` §14), accepted and refused.

use qpc_mesh::envelope::LINK_LOCAL;
use qpc_mesh::fapp_frame::FappPacket;

use super::*;

fn frame(
    destination: Address,
    hop_limit: u8,
    next_hop: Option<HopId>,
    reply: Option<Address>,
    transmitter: HopId,
) -> Vec<u8> {
    FappPacket {
        header: Header {
            message_type: MessageType::Fapp,
            hop_count: 0,
            hop_limit,
            destination,
            message_id: 0x0c0f_a990,
            hop_id: next_hop,
        },
        transmitter,
        reply,
        payload: crate::deterministic_bytes("mesh fapp payload", 20).into(),
    }
    .to_bytes()
    .expect("frame encodes")
}

pub(in crate::mesh) fn fapp_frame_vectors(c: &Cast) -> Vec<MeshVector> {
    let reply = Address::from_bytes(
        crate::deterministic_bytes("mesh fapp reply address", 16)
            .try_into()
            .expect("16 bytes"),
    );
    let broadcast = frame(LINK_LOCAL, 0, None, None, c.carol.hop_id());
    let routed = frame(
        c.dave.address(),
        7,
        Some(c.relay.hop_id()),
        Some(reply),
        c.carol.hop_id(),
    );
    let positives = [
        ("decode-fapp-link-broadcast", "a link-local FAPP frame to every neighbour: all-zero destination, hop limit 0, carol as transmitter", broadcast.clone()),
        ("decode-fapp-link-unicast", "a link-local FAPP frame to one neighbour on a shared link, named in the hop id", frame(LINK_LOCAL, 0, Some(c.erin.hop_id()), None, c.carol.hop_id())),
        ("decode-fapp-routed-reply", "a routed FAPP frame (a Reservation) for dave, handed to the relay, naming a reply address", routed.clone()),
        ("decode-fapp-routed", "a routed FAPP frame without a reply address (all zero) on a point-to-point link", frame(c.dave.address(), 7, None, None, c.carol.hop_id())),
    ];
    let mut out = Vec::new();
    for (name, description, encoded) in positives {
        let m = Message::decode(encoded.clone().into()).expect("positive");
        let case = MeshCase::Decode {
            encoded,
            decoded: Some(decoded_json(&m)),
            expected_error: None,
        };
        out.push(vector(name, description, case));
    }
    let with_hops = |b: &[u8], hops: u8| {
        let mut b = b.to_vec();
        b[1] = hops;
        b
    };
    let negatives = [
        (
            "decode-fapp-link-hop-limit",
            "a link-local FAPP frame with hop limit 1: the mesh would relay it (F1)",
            with_hops(&broadcast, 0x01),
            "malformed",
        ),
        (
            "decode-fapp-link-empty-payload",
            "a link-local FAPP frame with a transmitter and no payload (F2)",
            broadcast[..22 + 8].to_vec(),
            "truncated",
        ),
        (
            "decode-fapp-link-short-transmitter",
            "a link-local FAPP frame whose body ends inside the transmitter (F2)",
            broadcast[..22 + 5].to_vec(),
            "truncated",
        ),
        (
            "decode-fapp-routed-empty-payload",
            "a routed FAPP frame with transmitter and reply address but no payload (F2)",
            routed[..30 + 24].to_vec(),
            "truncated",
        ),
    ];
    for (name, description, encoded, error) in negatives {
        let case = MeshCase::Decode {
            encoded,
            decoded: None,
            expected_error: Some(error.into()),
        };
        out.push(vector(name, description, case));
    }
    out
}
