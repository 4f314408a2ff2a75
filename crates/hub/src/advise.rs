//! Diversification advice: given holdings (`ETH=10,USDC=5000`), a horizon and a risk tolerance,
//! an allocation across the hub's opportunities that maximises risk-adjusted net earnings under
//! constraints, each line explained. Pure and deterministic: it reads the engine (pools, gas
//! prices, staking weights) and the assessed opportunities, never writes, and the same inputs give
//! the same advice bit for bit. `docs/advise.md` states the model with a worked example.
//!
//! # The model, per line (an opportunity)
//!
//! A line takes `x` USD of holdings (from one or more of them) and deploys `d` of it:
//!
//! ```text
//! d = Σ_sources (x_h − swap fees − price impact − bridge fee − entry gas of the route)
//!     − entry gas of the opportunity − deposit fee
//! ```
//!
//! Swaps are quoted on the real pools' reserves (constant product, each hop keeping its fee);
//! the fee is `amount_in · fee` at the input's price, the impact is what the execution loses
//! against the spot price. A holding on another chain (or whose asset the opportunity's chain
//! lacks) is swapped to a carried asset, bridged (`BridgeModel`: a share of the amount plus a
//! fixed fee, and the bridge transaction's gas on the source chain), then swapped to the
//! opportunity's tokens; the carried asset is the cheapest of those both chains hold.
//!
//! Your own money dilutes what you earn (the real effect, not a penalty): rewards and fees are
//! shared pro rata, so after depositing `d` into something with `V` in it
//!
//! ```text
//! apr_reward(d) = apr_reward · V_w / (V_w + b·d)    (b: a staking term's boost; 1 for a farm)
//! apr_base(d)   = apr_base · V_pool / (V_pool + d)   (trading fees of the pool underneath)
//! ```
//!
//! and the rewards are capped by what selling them through the reward token's pool fetches
//! ([`crate::assess::ExitLiquidity`]). The earnings over `T = horizon_days / 365` years are
//! concave in `d`, so money spreads over lines as it grows. Then, with the terms of
//! `docs/risk.md` at this size and horizon:
//!
//! ```text
//! r(d)     = apr_base(d) + apr_reward(d) − expected_il_apr − reward_decay_apr(d) − expected_loss_apr
//! median   = d · r(d) · T − (x − d) − exit gas − harvests · harvest gas
//! bad case = the p5 outcome (see below), never above the median
//! objective = (1 − λ) · median + λ · bad case        (λ: the tolerance's bad-case weight)
//! ```
//!
//! The "median" is the risk-adjusted expectation net of every cost (prices are taken as driftless,
//! so the expected value and the median of the price terms coincide to first order).
//!
//! # The bad case (≈ the 5th percentile)
//!
//! A loss event of the grade (exploit, rug) happens over the horizon with `q = 1 − (1 − p)^T`
//! ([`crate::riskadj::GRADE_LOSS_TABLE`]). If `q ≥ 5 %`, the 5th percentile falls among the
//! events: the bad case loses `LGD · d`. Otherwise it is the no-event outcome at the quantile
//! `α' = (5 % − q) / (1 − q)` of the price moves: `z = Φ⁻¹(1 − α'/2)` (≈ 1.96, the "2σ move",
//! two-sided because IL is symmetric in the log price ratio), and
//!
//! ```text
//! bad = d·T·(apr_base(d) + apr_reward(d)·end_factor) − principal_share·(1 − end_factor)·d
//!       − d·|IL(e^{z·σ_r·√T})| − d·max(0, e^{−z·σ_s·√T} − e^{−z·σ_p·√T})
//!       − (x − d) − exit and harvest gas
//! ```
//!
//! `σ_r` is the pool's measured (or assumed) ratio volatility and `end_factor` the reward
//! token's price at the horizon from its emissions. The last price term is the tail risk the
//! position *adds* in USD over the holdings that fund it: `σ_p` is the USD volatility of the
//! position's assets (a 50/50 basket for an LP), `σ_s` that of the funding holdings, each
//! `√(wᵀ·Cov·w)` with `Cov_ij = (σ_i² + σ_j² − V_ij)/2` and `V_ij` the variance of the log ratio
//! of assets `i` and `j` (measured on a pool pairing them, else `σ_i² + σ_j²`: uncorrelated).
//! Moving USDC into an ETH pair adds the fall of ETH; moving ETH into ETH/USDC lowers the USD
//! risk and adds nothing (it is never a credit). IL and the added fall are taken at the same
//! quantile, as if the moves coincided, which overstates the tail a little.
//!
//! # The optimisation
//!
//! Greedy marginal allocation in steps of `Δ = total / 200` (at least $1): at each step, every
//! (holding, opportunity) pair that every constraint admits is weighed by its gain in objective
//! per dollar; a pair not yet open is weighed over lots of `Δ, 2Δ, 4Δ, …` (its fixed costs —
//! gas, the bridge's fixed fee — need a lot to pay off) and the best lot taken. It stops when no
//! step gains. Constraints, checked before every step: the holding's remainder, the per-protocol
//! and per-chain caps (shares of the holdings' total value), the share of the opportunity's TVL,
//! the minimum grade, lock-up ≤ horizon, and a line's median stays positive (a line whose gas and
//! costs eat its yield is never opened).

use crate::assess::{ExitLiquidity, MIN_SAMPLES, Plan, Terms, gas_usd, ratio_volatility};
use crate::history::History;
use crate::il::il_closed_form;
use crate::market::{Kind, Opportunity, Target, pool_tvl};
use crate::prices::{PriceBook, PriceSource, to_f64};
use crate::riskadj::{Exposure, Grade, average_emission_price_factor, emission_price_factor, grade_loss};
use crate::{assess, riskadj};
use granary_engine::Engine;
use granary_engine::state::{Minter, gas};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Quantile of the bad case.
pub const BAD_CASE_QUANTILE: f64 = 0.05;
/// Steps the holdings' total value is cut into (Δ = total / STEPS).
pub const STEPS: f64 = 200.0;
/// Longest swap path searched (pools).
pub const MAX_HOPS: usize = 4;
/// Longest horizon accepted, days (five years).
pub const MAX_HORIZON_DAYS: u32 = 1825;
/// Harvests a year when the request does not say (monthly: rewards sold as earned, roughly).
pub const DEFAULT_HARVESTS_PER_YEAR: u32 = 12;

// ---------------------------------------------------------------------------------------------
// Holdings
// ---------------------------------------------------------------------------------------------

/// One holding: `amount` whole tokens of `symbol`, on `chain` if given (`USDC@arbitrum=5000`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holding {
    pub symbol: String,
    pub chain: Option<String>,
    pub amount: f64,
}

/// What the user holds, in the order given.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Holdings(pub Vec<Holding>);

/// A holdings string that does not parse: which item (1-based; 0 for the whole string), its
/// text, and what is wrong with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingsError {
    pub item: usize,
    pub text: String,
    pub message: String,
}

impl fmt::Display for HoldingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.item == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "holding {} `{}`: {}", self.item, self.text, self.message)
        }
    }
}

impl std::error::Error for HoldingsError {}

const HOLDINGS_FORM: &str = "write SYMBOL=AMOUNT pairs separated by commas, e.g. ETH=10,USDC=5000 (a chain with SYMBOL@CHAIN, e.g. USDC@arbitrum=5000)";

/// A whole-token amount: digits with at most one decimal point (`_` allowed between digits).
fn parse_amount(s: &str) -> Result<f64, String> {
    let t: String = s.trim().chars().filter(|c| *c != '_').collect();
    let ok = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().filter(|c| *c == '.').count() <= 1
        && t.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return Err(format!("`{}` is not an amount: write a decimal number of whole tokens, e.g. 10 or 0.5", s.trim()));
    }
    let v: f64 = t.parse().map_err(|_| format!("`{}` is not an amount: write e.g. 10 or 0.5", s.trim()))?;
    if !v.is_finite() || v > 1e15 {
        return Err(format!("`{}` is too large: give at most 1e15 tokens", s.trim()));
    }
    if v <= 0.0 {
        return Err("the amount is zero: leave the holding out or give an amount above 0".into());
    }
    Ok(v)
}

fn valid_symbol(s: &str) -> bool {
    !s.is_empty() && s.len() <= 24 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Holdings {
    /// Parse `ETH=10,USDC=5000` (whitespace around items and `=` is ignored; a chain is given
    /// as `USDC@arbitrum=5000`). Every error names the item and the fix.
    pub fn parse(text: &str) -> Result<Holdings, HoldingsError> {
        if text.trim().is_empty() {
            return Err(HoldingsError {
                item: 0,
                text: String::new(),
                message: format!("no holdings: {HOLDINGS_FORM}"),
            });
        }
        let mut out = Holdings(Vec::new());
        for (i, raw) in text.split(',').enumerate() {
            let item = i + 1;
            let t = raw.trim();
            let err = |message: String| HoldingsError { item, text: t.to_string(), message };
            if t.is_empty() {
                return Err(err("is empty (two commas in a row, or one at the end): remove it".into()));
            }
            let Some((left, right)) = t.split_once('=') else {
                return Err(err(format!("has no `=`: {HOLDINGS_FORM}")));
            };
            out.push_item(item, t, left, right)?;
        }
        Ok(out)
    }

    /// Holdings from `(symbol, amount)` pairs (the API's object form, `{"ETH": "10"}`), checked
    /// like [`Holdings::parse`]; items are numbered in the order given.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Holdings, HoldingsError> {
        let mut out = Holdings(Vec::new());
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            let text = format!("{k}={v}");
            out.push_item(i + 1, &text, k, v)?;
        }
        if out.0.is_empty() {
            return Err(HoldingsError {
                item: 0,
                text: String::new(),
                message: format!("no holdings: {HOLDINGS_FORM}"),
            });
        }
        Ok(out)
    }

    fn push_item(&mut self, item: usize, text: &str, left: &str, right: &str) -> Result<(), HoldingsError> {
        let err = |message: String| HoldingsError { item, text: text.to_string(), message };
        let left = left.trim();
        let (symbol, chain) = match left.split_once('@') {
            Some((s, c)) => (s.trim(), Some(c.trim())),
            None => (left, None),
        };
        if symbol.is_empty() {
            return Err(err(format!("has no symbol before `=`: {HOLDINGS_FORM}")));
        }
        if !valid_symbol(symbol) {
            return Err(err(format!("`{symbol}` is not a token symbol: use letters and digits, e.g. USDC")));
        }
        if let Some(c) = chain
            && !valid_symbol(c)
        {
            return Err(err(format!(
                "`{c}` is not a chain: name it by id, name or number after `@`, e.g. USDC@arbitrum=5000"
            )));
        }
        let amount = parse_amount(right).map_err(err)?;
        let key = (asset_of(symbol), chain.map(str::to_ascii_lowercase));
        if let Some(k) =
            self.0.iter().position(|h| (asset_of(&h.symbol), h.chain.as_deref().map(str::to_ascii_lowercase)) == key)
        {
            return Err(err(format!(
                "`{symbol}` repeats holding {} (`{}`): give each asset once per chain",
                k + 1,
                self.0[k].symbol
            )));
        }
        self.0.push(Holding { symbol: symbol.to_string(), chain: chain.map(str::to_string), amount });
        Ok(())
    }
}

