//! Risk-adjusted yield: the gross APY of an opportunity net of what a holder should expect to lose
//! over the horizon — impermanent loss from the assets' volatility and correlation, gas for the
//! position's size, the reward token's price decay from its emissions, and the expected loss
//! implied by the risk grade. `docs/risk.md` states every formula with a worked example.
//!
//! Units: every rate is a fraction per year (0.12 = 12 %/yr); volatilities are annualised standard
//! deviations of log returns (0.8 = 80 %); money is USD; horizons are days, with 365 days a year.
//!
//! How the terms combine: each cost is expressed as a *simple annual rate on the position* over
//! the horizon `T` (the cost as a fraction of the position, divided by `T` in years) and subtracted
//! from the gross APY:
//! `apy_risk_adjusted = apy_gross − expected_il_apr − gas_drag_apr − reward_decay_apr −
//! expected_loss_apr`. This is a first-order decomposition: it ignores the yield not earned on
//! value already lost, a product of two small rates.

use crate::il::expected_il;
use serde::Serialize;

/// Days in the year used to annualise.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// A risk grade, A (lowest risk) to F (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl Grade {
    /// All grades, best first.
    pub const ALL: [Grade; 6] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::E, Grade::F];

    /// The grade of a letter (either case), if it is one of A–F.
    pub fn from_letter(c: char) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.letter() == c.to_ascii_uppercase())
    }

    pub fn letter(self) -> char {
        match self {
            Grade::A => 'A',
            Grade::B => 'B',
            Grade::C => 'C',
            Grade::D => 'D',
            Grade::E => 'E',
            Grade::F => 'F',
        }
    }
}

/// The loss model of one grade: a total-loss event (exploit, rug pull, insolvency) happens with
/// `event_probability_per_year`, and takes `loss_given_event` of the position when it does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GradeLoss {
    pub event_probability_per_year: f64,
    pub loss_given_event: f64,
}

impl GradeLoss {
    /// Expected loss per year, `p · LGD` (what [`expected_loss_apr`] tends to over one year).
    pub fn annual_expected_loss(self) -> f64 {
        self.event_probability_per_year * self.loss_given_event
    }
}

/// Loss model per grade. **These figures are assumptions**, not measurements: no public data set
/// gives per-grade annual loss frequencies for DeFi pools. Their shape follows what published
/// ratings report: Exponential.fi's A–F backtest with DefiLlama found no defaults among A-rated
/// pools, a full recovery after the one B-rated exploit, and about 80 % defaults among F-rated
/// ones over its sample; exploits seldom take everything (partial recoveries, paused contracts),
/// while rugs of unvetted pools do. So the event probability rises roughly geometrically (about
/// ×2.5–3 per grade) from 0.5 %/yr for A to 60 %/yr for F, and the loss given an event rises from
/// 50 % to 100 %. Replace them when the hub has its own incident statistics.
pub const GRADE_LOSS_TABLE: [(Grade, GradeLoss); 6] = [
    (Grade::A, GradeLoss { event_probability_per_year: 0.005, loss_given_event: 0.50 }),
    (Grade::B, GradeLoss { event_probability_per_year: 0.015, loss_given_event: 0.60 }),
    (Grade::C, GradeLoss { event_probability_per_year: 0.04, loss_given_event: 0.70 }),
    (Grade::D, GradeLoss { event_probability_per_year: 0.10, loss_given_event: 0.80 }),
    (Grade::E, GradeLoss { event_probability_per_year: 0.25, loss_given_event: 0.90 }),
    (Grade::F, GradeLoss { event_probability_per_year: 0.60, loss_given_event: 1.00 }),
];

/// The loss model of `grade` from [`GRADE_LOSS_TABLE`].
pub fn grade_loss(grade: Grade) -> GradeLoss {
    GRADE_LOSS_TABLE[grade as usize].1
}

/// Volatility of the price ratio `P1/P2` of two assets with volatilities `sigma_1`, `sigma_2` and
/// correlation `rho` of their log returns: `σ_r² = σ₁² + σ₂² − 2ρσ₁σ₂` (the variance of a
/// difference of log returns). Rounding below zero (ρ = 1, σ₁ = σ₂) is clamped to 0.
pub fn ratio_volatility(sigma_1: f64, sigma_2: f64, rho: f64) -> f64 {
    (sigma_1 * sigma_1 + sigma_2 * sigma_2 - 2.0 * rho * sigma_1 * sigma_2).max(0.0).sqrt()
}

/// APY of an APR compounded `n` times a year: `(1 + APR/n)^n − 1`; `n = 0` means no compounding
/// (APY = APR).
pub fn apy_from_apr(apr: f64, n: u32) -> f64 {
    if n == 0 {
        return apr;
    }
    let n = f64::from(n);
    (n * (apr / n).ln_1p()).exp_m1()
}

