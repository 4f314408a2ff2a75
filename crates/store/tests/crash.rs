//! The crash test: a writer process (`granary-crash-child`) is killed with SIGKILL at random
//! moments — while it starts up and recovers, right after recovery, and in the middle of a group
//! commit — and restarted, over and over, on each backend. Afterwards every acknowledged item must
//! be in the journal, none may be applied twice, and the recovered state must equal both a fresh
//! replay from genesis and an engine that applied the same stream directly, without a store.
//!
//! PostgreSQL: the server at `GRANARY_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! must let that role create databases; the test works in a database of its own and drops it. With
//! `CI` set, an unreachable server fails the test; otherwise that part is skipped, saying so.

mod common;

use common::{ACTORS, Item, actor, genesis, item};
use granary_engine::{B256, Engine, SystemOp};
use granary_store::entry::{Entry, Record};
use granary_store::node::verify_journal;
use granary_store::postgres::PgBackend;
use granary_store::sqlite::SqliteBackend;
use granary_store::{Backend, Reader, RecoveryReport};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Stream items after genesis (an `Advance` every 40th).
const ITEMS: u64 = 10_000;
/// Kills per backend.
const KILLS: usize = 40;
/// Give up on a run that stalls this long (a hung child is a failure, not a slow machine).
const STALL: Duration = Duration::from_secs(60);
/// `Child::kill` sends SIGKILL on Unix; each kill is confirmed from the exit status.
const SIGKILL: i32 = 9;

/// The two backends' runs share two cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum KillAt {
    /// A random delay after spawning, without looking at the output: before, during or just after
    /// recovery.
    StartUp,
    /// Right after the child reported its recovery: during the first write.
    Recovered,
    /// Right after an acknowledgement at or past a random position: inside the next batch.
    MidStream,
}

/// Which phase the child was in when the kill landed, judged from the output seen by then.
#[derive(Default, Debug)]
struct Phases {
    before_recovered: usize,
    before_first_ack: usize,
    after_an_ack: usize,
}

#[derive(Default, Debug)]
struct Summary {
    cycles: usize,
    kills: usize,
    phases: Phases,
    /// Runs that finished the stream before the kill came.
    completed_early: usize,
    ack_lines: u64,
    max_acked: u64,
    /// Items found durable after a kill although their acknowledgement was never read.
    durable_unacked: u64,
    /// Kills after which the server still ran the dead writer's session (PostgreSQL).
    sessions_outliving_kill: usize,
    /// How long runs took from spawning to reporting their recovery.
    start_up: Vec<Duration>,
    entries: u64,
    snapshots: usize,
}

enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    fn arg(&self) -> String {
        match self {
            Target::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            Target::Postgres(url) => url.clone(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Sqlite(_) => "sqlite",
            Target::Postgres(_) => "postgres",
        }
    }

    /// Wait until the killed writer is gone for good. A PostgreSQL server goes on with a dead
    /// client's session for a moment — an append it had sent may still commit — and releases the
    /// session's advisory locks (the writer lock) only when the session ends. True if it had to
    /// wait. (SQLite has nothing left behind once the process is reaped.)
    fn settle(&self) -> bool {
        let Target::Postgres(url) = self else {
            return false;
        };
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        let deadline = Instant::now() + STALL;
        let mut waited = false;
        loop {
            let held: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                     WHERE l.locktype = 'advisory' AND d.datname = current_database()",
                    &[],
                )
                .expect("query pg_locks")
                .get(0);
            if held == 0 {
                return waited;
            }
            assert!(Instant::now() < deadline, "the killed writer's session still holds its locks after {STALL:?}");
            waited = true;
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn inspect(&self) -> Inspection {
        match self {
            Target::Sqlite(dir) => inspect(|| SqliteBackend::open_reader(dir).expect("open")),
            Target::Postgres(url) => inspect(|| PgBackend::open_reader(url).expect("connect")),
        }
    }
}

/// What a reader finds in the store, without writing to it.
struct Inspection {
    report: RecoveryReport,
    /// Sum of every actor's nonce on the chain in the recovered state.
    nonce_sum: u64,
    nonces: Vec<u64>,
    /// The journal's transaction entries; each (sender, nonce) was checked to occur once.
    tx_entries: u64,
    entries_scanned: u64,
    snapshots: usize,
    /// `verify_journal`'s state hash: a replay from genesis that ignores snapshots.
    replayed_hash: B256,
}

fn inspect<B: Backend>(open: impl Fn() -> B) -> Inspection {
    let (reader, report) = Reader::open(open()).expect("the store recovers");
    let (nonces, nonce_sum) = nonces_of(reader.engine());
    drop(reader);

    let mut backend = open();
    let mut seen = HashSet::new();
    let (mut tx_entries, mut entries_scanned) = (0u64, 0u64);
    let mut duplicate = None;
    backend
        .scan(1, &mut |seq, bytes| {
            entries_scanned += 1;
            let entry = Entry::decode(bytes).expect("every stored entry decodes");
            if let Record::Tx(stx) = entry.record {
                tx_entries += 1;
                if !seen.insert((stx.tx.sender, stx.tx.nonce)) {
                    duplicate = Some((seq, stx.tx.sender, stx.tx.nonce));
                    return false;
                }
            }
            true
        })
        .expect("scan");
    if let Some((seq, sender, nonce)) = duplicate {
        panic!("entry {seq} applies the transaction of {sender} with nonce {nonce} a second time");
    }
    let snapshots = backend.snapshot_seqs().expect("snapshots").len();
    let replayed = verify_journal(&mut backend).expect("the journal replays from genesis");
    Inspection { report, nonce_sum, nonces, tx_entries, entries_scanned, snapshots, replayed_hash: replayed.state_hash }
}

fn nonces_of(engine: &Engine) -> (Vec<u64>, u64) {
    let chain = engine.chain_ix("eth").expect("the stream's chain");
    let nonces: Vec<u64> = (0..ACTORS).map(|i| engine.nonce(chain, actor(i))).collect();
    let sum = nonces.iter().sum();
    (nonces, sum)
}

/// Transactions among stream items `0..items` (the rest are `Advance`s).
fn txs_in(items: u64) -> u64 {
    items - items / 40
}

/// Genesis and the whole stream applied to an engine directly: the state the store must end with.
fn reference() -> &'static (B256, Vec<u64>) {
    static REFERENCE: OnceLock<(B256, Vec<u64>)> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let mut engine = Engine::new();
        for op in genesis() {
            engine.apply_system(&op).expect("genesis applies");
        }
        for i in 0..ITEMS {
            match item(i) {
                Item::Tx(stx) => {
                    engine.submit(&stx).expect("stream transaction applies");
                }
                Item::Advance => {
                    engine
                        .apply_system(&SystemOp::Advance { chain: "eth".into(), seconds: 12 })
                        .expect("advance applies");
                }
            }
        }
        (engine.state_hash(), nonces_of(&engine).0)
    })
}

/// A running child with its output read on threads.
struct Run {
    child: Child,
    spawned: Instant,
    /// When the child reported its recovery, after spawning.
    recovered_after: Option<Duration>,
    lines: Receiver<(Instant, String)>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
    /// Every stdout line read so far.
    seen: Vec<String>,
}

