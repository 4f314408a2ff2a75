//! Monte Carlo: many price paths, each run through a [`Prepared`] strategy on the exact pool.
//!
//! **Models** (both fitted to real daily closes):
//! * [`Model::Gbm`]: geometric Brownian motion of the two tokens' USD prices, with the mean `μ`
//!   and standard deviation `σ` of each one's daily log returns and their correlation `ρ`
//!   (sample estimates). A step of `1/n` day adds `μ/n + σ/√n · z` to the log price, with
//!   `(z_a, z_b)` standard normals of correlation `ρ` (`z_b = ρ·z₁ + √(1−ρ²)·z₂`, Box–Muller
//!   from the path's own generator): the daily log return then has exactly the fitted mean and
//!   variance, whatever `n`.
//! * [`Model::Bootstrap`]: a block bootstrap (Künsch 1989) of the real daily log-return pairs:
//!   blocks of `block_days` consecutive days drawn uniformly with replacement and laid end to end,
//!   so volatility clusters and the two tokens' co-movement survive within a block. Within a day
//!   the log price moves linearly (the data have no intraday path).
//!
//! **Determinism.** Path `i` draws from its own ChaCha8 stream: key from the seed, stream number
//! `i` (`ChaCha8Rng::set_stream`), so a path's numbers do not depend on which thread runs it or
//! in what order. Paths run in parallel with rayon and are collected in index order
//! (`collect` on an indexed parallel iterator keeps order); every statistic is then reduced
//! sequentially, so the output is the same bytes for any thread count.

use crate::strategy::{Outcome, Prepared, PricePath, SimError, invalid};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

/// The largest path count accepted (memory: each path keeps its daily values).
pub const MAX_PATHS: usize = 1_000_000;

/// A price model for the pair `(a, b)`, per day.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Gbm { mu: [f64; 2], sigma: [f64; 2], rho: f64 },
    Bootstrap { returns: Vec<[f64; 2]>, block_days: usize },
}

impl Model {
    /// GBM fitted to aligned daily closes of the two tokens (at least 3 days).
    pub fn fit_gbm(a: &[f64], b: &[f64]) -> Result<Model, SimError> {
        let r = log_returns(a, b)?;
        if r.len() < 2 {
            return Err(invalid("fitting needs at least 3 daily closes: widen --from/--to".to_string()));
        }
        let n = r.len() as f64;
        let mean = |k: usize| r.iter().map(|x| x[k]).sum::<f64>() / n;
        let mu = [mean(0), mean(1)];
        let cov = |i: usize, j: usize| r.iter().map(|x| (x[i] - mu[i]) * (x[j] - mu[j])).sum::<f64>() / (n - 1.0);
        let sigma = [cov(0, 0).sqrt(), cov(1, 1).sqrt()];
        let rho =
            if sigma[0] > 0.0 && sigma[1] > 0.0 { (cov(0, 1) / (sigma[0] * sigma[1])).clamp(-1.0, 1.0) } else { 0.0 };
        Ok(Model::Gbm { mu, sigma, rho })
    }

    /// A block bootstrap of the aligned daily log returns.
    pub fn bootstrap(a: &[f64], b: &[f64], block_days: usize) -> Result<Model, SimError> {
        let returns = log_returns(a, b)?;
        if block_days == 0 || block_days > returns.len() {
            return Err(invalid(format!(
                "--block-days must be in 1..={} (the daily returns in the fitting window), got {block_days}",
                returns.len()
            )));
        }
        Ok(Model::Bootstrap { returns, block_days })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Model::Gbm { .. } => "gbm",
            Model::Bootstrap { .. } => "bootstrap",
        }
    }
}

fn log_returns(a: &[f64], b: &[f64]) -> Result<Vec<[f64; 2]>, SimError> {
    if a.len() != b.len() {
        return Err(invalid("the two series must be aligned day by day".to_string()));
    }
    if let Some(p) = a.iter().chain(b).find(|p| !(p.is_finite() && **p > 0.0)) {
        return Err(invalid(format!("prices must be positive and finite, found {p}")));
    }
    Ok(a.windows(2).zip(b.windows(2)).map(|(x, y)| [(x[1] / x[0]).ln(), (y[1] / y[0]).ln()]).collect())
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub paths: usize,
    pub days: u32,
    pub steps_per_day: u32,
    pub seed: u64,
    /// USD prices of the two tokens at the start of every path.
    pub start: [f64; 2],
    pub model: Model,
}

