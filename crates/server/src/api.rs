//! The REST JSON API (`/api/…`). Every route is listed in [`ROUTES`], from which the router and
//! the OpenAPI document are both built, so the two cannot drift apart.

use crate::App;
use crate::dto::{self, parse_address};
use crate::error::ApiError;
use crate::intent::{ActionJson, Intent, preview};
use crate::view::View;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use granary_engine::{Address, SignedTransaction, Transaction};
use granary_hub::rank::{Filter, SortKey, rank};
use granary_hub::{Kind, Opportunity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub type AppState = Arc<App>;
type ApiResult = Result<Response, ApiError>;

/// A JSON response from pre-serialised text.
pub fn json_text(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn ok_json<T: Serialize>(v: &T) -> ApiResult {
    let body = serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_text(StatusCode::OK, body))
}

/// Query parameters, each at most once; unknown names are refused so typos are not ignored.
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Params, ApiError> {
        let mut m = BTreeMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k);
            let v = decode(v);
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::bad_field(
                    &k,
                    format!("is not a parameter here: use one of {}", allowed.join(", ")),
                ));
            }
            if m.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_field(&k, "is given twice: give it once"));
            }
        }
        Ok(Params(m))
    }

    pub fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }

    pub fn num<T: std::str::FromStr>(&self, k: &str, what: &str) -> Result<Option<T>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| ApiError::bad_field(k, format!("`{s}` is not {what}"))),
        }
    }
}

/// Percent-decoding of a query component (`+` is a space).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON body, with a 400 naming the problem if it is not valid JSON of the expected shape.
///
/// The syntax is checked on its own first: serde reports the first problem it meets, so a body
/// both malformed and of the wrong shape (`{"adress": 1]`) would otherwise get `invalid_body` or
/// `malformed_json` depending on which comes first in the text.
pub fn body<T: for<'de> Deserialize<'de>>(bytes: &Bytes) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the request body is not valid JSON: {e}"))
    })?;
    // serde also takes a struct written as the array of its fields in order (`[60]` for
    // `{"seconds": 60}`); the API documents objects only, and a positional body is a mistake.
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the request body must be a JSON object: see the route's schema in GET /api/openapi.json",
        ));
    }
    T::deserialize(value).map_err(|e| {
        let err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the request body is not what this route takes: {e}"),
        );
        match body_field(&e.to_string()) {
            Some(f) => err.field(f),
            None => err,
        }
    })
}

/// The field a body error is about, where serde names one (`unknown field `x``, `missing field
/// `x``): serde_json reports it only in the message, and SPEC §5 wants the field named.
fn body_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("missing field `"))?;
    rest.split_once('`').map(|(f, _)| f).filter(|f| !f.is_empty())
}

// ---------- read routes ----------

pub async fn health(State(app): State<AppState>) -> ApiResult {
    let v = app.view();
    ok_json(&json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "now": v.now, "next_seq": v.next_seq}))
}

pub async fn status(State(app): State<AppState>) -> ApiResult {
    let v = app.view();
    let s = app.status.lock().map(|s| s.clone()).unwrap_or_default();
    ok_json(&json!({
        "store": s.store,
        "recovery": s.recovery,
        "seeded_now": s.seeded_now,
        "seed": s.seed,
        "speed": app.clock.speed(),
        "paused": app.clock.paused(),
        "now": v.now,
        "unix": v.genesis_unix + v.now as i64,
        "next_seq": v.next_seq,
        "state_hash": format!("{:#x}", v.engine.state_hash()),
        "opportunities": v.opportunities.len(),
        "alerts": v.alerts.len(),
    }))
}

pub async fn chains(State(app): State<AppState>) -> ApiResult {
    ok_json(&app.view().chains)
}

pub async fn tokens(State(app): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref(), &["chain"])?;
    let v = app.view();
    let chain = match p.str("chain") {
        Some(c) => Some(chain_ix(&v, c)?),
        None => None,
    };
    let list: Vec<_> = (0..v.engine.tokens().len())
        .filter(|&t| chain.is_none_or(|c| v.engine.token(t).chain == c))
        .map(|t| dto::token(&v.engine, &v.book, t))
        .collect();
    ok_json(&list)
}

