//! `granary up`: the platform as one process. A [`Platform`] (store node, hub, alert detector,
//! live market) is the single writer; the simulated clock runs it forward on its own thread;
//! HTTP requests read an immutable [`view::View`] rebuilt after every change, and writes (a
//! transaction, the faucet, an advance of time) take the writer's lock on a blocking thread.
//!
//! Routes: the JSON API under `/api` (see [`api`] and `GET /api/openapi.json`), the SSE stream
//! `/api/events`, Prometheus `/metrics`, and the server-rendered dashboard ([`web`]).

pub mod api;
pub mod api_advise;
pub mod api_lab;
pub mod dto;
pub mod error;
pub mod events;
pub mod faucet;
pub mod guard;
pub mod intent;
pub mod limits;
pub mod loadgen;
pub mod metrics;
pub mod openapi;
pub mod platform;
pub mod series;
pub mod view;
pub mod wallet;
pub mod web;

use crate::error::ApiError;
use crate::events::Event;
use crate::platform::{Platform, PlatformConfig, PlatformError};
use crate::view::View;
use axum::Router;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{MethodRouter, get, post};
use futures_util::StreamExt;
use granary_engine::{Action, Outcome};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// The simulated clock: chain seconds per wall second, and a pause switch.
pub struct Clock {
    speed_milli: AtomicU64,
    paused: AtomicBool,
}

impl Clock {
    pub fn new(speed: f64, paused: bool) -> Clock {
        Clock { speed_milli: AtomicU64::new((speed.max(0.0) * 1000.0) as u64), paused: AtomicBool::new(paused) }
    }
    pub fn speed(&self) -> f64 {
        self.speed_milli.load(Ordering::Relaxed) as f64 / 1000.0
    }
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
    pub fn set_paused(&self, p: bool) {
        self.paused.store(p, Ordering::Relaxed);
    }
}

/// What start-up found, for `/api/status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    pub store: String,
    pub recovery: String,
    pub seeded_now: bool,
    pub seed: u64,
}

/// An event as the SSE stream sends it: its name and its JSON.
#[derive(Debug, Clone)]
pub struct SseMsg {
    pub name: &'static str,
    pub json: String,
}

/// The shared state of the server.
pub struct App {
    platform: Mutex<Platform>,
    view: RwLock<Arc<View>>,
    pub events: broadcast::Sender<Arc<SseMsg>>,
    pub metrics: metrics::Metrics,
    pub wallet: wallet::LocalWallet,
    pub clock: Clock,
    pub openapi: String,
    pub status: Mutex<Status>,
    pub limiter: Arc<limits::Limiter>,
    shutdown: AtomicBool,
    /// Flips to true on shutdown, so that open event streams end and the server can drain.
    stop: tokio::sync::watch::Sender<bool>,
}

