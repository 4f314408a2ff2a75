//! The strategies and the Monte Carlo runner: closed-form IL, agreement with the engine backtest,
//! zero volatility, determinism across thread counts, the stake's early-exit penalty to the wei,
//! the vault against the farm, and errors for bad input.

use granary_engine::U256;
use granary_hub::il::il_closed_form;
use granary_lab::backtest::{Quote, Volume, lp_vs_hodl};
use granary_lab::history::{self, Pair};
use granary_lab::montecarlo::{self, Model, Spec};
use granary_lab::report::{self, Summary};
use granary_lab::strategy::{Config, Gas, Outcome, Prepared, PricePath, StakeTerms, Strategy, simulate};
use granary_lab::{Date, data};

type R = Result<(), Box<dyn std::error::Error>>;

fn d(s: &str) -> Result<Date, Box<dyn std::error::Error>> {
    Ok(Date::parse(s)?)
}

/// ETH/USD closes of a window, as a daily path (quote = $1).
fn eth_path(from: &str, to: &str) -> Result<(Vec<f64>, Vec<f64>), Box<dyn std::error::Error>> {
    let eth = data::load("ETH")?;
    let a: Vec<f64> = eth.window(d(from)?, d(to)?)?.iter().map(|p| p.1).collect();
    let b = vec![1.0; a.len()];
    Ok((a, b))
}

fn lp(deposit: f64, fee_bps: u32, volume: f64) -> Config {
    let mut c = Config::new(Strategy::Lp, deposit);
    c.pool_usd = deposit;
    c.fee_bps = fee_bps;
    c.volume_share = volume;
    c
}

fn daily<'a>(a: &'a [f64], b: &'a [f64]) -> PricePath<'a> {
    PricePath { steps_per_day: 1, a, b, reward: None, native: None }
}

#[test]
fn lp_with_zero_volume_and_fee_has_the_closed_form_il() -> R {
    for (from, to) in [("2021-05-01", "2021-07-31"), ("2022-01-01", "2022-12-31")] {
        let (a, b) = eth_path(from, to)?;
        let r = a[a.len() - 1] / a[0];
        let o = simulate(&lp(1_000_000.0, 0, 0.0), &daily(&a, &b))?;
        let cf = il_closed_form(r);
        // Per-share IL and the position itself against HODL: both the closed form, to rounding
        // (a base unit of the 6-decimal leg is 1e-12 of the deposit; MINIMUM_LIQUIDITY ~1e-13).
        assert!((o.il_pct / 100.0 - cf).abs() < 1e-9, "{from}: il {} vs {cf}", o.il_pct / 100.0);
        assert!(
            (o.final_value / o.hodl_value - 1.0 - cf).abs() < 1e-9,
            "{from}: lp/hodl {}",
            o.final_value / o.hodl_value
        );
        assert_eq!(o.fees_usd, 0.0);
    }
    Ok(())
}

#[test]
fn lp_with_a_fee_stays_within_the_band_of_the_closed_form() -> R {
    let (a, b) = eth_path("2022-01-01", "2022-12-31")?;
    let o = simulate(&lp(1_000_000.0, 30, 0.0), &daily(&a, &b))?;
    let cf = il_closed_form(a[a.len() - 1] / a[0]);
    // The pool may sit anywhere in the band [γ·m, m/γ]: (c^-½ + c^½)/2 − 1 at c = 1/γ.
    let c: f64 = 1.0 / 0.997;
    let band = (1.0 / c.sqrt() + c.sqrt()) / 2.0 - 1.0;
    assert!((o.il_pct / 100.0 - cf).abs() < band + 1e-9, "il {} vs {cf}", o.il_pct);
    assert!(o.arb_fees_usd > 0.0 && o.return_vs_hodl_pct() > o.il_pct);
    Ok(())
}

