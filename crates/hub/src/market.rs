//! TVL, APR/APY and the opportunity list, in DeFiLlama's vocabulary: `apr_base` from trading fees
//! to LPs over a trailing window, `apr_reward` from emissions, `apy` from the APR at the stated
//! compounding. All percentages are in percent. Each figure carries the chain time it is computed
//! at and the window it used; nothing is stored as "current".

use crate::history::{History, current_sample};
use crate::prices::{PriceBook, fair_tvl, to_f64};
use granary_engine::Engine;
use granary_engine::farm::Funding;
use granary_engine::staking::EarlyExit;
use granary_engine::state::Minter;
use serde::Serialize;

pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;
pub const DAY: u64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// LP tokens staked in a farm.
    LpFarm,
    /// One token staked (a staking pool term, or a farm pool of a plain token).
    SingleStake,
    /// Liquidity in a pool, earning fees only.
    PlainLp,
}

/// How the APR compounds into the APY.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compounding {
    /// Fees are added to the pool's reserves as they accrue: APY = e^APR − 1.
    Continuous,
    /// Rewards must be claimed and re-staked by hand: the APY shown is the APR.
    None,
    /// Compounded n times a year: (1 + APR/n)^n − 1.
    PerYear(u32),
}

/// APY from APR (fractions, not percent) at the given compounding.
pub fn apy_from_apr(apr: f64, c: Compounding) -> f64 {
    match c {
        Compounding::Continuous => apr.exp_m1(),
        Compounding::None => apr,
        Compounding::PerYear(n) => (1.0 + apr / f64::from(n.max(1))).powi(n.max(1) as i32) - 1.0,
    }
}

