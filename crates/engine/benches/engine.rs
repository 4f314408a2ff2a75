//! In-memory engine throughput (SPEC §6): swap, add/remove liquidity, farm deposit + harvest,
//! stake + claim. Each iteration is one full `Engine::execute` (lookups, balances, checks, undo
//! log), reported as operations per second. The peer ratios (bare arithmetic, uniswappy, the V2
//! bytecode on revm) are measured side by side by `cargo bench -p granary-conformance --bench ratios`.
//!
//! After criterion's own report, the rates are written as a table to `<target dir>/bench/engine.md`
//! and as figures to `engine.json` beside it (for `granary bench all`), from criterion's estimates
//! of this run. A short run: `cargo bench -p granary-engine --bench engine -- --warm-up-time 1
//! --measurement-time 2`.

use criterion::{Criterion, Throughput};
use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use granary_testkit::bench as report;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

/// The measured functions: criterion name, what one iteration does, engine operations in it.
const FUNCTIONS: [(&str, &str, u32); 4] = [
    ("swap", "one swap (alternating direction)", 1),
    ("add_then_remove_liquidity", "add liquidity, then remove it", 2),
    ("farm_deposit_then_harvest", "farm deposit, then harvest", 2),
    ("stake_then_claim", "stake (flexible), then claim", 2),
];

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

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();

    let mut md = String::from("# Engine operations per second\n\n");
    md.push_str(
        "Each iteration is full `Engine::execute` calls (lookups, balances, checks, undo log) on one engine; \
         criterion's estimate of one iteration (slope, else mean).\n\n",
    );
    md.push_str("| function | one iteration | time | iterations/s | operations/s |\n|---|---|---:|---:|---:|\n");
    let mut r = report::Report::new("engine");
    let mut measured = 0;
    for (name, what, ops) in FUNCTIONS {
        match report::criterion_ns(&format!("engine/{name}"), started) {
            Some(ns) => {
                let per_s = 1e9 / ns;
                let _ = writeln!(
                    md,
                    "| `{name}` | {what} | {:.2} µs | {per_s:.0} | {:.0} |",
                    ns / 1e3,
                    per_s * f64::from(ops)
                );
                r.figure(&format!("{name}_per_s"), per_s);
                r.figure(&format!("{name}_ops_per_s"), per_s * f64::from(ops));
                measured += 1;
            }
            None => {
                let _ = writeln!(md, "| `{name}` | {what} | not measured in this run | | |");
            }
        }
    }
    // Nothing estimated (a test-mode run, or every function filtered out): keep the last report.
    if measured > 0 {
        r.write(&md);
    }
}