/// A chain by id (`bsc`) or EIP-155 number.
pub fn chain_ix(v: &View, c: &str) -> Result<usize, ApiError> {
    v.engine
        .chain_ix(c)
        .or_else(|_| c.parse::<u64>().map_err(|_| ()).and_then(|n| v.engine.chain_ix_by_eip155(n).map_err(|_| ())))
        .map_err(|_| {
            let ids: Vec<&str> = v.engine.chains().iter().map(|c| c.id.as_str()).collect();
            ApiError::not_found("unknown_chain", format!("unknown chain `{c}`: use one of {}", ids.join(", ")))
                .field("chain")
        })
}

/// The filter and sort of an opportunities request.
pub fn opportunity_query(v: &View, p: &Params) -> Result<(Filter, SortKey, usize, usize), ApiError> {
    // The hub's filter matches a chain by name or EIP-155 id; the API takes the chain's id too.
    let chain = match p.str("chain") {
        Some(c) => Some(v.engine.chain(chain_ix(v, c)?).chain_id.to_string()),
        None => None,
    };
    let kind = match p.str("kind") {
        None => None,
        Some("lp_farm") => Some(Kind::LpFarm),
        Some("single_stake") => Some(Kind::SingleStake),
        Some("plain_lp") => Some(Kind::PlainLp),
        Some(k) => {
            return Err(ApiError::bad_field(
                "kind",
                format!("`{k}` is not a kind: use lp_farm, single_stake or plain_lp"),
            ));
        }
    };
    let min_grade = match p.str("min_grade") {
        None => None,
        Some(g) if g.len() == 1 && ('A'..='F').contains(&g.chars().next().unwrap_or(' ').to_ascii_uppercase()) => {
            g.chars().next().map(|c| c.to_ascii_uppercase())
        }
        Some(g) => {
            return Err(ApiError::bad_field("min_grade", format!("`{g}` is not a grade: use one letter A to F")));
        }
    };
    let min_tvl_usd: Option<f64> = p.num("min_tvl_usd", "a number of USD")?;
    if min_tvl_usd.is_some_and(|t| !t.is_finite() || t < 0.0) {
        return Err(ApiError::bad_field("min_tvl_usd", "must be a finite number ≥ 0"));
    }
    let filter = Filter {
        chain,
        asset: p.str("asset").map(str::to_string),
        kind,
        max_lockup_days: p.num("max_lockup_days", "a whole number of days")?,
        min_tvl_usd,
        min_grade,
    };
    let sort = match p.str("sort") {
        None | Some("apy") => SortKey::Apy,
        Some("risk_adjusted_apy") => SortKey::RiskAdjustedApy,
        Some("tvl") => SortKey::Tvl,
        Some(s) => {
            return Err(ApiError::bad_field(
                "sort",
                format!("`{s}` is not a sort key: use apy, risk_adjusted_apy or tvl"),
            ));
        }
    };
    let limit: usize = p.num("limit", "a whole number")?.unwrap_or(1000);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_field("limit", "must be between 1 and 1000"));
    }
    let offset: usize = p.num("offset", "a whole number")?.unwrap_or(0);
    Ok((filter, sort, limit, offset))
}

pub const OPPORTUNITY_PARAMS: &[&str] =
    &["chain", "asset", "kind", "max_lockup_days", "min_tvl_usd", "min_grade", "sort", "limit", "offset"];

pub fn ranked<'a>(v: &'a View, filter: &Filter, sort: SortKey) -> Vec<&'a Opportunity> {
    rank(&v.opportunities, filter, sort)
}

pub async fn opportunities(State(app): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref(), OPPORTUNITY_PARAMS)?;
    let v = app.view();
    let (filter, sort, limit, offset) = opportunity_query(&v, &p)?;
    let list = ranked(&v, &filter, sort);
    // Rows are serialised once per block; a request only joins them.
    let index: BTreeMap<&str, usize> = v.opportunities.iter().enumerate().map(|(i, o)| (o.id.as_str(), i)).collect();
    let mut out = String::with_capacity(64 + list.len() * 1200);
    out.push('[');
    for (n, o) in list.iter().skip(offset).take(limit).enumerate() {
        if n > 0 {
            out.push(',');
        }
        if let Some(&i) = index.get(o.id.as_str()) {
            out.push_str(&v.opportunity_json[i]);
        }
    }
    out.push(']');
    Ok(json_text(StatusCode::OK, out))
}

fn find<'a>(v: &'a View, id: &str) -> Result<&'a Opportunity, ApiError> {
    v.opportunity(id).map(|(_, o)| o).ok_or_else(|| {
        ApiError::not_found(
            "unknown_opportunity",
            format!("unknown opportunity `{id}`: list them with GET /api/opportunities (ids look like pool:…, farm:…, stake:…:30d)"),
        )
        .field("id")
    })
}

