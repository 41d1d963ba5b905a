//! The independent oracles of the qpc-crypto targets are themselves right:
//! checked against other implementations and the boundary cases.

use qpc_fuzz::{
    ed25519_is_canonical, expected_padme, mlkem_key_is_reduced, x25519_is_low_order,
    ED25519_SMALL_ORDER,
};

#[test]
fn ed25519_small_order_list_is_weak_and_canonical() {
    for point in ED25519_SMALL_ORDER {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&point).expect("a point");
        assert!(key.is_weak(), "{point:02x?}");
        assert_eq!(key.to_edwards().compress().as_bytes(), &point);
        assert!(ed25519_is_canonical(&point));
    }
}

#[test]
fn ed25519_canonical_boundaries() {
    for seed in 0..32u8 {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
        assert!(ed25519_is_canonical(key.as_bytes()));
    }
    // y = p - 1 is canonical, y = p and beyond are not, whatever the sign.
    let mut y = [0xffu8; 32];
    y[31] = 0x7f;
    for (low, canonical) in [(0xec, true), (0xed, false), (0xf0, false), (0xff, false)] {
        y[0] = low;
        assert_eq!(ed25519_is_canonical(&y), canonical, "{low:02x}");
    }
    // x = 0 with the sign bit: (0, 1) and (0, -1) have no negative form.
    let mut one = [0u8; 32];
    one[0] = 1;
    one[31] = 0x80;
    assert!(!ed25519_is_canonical(&one));
}

#[test]
fn x25519_low_order_list_is_what_rustcrypto_rejects() {
    use x_wing::TryDecapsulate;
    let theirs = x_wing::DecapsulationKeyRejectNonContrib::from(qpc_fuzz::fixtures::BOB_SEEDS.1);
    let key = qpc_fuzz::fixtures::recipient_key();
    let (ct, _) = key.public_key().encapsulate_derand(&[3; 64]).unwrap();
    let honest = ct.to_bytes();
    let mut candidates: Vec<[u8; 32]> = Vec::new();
    for low in [0x00u8, 0x01, 0x02, 0xeb, 0xec, 0xed, 0xee, 0xef] {
        let mut small = [0u8; 32];
        small[0] = low;
        let mut large = [0xffu8; 32];
        large[0] = low;
        large[31] = 0x7f;
        candidates.extend([small, large]);
    }
    candidates.push(honest[1088..].try_into().unwrap());
    let mut low_order = 0;
    for mut u in candidates {
        for high in [0, 0x80] {
            u[31] = (u[31] & 0x7f) | high;
            let mut ct = honest;
            ct[1088..].copy_from_slice(&u);
            let rejected = theirs.try_decapsulate(ct[..].try_into().unwrap()).is_err();
            assert_eq!(x25519_is_low_order(&u), rejected, "{u:02x?}");
            low_order += usize::from(rejected);
        }
    }
    // 0, 1, p - 1, p, p + 1, each with and without bit 255.
    assert_eq!(low_order, 10);
}

#[test]
fn mlkem_reduction_boundary() {
    let key = qpc_fuzz::fixtures::recipient_key().public_key().to_bytes();
    assert!(mlkem_key_is_reduced(&key[..1184]));
    for (coefficient, reduced) in [(3328u16, true), (3329, false), (4095, false)] {
        // The second coefficient of the first triple: bits 12..24.
        let mut k = key;
        k[1] = (k[1] & 0x0f) | ((coefficient & 0x0f) as u8) << 4;
        k[2] = (coefficient >> 4) as u8;
        assert_eq!(mlkem_key_is_reduced(&k[..1184]), reduced, "{coefficient}");
        assert_eq!(
            x_wing::EncapsulationKey::try_from(&k[..]).is_ok(),
            reduced,
            "{coefficient}"
        );
    }
}

#[test]
fn padme_oracle_matches_on_small_lengths() {
    for len in 0..100_000usize {
        assert_eq!(
            expected_padme(len as u64),
            qpc_crypto::padding::padme(len) as u128
        );
    }
}

