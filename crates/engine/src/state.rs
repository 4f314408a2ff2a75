//! The world state of every chain and the undo log that makes each action all-or-nothing.
//!
//! Objects live in vectors indexed by creation order (deterministic) and are found by their
//! string id through `BTreeMap`s. Every mutation goes through a logging setter that first records
//! the old value in `undo`; `Engine::execute` rolls the log back when an action fails, so a rejected
//! input leaves the state bit-for-bit unchanged (the state hash proves it in the tests).

use crate::amm::{CpPool, PoolState};
use crate::error::{EngineError, Result};
use crate::farm::{Farm, FarmPool, FarmUser};
use crate::math::{self, U256};
use crate::staking::{Position, StakingPool};
use alloy_primitives::{Address, keccak256};
use std::collections::BTreeMap;

/// Hash maps keyed by (index, address). FxHash: addresses are keccak outputs, already well
/// spread, so a multiply-rotate hash is enough and several times cheaper than SipHash. Iteration
/// order never reaches results (the state encoding sorts).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

pub type ChainIx = usize;
pub type TokenIx = usize;
pub type PoolIx = usize;
pub type FarmIx = usize;
pub type FarmPoolIx = usize;
pub type StakingIx = usize;
pub type PositionId = u64;

/// Gas units an action costs, for the hub's entry/exit cost estimates (typical mainnet figures
/// for the reference contracts: Router02 swap ~110k, addLiquidity ~150k, MasterChef deposit ~120k).
pub mod gas {
    pub const TRANSFER: u64 = 52_000;
    pub const SWAP_HOP: u64 = 110_000;
    pub const ADD_LIQUIDITY: u64 = 150_000;
    pub const REMOVE_LIQUIDITY: u64 = 130_000;
    pub const FARM_DEPOSIT: u64 = 120_000;
    pub const FARM_WITHDRAW: u64 = 110_000;
    pub const FARM_HARVEST: u64 = 90_000;
    pub const STAKE: u64 = 100_000;
    pub const UNSTAKE: u64 = 90_000;
    pub const CLAIM: u64 = 70_000;
    pub const ADMIN: u64 = 60_000;
    pub const DEPLOY: u64 = 2_000_000;
}

/// One chain: its EIP-155 id, its clock and its gas price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub id: String,
    pub chain_id: u64,
    pub name: String,
    pub native_symbol: String,
    pub block_time_s: u64,
    /// Gas price in wei of the native token (the hub multiplies by `gas::*` units).
    pub gas_price_wei: U256,
    /// Seconds since the chain's genesis; moves only with `advance`.
    pub now: u64,
    pub block_number: u64,
}

/// The seal of a closed block: what a journal records and a replay must reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSeal {
    pub chain_id: u64,
    pub number: u64,
    pub timestamp: u64,
    pub state_hash: alloy_primitives::B256,
}

/// An ERC-20-like token on one chain. Who may mint it is data the risk engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub chain: ChainIx,
    pub address: Address,
    pub symbol: String,
    pub decimals: u8,
    pub total_supply: U256,
    pub minter: Minter,
}

/// Who may mint a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minter {
    /// An externally owned account (an owner key: a rug signal when it is not a protocol).
    Account(Address),
    /// The LP token of a constant-product pool: minted only by `mint`.
    Pool(PoolIx),
    /// A farm's reward token, minted by the farm as rewards accrue (MasterChef owns SushiToken).
    Farm(FarmIx),
    /// Fixed supply: nobody can mint.
    Nobody,
}

