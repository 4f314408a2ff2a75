//! A bare Uniswap V2 pair for simulations that run millions of steps: the reserves, the LP supply
//! and the fee, moved only by the engine's own formulas (`amm::get_amount_out`, `amm::quote`,
//! `math::sqrt`, `math::mul_div`) — the pair's `mint`/`burn`/`swap` arithmetic without the
//! engine's bookkeeping (ids, balances, undo log, price accumulators), which a Monte Carlo path
//! does not need and would pay for at every step.
//!
//! Why it can be trusted: every swap is checked against the pair's K invariant (`debug_assert`),
//! and the test `strategy_lp_matches_the_engine_backtest` runs the same arbitrage on this pool and
//! on a real engine pool ([`crate::backtest`]) and finds the same reserves to the wei.

use crate::arbitrage::{self, Ratio, Trade};
use granary_engine::math::{self, U256};
use granary_engine::{EngineError, amm};

/// One constant-product pool.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactPool {
    /// Reserves of token 0 (the volatile asset, 18 decimals) and token 1 (the quote, 6 decimals).
    pub reserves: [U256; 2],
    /// LP supply, including the `MINIMUM_LIQUIDITY` locked by the first mint.
    pub supply: U256,
    pub fee_bps: u32,
    /// `√(x·y)` growth factor from arbitrage swaps and from noise swaps (per LP share: mints and
    /// burns leave `√(x·y)/supply` unchanged up to rounding, swaps raise it by their fee).
    pub growth_arb: f64,
    pub growth_noise: f64,
}

/// Who made a swap, for the growth accounting and for traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SwapKind {
    Arbitrage,
    Noise,
    /// The strategy's own swaps (a vault selling half its proceeds before re-adding liquidity).
    Own,
}

/// One executed swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapRecord {
    pub kind: SwapKind,
    pub sell: usize,
    pub amount_in: U256,
    pub amount_out: U256,
}

impl ExactPool {
    pub fn new(fee_bps: u32) -> Result<ExactPool, EngineError> {
        if fee_bps > amm::MAX_FEE_BPS {
            return Err(EngineError::Invalid { field: "fee_bps", why: format!("at most {}", amm::MAX_FEE_BPS) });
        }
        Ok(ExactPool { reserves: [U256::ZERO; 2], supply: U256::ZERO, fee_bps, growth_arb: 1.0, growth_noise: 1.0 })
    }

    /// Router `addLiquidity` then pair `mint`: on an empty pool `√(a·b) − 1000` (the 1000 locked
    /// forever), else the optimal amounts from `quote` and `min(a·S/x, b·S/y)`. Returns the
    /// liquidity minted and the amounts used (the rest stays with the caller).
    pub fn mint(&mut self, desired: [U256; 2]) -> Result<(U256, [U256; 2]), EngineError> {
        let [x, y] = self.reserves;
        if self.supply.is_zero() {
            let root = math::sqrt(math::mul(desired[0], desired[1])?);
            let liquidity = root.checked_sub(amm::MINIMUM_LIQUIDITY).filter(|l| !l.is_zero());
            let liquidity = liquidity.ok_or(EngineError::InsufficientLiquidityMinted)?;
            self.reserves = desired;
            self.supply = root;
            self.check_reserves()?;
            return Ok((liquidity, desired));
        }
        let b_opt = amm::quote(desired[0], x, y)?;
        let used = if b_opt <= desired[1] { [desired[0], b_opt] } else { [amm::quote(desired[1], y, x)?, desired[1]] };
        let liquidity = math::mul_div(used[0], self.supply, x)?.min(math::mul_div(used[1], self.supply, y)?);
        if liquidity.is_zero() {
            return Err(EngineError::InsufficientLiquidityMinted);
        }
        self.reserves = [math::add(x, used[0])?, math::add(y, used[1])?];
        self.supply = math::add(self.supply, liquidity)?;
        self.check_reserves()?;
        Ok((liquidity, used))
    }

    /// What burning `liquidity` pays: `liquidity·reserve / supply`, floored (the pair's `burn`).
    pub fn redeemable(&self, liquidity: U256) -> Result<[U256; 2], EngineError> {
        if self.supply.is_zero() {
            return Err(EngineError::InsufficientLiquidity);
        }
        Ok([
            math::mul_div(liquidity, self.reserves[0], self.supply)?,
            math::mul_div(liquidity, self.reserves[1], self.supply)?,
        ])
    }

    /// The pair's `burn`; either amount being 0 is an error, as in the pair.
    pub fn burn(&mut self, liquidity: U256) -> Result<[U256; 2], EngineError> {
        let out = self.redeemable(liquidity)?;
        if out[0].is_zero() || out[1].is_zero() {
            return Err(EngineError::InsufficientLiquidityBurned);
        }
        self.reserves = [self.reserves[0] - out[0], self.reserves[1] - out[1]];
        self.supply = math::sub(self.supply, liquidity)?;
        Ok(out)
    }

