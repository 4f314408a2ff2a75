//! Hub figures on fixtures built through the engine: fee APR with known volume and TVL, reward APR
//! with known emission and price, APR↔APY, and manipulation resistance of the reported prices.

use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use granary_hub::market::{Compounding, ExitRule, apr_from_apy, apy_from_apr};
use granary_hub::{Hub, Kind};

fn who(n: &str) -> Address {
    key_address(&dev_key(n))
}

fn units(x: f64, decimals: u8) -> U256 {
    U256::from((x * 10f64.powi(i32::from(decimals))) as u128)
}

fn exec(e: &mut Engine, by: &str, a: Action) {
    if let Err(err) = e.execute(who(by), &a) {
        panic!("{a:?}: {err}");
    }
}

/// WETH/USDC at $2000 with 1000 WETH + 2 000 000 USDC (TVL $4M), fee 30 bps.
fn world() -> Engine {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    for (id, dec) in [("WETH", 18u8), ("USDC", 6), ("RWD", 18)] {
        let t = e.create_token(id, c, id, dec, Minter::Account(who("owner"))).unwrap_or(0);
        if id != "RWD" {
            for n in ["lp", "trader", "owner"] {
                assert!(e.faucet_mint(t, who(n), units(1e9, dec)).is_ok());
            }
        }
    }
    exec(&mut e, "owner", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    exec(
        &mut e,
        "lp",
        Action::AddLiquidity {
            pool: "P".into(),
            amounts: [units(1000.0, 18), units(2_000_000.0, 6)],
            min: [U256::ZERO; 2],
        },
    );
    e
}

#[test]
fn fee_apr_from_known_volume_and_tvl() {
    let mut e = world();
    let mut hub = Hub::default();
    hub.observe(&e);
    // One day: 100 round trips of $10 000 each way ($2M of volume), in 12-second blocks.
    for _ in 0..100u64 {
        exec(
            &mut e,
            "trader",
            Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "USDC".into(),
                amount_in: units(10_000.0, 6),
                min_out: U256::ZERO,
            },
        );
        exec(
            &mut e,
            "trader",
            Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "WETH".into(),
                amount_in: units(5.0, 18),
                min_out: U256::ZERO,
            },
        );
        let _ = e.advance(0, 864);
        hub.observe(&e);
    }
    let opps = hub.opportunities(&e);
    let pool = opps.iter().find(|o| o.id == "pool:P").expect("pool opportunity");
    // Volume ≈ $2M (100 × ($10 000 + 5 WETH·$2000)); fees 0.3 % = $6000 a day on a $4M pool:
    // APR = 6000·365/4M = 54.75 %.
    let volume = pool.volume_usd_1d.expect("volume");
    assert!((volume - 2_000_000.0).abs() / 2_000_000.0 < 0.01, "volume {volume}");
    let apr = pool.apr_base.expect("apr");
    let want = volume * 0.003 * 365.0 / pool.tvl_usd * 100.0;
    assert!((apr - want).abs() < 1e-6 * want.max(1.0), "apr {apr} want {want}");
    assert!((apr - 54.75).abs() < 1.0, "apr {apr}");
    assert_eq!(pool.window_s, 86_400);
    assert!((pool.tvl_usd - 4_000_000.0).abs() / 4e6 < 0.01, "tvl {}", pool.tvl_usd);
    // Fees compound into the pool continuously.
    assert_eq!(pool.base_compounding, Compounding::Continuous);
    assert!((pool.apy - ((apr / 100.0).exp() - 1.0) * 100.0).abs() < 1e-9);
}

