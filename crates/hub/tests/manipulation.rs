//! One-block price manipulation against the hub: after two hours of sampled history, an attacker
//! moves a pool's spot price by a large factor with one swap. The hub prices through the 30-minute
//! TWAP of the pools' accumulators and values pools at fair reserves, so (`prices.rs`,
//! ARCHITECTURE.md "Hub") a price held for δ seconds moves what the user sees by at most δ/W of
//! the spot move, W ≥ 1800 s being the averaging window actually used:
//!
//! ```text
//! TWAP = P0 + (δ/W)·(P1 − P0)            (a flat history at P0, then P1 for δ seconds)
//! TVL₁/TVL₀ = √(k₁/k₀) · √(TWAP₁/TWAP₀)   (fair reserves 2·√(x·y·p0·p1); k grows only by the fee)
//! ```
//!
//! and the spot-vs-TWAP gap is flagged. The tests derive these figures from the engine's reserves
//! independently of the hub and assert the hub's numbers against them. `market.rs` checks the same
//! property loosely (under 2 %); these tests pin the exact bound, the APY and the reward APR.

use granary_engine::farm::Funding;
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, U256};
use granary_hub::market::SECONDS_PER_YEAR;
use granary_hub::prices::spot_tvl;
use granary_hub::{Hub, Opportunity};

const BLOCK_S: u64 = 12;
/// Relative tolerance for figures the hub computes in f64 from 256-bit accumulators.
const TOL: f64 = 1e-9;

fn who(n: &str) -> Address {
    key_address(&dev_key(n))
}

fn units(x: f64, decimals: u8) -> U256 {
    U256::from((x * 10f64.powi(i32::from(decimals))) as u128)
}

fn exec(e: &mut Engine, by: &str, a: Action) -> granary_engine::Outcome {
    e.execute(who(by), &a).unwrap_or_else(|err| panic!("{a:?}: {err}"))
}

fn f(v: U256) -> f64 {
    v.into()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * a.abs().max(b.abs())
}

/// WETH/USDC `P` at $2000 (1000 WETH, 2 000 000 USDC), RWD/USDC `R` at $0.50 (1 000 000 RWD,
/// 500 000 USDC), both 30 bps; farm `F` mints 1 RWD/s to `F0`, which stakes half of P's LP tokens.
fn world() -> Engine {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", BLOCK_S).expect("chain");
    for (id, dec) in [("WETH", 18u8), ("USDC", 6), ("RWD", 18)] {
        let t = e.create_token(id, c, id, dec, Minter::Account(who("owner"))).expect("token");
        for n in ["lp", "attacker"] {
            e.faucet_mint(t, who(n), units(1e9, dec)).expect("faucet");
        }
    }
    exec(&mut e, "owner", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    exec(&mut e, "owner", Action::CreatePool { id: "R".into(), tokens: ["RWD".into(), "USDC".into()], fee_bps: 30 });
    let add = |pool: &str, a: U256, b: U256| Action::AddLiquidity {
        pool: pool.into(),
        amounts: [a, b],
        min: [U256::ZERO; 2],
    };
    exec(&mut e, "lp", add("P", units(1000.0, 18), units(2_000_000.0, 6)));
    exec(&mut e, "lp", add("R", units(1_000_000.0, 18), units(500_000.0, 6)));
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
    let lp = e.token_ix("P").expect("lp token");
    let half = e.balance(lp, who("lp")) / U256::from(2u8);
    exec(&mut e, "lp", Action::Deposit { farm_pool: "F0".into(), amount: half });
    e
}

/// Close `n` blocks, the hub observing after each.
fn blocks(e: &mut Engine, hub: &mut Hub, n: u64) {
    for _ in 0..n {
        e.advance(0, BLOCK_S).expect("advance");
        hub.observe(e);
    }
}

/// Two hours of quiet blocks, sampled by a default hub (every 60 s, 30-minute TWAP).
fn two_hours_of_history() -> (Engine, Hub) {
    let mut e = world();
    let mut hub = Hub::default();
    hub.observe(&e);
    blocks(&mut e, &mut hub, 7200 / BLOCK_S);
    assert_eq!(e.now(0), 7200);
    (e, hub)
}

/// Spot USD price of token 0 of `pool` (token 1 is USDC), from the reserves.
fn spot(e: &Engine, pool: &str) -> f64 {
    let p = e.pool(e.pool_ix(pool).expect("pool"));
    let d0 = e.token(p.tokens[0]).decimals;
    (f(p.reserves[1]) / 1e6) / (f(p.reserves[0]) / 10f64.powi(i32::from(d0)))
}

fn k(e: &Engine, pool: &str) -> f64 {
    let r = e.pool(e.pool_ix(pool).expect("pool")).reserves;
    f(r[0]) * f(r[1])
}

/// Buy token 0 of `pool` with enough USDC to multiply its spot price by about `factor`.
fn pump(e: &mut Engine, pool: &str, factor: f64) -> U256 {
    let usdc = f(e.pool(e.pool_ix(pool).expect("pool")).reserves[1]) / 1e6;
    let amount_in = units(usdc * (factor.sqrt() - 1.0) / 0.997, 6);
    let a = Action::SwapExactIn { path: vec![pool.into()], token_in: "USDC".into(), amount_in, min_out: U256::ZERO };
    match exec(e, "attacker", a) {
        granary_engine::Outcome::Swapped { amount_out, .. } => amount_out,
        other => panic!("{other:?}"),
    }
}

fn opp<'a>(opps: &'a [Opportunity], id: &str) -> &'a Opportunity {
    opps.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("no opportunity {id}"))
}

