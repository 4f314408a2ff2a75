//! Throughput ratios of one fixed swap sequence run four ways on the same machine:
//!
//! 1. bare `granary_engine::amm::get_amount_out` plus the reserve update: the arithmetic limit;
//! 2. the engine's full swap path, `Engine::execute(SwapExactIn)` (id lookups, balances, the K
//!    check, price accumulators, the undo log);
//! 3. the Uniswap V2 pair bytecode on revm: per swap an ERC20 `transfer` into the pair and
//!    `pair.swap`, two committed transactions;
//! 4. uniswappy (Python, integer mode), through `scripts/uniswappy_swaps.py`.
//!
//! The sequence: 100 000 swaps alternating token0 → token1 and token1 → token0, amounts uniform
//! in [1e18, 1e21), on a pool starting at 1e24 / 2e24 with the 0.30 % fee. Bare, engine and revm
//! must end on the same reserves to the wei (the run fails otherwise). Each implementation runs
//! the whole sequence several times from a fresh pool; the median run is reported.
//!
//! Run: `cargo bench -p granary-conformance --bench ratios`. Needs npm (the V2 artifacts are
//! installed on first use) and `pip install uniswappy` for the Python interpreter in
//! `$GRANARY_PYTHON` (default: the venv of `scripts/oracles.sh`, else `python3`). Writes the table
//! to `<target dir>/bench/ratios.md` and its figures to `ratios.json` beside it (for `granary bench
//! all`). `GRANARY_BENCH_QUICK=1`: 20 000 swaps and fewer runs, a check that it all runs.

use alloy_primitives::{Address, U256};
use granary_conformance::oracles;
use granary_conformance::uniswap_v2::{V2Evm, library};
use granary_engine::{Action, Engine, Minter, amm};
use granary_testkit::bench;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

const FEE_BPS: u32 = 30;
const TRADER: Address = Address::with_last_byte(0x7a);

/// The length of the sequence and the runs of each implementation.
struct Sizes {
    swaps: usize,
    bare: usize,
    engine: usize,
    revm: usize,
    uniswappy: usize,
}

const FULL: Sizes = Sizes { swaps: 100_000, bare: 25, engine: 7, revm: 3, uniswappy: 3 };
const QUICK: Sizes = Sizes { swaps: 20_000, bare: 5, engine: 3, revm: 1, uniswappy: 1 };

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn initial_reserves() -> [U256; 2] {
    [e18(1_000_000), e18(2_000_000)]
}

/// The fixed sequence: (direction, amount in); direction 0 = token0 in.
fn sequence(swaps: usize) -> Vec<(usize, U256)> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let lo: u128 = 1_000_000_000_000_000_000; // 1e18
    let span: u128 = 1_000_000_000_000_000_000_000 - lo; // up to 1e21
    (0..swaps)
        .map(|i| {
            // xorshift64*, two draws per amount
            let mut next = || {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                x.wrapping_mul(0x2545_f491_4f6c_dd1d)
            };
            let r = (u128::from(next()) << 64) | u128::from(next());
            (i % 2, U256::from(lo + r % span))
        })
        .collect()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ops_per_s(swaps: usize, d: Duration) -> f64 {
    swaps as f64 / d.as_secs_f64()
}

/// 1. The arithmetic alone.
fn run_bare(seq: &[(usize, U256)], reps: usize) -> (Duration, [U256; 2]) {
    let mut runs = Vec::with_capacity(reps);
    let mut last = [U256::ZERO; 2];
    for _ in 0..reps {
        let mut r = initial_reserves();
        let start = Instant::now();
        for &(dir, amount_in) in seq {
            let (i, o) = (dir, 1 - dir);
            let out = amm::get_amount_out(black_box(amount_in), r[i], r[o], FEE_BPS).expect("bare get_amount_out");
            r[i] += amount_in;
            r[o] -= out;
        }
        runs.push(start.elapsed());
        last = black_box(r);
    }
    (median(runs), last)
}

fn engine_with_pool() -> Engine {
    let mut engine = Engine::new();
    let chain = engine.create_chain("c", 1, "c", 12).expect("chain");
    let funds = e18(1_000_000_000_000);
    for id in ["T0", "T1"] {
        let t = engine.create_token(id, chain, id, 18, Minter::Account(TRADER)).expect("token");
        engine.faucet_mint(t, TRADER, funds).expect("fund");
    }
    engine
        .execute(TRADER, &Action::CreatePool { id: "P".into(), tokens: ["T0".into(), "T1".into()], fee_bps: FEE_BPS })
        .expect("pool");
    engine
        .execute(TRADER, &Action::AddLiquidity { pool: "P".into(), amounts: initial_reserves(), min: [U256::ZERO; 2] })
        .expect("liquidity");
    engine.advance(chain, 12).expect("clock");
    engine
}

