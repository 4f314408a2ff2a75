//! `price_read`: arbitrary bytes as a price file through `granary_lab::prices`, both as a
//! per-asset series (`parse_series`) and as a wide table (`parse_wide`), under both gap policies.
//!
//! Properties:
//! - no panic;
//! - on `Ok`: every line after the header is one row; dates strictly increase; closes are finite
//!   and strictly positive; under `GapPolicy::Reject` consecutive dates are consecutive days and
//!   `gaps` is empty, under `GapPolicy::Allow` `gaps` lists exactly the runs of missing days; a
//!   table's columns are distinct ASCII-alphanumeric symbols, each with one close per date, and
//!   `series(symbol)` is that column; the helpers agree with the points (`close_on` every date,
//!   `window(first, last)` is every point, `log_returns` has one value fewer, `interpolate` at
//!   the end of each day gives exactly that day's close);
//! - re-rendered (the header, then `date,close` per row with the shortest decimal that reads back
//!   as the same `f64`) and parsed again, the result is the same series or table;
//! - on `Err`: the error is a row error whose message names the file and the line (`PRICE.csv:N:`),
//!   the line exists, a header problem is on line 1, a blank line is blank, a problem that refers
//!   to an earlier row names an earlier line; or the file has a valid header and no rows (`Empty`);
//! - the policies agree: what `Reject` accepts `Allow` accepts unchanged; where `Reject` refuses
//!   for something other than a gap, `Allow` refuses at the same line for the same reason; where
//!   `Allow` refuses, `Reject` refuses at that line or before.

use granary_lab::prices::{DailySeries, DataError, GapPolicy, PriceTable, Problem, SERIES_HEADER};
use granary_lab::{Date, SECONDS_PER_DAY, parse_series, parse_wide};
use std::path::Path;

/// The name the input is read under (the series symbol is its stem).
pub const PRICE_FILE: &str = "PRICE.csv";

/// A per-asset file holding `series`, as the reader reads it back.
pub fn render_series(series: &DailySeries) -> String {
    let mut out = format!("{SERIES_HEADER}\n");
    for (date, close) in &series.points {
        out.push_str(&format!("{date},{close}\n"));
    }
    out
}

/// A wide file holding `table`.
pub fn render_wide(table: &PriceTable) -> String {
    let mut out = format!("date,{}\n", table.symbols.join(","));
    for (row, date) in table.dates.iter().enumerate() {
        out.push_str(&date.to_string());
        for column in &table.closes {
            out.push_str(&format!(",{}", column[row]));
        }
        out.push('\n');
    }
    out
}

/// The lines of the input as the reader numbers them (`None` when it is not UTF-8).
fn lines(data: &[u8]) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(data).ok()?;
    Some(text.strip_prefix('\u{feff}').unwrap_or(text).lines().collect())
}

/// Dates strictly increase; gaps are as the policy says.
fn check_dates(dates: &[Date], gaps: &[granary_lab::Gap], policy: GapPolicy) {
    assert!(!dates.is_empty(), "the reader returned no rows");
    let mut want_gaps = Vec::new();
    for w in dates.windows(2) {
        assert!(w[0] < w[1], "dates do not strictly increase: {} then {}", w[0], w[1]);
        if w[1].days_after(w[0]) > 1 {
            want_gaps.push((w[0], w[1]));
        }
    }
    let got: Vec<(Date, Date)> = gaps.iter().map(|g| (g.after, g.before)).collect();
    match policy {
        GapPolicy::Reject => assert!(want_gaps.is_empty() && got.is_empty(), "a gap under GapPolicy::Reject"),
        GapPolicy::Allow => assert_eq!(got, want_gaps, "gaps are not the runs of missing days"),
    }
    for g in gaps {
        assert!(g.missing_days() >= 1 && g.first_missing() <= g.last_missing());
    }
}

fn check_close(close: f64) {
    assert!(close.is_finite() && close > 0.0, "a close of {close} was accepted");
}

fn check_series(data: &[u8], s: &DailySeries, policy: GapPolicy) {
    let lines = lines(data).expect("a series was read from UTF-8");
    assert_eq!(s.symbol, "PRICE");
    assert_eq!(s.len(), lines.len() - 1, "every line after the header is one row");
    let dates: Vec<Date> = s.points.iter().map(|p| p.0).collect();
    check_dates(&dates, &s.gaps, policy);
    for &(date, close) in &s.points {
        check_close(close);
        assert_eq!(s.close_on(date), Some(close));
    }
    let (first, last) = (dates[0], dates[dates.len() - 1]);
    assert_eq!(s.window(first, last).map(<[_]>::len).ok(), Some(s.len()));
    assert_eq!(s.log_returns().len(), s.len() - 1);
    let end_of = |d: Date| d.start_seconds() + SECONDS_PER_DAY;
    for &(date, close) in &s.points {
        assert_eq!(s.interpolate(end_of(date)).ok(), Some(close), "interpolate at the end of {date}");
    }
    assert_eq!(s.missing_days(), s.gaps.iter().map(|g| g.missing_days()).sum::<i64>());

    let again = parse_series(PRICE_FILE, render_series(s).as_bytes(), policy)
        .unwrap_or_else(|e| panic!("the re-rendered series does not read back: {e}"));
    assert_eq!(&again, s, "the re-rendered series reads back differently");
}

