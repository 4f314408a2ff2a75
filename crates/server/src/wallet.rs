//! The local wallet as the dashboard uses it: keystore files in `<data dir>/wallet`, unlocked by
//! passphrase into a session held in memory (cookie `granary_session`, HttpOnly, SameSite=Strict,
//! or `Authorization: Bearer`). Keys never leave the process; locking forgets them.

use crate::dto::{self, parse_address};
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use granary_engine::Address;
use granary_engine::secp256k1_key::SecretKey;
use granary_wallet::{WalletDir, WalletError};
use std::collections::HashMap;
use std::sync::Mutex;

pub const COOKIE: &str = "granary_session";

#[derive(Clone)]
pub struct Session {
    pub address: Address,
    pub key: SecretKey,
}

pub struct LocalWallet {
    pub dir: WalletDir,
    sessions: Mutex<HashMap<String, Session>>,
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
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| ApiError::internal(e.to_string()))?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(token.clone(), Session { address, key });
        }
        Ok((token, address))
    }

    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let t = token_of(headers)?;
        self.sessions.lock().ok()?.get(&t).cloned()
    }

    pub fn lock(&self, headers: &HeaderMap) {
        if let (Some(t), Ok(mut s)) = (token_of(headers), self.sessions.lock()) {
            s.remove(&t);
        }
    }
}
