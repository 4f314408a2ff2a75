//! A node: the engine plus its journal. It applies transactions, makes them durable before they
//! are acknowledged, takes snapshots, and recovers the exact state on start-up.

use crate::entry::{Damage, Entry, Record, Snapshot};
use crate::{Backend, Result, StoreError};
use granary_engine::snapshot::STATE_ENCODING_VERSION;
use granary_engine::{B256, BlockSeal, Engine, EngineError, Outcome, SignedTransaction, SystemOp, VerifiedTransaction};
use std::time::{Duration, Instant};

/// When to take a snapshot: every `every_blocks` closed blocks or every `every` of wall time,
/// whichever comes first (checked after each durable batch). The newest `keep` are kept.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotPolicy {
    pub every_blocks: u64,
    pub every: Duration,
    pub keep: usize,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy { every_blocks: 1000, every: Duration::from_secs(300), keep: 3 }
    }
}

/// An accepted transaction: where it sits in the journal and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub outcome: Outcome,
}

/// What start-up found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot the state was loaded from (its last entry), if any.
    pub snapshot_seq: Option<u64>,
    /// Snapshots passed over, newest first, with why.
    pub snapshots_skipped: Vec<(u64, String)>,
    /// Journal entries replayed after the snapshot.
    pub replayed: u64,
    /// Entries kept in all (the journal's intact prefix).
    pub entries_kept: u64,
    /// Entries cut off at a damaged or inconsistent entry, and why.
    pub entries_dropped: u64,
    pub cut_reason: Option<String>,
    /// Block seals checked during replay.
    pub seals_checked: u64,
    pub state_hash: B256,
}

impl std::fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.snapshot_seq {
            Some(s) => write!(f, "loaded the snapshot at entry {s}, ")?,
            None => write!(f, "no snapshot, ")?,
        }
        for (seq, why) in &self.snapshots_skipped {
            write!(f, "skipped the snapshot at entry {seq} ({why}), ")?;
        }
        write!(
            f,
            "replayed {} entries ({} block seals checked); journal: {} entries kept",
            self.replayed, self.seals_checked, self.entries_kept
        )?;
        if let Some(why) = &self.cut_reason {
            write!(f, ", {} dropped from the first damaged entry on ({why})", self.entries_dropped)?;
        }
        write!(f, "; state hash {:#x}", self.state_hash)
    }
}

/// The checks of an entry's recorded block seal that come before it is applied, so that an entry
/// that fails them is never applied: only a block-closing `Advance` carries a seal, it always does,
/// and the seal is the state hash the block ends with (before the clock moves).
fn check_seal_before(engine: &Engine, entry: &Entry) -> std::result::Result<(), String> {
    let closes_a_block = matches!(entry.record, Record::System(SystemOp::Advance { .. }));
    match (closes_a_block, entry.seal) {
        (true, Some(want)) => {
            let got = engine.state_hash();
            if got != want {
                return Err(format!(
                    "block {} of chain {} ends with state hash {got:#x}, the journal recorded {want:#x}",
                    entry.block, entry.chain_id
                ));
            }
            Ok(())
        }
        (false, None) => Ok(()),
        (true, None) => Err("the block-closing action carries no block seal".into()),
        (false, Some(_)) => Err("the recorded block seal does not match the action".into()),
    }
}

/// The seal an applied operator action produced against the recorded one; returns the number of
/// block seals checked (0 or 1).
fn check_seal_after(seal: Option<BlockSeal>, recorded: Option<B256>) -> std::result::Result<u64, String> {
    match (seal, recorded) {
        (Some(got), Some(want)) if got.state_hash != want => Err(format!(
            "block {} of chain {} ends with state hash {:#x}, the journal recorded {want:#x}",
            got.number, got.chain_id, got.state_hash
        )),
        (Some(_), Some(_)) => Ok(1),
        (None, None) => Ok(0),
        _ => Err("the recorded block seal does not match the action".into()),
    }
}

