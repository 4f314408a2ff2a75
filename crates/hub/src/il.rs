//! Impermanent loss (IL) of 50/50 constant-product positions (Uniswap V2 pools).
//!
//! * [`il_closed_form`]: `IL(r) = 2·√r/(1+r) − 1` for a price ratio `r`.
//! * [`lp_position_metrics`]: what LP trackers (Krystal, Metrix) show for one position — value,
//!   HODL value, IL, fees, rewards, "vs HODL", PnL, ROI — from plain amounts and USD prices, with
//!   the fees separated from the IL through the pool invariant.
//! * [`il_table`]: IL at ±x % price moves.
//! * [`expected_il`] and [`break_even_fee_apr`]: the expected IL when the price ratio follows a
//!   driftless geometric Brownian motion, and the fee APR that earns it back.
//! * [`lp_underlying`], [`holder_lp_underlying`]: what an LP amount redeems for now in an engine
//!   pool (the inputs of [`lp_position_metrics`] from a live [`Engine`]).
//!
//! Conventions: a *price ratio* `r` is `P_now / P_entry`, where `P` is the price of token0 in
//! token1. Functions return IL as a fraction (−0.0572 = −5.72 %); struct fields and table columns
//! whose name ends in `_pct` are percentages. IL is never positive: a position is worth at most
//! what holding its deposit would be worth.

use granary_engine::{Address, Engine, EngineError, U256, math};
use serde::Serialize;

/// IL of a 50/50 constant-product position before fees: `2·√r/(1+r) − 1`, where `r` is the new
/// price of token0 in token1 divided by the price at entry. Symmetric in `r ↔ 1/r`; 0 at `r = 1`;
/// −1 as `r → 0` or `r → ∞`. Returns NaN for a negative or NaN `r`.
pub fn il_closed_form(r: f64) -> f64 {
    if r.is_nan() || r < 0.0 {
        return f64::NAN;
    }
    if r.is_infinite() {
        return -1.0;
    }
    2.0 * r.sqrt() / (1.0 + r) - 1.0
}

/// IL as a function of the log price ratio `z = ln r`: `IL = sech(z/2) − 1`, evaluated without
/// cancellation near `z = 0` (`sech(a) − 1 = −2·sinh²(a/2)/cosh(a)`) and without overflow far
/// from it. Equal to [`il_closed_form`]`(exp(z))`.
fn il_of_log_ratio(z: f64) -> f64 {
    let a = 0.5 * z.abs();
    if a < 20.0 {
        let s = (0.5 * a).sinh();
        -2.0 * s * s / a.cosh()
    } else {
        let e = (-a).exp();
        2.0 * e / (1.0 + e * e) - 1.0
    }
}

/// Price moves (in %) of the default IL table: −90 % … +400 %.
pub const IL_TABLE_MOVES_PCT: [f64; 11] = [-90.0, -75.0, -50.0, -25.0, -10.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0];

/// IL at price moves of token0 against token1: for each move `m` (in %, e.g. −50 or +100) the pair
/// `(m, IL in %)`, with `r = 1 + m/100`. A move of −100 % gives −100 %; a move below −100 % is
/// meaningless and gives NaN.
pub fn il_table(moves_pct: &[f64]) -> Vec<(f64, f64)> {
    moves_pct.iter().map(|&m| (m, 100.0 * il_closed_form(1.0 + m / 100.0))).collect()
}

/// Where the position's fees are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum FeeSource {
    /// The fees are inside `current_amounts` (Uniswap V2: swap fees stay in the reserves and grow
    /// the invariant). The fee part is separated through the invariant; see
    /// [`LpPositionMetrics::value_no_fees_usd`].
    InAmounts,
    /// The fees are known separately and are *not* in `current_amounts` (collected or uncollected
    /// fees tracked apart, as concentrated-liquidity positions report them), worth `usd` now.
    Separate { usd: f64 },
}

/// What an LP position is made of, in token units (decimals applied) and USD prices. Index 0 is
/// the pool's token0, index 1 its token1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LpPositionInputs {
    /// Amounts deposited (what the add-liquidity took).
    pub deposited: [f64; 2],
    /// USD prices at the deposit.
    pub entry_prices_usd: [f64; 2],
    /// What the position's LP share redeems for now (`liquidity · balance_i / supply`, see
    /// [`lp_underlying`]).
    pub current_amounts: [f64; 2],
    /// USD prices now.
    pub current_prices_usd: [f64; 2],
    /// Rewards already harvested, in USD (valued when claimed, as Metrix does).
    pub rewards_claimed_usd: f64,
    /// Rewards accrued but not harvested, in USD at current prices.
    pub rewards_unclaimed_usd: f64,
    /// Where the swap fees are.
    pub fees: FeeSource,
}

