//! Monte Carlo path-steps per second: the `lp` strategy on GBM paths through the exact pool math
//! (closed-form arbitrage to the band edge, certified on the engine's `get_amount_out`; noise
//! round trips as real swaps), against `scripts/mc_numpy.py` — the same model in float numpy,
//! vectorised across paths (GBM, arbitrage to the band edge in closed form, fee accrual) — run by
//! this benchmark on the same machine.
//!
//! Run: `cargo bench -p granary-lab --bench montecarlo` (10 000 paths × 365 days × 24 steps).
//! `GRANARY_BENCH_QUICK=1` runs 200 paths × 30 days × 24 steps. The numpy peer needs numpy in
//! `$GRANARY_PYTHON` or `.oracles/venv` (scripts/oracles.sh); without it only our rate is printed.
//! The table is written to `<target dir>/bench/montecarlo.md` and its figures to `montecarlo.json`
//! beside it (for `granary bench all`). A benchmark, not a test: it reports, it does not pass or fail.

use granary_lab::montecarlo::{self, Model, Spec};
use granary_lab::report::Stat;
use granary_lab::strategy::{Config, Prepared, Strategy};
use granary_testkit::bench;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SIGMA_YEAR: f64 = 0.8;
const FEE_BPS: u32 = 30;
const VOLUME: f64 = 0.2;
const DEPOSIT: f64 = 10_000.0;
const POOL: f64 = 1_000_000.0;
const START: f64 = 2000.0;

fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = std::env::var_os("GRANARY_PYTHON").map_or_else(|| root.join(".oracles/venv/bin/python"), PathBuf::from);
    let ok = Command::new(&p).args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success());
    ok.then_some(p)
}

struct Run {
    seconds: f64,
    p50: f64,
    mean: f64,
}

fn ours(paths: usize, days: u32, spd: u32, threads: usize) -> Run {
    let mut config = Config::new(Strategy::Lp, DEPOSIT);
    config.pool_usd = POOL;
    config.fee_bps = FEE_BPS;
    config.volume_share = VOLUME;
    let prepared = Prepared::new(&config, days, false).unwrap_or_else(|e| panic!("config: {e}"));
    let spec = Spec {
        paths,
        days,
        steps_per_day: spd,
        seed: 1,
        start: [START, 1.0],
        model: Model::Gbm { mu: [0.0, 0.0], sigma: [SIGMA_YEAR / 365f64.sqrt(), 0.0], rho: 0.0 },
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let outs = pool.install(|| montecarlo::run(&prepared, &spec, &|| {})).unwrap_or_else(|e| panic!("run: {e}"));
    let seconds = t.elapsed().as_secs_f64();
    let st = Stat::of(&outs.iter().map(|o| o.final_value).collect::<Vec<_>>());
    Run { seconds, p50: st.p50, mean: st.mean }
}

fn numpy(python: &Path, paths: usize, days: u32, spd: u32) -> Option<Run> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/mc_numpy.py");
    let out = Command::new(python)
        .arg(script)
        .args(["--paths", &paths.to_string(), "--days", &days.to_string(), "--steps-per-day", &spd.to_string()])
        .args(["--sigma", &SIGMA_YEAR.to_string(), "--fee-bps", &FEE_BPS.to_string(), "--volume", &VOLUME.to_string()])
        .args(["--deposit", &DEPOSIT.to_string(), "--pool-usd", &POOL.to_string(), "--start", &START.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{script} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Run { seconds: v["seconds"].as_f64()?, p50: v["p50"].as_f64()?, mean: v["mean"].as_f64()? })
}

fn main() {
    let (paths, days, spd) = if bench::quick() { (200, 30, 24) } else { (10_000, 365, 24) };
    let steps = paths as f64 * f64::from(days) * f64::from(spd);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut md = String::from("# Monte Carlo path-steps per second\n\n");
    let _ = writeln!(
        md,
        "lp strategy: {paths} paths × {days} days × {spd} steps/day = {steps:.0} path-steps; GBM σ {SIGMA_YEAR}/yr, \
         fee {FEE_BPS} bps, noise volume {VOLUME} of TVL a day, ${DEPOSIT} in a ${POOL} pool.\n"
    );
    md.push_str(
        "| implementation | path-steps/s | seconds | p50 final ($) | mean final ($) |\n|---|---:|---:|---:|---:|\n",
    );
    let all = ours(paths, days, spd, cores);
    let one = ours(paths, days, spd, 1);
    let rate = |r: &Run| steps / r.seconds;
    let mut row = |name: &str, r: &Run| {
        let _ = writeln!(md, "| {name} | {:.0} | {:.2} | {:.2} | {:.2} |", rate(r), r.seconds, r.p50, r.mean);
    };
    row(&format!("granary exact U256, {cores} thread(s)"), &all);
    row("granary exact U256, 1 thread", &one);
    let mut report = bench::Report::new("montecarlo");
    report
        .figure("path_steps", steps)
        .figure("threads", cores as f64)
        .figure("granary_per_s", rate(&all))
        .figure("granary_1_thread_per_s", rate(&one));
    match python().and_then(|py| numpy(&py, paths, days, spd)) {
        Some(np) => {
            row("numpy float, vectorised across paths", &np);
            let (ratio, ratio_1) = (rate(&all) / rate(&np), rate(&one) / rate(&np));
            let _ =
                writeln!(md, "\nRatio ours/numpy: {ratio:.2}× ({cores} threads), {ratio_1:.2}× (1 thread); goal ≥ 5×.");
            report
                .figure("numpy_per_s", rate(&np))
                .figure("granary_over_numpy", ratio)
                .figure("granary_1_thread_over_numpy", ratio_1);
        }
        None => md.push_str("\nnumpy peer skipped: no Python with numpy (run scripts/oracles.sh).\n"),
    }
    print!("{md}");
    report.write(&md);
}