pub async fn opportunity(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let v = app.view();
    let o = find(&v, &id)?.clone();
    let (risk, history) = app.read_platform(|p| {
        let risk = p.hub.risk_of(&v.engine, &o, false);
        let history: Vec<crate::series::Point> =
            p.series.by_id.get(&id).map(|q| q.iter().copied().collect()).unwrap_or_default();
        (risk, history)
    });
    let alerts: Vec<_> =
        v.alerts.iter().filter(|a| a.alert.opportunities.iter().any(|x| opp_matches(x, &id))).collect();
    let (stake, reward, pool) = target_tokens(&v, &o);
    let tok = |t: Option<usize>| t.map(|t| dto::token(&v.engine, &v.book, t));
    ok_json(&json!({
        "opportunity": o, "risk": risk, "history": history, "alerts": alerts,
        "stake_token": tok(stake), "reward_token": tok(reward),
        "pool_tokens": pool.map(|p| [dto::token(&v.engine, &v.book, p[0]), dto::token(&v.engine, &v.book, p[1])]),
    }))
}

/// The token staked, the reward token, and the two tokens of the pool underneath (if any).
pub fn target_tokens(v: &View, o: &Opportunity) -> (Option<usize>, Option<usize>, Option<[usize; 2]>) {
    use granary_hub::market::Target;
    let e = &v.engine;
    let (stake, reward) = match o.target {
        Target::Pool { ix } => (e.pool(ix).lp_token, None),
        Target::FarmPool { ix } => {
            let fp = e.farm_pool(ix);
            (fp.stake_token, Some(e.farm(fp.farm).reward_token))
        }
        Target::Staking { ix, .. } => (e.staking_pool(ix).stake_token, Some(e.staking_pool(ix).reward_token)),
    };
    let pool = match o.target {
        Target::Pool { ix } => Some(e.pool(ix).tokens),
        _ => match e.token(stake).minter {
            granary_engine::Minter::Pool(p) => Some(e.pool(p).tokens),
            _ => None,
        },
    };
    (Some(stake), reward, pool)
}

/// Alerts name opportunities as `farm_pool:F0` / `staking_pool:S` / `pool:P`; the list uses
/// `farm:F0` / `stake:S:30d` / `pool:P`.
pub fn opp_matches(alert_opp: &str, id: &str) -> bool {
    if alert_opp == id {
        return true;
    }
    match (alert_opp.split_once(':'), id.split_once(':')) {
        (Some(("farm_pool", a)), Some(("farm", b))) => a == b,
        (Some(("staking_pool", a)), Some(("stake", b))) => b.rsplit_once(':').map(|(s, _)| s) == Some(a),
        _ => false,
    }
}

pub async fn opportunity_history(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let v = app.view();
    find(&v, &id)?;
    let history: Vec<crate::series::Point> =
        app.read_platform(|p| p.series.by_id.get(&id).map(|q| q.iter().copied().collect()).unwrap_or_default());
    ok_json(&json!({"id": id, "every_s": 3600, "points": history}))
}

pub async fn opportunity_risk(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let v = app.view();
    let o = find(&v, &id)?.clone();
    let risk = app.read_platform(|p| p.hub.risk_of(&v.engine, &o, false));
    ok_json(&risk)
}

pub async fn alerts(State(app): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref(), &["chain", "since_id", "opportunity", "address"])?;
    let v = app.view();
    let chain = match p.str("chain") {
        Some(c) => Some(v.engine.chain(chain_ix(&v, c)?).chain_id),
        None => None,
    };
    let since: u64 = p.num("since_id", "a whole number")?.unwrap_or(0);
    let who = match p.str("address") {
        Some(a) => Some(parse_address(a).map_err(|why| ApiError::bad_field("address", why))?),
        None => None,
    };
    let list: Vec<_> = v
        .alerts
        .iter()
        .filter(|a| a.id > since)
        .filter(|a| chain.is_none_or(|c| a.alert.chain_id == c))
        .filter(|a| p.str("opportunity").is_none_or(|o| a.alert.opportunities.iter().any(|x| opp_matches(x, o))))
        .filter(|a| who.is_none_or(|w| a.alert.exposed.iter().any(|e| e.holder == w)))
        .collect();
    ok_json(&list)
}

