//! Mining strategies run along one price path: `hodl`, `lp`, `farm`, `stake` and `vault`, with gas
//! for every transaction they send. The same code runs a historical window (one path from the
//! real closes) and every Monte Carlo path ([`crate::montecarlo`]).
//!
//! **The pool.** `lp`, `farm` and `vault` hold a share of a Uniswap V2 pool of the pair (token 0 the
//! volatile asset with 18 decimals, token 1 the quote with 6), an [`ExactPool`] worth `pool_usd` at
//! entry (the user's deposit plus other, passive LPs). At every step:
//!
//! 1. an arbitrageur moves the pool to the edge of its no-arbitrage band around the market ratio
//!    `p_a/p_b`, with the exact largest trade that stays on its side of the edge
//!    ([`crate::arbitrage::to_band_edge_fast`]; the same trade as the backtest's bisection);
//! 2. noise traders trade `volume_share × pool TVL` a day, as [`TRIPS_PER_DAY`] price-neutral round
//!    trips (both legs real swaps paying the fee, the second leg from
//!    [`crate::arbitrage::restoring_leg_fast`]), spread evenly over the day's steps. Fee income is
//!    therefore what V2 really does: the fee stays in the reserves and compounds;
//! 3. a farm pays `apr` a year on the staked value, in a reward token whose USD price follows the
//!    path's reward series or the emission decay `p(t) = p₀ / (1 + e·t)` (`e` = tokens emitted a
//!    year over the supply at entry: a holder's share of the token is diluted by `1/(1 + e·t)`, and
//!    with constant demand for the token's total value its price falls by the same factor).
//!
//! **Accounting.** The strategy's value is its LP share at market (what a burn would pay, floored)
//! plus unclaimed rewards at the reward price, plus cash (sold rewards, dust left by the router),
//! minus the gas paid. HODL is the deposit split 50/50 at entry and held (for `stake`: all of it
//! in the staked token). Impermanent loss is per LP share, without fees:
//! `IL = ((x·p_a + y·p_b)/S / K) / ((x₀·p_a + y₀·p_b)/S₀) − 1`, where `K` is the product of every
//! swap's `√(x·y)` growth — for a 50/50 V2 position with no fee this is the closed form
//! `2√r/(1+r) − 1` (SPEC §3), which the tests check.
//!
//! **Gas.** `units × gas price × native token USD price`, with the engine's per-action units
//! (`granary_engine::state::gas`): entry is a swap to split the deposit plus the add (plus the farm
//! deposit or the stake), every harvest or compound its own transactions, exit the withdraw and the
//! remove. The native price follows the path when it is given, else the chain's default.

use crate::arbitrage::Ratio;
use crate::backtest::{self, DECIMALS_A, DECIMALS_B};
use crate::pool::{ExactPool, SwapKind, SwapRecord};
use granary_engine::action::{Action, Outcome as EngineOutcome};
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::state::{gas, object_address};
use granary_engine::{Engine, EngineError, Minter, U256};
use serde::Serialize;

/// Noise round trips a day (spread over the day's steps).
pub const TRIPS_PER_DAY: u32 = 4;
const DAYS_PER_YEAR: f64 = 365.0;

/// The strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Hold the two tokens bought 50/50 at entry.
    Hodl,
    /// A constant-product LP position, kept at market by arbitrage, earning the noise traders' fees.
    Lp,
    /// `lp` with the LP tokens staked in a farm that pays a reward token.
    Farm,
    /// Single-token staking (flexible or locked with a boost; early exit pays the penalty).
    Stake,
    /// An auto-compounding `farm`: harvest every N days, sell the rewards, re-add liquidity.
    Vault,
}

impl Strategy {
    pub const ALL: [Strategy; 5] = [Strategy::Hodl, Strategy::Lp, Strategy::Farm, Strategy::Stake, Strategy::Vault];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Hodl => "hodl",
            Strategy::Lp => "lp",
            Strategy::Farm => "farm",
            Strategy::Stake => "stake",
            Strategy::Vault => "vault",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The farm's reward token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reward {
    /// Reward APR on the staked value at entry-time reward price (0.5 = 50 %/year).
    pub apr: f64,
    /// The reward token's USD price at entry (ignored when the path carries a reward series).
    pub price0_usd: f64,
    /// Tokens emitted a year over the supply at entry: the price decays as `1/(1 + e·t)`.
    pub emission_per_year: f64,
}

/// A single-token staking pool's terms (engine semantics, `granary_engine::staking`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StakeTerms {
    /// What a flexible (1×) stake earns a year, in the staked token.
    pub apr: f64,
    /// Lock term in days (0 = flexible).
    pub term_days: u32,
    /// The term's weight in basis points (10000 = 1×).
    pub boost_bps: u32,
    /// Early-exit penalty in basis points of principal (`None` = early exit forbidden).
    pub penalty_bps: Option<u32>,
    /// Whether an early exit forfeits the pending rewards.
    pub forfeit_rewards: bool,
    /// Leave after this many days (default: at the end of the window).
    pub exit_day: Option<u32>,
}

