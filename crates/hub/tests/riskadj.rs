//! Risk-adjusted yield: the worked examples of docs/risk.md and the terms' properties.
//!
//! The expected figures were computed independently of this crate, with Python + mpmath at 40
//! significant digits (the expected IL by `mpmath.quad` of (sech(z/2) − 1) against the normal
//! density), from the formulas in docs/risk.md.

use granary_hub::riskadj::{
    DAYS_PER_YEAR, Emissions, Exposure, GRADE_LOSS_TABLE, GasCosts, Grade, RiskInputs, apy_from_apr,
    average_emission_price_factor, emission_price_factor, expected_loss_apr, grade_loss, ratio_volatility,
    risk_adjusted_yield,
};

fn near(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{got} vs {want}");
}

/// docs/risk.md, example 1: a WETH/USDC LP farm graded B, held 90 days.
fn lp_farm_example() -> RiskInputs {
    RiskInputs {
        apr_base: 0.12,
        apr_reward: 0.30,
        compounding_per_year: 52,
        exposure: Exposure::Pair { sigma_0: 0.70, sigma_1: 0.02, rho: 0.10 },
        horizon_days: 90.0,
        lock_days: 0.0,
        position_usd: 5000.0,
        gas: GasCosts { enter_usd: 12.0, harvest_usd: 2.5, harvests: 13, exit_usd: 9.0 },
        emissions: Emissions { inflation: 0.60, dumped_share: Some(0.5), principal_share: 0.0 },
        grade: Grade::B,
    }
}

#[test]
fn worked_example_lp_farm() {
    let y = risk_adjusted_yield(&lp_farm_example()).expect("valid inputs");
    near(y.horizon_days, 90.0, 0.0);
    near(y.sigma_ratio, 0.698_283_610_003_843_5, 1e-15);
    near(y.apy_gross, 0.519_396_055_995_718_1, 1e-13);
    near(y.expected_il_apr, 0.060_494_284_127_449_938, 1e-12);
    near(y.gas_drag_apr, 0.043_394_444_444_444_444, 1e-14);
    near(y.reward_decay_apr, 0.009_497_968_410_730_747, 1e-13);
    near(y.expected_loss_apr, 0.009_051_306_682_789_634, 1e-14);
    near(y.apy_risk_adjusted, 0.396_958_052_330_303_36, 1e-12);
    let sum = y.apy_gross - y.expected_il_apr - y.gas_drag_apr - y.reward_decay_apr - y.expected_loss_apr;
    near(y.apy_risk_adjusted, sum, 1e-15);
}

/// docs/risk.md, example 2: stake X earn X, locked 180 days, graded C; the user plans 30 days.
#[test]
fn worked_example_locked_single_stake() {
    let y = risk_adjusted_yield(&RiskInputs {
        apr_base: 0.0,
        apr_reward: 0.45,
        compounding_per_year: 0,
        exposure: Exposure::Single,
        horizon_days: 30.0,
        lock_days: 180.0,
        position_usd: 2000.0,
        gas: GasCosts { enter_usd: 3.0, harvest_usd: 0.5, harvests: 6, exit_usd: 3.0 },
        emissions: Emissions { inflation: 0.35, dumped_share: None, principal_share: 1.0 },
        grade: Grade::C,
    })
    .expect("valid inputs");
    near(y.horizon_days, 180.0, 0.0);
    assert_eq!(y.sigma_ratio, 0.0);
    assert_eq!(y.expected_il_apr, 0.0);
    near(y.apy_gross, 0.45, 1e-15);
    near(y.gas_drag_apr, 0.009_125, 1e-15);
    near(y.reward_decay_apr, 0.310_669_078_246_199_7, 1e-13);
    near(y.expected_loss_apr, 0.028_289_685_341_288_274, 1e-14);
    near(y.apy_risk_adjusted, 0.101_916_236_412_512_03, 1e-12);
}

#[test]
fn ratio_volatility_cases() {
    near(ratio_volatility(0.8, 0.8, 1.0), 0.0, 0.0);
    near(ratio_volatility(0.8, 0.0, 0.3), 0.8, 1e-15);
    near(ratio_volatility(0.3, 0.4, 0.0), 0.5, 1e-15);
    near(ratio_volatility(0.3, 0.4, -1.0), 0.7, 1e-15);
}

#[test]
fn compounding() {
    near(apy_from_apr(0.2, 0), 0.2, 0.0);
    near(apy_from_apr(0.2, 1), 0.2, 1e-15);
    // 20 % APR compounded daily: 22.134 % ((1 + 0.2/365)^365 − 1 by mpmath at 30 digits).
    near(apy_from_apr(0.2, 365), 0.221_335_858_251_738_58, 1e-14);
    assert!(apy_from_apr(0.2, 8760) < 0.2f64.exp_m1());
}

