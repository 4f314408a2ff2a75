//! Risk grades on worlds built through the engine: an honest, audited, timelocked farm and a
//! farm built to rug; the evidence of every factor; DeFiLlama's APY statistics and outlier rule.

use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use granary_hub::metadata::{Audit, Incident, IncidentKind, ObjectRef, ProtocolInfo, ProtocolRegistry};
use granary_hub::risk::{
    Category, MarketFacts, RiskGrade, RiskInputs, StakerIndex, apy_mu_sigma, apy_outliers, grade, grade_letter,
    holdings,
};

const DAY: i64 = 86_400;
const NOW_UNIX: i64 = 1_750_000_000;

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn e6(x: u64) -> U256 {
    U256::from(x) * U256::from(1_000_000u64)
}

fn who(name: &str) -> Address {
    key_address(&dev_key(name))
}

fn run(e: &mut Engine, sender: Address, a: Action) {
    if let Err(err) = e.execute(sender, &a) {
        panic!("{a:?} failed: {err}");
    }
}

fn token(e: &mut Engine, id: &str, decimals: u8, minter: Minter) -> usize {
    e.create_token(id, 0, id, decimals, minter).expect("token")
}

fn faucet(e: &mut Engine, t: usize, to: Address, amount: U256) {
    e.faucet_mint(t, to, amount).expect("faucet");
}

fn add_liquidity(e: &mut Engine, from: Address, pool: &str, a: U256, b: U256) -> U256 {
    let out = e.execute(from, &Action::AddLiquidity { pool: pool.into(), amounts: [a, b], min: [U256::ZERO; 2] });
    match out {
        Ok(granary_engine::Outcome::Liquidity { liquidity, .. }) => liquidity,
        other => panic!("add liquidity: {other:?}"),
    }
}

/// An honest farm: WETH/USDC liquidity from ten LPs (the pool's creator holds a sliver), staked
/// in a MasterChef farm that mints RWD behind a two-day timelock, RWD already widely issued.
fn honest_world() -> (Engine, usize) {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).expect("chain");
    assert_eq!(c, 0);
    let (owner, dex) = (who("honest-owner"), who("honest-dex"));
    let weth = token(&mut e, "WETH", 18, Minter::Nobody);
    let usdc = token(&mut e, "USDC", 6, Minter::Nobody);
    let rwd = token(&mut e, "RWD", 18, Minter::Account(owner));
    // 100M RWD were issued before this farm (vesting, earlier farms): emissions are small against it.
    faucet(&mut e, rwd, who("treasury"), e18(100_000_000));
    run(
        &mut e,
        dex,
        Action::CreatePool { id: "WETH-USDC".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 },
    );
    faucet(&mut e, weth, dex, e18(10));
    faucet(&mut e, usdc, dex, e6(30_000));
    add_liquidity(&mut e, dex, "WETH-USDC", e18(10), e6(30_000));
    run(
        &mut e,
        owner,
        Action::CreateFarm {
            id: "HONEST".into(),
            reward_token: "RWD".into(),
            reward_per_second: e18(1) / U256::from(10u8),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 2 * 86_400,
        },
    );
    let add = Action::AddFarmPool {
        id: "HONEST-0".into(),
        farm: "HONEST".into(),
        stake_token: "WETH-USDC".into(),
        alloc_point: 100,
        deposit_fee_bps: 0,
    };
    // The timelock refuses a direct owner action; it goes through the queue.
    assert!(e.execute(owner, &add).is_err());
    run(&mut e, owner, Action::QueueAdmin { farm: "HONEST".into(), action: Box::new(add) });
    e.advance(0, 2 * 86_400).expect("advance");
    run(&mut e, owner, Action::ExecuteQueued { farm: "HONEST".into(), queue_id: 0 });
    for i in 0..10 {
        let lp = who(&format!("lp{i}"));
        faucet(&mut e, weth, lp, e18(50));
        faucet(&mut e, usdc, lp, e6(150_000));
        let liquidity = add_liquidity(&mut e, lp, "WETH-USDC", e18(50), e6(150_000));
        run(&mut e, lp, Action::Deposit { farm_pool: "HONEST-0".into(), amount: liquidity });
    }
    e.advance(0, 3600).expect("advance");
    let fp = e.farm_pool_ix("HONEST-0").expect("farm pool");
    (e, fp)
}

