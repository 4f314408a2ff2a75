//! What the demo world holds: chains, tokens, the exchange's pools, the protocols and their
//! farms and staking pools, the other depositors, and the rug schedule.

use crate::build::{Builder, fail, units};
use crate::{ApplyError, Role, Scheduled, Seed, World};
use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::{Action, Outcome, SystemOp, U256};
use granary_hub::metadata::{Audit, Incident, IncidentKind, ObjectRef, ProtocolInfo, ProtocolRegistry};
use std::collections::BTreeMap;

/// Unix time of chain time 0: 2024-02-12 00:00 UTC, the last close of the shipped price data.
pub const GENESIS_UNIX: i64 = 1_707_696_000;
const DAY: u64 = 86_400;
const YEAR_S: f64 = 365.0 * 86_400.0;
/// Two days: the honest farms' timelock, and how long the seeding waits before running what it queued.
const TIMELOCK_S: u64 = 2 * DAY;
/// Hours of trading on the exchange after the deposits, one block of swaps an hour.
const TRADING_HOURS: u64 = 24;
/// Chain time at which the seeding ends on every chain.
pub const SEED_END: u64 = TIMELOCK_S + TRADING_HOURS * 3_600;
/// Chain time of the rug: the migrator is set three days after the seeding ends.
const RUG_AT: u64 = SEED_END + 3 * DAY;

const fn days_ago(d: i64) -> i64 {
    GENESIS_UNIX - d * 86_400
}

struct ChainDef {
    code: &'static str,
    id: &'static str,
    name: &'static str,
    chain_id: u64,
    block_time_s: u64,
    native: &'static str,
    gas_price_wei: u64,
    /// Market tokens: symbol, decimals, USD price.
    tokens: &'static [(&'static str, u8, f64)],
}

const ETH: f64 = 2_640.0;
const BTC: f64 = 49_700.0;

const CHAINS: [ChainDef; 6] = [
    ChainDef {
        code: "eth",
        id: "ethereum",
        name: "Ethereum",
        chain_id: 1,
        block_time_s: 12,
        native: "ETH",
        gas_price_wei: 28_000_000_000,
        tokens: &[("USDC", 6, 1.0), ("USDT", 6, 1.0), ("WETH", 18, ETH), ("WBTC", 8, BTC), ("LINK", 18, 19.6)],
    },
    ChainDef {
        code: "bsc",
        id: "bsc",
        name: "BNB Chain",
        chain_id: 56,
        block_time_s: 3,
        native: "BNB",
        gas_price_wei: 3_000_000_000,
        tokens: &[
            ("USDT", 18, 1.0),
            ("USDC", 18, 1.0),
            ("WBNB", 18, 320.0),
            ("BTCB", 18, BTC),
            ("ETH", 18, ETH),
            ("SOL", 18, 110.0),
        ],
    },
    ChainDef {
        code: "pol",
        id: "polygon",
        name: "Polygon",
        chain_id: 137,
        block_time_s: 2,
        native: "MATIC",
        gas_price_wei: 60_000_000_000,
        tokens: &[("USDC", 6, 1.0), ("USDT", 6, 1.0), ("WMATIC", 18, 0.85), ("WETH", 18, ETH), ("WBTC", 8, BTC)],
    },
    ChainDef {
        code: "arb",
        id: "arbitrum",
        name: "Arbitrum",
        chain_id: 42_161,
        block_time_s: 1,
        native: "ETH",
        gas_price_wei: 10_000_000,
        tokens: &[("USDC", 6, 1.0), ("WETH", 18, ETH), ("WBTC", 8, BTC), ("ARB", 18, 2.0), ("LINK", 18, 19.6)],
    },
    ChainDef {
        code: "base",
        id: "base",
        name: "Base",
        chain_id: 8_453,
        block_time_s: 2,
        native: "ETH",
        gas_price_wei: 5_000_000,
        tokens: &[("USDC", 6, 1.0), ("WETH", 18, ETH), ("DAI", 18, 1.0), ("WBTC", 8, BTC)],
    },
    ChainDef {
        code: "avax",
        id: "avalanche",
        name: "Avalanche",
        chain_id: 43_114,
        block_time_s: 2,
        native: "AVAX",
        gas_price_wei: 25_000_000_000,
        tokens: &[("USDC", 6, 1.0), ("USDT", 6, 1.0), ("WAVAX", 18, 36.0), ("WETH.e", 18, ETH), ("BTC.b", 8, BTC)],
    },
];

