//! Seeds of the `mesh_channel` target: genuine unsigned, signed and
//! relayed channel messages, near misses failing each check of
//! `spec/10` §12.4 (lengths, channel id, tag, hop limit, flags, signature),
//! and flood scheduler scripts that transmit and suppress.

use crate::channel::channel_mode::{BUILD, FLOOD, RAW};
use crate::channel::genuine_channel_message;

use super::cat;

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let t = "mesh_channel";
    // BUILD specs: flags (bit 0 signed, bit 1 relayed, hop limit << 4),
    // content length, then (position, mask) pairs.
    add(t, "build-unsigned", vec![BUILD, 0x70, 10]);
    add(t, "build-signed-relayed", vec![BUILD, 0x73, 20]);
    add(t, "build-unsigned-longest", vec![BUILD, 0xf2, 101]);
    add(t, "build-signed-longest", vec![BUILD, 0xf1, 37]);
    add(t, "build-flipped-tag", vec![BUILD, 0x70, 10, 72, 0x01]);
    add(t, "build-raised-hop-limit", vec![BUILD, 0x70, 10, 1, 0x01]);
    add(t, "build-other-channel", vec![BUILD, 0x70, 10, 2, 0x80]);
    add(t, "build-hop-count-changed", vec![BUILD, 0x72, 10, 1, 0x10]);
    let genuine = genuine_channel_message(&[0x70, 10]).expect("spec");
    add(t, "raw-unsigned", cat(&[&[RAW], &genuine]));
    add(t, "raw-truncated-body", cat(&[&[RAW], &genuine[..62]]));
    add(t, "raw-long-body", cat(&[&[RAW], &genuine, &[0; 100]]));
    add(t, "raw-type-7", cat(&[&[RAW, 0x27], &genuine[1..]]));
    add(t, "empty", vec![RAW]);
    // FLOOD scripts: [op, id, step]; op 0 schedule, 1 heard, 2 release.
    add(
        t,
        "flood-transmit-and-suppress",
        vec![FLOOD, 0, 1, 0, 0, 2, 0, 1, 2, 1, 1, 2, 1, 2, 255, 0],
    );
    add(
        t,
        "flood-full",
        vec![
            FLOOD, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 2, 0, 120,
        ],
    );
}
