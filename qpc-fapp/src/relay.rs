//! The relay engine (`spec/20-fapp.md` §11): caches verified announces,
//! answers queries from the cache, forwards queries with dedupe and a hop
//! limit, and routes responses back along the reverse path.
//!
//! The relay knows a query only by its random id and the neighbour handle
//! it came from: it can send the response one hop back, never learn who
//! asked.

use qpc_crypto::identity::Address;

use crate::announce::SlotAnnounce;
use crate::error::{Error, Result};
use crate::index::AnnounceCache;
use crate::message::FappMessage;
use crate::outgoing::{NeighbourId, Step, To};
use crate::query::{QueryId, SlotQuery, SlotResponse};
use crate::ratelimit::RateLimiter;
use crate::replay::BoundedMap;

/// Configuration of a [`Relay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// Most therapists cached (1 to 1,000,000).
    pub cache_capacity: usize,
    /// Announces valid longer than this from `now` are refused, ms.
    pub max_announce_lifetime_ms: u64,
    /// Most queries remembered for dedupe and reverse paths (1 to 65536).
    pub query_capacity: usize,
    /// How long a reverse path lives, ms.
    pub query_ttl_ms: u64,
    /// Most responses routed back for one query (1 to 255).
    pub max_responses_per_query: u8,
    /// Most index entries one query may visit (1 to 1,000,000).
    pub max_scan: usize,
    /// Token bucket size per neighbour.
    pub burst: u32,
    /// Tokens per second per neighbour.
    pub per_second: u32,
    /// Most neighbours with a bucket (1 to 65536).
    pub max_neighbours: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            cache_capacity: 100_000,
            max_announce_lifetime_ms: 7 * 24 * 3600 * 1000,
            query_capacity: 4096,
            query_ttl_ms: 60_000,
            max_responses_per_query: 16,
            max_scan: 4096,
            burst: 32,
            per_second: 4,
            max_neighbours: 256,
        }
    }
}

impl RelayConfig {
    fn validate(&self) -> Result<()> {
        let ok = (1..=1_000_000).contains(&self.cache_capacity)
            && (1..=65536).contains(&self.query_capacity)
            && self.max_responses_per_query >= 1
            && (1..=1_000_000).contains(&self.max_scan)
            && self.burst >= 1
            && (1..=65536).contains(&self.max_neighbours);
        ok.then_some(())
            .ok_or(Error::InvalidConfig("relay configuration"))
    }
}

/// What a relay reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEvent {
    /// An announce or withdrawal of this sequence is now cached.
    Cached(Address, u32),
    /// This therapist's entry was evicted to make room.
    Evicted(Address),
}

#[derive(Debug, Clone, Copy)]
struct ReversePath {
    from: NeighbourId,
    expires_ms: u64,
    responses: u8,
}

/// A relay's FAPP engine.
#[derive(Debug, Clone)]
pub struct Relay {
    config: RelayConfig,
    cache: AnnounceCache,
    queries: BoundedMap<QueryId, ReversePath>,
    limiter: RateLimiter,
}

impl Relay {
    /// An empty relay.
    pub fn new(config: RelayConfig) -> Result<Self> {
        config.validate()?;
        Ok(Relay {
            config,
            cache: AnnounceCache::new(config.cache_capacity),
            queries: BoundedMap::new(config.query_capacity),
            limiter: RateLimiter::new(config.burst, config.per_second, config.max_neighbours),
        })
    }

    /// The announce cache.
    pub fn cache(&self) -> &AnnounceCache {
        &self.cache
    }

    /// Handles one message from neighbour `from`. The checks, in order:
    /// the neighbour's token bucket (`rate_limited`), then per type
    /// (`spec/20` §11.1). Reservations, results and cancels are not for
    /// relays (`wrong_state`): the mesh routes them as sealed unicast.
    pub fn handle(
        &mut self,
        now: u64,
        from: NeighbourId,
        message: &FappMessage,
    ) -> Result<Step<RelayEvent>> {
        self.limiter.take(from, now)?;
        let mut step = Step::default();
        match message {
            FappMessage::Announce(announce) => {
                let therapist = announce.therapist.address();
                self.check_expiry(now, announce.expires_ms)?;
                self.cache.check_newer(&therapist, announce.sequence)?;
                announce.verify()?;
                let entry = Some(announce.clone());
                self.store(
                    now,
                    therapist,
                    announce.sequence,
                    announce.expires_ms,
                    entry,
                    &mut step,
                )?;
            }
            FappMessage::Withdraw(withdraw) => {
                let therapist = withdraw.therapist.address();
                self.check_expiry(now, withdraw.expires_ms)?;
                self.cache.check_newer(&therapist, withdraw.sequence)?;
                withdraw.verify()?;
                self.store(
                    now,
                    therapist,
                    withdraw.sequence,
                    withdraw.expires_ms,
                    None,
                    &mut step,
                )?;
            }
            FappMessage::Query(query) => self.handle_query(now, from, query, &mut step)?,
            FappMessage::Response(response) => self.handle_response(now, response, &mut step)?,
            FappMessage::Reservation(_) | FappMessage::Result(_) | FappMessage::Cancel(_) => {
                return Err(Error::WrongState("sealed messages are routed by the mesh"));
            }
        }
        if !matches!(message, FappMessage::Query(_) | FappMessage::Response(_)) {
            step.send(To::NeighboursExcept(from), message.clone());
        }
        Ok(step)
    }

