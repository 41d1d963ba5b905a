//! Seeds of the FAPP targets: every genuine message type and near misses
//! failing each header and length check; genuine and broken sealed
//! plaintexts; relay scripts that cache, supersede, query, answer, route
//! back, dedupe, expire and run out of tokens.

use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, PlzPrefix,
};
use qpc_fapp::query::{Filter, SlotQuery, SlotResponse};
use qpc_fapp::FappMessage;

use super::cat;
use crate::{genuine_fapp_messages, genuine_reservation_plaintext, FAPP_NOW};

fn query() -> FappMessage {
    FappMessage::Query(SlotQuery {
        query_id: [7; 16],
        hop_limit: 3,
        filter: Filter {
            plz_prefix: PlzPrefix::new(b"10").expect("digits"),
            methods: Methods::ALL,
            age_groups: AgeGroups::ADULTS,
            kinds: Kinds::CONSULTATION.union(Kinds::THERAPY),
            modalities: Modalities::ALL,
            payers: Payers::GKV,
            required_features: Features::WHEELCHAIR,
            languages: Languages::new(&[*b"de", *b"tr"]).expect("codes"),
            earliest_ms: FAPP_NOW,
            latest_ms: FAPP_NOW + 1_000_000,
        },
        max_results: 4,
    })
}

pub(super) fn seeds(add: &mut impl FnMut(&'static str, &'static str, Vec<u8>)) {
    let genuine = genuine_fapp_messages();
    let encode = |m: &FappMessage| m.encode().expect("seed encodes");
    let announce = encode(&genuine[0]);
    let withdraw = encode(&genuine[4]);
    let FappMessage::Announce(a) = &genuine[1] else {
        unreachable!("index 1 is an announce")
    };
    let response = encode(&FappMessage::Response(SlotResponse {
        query_id: [7; 16],
        announces: vec![a.clone()],
        more: vec![],
    }));
    let t = "fapp_message";
    add(t, "announce", announce.clone());
    add(t, "announce-4-slots", encode(&genuine[3]));
    add(t, "withdraw", withdraw.clone());
    add(t, "query", encode(&query()));
    add(t, "response", response);
    add(t, "empty", vec![]);
    add(t, "version-2", cat(&[&[2], &announce[1..]]));
    add(t, "type-0", vec![1, 0]);
    add(t, "type-8", vec![1, 8, 0]);
    add(
        t,
        "announce-truncated",
        announce[..announce.len() - 1].to_vec(),
    );
    add(t, "withdraw-trailing", cat(&[&withdraw, &[0]]));
    let mut reserved = announce.clone();
    reserved[2 + 96 + 16 + 5] |= 0x80; // a reserved Methods bit
    add(t, "announce-reserved-method", reserved);
    add(
        t,
        "reservation-zeros",
        cat(&[&[1, 5], &[0; 16 + 1120 + 1360]]),
    );
    add(t, "result-zeros", cat(&[&[1, 6], &[0; 16 + 1120 + 48]]));

    let t = "fapp_sealed";
    let plaintext = genuine_reservation_plaintext(1);
    add(t, "reservation-slot-1", cat(&[&[0x00], &plaintext]));
    add(
        t,
        "reservation-slot-2",
        cat(&[&[0x00], &genuine_reservation_plaintext(2)]),
    );
    add(t, "reservation-short", cat(&[&[0x00], &plaintext[..40]]));
    let mut stale = plaintext.clone();
    stale[20..28].copy_from_slice(&0u64.to_be_bytes());
    add(t, "reservation-stale", cat(&[&[0x00], &stale]));
    add(t, "reservation-splice", cat(&[&[0x0c], &[0x11; 1300]]));
    add(
        t,
        "result-confirmed",
        cat(&[&[0x01], &[0x81; 16], &[0, 0, 0, 1], &[1]]),
    );
    add(
        t,
        "result-bad-status",
        cat(&[&[0x01], &[0x81; 16], &[0, 0, 0, 1], &[4]]),
    );
    add(t, "cancel", cat(&[&[0x02], &[0x81; 16], &[0, 0, 0, 1]]));
    add(
        t,
        "raw-reservation",
        cat(&[&[0x03, 1, 5], &[0; 16 + 1120 + 1360]]),
    );

    let t = "fapp_relay";
    // Cache therapist 0 (sequence 1, then 2), query, answer, route back.
    add(
        t,
        "cache-query-respond",
        vec![0x00, 0, 0x00, 1, 0x0b, 0, 1, 2, 0x14, 1, 1],
    );
    // Supersede, then a stale replay and a withdrawal.
    add(t, "supersede-withdraw", vec![0x00, 2, 0x00, 0, 0x00, 4]);
    // Three therapists into a cache of two; expire one; timers.
    add(
        t,
        "evict-expire",
        vec![0x00, 0, 0x00, 5, 0x00, 13, 0x02, 90, 0x05, 0x00, 3],
    );
    // The same query id twice, and from four neighbours until out of tokens.
    add(
        t,
        "dedupe-rate",
        vec![
            0x03, 0, 0, 0, 0x0b, 0, 0, 0, 0x03, 1, 1, 1, 0x03, 2, 2, 2, 0x03, 3, 3, 3, 0x03, 0, 0,
            0,
        ],
    );
    add(t, "raw", cat(&[&[0x01, withdraw.len() as u8], &withdraw]));

    let t = "fapp_node";
    let item = |control: u8, body: &[u8]| cat(&[&[control, body.len() as u8], body]);
    let query_frame = cat(&[&[1, 9], &encode(&query())]);
    // A genuine announce from a neighbour, a query, a genuine reservation
    // (held, confirmed, its result routed back), the same again (replayed),
    // then the timers.
    add(
        t,
        "announce-query-reserve-replay",
        cat(&[
            &item(0x08, &[0, 5]),
            &item(0x19, &query_frame),
            &item(0x08, &[3, 7]),
            &item(0x18, &[3, 7]),
            &item(0xf4, &[]),
        ]),
    );
    add(t, "raw-routed", item(0x09, &[2, 4, 1, 5, 0]));
    // Announces from six transmitters: more than the driver's four handles.
    let many: Vec<Vec<u8>> = (1..=6).map(|n| item(0x08, &[0, n])).collect();
    add(t, "more-neighbours-than-handles", many.concat());
    // A withdrawal supersedes the announces; a cancel-sized routed payload.
    add(
        t,
        "withdraw-and-routed-noise",
        cat(&[&item(0x08, &[0, 4]), &item(0x28, &[2, 9, 1, 7, 0, 0])]),
    );
    add(t, "raw-datagram", item(0x00, &[0x2c, 0x00, 0, 0, 0]));
}
