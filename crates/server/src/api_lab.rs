//! The lab in the API and on the dashboard: `POST /api/simulate` runs a strategy (hodl, lp, farm,
//! stake, vault) as a backtest over real closes or on Monte Carlo paths, with the lab's exact pool
//! math (`granary_lab::run`). Runs are bounded so that one request stays a few seconds of work.

use crate::api::{AppState, body, json_text};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use granary_lab::history::{self, Pair};
use granary_lab::report::Summary;
use granary_lab::run::{self, ModelChoice, MonteCarloAsk};
use granary_lab::strategy::{Config, Strategy};
use granary_lab::{Date, run::RunError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Most Monte Carlo paths one request may ask for.
pub const MAX_PATHS: usize = 2_000;
/// Most days a Monte Carlo path may run.
pub const MAX_DAYS: u32 = 730;
/// Most steps a day in a request (hourly).
pub const MAX_STEPS_PER_DAY: u32 = 24;
/// Most path-steps (paths × days × steps a day) one request may run: under a second of work in a
/// release build (`granary simulate` has no bound).
pub const MAX_PATH_STEPS: u64 = 2_000_000;

/// A simulation request. Absent fields take the lab's defaults (`granary simulate --help`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateBody {
    /// hodl, lp, farm, stake or vault.
    pub strategy: String,
    /// `ETH/USDC`, `BTC/USDT`, `ETH/BTC`, `X/USD`…
    pub pair: Option<String>,
    /// A backtest's window (both), or Monte Carlo's fitting window.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Monte Carlo: the number of paths (absent: a backtest).
    pub paths: Option<usize>,
    pub days: Option<u32>,
    pub seed: Option<u64>,
    /// gbm or bootstrap.
    pub model: Option<String>,
    pub block_days: Option<usize>,
    pub steps_per_day: Option<u32>,
    pub deposit_usd: Option<f64>,
    pub chain: Option<String>,
    pub fee_bps: Option<u32>,
    /// Noise volume a day as a share of the pool's TVL.
    pub volume: Option<f64>,
    pub reward_apr: Option<f64>,
    pub harvest_days: Option<u32>,
    pub compound_days: Option<u32>,
    pub stake_apr: Option<f64>,
    pub term_days: Option<u32>,
    pub penalty_bps: Option<u32>,
    pub exit_day: Option<u32>,
}

/// What a run answers: its summary and the series to chart.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateResult {
    pub summary: Summary,
    /// Backtest: each day's date, value and HODL value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<(String, f64, f64)>>,
    /// Monte Carlo: each day's p5, p25, p50, p75, p95 of the value and the median HODL value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan: Option<Vec<[f64; 6]>>,
    /// Monte Carlo: every path's final value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finals: Option<Vec<f64>>,
}

fn bad(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_field(field, why)
}

fn lab_error(e: RunError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "simulation_refused", e.0)
}

/// A well-formed request the lab cannot run (a field combination, a calendar date that does not
/// exist, a pair with no shipped series, too much work): 422, naming the field.
fn refused(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "simulation_refused", format!("`{field}` {why}")).field(field)
}

fn date(field: &str, s: &Option<String>) -> Result<Option<Date>, ApiError> {
    s.as_deref().filter(|s| !s.is_empty()).map(|v| Date::parse(v).map_err(|e| refused(field, e))).transpose()
}

