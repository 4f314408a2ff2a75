//! Risk grade A–F with a 0–100 score, and every factor behind it with its evidence.
//!
//! # How the score is made
//!
//! The aggregation is Beefy's Safety Score (beefy-v2 `src/helpers/safetyScore.ts`,
//! `src/config/risk.tsx`), rescaled from 0–10 to 0–100:
//!
//! ```text
//! score = 100 × (1 − Σ_cat  weight_cat × min(1, Σ tag penalties in cat))
//! weights: Platform 0.5, Asset 0.3, Pool 0.2
//! ```
//!
//! Beefy's third category ("Beefy", its own strategy's complexity) has no counterpart here; its
//! 0.2 goes to the opportunity itself ("Pool": APY, deposit fee, TVL trend, pause).
//! Each [`Factor`] carries its tag penalty in category units (`tag_score`, Beefy's unit) and the
//! points it costs (`penalty`); when a category saturates, its factors' points are scaled down
//! pro rata, so the points of all factors always add up to `100 − weighted_score`.
//!
//! On top of the weighted score, three red flags cap the score (a weighted average cannot express
//! "this one fact is enough": Exponential.fi's "convex relationships", DeFiLlama's `rugged`
//! hard-fail): a past rug pull caps at 24 (F), a migrator that can move the staked tokens caps at
//! 39 (E), an owner or externally owned account that can mint the reward token with no timelock
//! caps at 54 (D).
//!
//! # Score → grade
//!
//! | grade | score |
//! |---|---|
//! | A | ≥ 85 |
//! | B | ≥ 70 |
//! | C | ≥ 55 |
//! | D | ≥ 40 |
//! | E | ≥ 25 |
//! | F | < 25 |
//!
//! # Penalties (tag score in category units; points = tag × weight × 100 before saturation)
//!
//! | factor | category | condition → tag score | source |
//! |---|---|---|---|
//! | `audits` | Platform | none → 0.3; latest older than 2 years → 0.15; else 0 | Beefy NO_AUDIT 0.3 / AUDIT 0 (the 2-year half penalty is ours) |
//! | `protocol_age` | Platform | unknown or < 90 days → 0.5; < 365 days → 0.25; else 0 | Beefy PLATFORM_NEW 0.5 / ESTABLISHED 0 (the day cut-offs are ours) |
//! | `admin_timelock` | Platform | farm owner powers with no timelock → 1.0; timelock < 24 h → 0.5; ≥ 24 h → 0; pool fee switch only → 0.2; no admin powers → 0; unknown → 0.5 | Beefy ADMIN_WITHOUT / SHORT / WITH_TIMELOCK 1 / 0.5 / 0 (the 24 h cut-off and the fee-switch 0.2 are ours) |
//! | `reward_mint` | Platform | someone can mint the reward token outside the schedule: no timelock → 1.0 and cap 54; timelock < 24 h → 0.5; ≥ 24 h → 0.2 | GoPlus `is_mintable`; Beefy SAFU "emissions not capped or timelocked" |
//! | `migrator` | Platform | migrator set → 1.0 and cap 39; a queued `SetMigrator` → 0.5 | Beefy SAFU "rug/migrator functions not removed or timelocked" |
//! | `incidents` | Platform | rug pull → 1.0 and cap 24; other incident within a year → 0.5, older → 0.25 (each) | DeFiLlama hacks DB / `rugged` |
//! | `tvl` | Asset | < $100k or unknown → 0.3; < $1M → 0.15; else 0 | Beefy LIQ_LOW 0.3 / LIQ_HIGH 0; DeFiLlama's $10k / $1M display floors |
//! | `reward_inflation` | Asset | annual emission / supply: ≤ 10 % → 0; ≤ 50 % → 0.2; ≤ 200 % → 0.5; ≤ 1000 % → 0.8; more → 1.0 | ours (cf. Beefy MCAP_* 0–0.5) |
//! | `token_mint` | Asset | a staked or underlying token mintable by an account (or by a farm owner with no timelock) → 0.3 | GoPlus `is_mintable` |
//! | `concentration` | Asset | HHI of holders (look-through, locks excluded) > 0.25 → 1.0; > 0.15 → 0.3; else 0 | Beefy SUPPLY_CENTRALIZED 1; HHI bands of the US DOJ/FTC 2010 Horizontal Merger Guidelines (1500 / 2500 on the 0–10 000 scale); Mazorra et al. 2022 use HHI as a rug feature |
//! | `owner_holdings` | Asset | owner's / creator's unlocked share of the staked token ≥ 50 % → 1.0; ≥ 20 % → 0.5; ≥ 5 % → 0.15 | Beefy SAFU: no EOA above 5 % of supply; GoPlus `owner_percent`, LP `is_locked` |
//! | `apy` | Pool | outlier by DeFiLlama's rule → 0.5; plus APY ≥ 1000 % → +0.5, ≥ 100 % → +0.2 | DeFiLlama `outlier` |
//! | `deposit_fee` | Pool | 0 → 0; ≤ 1 % → 0.1; ≤ 4 % → 0.3; more → 0.5 | ours (SPEC §2.3: a risk signal) |
//! | `tvl_trend` | Pool | 7-day change ≤ −50 % → 0.6; ≤ −25 % → 0.3; more than 5× → 0.2; else 0 | ours; 5× is DeFiLlama's spike guard |
//! | `paused` | Pool | deposits and harvests paused → 0.5 | ours |
//!
//! "ours" marks thresholds chosen here where no published value exists (Beefy publishes the tag
//! scores, not the cut-offs that pick a tag); they live in the factor functions below and can be
//! tuned. Evidence strings name addresses in full (EIP-55) and amounts in whole tokens.

