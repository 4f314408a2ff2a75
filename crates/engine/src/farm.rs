//! Liquidity-mining farms, to the wei of SushiSwap MasterChef (V1 payout semantics, MiniChefV2's
//! per-second time base): `acc_reward_per_share` at 1e12 precision, deposit and withdraw pay the
//! pending reward first, `emergency_withdraw` forfeits it.
//!
//! One deliberate departure (SPEC §2.3): a payout is clamped to what the farm holds for rewards
//! (`safeSushiTransfer`), but the shortfall is kept as `owed` and paid first at the user's next
//! payout from that farm pool, instead of being dropped.

use crate::action::Action;
use crate::error::{EngineError, Result};
use crate::math::{self, ACC_PRECISION, U256, u};
use crate::state::{ChainIx, Engine, FarmIx, FarmPoolIx, Kind, Minter, TokenIx, check_id, object_address};
use alloy_primitives::Address;
use std::collections::BTreeMap;

/// Where a farm's rewards come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funding {
    /// The farm is the reward token's minter and mints rewards as they accrue (MasterChef V1).
    Minted,
    /// The farm pays from a budget funded in advance (MiniChefV2); a short budget leaves rewards owed.
    Budget,
}

/// An owner action waiting out the farm's timelock delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub eta: u64,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Farm {
    pub id: String,
    pub chain: ChainIx,
    pub address: Address,
    pub owner: Address,
    pub reward_token: TokenIx,
    pub reward_per_second: U256,
    pub start: u64,
    pub end: Option<u64>,
    pub total_alloc_point: u64,
    pub funding: Funding,
    /// Reward tokens the farm holds for payouts: minted + funded − paid.
    pub reward_reserve: U256,
    /// Σ rewards credited to the pools' accumulators (emitted), Σ paid out; paid ≤ emitted always.
    pub rewards_emitted: U256,
    pub rewards_paid: U256,
    pub paused: bool,
    /// MasterChef's `migrator`: an address that may move every staked token of a pool (rug vector).
    pub migrator: Option<Address>,
    /// Owner actions must be queued this long before they run (0 = no timelock).
    pub timelock_delay_s: u64,
    pub queue: BTreeMap<u64, Queued>,
    pub next_queue_id: u64,
    pub pools: Vec<FarmPoolIx>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FarmPool {
    pub id: String,
    pub farm: FarmIx,
    pub stake_token: TokenIx,
    pub alloc_point: u64,
    pub last_reward_time: u64,
    /// Σ reward per staked unit × 1e12 (ACC_PRECISION); never decreases.
    pub acc_reward_per_share: U256,
    /// Staked amounts are counted here, not read from a balance, so donations change nothing.
    pub total_staked: U256,
    /// Deposit fee in basis points, paid to the farm owner (a risk signal).
    pub deposit_fee_bps: u32,
}

/// A staker in one farm pool (`UserInfo` + what is owed after a clamped payout).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FarmUser {
    pub amount: U256,
    pub reward_debt: U256,
    pub owed: U256,
}

/// What a payout did: `reward` paid now, `unpaid` still owed after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Payout {
    pub reward: U256,
    pub unpaid: U256,
}

/// Largest reward rate: below 2^128 per second, so `seconds · rate · alloc · 1e12` stays inside
/// 256 bits for any u64 time span and `MAX_ALLOC_POINT`, and a rate change cannot brick the farm.
pub const MAX_REWARD_PER_SECOND: U256 = U256::from_limbs([u64::MAX, u64::MAX, 0, 0]);
/// Largest alloc point of one farm pool.
pub const MAX_ALLOC_POINT: u64 = u32::MAX as u64;

fn check_rate(rate: U256) -> Result<()> {
    if rate > MAX_REWARD_PER_SECOND {
        return Err(EngineError::invalid("reward_per_second", "at most 2^128 - 1 base units per second"));
    }
    Ok(())
}

fn check_alloc(alloc_point: u64) -> Result<()> {
    if alloc_point > MAX_ALLOC_POINT {
        return Err(EngineError::invalid("alloc_point", format!("at most {MAX_ALLOC_POINT}")));
    }
    Ok(())
}

/// The deposit fee cap: 10 %.
pub const MAX_DEPOSIT_FEE_BPS: u32 = 1000;

impl Farm {
    /// Seconds of emission in (from, to], clamped to `[start, end]` (MasterChef `getMultiplier`
    /// without the bonus).
    fn emission_seconds(&self, from: u64, to: u64) -> u64 {
        let to = match self.end {
            Some(end) => to.min(end),
            None => to,
        };
        let from = from.max(self.start);
        to.saturating_sub(from)
    }
}