/// The exchange's pools: chain, the two tokens, depth in USD.
const MILLSTONE_POOLS: &[(&str, &str, &str, f64)] = &[
    ("eth", "WETH", "USDC", 42e6),
    ("eth", "WBTC", "WETH", 26e6),
    ("eth", "WETH", "USDT", 18e6),
    ("eth", "LINK", "WETH", 7.5e6),
    ("eth", "USDC", "USDT", 14e6),
    ("bsc", "WBNB", "USDT", 31e6),
    ("bsc", "BTCB", "WBNB", 12e6),
    ("bsc", "ETH", "WBNB", 9.5e6),
    ("bsc", "SOL", "WBNB", 3.8e6),
    ("bsc", "USDT", "USDC", 11e6),
    ("pol", "WMATIC", "USDC", 7.8e6),
    ("pol", "WETH", "USDC", 9.6e6),
    ("pol", "WBTC", "WETH", 4.7e6),
    ("pol", "USDC", "USDT", 5.5e6),
    ("arb", "WETH", "USDC", 24e6),
    ("arb", "WBTC", "WETH", 9.8e6),
    ("arb", "ARB", "WETH", 8.2e6),
    ("arb", "ARB", "USDC", 4.6e6),
    ("arb", "LINK", "WETH", 2.9e6),
    ("base", "WETH", "USDC", 19e6),
    ("base", "DAI", "USDC", 4.8e6),
    ("base", "WBTC", "WETH", 2.7e6),
    ("avax", "WAVAX", "USDC", 12e6),
    ("avax", "WETH.e", "WAVAX", 4.1e6),
    ("avax", "BTC.b", "WAVAX", 3.9e6),
    ("avax", "USDC", "USDT", 4.9e6),
];

const LPS: usize = 9;
const TRADER: &str = "trader";
const DEPOSITORS: usize = 14;

fn tok(code: &str, sym: &str) -> String {
    format!("{code}-{sym}")
}

fn ms_pool(code: &str, a: &str, b: &str) -> String {
    format!("ms-{code}-{a}-{b}")
}

fn lp_name(i: usize) -> String {
    format!("lp-{:02}", i + 1)
}

fn depositor_name(i: usize) -> String {
    format!("depositor-{:02}", i + 1)
}

fn chain_of(code: &str) -> Result<&'static ChainDef, ApplyError> {
    CHAINS.iter().find(|c| c.code == code).ok_or_else(|| fail(format!("unknown chain code {code}")))
}

/// A protocol's deployer name.
fn deployer(protocol: &str) -> String {
    format!("{}-deployer", protocol.to_ascii_lowercase())
}

struct Ctx {
    b: Builder,
    prices: BTreeMap<String, f64>,
    registry: ProtocolRegistry,
    projects: BTreeMap<String, String>,
    /// Farm admin actions queued behind a timelock: (deployer, farm, queue id).
    queued: Vec<(String, String, u64)>,
    /// Stakes of the other depositors made after the timelock wait: (farm pool, stake token, USD).
    deposits: Vec<(String, String, f64)>,
    next_depositor: usize,
}

impl Ctx {
    fn price(&self, token: &str) -> Result<f64, ApplyError> {
        self.prices.get(token).copied().ok_or_else(|| fail(format!("no price for {token}")))
    }

    fn usd_units(&self, token: &str, usd: f64) -> Result<U256, ApplyError> {
        let p = self.price(token)?;
        Ok(units(usd / p, self.b.token_decimals(token)?))
    }

    fn pool_tokens(&self, pool: &str) -> Result<[String; 2], ApplyError> {
        let e = &self.b.engine;
        let p = e.pool(e.pool_ix(pool).map_err(|e| fail(e.to_string()))?);
        Ok([e.token(p.tokens[0]).id.clone(), e.token(p.tokens[1]).id.clone()])
    }

    /// `who` adds `usd` of liquidity to `pool` (half each side, at the world's prices); returns the LP minted.
    fn add_liquidity(&mut self, who: &str, pool: &str, usd: f64) -> Result<U256, ApplyError> {
        let [a, b] = self.pool_tokens(pool)?;
        let amounts = [self.usd_units(&a, usd / 2.0)?, self.usd_units(&b, usd / 2.0)?];
        self.b.give(&a, who, amounts[0])?;
        self.b.give(&b, who, amounts[1])?;
        let out =
            self.b.tx(who, Action::AddLiquidity { pool: pool.to_string(), amounts, min: [U256::ZERO, U256::ZERO] })?;
        match out {
            Outcome::Liquidity { liquidity, .. } => Ok(liquidity),
            _ => Err(fail(format!("add_liquidity to {pool} minted nothing"))),
        }
    }

