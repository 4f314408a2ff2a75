//! `granary journal …` and persisted scenario runs.

use granary_engine::{Engine, Outcome, SignedTransaction, SystemOp};
use granary_scenario::{StepError, World};
use granary_store::node::verify_journal;
use granary_store::{Backend, Entry, Location, Node, Reader, Record, SnapshotPolicy};
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

/// A store node as a scenario world: every accepted step is journaled before its line prints.
struct Journaled(Node<Box<dyn Backend>>);

fn store_failure(e: granary_store::StoreError) -> StepError {
    StepError { code: "store".into(), message: e.to_string() }
}

impl World for Journaled {
    fn engine(&self) -> &Engine {
        self.0.engine()
    }
    fn submit(&mut self, stx: SignedTransaction) -> Result<Outcome, StepError> {
        match self.0.submit(stx).map_err(store_failure)? {
            Ok(receipt) => Ok(receipt.outcome),
            Err(e) => Err(e.into()),
        }
    }
    fn system(&mut self, op: SystemOp) -> Result<(), StepError> {
        match self.0.system(op).map_err(store_failure)? {
            Ok(_) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

pub fn run_persisted(text: &str, location: &Location, policy: SnapshotPolicy) -> Result<Vec<Value>, String> {
    let backend = location.open_writer().map_err(|e| e.to_string())?;
    let (node, report) = Node::open(backend, policy).map_err(|e| e.to_string())?;
    eprintln!("store: {report}");
    let (lines, mut world) = granary_scenario::run_text_on(text, Journaled(node))?;
    world.0.snapshot().map_err(|e| e.to_string())?;
    Ok(lines)
}

pub fn verify(location: &Location) -> Result<ExitCode, String> {
    let mut backend = location.open_reader().map_err(|e| e.to_string())?;
    let what = backend.describe();
    match verify_journal(&mut backend) {
        Ok(r) => {
            println!(
                "{what}: {} entries replayed from genesis, {} block seals and every snapshot match; state hash {:#x}",
                r.replayed, r.seals_checked, r.state_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{what}: verification FAILED: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn status(location: &Location) -> Result<ExitCode, String> {
    let backend = location.open_reader().map_err(|e| e.to_string())?;
    let what = backend.describe();
    let (_, report) = Reader::open(backend).map_err(|e| e.to_string())?;
    println!("{what}: {report}");
    Ok(if report.cut_reason.is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One journal entry as JSON.
pub fn entry_json(e: &Entry) -> Value {
    let mut v = json!({"seq": e.seq, "chain_id": e.chain_id, "block": e.block, "timestamp": e.timestamp});
    match &e.record {
        Record::Tx(stx) => {
            let p = stx.tx.action.to_parts();
            v["kind"] = json!("tx");
            v["sender"] = json!(format!("{:#x}", stx.tx.sender));
            v["nonce"] = json!(stx.tx.nonce);
            v["deadline"] = json!(stx.tx.deadline);
            v["action"] = json!({
                "kind": p.kind,
                "ids": p.ids,
                "amounts": p.amounts.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            });
            v["signature"] = json!(hex(&stx.signature));
        }
        Record::System(op) => {
            v["kind"] = json!("system");
            v["op"] = json!(op.kind());
            match op {
                SystemOp::CreateChain { id, name, block_time_s, .. } => {
                    v["id"] = json!(id);
                    v["name"] = json!(name);
                    v["block_time_s"] = json!(block_time_s);
                }
                SystemOp::SetGasModel { chain, native_symbol, gas_price_wei } => {
                    v["chain"] = json!(chain);
                    v["native_symbol"] = json!(native_symbol);
                    v["gas_price_wei"] = json!(gas_price_wei.to_string());
                }
                SystemOp::CreateToken { id, chain, symbol, decimals, minter } => {
                    v["id"] = json!(id);
                    v["chain"] = json!(chain);
                    v["symbol"] = json!(symbol);
                    v["decimals"] = json!(decimals);
                    v["minter"] = json!(minter.map(|m| format!("{m:#x}")));
                }
                SystemOp::FaucetMint { token, to, amount } => {
                    v["token"] = json!(token);
                    v["to"] = json!(format!("{to:#x}"));
                    v["amount"] = json!(amount.to_string());
                }
                SystemOp::Advance { chain, seconds } => {
                    v["chain"] = json!(chain);
                    v["seconds"] = json!(seconds);
                }
            }
        }
    }
    if let Some(seal) = e.seal {
        v["state_hash"] = json!(format!("{seal:#x}"));
    }
    v
}

pub fn export(location: &Location, from: u64) -> Result<ExitCode, String> {
    let mut backend = location.open_reader().map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failure = None;
    let mut write_error = None;
    backend
        .scan(from, &mut |seq, bytes| match Entry::decode(bytes) {
            Ok(e) => match writeln!(out, "{}", entry_json(&e)) {
                Ok(()) => true,
                Err(err) => {
                    write_error = Some(err.to_string());
                    false
                }
            },
            Err(d) => {
                failure = Some(format!("entry {seq} is damaged ({d}); entries before it were exported"));
                false
            }
        })
        .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    if let Some(e) = write_error {
        return Err(e);
    }
    match failure {
        Some(why) => {
            eprintln!("error: {why}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}