/// Gas of one chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gas {
    /// Gas price in gwei (1e-9 of the native token).
    pub gwei: f64,
    /// The native token's USD price when the path does not carry it.
    pub native_usd: f64,
}

impl Gas {
    pub const FREE: Gas = Gas { gwei: 0.0, native_usd: 0.0 };

    fn usd(&self, units: u64, native_usd: f64) -> f64 {
        units as f64 * self.gwei * 1e-9 * native_usd
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub strategy: Strategy,
    pub deposit_usd: f64,
    /// The pool's TVL at entry, the deposit included (≥ deposit).
    pub pool_usd: f64,
    pub fee_bps: u32,
    /// Noise volume a day as a share of the pool's TVL (0.2 = 20 %).
    pub volume_share: f64,
    pub reward: Reward,
    /// `farm`: claim and sell the rewards every N days (0 = only at exit).
    pub harvest_days: u32,
    /// `vault`: compound every N days (≥ 1).
    pub compound_days: u32,
    /// `vault`: performance fee on harvested rewards, basis points.
    pub performance_fee_bps: u32,
    pub stake: StakeTerms,
    pub gas: Gas,
}

impl Config {
    /// A plain configuration: the given strategy on a pool of `10 × deposit`, 30 bps, 20 % daily
    /// volume, a 40 % APR farm whose token loses half its value a year, weekly harvests, a 4.5 %
    /// vault fee, a flexible 10 % stake, no gas.
    pub fn new(strategy: Strategy, deposit_usd: f64) -> Config {
        Config {
            strategy,
            deposit_usd,
            pool_usd: 10.0 * deposit_usd,
            fee_bps: 30,
            volume_share: 0.2,
            reward: Reward { apr: 0.4, price0_usd: 1.0, emission_per_year: 1.0 },
            harvest_days: 7,
            compound_days: 7,
            performance_fee_bps: 450,
            stake: StakeTerms {
                apr: 0.1,
                term_days: 0,
                boost_bps: 10_000,
                penalty_bps: Some(1000),
                forfeit_rewards: false,
                exit_day: None,
            },
            gas: Gas::FREE,
        }
    }

    /// Checks that do not depend on the path; messages name the CLI flag.
    pub fn validate(&self) -> Result<(), SimError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let nonneg = |v: f64| v.is_finite() && v >= 0.0;
        if !pos(self.deposit_usd) {
            return Err(invalid(format!("--deposit must be a positive number of USD, got {}", self.deposit_usd)));
        }
        if !(pos(self.pool_usd) && self.pool_usd >= self.deposit_usd) {
            return Err(invalid(format!(
                "--pool-usd must be at least the deposit ({}), got {}",
                self.deposit_usd, self.pool_usd
            )));
        }
        if self.fee_bps > granary_engine::amm::MAX_FEE_BPS {
            return Err(invalid(format!(
                "--fee-bps must be at most {}, got {}",
                granary_engine::amm::MAX_FEE_BPS,
                self.fee_bps
            )));
        }
        if !nonneg(self.volume_share) || self.volume_share > 100.0 {
            return Err(invalid(format!(
                "--volume must be a share of TVL a day in 0..=100, got {}",
                self.volume_share
            )));
        }
        if !nonneg(self.reward.apr) || !pos(self.reward.price0_usd) || !nonneg(self.reward.emission_per_year) {
            return Err(invalid("--reward-apr and --reward-emission must be ≥ 0 and --reward-price > 0".to_string()));
        }
        if self.strategy == Strategy::Vault && self.compound_days == 0 {
            return Err(invalid("--compound-days must be at least 1 for the vault".to_string()));
        }
        if self.performance_fee_bps > 10_000 {
            return Err(invalid(format!(
                "--performance-fee-bps must be at most 10000, got {}",
                self.performance_fee_bps
            )));
        }
        let s = &self.stake;
        if !nonneg(s.apr) || s.apr > 100.0 {
            return Err(invalid(format!("--stake-apr must be in 0..=100 (a share a year), got {}", s.apr)));
        }
        if s.term_days > granary_engine::staking::MAX_TERM_DAYS {
            return Err(invalid(format!(
                "--term-days must be at most {}, got {}",
                granary_engine::staking::MAX_TERM_DAYS,
                s.term_days
            )));
        }
        if s.boost_bps == 0 || s.boost_bps > granary_engine::staking::MAX_BOOST_BPS {
            return Err(invalid(format!(
                "--boost-bps must be in 1..={}, got {}",
                granary_engine::staking::MAX_BOOST_BPS,
                s.boost_bps
            )));
        }
        if s.penalty_bps.is_some_and(|p| p > 10_000) {
            return Err(invalid("--penalty-bps must be at most 10000".to_string()));
        }
        if !nonneg(self.gas.gwei) || !nonneg(self.gas.native_usd) {
            return Err(invalid("--gas-gwei and --native-usd must be ≥ 0".to_string()));
        }
        Ok(())
    }
}

