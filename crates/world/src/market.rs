//! The live market of the demo world: what keeps the world moving after the seeding while
//! simulated time runs (`granary up`).
//!
//! [`Market::run`] moves every chain forward in blocks. In each block of each chain, in order:
//!
//! 1. **Scheduled steps** due before the block ends ([`World::schedule`], Mooncrop's rug): the
//!    chain is advanced to the step's time first, then the step (a pre-signed transaction) runs.
//! 2. **Arbitrage.** Every pool of the world whose two tokens have market prices
//!    ([`Market::price_at`]) is moved to the nearer edge of its no-arbitrage band around the
//!    market ratio, `γ·m ≤ y/x ≤ m/γ` with `γ = 1 − fee`, by the exact integer search the lab's
//!    backtest uses ([`granary_lab::arbitrage::to_band_edge`]).
//! 3. **Noise.** Traders who pay the fee take price-neutral round trips: a first leg of a share
//!    of one side's reserve, in a random direction, then the leg that returns the pool to its
//!    price ([`granary_lab::arbitrage::restoring_leg`]). Each pool has its own daily volume of
//!    10–60 % of its liquidity (both legs counted), so its fee APR is about
//!    `fee · share · 365` (11–66 % at a 0.3 % fee), on top of the arbitrage's fees. (Mooncrop's
//!    pool sees none: the market cannot obtain MOON without signing for its deployer.)
//! 4. **Depositor churn.** The world's other depositors leave farm and staking pools (withdraw,
//!    and take their liquidity out of the exchange) and come back (add liquidity and deposit,
//!    or stake) — more often leaving when a pool holds more than the seeding put in, more often
//!    coming when it holds less, so the stakes wander around the seeded level. Nobody deposits
//!    into a farm that has a migrator set.
//! 5. **Reward sales.** Farmers of Hyperyield's inflating farm harvest and sell their HYPER for
//!    WMATIC, so its price decays as its supply balloons.
//! 6. **Reward top-ups.** Protocols notify a new reward period on their staking pools when the
//!    running one ends (the seeding's amount over the seeding's duration), and fund their budget
//!    farms for another year when less than a month of emissions is left, so APRs do not fall to
//!    zero in a long-running demo. In the demo world these are the honest ones (Granite, Orchard,
//!    Threshing, Silt); Mooncrop's and Hyperyield's farms mint their rewards.
//! 7. **One `Advance`** closing the block.
//!
//! Trades run at the chain time the block starts at (its timestamp), against the market price of
//! that time, so after a block every priced pool sits in its band around
//! `price_at(block.timestamp)`. Steps 2–7 of a chain are built on a scratch copy of the engine,
//! each applied as it is built, so every amount, balance and nonce is known to apply in that order
//! (a pool may be traded several times in a block: each trade is sized against the state the
//! previous one left); the whole batch then goes to the [`Ledger`] in one call. A step the scratch
//! refuses is dropped, never sent. If the ledger refuses a step anyway, the market counts it and
//! continues from a fresh copy of the ledger's engine.
//!
//! **Determinism.** Everything is a function of the world, the configuration, the engine's state
//! and the seconds asked for: the randomness is a splitmix64 stream keyed by the world's seed, the
//! chain and the block number; there is no wall clock. The market never signs for an account that
//! sends a scheduled transaction (those are pre-signed with fixed nonces) and reads every nonce
//! from the engine before signing.
//!
//! **Operator steps** (the faucet) are rare: market actors are funded generously the first time a
//! trade needs a token (a quarter of that token's reserves on its chain) and topped up only when a
//! trade would overdraw them. Tokens a farm mints are never faucet-minted (the hub would rightly
//! call that an unscheduled mint): the market actors get them from their protocol's deployer.

use crate::{Role, Scheduled, Seed, World};
use granary_engine::farm::Funding;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::state::{ChainIx, PoolIx, TokenIx};
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, EngineError, Minter, Outcome, SystemOp, Transaction, U256, amm};
use granary_hub::prices::PriceConfig;
use granary_lab::arbitrage::{self, Ratio};
use granary_lab::data;
use granary_lab::date::Date;
use granary_lab::prices::{DailySeries, DataError, read_series_with};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The market's arbitrageur (an actor of the world).
pub const ARBITRAGEUR: &str = "arbitrageur";
/// The market's noise traders (actors of the world); each pool is always traded by the same one.
pub const NOISE_TRADERS: [&str; 2] = ["noise-trader-1", "noise-trader-2"];
/// Farms whose farmers harvest and sell every reward they get.
pub const SELL_REWARDS: [&str; 1] = ["hyper-farm"];

const DAY: u64 = 86_400;
const HOUR: u64 = 3_600;
/// Market transactions expire a day after the block they are built for.
const DEADLINE_S: u64 = DAY;
/// Mean time between two noise round trips in one pool.
const NOISE_EVERY_S: u64 = 2 * HOUR;
/// A pool's daily noise volume, as a share of its liquidity: uniform in this range, per pool
/// (5–30 % a day: 5–33 % fee APR at 0.3 %, the range of busy real V2 pools; arbitrage adds its own).
const NOISE_SHARE: (f64, f64) = (0.05, 0.30);
/// Largest first leg of a round trip, as a share of the reserve it sells into (long blocks).
const MAX_LEG_SHARE: f64 = 0.45;
/// Mean time between two depositor moves in one farm or staking pool.
const CHURN_EVERY_S: u64 = 6 * HOUR;
/// No new stakes in a staking pool holding more than this multiple of the seeded stake.
const STAKE_CAP: f64 = 1.25;
/// Mean time between two harvests of one farmer in one farm pool of a [`SELL_REWARDS`] farm.
const HARVEST_EVERY_S: u64 = 4 * HOUR;
/// A market actor is topped up to this share of the token's reserves on its chain.
const INVENTORY_SHARE: f64 = 0.25;
/// A budget farm with less than this many days of emissions left is funded again ...
const BUDGET_LOW_DAYS: u64 = 30;
/// ... for this many days.
const BUDGET_FUND_DAYS: u64 = 365;

