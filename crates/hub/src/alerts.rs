//! Rug and exploit alerts, from the engine's state alone, within one block.
//!
//! [`AlertDetector::observe`] is called once per closed block (of any chain). It compares the
//! engine with what it saw at the previous call, and keeps a short history of liquidity per
//! opportunity for windowed checks. Five signals:
//!
//! 1. **Owner pulls liquidity** ([`AlertKind::OwnerPulledLiquidity`]): the LP position of a pool's
//!    insiders — its creator and the owners of farms and staking pools that stake its LP token,
//!    staked LP included — falls by more than [`AlertConfig::owner_pull_share`] of the LP supply,
//!    not counting LP sent to a lock (zero or burn address).
//! 2. **Unscheduled reward-token mint** ([`AlertKind::UnscheduledMint`]): the supply of a token
//!    minted by a farm grows by more than that farm's `rewards_emitted` (its schedule), e.g. an
//!    `OwnerMint`; or an account-minted token that a farm or staking pool pays as its reward grows
//!    by more than [`AlertConfig::account_mint_share`] of its supply.
//! 3. **Migrator** ([`AlertKind::MigratorDrain`], [`AlertKind::MigratorSet`]): a farm holds less of
//!    a stake token than its pools record as staked (plus its reward reserve when the token is also
//!    the reward): tokens left the farm without user withdrawals. A newly set migrator is a warning.
//! 4. **Emission spike** ([`AlertKind::EmissionSpike`]): a farm's `reward_per_second` rises by more
//!    than [`AlertConfig::emission_spike_factor`]; a farm pool's share of it (alloc points) rising
//!    as much is a warning.
//! 5. **TVL drain** ([`AlertKind::TvlDrain`]): a pool's value-neutral liquidity √(reserve0·reserve1)
//!    (swaps cannot lower it, only withdrawals can), or a farm or staking pool's staked total, falls
//!    by more than [`AlertConfig::tvl_drain_share`] from its highest value within
//!    [`AlertConfig::tvl_window_s`] of chain time.
//!
//! Each alert names the opportunities affected (keys as in [`crate::metadata`]) and the positions
//! exposed, with their amounts. The first call only records a baseline; so does the first call
//! that sees a newly created object.
//!
//! **Block and timestamp.** An alert's `block` and `timestamp` are those of the block the change
//! landed in: with one call after each `Engine::advance`, that is the chain's block that was open
//! at the previous call (the one `advance` just sealed). If the chain did not advance since the
//! previous call, they are the open block's.

use crate::metadata::{ObjectRef, farm_pool_key, pool_key, staking_pool_key};
use crate::risk::{
    ProtocolAddresses, StakerIndex, amount_words, duration_words, human, is_lock_address, pct, staking_pool_stakers,
    to_f64,
};
use granary_engine::farm::Funding;
use granary_engine::state::{ChainIx, FarmIx, FarmPoolIx, PoolIx, StakingIx, TokenIx};
use granary_engine::{Address, Engine, Minter, U256};
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    OwnerPulledLiquidity,
    UnscheduledMint,
    MigratorDrain,
    MigratorSet,
    EmissionSpike,
    TvlDrain,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::OwnerPulledLiquidity => "owner_pulled_liquidity",
            AlertKind::UnscheduledMint => "unscheduled_mint",
            AlertKind::MigratorDrain => "migrator_drain",
            AlertKind::MigratorSet => "migrator_set",
            AlertKind::EmissionSpike => "emission_spike",
            AlertKind::TvlDrain => "tvl_drain",
        }
    }
}

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something to watch (a new power, a shift).
    Warning,
    /// Value is at risk or being taken.
    High,
    /// Users' funds or the token's value are being taken now.
    Critical,
}