fn honest_info() -> ProtocolInfo {
    ProtocolInfo {
        name: "Honest Swap".into(),
        audits: vec![
            Audit { auditor: "Trail of Bits".into(), date_unix: NOW_UNIX - 300 * DAY, scope: "MasterChef".into() },
            Audit { auditor: "OpenZeppelin".into(), date_unix: NOW_UNIX - 120 * DAY, scope: "Timelock".into() },
        ],
        launched_at_unix: Some(NOW_UNIX - 420 * DAY),
        incidents: vec![],
        website: Some("https://honest.example".into()),
        notes: None,
    }
}

/// A farm built to rug: a fresh token the owner mints at will, a pool the owner mostly funds, a
/// minted farm with no timelock, a 4 % deposit fee, then a migrator.
fn rug_world() -> (Engine, usize, Address, Address) {
    let mut e = Engine::new();
    e.create_chain("bsc", 56, "bnb", 3).expect("chain");
    let (owner, migrator) = (who("rug-owner"), who("rug-migrator"));
    let wbnb = token(&mut e, "WBNB", 18, Minter::Nobody);
    let moon = token(&mut e, "MOON", 18, Minter::Account(owner));
    faucet(&mut e, moon, owner, e18(1_000));
    faucet(&mut e, wbnb, owner, e18(100));
    run(
        &mut e,
        owner,
        Action::CreatePool { id: "MOON-WBNB".into(), tokens: ["MOON".into(), "WBNB".into()], fee_bps: 30 },
    );
    add_liquidity(&mut e, owner, "MOON-WBNB", e18(900), e18(90));
    run(
        &mut e,
        owner,
        Action::CreateFarm {
            id: "MOONFARM".into(),
            reward_token: "MOON".into(),
            reward_per_second: e18(10),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 0,
        },
    );
    run(
        &mut e,
        owner,
        Action::AddFarmPool {
            id: "MOONFARM-0".into(),
            farm: "MOONFARM".into(),
            stake_token: "MOON-WBNB".into(),
            alloc_point: 100,
            deposit_fee_bps: 400,
        },
    );
    for i in 0..3 {
        let victim = who(&format!("victim{i}"));
        faucet(&mut e, wbnb, victim, e18(2));
        run(
            &mut e,
            victim,
            Action::SwapExactIn {
                path: vec!["MOON-WBNB".into()],
                token_in: "WBNB".into(),
                amount_in: e18(1),
                min_out: U256::ZERO,
            },
        );
        let moon_bal = e.balance(moon, victim);
        let liquidity = add_liquidity(&mut e, victim, "MOON-WBNB", moon_bal, e18(1));
        run(&mut e, victim, Action::Deposit { farm_pool: "MOONFARM-0".into(), amount: liquidity });
    }
    run(&mut e, owner, Action::SetMigrator { farm: "MOONFARM".into(), migrator: Some(migrator) });
    e.advance(0, 60).expect("advance");
    let fp = e.farm_pool_ix("MOONFARM-0").expect("farm pool");
    (e, fp, owner, migrator)
}

fn factor<'a>(g: &'a RiskGrade, name: &str) -> &'a granary_hub::risk::Factor {
    match g.factors.iter().find(|f| f.name == name) {
        Some(f) => f,
        None => panic!("factor {name} missing from {g:#?}"),
    }
}

const ALL_FACTORS: [&str; 15] = [
    "audits",
    "protocol_age",
    "admin_timelock",
    "reward_mint",
    "migrator",
    "incidents",
    "tvl",
    "reward_inflation",
    "token_mint",
    "concentration",
    "owner_holdings",
    "apy",
    "deposit_fee",
    "tvl_trend",
    "paused",
];