#[test]
fn strategy_lp_matches_the_engine_backtest() -> R {
    // The exact pool and the real engine pool see the same arbitrage: the same final value.
    let eth = data::load("ETH")?;
    let (from, to) = ("2021-05-01", "2021-07-31");
    let (a, b) = eth_path(from, to)?;
    let ours = simulate(&lp(1_000_000.0, 30, 0.0), &daily(&a, &b))?;
    let engine = lp_vs_hodl(&eth, Quote::Usd, d(from)?, d(to)?, 1_000_000.0, 30, Volume::Zero)?;
    let e = engine.summary();
    assert_eq!(ours.final_value, e.lp_value, "final value: exact pool vs engine");
    assert!((ours.arb_fees_usd - e.arb_fees_usd).abs() < 1e-6 * e.lp_value);
    for (day, (v, ev)) in ours.daily_value.iter().zip(engine.per_day.iter()).enumerate().skip(1).take(a.len() - 2) {
        assert_eq!(*v, ev.lp_value_usd, "day {day}");
    }
    Ok(())
}

#[test]
fn noise_volume_earns_fees_that_grow_with_volume() -> R {
    let (a, b) = eth_path("2021-05-01", "2021-07-31")?;
    let base = simulate(&lp(100_000.0, 30, 0.0), &daily(&a, &b))?;
    let v1 = simulate(&lp(100_000.0, 30, 0.1), &daily(&a, &b))?;
    let v2 = simulate(&lp(100_000.0, 30, 0.2), &daily(&a, &b))?;
    assert!(v1.fees_usd > 0.0 && v2.fees_usd > 1.9 * v1.fees_usd, "{} {}", v1.fees_usd, v2.fees_usd);
    // 10 %/day of TVL at 30 bps for 91 days is about 91·0.1·0.003 = 2.7 % of the value.
    let share = v1.fees_usd / v1.final_value;
    assert!(share > 0.02 && share < 0.035, "fee share {share}");
    // Round trips do not move the price: IL is the zero-volume run's.
    assert!((v1.il_pct - base.il_pct).abs() < 1e-6);
    Ok(())
}

fn gbm(paths: usize, days: u32, spd: u32, seed: u64, mu: f64, sigma: f64) -> Spec {
    Spec {
        paths,
        days,
        steps_per_day: spd,
        seed,
        start: [2000.0, 1.0],
        model: Model::Gbm { mu: [mu, 0.0], sigma: [sigma, 0.0], rho: 0.0 },
    }
}

#[test]
fn monte_carlo_with_zero_volatility_is_the_deterministic_run() -> R {
    let spd = 4;
    let days = 30;
    let mu = 0.002; // a day
    let spec = gbm(5, days, spd, 7, mu, 0.0);
    let mut config = lp(50_000.0, 30, 0.2);
    config.pool_usd = 500_000.0;
    let prepared = Prepared::new(&config, days, false)?;
    let outs = montecarlo::run(&prepared, &spec, &|| {})?;
    let n = (days * spd) as usize;
    // The drift path, accumulated as the generator does.
    let mut a = vec![2000.0];
    let mut l = 0.0f64;
    for _ in 0..n {
        l += mu / f64::from(spd);
        a.push(2000.0 * l.exp());
    }
    let b = vec![1.0; n + 1];
    let det = prepared.run(&PricePath { steps_per_day: spd, a: &a, b: &b, reward: None, native: None })?;
    for o in &outs {
        assert_eq!(o, &det, "every zero-volatility path is the deterministic run");
    }
    // And the drift made IL: r = e^(30·0.002).
    let cf = il_closed_form((mu * f64::from(days)).exp());
    assert!((det.il_pct / 100.0 - cf).abs() < 2e-3, "{} vs {cf}", det.il_pct);
    Ok(())
}

