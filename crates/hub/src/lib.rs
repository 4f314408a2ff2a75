//! Granary's hub: turns the engine's exact state into the numbers a user decides by — prices,
//! TVL, APR/APY, impermanent loss, risk grades, rug alerts and the ranked opportunity list. Floats
//! are allowed here (analytics), never in the engine.

pub mod alerts;
pub mod assess;
pub mod history;
pub mod il;
pub mod interop;
pub mod market;
pub mod metadata;
pub mod prices;
pub mod rank;
pub mod risk;
pub mod riskadj;

use granary_engine::Engine;
use std::collections::BTreeMap;

pub use market::{Kind, Opportunity};
pub use prices::{PriceBook, PriceConfig};

/// The hub: what it remembers and how it prices.
#[derive(Debug, Clone)]
pub struct Hub {
    pub prices: PriceConfig,
    pub history: history::History,
    /// External USD prices by symbol (the market's closes), anchoring assets with no stable pair.
    pub feeds: BTreeMap<String, f64>,
    /// Project names by object id (farm, staking pool, pool); default: the id.
    pub projects: BTreeMap<String, String>,
    pub sample_every_s: u64,
    pub keep_s: u64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            prices: PriceConfig::default(),
            history: history::History::default(),
            feeds: BTreeMap::new(),
            projects: BTreeMap::new(),
            sample_every_s: 60,
            keep_s: 8 * 86_400,
        }
    }
}

impl Hub {
    /// Record the engine's state; call after every closed block.
    pub fn observe(&mut self, engine: &Engine) {
        self.history.observe(engine, self.sample_every_s, self.keep_s);
    }

    pub fn price_book(&self, engine: &Engine) -> PriceBook {
        prices::price_book(engine, &self.history, &self.prices, &self.feeds)
    }

    /// Every opportunity, priced, with its APR/APY split and lock-up.
    pub fn opportunities(&self, engine: &Engine) -> Vec<Opportunity> {
        let book = self.price_book(engine);
        let project_of = |id: &str| self.projects.get(id).cloned().unwrap_or_else(|| id.to_string());
        market::opportunities(engine, &self.history, &book, &project_of)
    }
}
