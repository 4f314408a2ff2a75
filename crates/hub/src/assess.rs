//! Filling each opportunity's risk-adjusted APY for a given position: the pair's measured
//! volatility (from the pool's sampled reserves), gas to enter, harvest and exit on its chain,
//! the reward token's emission inflation, and the grade. How each term is computed:
//! `docs/risk.md`.

use crate::history::History;
use crate::market::{Opportunity, SECONDS_PER_YEAR, Target};
use crate::prices::{PriceBook, to_f64};
use crate::riskadj::{self, Emissions, Exposure, GasCosts, Grade};
use granary_engine::Engine;
use granary_engine::state::{Minter, gas};

/// The user's plan: how much, for how long, and how often they harvest.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub position_usd: f64,
    pub horizon_days: f64,
    pub harvests_per_year: u32,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { position_usd: 10_000.0, horizon_days: 90.0, harvests_per_year: 52 }
    }
}

/// Samples needed before a measured volatility is trusted; below it a documented assumption is used.
pub const MIN_SAMPLES: usize = 30;
/// Assumed annual volatility of a pair's price ratio when history is too short: 80 % for a volatile
/// pair (the order of ETH/USD's realised volatility), 1 % for two stablecoins.
pub const ASSUMED_SIGMA_VOLATILE: f64 = 0.8;
pub const ASSUMED_SIGMA_STABLE: f64 = 0.01;

/// Annualised volatility of ln(reserve1/reserve0) over the pool's samples, and how many were used.
pub fn ratio_volatility(history: &History, pool: usize) -> Option<(f64, usize)> {
    let q = history.pools.get(&pool)?;
    let pts: Vec<(u64, f64)> = q
        .iter()
        .filter(|s| !s.reserves[0].is_zero() && !s.reserves[1].is_zero())
        .map(|s| (s.t, (to_f64(s.reserves[1]) / to_f64(s.reserves[0])).ln()))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    // Variance per second of the log-ratio increments, then per year.
    let mut sum = 0.0;
    let mut sum_sq = 0.0;
    let mut total_dt = 0.0;
    let mut n = 0usize;
    for w in pts.windows(2) {
        let dt = (w[1].0 - w[0].0) as f64;
        if dt <= 0.0 {
            continue;
        }
        let d = w[1].1 - w[0].1;
        sum += d;
        sum_sq += d * d;
        total_dt += dt;
        n += 1;
    }
    if n < 2 || total_dt <= 0.0 {
        return None;
    }
    let mean_per_s = sum / total_dt;
    let var_per_s = (sum_sq - mean_per_s * mean_per_s * total_dt) / total_dt;
    Some(((var_per_s.max(0.0) * SECONDS_PER_YEAR).sqrt(), n + 1))
}

/// Gas in USD for `units` on `chain`, with the native token priced by symbol (or its wrapped form).
pub fn gas_usd(engine: &Engine, book: &PriceBook, chain: usize, units: u64) -> Option<f64> {
    let c = engine.chain(chain);
    let native = c.native_symbol.to_ascii_uppercase();
    let price = engine
        .tokens()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.chain == chain)
        .find(|(_, t)| {
            let s = t.symbol.to_ascii_uppercase();
            s == native || s == format!("W{native}")
        })
        .and_then(|(ix, _)| book.usd(ix))?;
    Some(to_f64(c.gas_price_wei) * units as f64 / 1e18 * price)
}

fn inflation(engine: &Engine, token: usize, per_second: granary_engine::U256) -> f64 {
    let supply = to_f64(engine.token(token).total_supply);
    if supply <= 0.0 { 0.0 } else { to_f64(per_second) * SECONDS_PER_YEAR / supply }
}

/// Gas units of an opportunity's transactions (`granary_engine::state::gas`), all on `chain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasUnits {
    pub chain: usize,
    /// Entering: add liquidity and/or deposit or stake.
    pub enter: u64,
    /// Leaving: withdraw or unstake and/or remove liquidity.
    pub exit: u64,
    /// One harvest or claim (0 when there is nothing to harvest).
    pub harvest: u64,
}

/// What an opportunity's risk-adjusted APY is made of before a plan (position size, horizon) is
/// applied: the rates, what the position is exposed to, the reward token's emissions, the grade
/// and the gas units. [`risk_adjust`] turns it into [`riskadj::RiskInputs`] for a plan; the
/// advice (`crate::advise`) re-applies it at every position size it weighs.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    pub grade: Grade,
    /// Fee APR (a fraction), from the opportunity's `apr_base`.
    pub apr_base: f64,
    /// Reward APR at today's reward price (a fraction, not negative), before the exit-liquidity cap.
    pub apr_reward: f64,
    pub reward_token: Option<usize>,
    pub exposure: Exposure,
    pub emissions: Emissions,
    pub gas: GasUnits,
    /// Warnings the terms add to the opportunity (an assumed volatility).
    pub flags: Vec<String>,
}