/// A position exposed to an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// The opportunity the position is in (`pool:P`, `farm_pool:F0`, `staking_pool:S`).
    pub opportunity: String,
    #[serde(serialize_with = "ser_address")]
    pub holder: Address,
    /// In base units of `token` (decimal string in JSON).
    #[serde(serialize_with = "ser_u256")]
    pub amount: U256,
    /// Symbol of the unit of `amount` (the LP token or the staked token).
    pub token: String,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    /// EIP-155 id of the chain.
    pub chain_id: u64,
    /// The block the change landed in (see the module documentation).
    pub block: u64,
    /// That block's timestamp, chain seconds.
    pub timestamp: u64,
    /// The object that did it or suffered it (`pool:P`, `farm:F`, `farm_pool:F0`, …).
    pub subject: String,
    /// What was seen, with figures.
    pub evidence: String,
    /// Opportunities affected.
    pub opportunities: Vec<String>,
    /// Positions exposed: who holds what in the affected opportunities now.
    pub exposed: Vec<Exposure>,
}

fn ser_address<S: Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_string())
}

fn ser_u256<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Thresholds. Every share is a fraction (0.2 = 20 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct AlertConfig {
    /// Insiders' LP position falling by more than this share of the LP supply between two
    /// observations is a liquidity pull. Default 0.20.
    pub owner_pull_share: f64,
    /// A pull of at least this share is critical (else high). Default 0.50.
    pub owner_pull_critical_share: f64,
    /// A farm-minted token's supply growing beyond its farm's schedule by more than this share of
    /// the previous supply is an unscheduled mint. Default 0: any unscheduled mint (a farm's
    /// schedule and its mints match to the wei, so there is no rounding to tolerate).
    pub unscheduled_mint_share: f64,
    /// An unscheduled mint of at least this share of the previous supply is critical. Default 0.10.
    pub mint_critical_share: f64,
    /// An account-minted reward token's supply growing by more than this share is flagged.
    /// Default 0.05 (Beefy SAFU's 5 % rule for one holder).
    pub account_mint_share: f64,
    /// A reward rate multiplied by more than this is a spike. Default 3.0.
    pub emission_spike_factor: f64,
    /// Liquidity or stake falling by more than this share within the window is a drain. Default 0.50.
    pub tvl_drain_share: f64,
    /// A drain of at least this share is critical (else high). Default 0.90.
    pub tvl_drain_critical_share: f64,
    /// The window of chain time for drains, seconds. Default 3600 (one hour).
    pub tvl_window_s: u64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            owner_pull_share: 0.20,
            owner_pull_critical_share: 0.50,
            unscheduled_mint_share: 0.0,
            mint_critical_share: 0.10,
            account_mint_share: 0.05,
            emission_spike_factor: 3.0,
            tvl_drain_share: 0.50,
            tvl_drain_critical_share: 0.90,
            tvl_window_s: 3600,
        }
    }
}

/// Watches the engine block after block.
#[derive(Debug, Clone, Default)]
pub struct AlertDetector {
    pub config: AlertConfig,
    last: Option<Seen>,
    /// (chain seconds, value) per subject key, within the drain window.
    history: BTreeMap<String, VecDeque<(u64, f64)>>,
}

/// What one observation recorded.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// (block number, now) per chain.
    chains: Vec<(u64, u64)>,
    supply: Vec<U256>,
    pools: Vec<PoolSeen>,
    farms: Vec<FarmSeen>,
    /// Effective reward per second of each farm pool (its alloc share of the farm's rate).
    farm_pool_rate: Vec<f64>,
}

#[derive(Debug, Clone, Default)]
struct PoolSeen {
    lp_supply: U256,
    insiders: U256,
    locked: U256,
    liquidity: f64,
}

#[derive(Debug, Clone, Default)]
struct FarmSeen {
    rps: U256,
    emitted: U256,
    migrator: Option<Address>,
    /// Per stake token: what the farm should hold minus what it holds (0 when whole).
    shortfall: BTreeMap<TokenIx, U256>,
}

/// An opportunity, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Opp {
    Pool(PoolIx),
    FarmPool(FarmPoolIx),
    Staking(StakingIx),
}

/// Per-observation lookups.
struct Index {
    farm_pools_by_token: BTreeMap<TokenIx, Vec<FarmPoolIx>>,
    staking_by_token: BTreeMap<TokenIx, Vec<StakingIx>>,
    /// Principal per (staking pool, owner).
    positions: BTreeMap<(StakingIx, Address), U256>,
    protocols: ProtocolAddresses,
}

