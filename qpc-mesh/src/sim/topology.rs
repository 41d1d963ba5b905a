//! Topologies: node positions plus directed hearing edges, each edge with
//! its latency and loss from an [`EdgeConfig`]. Generators: a line, a grid
//! and a random geometric graph (nodes uniform in a square, an edge both
//! ways between any two within a radius).

use std::collections::VecDeque;

use rand_core::Rng;

/// Where a node is, in arbitrary length units (only distances matter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// East.
    pub x: f64,
    /// North.
    pub y: f64,
}

impl Position {
    fn distance_squared(self, other: Position) -> f64 {
        let (dx, dy) = (self.x - other.x, self.y - other.y);
        dx * dx + dy * dy
    }
}

/// The physics of one directed hearing edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Delay between the end of a transmission and its reception, ms.
    pub latency_ms: u64,
    /// Probability, in thousandths, that the receiver misses one frame
    /// (0..=1000; larger values count as 1000).
    pub loss_permille: u16,
}

/// `to` hears `from`'s radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The transmitter's index.
    pub from: usize,
    /// The receiver's index.
    pub to: usize,
    /// Latency and loss.
    pub config: EdgeConfig,
}

/// Positions and directed edges.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// One position per node.
    pub positions: Vec<Position>,
    /// Directed edges, sorted by (from, to), no self loops or duplicates.
    pub edges: Vec<Edge>,
}

/// Components and degree of a topology (edges taken as undirected pairs,
/// which every generator here produces).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Connectivity {
    /// Number of connected components (0 for no nodes).
    pub components: usize,
    /// Nodes in the largest component.
    pub largest: usize,
    /// Outgoing edges per node, on average.
    pub mean_degree: f64,
}

impl Connectivity {
    /// Whether every node reaches every other.
    pub fn connected(&self) -> bool {
        self.components <= 1
    }
}

impl Topology {
    /// Positions with every pair in `pairs` connected both ways.
    fn from_pairs(
        positions: Vec<Position>,
        pairs: impl IntoIterator<Item = (usize, usize)>,
        config: EdgeConfig,
    ) -> Self {
        let mut edges: Vec<Edge> = pairs
            .into_iter()
            .filter(|(a, b)| a != b)
            .flat_map(|(a, b)| [(a, b), (b, a)])
            .map(|(from, to)| Edge { from, to, config })
            .collect();
        edges.sort_by_key(|e| (e.from, e.to));
        edges.dedup_by_key(|e| (e.from, e.to));
        Topology { positions, edges }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// For each node, the nodes that hear it, ascending.
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.len()];
        for e in &self.edges {
            out[e.from].push(e.to);
        }
        out
    }

    /// Which nodes `origin` (always included) reaches over directed edges
    /// through nodes for which `up` holds (the others are not reached).
    pub fn reachable_from(&self, origin: usize, up: impl Fn(usize) -> bool) -> Vec<bool> {
        let neighbours = self.neighbours();
        breadth_first(self.len(), origin, |at| {
            neighbours[at].iter().copied().filter(|&n| up(n)).collect()
        })
        .iter()
        .map(Option::is_some)
        .collect()
    }

    /// Hops from `origin` to every node (None: unreachable).
    pub fn hop_distances(&self, origin: usize) -> Vec<Option<usize>> {
        let neighbours = self.neighbours();
        breadth_first(self.len(), origin, |at| neighbours[at].clone())
    }

    /// Components, largest component and mean degree.
    pub fn connectivity(&self) -> Connectivity {
        let mut component = vec![usize::MAX; self.len()];
        let mut sizes = Vec::new();
        for start in 0..self.len() {
            if component[start] != usize::MAX {
                continue;
            }
            let reached = self.reachable_from(start, |_| true);
            let id = sizes.len();
            let mut size = 0;
            for (i, r) in reached.iter().enumerate() {
                if *r && component[i] == usize::MAX {
                    component[i] = id;
                    size += 1;
                }
            }
            sizes.push(size);
        }
        Connectivity {
            components: sizes.len(),
            largest: sizes.iter().copied().max().unwrap_or(0),
            mean_degree: if self.is_empty() {
                0.0
            } else {
                self.edges.len() as f64 / self.len() as f64
            },
        }
    }
}

