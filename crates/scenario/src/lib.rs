//! Scenario files (SPEC §2.6): a list of steps run against a fresh in-memory engine, one JSON
//! result line per step. Actors are names mapped to deterministic development keys; each step is
//! signed by its actor as a real EIP-712 transaction and submitted, so scenarios exercise the same
//! path as any wallet. Setup steps (`chain`, `token`, `mint`, `advance`) are the operator's powers.
//!
//! The format, every op and its result fields are documented in `docs/scenarios.md`.

use granary_engine::action::{Action, Outcome};
use granary_engine::farm::Funding;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::tx::{Transaction, dev_key, key_address};
use granary_engine::{Address, Engine, EngineError, SignedTransaction, SystemOp, U256};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The actor that creates tokens, pools, farms and staking pools when a step names no `from`.
pub const DEFAULT_OWNER: &str = "owner";

/// A step's failure: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub code: String,
    pub message: String,
}

impl From<EngineError> for StepError {
    fn from(e: EngineError) -> Self {
        StepError { code: e.code().to_string(), message: e.to_string() }
    }
}

fn malformed(message: String) -> StepError {
    StepError { code: "malformed".into(), message }
}

type StepResult = Result<Map<String, Value>, StepError>;

/// Where a scenario's steps take effect: a bare engine, or a node that journals them.
pub trait World {
    fn engine(&self) -> &Engine;
    /// Submit a signed transaction.
    fn submit(&mut self, stx: SignedTransaction) -> Result<Outcome, StepError>;
    /// Apply an operator action (chain, token, faucet, clock).
    fn system(&mut self, op: SystemOp) -> Result<(), StepError>;
}

impl World for Engine {
    fn engine(&self) -> &Engine {
        self
    }
    fn submit(&mut self, stx: SignedTransaction) -> Result<Outcome, StepError> {
        Ok(Engine::submit(self, &stx)?)
    }
    fn system(&mut self, op: SystemOp) -> Result<(), StepError> {
        self.apply_system(&op)?;
        Ok(())
    }
}

/// A scenario in progress: the world, the actors' keys and the names of positions.
pub struct Runner<W: World = Engine> {
    pub world: W,
    keys: BTreeMap<String, (SecretKey, Address)>,
    positions: BTreeMap<String, u64>,
}

impl Default for Runner<Engine> {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner<Engine> {
    /// A runner on a fresh in-memory engine.
    pub fn new() -> Self {
        Self::on(Engine::new())
    }
}

/// Parse a scenario document: `{"name":…, "steps":[…]}` or a bare array of steps.
pub fn parse_steps(text: &str) -> Result<Vec<Value>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("the scenario is not valid JSON: {e}"))?;
    match doc {
        Value::Array(steps) => Ok(steps),
        Value::Object(mut o) => match o.remove("steps") {
            Some(Value::Array(steps)) => Ok(steps),
            _ => Err("the scenario object needs a `steps` array".into()),
        },
        _ => Err("a scenario is an object with `steps` or an array of steps".into()),
    }
}

/// Run a whole scenario text on a fresh in-memory engine; one output line per step.
pub fn run_text(text: &str) -> Result<Vec<Value>, String> {
    run_text_on(text, Engine::new()).map(|(lines, _)| lines)
}

/// Run a whole scenario text on `world`; returns the lines and the world.
pub fn run_text_on<W: World>(text: &str, world: W) -> Result<(Vec<Value>, W), String> {
    let steps = parse_steps(text)?;
    let mut runner = Runner::on(world);
    let lines = steps.iter().enumerate().map(|(i, s)| runner.step_line(i, s)).collect();
    Ok((lines, runner.world))
}

fn str_field<'a>(s: &'a Value, field: &str) -> Result<&'a str, StepError> {
    s.get(field).and_then(Value::as_str).ok_or_else(|| malformed(format!("`{field}` is missing or not a string")))
}

fn u64_field(s: &Value, field: &str) -> Result<u64, StepError> {
    match s.get(field) {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| malformed(format!("`{field}` is not a whole number ≥ 0"))),
        Some(Value::String(t)) => t.parse().map_err(|_| malformed(format!("`{field}` is not a whole number ≥ 0"))),
        _ => Err(malformed(format!("`{field}` is missing"))),
    }
}