impl std::str::FromStr for Holdings {
    type Err = HoldingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Holdings::parse(s)
    }
}

/// The asset a token symbol stands for, the same on every chain: wrapped natives and bridged
/// forms are one asset (`WETH`, `WETH.e`, `ETH` → `ETH`; `WBTC`, `BTCB`, `BTC.b` → `BTC`;
/// `USDC.e`, `USDbC` → `USDC`; `WBNB` → `BNB`, `WMATIC` → `MATIC`, `WAVAX` → `AVAX`).
pub fn asset_of(symbol: &str) -> String {
    let up = symbol.trim().to_ascii_uppercase();
    let base = up.strip_suffix(".E").unwrap_or(&up);
    match base {
        "WETH" | "ETH" => "ETH",
        "WBTC" | "BTCB" | "BTC.B" | "BTC" => "BTC",
        "WBNB" | "BNB" => "BNB",
        "WMATIC" | "MATIC" | "POL" => "MATIC",
        "WAVAX" | "AVAX" => "AVAX",
        "USDC" | "USDBC" => "USDC",
        other => other,
    }
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// Tolerance and request
// ---------------------------------------------------------------------------------------------

/// How much risk the user takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    Conservative,
    Balanced,
    Aggressive,
}

impl Tolerance {
    pub const ALL: [Tolerance; 3] = [Tolerance::Conservative, Tolerance::Balanced, Tolerance::Aggressive];

    pub fn as_str(self) -> &'static str {
        match self {
            Tolerance::Conservative => "conservative",
            Tolerance::Balanced => "balanced",
            Tolerance::Aggressive => "aggressive",
        }
    }

    /// The constraints and the bad case's weight of each tolerance:
    ///
    /// | tolerance | min grade | per protocol | per chain | of a TVL | bad-case weight λ |
    /// |---|---|---|---|---|---|
    /// | conservative | B | 30 % | 40 % | 1 % | 0.3 |
    /// | balanced | C | 40 % | 60 % | 2 % | 0.15 |
    /// | aggressive | D | 60 % | 100 % | 5 % | 0.05 |
    ///
    /// The grade floor follows the grade's loss table: up to B the assumed yearly loss is under
    /// 1 %, C costs about 3 %, D 8 % (E and F, 22.5 % and 60 %, are never advised). The caps are
    /// shares of the holdings' total value; the TVL share bounds how much of one pool's exit
    /// liquidity the position becomes. λ is the weight of the 5th-percentile outcome against the
    /// median: 0.3 makes a line that can lose 3 % in its bad case need about 1.3 % of median
    /// earnings to be worth it; 0.05 nearly ignores the tail.
    pub fn limits(self) -> Limits {
        match self {
            Tolerance::Conservative => Limits {
                min_grade: Grade::B,
                max_protocol_share: 0.30,
                max_chain_share: 0.40,
                max_tvl_share: 0.01,
                bad_case_weight: 0.3,
            },
            Tolerance::Balanced => Limits {
                min_grade: Grade::C,
                max_protocol_share: 0.40,
                max_chain_share: 0.60,
                max_tvl_share: 0.02,
                bad_case_weight: 0.15,
            },
            Tolerance::Aggressive => Limits {
                min_grade: Grade::D,
                max_protocol_share: 0.60,
                max_chain_share: 1.0,
                max_tvl_share: 0.05,
                bad_case_weight: 0.05,
            },
        }
    }
}

impl std::str::FromStr for Tolerance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tolerance::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not a tolerance: use conservative, balanced or aggressive"))
    }
}

/// The constraints the allocation respects.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Worst grade advised.
    pub min_grade: Grade,
    /// Most of the holdings' value in one protocol (a fraction).
    pub max_protocol_share: f64,
    /// Most of the holdings' value on one chain.
    pub max_chain_share: f64,
    /// Most of an opportunity's TVL the position may become: `d / (TVL + d)`.
    pub max_tvl_share: f64,
    /// λ: the bad case's weight in the objective, in [0, 1].
    pub bad_case_weight: f64,
}

/// What a bridge costs: `fee_bps` of the amount plus `fixed_usd` (relayer and destination gas),
/// and `gas_units` of gas on the source chain for the bridge transaction. The defaults
/// (5 bps + $1 + 120 000 gas) are the order of today's liquidity bridges (Across, Stargate);
/// they are assumptions, not quotes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BridgeModel {
    pub fee_bps: f64,
    pub fixed_usd: f64,
    pub gas_units: u64,
}

impl Default for BridgeModel {
    fn default() -> Self {
        BridgeModel { fee_bps: 5.0, fixed_usd: 1.0, gas_units: 120_000 }
    }
}

/// What the request may change of the tolerance's defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overrides {
    pub min_grade: Option<Grade>,
    pub max_protocol_share: Option<f64>,
    pub max_chain_share: Option<f64>,
    pub max_tvl_share: Option<f64>,
    pub bad_case_weight: Option<f64>,
    pub harvests_per_year: Option<u32>,
    pub bridge: Option<BridgeModel>,
    /// Opportunity ids not to advise.
    pub exclude: Vec<String>,
}

/// An advice request.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviceRequest {
    pub holdings: Holdings,
    pub horizon_days: u32,
    pub tolerance: Tolerance,
    pub overrides: Overrides,
}

/// A request the advice cannot use: the field at fault, a stable code and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdviseError {
    pub field: &'static str,
    /// `invalid_field`, `unknown_asset` or `unknown_chain`.
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for AdviseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for AdviseError {}

fn bad(field: &'static str, message: impl Into<String>) -> AdviseError {
    AdviseError { field, code: "invalid_field", message: message.into() }
}

impl AdviceRequest {
    /// A request with the tolerance's defaults.
    pub fn new(holdings: Holdings, horizon_days: u32, tolerance: Tolerance) -> AdviceRequest {
        AdviceRequest { holdings, horizon_days, tolerance, overrides: Overrides::default() }
    }

    /// The tolerance's limits with the overrides applied.
    pub fn limits(&self) -> Limits {
        let d = self.tolerance.limits();
        let o = &self.overrides;
        Limits {
            min_grade: o.min_grade.unwrap_or(d.min_grade),
            max_protocol_share: o.max_protocol_share.unwrap_or(d.max_protocol_share),
            max_chain_share: o.max_chain_share.unwrap_or(d.max_chain_share),
            max_tvl_share: o.max_tvl_share.unwrap_or(d.max_tvl_share),
            bad_case_weight: o.bad_case_weight.unwrap_or(d.bad_case_weight),
        }
    }

    pub fn harvests_per_year(&self) -> u32 {
        self.overrides.harvests_per_year.unwrap_or(DEFAULT_HARVESTS_PER_YEAR)
    }

    pub fn bridge(&self) -> BridgeModel {
        self.overrides.bridge.unwrap_or_default()
    }

    /// The plan the opportunities' own risk-adjusted APY is shown at (the advice recomputes
    /// every term at each line's size).
    pub fn plan(&self) -> Plan {
        Plan {
            position_usd: 10_000.0,
            horizon_days: f64::from(self.horizon_days),
            harvests_per_year: self.harvests_per_year(),
        }
    }

