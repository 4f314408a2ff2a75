//! Single-token staking with lock terms, on Synthetix `StakingRewards` arithmetic:
//! `reward_per_token` at 1e18 precision over the *weighted* supply, where a position's weight is
//! `amount · boost_bps / 10000` for its term; `notify_reward_amount` rolls the leftover of a running
//! period into the new rate. Each stake is its own position with its own `unlock_at`.

use crate::error::{EngineError, Result};
use crate::math::{self, REWARD_PER_TOKEN_PRECISION as RPT, U256, u};
use crate::state::{ChainIx, Engine, Kind, PositionId, StakingIx, TokenIx, check_id, object_address};
use alloy_primitives::Address;

pub const SECONDS_PER_DAY: u64 = 86_400;
/// Longest lock term: 4 years (Curve's MAXTIME).
pub const MAX_TERM_DAYS: u32 = 1461;
/// Highest boost: 10× (100 000 bps).
pub const MAX_BOOST_BPS: u32 = 100_000;

/// A lock term offered by a pool: `days = 0` is flexible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub days: u32,
    pub boost_bps: u32,
}

/// Where an early-exit penalty goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyTo {
    Treasury,
    /// Shared by the remaining stakers as an instant reward (needs stake token = reward token).
    Stakers,
}

/// What leaving a locked position before `unlock_at` costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyExit {
    Forbidden,
    Penalty { penalty_bps: u32, forfeit_rewards: bool, to: PenaltyTo },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakingPool {
    pub id: String,
    pub chain: ChainIx,
    pub address: Address,
    /// The owner is the rewards distributor (only it may notify) and the treasury.
    pub owner: Address,
    pub stake_token: TokenIx,
    pub reward_token: TokenIx,
    pub terms: Vec<Term>,
    pub early_exit: EarlyExit,
    pub reward_rate: U256,
    pub period_finish: u64,
    pub last_update_time: u64,
    pub reward_per_token_stored: U256,
    /// Σ position weights: the supply rewards are shared over.
    pub total_weight: U256,
    /// Σ principal staked.
    pub total_staked: U256,
    /// Reward tokens held for rewards: notified − paid (includes earned-but-unclaimed).
    pub reward_reserve: U256,
    pub rewards_notified: U256,
    pub rewards_paid: U256,
}

/// One stake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub id: PositionId,
    pub owner: Address,
    pub pool: StakingIx,
    pub amount: U256,
    pub weight: U256,
    pub term_days: u32,
    pub boost_bps: u32,
    pub staked_at: u64,
    pub unlock_at: u64,
    pub reward_per_token_paid: U256,
    /// Earned and not yet paid (`rewards[account]`).
    pub rewards: U256,
}

/// What an unstake did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unstaked {
    /// Principal returned.
    pub amount: U256,
    pub penalty: U256,
    pub reward: U256,
    pub unpaid: U256,
}

/// Parameters of a new staking pool.
#[derive(Debug, Clone)]
pub struct StakingSpec<'a> {
    pub id: &'a str,
    pub stake_token: TokenIx,
    pub reward_token: TokenIx,
    pub terms: Vec<Term>,
    pub early_exit: EarlyExit,
}

impl StakingPool {
    /// `lastTimeRewardApplicable = min(now, periodFinish)`.
    fn last_applicable(&self, now: u64) -> u64 {
        now.min(self.period_finish)
    }

    /// `rewardPerToken`: stored + (applicable − last_update)·rate·1e18 / total_weight.
    pub fn reward_per_token(&self, now: u64) -> Result<U256> {
        if self.total_weight.is_zero() {
            return Ok(self.reward_per_token_stored);
        }
        let elapsed = self.last_applicable(now).saturating_sub(self.last_update_time);
        let add = math::mul_div(math::mul(u(elapsed), self.reward_rate)?, RPT, self.total_weight)?;
        math::add(self.reward_per_token_stored, add)
    }

    pub fn term(&self, days: u32) -> Option<Term> {
        self.terms.iter().copied().find(|t| t.days == days)
    }
}

