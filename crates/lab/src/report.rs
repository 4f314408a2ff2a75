//! Summaries of simulation outcomes: the statistics, the text table, the CSV files and the JSON.
//!
//! Percentiles are numpy's default (`linear`): the `q`-quantile of `n` sorted values is the value
//! at fractional rank `q·(n − 1)`, interpolated between its two neighbours. Every reduction runs
//! sequentially over outcomes in path order, so the same outcomes give the same bytes.

use crate::strategy::Outcome;
use serde::Serialize;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// Mean and percentiles of one figure across paths (all equal for a single backtest).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

impl Stat {
    pub fn of(values: &[f64]) -> Stat {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
        Stat { mean, p5: percentile(&v, 0.05), p50: percentile(&v, 0.50), p95: percentile(&v, 0.95) }
    }
}

/// The `q`-quantile of sorted values, numpy's `linear` method.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
        }
    }
}

/// What was run (echoed in the table, the CSV and the JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    pub strategy: String,
    /// "backtest" or "montecarlo".
    pub mode: String,
    pub pair: String,
    pub chain: String,
    /// The backtest window, or the fitting window of a Monte Carlo model.
    pub from: String,
    pub to: String,
    /// "history" for a backtest, else the Monte Carlo model (gbm, bootstrap).
    pub model: String,
    pub paths: usize,
    pub days: u32,
    pub steps_per_day: u32,
    pub seed: Option<u64>,
    pub deposit_usd: f64,
}

/// The summary of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub info: RunInfo,
    pub final_value_usd: Stat,
    pub hodl_value_usd: Stat,
    /// `100·(final / deposit − 1)`.
    pub return_pct: Stat,
    /// `100·(final / hodl − 1)`.
    pub return_vs_hodl_pct: Stat,
    pub il_pct: Stat,
    pub fees_usd: Stat,
    pub arb_fees_usd: Stat,
    pub rewards_usd: Stat,
    pub gas_usd: Stat,
    pub penalty_usd: Stat,
    pub max_drawdown_pct: Stat,
    /// Share of paths that end below the deposit.
    pub prob_loss: f64,
    /// Share of paths that end below HODL.
    pub prob_below_hodl: f64,
}

impl Summary {
    pub fn new(info: RunInfo, outcomes: &[Outcome]) -> Summary {
        let stat = |f: &dyn Fn(&Outcome) -> f64| Stat::of(&outcomes.iter().map(f).collect::<Vec<_>>());
        let n = outcomes.len().max(1) as f64;
        let dep = info.deposit_usd;
        Summary {
            final_value_usd: stat(&|o| o.final_value),
            hodl_value_usd: stat(&|o| o.hodl_value),
            return_pct: stat(&|o| o.return_pct(dep)),
            return_vs_hodl_pct: stat(&|o| o.return_vs_hodl_pct()),
            il_pct: stat(&|o| o.il_pct),
            fees_usd: stat(&|o| o.fees_usd),
            arb_fees_usd: stat(&|o| o.arb_fees_usd),
            rewards_usd: stat(&|o| o.rewards_usd),
            gas_usd: stat(&|o| o.gas_usd),
            penalty_usd: stat(&|o| o.penalty_usd),
            max_drawdown_pct: stat(&|o| o.max_drawdown_pct),
            prob_loss: outcomes.iter().filter(|o| o.final_value < dep).count() as f64 / n,
            prob_below_hodl: outcomes.iter().filter(|o| o.final_value < o.hodl_value).count() as f64 / n,
            info,
        }
    }

    fn rows(&self) -> [(&'static str, &Stat); 11] {
        [
            ("final value (USD)", &self.final_value_usd),
            ("HODL value (USD)", &self.hodl_value_usd),
            ("return (%)", &self.return_pct),
            ("return vs HODL (%)", &self.return_vs_hodl_pct),
            ("impermanent loss (%)", &self.il_pct),
            ("fees, noise (USD)", &self.fees_usd),
            ("fees, arbitrage (USD)", &self.arb_fees_usd),
            ("rewards (USD)", &self.rewards_usd),
            ("gas (USD)", &self.gas_usd),
            ("early-exit penalty (USD)", &self.penalty_usd),
            ("max drawdown (%)", &self.max_drawdown_pct),
        ]
    }

    /// The text table.
    pub fn table(&self) -> String {
        let i = &self.info;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {} on {} ({}), {} {}..{}, {} day(s) × {} step(s)/day, deposit ${:.2}",
            i.strategy, i.mode, i.pair, i.chain, i.model, i.from, i.to, i.days, i.steps_per_day, i.deposit_usd
        );
        if i.mode == "montecarlo" {
            let _ = writeln!(s, "{} paths, seed {}", i.paths, i.seed.unwrap_or(0));
            let _ = writeln!(s, "{:<26} {:>14} {:>14} {:>14} {:>14}", "", "mean", "p5", "p50", "p95");
            for (name, st) in self.rows() {
                let _ = writeln!(s, "{name:<26} {:>14.2} {:>14.2} {:>14.2} {:>14.2}", st.mean, st.p5, st.p50, st.p95);
            }
            let _ = writeln!(s, "{:<26} {:>14.4}", "probability of loss", self.prob_loss);
            let _ = writeln!(s, "{:<26} {:>14.4}", "probability below HODL", self.prob_below_hodl);
        } else {
            for (name, st) in self.rows() {
                let _ = writeln!(s, "{name:<26} {:>14.2}", st.p50);
            }
        }
        s
    }