/// Everything that can go wrong in a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {source}")]
    Engine {
        context: String,
        #[source]
        source: EngineError,
    },
    #[error(transparent)]
    Data(#[from] crate::prices::DataError),
    #[error(transparent)]
    Backtest(#[from] backtest::BacktestError),
}

pub(crate) fn invalid(msg: String) -> SimError {
    SimError::Invalid(msg)
}

fn engine(context: &str) -> impl FnOnce(EngineError) -> SimError + '_ {
    move |source| SimError::Engine { context: context.to_string(), source }
}

/// Prices along one path: `days × steps_per_day + 1` points, the first at entry.
#[derive(Debug, Clone, Copy)]
pub struct PricePath<'a> {
    pub steps_per_day: u32,
    /// USD price of the volatile token.
    pub a: &'a [f64],
    /// USD price of the quote token.
    pub b: &'a [f64],
    /// USD price of the reward token (else the emission decay).
    pub reward: Option<&'a [f64]>,
    /// USD price of the chain's native token (else `Gas::native_usd`).
    pub native: Option<&'a [f64]>,
}

impl PricePath<'_> {
    pub fn steps(&self) -> usize {
        self.a.len().saturating_sub(1)
    }

    pub fn days(&self) -> usize {
        self.steps() / self.steps_per_day.max(1) as usize
    }

    fn check(&self) -> Result<(), SimError> {
        let spd = self.steps_per_day as usize;
        if spd == 0 || spd > 1440 {
            return Err(invalid(format!("--steps-per-day must be in 1..=1440, got {spd}")));
        }
        let n = self.a.len();
        if n < 2 || !(n - 1).is_multiple_of(spd) {
            return Err(invalid(format!("a path needs days × steps-per-day + 1 prices (at least one day), got {n}")));
        }
        let same = |s: Option<&[f64]>| s.is_none_or(|s| s.len() == n);
        if self.b.len() != n || !same(self.reward) || !same(self.native) {
            return Err(invalid("every price series of a path must have the same length".to_string()));
        }
        for s in [Some(self.a), Some(self.b), self.reward, self.native].into_iter().flatten() {
            if let Some(p) = s.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
                return Err(invalid(format!("prices must be positive and finite, found {p}")));
            }
        }
        Ok(())
    }
}

/// The result of one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The strategy's value at the end of each day (index 0 = entry, after entry gas), USD.
    pub daily_value: Vec<f64>,
    /// HODL's value at the end of each day, USD.
    pub daily_hodl: Vec<f64>,
    /// Value after exit (exit gas paid), USD.
    pub final_value: f64,
    pub hodl_value: f64,
    /// Impermanent loss per LP share without fees (0 for hodl and stake), %.
    pub il_pct: f64,
    /// Value at exit of the part of the position earned from noise-trader fees, USD.
    pub fees_usd: f64,
    /// Value at exit of the part earned from the arbitrageur's fees, USD.
    pub arb_fees_usd: f64,
    /// USD the rewards were sold for (after the vault's performance fee), plus unsold rewards at
    /// exit prices.
    pub rewards_usd: f64,
    pub gas_usd: f64,
    /// Early-exit penalty at the exit day's price, USD.
    pub penalty_usd: f64,
    /// Largest peak-to-trough fall of the daily value, %.
    pub max_drawdown_pct: f64,
}

impl Outcome {
    /// `100·(final / hodl − 1)`.
    pub fn return_vs_hodl_pct(&self) -> f64 {
        100.0 * (self.final_value / self.hodl_value - 1.0)
    }

    /// `100·(final / deposit − 1)`.
    pub fn return_pct(&self, deposit: f64) -> f64 {
        100.0 * (self.final_value / deposit - 1.0)
    }
}

/// The pool's swaps and states on one path, for cross-checks against other implementations.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// The reserves and supply after the initial mints (others', then the user's).
    pub initial_reserves: [U256; 2],
    pub initial_supply: U256,
    /// The user's liquidity and the amounts it used.
    pub user_liquidity: U256,
    pub user_amounts: [U256; 2],
    /// Every swap in order.
    pub swaps: Vec<SwapRecord>,
    pub final_reserves: [U256; 2],
    pub final_supply: U256,
    /// What the user's burn paid at exit.
    pub burned: [U256; 2],
}

