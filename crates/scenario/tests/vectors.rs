//! Every shipped scenario vector, step by step: the `ok` flag and every expected result field.

use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn check(name: &str) -> usize {
    check_with(name, false)
}

/// Run the vector `name` step by step and compare each line with the expected one; with
/// `restore_each_step`, the engine is first rebuilt from its own snapshot encoding at every step.
fn check_with(name: &str, restore_each_step: bool) -> usize {
    let dir = vectors_dir();
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("scenario file");
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.jsonl"))).expect("expected file");
    let expected: Vec<Value> = expected.lines().map(|l| serde_json::from_str(l).expect("expected line")).collect();
    let steps = granary_scenario::parse_steps(&text).expect("scenario parses");
    assert_eq!(steps.len(), expected.len(), "{name}: one expected line per step");
    let mut runner = granary_scenario::Runner::new();
    for (i, (step, e)) in steps.iter().zip(&expected).enumerate() {
        if restore_each_step {
            let bytes = runner.world.encode_state();
            let restored =
                granary_engine::Engine::decode_state(&bytes).unwrap_or_else(|err| panic!("{name} step {i}: {err}"));
            assert_eq!(restored.encode_state(), bytes, "{name} step {i}: re-encoding differs");
            runner.world = restored;
        }
        let g = runner.step_line(i, step);
        assert_eq!(g["step"], e["step"], "{name}: step numbers");
        assert_eq!(g["ok"], e["ok"], "{name} step {}: ok flag; got {g}", e["step"]);
        if e["ok"] == Value::Bool(true) {
            let want = e["result"].as_object().expect("result object");
            for (k, v) in want {
                assert_eq!(&g["result"][k], v, "{name} step {}: field `{k}`; got {g}", e["step"]);
            }
        } else {
            assert!(g["error"]["code"].is_string() && g["error"]["message"].is_string(), "{name}: error shape");
        }
    }
    expected.len()
}

fn vector_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".expected.jsonl").map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn uniswap_v2_official() {
    assert_eq!(check("uniswap-v2-official"), 42);
}

#[test]
fn random_1() {
    assert_eq!(check("random-1"), 206);
}

#[test]
fn random_2() {
    assert_eq!(check("random-2"), 206);
}

#[test]
fn random_3() {
    assert_eq!(check("random-3"), 206);
}

#[test]
fn tiny_farm_309() {
    assert_eq!(check("tiny-farm-309"), 142);
}

#[test]
fn every_vector_in_the_folder_is_checked() {
    let names = vector_names();
    let total: usize = names.iter().map(|n| check(n)).sum();
    assert_eq!(names.len(), 5);
    assert_eq!(total, 802);
}

#[test]
fn same_scenario_same_state_hash() {
    let text = std::fs::read_to_string(vectors_dir().join("random-1.json")).expect("scenario");
    let mut steps = granary_scenario::parse_steps(&text).expect("parses");
    steps.push(serde_json::json!({"op": "state_hash"}));
    let doc = serde_json::to_string(&steps).expect("json");
    let a = granary_scenario::run_text(&doc).expect("runs");
    let b = granary_scenario::run_text(&doc).expect("runs");
    let ha = &a.last().expect("line")["result"]["state_hash"];
    assert!(ha.as_str().is_some_and(|h| h.len() == 66));
    assert_eq!(ha, &b.last().expect("line")["result"]["state_hash"]);
    // A different history gives a different hash.
    steps.insert(steps.len() - 1, serde_json::json!({"op": "advance", "chain": "eth", "seconds": 1}));
    let c = granary_scenario::run_text(&serde_json::to_string(&steps).expect("json")).expect("runs");
    assert_ne!(ha, &c.last().expect("line")["result"]["state_hash"]);
}

/// Restoring the engine from its snapshot encoding before every step changes nothing: every
/// vector still matches, and the restored state encodes to the same bytes.
#[test]
fn snapshot_restore_before_every_step_changes_nothing() {
    let total: usize = vector_names().iter().map(|n| check_with(n, true)).sum();
    assert_eq!(total, 802);
}