/// Price of a reward token after `years`, relative to now, when emissions grow its supply by
/// `inflation` a year and a share `dumped_share` of the new tokens is sold: with the market's
/// demand for the token (its market value) held constant, the price falls as the supply that
/// reaches the market grows, `(1 + g)^(−t)` with `g = inflation · dumped_share`.
pub fn emission_price_factor(inflation: f64, dumped_share: f64, years: f64) -> f64 {
    (-years * (inflation * dumped_share).ln_1p()).exp()
}

/// Average of [`emission_price_factor`] over `[0, years]`: what a stream of rewards earned evenly
/// and sold as earned fetches, relative to today's price:
/// `(1 − (1+g)^(−T)) / (T · ln(1+g))`, and 1 when `g = 0` or `T = 0`.
pub fn average_emission_price_factor(inflation: f64, dumped_share: f64, years: f64) -> f64 {
    let l = (inflation * dumped_share).ln_1p();
    let x = years * l;
    if x.abs() < 1e-12 {
        return 1.0 - 0.5 * x;
    }
    -(-x).exp_m1() / x
}

/// Annualised expected loss from the grade over `years`: the chance of at least one event,
/// `1 − (1 − p)^T`, times the loss given an event, divided by `T`. It is `p · LGD` at `T = 1`,
/// a little more for shorter horizons (the hazard rate `−ln(1 − p)·LGD` as `T → 0`) and less
/// for longer ones (a position can be lost only once).
pub fn expected_loss_apr(grade: Grade, years: f64) -> f64 {
    let g = grade_loss(grade);
    let p = g.event_probability_per_year;
    let survive = if p >= 1.0 { 0.0 } else { (years * (-p).ln_1p()).exp() };
    (1.0 - survive) * g.loss_given_event / years
}

/// What the position is exposed to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Exposure {
    /// A 50/50 constant-product LP position of two assets: annual volatilities of each asset and
    /// the correlation of their log returns.
    Pair { sigma_0: f64, sigma_1: f64, rho: f64 },
    /// Single-token staking: no impermanent loss (`σ_r = 0`).
    Single,
}

/// Gas paid by the position, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GasCosts {
    /// Entering (approvals, add liquidity, deposit or stake).
    pub enter_usd: f64,
    /// One harvest (or claim).
    pub harvest_usd: f64,
    /// Harvests over the horizon. To compound `n` times a year over `T` years, this is `n·T`.
    pub harvests: u32,
    /// Leaving (withdraw or unstake, remove liquidity).
    pub exit_usd: f64,
}

/// The reward token's emissions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Emissions {
    /// Annual growth of the reward token's supply from emissions (0.5 = +50 %/yr).
    pub inflation: f64,
    /// Share of the new tokens sold on the market, in [0, 1]; `None` means all of them (1).
    pub dumped_share: Option<f64>,
    /// Share of the position's *principal* held in the reward token, in [0, 1]: 1 for "stake X,
    /// earn X", 0.5 for an X/Y LP where X is the reward, 0 otherwise. That part decays too.
    pub principal_share: f64,
}

impl Emissions {
    /// No emissions (no reward token, or one with a fixed supply).
    pub const NONE: Emissions = Emissions { inflation: 0.0, dumped_share: None, principal_share: 0.0 };
}

/// Everything [`risk_adjusted_yield`] needs, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskInputs {
    /// Fee (or supply-interest) APR, DeFiLlama's `apyBase` as a fraction before compounding.
    pub apr_base: f64,
    /// Reward-token APR at today's reward price, DeFiLlama's `apyReward` likewise.
    pub apr_reward: f64,
    /// Compounding periods a year (0 = none).
    pub compounding_per_year: u32,
    pub exposure: Exposure,
    /// How long the user means to hold, in days.
    pub horizon_days: f64,
    /// Lock-up in days (0 = flexible). The horizon is at least the lock.
    pub lock_days: f64,
    /// Position size in USD.
    pub position_usd: f64,
    pub gas: GasCosts,
    pub emissions: Emissions,
    pub grade: Grade,
}

/// The breakdown. Rates are fractions per year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskAdjustedYield {
    /// The input fee APR.
    pub apr_base: f64,
    /// The input reward APR (at today's reward price).
    pub apr_reward: f64,
    /// `(1 + (apr_base + apr_reward)/n)^n − 1` with `n = compounding_per_year` (no compounding:
    /// the sum).
    pub apy_gross: f64,
    /// Fee APR that the expected IL would take back, as simple interest on the position:
    /// `−E[IL(σ_r, T)] / T` (see [`crate::il::break_even_fee_apr`]) with
    /// `σ_r = √(σ₀² + σ₁² − 2ρσ₀σ₁)`; 0 for single-token staking.
    pub expected_il_apr: f64,
    /// Gas over the horizon as a rate on the position:
    /// `(enter + harvests · harvest + exit) / position_usd / T`.
    pub gas_drag_apr: f64,
    /// Value lost to the reward token's price decay, as a rate:
    /// `apr_reward · (1 − avg_factor) + principal_share · (1 − end_factor) / T`, where
    /// `end_factor = (1+g)^(−T)` and `avg_factor` is its average over the horizon (rewards sold
    /// as earned), `g = inflation · dumped_share`.
    pub reward_decay_apr: f64,
    /// Grade loss: `(1 − (1 − p)^T) · LGD / T` from [`GRADE_LOSS_TABLE`].
    pub expected_loss_apr: f64,
    /// `apy_gross − expected_il_apr − gas_drag_apr − reward_decay_apr − expected_loss_apr`.
    pub apy_risk_adjusted: f64,
    /// The horizon used: `max(horizon_days, lock_days)`.
    pub horizon_days: f64,
    /// Volatility of the price ratio, `σ_r` (0 for single-token staking).
    pub sigma_ratio: f64,
}

