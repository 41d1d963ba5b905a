//! MLS-Lite sealing, opening, replay, epochs and bounds.

use super::*;

const SECRET: [u8; 32] = [0x42; 32];

fn member(index: u16) -> GroupLite {
    let mut m = GroupLite::new(5, &SECRET, index, 3, 0, 1000).unwrap();
    m.reserve();
    m
}

#[test]
fn every_member_opens_once() {
    let (mut a, mut b, mut c) = (member(0), member(1), member(2));
    let m = a.seal(b"hello group").unwrap();
    assert_eq!(m.len(), 11 + OVERHEAD);
    for r in [&mut b, &mut c] {
        let o = r.open(&m, 0).unwrap();
        assert_eq!((o.sender, o.counter, o.epoch), (0, 0, 5));
        assert_eq!(&o.content[..], b"hello group");
        assert_eq!(r.open(&m, 0).unwrap_err().class(), "replayed");
    }
    assert_eq!(a.open(&m, 0).unwrap_err().class(), "replayed");
    assert_eq!(a.destination(), b.destination());
}

#[test]
fn rejections() {
    let (mut a, mut b) = (member(0), member(1));
    let m = a.seal(b"x").unwrap();
    let mut bad = m.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(b.open(&bad, 0).unwrap_err().class(), "open_failed");
    let mut sender = m.clone();
    sender[2] = 9;
    assert_eq!(b.open(&sender, 0).unwrap_err().class(), "unknown_member");
    let mut epoch = m.clone();
    epoch[0] ^= 1;
    assert_eq!(b.open(&epoch, 0).unwrap_err().class(), "wrong_epoch");
    assert_eq!(
        b.open(&m[..OVERHEAD - 1], 0).unwrap_err().class(),
        "truncated"
    );
    // Only the untouched message opens, once.
    assert!(b.open(&m, 0).is_ok());
}

#[test]
fn the_previous_epoch_is_read_for_the_grace_period() {
    let (mut a, mut b) = (member(0), member(1));
    let old = a.seal(b"old").unwrap();
    let old2 = a.seal(b"old2").unwrap();
    b.advance(6, &[0x43; 32], 1, 3, 10_000).unwrap();
    assert_eq!(&b.open(&old, 10_999).unwrap().content[..], b"old");
    assert_eq!(b.open(&old2, 11_000).unwrap_err().class(), "wrong_epoch");
    assert_eq!(b.seal(b"x").unwrap_err().class(), "wrong_state");
}

#[test]
fn sealing_stops_at_the_reservation() {
    let mut a = member(0);
    for _ in 0..RESERVATION {
        a.seal(b"").unwrap();
    }
    assert_eq!(a.seal(b"").unwrap_err().class(), "wrong_state");
    assert_eq!(a.reserve(), 2 * RESERVATION);
    assert_eq!(
        a.seal(&[0; MAX_CONTENT_LEN + 1]).unwrap_err().class(),
        "content_too_long"
    );
}
