//! Differential test: the engine's single-token staking pool against Synthetix `StakingRewards`
//! bytecode (`synthetix@2.102.1`, as deployed on mainnet) on revm, to the wei, after every step of
//! hundreds of random sequences (fixed seed).
//!
//! The engine pool offers one flexible term of weight 1.0 and forbids early exit, which is
//! Synthetix's model exactly, with one difference of bookkeeping: Synthetix keeps one balance per
//! account, the engine one position per stake. So an actor stakes only when it holds no open
//! position, and leaves only with `exit()` (the engine has no partial unstake).
//!
//! | engine                                | StakingRewards                                   |
//! |---------------------------------------|--------------------------------------------------|
//! | `Stake { amount, term_days: 0 }`      | `approve` + `stake(amount)`                      |
//! | `Claim { position }`                  | `getReward()`                                    |
//! | `Unstake { position }`                | `exit()`                                         |
//! | `NotifyReward { amount, duration_s }` | distributor transfers, then `notifyRewardAmount` |
//! | `advance(chain, s)`                   | block timestamp + s                              |
//! | (duration passed with each notify)    | `setRewardsDuration` by the owner                |
//!
//! Steps: stakes from dust to whales (and of zero or beyond the balance), claims, exits (and exits
//! with nothing staked), notifies (the first, during a running period so the leftover rolls over,
//! after the period ended, rates that round to zero, rates above what the contract holds, from an
//! intruder, with a zero duration), duration changes (allowed only once the period is over), and
//! clock advances of seconds to weeks, some landing on `periodFinish - 1`, `periodFinish` or
//! `periodFinish + 1`. Everyone exiting during a period leaves zero-supply intervals whose rewards
//! nobody earns on either side.
//!
//! After every step: the step's result (reward paid, principal returned) or a rejection on both
//! sides (the engine's state hash then unchanged); `rewardRate`, `periodFinish`, `lastUpdateTime`,
//! `rewardPerTokenStored`, `rewardPerToken()`, `rewardsDuration`, `totalSupply` against the
//! engine pool; for each actor `balanceOf`, `rewards`, `userRewardPerTokenPaid` and `earned`
//! against its position; the contract's reward-token balance against the pool's reward reserve;
//! and both tokens' balances of every actor, the distributor and the contract (the engine pool's
//! address).

use alloy_primitives::{Address, U256};
use granary_conformance::oracles;
use granary_conformance::rng::Rng;
use granary_conformance::staking_rewards::StakingRewardsEvm;
use granary_engine::staking::{EarlyExit, Term};
use granary_engine::state::PositionId;
use granary_engine::{Action, Engine, Minter, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const SEED: u64 = 0x736e_785f_7374_616b;
const SEQUENCES: usize = 2000;
const DEPLOYER: Address = Address::with_last_byte(0xd0);
/// Synthetix `owner`: may change the duration.
const OWNER: Address = Address::with_last_byte(0x0e);
/// Synthetix `rewardsDistribution` and the engine pool's owner: notifies and pays rewards in.
const DISTRIBUTOR: Address = Address::with_last_byte(0xd1);
const ACTORS: [Address; 4] = [
    Address::with_last_byte(0xa1),
    Address::with_last_byte(0xa2),
    Address::with_last_byte(0xa3),
    Address::with_last_byte(0xa4),
];
const POOL: &str = "SR";
const STAKE_ID: &str = "STK";
const REWARD_ID: &str = "RWD";
const DAY: u64 = 86_400;
/// `rewardsDuration` of a freshly deployed StakingRewards.
const DEFAULT_DURATION: u64 = 7 * DAY;
/// Stake tokens each actor starts with.
const ACTOR_STAKE_BITS: usize = 128;
/// Reward tokens the distributor starts with: enough for notifies far above the engine's rate cap.
const DISTRIBUTOR_REWARD_BITS: usize = 200;
/// ERC20 supply minted to the deployer, who funds everyone.
const SUPPLY_BITS: usize = 250;
/// The engine's largest reward rate (`MAX_REWARD_PER_SECOND`): 2^128 - 1.
const RATE_CAP_BITS: usize = 128;
/// A position id the engine never issues in a sequence.
const NEVER_ISSUED: PositionId = 1 << 40;

fn pow2(bits: usize) -> U256 {
    U256::from(1u8) << bits
}

fn bit_len(x: u64) -> i64 {
    i64::from(64 - x.leading_zeros())
}

/// What kind of notify a step is (for the tally; the sides see only the amounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NotifyKind {
    /// Fully funded, any size.
    Funded,
    /// Fully funded, below the duration: the new rate is the leftover's share only (or zero).
    Dust,
    /// A rate above the engine's cap, funded with less than the reward: "Provided reward too
    /// high" on the EVM, `reward_too_high` in the engine.
    TooHigh,
    /// Sent by an actor (actor 0), not the distributor.
    Intruder,
}

