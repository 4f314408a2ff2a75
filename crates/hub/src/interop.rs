//! DeFiLlama's `/pools` record shape, out and in.
//!
//! Export writes the published column order (`chain, project, symbol, tvlUsd, apyBase, apyReward,
//! apy, rewardTokens, pool, apyPct1D, apyPct7D, apyPct30D, stablecoin, ilRisk, exposure,
//! predictions, poolMeta, mu, sigma, count, outlier, underlyingTokens, il7d, apyBase7d, apyMean30d,
//! volumeUsd1d, volumeUsd7d, apyBaseInception`) and then Granary's own fields: structured lock-up,
//! grade, risk score, risk-adjusted APY, the fee APR label and the time the figures are from.
//! `apyBase` carries the fee APR uncompounded, as DeFiLlama's Uniswap-like adapters do.
//!
//! Import reads a file of that shape (a bare array, or `{"data": [...]}` as the API returns) into
//! opportunities that can be graded and ranked with the fields they have.

use crate::market::{Compounding, ExitRule, Kind, Lockup, Opportunity, Target};
use serde_json::{Map, Value, json};

fn opt(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite()).map_or(Value::Null, |x| json!(x))
}

/// `poolMeta`: the lock-up as DeFiLlama's free text.
fn pool_meta(l: &Lockup) -> Value {
    match (l.days, &l.early_exit) {
        (0, _) => Value::Null,
        (d, ExitRule::Forbidden) => json!(format!("{d}d lock")),
        (d, ExitRule::Penalty { penalty_pct, forfeit_rewards }) => json!(format!(
            "{d}d lock, early exit {penalty_pct}% penalty{}",
            if *forfeit_rewards { " and forfeits rewards" } else { "" }
        )),
        (d, ExitRule::Free) => json!(format!("{d}d")),
    }
}

/// One opportunity as a `/pools` record plus Granary's fields.
pub fn to_record(o: &Opportunity) -> Value {
    let mut m = Map::new();
    m.insert("chain".into(), json!(o.chain));
    m.insert("project".into(), json!(o.project));
    m.insert("symbol".into(), json!(o.symbol));
    m.insert("tvlUsd".into(), json!(o.tvl_usd));
    m.insert("apyBase".into(), opt(o.apr_base));
    m.insert("apyReward".into(), opt(o.apr_reward));
    m.insert("apy".into(), json!(o.apy));
    m.insert("rewardTokens".into(), if o.reward_tokens.is_empty() { Value::Null } else { json!(o.reward_tokens) });
    m.insert("pool".into(), json!(format!("{}-{}", o.id, o.chain_id)));
    for k in ["apyPct1D", "apyPct7D", "apyPct30D"] {
        m.insert(k.into(), Value::Null);
    }
    m.insert("stablecoin".into(), json!(o.stablecoin));
    m.insert("ilRisk".into(), json!(if o.il_risk { "yes" } else { "no" }));
    m.insert("exposure".into(), json!(if o.symbol.contains('-') { "multi" } else { "single" }));
    m.insert("predictions".into(), Value::Null);
    m.insert("poolMeta".into(), pool_meta(&o.lockup));
    for k in ["mu", "sigma", "count", "outlier"] {
        m.insert(k.into(), Value::Null);
    }
    m.insert("underlyingTokens".into(), json!(o.underlying_tokens));
    m.insert("il7d".into(), Value::Null);
    m.insert("apyBase7d".into(), opt(o.apr_base_7d));
    m.insert("apyMean30d".into(), Value::Null);
    m.insert("volumeUsd1d".into(), opt(o.volume_usd_1d));
    m.insert("volumeUsd7d".into(), opt(o.volume_usd_7d));
    m.insert("apyBaseInception".into(), Value::Null);
    // Granary's fields.
    m.insert("lockup".into(), json!(o.lockup));
    m.insert("kind".into(), json!(o.kind));
    m.insert("grade".into(), o.grade.map_or(Value::Null, |g| json!(g.to_string())));
    m.insert("riskScore".into(), json!(o.risk_score));
    m.insert("apyRiskAdjusted".into(), opt(o.apy_risk_adjusted));
    m.insert("apyBaseIsApr".into(), json!(true));
    m.insert("asOf".into(), json!(o.as_of));
    m.insert("flags".into(), json!(o.flags));
    Value::Object(m)
}

/// The whole list as the API's `{"status": "success", "data": [...]}`.
pub fn export(opps: &[Opportunity]) -> Value {
    json!({"status": "success", "data": opps.iter().map(to_record).collect::<Vec<_>>()})
}