/// Hops from `origin` to the nodes it reaches following `next` (None for
/// the others).
pub(crate) fn breadth_first(
    len: usize,
    origin: usize,
    mut next: impl FnMut(usize) -> Vec<usize>,
) -> Vec<Option<usize>> {
    let mut hops = vec![None; len];
    let mut queue = VecDeque::from([origin]);
    hops[origin] = Some(0);
    while let Some(at) = queue.pop_front() {
        let further = hops[at].map(|h| h + 1);
        for n in next(at) {
            if hops[n].is_none() {
                hops[n] = further;
                queue.push_back(n);
            }
        }
    }
    hops
}

/// `n` nodes `spacing` apart on a line, each hearing its two neighbours.
pub fn line(n: usize, spacing: f64, config: EdgeConfig) -> Topology {
    let positions = (0..n)
        .map(|i| Position {
            x: i as f64 * spacing,
            y: 0.0,
        })
        .collect();
    Topology::from_pairs(positions, (1..n).map(|i| (i - 1, i)), config)
}

/// A `width` x `height` grid, `spacing` apart, row by row (node
/// `x + width * y`), each hearing its up to four axis neighbours.
pub fn grid(width: usize, height: usize, spacing: f64, config: EdgeConfig) -> Topology {
    let index = |x: usize, y: usize| x + width * y;
    let positions = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| Position {
            x: x as f64 * spacing,
            y: y as f64 * spacing,
        })
        .collect();
    let right = (0..height).flat_map(|y| (1..width).map(move |x| (index(x - 1, y), index(x, y))));
    let down = (1..height).flat_map(|y| (0..width).map(move |x| (index(x, y - 1), index(x, y))));
    Topology::from_pairs(positions, right.chain(down).collect::<Vec<_>>(), config)
}

/// A uniform draw in `[0, side)` from 53 random bits.
fn uniform(rng: &mut impl Rng, side: f64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * side
}

/// A random geometric graph: `n` nodes uniform in a `side` x `side`
/// square, two nodes hearing each other when at most `radius` apart.
pub fn random_geometric(
    n: usize,
    side: f64,
    radius: f64,
    config: EdgeConfig,
    rng: &mut impl Rng,
) -> Topology {
    let positions: Vec<Position> = (0..n)
        .map(|_| Position {
            x: uniform(rng, side),
            y: uniform(rng, side),
        })
        .collect();
    let r2 = radius * radius;
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .filter(|&(a, b)| positions[a].distance_squared(positions[b]) <= r2)
        .collect();
    Topology::from_pairs(positions, pairs, config)
}

/// Draws random geometric graphs until one is connected, at most
/// `attempts` times; returns it with the number of draws it took.
pub fn random_geometric_connected(
    n: usize,
    side: f64,
    radius: f64,
    config: EdgeConfig,
    rng: &mut impl Rng,
    attempts: usize,
) -> Option<(Topology, usize)> {
    (1..=attempts).find_map(|attempt| {
        let t = random_geometric(n, side, radius, config, rng);
        t.connectivity().connected().then_some((t, attempt))
    })
}