/// One step of a sequence.
#[derive(Debug, Clone)]
enum Step {
    Stake {
        actor: usize,
        amount: U256,
    },
    Claim {
        actor: usize,
    },
    /// The actor's open position; when it has none, its last closed one (or one never issued).
    Exit {
        actor: usize,
    },
    Notify {
        kind: NotifyKind,
        reward: U256,
        /// What the EVM sender transfers to the contract before notifying.
        fund: U256,
    },
    /// `setRewardsDuration` by the owner.
    SetDuration {
        seconds: u64,
    },
}

const KINDS: [&str; 5] = ["stake", "claim", "exit", "notify", "set-duration"];

fn kind(step: &Step) -> usize {
    match step {
        Step::Stake { .. } => 0,
        Step::Claim { .. } => 1,
        Step::Exit { .. } => 2,
        Step::Notify { .. } => 3,
        Step::SetDuration { .. } => 4,
    }
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StepResult {
    Staked,
    Claimed { reward: U256 },
    Exited { principal: U256, reward: U256 },
    Notified,
    DurationSet,
}

struct World {
    engine: Engine,
    chain: usize,
    pool: usize,
    stake_token: usize,
    reward_token: usize,
    pool_address: Address,
    evm: StakingRewardsEvm,
    /// The contract's `rewardsDuration`, given to every engine notify.
    duration: u64,
    open: [Option<PositionId>; ACTORS.len()],
    closed: [Option<PositionId>; ACTORS.len()],
}

impl World {
    fn new(artifacts: &oracles::StakingRewardsArtifacts, start: u64) -> Self {
        let stake_funds = pow2(ACTOR_STAKE_BITS);
        let reward_funds = pow2(DISTRIBUTOR_REWARD_BITS);
        let supply = pow2(SUPPLY_BITS);
        let mut evm = StakingRewardsEvm::deploy(artifacts, DEPLOYER, OWNER, DISTRIBUTOR, [supply, supply], start)
            .expect("deploy");
        let (stk, rwd) = (evm.staking_token, evm.rewards_token);
        for a in ACTORS {
            evm.transfer(stk, DEPLOYER, a, stake_funds).expect("fund");
        }
        evm.transfer(rwd, DEPLOYER, DISTRIBUTOR, reward_funds).expect("fund");

        let mut engine = Engine::new();
        let chain = engine.create_chain("evm", 1, "evm", 12).expect("chain");
        engine.advance(chain, start).expect("clock");
        let stake_token = engine.create_token(STAKE_ID, chain, STAKE_ID, 18, Minter::Account(DEPLOYER)).expect("token");
        let reward_token =
            engine.create_token(REWARD_ID, chain, REWARD_ID, 18, Minter::Account(DEPLOYER)).expect("token");
        for a in ACTORS {
            engine.faucet_mint(stake_token, a, stake_funds).expect("fund");
        }
        engine.faucet_mint(reward_token, DISTRIBUTOR, reward_funds).expect("fund");
        engine
            .execute(
                DISTRIBUTOR,
                &Action::CreateStakingPool {
                    id: POOL.into(),
                    stake_token: STAKE_ID.into(),
                    reward_token: REWARD_ID.into(),
                    terms: vec![Term { days: 0, boost_bps: 10_000 }],
                    early_exit: EarlyExit::Forbidden,
                },
            )
            .expect("staking pool");
        let pool = engine.staking_ix(POOL).expect("staking pool ix");
        let pool_address = engine.staking_pool(pool).address;
        assert_eq!(engine.now(chain), evm.timestamp());
        assert_eq!(evm.rewards_duration(), U256::from(DEFAULT_DURATION));
        Self {
            engine,
            chain,
            pool,
            stake_token,
            reward_token,
            pool_address,
            evm,
            duration: DEFAULT_DURATION,
            open: [None; ACTORS.len()],
            closed: [None; ACTORS.len()],
        }
    }

    fn now(&self) -> u64 {
        self.engine.now(self.chain)
    }

    fn advance(&mut self, seconds: u64) {
        self.engine.advance(self.chain, seconds).expect("advance");
        self.evm.set_timestamp(self.now());
    }

    fn run_engine(&mut self, step: &Step) -> Result<StepResult, String> {
        if let Step::SetDuration { .. } = step {
            // No engine action: the duration travels with each notify. The contract allows the
            // change exactly when its period is over, which is read off the engine pool.
            let finish = self.engine.staking_pool(self.pool).period_finish;
            return if self.now() > finish {
                Ok(StepResult::DurationSet)
            } else {
                Err(format!("period running (engine now {} <= period_finish {finish})", self.now()))
            };
        }
        let (sender, action) = match step {
            Step::Stake { actor, amount } => {
                (ACTORS[*actor], Action::Stake { staking_pool: POOL.into(), amount: *amount, term_days: 0 })
            }
            Step::Claim { actor } => (
                ACTORS[*actor],
                Action::Claim { position: self.open[*actor].expect("claims are by actors with a position") },
            ),
            Step::Exit { actor } => (
                ACTORS[*actor],
                Action::Unstake { position: self.open[*actor].or(self.closed[*actor]).unwrap_or(NEVER_ISSUED) },
            ),
            Step::Notify { kind, reward, .. } => (
                match kind {
                    NotifyKind::Intruder => ACTORS[0],
                    _ => DISTRIBUTOR,
                },
                Action::NotifyReward { staking_pool: POOL.into(), amount: *reward, duration_s: self.duration },
            ),
            Step::SetDuration { .. } => unreachable!("handled above"),
        };
        let before = self.engine.state_hash();
        match self.engine.execute(sender, &action) {
            Ok(outcome) => Ok(match (step, outcome) {
                (Step::Stake { actor, .. }, Outcome::Staked { position, .. }) => {
                    self.open[*actor] = Some(position);
                    StepResult::Staked
                }
                (Step::Claim { .. }, Outcome::Claimed { reward, unpaid }) => {
                    assert!(unpaid.is_zero(), "the engine clamped a claim to its reserve: {unpaid} left unpaid");
                    StepResult::Claimed { reward }
                }
                (Step::Exit { actor }, Outcome::Unstaked(u)) => {
                    assert!(u.penalty.is_zero(), "a flexible position paid a penalty");
                    assert!(
                        u.unpaid.is_zero(),
                        "the engine clamped an exit's reward to its reserve: {} left unpaid",
                        u.unpaid
                    );
                    self.closed[*actor] = self.open[*actor].take();
                    StepResult::Exited { principal: u.amount, reward: u.reward }
                }
                (Step::Notify { .. }, Outcome::Done) => StepResult::Notified,
                (step, outcome) => panic!("unexpected outcome {outcome:?} of {step:?}"),
            }),
            Err(e) => {
                assert_eq!(self.engine.state_hash(), before, "a rejected step ({e}) changed the engine state");
                Err(format!("{} ({e})", e.code()))
            }
        }
    }

    fn run_evm(&mut self, step: &Step) -> Result<StepResult, String> {
        let (stk, rwd) = (self.evm.staking_token, self.evm.rewards_token);
        let r = match step {
            Step::Stake { actor, amount } => self.evm.stake(ACTORS[*actor], *amount).map(|()| StepResult::Staked),
            Step::Claim { actor } => {
                let a = ACTORS[*actor];
                let before = self.evm.token_balance(rwd, a);
                self.evm.get_reward(a).map(|()| StepResult::Claimed { reward: self.evm.token_balance(rwd, a) - before })
            }
            Step::Exit { actor } => {
                let a = ACTORS[*actor];
                let before = [self.evm.token_balance(stk, a), self.evm.token_balance(rwd, a)];
                self.evm.exit(a).map(|()| StepResult::Exited {
                    principal: self.evm.token_balance(stk, a) - before[0],
                    reward: self.evm.token_balance(rwd, a) - before[1],
                })
            }
            Step::Notify { kind, reward, fund } => {
                let from = match kind {
                    NotifyKind::Intruder => ACTORS[0],
                    _ => DISTRIBUTOR,
                };
                self.evm.fund_and_notify(from, *fund, *reward).map(|()| StepResult::Notified)
            }
            Step::SetDuration { seconds } => {
                self.evm.set_rewards_duration(OWNER, U256::from(*seconds)).map(|()| StepResult::DurationSet)
            }
        };
        r.map_err(|e| e.0)
    }

    /// Every observable of the pool on both sides; the differences, if any.
    fn differences(&mut self) -> Vec<String> {
        let mut diffs = Vec::new();
        let now = self.now();
        let p = self.engine.staking_pool(self.pool).clone();
        let s = self.evm.pool_state();
        check(&mut diffs, "rewardRate", p.reward_rate, s.reward_rate);
        check(&mut diffs, "periodFinish", U256::from(p.period_finish), s.period_finish);
        check(&mut diffs, "lastUpdateTime", U256::from(p.last_update_time), s.last_update_time);
        check(&mut diffs, "rewardPerTokenStored", p.reward_per_token_stored, s.reward_per_token_stored);
        check(&mut diffs, "totalSupply (total_staked)", p.total_staked, s.total_supply);
        check(&mut diffs, "totalSupply (total_weight)", p.total_weight, s.total_supply);
        check(&mut diffs, "rewardsDuration", U256::from(self.duration), s.rewards_duration);
        match (p.reward_per_token(now), &s.reward_per_token) {
            (Ok(a), Ok(b)) => check(&mut diffs, "rewardPerToken()", a, *b),
            (Err(_), Err(_)) => {}
            (a, b) => diffs.push(format!("rewardPerToken(): engine {a:?} / evm {b:?}")),
        }
        let contract = self.evm.contract;
        let (stk, rwd) = (self.evm.staking_token, self.evm.rewards_token);
        let reserve_evm = self.evm.token_balance(rwd, contract);
        check(&mut diffs, "reward reserve", p.reward_reserve, reserve_evm);
        for (k, who) in ACTORS.iter().enumerate() {
            let acct = self.evm.account_state(*who);
            match self.open[k] {
                Some(id) => {
                    let pos = self.engine.position(id).unwrap_or_else(|e| panic!("open position {id}: {e}")).clone();
                    check(&mut diffs, format!("actor{k} balanceOf"), pos.amount, acct.balance);
                    check(&mut diffs, format!("actor{k} rewards"), pos.rewards, acct.rewards);
                    check(
                        &mut diffs,
                        format!("actor{k} userRewardPerTokenPaid"),
                        pos.reward_per_token_paid,
                        acct.user_reward_per_token_paid,
                    );
                    match (self.engine.position_pending(id), &acct.earned) {
                        (Ok(a), Ok(b)) => check(&mut diffs, format!("actor{k} earned"), a, *b),
                        (Err(_), Err(_)) => {}
                        (a, b) => {
                            diffs.push(format!("actor{k} earned: engine {a:?} / evm {b:?}"));
                        }
                    }
                }
                None => {
                    if let Some(id) = self.closed[k]
                        && self.engine.position(id).is_ok()
                    {
                        diffs.push(format!("actor{k}: closed position {id} still exists"));
                    }
                    check(&mut diffs, format!("actor{k} balanceOf (none open)"), U256::ZERO, acct.balance);
                    check(&mut diffs, format!("actor{k} rewards (none open)"), U256::ZERO, acct.rewards);
                    match &acct.earned {
                        Ok(e) => check(&mut diffs, format!("actor{k} earned (none open)"), U256::ZERO, *e),
                        Err(e) => diffs.push(format!("actor{k} earned reverted: {e}")),
                    }
                }
            }
        }
        let holders = ACTORS
            .iter()
            .enumerate()
            .map(|(k, a)| (format!("actor{k}"), *a, *a))
            .chain([
                ("distributor".to_string(), DISTRIBUTOR, DISTRIBUTOR),
                ("contract".to_string(), self.pool_address, contract),
            ])
            .collect::<Vec<_>>();
        for (name, engine_who, evm_who) in holders {
            let stake = self.evm.token_balance(stk, evm_who);
            let reward = self.evm.token_balance(rwd, evm_who);
            check(
                &mut diffs,
                format!("{STAKE_ID} balance of {name}"),
                self.engine.balance(self.stake_token, engine_who),
                stake,
            );
            check(
                &mut diffs,
                format!("{REWARD_ID} balance of {name}"),
                self.engine.balance(self.reward_token, engine_who),
                reward,
            );
        }
        diffs
    }
}

/// Record a difference between the engine's and the EVM's value of `what`.
fn check(diffs: &mut Vec<String>, what: impl std::fmt::Display, engine: U256, evm: U256) {
    if engine != evm {
        diffs.push(format!("{what}: engine {engine} != evm {evm}"));
    }
}

/// A random step given the current state.
fn random_step(rng: &mut Rng, w: &World) -> Step {
    let with: Vec<usize> = (0..ACTORS.len()).filter(|&a| w.open[a].is_some()).collect();
    let without: Vec<usize> = (0..ACTORS.len()).filter(|&a| w.open[a].is_none()).collect();
    let pick = |rng: &mut Rng, from: &[usize]| from[rng.below(from.len() as u64) as usize];
    let mut roll = rng.below(100);
    if (roll < 30 && without.is_empty()) || ((30..62).contains(&roll) && with.is_empty()) {
        roll = 62 + rng.below(38);
    }
    if roll < 30 {
        let actor = pick(rng, &without);
        let balance = w.engine.balance(w.stake_token, ACTORS[actor]);
        let amount = match rng.below(24) {
            0 => U256::ZERO,
            1 => balance + U256::from(1 + rng.below(1000)),
            2..=5 => U256::from(1 + rng.below(1000)),
            6..=9 => rng.bits_in(20, 60),
            10..=18 => rng.bits_in(60, 90),
            _ => rng.bits_in(100, ACTOR_STAKE_BITS as i64 - 1),
        };
        return Step::Stake { actor, amount };
    }
    if roll < 45 {
        return Step::Claim { actor: pick(rng, &with) };
    }
    if roll < 62 {
        let actor = if without.is_empty() || rng.chance(90) { pick(rng, &with) } else { pick(rng, &without) };
        return Step::Exit { actor };
    }
    if roll < 90 {
        let d = w.duration.max(1);
        let (kind, reward, fund) = match rng.below(20) {
            0..=12 => {
                // rates from under one wei per second to ~2^80 per second
                let r = rng.bits_in(bit_len(d) - 4, bit_len(d) + 80);
                (NotifyKind::Funded, r, r)
            }
            13 | 14 => {
                let r = U256::from(1 + rng.below(d));
                (NotifyKind::Dust, r, r)
            }
            15 | 16 => {
                let r = U256::from(d) * pow2(RATE_CAP_BITS) + rng.below_u256(pow2(160));
                let fund = if rng.chance(30) { U256::ZERO } else { rng.below_u256(r >> 1) };
                (NotifyKind::TooHigh, r, fund)
            }
            17 => {
                // the access check refuses it, whether the intruder pays in first or not
                let r = rng.bits_in(bit_len(d), bit_len(d) + 40);
                let have = w.engine.balance(w.reward_token, ACTORS[0]);
                let fund = if rng.chance(50) { r.min(have) } else { U256::ZERO };
                (NotifyKind::Intruder, r, fund)
            }
            _ => {
                let r = rng.bits_in(bit_len(d) + 80, bit_len(d) + 110);
                (NotifyKind::Funded, r, r)
            }
        };
        return Step::Notify { kind, reward, fund };
    }
    let seconds = match rng.below(16) {
        0 => 0,
        1 => 1,
        2 => DAY,
        3 => DEFAULT_DURATION,
        4 => 30 * DAY,
        5..=7 => 1 + rng.below(3_600),
        _ => 1 + rng.below(60 * DAY),
    };
    Step::SetDuration { seconds }
}

/// A clock advance before a step, if any.
fn random_advance(rng: &mut Rng, w: &World) -> Option<u64> {
    let now = w.now();
    match rng.below(20) {
        0..=5 => None,
        6 => Some(0),
        7..=9 => Some(1 + rng.below(60)),
        10..=12 => Some(1 + rng.below(DAY)),
        13..=15 => Some(1 + rng.below(7 * DAY)),
        16 => Some(1 + rng.below(35 * DAY)),
        _ => {
            // onto the period's edge: periodFinish - 1, periodFinish or periodFinish + 1
            let finish = w.engine.staking_pool(w.pool).period_finish;
            let target = (finish + rng.below(3)).saturating_sub(1);
            Some(target.checked_sub(now).unwrap_or_else(|| rng.below(1_000)))
        }
    }
}

#[derive(Default)]
struct Tally {
    sequences: usize,
    steps: usize,
    both_ok: [usize; 5],
    both_err: [usize; 5],
    advances: usize,
    /// Advances by > 0 s while a period runs and nothing is staked.
    zero_supply_intervals: usize,
    /// Accepted notifies: the first of a sequence, during a running period, after one ended.
    notify_first: usize,
    notify_rollover: usize,
    notify_after_end: usize,
    notify_kinds: BTreeMap<(NotifyKind, bool), usize>,
    /// Steps taken at `now == periodFinish` (the boundary of `lastTimeRewardApplicable`).
    at_period_finish: usize,
    rewards_paid: usize,
    /// (step kind, engine error code, EVM revert reason) → count.
    rejections: BTreeMap<(usize, String, String), usize>,
}

#[test]
fn engine_matches_synthetix_staking_rewards_bytecode_to_the_wei() {
    let artifacts = oracles::staking_rewards().expect("StakingRewards artifacts");
    let mut rng = Rng::seeded(SEED);
    let mut tally = Tally::default();
    for seq in 0..SEQUENCES {
        let start = 1_600_000_000 + rng.below(200_000_000);
        let mut w = World::new(&artifacts, start);
        let len = 20 + rng.below(21);
        let mut log = String::new();
        let _ = writeln!(log, "sequence {seq}: start {start}");
        for i in 0..len {
            if let Some(dt) = random_advance(&mut rng, &w) {
                let p = w.engine.staking_pool(w.pool);
                if dt > 0 && p.total_staked.is_zero() && w.now() < p.period_finish {
                    tally.zero_supply_intervals += 1;
                }
                w.advance(dt);
                tally.advances += 1;
                let _ = writeln!(log, "  advance {dt} s -> t = {}", w.now());
            }
            let step = random_step(&mut rng, &w);
            let finish = w.engine.staking_pool(w.pool).period_finish;
            let now = w.now();
            tally.at_period_finish += usize::from(now == finish);
            let e = w.run_engine(&step);
            let v = w.run_evm(&step);
            let _ = writeln!(log, "  step {i}: {step:?}\n    engine {e:?}\n    evm    {v:?}");
            match (&e, &v) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{log}results differ");
                    tally.both_ok[kind(&step)] += 1;
                    match (&step, a) {
                        (Step::SetDuration { seconds }, _) => w.duration = *seconds,
                        (Step::Notify { .. }, _) => {
                            if finish == 0 {
                                tally.notify_first += 1;
                            } else if now < finish {
                                tally.notify_rollover += 1;
                            } else {
                                tally.notify_after_end += 1;
                            }
                        }
                        (_, StepResult::Claimed { reward } | StepResult::Exited { reward, .. }) => {
                            tally.rewards_paid += usize::from(!reward.is_zero());
                        }
                        _ => {}
                    }
                }
                (Err(a), Err(b)) => {
                    tally.both_err[kind(&step)] += 1;
                    let code = a.split(' ').next().unwrap_or_default().to_string();
                    let key = (kind(&step), code, b.clone());
                    *tally.rejections.entry(key).or_default() += 1;
                }
                _ => panic!("{log}one side rejected the step, the other did not"),
            }
            if let Step::Notify { kind, .. } = step {
                *tally.notify_kinds.entry((kind, e.is_ok())).or_default() += 1;
            }
            let diffs = w.differences();
            assert!(diffs.is_empty(), "{log}state differs:\n  {}", diffs.join("\n  "));
            tally.steps += 1;
        }
        tally.sequences += 1;
    }

    let per_kind: Vec<String> = (0..KINDS.len())
        .map(|k| format!("{} {} ok/{} rejected", KINDS[k], tally.both_ok[k], tally.both_err[k]))
        .collect();
    println!(
        "staking_rewards_differential: {} sequences, {} steps compared to the wei after each \
         step, {} clock advances ({} over zero-supply intervals of a running period, {} steps at \
         now == periodFinish); {}; accepted notifies: {} first, {} rolling a leftover over, {} \
         after the period ended; {} claims/exits paid a reward",
        tally.sequences,
        tally.steps,
        tally.advances,
        tally.zero_supply_intervals,
        tally.at_period_finish,
        per_kind.join(", "),
        tally.notify_first,
        tally.notify_rollover,
        tally.notify_after_end,
        tally.rewards_paid,
    );
    println!("notifies by kind (count, kind, outcome on both sides):");
    for ((kind, ok), count) in &tally.notify_kinds {
        println!("  {count:6}  {kind:?} {}", if *ok { "accepted" } else { "rejected" });
    }
    println!("rejected by both (count, step, engine error code, EVM revert reason):");
    for ((k, code, reason), count) in &tally.rejections {
        println!("  {count:6}  {:<12}  {code:<22}  {reason}", KINDS[*k]);
    }

    assert_eq!(tally.sequences, SEQUENCES);
    assert!(tally.sequences >= 500);
    assert!(tally.steps >= 500 * 20);
    for (k, name) in KINDS.iter().enumerate() {
        // A claim (by an actor with an open position) is never refused on either side.
        let min_rejected = if k == 1 { 0 } else { 20 };
        assert!(tally.both_ok[k] >= 100 && tally.both_err[k] >= min_rejected, "too little coverage of {name}");
    }
    assert_eq!(tally.both_err[1], 0, "claims refused");
    assert!(tally.notify_first >= 200, "first notifies");
    assert!(tally.notify_rollover >= 200, "notifies rolling a leftover over");
    assert!(tally.notify_after_end >= 100, "notifies after the period ended");
    assert!(tally.zero_supply_intervals >= 100, "zero-supply intervals");
    assert!(tally.at_period_finish >= 50, "steps at periodFinish");
    assert!(tally.rewards_paid >= 1000, "rewards paid");
    let too_high = tally
        .rejections
        .iter()
        .filter(|((k, code, reason), _)| *k == 3 && code == "reward_too_high" && reason == "Provided reward too high")
        .map(|(_, n)| *n)
        .sum::<usize>();
    assert!(too_high >= 100, "notifies refused as too high on both sides: {too_high}");
}

