//! Typed, validated daily USD closes.
//!
//! Two file shapes are read:
//! * a per-asset series, `SYMBOL.csv`, header `date,close_usd`;
//! * a wide table, header `date,SYM1,SYM2,...`, one close per symbol per day.
//!
//! Every row must hold a valid `YYYY-MM-DD` date and finite, strictly positive closes; dates must
//! strictly increase, and by default every calendar day between the first and the last must be
//! present. Series known to miss days are read with [`GapPolicy::Allow`], which records each gap
//! instead of failing. Both `\n` and `\r\n` line endings are accepted; blank lines are not. The
//! text must be UTF-8 (a leading byte-order mark is skipped). Every refusal of a file's contents
//! names the file and the 1-based line (the header is line 1), except a file with no rows.

use crate::date::{Date, DateError};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The header of a per-asset file.
pub const SERIES_HEADER: &str = "date,close_usd";

/// What to do when a calendar day is missing between two rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GapPolicy {
    /// A missing day is an error (the default).
    #[default]
    Reject,
    /// Missing days are accepted and listed in the result's `gaps`.
    Allow,
}

/// A run of missing calendar days: `after` and `before` are present, every day strictly between
/// them is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The last day present before the gap.
    pub after: Date,
    /// The first day present after the gap.
    pub before: Date,
}

impl Gap {
    /// The number of missing days (at least 1).
    pub fn missing_days(&self) -> i64 {
        self.before.days_after(self.after) - 1
    }

    /// The first missing day.
    pub fn first_missing(&self) -> Date {
        self.after.succ()
    }

    /// The last missing day.
    pub fn last_missing(&self) -> Date {
        Date::from_days_since_epoch(self.before.days_since_epoch() - 1)
    }
}

/// What is wrong with one line of a price file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("header is {found:?}: {reason}")]
    Header { found: String, reason: String },
    #[error("byte {column} of the line is not UTF-8; save the file as UTF-8 text")]
    NotUtf8 { column: usize },
    #[error("blank line; remove it (every line after the header is one day)")]
    BlankLine,
    #[error("{found} comma-separated fields, expected {expected} (date plus one close per column)")]
    FieldCount { found: usize, expected: usize },
    #[error("malformed date {text:?}: {reason}; write dates as YYYY-MM-DD")]
    BadDate { text: String, reason: DateError },
    #[error("{column} close {text:?} is not a number; write a decimal such as 1234.5")]
    BadNumber { column: String, text: String },
    #[error("{column} close {text:?} is not finite; a close must be a real price")]
    NonFinite { column: String, text: String },
    #[error("{column} close {text:?} is not positive; a close must be > 0 (drop the row if the price is unknown)")]
    NonPositive { column: String, text: String },
    #[error("date {date} comes after {prev} (line {prev_line}) in the file; sort rows by increasing date")]
    OutOfOrder { date: Date, prev: Date, prev_line: usize },
    #[error("date {date} repeats line {prev_line}; keep one row per day")]
    Duplicate { date: Date, prev_line: usize },
    #[error(
        "{missing} calendar day(s) missing, {first}..={last}, between {prev} (line {prev_line}) and {date}; \
         fill them, or read with GapPolicy::Allow if the source is known to lack them",
        missing = gap.missing_days(), first = gap.first_missing(), last = gap.last_missing(),
        prev = gap.after, date = gap.before
    )]
    Gap { gap: Gap, prev_line: usize },
}