/// Where the market's steps go: a bare engine (tests) or a durable store node (the server).
pub trait Ledger {
    fn engine(&self) -> &Engine;
    /// Apply the steps in order; transactions may be made durable together (group commit).
    /// Inner result per step: Err if the engine refused it (state unchanged). Outer Err: the store
    /// failed, stop.
    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure>;
}

/// The ledger could not record steps (the store failed); the market stops.
#[derive(Debug, Clone)]
pub struct LedgerFailure(pub String);

impl fmt::Display for LedgerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the ledger failed: {}", self.0)
    }
}

impl std::error::Error for LedgerFailure {}

impl Ledger for Engine {
    fn engine(&self) -> &Engine {
        self
    }

    /// [`Seed::apply`] for each step; a bare engine never fails as a store.
    fn apply(&mut self, steps: Vec<Seed>) -> Result<Vec<Result<(), EngineError>>, LedgerFailure> {
        Ok(steps.iter().map(|s| s.apply(self)).collect())
    }
}

/// What the market replays and how it cuts time.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// Days of real closes replayed: chain day 0 maps to `from`; default: the 365 days ending
    /// 2022-02-13, the last close every shipped series but ARB's has.
    pub from: Date,
    pub to: Date,
    /// Start again at `from` after `to` (default true); else hold the last close.
    pub looped: bool,
    /// Longest block: a run of many seconds is cut into blocks of at most this (default 3600).
    pub max_block_s: u64,
}

/// 2022-02-13 as days since 1970-01-01.
const DEFAULT_WINDOW_END_DAYS: i32 = 19_036;

impl Default for MarketConfig {
    fn default() -> Self {
        // 2022-02-13 is the last close that every shipped series but ARB's has (LINK, MATIC,
        // AVAX and the DeFi tokens end there): the year before it moves every market token.
        let to = Date::from_days_since_epoch(DEFAULT_WINDOW_END_DAYS);
        MarketConfig {
            from: Date::from_days_since_epoch(to.days_since_epoch() - 364),
            to,
            looped: true,
            max_block_s: 3_600,
        }
    }
}

/// Why a market could not be made.
#[derive(Debug)]
pub enum MarketError {
    /// A price series the world's tokens follow is missing or invalid.
    Data(DataError),
    /// The configuration cannot be run (with what to change).
    Config(String),
    /// The world lacks something the market needs (an actor, a token's price).
    World(String),
}

impl fmt::Display for MarketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarketError::Data(e) => write!(f, "market price data: {e}"),
            MarketError::Config(m) => write!(f, "market configuration: {m}"),
            MarketError::World(m) => write!(f, "market world: {m}"),
        }
    }
}

impl std::error::Error for MarketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MarketError::Data(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DataError> for MarketError {
    fn from(e: DataError) -> Self {
        MarketError::Data(e)
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Every block closed, in order (scheduled steps' advances included).
    pub blocks: Vec<BlockClosed>,
    /// Every swap the market made.
    pub fills: Vec<Fill>,
    /// Labels of the scheduled steps carried out.
    pub scheduled: Vec<String>,
    /// Steps the engine refused (market steps and scheduled steps): should stay 0 in tests.
    pub refused: usize,
}

/// A block the run closed: its chain id, number and timestamp (the chain time its steps ran at).
#[derive(Debug, Clone)]
pub struct BlockClosed {
    pub chain: String,
    pub number: u64,
    pub timestamp: u64,
}

/// Why the market swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillReason {
    Arbitrage,
    Noise,
    RewardSale,
}

/// One swap the market made.
#[derive(Debug, Clone)]
pub struct Fill {
    pub chain: String,
    pub pool: String,
    pub trader: Address,
    pub token_in: String,
    pub amount_in: U256,
    pub token_out: String,
    pub amount_out: U256,
    pub reason: FillReason,
    pub timestamp: u64,
}

/// How a token's market price is made.
#[derive(Debug, Clone)]
enum Track {
    /// A stablecoin: 1.0.
    Stable,
    /// Its world price at chain time 0 times the series' close relative to the window's first.
    Series { genesis_usd: f64, closes: Vec<f64> },
}

/// The world's live market. See the module docs.
pub struct Market {
    config: MarketConfig,
    seed: u64,
    /// Market price track by token id.
    tracks: BTreeMap<String, Track>,
    /// (token id, symbol) of the tracked tokens, in the world's creation order.
    symbols: Vec<(String, String)>,
    /// Why a world token follows no series, by token id.
    without_series: BTreeMap<String, String>,
    /// The world's pools, in creation order.
    pools: Vec<String>,
    /// Stake-token units the seeding deposited, by farm pool.
    farm_anchor: BTreeMap<String, U256>,
    /// Stake the seeding put in, and in how many positions, by staking pool.
    stake_anchor: BTreeMap<String, (U256, usize)>,
    /// The seeding's reward notification (amount, duration), by staking pool.
    notify: BTreeMap<String, (U256, u64)>,
    /// The accounts the market may sign for.
    keys: BTreeMap<Address, SecretKey>,
    arbitrageur: Address,
    noise: [Address; 2],
    depositors: Vec<Address>,
    schedule: Vec<Scheduled>,
}

impl fmt::Debug for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Market")
            .field("config", &self.config)
            .field("seed", &self.seed)
            .field("tracked", &self.tracks.keys().collect::<Vec<_>>())
            .field("without_series", &self.without_series)
            .field("pools", &self.pools.len())
            .field("accounts", &self.keys.len())
            .finish()
    }
}

/// Which real series a market token follows, by symbol: wrapped and bridged assets follow the
/// asset they stand for.
const SERIES: [(&str, &str); 11] = [
    ("ETH", "ETH"),
    ("WETH", "ETH"),
    ("WETH.e", "ETH"),
    ("WBTC", "BTC"),
    ("BTCB", "BTC"),
    ("BTC.b", "BTC"),
    ("WBNB", "BNB"),
    ("SOL", "SOL"),
    ("LINK", "LINK"),
    ("WMATIC", "MATIC"),
    ("WAVAX", "AVAX"),
];

