//! The simulator's driver: one seed, one run, the checks after every recovery.

use crate::disk::{FaultConfig, FaultKind, SimBackend, SimDisk, Site};
use crate::workload::{Actors, Client, Dice, genesis};
use granary_engine::{B256, Engine, SignedTransaction, SystemOp};
use granary_store::entry::{Entry, Record, Snapshot};
use granary_store::{Node, SnapshotPolicy, StoreError};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The size of one seed's run.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    /// Client steps (a batch of transactions, a block close, or a clean restart).
    pub steps: u32,
    /// Largest batch a client sends.
    pub max_batch: u64,
    /// How long a client waits for an acknowledgement, in simulated ms.
    pub timeout_ms: u64,
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { steps: 200, max_batch: 12, timeout_ms: 1_000, faults: FaultConfig::default() }
    }
}

/// What one seed did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub seed: u64,
    /// Transactions sent (resubmissions included) and how each ended for the client.
    pub txs_sent: u64,
    pub txs_acknowledged: u64,
    pub txs_refused: u64,
    /// Transactions whose fate the client could not know (no acknowledgement), how many of them a
    /// later recovery found durable, and resubmissions refused because they already were.
    pub txs_in_doubt: u64,
    pub in_doubt_found_durable: u64,
    pub resubmissions_refused: u64,
    pub blocks_closed: u64,
    /// Process starts after the first (crashes, poisoned nodes, clean restarts).
    pub restarts: u64,
    pub failed_opens: u64,
    pub clean_restarts: u64,
    pub faults: BTreeMap<&'static str, u64>,
    /// Entries cut off a torn tail at recovery, snapshots skipped as damaged.
    pub entries_cut: u64,
    pub snapshots_skipped: u64,
    /// Recoveries checked, and entries in the journal at the end.
    pub recoveries_checked: u64,
    pub journal_entries: u64,
    pub state_hash: B256,
    /// One line per step when traced.
    pub trace: Vec<String>,
}

impl SeedReport {
    pub fn faults_injected(&self) -> u64 {
        self.faults.values().sum()
    }

    /// Add another seed's counts to these (totals over many seeds; the seed, state hash and trace
    /// are left as they are).
    pub fn add(&mut self, r: &SeedReport) {
        self.txs_sent += r.txs_sent;
        self.txs_acknowledged += r.txs_acknowledged;
        self.txs_refused += r.txs_refused;
        self.txs_in_doubt += r.txs_in_doubt;
        self.in_doubt_found_durable += r.in_doubt_found_durable;
        self.resubmissions_refused += r.resubmissions_refused;
        self.blocks_closed += r.blocks_closed;
        self.restarts += r.restarts;
        self.failed_opens += r.failed_opens;
        self.clean_restarts += r.clean_restarts;
        self.entries_cut += r.entries_cut;
        self.snapshots_skipped += r.snapshots_skipped;
        self.recoveries_checked += r.recoveries_checked;
        self.journal_entries += r.journal_entries;
        for (k, v) in &r.faults {
            *self.faults.entry(k).or_default() += v;
        }
    }
}

/// A broken check: the seed, the step, what broke, and the trace that led there.
#[derive(Debug, Clone)]
pub struct Failure {
    pub seed: u64,
    pub step: u32,
    pub what: String,
    pub trace: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} failed at step {}: {} (replay: granary sim-faults --seed {} --trace)",
            self.seed, self.step, self.what, self.seed
        )
    }
}

struct Sim<'a> {
    cfg: SimConfig,
    disk: SimDisk,
    dice: Dice,
    client: Client<'a>,
    node: Option<Node<SimBackend>>,
    genesis: Vec<SystemOp>,
    /// Acknowledged entries: seq → the record the client was told is durable there.
    acked: BTreeMap<u64, Record>,
    /// The state hash the node had when it acknowledged up to a seq.
    hash_at: BTreeMap<u64, B256>,
    /// Transactions sent without an acknowledgement; resubmitted after the next start.
    in_doubt: Vec<SignedTransaction>,
    /// Transactions the node refused and nobody sent since (they must not be journaled).
    refused: BTreeSet<Vec<u8>>,
    report: SeedReport,
    /// The replay at the last acknowledged position a recovery checked.
    checked: Option<Checked>,
    trace: Vec<String>,
    keep_trace: bool,
    step: u32,
}