/// Apply one journal entry to an engine, checking what the entry recorded. An entry that fails
/// leaves the engine as it was.
fn apply_entry(engine: &mut Engine, entry: Entry) -> std::result::Result<u64, String> {
    check_seal_before(engine, &entry)?;
    match entry.record {
        Record::Tx(stx) => {
            let vtx: VerifiedTransaction = stx.assume_verified();
            engine.apply_verified(&vtx).map_err(|e| format!("transaction no longer applies: {e}"))?;
            Ok(0)
        }
        Record::System(op) => {
            let seal = engine.apply_system(&op).map_err(|e| format!("operator action no longer applies: {e}"))?;
            check_seal_after(seal, entry.seal)
        }
    }
}

/// Decode the entry stored at position `seq`; it must record that position.
fn entry_at(seq: u64, bytes: &[u8]) -> std::result::Result<Entry, String> {
    match Entry::decode(bytes) {
        Ok(e) if e.seq == seq => Ok(e),
        Ok(e) => Err(format!("entry {seq} records position {}", e.seq)),
        Err(d) => Err(format!("entry {seq}: {d}")),
    }
}

/// Load the newest valid snapshot and replay the journal after it. Stops at the first entry that
/// is damaged, out of sequence or does not apply; returns the engine, the report and the seq of
/// that entry (where a writer cuts the journal).
fn recover(backend: &mut dyn Backend) -> Result<(Engine, RecoveryReport, Option<u64>)> {
    let mut report = RecoveryReport::default();
    let mut engine = Engine::new();
    let mut base = 0u64;
    for seq in backend.snapshot_seqs()? {
        let Some(bytes) = backend.load_snapshot(seq)? else {
            continue;
        };
        let snap = match Snapshot::decode(&bytes) {
            Ok(s) => s,
            Err(Damage::UnknownVersion(version)) => {
                return Err(StoreError::SnapshotVersion { seq, version });
            }
            Err(d) => {
                report.snapshots_skipped.push((seq, d.to_string()));
                continue;
            }
        };
        // The state's own format version, read from its first byte (not from a decoding error's
        // text, which may quote ids of the state).
        if let Some(&version) = snap.state.first()
            && version != STATE_ENCODING_VERSION
        {
            return Err(StoreError::SnapshotVersion { seq, version });
        }
        // A state that decodes and hashes to what is recorded may still have been written under a
        // matching hash by someone who can write the store: one that breaks an invariant between
        // objects (supply against balances, reserves against holdings, totals against users) is
        // skipped like damage, and an older snapshot or the journal from genesis is used instead.
        match Engine::decode_state(&snap.state) {
            Ok(e) if e.state_hash() == snap.state_hash && snap.seq == seq => match e.check_invariants() {
                Ok(()) => {
                    engine = e;
                    base = seq;
                    report.snapshot_seq = Some(seq);
                    break;
                }
                Err(why) => report.snapshots_skipped.push((seq, format!("its state breaks an invariant: {why}"))),
            },
            Ok(_) => report.snapshots_skipped.push((seq, "its state does not hash to the recorded hash".into())),
            Err(e) => report.snapshots_skipped.push((seq, e.to_string())),
        }
    }
    let mut expected = base + 1;
    let mut cut: Option<(u64, String)> = None;
    backend.scan(expected, &mut |seq, bytes| {
        if seq != expected {
            cut = Some((expected, format!("entry {expected} is missing (the next stored entry is {seq})")));
            return false;
        }
        let entry = match entry_at(seq, bytes) {
            Ok(e) => e,
            Err(why) => {
                cut = Some((seq, why));
                return false;
            }
        };
        match apply_entry(&mut engine, entry) {
            Ok(seals) => report.seals_checked += seals,
            Err(why) => {
                cut = Some((seq, format!("entry {seq}: {why}")));
                return false;
            }
        }
        report.replayed += 1;
        expected += 1;
        true
    })?;
    report.entries_kept = expected - 1;
    report.state_hash = engine.state_hash();
    let cut_at = cut.map(|(seq, why)| {
        report.cut_reason = Some(why);
        seq
    });
    Ok((engine, report, cut_at))
}

