//! The price files shipped with the project, in `data/prices/` at the workspace root.
//!
//! The folder is found relative to this crate's manifest (`../../data/prices`); set the
//! environment variable `GRANARY_PRICE_DATA` to read another folder with the same layout.

use crate::prices::{DailySeries, DataError, GapPolicy, PriceTable, read_series_with, read_wide_with};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that overrides the data folder.
pub const ENV_VAR: &str = "GRANARY_PRICE_DATA";

/// The per-asset series shipped in `data/prices/` (each as `SYMBOL.csv`).
pub const SYMBOLS: [&str; 17] = [
    "AAVE", "AVAX", "BNB", "BTC", "COMP", "CRV", "DAI", "ETH", "LINK", "MATIC", "MKR", "SOL", "SUSHI", "UNI", "USDC",
    "USDT", "YFI",
];

/// The shipped wide tables (each as `NAME.csv`).
pub const WIDE: [&str; 2] = ["daily_close_usd", "daily_close_usd_defi"];

/// Shipped series that miss calendar days, with the number missing (from `PROVENANCE.md`):
/// AVAX has closes on 2020-07-13 and 2020-07-14, then none until 2020-09-22 (2020-07-15 to
/// 2020-09-21 are missing). They must be read with [`GapPolicy::Allow`].
pub const KNOWN_GAPS: [(&str, i64); 1] = [("AVAX", 69)];

/// The data folder: `GRANARY_PRICE_DATA` when set and non-empty, else the shipped `data/prices/`.
pub fn dir() -> PathBuf {
    dir_from(std::env::var_os(ENV_VAR))
}

/// The data folder given the value of `GRANARY_PRICE_DATA` (if any).
pub fn dir_from(env: Option<OsString>) -> PathBuf {
    match env {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("data").join("prices"),
    }
}

/// The gap policy the shipped data needs for `symbol`: `Allow` for the series in [`KNOWN_GAPS`].
pub fn policy_for(symbol: &str) -> GapPolicy {
    if KNOWN_GAPS.iter().any(|(s, _)| *s == symbol) { GapPolicy::Allow } else { GapPolicy::Reject }
}

/// The path of `NAME.csv` in the data folder; `name` must be ASCII letters, digits or '_'.
pub fn path_for(name: &str) -> Result<PathBuf, DataError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DataError::BadName(name.to_string()));
    }
    Ok(dir().join(format!("{name}.csv")))
}

/// Loads `SYMBOL.csv`, rejecting gaps.
pub fn load(symbol: &str) -> Result<DailySeries, DataError> {
    load_with(symbol, GapPolicy::Reject)
}

/// Loads `SYMBOL.csv` under the given gap policy.
pub fn load_with(symbol: &str, policy: GapPolicy) -> Result<DailySeries, DataError> {
    let path = existing(symbol)?;
    read_series_with(path, policy)
}

/// Loads the wide table `NAME.csv` (for example `daily_close_usd`), rejecting gaps.
pub fn load_wide(name: &str) -> Result<PriceTable, DataError> {
    let path = existing(name)?;
    read_wide_with(path, GapPolicy::Reject)
}

fn existing(name: &str) -> Result<PathBuf, DataError> {
    let path = path_for(name)?;
    if !path.is_file() {
        return Err(DataError::NoSuchSeries { symbol: name.to_string(), dir: dir() });
    }
    Ok(path)
}
