//! Store throughput on this machine, in one run (`cargo bench -p granary-store --bench store`):
//!
//! 1. secp256k1 verification of the stream's signed transactions, one thread and all threads:
//!    the bound for ingest, since every submitted transaction is verified once.
//! 2. Durable ingest through `Node::submit_batch` (parallel verification, in-order apply, one
//!    durable write per batch) on SQLite and PostgreSQL at several batch sizes, transactions
//!    signed before the clock starts (signing is the client's cost).
//! 3. Journal replay without signature checks: the whole `Node::open` of a journal without a
//!    snapshot, and its parts measured apart (backend row reads, entry decoding, engine apply,
//!    block seals) from entries already in memory.
//! 4. Recovery time of a journal of 1 000 000 transactions, with and without a recent snapshot.
//!
//! The stream: swaps (one and two hops over three pools) and transfers among a few hundred
//! accounts, each with its own key and nonce sequence, every transaction accepted. A block closes
//! (`SystemOp::Advance`, its own durable write) every `BLOCK_TXS` transactions.
//!
//! The figures are printed as markdown and written to `<target dir>/bench/store.md`, the key ones
//! also to `store.json` beside it (for `granary bench all`).
//! Environment: `GRANARY_BENCH_PG` (admin URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; the bench creates and drops its own databases),
//! `GRANARY_BENCH_JOURNAL_TXS` (default 1 000 000; 100 000 with `GRANARY_BENCH_QUICK=1`, the short
//! run), `GRANARY_BENCH_KEEP=1` (keep the big
//! journal, its SQLite folder and its PostgreSQL database, for profiling),
//! `GRANARY_BENCH_REPLAY_ONLY=<folder or postgres:// URL>` (only time `Node::open` of a kept
//! journal, its snapshots set aside: the run to put under a profiler).

use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, SignedTransaction, SystemOp, Transaction, U256, VerifiedTransaction};
use granary_store::postgres::PgBackend;
use granary_store::sqlite::SqliteBackend;
use granary_store::{Backend, Entry, Node, Record, RecoveryReport, Snapshot, SnapshotPolicy};
use granary_testkit::bench;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Accounts that send and receive.
const ACCOUNTS: usize = 400;
const TOKENS: [&str; 3] = ["WETH", "USDC", "DAI"];
/// Pools: id and the indices of their two tokens.
const POOLS: [(&str, usize, usize); 3] = [("WETH-USDC", 0, 1), ("USDC-DAI", 1, 2), ("WETH-DAI", 0, 2)];
/// Transactions per block; every ingest batch size divides it.
const BLOCK_TXS: usize = 4096;
/// Ingest batch sizes, and transactions timed at each.
const BATCHES: [usize; 3] = [64, 256, 1024];
const INGEST_TXS: usize = 32_768;
/// Batch size used to build the big journal (one block per durable write).
const BUILD_BATCH: usize = BLOCK_TXS;
/// The "recent" snapshot is the last block boundary at least this many transactions before the end.
const SNAPSHOT_TAIL: usize = 40_000;
/// Rows per bulk append when copying the journal to PostgreSQL.
const PG_COPY_ROWS: usize = 20_000;

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// No snapshot is ever taken on its own during the bench.
fn manual_snapshots() -> SnapshotPolicy {
    SnapshotPolicy { every_blocks: u64::MAX, every: Duration::from_secs(365 * 24 * 3600), keep: 3 }
}

fn advance_op() -> SystemOp {
    SystemOp::Advance { chain: "eth".into(), seconds: 12 }
}

// ---------------------------------------------------------------------------------------------
// The transaction stream
// ---------------------------------------------------------------------------------------------

/// A deterministic stream: every call sequence from `Stream::new()` yields the same transactions.
struct Stream {
    keys: Vec<SecretKey>,
    addrs: Vec<Address>,
    nonces: Vec<u64>,
    rng: ChaCha8Rng,
}

