//! `granary_hub::advise` on the demo world: every constraint holds, the tolerances order as they
//! should, money dilutes what it joins, gas keeps small holdings off expensive chains, and the
//! same input gives the same advice.

use granary_engine::Engine;
use granary_hub::Hub;
use granary_hub::advise::{Advice, AdviceRequest, AdviseError, Holdings, Market, Overrides, Tolerance, advise};
use granary_hub::assess::Plan;
use granary_hub::riskadj::Grade;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn world() -> (Engine, Hub) {
    let world = granary_world::seed(42);
    let mut engine = Engine::new();
    let mut hub = world.hub();
    if let Err(e) = world.apply_observing(&mut engine, |e| hub.observe(e)) {
        panic!("{e}");
    }
    (engine, hub)
}

/// The seeded world, built once for the tests that only read it.
fn shared() -> &'static (Engine, Hub) {
    static W: OnceLock<(Engine, Hub)> = OnceLock::new();
    W.get_or_init(world)
}

fn market(engine: &Engine, hub: &Hub, req: &AdviceRequest) -> Market {
    hub.advice_market(engine, req.plan())
}

fn holdings(s: &str) -> Holdings {
    match Holdings::parse(s) {
        Ok(h) => h,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn run(req: &AdviceRequest) -> Advice {
    let (engine, hub) = shared();
    let m = market(engine, hub, req);
    match advise(engine, &m, req) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

fn request(h: &str, days: u32, t: Tolerance) -> AdviceRequest {
    AdviceRequest::new(holdings(h), days, t)
}

const CASES: [(&str, u32); 5] = [
    ("ETH=10,USDC=5000", 90),
    ("ETH=100,USDC=50000", 30),
    ("USDC@arbitrum=20000,ETH=3", 180),
    ("BNB=50,MATIC=20000,GRNT@polygon=30000", 365),
    ("USDC=2500", 14),
];

/// Every constraint, checked against the market the advice read (not the line's own fields only).
fn check_constraints(req: &AdviceRequest, a: &Advice, m: &Market) {
    let limits = req.limits();
    let total = a.totals.holdings_usd;
    let eps = 1e-6 * total;
    let by_id: BTreeMap<&str, _> = m.candidates.iter().map(|c| (c.opportunity.id.as_str(), c)).collect();
    let mut protocol: BTreeMap<&str, f64> = BTreeMap::new();
    let mut chain: BTreeMap<&str, f64> = BTreeMap::new();
    let mut from_holding: BTreeMap<&str, f64> = BTreeMap::new();
    for l in &a.lines {
        let c = by_id.get(l.opportunity.as_str()).unwrap_or_else(|| panic!("{} is not in the market", l.opportunity));
        let o = &c.opportunity;
        let grade = o.grade.and_then(Grade::from_letter).unwrap_or_else(|| panic!("{} is ungraded", o.id));
        assert!(grade <= limits.min_grade, "{}: grade {grade:?} below {:?}", o.id, limits.min_grade);
        assert!(o.lockup.days <= req.horizon_days, "{}: locked {} > {} days", o.id, o.lockup.days, req.horizon_days);
        assert!(l.median_usd > 0.0, "{}: median {}", o.id, l.median_usd);
        assert!(l.bad_usd <= l.median_usd, "{}: bad {} above median {}", o.id, l.bad_usd, l.median_usd);
        assert!(l.amount_usd > 0.0 && l.deployed_usd > 0.0 && l.deployed_usd <= l.amount_usd);
        assert!(c.alerts.is_empty() && !req.overrides.exclude.contains(&o.id));
        let share_of_tvl = l.deployed_usd / (o.tvl_usd + l.deployed_usd);
        assert!(share_of_tvl <= limits.max_tvl_share + 1e-9, "{}: {share_of_tvl} of its TVL", o.id);
        let funded: f64 = l.sources.iter().map(|s| s.usd).sum();
        assert!((funded - l.amount_usd).abs() <= eps, "{}: sources {funded} vs {}", o.id, l.amount_usd);
        for s in &l.sources {
            *from_holding.entry(s.holding.as_str()).or_insert(0.0) += s.usd;
        }
        *protocol.entry(o.project.as_str()).or_insert(0.0) += l.amount_usd;
        *chain.entry(o.chain.as_str()).or_insert(0.0) += l.amount_usd;
    }
    for (p, v) in &protocol {
        assert!(*v <= limits.max_protocol_share * total + eps, "{p}: {v} over the protocol cap of {total}");
    }
    for (c, v) in &chain {
        assert!(*v <= limits.max_chain_share * total + eps, "{c}: {v} over the chain cap of {total}");
    }
    for h in &a.holdings {
        let used = from_holding.get(h.label().as_str()).copied().unwrap_or(0.0);
        assert!(used <= h.value_usd + eps, "{}: {used} of {}", h.label(), h.value_usd);
    }
    let allocated: f64 = a.lines.iter().map(|l| l.amount_usd).sum();
    let held: f64 = a.holdings.iter().map(|h| h.value_usd).sum();
    assert!(allocated <= held + eps, "allocated {allocated} of {held}");
    let left: f64 = a.unallocated.iter().map(|u| u.usd).sum();
    assert!((allocated + left - held).abs() <= 0.01 * a.holdings.len() as f64 + eps, "{allocated} + {left} ≠ {held}");
}

#[test]
fn every_constraint_holds_on_the_demo_world() {
    let (engine, hub) = shared();
    let mut lines = 0;
    for (h, days) in CASES {
        for t in Tolerance::ALL {
            let req = request(h, days, t);
            let m = market(engine, hub, &req);
            let a = match advise(engine, &m, &req) {
                Ok(a) => a,
                Err(e) => panic!("{h} {days}d {t:?}: {e}"),
            };
            eprintln!(
                "{h} {days}d {t:?}: {} lines, ${:.0} of ${:.0}, median ${:.2}, bad ${:.2}",
                a.lines.len(),
                a.totals.allocated_usd,
                a.totals.holdings_usd,
                a.totals.median_usd,
                a.totals.bad_usd
            );
            check_constraints(&req, &a, &m);
            lines += a.lines.len();
        }
    }
    assert!(lines >= 20, "the cases advise only {lines} lines in all");
}

#[test]
fn tight_overrides_bind_and_still_hold() {
    let (engine, hub) = shared();
    let mut req = request("ETH=40,USDC=20000", 120, Tolerance::Aggressive);
    req.overrides = Overrides {
        max_protocol_share: Some(0.15),
        max_chain_share: Some(0.25),
        max_tvl_share: Some(0.004),
        ..Overrides::default()
    };
    let m = market(engine, hub, &req);
    let a = advise(engine, &m, &req).unwrap_or_else(|e| panic!("{e}"));
    check_constraints(&req, &a, &m);
    // Caps this tight spread the money over at least four chains' worth of lines.
    assert!(a.totals.by_chain.len() >= 4, "{:?}", a.totals.by_chain);
    assert!(
        a.lines.iter().any(|l| l.limit.contains("cap") || l.limit.contains("TVL")),
        "no line reports a binding cap"
    );
}

#[test]
fn a_conservative_tolerance_keeps_its_grade_floor_and_earns_no_more_than_an_aggressive_one() {
    for (h, days) in CASES {
        let c = run(&request(h, days, Tolerance::Conservative));
        let b = run(&request(h, days, Tolerance::Balanced));
        let g = run(&request(h, days, Tolerance::Aggressive));
        for l in &c.lines {
            let grade = Grade::from_letter(l.grade).unwrap_or(Grade::F);
            assert!(grade <= Grade::B, "{h}: conservative picked {} graded {}", l.opportunity, l.grade);
        }
        assert!(
            c.totals.median_usd <= g.totals.median_usd + 1e-6,
            "{h} {days}d: conservative median {} above aggressive {}",
            c.totals.median_usd,
            g.totals.median_usd
        );
        assert!(
            b.totals.median_usd <= g.totals.median_usd + 1e-6,
            "{h} {days}d: balanced median {} above aggressive {}",
            b.totals.median_usd,
            g.totals.median_usd
        );
    }
}

/// Only `keep` may be advised, with caps out of the way, from `usd` of USDC on Arbitrum.
fn single(keep: &str, usd: f64, m: &Market) -> AdviceRequest {
    let exclude = m.candidates.iter().map(|c| c.opportunity.id.clone()).filter(|id| id != keep).collect();
    let mut req = request(&format!("USDC@arbitrum={usd}"), 90, Tolerance::Aggressive);
    req.overrides = Overrides {
        max_protocol_share: Some(1.0),
        max_chain_share: Some(1.0),
        max_tvl_share: Some(0.9),
        bad_case_weight: Some(0.0),
        exclude,
        ..Overrides::default()
    };
    req
}

#[test]
fn ten_times_more_money_earns_a_lower_marginal_apy() {
    let (engine, hub) = shared();
    let base = request("USDC@arbitrum=1", 90, Tolerance::Aggressive);
    let m = market(engine, hub, &base);
    let id = "farm:thr-arb-0";
    let mut apys = Vec::new();
    for usd in [20_000.0, 200_000.0] {
        let req = single(id, usd, &m);
        let a = advise(engine, &m, &req).unwrap_or_else(|e| panic!("{e}"));
        let l = a.lines.iter().find(|l| l.opportunity == id).unwrap_or_else(|| panic!("{id} not advised at ${usd}"));
        eprintln!("${usd}: {} reward {:.3}% marginal {:.3}%", l.opportunity, l.apy.reward_pct, l.apy.marginal_pct);
        apys.push((l.apy.reward_pct, l.apy.marginal_pct, l.apy.risk_adjusted_pct));
    }
    let (small, large) = (apys[0], apys[1]);
    assert!(large.0 < small.0, "reward APR {} at 10× is not below {}", large.0, small.0);
    assert!(large.1 < small.1, "marginal APY {} at 10× is not below {}", large.1, small.1);
    assert!(large.2 < small.2, "risk-adjusted APY {} at 10× is not below {}", large.2, small.2);
    // The marginal rate is below the average: the next dollar dilutes every dollar already in.
    assert!(large.1 < large.2);
}

#[test]
fn a_holding_too_small_for_ethereum_gas_gets_nothing_there() {
    let small = run(&request("USDC=40", 90, Tolerance::Aggressive));
    assert!(small.lines.iter().all(|l| l.chain != "Ethereum"), "{:?}", small.lines);
    // Ethereum's farms are admitted and graded A, so gas is what keeps them out.
    let reason = small.excluded.iter().find(|x| x.opportunity == "farm:thr-eth-2").map(|x| x.reason.clone());
    assert!(reason.as_deref().is_some_and(|r| r.starts_with("not picked")), "{reason:?}");
    // The same opportunities with enough money on Ethereum do get some of it.
    let large = run(&request("USDC=400000", 90, Tolerance::Aggressive));
    assert!(large.lines.iter().any(|l| l.chain == "Ethereum"), "{:?}", large.totals.by_chain);
}

#[test]
fn a_lock_longer_than_the_horizon_is_never_advised() {
    let a = run(&request("GRNT@polygon=50000,USDC=20000", 45, Tolerance::Aggressive));
    assert!(a.lines.iter().all(|l| l.lockup_days <= 45));
    let r = a.excluded.iter().find(|x| x.opportunity == "stake:granite-pol:90d").map(|x| x.reason.as_str());
    assert_eq!(r, Some("locked 90 days, longer than the 45-day horizon"));
    // With a year to hold, GRNT is staked in a Granite term with no swap (on Polygon as it is,
    // or bridged as GRNT to Avalanche, whose terms pay more).
    let y = run(&request("GRNT@polygon=50000", 365, Tolerance::Aggressive));
    let staked = y.lines.iter().find(|l| l.opportunity.starts_with("stake:granite-"));
    let Some(l) = staked else { panic!("GRNT is not staked: {:?}", y.excluded) };
    assert_eq!(l.costs.swap_fee_usd, 0.0, "{:?}", l.sources);
    assert_eq!(l.costs.bridge_usd > 0.0, l.chain != "Polygon", "{:?}", l.sources);
}

#[test]
fn alerted_and_excluded_opportunities_are_never_advised() {
    let (engine, hub) = shared();
    let req = request("ETH=10,USDC=5000", 90, Tolerance::Balanced);
    let mut m = market(engine, hub, &req);
    let first = advise(engine, &m, &req).unwrap_or_else(|e| panic!("{e}"));
    let top = first.lines.first().map(|l| l.opportunity.clone()).unwrap_or_default();
    assert!(!top.is_empty());
    for c in m.candidates.iter_mut().filter(|c| c.opportunity.id == top) {
        c.alerts.push("migrator set on its farm".into());
    }
    let second = advise(engine, &m, &req).unwrap_or_else(|e| panic!("{e}"));
    assert!(second.lines.iter().all(|l| l.opportunity != top));
    let r = second.excluded.iter().find(|x| x.opportunity == top).map(|x| x.reason.as_str());
    assert_eq!(r, Some("alert: migrator set on its farm"));
    let mut req3 = req.clone();
    req3.overrides.exclude = vec![top.clone()];
    let third = advise(engine, &market(engine, hub, &req3), &req3).unwrap_or_else(|e| panic!("{e}"));
    assert!(third.lines.iter().all(|l| l.opportunity != top));
}

#[test]
fn same_input_same_output() {
    let req = request("ETH=10,USDC=5000,BNB=20", 90, Tolerance::Balanced);
    let (e1, h1) = world();
    let (e2, h2) = world();
    let a = advise(&e1, &market(&e1, &h1, &req), &req).unwrap_or_else(|e| panic!("{e}"));
    let b = advise(&e2, &market(&e2, &h2, &req), &req).unwrap_or_else(|e| panic!("{e}"));
    assert!(!a.lines.is_empty());
    assert_eq!(a, b);
    let (ja, jb) = (serde_json::to_string(&a).unwrap_or_default(), serde_json::to_string(&b).unwrap_or_default());
    assert!(ja.len() > 1000);
    assert_eq!(ja, jb);
}

#[test]
fn lines_explain_themselves_and_route_through_real_pools() {
    let a = run(&request("ETH=10,USDC=5000", 90, Tolerance::Balanced));
    let (engine, _) = shared();
    for l in &a.lines {
        assert!(l.why.contains(&l.project) && l.why.contains("median"), "{}", l.why);
        assert!(l.risks.contains(&format!("grade {}", l.grade)) && l.risks.contains("bad case"), "{}", l.risks);
        assert!(!l.limit.is_empty());
        for s in &l.sources {
            assert!(s.route.len() >= 2, "{:?}", s.route);
            for step in &s.route {
                if let Some(pool) = step.split(" via ").nth(1).and_then(|p| p.split(" → ").next()) {
                    assert!(engine.pool_ix(pool).is_ok(), "route names an unknown pool {pool}: {step}");
                }
            }
            let crosses = s.chain != l.chain;
            assert_eq!(crosses, s.bridge_usd > 0.0, "{}: {:?}", l.opportunity, s.route);
        }
    }
    assert!(a.assumptions.iter().any(|x| x.contains("Bridge model")));
    assert!(
        a.assumptions.iter().any(|x| x.contains("read as 10 WETH") || x.contains("10.0000 WETH")),
        "{:?}",
        a.assumptions
    );
}

#[test]
fn unknown_assets_and_chains_are_refused_with_the_fix() {
    let (engine, hub) = shared();
    let check = |h: &str, code: &str, needle: &str| {
        let req = request(h, 90, Tolerance::Balanced);
        let r: Result<Advice, AdviseError> = advise(engine, &market(engine, hub, &req), &req);
        match r {
            Err(e) => {
                assert_eq!(e.field, "holdings");
                assert_eq!(e.code, code, "{e}");
                assert!(e.message.contains(needle), "{e}");
            }
            Ok(_) => panic!("{h} was accepted"),
        }
    };
    check("ETH=1,DOGE=5", "unknown_asset", "holding 2 `DOGE`");
    check("USDC@solana=5", "unknown_chain", "use one of ethereum");
    check("SOL@ethereum=5", "unknown_asset", "Ethereum has no priced SOL token");
    let mut req = request("ETH=1", 0, Tolerance::Balanced);
    let r = advise(engine, &market(engine, hub, &req), &req);
    assert!(matches!(&r, Err(e) if e.field == "horizon_days"), "{r:?}");
    req.horizon_days = 30;
    req.overrides.max_chain_share = Some(1.5);
    let r = advise(engine, &market(engine, hub, &req), &req);
    assert!(matches!(&r, Err(e) if e.field == "max_chain_share"), "{r:?}");
}

#[test]
fn the_plan_does_not_change_the_advice_only_the_listed_apy() {
    let (engine, hub) = shared();
    let req = request("ETH=10,USDC=5000", 90, Tolerance::Balanced);
    let a = advise(engine, &hub.advice_market(engine, req.plan()), &req).unwrap_or_else(|e| panic!("{e}"));
    let b = advise(engine, &hub.advice_market(engine, Plan::default()), &req).unwrap_or_else(|e| panic!("{e}"));
    let ids = |x: &Advice| x.lines.iter().map(|l| (l.opportunity.clone(), l.amount_usd.to_bits())).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
}
