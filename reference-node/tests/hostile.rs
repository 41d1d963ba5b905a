//! Hostile input against a real `qpc-node`: malformed configuration files
//! are refused with `invalid_config` and exit status 2; random bytes on
//! the QUIC port, on an authenticated QUIC stream and on the radio channel,
//! a classical-only TLS client and an unpinned client are refused with
//! their classes, and the node keeps answering.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use common::{bound, config, keygen, temp_dir, NodeProcess, BIN};
use qpc_crypto::identity::{Address, Identity};
use qpc_node::quic::certificate::{self, NodeCertificate, SERVER_NAME};
use qpc_node::quic::tls;
use rand_core::{Rng, SeedableRng};
use serde_json::json;

fn run_config(dir: &std::path::Path, name: &str, text: &str) -> (i32, String) {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_configuration_files_are_refused_clearly() {
    let dir = temp_dir("bad-config");
    let seed = "ab".repeat(32);
    let data = dir.join("empty");
    let cases = [
        ("syntax", "[community\n".to_string(), "line 1"),
        ("unknown-key", format!("colour = 1\n[community]\nissuer_seed = \"{seed}\"\n"), "colour"),
        ("short-seed", "[community]\nissuer_seed = \"00\"\n".into(), "issuer_seed"),
        ("no-community", "data_dir = \"x\"\n".into(), "community"),
        ("bad-listen", format!("[community]\nissuer_seed = \"{seed}\"\n[quic]\nlisten = \"nowhere\"\n"), "listen"),
        ("loss", format!("[community]\nissuer_seed = \"{seed}\"\n[lora]\nmode = \"udp\"\n[lora.udp]\nbind = \"127.0.0.1:1\"\nloss = 2.0\n"), "loss"),
        ("binary", "\u{0}\u{1}\u{2}\u{ff}".into(), "invalid"),
        ("no-identity", format!("data_dir = {data:?}\n[community]\nissuer_seed = \"{seed}\"\n"), "keygen"),
    ];
    for (name, text, needle) in cases {
        let (code, stderr) = run_config(&dir, name, &text);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(
            stderr.contains("invalid_config") && stderr.contains(needle),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = Command::new(BIN)
        .args(["run", "--config", "/nonexistent/qpc.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A QUIC client endpoint with `identity`'s certificate offering only
/// `groups` for the key exchange.
fn client(
    cert: &NodeCertificate,
    peer: Address,
    classical: bool,
) -> (quinn::Endpoint, quinn::ClientConfig) {
    let config = if classical {
        let provider = rustls::crypto::CryptoProvider {
            kx_groups: vec![rustls::crypto::aws_lc_rs::kx_group::X25519],
            ..rustls::crypto::aws_lc_rs::default_provider()
        };
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(tls::PinnedPeers::new(vec![peer]))
            .with_client_auth_cert(vec![cert.certificate.clone()], cert.key.clone_key())
            .unwrap();
        tls.alpn_protocols = vec![tls::ALPN.to_vec()];
        quinn::ClientConfig::new(Arc::new(
            quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap(),
        ))
    } else {
        tls::client_config(cert, peer).unwrap()
    };
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    (endpoint, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bytes_and_peers_are_refused_and_the_node_survives() {
    let dir = temp_dir("hostile");
    let data = dir.join("node");
    let address = keygen(&data);
    let node_address = Address::from_bytes(hex::decode(&address).unwrap().try_into().unwrap());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let pinned = Identity::generate(&mut rng);
    let stranger = Identity::generate(&mut rng);
    let pinned_hex = hex::encode(pinned.public().address().as_bytes());
    let lora = "[lora]\nmode = \"udp\"\n[lora.udp]\nbind = \"127.0.0.1:0\"\n";
    let node = NodeProcess::spawn(&data, &config(&data, Some(0), &[(&pinned_hex, None)], lora));
    let (Some(quic), Some(radio)) = bound(&node).await else {
        panic!("the node reports no bound QUIC port or radio port");
    };

    // Random datagrams to the QUIC port and the radio port, and air packets
    // with a valid header around random frames.
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 0..600usize {
        let mut bytes = vec![0; 1 + (rng.next_u32() as usize % 1400)];
        rng.fill_bytes(&mut bytes);
        if i % 3 == 2 && bytes.len() > 2 {
            bytes[0] = 1;
            bytes[1] = 9;
            bytes.truncate(257);
        }
        let port = if i % 2 == 0 { quic } else { radio };
        socket.send_to(&bytes, ("127.0.0.1", port)).await.unwrap();
    }

    let server: SocketAddr = format!("127.0.0.1:{quic}").parse().unwrap();
    // A classical-only client: refused, `downgrade`.
    let cert = certificate::for_identity(&pinned).unwrap();
    let (endpoint, classical) = client(&cert, node_address, true);
    let result = endpoint
        .connect_with(classical, server, SERVER_NAME)
        .unwrap()
        .await;
    assert!(result.is_err(), "a classical-only handshake succeeded");
    // An authenticated, post-quantum client that is not pinned: refused.
    let (endpoint, unpinned) = client(
        &certificate::for_identity(&stranger).unwrap(),
        node_address,
        false,
    );
    // (TLS 1.3: the client may finish before the server checks its
    // certificate; the server then closes the connection.)
    if let Ok(connection) = endpoint
        .connect_with(unpinned, server, SERVER_NAME)
        .unwrap()
        .await
    {
        let closed = connection.closed().await;
        assert!(
            matches!(closed, quinn::ConnectionError::ConnectionClosed(_)),
            "an unpinned client was not refused: {closed}"
        );
    }
    // The pinned client: connects, then writes garbage on a stream.
    let (endpoint, good) = client(&cert, node_address, false);
    let connection = endpoint
        .connect_with(good, server, SERVER_NAME)
        .unwrap()
        .await
        .unwrap();
    let mut stream = connection.open_uni().await.unwrap();
    stream.write_all(&[0x00, 0x00, 0xde, 0xad]).await.unwrap();
    let _ = stream.finish();
    match connection.closed().await {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(close.error_code, quinn::VarInt::from_u32(1));
            assert_eq!(&close.reason[..], b"malformed");
        }
        other => panic!("unexpected close: {other}"),
    }

    let status = node.ask(json!({"op": "status"})).await;
    assert_eq!(status["ok"], true);
    assert!(status["links"][1]["lost"].as_u64().unwrap() > 0, "{status}");
    let log = node.log_text();
    for class in [
        "class=\"downgrade\"",
        "X25519MLKEM768 is required",
        "class=\"peer_rejected\"",
        "class=\"malformed\"",
    ] {
        assert!(log.contains(class), "log lacks {class}:\n{log}");
    }
    assert!(!log.contains("panicked"), "{log}");
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}
