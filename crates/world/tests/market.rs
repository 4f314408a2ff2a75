//! The live market on a bare engine: prices follow the data, pools stay at market, fees accrue,
//! HYPER decays, the rug runs on time, rewards are topped up, and the same inputs give the same
//! state.

use granary_engine::{Address, Engine, EngineError, SystemOp, U256};
use granary_lab::data;
use granary_lab::date::Date;
use granary_world::market::{ARBITRAGEUR, NOISE_TRADERS};
use granary_world::{
    FillReason, Ledger, LedgerFailure, Market, MarketConfig, MarketError, RunReport, Seed, World, seed,
};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

const DAY: u64 = 86_400;
const HOUR: u64 = 3_600;

/// The seeded world and its engine, built once per test binary.
fn seeded() -> &'static (World, Engine) {
    static SEEDED: OnceLock<(World, Engine)> = OnceLock::new();
    SEEDED.get_or_init(|| {
        let world = seed(42);
        let mut engine = Engine::new();
        if let Err(e) = world.apply(&mut engine) {
            panic!("{e}");
        }
        (world, engine)
    })
}

fn market(world: &World, config: MarketConfig) -> Market {
    match Market::new(world, config) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn run(market: &mut Market, ledger: &mut impl Ledger, seconds: u64) -> RunReport {
    match market.run(ledger, seconds) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn f(x: U256) -> f64 {
    x.into()
}

fn pool<'e>(e: &'e Engine, id: &str) -> &'e granary_engine::amm::CpPool {
    match e.pool_ix(id) {
        Ok(p) => e.pool(p),
        Err(err) => panic!("{err}"),
    }
}

/// A bare engine that also records what the market sent it.
struct Recording {
    engine: Engine,
    steps: Vec<Seed>,
}

impl Ledger for Recording {
    fn engine(&self) -> &Engine {
        &self.engine
    }
    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure> {
        let out = steps.iter().map(|s| s.apply(&mut self.engine)).collect();
        self.steps.extend(steps);
        Ok(out)
    }
}

/// Three days and two hours in one-hour blocks: long enough to pass the rug (three days after
/// the seeding ends) and its migrations (an hour later).
fn three_days() -> &'static (Engine, Recording, RunReport, Market) {
    static RUN: OnceLock<(Engine, Recording, RunReport, Market)> = OnceLock::new();
    RUN.get_or_init(|| {
        let (world, engine) = seeded();
        let mut m = market(world, MarketConfig::default());
        let mut ledger = Recording { engine: engine.clone(), steps: Vec::new() };
        let report = run(&mut m, &mut ledger, 3 * DAY + 2 * HOUR);
        (engine.clone(), ledger, report, m)
    })
}

#[test]
fn the_run_closes_every_block_of_every_chain_and_nothing_is_refused() {
    let (before, ledger, report, _) = three_days();
    assert_eq!(report.refused, 0);
    let hours = ((3 * DAY + 2 * HOUR) / HOUR) as usize;
    // One block per chain per hour; on BNB Chain also the blocks that the scheduled steps'
    // advances close (each migration is due a minute after the previous one).
    for c in before.chains() {
        let n = report.blocks.iter().filter(|b| b.chain == c.id).count();
        if c.id == "bsc" {
            assert!(n > hours, "{n} blocks on bsc");
        } else {
            assert_eq!(n, hours, "{}", c.id);
        }
    }
    let end = before.chains()[0].now + 3 * DAY + 2 * HOUR;
    assert!(ledger.engine.chains().iter().all(|c| c.now == end), "every chain at the same time");
    for reason in [FillReason::Arbitrage, FillReason::Noise, FillReason::RewardSale] {
        assert!(report.fills.iter().any(|f| f.reason == reason), "no {reason:?} fill");
    }
}

#[test]
fn market_pools_end_within_their_fee_band_of_the_market_price() {
    let (_, ledger, report, m) = three_days();
    let e = &ledger.engine;
    let mut checked = 0;
    let mut worst = 0.0f64;
    for p in e.pools() {
        let (t0, t1) = (e.token(p.tokens[0]), e.token(p.tokens[1]));
        let chain = &e.chain(p.chain).id;
        let Some(last) = report.blocks.iter().rev().find(|b| &b.chain == chain) else { panic!("no block on {chain}") };
        let (Some(p0), Some(p1)) = (m.price_at(&t0.id, last.timestamp), m.price_at(&t1.id, last.timestamp)) else {
            continue;
        };
        let market = p0 / p1 * 10f64.powi(i32::from(t1.decimals) - i32::from(t0.decimals));
        let c = p.spot_price0() / market;
        let gamma = 1.0 - f64::from(p.fee_bps) / 10_000.0;
        worst = worst.max(c.ln().abs());
        assert!(c >= gamma * (1.0 - 1e-9) && c <= (1.0 + 1e-9) / gamma, "{}: pool/market = {c}", p.id);
        checked += 1;
    }
    eprintln!("{checked} market pools; largest |ln(pool/market)| {worst:.6}");
    // Every exchange pool of two priced tokens: all but the two ARB pools (ARB has no series).
    assert!(checked >= 24, "{checked}");
    // Prices really moved: the pools are not simply where the seeding left them.
    let weth = pool(e, "ms-eth-WETH-USDC").spot_price0();
    let seeded = pool(&three_days().0, "ms-eth-WETH-USDC").spot_price0();
    assert!((weth / seeded - 1.0).abs() > 0.01, "{weth} vs {seeded}");
}

