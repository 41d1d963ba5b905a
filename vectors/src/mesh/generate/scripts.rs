//! The script vectors of `mesh.json`: relayed copies, routing-table
//! transcripts and rebroadcast-scheduler transcripts.

use super::*;

/// (name, description, received datagram, link cost, relay hop id).
type RelayCase<'a> = (&'a str, &'a str, Vec<u8>, u8, Option<HopId>);

pub(super) fn relay_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    let request = |count, limit| {
        PathRequest {
            destination: c.dave.address(),
            request_id: 0x0102_0304,
            hop_count: count,
            hop_limit: limit,
            transmitter: Some(c.carol.hop_id()),
            min_sequence: 0,
        }
        .to_bytes()
        .expect("request encodes")
    };
    let cases: Vec<RelayCase<'_>> = vec![
        (
            "relay-announce-origin-shared",
            "alice's own announce relayed on a shared link: 31, hop 1, cost 0 + 9, the relay's hop id (160 bytes)",
            announce(&c.alice, 1, t, ORIGIN),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-announce-point-to-point",
            "a relayed announce sent on over a point-to-point link: no hop id, cost 18 + 1",
            announce(&c.alice, 1, t, relayed(2, 18, &c.bob)),
            1,
            None,
        ),
        (
            "relay-announce-saturating-cost",
            "cost 250 + 9 saturates at 255 (the relay's own table marks it unreachable; the copy shows the rule)",
            announce(&c.bob, 3, t, relayed(1, 250, &c.carol)),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-announce-at-limit",
            "hop count 7 = hop limit 7: not relayed",
            announce(&c.bob, 3, t, relayed(7, 40, &c.carol)),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-path-request",
            "a path request flooded on: hop 2 of 5, the relay's hop id",
            request(1, 5),
            9,
            Some(c.relay.hop_id()),
        ),
        (
            "relay-path-request-at-limit",
            "a path request at its hop limit: not relayed",
            request(5, 5),
            9,
            Some(c.relay.hop_id()),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, description, received, link_cost, transmitter)| {
            let relayed = crate::mesh::relayed_copy(&received, link_cost, transmitter)
                .expect("relayable")
                .map(HexBytes);
            vector(
                name,
                description,
                MeshCase::Relay {
                    received,
                    link_cost,
                    transmitter: hex_opt(transmitter),
                    relayed,
                },
            )
        })
        .collect()
}

/// Builds a routing transcript by running qpc's table.
struct RoutingScript {
    table: RoutingTable,
    config: RoutingConfigJson,
    local: HexBytes,
    links: Vec<LinkJson>,
    steps: Vec<RoutingStep>,
}

impl RoutingScript {
    fn new(local: &Person, config: RoutingConfigJson, links: &[(u16, u8)]) -> Self {
        RoutingScript {
            table: RoutingTable::new(local.address(), config.into()).expect("valid config"),
            config,
            local: local.hex_address(),
            links: links
                .iter()
                .map(|&(link, cost)| LinkJson { link, cost })
                .collect(),
            steps: Vec::new(),
        }
    }

    fn receive(&mut self, at_ms: u64, link: u16, datagram: Vec<u8>) -> &mut Self {
        let got = transcript::receive(&mut self.table, &self.links, link, &datagram, at_ms)
            .expect("known link");
        let (outcome, expected_error) = match got {
            Ok(o) => (Some(o), None),
            Err(class) => (None, Some(class)),
        };
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Receive {
            at_ms,
            link,
            datagram: HexBytes(datagram),
            outcome,
            expected_error,
            events,
        });
        self
    }

    fn timeout(&mut self, at_ms: u64) -> &mut Self {
        self.table.handle_timeout(at_ms);
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Timeout { at_ms, events });
        self
    }

    fn lookup(&mut self, at_ms: u64, destination: &Person) -> &mut Self {
        let forwarding =
            transcript::forwarding_json(self.table.forwarding(&destination.address(), at_ms));
        let events = transcript::drain_events(&mut self.table);
        self.steps.push(RoutingStep::Lookup {
            at_ms,
            destination: destination.hex_address(),
            forwarding,
            events,
        });
        self
    }

    fn finish(&mut self, name: &str, description: &str) -> MeshVector {
        vector(
            name,
            description,
            MeshCase::Routing {
                config: self.config,
                local_address: self.local.clone(),
                links: self.links.clone(),
                steps: std::mem::take(&mut self.steps),
            },
        )
    }
}

