//! `granary simulate`: backtests and Monte Carlo of the lab's strategies (docs/lab.md).

use clap::{Args, ValueEnum};
use granary_lab::history::{self, Pair};
use granary_lab::montecarlo::Model;
use granary_lab::report::{self, Summary};
use granary_lab::run;
use granary_lab::strategy::{Config, Outcome, Reward, StakeTerms, Strategy};
use granary_lab::{Date, chart};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    Hodl,
    Lp,
    Farm,
    Stake,
    Vault,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModelArg {
    Gbm,
    Bootstrap,
}

/// Backtest a strategy over a real window (--from/--to), or run it on Monte Carlo paths (--paths).
#[derive(Args)]
pub struct SimulateArgs {
    /// hodl, lp, farm, stake or vault.
    #[arg(value_enum)]
    strategy: StrategyArg,
    /// The pair, volatile token first: two shipped symbols (ETH/USDC, BTC/USDT, ETH/BTC…) or X/USD.
    #[arg(long, default_value = "ETH/USDC")]
    pair: String,
    /// Window start (YYYY-MM-DD): the backtest's, or the Monte Carlo model's fitting window.
    #[arg(long)]
    from: Option<String>,
    /// Window end (YYYY-MM-DD); Monte Carlo paths start at this day's closes.
    #[arg(long)]
    to: Option<String>,
    /// Monte Carlo: the number of paths (without it, a backtest of --from..--to).
    #[arg(long)]
    paths: Option<usize>,
    /// Monte Carlo: days per path.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Monte Carlo: the seed (same seed, same output, whatever the thread count).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Monte Carlo price model: gbm (fitted μ, σ, ρ) or bootstrap (blocks of real daily returns).
    #[arg(long, value_enum, default_value = "gbm")]
    model: ModelArg,
    /// Bootstrap block length in days.
    #[arg(long, default_value_t = 10)]
    block_days: usize,
    /// GBM: override the volatile token's drift, annualised log return (0.1 = 10 %/year).
    #[arg(long, allow_hyphen_values = true)]
    mu: Option<f64>,
    /// GBM: override the volatile token's volatility, annualised (0.8 = 80 %).
    #[arg(long)]
    sigma: Option<f64>,
    /// Steps a day: arbitrage runs at every step (24 = hourly). Backtests interpolate the closes.
    #[arg(long, default_value_t = 1)]
    steps_per_day: u32,
    /// Deposit in USD.
    #[arg(long, default_value_t = 10_000.0)]
    deposit: f64,
    /// The pool's TVL at entry in USD, the deposit included (default: 10 × deposit).
    #[arg(long)]
    pool_usd: Option<f64>,
    /// The pool's swap fee in basis points.
    #[arg(long, default_value_t = 30)]
    fee_bps: u32,
    /// Noise trading a day as a share of the pool's TVL (0.2 = 20 %/day).
    #[arg(long, default_value_t = 0.2)]
    volume: f64,
    /// farm/vault: reward APR on the staked value (0.4 = 40 %).
    #[arg(long, default_value_t = 0.4)]
    reward_apr: f64,
    /// farm/vault: reward token price at entry, USD.
    #[arg(long, default_value_t = 1.0)]
    reward_price: f64,
    /// farm/vault: reward tokens emitted a year over the supply; price ∝ 1/(1 + emission·years).
    #[arg(long, default_value_t = 1.0)]
    reward_emission: f64,
    /// farm/vault, backtests: price the reward token with this shipped series instead (e.g. SUSHI).
    #[arg(long)]
    reward_token: Option<String>,
    /// farm: claim and sell the rewards every N days (0 = only at exit).
    #[arg(long, default_value_t = 7)]
    harvest_days: u32,
    /// vault: compound every N days.
    #[arg(long, default_value_t = 7)]
    compound_days: u32,
    /// vault: performance fee on harvested rewards, basis points.
    #[arg(long, default_value_t = 450)]
    performance_fee_bps: u32,
    /// stake: what a flexible stake earns a year (0.1 = 10 %).
    #[arg(long, default_value_t = 0.1)]
    stake_apr: f64,
    /// stake: lock term in days (0 = flexible).
    #[arg(long, default_value_t = 0)]
    term_days: u32,
    /// stake: the term's boost in basis points (15000 = 1.5×).
    #[arg(long, default_value_t = 10_000)]
    boost_bps: u32,
    /// stake: early-exit penalty, basis points of principal.
    #[arg(long, default_value_t = 1000)]
    penalty_bps: u32,
    /// stake: early exit is forbidden (instead of penalised).
    #[arg(long)]
    no_early_exit: bool,
    /// stake: an early exit forfeits the pending rewards.
    #[arg(long)]
    forfeit_rewards: bool,
    /// stake: leave after this many days (default: the end).
    #[arg(long)]
    exit_day: Option<u32>,
    /// Chain for gas: ethereum, bsc, polygon, arbitrum, base or avalanche.
    #[arg(long, default_value = "ethereum")]
    chain: String,
    /// Gas price in gwei (default: the chain's).
    #[arg(long)]
    gas_gwei: Option<f64>,
    /// Native token price in USD for gas (default: its real close, else the chain's default).
    #[arg(long)]
    native_usd: Option<f64>,
    /// Write summary.csv, days.csv and (Monte Carlo) paths.csv into this folder.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw a chart: FILE.svg or FILE.png.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Print the summary as JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

fn date(flag: &str, v: &str) -> Result<Date, String> {
    Date::parse(v).map_err(|e| format!("{flag} {v:?}: {e}"))
}

impl SimulateArgs {
    fn strategy(&self) -> Strategy {
        match self.strategy {
            StrategyArg::Hodl => Strategy::Hodl,
            StrategyArg::Lp => Strategy::Lp,
            StrategyArg::Farm => Strategy::Farm,
            StrategyArg::Stake => Strategy::Stake,
            StrategyArg::Vault => Strategy::Vault,
        }
    }