    /// Sell `amount_in` of token `sell`: `get_amount_out`, then the reserves move as the pair's
    /// balances would. Returns the output.
    #[inline]
    pub fn swap(&mut self, sell: usize, amount_in: U256, kind: SwapKind) -> Result<U256, EngineError> {
        let (r_in, r_out) = (self.reserves[sell], self.reserves[1 - sell]);
        let out = amm::get_amount_out(amount_in, r_in, r_out, self.fee_bps)?;
        if out.is_zero() {
            return Err(EngineError::InsufficientOutputAmount);
        }
        let new_in = math::add(r_in, amount_in)?;
        let new_out = r_out - out;
        debug_assert!(
            {
                // The pair's K check: (in'·10000 − amount_in·f)·out'·10000 ≥ in·out·10000².
                let bps = U256::from(10_000u32);
                let adj = new_in * bps - amount_in * U256::from(self.fee_bps);
                adj.checked_mul(new_out * bps).is_none_or(|l| l >= r_in * r_out * bps * bps)
            },
            "K check failed"
        );
        let g = ((to_f64(new_in) / to_f64(r_in)) * (to_f64(new_out) / to_f64(r_out))).sqrt();
        match kind {
            SwapKind::Arbitrage => self.growth_arb *= g,
            SwapKind::Noise | SwapKind::Own => self.growth_noise *= g,
        }
        self.reserves[sell] = new_in;
        self.reserves[1 - sell] = new_out;
        self.check_reserves()?;
        Ok(out)
    }

    /// Arbitrage to the edge of the no-arbitrage band around `market`
    /// ([`arbitrage::to_band_edge_fast`]); `None` when the pool is inside the band.
    #[inline]
    pub fn arbitrage(&mut self, market: Ratio) -> Result<Option<SwapRecord>, EngineError> {
        let Some(Trade { sell, amount }) = arbitrage::to_band_edge_fast(self.reserves, self.fee_bps, market) else {
            return Ok(None);
        };
        let out = self.swap(sell, amount, SwapKind::Arbitrage)?;
        Ok(Some(SwapRecord { kind: SwapKind::Arbitrage, sell, amount_in: amount, amount_out: out }))
    }

    /// A price-neutral round trip by a noise trader: sell `amount` of `first`, then the largest
    /// amount of the other token that does not carry the price past where it was
    /// ([`arbitrage::restoring_leg_fast`]). Both legs pay the fee; the price ends where it began,
    /// to a base unit. Returns the legs executed.
    pub fn round_trip(&mut self, first: usize, amount: U256) -> Result<[Option<SwapRecord>; 2], EngineError> {
        if amount.is_zero() {
            return Ok([None, None]);
        }
        let before = self.reserves;
        // A leg too small to pay one unit is skipped (the swap refuses it and changes nothing).
        let out = match self.swap(first, amount, SwapKind::Noise) {
            Ok(out) => out,
            Err(EngineError::InsufficientOutputAmount) => return Ok([None, None]),
            Err(e) => return Err(e),
        };
        let leg1 = SwapRecord { kind: SwapKind::Noise, sell: first, amount_in: amount, amount_out: out };
        let back = arbitrage::restoring_leg_fast(before, self.reserves, 1 - first, self.fee_bps);
        if back.is_zero() {
            return Ok([Some(leg1), None]);
        }
        match self.swap(1 - first, back, SwapKind::Noise) {
            Ok(out2) => Ok([
                Some(leg1),
                Some(SwapRecord { kind: SwapKind::Noise, sell: 1 - first, amount_in: back, amount_out: out2 }),
            ]),
            Err(EngineError::InsufficientOutputAmount) => Ok([Some(leg1), None]),
            Err(e) => Err(e),
        }
    }

    /// The pool's price, token-1 base units per token-0 base unit (for reports).
    pub fn price_units(&self) -> f64 {
        to_f64(self.reserves[1]) / to_f64(self.reserves[0])
    }

    fn check_reserves(&self) -> Result<(), EngineError> {
        if self.reserves.iter().any(|r| *r > math::MAX_RESERVE) {
            return Err(EngineError::ReserveOverflow);
        }
        Ok(())
    }
}

/// `x` as a float: two limbs directly when it fits in 128 bits (every reserve does; the result
/// may differ from the correctly rounded one by an ulp, which only growth factors and the
/// closed form's starting point see), else ruint's conversion.
#[inline]
fn to_f64(x: U256) -> f64 {
    match x.as_limbs() {
        [lo, hi, 0, 0] => *hi as f64 * 18_446_744_073_709_551_616.0 + *lo as f64,
        _ => x.into(),
    }
}