use crate::metadata::{IncidentKind, ObjectRef, ProtocolInfo, days_between};
use granary_engine::farm::Funding;
use granary_engine::state::{FarmPoolIx, PoolIx, StakingIx, TokenIx};
use granary_engine::{Address, Engine, Minter, U256};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Seconds in a 365-day year (Beefy's `secondsPerYear`).
pub const SECONDS_PER_YEAR: f64 = 31_536_000.0;
/// A timelock at least this long counts as a real timelock (shorter ones are "short").
pub const LONG_TIMELOCK_S: u64 = 24 * 3600;
/// Largest inflation figure reported (1 000 000 = 100 000 000 % a year), so that a token with
/// no supply yet still gives a finite, serialisable number.
pub const MAX_INFLATION: f64 = 1.0e6;

/// Score ceilings of the red flags.
pub const CEILING_RUG_INCIDENT: u8 = 24;
pub const CEILING_MIGRATOR: u8 = 39;
pub const CEILING_UNTIMELOCKED_MINT: u8 = 54;

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// What the caller knows that the engine does not: USD figures and the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MarketFacts {
    /// TVL now, USD.
    pub tvl_usd: f64,
    /// TVL seven days ago, USD (`None` when the opportunity is younger or history is missing).
    pub tvl_7d_ago_usd: Option<f64>,
    /// APY in percent (DeFiLlama's `apy`: base + reward).
    pub apy_pct: f64,
    /// DeFiLlama's outlier flag for this opportunity (see [`apy_outliers`]).
    pub apy_outlier: bool,
    /// Unix seconds now: the clock [`ProtocolInfo`]'s dates are on.
    pub now_unix: i64,
}

/// What kind of opportunity is graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpportunityKind {
    /// LP (or single token) staked in a MasterChef farm.
    FarmPool,
    /// Single-token staking with lock terms.
    StakingPool,
    /// Plain liquidity in a constant-product pool.
    Pool,
    /// Graded from imported data (e.g. a DeFiLlama `/pools` record), no engine state.
    #[default]
    External,
}

/// Who can mint a token beyond any schedule, and whether a timelock stands in the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintPower {
    /// The token's symbol.
    pub token: String,
    /// The address that can mint (`0x…`).
    pub minter: String,
    /// How: `"token minter (account)"` or `"OwnerMint on farm F"`.
    pub via: String,
    /// The delay a mint must wait (0 = none).
    pub timelock_delay_s: u64,
}

/// An owner action waiting in a farm's timelock queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAction {
    /// The action's kind (`set_migrator`, `owner_mint`, …).
    pub kind: String,
    /// Chain seconds at which it may run.
    pub eta: u64,
    /// Whether it is a `SetMigrator` that sets a migrator.
    pub sets_migrator: bool,
}

/// The powers the owner of an opportunity holds, read from the engine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OwnerPowers {
    /// Who can mint the reward token outside the emission schedule.
    pub reward_mint: Option<MintPower>,
    /// The farm's migrator (`0x…`): it may move every staked token of every pool.
    pub migrator: Option<String>,
    /// Owner actions waiting out the timelock.
    pub queued: Vec<QueuedAction>,
    /// Can change the reward rate or pool weights (farm: `SetRewardPerSecond`, `SetAllocPoint`).
    pub can_change_rates: bool,
    /// Can add pools to the farm (and so redirect emissions).
    pub can_add_pools: bool,
    /// Can pause deposits and harvests.
    pub can_pause: bool,
    /// Is paused now.
    pub paused: bool,
    /// Can switch a fee (pool: the 1/6 protocol fee, `SetFeeTo`).
    pub can_change_fees: bool,
    /// Can add rewards (staking: `NotifyReward`); not a risk by itself.
    pub can_fund_rewards: bool,
    /// Deposit fee in basis points, paid to the owner.
    pub deposit_fee_bps: u32,
    /// Delay owner actions must wait (0 = no timelock).
    pub timelock_delay_s: u64,
}

/// A past incident, with its age.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastIncident {
    pub kind: IncidentKind,
    pub age_days: f64,
    pub loss_usd: f64,
    pub description: String,
}

/// The largest holder of the staked token, after look-through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolderShare {
    pub holder: String,
    /// Share of the attributed (unlocked, non-protocol) holdings.
    pub share: f64,
}

/// Everything a grade is computed from: plain data, so that imported pools can be graded with
/// the fields they have (`None` = unknown, graded as the table in the module documentation says).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RiskInputs {
    /// The graded opportunity's key (`farm_pool:F0`, …).
    pub subject: String,
    pub kind: OpportunityKind,
    pub chain_id: Option<u64>,
    pub protocol: Option<String>,
    pub audit_count: u32,
    pub auditors: Vec<String>,
    pub last_audit_age_days: Option<f64>,
    pub protocol_age_days: Option<f64>,
    pub tvl_usd: Option<f64>,
    pub tvl_7d_ago_usd: Option<f64>,
    /// The owner (farm owner, staking pool owner, pool creator), `0x…`.
    pub owner: Option<String>,
    /// `None` when unknown (imported pools).
    pub powers: Option<OwnerPowers>,
    /// Reward token symbol.
    pub reward_token: Option<String>,
    /// Reward tokens emitted per year over the reward token's supply (1.0 = 100 % a year).
    pub reward_inflation: Option<f64>,
    /// Annual emission of the reward token, in whole tokens, for the evidence.
    pub reward_emission_per_year: Option<f64>,
    /// Staked or underlying tokens that someone can mint at will.
    pub mintable_tokens: Vec<MintPower>,
    /// Symbol of the staked token (an LP token's symbol is its pool's id).
    pub stake_token: Option<String>,
    /// Holders of the staked token after look-through (stakers of farms and staking pools
    /// counted in place of the contracts), locks excluded.
    pub holder_count: Option<usize>,
    /// Herfindahl–Hirschman index of those holders' shares, 0..=1.
    pub concentration_hhi: Option<f64>,
    pub top_holder: Option<HolderShare>,
    /// Share of the staked token's supply that can never move (zero or 0x…dEaD address).
    pub locked_share: Option<f64>,
    /// The insiders whose holdings `owner_share` counts: the owner and, for an LP token, the
    /// pool's creator (`0x…`).
    pub insiders: Vec<String>,
    /// Share of the staked token's supply the insiders hold, in wallets or staked.
    pub owner_share: Option<f64>,
    pub apy_pct: Option<f64>,
    pub apy_outlier: bool,
    pub incidents: Vec<PastIncident>,
}

impl RiskInputs {
    /// Fill the fields that come from outside the engine: protocol metadata and market facts.
    fn with_outside(mut self, info: Option<&ProtocolInfo>, market: &MarketFacts) -> Self {
        self.tvl_usd = Some(market.tvl_usd);
        self.tvl_7d_ago_usd = market.tvl_7d_ago_usd;
        self.apy_pct = Some(market.apy_pct);
        self.apy_outlier = market.apy_outlier;
        if let Some(info) = info {
            self.protocol = Some(info.name.clone());
            self.audit_count = u32::try_from(info.audits.len()).unwrap_or(u32::MAX);
            self.auditors = info.audits.iter().map(|a| a.auditor.clone()).collect();
            self.last_audit_age_days = info.latest_audit().map(|a| days_between(a.date_unix, market.now_unix));
            self.protocol_age_days = info.age_days(market.now_unix);
            self.incidents = info
                .incidents
                .iter()
                .map(|i| PastIncident {
                    kind: i.kind,
                    age_days: days_between(i.date_unix, market.now_unix),
                    loss_usd: i.loss_usd,
                    description: i.description.clone(),
                })
                .collect();
        }
        self
    }

