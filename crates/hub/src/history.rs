//! What the hub remembers between blocks: per-pool samples of the engine's cumulative counters
//! (price accumulators, swap volume and fees, LP supply), taken at most every `sample_every_s` of
//! chain time and kept for `keep_s`. TWAPs are differences of two samples' accumulators, so one
//! block's price moves them by its share of the window only; fee APRs are sums of hourly
//! differences with the busiest hour discounted (`market::pool_fees_usd`), so one block's fees
//! move them by at most twice the busiest honest hour's.

use granary_engine::{Engine, U256};
use std::collections::{BTreeMap, VecDeque};

/// One observation of a constant-product pool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolSample {
    /// Chain time (seconds) of the observation.
    pub t: u64,
    /// UQ112x112 price accumulators brought up to `t` with the reserves in force since the last
    /// update (`UniswapV2OracleLibrary.currentCumulativePrices`).
    pub price_cumulative: [U256; 2],
    pub reserves: [U256; 2],
    pub volume_in: [U256; 2],
    pub fees_in: [U256; 2],
    pub lp_supply: U256,
}

/// The counterfactual accumulators of pool `ix` at its chain's current time: what
/// `UniswapV2OracleLibrary.currentCumulativePrices` computes without a `sync`.
pub fn current_sample(engine: &Engine, ix: usize) -> PoolSample {
    let p = engine.pool(ix);
    let now = engine.now(p.chain);
    let now32 = (now & 0xffff_ffff) as u32;
    let elapsed = now32.wrapping_sub(p.block_timestamp_last);
    let mut cum = p.price_cumulative;
    if elapsed > 0 && !p.reserves[0].is_zero() && !p.reserves[1].is_zero() {
        let e = U256::from(elapsed);
        cum[0] = cum[0].wrapping_add(((p.reserves[1] << 112usize) / p.reserves[0]).wrapping_mul(e));
        cum[1] = cum[1].wrapping_add(((p.reserves[0] << 112usize) / p.reserves[1]).wrapping_mul(e));
    }
    PoolSample {
        t: now,
        price_cumulative: cum,
        reserves: p.reserves,
        volume_in: p.volume_in,
        fees_in: p.fees_in,
        lp_supply: engine.token(p.lp_token).total_supply,
    }
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub pools: BTreeMap<usize, VecDeque<PoolSample>>,
    /// Staked totals of farm pools and staking pools over time: (t, staked), for TVL trends.
    pub farm_staked: BTreeMap<usize, VecDeque<(u64, U256)>>,
    pub staking_staked: BTreeMap<usize, VecDeque<(u64, U256)>>,
}

fn push_sampled<T>(q: &mut VecDeque<T>, t: u64, item: T, t_of: impl Fn(&T) -> u64, every: u64, keep: u64) {
    match q.back() {
        Some(last) if t < t_of(last).saturating_add(every) => {}
        _ => q.push_back(item),
    }
    while q.front().is_some_and(|f| t_of(f).saturating_add(keep) < t) && q.len() > 2 {
        q.pop_front();
    }
}

impl History {
    /// Record the engine's current state (call after each closed block; cheap when no sample is due).
    pub fn observe(&mut self, engine: &Engine, every: u64, keep: u64) {
        for ix in 0..engine.pools().len() {
            let s = current_sample(engine, ix);
            push_sampled(self.pools.entry(ix).or_default(), s.t, s, |s| s.t, every, keep);
        }
        for (ix, fp) in engine.farm_pools().iter().enumerate() {
            let t = engine.now(engine.farm(fp.farm).chain);
            push_sampled(self.farm_staked.entry(ix).or_default(), t, (t, fp.total_staked), |s| s.0, every, keep);
        }
        for (ix, sp) in engine.staking_pools().iter().enumerate() {
            let t = engine.now(sp.chain);
            push_sampled(self.staking_staked.entry(ix).or_default(), t, (t, sp.total_staked), |s| s.0, every, keep);
        }
    }

    /// The newest sample of pool `ix` taken at or before `t` (else the oldest kept). Samples are
    /// pushed in time order (`push_sampled` skips any earlier than the last plus `every`), so this
    /// is a binary search.
    pub fn pool_at(&self, ix: usize, t: u64) -> Option<&PoolSample> {
        at_or_before(self.pools.get(&ix)?, t, |s| s.t)
    }

    /// The staked total of a farm pool at or before `t` (else the oldest kept).
    pub fn farm_staked_at(&self, ix: usize, t: u64) -> Option<(u64, U256)> {
        at_or_before(self.farm_staked.get(&ix)?, t, |s| s.0).copied()
    }

    pub fn staking_staked_at(&self, ix: usize, t: u64) -> Option<(u64, U256)> {
        at_or_before(self.staking_staked.get(&ix)?, t, |s| s.0).copied()
    }
}

/// The newest item of `q` at or before `t`, else the oldest (index 0); `q` is in time order.
fn at_or_before<T>(q: &VecDeque<T>, t: u64, t_of: impl Fn(&T) -> u64) -> Option<&T> {
    q.get(q.partition_point(|s| t_of(s) <= t).saturating_sub(1))
}