/// A replay checked up to an acknowledged position.
struct Checked {
    seq: u64,
    hash: B256,
    engine: Engine,
    prefix: Vec<(u64, Vec<u8>)>,
    seen: BTreeMap<Vec<u8>, u64>,
}

/// Run one seed. `trace` keeps a line per step (printed by `granary sim-faults --trace`).
pub fn run_seed(seed: u64, cfg: &SimConfig, trace: bool) -> Result<SeedReport, Failure> {
    let actors = Actors::new();
    let mut wl_rng = ChaCha8Rng::seed_from_u64(seed);
    wl_rng.set_stream(0);
    let mut sim = Sim {
        cfg: *cfg,
        disk: SimDisk::new(seed, cfg.faults),
        dice: Dice(wl_rng),
        client: Client::new(&actors),
        node: None,
        genesis: genesis(&actors),
        acked: BTreeMap::new(),
        hash_at: BTreeMap::new(),
        in_doubt: Vec::new(),
        refused: BTreeSet::new(),
        report: SeedReport { seed, ..SeedReport::default() },
        checked: None,
        trace: Vec::new(),
        keep_trace: trace,
        step: 0,
    };
    sim.run().map_err(|what| Failure { seed, step: sim.step, what, trace: std::mem::take(&mut sim.trace) })?;
    sim.report.trace = std::mem::take(&mut sim.trace);
    Ok(sim.report)
}

type Check = Result<(), String>;

