//! The `fapp_node` target: arbitrary datagrams into a qpc-fapp
//! `FappNode` (a `MeshNode` with a relay and a therapist, `spec/20` §8.1,
//! `spec/10` §14), some wrapped into genuine type-`0xc` frames so that the
//! engines behind the mesh are reached.

use std::sync::LazyLock;

use bytes::Bytes;
use qpc_crypto::identity::{Address, Identity};
use qpc_fapp::announce::licence_hash;
use qpc_fapp::mesh::{DriverConfig, FappEvent, FappNode};
use qpc_fapp::model::{
    AgeGroups, Features, Kinds, Languages, Methods, Modalities, Payers, Plz, Practice, Slot,
};
use qpc_fapp::sealed::Sealed;
use qpc_fapp::therapist::{Therapist, TherapistConfig, TherapistEvent};
use qpc_fapp::FappType;
use qpc_mesh::envelope::{Header, HopId, MessageType, LINK_LOCAL};
use qpc_mesh::fapp_frame::FappPacket;
use qpc_mesh::message::Message;
use qpc_mesh::node::{LinkConfig, MeshNode, NodeConfig};
use qpc_mesh::rebroadcast::AirtimeBudget;
use qpc_mesh::routing::LinkId;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::{genuine_fapp_messages, genuine_reservation_plaintext, FAPP_NOW, THERAPIST_SEEDS};

/// The node's links: (id, MTU, shared).
const LINKS: [(u16, usize, bool); 2] = [(0, 4096, true), (1, 3000, false)];
/// The node's bound on pending transmits and events, and the driver's on
/// events and neighbours (small, so that they are reached).
const MAX_PENDING: usize = 16;

fn identity() -> Identity {
    let (signing, kem) = THERAPIST_SEEDS[0];
    Identity::from_seeds(&signing, &kem)
}

/// A genuine Reservation of slot 1 sealed to the node's therapist.
static RESERVATION: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let therapist = identity();
    let mut rng = ChaCha20Rng::from_seed([0x58; 32]);
    let sealed = Sealed::seal(
        FappType::Reservation,
        therapist.public().address(),
        therapist.public().kem_key(),
        &genuine_reservation_plaintext(1),
        &mut rng,
    )
    .expect("seals");
    sealed.encode(FappType::Reservation)
});

fn fuzz_fapp_node() -> FappNode {
    let mut rng = ChaCha20Rng::from_seed([0x57; 32]);
    let config = NodeConfig {
        max_pending: MAX_PENDING,
        reply_routes: 4,
        announce_interval_ms: 0,
        ..NodeConfig::default()
    };
    let mut mesh = MeshNode::new(identity(), config, 1, &mut rng).expect("valid config");
    for (id, mtu, shared) in LINKS {
        let link = LinkConfig {
            mtu,
            cost: 9,
            budget: AirtimeBudget::two_percent(50_000),
            shared,
        };
        mesh.add_link(LinkId(id), link, FAPP_NOW)
            .expect("valid link");
    }
    let practice = Practice {
        plz: Plz::new(*b"10115").expect("digits"),
        methods: Methods::BEHAVIOURAL,
        age_groups: AgeGroups::ALL,
        modalities: Modalities::IN_PERSON,
        payers: Payers::GKV,
        features: Features::NONE,
        languages: Languages::new(&[*b"de"]).expect("code"),
    };
    let config = TherapistConfig {
        hold_ms: 60_000,
        ..TherapistConfig::default()
    };
    let mut therapist =
        Therapist::new(identity(), licence_hash("L"), practice, config, 0).expect("valid");
    for id in 1..=2 {
        let slot = Slot {
            id,
            start_ms: FAPP_NOW + 24 * 3_600_000 * u64::from(id),
            duration_min: 50,
            kind: Kinds::CONSULTATION,
        };
        therapist.add_slot(FAPP_NOW, slot).expect("slot");
    }
    let driver = DriverConfig {
        max_neighbours: 4,
        max_events: MAX_PENDING,
        ..DriverConfig::default()
    };
    let mut node = FappNode::new(mesh, driver).expect("valid driver");
    node.with_driver(FAPP_NOW, &mut rng, |driver, mesh, _| {
        driver
            .set_therapist(mesh, therapist)
            .expect("same identity");
        driver.announce(mesh, FAPP_NOW).expect("announces");
    });
    node
}