#[test]
fn one_block_pump_moves_twap_tvl_and_reward_apr_by_at_most_its_share_of_the_window() {
    let (mut e, mut hub) = two_hours_of_history();
    let (weth, usdc) = (e.token_ix("WETH").expect("WETH"), e.token_ix("USDC").expect("USDC"));
    let p0 = spot(&e, "P");
    let twap0 = hub.price_book(&e).usd(weth).expect("priced");
    assert!(close(twap0, p0) && close(p0, 2000.0), "a flat history averages to its price: {twap0} vs {p0}");
    let opps0 = hub.opportunities(&e);
    let (tvl0, apr_reward0) = (opp(&opps0, "pool:P").tvl_usd, opp(&opps0, "farm:F0").apr_reward.expect("reward APR"));
    let k0 = k(&e, "P");

    // The attack: one swap moves WETH's spot price ×4.
    pump(&mut e, "P", 4.0);
    let p1 = spot(&e, "P");
    let m = p1 / p0;
    assert!((m - 4.0).abs() < 0.01, "spot moved ×{m}");

    // Read in the same block: the pumped reserves have been in force for 0 s, so the TWAP has
    // not moved at all, and the gap is flagged.
    let q = hub.price_book(&e).quotes.get(&weth).cloned().expect("priced");
    assert!(close(q.usd, twap0), "TWAP moved within the block: {} vs {twap0}", q.usd);
    assert!(close(q.spot_usd, p1));
    assert!(q.flagged && q.divergence > 2.9, "{q:?}");

    // One block later the pumped price has been in force for δ = 12 s of the window W.
    blocks(&mut e, &mut hub, 1);
    let book = hub.price_book(&e);
    let q = book.quotes.get(&weth).cloned().expect("priced");
    let w = q.window_s as f64;
    assert!((1800.0..1860.0).contains(&w), "window {w}");
    let share = BLOCK_S as f64 / w;
    let expected = p0 + share * (p1 - p0);
    assert!(close(q.usd, expected), "TWAP {} vs (δ/W)-weighted {expected}", q.usd);
    assert!(q.usd / p0 - 1.0 <= share * (m - 1.0) * (1.0 + TOL), "beyond the window share");
    assert!(q.usd / p0 - 1.0 <= 12.0 / 1800.0 * (m - 1.0) * (1.0 + TOL), "beyond 12/1800 of the move");
    assert!(q.flagged && q.divergence > 0.05 && close(q.divergence, p1 / q.usd - 1.0), "{q:?}");
    assert_eq!(book.usd(usdc), Some(1.0));

    // TVL at fair reserves: only the fee (k) and the TWAP move it.
    let opps1 = hub.opportunities(&e);
    let pool1 = opp(&opps1, "pool:P");
    let k_growth = k(&e, "P") / k0;
    assert!(k_growth > 1.0 && k_growth < 1.003, "k grows by the fee only: {k_growth}");
    let tvl_ratio = pool1.tvl_usd / tvl0;
    assert!(close(tvl_ratio, (k_growth * q.usd / twap0).sqrt()), "TVL ×{tvl_ratio}");
    let tvl_bound = (k_growth * (1.0 + share * (m - 1.0))).sqrt();
    assert!(tvl_ratio <= tvl_bound * (1.0 + TOL) && tvl_ratio < 1.012, "TVL ×{tvl_ratio} beyond ×{tvl_bound}");
    assert!(pool1.flags.iter().any(|f| f.starts_with("WETH spot is")), "{:?}", pool1.flags);
    // What spot valuation would have shown instead.
    let naive = spot_tvl(&e, 0, q.spot_usd, 1.0);
    assert!(naive / tvl0 > 1.5, "spot TVL ×{}", naive / tvl0);

    // The farm's reward APR is emissions over the staked LP value: it moves only by the LP
    // token's fair price, by the same bound.
    let farm1 = opp(&opps1, "farm:F0");
    let apr_reward1 = farm1.apr_reward.expect("reward APR");
    assert!(close(apr_reward1 / apr_reward0, 1.0 / tvl_ratio), "{apr_reward1} vs {apr_reward0}");
    assert!(apr_reward0 / apr_reward1 <= tvl_bound * (1.0 + TOL));
}

