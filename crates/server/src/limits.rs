//! Request size and rate limits. Every client is on this machine, so the limits are global, not
//! per address: they bound what a runaway script (or a page in the user's browser that gets past
//! the origin check) can make the server do. A body over [`Limits::max_body`] is refused with
//! 413 `payload_too_large` before it is read; requests that change something (any method but GET
//! and HEAD) draw from one token bucket, and the expensive ones (a passphrase check, a Monte Carlo
//! run, an allocation search, a move of the clock) also from a smaller one; an empty bucket is
//! 429 `rate_limited` with `Retry-After`. Reads are served from a snapshot per block and are not
//! limited (the load benchmark measures them).

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The limits of one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Requests that change something: per second, and the burst allowed above that.
    pub writes_per_s: f64,
    pub writes_burst: f64,
    /// Expensive requests (unlock, simulate, advise, time advance): per second and burst.
    pub heavy_per_s: f64,
    pub heavy_burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 64 * 1024, writes_per_s: 200.0, writes_burst: 400.0, heavy_per_s: 10.0, heavy_burst: 20.0 }
    }
}

/// Routes whose one request costs far more than a ledger step.
pub fn is_heavy(path: &str) -> bool {
    matches!(
        path,
        "/api/wallet/unlock"
            | "/api/simulate"
            | "/api/advise"
            | "/api/time/advance"
            | "/lab"
            | "/lab/advise"
            | "/wallet/unlock"
            | "/time/advance"
    )
}

/// A token bucket: `rate` tokens a second up to `burst`.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Bucket {
        Bucket { rate, burst, tokens: burst, at: Instant::now() }
    }

    /// Take one token, or say how many seconds until one is there.
    fn take(&mut self, now: Instant) -> Result<(), f64> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.tokens) / self.rate)
        }
    }
}

/// The limiter shared by every request of a server.
#[derive(Debug)]
pub struct Limiter {
    pub limits: Limits,
    writes: Mutex<Bucket>,
    heavy: Mutex<Bucket>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Arc<Limiter> {
        Arc::new(Limiter {
            limits,
            writes: Mutex::new(Bucket::new(limits.writes_per_s, limits.writes_burst)),
            heavy: Mutex::new(Bucket::new(limits.heavy_per_s, limits.heavy_burst)),
        })
    }

    /// Admit a request of `method` to `path`, or the seconds to wait.
    fn admit(&self, method: &Method, path: &str) -> Result<(), f64> {
        if method == Method::GET || method == Method::HEAD {
            return Ok(());
        }
        let now = Instant::now();
        if is_heavy(path) {
            self.heavy.lock().unwrap_or_else(|p| p.into_inner()).take(now)?;
        }
        self.writes.lock().unwrap_or_else(|p| p.into_inner()).take(now)
    }
}

/// The middleware: size first (nothing is read of an oversized body), then rate.
pub async fn enforce(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limiter.limits.max_body as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request bodies are limited to {} bytes", limiter.limits.max_body),
        )
        .into_response();
    }
    if let Err(wait) = limiter.admit(req.method(), req.uri().path()) {
        let secs = wait.ceil().max(1.0) as u64;
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests that change state: try again in {secs} s"),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket { rate: 10.0, burst: 3.0, tokens: 3.0, at: t0 };
        assert!(b.take(t0).is_ok() && b.take(t0).is_ok() && b.take(t0).is_ok());
        let wait = b.take(t0).expect_err("the burst is spent");
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
        assert!(b.take(t0 + Duration::from_millis(100)).is_ok(), "one token a tenth of a second");
        assert!(b.take(t0 + Duration::from_millis(100)).is_err());
        // Idle time refills up to the burst, no further.
        for _ in 0..3 {
            assert!(b.take(t0 + Duration::from_secs(60)).is_ok());
        }
        assert!(b.take(t0 + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn reads_are_never_limited_and_heavy_routes_draw_from_both_buckets() {
        let l = Limiter::new(Limits {
            writes_per_s: 1e-9,
            writes_burst: 2.0,
            heavy_per_s: 1e-9,
            heavy_burst: 1.0,
            ..Limits::default()
        });
        for _ in 0..1000 {
            assert!(l.admit(&Method::GET, "/api/opportunities").is_ok());
        }
        assert!(l.admit(&Method::POST, "/api/simulate").is_ok());
        assert!(l.admit(&Method::POST, "/api/simulate").is_err(), "the heavy bucket is empty");
        assert!(l.admit(&Method::POST, "/api/quote").is_ok(), "one write token left");
        assert!(l.admit(&Method::POST, "/api/quote").is_err());
    }
}