    /// Puts back a cache entry a driver persisted (see
    /// [`AnnounceCache::entry`]) without rebroadcasting it: an announce
    /// must still verify and be the therapist's (`bad_signature`,
    /// `wrong_recipient`); a withdrawal (`None`) is restored as a
    /// tombstone. Expired entries are `bad_expiry`; `stale` or `full` as for
    /// a heard announce.
    pub fn restore(
        &mut self,
        now: u64,
        therapist: Address,
        sequence: u32,
        expires_ms: u64,
        announce: Option<SlotAnnounce>,
    ) -> Result<()> {
        self.check_expiry(now, expires_ms)?;
        if let Some(announce) = &announce {
            if announce.verify()? != therapist
                || announce.sequence != sequence
                || announce.expires_ms != expires_ms
            {
                return Err(Error::WrongRecipient);
            }
        }
        self.cache
            .insert(now, therapist, sequence, expires_ms, announce)?;
        Ok(())
    }

    fn check_expiry(&self, now: u64, expires_ms: u64) -> Result<()> {
        let latest = now.saturating_add(self.config.max_announce_lifetime_ms);
        if expires_ms <= now || expires_ms > latest {
            return Err(Error::BadExpiry {
                expires_ms,
                now_ms: now,
            });
        }
        Ok(())
    }

    fn store(
        &mut self,
        now: u64,
        therapist: Address,
        sequence: u32,
        expires_ms: u64,
        announce: Option<SlotAnnounce>,
        step: &mut Step<RelayEvent>,
    ) -> Result<()> {
        if let Some(evicted) = self
            .cache
            .insert(now, therapist, sequence, expires_ms, announce)?
        {
            step.event(RelayEvent::Evicted(evicted));
        }
        step.event(RelayEvent::Cached(therapist, sequence));
        Ok(())
    }

    fn handle_query(
        &mut self,
        now: u64,
        from: NeighbourId,
        query: &SlotQuery,
        step: &mut Step<RelayEvent>,
    ) -> Result<()> {
        if self
            .queries
            .get(&query.query_id)
            .is_some_and(|path| path.expires_ms > now)
        {
            return Err(Error::Replayed("query"));
        }
        let path = ReversePath {
            from,
            expires_ms: now.saturating_add(self.config.query_ttl_ms),
            responses: 0,
        };
        self.queries.insert(query.query_id, path);
        let found = self.cache.query(
            now,
            &query.query_id,
            &query.filter,
            usize::from(query.max_results),
            self.config.max_scan,
        );
        if !found.announces.is_empty() {
            let response = SlotResponse {
                query_id: query.query_id,
                announces: found.announces.into_iter().cloned().collect(),
                more: found.more,
            };
            step.send(To::Neighbour(from), FappMessage::Response(response));
        }
        if query.hop_limit > 1 {
            let forwarded = SlotQuery {
                hop_limit: query.hop_limit - 1,
                ..query.clone()
            };
            step.send(To::NeighboursExcept(from), FappMessage::Query(forwarded));
        }
        Ok(())
    }

    fn handle_response(
        &mut self,
        now: u64,
        response: &SlotResponse,
        step: &mut Step<RelayEvent>,
    ) -> Result<()> {
        let limit = self.config.max_responses_per_query;
        let path = match self.queries.get_mut(&response.query_id) {
            Some(path) if path.expires_ms > now && path.responses < limit => path,
            _ => return Err(Error::WrongState("no reverse path for this response")),
        };
        path.responses += 1;
        step.send(
            To::Neighbour(path.from),
            FappMessage::Response(response.clone()),
        );
        Ok(())
    }

    /// Drops expired cache entries.
    pub fn handle_timeout(&mut self, now: u64) -> Vec<Address> {
        self.cache.purge_expired(now)
    }

    /// When [`Relay::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.cache.next_expiry()
    }
}