fn check_table(data: &[u8], t: &PriceTable, policy: GapPolicy) {
    let lines = lines(data).expect("a table was read from UTF-8");
    assert_eq!(t.len(), lines.len() - 1, "every line after the header is one row");
    check_dates(&t.dates, &t.gaps, policy);
    assert!(!t.symbols.is_empty());
    assert_eq!(t.closes.len(), t.symbols.len());
    for (i, symbol) in t.symbols.iter().enumerate() {
        assert!(!symbol.is_empty() && symbol.chars().all(|c| c.is_ascii_alphanumeric()), "symbol {symbol:?}");
        assert!(!t.symbols[..i].contains(symbol), "symbol {symbol:?} twice");
        assert_eq!(t.closes[i].len(), t.dates.len(), "column {symbol} has one close per date");
        t.closes[i].iter().copied().for_each(check_close);
        let s = t.series(symbol).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.points, t.dates.iter().copied().zip(t.closes[i].iter().copied()).collect::<Vec<_>>());
    }
    let again = parse_wide(PRICE_FILE, render_wide(t).as_bytes(), policy)
        .unwrap_or_else(|e| panic!("the re-rendered table does not read back: {e}"));
    assert_eq!(&again, t, "the re-rendered table reads back differently");
}

/// A refusal names the file and an existing line, and is consistent with that line.
fn check_error(data: &[u8], e: &DataError) {
    let lines = lines(data);
    match e {
        DataError::Row { path, line, problem } => {
            assert_eq!(path, Path::new(PRICE_FILE));
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("{PRICE_FILE}:{line}: ")), "the message names the line: {msg}");
            assert!(*line >= 1);
            if let Some(lines) = &lines {
                assert!(*line <= lines.len().max(1), "line {line} of {}: {msg}", lines.len());
            }
            match problem {
                Problem::Header { .. } => assert_eq!(*line, 1, "{msg}"),
                Problem::NotUtf8 { .. } => assert!(lines.is_none(), "{msg}"),
                Problem::BlankLine => {
                    assert!(lines.as_ref().is_some_and(|l| l[*line - 1].is_empty()) && *line > 1, "{msg}")
                }
                Problem::OutOfOrder { prev_line, .. }
                | Problem::Duplicate { prev_line, .. }
                | Problem::Gap { prev_line, .. } => assert!(*prev_line >= 2 && prev_line < line, "{msg}"),
                _ => assert!(*line >= 2, "{msg}"),
            }
        }
        DataError::Empty { path } => {
            assert_eq!(path, Path::new(PRICE_FILE));
            assert!(lines.is_some_and(|l| l.len() == 1), "Empty for a file with rows: {e}");
        }
        other => panic!("unexpected error kind: {other}"),
    }
}

fn row(e: &DataError) -> Option<(usize, &Problem)> {
    match e {
        DataError::Row { line, problem, .. } => Some((*line, problem)),
        _ => None,
    }
}

/// The two policies' results agree (see the module doc).
fn check_policies<T: PartialEq + std::fmt::Debug>(reject: &Result<T, DataError>, allow: &Result<T, DataError>) {
    match (reject, allow) {
        (Ok(_), Ok(_)) => {} // compared by the caller
        (Ok(_), Err(e)) => panic!("GapPolicy::Allow refused what GapPolicy::Reject accepted: {e}"),
        (Err(r), Ok(_)) => assert!(matches!(row(r), Some((_, Problem::Gap { .. }))), "Reject refused: {r}"),
        (Err(r), Err(a)) => match (row(r), row(a)) {
            (Some((rl, Problem::Gap { .. })), Some((al, _))) => assert!(rl <= al, "Reject: {r}; Allow: {a}"),
            (rr, aa) => assert_eq!(rr, aa, "Reject: {r}; Allow: {a}"),
        },
    }
}

/// Read `data` under both gap policies with `parse`, check each result (`check_ok` on `Ok`) and
/// that the two agree.
fn check_both_policies<T: PartialEq + std::fmt::Debug>(
    data: &[u8],
    parse: impl Fn(&[u8], GapPolicy) -> Result<T, DataError>,
    check_ok: fn(&[u8], &T, GapPolicy),
) {
    let [reject, allow] = [GapPolicy::Reject, GapPolicy::Allow].map(|policy| {
        let r = parse(data, policy);
        match &r {
            Ok(v) => check_ok(data, v, policy),
            Err(e) => check_error(data, e),
        }
        r
    });
    check_policies(&reject, &allow);
    if let (Ok(r), Ok(a)) = (&reject, &allow) {
        assert_eq!(r, a, "without gaps the policies read the same");
    }
}

/// The body of the `price_read` target: panics when a property fails.
pub fn check_price_read(data: &[u8]) {
    check_both_policies(data, |d, p| parse_series(PRICE_FILE, d, p), check_series);
    check_both_policies(data, |d, p| parse_wide(PRICE_FILE, d, p), check_table);
}
