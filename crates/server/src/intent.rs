//! What a user asks for (an [`Intent`]: swap, add, remove, deposit, stake, …) and its preview:
//! the action it becomes (with slippage bounds filled in from a quote), what it would return,
//! fees, price impact, gas, and for an early exit the penalty. The preview runs the action on a
//! copy of the engine, so it is what the engine would do now, to the wei.

use crate::dto::{self, format_units, parse_base_units, units_f64};
use crate::error::ApiError;
use granary_engine::staking::EarlyExit;
use granary_engine::{Action, Address, Engine, Outcome, U256};
use granary_hub::PriceBook;
use serde::{Deserialize, Serialize};

/// Default slippage tolerance: 0.5 %.
pub const DEFAULT_SLIPPAGE_BPS: u32 = 50;

/// A user's request, in base units (decimal strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Intent {
    /// Swap an exact amount in along `path` (pool ids; or one `pool`).
    Swap {
        #[serde(default)]
        pool: Option<String>,
        #[serde(default)]
        path: Option<Vec<String>>,
        token_in: String,
        amount_in: String,
        /// Lowest acceptable output; default: the quote less `slippage_bps`.
        #[serde(default)]
        min_out: Option<String>,
        #[serde(default)]
        slippage_bps: Option<u32>,
    },
    AddLiquidity {
        pool: String,
        /// Desired amounts of token 0 and token 1.
        amounts: [String; 2],
        #[serde(default)]
        slippage_bps: Option<u32>,
    },
    RemoveLiquidity {
        pool: String,
        liquidity: String,
        #[serde(default)]
        slippage_bps: Option<u32>,
    },
    Deposit {
        farm_pool: String,
        amount: String,
    },
    Withdraw {
        farm_pool: String,
        amount: String,
    },
    Harvest {
        farm_pool: String,
    },
    EmergencyWithdraw {
        farm_pool: String,
    },
    Stake {
        staking_pool: String,
        amount: String,
        term_days: u32,
    },
    Unstake {
        position: u64,
    },
    Claim {
        position: u64,
    },
    Transfer {
        token: String,
        to: String,
        amount: String,
    },
}

fn amount(field: &str, text: &str) -> Result<U256, ApiError> {
    let v = parse_base_units(text).map_err(|why| ApiError::bad_field(field, why))?;
    if v.is_zero() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "zero_amount",
            format!("`{field}` is zero: give a positive amount"),
        )
        .field(field));
    }
    Ok(v)
}

fn slippage(bps: Option<u32>) -> Result<u32, ApiError> {
    let b = bps.unwrap_or(DEFAULT_SLIPPAGE_BPS);
    if b > 5_000 {
        return Err(ApiError::bad_field(
            "slippage_bps",
            "is above 5000 (50 %): give a tolerance in basis points, e.g. 50",
        ));
    }
    Ok(b)
}

/// `v · (10000 − bps) / 10000`, rounded down: the least the user accepts.
fn less_bps(v: U256, bps: u32) -> U256 {
    v.checked_mul(U256::from(10_000 - bps)).map(|x| x / U256::from(10_000u32)).unwrap_or(U256::ZERO)
}

