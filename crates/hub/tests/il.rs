//! Impermanent loss: the closed form against the shared vectors, the move table, the expected IL
//! under geometric Brownian motion, and the position metrics' definitions.

use granary_hub::il::{
    FeeSource, IL_TABLE_MOVES_PCT, LpPositionInputs, break_even_fee_apr, expected_il, expected_lp_value_vs_hodl,
    il_closed_form, il_table, lp_position_metrics,
};

#[test]
fn closed_form_matches_the_shared_vectors() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/il.json"));
    let text = text.expect("tests/vectors/il.json is readable");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("il.json is JSON");
    let cases = doc["cases"].as_array().expect("a `cases` array");
    assert!(cases.len() >= 10);
    for c in cases {
        let r = c["r"].as_f64().expect("r");
        let il = c["il"].as_f64().expect("il");
        let got = il_closed_form(r);
        assert!((got - il).abs() <= 1e-12, "r={r}: {got} vs {il}");
    }
}

#[test]
fn closed_form_edges() {
    assert_eq!(il_closed_form(1.0), 0.0);
    assert_eq!(il_closed_form(0.0), -1.0);
    assert_eq!(il_closed_form(f64::INFINITY), -1.0);
    assert!(il_closed_form(-0.5).is_nan());
    // Symmetric in r <-> 1/r.
    for r in [0.01, 0.3, 0.9, 1.7, 42.0] {
        assert!((il_closed_form(r) - il_closed_form(1.0 / r)).abs() < 1e-15);
    }
}

#[test]
fn table_of_moves() {
    let t = il_table(&IL_TABLE_MOVES_PCT);
    assert_eq!(t.len(), IL_TABLE_MOVES_PCT.len());
    for &(m, il_pct) in &t {
        assert_eq!(il_pct, 100.0 * il_closed_form(1.0 + m / 100.0));
        assert!(il_pct <= 0.0);
    }
    // +100 % (r = 2) and −75 % (r = 1/4) are the textbook −5.72 % and −20 %.
    let at = |m: f64| t.iter().find(|(x, _)| *x == m).map(|(_, il)| *il).unwrap_or(f64::NAN);
    assert!((at(100.0) + 5.719_095_841_793_653).abs() < 1e-12);
    assert!((at(-75.0) + 20.0).abs() < 1e-12);
    assert_eq!(il_table(&[-100.0]), vec![(-100.0, -100.0)]);
    assert!(il_table(&[-150.0])[0].1.is_nan());
}

#[test]
fn expected_il_small_volatility_limit() {
    // Second order: E[IL] ≈ −σ²T/8. Fourth order (expand sech(u) = 1 − u²/2 + 5u⁴/24 with
    // u = ln(r)/2, E[(ln r)²] = s² + s⁴/4, E[(ln r)⁴] = 3s⁴ + O(s⁶)): E[IL] = −s²/8 + s⁴/128 + O(s⁶).
    for (sigma, t) in [(0.01, 1.0), (0.05, 1.0), (0.1, 0.5), (0.2, 0.25)] {
        let s2: f64 = sigma * sigma * t;
        let e = expected_il(sigma, t);
        assert!((e / (-s2 / 8.0) - 1.0).abs() < s2, "sigma={sigma} T={t}: {e}");
        assert!((e - (-s2 / 8.0 + s2 * s2 / 128.0)).abs() < s2 * s2 * s2, "sigma={sigma} T={t}: {e}");
        // Break-even APR tends to σ²/8 whatever the horizon.
        assert!((break_even_fee_apr(sigma, t) / (sigma * sigma / 8.0) - 1.0).abs() < s2);
    }
}

#[test]
fn expected_il_matches_independent_high_precision_values() {
    // E[sech(z/2)] − 1 with z ~ N(−s²/2, s²), s = σ√T, integrated with mpmath.quad at 40 significant
    // digits (breakpoints at μ ± 3s, ±10s, ±40s), and cross-checked with scipy.integrate.quad over
    // (−∞, ∞) (agreement to 1e-15).
    let cases = [
        (0.8, 1.0, -0.076_883_653_613_364_23),
        (0.3, 0.25, -0.002_808_548_627_155_100_6),
        (1.5, 2.0, -0.430_217_175_269_077),
        (0.05, 1.0, -0.000_312_451_176_960_865_7),
        (3.0, 4.0, -0.988_891_003_461_757_7),
    ];
    for (sigma, t, want) in cases {
        let got = expected_il(sigma, t);
        assert!((got - want).abs() < 1e-13, "sigma={sigma} T={t}: {got} vs {want}");
        assert!((break_even_fee_apr(sigma, t) + want / t).abs() < 1e-13);
    }
    assert_eq!(expected_il(0.0, 1.0), 0.0);
    assert_eq!(expected_il(0.5, 0.0), 0.0);
    assert!(expected_il(-0.1, 1.0).is_nan());
    assert!(break_even_fee_apr(0.5, 0.0).is_nan());
}