/// A configuration checked and prepared for many paths of `days` days (the stake schedule is
/// computed once on the engine: it does not depend on prices).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub config: Config,
    stake: Option<StakePlan>,
    native_from_a: bool,
}

impl Prepared {
    /// `native_from_a`: the chain's native token is the path's volatile token (ETH on Ethereum for
    /// ETH/USDC), so gas is priced with the path's own price.
    pub fn new(config: &Config, days: u32, native_from_a: bool) -> Result<Prepared, SimError> {
        config.validate()?;
        let stake = match config.strategy {
            Strategy::Stake => Some(StakePlan::new(&config.stake, config.pool_usd / config.deposit_usd, days)?),
            _ => None,
        };
        Ok(Prepared { config: config.clone(), stake, native_from_a })
    }

    /// Runs the strategy along `path`.
    pub fn run(&self, path: &PricePath<'_>) -> Result<Outcome, SimError> {
        self.run_inner(path, None)
    }

    /// Runs the strategy and records the pool's swaps.
    pub fn run_traced(&self, path: &PricePath<'_>) -> Result<(Outcome, Trace), SimError> {
        let mut trace = Trace::default();
        let out = self.run_inner(path, Some(&mut trace))?;
        Ok((out, trace))
    }

    fn run_inner(&self, path: &PricePath<'_>, trace: Option<&mut Trace>) -> Result<Outcome, SimError> {
        path.check()?;
        if let Some(plan) = &self.stake
            && plan.days as usize != path.days()
        {
            return Err(invalid(format!("prepared for {} days, the path has {}", plan.days, path.days())));
        }
        let c = &self.config;
        match c.strategy {
            Strategy::Hodl => Ok(self.hodl(path)),
            Strategy::Stake => self.staked(path),
            _ => self.pooled(path, trace),
        }
    }

    fn native(&self, path: &PricePath<'_>, i: usize) -> f64 {
        match path.native {
            Some(n) => n[i],
            None if self.native_from_a => path.a[i],
            None => self.config.gas.native_usd,
        }
    }

    fn hodl(&self, path: &PricePath<'_>) -> Outcome {
        let c = &self.config;
        let spd = path.steps_per_day as usize;
        let (qa, qb) = (c.deposit_usd / 2.0 / path.a[0], c.deposit_usd / 2.0 / path.b[0]);
        let daily: Vec<f64> = (0..=path.days()).map(|d| qa * path.a[d * spd] + qb * path.b[d * spd]).collect();
        let last = daily.last().copied().unwrap_or(c.deposit_usd);
        Outcome {
            max_drawdown_pct: max_drawdown_pct(&daily),
            daily_hodl: daily.clone(),
            daily_value: daily,
            final_value: last,
            hodl_value: last,
            il_pct: 0.0,
            fees_usd: 0.0,
            arb_fees_usd: 0.0,
            rewards_usd: 0.0,
            gas_usd: 0.0,
            penalty_usd: 0.0,
        }
    }

    fn staked(&self, path: &PricePath<'_>) -> Result<Outcome, SimError> {
        let c = &self.config;
        let plan = self.stake.as_ref().ok_or_else(|| invalid("stake plan missing".to_string()))?;
        let spd = path.steps_per_day as usize;
        // Whole tokens: the plan is in base units of an 18-decimal token per 1 token deposited.
        let tokens0 = c.deposit_usd / path.a[0];
        let exit_step = plan.exit_day as usize * spd;
        let gas_in = c.gas.usd(gas::STAKE, self.native(path, 0));
        let gas_out = c.gas.usd(gas::UNSTAKE, self.native(path, exit_step));
        let mut daily = Vec::with_capacity(path.days() + 1);
        for d in 0..=path.days() {
            let gas_paid = gas_in + if d >= plan.exit_day as usize { gas_out } else { 0.0 };
            daily.push(tokens0 * plan.held[d] * path.a[d * spd] - gas_paid);
        }
        let hodl: Vec<f64> = (0..=path.days()).map(|d| tokens0 * path.a[d * spd]).collect();
        let final_value = daily.last().copied().unwrap_or(0.0);
        let hodl_value = hodl.last().copied().unwrap_or(0.0);
        Ok(Outcome {
            max_drawdown_pct: max_drawdown_pct(&daily),
            daily_value: daily,
            daily_hodl: hodl,
            final_value,
            hodl_value,
            il_pct: 0.0,
            fees_usd: 0.0,
            arb_fees_usd: 0.0,
            rewards_usd: tokens0 * plan.reward * path.a[path.steps()],
            gas_usd: gas_in + gas_out,
            penalty_usd: tokens0 * plan.penalty * path.a[exit_step],
            // (the penalty is valued on the exit day; it is already out of `held`)
        })
    }

