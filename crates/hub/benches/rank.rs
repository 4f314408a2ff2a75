//! Rank and filter 100 000 opportunities (SPEC §6), and the same ranking with pandas in the same
//! run: `cargo bench -p granary-hub --bench rank`. The pandas peer runs `scripts/rank_pandas.py` on
//! the interpreter of `scripts/oracles.sh` (or `$GRANARY_PYTHON`); it is installed from PyPI by
//! that script, never committed. The table is written to `<target dir>/bench/rank.md` and its
//! figures to `rank.json` beside it (for `granary bench all`). `GRANARY_BENCH_QUICK=1`: 3 runs
//! instead of 7 (the same 100 000 opportunities).

use granary_hub::market::{Compounding, ExitRule, Kind, Lockup, Opportunity, Target};
use granary_hub::rank::{Filter, SortKey, rank};
use granary_testkit::bench;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

const N: usize = 100_000;
const RUNS: usize = 7;
const QUICK_RUNS: usize = 3;
const CHAINS: [&str; 6] = ["ethereum", "bnb", "polygon", "arbitrum", "base", "avalanche"];

/// A deterministic generator (SplitMix64), so both sides rank the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn opportunities() -> Vec<Opportunity> {
    let mut r = Rng(42);
    (0..N)
        .map(|i| {
            let apy = (r.unit() * 6.0).exp() - 1.0;
            let grade = b"ABCDEF"[(r.next() % 6) as usize] as char;
            let lockup = [0u32, 0, 7, 30, 90, 180, 365][(r.next() % 7) as usize];
            Opportunity {
                id: format!("opp-{i:06}"),
                kind: [Kind::LpFarm, Kind::SingleStake, Kind::PlainLp][(r.next() % 3) as usize],
                chain: CHAINS[(r.next() % 6) as usize].to_string(),
                chain_id: 1,
                project: format!("p{}", r.next() % 500),
                symbol: "WETH-USDC".into(),
                tvl_usd: (r.unit() * 20.0).exp(),
                apr_base: Some(apy / 3.0),
                apr_base_7d: None,
                apr_reward: Some(apy * 2.0 / 3.0),
                apy,
                base_compounding: Compounding::None,
                volume_usd_1d: None,
                volume_usd_7d: None,
                reward_tokens: vec![],
                underlying_tokens: vec![],
                lockup: Lockup { days: lockup, early_exit: ExitRule::Free },
                il_risk: true,
                stablecoin: false,
                grade: Some(grade),
                risk_score: None,
                apy_risk_adjusted: Some(apy * (1.0 - 0.1 * f64::from(grade as u8 - b'A'))),
                as_of: 0,
                window_s: 0,
                flags: vec![],
                target: Target::Pool { ix: i },
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runs = if bench::quick() { QUICK_RUNS } else { RUNS };
    let opps = opportunities();
    let filter =
        Filter { min_tvl_usd: Some(1_000_000.0), max_lockup_days: Some(90), min_grade: Some('C'), ..Filter::default() };
    // The peer keeps chain != bnb; do the same here with a wrapper filter on top.
    let run = |by: SortKey| {
        let kept = rank(&opps, &filter, by);
        kept.into_iter().filter(|o| o.chain != "bnb").map(|o| o.id.as_str()).collect::<Vec<_>>()
    };
    let csv = std::env::temp_dir().join(format!("granary-rank-{}.csv", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).expect("csv"));
        writeln!(f, "id,chain,tvl_usd,apy,apy_risk_adjusted,lockup_days,grade").expect("write");
        for o in &opps {
            writeln!(
                f,
                "{},{},{},{},{},{},{}",
                o.id,
                o.chain,
                o.tvl_usd,
                o.apy,
                o.apy_risk_adjusted.unwrap_or(0.0),
                o.lockup.days,
                o.grade.unwrap_or('F')
            )
            .expect("write");
        }
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.oracles/venv/bin/python");
    let python = std::env::var("GRANARY_PYTHON")
        .unwrap_or_else(|_| if venv.exists() { venv.display().to_string() } else { "python3".into() });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rank_pandas.py");
    let peer = std::process::Command::new(&python).arg(&script).arg(&csv).arg(runs.to_string()).output();
    let peer: Option<serde_json::Value> = match peer {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).ok(),
        Ok(o) => {
            eprintln!("pandas peer failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("pandas peer did not start ({python}): {e}");
            None
        }
    };
    let _ = std::fs::remove_file(&csv);
    let mut md = format!("# Ranking {N} opportunities\n\n");
    let _ = writeln!(
        md,
        "Filter: TVL ≥ $1M, lock-up ≤ 90 days, grade C or better, chain ≠ bnb; sort descending, ties by id. Median of {runs} runs.\n"
    );
    md.push_str("| sort | kept | granary (ms) | pandas (ms) | pandas / granary |\n");
    md.push_str("|---|---:|---:|---:|---:|\n");
    let mut report = bench::Report::new("rank");
    report.figure("opportunities", N as f64);
    if let Some(v) = peer.as_ref().and_then(|p| p["pandas_version"].as_str()) {
        report.note("pandas", format!("pandas {v}"));
    }
    let mut slowest_ratio = f64::INFINITY;
    for (name, by) in [("apy", SortKey::Apy), ("risk_adjusted_apy", SortKey::RiskAdjustedApy), ("tvl", SortKey::Tvl)] {
        let mut times = Vec::new();
        let mut kept = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            kept = run(by);
            times.push(t.elapsed().as_secs_f64());
        }
        let ours = median(times);
        let (theirs, same) = match &peer {
            Some(p) => {
                let s = p[name]["median_s"].as_f64().unwrap_or(f64::NAN);
                let same = p[name]["kept"].as_u64() == Some(kept.len() as u64)
                    && p[name]["first"].as_str() == kept.first().copied();
                (s, same)
            }
            None => (f64::NAN, false),
        };
        assert!(peer.is_none() || same, "pandas and granary disagree on the {name} ranking");
        let ratio = theirs / ours;
        let _ = writeln!(md, "| {name} | {} | {:.2} | {:.2} | {:.1}× |", kept.len(), ours * 1e3, theirs * 1e3, ratio);
        report.figure(&format!("{name}_granary_ms"), ours * 1e3);
        report.figure(&format!("{name}_pandas_ms"), theirs * 1e3);
        slowest_ratio = slowest_ratio.min(ratio);
    }
    // The least favourable of the three sorts: the figure the summary quotes (NaN without pandas).
    report.figure("pandas_over_granary_min", slowest_ratio);
    if peer.is_none() {
        md.push_str("\n(pandas was not available: run scripts/oracles.sh)\n");
    }
    print!("{md}");
    report.write(&md);
}