    fn create_pool(&mut self, who: &str, id: &str, a: &str, b: &str, project: &str) -> Result<(), ApplyError> {
        self.b
            .tx(who, Action::CreatePool { id: id.to_string(), tokens: [a.to_string(), b.to_string()], fee_bps: 30 })?;
        self.projects.insert(id.to_string(), project.to_string());
        Ok(())
    }

    /// A protocol's own token: deployed by its deployer with the whole supply, priced by a pool
    /// against `pair` that the deployer seeds with `depth_usd`.
    #[allow(clippy::too_many_arguments)]
    fn protocol_token(
        &mut self,
        protocol: &str,
        code: &str,
        sym: &str,
        fixed: bool,
        supply: f64,
        price: f64,
        pair: &str,
        depth_usd: f64,
    ) -> Result<String, ApplyError> {
        let chain = chain_of(code)?;
        let dep = deployer(protocol);
        let id = tok(code, sym);
        if fixed {
            // Fixed supply, already spread among holders at genesis; what the protocol itself
            // needs (its liquidity, its reward budgets) is minted to it as it needs it.
            self.b.sys(SystemOp::CreateToken {
                id: id.clone(),
                chain: chain.id.to_string(),
                symbol: sym.to_string(),
                decimals: 18,
                minter: None,
            })?;
            let holders: Vec<String> = (0..LPS).map(lp_name).chain((0..DEPOSITORS).map(depositor_name)).collect();
            for who in &holders {
                let amount = units(supply / holders.len() as f64 * self.b.jitter(0.5, 1.5), 18);
                self.b.give(&id, who, amount)?;
            }
        } else {
            // Deployed by the team with the whole supply in its hands (minter: the deployer).
            self.b.tx(
                &dep,
                Action::CreateToken {
                    id: id.clone(),
                    chain_id: chain.chain_id,
                    symbol: sym.to_string(),
                    decimals: 18,
                    initial_supply: units(supply, 18),
                },
            )?;
            self.b.token_owner.insert(id.clone(), dep.clone());
        }
        self.prices.insert(id.clone(), price);
        let pair_id = tok(code, pair);
        let pool = format!("{}-{code}-{sym}-{pair}", protocol.to_ascii_lowercase());
        self.create_pool(&dep, &pool, &id, &pair_id, protocol)?;
        if fixed {
            // Protocol-owned liquidity is a third of the pool; the market provides the rest.
            self.add_liquidity(&dep, &pool, depth_usd / 3.0)?;
            for i in 0..LPS {
                let usd = depth_usd * 2.0 / 3.0 / LPS as f64 * self.b.jitter(0.6, 1.4);
                self.add_liquidity(&lp_name(i), &pool, usd)?;
            }
        } else {
            self.add_liquidity(&dep, &pool, depth_usd)?;
        }
        Ok(id)
    }

    /// A farm paying `reward` at the rate that gives about `apr` to `staked_usd` of deposits.
    #[allow(clippy::too_many_arguments)]
    fn farm(
        &mut self,
        protocol: &str,
        id: &str,
        reward: &str,
        staked_usd: f64,
        apr: f64,
        funding: Funding,
        timelock_delay_s: u64,
    ) -> Result<U256, ApplyError> {
        let dep = deployer(protocol);
        let per_second = apr * staked_usd / self.price(reward)? / YEAR_S;
        let rps = units(per_second, self.b.token_decimals(reward)?);
        self.b.tx(
            &dep,
            Action::CreateFarm {
                id: id.to_string(),
                reward_token: reward.to_string(),
                reward_per_second: rps,
                start: 0,
                end: None,
                funding,
                timelock_delay_s,
            },
        )?;
        self.projects.insert(id.to_string(), protocol.to_string());
        if funding == Funding::Budget {
            // A year of emissions up front.
            let budget = rps * U256::from(365 * DAY);
            if self.b.token_owner.get(reward) != Some(&dep) {
                self.b.give(reward, &dep, budget)?;
            }
            self.b.tx(&dep, Action::FundFarm { farm: id.to_string(), amount: budget })?;
        }
        Ok(rps)
    }