// ----- Where the two models part (pinned, so a change on either side is noticed) -----

const START: u64 = 1_700_000_000;

fn fresh() -> World {
    let artifacts = oracles::staking_rewards().expect("StakingRewards artifacts");
    World::new(&artifacts, START)
}

fn funded_notify(reward: U256) -> Step {
    Step::Notify { kind: NotifyKind::Funded, reward, fund: reward }
}

/// Run `step` on both sides and require the same result, then the same state.
fn both(w: &mut World, step: &Step) -> StepResult {
    let (e, v) = (w.run_engine(step), w.run_evm(step));
    assert_eq!(e, v, "{step:?}");
    let diffs = w.differences();
    assert!(diffs.is_empty(), "{step:?}: {}", diffs.join("; "));
    e.unwrap_or_else(|e| panic!("{step:?}: {e}"))
}

fn engine_code(r: &Result<StepResult, String>) -> &str {
    r.as_ref().err().and_then(|e| e.split(' ').next()).unwrap_or("accepted")
}

/// `notifyRewardAmount(0)` is accepted by StakingRewards and by the engine alike: the leftover is
/// spread over a new full duration and `periodFinish` moves out.
#[test]
fn notify_of_zero_spreads_the_leftover() {
    let mut w = fresh();
    both(&mut w, &Step::Stake { actor: 0, amount: pow2(60) });
    both(&mut w, &funded_notify(U256::from(DEFAULT_DURATION * 1000)));
    w.advance(DAY);
    let zero = funded_notify(U256::ZERO);
    let (e, v) = (w.run_engine(&zero), w.run_evm(&zero));
    let s = w.evm.pool_state();
    assert_eq!(engine_code(&e), "accepted");
    assert_eq!(v, Ok(StepResult::Notified));
    // (6 days · 1000/s) / 7 days
    assert_eq!(s.reward_rate, U256::from(857u32));
    assert_eq!(s.period_finish, U256::from(START + DAY + DEFAULT_DURATION));
    assert!(w.differences().is_empty(), "{:?}", w.differences());
}

