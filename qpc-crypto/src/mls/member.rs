//! [`GroupMember`]: one identity's MLS groups, sans-IO (`spec/07` §8).

use std::collections::BTreeMap;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    Capabilities, CredentialType, ExtensionType, KeyPackage, KeyPackageIn, LeafNodeIndex,
    LeafNodeParameters, Lifetime, MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProcessedMessageContent, ProtocolMessage,
    ProtocolVersion, Sender, SenderRatchetConfiguration, StagedCommit, StagedWelcome,
    PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_memory_storage::MemoryStorage;
use openmls_traits::OpenMlsProvider as _;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use super::credential::{address_of, address_of_member, credential_with_key, MlsSigner};
use super::delivery::{
    Admission, DeliveryHeader, DeliveryOrder, DropReason, OrderConfig, Sequenced,
};
use super::payload::{ApplicationPayload, ContentType};
use super::provider::Provider;
use super::Suite;
use crate::identity::{Address, Identity};
use crate::Error;

/// A group's id: 16 random bytes chosen by its creator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub [u8; GROUP_ID_LEN]);

/// The length of a [`GroupId`].
pub const GROUP_ID_LEN: usize = 16;

impl GroupId {
    fn mls(&self) -> openmls::prelude::GroupId {
        openmls::prelude::GroupId::from_slice(&self.0)
    }

    fn of(id: &openmls::prelude::GroupId) -> Result<Self, Error> {
        id.as_slice()
            .try_into()
            .map(GroupId)
            .map_err(|_| Error::Malformed("MLS group id is not 16 bytes"))
    }
}

/// A member's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlsConfig {
    /// The suites this member supports, most preferred first.
    pub suites: Vec<Suite>,
    /// Bounds of the delivery ordering of every group.
    pub order: OrderConfig,
    /// The largest MLS message [`GroupMember::receive`] accepts, in bytes.
    pub max_message: usize,
    /// Key packages are valid for this long after their creation (seconds).
    pub key_package_lifetime_s: u64,
    /// Add-only commits carry an UpdatePath (refreshing the committer's
    /// keys). Off by default: the path is encrypted to nearly every member,
    /// so it makes adds to large groups expensive, and RFC 9420 §12.4 makes
    /// it optional for add-only commits; use [`GroupMember::self_update`]
    /// for post-compromise security.
    pub add_with_path: bool,
    /// Groups a member may be in, at most.
    pub max_groups: usize,
}

impl Default for MlsConfig {
    fn default() -> Self {
        MlsConfig {
            suites: Suite::ALL.to_vec(),
            order: OrderConfig::default(),
            max_message: 4 << 20,
            key_package_lifetime_s: 28 * 24 * 3600,
            add_with_path: false,
            max_groups: 1024,
        }
    }
}

/// What a sending operation produced: the MLS message for the group and,
/// when members were added, the Welcome for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The MLSMessage for the current members.
    pub message: Vec<u8>,
    /// The MLSMessage (Welcome) for new members.
    pub welcome: Option<Vec<u8>>,
    /// What processing the held messages of the new epoch gave (usually
    /// nothing).
    pub events: Vec<GroupEvent>,
}

