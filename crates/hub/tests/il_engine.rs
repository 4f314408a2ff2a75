//! IL of a real engine position: a WETH/USDC constant-product pool is built through the engine,
//! its price moved by swaps, and the LP's position (its real LP share of the real reserves) is
//! compared with holding the deposit.
//!
//! Tolerance. The position differs from the ideal fee-free share only by integer rounding:
//! the first mint locks MINIMUM_LIQUIDITY = 1000 of the L = ⌊√(x·y)⌋ LP units forever (a relative
//! 1000/L ≈ 2.2e-14 here) and floors the square root (≤ 1/L); a swap floors its output, which leaves
//! at most one base unit of the output token in the pool; a burn floors each redeemed amount by at
//! most one base unit. Relative to the position's value these are bounded by
//! `(1001 + 1)/L + 2/min(reserve0, reserve1)` in base units (USDC has 6 decimals, so its reserve of
//! ~2e12 base units dominates: ~1e-12), plus ~1e-15 of floating-point error. The tests use that
//! bound, computed from the pool's own numbers.

use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, Outcome, U256};
use granary_hub::il::{FeeSource, LpPositionInputs, holder_lp_underlying, il_closed_form, lp_position_metrics};

const WETH_DEC: u8 = 18;
const USDC_DEC: u8 = 6;

fn units(whole: u64, frac: u64, frac_digits: u32, decimals: u8) -> U256 {
    let scale = U256::from(10u64).pow(U256::from(decimals));
    U256::from(whole) * scale + U256::from(frac) * U256::from(10u64).pow(U256::from(u32::from(decimals) - frac_digits))
}

fn weth(whole: u64) -> U256 {
    units(whole, 0, 0, WETH_DEC)
}

fn usdc(whole: u64) -> U256 {
    units(whole, 0, 0, USDC_DEC)
}

fn to_f64(x: U256, decimals: u8) -> f64 {
    f64::from(x) / 10f64.powi(i32::from(decimals))
}

struct World {
    e: Engine,
    lp: Address,
    trader: Address,
}

fn world() -> World {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "Ethereum", 12).expect("chain");
    let lp = key_address(&dev_key("lp"));
    let trader = key_address(&dev_key("trader"));
    let w = e.create_token("WETH", c, "WETH", WETH_DEC, Minter::Nobody).expect("WETH");
    let u = e.create_token("USDC", c, "USDC", USDC_DEC, Minter::Nobody).expect("USDC");
    for who in [lp, trader] {
        e.faucet_mint(w, who, weth(1_000_000)).expect("mint WETH");
        e.faucet_mint(u, who, usdc(1_000_000_000)).expect("mint USDC");
    }
    World { e, lp, trader }
}