    /// Add a farm pool (queued behind the timelock when the farm has one) and plan `tvl_usd` of
    /// deposits by the other depositors once it is live.
    #[allow(clippy::too_many_arguments)]
    fn farm_pool(
        &mut self,
        protocol: &str,
        farm: &str,
        id: &str,
        stake_token: &str,
        alloc_point: u64,
        deposit_fee_bps: u32,
        tvl_usd: f64,
    ) -> Result<(), ApplyError> {
        let dep = deployer(protocol);
        let add = Action::AddFarmPool {
            id: id.to_string(),
            farm: farm.to_string(),
            stake_token: stake_token.to_string(),
            alloc_point,
            deposit_fee_bps,
        };
        let e = &self.b.engine;
        let timelocked = e.farm_ix(farm).map(|f| e.farm(f).timelock_delay_s > 0).unwrap_or(false);
        if timelocked {
            let out = self.b.tx(&dep, Action::QueueAdmin { farm: farm.to_string(), action: Box::new(add) })?;
            if let Outcome::Queued { queue_id, .. } = out {
                self.queued.push((dep, farm.to_string(), queue_id));
            }
        } else {
            self.b.tx(&dep, add)?;
        }
        self.deposits.push((id.to_string(), stake_token.to_string(), tvl_usd));
        Ok(())
    }

    /// The next `n` depositors, in rotation.
    fn depositors(&mut self, n: usize) -> Vec<String> {
        let out = (0..n).map(|k| depositor_name((self.next_depositor + k) % DEPOSITORS)).collect();
        self.next_depositor = (self.next_depositor + 5) % DEPOSITORS;
        out
    }

    /// The other depositors put `tvl_usd` into farm pool `fp` (LP they mint first, or the token).
    fn fill_farm_pool(&mut self, fp: &str, stake_token: &str, tvl_usd: f64) -> Result<(), ApplyError> {
        let is_lp = self.b.engine.pool_ix(stake_token).is_ok();
        for who in self.depositors(7) {
            let usd = tvl_usd / 7.0 * self.b.jitter(0.55, 1.45);
            let amount = if is_lp {
                self.add_liquidity(&who, stake_token, usd)?
            } else {
                let amount = self.usd_units(stake_token, usd)?;
                self.b.give(stake_token, &who, amount)?;
                amount
            };
            self.b.tx(&who, Action::Deposit { farm_pool: fp.to_string(), amount })?;
        }
        Ok(())
    }

    /// A staking pool with lock terms, funded for `period_days` at about `apr` on `tvl_usd`, and
    /// the other depositors' stakes spread over its terms.
    #[allow(clippy::too_many_arguments)]
    fn staking_pool(
        &mut self,
        protocol: &str,
        id: &str,
        stake: &str,
        reward: &str,
        terms: &[(u32, u32)],
        early_exit: EarlyExit,
        tvl_usd: f64,
        apr: f64,
        period_days: u64,
    ) -> Result<(), ApplyError> {
        let dep = deployer(protocol);
        let terms: Vec<Term> = terms.iter().map(|&(days, boost_bps)| Term { days, boost_bps }).collect();
        self.b.tx(
            &dep,
            Action::CreateStakingPool {
                id: id.to_string(),
                stake_token: stake.to_string(),
                reward_token: reward.to_string(),
                terms: terms.clone(),
                early_exit,
            },
        )?;
        self.projects.insert(id.to_string(), protocol.to_string());
        let reward_usd = apr * tvl_usd * period_days as f64 / 365.0;
        let amount = self.usd_units(reward, reward_usd)?;
        if self.b.token_owner.get(reward) != Some(&dep) {
            self.b.give(reward, &dep, amount)?;
        }
        self.b
            .tx(&dep, Action::NotifyReward { staking_pool: id.to_string(), amount, duration_s: period_days * DAY })?;
        let per_term = tvl_usd / terms.len() as f64;
        for t in &terms {
            for who in self.depositors(3) {
                let usd = per_term / 3.0 * self.b.jitter(0.5, 1.5);
                let amount = self.usd_units(stake, usd)?;
                self.b.give(stake, &who, amount)?;
                self.b.tx(&who, Action::Stake { staking_pool: id.to_string(), amount, term_days: t.days })?;
            }
        }
        Ok(())
    }

