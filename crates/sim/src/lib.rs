//! Deterministic fault simulation of the engine and its store.
//!
//! One seed fixes everything: the workload a few clients send (swaps, liquidity, farms, stakes,
//! transfers, block closes on two chains), and the faults the simulated disk and process suffer —
//! a crash at any I/O point (before a write, half-way through it with the last entry torn, after
//! it but before the acknowledgement), an fsync that fails and may lose the written rows, a full
//! disk, a slow disk that outlasts the client's timeout, a database connection dropped in the
//! middle of a transaction (committed or not), torn snapshots and transient read errors during
//! recovery. Nothing reads the wall clock, spawns threads or iterates a hash map into a result,
//! so a failing seed replays the same failure step for step (`granary sim-faults --seed S --trace`).
//!
//! After every recovery and at the end of a seed the checks are:
//! - every acknowledged entry is in the journal at the position it was acknowledged with;
//! - no transaction appears twice in the journal, and none the node refused appears at all;
//! - the recovered state hash equals a clean replay of the journal from genesis, every intact
//!   snapshot equals the replayed state at its position, and the state at every acknowledgement
//!   is the replayed state at that position;
//! - every invariant of the engine holds (`Engine::check_invariants`);
//! - a batch refused with an error of the store (not an in-doubt fault) left nothing durable.

pub mod disk;
pub mod run;
pub mod workload;

pub use disk::{FaultConfig, FaultKind, SimBackend, SimDisk, Site};
pub use run::{Failure, SeedReport, SimConfig, run_seed};