fn check_every_factor_listed(g: &RiskGrade) {
    let names: Vec<&str> = g.factors.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), ALL_FACTORS.len(), "{names:?}");
    for n in ALL_FACTORS {
        let f = factor(g, n);
        assert!(!f.evidence.trim().is_empty(), "factor {n} has no evidence");
        assert!(f.penalty >= 0.0 && f.tag_score >= 0.0, "{f:?}");
        assert!((f.weight - f.category.weight()).abs() < 1e-12);
    }
    // The points add up to what the weighted score lost.
    let lost: f64 = g.factors.iter().map(|f| f.penalty).sum();
    assert!((100.0 - lost - g.weighted_score).abs() < 1e-9, "lost {lost}, weighted {}", g.weighted_score);
    // No category loses more than its weight.
    for cat in Category::ALL {
        let cat_lost: f64 = g.factors.iter().filter(|f| f.category == cat).map(|f| f.penalty).sum();
        assert!(cat_lost <= cat.weight() * 100.0 + 1e-9, "{cat:?} lost {cat_lost}");
    }
    assert_eq!(g.grade, grade_letter(g.score));
}

#[test]
fn audited_timelocked_long_lived_well_distributed_farm_grades_a_or_b() {
    let (e, fp) = honest_world();
    let market = MarketFacts {
        tvl_usd: 3_030_000.0,
        tvl_7d_ago_usd: Some(2_900_000.0),
        apy_pct: 24.0,
        apy_outlier: false,
        now_unix: NOW_UNIX,
    };
    let info = honest_info();
    let inputs = RiskInputs::for_farm_pool(&e, fp, Some(&info), market);
    let g = grade(&inputs);
    assert!(matches!(g.grade, 'A' | 'B'), "{g:#?}");
    assert!(g.score >= 70);
    assert_eq!(g.ceiling, None);
    check_every_factor_listed(&g);

    // Engine-read facts.
    let powers = inputs.powers.as_ref().expect("powers");
    assert_eq!(powers.timelock_delay_s, 2 * 86_400);
    assert_eq!(powers.migrator, None);
    let mint = powers.reward_mint.as_ref().expect("the farm mints RWD");
    assert_eq!(mint.timelock_delay_s, 2 * 86_400);
    assert!(mint.via.contains("OwnerMint on farm HONEST"));
    assert_eq!(inputs.holder_count, Some(11));
    let hhi = inputs.concentration_hhi.expect("hhi");
    assert!(hhi > 0.09 && hhi < 0.11, "ten equal stakers and a small creator: {hhi}");
    let inflation = inputs.reward_inflation.expect("inflation");
    assert!((inflation - 0.1 * 31_536_000.0 / 100_000_000.0).abs() < 1e-3, "{inflation}");
    assert_eq!(inputs.audit_count, 2);
    assert!((inputs.protocol_age_days.expect("age") - 420.0).abs() < 1e-9);

    // Evidence is concrete.
    assert!(factor(&g, "admin_timelock").evidence.contains("a timelock of 2 d"), "{g:#?}");
    assert!(factor(&g, "audits").evidence.contains("OpenZeppelin"));
    assert!(factor(&g, "reward_mint").evidence.contains("can mint RWD"));
    assert_eq!(factor(&g, "admin_timelock").penalty, 0.0);
    assert_eq!(factor(&g, "migrator").penalty, 0.0);
    assert_eq!(factor(&g, "apy").penalty, 0.0);
}

