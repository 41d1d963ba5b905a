//! The embedded store (`spec/30-reference-node.md` §4): one redb database
//! in the data directory, one table per concern, and [`Store::commit`],
//! which writes one driver step atomically.

use std::path::Path;

use qpc_crypto::identity::{Identity, PublicIdentity};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const META: TableDefinition<'static, &'static str, &'static [u8]> = TableDefinition::new("meta");
const OUTBOX: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("outbox");
const INBOX: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("inbox");
const IDENTITIES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("identities");

const FAPP_THERAPIST: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("fapp_therapist");
const FAPP_CACHE: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("fapp_cache");
const FAPP_EVENTS: TableDefinition<'static, u64, &'static [u8]> =
    TableDefinition::new("fapp_events");

const IDENTITY_KEY: &str = "identity";
const THERAPIST_KEY: &str = "therapist";
const MESH_STATE_KEY: &str = "mesh_state";
const NEXT_ID_KEY: &str = "next_id";

/// The database file in the data directory.
pub const DATABASE_FILE: &str = "node.redb";

/// Where an outgoing message is (§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// The recipient's identity is being fetched.
    AwaitingKey,
    /// Sealed and handed to the mesh engine.
    Sent,
    /// Its receipt arrived.
    Confirmed,
    /// No receipt after every retry.
    Failed,
}

/// An `outbox` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// The recipient's address, hex.
    pub to: String,
    /// The content, hex.
    pub content: String,
    /// The state.
    pub state: MessageState,
    /// The mesh engine's handle once sent.
    pub handle: Option<u64>,
}

/// An `inbox` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRecord {
    /// The sender's address, hex.
    pub from: String,
    /// The sender's timestamp, Unix ms.
    pub timestamp_ms: u64,
    /// The content, hex.
    pub content: String,
}

/// What one driver step writes, in one transaction.
#[derive(Debug, Default)]
pub struct Step {
    /// The mesh engine's exported state.
    pub mesh_state: Vec<u8>,
    /// Messages delivered in the step.
    pub inbox: Vec<InboxRecord>,
    /// Outbox rows created or changed.
    pub outbox: Vec<(u64, OutboxRecord)>,
    /// Identities fetched.
    pub identities: Vec<PublicIdentity>,
    /// The next local message id, if it moved.
    pub next_id: Option<u64>,
    /// The therapist's new `fapp_therapist` row (JSON), if it changed.
    pub fapp_therapist: Option<Vec<u8>>,
    /// `fapp_cache` rows by therapist address: written, or deleted (`None`).
    pub fapp_cache: Vec<([u8; 16], Option<Vec<u8>>)>,
    /// FAPP event-log rows (JSON) to append.
    pub fapp_events: Vec<Vec<u8>>,
}

/// The node's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

/// Decodes the JSON values of table rows.
fn json_rows<'a, T: serde::de::DeserializeOwned>(
    rows: impl Iterator<
        Item = std::result::Result<
            (
                redb::AccessGuard<'a, u64>,
                redb::AccessGuard<'a, &'static [u8]>,
            ),
            redb::StorageError,
        >,
    >,
) -> Result<Vec<(u64, T)>> {
    rows.map(|row| {
        let (k, v) = row?;
        Ok((
            k.value(),
            serde_json::from_slice(v.value()).map_err(json_error)?,
        ))
    })
    .collect()
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Store(format!("a stored record does not decode: {e}"))
}

impl Store {
    /// Opens (or creates) the database in `data_dir`; `store` if another
    /// node holds it.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)?;
        let db = Database::create(data_dir.join(DATABASE_FILE))?;
        let txn = db.begin_write()?;
        txn.open_table(META)?;
        txn.open_table(OUTBOX)?;
        txn.open_table(INBOX)?;
        txn.open_table(IDENTITIES)?;
        txn.open_table(FAPP_THERAPIST)?;
        txn.open_table(FAPP_CACHE)?;
        txn.open_table(FAPP_EVENTS)?;
        txn.commit()?;
        Ok(Store { db })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    /// The node's identity, if `keygen` made one.
    pub fn identity(&self) -> Result<Option<Identity>> {
        self.meta(IDENTITY_KEY)?
            .map(|bytes| Identity::from_secret_bytes(&bytes).map_err(Error::from))
            .transpose()
    }

    /// Stores a new identity; `invalid_config` if there is one already.
    pub fn create_identity(&self, identity: &Identity) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(META)?;
            if table.get(IDENTITY_KEY)?.is_some() {
                return Err(Error::InvalidConfig(
                    "the data directory already holds an identity".into(),
                ));
            }
            table.insert(IDENTITY_KEY, &identity.to_secret_bytes()[..])?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The mesh engine's last committed state.
    pub fn mesh_state(&self) -> Result<Option<Vec<u8>>> {
        self.meta(MESH_STATE_KEY)
    }