impl Stream {
    fn new() -> Self {
        let keys: Vec<SecretKey> = (0..ACCOUNTS).map(|i| dev_key(&format!("bench-account-{i}"))).collect();
        let addrs = keys.iter().map(key_address).collect();
        Stream { keys, addrs, nonces: vec![0; ACCOUNTS], rng: ChaCha8Rng::seed_from_u64(0x6772_616e) }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    fn tx(&mut self, who: usize, action: Action) -> (usize, Transaction) {
        let nonce = self.nonces[who];
        self.nonces[who] += 1;
        (who, Transaction { chain_id: 1, sender: self.addrs[who], nonce, deadline: u64::MAX, action })
    }

    /// Operator actions: the chain, three tokens, and the whole supply minted to account 0.
    fn genesis(&self) -> Vec<SystemOp> {
        let mut ops =
            vec![SystemOp::CreateChain { id: "eth".into(), chain_id: 1, name: "ethereum".into(), block_time_s: 12 }];
        for t in TOKENS {
            ops.push(SystemOp::CreateToken {
                id: t.into(),
                chain: "eth".into(),
                symbol: t.into(),
                decimals: 18,
                minter: None,
            });
            ops.push(SystemOp::FaucetMint { token: t.into(), to: self.addrs[0], amount: e18(1_000_000_000_000) });
        }
        ops
    }

    /// Signed set-up: account 0 creates and funds the pools, then funds every other account.
    fn setup(&mut self) -> Vec<(usize, Transaction)> {
        let mut txs = Vec::new();
        for (id, a, b) in POOLS {
            let action =
                Action::CreatePool { id: id.into(), tokens: [TOKENS[a].into(), TOKENS[b].into()], fee_bps: 30 };
            txs.push(self.tx(0, action));
            let action = Action::AddLiquidity {
                pool: id.into(),
                amounts: [e18(1_000_000_000), e18(1_000_000_000)],
                min: [U256::ZERO; 2],
            };
            txs.push(self.tx(0, action));
        }
        for who in 1..ACCOUNTS {
            for t in TOKENS {
                let action = Action::Transfer { token: t.into(), to: self.addrs[who], amount: e18(1_000_000) };
                txs.push(self.tx(0, action));
            }
        }
        txs
    }

    /// The next transaction of the steady state: 45 % one-hop swaps, 15 % two-hop swaps, 40 %
    /// transfers, each from a random account to a random pool or account.
    fn next(&mut self) -> (usize, Transaction) {
        let who = self.below(ACCOUNTS as u64) as usize;
        let amount = U256::from(1_000_000_000_000_000u64) * U256::from(1 + self.below(10_000));
        let roll = self.below(100);
        let action = if roll < 45 {
            let (id, a, b) = POOLS[self.below(3) as usize];
            let token_in = if self.below(2) == 0 { a } else { b };
            Action::SwapExactIn {
                path: vec![id.into()],
                token_in: TOKENS[token_in].into(),
                amount_in: amount,
                min_out: U256::ZERO,
            }
        } else if roll < 60 {
            // t → u → w over the two pools that chain them.
            let t = self.below(3) as usize;
            let u = (t + 1 + self.below(2) as usize) % 3;
            let w = 3 - t - u;
            Action::SwapExactIn {
                path: vec![pool_of(t, u).into(), pool_of(u, w).into()],
                token_in: TOKENS[t].into(),
                amount_in: amount,
                min_out: U256::ZERO,
            }
        } else {
            let to = (who + 1 + self.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
            Action::Transfer { token: TOKENS[self.below(3) as usize].into(), to: self.addrs[to], amount }
        };
        self.tx(who, action)
    }

    fn next_n(&mut self, n: usize) -> Vec<(usize, Transaction)> {
        (0..n).map(|_| self.next()).collect()
    }

    /// Sign on all cores, keeping the order.
    fn sign(&self, txs: Vec<(usize, Transaction)>) -> Vec<SignedTransaction> {
        let keys = &self.keys;
        let chunks = split(txs, threads());
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|c| s.spawn(move || c.into_iter().map(|(who, tx)| tx.sign(&keys[who])).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("a signing thread panicked")).collect()
        })
    }
}

fn pool_of(a: usize, b: usize) -> &'static str {
    POOLS
        .iter()
        .find(|p| (p.1 == a && p.2 == b) || (p.1 == b && p.2 == a))
        .map(|p| p.0)
        .expect("every pair of tokens has a pool")
}

/// Consecutive chunks of `size` (the last may be shorter), in order.
fn chunks_of<T>(v: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::with_capacity(v.len().div_ceil(size.max(1)));
    let mut it = v.into_iter();
    loop {
        let c: Vec<T> = it.by_ref().take(size.max(1)).collect();
        if c.is_empty() {
            return out;
        }
        out.push(c);
    }
}

/// Split into at most `parts` contiguous chunks, in order.
fn split<T>(v: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let size = v.len().div_ceil(parts.max(1));
    chunks_of(v, size)
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// Verify `chunks`, one thread each (inline when there is one): the shape of the node's
/// verification of a batch.
fn verify_chunks(chunks: Vec<Vec<SignedTransaction>>) {
    if chunks.len() == 1 {
        for stx in chunks.into_iter().flatten() {
            black_box(stx.verify().expect("the stream's signatures are valid"));
        }
        return;
    }
    std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    for stx in c {
                        black_box(stx.verify().expect("the stream's signatures are valid"));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("a verifying thread panicked");
        }
    });
}

/// Verify clones of `txs` on `threads` threads; the best of three runs, in transactions per
/// second (the bound: the machine is shared).
fn verify_rate(txs: &[SignedTransaction], threads: usize) -> f64 {
    (0..3)
        .map(|_| {
            let chunks = split(txs.to_vec(), threads);
            let t = Instant::now();
            verify_chunks(chunks);
            per_sec(txs.len(), t.elapsed())
        })
        .fold(0.0, f64::max)
}

/// EIP-712 digests alone (action encoding + keccak), one thread, best of three.
fn digest_rate(txs: &[SignedTransaction]) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            for stx in txs {
                black_box(stx.tx.signing_hash());
            }
            per_sec(txs.len(), t.elapsed())
        })
        .fold(0.0, f64::max)
}

/// Median time to verify one batch of `batch` as the node does (threads spawned per batch).
fn verify_batch_p50(txs: &[SignedTransaction], batch: usize) -> Duration {
    let mut lat: Vec<Duration> = txs
        .chunks(batch)
        .map(|b| {
            let chunks = if batch < 64 { vec![b.to_vec()] } else { split(b.to_vec(), threads()) };
            let t = Instant::now();
            verify_chunks(chunks);
            t.elapsed()
        })
        .collect();
    lat.sort();
    lat[lat.len() / 2]
}