/// 2. The engine's full swap path.
fn run_engine(seq: &[(usize, U256)], reps: usize) -> (Duration, [U256; 2]) {
    let actions: Vec<Action> = seq
        .iter()
        .map(|&(dir, amount_in)| Action::SwapExactIn {
            path: vec!["P".into()],
            token_in: ["T0", "T1"][dir].into(),
            amount_in,
            min_out: U256::ZERO,
        })
        .collect();
    let mut runs = Vec::with_capacity(reps);
    let mut last = [U256::ZERO; 2];
    for _ in 0..reps {
        let mut engine = engine_with_pool();
        let start = Instant::now();
        for action in &actions {
            black_box(engine.execute(TRADER, action).expect("engine swap"));
        }
        runs.push(start.elapsed());
        last = engine.pool(0).reserves;
    }
    (median(runs), last)
}

/// 3. The pair bytecode on revm: transfer in, then swap (two committed transactions per swap).
fn run_revm(seq: &[(usize, U256)], artifacts: &oracles::V2CoreArtifacts, reps: usize) -> (Duration, [U256; 2]) {
    let mut runs = Vec::with_capacity(reps);
    let mut last = [U256::ZERO; 2];
    for _ in 0..reps {
        let supply = U256::from(1u8) << 200;
        let mut evm = V2Evm::deploy(artifacts, TRADER, TRADER, supply, 1_700_000_000).expect("deploy");
        let r = initial_reserves();
        let pair = evm.pair;
        evm.transfer(evm.token0, TRADER, pair, r[0]).expect("in");
        evm.transfer(evm.token1, TRADER, pair, r[1]).expect("in");
        evm.mint(TRADER, TRADER).expect("mint");
        evm.set_timestamp(1_700_000_012);
        let mut r = r;
        let start = Instant::now();
        for &(dir, amount_in) in seq {
            let (i, o) = (dir, 1 - dir);
            let out = library::get_amount_out(amount_in, r[i], r[o]).expect("getAmountOut");
            evm.pay_and_swap(TRADER, dir == 0, amount_in, out, TRADER).expect("swap on the pair bytecode");
            r[i] += amount_in;
            r[o] -= out;
        }
        runs.push(start.elapsed());
        last = evm.reserves().0;
        assert_eq!(last, r, "the pair's reserves drifted from the router's view");
    }
    (median(runs), last)
}

struct PyResult {
    ops_per_s: f64,
    reserves: [U256; 2],
    version: String,
    python: String,
}

