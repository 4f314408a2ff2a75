//! What readers see: an immutable picture of the platform taken after every change, so that
//! requests never wait for the writer (the hot path `GET /api/opportunities` only filters and
//! concatenates pre-serialised rows).

use crate::dto::{self, ChainDto};
use crate::platform::{AlertRecord, CostBook, Platform};
use granary_engine::Engine;
use granary_hub::assess::Plan;
use granary_hub::{Opportunity, PriceBook};
use std::sync::Arc;

pub struct View {
    pub engine: Engine,
    pub book: PriceBook,
    /// Assessed (priced, graded, risk-adjusted for the default plan) opportunities.
    pub opportunities: Vec<Opportunity>,
    /// `opportunities[i]` as JSON.
    pub opportunity_json: Vec<Box<str>>,
    pub alerts: Arc<Vec<AlertRecord>>,
    pub costs: CostBook,
    pub chains: Vec<ChainDto>,
    pub genesis_unix: i64,
    /// Journal position of the next entry.
    pub next_seq: u64,
    /// Latest chain time across chains.
    pub now: u64,
}

impl View {
    pub fn build(p: &Platform) -> View {
        let engine = p.engine().clone();
        let book = p.hub.price_book(&engine);
        let opportunities = p.hub.assess(&engine, Plan::default());
        let opportunity_json =
            opportunities.iter().map(|o| serde_json::to_string(o).unwrap_or_default().into_boxed_str()).collect();
        let chains = dto::chains(&engine, &book, p.hub.genesis_unix);
        View {
            book,
            opportunities,
            opportunity_json,
            alerts: Arc::new(p.alerts.clone()),
            costs: p.book.clone(),
            chains,
            genesis_unix: p.hub.genesis_unix,
            next_seq: p.next_seq(),
            now: p.now(),
            engine,
        }
    }

    pub fn opportunity(&self, id: &str) -> Option<(usize, &Opportunity)> {
        self.opportunities.iter().enumerate().find(|(_, o)| o.id == id)
    }
}