/// Something that happened in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEvent {
    /// We joined from a Welcome.
    Joined {
        /// The group.
        group: GroupId,
        /// Its epoch.
        epoch: u64,
        /// Its members, ourselves included.
        members: Vec<Address>,
    },
    /// An application message.
    Message {
        /// The group.
        group: GroupId,
        /// The authenticated sender.
        sender: Address,
        /// Its delivery sequence number.
        sequence: u64,
        /// The payload.
        payload: ApplicationPayload,
    },
    /// A commit added members.
    MembersAdded {
        /// The group.
        group: GroupId,
        /// The committer.
        by: Address,
        /// Who joined.
        added: Vec<Address>,
    },
    /// A commit removed members.
    MembersRemoved {
        /// The group.
        group: GroupId,
        /// The committer.
        by: Address,
        /// Who left.
        removed: Vec<Address>,
    },
    /// A commit refreshed the committer's keys (an UpdatePath).
    KeysUpdated {
        /// The group.
        group: GroupId,
        /// The member whose leaf changed.
        member: Address,
    },
    /// A commit was merged: the group is at a new epoch.
    EpochChanged {
        /// The group.
        group: GroupId,
        /// The new epoch.
        epoch: u64,
    },
    /// A commit removed us; the group is gone from this member.
    Removed {
        /// The group.
        group: GroupId,
    },
    /// A member proposed to leave; [`GroupMember::commit_pending`] applies it.
    LeaveRequested {
        /// The group.
        group: GroupId,
        /// Who wants to leave.
        member: Address,
    },
    /// A message for a future epoch is held.
    Held {
        /// The group.
        group: GroupId,
        /// Its epoch.
        epoch: u64,
    },
    /// A message arrived again and was dropped.
    Duplicate {
        /// The group.
        group: GroupId,
    },
    /// A sender skipped sequence numbers: messages may be missing.
    Gap {
        /// The group.
        group: GroupId,
        /// The sender.
        sender: Address,
        /// The first missing number.
        first: u64,
        /// The last missing number.
        last: u64,
    },
    /// A message was dropped.
    Dropped {
        /// The group.
        group: GroupId,
        /// Why.
        reason: DropReason,
    },
}

/// One group of a member.
pub(crate) struct GroupState {
    pub(crate) mls: MlsGroup,
    pub(crate) order: DeliveryOrder<Vec<u8>>,
    pub(crate) next_sequence: u64,
}

/// One identity's MLS state: key packages and groups, over OpenMLS.
///
/// Sans-IO: every call that needs randomness takes an RNG, nothing reads a
/// socket or file; [`export_state`](Self::export_state) and
/// [`import_state`](Self::import_state) move the whole state through bytes.
pub struct GroupMember {
    pub(crate) identity: Identity,
    pub(crate) config: MlsConfig,
    pub(crate) provider: Provider,
    pub(crate) groups: BTreeMap<GroupId, GroupState>,
}

fn mls_err(what: &'static str) -> impl Fn(&dyn core::fmt::Debug) -> Error {
    move |e| Error::Mls(format!("{what}: {e:?}"))
}

fn encode(message: &MlsMessageOut) -> Result<Vec<u8>, Error> {
    message
        .tls_serialize_detached()
        .map_err(|e| mls_err("encode")(&e))
}

impl GroupMember {
    /// A member with no groups.
    pub fn new(identity: Identity, config: MlsConfig) -> Result<Self, Error> {
        Self::with_storage(identity, config, MemoryStorage::default(), BTreeMap::new())
    }

    pub(crate) fn with_storage(
        identity: Identity,
        config: MlsConfig,
        storage: MemoryStorage,
        groups: BTreeMap<GroupId, GroupState>,
    ) -> Result<Self, Error> {
        if config.suites.is_empty() {
            return Err(Error::InvalidConfig("MLS: no suites"));
        }
        Ok(GroupMember {
            identity,
            config,
            provider: Provider::new(storage)?,
            groups,
        })
    }

    /// Our qpc address.
    pub fn address(&self) -> Address {
        self.identity.public().address()
    }

    /// The ids of our groups.
    pub fn groups(&self) -> impl Iterator<Item = &GroupId> {
        self.groups.keys()
    }

    /// The members of `group` (ourselves included), in leaf order.
    pub fn members(&self, group: &GroupId) -> Result<Vec<Address>, Error> {
        let state = self.groups.get(group).ok_or(Error::UnknownGroup)?;
        state
            .mls
            .members()
            .map(|m| address_of(&m.credential, &m.signature_key))
            .collect()
    }

    /// The current epoch of `group`.
    pub fn epoch(&self, group: &GroupId) -> Result<u64, Error> {
        Ok(self.state(group)?.mls.epoch().as_u64())
    }

    /// The suite of `group`.
    pub fn suite(&self, group: &GroupId) -> Result<Suite, Error> {
        Suite::of(self.state(group)?.mls.ciphersuite())
    }