impl Index {
    fn of(engine: &Engine) -> Self {
        let mut farm_pools_by_token: BTreeMap<TokenIx, Vec<FarmPoolIx>> = BTreeMap::new();
        for (fp, p) in engine.farm_pools().iter().enumerate() {
            farm_pools_by_token.entry(p.stake_token).or_default().push(fp);
        }
        let mut staking_by_token: BTreeMap<TokenIx, Vec<StakingIx>> = BTreeMap::new();
        for (sp, s) in engine.staking_pools().iter().enumerate() {
            staking_by_token.entry(s.stake_token).or_default().push(sp);
        }
        let mut positions: BTreeMap<(StakingIx, Address), U256> = BTreeMap::new();
        for pos in engine.positions() {
            let e = positions.entry((pos.pool, pos.owner)).or_default();
            *e = e.saturating_add(pos.amount);
        }
        Index { farm_pools_by_token, staking_by_token, positions, protocols: ProtocolAddresses::of(engine) }
    }

    fn farm_pools_of(&self, token: TokenIx) -> &[FarmPoolIx] {
        self.farm_pools_by_token.get(&token).map(Vec::as_slice).unwrap_or(&[])
    }

    fn staking_of(&self, token: TokenIx) -> &[StakingIx] {
        self.staking_by_token.get(&token).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The creator of pool `p` and the owners of farms and staking pools that stake its LP token.
    fn insiders(&self, engine: &Engine, p: PoolIx) -> BTreeSet<Address> {
        let pool = engine.pool(p);
        let mut s = BTreeSet::from([pool.creator]);
        for fp in self.farm_pools_of(pool.lp_token) {
            s.insert(engine.farm(engine.farm_pool(*fp).farm).owner);
        }
        for sp in self.staking_of(pool.lp_token) {
            s.insert(engine.staking_pool(*sp).owner);
        }
        s
    }

    /// What `who` holds of `token`, in the wallet and staked in farm and staking pools.
    fn position_in(&self, engine: &Engine, token: TokenIx, who: Address) -> U256 {
        let mut v = engine.balance(token, who);
        for fp in self.farm_pools_of(token) {
            v = v.saturating_add(engine.farm_user(*fp, who).amount);
        }
        for sp in self.staking_of(token) {
            v = v.saturating_add(self.positions.get(&(*sp, who)).copied().unwrap_or_default());
        }
        v
    }
}

/// √(reserve0·reserve1) as a float.
fn liquidity(engine: &Engine, p: PoolIx) -> f64 {
    let r = engine.pool(p).reserves;
    to_f64(r[0]).sqrt() * to_f64(r[1]).sqrt()
}

fn capture(engine: &Engine, index: &Index) -> Seen {
    let chains = engine.chains().iter().map(|c| (c.block_number, c.now)).collect();
    let supply = engine.tokens().iter().map(|t| t.total_supply).collect();
    let pools = (0..engine.pools().len())
        .map(|p| {
            let lp = engine.pool(p).lp_token;
            let insiders = index
                .insiders(engine, p)
                .into_iter()
                .fold(U256::ZERO, |acc, a| acc.saturating_add(index.position_in(engine, lp, a)));
            let locked =
                engine.balance(lp, Address::ZERO).saturating_add(engine.balance(lp, crate::risk::dead_address()));
            PoolSeen { lp_supply: engine.token(lp).total_supply, insiders, locked, liquidity: liquidity(engine, p) }
        })
        .collect();
    let farms = engine
        .farms()
        .iter()
        .map(|f| {
            let mut required: BTreeMap<TokenIx, U256> = BTreeMap::new();
            for fp in &f.pools {
                let p = engine.farm_pool(*fp);
                let e = required.entry(p.stake_token).or_default();
                *e = e.saturating_add(p.total_staked);
            }
            if let Some(e) = required.get_mut(&f.reward_token) {
                *e = e.saturating_add(f.reward_reserve);
            }
            let shortfall =
                required.into_iter().map(|(t, need)| (t, need.saturating_sub(engine.balance(t, f.address)))).collect();
            FarmSeen { rps: f.reward_per_second, emitted: f.rewards_emitted, migrator: f.migrator, shortfall }
        })
        .collect();
    let farm_pool_rate = engine.farm_pools().iter().map(|p| effective_rate(engine, p.farm, p.alloc_point)).collect();
    Seen { chains, supply, pools, farms, farm_pool_rate }
}

/// A farm pool's reward per second now (0 once the farm has ended or has no weight).
fn effective_rate(engine: &Engine, f: FarmIx, alloc_point: u64) -> f64 {
    let farm = engine.farm(f);
    let ended = farm.end.is_some_and(|e| e <= engine.now(farm.chain));
    if ended || farm.total_alloc_point == 0 {
        return 0.0;
    }
    to_f64(farm.reward_per_second) * alloc_point as f64 / farm.total_alloc_point as f64
}

/// The context of one comparison.
struct Ctx<'a> {
    engine: &'a Engine,
    index: &'a Index,
    prev: Option<&'a Seen>,
    now: &'a Seen,
    cfg: &'a AlertConfig,
    /// Farm stakers, read from the state the first time an alert needs them.
    stakers: std::cell::OnceCell<StakerIndex>,
}