/// Replay the whole journal, from its first entry, into a fresh engine and call `visit` after each
/// entry with the engine as it then stands, the entry, and the outcome of a transaction. Snapshots
/// hold the state, not its history: a reader rebuilds what it derives from the history (the hub's
/// samples, positions' cost bases) this way. Stops quietly at the first entry that is damaged, out
/// of place, no longer applies or disagrees with its block seal — where recovery, which checks the
/// same, reports and cuts the journal. Returns the number of entries visited.
pub fn replay_with(backend: &mut dyn Backend, mut visit: impl FnMut(&Engine, &Entry, Option<&Outcome>)) -> Result<u64> {
    let mut engine = Engine::new();
    let mut expected = 1u64;
    backend.scan(1, &mut |seq, bytes| {
        if seq != expected {
            return false;
        }
        let Ok(entry) = Entry::decode(bytes) else { return false };
        if entry.seq != seq {
            return false;
        }
        if check_seal_before(&engine, &entry).is_err() {
            return false;
        }
        let outcome = match &entry.record {
            Record::Tx(stx) => match engine.apply_verified(&stx.clone().assume_verified()) {
                Ok(o) => Some(o),
                Err(_) => return false,
            },
            Record::System(op) => match engine.apply_system(op).map(|seal| check_seal_after(seal, entry.seal)) {
                Ok(Ok(_)) => None,
                _ => return false,
            },
        };
        visit(&engine, &entry, outcome.as_ref());
        expected += 1;
        true
    })?;
    Ok(expected - 1)
}

/// The writer: owns the journal's tail.
pub struct Node<B: Backend> {
    engine: Engine,
    backend: B,
    next_seq: u64,
    policy: SnapshotPolicy,
    blocks_since_snapshot: u64,
    last_snapshot: Instant,
    last_snapshot_seq: u64,
    poisoned: bool,
    snapshot_failures: u64,
    last_snapshot_error: Option<String>,
}

impl<B: Backend> Node<B> {
    /// Recover from the backend: newest valid snapshot + journal replay. A damaged tail is cut
    /// off (deleted) so that new entries follow the intact prefix; the report says what was cut.
    pub fn open(mut backend: B, policy: SnapshotPolicy) -> Result<(Self, RecoveryReport)> {
        let (engine, mut report, cut_at) = recover(&mut backend)?;
        if let Some(seq) = cut_at {
            report.entries_dropped = backend.truncate_from(seq)?;
        }
        for c in engine.chains() {
            backend.claim_chain(c.chain_id)?;
        }
        let next_seq = report.entries_kept + 1;
        let node = Node {
            engine,
            backend,
            next_seq,
            policy,
            blocks_since_snapshot: 0,
            last_snapshot: Instant::now(),
            last_snapshot_seq: report.snapshot_seq.unwrap_or(0),
            poisoned: false,
            snapshot_failures: 0,
            last_snapshot_error: None,
        };
        Ok((node, report))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// The seq the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn entry_for(&self, seq: u64, chain_ix: usize, record: Record, seal: Option<BlockSeal>) -> Entry {
        let c = self.engine.chain(chain_ix);
        let (block, timestamp) = match seal {
            Some(s) => (s.number, s.timestamp),
            None => (c.block_number, c.now),
        };
        Entry { seq, chain_id: c.chain_id, block, timestamp, record, seal: seal.map(|s| s.state_hash) }
    }