    /// A secret derived from the group's current epoch (MLS exporter,
    /// RFC 9420 §8.5), e.g. for MLS-Lite on constrained links.
    pub fn export_secret(
        &self,
        group: &GroupId,
        label: &str,
        context: &[u8],
        len: usize,
    ) -> Result<Vec<u8>, Error> {
        self.state(group)?
            .mls
            .export_secret(self.provider.crypto(), label, context, len)
            .map_err(|e| mls_err("export secret")(&e))
    }

    fn state(&self, group: &GroupId) -> Result<&GroupState, Error> {
        self.groups.get(group).ok_or(Error::UnknownGroup)
    }

    fn capabilities(&self) -> Capabilities {
        let suites: Vec<_> = self.config.suites.iter().map(|s| s.ciphersuite()).collect();
        Capabilities::new(
            None,
            Some(&suites),
            Some(&[ExtensionType::LastResort]),
            None,
            Some(&[CredentialType::Basic]),
        )
    }

    /// A KeyPackage (as an MLSMessage) others use to add us to a group of
    /// `suite`, valid from an hour before `now_ms` for the configured
    /// lifetime. `last_resort` packages may be used more than once; others
    /// are consumed by the first Welcome that uses them.
    pub fn key_package(
        &mut self,
        rng: &mut impl CryptoRng,
        now_ms: u64,
        suite: Suite,
        last_resort: bool,
    ) -> Result<Vec<u8>, Error> {
        if !self.config.suites.contains(&suite) {
            return Err(Error::UnsupportedSuite(suite.code()));
        }
        let now = now_ms / 1000;
        let lifetime = Lifetime::init(
            now.saturating_sub(3600),
            now.saturating_add(self.config.key_package_lifetime_s),
        );
        let mut builder = KeyPackage::builder()
            .key_package_lifetime(lifetime)
            .leaf_node_capabilities(self.capabilities());
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let _seeded = self.provider.seed(rng);
        let bundle = builder
            .build(
                suite.ciphersuite(),
                &self.provider,
                &MlsSigner(self.identity.signing_key()),
                credential_with_key(&self.identity),
            )
            .map_err(|e| mls_err("key package")(&e))?;
        encode(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    /// Creates a group of `suite` with us as its only member.
    pub fn create_group(
        &mut self,
        rng: &mut impl CryptoRng,
        suite: Suite,
    ) -> Result<GroupId, Error> {
        if !self.config.suites.contains(&suite) {
            return Err(Error::UnsupportedSuite(suite.code()));
        }
        if self.groups.len() >= self.config.max_groups {
            return Err(Error::InvalidConfig("MLS: max_groups reached"));
        }
        let mut id = [0u8; GROUP_ID_LEN];
        rng.fill_bytes(&mut id);
        let id = GroupId(id);
        if self.groups.contains_key(&id) {
            return Err(Error::Mls("group id collision".into()));
        }
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(suite.ciphersuite())
            .capabilities(self.capabilities())
            .use_ratchet_tree_extension(true)
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .max_past_epochs(self.past_epochs())
            .sender_ratchet_configuration(SenderRatchetConfiguration::new(
                self.config.order.window.min(u32::MAX as u64) as u32,
                1000,
            ))
            .build();
        let _seeded = self.provider.seed(rng);
        let mls = MlsGroup::new_with_group_id(
            &self.provider,
            &MlsSigner(self.identity.signing_key()),
            &config,
            id.mls(),
            credential_with_key(&self.identity),
        )
        .map_err(|e| mls_err("create group")(&e))?;
        let order = DeliveryOrder::new(self.config.order, mls.epoch().as_u64());
        self.groups.insert(
            id.clone(),
            GroupState {
                mls,
                order,
                next_sequence: 0,
            },
        );
        Ok(id)
    }

    fn past_epochs(&self) -> usize {
        usize::try_from(self.config.order.max_past_epochs).unwrap_or(usize::MAX)
    }

    fn join_config(&self) -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .max_past_epochs(self.past_epochs())
            .sender_ratchet_configuration(SenderRatchetConfiguration::new(
                self.config.order.window.min(u32::MAX as u64) as u32,
                1000,
            ))
            .build()
    }

    /// Adds the members of `key_packages` (MLSMessages) in one commit.
    /// Every package must be of the group's suite
    /// ([`Error::SuiteMismatch`] otherwise) and carry a qpc credential.
    pub fn add_members(
        &mut self,
        rng: &mut impl CryptoRng,
        group: &GroupId,
        key_packages: &[&[u8]],
    ) -> Result<Commit, Error> {
        if key_packages.is_empty() {
            return Err(Error::InvalidConfig("MLS: no key packages to add"));
        }
        let suite = self.suite(group)?;
        let packages = key_packages
            .iter()
            .map(|bytes| self.parse_key_package(bytes, suite))
            .collect::<Result<Vec<_>, _>>()?;
        let with_path = self.config.add_with_path;
        self.commit(rng, group, |mls, provider, signer| {
            let result = if with_path {
                mls.add_members(provider, signer, &packages)
            } else {
                mls.add_members_without_update(provider, signer, &packages)
            };
            let (commit, welcome, _) = result.map_err(|e| mls_err("add members")(&e))?;
            Ok((commit, Some(welcome)))
        })
    }

    fn parse_key_package(&self, bytes: &[u8], suite: Suite) -> Result<KeyPackage, Error> {
        self.check_size(bytes)?;
        let message = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|_| Error::Malformed("key package"))?;
        let MlsMessageBodyIn::KeyPackage(package) = message.extract() else {
            return Err(Error::Malformed("key package: not a KeyPackage message"));
        };
        let package: KeyPackageIn = package;
        let package = package
            .validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| mls_err("key package")(&e))?;
        let offered = u16::from(package.ciphersuite());
        if offered != suite.code() {
            return Err(Error::SuiteMismatch {
                group: suite.code(),
                offered,
            });
        }
        let leaf = package.leaf_node();
        address_of(leaf.credential(), leaf.signature_key().as_slice())?;
        Ok(package)
    }

    /// Removes the members with these addresses in one commit.
    pub fn remove_members(
        &mut self,
        rng: &mut impl CryptoRng,
        group: &GroupId,
        members: &[Address],
    ) -> Result<Commit, Error> {
        let state = self.state(group)?;
        let leaves = members
            .iter()
            .map(|a| leaf_of(&state.mls, a).ok_or(Error::UnknownMember))
            .collect::<Result<Vec<_>, _>>()?;
        self.commit(rng, group, |mls, provider, signer| {
            let (commit, welcome, _) = mls
                .remove_members(provider, signer, &leaves)
                .map_err(|e| mls_err("remove members")(&e))?;
            Ok((commit, welcome))
        })
    }

    /// Refreshes our leaf and path keys (post-compromise security).
    pub fn self_update(
        &mut self,
        rng: &mut impl CryptoRng,
        group: &GroupId,
    ) -> Result<Commit, Error> {
        self.commit(rng, group, |mls, provider, signer| {
            let bundle = mls
                .self_update(provider, signer, LeafNodeParameters::default())
                .map_err(|e| mls_err("self update")(&e))?;
            let (commit, welcome, _) = bundle.into_messages();
            Ok((commit, welcome))
        })
    }

    /// Commits the proposals received so far (e.g. a member's leave).
    pub fn commit_pending(
        &mut self,
        rng: &mut impl CryptoRng,
        group: &GroupId,
    ) -> Result<Commit, Error> {
        self.commit(rng, group, |mls, provider, signer| {
            let (commit, welcome, _) = mls
                .commit_to_pending_proposals(provider, signer)
                .map_err(|e| mls_err("commit proposals")(&e))?;
            Ok((commit, welcome))
        })
    }

    /// Proposes our own removal; another member's commit applies it. The
    /// group stays until that commit arrives ([`GroupEvent::Removed`]).
    pub fn leave(&mut self, rng: &mut impl CryptoRng, group: &GroupId) -> Result<Vec<u8>, Error> {
        let (provider, signer) = (&self.provider, MlsSigner(self.identity.signing_key()));
        let state = self.groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let _seeded = provider.seed(rng);
        set_header(state)?;
        let message = state
            .mls
            .leave_group(provider, &signer)
            .map_err(|e| mls_err("leave")(&e))?;
        Ok(finish_send(state, encode(&message)?))
    }

    /// Encrypts an application message to the group. Returns its message
    /// id and the MLSMessage.
    pub fn send(
        &mut self,
        rng: &mut impl CryptoRng,
        now_ms: u64,
        group: &GroupId,
        content_type: ContentType,
        body: &[u8],
        reply_to: Option<[u8; 16]>,
    ) -> Result<([u8; 16], Vec<u8>), Error> {
        let mut message_id = [0u8; 16];
        rng.fill_bytes(&mut message_id);
        let payload = ApplicationPayload {
            content_type,
            message_id,
            timestamp_ms: now_ms,
            reply_to,
            body: bytes::Bytes::copy_from_slice(body),
        };
        let plaintext = payload.to_plaintext()?;
        let (provider, signer) = (&self.provider, MlsSigner(self.identity.signing_key()));
        let state = self.groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let _seeded = provider.seed(rng);
        set_header(state)?;
        let message = state
            .mls
            .create_message(provider, &signer, &plaintext)
            .map_err(|e| mls_err("create message")(&e))?;
        Ok((message_id, finish_send(state, encode(&message)?)))
    }

    /// Runs a committing operation, merges its commit at once (qpc has no
    /// delivery service to confirm it, `spec/07` §8.3) and advances the
    /// ordering state.
    fn commit(
        &mut self,
        rng: &mut impl CryptoRng,
        group: &GroupId,
        op: impl FnOnce(
            &mut MlsGroup,
            &Provider,
            &MlsSigner<'_>,
        ) -> Result<(MlsMessageOut, Option<MlsMessageOut>), Error>,
    ) -> Result<Commit, Error> {
        let (provider, signer) = (&self.provider, MlsSigner(self.identity.signing_key()));
        let state = self.groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let _seeded = provider.seed(rng);
        set_header(state)?;
        let before = members_of(&state.mls);
        // Encode before merging: once merged, the commit must reach the
        // caller, or the group forks.
        let encoded = op(&mut state.mls, provider, &signer).and_then(|(commit, welcome)| {
            Ok((encode(&commit)?, welcome.map(|w| encode(&w)).transpose()?))
        });
        let merged = encoded.and_then(|out| {
            state
                .mls
                .merge_pending_commit(provider)
                .map_err(|e| mls_err("merge commit")(&e))?;
            Ok(out)
        });
        let (message, welcome) = match merged {
            Ok(out) => out,
            Err(e) => {
                let _ = state.mls.clear_pending_commit(provider.storage());
                return Err(e);
            }
        };
        let message = finish_send(state, message);
        reset_windows(state, &before);
        let released = state.order.advance(state.mls.epoch().as_u64());
        let mut events = Vec::new();
        let queue = released.into_iter().map(Pending::Raw).collect();
        drain(provider, &mut self.groups, group, queue, &mut events);
        Ok(Commit {
            message,
            welcome,
            events,
        })
    }

    /// Joins a group from a Welcome (an MLSMessage) made for one of our key
    /// packages. Every member must carry a qpc credential and the suite
    /// must be one of ours.
    pub fn join(&mut self, rng: &mut impl CryptoRng, welcome: &[u8]) -> Result<GroupEvent, Error> {
        self.check_size(welcome)?;
        if self.groups.len() >= self.config.max_groups {
            return Err(Error::InvalidConfig("MLS: max_groups reached"));
        }
        let message = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|_| Error::Malformed("welcome"))?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(Error::Malformed("welcome: not a Welcome message"));
        };
        let suite = Suite::of(welcome.ciphersuite())?;
        if !self.config.suites.contains(&suite) {
            return Err(Error::UnsupportedSuite(suite.code()));
        }
        // OpenMLS consumes the key package and stores the group as it
        // goes: on any refusal the storage is put back as it was.
        let snapshot = self.provider.storage.values.read().map(|v| v.clone());
        let (join_config, order) = (self.join_config(), self.config.order);
        let _seeded = self.provider.seed(rng);
        let joined = join_staged(
            &self.provider,
            &join_config,
            order,
            &mut self.groups,
            welcome,
        );
        if joined.is_err() {
            if let (Ok(snapshot), Ok(mut values)) = (snapshot, self.provider.storage.values.write())
            {
                *values = snapshot;
            }
        }
        joined
    }

    fn check_size(&self, bytes: &[u8]) -> Result<(), Error> {
        if bytes.len() > self.config.max_message {
            return Err(Error::ContentTooLong {
                len: bytes.len(),
                max: self.config.max_message,
            });
        }
        Ok(())
    }

    /// Handles one MLSMessage received for one of our groups: ordering
    /// first (`spec/07` §7), then MLS. Bytes that are not a group message
    /// of ours are an error; everything that happens inside a group,
    /// refusals included, is an event.
    pub fn receive(
        &mut self,
        rng: &mut impl CryptoRng,
        bytes: &[u8],
    ) -> Result<Vec<GroupEvent>, Error> {
        self.check_size(bytes)?;
        let protocol = parse(bytes)?;
        let group = GroupId::of(protocol.group_id())?;
        let (epoch, handshake) = (protocol.epoch().as_u64(), protocol.is_handshake_message());
        let state = self.groups.get_mut(&group).ok_or(Error::UnknownGroup)?;
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let mut events = Vec::new();
        match state.order.admit(digest, epoch, handshake, bytes.to_vec()) {
            Admission::Held => events.push(GroupEvent::Held { group, epoch }),
            Admission::Duplicate => events.push(GroupEvent::Duplicate { group }),
            Admission::Dropped(reason) => events.push(GroupEvent::Dropped { group, reason }),
            Admission::Process(_) => {
                let _seeded = self.provider.seed(rng);
                let queue = vec![Pending::Parsed(digest, protocol)];
                drain(&self.provider, &mut self.groups, &group, queue, &mut events);
            }
        }
        Ok(events)
    }
}

