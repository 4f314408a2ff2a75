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

/// A query parameter. Every query parameter of the API is optional, and an empty value means
/// "not given" (the dashboard's filter forms send empty fields): `allowEmptyValue` says so.
fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "allowEmptyValue": true, "schema": schema, "description": description})
}

fn path_param(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema, "description": description})
}

/// What [`crate::dto::parse_address`] takes: 40 hex digits, `0x` optional, either case.
const ADDRESS_PATTERN: &str = "^(0x)?[0-9a-fA-F]{40}$";

fn address() -> Value {
    json!({"type": "string", "pattern": ADDRESS_PATTERN, "description": "An account: 0x and 40 hex digits"})
}

/// An address as the API writes it (lowercase, or EIP-55 mixed case in alert exposures).
fn address_out() -> Value {
    json!({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"})
}

/// A base-unit amount as requests give it. The server takes any decimal up to 2^256 − 1 (78
/// digits); the schema admits up to 77 significant digits, which always fit, so that a value it
/// admits is never refused as an overflow.
fn amount() -> Value {
    json!({"type": "string", "pattern": "^0*[0-9]{1,77}$", "description": "Base units, decimal digits (at most 2^256 − 1)"})
}

/// A base-unit amount as responses write it.
fn amount_out() -> Value {
    json!({"type": "string", "pattern": "^[0-9]+$"})
}

fn uint(max: u64) -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": max})
}

fn u32_() -> Value {
    uint(u64::from(u32::MAX))
}

fn u64_() -> Value {
    uint(u64::MAX)
}

fn string() -> Value {
    json!({"type": "string"})
}

fn number() -> Value {
    json!({"type": "number"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

/// `null` allowed too. OpenAPI 3.0 applies `enum` to a nullable value as well, so `null` joins it.
fn nullable(mut schema: Value) -> Value {
    schema["nullable"] = json!(true);
    if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
    schema
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// An object with `required` fields among `properties`. Responses may grow fields, so extra
/// properties are allowed there; requests use [`closed`].
fn object(required: &[&str], properties: Value) -> Value {
    let mut o = json!({"type": "object", "properties": properties});
    // OpenAPI 3.0 wants `required` non-empty when present.
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// A request object: the server refuses unknown fields (`deny_unknown_fields`), so the schema does.
fn closed(required: &[&str], properties: Value) -> Value {
    let mut o = object(required, properties);
    o["additionalProperties"] = json!(false);
    o
}

fn slippage_bps() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 5000, "description": "Tolerance in basis points (default 50)"})
}

/// One [`crate::intent::Intent`] variant: its `kind`, required and optional fields.
fn intent_variant(kind: &str, required: &[&str], mut properties: Value) -> Value {
    properties["kind"] = json!({"type": "string", "enum": [kind]});
    let mut req = vec!["kind"];
    req.extend_from_slice(required);
    closed(&req, properties)
}

fn intent_schema() -> Value {
    // Optional fields take `null` for "not given", as serde reads them (the CLI sends
    // `"slippage_bps": null`).
    let mut swap = intent_variant(
        "swap",
        &["token_in", "amount_in"],
        json!({
            "pool": nullable(string()), "path": nullable(array(string())), "token_in": string(), "amount_in": amount(),
            "min_out": nullable(amount()), "slippage_bps": nullable(slippage_bps())
        }),
    );
    // The route: `pool`, or a non-empty `path` of pools (which wins when both are given).
    swap["anyOf"] = json!([
        {"required": ["pool"], "properties": {"pool": string()}},
        {"required": ["path"], "properties": {"path": {"type": "array", "minItems": 1}}}
    ]);
    json!({
        "type": "object",
        "description": "What the user asks for; amounts in base units. A zero amount is refused (422 zero_amount).",
        "oneOf": [
            swap,
            intent_variant("add_liquidity", &["pool", "amounts"], json!({
                "pool": string(), "amounts": {"type": "array", "items": amount(), "minItems": 2, "maxItems": 2},
                "slippage_bps": nullable(slippage_bps())
            })),
            intent_variant("remove_liquidity", &["pool", "liquidity"], json!({
                "pool": string(), "liquidity": amount(), "slippage_bps": nullable(slippage_bps())
            })),
            intent_variant("deposit", &["farm_pool", "amount"], json!({"farm_pool": string(), "amount": amount()})),
            intent_variant("withdraw", &["farm_pool", "amount"], json!({"farm_pool": string(), "amount": amount()})),
            intent_variant("harvest", &["farm_pool"], json!({"farm_pool": string()})),
            intent_variant("emergency_withdraw", &["farm_pool"], json!({"farm_pool": string()})),
            intent_variant("stake", &["staking_pool", "amount", "term_days"], json!({
                "staking_pool": string(), "amount": amount(), "term_days": u32_()
            })),
            intent_variant("unstake", &["position"], json!({"position": u64_()})),
            intent_variant("claim", &["position"], json!({"position": u64_()})),
            intent_variant("transfer", &["token", "to", "amount"], json!({
                "token": string(), "to": address(), "amount": amount()
            })),
        ]
    })
}

/// The EIP-712 `Action` struct. Which kinds exist and how many ids and amounts each takes is the
/// engine's codec (`granary_engine::codec`); a well-formed action of an unknown kind or shape is
/// refused with 400 `invalid_field` `action`.
fn action_schema() -> Value {
    let mut a = closed(
        &["kind", "ids", "amounts"],
        json!({"kind": string(), "ids": array(string()), "amounts": array(amount())}),
    );
    a["description"] = json!("The EIP-712 Action struct: Action(string kind,string[] ids,uint256[] amounts)");
    a
}

fn action_out() -> Value {
    object(
        &["kind", "ids", "amounts"],
        json!({"kind": string(), "ids": array(string()), "amounts": array(amount_out())}),
    )
}

fn tx_schema() -> Value {
    closed(
        &["chain_id", "sender", "nonce", "deadline", "action"],
        json!({"chain_id": u64_(), "sender": address(), "nonce": u64_(), "deadline": u64_(), "action": action_schema()}),
    )
}

fn tx_out() -> Value {
    object(
        &["chain_id", "sender", "nonce", "deadline", "action"],
        json!({"chain_id": u64_(), "sender": address_out(), "nonce": u64_(), "deadline": u64_(), "action": action_out()}),
    )
}

/// `field` is given and not `null` (the server reads `null` as absent).
fn given(field: &str, schema: Value) -> Value {
    json!({"required": [field], "properties": {field: schema}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn token_out() -> Value {
    object(
        &["id", "chain", "symbol", "decimals", "address", "total_supply", "minter", "price_usd"],
        json!({
            "id": string(), "chain": string(), "symbol": string(), "decimals": uint(255), "address": address_out(),
            "total_supply": amount_out(), "minter": {"type": "string", "enum": ["fixed", "account", "farm", "lp"]},
            "price_usd": nullable(number())
        }),
    )
}

fn grade() -> Value {
    json!({"type": "string", "enum": ["A", "B", "C", "D", "E", "F"]})
}

fn opportunity_out() -> Value {
    let compounding = json!({"oneOf": [
        {"type": "string", "enum": ["continuous", "none"]},
        object(&["per_year"], json!({"per_year": u32_()}))
    ]});
    let early_exit = object(
        &["rule"],
        json!({
            "rule": {"type": "string", "enum": ["free", "forbidden", "penalty"]},
            "penalty_pct": number(), "forfeit_rewards": boolean()
        }),
    );
    let target = object(
        &["type", "ix"],
        json!({"type": {"type": "string", "enum": ["pool", "farm_pool", "staking"]}, "ix": u64_(), "term_days": u32_()}),
    );
    object(
        &[
            "id",
            "kind",
            "chain",
            "chain_id",
            "project",
            "symbol",
            "tvl_usd",
            "apr_base",
            "apr_reward",
            "apy",
            "base_compounding",
            "reward_tokens",
            "underlying_tokens",
            "lockup",
            "il_risk",
            "stablecoin",
            "grade",
            "risk_score",
            "apy_risk_adjusted",
            "as_of",
            "window_s",
            "flags",
            "target",
        ],
        json!({
            "id": string(),
            "kind": {"type": "string", "enum": ["lp_farm", "single_stake", "plain_lp"]},
            "chain": string(), "chain_id": u64_(), "project": string(), "symbol": string(),
            "tvl_usd": number(),
            "apr_base": nullable(number()), "apr_base_7d": nullable(number()), "apr_reward": nullable(number()),
            "apy": number(),
            "base_compounding": compounding,
            "volume_usd_1d": nullable(number()), "volume_usd_7d": nullable(number()),
            "reward_tokens": array(string()), "underlying_tokens": array(string()),
            "lockup": object(&["days", "early_exit"], json!({"days": u32_(), "early_exit": early_exit})),
            "il_risk": boolean(), "stablecoin": boolean(),
            "grade": nullable(grade()),
            "risk_score": nullable(uint(100)),
            "apy_risk_adjusted": nullable(number()),
            "as_of": u64_(), "window_s": u64_(), "flags": array(string()), "target": target
        }),
    )
}

fn risk_out() -> Value {
    let factor = object(
        &["name", "category", "weight", "tag_score", "penalty", "ceiling", "evidence"],
        json!({
            "name": string(), "category": {"type": "string", "enum": ["platform", "asset", "pool"]},
            "weight": number(), "tag_score": number(), "penalty": number(), "ceiling": nullable(uint(100)),
            "evidence": string()
        }),
    );
    object(
        &["score", "grade", "weighted_score", "ceiling", "factors"],
        json!({"score": uint(100), "grade": grade(), "weighted_score": number(), "ceiling": nullable(uint(100)), "factors": array(factor)}),
    )
}

fn point_out() -> Value {
    object(
        &["t", "apy", "apr_base", "apr_reward", "tvl_usd", "price_usd"],
        json!({
            "t": u64_(), "apy": number(), "apr_base": nullable(number()), "apr_reward": nullable(number()),
            "tvl_usd": number(), "price_usd": nullable(number())
        }),
    )
}

fn alert_out() -> Value {
    let exposure = object(
        &["opportunity", "holder", "amount", "token"],
        json!({"opportunity": string(), "holder": address_out(), "amount": amount_out(), "token": string()}),
    );
    object(
        &[
            "id",
            "chain",
            "kind",
            "severity",
            "chain_id",
            "block",
            "timestamp",
            "subject",
            "evidence",
            "opportunities",
            "exposed",
        ],
        json!({
            "id": u64_(), "chain": string(), "kind": string(),
            "severity": {"type": "string", "enum": ["warning", "high", "critical"]},
            "chain_id": u64_(), "block": u64_(), "timestamp": u64_(), "subject": string(), "evidence": string(),
            "opportunities": array(string()), "exposed": array(exposure)
        }),
    )
}

fn leg_out() -> Value {
    object(
        &["token", "symbol", "amount", "amount_tokens", "value_usd"],
        json!({
            "token": string(), "symbol": string(), "amount": amount_out(),
            "amount_tokens": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}, "value_usd": nullable(number())
        }),
    )
}

fn account_out() -> Value {
    let balance = object(
        &["chain", "token", "symbol", "decimals", "amount", "amount_tokens", "value_usd"],
        json!({
            "chain": string(), "token": string(), "symbol": string(), "decimals": uint(255), "amount": amount_out(),
            "amount_tokens": string(), "value_usd": nullable(number())
        }),
    );
    let lp = object(
        &["chain", "pool", "opportunity", "symbol", "liquidity", "liquidity_staked", "underlying", "value_usd"],
        json!({
            "chain": string(), "pool": string(), "opportunity": string(), "symbol": string(),
            "liquidity": amount_out(), "liquidity_staked": amount_out(),
            "underlying": {"type": "array", "items": amount_out(), "minItems": 2, "maxItems": 2},
            "value_usd": nullable(number()), "hodl_usd": nullable(number()), "pnl_vs_hodl_usd": nullable(number()),
            "il_pct": nullable(number()), "realised_vs_hodl_usd": number()
        }),
    );
    let farm = object(
        &["chain", "farm_pool", "opportunity", "staked", "pending_reward"],
        json!({
            "chain": string(), "farm_pool": string(), "opportunity": string(), "stake_symbol": string(),
            "stake_decimals": uint(255), "staked": amount_out(), "staked_usd": nullable(number()),
            "backing": {"type": "number", "minimum": 0, "maximum": 1}, "pending_reward": amount_out(),
            "reward_symbol": string(), "reward_decimals": uint(255), "pending_reward_usd": nullable(number())
        }),
    );
    let stake = object(
        &[
            "chain",
            "position",
            "staking_pool",
            "opportunity",
            "amount",
            "term_days",
            "staked_at",
            "unlock_at",
            "locked",
            "early_exit",
        ],
        json!({
            "chain": string(), "position": u64_(), "staking_pool": string(), "opportunity": string(),
            "stake_symbol": string(), "stake_decimals": uint(255), "amount": amount_out(),
            "amount_usd": nullable(number()), "term_days": u32_(), "boost_bps": u32_(), "staked_at": u64_(),
            "unlock_at": u64_(), "unlock_unix": {"type": "integer"}, "locked": boolean(),
            "pending_reward": amount_out(), "reward_symbol": string(), "reward_decimals": uint(255),
            "pending_reward_usd": nullable(number()),
            "early_exit": {"type": "string", "enum": ["free", "forbidden", "penalty"]},
            "exit_penalty_now": amount_out()
        }),
    );
    object(
        &["address", "nonces", "balances", "lp_positions", "farm_positions", "stake_positions", "total_usd", "alerts"],
        json!({
            "address": address_out(),
            "nonces": {"type": "object", "additionalProperties": u64_()},
            "balances": array(balance), "lp_positions": array(lp), "farm_positions": array(farm),
            "stake_positions": array(stake), "total_usd": number(), "alerts": array(alert_out())
        }),
    )
}

fn preview_out() -> Value {
    object(
        &["chain", "chain_id", "action", "pay", "receive", "minimum_receive", "gas_units", "warnings", "outcome"],
        json!({
            "chain": string(), "chain_id": u64_(), "action": action_out(),
            "pay": array(leg_out()), "receive": array(leg_out()),
            "fee_usd": nullable(number()), "price_impact_pct": nullable(number()),
            "slippage_bps": nullable(u32_()), "minimum_receive": array(leg_out()),
            "gas_units": u64_(), "gas_usd": nullable(number()),
            "penalty": nullable(leg_out()), "forfeited_reward": nullable(leg_out()),
            "expected_reward": nullable(leg_out()), "warnings": array(string()), "outcome": string()
        }),
    )
}

/// What the document says of a route: summary, parameters, request body, success schema, error statuses.
type RouteDoc = (&'static str, Vec<Value>, Option<Value>, Value, &'static [u16]);

fn doc(method: &str, path: &str) -> Option<RouteDoc> {
    let chain = || q("chain", string(), "Chain id (bsc) or EIP-155 number (56)");
    let opp_params = || {
        vec![
            chain(),
            q("asset", string(), "A symbol among the assets"),
            q("kind", json!({"type": "string", "enum": ["lp_farm", "single_stake", "plain_lp"]}), "Kind"),
            q("max_lockup_days", u32_(), "Longest lock-up, days"),
            q("min_tvl_usd", json!({"type": "number", "minimum": 0}), "Least TVL"),
            q(
                "min_grade",
                json!({"type": "string", "enum": ["A", "B", "C", "D", "E", "F", "a", "b", "c", "d", "e", "f"]}),
                "Worst grade kept (either case)",
            ),
            q("sort", json!({"type": "string", "enum": ["apy", "risk_adjusted_apy", "tvl"]}), "Sort key (descending)"),
            q("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000}), "Rows (default 1000)"),
            q("offset", u64_(), "Rows skipped"),
        ]
    };
    let id = || vec![path_param("id", string(), "Opportunity id: pool:…, farm:…, stake:…:30d")];
    let opportunity_detail = || {
        object(
            &["opportunity", "risk", "history", "alerts", "stake_token", "reward_token", "pool_tokens"],
            json!({
                "opportunity": opportunity_out(), "risk": risk_out(), "history": array(point_out()),
                "alerts": array(alert_out()), "stake_token": nullable(token_out()), "reward_token": nullable(token_out()),
                "pool_tokens": nullable(json!({"type": "array", "items": token_out(), "minItems": 2, "maxItems": 2}))
            }),
        )
    };
    Some(match (method, path) {
        ("get", "/api/health") => (
            "Liveness",
            vec![],
            None,
            object(
                &["status", "version", "now", "next_seq"],
                json!({"status": {"type": "string", "enum": ["ok"]}, "version": string(), "now": u64_(), "next_seq": u64_()}),
            ),
            &[],
        ),
        ("get", "/api/status") => (
            "Store, recovery report, clock",
            vec![],
            None,
            object(
                &[
                    "store",
                    "recovery",
                    "seeded_now",
                    "seed",
                    "speed",
                    "paused",
                    "now",
                    "unix",
                    "next_seq",
                    "state_hash",
                    "opportunities",
                    "alerts",
                ],
                json!({
                    "store": string(), "recovery": string(), "seeded_now": boolean(), "seed": u64_(),
                    "speed": json!({"type": "number", "minimum": 0}), "paused": boolean(), "now": u64_(),
                    "unix": {"type": "integer"}, "next_seq": u64_(),
                    "state_hash": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}, "opportunities": u64_(), "alerts": u64_()
                }),
            ),
            &[],
        ),
        ("get", "/api/chains") => (
            "Chains with block, clock and gas",
            vec![],
            None,
            array(object(
                &[
                    "id",
                    "chain_id",
                    "name",
                    "native_symbol",
                    "block_time_s",
                    "block_number",
                    "now",
                    "unix",
                    "gas_price_wei",
                    "native_usd",
                ],
                json!({
                    "id": string(), "chain_id": u64_(), "name": string(), "native_symbol": string(),
                    "block_time_s": u64_(), "block_number": u64_(), "now": u64_(), "unix": {"type": "integer"},
                    "gas_price_wei": amount_out(), "native_usd": nullable(number())
                }),
            )),
            &[],
        ),
        ("get", "/api/tokens") => (
            "Tokens with USD prices",
            vec![q("chain", string(), "Only this chain")],
            None,
            array(token_out()),
            &[400, 404],
        ),
        ("get", "/api/opportunities") => {
            ("Ranked opportunities (hub filters and sorts)", opp_params(), None, array(opportunity_out()), &[400, 404])
        }
        ("get", "/api/opportunities/{id}") => {
            ("One opportunity with risk factors, history and alerts", id(), None, opportunity_detail(), &[404])
        }
        ("get", "/api/opportunities/{id}/history") => (
            "Hourly APY, TVL and price series",
            id(),
            None,
            object(
                &["id", "every_s", "points"],
                json!({"id": string(), "every_s": u64_(), "points": array(point_out())}),
            ),
            &[404],
        ),
        ("get", "/api/opportunities/{id}/risk") => {
            ("Risk grade with every factor and its evidence", id(), None, risk_out(), &[404])
        }
        ("get", "/api/alerts") => (
            "Rug and exploit alerts",
            vec![
                q("chain", string(), "Only this chain"),
                q("since_id", u64_(), "Only alerts after this id"),
                q("opportunity", string(), "Only alerts on this opportunity"),
                q("address", address(), "Only alerts exposing this address"),
            ],
            None,
            array(alert_out()),
            &[400, 404],
        ),
        ("get", "/api/accounts/{address}") => (
            "Balances and positions across chains, with PnL vs HODL",
            vec![path_param("address", address(), "0x address")],
            None,
            account_out(),
            &[400],
        ),
        ("get", "/api/il") => (
            "Impermanent loss of a 50/50 pool for a price change",
            vec![q(
                "price_change_pct",
                json!({"type": "number", "exclusiveMinimum": true, "minimum": -100}),
                "Price change of one asset against the other, % (default 0)",
            )],
            None,
            object(
                &["price_change_pct", "price_ratio", "il_pct", "table"],
                json!({
                    "price_change_pct": number(), "price_ratio": number(),
                    "il_pct": json!({"type": "number", "maximum": 0}),
                    "table": array(object(&["price_change_pct", "il_pct"], json!({"price_change_pct": number(), "il_pct": json!({"type": "number", "maximum": 0})})))
                }),
            ),
            &[400],
        ),
        ("post", "/api/quote") => (
            "Preview an intent: amounts, fees, price impact, slippage bound, gas, penalty",
            vec![],
            Some(body(closed(&["sender", "intent"], json!({"sender": address(), "intent": intent_schema()})))),
            preview_out(),
            &[400, 403, 404, 409, 422],
        ),
        ("post", "/api/tx/prepare") => (
            "Unsigned transaction and its EIP-712 typed data for an external wallet",
            vec![],
            Some(body({
                let mut b = closed(
                    &["sender"],
                    json!({"sender": address(), "intent": nullable(intent_schema()), "action": nullable(action_schema())}),
                );
                let intent = given("intent", json!({"type": "object"}));
                let action = given("action", json!({"type": "object"}));
                b["oneOf"] = json!([{"allOf": [intent, {"not": action}]}, {"allOf": [action, {"not": intent}]}]);
                b["description"] = json!("Exactly one of `intent` (filled in from a quote) or `action` (as is)");
                b
            })),
            object(
                &["transaction", "typed_data", "digest"],
                json!({"transaction": tx_out(), "typed_data": json!({"type": "object"}), "digest": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}}),
            ),
            &[400, 403, 404, 409, 422],
        ),
        ("post", "/api/tx") => (
            "Submit a signed transaction (EIP-712 signature, or wire bytes)",
            vec![],
            Some(body({
                let mut b = closed(
                    &[],
                    json!({
                        "transaction": nullable(tx_schema()),
                        "signature": nullable(json!({"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{130}$", "description": "r ‖ s ‖ v, 65 bytes"})),
                        "raw": nullable(json!({"type": "string", "pattern": "^(0x)?([0-9a-fA-F]{2})*$", "description": "The wire bytes"}))
                    }),
                );
                let tx = given("transaction", json!({"type": "object"}));
                let sig = given("signature", string());
                let raw = given("raw", string());
                b["oneOf"] = json!([
                    {"allOf": [tx, sig, {"not": raw}]},
                    {"allOf": [raw, {"not": {"anyOf": [tx, sig]}}]}
                ]);
                b["description"] = json!("`transaction` and `signature`, or `raw`");
                b
            })),
            object(&["seq", "outcome", "next_seq"], json!({"seq": u64_(), "outcome": string(), "next_seq": u64_()})),
            &[400, 403, 404, 409, 422],
        ),
        ("post", "/api/faucet") => (
            "Demo faucet: fund an address on every chain",
            vec![],
            Some(body(closed(&["address"], json!({"address": address()})))),
            object(
                &["address", "granted"],
                json!({"address": address_out(), "granted": array(object(&["token", "amount"], json!({"token": string(), "amount": amount_out()})))}),
            ),
            &[400],
        ),
        ("post", "/api/time/advance") => (
            "Run the market and every chain's clock forward",
            vec![],
            Some(body(closed(
                &["seconds"],
                json!({"seconds": {"type": "integer", "minimum": 1, "maximum": crate::api::MAX_ADVANCE_S}}),
            ))),
            object(
                &["now", "unix", "blocks", "fills", "scheduled"],
                json!({"now": u64_(), "unix": {"type": "integer"}, "blocks": u64_(), "fills": u64_(), "scheduled": array(string())}),
            ),
            &[400],
        ),
        ("post", "/api/simulate") => (
            "Backtest a strategy over real closes, or run it on Monte Carlo paths (bounded: 2M path-steps)",
            vec![],
            Some(body(crate::api_lab::request_schema())),
            crate::api_lab::response_schema(),
            &[400, 422],
        ),
        ("post", "/api/advise") => (
            "Diversification advice: an allocation of the holdings across the opportunities, each line explained",
            vec![],
            Some(body(crate::api_advise::request_schema())),
            crate::api_advise::response_schema(),
            &[400, 422],
        ),
        ("get", "/api/wallet") => (
            "Local wallet: addresses and the unlocked one",
            vec![],
            None,
            object(
                &["addresses", "unlocked"],
                json!({"addresses": array(address_out()), "unlocked": nullable(address_out())}),
            ),
            &[],
        ),
        ("post", "/api/wallet/unlock") => (
            "Unlock a local key with its passphrase (sets the session cookie)",
            vec![],
            Some(body(closed(
                &["passphrase"],
                json!({
                    "address": nullable(json!({"type": "string", "pattern": "^((0x)?[0-9a-fA-F]{40})?$", "description": "The key to unlock; empty, null or absent: the only key"})),
                    "passphrase": string()
                }),
            ))),
            object(
                &["address", "session"],
                json!({"address": address_out(), "session": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}),
            ),
            &[400, 401, 404, 409, 422],
        ),
        ("post", "/api/wallet/lock") => (
            "Forget the session's key",
            vec![],
            None,
            object(&["unlocked"], json!({"unlocked": nullable(json!({"type": "string", "maxLength": 0}))})),
            &[],
        ),
        ("post", "/api/wallet/act") => (
            "Sign a previewed action with the unlocked key and submit it",
            vec![],
            Some(body(closed(&["action"], json!({"action": action_schema()})))),
            object(&["seq", "outcome"], json!({"seq": u64_(), "outcome": string()})),
            &[400, 401, 403, 404, 409, 422],
        ),
        ("get", "/api/events") => ("Server-sent events: block, fill, tx, alert", vec![], None, string(), &[]),
        ("get", "/api/openapi.json") => (
            "This document",
            vec![],
            None,
            object(
                &["openapi", "info", "paths"],
                json!({"openapi": {"type": "string", "pattern": "^3\\.0\\."}, "info": {"type": "object"}, "paths": {"type": "object"}}),
            ),
            &[],
        ),
        ("get", "/metrics") => ("Prometheus metrics", vec![], None, string(), &[]),
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
        // Every request with a body may meet the size limit, and every one that changes state
        // the rate limit (crate::limits).
        let limit_codes: &[u16] = if method == "post" { &[413, 429] } else { &[] };
        for s in errors.iter().chain(limit_codes) {
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
