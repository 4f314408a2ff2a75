//! The local wallet as the dashboard uses it: keystore files in `<data dir>/wallet`, unlocked by
//! passphrase into a session held in memory (cookie `granary_session`, HttpOnly, SameSite=Strict,
//! or `Authorization: Bearer`). Keys never leave the process; locking forgets them, and so does
//! [`SESSION_IDLE`] without a request that uses the session. A forgotten session's key is
//! overwritten in memory (best effort: `SecretKey` is `Copy`, and a copy a handler took for
//! signing is not tracked).

use crate::dto::{self, parse_address};
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use granary_engine::Address;
use granary_engine::secp256k1_key::SecretKey;
use granary_wallet::{WalletDir, WalletError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "granary_session";
/// A session ends after this long without a request that uses it.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// At most this many sessions at once: opening one more ends the least recently used.
pub const MAX_SESSIONS: usize = 64;

#[derive(Clone)]
pub struct Session {
    pub address: Address,
    pub key: SecretKey,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.key.non_secure_erase();
    }
}

struct Held {
    session: Session,
    last_used: Instant,
}

pub struct LocalWallet {
    pub dir: WalletDir,
    sessions: Mutex<HashMap<String, Held>>,
}

pub fn cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"))
        .unwrap_or(HeaderValue::from_static(""))
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("granary_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = auth.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && k == COOKIE
                && !val.is_empty()
            {
                return Some(val.to_string());
            }
        }
    }
    None
}

impl LocalWallet {
    pub fn new(dir: WalletDir) -> LocalWallet {
        LocalWallet { dir, sessions: Mutex::new(HashMap::new()) }
    }

    pub fn addresses(&self) -> Result<Vec<Address>, WalletError> {
        if !self.dir.path().exists() {
            return Ok(Vec::new());
        }
        Ok(self.dir.list()?.entries.into_iter().map(|e| e.address).collect())
    }

    /// Decrypt the keystore of `address` (or the only one) and open a session.
    pub fn unlock(&self, address: Option<&str>, passphrase: &str) -> Result<(String, Address), ApiError> {
        let list = self.addresses().map_err(|e| ApiError::internal(e.to_string()))?;
        let address = match address.filter(|a| !a.is_empty()) {
            Some(a) => parse_address(a).map_err(|why| ApiError::bad_field("address", why))?,
            None => match list.as_slice() {
                [] => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "no_wallet",
                        "the local wallet has no key: create one with `granary wallet new` or import one",
                    ));
                }
                [one] => *one,
                _ => return Err(ApiError::bad_field("address", "is needed: the wallet holds several keys")),
            },
        };
        let entry = self.dir.find(address).map_err(|_| {
            ApiError::not_found("unknown_address", format!("no key for {} in the local wallet", dto::address(&address)))
                .field("address")
        })?;
        let key = granary_wallet::decrypt(&entry.keystore, passphrase.as_bytes()).map_err(|e| match e {
            WalletError::WrongPassphrase => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_passphrase",
                "wrong passphrase: the keystore's MAC does not match; type the passphrase the key was saved with",
            )
            .field("passphrase"),
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_keystore", other.to_string()),
        })?;
        let token = self.open_session(Session { address, key }, Instant::now())?;
        Ok((token, address))
    }

    /// Hold `session` under a new random token, as used at `now`; end expired sessions, and the
    /// least recently used one beyond [`MAX_SESSIONS`].
    pub fn open_session(&self, session: Session, now: Instant) -> Result<String, ApiError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| ApiError::internal(e.to_string()))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let mut s = self.sessions.lock().map_err(|_| ApiError::internal("the session table is poisoned"))?;
        s.retain(|_, h| live(h, now));
        while s.len() >= MAX_SESSIONS {
            let Some(oldest) = s.iter().min_by_key(|(_, h)| h.last_used).map(|(t, _)| t.clone()) else { break };
            s.remove(&oldest);
        }
        s.insert(token.clone(), Held { session, last_used: now });
        Ok(token)
    }

    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        self.session_at(headers, Instant::now())
    }

    /// The session the request names, if it is live at `now`; using it keeps it alive.
    pub fn session_at(&self, headers: &HeaderMap, now: Instant) -> Option<Session> {
        let t = token_of(headers)?;
        let mut s = self.sessions.lock().ok()?;
        s.retain(|_, h| live(h, now));
        let held = s.get_mut(&t)?;
        held.last_used = held.last_used.max(now);
        Some(held.session.clone())
    }

    pub fn lock(&self, headers: &HeaderMap) {
        if let (Some(t), Ok(mut s)) = (token_of(headers), self.sessions.lock()) {
            s.remove(&t);
        }
    }

    /// Sessions held now, live or not yet swept.
    pub fn sessions_held(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }
}

fn live(h: &Held, now: Instant) -> bool {
    now.saturating_duration_since(h.last_used) < SESSION_IDLE
}

#[cfg(test)]
mod tests {
    use super::*;
    use granary_engine::tx::{dev_key, key_address};

    fn wallet() -> LocalWallet {
        LocalWallet::new(WalletDir::new(std::env::temp_dir().join("granary-wallet-sessions-unused")))
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).expect("ascii"));
        h
    }

    fn session(name: &str) -> Session {
        let key = dev_key(name);
        Session { address: key_address(&key), key }
    }

    #[test]
    fn a_session_ends_after_its_idle_time_and_use_keeps_it_alive() {
        let w = wallet();
        let t0 = Instant::now();
        let token = w.open_session(session("alice"), t0).expect("open");
        let h = bearer(&token);
        let almost = SESSION_IDLE - Duration::from_secs(1);
        assert_eq!(w.session_at(&h, t0 + almost).map(|s| s.address), Some(session("alice").address));
        // Used at t0 + almost, so it lives until t0 + almost + SESSION_IDLE.
        assert!(w.session_at(&h, t0 + almost + almost).is_some());
        assert!(w.session_at(&h, t0 + almost + almost + SESSION_IDLE).is_none(), "idle past its time");
        assert_eq!(w.sessions_held(), 0, "the expired session is gone, not only hidden");
        assert!(w.session_at(&bearer("not-a-token"), t0).is_none());
    }

    #[test]
    fn opening_more_than_the_cap_ends_the_least_recently_used() {
        let w = wallet();
        let t0 = Instant::now();
        let tokens: Vec<String> = (0..MAX_SESSIONS)
            .map(|i| w.open_session(session("bob"), t0 + Duration::from_secs(i as u64)).expect("open"))
            .collect();
        // Touch the first so that the second is now the least recently used.
        let later = t0 + Duration::from_secs(MAX_SESSIONS as u64);
        assert!(w.session_at(&bearer(&tokens[0]), later).is_some());
        w.open_session(session("carol"), later).expect("open one more");
        assert_eq!(w.sessions_held(), MAX_SESSIONS);
        assert!(w.session_at(&bearer(&tokens[0]), later).is_some());
        assert!(w.session_at(&bearer(&tokens[1]), later).is_none(), "the least recently used ended");
        assert!(w.session_at(&bearer(&tokens[2]), later).is_some());
    }
}
