//! Seeds of the reference node's decoder targets: KISS streams with every
//! refusal of `spec/30` §8, air packets at each check of §7.1, and stream
//! frames of both formats ending at each class of §6 / §9.

use super::cat;

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let t = "node_kiss";
    add(
        t,
        "worked-example",
        vec![7, 0xc0, 0x00, 0x00, 0xdb, 0xdc, 0xdb, 0xdd, 0x11, 0xc0],
    );
    add(
        t,
        "noise-then-two-frames",
        vec![0, 1, 2, 0xc0, 0xc0, 0, 5, 0xc0, 0, 6, 0xc0],
    );
    add(
        t,
        "bad-escape",
        vec![3, 0xc0, 0, 0xdb, 0x01, 0xc0, 0, 7, 0xc0],
    );
    add(t, "escape-at-end", vec![1, 0xc0, 0, 0xdb, 0xc0]);
    add(t, "other-command", vec![2, 0xc0, 0x06, 1, 0xc0]);
    add(t, "empty-data-frame", vec![2, 0xc0, 0x00, 0xc0]);
    add(
        t,
        "too-long",
        cat(&[&[63, 0xc0, 0x00], &[0x55; 256], &[0xc0, 0, 1, 0xc0]]),
    );
    add(
        t,
        "longest",
        cat(&[&[9, 0xc0, 0x00], &[0xdb, 0xdc].repeat(255), &[0xc0]]),
    );
    add(t, "unclosed", vec![4, 0xc0, 0, 1, 2, 3]);

    let t = "node_air_packet";
    add(
        t,
        "worked-example",
        vec![0x01, 0x09, 0x00, 0xc0, 0xdb, 0x11],
    );
    add(t, "shortest", vec![0x01, 0x07, 0x00]);
    add(t, "truncated", vec![0x01, 0x09]);
    add(t, "longest", cat(&[&[0x01, 0x0c], &[0x42; 255]]));
    add(t, "too-long", cat(&[&[0x01, 0x0c], &[0x42; 256]]));
    add(t, "version-2", vec![0x02, 0x09, 0x00]);

    let t = "node_stream_frames";
    add(
        t,
        "quic-worked-example",
        vec![0x05, 0x00, 0x04, 0x00, 0xc0, 0xdb, 0x11],
    );
    add(
        t,
        "quic-two-frames",
        vec![0x00, 0x00, 0x01, 0xaa, 0x00, 0x02, 0xbb, 0xcc],
    );
    add(t, "quic-zero-length", vec![0x01, 0x00, 0x00]);
    add(t, "quic-too-large", vec![0x01, 0x40, 0x01, 0x00]);
    add(
        t,
        "quic-longest",
        cat(&[&[0x3f, 0x40, 0x00], &[0x11; 16_384]]),
    );
    add(t, "quic-truncated", vec![0x02, 0x00, 0x05, 0x01]);
    add(
        t,
        "control-status",
        cat(&[&[0x80 | 0x07, 0, 0, 0, 15], br#"{"op":"status"}"#]),
    );
    add(t, "control-too-large", vec![0x80, 0x00, 0x10, 0x00, 0x01]);
    add(t, "control-truncated-prefix", vec![0x81, 0x00, 0x00]);

    secured_seeds(add);
}

/// Seeds of `node_secured`: a genuine message 1 for the target's engine,
/// stray handshake messages and records, cleartext unicast and broadcast
/// envelopes, and each decoding refusal of `spec/30` §15.1.
fn secured_seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    use bytes::Bytes;
    use qpc_crypto::identity::{Address, Identity};
    use qpc_mesh::envelope::{Header, HopId, MessageType};
    use qpc_node::lora::pqlink::{PqLink, PqLinkConfig};
    use rand_chacha::rand_core::SeedableRng;

    let t = "node_secured";
    let target = Identity::from_seeds(&[0x51; 32], &[0x52; 32])
        .public()
        .address();
    let sender = Identity::from_seeds(&[0x61; 32], &[0x62; 32]);
    let envelope = |message_type, hop_id: Option<&Address>| {
        let header = Header {
            message_type,
            hop_count: 0,
            hop_limit: 8,
            destination: target,
            message_id: 5,
            hop_id: hop_id.map(HopId::of),
        };
        let mut out = Vec::new();
        header.encode(&mut out).expect("a valid header");
        out.extend_from_slice(&[0x42; 8]);
        out
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let mut link = PqLink::new(&sender, PqLinkConfig::default(), 0, &mut rng).expect("engine");
    let sealed = envelope(MessageType::Sealed, Some(&target));
    link.send(Bytes::from(sealed.clone()), 0, &mut rng)
        .expect("queued for a handshake");
    let (_, message_1) = link.poll_transmit().expect("message 1");
    add(t, "message-1-genuine", cat(&[&[0], &message_1]));
    let header = |code: u8| {
        cat(&[
            &[1, 0x01],
            &[0; 8],
            &HopId::of(&sender.public().address()).0,
            &[0x01, 0x01, code],
        ])
    };
    add(
        t,
        "message-2-stray",
        cat(&[&header(0x02), &[0x05], &[0x22; 5]]),
    );
    add(
        t,
        "message-3-stray",
        cat(&[&header(0x03), &[0x05], &[0x33; 5]]),
    );
    add(
        t,
        "record-no-session",
        cat(&[&header(0x05), &[0x18], &[0x55; 24]]),
    );
    add(t, "stream-record", cat(&[&header(0x04), &[0x01], &[0x44]]));
    add(t, "clear-unicast", cat(&[&[0], &sealed]));
    add(
        t,
        "clear-hop-ack",
        cat(&[&[0], &envelope(MessageType::HopAck, Some(&target))]),
    );
    add(
        t,
        "clear-announce",
        cat(&[&[0], &envelope(MessageType::Announce, None)]),
    );
    add(t, "truncated", vec![0, 0x01, 0xaa]);
    add(t, "no-frame", cat(&[&[1, 0x01], &[0; 16]]));
    add(
        t,
        "too-large",
        cat(&[&[1, 0x01], &[0; 16], &[0x01, 0x01, 0x05, 0x80, 0x01, 0, 0]]),
    );

    fapp_rows(add);
}

/// `node_fapp_rows`: genuine rows of both tables (every slot state, an
/// announce and a withdrawal), then rows one rule away from them.
fn fapp_rows(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    use qpc_crypto::identity::{Address, Identity};
    use qpc_crypto::xwing::XWingSecretKey;
    use qpc_fapp::announce::{licence_hash, SlotAnnounce};
    use qpc_fapp::model::{Kinds, Slot};
    use qpc_fapp::therapist::{SlotStatus, TherapistState};
    use qpc_node::config::TherapistProfile;
    use qpc_node::fapp::{encode_cache_row, encode_therapist_row, practice};
    use rand_chacha::rand_core::SeedableRng;

    let t = "node_fapp_rows";
    let profile = TherapistProfile {
        licence: "LANR-123456789".into(),
        plz: "10115".into(),
        methods: vec!["behavioural".into()],
        age_groups: vec!["adults".into()],
        modalities: vec!["video".into()],
        payers: vec!["gkv".into()],
        features: vec![],
        languages: vec!["de".into()],
        hold_ms: 60_000,
        auto_confirm: false,
    };
    let slot = |id| Slot {
        id,
        start_ms: 1_800_000_000_000 + u64::from(id) * 3_600_000,
        duration_min: 50,
        kind: Kinds::CONSULTATION,
    };
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    let key = XWingSecretKey::generate(&mut rng).public_key().clone();
    let state = TherapistState {
        licence_hash: licence_hash(&profile.licence),
        practice: practice(&profile).expect("a valid profile"),
        sequence: 12,
        refresh_at_ms: 1_800_000_000_000,
        slots: vec![
            (slot(1), SlotStatus::Free),
            (
                slot(2),
                SlotStatus::Held {
                    request_id: [2; 16],
                    until_ms: 1_800_000_060_000,
                    reply_address: Address::from_bytes([3; 16]),
                    reply_key: Box::new(key),
                },
            ),
            (
                slot(3),
                SlotStatus::Booked {
                    request_id: [4; 16],
                },
            ),
        ],
    };
    let row = encode_therapist_row(&profile, &state).expect("encodes");
    add(t, "therapist-every-state", cat(&[&[0], &row]));
    let text = String::from_utf8(row).expect("JSON");
    add(
        t,
        "therapist-bad-kind",
        cat(&[
            &[0],
            text.replacen("\"kind\":1", "\"kind\":3", 1).as_bytes(),
        ]),
    );
    add(
        t,
        "therapist-duplicate-slot",
        cat(&[&[0], text.replacen("\"id\":2", "\"id\":1", 1).as_bytes()]),
    );
    add(t, "therapist-empty-object", b"\x00{}".to_vec());
    let identity = Identity::from_seeds(&[1; 32], &[2; 32]);
    let announce = SlotAnnounce::sign(
        &identity,
        state.licence_hash,
        12,
        1_800_086_400_000,
        60_000,
        state.practice.clone(),
        vec![slot(1)],
    )
    .expect("signs");
    let cached = encode_cache_row(12, 1_800_086_400_000, Some(&announce)).expect("encodes");
    add(t, "cache-announce", cat(&[&[1], &cached]));
    let withdrawn = encode_cache_row(13, 1_800_086_400_000, None).expect("encodes");
    add(t, "cache-withdrawal", cat(&[&[1], &withdrawn]));
    add(
        t,
        "cache-bad-hex",
        b"\x01{\"sequence\":1,\"expires_ms\":2,\"announce\":\"zz\"}".to_vec(),
    );
    add(t, "empty", Vec::new());
}
