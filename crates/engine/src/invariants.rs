//! The invariants every reachable state keeps, checked as a whole: what the fault simulator and
//! the property tests assert after every step. Each returns the first broken one, named.
//!
//! - every token: Σ balances = `total_supply` (nothing is created or destroyed outside mint/burn);
//! - every pool: `reserve_i ≤` the pool's balance of token i (UniswapV2Pair keeps reserves at or
//!   below its balances; the excess is what `skim` would take);
//! - every farm pool: Σ users' `amount` = `total_staked`; every farm: rewards paid ≤ emitted
//!   (MasterChef pays out of what `updatePool` accrued);
//! - every staking pool: Σ positions' `amount` = `total_staked`, Σ `weight` = `total_weight`,
//!   rewards paid ≤ rewards notified (StakingRewards pays out of `notifyRewardAmount`), and the
//!   pool holds at least its stake when stake and reward tokens differ.

use crate::math::U256;
use crate::state::Engine;

impl Engine {
    /// Check every invariant of the state; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut supply = vec![U256::ZERO; self.tokens.len()];
        for ((t, _), b) in &self.balances {
            supply[*t] = supply[*t].checked_add(*b).ok_or("a token's balances overflow 256 bits")?;
        }
        for (t, token) in self.tokens.iter().enumerate() {
            if supply[t] != token.total_supply {
                return Err(format!(
                    "token {}: balances sum to {}, total supply is {}",
                    token.id, supply[t], token.total_supply
                ));
            }
        }
        for p in &self.pools {
            for i in 0..2 {
                let held = self.balance(p.tokens[i], p.address);
                if p.reserves[i] > held {
                    return Err(format!("pool {}: reserve {i} is {} but it holds {held}", p.id, p.reserves[i]));
                }
            }
        }
        let mut farm_staked = vec![U256::ZERO; self.farm_pools.len()];
        for ((fp, _), u) in &self.farm_users {
            farm_staked[*fp] += u.amount;
        }
        for (ix, fp) in self.farm_pools.iter().enumerate() {
            if farm_staked[ix] != fp.total_staked {
                return Err(format!(
                    "farm pool {}: users' stakes sum to {}, total_staked is {}",
                    fp.id, farm_staked[ix], fp.total_staked
                ));
            }
        }
        for f in &self.farms {
            if f.rewards_paid > f.rewards_emitted {
                return Err(format!("farm {}: paid {} of {} emitted", f.id, f.rewards_paid, f.rewards_emitted));
            }
        }
        let mut staked = vec![(U256::ZERO, U256::ZERO); self.staking_pools.len()];
        for pos in self.positions.values() {
            let s = &mut staked[pos.pool];
            s.0 += pos.amount;
            s.1 += pos.weight;
        }
        for (ix, sp) in self.staking_pools.iter().enumerate() {
            if staked[ix] != (sp.total_staked, sp.total_weight) {
                return Err(format!(
                    "staking pool {}: positions sum to ({}, {}), the pool records ({}, {}) (amount, weight)",
                    sp.id, staked[ix].0, staked[ix].1, sp.total_staked, sp.total_weight
                ));
            }
            if sp.rewards_paid > sp.rewards_notified {
                return Err(format!(
                    "staking pool {}: paid {} of {} notified",
                    sp.id, sp.rewards_paid, sp.rewards_notified
                ));
            }
            if sp.stake_token != sp.reward_token && self.balance(sp.stake_token, sp.address) < sp.total_staked {
                return Err(format!("staking pool {}: holds less than its stake {}", sp.id, sp.total_staked));
            }
        }
        Ok(())
    }
}
