//! The shipped price files load and match their provenance; every rejection names file and line.

use granary_lab::data;
use granary_lab::{
    DataError, Date, GapPolicy, Problem, SECONDS_PER_DAY, parse_series, parse_wide, read_series, read_series_with,
    read_wide,
};
use std::path::PathBuf;

fn date(s: &str) -> Date {
    Date::parse(s).expect("test date")
}

/// (symbol, first, last, rows kept, missing days) as listed in data/prices/PROVENANCE.md.
const PROVENANCE: [(&str, &str, &str, usize, i64); 17] = [
    ("BTC", "2014-09-17", "2024-02-13", 3437, 0),
    ("ETH", "2017-11-09", "2024-02-13", 2288, 0),
    ("BNB", "2017-11-09", "2024-02-13", 2288, 0),
    ("SOL", "2020-04-10", "2024-02-13", 1405, 0),
    ("USDT", "2017-11-09", "2024-02-13", 2288, 0),
    ("USDC", "2018-10-08", "2024-02-13", 1955, 0),
    ("DAI", "2021-01-01", "2023-08-29", 971, 0),
    ("AAVE", "2020-10-06", "2024-02-08", 1221, 0),
    ("UNI", "2021-01-02", "2023-02-24", 784, 0),
    ("CRV", "2020-08-14", "2022-02-13", 549, 0),
    ("SUSHI", "2020-08-28", "2022-02-13", 535, 0),
    ("COMP", "2020-06-16", "2022-02-13", 608, 0),
    ("YFI", "2020-07-22", "2022-02-13", 572, 0),
    ("MKR", "2017-11-20", "2022-02-13", 1547, 0),
    ("LINK", "2017-11-09", "2022-02-13", 1558, 0),
    ("MATIC", "2019-04-28", "2022-02-13", 1023, 0),
    ("AVAX", "2020-07-13", "2022-02-13", 512, 69),
];

#[test]
fn every_shipped_series_loads_and_matches_provenance() {
    assert_eq!(PROVENANCE.len(), data::SYMBOLS.len());
    for (symbol, first, last, rows, missing) in PROVENANCE {
        assert!(data::SYMBOLS.contains(&symbol), "{symbol} not listed in data::SYMBOLS");
        let policy = data::policy_for(symbol);
        assert_eq!(policy == GapPolicy::Allow, missing > 0, "{symbol}: gap policy disagrees with the provenance");
        let s = data::load_with(symbol, policy).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.symbol, symbol);
        assert_eq!(s.first_date(), Some(date(first)), "{symbol} first");
        assert_eq!(s.last_date(), Some(date(last)), "{symbol} last");
        assert_eq!(s.len(), rows, "{symbol} rows");
        assert_eq!(s.missing_days(), missing, "{symbol} missing days");
        let span = usize::try_from(date(last).days_after(date(first)) + 1).expect("span");
        assert_eq!(span, rows + usize::try_from(missing).expect("missing"), "{symbol}: rows + missing = span");
    }
}

#[test]
fn avax_is_rejected_without_allow_and_its_gap_is_the_listing_gap() {
    let err = data::load("AVAX").expect_err("AVAX has missing days");
    let msg = err.to_string();
    assert!(msg.contains("AVAX.csv:4:"), "{msg}");
    assert!(msg.contains("69 calendar day(s) missing, 2020-07-15..=2020-09-21"), "{msg}");
    assert!(msg.contains("GapPolicy::Allow"), "{msg}");

    let s = data::load_with("AVAX", GapPolicy::Allow).expect("AVAX with Allow");
    assert_eq!(s.gaps.len(), 1);
    assert_eq!(s.gaps[0].after, date("2020-07-14"));
    assert_eq!(s.gaps[0].before, date("2020-09-22"));
    assert_eq!(s.gaps[0].missing_days(), 69);
    assert_eq!(data::KNOWN_GAPS, [("AVAX", 69)]);
}