    /// Concentration and owner share of the staked token.
    fn with_holdings(mut self, engine: &Engine, token: TokenIx, insiders: &[Address]) -> Self {
        let insiders: BTreeSet<Address> = insiders.iter().copied().collect();
        self.insiders = insiders.iter().map(|a| a.to_string()).collect();
        let h = holdings(engine, token);
        let supply = to_f64(h.supply);
        self.stake_token = Some(engine.token(token).symbol.clone());
        self.holder_count = Some(h.holders.len());
        self.concentration_hhi = h.hhi();
        self.top_holder = h.top().map(|(a, share)| HolderShare { holder: a.to_string(), share });
        if supply > 0.0 {
            self.locked_share = Some(to_f64(h.locked) / supply);
            let own: f64 = insiders.iter().filter_map(|a| h.holders.get(a)).map(|v| to_f64(*v)).sum();
            self.owner_share = Some(own / supply);
        }
        self
    }

    /// Inputs for a farm pool: owner powers, reward inflation and the staked token's holders from
    /// the engine; audits, age and incidents from `info`; USD figures and the clock from `market`.
    pub fn for_farm_pool(
        engine: &Engine,
        fp: FarmPoolIx,
        info: Option<&ProtocolInfo>,
        market: MarketFacts,
    ) -> RiskInputs {
        let p = engine.farm_pool(fp);
        let farm = engine.farm(p.farm);
        let chain = engine.chain(farm.chain);
        let queued = farm
            .queue
            .values()
            .map(|q| QueuedAction {
                kind: q.action.kind().to_string(),
                eta: q.eta,
                sets_migrator: matches!(&q.action, granary_engine::Action::SetMigrator { migrator: Some(_), .. }),
            })
            .collect();
        let powers = OwnerPowers {
            reward_mint: mint_power(engine, farm.reward_token),
            migrator: farm.migrator.map(|m| m.to_string()),
            queued,
            can_change_rates: true,
            can_add_pools: true,
            can_pause: true,
            paused: farm.paused,
            can_change_fees: false,
            can_fund_rewards: farm.funding == Funding::Budget,
            deposit_fee_bps: p.deposit_fee_bps,
            timelock_delay_s: farm.timelock_delay_s,
        };
        let mut insiders = vec![farm.owner];
        if let Minter::Pool(pool) = engine.token(p.stake_token).minter {
            insiders.push(engine.pool(pool).creator);
        }
        let (inflation, per_year) = reward_inflation(engine, farm.reward_token);
        RiskInputs {
            subject: ObjectRef::FarmPool(&p.id).key(),
            kind: OpportunityKind::FarmPool,
            chain_id: Some(chain.chain_id),
            owner: Some(farm.owner.to_string()),
            powers: Some(powers),
            reward_token: Some(engine.token(farm.reward_token).symbol.clone()),
            reward_inflation: Some(inflation),
            reward_emission_per_year: Some(per_year),
            mintable_tokens: mintable_underlying(engine, p.stake_token),
            ..Default::default()
        }
        .with_holdings(engine, p.stake_token, &insiders)
        .with_outside(info, &market)
    }

    /// Inputs for a single-token staking pool.
    pub fn for_staking_pool(
        engine: &Engine,
        sp: StakingIx,
        info: Option<&ProtocolInfo>,
        market: MarketFacts,
    ) -> RiskInputs {
        let s = engine.staking_pool(sp);
        let chain = engine.chain(s.chain);
        let powers = OwnerPowers {
            reward_mint: mint_power(engine, s.reward_token),
            can_fund_rewards: true,
            ..Default::default()
        };
        let mut insiders = vec![s.owner];
        if let Minter::Pool(pool) = engine.token(s.stake_token).minter {
            insiders.push(engine.pool(pool).creator);
        }
        let (inflation, per_year) = reward_inflation(engine, s.reward_token);
        RiskInputs {
            subject: ObjectRef::StakingPool(&s.id).key(),
            kind: OpportunityKind::StakingPool,
            chain_id: Some(chain.chain_id),
            owner: Some(s.owner.to_string()),
            powers: Some(powers),
            reward_token: Some(engine.token(s.reward_token).symbol.clone()),
            reward_inflation: Some(inflation),
            reward_emission_per_year: Some(per_year),
            mintable_tokens: mintable_underlying(engine, s.stake_token),
            ..Default::default()
        }
        .with_holdings(engine, s.stake_token, &insiders)
        .with_outside(info, &market)
    }

    /// Inputs for plain liquidity in a constant-product pool.
    pub fn for_pool(engine: &Engine, p: PoolIx, info: Option<&ProtocolInfo>, market: MarketFacts) -> RiskInputs {
        let pool = engine.pool(p);
        let chain = engine.chain(pool.chain);
        let powers = OwnerPowers { can_change_fees: true, ..Default::default() };
        RiskInputs {
            subject: ObjectRef::Pool(&pool.id).key(),
            kind: OpportunityKind::Pool,
            chain_id: Some(chain.chain_id),
            owner: Some(pool.creator.to_string()),
            powers: Some(powers),
            mintable_tokens: mintable_underlying(engine, pool.lp_token),
            ..Default::default()
        }
        .with_holdings(engine, pool.lp_token, &[pool.creator])
        .with_outside(info, &market)
    }
}

/// Who can mint `token` outside a schedule: its minter account, or the owner of the farm that
/// mints it (`OwnerMint`, behind the farm's timelock). Pool LP tokens and fixed supplies: nobody.
pub fn mint_power(engine: &Engine, token: TokenIx) -> Option<MintPower> {
    let t = engine.token(token);
    match t.minter {
        Minter::Account(a) => Some(MintPower {
            token: t.symbol.clone(),
            minter: a.to_string(),
            via: "token minter (account)".to_string(),
            timelock_delay_s: 0,
        }),
        Minter::Farm(f) => {
            let farm = engine.farm(f);
            Some(MintPower {
                token: t.symbol.clone(),
                minter: farm.owner.to_string(),
                via: format!("OwnerMint on farm {}", farm.id),
                timelock_delay_s: farm.timelock_delay_s,
            })
        }
        Minter::Pool(_) | Minter::Nobody => None,
    }
}