impl Position {
    /// `earned`: weight·(rpt − paid)/1e18 + rewards.
    pub fn earned(&self, reward_per_token: U256) -> Result<U256> {
        let delta = math::sub(reward_per_token, self.reward_per_token_paid)?;
        math::add(math::mul_div(self.weight, delta, RPT)?, self.rewards)
    }
}

impl Engine {
    pub(crate) fn create_staking_pool(&mut self, sender: Address, spec: StakingSpec<'_>) -> Result<StakingIx> {
        check_id("id", spec.id)?;
        if self.staking_by_id.contains_key(spec.id) {
            return Err(EngineError::DuplicateId(spec.id.to_string()));
        }
        let chain = self.tokens[spec.stake_token].chain;
        if self.tokens[spec.reward_token].chain != chain {
            return Err(EngineError::invalid("reward_token", "stake and reward tokens must be on one chain"));
        }
        if spec.terms.is_empty() {
            return Err(EngineError::invalid("terms", "offer at least one term"));
        }
        for (i, t) in spec.terms.iter().enumerate() {
            if t.days > MAX_TERM_DAYS {
                return Err(EngineError::invalid("terms", format!("a term is at most {MAX_TERM_DAYS} days")));
            }
            if t.boost_bps == 0 || t.boost_bps > MAX_BOOST_BPS {
                return Err(EngineError::invalid("terms", format!("boost_bps is 1..={MAX_BOOST_BPS}")));
            }
            if spec.terms[..i].iter().any(|o| o.days == t.days) {
                return Err(EngineError::invalid("terms", "each term length appears once"));
            }
        }
        if let EarlyExit::Penalty { penalty_bps, to, .. } = spec.early_exit {
            if penalty_bps > 10_000 {
                return Err(EngineError::invalid("early_exit", "penalty_bps is at most 10000"));
            }
            if to == PenaltyTo::Stakers && spec.stake_token != spec.reward_token {
                return Err(EngineError::invalid(
                    "early_exit",
                    "a penalty shared with stakers needs the stake token to be the reward token",
                ));
            }
        }
        let ix = self.staking_pools.len();
        self.staking_pools.push(StakingPool {
            id: spec.id.to_string(),
            chain,
            address: object_address("staking", spec.id),
            owner: sender,
            stake_token: spec.stake_token,
            reward_token: spec.reward_token,
            terms: spec.terms,
            early_exit: spec.early_exit,
            reward_rate: U256::ZERO,
            period_finish: 0,
            last_update_time: 0,
            reward_per_token_stored: U256::ZERO,
            total_weight: U256::ZERO,
            total_staked: U256::ZERO,
            reward_reserve: U256::ZERO,
            rewards_notified: U256::ZERO,
            rewards_paid: U256::ZERO,
        });
        self.staking_by_id.insert(spec.id.to_string(), ix);
        self.created(Kind::Staking);
        Ok(ix)
    }

    /// `updateReward(address(0))`: bring the stored accumulator up to now.
    fn update_staking(&mut self, sp: StakingIx) -> Result<U256> {
        let now = self.chains[self.staking_pools[sp].chain].now;
        let pool = &self.staking_pools[sp];
        let rpt = pool.reward_per_token(now)?;
        let last = pool.last_applicable(now);
        if rpt != pool.reward_per_token_stored || last != pool.last_update_time {
            let p = self.staking_mut(sp);
            debug_assert!(rpt >= p.reward_per_token_stored, "reward_per_token decreased");
            p.reward_per_token_stored = rpt;
            p.last_update_time = last;
        }
        Ok(rpt)
    }

    /// `updateReward(account)` for one position: settle its earnings into `rewards`.
    fn settle_position(&mut self, id: PositionId) -> Result<Position> {
        let sp = self.position(id)?.pool;
        let rpt = self.update_staking(sp)?;
        let mut pos = self.position(id)?.clone();
        pos.rewards = pos.earned(rpt)?;
        pos.reward_per_token_paid = rpt;
        Ok(pos)
    }