#[test]
fn the_shipped_folder_holds_exactly_the_listed_files() {
    let mut expected: Vec<String> = data::SYMBOLS.iter().chain(&data::WIDE).map(|s| format!("{s}.csv")).collect();
    expected.push("PROVENANCE.md".to_string());
    expected.sort();
    let mut found: Vec<String> = std::fs::read_dir(data::dir())
        .expect("data/prices exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    found.sort();
    assert_eq!(found, expected);
}

#[test]
fn wide_files_load_and_agree_with_the_per_asset_files() {
    let cases = [
        ("daily_close_usd", "2020-10-06", "2024-02-08", 1221, vec!["BTC", "ETH", "BNB", "SOL", "USDT", "USDC", "AAVE"]),
        (
            "daily_close_usd_defi",
            "2021-01-02",
            "2022-02-13",
            408,
            vec!["BTC", "ETH", "USDT", "USDC", "DAI", "AAVE", "UNI", "CRV", "SUSHI", "COMP", "LINK"],
        ),
    ];
    for (name, first, last, rows, symbols) in cases {
        let t = data::load_wide(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.symbols, symbols, "{name}");
        assert_eq!(t.len(), rows, "{name}");
        assert_eq!(t.dates.first(), Some(&date(first)));
        assert_eq!(t.dates.last(), Some(&date(last)));
        assert!(t.gaps.is_empty());
        for symbol in &t.symbols {
            let col = t.series(symbol).expect("column");
            let own = data::load_with(symbol, data::policy_for(symbol)).expect("per-asset file");
            for (d, close) in &col.points {
                assert_eq!(own.close_on(*d), Some(*close), "{name} {symbol} {d}");
            }
        }
    }
    let t = data::load_wide("daily_close_usd").expect("wide");
    let err = t.series("CAKE").expect_err("no CAKE column");
    assert!(err.to_string().contains("BTC, ETH, BNB"), "{err}");
}

#[test]
fn eth_dates_and_known_closes() {
    let eth = data::load("ETH").expect("ETH");
    assert_eq!(eth.points.first(), Some(&(date("2017-11-09"), 320.884003)));
    assert_eq!(eth.points.last(), Some(&(date("2024-02-13"), 2642.185303)));
    assert_eq!(eth.close_on(date("2021-05-19")), Some(2460.679199));
    assert_eq!(eth.close_on(date("2021-11-10")), Some(4636.174316));
    assert_eq!(eth.close_on(date("2022-02-01")), Some(2792.117188));
    assert_eq!(eth.close_on(date("2017-11-08")), None);
}

#[test]
fn window_may_june_july_2021_has_92_eth_points() {
    let eth = data::load("ETH").expect("ETH");
    let w = eth.window(date("2021-05-01"), date("2021-07-31")).expect("window inside the data");
    assert_eq!(w.len(), 92);
    assert_eq!(w.first().map(|p| p.0), Some(date("2021-05-01")));
    assert_eq!(w.last().map(|p| p.0), Some(date("2021-07-31")));
    assert_eq!(w.first().map(|p| p.1), Some(2945.892822));
    assert_eq!(w.last().map(|p| p.1), Some(2536.209961));

    let single = eth.window(date("2024-02-13"), date("2024-02-13")).expect("last day");
    assert_eq!(single.len(), 1);

    let err = eth.window(date("2017-01-01"), date("2017-12-31")).expect_err("starts before the data");
    let msg = err.to_string();
    assert!(
        msg.contains("ETH: window 2017-01-01..=2017-12-31 is outside the data, which covers 2017-11-09..=2024-02-13")
    );
    let err = eth.window(date("2024-01-01"), date("2024-03-01")).expect_err("ends after the data");
    assert!(matches!(err, DataError::WindowOutside { .. }), "{err}");
    let err = eth.window(date("2021-07-31"), date("2021-05-01")).expect_err("reversed");
    assert!(err.to_string().contains("starts after it ends"), "{err}");
}

#[test]
fn log_returns_of_consecutive_closes() {
    let eth = data::load("ETH").expect("ETH");
    let r = eth.log_returns();
    assert_eq!(r.len(), eth.len() - 1);
    let i = eth.points.iter().position(|p| p.0 == date("2021-05-19")).expect("2021-05-19");
    let expected = (2460.679199f64 / 3380.070068).ln();
    assert!((r[i - 1] - expected).abs() < 1e-15, "{} vs {expected}", r[i - 1]);
    assert!(r.iter().all(|x| x.is_finite()));
    // The sum telescopes to the log of last over first.
    let total: f64 = r.iter().sum();
    assert!((total - (2642.185303f64 / 320.884003).ln()).abs() < 1e-9);
}

#[test]
fn interpolation_is_linear_within_days() {
    let eth = data::load("ETH").expect("ETH");
    let d = date("2021-05-19");
    let (prev, close) = (3380.070068, 2460.679199);
    let noon = d.start_seconds() + SECONDS_PER_DAY / 2;
    let mid = eth.interpolate(noon).expect("noon");
    assert!((mid - (prev + close) / 2.0).abs() < 1e-9, "{mid}");
    // A day's close is reached at the end of that day; the previous close at its start.
    assert_eq!(eth.interpolate(d.start_seconds()).ok(), Some(prev));
    assert_eq!(eth.interpolate(d.succ().start_seconds()).ok(), Some(close));
    let quarter = eth.interpolate(d.start_seconds() + SECONDS_PER_DAY / 4).expect("06:00");
    assert!((quarter - (prev + (close - prev) / 4.0)).abs() < 1e-9);

    // Bounds: from the end of the first day to the end of the last.
    let first_end = date("2017-11-10").start_seconds();
    let last_end = date("2024-02-14").start_seconds();
    assert_eq!(eth.interpolate(first_end).ok(), Some(320.884003));
    assert_eq!(eth.interpolate(last_end).ok(), Some(2642.185303));
    let err = eth.interpolate(first_end - 1).expect_err("before the first close");
    assert!(err.to_string().contains("outside"), "{err}");
    assert!(eth.interpolate(last_end + 1).is_err());
}

/// The inputs under `fuzz/regressions/price_read/` (each once failed the `price_read` fuzz
/// target) read without panicking, and every close of what they read is reached exactly by
/// `interpolate` at the end of its day.
#[test]
fn fuzz_regressions_read_and_interpolate_exactly_at_closes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/price_read");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in &files {
        let bytes = std::fs::read(path).expect("read a regression input");
        for policy in [GapPolicy::Reject, GapPolicy::Allow] {
            let _ = parse_wide(path, &bytes, policy);
            let Ok(s) = parse_series(path, &bytes, policy) else { continue };
            for &(d, close) in &s.points[1..] {
                assert_eq!(s.interpolate(d.succ().start_seconds()).ok(), Some(close), "{}: {d}", path.display());
            }
        }
    }
}