/// The APY the hub shows for the LP farm is its fee APY plus its reward APR. The reward part stays
/// within the window share (above). The fee part counts the window's hours with the busiest one
/// at the second busiest (`market::pool_fees_usd`); on a quiet history the pump's own fee — $6 018,
/// which a naive trailing sum would annualise over two hours to 651 % — is the only busy hour and
/// counts for nothing, so the APY moves by no more than the prices' window share.
#[test]
fn one_block_pump_moves_the_apy_shown_by_at_most_its_share_of_the_window() {
    let (mut e, mut hub) = two_hours_of_history();
    let weth = e.token_ix("WETH").expect("WETH");
    let p0 = spot(&e, "P");
    let opps0 = hub.opportunities(&e);
    let (apy_farm0, apy_pool0) = (opp(&opps0, "farm:F0").apy, opp(&opps0, "pool:P").apy);
    let fees0 = e.pool(0).fees_in[1];
    pump(&mut e, "P", 4.0);
    let m = spot(&e, "P") / p0;
    blocks(&mut e, &mut hub, 1);
    let q = hub.price_book(&e).quotes.get(&weth).cloned().expect("priced");
    let share = BLOCK_S as f64 / q.window_s as f64;
    let opps1 = hub.opportunities(&e);
    let (farm1, pool1) = (opp(&opps1, "farm:F0"), opp(&opps1, "pool:P"));
    // What the pump paid into the pool, and what a plain trailing sum would have made of it.
    let fee_usd = f(e.pool(0).fees_in[1] - fees0) / 1e6;
    assert!(fee_usd > 6000.0, "the pump paid ${fee_usd}");
    let window = pool1.window_s as f64;
    let naive_apr = fee_usd / pool1.tvl_usd * SECONDS_PER_YEAR / window * 100.0;
    assert!(naive_apr > 600.0, "{naive_apr}");
    let bound = share * (m - 1.0);
    assert!(
        (farm1.apy / apy_farm0 - 1.0).abs() <= bound,
        "farm:F0 APY {apy_farm0:.1} % → {:.1} % (×{:.4}; bound ×{:.4}); pool:P APY {apy_pool0:.1} % → {:.1} %",
        farm1.apy,
        farm1.apy / apy_farm0,
        1.0 + bound,
        pool1.apy,
    );
    assert!(pool1.apy - apy_pool0 <= bound * 100.0, "pool:P APY {apy_pool0} % → {} %", pool1.apy);
    assert_eq!(pool1.apr_base, Some(0.0), "the lone busy hour counts at the next busiest, 0");
    // The volume is reported as it was, and the discount is said.
    assert!(pool1.volume_usd_1d.expect("volume") > 2_000_000.0);
    assert!(pool1.flags.iter().any(|f| f.starts_with("one hour held 100% of the last")), "{:?}", pool1.flags);
}

