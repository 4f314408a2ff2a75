//! User actions (what a signed transaction carries) and their dispatch.
//!
//! Objects are named by their string ids; positions by their number. `Engine::execute` applies an
//! already-authenticated action atomically: on error every write is rolled back.

use crate::amm::{Hop, MAX_HOPS};
use crate::error::{EngineError, Result};
use crate::farm::{FarmSpec, Funding, Payout};
use crate::math::U256;
use crate::staking::{EarlyExit, StakingSpec, Term, Unstaked};
use crate::state::{ChainIx, Engine, Minter, PositionId};
use alloy_primitives::Address;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// ERC-20 `transfer`.
    Transfer {
        token: String,
        to: Address,
        amount: U256,
    },
    /// Deploy a token whose minter is the sender, minting `initial_supply` to the sender.
    CreateToken {
        id: String,
        chain_id: u64,
        symbol: String,
        decimals: u8,
        initial_supply: U256,
    },
    /// The token's minter mints.
    Mint {
        token: String,
        to: Address,
        amount: U256,
    },
    /// `createPair` (fee in basis points).
    CreatePool {
        id: String,
        tokens: [String; 2],
        fee_bps: u32,
    },
    /// The pool creator turns the protocol fee on (`Some`) or off.
    SetFeeTo {
        pool: String,
        fee_to: Option<Address>,
    },
    AddLiquidity {
        pool: String,
        amounts: [U256; 2],
        min: [U256; 2],
    },
    RemoveLiquidity {
        pool: String,
        liquidity: U256,
        min: [U256; 2],
    },
    /// Exact input along a path of pools; `min_out` bounds slippage.
    SwapExactIn {
        path: Vec<String>,
        token_in: String,
        amount_in: U256,
        min_out: U256,
    },
    /// Exact output along a path of pools; `max_in` bounds slippage.
    SwapExactOut {
        path: Vec<String>,
        token_in: String,
        amount_out: U256,
        max_in: U256,
    },
    CreateFarm {
        id: String,
        reward_token: String,
        reward_per_second: U256,
        start: u64,
        end: Option<u64>,
        funding: Funding,
        timelock_delay_s: u64,
    },
    AddFarmPool {
        id: String,
        farm: String,
        stake_token: String,
        alloc_point: u64,
        deposit_fee_bps: u32,
    },
    SetAllocPoint {
        farm_pool: String,
        alloc_point: u64,
    },
    SetRewardPerSecond {
        farm: String,
        reward_per_second: U256,
    },
    SetMigrator {
        farm: String,
        migrator: Option<Address>,
    },
    SetPaused {
        farm: String,
        paused: bool,
    },
    OwnerMint {
        farm: String,
        to: Address,
        amount: U256,
    },
    /// The migrator moves a farm pool's staked tokens.
    Migrate {
        farm_pool: String,
    },
    FundFarm {
        farm: String,
        amount: U256,
    },
    QueueAdmin {
        farm: String,
        action: Box<Action>,
    },
    ExecuteQueued {
        farm: String,
        queue_id: u64,
    },
    Deposit {
        farm_pool: String,
        amount: U256,
    },
    Withdraw {
        farm_pool: String,
        amount: U256,
    },
    Harvest {
        farm_pool: String,
    },
    EmergencyWithdraw {
        farm_pool: String,
    },
    CreateStakingPool {
        id: String,
        stake_token: String,
        reward_token: String,
        terms: Vec<Term>,
        early_exit: EarlyExit,
    },
    NotifyReward {
        staking_pool: String,
        amount: U256,
        duration_s: u64,
    },
    Stake {
        staking_pool: String,
        amount: U256,
        term_days: u32,
    },
    Unstake {
        position: PositionId,
    },
    Claim {
        position: PositionId,
    },
}

/// What an action produced (the fields the scenario runner and the API report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Liquidity { liquidity: U256, amounts: [U256; 2] },
    Removed { amounts: [U256; 2] },
    Swapped { amount_in: U256, amount_out: U256, hops: Vec<Hop> },
    Reward(Payout),
    Withdrawn { amount: U256 },
    Staked { position: PositionId, unlock_at: u64 },
    Claimed { reward: U256, unpaid: U256 },
    Unstaked(Unstaked),
    Queued { queue_id: u64, eta: u64 },
}

