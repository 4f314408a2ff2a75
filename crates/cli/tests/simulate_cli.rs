//! `granary simulate`: a backtest with its CSV, SVG and PNG chart and JSON; Monte Carlo output that
//! does not depend on --threads; bad flags exit 2 with a message that names the flag.

use std::process::Command;

fn granary(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_granary")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_backtest_writes_its_csv_chart_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("out");
    let svg = dir.path().join("lp.svg");
    let png = dir.path().join("lp.png");
    let base = ["simulate", "lp", "--pair", "ETH/USDC", "--from", "2021-05-01", "--to", "2021-07-31"];
    let mut args: Vec<&str> = base.to_vec();
    let (csv_s, svg_s) = (csv.display().to_string(), svg.display().to_string());
    args.extend(["--csv", &csv_s, "--chart", &svg_s, "--json"]);
    let (code, out, err) = granary(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON summary");
    assert_eq!(json["strategy"], "lp");
    assert_eq!(json["days"], 91);
    assert!(json["final_value_usd"]["p50"].as_f64().is_some_and(|v| v > 5000.0 && v < 15000.0), "{json}");
    let days = std::fs::read_to_string(csv.join("days.csv")).expect("days.csv");
    assert_eq!(days.lines().count(), 93, "header + 92 days");
    assert!(days.lines().nth(1).is_some_and(|l| l.starts_with("0,2021-05-01,")));
    let summary = std::fs::read_to_string(csv.join("summary.csv")).expect("summary.csv");
    assert!(summary.starts_with("metric,mean,p5,p50,p95\nfinal_value_usd,"));
    let chart = std::fs::read_to_string(&svg).expect("svg");
    assert!(chart.starts_with("<svg") && chart.contains("HODL") && chart.contains("2021-05-01"));

    let mut args: Vec<&str> = base.to_vec();
    let png_s = png.display().to_string();
    args.extend(["--chart", &png_s]);
    let (code, out, err) = granary(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("impermanent loss (%)") && out.contains("return vs HODL (%)"), "{out}");
    let bytes = std::fs::read(&png).expect("png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn monte_carlo_csv_is_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        let o = out.display().to_string();
        let (code, _, err) = granary(&[
            "simulate",
            "farm",
            "--paths",
            "12",
            "--days",
            "15",
            "--steps-per-day",
            "6",
            "--seed",
            "9",
            "--model",
            "bootstrap",
            "--block-days",
            "5",
            "--from",
            "2021-01-01",
            "--to",
            "2022-12-31",
            "--threads",
            threads,
            "--csv",
            &o,
        ]);
        assert_eq!(code, 0, "{err}");
        ["summary.csv", "paths.csv", "days.csv"].map(|f| std::fs::read(out.join(f)).expect("csv"))
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(String::from_utf8_lossy(&one[1]).lines().count(), 13, "header + 12 paths");
}

#[test]
fn bad_flags_exit_2_and_name_the_flag() {
    for (args, needle) in [
        (vec!["simulate", "lp", "--pair", "DOGE/USDC", "--from", "2021-01-01", "--to", "2021-02-01"], "--pair"),
        (vec!["simulate", "lp", "--from", "2010-01-01", "--to", "2011-01-01"], "--from"),
        (vec!["simulate", "lp", "--paths", "0"], "--paths"),
        (vec!["simulate", "lp"], "--from"),
        (vec!["simulate", "lp", "--from", "2021-01-01", "--to", "2021-02-01", "--chart", "x.gif"], ".svg or .png"),
        (vec!["simulate", "lp", "--from", "2021-01-01", "--to", "2021-02-01", "--chain", "solana"], "--chain"),
        (vec!["simulate", "lp", "--from", "2021-02-30", "--to", "2021-03-01"], "--from"),
        (vec!["simulate", "lp", "--paths", "5", "--model", "bootstrap", "--block-days", "0"], "--block-days"),
    ] {
        let (code, _, err) = granary(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