pub async fn account(State(app): State<AppState>, Path(address): Path<String>) -> ApiResult {
    let who = parse_address(&address).map_err(|why| ApiError::bad_field("address", why))?;
    let v = app.view();
    let acc = dto::account(&v.engine, &v.book, &v.costs, v.genesis_unix, who);
    let exposed: Vec<_> = v.alerts.iter().filter(|a| a.alert.exposed.iter().any(|e| e.holder == who)).collect();
    let mut value = serde_json::to_value(&acc).map_err(|e| ApiError::internal(e.to_string()))?;
    value["alerts"] = serde_json::to_value(&exposed).unwrap_or(Value::Null);
    ok_json(&value)
}

pub async fn il(RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref(), &["price_change_pct"])?;
    let change: f64 = p.num("price_change_pct", "a number (percent)")?.unwrap_or(0.0);
    if !change.is_finite() || change <= -100.0 {
        return Err(ApiError::bad_field("price_change_pct", "must be a finite number above -100"));
    }
    let r = 1.0 + change / 100.0;
    let table: Vec<_> =
        granary_hub::il::il_table(&[-90.0, -75.0, -50.0, -25.0, -10.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0])
            .into_iter()
            // `il_table` already answers in percent.
            .map(|(m, il_pct)| json!({"price_change_pct": m, "il_pct": il_pct}))
            .collect();
    ok_json(
        &json!({"price_change_pct": change, "price_ratio": r, "il_pct": granary_hub::il::il_closed_form(r) * 100.0, "table": table}),
    )
}

// ---------- write routes ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuoteReq {
    sender: String,
    intent: Intent,
}

pub async fn quote(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let req: QuoteReq = body(&bytes)?;
    let who = parse_address(&req.sender).map_err(|why| ApiError::bad_field("sender", why))?;
    let v = app.view();
    let action = req.intent.to_action(&v.engine)?;
    let mut pv = preview(&v.engine, &v.book, who, &action)?;
    add_alert_warnings(&v, &action, &mut pv.warnings);
    ok_json(&pv)
}

/// Warn about alerts on what the action touches.
pub fn add_alert_warnings(v: &View, action: &granary_engine::Action, warnings: &mut Vec<String>) {
    use granary_engine::Action::*;
    let subject = match action {
        Deposit { farm_pool, .. } | Withdraw { farm_pool, .. } | Harvest { farm_pool } => format!("farm:{farm_pool}"),
        Stake { staking_pool, term_days, .. } => format!("stake:{staking_pool}:{term_days}d"),
        AddLiquidity { pool, .. } | RemoveLiquidity { pool, .. } => format!("pool:{pool}"),
        _ => return,
    };
    for a in v.alerts.iter().filter(|a| a.alert.opportunities.iter().any(|x| opp_matches(x, &subject))) {
        warnings.push(format!("alert #{} ({}): {}", a.id, a.alert.kind.as_str(), a.alert.evidence));
    }
}

/// A transaction as JSON: the EIP-712 `Transaction` message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxJson {
    pub chain_id: u64,
    pub sender: String,
    pub nonce: u64,
    pub deadline: u64,
    pub action: ActionJson,
}

impl TxJson {
    pub fn of(tx: &Transaction) -> TxJson {
        TxJson {
            chain_id: tx.chain_id,
            sender: dto::address(&tx.sender),
            nonce: tx.nonce,
            deadline: tx.deadline,
            action: ActionJson::of(&tx.action),
        }
    }

    pub fn to_tx(&self) -> Result<Transaction, ApiError> {
        Ok(Transaction {
            chain_id: self.chain_id,
            sender: parse_address(&self.sender).map_err(|why| ApiError::bad_field("transaction.sender", why))?,
            nonce: self.nonce,
            deadline: self.deadline,
            action: self.action.to_action()?,
        })
    }
}

/// The EIP-712 typed data of a transaction (what `eth_signTypedData_v4` takes).
pub fn typed_data(tx: &Transaction) -> Value {
    let a = ActionJson::of(&tx.action);
    json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Transaction": [
                {"name": "chainId", "type": "uint256"}, {"name": "sender", "type": "address"},
                {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
                {"name": "action", "type": "Action"}
            ],
            "Action": [{"name": "kind", "type": "string"}, {"name": "ids", "type": "string[]"}, {"name": "amounts", "type": "uint256[]"}]
        },
        "primaryType": "Transaction",
        "domain": {"name": granary_engine::tx::DOMAIN_NAME, "version": granary_engine::tx::DOMAIN_VERSION, "chainId": tx.chain_id},
        "message": {
            "chainId": tx.chain_id, "sender": dto::address(&tx.sender), "nonce": tx.nonce, "deadline": tx.deadline,
            "action": {"kind": a.kind, "ids": a.ids, "amounts": a.amounts}
        }
    })
}

