//! Requests from anywhere but this machine's own pages are refused. The server listens on
//! loopback only, but a web page the user opens elsewhere can still make their browser send
//! requests to 127.0.0.1 (a cross-origin form POST to the faucet or the clock), and a hostile DNS
//! name can be rebound to 127.0.0.1. So: the `Host` must name a loopback address (`127.0.0.1`,
//! `localhost`, `[::1]`), and a request that carries an `Origin` (browsers send one on
//! cross-origin and on POST requests) must come from a loopback origin.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether `authority` (`host[:port]`) names this machine's loopback interface.
pub fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { authority })
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The middleware.
pub async fn same_machine(req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(is_loopback_authority) {
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "not_loopback_host",
            "this server answers only requests addressed to 127.0.0.1, localhost or [::1]",
        )
        .field("Host")
        .into_response();
    }
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && origin != "null"
    {
        let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
        if !is_loopback_authority(authority) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                format!("requests from pages of {origin} are refused: use the dashboard served by this machine"),
            )
            .field("Origin")
            .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::is_loopback_authority;

    #[test]
    fn only_loopback_authorities_pass() {
        for ok in ["127.0.0.1:8420", "127.0.0.1", "localhost:8420", "LOCALHOST", "[::1]:8420", "127.1.2.3:80"] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in
            ["evil.example:8420", "10.0.0.1:8420", "127.0.0.1.evil.example", "", "localhost.evil:1", "[::2]:8420"]
        {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }
}
