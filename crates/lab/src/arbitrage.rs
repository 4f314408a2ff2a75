//! Exact integer trade sizes on a constant-product pool, shared by the backtest and by the demo
//! world's live market: the arbitrage that moves a pool to the edge of its no-arbitrage band, and
//! the leg that brings a pool back to its price after a noise trade.
//!
//! Every size is found by bisection on the engine's own [`amm::get_amount_out`], so the engine
//! accepts the trade and leaves the pool exactly where the predicate says, up to one base unit —
//! no floating point reaches a trade size.
//!
//! **The band.** With reserves `x` (token 0) and `y` (token 1), fee `f` and `γ = 1 − f/10000`, a
//! trader who sells token 0 receives at the margin `γ·y/x` of token 1 per unit; selling pays while
//! that beats the market ratio `m` (token-1 base units per token-0 base unit). Buying token 0 pays
//! while `y/(γ·x) < m`. So no trade pays while `γ·m ≤ y/x ≤ m/γ`: the pool's price may sit
//! anywhere in that band, and an arbitrageur moves it only to the nearer edge.

use granary_engine::{U256, amm};

/// A market ratio in base units: `num / den` base units of token 1 per base unit of token 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: U256,
    pub den: U256,
}

impl Ratio {
    /// Significant decimal digits kept in `num` by [`Ratio::from_f64`].
    pub const DIGITS: i32 = 18;

    /// A positive finite ratio as `round(r·10^e) / 10^e`, with `e ≥ 0` chosen so that the
    /// numerator has about [`Ratio::DIGITS`] digits (`e = DIGITS − ⌈log10 r⌉`, at least 0): the
    /// relative rounding error is below 10^−17 whatever the magnitude of `r` (a WETH/USDC ratio in
    /// base units is about 2.6·10^−9, a WBTC/WETH one about 1.9·10^11). `None` for a ratio that
    /// is not positive and finite or whose numerator would exceed 2^127.
    pub fn from_f64(r: f64) -> Option<Ratio> {
        if !(r.is_finite() && r > 0.0) {
            return None;
        }
        let e = (Self::DIGITS - r.log10().ceil() as i32).clamp(0, 60);
        let num = (r * 10f64.powi(e)).round();
        if !(num >= 1.0 && num < 2f64.powi(127)) {
            return None;
        }
        Some(Ratio { num: U256::from(num as u128), den: U256::from(10u8).pow(U256::from(e as u32)) })
    }

    /// The ratio as a float (for reports).
    pub fn to_f64(self) -> f64 {
        let (n, d): (f64, f64) = (self.num.into(), self.den.into());
        n / d
    }
}

/// A swap to make: sell `amount` base units of the pool's token `sell` (0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    pub sell: usize,
    pub amount: U256,
}

