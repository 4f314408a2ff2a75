//! Property tests of the engine's invariants over random sequences of actions:
//! conservation of every token, `k` never decreasing on a swap, LP supply = 1000 locked + Σ
//! balances, rewards paid ≤ rewards emitted, a failed step changes nothing, and no action of one
//! account moves another's funds. Case counts scale with `GRANARY_PROPTEST_CASES` (default below;
//! the suite runs > 10 000 cases in all).

use granary_engine::codec::{ActionParts, Decoder, Encoder};
use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, Outcome, SignedTransaction, Transaction, U256};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn cases(default: u32) -> u32 {
    let scale: f64 = std::env::var("GRANARY_PROPTEST_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ((f64::from(default) * scale) as u32).max(1)
}

fn actor(i: usize) -> Address {
    key_address(&dev_key(&format!("actor{i}")))
}
const ACTORS: usize = 4;

fn pow10(e: u32) -> U256 {
    U256::from(10u8).pow(U256::from(e))
}

/// Amounts spanning dust to whales: m · 10^e.
fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        (1u64..2000).prop_map(U256::from),
        (1u64..1_000_000, 9u32..22).prop_map(|(m, e)| U256::from(m) * pow10(e)),
    ]
}

/// Everything an invariant check needs to compare before and after a step.
fn all_balances(e: &Engine) -> BTreeMap<(usize, Address), U256> {
    let mut m = BTreeMap::new();
    for t in 0..e.tokens().len() {
        for (a, b) in e.holders(t) {
            m.insert((t, a), b);
        }
    }
    m
}

fn assert_conservation(e: &Engine) {
    for (t, token) in e.tokens().iter().enumerate() {
        let sum = e.holders(t).iter().fold(U256::ZERO, |s, (_, b)| s + *b);
        assert_eq!(sum, token.total_supply, "token {} not conserved", token.id);
    }
}

/// Apply `action` as `who`; assert the failed-step and other-accounts invariants. Returns the outcome.
fn step(e: &mut Engine, who: Address, action: &Action, may_receive: &[Address]) -> Option<Outcome> {
    let before_hash = e.state_hash();
    let before = all_balances(e);
    let r = e.execute(who, action);
    match &r {
        Err(_) => assert_eq!(e.state_hash(), before_hash, "failed {action:?} changed the state"),
        Ok(_) => {
            let after = all_balances(e);
            for i in 0..ACTORS {
                let y = actor(i);
                if y == who {
                    continue;
                }
                for t in 0..e.tokens().len() {
                    let (b, a) = (
                        before.get(&(t, y)).copied().unwrap_or_default(),
                        after.get(&(t, y)).copied().unwrap_or_default(),
                    );
                    if may_receive.contains(&y) {
                        assert!(a >= b, "{action:?} by {who} took {y}'s funds");
                    } else {
                        assert_eq!(a, b, "{action:?} by {who} moved {y}'s funds");
                    }
                }
            }
        }
    }
    assert_conservation(e);
    assert_eq!(e.check_invariants(), Ok(()), "after {action:?}");
    r.ok()
}

/// A snapshot of the state restores to the same bytes.
fn assert_snapshot_round_trips(e: &Engine) {
    let bytes = e.encode_state();
    let restored = Engine::decode_state(&bytes).map(|d| d.encode_state());
    assert_eq!(restored.as_deref().ok(), Some(bytes.as_slice()), "snapshot round trip");
}

// ---------------------------------------------------------------- constant-product pools

#[derive(Debug, Clone)]
enum AmmOp {
    Add { who: usize, pool: usize, a: U256, b: U256 },
    Remove { who: usize, pool: usize, bps: u32 },
    Swap { who: usize, route: usize, reverse: bool, amount: U256, exact_out: bool },
    Transfer { who: usize, to: usize, token: usize, amount: U256 },
    Advance { seconds: u64 },
}