/// The staked token, or an LP token's two underlying tokens, that someone can mint at will (an
/// account minter, or a minting farm's owner with no long timelock).
fn mintable_underlying(engine: &Engine, stake: TokenIx) -> Vec<MintPower> {
    let tokens: Vec<TokenIx> = match engine.token(stake).minter {
        Minter::Pool(p) => engine.pool(p).tokens.to_vec(),
        _ => vec![stake],
    };
    tokens.into_iter().filter_map(|t| mint_power(engine, t)).filter(|m| m.timelock_delay_s < LONG_TIMELOCK_S).collect()
}

/// Annual emission of `token` by every farm and staking pool that pays it, now, over its supply:
/// (inflation as a fraction per year, emission per year in whole tokens).
pub fn reward_inflation(engine: &Engine, token: TokenIx) -> (f64, f64) {
    let t = engine.token(token);
    let mut per_second = 0.0;
    for farm in engine.farms().iter().filter(|f| f.reward_token == token) {
        let now = engine.now(farm.chain);
        let running = farm.end.is_none_or(|end| end > now) && farm.total_alloc_point > 0;
        if running {
            per_second += to_f64(farm.reward_per_second);
        }
    }
    for s in engine.staking_pools().iter().filter(|s| s.reward_token == token) {
        if s.period_finish > engine.now(s.chain) {
            per_second += to_f64(s.reward_rate);
        }
    }
    let per_year = per_second * SECONDS_PER_YEAR;
    let supply = to_f64(t.total_supply);
    let inflation = if per_year == 0.0 {
        0.0
    } else if supply > 0.0 {
        (per_year / supply).min(MAX_INFLATION)
    } else {
        MAX_INFLATION
    };
    (inflation, per_year / 10f64.powi(i32::from(t.decimals)))
}

// ---------------------------------------------------------------------------------------------
// Holders, stakers and look-through
// ---------------------------------------------------------------------------------------------

/// The conventional burn address `0x000000000000000000000000000000000000dEaD`.
pub fn dead_address() -> Address {
    let mut b = [0u8; 20];
    b[18] = 0xde;
    b[19] = 0xad;
    Address::new(b)
}

/// Whether tokens at `a` can never move again (the zero address or the burn address).
pub fn is_lock_address(a: Address) -> bool {
    a.is_zero() || a == dead_address()
}

/// Addresses that hold tokens for a protocol object (farms, staking pools, AMM pools).
#[derive(Debug, Clone, Default)]
pub struct ProtocolAddresses {
    pub farms: BTreeSet<Address>,
    pub staking: BTreeSet<Address>,
    pub pools: BTreeSet<Address>,
}

impl ProtocolAddresses {
    pub fn of(engine: &Engine) -> Self {
        ProtocolAddresses {
            farms: engine.farms().iter().map(|f| f.address).collect(),
            staking: engine.staking_pools().iter().map(|s| s.address).collect(),
            pools: engine.pools().iter().map(|p| p.address).collect(),
        }
    }

    pub fn contains(&self, a: &Address) -> bool {
        self.farms.contains(a) || self.staking.contains(a) || self.pools.contains(a)
    }
}

/// A farm pool's stakers and what the engine records for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stakers {
    /// (staker, amount staked), sorted by address.
    pub stakers: Vec<(Address, U256)>,
    /// `total_staked` minus what was found: stakers the fallback search did not reach (always 0
    /// when the list comes from the state).
    pub unattributed: U256,
}

/// Every farm pool's stakers, read once from the engine (`Engine::farm_users`). The fallback
/// search among token holders (for an index built without the engine's list) counts what it misses
/// in [`Stakers::unattributed`].
#[derive(Debug, Clone, Default)]
pub struct StakerIndex {
    from_state: Option<BTreeMap<FarmPoolIx, Vec<(Address, U256)>>>,
}

impl StakerIndex {
    /// Read every farm pool's stakers from the engine's state (one pass over its encoding).
    pub fn of(engine: &Engine) -> Self {
        StakerIndex { from_state: read_farm_users(engine) }
    }

    /// Whether the list came from the state (complete) rather than from the fallback search.
    pub fn is_complete(&self) -> bool {
        self.from_state.is_some()
    }

    /// The stakers of farm pool `fp`.
    pub fn farm_pool(&self, engine: &Engine, fp: FarmPoolIx) -> Stakers {
        match &self.from_state {
            Some(m) => Stakers { stakers: m.get(&fp).cloned().unwrap_or_default(), unattributed: U256::ZERO },
            None => search_farm_pool_stakers(engine, fp),
        }
    }
}

/// The stakers of one farm pool (builds a [`StakerIndex`]; build one yourself for many pools).
pub fn farm_pool_stakers(engine: &Engine, fp: FarmPoolIx) -> Stakers {
    StakerIndex::of(engine).farm_pool(engine, fp)
}

fn search_farm_pool_stakers(engine: &Engine, fp: FarmPoolIx) -> Stakers {
    let p = engine.farm_pool(fp);
    let farm = engine.farm(p.farm);
    let mut tokens = vec![p.stake_token, farm.reward_token];
    if let Minter::Pool(pool) = engine.token(p.stake_token).minter {
        tokens.extend(engine.pool(pool).tokens);
    }
    let mut candidates: BTreeSet<Address> = BTreeSet::from([farm.owner]);
    for t in tokens {
        candidates.extend(engine.holders(t).into_iter().map(|(a, _)| a));
    }
    let mut found = U256::ZERO;
    let mut stakers = Vec::new();
    for a in candidates {
        let amount = engine.farm_user(fp, a).amount;
        if !amount.is_zero() {
            found = found.saturating_add(amount);
            stakers.push((a, amount));
        }
    }
    Stakers { stakers, unattributed: p.total_staked.saturating_sub(found) }
}