/// The largest `n` in `0..` with `ok(n)`, for a predicate that is true up to some point and false
/// after it (callers fold errors into false). `guess` seeds the search for an upper bound, which
/// doubles until the predicate fails; the bracket is then bisected. 0 when `ok(1)` fails.
pub fn largest(guess: U256, ok: impl Fn(U256) -> bool) -> U256 {
    let one = U256::from(1u8);
    if !ok(one) {
        return U256::ZERO;
    }
    let cap = U256::from(1u8) << 200;
    let mut lo = one;
    let mut hi = guess.max(U256::from(2u8));
    while ok(hi) {
        lo = hi;
        if hi >= cap {
            return hi;
        }
        hi <<= 1;
    }
    // ok(lo), !ok(hi)
    while hi - lo > one {
        let mid = lo + ((hi - lo) >> 1);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn mul(a: U256, b: U256) -> Option<U256> {
    a.checked_mul(b)
}

/// The arbitrage that moves a pool with `reserves` and `fee_bps` to the edge of its band around
/// `market` (see the module docs), or `None` when the pool is inside the band (or no whole unit
/// fits). In integers, with `m = P/S`:
///
/// * sell token 0 while `(10000−f)·y'·S ≥ 10000·x'·P` (the pool ends at `y/x ≈ m/γ`);
/// * else sell token 1 while `10000·y'·S ≤ (10000−f)·x'·P` (the pool ends at `y/x ≈ γ·m`),
///
/// where `(x', y')` are the reserves after the swap, computed with `get_amount_out`. The size is
/// the largest that satisfies the inequality, so the pool stops on its side of the edge.
pub fn to_band_edge(reserves: [U256; 2], fee_bps: u32, market: Ratio) -> Option<Trade> {
    let [x, y] = reserves;
    let (p, s) = (market.num, market.den);
    let f = fee_bps.min(amm::MAX_FEE_BPS);
    let bps = U256::from(10_000u32);
    let gamma = U256::from(10_000 - f);
    let sell_0 = |dx: U256| -> bool {
        let Ok(out) = amm::get_amount_out(dx, x, y, f) else { return false };
        let (Some(x2), Some(y2)) = (x.checked_add(dx), y.checked_sub(out)) else { return false };
        match (mul(gamma, y2).and_then(|v| mul(v, s)), mul(bps, x2).and_then(|v| mul(v, p))) {
            (Some(l), Some(r)) => l >= r,
            _ => false,
        }
    };
    let sell_1 = |dy: U256| -> bool {
        let Ok(out) = amm::get_amount_out(dy, y, x, f) else { return false };
        let (Some(y2), Some(x2)) = (y.checked_add(dy), x.checked_sub(out)) else { return false };
        match (mul(bps, y2).and_then(|v| mul(v, s)), mul(gamma, x2).and_then(|v| mul(v, p))) {
            (Some(l), Some(r)) => l <= r,
            _ => false,
        }
    };
    let dx = largest(x >> 6, sell_0);
    if !dx.is_zero() {
        return Some(Trade { sell: 0, amount: dx });
    }
    let dy = largest(y >> 6, sell_1);
    (!dy.is_zero()).then_some(Trade { sell: 1, amount: dy })
}

/// The second leg of a price-neutral round trip: after a first leg took the pool from `before` to
/// `now`, the largest amount of token `sell` (the token the first leg bought) whose swap does not
/// carry the price `y/x` past its value before the trip:
///
/// * `sell = 1` (the first leg sold token 0 and lowered `y/x`): sell token 1 while
///   `(y₁+dy)·x₀ ≤ y₀·(x₁−out)`;
/// * `sell = 0` (the first leg sold token 1 and raised `y/x`): sell token 0 while
///   `(y₁−out)·x₀ ≥ y₀·(x₁+dx)`.
///
/// The trip then leaves the price where it was (to one base unit) and the pool richer by both
/// legs' fees.
pub fn restoring_leg(before: [U256; 2], now: [U256; 2], sell: usize, fee_bps: u32) -> U256 {
    let [x0, y0] = before;
    let [x1, y1] = now;
    let f = fee_bps.min(amm::MAX_FEE_BPS);
    if sell == 1 {
        largest(y0 - y1.min(y0), |db| {
            let Ok(out) = amm::get_amount_out(db, y1, x1, f) else { return false };
            let (Some(y2), Some(x2)) = (y1.checked_add(db), x1.checked_sub(out)) else { return false };
            matches!((mul(y2, x0), mul(y0, x2)), (Some(l), Some(r)) if l <= r)
        })
    } else {
        largest(x0 - x1.min(x0), |da| {
            let Ok(out) = amm::get_amount_out(da, x1, y1, f) else { return false };
            let (Some(x2), Some(y2)) = (x1.checked_add(da), y1.checked_sub(out)) else { return false };
            matches!((mul(y2, x0), mul(y0, x2)), (Some(l), Some(r)) if l >= r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    /// Reserves after selling `amount` of side `sell`.
    fn after(r: [U256; 2], t: Trade, fee: u32) -> [U256; 2] {
        let out = amm::get_amount_out(t.amount, r[t.sell], r[1 - t.sell], fee).unwrap_or_default();
        let mut n = r;
        n[t.sell] += t.amount;
        n[1 - t.sell] -= out;
        n
    }

    fn price(r: [U256; 2]) -> f64 {
        let (x, y): (f64, f64) = (r[0].into(), r[1].into());
        y / x
    }

    #[test]
    fn ratio_keeps_eighteen_digits_at_any_scale() {
        for r in [2.64e-9, 1.0, 1.88e11, 3.3e-21, 7.77e17] {
            let q = Ratio::from_f64(r);
            let got = q.map(Ratio::to_f64).unwrap_or(0.0);
            assert!((got / r - 1.0).abs() < 1e-15, "{r}: {got}");
        }
        assert_eq!(Ratio::from_f64(0.0), None);
        assert_eq!(Ratio::from_f64(f64::NAN), None);
        assert_eq!(Ratio::from_f64(-1.0), None);
    }

    #[test]
    fn arbitrage_stops_at_the_nearer_edge_and_not_inside() {
        let fee = 30;
        let gamma = 0.997;
        // 1000 A and 2_000_000 B (price 2000); the market at 2100 and at 1900.
        let r = [u(1_000 * 10u128.pow(18)), u(2_000_000 * 10u128.pow(6))];
        for m in [2100.0, 1900.0] {
            let ratio = Ratio::from_f64(m * 1e6 / 1e18);
            let t = ratio.and_then(|q| to_band_edge(r, fee, q));
            let Some(t) = t else { panic!("no trade at {m}") };
            let p = price(after(r, t, fee)) * 1e12;
            let edge = if m > 2000.0 { gamma * m } else { m / gamma };
            assert!((p / edge - 1.0).abs() < 1e-9, "market {m}: pool {p}, edge {edge}");
            // One more unit would cross the edge: the size is the largest that does not.
            let more = Trade { sell: t.sell, amount: t.amount + u(1) };
            let q = price(after(r, more, fee)) * 1e12;
            assert!(if m > 2000.0 { q >= edge * (1.0 - 1e-12) } else { q <= edge * (1.0 + 1e-12) });
        }
        // Inside the band: nothing to do.
        assert_eq!(Ratio::from_f64(2001.0 * 1e6 / 1e18).and_then(|q| to_band_edge(r, fee, q)), None);
    }

    #[test]
    fn a_round_trip_returns_the_price() {
        let fee = 30;
        let r0 = [u(5_000 * 10u128.pow(18)), u(9_000_000 * 10u128.pow(6))];
        for first in [0usize, 1] {
            let leg1 = Trade { sell: first, amount: r0[first] / u(97) };
            let r1 = after(r0, leg1, fee);
            let back = Trade { sell: 1 - first, amount: restoring_leg(r0, r1, 1 - first, fee) };
            let r2 = after(r1, back, fee);
            assert!((price(r2) / price(r0) - 1.0).abs() < 1e-12, "{} vs {}", price(r2), price(r0));
            assert!(r2[0] > r0[0] && r2[1] > r0[1], "the pool keeps both legs' fees");
        }
    }
}