    fn pooled(&self, path: &PricePath<'_>, mut trace: Option<&mut Trace>) -> Result<Outcome, SimError> {
        let c = &self.config;
        let spd = path.steps_per_day as usize;
        let steps = path.steps();
        let (pa0, pb0) = (path.a[0], path.b[0]);
        let to_usd = |amounts: [U256; 2], pa: f64, pb: f64| {
            to_f64(amounts[0]) / backtest::scale(DECIMALS_A) * pa
                + to_f64(amounts[1]) / backtest::scale(DECIMALS_B) * pb
        };

        // Entry: others' liquidity first (passive LPs), then the user's deposit through the router.
        let mut pool = ExactPool::new(c.fee_bps).map_err(engine("--fee-bps"))?;
        let others = c.pool_usd - c.deposit_usd;
        if others > 1e-9 * c.pool_usd {
            let amounts = [
                backtest::to_units(others / 2.0 / pa0, DECIMALS_A)?,
                backtest::to_units(others / 2.0 / pb0, DECIMALS_B)?,
            ];
            pool.mint(amounts).map_err(engine("seeding the pool with the other LPs' liquidity"))?;
        }
        let desired = [
            backtest::to_units(c.deposit_usd / 2.0 / pa0, DECIMALS_A)?,
            backtest::to_units(c.deposit_usd / 2.0 / pb0, DECIMALS_B)?,
        ];
        let (mut liquidity, used) = pool.mint(desired).map_err(engine("adding the deposit to the pool"))?;
        let dust = [desired[0] - used[0], desired[1] - used[1]];
        let mut cash = [to_f64(dust[0]) / backtest::scale(DECIMALS_A), to_f64(dust[1]) / backtest::scale(DECIMALS_B)];
        if let Some(t) = trace.as_deref_mut() {
            t.initial_reserves = pool.reserves;
            t.initial_supply = pool.supply;
            t.user_liquidity = liquidity;
            t.user_amounts = used;
        }
        let (share_x0, share_y0, supply0) = (to_f64(pool.reserves[0]), to_f64(pool.reserves[1]), to_f64(pool.supply));
        let held = [c.deposit_usd / 2.0 / pa0, c.deposit_usd / 2.0 / pb0];

        let farming = matches!(c.strategy, Strategy::Farm | Strategy::Vault);
        let mut gas_usd = c.gas.usd(
            gas::SWAP_HOP + gas::ADD_LIQUIDITY + if farming { gas::FARM_DEPOSIT } else { 0 },
            self.native(path, 0),
        );
        let mut cash_usd = 0.0f64; // sold rewards
        let mut pending = 0.0f64; // unclaimed reward tokens
        let mut rewards_usd = 0.0f64;
        let reward_price = |i: usize| -> f64 {
            match path.reward {
                Some(r) => r[i],
                None => {
                    let years = i as f64 / spd as f64 / DAYS_PER_YEAR;
                    c.reward.price0_usd / (1.0 + c.reward.emission_per_year * years)
                }
            }
        };
        // Reward tokens a year per USD staked: fixed at entry (a farm's emission in tokens is
        // set by its rate; the APR drifts with the token price, as real farm APRs do).
        let reward_per_usd_year = c.reward.apr / reward_price(0);
        let den = backtest::price_scale();
        let trip_leg_share = c.volume_share / f64::from(2 * TRIPS_PER_DAY);
        let mut trip = 0u32;
        let mut daily = Vec::with_capacity(path.days() + 1);
        let mut daily_hodl = Vec::with_capacity(path.days() + 1);
        let value_now = |pool: &ExactPool, liquidity: U256, cash: [f64; 2], i: usize| -> Result<f64, SimError> {
            let r = pool.redeemable(liquidity).map_err(engine("valuing the position"))?;
            Ok(to_usd(r, path.a[i], path.b[i]) + cash[0] * path.a[i] + cash[1] * path.b[i])
        };
        daily.push(value_now(&pool, liquidity, cash, 0)? - gas_usd);
        daily_hodl.push(c.deposit_usd);

        for i in 1..=steps {
            let (pa, pb) = (path.a[i], path.b[i]);
            // 1. Arbitrage to the band edge around the market ratio (in base units).
            let p = backtest::market_units(pa / pb)?;
            if let Some(s) = pool.arbitrage(Ratio { num: p, den }).map_err(engine("arbitrage"))?
                && let Some(t) = trace.as_deref_mut()
            {
                t.swaps.push(s);
            }
            // 2. Noise round trips due by the end of this step (TRIPS_PER_DAY spread over the day).
            while u64::from(trip) < i as u64 * u64::from(TRIPS_PER_DAY) / spd as u64 {
                if c.volume_share > 0.0 {
                    let [x, y] = pool.reserves;
                    let tvl = to_usd([x, y], pa, pb);
                    let leg_a = (trip_leg_share * tvl / pa * backtest::scale(DECIMALS_A)).floor();
                    let first = (trip % 2) as usize;
                    // Both directions move the same notional, the quote leg valued at the pool's price.
                    let leg = if first == 0 { leg_a } else { (leg_a * to_f64(y) / to_f64(x)).floor() };
                    if leg.is_finite() && leg >= 1.0 && leg < 2f64.powi(112) {
                        let legs = pool.round_trip(first, U256::from(leg as u128)).map_err(engine("noise trade"))?;
                        if let Some(t) = trace.as_deref_mut() {
                            t.swaps.extend(legs.into_iter().flatten());
                        }
                    }
                }
                trip += 1;
            }
            // 3. Rewards for the step on the value staked now.
            if farming {
                let staked = to_usd(pool.redeemable(liquidity).map_err(engine("valuing the stake"))?, pa, pb);
                pending += reward_per_usd_year * staked / (spd as f64 * DAYS_PER_YEAR);
            }
            let day_end = i % spd == 0;
            let day = i / spd;
            // 4. Harvests and compounds at the end of their day (not on the exit day: exit claims).
            if day_end && i < steps {
                let pr = reward_price(i);
                let native = self.native(path, i);
                if c.strategy == Strategy::Farm && c.harvest_days > 0 && day.is_multiple_of(c.harvest_days as usize) {
                    let usd = pending * pr;
                    rewards_usd += usd;
                    cash_usd += usd;
                    pending = 0.0;
                    gas_usd += c.gas.usd(gas::FARM_HARVEST + gas::SWAP_HOP, native);
                }
                if c.strategy == Strategy::Vault && day.is_multiple_of(c.compound_days as usize) {
                    let usd = pending * pr * (1.0 - f64::from(c.performance_fee_bps) / 10_000.0);
                    rewards_usd += usd;
                    pending = 0.0;
                    gas_usd += c
                        .gas
                        .usd(gas::FARM_HARVEST + 2 * gas::SWAP_HOP + gas::ADD_LIQUIDITY + gas::FARM_DEPOSIT, native);
                    // Sell the rewards for the quote token, swap half of it into token 0
                    // through the pool, and add both back (the router keeps any excess).
                    let b_units = (usd / pb * backtest::scale(DECIMALS_B)).floor();
                    if b_units >= 2.0 && b_units < 2f64.powi(112) {
                        let b_total = U256::from(b_units as u128);
                        let half = b_total >> 1;
                        let got_a = match pool.swap(1, half, SwapKind::Own) {
                            Ok(out) => {
                                if let Some(t) = trace.as_deref_mut() {
                                    t.swaps.push(SwapRecord {
                                        kind: SwapKind::Own,
                                        sell: 1,
                                        amount_in: half,
                                        amount_out: out,
                                    });
                                }
                                out
                            }
                            Err(_) => U256::ZERO,
                        };
                        let rest_b = b_total - if got_a.is_zero() { U256::ZERO } else { half };
                        match pool.mint([got_a, rest_b]) {
                            Ok((l, used)) => {
                                liquidity += l;
                                cash[0] += to_f64(got_a - used[0]) / backtest::scale(DECIMALS_A);
                                cash[1] += to_f64(rest_b - used[1]) / backtest::scale(DECIMALS_B);
                            }
                            Err(_) => {
                                cash[0] += to_f64(got_a) / backtest::scale(DECIMALS_A);
                                cash[1] += to_f64(rest_b) / backtest::scale(DECIMALS_B);
                            }
                        }
                    } else {
                        cash_usd += usd;
                    }
                }
            }
            if day_end {
                let v = value_now(&pool, liquidity, cash, i)? + pending * reward_price(i) + cash_usd - gas_usd;
                daily.push(v);
                daily_hodl.push(held[0] * pa + held[1] * pb);
            }
        }

        // Exit: claim and sell what is pending, withdraw, remove liquidity.
        let (pa, pb) = (path.a[steps], path.b[steps]);
        let pr = reward_price(steps);
        let last_rewards = pending
            * pr
            * if c.strategy == Strategy::Vault { 1.0 - f64::from(c.performance_fee_bps) / 10_000.0 } else { 1.0 };
        rewards_usd += last_rewards;
        cash_usd += last_rewards;
        gas_usd += c.gas.usd(
            gas::REMOVE_LIQUIDITY
                + if farming { gas::FARM_WITHDRAW } else { 0 }
                + if c.strategy == Strategy::Farm { gas::SWAP_HOP } else { 0 },
            self.native(path, steps),
        );
        let position_usd = to_usd(pool.redeemable(liquidity).map_err(engine("valuing the position"))?, pa, pb);
        let burned = pool.burn(liquidity).map_err(engine("removing the liquidity at exit"))?;
        if let Some(t) = trace {
            t.final_reserves = pool.reserves;
            t.final_supply = pool.supply;
            t.burned = burned;
        }
        let lp_usd = to_usd(burned, pa, pb);
        let final_value = lp_usd + cash[0] * pa + cash[1] * pb + cash_usd - gas_usd;
        if let Some(last) = daily.last_mut() {
            *last = final_value;
        }
        let hodl_value = held[0] * pa + held[1] * pb;
        // IL per LP share, fees removed (module docs). `pool` after the burn has the same
        // per-share reserves up to rounding; use the values just before it.
        let [x, y] = [to_f64(pool.reserves[0] + burned[0]), to_f64(pool.reserves[1] + burned[1])];
        let s_now = to_f64(pool.supply + liquidity);
        let k = pool.growth_arb * pool.growth_noise;
        let share_now = (x / backtest::scale(DECIMALS_A) * pa + y / backtest::scale(DECIMALS_B) * pb) / s_now / k;
        let share_hodl =
            (share_x0 / backtest::scale(DECIMALS_A) * pa + share_y0 / backtest::scale(DECIMALS_B) * pb) / supply0;
        Ok(Outcome {
            max_drawdown_pct: max_drawdown_pct(&daily),
            daily_value: daily,
            daily_hodl,
            final_value,
            hodl_value,
            il_pct: 100.0 * (share_now / share_hodl - 1.0),
            fees_usd: position_usd * (1.0 - 1.0 / pool.growth_noise),
            arb_fees_usd: position_usd / pool.growth_noise * (1.0 - 1.0 / pool.growth_arb),
            rewards_usd,
            gas_usd,
            penalty_usd: 0.0,
        })
    }
}