impl Engine {
    /// The accumulator a farm pool would have at `now`, and the reward that interval credits
    /// (`updatePool`'s arithmetic without writing).
    fn farm_pool_accrual(&self, fp: FarmPoolIx, now: u64) -> Result<(U256, U256)> {
        let p = &self.farm_pools[fp];
        let farm = &self.farms[p.farm];
        if now <= p.last_reward_time || p.total_staked.is_zero() || farm.total_alloc_point == 0 {
            return Ok((p.acc_reward_per_share, U256::ZERO));
        }
        let seconds = farm.emission_seconds(p.last_reward_time, now);
        let reward =
            math::mul_div(math::mul(u(seconds), farm.reward_per_second)?, u(p.alloc_point), u(farm.total_alloc_point))?;
        let acc = math::add(p.acc_reward_per_share, math::mul_div(reward, ACC_PRECISION, p.total_staked)?)?;
        Ok((acc, reward))
    }

    /// MasterChef `updatePool`: credit the interval's reward to the accumulator (minting it when
    /// the farm is the reward token's minter). With nothing staked, or no alloc points, the
    /// interval is skipped and its emission is never paid.
    pub(crate) fn update_farm_pool(&mut self, fp: FarmPoolIx) -> Result<()> {
        let farm_ix = self.farm_pools[fp].farm;
        let now = self.chains[self.farms[farm_ix].chain].now;
        if now <= self.farm_pools[fp].last_reward_time {
            return Ok(());
        }
        let (acc, reward) = self.farm_pool_accrual(fp, now)?;
        if !reward.is_zero() {
            let farm = &self.farms[farm_ix];
            let (token, addr, funding) = (farm.reward_token, farm.address, farm.funding);
            if funding == Funding::Minted {
                self.mint_to(token, addr, reward)?;
            }
            let f = self.farm_mut(farm_ix);
            if funding == Funding::Minted {
                f.reward_reserve = math::add(f.reward_reserve, reward)?;
            }
            f.rewards_emitted = math::add(f.rewards_emitted, reward)?;
        }
        let p = self.farm_pool_mut(fp);
        debug_assert!(acc >= p.acc_reward_per_share, "acc_reward_per_share decreased");
        p.acc_reward_per_share = acc;
        p.last_reward_time = now;
        Ok(())
    }

    /// `massUpdatePools` for one farm: required before any alloc-point or rate change.
    fn mass_update(&mut self, farm: FarmIx) -> Result<()> {
        for fp in self.farms[farm].pools.clone() {
            self.update_farm_pool(fp)?;
        }
        Ok(())
    }

    /// `pendingSushi` plus what is owed: `amount·acc/1e12 − reward_debt + owed` at the chain's now.
    pub fn farm_pending(&self, fp: FarmPoolIx, who: Address) -> Result<U256> {
        let now = self.chains[self.farms[self.farm_pools[fp].farm].chain].now;
        let (acc, _) = self.farm_pool_accrual(fp, now)?;
        let user = self.farm_user(fp, who);
        let accrued = math::sub(math::mul_div(user.amount, acc, ACC_PRECISION)?, user.reward_debt)?;
        math::add(accrued, user.owed)
    }

    /// Pay `user`'s pending reward (after `update_farm_pool`), clamped to the farm's reserve;
    /// the rest stays owed. Does not write `reward_debt`.
    fn pay_farm_reward(&mut self, fp: FarmPoolIx, who: Address, user: &mut FarmUser) -> Result<Payout> {
        let acc = self.farm_pools[fp].acc_reward_per_share;
        let accrued = math::sub(math::mul_div(user.amount, acc, ACC_PRECISION)?, user.reward_debt)?;
        let due = math::add(accrued, user.owed)?;
        let farm_ix = self.farm_pools[fp].farm;
        let farm = &self.farms[farm_ix];
        let paid = due.min(farm.reward_reserve);
        if !paid.is_zero() {
            let (token, addr) = (farm.reward_token, farm.address);
            self.transfer(token, addr, who, paid)?;
            let f = self.farm_mut(farm_ix);
            f.reward_reserve -= paid;
            f.rewards_paid = math::add(f.rewards_paid, paid)?;
        }
        user.owed = due - paid;
        Ok(Payout { reward: paid, unpaid: user.owed })
    }

