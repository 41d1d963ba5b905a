//! The LoRa session and MLS-Lite targets (`spec/12-mls-lite.md`): body
//! decoders against the layouts of §A.2 and §B.3 computed independently,
//! and scripted state machines (sessions restored from a fixed
//! establishment, MLS-Lite members of a fixed secret) fed genuine, lost,
//! replayed and mutated messages.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use bytes::Bytes;
use qpc_crypto::identity::Identity;
use qpc_mesh::envelope::Envelope;
use qpc_mesh::group_lite::{GroupLite, LiteMessage};
use qpc_mesh::session::{accept, Initiator, Received, Session, SessionMessage};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Input selector (first byte, modulo 3) of [`lora_session`] and (modulo
/// 2) of [`mls_lite`].
pub mod session_mode {
    /// The rest is a body to decode.
    pub const RAW: u8 = 0;
    /// The rest is a script of 2-byte operations.
    pub const SCRIPT: u8 = 1;
    /// [`super::lora_session`] only: the rest is (position, xor mask)
    /// pairs applied to a genuine Init, which the responder then checks.
    pub const ACCEPT: u8 = 2;
}

/// A fixed establishment: the responder, the Init, and both sessions'
/// exported state.
pub struct SessionFixture {
    /// The responder.
    pub bob: Identity,
    /// The genuine Init datagram.
    pub init: Vec<u8>,
    /// Alice's (initiator) exported session.
    pub alice: Vec<u8>,
    /// Bob's exported session.
    pub bob_session: Vec<u8>,
}

/// The fixture, established once per process.
pub static SESSION_FIXTURE: LazyLock<SessionFixture> = LazyLock::new(|| {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5e55);
    let alice = Identity::from_seeds(&[0x51; 32], &[0x52; 32]);
    let bob = Identity::from_seeds(&[0x53; 32], &[0x54; 32]);
    let initiator = Initiator::start(&mut rng, &alice, bob.public(), 0xa1a1, 7).expect("starts");
    let mut accepted = accept(&mut rng, &bob, initiator.datagram(), 0xb0b0, 7).expect("accepts");
    let mut session = initiator.finish(&accepted.datagram).expect("finishes");
    SessionFixture {
        init: initiator.datagram().to_vec(),
        alice: session.export().to_vec(),
        bob_session: accepted.session.export().to_vec(),
        bob,
    }
});

/// §A.2 S1–S3 independently: the kind, or the class.
fn expected_session_body(d: &[u8]) -> Result<u8, &'static str> {
    let kind = *d.first().ok_or("truncated")?;
    let exact = |len: usize| match d.len() {
        n if n < len => Err("truncated"),
        n if n > len => Err("trailing_bytes"),
        _ => Ok(kind),
    };
    match kind {
        1 => exact(1 + 1216 + 1120 + 146),
        2 => exact(1 + 2 + 1120 + 18),
        3 if d.len() < 19 => Err("truncated"),
        3 if d.len() > 19 + 1024 => Err("content_too_long"),
        3 => Ok(3),
        4 => exact(21),
        _ => Err("malformed"),
    }
}

fn kind_of(m: &SessionMessage) -> u8 {
    match m {
        SessionMessage::Init(_) => 1,
        SessionMessage::Response(_) => 2,
        SessionMessage::Data(_) => 3,
        SessionMessage::Resume(_) => 4,
    }
}

/// The originated header and body: what a relay may not change.
fn end_to_end(datagram: &[u8]) -> Option<(Vec<u8>, Bytes)> {
    let e = Envelope::decode(Bytes::copy_from_slice(datagram)).ok()?;
    Some((e.header.originated().ok()?.to_vec(), e.body))
}

fn mutate(genuine: &[u8], pairs: &[u8]) -> Vec<u8> {
    let mut d = genuine.to_vec();
    for p in pairs.chunks_exact(2) {
        let at = usize::from(p[0]) * 11 % d.len();
        d[at] ^= p[1];
    }
    d
}

/// Fuzzes the Session body decoder, the responder's Init checks and a
/// scripted pair of sessions: a decoded body has the layout's kind and
/// re-encodes to the input; a mutated Init or Data opens only if the
/// mutation left the originated header and body unchanged; each genuine
/// Data opens at most once, with the content it was sealed with.
pub fn lora_session(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        session_mode::RAW => {
            let got = SessionMessage::decode(Bytes::copy_from_slice(rest));
            match (expected_session_body(rest), got) {
                (Err(class), Err(e)) => assert_eq!(e.class(), class),
                (Ok(kind), Ok(m)) => {
                    assert_eq!(kind_of(&m), kind);
                    assert_eq!(m.to_bytes().expect("re-encodes"), rest);
                }
                (want, got) => panic!("expected {want:?}, got {got:?}"),
            }
        }
        session_mode::ACCEPT => {
            let f = &*SESSION_FIXTURE;
            let d = mutate(&f.init, rest);
            let mut rng = ChaCha20Rng::seed_from_u64(1);
            if accept(&mut rng, &f.bob, &d, 0xb0b0, 7).is_ok() {
                assert_eq!(
                    end_to_end(&d),
                    end_to_end(&f.init),
                    "a changed Init accepted"
                );
            }
        }
        _ => session_script(rest),
    }
}

