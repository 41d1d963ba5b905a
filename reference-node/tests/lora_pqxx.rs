//! pqXX on the emulated LoRa channel (`spec/30-reference-node.md` §15):
//! two nodes and an eavesdropper radio on one channel. B sends C a
//! message; the nodes run a pqXX handshake and every unicast datagram
//! (key request and response, the sealed message, receipt, hop acks)
//! crosses inside it, so the eavesdropper hears only broadcasts in the
//! clear. A tampered record and a cleartext unicast injected into C's
//! radio are refused.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{bound, config, keygen, temp_dir, NodeProcess, TIMEOUT};
use qpc_crypto::identity::Address;
use qpc_mesh::envelope::{Header, HopId, MessageType};
use qpc_mesh::lora::link::{LoraLink, LoraLinkConfig};
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use qpc_node::lora::secured::{addressing, Addressing, SecuredDatagram, HANDSHAKE_DATAGRAM_LENS};
use qpc_wire::codec::Reader;
use qpc_wire::FrameType;
use rand_core::SeedableRng;
use serde_json::json;

fn lora(peers: &[u16]) -> String {
    let peers: Vec<String> = peers.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    format!(
        "[lora]\nmode = \"udp\"\nspreading_factor = 7\nregion = \"eu868-g3\"\n[lora.udp]\nbind = \"127.0.0.1:0\"\npeers = [{}]\n",
        peers.join(", ")
    )
}

/// Everything the eavesdropper heard: (sender port, UDP payload).
fn drain(socket: &UdpSocket) -> Vec<(u16, Vec<u8>)> {
    let mut heard = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok((len, from)) = socket.recv_from(&mut buf) {
        heard.push((from.port(), buf[..len].to_vec()));
    }
    heard
}

/// The link datagrams in `heard`, reassembled as a receiver would.
fn datagrams(heard: &[(u16, Vec<u8>)]) -> Vec<Bytes> {
    let radio = RadioProfile::new(RadioParams::lorawan(7)).unwrap();
    let profile = LinkProfile::new(radio, Region::Eu868(Eu868SubBand::G3)).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0);
    let mut link = LoraLink::new(LoraLinkConfig::new(profile), &mut rng).unwrap();
    heard
        .iter()
        .filter_map(|(port, packet)| {
            let frame = Bytes::copy_from_slice(&packet[2..]);
            link.handle_frame(0, u32::from(*port), frame).ok().flatten()
        })
        .collect()
}

async fn wait_log(node: &NodeProcess, what: &str, inject: impl Fn()) {
    let start = Instant::now();
    while !node.log_text().contains(what) {
        assert!(
            start.elapsed() < TIMEOUT,
            "no {what} in\n{}",
            node.log_text()
        );
        inject();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicast_crosses_the_channel_inside_pqxx() {
    let dir = temp_dir("lora-pqxx");
    let (b_dir, c_dir) = (dir.join("b"), dir.join("c"));
    let (b, c) = (keygen(&b_dir), keygen(&c_dir));
    let eavesdropper = UdpSocket::bind("127.0.0.1:0").unwrap();
    eavesdropper.set_nonblocking(true).unwrap();
    let pe = eavesdropper.local_addr().unwrap().port();
    // B binds port 0 and lists the eavesdropper; C lists both; B learns
    // C's radio when it hears it (spec/30 §7).
    let node_b = NodeProcess::spawn(&b_dir, &config(&b_dir, None, &[], &lora(&[pe])));
    let pb = bound(&node_b).await.1.expect("B's radio port");
    let node_c = NodeProcess::spawn(&c_dir, &config(&c_dir, None, &[], &lora(&[pb, pe])));
    let pc = bound(&node_c).await.1.expect("C's radio port");
    node_b.wait_route(&c).await;
    node_c.wait_route(&b).await;

    let content = hex::encode("over a pqXX link");
    let sent = node_b
        .ask(json!({"op": "send", "to": c, "content": content}))
        .await;
    assert_eq!(sent["ok"], true, "{sent}");
    node_b
        .until(
            "C's receipt",
            json!({"op": "message", "id": sent["id"]}),
            |m| m["state"] == "confirmed",
        )
        .await;
    let inbox = node_c.ask(json!({"op": "inbox"})).await;
    assert_eq!(inbox["messages"][0]["content"], content);

    // Both ends report the session, pinned to the other's address.
    for (node, peer) in [(&node_b, &c), (&node_c, &b)] {
        let status = node.ask(json!({"op": "status"})).await;
        let radio = &status["links"][0];
        assert_eq!(radio["pqxx_sessions"][0]["peer"], *peer, "{status}");
        let handshake = &radio["pqxx_handshakes"][0];
        assert_eq!(handshake["message_lens"], json!(HANDSHAKE_DATAGRAM_LENS));
    }

    // What the eavesdropper heard: the handshake, records, and nothing
    // addressed to one neighbour in the clear.
    let heard = drain(&eavesdropper);
    let mut kinds = Vec::new();
    for datagram in datagrams(&heard) {
        if datagram[0] == qpc_node::lora::secured::SECURED_KIND {
            kinds.push(SecuredDatagram::decode(datagram).unwrap().frame_type);
        } else {
            let header = Header::decode(&mut Reader::new(datagram)).unwrap();
            assert_eq!(addressing(&header), Addressing::Everyone, "{header:?}");
        }
    }
    for t in [
        FrameType::PqxxMessage1,
        FrameType::PqxxMessage2,
        FrameType::PqxxMessage3,
        FrameType::PqxxDatagram,
    ] {
        assert!(kinds.contains(&t), "{t:?} not heard in {kinds:?}");
    }

    // A record B sent C, in one frame, with a counter C has not seen yet
    // (a copy of a delivered record is `replayed` before its tag is
    // checked, spec/06 §9.3 D4): its tag does not match.
    let c_hop = HopId::of(&Address::from_bytes(
        hex::decode(&c).unwrap().try_into().unwrap(),
    ));
    let record = heard
        .iter()
        .filter(|(port, p)| *port == pb && p[2] == 0x00 && p[3] == 0x01)
        .find(|(_, p)| {
            SecuredDatagram::decode(Bytes::copy_from_slice(&p[3..]))
                .is_ok_and(|d| d.frame_type == FrameType::PqxxDatagram && d.receiver == c_hop)
        })
        .map(|(_, p)| p.clone())
        .expect("a one-frame record from B to C");
    let body_len = SecuredDatagram::decode(Bytes::copy_from_slice(&record[3..]))
        .unwrap()
        .body
        .len();
    let mut tampered = record.clone();
    let counter_low_byte = record.len() - body_len + 7;
    tampered[counter_low_byte] = 0xff;
    let to_c = format!("127.0.0.1:{pc}");
    wait_log(&node_c, "open_failed", || {
        eavesdropper.send_to(&tampered, &to_c).unwrap();
    })
    .await;

    // A sealed message for C in the clear: refused as a downgrade.
    let header = Header {
        message_type: MessageType::Sealed,
        hop_count: 0,
        hop_limit: 8,
        destination: Address::from_bytes([7; 16]),
        message_id: 1,
        hop_id: Some(c_hop),
    };
    let mut clear = vec![1, 7, 0x00];
    header.encode(&mut clear).unwrap();
    clear.push(0x42);
    wait_log(&node_c, "downgrade", || {
        eavesdropper.send_to(&clear, &to_c).unwrap();
    })
    .await;
    drop((node_b, node_c));
    std::fs::remove_dir_all(&dir).unwrap();
}