/// Median time of the durable write alone: `Backend::append` of `batch` encoded transaction
/// entries, 32 times, at positions from `first_seq` on.
fn append_batch_p50<B: Backend>(backend: &mut B, txs: &[SignedTransaction], batch: usize, first_seq: u64) -> Duration {
    let mut seq = first_seq;
    let mut lat = Vec::new();
    for chunk in txs.chunks(batch).cycle().take(32) {
        let rows: Vec<(u64, Vec<u8>)> = chunk
            .iter()
            .map(|stx| {
                seq += 1;
                let e = Entry { seq, chain_id: 1, block: 0, timestamp: 0, record: Record::Tx(stx.clone()), seal: None };
                (seq, e.encode())
            })
            .collect();
        let t = Instant::now();
        backend.append(&rows).expect("durable append");
        lat.push(t.elapsed());
    }
    lat.sort();
    lat[lat.len() / 2]
}

fn submit_all<B: Backend>(node: &mut Node<B>, batch: Vec<SignedTransaction>) {
    for r in node.submit_batch(batch).expect("the batch is durable") {
        if let Err(e) = r {
            panic!("a stream transaction was refused: {e}");
        }
    }
}

fn advance<B: Backend>(node: &mut Node<B>) {
    node.system(advance_op()).expect("the block seal is durable").expect("the block closes");
}

/// Genesis and the signed set-up, then one block seal.
fn prepare<B: Backend>(node: &mut Node<B>, genesis: &[SystemOp], setup: Vec<SignedTransaction>) {
    for op in genesis {
        node.system(op.clone()).expect("genesis is durable").expect("genesis applies");
    }
    submit_all(node, setup);
    advance(node);
}

struct Ingest {
    txs: usize,
    elapsed: Duration,
    batch_p50: Duration,
    batch_p99: Duration,
}

impl Ingest {
    fn rate(&self) -> f64 {
        per_sec(self.txs, self.elapsed)
    }
}

/// Submit `txs` in batches of `batch`, closing a block every `BLOCK_TXS` transactions (the node
/// starts at a block boundary); the clock covers verification, apply, durable writes and seals.
fn ingest<B: Backend>(node: &mut Node<B>, txs: Vec<SignedTransaction>, batch: usize) -> Ingest {
    let n = txs.len();
    let batches = chunks_of(txs, batch);
    let mut lat = Vec::with_capacity(batches.len());
    let mut in_block = 0;
    let t = Instant::now();
    for b in batches {
        let len = b.len();
        let s = Instant::now();
        submit_all(node, b);
        lat.push(s.elapsed());
        in_block += len;
        if in_block >= BLOCK_TXS {
            advance(node);
            in_block = 0;
        }
    }
    let elapsed = t.elapsed();
    lat.sort();
    Ingest { txs: n, elapsed, batch_p50: lat[lat.len() / 2], batch_p99: lat[(lat.len() * 99 / 100).min(lat.len() - 1)] }
}

/// Apply one decoded entry as recovery does (`SignedTransaction::assume_verified` on a clone,
/// then `apply_verified`; an `Advance` must reproduce its recorded seal). Returns whether it
/// closed a block.
fn apply_entry(engine: &mut Engine, entry: &Entry) -> bool {
    match &entry.record {
        Record::Tx(stx) => {
            let vtx: VerifiedTransaction = stx.clone().assume_verified();
            engine.apply_verified(&vtx).expect("a journal transaction applies");
            false
        }
        Record::System(op) => {
            let seal = engine.apply_system(op).expect("a journal action applies");
            if let Some(s) = seal {
                assert_eq!(Some(s.state_hash), entry.seal, "block seal mismatch");
            }
            seal.is_some()
        }
    }
}

/// Entries in one contiguous buffer.
struct Blobs {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Blobs {
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let s = &self.bytes[start..end];
            start = end;
            s
        })
    }
}

fn read_all(backend: &mut dyn Backend) -> Blobs {
    let mut blobs = Blobs { bytes: Vec::new(), ends: Vec::new() };
    backend
        .scan(1, &mut |_, b| {
            blobs.bytes.extend_from_slice(b);
            blobs.ends.push(blobs.bytes.len());
            true
        })
        .expect("scan");
    blobs
}

/// Time a full scan that only touches the bytes.
fn time_scan(backend: &mut dyn Backend) -> (usize, Duration) {
    let mut rows = 0usize;
    let mut sum = 0u64;
    let t = Instant::now();
    backend
        .scan(1, &mut |seq, b| {
            rows += 1;
            sum = sum.wrapping_add(seq ^ b.len() as u64);
            true
        })
        .expect("scan");
    black_box(sum);
    (rows, t.elapsed())
}

fn time_open<B: Backend>(backend: B) -> (Duration, RecoveryReport) {
    let t = Instant::now();
    let (node, report) = Node::open(backend, manual_snapshots()).expect("recovery");
    let d = t.elapsed();
    drop(node);
    (d, report)
}

/// The faster of two recoveries (the machine is shared).
fn best_open<B: Backend>(mut open: impl FnMut() -> B) -> (Duration, RecoveryReport) {
    let (a, ra) = time_open(open());
    let (b, rb) = time_open(open());
    assert_eq!(ra.state_hash, rb.state_hash);
    if a <= b { (a, ra) } else { (b, rb) }
}

/// What recovery does with a snapshot before replaying: load, check, decode, re-hash.
fn time_snapshot_load(backend: &mut dyn Backend, seq: u64) -> Duration {
    let t = Instant::now();
    let bytes = backend.load_snapshot(seq).expect("load").expect("stored");
    let snap = Snapshot::decode(&bytes).expect("intact snapshot");
    let engine = Engine::decode_state(&snap.state).expect("decodable state");
    assert_eq!(engine.state_hash(), snap.state_hash);
    t.elapsed()
}