/// Runs `config` along one path (see [`Prepared`] to run many paths of one configuration).
pub fn simulate(config: &Config, path: &PricePath<'_>) -> Result<Outcome, SimError> {
    let days = u32::try_from(path.days()).map_err(|_| invalid("too many days".to_string()))?;
    Prepared::new(config, days, false)?.run(path)
}

/// Largest peak-to-trough fall, as a positive percentage.
pub fn max_drawdown_pct(values: &[f64]) -> f64 {
    let mut peak = f64::MIN;
    let mut dd = 0.0f64;
    for &v in values {
        peak = peak.max(v);
        if peak > 0.0 {
            dd = dd.max((peak - v) / peak);
        }
    }
    100.0 * dd
}

fn to_f64(x: U256) -> f64 {
    x.into()
}

/// A stake's token holdings per day, per whole token deposited, computed once on the engine's
/// `StakingRewards` arithmetic (the token amounts do not depend on the price).
#[derive(Debug, Clone)]
struct StakePlan {
    days: u32,
    exit_day: u32,
    /// Tokens held at the end of each day (principal + earned; after exit what was paid out).
    held: Vec<f64>,
    /// Reward tokens received at exit, and the penalty paid.
    reward: f64,
    penalty: f64,
}

/// The deposit in base units on the plan's engine (one whole token = 1e18).
const STAKE_UNIT: u128 = 1_000_000_000_000_000_000;