impl Action {
    /// A short name of the action's kind (also its EIP-712 `kind`).
    pub fn kind(&self) -> &'static str {
        use Action::*;
        match self {
            Transfer { .. } => "transfer",
            CreateToken { .. } => "create_token",
            Mint { .. } => "mint",
            CreatePool { .. } => "create_pool",
            SetFeeTo { .. } => "set_fee_to",
            AddLiquidity { .. } => "add_liquidity",
            RemoveLiquidity { .. } => "remove_liquidity",
            SwapExactIn { .. } => "swap_exact_in",
            SwapExactOut { .. } => "swap_exact_out",
            CreateFarm { .. } => "create_farm",
            AddFarmPool { .. } => "add_farm_pool",
            SetAllocPoint { .. } => "set_alloc_point",
            SetRewardPerSecond { .. } => "set_reward_per_second",
            SetMigrator { .. } => "set_migrator",
            SetPaused { .. } => "set_paused",
            OwnerMint { .. } => "owner_mint",
            Migrate { .. } => "migrate",
            FundFarm { .. } => "fund_farm",
            QueueAdmin { .. } => "queue_admin",
            ExecuteQueued { .. } => "execute_queued",
            Deposit { .. } => "deposit",
            Withdraw { .. } => "withdraw",
            Harvest { .. } => "harvest",
            EmergencyWithdraw { .. } => "emergency_withdraw",
            CreateStakingPool { .. } => "create_staking_pool",
            NotifyReward { .. } => "notify_reward",
            Stake { .. } => "stake",
            Unstake { .. } => "unstake",
            Claim { .. } => "claim",
        }
    }

    /// Gas units the action costs on chain (typical figures for the reference contracts), which
    /// the hub multiplies by the chain's gas price to show what entering and leaving costs.
    pub fn gas_units(&self) -> u64 {
        use crate::state::gas;
        use Action::*;
        match self {
            Transfer { .. } | Mint { .. } | FundFarm { .. } => gas::TRANSFER,
            AddLiquidity { .. } => gas::ADD_LIQUIDITY,
            RemoveLiquidity { .. } => gas::REMOVE_LIQUIDITY,
            SwapExactIn { path, .. } | SwapExactOut { path, .. } => gas::SWAP_HOP * path.len().max(1) as u64,
            Deposit { .. } => gas::FARM_DEPOSIT,
            Withdraw { .. } | EmergencyWithdraw { .. } => gas::FARM_WITHDRAW,
            Harvest { .. } => gas::FARM_HARVEST,
            Stake { .. } => gas::STAKE,
            Unstake { .. } => gas::UNSTAKE,
            Claim { .. } => gas::CLAIM,
            CreateToken { .. } | CreatePool { .. } | CreateFarm { .. } | CreateStakingPool { .. } => gas::DEPLOY,
            _ => gas::ADMIN,
        }
    }

    /// Whether this is an owner power of a farm (subject to its timelock).
    fn farm_admin_target(&self) -> Option<&str> {
        use Action::*;
        match self {
            SetRewardPerSecond { farm, .. }
            | SetMigrator { farm, .. }
            | SetPaused { farm, .. }
            | OwnerMint { farm, .. } => Some(farm),
            AddFarmPool { farm, .. } => Some(farm),
            _ => None,
        }
    }
}

impl Engine {
    /// The chain an action acts on (a transaction must be signed for that chain's id).
    pub fn action_chain(&self, action: &Action) -> Result<ChainIx> {
        use Action::*;
        Ok(match action {
            Transfer { token, .. } | Mint { token, .. } => self.tokens[self.token_ix(token)?].chain,
            CreateToken { chain_id, .. } => self.chain_ix_by_eip155(*chain_id)?,
            CreatePool { tokens, .. } => self.tokens[self.token_ix(&tokens[0])?].chain,
            SetFeeTo { pool, .. } | AddLiquidity { pool, .. } | RemoveLiquidity { pool, .. } => {
                self.pools[self.pool_ix(pool)?].chain
            }
            SwapExactIn { path, .. } | SwapExactOut { path, .. } => {
                let first = path.first().ok_or_else(|| EngineError::invalid("path", "give at least one pool"))?;
                self.pools[self.pool_ix(first)?].chain
            }
            CreateFarm { reward_token, .. } => self.tokens[self.token_ix(reward_token)?].chain,
            AddFarmPool { farm, .. }
            | SetRewardPerSecond { farm, .. }
            | SetMigrator { farm, .. }
            | SetPaused { farm, .. }
            | OwnerMint { farm, .. }
            | FundFarm { farm, .. }
            | QueueAdmin { farm, .. }
            | ExecuteQueued { farm, .. } => self.farms[self.farm_ix(farm)?].chain,
            SetAllocPoint { farm_pool, .. }
            | Migrate { farm_pool }
            | Deposit { farm_pool, .. }
            | Withdraw { farm_pool, .. }
            | Harvest { farm_pool }
            | EmergencyWithdraw { farm_pool } => self.farms[self.farm_pools[self.farm_pool_ix(farm_pool)?].farm].chain,
            CreateStakingPool { stake_token, .. } => self.tokens[self.token_ix(stake_token)?].chain,
            NotifyReward { staking_pool, .. } | Stake { staking_pool, .. } => {
                self.staking_pools[self.staking_ix(staking_pool)?].chain
            }
            Unstake { position } | Claim { position } => self.staking_pools[self.position(*position)?.pool].chain,
        })
    }

