//! Rug alerts in both directions: each of the five rug actions fires its alert at the first
//! observation after the block that contains it, and hours of ordinary activity fire nothing.

use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, Outcome, U256};
use granary_hub::alerts::{Alert, AlertConfig, AlertDetector, AlertKind, Severity};
use granary_hub::{Hub, Opportunity};

const BLOCK_S: u64 = 12;

fn farm_opportunity(hub: &Hub, e: &Engine) -> Opportunity {
    hub.opportunities(e).into_iter().find(|o| o.id == "farm:F0").expect("farm:F0 is priced")
}

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn e6(x: u64) -> U256 {
    U256::from(x) * U256::from(1_000_000u64)
}

fn who(name: &str) -> Address {
    key_address(&dev_key(name))
}

struct World {
    e: Engine,
    owner: Address,
    migrator: Address,
    users: Vec<Address>,
    /// Each user's staking position.
    positions: Vec<u64>,
}

impl World {
    fn run(&mut self, sender: Address, a: Action) -> Outcome {
        match self.e.execute(sender, &a) {
            Ok(o) => o,
            Err(err) => panic!("{a:?} failed: {err}"),
        }
    }

    fn token(&self, id: &str) -> usize {
        self.e.token_ix(id).expect("token")
    }

    fn lp(&self, who: Address) -> U256 {
        self.e.balance(self.token("P"), who)
    }

    fn staked(&self, who: Address) -> U256 {
        self.e.farm_user(self.e.farm_pool_ix("F0").expect("F0"), who).amount
    }

    fn add(&mut self, who: Address, pool: &str, a: U256, b: U256) -> U256 {
        match self.run(who, Action::AddLiquidity { pool: pool.into(), amounts: [a, b], min: [U256::ZERO; 2] }) {
            Outcome::Liquidity { liquidity, .. } => liquidity,
            o => panic!("{o:?}"),
        }
    }

    /// Close the block; returns the number of the block that was closed.
    fn close_block(&mut self) -> u64 {
        self.e.advance(0, BLOCK_S).expect("advance").number
    }
}

/// A DEX pool WETH/USDC whose creator (the farm's owner) holds 30 % of the liquidity and ten users
/// the rest, all staked in a minted MasterChef farm without timelock; an RWD/USDC pool; an RWD
/// staking pool funded hourly.
fn world() -> World {
    let mut e = Engine::new();
    e.create_chain("eth", 1, "ethereum", BLOCK_S).expect("chain");
    let owner = who("team");
    let weth = e.create_token("WETH", 0, "WETH", 18, Minter::Nobody).expect("WETH");
    let usdc = e.create_token("USDC", 0, "USDC", 6, Minter::Nobody).expect("USDC");
    let rwd = e.create_token("RWD", 0, "RWD", 18, Minter::Account(owner)).expect("RWD");
    e.faucet_mint(weth, owner, e18(300)).expect("faucet");
    e.faucet_mint(usdc, owner, e6(2_000_000)).expect("faucet");
    e.faucet_mint(rwd, owner, e18(1_000_000)).expect("faucet");
    let users: Vec<Address> = (0..10).map(|i| who(&format!("user{i}"))).collect();
    for u in &users {
        e.faucet_mint(weth, *u, e18(100)).expect("faucet");
        e.faucet_mint(usdc, *u, e6(300_000)).expect("faucet");
        e.faucet_mint(rwd, *u, e18(5_000)).expect("faucet");
    }
    let mut w = World { e, owner, migrator: who("migrator"), users, positions: Vec::new() };
    w.run(owner, Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    w.add(owner, "P", e18(30), e6(90_000));
    w.run(owner, Action::CreatePool { id: "R".into(), tokens: ["RWD".into(), "USDC".into()], fee_bps: 30 });
    w.add(owner, "R", e18(100_000), e6(100_000));
    w.run(
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
    );
    w.run(
        owner,
        Action::AddFarmPool {
            id: "F0".into(),
            farm: "F".into(),
            stake_token: "P".into(),
            alloc_point: 100,
            deposit_fee_bps: 0,
        },
    );
    w.run(
        owner,
        Action::CreateStakingPool {
            id: "S".into(),
            stake_token: "RWD".into(),
            reward_token: "RWD".into(),
            terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 30, boost_bps: 13_000 }],
            early_exit: EarlyExit::Penalty { penalty_bps: 300, forfeit_rewards: false, to: PenaltyTo::Treasury },
        },
    );
    w.run(owner, Action::NotifyReward { staking_pool: "S".into(), amount: e18(36_000), duration_s: 36_000 });
    for u in w.users.clone() {
        let lp = w.add(u, "P", e18(7), e6(21_000));
        w.run(u, Action::Deposit { farm_pool: "F0".into(), amount: lp });
        match w.run(u, Action::Stake { staking_pool: "S".into(), amount: e18(2_000), term_days: 0 }) {
            Outcome::Staked { position, .. } => w.positions.push(position),
            o => panic!("{o:?}"),
        }
    }
    w.close_block();
    w
}