    pub(crate) fn create_farm(&mut self, sender: Address, spec: FarmSpec<'_>) -> Result<FarmIx> {
        check_id("id", spec.id)?;
        check_rate(spec.reward_per_second)?;
        if self.farm_by_id.contains_key(spec.id) {
            return Err(EngineError::DuplicateId(spec.id.to_string()));
        }
        let chain = self.tokens[spec.reward_token].chain;
        if let Some(end) = spec.end
            && end <= spec.start
        {
            return Err(EngineError::invalid("end", "the end must come after the start"));
        }
        let ix = self.farms.len();
        if spec.funding == Funding::Minted {
            // The farm takes over minting, as SushiToken's ownership moves to MasterChef.
            let token = &self.tokens[spec.reward_token];
            match token.minter {
                Minter::Account(a) if a == sender => {}
                _ => {
                    return Err(EngineError::NotMinter { who: sender, token: token.id.clone() });
                }
            }
            self.token_mut(spec.reward_token).minter = Minter::Farm(ix);
        }
        self.farms.push(Farm {
            id: spec.id.to_string(),
            chain,
            address: object_address("farm", spec.id),
            owner: sender,
            reward_token: spec.reward_token,
            reward_per_second: spec.reward_per_second,
            start: spec.start,
            end: spec.end,
            total_alloc_point: 0,
            funding: spec.funding,
            reward_reserve: U256::ZERO,
            rewards_emitted: U256::ZERO,
            rewards_paid: U256::ZERO,
            paused: false,
            migrator: None,
            timelock_delay_s: spec.timelock_delay_s,
            queue: BTreeMap::new(),
            next_queue_id: 0,
            pools: Vec::new(),
        });
        self.farm_by_id.insert(spec.id.to_string(), ix);
        self.created(Kind::Farm);
        Ok(ix)
    }

    /// MasterChef `add` (with `massUpdatePools`): a new pool starts accruing at max(now, start).
    pub(crate) fn add_farm_pool(
        &mut self,
        farm: FarmIx,
        id: &str,
        stake_token: TokenIx,
        alloc_point: u64,
        deposit_fee_bps: u32,
    ) -> Result<FarmPoolIx> {
        check_id("id", id)?;
        check_alloc(alloc_point)?;
        if self.farm_pool_by_id.contains_key(id) {
            return Err(EngineError::DuplicateId(id.to_string()));
        }
        if self.tokens[stake_token].chain != self.farms[farm].chain {
            return Err(EngineError::invalid("stake_token", "the staked token must be on the farm's chain"));
        }
        if deposit_fee_bps > MAX_DEPOSIT_FEE_BPS {
            return Err(EngineError::invalid("deposit_fee_bps", format!("at most {MAX_DEPOSIT_FEE_BPS}")));
        }
        self.mass_update(farm)?;
        let now = self.chains[self.farms[farm].chain].now;
        let total = self.farms[farm].total_alloc_point.checked_add(alloc_point).ok_or_else(math::overflow)?;
        let ix = self.farm_pools.len();
        self.farm_pools.push(FarmPool {
            id: id.to_string(),
            farm,
            stake_token,
            alloc_point,
            last_reward_time: now.max(self.farms[farm].start),
            acc_reward_per_share: U256::ZERO,
            total_staked: U256::ZERO,
            deposit_fee_bps,
        });
        self.farm_pool_by_id.insert(id.to_string(), ix);
        self.created(Kind::FarmPool);
        let f = self.farm_mut(farm);
        f.total_alloc_point = total;
        f.pools.push(ix);
        Ok(ix)
    }

    /// MasterChef `set` (with `massUpdatePools`, so past intervals keep their old weights).
    pub(crate) fn set_alloc_point(&mut self, fp: FarmPoolIx, alloc_point: u64) -> Result<()> {
        check_alloc(alloc_point)?;
        let farm = self.farm_pools[fp].farm;
        self.mass_update(farm)?;
        let old = self.farm_pools[fp].alloc_point;
        let total = (self.farms[farm].total_alloc_point - old).checked_add(alloc_point).ok_or_else(math::overflow)?;
        self.farm_pool_mut(fp).alloc_point = alloc_point;
        self.farm_mut(farm).total_alloc_point = total;
        Ok(())
    }

    /// MiniChef `setSushiPerSecond` (with `massUpdatePools`).
    pub(crate) fn set_reward_per_second(&mut self, farm: FarmIx, rate: U256) -> Result<()> {
        check_rate(rate)?;
        self.mass_update(farm)?;
        self.farm_mut(farm).reward_per_second = rate;
        Ok(())
    }