    /// What a position has earned and not been paid, at the chain's now.
    pub fn position_pending(&self, id: PositionId) -> Result<U256> {
        let pos = self.position(id)?;
        let pool = &self.staking_pools[pos.pool];
        pos.earned(pool.reward_per_token(self.chains[pool.chain].now)?)
    }

    /// `notifyRewardAmount`, by the pool owner who pays `amount` in: a new period of `duration_s`
    /// at `(amount + leftover)/duration`, refused if the rate exceeds what the pool holds.
    pub(crate) fn notify_reward(
        &mut self,
        sender: Address,
        sp: StakingIx,
        amount: U256,
        duration_s: u64,
    ) -> Result<()> {
        // A notify of 0 is allowed, as in StakingRewards: it spreads the leftover over a new period.
        if duration_s == 0 {
            return Err(EngineError::invalid("duration_s", "a reward period lasts at least one second"));
        }
        let pool = &self.staking_pools[sp];
        if pool.owner != sender {
            return Err(EngineError::NotOwner { who: sender, what: pool.id.clone() });
        }
        let (token, addr, chain) = (pool.reward_token, pool.address, pool.chain);
        self.transfer(token, sender, addr, amount)?;
        self.update_staking(sp)?;
        let now = self.chains[chain].now;
        let pool = &self.staking_pools[sp];
        let d = u(duration_s);
        let rate = if now >= pool.period_finish {
            amount / d
        } else {
            let leftover = math::mul(u(pool.period_finish - now), pool.reward_rate)?;
            math::add(amount, leftover)? / d
        };
        let reserve = math::add(pool.reward_reserve, amount)?;
        // `rate < 2^128` keeps `elapsed · rate · 1e18` inside 256 bits, so settling can never
        // overflow and lock principal in.
        if rate > reserve / d || rate > crate::farm::MAX_REWARD_PER_SECOND {
            return Err(EngineError::RewardTooHigh { rate, duration_s });
        }
        let finish = now.checked_add(duration_s).ok_or_else(math::overflow)?;
        let notified = math::add(pool.rewards_notified, amount)?;
        let p = self.staking_mut(sp);
        p.reward_reserve = reserve;
        p.rewards_notified = notified;
        p.reward_rate = rate;
        p.last_update_time = now;
        p.period_finish = finish;
        Ok(())
    }

    /// Open a position for `term_days`, weighted `amount·boost/10000`.
    pub(crate) fn stake(&mut self, sender: Address, sp: StakingIx, amount: U256, term_days: u32) -> Result<PositionId> {
        if amount.is_zero() {
            return Err(EngineError::ZeroAmount { field: "amount" });
        }
        let pool = &self.staking_pools[sp];
        let term = pool.term(term_days).ok_or_else(|| EngineError::UnknownTerm {
            pool: pool.id.clone(),
            days: term_days,
            offered: pool.terms.iter().map(|t| t.days.to_string()).collect::<Vec<_>>().join(", "),
        })?;
        let (token, addr, chain) = (pool.stake_token, pool.address, pool.chain);
        let rpt = self.update_staking(sp)?;
        self.transfer(token, sender, addr, amount)?;
        let weight = math::bps_of(amount, term.boost_bps)?;
        let now = self.chains[chain].now;
        let unlock_at = now.checked_add(u64::from(term.days) * SECONDS_PER_DAY).ok_or_else(math::overflow)?;
        let pool = &self.staking_pools[sp];
        let (tw, ts) = (math::add(pool.total_weight, weight)?, math::add(pool.total_staked, amount)?);
        let p = self.staking_mut(sp);
        p.total_weight = tw;
        p.total_staked = ts;
        let id = self.take_position_id();
        self.set_position(
            id,
            Some(Position {
                id,
                owner: sender,
                pool: sp,
                amount,
                weight,
                term_days: term.days,
                boost_bps: term.boost_bps,
                staked_at: now,
                unlock_at,
                reward_per_token_paid: rpt,
                rewards: U256::ZERO,
            }),
        );
        Ok(id)
    }