/// The APR that compounds to `apy` (fractions).
pub fn apr_from_apy(apy: f64, c: Compounding) -> f64 {
    match c {
        Compounding::Continuous => apy.ln_1p(),
        Compounding::None => apy,
        Compounding::PerYear(n) => {
            let n = f64::from(n.max(1));
            n * ((1.0 + apy).powf(1.0 / n) - 1.0)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ExitRule {
    /// Leave at any time.
    Free,
    /// Nothing can leave before `unlock_at`.
    Forbidden,
    /// Early exit costs `penalty_pct` of principal and, if `forfeit_rewards`, the pending rewards.
    Penalty { penalty_pct: f64, forfeit_rewards: bool },
}

/// Lock-up in structured form (DeFiLlama only has free text in `poolMeta`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lockup {
    pub days: u32,
    pub early_exit: ExitRule,
}

/// What an opportunity points at in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    Pool { ix: usize },
    FarmPool { ix: usize },
    Staking { ix: usize, term_days: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opportunity {
    /// Stable id: `pool:P`, `farm:F0`, `stake:S:90d`.
    pub id: String,
    pub kind: Kind,
    pub chain: String,
    pub chain_id: u64,
    pub project: String,
    /// `A` or `A-B` (DeFiLlama's `symbol`).
    pub symbol: String,
    pub tvl_usd: f64,
    /// Fees to LPs over the trailing 24 h (or what history there is), annualised, % — not compounded.
    pub apr_base: Option<f64>,
    pub apr_base_7d: Option<f64>,
    /// Emissions to the staked value, annualised, % (no pre-mined rewards; only what is still to be emitted).
    pub apr_reward: Option<f64>,
    /// Total APY in %: base at its compounding plus reward (which does not compound by itself).
    pub apy: f64,
    pub base_compounding: Compounding,
    pub volume_usd_1d: Option<f64>,
    pub volume_usd_7d: Option<f64>,
    pub reward_tokens: Vec<String>,
    pub underlying_tokens: Vec<String>,
    pub lockup: Lockup,
    pub il_risk: bool,
    pub stablecoin: bool,
    /// Risk grade and score, filled by the risk engine.
    pub grade: Option<char>,
    pub risk_score: Option<u8>,
    /// Expected APY net of IL, gas, reward decay and grade-implied loss, %.
    pub apy_risk_adjusted: Option<f64>,
    /// Chain time the figures are computed at, and the fee window actually used.
    pub as_of: u64,
    pub window_s: u64,
    /// Warnings (a pushed spot price, no stakers yet, …).
    pub flags: Vec<String>,
    pub target: Target,
}

/// Length of the buckets the fee counters are cut into before the busiest one is discounted.
pub const FEE_BUCKET_S: u64 = 3_600;

/// A pool's trading over a trailing window, in USD at the book's (TWAP) prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolFees {
    /// Every fee LPs earned over the window (after the protocol's 1/6 when `fee_to` is on).
    pub fees_usd: f64,
    /// The fees the APR counts: the busiest hour of the window counted at the second busiest
    /// (see [`pool_fees_usd`]).
    pub counted_fees_usd: f64,
    /// Fees of the busiest hour, before it was discounted.
    pub busiest_hour_usd: f64,
    pub volume_usd: f64,
    /// Seconds the window actually covers (less than asked while history is young).
    pub window_s: u64,
}

/// Fees and volume of pool `ix` over the trailing `window_s` (or the history there is).
///
/// The window is cut into hours counted back from now (the oldest one partial); the fee APR
/// counts every hour but the busiest, which counts at the second busiest (a one-sided winsorised
/// sum). Why: a swap's fee is real, but one block of wash trading — cheap for the pool's main LP,
/// who gets the fee back — would otherwise enter the APR in full, annualised over a window that
/// may be only hours old. All fees of one block fall in one hour, so, with `v1 ≥ v2` the two
/// busiest hours of the honest history, one block adds at most `2·v1 − v2` to the counted fees,
/// and nothing at all to a window where nothing else traded ([`counted_fees`]).
/// Honest, spread trading loses only `v1 − v2` of its fees; trading that all falls in one hour is
/// not counted until a second hour trades.
pub fn pool_fees_usd(
    engine: &Engine,
    history: &History,
    book: &PriceBook,
    ix: usize,
    window_s: u64,
) -> Option<PoolFees> {
    let p = engine.pool(ix);
    let now = current_sample(engine, ix);
    let then = history.pool_at(ix, now.t.saturating_sub(window_s))?;
    let window = now.t.checked_sub(then.t).filter(|w| *w > 0)?;
    let lp_share = if p.fee_to.is_some() { 5.0 / 6.0 } else { 1.0 };
    // USD per base unit of each side.
    let unit_usd = |token: usize| Some(book.usd(token)? / 10f64.powi(i32::from(engine.token(token).decimals)));
    let prices = [unit_usd(p.tokens[0])?, unit_usd(p.tokens[1])?];
    let usd = |later: &[granary_engine::U256; 2], earlier: &[granary_engine::U256; 2]| -> f64 {
        (0..2).map(|side| to_f64(later[side].saturating_sub(earlier[side])) * prices[side]).sum::<f64>()
    };
    // Hour edges now, now − 1 h, …, down to `then`; the counters at an edge are those of the
    // newest sample at or before it, so the hours add up to exactly `now − then`.
    let hours = window.div_ceil(FEE_BUCKET_S);
    let mut upper = now.fees_in;
    let mut buckets = Vec::with_capacity(hours as usize);
    for h in 1..=hours {
        let edge = now.t.saturating_sub(h * FEE_BUCKET_S).max(then.t);
        let lower =
            if edge == then.t { then.fees_in } else { history.pool_at(ix, edge).map_or(then.fees_in, |s| s.fees_in) };
        buckets.push(usd(&upper, &lower) * lp_share);
        upper = lower;
    }
    let summed = winsorise(&buckets);
    Some(PoolFees {
        fees_usd: summed.sum,
        counted_fees_usd: summed.counted,
        busiest_hour_usd: summed.busiest,
        volume_usd: usd(&now.volume_in, &then.volume_in),
        window_s: window,
    })
}

/// The fees the APR counts of a window's hours: their sum with the busiest hour counted at the
/// second busiest (0 for a single hour). With `v1 ≥ v2` the two busiest of `hours`, raising any one
/// hour by any amount raises this by at most `2·v1 − v2`: if it stays below the busiest, by at
/// most `v1 − v_j` plus the rise of the second (≤ `v1 − v2`); if it becomes the busiest, by
/// `2·v1 − v2 − v_j`.
pub fn counted_fees(hours: &[f64]) -> f64 {
    winsorise(hours).counted
}

/// A window's hours summed: all of them, the busiest alone, and as the APR counts them.
struct Winsorised {
    sum: f64,
    busiest: f64,
    counted: f64,
}

/// One pass over `hours` for their sum and two busiest (0 where there are fewer).
fn winsorise(hours: &[f64]) -> Winsorised {
    let (sum, busiest, second) = hours.iter().fold((0.0, 0.0, 0.0), |(sum, a, b), &x| {
        if x > a {
            (sum + x, x, a)
        } else if x > b {
            (sum + x, a, x)
        } else {
            (sum + x, a, b)
        }
    });
    let counted = sum - busiest + second;
    debug_assert!(counted <= sum * (1.0 + 1e-12) + f64::MIN_POSITIVE);
    Winsorised { sum, busiest, counted: counted.max(0.0) }
}

/// The share of farm pool `ix`'s recorded stake that the farm still holds, in [0, 1]. MasterChef's
/// `migrate` moves the staked tokens out but leaves every user's recorded amount, so TVL from the
/// record alone would show a drained farm as full. The farm's holding of the stake token (less
/// its reward reserve when it pays rewards in that token) is shared pro rata among its pools
/// that stake that token.
pub fn farm_backing(engine: &Engine, ix: usize) -> f64 {
    let fp = engine.farm_pool(ix);
    let farm = engine.farm(fp.farm);
    let recorded = engine
        .farm_pools()
        .iter()
        .filter(|p| p.farm == fp.farm && p.stake_token == fp.stake_token)
        .fold(granary_engine::U256::ZERO, |sum, p| sum.saturating_add(p.total_staked));
    if recorded.is_zero() {
        return 1.0;
    }
    let mut held = engine.balance(fp.stake_token, farm.address);
    if farm.reward_token == fp.stake_token {
        held = held.saturating_sub(farm.reward_reserve);
    }
    if held >= recorded { 1.0 } else { to_f64(held) / to_f64(recorded) }
}

/// Pool `ix` TVL (fair reserves at TWAP prices).
pub fn pool_tvl(engine: &Engine, book: &PriceBook, ix: usize) -> Option<f64> {
    let p = engine.pool(ix);
    Some(fair_tvl(engine, ix, book.usd(p.tokens[0])?, book.usd(p.tokens[1])?))
}

fn annualise(amount: f64, tvl: f64, window_s: u64) -> Option<f64> {
    (tvl > 0.0 && window_s > 0).then(|| amount / tvl * SECONDS_PER_YEAR / window_s as f64 * 100.0)
}

fn token_amount(engine: &Engine, token: usize, v: granary_engine::U256) -> f64 {
    to_f64(v) / 10f64.powi(i32::from(engine.token(token).decimals))
}

const STABLE: [&str; 7] = ["USDC", "USDT", "DAI", "USDC.e", "BUSD", "FDUSD", "USDbC"];

fn is_stable(symbol: &str) -> bool {
    STABLE.iter().any(|s| s.eq_ignore_ascii_case(symbol))
}

/// What one pool's trading contributes to an opportunity: the fee APRs over 24 h and 7 d (each
/// from the counted fees, [`pool_fees_usd`]), the volumes, the 24 h window covered, and a flag
/// when the busiest hour's discount took off more than a tenth of the 24 h fees.
#[derive(Default)]
struct PoolBase {
    apr_1d: Option<f64>,
    apr_7d: Option<f64>,
    volume_1d: Option<f64>,
    volume_7d: Option<f64>,
    window_s: u64,
    flag: Option<String>,
}

fn pool_base(engine: &Engine, history: &History, book: &PriceBook, ix: usize, tvl: f64) -> PoolBase {
    let d1 = pool_fees_usd(engine, history, book, ix, DAY);
    let d7 = pool_fees_usd(engine, history, book, ix, 7 * DAY);
    let flag = d1.filter(|f| f.fees_usd - f.counted_fees_usd > 0.1 * f.fees_usd).map(|f| {
        format!(
            "one hour held {:.0}% of the last {:.0} h of fees; the fee APR counts it at the next busiest hour",
            f.busiest_hour_usd / f.fees_usd * 100.0,
            f.window_s as f64 / FEE_BUCKET_S as f64
        )
    });
    PoolBase {
        apr_1d: d1.and_then(|f| annualise(f.counted_fees_usd, tvl, f.window_s)),
        apr_7d: d7.and_then(|f| annualise(f.counted_fees_usd, tvl, f.window_s)),
        volume_1d: d1.map(|f| f.volume_usd),
        volume_7d: d7.map(|f| f.volume_usd),
        window_s: d1.map_or(0, |f| f.window_s),
        flag,
    }
}

/// Every opportunity the engine holds, priced.
pub fn opportunities(
    engine: &Engine,
    history: &History,
    book: &PriceBook,
    project_of: &dyn Fn(&str) -> String,
) -> Vec<Opportunity> {
    let mut out = Vec::new();
    let sym = |t: usize| engine.token(t).symbol.clone();
    let flags_of = |tokens: &[usize]| -> Vec<String> {
        tokens
            .iter()
            .filter_map(|t| {
                book.quotes
                    .get(t)
                    .filter(|q| q.flagged)
                    .map(|q| format!("{} spot is {:.1}% off its TWAP", sym(*t), q.divergence * 100.0))
            })
            .collect()
    };
    // Plain LP positions.
    for (ix, p) in engine.pools().iter().enumerate() {
        let Some(tvl) = pool_tvl(engine, book, ix) else { continue };
        let base = pool_base(engine, history, book, ix, tvl);
        let (apr1, apr7, v1, v7, window) = (base.apr_1d, base.apr_7d, base.volume_1d, base.volume_7d, base.window_s);
        let mut flags = flags_of(&p.tokens);
        flags.extend(base.flag);
        let c = engine.chain(p.chain);
        out.push(Opportunity {
            id: format!("pool:{}", p.id),
            kind: Kind::PlainLp,
            chain: c.name.clone(),
            chain_id: c.chain_id,
            project: project_of(&p.id),
            symbol: format!("{}-{}", sym(p.tokens[0]), sym(p.tokens[1])),
            tvl_usd: tvl,
            apr_base: apr1,
            apr_base_7d: apr7,
            apr_reward: None,
            apy: apy_from_apr(apr1.unwrap_or(0.0) / 100.0, Compounding::Continuous) * 100.0,
            base_compounding: Compounding::Continuous,
            volume_usd_1d: v1,
            volume_usd_7d: v7,
            reward_tokens: vec![],
            underlying_tokens: vec![engine.token(p.tokens[0]).id.clone(), engine.token(p.tokens[1]).id.clone()],
            lockup: Lockup { days: 0, early_exit: ExitRule::Free },
            il_risk: !(is_stable(&sym(p.tokens[0])) && is_stable(&sym(p.tokens[1]))),
            stablecoin: is_stable(&sym(p.tokens[0])) && is_stable(&sym(p.tokens[1])),
            grade: None,
            risk_score: None,
            apy_risk_adjusted: None,
            as_of: c.now,
            window_s: window,
            flags,
            target: Target::Pool { ix },
        });
    }
    // Farm pools.
    for (ix, fp) in engine.farm_pools().iter().enumerate() {
        let farm = engine.farm(fp.farm);
        let c = engine.chain(farm.chain);
        let stake = fp.stake_token;
        let Some(stake_price) = book.usd(stake) else { continue };
        let backing = farm_backing(engine, ix);
        let tvl = token_amount(engine, stake, fp.total_staked) * stake_price * backing;
        let lp_pool = match engine.token(stake).minter {
            Minter::Pool(pix) => Some(pix),
            _ => None,
        };
        let (base, symbol, underlying, il_risk, stable) = match lp_pool {
            Some(pix) => {
                let p = engine.pool(pix);
                let ptvl = pool_tvl(engine, book, pix).unwrap_or(0.0);
                let (s0, s1) = (sym(p.tokens[0]), sym(p.tokens[1]));
                let stable = is_stable(&s0) && is_stable(&s1);
                (
                    pool_base(engine, history, book, pix, ptvl),
                    format!("{s0}-{s1}"),
                    vec![engine.token(p.tokens[0]).id.clone(), engine.token(p.tokens[1]).id.clone()],
                    !stable,
                    stable,
                )
            }
            None => {
                (PoolBase::default(), sym(stake), vec![engine.token(stake).id.clone()], false, is_stable(&sym(stake)))
            }
        };
        let (apr1, apr7, v1, v7, window) = (base.apr_1d, base.apr_7d, base.volume_1d, base.volume_7d, base.window_s);
        let active = c.now >= farm.start && farm.end.is_none_or(|e| c.now < e);
        let mut flags = flags_of(&[stake, farm.reward_token]);
        flags.extend(base.flag);
        if backing < 1.0 {
            flags.push(format!(
                "the farm holds only {:.1}% of the stake it records: the rest was moved out (migrator)",
                backing * 100.0
            ));
        }
        let apr_reward = match (active, book.usd(farm.reward_token), farm.total_alloc_point) {
            (true, Some(rp), total) if total > 0 => {
                let per_year = token_amount(engine, farm.reward_token, farm.reward_per_second)
                    * SECONDS_PER_YEAR
                    * fp.alloc_point as f64
                    / total as f64;
                if tvl > 0.0 {
                    Some(per_year * rp / tvl * 100.0)
                } else {
                    flags.push("nothing staked yet: the first staker takes every reward".into());
                    None
                }
            }
            (false, _, _) => Some(0.0),
            _ => None,
        };
        if farm.funding == Funding::Budget && farm.reward_reserve.is_zero() {
            flags.push("the reward budget is empty: rewards accrue as owed".into());
        }
        let apy =
            apy_from_apr(apr1.unwrap_or(0.0) / 100.0, Compounding::Continuous) * 100.0 + apr_reward.unwrap_or(0.0);
        out.push(Opportunity {
            id: format!("farm:{}", fp.id),
            kind: if lp_pool.is_some() { Kind::LpFarm } else { Kind::SingleStake },
            chain: c.name.clone(),
            chain_id: c.chain_id,
            project: project_of(&farm.id),
            symbol,
            tvl_usd: tvl,
            apr_base: apr1,
            apr_base_7d: apr7,
            apr_reward,
            apy,
            base_compounding: Compounding::Continuous,
            volume_usd_1d: v1,
            volume_usd_7d: v7,
            reward_tokens: vec![engine.token(farm.reward_token).id.clone()],
            underlying_tokens: underlying,
            lockup: Lockup { days: 0, early_exit: ExitRule::Free },
            il_risk,
            stablecoin: stable,
            grade: None,
            risk_score: None,
            apy_risk_adjusted: None,
            as_of: c.now,
            window_s: window,
            flags,
            target: Target::FarmPool { ix },
        });
    }
    // Staking pools, one opportunity per term.
    for (ix, sp) in engine.staking_pools().iter().enumerate() {
        let c = engine.chain(sp.chain);
        let Some(stake_price) = book.usd(sp.stake_token) else { continue };
        let tvl = token_amount(engine, sp.stake_token, sp.total_staked) * stake_price;
        let weight_usd = token_amount(engine, sp.stake_token, sp.total_weight) * stake_price;
        let running = c.now < sp.period_finish;
        for term in &sp.terms {
            let mut flags = flags_of(&[sp.stake_token, sp.reward_token]);
            let apr_reward = match (running, book.usd(sp.reward_token)) {
                (false, _) => Some(0.0),
                (true, Some(rp)) if weight_usd > 0.0 => {
                    let per_year = token_amount(engine, sp.reward_token, sp.reward_rate) * SECONDS_PER_YEAR * rp;
                    Some(per_year / weight_usd * f64::from(term.boost_bps) / 10_000.0 * 100.0)
                }
                (true, Some(_)) => {
                    flags.push("nothing staked yet: the first staker takes every reward".into());
                    None
                }
                (true, None) => None,
            };
            let early_exit = if term.days == 0 {
                ExitRule::Free
            } else {
                match sp.early_exit {
                    EarlyExit::Forbidden => ExitRule::Forbidden,
                    EarlyExit::Penalty { penalty_bps, forfeit_rewards, .. } => {
                        ExitRule::Penalty { penalty_pct: f64::from(penalty_bps) / 100.0, forfeit_rewards }
                    }
                }
            };
            // The APR shown is what holding to the unlock earns; say what leaving early slashes.
            if let ExitRule::Penalty { penalty_pct, forfeit_rewards } = &early_exit {
                flags.push(format!(
                    "leaving before day {} costs {penalty_pct}% of principal{}",
                    term.days,
                    if *forfeit_rewards { " and all pending rewards" } else { "" }
                ));
            }
            out.push(Opportunity {
                id: format!("stake:{}:{}d", sp.id, term.days),
                kind: Kind::SingleStake,
                chain: c.name.clone(),
                chain_id: c.chain_id,
                project: project_of(&sp.id),
                symbol: sym(sp.stake_token),
                tvl_usd: tvl,
                apr_base: None,
                apr_base_7d: None,
                apr_reward,
                apy: apr_reward.unwrap_or(0.0),
                base_compounding: Compounding::None,
                volume_usd_1d: None,
                volume_usd_7d: None,
                reward_tokens: vec![engine.token(sp.reward_token).id.clone()],
                underlying_tokens: vec![engine.token(sp.stake_token).id.clone()],
                lockup: Lockup { days: term.days, early_exit },
                il_risk: false,
                stablecoin: is_stable(&sym(sp.stake_token)),
                grade: None,
                risk_score: None,
                apy_risk_adjusted: None,
                as_of: c.now,
                window_s: 0,
                flags,
                target: Target::Staking { ix, term_days: term.days },
            });
        }
    }
    out
}