impl StakePlan {
    /// The user stakes one token (1e18 base units) for `terms.term_days` days; others stake
    /// `others_per_user − 1` tokens flexibly; the pool's owner notifies, for the whole window,
    /// the reward that pays a flexible weight unit `terms.apr` a year.
    fn new(terms: &StakeTerms, others_per_user: f64, days: u32) -> Result<StakePlan, SimError> {
        let exit_day = terms.exit_day.unwrap_or(days);
        if exit_day > days {
            return Err(invalid(format!("--exit-day {exit_day} is after the window's last day ({days})")));
        }
        if exit_day < terms.term_days && terms.penalty_bps.is_none() {
            return Err(invalid(format!(
                "--exit-day {exit_day} is before the {}-day lock ends and early exit is forbidden: \
                 exit on day {} or later, or allow it with --penalty-bps",
                terms.term_days, terms.term_days
            )));
        }
        let r = run_stake_engine(terms, others_per_user, days, exit_day).map_err(engine("staking"))?;
        Ok(r)
    }
}

/// A staking pool on a fresh engine with the flexible term and the chosen one, the others'
/// flexible stake, the user's stake, and the reward for `days` notified so that one unit of weight
/// earns `apr` a year. Returns the engine, its chain and the user's position.
fn stake_engine(
    terms: &StakeTerms,
    amount: U256,
    other_amount: U256,
    days: u32,
) -> Result<(Engine, usize, u64), EngineError> {
    let mut e = Engine::new();
    let chain = e.create_chain("lab", 1, "lab", 12)?;
    let token = e.create_token("LAB-T", chain, "TKN", 18, Minter::Nobody)?;
    let owner = object_address("lab", "staking-owner");
    let others = object_address("lab", "other-stakers");
    let mut term_list = vec![Term { days: 0, boost_bps: 10_000 }];
    if terms.term_days > 0 {
        term_list.push(Term { days: terms.term_days, boost_bps: terms.boost_bps });
    } else {
        term_list[0].boost_bps = terms.boost_bps;
    }
    let early_exit = match terms.penalty_bps {
        None => EarlyExit::Forbidden,
        Some(p) => {
            EarlyExit::Penalty { penalty_bps: p, forfeit_rewards: terms.forfeit_rewards, to: PenaltyTo::Treasury }
        }
    };
    let pool = "LAB-S".to_string();
    e.execute(
        owner,
        &Action::CreateStakingPool {
            id: pool.clone(),
            stake_token: "LAB-T".into(),
            reward_token: "LAB-T".into(),
            terms: term_list,
            early_exit,
        },
    )?;
    if !other_amount.is_zero() {
        e.faucet_mint(token, others, other_amount)?;
        e.execute(others, &Action::Stake { staking_pool: pool.clone(), amount: other_amount, term_days: 0 })?;
    }
    e.faucet_mint(token, STAKER, amount)?;
    let EngineOutcome::Staked { position, .. } =
        e.execute(STAKER, &Action::Stake { staking_pool: pool.clone(), amount, term_days: terms.term_days })?
    else {
        return Err(EngineError::Invalid { field: "stake", why: "no position".into() });
    };
    let total_weight = granary_engine::math::bps_of(amount, terms.boost_bps)? + other_amount;
    let reward = U256::from((terms.apr * to_f64(total_weight) * f64::from(days) / DAYS_PER_YEAR).floor() as u128);
    if !reward.is_zero() && days > 0 {
        e.faucet_mint(token, owner, reward)?;
        e.execute(
            owner,
            &Action::NotifyReward {
                staking_pool: pool,
                amount: reward,
                duration_s: u64::from(days) * granary_engine::staking::SECONDS_PER_DAY,
            },
        )?;
    }
    Ok((e, chain, position))
}

