//! `granary sim-faults`: the deterministic fault simulator over many seeds (crates/sim). Seeds run
//! in parallel (each is independent and single-threaded, so the results do not depend on the
//! thread count); a failing seed is printed with the command that replays it step by step.

use clap::Args;
use granary_sim::{FaultConfig, SeedReport, SimConfig, run_seed};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct SimFaultsArgs {
    /// How many seeds to run, from `--from`.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Run this one seed (with `--trace`, print every step).
    #[arg(long, conflicts_with_all = ["seeds", "from"])]
    seed: Option<u64>,
    #[arg(long)]
    trace: bool,
    /// Client steps per seed.
    #[arg(long, default_value_t = SimConfig::default().steps)]
    steps: u32,
    /// Chance that a write meets a fault.
    #[arg(long, default_value_t = FaultConfig::default().write_fault)]
    write_fault: f64,
    /// Chance that a read fails.
    #[arg(long, default_value_t = FaultConfig::default().read_fault)]
    read_fault: f64,
    #[arg(long)]
    json: bool,
}

pub fn run(a: &SimFaultsArgs) -> Result<ExitCode, String> {
    for (name, p) in [("--write-fault", a.write_fault), ("--read-fault", a.read_fault)] {
        if !(0.0..=0.5).contains(&p) {
            return Err(format!("{name} must be a probability in 0..=0.5, got {p}"));
        }
    }
    if a.steps == 0 || a.steps > 100_000 {
        return Err("--steps must be 1..=100000".into());
    }
    let cfg = SimConfig {
        steps: a.steps,
        faults: FaultConfig { write_fault: a.write_fault, read_fault: a.read_fault, ..FaultConfig::default() },
        ..SimConfig::default()
    };
    let seeds: Vec<u64> = match a.seed {
        Some(s) => vec![s],
        None => (a.from..a.from.saturating_add(a.seeds)).collect(),
    };
    let bar = if std::io::stderr().is_terminal() && seeds.len() > 1 {
        ProgressBar::with_draw_target(Some(seeds.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} seeds [{elapsed_precise} < {eta_precise}] {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let results: Vec<_> = seeds
        .par_iter()
        .map(|&s| {
            let r = run_seed(s, &cfg, a.trace);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let mut total = Totals::default();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(rep) => {
                if a.trace {
                    for line in &rep.trace {
                        println!("{line}");
                    }
                }
                total.add(&rep);
            }
            Err(f) => {
                if a.trace {
                    for line in &f.trace {
                        println!("{line}");
                    }
                }
                failures.push(f);
            }
        }
    }
    if a.json {
        let v = serde_json::json!({
            "seeds": seeds.len(), "passed": total.seeds, "failed": failures.iter().map(|f| serde_json::json!({
                "seed": f.seed, "step": f.step, "what": f.what })).collect::<Vec<_>>(),
            "transactions_sent": total.sent, "acknowledged": total.acked, "refused": total.refused,
            "in_doubt": total.in_doubt, "in_doubt_found_durable": total.durable,
            "resubmissions_refused": total.resub_refused, "blocks_closed": total.blocks,
            "restarts": total.restarts, "recoveries_checked": total.recoveries, "entries_cut": total.cut,
            "snapshots_skipped": total.snaps_skipped, "faults": total.faults,
            "seconds": secs,
        });
        println!("{v}");
    } else {
        println!("{} seeds in {secs:.1} s: {} passed, {} failed", seeds.len(), total.seeds, failures.len());
        println!(
            "  transactions: {} sent, {} acknowledged, {} refused by the engine, {} in doubt ({} found durable, {} resubmissions refused as already applied)",
            total.sent, total.acked, total.refused, total.in_doubt, total.durable, total.resub_refused
        );
        println!(
            "  {} blocks closed, {} process restarts, {} recoveries checked, {} torn entries cut, {} damaged snapshots skipped",
            total.blocks, total.restarts, total.recoveries, total.cut, total.snaps_skipped
        );
        let faults: Vec<String> = total.faults.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  faults injected: {} ({})", total.faults.values().sum::<u64>(), faults.join(", "));
        if failures.is_empty() {
            println!("  no acknowledged transaction lost, none applied twice, every recovery equal to a clean replay");
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(Default)]
struct Totals {
    seeds: u64,
    sent: u64,
    acked: u64,
    refused: u64,
    in_doubt: u64,
    durable: u64,
    resub_refused: u64,
    blocks: u64,
    restarts: u64,
    recoveries: u64,
    cut: u64,
    snaps_skipped: u64,
    faults: BTreeMap<&'static str, u64>,
}

impl Totals {
    fn add(&mut self, r: &SeedReport) {
        self.seeds += 1;
        self.sent += r.txs_sent;
        self.acked += r.txs_acknowledged;
        self.refused += r.txs_refused;
        self.in_doubt += r.txs_in_doubt;
        self.durable += r.in_doubt_found_durable;
        self.resub_refused += r.resubmissions_refused;
        self.blocks += r.blocks_closed;
        self.restarts += r.restarts;
        self.recoveries += r.recoveries_checked;
        self.cut += r.entries_cut;
        self.snaps_skipped += r.snapshots_skipped;
        for (k, v) in &r.faults {
            *self.faults.entry(k).or_default() += v;
        }
    }
}
