//! The `lp` strategy on real prices: a liquidity provider in a Uniswap V2 pool, run day by day on
//! the engine's exact pool arithmetic, against simply holding the deposited tokens (HODL).
//!
//! The pool is a real engine pool of two tokens with 18 and 6 decimals (WETH/USDC-like), seeded at
//! the window's first close with the deposit split 50/50 in value. On every following day:
//!
//! 1. **Arbitrage.** If the pool's price lies outside the no-arbitrage band around the day's market
//!    ratio `m` — selling token A pays only while `γ·y/x > m`, buying it only while `y/(γ·x) < m`,
//!    with `γ = 1 − fee` — an arbitrageur swaps (`SwapExactIn`) the largest integer amount that
//!    keeps the pool on its side of the band's edge. The size is found by bisection on the
//!    engine's own `get_amount_out` ([`crate::arbitrage::to_band_edge`]), so the pool ends
//!    exactly at the edge up to one base unit.
//! 2. **Noise volume.** [`Volume::DailyUsd`] runs round trips by traders who pay the swap fee: one
//!    leg sells a fixed notional, the other leg returns the pool to its pre-trip price (again sized
//!    by bisection on the exact formula, [`crate::arbitrage::restoring_leg`]), so noise trading
//!    only grows the reserves, never moves the price.
//!
//! The LP's position is valued each day by its redeemable share of the reserves (the pair's burn
//! formula `balance·reserve / supply`, floored) at market prices; HODL is the deposited amounts at
//! market prices. On the last day the LP really removes its liquidity and the final value is what
//! it received.
//!
//! **Fee accounting.** Every swap raises `√(x·y)`. The growth from arbitrage swaps (`K_arb`) and
//! from noise swaps (`K_noise`) is tracked separately, so the position value splits into
//! `lp = pure + arb_fees + fees` with `pure = lp / (K_arb·K_noise)` (what the position would be
//! worth without any fee income: the impermanent-loss part), `arb_fees = lp/K_noise·(1 − 1/K_arb)`
//! and `fees = lp·(1 − 1/K_noise)`. Fees stay in the pool (V2 compounds them), so these are the
//! values of the fee-earned parts of the position today, not sums of historical payments.
//!
//! Floats appear only in analytics (prices, values, growth factors); pool state is integer.

use crate::arbitrage::{self, Ratio};
use crate::date::Date;
use crate::prices::{DailySeries, DataError};
use granary_engine::action::Action;
use granary_engine::amm;
use granary_engine::state::object_address;
use granary_engine::{Address, Engine, EngineError, Minter, U256};

/// Decimals of the pool's token A (the volatile asset, WETH-like).
pub const DECIMALS_A: u8 = 18;
/// Decimals of the pool's token B (the quote asset, USDC-like).
pub const DECIMALS_B: u8 = 6;
/// Noise round trips per day under [`Volume::DailyUsd`].
pub const ROUND_TRIPS_PER_DAY: u32 = 4;
/// Seconds the pool's chain advances per day.
const DAY_SECONDS: u64 = 86_400;
/// Market ratios are held as `P / PRICE_SCALE` base units of B per base unit of A, with
/// `P = round(ratio · 10^(DECIMALS_B) · 10^9)` and `PRICE_SCALE = 10^(DECIMALS_A + 9)`.
const PRICE_EXTRA_DIGITS: i32 = 9;

const POOL: &str = "LAB-POOL";
const TOKEN_A: &str = "LAB-A";
const TOKEN_B: &str = "LAB-B";

/// The pool's second token: a constant $1 (USDC) or a priced series.
#[derive(Debug, Clone, Copy)]
pub enum Quote<'a> {
    /// Worth exactly $1 every day.
    Usd,
    /// Daily USD closes; every day of the first token's window must be present.
    Series(&'a DailySeries),
}

