//! A small HTTP/1.1 load generator for the API benchmark (`granary bench api`): N keep-alive
//! connections on loopback, each sending GET requests back to back for a fixed time; reports
//! requests per second and latency percentiles. A benchmark, never a pass/fail test.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub path: String,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    /// Responses other than 200, and broken connections.
    pub errors: u64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Mean response body size, bytes.
    pub mean_body_bytes: f64,
}

/// Read one response; returns (status, body length).
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, usize)> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no content-length"))?;
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((status, len))
}

/// Run `connections` connections against `addr` for `duration`.
pub async fn run(addr: SocketAddr, path: &str, connections: usize, duration: Duration) -> LoadReport {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n").into_bytes();
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(64 * 1024);
            let mut errors = 0u64;
            let mut bytes = 0u64;
            let mut buf = Vec::with_capacity(256 * 1024);
            'outer: while Instant::now() < deadline {
                let Ok(mut s) = TcpStream::connect(addr).await else {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = s.set_nodelay(true);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if s.write_all(&request).await.is_err() {
                        errors += 1;
                        continue 'outer;
                    }
                    match read_response(&mut s, &mut buf).await {
                        Ok((200, len)) => {
                            lat.push(t.elapsed().as_micros() as u32);
                            bytes += len as u64;
                        }
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            continue 'outer;
                        }
                    }
                }
            }
            (lat, errors, bytes)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut bytes = 0;
    for t in tasks {
        if let Ok((l, e, b)) = t.await {
            lat.extend(l);
            errors += e;
            bytes += b;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        f64::from(lat[i]) / 1000.0
    };
    let n = lat.len() as u64;
    LoadReport {
        path: path.to_string(),
        connections,
        seconds,
        requests: n,
        errors,
        requests_per_s: n as f64 / seconds,
        p50_ms: q(0.50),
        p90_ms: q(0.90),
        p99_ms: q(0.99),
        max_ms: q(1.0),
        mean_body_bytes: if n > 0 { bytes as f64 / n as f64 } else { 0.0 },
    }
}