impl Intent {
    /// The engine action, with slippage bounds computed from a quote on `engine`.
    pub fn to_action(&self, engine: &Engine) -> Result<Action, ApiError> {
        Ok(match self {
            Intent::Swap { pool, path, token_in, amount_in, min_out, slippage_bps } => {
                let path = match (path, pool) {
                    (Some(p), _) if !p.is_empty() => p.clone(),
                    (_, Some(p)) => vec![p.clone()],
                    _ => return Err(ApiError::bad_field("pool", "is missing: give `pool` or a non-empty `path`")),
                };
                let amount_in = amount("amount_in", amount_in)?;
                // Checked even when `min_out` makes it unused: an out-of-range tolerance is a mistake.
                let bps = slippage(*slippage_bps)?;
                let min_out = match min_out {
                    Some(m) => parse_base_units(m).map_err(|why| ApiError::bad_field("min_out", why))?,
                    None => {
                        let ixs = path.iter().map(|p| engine.pool_ix(p)).collect::<Result<Vec<_>, _>>()?;
                        let tin = engine.token_ix(token_in)?;
                        let amounts = engine.quote_exact_in(&ixs, tin, amount_in)?;
                        less_bps(amounts.last().copied().unwrap_or(U256::ZERO), bps)
                    }
                };
                Action::SwapExactIn { path, token_in: token_in.clone(), amount_in, min_out }
            }
            Intent::AddLiquidity { pool, amounts, slippage_bps } => {
                let bps = slippage(*slippage_bps)?;
                let a = [amount("amounts[0]", &amounts[0])?, amount("amounts[1]", &amounts[1])?];
                Action::AddLiquidity { pool: pool.clone(), amounts: a, min: [less_bps(a[0], bps), less_bps(a[1], bps)] }
            }
            Intent::RemoveLiquidity { pool, liquidity, slippage_bps } => {
                let bps = slippage(*slippage_bps)?;
                let liquidity = amount("liquidity", liquidity)?;
                let ix = engine.pool_ix(pool)?;
                let p = engine.pool(ix);
                let supply = engine.token(p.lp_token).total_supply;
                let share = |r: U256| {
                    if supply.is_zero() {
                        U256::ZERO
                    } else {
                        r.checked_mul(liquidity).map(|v| v / supply).unwrap_or(U256::ZERO)
                    }
                };
                let min = [less_bps(share(p.reserves[0]), bps), less_bps(share(p.reserves[1]), bps)];
                Action::RemoveLiquidity { pool: pool.clone(), liquidity, min }
            }
            Intent::Deposit { farm_pool, amount: a } => {
                Action::Deposit { farm_pool: farm_pool.clone(), amount: amount("amount", a)? }
            }
            Intent::Withdraw { farm_pool, amount: a } => {
                Action::Withdraw { farm_pool: farm_pool.clone(), amount: amount("amount", a)? }
            }
            Intent::Harvest { farm_pool } => Action::Harvest { farm_pool: farm_pool.clone() },
            Intent::EmergencyWithdraw { farm_pool } => Action::EmergencyWithdraw { farm_pool: farm_pool.clone() },
            Intent::Stake { staking_pool, amount: a, term_days } => Action::Stake {
                staking_pool: staking_pool.clone(),
                amount: amount("amount", a)?,
                term_days: *term_days,
            },
            Intent::Unstake { position } => Action::Unstake { position: *position },
            Intent::Claim { position } => Action::Claim { position: *position },
            Intent::Transfer { token, to, amount: a } => Action::Transfer {
                token: token.clone(),
                to: dto::parse_address(to).map_err(|why| ApiError::bad_field("to", why))?,
                amount: amount("amount", a)?,
            },
        })
    }
}

/// One token movement of a preview, for the user's eyes.
#[derive(Debug, Clone, Serialize)]
pub struct Leg {
    pub token: String,
    pub symbol: String,
    #[serde(serialize_with = "dto::ser_u256")]
    pub amount: U256,
    pub amount_tokens: String,
    pub value_usd: Option<f64>,
}

/// What an action would do now.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub chain: String,
    pub chain_id: u64,
    /// The action as it would be signed: the EIP-712 `Action` fields.
    pub action: ActionJson,
    /// What leaves the wallet and what arrives in it.
    pub pay: Vec<Leg>,
    pub receive: Vec<Leg>,
    /// Trading fee paid to LPs (swaps), in USD.
    pub fee_usd: Option<f64>,
    /// Price impact of a swap, % (execution vs. spot).
    pub price_impact_pct: Option<f64>,
    pub slippage_bps: Option<u32>,
    /// Least the user accepts (the signed bound), for swaps and liquidity.
    pub minimum_receive: Vec<Leg>,
    pub gas_units: u64,
    pub gas_usd: Option<f64>,
    /// Early exit: principal lost to the penalty.
    pub penalty: Option<Leg>,
    /// Early exit: rewards forfeited.
    pub forfeited_reward: Option<Leg>,
    /// A stake: the reward it would have earned by its unlock if nothing else changed (no one
    /// joins or leaves, no new notify) — the engine run forward on a copy.
    pub expected_reward: Option<Leg>,
    /// Warnings the user must read (locked until…, rug alert on this opportunity, …).
    pub warnings: Vec<String>,
    pub outcome: String,
}

