//! A member's whole state as bytes, for restarts (`spec/07` §9).
//!
//! ```text
//! struct {
//!     uint8 version = 1;
//!     opaque address[16];            // whose state this is
//!     StorageEntry storage<V>;       // OpenMLS's key-value store, keys ascending
//!     GroupRecord groups<V>;         // group ids ascending
//! } MemberState;
//!
//! struct { opaque key<V>; opaque value<V>; } StorageEntry;
//!
//! struct {
//!     opaque group_id[16];
//!     uint64 next_sequence;          // our next delivery sequence number
//!     uint64 epoch;                  // the ordering state's epoch
//!     opaque seen<V>;                // 32-byte digests, oldest first
//!     HeldMessage held<V>;           // arrival order
//!     SenderWindow senders<V>;       // addresses ascending
//! } GroupRecord;
//!
//! struct { uint64 epoch; opaque message<V>; } HeldMessage;
//! struct { opaque address[16]; uint64 next; opaque missing<V>; } SenderWindow;
//!                                    // missing: uint64s, ascending
//! ```
//!
//! The state holds group secrets: store it as carefully as the identity.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

use bytes::Bytes;
use openmls::prelude::MlsGroup;
use openmls_memory_storage::MemoryStorage;
use qpc_wire::codec::{self, Reader};
use zeroize::Zeroizing;

use super::delivery::{DeliveryOrder, SenderWindow};
use super::member::{GroupId, GroupMember, GroupState, MlsConfig};
use crate::identity::{Address, Identity};
use crate::Error;

/// The state format version.
pub const STATE_VERSION: u8 = 1;

/// Bounds on what an imported state may hold.
const MAX_ENTRIES: usize = 1 << 24;
const MAX_VALUE: usize = 1 << 29;

fn vl(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
    let mut inner = Vec::new();
    f(&mut inner);
    Ok(codec::put_vl_bytes(out, &inner)?)
}

/// Reads `T items<V>` with a per-item closure, at most `max` items.
fn items(
    r: &mut Reader,
    max: usize,
    mut item: impl FnMut(&mut Reader) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut inner = Reader::new(r.vl_bytes(MAX_VALUE)?);
    let mut count = 0;
    while inner.remaining() > 0 {
        count += 1;
        if count > max {
            return Err(Error::Malformed("member state: too many items"));
        }
        item(&mut inner)?;
    }
    Ok(())
}

impl GroupMember {
    /// The whole state (OpenMLS storage and qpc's ordering state) as bytes.
    /// The identity is not included: keep it apart and pass it to
    /// [`import_state`](Self::import_state).
    pub fn export_state(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut out = Zeroizing::new(vec![STATE_VERSION]);
        out.extend_from_slice(self.address().as_bytes());
        let values = self
            .provider
            .storage
            .values
            .read()
            .map_err(|_| Error::Mls("storage lock".into()))?;
        let sorted: BTreeMap<_, _> = values.iter().collect();
        let mut storage = Zeroizing::new(Vec::new());
        for (key, value) in sorted {
            codec::put_vl_bytes(&mut *storage, key)?;
            codec::put_vl_bytes(&mut *storage, value)?;
        }
        codec::put_vl_bytes(&mut *out, &storage)?;
        let mut groups = Vec::new();
        for (id, state) in &self.groups {
            encode_group(&mut groups, id, state)?;
        }
        codec::put_vl_bytes(&mut *out, &groups)?;
        Ok(out)
    }

    /// Rebuilds a member from [`export_state`](Self::export_state) bytes and
    /// its identity.
    pub fn import_state(
        identity: Identity,
        config: MlsConfig,
        bytes: &[u8],
    ) -> Result<Self, Error> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes));
        let version = r.u8()?;
        if version != STATE_VERSION {
            return Err(Error::UnknownVersion {
                what: "member state",
                version,
            });
        }
        if Address::from_bytes(r.array()?) != identity.public().address() {
            return Err(Error::Malformed("member state: of another identity"));
        }
        let mut values = std::collections::HashMap::new();
        items(&mut r, MAX_ENTRIES, |r| {
            let key = r.vl_bytes(MAX_VALUE)?.to_vec();
            let value = r.vl_bytes(MAX_VALUE)?.to_vec();
            values.insert(key, value);
            Ok(())
        })?;
        let storage = MemoryStorage {
            values: RwLock::new(values),
        };
        let mut records = Vec::new();
        items(&mut r, config.max_groups, |r| {
            records.push(decode_group(r)?);
            Ok(())
        })?;
        r.finish()?;
        let mut groups = BTreeMap::new();
        for (id, next_sequence, epoch, seen, held, senders) in records {
            let mls = MlsGroup::load(&storage, &openmls::prelude::GroupId::from_slice(&id.0))
                .map_err(|e| Error::Mls(format!("load group: {e:?}")))?
                .ok_or(Error::Malformed("member state: group missing from storage"))?;
            let order = DeliveryOrder::from_parts(config.order, epoch, seen, held, senders);
            groups.insert(
                id,
                GroupState {
                    mls,
                    order,
                    next_sequence,
                },
            );
        }
        GroupMember::with_storage(identity, config, storage, groups)
    }
}

fn encode_group(out: &mut Vec<u8>, id: &GroupId, state: &GroupState) -> Result<(), Error> {
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&state.next_sequence.to_be_bytes());
    let order = &state.order;
    out.extend_from_slice(&order.epoch.to_be_bytes());
    vl(out, |v| {
        order.seen_order.iter().for_each(|d| v.extend_from_slice(d))
    })?;
    let mut held = Vec::new();
    for (epoch, message) in &order.held {
        held.extend_from_slice(&epoch.to_be_bytes());
        codec::put_vl_bytes(&mut held, message)?;
    }
    codec::put_vl_bytes(out, &held)?;
    let mut senders = Vec::new();
    for (address, window) in &order.senders {
        senders.extend_from_slice(address.as_bytes());
        senders.extend_from_slice(&window.next.to_be_bytes());
        vl(&mut senders, |v| {
            window
                .missing
                .iter()
                .for_each(|m| v.extend_from_slice(&m.to_be_bytes()))
        })?;
    }
    Ok(codec::put_vl_bytes(out, &senders)?)
}

type GroupRecord = (
    GroupId,
    u64,
    u64,
    Vec<[u8; 32]>,
    Vec<(u64, Vec<u8>)>,
    BTreeMap<Address, SenderWindow>,
);

fn decode_group(r: &mut Reader) -> Result<GroupRecord, Error> {
    let id = GroupId(r.array()?);
    let next_sequence = r.u64()?;
    let epoch = r.u64()?;
    let mut seen = Vec::new();
    let mut digests = Reader::new(r.vl_bytes(MAX_VALUE)?);
    while digests.remaining() > 0 {
        seen.push(digests.array()?);
    }
    let mut held = Vec::new();
    items(r, MAX_ENTRIES, |r| {
        held.push((r.u64()?, r.vl_bytes(MAX_VALUE)?.to_vec()));
        Ok(())
    })?;
    let mut senders = BTreeMap::new();
    items(r, MAX_ENTRIES, |r| {
        let address = Address::from_bytes(r.array()?);
        let next = r.u64()?;
        let mut missing = BTreeSet::new();
        let mut list = Reader::new(r.vl_bytes(MAX_VALUE)?);
        while list.remaining() > 0 {
            missing.insert(list.u64()?);
        }
        senders.insert(address, SenderWindow { next, missing });
        Ok(())
    })?;
    Ok((id, next_sequence, epoch, seen, held, senders))
}