#[derive(Debug, Clone)]
pub(crate) enum Undo {
    Balance(TokenIx, Address, U256),
    Token(TokenIx, Box<Token>),
    Chain(ChainIx, Box<Chain>),
    /// A pool's previous state is on `pool_undo` (kept apart to keep this enum small).
    Pool,
    Farm(FarmIx, Box<Farm>),
    FarmPool(FarmPoolIx, Box<FarmPool>),
    FarmUser(FarmPoolIx, Address, Option<FarmUser>),
    Staking(StakingIx, Box<StakingPool>),
    Position(PositionId, Option<Box<Position>>),
    NextPosition(PositionId),
    Nonce(ChainIx, Address, u64),
    Created(Kind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Chain,
    Token,
    Pool,
    Farm,
    FarmPool,
    Staking,
}

/// The whole multi-chain state. Pure: no I/O, no clock, no randomness, no hash-map iteration
/// order leaks into results (state hashing sorts).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub(crate) chains: Vec<Chain>,
    pub(crate) chain_by_id: BTreeMap<String, ChainIx>,
    pub(crate) chain_by_eip155: BTreeMap<u64, ChainIx>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) token_by_id: BTreeMap<String, TokenIx>,
    pub(crate) balances: HashMap<(TokenIx, Address), U256>,
    pub(crate) pools: Vec<CpPool>,
    pub(crate) pool_by_id: BTreeMap<String, PoolIx>,
    pub(crate) farms: Vec<Farm>,
    pub(crate) farm_by_id: BTreeMap<String, FarmIx>,
    pub(crate) farm_pools: Vec<FarmPool>,
    pub(crate) farm_pool_by_id: BTreeMap<String, FarmPoolIx>,
    pub(crate) farm_users: HashMap<(FarmPoolIx, Address), FarmUser>,
    pub(crate) staking_pools: Vec<StakingPool>,
    pub(crate) staking_by_id: BTreeMap<String, StakingIx>,
    pub(crate) positions: BTreeMap<PositionId, Position>,
    pub(crate) next_position: PositionId,
    pub(crate) nonces: HashMap<(ChainIx, Address), u64>,
    pub(crate) undo: Vec<Undo>,
    pub(crate) pool_undo: Vec<(PoolIx, PoolState)>,
}

/// The address that holds a protocol object's tokens, derived from its kind and id so that it is
/// stable across runs and cannot collide with a key-derived account in practice.
pub fn object_address(kind: &str, id: &str) -> Address {
    let mut pre = Vec::with_capacity(8 + kind.len() + id.len());
    pre.extend_from_slice(b"granary:");
    pre.extend_from_slice(kind.as_bytes());
    pre.push(b':');
    pre.extend_from_slice(id.as_bytes());
    Address::from_slice(&keccak256(&pre)[12..])
}

