//! The canonical binary encoding: big-endian integers, length-prefixed strings and lists.
//! It is what transactions travel and are journaled as, and what the state hash is taken over,
//! so it must never depend on memory layout or map iteration order.

use crate::action::Action;
use crate::error::{EngineError, Result};
use crate::farm::Funding;
use crate::math::U256;
use crate::staking::{EarlyExit, PenaltyTo, Term};
use alloy_primitives::Address;

/// keccak256 of `bytes` (re-exported for layers that hash state without depending on alloy).
pub fn keccak(bytes: &[u8]) -> [u8; 32] {
    alloy_primitives::keccak256(bytes).0
}

/// Most ids or amounts one action may carry (bounds decoding work).
pub const MAX_PARTS: usize = 64;
/// Longest string field.
pub const MAX_STR: usize = 256;

#[derive(Debug, Default, Clone)]
pub struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u256(&mut self, v: U256) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes::<32>());
        self
    }
    pub fn addr(&mut self, a: Address) -> &mut Self {
        self.buf.extend_from_slice(a.as_slice());
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    pub fn opt_addr(&mut self, a: Option<Address>) -> &mut Self {
        match a {
            Some(a) => self.u8(1).addr(a),
            None => self.u8(0),
        }
    }
}

pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn short() -> EngineError {
    EngineError::Decode("the input ends early".into())
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(short)?;
        let s = self.buf.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(b))
    }
    pub fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    pub fn u256(&mut self) -> Result<U256> {
        Ok(U256::from_be_slice(self.take(32)?))
    }
    pub fn addr(&mut self) -> Result<Address> {
        Ok(Address::from_slice(self.take(20)?))
    }
    /// Exactly `N` raw bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn bytes(&mut self, max: usize) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(EngineError::Decode(format!("a field of {n} bytes exceeds {max}")));
        }
        self.take(n)
    }
    pub fn str(&mut self) -> Result<String> {
        let b = self.bytes(MAX_STR)?;
        String::from_utf8(b.to_vec()).map_err(|_| EngineError::Decode("a string is not UTF-8".into()))
    }
    pub fn finish(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(EngineError::Decode(format!("{} trailing bytes", self.buf.len() - self.pos)))
        }
    }
}

/// An action as `(kind, ids, amounts)`: the shape signed as EIP-712 `Action(string kind,
/// string[] ids,uint256[] amounts)` and encoded on the wire. Addresses travel as 0x-hex ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionParts {
    pub kind: String,
    pub ids: Vec<String>,
    pub amounts: Vec<U256>,
}

fn hex(a: &Address) -> String {
    format!("{a:#x}")
}
fn opt_hex(a: &Option<Address>) -> String {
    a.as_ref().map(hex).unwrap_or_default()
}
fn u(x: u64) -> U256 {
    U256::from(x)
}

