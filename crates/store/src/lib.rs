//! Granary's store: the durable journal of accepted transactions, snapshots and recovery.
//!
//! The engine is a pure state machine; the store makes its history durable. Every accepted
//! transaction and operator action becomes a checksummed [`Entry`] in an append-only journal,
//! written and synced before it is acknowledged ([`Node::submit_batch`] shares one sync between a
//! whole batch: group commit). Snapshots of the full state are taken every N blocks or M seconds.
//! Start-up loads the newest valid snapshot and replays the journal after it, checking every
//! recorded block seal; a torn or corrupted tail is cut off and reported ([`RecoveryReport`]).
//!
//! Two backends share the [`Backend`] interface: [`sqlite::SqliteBackend`] (embedded, the default;
//! WAL mode, `synchronous=FULL`) and [`postgres::PgBackend`] (scale-out; one writer per chain
//! through advisory locks, any number of readers tailing the journal).

pub mod entry;
pub mod node;
pub mod postgres;
pub mod sqlite;

pub use entry::{Damage, Entry, Record, Snapshot};
pub use node::{Node, Reader, Receipt, RecoveryReport, SnapshotPolicy, replay_with};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage backend error: {0}")]
    Backend(String),
    #[error("{0}")]
    Locked(String),
    #[error(
        "snapshot at entry {seq} has format version {version}, which this build does not read: run the granary version that wrote it, or move the snapshot aside to recover from the journal alone"
    )]
    SnapshotVersion { seq: u64, version: u8 },
    #[error("the journal does not replay: {0}")]
    Divergence(String),
    #[error("the store failed to persist a batch earlier; restart the process to recover from the journal")]
    Poisoned,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(format!("sqlite: {e}"))
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        StoreError::Backend(format!("postgres: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the journal and snapshots live.
pub trait Backend: Send {
    /// Append `(seq, encoded entry)` rows atomically and durably: when this returns `Ok`, they
    /// survive a crash or power loss. On `Err` the rows are either all stored or none: a connection
    /// can drop after the server committed. The node then refuses further work until reopened, and
    /// recovery takes the journal as the truth; a transaction resubmitted after an ambiguous failure
    /// is refused by its nonce if it was stored, so nothing is applied twice.
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<()>;
    /// Visit stored entries with `seq >= from` in order until `visit` returns false.
    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<()>;
    /// Delete every entry with `seq >= from` (the cut after a damaged entry); returns how many.
    fn truncate_from(&mut self, from: u64) -> Result<u64>;
    /// The highest stored seq, if any.
    fn last_seq(&mut self) -> Result<Option<u64>>;
    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()>;
    /// Stored snapshot positions, newest first.
    fn snapshot_seqs(&mut self) -> Result<Vec<u64>>;
    fn load_snapshot(&mut self, seq: u64) -> Result<Option<Vec<u8>>>;
    fn delete_snapshot(&mut self, seq: u64) -> Result<()>;
    /// Become the only writer of `chain_id` (PostgreSQL: a session advisory lock). Refused with
    /// `StoreError::Locked` if another process writes that chain. SQLite's folder lock covers all.
    fn claim_chain(&mut self, _chain_id: u64) -> Result<()> {
        Ok(())
    }
    /// A human description ("sqlite ./granary-data/granary.db").
    fn describe(&self) -> String;
}

/// A boxed backend is a backend, so the binary can choose SQLite or PostgreSQL at run time.
impl<B: Backend + ?Sized> Backend for Box<B> {
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        (**self).append(entries)
    }
    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<()> {
        (**self).scan(from, visit)
    }
    fn truncate_from(&mut self, from: u64) -> Result<u64> {
        (**self).truncate_from(from)
    }
    fn last_seq(&mut self) -> Result<Option<u64>> {
        (**self).last_seq()
    }
    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        (**self).put_snapshot(seq, bytes)
    }
    fn snapshot_seqs(&mut self) -> Result<Vec<u64>> {
        (**self).snapshot_seqs()
    }
    fn load_snapshot(&mut self, seq: u64) -> Result<Option<Vec<u8>>> {
        (**self).load_snapshot(seq)
    }
    fn delete_snapshot(&mut self, seq: u64) -> Result<()> {
        (**self).delete_snapshot(seq)
    }
    fn claim_chain(&mut self, chain_id: u64) -> Result<()> {
        (**self).claim_chain(chain_id)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Which backend and where: `--data-dir` (SQLite, the default) or `--db postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// Open as the writer.
    pub fn open_writer(&self) -> Result<Box<dyn Backend>> {
        Ok(match self {
            Location::Sqlite(dir) => Box::new(sqlite::SqliteBackend::open_writer(dir)?),
            Location::Postgres(url) => Box::new(postgres::PgBackend::open_writer(url)?),
        })
    }

    /// Open as a reader (no writer lock).
    pub fn open_reader(&self) -> Result<Box<dyn Backend>> {
        Ok(match self {
            Location::Sqlite(dir) => {
                if !dir.join("granary.db").exists() {
                    return Err(StoreError::Backend(format!(
                        "no store in {}: nothing has been written there yet",
                        dir.display()
                    )));
                }
                Box::new(sqlite::SqliteBackend::open_reader(dir)?)
            }
            Location::Postgres(url) => Box::new(postgres::PgBackend::open_reader(url)?),
        })
    }
}