/// Everything that can go wrong reading or querying price data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}: {problem}", path.display())]
    Row { path: PathBuf, line: usize, problem: Problem },
    #[error("{}: no data rows after the header; add at least one row", path.display())]
    Empty { path: PathBuf },
    #[error("no price file for {symbol:?} in {}: add {symbol}.csv there or point GRANARY_PRICE_DATA at the folder that has it", dir.display())]
    NoSuchSeries { symbol: String, dir: PathBuf },
    #[error("invalid series name {0:?}: use ASCII letters, digits and '_' only (like ETH or daily_close_usd)")]
    BadName(String),
    #[error("no column {symbol:?} in the table; its columns are {columns}")]
    UnknownColumn { symbol: String, columns: String },
    #[error("{symbol}: window {from}..={to} starts after it ends; swap the bounds")]
    WindowReversed { symbol: String, from: Date, to: Date },
    #[error(
        "{symbol}: window {from}..={to} is outside the data, which covers {first}..={last}; choose dates inside it"
    )]
    WindowOutside { symbol: String, from: Date, to: Date, first: Date, last: Date },
    #[error(
        "{symbol}: t = {t_seconds} s is outside {start}..={end} s; closes run from {first} to {last} and each \
         close is placed at the end (24:00 UTC) of its day"
    )]
    TimeOutside { symbol: String, t_seconds: i64, start: i64, end: i64, first: Date, last: Date },
    #[error("{symbol}: the series has no points")]
    NoPoints { symbol: String },
}

/// One asset's daily closes, in strictly increasing date order.
#[derive(Debug, Clone, PartialEq)]
pub struct DailySeries {
    pub symbol: String,
    pub points: Vec<(Date, f64)>,
    /// Missing-day runs accepted under [`GapPolicy::Allow`]; empty otherwise.
    pub gaps: Vec<Gap>,
}

impl DailySeries {
    /// The number of closes.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there are no closes (never the case for a series from the reader).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The first day with a close.
    pub fn first_date(&self) -> Option<Date> {
        self.points.first().map(|p| p.0)
    }

    /// The last day with a close.
    pub fn last_date(&self) -> Option<Date> {
        self.points.last().map(|p| p.0)
    }

    /// The close of `date`, if that day is present.
    pub fn close_on(&self, date: Date) -> Option<f64> {
        self.points.binary_search_by_key(&date, |p| p.0).ok().map(|i| self.points[i].1)
    }

    /// The total number of missing days recorded in `gaps`.
    pub fn missing_days(&self) -> i64 {
        self.gaps.iter().map(Gap::missing_days).sum()
    }

    /// The points dated `from..=to`. Both bounds must lie within the series' first and last
    /// dates. In a series with gaps the slice can hold fewer than `to - from + 1` points.
    pub fn window(&self, from: Date, to: Date) -> Result<&[(Date, f64)], DataError> {
        let symbol = || self.symbol.clone();
        if from > to {
            return Err(DataError::WindowReversed { symbol: symbol(), from, to });
        }
        let (Some(first), Some(last)) = (self.first_date(), self.last_date()) else {
            return Err(DataError::NoPoints { symbol: symbol() });
        };
        if from < first || to > last {
            return Err(DataError::WindowOutside { symbol: symbol(), from, to, first, last });
        }
        let lo = self.points.partition_point(|p| p.0 < from);
        let hi = self.points.partition_point(|p| p.0 <= to);
        Ok(&self.points[lo..hi])
    }

    /// `ln(close[i+1] / close[i])` for consecutive points: `len() - 1` values. Across a gap the
    /// return spans several days.
    pub fn log_returns(&self) -> Vec<f64> {
        self.points.windows(2).map(|w| (w[1].1 / w[0].1).ln()).collect()
    }

    /// The price at Unix time `t_seconds`, linear in price between consecutive closes. A day's
    /// close is placed at the end of that UTC day (the next day's 00:00), so within day D the
    /// price moves from D-1's close to D's close, and at noon it is their midpoint. Across a gap
    /// the line runs between the closes on either side. Valid from the end of the first day to
    /// the end of the last.
    pub fn interpolate(&self, t_seconds: i64) -> Result<f64, DataError> {
        let (Some(&(first, first_close)), Some(&(last, _))) = (self.points.first(), self.points.last()) else {
            return Err(DataError::NoPoints { symbol: self.symbol.clone() });
        };
        let at = |d: Date| d.succ().start_seconds();
        let (start, end) = (at(first), at(last));
        if t_seconds < start || t_seconds > end {
            return Err(DataError::TimeOutside { symbol: self.symbol.clone(), t_seconds, start, end, first, last });
        }
        // The first point placed at or after t.
        let i = self.points.partition_point(|p| at(p.0) < t_seconds);
        if i == 0 {
            return Ok(first_close);
        }
        let (d0, p0) = self.points[i - 1];
        let (d1, p1) = self.points[i];
        let (t0, t1) = (at(d0), at(d1));
        let frac = (t_seconds - t0) as f64 / (t1 - t0) as f64;
        // Weighted form: exactly `p1` at the end of d1 (`p0 + (p1 - p0) * frac` can miss it by the
        // rounding of the larger price, e.g. after a large drop).
        Ok(p0 * (1.0 - frac) + p1 * frac)
    }
}