/// Read `SYMBOL.csv` from `dir` with the gap policy the shipped data needs
/// ([`data::policy_for`]), as [`data::load`] does for the default folder.
fn load_series(dir: &Path, symbol: &str) -> Result<DailySeries, DataError> {
    let path = dir.join(format!("{symbol}.csv"));
    if !path.is_file() {
        return Err(DataError::NoSuchSeries { symbol: symbol.to_string(), dir: dir.to_path_buf() });
    }
    read_series_with(path, data::policy_for(symbol))
}

impl Market {
    /// Load the price series the world's tokens follow. Error (not panic) if data is
    /// missing/invalid. Reads `data/prices` (or `GRANARY_PRICE_DATA`, see [`data::dir`]).
    pub fn new(world: &World, config: MarketConfig) -> Result<Market, MarketError> {
        Market::with_data_dir(world, config, &data::dir())
    }

    /// [`Market::new`] reading the price files from `dir`.
    ///
    /// Every series a world token maps to must load (a missing or invalid file is an error). A
    /// token whose series does not cover the whole window `from..=to` follows no series
    /// ([`Market::without_series`]): with the default window that is only ARB, which has no shipped
    /// series. At least one token must follow a series.
    pub fn with_data_dir(world: &World, config: MarketConfig, dir: &Path) -> Result<Market, MarketError> {
        if config.from > config.to {
            return Err(MarketError::Config(format!(
                "the window {}..={} starts after it ends; swap from and to",
                config.from, config.to
            )));
        }
        if config.max_block_s == 0 {
            return Err(MarketError::Config("max_block_s is 0; a block lasts at least one second".into()));
        }
        let days = usize::try_from(config.to.days_after(config.from) + 1)
            .map_err(|_| MarketError::Config("the window is too long".into()))?;
        let stable = PriceConfig::default().stable_symbols;

        // The world's tokens, pools, deposits and stakes, from its seeding.
        let mut tokens: Vec<(String, String)> = Vec::new();
        let mut pools = Vec::new();
        let mut farm_anchor: BTreeMap<String, U256> = BTreeMap::new();
        let mut stake_anchor: BTreeMap<String, (U256, usize)> = BTreeMap::new();
        let mut notify = BTreeMap::new();
        for op in &world.ops {
            match op {
                Seed::System(SystemOp::CreateToken { id, symbol, .. }) => tokens.push((id.clone(), symbol.clone())),
                Seed::System(_) => {}
                Seed::Tx(stx) => match &stx.tx.action {
                    Action::CreateToken { id, symbol, .. } => tokens.push((id.clone(), symbol.clone())),
                    Action::CreatePool { id, .. } => pools.push(id.clone()),
                    Action::Deposit { farm_pool, amount } => {
                        let a = farm_anchor.entry(farm_pool.clone()).or_default();
                        *a = a.saturating_add(*amount);
                    }
                    Action::Stake { staking_pool, amount, .. } => {
                        let a = stake_anchor.entry(staking_pool.clone()).or_default();
                        *a = (a.0.saturating_add(*amount), a.1 + 1);
                    }
                    Action::NotifyReward { staking_pool, amount, duration_s } => {
                        notify.insert(staking_pool.clone(), (*amount, *duration_s));
                    }
                    _ => {}
                },
            }
        }

        // Price tracks.
        let mut loaded: BTreeMap<&str, DailySeries> = BTreeMap::new();
        let mut tracks = BTreeMap::new();
        let mut symbols = Vec::new();
        let mut without_series = BTreeMap::new();
        for (id, symbol) in &tokens {
            if stable.iter().any(|s| s.eq_ignore_ascii_case(symbol)) {
                tracks.insert(id.clone(), Track::Stable);
                symbols.push((id.clone(), symbol.clone()));
                continue;
            }
            let Some(&(_, series)) = SERIES.iter().find(|(s, _)| s == symbol) else {
                without_series.insert(id.clone(), format!("no price series is shipped for {symbol}"));
                continue;
            };
            if !loaded.contains_key(series) {
                loaded.insert(series, load_series(dir, series)?);
            }
            let Some(s) = loaded.get(series) else { continue };
            let closes: Vec<f64> = match s.window(config.from, config.to) {
                Ok(points) if points.len() == days => points.iter().map(|p| p.1).collect(),
                Ok(points) => {
                    let why = format!(
                        "{series} has {} closes in {}..={}, not {days}: days are missing",
                        points.len(),
                        config.from,
                        config.to
                    );
                    without_series.insert(id.clone(), why);
                    continue;
                }
                Err(e) => {
                    without_series.insert(id.clone(), e.to_string());
                    continue;
                }
            };
            let genesis_usd = world
                .prices
                .get(id)
                .copied()
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| MarketError::World(format!("the world has no price for {id}")))?;
            tracks.insert(id.clone(), Track::Series { genesis_usd, closes });
            symbols.push((id.clone(), symbol.clone()));
        }
        if !tracks.values().any(|t| matches!(t, Track::Series { .. })) {
            return Err(MarketError::Config(format!(
                "no price series covers {}..={}; choose a window inside the shipped data (ETH, BTC, BNB and SOL \
                 run to 2024-02-13)",
                config.from, config.to
            )));
        }

        // Who the market may sign for: never an account with a scheduled transaction.
        let forbidden: BTreeSet<Address> = world
            .schedule
            .iter()
            .filter_map(|s| match &s.step {
                Seed::Tx(stx) => Some(stx.tx.sender),
                Seed::System(_) => None,
            })
            .collect();
        let mut keys = BTreeMap::new();
        let mut depositors = Vec::new();
        for a in &world.actors {
            if forbidden.contains(&a.address) {
                continue;
            }
            let key = dev_key(&a.name);
            if key_address(&key) != a.address {
                return Err(MarketError::World(format!("actor {}'s address is not its dev key's", a.name)));
            }
            keys.insert(a.address, key);
            if a.role == Role::Depositor {
                depositors.push(a.address);
            }
        }
        let address = |name: &str| {
            world
                .actor(name)
                .filter(|a| keys.contains_key(&a.address))
                .map(|a| a.address)
                .ok_or_else(|| MarketError::World(format!("the world has no actor {name} the market may sign for")))
        };
        let arbitrageur = address(ARBITRAGEUR)?;
        let noise = [address(NOISE_TRADERS[0])?, address(NOISE_TRADERS[1])?];

