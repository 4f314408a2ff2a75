use granary_engine::Engine;
use granary_hub::alerts::{AlertConfig, AlertDetector, AlertKind};
use granary_hub::assess::Plan;
use granary_world::{World, seed};
use std::collections::BTreeSet;
use std::time::Instant;

fn seeded(s: u64) -> (World, Engine) {
    let world = seed(s);
    let mut engine = Engine::new();
    if let Err(e) = world.apply(&mut engine) {
        panic!("{e}");
    }
    (world, engine)
}

#[test]
fn seed_applies_to_a_fresh_engine_quickly() {
    let t = Instant::now();
    let (world, engine) = seeded(42);
    let took = t.elapsed();
    assert!(!world.ops.is_empty());
    assert_eq!(engine.chains().len(), 6);
    let ids: Vec<u64> = engine.chains().iter().map(|c| c.chain_id).collect();
    assert_eq!(ids, vec![1, 56, 137, 42_161, 8_453, 43_114]);
    assert!(engine.chains().iter().all(|c| c.now == granary_world::SEED_END));
    eprintln!("seed(42): {} steps built and applied in {took:?}", world.ops.len());
    // Generous for unoptimised test builds; a release build takes a fraction of this.
    assert!(took.as_secs_f64() < 5.0, "seeding took {took:?}");
}

#[test]
fn same_seed_same_state_other_seed_differs() {
    let (_, a) = seeded(42);
    let (_, b) = seeded(42);
    let (_, c) = seeded(7);
    assert_eq!(a.state_hash(), b.state_hash());
    assert_ne!(a.state_hash(), c.state_hash());
}

#[test]
fn the_hub_sees_the_world() {
    let world = seed(42);
    let mut engine = Engine::new();
    let mut hub = world.hub();
    if let Err(e) = world.apply_observing(&mut engine, |e| hub.observe(e)) {
        panic!("{e}");
    }
    let opps = hub.assess(&engine, Plan::default());
    for o in &opps {
        eprintln!(
            "{:<28} {:<10} {:<11} {:<24} {:?} tvl ${:>12.0} apy {:>9.1}% grade {:?} ({:?})",
            o.id, o.chain, o.project, o.symbol, o.kind, o.tvl_usd, o.apy, o.grade, o.risk_score
        );
    }
    assert!(opps.len() >= 30, "{} opportunities", opps.len());
    let chains: BTreeSet<u64> = opps.iter().map(|o| o.chain_id).collect();
    assert_eq!(chains.len(), 6);
    let projects: BTreeSet<&str> = opps.iter().map(|o| o.project.as_str()).collect();
    assert!(projects.len() >= 8, "{projects:?}");
    let grades: Vec<char> = opps.iter().filter_map(|o| o.grade).collect();
    assert!(grades.iter().any(|g| matches!(g, 'A' | 'B')), "{grades:?}");
    assert!(grades.iter().any(|g| matches!(g, 'E' | 'F')), "{grades:?}");
    // The day of trading gives the exchange's pools fees.
    let with_fees = opps.iter().filter(|o| o.project == "Millstone" && o.apr_base.is_some_and(|a| a > 0.0)).count();
    assert!(with_fees >= 20, "{with_fees} Millstone pools with a base APR");
}

#[test]
fn the_scheduled_rug_raises_the_migrator_alerts() {
    let (world, mut engine) = seeded(42);
    assert!(!world.schedule.is_empty());
    let mut detector = AlertDetector::new(AlertConfig::default());
    assert!(detector.observe(&engine).is_empty(), "the first observation is a baseline");
    let mut kinds = BTreeSet::new();
    for s in &world.schedule {
        if let Err(e) = s.apply(&mut engine) {
            panic!("{}: {e}", s.label);
        }
        for a in detector.observe(&engine) {
            eprintln!("{:?} {:?} {}: {}", a.kind, a.severity, a.subject, a.evidence);
            kinds.insert(a.kind);
        }
    }
    assert!(kinds.contains(&AlertKind::MigratorSet), "{kinds:?}");
    assert!(kinds.contains(&AlertKind::MigratorDrain), "{kinds:?}");
}

#[test]
fn seeding_resumes_and_its_transactions_survive_the_wire() {
    let world = seed(42);
    let mut whole = Engine::new();
    if let Err(e) = world.apply(&mut whole) {
        panic!("{e}");
    }
    let half = world.ops.len() / 2;
    let mut resumed = Engine::new();
    for op in &world.ops[..half] {
        if let Err(e) = op.apply(&mut resumed) {
            panic!("{e}");
        }
    }
    if let Err(e) = world.apply_from(&mut resumed, half) {
        panic!("{e}");
    }
    assert_eq!(whole.state_hash(), resumed.state_hash());
    for op in &world.ops {
        if let granary_world::Seed::Tx(stx) = op {
            let back = granary_engine::SignedTransaction::from_bytes(&stx.to_bytes());
            assert_eq!(back.as_ref(), Ok(stx));
        }
    }
}

#[test]
fn a_second_apply_on_the_same_engine_is_refused() {
    let (world, mut engine) = seeded(42);
    let before = engine.state_hash();
    assert!(world.apply(&mut engine).is_err());
    // The first step (creating a chain that exists) is refused and changes nothing.
    assert_eq!(engine.state_hash(), before);
}