    fn owned_position(&self, sender: Address, id: PositionId) -> Result<&Position> {
        let pos = self.position(id)?;
        if pos.owner != sender {
            return Err(EngineError::NotOwner { who: sender, what: format!("position {id}") });
        }
        Ok(pos)
    }

    /// Pay up to `due` from the pool's reward reserve; returns (paid, unpaid).
    fn pay_staking_reward(&mut self, sp: StakingIx, to: Address, due: U256) -> Result<(U256, U256)> {
        let pool = &self.staking_pools[sp];
        let paid = due.min(pool.reward_reserve);
        if !paid.is_zero() {
            let (token, addr) = (pool.reward_token, pool.address);
            self.transfer(token, addr, to, paid)?;
            let p = self.staking_mut(sp);
            p.reward_reserve -= paid;
            p.rewards_paid = math::add(p.rewards_paid, paid)?;
        }
        Ok((paid, due - paid))
    }

    /// `getReward` for one position.
    pub(crate) fn claim(&mut self, sender: Address, id: PositionId) -> Result<(U256, U256)> {
        self.owned_position(sender, id)?;
        let mut pos = self.settle_position(id)?;
        let (paid, unpaid) = self.pay_staking_reward(pos.pool, sender, pos.rewards)?;
        pos.rewards = unpaid;
        self.set_position(id, Some(pos));
        Ok((paid, unpaid))
    }

    /// Close a position: principal back (less the penalty before `unlock_at`), rewards paid unless
    /// the early-exit policy forfeits them (they then stay in the pool, undistributed).
    pub(crate) fn unstake(&mut self, sender: Address, id: PositionId) -> Result<Unstaked> {
        self.owned_position(sender, id)?;
        let mut pos = self.settle_position(id)?;
        let sp = pos.pool;
        let pool = &self.staking_pools[sp];
        let now = self.chains[pool.chain].now;
        let (mut penalty, mut forfeit, mut to) = (U256::ZERO, false, PenaltyTo::Treasury);
        if now < pos.unlock_at {
            match pool.early_exit {
                EarlyExit::Forbidden => {
                    return Err(EngineError::Locked { position: id.to_string(), unlock_at: pos.unlock_at, now });
                }
                EarlyExit::Penalty { penalty_bps, forfeit_rewards, to: dest } => {
                    penalty = math::bps_of(pos.amount, penalty_bps)?;
                    forfeit = forfeit_rewards;
                    to = dest;
                }
            }
        }
        let (token, addr, treasury) = (pool.stake_token, pool.address, pool.owner);
        let tw = math::sub(pool.total_weight, pos.weight)?;
        let ts = math::sub(pool.total_staked, pos.amount)?;
        let p = self.staking_mut(sp);
        p.total_weight = tw;
        p.total_staked = ts;
        let returned = pos.amount - penalty;
        self.transfer(token, addr, sender, returned)?;
        if !penalty.is_zero() {
            if to == PenaltyTo::Stakers && !tw.is_zero() {
                // The penalty stays in the pool as reward for everyone still staked.
                let bump = math::mul_div(penalty, math::REWARD_PER_TOKEN_PRECISION, tw)?;
                let p = self.staking_mut(sp);
                p.reward_per_token_stored = math::add(p.reward_per_token_stored, bump)?;
                p.reward_reserve = math::add(p.reward_reserve, penalty)?;
                p.rewards_notified = math::add(p.rewards_notified, penalty)?;
            } else {
                self.transfer(token, addr, treasury, penalty)?;
            }
        }
        let due = if forfeit { U256::ZERO } else { pos.rewards };
        let (reward, unpaid) = self.pay_staking_reward(sp, sender, due)?;
        if unpaid.is_zero() {
            self.set_position(id, None);
        } else {
            // Keep a principal-free position so the shortfall can be claimed later.
            pos.amount = U256::ZERO;
            pos.weight = U256::ZERO;
            pos.rewards = unpaid;
            self.set_position(id, Some(pos));
        }
        Ok(Unstaked { amount: returned, penalty, reward, unpaid })
    }
}