/// Honest round trips in every other hour of a day (different sizes), then a ×4 pump in the last
/// block. The test cuts the engine's fee counters into the hub's hours itself and checks that the
/// 24 h fee APR is exactly the counted sum (busiest hour at the second busiest), that the pump
/// raised it by no more than the documented `2·v1 − v2` of the honest hours, and that a plain
/// trailing sum would have shown many times that.
#[test]
fn one_block_pump_after_a_day_of_trading_moves_the_fee_apr_by_at_most_twice_the_busiest_honest_hour() {
    let mut e = world();
    let mut hub = Hub::default();
    hub.observe(&e);
    let (weth, usdc) = (e.token_ix("WETH").expect("WETH"), e.token_ix("USDC").expect("USDC"));
    const HOUR: u64 = 3600;
    let t_end: u64 = 26 * HOUR + BLOCK_S;
    // (chain time, fees_in delta) of every honest round trip: mid-hour, counted back from t_end,
    // so the hub's 60 s sampling cannot move one across an hour's edge.
    let mut honest: Vec<(u64, [U256; 2])> = Vec::new();
    while e.now(0) + BLOCK_S < t_end {
        let now = e.now(0);
        let back = t_end - now;
        if back % HOUR == HOUR / 2 && (back / HOUR) % 2 == 1 && back / HOUR < 24 {
            let before = e.pool(0).fees_in;
            let usdc_in = units(10_000.0 * (1.0 + (back / HOUR) as f64 / 4.0), 6);
            let out = match exec(
                &mut e,
                "lp",
                Action::SwapExactIn {
                    path: vec!["P".into()],
                    token_in: "USDC".into(),
                    amount_in: usdc_in,
                    min_out: U256::ZERO,
                },
            ) {
                granary_engine::Outcome::Swapped { amount_out, .. } => amount_out,
                other => panic!("{other:?}"),
            };
            exec(
                &mut e,
                "lp",
                Action::SwapExactIn {
                    path: vec!["P".into()],
                    token_in: "WETH".into(),
                    amount_in: out,
                    min_out: U256::ZERO,
                },
            );
            let after = e.pool(0).fees_in;
            honest.push((now, [after[0] - before[0], after[1] - before[1]]));
        }
        blocks(&mut e, &mut hub, 1);
    }
    assert_eq!(honest.len(), 12);
    let opps0 = hub.opportunities(&e);
    let apr0 = opp(&opps0, "pool:P").apr_base.expect("fee APR");
    assert!(apr0 > 0.0);
    let before = e.pool(0).fees_in;
    pump(&mut e, "P", 4.0);
    let pumped = e.pool(0).fees_in[1] - before[1];
    blocks(&mut e, &mut hub, 1);
    assert_eq!(e.now(0), t_end);

    let book = hub.price_book(&e);
    let (p_weth, p_usdc) = (book.usd(weth).expect("priced"), book.usd(usdc).expect("priced"));
    let usd = |d: [U256; 2]| f(d[0]) / 1e18 * p_weth + f(d[1]) / 1e6 * p_usdc;
    let mut hours = [0.0f64; 24];
    for (t, d) in &honest {
        hours[((t_end - t) / HOUR) as usize] += usd(*d);
    }
    let mut sorted = hours;
    sorted.sort_by(|a, b| b.total_cmp(a));
    let (v1, v2) = (sorted[0], sorted[1]);
    assert!(v1 > v2 && v2 > 0.0, "{v1} {v2}");
    let honest_sum: f64 = hours.iter().sum();
    let honest_counted = granary_hub::market::counted_fees(&hours);
    assert!(close(honest_counted, honest_sum - v1 + v2));
    let pump_usd = f(pumped) / 1e6 * p_usdc;
    assert!(pump_usd > 10.0 * v1, "the pump's fee ${pump_usd} dwarfs the busiest honest hour's ${v1}");
    // The pump's hour becomes the busiest and counts at the second busiest, v1: the counted fees
    // rise by exactly 2·v1 − v2, the bound.
    hours[0] += pump_usd;
    let counted = granary_hub::market::counted_fees(&hours);
    assert!(close(counted, honest_sum + v1), "{counted}");

    let opps1 = hub.opportunities(&e);
    let pool1 = opp(&opps1, "pool:P");
    let w = pool1.window_s as f64;
    assert!((86_400.0..86_460.0).contains(&w), "window {w}");
    let annual = |usd: f64| usd / pool1.tvl_usd * SECONDS_PER_YEAR / w * 100.0;
    let apr1 = pool1.apr_base.expect("fee APR");
    assert!(close(apr1, annual(counted)), "fee APR {apr1} vs counted {}", annual(counted));
    assert!(apr1 - annual(honest_counted) <= annual(2.0 * v1 - v2) * (1.0 + TOL), "beyond 2·v1 − v2");
    assert!(apr1 / apr0 < 1.2, "fee APR {apr0} → {apr1}");
    // A plain trailing sum would have added the pump's whole fee: over ten times as much.
    let naive_rise = annual(hours.iter().sum()) - annual(honest_sum);
    assert!(naive_rise > 10.0 * (apr1 - annual(honest_counted)), "{naive_rise} vs {apr1}");
}