        Ok(Market {
            config,
            seed: world.seed,
            tracks,
            symbols,
            without_series,
            pools,
            farm_anchor,
            stake_anchor,
            notify,
            keys,
            arbitrageur,
            noise,
            depositors,
            schedule: world.schedule.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// World tokens that follow no real series, by token id, with the reason (no series shipped
    /// for the symbol, or the series does not cover the window). Their prices come from pools.
    pub fn without_series(&self) -> &BTreeMap<String, String> {
        &self.without_series
    }

    /// USD market price of a world token id (e.g. "eth-WETH") at chain time t: its world price
    /// at t=0 times close(day of t)/close(from); stablecoins 1.0; None for tokens with no real
    /// series (protocol tokens, LP tokens).
    ///
    /// With `d = ⌊t/86400⌋`, `φ = (t mod 86400)/86400` and `c[k] = close(from + k)`:
    /// `price(t) = P₀ · (c[d] + (c[d+1] − c[d])·φ) / c[0]` — linear within a day, exactly the
    /// close at each day's start. Past the window the index wraps modulo its length when
    /// `looped` (the last day then runs from `close(to)` back to `close(from)`), else it stays
    /// on the last close.
    pub fn price_at(&self, token_id: &str, t: u64) -> Option<f64> {
        match self.tracks.get(token_id)? {
            Track::Stable => Some(1.0),
            Track::Series { genesis_usd, closes } => {
                let first = *closes.first()?;
                Some(genesis_usd * self.level(closes, t)? / first)
            }
        }
    }

    /// The interpolated close at chain time `t` (see [`Market::price_at`]).
    fn level(&self, closes: &[f64], t: u64) -> Option<f64> {
        let n = closes.len() as u64;
        if n == 0 {
            return None;
        }
        let day = t / DAY;
        let frac = (t % DAY) as f64 / DAY as f64;
        let (i, j) = if self.config.looped {
            (day % n, (day + 1) % n)
        } else {
            (day.min(n - 1), day.saturating_add(1).min(n - 1))
        };
        let (a, b) = (*closes.get(i as usize)?, *closes.get(j as usize)?);
        Some(a + (b - a) * frac)
    }

    /// USD prices by token SYMBOL at chain time t, for the hub's `feeds` (see
    /// `granary_hub::prices::price_book`). Tokens with the same symbol on several chains follow
    /// the same series from the same world price; the first in the world's order is used.
    pub fn feeds_at(&self, t: u64) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (id, symbol) in &self.symbols {
            if out.contains_key(symbol) {
                continue;
            }
            if let Some(p) = self.price_at(id, t) {
                out.insert(symbol.clone(), p);
            }
        }
        out
    }

    /// Move every chain forward by `seconds` of chain time, in blocks of at most `max_block_s`
    /// (every chain to the same chain time). See the module docs for what a block holds.
    ///
    /// Block boundaries are `start + k·max_block_s` (and `start + seconds`), with `start` the
    /// latest chain time of any chain, so two runs of `k·max_block_s` seconds each make the same
    /// blocks as one run of their sum.
    pub fn run(&mut self, ledger: &mut impl Ledger, seconds: u64) -> Result<RunReport, LedgerFailure> {
        let mut report = RunReport::default();
        if seconds == 0 {
            return Ok(report);
        }
        let mut scratch = ledger.engine().clone();
        let chains: Vec<String> = scratch.chains().iter().map(|c| c.id.clone()).collect();
        let start = scratch.chains().iter().map(|c| c.now).max().unwrap_or(0);
        let end = start.saturating_add(seconds);
        let mut boundary = start;
        while boundary < end {
            boundary = boundary.saturating_add(self.config.max_block_s).min(end);
            for chain in &chains {
                self.block(ledger, &mut scratch, chain, boundary, &mut report)?;
            }
        }
        Ok(report)
    }

    /// Whether a scheduled step already ran: a transaction whose sender's nonce has moved past
    /// it, an operator step whose time has passed.
    fn done(engine: &Engine, s: &Scheduled) -> bool {
        match &s.step {
            Seed::Tx(stx) => {
                engine.chain_ix_by_eip155(stx.tx.chain_id).is_ok_and(|c| engine.nonce(c, stx.tx.sender) > stx.tx.nonce)
            }
            Seed::System(_) => engine.chain_ix(&s.chain).is_ok_and(|c| engine.now(c) > s.at),
        }
    }

    /// One block of one chain, ending at chain time `end`.
    fn block(
        &self,
        ledger: &mut impl Ledger,
        scratch: &mut Engine,
        chain: &str,
        end: u64,
        report: &mut RunReport,
    ) -> Result<(), LedgerFailure> {
        let Ok(c) = scratch.chain_ix(chain) else { return Ok(()) };
        if scratch.now(c) >= end {
            return Ok(());
        }
        for s in self.schedule.iter().filter(|s| s.chain == chain && s.at < end) {
            if Market::done(scratch, s) {
                continue;
            }
            let Ok(planned) = s.steps(scratch) else {
                report.refused += 1;
                continue;
            };
            let mut steps = Vec::new();
            let mut ok = true;
            for step in planned {
                let note = match &step {
                    Seed::System(SystemOp::Advance { .. }) => Note::Block(closed(scratch, c)),
                    _ => Note::Plain,
                };
                if step.apply(scratch).is_err() {
                    ok = false;
                    break;
                }
                steps.push((step, note));
            }
            if !ok {
                report.refused += 1;
            }
            let carried = self.commit(ledger, scratch, steps, report)?;
            if ok && carried {
                report.scheduled.push(s.label.clone());
            }
        }
        let mut b = BlockBuilder::new(self, scratch, c, end);
        b.arbitrage();
        b.noise();
        b.churn();
        b.reward_sales();
        b.top_ups();
        b.close();
        let steps = b.steps;
        self.commit(ledger, scratch, steps, report)?;
        Ok(())
    }

    /// Hand `steps` (already applied to `scratch`) to the ledger in one call and record what it
    /// accepted. If it refused any, `scratch` is replaced by a copy of the ledger's engine.
    /// Returns whether every step was accepted.
    fn commit(
        &self,
        ledger: &mut impl Ledger,
        scratch: &mut Engine,
        steps: Vec<(Seed, Note)>,
        report: &mut RunReport,
    ) -> Result<bool, LedgerFailure> {
        if steps.is_empty() {
            return Ok(true);
        }
        let (seeds, notes): (Vec<Seed>, Vec<Note>) = steps.into_iter().unzip();
        let n = seeds.len();
        let results = ledger.apply(seeds)?;
        if results.len() != n {
            return Err(LedgerFailure(format!("the ledger answered {} results for {n} steps", results.len())));
        }
        let mut all = true;
        for (r, note) in results.into_iter().zip(notes) {
            match (r, note) {
                (Ok(()), Note::Block(b)) => report.blocks.push(b),
                (Ok(()), Note::Swap(f)) => report.fills.push(*f),
                (Ok(()), Note::Plain) => {}
                (Err(_), _) => {
                    report.refused += 1;
                    all = false;
                }
            }
        }
        if !all {
            *scratch = ledger.engine().clone();
        }
        Ok(all)
    }

    /// A pool's daily noise volume as a share of its liquidity, fixed per pool and seed.
    fn noise_share(&self, pool: &str) -> f64 {
        let u = unit(mix(&[self.seed, fnv(pool), 0x006e_6f69_7365]));
        NOISE_SHARE.0 + (NOISE_SHARE.1 - NOISE_SHARE.0) * u
    }
}

/// What a built step means for the report once the ledger accepts it.
enum Note {
    Plain,
    Swap(Box<Fill>),
    Block(BlockClosed),
}

fn closed(e: &Engine, c: ChainIx) -> BlockClosed {
    let ch = e.chain(c);
    BlockClosed { chain: ch.id.clone(), number: ch.block_number, timestamp: ch.now }
}

// ----- randomness: splitmix64, keyed, no state outside the block -----

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One 64-bit key from several (order matters).
fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x6772_616e_6172_7921, |acc, p| splitmix(acc ^ p))
}