impl Run {
    fn spawn(target: &Target, seed: u64) -> Run {
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_granary-crash-child"))
            .arg(target.arg())
            .arg(ITEMS.to_string())
            .arg(seed.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the crash child");
        let out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        let stdout = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Run {
            child,
            spawned,
            recovered_after: None,
            lines,
            stdout: Some(stdout),
            stderr: Some(stderr),
            seen: Vec::new(),
        }
    }

    /// Wait for the next line; `None` once the child closed stdout.
    fn next_line(&mut self) -> Option<&str> {
        match self.lines.recv_timeout(STALL) {
            Ok((at, line)) => {
                self.note(at, line);
                self.seen.last().map(String::as_str)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                panic!("the crash child printed nothing for {STALL:?}");
            }
        }
    }

    fn note(&mut self, at: Instant, line: String) {
        if line.starts_with("RECOVERED ") {
            self.recovered_after = Some(at - self.spawned);
        }
        self.seen.push(line);
    }

    /// Read lines until one satisfies `stop`; false if the output ended first.
    fn wait_for(&mut self, stop: impl Fn(&str) -> bool) -> bool {
        while let Some(line) = self.next_line() {
            if stop(line) {
                return true;
            }
        }
        false
    }

    /// Collect the rest of the output after the child has exited; returns its stderr.
    fn finish(&mut self) -> String {
        if let Some(h) = self.stdout.take() {
            h.join().expect("stdout reader");
        }
        while let Ok((at, line)) = self.lines.try_recv() {
            self.note(at, line);
        }
        self.stderr.take().map(|h| h.join().expect("stderr reader")).unwrap_or_default()
    }
}

/// The items the child reported as recovered (its first line).
fn recovered(lines: &[String]) -> Option<u64> {
    let first = lines.first()?.strip_prefix("RECOVERED ")?;
    first.split(' ').next()?.parse().ok()
}

fn ack(line: &str) -> Option<u64> {
    line.strip_prefix("ACK ")?.parse().ok()
}

fn crash_test(target: &Target, seed: u64) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let name = target.name();
    let genesis_len = genesis().len() as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Summary::default();
    // Targets for mid-stream kills advance by up to this much, so the kills spread over the stream.
    let span = ITEMS / 16;
    // The journal's length as the reader found it after the previous kill.
    let mut entries_before = 0u64;