fn amm_op() -> impl Strategy<Value = AmmOp> {
    prop_oneof![
        3 => (0..ACTORS, 0..2usize, amount(), amount()).prop_map(|(who, pool, a, b)| AmmOp::Add { who, pool, a, b }),
        2 => (0..ACTORS, 0..2usize, 1u32..=10_000).prop_map(|(who, pool, bps)| AmmOp::Remove { who, pool, bps }),
        5 => (0..ACTORS, 0..4usize, any::<bool>(), amount(), any::<bool>())
            .prop_map(|(who, route, reverse, amount, exact_out)| AmmOp::Swap { who, route, reverse, amount, exact_out }),
        1 => (0..ACTORS, 0..ACTORS, 0..3usize, amount()).prop_map(|(who, to, token, amount)| AmmOp::Transfer { who, to, token, amount }),
        1 => (1u64..100_000).prop_map(|seconds| AmmOp::Advance { seconds }),
    ]
}

const TOKENS: [&str; 3] = ["A", "B", "C"];

fn amm_world(fee_on: bool) -> Engine {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    for id in TOKENS {
        let t = e.create_token(id, c, id, 18, Minter::Nobody).unwrap_or(0);
        for i in 0..ACTORS {
            assert!(e.faucet_mint(t, actor(i), pow10(27)).is_ok());
        }
    }
    let creator = key_address(&dev_key("creator"));
    let fee_to = key_address(&dev_key("treasury"));
    for (id, t0, t1, fee) in [("P", "A", "B", 30u32), ("Q", "B", "C", 25)] {
        let create = Action::CreatePool { id: id.into(), tokens: [t0.into(), t1.into()], fee_bps: fee };
        assert!(e.execute(creator, &create).is_ok());
        if fee_on {
            assert!(e.execute(creator, &Action::SetFeeTo { pool: id.into(), fee_to: Some(fee_to) }).is_ok());
        }
    }
    e
}