/// A wide table: one row per day, one close per symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    pub dates: Vec<Date>,
    pub symbols: Vec<String>,
    /// Column-major: `closes[column][row]`, aligned with `dates`.
    pub closes: Vec<Vec<f64>>,
    /// Missing-day runs accepted under [`GapPolicy::Allow`]; empty otherwise.
    pub gaps: Vec<Gap>,
}

impl PriceTable {
    /// The number of days (rows).
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the table has no rows (never the case for a table from the reader).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// One symbol's closes, aligned with `dates`.
    pub fn column(&self, symbol: &str) -> Option<&[f64]> {
        let i = self.symbols.iter().position(|s| s == symbol)?;
        self.closes.get(i).map(Vec::as_slice)
    }

    /// One symbol's closes as a [`DailySeries`] (carrying the table's gaps).
    pub fn series(&self, symbol: &str) -> Result<DailySeries, DataError> {
        let closes = self
            .column(symbol)
            .ok_or_else(|| DataError::UnknownColumn { symbol: symbol.to_string(), columns: self.symbols.join(", ") })?;
        Ok(DailySeries {
            symbol: symbol.to_string(),
            points: self.dates.iter().copied().zip(closes.iter().copied()).collect(),
            gaps: self.gaps.clone(),
        })
    }
}

/// Reads a per-asset file, rejecting gaps. The symbol is the file stem (`ETH.csv` -> `ETH`).
pub fn read_series(path: impl AsRef<Path>) -> Result<DailySeries, DataError> {
    read_series_with(path, GapPolicy::Reject)
}

/// Reads a per-asset file under the given gap policy.
pub fn read_series_with(path: impl AsRef<Path>, policy: GapPolicy) -> Result<DailySeries, DataError> {
    let path = path.as_ref();
    parse_series(path, &read_bytes(path)?, policy)
}

/// Parses the contents of a per-asset file (as [`read_series_with`] does once it has read them).
/// `path` only names the file: the symbol is its stem, and errors name it.
pub fn parse_series(path: impl AsRef<Path>, bytes: &[u8], policy: GapPolicy) -> Result<DailySeries, DataError> {
    let path = path.as_ref();
    let text = decode_text(path, bytes)?;
    let mut lines = numbered_lines(text);
    let (_, header) = lines.next().unwrap_or((1, ""));
    if header != SERIES_HEADER {
        return Err(row_error(
            path,
            1,
            Problem::Header { found: header.to_string(), reason: format!("expected exactly {SERIES_HEADER:?}") },
        ));
    }
    let columns = [String::from("close_usd")];
    let parsed = parse_rows(path, lines, &columns, policy)?;
    let symbol = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let closes = parsed.closes.into_iter().next().unwrap_or_default();
    Ok(DailySeries { symbol, points: parsed.dates.into_iter().zip(closes).collect(), gaps: parsed.gaps })
}

/// Reads a wide file (`date,SYM1,SYM2,...`), rejecting gaps.
pub fn read_wide(path: impl AsRef<Path>) -> Result<PriceTable, DataError> {
    read_wide_with(path, GapPolicy::Reject)
}

/// Reads a wide file under the given gap policy.
pub fn read_wide_with(path: impl AsRef<Path>, policy: GapPolicy) -> Result<PriceTable, DataError> {
    let path = path.as_ref();
    parse_wide(path, &read_bytes(path)?, policy)
}