impl App {
    pub fn new(
        platform: Platform,
        wallet: wallet::LocalWallet,
        clock: Clock,
        seed: u64,
        limits: limits::Limits,
    ) -> Arc<App> {
        let view = View::build(&platform);
        let mut platform = platform;
        let status = Status {
            store: platform.describe_store(),
            recovery: platform.recovery.to_string(),
            seeded_now: platform.seeded_now,
            seed,
        };
        let (events, _) = broadcast::channel(4096);
        Arc::new(App {
            platform: Mutex::new(platform),
            view: RwLock::new(Arc::new(view)),
            events,
            metrics: metrics::Metrics::default(),
            wallet,
            clock,
            openapi: openapi::document(),
            status: Mutex::new(status),
            limiter: limits::Limiter::new(limits),
            shutdown: AtomicBool::new(false),
            stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// The current picture (cheap: an `Arc` clone).
    pub fn view(&self) -> Arc<View> {
        match self.view.read() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Platform> {
        self.platform.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read the platform under the writer's lock (history series, risk detail).
    pub fn read_platform<T>(&self, f: impl FnOnce(&Platform) -> T) -> T {
        f(&self.lock())
    }

    /// Change the platform, then publish the new view and the events. Blocking (store writes):
    /// call from a blocking thread.
    pub fn write<T>(&self, f: impl FnOnce(&mut Platform) -> T) -> T {
        let mut p = self.lock();
        let t = std::time::Instant::now();
        let out = f(&mut p);
        let applied = t.elapsed();
        let events = p.take_events();
        let view = Arc::new(View::build(&p));
        drop(p);
        self.metrics.observe_write(applied, t.elapsed() - applied);
        self.metrics.observe_view(&view);
        match self.view.write() {
            Ok(mut v) => *v = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
        self.publish(events);
        out
    }

    fn publish(&self, events: Vec<Event>) {
        for e in events {
            self.metrics.count_event(&e);
            let json = serde_json::to_string(&e).unwrap_or_default();
            let _ = self.events.send(Arc::new(SseMsg { name: e.name(), json }));
        }
    }

    /// Sign `action` with the session's key and submit it.
    pub async fn act(self: &Arc<Self>, session: &wallet::Session, action: Action) -> Result<(u64, Outcome), ApiError> {
        let v = self.view();
        let tx = api::prepare_tx(&v, session.address, action)?;
        let stx = tx.sign(&session.key);
        let app = self.clone();
        let r = tokio::task::spawn_blocking(move || app.write(|p| p.submit(stx)))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(r?)
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
        self.stop.send_replace(true);
    }

    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }
}

/// Every API route: method, path (OpenAPI template syntax) and handler.
pub fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<api::AppState>)> {
    vec![
        ("get", "/api/health", get(api::health)),
        ("get", "/api/status", get(api::status)),
        ("get", "/api/chains", get(api::chains)),
        ("get", "/api/tokens", get(api::tokens)),
        ("get", "/api/opportunities", get(api::opportunities)),
        ("get", "/api/opportunities/{id}", get(api::opportunity)),
        ("get", "/api/opportunities/{id}/history", get(api::opportunity_history)),
        ("get", "/api/opportunities/{id}/risk", get(api::opportunity_risk)),
        ("get", "/api/alerts", get(api::alerts)),
        ("get", "/api/accounts/{address}", get(api::account)),
        ("get", "/api/il", get(api::il)),
        ("post", "/api/advise", post(api_advise::advise_route)),
        ("post", "/api/simulate", post(api_lab::simulate)),
        ("post", "/api/quote", post(api::quote)),
        ("post", "/api/tx/prepare", post(api::tx_prepare)),
        ("post", "/api/tx", post(api::tx_submit)),
        ("post", "/api/faucet", post(api::faucet)),
        ("post", "/api/time/advance", post(api::advance)),
        ("get", "/api/wallet", get(api::wallet)),
        ("post", "/api/wallet/unlock", post(api::wallet_unlock)),
        ("post", "/api/wallet/lock", post(api::wallet_lock)),
        ("post", "/api/wallet/act", post(api::wallet_act)),
        ("get", "/api/events", get(sse)),
        ("get", "/api/openapi.json", get(api::openapi)),
        ("get", "/metrics", get(api::metrics)),
    ]
}

async fn sse(
    axum::extract::State(app): axum::extract::State<api::AppState>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let rx = app.events.subscribe();
    let mut stop = app.stop.subscribe();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let stream = tokio_stream::wrappers::BroadcastStream::new(rx).take_until(stopped).filter_map(|m| async move {
        match m {
            Ok(m) => Some(Ok(SseEvent::default().event(m.name).data(m.json.clone()))),
            // A slow client skips what it missed rather than stalling the others.
            Err(_) => Some(Ok(SseEvent::default().event("lagged").data("{}"))),
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

pub fn router(app: Arc<App>) -> Router {
    let mut r = Router::new();
    for (_, path, handler) in api_routes() {
        r = r.route(path, handler);
    }
    let r = web::routes(r);
    let max_body = app.limiter.limits.max_body;
    r.fallback(api::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(app.limiter.clone(), limits::enforce))
        .layer(axum::middleware::from_fn(guard::same_machine))
        .layer(axum::middleware::from_fn_with_state(app.clone(), metrics::track))
        .with_state(app)
}

/// Options of `granary up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub platform: PlatformConfig,
    pub wallet_dir: std::path::PathBuf,
    pub addr: SocketAddr,
    /// Chain seconds per wall second.
    pub speed: f64,
    /// Wall time between market ticks.
    pub tick: Duration,
    /// Start with the clock paused (tests drive time through the API).
    pub paused: bool,
    /// Request size and rate limits.
    pub limits: limits::Limits,
}

/// Open the platform (seeding or recovering) and build the shared state.
pub fn open(opts: &UpOptions) -> Result<Arc<App>, PlatformError> {
    let platform = Platform::open(&opts.platform)?;
    let wallet = wallet::LocalWallet::new(granary_wallet::WalletDir::new(&opts.wallet_dir));
    Ok(App::new(platform, wallet, Clock::new(opts.speed, opts.paused), opts.platform.seed, opts.limits))
}

/// Run the simulated clock until shutdown: every `tick`, move chain time by speed × tick.
pub fn spawn_clock(app: Arc<App>, tick: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut carry = 0.0f64;
        let mut last = std::time::Instant::now();
        while !app.shutting_down() {
            std::thread::sleep(tick);
            // Chain time follows the wall clock × speed even when a tick runs late (a busy
            // machine makes blocks longer, not time slower); a long stall catches up at most a day.
            let elapsed = last.elapsed();
            last = std::time::Instant::now();
            if app.clock.paused() || app.shutting_down() {
                continue;
            }
            carry = (carry + app.clock.speed() * elapsed.as_secs_f64()).min(86_400.0);
            let seconds = carry.floor() as u64;
            carry -= seconds as f64;
            if seconds > 0
                && let Err(e) = app.write(|p| p.run(seconds))
            {
                eprintln!("granary: the market stopped: {e}");
                app.clock.set_paused(true);
            }
        }
    })
}

/// Serve until Ctrl-C: bind, print the URL, run the clock, shut down cleanly (snapshot).
pub async fn serve(app: Arc<App>, addr: SocketAddr, tick: Duration) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("granary is up: http://{local}/");
    let clock = spawn_clock(app.clone(), tick);
    let app2 = app.clone();
    axum::serve(listener, router(app.clone()))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            app2.request_shutdown();
        })
        .await?;
    app.request_shutdown();
    let _ = clock.join();
    let app3 = app.clone();
    let snap = tokio::task::spawn_blocking(move || app3.write(|p| p.snapshot())).await;
    match snap {
        Ok(Ok(seq)) => println!("granary: stopped cleanly; snapshot at journal entry {seq}"),
        Ok(Err(e)) => eprintln!("granary: stopped; the closing snapshot failed: {e}"),
        Err(e) => eprintln!("granary: stopped; the closing snapshot failed: {e}"),
    }
    Ok(())
}

/// The demo faucet for the local wallet: every key that holds nothing on any chain is funded.
pub fn fund_wallet_keys(app: &Arc<App>) {
    let Ok(addresses) = app.wallet.addresses() else { return };
    for a in addresses {
        let v = app.view();
        let empty = (0..v.engine.tokens().len()).all(|t| v.engine.balance(t, a).is_zero());
        if empty {
            match app.write(|p| p.faucet(a)) {
                Ok(g) => println!("granary: the faucet funded {a:#x} with {} tokens across the chains", g.len()),
                Err(e) => eprintln!("granary: the faucet could not fund {a:#x}: {e}"),
            }
        }
    }
}