/// Processes `queue` in order, and the held messages each commit in it
/// releases right after that commit (each re-checked against the epoch it
/// is processed at, `spec/07` §7.5). Never fails: every refusal is an
/// event.
fn drain(
    provider: &Provider,
    groups: &mut BTreeMap<GroupId, GroupState>,
    group: &GroupId,
    queue: Vec<Pending>,
    events: &mut Vec<GroupEvent>,
) {
    let mut queue: std::collections::VecDeque<Pending> = queue.into();
    while let Some(next) = queue.pop_front() {
        let Some(state) = groups.get_mut(group) else {
            break;
        };
        let (digest, protocol) = match next {
            Pending::Parsed(digest, protocol) => (digest, protocol),
            Pending::Raw(bytes) => {
                let recheck = parse(&bytes)
                    .map_err(|_| DropReason::Rejected)
                    .and_then(|p| {
                        let (epoch, handshake) = (p.epoch().as_u64(), p.is_handshake_message());
                        state.order.recheck(epoch, handshake).map_or(Ok(p), Err)
                    });
                match recheck {
                    Ok(p) => (Sha256::digest(&bytes).into(), p),
                    Err(reason) => {
                        events.push(GroupEvent::Dropped {
                            group: group.clone(),
                            reason,
                        });
                        continue;
                    }
                }
            }
        };
        let released = process(provider, group, state, digest, protocol, events);
        if matches!(events.last(), Some(GroupEvent::Removed { .. })) {
            if let Some(mut state) = groups.remove(group) {
                // Deleting from memory storage cannot fail; the group is
                // gone from this member either way.
                let _ = state.mls.delete(provider.storage());
            }
            break;
        }
        for bytes in released.into_iter().rev() {
            queue.push_front(Pending::Raw(bytes));
        }
    }
}