#[test]
fn one_block_pump_of_the_reward_token_moves_the_reward_apr_by_at_most_its_share() {
    let (mut e, mut hub) = two_hours_of_history();
    let rwd = e.token_ix("RWD").expect("RWD");
    let p0 = spot(&e, "R");
    let opps0 = hub.opportunities(&e);
    let farm0 = opp(&opps0, "farm:F0");
    let (apr0, tvl0) = (farm0.apr_reward.expect("reward APR"), farm0.tvl_usd);
    assert!(close(hub.price_book(&e).usd(rwd).expect("priced"), p0));

    // Pump the reward token ×10 to advertise ten times the reward APR.
    pump(&mut e, "R", 10.0);
    let p1 = spot(&e, "R");
    let m = p1 / p0;
    assert!((m - 10.0).abs() < 0.05, "spot moved ×{m}");
    blocks(&mut e, &mut hub, 1);

    let q = hub.price_book(&e).quotes.get(&rwd).cloned().expect("priced");
    let share = BLOCK_S as f64 / q.window_s as f64;
    assert!(q.window_s >= 1800);
    assert!(close(q.usd, p0 + share * (p1 - p0)), "TWAP {}", q.usd);
    assert!(q.flagged && q.divergence > 5.0, "{q:?}");
    let opps1 = hub.opportunities(&e);
    let farm1 = opp(&opps1, "farm:F0");
    assert!(close(farm1.tvl_usd, tvl0), "the staked LP's value did not move");
    let apr1 = farm1.apr_reward.expect("reward APR");
    assert!(close(apr1 / apr0, q.usd / p0), "reward APR ×{} vs RWD TWAP ×{}", apr1 / apr0, q.usd / p0);
    assert!(apr1 / apr0 - 1.0 <= share * (m - 1.0) * (1.0 + TOL), "reward APR ×{}", apr1 / apr0);
    assert!(apr1 / apr0 < 1.061, "a ×10 pump for one block shows at most +6 %: ×{}", apr1 / apr0);
    assert!(farm1.flags.iter().any(|f| f.starts_with("RWD spot is")), "{:?}", farm1.flags);
}

/// ∫ price dt over [a, b] of a piecewise-constant path given as (start time, price), divided by
/// b − a.
fn path_average(path: &[(u64, f64)], a: u64, b: u64) -> f64 {
    let mut sum = 0.0;
    for (i, &(start, price)) in path.iter().enumerate() {
        let end = path.get(i + 1).map_or(u64::MAX, |s| s.0);
        let (lo, hi) = (start.max(a), end.min(b));
        if hi > lo {
            sum += (hi - lo) as f64 * price;
        }
    }
    sum / (b - a) as f64
}

