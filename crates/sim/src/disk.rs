//! A simulated disk and the process that writes to it, behind the store's `Backend` interface.
//!
//! `SimDisk` holds what is durable: journal rows and snapshots. Each `SimBackend` is one process's
//! handle on it; when the fault plan crashes the process, that handle answers every later call
//! with an error, and the simulator starts a new process (a new `Node` on a new handle) on the
//! same disk. Rows written but not synced when a fault strikes are kept or lost by a coin of the
//! fault's own generator, so the outcome is fixed by the seed.

use granary_store::{Backend, Result, StoreError};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Which faults strike and how often.
#[derive(Debug, Clone, Copy)]
pub struct FaultConfig {
    /// Chance that a write (append, snapshot, delete, truncate) meets a fault.
    pub write_fault: f64,
    /// Chance that a read during recovery or a snapshot fails (a transient I/O error).
    pub read_fault: f64,
    /// Latency of a slow write, in simulated milliseconds (a normal write takes 1 ms).
    pub slow_ms: (u64, u64),
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig { write_fault: 0.06, read_fault: 0.01, slow_ms: (200, 3_000) }
    }
}

/// The faults the disk and the process can suffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The process dies before the write reaches the disk.
    CrashBeforeWrite,
    /// The process dies half-way through a write: a prefix of its rows is on disk, the last of
    /// them possibly torn (cut short or with a flipped byte).
    TornWrite,
    /// The write is on disk but the process dies before it can acknowledge it.
    CrashAfterWrite,
    /// fsync reports an error: the rows may or may not survive (lost writes); the process lives.
    FsyncFailed,
    /// No space left: the write and the next few are refused before anything is written.
    DiskFull,
    /// The write completes but takes longer than the client waits.
    SlowDisk,
    /// The database connection drops mid-transaction: committed or rolled back, the client
    /// cannot tell which.
    ConnectionDropped,
    /// A snapshot is torn by a crash while it is written.
    TornSnapshot,
    /// A read fails (during recovery or while taking a snapshot).
    ReadError,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::CrashBeforeWrite,
        FaultKind::TornWrite,
        FaultKind::CrashAfterWrite,
        FaultKind::FsyncFailed,
        FaultKind::DiskFull,
        FaultKind::SlowDisk,
        FaultKind::ConnectionDropped,
        FaultKind::TornSnapshot,
        FaultKind::ReadError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::CrashBeforeWrite => "crash_before_write",
            FaultKind::TornWrite => "torn_write",
            FaultKind::CrashAfterWrite => "crash_after_write",
            FaultKind::FsyncFailed => "fsync_failed",
            FaultKind::DiskFull => "disk_full",
            FaultKind::SlowDisk => "slow_disk",
            FaultKind::ConnectionDropped => "connection_dropped",
            FaultKind::TornSnapshot => "torn_snapshot",
            FaultKind::ReadError => "read_error",
        }
    }

    /// Whether the process is dead after the fault.
    pub fn kills(self) -> bool {
        matches!(
            self,
            FaultKind::CrashBeforeWrite | FaultKind::TornWrite | FaultKind::CrashAfterWrite | FaultKind::TornSnapshot
        )
    }
}

/// Where a fault struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A journal append.
    Append,
    /// Writing or pruning a snapshot.
    Snapshot,
    /// Cutting a damaged tail at recovery.
    Truncate,
    Read,
}

/// What the disk holds, and the fault plan's state.
pub struct DiskState {
    /// Durable journal rows by seq.
    pub journal: BTreeMap<u64, Vec<u8>>,
    /// Durable snapshots by the seq they cover.
    pub snapshots: BTreeMap<u64, Vec<u8>>,
    cfg: FaultConfig,
    rng: ChaCha8Rng,
    /// Faults are not injected while this is false (set-up and the final clean check).
    pub armed: bool,
    /// The current process, and whether it is dead.
    process: u64,
    dead: bool,
    /// Writes still to be refused because the disk is full.
    full_for: u32,
    /// The fault of the latest call and where it struck, if any (the driver reads and clears it).
    pub last_fault: Option<(FaultKind, Site)>,
    /// Simulated latency of the latest append, in ms.
    pub last_latency_ms: u64,
    /// Faults injected so far, by kind.
    pub injected: BTreeMap<FaultKind, u64>,
    /// Rows written by a faulted write that survived it (lost or kept by the coin).
    pub rows_kept_after_fault: u64,
    pub rows_lost_to_fault: u64,
}

/// The shared disk.
#[derive(Clone)]
pub struct SimDisk(Arc<Mutex<DiskState>>);