impl Ctx<'_> {
    /// (chain id, block, timestamp) of the block a change on `chain` landed in.
    fn stamp(&self, chain: ChainIx) -> (u64, u64, u64) {
        let chain_id = self.engine.chain(chain).chain_id;
        let (block, now) = self.now.chains[chain];
        match self.prev.and_then(|p| p.chains.get(chain)) {
            Some(&(b, t)) if b < block => (chain_id, b, t),
            _ => (chain_id, block, now),
        }
    }

    fn key(&self, o: Opp) -> String {
        match o {
            Opp::Pool(p) => pool_key(self.engine, p),
            Opp::FarmPool(fp) => farm_pool_key(self.engine, fp),
            Opp::Staking(sp) => staking_pool_key(self.engine, sp),
        }
    }

    /// Who holds what in an opportunity now (directly: a pool's LP in wallets, a farm pool's
    /// stakers, a staking pool's position owners).
    fn exposure(&self, o: Opp) -> Vec<Exposure> {
        let e = self.engine;
        let opportunity = self.key(o);
        let (token, list): (TokenIx, Vec<(Address, U256)>) = match o {
            Opp::Pool(p) => {
                let lp = e.pool(p).lp_token;
                let list = e
                    .holders(lp)
                    .into_iter()
                    .filter(|(a, _)| !is_lock_address(*a) && !self.index.protocols.contains(a))
                    .collect();
                (lp, list)
            }
            Opp::FarmPool(fp) => {
                let index = self.stakers.get_or_init(|| StakerIndex::of(e));
                (e.farm_pool(fp).stake_token, index.farm_pool(e, fp).stakers)
            }
            Opp::Staking(sp) => (e.staking_pool(sp).stake_token, staking_pool_stakers(e, sp)),
        };
        let symbol = e.token(token).symbol.clone();
        list.into_iter()
            .map(|(holder, amount)| Exposure {
                opportunity: opportunity.clone(),
                holder,
                amount,
                token: symbol.clone(),
            })
            .collect()
    }

    /// A pool and the farm and staking pools that stake its LP token.
    fn pool_family(&self, p: PoolIx) -> Vec<Opp> {
        let lp = self.engine.pool(p).lp_token;
        let mut v = vec![Opp::Pool(p)];
        v.extend(self.index.farm_pools_of(lp).iter().map(|fp| Opp::FarmPool(*fp)));
        v.extend(self.index.staking_of(lp).iter().map(|sp| Opp::Staking(*sp)));
        v
    }

    /// Everything a reward token's value touches: the farm pools and staking pools that pay it,
    /// staking pools that stake it, and pools that trade it.
    fn token_family(&self, t: TokenIx) -> Vec<Opp> {
        let e = self.engine;
        let mut v = Vec::new();
        for (fp, p) in e.farm_pools().iter().enumerate() {
            if e.farm(p.farm).reward_token == t {
                v.push(Opp::FarmPool(fp));
            }
        }
        for (sp, s) in e.staking_pools().iter().enumerate() {
            if s.reward_token == t || s.stake_token == t {
                v.push(Opp::Staking(sp));
            }
        }
        for (p, pool) in e.pools().iter().enumerate() {
            if pool.tokens.contains(&t) {
                v.push(Opp::Pool(p));
            }
        }
        v
    }

    fn alert(
        &self,
        kind: AlertKind,
        severity: Severity,
        chain: ChainIx,
        subject: String,
        evidence: String,
        opps: Vec<Opp>,
    ) -> Alert {
        let (chain_id, block, timestamp) = self.stamp(chain);
        let opps: BTreeSet<Opp> = opps.into_iter().collect();
        let opportunities = opps.iter().map(|o| self.key(*o)).collect();
        let exposed = opps.iter().flat_map(|o| self.exposure(*o)).collect();
        Alert { kind, severity, chain_id, block, timestamp, subject, evidence, opportunities, exposed }
    }

    fn reserves_words(&self, p: PoolIx) -> String {
        let pool = self.engine.pool(p);
        format!(
            "{} + {}",
            amount_words(self.engine, pool.tokens[0], pool.reserves[0]),
            amount_words(self.engine, pool.tokens[1], pool.reserves[1])
        )
    }

    fn owner_pulls(&self, out: &mut Vec<Alert>) {
        let Some(prev) = self.prev else { return };
        let e = self.engine;
        for (p, (a, b)) in prev.pools.iter().zip(&self.now.pools).enumerate() {
            if a.lp_supply.is_zero() {
                continue;
            }
            let drop = a.insiders.saturating_sub(b.insiders);
            let effective = drop.saturating_sub(b.locked.saturating_sub(a.locked));
            let share = to_f64(effective) / to_f64(a.lp_supply);
            if effective.is_zero() || share <= self.cfg.owner_pull_share {
                continue;
            }
            let pool = e.pool(p);
            let others: Vec<String> =
                self.index.insiders(e, p).iter().filter(|x| **x != pool.creator).map(|x| x.to_string()).collect();
            let liq_change = if a.liquidity > 0.0 { b.liquidity / a.liquidity - 1.0 } else { 0.0 };
            let evidence = format!(
                "insiders of pool {} (creator {}{}) held {} (staked included) and now hold {}: {} left them \
                 ({} of the LP supply), none of it to a lock; LP supply {} → {}; √(reserve0·reserve1) {:+.1} %; \
                 reserves now {}",
                pool.id,
                pool.creator,
                if others.is_empty() { String::new() } else { format!("; farm/staking owners {}", others.join(", ")) },
                amount_words(e, pool.lp_token, a.insiders),
                amount_words(e, pool.lp_token, b.insiders),
                amount_words(e, pool.lp_token, effective),
                pct(share),
                amount_words(e, pool.lp_token, a.lp_supply),
                amount_words(e, pool.lp_token, b.lp_supply),
                liq_change * 100.0,
                self.reserves_words(p),
            );
            let severity =
                if share >= self.cfg.owner_pull_critical_share { Severity::Critical } else { Severity::High };
            let mut alert = self.alert(
                AlertKind::OwnerPulledLiquidity,
                severity,
                pool.chain,
                ObjectRef::Pool(&pool.id).key(),
                evidence,
                self.pool_family(p),
            );
            // The insiders are the actors, not the exposed.
            let insiders = self.index.insiders(e, p);
            alert.exposed.retain(|x| !insiders.contains(&x.holder));
            out.push(alert);
        }
    }

    fn unscheduled_mints(&self, out: &mut Vec<Alert>) {
        let Some(prev) = self.prev else { return };
        let e = self.engine;
        for (t, before) in prev.supply.iter().enumerate() {
            let token = e.token(t);
            let grown = token.total_supply.saturating_sub(*before);
            if grown.is_zero() {
                continue;
            }
            let base = to_f64(*before);
            match token.minter {
                Minter::Farm(f) if f < prev.farms.len() => {
                    let farm = e.farm(f);
                    let emitted = self.now.farms[f].emitted.saturating_sub(prev.farms[f].emitted);
                    let excess = grown.saturating_sub(emitted);
                    let share = if base > 0.0 { to_f64(excess) / base } else { f64::INFINITY };
                    if excess.is_zero() || share <= self.cfg.unscheduled_mint_share {
                        continue;
                    }
                    let evidence = format!(
                        "{} supply grew by {} while farm {}'s schedule emitted {}: {} minted outside the schedule \
                         ({} of the previous supply {}); the owner {} can mint through OwnerMint ({}) and now holds {}",
                        token.symbol,
                        amount_words(e, t, grown),
                        farm.id,
                        amount_words(e, t, emitted),
                        amount_words(e, t, excess),
                        if share.is_finite() { pct(share) } else { "all".to_string() },
                        amount_words(e, t, *before),
                        farm.owner,
                        if farm.timelock_delay_s == 0 {
                            "no timelock".to_string()
                        } else {
                            format!("timelock {}", duration_words(farm.timelock_delay_s))
                        },
                        amount_words(e, t, e.balance(t, farm.owner)),
                    );
                    let severity =
                        if share >= self.cfg.mint_critical_share { Severity::Critical } else { Severity::High };
                    out.push(self.alert(
                        AlertKind::UnscheduledMint,
                        severity,
                        farm.chain,
                        ObjectRef::Farm(&farm.id).key(),
                        evidence,
                        self.token_family(t),
                    ));
                }
                Minter::Account(minter) => {
                    let pays_rewards = e.farms().iter().any(|f| f.reward_token == t && f.funding == Funding::Budget)
                        || e.staking_pools().iter().any(|s| s.reward_token == t);
                    let share = if base > 0.0 { to_f64(grown) / base } else { f64::INFINITY };
                    if !pays_rewards || share <= self.cfg.account_mint_share {
                        continue;
                    }
                    let evidence = format!(
                        "reward token {} grew by {} ({} of the previous supply {}); its minter is the account {}, \
                         which can mint at will, and now holds {}",
                        token.symbol,
                        amount_words(e, t, grown),
                        if share.is_finite() { pct(share) } else { "all".to_string() },
                        amount_words(e, t, *before),
                        minter,
                        amount_words(e, t, e.balance(t, minter)),
                    );
                    out.push(self.alert(
                        AlertKind::UnscheduledMint,
                        Severity::High,
                        token.chain,
                        ObjectRef::Token(&token.id).key(),
                        evidence,
                        self.token_family(t),
                    ));
                }
                _ => {}
            }
        }
    }

    fn migrators(&self, out: &mut Vec<Alert>) {
        let Some(prev) = self.prev else { return };
        let e = self.engine;
        for (f, (a, b)) in prev.farms.iter().zip(&self.now.farms).enumerate() {
            let farm = e.farm(f);
            if let Some(m) = b.migrator
                && a.migrator != b.migrator
            {
                let staked: Vec<String> = farm
                    .pools
                    .iter()
                    .map(|fp| {
                        let p = e.farm_pool(*fp);
                        format!("{} {}", p.id, amount_words(e, p.stake_token, p.total_staked))
                    })
                    .collect();
                let evidence = format!(
                    "owner {} set migrator {} on farm {}: it can move every staked token at any time ({})",
                    farm.owner,
                    m,
                    farm.id,
                    if staked.is_empty() {
                        "no pool yet".to_string()
                    } else {
                        format!("staked now: {}", staked.join(", "))
                    },
                );
                let opps = farm.pools.iter().map(|fp| Opp::FarmPool(*fp)).collect();
                out.push(self.alert(
                    AlertKind::MigratorSet,
                    Severity::Warning,
                    farm.chain,
                    ObjectRef::Farm(&farm.id).key(),
                    evidence,
                    opps,
                ));
            }
            for (t, short) in &b.shortfall {
                let before = a.shortfall.get(t).copied().unwrap_or_default();
                if *short <= before {
                    continue;
                }
                let pools: Vec<FarmPoolIx> =
                    farm.pools.iter().copied().filter(|fp| e.farm_pool(*fp).stake_token == *t).collect();
                let recorded =
                    pools.iter().fold(U256::ZERO, |acc, fp| acc.saturating_add(e.farm_pool(*fp).total_staked));
                let migrator = match farm.migrator {
                    Some(m) => format!("migrator {} now holds {}", m, amount_words(e, *t, e.balance(*t, m))),
                    None => "no migrator is set now".to_string(),
                };
                let evidence = format!(
                    "farm {} holds {} but its pools record {} staked: {} left the farm without user withdrawals \
                     since the last block; {}",
                    farm.id,
                    amount_words(e, *t, e.balance(*t, farm.address)),
                    amount_words(e, *t, recorded),
                    amount_words(e, *t, *short - before),
                    migrator,
                );
                out.push(self.alert(
                    AlertKind::MigratorDrain,
                    Severity::Critical,
                    farm.chain,
                    ObjectRef::Farm(&farm.id).key(),
                    evidence,
                    pools.into_iter().map(Opp::FarmPool).collect(),
                ));
            }
        }
    }

    fn emission_spikes(&self, out: &mut Vec<Alert>) {
        let Some(prev) = self.prev else { return };
        let e = self.engine;
        let factor = self.cfg.emission_spike_factor;
        let mut spiked = BTreeSet::new();
        for (f, (a, b)) in prev.farms.iter().zip(&self.now.farms).enumerate() {
            let (old, new) = (to_f64(a.rps), to_f64(b.rps));
            if old <= 0.0 || new <= factor * old {
                continue;
            }
            spiked.insert(f);
            let farm = e.farm(f);
            let t = farm.reward_token;
            let (inflation, per_year) = crate::risk::reward_inflation(e, t);
            let evidence = format!(
                "farm {}'s reward rate rose ×{:.1}: {} → {} per second; {} {} a year now = {} of its supply \
                 (owner {}, {})",
                farm.id,
                new / old,
                amount_words(e, t, a.rps),
                amount_words(e, t, b.rps),
                human(per_year),
                e.token(t).symbol,
                pct(inflation),
                farm.owner,
                if farm.timelock_delay_s == 0 {
                    "no timelock".to_string()
                } else {
                    format!("timelock {}", duration_words(farm.timelock_delay_s))
                },
            );
            out.push(self.alert(
                AlertKind::EmissionSpike,
                Severity::High,
                farm.chain,
                ObjectRef::Farm(&farm.id).key(),
                evidence,
                self.token_family(t),
            ));
        }
        for (fp, (old, new)) in prev.farm_pool_rate.iter().zip(&self.now.farm_pool_rate).enumerate() {
            let p = e.farm_pool(fp);
            if spiked.contains(&p.farm) || *old <= 0.0 || *new <= factor * old {
                continue;
            }
            let farm = e.farm(p.farm);
            let evidence = format!(
                "farm pool {}'s share of farm {}'s emission rose ×{:.1} (alloc point {} of {}): {:.4} → {:.4} {} \
                 per second",
                p.id,
                farm.id,
                new / old,
                p.alloc_point,
                farm.total_alloc_point,
                old / 10f64.powi(i32::from(e.token(farm.reward_token).decimals)),
                new / 10f64.powi(i32::from(e.token(farm.reward_token).decimals)),
                e.token(farm.reward_token).symbol,
            );
            out.push(self.alert(
                AlertKind::EmissionSpike,
                Severity::Warning,
                farm.chain,
                ObjectRef::FarmPool(&p.id).key(),
                evidence,
                vec![Opp::FarmPool(fp)],
            ));
        }
    }
}

