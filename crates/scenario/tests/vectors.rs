//! Every shipped scenario vector, step by step: the `ok` flag and every expected result field.

use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn check(name: &str) -> usize {
    let dir = vectors_dir();
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("scenario file");
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.expected.jsonl"))).expect("expected file");
    let got = granary_scenario::run_text(&text).expect("scenario parses");
    let expected: Vec<Value> = expected
        .lines()
        .map(|l| serde_json::from_str(l).expect("expected line"))
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "{name}: one output line per step"
    );
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g["step"], e["step"], "{name}: step numbers");
        assert_eq!(
            g["ok"], e["ok"],
            "{name} step {}: ok flag; got {g}",
            e["step"]
        );
        if e["ok"] == Value::Bool(true) {
            let want = e["result"].as_object().expect("result object");
            for (k, v) in want {
                assert_eq!(
                    &g["result"][k], v,
                    "{name} step {}: field `{k}`; got {g}",
                    e["step"]
                );
            }
        } else {
            assert!(
                g["error"]["code"].is_string() && g["error"]["message"].is_string(),
                "{name}: error shape"
            );
        }
    }
    expected.len()
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
    let mut names: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".expected.jsonl").map(str::to_string))
        .collect();
    names.sort();
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
    steps.insert(
        steps.len() - 1,
        serde_json::json!({"op": "advance", "chain": "eth", "seconds": 1}),
    );
    let c =
        granary_scenario::run_text(&serde_json::to_string(&steps).expect("json")).expect("runs");
    assert_ne!(ha, &c.last().expect("line")["result"]["state_hash"]);
}