/// The metrics of one LP position (Krystal/Metrix vocabulary). All amounts in USD; `_pct` fields
/// in percent.
///
/// Identities (exact in floating point up to rounding):
/// `current_value_usd = hodl_value_usd + il_usd + fees_usd`,
/// `vs_hodl_usd = il_usd + fees_usd + rewards_claimed_usd + rewards_unclaimed_usd`,
/// `pnl_usd = vs_hodl_usd + hodl_value_usd − deposited_usd`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LpPositionMetrics {
    /// `Σ deposited_i · entry_price_i`.
    pub deposited_usd: f64,
    /// The position's value now, fees included, rewards excluded: `Σ current_amount_i ·
    /// price_i`, plus the separate fees for [`FeeSource::Separate`].
    pub current_value_usd: f64,
    /// The deposit had it been held: `Σ deposited_i · price_i` (deposited amounts at current
    /// prices).
    pub hodl_value_usd: f64,
    /// The position's value now had it earned no fees.
    ///
    /// * [`FeeSource::InAmounts`]: a constant-product share keeps its invariant `x·y` while no
    ///   fee is earned (swaps move along the curve, other LPs' mints and burns scale the pool but
    ///   not a share's invariant), and at a price `P = p0/p1` of token0 in token1 a share with
    ///   invariant `k` holds `x = √(k/P)`, `y = √(k·P)`, worth `x·p0 + y·p1 = 2·√(k·p0·p1)`. So
    ///   `value_no_fees = 2·√(k₀·p0·p1)` with `k₀ = deposited_0 · deposited_1` (token units) and
    ///   `p0, p1` the current USD prices. Fees grow the share's invariant, so the fee part is
    ///   `current_value − value_no_fees`. By the AM–GM inequality `Σ amount_i·p_i ≥ 2·√(k·p0·p1)`,
    ///   so the fee part is never negative except by integer rounding of the redeemed amounts;
    ///   when the USD prices disagree with the pool's own price (a stale oracle, a pool off
    ///   peg), the mispricing shows up in the fee part, not in the IL.
    /// * [`FeeSource::Separate`]: `Σ current_amount_i · price_i` (the amounts carry no fees).
    pub value_no_fees_usd: f64,
    /// IL in USD: `value_no_fees_usd − hodl_value_usd` (≤ 0).
    pub il_usd: f64,
    /// IL in % of the HODL value: `100 · il_usd / hodl_value_usd`. When the deposit was 50/50 at
    /// the entry prices this is `100 · IL(price_ratio)` of [`il_closed_form`].
    pub il_pct: f64,
    /// Fees earned, in USD: `current_value_usd − value_no_fees_usd` (for
    /// [`FeeSource::Separate`], the given figure).
    pub fees_usd: f64,
    pub rewards_claimed_usd: f64,
    pub rewards_unclaimed_usd: f64,
    /// Compared with HODL: `current_value + rewards_claimed + rewards_unclaimed − hodl_value`
    /// (= IL + fees + rewards).
    pub vs_hodl_usd: f64,
    /// Profit and loss: `current_value + rewards_claimed + rewards_unclaimed − deposited`.
    pub pnl_usd: f64,
    /// `100 · pnl_usd / deposited_usd`.
    pub roi_pct: f64,
    /// The price ratio `r` of token0 in token1 implied by the USD prices:
    /// `(p0/p1) / (p0_entry/p1_entry)`.
    pub price_ratio: f64,
}

