//! A bounded, insertion-ordered map: the therapist's digest set of sealed
//! reservations seen and its record of answered requests. When full, the
//! oldest entry goes first (FIFO), so memory is fixed by configuration.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map of at most `capacity` entries that forgets the oldest first.
#[derive(Debug, Clone)]
pub struct BoundedMap<K, V> {
    capacity: usize,
    entries: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Copy + Eq + Hash, V> BoundedMap<K, V> {
    /// An empty map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        BoundedMap {
            capacity,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    /// Inserts (or replaces) `key`; returns the entry evicted to make room.
    pub fn insert(&mut self, key: K, value: V) -> Option<(K, V)> {
        if self.entries.insert(key, value).is_some() {
            return None;
        }
        self.order.push_back(key);
        if self.order.len() <= self.capacity {
            return None;
        }
        let oldest = self.order.pop_front()?;
        self.entries.remove(&oldest).map(|v| (oldest, v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