/// The EIP-712 `Action` struct: what external wallets sign. Unknown fields are refused: a field
/// the signer meant (a `min_out` beside the amounts) must not be dropped silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionJson {
    pub kind: String,
    pub ids: Vec<String>,
    /// Decimal strings.
    pub amounts: Vec<String>,
}

impl ActionJson {
    pub fn of(a: &Action) -> ActionJson {
        let p = a.to_parts();
        ActionJson { kind: p.kind, ids: p.ids, amounts: p.amounts.iter().map(|v| v.to_string()).collect() }
    }

    pub fn to_action(&self) -> Result<Action, ApiError> {
        let amounts = self
            .amounts
            .iter()
            .enumerate()
            .map(|(i, s)| parse_base_units(s).map_err(|why| ApiError::bad_field(&format!("action.amounts[{i}]"), why)))
            .collect::<Result<Vec<_>, _>>()?;
        let parts = granary_engine::codec::ActionParts { kind: self.kind.clone(), ids: self.ids.clone(), amounts };
        Action::from_parts(&parts).map_err(|e| ApiError::bad_field("action", e))
    }
}

fn leg(engine: &Engine, book: &PriceBook, token: usize, amount: U256) -> Leg {
    let t = engine.token(token);
    Leg {
        token: t.id.clone(),
        symbol: t.symbol.clone(),
        amount,
        amount_tokens: format_units(amount, t.decimals),
        value_usd: book.usd(token).map(|p| p * units_f64(amount, t.decimals)),
    }
}