/// Stages a Welcome, checks it (`spec/07` §4, §8.1) and adds the group.
fn join_staged(
    provider: &Provider,
    join_config: &MlsGroupJoinConfig,
    order_config: OrderConfig,
    groups: &mut BTreeMap<GroupId, GroupState>,
    welcome: openmls::prelude::Welcome,
) -> Result<GroupEvent, Error> {
    let staged = StagedWelcome::new_from_welcome(provider, join_config, welcome, None)
        .map_err(|e| mls_err("welcome")(&e))?;
    let group = GroupId::of(staged.group_context().group_id())?;
    if groups.contains_key(&group) {
        return Err(Error::Mls("already a member of this group".into()));
    }
    let members = staged
        .members()
        .map(|m| address_of(&m.credential, &m.signature_key))
        .collect::<Result<Vec<_>, _>>()?;
    let mls = staged
        .into_group(provider)
        .map_err(|e| mls_err("join")(&e))?;
    let epoch = mls.epoch().as_u64();
    let order = DeliveryOrder::new(order_config, epoch);
    groups.insert(
        group.clone(),
        GroupState {
            mls,
            order,
            next_sequence: 0,
        },
    );
    Ok(GroupEvent::Joined {
        group,
        epoch,
        members,
    })
}

/// A message waiting to be processed.
enum Pending {
    /// Just received and parsed.
    Parsed([u8; 32], ProtocolMessage),
    /// Released from the hold buffer.
    Raw(Vec<u8>),
}