/// How much noise trading the pool sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    /// Only the arbitrageur trades.
    Zero,
    /// This many USD of swaps a day (both legs counted), as [`ROUND_TRIPS_PER_DAY`] price-neutral
    /// round trips that each pay the fee on both legs.
    DailyUsd(f64),
}

/// One day of the backtest, after that day's arbitrage and noise trading.
#[derive(Debug, Clone, PartialEq)]
pub struct DayValue {
    pub date: Date,
    /// The LP's redeemable share of the reserves at market prices, USD.
    pub lp_value_usd: f64,
    /// The deposited amounts at market prices, USD.
    pub hodl_value_usd: f64,
    /// Value today of the part of the position earned from noise-trader fees (cumulative,
    /// compounded in the pool), USD.
    pub fees_usd: f64,
    /// Value today of the part of the position earned from the arbitrageur's fees, USD.
    pub arb_fees_usd: f64,
    /// Market ratio `(price_a / price_b)` today over the same ratio on the first day: the `r` of
    /// the closed-form impermanent loss.
    pub price_ratio: f64,
    /// Pool price (B per A, in whole tokens) after the day's trading.
    pub pool_price: f64,
    /// Market price (B per A, in whole tokens).
    pub market_price: f64,
}

/// Totals at the end of the window. `*_pct` fields are percentages (−5.0 means −5 %).
#[derive(Debug, Clone, PartialEq)]
pub struct LpSummary {
    /// USD received by removing all the liquidity on the last day.
    pub lp_value: f64,
    pub hodl_value: f64,
    /// Impermanent loss: the position without its fee income against HODL,
    /// `100·(lp / (K_arb·K_noise) / hodl − 1)`.
    pub il_pct: f64,
    /// Value of the noise-fee part of the final position, USD.
    pub fees_usd: f64,
    /// Value of the arbitrage-fee part of the final position, USD.
    pub arb_fees_usd: f64,
    /// `100·(lp / hodl − 1)`, fees included.
    pub return_vs_hodl_pct: f64,
    /// Largest peak-to-trough fall of the daily LP value, as a positive percentage.
    pub max_drawdown_pct: f64,
    /// `price_ratio` of the last day.
    pub price_ratio: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LpBacktest {
    pub per_day: Vec<DayValue>,
    pub final_: LpSummary,
}

impl LpBacktest {
    /// The end-of-window summary.
    pub fn summary(&self) -> &LpSummary {
        &self.final_
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("invalid backtest input: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> BacktestError {
    BacktestError::Invalid(msg.into())
}

/// Run the `lp` strategy against HODL over `from..=to` (see the module docs).
///
/// `deposit_usd` is split 50/50 at the first day's closes; `fee_bps` is the pool's swap fee
/// (0..=1000). The window needs at least one close of `series_a`; with [`Quote::Series`] every one
/// of those days must have a close of the quote series too.
pub fn lp_vs_hodl(
    series_a: &DailySeries,
    series_b: Quote<'_>,
    from: Date,
    to: Date,
    deposit_usd: f64,
    fee_bps: u32,
    volume: Volume,
) -> Result<LpBacktest, BacktestError> {
    if !(deposit_usd.is_finite() && deposit_usd > 0.0) {
        return Err(invalid(format!("deposit_usd must be a positive finite number, got {deposit_usd}")));
    }
    if fee_bps > amm::MAX_FEE_BPS {
        return Err(invalid(format!("fee_bps must be at most {}, got {fee_bps}", amm::MAX_FEE_BPS)));
    }
    if let Volume::DailyUsd(v) = volume
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(invalid(format!("daily volume must be a non-negative finite number, got {v}")));
    }
    let days = prices(series_a, series_b, from, to)?;
    let Some(&(_, a0, b0)) = days.first() else {
        return Err(invalid(format!("{}: no closes in {from}..={to}", series_a.symbol)));
    };

    let mut sim = Sim::new(fee_bps)?;
    let amount_a = to_units(deposit_usd / 2.0 / a0, DECIMALS_A)?;
    let amount_b = to_units(deposit_usd / 2.0 / b0, DECIMALS_B)?;
    sim.deposit(amount_a, amount_b)?;
    let held = [to_f64(amount_a) / scale(DECIMALS_A), to_f64(amount_b) / scale(DECIMALS_B)];
    let start_ratio = a0 / b0;

    let mut per_day = Vec::with_capacity(days.len());
    for (i, &(date, pa, pb)) in days.iter().enumerate() {
        if i > 0 {
            sim.advance()?;
            let target = market_units(pa / pb)?;
            sim.arbitrage(target)?;
            if let Volume::DailyUsd(v) = volume {
                sim.noise(v, pa)?;
            }
        }
        let redeem = sim.redeemable()?;
        let lp_value = value(redeem, pa, pb);
        per_day.push(sim.day(date, lp_value, held[0] * pa + held[1] * pb, pa / pb / start_ratio, pa / pb));
    }

    // Really leave the pool on the last day; the final value is what the burn pays.
    let Some(&(_, pa, pb)) = days.last() else {
        return Err(invalid("no days"));
    };
    let received = sim.withdraw_all()?;
    let lp_value = value(received, pa, pb);
    let last = per_day.last().cloned().ok_or_else(|| invalid("no days"))?;
    let hodl_value = last.hodl_value_usd;
    let growth = sim.k_arb * sim.k_noise;
    let mut peak = f64::MIN;
    let mut max_dd = 0.0f64;
    for d in &per_day {
        peak = peak.max(d.lp_value_usd);
        if peak > 0.0 {
            max_dd = max_dd.max((peak - d.lp_value_usd) / peak);
        }
    }
    let final_ = LpSummary {
        lp_value,
        hodl_value,
        il_pct: 100.0 * (lp_value / growth / hodl_value - 1.0),
        fees_usd: lp_value * (1.0 - 1.0 / sim.k_noise),
        arb_fees_usd: lp_value / sim.k_noise * (1.0 - 1.0 / sim.k_arb),
        return_vs_hodl_pct: 100.0 * (lp_value / hodl_value - 1.0),
        max_drawdown_pct: 100.0 * max_dd,
        price_ratio: last.price_ratio,
    };
    Ok(LpBacktest { per_day, final_ })
}

/// `(date, price_a, price_b)` for every close of `series_a` in the window.
fn prices(a: &DailySeries, b: Quote<'_>, from: Date, to: Date) -> Result<Vec<(Date, f64, f64)>, BacktestError> {
    let mut out = Vec::new();
    for &(date, pa) in a.window(from, to)? {
        let pb = match b {
            Quote::Usd => 1.0,
            Quote::Series(s) => s
                .close_on(date)
                .ok_or_else(|| invalid(format!("{} has no close on {date}, which {} has", s.symbol, a.symbol)))?,
        };
        for (sym, p) in [(&a.symbol[..], pa), ("quote", pb)] {
            if !(p.is_finite() && p > 0.0) {
                return Err(invalid(format!("{sym} close on {date} is {p}; prices must be positive")));
            }
        }
        out.push((date, pa, pb));
    }
    Ok(out)
}

pub(crate) fn scale(decimals: u8) -> f64 {
    10f64.powi(i32::from(decimals))
}

fn to_f64(x: U256) -> f64 {
    x.into()
}

/// Whole tokens to base units, floored; refuses zero and amounts past the pool's reserve limit.
pub(crate) fn to_units(tokens: f64, decimals: u8) -> Result<U256, BacktestError> {
    let units = (tokens * scale(decimals)).floor();
    if !(units.is_finite() && units >= 1.0 && units < 2f64.powi(112)) {
        return Err(invalid(format!(
            "a deposit leg of {tokens} tokens is {units} base units; it must be between 1 and 2^112"
        )));
    }
    Ok(U256::from(units as u128))
}

/// A market ratio (B per A, whole tokens) as `P` of `P / PRICE_SCALE` base units.
pub(crate) fn market_units(ratio: f64) -> Result<U256, BacktestError> {
    let p = (ratio * 10f64.powi(i32::from(DECIMALS_B) + PRICE_EXTRA_DIGITS)).round();
    if !(p.is_finite() && p >= 1.0 && p < 2f64.powi(127)) {
        return Err(invalid(format!("market ratio {ratio} is outside the representable range")));
    }
    Ok(U256::from(p as u128))
}

pub(crate) fn price_scale() -> U256 {
    U256::from(10u64).pow(U256::from(u64::from(DECIMALS_A) + PRICE_EXTRA_DIGITS as u64))
}

fn value(amounts: [U256; 2], pa: f64, pb: f64) -> f64 {
    to_f64(amounts[0]) / scale(DECIMALS_A) * pa + to_f64(amounts[1]) / scale(DECIMALS_B) * pb
}

/// The engine world of one backtest.
struct Sim {
    engine: Engine,
    chain: usize,
    token: [usize; 2],
    pool: usize,
    fee_bps: u32,
    lp: Address,
    arb: Address,
    trader: Address,
    /// `√k` growth from arbitrage swaps and from noise swaps.
    k_arb: f64,
    k_noise: f64,
}

impl Sim {
    fn new(fee_bps: u32) -> Result<Sim, BacktestError> {
        let mut engine = Engine::new();
        let chain = engine.create_chain("lab", 1, "lab", 12)?;
        let a = engine.create_token(TOKEN_A, chain, "WETH", DECIMALS_A, Minter::Nobody)?;
        let b = engine.create_token(TOKEN_B, chain, "USDC", DECIMALS_B, Minter::Nobody)?;
        let lp = object_address("lab", "lp");
        engine
            .execute(lp, &Action::CreatePool { id: POOL.into(), tokens: [TOKEN_A.into(), TOKEN_B.into()], fee_bps })?;
        let pool = engine.pool_ix(POOL)?;
        Ok(Sim {
            engine,
            chain,
            token: [a, b],
            pool,
            fee_bps,
            lp,
            arb: object_address("lab", "arbitrageur"),
            trader: object_address("lab", "noise-trader"),
            k_arb: 1.0,
            k_noise: 1.0,
        })
    }

