//! The OpenAPI 3.0 document of the API, built from the same route list as the router
//! ([`crate::api_routes`]): a route without documentation here is a test failure, not a gap.

use serde_json::{Map, Value, json};

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code"},
                "message": {"type": "string", "description": "What is wrong and how to fix it"},
                "field": {"type": "string", "description": "The request field at fault"}
            }
        }}
    })
}

fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

fn amount() -> Value {
    json!({"type": "string", "pattern": "^[0-9]+$", "description": "Base units, decimal"})
}

fn intent_schema() -> Value {
    let s = |v: Value| v;
    json!({
        "type": "object",
        "required": ["kind"],
        "description": "What the user asks for; amounts in base units. kind: swap | add_liquidity | remove_liquidity | deposit | withdraw | harvest | emergency_withdraw | stake | unstake | claim | transfer",
        "properties": {
            "kind": {"type": "string", "enum": ["swap", "add_liquidity", "remove_liquidity", "deposit", "withdraw", "harvest", "emergency_withdraw", "stake", "unstake", "claim", "transfer"]},
            "pool": {"type": "string"},
            "path": {"type": "array", "items": {"type": "string"}},
            "token_in": {"type": "string"},
            "amount_in": amount(),
            "min_out": amount(),
            "slippage_bps": {"type": "integer", "minimum": 0, "maximum": 5000},
            "amounts": {"type": "array", "items": amount(), "minItems": 2, "maxItems": 2},
            "liquidity": amount(),
            "farm_pool": {"type": "string"},
            "staking_pool": {"type": "string"},
            "amount": s(amount()),
            "term_days": {"type": "integer", "minimum": 0},
            "position": {"type": "integer", "minimum": 0},
            "token": {"type": "string"},
            "to": {"type": "string"}
        }
    })
}

fn action_schema() -> Value {
    json!({
        "type": "object",
        "required": ["kind", "ids", "amounts"],
        "description": "The EIP-712 Action struct: Action(string kind,string[] ids,uint256[] amounts)",
        "properties": {
            "kind": {"type": "string"},
            "ids": {"type": "array", "items": {"type": "string"}},
            "amounts": {"type": "array", "items": amount()}
        }
    })
}