    /// `summary.csv`: `metric,mean,p5,p50,p95`, then the two probabilities (in `mean`).
    pub fn csv(&self) -> String {
        let mut s = String::from("metric,mean,p5,p50,p95\n");
        let keys = [
            "final_value_usd",
            "hodl_value_usd",
            "return_pct",
            "return_vs_hodl_pct",
            "il_pct",
            "fees_usd",
            "arb_fees_usd",
            "rewards_usd",
            "gas_usd",
            "penalty_usd",
            "max_drawdown_pct",
        ];
        for (key, (_, st)) in keys.iter().zip(self.rows()) {
            let _ = writeln!(s, "{key},{},{},{},{}", st.mean, st.p5, st.p50, st.p95);
        }
        let _ = writeln!(s, "prob_loss,{},,,", self.prob_loss);
        let _ = writeln!(s, "prob_below_hodl,{},,,", self.prob_below_hodl);
        s
    }
}

/// `paths.csv`: one row per path.
pub fn paths_csv(outcomes: &[Outcome]) -> String {
    let mut s = String::from(
        "path,final_value_usd,hodl_value_usd,return_vs_hodl_pct,il_pct,fees_usd,arb_fees_usd,rewards_usd,gas_usd,penalty_usd,max_drawdown_pct\n",
    );
    for (i, o) in outcomes.iter().enumerate() {
        let _ = writeln!(
            s,
            "{i},{},{},{},{},{},{},{},{},{},{}",
            o.final_value,
            o.hodl_value,
            o.return_vs_hodl_pct(),
            o.il_pct,
            o.fees_usd,
            o.arb_fees_usd,
            o.rewards_usd,
            o.gas_usd,
            o.penalty_usd,
            o.max_drawdown_pct
        );
    }
    s
}

/// The per-day band of values across paths: p5, p25, p50, p75, p95 of the strategy and p50 of
/// HODL, for each day.
#[derive(Debug, Clone, PartialEq)]
pub struct Fan {
    pub days: Vec<[f64; 6]>,
}

impl Fan {
    pub fn new(outcomes: &[Outcome]) -> Fan {
        let n_days = outcomes.iter().map(|o| o.daily_value.len()).min().unwrap_or(0);
        let mut days = Vec::with_capacity(n_days);
        let mut v = Vec::with_capacity(outcomes.len());
        let mut h = Vec::with_capacity(outcomes.len());
        for d in 0..n_days {
            v.clear();
            h.clear();
            v.extend(outcomes.iter().map(|o| o.daily_value[d]));
            h.extend(outcomes.iter().map(|o| o.daily_hodl[d]));
            v.sort_by(f64::total_cmp);
            h.sort_by(f64::total_cmp);
            let p = |q| percentile(&v, q);
            days.push([p(0.05), p(0.25), p(0.5), p(0.75), p(0.95), percentile(&h, 0.5)]);
        }
        Fan { days }
    }

    /// `days.csv` of a Monte Carlo run.
    pub fn csv(&self) -> String {
        let mut s = String::from("day,p5,p25,p50,p75,p95,hodl_p50\n");
        for (d, r) in self.days.iter().enumerate() {
            let _ = writeln!(s, "{d},{},{},{},{},{},{}", r[0], r[1], r[2], r[3], r[4], r[5]);
        }
        s
    }
}

/// `days.csv` of a backtest: the value and HODL on each date.
pub fn backtest_days_csv(dates: &[String], outcome: &Outcome) -> String {
    let mut s = String::from("day,date,value_usd,hodl_usd\n");
    for (d, (v, h)) in outcome.daily_value.iter().zip(&outcome.daily_hodl).enumerate() {
        let date = dates.get(d).map_or("", String::as_str);
        let _ = writeln!(s, "{d},{date},{v},{h}");
    }
    s
}

/// Writes `files` (name, contents) into `dir`, creating it. Returns the paths written.
pub fn write_files(dir: &Path, files: &[(&str, String)]) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text)?;
        out.push(p);
    }
    Ok(out)
}
