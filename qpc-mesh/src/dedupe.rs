//! The duplicate filter (`spec/10-mesh.md` §7.1): a node acts on each
//! `(type, destination, message_id)` once. The filter remembers the last
//! `capacity` keys (first in, first out); a key pushed out may be acted on
//! again. `MeshNode` does not filter announces: a later copy of a known
//! sequence may carry a better metric, and the routing table's stored
//! announce spares re-verifying it (§7.1 step 4).

use std::collections::{HashSet, VecDeque};

use qpc_crypto::identity::Address;

use crate::envelope::Header;
use crate::{Error, Result};

/// What a message is recognised by.
pub type DedupeKey = (u8, Address, u32);

/// A bounded set of recently seen messages.
#[derive(Debug, Clone)]
pub struct DuplicateFilter {
    capacity: usize,
    seen: HashSet<DedupeKey>,
    order: VecDeque<DedupeKey>,
}

impl DuplicateFilter {
    /// A filter remembering at most `capacity` (at least 1) messages.
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::InvalidConfig("dedupe capacity must be at least 1"));
        }
        Ok(DuplicateFilter {
            capacity,
            seen: HashSet::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
        })
    }

    /// The key of a header.
    pub fn key(header: &Header) -> DedupeKey {
        (
            header.message_type.code(),
            header.destination,
            header.message_id,
        )
    }

    /// `true` the first time a key is offered (and remembers it); `false`
    /// while it is remembered.
    pub fn first_sighting(&mut self, header: &Header) -> bool {
        let key = Self::key(header);
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(key);
        self.order.push_back(key);
        true
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::MessageType;
    use proptest::prelude::*;

    fn header(id: u32) -> Header {
        Header {
            message_type: MessageType::PathRequest,
            hop_count: 0,
            hop_limit: 3,
            destination: Address::from_bytes([1; 16]),
            message_id: id,
            hop_id: None,
        }
    }

    #[test]
    fn hop_fields_do_not_matter_and_old_keys_fall_out() {
        let mut f = DuplicateFilter::new(2).unwrap();
        assert!(f.first_sighting(&header(1)));
        let mut relayed = header(1);
        relayed.hop_count = 2;
        assert!(!f.first_sighting(&relayed));
        assert!(f.first_sighting(&header(2)));
        assert!(f.first_sighting(&header(3)));
        assert_eq!(f.len(), 2);
        assert!(f.first_sighting(&header(1)), "pushed out, so new again");
        assert!(DuplicateFilter::new(0).is_err());
    }

    proptest! {
        #[test]
        fn matches_a_window_model(ids in proptest::collection::vec(0u32..8, 0..64), cap in 1usize..6) {
            let mut f = DuplicateFilter::new(cap).unwrap();
            let mut window: VecDeque<u32> = VecDeque::new();
            for id in ids {
                let expected = !window.contains(&id);
                prop_assert_eq!(f.first_sighting(&header(id)), expected);
                if expected {
                    if window.len() == cap {
                        window.pop_front();
                    }
                    window.push_back(id);
                }
                prop_assert!(f.len() <= cap);
            }
        }
    }
}
