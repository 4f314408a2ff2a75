//! The `lp` strategy backtest: impermanent loss against the closed form, fee accounting, the
//! no-arbitrage band and determinism, on synthetic and real (ETH/USDC 2021) prices.

use granary_hub::il::il_closed_form;
use granary_lab::backtest::{LpBacktest, Quote, Volume, lp_vs_hodl};
use granary_lab::{DailySeries, Date};

type R = Result<(), Box<dyn std::error::Error>>;

const DEPOSIT: f64 = 1_000_000.0;

fn d(s: &str) -> Result<Date, Box<dyn std::error::Error>> {
    Ok(Date::parse(s)?)
}

/// A deterministic zig-zag from 2000 to 3000 over 60 days with ±6 % daily swings.
fn synthetic() -> Result<DailySeries, Box<dyn std::error::Error>> {
    let start = d("2022-01-01")?;
    let mut date = start;
    let mut points = Vec::new();
    for i in 0..61 {
        let trend = 2000.0 * (1.5f64).powf(f64::from(i) / 60.0);
        let wiggle = if i == 0 || i == 60 { 1.0 } else { 1.0 + 0.06 * if i % 2 == 0 { 1.0 } else { -1.0 } };
        points.push((date, trend * wiggle));
        date = date.succ();
    }
    Ok(DailySeries { symbol: "SYN".into(), points, gaps: Vec::new() })
}

/// The band term: a pool priced at `c` times the market is worth `(c^-½ + c^½)/2` times what it
/// would be worth at the market price; `c` lies in `[γ, 1/γ]` after the arbitrage.
fn band_excess(fee_bps: u32) -> f64 {
    let c = 10_000.0 / (10_000.0 - f64::from(fee_bps));
    (1.0 / c.sqrt() + c.sqrt()) / 2.0 - 1.0
}

/// Tolerance for |IL − closed form| (as fractions): the band term plus 1e-9 for integer rounding
/// (1 base unit of the 6-decimal leg is 2e-12 of a $1M deposit; the minimum liquidity locked by
/// the first mint is under 1e-13 of the supply; float growth factors drift ~1e-14).
fn tolerance(fee_bps: u32) -> f64 {
    band_excess(fee_bps) + 1e-9
}

fn il(bt: &LpBacktest) -> f64 {
    bt.final_.il_pct / 100.0
}

#[test]
fn zero_fee_zero_volume_matches_the_closed_form_to_rounding() -> R {
    let s = synthetic()?;
    let bt = lp_vs_hodl(&s, Quote::Usd, d("2022-01-01")?, d("2022-03-02")?, DEPOSIT, 0, Volume::Zero)?;
    let cf = il_closed_form(bt.final_.price_ratio);
    assert!((bt.final_.price_ratio - 1.5).abs() < 1e-12);
    assert!((il(&bt) - cf).abs() < 1e-9, "il {} vs closed form {cf}", il(&bt));
    // With no fee nothing but rounding grows the pool: the position itself is the closed form.
    let direct = bt.final_.lp_value / bt.final_.hodl_value - 1.0;
    assert!((direct - cf).abs() < 1e-9, "lp/hodl−1 {direct} vs {cf}");
    assert_eq!(bt.final_.fees_usd, 0.0);
    Ok(())
}

#[test]
fn fee_30_zero_volume_matches_the_closed_form_within_the_band() -> R {
    let s = synthetic()?;
    let bt = lp_vs_hodl(&s, Quote::Usd, d("2022-01-01")?, d("2022-03-02")?, DEPOSIT, 30, Volume::Zero)?;
    let cf = il_closed_form(bt.final_.price_ratio);
    let tol = tolerance(30);
    assert!((il(&bt) - cf).abs() < tol, "il {} vs closed form {cf} (tol {tol})", il(&bt));
    // The arbitrageur's fees are real income: the position beats pure IL by them, and they are
    // small next to the value (each arbitrage pays at most the fee on its input).
    let s = &bt.final_;
    assert!(s.arb_fees_usd > 0.0);
    assert!(s.return_vs_hodl_pct > s.il_pct);
    assert!((s.lp_value - s.arb_fees_usd - s.fees_usd) / s.hodl_value - 1.0 - il(&bt) < 1e-12);
    Ok(())
}

#[test]
fn the_pool_stays_inside_the_no_arbitrage_band_every_day() -> R {
    let s = synthetic()?;
    for fee in [0u32, 5, 30, 100] {
        let bt = lp_vs_hodl(&s, Quote::Usd, d("2022-01-01")?, d("2022-03-02")?, DEPOSIT, fee, Volume::DailyUsd(3e5))?;
        let gamma = 1.0 - f64::from(fee) / 10_000.0;
        for day in &bt.per_day {
            let c = day.pool_price / day.market_price;
            assert!(c >= gamma * (1.0 - 1e-9) && c <= (1.0 + 1e-9) / gamma, "fee {fee}: {} c = {c}", day.date);
        }
        // The swings are far wider than any band here, so the pool ends each moving day at an edge.
        let moved = &bt.per_day[1];
        let c = moved.pool_price / moved.market_price;
        assert!(((c - gamma).abs() < 1e-9) || ((c - 1.0 / gamma).abs() < 1e-9), "fee {fee}: c = {c}");
    }
    Ok(())
}

