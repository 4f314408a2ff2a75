//! `granary sim-faults`: the deterministic fault simulator over many seeds (crates/sim). Seeds run
//! in parallel (each is independent and single-threaded, so the results do not depend on the
//! thread count); a failing seed is printed with the command that replays it step by step.

use clap::Args;
use granary_sim::{FaultConfig, SeedReport, SimConfig, run_seed};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
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
    let mut total = SeedReport::default();
    let mut passed = 0u64;
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(rep) => {
                if a.trace {
                    for line in &rep.trace {
                        println!("{line}");
                    }
                }
                passed += 1;
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
            "seeds": seeds.len(), "passed": passed, "failed": failures.iter().map(|f| serde_json::json!({
                "seed": f.seed, "step": f.step, "what": f.what })).collect::<Vec<_>>(),
            "transactions_sent": total.txs_sent, "acknowledged": total.txs_acknowledged, "refused": total.txs_refused,
            "in_doubt": total.txs_in_doubt, "in_doubt_found_durable": total.in_doubt_found_durable,
            "resubmissions_refused": total.resubmissions_refused, "blocks_closed": total.blocks_closed,
            "restarts": total.restarts, "recoveries_checked": total.recoveries_checked, "entries_cut": total.entries_cut,
            "snapshots_skipped": total.snapshots_skipped, "faults": total.faults,
            "seconds": secs,
        });
        println!("{v}");
    } else {
        println!("{} seeds in {secs:.1} s: {} passed, {} failed", seeds.len(), passed, failures.len());
        println!(
            "  transactions: {} sent, {} acknowledged, {} refused by the engine, {} in doubt ({} found durable, {} resubmissions refused as already applied)",
            total.txs_sent,
            total.txs_acknowledged,
            total.txs_refused,
            total.txs_in_doubt,
            total.in_doubt_found_durable,
            total.resubmissions_refused
        );
        println!(
            "  {} blocks closed, {} process restarts, {} recoveries checked, {} torn entries cut, {} damaged snapshots skipped",
            total.blocks_closed, total.restarts, total.recoveries_checked, total.entries_cut, total.snapshots_skipped
        );
        let faults: Vec<String> = total.faults.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  faults injected: {} ({})", total.faults_injected(), faults.join(", "));
        if failures.is_empty() {
            println!("  no acknowledged transaction lost, none applied twice, every recovery equal to a clean replay");
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