    /// Apply an authenticated action from `sender`, all or nothing.
    pub fn execute(&mut self, sender: Address, action: &Action) -> Result<Outcome> {
        let mark = self.undo.len();
        debug_assert_eq!(mark, 0, "an action starts with an empty undo log");
        let r = self.dispatch(sender, action, false);
        self.finish(mark, r)
    }

    fn dispatch(&mut self, sender: Address, action: &Action, via_queue: bool) -> Result<Outcome> {
        use Action::*;
        if let Some(farm) = action.farm_admin_target() {
            let f = self.farm_ix(farm)?;
            self.check_farm_owner(sender, f, via_queue)?;
        }
        match action {
            Transfer { token, to, amount } => {
                if amount.is_zero() {
                    return Err(EngineError::ZeroAmount { field: "amount" });
                }
                let t = self.token_ix(token)?;
                self.transfer(t, sender, *to, *amount)?;
                Ok(Outcome::Done)
            }
            CreateToken { id, chain_id, symbol, decimals, initial_supply } => {
                let chain = self.chain_ix_by_eip155(*chain_id)?;
                let t = self.new_token(id, chain, symbol, *decimals, Minter::Account(sender))?;
                self.mint_to(t, sender, *initial_supply)?;
                Ok(Outcome::Done)
            }
            Mint { token, to, amount } => {
                if amount.is_zero() {
                    return Err(EngineError::ZeroAmount { field: "amount" });
                }
                let t = self.token_ix(token)?;
                if self.tokens[t].minter != Minter::Account(sender) {
                    return Err(EngineError::NotMinter { who: sender, token: token.clone() });
                }
                self.mint_to(t, *to, *amount)?;
                Ok(Outcome::Done)
            }
            CreatePool { id, tokens, fee_bps } => {
                let (a, b) = (self.token_ix(&tokens[0])?, self.token_ix(&tokens[1])?);
                self.create_pool(sender, id, a, b, *fee_bps)?;
                Ok(Outcome::Done)
            }
            SetFeeTo { pool, fee_to } => {
                let p = self.pool_ix(pool)?;
                self.set_fee_to(sender, p, *fee_to)?;
                Ok(Outcome::Done)
            }
            AddLiquidity { pool, amounts, min } => {
                let p = self.pool_ix(pool)?;
                let (liquidity, amounts) = self.add_liquidity(sender, p, *amounts, *min)?;
                Ok(Outcome::Liquidity { liquidity, amounts })
            }
            RemoveLiquidity { pool, liquidity, min } => {
                let p = self.pool_ix(pool)?;
                let amounts = self.remove_liquidity(sender, p, *liquidity, *min)?;
                Ok(Outcome::Removed { amounts })
            }
            SwapExactIn { path, token_in, amount_in, min_out } => {
                let mut buf = [0; MAX_HOPS];
                let pools = self.resolve_path(path, &mut buf)?;
                let t = self.token_ix(token_in)?;
                let hops = self.swap_exact_in(sender, pools, t, *amount_in, *min_out)?;
                Ok(swapped(hops))
            }
            SwapExactOut { path, token_in, amount_out, max_in } => {
                let mut buf = [0; MAX_HOPS];
                let pools = self.resolve_path(path, &mut buf)?;
                let t = self.token_ix(token_in)?;
                let hops = self.swap_exact_out(sender, pools, t, *amount_out, *max_in)?;
                Ok(swapped(hops))
            }
            CreateFarm { id, reward_token, reward_per_second, start, end, funding, timelock_delay_s } => {
                let t = self.token_ix(reward_token)?;
                let spec = FarmSpec {
                    id,
                    reward_token: t,
                    reward_per_second: *reward_per_second,
                    start: *start,
                    end: *end,
                    funding: *funding,
                    timelock_delay_s: *timelock_delay_s,
                };
                self.create_farm(sender, spec)?;
                Ok(Outcome::Done)
            }
            AddFarmPool { id, farm, stake_token, alloc_point, deposit_fee_bps } => {
                let (f, t) = (self.farm_ix(farm)?, self.token_ix(stake_token)?);
                self.add_farm_pool(f, id, t, *alloc_point, *deposit_fee_bps)?;
                Ok(Outcome::Done)
            }
            SetAllocPoint { farm_pool, alloc_point } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                self.check_farm_owner(sender, self.farm_pools[fp].farm, via_queue)?;
                self.set_alloc_point(fp, *alloc_point)?;
                Ok(Outcome::Done)
            }
            SetRewardPerSecond { farm, reward_per_second } => {
                let f = self.farm_ix(farm)?;
                self.set_reward_per_second(f, *reward_per_second)?;
                Ok(Outcome::Done)
            }
            SetMigrator { farm, migrator } => {
                let f = self.farm_ix(farm)?;
                self.farm_mut(f).migrator = *migrator;
                Ok(Outcome::Done)
            }
            SetPaused { farm, paused } => {
                let f = self.farm_ix(farm)?;
                self.farm_mut(f).paused = *paused;
                Ok(Outcome::Done)
            }
            OwnerMint { farm, to, amount } => {
                let f = self.farm_ix(farm)?;
                self.owner_mint(f, *to, *amount)?;
                Ok(Outcome::Done)
            }
            Migrate { farm_pool } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                let amount = self.migrate(sender, fp)?;
                Ok(Outcome::Withdrawn { amount })
            }
            FundFarm { farm, amount } => {
                let f = self.farm_ix(farm)?;
                self.fund_farm(sender, f, *amount)?;
                Ok(Outcome::Done)
            }
            QueueAdmin { farm, action } => {
                let f = self.farm_ix(farm)?;
                let target = match action.as_ref() {
                    SetAllocPoint { farm_pool, .. } => {
                        let fp = self.farm_pool_ix(farm_pool)?;
                        Some(self.farms[self.farm_pools[fp].farm].id.clone())
                    }
                    a => a.farm_admin_target().map(str::to_string),
                };
                if target.as_deref() != Some(farm.as_str()) {
                    return Err(EngineError::invalid("action", "queue only an owner action of this farm"));
                }
                let queue_id = self.queue_admin(sender, f, (**action).clone())?;
                let eta = self.farms[f].queue[&queue_id].eta;
                Ok(Outcome::Queued { queue_id, eta })
            }
            ExecuteQueued { farm, queue_id } => {
                let f = self.farm_ix(farm)?;
                let queued = self.take_queued(sender, f, *queue_id)?;
                self.dispatch(sender, &queued, true)
            }
            Deposit { farm_pool, amount } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                Ok(Outcome::Reward(self.farm_deposit(sender, fp, *amount)?))
            }
            Withdraw { farm_pool, amount } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                Ok(Outcome::Reward(self.farm_withdraw(sender, fp, *amount)?))
            }
            Harvest { farm_pool } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                Ok(Outcome::Reward(self.farm_harvest(sender, fp)?))
            }
            EmergencyWithdraw { farm_pool } => {
                let fp = self.farm_pool_ix(farm_pool)?;
                let amount = self.farm_emergency_withdraw(sender, fp)?;
                Ok(Outcome::Withdrawn { amount })
            }
            CreateStakingPool { id, stake_token, reward_token, terms, early_exit } => {
                let spec = StakingSpec {
                    id,
                    stake_token: self.token_ix(stake_token)?,
                    reward_token: self.token_ix(reward_token)?,
                    terms: terms.clone(),
                    early_exit: *early_exit,
                };
                self.create_staking_pool(sender, spec)?;
                Ok(Outcome::Done)
            }
            NotifyReward { staking_pool, amount, duration_s } => {
                let sp = self.staking_ix(staking_pool)?;
                self.notify_reward(sender, sp, *amount, *duration_s)?;
                Ok(Outcome::Done)
            }
            Stake { staking_pool, amount, term_days } => {
                let sp = self.staking_ix(staking_pool)?;
                let position = self.stake(sender, sp, *amount, *term_days)?;
                let unlock_at = self.positions[&position].unlock_at;
                Ok(Outcome::Staked { position, unlock_at })
            }
            Unstake { position } => Ok(Outcome::Unstaked(self.unstake(sender, *position)?)),
            Claim { position } => {
                let (reward, unpaid) = self.claim(sender, *position)?;
                Ok(Outcome::Claimed { reward, unpaid })
            }
        }
    }

    /// Pool ids to indices, into a stack buffer (no allocation on the swap path).
    fn resolve_path<'b>(&self, path: &[String], buf: &'b mut [usize; MAX_HOPS]) -> Result<&'b [usize]> {
        if path.is_empty() || path.len() > MAX_HOPS {
            return Err(EngineError::invalid("path", format!("give 1 to {MAX_HOPS} pools")));
        }
        for (slot, id) in buf.iter_mut().zip(path) {
            *slot = self.pool_ix(id)?;
        }
        Ok(&buf[..path.len()])
    }
}

fn swapped(hops: Vec<Hop>) -> Outcome {
    let amount_in = hops.first().map(|h| h.amount_in).unwrap_or_default();
    let amount_out = hops.last().map(|h| h.amount_out).unwrap_or_default();
    Outcome::Swapped { amount_in, amount_out, hops }
}