    /// The next local message id.
    pub fn next_id(&self) -> Result<u64> {
        let bytes = self.meta(NEXT_ID_KEY)?;
        Ok(bytes
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Every outbox row.
    pub fn outbox(&self) -> Result<Vec<(u64, OutboxRecord)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        json_rows(table.iter()?)
    }

    /// Every fetched identity.
    pub fn identities(&self) -> Result<Vec<PublicIdentity>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(IDENTITIES)?;
        table
            .iter()?
            .map(|row| Ok(PublicIdentity::from_bytes(row?.1.value())?))
            .collect()
    }

    /// Up to `limit` inbox rows after arrival number `after`.
    pub fn inbox(&self, after: Option<u64>, limit: usize) -> Result<Vec<(u64, InboxRecord)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(INBOX)?;
        let from = after.map_or(0, |a| a.saturating_add(1));
        json_rows(table.range(from..)?.take(limit))
    }

    /// How many messages were delivered.
    pub fn inbox_len(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(INBOX)?;
        Ok(table.len()?)
    }

    /// The therapist's `fapp_therapist` row, if the node is one.
    pub fn fapp_therapist(&self) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FAPP_THERAPIST)?;
        Ok(table.get(THERAPIST_KEY)?.map(|v| v.value().to_vec()))
    }

    /// Every `fapp_cache` row; keys that are not 16 bytes are skipped.
    pub fn fapp_cache(&self) -> Result<Vec<([u8; 16], Vec<u8>)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FAPP_CACHE)?;
        let mut rows = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            if let Ok(key) = <[u8; 16]>::try_from(k.value()) {
                rows.push((key, v.value().to_vec()));
            }
        }
        Ok(rows)
    }

    /// Up to `limit` FAPP event-log rows after row `after`.
    pub fn fapp_events(&self, after: Option<u64>, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(FAPP_EVENTS)?;
        let from = after.map_or(0, |a| a.saturating_add(1));
        table
            .range(from..)?
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value(), v.value().to_vec()))
            })
            .collect()
    }

    /// Writes `step` in one transaction: when this returns, it is durable.
    pub fn commit(&self, step: &Step) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert(MESH_STATE_KEY, step.mesh_state.as_slice())?;
            if let Some(next) = step.next_id {
                meta.insert(NEXT_ID_KEY, &next.to_be_bytes()[..])?;
            }
            let mut inbox = txn.open_table(INBOX)?;
            let first = inbox.last()?.map_or(0, |(k, _)| k.value() + 1);
            for (seq, record) in (first..).zip(&step.inbox) {
                let json = serde_json::to_vec(record).map_err(json_error)?;
                inbox.insert(seq, json.as_slice())?;
            }
            let mut outbox = txn.open_table(OUTBOX)?;
            for (id, record) in &step.outbox {
                let json = serde_json::to_vec(record).map_err(json_error)?;
                outbox.insert(*id, json.as_slice())?;
            }
            let mut identities = txn.open_table(IDENTITIES)?;
            for identity in &step.identities {
                identities.insert(&identity.address().as_bytes()[..], &identity.to_bytes()[..])?;
            }
            if let Some(row) = &step.fapp_therapist {
                txn.open_table(FAPP_THERAPIST)?
                    .insert(THERAPIST_KEY, row.as_slice())?;
            }
            let mut cache = txn.open_table(FAPP_CACHE)?;
            for (therapist, row) in &step.fapp_cache {
                match row {
                    Some(row) => cache.insert(&therapist[..], row.as_slice())?,
                    None => cache.remove(&therapist[..])?,
                };
            }
            let mut events = txn.open_table(FAPP_EVENTS)?;
            let first = events.last()?.map_or(0, |(k, _)| k.value() + 1);
            for (seq, row) in (first..).zip(&step.fapp_events) {
                events.insert(seq, row.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("qpc-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_step_survives_reopening() {
        let dir = temp_dir("reopen");
        let identity = Identity::from_seeds(&[3; 32], &[4; 32]);
        {
            let store = Store::open(&dir).unwrap();
            assert!(store.identity().unwrap().is_none());
            store.create_identity(&identity).unwrap();
            assert_eq!(
                store.create_identity(&identity).unwrap_err().class(),
                "invalid_config"
            );
            let record = InboxRecord {
                from: "00".repeat(16),
                timestamp_ms: 7,
                content: "6869".into(),
            };
            store
                .commit(&Step {
                    mesh_state: vec![1, 2, 3],
                    inbox: vec![record.clone(), record],
                    next_id: Some(5),
                    identities: vec![identity.public().clone()],
                    ..Step::default()
                })
                .unwrap();
            assert_eq!(Store::open(&dir).unwrap_err().class(), "store");
        }
        let store = Store::open(&dir).unwrap();
        assert_eq!(
            store.identity().unwrap().unwrap().public(),
            identity.public()
        );
        assert_eq!(store.mesh_state().unwrap().unwrap(), [1, 2, 3]);
        assert_eq!(store.next_id().unwrap(), 5);
        assert_eq!(store.inbox_len().unwrap(), 2);
        assert_eq!(store.inbox(Some(0), 10).unwrap()[0].0, 1);
        assert_eq!(store.identities().unwrap(), [identity.public().clone()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