/// An input out of its domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskInputError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl std::fmt::Display for RiskInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for RiskInputError {}

fn check(ok: bool, field: &'static str, reason: &'static str) -> Result<(), RiskInputError> {
    if ok { Ok(()) } else { Err(RiskInputError { field, reason }) }
}

/// The risk-adjusted yield of an opportunity; see [`RiskAdjustedYield`] for every term and
/// `docs/risk.md` for a worked example.
pub fn risk_adjusted_yield(i: &RiskInputs) -> Result<RiskAdjustedYield, RiskInputError> {
    let finite = |x: f64| x.is_finite();
    check(finite(i.apr_base) && i.apr_base > -1.0, "apr_base", "a finite rate above -1")?;
    check(finite(i.apr_reward) && i.apr_reward >= 0.0, "apr_reward", "a finite rate, not negative")?;
    check(finite(i.horizon_days) && i.horizon_days >= 0.0, "horizon_days", "finite, not negative")?;
    check(finite(i.lock_days) && i.lock_days >= 0.0, "lock_days", "finite, not negative")?;
    check(finite(i.position_usd) && i.position_usd > 0.0, "position_usd", "finite and positive")?;
    let g = &i.gas;
    for (v, field) in [(g.enter_usd, "gas.enter_usd"), (g.harvest_usd, "gas.harvest_usd"), (g.exit_usd, "gas.exit_usd")]
    {
        check(finite(v) && v >= 0.0, field, "finite, not negative")?;
    }
    let e = &i.emissions;
    let dumped = e.dumped_share.unwrap_or(1.0);
    check(finite(dumped) && (0.0..=1.0).contains(&dumped), "emissions.dumped_share", "in [0, 1]")?;
    check(finite(e.inflation) && e.inflation * dumped > -1.0, "emissions.inflation", "finite, above -1")?;
    check(
        finite(e.principal_share) && (0.0..=1.0).contains(&e.principal_share),
        "emissions.principal_share",
        "in [0, 1]",
    )?;
    let sigma_ratio = match i.exposure {
        Exposure::Single => 0.0,
        Exposure::Pair { sigma_0, sigma_1, rho } => {
            check(finite(sigma_0) && sigma_0 >= 0.0, "exposure.sigma_0", "finite, not negative")?;
            check(finite(sigma_1) && sigma_1 >= 0.0, "exposure.sigma_1", "finite, not negative")?;
            check(finite(rho) && (-1.0..=1.0).contains(&rho), "exposure.rho", "in [-1, 1]")?;
            ratio_volatility(sigma_0, sigma_1, rho)
        }
    };
    let horizon_days = i.horizon_days.max(i.lock_days);
    check(horizon_days > 0.0, "horizon_days", "positive (or a positive lock)")?;
    let t = horizon_days / DAYS_PER_YEAR;

    let apy_gross = apy_from_apr(i.apr_base + i.apr_reward, i.compounding_per_year);
    let expected_il_apr = if sigma_ratio == 0.0 { 0.0 } else { -expected_il(sigma_ratio, t) / t };
    let gas_total = g.enter_usd + f64::from(g.harvests) * g.harvest_usd + g.exit_usd;
    let gas_drag_apr = gas_total / i.position_usd / t;
    let reward_decay_apr = i.apr_reward * (1.0 - average_emission_price_factor(e.inflation, dumped, t))
        + e.principal_share * (1.0 - emission_price_factor(e.inflation, dumped, t)) / t;
    let expected_loss_apr = expected_loss_apr(i.grade, t);
    let apy_risk_adjusted = apy_gross - expected_il_apr - gas_drag_apr - reward_decay_apr - expected_loss_apr;
    Ok(RiskAdjustedYield {
        apr_base: i.apr_base,
        apr_reward: i.apr_reward,
        apy_gross,
        expected_il_apr,
        gas_drag_apr,
        reward_decay_apr,
        expected_loss_apr,
        apy_risk_adjusted,
        horizon_days,
        sigma_ratio,
    })
}