/// The attacker holds the pumped price for five blocks, then sells back. At every block for the
/// next 40 minutes the hub's TWAP is the time-weighted average of the spot path over its window —
/// so the pump weighs in by (held seconds)/W at most — and once the window has passed the pump,
/// nothing of it remains.
#[test]
fn pump_held_for_five_blocks_then_reversed_weighs_in_by_its_time_only() {
    let (mut e, mut hub) = two_hours_of_history();
    let weth = e.token_ix("WETH").expect("WETH");
    let p0 = spot(&e, "P");
    let mut path = vec![(0u64, p0)];
    let bought = pump(&mut e, "P", 4.0);
    let t1 = e.now(0);
    path.push((t1, spot(&e, "P")));
    let p1 = path[1].1;
    let mut held = 0;
    let check = |e: &Engine, hub: &Hub, path: &[(u64, f64)]| {
        let q = hub.price_book(e).quotes.get(&weth).cloned().expect("priced");
        let now = e.now(0);
        let expected = path_average(path, now - q.window_s, now);
        assert!(close(q.usd, expected), "t={now}: TWAP {} vs path average {expected}", q.usd);
        q
    };
    for _ in 0..5 {
        blocks(&mut e, &mut hub, 1);
        held += BLOCK_S;
        let q = check(&e, &hub, &path);
        assert!(q.usd / p0 - 1.0 <= held as f64 / q.window_s as f64 * (p1 / p0 - 1.0) * (1.0 + TOL));
    }
    let back =
        Action::SwapExactIn { path: vec!["P".into()], token_in: "WETH".into(), amount_in: bought, min_out: U256::ZERO };
    exec(&mut e, "attacker", back);
    let t2 = e.now(0);
    path.push((t2, spot(&e, "P")));
    let p2 = path[2].1;
    assert!((p2 / p0 - 1.0).abs() < 0.01, "the round trip leaves the price within its fees: {p2}");
    for _ in 0..(40 * 60 / BLOCK_S) {
        blocks(&mut e, &mut hub, 1);
        let q = check(&e, &hub, &path);
        let bound = held as f64 / q.window_s as f64 * (p1 - p0) + (p2 - p0).abs();
        assert!((q.usd - p0).abs() <= bound * (1.0 + TOL), "t={}: TWAP {} beyond {bound}", e.now(0), q.usd);
        if e.now(0) - q.window_s >= t2 {
            assert!(close(q.usd, p2), "the pump has left the window: {}", q.usd);
            assert!(!q.flagged);
        }
    }
    assert!(e.now(0) - 1860 > t2, "the run outlasted the window");
}

mod counted_fees {
    use granary_hub::market::counted_fees;
    use proptest::prelude::*;

    fn two_largest(xs: &[f64]) -> (f64, f64) {
        let mut v = xs.to_vec();
        v.sort_by(|a, b| b.total_cmp(a));
        (v.first().copied().unwrap_or(0.0), v.get(1).copied().unwrap_or(0.0))
    }

    proptest! {
        /// Raising any one hour by any amount raises the counted fees by at most 2·v1 − v2 of the
        /// hours before it, never lowers them, and never counts more than every fee.
        #[test]
        fn one_hour_raises_the_counted_fees_by_at_most_twice_the_busiest_less_the_second(
            hours in proptest::collection::vec(0.0f64..1e6, 1..200),
            pick in any::<prop::sample::Index>(),
            extra in 0.0f64..1e9,
        ) {
            let (v1, v2) = two_largest(&hours);
            let before = counted_fees(&hours);
            let mut raised = hours.clone();
            raised[pick.index(hours.len())] += extra;
            let after = counted_fees(&raised);
            let slack = 1e-9 * (hours.iter().sum::<f64>() + extra + 1.0);
            prop_assert!(after + slack >= before);
            prop_assert!(after - before <= 2.0 * v1 - v2 + slack, "{} > {}", after - before, 2.0 * v1 - v2);
            prop_assert!(after <= raised.iter().sum::<f64>() + slack);
        }
    }

    #[test]
    fn the_busiest_hour_counts_at_the_second() {
        assert_eq!(counted_fees(&[]), 0.0);
        assert_eq!(counted_fees(&[5.0]), 0.0);
        assert_eq!(counted_fees(&[5.0, 1.0]), 2.0);
        assert_eq!(counted_fees(&[1.0, 9.0, 3.0, 3.0]), 10.0);
    }
}