/// The pqXX harness's own encodings agree with qpc-crypto and with the
/// sizes of `spec/06` §7.2.
#[test]
fn pqxx_harness_encodings() {
    use qpc_fuzz::fixtures::pqxx::{self as fx, Binding, Message, Payload};
    use qpc_wire::codec;

    assert_eq!(
        fx::classical_psk(),
        *qpc_crypto::pqxx::derive_psk(None),
        "classical psk"
    );
    for (identity, local) in [
        (qpc_fuzz::fixtures::alice(), fx::alice_static()),
        (qpc_fuzz::fixtures::bob(), fx::bob_static()),
        (qpc_fuzz::fixtures::carol(), fx::carol_static()),
    ] {
        let mut ours = Vec::new();
        Binding::genuine(identity, local.public()).encode(&mut ours);
        assert_eq!(ours.len(), fx::BINDING_LEN);
        assert_eq!(ours, codec::encode_to_vec(local.binding()).unwrap());
    }
    assert_eq!(Binding::signed_bytes(&[1; 32], &[2; 32], 3).len(), 72);

    // spec/06 §7.2 with the fixed applications (12, 10 and 11 bytes).
    let pq = fx::transcript(false);
    let cl = fx::transcript(true);
    let app = |n: usize| n + 1;
    assert_eq!(pq.m1.len(), 32 + 1 + 1184 + app(12) + 16);
    assert_eq!(cl.m1.len(), 32 + 1 + app(12) + 16);
    assert_eq!(pq.m2.len(), 32 + 48 + 1 + 1088 + 136 + app(10) + 16);
    assert_eq!(cl.m2.len(), 32 + 48 + 1 + 136 + app(10) + 16);
    assert_eq!(pq.m3.len(), 48 + 136 + app(11) + 16);
    assert_eq!(cl.m3.len(), pq.m3.len());
    for (message, payload) in [
        (Message::One, &pq.payload1),
        (Message::One, &cl.payload1),
        (Message::Two, &pq.payload2),
        (Message::Two, &cl.payload2),
        (Message::Three, &pq.payload3),
    ] {
        let decoded = Payload::decode(message, payload, 64_000).unwrap();
        assert_eq!(&decoded.encode(message), payload);
    }
    let p2 = Payload::decode(Message::Two, &pq.payload2, 64_000).unwrap();
    assert_eq!(
        p2.binding.unwrap(),
        Binding::genuine(qpc_fuzz::fixtures::bob(), fx::bob_static().public())
    );
    // The prologue of §4, as the harness computes it, is what qpc binds:
    // the harness's message 1 is the genuine one (checked when the
    // transcript is built) and another context is refused.
    let mut other = fx::noise_initiator(&fx::ALICE_STATIC, fx::OTHER_CONTEXT);
    let m1 = other.write(&pq.payload1).unwrap();
    assert_ne!(m1, pq.m1);
    let mut bob = fx::responder(fx::Policy::Strict.config());
    assert_eq!(
        bob.read_message_1(&m1).err(),
        Some(qpc_crypto::Error::OpenFailed)
    );
}

/// The transport op encoding round-trips.
#[test]
fn pqxx_ops_round_trip() {
    use qpc_fuzz::fixtures::pqxx::{encode_ops, ops, Op};
    let literal = [7u8; 239];
    for datagram in [false, true] {
        let list = [
            Op::Genuine(0),
            Op::Literal(&[]),
            Op::Literal(&literal),
            Op::Genuine(15),
            Op::Genuine(if datagram { 4095 } else { 3 }),
        ];
        assert_eq!(ops(&encode_ops(&list, datagram), datagram), list);
    }
    // A truncated literal keeps what is there; a datagram op without its
    // second byte is dropped.
    assert_eq!(ops(&[5, 1, 2], false), [Op::Literal(&[1, 2])]);
    assert_eq!(ops(&[0xf1], true), []);
    assert_eq!(ops(&[0xf1, 0x02], true), [Op::Genuine(0x102)]);
}
