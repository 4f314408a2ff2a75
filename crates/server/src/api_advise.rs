//! `POST /api/advise`: diversification advice over the hub's opportunities for the user's
//! holdings, horizon and risk tolerance (`granary_hub::advise`, `docs/advise.md`). The dashboard's
//! `/lab/advise` and `granary advise` use the same [`compute`].

use crate::App;
use crate::api::{AppState, body, json_text, opp_matches};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use granary_hub::advise::{Advice, AdviceRequest, AdviseError, BridgeModel, Holdings, Overrides, Tolerance, advise};
use granary_hub::riskadj::Grade;
use serde::Deserialize;
use serde_json::{Value, json};

/// The JSON body of `POST /api/advise`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviseBody {
    /// `"ETH=10,USDC=5000"` or `{"ETH": "10", "USDC": 5000}`.
    pub holdings: Value,
    #[serde(default)]
    pub horizon_days: Option<u32>,
    #[serde(default)]
    pub tolerance: Option<String>,
    #[serde(default)]
    pub min_grade: Option<String>,
    #[serde(default)]
    pub max_protocol_share: Option<f64>,
    #[serde(default)]
    pub max_chain_share: Option<f64>,
    #[serde(default)]
    pub max_tvl_share: Option<f64>,
    #[serde(default)]
    pub bad_case_weight: Option<f64>,
    #[serde(default)]
    pub harvests_per_year: Option<u32>,
    #[serde(default)]
    pub bridge_fee_bps: Option<f64>,
    #[serde(default)]
    pub bridge_fixed_usd: Option<f64>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Horizon when the request gives none, days.
pub const DEFAULT_HORIZON_DAYS: u32 = 90;

/// The holdings of a request: a `SYMBOL=AMOUNT,…` string or an object of amounts (strings or numbers).
pub fn holdings_of(v: &Value) -> Result<Holdings, ApiError> {
    let parsed = match v {
        Value::String(s) => Holdings::parse(s),
        Value::Object(m) => {
            let mut pairs = Vec::with_capacity(m.len());
            for (k, a) in m {
                let text = match a {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(ApiError::bad_field(
                            "holdings",
                            format!("`{k}` must be an amount of whole tokens, as a string or a number"),
                        ));
                    }
                };
                pairs.push((k.clone(), text));
            }
            Holdings::from_pairs(pairs.iter().map(|(k, a)| (k.as_str(), a.as_str())))
        }
        _ => {
            return Err(ApiError::bad_field(
                "holdings",
                "must be a string like \"ETH=10,USDC=5000\" or an object like {\"ETH\": \"10\"}",
            ));
        }
    };
    // The schema takes any string: what it says is checked here, and a well-formed request whose
    // holdings cannot be read is refused with 422 (not 400, which means "not this shape").
    parsed.map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_holdings", format!("`holdings` {e}")).field("holdings")
    })
}

/// A tolerance name, `field` naming it in the error.
pub fn tolerance_of(s: Option<&str>) -> Result<Tolerance, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Tolerance::Balanced),
        Some(t) => t.parse().map_err(|e: String| ApiError::bad_field("tolerance", e)),
    }
}

fn grade_of(s: &str) -> Result<Grade, ApiError> {
    let mut chars = s.trim().chars();
    match (chars.next().and_then(Grade::from_letter), chars.next()) {
        (Some(g), None) => Ok(g),
        _ => Err(ApiError::bad_field("min_grade", format!("`{s}` is not a grade: use one letter A to F"))),
    }
}

impl AdviseBody {
    /// The hub's request, every field checked.
    pub fn request(&self) -> Result<AdviceRequest, ApiError> {
        let holdings = holdings_of(&self.holdings)?;
        let tolerance = tolerance_of(self.tolerance.as_deref())?;
        let bridge = match (self.bridge_fee_bps, self.bridge_fixed_usd) {
            (None, None) => None,
            (fee, fixed) => {
                let d = BridgeModel::default();
                Some(BridgeModel {
                    fee_bps: fee.unwrap_or(d.fee_bps),
                    fixed_usd: fixed.unwrap_or(d.fixed_usd),
                    gas_units: d.gas_units,
                })
            }
        };
        let overrides = Overrides {
            min_grade: self.min_grade.as_deref().map(grade_of).transpose()?,
            max_protocol_share: self.max_protocol_share,
            max_chain_share: self.max_chain_share,
            max_tvl_share: self.max_tvl_share,
            bad_case_weight: self.bad_case_weight,
            harvests_per_year: self.harvests_per_year,
            bridge,
            exclude: self.exclude.clone(),
        };
        let req = AdviceRequest {
            holdings,
            horizon_days: self.horizon_days.unwrap_or(DEFAULT_HORIZON_DAYS),
            tolerance,
            overrides,
        };
        req.validate().map_err(api_error)?;
        Ok(req)
    }
}

/// An advice refusal as an API error with its code and field: 422 for an asset or chain the
/// platform does not know (the request is well-formed), 400 for a value out of its range.
pub fn api_error(e: AdviseError) -> ApiError {
    let status =
        if e.code.starts_with("unknown_") { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::BAD_REQUEST };
    ApiError::new(status, e.code, format!("`{}` {}", e.field, e.message)).field(e.field)
}