    /// Check every number of the request (the holdings were checked when parsed).
    pub fn validate(&self) -> Result<(), AdviseError> {
        if self.holdings.0.is_empty() {
            return Err(bad("holdings", format!("no holdings: {HOLDINGS_FORM}")));
        }
        if self.horizon_days == 0 || self.horizon_days > MAX_HORIZON_DAYS {
            return Err(bad("horizon_days", format!("must be between 1 and {MAX_HORIZON_DAYS} days")));
        }
        let share = |v: Option<f64>, field: &'static str| match v {
            Some(x) if !(x.is_finite() && x > 0.0 && x <= 1.0) => {
                Err(bad(field, format!("`{x}` is not a share: give a fraction above 0 and at most 1, e.g. 0.4")))
            }
            _ => Ok(()),
        };
        let o = &self.overrides;
        share(o.max_protocol_share, "max_protocol_share")?;
        share(o.max_chain_share, "max_chain_share")?;
        share(o.max_tvl_share, "max_tvl_share")?;
        if let Some(x) = o.max_tvl_share
            && x >= 1.0
        {
            return Err(bad("max_tvl_share", "must be below 1: a position cannot be the whole pool"));
        }
        if let Some(w) = o.bad_case_weight
            && !(w.is_finite() && (0.0..=1.0).contains(&w))
        {
            return Err(bad("bad_case_weight", format!("`{w}` must be between 0 and 1")));
        }
        if o.harvests_per_year.is_some_and(|h| h > 365) {
            return Err(bad("harvests_per_year", "must be at most 365 (one a day)"));
        }
        if let Some(b) = o.bridge {
            if !(b.fee_bps.is_finite() && (0.0..=1000.0).contains(&b.fee_bps)) {
                return Err(bad("bridge_fee_bps", "must be between 0 and 1000 bps"));
            }
            if !(b.fixed_usd.is_finite() && b.fixed_usd >= 0.0) {
                return Err(bad("bridge_fixed_usd", "must be a finite number of USD ≥ 0"));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// What the advice reads: the market
// ---------------------------------------------------------------------------------------------

/// One opportunity the advice may pick, with the terms of its risk-adjusted yield and the alerts
/// raised on it (an alerted opportunity is never advised).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub opportunity: Opportunity,
    pub terms: Option<Terms>,
    pub alerts: Vec<String>,
}

/// Volatilities of assets' USD prices and of the ratios of asset pairs, annualised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volatility {
    /// σ of each asset's USD price.
    pub usd: BTreeMap<String, f64>,
    /// σ of `ln(P_a / P_b)` for pairs a pool measures (key in alphabetical order).
    pub pairs: BTreeMap<(String, String), f64>,
    /// Assets whose σ is an assumption (history too short).
    pub assumed: BTreeSet<String>,
}

impl Volatility {
    /// Measure from the hub's pool samples: a pool with at least [`MIN_SAMPLES`] samples gives
    /// its pair's ratio volatility (the largest when several pools pair the same assets); an
    /// asset's USD σ is its measured ratio against a stablecoin, else `√(σ_ratio² + σ_via²)`
    /// along the pool its price comes from (independent moves; the smallest over the asset's
    /// tokens, i.e. the most direct pricing), else an assumption
    /// ([`assess::ASSUMED_SIGMA_VOLATILE`], or [`assess::ASSUMED_SIGMA_STABLE`] for a stablecoin;
    /// an asset priced by an external feed and measured against no stablecoin is assumed too).
    pub fn measure(engine: &Engine, history: &History, book: &PriceBook) -> Volatility {
        let mut v = Volatility::default();
        let asset = |t: usize| asset_of(&engine.token(t).symbol);
        let is_lp = |t: usize| matches!(engine.token(t).minter, Minter::Pool(_));
        let stable: BTreeSet<String> = book
            .quotes
            .iter()
            .filter(|(_, q)| matches!(q.source, PriceSource::Stable))
            .map(|(t, _)| asset(*t))
            .collect();
        for (ix, p) in engine.pools().iter().enumerate() {
            if is_lp(p.tokens[0]) || is_lp(p.tokens[1]) {
                continue;
            }
            let (a, b) = (asset(p.tokens[0]), asset(p.tokens[1]));
            if a == b {
                continue;
            }
            if let Some((s, n)) = ratio_volatility(history, ix)
                && n >= MIN_SAMPLES
            {
                let key = if a < b { (a, b) } else { (b, a) };
                let e = v.pairs.entry(key).or_insert(0.0);
                *e = e.max(s);
            }
        }
        // USD σ per asset, resolved in rounds so that an asset priced via another one follows it.
        let mut tokens_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for t in book.quotes.keys() {
            if !is_lp(*t) {
                tokens_of.entry(asset(*t)).or_default().push(*t);
            }
        }
        for s in &stable {
            v.usd.insert(s.clone(), assess::ASSUMED_SIGMA_STABLE);
            v.assumed.insert(s.clone());
        }
        for (a, _) in tokens_of.iter().filter(|(a, _)| !stable.contains(*a)) {
            let measured = stable
                .iter()
                .filter_map(|s| v.pair(a, s))
                .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
            if let Some(s) = measured {
                v.usd.insert(a.clone(), s);
            }
        }
        // An asset priced by an external feed (the market's closes) and measured against no
        // stablecoin is assumed volatile before the rounds, so that what is priced through it
        // follows it.
        for (a, toks) in &tokens_of {
            let feed = toks.iter().any(|t| book.quotes.get(t).is_some_and(|q| matches!(q.source, PriceSource::Feed)));
            if feed && !v.usd.contains_key(a) {
                v.usd.insert(a.clone(), assess::ASSUMED_SIGMA_VOLATILE);
                v.assumed.insert(a.clone());
            }
        }
        for _round in 0..8 {
            let mut changed = false;
            for (a, toks) in &tokens_of {
                if v.usd.contains_key(a) {
                    continue;
                }
                let mut best: Option<(f64, bool)> = None;
                for t in toks {
                    let Some(PriceSource::Pool { via, .. }) = book.quotes.get(t).map(|q| &q.source) else { continue };
                    let Ok(via_ix) = engine.token_ix(via) else { continue };
                    let via_asset = asset(via_ix);
                    let Some(via_sigma) = v.usd.get(&via_asset).copied() else { continue };
                    let (ratio, assumed) = match v.pair(a, &via_asset) {
                        Some(s) => (s, v.assumed.contains(&via_asset)),
                        None => (assess::ASSUMED_SIGMA_VOLATILE, true),
                    };
                    let s = (ratio * ratio + via_sigma * via_sigma).sqrt();
                    // The most direct pricing wins (the asset is one asset on every chain).
                    if best.is_none_or(|(b, _)| s < b) {
                        best = Some((s, assumed));
                    }
                }
                if let Some((s, assumed)) = best {
                    v.usd.insert(a.clone(), s);
                    if assumed {
                        v.assumed.insert(a.clone());
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for a in tokens_of.keys() {
            if !v.usd.contains_key(a) {
                v.usd.insert(a.clone(), assess::ASSUMED_SIGMA_VOLATILE);
                v.assumed.insert(a.clone());
            }
        }
        v
    }

    /// Measured σ of the ratio of two assets, if a pool measures it.
    pub fn pair(&self, a: &str, b: &str) -> Option<f64> {
        let key = if a < b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) };
        self.pairs.get(&key).copied()
    }

    /// USD σ of an asset (an assumed volatile one when unknown).
    pub fn usd_sigma(&self, a: &str) -> f64 {
        self.usd.get(a).copied().unwrap_or(assess::ASSUMED_SIGMA_VOLATILE)
    }

    /// Variance per year of `ln(P_a / P_b)`: measured, else `σ_a² + σ_b²` (uncorrelated).
    pub fn ratio_variance(&self, a: &str, b: &str) -> f64 {
        if a == b {
            return 0.0;
        }
        match self.pair(a, b) {
            Some(s) => s * s,
            None => self.usd_sigma(a).powi(2) + self.usd_sigma(b).powi(2),
        }
    }
}

/// Everything the advice reads besides the engine: the candidates, the prices and volatilities.
#[derive(Debug, Clone)]
pub struct Market {
    pub candidates: Vec<Candidate>,
    pub book: PriceBook,
    pub volatility: Volatility,
}

// ---------------------------------------------------------------------------------------------
// The advice
// ---------------------------------------------------------------------------------------------

/// A holding as the advice read it: the token it resolved to, its price and value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldingValue {
    /// As given (`ETH`).
    pub symbol: String,
    pub asset: String,
    pub chain: String,
    pub chain_id: u64,
    /// Whether the chain was given (else: the first chain holding the asset).
    pub chain_given: bool,
    pub token: String,
    pub token_symbol: String,
    pub amount: f64,
    pub price_usd: f64,
    pub value_usd: f64,
}

impl HoldingValue {
    /// `ETH on Ethereum`.
    pub fn label(&self) -> String {
        format!("{} on {}", self.symbol, self.chain)
    }
}

/// The part of a line one holding funds, and how it gets there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funding {
    /// `ETH on Ethereum`.
    pub holding: String,
    pub symbol: String,
    pub chain: String,
    /// Whole tokens of the holding used.
    pub amount: f64,
    pub usd: f64,
    /// The route in words, one step a string (the last one enters the opportunity).
    pub route: Vec<String>,
    pub swap_fee_usd: f64,
    pub price_impact_usd: f64,
    pub bridge_usd: f64,
    /// Gas of the route's swaps and bridge.
    pub gas_usd: f64,
}

/// What entering costs besides gas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Costs {
    pub swap_fee_usd: f64,
    pub price_impact_usd: f64,
    pub bridge_usd: f64,
    pub deposit_fee_usd: f64,
    pub total_usd: f64,
}

/// Gas over the horizon at the chain's gas price (`granary_engine::state::gas` units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LineGas {
    /// The routes' swaps and bridges plus entering the opportunity.
    pub entry_usd: f64,
    pub exit_usd: f64,
    pub harvests: u32,
    /// One harvest.
    pub harvest_usd: f64,
    pub total_usd: f64,
}

/// The line's rates at its size, % a year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LineApy {
    /// Fee APR after your deposit's dilution.
    pub base_pct: f64,
    /// Reward APR after dilution and the exit-liquidity cap.
    pub reward_pct: f64,
    pub expected_il_pct: f64,
    pub reward_decay_pct: f64,
    pub expected_loss_pct: f64,
    /// `base + reward − IL − decay − loss`: what `d` earns a year before gas and entry costs.
    pub risk_adjusted_pct: f64,
    /// What the next dollar would earn: `∂(d·r(d))/∂d`.
    pub marginal_pct: f64,
    /// The opportunity's listed APY and risk-adjusted APY (the hub's, for a $10k plan).
    pub listed_apy_pct: f64,
    pub listed_risk_adjusted_pct: Option<f64>,
}

/// One line of the allocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdviceLine {
    pub opportunity: String,
    pub kind: Kind,
    pub chain: String,
    pub chain_id: u64,
    pub project: String,
    pub symbol: String,
    pub grade: char,
    pub risk_score: Option<u8>,
    pub lockup_days: u32,
    pub tvl_usd: f64,
    /// Holdings committed, USD, and their share of the total.
    pub amount_usd: f64,
    pub share: f64,
    /// What arrives in the opportunity after entry costs and entry gas.
    pub deployed_usd: f64,
    /// Annual volatility of the position's assets in USD, and of the holdings that fund it, %.
    pub usd_sigma_pct: f64,
    pub holdings_usd_sigma_pct: f64,
    /// `deployed / (TVL + deployed)`.
    pub share_of_tvl: f64,
    pub sources: Vec<Funding>,
    pub costs: Costs,
    pub gas: LineGas,
    pub apy: LineApy,
    /// Net earnings over the horizon, USD and % of `amount_usd`.
    pub median_usd: f64,
    pub median_pct: f64,
    pub bad_usd: f64,
    pub bad_pct: f64,
    /// How the bad case arises (a grade event, or the 2σ price moves).
    pub bad_case: String,
    pub why: String,
    pub risks: String,
    /// What stopped the line growing.
    pub limit: String,
}

/// A holding (or what is left of it) not allocated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unallocated {
    pub holding: String,
    pub symbol: String,
    pub chain: String,
    pub amount: f64,
    pub usd: f64,
}

/// A share of the allocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slice {
    pub name: String,
    pub usd: f64,
    /// Of the holdings' total value.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub holdings_usd: f64,
    pub allocated_usd: f64,
    pub unallocated_usd: f64,
    pub deployed_usd: f64,
    pub costs_usd: f64,
    pub gas_usd: f64,
    pub median_usd: f64,
    /// Median over the horizon as % of what is allocated, and annualised (simple).
    pub median_pct: f64,
    pub median_apy_pct: f64,
    /// The sum of the lines' bad cases (as if they happened together).
    pub bad_usd: f64,
    pub bad_pct: f64,
    pub by_chain: Vec<Slice>,
    pub by_protocol: Vec<Slice>,
}

/// An opportunity not advised, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excluded {
    pub opportunity: String,
    pub reason: String,
}

/// The advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub horizon_days: u32,
    pub tolerance: Tolerance,
    pub limits: Limits,
    pub bridge: BridgeModel,
    pub harvests_per_year: u32,
    /// Latest chain time of the engine, seconds.
    pub as_of: u64,
    /// Step of the greedy allocation, USD.
    pub step_usd: f64,
    pub holdings: Vec<HoldingValue>,
    pub lines: Vec<AdviceLine>,
    pub unallocated: Vec<Unallocated>,
    pub totals: Totals,
    pub excluded: Vec<Excluded>,
    pub assumptions: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Swaps and routes
