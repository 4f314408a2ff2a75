//! Prometheus metrics (`GET /metrics`, text format 0.0.4): HTTP requests by route and status
//! with a latency histogram, events by type, and the platform's gauges.

use crate::App;
use crate::events::Event;
use crate::view::View;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    buckets: [AtomicU64; 10],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    blocks: AtomicU64,
    fills: AtomicU64,
    alerts: AtomicU64,
    txs: AtomicU64,
    gauges: Mutex<Vec<(String, f64)>>,
    /// Microseconds the last write spent applying, and rebuilding the readers' view.
    last_apply_micros: AtomicU64,
    last_view_micros: AtomicU64,
}

impl Metrics {
    pub fn count_event(&self, e: &Event) {
        let c = match e {
            Event::Block { .. } => &self.blocks,
            Event::Fill { .. } => &self.fills,
            Event::Alert(_) => &self.alerts,
            Event::Tx { .. } => &self.txs,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe_write(&self, apply: std::time::Duration, view: std::time::Duration) {
        self.last_apply_micros.store(apply.as_micros() as u64, Ordering::Relaxed);
        self.last_view_micros.store(view.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn observe_view(&self, v: &View) {
        let mut g = Vec::new();
        g.push(("granary_opportunities".to_string(), v.opportunities.len() as f64));
        g.push(("granary_alerts".to_string(), v.alerts.len() as f64));
        g.push(("granary_journal_next_seq".to_string(), v.next_seq as f64));
        for c in &v.chains {
            g.push((format!("granary_chain_time_seconds{{chain=\"{}\"}}", c.id), c.now as f64));
            g.push((format!("granary_chain_block{{chain=\"{}\"}}", c.id), c.block_number as f64));
        }
        let tvl: f64 = v.opportunities.iter().map(|o| o.tvl_usd).filter(|t| t.is_finite()).sum();
        g.push(("granary_tvl_usd".to_string(), tvl));
        if let Ok(mut m) = self.gauges.lock() {
            *m = g;
        }
    }

    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn render(&self, app: &App) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# HELP granary_http_requests_total HTTP requests by method, route and status.");
        let _ = writeln!(s, "# TYPE granary_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    s,
                    "granary_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(s, "# HELP granary_http_request_duration_seconds Time to answer a request.");
        let _ = writeln!(s, "# TYPE granary_http_request_duration_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "granary_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(s, "granary_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            s,
            "granary_http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "granary_http_request_duration_seconds_count {count}");
        for (name, help, c) in [
            ("granary_blocks_total", "Blocks closed.", &self.blocks),
            ("granary_fills_total", "Market fills (arbitrage, noise, reward sales).", &self.fills),
            ("granary_alerts_total", "Rug and exploit alerts raised.", &self.alerts),
            ("granary_user_txs_total", "Users' transactions applied.", &self.txs),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", c.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            s,
            "# TYPE granary_sse_subscribers gauge\ngranary_sse_subscribers {}",
            app.events.receiver_count()
        );
        let _ = writeln!(s, "# TYPE granary_clock_speed gauge\ngranary_clock_speed {}", app.clock.speed());
        let _ = writeln!(
            s,
            "# HELP granary_last_write_apply_seconds Time the last change spent in the engine and the store.\n# TYPE granary_last_write_apply_seconds gauge\ngranary_last_write_apply_seconds {}",
            self.last_apply_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "# HELP granary_last_view_build_seconds Time the last change spent rebuilding what readers see.\n# TYPE granary_last_view_build_seconds gauge\ngranary_last_view_build_seconds {}",
            self.last_view_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        if let Ok(g) = self.gauges.lock() {
            let mut seen = std::collections::BTreeSet::new();
            for (name, v) in g.iter() {
                let base = name.split('{').next().unwrap_or(name);
                if seen.insert(base.to_string()) {
                    let _ = writeln!(s, "# TYPE {base} gauge");
                }
                let _ = writeln!(s, "{name} {v}");
            }
        }
        s
    }
}

/// Middleware: count every request by its route template and time it.
pub async fn track(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    app.metrics.record(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}
