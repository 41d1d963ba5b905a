//! What a run measured: one record per scenario message (keyed by its tag),
//! per-node transmission counts, and nearest-rank latency percentiles.

/// One scenario message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRecord {
    /// The sending node.
    pub origin: usize,
    /// The destination node.
    pub destination: usize,
    /// When it was handed to the origin's engine, ms.
    pub sent_at: u64,
    /// When the destination first reported it, ms.
    pub delivered_at: Option<u64>,
    /// When the origin first learnt it was delivered (an end-to-end
    /// receipt), ms.
    pub receipt_at: Option<u64>,
    /// Whether, when sent, the graph had a path of online nodes from the
    /// origin to the destination.
    pub path_exists: bool,
}

impl MessageRecord {
    /// Delivery latency, ms.
    pub fn latency(&self) -> Option<u64> {
        self.delivered_at.map(|d| d - self.sent_at)
    }
}

/// An event the node reported about a scenario message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The message with this tag arrived at the reporting node.
    Delivered {
        /// The scenario tag.
        tag: u64,
    },
    /// The reporting node learnt that its message with this tag arrived.
    Confirmed {
        /// The scenario tag.
        tag: u64,
    },
    /// The reporting node left an announce unsent (its airtime budget's
    /// queue overflowed or a newer copy replaced it).
    AnnounceDropped,
}

/// Transmissions of one node (or of the whole network).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Frames put on air.
    pub frames: u64,
    /// Bytes put on air.
    pub bytes: u64,
}

/// Per-message records and anomalies seen while recording them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    records: Vec<MessageRecord>,
    /// Deliveries of a tag already delivered.
    pub duplicates: u64,
    /// Observations naming an unknown tag or reported by the wrong node.
    pub misdirected: u64,
    /// Announces left unsent by rebroadcast queues.
    pub announces_dropped: u64,
}

impl Metrics {
    /// Records a message sent now; returns its tag (0, 1, 2, ...).
    pub fn sent(&mut self, origin: usize, destination: usize, now: u64, path_exists: bool) -> u64 {
        self.records.push(MessageRecord {
            origin,
            destination,
            sent_at: now,
            delivered_at: None,
            receipt_at: None,
            path_exists,
        });
        self.records.len() as u64 - 1
    }

    /// Applies what `node` reported at `now`.
    pub fn observe(&mut self, node: usize, now: u64, observation: Observation) {
        let (tag, confirming) = match observation {
            Observation::Delivered { tag } => (tag, false),
            Observation::Confirmed { tag } => (tag, true),
            Observation::AnnounceDropped => {
                self.announces_dropped += 1;
                return;
            }
        };
        let Some(record) = usize::try_from(tag)
            .ok()
            .and_then(|t| self.records.get_mut(t))
        else {
            self.misdirected += 1;
            return;
        };
        let (expected, slot) = if confirming {
            (record.origin, &mut record.receipt_at)
        } else {
            (record.destination, &mut record.delivered_at)
        };
        if node != expected {
            self.misdirected += 1;
        } else if slot.is_some() {
            self.duplicates += 1;
        } else {
            *slot = Some(now);
        }
    }

    /// Every record, by tag.
    pub fn records(&self) -> &[MessageRecord] {
        &self.records
    }

    /// The summary of the records.
    pub fn summary(&self) -> Summary {
        let with_path = self.records.iter().filter(|r| r.path_exists);
        let mut latencies: Vec<u64> = self.records.iter().filter_map(|r| r.latency()).collect();
        latencies.sort_unstable();
        Summary {
            sent: self.records.len(),
            delivered: latencies.len(),
            with_path: with_path.clone().count(),
            delivered_with_path: with_path.filter(|r| r.delivered_at.is_some()).count(),
            confirmed: self
                .records
                .iter()
                .filter(|r| r.receipt_at.is_some())
                .count(),
            latency_ms: Percentiles::of_sorted(&latencies),
        }
    }
}

/// Delivery counts and latencies of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Messages sent.
    pub sent: usize,
    /// Messages delivered.
    pub delivered: usize,
    /// Messages sent while a path existed.
    pub with_path: usize,
    /// Of those, delivered.
    pub delivered_with_path: usize,
    /// Messages whose origin got a receipt.
    pub confirmed: usize,
    /// Delivery latency percentiles (None when nothing was delivered).
    pub latency_ms: Option<Percentiles>,
}

impl Summary {
    /// Delivered / sent where a path existed (1 when there was none).
    pub fn delivery_ratio(&self) -> f64 {
        ratio(self.delivered_with_path, self.with_path)
    }

    /// Confirmed / sent where a path existed (1 when there was none).
    pub fn receipt_ratio(&self) -> f64 {
        ratio(self.confirmed, self.with_path)
    }
}

/// `part / whole`, 1 when `whole` is 0.
pub(crate) fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Nearest-rank percentiles: the p-th percentile of n sorted samples is
/// the sample of rank `ceil(p n / 100)` (1-based), so it is always a
/// measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
}

impl Percentiles {
    /// Of ascending samples; None when there is none.
    pub fn of_sorted(sorted: &[u64]) -> Option<Self> {
        let max = *sorted.last()?;
        Some(Percentiles {
            p50: nearest_rank(sorted, 50),
            p90: nearest_rank(sorted, 90),
            p99: nearest_rank(sorted, 99),
            max,
        })
    }
}

/// The `p`-th (1..=100) nearest-rank percentile of non-empty ascending
/// samples.
fn nearest_rank(sorted: &[u64], p: usize) -> u64 {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_are_samples() {
        let samples: Vec<u64> = (1..=10).map(|i| i * 10).collect();
        let p = Percentiles::of_sorted(&samples).unwrap();
        // Ranks ceil(5) = 5, ceil(9) = 9, ceil(9.9) = 10.
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50, 90, 100, 100));
        let one = Percentiles::of_sorted(&[7]).unwrap();
        assert_eq!((one.p50, one.p99), (7, 7));
        let hundred: Vec<u64> = (1..=100).collect();
        let p = Percentiles::of_sorted(&hundred).unwrap();
        assert_eq!((p.p50, p.p90, p.p99), (50, 90, 99));
        assert_eq!(Percentiles::of_sorted(&[]), None);
    }

    #[test]
    fn records_count_first_deliveries_by_the_right_node() {
        let mut m = Metrics::default();
        let a = m.sent(0, 1, 100, true);
        let b = m.sent(1, 2, 200, true);
        let c = m.sent(2, 3, 300, false);
        m.observe(1, 150, Observation::Delivered { tag: a });
        m.observe(1, 160, Observation::Delivered { tag: a });
        m.observe(0, 170, Observation::Confirmed { tag: a });
        m.observe(3, 250, Observation::Delivered { tag: b });
        m.observe(2, 250, Observation::Delivered { tag: 99 });
        m.observe(3, 900, Observation::Delivered { tag: c });
        assert_eq!((m.duplicates, m.misdirected), (1, 2));
        assert_eq!(m.records()[0].latency(), Some(50));
        assert_eq!(m.records()[0].receipt_at, Some(170));
        assert_eq!(m.records()[1].delivered_at, None);
        let s = m.summary();
        assert_eq!(
            (
                s.sent,
                s.delivered,
                s.with_path,
                s.delivered_with_path,
                s.confirmed
            ),
            (3, 2, 2, 1, 1)
        );
        assert_eq!(s.delivery_ratio(), 0.5);
        assert_eq!(s.latency_ms.unwrap().p50, 50);
        assert_eq!(s.latency_ms.unwrap().max, 600);
    }
}