// ---------------------------------------------------------------------------------------------

/// One hop of a swap path, with the pool's reserves in whole tokens and the TWAP prices.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hop {
    pool: usize,
    token_in: usize,
    token_out: usize,
    r_in: f64,
    r_out: f64,
    fee: f64,
    p_in: f64,
    p_out: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Path {
    hops: Vec<Hop>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Swap {
    out: f64,
    fee_usd: f64,
    impact_usd: f64,
}

impl Path {
    /// Constant-product swap of `amount` whole tokens along the path:
    /// `out = a(1−f)·R_out / (R_in + a(1−f))` per hop; the fee is `a·f` at the input's price,
    /// the impact `a(1−f)·R_out/R_in − out` at the output's.
    fn run(&self, amount: f64) -> Swap {
        let mut a = amount;
        let mut s = Swap::default();
        for h in &self.hops {
            let net = a * (1.0 - h.fee);
            let out = net * h.r_out / (h.r_in + net);
            s.fee_usd += a * h.fee * h.p_in;
            s.impact_usd += (net * h.r_out / h.r_in - out).max(0.0) * h.p_out;
            a = out;
        }
        s.out = a;
        s
    }
}

/// The pools of every chain that the advice may route through.
struct Graph {
    /// Per chain: pools with two priced, non-LP tokens and reserves.
    pools: Vec<Vec<usize>>,
}

fn human(engine: &Engine, token: usize, v: granary_engine::U256) -> f64 {
    to_f64(v) / 10f64.powi(i32::from(engine.token(token).decimals))
}

impl Graph {
    fn new(engine: &Engine, book: &PriceBook) -> Graph {
        let mut pools = vec![Vec::new(); engine.chains().len()];
        for (ix, p) in engine.pools().iter().enumerate() {
            let lp = |t: usize| matches!(engine.token(t).minter, Minter::Pool(_));
            if lp(p.tokens[0]) || lp(p.tokens[1]) || p.reserves[0].is_zero() || p.reserves[1].is_zero() {
                continue;
            }
            if book.usd(p.tokens[0]).is_none() || book.usd(p.tokens[1]).is_none() {
                continue;
            }
            pools[p.chain].push(ix);
        }
        Graph { pools }
    }

    fn hop(engine: &Engine, book: &PriceBook, pool: usize, token_in: usize) -> Option<Hop> {
        let p = engine.pool(pool);
        let side = p.side_of(token_in)?;
        let token_out = p.tokens[1 - side];
        Some(Hop {
            pool,
            token_in,
            token_out,
            r_in: human(engine, token_in, p.reserves[side]),
            r_out: human(engine, token_out, p.reserves[1 - side]),
            fee: f64::from(p.fee_bps) / 10_000.0,
            p_in: book.usd(token_in)?,
            p_out: book.usd(token_out)?,
        })
    }

    /// The path of at most [`MAX_HOPS`] pools on `chain` from `from` to `to` that returns the
    /// most for `amount` (ties: fewer hops, then the lower pool indices).
    fn best_path(
        &self,
        engine: &Engine,
        book: &PriceBook,
        chain: usize,
        from: usize,
        to: usize,
        amount: f64,
    ) -> Option<Path> {
        if from == to {
            return Some(Path::default());
        }
        let mut best: Option<(f64, Path)> = None;
        let mut stack: Vec<Hop> = Vec::new();
        self.search(engine, book, chain, from, to, amount.max(1e-9), &mut stack, &mut best);
        best.map(|(_, p)| p)
    }

    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        engine: &Engine,
        book: &PriceBook,
        chain: usize,
        at: usize,
        to: usize,
        amount: f64,
        stack: &mut Vec<Hop>,
        best: &mut Option<(f64, Path)>,
    ) {
        if stack.len() >= MAX_HOPS {
            return;
        }
        for &pool in &self.pools[chain] {
            if stack.iter().any(|h| h.pool == pool) {
                continue;
            }
            let Some(h) = Graph::hop(engine, book, pool, at) else { continue };
            if h.token_out != to && (stack.iter().any(|s| s.token_in == h.token_out)) {
                continue;
            }
            stack.push(h);
            if h.token_out == to {
                let path = Path { hops: stack.clone() };
                let out = path.run(amount).out;
                let better = match best {
                    None => true,
                    Some((b, p)) => out > *b || (out == *b && path.hops.len() < p.hops.len()),
                };
                if better && out.is_finite() {
                    *best = Some((out, path));
                }
            } else {
                self.search(engine, book, chain, h.token_out, to, amount, stack, best);
            }
            stack.pop();
        }
    }
}

/// How one holding reaches one opportunity's tokens.
#[derive(Debug, Clone, PartialEq)]
struct Route {
    /// Swaps on the holding's chain to the carried token (empty when none are needed).
    pre: Path,
    /// The bridge: the carried token on the source chain, on the opportunity's chain, and its price.
    bridge: Option<(usize, usize, f64)>,
    /// Swaps on the opportunity's chain to each of its tokens, with the share of value each gets.
    legs: Vec<(f64, usize, Path)>,
    /// Gas of the swaps and the bridge, USD.
    gas_usd: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct RouteCost {
    fee_usd: f64,
    impact_usd: f64,
    bridge_usd: f64,
    gas_usd: f64,
}

impl RouteCost {
    fn total(&self) -> f64 {
        self.fee_usd + self.impact_usd + self.bridge_usd + self.gas_usd
    }
}

impl Route {
    fn cost(&self, price: f64, x_usd: f64, bridge: &BridgeModel) -> (RouteCost, Vec<f64>) {
        let mut c = RouteCost { gas_usd: self.gas_usd, ..RouteCost::default() };
        let pre = self.pre.run(x_usd / price);
        c.fee_usd += pre.fee_usd;
        c.impact_usd += pre.impact_usd;
        let carried = match self.bridge {
            None => pre.out,
            Some((_, _, p)) => {
                let v = pre.out * p;
                let fee = (bridge.fixed_usd + v * bridge.fee_bps / 10_000.0).min(v);
                c.bridge_usd = fee;
                (v - fee) / p
            }
        };
        let mut outs = Vec::with_capacity(self.legs.len());
        for (share, _, path) in &self.legs {
            let s = path.run(carried * share);
            c.fee_usd += s.fee_usd;
            c.impact_usd += s.impact_usd;
            outs.push(s.out);
        }
        (c, outs)
    }
}

// ---------------------------------------------------------------------------------------------
// The optimiser
// ---------------------------------------------------------------------------------------------

/// A resolved holding.
struct Src {
    v: HoldingValue,
    chain: usize,
    token: usize,
    asset: usize,
}

/// A candidate the constraints admit, with everything its evaluation needs precomputed.
struct Cand<'a> {
    o: &'a Opportunity,
    t: &'a Terms,
    chain: usize,
    /// The opportunity's entry tokens, their share of value and their asset index.
    entry: Vec<(usize, f64, usize)>,
    base_tvl: f64,
    reward_tvl: f64,
    boost: f64,
    deposit_fee: f64,
    exit: Option<ExitLiquidity>,
    il_apr: f64,
    loss_apr: f64,
    avg_factor: f64,
    end_factor: f64,
    sigma_ratio: f64,
    q_event: f64,
    lgd: f64,
    enter_gas_usd: f64,
    exit_gas_usd: f64,
    harvest_gas_usd: f64,
    harvests: u32,
    /// Largest `x` the TVL cap allows.
    tvl_room: f64,
    routes: Vec<Option<Route>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Rates {
    base: f64,
    reward: f64,
    decay: f64,
    radj: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Eval {
    x: f64,
    d: f64,
    cost: RouteCost,
    deposit_fee_usd: f64,
    gas_later: f64,
    rates: Rates,
    /// USD volatility of the position's assets and of the holdings that fund it.
    sigma_position: f64,
    sigma_sources: f64,
    event: bool,
    median: f64,
    bad: f64,
    objective: f64,
}

struct Ctx<'a> {
    engine: &'a Engine,
    srcs: Vec<Src>,
    assets: Vec<String>,
    /// Covariance of the assets' USD log returns: `(σ_i² + σ_j² − V_ij) / 2`, with `V_ij` the
    /// variance of the log ratio of assets i and j.
    cov: Vec<Vec<f64>>,
    years: f64,
    lambda: f64,
    bridge: BridgeModel,
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error below
/// 1.2e-9 on (0, 1)).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    if p.is_nan() || p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const P_LOW: f64 = 0.02425;
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (-p).ln_1p()).sqrt())
    }
}

/// An APR of something holding `tvl` after adding `d` (weighted by `boost`) that shares it pro
/// rata: `apr · tvl / (tvl + boost·d)`.
pub fn diluted_apr(apr: f64, tvl: f64, d: f64, boost: f64) -> f64 {
    if tvl > 0.0 && d > 0.0 { apr * tvl / (tvl + boost * d) } else { apr }
}

impl Cand<'_> {
    fn rates(&self, d: f64, years: f64) -> Rates {
        let base = diluted_apr(self.t.apr_base, self.base_tvl, d, 1.0);
        let raw = diluted_apr(self.t.apr_reward, self.reward_tvl, d, self.boost);
        let reward = match &self.exit {
            Some(l) => l.cap(raw, d, years),
            None => raw,
        };
        let ps = self.t.emissions.principal_share;
        let decay = reward * (1.0 - self.avg_factor) + ps * (1.0 - self.end_factor) / years;
        let radj = base + reward - self.il_apr - decay - self.loss_apr;
        Rates { base, reward, decay, radj }
    }
}

