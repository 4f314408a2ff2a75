//! Live events: closed blocks, fills, user transactions and alerts, as the SSE stream sends them.

use crate::platform::AlertRecord;
use granary_engine::{Engine, Outcome, SignedTransaction};
use granary_world::market::{Fill, FillReason};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Block {
        chain: String,
        chain_id: u64,
        number: u64,
        timestamp: u64,
        unix: i64,
    },
    Fill {
        chain: String,
        pool: String,
        trader: String,
        token_in: String,
        amount_in: String,
        token_out: String,
        amount_out: String,
        reason: &'static str,
        timestamp: u64,
    },
    Tx {
        chain_id: u64,
        sender: String,
        kind: &'static str,
        seq: u64,
        outcome: String,
    },
    Alert(Box<AlertRecord>),
}

impl Event {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Block { .. } => "block",
            Event::Fill { .. } => "fill",
            Event::Tx { .. } => "tx",
            Event::Alert(_) => "alert",
        }
    }

    pub fn fill(f: &Fill) -> Event {
        Event::Fill {
            chain: f.chain.clone(),
            pool: f.pool.clone(),
            trader: f.trader.to_string().to_lowercase(),
            token_in: f.token_in.clone(),
            amount_in: f.amount_in.to_string(),
            token_out: f.token_out.clone(),
            amount_out: f.amount_out.to_string(),
            reason: match f.reason {
                FillReason::Arbitrage => "arbitrage",
                FillReason::Noise => "noise",
                FillReason::RewardSale => "reward_sale",
            },
            timestamp: f.timestamp,
        }
    }

    pub fn tx(_engine: &Engine, stx: &SignedTransaction, seq: u64, outcome: &Outcome) -> Event {
        Event::Tx {
            chain_id: stx.tx.chain_id,
            sender: stx.tx.sender.to_string().to_lowercase(),
            kind: stx.tx.action.kind(),
            seq,
            outcome: crate::dto::outcome_words(outcome),
        }
    }
}
