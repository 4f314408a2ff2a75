//! Granary's hub: turns the engine's exact state into the numbers a user decides by — prices,
//! TVL, APR/APY, impermanent loss, risk grades, rug alerts and the ranked opportunity list. Floats
//! are allowed here (analytics), never in the engine.

pub mod advise;
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
    /// What the engine cannot know: audits, launch dates, incidents, names.
    pub registry: metadata::ProtocolRegistry,
    /// Unix time of chain time 0, so the engine's clock and the metadata's dates compare.
    pub genesis_unix: i64,
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
            registry: metadata::ProtocolRegistry::default(),
            genesis_unix: 0,
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

    /// Every opportunity, priced, with its APR/APY split and lock-up (not yet graded).
    pub fn opportunities(&self, engine: &Engine) -> Vec<Opportunity> {
        let book = self.price_book(engine);
        self.opportunities_with(engine, &book)
    }

    fn opportunities_with(&self, engine: &Engine, book: &PriceBook) -> Vec<Opportunity> {
        let project_of = |id: &str| self.projects.get(id).cloned().unwrap_or_else(|| id.to_string());
        market::opportunities(engine, &self.history, book, &project_of)
    }

    /// Everything: priced, graded, and risk-adjusted for `plan`.
    pub fn assess(&self, engine: &Engine, plan: assess::Plan) -> Vec<Opportunity> {
        let book = self.price_book(engine);
        let mut opps = self.opportunities_with(engine, &book);
        self.grade(engine, &mut opps);
        assess::risk_adjust(engine, &self.history, &book, &mut opps, plan);
        opps
    }

    /// What the advice (`advise::advise`) reads: every opportunity priced, graded and
    /// risk-adjusted for `plan`, with the terms of its risk-adjusted yield, and the measured
    /// volatilities. Attach alerts to the candidates before advising.
    pub fn advice_market(&self, engine: &Engine, plan: assess::Plan) -> advise::Market {
        let book = self.price_book(engine);
        let mut opps = self.opportunities_with(engine, &book);
        self.grade(engine, &mut opps);
        assess::risk_adjust(engine, &self.history, &book, &mut opps, plan);
        let candidates = opps
            .into_iter()
            .map(|o| {
                let terms = assess::terms(engine, &self.history, &o);
                advise::Candidate { opportunity: o, terms, alerts: Vec::new() }
            })
            .collect();
        let volatility = advise::Volatility::measure(engine, &self.history, &book);
        advise::Market { candidates, book, volatility }
    }

    /// The full risk grade of one opportunity, with every factor and its evidence.
    pub fn risk_of(&self, engine: &Engine, o: &Opportunity, apy_outlier: bool) -> risk::RiskGrade {
        risk::grade(&self.risk_inputs(engine, o, apy_outlier))
    }

    fn risk_inputs(&self, engine: &Engine, o: &Opportunity, apy_outlier: bool) -> risk::RiskInputs {
        let market = risk::MarketFacts {
            tvl_usd: o.tvl_usd,
            tvl_7d_ago_usd: self.tvl_7d_ago(engine, o),
            apy_pct: o.apy,
            apy_outlier,
            now_unix: self.genesis_unix + o.as_of as i64,
        };
        match o.target {
            market::Target::FarmPool { ix } => {
                risk::RiskInputs::for_farm_pool(engine, ix, self.registry.for_farm_pool(engine, ix), market)
            }
            market::Target::Staking { ix, .. } => {
                risk::RiskInputs::for_staking_pool(engine, ix, self.registry.for_staking_pool(engine, ix), market)
            }
            market::Target::Pool { ix } => {
                risk::RiskInputs::for_pool(engine, ix, self.registry.for_pool(engine, ix), market)
            }
        }
    }

    /// Grade every opportunity; APY outliers by DeFiLlama's 1.5·IQR rule across the list (with
    /// today's APY standing in for the mean of its history, which is not kept yet).
    pub fn grade(&self, engine: &Engine, opps: &mut [Opportunity]) {
        let outliers = risk::apy_outliers(&opps.iter().map(|o| (o.apy, 0.0)).collect::<Vec<_>>());
        for (o, outlier) in opps.iter_mut().zip(outliers) {
            let g = self.risk_of(engine, o, outlier);
            o.grade = Some(g.grade);
            o.risk_score = Some(g.score);
        }
    }

    /// TVL seven days ago, scaled from the staked amount (or √k for a pool) then and now.
    fn tvl_7d_ago(&self, engine: &Engine, o: &Opportunity) -> Option<f64> {
        let t = o.as_of.checked_sub(7 * 86_400)?;
        let ratio = match o.target {
            market::Target::FarmPool { ix } => {
                let (at, then) = self.history.farm_staked_at(ix, t)?;
                let now = engine.farm_pool(ix).total_staked;
                (at <= t).then(|| prices_ratio(then, now))?
            }
            market::Target::Staking { ix, .. } => {
                let (at, then) = self.history.staking_staked_at(ix, t)?;
                (at <= t).then(|| prices_ratio(then, engine.staking_pool(ix).total_staked))?
            }
            market::Target::Pool { ix } => {
                let s = self.history.pool_at(ix, t).filter(|s| s.t <= t)?;
                let r = engine.pool(ix).reserves;
                let k =
                    |a: granary_engine::U256, b: granary_engine::U256| (prices::to_f64(a) * prices::to_f64(b)).sqrt();
                let now = k(r[0], r[1]);
                if now > 0.0 { k(s.reserves[0], s.reserves[1]) / now } else { return None }
            }
        };
        Some(o.tvl_usd * ratio)
    }
}

fn prices_ratio(then: granary_engine::U256, now: granary_engine::U256) -> f64 {
    let now = prices::to_f64(now);
    if now > 0.0 { prices::to_f64(then) / now } else { 0.0 }
}

/// Grade opportunities read from a `/pools` file with the fields they carry.
pub fn grade_imported(opps: &mut [Opportunity]) {
    let outliers = risk::apy_outliers(&opps.iter().map(|o| (o.apy, 0.0)).collect::<Vec<_>>());
    for (o, outlier) in opps.iter_mut().zip(outliers) {
        let flagged = o.flags.iter().any(|f| f.contains("outlier"));
        let inputs = risk::RiskInputs {
            subject: o.id.clone(),
            protocol: Some(o.project.clone()),
            tvl_usd: Some(o.tvl_usd),
            apy_pct: Some(o.apy),
            apy_outlier: outlier || flagged,
            ..Default::default()
        };
        let g = risk::grade(&inputs);
        o.grade = Some(g.grade);
        o.risk_score = Some(g.score);
    }
}