/// One block of ordinary activity, varied by the block index `i`.
fn ordinary_block(w: &mut World, i: usize) {
    let u = w.users[i % w.users.len()];
    match i % 6 {
        0 => {
            let a = Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "WETH".into(),
                amount_in: e18(1) / U256::from(2u8),
                min_out: U256::ZERO,
            };
            w.run(u, a);
        }
        1 => {
            let a = Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "USDC".into(),
                amount_in: e6(1_500),
                min_out: U256::ZERO,
            };
            w.run(u, a);
        }
        2 => {
            let amount = w.staked(u) / U256::from(10u8);
            if !amount.is_zero() {
                w.run(u, Action::Withdraw { farm_pool: "F0".into(), amount });
            }
        }
        3 => {
            let amount = w.lp(u);
            if !amount.is_zero() {
                w.run(u, Action::Deposit { farm_pool: "F0".into(), amount });
            }
        }
        4 => {
            w.run(u, Action::Harvest { farm_pool: "F0".into() });
            // Sell some of the reward, as farmers do.
            let rwd = w.token("RWD");
            let half = w.e.balance(rwd, u) / U256::from(2u8);
            if !half.is_zero() {
                let a = Action::SwapExactIn {
                    path: vec!["R".into()],
                    token_in: "RWD".into(),
                    amount_in: half,
                    min_out: U256::ZERO,
                };
                w.run(u, a);
            }
        }
        _ => {
            let lp = w.add(u, "P", e18(1) / U256::from(10u8), e6(300));
            w.run(u, Action::Deposit { farm_pool: "F0".into(), amount: lp });
        }
    }
    // Every 50 blocks a staker leaves and comes back with the same amount; claims in between.
    if i % 50 == 7 {
        let k = (i / 50) % w.users.len();
        let (u, pos) = (w.users[k], w.positions[k]);
        let amount = match w.run(u, Action::Unstake { position: pos }) {
            Outcome::Unstaked(un) => un.amount,
            o => panic!("{o:?}"),
        };
        match w.run(u, Action::Stake { staking_pool: "S".into(), amount, term_days: 0 }) {
            Outcome::Staked { position, .. } => w.positions[k] = position,
            o => panic!("{o:?}"),
        }
    } else if i % 50 == 30 {
        let k = (i / 50 + 3) % w.users.len();
        w.run(w.users[k], Action::Claim { position: w.positions[k] });
    }
    // Every hour the team tops up the staking rewards (the rate rolls over, as StakingRewards does).
    if i % 300 == 299 {
        let owner = w.owner;
        w.run(owner, Action::NotifyReward { staking_pool: "S".into(), amount: e18(3_600), duration_s: 36_000 });
    }
}

