//! The embedded backend: one SQLite database in a data folder, WAL mode with `synchronous=FULL`,
//! so a committed batch is on disk before `append` returns. One writer per data folder, enforced
//! by an exclusive lock on `writer.lock` held for the process's life.

use crate::{Backend, Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::fs::File;
use std::path::{Path, PathBuf};

pub struct SqliteBackend {
    conn: Connection,
    path: PathBuf,
    _writer_lock: Option<File>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, snapshot BLOB NOT NULL);
";

impl SqliteBackend {
    /// Open (creating if needed) the store in `dir` as its only writer.
    pub fn open_writer(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let lock_path = dir.join("writer.lock");
        let lock = File::create(&lock_path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", lock_path.display())))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked(format!(
                "the data folder {} is in use by another granary process (it holds writer.lock): stop it, or open this folder read-only",
                dir.display()
            )));
        }
        let mut b = Self::open_at(dir)?;
        b._writer_lock = Some(lock);
        Ok(b)
    }

    /// Open an existing store read-only (no writer lock).
    pub fn open_reader(dir: &Path) -> Result<Self> {
        Self::open_at(dir)
    }

    fn open_at(dir: &Path) -> Result<Self> {
        let path = dir.join("granary.db");
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteBackend { conn, path, _writer_lock: None })
    }

    /// Direct access for tests that simulate disk damage.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Backend for SqliteBackend {
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO journal (seq, entry) VALUES (?1, ?2)")?;
            for (seq, bytes) in entries {
                stmt.execute(params![*seq as i64, bytes])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<()> {
        let mut stmt = self.conn.prepare_cached("SELECT seq, entry FROM journal WHERE seq >= ?1 ORDER BY seq")?;
        let mut rows = stmt.query(params![from as i64])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let bytes =
                row.get_ref(1)?.as_blob().map_err(|e| StoreError::Backend(format!("sqlite: entry {seq}: {e}")))?;
            if !visit(seq as u64, bytes) {
                break;
            }
        }
        Ok(())
    }

    fn truncate_from(&mut self, from: u64) -> Result<u64> {
        let n = self.conn.execute("DELETE FROM journal WHERE seq >= ?1", params![from as i64])?;
        Ok(n as u64)
    }

    fn last_seq(&mut self) -> Result<Option<u64>> {
        let v: Option<i64> = self.conn.query_row("SELECT MAX(seq) FROM journal", [], |r| r.get(0))?;
        Ok(v.map(|s| s as u64))
    }

    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        self.conn
            .execute("INSERT OR REPLACE INTO snapshots (seq, snapshot) VALUES (?1, ?2)", params![seq as i64, bytes])?;
        Ok(())
    }

    fn snapshot_seqs(&mut self) -> Result<Vec<u64>> {
        let mut stmt = self.conn.prepare("SELECT seq FROM snapshots ORDER BY seq DESC")?;
        let seqs = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(seqs.into_iter().map(|s| s as u64).collect())
    }

    fn load_snapshot(&mut self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT snapshot FROM snapshots WHERE seq = ?1", params![seq as i64], |r| r.get(0))
            .optional()?)
    }

    fn delete_snapshot(&mut self, seq: u64) -> Result<()> {
        self.conn.execute("DELETE FROM snapshots WHERE seq = ?1", params![seq as i64])?;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }
}
