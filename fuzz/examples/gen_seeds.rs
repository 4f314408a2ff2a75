//! Writes the committed seed corpora under `fuzz/seeds/`:
//! - `tx_decode/<name>.bin`: wire bytes of well-formed signed transactions against the fixture
//!   engine (accepted and rejected ones, every action kind);
//! - `scenario_parse/fixture.json`: the fixture scenario (the shared vectors are copied by hand);
//! - `journal_decode/`: stored entries of the fixture journal (operator actions, transactions, a
//!   sealed `Advance`), its first snapshot, and recovery programs (see
//!   `granary_fuzz::journal_decode`): the whole journal, the whole journal with every snapshot,
//!   one entry damaged under a recomputed checksum, one seal dropped;
//! - `price_read/`: the first rows of shipped price files (`data/prices/`): a per-asset series, the
//!   series with a gap (AVAX) and a wide table, and a small file with a byte-order mark and CRLF.
//!
//! Run: `cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds`

use granary_store::entry::{Entry, Record};
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

    write_journal_seeds(&root.join("journal_decode"));
    write_price_seeds(&root.join("price_read"));
}

fn write_journal_seeds(dir: &Path) {
    fs::create_dir_all(dir).expect("create seeds/journal_decode");
    let fx = granary_fuzz::journal_decode::fixture_journal();
    let n = fx.entries.len();
    // One stored entry of each of these kinds (the first in the journal).
    let wanted = [
        "op-create_chain",
        "op-create_token",
        "op-faucet_mint",
        "op-advance",
        "tx-create_pool",
        "tx-swap_exact_in",
        "tx-queue_admin",
        "tx-stake",
    ];
    let mut written = 0;
    let mut kinds_seen = std::collections::BTreeSet::new();
    for bytes in &fx.entries {
        let entry = Entry::decode(bytes).expect("a fixture entry decodes");
        let kind = match &entry.record {
            Record::Tx(stx) => format!("tx-{}", stx.tx.action.kind()),
            Record::System(op) => format!("op-{}", op.kind()),
        };
        if wanted.contains(&kind.as_str()) && kinds_seen.insert(kind.clone()) {
            fs::write(dir.join(format!("entry-{:02}-{kind}.bin", entry.seq)), bytes).expect("write an entry seed");
            written += 1;
        }
    }
    assert_eq!(written, wanted.len(), "the fixture journal has every wanted kind");
    let (seq, snapshot) = &fx.snapshots[0];
    fs::write(dir.join(format!("snapshot-{seq:02}.bin")), snapshot).expect("write a snapshot seed");

    // Programs: snapshot mask, extra snapshot count, then one op per entry (0 = the next entry).
    let whole: Vec<u8> = [0u8, 0].into_iter().chain(std::iter::repeat_n(0, n)).collect();
    fs::write(dir.join("program-whole-journal.bin"), &whole).expect("write a program");
    let mut with_snapshots = whole.clone();
    with_snapshots[0] = 0xff;
    fs::write(dir.join("program-with-snapshots.bin"), &with_snapshots).expect("write a program");
    // Entry n/2 with a byte flipped under a recomputed checksum (op 3, position, mask).
    let mut damaged = whole.clone();
    damaged.splice(2 + n / 2..3 + n / 2, [3, 0, 40, 0x10]);
    fs::write(dir.join("program-damaged-entry.bin"), &damaged).expect("write a program");
    // The first block-closing Advance without its seal (op 8, what 1).
    let first_seal = fx
        .entries
        .iter()
        .position(|b| Entry::decode(b).is_ok_and(|e| e.seal.is_some()))
        .expect("the fixture closes a block");
    let mut unsealed = whole.clone();
    unsealed.splice(2 + first_seal..3 + first_seal, [8, 1, 0]);
    fs::write(dir.join("program-advance-without-seal.bin"), &unsealed).expect("write a program");
    println!("wrote {} journal_decode seeds under {} ({n} fixture entries)", written + 5, dir.display());
}

fn write_price_seeds(dir: &Path) {
    fs::create_dir_all(dir).expect("create seeds/price_read");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("data").join("prices");
    let head = |name: &str, lines: usize| -> String {
        let text = fs::read_to_string(data.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"));
        text.lines().take(lines).map(|l| format!("{l}\n")).collect()
    };
    let files = [
        ("ETH-head.csv", head("ETH.csv", 24)),
        ("AVAX-gap.csv", head("AVAX.csv", 8)),
        ("daily_close_usd-head.csv", head("daily_close_usd.csv", 12)),
        ("bom-crlf.csv", "\u{feff}date,close_usd\r\n2021-01-01,1.5\r\n2021-01-02,2\r\n".to_string()),
    ];
    for (name, text) in &files {
        fs::write(dir.join(name), text).expect("write a price seed");
    }
    println!("wrote {} price_read seeds under {}", files.len(), dir.display());
}