    /// Anyone may add to a budget farm's reward reserve.
    pub(crate) fn fund_farm(&mut self, sender: Address, farm: FarmIx, amount: U256) -> Result<()> {
        if amount.is_zero() {
            return Err(EngineError::ZeroAmount { field: "amount" });
        }
        let f = &self.farms[farm];
        if f.funding != Funding::Budget {
            return Err(EngineError::invalid("farm", "this farm mints its rewards; it takes no budget"));
        }
        let (token, addr) = (f.reward_token, f.address);
        self.transfer(token, sender, addr, amount)?;
        let f = self.farm_mut(farm);
        f.reward_reserve = math::add(f.reward_reserve, amount)?;
        Ok(())
    }

    /// The owner's mint power over a minted farm's reward token (an unscheduled mint is a rug signal).
    pub(crate) fn owner_mint(&mut self, farm: FarmIx, to: Address, amount: U256) -> Result<()> {
        if amount.is_zero() {
            return Err(EngineError::ZeroAmount { field: "amount" });
        }
        let f = &self.farms[farm];
        if f.funding != Funding::Minted {
            return Err(EngineError::invalid("farm", "only a farm that mints its reward token can mint"));
        }
        let token = f.reward_token;
        self.mint_to(token, to, amount)
    }

    /// MasterChef `migrate`: the migrator takes every staked token of the pool. Users' recorded
    /// amounts stay, but the farm no longer holds them: this is how a migrator rug drains a farm.
    pub(crate) fn migrate(&mut self, sender: Address, fp: FarmPoolIx) -> Result<U256> {
        let p = &self.farm_pools[fp];
        let farm = &self.farms[p.farm];
        match farm.migrator {
            Some(m) if m == sender => {}
            Some(_) => {
                return Err(EngineError::NotOwner { who: sender, what: format!("{} migrator", farm.id) });
            }
            None => return Err(EngineError::NoMigrator(farm.id.clone())),
        }
        let held = self.balance(p.stake_token, farm.address);
        let moved = p.total_staked.min(held);
        let (token, addr) = (p.stake_token, farm.address);
        self.transfer(token, addr, sender, moved)?;
        Ok(moved)
    }

    /// MasterChef V1 `deposit`: pay pending, take the tokens (less the deposit fee), reset the debt.
    pub(crate) fn farm_deposit(&mut self, sender: Address, fp: FarmPoolIx, amount: U256) -> Result<Payout> {
        if amount.is_zero() {
            return Err(EngineError::ZeroAmount { field: "amount" });
        }
        let farm_ix = self.farm_pools[fp].farm;
        if self.farms[farm_ix].paused {
            return Err(EngineError::Paused(self.farms[farm_ix].id.clone()));
        }
        self.update_farm_pool(fp)?;
        let mut user = self.farm_user(fp, sender);
        let payout = self.pay_farm_reward(fp, sender, &mut user)?;
        let p = &self.farm_pools[fp];
        let (token, fee_bps, acc) = (p.stake_token, p.deposit_fee_bps, p.acc_reward_per_share);
        let (farm_addr, owner) = (self.farms[farm_ix].address, self.farms[farm_ix].owner);
        self.transfer(token, sender, farm_addr, amount)?;
        let fee = math::bps_of(amount, fee_bps)?;
        if !fee.is_zero() {
            self.transfer(token, farm_addr, owner, fee)?;
        }
        let credited = amount - fee;
        user.amount = math::add(user.amount, credited)?;
        user.reward_debt = math::mul_div(user.amount, acc, ACC_PRECISION)?;
        let total = math::add(self.farm_pools[fp].total_staked, credited)?;
        self.farm_pool_mut(fp).total_staked = total;
        self.set_farm_user(fp, sender, user);
        Ok(payout)
    }

    /// MasterChef V1 `withdraw`: pay pending, return `amount` of the staked token.
    pub(crate) fn farm_withdraw(&mut self, sender: Address, fp: FarmPoolIx, amount: U256) -> Result<Payout> {
        if amount.is_zero() {
            return Err(EngineError::ZeroAmount { field: "amount" });
        }
        let mut user = self.farm_user(fp, sender);
        if user.amount < amount {
            return Err(EngineError::InsufficientStaked {
                farm_pool: self.farm_pools[fp].id.clone(),
                have: user.amount,
                need: amount,
            });
        }
        self.update_farm_pool(fp)?;
        let payout = self.pay_farm_reward(fp, sender, &mut user)?;
        let p = &self.farm_pools[fp];
        let (token, acc) = (p.stake_token, p.acc_reward_per_share);
        user.amount -= amount;
        user.reward_debt = math::mul_div(user.amount, acc, ACC_PRECISION)?;
        let total = math::sub(p.total_staked, amount)?;
        self.farm_pool_mut(fp).total_staked = total;
        self.set_farm_user(fp, sender, user);
        let farm_addr = self.farms[self.farm_pools[fp].farm].address;
        self.transfer(token, farm_addr, sender, amount)?;
        Ok(payout)
    }