fn tx_schema() -> Value {
    json!({
        "type": "object",
        "required": ["chain_id", "sender", "nonce", "deadline", "action"],
        "properties": {
            "chain_id": {"type": "integer", "minimum": 0},
            "sender": {"type": "string"},
            "nonce": {"type": "integer", "minimum": 0},
            "deadline": {"type": "integer", "minimum": 0},
            "action": action_schema()
        }
    })
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn obj() -> Value {
    json!({"type": "object"})
}

fn arr() -> Value {
    json!({"type": "array", "items": {"type": "object"}})
}

/// (summary, parameters, request body, success schema, error statuses) of a route.
/// What the document says of a route: summary, parameters, request body, success schema, error statuses.
type RouteDoc = (&'static str, Vec<Value>, Option<Value>, Value, &'static [u16]);

fn doc(method: &str, path: &str) -> Option<RouteDoc> {
    let opp_params = || {
        vec![
            q("chain", json!({"type": "string"}), "Chain id (bsc) or EIP-155 number"),
            q("asset", json!({"type": "string"}), "A symbol among the assets"),
            q("kind", json!({"type": "string", "enum": ["lp_farm", "single_stake", "plain_lp"]}), "Kind"),
            q("max_lockup_days", json!({"type": "integer", "minimum": 0}), "Longest lock-up"),
            q("min_tvl_usd", json!({"type": "number", "minimum": 0}), "Least TVL"),
            q("min_grade", json!({"type": "string", "enum": ["A", "B", "C", "D", "E", "F"]}), "Worst grade kept"),
            q("sort", json!({"type": "string", "enum": ["apy", "risk_adjusted_apy", "tvl"]}), "Sort key (descending)"),
            q("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000}), "Rows"),
            q("offset", json!({"type": "integer", "minimum": 0}), "Rows skipped"),
        ]
    };
    let id = || vec![path_param("id", "Opportunity id: pool:…, farm:…, stake:…:30d")];
    Some(match (method, path) {
        ("get", "/api/health") => ("Liveness", vec![], None, obj(), &[]),
        ("get", "/api/status") => ("Store, recovery report, clock", vec![], None, obj(), &[]),
        ("get", "/api/chains") => ("Chains with block, clock and gas", vec![], None, arr(), &[]),
        ("get", "/api/tokens") => (
            "Tokens with USD prices",
            vec![q("chain", json!({"type": "string"}), "Only this chain")],
            None,
            arr(),
            &[400, 404],
        ),
        ("get", "/api/opportunities") => {
            ("Ranked opportunities (hub filters and sorts)", opp_params(), None, arr(), &[400, 404])
        }
        ("get", "/api/opportunities/{id}") => {
            ("One opportunity with risk factors, history and alerts", id(), None, obj(), &[404])
        }
        ("get", "/api/opportunities/{id}/history") => ("Hourly APY, TVL and price series", id(), None, obj(), &[404]),
        ("get", "/api/opportunities/{id}/risk") => {
            ("Risk grade with every factor and its evidence", id(), None, obj(), &[404])
        }
        ("get", "/api/alerts") => (
            "Rug and exploit alerts",
            vec![
                q("chain", json!({"type": "string"}), "Only this chain"),
                q("since_id", json!({"type": "integer", "minimum": 0}), "Only alerts after this id"),
                q("opportunity", json!({"type": "string"}), "Only alerts on this opportunity"),
                q("address", json!({"type": "string"}), "Only alerts exposing this address"),
            ],
            None,
            arr(),
            &[400, 404],
        ),
        ("get", "/api/accounts/{address}") => (
            "Balances and positions across chains, with PnL vs HODL",
            vec![path_param("address", "0x address")],
            None,
            obj(),
            &[400],
        ),
        ("get", "/api/il") => (
            "Impermanent loss of a 50/50 pool for a price change",
            vec![q(
                "price_change_pct",
                json!({"type": "number", "exclusiveMinimum": true, "minimum": -100}),
                "Price change of one asset against the other, %",
            )],
            None,
            obj(),
            &[400],
        ),
        ("post", "/api/quote") => (
            "Preview an intent: amounts, fees, price impact, slippage bound, gas, penalty",
            vec![],
            Some(body(
                json!({"type": "object", "required": ["sender", "intent"], "properties": {"sender": {"type": "string"}, "intent": intent_schema()}}),
            )),
            obj(),
            &[400, 403, 404, 409, 422],
        ),
        ("post", "/api/tx/prepare") => (
            "Unsigned transaction and its EIP-712 typed data for an external wallet",
            vec![],
            Some(body(
                json!({"type": "object", "required": ["sender"], "properties": {"sender": {"type": "string"}, "intent": intent_schema(), "action": action_schema()}}),
            )),
            obj(),
            &[400, 404, 422],
        ),
        ("post", "/api/tx") => (
            "Submit a signed transaction (EIP-712 signature, or wire bytes)",
            vec![],
            Some(body(
                json!({"type": "object", "properties": {"transaction": tx_schema(), "signature": {"type": "string"}, "raw": {"type": "string"}}}),
            )),
            obj(),
            &[400, 403, 404, 409, 422],
        ),
        ("post", "/api/faucet") => (
            "Demo faucet: fund an address on every chain",
            vec![],
            Some(body(
                json!({"type": "object", "required": ["address"], "properties": {"address": {"type": "string"}}}),
            )),
            obj(),
            &[400],
        ),
        ("post", "/api/time/advance") => (
            "Run the market and every chain's clock forward",
            vec![],
            Some(body(
                json!({"type": "object", "required": ["seconds"], "properties": {"seconds": {"type": "integer", "minimum": 1, "maximum": 2_592_000}}}),
            )),
            obj(),
            &[400],
        ),
        ("post", "/api/advise") => (
            "Diversification advice: an allocation of the holdings across the opportunities, each line explained",
            vec![],
            Some(body(crate::api_advise::request_schema())),
            crate::api_advise::response_schema(),
            &[400],
        ),
        ("get", "/api/wallet") => ("Local wallet: addresses and the unlocked one", vec![], None, obj(), &[]),
        ("post", "/api/wallet/unlock") => (
            "Unlock a local key with its passphrase (sets the session cookie)",
            vec![],
            Some(body(
                json!({"type": "object", "required": ["passphrase"], "properties": {"address": {"type": "string"}, "passphrase": {"type": "string"}}}),
            )),
            obj(),
            &[400, 401, 404, 409, 422],
        ),
        ("post", "/api/wallet/lock") => ("Forget the session's key", vec![], None, obj(), &[]),
        ("post", "/api/wallet/act") => (
            "Sign a previewed action with the unlocked key and submit it",
            vec![],
            Some(body(json!({"type": "object", "required": ["action"], "properties": {"action": action_schema()}}))),
            obj(),
            &[400, 401, 403, 404, 409, 422],
        ),
        ("get", "/api/events") => {
            ("Server-sent events: block, fill, tx, alert", vec![], None, json!({"type": "string"}), &[])
        }
        ("get", "/api/openapi.json") => ("This document", vec![], None, obj(), &[]),
        ("get", "/metrics") => ("Prometheus metrics", vec![], None, json!({"type": "string"}), &[]),
        _ => return None,
    })
}

/// Routes of [`crate::api_routes`] that [`doc`] does not describe (must be empty).
pub fn undocumented() -> Vec<String> {
    crate::api_routes().iter().filter(|(m, p, _)| doc(m, p).is_none()).map(|(m, p, _)| format!("{m} {p}")).collect()
}

pub fn document() -> String {
    let mut paths = Map::new();
    for (method, path, _) in crate::api_routes() {
        let Some((summary, params, req, ok, errors)) = doc(method, path) else { continue };
        let mut responses = Map::new();
        let content_type = match path {
            "/metrics" => "text/plain",
            "/api/events" => "text/event-stream",
            _ => "application/json",
        };
        responses.insert("200".into(), json!({"description": "OK", "content": {content_type: {"schema": ok}}}));
        for s in errors {
            responses.insert(
                s.to_string(),
                json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        let mut op = Map::new();
        op.insert("summary".into(), json!(summary));
        op.insert(
            "operationId".into(),
            json!(format!("{method}_{}", path.trim_start_matches('/').replace(['/', '{', '}', '.'], "_"))),
        );
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(b) = req {
            op.insert("requestBody".into(), b);
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(path.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(method.to_string(), Value::Object(op));
        }
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Granary API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "DeFi mining platform: chains, opportunities with APY and risk, wallets, quotes and signed transactions. Amounts are base units as decimal strings."},
        "servers": [{"url": "/"}],
        "paths": Value::Object(paths),
        "components": {"schemas": {"Error": error_schema()}}
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