/// The engine caps a staking pool's rate at 2^128 - 1 per second; StakingRewards accepts any rate
/// the contract's balance covers (`rewardRate <= balance / rewardsDuration`), and at 2^128 per
/// second still settles without overflow (`elapsed · rate · 1e18 < 2^256` for a week).
#[test]
fn difference_rate_cap() {
    let mut w = fresh();
    let staked = pow2(60);
    both(&mut w, &Step::Stake { actor: 0, amount: staked });
    let d = U256::from(DEFAULT_DURATION);
    // At the cap: the same on both sides.
    both(&mut w, &funded_notify(d * (pow2(RATE_CAP_BITS) - U256::from(1u8))));
    w.advance(DEFAULT_DURATION + 1);
    both(&mut w, &Step::Exit { actor: 0 });
    both(&mut w, &Step::Stake { actor: 0, amount: staked });
    // One above the cap, fully funded.
    let reward = d * pow2(RATE_CAP_BITS);
    let step = funded_notify(reward);
    let (e, v) = (w.run_engine(&step), w.run_evm(&step));
    println!("notify of 2^128 per second for 7 days, fully funded: engine {}, StakingRewards {v:?}", engine_code(&e));
    assert_eq!(engine_code(&e), "reward_too_high");
    assert_eq!(v, Ok(StepResult::Notified));
    assert_eq!(w.evm.pool_state().reward_rate, pow2(RATE_CAP_BITS));
    // The contract pays it out in full at the end of the period.
    w.evm.set_timestamp(w.now() + DEFAULT_DURATION);
    let v = w.run_evm(&Step::Exit { actor: 0 });
    assert_eq!(v, Ok(StepResult::Exited { principal: staked, reward }));
}