    fn reserves(&self) -> [U256; 2] {
        self.engine.pool(self.pool).reserves
    }

    fn deposit(&mut self, a: U256, b: U256) -> Result<(), BacktestError> {
        self.engine.faucet_mint(self.token[0], self.lp, a)?;
        self.engine.faucet_mint(self.token[1], self.lp, b)?;
        self.engine.execute(
            self.lp,
            &Action::AddLiquidity { pool: POOL.into(), amounts: [a, b], min: [U256::ZERO, U256::ZERO] },
        )?;
        Ok(())
    }

    fn advance(&mut self) -> Result<(), BacktestError> {
        self.engine.advance(self.chain, DAY_SECONDS)?;
        Ok(())
    }

    /// Swap `amount` of token `side` in as `who`, minting it first. Returns the `√k` growth factor.
    fn swap(&mut self, who: Address, side: usize, amount: U256) -> Result<f64, BacktestError> {
        if amount.is_zero() {
            return Ok(1.0);
        }
        let before = self.reserves();
        self.engine.faucet_mint(self.token[side], who, amount)?;
        let token_in = if side == 0 { TOKEN_A } else { TOKEN_B };
        self.engine.execute(
            who,
            &Action::SwapExactIn {
                path: vec![POOL.into()],
                token_in: token_in.into(),
                amount_in: amount,
                min_out: U256::ZERO,
            },
        )?;
        let after = self.reserves();
        let g = (to_f64(after[0]) / to_f64(before[0]) * (to_f64(after[1]) / to_f64(before[1]))).sqrt();
        Ok(g)
    }