fn finite(field: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<Option<f64>, ApiError> {
    match v {
        Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => Err(bad(field, format!("must be in {lo}..={hi}"))),
        v => Ok(v),
    }
}

/// Check the request and run it (blocking: call from a blocking thread).
pub fn run_request(b: &SimulateBody) -> Result<SimulateResult, ApiError> {
    let strategy = match b.strategy.as_str() {
        "hodl" => Strategy::Hodl,
        "lp" => Strategy::Lp,
        "farm" => Strategy::Farm,
        "stake" => Strategy::Stake,
        "vault" => Strategy::Vault,
        s => return Err(bad("strategy", format!("`{s}` is not a strategy: use hodl, lp, farm, stake or vault"))),
    };
    let deposit = finite("deposit_usd", b.deposit_usd, 1.0, 1e9)?.unwrap_or(10_000.0);
    let chain = history::chain(b.chain.as_deref().unwrap_or("ethereum")).map_err(|e| bad("chain", e))?;
    let pair = Pair::load(b.pair.as_deref().unwrap_or("ETH/USDC")).map_err(|e| refused("pair", e))?;
    let mut c = Config::new(strategy, deposit);
    c.pool_usd = 10.0 * deposit;
    if let Some(f) = b.fee_bps {
        if f > 1_000 {
            return Err(bad("fee_bps", "must be at most 1000"));
        }
        c.fee_bps = f;
    }
    if let Some(v) = finite("volume", b.volume, 0.0, 10.0)? {
        c.volume_share = v;
    }
    if let Some(r) = finite("reward_apr", b.reward_apr, 0.0, 100.0)? {
        c.reward.apr = r;
    }
    if let Some(h) = b.harvest_days {
        c.harvest_days = h;
    }
    if let Some(h) = b.compound_days {
        c.compound_days = h;
    }
    if let Some(r) = finite("stake_apr", b.stake_apr, 0.0, 100.0)? {
        c.stake.apr = r;
    }
    if let Some(t) = b.term_days {
        c.stake.term_days = t;
    }
    if let Some(p) = b.penalty_bps {
        if p > 10_000 {
            return Err(bad("penalty_bps", "must be at most 10000"));
        }
        c.stake.penalty_bps = Some(p);
    }
    c.stake.exit_day = b.exit_day;
    c.gas = chain.gas();
    c.validate().map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "simulation_refused", e.to_string()))?;
    let spd = b.steps_per_day.unwrap_or(1);
    if spd == 0 || spd > MAX_STEPS_PER_DAY {
        return Err(bad("steps_per_day", format!("must be in 1..={MAX_STEPS_PER_DAY}")));
    }
    let (from, to) = (date("from", &b.from)?, date("to", &b.to)?);
    match b.paths {
        None => {
            let (Some(from), Some(to)) = (from, to) else {
                return Err(refused(
                    "from",
                    "and `to` are needed for a backtest (YYYY-MM-DD); or give `paths` for Monte Carlo",
                ));
            };
            let r = run::backtest(&c, &pair, &chain, (from, to), spd, None, true).map_err(lab_error)?;
            let days = r
                .dates
                .iter()
                .zip(r.outcome.daily_value.iter())
                .zip(r.outcome.daily_hodl.iter())
                .map(|((d, v), h)| (d.clone(), *v, *h))
                .collect();
            Ok(SimulateResult { summary: r.summary, days: Some(days), fan: None, finals: None })
        }
        Some(paths) => {
            let days = b.days.unwrap_or(365);
            if paths == 0 || paths > MAX_PATHS {
                return Err(bad("paths", format!("must be in 1..={MAX_PATHS}")));
            }
            if days == 0 || days > MAX_DAYS {
                return Err(bad("days", format!("must be in 1..={MAX_DAYS}")));
            }
            let work = paths as u64 * u64::from(days) * u64::from(spd);
            if work > MAX_PATH_STEPS {
                return Err(refused(
                    "paths",
                    format!(
                        "× days × steps_per_day is {work}, above {MAX_PATH_STEPS}: ask for fewer paths or steps here, or use `granary simulate`"
                    ),
                ));
            }
            let model = match b.model.as_deref().unwrap_or("gbm") {
                "gbm" => ModelChoice::Gbm { mu: None, sigma: None },
                "bootstrap" => ModelChoice::Bootstrap { block_days: b.block_days.unwrap_or(10) },
                m => return Err(bad("model", format!("`{m}` is not a model: use gbm or bootstrap"))),
            };
            let ask = MonteCarloAsk {
                paths,
                days,
                steps_per_day: spd,
                seed: b.seed.unwrap_or(1),
                model,
                from,
                to,
                native_from_path: true,
            };
            let r = run::monte_carlo(&c, &pair, &chain, &ask, &|| {}).map_err(lab_error)?;
            let finals = r.outcomes.iter().map(|o| o.final_value).collect();
            Ok(SimulateResult { summary: r.summary, days: None, fan: Some(r.fan.days), finals: Some(finals) })
        }
    }
}

pub async fn simulate(State(_app): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let req: SimulateBody = body(&bytes)?;
    let r = tokio::task::spawn_blocking(move || run_request(&req))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let text = serde_json::to_string(&r).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_text(StatusCode::OK, text))
}

/// The request's schema for the OpenAPI document.
pub fn request_schema() -> Value {
    let int = |d: &str| json!({"type": "integer", "minimum": 0, "maximum": 36_500, "description": d});
    json!({
        "type": "object",
        "required": ["strategy"],
        "additionalProperties": false,
        "properties": {
            "strategy": {"type": "string", "enum": ["hodl", "lp", "farm", "stake", "vault"]},
            "pair": {"type": "string", "description": "ETH/USDC, BTC/USDT, ETH/BTC, X/USD…"},
            "from": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "to": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "paths": {"type": "integer", "minimum": 1, "maximum": MAX_PATHS, "description": "Monte Carlo paths; absent: a backtest over from..to"},
            "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
            "seed": {"type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991u64, "description": "Monte Carlo seed"},
            "model": {"type": "string", "enum": ["gbm", "bootstrap"]},
            "block_days": {"type": "integer", "minimum": 1, "maximum": 3650},
            "steps_per_day": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS_PER_DAY},
            "deposit_usd": {"type": "number", "minimum": 1, "maximum": 1e9, "description": "USD deposited"},
            "chain": {"type": "string", "enum": ["ethereum", "bsc", "polygon", "arbitrum", "base", "avalanche"]},
            "fee_bps": {"type": "integer", "minimum": 0, "maximum": 1000},
            "volume": {"type": "number", "minimum": 0, "maximum": 10, "description": "Noise volume a day as a share of TVL"},
            "reward_apr": {"type": "number", "minimum": 0, "maximum": 100, "description": "farm/vault reward APR as a fraction (0.4 = 40 %)"},
            "harvest_days": int("farm: harvest every N days"),
            "compound_days": int("vault: compound every N days"),
            "stake_apr": {"type": "number", "minimum": 0, "maximum": 100, "description": "stake APR as a fraction"},
            "term_days": int("stake lock term"),
            "penalty_bps": {"type": "integer", "minimum": 0, "maximum": 10000},
            "exit_day": int("stake: leave on this day")
        }
    })
}

/// The response's schema (abridged) for the OpenAPI document.
pub fn response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["summary"],
        "properties": {
            "summary": {"type": "object"},
            "days": {"type": "array", "items": {"type": "array"}},
            "fan": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "finals": {"type": "array", "items": {"type": "number"}}
        }
    })
}