fn run_amm(fee_on: bool, ops: &[AmmOp]) {
    let mut e = amm_world(fee_on);
    let pools = ["P", "Q"];
    let routes: [(&[&str], &str, &str); 4] =
        [(&["P"], "A", "B"), (&["Q"], "B", "C"), (&["P", "Q"], "A", "C"), (&["Q", "P"], "C", "A")];
    for op in ops {
        match op {
            AmmOp::Add { who, pool, a, b } => {
                let action =
                    Action::AddLiquidity { pool: pools[*pool].into(), amounts: [*a, *b], min: [U256::ZERO; 2] };
                step(&mut e, actor(*who), &action, &[]);
            }
            AmmOp::Remove { who, pool, bps } => {
                let lp = e.token_ix(pools[*pool]).unwrap_or(0);
                let liquidity = e.balance(lp, actor(*who)) * U256::from(*bps) / U256::from(10_000u32);
                let action = Action::RemoveLiquidity { pool: pools[*pool].into(), liquidity, min: [U256::ZERO; 2] };
                step(&mut e, actor(*who), &action, &[]);
            }
            AmmOp::Swap { who, route, reverse, amount, exact_out } => {
                let (path, a, c) = routes[*route];
                let (mut path, token_in) =
                    (path.iter().map(|p| p.to_string()).collect::<Vec<_>>(), if *reverse { c } else { a });
                if *reverse {
                    path.reverse();
                }
                let ks: Vec<U256> = e.pools().iter().map(|p| p.reserves[0] * p.reserves[1]).collect();
                let reserves_before: Vec<[U256; 2]> = e.pools().iter().map(|p| p.reserves).collect();
                let path_ix: Vec<usize> = path.iter().map(|p| e.pool_ix(p).unwrap_or(0)).collect();
                let tin = e.token_ix(token_in).unwrap_or(0);
                // Liveness: a swap the router can quote and the sender can pay must go through.
                let must_succeed = !*exact_out
                    && e.balance(tin, actor(*who)) >= *amount
                    && e.quote_exact_in(&path_ix, tin, *amount).is_ok_and(|q| {
                        q.iter().all(|a| !a.is_zero() && *a < U256::from(1u8) << 100usize)
                            && e.pools().iter().all(|p| {
                                p.reserves[0] < U256::from(1u8) << 100usize
                                    && p.reserves[1] < U256::from(1u8) << 100usize
                            })
                    });
                let action = if *exact_out {
                    Action::SwapExactOut { path, token_in: token_in.into(), amount_out: *amount, max_in: U256::MAX }
                } else {
                    Action::SwapExactIn { path, token_in: token_in.into(), amount_in: *amount, min_out: U256::ZERO }
                };
                let outcome = step(&mut e, actor(*who), &action, &[]);
                if let Some(Outcome::Swapped { amount_in, amount_out, .. }) = outcome {
                    assert!(!amount_in.is_zero() && !amount_out.is_zero());
                    if *exact_out {
                        assert_eq!(amount_out, *amount);
                    }
                    for (p, k) in e.pools().iter().zip(ks) {
                        assert!(p.reserves[0] * p.reserves[1] >= k, "k decreased on a swap in {}", p.id);
                    }
                    if path_ix.len() == 1 && !*exact_out {
                        // The output is the largest the pair's K check accepts: out passes, out + 1 fails.
                        let p = &e.pools()[path_ix[0]];
                        let side_in = p.side_of(tin).unwrap_or(0);
                        let (rin, rout) =
                            (reserves_before[path_ix[0]][side_in], reserves_before[path_ix[0]][1 - side_in]);
                        let bps = U256::from(10_000u32);
                        let k_ok = |out: U256| {
                            (rin + amount_in) * bps - amount_in * U256::from(p.fee_bps)
                                >= (rin * rout * bps * bps).div_ceil((rout - out) * bps)
                        };
                        assert!(k_ok(amount_out), "the output fails the K check");
                        assert!(
                            amount_out + U256::from(1u8) >= rout || !k_ok(amount_out + U256::from(1u8)),
                            "the output is not maximal"
                        );
                    }
                } else {
                    assert!(!must_succeed, "a quotable, affordable swap {action:?} was refused");
                }
            }
            AmmOp::Transfer { who, to, token, amount } => {
                let action = Action::Transfer { token: TOKENS[*token].into(), to: actor(*to), amount: *amount };
                step(&mut e, actor(*who), &action, &[actor(*to)]);
            }
            AmmOp::Advance { seconds } => {
                assert!(e.advance(0, *seconds).is_ok());
            }
        }
        for p in e.pools() {
            let lp = &e.tokens()[p.lp_token];
            if !lp.total_supply.is_zero() {
                assert_eq!(e.balance(p.lp_token, Address::ZERO), U256::from(1000u32), "MINIMUM_LIQUIDITY locked");
                let sum = e.holders(p.lp_token).iter().fold(U256::ZERO, |s, (_, b)| s + *b);
                assert_eq!(sum, lp.total_supply, "LP supply = 1000 locked + Σ balances");
            }
            // With no donations, the pool's balances are its reserves.
            assert_eq!(e.balance(p.tokens[0], p.address), p.reserves[0]);
            assert_eq!(e.balance(p.tokens[1], p.address), p.reserves[1]);
        }
    }
    assert_snapshot_round_trips(&e);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]
    #[test]
    fn amm_invariants(fee_on in any::<bool>(), ops in prop::collection::vec(amm_op(), 1..40)) {
        run_amm(fee_on, &ops);
    }
}

// ---------------------------------------------------------------- farms

#[derive(Debug, Clone)]
enum FarmOp {
    Deposit { who: usize, pool: usize, amount: U256 },
    Withdraw { who: usize, pool: usize, bps: u32 },
    Harvest { who: usize, pool: usize },
    Emergency { who: usize, pool: usize },
    Advance { seconds: u64 },
    SetAlloc { pool: usize, alloc: u64 },
    SetRate { rate: U256 },
    Fund { amount: U256 },
}

