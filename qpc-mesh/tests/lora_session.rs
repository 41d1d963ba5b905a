//! A LoRa session on air (`spec/12-mls-lite.md` §A.9, §A.10): the
//! establishment fragmented by the LoRa link layer, its airtime at SF7 and
//! SF12, and a steady-state message inside a real mesh envelope of type
//! Session in one Whole link frame.

use bytes::Bytes;
use qpc_crypto::identity::Identity;
use qpc_mesh::envelope::MessageType;
use qpc_mesh::lora::airtime::time_on_air_ns;
use qpc_mesh::lora::fragment::split;
use qpc_mesh::lora::frame::LinkFrame;
use qpc_mesh::lora::profile::{Eu868SubBand, LinkProfile, RadioParams, RadioProfile, Region};
use qpc_mesh::message::Message;
use qpc_mesh::session::{accept, Initiator, Received, SessionMessage};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn eu868(sf: u8) -> LinkProfile {
    let radio = RadioProfile::new(RadioParams::lorawan(sf)).unwrap();
    LinkProfile::new(radio, Region::Eu868(Eu868SubBand::G1)).unwrap()
}

/// (fragments, bytes on air, airtime ms) of one datagram over `link`.
fn on_air(datagram: &[u8], link: &LinkProfile) -> (usize, usize, f64) {
    let frames = split(&Bytes::copy_from_slice(datagram), link.mtu(), 0).unwrap();
    let bytes = frames.iter().map(Bytes::len).sum();
    let ns: u64 = frames
        .iter()
        .map(|f| time_on_air_ns(link.radio(), f.len()).unwrap())
        .sum();
    (frames.len(), bytes, ns as f64 / 1e6)
}

#[test]
fn establishment_and_a_4_byte_message_on_air() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (alice, bob) = (Identity::generate(&mut rng), Identity::generate(&mut rng));
    let initiator = Initiator::start(&mut rng, &alice, bob.public(), 0x0001, 7).unwrap();
    let mut accepted = accept(&mut rng, &bob, initiator.datagram(), 0x0002, 7).unwrap();
    let mut session = initiator.finish(&accepted.datagram).unwrap();
    session.export();

    // spec §A.10: fragments, bytes on air and airtime per message and SF.
    let want = [
        (7, (12, 2553, 4022.272), (6, 1187, 1880.576)),
        (12, (54, 2721, 132_005.888), (25, 1263, 61_153.28)),
    ];
    let got: Vec<_> = want
        .iter()
        .map(|&(sf, ..)| {
            let link = eu868(sf);
            let init = on_air(initiator.datagram(), &link);
            let response = on_air(&accepted.datagram, &link);
            println!(
                "SF{sf} (MTU {}): Init {init:?}, Response {response:?}",
                link.mtu()
            );
            (sf, init, response)
        })
        .collect();
    assert_eq!(got, want);

    let datagram = session.seal(b"ping", 7).unwrap();
    let Message::Session(packet) = Message::decode(Bytes::from(datagram.clone())).unwrap() else {
        panic!("a Session message")
    };
    assert_eq!(packet.header.message_type, MessageType::Session);
    assert_eq!(packet.header.destination, bob.public().address());
    assert!(matches!(
        SessionMessage::decode(packet.body).unwrap(),
        SessionMessage::Data(_)
    ));
    let frame = LinkFrame::Whole(Bytes::from(datagram.clone()))
        .to_bytes()
        .unwrap();
    println!("4-byte text: {} bytes on air", frame.len());
    assert_eq!(frame.len(), 46);
    assert!(frame.len() <= 48 && frame.len() <= eu868(12).mtu());
    let airtime_ms = |sf| time_on_air_ns(eu868(sf).radio(), frame.len()).unwrap() as f64 / 1e6;
    println!(
        "airtime: SF7 {} ms, SF12 {} ms",
        airtime_ms(7),
        airtime_ms(12)
    );
    assert_eq!((airtime_ms(7), airtime_ms(12)), (92.416, 2301.952));
    let Received::Content { content, .. } = accepted.session.open(&datagram).unwrap() else {
        panic!("content")
    };
    assert_eq!(&content[..], b"ping");
}
