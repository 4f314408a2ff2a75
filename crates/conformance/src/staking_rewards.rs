//! Synthetix `StakingRewards` (as deployed on mainnet, `synthetix@2.102.1`) running as bytecode on
//! revm, with two test ERC20s as its staking and reward tokens.
//!
//! Each user-facing step is one transaction, as a wallet or the rewards distributor would send it:
//! [`StakingRewardsEvm::stake`] is `approve` + `stake` and [`StakingRewardsEvm::fund_and_notify`]
//! is the distributor's reward-token transfer + `notifyRewardAmount`; if any call of a step fails,
//! the state from before the step is restored, so a failed step leaves no trace.

use crate::evm::{Calldata, Evm, Result, Snapshot, abi_address, word};
use crate::oracles::StakingRewardsArtifacts;
use alloy_primitives::{Address, U256};
use std::fmt;

/// Function selectors (first 4 bytes of keccak256 of the signature).
pub mod selector {
    /// `stake(uint256)`
    pub const STAKE: [u8; 4] = [0xa6, 0x94, 0xfc, 0x3a];
    /// `withdraw(uint256)`
    pub const WITHDRAW: [u8; 4] = [0x2e, 0x1a, 0x7d, 0x4d];
    /// `getReward()`
    pub const GET_REWARD: [u8; 4] = [0x3d, 0x18, 0xb9, 0x12];
    /// `exit()`
    pub const EXIT: [u8; 4] = [0xe9, 0xfa, 0xd8, 0xee];
    /// `notifyRewardAmount(uint256)`
    pub const NOTIFY_REWARD_AMOUNT: [u8; 4] = [0x3c, 0x6b, 0x16, 0xab];
    /// `setRewardsDuration(uint256)`
    pub const SET_REWARDS_DURATION: [u8; 4] = [0xcc, 0x1a, 0x37, 0x8f];
    /// `rewardsDuration()`
    pub const REWARDS_DURATION: [u8; 4] = [0x38, 0x6a, 0x95, 0x25];
    /// `earned(address)`
    pub const EARNED: [u8; 4] = [0x00, 0x8c, 0xc2, 0x62];
    /// `rewardPerToken()`
    pub const REWARD_PER_TOKEN: [u8; 4] = [0xcd, 0x3d, 0xaf, 0x9d];
    /// `rewardPerTokenStored()`
    pub const REWARD_PER_TOKEN_STORED: [u8; 4] = [0xdf, 0x13, 0x6d, 0x65];
    /// `rewardRate()`
    pub const REWARD_RATE: [u8; 4] = [0x7b, 0x0a, 0x47, 0xee];
    /// `periodFinish()`
    pub const PERIOD_FINISH: [u8; 4] = [0xeb, 0xe2, 0xb1, 0x2b];
    /// `lastUpdateTime()`
    pub const LAST_UPDATE_TIME: [u8; 4] = [0xc8, 0xf3, 0x3c, 0x91];
    /// `lastTimeRewardApplicable()`
    pub const LAST_TIME_REWARD_APPLICABLE: [u8; 4] = [0x80, 0xfa, 0xa5, 0x7d];
    /// `totalSupply()`
    pub const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
    /// `balanceOf(address)`
    pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
    /// `rewards(address)`
    pub const REWARDS: [u8; 4] = [0x07, 0x00, 0x03, 0x7d];
    /// `userRewardPerTokenPaid(address)`
    pub const USER_REWARD_PER_TOKEN_PAID: [u8; 4] = [0x8b, 0x87, 0x63, 0x47];

    /// Every selector above with its signature.
    pub const ALL: [([u8; 4], &str); 18] = [
        (STAKE, "stake(uint256)"),
        (WITHDRAW, "withdraw(uint256)"),
        (GET_REWARD, "getReward()"),
        (EXIT, "exit()"),
        (NOTIFY_REWARD_AMOUNT, "notifyRewardAmount(uint256)"),
        (SET_REWARDS_DURATION, "setRewardsDuration(uint256)"),
        (REWARDS_DURATION, "rewardsDuration()"),
        (EARNED, "earned(address)"),
        (REWARD_PER_TOKEN, "rewardPerToken()"),
        (REWARD_PER_TOKEN_STORED, "rewardPerTokenStored()"),
        (REWARD_RATE, "rewardRate()"),
        (PERIOD_FINISH, "periodFinish()"),
        (LAST_UPDATE_TIME, "lastUpdateTime()"),
        (LAST_TIME_REWARD_APPLICABLE, "lastTimeRewardApplicable()"),
        (TOTAL_SUPPLY, "totalSupply()"),
        (BALANCE_OF, "balanceOf(address)"),
        (REWARDS, "rewards(address)"),
        (USER_REWARD_PER_TOKEN_PAID, "userRewardPerTokenPaid(address)"),
    ];
}