/// A close far below the previous one is still reached exactly at the end of its day.
#[test]
fn interpolation_reaches_a_close_after_a_large_drop() {
    let f = TempCsv::new("DROP", "date,close_usd\n2020-07-13,89143057488\n2020-07-14,4.539248943328857\n");
    let s = read_series(&f.0).expect("good file");
    assert_eq!(s.interpolate(date("2020-07-15").start_seconds()).ok(), Some(4.539248943328857));
    let noon = date("2020-07-14").start_seconds() + SECONDS_PER_DAY / 2;
    let mid = s.interpolate(noon).expect("noon");
    assert!((mid - (89143057488.0 + 4.539248943328857) / 2.0).abs() < 1e-3, "{mid}");
}

#[test]
fn interpolation_across_the_avax_gap_is_one_line() {
    let avax = data::load_with("AVAX", GapPolicy::Allow).expect("AVAX");
    let a = avax.close_on(date("2020-07-14")).expect("07-14");
    let b = avax.close_on(date("2020-09-22")).expect("09-22");
    // Halfway between the end of 07-14 and the end of 09-22 (70 days apart) is 35 days on.
    let t = date("2020-07-15").start_seconds() + 35 * SECONDS_PER_DAY;
    let p = avax.interpolate(t).expect("inside the gap");
    assert!((p - (a + b) / 2.0).abs() < 1e-9);
}

// ---- rejections, on small files written to a temporary folder ----

struct TempCsv(PathBuf);

impl TempCsv {
    fn new(name: &str, body: &str) -> TempCsv {
        let dir = std::env::temp_dir().join(format!("granary-lab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, body).expect("write temp file");
        TempCsv(path)
    }
}

impl Drop for TempCsv {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads `body` as a per-asset file and returns the rejection's line, problem and message.
fn reject(name: &str, body: &str) -> (usize, Problem, String) {
    let f = TempCsv::new(name, body);
    match read_series(&f.0) {
        Err(e @ DataError::Row { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&format!("{name}.csv:")), "message names the file: {msg}");
            let DataError::Row { line, problem, .. } = e else { unreachable!() };
            assert!(msg.contains(&format!(".csv:{line}: ")), "message names the line: {msg}");
            (line, problem, msg)
        }
        other => panic!("{name}: expected a row error, got {other:?}"),
    }
}

#[test]
fn a_good_small_file_reads_with_either_line_ending() {
    for body in ["date,close_usd\n2021-01-01,1.5\n2021-01-02,2\n", "date,close_usd\r\n2021-01-01,1.5\r\n2021-01-02,2"] {
        let f = TempCsv::new("GOOD", body);
        let s = read_series(&f.0).expect("good file");
        assert_eq!(s.symbol, "GOOD");
        assert_eq!(s.points, vec![(date("2021-01-01"), 1.5), (date("2021-01-02"), 2.0)]);
    }
}

#[test]
fn rejects_a_wrong_header() {
    let (line, problem, msg) = reject("bad_header", "date,close\n2021-01-01,1\n");
    assert_eq!(line, 1);
    assert!(matches!(problem, Problem::Header { .. }));
    assert!(msg.contains("expected exactly \"date,close_usd\""), "{msg}");
    let (line, _, _) = reject("no_header", "2021-01-01,1\n2021-01-02,1\n");
    assert_eq!(line, 1);
}

#[test]
fn rejects_a_malformed_date() {
    let (line, problem, msg) = reject("bad_date", "date,close_usd\n2021-01-01,1\n2021-01-02,1\n2021-02-30,1\n");
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::BadDate { .. }));
    assert!(msg.contains("bad_date.csv:4: malformed date \"2021-02-30\""), "{msg}");
    assert!(msg.contains("YYYY-MM-DD"), "{msg}");
    let (line, _, msg) = reject("bad_date_shape", "date,close_usd\n2021-01-01,1\n01/02/2021,1\n");
    assert_eq!(line, 3);
    assert!(msg.contains("\"01/02/2021\""), "{msg}");
}