/// FNV-1a of a string: a stable key for ids (std's hashers are not stable across releases).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A uniform draw in [0, 1) from a key.
fn unit(z: u64) -> f64 {
    (splitmix(z) >> 11) as f64 / (1u64 << 53) as f64
}

/// A splitmix64 stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix(self.0)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

fn to_f64(x: U256) -> f64 {
    x.into()
}

/// `x · share`, with the share resolved to 10⁻⁹ (floored).
fn share_of(x: U256, share: f64) -> U256 {
    let ppb = (share.clamp(0.0, 1.0) * 1e9).round() as u64;
    x.saturating_mul(U256::from(ppb)) / U256::from(1_000_000_000u64)
}

/// The steps of one block of one chain, built on the scratch engine.
struct BlockBuilder<'a> {
    m: &'a Market,
    e: &'a mut Engine,
    chain: ChainIx,
    chain_id: String,
    eip155: u64,
    now: u64,
    end: u64,
    /// Seconds the block lasts.
    dt: u64,
    /// The block's randomness key: world seed, chain, block number.
    key: u64,
    steps: Vec<(Seed, Note)>,
}

impl<'a> BlockBuilder<'a> {
    fn new(m: &'a Market, e: &'a mut Engine, chain: ChainIx, end: u64) -> Self {
        let ch = e.chain(chain);
        let (chain_id, eip155, now, number) = (ch.id.clone(), ch.chain_id, ch.now, ch.block_number);
        let key = mix(&[m.seed, fnv(&chain_id), number]);
        BlockBuilder { m, e, chain, chain_id, eip155, now, end, dt: end.saturating_sub(now), key, steps: Vec::new() }
    }

    /// A stream for one purpose (`tag`) and one object (`id`) in this block.
    fn rng(&self, tag: u64, id: &str) -> Rng {
        Rng(mix(&[self.key, tag, fnv(id)]))
    }

    /// Probability that an event with mean spacing `every_s` happens in this block.
    fn chance(&self, every_s: u64) -> f64 {
        (self.dt as f64 / every_s as f64).min(1.0)
    }

    /// The world's pools on this chain: (id, index).
    fn pools(&self) -> Vec<(String, PoolIx)> {
        self.m
            .pools
            .iter()
            .filter_map(|id| self.e.pool_ix(id).ok().map(|p| (id.clone(), p)))
            .filter(|(_, p)| self.e.pool(*p).chain == self.chain)
            .collect()
    }

    /// Sign `action` for `who` with its current nonce and apply it to the scratch; keep it if
    /// the scratch accepts it.
    fn tx(&mut self, who: Address, action: Action) -> Option<Outcome> {
        let key = self.m.keys.get(&who)?;
        let tx = Transaction {
            chain_id: self.eip155,
            sender: who,
            nonce: self.e.nonce(self.chain, who),
            deadline: self.now.saturating_add(DEADLINE_S),
            action,
        };
        let stx = tx.sign(key);
        let out = self.e.apply_verified(&stx.clone().assume_verified()).ok()?;
        self.steps.push((Seed::Tx(stx), Note::Plain));
        Some(out)
    }

    fn sys(&mut self, op: SystemOp) -> bool {
        if self.e.apply_system(&op).is_err() {
            return false;
        }
        self.steps.push((Seed::System(op), Note::Plain));
        true
    }

    /// `who` sells `amount` of pool `p`'s token `sell` through it, asking at least the exact
    /// output the pool gives now. Returns the output.
    fn swap(&mut self, who: Address, p: PoolIx, sell: usize, amount: U256, reason: FillReason) -> Option<U256> {
        let pool = self.e.pool(p);
        let expect = amm::get_amount_out(amount, pool.reserves[sell], pool.reserves[1 - sell], pool.fee_bps).ok()?;
        if expect.is_zero() {
            return None;
        }
        let (id, tin, tout) = (pool.id.clone(), pool.tokens[sell], pool.tokens[1 - sell]);
        let (token_in, token_out) = (self.e.token(tin).id.clone(), self.e.token(tout).id.clone());
        let action = Action::SwapExactIn {
            path: vec![id.clone()],
            token_in: token_in.clone(),
            amount_in: amount,
            min_out: expect,
        };
        let Outcome::Swapped { amount_in, amount_out, .. } = self.tx(who, action)? else { return None };
        let fill = Fill {
            chain: self.chain_id.clone(),
            pool: id,
            trader: who,
            token_in,
            amount_in,
            token_out,
            amount_out,
            reason,
            timestamp: self.now,
        };
        if let Some(last) = self.steps.last_mut() {
            last.1 = Note::Swap(Box::new(fill));
        }
        Some(amount_out)
    }