    /// The trader swaps a small share of one side's reserve through `pool` and swaps the output back.
    fn round_trip(&mut self, pool: &str) -> Result<(), ApplyError> {
        let e = &self.b.engine;
        let reserves = e.pool(e.pool_ix(pool).map_err(|e| fail(e.to_string()))?).reserves;
        let side = usize::from(self.b.jitter(0.0, 1.0) < 0.5);
        let reserve = reserves[side];
        let [a, b] = self.pool_tokens(pool)?;
        let (tin, tout) = if side == 0 { (a, b) } else { (b, a) };
        // 0.1–0.4 % of the reserve each way.
        let share = (self.b.jitter(0.001, 0.004) * 1e6) as u64;
        let amount_in = reserve * U256::from(share) / U256::from(1_000_000u64);
        if amount_in.is_zero() {
            return Ok(());
        }
        self.b.give(&tin, TRADER, amount_in)?;
        let path = vec![pool.to_string()];
        let out = self
            .b
            .tx(TRADER, Action::SwapExactIn { path: path.clone(), token_in: tin, amount_in, min_out: U256::ZERO })?;
        if let Outcome::Swapped { amount_out, .. } = out {
            self.b
                .tx(TRADER, Action::SwapExactIn { path, token_in: tout, amount_in: amount_out, min_out: U256::ZERO })?;
        }
        Ok(())
    }

    fn protocol(&mut self, info: ProtocolInfo) -> Result<(), ApplyError> {
        let name = info.name.clone();
        let addr = self.b.address(&deployer(&name))?;
        self.registry.insert(info);
        self.registry.assign(ObjectRef::Owner(addr), &name);
        Ok(())
    }

    fn advance_all(&mut self, seconds: u64) -> Result<(), ApplyError> {
        for c in &CHAINS {
            self.b.sys(SystemOp::Advance { chain: c.id.to_string(), seconds })?;
        }
        Ok(())
    }
}

fn audit(auditor: &str, date_unix: i64, scope: &str) -> Audit {
    Audit { auditor: auditor.to_string(), date_unix, scope: scope.to_string() }
}

const PROTOCOLS: [&str; 8] =
    ["Millstone", "Threshing", "Haybale", "Granite", "Orchard", "Silt", "Mooncrop", "Hyperyield"];