fn fsync_probe(dir: &Path) -> Duration {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    let block = [7u8; 4096];
    let mut lat = Vec::new();
    for _ in 0..100 {
        f.seek(SeekFrom::Start(0)).expect("seek");
        f.write_all(&block).expect("write");
        let t = Instant::now();
        f.sync_data().expect("fdatasync");
        lat.push(t.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    lat.sort();
    lat[lat.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// Places: target folder, data folders, PostgreSQL databases
// ---------------------------------------------------------------------------------------------

/// Removes what the bench created, also when it panics.
struct Cleanup {
    dirs: Vec<PathBuf>,
    pg_admin: Option<String>,
    databases: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        if let Some(admin) = &self.pg_admin
            && let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls)
        {
            for db in &self.databases {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
        }
    }
}

fn db_url(admin: &str, db: &str) -> String {
    match admin.rfind('/') {
        Some(i) if i > admin.find("://").map_or(0, |s| s + 2) => format!("{}/{db}", &admin[..i]),
        _ => format!("{admin}/{db}"),
    }
}

/// Create a fresh database; returns its URL.
fn create_db(admin: &mut postgres::Client, admin_url: &str, db: &str) -> String {
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).expect("drop a leftover bench database");
    admin.batch_execute(&format!("CREATE DATABASE {db}")).expect("create the bench database");
    db_url(admin_url, db)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// 1234567.8 → "1 234 568".
fn int(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ns_per(d: Duration, n: usize) -> String {
    format!("{:.0} ns", d.as_secs_f64() * 1e9 / n as f64)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "misses" }
}

struct Md(String);

impl Md {
    fn line(&mut self, s: impl AsRef<str>) {
        println!("{}", s.as_ref());
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }
    fn row(&mut self, cells: &[String]) {
        let mut s = String::from("|");
        for c in cells {
            let _ = write!(s, " {c} |");
        }
        self.line(s);
    }
}

macro_rules! row {
    ($md:expr, $($c:expr),+ $(,)?) => { $md.row(&[$($c.to_string()),+]) };
}

fn progress(what: &str) {
    eprintln!("[store bench] {what}");
}

// ---------------------------------------------------------------------------------------------

/// Time `Node::open` of a kept journal without its snapshots (put back afterwards).
fn replay_only<B: Backend>(open: impl Fn() -> B) {
    let mut b = open();
    let mut stash = Vec::new();
    for seq in b.snapshot_seqs().expect("snapshots") {
        if let Some(bytes) = b.load_snapshot(seq).expect("load") {
            stash.push((seq, bytes));
        }
        b.delete_snapshot(seq).expect("delete");
    }
    drop(b);
    let (d, report) = time_open(open());
    println!(
        "Node::open of {}: {} ({} entries/s): {report}",
        open().describe(),
        secs(d),
        int(per_sec(report.replayed as usize, d))
    );
    let mut b = open();
    for (seq, bytes) in stash {
        b.put_snapshot(seq, &bytes).expect("restore the snapshot");
    }
}

fn main() {
    if let Ok(place) = std::env::var("GRANARY_BENCH_REPLAY_ONLY") {
        if place.starts_with("postgres") {
            replay_only(|| PgBackend::open_writer(&place).expect("open the kept journal"));
        } else {
            replay_only(|| SqliteBackend::open_writer(Path::new(&place)).expect("open the kept journal"));
        }
        return;
    }
    let journal_txs: usize = std::env::var("GRANARY_BENCH_JOURNAL_TXS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(if bench::quick() { 100_000 } else { 1_000_000 });
    let keep = std::env::var("GRANARY_BENCH_KEEP").is_ok_and(|v| v == "1");
    let pg_admin =
        std::env::var("GRANARY_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let run_started = Instant::now();
    let target = bench::target_dir();
    let data = target.join(format!("store-bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&data).expect("create the data folder");
    let mut cleanup = Cleanup { dirs: vec![data.join("ingest")], pg_admin: None, databases: Vec::new() };
    if !keep {
        cleanup.dirs.push(data.clone());
    }

    let load_start = bench::load_average();
    let fsync = fsync_probe(&data);

    // PostgreSQL: reachable? settings?
    let pid = std::process::id();
    let (db_ingest, db_journal) = (format!("granary_bench_{pid}_ingest"), format!("granary_bench_{pid}_journal"));
    let mut pg = match postgres::Client::connect(&pg_admin, postgres::NoTls) {
        Ok(c) => {
            cleanup.pg_admin = Some(pg_admin.clone());
            cleanup.databases = vec![db_ingest.clone()];
            if !keep {
                cleanup.databases.push(db_journal.clone());
            }
            Some(c)
        }
        Err(e) => {
            println!("PostgreSQL is unreachable at {pg_admin} ({e}): its rows are skipped.");
            None
        }
    };
    let pg_settings = pg.as_mut().map(|c| {
        let show = |c: &mut postgres::Client, k: &str| -> String {
            c.query_one(&format!("SHOW {k}"), &[]).map(|r| r.get::<_, String>(0)).unwrap_or_else(|_| "?".into())
        };
        let version = show(c, "server_version");
        format!(
            "PostgreSQL {version}, fsync={}, synchronous_commit={}, wal_sync_method={}",
            show(c, "fsync"),
            show(c, "synchronous_commit"),
            show(c, "wal_sync_method")
        )
    });

    // ---- 1 + 2: verification bound and durable ingest --------------------------------------
    progress("signing the ingest stream");
    let mut stream = Stream::new();
    let genesis = stream.genesis();
    let setup_txs = stream.setup();
    let setup = stream.sign(setup_txs);
    let to_sign = stream.next_n(INGEST_TXS * BATCHES.len());
    let t = Instant::now();
    let signed = stream.sign(to_sign);
    let sign_rate = per_sec(signed.len(), t.elapsed());
    let ingest_sets: Vec<Vec<SignedTransaction>> = signed.chunks(INGEST_TXS).map(<[_]>::to_vec).collect();

    progress("verification rate");
    let sample = &signed[..16_384];
    let verify_1 = verify_rate(&sample[..8192], 1);
    let mut verify_n = verify_rate(sample, threads());
    let digest_1 = digest_rate(&sample[..8192]);

    progress("ingest on SQLite");
    let mut sqlite_ingest = Vec::new();
    let mut sqlite_append = Vec::new();
    {
        let dir = data.join("ingest");
        let (mut node, _) = Node::open(SqliteBackend::open_writer(&dir).expect("open SQLite"), manual_snapshots())
            .expect("empty store");
        prepare(&mut node, &genesis, setup.clone());
        for (set, batch) in ingest_sets.iter().zip(BATCHES) {
            // verification of this batch size alone, measured just before its ingest
            let v = verify_batch_p50(&set[..(16 * batch).clamp(8192, INGEST_TXS)], batch);
            sqlite_ingest.push((batch, ingest(&mut node, set.clone(), batch), v));
        }
        let next = node.next_seq();
        for (i, batch) in BATCHES.into_iter().enumerate() {
            let from = next + (i as u64 + 1) * 1_000_000;
            sqlite_append.push(append_batch_p50(node.backend(), &ingest_sets[0], batch, from));
        }
        drop(node);
        let _ = std::fs::remove_dir_all(&dir);
    }

    let mut pg_ingest = Vec::new();
    let mut pg_append = Vec::new();
    if let Some(admin) = pg.as_mut() {
        progress("ingest on PostgreSQL");
        let url = create_db(admin, &pg_admin, &db_ingest);
        let (mut node, _) = Node::open(PgBackend::open_writer(&url).expect("open PostgreSQL"), manual_snapshots())
            .expect("empty store");
        prepare(&mut node, &genesis, setup.clone());
        for (set, batch) in ingest_sets.iter().zip(BATCHES) {
            let v = verify_batch_p50(&set[..(16 * batch).clamp(8192, INGEST_TXS)], batch);
            pg_ingest.push((batch, ingest(&mut node, set.clone(), batch), v));
        }
        let next = node.next_seq();
        for (i, batch) in BATCHES.into_iter().enumerate() {
            let from = next + (i as u64 + 1) * 1_000_000;
            pg_append.push(append_batch_p50(node.backend(), &ingest_sets[0], batch, from));
        }
        drop(node);
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db_ingest} WITH (FORCE)"));
    }
    // the bound again after the ingest runs (the machine is shared): keep the best
    verify_n = verify_n.max(verify_rate(sample, threads()));
    drop(ingest_sets);
    drop(signed);

    // ---- 4 (build): the big journal on SQLite ---------------------------------------------
    progress(&format!("building a journal of {journal_txs} transactions on SQLite"));
    let jdir = data.join("journal");
    let _ = std::fs::remove_dir_all(&jdir);
    let mut stream = Stream::new();
    let genesis = stream.genesis();
    let setup_txs = stream.setup();
    let setup_len = setup_txs.len();
    let setup = stream.sign(setup_txs);
    let stream_txs = journal_txs.saturating_sub(setup_len);
    let snapshot_after = stream_txs.saturating_sub(SNAPSHOT_TAIL) / BLOCK_TXS * BLOCK_TXS;
    let mut build_time = Duration::ZERO;
    let mut build_sign = Duration::ZERO;
    let mut snapshot_seq = None;
    let (final_hash, entries) = {
        let (mut node, _) = Node::open(SqliteBackend::open_writer(&jdir).expect("open SQLite"), manual_snapshots())
            .expect("empty store");
        prepare(&mut node, &genesis, setup);
        let mut done = 0usize;
        while done < stream_txs {
            let n = (16 * BLOCK_TXS).min(stream_txs - done);
            let t = Instant::now();
            let txs = stream.next_n(n);
            let chunk = stream.sign(txs);
            build_sign += t.elapsed();
            let t = Instant::now();
            for b in chunks_of(chunk, BUILD_BATCH) {
                let len = b.len();
                submit_all(&mut node, b);
                advance(&mut node);
                done += len;
                if done == snapshot_after && snapshot_seq.is_none() && done > 0 {
                    snapshot_seq = Some(node.snapshot().expect("snapshot"));
                }
            }
            build_time += t.elapsed();
        }
        (node.engine().state_hash(), (node.next_seq() - 1) as usize)
    };
    let total_txs = setup_len + stream_txs;
    // Set the snapshot aside: first recover without it.
    let snapshot_bytes = snapshot_seq.map(|seq| {
        let mut b = SqliteBackend::open_writer(&jdir).expect("open");
        let bytes = b.load_snapshot(seq).expect("load").expect("stored");
        b.delete_snapshot(seq).expect("delete");
        (seq, bytes)
    });

    // ---- 3: replay ------------------------------------------------------------------------
    progress("SQLite recovery without a snapshot (twice)");
    let (sqlite_open, sqlite_report) = best_open(|| SqliteBackend::open_writer(&jdir).expect("open"));
    assert_eq!(sqlite_report.state_hash, final_hash);
    assert_eq!(sqlite_report.replayed as usize, entries);

    progress("replay parts");
    let (scan_rows, sqlite_scan) = {
        let mut b = SqliteBackend::open_reader(&jdir).expect("open");
        let first = time_scan(&mut b);
        let second = time_scan(&mut b);
        (first.0, first.1.min(second.1))
    };
    assert_eq!(scan_rows, entries);
    let blobs = read_all(&mut SqliteBackend::open_reader(&jdir).expect("open"));
    let blob_bytes = blobs.bytes.len();

    // decode + apply streamed from memory: the replay loop without the backend
    let t = Instant::now();
    let mut engine = Engine::new();
    for b in blobs.iter() {
        let entry = Entry::decode(b).expect("intact entry");
        apply_entry(&mut engine, &entry);
    }
    let mem_replay = t.elapsed();
    assert_eq!(engine.state_hash(), final_hash);
    drop(engine);

    // decode alone (into a vector allocated beforehand)
    let mut decoded: Vec<Entry> = Vec::with_capacity(blobs.ends.len());
    let t = Instant::now();
    for b in blobs.iter() {
        decoded.push(Entry::decode(b).expect("intact entry"));
    }
    let decode_time = t.elapsed();

    // apply alone (as recovery does it, with the clone), seals timed apart
    let mut engine = Engine::new();
    let mut seal_time = Duration::ZERO;
    let mut seals = 0usize;
    let t = Instant::now();
    for e in &decoded {
        if matches!(e.record, Record::System(SystemOp::Advance { .. })) {
            let s = Instant::now();
            apply_entry(&mut engine, e);
            seal_time += s.elapsed();
            seals += 1;
        } else {
            apply_entry(&mut engine, e);
        }
    }
    let apply_time = t.elapsed();
    assert_eq!(engine.state_hash(), final_hash);
    let state_bytes = engine.encode_state().len();
    drop(engine);

    // what recovery's per-entry clone costs: clone + drop, as `apply_entry` does it
    let t = Instant::now();
    for e in &decoded {
        if let Record::Tx(stx) = &e.record {
            black_box(stx.clone().assume_verified());
        }
    }
    let clone_time = t.elapsed();
    drop(decoded);

    // ---- 4: recovery with the recent snapshot -------------------------------------------------
    let mut sqlite_snap = None;
    if let Some((seq, bytes)) = &snapshot_bytes {
        progress("SQLite recovery with the snapshot");
        let mut b = SqliteBackend::open_writer(&jdir).expect("open");
        b.put_snapshot(*seq, bytes).expect("put the snapshot back");
        let load = time_snapshot_load(&mut b, *seq);
        drop(b);
        let (d, r) = best_open(|| SqliteBackend::open_writer(&jdir).expect("open"));
        assert_eq!(r.state_hash, final_hash);
        assert_eq!(r.snapshot_seq, Some(*seq));
        sqlite_snap = Some((d, r, load, bytes.len()));
    }

    // ---- PostgreSQL: the same journal, copied row for row ----------------------------------
    struct PgRecovery {
        copy: Duration,
        scan: Duration,
        open: Duration,
        report: RecoveryReport,
        snap: Option<(Duration, RecoveryReport)>,
    }
    let mut pg_recovery = None;
    if let Some(admin) = pg.as_mut() {
        progress("copying the journal to PostgreSQL");
        let url = create_db(admin, &pg_admin, &db_journal);
        let copy = {
            let mut b = PgBackend::open_writer(&url).expect("open PostgreSQL");
            let mut rows = Vec::with_capacity(PG_COPY_ROWS);
            let t = Instant::now();
            for (i, blob) in blobs.iter().enumerate() {
                rows.push((i as u64 + 1, blob.to_vec()));
                if rows.len() == PG_COPY_ROWS {
                    b.append(&rows).expect("append");
                    rows.clear();
                }
            }
            if !rows.is_empty() {
                b.append(&rows).expect("append");
            }
            let d = t.elapsed();
            // fresh statistics for the planner, as a running system would have
            b.client().batch_execute("VACUUM ANALYZE journal").expect("analyze");
            d
        };
        progress("PostgreSQL recovery without a snapshot (twice)");
        let scan = {
            let mut b = PgBackend::open_reader(&url).expect("open");
            let (rows, d) = time_scan(&mut b);
            assert_eq!(rows, entries);
            d
        };
        let (open, report) = best_open(|| PgBackend::open_writer(&url).expect("open"));
        assert_eq!(report.state_hash, final_hash);
        let snap = snapshot_bytes.as_ref().map(|(seq, bytes)| {
            progress("PostgreSQL recovery with the snapshot");
            let mut b = PgBackend::open_writer(&url).expect("open");
            b.put_snapshot(*seq, bytes).expect("put the snapshot");
            drop(b);
            let (d, r) = best_open(|| PgBackend::open_writer(&url).expect("open"));
            assert_eq!(r.state_hash, final_hash);
            (d, r)
        });
        pg_recovery = Some(PgRecovery { copy, scan, open, report, snap });
        if keep {
            println!("PostgreSQL journal kept in {url}");
        } else {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db_journal} WITH (FORCE)"));
        }
    }
    drop(blobs);

    // ---- the report ---------------------------------------------------------------------------
    let tx_entries = total_txs;
    let mut md = Md(String::new());
    md.line("");
    md.line("## granary-store bench");
    md.line("");
    md.line(format!(
        "Machine: {} logical CPUs (nproc), {}; load average at start {load_start}, at end {}; 4 KiB fdatasync median {:.0} µs on the target folder's disk.",
        threads(),
        bench::cpu_model(),
        bench::load_average(),
        fsync.as_secs_f64() * 1e6,
    ));
    md.line(format!(
        "SQLite: WAL, synchronous=FULL. {}.",
        pg_settings.as_deref().unwrap_or("PostgreSQL: unreachable, its rows are skipped")
    ));
    md.line(format!(
        "Stream: {ACCOUNTS} accounts, 3 tokens, 3 pools; 45 % one-hop swaps, 15 % two-hop swaps, 40 % transfers; a block seal (its own durable write) every {BLOCK_TXS} transactions. Signing (client side, not timed below): {} tx/s on {} threads.",
        int(sign_rate),
        threads()
    ));
    md.line("");
    md.line("| # | measure | figure | goal | verdict |");
    md.line("| --- | --- | --- | --- | --- |");
    row!(
        md,
        "1",
        "secp256k1 verification (EIP-712 digest + recover), 1 thread, best of 3",
        format!("{} tx/s", int(verify_1)),
        "bound",
        "",
    );
    row!(
        md,
        "1",
        "… of which the EIP-712 digest alone (action encoding + keccak), 1 thread",
        format!("{} tx/s", int(digest_1)),
        "",
        "",
    );
    row!(
        md,
        "1",
        format!("secp256k1 verification, {} threads, best of 6 (before and after the ingest runs)", threads()),
        format!("{} tx/s", int(verify_n)),
        "bound",
        "",
    );
    for (name, rows) in [("SQLite", &sqlite_ingest), ("PostgreSQL", &pg_ingest)] {
        for (batch, r, _) in rows.iter() {
            let rate = r.rate();
            let ratio = verify_n / rate;
            let goal = if name == "SQLite" { "≥ 20 000 tx/s and ratio ≤ 2" } else { "ratio ≤ 2" };
            let ok = ratio <= 2.0 && (name != "SQLite" || rate >= 20_000.0);
            row!(
                md,
                "2",
                format!(
                    "durable ingest, {name}, batch {batch} ({} tx; batch p50 {}, p99 {})",
                    r.txs,
                    ms(r.batch_p50),
                    ms(r.batch_p99)
                ),
                format!("{} tx/s, verification/ingest = {ratio:.2}", int(rate)),
                goal,
                verdict(ok),
            );
        }
    }
    if pg.is_none() {
        row!(md, "2", "durable ingest, PostgreSQL", "unreachable: skipped", "", "");
    }
    let build_rate = per_sec(stream_txs, build_time);
    row!(
        md,
        "2",
        format!("durable ingest, SQLite, batch {BUILD_BATCH} (building the journal, {stream_txs} tx)"),
        format!("{} tx/s, verification/ingest = {:.2}", int(build_rate), verify_n / build_rate),
        "≥ 20 000 tx/s and ratio ≤ 2",
        verdict(build_rate >= 20_000.0 && verify_n / build_rate <= 2.0),
    );
    let replay_rate = per_sec(tx_entries, sqlite_open);
    row!(
        md,
        "3",
        format!("replay, whole `Node::open` without snapshot, SQLite ({entries} entries)"),
        format!("{} tx/s ({} entries/s)", int(replay_rate), int(per_sec(entries, sqlite_open))),
        "≥ 1 000 000 tx/s",
        verdict(replay_rate >= 1e6),
    );
    let mem_rate = per_sec(tx_entries, mem_replay);
    row!(
        md,
        "3",
        "replay, decode + apply from entries in memory (no backend)",
        format!("{} tx/s", int(mem_rate)),
        "≥ 1 000 000 tx/s",
        verdict(mem_rate >= 1e6),
    );
    if let Some(p) = &pg_recovery {
        let r = per_sec(tx_entries, p.open);
        row!(
            md,
            "3",
            "replay, whole `Node::open` without snapshot, PostgreSQL",
            format!("{} tx/s", int(r)),
            "≥ 1 000 000 tx/s",
            verdict(r >= 1e6),
        );
    }
    row!(md, "4", format!("recovery of {total_txs} tx, SQLite, no snapshot"), secs(sqlite_open), "", "",);
    if let Some((d, r, _, _)) = &sqlite_snap {
        row!(
            md,
            "4",
            format!(
                "recovery of {total_txs} tx, SQLite, snapshot at entry {} ({} entries replayed)",
                r.snapshot_seq.unwrap_or(0),
                r.replayed
            ),
            secs(*d),
            "",
            "",
        );
    }
    if let Some(p) = &pg_recovery {
        row!(md, "4", format!("recovery of {total_txs} tx, PostgreSQL, no snapshot"), secs(p.open), "", "",);
        if let Some((d, r)) = &p.snap {
            row!(
                md,
                "4",
                format!(
                    "recovery of {total_txs} tx, PostgreSQL, snapshot at entry {} ({} entries replayed)",
                    r.snapshot_seq.unwrap_or(0),
                    r.replayed
                ),
                secs(*d),
                "",
                "",
            );
        }
    } else {
        row!(md, "4", "recovery, PostgreSQL", "unreachable: skipped", "", "");
    }

    md.line("");
    md.line("Where ingest time goes (medians per batch; `submit_batch` verifies, then applies, then writes: the parts do not overlap):");
    md.line("");
    md.line("| backend | batch | whole `submit_batch` | verification alone (threads spawned per batch, measured just before) | durable append alone (measured just after) | rest (apply, encoding; 0 when the parts measured apart exceed the whole) |");
    md.line("| --- | --- | --- | --- | --- | --- |");
    for (name, rows, appends) in [("SQLite", &sqlite_ingest, &sqlite_append), ("PostgreSQL", &pg_ingest, &pg_append)] {
        for ((batch, r, v), a) in rows.iter().zip(appends.iter()) {
            row!(md, name, batch, ms(r.batch_p50), ms(*v), ms(*a), ms(r.batch_p50.saturating_sub(*v + *a)),);
        }
    }
    md.line("");
    md.line(format!(
        "Where replay time goes ({entries} entries: {tx_entries} transactions, {seals} block seals, {} MB of entries; times per entry unless said):",
        blob_bytes / 1_000_000
    ));
    md.line("");
    md.line("| part | total | per entry | share of `Node::open` |");
    md.line("| --- | --- | --- | --- |");
    let share = |d: Duration| format!("{:.0} %", 100.0 * d.as_secs_f64() / sqlite_open.as_secs_f64());
    row!(md, "whole `Node::open`, SQLite, no snapshot", secs(sqlite_open), ns_per(sqlite_open, entries), "100 %",);
    row!(
        md,
        "SQLite row reads (`Backend::scan`, nothing decoded)",
        secs(sqlite_scan),
        ns_per(sqlite_scan, entries),
        share(sqlite_scan),
    );
    row!(
        md,
        "entry decoding (CRC-32, header, `SignedTransaction::from_bytes`), from memory",
        secs(decode_time),
        ns_per(decode_time, entries),
        share(decode_time),
    );
    row!(
        md,
        "engine apply incl. clone + seals, from decoded entries",
        secs(apply_time),
        ns_per(apply_time, entries),
        share(apply_time),
    );
    row!(
        md,
        format!("… of which block seals (state hash over {state_bytes} B of state)"),
        secs(seal_time),
        format!("{:.0} µs per seal", seal_time.as_secs_f64() * 1e6 / seals.max(1) as f64),
        share(seal_time),
    );
    row!(
        md,
        "… of which the per-entry clone of the transaction (clone + drop)",
        secs(clone_time),
        ns_per(clone_time, entries),
        share(clone_time),
    );
    row!(
        md,
        "decode + apply streamed from memory (the replay loop without a backend)",
        secs(mem_replay),
        ns_per(mem_replay, entries),
        share(mem_replay),
    );
    if let Some((_, _, load, len)) = &sqlite_snap {
        row!(md, format!("snapshot load + decode + re-hash ({len} B)"), ms(*load), "", "",);
    }
    if let Some(p) = &pg_recovery {
        row!(
            md,
            "PostgreSQL row reads (`Backend::scan`: one streamed query read on its own thread)",
            secs(p.scan),
            ns_per(p.scan, entries),
            format!("{:.0} % of PostgreSQL's `Node::open`", 100.0 * p.scan.as_secs_f64() / p.open.as_secs_f64()),
        );
        row!(
            md,
            format!(
                "copying the journal to PostgreSQL ({PG_COPY_ROWS}-row durable appends; {} replayed in its recovery)",
                p.report.replayed
            ),
            secs(p.copy),
            ns_per(p.copy, entries),
            "",
        );
    }
    md.line("");
    md.line(format!(
        "Whole run: {} (journal build: signing {}, durable ingest {}). Recovery figures are the faster of two runs.",
        secs(run_started.elapsed()),
        secs(build_sign),
        secs(build_time)
    ));
    let mut report = bench::Report::new("store");
    report
        .figure("threads", threads() as f64)
        .figure("verify_1_per_s", verify_1)
        .figure("verify_n_per_s", verify_n)
        .figure("digest_1_per_s", digest_1);
    for (key, rows) in [("sqlite", &sqlite_ingest), ("pg", &pg_ingest)] {
        for (batch, r, _) in rows.iter() {
            report.figure(&format!("{key}_ingest_b{batch}_per_s"), r.rate());
        }
        if let Some((batch, r, _)) = rows.iter().max_by(|a, b| a.1.rate().total_cmp(&b.1.rate())) {
            report
                .figure(&format!("{key}_ingest_best_per_s"), r.rate())
                .figure(&format!("{key}_ingest_best_batch"), *batch as f64);
        }
    }
    report
        .figure("sqlite_build_per_s", build_rate)
        .figure("journal_txs", total_txs as f64)
        .figure("replay_sqlite_per_s", replay_rate)
        .figure("replay_memory_per_s", mem_rate)
        .figure("recovery_sqlite_s", sqlite_open.as_secs_f64());
    if let Some((d, _, _, _)) = &sqlite_snap {
        report.figure("recovery_sqlite_snapshot_s", d.as_secs_f64());
    }
    if let Some(p) = &pg_recovery {
        report.figure("replay_pg_per_s", per_sec(tx_entries, p.open)).figure("recovery_pg_s", p.open.as_secs_f64());
        if let Some((d, _)) = &p.snap {
            report.figure("recovery_pg_snapshot_s", d.as_secs_f64());
        }
    }
    if let Some(settings) = &pg_settings {
        report.note("postgres", settings.clone());
    }
    report.write(&md.0);
    if keep {
        println!("journal kept in {}", jdir.display());
    }
    drop(cleanup);
}