impl Ctx<'_> {
    /// USD volatility of a basket of assets with weights `w`: `√(wᵀ·Cov·w)`.
    fn basket_sigma(&self, w: &[f64]) -> f64 {
        let nz: Vec<usize> = (0..w.len()).filter(|i| w[*i].abs() > 1e-12).collect();
        let mut var = 0.0;
        for &i in &nz {
            for &j in &nz {
                var += w[i] * w[j] * self.cov[i][j];
            }
        }
        var.max(0.0).sqrt()
    }

    /// The line of `c` funded with `xs[h]` USD from each holding `h`.
    fn eval(&self, c: &Cand<'_>, xs: &[f64]) -> Eval {
        let x: f64 = xs.iter().sum();
        let mut e = Eval { x, ..Eval::default() };
        if x <= 0.0 {
            return e;
        }
        let mut arrived = 0.0;
        let mut src_w = vec![0.0; self.assets.len()];
        for (h, &xh) in xs.iter().enumerate() {
            if xh <= 0.0 {
                continue;
            }
            let Some(route) = &c.routes[h] else { continue };
            let (rc, _) = route.cost(self.srcs[h].v.price_usd, xh, &self.bridge);
            e.cost.fee_usd += rc.fee_usd;
            e.cost.impact_usd += rc.impact_usd;
            e.cost.bridge_usd += rc.bridge_usd;
            e.cost.gas_usd += rc.gas_usd;
            arrived += xh - rc.total();
            src_w[self.srcs[h].asset] += xh / x;
        }
        e.cost.gas_usd += c.enter_gas_usd;
        let before_fee = arrived - c.enter_gas_usd;
        e.deposit_fee_usd = before_fee.max(0.0) * c.deposit_fee;
        e.d = before_fee - e.deposit_fee_usd;
        e.gas_later = c.exit_gas_usd + f64::from(c.harvests) * c.harvest_gas_usd;
        let t = self.years;
        let entry_loss = x - e.d;
        if e.d <= 0.0 {
            e.median = -entry_loss - e.gas_later;
            e.bad = e.median;
            e.objective = e.median;
            return e;
        }
        e.rates = c.rates(e.d, t);
        e.median = e.d * e.rates.radj * t - entry_loss - e.gas_later;
        // USD volatility of the position's assets and of the holdings that fund it.
        let mut pos_w = vec![0.0; self.assets.len()];
        for (_, share, a) in &c.entry {
            pos_w[*a] += share;
        }
        e.sigma_position = self.basket_sigma(&pos_w);
        e.sigma_sources = self.basket_sigma(&src_w);
        let bad_earn = if c.q_event >= BAD_CASE_QUANTILE {
            e.event = true;
            -c.lgd * e.d
        } else {
            let alpha = (BAD_CASE_QUANTILE - c.q_event) / (1.0 - c.q_event);
            let z = normal_quantile(1.0 - alpha / 2.0);
            let il_bad = -il_closed_form((z * c.sigma_ratio).exp());
            // Tail risk the position adds in USD over the holdings it replaces (never a credit).
            let expo = ((-z * e.sigma_sources * t.sqrt()).exp() - (-z * e.sigma_position * t.sqrt()).exp()).max(0.0);
            let ps = c.t.emissions.principal_share;
            e.d * t * (e.rates.base + e.rates.reward * c.end_factor)
                - ps * (1.0 - c.end_factor) * e.d
                - e.d * (il_bad.max(0.0) + expo.max(0.0))
        };
        e.bad = (bad_earn - entry_loss - e.gas_later).min(e.median);
        e.objective = (1.0 - self.lambda) * e.median + self.lambda * e.bad;
        e
    }
}