#[test]
fn rejects_non_finite_and_non_positive_closes() {
    let (line, problem, msg) = reject("nan", "date,close_usd\n2021-01-01,1\n2021-01-02,NaN\n");
    assert_eq!(line, 3);
    assert!(matches!(problem, Problem::NonFinite { .. }), "{msg}");
    let (line, problem, _) = reject("inf", "date,close_usd\n2021-01-01,inf\n");
    assert_eq!(line, 2);
    assert!(matches!(problem, Problem::NonFinite { .. }));
    let (line, problem, msg) = reject("zero", "date,close_usd\n2021-01-01,1\n2021-01-02,2\n2021-01-03,0\n");
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::NonPositive { .. }));
    assert!(msg.contains("must be > 0"), "{msg}");
    let (line, problem, _) = reject("negative", "date,close_usd\n2021-01-01,-3.5\n");
    assert_eq!(line, 2);
    assert!(matches!(problem, Problem::NonPositive { .. }));
    let (line, problem, msg) = reject("empty_close", "date,close_usd\n2021-01-01,1\n2021-01-02,\n");
    assert_eq!(line, 3);
    assert!(matches!(problem, Problem::BadNumber { .. }), "{msg}");
    let (line, problem, _) = reject("null_close", "date,close_usd\n2021-01-01,null\n");
    assert_eq!(line, 2);
    assert!(matches!(problem, Problem::BadNumber { .. }));
}

#[test]
fn rejects_out_of_order_and_duplicate_dates() {
    let (line, problem, msg) = reject("order", "date,close_usd\n2021-01-02,1\n2021-01-03,1\n2021-01-01,1\n");
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::OutOfOrder { prev_line: 3, .. }));
    assert!(msg.contains("sort rows by increasing date"), "{msg}");
    let (line, problem, msg) = reject("dup", "date,close_usd\n2021-01-01,1\n2021-01-02,1\n2021-01-02,1\n");
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::Duplicate { prev_line: 3, .. }));
    assert!(msg.contains("date 2021-01-02 repeats line 3"), "{msg}");
}

#[test]
fn rejects_gaps_unless_allowed() {
    let body = "date,close_usd\n2021-01-01,1\n2021-01-02,1\n2021-01-05,1\n2021-01-06,1\n2021-01-08,1\n";
    let (line, problem, msg) = reject("gap", body);
    assert_eq!(line, 4);
    assert!(matches!(problem, Problem::Gap { prev_line: 3, .. }));
    assert!(msg.contains("2 calendar day(s) missing, 2021-01-03..=2021-01-04"), "{msg}");

    let f = TempCsv::new("gap_allowed", body);
    let s = read_series_with(&f.0, GapPolicy::Allow).expect("gaps allowed");
    assert_eq!(s.len(), 5);
    assert_eq!(s.gaps.len(), 2);
    assert_eq!(s.missing_days(), 3);
    assert_eq!(s.gaps[1].first_missing(), date("2021-01-07"));
    assert_eq!(s.gaps[1].last_missing(), date("2021-01-07"));
}

