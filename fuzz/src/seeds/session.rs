//! Seeds of the `lora_session` and `mls_lite` targets: genuine bodies of
//! every kind and near misses of each length rule, Init mutations, and
//! scripts that seal, lose, reorder, replay, mutate, resume, restart and
//! change epochs.

use qpc_mesh::group_lite::GroupLite;
use qpc_mesh::session::Session;

use crate::session::session_mode::{ACCEPT, RAW, SCRIPT};
use crate::session::SESSION_FIXTURE;

use super::cat;

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let t = "lora_session";
    let f = &*SESSION_FIXTURE;
    let mut alice = Session::restore(&f.alice).expect("fixture");
    alice.export();
    let data = alice.seal(b"ping", 7).expect("seals");
    let init_body = &f.init[22..];
    add(t, "raw-init", cat(&[&[RAW], init_body]));
    add(t, "raw-init-short", cat(&[&[RAW], &init_body[..100]]));
    add(t, "raw-data", cat(&[&[RAW], &data[22..]]));
    add(t, "raw-data-short", cat(&[&[RAW], &data[22..40]]));
    add(t, "raw-resume", cat(&[&[RAW, 4, 0, 1, 0, 1], &[0; 16]]));
    add(t, "raw-resume-long", cat(&[&[RAW, 4], &[0; 21]]));
    add(t, "raw-unknown-kind", vec![RAW, 9, 0, 0]);
    add(t, "accept-genuine", vec![ACCEPT]);
    add(t, "accept-hop-count", vec![ACCEPT, 0, 0x10]);
    add(t, "accept-flip-identity", vec![ACCEPT, 230, 0x01]);
    add(t, "accept-flip-key", vec![ACCEPT, 10, 0x80]);
    // [op, arg]: 0 seal, 1 deliver, 2 deliver mutated, 3 resume, 4 restart.
    add(
        t,
        "script-ratchet",
        vec![SCRIPT, 0, 4, 0, 5, 0, 6, 1, 2, 1, 0, 1, 0, 2, 1, 1, 1],
    );
    add(
        t,
        "script-restart-resume",
        vec![SCRIPT, 0, 4, 4, 0, 0, 7, 1, 1, 3, 0, 0, 9, 1, 2, 1, 0],
    );

    let t = "mls_lite";
    let mut member = GroupLite::new(5, &[5; 32], 0, 3, 0, 100).expect("valid");
    member.reserve();
    let message = member.seal(b"hello").expect("seals");
    add(t, "raw-message", cat(&[&[RAW], &message]));
    add(t, "raw-short", cat(&[&[RAW], &message[..22]]));
    add(t, "raw-long", cat(&[&[RAW], &[0; 1048]]));
    // [op, arg]: 0 seal, 1 deliver, 2 deliver mutated, 3 next epoch.
    add(
        t,
        "script-deliver-replay",
        vec![SCRIPT, 0, 0, 0, 1, 1, 16, 1, 16, 2, 16, 1, 33],
    );
    add(
        t,
        "script-epochs",
        vec![SCRIPT, 0, 0, 3, 5, 1, 16, 3, 50, 1, 16, 0, 2],
    );
}