/// The contract-wide state variables (and the `rewardPerToken()` view) at the current block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolState {
    pub reward_rate: U256,
    pub period_finish: U256,
    pub last_update_time: U256,
    pub reward_per_token_stored: U256,
    pub rewards_duration: U256,
    pub total_supply: U256,
    /// `rewardPerToken()`, or why it reverted.
    pub reward_per_token: std::result::Result<U256, String>,
}

/// One account's state variables (and the `earned(account)` view) at the current block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// `balanceOf(account)`: the amount staked.
    pub balance: U256,
    /// `rewards(account)`: earned up to the last update, unpaid.
    pub rewards: U256,
    pub user_reward_per_token_paid: U256,
    /// `earned(account)`, or why it reverted.
    pub earned: std::result::Result<U256, String>,
}

/// A deployed `StakingRewards` with its two ERC20s.
pub struct StakingRewardsEvm {
    evm: Evm,
    pub deployer: Address,
    /// `owner` of the contract (may `setRewardsDuration`).
    pub owner: Address,
    /// `rewardsDistribution` (may `notifyRewardAmount`).
    pub distributor: Address,
    pub staking_token: Address,
    pub rewards_token: Address,
    pub contract: Address,
}

impl fmt::Debug for StakingRewardsEvm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StakingRewardsEvm")
            .field("contract", &self.contract)
            .field("staking_token", &self.staking_token)
            .field("rewards_token", &self.rewards_token)
            .finish_non_exhaustive()
    }
}

impl StakingRewardsEvm {
    /// Deploy two `ERC20(supply)` from `deployer` (the staking token, then the reward token; the
    /// deployer receives both supplies), then
    /// `StakingRewards(owner, distributor, rewardsToken, stakingToken)`. The block timestamp
    /// starts at `timestamp`.
    pub fn deploy(
        artifacts: &StakingRewardsArtifacts,
        deployer: Address,
        owner: Address,
        distributor: Address,
        supply: [U256; 2],
        timestamp: u64,
    ) -> Result<Self> {
        let mut evm = Evm::new(timestamp);
        let staking_token = evm.deploy_erc20(&artifacts.erc20.bytecode, deployer, supply[0])?;
        let rewards_token = evm.deploy_erc20(&artifacts.erc20.bytecode, deployer, supply[1])?;
        let mut code = artifacts.staking_rewards.bytecode.clone();
        for a in [owner, distributor, rewards_token, staking_token] {
            code.extend_from_slice(&abi_address(a));
        }
        let contract = evm.create(deployer, code)?;
        Ok(Self { evm, deployer, owner, distributor, staking_token, rewards_token, contract })
    }

    /// Move the block clock (and the block number, by one) to `timestamp`.
    pub fn set_timestamp(&mut self, timestamp: u64) {
        self.evm.set_timestamp(timestamp);
    }

    pub fn timestamp(&self) -> u64 {
        self.evm.timestamp()
    }

    pub fn snapshot(&self) -> Snapshot {
        self.evm.snapshot()
    }

    pub fn restore(&mut self, snapshot: Snapshot) {
        self.evm.restore(snapshot);
    }

    /// The underlying EVM, for calls this type has no method for.
    pub fn evm(&mut self) -> &mut Evm {
        &mut self.evm
    }