    /// Move the pool to the edge of the no-arbitrage band around `P / PRICE_SCALE`
    /// ([`arbitrage::to_band_edge`]).
    fn arbitrage(&mut self, p: U256) -> Result<(), BacktestError> {
        let market = Ratio { num: p, den: price_scale() };
        if let Some(t) = arbitrage::to_band_edge(self.reserves(), self.fee_bps, market) {
            let g = self.swap(self.arb, t.sell, t.amount)?;
            self.k_arb *= g;
        }
        Ok(())
    }

    /// Noise round trips worth `daily_usd` in all, at `price_a` USD per A.
    fn noise(&mut self, daily_usd: f64, price_a: f64) -> Result<(), BacktestError> {
        let leg_usd = daily_usd / f64::from(2 * ROUND_TRIPS_PER_DAY);
        for trip in 0..ROUND_TRIPS_PER_DAY {
            let [x0, y0] = self.reserves();
            // The first leg's size in the first leg's token, from the pool's own price.
            let first = (trip % 2) as usize;
            let leg = if first == 0 {
                (leg_usd / price_a * scale(DECIMALS_A)).floor()
            } else {
                // Value B at the pool's A price in USD so both directions move the same notional.
                (leg_usd / price_a * scale(DECIMALS_A)).floor() * to_f64(y0) / to_f64(x0)
            };
            if !(leg.is_finite() && leg >= 1.0 && leg < 2f64.powi(112)) {
                continue;
            }
            let g1 = self.swap(self.trader, first, U256::from(leg.floor() as u128))?;
            // Second leg: the largest amount that does not carry the price past y0/x0.
            let back = arbitrage::restoring_leg([x0, y0], self.reserves(), 1 - first, self.fee_bps);
            let g2 = self.swap(self.trader, 1 - first, back)?;
            self.k_noise *= g1 * g2;
        }
        Ok(())
    }

