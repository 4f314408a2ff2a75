//! Replays every committed input under `seeds/<target>/` and `regressions/<target>/` through the
//! function the libFuzzer target calls, on a stable toolchain and without libFuzzer:
//! `cargo test --manifest-path fuzz/Cargo.toml`. A failing input is named; all of them are tried.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            inputs.push(entry.expect("a directory entry").path());
        }
    }
    inputs.sort();
    assert!(!inputs.is_empty(), "no committed inputs for {target}");
    let mut failed = Vec::new();
    for path in &inputs {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target} fails on {} of {} inputs: {failed:?}", failed.len(), inputs.len());
    println!("{target}: {} inputs pass", inputs.len());
}

#[test]
fn tx_decode() {
    replay("tx_decode", granary_fuzz::check_tx_decode);
}

#[test]
fn scenario_parse() {
    replay("scenario_parse", granary_fuzz::check_scenario_parse);
}

#[test]
fn journal_decode() {
    replay("journal_decode", granary_fuzz::check_journal_decode);
}

#[test]
fn price_read() {
    replay("price_read", granary_fuzz::check_price_read);
}