    while s.kills < KILLS {
        assert!(s.cycles < 3 * KILLS, "{name}: too many runs without a kill");
        s.cycles += 1;
        let mode = match rng.next_u64() % 8 {
            0 | 1 => KillAt::StartUp,
            2 => KillAt::Recovered,
            _ => KillAt::MidStream,
        };
        let mut run = Run::spawn(target, rng.next_u64());
        match mode {
            KillAt::StartUp => {
                // Anywhere from exec to the end of recovery: up to the longest start-up seen.
                let longest = s.start_up.iter().max().copied();
                let micros = longest.map_or(20_000, |d| d.as_micros() as u64);
                std::thread::sleep(Duration::from_micros(rng.next_u64() % (micros + 1)));
            }
            KillAt::Recovered => {
                run.wait_for(|l| l.starts_with("RECOVERED "));
                std::thread::sleep(Duration::from_micros(rng.next_u64() % 1_000));
            }
            KillAt::MidStream => {
                let from = s.max_acked;
                let goal = (from + 1 + rng.next_u64() % span).min(ITEMS - 1);
                run.wait_for(|l| ack(l).is_some_and(|n| n >= goal));
                std::thread::sleep(Duration::from_micros(rng.next_u64() % 3_000));
            }
        }
        let killed = run.child.try_wait().expect("try_wait").is_none();
        if killed {
            run.child.kill().expect("kill the crash child");
        }
        let status = run.child.wait().expect("wait for the crash child");
        let stderr = run.finish();
        s.start_up.extend(run.recovered_after);
        let lines = std::mem::take(&mut run.seen);
        if killed && status.signal() == Some(SIGKILL) {
            s.kills += 1;
            match (recovered(&lines), lines.iter().any(|l| ack(l).is_some())) {
                (None, _) => s.phases.before_recovered += 1,
                (Some(_), false) => s.phases.before_first_ack += 1,
                (Some(_), true) => s.phases.after_an_ack += 1,
            }
        } else {
            // It exited on its own before the kill: only finishing the stream is acceptable.
            assert!(
                status.success() && lines.last().is_some_and(|l| l == &format!("DONE {ITEMS}")),
                "{name}: the crash child failed ({status}): {stderr}\n{lines:?}"
            );
            s.completed_early += 1;
        }

        // The run started from exactly what the previous kill left (so from everything
        // acknowledged before it), and acknowledged in order.
        let start = recovered(&lines);
        if let Some(r) = start {
            assert_eq!(
                r,
                entries_before.saturating_sub(genesis_len),
                "{name}: run {} recovered {r} items, the journal had {entries_before} entries (genesis is {genesis_len})",
                s.cycles
            );
        }
        let mut last_ack = 0;
        for n in lines.iter().filter_map(|l| ack(l)) {
            assert!(n >= last_ack, "{name}: acknowledgements went backwards");
            last_ack = n;
            s.ack_lines += 1;
        }
        s.max_acked = s.max_acked.max(last_ack);

        // A reader finds every acknowledged item after the kill, no damage, no duplicate, and the
        // state a replay from genesis gives.
        if target.settle() {
            s.sessions_outliving_kill += 1;
        }
        let found = target.inspect();
        let entries = found.report.entries_kept;
        assert_eq!(found.report.cut_reason, None, "{name}: a kill left a damaged journal");
        if start.is_none() {
            // Killed before recovery was done: nothing may have been written, or cut.
            assert_eq!(entries, entries_before, "{name}: an unfinished start-up");
        }
        if s.max_acked > 0 {
            assert!(
                entries >= genesis_len + s.max_acked,
                "{name}: item {} was acknowledged but the journal has {entries} entries (genesis is {genesis_len})",
                s.max_acked - 1
            );
        }
        assert!(found.nonce_sum >= txs_in(s.max_acked), "{name}: nonces");
        assert_eq!(found.tx_entries, found.nonce_sum, "{name}: tx entries vs nonces");
        assert_eq!(found.replayed_hash, found.report.state_hash, "{name}");
        let items = entries.saturating_sub(genesis_len);
        let acked = start.map_or(items, |r| r.max(last_ack));
        s.durable_unacked += items.saturating_sub(acked);
        entries_before = entries;
    }

    // After the last kill, a final run completes the stream.
    let mut last = Run::spawn(target, rng.next_u64());
    let done_line = format!("DONE {ITEMS}");
    let done = last.wait_for(|l| l == done_line);
    let status = last.child.wait().expect("wait for the final run");
    let stderr = last.finish();
    assert!(done && status.success(), "{name}: the final run failed ({status}): {stderr}");
    assert_eq!(
        recovered(&last.seen),
        Some(entries_before.saturating_sub(genesis_len)),
        "{name}: the final run's start"
    );

    let end = target.inspect();
    let (want_hash, want_nonces) = reference();
    assert_eq!(end.report.cut_reason, None);
    assert_eq!(end.report.entries_kept, genesis_len + ITEMS, "{name}: entries");
    assert_eq!(end.entries_scanned, genesis_len + ITEMS, "{name}: stored rows");
    assert_eq!(end.tx_entries, txs_in(ITEMS), "{name}: transaction entries");
    assert_eq!(end.nonce_sum, end.tx_entries, "{name}: nonces vs entries");
    assert_eq!(&end.nonces, want_nonces, "{name}: nonces");
    assert_eq!(end.report.state_hash, end.replayed_hash, "{name}: recovered state vs replay from genesis");
    assert_eq!(end.report.state_hash, *want_hash, "{name}: recovered state vs the engine alone");
    s.entries = end.report.entries_kept;
    s.snapshots = end.snapshots;

