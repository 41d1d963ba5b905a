//! MLS-Lite beside full MLS (`spec/12-mls-lite.md` §B.6): the same content
//! as an OpenMLS PrivateMessage of qpc's MLS layer (`spec/07`) and as an
//! MLS-Lite message whose keys come from that group's exporter.

use std::time::{SystemTime, UNIX_EPOCH};

use qpc_crypto::identity::Identity;
use qpc_crypto::mls::payload::{ApplicationPayload, ContentType};
use qpc_crypto::mls::{GroupEvent, GroupMember, MlsConfig, Suite};
use qpc_mesh::group_lite::{mls_epoch_secret, GroupLite, OVERHEAD};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The test is the driver: OpenMLS checks key-package lifetimes against
/// the system clock (spec/07 §11).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn member(seed: u8) -> GroupMember {
    GroupMember::new(
        Identity::from_seeds(&[seed; 32], &[seed ^ 0xa5; 32]),
        MlsConfig::default(),
    )
    .unwrap()
}

fn lite(m: &GroupMember, group: &qpc_crypto::mls::GroupId) -> GroupLite {
    let (secret, epoch, index, members) = mls_epoch_secret(m, group).unwrap();
    let mut lite = GroupLite::new(epoch, &secret, index, members, 0, 60_000).unwrap();
    lite.reserve();
    lite
}

#[test]
fn mls_lite_overhead_beside_full_mls() {
    for suite in [Suite::XWing, Suite::Classical] {
        let mut rng = ChaCha20Rng::seed_from_u64(suite.code().into());
        let (mut alice, mut bob) = (member(1), member(2));
        let group = alice.create_group(&mut rng, suite).unwrap();
        let kp = bob.key_package(&mut rng, now_ms(), suite, false).unwrap();
        let commit = alice.add_members(&mut rng, &group, &[&kp]).unwrap();
        bob.join(&mut rng, &commit.welcome.unwrap()).unwrap();
        let (mut lite_alice, mut lite_bob) = (lite(&alice, &group), lite(&bob, &group));
        assert_eq!(lite_alice.destination(), lite_bob.destination());
        for len in [4usize, 100] {
            let text = vec![b'a'; len];
            let (_, mls) = alice
                .send(&mut rng, now_ms(), &group, ContentType::Text, &text, None)
                .unwrap();
            let events = bob.receive(&mut rng, &mls).unwrap();
            assert!(events.iter().any(
                |e| matches!(e, GroupEvent::Message { payload, .. } if payload.body[..] == text[..])
            ));
            let message = lite_alice.seal(&text).unwrap();
            assert_eq!(&lite_bob.open(&message, 0).unwrap().content[..], &text[..]);
            // What MLS encrypts: qpc's payload (spec/07 §6), Padmé-padded.
            let plaintext = ApplicationPayload {
                content_type: ContentType::Text,
                message_id: [0; 16],
                timestamp_ms: 0,
                reply_to: None,
                body: text.clone().into(),
            }
            .to_plaintext()
            .unwrap()
            .len();
            let (mls_overhead, lite_overhead) = (mls.len() - len, message.len() - len);
            let framing = mls.len() - plaintext;
            println!(
                "suite 0x{:04x}, {len} B of text: MLS {} B (overhead {mls_overhead}; {plaintext} B payload plaintext + {framing} B PrivateMessage framing), MLS-Lite {} B (overhead {lite_overhead})",
                suite.code(),
                mls.len(),
                message.len()
            );
            assert_eq!(lite_overhead, OVERHEAD);
            assert!(lite_overhead <= 24);
            assert!(framing > 4 * lite_overhead);
        }
    }
}
