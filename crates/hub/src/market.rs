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

/// Fees earned by LPs (after the protocol's 1/6 when `fee_to` is on) and volume, in USD, over the
/// trailing `window_s` of pool `ix`; returns (fees, volume, window actually covered).
pub fn pool_fees_usd(
    engine: &Engine,
    history: &History,
    book: &PriceBook,
    ix: usize,
    window_s: u64,
) -> Option<(f64, f64, u64)> {
    let p = engine.pool(ix);
    let now = current_sample(engine, ix);
    let then = history.pool_at(ix, now.t.saturating_sub(window_s))?;
    let window = now.t.checked_sub(then.t).filter(|w| *w > 0)?;
    let lp_share = if p.fee_to.is_some() { 5.0 / 6.0 } else { 1.0 };
    let mut fees = 0.0;
    let mut volume = 0.0;
    for side in 0..2 {
        let price = book.usd(p.tokens[side])?;
        let scale = 10f64.powi(i32::from(engine.token(p.tokens[side]).decimals));
        fees += to_f64(now.fees_in[side].saturating_sub(then.fees_in[side])) / scale * price;
        volume += to_f64(now.volume_in[side].saturating_sub(then.volume_in[side])) / scale * price;
    }
    Some((fees * lp_share, volume, window))
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

/// Base APRs (24 h and 7 d) and volumes of pool `ix`.
fn pool_base(
    engine: &Engine,
    history: &History,
    book: &PriceBook,
    ix: usize,
    tvl: f64,
) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>, u64) {
    let d1 = pool_fees_usd(engine, history, book, ix, DAY);
    let d7 = pool_fees_usd(engine, history, book, ix, 7 * DAY);
    let apr1 = d1.and_then(|(f, _, w)| annualise(f, tvl, w));
    let apr7 = d7.and_then(|(f, _, w)| annualise(f, tvl, w));
    (apr1, apr7, d1.map(|x| x.1), d7.map(|x| x.1), d1.map_or(0, |x| x.2))
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
        let (apr1, apr7, v1, v7, window) = pool_base(engine, history, book, ix, tvl);
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
            flags: flags_of(&p.tokens),
            target: Target::Pool { ix },
        });
    }
    // Farm pools.
    for (ix, fp) in engine.farm_pools().iter().enumerate() {
        let farm = engine.farm(fp.farm);
        let c = engine.chain(farm.chain);
        let stake = fp.stake_token;
        let Some(stake_price) = book.usd(stake) else { continue };
        let tvl = token_amount(engine, stake, fp.total_staked) * stake_price;
        let lp_pool = match engine.token(stake).minter {
            Minter::Pool(pix) => Some(pix),
            _ => None,
        };
        let (apr1, apr7, v1, v7, window, symbol, underlying, il_risk, stable) = match lp_pool {
            Some(pix) => {
                let p = engine.pool(pix);
                let ptvl = pool_tvl(engine, book, pix).unwrap_or(0.0);
                let (a1, a7, v1, v7, w) = pool_base(engine, history, book, pix, ptvl);
                let (s0, s1) = (sym(p.tokens[0]), sym(p.tokens[1]));
                let stable = is_stable(&s0) && is_stable(&s1);
                (
                    a1,
                    a7,
                    v1,
                    v7,
                    w,
                    format!("{s0}-{s1}"),
                    vec![engine.token(p.tokens[0]).id.clone(), engine.token(p.tokens[1]).id.clone()],
                    !stable,
                    stable,
                )
            }
            None => (
                None,
                None,
                None,
                None,
                0,
                sym(stake),
                vec![engine.token(stake).id.clone()],
                false,
                is_stable(&sym(stake)),
            ),
        };
        let active = c.now >= farm.start && farm.end.is_none_or(|e| c.now < e);
        let mut flags = flags_of(&[stake, farm.reward_token]);
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