/// Run `action` for `sender` on a copy of `engine` and describe what it would do.
pub fn preview(engine: &Engine, book: &PriceBook, sender: Address, action: &Action) -> Result<Preview, ApiError> {
    let cix = engine.action_chain(action)?;
    let chain = engine.chain(cix);
    let mut sim = engine.clone();
    let before: Vec<U256> = (0..engine.tokens().len()).map(|t| engine.balance(t, sender)).collect();
    let outcome = sim.execute(sender, action)?;
    let mut pay = Vec::new();
    let mut receive = Vec::new();
    for (t, b) in before.iter().enumerate() {
        let after = sim.balance(t, sender);
        if after < *b {
            pay.push(leg(engine, book, t, *b - after));
        } else if after > *b {
            receive.push(leg(engine, book, t, after - *b));
        }
    }
    let gas_units = action.gas_units();
    let gas_usd = dto::native_usd(engine, book, &chain.id).map(|p| {
        let wei: f64 = chain.gas_price_wei.into();
        wei * gas_units as f64 / 1e18 * p
    });
    let mut p = Preview {
        chain: chain.id.clone(),
        chain_id: chain.chain_id,
        action: ActionJson::of(action),
        pay,
        receive,
        fee_usd: None,
        price_impact_pct: None,
        slippage_bps: None,
        minimum_receive: Vec::new(),
        gas_units,
        gas_usd,
        penalty: None,
        forfeited_reward: None,
        expected_reward: None,
        warnings: Vec::new(),
        outcome: dto::outcome_words(&outcome),
    };
    match (action, &outcome) {
        (Action::SwapExactIn { path, token_in, amount_in, min_out }, Outcome::Swapped { amount_out, .. }) => {
            let tin = engine.token_ix(token_in)?;
            // Fee: each hop keeps fee_bps of what enters it; price it at the input of each hop.
            let mut fee_usd = 0.0;
            let mut spot_out = units_f64(*amount_in, engine.token(tin).decimals);
            let mut tok = tin;
            let mut hop_in = *amount_in;
            for id in path {
                let pix = engine.pool_ix(id)?;
                let pool = engine.pool(pix);
                let side = pool.side_of(tok).unwrap_or(0);
                let fee = units_f64(hop_in, engine.token(tok).decimals) * f64::from(pool.fee_bps) / 10_000.0;
                fee_usd += fee * book.usd(tok).unwrap_or(0.0);
                let out_tok = pool.tokens[1 - side];
                let (rin, rout) = (pool.reserves[side], pool.reserves[1 - side]);
                let spot = units_f64(rout, engine.token(out_tok).decimals) / units_f64(rin, engine.token(tok).decimals);
                spot_out *= spot;
                hop_in = engine.quote_exact_in(&[pix], tok, hop_in)?.last().copied().unwrap_or(U256::ZERO);
                tok = out_tok;
            }
            let got = units_f64(*amount_out, engine.token(tok).decimals);
            p.fee_usd = Some(fee_usd);
            if spot_out > 0.0 {
                p.price_impact_pct = Some((1.0 - got / spot_out) * 100.0);
            }
            p.minimum_receive.push(leg(engine, book, tok, *min_out));
        }
        (Action::AddLiquidity { pool, min, .. }, _) | (Action::RemoveLiquidity { pool, min, .. }, _) => {
            let pix = engine.pool_ix(pool)?;
            let toks = engine.pool(pix).tokens;
            p.minimum_receive.push(leg(engine, book, toks[0], min[0]));
            p.minimum_receive.push(leg(engine, book, toks[1], min[1]));
        }
        (Action::Unstake { position }, Outcome::Unstaked(u)) => {
            let pos = engine.position(*position)?;
            let sp = engine.staking_pool(pos.pool);
            if !u.penalty.is_zero() {
                p.penalty = Some(leg(engine, book, sp.stake_token, u.penalty));
                p.warnings.push(format!(
                    "early exit before {}: {} {} of the principal is lost to the penalty",
                    crate::web::fmt_unix(dto_unix(engine, pos.unlock_at)),
                    format_units(u.penalty, engine.token(sp.stake_token).decimals),
                    engine.token(sp.stake_token).symbol
                ));
            }
            if let EarlyExit::Penalty { forfeit_rewards: true, .. } = sp.early_exit
                && engine.now(sp.chain) < pos.unlock_at
            {
                let pending = engine.position_pending(*position).unwrap_or(U256::ZERO);
                if !pending.is_zero() {
                    p.forfeited_reward = Some(leg(engine, book, sp.reward_token, pending));
                    p.warnings.push("early exit forfeits the pending rewards".into());
                }
            }
        }
        (Action::Stake { staking_pool, term_days, .. }, Outcome::Staked { position, unlock_at }) => {
            let sp = engine.staking_pool(engine.staking_ix(staking_pool)?);
            let horizon = if *term_days > 0 { unlock_at.saturating_sub(sim.now(cix)) } else { 30 * 86_400 };
            if sim.advance(cix, horizon.max(1)).is_ok()
                && let Ok(r) = sim.position_pending(*position)
            {
                p.expected_reward = Some(leg(engine, book, sp.reward_token, r));
            }
            if *term_days == 0 {
                return Ok(p);
            }
            let rule = match sp.early_exit {
                EarlyExit::Forbidden => "no early exit".to_string(),
                EarlyExit::Penalty { penalty_bps, forfeit_rewards, .. } => format!(
                    "early exit costs {:.2} % of the principal{}",
                    f64::from(penalty_bps) / 100.0,
                    if forfeit_rewards { " and the pending rewards" } else { "" }
                ),
            };
            p.warnings.push(format!(
                "locked for {term_days} days, until {}; {rule}",
                crate::web::fmt_unix(dto_unix(engine, *unlock_at))
            ));
        }
        _ => {}
    }
    Ok(p)
}

/// Unix time of a chain time, with the demo world's genesis (every chain shares it).
fn dto_unix(_engine: &Engine, t: u64) -> i64 {
    granary_world::GENESIS_UNIX + t as i64
}
