//! Writes the committed seed corpora under `fuzz/seeds/`:
//! - `tx_decode/<name>.bin`: wire bytes of well-formed signed transactions against the fixture
//!   engine (accepted and rejected ones, every action kind);
//! - `scenario_parse/fixture.json`: the fixture scenario (the shared vectors are copied by hand).
//!
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds`

use std::fs;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let tx_dir = root.join("tx_decode");
    fs::create_dir_all(&tx_dir).expect("create seeds/tx_decode");
    let seeds = granary_fuzz::seed_transactions();
    for (name, stx) in &seeds {
        fs::write(tx_dir.join(format!("{name}.bin")), stx.to_bytes()).expect("write a seed");
        let mut engine = granary_fuzz::fixture().clone();
        match engine.submit(stx) {
            Ok(_) => println!("{name}: accepted"),
            Err(e) => println!("{name}: rejected ({})", e.code()),
        }
    }
    let sc_dir = root.join("scenario_parse");
    fs::create_dir_all(&sc_dir).expect("create seeds/scenario_parse");
    fs::write(sc_dir.join("fixture.json"), granary_fuzz::FIXTURE_SCENARIO.as_bytes())
        .expect("write the fixture scenario");
    println!("wrote {} tx_decode seeds and 1 scenario_parse seed under {}", seeds.len(), root.display());
}
