//! The simulated clients' workload: a two-chain world and random actions read off the state the
//! node shows, the way a wallet builds a transaction from what the chain tells it.
//!
//! Ethereum (chain 1) has a WETH/USDC pool and a budget-funded farm on its LP token; BNB Chain
//! (chain 56) has a CAKE/BUSD pool and a staking pool (flexible and 30-day terms at 1× and 1.5×, early exit with a
//! 10 % penalty and forfeiture). Four actors swap, add and remove liquidity, transfer, deposit,
//! withdraw and harvest, stake, claim and unstake; `actor0` owns the farm and the staking pool and
//! tops them up. A missing object (its creation lost to a fault before it was acknowledged) is
//! created again before anything uses it. Some actions are refused by the engine (slippage,
//! balances, locks, another's position): refusals are part of the workload.

use granary_engine::farm::Funding;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, SignedTransaction, SystemOp, Transaction, U256};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::RngCore;
use std::collections::BTreeMap;

pub const ACTORS: usize = 4;
pub const CHAINS: [(&str, u64); 2] = [("eth", 1), ("bsc", 56)];
const POOLS: [(&str, &str, [&str; 2]); 2] =
    [("eth", "eth-pool", ["WETH", "USDC"]), ("bsc", "bsc-pool", ["CAKE", "BUSD"])];
const FARM: &str = "eth-farm";
const FARM_POOL: &str = "eth-farm-lp";
const STAKING: &str = "bsc-stake";
const DAY: u64 = 86_400;

fn pow10(e: u32) -> U256 {
    U256::from(10u8).pow(U256::from(e))
}

fn e18(x: u64) -> U256 {
    U256::from(x) * pow10(18)
}

/// The actors' keys and addresses (deriving a key costs a hash and a point multiplication).
pub struct Actors {
    keys: Vec<SecretKey>,
    pub addrs: Vec<Address>,
}

impl Actors {
    pub fn new() -> Actors {
        let keys: Vec<SecretKey> = (0..ACTORS).map(|i| dev_key(&format!("sim-actor{i}"))).collect();
        let addrs = keys.iter().map(key_address).collect();
        Actors { keys, addrs }
    }
}

impl Default for Actors {
    fn default() -> Self {
        Actors::new()
    }
}

/// The operator's set-up: chains, tokens (fixed supply), every actor funded.
pub fn genesis(actors: &Actors) -> Vec<SystemOp> {
    let mut ops = Vec::new();
    for (id, chain_id) in CHAINS {
        ops.push(SystemOp::CreateChain {
            id: id.into(),
            chain_id,
            name: id.into(),
            block_time_s: if chain_id == 1 { 12 } else { 3 },
        });
    }
    for (chain, tokens) in [("eth", ["WETH", "USDC", "GRN"]), ("bsc", ["CAKE", "BUSD", "BGRN"])] {
        for t in tokens {
            ops.push(SystemOp::CreateToken {
                id: t.into(),
                chain: chain.into(),
                symbol: t.into(),
                decimals: 18,
                minter: None,
            });
            for a in &actors.addrs {
                ops.push(SystemOp::FaucetMint { token: t.into(), to: *a, amount: e18(1_000_000_000) });
            }
        }
    }
    ops
}

/// A seeded source of choices.
pub struct Dice(pub ChaCha8Rng);

impl Dice {
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.next_u64() % n }
    }
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    /// `amount · f` for a random fraction f in (0, max_pct %], at least 1 when amount > 0.
    pub fn part(&mut self, amount: U256, max_pct: u64) -> U256 {
        let ppm = 1 + self.below(max_pct * 10_000);
        let v = amount / U256::from(1_000_000u64) * U256::from(ppm);
        if v.is_zero() && !amount.is_zero() { U256::from(1u8) } else { v }
    }
}

/// Builds signed transactions; tracks the nonces of transactions built but not yet applied.
pub struct Client<'a> {
    pub actors: &'a Actors,
    /// Nonces handed out in the batch being built, above what the engine says.
    pending: BTreeMap<(usize, usize), u64>,
    /// Whether this batch already carries a set-up step (the engine shows the object only once
    /// the batch is applied).
    setup_sent: bool,
}