    /// Verify signatures in parallel, apply in order, and make every accepted transaction durable
    /// in one write before returning (group commit). The inner results are per transaction. The
    /// outer error is a failed journal write: the batch was not acknowledged and may or may not be
    /// durable (a connection can drop after the commit); the node refuses further work until it is
    /// reopened, and a transaction sent again is refused by its nonce if it was stored.
    pub fn submit_batch(
        &mut self,
        txs: Vec<SignedTransaction>,
    ) -> Result<Vec<std::result::Result<Receipt, EngineError>>> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        let verified = verify_parallel(txs);
        let mut results = Vec::with_capacity(verified.len());
        let mut rows = Vec::with_capacity(verified.len());
        for v in verified {
            let vtx = match v {
                Ok(vtx) => vtx,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            match self.engine.apply_verified(&vtx) {
                Ok(outcome) => {
                    let seq = self.next_seq + rows.len() as u64;
                    let chain = self.engine.chain_ix_by_eip155(vtx.tx().chain_id).unwrap_or(0);
                    let entry = self.entry_for(seq, chain, Record::Tx(vtx.signed().clone()), None);
                    rows.push((seq, entry.encode()));
                    results.push(Ok(Receipt { seq, outcome }));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        self.persist(rows)?;
        self.maybe_snapshot();
        Ok(results)
    }

    /// Submit one transaction (a batch of one).
    pub fn submit(&mut self, tx: SignedTransaction) -> Result<std::result::Result<Receipt, EngineError>> {
        let mut r = self.submit_batch(vec![tx])?;
        Ok(r.pop().unwrap_or(Err(EngineError::Decode("empty batch".into()))))
    }

    /// Apply an operator action and make it durable; an `Advance` records its block seal.
    pub fn system(&mut self, op: SystemOp) -> Result<std::result::Result<(u64, Option<BlockSeal>), EngineError>> {
        if self.poisoned {
            return Err(StoreError::Poisoned);
        }
        if let SystemOp::CreateChain { chain_id, id, .. } = &op
            && self.engine.chain_ix(id).is_err()
            && self.engine.chain_ix_by_eip155(*chain_id).is_err()
        {
            self.backend.claim_chain(*chain_id)?;
        }
        let seal = match self.engine.apply_system(&op) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let chain = match &op {
            SystemOp::CreateChain { id, .. }
            | SystemOp::Advance { chain: id, .. }
            | SystemOp::SetGasModel { chain: id, .. } => self.engine.chain_ix(id).unwrap_or(0),
            SystemOp::CreateToken { chain, .. } => self.engine.chain_ix(chain).unwrap_or(0),
            SystemOp::FaucetMint { token, .. } => {
                self.engine.token_ix(token).map(|t| self.engine.token(t).chain).unwrap_or(0)
            }
        };
        let seq = self.next_seq;
        let entry = self.entry_for(seq, chain, Record::System(op), seal);
        self.persist(vec![(seq, entry.encode())])?;
        if seal.is_some() {
            self.blocks_since_snapshot += 1;
        }
        self.maybe_snapshot();
        Ok(Ok((seq, seal)))
    }

    fn persist(&mut self, rows: Vec<(u64, Vec<u8>)>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.backend.append(&rows) {
            // The engine is now ahead of the journal: refuse everything until reopened.
            self.poisoned = true;
            return Err(e);
        }
        self.next_seq += rows.len() as u64;
        Ok(())
    }

    /// Take a snapshot if one is due. Its failure does not fail the step that made it due: that
    /// step is already durable in the journal, which recovers it without the snapshot. Reporting
    /// it as the step's error would tell the client a durable transaction was not (a full disk
    /// or a failed fsync on the snapshot did exactly that until the fault simulator caught it,
    /// seed 0). The failure is counted and kept, and the snapshot is tried again at the next step.
    fn maybe_snapshot(&mut self) {
        let due =
            self.blocks_since_snapshot >= self.policy.every_blocks || self.last_snapshot.elapsed() >= self.policy.every;
        if due
            && self.next_seq - 1 > self.last_snapshot_seq
            && let Err(e) = self.snapshot()
        {
            self.snapshot_failures += 1;
            self.last_snapshot_error = Some(e.to_string());
        }
    }

    /// Snapshots that failed since start-up and the latest failure's message.
    pub fn snapshot_failures(&self) -> (u64, Option<&str>) {
        (self.snapshot_failures, self.last_snapshot_error.as_deref())
    }

    /// Take a snapshot of the current state now (it covers every entry so far).
    pub fn snapshot(&mut self) -> Result<u64> {
        let seq = self.next_seq - 1;
        let state = self.engine.encode_state();
        let state_hash = granary_engine::B256::from(alloy_keccak(&state));
        let snap = Snapshot { seq, state_hash, state };
        self.backend.put_snapshot(seq, &snap.encode())?;
        let seqs = self.backend.snapshot_seqs()?;
        for old in seqs.into_iter().skip(self.policy.keep.max(1)) {
            self.backend.delete_snapshot(old)?;
        }
        self.blocks_since_snapshot = 0;
        self.last_snapshot = Instant::now();
        self.last_snapshot_seq = seq;
        Ok(seq)
    }
}

fn alloy_keccak(bytes: &[u8]) -> [u8; 32] {
    granary_engine::codec::keccak(bytes)
}

/// Check signatures on all cores, keeping the input order.
fn verify_parallel(txs: Vec<SignedTransaction>) -> Vec<std::result::Result<VerifiedTransaction, EngineError>> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if txs.len() < 64 || threads == 1 {
        return txs.into_iter().map(SignedTransaction::verify).collect();
    }
    let chunk = txs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<SignedTransaction>> = Vec::new();
    let mut it = txs.into_iter();
    loop {
        let c: Vec<_> = it.by_ref().take(chunk).collect();
        if c.is_empty() {
            break;
        }
        chunks.push(c);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.into_iter().map(SignedTransaction::verify).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// A reader: replays the journal and follows its tail without ever writing (PostgreSQL readers
/// serve reads while one writer appends).
pub struct Reader<B: Backend> {
    engine: Engine,
    backend: B,
    next_seq: u64,
}

impl<B: Backend> Reader<B> {
    pub fn open(mut backend: B) -> Result<(Self, RecoveryReport)> {
        let (engine, report, _) = recover(&mut backend)?;
        let next_seq = report.entries_kept + 1;
        Ok((Reader { engine, backend, next_seq }, report))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Apply whatever the writer has appended since the last call; returns how many entries.
    pub fn catch_up(&mut self) -> Result<u64> {
        let mut applied = 0u64;
        let mut failure = None;
        let (engine, next) = (&mut self.engine, &mut self.next_seq);
        self.backend.scan(*next, &mut |seq, bytes| {
            if seq != *next {
                return false;
            }
            match entry_at(seq, bytes).and_then(|e| apply_entry(engine, e).map_err(|why| format!("entry {seq}: {why}")))
            {
                Ok(_) => {
                    *next += 1;
                    applied += 1;
                    true
                }
                Err(why) => {
                    failure = Some(why);
                    false
                }
            }
        })?;
        match failure {
            Some(why) => Err(StoreError::Divergence(why)),
            None => Ok(applied),
        }
    }
}

/// Replay a whole journal from genesis, ignoring snapshots, and check every block seal and every
/// snapshot's state hash at its position (`granary journal verify`).
pub fn verify_journal(backend: &mut dyn Backend) -> Result<RecoveryReport> {
    let mut snapshots = std::collections::BTreeMap::new();
    for seq in backend.snapshot_seqs()? {
        if let Some(bytes) = backend.load_snapshot(seq)? {
            match Snapshot::decode(&bytes) {
                Ok(s) => {
                    snapshots.insert(seq, s.state_hash);
                }
                Err(d) => {
                    return Err(StoreError::Divergence(format!("snapshot at entry {seq}: {d}")));
                }
            }
        }
    }
    let mut engine = Engine::new();
    let mut report = RecoveryReport::default();
    let mut expected = 1u64;
    let mut failure = None;
    backend.scan(1, &mut |seq, bytes| {
        let r = if seq != expected {
            Err(format!("entry {expected} is missing"))
        } else {
            entry_at(seq, bytes).and_then(|e| apply_entry(&mut engine, e).map_err(|why| format!("entry {seq}: {why}")))
        };
        match r {
            Ok(seals) => {
                report.seals_checked += seals;
                if let Some(h) = snapshots.get(&seq)
                    && *h != engine.state_hash()
                {
                    failure = Some(format!("the snapshot at entry {seq} disagrees with the replayed state"));
                    return false;
                }
                expected += 1;
                true
            }
            Err(why) => {
                failure = Some(why);
                false
            }
        }
    })?;
    report.replayed = expected - 1;
    report.entries_kept = expected - 1;
    report.state_hash = engine.state_hash();
    match failure {
        Some(why) => Err(StoreError::Divergence(why)),
        None => Ok(report),
    }
}
