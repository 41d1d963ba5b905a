//! MLS-Lite groups inside [`MeshNode`] (`spec/12-mls-lite.md` §B.12,
//! `spec/10-mesh.md` §12.8): the application installs a group's epoch
//! keys ([`GroupKeys`], from an MLS exporter or a secret handed out over
//! pairwise sessions) under a handle of its choosing; the node seals
//! GroupLite (`0xb`) messages, floods them with the channels' managed
//! flooding (§13.5, §13.6), opens those of its groups and relays every
//! one, member or not.
//!
//! Sending needs reserved counters (§B.5): [`MeshNode::export_state`]
//! reserves the next 16 of every group, so a driver that persists the
//! exported state before its transmits go never reuses a nonce, and
//! [`MeshNode::send_group`] refuses with `wrong_state` once they are used
//! up, until the next export.

use bytes::Bytes;
use qpc_crypto::mls::{GroupId, GroupMember};
use zeroize::Zeroizing;

use super::{Event, MeshNode};
use crate::envelope::{Header, MessageType};
use crate::group_lite::{mls_epoch_secret, GroupLite};
use crate::message::{EndToEndPacket, Message};
use crate::routing::LinkId;
use crate::{Error, Result};

/// The application's name for an installed group (any value; the node
/// never sends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupHandle(pub u64);

/// One epoch of a group as a member sees it (`spec/12` §B.2).
#[derive(Clone, PartialEq, Eq)]
pub struct GroupKeys {
    /// The epoch number (its low 8 bits are on the wire).
    pub epoch: u64,
    /// The epoch secret `s`.
    pub secret: Zeroizing<[u8; 32]>,
    /// This member's index in the epoch's member list.
    pub own_index: u16,
    /// The epoch's member count (1..=1024).
    pub members: u16,
}

impl core::fmt::Debug for GroupKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupKeys")
            .field("epoch", &self.epoch)
            .field("own_index", &self.own_index)
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl GroupKeys {
    /// The keys of epoch `epoch` with secret `secret`, e.g. one a
    /// coordinator handed out inside pairwise sessions (§B.2), for the
    /// member at `own_index` of `members`.
    pub fn from_secret(epoch: u64, secret: &[u8; 32], own_index: u16, members: u16) -> Self {
        GroupKeys {
            epoch,
            secret: Zeroizing::new(*secret),
            own_index,
            members,
        }
    }

    /// The keys of `group`'s current MLS epoch: the exporter secret with
    /// label `qpc mls-lite v1` and this member's index in leaf order.
    pub fn from_mls(member: &GroupMember, group: &GroupId) -> Result<Self> {
        let (secret, epoch, own_index, members) = mls_epoch_secret(member, group)?;
        Ok(GroupKeys {
            epoch,
            secret,
            own_index,
            members,
        })
    }
}

impl MeshNode {
    /// Installs `keys` for `group`: joins it (sending from counter 0) or,
    /// if installed, moves it to the later epoch `keys.epoch`, keeping the
    /// current one readable for `group_grace_ms`. `full` beyond
    /// `max_groups`; `invalid_config` for bad keys or an epoch that does
    /// not move forward.
    pub fn join_group(&mut self, group: GroupHandle, keys: &GroupKeys, now: u64) -> Result<()> {
        self.advance(now);
        if let Some(installed) = self.groups.get_mut(&group) {
            return installed.advance(keys.epoch, &keys.secret, keys.own_index, keys.members, now);
        }
        if self.groups.len() >= self.config.max_groups {
            return Err(Error::Full("MLS-Lite groups"));
        }
        let lite = GroupLite::new(
            keys.epoch,
            &keys.secret,
            keys.own_index,
            keys.members,
            0,
            self.config.group_grace_ms,
        )?;
        self.groups.insert(group, lite);
        Ok(())
    }

    /// Forgets a group; its messages are still relayed. `false` if it was
    /// not installed.
    pub fn leave_group(&mut self, group: &GroupHandle) -> bool {
        self.groups.remove(group).is_some()
    }

    /// The current epoch of an installed group.
    pub fn group_epoch(&self, group: &GroupHandle) -> Option<u64> {
        self.groups.get(group).map(GroupLite::epoch)
    }

    /// Seals `payload` (at most 1024 bytes) as our next message in `group`
    /// and floods it as a GroupLite datagram (§12.8); returns its message
    /// id. `unknown_group` for a group not installed; `wrong_state` once the counters reserved by the last
    /// [`MeshNode::export_state`] are used up.
    pub fn send_group(&mut self, group: &GroupHandle, payload: &[u8], now: u64) -> Result<u32> {
        self.advance(now);
        let installed = self.groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let body = installed.seal(payload)?;
        let header = Header {
            message_type: MessageType::GroupLite,
            hop_count: 0,
            hop_limit: self.config.hop_limit,
            destination: installed.destination(),
            message_id: rand_core::Rng::next_u32(&mut self.rng),
            hop_id: None,
        };
        let message_id = header.message_id;
        let packet = EndToEndPacket {
            header,
            body: Bytes::from(body),
        };
        self.originate_flooded(Message::GroupLite(packet), now);
        Ok(message_id)
    }

    /// The installed groups' states for the exported state, each with its
    /// next 16 counters reserved (`spec/12` §B.11).
    pub(super) fn export_groups(&mut self) -> Vec<(GroupHandle, Zeroizing<Vec<u8>>)> {
        self.groups
            .iter_mut()
            .map(|(handle, g)| (*handle, g.export()))
            .collect()
    }

    /// A restored group; `false` if the handle is taken or the groups are
    /// at `max_groups`.
    pub(super) fn restore_group(&mut self, group: GroupHandle, lite: GroupLite) -> bool {
        if self.groups.len() >= self.config.max_groups || self.groups.contains_key(&group) {
            return false;
        }
        self.groups.insert(group, lite);
        true
    }

    /// A GroupLite message after the duplicate filter: opened by the group
    /// whose destination it names (checks G1–G6 of `spec/12` §B.4), then
    /// relayed like a channel message, member or not (§12.8). A member
    /// does not relay a message its group refuses.
    pub(super) fn on_group(&mut self, link: LinkId, packet: EndToEndPacket, now: u64) {
        let destination = packet.header.destination;
        let installed = self
            .groups
            .iter_mut()
            .find(|(_, g)| g.is_destination(&destination, now));
        if let Some((handle, g)) = installed {
            let group = *handle;
            match g.open(&packet.body, now) {
                Ok(opened) => self.push_event(Event::GroupReceived {
                    group,
                    sender: opened.sender,
                    epoch: opened.epoch,
                    payload: Bytes::copy_from_slice(&opened.content),
                }),
                Err(e) => {
                    self.push_event(Event::Rejected {
                        link,
                        class: e.class(),
                    });
                    return;
                }
            }
        }
        self.relay_flooded(link, Message::GroupLite(packet), now);
    }
}