/// A detector that has seen the world and one ordinary block, and fired nothing.
fn watching(w: &mut World) -> AlertDetector {
    let mut d = AlertDetector::new(AlertConfig::default());
    assert!(d.observe(&w.e).is_empty(), "the first observation is a baseline");
    ordinary_block(w, 0);
    w.close_block();
    let a = d.observe(&w.e);
    assert!(a.is_empty(), "{a:#?}");
    d
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

#[test]
fn hours_of_ordinary_activity_fire_nothing() {
    let mut w = world();
    let mut d = AlertDetector::new(AlertConfig::default());
    assert!(d.observe(&w.e).is_empty());
    let rwd = w.token("RWD");
    let supply0 = w.e.token(rwd).total_supply;
    // 1500 blocks of 12 s: five hours of swaps both ways, deposits, withdrawals, harvests, added
    // liquidity, stakes, claims and hourly reward top-ups.
    for i in 0..1500 {
        ordinary_block(&mut w, i);
        w.close_block();
        let alerts = d.observe(&w.e);
        assert!(alerts.is_empty(), "block {i}: {alerts:#?}");
    }
    // The activity was real: emissions minted RWD, and many positions moved.
    assert!(w.e.token(rwd).total_supply > supply0 + e18(10_000));
    assert!(w.e.pool(0).volume_in[0] > e18(100));
    assert!(w.e.farm(0).rewards_paid > U256::ZERO);
}

#[test]
fn owner_pulling_liquidity_fires_at_the_next_observation() {
    let mut w = world();
    let mut d = watching(&mut w);
    let owner = w.owner;
    let liquidity = w.lp(owner) * U256::from(9u8) / U256::from(10u8);
    w.run(owner, Action::RemoveLiquidity { pool: "P".into(), liquidity, min: [U256::ZERO; 2] });
    let block = w.close_block();
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::OwnerPulledLiquidity], "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!((a.chain_id, a.block), (1, block));
    assert_eq!(a.subject, "pool:P");
    assert_eq!(a.severity, Severity::High);
    assert!(a.evidence.contains(&owner.to_string()), "{}", a.evidence);
    assert!(a.opportunities.contains(&"pool:P".to_string()) && a.opportunities.contains(&"farm_pool:F0".to_string()));
    // The ten users' staked LP is exposed, with their amounts; the owner is not listed as a victim.
    let staked: Vec<_> = a.exposed.iter().filter(|x| x.opportunity == "farm_pool:F0").collect();
    assert_eq!(staked.len(), 10);
    for x in staked {
        assert_eq!(x.amount, w.staked(x.holder));
        assert_eq!(x.token, "P");
    }
    assert!(a.exposed.iter().all(|x| x.holder != owner));
    // Nothing more at the next block.
    w.close_block();
    assert!(d.observe(&w.e).is_empty());
}

#[test]
fn owner_mint_beyond_the_schedule_fires_at_the_next_observation() {
    let mut w = world();
    let mut d = watching(&mut w);
    let owner = w.owner;
    // Ordinary emission in the same block (a harvest mints the scheduled rewards) …
    w.run(w.users[3], Action::Harvest { farm_pool: "F0".into() });
    // … and the owner's unscheduled mint.
    w.run(owner, Action::OwnerMint { farm: "F".into(), to: owner, amount: e18(500_000) });
    let block = w.close_block();
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::UnscheduledMint], "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.block, block);
    assert_eq!(a.subject, "farm:F");
    assert_eq!(a.severity, Severity::Critical);
    assert!(a.evidence.contains("500.00k RWD minted outside the schedule"), "{}", a.evidence);
    for o in ["farm_pool:F0", "staking_pool:S", "pool:R"] {
        assert!(a.opportunities.contains(&o.to_string()), "{o} in {:?}", a.opportunities);
    }
    assert!(a.exposed.iter().any(|x| x.opportunity == "staking_pool:S" && x.amount == e18(2_000)));
    assert_eq!(a.exposed.iter().filter(|x| x.opportunity == "farm_pool:F0").count(), 10);
}