impl Action {
    pub fn to_parts(&self) -> ActionParts {
        use Action::*;
        let (ids, amounts): (Vec<String>, Vec<U256>) = match self {
            Transfer { token, to, amount } => (vec![token.clone(), hex(to)], vec![*amount]),
            CreateToken { id, chain_id, symbol, decimals, initial_supply } => {
                (vec![id.clone(), symbol.clone()], vec![u(*chain_id), u(u64::from(*decimals)), *initial_supply])
            }
            Mint { token, to, amount } => (vec![token.clone(), hex(to)], vec![*amount]),
            CreatePool { id, tokens, fee_bps } => {
                (vec![id.clone(), tokens[0].clone(), tokens[1].clone()], vec![u(u64::from(*fee_bps))])
            }
            SetFeeTo { pool, fee_to } => (vec![pool.clone(), opt_hex(fee_to)], vec![]),
            AddLiquidity { pool, amounts, min } => (vec![pool.clone()], vec![amounts[0], amounts[1], min[0], min[1]]),
            RemoveLiquidity { pool, liquidity, min } => (vec![pool.clone()], vec![*liquidity, min[0], min[1]]),
            SwapExactIn { path, token_in, amount_in, min_out } => {
                let mut ids = vec![token_in.clone()];
                ids.extend(path.iter().cloned());
                (ids, vec![*amount_in, *min_out])
            }
            SwapExactOut { path, token_in, amount_out, max_in } => {
                let mut ids = vec![token_in.clone()];
                ids.extend(path.iter().cloned());
                (ids, vec![*amount_out, *max_in])
            }
            CreateFarm { id, reward_token, reward_per_second, start, end, funding, timelock_delay_s } => {
                let f = match funding {
                    Funding::Minted => "minted",
                    Funding::Budget => "budget",
                };
                (
                    vec![id.clone(), reward_token.clone(), f.to_string()],
                    vec![*reward_per_second, u(*start), u(end.unwrap_or(0)), u(*timelock_delay_s)],
                )
            }
            AddFarmPool { id, farm, stake_token, alloc_point, deposit_fee_bps } => (
                vec![id.clone(), farm.clone(), stake_token.clone()],
                vec![u(*alloc_point), u(u64::from(*deposit_fee_bps))],
            ),
            SetAllocPoint { farm_pool, alloc_point } => (vec![farm_pool.clone()], vec![u(*alloc_point)]),
            SetRewardPerSecond { farm, reward_per_second } => (vec![farm.clone()], vec![*reward_per_second]),
            SetMigrator { farm, migrator } => (vec![farm.clone(), opt_hex(migrator)], vec![]),
            SetPaused { farm, paused } => (vec![farm.clone()], vec![u(u64::from(*paused))]),
            OwnerMint { farm, to, amount } => (vec![farm.clone(), hex(to)], vec![*amount]),
            Migrate { farm_pool } => (vec![farm_pool.clone()], vec![]),
            FundFarm { farm, amount } => (vec![farm.clone()], vec![*amount]),
            QueueAdmin { farm, action } => {
                let inner = action.to_parts();
                let mut ids = vec![farm.clone(), inner.kind];
                ids.extend(inner.ids);
                (ids, inner.amounts)
            }
            ExecuteQueued { farm, queue_id } => (vec![farm.clone()], vec![u(*queue_id)]),
            Deposit { farm_pool, amount } | Withdraw { farm_pool, amount } => (vec![farm_pool.clone()], vec![*amount]),
            Harvest { farm_pool } | EmergencyWithdraw { farm_pool } => (vec![farm_pool.clone()], vec![]),
            CreateStakingPool { id, stake_token, reward_token, terms, early_exit } => {
                let (mode, bps, forfeit) = match early_exit {
                    EarlyExit::Forbidden => ("forbidden", 0, false),
                    EarlyExit::Penalty { penalty_bps, forfeit_rewards, to: PenaltyTo::Treasury } => {
                        ("treasury", *penalty_bps, *forfeit_rewards)
                    }
                    EarlyExit::Penalty { penalty_bps, forfeit_rewards, to: PenaltyTo::Stakers } => {
                        ("stakers", *penalty_bps, *forfeit_rewards)
                    }
                };
                let mut amounts = vec![u(u64::from(bps)), u(u64::from(forfeit))];
                for t in terms {
                    amounts.push(u(u64::from(t.days)));
                    amounts.push(u(u64::from(t.boost_bps)));
                }
                (vec![id.clone(), stake_token.clone(), reward_token.clone(), mode.to_string()], amounts)
            }
            NotifyReward { staking_pool, amount, duration_s } => {
                (vec![staking_pool.clone()], vec![*amount, u(*duration_s)])
            }
            Stake { staking_pool, amount, term_days } => {
                (vec![staking_pool.clone()], vec![*amount, u(u64::from(*term_days))])
            }
            Unstake { position } | Claim { position } => (vec![], vec![u(*position)]),
        };
        ActionParts { kind: self.kind().to_string(), ids, amounts }
    }

    /// The inverse of [`Action::to_parts`]; every malformed shape is an error.
    pub fn from_parts(p: &ActionParts) -> Result<Action> {
        Self::from_parts_owned(p.clone())
    }

    /// As [`Action::from_parts`], moving the strings out of `p` instead of copying them.
    pub fn from_parts_owned(mut p: ActionParts) -> Result<Action> {
        Self::from_parts_depth(&p.kind, &mut p.ids, &p.amounts, 0)
    }

