//! Inputs of a simulation from the shipped data: a pair's aligned daily closes, a historical
//! window as a price path, and the six chains' gas defaults.

use crate::data;
use crate::date::Date;
use crate::prices::DailySeries;
use crate::strategy::{Gas, SimError, invalid};

/// A chain's gas defaults: the six chains of SPEC §2.1, with gas prices typical of 2023–2024
/// (the demo world's values) and the native token's USD price used when its series does not
/// cover a date (or in Monte Carlo, unless the native token is the pair's volatile token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainGas {
    pub name: &'static str,
    pub chain_id: u64,
    pub native: &'static str,
    pub gwei: f64,
    pub native_usd: f64,
}

impl ChainGas {
    pub fn gas(&self) -> Gas {
        Gas { gwei: self.gwei, native_usd: self.native_usd }
    }
}

pub const CHAINS: [ChainGas; 6] = [
    ChainGas { name: "ethereum", chain_id: 1, native: "ETH", gwei: 28.0, native_usd: 2640.0 },
    ChainGas { name: "bsc", chain_id: 56, native: "BNB", gwei: 3.0, native_usd: 320.0 },
    ChainGas { name: "polygon", chain_id: 137, native: "MATIC", gwei: 60.0, native_usd: 0.85 },
    ChainGas { name: "arbitrum", chain_id: 42_161, native: "ETH", gwei: 0.01, native_usd: 2640.0 },
    ChainGas { name: "base", chain_id: 8_453, native: "ETH", gwei: 0.005, native_usd: 2640.0 },
    ChainGas { name: "avalanche", chain_id: 43_114, native: "AVAX", gwei: 25.0, native_usd: 36.0 },
];

/// The chain called `name` (or with that chain id).
pub fn chain(name: &str) -> Result<ChainGas, SimError> {
    let lower = name.to_ascii_lowercase();
    CHAINS.iter().copied().find(|c| c.name == lower || c.chain_id.to_string() == lower).ok_or_else(|| {
        let names: Vec<&str> = CHAINS.iter().map(|c| c.name).collect();
        invalid(format!("--chain {name:?} is not one of {}", names.join(", ")))
    })
}

/// Aligned daily closes: the dates, token A's and token B's USD closes.
pub type Aligned = (Vec<Date>, Vec<f64>, Vec<f64>);

/// A pair of the shipped series: `A/B`, where `B` may be `USD` (a constant $1).
#[derive(Debug, Clone)]
pub struct Pair {
    pub name: String,
    pub a: DailySeries,
    pub b: Option<DailySeries>,
}

impl Pair {
    pub fn load(spec: &str) -> Result<Pair, SimError> {
        let Some((a, b)) = spec.split_once('/') else {
            return Err(invalid(format!("--pair {spec:?} must be two symbols like ETH/USDC")));
        };
        let (a, b) = (a.trim().to_ascii_uppercase(), b.trim().to_ascii_uppercase());
        let load = |s: &str| {
            data::load_with(s, data::policy_for(s)).map_err(|e| {
                invalid(format!("--pair {spec:?}: {e}; the shipped symbols are {}", data::SYMBOLS.join(", ")))
            })
        };
        if a == b {
            return Err(invalid(format!("--pair {spec:?} names one token twice")));
        }
        if a == "USD" {
            return Err(invalid(format!("--pair {spec:?}: put the volatile token first, like ETH/USD")));
        }
        let sa = load(&a)?;
        let sb = if b == "USD" { None } else { Some(load(&b)?) };
        Ok(Pair { name: format!("{a}/{b}"), a: sa, b: sb })
    }

    /// The days both series cover, with both closes.
    pub fn aligned(&self) -> Aligned {
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for &(d, pa) in &self.a.points {
            let pb = match &self.b {
                None => Some(1.0),
                Some(b) => b.close_on(d),
            };
            if let Some(pb) = pb {
                out.0.push(d);
                out.1.push(pa);
                out.2.push(pb);
            }
        }
        out
    }

    /// The aligned closes dated `from..=to`, every day present; errors name `--from`/`--to`.
    pub fn window(&self, from: Date, to: Date) -> Result<Aligned, SimError> {
        if from >= to {
            return Err(invalid(format!("--from {from} must be before --to {to}")));
        }
        let (d, a, b) = self.aligned();
        let (Some(&first), Some(&last)) = (d.first(), d.last()) else {
            return Err(invalid(format!("{}: the two series share no day", self.name)));
        };
        if from < first || to > last {
            return Err(invalid(format!(
                "--from {from} --to {to} is outside the data for {}, which covers {first}..={last}: choose dates inside it",
                self.name
            )));
        }
        let lo = d.partition_point(|x| *x < from);
        let hi = d.partition_point(|x| *x <= to);
        let days = &d[lo..hi];
        if let Some(w) = days.windows(2).find(|w| w[1].days_after(w[0]) != 1) {
            return Err(invalid(format!(
                "{}: no close between {} and {} in the window; choose a window without gaps",
                self.name, w[0], w[1]
            )));
        }
        if days.first() != Some(&from) || days.last() != Some(&to) {
            return Err(invalid(format!("{}: --from and --to must both be days with closes", self.name)));
        }
        Ok((days.to_vec(), a[lo..hi].to_vec(), b[lo..hi].to_vec()))
    }
}

/// A daily series as a path of `steps_per_day` steps a day, linear in price within a day (the
/// close of day `i` at step `i·steps_per_day`).
pub fn stepped(closes: &[f64], steps_per_day: u32) -> Vec<f64> {
    let spd = steps_per_day.max(1) as usize;
    let mut out = Vec::with_capacity((closes.len().saturating_sub(1)) * spd + 1);
    for w in closes.windows(2) {
        for k in 0..spd {
            out.push(w[0] + (w[1] - w[0]) * k as f64 / spd as f64);
        }
    }
    if let Some(&last) = closes.last() {
        out.push(last);
    }
    out
}

/// The closes of `symbol` on each of `dates`, if the shipped series has every one of them.
pub fn closes_on(symbol: &str, dates: &[Date]) -> Option<Vec<f64>> {
    let s = data::load_with(symbol, data::policy_for(symbol)).ok()?;
    dates.iter().map(|d| s.close_on(*d)).collect()
}