/// The metrics of an LP position; see [`LpPositionMetrics`] for each definition. Amounts must be
/// non-negative and prices positive; a zero deposit gives NaN percentages.
pub fn lp_position_metrics(i: &LpPositionInputs) -> LpPositionMetrics {
    let [d0, d1] = i.deposited;
    let [e0, e1] = i.entry_prices_usd;
    let [a0, a1] = i.current_amounts;
    let [p0, p1] = i.current_prices_usd;
    let deposited_usd = d0 * e0 + d1 * e1;
    let hodl_value_usd = d0 * p0 + d1 * p1;
    let amounts_usd = a0 * p0 + a1 * p1;
    let (current_value_usd, value_no_fees_usd, fees_usd) = match i.fees {
        FeeSource::InAmounts => {
            let no_fees = 2.0 * (d0 * d1 * p0 * p1).sqrt();
            (amounts_usd, no_fees, amounts_usd - no_fees)
        }
        FeeSource::Separate { usd } => (amounts_usd + usd, amounts_usd, usd),
    };
    let il_usd = value_no_fees_usd - hodl_value_usd;
    let rewards = i.rewards_claimed_usd + i.rewards_unclaimed_usd;
    let pnl_usd = current_value_usd + rewards - deposited_usd;
    LpPositionMetrics {
        deposited_usd,
        current_value_usd,
        hodl_value_usd,
        value_no_fees_usd,
        il_usd,
        il_pct: 100.0 * il_usd / hodl_value_usd,
        fees_usd,
        rewards_claimed_usd: i.rewards_claimed_usd,
        rewards_unclaimed_usd: i.rewards_unclaimed_usd,
        vs_hodl_usd: current_value_usd + rewards - hodl_value_usd,
        pnl_usd,
        roi_pct: 100.0 * pnl_usd / deposited_usd,
        price_ratio: (p0 / p1) / (e0 / e1),
    }
}

/// What `liquidity` LP tokens of `pool` redeem for now, in token units (decimals applied), in the
/// pool's token order: `⌊liquidity · balance_i / supply⌋ / 10^decimals_i`, the engine's burn
/// formula (`balance_i` is the pool's token balance: its reserve plus any donation). A pending
/// protocol fee (minted to `feeTo` at the next burn when the fee switch is on) is not deducted, so
/// with the switch on this overstates by at most 1/6 of the share's √k growth since the last
/// liquidity event. Zero supply gives zeros.
pub fn lp_underlying(engine: &Engine, pool: &str, liquidity: U256) -> Result<[f64; 2], EngineError> {
    let p = engine.pool(engine.pool_ix(pool)?);
    let supply = engine.token(p.lp_token).total_supply;
    let mut out = [0.0; 2];
    if supply.is_zero() {
        return Ok(out);
    }
    for (o, &t) in out.iter_mut().zip(&p.tokens) {
        let amount = math::mul_div(liquidity, engine.balance(t, p.address), supply)?;
        *o = f64::from(amount) / 10f64.powi(i32::from(engine.token(t).decimals));
    }
    Ok(out)
}

/// [`lp_underlying`] of the LP tokens `holder` has in its wallet. LP tokens staked in a farm sit
/// at the farm's address: add the farm user's `amount` and call [`lp_underlying`] for those.
pub fn holder_lp_underlying(engine: &Engine, pool: &str, holder: Address) -> Result<[f64; 2], EngineError> {
    let p = engine.pool(engine.pool_ix(pool)?);
    lp_underlying(engine, pool, engine.balance(p.lp_token, holder))
}

/// `E[g(μ + s·t)]` for a standard normal `t`, by the trapezoid rule on `t ∈ [−12, 12]`.
///
/// For an integrand that is smooth and decays like the Gaussian density the trapezoid rule
/// converges exponentially in `1/h`; the step resolves both the density (`h ≤ 1/64`) and `g`,
/// which varies on a scale of 1 in its argument (`h ≤ 1/(64·s)`). The mass beyond 12 standard
/// deviations is below 1e-32. Deterministic: no sampling.
fn gaussian_expectation(mu: f64, s: f64, g: impl Fn(f64) -> f64) -> f64 {
    const HALF_WIDTH: f64 = 12.0;
    const MAX_STEPS: f64 = 2_000_000.0;
    let h = (1.0 / 64.0f64).min(1.0 / (64.0 * s)).max(2.0 * HALF_WIDTH / MAX_STEPS);
    let n = (2.0 * HALF_WIDTH / h).ceil() as usize;
    let h = 2.0 * HALF_WIDTH / n as f64;
    let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let mut sum = 0.0;
    for k in 0..=n {
        let t = -HALF_WIDTH + k as f64 * h;
        let w = if k == 0 || k == n { 0.5 } else { 1.0 };
        sum += w * g(mu + s * t) * (-0.5 * t * t).exp();
    }
    sum * h * norm
}