/// StakingRewards checks a notify against its whole reward-token balance, which includes rewards
/// already earned and not yet claimed: a notify funded with less than the reward can pass and
/// leave the contract owing more than it holds, and then `getReward` (so `exit`) reverts. The
/// engine's notify always pays the whole amount in, so its pool never owes more than it holds and
/// the clamp of a claim to the reserve (`unpaid`) is not reached from these sequences.
#[test]
fn difference_underfunded_notify() {
    let mut w = fresh();
    let d = U256::from(DEFAULT_DURATION);
    both(&mut w, &Step::Stake { actor: 0, amount: pow2(60) });
    both(&mut w, &funded_notify(d)); // 1 per second
    w.advance(DEFAULT_DURATION);
    // The distributor notifies another week at 1 per second but pays nothing in: the contract
    // counts the week already earned by actor 0 as cover.
    let unfunded = Step::Notify { kind: NotifyKind::Funded, reward: d, fund: U256::ZERO };
    assert_eq!(w.run_evm(&unfunded), Ok(StepResult::Notified));
    // The engine has no unfunded notify: the same notify pays `d` in.
    assert_eq!(w.run_engine(&unfunded), Ok(StepResult::Notified));
    w.advance(DEFAULT_DURATION);
    let earned = w.evm.earned(ACTORS[0]).expect("earned");
    let held = w.evm.token_balance(w.evm.rewards_token, w.evm.contract);
    let exit = Step::Exit { actor: 0 };
    let (e, v) = (w.run_engine(&exit), w.run_evm(&exit));
    println!(
        "exit after a notify funded with 0 of {d}: engine {e:?}, StakingRewards {v:?} (earned \
         {earned}, held {held})"
    );
    assert!(earned > held, "the contract owes more than it holds");
    assert_eq!(e, Ok(StepResult::Exited { principal: pow2(60), reward: earned }));
    assert_eq!(v, Err("SafeERC20: low-level call failed".to_string()));
}

