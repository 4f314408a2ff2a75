//! The JSON shapes of the API (also what the dashboard renders): chains, tokens, balances and
//! positions. Amounts are decimal strings of base units (exact); USD figures are floats.

use crate::platform::{CostBook, LpBasis};
use granary_engine::staking::EarlyExit;
use granary_engine::{Address, Engine, Minter, Outcome, U256};
use granary_hub::PriceBook;
use serde::{Serialize, Serializer};

pub fn ser_u256<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub fn ser_u256_pair<S: Serializer>(v: &[U256; 2], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(2))?;
    seq.serialize_element(&v[0].to_string())?;
    seq.serialize_element(&v[1].to_string())?;
    seq.end()
}

/// Base units as a float of whole tokens (analytics only).
pub fn units_f64(v: U256, decimals: u8) -> f64 {
    let f: f64 = v.into();
    f / 10f64.powi(i32::from(decimals))
}

/// Base units as a decimal string of whole tokens, exact (`1500000` with 6 decimals → `1.5`).
pub fn format_units(v: U256, decimals: u8) -> String {
    let s = v.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return s;
    }
    let (int, frac) = if s.len() > d {
        (s[..s.len() - d].to_string(), s[s.len() - d..].to_string())
    } else {
        ("0".to_string(), format!("{}{}", "0".repeat(d - s.len()), s))
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { int } else { format!("{int}.{frac}") }
}

/// Parse whole tokens (`1.5`) into base units, exactly; more decimals than the token has, a
/// negative or malformed number, or an overflow is an error naming the fix.
pub fn parse_units(text: &str, decimals: u8) -> Result<U256, String> {
    let t = text.trim().replace('_', "");
    if t.is_empty() {
        return Err("is empty: give an amount such as 1.5".into());
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t.as_str(), ""),
    };
    if !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || (int.is_empty() && frac.is_empty())
    {
        return Err(format!("`{text}` is not a decimal number: give digits with at most one point, e.g. 1.5"));
    }
    if frac.len() > usize::from(decimals) {
        return Err(format!("`{text}` has more than {decimals} decimals, the token's precision"));
    }
    let digits = format!("{}{}{}", int, frac, "0".repeat(usize::from(decimals) - frac.len()));
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(digits, 10).map_err(|_| format!("`{text}` overflows 256 bits"))
}

/// Parse a base-unit amount: a decimal string (or a JSON number that fits u64).
pub fn parse_base_units(text: &str) -> Result<U256, String> {
    // No trimming: the API takes exactly the digits its OpenAPI document describes.
    let t = text;
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not a whole number of base units: give digits only, e.g. \"1000000\""));
    }
    U256::from_str_radix(t, 10).map_err(|_| format!("`{text}` overflows 256 bits"))
}

pub fn address(a: &Address) -> String {
    format!("{a:#x}")
}

/// An address: 40 hex digits, `0x` optional, either case; nothing around it (forms trim first).
pub fn parse_address(text: &str) -> Result<Address, String> {
    let t = text;
    let hex = t.strip_prefix("0x").unwrap_or(t);
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`{text}` is not an address: give 0x and 40 hex digits"));
    }
    hex.parse::<Address>().map_err(|e| format!("`{text}` is not an address: {e}"))
}