fn eth_window(fee_bps: u32, volume: Volume) -> Result<LpBacktest, Box<dyn std::error::Error>> {
    let eth = granary_lab::data::load("ETH")?;
    Ok(lp_vs_hodl(&eth, Quote::Usd, d("2021-05-01")?, d("2021-07-31")?, DEPOSIT, fee_bps, volume)?)
}

#[test]
fn eth_usdc_may_to_july_2021() -> R {
    let bt = eth_window(30, Volume::Zero)?;
    let first = &bt.per_day[0];
    let last = bt.per_day.last().ok_or("no days")?;
    let s = &bt.final_;
    let cf = il_closed_form(s.price_ratio);
    println!(
        "ETH/USDC {}..{}: ETH {:.2} -> {:.2} (r = {:.4}), deposit ${DEPOSIT:.0}, fee 30 bps, no noise volume",
        first.date, last.date, first.market_price, last.market_price, s.price_ratio
    );
    println!(
        "  LP ${:.2}  HODL ${:.2}  IL {:.4}% (closed form {:.4}%)  arb fees ${:.2}  LP vs HODL {:.4}%  max drawdown {:.2}%",
        s.lp_value,
        s.hodl_value,
        s.il_pct,
        100.0 * cf,
        s.arb_fees_usd,
        s.return_vs_hodl_pct,
        s.max_drawdown_pct
    );
    assert!(first.market_price > last.market_price);
    assert!(s.il_pct < 0.0);
    assert!((il(&bt) - cf).abs() < tolerance(30), "il {} vs {cf}", il(&bt));

    let vol = eth_window(30, Volume::DailyUsd(DEPOSIT))?;
    let v = &vol.final_;
    println!(
        "  with ${DEPOSIT:.0}/day noise volume: LP ${:.2}  fees ${:.2}  arb fees ${:.2}  IL {:.4}%  LP vs HODL {:.4}%",
        v.lp_value, v.fees_usd, v.arb_fees_usd, v.il_pct, v.return_vs_hodl_pct
    );
    Ok(())
}

#[test]
fn noise_volume_adds_exactly_its_fees() -> R {
    let zero = eth_window(30, Volume::Zero)?;
    let vol = eth_window(30, Volume::DailyUsd(500_000.0))?;
    let (z, v) = (&zero.final_, &vol.final_);
    assert!(v.fees_usd > 0.0);
    let gain = v.lp_value - z.lp_value;
    println!("LP gain over the zero-volume run ${gain:.6}, fees ${:.6}", v.fees_usd);
    assert!((gain - v.fees_usd).abs() < 1e-9 * v.lp_value, "gain {gain} vs fees {}", v.fees_usd);
    // Noise round trips do not move the price, so IL and the arbitrage are those of the zero run.
    assert!((v.il_pct - z.il_pct).abs() < 1e-6);
    // Fees grow day by day.
    for w in vol.per_day.windows(2) {
        assert!(w[1].fees_usd / w[1].lp_value_usd >= w[0].fees_usd / w[0].lp_value_usd);
    }
    Ok(())
}

#[test]
fn runs_are_deterministic() -> R {
    let a = eth_window(30, Volume::DailyUsd(250_000.0))?;
    let b = eth_window(30, Volume::DailyUsd(250_000.0))?;
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn a_usdc_series_quote_is_close_to_the_constant_dollar() -> R {
    let eth = granary_lab::data::load("ETH")?;
    let usdc = granary_lab::data::load("USDC")?;
    let (from, to) = (d("2021-05-01")?, d("2021-07-31")?);
    let fixed = lp_vs_hodl(&eth, Quote::Usd, from, to, DEPOSIT, 30, Volume::Zero)?;
    let priced = lp_vs_hodl(&eth, Quote::Series(&usdc), from, to, DEPOSIT, 30, Volume::Zero)?;
    assert!((fixed.final_.il_pct - priced.final_.il_pct).abs() < 0.05);
    assert!((il(&priced) - il_closed_form(priced.final_.price_ratio)).abs() < tolerance(30));
    Ok(())
}

#[test]
fn bad_inputs_are_errors() -> R {
    let s = synthetic()?;
    let (from, to) = (d("2022-01-01")?, d("2022-03-02")?);
    assert!(lp_vs_hodl(&s, Quote::Usd, from, to, -1.0, 30, Volume::Zero).is_err());
    assert!(lp_vs_hodl(&s, Quote::Usd, from, to, f64::NAN, 30, Volume::Zero).is_err());
    assert!(lp_vs_hodl(&s, Quote::Usd, from, to, DEPOSIT, 1001, Volume::Zero).is_err());
    assert!(lp_vs_hodl(&s, Quote::Usd, from, to, DEPOSIT, 30, Volume::DailyUsd(-5.0)).is_err());
    assert!(lp_vs_hodl(&s, Quote::Usd, d("2021-01-01")?, to, DEPOSIT, 30, Volume::Zero).is_err());
    assert!(lp_vs_hodl(&s, Quote::Usd, to, from, DEPOSIT, 30, Volume::Zero).is_err());
    // A deposit too small to buy one base unit of the 18-decimal leg.
    assert!(lp_vs_hodl(&s, Quote::Usd, from, to, 1e-16, 30, Volume::Zero).is_err());
    Ok(())
}