#[test]
fn noise_traders_pay_fees_in_every_exchange_pool() {
    let (before, ledger, _, _) = three_days();
    let e = &ledger.engine;
    for p in e.pools().iter().filter(|p| p.id.starts_with("ms-")) {
        let b = pool(before, &p.id);
        assert!(p.fees_in[0] > b.fees_in[0] && p.fees_in[1] > b.fees_in[1], "{}: fees did not grow", p.id);
        // Volume a day as a share of liquidity, in token 0 at the pool's price:
        // (Δvolume₀ + Δvolume₁ / price) / (2·reserve₀) / days.
        let v0 = f(p.volume_in[0] - b.volume_in[0]);
        let v1 = f(p.volume_in[1] - b.volume_in[1]) / p.spot_price0();
        let daily = (v0 + v1) / (2.0 * f(p.reserves[0])) / (3.0 + 2.0 / 24.0);
        assert!((0.025..=1.0).contains(&daily), "{}: {:.1} % of its liquidity a day", p.id, daily * 100.0);
    }
}

#[test]
fn hyperyield_farmers_sell_and_hyper_decays() {
    let (before, ledger, report, _) = three_days();
    let id = "hyperyield-pol-HYPER-WMATIC";
    // Token 0 is HYPER: its price in WMATIC.
    let (was, now) = (pool(before, id).spot_price0(), pool(&ledger.engine, id).spot_price0());
    eprintln!("HYPER in WMATIC: {was:.4} -> {now:.6} (x{:.4})", now / was);
    assert!(now < was * 0.5, "{was} -> {now}");
    let sales: Vec<_> = report.fills.iter().filter(|f| f.reason == FillReason::RewardSale).collect();
    assert!(sales.iter().all(|f| f.pool == id && f.token_in == "pol-HYPER"));
    assert!(sales.len() > 10, "{} sales", sales.len());
}

#[test]
fn the_rug_is_carried_out_on_time() {
    let (world, _) = seeded();
    let (before, ledger, report, _) = three_days();
    let labels: Vec<&String> = world.schedule.iter().map(|s| &s.label).collect();
    assert_eq!(report.scheduled.iter().collect::<Vec<_>>(), labels);
    let e = &ledger.engine;
    let migrator = world.actor("mooncrop-migrator").map(|a| a.address);
    let farm = e.farm_ix("mooncrop-chef").map(|f| e.farm(f).migrator);
    assert_eq!(farm, Ok(migrator));
    let Some(migrator) = migrator else { panic!("no migrator") };
    for fp in ["moon-0", "moon-1", "moon-2"] {
        let Ok(ix) = e.farm_pool_ix(fp) else { panic!("{fp}") };
        let stake = e.farm_pool(ix).stake_token;
        assert!(e.balance(stake, migrator) > before.balance(stake, migrator), "{fp}'s stake did not move");
    }
    // The rug ran at its time: a block of BNB Chain has exactly that timestamp.
    let Some(rug) = world.schedule.first() else { panic!("empty schedule") };
    assert!(report.blocks.iter().any(|b| b.chain == "bsc" && b.timestamp == rug.at));
    // A drained farm is still a consistent state (its users' records stay, as in MasterChef), so
    // a snapshot of it passes the store's invariant check on recovery.
    assert_eq!(e.check_invariants(), Ok(()));
    assert_eq!(before.check_invariants(), Ok(()));
}