const STAKER: granary_engine::Address = granary_engine::Address::with_last_byte(0x5a);

fn unstake(e: &mut Engine, position: u64) -> Result<granary_engine::staking::Unstaked, EngineError> {
    match e.execute(STAKER, &Action::Unstake { position })? {
        EngineOutcome::Unstaked(u) => Ok(u),
        _ => Err(EngineError::Invalid { field: "unstake", why: "no result".into() }),
    }
}

fn run_stake_engine(
    terms: &StakeTerms,
    others_per_user: f64,
    days: u32,
    exit_day: u32,
) -> Result<StakePlan, EngineError> {
    let unit = U256::from(STAKE_UNIT);
    let other_amount = U256::from(((others_per_user - 1.0).max(0.0) * STAKE_UNIT as f64) as u128);
    let (mut e, chain, position) = stake_engine(terms, unit, other_amount, days)?;
    let unit_f = STAKE_UNIT as f64;
    let mut held = vec![1.0];
    let (mut got, mut penalty, mut rewarded) = (1.0, 0.0, 0.0);
    for d in 0..=days {
        if d > 0 {
            e.advance(chain, granary_engine::staking::SECONDS_PER_DAY)?;
        }
        if d == exit_day {
            let u = unstake(&mut e, position)?;
            got = to_f64(u.amount + u.reward) / unit_f;
            penalty = to_f64(u.penalty) / unit_f;
            rewarded = to_f64(u.reward) / unit_f;
        }
        let now = if d >= exit_day { got } else { 1.0 + to_f64(e.position_pending(position)?) / unit_f };
        if d == 0 {
            held[0] = now;
        } else {
            held.push(now);
        }
    }
    Ok(StakePlan { days, exit_day, held, reward: rewarded, penalty })
}

/// The exact engine outcome of staking `amount` base units alone for `terms.term_days`, with the
/// reward for `days` notified, and unstaking after `exit_day` days: `[principal returned,
/// penalty, reward paid]`, to the wei.
pub fn stake_exit_exact(terms: &StakeTerms, amount: U256, days: u32, exit_day: u32) -> Result<[U256; 3], SimError> {
    let run = || -> Result<[U256; 3], EngineError> {
        let (mut e, chain, position) = stake_engine(terms, amount, U256::ZERO, days)?;
        if exit_day > 0 {
            e.advance(chain, u64::from(exit_day) * granary_engine::staking::SECONDS_PER_DAY)?;
        }
        let u = unstake(&mut e, position)?;
        Ok([u.amount, u.penalty, u.reward])
    };
    run().map_err(engine("staking"))
}