impl AlertDetector {
    pub fn new(config: AlertConfig) -> Self {
        AlertDetector { config, last: None, history: BTreeMap::new() }
    }

    /// Compare the engine with the previous observation; call once per closed block.
    pub fn observe(&mut self, engine: &Engine) -> Vec<Alert> {
        let index = Index::of(engine);
        let now = capture(engine, &index);
        let prev = self.last.take();
        let mut out = Vec::new();
        let cfg = self.config;
        {
            let ctx =
                Ctx { engine, index: &index, prev: prev.as_ref(), now: &now, cfg: &cfg, stakers: Default::default() };
            ctx.owner_pulls(&mut out);
            ctx.unscheduled_mints(&mut out);
            ctx.migrators(&mut out);
            ctx.emission_spikes(&mut out);
            self.drains(&ctx, &mut out);
        }
        self.last = Some(now);
        out
    }

    /// Windowed drains of pools' liquidity and farm and staking pools' stakes.
    fn drains(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Alert>) {
        let e = ctx.engine;
        let mut subjects: Vec<(Opp, ChainIx, f64)> = Vec::new();
        for (p, seen) in ctx.now.pools.iter().enumerate() {
            subjects.push((Opp::Pool(p), e.pool(p).chain, seen.liquidity));
        }
        for (fp, p) in e.farm_pools().iter().enumerate() {
            subjects.push((Opp::FarmPool(fp), e.farm(p.farm).chain, to_f64(p.total_staked)));
        }
        for (sp, s) in e.staking_pools().iter().enumerate() {
            subjects.push((Opp::Staking(sp), s.chain, to_f64(s.total_staked)));
        }
        let window = self.config.tvl_window_s;
        for (opp, chain, value) in subjects {
            let key = ctx.key(opp);
            let ts = e.now(chain);
            let h = self.history.entry(key.clone()).or_default();
            // An unchanged value only refreshes its time (observations of other chains' blocks
            // and quiet blocks do not grow the history).
            match h.back_mut() {
                Some(last) if last.1 == value => last.0 = ts,
                _ => h.push_back((ts, value)),
            }
            while h.front().is_some_and(|(t, _)| t.saturating_add(window) < ts) {
                h.pop_front();
            }
            let Some(&(peak_ts, peak)) = h.iter().max_by(|x, y| x.1.total_cmp(&y.1)) else { continue };
            if peak <= 0.0 || value >= (1.0 - self.config.tvl_drain_share) * peak {
                continue;
            }
            let drop = 1.0 - value / peak;
            h.clear();
            h.push_back((ts, value));
            let elapsed = duration_words(ts.saturating_sub(peak_ts));
            let (evidence, opps) = match opp {
                Opp::Pool(p) => {
                    let pool = e.pool(p);
                    let ev = format!(
                        "pool {}'s liquidity √(reserve0·reserve1) fell {} within {}; LP supply now {}; reserves now {}",
                        pool.id,
                        pct(drop),
                        elapsed,
                        amount_words(e, pool.lp_token, e.token(pool.lp_token).total_supply),
                        ctx.reserves_words(p),
                    );
                    (ev, ctx.pool_family(p))
                }
                Opp::FarmPool(fp) => {
                    let p = e.farm_pool(fp);
                    let dec = 10f64.powi(i32::from(e.token(p.stake_token).decimals));
                    let ev = format!(
                        "farm pool {}'s staked total fell {} within {}: {} → {} {}",
                        p.id,
                        pct(drop),
                        elapsed,
                        human(peak / dec),
                        human(value / dec),
                        e.token(p.stake_token).symbol,
                    );
                    (ev, vec![opp])
                }
                Opp::Staking(sp) => {
                    let s = e.staking_pool(sp);
                    let dec = 10f64.powi(i32::from(e.token(s.stake_token).decimals));
                    let ev = format!(
                        "staking pool {}'s staked total fell {} within {}: {} → {} {}",
                        s.id,
                        pct(drop),
                        elapsed,
                        human(peak / dec),
                        human(value / dec),
                        e.token(s.stake_token).symbol,
                    );
                    (ev, vec![opp])
                }
            };
            let severity =
                if drop >= self.config.tvl_drain_critical_share { Severity::Critical } else { Severity::High };
            out.push(ctx.alert(AlertKind::TvlDrain, severity, chain, key, evidence, opps));
        }
    }
}