fn farm_op() -> impl Strategy<Value = FarmOp> {
    prop_oneof![
        5 => (0..ACTORS, 0..2usize, amount()).prop_map(|(who, pool, amount)| FarmOp::Deposit { who, pool, amount }),
        3 => (0..ACTORS, 0..2usize, 1u32..=10_000).prop_map(|(who, pool, bps)| FarmOp::Withdraw { who, pool, bps }),
        3 => (0..ACTORS, 0..2usize).prop_map(|(who, pool)| FarmOp::Harvest { who, pool }),
        1 => (0..ACTORS, 0..2usize).prop_map(|(who, pool)| FarmOp::Emergency { who, pool }),
        4 => (1u64..5000).prop_map(|seconds| FarmOp::Advance { seconds }),
        1 => (0..2usize, 0u64..1000).prop_map(|(pool, alloc)| FarmOp::SetAlloc { pool, alloc }),
        1 => amount().prop_map(|rate| FarmOp::SetRate { rate }),
        1 => amount().prop_map(|amount| FarmOp::Fund { amount }),
    ]
}

fn run_farm(funding: Funding, fee_bps: u32, rate: U256, start: u64, ops: &[FarmOp]) {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    let owner = key_address(&dev_key("owner"));
    let lp = e.create_token("LP", c, "LP", 18, Minter::Nobody).unwrap_or(0);
    let r = e.create_token("R", c, "R", 18, Minter::Account(owner)).unwrap_or(1);
    for i in 0..ACTORS {
        assert!(e.faucet_mint(lp, actor(i), pow10(27)).is_ok());
    }
    assert!(e.faucet_mint(r, owner, pow10(30)).is_ok());
    let create = Action::CreateFarm {
        id: "F".into(),
        reward_token: "R".into(),
        reward_per_second: rate,
        start,
        end: None,
        funding,
        timelock_delay_s: 0,
    };
    assert!(e.execute(owner, &create).is_ok());
    for (id, alloc) in [("F0", 100u64), ("F1", 300)] {
        let add = Action::AddFarmPool {
            id: id.into(),
            farm: "F".into(),
            stake_token: "LP".into(),
            alloc_point: alloc,
            deposit_fee_bps: fee_bps,
        };
        assert!(e.execute(owner, &add).is_ok());
    }
    let pools = ["F0", "F1"];
    let mut funded = U256::ZERO;
    for op in ops {
        let accs: Vec<U256> = e.farm_pools().iter().map(|p| p.acc_reward_per_share).collect();
        match op {
            FarmOp::Deposit { who, pool, amount } => {
                step(&mut e, actor(*who), &Action::Deposit { farm_pool: pools[*pool].into(), amount: *amount }, &[]);
            }
            FarmOp::Withdraw { who, pool, bps } => {
                let fp = e.farm_pool_ix(pools[*pool]).unwrap_or(0);
                let amount = e.farm_user(fp, actor(*who)).amount * U256::from(*bps) / U256::from(10_000u32);
                step(&mut e, actor(*who), &Action::Withdraw { farm_pool: pools[*pool].into(), amount }, &[]);
            }
            FarmOp::Harvest { who, pool } => {
                step(&mut e, actor(*who), &Action::Harvest { farm_pool: pools[*pool].into() }, &[]);
            }
            FarmOp::Emergency { who, pool } => {
                let fp = e.farm_pool_ix(pools[*pool]).unwrap_or(0);
                let staked = e.farm_user(fp, actor(*who)).amount;
                if let Some(Outcome::Withdrawn { amount }) =
                    step(&mut e, actor(*who), &Action::EmergencyWithdraw { farm_pool: pools[*pool].into() }, &[])
                {
                    assert_eq!(amount, staked, "emergency withdraw returns exactly the principal");
                    assert_eq!(e.farm_user(fp, actor(*who)), Default::default());
                }
            }
            FarmOp::Advance { seconds } => assert!(e.advance(0, *seconds).is_ok()),
            FarmOp::SetAlloc { pool, alloc } => {
                step(
                    &mut e,
                    owner,
                    &Action::SetAllocPoint { farm_pool: pools[*pool].into(), alloc_point: *alloc },
                    &[],
                );
            }
            FarmOp::SetRate { rate } => {
                step(&mut e, owner, &Action::SetRewardPerSecond { farm: "F".into(), reward_per_second: *rate }, &[]);
            }
            FarmOp::Fund { amount } => {
                if step(&mut e, owner, &Action::FundFarm { farm: "F".into(), amount: *amount }, &[]).is_some() {
                    funded += *amount;
                }
            }
        }
        let farm = e.farm(0);
        assert!(farm.rewards_paid <= farm.rewards_emitted, "paid more than emitted");
        match funding {
            Funding::Minted => assert_eq!(farm.reward_reserve, farm.rewards_emitted - farm.rewards_paid),
            Funding::Budget => assert_eq!(farm.reward_reserve, funded - farm.rewards_paid),
        }
        assert_eq!(e.balance(r, farm.address), farm.reward_reserve, "the farm holds exactly its reward reserve");
        let mut owed_and_pending = U256::ZERO;
        let mut staked_total = U256::ZERO;
        for (fp, p) in e.farm_pools().iter().enumerate() {
            assert!(p.acc_reward_per_share >= accs[fp], "acc_reward_per_share decreased");
            let mut sum = U256::ZERO;
            for i in 0..ACTORS {
                sum += e.farm_user(fp, actor(i)).amount;
                owed_and_pending += e.farm_pending(fp, actor(i)).unwrap_or_default();
            }
            assert_eq!(sum, p.total_staked, "Σ user amounts = total staked");
            staked_total += p.total_staked;
        }
        assert_eq!(e.balance(lp, farm.address), staked_total, "the farm holds exactly what is staked");
        // Per-user debt flooring may over-promise by at most one wei per user and pool.
        let slack = U256::from(ACTORS * 2);
        let pending_emission = {
            // what the pools would credit if updated now
            let mut extra = U256::ZERO;
            for (fp, p) in e.farm_pools().iter().enumerate() {
                let _ = fp;
                if p.total_staked.is_zero() || farm.total_alloc_point == 0 {
                    continue;
                }
                let now = e.now(0);
                let secs = now.saturating_sub(p.last_reward_time.max(farm.start));
                extra += U256::from(secs) * farm.reward_per_second * U256::from(p.alloc_point)
                    / U256::from(farm.total_alloc_point);
            }
            extra
        };
        assert!(
            farm.rewards_paid + owed_and_pending <= farm.rewards_emitted + pending_emission + slack,
            "rewards promised exceed rewards emitted"
        );
    }
    assert_snapshot_round_trips(&e);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]
    #[test]
    fn farm_invariants(
        budget in any::<bool>(),
        fee_bps in prop_oneof![Just(0u32), 1u32..500],
        rate in amount(),
        start in prop_oneof![Just(0u64), 1u64..5000],
        ops in prop::collection::vec(farm_op(), 1..40),
    ) {
        run_farm(if budget { Funding::Budget } else { Funding::Minted }, fee_bps, rate, start, &ops);
    }
}