pub(crate) fn check_id(field: &'static str, id: &str) -> Result<()> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(field, "ids are 1–64 characters of A–Z, a–z, 0–9 and _-./:"))
    }
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    // ----- lookups -----

    pub fn chain_ix(&self, id: &str) -> Result<ChainIx> {
        self.chain_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownChain(id.to_string()))
    }
    pub fn chain_ix_by_eip155(&self, chain_id: u64) -> Result<ChainIx> {
        self.chain_by_eip155.get(&chain_id).copied().ok_or(EngineError::WrongChain { chain_id })
    }
    pub fn token_ix(&self, id: &str) -> Result<TokenIx> {
        self.token_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownToken(id.to_string()))
    }
    pub fn pool_ix(&self, id: &str) -> Result<PoolIx> {
        self.pool_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownPool(id.to_string()))
    }
    pub fn farm_ix(&self, id: &str) -> Result<FarmIx> {
        self.farm_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownFarm(id.to_string()))
    }
    pub fn farm_pool_ix(&self, id: &str) -> Result<FarmPoolIx> {
        self.farm_pool_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownFarmPool(id.to_string()))
    }
    pub fn staking_ix(&self, id: &str) -> Result<StakingIx> {
        self.staking_by_id.get(id).copied().ok_or_else(|| EngineError::UnknownStakingPool(id.to_string()))
    }

    pub fn chains(&self) -> &[Chain] {
        &self.chains
    }
    pub fn chain(&self, ix: ChainIx) -> &Chain {
        &self.chains[ix]
    }
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
    pub fn token(&self, ix: TokenIx) -> &Token {
        &self.tokens[ix]
    }
    pub fn pools(&self) -> &[CpPool] {
        &self.pools
    }
    pub fn pool(&self, ix: PoolIx) -> &CpPool {
        &self.pools[ix]
    }
    pub fn farms(&self) -> &[Farm] {
        &self.farms
    }
    pub fn farm(&self, ix: FarmIx) -> &Farm {
        &self.farms[ix]
    }
    pub fn farm_pools(&self) -> &[FarmPool] {
        &self.farm_pools
    }
    pub fn farm_pool(&self, ix: FarmPoolIx) -> &FarmPool {
        &self.farm_pools[ix]
    }
    pub fn farm_user(&self, fp: FarmPoolIx, who: Address) -> FarmUser {
        self.farm_users.get(&(fp, who)).copied().unwrap_or_default()
    }
    /// Every farm user with something recorded, as (farm pool, address, user); unordered.
    pub fn farm_users(&self) -> impl Iterator<Item = (FarmPoolIx, Address, &FarmUser)> {
        self.farm_users.iter().map(|((fp, a), u)| (*fp, *a, u))
    }
    pub fn staking_pools(&self) -> &[StakingPool] {
        &self.staking_pools
    }
    pub fn staking_pool(&self, ix: StakingIx) -> &StakingPool {
        &self.staking_pools[ix]
    }
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }
    pub fn position(&self, id: PositionId) -> Result<&Position> {
        self.positions.get(&id).ok_or_else(|| EngineError::UnknownPosition(id.to_string()))
    }
    pub fn now(&self, chain: ChainIx) -> u64 {
        self.chains[chain].now
    }
    pub fn balance(&self, token: TokenIx, holder: Address) -> U256 {
        self.balances.get(&(token, holder)).copied().unwrap_or(U256::ZERO)
    }
    /// The next nonce a transaction from `who` on `chain` must carry.
    pub fn nonce(&self, chain: ChainIx, who: Address) -> u64 {
        self.nonces.get(&(chain, who)).copied().unwrap_or(0)
    }
    /// Every (holder, balance) of a token, sorted by holder.
    pub fn holders(&self, token: TokenIx) -> Vec<(Address, U256)> {
        let mut v: Vec<_> =
            self.balances.iter().filter(|((t, _), _)| *t == token).map(|((_, a), b)| (*a, *b)).collect();
        v.sort_unstable();
        v
    }

    // ----- logged mutation -----

    pub(crate) fn set_balance(&mut self, token: TokenIx, holder: Address, value: U256) {
        let old = self.balance(token, holder);
        self.undo.push(Undo::Balance(token, holder, old));
        if value.is_zero() {
            self.balances.remove(&(token, holder));
        } else {
            self.balances.insert((token, holder), value);
        }
    }

    pub(crate) fn token_mut(&mut self, ix: TokenIx) -> &mut Token {
        self.undo.push(Undo::Token(ix, Box::new(self.tokens[ix].clone())));
        &mut self.tokens[ix]
    }
    pub(crate) fn chain_mut(&mut self, ix: ChainIx) -> &mut Chain {
        self.undo.push(Undo::Chain(ix, Box::new(self.chains[ix].clone())));
        &mut self.chains[ix]
    }
    /// Mutable access to a pool's state. Only the fields of [`PoolState`] may change after a pool
    /// is created (its identity — id, chain, tokens, fee — never does), so only those are logged.
    pub(crate) fn pool_mut(&mut self, ix: PoolIx) -> &mut CpPool {
        self.pool_undo.push((ix, PoolState::of(&self.pools[ix])));
        self.undo.push(Undo::Pool);
        &mut self.pools[ix]
    }
    pub(crate) fn farm_mut(&mut self, ix: FarmIx) -> &mut Farm {
        self.undo.push(Undo::Farm(ix, Box::new(self.farms[ix].clone())));
        &mut self.farms[ix]
    }
    pub(crate) fn farm_pool_mut(&mut self, ix: FarmPoolIx) -> &mut FarmPool {
        self.undo.push(Undo::FarmPool(ix, Box::new(self.farm_pools[ix].clone())));
        &mut self.farm_pools[ix]
    }
    pub(crate) fn set_farm_user(&mut self, fp: FarmPoolIx, who: Address, user: FarmUser) {
        let old = self.farm_users.get(&(fp, who)).copied();
        self.undo.push(Undo::FarmUser(fp, who, old));
        if user == FarmUser::default() {
            self.farm_users.remove(&(fp, who));
        } else {
            self.farm_users.insert((fp, who), user);
        }
    }
    pub(crate) fn staking_mut(&mut self, ix: StakingIx) -> &mut StakingPool {
        self.undo.push(Undo::Staking(ix, Box::new(self.staking_pools[ix].clone())));
        &mut self.staking_pools[ix]
    }
    pub(crate) fn set_position(&mut self, id: PositionId, pos: Option<Position>) {
        let old = match pos {
            Some(p) => self.positions.insert(id, p),
            None => self.positions.remove(&id),
        };
        self.undo.push(Undo::Position(id, old.map(Box::new)));
    }
    pub(crate) fn take_position_id(&mut self) -> PositionId {
        self.undo.push(Undo::NextPosition(self.next_position));
        self.next_position += 1;
        self.next_position - 1
    }
    pub(crate) fn bump_nonce(&mut self, chain: ChainIx, who: Address) {
        let old = self.nonce(chain, who);
        self.undo.push(Undo::Nonce(chain, who, old));
        self.nonces.insert((chain, who), old + 1);
    }
    pub(crate) fn created(&mut self, kind: Kind) {
        self.undo.push(Undo::Created(kind));
    }

    /// Undo every logged mutation back to `mark` (newest first).
    pub(crate) fn rollback(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some(entry) = self.undo.pop() else { break };
            match entry {
                Undo::Balance(t, a, v) => {
                    if v.is_zero() {
                        self.balances.remove(&(t, a));
                    } else {
                        self.balances.insert((t, a), v);
                    }
                }
                Undo::Token(i, v) => self.tokens[i] = *v,
                Undo::Chain(i, v) => self.chains[i] = *v,
                Undo::Pool => {
                    if let Some((i, v)) = self.pool_undo.pop() {
                        v.restore(&mut self.pools[i]);
                    }
                }
                Undo::Farm(i, v) => self.farms[i] = *v,
                Undo::FarmPool(i, v) => self.farm_pools[i] = *v,
                Undo::FarmUser(fp, a, v) => match v {
                    Some(u) => {
                        self.farm_users.insert((fp, a), u);
                    }
                    None => {
                        self.farm_users.remove(&(fp, a));
                    }
                },
                Undo::Staking(i, v) => self.staking_pools[i] = *v,
                Undo::Position(id, v) => match v {
                    Some(p) => {
                        self.positions.insert(id, *p);
                    }
                    None => {
                        self.positions.remove(&id);
                    }
                },
                Undo::NextPosition(n) => self.next_position = n,
                Undo::Nonce(c, a, n) => {
                    if n == 0 {
                        self.nonces.remove(&(c, a));
                    } else {
                        self.nonces.insert((c, a), n);
                    }
                }
                Undo::Created(kind) => self.uncreate(kind),
            }
        }
    }

    fn uncreate(&mut self, kind: Kind) {
        match kind {
            Kind::Chain => {
                if let Some(c) = self.chains.pop() {
                    self.chain_by_id.remove(&c.id);
                    self.chain_by_eip155.remove(&c.chain_id);
                }
            }
            Kind::Token => {
                if let Some(t) = self.tokens.pop() {
                    self.token_by_id.remove(&t.id);
                }
            }
            Kind::Pool => {
                if let Some(p) = self.pools.pop() {
                    self.pool_by_id.remove(&p.id);
                }
            }
            Kind::Farm => {
                if let Some(f) = self.farms.pop() {
                    self.farm_by_id.remove(&f.id);
                }
            }
            Kind::FarmPool => {
                if let Some(f) = self.farm_pools.pop() {
                    self.farm_pool_by_id.remove(&f.id);
                }
            }
            Kind::Staking => {
                if let Some(s) = self.staking_pools.pop() {
                    self.staking_by_id.remove(&s.id);
                }
            }
        }
    }

    // ----- token ledger -----

    /// Move `amount` of `token` from `from` to `to` (ERC-20 `transfer`). Two map lookups on the
    /// hot path: the sender's entry is updated in place, the receiver's through `entry`.
    pub(crate) fn transfer(&mut self, token: TokenIx, from: Address, to: Address, amount: U256) -> Result<()> {
        if amount.is_zero() || from == to {
            return Ok(());
        }
        let have = self.balance(token, from);
        if have < amount {
            return Err(EngineError::InsufficientBalance { token: self.tokens[token].id.clone(), have, need: amount });
        }
        let entry = self.balances.entry((token, to)).or_insert(U256::ZERO);
        let old_to = *entry;
        match old_to.checked_add(amount) {
            Some(v) => *entry = v,
            None => {
                if old_to.is_zero() {
                    self.balances.remove(&(token, to));
                }
                return Err(EngineError::Overflow);
            }
        }
        self.undo.push(Undo::Balance(token, to, old_to));
        let left = have - amount;
        if left.is_zero() {
            self.balances.remove(&(token, from));
        } else if let Some(b) = self.balances.get_mut(&(token, from)) {
            *b = left;
        }
        self.undo.push(Undo::Balance(token, from, have));
        Ok(())
    }

    /// Create `amount` of `token` for `to`; total supply grows by the same amount.
    pub(crate) fn mint_to(&mut self, token: TokenIx, to: Address, amount: U256) -> Result<()> {
        if amount.is_zero() {
            return Ok(());
        }
        let supply = math::add(self.tokens[token].total_supply, amount)?;
        let bal = math::add(self.balance(token, to), amount)?;
        self.token_mut(token).total_supply = supply;
        self.set_balance(token, to, bal);
        Ok(())
    }

    /// Destroy `amount` of `token` held by `from`.
    pub(crate) fn burn_from(&mut self, token: TokenIx, from: Address, amount: U256) -> Result<()> {
        let have = self.balance(token, from);
        if have < amount {
            return Err(EngineError::InsufficientBalance { token: self.tokens[token].id.clone(), have, need: amount });
        }
        let supply = math::sub(self.tokens[token].total_supply, amount)?;
        self.token_mut(token).total_supply = supply;
        self.set_balance(token, from, have - amount);
        Ok(())
    }

    // ----- system actions: the operator's powers over the world (genesis, faucet, time) -----

    /// Register a chain (an operator action). Its clock starts at 0.
    pub fn create_chain(&mut self, id: &str, chain_id: u64, name: &str, block_time_s: u64) -> Result<ChainIx> {
        let mark = self.undo.len();
        let r = self.new_chain(id, chain_id, name, block_time_s);
        self.finish(mark, r)
    }

    fn new_chain(&mut self, id: &str, chain_id: u64, name: &str, block_time_s: u64) -> Result<ChainIx> {
        check_id("id", id)?;
        if self.chain_by_id.contains_key(id) || self.chain_by_eip155.contains_key(&chain_id) {
            return Err(EngineError::DuplicateId(id.to_string()));
        }
        if name.len() > 64 {
            return Err(EngineError::invalid("name", "at most 64 bytes"));
        }
        if block_time_s == 0 {
            return Err(EngineError::invalid("block_time_s", "a block takes at least one second"));
        }
        let ix = self.chains.len();
        self.chains.push(Chain {
            id: id.to_string(),
            chain_id,
            name: name.to_string(),
            native_symbol: "ETH".to_string(),
            block_time_s,
            gas_price_wei: U256::from(1_000_000_000u64),
            now: 0,
            block_number: 0,
        });
        self.chain_by_id.insert(id.to_string(), ix);
        self.chain_by_eip155.insert(chain_id, ix);
        self.created(Kind::Chain);
        Ok(ix)
    }

    /// Set a chain's native gas token and gas price (for the hub's cost model).
    pub fn set_gas_model(&mut self, chain: ChainIx, native_symbol: &str, gas_price_wei: U256) -> Result<()> {
        if native_symbol.len() > 32 {
            return Err(EngineError::invalid("native_symbol", "at most 32 bytes"));
        }
        let c = self.chain_mut(chain);
        c.native_symbol = native_symbol.to_string();
        c.gas_price_wei = gas_price_wei;
        self.undo.clear();
        Ok(())
    }

    /// Register a token with a given minter (an operator action). The address is derived from
    /// chain and id.
    pub fn create_token(
        &mut self,
        id: &str,
        chain: ChainIx,
        symbol: &str,
        decimals: u8,
        minter: Minter,
    ) -> Result<TokenIx> {
        let mark = self.undo.len();
        let r = self.new_token(id, chain, symbol, decimals, minter);
        self.finish(mark, r)
    }

    /// Register a token inside an action (logged, rolled back if the action fails).
    pub(crate) fn new_token(
        &mut self,
        id: &str,
        chain: ChainIx,
        symbol: &str,
        decimals: u8,
        minter: Minter,
    ) -> Result<TokenIx> {
        check_id("id", id)?;
        if self.token_by_id.contains_key(id) {
            return Err(EngineError::DuplicateId(id.to_string()));
        }
        if symbol.len() > 32 {
            return Err(EngineError::invalid("symbol", "at most 32 bytes"));
        }
        if decimals > 36 {
            return Err(EngineError::invalid("decimals", "at most 36"));
        }
        let ix = self.tokens.len();
        let address = object_address(&format!("token:{}", self.chains[chain].chain_id), id);
        self.tokens.push(Token {
            id: id.to_string(),
            chain,
            address,
            symbol: symbol.to_string(),
            decimals,
            total_supply: U256::ZERO,
            minter,
        });
        self.token_by_id.insert(id.to_string(), ix);
        self.created(Kind::Token);
        Ok(ix)
    }

    /// The operator's faucet: mint regardless of the token's minter (test worlds and the demo).
    pub fn faucet_mint(&mut self, token: TokenIx, to: Address, amount: U256) -> Result<()> {
        let mark = self.undo.len();
        let r = self.mint_to(token, to, amount);
        self.finish(mark, r)
    }

    /// Close the current block of `chain` and move its clock forward by `seconds`. Returns the
    /// seal of the closed block: its number, timestamp and the state hash it ends with.
    pub fn advance(&mut self, chain: ChainIx, seconds: u64) -> Result<BlockSeal> {
        let c = &self.chains[chain];
        let now = c.now.checked_add(seconds).ok_or_else(math::overflow)?;
        let blocks = seconds.div_ceil(c.block_time_s).max(1);
        let block = c.block_number.checked_add(blocks).ok_or_else(math::overflow)?;
        let seal =
            BlockSeal { chain_id: c.chain_id, number: c.block_number, timestamp: c.now, state_hash: self.state_hash() };
        let c = self.chain_mut(chain);
        c.now = now;
        c.block_number = block;
        self.undo.clear();
        self.pool_undo.clear();
        Ok(seal)
    }

    /// Close an action: keep its writes on success, roll them back on failure.
    pub(crate) fn finish<T>(&mut self, mark: usize, r: Result<T>) -> Result<T> {
        match r {
            Ok(v) => {
                // Every entry point finishes with an empty log, so a zero mark is the top level.
                if mark == 0 {
                    self.undo.clear();
                    self.pool_undo.clear();
                }
                Ok(v)
            }
            Err(e) => {
                self.rollback(mark);
                Err(e)
            }
        }
    }
}
