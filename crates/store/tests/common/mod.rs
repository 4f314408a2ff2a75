//! A deterministic world and stream of journal items shared by the store tests.

#![allow(dead_code)]

use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, SignedTransaction, SystemOp, Transaction, U256};
use granary_store::{Backend, Node, SnapshotPolicy};

pub const ACTORS: usize = 4;

pub fn actor(i: usize) -> Address {
    key_address(&dev_key(&format!("actor{i}")))
}

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

/// Genesis: one chain, two tokens, every actor funded.
pub fn genesis() -> Vec<SystemOp> {
    let mut ops =
        vec![SystemOp::CreateChain { id: "eth".into(), chain_id: 1, name: "ethereum".into(), block_time_s: 12 }];
    for t in ["WETH", "USDC"] {
        ops.push(SystemOp::CreateToken {
            id: t.into(),
            chain: "eth".into(),
            symbol: t.into(),
            decimals: 18,
            minter: None,
        });
        for i in 0..ACTORS {
            ops.push(SystemOp::FaucetMint { token: t.into(), to: actor(i), amount: e18(1_000_000_000) });
        }
    }
    ops
}

/// One item of the stream after genesis.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Tx(SignedTransaction),
    Advance,
}

/// Item `i` of the stream: every 40th closes a block; the rest are signed transactions that all
/// succeed (a pool is created and funded first, then swaps and transfers), sender `k % ACTORS`
/// with its next nonce.
pub fn item(i: u64) -> Item {
    if i % 40 == 39 {
        return Item::Advance;
    }
    let tx_index = i - i / 40; // transactions before this one
    let who = (tx_index % ACTORS as u64) as usize;
    let nonce = tx_index / ACTORS as u64;
    let action = match tx_index {
        0 => Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 },
        1..=4 => Action::AddLiquidity { pool: "P".into(), amounts: [e18(1000), e18(2000)], min: [U256::ZERO; 2] },
        k if k % 3 == 0 => {
            Action::Transfer { token: "WETH".into(), to: actor((who + 1) % ACTORS), amount: U256::from(1000 + k) }
        }
        k => Action::SwapExactIn {
            path: vec!["P".into()],
            token_in: if k % 2 == 0 { "WETH".into() } else { "USDC".into() },
            amount_in: U256::from(1_000_000_000_000u64 + k),
            min_out: U256::ZERO,
        },
    };
    let tx = Transaction { chain_id: 1, sender: actor(who), nonce, deadline: u64::MAX, action };
    Item::Tx(tx.sign(&dev_key(&format!("actor{who}"))))
}

/// Apply genesis and items `0..n` through a node, in batches of up to `batch`.
pub fn drive<B: Backend>(node: &mut Node<B>, from: u64, n: u64, batch: usize) {
    let g = genesis();
    let done = node.next_seq() - 1;
    for op in g.iter().skip(done as usize) {
        node.system(op.clone()).expect("durable").expect("genesis applies");
    }
    let mut pending = Vec::new();
    for i in from..n {
        match item(i) {
            Item::Tx(stx) => {
                pending.push(stx);
                if pending.len() >= batch {
                    flush(node, &mut pending);
                }
            }
            Item::Advance => {
                flush(node, &mut pending);
                node.system(SystemOp::Advance { chain: "eth".into(), seconds: 12 })
                    .expect("durable")
                    .expect("advance applies");
            }
        }
    }
    flush(node, &mut pending);
}

fn flush<B: Backend>(node: &mut Node<B>, pending: &mut Vec<SignedTransaction>) {
    if pending.is_empty() {
        return;
    }
    for r in node.submit_batch(std::mem::take(pending)).expect("durable") {
        if let Err(e) = r {
            panic!("a stream transaction was refused: {e}");
        }
    }
}

pub fn policy(every_blocks: u64) -> SnapshotPolicy {
    SnapshotPolicy { every_blocks, every: std::time::Duration::from_secs(3600), keep: 3 }
}

/// The state hash after genesis and the first `entries - genesis().len()` stream items, computed
/// on a bare engine without any store: what a recovered journal of `entries` entries must give.
pub fn expected_hash(entries: u64) -> granary_engine::B256 {
    let mut e = granary_engine::Engine::new();
    let g = genesis();
    for op in g.iter().take(entries as usize) {
        e.apply_system(op).expect("genesis");
    }
    for i in 0..entries.saturating_sub(g.len() as u64) {
        match item(i) {
            Item::Tx(stx) => {
                e.submit(&stx).expect("stream tx");
            }
            Item::Advance => {
                let c = e.chain_ix("eth").expect("chain");
                e.advance(c, 12).expect("advance");
            }
        }
    }
    e.state_hash()
}

/// PostgreSQL for tests: an admin URL (`GRANARY_PG_URL`, default the local server as `postgres`).
pub fn pg_admin_url() -> String {
    std::env::var("GRANARY_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database for one test, dropped when the guard goes. `None` (with a printed reason) when
/// no server is reachable outside CI; in CI an unreachable server fails the test.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub fn create(tag: &str) -> Option<PgDb> {
        let admin = pg_admin_url();
        let mut client = match postgres::Client::connect(&admin, postgres::NoTls) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
                    panic!("PostgreSQL is required in CI but {admin} is unreachable: {e}");
                }
                println!("SKIPPED: PostgreSQL test `{tag}`: no server reachable at {admin} ({e})");
                return None;
            }
        };
        let name = format!("granary_test_{}_{}_{}", tag, std::process::id(), rand_suffix());
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{name}", &admin[..i]),
            None => admin.clone(),
        };
        Some(PgDb { url, name })
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
    );
    h.finish() % 1_000_000_000
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&pg_admin_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
