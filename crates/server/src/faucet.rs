//! The demo faucet: what a new wallet receives on every chain.

use granary_engine::{Engine, U256};
use granary_world::World;
use granary_world::market::Market;

/// USD worth of each market token the faucet gives.
pub const GRANT_USD: f64 = 10_000.0;

/// (token id, amount) for every token of every chain that has a market price now: $10 000 worth.
pub fn grants(engine: &Engine, market: &Market, _world: &World) -> Vec<(String, U256)> {
    let mut out = Vec::new();
    for t in engine.tokens() {
        let now = engine.now(t.chain);
        let Some(price) = market.price_at(&t.id, now) else { continue };
        if !(price.is_finite() && price > 0.0) {
            continue;
        }
        let units = GRANT_USD / price;
        // Whole tokens to 6 significant digits, then scaled to base units (exact integers).
        let micro = (units * 1e6).round();
        if !(1.0..1e30).contains(&micro) {
            continue;
        }
        let micro = U256::from(micro as u128);
        let amount = if t.decimals >= 6 {
            micro * U256::from(10u64).pow(U256::from(t.decimals - 6))
        } else {
            micro / U256::from(10u64).pow(U256::from(6 - t.decimals))
        };
        if !amount.is_zero() {
            out.push((t.id.clone(), amount));
        }
    }
    out
}