impl SimDisk {
    pub fn new(seed: u64, cfg: FaultConfig) -> SimDisk {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        SimDisk(Arc::new(Mutex::new(DiskState {
            journal: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            cfg,
            rng,
            armed: false,
            process: 0,
            dead: false,
            full_for: 0,
            last_fault: None,
            last_latency_ms: 0,
            injected: BTreeMap::new(),
            rows_kept_after_fault: 0,
            rows_lost_to_fault: 0,
        })))
    }

    pub fn lock(&self) -> MutexGuard<'_, DiskState> {
        // A poisoned lock means a check panicked while holding it; the state is still readable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a new process on this disk: a handle that works until the next crash.
    pub fn start_process(&self) -> SimBackend {
        let mut d = self.lock();
        d.process += 1;
        d.dead = false;
        SimBackend { disk: self.clone(), process: d.process }
    }
}

impl DiskState {
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.next_u64() as f64 / u64::MAX as f64) < p
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.rng.next_u64() % n }
    }

    fn coin(&mut self) -> bool {
        self.rng.next_u64() & 1 == 1
    }

    /// Forget the latest fault and latency before the driver's next step.
    pub fn clear_last(&mut self) {
        self.last_fault = None;
        self.last_latency_ms = 0;
    }

    fn note(&mut self, f: FaultKind, site: Site) {
        self.last_fault = Some((f, site));
        *self.injected.entry(f).or_default() += 1;
        if f.kills() {
            self.dead = true;
        }
    }

    /// Draw the fault of a write, if one strikes.
    fn write_fault(&mut self, kinds: &[FaultKind]) -> Option<FaultKind> {
        if !self.armed || !self.chance(self.cfg.write_fault) {
            return None;
        }
        let k = kinds[self.below(kinds.len() as u64) as usize];
        Some(k)
    }

    fn read_fault(&mut self) -> Result<()> {
        if self.armed && self.chance(self.cfg.read_fault) {
            self.note(FaultKind::ReadError, Site::Read);
            return Err(StoreError::Backend("simulated I/O error on read".into()));
        }
        Ok(())
    }

    /// A row cut short or with one flipped byte.
    fn tear(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut v = bytes.to_vec();
        if self.coin() && v.len() > 1 {
            let keep = 1 + self.below(v.len() as u64 - 1) as usize;
            v.truncate(keep);
        } else if !v.is_empty() {
            let i = self.below(v.len() as u64) as usize;
            v[i] ^= 1 << self.below(8);
        }
        v
    }
}

/// One process's handle on the disk.
pub struct SimBackend {
    disk: SimDisk,
    process: u64,
}

fn crashed() -> StoreError {
    StoreError::Backend("simulated crash: the process is gone".into())
}

impl SimBackend {
    fn live(&self) -> Result<MutexGuard<'_, DiskState>> {
        let d = self.disk.lock();
        if d.dead || d.process != self.process {
            return Err(crashed());
        }
        Ok(d)
    }
}

impl Backend for SimBackend {
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> Result<()> {
        let mut d = self.live()?;
        d.last_latency_ms = 1;
        if d.full_for > 0 {
            d.full_for -= 1;
            d.note(FaultKind::DiskFull, Site::Append);
            return Err(StoreError::Backend("simulated: no space left on device".into()));
        }
        use FaultKind::*;
        // The first seven kinds are those of a journal write.
        let fault = d.write_fault(&FaultKind::ALL[..7]);
        let Some(f) = fault else {
            for (seq, bytes) in entries {
                d.journal.insert(*seq, bytes.clone());
            }
            return Ok(());
        };
        d.note(f, Site::Append);
        match f {
            CrashBeforeWrite => {
                d.rows_lost_to_fault += entries.len() as u64;
                Err(crashed())
            }
            TornWrite => {
                let whole = d.below(entries.len() as u64) as usize;
                for (seq, bytes) in &entries[..whole] {
                    d.journal.insert(*seq, bytes.clone());
                }
                let (seq, bytes) = &entries[whole];
                let torn = d.tear(bytes);
                d.journal.insert(*seq, torn);
                d.rows_kept_after_fault += whole as u64;
                d.rows_lost_to_fault += (entries.len() - whole) as u64;
                Err(crashed())
            }
            CrashAfterWrite => {
                for (seq, bytes) in entries {
                    d.journal.insert(*seq, bytes.clone());
                }
                d.rows_kept_after_fault += entries.len() as u64;
                Err(crashed())
            }
            FsyncFailed | ConnectionDropped => {
                if d.coin() {
                    for (seq, bytes) in entries {
                        d.journal.insert(*seq, bytes.clone());
                    }
                    d.rows_kept_after_fault += entries.len() as u64;
                } else {
                    d.rows_lost_to_fault += entries.len() as u64;
                }
                Err(StoreError::Backend(if f == FsyncFailed {
                    "simulated: fsync failed (EIO)".into()
                } else {
                    "simulated: connection closed in the middle of the transaction".into()
                }))
            }
            DiskFull => {
                d.full_for = d.below(3) as u32;
                d.rows_lost_to_fault += entries.len() as u64;
                Err(StoreError::Backend("simulated: no space left on device".into()))
            }
            SlowDisk => {
                let (lo, hi) = d.cfg.slow_ms;
                d.last_latency_ms = lo + d.below(hi.saturating_sub(lo) + 1);
                for (seq, bytes) in entries {
                    d.journal.insert(*seq, bytes.clone());
                }
                Ok(())
            }
            TornSnapshot | ReadError => Err(StoreError::Backend("unreachable fault for a journal write".into())),
        }
    }

    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<()> {
        let rows: Vec<(u64, Vec<u8>)> = {
            let mut d = self.live()?;
            d.read_fault()?;
            d.journal.range(from..).map(|(s, b)| (*s, b.clone())).collect()
        };
        for (seq, bytes) in rows {
            if !visit(seq, &bytes) {
                break;
            }
        }
        Ok(())
    }