/// The radius at which a random geometric graph of `n` nodes in a square
/// of `side` has `mean_degree` neighbours per node on average, border
/// included: a node's expected degree is `(n - 1) a(r)`, where
/// `a(r) = pi r^2 - 8 r^3 / 3 + r^4 / 2` is the mean share of the unit
/// square within `r` of a uniform point (r <= 1), solved by bisection. A degree above the
/// square's reach gives the diagonal (everyone hears everyone).
pub fn radius_for_degree(n: usize, side: f64, mean_degree: f64) -> f64 {
    let others = n.saturating_sub(1).max(1) as f64;
    let share = |r: f64| std::f64::consts::PI * r * r - 8.0 * r * r * r / 3.0 + r.powi(4) / 2.0;
    let target = mean_degree / others;
    if target >= share(1.0) {
        return side * std::f64::consts::SQRT_2;
    }
    let (mut low, mut high) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if share(mid) < target {
            low = mid;
        } else {
            high = mid;
        }
    }
    side * high
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const EDGE: EdgeConfig = EdgeConfig {
        latency_ms: 5,
        loss_permille: 100,
    };

    #[test]
    fn a_line_has_two_edges_per_link_and_degree_two_inside() {
        let t = line(5, 10.0, EDGE);
        assert_eq!(t.len(), 5);
        assert_eq!(t.edges.len(), 8);
        assert_eq!(t.neighbours()[0], vec![1]);
        assert_eq!(t.neighbours()[2], vec![1, 3]);
        assert_eq!(
            t.hop_distances(1),
            [Some(1), Some(0), Some(1), Some(2), Some(3)]
        );
        assert_eq!(t.positions[4], Position { x: 40.0, y: 0.0 });
        assert!(t.edges.iter().all(|e| e.config == EDGE));
        let c = t.connectivity();
        assert_eq!((c.components, c.largest, c.mean_degree), (1, 5, 1.6));
    }

    #[test]
    fn a_grid_has_axis_neighbours_only() {
        let t = grid(4, 3, 1.0, EDGE);
        assert_eq!(t.len(), 12);
        // 3 rows of 3 horizontal links, 2 rows of 4 vertical, both ways.
        assert_eq!(t.edges.len(), 2 * (3 * 3 + 2 * 4));
        let n = t.neighbours();
        assert_eq!(n[0], vec![1, 4]);
        assert_eq!(n[5], vec![1, 4, 6, 9]);
        assert_eq!(n[11], vec![7, 10]);
        assert_eq!(t.positions[6], Position { x: 2.0, y: 1.0 });
        assert!(t.connectivity().connected());
    }

    #[test]
    fn a_random_geometric_graph_joins_exactly_the_close_pairs() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let t = random_geometric(60, 1.0, 0.2, EDGE, &mut rng);
        for a in 0..60 {
            for b in 0..60 {
                let close = a != b && t.positions[a].distance_squared(t.positions[b]) <= 0.04;
                let linked = t.edges.iter().any(|e| (e.from, e.to) == (a, b));
                assert_eq!(close, linked, "{a} {b}");
            }
        }
        assert!(t
            .positions
            .iter()
            .all(|p| (0.0..1.0).contains(&p.x) && (0.0..1.0).contains(&p.y)));
        let again = random_geometric(60, 1.0, 0.2, EDGE, &mut ChaCha20Rng::seed_from_u64(3));
        assert_eq!(again, t, "seeded");
    }

    #[test]
    fn the_mean_degree_follows_the_radius() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let r = radius_for_degree(400, 1.0, 10.0);
        let c = random_geometric(400, 1.0, r, EDGE, &mut rng).connectivity();
        assert!((9.0..11.0).contains(&c.mean_degree), "{}", c.mean_degree);
        // Without the border term the radius would be sqrt(10 / (399 pi)).
        assert!(r > (10.0 / (399.0 * std::f64::consts::PI)).sqrt());
        assert_eq!(
            radius_for_degree(10, 2.0, 50.0),
            2.0 * std::f64::consts::SQRT_2
        );
    }

    #[test]
    fn components_are_counted_and_redrawing_finds_a_connected_graph() {
        let two = Topology::from_pairs(
            vec![Position { x: 0.0, y: 0.0 }; 5],
            [(0, 1), (2, 3), (3, 4)],
            EDGE,
        );
        let c = two.connectivity();
        assert_eq!((c.components, c.largest), (2, 3));
        assert!(!c.connected());
        assert_eq!(
            two.reachable_from(2, |_| true),
            [false, false, true, true, true]
        );
        assert_eq!(
            two.reachable_from(2, |i| i != 3),
            [false, false, true, false, false]
        );
        assert_eq!(
            two.hop_distances(4),
            [None, None, Some(2), Some(1), Some(0)]
        );

        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let r = radius_for_degree(100, 1.0, 8.0);
        let (t, attempts) = random_geometric_connected(100, 1.0, r, EDGE, &mut rng, 50).unwrap();
        assert!(t.connectivity().connected() && attempts >= 1);
        // A radius that joins nothing never connects 100 nodes.
        assert!(random_geometric_connected(100, 1.0, 0.0, EDGE, &mut rng, 3).is_none());
    }
}