impl Sim<'_> {
    fn log(&mut self, line: impl FnOnce() -> String) {
        if self.keep_trace {
            self.trace.push(format!("[{:>4}] {}", self.step, line()));
        }
    }

    fn policy(&mut self) -> SnapshotPolicy {
        // Snapshots every few blocks, so that crashes meet them often; never by wall time.
        SnapshotPolicy { every_blocks: 1 + self.dice.below(6), every: Duration::from_secs(u64::MAX / 4), keep: 2 }
    }

    fn run(&mut self) -> Check {
        // Genesis is the operator's set-up, done before the faults are armed.
        self.start()?;
        for op in self.genesis.clone() {
            let node = self.node.as_mut().ok_or("no node at genesis")?;
            match node.system(op) {
                Ok(Ok((seq, _))) => {
                    let rec = self.record_at(seq)?;
                    self.acked.insert(seq, rec);
                }
                other => return Err(format!("genesis failed without faults: {other:?}")),
            }
        }
        self.disk.lock().armed = true;
        for step in 0..self.cfg.steps {
            self.step = step;
            if self.node.is_none() {
                self.start()?;
            }
            if !self.in_doubt.is_empty() {
                self.resubmit()?;
                continue;
            }
            match self.dice.below(100) {
                0..=79 => self.batch()?,
                80..=96 => self.advance()?,
                _ => {
                    self.log(|| "clean restart".into());
                    self.report.clean_restarts += 1;
                    self.node = None;
                }
            }
        }
        // The end: faults off, a last start and full check.
        self.disk.lock().armed = false;
        self.step = self.cfg.steps;
        self.node = None;
        self.start()?;
        if !self.in_doubt.is_empty() {
            self.resubmit()?;
            self.node = None;
            self.start()?;
        }
        let d = self.disk.lock();
        self.report.journal_entries = d.journal.len() as u64;
        self.report.faults = d.injected.iter().map(|(k, v)| (k.name(), *v)).collect();
        drop(d);
        self.report.state_hash = self.node.as_ref().map(|n| n.engine().state_hash()).unwrap_or_default();
        Ok(())
    }

    /// Start a process and recover; retried while reads fail. Then check everything.
    fn start(&mut self) -> Check {
        for attempt in 0..50 {
            let backend = self.disk.start_process();
            if attempt > 0 || self.report.recoveries_checked > 0 {
                self.report.restarts += 1;
            }
            let policy = self.policy();
            match Node::open(backend, policy) {
                Ok((node, rep)) => {
                    self.log(|| format!("recovered: {rep}"));
                    self.report.entries_cut += rep.entries_dropped;
                    self.report.snapshots_skipped += rep.snapshots_skipped.len() as u64;
                    self.node = Some(node);
                    self.take_fault();
                    return self.check_recovery(rep.entries_kept);
                }
                Err(e) => {
                    self.report.failed_opens += 1;
                    let f = self.take_fault();
                    self.log(|| format!("start failed ({f:?}): {e}"));
                    if f.is_none() {
                        return Err(format!("recovery failed without an injected fault: {e}"));
                    }
                }
            }
        }
        Err("no start succeeded in 50 attempts".into())
    }

    fn take_fault(&mut self) -> Option<(FaultKind, Site)> {
        self.disk.lock().last_fault.take()
    }

    fn record_at(&self, seq: u64) -> Result<Record, String> {
        let d = self.disk.lock();
        let bytes = d.journal.get(&seq).ok_or_else(|| format!("entry {seq} is not on disk"))?;
        Entry::decode(bytes).map(|e| e.record).map_err(|e| format!("entry {seq}: {e}"))
    }

    /// A batch of transactions from the clients.
    fn batch(&mut self) -> Check {
        let node = self.node.as_ref().ok_or("no node")?;
        self.client.new_batch();
        let n = 1 + self.dice.below(self.cfg.max_batch);
        let txs: Vec<SignedTransaction> = (0..n).map(|_| self.client.next_tx(node.engine(), &mut self.dice)).collect();
        self.send(txs, BTreeSet::new())
    }

    /// Send the in-doubt transactions again, in their order, after a restart or a timeout.
    fn resubmit(&mut self) -> Check {
        let txs = std::mem::take(&mut self.in_doubt);
        let journal = self.journal_txs();
        let durable = txs.iter().filter(|t| journal.contains(&t.to_bytes())).count() as u64;
        self.report.in_doubt_found_durable += durable;
        self.log(|| format!("resubmit {} in-doubt transactions ({durable} already durable)", txs.len()));
        self.send(txs, journal)
    }

    /// Send a batch. `in_journal` holds the transactions already journaled when the batch is a
    /// resubmission of what was in doubt (empty for a new batch).
    fn send(&mut self, txs: Vec<SignedTransaction>, in_journal: BTreeSet<Vec<u8>>) -> Check {
        let node = self.node.as_mut().ok_or("no node")?;
        let before_seq = node.next_seq();
        self.report.txs_sent += txs.len() as u64;
        // The same bytes can be refused once (a nonce gap) and built again later, identically.
        for tx in &txs {
            self.refused.remove(&tx.to_bytes());
        }
        self.disk.lock().clear_last();
        let node = self.node.as_mut().ok_or("no node")?;
        let result = node.submit_batch(txs.clone());
        let fault = self.take_fault();
        let latency = self.disk.lock().last_latency_ms;
        match result {
            Ok(results) if latency > self.cfg.timeout_ms => {
                // Durable, but the client gave up waiting: it cannot tell.
                self.log(|| format!("batch of {} took {latency} ms: client timed out", txs.len()));
                self.report.txs_in_doubt += txs.len() as u64;
                for (tx, r) in txs.iter().zip(&results) {
                    if r.is_ok() {
                        self.in_doubt.push(tx.clone());
                    } else if !in_journal.contains(&tx.to_bytes()) {
                        // (A resubmission refused because it is already journaled is no refusal.)
                        self.refused.insert(tx.to_bytes());
                    }
                }
                self.after_ack()
            }
            Ok(results) => {
                let mut acked = 0;
                let mut first_refusal = None;
                for (tx, r) in txs.iter().zip(results) {
                    match r {
                        Ok(receipt) => {
                            let bytes = tx.to_bytes();
                            if in_journal.contains(&bytes) {
                                return Err(format!(
                                    "a resubmitted transaction already in the journal was applied again at entry {}",
                                    receipt.seq
                                ));
                            }
                            self.acked.insert(receipt.seq, Record::Tx(tx.clone()));
                            acked += 1;
                        }
                        Err(e) => {
                            first_refusal.get_or_insert(e);
                            if in_journal.contains(&tx.to_bytes()) {
                                self.report.resubmissions_refused += 1;
                            } else {
                                self.refused.insert(tx.to_bytes());
                            }
                        }
                    }
                }
                self.report.txs_acknowledged += acked;
                self.report.txs_refused += txs.len() as u64 - acked;
                self.log(|| match first_refusal {
                    Some(e) => format!("batch of {}: {acked} acknowledged, first refusal: {e}", txs.len()),
                    None => format!("batch of {}: {acked} acknowledged", txs.len()),
                });
                self.after_ack()
            }
            Err(e) => {
                self.log(|| format!("batch of {} failed ({fault:?}): {e}", txs.len()));
                self.report.txs_in_doubt += txs.len() as u64;
                self.in_doubt.extend(txs);
                self.store_error(e, fault, before_seq)
            }
        }
    }

    /// After an acknowledged step: the node's state at its journal position, and the invariants.
    fn after_ack(&mut self) -> Check {
        let node = self.node.as_ref().ok_or("no node")?;
        let seq = node.next_seq() - 1;
        let hash = node.engine().state_hash();
        node.engine().check_invariants().map_err(|e| format!("invariant broken after entry {seq}: {e}"))?;
        self.hash_at.insert(seq, hash);
        Ok(())
    }

    /// A store error: the process is dead or the node refuses further work, so it restarts. An
    /// error with no fault that could leave rows durable must have left nothing durable.
    fn store_error(&mut self, e: StoreError, fault: Option<(FaultKind, Site)>, before_seq: u64) -> Check {
        // The process died (anywhere: the batch may be on disk, unacknowledged), or the journal
        // write itself failed ambiguously. Any other error must mean the batch is not durable.
        let may_have_written = match fault {
            Some((k, _)) if k.kills() => true,
            Some((FaultKind::FsyncFailed | FaultKind::ConnectionDropped, Site::Append)) => true,
            _ => false,
        };
        if !may_have_written {
            let d = self.disk.lock();
            if let Some((seq, _)) = d.journal.range(before_seq..).next() {
                return Err(format!(
                    "the store reported an error ({e}) after a {fault:?} fault, yet entry {seq} of that step is durable"
                ));
            }
        }
        self.node = None;
        Ok(())
    }

    /// The operator closes a block.
    fn advance(&mut self) -> Check {
        let op = Client::next_advance(&mut self.dice);
        self.disk.lock().clear_last();
        let node = self.node.as_mut().ok_or("no node")?;
        let before_seq = node.next_seq();
        let r = node.system(op.clone());
        let fault = self.take_fault();
        let latency = self.disk.lock().last_latency_ms;
        match r {
            Ok(Ok((seq, _))) => {
                self.report.blocks_closed += 1;
                if latency <= self.cfg.timeout_ms {
                    self.acked.insert(seq, Record::System(op));
                }
                self.after_ack()
            }
            Ok(Err(e)) => Err(format!("a block close was refused by the engine: {e}")),
            Err(e) => {
                self.log(|| format!("advance failed ({fault:?}): {e}"));
                self.store_error(e, fault, before_seq)
            }
        }
    }

    /// Every transaction in the journal on disk, by wire bytes.
    fn journal_txs(&self) -> BTreeSet<Vec<u8>> {
        let d = self.disk.lock();
        d.journal
            .values()
            .filter_map(|bytes| match Entry::decode(bytes) {
                Ok(Entry { record: Record::Tx(stx), .. }) => Some(stx.to_bytes()),
                _ => None,
            })
            .collect()
    }

    /// After a recovery: acknowledged entries kept, nothing twice, the recovered state equals a
    /// clean replay from genesis, snapshots and acknowledged states agree with it, invariants hold.
    fn check_recovery(&mut self, kept: u64) -> Check {
        self.report.recoveries_checked += 1;
        let recovered = self.node.as_ref().ok_or("no node")?.engine().state_hash();
        let (journal, snapshots) = {
            let d = self.disk.lock();
            (d.journal.clone(), d.snapshots.clone())
        };
        if journal.len() as u64 != kept || journal.keys().next_back().copied().unwrap_or(0) != kept {
            return Err(format!("recovery kept {kept} entries but the disk holds {} after the cut", journal.len()));
        }
        if let Some((&last_acked, _)) = self.acked.iter().next_back()
            && last_acked > kept
        {
            return Err(format!("acknowledged entry {last_acked} lost: recovery kept {kept}"));
        }
        // Replay from the last checked acknowledged position: the journal up to it cannot change
        // (that is checked here, byte for byte), so the replay starts from its cached state.
        let snap_hashes: BTreeMap<u64, B256> =
            snapshots.iter().filter_map(|(s, b)| Snapshot::decode(b).ok().map(|snap| (*s, snap.state_hash))).collect();
        let (mut engine, mut seen, start) = match &self.checked {
            Some(c) => {
                let same = journal.range(..=c.seq).count() == c.prefix.len()
                    && journal.range(..=c.seq).zip(&c.prefix).all(|((a, x), (b, y))| a == b && x == y);
                if !same {
                    return Err(format!("the journal up to acknowledged entry {} changed", c.seq));
                }
                if snap_hashes.get(&c.seq).is_some_and(|h| *h != c.hash) {
                    return Err(format!("the snapshot at entry {} differs from the replayed state", c.seq));
                }
                (c.engine.clone(), c.seen.clone(), c.seq + 1)
            }
            None => (Engine::new(), BTreeMap::new(), 1),
        };
        let target = self.acked.keys().next_back().copied().unwrap_or(0);
        let mut checkpoint = None;
        for (&seq, bytes) in journal.range(start..) {
            let entry = Entry::decode(bytes).map_err(|e| format!("entry {seq} kept by recovery is damaged: {e}"))?;
            if let Some(want) = self.acked.get(&seq)
                && *want != entry.record
            {
                return Err(format!("entry {seq} is not what was acknowledged there"));
            }
            match entry.record {
                Record::Tx(stx) => {
                    let bytes = stx.to_bytes();
                    if let Some(first) = seen.insert(bytes.clone(), seq) {
                        return Err(format!("a transaction is in the journal twice: entries {first} and {seq}"));
                    }
                    if self.refused.contains(&bytes) {
                        return Err(format!("entry {seq} is a transaction the node refused"));
                    }
                    engine.apply_verified(&stx.assume_verified()).map_err(|e| format!("replay of entry {seq}: {e}"))?;
                }
                Record::System(op) => {
                    engine.apply_system(&op).map_err(|e| format!("replay of entry {seq}: {e}"))?;
                }
            }
            let check_snap = snap_hashes.get(&seq);
            let check_ack = self.hash_at.get(&seq);
            if check_snap.is_some() || check_ack.is_some() {
                let h = engine.state_hash();
                if check_snap.is_some_and(|s| *s != h) {
                    return Err(format!("the snapshot at entry {seq} differs from the replayed state"));
                }
                if check_ack.is_some_and(|s| *s != h) {
                    return Err(format!("the state acknowledged at entry {seq} differs from the replayed state"));
                }
            }
            if seq == target {
                checkpoint = Some(Checked {
                    seq,
                    hash: engine.state_hash(),
                    engine: engine.clone(),
                    prefix: journal.range(..=seq).map(|(s, b)| (*s, b.clone())).collect(),
                    seen: seen.clone(),
                });
            }
        }
        if checkpoint.is_some() {
            self.checked = checkpoint;
        }
        if engine.state_hash() != recovered {
            return Err(format!(
                "recovered state {recovered:#x} differs from a clean replay {:#x}",
                engine.state_hash()
            ));
        }
        engine.check_invariants().map_err(|e| format!("invariant broken after recovery: {e}"))?;
        // Acknowledgements past the cut belonged to nobody; forget states past the journal.
        self.hash_at.retain(|s, _| *s <= kept);
        Ok(())
    }
}