/// The terms of one graded opportunity that points into the engine (`None` when ungraded).
pub fn terms(engine: &Engine, history: &History, o: &Opportunity) -> Option<Terms> {
    let grade = o.grade.and_then(Grade::from_letter)?;
    let mut flags = Vec::new();
    let (exposure, chain, enter, exit, harvest, emissions) = match o.target {
        Target::Pool { ix } => {
            let p = engine.pool(ix);
            let exposure = pair_exposure(history, ix, o, &mut flags);
            (exposure, p.chain, gas::ADD_LIQUIDITY, gas::REMOVE_LIQUIDITY, 0, Emissions::NONE)
        }
        Target::FarmPool { ix } => {
            let fp = engine.farm_pool(ix);
            let farm = engine.farm(fp.farm);
            let (exposure, principal_share, add, remove) = match engine.token(fp.stake_token).minter {
                Minter::Pool(pix) => {
                    let p = engine.pool(pix);
                    let share = if p.tokens.contains(&farm.reward_token) { 0.5 } else { 0.0 };
                    let exposure = pair_exposure(history, pix, o, &mut flags);
                    (exposure, share, gas::ADD_LIQUIDITY, gas::REMOVE_LIQUIDITY)
                }
                _ => (Exposure::Single, if fp.stake_token == farm.reward_token { 1.0 } else { 0.0 }, 0, 0),
            };
            let e = Emissions {
                inflation: inflation(engine, farm.reward_token, farm.reward_per_second),
                dumped_share: None,
                principal_share,
            };
            (exposure, farm.chain, add + gas::FARM_DEPOSIT, remove + gas::FARM_WITHDRAW, gas::FARM_HARVEST, e)
        }
        Target::Staking { ix, .. } => {
            let sp = engine.staking_pool(ix);
            let share = if sp.stake_token == sp.reward_token { 1.0 } else { 0.0 };
            let e = Emissions {
                inflation: inflation(engine, sp.reward_token, sp.reward_rate),
                dumped_share: None,
                principal_share: share,
            };
            (Exposure::Single, sp.chain, gas::STAKE, gas::UNSTAKE, gas::CLAIM, e)
        }
    };
    Some(Terms {
        grade,
        apr_base: o.apr_base.unwrap_or(0.0) / 100.0,
        apr_reward: o.apr_reward.unwrap_or(0.0).max(0.0) / 100.0,
        reward_token: reward_token_of(engine, o.target),
        exposure,
        emissions,
        gas: GasUnits { chain, enter, exit, harvest },
        flags,
    })
}

/// Fill `apy_risk_adjusted` (percent) for every graded opportunity that points into the engine.
pub fn risk_adjust(engine: &Engine, history: &History, book: &PriceBook, opps: &mut [Opportunity], plan: Plan) {
    for o in opps.iter_mut() {
        let Some(t) = terms(engine, history, o) else { continue };
        o.flags.extend(t.flags.iter().cloned());
        let usd = |units: u64| gas_usd(engine, book, t.gas.chain, units).unwrap_or(0.0);
        let years = plan.horizon_days.max(f64::from(o.lockup.days)) / 365.0;
        let apr_reward = match t.reward_token {
            Some(token) => {
                let capped = exit_liquidity_capped_apr(engine, book, token, t.apr_reward, plan.position_usd, years);
                if capped < 0.5 * t.apr_reward {
                    o.flags.push(format!(
                        "rewards worth {:.0}% APR at today's price sell for {:.0}% through the reward token's pool",
                        o.apr_reward.unwrap_or(0.0),
                        capped * 100.0
                    ));
                }
                capped
            }
            None => 0.0,
        };
        let harvests = if t.apr_reward > 0.0 { (f64::from(plan.harvests_per_year) * years).round() as u32 } else { 0 };
        let inputs = riskadj::RiskInputs {
            apr_base: t.apr_base,
            apr_reward,
            compounding_per_year: 0,
            exposure: t.exposure,
            horizon_days: plan.horizon_days,
            lock_days: f64::from(o.lockup.days),
            position_usd: plan.position_usd,
            gas: GasCosts {
                enter_usd: usd(t.gas.enter),
                harvest_usd: usd(t.gas.harvest),
                harvests,
                exit_usd: usd(t.gas.exit),
            },
            emissions: t.emissions,
            grade: t.grade,
        };
        if let Ok(r) = riskadj::risk_adjusted_yield(&inputs) {
            o.apy_risk_adjusted = Some(r.apy_risk_adjusted * 100.0);
        }
    }
}