    /// Harvest (V1's `deposit(pid, 0)`): pay pending and owed; nothing staked pays 0.
    pub(crate) fn farm_harvest(&mut self, sender: Address, fp: FarmPoolIx) -> Result<Payout> {
        let farm_ix = self.farm_pools[fp].farm;
        if self.farms[farm_ix].paused {
            return Err(EngineError::Paused(self.farms[farm_ix].id.clone()));
        }
        self.update_farm_pool(fp)?;
        let mut user = self.farm_user(fp, sender);
        let payout = self.pay_farm_reward(fp, sender, &mut user)?;
        user.reward_debt = math::mul_div(user.amount, self.farm_pools[fp].acc_reward_per_share, ACC_PRECISION)?;
        self.set_farm_user(fp, sender, user);
        Ok(payout)
    }

    /// MasterChef `emergencyWithdraw`: the principal back, pending and owed rewards forfeited.
    pub(crate) fn farm_emergency_withdraw(&mut self, sender: Address, fp: FarmPoolIx) -> Result<U256> {
        let user = self.farm_user(fp, sender);
        if user.amount.is_zero() {
            return Err(EngineError::InsufficientStaked {
                farm_pool: self.farm_pools[fp].id.clone(),
                have: U256::ZERO,
                need: U256::from(1u8),
            });
        }
        let p = &self.farm_pools[fp];
        let token = p.stake_token;
        let total = math::sub(p.total_staked, user.amount)?;
        self.farm_pool_mut(fp).total_staked = total;
        self.set_farm_user(fp, sender, FarmUser::default());
        let farm_addr = self.farms[self.farm_pools[fp].farm].address;
        self.transfer(token, farm_addr, sender, user.amount)?;
        Ok(user.amount)
    }

    /// Gate an owner action: only the owner, and with a timelock only through the queue.
    pub(crate) fn check_farm_owner(&self, sender: Address, farm: FarmIx, via_queue: bool) -> Result<()> {
        let f = &self.farms[farm];
        if f.owner != sender {
            return Err(EngineError::NotOwner { who: sender, what: f.id.clone() });
        }
        if f.timelock_delay_s > 0 && !via_queue {
            let now = self.chains[f.chain].now;
            return Err(EngineError::Timelocked { eta: now.saturating_add(f.timelock_delay_s), now });
        }
        Ok(())
    }

    /// Queue an owner action behind the farm's timelock; returns its queue id.
    pub(crate) fn queue_admin(&mut self, sender: Address, farm: FarmIx, action: Action) -> Result<u64> {
        let f = &self.farms[farm];
        if f.owner != sender {
            return Err(EngineError::NotOwner { who: sender, what: f.id.clone() });
        }
        let now = self.chains[f.chain].now;
        let eta = now.checked_add(f.timelock_delay_s).ok_or_else(math::overflow)?;
        let f = self.farm_mut(farm);
        let id = f.next_queue_id;
        f.next_queue_id += 1;
        f.queue.insert(id, Queued { eta, action });
        Ok(id)
    }

    /// Take a queued action whose delay has passed.
    pub(crate) fn take_queued(&mut self, sender: Address, farm: FarmIx, id: u64) -> Result<Action> {
        let f = &self.farms[farm];
        if f.owner != sender {
            return Err(EngineError::NotOwner { who: sender, what: f.id.clone() });
        }
        let q = f.queue.get(&id).ok_or(EngineError::UnknownQueued(id))?;
        let now = self.chains[f.chain].now;
        if now < q.eta {
            return Err(EngineError::Timelocked { eta: q.eta, now });
        }
        let action = q.action.clone();
        self.farm_mut(farm).queue.remove(&id);
        Ok(action)
    }
}

/// Parameters of a new farm.
#[derive(Debug, Clone)]
pub struct FarmSpec<'a> {
    pub id: &'a str,
    pub reward_token: TokenIx,
    pub reward_per_second: U256,
    pub start: u64,
    pub end: Option<u64>,
    pub funding: Funding,
    pub timelock_delay_s: u64,
}