/// Every farm pool's stakers, from the engine's list of farm users.
fn read_farm_users(engine: &Engine) -> Option<BTreeMap<FarmPoolIx, Vec<(Address, U256)>>> {
    let mut out: BTreeMap<FarmPoolIx, Vec<(Address, U256)>> = BTreeMap::new();
    for (fp, who, user) in engine.farm_users() {
        if !user.amount.is_zero() {
            out.entry(fp).or_default().push((who, user.amount));
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    Some(out)
}

/// The stakers of a staking pool: principal per position owner (positions are enumerable).
pub fn staking_pool_stakers(engine: &Engine, sp: StakingIx) -> Vec<(Address, U256)> {
    let mut by_owner: BTreeMap<Address, U256> = BTreeMap::new();
    for pos in engine.positions().filter(|p| p.pool == sp && !p.amount.is_zero()) {
        let e = by_owner.entry(pos.owner).or_default();
        *e = e.saturating_add(pos.amount);
    }
    by_owner.into_iter().collect()
}

/// Who holds a token once farm and staking contracts are looked through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holdings {
    pub supply: U256,
    /// At the zero or burn address.
    pub locked: U256,
    /// In AMM pools' reserves.
    pub in_pools: U256,
    /// Held by farm and staking contracts beyond their stakers' principal (reward reserves,
    /// donations) — not anyone's to pull.
    pub in_protocols: U256,
    /// Staked in farm pools by stakers the search did not find.
    pub unattributed: U256,
    /// Every other holder, with what they hold directly plus what they stake.
    pub holders: BTreeMap<Address, U256>,
}

impl Holdings {
    fn total_attributed(&self) -> f64 {
        self.holders.values().map(|v| to_f64(*v)).sum()
    }

    /// Herfindahl–Hirschman index Σ sᵢ² of the holders' shares (0..=1); `None` with no holder.
    pub fn hhi(&self) -> Option<f64> {
        let total = self.total_attributed();
        if total <= 0.0 {
            return None;
        }
        Some(self.holders.values().map(|v| (to_f64(*v) / total).powi(2)).sum())
    }

    /// The largest holder and its share of the attributed holdings.
    pub fn top(&self) -> Option<(Address, f64)> {
        let total = self.total_attributed();
        if total <= 0.0 {
            return None;
        }
        self.holders.iter().max_by_key(|(a, v)| (**v, std::cmp::Reverse(**a))).map(|(a, v)| (*a, to_f64(*v) / total))
    }
}

/// The holders of `token`, with farm and staking contracts replaced by their stakers.
pub fn holdings(engine: &Engine, token: TokenIx) -> Holdings {
    let protocols = ProtocolAddresses::of(engine);
    let mut h = Holdings { supply: engine.token(token).total_supply, ..Default::default() };
    let mut protocol_held = U256::ZERO;
    for (a, bal) in engine.holders(token) {
        if is_lock_address(a) {
            h.locked = h.locked.saturating_add(bal);
        } else if protocols.pools.contains(&a) {
            h.in_pools = h.in_pools.saturating_add(bal);
        } else if protocols.farms.contains(&a) || protocols.staking.contains(&a) {
            protocol_held = protocol_held.saturating_add(bal);
        } else {
            let e = h.holders.entry(a).or_default();
            *e = e.saturating_add(bal);
        }
    }
    let mut attributed = U256::ZERO;
    let index = StakerIndex::of(engine);
    for (fp, p) in engine.farm_pools().iter().enumerate() {
        if p.stake_token != token {
            continue;
        }
        let s = index.farm_pool(engine, fp);
        for (a, amount) in s.stakers {
            attributed = attributed.saturating_add(amount);
            let e = h.holders.entry(a).or_default();
            *e = e.saturating_add(amount);
        }
        h.unattributed = h.unattributed.saturating_add(s.unattributed);
    }
    for (sp, s) in engine.staking_pools().iter().enumerate() {
        if s.stake_token != token {
            continue;
        }
        for (a, amount) in staking_pool_stakers(engine, sp) {
            attributed = attributed.saturating_add(amount);
            let e = h.holders.entry(a).or_default();
            *e = e.saturating_add(amount);
        }
    }
    h.in_protocols = protocol_held.saturating_sub(attributed).saturating_sub(h.unattributed);
    h
}

// ---------------------------------------------------------------------------------------------
// The grade
// ---------------------------------------------------------------------------------------------

/// The three categories of Beefy's Safety Score, with the weight each carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The protocol and who controls it (Beefy "Platform", 0.5).
    Platform,
    /// The tokens: liquidity, supply, distribution (Beefy "Asset", 0.3).
    Asset,
    /// The opportunity itself: its APY, fees, trend (in place of Beefy's strategy category, 0.2).
    Pool,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Platform, Category::Asset, Category::Pool];

    pub fn weight(self) -> f64 {
        match self {
            Category::Platform => 0.5,
            Category::Asset => 0.3,
            Category::Pool => 0.2,
        }
    }
}

/// One factor of a grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Stable name (`audits`, `admin_timelock`, …; see the module table).
    pub name: String,
    pub category: Category,
    /// The category's weight.
    pub weight: f64,
    /// Penalty in the category's units (Beefy's tag score; a category counts at most 1).
    pub tag_score: f64,
    /// Points of the 100 this factor costs (after its category's saturation).
    pub penalty: f64,
    /// The highest score this factor allows, if it is a red flag.
    pub ceiling: Option<u8>,
    /// What was found, concretely.
    pub evidence: String,
}

/// A grade: the score, its letter and every factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskGrade {
    /// 0..=100, higher is safer.
    pub score: u8,
    /// 'A'..='F'.
    pub grade: char,
    /// The weighted score before red-flag ceilings (`100 − Σ penalty`).
    pub weighted_score: f64,
    /// The ceiling that applied (its score), if any lowered the score.
    pub ceiling: Option<u8>,
    pub factors: Vec<Factor>,
}

/// The letter for a score: A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 40, E ≥ 25, F below.
pub fn grade_letter(score: u8) -> char {
    match score {
        85.. => 'A',
        70..=84 => 'B',
        55..=69 => 'C',
        40..=54 => 'D',
        25..=39 => 'E',
        _ => 'F',
    }
}

struct Raw {
    name: &'static str,
    category: Category,
    tag: f64,
    ceiling: Option<u8>,
    evidence: String,
}

fn raw(name: &'static str, category: Category, tag: f64, evidence: String) -> Raw {
    Raw { name, category, tag, ceiling: None, evidence }
}

