//! `scenario_parse`: arbitrary bytes as scenario text through `granary_scenario::run_text`.
//!
//! Properties: never panics; one output line per step, each `{"step": i, "ok": bool, …}`; the
//! same text run twice gives the same lines (no hidden nondeterminism, e.g. hash-map order).
//! Inputs over `MAX_SCENARIO_BYTES` or `MAX_SCENARIO_STEPS` steps are skipped so that no input
//! runs for long.

use crate::{MAX_SCENARIO_BYTES, MAX_SCENARIO_STEPS};

/// The body of the `scenario_parse` target: panics when a property fails.
pub fn check_scenario_parse(data: &[u8]) {
    if data.len() > MAX_SCENARIO_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let steps = match granary_scenario::parse_steps(text) {
        Ok(steps) if steps.len() > MAX_SCENARIO_STEPS => return,
        Ok(steps) => steps.len(),
        Err(_) => {
            assert!(granary_scenario::run_text(text).is_err());
            return;
        }
    };
    let lines = granary_scenario::run_text(text).expect("parse_steps accepted the text");
    assert_eq!(lines.len(), steps, "one output line per step");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.get("step").and_then(|v| v.as_u64()), Some(i as u64));
        let ok = line.get("ok").and_then(|v| v.as_bool());
        assert!(ok.is_some(), "step {i} has no ok flag: {line}");
        if ok == Some(false) {
            let code = line.pointer("/error/code").and_then(|v| v.as_str());
            assert!(code.is_some_and(|c| !c.is_empty()), "a failed step has an error code: {line}");
        }
    }
    let again = granary_scenario::run_text(text).expect("parses again");
    assert_eq!(lines, again, "the same scenario gave different results");
}
