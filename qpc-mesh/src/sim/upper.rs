//! The hook for a layer above the mesh (e.g. FAPP, `spec/20-fapp.md`):
//! it sees every event a simulated node emits before the simulator
//! records it, may act on that node's engine (send, request keys), and
//! has timers of its own that fire with the node's.

use rand_chacha::ChaCha20Rng;

use crate::node::{Event, MeshNode};

/// A layer over the simulated nodes, driven by
/// [`super::Simulator::run_until_with`] and
/// [`super::Simulator::with_node_upper`].
pub trait Upper {
    /// Node `node` emitted `event`; `engine` is that node's.
    fn on_event(
        &mut self,
        node: usize,
        engine: &mut MeshNode,
        event: &Event,
        now: u64,
        rng: &mut ChaCha20Rng,
    );

    /// When the layer next needs [`Upper::on_timeout`] for `node`.
    fn poll_timeout(&self, node: usize) -> Option<u64>;

    /// Node `node`'s timer fired (the engine's own timeout was handled).
    fn on_timeout(&mut self, node: usize, engine: &mut MeshNode, now: u64, rng: &mut ChaCha20Rng);
}

/// No layer: the mesh alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUpper;

impl Upper for NoUpper {
    fn on_event(&mut self, _: usize, _: &mut MeshNode, _: &Event, _: u64, _: &mut ChaCha20Rng) {}

    fn poll_timeout(&self, _: usize) -> Option<u64> {
        None
    }

    fn on_timeout(&mut self, _: usize, _: &mut MeshNode, _: u64, _: &mut ChaCha20Rng) {}
}