/// The leaf of the member with this address.
fn leaf_of(mls: &MlsGroup, address: &Address) -> Option<LeafNodeIndex> {
    mls.members()
        .find(|m| address_of(&m.credential, &m.signature_key).as_ref() == Ok(address))
        .map(|m| m.index)
}

/// Sets the delivery header of our next message.
fn set_header(state: &mut GroupState) -> Result<(), Error> {
    if state.next_sequence == u64::MAX {
        return Err(Error::NonceExhausted);
    }
    let header = DeliveryHeader {
        sequence: state.next_sequence,
    };
    state.mls.set_aad(header.encode().to_vec());
    Ok(())
}

/// Counts a sent message and remembers its digest (so an echo is a
/// duplicate).
fn finish_send(state: &mut GroupState, message: Vec<u8>) -> Vec<u8> {
    state.next_sequence += 1;
    state.order.mark_seen(Sha256::digest(&message).into());
    message
}

/// The addresses of a group's members.
fn members_of(mls: &MlsGroup) -> Vec<Address> {
    mls.members()
        .filter_map(|m| address_of_member(&m.credential, &m.signature_key).ok())
        .collect()
}

/// After a merged commit: forgets the sequence windows of members who left
/// or joined (a joiner numbers its messages from 0, `spec/07` §5).
fn reset_windows(state: &mut GroupState, before: &[Address]) {
    let after = members_of(&state.mls);
    let changed: Vec<Address> = state
        .order
        .senders()
        .filter(|a| !after.contains(a))
        .chain(after.iter().filter(|a| !before.contains(a)))
        .copied()
        .collect();
    for address in &changed {
        state.order.forget(address);
    }
}