    /// Run `f`; if it fails, put the state back as it was before (one transaction).
    fn atomic<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let snapshot = self.snapshot();
        let r = f(self);
        if r.is_err() {
            self.restore(snapshot);
        }
        r
    }

    fn send(&mut self, from: Address, data: Calldata) -> Result<()> {
        let contract = self.contract;
        self.evm.call(from, contract, data.into_bytes()).map(|_| ())
    }

    fn view(&mut self, data: Calldata) -> std::result::Result<U256, String> {
        let contract = self.contract;
        self.evm.view(contract, data.into_bytes()).map(|out| word(&out, 0)).map_err(|e| e.0)
    }

    fn view_uint(&mut self, sel: [u8; 4]) -> U256 {
        self.view(Calldata::new(sel)).unwrap_or_else(|e| panic!("StakingRewards view 0x{} reverted: {e}", hex4(sel)))
    }

    fn view_account(&mut self, sel: [u8; 4], who: Address) -> U256 {
        self.view(Calldata::new(sel).address(who))
            .unwrap_or_else(|e| panic!("StakingRewards view 0x{} reverted: {e}", hex4(sel)))
    }

    // ----- ERC20 -----

    pub fn transfer(&mut self, token: Address, from: Address, to: Address, amount: U256) -> Result<()> {
        self.evm.transfer(token, from, to, amount)
    }

    pub fn token_balance(&mut self, token: Address, who: Address) -> U256 {
        self.evm.balance_of(token, who)
    }

    // ----- StakingRewards -----

    /// `approve(contract, amount)` on the staking token, then `stake(amount)`, from `from`.
    pub fn stake(&mut self, from: Address, amount: U256) -> Result<()> {
        self.atomic(|s| {
            let (token, contract) = (s.staking_token, s.contract);
            s.evm.approve(token, from, contract, amount)?;
            s.send(from, Calldata::new(selector::STAKE).uint(amount))
        })
    }

    /// `withdraw(amount)` from `from`.
    pub fn withdraw(&mut self, from: Address, amount: U256) -> Result<()> {
        self.send(from, Calldata::new(selector::WITHDRAW).uint(amount))
    }

    /// `getReward()` from `from`.
    pub fn get_reward(&mut self, from: Address) -> Result<()> {
        self.send(from, Calldata::new(selector::GET_REWARD))
    }

    /// `exit()` from `from`: withdraw the whole balance, then `getReward()`.
    pub fn exit(&mut self, from: Address) -> Result<()> {
        self.send(from, Calldata::new(selector::EXIT))
    }

    /// `notifyRewardAmount(reward)` from `from` (only the rewards distributor may).
    pub fn notify_reward_amount(&mut self, from: Address, reward: U256) -> Result<()> {
        self.send(from, Calldata::new(selector::NOTIFY_REWARD_AMOUNT).uint(reward))
    }

    /// What a rewards distributor does: transfer `fund` reward tokens from `from` to the contract
    /// (none if zero), then `notifyRewardAmount(reward)`; one transaction.
    pub fn fund_and_notify(&mut self, from: Address, fund: U256, reward: U256) -> Result<()> {
        self.atomic(|s| {
            if !fund.is_zero() {
                let (token, contract) = (s.rewards_token, s.contract);
                s.transfer(token, from, contract, fund)?;
            }
            s.notify_reward_amount(from, reward)
        })
    }

    /// `setRewardsDuration(seconds)` from `from` (only the owner may, and only after the period).
    pub fn set_rewards_duration(&mut self, from: Address, seconds: U256) -> Result<()> {
        self.send(from, Calldata::new(selector::SET_REWARDS_DURATION).uint(seconds))
    }

    pub fn rewards_duration(&mut self) -> U256 {
        self.view_uint(selector::REWARDS_DURATION)
    }

    pub fn period_finish(&mut self) -> U256 {
        self.view_uint(selector::PERIOD_FINISH)
    }

    /// `earned(account)`, or why it reverted (a multiplication can overflow).
    pub fn earned(&mut self, account: Address) -> std::result::Result<U256, String> {
        self.view(Calldata::new(selector::EARNED).address(account))
    }

    /// The contract-wide state.
    pub fn pool_state(&mut self) -> PoolState {
        PoolState {
            reward_rate: self.view_uint(selector::REWARD_RATE),
            period_finish: self.view_uint(selector::PERIOD_FINISH),
            last_update_time: self.view_uint(selector::LAST_UPDATE_TIME),
            reward_per_token_stored: self.view_uint(selector::REWARD_PER_TOKEN_STORED),
            rewards_duration: self.view_uint(selector::REWARDS_DURATION),
            total_supply: self.view_uint(selector::TOTAL_SUPPLY),
            reward_per_token: self.view(Calldata::new(selector::REWARD_PER_TOKEN)),
        }
    }

    /// One account's state.
    pub fn account_state(&mut self, account: Address) -> AccountState {
        AccountState {
            balance: self.view_account(selector::BALANCE_OF, account),
            rewards: self.view_account(selector::REWARDS, account),
            user_reward_per_token_paid: self.view_account(selector::USER_REWARD_PER_TOKEN_PAID, account),
            earned: self.earned(account),
        }
    }
}

fn hex4(sel: [u8; 4]) -> String {
    alloy_primitives::hex::encode(sel)
}

#[cfg(test)]
mod tests {
    use super::selector;
    use alloy_primitives::keccak256;

    #[test]
    fn selectors_match_signatures() {
        for (sel, sig) in selector::ALL {
            assert_eq!(sel[..], keccak256(sig)[..4], "{sig}");
        }
    }
}
