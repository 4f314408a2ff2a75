// TEMPORARY interface stand-in, replaced by the real market before commit.
use crate::{Seed, World};
use granary_engine::{Address, Engine, EngineError, SystemOp, U256};
use std::collections::BTreeMap;
pub trait Ledger {
    fn engine(&self) -> &Engine;
    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure>;
}
#[derive(Debug, Clone)]
pub struct LedgerFailure(pub String);
impl std::fmt::Display for LedgerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LedgerFailure {}
#[derive(Debug, Clone)]
pub struct MarketConfig {
    pub from: granary_lab::date::Date,
    pub to: granary_lab::date::Date,
    pub looped: bool,
    pub max_block_s: u64,
}
impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            from: granary_lab::date::Date::from_ymd(2023, 2, 12).unwrap(),
            to: granary_lab::date::Date::from_ymd(2024, 2, 12).unwrap(),
            looped: true,
            max_block_s: 3600,
        }
    }
}
#[derive(Debug)]
pub struct MarketError(pub String);
impl std::fmt::Display for MarketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for MarketError {}
pub struct Market {
    chains: Vec<String>,
    schedule: Vec<crate::Scheduled>,
    done: usize,
    cfg: MarketConfig,
}
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub blocks: Vec<BlockClosed>,
    pub fills: Vec<Fill>,
    pub scheduled: Vec<String>,
    pub refused: usize,
}
#[derive(Debug, Clone)]
pub struct BlockClosed {
    pub chain: String,
    pub number: u64,
    pub timestamp: u64,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillReason {
    Arbitrage,
    Noise,
    RewardSale,
}
#[derive(Debug, Clone)]
pub struct Fill {
    pub chain: String,
    pub pool: String,
    pub trader: Address,
    pub token_in: String,
    pub amount_in: U256,
    pub token_out: String,
    pub amount_out: U256,
    pub reason: FillReason,
    pub timestamp: u64,
}
impl Market {
    pub fn new(world: &World, config: MarketConfig) -> Result<Market, MarketError> {
        Ok(Market {
            chains: vec![
                "ethereum".into(),
                "bsc".into(),
                "polygon".into(),
                "arbitrum".into(),
                "base".into(),
                "avalanche".into(),
            ],
            schedule: world.schedule.clone(),
            done: 0,
            cfg: config,
        })
    }
    pub fn price_at(&self, _token_id: &str, _t: u64) -> Option<f64> {
        None
    }
    pub fn feeds_at(&self, _t: u64) -> BTreeMap<String, f64> {
        BTreeMap::new()
    }
    pub fn run(&mut self, ledger: &mut impl Ledger, seconds: u64) -> Result<RunReport, LedgerFailure> {
        let mut rep = RunReport::default();
        let mut left = seconds;
        while left > 0 {
            let step = left.min(self.cfg.max_block_s);
            left -= step;
            for c in self.chains.clone() {
                let e = ledger.engine();
                let ix = e.chain_ix(&c).map_err(|e| LedgerFailure(e.to_string()))?;
                let now = e.now(ix);
                while self.done < self.schedule.len()
                    && self.schedule[self.done].chain == c
                    && self.schedule[self.done].at <= now + step
                {
                    let s =
                        self.schedule[self.done].steps(ledger.engine()).map_err(|e| LedgerFailure(e.to_string()))?;
                    ledger.apply(s)?;
                    rep.scheduled.push(self.schedule[self.done].label.clone());
                    self.done += 1;
                }
                let now2 = ledger.engine().now(ix);
                let target = now + step;
                if target > now2 {
                    ledger.apply(vec![Seed::System(SystemOp::Advance { chain: c.clone(), seconds: target - now2 })])?;
                }
                let e = ledger.engine();
                rep.blocks.push(BlockClosed {
                    chain: c.clone(),
                    number: e.chain(ix).block_number,
                    timestamp: e.now(ix),
                });
            }
        }
        Ok(rep)
    }
}