#[test]
fn migrator_set_warns_and_migrate_fires_critical() {
    let mut w = world();
    let mut d = watching(&mut w);
    let (owner, migrator) = (w.owner, w.migrator);
    w.run(owner, Action::SetMigrator { farm: "F".into(), migrator: Some(migrator) });
    let block = w.close_block();
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::MigratorSet], "{alerts:#?}");
    assert_eq!((alerts[0].block, alerts[0].severity), (block, Severity::Warning));
    assert!(alerts[0].evidence.contains(&migrator.to_string()));

    let staked_before = w.e.farm_pool(0).total_staked;
    let mut hub = Hub::default();
    hub.observe(&w.e);
    let tvl_before = farm_opportunity(&hub, &w.e).tvl_usd;
    assert!(tvl_before > 100_000.0, "{tvl_before}");
    let moved = match w.run(migrator, Action::Migrate { farm_pool: "F0".into() }) {
        Outcome::Withdrawn { amount } => amount,
        o => panic!("{o:?}"),
    };
    assert_eq!(moved, staked_before);
    let block = w.close_block();
    // The users' recorded stakes are unchanged, but the farm holds nothing: the hub shows no TVL.
    assert_eq!(w.e.farm_pool(0).total_staked, staked_before);
    hub.observe(&w.e);
    let drained = farm_opportunity(&hub, &w.e);
    assert_eq!(drained.tvl_usd, 0.0, "TVL after the drain");
    assert_eq!(granary_hub::market::farm_backing(&w.e, 0), 0.0);
    assert!(
        drained.flags.iter().any(|f| f.starts_with("the farm holds only 0.0% of the stake")),
        "{:?}",
        drained.flags
    );
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::MigratorDrain], "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!((a.block, a.severity), (block, Severity::Critical));
    assert_eq!(a.subject, "farm:F");
    assert_eq!(a.opportunities, vec!["farm_pool:F0".to_string()]);
    let total = a.exposed.iter().fold(U256::ZERO, |s, x| s + x.amount);
    assert_eq!(total, staked_before, "every staker is listed with what the farm owes them");
    assert!(a.evidence.contains(&migrator.to_string()), "{}", a.evidence);
    // The drain is reported once.
    w.close_block();
    assert!(d.observe(&w.e).is_empty());
}

#[test]
fn emission_spike_fires_at_the_next_observation() {
    let mut w = world();
    let mut d = watching(&mut w);
    let owner = w.owner;
    w.run(owner, Action::SetRewardPerSecond { farm: "F".into(), reward_per_second: e18(10) });
    let block = w.close_block();
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::EmissionSpike], "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!((a.block, a.subject.as_str(), a.severity), (block, "farm:F", Severity::High));
    assert!(a.evidence.contains("×10.0"), "{}", a.evidence);
    // A modest change is not a spike.
    w.run(owner, Action::SetRewardPerSecond { farm: "F".into(), reward_per_second: e18(12) });
    w.close_block();
    assert!(d.observe(&w.e).is_empty());
}

#[test]
fn alloc_shift_to_one_pool_is_a_warning() {
    let mut w = world();
    let owner = w.owner;
    w.run(
        owner,
        Action::AddFarmPool {
            id: "F1".into(),
            farm: "F".into(),
            stake_token: "R".into(),
            alloc_point: 10,
            deposit_fee_bps: 0,
        },
    );
    w.close_block();
    let mut d = watching(&mut w);
    w.run(owner, Action::SetAllocPoint { farm_pool: "F1".into(), alloc_point: 2_000 });
    w.close_block();
    let alerts = d.observe(&w.e);
    assert_eq!(kinds(&alerts), vec![AlertKind::EmissionSpike], "{alerts:#?}");
    assert_eq!((alerts[0].subject.as_str(), alerts[0].severity), ("farm_pool:F1", Severity::Warning));
}