/// Grade an opportunity. Every factor is listed, including those that cost nothing.
pub fn grade(inputs: &RiskInputs) -> RiskGrade {
    let raws = vec![
        audits_factor(inputs),
        age_factor(inputs),
        admin_factor(inputs),
        reward_mint_factor(inputs),
        migrator_factor(inputs),
        incidents_factor(inputs),
        tvl_factor(inputs),
        inflation_factor(inputs),
        token_mint_factor(inputs),
        concentration_factor(inputs),
        owner_holdings_factor(inputs),
        apy_factor(inputs),
        deposit_fee_factor(inputs),
        trend_factor(inputs),
        paused_factor(inputs),
    ];
    let mut factors = Vec::with_capacity(raws.len());
    let mut lost = 0.0;
    for cat in Category::ALL {
        let sum: f64 = raws.iter().filter(|r| r.category == cat).map(|r| r.tag).sum();
        let scale = if sum > 1.0 { 1.0 / sum } else { 1.0 };
        for r in raws.iter().filter(|r| r.category == cat) {
            let penalty = r.tag * scale * cat.weight() * 100.0;
            lost += penalty;
            factors.push(Factor {
                name: r.name.to_string(),
                category: cat,
                weight: cat.weight(),
                tag_score: r.tag,
                penalty,
                ceiling: r.ceiling,
                evidence: r.evidence.clone(),
            });
        }
    }
    let weighted = (100.0 - lost).clamp(0.0, 100.0);
    let weighted_u8 = weighted.round() as u8;
    let ceiling = factors.iter().filter_map(|f| f.ceiling).min().filter(|c| *c < weighted_u8);
    let score = ceiling.unwrap_or(weighted_u8);
    RiskGrade { score, grade: grade_letter(score), weighted_score: weighted, ceiling, factors }
}

fn audits_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    if i.audit_count == 0 {
        return raw("audits", c, 0.3, "no audit known".to_string());
    }
    let who = i.auditors.join(", ");
    match i.last_audit_age_days {
        Some(age) if age > 730.0 => {
            raw("audits", c, 0.15, format!("{} audit(s) ({who}); the latest is {age:.0} days old", i.audit_count))
        }
        Some(age) => raw("audits", c, 0.0, format!("{} audit(s) ({who}); the latest {age:.0} days ago", i.audit_count)),
        None => raw("audits", c, 0.0, format!("{} audit(s) ({who})", i.audit_count)),
    }
}

fn age_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    match i.protocol_age_days {
        None => raw("protocol_age", c, 0.5, "launch date unknown: treated as new".to_string()),
        Some(d) if d < 90.0 => raw("protocol_age", c, 0.5, format!("live for {d:.0} days (< 90)")),
        Some(d) if d < 365.0 => raw("protocol_age", c, 0.25, format!("live for {d:.0} days (< 1 year)")),
        Some(d) => raw("protocol_age", c, 0.0, format!("live for {d:.0} days")),
    }
}

fn timelock_words(s: u64) -> String {
    if s == 0 { "no timelock".to_string() } else { format!("timelock {}", duration_words(s)) }
}

/// "2 d 3 h", "45 min", "30 s".
pub fn duration_words(s: u64) -> String {
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

fn owner_words(i: &RiskInputs) -> String {
    i.owner.as_deref().map(|o| format!("owner {o}")).unwrap_or_else(|| "the owner".to_string())
}

fn admin_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    let Some(p) = &i.powers else {
        return raw("admin_timelock", c, 0.5, "owner powers unknown".to_string());
    };
    let mut powers = Vec::new();
    if p.can_change_rates {
        powers.push("change the reward rate and pool weights");
    }
    if p.can_add_pools {
        powers.push("add pools");
    }
    if p.can_pause {
        powers.push("pause deposits and harvests");
    }
    if i.kind == OpportunityKind::FarmPool {
        powers.push("set a migrator");
    }
    let strong = p.can_change_rates || p.can_add_pools || p.can_pause;
    if strong {
        let (tag, guard) = if p.timelock_delay_s == 0 {
            (1.0, "no timelock".to_string())
        } else if p.timelock_delay_s < LONG_TIMELOCK_S {
            (0.5, format!("only a short timelock of {}", duration_words(p.timelock_delay_s)))
        } else {
            (0.0, format!("a timelock of {}", duration_words(p.timelock_delay_s)))
        };
        let ev = format!("{} can {}; {guard}", owner_words(i), powers.join(", "));
        return raw("admin_timelock", c, tag, ev);
    }
    if p.can_change_fees {
        return raw(
            "admin_timelock",
            c,
            0.2,
            format!("{} can switch the 1/6 protocol fee on LP fees at any time (no timelock)", owner_words(i)),
        );
    }
    let ev = if p.can_fund_rewards {
        format!("{} can only add rewards (NotifyReward); it cannot pause, mint or move stakes", owner_words(i))
    } else {
        "no owner powers".to_string()
    };
    raw("admin_timelock", c, 0.0, ev)
}

fn reward_mint_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    let Some(p) = &i.powers else {
        return raw("reward_mint", c, 0.0, "reward minting powers unknown".to_string());
    };
    let Some(m) = &p.reward_mint else {
        let token = i.reward_token.as_deref().unwrap_or("the reward token");
        let ev = if i.reward_token.is_some() {
            format!("nobody can mint {token} outside the emission schedule")
        } else {
            "no reward token".to_string()
        };
        return raw("reward_mint", c, 0.0, ev);
    };
    let ev = format!("{} can mint {} ({}); {}", m.minter, m.token, m.via, timelock_words(m.timelock_delay_s));
    if m.timelock_delay_s == 0 {
        Raw { ceiling: Some(CEILING_UNTIMELOCKED_MINT), ..raw("reward_mint", c, 1.0, ev) }
    } else if m.timelock_delay_s < LONG_TIMELOCK_S {
        raw("reward_mint", c, 0.5, ev)
    } else {
        raw("reward_mint", c, 0.2, ev)
    }
}

fn migrator_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    let Some(p) = &i.powers else {
        return raw("migrator", c, 0.0, "migrator unknown".to_string());
    };
    if i.kind != OpportunityKind::FarmPool && p.migrator.is_none() {
        return raw("migrator", c, 0.0, "no migrator power".to_string());
    }
    if let Some(m) = &p.migrator {
        let ev = format!("migrator {m} is set: it can move every staked token of the farm at any time");
        return Raw { ceiling: Some(CEILING_MIGRATOR), ..raw("migrator", c, 1.0, ev) };
    }
    if let Some(q) = p.queued.iter().find(|q| q.sets_migrator) {
        return raw(
            "migrator",
            c,
            0.5,
            format!("a SetMigrator is queued in the timelock (runs at chain second {})", q.eta),
        );
    }
    raw(
        "migrator",
        c,
        0.0,
        format!("no migrator set; setting one needs the owner and {}", timelock_words(p.timelock_delay_s)),
    )
}