/// A short description of what a transaction did.
pub fn outcome_words(o: &Outcome) -> String {
    match o {
        Outcome::Done => "done".into(),
        Outcome::Liquidity { liquidity, amounts } => {
            format!("minted {liquidity} LP for {} and {}", amounts[0], amounts[1])
        }
        Outcome::Removed { amounts } => format!("returned {} and {}", amounts[0], amounts[1]),
        Outcome::Swapped { amount_in, amount_out, .. } => format!("swapped {amount_in} for {amount_out}"),
        Outcome::Reward(p) => format!("paid {} reward", p.reward),
        Outcome::Withdrawn { amount } => format!("withdrew {amount}"),
        Outcome::Staked { position, unlock_at } => format!("position {position}, unlocks at {unlock_at}"),
        Outcome::Claimed { reward, .. } => format!("claimed {reward}"),
        Outcome::Unstaked(u) => format!("returned {}, penalty {}, reward {}", u.amount, u.penalty, u.reward),
        Outcome::Queued { queue_id, eta } => format!("queued #{queue_id}, executable at {eta}"),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainDto {
    pub id: String,
    pub chain_id: u64,
    pub name: String,
    pub native_symbol: String,
    pub block_time_s: u64,
    pub block_number: u64,
    /// Chain time: seconds since the chain's genesis.
    pub now: u64,
    /// Unix time of `now`.
    pub unix: i64,
    #[serde(serialize_with = "ser_u256")]
    pub gas_price_wei: U256,
    pub native_usd: Option<f64>,
}

pub fn chains(engine: &Engine, book: &PriceBook, genesis_unix: i64) -> Vec<ChainDto> {
    engine
        .chains()
        .iter()
        .map(|c| ChainDto {
            id: c.id.clone(),
            chain_id: c.chain_id,
            name: c.name.clone(),
            native_symbol: c.native_symbol.clone(),
            block_time_s: c.block_time_s,
            block_number: c.block_number,
            now: c.now,
            unix: genesis_unix + c.now as i64,
            gas_price_wei: c.gas_price_wei,
            native_usd: native_usd(engine, book, &c.id),
        })
        .collect()
}

/// USD per native coin of a chain: the price of its wrapped token (`W` + symbol) or of the symbol.
pub fn native_usd(engine: &Engine, book: &PriceBook, chain: &str) -> Option<f64> {
    let cix = engine.chain_ix(chain).ok()?;
    let sym = &engine.chain(cix).native_symbol;
    let wrapped = format!("W{sym}");
    engine
        .tokens()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.chain == cix)
        .find(|(_, t)| t.symbol.eq_ignore_ascii_case(&wrapped) || t.symbol.eq_ignore_ascii_case(sym))
        .and_then(|(ix, _)| book.usd(ix))
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenDto {
    pub id: String,
    pub chain: String,
    pub symbol: String,
    pub decimals: u8,
    pub address: String,
    #[serde(serialize_with = "ser_u256")]
    pub total_supply: U256,
    /// `fixed`, `account`, `farm` or `lp`.
    pub minter: &'static str,
    pub price_usd: Option<f64>,
}

pub fn token(engine: &Engine, book: &PriceBook, ix: usize) -> TokenDto {
    let t = engine.token(ix);
    TokenDto {
        id: t.id.clone(),
        chain: engine.chain(t.chain).id.clone(),
        symbol: t.symbol.clone(),
        decimals: t.decimals,
        address: address(&t.address),
        total_supply: t.total_supply,
        minter: match t.minter {
            Minter::Nobody => "fixed",
            Minter::Account(_) => "account",
            Minter::Farm(_) => "farm",
            Minter::Pool(_) => "lp",
        },
        price_usd: book.usd(ix),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BalanceDto {
    pub chain: String,
    pub token: String,
    pub symbol: String,
    pub decimals: u8,
    #[serde(serialize_with = "ser_u256")]
    pub amount: U256,
    /// `amount` in whole tokens, exact.
    pub amount_tokens: String,
    pub value_usd: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LpPositionDto {
    pub chain: String,
    pub pool: String,
    pub opportunity: String,
    pub symbol: String,
    /// LP tokens in the wallet plus those staked in farms.
    #[serde(serialize_with = "ser_u256")]
    pub liquidity: U256,
    #[serde(serialize_with = "ser_u256")]
    pub liquidity_staked: U256,
    /// What the LP tokens redeem for now, per token.
    #[serde(serialize_with = "ser_u256_pair")]
    pub underlying: [U256; 2],
    pub value_usd: Option<f64>,
    /// Value of the deposited tokens had they been held (HODL), at today's prices.
    pub hodl_usd: Option<f64>,
    /// value − HODL: fees earned net of impermanent loss, still open.
    pub pnl_vs_hodl_usd: Option<f64>,
    /// Impermanent loss of the open position in %, from the price ratio since the deposit.
    pub il_pct: Option<f64>,
    /// Gained or lost against HODL by what was already removed.
    pub realised_vs_hodl_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FarmPositionDto {
    pub chain: String,
    pub farm_pool: String,
    pub opportunity: String,
    pub stake_symbol: String,
    pub stake_decimals: u8,
    /// What the farm's ledger records as staked (MasterChef `userInfo.amount`).
    #[serde(serialize_with = "ser_u256")]
    pub staked: U256,
    pub staked_usd: Option<f64>,
    /// Share of what the farm's pools record as staked in this token that the farm still holds:
    /// below 1 after a migrator or an exploit moved tokens out (what is missing cannot be withdrawn).
    pub backing: f64,
    #[serde(serialize_with = "ser_u256")]
    pub pending_reward: U256,
    pub reward_symbol: String,
    pub reward_decimals: u8,
    pub pending_reward_usd: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StakePositionDto {
    pub chain: String,
    pub position: u64,
    pub staking_pool: String,
    pub opportunity: String,
    pub stake_symbol: String,
    pub stake_decimals: u8,
    #[serde(serialize_with = "ser_u256")]
    pub amount: U256,
    pub amount_usd: Option<f64>,
    pub term_days: u32,
    pub boost_bps: u32,
    pub staked_at: u64,
    pub unlock_at: u64,
    pub unlock_unix: i64,
    pub locked: bool,
    #[serde(serialize_with = "ser_u256")]
    pub pending_reward: U256,
    pub reward_symbol: String,
    pub reward_decimals: u8,
    pub pending_reward_usd: Option<f64>,
    /// `free`, `forbidden` or `penalty`.
    pub early_exit: &'static str,
    /// Principal lost if unstaked now (zero once unlocked).
    #[serde(serialize_with = "ser_u256")]
    pub exit_penalty_now: U256,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountDto {
    pub address: String,
    /// Next nonce per chain id.
    pub nonces: std::collections::BTreeMap<String, u64>,
    pub balances: Vec<BalanceDto>,
    pub lp_positions: Vec<LpPositionDto>,
    pub farm_positions: Vec<FarmPositionDto>,
    pub stake_positions: Vec<StakePositionDto>,
    pub total_usd: f64,
}

fn value(engine: &Engine, book: &PriceBook, token: usize, amount: U256) -> Option<f64> {
    Some(units_f64(amount, engine.token(token).decimals) * book.usd(token)?)
}

/// Everything an account holds across chains.
pub fn account(engine: &Engine, book: &PriceBook, costs: &CostBook, genesis_unix: i64, who: Address) -> AccountDto {
    let mut nonces = std::collections::BTreeMap::new();
    for (ix, c) in engine.chains().iter().enumerate() {
        nonces.insert(c.id.clone(), engine.nonce(ix, who));
    }
    let mut total = 0.0;
    let mut balances = Vec::new();
    for (ix, t) in engine.tokens().iter().enumerate() {
        let amount = engine.balance(ix, who);
        if amount.is_zero() {
            continue;
        }
        let v = value(engine, book, ix, amount);
        if !matches!(t.minter, Minter::Pool(_)) {
            total += v.unwrap_or(0.0);
        }
        balances.push(BalanceDto {
            chain: engine.chain(t.chain).id.clone(),
            token: t.id.clone(),
            symbol: t.symbol.clone(),
            decimals: t.decimals,
            amount,
            amount_tokens: format_units(amount, t.decimals),
            value_usd: v,
        });
    }
    // Farm positions, and LP staked per pool.
    let mut farm_positions = Vec::new();
    let mut lp_staked: std::collections::BTreeMap<usize, U256> = Default::default();
    for (fp, holder, user) in engine.farm_users() {
        if holder != who || (user.amount.is_zero() && user.owed.is_zero()) {
            continue;
        }
        let p = engine.farm_pool(fp);
        let farm = engine.farm(p.farm);
        let pending = engine.farm_pending(fp, who).unwrap_or(U256::ZERO);
        if let Minter::Pool(pool) = engine.token(p.stake_token).minter {
            *lp_staked.entry(pool).or_default() += user.amount;
        }
        let sv = value(engine, book, p.stake_token, user.amount);
        let rv = value(engine, book, farm.reward_token, pending);
        // The farm holds every pool's stake of this token in one balance.
        let recorded = farm
            .pools
            .iter()
            .map(|&q| engine.farm_pool(q))
            .filter(|q| q.stake_token == p.stake_token)
            .fold(U256::ZERO, |a, q| a.saturating_add(q.total_staked));
        let held = engine.balance(p.stake_token, farm.address);
        let backing = if recorded.is_zero() { 1.0 } else { (units_f64(held, 0) / units_f64(recorded, 0)).min(1.0) };
        total += sv.unwrap_or(0.0) * backing;
        farm_positions.push(FarmPositionDto {
            chain: engine.chain(farm.chain).id.clone(),
            farm_pool: p.id.clone(),
            opportunity: format!("farm:{}", p.id),
            stake_symbol: engine.token(p.stake_token).symbol.clone(),
            stake_decimals: engine.token(p.stake_token).decimals,
            staked: user.amount,
            staked_usd: sv.map(|v| v * backing),
            backing,
            pending_reward: pending,
            reward_symbol: engine.token(farm.reward_token).symbol.clone(),
            reward_decimals: engine.token(farm.reward_token).decimals,
            pending_reward_usd: rv,
        });
    }
    // LP positions: every pool whose LP token the account holds or stakes, or has a basis in.
    let mut lp_positions = Vec::new();
    for (ix, pool) in engine.pools().iter().enumerate() {
        let in_wallet = engine.balance(pool.lp_token, who);
        let staked = lp_staked.get(&ix).copied().unwrap_or(U256::ZERO);
        let basis = costs.lp.get(&(who, ix));
        let liquidity = in_wallet.saturating_add(staked);
        if liquidity.is_zero() && basis.is_none_or(|b| b.realised_fees_and_il_usd == 0.0) {
            continue;
        }
        let supply = engine.token(pool.lp_token).total_supply;
        let underlying = if supply.is_zero() {
            [U256::ZERO; 2]
        } else {
            [
                pool.reserves[0].checked_mul(liquidity).map(|v| v / supply).unwrap_or(U256::ZERO),
                pool.reserves[1].checked_mul(liquidity).map(|v| v / supply).unwrap_or(U256::ZERO),
            ]
        };
        let val = |a: [U256; 2]| -> Option<f64> {
            Some(value(engine, book, pool.tokens[0], a[0])? + value(engine, book, pool.tokens[1], a[1])?)
        };
        let value_usd = val(underlying);
        let (hodl_usd, il_pct, realised) = match basis {
            Some(b) => (val(b.deposited), il_of(b, underlying), b.realised_fees_and_il_usd),
            None => (None, None, 0.0),
        };
        if let Some(v) = value_usd {
            total += v - value(engine, book, pool.lp_token, staked).unwrap_or(0.0).min(v);
        }
        lp_positions.push(LpPositionDto {
            chain: engine.chain(pool.chain).id.clone(),
            pool: pool.id.clone(),
            opportunity: format!("pool:{}", pool.id),
            symbol: format!("{}-{}", engine.token(pool.tokens[0]).symbol, engine.token(pool.tokens[1]).symbol),
            liquidity,
            liquidity_staked: staked,
            underlying,
            value_usd,
            hodl_usd,
            pnl_vs_hodl_usd: value_usd.zip(hodl_usd).map(|(v, h)| v - h),
            il_pct,
            realised_vs_hodl_usd: realised,
        });
    }
    let mut stake_positions = Vec::new();
    for pos in engine.positions().filter(|p| p.owner == who) {
        let sp = engine.staking_pool(pos.pool);
        let now = engine.now(sp.chain);
        let pending = engine.position_pending(pos.id).unwrap_or(U256::ZERO);
        let locked = now < pos.unlock_at;
        let (early_exit, penalty) = match sp.early_exit {
            _ if !locked => ("free", U256::ZERO),
            EarlyExit::Forbidden => ("forbidden", U256::ZERO),
            EarlyExit::Penalty { penalty_bps, .. } => (
                "penalty",
                pos.amount
                    .checked_mul(U256::from(penalty_bps))
                    .map(|v| v / U256::from(10_000u32))
                    .unwrap_or(U256::ZERO),
            ),
        };
        let av = value(engine, book, sp.stake_token, pos.amount);
        total += av.unwrap_or(0.0);
        stake_positions.push(StakePositionDto {
            chain: engine.chain(sp.chain).id.clone(),
            position: pos.id,
            staking_pool: sp.id.clone(),
            opportunity: format!("stake:{}:{}d", sp.id, pos.term_days),
            stake_symbol: engine.token(sp.stake_token).symbol.clone(),
            stake_decimals: engine.token(sp.stake_token).decimals,
            amount: pos.amount,
            amount_usd: av,
            term_days: pos.term_days,
            boost_bps: pos.boost_bps,
            staked_at: pos.staked_at,
            unlock_at: pos.unlock_at,
            unlock_unix: genesis_unix + pos.unlock_at as i64,
            locked,
            pending_reward: pending,
            reward_symbol: engine.token(sp.reward_token).symbol.clone(),
            reward_decimals: engine.token(sp.reward_token).decimals,
            pending_reward_usd: value(engine, book, sp.reward_token, pending),
            early_exit,
            exit_penalty_now: penalty,
        });
    }
    AccountDto {
        address: address(&who),
        nonces,
        balances,
        lp_positions,
        farm_positions,
        stake_positions,
        total_usd: total,
    }
}

/// IL of an open position in %, from the price ratio r of the pool now vs. at the deposit:
/// `IL(r) = 2·√r/(1+r) − 1` (SPEC §3), with r = (y/x now)/(y/x deposited).
fn il_of(b: &LpBasis, underlying: [U256; 2]) -> Option<f64> {
    let f = |v: U256| -> f64 { v.into() };
    let (x0, y0, x1, y1) = (f(b.deposited[0]), f(b.deposited[1]), f(underlying[0]), f(underlying[1]));
    if x0 <= 0.0 || y0 <= 0.0 || x1 <= 0.0 || y1 <= 0.0 {
        return None;
    }
    let r = (y1 / x1) / (y0 / x0);
    Some(granary_hub::il::il_closed_form(r) * 100.0)
}