#[test]
fn tvl_drain_within_the_window_fires_when_it_crosses_the_threshold() {
    let mut w = world();
    let mut d = watching(&mut w);
    let users = w.users.clone();
    let mut fired: Vec<(usize, Alert)> = Vec::new();
    // The users leave in three blocks: withdraw from the farm and burn their LP.
    for (step, group) in [&users[0..4], &users[4..7], &users[7..10]].into_iter().enumerate() {
        for u in group {
            let staked = w.staked(*u);
            w.run(*u, Action::Withdraw { farm_pool: "F0".into(), amount: staked });
            let lp = w.lp(*u);
            w.run(*u, Action::RemoveLiquidity { pool: "P".into(), liquidity: lp, min: [U256::ZERO; 2] });
        }
        w.close_block();
        fired.extend(d.observe(&w.e).into_iter().map(|a| (step, a)));
    }
    assert!(fired.iter().all(|(_, a)| a.kind == AlertKind::TvlDrain), "{fired:#?}");
    // The pool lost ~28 %, ~49 %, then ~70 % of its liquidity cumulatively: the third block fires.
    let pool: Vec<_> = fired.iter().filter(|(_, a)| a.subject == "pool:P").collect();
    assert_eq!(pool.len(), 1, "{fired:#?}");
    assert_eq!(pool[0].0, 2);
    assert!(pool[0].1.evidence.contains("within 36 s"), "{}", pool[0].1.evidence);
    // The remaining LP (the owner's) is what is exposed.
    assert!(pool[0].1.exposed.iter().any(|x| x.holder == w.owner && x.opportunity == "pool:P"));
    // The farm pool's stake fell 70 % by the second block.
    let farm: Vec<_> = fired.iter().filter(|(_, a)| a.subject == "farm_pool:F0").collect();
    assert!(!farm.is_empty() && farm[0].0 == 1, "{fired:#?}");
}

#[test]
fn the_same_exits_spread_over_hours_are_no_drain_of_the_pool() {
    let mut w = world();
    let mut d = watching(&mut w);
    let users = w.users.clone();
    for group in [&users[0..4], &users[4..7], &users[7..10]] {
        for u in group {
            let staked = w.staked(*u);
            w.run(*u, Action::Withdraw { farm_pool: "F0".into(), amount: staked });
            let lp = w.lp(*u);
            w.run(*u, Action::RemoveLiquidity { pool: "P".into(), liquidity: lp, min: [U256::ZERO; 2] });
        }
        w.close_block();
        let alerts = d.observe(&w.e);
        assert!(alerts.iter().all(|a| a.subject != "pool:P"), "{alerts:#?}");
        // An hour and a half of quiet blocks.
        for _ in 0..450 {
            w.close_block();
            let alerts = d.observe(&w.e);
            assert!(alerts.iter().all(|a| a.subject != "pool:P"), "{alerts:#?}");
        }
    }
}

#[test]
fn alerts_serialise_with_decimal_amounts_and_checksummed_addresses() {
    let mut w = world();
    let mut d = watching(&mut w);
    let owner = w.owner;
    w.run(owner, Action::OwnerMint { farm: "F".into(), to: owner, amount: e18(500_000) });
    w.close_block();
    let alerts = d.observe(&w.e);
    let v = serde_json::to_value(&alerts).expect("json");
    let a = &v[0];
    assert_eq!(a["kind"], "unscheduled_mint");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["chain_id"], 1);
    let x = &a["exposed"][0];
    assert!(x["holder"].as_str().is_some_and(|h| h.starts_with("0x") && h.len() == 42));
    let amount = x["amount"].as_str().expect("amount is a string");
    assert!(amount.bytes().all(|b| b.is_ascii_digit()));
}