impl<'a> Client<'a> {
    pub fn new(actors: &'a Actors) -> Client<'a> {
        Client { actors, pending: BTreeMap::new(), setup_sent: false }
    }

    /// Start a new batch: nonces restart from what the engine shows.
    pub fn new_batch(&mut self) {
        self.pending.clear();
        self.setup_sent = false;
    }

    fn sign(&mut self, e: &Engine, chain: usize, who: usize, action: Action) -> SignedTransaction {
        let (_, chain_id) = CHAINS[chain];
        let ix = e.chain_ix_by_eip155(chain_id).unwrap_or(chain);
        let base = e.nonce(ix, self.actors.addrs[who]);
        let n = self.pending.entry((chain, who)).or_insert(0);
        let nonce = base + *n;
        *n += 1;
        let tx = Transaction { chain_id, sender: self.actors.addrs[who], nonce, deadline: u64::MAX, action };
        tx.sign(&self.actors.keys[who])
    }

    /// The set-up transaction of the first missing object, if any.
    fn setup(&mut self, e: &Engine) -> Option<SignedTransaction> {
        for (c, (_, id, tokens)) in POOLS.iter().enumerate() {
            if e.pool_ix(id).is_err() {
                let a = Action::CreatePool { id: (*id).into(), tokens: tokens.map(String::from), fee_bps: 30 };
                return Some(self.sign(e, c, 0, a));
            }
        }
        if e.farm_ix(FARM).is_err() {
            let a = Action::CreateFarm {
                id: FARM.into(),
                reward_token: "GRN".into(),
                reward_per_second: e18(1) / U256::from(1000u32),
                start: 0,
                end: None,
                funding: Funding::Budget,
                timelock_delay_s: 0,
            };
            return Some(self.sign(e, 0, 0, a));
        }
        if e.farm_pool_ix(FARM_POOL).is_err() {
            let a = Action::AddFarmPool {
                id: FARM_POOL.into(),
                farm: FARM.into(),
                stake_token: "eth-pool".into(),
                alloc_point: 100,
                deposit_fee_bps: 0,
            };
            return Some(self.sign(e, 0, 0, a));
        }
        if e.staking_ix(STAKING).is_err() {
            let a = Action::CreateStakingPool {
                id: STAKING.into(),
                stake_token: "CAKE".into(),
                reward_token: "BGRN".into(),
                terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 30, boost_bps: 15_000 }],
                early_exit: EarlyExit::Penalty { penalty_bps: 1_000, forfeit_rewards: true, to: PenaltyTo::Treasury },
            };
            return Some(self.sign(e, 1, 0, a));
        }
        None
    }

    /// One transaction: a set-up step while objects are missing, else a random action.
    pub fn next_tx(&mut self, e: &Engine, dice: &mut Dice) -> SignedTransaction {
        if !self.setup_sent
            && let Some(tx) = self.setup(e)
        {
            self.setup_sent = true;
            return tx;
        }
        let who = dice.below(ACTORS as u64) as usize;
        let me = self.actors.addrs[who];
        let chain = dice.below(2) as usize;
        let (_, pool_id, tokens) = POOLS[chain];
        let bal = |t: &str| e.token_ix(t).map(|ix| e.balance(ix, me)).unwrap_or_default();
        let roll = dice.below(100);
        let action = match roll {
            0..=29 => {
                let i = dice.below(2) as usize;
                let amount_in = dice.part(bal(tokens[i]), 2);
                // Mostly no bound; sometimes a bound no swap can meet (refused for slippage).
                let min_out = if dice.chance(150) { U256::MAX >> 8 } else { U256::ZERO };
                Action::SwapExactIn { path: vec![pool_id.into()], token_in: tokens[i].into(), amount_in, min_out }
            }
            30..=34 => {
                let i = dice.below(2) as usize;
                let amount_out = e18(1 + dice.below(1000));
                Action::SwapExactOut {
                    path: vec![pool_id.into()],
                    token_in: tokens[i].into(),
                    amount_out,
                    max_in: bal(tokens[i]),
                }
            }
            35..=46 => {
                // Add near the pool's ratio (the first deposit sets it).
                let a0 = dice.part(bal(tokens[0]), 5);
                let a1 = match e.pool_ix(pool_id).map(|p| e.pool(p).reserves) {
                    Ok([r0, r1]) if !r0.is_zero() => a0.saturating_mul(r1) / r0 + U256::from(dice.below(1000)),
                    _ => dice.part(bal(tokens[1]), 5),
                };
                Action::AddLiquidity { pool: pool_id.into(), amounts: [a0, a1], min: [U256::ZERO; 2] }
            }
            47..=52 => {
                let lp = dice.part(bal(pool_id), 60);
                Action::RemoveLiquidity { pool: pool_id.into(), liquidity: lp, min: [U256::ZERO; 2] }
            }
            53..=60 => {
                let to = self.actors.addrs[dice.below(ACTORS as u64) as usize];
                let t = tokens[dice.below(2) as usize];
                Action::Transfer { token: t.into(), to, amount: dice.part(bal(t), 3) }
            }
            61..=80 if chain == 0 => {
                let staked = e.farm_pool_ix(FARM_POOL).map(|fp| e.farm_user(fp, me).amount).unwrap_or_default();
                let fp = FARM_POOL.to_string();
                match dice.below(10) {
                    0..=3 => Action::Deposit { farm_pool: fp, amount: dice.part(bal("eth-pool"), 50) },
                    4..=5 => Action::Withdraw { farm_pool: fp, amount: dice.part(staked, 80) },
                    6..=7 => Action::Harvest { farm_pool: fp },
                    8 => Action::EmergencyWithdraw { farm_pool: fp },
                    _ => {
                        return self.sign(
                            e,
                            0,
                            0,
                            Action::FundFarm { farm: FARM.into(), amount: e18(1 + dice.below(10_000)) },
                        );
                    }
                }
            }
            61..=80 => {
                let mine: Vec<u64> = e.positions().filter(|p| p.owner == me).map(|p| p.id).collect();
                let any: Vec<u64> = e.positions().map(|p| p.id).collect();
                let pick = |v: &[u64], d: &mut Dice| v.get(d.below(v.len() as u64) as usize).copied();
                match dice.below(10) {
                    0..=3 => Action::Stake {
                        staking_pool: STAKING.into(),
                        amount: dice.part(bal("CAKE"), 5),
                        term_days: if dice.chance(500) { 0 } else { 30 },
                    },
                    4..=5 => match pick(&mine, dice) {
                        Some(position) => Action::Claim { position },
                        None => Action::Claim { position: u64::MAX },
                    },
                    6..=7 => match pick(&mine, dice) {
                        Some(position) => Action::Unstake { position },
                        None => Action::Unstake { position: u64::MAX },
                    },
                    // Someone else's position: refused.
                    8 => match pick(&any, dice) {
                        Some(position) => Action::Unstake { position },
                        None => Action::Claim { position: 0 },
                    },
                    _ => {
                        return self.sign(
                            e,
                            1,
                            0,
                            Action::NotifyReward {
                                staking_pool: STAKING.into(),
                                amount: e18(1 + dice.below(100_000)),
                                duration_s: DAY * (1 + dice.below(30)),
                            },
                        );
                    }
                }
            }
            // A stranger's owner action: refused.
            81..=83 => Action::SetPaused { farm: FARM.into(), paused: true },
            _ => {
                let t = tokens[dice.below(2) as usize];
                Action::Transfer { token: t.into(), to: self.actors.addrs[0], amount: U256::from(1 + dice.below(1000)) }
            }
        };
        let who = if matches!(action, Action::SetPaused { .. }) { 1 + dice.below(3) as usize } else { who };
        let chain = if matches!(action, Action::SetPaused { .. }) { 0 } else { chain };
        self.sign(e, chain, who, action)
    }

    /// An operator's block close on a random chain, a few seconds to a few days.
    pub fn next_advance(dice: &mut Dice) -> SystemOp {
        let (chain, _) = CHAINS[dice.below(2) as usize];
        let seconds = match dice.below(10) {
            0..=6 => 1 + dice.below(60),
            7..=8 => 60 + dice.below(DAY),
            _ => DAY + dice.below(20 * DAY),
        };
        SystemOp::Advance { chain: chain.into(), seconds }
    }
}