    let p = &s.phases;
    s.start_up.sort();
    let median = s.start_up.get(s.start_up.len() / 2).copied().unwrap_or_default();
    let longest = s.start_up.last().copied().unwrap_or_default();
    println!(
        "crash test [{name}]: {} kills in {} runs, then 1 run to the end; killed {} times before recovery finished, {} before the first write, {} mid-stream; {} runs finished before their kill; {} times the server was still running the dead writer's session",
        s.kills,
        s.cycles,
        p.before_recovered,
        p.before_first_ack,
        p.after_an_ack,
        s.completed_early,
        s.sessions_outliving_kill
    );
    println!(
        "crash test [{name}]: start-up to recovered: median {:.1} ms, longest {:.1} ms; {} ACK lines; max acknowledged before a kill: {} items; {} items durable though their ACK was never read",
        median.as_secs_f64() * 1e3,
        longest.as_secs_f64() * 1e3,
        s.ack_lines,
        s.max_acked,
        s.durable_unacked
    );
    println!(
        "crash test [{name}]: {} entries ({genesis_len} genesis + {ITEMS} items), {} snapshots kept, state {:#x} = replay from genesis = engine alone; {:.1} s",
        s.entries,
        s.snapshots,
        end.report.state_hash,
        started.elapsed().as_secs_f64()
    );
}

/// A unique name for this run's store: process id and clock.
fn unique_suffix() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}_{nanos:x}", std::process::id())
}

/// A data folder of the test's own, removed when the test passes (kept for inspection otherwise).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("crash test [sqlite]: keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn crash_sqlite() {
    let dir = TempDir(std::env::temp_dir().join(format!("granary-crash-{}", unique_suffix())));
    let _ = std::fs::remove_dir_all(&dir.0);
    crash_test(&Target::Sqlite(dir.0.clone()), 0x5eed_0001);
}

/// Whether this runs in CI (`CI=true`, as CI services set it; `1` is accepted too).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// An error and its causes, outermost first.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `url` with any password replaced by `…`, for messages.
fn without_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let Some(at) = url[start..].rfind('@').map(|i| start + i) else {
        return url.to_string();
    };
    match url[start..at].find(':') {
        Some(colon) => format!("{}…{}", &url[..start + colon + 1], &url[at..]),
        None => url.to_string(),
    }
}

/// `admin` with its database name replaced by `db`.
fn database_url(admin: &str, db: &str) -> String {
    let (main, query) = match admin.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (admin, None),
    };
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let base = match main[authority_start..].find('/') {
        Some(i) => &main[..authority_start + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A database of the test's own, dropped when the test passes (kept for inspection otherwise).
struct TempDatabase {
    admin: postgres::Client,
    name: String,
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("crash test [postgres]: keeping database {} for inspection", self.name);
            return;
        }
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = self.admin.batch_execute(&sql) {
            eprintln!("crash test [postgres]: could not drop {}: {e}", self.name);
        }
    }
}

#[test]
fn crash_postgres() {
    let admin_url =
        std::env::var("GRANARY_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut config: postgres::Config = admin_url.parse().expect("GRANARY_PG_URL is a PostgreSQL URL");
    let shown = without_password(&admin_url);
    let mut admin = match config.connect_timeout(Duration::from_secs(5)).connect(postgres::NoTls) {
        Ok(c) => c,
        // The server answered, and refused: a misconfiguration, never a reason to skip.
        Err(e) if e.as_db_error().is_some() => {
            panic!("the PostgreSQL server at {shown} refused the connection: {}", causes(&e))
        }
        Err(e) if in_ci() => {
            panic!("CI is set and no PostgreSQL server is reachable at {shown}: {}", causes(&e))
        }
        Err(e) => {
            println!(
                "crash test [postgres]: SKIPPED — no PostgreSQL server is reachable at {shown} ({}); start one or set GRANARY_PG_URL to run it",
                causes(&e)
            );
            return;
        }
    };
    let name = format!("granary_crash_{}", unique_suffix());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
    let db = TempDatabase { admin, name: name.clone() };
    let target = Target::Postgres(database_url(&admin_url, &name));
    crash_test(&target, 0x5eed_0002);
    drop(db);
}