    fn config(&self, chain: &history::ChainGas) -> Config {
        let mut c = Config::new(self.strategy(), self.deposit);
        c.pool_usd = self.pool_usd.unwrap_or(10.0 * self.deposit);
        c.fee_bps = self.fee_bps;
        c.volume_share = self.volume;
        c.reward =
            Reward { apr: self.reward_apr, price0_usd: self.reward_price, emission_per_year: self.reward_emission };
        c.harvest_days = self.harvest_days;
        c.compound_days = self.compound_days;
        c.performance_fee_bps = self.performance_fee_bps;
        c.stake = StakeTerms {
            apr: self.stake_apr,
            term_days: self.term_days,
            boost_bps: self.boost_bps,
            penalty_bps: (!self.no_early_exit).then_some(self.penalty_bps),
            forfeit_rewards: self.forfeit_rewards,
            exit_day: self.exit_day,
        };
        let mut gas = chain.gas();
        if let Some(g) = self.gas_gwei {
            gas.gwei = g;
        }
        if let Some(p) = self.native_usd {
            gas.native_usd = p;
        }
        c.gas = gas;
        c
    }
}

pub fn run(args: &SimulateArgs) -> Result<ExitCode, String> {
    let chain = history::chain(&args.chain).map_err(|e| e.to_string())?;
    let pair = Pair::load(&args.pair).map_err(|e| e.to_string())?;
    let config = args.config(&chain);
    config.validate().map_err(|e| e.to_string())?;
    if let Some(t) = args.threads
        && t == 0
    {
        return Err("--threads must be at least 1".into());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start the worker threads: {e}"))?;
    pool.install(|| match args.paths {
        None => backtest(args, &pair, &chain, &config),
        Some(paths) => monte_carlo(args, &pair, &chain, &config, paths),
    })
}

fn backtest(args: &SimulateArgs, pair: &Pair, chain: &history::ChainGas, config: &Config) -> Result<ExitCode, String> {
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        return Err("a backtest needs --from and --to (YYYY-MM-DD); or pass --paths N for Monte Carlo".into());
    };
    let (from, to) = (date("--from", from)?, date("--to", to)?);
    if args.steps_per_day == 0 || args.steps_per_day > run::MAX_STEPS_PER_DAY {
        return Err(format!("--steps-per-day must be in 1..={}, got {}", run::MAX_STEPS_PER_DAY, args.steps_per_day));
    }
    let r = run::backtest(
        config,
        pair,
        chain,
        (from, to),
        args.steps_per_day,
        args.reward_token.as_deref(),
        args.native_usd.is_none(),
    )
    .map_err(|e| match &args.reward_token {
        Some(_) if e.0.starts_with("reward token") => format!("--{}", e.0.replacen(' ', "-", 1)),
        _ => e.0,
    })?;
    if let Some(dir) = &args.csv {
        let files = [("summary.csv", r.summary.csv()), ("days.csv", report::backtest_days_csv(&r.dates, &r.outcome))];
        report::write_files(dir, &files).map_err(|e| format!("--csv {}: {e}", dir.display()))?;
    }
    if let Some(file) = &args.chart {
        let title = format!("{} {} vs HODL, {} {}..{}", pair.name, config.strategy.name(), chain.name, from, to);
        chart::backtest(file, &title, &r.dates, &r.outcome.daily_value, &r.outcome.daily_hodl)
            .map_err(|e| format!("--chart: {e}"))?;
    }
    print(&r.summary, args.json)
}

fn monte_carlo(
    args: &SimulateArgs,
    pair: &Pair,
    chain: &history::ChainGas,
    config: &Config,
    paths: usize,
) -> Result<ExitCode, String> {
    if args.reward_token.is_some() {
        return Err(
            "--reward-token prices rewards from history: Monte Carlo uses --reward-price and --reward-emission".into(),
        );
    }
    if args.model == ModelArg::Bootstrap && (args.mu.is_some() || args.sigma.is_some()) {
        return Err("--mu and --sigma set the GBM model: use them with --model gbm".into());
    }
    let ask = run::MonteCarloAsk {
        paths,
        days: args.days,
        steps_per_day: args.steps_per_day,
        seed: args.seed,
        model: match args.model {
            ModelArg::Gbm => run::ModelChoice::Gbm { mu: args.mu, sigma: args.sigma },
            ModelArg::Bootstrap => run::ModelChoice::Bootstrap { block_days: args.block_days },
        },
        from: args.from.as_deref().map(|v| date("--from", v)).transpose()?,
        to: args.to.as_deref().map(|v| date("--to", v)).transpose()?,
        native_from_path: args.native_usd.is_none(),
    };
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(paths as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} paths [{elapsed_precise} < {eta_precise}] {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let r = run::monte_carlo(config, pair, chain, &ask, &|| bar.inc(1)).map_err(|e| e.0);
    bar.finish_and_clear();
    let r = r?;
    if let Model::Gbm { mu, sigma, rho } = &r.spec.model
        && !args.json
    {
        eprintln!(
            "gbm fitted on {}..{}: {} μ {:+.3}/yr σ {:.3}/yr; {} μ {:+.3}/yr σ {:.3}/yr; ρ {:.3}",
            r.from,
            r.to,
            pair.name.split('/').next().unwrap_or("A"),
            mu[0] * 365.0,
            sigma[0] * 365f64.sqrt(),
            pair.name.split('/').nth(1).unwrap_or("B"),
            mu[1] * 365.0,
            sigma[1] * 365f64.sqrt(),
            rho
        );
    }
    if let Some(dir) = &args.csv {
        let files = [
            ("summary.csv", r.summary.csv()),
            ("paths.csv", report::paths_csv(&r.outcomes)),
            ("days.csv", r.fan.csv()),
        ];
        report::write_files(dir, &files).map_err(|e| format!("--csv {}: {e}", dir.display()))?;
    }
    if let Some(file) = &args.chart {
        let finals: Vec<f64> = r.outcomes.iter().map(|o: &Outcome| o.final_value).collect();
        let title = format!(
            "{} {} on {}, {} paths × {} days ({}, fitted {}..{})",
            pair.name,
            config.strategy.name(),
            chain.name,
            paths,
            args.days,
            r.spec.model.name(),
            r.from,
            r.to
        );
        chart::montecarlo(file, &title, &r.fan, &finals, config.deposit_usd).map_err(|e| format!("--chart: {e}"))?;
    }
    print(&r.summary, args.json)
}

fn print(summary: &Summary, json: bool) -> Result<ExitCode, String> {
    use std::io::Write;
    let text =
        if json { serde_json::to_string_pretty(summary).map_err(|e| e.to_string())? + "\n" } else { summary.table() };
    let mut out = std::io::stdout().lock();
    // A closed stdout (`| head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}