/// The advice on the platform as it is now: the hub's assessed opportunities, their terms and
/// the measured volatilities, with every alerted opportunity left out. Runs under the writer's
/// lock (the hub's history is there) and takes milliseconds; call from a blocking thread.
pub fn compute(app: &App, req: &AdviceRequest) -> Result<Advice, ApiError> {
    app.read_platform(|p| {
        let engine = p.engine();
        let mut market = p.hub.advice_market(engine, req.plan());
        for c in market.candidates.iter_mut() {
            c.alerts = p
                .alerts
                .iter()
                .filter(|a| a.alert.opportunities.iter().any(|x| opp_matches(x, &c.opportunity.id)))
                .map(|a| format!("#{} {}: {}", a.id, a.alert.kind.as_str(), a.alert.evidence))
                .collect();
        }
        advise(engine, &market, req)
    })
    .map_err(api_error)
}

/// `POST /api/advise`.
pub async fn advise_route(State(app): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let body: AdviseBody = body(&bytes)?;
    let req = body.request()?;
    let app2 = app.clone();
    let advice = tokio::task::spawn_blocking(move || compute(&app2, &req))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let text = serde_json::to_string(&advice).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_text(StatusCode::OK, text))
}

/// The request body's schema, for the OpenAPI document.
pub fn request_schema() -> Value {
    let share =
        |d: &str| json!({"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1, "description": d});
    json!({
        "type": "object",
        "required": ["holdings"],
        "additionalProperties": false,
        "properties": {
            "holdings": {
                "description": "What you hold, in whole tokens: \"ETH=10,USDC=5000\" (a chain with SYMBOL@CHAIN, e.g. USDC@arbitrum=5000; without one, the first chain that has the asset) or {\"ETH\": \"10\", \"USDC\": 5000}",
                "oneOf": [
                    {"type": "string"},
                    {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}]}}
                ]
            },
            "horizon_days": {"type": "integer", "minimum": 1, "maximum": granary_hub::advise::MAX_HORIZON_DAYS, "default": DEFAULT_HORIZON_DAYS},
            "tolerance": {"type": "string", "enum": ["conservative", "balanced", "aggressive"], "default": "balanced",
                          "description": "conservative: grade ≥ B, ≤ 30 % per protocol, ≤ 40 % per chain, ≤ 1 % of a TVL, bad-case weight 0.3; balanced: C, 40 %, 60 %, 2 %, 0.15; aggressive: D, 60 %, 100 %, 5 %, 0.05"},
            "min_grade": {"type": "string", "enum": ["A", "B", "C", "D", "E", "F"], "description": "Overrides the tolerance's worst grade"},
            "max_protocol_share": share("Overrides the per-protocol cap (share of the holdings' value)"),
            "max_chain_share": share("Overrides the per-chain cap"),
            "max_tvl_share": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "exclusiveMaximum": true, "maximum": 1, "description": "Overrides the largest share of an opportunity's TVL"},
            "bad_case_weight": {"type": "number", "minimum": 0, "maximum": 1, "description": "λ: the bad case's weight in the objective"},
            "harvests_per_year": {"type": "integer", "minimum": 0, "maximum": 365, "default": granary_hub::advise::DEFAULT_HARVESTS_PER_YEAR},
            "bridge_fee_bps": {"type": "number", "minimum": 0, "maximum": 1000, "default": 5},
            "bridge_fixed_usd": {"type": "number", "minimum": 0, "default": 1},
            "exclude": {"type": "array", "items": {"type": "string"}, "description": "Opportunity ids not to advise"}
        }
    })
}

/// The response's schema (abridged), for the OpenAPI document.
pub fn response_schema() -> Value {
    let num = json!({"type": "number"});
    let s = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["lines", "unallocated", "totals", "assumptions"],
        "properties": {
            "horizon_days": {"type": "integer"},
            "tolerance": s,
            "limits": {"type": "object"},
            "holdings": {"type": "array", "items": {"type": "object", "properties": {
                "symbol": s, "chain": s, "token": s, "amount": num, "price_usd": num, "value_usd": num}}},
            "lines": {"type": "array", "items": {"type": "object", "properties": {
                "opportunity": s, "chain": s, "project": s, "symbol": s, "grade": s,
                "amount_usd": num, "share": num, "deployed_usd": num,
                "sources": {"type": "array", "items": {"type": "object", "properties": {
                    "holding": s, "amount": num, "usd": num, "route": {"type": "array", "items": s},
                    "swap_fee_usd": num, "price_impact_usd": num, "bridge_usd": num, "gas_usd": num}}},
                "costs": {"type": "object"}, "gas": {"type": "object"}, "apy": {"type": "object"},
                "median_usd": num, "bad_usd": num, "why": s, "risks": s, "limit": s}}},
            "unallocated": {"type": "array", "items": {"type": "object"}},
            "totals": {"type": "object", "properties": {
                "holdings_usd": num, "allocated_usd": num, "median_usd": num, "bad_usd": num,
                "by_chain": {"type": "array", "items": {"type": "object"}},
                "by_protocol": {"type": "array", "items": {"type": "object"}}}},
            "excluded": {"type": "array", "items": {"type": "object", "properties": {"opportunity": s, "reason": s}}},
            "assumptions": {"type": "array", "items": s}
        }
    })
}