#[test]
fn the_market_keeps_its_hands_off_scheduled_senders_and_mints_rarely() {
    let (world, _) = seeded();
    let (_, ledger, _, _) = three_days();
    let forbidden: BTreeSet<Address> =
        ["mooncrop-deployer", "mooncrop-migrator"].iter().filter_map(|n| world.actor(n).map(|a| a.address)).collect();
    let scheduled: BTreeSet<_> = world
        .schedule
        .iter()
        .filter_map(|s| match &s.step {
            Seed::Tx(stx) => Some(stx.tx.signing_hash()),
            Seed::System(_) => None,
        })
        .collect();
    let mut mints = 0;
    for s in &ledger.steps {
        match s {
            Seed::Tx(stx) if forbidden.contains(&stx.tx.sender) => {
                assert!(scheduled.contains(&stx.tx.signing_hash()), "the market signed for {}", stx.tx.sender);
            }
            Seed::System(SystemOp::FaucetMint { .. }) => mints += 1,
            _ => {}
        }
    }
    eprintln!("{mints} faucet mints in {} steps", ledger.steps.len());
    assert!(mints > 0 && mints < 100, "{mints} faucet mints");
    // The market's own traders exist in the world.
    for name in [ARBITRAGEUR, NOISE_TRADERS[0], NOISE_TRADERS[1]] {
        assert!(world.actor(name).is_some(), "{name}");
    }
}

#[test]
fn the_same_inputs_give_the_same_state() {
    let world = seed(42);
    let mut engines = [Engine::new(), Engine::new(), Engine::new()];
    for e in &mut engines {
        if let Err(err) = world.apply(e) {
            panic!("{err}");
        }
    }
    let [a, b, c] = &mut engines;
    let ra = run(&mut market(&world, MarketConfig::default()), a, 12 * HOUR);
    let rb = run(&mut market(&world, MarketConfig::default()), b, 12 * HOUR);
    assert_eq!(a.state_hash(), b.state_hash());
    assert_eq!(ra.fills.len(), rb.fills.len());
    // Two runs of six hours make the same blocks as one of twelve, so the same state.
    let mut m = market(&world, MarketConfig::default());
    let first = run(&mut m, c, 6 * HOUR);
    let second = run(&mut m, c, 6 * HOUR);
    assert_eq!(c.state_hash(), a.state_hash());
    assert_eq!(first.fills.len() + second.fills.len(), ra.fills.len());
    // Another seed makes another market.
    let other = seed(7);
    let mut d = Engine::new();
    if let Err(err) = other.apply(&mut d) {
        panic!("{err}");
    }
    run(&mut market(&other, MarketConfig::default()), &mut d, 12 * HOUR);
    assert_ne!(d.state_hash(), a.state_hash());
}