/// 4. uniswappy, as a subprocess timing its own swap loop.
fn run_uniswappy(seq: &[(usize, U256)], dir: &std::path::Path, reps: usize) -> PyResult {
    let file = dir.join("ratios-sequence.txt");
    let r = initial_reserves();
    let mut text = format!("pool {} {}\n", r[0], r[1]);
    for (d, a) in seq {
        text.push_str(&format!("swap {d} {a}\n"));
    }
    std::fs::write(&file, text).expect("write the swap sequence");
    // The interpreter `scripts/oracles.sh` prepares, unless one is named.
    let venv = granary_conformance::oracles::oracles_dir().join("venv/bin/python");
    let python = std::env::var("GRANARY_PYTHON")
        .unwrap_or_else(|_| if venv.exists() { venv.display().to_string() } else { "python3".to_string() });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/uniswappy_swaps.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&file)
        .args(["--reps", &reps.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    if !out.status.success() {
        panic!(
            "{script} failed ({}):\n{}\nThe ratio benchmark needs uniswappy: pip install uniswappy",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script prints one JSON object");
    let reserve = |i: usize| -> U256 { json["reserves"][i].as_str().and_then(|s| s.parse().ok()).expect("reserves") };
    let version = Command::new(&python)
        .arg("--version")
        .output()
        .map_or_else(|_| python.clone(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    PyResult {
        ops_per_s: json["ops_per_s"].as_f64().expect("ops_per_s"),
        reserves: [reserve(0), reserve(1)],
        version: json["uniswappy_version"].as_str().unwrap_or("?").to_string(),
        python: version,
    }
}

fn main() {
    let artifacts = oracles::v2_core().unwrap_or_else(|e| panic!("{e}"));
    let sizes = if bench::quick() { QUICK } else { FULL };
    let swaps = sizes.swaps;
    let seq = sequence(swaps);
    let out = bench::out_dir();
    std::fs::create_dir_all(&out).expect("the report folder");
    let load_before = bench::load_average();

    let (bare, bare_r) = run_bare(&seq, sizes.bare);
    let (engine, engine_r) = run_engine(&seq, sizes.engine);
    let (revm, revm_r) = run_revm(&seq, &artifacts, sizes.revm);
    let py = run_uniswappy(&seq, &out, sizes.uniswappy);

    assert_eq!(engine_r, bare_r, "engine and bare arithmetic disagree");
    assert_eq!(revm_r, bare_r, "the pair bytecode and bare arithmetic disagree");

    let (bare_ops, engine_ops, revm_ops) = (ops_per_s(swaps, bare), ops_per_s(swaps, engine), ops_per_s(swaps, revm));
    let engine_vs_bare = engine.as_secs_f64() / bare.as_secs_f64();
    let engine_vs_py = engine_ops / py.ops_per_s;
    let engine_vs_revm = engine_ops / revm_ops;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let ns = |ops: f64| 1e9 / ops;
    let py_diff = [py.reserves[0].abs_diff(bare_r[0]), py.reserves[1].abs_diff(bare_r[1])];

    let mut md = String::new();
    md.push_str("# Swap throughput ratios\n\n");
    md.push_str(&format!(
        "{swaps} swaps alternating direction, amounts uniform in [1e18, 1e21), pool starting at \
         1e24 / 2e24, fee {FEE_BPS} bps. Median of {} / {} / {} / {} runs of the whole sequence \
         (bare / engine / revm / uniswappy). CPU: {}, {} logical cores; load average before the \
         run: {load_before}.\n\n",
        sizes.bare,
        sizes.engine,
        sizes.revm,
        sizes.uniswappy,
        bench::cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    ));
    md.push_str("| implementation | ops/s | ns/swap |\n|---|---:|---:|\n");
    let rows = [
        ("bare `amm::get_amount_out` + reserve update".to_string(), bare_ops),
        ("engine `Engine::execute(SwapExactIn)`".to_string(), engine_ops),
        ("Uniswap V2 pair bytecode on revm 43 (transfer + swap)".to_string(), revm_ops),
        (format!("uniswappy {} integer mode ({})", py.version, py.python), py.ops_per_s),
    ];
    for (name, ops) in &rows {
        md.push_str(&format!("| {name} | {ops:.0} | {:.1} |\n", ns(*ops)));
    }
    md.push_str("\n| ratio | measured | goal | |\n|---|---:|---:|---|\n");
    md.push_str(&format!(
        "| engine time / bare time | {engine_vs_bare:.2}× | ≤ 3× | {} |\n",
        verdict(engine_vs_bare <= 3.0)
    ));
    md.push_str(&format!(
        "| engine ops/s / uniswappy ops/s | {engine_vs_py:.1}× | ≥ 50× | {} |\n",
        verdict(engine_vs_py >= 50.0)
    ));
    md.push_str(&format!(
        "| engine ops/s / revm ops/s | {engine_vs_revm:.1}× | ≥ 10× | {} |\n",
        verdict(engine_vs_revm >= 10.0)
    ));
    md.push_str(&format!(
        "\nFinal reserves: bare, engine and the pair bytecode agree to the wei ({} / {}). ",
        bare_r[0], bare_r[1]
    ));
    if py_diff == [U256::ZERO; 2] {
        md.push_str("uniswappy ends on the same reserves.\n");
    } else {
        md.push_str(&format!(
            "uniswappy ends {} / {} wei away from them (its integer `get_amount_out` rounds the \
             division up where Uniswap V2 floors it).\n",
            py_diff[0], py_diff[1]
        ));
    }
    print!("{md}");
    bench::Report::new("ratios")
        .figure("swaps", swaps as f64)
        .figure("bare_ops_per_s", bare_ops)
        .figure("engine_ops_per_s", engine_ops)
        .figure("revm_ops_per_s", revm_ops)
        .figure("uniswappy_ops_per_s", py.ops_per_s)
        .figure("engine_time_over_bare", engine_vs_bare)
        .figure("engine_over_uniswappy", engine_vs_py)
        .figure("engine_over_revm", engine_vs_revm)
        .note("uniswappy", format!("uniswappy {} ({})", py.version, py.python))
        .write(&md);
}
