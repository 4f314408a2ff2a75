//! The hub end to end: an honest, audited, timelocked farm and a dubious one on the same pool,
//! graded from engine evidence and metadata, risk-adjusted, and ranked.

use granary_engine::farm::Funding;
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use granary_hub::Hub;
use granary_hub::assess::Plan;
use granary_hub::metadata::{Audit, ObjectRef, ProtocolInfo};
use granary_hub::rank::{Filter, SortKey, rank};

fn who(n: &str) -> Address {
    key_address(&dev_key(n))
}

fn units(x: f64, d: u8) -> U256 {
    U256::from((x * 10f64.powi(i32::from(d))) as u128)
}

fn exec(e: &mut Engine, by: &str, a: Action) {
    if let Err(err) = e.execute(who(by), &a) {
        panic!("{a:?}: {err}");
    }
}

const LPS: [&str; 10] = ["lp0", "lp1", "lp2", "lp3", "lp4", "lp5", "lp6", "lp7", "lp8", "lp9"];

#[test]
fn honest_and_dubious_farms_are_graded_risk_adjusted_and_ranked() {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    assert!(e.set_gas_model(c, "ETH", U256::from(20_000_000_000u64)).is_ok());
    for (id, d, minter) in [("WETH", 18u8, "nobody"), ("USDC", 6, "nobody"), ("GOOD", 18, "good"), ("MOON", 18, "moon")]
    {
        let m = if minter == "nobody" { Minter::Nobody } else { Minter::Account(who(minter)) };
        let t = e.create_token(id, c, id, d, m).unwrap_or(0);
        for n in LPS {
            assert!(e.faucet_mint(t, who(n), units(1e7, d)).is_ok());
        }
    }
    exec(&mut e, "factory", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    exec(&mut e, "factory", Action::CreatePool { id: "G".into(), tokens: ["GOOD".into(), "USDC".into()], fee_bps: 30 });
    exec(&mut e, "factory", Action::CreatePool { id: "M".into(), tokens: ["MOON".into(), "USDC".into()], fee_bps: 30 });
    for n in LPS {
        exec(
            &mut e,
            n,
            Action::AddLiquidity {
                pool: "P".into(),
                amounts: [units(100.0, 18), units(200_000.0, 6)],
                min: [U256::ZERO; 2],
            },
        );
        exec(
            &mut e,
            n,
            Action::AddLiquidity {
                pool: "G".into(),
                amounts: [units(100_000.0, 18), units(100_000.0, 6)],
                min: [U256::ZERO; 2],
            },
        );
        exec(
            &mut e,
            n,
            Action::AddLiquidity {
                pool: "M".into(),
                amounts: [units(100_000.0, 18), units(10_000.0, 6)],
                min: [U256::ZERO; 2],
            },
        );
    }
    // Honest: 0.02 GOOD/s (≈ 30 % APY on $2M staked), 2-day timelock. Dubious: 50 MOON/s, no timelock, a migrator.
    exec(
        &mut e,
        "good",
        Action::CreateFarm {
            id: "HONEST".into(),
            reward_token: "GOOD".into(),
            reward_per_second: units(0.02, 18),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 2 * 86_400,
        },
    );
    exec(
        &mut e,
        "good",
        Action::QueueAdmin {
            farm: "HONEST".into(),
            action: Box::new(Action::AddFarmPool {
                id: "H0".into(),
                farm: "HONEST".into(),
                stake_token: "P".into(),
                alloc_point: 100,
                deposit_fee_bps: 0,
            }),
        },
    );
    let _ = e.advance(c, 2 * 86_400);
    exec(&mut e, "good", Action::ExecuteQueued { farm: "HONEST".into(), queue_id: 0 });
    exec(
        &mut e,
        "moon",
        Action::CreateFarm {
            id: "MOONFARM".into(),
            reward_token: "MOON".into(),
            reward_per_second: units(50.0, 18),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 0,
        },
    );
    exec(
        &mut e,
        "moon",
        Action::AddFarmPool {
            id: "M0".into(),
            farm: "MOONFARM".into(),
            stake_token: "P".into(),
            alloc_point: 100,
            deposit_fee_bps: 400,
        },
    );
    exec(&mut e, "moon", Action::SetMigrator { farm: "MOONFARM".into(), migrator: Some(who("moon")) });
    let lp = e.token_ix("P").unwrap_or(0);
    for n in LPS {
        let half = e.balance(lp, who(n)) / U256::from(2u8);
        exec(&mut e, n, Action::Deposit { farm_pool: "H0".into(), amount: half });
        exec(&mut e, n, Action::Deposit { farm_pool: "M0".into(), amount: half / U256::from(4u8) });
    }
    let mut hub = Hub { genesis_unix: 1_700_000_000, ..Hub::default() };
    let mut honest = ProtocolInfo::named("Honest Finance");
    honest.launched_at_unix = Some(hub.genesis_unix - 500 * 86_400);
    honest.audits = vec![
        Audit {
            auditor: "Trail of Bits".into(),
            date_unix: hub.genesis_unix - 200 * 86_400,
            scope: "MasterChef".into(),
        },
        Audit { auditor: "OpenZeppelin".into(), date_unix: hub.genesis_unix - 100 * 86_400, scope: "Timelock".into() },
    ];
    hub.registry.insert(honest);
    hub.registry.assign(ObjectRef::Farm("HONEST"), "Honest Finance");
    hub.registry.insert(ProtocolInfo::named("MoonFarm"));
    hub.registry.assign(ObjectRef::Farm("MOONFARM"), "MoonFarm");
    for _ in 0..60 {
        let _ = e.advance(c, 60);
        hub.observe(&e);
    }
    let opps = hub.assess(&e, Plan::default());
    let get = |id: &str| opps.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("{id}"));
    let (h, m) = (get("farm:H0"), get("farm:M0"));
    println!(
        "honest {:?} {:?} apy {:.1} adj {:?}; moon {:?} {:?} apy {:.1} adj {:?}",
        h.grade, h.risk_score, h.apy, h.apy_risk_adjusted, m.grade, m.risk_score, m.apy, m.apy_risk_adjusted
    );
    assert!(matches!(h.grade, Some('A' | 'B')), "honest grade {:?}", h.grade);
    assert!(matches!(m.grade, Some('E' | 'F')), "dubious grade {:?}", m.grade);
    assert!(m.apy > h.apy * 10.0, "the dubious farm advertises far more");
    let (ha, ma) = (h.apy_risk_adjusted.expect("adjusted"), m.apy_risk_adjusted.expect("adjusted"));
    assert!(ha < h.apy && ma < m.apy);
    // The dubious farm's advertised APY cannot be realised: its rewards sell through a thin pool
    // and inflate away, and its grade implies a likely loss.
    assert!(ma < 0.25 * m.apy, "risk-adjusted {ma} vs advertised {}", m.apy);
    assert!(m.flags.iter().any(|f| f.contains("sell for")), "{:?}", m.flags);
    assert!(ha > 0.85 * h.apy, "the honest farm keeps most of its APY: {ha} of {}", h.apy);
    let farms = Filter { kind: Some(granary_hub::Kind::LpFarm), ..Filter::default() };
    assert_eq!(rank(&opps, &farms, SortKey::Apy)[0].id, "farm:M0");
    // A grade filter keeps only the honest farm.
    let safe = Filter { min_grade: Some('B'), ..farms };
    assert_eq!(rank(&opps, &safe, SortKey::Apy).iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["farm:H0"]);
    // The dubious farm's grade says why, with evidence.
    let g = hub.risk_of(&e, m, true);
    for factor in ["audits", "migrator", "reward_mint", "deposit_fee", "apy"] {
        let f = g.factors.iter().find(|f| f.name == factor).unwrap_or_else(|| panic!("factor {factor}"));
        assert!(f.penalty > 0.0 && !f.evidence.is_empty(), "{factor}: {f:?}");
    }
}