// ---------------------------------------------------------------- staking

#[derive(Debug, Clone)]
enum StakeOp {
    Stake { who: usize, pool: usize, amount: U256, term: usize },
    Unstake { who: usize, nth: usize },
    Claim { who: usize, nth: usize },
    Notify { pool: usize, amount: U256, days: u64 },
    Advance { seconds: u64 },
}

fn stake_op() -> impl Strategy<Value = StakeOp> {
    prop_oneof![
        4 => (0..ACTORS, 0..2usize, amount(), 0..3usize).prop_map(|(who, pool, amount, term)| StakeOp::Stake { who, pool, amount, term }),
        2 => (0..ACTORS, 0..8usize).prop_map(|(who, nth)| StakeOp::Unstake { who, nth }),
        3 => (0..ACTORS, 0..8usize).prop_map(|(who, nth)| StakeOp::Claim { who, nth }),
        1 => (0..2usize, amount(), 1u64..60).prop_map(|(pool, amount, days)| StakeOp::Notify { pool, amount, days }),
        4 => (1u64..(20 * 86_400)).prop_map(|seconds| StakeOp::Advance { seconds }),
    ]
}

fn run_staking(penalty_bps: u32, forfeit: bool, ops: &[StakeOp]) {
    let mut e = Engine::new();
    let c = e.create_chain("bsc", 56, "bnb", 3).unwrap_or(0);
    let owner = key_address(&dev_key("owner"));
    let cake = e.create_token("CAKE", c, "CAKE", 18, Minter::Nobody).unwrap_or(0);
    let wbnb = e.create_token("WBNB", c, "WBNB", 18, Minter::Nobody).unwrap_or(1);
    for who in (0..ACTORS).map(actor).chain([owner]) {
        assert!(e.faucet_mint(cake, who, pow10(28)).is_ok());
        assert!(e.faucet_mint(wbnb, who, pow10(28)).is_ok());
    }
    let terms = vec![
        Term { days: 0, boost_bps: 10_000 },
        Term { days: 30, boost_bps: 12_000 },
        Term { days: 90, boost_bps: 15_000 },
    ];
    let specs = [
        ("S", "CAKE", EarlyExit::Penalty { penalty_bps, forfeit_rewards: forfeit, to: PenaltyTo::Treasury }),
        ("T", "WBNB", EarlyExit::Forbidden),
    ];
    for (id, stake, early_exit) in specs {
        let create = Action::CreateStakingPool {
            id: id.into(),
            stake_token: stake.into(),
            reward_token: "CAKE".into(),
            terms: terms.clone(),
            early_exit,
        };
        assert!(e.execute(owner, &create).is_ok());
    }
    let pools = ["S", "T"];
    let mut mine: Vec<Vec<u64>> = vec![Vec::new(); ACTORS];
    for op in ops {
        match op {
            StakeOp::Stake { who, pool, amount, term } => {
                let days = terms[*term].days;
                let action = Action::Stake { staking_pool: pools[*pool].into(), amount: *amount, term_days: days };
                if let Some(Outcome::Staked { position, unlock_at }) = step(&mut e, actor(*who), &action, &[]) {
                    assert_eq!(unlock_at, e.now(0) + u64::from(days) * 86_400);
                    mine[*who].push(position);
                }
            }
            StakeOp::Unstake { who, nth } | StakeOp::Claim { who, nth } => {
                let ids = &mine[*who];
                // Sometimes act on someone else's position: must be refused.
                let position = if ids.is_empty() { (*nth as u64) % 3 } else { ids[nth % ids.len()] };
                let action = if matches!(op, StakeOp::Unstake { .. }) {
                    Action::Unstake { position }
                } else {
                    Action::Claim { position }
                };
                let foreign = e.position(position).map(|p| p.owner != actor(*who)).unwrap_or(false);
                let out = step(&mut e, actor(*who), &action, &[]);
                if foreign {
                    assert!(out.is_none(), "acted on another's position");
                }
                if let Some(Outcome::Unstaked(u)) = out {
                    assert!(u.amount + u.penalty > U256::ZERO);
                }
            }
            StakeOp::Notify { pool, amount, days } => {
                step(
                    &mut e,
                    owner,
                    &Action::NotifyReward {
                        staking_pool: pools[*pool].into(),
                        amount: *amount,
                        duration_s: days * 86_400,
                    },
                    &[],
                );
            }
            StakeOp::Advance { seconds } => assert!(e.advance(0, *seconds).is_ok()),
        }
        for (sp, p) in e.staking_pools().iter().enumerate() {
            let positions: Vec<_> = e.positions().filter(|x| x.pool == sp).collect();
            let weight = positions.iter().fold(U256::ZERO, |s, x| s + x.weight);
            let staked = positions.iter().fold(U256::ZERO, |s, x| s + x.amount);
            assert_eq!(weight, p.total_weight, "total weight = Σ position weights");
            assert_eq!(staked, p.total_staked, "total staked = Σ principal");
            assert_eq!(p.reward_reserve, p.rewards_notified - p.rewards_paid);
            let earned = positions.iter().fold(U256::ZERO, |s, x| s + e.position_pending(x.id).unwrap_or_default());
            assert!(p.rewards_paid + earned <= p.rewards_notified, "rewards paid + owed exceed rewards notified");
            let held_cake = e.balance(cake, p.address);
            if p.stake_token == cake {
                assert_eq!(held_cake, p.total_staked + p.reward_reserve);
            } else {
                assert_eq!(held_cake, p.reward_reserve);
                assert_eq!(e.balance(p.stake_token, p.address), p.total_staked);
            }
        }
    }
    assert_snapshot_round_trips(&e);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]
    #[test]
    fn staking_invariants(
        penalty_bps in 0u32..=10_000,
        forfeit in any::<bool>(),
        ops in prop::collection::vec(stake_op(), 1..40),
    ) {
        run_staking(penalty_bps, forfeit, &ops);
    }
}