    /// A quarter of the token's reserves over the world's pools on this chain: what a market
    /// actor is topped up to.
    fn inventory(&self, token: TokenIx) -> U256 {
        let mut sum = U256::ZERO;
        for (_, p) in self.pools() {
            let pool = self.e.pool(p);
            if let Some(side) = pool.side_of(token) {
                sum = sum.saturating_add(pool.reserves[side]);
            }
        }
        share_of(sum, INVENTORY_SHARE)
    }

    /// Who can hand out a token the faucet must not mint: a farm-minted token's farm owner, an
    /// account-minted token's minter — if the market may sign for it.
    fn source(&self, token: TokenIx) -> Option<Address> {
        let who = match self.e.token(token).minter {
            Minter::Farm(f) => self.e.farm(f).owner,
            Minter::Account(a) => a,
            Minter::Nobody | Minter::Pool(_) => return None,
        };
        self.m.keys.contains_key(&who).then_some(who)
    }

    /// Whether the market can refill a token at all.
    fn refillable(&self, token: TokenIx) -> bool {
        match self.e.token(token).minter {
            Minter::Nobody => true,
            Minter::Pool(_) => false,
            _ => self.source(token).is_some_and(|s| !self.e.balance(token, s).is_zero()),
        }
    }

    /// Make `who` hold at least `need` of `token`, topping it up to `want` (at least `need`):
    /// the faucet for a fixed-supply token, a transfer from its source for a minted one.
    fn ensure(&mut self, who: Address, token: TokenIx, need: U256, want: U256) -> bool {
        let have = self.e.balance(token, who);
        if have >= need {
            return true;
        }
        let missing = want.max(need) - have;
        let id = self.e.token(token).id.clone();
        match self.e.token(token).minter {
            Minter::Nobody => self.sys(SystemOp::FaucetMint { token: id, to: who, amount: missing }),
            Minter::Pool(_) => false,
            _ => {
                let Some(from) = self.source(token) else { return false };
                if from == who {
                    return false;
                }
                let amount = missing.min(self.e.balance(token, from));
                if have.saturating_add(amount) < need || amount.is_zero() {
                    return false;
                }
                self.tx(from, Action::Transfer { token: id, to: who, amount }).is_some()
            }
        }
    }

    /// A market actor's top-up: generous (see [`BlockBuilder::inventory`]), at least twice the need.
    fn stock(&mut self, who: Address, token: TokenIx, need: U256) -> bool {
        let want = self.inventory(token).max(need.saturating_mul(U256::from(2u8)));
        self.ensure(who, token, need, want)
    }

    /// Step 2: every pool whose tokens have market prices to the edge of its band around
    /// `m = (p₀/p₁)·10^(d₁−d₀)` base units of token 1 per base unit of token 0.
    fn arbitrage(&mut self) {
        let arb = self.m.arbitrageur;
        for (_, p) in self.pools() {
            let pool = self.e.pool(p);
            let (t0, t1) = (self.e.token(pool.tokens[0]), self.e.token(pool.tokens[1]));
            let (Some(p0), Some(p1)) = (self.m.price_at(&t0.id, self.now), self.m.price_at(&t1.id, self.now)) else {
                continue;
            };
            let m = p0 / p1 * 10f64.powi(i32::from(t1.decimals) - i32::from(t0.decimals));
            let Some(ratio) = Ratio::from_f64(m) else { continue };
            let Some(trade) = arbitrage::to_band_edge(pool.reserves, pool.fee_bps, ratio) else { continue };
            let token = pool.tokens[trade.sell];
            if self.stock(arb, token, trade.amount) {
                self.swap(arb, p, trade.sell, trade.amount, FillReason::Arbitrage);
            }
        }
    }

    /// Step 3: price-neutral round trips. A pool trades with probability `q = min(1, dt/2h)` per
    /// block; the first leg sells `s·dt/86400/q·U(0.5, 1.5)` of one side's reserve (capped at
    /// 45 %), `s` the pool's daily share, so the expected volume of both legs is `s` of the
    /// liquidity a day.
    fn noise(&mut self) {
        let q = self.chance(NOISE_EVERY_S);
        for (id, p) in self.pools() {
            let mut rng = self.rng(1, &id);
            if rng.unit() >= q {
                continue;
            }
            let share =
                (self.m.noise_share(&id) * self.dt as f64 / DAY as f64 / q * rng.range(0.5, 1.5)).min(MAX_LEG_SHARE);
            let trader = self.m.noise[(fnv(&id) % 2) as usize];
            let pool = self.e.pool(p);
            let tokens = pool.tokens;
            let mut first = rng.below(2);
            if !self.refillable(tokens[first]) {
                first = 1 - first;
            }
            if !self.refillable(tokens[first]) || !self.refillable(tokens[1 - first]) {
                continue;
            }
            let before = pool.reserves;
            let amount = share_of(before[first], share);
            if amount.is_zero() || !self.stock(trader, tokens[first], amount) {
                continue;
            }
            if self.swap(trader, p, first, amount, FillReason::Noise).is_none() {
                continue;
            }
            let now = self.e.pool(p).reserves;
            let back = arbitrage::restoring_leg(before, now, 1 - first, self.e.pool(p).fee_bps);
            if back.is_zero() {
                continue;
            }
            // The return leg needs a little more than the first leg bought (the pool keeps both
            // legs' fees); if no more can be had, sell back what is held.
            let back = if self.stock(trader, tokens[1 - first], back) {
                back
            } else {
                back.min(self.e.balance(tokens[1 - first], trader))
            };
            if !back.is_zero() {
                self.swap(trader, p, 1 - first, back, FillReason::Noise);
            }
        }
    }