fn csv_bytes(outs: &[Outcome], spec: &Spec) -> String {
    let info = report::RunInfo {
        strategy: "lp".into(),
        mode: "montecarlo".into(),
        pair: "ETH/USD".into(),
        chain: "ethereum".into(),
        from: String::new(),
        to: String::new(),
        model: spec.model.name().into(),
        paths: spec.paths,
        days: spec.days,
        steps_per_day: spec.steps_per_day,
        seed: Some(spec.seed),
        deposit_usd: 10_000.0,
    };
    let s = Summary::new(info, outs);
    s.csv() + &report::paths_csv(outs) + &report::Fan::new(outs).csv()
}

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() -> R {
    let eth = data::load("ETH")?;
    let closes: Vec<f64> = eth.window(d("2021-01-01")?, d("2022-12-31")?)?.iter().map(|p| p.1).collect();
    let ones = vec![1.0; closes.len()];
    let models = [Model::fit_gbm(&closes, &ones)?, Model::bootstrap(&closes, &ones, 7)?];
    let mut config = lp(10_000.0, 30, 0.2);
    config.gas = Gas { gwei: 20.0, native_usd: 2000.0 };
    let prepared = Prepared::new(&config, 20, true)?;
    for model in models {
        let spec = Spec { paths: 24, days: 20, steps_per_day: 6, seed: 42, start: [2000.0, 1.0], model };
        let run_with = |threads: usize| -> Result<String, Box<dyn std::error::Error>> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let outs = pool.install(|| montecarlo::run(&prepared, &spec, &|| {}))?;
            Ok(csv_bytes(&outs, &spec))
        };
        let one = run_with(1)?;
        let two = run_with(2)?;
        let three = run_with(3)?;
        assert_eq!(one, two, "{}: 1 vs 2 threads", spec.model.name());
        assert_eq!(one, three, "{}: 1 vs 3 threads", spec.model.name());
        assert_eq!(one, run_with(2)?, "{}: run twice", spec.model.name());
        let other = Spec { seed: 43, ..spec.clone() };
        let outs = montecarlo::run(&prepared, &other, &|| {})?;
        assert_ne!(one, csv_bytes(&outs, &other), "another seed gives other paths");
    }
    Ok(())
}

fn locked(term: u32, boost: u32, penalty: Option<u32>, forfeit: bool) -> StakeTerms {
    StakeTerms {
        apr: 0.2,
        term_days: term,
        boost_bps: boost,
        penalty_bps: penalty,
        forfeit_rewards: forfeit,
        exit_day: None,
    }
}

#[test]
fn a_locked_stakes_early_exit_pays_the_exact_penalty() -> R {
    let amount = U256::from(1_234_567_891_234_567_891_234u128); // 1234.567… tokens
    // 90-day lock, 1.5×, 7.5 % penalty; leave on day 30.
    let [back, penalty, reward] =
        granary_lab::strategy::stake_exit_exact(&locked(90, 15_000, Some(750), false), amount, 90, 30)?;
    let expected = amount * U256::from(750u32) / U256::from(10_000u32);
    assert_eq!(penalty, expected, "penalty = ⌊amount·750/10000⌋");
    assert_eq!(back, amount - expected, "principal back = amount − penalty");
    // Alone in the pool, the stake earns StakingRewards' amount for 30 of the 90 days, to the wei:
    // rate = ⌊notified/duration⌋, rpt = ⌊rate·elapsed·1e18/weight⌋, earned = ⌊weight·rpt/1e18⌋.
    let weight = amount * U256::from(15_000u32) / U256::from(10_000u32);
    let notified = U256::from((0.2 * f64::from(weight) * 90.0 / 365.0).floor() as u128);
    let day = U256::from(86_400u32);
    let rate = notified / (U256::from(90u8) * day);
    let e18 = U256::from(10u8).pow(U256::from(18u8));
    let rpt = rate * U256::from(30u8) * day * e18 / weight;
    assert_eq!(reward, weight * rpt / e18, "reward to the wei");
    // Forfeiting: the same penalty, no reward.
    let [back_f, penalty_f, reward_f] =
        granary_lab::strategy::stake_exit_exact(&locked(90, 15_000, Some(750), true), amount, 90, 30)?;
    assert_eq!((back_f, penalty_f, reward_f), (amount - expected, expected, U256::ZERO));
    // At the unlock: no penalty.
    let [back_u, penalty_u, _] =
        granary_lab::strategy::stake_exit_exact(&locked(90, 15_000, Some(750), false), amount, 90, 90)?;
    assert_eq!((back_u, penalty_u), (amount, U256::ZERO));
    // Early exit forbidden: refused.
    assert!(granary_lab::strategy::stake_exit_exact(&locked(90, 15_000, None, false), amount, 90, 30).is_err());
    Ok(())
}