    /// What burning all the LP's liquidity would pay now (`balance·reserve / supply`, floored).
    fn redeemable(&self) -> Result<[U256; 2], BacktestError> {
        let p = self.engine.pool(self.pool);
        let supply = self.engine.token(p.lp_token).total_supply;
        let liquidity = self.engine.balance(p.lp_token, self.lp);
        if supply.is_zero() {
            return Err(invalid("the pool has no liquidity"));
        }
        let mut out = [U256::ZERO; 2];
        for (o, r) in out.iter_mut().zip(p.reserves) {
            *o = granary_engine::math::mul_div(liquidity, r, supply)?;
        }
        Ok(out)
    }

    /// Remove all the LP's liquidity; returns the amounts received.
    fn withdraw_all(&mut self) -> Result<[U256; 2], BacktestError> {
        let p = self.engine.pool(self.pool);
        let liquidity = self.engine.balance(p.lp_token, self.lp);
        let before = [self.engine.balance(self.token[0], self.lp), self.engine.balance(self.token[1], self.lp)];
        self.engine.execute(
            self.lp,
            &Action::RemoveLiquidity { pool: POOL.into(), liquidity, min: [U256::ZERO, U256::ZERO] },
        )?;
        let after = [self.engine.balance(self.token[0], self.lp), self.engine.balance(self.token[1], self.lp)];
        Ok([after[0] - before[0], after[1] - before[1]])
    }

    fn day(&self, date: Date, lp_value: f64, hodl: f64, price_ratio: f64, market_price: f64) -> DayValue {
        let [x, y] = self.reserves();
        DayValue {
            date,
            lp_value_usd: lp_value,
            hodl_value_usd: hodl,
            fees_usd: lp_value * (1.0 - 1.0 / self.k_noise),
            arb_fees_usd: lp_value / self.k_noise * (1.0 - 1.0 / self.k_arb),
            price_ratio,
            pool_price: (to_f64(y) / scale(DECIMALS_B)) / (to_f64(x) / scale(DECIMALS_A)),
            market_price,
        }
    }
}