/// Lock days from DeFiLlama's free-text `poolMeta` ("90d lock", "Lock 30 days", "1 year lock").
pub fn lock_days(meta: &str) -> u32 {
    let lower = meta.to_ascii_lowercase();
    if !lower.contains("lock") && !lower.contains("vest") {
        return 0;
    }
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    for (i, w) in words.iter().enumerate() {
        let (num, unit) = match w.find(|c: char| !c.is_ascii_digit()) {
            Some(0) => continue,
            Some(k) => (&w[..k], &w[k..]),
            None => (*w, words.get(i + 1).copied().unwrap_or("")),
        };
        let Ok(n) = num.parse::<u32>() else { continue };
        let days = match unit {
            "d" | "day" | "days" => n,
            "w" | "week" | "weeks" => n * 7,
            "m" | "mo" | "month" | "months" => n * 30,
            "y" | "yr" | "year" | "years" => n * 365,
            _ => continue,
        };
        return days;
    }
    0
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportError {
    pub index: usize,
    pub why: String,
}

/// Read a `/pools`-shaped document into opportunities (records without `chain`, `symbol` or a
/// numeric `tvlUsd` are refused, with their index).
pub fn import(doc: &Value) -> Result<Vec<Opportunity>, ImportError> {
    let records = match doc {
        Value::Array(a) => a,
        Value::Object(o) => o
            .get("data")
            .and_then(Value::as_array)
            .ok_or(ImportError { index: 0, why: "expected an array or {\"data\": [...]}".into() })?,
        _ => return Err(ImportError { index: 0, why: "expected an array or {\"data\": [...]}".into() }),
    };
    records
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let err = |why: &str| ImportError { index, why: why.to_string() };
            let s = |k: &str| r.get(k).and_then(Value::as_str);
            let f = |k: &str| r.get(k).and_then(Value::as_f64);
            let chain = s("chain").ok_or_else(|| err("`chain` is missing"))?.to_string();
            let symbol = s("symbol").ok_or_else(|| err("`symbol` is missing"))?.to_string();
            let tvl_usd = f("tvlUsd").ok_or_else(|| err("`tvlUsd` is missing or not a number"))?;
            let (apr_base, apr_reward) = (f("apyBase"), f("apyReward"));
            let apy = f("apy").unwrap_or(apr_base.unwrap_or(0.0) + apr_reward.unwrap_or(0.0));
            let multi = s("exposure").map_or(symbol.contains('-'), |e| e == "multi");
            let days = s("poolMeta").map_or(0, lock_days);
            let kind = match (multi, apr_reward.is_some_and(|a| a > 0.0)) {
                (true, true) => Kind::LpFarm,
                (true, false) => Kind::PlainLp,
                (false, _) => Kind::SingleStake,
            };
            let strings = |k: &str| -> Vec<String> {
                r.get(k)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default()
            };
            let mut flags = Vec::new();
            if r.get("outlier").and_then(Value::as_bool) == Some(true) {
                flags.push("DeFiLlama marks this APY an outlier".to_string());
            }
            Ok(Opportunity {
                id: s("pool").map_or_else(|| format!("import:{index}"), |p| format!("import:{p}")),
                kind,
                chain_id: 0,
                chain,
                project: s("project").unwrap_or("unknown").to_string(),
                symbol,
                tvl_usd,
                apr_base,
                apr_base_7d: f("apyBase7d"),
                apr_reward,
                apy,
                base_compounding: Compounding::None,
                volume_usd_1d: f("volumeUsd1d"),
                volume_usd_7d: f("volumeUsd7d"),
                reward_tokens: strings("rewardTokens"),
                underlying_tokens: strings("underlyingTokens"),
                lockup: Lockup { days, early_exit: if days > 0 { ExitRule::Forbidden } else { ExitRule::Free } },
                il_risk: s("ilRisk").map_or(multi, |v| v == "yes"),
                stablecoin: r.get("stablecoin").and_then(Value::as_bool).unwrap_or(false),
                grade: None,
                risk_score: None,
                apy_risk_adjusted: None,
                as_of: 0,
                window_s: 0,
                flags,
                target: Target::Pool { ix: usize::MAX },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_text() {
        assert_eq!(lock_days("90d lock"), 90);
        assert_eq!(lock_days("Lock 30 days"), 30);
        assert_eq!(lock_days("1 year lock"), 365);
        assert_eq!(lock_days("4 weeks lock"), 28);
        assert_eq!(lock_days("CL100 - 0.0334%"), 0);
        assert_eq!(lock_days("unlocked"), 0);
    }
}
