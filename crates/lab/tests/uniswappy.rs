//! The `lp` strategy against an independent implementation: uniswappy (PyPI, the Python AMM
//! simulator) replays the same mint and the same swaps — the arbitrageur's and the noise
//! traders' — and its pool must end where ours does, with the same impermanent loss and the same
//! fees, within uniswappy's documented rounding: its integer mode rounds every amount out *up*
//! (`SaferMath.div_round`) where the pair floors, so each swap may pay one base unit more, and its
//! fee tally is `⌈amount_in·3/1000⌉` where the fee part of an input is `amount_in·30/10000`.
//!
//! Needs uniswappy in `$GRANARY_PYTHON` or `.oracles/venv` (scripts/oracles.sh); skips without it,
//! except under CI (`CI=true`), where it fails.

use granary_engine::U256;
use granary_lab::Date;
use granary_lab::data;
use granary_lab::strategy::{Config, Prepared, PricePath, Strategy};
use std::process::Command;

type R = Result<(), Box<dyn std::error::Error>>;

fn u(s: &serde_json::Value) -> Result<U256, Box<dyn std::error::Error>> {
    Ok(s.as_str().ok_or("not a string")?.parse::<U256>()?)
}

fn f(x: U256) -> f64 {
    x.into()
}

#[test]
fn lp_il_and_fees_match_uniswappy_on_the_same_swaps() -> R {
    let Some(python) = granary_testkit::python_with("uniswappy") else {
        eprintln!("skipped: no Python with uniswappy (run scripts/oracles.sh)");
        return Ok(());
    };
    // ETH/USD, 2021-05-01..2021-07-31, daily; $1M pool (the LP alone), 30 bps, 15 %/day volume.
    let eth = data::load("ETH")?;
    let a: Vec<f64> = eth.window(Date::parse("2021-05-01")?, Date::parse("2021-07-31")?)?.iter().map(|p| p.1).collect();
    let b = vec![1.0; a.len()];
    let mut config = Config::new(Strategy::Lp, 1_000_000.0);
    config.pool_usd = 1_000_000.0;
    config.fee_bps = 30;
    config.volume_share = 0.15;
    let days = u32::try_from(a.len() - 1)?;
    let path = PricePath { steps_per_day: 1, a: &a, b: &b, reward: None, native: None };
    let (ours, trace) = Prepared::new(&config, days, false)?.run_traced(&path)?;
    assert!(trace.swaps.len() > 500, "{} swaps", trace.swaps.len());

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("trace.txt");
    let mut text = format!("pool {} {}\n", trace.user_amounts[0], trace.user_amounts[1]);
    for s in &trace.swaps {
        text.push_str(&format!("swap {} {}\n", s.sell, s.amount_in));
    }
    std::fs::write(&file, text)?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/uniswappy_lp.py");
    let out = Command::new(&python).arg(script).arg(&file).output()?;
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    let uni: serde_json::Value = serde_json::from_slice(&out.stdout)?;

    // 1. Every swap: uniswappy pays what the pair pays, or one unit more (its rounding up), on
    //    reserves that have drifted from ours by those units.
    let outs = uni["outs"].as_array().ok_or("outs")?;
    assert_eq!(outs.len(), trace.swaps.len());
    let mut worst = 0.0f64;
    for (i, (s, o)) in trace.swaps.iter().zip(outs).enumerate() {
        let (ours_out, uni_out) = (f(s.amount_out), f(u(o)?));
        let rel = (uni_out - ours_out).abs() / ours_out;
        worst = worst.max(rel);
        assert!((uni_out - ours_out).abs() <= 1.0 + 1e-9 * ours_out, "swap {i}: ours {ours_out} uniswappy {uni_out}");
    }
    // 2. The pool: same LP supply and user liquidity to the unit, reserves within the rounding.
    assert_eq!(u(&uni["supply"])?, trace.initial_supply, "LP supply");
    assert_eq!(u(&uni["lp_liquidity"])?, trace.user_liquidity, "the LP's liquidity");
    let ur = [u(&uni["reserves"][0])?, u(&uni["reserves"][1])?];
    let our_r = [trace.final_reserves[0] + trace.burned[0], trace.final_reserves[1] + trace.burned[1]];
    for k in 0..2 {
        let rel = (f(ur[k]) - f(our_r[k])).abs() / f(our_r[k]);
        assert!(rel < 1e-9, "reserve {k}: ours {} uniswappy {}", our_r[k], ur[k]);
    }
    // 3. Impermanent loss from uniswappy's reserves: per share, fees removed through √k growth.
    let (pa, x0, y0) = (a[a.len() - 1], f(trace.user_amounts[0]) / 1e18, f(trace.user_amounts[1]) / 1e6);
    let (x, y) = (f(ur[0]) / 1e18, f(ur[1]) / 1e6);
    let k = (x * y).sqrt() / (x0 * y0).sqrt();
    let il_uni = 100.0 * ((x * pa + y) / k / (x0 * pa + y0) - 1.0);
    assert!((il_uni - ours.il_pct).abs() < 1e-6, "IL: ours {}% uniswappy {il_uni}%", ours.il_pct);
    // 4. Fees: the value of the fee-earned part of the LP's position, and the fee tally per token.
    let share = f(trace.user_liquidity) / f(trace.initial_supply);
    let value_uni = share * (x * pa + y);
    let fees_uni = value_uni * (1.0 - 1.0 / k);
    let fees_ours = ours.fees_usd + ours.arb_fees_usd;
    assert!((fees_uni - fees_ours).abs() < 1e-6 * value_uni, "fees: ours {fees_ours} uniswappy {fees_uni}");
    for side in 0..2 {
        // Σ ⌊amount_in·30/10000⌋ (the engine's `fees_in`) against uniswappy's Σ ⌈amount_in·3/1000⌉.
        let (mut n, mut floor) = (0u64, U256::ZERO);
        for s in trace.swaps.iter().filter(|s| s.sell == side) {
            n += 1;
            floor += s.amount_in * U256::from(30u8) / U256::from(10_000u32);
        }
        let tally = u(&uni["collected_fee"][side])?;
        assert!(tally >= floor && tally - floor <= U256::from(n), "fee tally {side}: {tally} vs {floor} ({n} swaps)");
    }
    println!(
        "uniswappy {}: {} swaps, worst relative out difference {worst:.2e}; IL ours {:.6}% uniswappy {il_uni:.6}%; \
         fees ours ${fees_ours:.4} uniswappy ${fees_uni:.4}; LP value ours ${:.4} uniswappy ${value_uni:.4}",
        uni["uniswappy_version"].as_str().unwrap_or("?"),
        trace.swaps.len(),
        ours.il_pct,
        ours.final_value,
    );
    Ok(())
}