/// Resolve a holding to a token: its chain (given, or the first chain holding the asset) and
/// the token of the asset there (the exact symbol first).
fn resolve(engine: &Engine, book: &PriceBook, h: &Holding, item: usize) -> Result<Src, AdviseError> {
    let asset = asset_of(&h.symbol);
    let candidates = |chain: usize| -> Vec<usize> {
        let mut v: Vec<usize> = (0..engine.tokens().len())
            .filter(|&t| {
                let tk = engine.token(t);
                tk.chain == chain
                    && !matches!(tk.minter, Minter::Pool(_))
                    && asset_of(&tk.symbol) == asset
                    && book.usd(t).is_some_and(|p| p > 0.0)
            })
            .collect();
        v.sort_by_key(|&t| (!engine.token(t).symbol.eq_ignore_ascii_case(&h.symbol), t));
        v
    };
    let chain = match &h.chain {
        Some(c) => {
            let found = engine.chains().iter().position(|ch| {
                ch.id.eq_ignore_ascii_case(c) || ch.name.eq_ignore_ascii_case(c) || ch.chain_id.to_string() == *c
            });
            match found {
                Some(ix) => ix,
                None => {
                    let ids: Vec<&str> = engine.chains().iter().map(|c| c.id.as_str()).collect();
                    return Err(AdviseError {
                        field: "holdings",
                        code: "unknown_chain",
                        message: format!(
                            "holding {item} `{}@{c}`: unknown chain `{c}`: use one of {}",
                            h.symbol,
                            ids.join(", ")
                        ),
                    });
                }
            }
        }
        None => match (0..engine.chains().len()).find(|&c| !candidates(c).is_empty()) {
            Some(c) => c,
            None => {
                let mut known: BTreeSet<String> = BTreeSet::new();
                for (t, tk) in engine.tokens().iter().enumerate() {
                    if !matches!(tk.minter, Minter::Pool(_)) && book.usd(t).is_some() {
                        known.insert(tk.symbol.clone());
                    }
                }
                return Err(AdviseError {
                    field: "holdings",
                    code: "unknown_asset",
                    message: format!(
                        "holding {item} `{}`: no chain has a priced token of this asset: use one of {}",
                        h.symbol,
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        },
    };
    let Some(&token) = candidates(chain).first() else {
        let here: BTreeSet<String> = engine
            .tokens()
            .iter()
            .enumerate()
            .filter(|(t, tk)| tk.chain == chain && !matches!(tk.minter, Minter::Pool(_)) && book.usd(*t).is_some())
            .map(|(_, tk)| tk.symbol.clone())
            .collect();
        return Err(AdviseError {
            field: "holdings",
            code: "unknown_asset",
            message: format!(
                "holding {item} `{}`: {} has no priced {} token: use one of {}",
                h.symbol,
                engine.chain(chain).name,
                asset,
                here.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let price = book.usd(token).unwrap_or(0.0);
    let c = engine.chain(chain);
    Ok(Src {
        v: HoldingValue {
            symbol: h.symbol.clone(),
            asset: asset.clone(),
            chain: c.name.clone(),
            chain_id: c.chain_id,
            chain_given: h.chain.is_some(),
            token: engine.token(token).id.clone(),
            token_symbol: engine.token(token).symbol.clone(),
            amount: h.amount,
            price_usd: price,
            value_usd: h.amount * price,
        },
        chain,
        token,
        asset: 0,
    })
}

fn entry_tokens(engine: &Engine, o: &Opportunity) -> Vec<(usize, f64)> {
    let pair = |p: usize| {
        let t = engine.pool(p).tokens;
        vec![(t[0], 0.5), (t[1], 0.5)]
    };
    match o.target {
        Target::Pool { ix } => pair(ix),
        Target::FarmPool { ix } => {
            let st = engine.farm_pool(ix).stake_token;
            match engine.token(st).minter {
                Minter::Pool(p) => pair(p),
                _ => vec![(st, 1.0)],
            }
        }
        Target::Staking { ix, .. } => vec![(engine.staking_pool(ix).stake_token, 1.0)],
    }
}

/// The asset-level tokens of each chain (non-LP, priced), for carried assets.
fn chain_assets(engine: &Engine, book: &PriceBook, chain: usize) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (t, tk) in engine.tokens().iter().enumerate() {
        if tk.chain == chain && !matches!(tk.minter, Minter::Pool(_)) && book.usd(t).is_some_and(|p| p > 0.0) {
            m.entry(asset_of(&tk.symbol)).or_insert(t);
        }
    }
    m
}

fn gas_price_usd(engine: &Engine, book: &PriceBook, chain: usize, units: u64) -> f64 {
    gas_usd(engine, book, chain, units).unwrap_or(0.0)
}

#[allow(clippy::too_many_arguments)]
fn build_route(
    engine: &Engine,
    book: &PriceBook,
    graph: &Graph,
    src: &Src,
    chain: usize,
    entry: &[(usize, f64, usize)],
    bridge: &BridgeModel,
    assets_by_chain: &[BTreeMap<String, usize>],
) -> Option<Route> {
    let reference = src.v.value_usd / 4.0;
    let swap_gas = |c: usize, hops: usize| gas_price_usd(engine, book, c, gas::SWAP_HOP * hops as u64);
    let legs_from = |from: usize, amount_tokens: f64| -> Option<Vec<(f64, usize, Path)>> {
        entry
            .iter()
            .map(|(t, share, _)| {
                graph.best_path(engine, book, chain, from, *t, amount_tokens * share).map(|p| (*share, *t, p))
            })
            .collect()
    };
    if src.chain == chain {
        let legs = legs_from(src.token, reference / src.v.price_usd)?;
        let hops: usize = legs.iter().map(|(_, _, p)| p.hops.len()).sum();
        return Some(Route { pre: Path::default(), bridge: None, legs, gas_usd: swap_gas(chain, hops) });
    }
    let mut best: Option<(f64, Route)> = None;
    for (asset, &on_src) in &assets_by_chain[src.chain] {
        let Some(&on_dst) = assets_by_chain[chain].get(asset) else { continue };
        let Some(price) = book.usd(on_src) else { continue };
        let Some(pre) = graph.best_path(engine, book, src.chain, src.token, on_src, reference / src.v.price_usd) else {
            continue;
        };
        let Some(legs) = legs_from(on_dst, reference / price) else { continue };
        let dst_hops: usize = legs.iter().map(|(_, _, p)| p.hops.len()).sum();
        let gas_usd = swap_gas(src.chain, pre.hops.len())
            + gas_price_usd(engine, book, src.chain, bridge.gas_units)
            + swap_gas(chain, dst_hops);
        let route = Route { pre, bridge: Some((on_src, on_dst, book.usd(on_dst).unwrap_or(price))), legs, gas_usd };
        let (rc, _) = route.cost(src.v.price_usd, reference, bridge);
        let total = rc.total();
        if best.as_ref().is_none_or(|(b, _)| total < *b) {
            best = Some((total, route));
        }
    }
    best.map(|(_, r)| r)
}

/// The transaction that enters the opportunity, in words.
fn entry_words(engine: &Engine, o: &Opportunity) -> String {
    match o.target {
        Target::Pool { ix } => format!("add liquidity to {}", engine.pool(ix).id),
        Target::FarmPool { ix } => {
            let fp = engine.farm_pool(ix);
            match engine.token(fp.stake_token).minter {
                Minter::Pool(p) => {
                    format!("add liquidity to {} and deposit the LP tokens in farm pool {}", engine.pool(p).id, fp.id)
                }
                _ => format!("deposit in farm pool {}", fp.id),
            }
        }
        Target::Staking { ix, term_days } => {
            let sp = engine.staking_pool(ix);
            if term_days == 0 {
                format!("stake in {} with no lock", sp.id)
            } else {
                format!("stake in {} for {term_days} days", sp.id)
            }
        }
    }
}

fn grade_words(g: Grade) -> String {
    let l = grade_loss(g);
    format!(
        "grade {}: an assumed {:.1}%/yr chance of an exploit or rug taking {:.0}% of the position",
        g.letter(),
        l.event_probability_per_year * 100.0,
        l.loss_given_event * 100.0
    )
}

fn money(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e6 {
        format!("${:.2}M", a / 1e6)
    } else if a >= 1e4 {
        format!("${:.1}k", a / 1e3)
    } else {
        format!("${a:.2}")
    };
    if v < 0.0 { format!("−{s}") } else { s }
}

/// `+1.2%` / `−2.2%`.
fn signed_pct(v: f64) -> String {
    if v < 0.0 { format!("−{:.1}%", -v) } else { format!("+{v:.1}%") }
}

fn tokens_words(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.4}")
    } else {
        format!("{v:.6}")
    }
}

/// The advice for `request` over `market`, reading pools, gas prices and staking weights from
/// `engine`. Deterministic: candidates and holdings are visited in order and ties keep the first.
pub fn advise(engine: &Engine, market: &Market, request: &AdviceRequest) -> Result<Advice, AdviseError> {
    request.validate()?;
    let book = &market.book;
    let limits = request.limits();
    let bridge = request.bridge();
    let horizon = request.horizon_days;
    let years = f64::from(horizon) / 365.0;
    let hpy = request.harvests_per_year();

    // Holdings.
    let mut srcs = Vec::new();
    for (i, h) in request.holdings.0.iter().enumerate() {
        srcs.push(resolve(engine, book, h, i + 1)?);
    }
    for (i, s) in srcs.iter().enumerate() {
        if let Some(j) = srcs[..i].iter().position(|o| o.token == s.token) {
            return Err(bad(
                "holdings",
                format!(
                    "holdings {} and {} are both {} on {}: give each asset once per chain",
                    j + 1,
                    i + 1,
                    s.v.token_symbol,
                    s.v.chain
                ),
            ));
        }
    }
    let total: f64 = srcs.iter().map(|s| s.v.value_usd).sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(bad("holdings", "the holdings have no USD value"));
    }

    // Assets and their ratio variances.
    let mut asset_names: BTreeSet<String> = srcs.iter().map(|s| s.v.asset.clone()).collect();
    for c in &market.candidates {
        for (t, _) in entry_tokens(engine, &c.opportunity) {
            asset_names.insert(asset_of(&engine.token(t).symbol));
        }
    }
    let assets: Vec<String> = asset_names.into_iter().collect();
    let aix = |a: &str| assets.iter().position(|x| x == a).unwrap_or(0);
    for s in srcs.iter_mut() {
        s.asset = aix(&s.v.asset);
    }
    let vol = &market.volatility;
    let cov: Vec<Vec<f64>> = assets
        .iter()
        .map(|a| {
            assets
                .iter()
                .map(|b| (vol.usd_sigma(a).powi(2) + vol.usd_sigma(b).powi(2) - vol.ratio_variance(a, b)) / 2.0)
                .collect()
        })
        .collect();

    let graph = Graph::new(engine, book);
    let assets_by_chain: Vec<BTreeMap<String, usize>> =
        (0..engine.chains().len()).map(|c| chain_assets(engine, book, c)).collect();

    // Candidates the constraints admit.
    let mut excluded = Vec::new();
    let mut cands: Vec<Cand<'_>> = Vec::new();
    for c in &market.candidates {
        let o = &c.opportunity;
        let reason = |r: String| Excluded { opportunity: o.id.clone(), reason: r };
        if request.overrides.exclude.iter().any(|x| x == &o.id) {
            excluded.push(reason("excluded by the request".into()));
            continue;
        }
        if let Some(a) = c.alerts.first() {
            excluded.push(reason(format!("alert: {a}")));
            continue;
        }
        let Some(t) = &c.terms else {
            excluded.push(reason("not graded".into()));
            continue;
        };
        if t.grade > limits.min_grade {
            excluded.push(reason(format!(
                "grade {} is below the minimum {} of a {} tolerance",
                t.grade.letter(),
                limits.min_grade.letter(),
                request.tolerance.as_str()
            )));
            continue;
        }
        if o.lockup.days > horizon {
            excluded.push(reason(format!("locked {} days, longer than the {horizon}-day horizon", o.lockup.days)));
            continue;
        }
        if o.tvl_usd.is_nan() || o.tvl_usd <= 0.0 {
            excluded.push(reason("nothing staked yet: its APR is not defined".into()));
            continue;
        }
        let entry: Vec<(usize, f64, usize)> = entry_tokens(engine, o)
            .into_iter()
            .map(|(tk, share)| (tk, share, aix(&asset_of(&engine.token(tk).symbol))))
            .collect();
        if entry.iter().any(|(tk, _, _)| book.usd(*tk).is_none()) {
            excluded.push(reason("one of its tokens has no price".into()));
            continue;
        }
        let chain = t.gas.chain;
        let (base_tvl, reward_tvl, boost, deposit_fee) = match o.target {
            Target::Pool { ix } => (pool_tvl(engine, book, ix).unwrap_or(o.tvl_usd), 0.0, 1.0, 0.0),
            Target::FarmPool { ix } => {
                let fp = engine.farm_pool(ix);
                let base = match engine.token(fp.stake_token).minter {
                    Minter::Pool(p) => pool_tvl(engine, book, p).unwrap_or(0.0),
                    _ => 0.0,
                };
                (base, o.tvl_usd, 1.0, f64::from(fp.deposit_fee_bps) / 10_000.0)
            }
            Target::Staking { ix, term_days } => {
                let sp = engine.staking_pool(ix);
                let price = book.usd(sp.stake_token).unwrap_or(0.0);
                let w = human(engine, sp.stake_token, sp.total_weight) * price;
                let b =
                    sp.terms.iter().find(|x| x.days == term_days).map_or(1.0, |x| f64::from(x.boost_bps) / 10_000.0);
                (0.0, w, b, 0.0)
            }
        };
        let sigma_ratio = match t.exposure {
            Exposure::Single => 0.0,
            Exposure::Pair { sigma_0, sigma_1, rho } => riskadj::ratio_volatility(sigma_0, sigma_1, rho),
        };
        let dumped = t.emissions.dumped_share.unwrap_or(1.0);
        let usd = |u: u64| gas_price_usd(engine, book, chain, u);
        let loss = grade_loss(t.grade);
        let q_event = if loss.event_probability_per_year >= 1.0 {
            1.0
        } else {
            -(years * (-loss.event_probability_per_year).ln_1p()).exp_m1()
        };
        let mut cand = Cand {
            o,
            t,
            chain,
            base_tvl,
            reward_tvl,
            boost,
            deposit_fee,
            exit: t.reward_token.and_then(|r| ExitLiquidity::of(engine, book, r)),
            il_apr: if sigma_ratio > 0.0 { crate::il::break_even_fee_apr(sigma_ratio, years) } else { 0.0 },
            loss_apr: riskadj::expected_loss_apr(t.grade, years),
            avg_factor: average_emission_price_factor(t.emissions.inflation, dumped, years),
            end_factor: emission_price_factor(t.emissions.inflation, dumped, years),
            sigma_ratio: sigma_ratio * years.sqrt(),
            q_event,
            lgd: loss.loss_given_event,
            enter_gas_usd: usd(t.gas.enter),
            exit_gas_usd: usd(t.gas.exit),
            harvest_gas_usd: usd(t.gas.harvest),
            harvests: if t.apr_reward > 0.0 { (f64::from(hpy) * years).round() as u32 } else { 0 },
            tvl_room: limits.max_tvl_share / (1.0 - limits.max_tvl_share) * o.tvl_usd,
            entry,
            routes: Vec::new(),
        };
        cand.routes = srcs
            .iter()
            .map(|s| build_route(engine, book, &graph, s, chain, &cand.entry, &bridge, &assets_by_chain))
            .collect();
        if cand.routes.iter().all(Option::is_none) {
            excluded.push(reason(format!("no swap route from your holdings to {}", o.symbol)));
            continue;
        }
        cands.push(cand);
    }

    let ctx = Ctx { engine, srcs, assets, cov, years, lambda: limits.bad_case_weight, bridge };
    let n_src = ctx.srcs.len();
    let step = (total / STEPS).max(1.0);
    let mut alloc: Vec<Vec<f64>> = vec![vec![0.0; n_src]; cands.len()];
    let mut current: Vec<Eval> = vec![Eval::default(); cands.len()];
    let mut used_src = vec![0.0; n_src];
    let mut used_protocol: BTreeMap<&str, f64> = BTreeMap::new();
    let mut used_chain: BTreeMap<usize, f64> = BTreeMap::new();
    let eps = 1e-9 * total.max(1.0);
    let cap_p = limits.max_protocol_share * total;
    let cap_c = limits.max_chain_share * total;

    for _ in 0..(20.0 * STEPS) as usize {
        let mut best: Option<(f64, usize, usize, f64, Eval)> = None;
        for (ci, c) in cands.iter().enumerate() {
            let line_x: f64 = alloc[ci].iter().sum();
            let room_p = cap_p - used_protocol.get(c.o.project.as_str()).copied().unwrap_or(0.0);
            let room_c = cap_c - used_chain.get(&c.chain).copied().unwrap_or(0.0);
            let room_t = c.tvl_room - line_x;
            for h in 0..n_src {
                if c.routes[h].is_none() {
                    continue;
                }
                let rem = ctx.srcs[h].v.value_usd - used_src[h];
                let room = rem.min(room_p).min(room_c).min(room_t);
                if room <= eps.max(0.005) {
                    continue;
                }
                let mut lots = Vec::new();
                if alloc[ci][h] > 0.0 {
                    lots.push(step.min(room));
                } else {
                    let mut k = step;
                    while k < room {
                        lots.push(k);
                        k *= 2.0;
                    }
                    lots.push(room);
                }
                for lot in lots {
                    let mut xs = alloc[ci].clone();
                    xs[h] += lot;
                    let e = ctx.eval(c, &xs);
                    if e.median <= 0.0 || e.d <= 0.0 {
                        continue;
                    }
                    let gain = (e.objective - current[ci].objective) / lot;
                    if gain > 0.0 && best.as_ref().is_none_or(|(g, ..)| gain > *g) {
                        best = Some((gain, ci, h, lot, e));
                    }
                }
            }
        }
        let Some((_, ci, h, lot, e)) = best else { break };
        alloc[ci][h] += lot;
        current[ci] = e;
        used_src[h] += lot;
        *used_protocol.entry(cands[ci].o.project.as_str()).or_insert(0.0) += lot;
        *used_chain.entry(cands[ci].chain).or_insert(0.0) += lot;
    }

    // Lines.
    let mut lines = Vec::new();
    for (ci, c) in cands.iter().enumerate() {
        let e = current[ci];
        if e.x <= 0.0 {
            let reason = unpicked_reason(&ctx, c, step, total, &limits);
            excluded.push(Excluded { opportunity: c.o.id.clone(), reason });
            continue;
        }
        lines.push(line_of(&ctx, c, &alloc[ci], &e, total, step, &limits, &used_protocol, &used_chain, &used_src));
    }
    lines.sort_by(|a, b| {
        b.amount_usd
            .partial_cmp(&a.amount_usd)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.opportunity.cmp(&b.opportunity))
    });
    excluded.sort_by(|a, b| a.opportunity.cmp(&b.opportunity));

    let unallocated: Vec<Unallocated> = ctx
        .srcs
        .iter()
        .enumerate()
        .filter(|(h, s)| s.v.value_usd - used_src[*h] > 0.005)
        .map(|(h, s)| {
            let usd = s.v.value_usd - used_src[h];
            Unallocated {
                holding: s.v.label(),
                symbol: s.v.symbol.clone(),
                chain: s.v.chain.clone(),
                amount: usd / s.v.price_usd,
                usd,
            }
        })
        .collect();
    let totals = totals_of(&lines, total, years);
    let assumptions = assumptions_of(&ctx, &lines, &limits, &bridge, hpy, step, &market.volatility);
    let as_of = engine.chains().iter().map(|c| c.now).max().unwrap_or(0);
    Ok(Advice {
        horizon_days: horizon,
        tolerance: request.tolerance,
        limits,
        bridge,
        harvests_per_year: hpy,
        as_of,
        step_usd: step,
        holdings: ctx.srcs.iter().map(|s| s.v.clone()).collect(),
        lines,
        unallocated,
        totals,
        excluded,
        assumptions,
    })
}

/// Why an admitted candidate got nothing: its outcome at a reference size from its cheapest
/// holding.
fn unpicked_reason(ctx: &Ctx<'_>, c: &Cand<'_>, step: f64, total: f64, limits: &Limits) -> String {
    let size = (0.25 * total)
        .min(limits.max_protocol_share * total)
        .min(limits.max_chain_share * total)
        .min(c.tvl_room)
        .max(step.min(total));
    let mut best: Option<(f64, usize, Eval)> = None;
    for h in 0..ctx.srcs.len() {
        if c.routes[h].is_none() {
            continue;
        }
        let x = size.min(ctx.srcs[h].v.value_usd);
        let mut xs = vec![0.0; ctx.srcs.len()];
        xs[h] = x;
        let e = ctx.eval(c, &xs);
        if best.as_ref().is_none_or(|(o, ..)| e.objective > *o) {
            best = Some((e.objective, h, e));
        }
    }
    match best {
        Some((_, h, e)) if e.median <= 0.0 => format!(
            "not picked: {} from your {} would net {} in the median over the horizon (costs and gas {} against {:.2}% a year)",
            money(e.x),
            ctx.srcs[h].v.label(),
            money(e.median),
            money(
                e.cost.fee_usd
                    + e.cost.impact_usd
                    + e.cost.bridge_usd
                    + e.cost.gas_usd
                    + e.deposit_fee_usd
                    + e.gas_later
            ),
            e.rates.radj * 100.0
        ),
        Some((_, h, e)) => format!(
            "not picked: {} from your {} would net {} in the median and {} in the bad case; other lines did better per dollar, or the caps were full",
            money(e.x),
            ctx.srcs[h].v.label(),
            money(e.median),
            money(e.bad)
        ),
        None => "not picked: no route from your holdings".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn line_of(
    ctx: &Ctx<'_>,
    c: &Cand<'_>,
    xs: &[f64],
    e: &Eval,
    total: f64,
    step: f64,
    limits: &Limits,
    used_protocol: &BTreeMap<&str, f64>,
    used_chain: &BTreeMap<usize, f64>,
    used_src: &[f64],
) -> AdviceLine {
    let engine = ctx.engine;
    let o = c.o;
    let t = ctx.years;
    let chain_name = engine.chain(c.chain).name.clone();
    let mut sources = Vec::new();
    for (h, &xh) in xs.iter().enumerate() {
        if xh <= 0.0 {
            continue;
        }
        let Some(route) = &c.routes[h] else { continue };
        let s = &ctx.srcs[h];
        let (rc, outs) = route.cost(s.v.price_usd, xh, &ctx.bridge);
        let mut words = Vec::new();
        let sym = |tk: usize| engine.token(tk).symbol.clone();
        let pool_id = |p: usize| engine.pool(p).id.clone();
        let src_chain = engine.chain(s.chain).name.clone();
        let mut amount = xh / s.v.price_usd;
        for hop in &route.pre.hops {
            let sw = Path { hops: vec![*hop] }.run(amount);
            words.push(format!(
                "swap {} {} → {} {} in {} on {src_chain}",
                tokens_words(amount),
                sym(hop.token_in),
                tokens_words(sw.out),
                sym(hop.token_out),
                pool_id(hop.pool)
            ));
            amount = sw.out;
        }
        if let Some((from, to, p)) = route.bridge {
            let v = amount * p;
            let fee = (ctx.bridge.fixed_usd + v * ctx.bridge.fee_bps / 10_000.0).min(v);
            words.push(format!(
                "bridge {} {} from {src_chain} to {chain_name} as {} (fee {})",
                tokens_words(amount),
                sym(from),
                sym(to),
                money(fee)
            ));
            amount = (v - fee) / p;
        }
        for ((share, target, path), out) in route.legs.iter().zip(&outs) {
            if path.hops.is_empty() {
                continue;
            }
            let names: Vec<String> = path.hops.iter().map(|h| pool_id(h.pool)).collect();
            words.push(format!(
                "swap {} {} → {} {} via {}",
                tokens_words(amount * share),
                sym(path.hops[0].token_in),
                tokens_words(*out),
                sym(*target),
                names.join(" → ")
            ));
        }
        if words.is_empty() {
            words.push(format!("use {} {} as it is", tokens_words(xh / s.v.price_usd), s.v.token_symbol));
        }
        words.push(entry_words(engine, o));
        sources.push(Funding {
            holding: s.v.label(),
            symbol: s.v.symbol.clone(),
            chain: s.v.chain.clone(),
            amount: xh / s.v.price_usd,
            usd: xh,
            route: words,
            swap_fee_usd: rc.fee_usd,
            price_impact_usd: rc.impact_usd,
            bridge_usd: rc.bridge_usd,
            gas_usd: rc.gas_usd,
        });
    }
    let costs_total = e.cost.fee_usd + e.cost.impact_usd + e.cost.bridge_usd + e.deposit_fee_usd;
    let gas = LineGas {
        entry_usd: e.cost.gas_usd,
        exit_usd: c.exit_gas_usd,
        harvests: c.harvests,
        harvest_usd: c.harvest_gas_usd,
        total_usd: e.cost.gas_usd + e.gas_later,
    };
    let r = e.rates;
    let eps = (e.d * 1e-4).max(1.0);
    let f = |d: f64| d * c.rates(d, t).radj;
    let marginal = (f(e.d + eps) - f(e.d)) / eps;
    let apy = LineApy {
        base_pct: r.base * 100.0,
        reward_pct: r.reward * 100.0,
        expected_il_pct: c.il_apr * 100.0,
        reward_decay_pct: r.decay * 100.0,
        expected_loss_pct: c.loss_apr * 100.0,
        risk_adjusted_pct: r.radj * 100.0,
        marginal_pct: marginal * 100.0,
        listed_apy_pct: o.apy,
        listed_risk_adjusted_pct: o.apy_risk_adjusted,
    };
    let kind_words = match o.kind {
        Kind::LpFarm => "LP farm",
        Kind::SingleStake => "staking",
        Kind::PlainLp => "liquidity pool",
    };
    let funded: Vec<String> = sources.iter().map(|s| s.holding.clone()).collect();
    let crossed = sources.iter().any(|s| s.chain != chain_name);
    let why = format!(
        "{} {} {} on {} (grade {}): {:.2}% a year at this size ({:.2}% fees + {:.2}% rewards − {:.2}% expected IL − {:.2}% reward decay − {:.2}% expected loss); {} committed nets {} in the median over {} days after {} of entry costs and {} of gas. Funded from {}{}.",
        o.project,
        o.symbol,
        kind_words,
        chain_name,
        c.t.grade.letter(),
        r.radj * 100.0,
        r.base * 100.0,
        r.reward * 100.0,
        c.il_apr * 100.0,
        r.decay * 100.0,
        c.loss_apr * 100.0,
        money(e.x),
        money(e.median),
        (t * 365.0).round(),
        money(costs_total),
        money(gas.total_usd),
        funded.join(" and "),
        if crossed { ", bridged" } else { "" }
    );
    // Risks.
    let mut risks = vec![grade_words(c.t.grade)];
    if c.sigma_ratio > 0.0 {
        let z = 1.96;
        let moved = (z * c.sigma_ratio).exp();
        risks.push(format!(
            "impermanent loss: {:.2}% expected, {:.1}% if the pair's price ratio moves ×{:.2} (a 2σ move at {:.0}%/yr volatility)",
            -crate::il::expected_il(c.sigma_ratio / t.sqrt(), t) * 100.0,
            -il_closed_form(moved) * 100.0,
            moved,
            c.sigma_ratio / t.sqrt() * 100.0
        ));
    }
    if (e.sigma_position - e.sigma_sources).abs() > 0.01 {
        let held: Vec<&str> = sources.iter().map(|s| s.symbol.as_str()).collect();
        let fall = |sigma: f64| -(-1.96 * sigma * t.sqrt()).exp_m1() * 100.0;
        risks.push(format!(
            "price exposure: {} moves {:.0}%/yr in USD against {:.0}%/yr for your {}, so a 2σ fall over the horizon takes {:.1}% of the position against {:.1}% of the holdings it replaces",
            o.symbol,
            e.sigma_position * 100.0,
            e.sigma_sources * 100.0,
            held.join(" and "),
            fall(e.sigma_position),
            fall(e.sigma_sources)
        ));
    }
    if r.reward > 0.0 {
        let reward_sym = c.t.reward_token.map(|x| engine.token(x).symbol.clone()).unwrap_or_default();
        risks.push(format!(
            "rewards in {reward_sym}: emissions of {:.0}%/yr of its supply make them fetch {:.1}% less than today on average",
            c.t.emissions.inflation * 100.0,
            (1.0 - c.avg_factor) * 100.0
        ));
    }
    if o.lockup.days > 0 {
        let rule = match &o.lockup.early_exit {
            crate::market::ExitRule::Free => String::new(),
            crate::market::ExitRule::Forbidden => ": no early exit".into(),
            crate::market::ExitRule::Penalty { penalty_pct, forfeit_rewards } => format!(
                ": leaving early costs {penalty_pct}% of principal{}",
                if *forfeit_rewards { " and the pending rewards" } else { "" }
            ),
        };
        risks.push(format!("locked {} days{rule}", o.lockup.days));
    }
    if c.deposit_fee > 0.0 {
        risks.push(format!("a deposit fee of {:.2}% goes to the farm's owner", c.deposit_fee * 100.0));
    }
    let share_of_tvl = e.d / (o.tvl_usd + e.d);
    if share_of_tvl > 0.005 {
        risks.push(format!("you would be {:.1}% of its TVL", share_of_tvl * 100.0));
    }
    for f in &o.flags {
        risks.push(f.clone());
    }
    let bad_case = if e.event {
        format!(
            "a {} event within {} days has a {:.1}% chance (≥ 5%): the bad case loses {:.0}% of the position",
            c.t.grade.letter(),
            (t * 365.0).round(),
            c.q_event * 100.0,
            c.lgd * 100.0
        )
    } else if c.sigma_ratio > 0.0 {
        "no loss event (under 5% likely): the pair's price ratio moves 2σ (IL) and the position's assets fall 2σ in USD, counted where that is more than your holdings would have fallen; rewards sell at the horizon's price".into()
    } else {
        "no loss event (under 5% likely): the position's assets fall 2σ in USD, counted where that is more than your holdings would have fallen; rewards sell at the horizon's price".into()
    };
    risks.push(format!("bad case (p5): {} ({})", money(e.bad), signed_pct(e.bad / e.x * 100.0)));
    // What stopped it.
    let x = e.x;
    let mut limit = Vec::new();
    if used_protocol.get(o.project.as_str()).copied().unwrap_or(0.0) >= limits.max_protocol_share * total - step / 2.0 {
        limit.push(format!(
            "{} is at the per-protocol cap ({:.0}% of your holdings)",
            o.project,
            limits.max_protocol_share * 100.0
        ));
    }
    if used_chain.get(&c.chain).copied().unwrap_or(0.0) >= limits.max_chain_share * total - step / 2.0 {
        limit.push(format!("{chain_name} is at the per-chain cap ({:.0}%)", limits.max_chain_share * 100.0));
    }
    if x >= c.tvl_room - step / 2.0 {
        limit.push(format!("the line is at {:.0}% of the opportunity's TVL", limits.max_tvl_share * 100.0));
    }
    let exhausted =
        xs.iter().enumerate().all(|(h, xh)| *xh <= 0.0 || ctx.srcs[h].v.value_usd - used_src[h] <= step / 2.0);
    if exhausted && limit.is_empty() {
        limit.push("the holdings that can fund it are all allocated".into());
    }
    if limit.is_empty() {
        limit.push(format!(
            "the next {} earns less here (your deposit dilutes it to {:.2}% a year at the margin) than it adds elsewhere, or nothing after costs",
            money(step),
            marginal * 100.0
        ));
    }
    AdviceLine {
        opportunity: o.id.clone(),
        kind: o.kind,
        chain: chain_name,
        chain_id: o.chain_id,
        project: o.project.clone(),
        symbol: o.symbol.clone(),
        grade: c.t.grade.letter(),
        risk_score: o.risk_score,
        lockup_days: o.lockup.days,
        tvl_usd: o.tvl_usd,
        amount_usd: x,
        share: x / total,
        deployed_usd: e.d,
        usd_sigma_pct: e.sigma_position * 100.0,
        holdings_usd_sigma_pct: e.sigma_sources * 100.0,
        share_of_tvl,
        sources,
        costs: Costs {
            swap_fee_usd: e.cost.fee_usd,
            price_impact_usd: e.cost.impact_usd,
            bridge_usd: e.cost.bridge_usd,
            deposit_fee_usd: e.deposit_fee_usd,
            total_usd: costs_total,
        },
        gas,
        apy,
        median_usd: e.median,
        median_pct: e.median / x * 100.0,
        bad_usd: e.bad,
        bad_pct: e.bad / x * 100.0,
        bad_case,
        why,
        risks: risks.join("; "),
        limit: limit.join("; "),
    }
}

fn totals_of(lines: &[AdviceLine], total: f64, years: f64) -> Totals {
    let sum = |f: &dyn Fn(&AdviceLine) -> f64| lines.iter().map(f).sum::<f64>();
    let allocated = sum(&|l| l.amount_usd);
    let median = sum(&|l| l.median_usd);
    let bad = sum(&|l| l.bad_usd);
    let slices = |key: &dyn Fn(&AdviceLine) -> String| {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        for l in lines {
            *m.entry(key(l)).or_insert(0.0) += l.amount_usd;
        }
        let mut v: Vec<Slice> = m.into_iter().map(|(name, usd)| Slice { name, usd, share: usd / total }).collect();
        v.sort_by(|a, b| {
            b.usd.partial_cmp(&a.usd).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.name.cmp(&b.name))
        });
        v
    };
    let pct = |v: f64| if allocated > 0.0 { v / allocated * 100.0 } else { 0.0 };
    Totals {
        holdings_usd: total,
        allocated_usd: allocated,
        unallocated_usd: (total - allocated).max(0.0),
        deployed_usd: sum(&|l| l.deployed_usd),
        costs_usd: sum(&|l| l.costs.total_usd),
        gas_usd: sum(&|l| l.gas.total_usd),
        median_usd: median,
        median_pct: pct(median),
        median_apy_pct: pct(median) / years,
        bad_usd: bad,
        bad_pct: pct(bad),
        by_chain: slices(&|l| l.chain.clone()),
        by_protocol: slices(&|l| l.project.clone()),
    }
}

#[allow(clippy::too_many_arguments)]
fn assumptions_of(
    ctx: &Ctx<'_>,
    lines: &[AdviceLine],
    limits: &Limits,
    bridge: &BridgeModel,
    hpy: u32,
    step: f64,
    vol: &Volatility,
) -> Vec<String> {
    let mut a = Vec::new();
    for s in &ctx.srcs {
        a.push(format!(
            "{} {} read as {} {} ({}) on {}{} at ${:.4} each (the hub's 30-minute TWAP): {}",
            tokens_words(s.v.amount),
            s.v.symbol,
            tokens_words(s.v.amount),
            s.v.token_symbol,
            s.v.token,
            s.v.chain,
            if s.v.chain_given { "" } else { " (no chain given: the first chain that has the asset)" },
            s.v.price_usd,
            money(s.v.value_usd)
        ));
    }
    a.push(format!(
        "Constraints: grade {} or better; at most {:.0}% of the holdings in one protocol and {:.0}% on one chain; a position at most {:.0}% of an opportunity's TVL; lock-up no longer than the horizon; every line nets more than $0 in the median.",
        limits.min_grade.letter(),
        limits.max_protocol_share * 100.0,
        limits.max_chain_share * 100.0,
        limits.max_tvl_share * 100.0
    ));
    a.push(format!(
        "Objective: the sum over lines of (1 − λ)·median + λ·bad case with λ = {}, allocated greedily in steps of {} (new lines in lots of 1, 2, 4, … steps so their fixed costs can pay off).",
        limits.bad_case_weight,
        money(step)
    ));
    a.push(format!(
        "Bridge model (an assumption, not a quote): {} bps of the amount + {} per crossing, plus {} gas on the source chain; the same asset arrives on the other side (ETH as WETH), with no delay or failure.",
        bridge.fee_bps,
        money(bridge.fixed_usd),
        bridge.gas_units
    ));
    a.push(
        "Swaps are quoted on the pools' reserves now (constant product, each hop's fee); each line is quoted on its own, so lines that route through the same pool would move it together and pay a little more.".into(),
    );
    a.push(format!(
        "Gas at each chain's gas price and the native token's TWAP: entry gas (swaps, bridge, add liquidity, deposit or stake) comes out of the amount committed; exit and {hpy} harvests a year come out of the earnings. No swap back at the end: you keep the position's assets."
    ));
    a.push(
        "Your deposit dilutes what it joins: rewards APR·V/(V + b·d) (b the term's boost) and fees APR·V_pool/(V_pool + d); rewards are capped at what selling them through the reward token's pool fetches.".into(),
    );
    a.push(
        "Median: the risk-adjusted APY of docs/risk.md at the line's size and horizon (expected IL, reward-token decay, the grade's expected loss) with prices driftless, net of entry costs and gas.".into(),
    );
    a.push(
        "Bad case ≈ the 5th percentile: a loss event of the grade if it is at least 5% likely over the horizon, else IL at the matching quantile of the pair's moves (≈ 2σ), plus the fall in USD the position's assets add over the holdings that fund it at the same quantile, with rewards sold at the horizon's price; the total adds the lines' bad cases as if they struck together.".into(),
    );
    let assumed: Vec<&str> = vol
        .assumed
        .iter()
        .filter(|x| {
            lines.iter().any(|l| l.symbol.split('-').any(|s| asset_of(s) == **x))
                || ctx.srcs.iter().any(|s| s.v.asset == **x)
        })
        .map(String::as_str)
        .collect();
    let (stable, volatile): (Vec<&str>, Vec<&str>) =
        assumed.into_iter().partition(|x| vol.usd_sigma(x) <= assess::ASSUMED_SIGMA_STABLE);
    if !volatile.is_empty() {
        a.push(format!(
            "History is too short to measure the volatility of {} in USD: assumed {:.0}% a year (√2 of it for a token priced through another volatile one, uncorrelated).",
            volatile.join(", "),
            assess::ASSUMED_SIGMA_VOLATILE * 100.0,
        ));
    }
    if !stable.is_empty() {
        a.push(format!(
            "Stablecoins ({}) are taken to move {:.0}% a year against the dollar.",
            stable.join(", "),
            assess::ASSUMED_SIGMA_STABLE * 100.0
        ));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_known_values() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.95, 1.644_853_626_951_472_7),
            (0.01, -2.326_347_874_040_841),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-8, "Φ⁻¹({p}) = {} not {z}", normal_quantile(p));
        }
    }

    #[test]
    fn a_constant_product_swap_keeps_its_fee_and_loses_impact() {
        let h = Hop {
            pool: 0,
            token_in: 0,
            token_out: 1,
            r_in: 1000.0,
            r_out: 2_000_000.0,
            fee: 0.003,
            p_in: 2000.0,
            p_out: 1.0,
        };
        let s = Path { hops: vec![h] }.run(10.0);
        // out = 9.97·2e6/(1000+9.97)
        assert!((s.out - 9.97 * 2e6 / 1009.97).abs() < 1e-6);
        assert!((s.fee_usd - 10.0 * 0.003 * 2000.0).abs() < 1e-9);
        assert!((s.impact_usd - (9.97 * 2000.0 - s.out)).abs() < 1e-6);
    }
}
