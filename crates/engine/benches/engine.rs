//! In-memory engine throughput (SPEC §6): swap, add/remove liquidity, farm deposit + harvest,
//! stake + claim. Each iteration is one full `Engine::execute` (lookups, balances, checks, undo
//! log), reported as operations per second. The peer ratios (bare arithmetic, uniswappy, the V2
//! bytecode on revm) are measured side by side by `cargo bench -p granary-conformance --bench ratios`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn who(name: &str) -> Address {
    key_address(&dev_key(name))
}

fn world() -> Engine {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    let owner = who("owner");
    for id in ["WETH", "USDC", "RWD", "CAKE"] {
        let t = e.create_token(id, c, id, 18, Minter::Account(owner)).unwrap_or(0);
        if id != "RWD" {
            for name in ["alice", "bob", "owner"] {
                let _ = e.faucet_mint(t, who(name), e18(1_000_000_000));
            }
        }
    }
    let setup = [
        (owner, Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 }),
        (
            who("alice"),
            Action::AddLiquidity { pool: "P".into(), amounts: [e18(1_000_000), e18(2_000_000)], min: [U256::ZERO; 2] },
        ),
        (
            owner,
            Action::CreateFarm {
                id: "F".into(),
                reward_token: "RWD".into(),
                reward_per_second: e18(1),
                start: 0,
                end: None,
                funding: Funding::Minted,
                timelock_delay_s: 0,
            },
        ),
        (
            owner,
            Action::AddFarmPool {
                id: "F0".into(),
                farm: "F".into(),
                stake_token: "P".into(),
                alloc_point: 100,
                deposit_fee_bps: 0,
            },
        ),
        (
            owner,
            Action::CreateStakingPool {
                id: "S".into(),
                stake_token: "CAKE".into(),
                reward_token: "CAKE".into(),
                terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 90, boost_bps: 15_000 }],
                early_exit: EarlyExit::Forbidden,
            },
        ),
        (owner, Action::NotifyReward { staking_pool: "S".into(), amount: e18(1_000_000), duration_s: 365 * 86_400 }),
    ];
    for (sender, action) in setup {
        if let Err(err) = e.execute(sender, &action) {
            panic!("bench setup {action:?}: {err}");
        }
    }
    e
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    let bob = who("bob");
    let alice = who("alice");

    let mut e = world();
    let buy =
        Action::SwapExactIn { path: vec!["P".into()], token_in: "WETH".into(), amount_in: e18(1), min_out: U256::ZERO };
    let sell =
        Action::SwapExactIn { path: vec!["P".into()], token_in: "USDC".into(), amount_in: e18(2), min_out: U256::ZERO };
    let mut flip = false;
    g.bench_function("swap", |b| {
        b.iter(|| {
            flip = !flip;
            black_box(e.execute(bob, if flip { &buy } else { &sell }).is_ok())
        })
    });

    let mut e = world();
    let add = Action::AddLiquidity { pool: "P".into(), amounts: [e18(10), e18(20)], min: [U256::ZERO; 2] };
    g.bench_function("add_then_remove_liquidity", |b| {
        b.iter(|| {
            let liquidity = match e.execute(bob, &add) {
                Ok(granary_engine::Outcome::Liquidity { liquidity, .. }) => liquidity,
                other => panic!("add_liquidity: {other:?}"),
            };
            let remove = Action::RemoveLiquidity { pool: "P".into(), liquidity, min: [U256::ZERO; 2] };
            black_box(e.execute(bob, &remove).is_ok())
        })
    });

    // Time moves between iterations (closing a block hashes the whole state, which is not what
    // these measure), so each iteration accrues rewards; only the operations are timed.
    let mut e = world();
    let deposit = Action::Deposit { farm_pool: "F0".into(), amount: U256::from(1000u32) };
    let harvest = Action::Harvest { farm_pool: "F0".into() };
    g.bench_function("farm_deposit_then_harvest", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let _ = e.advance(0, 12);
                let start = Instant::now();
                let a = e.execute(alice, &deposit).is_ok();
                black_box(a && e.execute(alice, &harvest).is_ok());
                timed += start.elapsed();
            }
            timed
        })
    });

    // Stake, claim, then unstake (flexible term) so the number of positions stays bounded.
    let mut e = world();
    let stake = Action::Stake { staking_pool: "S".into(), amount: e18(1), term_days: 0 };
    g.bench_function("stake_then_claim", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let _ = e.advance(0, 12);
                let start = Instant::now();
                let position = match e.execute(bob, &stake) {
                    Ok(granary_engine::Outcome::Staked { position, .. }) => position,
                    other => panic!("stake: {other:?}"),
                };
                black_box(e.execute(bob, &Action::Claim { position }).is_ok());
                timed += start.elapsed();
                let _ = e.execute(bob, &Action::Unstake { position });
            }
            timed
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