// ---------------------------------------------------------------- encoding

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,12}"
}

fn any_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

fn any_u256() -> impl Strategy<Value = U256> {
    any::<[u64; 4]>().prop_map(U256::from_limbs)
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (id(), any_address(), any_u256()).prop_map(|(token, to, amount)| Action::Transfer { token, to, amount }),
        (id(), [any_u256(), any_u256()], [any_u256(), any_u256()])
            .prop_map(|(pool, amounts, min)| Action::AddLiquidity { pool, amounts, min }),
        (prop::collection::vec(id(), 1..5), id(), any_u256(), any_u256()).prop_map(
            |(path, token_in, amount_in, min_out)| Action::SwapExactIn { path, token_in, amount_in, min_out }
        ),
        (prop::collection::vec(id(), 1..5), id(), any_u256(), any_u256()).prop_map(
            |(path, token_in, amount_out, max_in)| Action::SwapExactOut { path, token_in, amount_out, max_in }
        ),
        (id(), id(), any_u256(), any::<u64>(), prop::option::of(1u64..), any::<bool>(), any::<u64>()).prop_map(
            |(id, reward_token, reward_per_second, start, end, budget, timelock_delay_s)| {
                Action::CreateFarm {
                    id,
                    reward_token,
                    reward_per_second,
                    start,
                    end,
                    funding: if budget { Funding::Budget } else { Funding::Minted },
                    timelock_delay_s,
                }
            }
        ),
        (id(), any_u256(), any::<u32>())
            .prop_map(|(staking_pool, amount, term_days)| { Action::Stake { staking_pool, amount, term_days } }),
        any::<u64>().prop_map(|position| Action::Unstake { position }),
        (id(), prop::option::of(any_address())).prop_map(|(farm, migrator)| Action::QueueAdmin {
            farm: farm.clone(),
            action: Box::new(Action::SetMigrator { farm, migrator })
        }),
        (id(), id(), id(), prop::collection::vec((any::<u32>(), any::<u32>()), 1..5), any::<u32>(), any::<bool>())
            .prop_map(|(id, stake_token, reward_token, terms, penalty_bps, forfeit)| {
                Action::CreateStakingPool {
                    id,
                    stake_token,
                    reward_token,
                    terms: terms.into_iter().map(|(days, boost_bps)| Term { days, boost_bps }).collect(),
                    early_exit: EarlyExit::Penalty { penalty_bps, forfeit_rewards: forfeit, to: PenaltyTo::Stakers },
                }
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1500)))]
    #[test]
    fn actions_and_transactions_round_trip(
        action in action(),
        chain_id in any::<u64>(),
        nonce in any::<u64>(),
        deadline in any::<u64>(),
        sender in any_address(),
        sig in prop::collection::vec(any::<u8>(), 65),
    ) {
        let parts: ActionParts = action.to_parts();
        prop_assert_eq!(Action::from_parts(&parts).ok(), Some(action.clone()));
        let mut enc = Encoder::new();
        action.encode(&mut enc);
        let mut dec = Decoder::new(&enc.buf);
        prop_assert_eq!(Action::decode(&mut dec).ok(), Some(action.clone()));
        let mut signature = [0u8; 65];
        signature.copy_from_slice(&sig);
        let stx = SignedTransaction { tx: Transaction { chain_id, sender, nonce, deadline, action }, signature };
        let bytes = stx.to_bytes();
        prop_assert_eq!(SignedTransaction::from_bytes(&bytes).ok(), Some(stx));
        // Any truncation is an error, never a panic.
        prop_assert!(SignedTransaction::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}
