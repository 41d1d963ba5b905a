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
}
