//! The scale-out backend: the journal and snapshots in PostgreSQL. Several granary processes may
//! share one database: exactly one writer (it holds the journal's advisory lock, and one lock per
//! chain it writes, for its session's life), and any number of readers that tail the journal.
//! PostgreSQL commits are durable (`synchronous_commit` on) before `append` returns.

use crate::{Backend, Result, StoreError};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

/// The first key of every granary advisory lock ("gran").
const LOCK_SPACE: i32 = 0x6772_616e;
/// The second key of the journal-wide writer lock (chain locks use the chain id).
const JOURNAL_LOCK: i32 = -1;

pub struct PgBackend {
    client: Client,
    url: String,
}

impl Drop for PgBackend {
    /// Release the advisory locks (writer of the journal, owner of chains) before the connection
    /// closes: the server frees a closed session's locks only once it notices the disconnect, so a
    /// writer reopened at once could otherwise find its own old lock still held.
    fn drop(&mut self) {
        let _ = self.client.execute("SELECT pg_advisory_unlock_all()", &[]);
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (seq BIGINT PRIMARY KEY, entry BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (seq BIGINT PRIMARY KEY, snapshot BYTEA NOT NULL);
";

fn redact(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:…@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:…{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl PgBackend {
    fn connect(url: &str) -> Result<Self> {
        let mut client = Client::connect(url, NoTls)
            .map_err(|e| StoreError::Backend(format!("cannot connect to {}: {e}", redact(url))))?;
        client.batch_execute(SCHEMA)?;
        Ok(PgBackend { client, url: url.to_string() })
    }

    /// Connect as the journal's writer; refused if another session already writes it.
    pub fn open_writer(url: &str) -> Result<Self> {
        let mut b = Self::connect(url)?;
        let got: bool =
            b.client.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LOCK_SPACE, &JOURNAL_LOCK])?.get(0);
        if !got {
            return Err(StoreError::Locked(format!(
                "another granary process is the writer of the journal in {} (it holds advisory lock ({LOCK_SPACE}, {JOURNAL_LOCK})): stop it, or run this process as a reader",
                redact(url)
            )));
        }
        Ok(b)
    }

    /// Connect as a reader: no lock; follows what the writer appends.
    pub fn open_reader(url: &str) -> Result<Self> {
        Self::connect(url)
    }

    /// Direct access for tests that simulate damage.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Backend for PgBackend {
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        let seqs: Vec<i64> = entries.iter().map(|(s, _)| *s as i64).collect();
        let blobs: Vec<&[u8]> = entries.iter().map(|(_, b)| b.as_slice()).collect();
        let mut tx = self.client.transaction()?;
        tx.execute(
            "INSERT INTO journal (seq, entry) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
            &[&seqs, &blobs],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// One streamed query read on its own thread, handing rows over in chunks, so that receiving
    /// and parsing rows overlaps the caller decoding and applying them (on two cores this is what
    /// keeps replay above a million entries per second).
    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<()> {
        const CHUNK: usize = 1024;
        let from = from as i64;
        let client = &mut self.client;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(i64, Vec<u8>)>>(4);
        std::thread::scope(|s| {
            let reader = s.spawn(move || -> Result<()> {
                let mut rows =
                    client.query_raw("SELECT seq, entry FROM journal WHERE seq >= $1 ORDER BY seq", [&from])?;
                let mut chunk = Vec::with_capacity(CHUNK);
                while let Some(row) = rows.next()? {
                    chunk.push((row.get::<_, i64>(0), row.get::<_, &[u8]>(1).to_vec()));
                    if chunk.len() == CHUNK
                        && tx.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))).is_err()
                    {
                        return Ok(()); // the visitor stopped
                    }
                }
                if !chunk.is_empty() {
                    let _ = tx.send(chunk);
                }
                Ok(())
            });
            'chunks: for chunk in rx.iter() {
                for (seq, bytes) in &chunk {
                    if !visit(*seq as u64, bytes) {
                        break 'chunks;
                    }
                }
            }
            drop(rx);
            reader
                .join()
                .unwrap_or_else(|_| Err(StoreError::Backend("postgres: the journal reader thread panicked".into())))
        })
    }

    fn truncate_from(&mut self, from: u64) -> Result<u64> {
        Ok(self.client.execute("DELETE FROM journal WHERE seq >= $1", &[&(from as i64)])?)
    }

    fn last_seq(&mut self) -> Result<Option<u64>> {
        let v: Option<i64> = self.client.query_one("SELECT MAX(seq) FROM journal", &[])?.get(0);
        Ok(v.map(|s| s as u64))
    }

    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        self.client.execute(
            "INSERT INTO snapshots (seq, snapshot) VALUES ($1, $2) ON CONFLICT (seq) DO UPDATE SET snapshot = EXCLUDED.snapshot",
            &[&(seq as i64), &bytes],
        )?;
        Ok(())
    }

    fn snapshot_seqs(&mut self) -> Result<Vec<u64>> {
        let rows = self.client.query("SELECT seq FROM snapshots ORDER BY seq DESC", &[])?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    fn load_snapshot(&mut self, seq: u64) -> Result<Option<Vec<u8>>> {
        let row = self.client.query_opt("SELECT snapshot FROM snapshots WHERE seq = $1", &[&(seq as i64)])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn delete_snapshot(&mut self, seq: u64) -> Result<()> {
        self.client.execute("DELETE FROM snapshots WHERE seq = $1", &[&(seq as i64)])?;
        Ok(())
    }

    fn claim_chain(&mut self, chain_id: u64) -> Result<()> {
        let key = i32::try_from(chain_id).unwrap_or((chain_id % i32::MAX as u64) as i32);
        let got: bool = self.client.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LOCK_SPACE, &key])?.get(0);
        if !got {
            return Err(StoreError::Locked(format!(
                "chain {chain_id} already has a writer in {}: one writer per chain; run this process as a reader",
                redact(&self.url)
            )));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("postgres {}", redact(&self.url))
    }
}