#[test]
fn emission_decay() {
    near(emission_price_factor(0.0, 1.0, 3.0), 1.0, 0.0);
    near(emission_price_factor(1.0, 1.0, 1.0), 0.5, 1e-15);
    near(emission_price_factor(1.0, 0.5, 2.0), 1.0 / 2.25, 1e-15);
    near(average_emission_price_factor(0.0, 1.0, 1.0), 1.0, 0.0);
    // Average of 2^(−t) over [0, 1] is 1/(2 ln 2).
    near(average_emission_price_factor(1.0, 1.0, 1.0), 1.0 / (2.0 * 2f64.ln()), 1e-15);
    // Continuous through g → 0.
    near(average_emission_price_factor(1e-14, 1.0, 1.0), 1.0, 1e-13);
}

#[test]
fn grade_table_is_ordered_and_expected_loss_annualises() {
    for w in GRADE_LOSS_TABLE.windows(2) {
        assert!(w[0].0 < w[1].0);
        assert!(w[0].1.event_probability_per_year < w[1].1.event_probability_per_year);
        assert!(w[0].1.loss_given_event <= w[1].1.loss_given_event);
    }
    for g in Grade::ALL {
        assert_eq!(Grade::from_letter(g.letter()), Some(g));
        assert_eq!(Grade::from_letter(g.letter().to_ascii_lowercase()), Some(g));
        let l = grade_loss(g);
        near(expected_loss_apr(g, 1.0), l.annual_expected_loss(), 1e-15);
        assert!(expected_loss_apr(g, 0.1) > l.annual_expected_loss());
        assert!(expected_loss_apr(g, 3.0) < l.annual_expected_loss());
    }
    assert_eq!(Grade::from_letter('G'), None);
    // F: a sure loss within the year at p = 0.6, LGD = 1 → (1 − 0.4^T)/T.
    near(expected_loss_apr(Grade::F, 2.0), (1.0 - 0.16) / 2.0, 1e-15);
}

#[test]
fn single_staking_has_no_il_and_the_lock_sets_the_horizon() {
    let mut i = lp_farm_example();
    i.exposure = Exposure::Single;
    i.lock_days = 365.0;
    let y = risk_adjusted_yield(&i).expect("valid");
    assert_eq!(y.expected_il_apr, 0.0);
    near(y.horizon_days, 365.0, 0.0);
    near(y.gas_drag_apr, (12.0 + 13.0 * 2.5 + 9.0) / 5000.0, 1e-15);
    near(y.expected_loss_apr, grade_loss(Grade::B).annual_expected_loss(), 1e-15);
    // A horizon longer than the lock is kept.
    i.horizon_days = 400.0;
    near(risk_adjusted_yield(&i).expect("valid").horizon_days, 400.0, 0.0);
}

#[test]
fn more_risk_less_yield() {
    let base = lp_farm_example();
    let y0 = risk_adjusted_yield(&base).expect("valid").apy_risk_adjusted;
    let worse_grade = RiskInputs { grade: Grade::D, ..base };
    let more_vol = RiskInputs { exposure: Exposure::Pair { sigma_0: 1.2, sigma_1: 0.02, rho: 0.1 }, ..base };
    let smaller = RiskInputs { position_usd: 500.0, ..base };
    let no_emissions = RiskInputs { emissions: Emissions::NONE, ..base };
    let correlated = RiskInputs { exposure: Exposure::Pair { sigma_0: 0.7, sigma_1: 0.65, rho: 0.9 }, ..base };
    for worse in [worse_grade, more_vol, smaller] {
        assert!(risk_adjusted_yield(&worse).expect("valid").apy_risk_adjusted < y0);
    }
    for better in [no_emissions, correlated] {
        assert!(risk_adjusted_yield(&better).expect("valid").apy_risk_adjusted > y0);
    }
}

#[test]
fn bad_inputs_are_rejected_with_their_field() {
    let base = lp_farm_example();
    let field = |i: RiskInputs| risk_adjusted_yield(&i).err().map(|e| e.field);
    assert_eq!(field(RiskInputs { position_usd: 0.0, ..base }), Some("position_usd"));
    assert_eq!(field(RiskInputs { horizon_days: 0.0, ..base }), Some("horizon_days"));
    assert_eq!(field(RiskInputs { horizon_days: f64::NAN, ..base }), Some("horizon_days"));
    assert_eq!(
        field(RiskInputs { exposure: Exposure::Pair { sigma_0: 0.5, sigma_1: 0.5, rho: 1.5 }, ..base }),
        Some("exposure.rho")
    );
    assert_eq!(
        field(RiskInputs { emissions: Emissions { dumped_share: Some(1.2), ..base.emissions }, ..base }),
        Some("emissions.dumped_share")
    );
    // A zero horizon is fine when there is a lock.
    let locked = RiskInputs { horizon_days: 0.0, lock_days: 30.0, ..base };
    near(risk_adjusted_yield(&locked).expect("valid").horizon_days, 30.0, 0.0);
    assert_eq!(DAYS_PER_YEAR, 365.0);
}