/// Seconds a prepared transaction stays valid: one hour of chain time.
pub const DEADLINE_S: u64 = 3_600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrepareReq {
    sender: String,
    #[serde(default)]
    intent: Option<Intent>,
    #[serde(default)]
    action: Option<ActionJson>,
}

/// Build the unsigned transaction for `sender` (next nonce, deadline an hour ahead).
pub fn prepare_tx(v: &View, who: Address, action: granary_engine::Action) -> Result<Transaction, ApiError> {
    let cix = v.engine.action_chain(&action)?;
    let c = v.engine.chain(cix);
    Ok(Transaction {
        chain_id: c.chain_id,
        sender: who,
        nonce: v.engine.nonce(cix, who),
        deadline: c.now + DEADLINE_S,
        action,
    })
}

pub async fn tx_prepare(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let req: PrepareReq = body(&bytes)?;
    let who = parse_address(&req.sender).map_err(|why| ApiError::bad_field("sender", why))?;
    let v = app.view();
    let action = match (req.intent, req.action) {
        (Some(i), None) => i.to_action(&v.engine)?,
        (None, Some(a)) => a.to_action()?,
        _ => return Err(ApiError::bad_field("intent", "give exactly one of `intent` or `action`")),
    };
    let tx = prepare_tx(&v, who, action)?;
    ok_json(&json!({
        "transaction": TxJson::of(&tx),
        "typed_data": typed_data(&tx),
        "digest": format!("{:#x}", tx.signing_hash()),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitReq {
    #[serde(default)]
    transaction: Option<TxJson>,
    #[serde(default)]
    signature: Option<String>,
    /// The wire bytes, 0x-hex (what `granary` signs offline).
    #[serde(default)]
    raw: Option<String>,
}

fn hex_bytes(field: &str, s: &str) -> Result<Vec<u8>, ApiError> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    if !h.len().is_multiple_of(2) || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::bad_field(field, "is not 0x-hex bytes"));
    }
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).map_err(|_| ApiError::bad_field(field, "is not hex")))
        .collect()
}

pub fn parse_submit(bytes: &Bytes) -> Result<SignedTransaction, ApiError> {
    let req: SubmitReq = body(bytes)?;
    match (req.transaction, req.signature, req.raw) {
        (None, None, Some(raw)) => {
            let b = hex_bytes("raw", &raw)?;
            SignedTransaction::from_bytes(&b).map_err(|e| ApiError::bad_field("raw", e))
        }
        (Some(t), Some(sig), None) => {
            let b = hex_bytes("signature", &sig)?;
            let signature: [u8; 65] = b
                .try_into()
                .map_err(|_| ApiError::bad_field("signature", "must be 65 bytes r‖s‖v (130 hex digits)"))?;
            Ok(SignedTransaction { tx: t.to_tx()?, signature })
        }
        _ => Err(ApiError::bad_field("transaction", "give `transaction` and `signature`, or `raw`")),
    }
}

