//! `granary bench`: `all` (also the default) runs every benchmark with its peers in one run and
//! writes docs/PERFORMANCE.md (`all.rs`, `report.rs`); `api` is the API under load — requests per
//! second and latency percentiles of a route at N keep-alive connections on loopback, against a
//! running `granary up` (`--target`) or a fresh in-process one whose demo market keeps running
//! during the measurement.

mod all;
mod report;

use clap::{Args, Subcommand};
use granary_server::loadgen::LoadReport;
use granary_server::platform::PlatformConfig;
use granary_server::{UpOptions, loadgen};
use granary_store::{Location, SnapshotPolicy};
use granary_world::market::MarketConfig;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// `granary bench [all options]` is `granary bench all [all options]`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    all: all::AllArgs,
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Every benchmark with its peers in one run (the default): writes docs/PERFORMANCE.md.
    All(all::AllArgs),
    /// Load-test an API route (default GET /api/opportunities, 64 connections, 10 s).
    Api(ApiArgs),
}

#[derive(Args)]
pub struct ApiArgs {
    /// host:port of a running `granary up`; default: start one in-process on a temporary store.
    #[arg(long)]
    target: Option<SocketAddr>,
    #[arg(long, default_value = "/api/opportunities")]
    path: String,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of measurement (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Simulated seconds per wall second of the in-process world while measuring.
    #[arg(long, default_value_t = 600.0)]
    speed: f64,
    #[arg(long)]
    json: bool,
}

impl Default for ApiArgs {
    /// The measurement `granary bench all` reports: the defaults of `granary bench api`.
    fn default() -> Self {
        ApiArgs {
            target: None,
            path: "/api/opportunities".into(),
            connections: 64,
            seconds: 10,
            speed: 600.0,
            json: false,
        }
    }
}

pub fn run(args: BenchArgs) -> Result<ExitCode, String> {
    match args.command {
        None => all::run(&args.all),
        Some(BenchCommand::All(a)) => all::run(&a),
        Some(BenchCommand::Api(a)) => api(&a),
    }
}

fn api(a: &ApiArgs) -> Result<ExitCode, String> {
    let m = measure_api(a)?;
    let r = &m.report;
    if a.json {
        println!("{}", serde_json::to_string(r).unwrap_or_default());
    } else {
        println!(
            "GET {} · {} connections · {:.1} s{}",
            r.path,
            r.connections,
            r.seconds,
            if a.target.is_none() { " · in-process server, demo market running" } else { "" }
        );
        println!("  requests  {} ({} errors), {:.0} req/s", r.requests, r.errors, r.requests_per_s);
        println!(
            "  latency   p50 {:.2} ms · p90 {:.2} ms · p99 {:.2} ms · max {:.2} ms",
            r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms
        );
        println!("  body      {:.0} bytes on average", r.mean_body_bytes);
        if let Some(b) = m.blocks {
            println!("  chains    {b} blocks in all at the end (the market ran during the load)");
        }
    }
    Ok(if r.errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// One load measurement, and the chains' blocks in all at its end when the server was in-process.
pub struct ApiMeasurement {
    pub report: LoadReport,
    pub blocks: Option<u64>,
}

pub fn measure_api(a: &ApiArgs) -> Result<ApiMeasurement, String> {
    if a.connections == 0 || a.connections > 1024 || a.seconds == 0 || a.seconds > 600 {
        return Err("--connections must be 1..=1024 and --seconds 1..=600".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let tmp;
    let (addr, app) = match a.target {
        Some(t) => (t, None),
        None => {
            tmp = std::env::temp_dir().join(format!("granary-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            let opts = UpOptions {
                platform: PlatformConfig {
                    location: Location::Sqlite(tmp.clone()),
                    policy: SnapshotPolicy::default(),
                    seed: 42,
                    market: MarketConfig::default(),
                },
                wallet_dir: tmp.join("wallet"),
                addr: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
                speed: a.speed,
                tick: Duration::from_secs(1),
                paused: false,
                limits: granary_server::limits::Limits::default(),
            };
            eprintln!("seeding the demo world in {} …", tmp.display());
            let app = granary_server::open(&opts).map_err(|e| e.to_string())?;
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let router = granary_server::router(app.clone());
            rt.spawn(async move {
                let _ = axum_serve(listener, router).await;
            });
            granary_server::spawn_clock(app.clone(), Duration::from_secs(1));
            (addr, Some(app))
        }
    };
    rt.block_on(loadgen::run(addr, &a.path, a.connections, Duration::from_secs(1)));
    let r = rt.block_on(loadgen::run(addr, &a.path, a.connections, Duration::from_secs(a.seconds)));
    let blocks = app.as_ref().map(|app| app.view().chains.iter().map(|c| c.block_number).sum::<u64>());
    if let Some(app) = &app {
        app.request_shutdown();
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("granary-bench-{}", std::process::id())));
    }
    Ok(ApiMeasurement { report: r, blocks })
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}