fn opt_u64(s: &Value, field: &str) -> Result<Option<u64>, StepError> {
    match s.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => u64_field(s, field).map(Some),
    }
}

fn u32_of(s: &Value, field: &str) -> Result<u32, StepError> {
    u32::try_from(u64_field(s, field)?).map_err(|_| malformed(format!("`{field}` exceeds 32 bits")))
}

/// A decimal amount in base units: a string (or a JSON integer). More than 256 bits is `overflow`.
fn amount_value(v: &Value, field: &str) -> Result<U256, StepError> {
    let text = match v {
        Value::String(t) => t.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => {
            return Err(malformed(format!("`{field}` must be a decimal string of base units")));
        }
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!("`{field}` must be a decimal string of base units, got {text:?}")));
    }
    U256::from_str_radix(&text, 10).map_err(|_| StepError {
        code: "overflow".into(),
        message: format!("`{field}` = {text} does not fit in 256 bits"),
    })
}

fn amount(s: &Value, field: &str) -> Result<U256, StepError> {
    amount_value(s.get(field).unwrap_or(&Value::Null), field)
}

fn amount_pair(s: &Value, field: &str) -> Result<[U256; 2], StepError> {
    match s.get(field).and_then(Value::as_array) {
        Some(a) if a.len() == 2 => Ok([amount_value(&a[0], field)?, amount_value(&a[1], field)?]),
        None if field == "min" => Ok([U256::ZERO; 2]),
        _ => Err(malformed(format!("`{field}` must be a list of two amounts"))),
    }
}

fn dec(v: U256) -> Value {
    Value::String(v.to_string())
}

impl<W: World> Runner<W> {
    /// A runner on `world` (for example a store node, so that every step is journaled).
    pub fn on(world: W) -> Self {
        Runner { world, keys: BTreeMap::new(), positions: BTreeMap::new() }
    }

    /// The key and address of a named actor.
    pub fn actor(&mut self, name: &str) -> (SecretKey, Address) {
        *self.keys.entry(name.to_string()).or_insert_with(|| {
            let k = dev_key(name);
            (k, key_address(&k))
        })
    }

    /// An account named in a step: a 0x address, a protocol object (its holding address), or an actor.
    fn account(&mut self, name: &str) -> Address {
        if let Ok(a) = name.parse::<Address>()
            && name.starts_with("0x")
        {
            return a;
        }
        let e = self.world.engine();
        if let Ok(p) = e.pool_ix(name) {
            return e.pool(p).address;
        }
        if let Ok(f) = e.farm_ix(name) {
            return e.farm(f).address;
        }
        if let Ok(s) = e.staking_ix(name) {
            return e.staking_pool(s).address;
        }
        self.actor(name).1
    }

    fn position_id(&self, name: &str) -> Result<u64, StepError> {
        self.positions.get(name).copied().ok_or_else(|| EngineError::UnknownPosition(name.to_string()).into())
    }

    /// Sign `action` as `actor` (next nonce, no deadline unless the step gives one) and submit it.
    fn sign_and_submit(&mut self, actor: &str, step: &Value, action: Action) -> Result<Outcome, StepError> {
        let (key, sender) = self.actor(actor);
        let chain = self.world.engine().action_chain(&action)?;
        let chain_id = self.world.engine().chain(chain).chain_id;
        let nonce = self.world.engine().nonce(chain, sender);
        let deadline = opt_u64(step, "deadline")?.unwrap_or(u64::MAX);
        let stx = Transaction { chain_id, sender, nonce, deadline, action }.sign(&key);
        self.world.submit(stx)
    }

    /// Run one step and format its output line.
    pub fn step_line(&mut self, index: usize, step: &Value) -> Value {
        match self.step(step) {
            Ok(result) => json!({"step": index, "ok": true, "result": result}),
            Err(e) => {
                json!({"step": index, "ok": false, "error": {"code": e.code, "message": e.message}})
            }
        }
    }

    fn from(step: &Value) -> Result<&str, StepError> {
        str_field(step, "from")
    }

    fn owner_of(step: &Value) -> &str {
        step.get("from").and_then(Value::as_str).unwrap_or(DEFAULT_OWNER)
    }