pub(crate) fn build(seed: u64) -> Result<World, ApplyError> {
    let mut cx = Ctx {
        b: Builder::new(seed),
        prices: BTreeMap::new(),
        registry: ProtocolRegistry::new(),
        projects: BTreeMap::new(),
        queued: Vec::new(),
        deposits: Vec::new(),
        next_depositor: 0,
    };

    // ----- actors -----
    for p in PROTOCOLS {
        cx.b.actor(&deployer(p), Role::Deployer, Some(p));
    }
    cx.b.actor("mooncrop-migrator", Role::Migrator, Some("Mooncrop"));
    cx.b.actor(TRADER, Role::Trader, None);
    // The live market's traders (crate::market); they take no part in the seeding.
    cx.b.actor(crate::market::ARBITRAGEUR, Role::Trader, None);
    for name in crate::market::NOISE_TRADERS {
        cx.b.actor(name, Role::Trader, None);
    }
    for i in 0..LPS {
        cx.b.actor(&lp_name(i), Role::LiquidityProvider, None);
    }
    for i in 0..DEPOSITORS {
        cx.b.actor(&depositor_name(i), Role::Depositor, None);
    }

    // ----- chains and market tokens -----
    for c in &CHAINS {
        cx.b.sys(SystemOp::CreateChain {
            id: c.id.to_string(),
            chain_id: c.chain_id,
            name: c.name.to_string(),
            block_time_s: c.block_time_s,
        })?;
        cx.b.sys(SystemOp::SetGasModel {
            chain: c.id.to_string(),
            native_symbol: c.native.to_string(),
            gas_price_wei: U256::from(c.gas_price_wei),
        })?;
        for &(sym, decimals, price) in c.tokens {
            let id = tok(c.code, sym);
            cx.b.sys(SystemOp::CreateToken {
                id: id.clone(),
                chain: c.id.to_string(),
                symbol: sym.to_string(),
                decimals,
                minter: None,
            })?;
            cx.prices.insert(id, price);
        }
    }

    // ----- Millstone: the exchange on every chain -----
    cx.protocol(ProtocolInfo {
        name: "Millstone".into(),
        audits: vec![
            audit("Quarry Security", days_ago(1_150), "pair, factory, router"),
            audit("Northgate Labs", days_ago(210), "v2 factory and router on L2s"),
        ],
        launched_at_unix: Some(days_ago(1_200)),
        website: Some("https://millstone.example".into()),
        notes: Some("constant-product exchange on six chains; fee switch held by a governance timelock".into()),
        ..Default::default()
    })?;
    let ms = deployer("Millstone");
    for &(code, a, b, depth) in MILLSTONE_POOLS {
        let id = ms_pool(code, a, b);
        cx.create_pool(&ms, &id, &tok(code, a), &tok(code, b), "Millstone")?;
        for i in 0..LPS {
            let share = depth / LPS as f64 * cx.b.jitter(0.6, 1.4);
            cx.add_liquidity(&lp_name(i), &id, share)?;
        }
    }

    // ----- Threshing: budget-funded LP farms on Ethereum and Arbitrum, 48 h timelock -----
    cx.protocol(ProtocolInfo {
        name: "Threshing".into(),
        audits: vec![
            audit("Quarry Security", days_ago(240), "MasterChef, Timelock, THR"),
            audit("Ledgerline", days_ago(95), "Arbitrum deployment"),
        ],
        launched_at_unix: Some(days_ago(1_050)),
        website: Some("https://threshing.example".into()),
        ..Default::default()
    })?;
    let thr = cx.protocol_token("Threshing", "eth", "THR", true, 250e6, 1.25, "WETH", 3.2e6)?;
    cx.farm("Threshing", "threshing-eth", &thr, 22e6, 0.09, Funding::Budget, TIMELOCK_S)?;
    cx.farm_pool("Threshing", "threshing-eth", "thr-eth-0", &ms_pool("eth", "WETH", "USDC"), 40, 0, 9e6)?;
    cx.farm_pool("Threshing", "threshing-eth", "thr-eth-1", &ms_pool("eth", "WBTC", "WETH"), 30, 0, 6e6)?;
    cx.farm_pool("Threshing", "threshing-eth", "thr-eth-2", &ms_pool("eth", "USDC", "USDT"), 10, 0, 5e6)?;
    cx.farm_pool("Threshing", "threshing-eth", "thr-eth-3", "threshing-eth-THR-WETH", 20, 0, 1.2e6)?;
    let thr_arb = cx.protocol_token("Threshing", "arb", "THR", true, 60e6, 1.25, "WETH", 1.4e6)?;
    cx.farm("Threshing", "threshing-arb", &thr_arb, 9e6, 0.12, Funding::Budget, TIMELOCK_S)?;
    cx.farm_pool("Threshing", "threshing-arb", "thr-arb-0", &ms_pool("arb", "WETH", "USDC"), 50, 0, 5e6)?;
    cx.farm_pool("Threshing", "threshing-arb", "thr-arb-1", &ms_pool("arb", "ARB", "WETH"), 30, 0, 2.5e6)?;
    cx.farm_pool("Threshing", "threshing-arb", "thr-arb-2", &ms_pool("arb", "WBTC", "WETH"), 20, 0, 1.5e6)?;

    // ----- Haybale: a minting MasterChef on BNB Chain, 24 h timelock -----
    cx.protocol(ProtocolInfo {
        name: "Haybale".into(),
        audits: vec![audit("Northgate Labs", days_ago(520), "MasterChef, HAY, Timelock")],
        launched_at_unix: Some(days_ago(1_120)),
        website: Some("https://haybale.example".into()),
        incidents: vec![Incident {
            date_unix: days_ago(700),
            kind: IncidentKind::OracleManipulation,
            loss_usd: 310_000.0,
            description: "a vault priced HAY from a thin pool; repaid from the treasury".into(),
        }],
        ..Default::default()
    })?;
    let hay = cx.protocol_token("Haybale", "bsc", "HAY", false, 120e6, 2.4, "WBNB", 4.5e6)?;
    cx.farm("Haybale", "haybale-chef", &hay, 16e6, 0.22, Funding::Minted, DAY)?;
    cx.farm_pool("Haybale", "haybale-chef", "hay-0", &ms_pool("bsc", "WBNB", "USDT"), 30, 0, 6e6)?;
    cx.farm_pool("Haybale", "haybale-chef", "hay-1", &ms_pool("bsc", "BTCB", "WBNB"), 20, 0, 3e6)?;
    cx.farm_pool("Haybale", "haybale-chef", "hay-2", &ms_pool("bsc", "ETH", "WBNB"), 15, 0, 2.4e6)?;
    cx.farm_pool("Haybale", "haybale-chef", "hay-3", "haybale-bsc-HAY-WBNB", 25, 0, 2.2e6)?;
    cx.farm_pool("Haybale", "haybale-chef", "hay-4", &hay, 10, 0, 2.4e6)?;

    // ----- Granite: single-token staking with lock terms on Polygon and Avalanche -----
    cx.protocol(ProtocolInfo {
        name: "Granite".into(),
        audits: vec![audit("Ledgerline", days_ago(300), "StakingRewards with lock terms")],
        launched_at_unix: Some(days_ago(880)),
        website: Some("https://granite.example".into()),
        ..Default::default()
    })?;
    let terms = [(0, 10_000), (30, 12_000), (90, 15_000), (180, 20_000), (365, 30_000)];
    let grnt_pol = cx.protocol_token("Granite", "pol", "GRNT", true, 40e6, 0.62, "WMATIC", 1.8e6)?;
    let penalised = EarlyExit::Penalty { penalty_bps: 1_000, forfeit_rewards: true, to: PenaltyTo::Stakers };
    cx.staking_pool("Granite", "granite-pol", &grnt_pol, &grnt_pol, &terms, penalised, 3.5e6, 0.14, 180)?;
    let grnt_avax = cx.protocol_token("Granite", "avax", "GRNT", true, 25e6, 0.62, "WAVAX", 1.1e6)?;
    let to_treasury = EarlyExit::Penalty { penalty_bps: 2_500, forfeit_rewards: false, to: PenaltyTo::Treasury };
    cx.staking_pool("Granite", "granite-avax", &grnt_avax, &grnt_avax, &terms, to_treasury, 2.2e6, 0.18, 180)?;

    // ----- Orchard: real-yield staking (USDC rewards, no early exit) and a farm on Base -----
    cx.protocol(ProtocolInfo {
        name: "Orchard".into(),
        audits: vec![audit("Quarry Security", days_ago(160), "staking, farm, ORCH")],
        launched_at_unix: Some(days_ago(150)),
        website: Some("https://orchard.example".into()),
        ..Default::default()
    })?;
    let orch = cx.protocol_token("Orchard", "base", "ORCH", true, 30e6, 0.95, "WETH", 2.1e6)?;
    let locked = [(30, 10_000), (90, 13_000), (180, 17_000), (365, 25_000)];
    let usdc_base = tok("base", "USDC");
    cx.staking_pool("Orchard", "orchard-stake", &orch, &usdc_base, &locked, EarlyExit::Forbidden, 2.6e6, 0.11, 90)?;
    cx.farm("Orchard", "orchard-farm", &orch, 5e6, 0.16, Funding::Budget, TIMELOCK_S)?;
    cx.farm_pool("Orchard", "orchard-farm", "orch-0", "orchard-base-ORCH-WETH", 60, 0, 1.6e6)?;
    cx.farm_pool("Orchard", "orchard-farm", "orch-1", &ms_pool("base", "WETH", "USDC"), 40, 0, 3.4e6)?;

    // ----- Silt: an Avalanche farm with a short timelock and an exploit last year -----
    cx.protocol(ProtocolInfo {
        name: "Silt".into(),
        audits: vec![audit("Northgate Labs", days_ago(760), "MasterChef fork")],
        launched_at_unix: Some(days_ago(730)),
        incidents: vec![Incident {
            date_unix: days_ago(210),
            kind: IncidentKind::Exploit,
            loss_usd: 1_200_000.0,
            description: "reentrancy in a zap contract; farm deposits unaffected".into(),
        }],
        website: Some("https://silt.example".into()),
        ..Default::default()
    })?;
    let silt = cx.protocol_token("Silt", "avax", "SILT", true, 80e6, 0.18, "WAVAX", 0.9e6)?;
    cx.farm("Silt", "silt-farm", &silt, 4e6, 0.35, Funding::Budget, 6 * 3_600)?;
    cx.farm_pool("Silt", "silt-farm", "silt-0", &ms_pool("avax", "WAVAX", "USDC"), 40, 50, 2e6)?;
    cx.farm_pool("Silt", "silt-farm", "silt-1", &ms_pool("avax", "BTC.b", "WAVAX"), 20, 50, 0.9e6)?;
    cx.farm_pool("Silt", "silt-farm", "silt-2", "silt-avax-SILT-WAVAX", 40, 0, 0.6e6)?;

    // ----- Mooncrop: a new, unaudited BNB Chain farm; owner mint, no timelock; rugs on schedule -----
    cx.protocol(ProtocolInfo {
        name: "Mooncrop".into(),
        launched_at_unix: Some(days_ago(6)),
        website: Some("https://mooncrop.example".into()),
        notes: Some("anonymous team; contracts unverified".into()),
        ..Default::default()
    })?;
    let moon = cx.protocol_token("Mooncrop", "bsc", "MOON", false, 50e6, 0.08, "WBNB", 0.6e6)?;
    cx.farm("Mooncrop", "mooncrop-chef", &moon, 2.4e6, 6.5, Funding::Minted, 0)?;
    cx.farm_pool("Mooncrop", "mooncrop-chef", "moon-0", "mooncrop-bsc-MOON-WBNB", 40, 0, 0.35e6)?;
    cx.farm_pool("Mooncrop", "mooncrop-chef", "moon-1", &ms_pool("bsc", "WBNB", "USDT"), 35, 400, 1.7e6)?;
    cx.farm_pool("Mooncrop", "mooncrop-chef", "moon-2", &moon, 25, 0, 0.3e6)?;

    // ----- Hyperyield: a reward token emitted many times its supply a year -----
    cx.protocol(ProtocolInfo {
        name: "Hyperyield".into(),
        launched_at_unix: Some(days_ago(20)),
        website: Some("https://hyperyield.example".into()),
        ..Default::default()
    })?;
    let hyper = cx.protocol_token("Hyperyield", "pol", "HYPER", false, 2e6, 0.40, "WMATIC", 0.3e6)?;
    cx.farm("Hyperyield", "hyper-farm", &hyper, 1.2e6, 420.0, Funding::Minted, DAY)?;
    cx.farm_pool("Hyperyield", "hyper-farm", "hyper-0", "hyperyield-pol-HYPER-WMATIC", 50, 0, 0.25e6)?;
    cx.farm_pool("Hyperyield", "hyper-farm", "hyper-1", &ms_pool("pol", "WMATIC", "USDC"), 30, 200, 0.8e6)?;
    cx.farm_pool("Hyperyield", "hyper-farm", "hyper-2", &hyper, 20, 0, 0.15e6)?;

    // ----- wait out the timelocks, run what was queued, then the others deposit -----
    cx.advance_all(TIMELOCK_S)?;
    for (dep, farm, queue_id) in std::mem::take(&mut cx.queued) {
        cx.b.tx(&dep, Action::ExecuteQueued { farm, queue_id })?;
    }
    for (fp, stake, usd) in std::mem::take(&mut cx.deposits) {
        cx.fill_farm_pool(&fp, &stake, usd)?;
    }
    // A day of trading: each hour a trader takes a round trip through every exchange pool, so
    // that the pools have volume and their LPs fees.
    for _ in 0..TRADING_HOURS {
        for &(code, a, b, _) in MILLSTONE_POOLS {
            cx.round_trip(&ms_pool(code, a, b))?;
        }
        cx.advance_all(3_600)?;
    }

    // ----- the schedule: Mooncrop's rug, checked on a copy of the seeded state -----
    let mut future = cx.b.engine.clone();
    let migrator = cx.b.address("mooncrop-migrator")?;
    let mut schedule = Vec::new();
    let set = cx.b.sign(
        &future,
        &deployer("Mooncrop"),
        Action::SetMigrator { farm: "mooncrop-chef".into(), migrator: Some(migrator) },
    );
    let set = Scheduled {
        at: RUG_AT,
        chain: "bsc".into(),
        label: "Mooncrop's owner sets a migrator on its farm".into(),
        step: Seed::Tx(set?),
    };
    set.apply(&mut future).map_err(|e| fail(format!("schedule: {e}")))?;
    schedule.push(set);
    for (k, fp) in ["moon-0", "moon-1", "moon-2"].into_iter().enumerate() {
        let stx = cx.b.sign(&future, "mooncrop-migrator", Action::Migrate { farm_pool: fp.into() })?;
        let s = Scheduled {
            at: RUG_AT + 3_600 + 60 * k as u64,
            chain: "bsc".into(),
            label: format!("the migrator moves every staked token out of {fp}"),
            step: Seed::Tx(stx),
        };
        s.apply(&mut future).map_err(|e| fail(format!("schedule: {e}")))?;
        schedule.push(s);
    }

    Ok(World {
        seed,
        ops: cx.b.ops,
        registry: cx.registry,
        projects: cx.projects,
        actors: cx.b.actors,
        schedule,
        genesis_unix: GENESIS_UNIX,
        prices: cx.prices,
    })
}