    /// Probability of leaving rather than coming: `clamp(½·staked/seeded, 0.1, 0.9)`, so the
    /// stake wanders around what the seeding put in.
    fn leave_probability(staked: U256, anchor: U256) -> f64 {
        if anchor.is_zero() {
            return 0.5;
        }
        (0.5 * to_f64(staked) / to_f64(anchor)).clamp(0.1, 0.9)
    }

    /// Step 4: at most one depositor move per farm or staking pool per block, with probability
    /// `min(1, dt/6h)`.
    fn churn(&mut self) {
        let q = self.chance(CHURN_EVERY_S);
        let farm_pools: Vec<(String, U256)> = self.m.farm_anchor.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (id, anchor) in farm_pools {
            let Ok(fp) = self.e.farm_pool_ix(&id) else { continue };
            if self.e.farm(self.e.farm_pool(fp).farm).chain != self.chain {
                continue;
            }
            let mut rng = self.rng(2, &id);
            if rng.unit() >= q {
                continue;
            }
            let staked = self.e.farm_pool(fp).total_staked;
            if rng.unit() < Self::leave_probability(staked, anchor) {
                self.farm_leave(fp, &mut rng);
            } else {
                self.farm_come(fp, anchor, &mut rng);
            }
        }
        let staking: Vec<(String, (U256, usize))> = self.m.stake_anchor.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (id, (anchor, positions)) in staking {
            let Ok(sp) = self.e.staking_ix(&id) else { continue };
            if self.e.staking_pool(sp).chain != self.chain {
                continue;
            }
            let mut rng = self.rng(3, &id);
            if rng.unit() >= q {
                continue;
            }
            let staked = self.e.staking_pool(sp).total_staked;
            if rng.unit() < Self::leave_probability(staked, anchor) {
                self.unstake_one(sp, &mut rng);
            } else if to_f64(staked) < STAKE_CAP * to_f64(anchor) {
                self.stake_one(sp, anchor, positions, &mut rng);
            }
        }
    }

    /// A depositor takes 30–100 % of its stake out of a farm pool and, for an LP token, out of
    /// the exchange too.
    fn farm_leave(&mut self, fp: usize, rng: &mut Rng) {
        let in_pool: Vec<Address> =
            self.m.depositors.iter().copied().filter(|d| !self.e.farm_user(fp, *d).amount.is_zero()).collect();
        if in_pool.is_empty() {
            return;
        }
        let who = in_pool[rng.below(in_pool.len())];
        let amount = share_of(self.e.farm_user(fp, who).amount, rng.range(0.3, 1.0));
        if amount.is_zero() {
            return;
        }
        let id = self.e.farm_pool(fp).id.clone();
        let stake = self.e.farm_pool(fp).stake_token;
        if self.tx(who, Action::Withdraw { farm_pool: id, amount }).is_none() {
            return;
        }
        if let Minter::Pool(p) = self.e.token(stake).minter {
            let pool = self.e.pool(p).id.clone();
            self.tx(who, Action::RemoveLiquidity { pool, liquidity: amount, min: [U256::ZERO; 2] });
        }
    }

    /// What `who` could stake in farm pool `fp` now: the stake token it holds plus, for an LP
    /// token, the liquidity its balances of the pool's tokens would mint,
    /// `min(b₀·S/r₀, b₁·S/r₁)`.
    fn means(&self, fp: usize, who: Address) -> U256 {
        let stake = self.e.farm_pool(fp).stake_token;
        let held = self.e.balance(stake, who);
        let Minter::Pool(p) = self.e.token(stake).minter else { return held };
        let pool = self.e.pool(p);
        let supply = self.e.token(pool.lp_token).total_supply;
        let mut mint = U256::MAX;
        for i in 0..2 {
            let b = self.e.balance(pool.tokens[i], who);
            mint = mint.min(granary_engine::math::mul_div(b, supply, pool.reserves[i]).unwrap_or_default());
        }
        held.saturating_add(mint)
    }

    /// A depositor with the means comes (back) to a farm pool with up to about a seventh of the
    /// seeded stake (the seeding spread each pool over seven depositors): the LP tokens it holds,
    /// else new liquidity from the tokens it holds, else the stake token itself. Only depositors
    /// who could bring at least a twentieth of that are considered.
    fn farm_come(&mut self, fp: usize, anchor: U256, rng: &mut Rng) {
        let farm = self.e.farm(self.e.farm_pool(fp).farm);
        if farm.migrator.is_some() || farm.paused {
            return;
        }
        let id = self.e.farm_pool(fp).id.clone();
        let stake = self.e.farm_pool(fp).stake_token;
        let target = share_of(anchor, rng.range(0.5, 1.5) / 7.0);
        let floor = target / U256::from(20u8);
        let able: Vec<Address> =
            self.m.depositors.iter().copied().filter(|d| !target.is_zero() && self.means(fp, *d) > floor).collect();
        if able.is_empty() {
            return;
        }
        let who = able[rng.below(able.len())];
        let held = self.e.balance(stake, who);
        let amount = if !held.is_zero() {
            held.min(target)
        } else if let Minter::Pool(p) = self.e.token(stake).minter {
            match self.add_liquidity(who, p, target) {
                Some(l) => l,
                None => return,
            }
        } else {
            return;
        };
        self.tx(who, Action::Deposit { farm_pool: id, amount });
    }

    /// `who` adds liquidity worth about `lp` LP tokens to pool `p` from what it holds; returns
    /// the LP minted. Amounts: `lp·reserve_i/supply` (+1), capped by the balances.
    fn add_liquidity(&mut self, who: Address, p: PoolIx, lp: U256) -> Option<U256> {
        let pool = self.e.pool(p);
        let supply = self.e.token(pool.lp_token).total_supply;
        if supply.is_zero() {
            return None;
        }
        let mut amounts = [U256::ZERO; 2];
        for (i, a) in amounts.iter_mut().enumerate() {
            let want =
                granary_engine::math::mul_div(lp, pool.reserves[i], supply).ok()?.saturating_add(U256::from(1u8));
            *a = want.min(self.e.balance(pool.tokens[i], who));
            if a.is_zero() {
                return None;
            }
        }
        let action = Action::AddLiquidity { pool: pool.id.clone(), amounts, min: [U256::ZERO; 2] };
        match self.tx(who, action)? {
            Outcome::Liquidity { liquidity, .. } => Some(liquidity),
            _ => None,
        }
    }

