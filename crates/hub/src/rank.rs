//! Ranking and filters over opportunities: chain, asset, kind, max lock-up, min TVL, min grade;
//! sort by APY, risk-adjusted APY or TVL (descending; ties broken by id so the order is stable).

use crate::market::{Kind, Opportunity};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Chain name or EIP-155 id.
    pub chain: Option<String>,
    /// A symbol that must be among the opportunity's assets (case-insensitive).
    pub asset: Option<String>,
    pub kind: Option<Kind>,
    pub max_lockup_days: Option<u32>,
    pub min_tvl_usd: Option<f64>,
    /// Worst acceptable grade: `B` keeps A and B.
    pub min_grade: Option<char>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Apy,
    RiskAdjustedApy,
    Tvl,
}

impl Filter {
    pub fn keeps(&self, o: &Opportunity) -> bool {
        if let Some(c) = &self.chain
            && !(o.chain.eq_ignore_ascii_case(c) || o.chain_id.to_string() == *c)
        {
            return false;
        }
        if let Some(a) = &self.asset
            && !o.symbol.split('-').any(|s| s.eq_ignore_ascii_case(a))
        {
            return false;
        }
        if self.kind.is_some_and(|k| k != o.kind) {
            return false;
        }
        if self.max_lockup_days.is_some_and(|d| o.lockup.days > d) {
            return false;
        }
        if self.min_tvl_usd.is_some_and(|t| o.tvl_usd < t) {
            return false;
        }
        if let Some(g) = self.min_grade {
            // Ungraded opportunities do not pass a grade filter.
            match o.grade {
                Some(og) if og.to_ascii_uppercase() <= g.to_ascii_uppercase() => {}
                _ => return false,
            }
        }
        true
    }
}

fn key(o: &Opportunity, by: SortKey) -> f64 {
    let v = match by {
        SortKey::Apy => o.apy,
        SortKey::RiskAdjustedApy => o.apy_risk_adjusted.unwrap_or(f64::NEG_INFINITY),
        SortKey::Tvl => o.tvl_usd,
    };
    if v.is_nan() { f64::NEG_INFINITY } else { v }
}

/// Filter, then sort descending by `by`; returns references in rank order.
pub fn rank<'a>(all: &'a [Opportunity], filter: &Filter, by: SortKey) -> Vec<&'a Opportunity> {
    let mut kept: Vec<&Opportunity> = all.iter().filter(|o| filter.keeps(o)).collect();
    kept.sort_by(|a, b| key(b, by).partial_cmp(&key(a, by)).unwrap_or(Ordering::Equal).then_with(|| a.id.cmp(&b.id)));
    kept
}