    /// Run one step; a failed step leaves the engine unchanged.
    pub fn step(&mut self, s: &Value) -> StepResult {
        let op = str_field(s, "op")?;
        let mut out = Map::new();
        match op {
            "chain" => {
                let id = str_field(s, "id")?.to_string();
                self.world.system(SystemOp::CreateChain {
                    id: id.clone(),
                    chain_id: u64_field(s, "chain_id")?,
                    name: s.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                    block_time_s: opt_u64(s, "block_time_s")?.unwrap_or(12),
                })?;
                if let Some(sym) = s.get("native_symbol").and_then(Value::as_str) {
                    let gas_price_wei = match s.get("gas_price_wei") {
                        Some(v) => amount_value(v, "gas_price_wei")?,
                        None => {
                            let e = self.world.engine();
                            e.chain(e.chain_ix(&id)?).gas_price_wei
                        }
                    };
                    self.world.system(SystemOp::SetGasModel {
                        chain: id,
                        native_symbol: sym.to_string(),
                        gas_price_wei,
                    })?;
                }
            }
            "token" => {
                let minter = self.actor(Self::owner_of(s)).1;
                let decimals =
                    u8::try_from(u64_field(s, "decimals")?).map_err(|_| malformed("`decimals` exceeds 255".into()))?;
                let id = str_field(s, "id")?;
                let symbol = s.get("symbol").and_then(Value::as_str).unwrap_or(id);
                self.world.system(SystemOp::CreateToken {
                    id: id.to_string(),
                    chain: str_field(s, "chain")?.to_string(),
                    symbol: symbol.to_string(),
                    decimals,
                    minter: Some(minter),
                })?;
            }
            "mint" => {
                let to = self.account(str_field(s, "to")?);
                let token = str_field(s, "token")?.to_string();
                self.world.system(SystemOp::FaucetMint { token, to, amount: amount(s, "amount")? })?;
            }
            "advance" => {
                let chain = str_field(s, "chain")?.to_string();
                self.world.system(SystemOp::Advance { chain, seconds: u64_field(s, "seconds")? })?;
            }
            "state_hash" => {
                out.insert("state_hash".into(), Value::String(format!("{:#x}", self.world.engine().state_hash())));
            }
            "balance" => {
                let token = self.world.engine().token_ix(str_field(s, "token")?)?;
                let of = self.account(str_field(s, "of")?);
                out.insert("balance".into(), dec(self.world.engine().balance(token, of)));
            }
            "pending" => {
                let target = str_field(s, "target")?;
                let pending = if let Ok(fp) = self.world.engine().farm_pool_ix(target) {
                    let of = self.account(str_field(s, "of")?);
                    self.world.engine().farm_pending(fp, of)?
                } else {
                    let id = self.position_id(target)?;
                    self.world.engine().position_pending(id)?
                };
                out.insert("pending".into(), dec(pending));
            }
            "inspect" => self.inspect(str_field(s, "target")?, &mut out)?,
            _ => {
                let (actor, action) = self.action_of(op, s)?;
                let outcome = self.sign_and_submit(&actor, s, action)?;
                self.report(op, s, outcome, &mut out);
            }
        }
        Ok(out)
    }