#[test]
fn reward_apr_from_known_emission_and_price() {
    let mut e = world();
    // RWD priced at $0.50 through a RWD/USDC pool.
    let rwd = e.token_ix("RWD").unwrap_or(0);
    assert!(e.faucet_mint(rwd, who("lp"), units(2e6, 18)).is_ok());
    exec(&mut e, "owner", Action::CreatePool { id: "R".into(), tokens: ["RWD".into(), "USDC".into()], fee_bps: 30 });
    exec(
        &mut e,
        "lp",
        Action::AddLiquidity {
            pool: "R".into(),
            amounts: [units(1_000_000.0, 18), units(500_000.0, 6)],
            min: [U256::ZERO; 2],
        },
    );
    // 1 RWD/s split 1:3 between a P-LP farm pool and a WETH farm pool.
    exec(
        &mut e,
        "owner",
        Action::CreateFarm {
            id: "F".into(),
            reward_token: "RWD".into(),
            reward_per_second: units(1.0, 18),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 0,
        },
    );
    exec(
        &mut e,
        "owner",
        Action::AddFarmPool {
            id: "F0".into(),
            farm: "F".into(),
            stake_token: "P".into(),
            alloc_point: 100,
            deposit_fee_bps: 0,
        },
    );
    exec(
        &mut e,
        "owner",
        Action::AddFarmPool {
            id: "F1".into(),
            farm: "F".into(),
            stake_token: "WETH".into(),
            alloc_point: 300,
            deposit_fee_bps: 0,
        },
    );
    // Stake half of the LP ($2M) and 100 WETH ($200k).
    let lp = e.token_ix("P").unwrap_or(0);
    let half = e.balance(lp, who("lp")) / U256::from(2u8);
    exec(&mut e, "lp", Action::Deposit { farm_pool: "F0".into(), amount: half });
    exec(&mut e, "lp", Action::Deposit { farm_pool: "F1".into(), amount: units(100.0, 18) });
    // A staking pool: 100 000 RWD over 30 days to RWD stakers, terms 1.0× and 2.0×.
    exec(
        &mut e,
        "owner",
        Action::CreateStakingPool {
            id: "S".into(),
            stake_token: "RWD".into(),
            reward_token: "RWD".into(),
            terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 90, boost_bps: 20_000 }],
            early_exit: EarlyExit::Forbidden,
        },
    );
    assert!(e.faucet_mint(rwd, who("owner"), units(1e6, 18)).is_ok());
    exec(
        &mut e,
        "owner",
        Action::NotifyReward { staking_pool: "S".into(), amount: units(100_000.0, 18), duration_s: 30 * 86_400 },
    );
    exec(&mut e, "lp", Action::Stake { staking_pool: "S".into(), amount: units(100_000.0, 18), term_days: 0 });
    let mut hub = Hub::default();
    hub.observe(&e);
    let _ = e.advance(0, 3600);
    hub.observe(&e);
    let opps = hub.opportunities(&e);
    let get = |id: &str| opps.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("{id}"));
    let year = 365.0 * 86_400.0;
    // F0: 0.25 RWD/s × $0.5 × year / $2M.
    let f0 = get("farm:F0");
    assert_eq!(f0.kind, Kind::LpFarm);
    let want0 = 0.25 * 0.5 * year / 2_000_000.0 * 100.0;
    assert!((f0.apr_reward.expect("apr") - want0).abs() / want0 < 0.01, "{:?} vs {want0}", f0.apr_reward);
    assert!((f0.tvl_usd - 2_000_000.0).abs() / 2e6 < 0.01);
    // F1: 0.75 RWD/s × $0.5 × year / $200k.
    let f1 = get("farm:F1");
    assert_eq!(f1.kind, Kind::SingleStake);
    let want1 = 0.75 * 0.5 * year / 200_000.0 * 100.0;
    assert!((f1.apr_reward.expect("apr") - want1).abs() / want1 < 0.01);
    // Staking: rate = 100 000 / 30 days; all weight is the 1.0× stake of 100 000 RWD.
    let rate_year = 100_000.0 / (30.0 * 86_400.0) * year;
    let flex = get("stake:S:0d");
    let want_flex = rate_year / 100_000.0 * 100.0;
    assert!((flex.apr_reward.expect("apr") - want_flex).abs() / want_flex < 0.001, "{:?} {want_flex}", flex.apr_reward);
    let locked = get("stake:S:90d");
    assert!((locked.apr_reward.expect("apr") - 2.0 * want_flex).abs() / want_flex < 0.002);
    assert_eq!(locked.lockup.days, 90);
    assert_eq!(locked.lockup.early_exit, ExitRule::Forbidden);
    assert_eq!(locked.base_compounding, Compounding::None);
    assert_eq!(locked.apy, locked.apr_reward.unwrap_or(0.0), "nothing compounds: APY shown is the APR");
}

#[test]
fn apr_apy_conversions() {
    // 10 % APR compounded daily, monthly, yearly, continuously, not at all; and back. Expected
    // values from Python: (1 + 0.1/365)**365 - 1, (1 + 0.1/12)**12 - 1, math.expm1(0.1).
    let cases = [
        (Compounding::PerYear(365), 0.105_155_781_616_232_5),
        (Compounding::PerYear(12), 0.104_713_067_441_296_8),
        (Compounding::PerYear(1), 0.1),
        (Compounding::Continuous, 0.105_170_918_075_65),
        (Compounding::None, 0.1),
    ];
    for (c, want) in cases {
        let apy = apy_from_apr(0.10, c);
        assert!((apy - want).abs() < 1e-12, "{c:?}: {apy}");
        assert!((apr_from_apy(apy, c) - 0.10).abs() < 1e-12);
    }
}

#[test]
fn one_swap_moving_spot_50_percent_moves_twap_under_2_percent_and_is_flagged() {
    let mut e = world();
    let mut hub = Hub::default();
    // Thirty minutes of quiet blocks.
    for _ in 0..150 {
        let _ = e.advance(0, 12);
        hub.observe(&e);
    }
    let before = hub.price_book(&e);
    let weth = e.token_ix("WETH").unwrap_or(0);
    let p0 = before.usd(weth).expect("priced");
    assert!((p0 - 2000.0).abs() < 1.0, "{p0}");
    // Push WETH's spot price up 50 %: buy WETH with USDC until reserves move √1.5.
    let usdc_in = 2_000_000.0 * (1.5f64.sqrt() - 1.0) / 0.997;
    exec(
        &mut e,
        "trader",
        Action::SwapExactIn {
            path: vec!["P".into()],
            token_in: "USDC".into(),
            amount_in: units(usdc_in, 6),
            min_out: U256::ZERO,
        },
    );
    // Reported in the same block and in the next one.
    for _ in 0..2 {
        let book = hub.price_book(&e);
        let q = book.quotes.get(&weth).expect("priced");
        assert!((q.spot_usd / p0 - 1.5).abs() < 0.01, "spot moved 50 %: {}", q.spot_usd);
        assert!((q.usd / p0 - 1.0).abs() < 0.02, "TWAP moved {:.3} %", (q.usd / p0 - 1.0) * 100.0);
        assert!(q.flagged && q.divergence > 0.4, "divergence flagged");
        let opps = hub.opportunities(&e);
        let pool = opps.iter().find(|o| o.id == "pool:P").expect("pool");
        assert!((pool.tvl_usd / 4_000_000.0 - 1.0).abs() < 0.02, "TVL moved: {}", pool.tvl_usd);
        assert!(pool.flags.iter().any(|f| f.contains("off its TWAP")));
        let _ = e.advance(0, 12);
        hub.observe(&e);
    }
}
