//! `granary up`: open (or seed) the platform and serve it on 127.0.0.1 until Ctrl-C.

use clap::Args;
use granary_lab::date::Date;
use granary_server::limits::Limits;
use granary_server::platform::PlatformConfig;
use granary_server::{UpOptions, open, serve};
use granary_store::{Location, SnapshotPolicy};
use granary_world::market::MarketConfig;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct UpArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8420", env = "GRANARY_ADDR")]
    addr: SocketAddr,
    /// Seed of the demo world (read only when the store is empty).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Simulated seconds per wall second (600: ten minutes a second, a day in 2.4 minutes).
    #[arg(long, default_value_t = 600.0)]
    speed: f64,
    /// Wall milliseconds between market ticks (each tick closes one block per chain).
    #[arg(long, default_value_t = 1000)]
    tick_ms: u64,
    /// Start with the clock stopped (time moves only through POST /api/time/advance).
    #[arg(long)]
    paused: bool,
    /// First day of the real price window the market replays (YYYY-MM-DD).
    #[arg(long)]
    prices_from: Option<String>,
    /// Last day of that window.
    #[arg(long)]
    prices_to: Option<String>,
    /// Hold the last close at the end of the window instead of starting again.
    #[arg(long)]
    no_loop: bool,
    /// Requests that change state (any method but GET), per second, before 429 (burst: twice).
    #[arg(long, default_value_t = Limits::default().writes_per_s)]
    writes_per_s: f64,
    /// Expensive requests (unlock, simulate, advise, time advance) per second (burst: twice).
    #[arg(long, default_value_t = Limits::default().heavy_per_s)]
    heavy_per_s: f64,
}

fn date(field: &str, s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| format!("--{field} {s}: {e}"))
}

pub fn run(data_dir: &Path, location: Location, policy: SnapshotPolicy, a: &UpArgs) -> Result<ExitCode, String> {
    if !a.addr.ip().is_loopback() {
        return Err(format!("--addr {}: granary serves on the loopback interface only (127.0.0.1)", a.addr));
    }
    if !(a.speed.is_finite() && a.speed >= 0.0) {
        return Err("--speed must be a number ≥ 0".into());
    }
    let mut market = MarketConfig::default();
    if let Some(f) = &a.prices_from {
        market.from = date("prices-from", f)?;
    }
    if let Some(t) = &a.prices_to {
        market.to = date("prices-to", t)?;
    }
    market.looped = !a.no_loop;
    for (name, v) in [("--writes-per-s", a.writes_per_s), ("--heavy-per-s", a.heavy_per_s)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("{name} must be a number > 0"));
        }
    }
    let limits = Limits {
        writes_per_s: a.writes_per_s,
        writes_burst: (2.0 * a.writes_per_s).max(1.0),
        heavy_per_s: a.heavy_per_s,
        heavy_burst: (2.0 * a.heavy_per_s).max(1.0),
        ..Limits::default()
    };
    let opts = UpOptions {
        platform: PlatformConfig { location, policy, seed: a.seed, market },
        wallet_dir: data_dir.join("wallet"),
        addr: a.addr,
        speed: a.speed,
        tick: Duration::from_millis(a.tick_ms.max(50)),
        paused: a.paused,
        limits,
    };
    let started = Instant::now();
    let app = open(&opts).map_err(|e| e.to_string())?;
    {
        let st = app.status.lock().map(|s| s.clone()).unwrap_or_default();
        if st.seeded_now {
            println!("granary: seeded the demo world (seed {}) into {}", a.seed, st.store);
        } else {
            println!("granary: resumed from {}: {}", st.store, st.recovery);
        }
    }
    granary_server::fund_wallet_keys(&app);
    println!(
        "granary: ready in {:.1} s; simulated time runs at {}× (Ctrl-C stops)",
        started.elapsed().as_secs_f64(),
        a.speed
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let served = rt.block_on(serve(app.clone(), a.addr, opts.tick));
    // The platform (and a PostgreSQL store's blocking client) is dropped here, outside the
    // async runtime, once the server has drained.
    drop(rt);
    drop(app);
    served.map_err(|e| format!("cannot serve on {}: {e}", a.addr))?;
    Ok(ExitCode::SUCCESS)
}