/// A position's weight is `amount · boost_bps / 10000`, computed with a checked 256-bit product,
/// so the engine refuses stakes above (2^256 - 1) / 10000 (about 2^242.7) even at a weight of 1.0;
/// StakingRewards takes any amount the staker holds.
#[test]
fn difference_weight_overflow() {
    let mut w = fresh();
    let amount = U256::MAX / U256::from(10_000u32) + U256::from(1u8);
    w.engine.faucet_mint(w.stake_token, ACTORS[0], amount).expect("fund");
    let stk = w.evm.staking_token;
    w.evm.transfer(stk, DEPLOYER, ACTORS[0], amount).expect("fund");
    let step = Step::Stake { actor: 0, amount };
    let (e, v) = (w.run_engine(&step), w.run_evm(&step));
    println!("stake of (2^256 - 1) / 10000 + 1: engine {}, StakingRewards {v:?}", engine_code(&e));
    assert_eq!(engine_code(&e), "overflow");
    assert_eq!(v, Ok(StepResult::Staked));
}

/// The functions the harness calls are in the deployed ABI, with the argument types it encodes.
#[test]
fn harness_selectors_are_in_the_deployed_abi() {
    use granary_conformance::staking_rewards::selector;
    let artifacts = oracles::staking_rewards().expect("StakingRewards artifacts");
    let abi = artifacts.staking_rewards.abi.as_array().expect("ABI is an array");
    let signatures: Vec<String> = abi
        .iter()
        .filter(|e| e["type"] == "function")
        .map(|e| {
            let inputs: Vec<&str> = e["inputs"]
                .as_array()
                .map(|a| a.iter().filter_map(|i| i["type"].as_str()).collect())
                .unwrap_or_default();
            format!("{}({})", e["name"].as_str().unwrap_or(""), inputs.join(","))
        })
        .collect();
    for (_, sig) in selector::ALL {
        assert!(signatures.iter().any(|s| s == sig), "{sig} not in the ABI");
    }
    let ctor = abi.iter().find(|e| e["type"] == "constructor").expect("constructor");
    let names: Vec<&str> =
        ctor["inputs"].as_array().map(|a| a.iter().filter_map(|i| i["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, ["_owner", "_rewardsDistribution", "_rewardsToken", "_stakingToken"]);
}
