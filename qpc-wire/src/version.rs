//! Protocol versions and sets of them.

use alloc::vec::Vec;

/// Protocol version 1, the version this crate implements. Hello frames always
/// carry version 1 in their header, whatever is negotiated.
pub const V1: u8 = 1;

/// A set of protocol versions (1..=255; 0 is reserved and never a member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VersionSet {
    bits: [u64; 4],
}

impl VersionSet {
    /// The empty set.
    pub const EMPTY: VersionSet = VersionSet { bits: [0; 4] };

    /// The versions this crate implements: `{1}`.
    pub fn supported() -> Self {
        Self::only(V1)
    }

    /// The set holding just `version` (empty for the reserved 0).
    pub fn only(version: u8) -> Self {
        let mut set = Self::EMPTY;
        set.insert(version);
        set
    }

    /// Adds `version` (0 is ignored).
    pub fn insert(&mut self, version: u8) {
        if version != 0 {
            self.bits[usize::from(version / 64)] |= 1 << (version % 64);
        }
    }

    /// Whether `version` is in the set.
    pub fn contains(&self, version: u8) -> bool {
        self.bits[usize::from(version / 64)] & (1 << (version % 64)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits == [0; 4]
    }

    /// The members, highest first (the order Hello lists them in).
    pub fn descending(&self) -> Vec<u8> {
        (1..=u8::MAX).rev().filter(|&v| self.contains(v)).collect()
    }
}

impl FromIterator<u8> for VersionSet {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        iter.into_iter().for_each(|v| set.insert(v));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let set: VersionSet = [0, 1, 64, 200, 255].into_iter().collect();
        assert_eq!(set.descending(), [255, 200, 64, 1]);
        assert!(!set.contains(0) && !set.contains(2) && set.contains(255));
        assert!(VersionSet::only(0).is_empty());
    }
}