fn incidents_factor(i: &RiskInputs) -> Raw {
    let c = Category::Platform;
    if i.incidents.is_empty() {
        let ev = if i.protocol.is_some() { "no past incident known" } else { "no protocol record" };
        return raw("incidents", c, 0.0, ev.to_string());
    }
    let mut tag = 0.0;
    let mut ceiling = None;
    let mut parts = Vec::new();
    for inc in &i.incidents {
        tag += match inc.kind {
            IncidentKind::RugPull => {
                ceiling = Some(CEILING_RUG_INCIDENT);
                1.0
            }
            _ if inc.age_days < 365.0 => 0.5,
            _ => 0.25,
        };
        let mut s = format!("{} {:.0} days ago", inc.kind.as_str(), inc.age_days);
        if inc.loss_usd > 0.0 {
            s.push_str(&format!(", ${} lost", human(inc.loss_usd)));
        }
        if !inc.description.is_empty() {
            s.push_str(&format!(" ({})", inc.description));
        }
        parts.push(s);
    }
    Raw { ceiling, ..raw("incidents", c, tag, parts.join("; ")) }
}

fn tvl_factor(i: &RiskInputs) -> Raw {
    let c = Category::Asset;
    match i.tvl_usd {
        None => raw("tvl", c, 0.3, "TVL unknown".to_string()),
        Some(t) if t < 100_000.0 => raw("tvl", c, 0.3, format!("TVL ${} (< $100k: thin liquidity)", human(t))),
        Some(t) if t < 1_000_000.0 => raw("tvl", c, 0.15, format!("TVL ${} (< $1M)", human(t))),
        Some(t) => raw("tvl", c, 0.0, format!("TVL ${}", human(t))),
    }
}

fn inflation_factor(i: &RiskInputs) -> Raw {
    let c = Category::Asset;
    let (Some(token), Some(x)) = (&i.reward_token, i.reward_inflation) else {
        return raw("reward_inflation", c, 0.0, "no reward token".to_string());
    };
    let per_year = i.reward_emission_per_year.map(|v| format!("{} {token} a year = ", human(v))).unwrap_or_default();
    let ev = if x >= MAX_INFLATION {
        format!("{per_year}unbounded against a supply of zero")
    } else {
        format!("{per_year}{} of {token}'s supply a year", pct(x))
    };
    let tag = match x {
        x if x <= 0.10 => 0.0,
        x if x <= 0.50 => 0.2,
        x if x <= 2.0 => 0.5,
        x if x <= 10.0 => 0.8,
        _ => 1.0,
    };
    raw("reward_inflation", c, tag, ev)
}

fn token_mint_factor(i: &RiskInputs) -> Raw {
    let c = Category::Asset;
    if i.mintable_tokens.is_empty() {
        let ev = match &i.stake_token {
            Some(s) => format!("{s} and its underlying tokens cannot be minted at will"),
            None => "no mintable staked token known".to_string(),
        };
        return raw("token_mint", c, 0.0, ev);
    }
    let parts: Vec<String> = i
        .mintable_tokens
        .iter()
        .map(|m| format!("{} can mint {} ({}; {})", m.minter, m.token, m.via, timelock_words(m.timelock_delay_s)))
        .collect();
    raw("token_mint", c, 0.3, parts.join("; "))
}

fn concentration_factor(i: &RiskInputs) -> Raw {
    let c = Category::Asset;
    let token = i.stake_token.as_deref().unwrap_or("the staked token");
    let Some(hhi) = i.concentration_hhi else {
        return raw("concentration", c, 0.0, format!("no holder of {token} to measure"));
    };
    let top = i
        .top_holder
        .as_ref()
        .map(|t| format!("; largest holder {} has {}", t.holder, pct(t.share)))
        .unwrap_or_default();
    let n = i.holder_count.unwrap_or(0);
    let ev = format!("HHI {:.0} over {n} holder(s) of {token} (staked included, locks excluded){top}", hhi * 10_000.0);
    let tag = if hhi > 0.25 {
        1.0
    } else if hhi > 0.15 {
        0.3
    } else {
        0.0
    };
    raw("concentration", c, tag, ev)
}

fn owner_holdings_factor(i: &RiskInputs) -> Raw {
    let c = Category::Asset;
    let token = i.stake_token.as_deref().unwrap_or("the staked token");
    let locked = i.locked_share.map(|l| format!("; {} of the supply is locked forever", pct(l))).unwrap_or_default();
    let Some(s) = i.owner_share else {
        return raw("owner_holdings", c, 0.0, format!("owner's share of {token} unknown{locked}"));
    };
    let who = match i.insiders.as_slice() {
        [] => owner_words(i),
        [one] if Some(one) == i.owner.as_ref() => owner_words(i),
        many => format!("insiders (owner, pool creator) {}", many.join(", ")),
    };
    let ev = format!("{who} hold(s) {} of {token}'s supply, unlocked (staked included){locked}", pct(s));
    let tag = if s >= 0.5 {
        1.0
    } else if s >= 0.2 {
        0.5
    } else if s >= 0.05 {
        0.15
    } else {
        0.0
    };
    raw("owner_holdings", c, tag, ev)
}

fn apy_factor(i: &RiskInputs) -> Raw {
    let c = Category::Pool;
    let Some(apy) = i.apy_pct else {
        return raw("apy", c, 0.0, "APY unknown".to_string());
    };
    let mut tag: f64 = if i.apy_outlier { 0.5 } else { 0.0 };
    if apy >= 1000.0 {
        tag += 0.5;
    } else if apy >= 100.0 {
        tag += 0.2;
    }
    let outlier = if i.apy_outlier {
        "an outlier by DeFiLlama's 1.5·IQR rule"
    } else {
        "not an outlier by DeFiLlama's 1.5·IQR rule"
    };
    let size = if apy >= 1000.0 {
        " (≥ 1000 %: too good to be true)"
    } else if apy >= 100.0 {
        " (≥ 100 %)"
    } else {
        ""
    };
    raw("apy", c, tag.min(1.0), format!("APY {apy:.2} %{size}; {outlier}"))
}

fn deposit_fee_factor(i: &RiskInputs) -> Raw {
    let c = Category::Pool;
    let bps = i.powers.as_ref().map(|p| p.deposit_fee_bps).unwrap_or(0);
    let tag = match bps {
        0 => 0.0,
        1..=100 => 0.1,
        101..=400 => 0.3,
        _ => 0.5,
    };
    let ev = if bps == 0 {
        "no deposit fee".to_string()
    } else {
        format!("deposit fee {:.2} % to the owner", f64::from(bps) / 100.0)
    };
    raw("deposit_fee", c, tag, ev)
}