#[test]
fn unaudited_minting_migrator_farm_with_absurd_apy_grades_e_or_f() {
    let (e, fp, owner, migrator) = rug_world();
    let market = MarketFacts {
        tvl_usd: 40_000.0,
        tvl_7d_ago_usd: None,
        apy_pct: 5_000.0,
        apy_outlier: true,
        now_unix: NOW_UNIX,
    };
    let info = ProtocolInfo { launched_at_unix: Some(NOW_UNIX - 5 * DAY), ..ProtocolInfo::named("Moon Farm") };
    let inputs = RiskInputs::for_farm_pool(&e, fp, Some(&info), market);
    let g = grade(&inputs);
    assert!(matches!(g.grade, 'E' | 'F'), "{g:#?}");
    assert!(g.score < 40);
    check_every_factor_listed(&g);

    let owner_s = owner.to_string();
    let admin = factor(&g, "admin_timelock");
    assert!(admin.evidence.contains(&owner_s) && admin.evidence.contains("no timelock"), "{admin:?}");
    assert_eq!(admin.tag_score, 1.0);
    let mint = factor(&g, "reward_mint");
    assert!(mint.evidence.contains(&owner_s) && mint.evidence.contains("can mint MOON"), "{mint:?}");
    assert!(mint.evidence.contains("no timelock"));
    assert_eq!(mint.ceiling, Some(54));
    let mig = factor(&g, "migrator");
    assert!(mig.evidence.contains(&migrator.to_string()), "{mig:?}");
    assert_eq!(mig.ceiling, Some(39));
    assert_eq!(factor(&g, "audits").tag_score, 0.3);
    assert_eq!(factor(&g, "protocol_age").tag_score, 0.5);
    assert_eq!(factor(&g, "apy").tag_score, 1.0);
    assert!(factor(&g, "apy").evidence.contains("5000.00 %"));
    assert!(factor(&g, "deposit_fee").evidence.contains("4.00 %"));
    let own = factor(&g, "owner_holdings");
    assert_eq!(own.tag_score, 1.0, "{own:?}");
    let share = inputs.owner_share.expect("owner share");
    assert!(share > 0.9 && share <= 1.0, "owner and creator are one address, counted once: {share}");
    // MOON is both the reward and half of the staked LP: mintable by its owner's farm.
    assert!(factor(&g, "token_mint").evidence.contains("MOON"));
    // The platform category is saturated: its factors share exactly 50 points.
    let platform: f64 = g.factors.iter().filter(|f| f.category == Category::Platform).map(|f| f.penalty).sum();
    assert!((platform - 50.0).abs() < 1e-9);
}

#[test]
fn a_past_rug_caps_the_grade_at_f() {
    let (e, fp) = honest_world();
    let market = MarketFacts {
        tvl_usd: 3_000_000.0,
        tvl_7d_ago_usd: Some(3_000_000.0),
        apy_pct: 20.0,
        apy_outlier: false,
        now_unix: NOW_UNIX,
    };
    let mut info = honest_info();
    info.incidents.push(Incident {
        date_unix: NOW_UNIX - 700 * DAY,
        kind: IncidentKind::RugPull,
        loss_usd: 2_500_000.0,
        description: "team drained the LP of an earlier farm".into(),
    });
    let g = grade(&RiskInputs::for_farm_pool(&e, fp, Some(&info), market));
    assert_eq!(g.grade, 'F', "{g:#?}");
    assert_eq!(g.score, 24);
    assert_eq!(g.ceiling, Some(24));
    let f = factor(&g, "incidents");
    assert!(f.evidence.contains("rug pull") && f.evidence.contains("$2.50M"), "{f:?}");
}

#[test]
fn unknown_protocol_is_graded_as_new_and_unaudited() {
    let (e, fp) = honest_world();
    let market = MarketFacts { tvl_usd: 3_000_000.0, now_unix: NOW_UNIX, apy_pct: 20.0, ..Default::default() };
    let with = grade(&RiskInputs::for_farm_pool(&e, fp, Some(&honest_info()), market));
    let without = grade(&RiskInputs::for_farm_pool(&e, fp, None, market));
    assert!(without.score < with.score);
    assert_eq!(factor(&without, "audits").tag_score, 0.3);
    assert_eq!(factor(&without, "protocol_age").tag_score, 0.5);
}