/// Creates `id` with `fee_bps` and deposits 1000 WETH + 2,000,000 USDC (WETH at 2000 USDC) as the
/// LP; returns the deposited amounts and the liquidity minted.
fn pool(w: &mut World, id: &str, fee_bps: u32) -> ([U256; 2], U256) {
    let create = Action::CreatePool { id: id.into(), tokens: ["WETH".into(), "USDC".into()], fee_bps };
    w.e.execute(w.lp, &create).expect("create pool");
    let add = Action::AddLiquidity { pool: id.into(), amounts: [weth(1000), usdc(2_000_000)], min: [U256::ZERO; 2] };
    match w.e.execute(w.lp, &add).expect("add liquidity") {
        Outcome::Liquidity { liquidity, amounts } => (amounts, liquidity),
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// Swaps exactly `amount_in` of `token_in` through `pool`; returns the amount out.
fn swap(w: &mut World, pool: &str, token_in: &str, amount_in: U256) -> U256 {
    let a = Action::SwapExactIn { path: vec![pool.into()], token_in: token_in.into(), amount_in, min_out: U256::ZERO };
    match w.e.execute(w.trader, &a).expect("swap") {
        Outcome::Swapped { amount_out, .. } => amount_out,
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// Price of WETH in USDC (token units) from the pool's reserves.
fn price(w: &World, pool: &str) -> f64 {
    let p = w.e.pool(w.e.pool_ix(pool).expect("pool"));
    to_f64(p.reserves[1], USDC_DEC) / to_f64(p.reserves[0], WETH_DEC)
}

/// The rounding bound explained in the module comment.
fn tolerance(w: &World, pool: &str, liquidity_minted: U256) -> f64 {
    let p = w.e.pool(w.e.pool_ix(pool).expect("pool"));
    let l = f64::from(liquidity_minted) + 1000.0;
    let min_reserve = f64::from(p.reserves[0]).min(f64::from(p.reserves[1]));
    1002.0 / l + 2.0 / min_reserve + 1e-14
}

#[test]
fn fee_free_pool_il_equals_the_closed_form_at_the_realised_ratio() {
    // Each case: a fresh pool, one swap in the given token and amount.
    let cases: [(&str, U256); 5] = [
        ("USDC", usdc(500_000)),                        // r = 1.25² = 1.5625 exactly
        ("USDC", units(123_456, 789_012, 6, USDC_DEC)), // a small, irregular move up
        ("USDC", usdc(18_000_000)),                     // r = 100
        ("WETH", units(37, 5, 1, WETH_DEC)),            // a move down
        ("WETH", weth(2_162)),                          // r ≈ 0.1
    ];
    for (n, (token_in, amount_in)) in cases.into_iter().enumerate() {
        let mut w = world();
        let id = format!("P{n}");
        let (deposited, liquidity) = pool(&mut w, &id, 0);
        let entry = price(&w, &id);
        assert_eq!(entry, 2000.0);
        swap(&mut w, &id, token_in, amount_in);
        let now = price(&w, &id);
        let r = now / entry;

        // IL vs HODL from the real LP share and reserves, valued in USDC at the pool's price.
        let [a0, a1] = holder_lp_underlying(&w.e, &id, w.lp).expect("underlying");
        let [d0, d1] = [to_f64(deposited[0], WETH_DEC), to_f64(deposited[1], USDC_DEC)];
        let il_real = (a0 * now + a1) / (d0 * now + d1) - 1.0;
        let tol = tolerance(&w, &id, liquidity);
        assert!(tol < 5e-12, "tolerance {tol}");
        let want = il_closed_form(r);
        assert!((il_real - want).abs() <= tol, "case {n}: r={r} IL {il_real} vs closed form {want} (tol {tol})");

        // The metrics agree: no fee part beyond rounding, IL at the closed form.
        let m = lp_position_metrics(&LpPositionInputs {
            deposited: [d0, d1],
            entry_prices_usd: [entry, 1.0],
            current_amounts: [a0, a1],
            current_prices_usd: [now, 1.0],
            rewards_claimed_usd: 0.0,
            rewards_unclaimed_usd: 0.0,
            fees: FeeSource::InAmounts,
        });
        assert!((m.price_ratio / r - 1.0).abs() < 1e-15);
        assert!((m.il_pct / 100.0 - want).abs() <= 1e-13, "case {n}: {} vs {want}", m.il_pct);
        assert!(m.fees_usd.abs() <= tol * m.hodl_value_usd, "case {n}: fee part {} of a fee-free pool", m.fees_usd);
    }
}

#[test]
fn with_fees_the_fee_part_is_positive_and_il_stays_at_the_closed_form() {
    let mut w = world();
    let (deposited, liquidity) = pool(&mut w, "F", 30);
    let entry = price(&w, "F");
    let usdc_ix = w.e.token_ix("USDC").expect("USDC");
    let metrics = |w: &World, id: &str| {
        let now = price(w, id);
        let [a0, a1] = holder_lp_underlying(&w.e, id, w.lp).expect("underlying");
        lp_position_metrics(&LpPositionInputs {
            deposited: [to_f64(deposited[0], WETH_DEC), to_f64(deposited[1], USDC_DEC)],
            entry_prices_usd: [entry, 1.0],
            current_amounts: [a0, a1],
            current_prices_usd: [now, 1.0],
            rewards_claimed_usd: 0.0,
            rewards_unclaimed_usd: 0.0,
            fees: FeeSource::InAmounts,
        })
    };

    // Round-trip volume: 400 × (20,000 USDC -> WETH, all of it back -> USDC), each leg 1 % of the
    // pool; volume counted at execution (USDC in, then USDC out).
    let trader_usdc_0 = w.e.balance(usdc_ix, w.trader);
    let leg = usdc(20_000);
    let mut volume_usd = 0.0;
    for _ in 0..400 {
        let got = swap(&mut w, "F", "USDC", leg);
        let back = swap(&mut w, "F", "WETH", got);
        volume_usd += to_f64(leg, USDC_DEC) + to_f64(back, USDC_DEC);
    }
    let trader_loss = to_f64(trader_usdc_0 - w.e.balance(usdc_ix, w.trader), USDC_DEC);
    let p1 = price(&w, "F");
    let m1 = metrics(&w, "F");
    assert!(m1.fees_usd > 0.0);
    assert!((m1.il_pct / 100.0 - il_closed_form(p1 / entry)).abs() <= 1e-13);
    // Conservation: the trader ends with no WETH, so what it lost in USDC is what the pool gained,
    // i.e. (for the LP, which owns all but 1000 LP units) IL + fees.
    let tol = tolerance(&w, "F", liquidity);
    assert!(((m1.il_usd + m1.fees_usd) / trader_loss - 1.0).abs() <= 1e-9);
    // 0.30 % of the volume, less what the curve hands back: a leg's fee stays in the reserve it was
    // paid into and improves the price of the return leg, by about the leg's share of the pool
    // (1 %); the LP's fees are 0.3 % of volume within 2 %.
    let fees_paid = 0.003 * volume_usd;
    assert!((m1.fees_usd / fees_paid - 1.0).abs() < 0.02, "fee part {} vs 0.3 % of volume {}", m1.fees_usd, fees_paid);

    // Then a move up by about 1.5625.
    let a = 500_000.0;
    swap(&mut w, "F", "USDC", usdc(500_000));
    let now = price(&w, "F");
    let r = now / entry;
    let m = metrics(&w, "F");
    assert!(m.fees_usd > m1.fees_usd);
    assert!((m.il_pct / 100.0 - il_closed_form(r)).abs() <= 1e-13);
    assert!((m.current_value_usd - (m.hodl_value_usd + m.il_usd + m.fees_usd)).abs() <= 1e-9 * m.hodl_value_usd);
    // The fee part is the share's invariant growth valued as liquidity, 2·√(p0·p1)·(√k − √k₀), so
    // fees earned earlier move with √P, and a swap of `a` USDC with fee f adds f·a/√P_after to
    // 2·(√k − √k₀) (from k_after = k·(y+a)/(y+(1−f)a), to first order in f·a/y ≈ 0.07 %).
    let growth = m.fees_usd / now.sqrt() - m1.fees_usd / p1.sqrt();
    let want = 0.003 * a / now.sqrt();
    assert!((growth / want - 1.0).abs() < 0.01, "invariant growth {growth} vs {want}");

    // An independent check of the fee-free value 2·√(k₀·p0·p1): the same deposit in a fee-free
    // twin pool, moved by one swap to the same price, is worth `value_no_fees_usd` (a price gap of
    // δ between the twins changes the fee-free value only at order δ²).
    let (_, liquidity_twin) = pool(&mut w, "Z", 0);
    let y = to_f64(w.e.pool(w.e.pool_ix("Z").expect("Z")).reserves[1], USDC_DEC);
    let usdc_in = (y * (r.sqrt() - 1.0) * 1e6).round() as u64;
    swap(&mut w, "Z", "USDC", U256::from(usdc_in));
    assert!((price(&w, "Z") / now - 1.0).abs() < 1e-9);
    let twin = holder_lp_underlying(&w.e, "Z", w.lp).expect("twin underlying");
    let twin_value = twin[0] * now + twin[1];
    let tol = tol + tolerance(&w, "Z", liquidity_twin);
    assert!(
        (m.value_no_fees_usd / twin_value - 1.0).abs() <= tol,
        "fee-free value {} vs twin pool {}",
        m.value_no_fees_usd,
        twin_value
    );
}