fn trend_factor(i: &RiskInputs) -> Raw {
    let c = Category::Pool;
    let (Some(now), Some(then)) = (i.tvl_usd, i.tvl_7d_ago_usd) else {
        return raw("tvl_trend", c, 0.0, "no TVL a week ago to compare".to_string());
    };
    if then <= 0.0 {
        return raw("tvl_trend", c, 0.0, format!("TVL ${} now, none a week ago", human(now)));
    }
    let change = now / then - 1.0;
    let ev = format!("TVL ${} now vs ${} 7 days ago ({:+.1} %)", human(now), human(then), change * 100.0);
    let tag = if change <= -0.5 {
        0.6
    } else if change <= -0.25 {
        0.3
    } else if now > 5.0 * then {
        0.2
    } else {
        0.0
    };
    raw("tvl_trend", c, tag, ev)
}

fn paused_factor(i: &RiskInputs) -> Raw {
    let c = Category::Pool;
    match &i.powers {
        Some(p) if p.paused => raw("paused", c, 0.5, "paused now: deposits and harvests are refused".to_string()),
        _ => raw("paused", c, 0.0, "not paused".to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// DeFiLlama's APY statistics and outlier rule
// ---------------------------------------------------------------------------------------------

/// DeFiLlama's `mu` and `sigma` of a pool's APY history (one sample per day, APY in percent), as
/// yield-server's enrichment step computes them:
/// daily return `r = (1 + apy/100)^(1/365) − 1`;
/// `mu = (Π(1 + r))^(365/count) − 1`, in percent (the annualised geometric mean);
/// `sigma = sqrt(M2/(count − 1) · 365)`, in percent, `M2` the sum of squared deviations of `r`
/// (0 with fewer than two samples). `None` for an empty history.
pub fn apy_mu_sigma(daily_apy_pct: &[f64]) -> Option<(f64, f64)> {
    let n = daily_apy_pct.len();
    if n == 0 {
        return None;
    }
    let returns: Vec<f64> = daily_apy_pct.iter().map(|a| (1.0 + a / 100.0).powf(1.0 / 365.0) - 1.0).collect();
    // Σ ln(1 + r) instead of the product, so that long histories do not overflow.
    let log_sum: f64 = returns.iter().map(|r| r.ln_1p()).sum();
    let mu = ((log_sum * 365.0 / n as f64).exp() - 1.0) * 100.0;
    let sigma = if n < 2 {
        0.0
    } else {
        let mean = returns.iter().sum::<f64>() / n as f64;
        let m2: f64 = returns.iter().map(|r| (r - mean).powi(2)).sum();
        (m2 / (n - 1) as f64 * 365.0).sqrt() * 100.0
    };
    Some((mu, sigma))
}

/// The quantile rule of the `simple-statistics` package that DeFiLlama calls (`ss.quantile`) on a
/// sorted sample: index `n·p`; a fractional index takes the element at ⌈n·p⌉ − 1; an integral
/// index takes the mean of the two neighbours when n is even, the element itself when n is odd;
/// p = 0 and p = 1 are the ends.
fn quantile_sorted(x: &[f64], p: f64) -> f64 {
    let n = x.len();
    if p <= 0.0 {
        return x[0];
    }
    if p >= 1.0 {
        return x[n - 1];
    }
    let idx = n as f64 * p;
    if idx.fract() != 0.0 {
        return x[(idx.ceil() as usize).saturating_sub(1)];
    }
    let i = idx as usize;
    if n.is_multiple_of(2) { (x[i - 1] + x[i]) / 2.0 } else { x[i] }
}

/// DeFiLlama's outlier flag over a set of pools, given each pool's `(mu, sigma)`
/// (yield-server `triggerEnrichment.js`): for each of mu and sigma, over the finite values,
/// `IQR = Q3 − Q1`, `lb = max(0, median − 1.5·IQR)`, `ub = median + 1.5·IQR`; a pool is an outlier
/// if its mu or its sigma lies outside `[lb, ub]`. Non-finite values count as 0, as DeFiLlama
/// sets them before comparing. (Note the fences are around the median, not Tukey's Q1/Q3.)
pub fn apy_outliers(values: &[(f64, f64)]) -> Vec<bool> {
    let bounds = |col: &dyn Fn(&(f64, f64)) -> f64| -> Option<(f64, f64)> {
        let mut x: Vec<f64> = values.iter().map(col).filter(|v| v.is_finite()).collect();
        if x.is_empty() {
            return None;
        }
        x.sort_by(f64::total_cmp);
        let iqr = quantile_sorted(&x, 0.75) - quantile_sorted(&x, 0.25);
        let median = quantile_sorted(&x, 0.5);
        Some(((median - 1.5 * iqr).max(0.0), median + 1.5 * iqr))
    };
    let mu_b = bounds(&|v| v.0);
    let sigma_b = bounds(&|v| v.1);
    let finite_or_zero = |v: f64| if v.is_finite() { v } else { 0.0 };
    let outside = |v: f64, b: Option<(f64, f64)>| b.is_some_and(|(lb, ub)| v < lb || v > ub);
    values
        .iter()
        .map(|(mu, sigma)| outside(finite_or_zero(*mu), mu_b) || outside(finite_or_zero(*sigma), sigma_b))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers shared with the alerts
// ---------------------------------------------------------------------------------------------

pub(crate) fn to_f64(v: U256) -> f64 {
    v.into()
}

/// A number for people: 1.23k, 4.56M, 7.89B; small values with up to four decimals.
pub(crate) fn human(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        return format!("{v}");
    }
    if a >= 1e12 {
        format!("{:.2}T", v / 1e12)
    } else if a >= 1e9 {
        format!("{:.2}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.2}k", v / 1e3)
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// `amount` of `token` in whole units with its symbol.
pub(crate) fn amount_words(engine: &Engine, token: TokenIx, amount: U256) -> String {
    let t = engine.token(token);
    format!("{} {}", human(to_f64(amount) / 10f64.powi(i32::from(t.decimals))), t.symbol)
}

/// A fraction as a percentage with sensible precision.
pub(crate) fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p.abs() >= 10_000.0 {
        format!("{} %", human(p))
    } else if p.abs() >= 10.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.2} %")
    }
}