fn reward_token_of(engine: &Engine, target: Target) -> Option<usize> {
    match target {
        Target::Pool { .. } => None,
        Target::FarmPool { ix } => Some(engine.farm(engine.farm_pool(ix).farm).reward_token),
        Target::Staking { ix, .. } => Some(engine.staking_pool(ix).reward_token),
    }
}

/// The constant-product pool a reward token is sold into (the one that prices it): `x` reward
/// tokens against `y_usd` on the other side, the reward priced at `price` (TWAP).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitLiquidity {
    pub x: f64,
    pub y_usd: f64,
    pub price: f64,
}

impl ExitLiquidity {
    /// The pool of `reward`, when its price comes from one (else the cap does not apply).
    pub fn of(engine: &Engine, book: &PriceBook, reward: usize) -> Option<ExitLiquidity> {
        let q = book.quotes.get(&reward)?;
        let crate::prices::PriceSource::Pool { pool, .. } = &q.source else { return None };
        let pix = engine.pool_ix(pool).ok()?;
        let p = engine.pool(pix);
        let side = p.side_of(reward)?;
        let other = p.tokens[1 - side];
        let scale = |t: usize| 10f64.powi(i32::from(engine.token(t).decimals));
        let x = to_f64(p.reserves[side]) / scale(reward);
        let y_usd = to_f64(p.reserves[1 - side]) / scale(other) * book.usd(other).unwrap_or(0.0);
        (q.usd > 0.0 && x > 0.0).then_some(ExitLiquidity { x, y_usd, price: q.usd })
    }

    /// The reward APR realised by selling `apr · position_usd · years` of rewards (at today's
    /// price) into this pool: `R` tokens fetch `y·R/(x+R)`, never more than at today's price.
    pub fn cap(&self, apr: f64, position_usd: f64, years: f64) -> f64 {
        if !(apr > 0.0 && years > 0.0 && position_usd > 0.0) {
            return apr;
        }
        let tokens = apr * position_usd * years / self.price;
        let realised = self.y_usd * tokens / (self.x + tokens);
        (realised / position_usd / years).min(apr)
    }
}

/// The reward APR that can actually be realised by selling the rewards through the pool that
/// prices the reward token: `R` tokens sold into a constant-product pool with `x` of them and `y`
/// USD on the other side fetch `y·R/(x+R)`, never more than `y` (fees and other sellers ignored,
/// so this is an upper bound on what can be realised). `apr` is a fraction; so is the result.
pub fn exit_liquidity_capped_apr(
    engine: &Engine,
    book: &PriceBook,
    reward: usize,
    apr: f64,
    position_usd: f64,
    years: f64,
) -> f64 {
    if !(apr > 0.0 && years > 0.0 && position_usd > 0.0) {
        return apr;
    }
    match ExitLiquidity::of(engine, book, reward) {
        Some(l) => l.cap(apr, position_usd, years),
        None => apr,
    }
}

fn pair_exposure(history: &History, pool: usize, o: &Opportunity, flags: &mut Vec<String>) -> Exposure {
    match ratio_volatility(history, pool) {
        Some((sigma, n)) if n >= MIN_SAMPLES => Exposure::Pair { sigma_0: sigma, sigma_1: 0.0, rho: 0.0 },
        _ => {
            let sigma = if o.stablecoin { ASSUMED_SIGMA_STABLE } else { ASSUMED_SIGMA_VOLATILE };
            flags.push(format!("price history too short: IL uses an assumed {:.0}% volatility", sigma * 100.0));
            Exposure::Pair { sigma_0: sigma, sigma_1: 0.0, rho: 0.0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::PoolSample;
    use granary_engine::U256;

    #[test]
    fn volatility_of_a_known_path() {
        // ln(ratio) steps of ±0.01 every hour: variance 1e-4 per hour, σ = 0.01·√8760 ≈ 0.936.
        let mut h = History::default();
        let q = h.pools.entry(0).or_default();
        let base = 1e18;
        for i in 0..200u64 {
            let x: f64 = if i % 2 == 0 { 0.0 } else { 0.01 };
            let r1 = (base * x.exp()) as u128;
            q.push_back(PoolSample {
                t: i * 3600,
                price_cumulative: [U256::ZERO; 2],
                reserves: [U256::from(base as u128), U256::from(r1)],
                volume_in: [U256::ZERO; 2],
                fees_in: [U256::ZERO; 2],
                lp_supply: U256::ZERO,
            });
        }
        let (sigma, n) = ratio_volatility(&h, 0).unwrap_or_default();
        assert_eq!(n, 200);
        assert!((sigma - 0.01 * 8760f64.sqrt()).abs() < 1e-3, "{sigma}");
    }
}