    /// Translate a user step into the action its actor signs.
    fn action_of(&mut self, op: &str, s: &Value) -> Result<(String, Action), StepError> {
        let owner = Self::owner_of(s).to_string();
        let id = |f: &str| str_field(s, f).map(str::to_string);
        let path = |s: &Value| -> Result<Vec<String>, StepError> {
            if let Some(p) = s.get("path").and_then(Value::as_array) {
                p.iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or_else(|| malformed("`path` lists pool ids".into())))
                    .collect()
            } else {
                Ok(vec![str_field(s, "pool")?.to_string()])
            }
        };
        let action = match op {
            "transfer" => {
                let to = self.account(str_field(s, "to")?);
                Action::Transfer { token: id("token")?, to, amount: amount(s, "amount")? }
            }
            "cp_pool" => {
                let tokens = match s.get("tokens").and_then(Value::as_array) {
                    Some(t) if t.len() == 2 => {
                        [t[0].as_str().unwrap_or_default().to_string(), t[1].as_str().unwrap_or_default().to_string()]
                    }
                    _ => return Err(malformed("`tokens` must list two token ids".into())),
                };
                let fee_bps = opt_u64(s, "fee_bps")?.unwrap_or(30);
                let fee_bps = u32::try_from(fee_bps).map_err(|_| malformed("`fee_bps` exceeds 32 bits".into()))?;
                Action::CreatePool { id: id("id")?, tokens, fee_bps }
            }
            "set_fee_to" => {
                let fee_to = s.get("fee_to").and_then(Value::as_str).map(|n| self.account(n));
                Action::SetFeeTo { pool: id("pool")?, fee_to }
            }
            "add_liquidity" => Action::AddLiquidity {
                pool: id("pool")?,
                amounts: amount_pair(s, "amounts")?,
                min: amount_pair(s, "min")?,
            },
            "remove_liquidity" => Action::RemoveLiquidity {
                pool: id("pool")?,
                liquidity: amount(s, "liquidity")?,
                min: amount_pair(s, "min")?,
            },
            "swap" => Action::SwapExactIn {
                path: path(s)?,
                token_in: id("token_in")?,
                amount_in: amount(s, "amount_in")?,
                min_out: if s.get("min_out").is_some() { amount(s, "min_out")? } else { U256::ZERO },
            },
            "swap_exact_out" => Action::SwapExactOut {
                path: path(s)?,
                token_in: id("token_in")?,
                amount_out: amount(s, "amount_out")?,
                max_in: if s.get("max_in").is_some() { amount(s, "max_in")? } else { U256::MAX },
            },
            "farm" => {
                let funding = match s.get("funding").and_then(Value::as_str) {
                    None | Some("minted") => Funding::Minted,
                    Some("budget") => Funding::Budget,
                    Some(other) => {
                        return Err(malformed(format!("`funding` is minted or budget, not {other}")));
                    }
                };
                Action::CreateFarm {
                    id: id("id")?,
                    reward_token: id("reward_token")?,
                    reward_per_second: amount(s, "reward_per_second")?,
                    start: opt_u64(s, "start")?.unwrap_or(0),
                    end: opt_u64(s, "end")?,
                    funding,
                    timelock_delay_s: opt_u64(s, "timelock_delay_s")?.unwrap_or(0),
                }
            }
            "farm_pool" => Action::AddFarmPool {
                id: id("id")?,
                farm: id("farm")?,
                stake_token: id("stake_token")?,
                alloc_point: u64_field(s, "alloc_point")?,
                deposit_fee_bps: match opt_u64(s, "deposit_fee_bps")? {
                    Some(v) => u32::try_from(v).map_err(|_| malformed("`deposit_fee_bps` exceeds 32 bits".into()))?,
                    None => 0,
                },
            },
            "fund_farm" => Action::FundFarm { farm: id("farm")?, amount: amount(s, "amount")? },
            "set_alloc_point" => {
                Action::SetAllocPoint { farm_pool: id("farm_pool")?, alloc_point: u64_field(s, "alloc_point")? }
            }
            "set_reward_per_second" => {
                Action::SetRewardPerSecond { farm: id("farm")?, reward_per_second: amount(s, "reward_per_second")? }
            }
            "set_migrator" => {
                let migrator = s.get("migrator").and_then(Value::as_str).map(|n| self.account(n));
                Action::SetMigrator { farm: id("farm")?, migrator }
            }
            "pause" | "unpause" => Action::SetPaused { farm: id("farm")?, paused: op == "pause" },
            "owner_mint" => {
                let to = self.account(str_field(s, "to")?);
                Action::OwnerMint { farm: id("farm")?, to, amount: amount(s, "amount")? }
            }
            "migrate" => Action::Migrate { farm_pool: id("farm_pool")? },
            "queue_admin" => {
                let inner = s.get("action").ok_or_else(|| malformed("`action` is missing".into()))?;
                let inner_op = str_field(inner, "op")?;
                let (_, inner_action) = self.action_of(inner_op, inner)?;
                Action::QueueAdmin { farm: id("farm")?, action: Box::new(inner_action) }
            }
            "execute_queued" => Action::ExecuteQueued { farm: id("farm")?, queue_id: u64_field(s, "queue_id")? },
            "deposit" => Action::Deposit { farm_pool: id("farm_pool")?, amount: amount(s, "amount")? },
            "withdraw" => Action::Withdraw { farm_pool: id("farm_pool")?, amount: amount(s, "amount")? },
            "harvest" => Action::Harvest { farm_pool: id("farm_pool")? },
            "emergency_withdraw" => Action::EmergencyWithdraw { farm_pool: id("farm_pool")? },
            "staking_pool" => {
                let terms = s
                    .get("terms")
                    .and_then(Value::as_array)
                    .ok_or_else(|| malformed("`terms` must list {days, boost_bps}".into()))?
                    .iter()
                    .map(|t| Ok(Term { days: u32_of(t, "days")?, boost_bps: u32_of(t, "boost_bps")? }))
                    .collect::<Result<Vec<_>, StepError>>()?;
                let early_exit = match s.get("early_exit") {
                    None | Some(Value::Null) => EarlyExit::Forbidden,
                    Some(Value::String(f)) if f == "forbidden" => EarlyExit::Forbidden,
                    Some(e @ Value::Object(_)) => EarlyExit::Penalty {
                        penalty_bps: match opt_u64(e, "penalty_bps")? {
                            Some(v) => {
                                u32::try_from(v).map_err(|_| malformed("`penalty_bps` exceeds 32 bits".into()))?
                            }
                            None => 0,
                        },
                        forfeit_rewards: e.get("forfeit_rewards").and_then(Value::as_bool).unwrap_or(false),
                        to: match e.get("to").and_then(Value::as_str) {
                            None | Some("treasury") => PenaltyTo::Treasury,
                            Some("stakers") => PenaltyTo::Stakers,
                            Some(o) => {
                                return Err(malformed(format!("`early_exit.to` is treasury or stakers, not {o}")));
                            }
                        },
                    },
                    _ => {
                        return Err(malformed(
                            "`early_exit` is \"forbidden\" or {penalty_bps, forfeit_rewards}".into(),
                        ));
                    }
                };
                Action::CreateStakingPool {
                    id: id("id")?,
                    stake_token: id("stake_token")?,
                    reward_token: id("reward_token")?,
                    terms,
                    early_exit,
                }
            }
            "notify_reward" => Action::NotifyReward {
                staking_pool: id("staking_pool")?,
                amount: amount(s, "amount")?,
                duration_s: u64_field(s, "duration_s")?,
            },
            "stake" => Action::Stake {
                staking_pool: id("staking_pool")?,
                amount: amount(s, "amount")?,
                term_days: opt_u64(s, "term_days")?
                    .map(|d| u32::try_from(d).map_err(|_| malformed("`term_days` exceeds 32 bits".into())))
                    .transpose()?
                    .unwrap_or(0),
            },
            "unstake" => Action::Unstake { position: self.position_id(str_field(s, "position")?)? },
            "claim" => Action::Claim { position: self.position_id(str_field(s, "position")?)? },
            _ => {
                return Err(malformed(format!("unknown op `{op}`: see docs/scenarios.md for the list")));
            }
        };
        let actor = match op {
            // Creation and owner powers default to the `owner` actor.
            "cp_pool"
            | "farm"
            | "farm_pool"
            | "staking_pool"
            | "set_fee_to"
            | "set_alloc_point"
            | "set_reward_per_second"
            | "set_migrator"
            | "pause"
            | "unpause"
            | "owner_mint"
            | "queue_admin"
            | "execute_queued" => owner,
            _ => Self::from(s)?.to_string(),
        };
        Ok((actor, action))
    }

    /// Put an outcome's fields into the result object.
    fn report(&mut self, op: &str, s: &Value, outcome: Outcome, out: &mut Map<String, Value>) {
        match outcome {
            Outcome::Done => {}
            Outcome::Liquidity { liquidity, amounts } => {
                out.insert("liquidity".into(), dec(liquidity));
                out.insert("amounts".into(), json!([dec(amounts[0]), dec(amounts[1])]));
            }
            Outcome::Removed { amounts } => {
                out.insert("amounts".into(), json!([dec(amounts[0]), dec(amounts[1])]));
            }
            Outcome::Swapped { amount_in, amount_out, .. } => {
                out.insert("amount_in".into(), dec(amount_in));
                out.insert("amount_out".into(), dec(amount_out));
            }
            Outcome::Reward(p) => {
                out.insert("reward".into(), dec(p.reward));
                out.insert("unpaid".into(), dec(p.unpaid));
            }
            Outcome::Withdrawn { amount } => {
                out.insert("amount".into(), dec(amount));
            }
            Outcome::Staked { position, unlock_at } => {
                if let Some(name) = s.get("id").and_then(Value::as_str) {
                    self.positions.insert(name.to_string(), position);
                }
                out.insert("position".into(), json!(position));
                out.insert("unlock_at".into(), json!(unlock_at));
            }
            Outcome::Claimed { reward, unpaid } => {
                out.insert("reward".into(), dec(reward));
                out.insert("unpaid".into(), dec(unpaid));
            }
            Outcome::Unstaked(u) => {
                out.insert("amount".into(), dec(u.amount));
                out.insert("penalty".into(), dec(u.penalty));
                out.insert("reward".into(), dec(u.reward));
                out.insert("unpaid".into(), dec(u.unpaid));
            }
            Outcome::Queued { queue_id, eta } => {
                out.insert("queue_id".into(), json!(queue_id));
                out.insert("eta".into(), json!(eta));
            }
        }
        let _ = op;
    }

    /// `inspect`: the state of a pool, farm pool, farm, staking pool, position or token.
    fn inspect(&self, target: &str, out: &mut Map<String, Value>) -> Result<(), StepError> {
        let e = self.world.engine();
        if let Ok(p) = e.pool_ix(target) {
            let p = e.pool(p);
            out.insert("reserves".into(), json!([dec(p.reserves[0]), dec(p.reserves[1])]));
            out.insert("total_supply".into(), dec(e.token(p.lp_token).total_supply));
            out.insert("price_cumulative".into(), json!([dec(p.price_cumulative[0]), dec(p.price_cumulative[1])]));
            out.insert("block_timestamp_last".into(), json!(p.block_timestamp_last));
            out.insert("k_last".into(), dec(p.k_last));
        } else if let Ok(fp) = e.farm_pool_ix(target) {
            let p = e.farm_pool(fp);
            out.insert("total_staked".into(), dec(p.total_staked));
            out.insert("acc_reward_per_share".into(), dec(p.acc_reward_per_share));
            out.insert("alloc_point".into(), json!(p.alloc_point));
            out.insert("last_reward_time".into(), json!(p.last_reward_time));
        } else if let Ok(f) = e.farm_ix(target) {
            let f = e.farm(f);
            out.insert("reward_reserve".into(), dec(f.reward_reserve));
            out.insert("rewards_emitted".into(), dec(f.rewards_emitted));
            out.insert("rewards_paid".into(), dec(f.rewards_paid));
            out.insert("reward_per_second".into(), dec(f.reward_per_second));
            out.insert("total_alloc_point".into(), json!(f.total_alloc_point));
        } else if let Ok(sp) = e.staking_ix(target) {
            let p = e.staking_pool(sp);
            out.insert("total_staked".into(), dec(p.total_staked));
            out.insert("total_weight".into(), dec(p.total_weight));
            out.insert("reward_rate".into(), dec(p.reward_rate));
            out.insert("period_finish".into(), json!(p.period_finish));
            out.insert("reward_per_token_stored".into(), dec(p.reward_per_token_stored));
            out.insert("reward_reserve".into(), dec(p.reward_reserve));
        } else if let Some(id) = self.positions.get(target) {
            let p = e.position(*id)?;
            out.insert("amount".into(), dec(p.amount));
            out.insert("weight".into(), dec(p.weight));
            out.insert("unlock_at".into(), json!(p.unlock_at));
            out.insert("rewards".into(), dec(p.rewards));
        } else if let Ok(t) = e.token_ix(target) {
            out.insert("total_supply".into(), dec(e.token(t).total_supply));
        } else {
            return Err(malformed(format!("`{target}` names no pool, farm, staking pool, position or token")));
        }
        Ok(())
    }
}
