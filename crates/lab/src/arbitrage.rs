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

/// [`to_band_edge`] without the search: the same trade (same side, same amount, to the base unit),
/// found from the closed form and then fixed up on the exact formula (see [`edge_amount`]).
/// Falls back to the bisection when the closed form cannot be trusted (a product past 256 bits).
pub fn to_band_edge_fast(reserves: [U256; 2], fee_bps: u32, market: Ratio) -> Option<Trade> {
    let [x, y] = reserves;
    let f = fee_bps.min(amm::MAX_FEE_BPS);
    let bps = U256::from(10_000u32);
    let gamma = U256::from(10_000 - f);
    // Sell token 0 while (10000·P)·(x + dx) ≤ (γ·S)·(y − out).
    let sell_0 = match (bps.checked_mul(market.num), gamma.checked_mul(market.den)) {
        (Some(b), Some(a)) => edge_amount(x, y, f, a, b),
        _ => None,
    };
    let Some(dx) = sell_0 else { return to_band_edge(reserves, fee_bps, market) };
    if !dx.is_zero() {
        return Some(Trade { sell: 0, amount: dx });
    }
    // Sell token 1 while (10000·S)·(y + dy) ≤ (γ·P)·(x − out).
    let sell_1 = match (bps.checked_mul(market.den), gamma.checked_mul(market.num)) {
        (Some(b), Some(a)) => edge_amount(y, x, f, a, b),
        _ => None,
    };
    let Some(dy) = sell_1 else { return to_band_edge(reserves, fee_bps, market) };
    (!dy.is_zero()).then_some(Trade { sell: 1, amount: dy })
}

/// [`restoring_leg`] without the search: the same amount, from [`edge_amount`] (the restoring
/// condition has the same shape as the band edge's, with the pre-trip reserves as the ratio and no
/// fee factor). Falls back to the bisection when a product would pass 256 bits.
pub fn restoring_leg_fast(before: [U256; 2], now: [U256; 2], sell: usize, fee_bps: u32) -> U256 {
    let [x0, y0] = before;
    let [x1, y1] = now;
    let f = fee_bps.min(amm::MAX_FEE_BPS);
    // sell = 1: x0·(y1 + db) ≤ y0·(x1 − out);  sell = 0: y0·(x1 + da) ≤ x0·(y1 − out).
    let fast = if sell == 1 { edge_amount(y1, x1, f, y0, x0) } else { edge_amount(x1, y1, f, x0, y0) };
    fast.unwrap_or_else(|| restoring_leg(before, now, sell, fee_bps))
}

