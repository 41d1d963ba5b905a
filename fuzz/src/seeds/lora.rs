//! Seeds of the LoRa link targets: frames of each kind and near misses
//! failing each check of `spec/11` §6.1–§6.3; reassembly scripts that
//! complete, repeat, conflict, time out and reach every bound.

use super::cat;

/// A genuine-fragment operation of `lora_reassembly` from `source`.
fn fragment(source: u8, datagram: u8, tag: u8, index: u8) -> [u8; 3] {
    [1 | source << 2, datagram | tag << 2, index]
}

/// All fragments of a genuine datagram (22 at most), in order.
fn all(source: u8, datagram: u8, tag: u8, count: u8) -> Vec<u8> {
    (0..count)
        .flat_map(|i| fragment(source, datagram, tag, i))
        .collect()
}

/// Timers after `steps * 97` ms.
fn timers(steps: u8) -> [u8; 1] {
    [2 | steps << 4]
}

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let t = "lora_frame";
    add(t, "whole", vec![0x00, 0x41, 0x10, 0x20]);
    add(
        t,
        "fragment",
        cat(&[&[0x45, 0x12, 0x34, 0x02], &[0xaa; 47]]),
    );
    add(t, "nack", vec![0x95, 0x12, 0x34, 0x01, 0x80, 0x20]);
    add(t, "empty", vec![]);
    add(t, "whole-reserved-bits", vec![0x01, 0xaa]);
    add(t, "whole-empty", vec![0x00]);
    add(t, "reserved-kind", vec![0xc0, 0xaa]);
    add(t, "fragment-short-header", vec![0x41, 0x00, 0x01]);
    add(t, "fragment-one-of-one", vec![0x40, 0, 1, 0, 0xaa]);
    add(t, "fragment-index-above-last", vec![0x41, 0, 1, 2, 0xaa]);
    add(t, "fragment-empty", vec![0x41, 0, 1, 1]);
    add(t, "nack-short-bitmap", vec![0x89, 0, 1, 0xff]);
    add(t, "nack-nothing-missing", vec![0x81, 0, 1, 0]);
    add(t, "nack-above-last", vec![0x81, 0, 1, 4]);
    add(t, "nack-trailing", vec![0x81, 0, 1, 1, 0]);
    add(t, "too-long", vec![0x00; 256]);

    let t = "lora_reassembly";
    // Datagram 0 (60 bytes) is 2 fragments, 1 (200) is 5, 2 (480) is 11,
    // 3 (520) is 12 and longer than the 500-byte limit.
    add(t, "complete-in-order", all(0, 1, 0, 5));
    add(
        t,
        "reverse-with-duplicates",
        cat(&[
            &fragment(1, 1, 3, 4),
            &fragment(1, 1, 3, 3),
            &fragment(1, 1, 3, 3),
            &fragment(1, 1, 3, 2),
            &fragment(1, 1, 3, 1),
            &fragment(1, 1, 3, 0),
        ]),
    );
    add(
        t,
        "loss-nack-repeat",
        cat(&[
            &fragment(0, 1, 0, 0),
            &fragment(0, 1, 0, 2),
            &fragment(0, 1, 0, 4),
            &timers(6),
            &fragment(0, 1, 0, 1),
            &fragment(0, 1, 0, 3),
        ]),
    );
    add(
        t,
        "nacks-then-give-up",
        cat(&[&fragment(2, 2, 0, 5), &timers(6), &timers(6), &timers(6)]),
    );
    add(
        t,
        "lifetime",
        cat(&[
            (0..10)
                .flat_map(|i| cat(&[&fragment(0, 2, 0, i), &timers(4)]))
                .collect::<Vec<u8>>()
                .as_slice(),
            &timers(15),
        ]),
    );
    add(
        t,
        "conflicting-count",
        cat(&[&fragment(0, 0, 5, 0), &fragment(0, 1, 5, 1)]),
    );
    add(
        t,
        "conflicting-bytes",
        cat(&[
            &fragment(0, 0, 0, 0),
            &[0x00, 51, 0x41, 0x00, 0x00, 0x00],
            &[0x5a; 47],
        ]),
    );
    add(t, "datagram-too-long", all(0, 3, 0, 12));
    add(
        t,
        "entries-per-source-and-bytes",
        cat(&[
            &fragment(0, 2, 0, 0),
            &fragment(0, 2, 1, 0),
            &fragment(0, 2, 2, 0),
            &fragment(1, 2, 0, 0),
            &fragment(2, 2, 0, 0),
            &fragment(3, 2, 0, 0),
            &all(0, 2, 0, 11),
        ]),
    );
    add(
        t,
        "whole-and-nack-frames",
        cat(&[
            &[0x00, 3, 0x00, 0x01, 0x02],
            &[0x04, 4, 0x84, 0x00, 0x07, 0x15],
        ]),
    );

    let t = "lora_link";
    // Send datagram 1 (200 bytes, 5 frames); each `carry` lets 3 s pass
    // (an SF12 frame is on air for about 2.5 s) and delivers one frame.
    let carry = |lost: bool| [0x3f, 1 | u8::from(lost) << 4];
    let frames = |n: usize, lose: Option<usize>| -> Vec<u8> {
        (0..n).flat_map(|i| carry(lose == Some(i))).collect()
    };
    add(t, "delivered", cat(&[&[0, 1], &frames(5, None)]));
    add(
        t,
        "lost-nacked-repeated",
        cat(&[
            &[0, 1],
            &frames(5, Some(2)),
            &[0x1f, 0xff, 0xff, 0x2f, 2, 0x3f],
            &frames(2, None),
        ]),
    );
    add(t, "too-long-refused", vec![0, 3, 0x5f, 1]);
    add(t, "queue-full", [0u8, 2].repeat(8));
    add(
        t,
        "injected-frames",
        cat(&[&[3, 5, 0x45, 0, 1, 0, 0xaa], &[4, 3, 0x81, 0, 1], &[0, 0]]),
    );
}
