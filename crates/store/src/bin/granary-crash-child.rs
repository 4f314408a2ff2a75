//! A fault-injection harness process for the crash test (`tests/crash.rs`); not a user tool.
//!
//! ```text
//! granary-crash-child <sqlite:DIR | postgres://URL> <ITEMS> [SEED]
//! ```
//!
//! It opens a [`Node`] on the given store (recovery), works out how much of the shared
//! deterministic stream (`tests/common/mod.rs`: the genesis operator actions, then items
//! `0..ITEMS`) the journal already holds, and applies the rest: the missing genesis actions one by
//! one, then the items in group-commit batches of a random size from 1 to 64 (seeded by `SEED`),
//! snapshotting every two blocks. The parent kills it with SIGKILL at random moments.
//!
//! Every stream transaction succeeds and a batch is appended atomically, so the journal always
//! holds a prefix of the stream: genesis takes entries `1..=G`, then item `i` is entry `G + 1 + i`.
//!
//! On stdout, each line flushed as soon as it is written:
//! - `RECOVERED <items> <entries> <report>` once recovery is done;
//! - `ACK <items>` after every durable write (a batch or an operator action): items `0..<items>`
//!   are in the journal (during genesis, `<items>` is 0);
//! - `DONE <items>` when the whole stream is applied.
//!
//! Exit status 0 when done, 2 on any error (described on stderr).

#[path = "../../tests/common/mod.rs"]
mod common;

use common::{Item, genesis, item};
use granary_engine::{SignedTransaction, SystemOp};
use granary_store::postgres::PgBackend;
use granary_store::sqlite::SqliteBackend;
use granary_store::{Backend, Node, RecoveryReport, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Snapshots are taken every this many closed blocks (an `Advance` every 40 items).
const SNAPSHOT_EVERY_BLOCKS: u64 = 2;
/// The largest group-commit batch.
const MAX_BATCH: u64 = 64;
/// How long to keep retrying while the killed predecessor still holds the writer lock (a
/// PostgreSQL server notices a dead client's session a moment after it dies).
const LOCK_WAIT: Duration = Duration::from_secs(20);

/// SplitMix64: a small seeded generator, enough to vary batch sizes reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

struct Args {
    target: String,
    items: u64,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: granary-crash-child <sqlite:DIR | postgres://URL> <ITEMS> [SEED]";
    let mut args = std::env::args().skip(1);
    let target = args.next().ok_or(usage)?;
    let items = args.next().ok_or(usage)?.parse().map_err(|e| format!("ITEMS: {e}"))?;
    let seed = match args.next() {
        Some(s) => s.parse().map_err(|e| format!("SEED: {e}"))?,
        None => 0,
    };
    if args.next().is_some() {
        return Err(usage.into());
    }
    Ok(Args { target, items, seed })
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| {
        if let Some(dir) = args.target.strip_prefix("sqlite:") {
            let dir = PathBuf::from(dir);
            run(|| SqliteBackend::open_writer(&dir), &args)
        } else if args.target.starts_with("postgres://") || args.target.starts_with("postgresql://") {
            run(|| PgBackend::open_writer(&args.target), &args)
        } else {
            Err(format!("unknown store {:?}: expected sqlite:DIR or a postgres:// URL", args.target))
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("granary-crash-child: {why}");
            ExitCode::from(2)
        }
    }
}

/// Open the store as its writer and recover, waiting while a dead predecessor's lock lingers.
fn open_node<B: Backend>(open: &impl Fn() -> granary_store::Result<B>) -> Result<(Node<B>, RecoveryReport), String> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match open().and_then(|b| Node::open(b, common::policy(SNAPSHOT_EVERY_BLOCKS))) {
            Ok(opened) => return Ok(opened),
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("recovery failed: {e}")),
        }
    }
}

/// Writes protocol lines to stdout, flushing each one.
struct Out(std::io::Stdout);

impl Out {
    fn line(&mut self, text: std::fmt::Arguments<'_>) -> Result<(), String> {
        let mut lock = self.0.lock();
        writeln!(lock, "{text}").and_then(|()| lock.flush()).map_err(|e| format!("stdout: {e}"))
    }
}

/// The writer's position in the stream, checked against the journal after every write.
struct Progress<'a, B: Backend> {
    node: Node<B>,
    genesis_len: u64,
    /// Items `0..applied` are durable.
    applied: u64,
    out: &'a mut Out,
}

impl<B: Backend> Progress<'_, B> {
    /// Acknowledge a durable write, after checking that the journal holds exactly genesis plus
    /// `applied` items.
    fn ack(&mut self) -> Result<(), String> {
        let entries = self.node.next_seq() - 1;
        if entries < self.genesis_len || entries - self.genesis_len != self.applied {
            return Err(format!(
                "the journal has {entries} entries after {} stream items (genesis is {})",
                self.applied, self.genesis_len
            ));
        }
        let applied = self.applied;
        self.out.line(format_args!("ACK {applied}"))
    }

    fn system(&mut self, op: SystemOp) -> Result<(), String> {
        let what = op.kind();
        self.node
            .system(op)
            .map_err(|e| format!("{what} was not made durable: {e}"))?
            .map_err(|e| format!("{what} was refused: {e}"))?;
        Ok(())
    }

    /// Submit `txs` (the items from `self.applied` on) as one group-commit batch.
    fn batch(&mut self, txs: Vec<SignedTransaction>) -> Result<(), String> {
        if txs.is_empty() {
            return Ok(());
        }
        let n = txs.len() as u64;
        let results = self.node.submit_batch(txs).map_err(|e| format!("a batch was not made durable: {e}"))?;
        for (k, r) in results.iter().enumerate() {
            if let Err(e) = r {
                return Err(format!("stream item {} was refused: {e}", self.applied + k as u64));
            }
        }
        self.applied += n;
        self.ack()
    }
}

fn run<B: Backend>(open: impl Fn() -> granary_store::Result<B>, args: &Args) -> Result<(), String> {
    let mut out = Out(std::io::stdout());
    let (node, report) = open_node(&open)?;
    let genesis = genesis();
    let genesis_len = genesis.len() as u64;
    let entries = node.next_seq() - 1;
    let applied = entries.saturating_sub(genesis_len);
    if applied > args.items {
        return Err(format!("the journal holds {applied} stream items, more than the {} asked for", args.items));
    }
    out.line(format_args!("RECOVERED {applied} {entries} {report}"))?;
    let mut p = Progress { node, genesis_len, applied, out: &mut out };

    // The missing genesis actions, each written on its own (no stream item is applied yet).
    for op in genesis.into_iter().skip(entries as usize) {
        p.system(op)?;
        p.out.line(format_args!("ACK 0"))?;
    }

    let mut rng = SplitMix64(args.seed);
    while p.applied < args.items {
        let size = 1 + rng.next_u64() % MAX_BATCH;
        let end = (p.applied + size).min(args.items);
        let mut pending = Vec::new();
        for i in p.applied..end {
            match item(i) {
                Item::Tx(stx) => pending.push(stx),
                Item::Advance => {
                    // The transactions before the block boundary go first, as their own batch.
                    p.batch(std::mem::take(&mut pending))?;
                    p.system(SystemOp::Advance { chain: "eth".into(), seconds: 12 })?;
                    p.applied += 1;
                    p.ack()?;
                }
            }
        }
        p.batch(pending)?;
    }
    let applied = p.applied;
    p.out.line(format_args!("DONE {applied}"))
}