/// Parses an MLSMessage that must be a group (protocol) message.
fn parse(bytes: &[u8]) -> Result<ProtocolMessage, Error> {
    let message =
        MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| Error::Malformed("MLS message"))?;
    message
        .try_into_protocol_message()
        .map_err(|_| Error::Malformed("MLS message: not a group message"))
}

/// Processes one admitted message; returns the held messages its commit
/// released. Every refusal is a `Dropped` event.
fn process(
    provider: &Provider,
    group: &GroupId,
    state: &mut GroupState,
    digest: [u8; 32],
    protocol: ProtocolMessage,
    events: &mut Vec<GroupEvent>,
) -> Vec<Vec<u8>> {
    let drop = |events: &mut Vec<GroupEvent>, reason| {
        events.push(GroupEvent::Dropped {
            group: group.clone(),
            reason,
        });
        Vec::new()
    };
    let Ok(processed) = state.mls.process_message(provider, protocol) else {
        return drop(events, DropReason::Rejected);
    };
    let Ok(header) = DeliveryHeader::decode(processed.aad()) else {
        return drop(events, DropReason::BadHeader);
    };
    let Sender::Member(leaf) = *processed.sender() else {
        return drop(events, DropReason::Rejected);
    };
    let Some(sender) = state
        .mls
        .member_at(leaf)
        .and_then(|m| address_of_member(&m.credential, &m.signature_key).ok())
    else {
        return drop(events, DropReason::Rejected);
    };
    match state.order.sequence(sender, header.sequence) {
        Err(reason) => return drop(events, reason),
        Ok(Sequenced::Gap { first, last }) => events.push(GroupEvent::Gap {
            group: group.clone(),
            sender,
            first,
            last,
        }),
        Ok(Sequenced::InOrder | Sequenced::Late) => {}
    }
    state.order.mark_seen(digest);
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(app) => {
            match ApplicationPayload::from_plaintext(&app.into_bytes()) {
                Ok(payload) => events.push(GroupEvent::Message {
                    group: group.clone(),
                    sender,
                    sequence: header.sequence,
                    payload,
                }),
                Err(_) => return drop(events, DropReason::BadPayload),
            }
        }
        ProcessedMessageContent::ProposalMessage(proposal) => {
            let removes = |p: &openmls::prelude::Proposal| matches!(p, openmls::prelude::Proposal::Remove(r) if r.removed() == leaf);
            // Only a member's own removal, once (a second one would only
            // grow the proposal store).
            let pending = state.mls.pending_proposals().any(|q| removes(q.proposal()));
            if !removes(proposal.proposal()) || pending {
                return drop(events, DropReason::Rejected);
            }
            if state
                .mls
                .store_pending_proposal(provider.storage(), *proposal)
                .is_err()
            {
                return drop(events, DropReason::Rejected);
            }
            events.push(GroupEvent::LeaveRequested {
                group: group.clone(),
                member: sender,
            });
        }
        ProcessedMessageContent::StagedCommitMessage(staged) => {
            return merge(provider, group, state, sender, *staged, events);
        }
        // External joins are not used by qpc; our own messages never come
        // back here (their digests are marked seen when sent).
        _ => return drop(events, DropReason::Rejected),
    }
    Vec::new()
}