    fn from_parts_depth(kind: &str, ids: &mut [String], am: &[U256], depth: u8) -> Result<Action> {
        use Action::*;
        let bad = |why: &str| EngineError::Decode(format!("{kind}: {why}"));
        let shape = |n_ids: usize, n_am: usize| -> Result<()> {
            if ids.len() == n_ids && am.len() == n_am {
                Ok(())
            } else {
                Err(EngineError::Decode(format!("{kind} takes {n_ids} ids and {n_am} amounts")))
            }
        };
        let u64_of = |v: U256| -> Result<u64> { u64::try_from(v).map_err(|_| bad("a number exceeds 64 bits")) };
        let u32_of = |v: U256| -> Result<u32> { u32::try_from(v).map_err(|_| bad("a number exceeds 32 bits")) };
        // Only the form `to_parts` writes (lowercase 0x-hex) is accepted, so that one transaction has
        // one encoding and one EIP-712 digest.
        let addr = |s: &str| -> Result<Address> {
            let canonical = s.len() == 42
                && s.starts_with("0x")
                && s[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !canonical {
                return Err(bad("an address id is 0x + 40 lowercase hex digits"));
            }
            s.parse::<Address>().map_err(|_| bad("an address id is 0x + 40 lowercase hex digits"))
        };
        let opt_addr = |s: &str| -> Result<Option<Address>> { if s.is_empty() { Ok(None) } else { addr(s).map(Some) } };
        let flag = |v: U256| -> Result<bool> {
            match u64_of(v)? {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(bad("a flag is 0 or 1")),
            }
        };
        Ok(match kind {
            "transfer" => {
                shape(2, 1)?;
                Transfer { token: std::mem::take(&mut ids[0]), to: addr(&ids[1])?, amount: am[0] }
            }
            "create_token" => {
                shape(2, 3)?;
                let decimals = u8::try_from(u32_of(am[1])?).map_err(|_| bad("decimals exceed 255"))?;
                CreateToken {
                    id: std::mem::take(&mut ids[0]),
                    chain_id: u64_of(am[0])?,
                    symbol: std::mem::take(&mut ids[1]),
                    decimals,
                    initial_supply: am[2],
                }
            }
            "mint" => {
                shape(2, 1)?;
                Mint { token: std::mem::take(&mut ids[0]), to: addr(&ids[1])?, amount: am[0] }
            }
            "create_pool" => {
                shape(3, 1)?;
                CreatePool {
                    id: std::mem::take(&mut ids[0]),
                    tokens: [std::mem::take(&mut ids[1]), std::mem::take(&mut ids[2])],
                    fee_bps: u32_of(am[0])?,
                }
            }
            "set_fee_to" => {
                shape(2, 0)?;
                SetFeeTo { pool: std::mem::take(&mut ids[0]), fee_to: opt_addr(&ids[1])? }
            }
            "add_liquidity" => {
                shape(1, 4)?;
                AddLiquidity { pool: std::mem::take(&mut ids[0]), amounts: [am[0], am[1]], min: [am[2], am[3]] }
            }
            "remove_liquidity" => {
                shape(1, 3)?;
                RemoveLiquidity { pool: std::mem::take(&mut ids[0]), liquidity: am[0], min: [am[1], am[2]] }
            }
            "swap_exact_in" | "swap_exact_out" => {
                if ids.len() < 2 || am.len() != 2 {
                    return Err(bad("takes a token and at least one pool, and 2 amounts"));
                }
                let (token_in, path) =
                    (std::mem::take(&mut ids[0]), ids[1..].iter_mut().map(std::mem::take).collect::<Vec<_>>());
                if kind == "swap_exact_in" {
                    SwapExactIn { path, token_in, amount_in: am[0], min_out: am[1] }
                } else {
                    SwapExactOut { path, token_in, amount_out: am[0], max_in: am[1] }
                }
            }
            "create_farm" => {
                shape(3, 4)?;
                let funding = match ids[2].as_str() {
                    "minted" => Funding::Minted,
                    "budget" => Funding::Budget,
                    _ => return Err(bad("funding is minted or budget")),
                };
                let end = u64_of(am[2])?;
                CreateFarm {
                    id: std::mem::take(&mut ids[0]),
                    reward_token: std::mem::take(&mut ids[1]),
                    reward_per_second: am[0],
                    start: u64_of(am[1])?,
                    end: if end == 0 { None } else { Some(end) },
                    funding,
                    timelock_delay_s: u64_of(am[3])?,
                }
            }
            "add_farm_pool" => {
                shape(3, 2)?;
                AddFarmPool {
                    id: std::mem::take(&mut ids[0]),
                    farm: std::mem::take(&mut ids[1]),
                    stake_token: std::mem::take(&mut ids[2]),
                    alloc_point: u64_of(am[0])?,
                    deposit_fee_bps: u32_of(am[1])?,
                }
            }
            "set_alloc_point" => {
                shape(1, 1)?;
                SetAllocPoint { farm_pool: std::mem::take(&mut ids[0]), alloc_point: u64_of(am[0])? }
            }
            "set_reward_per_second" => {
                shape(1, 1)?;
                SetRewardPerSecond { farm: std::mem::take(&mut ids[0]), reward_per_second: am[0] }
            }
            "set_migrator" => {
                shape(2, 0)?;
                SetMigrator { farm: std::mem::take(&mut ids[0]), migrator: opt_addr(&ids[1])? }
            }
            "set_paused" => {
                shape(1, 1)?;
                SetPaused { farm: std::mem::take(&mut ids[0]), paused: flag(am[0])? }
            }
            "owner_mint" => {
                shape(2, 1)?;
                OwnerMint { farm: std::mem::take(&mut ids[0]), to: addr(&ids[1])?, amount: am[0] }
            }
            "migrate" => {
                shape(1, 0)?;
                Migrate { farm_pool: std::mem::take(&mut ids[0]) }
            }
            "fund_farm" => {
                shape(1, 1)?;
                FundFarm { farm: std::mem::take(&mut ids[0]), amount: am[0] }
            }
            "queue_admin" => {
                if depth > 0 || ids.len() < 2 {
                    return Err(bad("takes a farm, an inner kind and the inner action; no nesting"));
                }
                let (head, rest) = ids.split_at_mut(2);
                let inner = Self::from_parts_depth(&head[1], rest, am, depth + 1)?;
                QueueAdmin { farm: std::mem::take(&mut ids[0]), action: Box::new(inner) }
            }
            "execute_queued" => {
                shape(1, 1)?;
                ExecuteQueued { farm: std::mem::take(&mut ids[0]), queue_id: u64_of(am[0])? }
            }
            "deposit" => {
                shape(1, 1)?;
                Deposit { farm_pool: std::mem::take(&mut ids[0]), amount: am[0] }
            }
            "withdraw" => {
                shape(1, 1)?;
                Withdraw { farm_pool: std::mem::take(&mut ids[0]), amount: am[0] }
            }
            "harvest" => {
                shape(1, 0)?;
                Harvest { farm_pool: std::mem::take(&mut ids[0]) }
            }
            "emergency_withdraw" => {
                shape(1, 0)?;
                EmergencyWithdraw { farm_pool: std::mem::take(&mut ids[0]) }
            }
            "create_staking_pool" => {
                if ids.len() != 4 || am.len() < 2 || !am.len().is_multiple_of(2) {
                    return Err(bad("takes 4 ids and penalty, forfeit, then (days, boost) pairs"));
                }
                let (bps, forfeit) = (u32_of(am[0])?, flag(am[1])?);
                let early_exit = match ids[3].as_str() {
                    "forbidden" if bps == 0 && !forfeit => EarlyExit::Forbidden,
                    "forbidden" => {
                        return Err(bad("a forbidden early exit carries penalty 0 and forfeit 0"));
                    }
                    "treasury" => {
                        EarlyExit::Penalty { penalty_bps: bps, forfeit_rewards: forfeit, to: PenaltyTo::Treasury }
                    }
                    "stakers" => {
                        EarlyExit::Penalty { penalty_bps: bps, forfeit_rewards: forfeit, to: PenaltyTo::Stakers }
                    }
                    _ => return Err(bad("early exit is forbidden, treasury or stakers")),
                };
                let terms = am[2..]
                    .chunks(2)
                    .map(|c| Ok(Term { days: u32_of(c[0])?, boost_bps: u32_of(c[1])? }))
                    .collect::<Result<Vec<_>>>()?;
                CreateStakingPool {
                    id: std::mem::take(&mut ids[0]),
                    stake_token: std::mem::take(&mut ids[1]),
                    reward_token: std::mem::take(&mut ids[2]),
                    terms,
                    early_exit,
                }
            }
            "notify_reward" => {
                shape(1, 2)?;
                NotifyReward { staking_pool: std::mem::take(&mut ids[0]), amount: am[0], duration_s: u64_of(am[1])? }
            }
            "stake" => {
                shape(1, 2)?;
                Stake { staking_pool: std::mem::take(&mut ids[0]), amount: am[0], term_days: u32_of(am[1])? }
            }
            "unstake" => {
                shape(0, 1)?;
                Unstake { position: u64_of(am[0])? }
            }
            "claim" => {
                shape(0, 1)?;
                Claim { position: u64_of(am[0])? }
            }
            _ => return Err(EngineError::Decode(format!("unknown action kind `{kind}`"))),
        })
    }

    /// Canonical bytes of the action.
    pub fn encode(&self, e: &mut Encoder) {
        let p = self.to_parts();
        e.str(&p.kind).u32(p.ids.len() as u32);
        for id in &p.ids {
            e.str(id);
        }
        e.u32(p.amounts.len() as u32);
        for a in &p.amounts {
            e.u256(*a);
        }
    }

    pub fn decode(d: &mut Decoder<'_>) -> Result<Action> {
        let kind = d.str()?;
        let n = d.u32()? as usize;
        if n > MAX_PARTS {
            return Err(EngineError::Decode(format!("{n} ids exceed {MAX_PARTS}")));
        }
        let ids = (0..n).map(|_| d.str()).collect::<Result<Vec<_>>>()?;
        let n = d.u32()? as usize;
        if n > MAX_PARTS {
            return Err(EngineError::Decode(format!("{n} amounts exceed {MAX_PARTS}")));
        }
        let amounts = (0..n).map(|_| d.u256()).collect::<Result<Vec<_>>>()?;
        Action::from_parts_owned(ActionParts { kind, ids, amounts })
    }
}
