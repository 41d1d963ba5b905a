//! Seeds of the OPAQUE targets: the genuine frames and stored formats of
//! the fixed transcript ([`crate::opaque::FIXTURE`]) and near misses that
//! fail one named check.

use crate::opaque::{FIXTURE, MASK};

use super::{cat, flip, with};

/// Adds the OPAQUE seeds.
pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let f = &*FIXTURE;
    let request = f.request.to_frame();
    let response = f.response.to_frame();
    let upload = f.upload.to_frame();
    let ke1 = f.ke1.to_frame();
    let ke2 = f.ke2.to_frame();
    let ke3 = f.ke3.to_frame();
    let record = f.record.to_bytes();
    let keys = f.server.keys_to_bytes().to_vec();

    let t = "opaque_messages";
    for (i, (name, frame)) in [
        ("registration-request", &request),
        ("registration-response", &response),
        ("registration-record", &upload),
        ("ke1", &ke1),
        ("ke2", &ke2),
        ("ke3", &ke3),
    ]
    .into_iter()
    .enumerate()
    {
        add(t, name, cat(&[&[i as u8], frame]));
    }
    add(t, "ke2-truncated", cat(&[&[4], &ke2[..ke2.len() - 1]]));
    add(
        t,
        "ke1-identity-element",
        cat(&[&[3], &with(ke1.clone(), 5, &[0; 32])]),
    );
    add(t, "ke3-as-ke2", cat(&[&[4], &ke3]));
    add(
        t,
        "ke1-non-minimal-length",
        cat(&[&[3], &[1, 0x01, 0x13, 0x80, 0x00, 0x00, 0x60], &ke1[5..]]),
    );
    add(t, "stored-record", cat(&[&[6], &record]));
    add(
        t,
        "stored-record-version-2",
        cat(&[&[6], &with(record.clone(), 0, &[2])]),
    );
    add(
        t,
        "stored-record-suite-1",
        cat(&[&[6], &with(record.clone(), 1, &[1])]),
    );
    add(t, "server-keys", cat(&[&[7], &keys]));
    add(
        t,
        "server-keys-truncated",
        cat(&[&[7], &keys[..keys.len() - 1]]),
    );

    let t = "opaque_client_login";
    add(t, "genuine-frame", cat(&[&[0], &ke2]));
    add(t, "genuine-masked", vec![MASK]);
    add(
        t,
        "flipped-masked-response",
        cat(&[&[MASK], &[0; 100], &[1]]),
    );
    add(t, "flipped-server-mac", cat(&[&[MASK], &[0; 300], &[0x80]]));
    add(
        t,
        "identity-evaluation",
        cat(&[&[MASK], &f.ke2.as_bytes()[..32]]),
    );
    add(t, "ke3-frame", cat(&[&[0], &ke3]));
    add(t, "flipped-frame", cat(&[&[0], &flip(ke2.clone(), 200, 4)]));

    let t = "opaque_server_login";
    add(t, "genuine-frame", cat(&[&[0], &ke3]));
    add(t, "genuine-masked", vec![MASK]);
    add(t, "flipped-ke3", cat(&[&[MASK], &[0; 7], &[0x10]]));
    add(t, "genuine-ke1-frame", cat(&[&[0x02], &ke1]));
    add(t, "unknown-user", cat(&[&[0x06], &ke1]));
    add(t, "other-ke1", cat(&[&[0x02], &flip(ke1.clone(), 40, 1)]));
    add(t, "truncated-ke1", cat(&[&[0x02], &ke1[..50]]));
    add(t, "truncated-ke3", cat(&[&[0], &ke3[..10]]));

    let t = "opaque_registration";
    add(t, "request-frame", cat(&[&[0], &request]));
    add(t, "request-identity", cat(&[&[MASK], f.request.as_bytes()]));
    add(t, "response-frame", cat(&[&[2], &response]));
    add(
        t,
        "response-flipped-key",
        cat(&[&[2 | MASK], &[0; 40], &[2]]),
    );
    add(
        t,
        "response-reflected",
        cat(&[&[2], &with(response.clone(), 5, f.request.as_bytes())]),
    );
    add(t, "upload-frame", cat(&[&[4], &upload]));
    add(
        t,
        "upload-flipped-envelope",
        cat(&[&[4 | MASK], &[0; 150], &[9]]),
    );
}