#[test]
fn staking_pools_and_plain_pools_are_graded_with_every_factor() {
    let (mut e, _) = honest_world();
    let owner = who("honest-owner");
    let rwd = e.token_ix("RWD").expect("RWD");
    faucet(&mut e, rwd, owner, e18(1_000_000));
    run(
        &mut e,
        owner,
        Action::CreateStakingPool {
            id: "RWD-STAKE".into(),
            stake_token: "RWD".into(),
            reward_token: "RWD".into(),
            terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 90, boost_bps: 15_000 }],
            early_exit: EarlyExit::Penalty { penalty_bps: 500, forfeit_rewards: false, to: PenaltyTo::Treasury },
        },
    );
    run(
        &mut e,
        owner,
        Action::NotifyReward { staking_pool: "RWD-STAKE".into(), amount: e18(100_000), duration_s: 30 * 86_400 },
    );
    for i in 0..5 {
        let s = who(&format!("staker{i}"));
        faucet(&mut e, rwd, s, e18(10_000));
        run(&mut e, s, Action::Stake { staking_pool: "RWD-STAKE".into(), amount: e18(10_000), term_days: 90 });
    }
    let market = MarketFacts {
        tvl_usd: 2_000_000.0,
        tvl_7d_ago_usd: Some(1_900_000.0),
        apy_pct: 30.0,
        apy_outlier: false,
        now_unix: NOW_UNIX,
    };
    let sp = e.staking_ix("RWD-STAKE").expect("staking pool");
    let inputs = RiskInputs::for_staking_pool(&e, sp, Some(&honest_info()), market);
    let g = grade(&inputs);
    check_every_factor_listed(&g);
    assert!(factor(&g, "admin_timelock").evidence.contains("only add rewards"), "{g:#?}");
    assert_eq!(factor(&g, "admin_timelock").penalty, 0.0);
    // The treasury's 100M RWD dominates the holders of RWD (staked look-through included).
    assert!(inputs.concentration_hhi.expect("hhi") > 0.9);
    assert_eq!(inputs.subject, "staking_pool:RWD-STAKE");

    let p = e.pool_ix("WETH-USDC").expect("pool");
    let g = grade(&RiskInputs::for_pool(&e, p, Some(&honest_info()), market));
    check_every_factor_listed(&g);
    let admin = factor(&g, "admin_timelock");
    assert!(admin.evidence.contains("protocol fee"), "{admin:?}");
    assert_eq!(factor(&g, "reward_inflation").evidence, "no reward token");
    assert!(matches!(g.grade, 'A' | 'B'), "{g:#?}");
}

#[test]
fn look_through_counts_stakers_in_place_of_the_farm() {
    let (e, _) = honest_world();
    let lp = e.token_ix("WETH-USDC").expect("lp");
    let h = holdings(&e, lp);
    let farm = e.farm(0).address;
    assert!(!h.holders.contains_key(&farm));
    assert_eq!(h.holders.len(), 11);
    assert_eq!(h.unattributed, U256::ZERO);
    assert_eq!(h.locked, U256::from(1000u32));
    let total = h.holders.values().fold(h.locked, |a, v| a + *v);
    assert_eq!(total, h.supply);
    // The ten LPs staked everything and hold no token at all: only the state lists them.
    let index = StakerIndex::of(&e);
    assert!(index.is_complete());
    let s = index.farm_pool(&e, 0);
    assert_eq!(s.stakers.len(), 10);
    assert_eq!(s.unattributed, U256::ZERO);
}

#[test]
fn grade_letters_follow_the_documented_mapping() {
    let cases = [(100, 'A'), (85, 'A'), (84, 'B'), (70, 'B'), (69, 'C'), (55, 'C'), (54, 'D'), (40, 'D')];
    for (s, g) in cases.into_iter().chain([(39, 'E'), (25, 'E'), (24, 'F'), (0, 'F')]) {
        assert_eq!(grade_letter(s), g, "score {s}");
    }
}

#[test]
fn imported_inputs_with_unknowns_grade_and_round_trip_through_json() {
    let inputs = RiskInputs {
        subject: "defillama:747c1d2a".into(),
        tvl_usd: Some(23_908_962_564.0),
        apy_pct: Some(2.235),
        audit_count: 3,
        auditors: vec!["A".into(), "B".into(), "C".into()],
        protocol_age_days: Some(1500.0),
        ..Default::default()
    };
    let g = grade(&inputs);
    assert_eq!(factor(&g, "admin_timelock").evidence, "owner powers unknown");
    let json = serde_json::to_string(&inputs).expect("json");
    let back: RiskInputs = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, inputs);
    let gj = serde_json::to_value(&g).expect("json");
    assert_eq!(gj["grade"], serde_json::json!(g.grade.to_string()));
    assert!(gj["factors"].as_array().is_some_and(|f| f.len() == 15));
}