pub(super) fn routing_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    let config = |capacity, lifetime, hold, quota| RoutingConfigJson {
        capacity,
        route_lifetime_ms: lifetime,
        hold_ms: hold,
        max_routes_per_neighbour: quota,
    };
    let mut tampered = announce(&c.alice, 12, t, relayed(1, 0, &c.carol));
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let on_limit = Hops {
        count: 7,
        ..relayed(7, 40, &c.erin)
    };
    let feasibility = RoutingScript::new(&c.relay, config(16, 60_000, 30_000, 16), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 10, t, ORIGIN))
        .receive(10, 1, announce(&c.alice, 10, t, relayed(1, 9, &c.bob)))
        .receive(20, 0, announce(&c.alice, 10, t, Hops { transmitter: None, ..relayed(1, 3, &c.bob) }))
        .lookup(30, &c.alice)
        .receive(40, 0, announce(&c.alice, 10, t, Hops { transmitter: None, ..relayed(1, 3, &c.bob) }))
        .receive(50, 1, announce(&c.alice, 11, t, relayed(2, 20, &c.carol)))
        .receive(60, 0, announce(&c.alice, 10, t, ORIGIN))
        .receive(70, 1, announce(&c.alice, 11, t, relayed(2, 250, &c.carol)))
        .receive(80, 1, announce(&c.relay, 99, t, relayed(1, 9, &c.bob)))
        .receive(90, 1, announce(&c.bob, 1, t, on_limit))
        .receive(100, 1, tampered)
        .lookup(110, &c.carol)
        .lookup(120, &c.relay)
        .receive(130, 0, response(&c.dave, 5, 77, 2, Some(c.relay.hop_id()), c.erin.hop_id()))
        .lookup(140, &c.dave)
        .finish(
            "routing-feasibility-and-freshness",
            "install, a worse and a better path for the same sequence, a duplicate, a newer sequence, \
             a stale replay, an unreachable metric, our own announce, an announce at its hop limit, a forged \
             announce, lookups (next hop, flood, local) and a route learned from a path response",
        );
    let expiry = RoutingScript::new(&c.relay, config(16, 1000, 500, 16), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 10, t, ORIGIN))
        .lookup(999, &c.alice)
        .timeout(1000)
        .lookup(1000, &c.alice)
        .receive(1200, 1, announce(&c.alice, 10, t, ORIGIN))
        .receive(1250, 1, announce(&c.alice, 9, t, ORIGIN))
        .receive(1300, 0, announce(&c.alice, 10, t, ORIGIN))
        .lookup(1300, &c.alice)
        .receive(2300, 1, announce(&c.bob, 1, t, ORIGIN))
        .timeout(2800)
        .receive(2900, 1, announce(&c.alice, 3, t, ORIGIN))
        .timeout(5000)
        .finish(
            "routing-expiry-and-hold",
            "a route expires at its lifetime; the expired entry keeps sequence and metric during the hold \
             (equal metric not feasible, older sequence stale, strictly better metric revives it); expiry \
             inside a receive; forgetting; an old sequence accepted once forgotten; expiry and forgetting \
             of several entries in one call, in address order",
        );
    let eviction = RoutingScript::new(&c.relay, config(3, 10_000, 5000, 2), &[(0, 1), (1, 9)])
        .receive(0, 1, announce(&c.alice, 1, t, relayed(1, 9, &c.carol)))
        .receive(10, 1, announce(&c.bob, 1, t, relayed(1, 9, &c.carol)))
        .receive(20, 1, announce(&c.dave, 1, t, relayed(1, 9, &c.carol)))
        .receive(30, 1, announce(&c.dave, 1, t, relayed(1, 9, &c.erin)))
        .receive(40, 0, announce(&c.erin, 1, t, ORIGIN))
        .lookup(50, &c.alice)
        .timeout(10_010)
        .receive(10_020, 0, announce(&c.carol, 1, t, ORIGIN))
        .lookup(10_030, &c.bob)
        .receive(10_040, 1, announce(&c.alice, 1, t, relayed(1, 9, &c.carol)))
        .finish(
            "routing-eviction-and-quota",
            "capacity 3, two new routes per neighbour: a third destination via the same neighbour is \
             refused, a full table evicts the least recently refreshed live entry, then an expired entry \
             before any live one",
        );
    vec![feasibility, expiry, eviction]
}