/// The largest `d ≥ 0` with `b·(r_in + d) ≤ a·(r_out − out(d))`, where
/// `out(d) = get_amount_out(d, r_in, r_out, fee_bps)`: how much can be sold into the pool before its
/// price `r_out/r_in` falls to `b/a` (both the band edge and the restoring leg have this shape).
/// `None` when the answer cannot be certified (a product past 256 bits, or an answer near 2^200);
/// callers then use the bisection ([`largest`]), whose result this equals otherwise.
///
/// **Why a closed form.** With the floor of `out` ignored, `r_out − out = r_out·10000·r_in /
/// (10000·r_in + g·d)` (`g = 10000 − fee`), and the condition becomes the quadratic
/// `g·d² + (10000 + g)·r_in·d − 10000·r_in·q ≤ 0` with `q = a·r_out/b − r_in`, whose positive root
/// is `d* = 2·10000·r_in·q / ((10000+g)·r_in + √(((10000+g)·r_in)² + 4·g·10000·r_in·q))`
/// (the cancellation-free form; `q` comes from the exact integer `a·r_out − b·r_in`, so `d*` is
/// good to about 1e-15 relative). It starts a short exact walk:
///
/// * at a `d` where the condition holds with `o = out(d)`, the largest amount that satisfies it
///   *while the output stays `o`* is `c = ⌊a·(r_out − o)/b⌋ − r_in` (the condition is linear in
///   `d` for fixed `o`), and the output stays `o` up to the plateau end
///   `e = ⌈(o+1)·10000·r_in / (g·(r_out − o − 1))⌉ − 1` (the smallest input paying `o + 1`, from
///   the swap formula, minus one). If `c ≤ e`, `c` is the answer: it holds, and `c + 1` fails
///   whether the output stays `o` (linear bound) or grows (less output room). Otherwise the answer
///   is at least `e`, and the walk goes on from `e + 1`;
/// * where the condition fails, the walk steps down to `c` of that point, inside the bracket.
///
/// The condition is monotone (the left side grows with `d`, the right side shrinks), so an amount
/// that holds while the next fails is *the* answer; a bracket that the walk has not closed in 64
/// steps is bisected.
pub fn edge_amount(r_in: U256, r_out: U256, fee_bps: u32, a: U256, b: U256) -> Option<U256> {
    if b.is_zero() || r_in.is_zero() || r_out.is_zero() {
        return None;
    }
    let f = fee_bps.min(amm::MAX_FEE_BPS);
    let g = U256::from(10_000 - f);
    let one = U256::from(1u8);
    // The right side at d = 0 bounds it everywhere (it shrinks with d); if it fits, no later
    // product of the right side overflows, so the condition is monotone.
    let ar = a.checked_mul(r_out)?;
    let br = b.checked_mul(r_in)?;
    if ar <= br {
        // b·(r_in + 1) > b·r_in ≥ a·r_out ≥ a·(r_out − out(1)): not even one unit.
        return Some(U256::ZERO);
    }
    let q = to_f64(ar - br) / to_f64(b);
    let (rin, gf) = (to_f64(r_in), 10_000.0 - f64::from(f));
    let lin = (10_000.0 + gf) * rin;
    let est = 2.0 * 10_000.0 * rin * q / (lin + (lin * lin + 4.0 * gf * 10_000.0 * rin * q).sqrt());
    if !(est.is_finite() && est < 2f64.powi(190)) {
        return None;
    }
    // Where one unit in pays less than one unit out (wide output plateaus), start a hair below
    // the root so the first point holds and its plateau's linear bound is the answer; where each
    // unit in has its own output, start at the root itself (the answer is within a unit of it).
    let start = if to_f64(r_out) < rin { (est * (1.0 - 1e-13) - 1.0).floor() } else { est.round() }.max(1.0);
    // lo: the condition holds there, with slack h_lo = c(lo) − lo ≥ 0; hi: it fails there, by
    // n_hi = hi − c(hi) ≥ 1 (c(d) = ⌊a·(r_out − out(d))/b⌋ − r_in, in signed terms).
    let mut lo = U256::ZERO;
    let mut h_lo = ar / b - r_in;
    let mut hi: Option<(U256, U256)> = None;
    let mut d = U256::from(start as u128);
    // The secant through (lo, h_lo) and (hi, −n_hi): the slack is nearly linear in d (the floor
    // of `out` adds at most a unit), so it lands within a unit or two of the answer.
    let secant = |lo: U256, h_lo: U256, hi: U256, n_hi: U256| -> U256 {
        if hi <= lo + one {
            return lo; // the loop returns lo on its next turn
        }
        let step = h_lo.checked_mul(hi - lo).map(|v| v / (h_lo + n_hi));
        match step {
            Some(s) => (lo + s).clamp(lo + one, hi - one),
            None => lo + ((hi - lo) >> 1),
        }
    };
    let mut looked_past = false;
    for it in 0..48 {
        if let Some((h, n_h)) = hi {
            if h - lo <= one {
                return Some(lo);
            }
            if d <= lo || d >= h || it % 4 == 3 {
                // Every fourth step bisects, so a bracket always shrinks geometrically.
                d = if it % 4 == 3 { lo + ((h - lo) >> 1) } else { secant(lo, h_lo, h, n_h) };
            }
        } else if d <= lo {
            d = lo + one;
        }
        let Ok(o) = amm::get_amount_out(d, r_in, r_out, f) else {
            // Only an input past 256 bits fails here: treat as failing, with an unknown margin.
            hi = Some((d, d));
            d = lo + ((d - lo) >> 1);
            continue;
        };
        let right = a * (r_out - o); // ≤ a·r_out: fits
        let ok = matches!(r_in.checked_add(d).and_then(|v| v.checked_mul(b)), Some(left) if left <= right);
        if !ok && d - lo <= one {
            return Some(lo); // holds at lo, fails at lo + 1
        }
        let q = right / b;
        if ok {
            let c = q - r_in; // ≥ d since the condition holds
            if c == d {
                return Some(c); // it holds at d, and d + 1 has no more room (see below)
            }
            let e = plateau_end(o, r_in, r_out, g);
            if c <= e {
                return Some(c);
            }
            // The answer is past this plateau's end e (where the condition still holds).
            let wide = e > d;
            lo = e;
            h_lo = c - e;
            d = match hi {
                // A wide plateau: the answer is usually e itself, unless the next plateau still
                // holds, which one look at e + 1 decides (once; past that, the walk jumps).
                _ if wide && !looked_past => {
                    looked_past = true;
                    e + one
                }
                Some((h, n_h)) => secant(lo, h_lo, h, n_h),
                // One input unit per output step: the slack falls about twice as fast as d grows
                // near the edge (the band's two sides have equal slopes), so the root is near the
                // middle of e..c.
                None => e + core::cmp::max((c - e) >> 1usize, one),
            };
        } else {
            let n = (d + r_in).saturating_sub(q).max(one);
            hi = Some((d, n));
            d = secant(lo, h_lo, d, n);
        }
    }
    let (h, _) = hi?;
    // Bisect what is left of the bracket (lo holds, h fails).
    let (mut lo, mut hi) = (lo, h);
    while hi - lo > one {
        let mid = lo + ((hi - lo) >> 1);
        let ok = match amm::get_amount_out(mid, r_in, r_out, f) {
            Ok(o) => matches!(r_in.checked_add(mid).and_then(|v| v.checked_mul(b)), Some(l) if l <= a * (r_out - o)),
            Err(_) => false,
        };
        if ok {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// The largest input that still pays exactly `o`: `⌈(o+1)·10000·r_in / (g·(r_out − o − 1))⌉ − 1`
/// (from `out(d) ≥ o+1 ⇔ d·g·(r_out − o − 1) ≥ (o+1)·10000·r_in`); `U256::MAX` when no input pays
/// `o + 1` or the product does not fit (the caller then only loses a shortcut).
fn plateau_end(o: U256, r_in: U256, r_out: U256, g: U256) -> U256 {
    let one = U256::from(1u8);
    let Some(room) = r_out.checked_sub(o + one).filter(|r| !r.is_zero()) else { return U256::MAX };
    let num = (o + one).checked_mul(U256::from(10_000u32)).and_then(|v| v.checked_mul(r_in));
    let den = g.checked_mul(room);
    match (num, den) {
        (Some(n), Some(d)) => n.div_ceil(d) - one,
        _ => U256::MAX,
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

    /// xorshift64* (tests only).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Uniform in [lo, hi) on a log scale.
        fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
            let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            (lo.ln() + u * (hi.ln() - lo.ln())).exp()
        }
    }

    #[test]
    fn the_closed_form_equals_the_bisection_on_random_pools() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let (mut trades, mut inside, mut certified, mut products_fit) = (0, 0, 0, 0);
        for case in 0..4000 {
            // Reserves from 1e3 to 1e30 base units, fees 0..=1000 bps, markets within ±60 % of
            // the pool's price (and, every 10th case, anywhere in 12 orders of magnitude).
            let x = U256::from(rng.log_uniform(1e3, 1e30) as u128);
            let y = U256::from(rng.log_uniform(1e3, 1e30) as u128);
            let fee = [0u32, 1, 5, 30, 100, 1000][(rng.next() % 6) as usize];
            let pool = to_f64(y) / to_f64(x);
            let m = if case % 10 == 0 { pool * rng.log_uniform(1e-6, 1e6) } else { pool * rng.log_uniform(0.4, 1.6) };
            let Some(market) = Ratio::from_f64(m) else { continue };
            let slow = to_band_edge([x, y], fee, market);
            let fast = to_band_edge_fast([x, y], fee, market);
            assert_eq!(fast, slow, "case {case}: x {x} y {y} fee {fee} market {market:?}");
            if slow.is_some() {
                trades += 1
            } else {
                inside += 1
            }
            // The closed form itself answered (no fallback to the bisection).
            let g = U256::from(10_000 - fee);
            let bps = U256::from(10_000u32);
            let (a0, b0, a1, b1) = (g * market.den, bps * market.num, g * market.num, bps * market.den);
            let fits = [a0.checked_mul(y), b0.checked_mul(x), a1.checked_mul(x), b1.checked_mul(y)];
            if fits.iter().all(Option::is_some) {
                products_fit += 1;
                if edge_amount(x, y, fee, a0, b0).is_some() && edge_amount(y, x, fee, a1, b1).is_some() {
                    certified += 1;
                }
            }
            // The restoring leg after a random first leg.
            let first = (rng.next() % 2) as usize;
            let r = [x, y];
            let leg = U256::from((to_f64(r[first]) * rng.log_uniform(1e-6, 0.5)) as u128);
            if leg.is_zero() || amm::get_amount_out(leg, r[first], r[1 - first], fee).map_or(true, |o| o.is_zero()) {
                continue;
            }
            let now = after(r, Trade { sell: first, amount: leg }, fee);
            assert_eq!(
                restoring_leg_fast(r, now, 1 - first, fee),
                restoring_leg(r, now, 1 - first, fee),
                "case {case}: restoring leg from {r:?} via {now:?}"
            );
        }
        assert!(trades > 2000 && inside > 50, "trades {trades}, inside the band {inside}");
        // Where the products fit in 256 bits the closed form answers by itself (no fallback).
        assert!(products_fit > 2500 && certified == products_fit, "closed form {certified} of {products_fit}");
    }
}