/// Parses the contents of a wide file (as [`read_wide_with`] does once it has read them); `path`
/// only names the file in errors.
pub fn parse_wide(path: impl AsRef<Path>, bytes: &[u8], policy: GapPolicy) -> Result<PriceTable, DataError> {
    let path = path.as_ref();
    let text = decode_text(path, bytes)?;
    let mut lines = numbered_lines(text);
    let (_, header) = lines.next().unwrap_or((1, ""));
    let symbols = wide_header(header).map_err(|reason| {
        row_error(path, 1, Problem::Header { found: header.to_string(), reason: reason.to_string() })
    })?;
    let parsed = parse_rows(path, lines, &symbols, policy)?;
    Ok(PriceTable { dates: parsed.dates, symbols, closes: parsed.closes, gaps: parsed.gaps })
}

/// The symbols of a wide header, or why it is wrong.
fn wide_header(header: &str) -> Result<Vec<String>, String> {
    let mut fields = header.split(',');
    if fields.next() != Some("date") {
        return Err("the first column must be \"date\"".to_string());
    }
    let symbols: Vec<String> = fields.map(str::to_string).collect();
    if symbols.is_empty() {
        return Err("expected \"date\" followed by at least one symbol column".to_string());
    }
    for (i, s) in symbols.iter().enumerate() {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("column {} name {s:?} must be a non-empty symbol of ASCII letters and digits", i + 2));
        }
        if symbols[..i].contains(s) {
            return Err(format!("column {s:?} appears twice"));
        }
    }
    Ok(symbols)
}

struct Parsed {
    dates: Vec<Date>,
    closes: Vec<Vec<f64>>,
    gaps: Vec<Gap>,
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}

/// The file's text without a leading byte-order mark; bytes that are not UTF-8 are a row error
/// naming their line.
fn decode_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        row_error(path, line, Problem::NotUtf8 { column: e.valid_up_to() - line_start + 1 })
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Lines numbered from 1, without their `\n` or `\r\n`.
fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l))
}

fn row_error(path: &Path, line: usize, problem: Problem) -> DataError {
    DataError::Row { path: path.to_path_buf(), line, problem }
}

fn parse_close(column: &str, text: &str) -> Result<f64, Problem> {
    let value: f64 =
        text.parse().map_err(|_| Problem::BadNumber { column: column.to_string(), text: text.to_string() })?;
    if !value.is_finite() {
        return Err(Problem::NonFinite { column: column.to_string(), text: text.to_string() });
    }
    if value <= 0.0 {
        return Err(Problem::NonPositive { column: column.to_string(), text: text.to_string() });
    }
    Ok(value)
}

fn parse_rows<'a>(
    path: &Path,
    lines: impl Iterator<Item = (usize, &'a str)>,
    columns: &[String],
    policy: GapPolicy,
) -> Result<Parsed, DataError> {
    let mut out = Parsed { dates: Vec::new(), closes: vec![Vec::new(); columns.len()], gaps: Vec::new() };
    let mut prev: Option<(Date, usize)> = None;
    for (line, text) in lines {
        let err = |problem| row_error(path, line, problem);
        if text.is_empty() {
            return Err(err(Problem::BlankLine));
        }
        let fields: Vec<&str> = text.split(',').collect();
        if fields.len() != columns.len() + 1 {
            return Err(err(Problem::FieldCount { found: fields.len(), expected: columns.len() + 1 }));
        }
        let date =
            Date::parse(fields[0]).map_err(|reason| err(Problem::BadDate { text: fields[0].to_string(), reason }))?;
        if let Some((prev_date, prev_line)) = prev {
            if date == prev_date {
                return Err(err(Problem::Duplicate { date, prev_line }));
            }
            if date < prev_date {
                return Err(err(Problem::OutOfOrder { date, prev: prev_date, prev_line }));
            }
            if date.days_after(prev_date) > 1 {
                let gap = Gap { after: prev_date, before: date };
                match policy {
                    GapPolicy::Reject => return Err(err(Problem::Gap { gap, prev_line })),
                    GapPolicy::Allow => out.gaps.push(gap),
                }
            }
        }
        for ((column, text), closes) in columns.iter().zip(&fields[1..]).zip(&mut out.closes) {
            closes.push(parse_close(column, text).map_err(err)?);
        }
        out.dates.push(date);
        prev = Some((date, line));
    }
    if out.dates.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(out)
}