pub(super) fn rebroadcast_vectors(c: &Cast) -> Vec<MeshVector> {
    let t = Capabilities::TRANSPORT;
    struct Script {
        scheduler: AnnounceScheduler,
        steps: Vec<RebroadcastStep>,
    }
    impl Script {
        fn enqueue(&mut self, p: &Person, hop_count: u8, bytes: Vec<u8>) -> &mut Self {
            let dropped = self
                .scheduler
                .enqueue(transcript::LINK, p.address(), hop_count, bytes.clone())
                .expect("fits");
            self.steps.push(RebroadcastStep::Enqueue {
                address: p.hex_address(),
                hop_count,
                bytes: HexBytes(bytes),
                dropped: transcript::dropped_json(dropped),
            });
            self
        }
        fn poll(&mut self, at_ms: u64) -> &mut Self {
            let (sent, next_timeout) = transcript::poll(&mut self.scheduler, at_ms);
            self.steps.push(RebroadcastStep::Poll {
                at_ms,
                sent,
                next_timeout,
            });
            self
        }
    }
    let script = |budget: BudgetJson| {
        let mut scheduler = AnnounceScheduler::new();
        scheduler
            .add_link(LinkId(0), transcript::budget_of(&budget), 0)
            .expect("valid budget");
        (
            budget,
            Script {
                scheduler,
                steps: Vec::new(),
            },
        )
    };
    let hop = |n: u8, cost| relayed(n, cost, &c.relay);

    let (lora, mut s) = script(BudgetJson {
        bitrate_bps: 1760,
        share_permille: 20,
        burst_bytes: 160,
        max_queued: 3,
    });
    s.enqueue(&c.alice, 3, announce(&c.alice, 1, t, hop(3, 27)))
        .enqueue(&c.bob, 1, announce(&c.bob, 1, t, hop(1, 9)))
        .enqueue(
            &c.carol,
            2,
            announce(
                &c.carol,
                1,
                t,
                Hops {
                    transmitter: None,
                    ..hop(2, 18)
                },
            ),
        )
        .enqueue(&c.dave, 5, announce(&c.dave, 1, t, hop(5, 45)))
        .enqueue(&c.erin, 0, announce(&c.erin, 1, t, ORIGIN))
        .enqueue(&c.bob, 1, announce(&c.bob, 2, t, hop(1, 9)))
        .poll(0)
        .poll(36_363)
        .poll(36_364)
        .poll(100_000)
        .poll(200_000);
    let first = vector(
        "rebroadcast-lora-two-percent",
        "2% of 1760 bit/s (LoRa SF9): a full queue drops the highest hop count, a newer announce for a \
         queued address replaces it in place, lowest hop count first, one 160-byte announce per 36.4 s, \
         credit capped at the bucket",
        MeshCase::Rebroadcast {
            budget: lora,
            steps: s.steps,
        },
    );
    let (fast, mut s) = script(BudgetJson {
        bitrate_bps: 50_000,
        share_permille: 50,
        burst_bytes: 480,
        max_queued: 8,
    });
    s.enqueue(&c.alice, 2, announce(&c.alice, 4, t, hop(2, 2)))
        .enqueue(&c.bob, 2, announce(&c.bob, 4, t, hop(2, 2)))
        .enqueue(&c.carol, 2, announce(&c.carol, 4, t, hop(2, 2)))
        .enqueue(&c.dave, 1, announce(&c.dave, 4, t, hop(1, 1)))
        .poll(0)
        .poll(100)
        .enqueue(&c.erin, 0, announce(&c.erin, 4, t, ORIGIN))
        .poll(200)
        .poll(1000);
    let second = vector(
        "rebroadcast-burst",
        "5% of 50 kbit/s with a 480-byte bucket: a burst of three, equal hop counts in queue order, \
         partial refill",
        MeshCase::Rebroadcast {
            budget: fast,
            steps: s.steps,
        },
    );
    vec![first, second]
}