    /// A depositor closes one of its unlocked positions (never paying an early-exit penalty).
    fn unstake_one(&mut self, sp: usize, rng: &mut Rng) {
        let depositors: BTreeSet<Address> = self.m.depositors.iter().copied().collect();
        let open: Vec<(u64, Address)> = self
            .e
            .positions()
            .filter(|pos| {
                pos.pool == sp && depositors.contains(&pos.owner) && !pos.amount.is_zero() && pos.unlock_at <= self.now
            })
            .map(|pos| (pos.id, pos.owner))
            .collect();
        if open.is_empty() {
            return;
        }
        let (position, who) = open[rng.below(open.len())];
        self.tx(who, Action::Unstake { position });
    }

    /// A depositor who holds at least a twentieth of it stakes up to about an average seeded
    /// position, on a random term.
    fn stake_one(&mut self, sp: usize, anchor: U256, positions: usize, rng: &mut Rng) {
        let pool = self.e.staking_pool(sp);
        let (id, token) = (pool.id.clone(), pool.stake_token);
        let terms: Vec<u32> = pool.terms.iter().map(|t| t.days).collect();
        let target = share_of(anchor, rng.range(0.5, 1.5) / positions.max(1) as f64);
        let term_days = terms.get(rng.below(terms.len())).copied();
        let floor = target / U256::from(20u8);
        let able: Vec<Address> =
            self.m.depositors.iter().copied().filter(|d| self.e.balance(token, *d) > floor).collect();
        let (Some(term_days), false) = (term_days, able.is_empty() || target.is_zero()) else { return };
        let who = able[rng.below(able.len())];
        let amount = target.min(self.e.balance(token, who));
        self.tx(who, Action::Stake { staking_pool: id, amount, term_days });
    }

    /// Step 5: farmers of [`SELL_REWARDS`] farms harvest each of their farm pools with
    /// probability `min(1, dt/4h)` per block and sell what they harvested through the world pool
    /// with the deepest reserve of the reward token. (Rewards paid out by a withdrawal or a
    /// deposit stay in the wallet: that is what a leaver brings back as liquidity.)
    fn reward_sales(&mut self) {
        let q = self.chance(HARVEST_EVERY_S);
        for farm_id in SELL_REWARDS {
            let Ok(f) = self.e.farm_ix(farm_id) else { continue };
            let farm = self.e.farm(f);
            if farm.chain != self.chain {
                continue;
            }
            let (reward, farm_pools) = (farm.reward_token, farm.pools.clone());
            let Some(sale) = self
                .pools()
                .into_iter()
                .filter_map(|(_, p)| self.e.pool(p).side_of(reward).map(|s| (self.e.pool(p).reserves[s], p, s)))
                .max_by_key(|(r, p, _)| (*r, usize::MAX - *p))
            else {
                continue;
            };
            let (_, pool, side) = sale;
            let mut harvested: BTreeMap<Address, U256> = BTreeMap::new();
            for fp in farm_pools {
                let fp_id = self.e.farm_pool(fp).id.clone();
                let mut rng = self.rng(4, &fp_id);
                for who in self.m.depositors.clone() {
                    let draw = rng.unit();
                    if self.e.farm_user(fp, who).amount.is_zero() || draw >= q {
                        continue;
                    }
                    if let Some(Outcome::Reward(pay)) = self.tx(who, Action::Harvest { farm_pool: fp_id.clone() }) {
                        let h = harvested.entry(who).or_default();
                        *h = h.saturating_add(pay.reward);
                    }
                }
            }
            for (who, amount) in harvested {
                let amount = amount.min(self.e.balance(reward, who));
                if !amount.is_zero() {
                    self.swap(who, pool, side, amount, FillReason::RewardSale);
                }
            }
        }
    }

    /// Step 6: honest protocols keep their rewards going. A staking pool whose period ends
    /// before this block does is notified again with the seeding's amount over the seeding's
    /// duration (a leftover rolls into the new rate); a budget farm with less than 30 days of
    /// emissions left (`funded − emitted < 30 d · rate`) is funded for another 365 days.
    fn top_ups(&mut self) {
        for sp in 0..self.e.staking_pools().len() {
            let pool = self.e.staking_pool(sp);
            if pool.chain != self.chain || pool.period_finish >= self.end || !self.m.keys.contains_key(&pool.owner) {
                continue;
            }
            let Some(&(amount, duration_s)) = self.m.notify.get(&pool.id) else { continue };
            let (id, owner, token) = (pool.id.clone(), pool.owner, pool.reward_token);
            if amount.is_zero() || !self.ensure(owner, token, amount, amount) {
                continue;
            }
            self.tx(owner, Action::NotifyReward { staking_pool: id, amount, duration_s });
        }
        for f in 0..self.e.farms().len() {
            let farm = self.e.farm(f);
            if farm.chain != self.chain || farm.funding != Funding::Budget || !self.m.keys.contains_key(&farm.owner) {
                continue;
            }
            let left = farm.reward_reserve.saturating_add(farm.rewards_paid).saturating_sub(farm.rewards_emitted);
            let rate = farm.reward_per_second;
            if rate.is_zero() || left >= rate.saturating_mul(U256::from(BUDGET_LOW_DAYS * DAY)) {
                continue;
            }
            let amount = rate.saturating_mul(U256::from(BUDGET_FUND_DAYS * DAY));
            let (id, owner, token) = (farm.id.clone(), farm.owner, farm.reward_token);
            if self.ensure(owner, token, amount, amount) {
                self.tx(owner, Action::FundFarm { farm: id, amount });
            }
        }
    }

    /// Step 7: close the block and move the clock to its end.
    fn close(&mut self) {
        let note = Note::Block(closed(self.e, self.chain));
        let now = self.e.now(self.chain);
        let op = SystemOp::Advance { chain: self.chain_id.clone(), seconds: self.end.saturating_sub(now) };
        if self.sys(op)
            && let Some(last) = self.steps.last_mut()
        {
            last.1 = note;
        }
    }
}
