//! A whole simulation as the CLI (`granary simulate`) and the dashboard's lab page run it: load
//! the pair's real closes, cut the window, step the prices, run the strategy on history or on
//! Monte Carlo paths, and summarise. Output files and charts are left to the caller.

use crate::date::Date;
use crate::history::{self, ChainGas, Pair};
use crate::montecarlo::{self, Model, Spec};
use crate::report::{Fan, RunInfo, Summary};
use crate::strategy::{Config, Outcome, Prepared, PricePath};
use std::fmt;

/// Why a run could not be made; the message names the option and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError(pub String);

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

fn err(e: impl fmt::Display) -> RunError {
    RunError(e.to_string())
}

/// Most steps per day (one a minute).
pub const MAX_STEPS_PER_DAY: u32 = 1440;

/// A backtest over real closes, day by day.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub summary: Summary,
    /// `YYYY-MM-DD` of every day of the window.
    pub dates: Vec<String>,
    pub outcome: Outcome,
}

/// Run `config` on the pair's real closes from `from` to `to`. `reward_token` prices rewards
/// from a shipped series instead of the emission decay; `native_from_history` charges gas at the
/// chain's native token's close of each day (else at the configured price).
pub fn backtest(
    config: &Config,
    pair: &Pair,
    chain: &ChainGas,
    (from, to): (Date, Date),
    steps_per_day: u32,
    reward_token: Option<&str>,
    native_from_history: bool,
) -> Result<Backtest, RunError> {
    config.validate().map_err(err)?;
    if steps_per_day == 0 || steps_per_day > MAX_STEPS_PER_DAY {
        return Err(RunError(format!("steps per day must be in 1..={MAX_STEPS_PER_DAY}, got {steps_per_day}")));
    }
    let (dates, a, b) = pair.window(from, to).map_err(err)?;
    let (pa, pb) = (history::stepped(&a, steps_per_day), history::stepped(&b, steps_per_day));
    let reward = match reward_token {
        None => None,
        Some(sym) => {
            let sym = sym.to_ascii_uppercase();
            let closes = history::closes_on(&sym, &dates).ok_or_else(|| {
                RunError(format!(
                    "reward token {sym}: no shipped series covers {from}..={to}; pick another token or leave it out"
                ))
            })?;
            Some(history::stepped(&closes, steps_per_day))
        }
    };
    let native = if native_from_history {
        history::closes_on(chain.native, &dates).map(|c| history::stepped(&c, steps_per_day))
    } else {
        None
    };
    let days = u32::try_from(dates.len().saturating_sub(1)).map_err(|_| RunError("the window is too long".into()))?;
    let prepared = Prepared::new(config, days, false).map_err(err)?;
    let path = PricePath { steps_per_day, a: &pa, b: &pb, reward: reward.as_deref(), native: native.as_deref() };
    let outcome = prepared.run(&path).map_err(err)?;
    let info = RunInfo {
        strategy: config.strategy.name().into(),
        mode: "backtest".into(),
        pair: pair.name.clone(),
        chain: chain.name.into(),
        from: from.to_string(),
        to: to.to_string(),
        model: "history".into(),
        paths: 1,
        days,
        steps_per_day,
        seed: None,
        deposit_usd: config.deposit_usd,
    };
    let summary = Summary::new(info, std::slice::from_ref(&outcome));
    Ok(Backtest { summary, dates: dates.iter().map(Date::to_string).collect(), outcome })
}

/// Which price model drives Monte Carlo paths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModelChoice {
    /// Geometric Brownian motion fitted on the window; `mu`/`sigma` (annualised) override the
    /// volatile token's fitted drift and volatility.
    Gbm { mu: Option<f64>, sigma: Option<f64> },
    /// Blocks of `block_days` real daily returns, drawn with replacement.
    Bootstrap { block_days: usize },
}

/// What a Monte Carlo run asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonteCarloAsk {
    pub paths: usize,
    pub days: u32,
    pub steps_per_day: u32,
    pub seed: u64,
    pub model: ModelChoice,
    /// The fitting window (default: all the days the pair's two series share).
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Gas is charged at the volatile token's simulated price when it is the chain's native one.
    pub native_from_path: bool,
}

/// A Monte Carlo run: the summary over paths, the fan of values by day, every path's outcome.
#[derive(Debug, Clone)]
pub struct MonteCarlo {
    pub summary: Summary,
    pub fan: Fan,
    pub outcomes: Vec<Outcome>,
    pub spec: Spec,
    pub from: Date,
    pub to: Date,
}

/// Run `config` on Monte Carlo paths; `progress` is called once per finished path (any thread).
pub fn monte_carlo(
    config: &Config,
    pair: &Pair,
    chain: &ChainGas,
    ask: &MonteCarloAsk,
    progress: &(dyn Fn() + Sync),
) -> Result<MonteCarlo, RunError> {
    config.validate().map_err(err)?;
    let (all_dates, _, _) = pair.aligned();
    let (Some(first), Some(last)) = (all_dates.first().copied(), all_dates.last().copied()) else {
        return Err(RunError(format!("{}: the two series share no day", pair.name)));
    };
    let from = ask.from.unwrap_or(first);
    let to = ask.to.unwrap_or(last);
    let (_, a, b) = pair.window(from, to).map_err(err)?;
    let model = match ask.model {
        ModelChoice::Gbm { mu: m, sigma: s } => {
            let mut model = Model::fit_gbm(&a, &b).map_err(err)?;
            if let Model::Gbm { mu, sigma, .. } = &mut model {
                if let Some(m) = m {
                    mu[0] = m / 365.0;
                }
                if let Some(s) = s {
                    sigma[0] = s / 365f64.sqrt();
                }
            }
            model
        }
        ModelChoice::Bootstrap { block_days } => Model::bootstrap(&a, &b, block_days).map_err(err)?,
    };
    let (Some(&a_last), Some(&b_last)) = (a.last(), b.last()) else {
        return Err(RunError(format!("{}: no closes in {from}..={to}", pair.name)));
    };
    let spec = Spec {
        paths: ask.paths,
        days: ask.days,
        steps_per_day: ask.steps_per_day,
        seed: ask.seed,
        start: [a_last, b_last],
        model,
    };
    spec.validate().map_err(err)?;
    let native_from_a = ask.native_from_path && pair.name.split('/').next() == Some(chain.native);
    let prepared = Prepared::new(config, ask.days, native_from_a).map_err(err)?;
    let outcomes = montecarlo::run(&prepared, &spec, progress).map_err(err)?;
    let info = RunInfo {
        strategy: config.strategy.name().into(),
        mode: "montecarlo".into(),
        pair: pair.name.clone(),
        chain: chain.name.into(),
        from: from.to_string(),
        to: to.to_string(),
        model: spec.model.name().into(),
        paths: ask.paths,
        days: ask.days,
        steps_per_day: ask.steps_per_day,
        seed: Some(ask.seed),
        deposit_usd: config.deposit_usd,
    };
    let summary = Summary::new(info, &outcomes);
    let fan = Fan::new(&outcomes);
    Ok(MonteCarlo { summary, fan, outcomes, spec, from, to })
}
