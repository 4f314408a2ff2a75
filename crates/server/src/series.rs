//! Opportunity series for the charts: APY, its split, TVL and the main asset's price, sampled
//! once per `every_s` of chain time (the hub keeps pool samples, not derived figures).

use granary_engine::Engine;
use granary_hub::market::Target;
use granary_hub::{Hub, Opportunity};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Chain time, seconds since genesis.
    pub t: u64,
    pub apy: f64,
    pub apr_base: Option<f64>,
    pub apr_reward: Option<f64>,
    pub tvl_usd: f64,
    /// USD price of the opportunity's first asset (token 0 of a pool or of the LP staked).
    pub price_usd: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub every_s: u64,
    /// Points kept per opportunity (the oldest are dropped).
    pub keep: usize,
    last: Option<u64>,
    pub by_id: BTreeMap<String, VecDeque<Point>>,
}

impl Default for Series {
    fn default() -> Self {
        Series { every_s: 3_600, keep: 24 * 60, last: None, by_id: BTreeMap::new() }
    }
}

/// The token whose price an opportunity's chart shows: token 0 of the pool it stands on.
pub fn price_token(engine: &Engine, o: &Opportunity) -> Option<usize> {
    let stake = match o.target {
        Target::Pool { ix } => return Some(engine.pool(ix).tokens[0]),
        Target::FarmPool { ix } => engine.farm_pool(ix).stake_token,
        Target::Staking { ix, .. } => engine.staking_pool(ix).stake_token,
    };
    match engine.token(stake).minter {
        granary_engine::Minter::Pool(p) => Some(engine.pool(p).tokens[0]),
        _ => Some(stake),
    }
}

impl Series {
    /// Sample every opportunity if `every_s` of chain time passed since the last sample.
    pub fn maybe_sample(&mut self, engine: &Engine, hub: &Hub) {
        let t = engine.chains().iter().map(|c| c.now).max().unwrap_or(0);
        if self.last.is_some_and(|l| t < l + self.every_s) {
            return;
        }
        self.last = Some(t);
        let book = hub.price_book(engine);
        for o in hub.opportunities(engine) {
            let price_usd = price_token(engine, &o).and_then(|tok| book.usd(tok));
            let q = self.by_id.entry(o.id.clone()).or_default();
            q.push_back(Point {
                t,
                apy: o.apy,
                apr_base: o.apr_base,
                apr_reward: o.apr_reward,
                tvl_usd: o.tvl_usd,
                price_usd,
            });
            while q.len() > self.keep {
                q.pop_front();
            }
        }
    }
}