#[test]
fn rejects_structural_problems() {
    let (line, problem, _) = reject("fields", "date,close_usd\n2021-01-01,1,2\n");
    assert_eq!(line, 2);
    assert_eq!(problem, Problem::FieldCount { found: 3, expected: 2 });
    let (line, problem, _) = reject("blank", "date,close_usd\n2021-01-01,1\n\n2021-01-02,1\n");
    assert_eq!(line, 3);
    assert_eq!(problem, Problem::BlankLine);

    let f = TempCsv::new("header_only", "date,close_usd\n");
    let err = read_series(&f.0).expect_err("no rows");
    assert!(matches!(err, DataError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("header_only.csv"));

    let missing = std::env::temp_dir().join("granary-lab-no-such-dir").join("X.csv");
    let err = read_series(&missing).expect_err("no file");
    assert!(matches!(err, DataError::Io { .. }) && err.to_string().contains("X.csv"), "{err}");
}

#[test]
fn rejects_bytes_that_are_not_utf8_naming_the_line() {
    let dir = std::env::temp_dir().join(format!("granary-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("latin1.csv");
    std::fs::write(&path, b"date,close_usd\n2021-01-01,1\n2021-01-02,1\xe9\n").expect("write temp file");
    let err = read_series(&path).expect_err("not UTF-8");
    let _ = std::fs::remove_file(&path);
    let msg = err.to_string();
    assert!(matches!(err, DataError::Row { line: 3, problem: Problem::NotUtf8 { column: 13 }, .. }), "{msg}");
    assert!(msg.contains("latin1.csv:3: byte 13 of the line is not UTF-8"), "{msg}");
}

#[test]
fn parsing_bytes_reads_what_reading_the_file_does() {
    let body = "\u{feff}date,close_usd\r\n2021-01-01,1.5\r\n2021-01-02,2\r\n";
    let f = TempCsv::new("PARSED", body);
    let read = read_series(&f.0).expect("good file");
    assert_eq!(parse_series(&f.0, body.as_bytes(), GapPolicy::Reject).expect("good bytes"), read);
    let wide = "date,AAA,BBB\n2021-01-01,1,2\n2021-01-03,1.5,2.5\n";
    let msg = parse_wide("mem/wide.csv", wide.as_bytes(), GapPolicy::Reject).expect_err("a gap").to_string();
    assert!(msg.starts_with("mem/wide.csv:3: 1 calendar day(s) missing"), "{msg}");
    let t = parse_wide("mem/wide.csv", wide.as_bytes(), GapPolicy::Allow).expect("gaps allowed");
    assert_eq!(t.gaps.len(), 1);
}

#[test]
fn wide_files_get_the_same_checks_per_column() {
    let good = TempCsv::new("wide_good", "date,AAA,BBB\n2021-01-01,1,2\n2021-01-02,1.5,2.5\n");
    let t = read_wide(&good.0).expect("good wide file");
    assert_eq!(t.column("BBB"), Some(&[2.0, 2.5][..]));

    let cases = [
        ("wide_hdr", "day,AAA\n2021-01-01,1\n", 1, "the first column must be \"date\""),
        ("wide_dupcol", "date,AAA,AAA\n2021-01-01,1,1\n", 1, "appears twice"),
        ("wide_nocol", "date\n2021-01-01\n", 1, "at least one symbol column"),
        ("wide_zero", "date,AAA,BBB\n2021-01-01,1,2\n2021-01-02,1,0\n", 3, "BBB close \"0\" is not positive"),
        ("wide_nan", "date,AAA,BBB\n2021-01-01,nan,2\n", 2, "AAA close \"nan\" is not finite"),
        ("wide_gap", "date,AAA\n2021-01-01,1\n2021-01-03,1\n", 3, "1 calendar day(s) missing"),
        ("wide_dup", "date,AAA\n2021-01-01,1\n2021-01-01,1\n", 3, "repeats line 2"),
        ("wide_short", "date,AAA,BBB\n2021-01-01,1\n", 2, "2 comma-separated fields, expected 3"),
    ];
    for (name, body, line, needle) in cases {
        let f = TempCsv::new(name, body);
        let msg = read_wide(&f.0).expect_err(name).to_string();
        assert!(msg.contains(&format!("{name}.csv:{line}: ")), "{msg}");
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn data_folder_and_names() {
    let shipped = data::dir_from(None);
    assert!(shipped.ends_with("data/prices"));
    assert!(shipped.join("PROVENANCE.md").is_file());
    assert_eq!(data::dir_from(Some("".into())), shipped);
    assert_eq!(data::dir_from(Some("/elsewhere/prices".into())), PathBuf::from("/elsewhere/prices"));
    assert!(matches!(data::load("../Cargo"), Err(DataError::BadName(_))));
    assert!(matches!(data::load(""), Err(DataError::BadName(_))));
    let err = data::load("CAKE").expect_err("not shipped");
    assert!(matches!(err, DataError::NoSuchSeries { .. }));
    assert!(err.to_string().contains("GRANARY_PRICE_DATA"), "{err}");
}