pub async fn tx_submit(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let stx = parse_submit(&bytes)?;
    let app2 = app.clone();
    let r = tokio::task::spawn_blocking(move || app2.write(|p| p.submit(stx)))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (seq, outcome) = r?;
    let v = app.view();
    Ok((
        StatusCode::OK,
        json_text(
            StatusCode::OK,
            json!({"seq": seq, "outcome": dto::outcome_words(&outcome), "next_seq": v.next_seq}).to_string(),
        ),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaucetReq {
    address: String,
}

pub async fn faucet(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let req: FaucetReq = body(&bytes)?;
    let who = parse_address(&req.address).map_err(|why| ApiError::bad_field("address", why))?;
    let app2 = app.clone();
    let given = tokio::task::spawn_blocking(move || app2.write(|p| p.faucet(who)))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let list: Vec<_> = given.iter().map(|(t, a)| json!({"token": t, "amount": a.to_string()})).collect();
    ok_json(&json!({"address": dto::address(&who), "granted": list}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceReq {
    seconds: u64,
}

/// Most chain time one request may run: 30 days.
pub const MAX_ADVANCE_S: u64 = 30 * 86_400;

pub async fn advance(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let req: AdvanceReq = body(&bytes)?;
    if req.seconds == 0 || req.seconds > MAX_ADVANCE_S {
        return Err(ApiError::bad_field("seconds", format!("must be between 1 and {MAX_ADVANCE_S} (30 days)")));
    }
    let app2 = app.clone();
    let report = tokio::task::spawn_blocking(move || app2.write(|p| p.run(req.seconds)))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let v = app.view();
    ok_json(&json!({
        "now": v.now,
        "unix": v.genesis_unix + v.now as i64,
        "blocks": report.blocks.len(),
        "fills": report.fills.len(),
        "scheduled": report.scheduled,
    }))
}

// ---------- the local wallet ----------

pub async fn wallet(State(app): State<AppState>, headers: HeaderMap) -> ApiResult {
    let list = app.wallet.addresses().map_err(|e| ApiError::internal(e.to_string()))?;
    let unlocked = app.wallet.session(&headers).map(|s| dto::address(&s.address));
    ok_json(&json!({"addresses": list.iter().map(dto::address).collect::<Vec<_>>(), "unlocked": unlocked}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockReq {
    #[serde(default)]
    pub address: Option<String>,
    pub passphrase: String,
}

pub async fn wallet_unlock(State(app): State<AppState>, bytes: Bytes) -> ApiResult {
    let req: UnlockReq = body(&bytes)?;
    let app2 = app.clone();
    let (token, address) =
        tokio::task::spawn_blocking(move || app2.wallet.unlock(req.address.as_deref(), &req.passphrase))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut r = ok_json(&json!({"address": dto::address(&address), "session": token}))?;
    r.headers_mut().insert(header::SET_COOKIE, crate::wallet::cookie(&token));
    Ok(r)
}

pub async fn wallet_lock(State(app): State<AppState>, headers: HeaderMap) -> ApiResult {
    app.wallet.lock(&headers);
    let mut r = ok_json(&json!({"unlocked": null}))?;
    r.headers_mut().insert(header::SET_COOKIE, crate::wallet::clear_cookie());
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActReq {
    /// The exact action of a preview (`POST /api/quote`), bounds included.
    action: ActionJson,
}

pub async fn wallet_act(State(app): State<AppState>, headers: HeaderMap, bytes: Bytes) -> ApiResult {
    let session = app.wallet.session(&headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wallet_locked",
            "the local wallet is locked: unlock it with POST /api/wallet/unlock",
        )
    })?;
    let req: ActReq = body(&bytes)?;
    let action = req.action.to_action()?;
    let (seq, outcome) = app.act(&session, action).await?;
    ok_json(&json!({"seq": seq, "outcome": dto::outcome_words(&outcome)}))
}

// ---------- service routes ----------

pub async fn openapi(State(app): State<AppState>) -> Response {
    json_text(StatusCode::OK, app.openapi.clone())
}

pub async fn metrics(State(app): State<AppState>) -> Response {
    let mut r = app.metrics.render(&app).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    r
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("unknown_route", "no such route: see GET /api/openapi.json for the routes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> ApiError {
        match body::<AdvanceReq>(&Bytes::from(text.to_string())) {
            Ok(r) => panic!("{text} was taken as {} s", r.seconds),
            Err(e) => e,
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_malformed_whatever_else_is_wrong() {
        for text in ["", "{", "{\"seconds\": 5]", "{\"secs\": 5]", "{} trailing", "[60"] {
            let e = refusal(text);
            assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "malformed_json"), "{text}");
            assert_eq!(e.field, None);
        }
    }

    #[test]
    fn a_body_of_the_wrong_shape_names_the_field() {
        let e = refusal("{\"secs\": 5}");
        assert_eq!((e.code, e.field.as_deref()), ("invalid_body", Some("secs")));
        let e = refusal("{}");
        assert_eq!((e.code, e.field.as_deref()), ("invalid_body", Some("seconds")));
        let e = refusal("{\"seconds\": -1}");
        assert_eq!((e.code, e.field.as_deref()), ("invalid_body", None));
        assert!(e.message.contains("-1"), "{}", e.message);
    }

    #[test]
    fn a_body_must_be_an_object_not_the_array_of_its_fields() {
        for text in ["[60]", "60", "null", "\"seconds\""] {
            let e = refusal(text);
            assert_eq!((e.code, e.field.as_deref()), ("invalid_body", None), "{text}");
        }
        assert_eq!(body::<AdvanceReq>(&Bytes::from_static(b"{\"seconds\": 60}")).map(|r| r.seconds), Ok(60));
    }
}