#[test]
fn registry_maps_objects_most_specific_first_and_round_trips() {
    let (e, fp) = honest_world();
    let mut reg = ProtocolRegistry::new();
    reg.insert(honest_info());
    reg.insert(ProtocolInfo::named("Special"));
    reg.assign(ObjectRef::Owner(who("honest-owner")), "Honest Swap");
    assert_eq!(reg.for_farm_pool(&e, fp).map(|p| p.name.as_str()), Some("Honest Swap"));
    reg.assign(ObjectRef::FarmPool("HONEST-0"), "Special");
    assert_eq!(reg.for_farm_pool(&e, fp).map(|p| p.name.as_str()), Some("Special"));
    let p = e.pool_ix("WETH-USDC").expect("pool");
    assert!(reg.for_pool(&e, p).is_none());
    reg.assign(ObjectRef::Owner(who("honest-dex")), "Honest Swap");
    assert_eq!(reg.for_pool(&e, p).map(|p| p.name.as_str()), Some("Honest Swap"));
    let json = reg.to_json().expect("json");
    assert!(json.contains("\"farm_pool:HONEST-0\""));
    assert_eq!(ProtocolRegistry::from_json(&json).expect("parse"), reg);
}

#[test]
fn apy_outliers_follow_defillamas_median_iqr_fences() {
    // mu sorted 1..9, 100: Q1 = x[2] = 3, Q3 = x[7] = 8 (simple-statistics' rule), median = 5.5,
    // IQR = 5 → [max(0, −2), 13]: only 100 is out. sigma all 1: IQR 0 → [1, 1], nobody out.
    let mut v: Vec<(f64, f64)> = (1..=9).map(|m| (f64::from(m), 1.0)).collect();
    v.push((100.0, 1.0));
    let out = apy_outliers(&v);
    assert_eq!(out, [vec![false; 9], vec![true]].concat());

    // The lower fence can bite: nine pools at mu 10 and one at 0.5 → fences [10, 10].
    let mut v = vec![(10.0, 2.0); 9];
    v.push((0.5, 2.0));
    assert_eq!(apy_outliers(&v), [vec![false; 9], vec![true]].concat());

    // A sigma outlier alone is enough; a non-finite value counts as 0 (and 0 < lb here).
    let v = [(5.0, 1.0), (5.0, 1.1), (5.0, 0.9), (5.0, 1.0), (5.0, 40.0), (f64::NAN, 1.0), (5.0, 1.0)];
    let out = apy_outliers(&v);
    assert_eq!(out, vec![false, false, false, false, true, true, false]);

    // Odd n with an integral index: n = 4 → Q1 index 1 (even n: mean of x[0], x[1]).
    let v = [(1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (4.0, 0.0)];
    // Q1 = 1.5, Q3 = 3.5, median 2.5, IQR 2 → [0, 5.5].
    assert_eq!(apy_outliers(&v), vec![false; 4]);
    assert!(apy_outliers(&[]).is_empty());
}

#[test]
fn mu_and_sigma_of_an_apy_history() {
    let (mu, sigma) = apy_mu_sigma(&[10.0; 30]).expect("stats");
    assert!((mu - 10.0).abs() < 1e-9, "{mu}");
    assert!(sigma.abs() < 1e-12);
    let (mu, sigma) = apy_mu_sigma(&[5.0, 15.0]).expect("stats");
    // The annualised geometric mean: √(1.05 · 1.15) − 1.
    assert!((mu - ((1.05f64 * 1.15).sqrt() - 1.0) * 100.0).abs() < 1e-9, "{mu}");
    assert!(sigma > 0.0);
    assert_eq!(apy_mu_sigma(&[7.0]).map(|(_, s)| s), Some(0.0));
    assert!(apy_mu_sigma(&[]).is_none());
}