#[test]
fn the_stake_strategy_charges_the_penalty_in_usd() -> R {
    let (a, b) = eth_path("2021-05-01", "2021-07-31")?;
    let mut c = Config::new(Strategy::Stake, 10_000.0);
    c.stake = StakeTerms { exit_day: Some(30), ..locked(90, 15_000, Some(1000), false) };
    let o = simulate(&c, &daily(&a, &b))?;
    // 10 % of the tokens, valued on day 30.
    let tokens = 10_000.0 / a[0];
    assert!((o.penalty_usd - 0.1 * tokens * a[30]).abs() < 1e-6 * o.penalty_usd, "{}", o.penalty_usd);
    // After the exit the strategy holds 90 % of the tokens plus the reward.
    assert!(o.final_value < 0.95 * o.hodl_value && o.final_value > 0.9 * o.hodl_value);
    // Forbidden early exit is a clear error naming the flags.
    c.stake.penalty_bps = None;
    let e = simulate(&c, &daily(&a, &b)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("--exit-day") && e.contains("--penalty-bps"), "{e}");
    Ok(())
}

fn farm_vault(strategy: Strategy, deposit: f64, gas: Gas) -> Config {
    let mut c = Config::new(strategy, deposit);
    c.pool_usd = 5_000_000.0;
    c.reward.apr = 0.8;
    c.reward.emission_per_year = 0.5;
    c.harvest_days = 7;
    c.compound_days = 7;
    c.gas = gas;
    c
}

#[test]
fn the_vault_beats_the_farm_without_gas_and_loses_when_gas_dominates() -> R {
    let (a, b) = eth_path("2021-05-01", "2021-07-31")?;
    let path = daily(&a, &b);
    let free = [
        simulate(&farm_vault(Strategy::Farm, 10_000.0, Gas::FREE), &path)?,
        simulate(&farm_vault(Strategy::Vault, 10_000.0, Gas::FREE), &path)?,
    ];
    assert!(
        free[1].final_value > free[0].final_value,
        "no gas: vault {} vs farm {}",
        free[1].final_value,
        free[0].final_value
    );
    assert!(free[1].rewards_usd > 0.0 && free[0].rewards_usd > 0.0);
    // $100 on Ethereum at 28 gwei: each compound costs ~$40 of gas.
    let eth = Gas { gwei: 28.0, native_usd: 2640.0 };
    let tiny = [
        simulate(&farm_vault(Strategy::Farm, 100.0, eth), &path)?,
        simulate(&farm_vault(Strategy::Vault, 100.0, eth), &path)?,
    ];
    assert!(tiny[1].gas_usd > tiny[0].gas_usd);
    assert!(
        tiny[1].final_value < tiny[0].final_value,
        "gas: vault {} vs farm {}",
        tiny[1].final_value,
        tiny[0].final_value
    );
    Ok(())
}

#[test]
fn bad_input_is_an_error_that_names_the_flag() -> R {
    let msg = |r: Result<Pair, granary_lab::strategy::SimError>| r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg(Pair::load("DOGE/USDC")).contains("--pair"));
    assert!(msg(Pair::load("ETH")).contains("--pair"));
    let pair = Pair::load("ETH/USDC")?;
    let e = pair.window(d("2010-01-01")?, d("2011-01-01")?).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("--from") && e.contains("outside the data"), "{e}");
    let prepared = Prepared::new(&lp(1000.0, 30, 0.1), 10, false)?;
    let e = montecarlo::run(&prepared, &gbm(0, 10, 1, 1, 0.0, 0.01), &|| {}).err().map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("--paths"));
    let mut c = lp(1000.0, 30, 0.1);
    c.deposit_usd = 0.0;
    assert!(c.validate().err().map(|e| e.to_string()).unwrap_or_default().contains("--deposit"));
    assert!(history::chain("solana").err().map(|e| e.to_string()).unwrap_or_default().contains("--chain"));
    let e = Model::bootstrap(&[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0], 5).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("--block-days"), "{e}");
    Ok(())
}
