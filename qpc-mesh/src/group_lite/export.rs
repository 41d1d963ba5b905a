//! A member's persisted MLS-Lite state (`spec/12-mls-lite.md` §B.11):
//! exporting reserves a block of send counters, so a member restored from
//! the bytes never reuses a nonce, and keeps the current epoch's replay
//! windows, so messages delivered before the export are refused after a
//! restart.

use bytes::{BufMut, Bytes};
use qpc_wire::codec::Reader;
use zeroize::Zeroizing;

use super::window::ReplayWindow;
use super::{GroupLite, LiteEpoch, MAX_MEMBERS};
use crate::{Error, Result};

/// The version byte of an exported member state.
pub const EXPORT_VERSION: u8 = 1;
/// Bytes of one sender's exported replay window.
const WINDOW_LEN: usize = 1 + 4 + 8;
/// The longest exported member state (1024 members).
pub const MAX_EXPORT_LEN: usize = 1 + 8 + 32 + 2 + 2 + 8 + WINDOW_LEN * MAX_MEMBERS as usize;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed {
        message: "exported MLS-Lite member",
        reason,
    }
}

impl GroupLite {
    /// The state to persist: the current epoch (the previous one and its
    /// grace period are not kept), this member's index, the send counter
    /// with the next [`super::RESERVATION`] counters reserved, and every
    /// sender's replay window. Persist the bytes before sealing with the
    /// reserved counters.
    pub fn export(&mut self) -> Zeroizing<Vec<u8>> {
        self.reserve();
        let e = &self.current;
        let mut out = Zeroizing::new(Vec::with_capacity(53 + WINDOW_LEN * e.windows.len()));
        out.put_u8(EXPORT_VERSION);
        out.put_u64(e.epoch);
        out.put_slice(&e.secret[..]);
        out.put_u16(self.own_index);
        out.put_u16(e.members);
        out.put_u64(self.counter_limit);
        for window in &e.windows {
            let (highest, seen) = window.parts();
            out.put_u8(u8::from(highest.is_some()));
            out.put_u32(highest.unwrap_or(0));
            out.put_u64(seen);
        }
        out
    }

    /// A member from [`GroupLite::export`]'s bytes, sending from the
    /// reserved counter, the previous epoch readable for `grace_ms` after
    /// its next [`GroupLite::advance`].
    pub fn restore(bytes: &[u8], grace_ms: u64) -> Result<GroupLite> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes));
        let version = r.u8()?;
        if version != EXPORT_VERSION {
            return Err(Error::UnknownVersion(version));
        }
        let epoch = r.u64()?;
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(r.array()?);
        let (own_index, members) = (r.u16()?, r.u16()?);
        let next = r.u64()?;
        if next > u64::from(u32::MAX) {
            return Err(malformed("counter beyond 2^32 - 1"));
        }
        let mut current = LiteEpoch::new(epoch, &secret, members)?;
        if own_index >= members {
            return Err(Error::InvalidConfig(
                "MLS-Lite: own index beyond the members",
            ));
        }
        for window in current.windows.iter_mut() {
            let present = r.u8()?;
            let (highest, seen) = (r.u32()?, r.u64()?);
            *window = match present {
                0 if highest == 0 && seen == 0 => ReplayWindow::default(),
                1 if seen & 1 == 1 => ReplayWindow::from_parts(highest, seen),
                _ => return Err(malformed("replay window")),
            };
        }
        r.finish()?;
        Ok(GroupLite {
            own_index,
            next_counter: next,
            counter_limit: next,
            grace_ms,
            current,
            previous: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn exported_members_round_trip(
            epoch in any::<u64>(),
            members in 1u16..=40,
            index_seed in any::<u16>(),
            counters in proptest::collection::vec((any::<u16>(), 0u32..200), 0..40),
        ) {
            let own = index_seed % members;
            let secret = [0x17; 32];
            let mut receiver = GroupLite::new(epoch, &secret, own, members, 0, 0).unwrap();
            for (sender, counter) in counters {
                let sender = sender % members;
                let mut peer = GroupLite::new(epoch, &secret, sender, members, counter, 0).unwrap();
                peer.reserve();
                let _ = receiver.open(&peer.seal(b"x").unwrap(), 0);
            }
            let state = receiver.export();
            prop_assert_eq!(state.len(), 53 + WINDOW_LEN * usize::from(members));
            let mut restored = GroupLite::restore(&state, 0).unwrap();
            // The same state, one reservation further.
            let again = restored.export();
            prop_assert_eq!(&again[..45], &state[..45]);
            prop_assert_eq!(&again[53..], &state[53..]);
            let next = |b: &[u8]| u64::from_be_bytes(b[45..53].try_into().unwrap());
            prop_assert_eq!(next(&again), next(&state) + u64::from(crate::group_lite::RESERVATION));
        }

        #[test]
        fn hostile_exports_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = GroupLite::restore(&data, 0);
        }
    }

    #[test]
    fn restored_member_skips_the_reservation_and_refuses_replays() {
        let secret = [0x42; 32];
        let mut alice = GroupLite::new(3, &secret, 0, 2, 0, 1000).unwrap();
        let mut bob = GroupLite::new(3, &secret, 1, 2, 0, 1000).unwrap();
        alice.reserve();
        let first = alice.seal(b"one").unwrap();
        bob.open(&first, 0).unwrap();
        let state = bob.export();
        assert_eq!(state.len(), 53 + 2 * WINDOW_LEN);
        let mut restored = GroupLite::restore(&state, 1000).unwrap();
        assert_eq!(restored.open(&first, 0).unwrap_err().class(), "replayed");
        let second = alice.seal(b"two").unwrap();
        assert_eq!(&restored.open(&second, 0).unwrap().content[..], b"two");
        // Bob's counters 0..16 were reserved: the restored Bob seals from 16.
        restored.reserve();
        let sealed = restored.seal(b"three").unwrap();
        assert_eq!(alice.open(&sealed, 0).unwrap().counter, 16);
        let again = restored.export();
        assert_eq!(again.len(), state.len());
        assert_eq!(again[..45], state[..45]); // same epoch, secret, index, members
    }

    #[test]
    fn restore_refuses_hostile_bytes() {
        let mut member = GroupLite::new(1, &[1; 32], 0, 1, 0, 0).unwrap();
        let good = member.export();
        let class = |bytes: &[u8]| GroupLite::restore(bytes, 0).unwrap_err().class();
        let mut bad = good.to_vec();
        bad[0] = 2;
        assert_eq!(class(&bad), "unknown_version");
        assert_eq!(class(&good[..good.len() - 1]), "truncated");
        assert_eq!(class(&[&good[..], &[0]].concat()), "trailing_bytes");
        let mut bad = good.to_vec();
        bad[53] = 2; // window presence flag
        assert_eq!(class(&bad), "malformed");
        let mut bad = good.to_vec();
        bad[41..43].copy_from_slice(&[0, 1]); // own index 1 of 1 member
        assert_eq!(class(&bad), "invalid_config");
        let mut bad = good.to_vec();
        bad[43..45].copy_from_slice(&[0, 0]); // no members
        assert_eq!(class(&bad), "invalid_config");
    }
}