/// Expected IL (a fraction, ≤ 0) of a 50/50 constant-product position held `horizon_years` when
/// the price ratio follows a driftless geometric Brownian motion with annual volatility
/// `sigma_annual` (of the ratio, i.e. of `ln(P0/P1)`):
///
/// `r = exp(σ·W_T − σ²T/2)`, so `ln r ~ N(−s²/2, s²)` with `s = σ·√T` and `E[r] = 1`, and
/// `E[IL] = E[2√r/(1+r)] − 1 = E[sech(ln r / 2)] − 1`,
///
/// computed by deterministic quadrature over the normal density (trapezoid rule, exponentially
/// convergent here; see the crate's tests for an independent high-precision check). For small
/// `s`, `E[IL] = −s²/8 + s⁴/128 + O(s⁶)`. This is the expected *percentage* IL a dashboard would
/// show at the horizon (relative to the HODL value then); for the expected shortfall in value see
/// [`expected_lp_value_vs_hodl`]. NaN for a negative or non-finite input.
pub fn expected_il(sigma_annual: f64, horizon_years: f64) -> f64 {
    if !(sigma_annual.is_finite() && horizon_years.is_finite()) || sigma_annual < 0.0 || horizon_years < 0.0 {
        return f64::NAN;
    }
    let s = sigma_annual * horizon_years.sqrt();
    if s == 0.0 {
        return 0.0;
    }
    gaussian_expectation(-0.5 * s * s, s, il_of_log_ratio)
}

/// Expected value of the LP position relative to the expected HODL value, under the same model as
/// [`expected_il`], measured in token1: with a deposit `D` split 50/50, `V_HODL = D·(1+r)/2` and
/// `V_LP = D·√r`, so `E[V_HODL] = D` and `E[V_LP]/E[V_HODL] − 1 = E[√r] − 1 = exp(−σ²T/8) − 1`
/// exactly. It shares the leading term `−σ²T/8` with [`expected_il`] and differs from it at order
/// `(σ²T)²` because it weights each outcome by its HODL value.
pub fn expected_lp_value_vs_hodl(sigma_annual: f64, horizon_years: f64) -> f64 {
    if !(sigma_annual.is_finite() && horizon_years.is_finite()) || sigma_annual < 0.0 || horizon_years < 0.0 {
        return f64::NAN;
    }
    (-sigma_annual * sigma_annual * horizon_years / 8.0).exp_m1()
}

/// The fee APR (a fraction per year) that earns back the expected IL of [`expected_il`] over the
/// horizon: fees are counted as *simple interest on the deposited value* (`APR · T · D`, no
/// compounding) and set equal to the expected IL taken as a fraction of the deposit,
/// `−E[IL] · D`, so `APR = −E[IL] / T`. (Taking IL as a fraction of the deposit rather than of
/// the HODL value at the horizon is exact on average: `E[V_HODL] = D` since `E[r] = 1`.) The
/// small-volatility limit is `σ²/8`, independent of the horizon. NaN for a zero or negative
/// horizon or a negative volatility.
pub fn break_even_fee_apr(sigma_annual: f64, horizon_years: f64) -> f64 {
    if horizon_years <= 0.0 {
        return f64::NAN;
    }
    -expected_il(sigma_annual, horizon_years) / horizon_years
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ratio_form_equals_closed_form() {
        for z in [-60.0, -41.0, -39.0, -5.0, -1.0, -1e-3, 0.0, 1e-6, 0.5, 3.0, 39.9, 40.1, 80.0] {
            let a = il_of_log_ratio(z);
            let b = il_closed_form(f64::exp(z));
            assert!((a - b).abs() < 1e-15, "z={z}: {a} vs {b}");
        }
    }

    #[test]
    fn quadrature_reproduces_lognormal_moments() {
        // Kept to s ≤ 4: beyond, exp(z)·density is not negligible at the ±12 cut-off (the IL
        // integrand is bounded by 1 and has no such limit).
        for s in [1e-4, 0.01, 0.3, 1.0, 2.5, 4.0] {
            let mu = -0.5 * s * s;
            // E[r] = 1 (a martingale), E[√r] = exp(−s²/8).
            let m1 = gaussian_expectation(mu, s, f64::exp);
            assert!((m1 - 1.0).abs() < 1e-12, "s={s}: E[r]={m1}");
            let half = gaussian_expectation(mu, s, |z| (0.5 * z).exp());
            let want = (-s * s / 8.0).exp();
            assert!((half / want - 1.0).abs() < 1e-12, "s={s}: E[sqrt r]={half} want {want}");
        }
    }
}