/// Wraps `spec` into a type-`0xc` datagram: `spec[0] % 4` picks a
/// link-local frame with a genuine FAPP message (`spec[1]` its index), a
/// link-local frame with the raw rest, a routed frame with the raw rest
/// (naming a reply address), or a routed frame with the genuine
/// Reservation; `spec[1]` is also the transmitter's hop id.
fn wrap(spec: &[u8], local: Address) -> Option<Vec<u8>> {
    let (&kind, rest) = spec.split_first()?;
    let (&pick, rest) = rest.split_first()?;
    let genuine = genuine_fapp_messages();
    let (destination, payload) = match kind % 4 {
        0 => (
            LINK_LOCAL,
            genuine[usize::from(pick) % genuine.len()].encode().ok()?,
        ),
        1 => (LINK_LOCAL, rest.to_vec()),
        2 => (local, rest.to_vec()),
        _ => (local, RESERVATION.clone()),
    };
    let routed = destination != LINK_LOCAL;
    FappPacket {
        header: Header {
            message_type: MessageType::Fapp,
            hop_count: 0,
            hop_limit: if routed { 3 } else { 0 },
            destination,
            message_id: u32::from(pick),
            hop_id: None,
        },
        transmitter: HopId([pick; 8]),
        reply: routed.then(|| Address::from_bytes([pick | 1; 16])),
        payload: Bytes::from(payload),
    }
    .to_bytes()
    .ok()
}

/// Fuzzes `FappNode`: the input is a list of `[control, len, body]`
/// items; time advances `(control >> 4)` s, `control & 4` fires the
/// timers, `control & 8` wraps the body (see `wrap`), `control & 1` is
/// the link. Every hold is confirmed at once. Transmits fit the link's MTU
/// and decode as mesh messages; transmits and events stay within their
/// bounds; a timer is never due in the past; the therapist never books one
/// slot for two requests.
pub fn fapp_node(data: &[u8]) {
    let mut node = fuzz_fapp_node();
    let mut rng = ChaCha20Rng::from_seed([0x59; 32]);
    let local = node.mesh().address();
    let mut now = FAPP_NOW;
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        now += u64::from(control >> 4) * 1000;
        if control & 0x04 != 0 {
            node.handle_timeout(now, &mut rng);
            assert!(
                node.poll_timeout().is_none_or(|t| t > now),
                "timer not in the future"
            );
        }
        let datagram = match control & 0x08 {
            0 => body.to_vec(),
            _ => match wrap(body, local) {
                Some(d) => d,
                None => continue,
            },
        };
        let link = LinkId(u16::from(control & 0x01));
        node.handle_datagram(link, Bytes::from(datagram), now, &mut rng);
        let mut transmits = 0;
        while let Some(t) = node.poll_transmit() {
            transmits += 1;
            let mtu = LINKS.iter().find(|l| l.0 == t.link.0).expect("a link").1;
            assert!(t.bytes.len() <= mtu);
            if let Err(e) = Message::decode(Bytes::from(t.bytes)) {
                panic!("the node sent an invalid datagram: {e}");
            }
        }
        assert!(transmits <= MAX_PENDING);
        let mut held = Vec::new();
        let mut events = 0;
        while let Some(event) = node.poll_event() {
            events += 1;
            if let FappEvent::Therapist(TherapistEvent::Held { request_id, .. }) = event {
                held.push(request_id);
            }
        }
        assert!(events <= MAX_PENDING);
        for request_id in held {
            node.with_driver(now, &mut rng, |driver, mesh, rng| {
                driver
                    .confirm(mesh, &request_id, now, rng)
                    .expect("a fresh hold confirms");
            });
        }
        let therapist = node.driver().therapist().expect("therapist");
        let owners: Vec<_> = (1..=2).filter_map(|s| therapist.slot_owner(s)).collect();
        assert!(
            owners.len() < 2 || owners[0].0 != owners[1].0,
            "one request, two slots"
        );
        assert!(
            node.driver().relay().cache().len() <= DriverConfig::default().relay.cache_capacity
        );
    }
}