fn session_script(ops: &[u8]) {
    let f = &*SESSION_FIXTURE;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut alice = Session::restore(&f.alice).expect("fixture");
    let mut bob = Session::restore(&f.bob_session).expect("fixture");
    let mut alice_saved = alice.export();
    bob.export();
    let mut sent: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut opened = BTreeSet::new();
    for op in ops.chunks_exact(2).take(64) {
        let arg = op[1];
        match op[0] % 5 {
            0 => {
                let content = vec![arg; usize::from(arg % 40)];
                let d = alice.seal(&content, 7).or_else(|_| {
                    alice_saved = alice.export();
                    alice.seal(&content, 7)
                });
                if let Ok(d) = d {
                    sent.push((d, content));
                }
            }
            1 | 2 if !sent.is_empty() => {
                let (genuine, content) = &sent[usize::from(arg) % sent.len()];
                let d = if op[0] % 5 == 1 {
                    genuine.clone()
                } else {
                    mutate(genuine, &[arg, 1 << (arg % 8)])
                };
                if let Ok(received) = bob.open(&d) {
                    assert_eq!(end_to_end(&d), end_to_end(genuine), "a changed Data opened");
                    let Received::Content { content: got, .. } = received else {
                        panic!("a Data datagram opened as {received:?}")
                    };
                    assert_eq!(&got[..], &content[..]);
                    assert!(opened.insert(genuine.clone()), "a Data opened twice");
                }
            }
            3 => {
                if let Ok(resume) = bob.resume(&mut rng, 7) {
                    bob.export();
                    if let Ok(Received::Resumed { .. }) = alice.open(&resume) {
                        let answer = alice.resume_answer(&mut rng, 7).expect("answer");
                        assert!(matches!(
                            bob.open(&answer),
                            Ok(Received::ResumeConfirmed { .. })
                        ));
                    }
                }
            }
            4 => {
                alice = Session::restore(&alice_saved).expect("own export");
                alice_saved = alice.export();
            }
            _ => {}
        }
    }
}

/// §B.3 G1 independently.
fn expected_lite(d: &[u8]) -> Result<(), &'static str> {
    match d.len() {
        n if n < 23 => Err("truncated"),
        n if n > 23 + 1024 => Err("content_too_long"),
        _ => Ok(()),
    }
}

/// Fuzzes the MLS-Lite decoder and three scripted members: a decoded
/// message re-encodes to the input; a message opens only unchanged, at
/// most once per receiver, never at its sender, with its content.
pub fn mls_lite(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == session_mode::RAW {
        let got = LiteMessage::decode(Bytes::copy_from_slice(rest));
        match (expected_lite(rest), got) {
            (Err(class), Err(e)) => assert_eq!(e.class(), class),
            (Ok(()), Ok(m)) => {
                assert_eq!(m.header.to_bytes()[..], rest[..7]);
                assert_eq!(m.to_bytes().expect("re-encodes"), rest);
            }
            (want, got) => panic!("expected {want:?}, got {got:?}"),
        }
        return;
    }
    let secret = |epoch: u64| [epoch as u8; 32];
    let mut members: Vec<GroupLite> = (0..3)
        .map(|i| GroupLite::new(5, &secret(5), i, 3, 0, 100).expect("valid"))
        .collect();
    let mut sent: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut opened = BTreeMap::new();
    let mut now = 0u64;
    for op in rest.chunks_exact(2).take(64) {
        let arg = op[1];
        match op[0] % 4 {
            0 => {
                let from = usize::from(arg) % 3;
                let content = vec![arg; usize::from(arg % 32)];
                let m = &mut members[from];
                let sealed = m.seal(&content).or_else(|_| {
                    m.reserve();
                    m.seal(&content)
                });
                if let Ok(message) = sealed {
                    sent.push((from, message, content));
                }
            }
            1 | 2 if !sent.is_empty() => {
                let (from, genuine, content) = &sent[usize::from(arg) % sent.len()];
                let to = usize::from(arg / 16) % 3;
                let d = if op[0] % 4 == 1 {
                    genuine.clone()
                } else {
                    mutate(genuine, &[arg, 1 << (arg % 8)])
                };
                if let Ok(o) = members[to].open(&d, now) {
                    assert_eq!(&d, genuine, "a changed message opened");
                    assert_ne!(to, *from, "opened by its sender");
                    assert_eq!(&o.content[..], &content[..]);
                    let seen = opened.entry(to).or_insert_with(BTreeSet::new);
                    assert!(seen.insert(genuine.clone()), "opened twice");
                }
            }
            3 => {
                now += u64::from(arg) * 10;
                for (i, m) in members.iter_mut().enumerate() {
                    let next = m.epoch() + 1;
                    m.advance(next, &secret(next), i as u16, 3, now)
                        .expect("forward");
                }
            }
            _ => {}
        }
    }
}