impl Spec {
    pub fn validate(&self) -> Result<(), SimError> {
        if self.paths == 0 || self.paths > MAX_PATHS {
            return Err(invalid(format!("--paths must be in 1..={MAX_PATHS}, got {}", self.paths)));
        }
        if self.days == 0 || self.days > 3650 {
            return Err(invalid(format!("--days must be in 1..=3650, got {}", self.days)));
        }
        if self.steps_per_day == 0 || self.steps_per_day > 1440 {
            return Err(invalid(format!("--steps-per-day must be in 1..=1440, got {}", self.steps_per_day)));
        }
        if !self.start.iter().all(|p| p.is_finite() && *p > 0.0) {
            return Err(invalid(format!("start prices must be positive, got {:?}", self.start)));
        }
        if let Model::Gbm { mu, sigma, rho } = &self.model
            && !(mu.iter().chain(sigma).all(|v| v.is_finite()) && sigma.iter().all(|s| *s >= 0.0) && rho.abs() <= 1.0)
        {
            return Err(invalid("--mu must be finite, --sigma ≥ 0 and the correlation in −1..=1".to_string()));
        }
        Ok(())
    }
}

/// The generator of path `index` for `seed` (see the module docs).
pub fn path_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// A uniform in (0, 1] from 53 random bits.
#[inline]
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normals (Box–Muller).
#[inline]
fn normals(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let r = (-2.0 * unit(rng).ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * unit(rng)).sin_cos();
    (r * c, r * s)
}

/// Fills `a` and `b` with path `index`'s prices: `days·steps_per_day + 1` points each.
pub fn generate(spec: &Spec, index: u64, a: &mut Vec<f64>, b: &mut Vec<f64>) {
    let spd = spec.steps_per_day as usize;
    let n = spec.days as usize * spd;
    a.clear();
    b.clear();
    a.reserve(n + 1);
    b.reserve(n + 1);
    let mut rng = path_rng(spec.seed, index);
    let (mut la, mut lb) = (0.0f64, 0.0f64);
    a.push(spec.start[0]);
    b.push(spec.start[1]);
    match &spec.model {
        Model::Gbm { mu, sigma, rho } => {
            let k = 1.0 / spd as f64;
            let (da, db) = (mu[0] * k, mu[1] * k);
            let (sa, sb) = (sigma[0] * k.sqrt(), sigma[1] * k.sqrt());
            let rho_c = (1.0 - rho * rho).max(0.0).sqrt();
            for _ in 0..n {
                let (z1, z2) = normals(&mut rng);
                la += da + sa * z1;
                lb += db + sb * (rho * z1 + rho_c * z2);
                a.push(spec.start[0] * la.exp());
                b.push(spec.start[1] * lb.exp());
            }
        }
        Model::Bootstrap { returns, block_days } => {
            let blocks = (returns.len() - block_days + 1) as u64;
            let mut day = 0usize;
            while day < spec.days as usize {
                let start = (rng.next_u64() % blocks) as usize;
                for r in &returns[start..start + block_days] {
                    if day == spec.days as usize {
                        break;
                    }
                    let (sa, sb) = (r[0] / spd as f64, r[1] / spd as f64);
                    for _ in 0..spd {
                        la += sa;
                        lb += sb;
                        a.push(spec.start[0] * la.exp());
                        b.push(spec.start[1] * lb.exp());
                    }
                    day += 1;
                }
            }
        }
    }
}

/// Runs every path (in parallel, results in path order). `progress` is called once per finished
/// path, from any thread.
pub fn run(prepared: &Prepared, spec: &Spec, progress: &(dyn Fn() + Sync)) -> Result<Vec<Outcome>, SimError> {
    spec.validate()?;
    (0..spec.paths as u64)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(a, b), i| {
                generate(spec, i, a, b);
                let path = PricePath { steps_per_day: spec.steps_per_day, a, b, reward: None, native: None };
                let out = prepared.run(&path);
                progress();
                out
            },
        )
        .collect()
}