/// Merges a received commit and reports what it changed.
fn merge(
    provider: &Provider,
    group: &GroupId,
    state: &mut GroupState,
    by: Address,
    staged: StagedCommit,
    events: &mut Vec<GroupEvent>,
) -> Vec<Vec<u8>> {
    let drop = |events: &mut Vec<GroupEvent>, reason| {
        events.push(GroupEvent::Dropped {
            group: group.clone(),
            reason,
        });
        Vec::new()
    };
    // Every leaf the commit brings in must carry a qpc credential (§4), and
    // an UpdatePath must keep the committer's address: otherwise the
    // commit is not merged.
    let added = staged
        .add_proposals()
        .map(|p| {
            let leaf = p.add_proposal().key_package().leaf_node();
            address_of(leaf.credential(), leaf.signature_key().as_slice())
        })
        .collect::<Result<Vec<_>, _>>();
    let updated = staged
        .update_path_leaf_node()
        .map(|leaf| address_of(leaf.credential(), leaf.signature_key().as_slice()));
    let (Ok(added), None | Some(Ok(_))) = (added, &updated) else {
        return drop(events, DropReason::InvalidCredential);
    };
    if matches!(updated, Some(Ok(a)) if a != by) {
        return drop(events, DropReason::InvalidCredential);
    }
    let removed = staged
        .remove_proposals()
        .filter_map(|p| state.mls.member_at(p.remove_proposal().removed()))
        .filter_map(|m| address_of_member(&m.credential, &m.signature_key).ok())
        .collect::<Vec<_>>();
    let path = updated.is_some();
    let self_removed = staged.self_removed();
    let before = members_of(&state.mls);
    if state.mls.merge_staged_commit(provider, staged).is_err() {
        return drop(events, DropReason::Rejected);
    }
    let group = group.clone();
    if !added.is_empty() {
        events.push(GroupEvent::MembersAdded {
            group: group.clone(),
            by,
            added,
        });
    }
    if !removed.is_empty() {
        events.push(GroupEvent::MembersRemoved {
            group: group.clone(),
            by,
            removed,
        });
    }
    if path {
        events.push(GroupEvent::KeysUpdated {
            group: group.clone(),
            member: by,
        });
    }
    let epoch = state.mls.epoch().as_u64();
    events.push(GroupEvent::EpochChanged {
        group: group.clone(),
        epoch,
    });
    if self_removed {
        events.push(GroupEvent::Removed { group });
        return Vec::new();
    }
    reset_windows(state, &before);
    state.order.advance(epoch)
}