    fn truncate_from(&mut self, from: u64) -> Result<u64> {
        let mut d = self.live()?;
        let f = d.write_fault(&[FaultKind::CrashBeforeWrite, FaultKind::CrashAfterWrite]);
        if f == Some(FaultKind::CrashBeforeWrite) {
            d.note(FaultKind::CrashBeforeWrite, Site::Truncate);
            return Err(crashed());
        }
        let cut: Vec<u64> = d.journal.range(from..).map(|(s, _)| *s).collect();
        for s in &cut {
            d.journal.remove(s);
        }
        if let Some(f) = f {
            d.note(f, Site::Truncate);
            return Err(crashed());
        }
        Ok(cut.len() as u64)
    }

    fn last_seq(&mut self) -> Result<Option<u64>> {
        let mut d = self.live()?;
        d.read_fault()?;
        Ok(d.journal.keys().next_back().copied())
    }

    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<()> {
        let mut d = self.live()?;
        if d.full_for > 0 {
            d.full_for -= 1;
            d.note(FaultKind::DiskFull, Site::Snapshot);
            return Err(StoreError::Backend("simulated: no space left on device".into()));
        }
        use FaultKind::*;
        match d.write_fault(&[CrashBeforeWrite, TornSnapshot, CrashAfterWrite, FsyncFailed, DiskFull]) {
            None => {
                d.snapshots.insert(seq, bytes.to_vec());
                Ok(())
            }
            Some(f) => {
                d.note(f, Site::Snapshot);
                match f {
                    TornSnapshot => {
                        let torn = d.tear(bytes);
                        d.snapshots.insert(seq, torn);
                        Err(crashed())
                    }
                    CrashAfterWrite => {
                        d.snapshots.insert(seq, bytes.to_vec());
                        Err(crashed())
                    }
                    FsyncFailed => {
                        if d.coin() {
                            d.snapshots.insert(seq, bytes.to_vec());
                        }
                        Err(StoreError::Backend("simulated: fsync failed (EIO)".into()))
                    }
                    DiskFull => {
                        d.full_for = d.below(3) as u32;
                        Err(StoreError::Backend("simulated: no space left on device".into()))
                    }
                    _ => Err(crashed()),
                }
            }
        }
    }

    fn snapshot_seqs(&mut self) -> Result<Vec<u64>> {
        let mut d = self.live()?;
        d.read_fault()?;
        Ok(d.snapshots.keys().rev().copied().collect())
    }

    fn load_snapshot(&mut self, seq: u64) -> Result<Option<Vec<u8>>> {
        let mut d = self.live()?;
        d.read_fault()?;
        Ok(d.snapshots.get(&seq).cloned())
    }

    fn delete_snapshot(&mut self, seq: u64) -> Result<()> {
        let mut d = self.live()?;
        let f = d.write_fault(&[FaultKind::CrashBeforeWrite, FaultKind::CrashAfterWrite]);
        if f != Some(FaultKind::CrashBeforeWrite) {
            d.snapshots.remove(&seq);
        }
        if let Some(f) = f {
            d.note(f, Site::Snapshot);
            return Err(crashed());
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("simulated disk, process {}", self.process)
    }
}
