//! The same transactions give the same state hash at every block; a different history does not.

use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, BlockSeal, Engine, SignedTransaction, Transaction, U256};

fn genesis() -> Engine {
    let mut e = Engine::new();
    let c = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    for id in ["WETH", "USDC"] {
        let t = e.create_token(id, c, id, 18, Minter::Nobody).unwrap_or(0);
        for who in ["alice", "bob"] {
            assert!(e.faucet_mint(t, key_address(&dev_key(who)), U256::from(10u64).pow(U256::from(24u8))).is_ok());
        }
    }
    e
}

fn txs() -> Vec<SignedTransaction> {
    let wad = U256::from(10u64).pow(U256::from(18u8));
    let actions = [
        ("alice", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 }),
        (
            "alice",
            Action::AddLiquidity {
                pool: "P".into(),
                amounts: [wad * U256::from(100u8), wad * U256::from(250u8)],
                min: [U256::ZERO; 2],
            },
        ),
        (
            "bob",
            Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "WETH".into(),
                amount_in: wad,
                min_out: U256::ZERO,
            },
        ),
        (
            "bob",
            Action::SwapExactIn {
                path: vec!["P".into()],
                token_in: "USDC".into(),
                amount_in: wad,
                min_out: U256::ZERO,
            },
        ),
        (
            "alice",
            Action::SwapExactOut {
                path: vec!["P".into()],
                token_in: "USDC".into(),
                amount_out: wad,
                max_in: U256::MAX,
            },
        ),
    ];
    let mut nonces = std::collections::BTreeMap::new();
    actions
        .into_iter()
        .map(|(who, action)| {
            let n = nonces.entry(who).or_insert(0u64);
            let tx =
                Transaction { chain_id: 1, sender: key_address(&dev_key(who)), nonce: *n, deadline: u64::MAX, action };
            *n += 1;
            tx.sign(&dev_key(who))
        })
        .collect()
}

/// Apply each transaction in its own 12-second block; return every block's seal.
fn run(order: &[usize]) -> Vec<BlockSeal> {
    let mut e = genesis();
    let all = txs();
    let mut seals = Vec::new();
    for &i in order {
        let _ = e.submit(&all[i]);
        seals.push(e.advance(0, 12).unwrap_or_else(|err| panic!("advance: {err}")));
    }
    seals
}

#[test]
fn same_transactions_same_hash_at_every_block() {
    let order = [0, 1, 2, 3, 4];
    let a = run(&order);
    let b = run(&order);
    assert_eq!(a, b);
    assert_eq!(a.len(), 5);
    // Every accepted transaction changed the state.
    for w in a.windows(2) {
        assert_ne!(w[0].state_hash, w[1].state_hash);
        assert_eq!(w[1].number, w[0].number + 1);
        assert_eq!(w[1].timestamp, w[0].timestamp + 12);
    }
}

#[test]
fn a_different_order_gives_a_different_hash() {
    let a = run(&[0, 1, 2, 3, 4]);
    let b = run(&[0, 1, 3, 2, 4]);
    assert_eq!(a[1], b[1]);
    assert_ne!(a[2].state_hash, b[2].state_hash);
}

#[test]
fn a_clone_hashes_the_same_and_diverges_on_one_wei() {
    let mut e = genesis();
    for tx in txs() {
        assert!(e.submit(&tx).is_ok());
    }
    let mut f = e.clone();
    assert_eq!(e.state_hash(), f.state_hash());
    let t = f.token_ix("WETH").unwrap_or(0);
    assert!(f.faucet_mint(t, key_address(&dev_key("carol")), U256::from(1u8)).is_ok());
    assert_ne!(e.state_hash(), f.state_hash());
}