#[test]
fn value_weighted_expectation_is_exp_of_minus_sigma2_t_over_8() {
    let e = expected_lp_value_vs_hodl(0.8, 1.0);
    assert!((e - ((-0.08f64).exp() - 1.0)).abs() < 1e-16);
    // Same leading term as E[IL], different at order (σ²T)².
    let (a, b) = (expected_lp_value_vs_hodl(0.05, 1.0), expected_il(0.05, 1.0));
    assert!((a - b).abs() < 1e-7);
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn position_metrics_fee_free_position_is_the_closed_form() {
    // 1 ETH + 2000 USDC at ETH = $2000; ETH doubles. A fee-free share keeps x·y = 2000, so at
    // P = 4000 USDC/ETH it holds √(2000/4000) ETH and √(2000·4000) USDC.
    let (x, y) = ((2000.0f64 / 4000.0).sqrt(), (2000.0f64 * 4000.0).sqrt());
    let m = lp_position_metrics(&LpPositionInputs {
        deposited: [1.0, 2000.0],
        entry_prices_usd: [2000.0, 1.0],
        current_amounts: [x, y],
        current_prices_usd: [4000.0, 1.0],
        rewards_claimed_usd: 10.0,
        rewards_unclaimed_usd: 5.0,
        fees: FeeSource::InAmounts,
    });
    assert!(close(m.deposited_usd, 4000.0, 1e-15));
    assert!(close(m.hodl_value_usd, 6000.0, 1e-15));
    assert!(close(m.current_value_usd, 2.0 * (2000.0f64 * 4000.0).sqrt(), 1e-15));
    assert!(close(m.price_ratio, 2.0, 1e-15));
    assert!(close(m.il_pct, 100.0 * il_closed_form(2.0), 1e-13));
    assert!(m.fees_usd.abs() < 1e-9);
    assert!(close(m.vs_hodl_usd, m.il_usd + m.fees_usd + 15.0, 1e-13));
    assert!(close(m.pnl_usd, m.current_value_usd + 15.0 - 4000.0, 1e-13));
    assert!(close(m.roi_pct, 100.0 * m.pnl_usd / 4000.0, 1e-13));
}

#[test]
fn position_metrics_fees_in_amounts_and_separate() {
    let base = LpPositionInputs {
        deposited: [10.0, 25_000.0],
        entry_prices_usd: [2500.0, 1.0],
        current_amounts: [8.2, 31_000.0],
        current_prices_usd: [3600.0, 1.0],
        rewards_claimed_usd: 120.0,
        rewards_unclaimed_usd: 30.0,
        fees: FeeSource::InAmounts,
    };
    let m = lp_position_metrics(&base);
    let no_fees = 2.0 * (10.0f64 * 25_000.0 * 3600.0).sqrt();
    assert!(close(m.value_no_fees_usd, no_fees, 1e-15));
    assert!(close(m.fees_usd, 8.2 * 3600.0 + 31_000.0 - no_fees, 1e-13));
    assert!(m.fees_usd > 0.0);
    assert!(close(m.il_pct, 100.0 * il_closed_form(3600.0 / 2500.0), 1e-12));
    assert!(close(m.current_value_usd, m.hodl_value_usd + m.il_usd + m.fees_usd, 1e-13));
    assert!(close(m.vs_hodl_usd, m.il_usd + m.fees_usd + 150.0, 1e-12));
    assert!(close(m.pnl_usd, m.vs_hodl_usd + m.hodl_value_usd - m.deposited_usd, 1e-12));

    // Fees tracked apart: IL is the amounts' value against HODL, the fee is added to the value.
    let s = lp_position_metrics(&LpPositionInputs { fees: FeeSource::Separate { usd: 400.0 }, ..base });
    assert!(close(s.value_no_fees_usd, 8.2 * 3600.0 + 31_000.0, 1e-15));
    assert!(close(s.current_value_usd, s.value_no_fees_usd + 400.0, 1e-15));
    assert_eq!(s.fees_usd, 400.0);
    assert!(close(s.il_usd, s.value_no_fees_usd - s.hodl_value_usd, 1e-15));
    assert!(close(s.vs_hodl_usd, s.il_usd + 400.0 + 150.0, 1e-12));
}