#[test]
fn prices_follow_the_daily_closes() {
    let (world, _) = seeded();
    let config = MarketConfig::default();
    assert_eq!((config.from.to_string(), config.to.to_string()), ("2021-02-14".into(), "2022-02-13".into()));
    let m = market(world, config.clone());
    let eth = match data::load("ETH") {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let close = |d: i32| eth.close_on(Date::from_days_since_epoch(config.from.days_since_epoch() + d));
    let (Some(c0), Some(c10), Some(c11), Some(last)) = (close(0), close(10), close(11), close(364)) else {
        panic!("ETH closes missing")
    };
    let world_eth = world.prices.get("eth-WETH").copied().unwrap_or(0.0);
    let near = |got: Option<f64>, want: f64| got.is_some_and(|g| (g / want - 1.0).abs() < 1e-9);
    assert!(near(m.price_at("eth-WETH", 0), world_eth));
    assert!(near(m.price_at("eth-WETH", 10 * DAY), world_eth * c10 / c0));
    // Within a day the price runs linearly from one close to the next.
    assert!(near(m.price_at("eth-WETH", 10 * DAY + DAY / 2), world_eth * (c10 + c11) / 2.0 / c0));
    // Every wrapped or bridged ETH follows the same path.
    for id in ["arb-WETH", "bsc-ETH", "avax-WETH.e"] {
        assert!(near(m.price_at(id, 10 * DAY), world_eth * c10 / c0), "{id}");
    }
    // Looped: the window starts again after its last day; held: the last close stays.
    assert!(near(m.price_at("eth-WETH", 364 * DAY), world_eth * last / c0));
    assert!(near(m.price_at("eth-WETH", 365 * DAY + 10 * DAY), world_eth * c10 / c0));
    let held = market(world, MarketConfig { looped: false, ..config });
    assert!(near(held.price_at("eth-WETH", 400 * DAY), world_eth * last / c0));
    // Stablecoins are a dollar; protocol tokens and LP tokens have no series.
    assert_eq!(m.price_at("eth-USDC", 5 * DAY), Some(1.0));
    assert_eq!(m.price_at("eth-THR", 5 * DAY), None);
    assert_eq!(m.price_at("ms-eth-WETH-USDC", 5 * DAY), None);
    // The default window ends on LINK's last shipped close: it follows its series; ARB has none.
    assert!(m.price_at("eth-LINK", 5 * DAY).is_some());
    assert!(m.without_series().contains_key("arb-ARB") && !m.without_series().contains_key("eth-LINK"));
    // Feeds are the same prices by symbol.
    let feeds = m.feeds_at(10 * DAY);
    assert!(near(feeds.get("WETH").copied(), world_eth * c10 / c0));
    assert_eq!(feeds.get("USDT"), Some(&1.0));
    assert!(!feeds.contains_key("THR") && !feeds.contains_key("ARB"));
}

#[test]
fn bad_data_and_configurations_are_errors() {
    let (world, _) = seeded();
    let missing = Market::with_data_dir(world, MarketConfig::default(), Path::new("/nonexistent/granary-prices"));
    assert!(matches!(missing, Err(MarketError::Data(_))), "{missing:?}");
    let reversed =
        MarketConfig { from: MarketConfig::default().to, to: MarketConfig::default().from, ..Default::default() };
    assert!(matches!(Market::new(world, reversed), Err(MarketError::Config(_))));
    let zero = MarketConfig { max_block_s: 0, ..Default::default() };
    assert!(matches!(Market::new(world, zero), Err(MarketError::Config(_))));
    let future = |s: &str| Date::parse(s).unwrap_or(Date::from_days_since_epoch(0));
    let outside = MarketConfig { from: future("2030-01-01"), to: future("2030-12-31"), ..Default::default() };
    assert!(matches!(Market::new(world, outside), Err(MarketError::Config(_))));
    // A window past 2022-02-13 leaves LINK, MATIC and AVAX out (their closes end there).
    let later = MarketConfig { from: future("2023-02-13"), to: future("2024-02-12"), ..Default::default() };
    match Market::new(world, later) {
        Ok(m) => {
            assert!(m.price_at("pol-WMATIC", 0).is_none() && m.price_at("avax-WAVAX", 0).is_none());
            assert!(m.without_series().contains_key("eth-LINK"));
            assert!(m.price_at("eth-WETH", 0).is_some());
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn honest_protocols_top_up_their_rewards_in_a_long_run() {
    let (_, engine) = seeded();
    let (world, _) = seeded();
    let mut e = engine.clone();
    // A year in ten-day blocks: Orchard's 90-day and Granite's 180-day reward periods end, and the
    // budget farms' year of emissions runs low.
    let mut m = market(world, MarketConfig { max_block_s: 10 * DAY, ..Default::default() });
    let report = run(&mut m, &mut e, 360 * DAY);
    assert_eq!(report.refused, 0);
    for id in ["orchard-stake", "granite-pol", "granite-avax"] {
        let Ok(sp) = e.staking_ix(id) else { panic!("{id}") };
        let (now, was) = (e.staking_pool(sp), engine.staking_pool(sp));
        assert!(now.period_finish > e.now(now.chain), "{id}: the reward period ended");
        assert!(now.rewards_notified > was.rewards_notified && !now.reward_rate.is_zero(), "{id}");
    }
    for id in ["threshing-eth", "threshing-arb", "orchard-farm", "silt-farm"] {
        let Ok(fi) = e.farm_ix(id) else { panic!("{id}") };
        let farm = e.farm(fi);
        let left = farm.reward_reserve + farm.rewards_paid - farm.rewards_emitted;
        assert!(left >= farm.reward_per_second * U256::from(30 * DAY), "{id}: {left} left");
    }
}

/// A ledger that refuses one chosen step (by position over the whole run) and applies the rest.
struct Refusing {
    engine: Engine,
    seen: usize,
    refuse: usize,
}

impl Ledger for Refusing {
    fn engine(&self) -> &Engine {
        &self.engine
    }
    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure> {
        let mut out = Vec::new();
        for s in &steps {
            self.seen += 1;
            out.push(if self.seen == self.refuse {
                Err(EngineError::ZeroAmount { field: "test" })
            } else {
                s.apply(&mut self.engine)
            });
        }
        Ok(out)
    }
}

#[test]
fn a_refused_step_is_counted_and_the_market_recovers() {
    let (world, engine) = seeded();
    let mut m = market(world, MarketConfig::default());
    let mut ledger = Refusing { engine: engine.clone(), seen: 0, refuse: 2 };
    let first = run(&mut m, &mut ledger, HOUR);
    assert!(first.refused >= 1);
    let later = run(&mut m, &mut ledger, 3 * HOUR);
    assert_eq!(later.refused, 0, "the market re-read the ledger's state");
    assert!(!later.fills.is_empty());
}

struct Broken;

impl Ledger for Broken {
    fn engine(&self) -> &Engine {
        &seeded().1
    }
    fn apply(&mut self, _: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure> {
        Err(LedgerFailure("disk full".into()))
    }
}

#[test]
fn a_failing_ledger_stops_the_run() {
    let (world, _) = seeded();
    let mut m = market(world, MarketConfig::default());
    let r = m.run(&mut Broken, HOUR);
    assert!(matches!(&r, Err(LedgerFailure(msg)) if msg == "disk full"), "{r:?}");
}
