//! USD prices per token per chain. Stablecoins (and any asset with an external feed) anchor the
//! prices; every other token is priced through the deepest pool that links it to a priced token,
//! at that pool's time-weighted average price over `twap_window_s` (default 30 minutes), from the
//! pools' cumulative price accumulators — so one trade, or a flash loan, cannot move it. The spot
//! price is kept beside it and a large gap is flagged. LP tokens are priced from fair reserves,
//! `2·√(r0·r1·p0·p1) / supply`, which a swap cannot inflate.

use crate::history::{History, PoolSample, current_sample};
use granary_engine::state::Minter;
use granary_engine::{Engine, U256};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a price was obtained.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum PriceSource {
    /// A USD stablecoin, taken at $1 (or its feed, if one is given).
    Stable,
    /// An external feed (the market's last close).
    Feed,
    /// Through a pool's TWAP, from the priced token on its other side.
    Pool { pool: String, via: String },
    /// An LP token: fair reserves of its pool at TWAP prices.
    Lp { pool: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceQuote {
    pub usd: f64,
    /// The same route at the pools' spot prices.
    pub spot_usd: f64,
    /// |spot / twap − 1|.
    pub divergence: f64,
    /// Divergence beyond the configured threshold: the spot price is being pushed.
    pub flagged: bool,
    /// The averaging window actually available (shorter while history is young).
    pub window_s: u64,
    /// Chain time the price is computed at.
    pub as_of: u64,
    #[serde(flatten)]
    pub source: PriceSource,
}

/// Settings of the price engine.
#[derive(Debug, Clone)]
pub struct PriceConfig {
    pub twap_window_s: u64,
    pub divergence_threshold: f64,
    /// Symbols taken as $1 anchors.
    pub stable_symbols: Vec<String>,
}

impl Default for PriceConfig {
    fn default() -> Self {
        PriceConfig {
            twap_window_s: 1800,
            divergence_threshold: 0.05,
            stable_symbols: ["USDC", "USDT", "DAI", "USDC.e", "BUSD", "FDUSD", "USDbC"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// Prices of every token the hub can price, by token index.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    pub quotes: BTreeMap<usize, PriceQuote>,
}

impl PriceBook {
    pub fn usd(&self, token: usize) -> Option<f64> {
        self.quotes.get(&token).map(|q| q.usd)
    }
}

pub(crate) fn to_f64(v: U256) -> f64 {
    let f: f64 = v.into();
    f
}

fn scale(decimals: u8) -> f64 {
    10f64.powi(i32::from(decimals))
}

/// Time-weighted price of token0 in token1 (raw base units) between two samples; `None` when no
/// time has passed.
fn twap_raw(then: &PoolSample, now: &PoolSample) -> Option<[f64; 2]> {
    let dt = now.t.checked_sub(then.t).filter(|d| *d > 0)?;
    let q112 = 2f64.powi(112);
    let p0 = to_f64(now.price_cumulative[0].wrapping_sub(then.price_cumulative[0])) / q112 / dt as f64;
    let p1 = to_f64(now.price_cumulative[1].wrapping_sub(then.price_cumulative[1])) / q112 / dt as f64;
    Some([p0, p1])
}

/// Price of `tokens[side]` in units of `tokens[1 - side]` (human units): TWAP and spot, and the
/// window used.
pub fn pool_prices(
    engine: &Engine,
    history: &History,
    pool: usize,
    window_s: u64,
    side: usize,
) -> Option<(f64, f64, u64)> {
    let p = engine.pool(pool);
    if p.reserves[0].is_zero() || p.reserves[1].is_zero() {
        return None;
    }
    let (d0, d1) = (engine.token(p.tokens[0]).decimals, engine.token(p.tokens[1]).decimals);
    let adj = [scale(d0) / scale(d1), scale(d1) / scale(d0)];
    let spot_raw = [to_f64(p.reserves[1]) / to_f64(p.reserves[0]), to_f64(p.reserves[0]) / to_f64(p.reserves[1])];
    let now = current_sample(engine, pool);
    let (twap, window) = match history
        .pool_at(pool, now.t.saturating_sub(window_s))
        .and_then(|then| twap_raw(then, &now).map(|t| (t, now.t - then.t)))
    {
        Some((t, w)) => (t, w),
        None => (spot_raw, 0),
    };
    Some((twap[side] * adj[side], spot_raw[side] * adj[side], window))
}

/// Price every token the anchors and pools reach.
pub fn price_book(engine: &Engine, history: &History, cfg: &PriceConfig, feeds: &BTreeMap<String, f64>) -> PriceBook {
    let mut book = PriceBook::default();
    let lp_tokens: Vec<bool> = engine.tokens().iter().map(|t| matches!(t.minter, Minter::Pool(_))).collect();
    for (ix, t) in engine.tokens().iter().enumerate() {
        let now = engine.now(t.chain);
        let stable = cfg.stable_symbols.iter().any(|s| s.eq_ignore_ascii_case(&t.symbol));
        let feed = feeds.get(&t.symbol.to_ascii_uppercase()).or_else(|| feeds.get(&t.symbol)).copied();
        let (usd, source) = match (stable, feed) {
            (_, Some(f)) => (f, if stable { PriceSource::Stable } else { PriceSource::Feed }),
            (true, None) => (1.0, PriceSource::Stable),
            _ => continue,
        };
        book.quotes.insert(
            ix,
            PriceQuote { usd, spot_usd: usd, divergence: 0.0, flagged: false, window_s: 0, as_of: now, source },
        );
    }
    // Spread through pools, deepest first, until nothing changes.
    loop {
        let mut best: BTreeMap<usize, (f64, PriceQuote)> = BTreeMap::new();
        for (pix, p) in engine.pools().iter().enumerate() {
            for side in 0..2 {
                let (known, unknown) = (p.tokens[1 - side], p.tokens[side]);
                if book.quotes.contains_key(&unknown) || lp_tokens[unknown] {
                    continue;
                }
                let Some(known_q) = book.quotes.get(&known) else { continue };
                let Some((twap, spot, window)) = pool_prices(engine, history, pix, cfg.twap_window_s, side) else {
                    continue;
                };
                let depth = to_f64(p.reserves[1 - side]) / scale(engine.token(known).decimals) * known_q.usd;
                let usd = twap * known_q.usd;
                let spot_usd = spot * known_q.spot_usd;
                let divergence = if usd > 0.0 { (spot_usd / usd - 1.0).abs() } else { 0.0 };
                let quote = PriceQuote {
                    usd,
                    spot_usd,
                    divergence,
                    flagged: divergence > cfg.divergence_threshold || known_q.flagged,
                    window_s: window,
                    as_of: engine.now(p.chain),
                    source: PriceSource::Pool { pool: p.id.clone(), via: engine.token(known).id.clone() },
                };
                if best.get(&unknown).is_none_or(|(d, _)| depth > *d) {
                    best.insert(unknown, (depth, quote));
                }
            }
        }
        if best.is_empty() {
            break;
        }
        for (t, (_, q)) in best {
            book.quotes.insert(t, q);
        }
    }
    // LP tokens from fair reserves.
    for (pix, p) in engine.pools().iter().enumerate() {
        let (Some(q0), Some(q1)) = (book.quotes.get(&p.tokens[0]), book.quotes.get(&p.tokens[1])) else { continue };
        let supply = to_f64(engine.token(p.lp_token).total_supply) / scale(engine.token(p.lp_token).decimals);
        if supply <= 0.0 {
            continue;
        }
        let tvl = fair_tvl(engine, pix, q0.usd, q1.usd);
        let spot_tvl = spot_tvl(engine, pix, q0.spot_usd, q1.spot_usd);
        let usd = tvl / supply;
        let spot_usd = spot_tvl / supply;
        let divergence = if usd > 0.0 { (spot_usd / usd - 1.0).abs() } else { 0.0 };
        book.quotes.insert(
            p.lp_token,
            PriceQuote {
                usd,
                spot_usd,
                divergence,
                flagged: q0.flagged || q1.flagged,
                window_s: q0.window_s.max(q1.window_s),
                as_of: engine.now(p.chain),
                source: PriceSource::Lp { pool: p.id.clone() },
            },
        );
    }
    book
}

/// A pool's value from fair reserves: `2·√(x·y·p0·p1)` in USD (x, y in human units). A swap
/// changes `x·y` only by its fee, so this cannot be pumped by moving the reserves.
pub fn fair_tvl(engine: &Engine, pool: usize, p0: f64, p1: f64) -> f64 {
    let p = engine.pool(pool);
    let x = to_f64(p.reserves[0]) / scale(engine.token(p.tokens[0]).decimals);
    let y = to_f64(p.reserves[1]) / scale(engine.token(p.tokens[1]).decimals);
    2.0 * (x * y * p0 * p1).sqrt()
}

/// A pool's value at its reserves and the given prices.
pub fn spot_tvl(engine: &Engine, pool: usize, p0: f64, p1: f64) -> f64 {
    let p = engine.pool(pool);
    let x = to_f64(p.reserves[0]) / scale(engine.token(p.tokens[0]).decimals);
    let y = to_f64(p.reserves[1]) / scale(engine.token(p.tokens[1]).decimals);
    x * p0 + y * p1
}
