//! SPEC §5: every class of bad input is refused with its stable code and leaves the state hash
//! exactly as it was — including failures discovered after the action had started writing.

use granary_engine::farm::Funding;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::state::Minter;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, Engine, SignedTransaction, Transaction, U256};

const DAY: u64 = 86_400;

fn e18(x: u64) -> U256 {
    U256::from(x) * U256::from(10u64).pow(U256::from(18u8))
}

fn addr(name: &str) -> Address {
    key_address(&dev_key(name))
}

struct World {
    e: Engine,
}

impl World {
    fn sign(&self, who: &str, chain_id: u64, action: Action) -> SignedTransaction {
        let sender = addr(who);
        let chain = self.e.chain_ix_by_eip155(chain_id).unwrap_or(0);
        let nonce = self.e.nonce(chain, sender);
        Transaction { chain_id, sender, nonce, deadline: u64::MAX, action }.sign(&dev_key(who))
    }

    fn ok(&mut self, who: &str, action: Action) {
        let chain_id = self.chain_of(&action);
        let stx = self.sign(who, chain_id, action);
        if let Err(err) = self.e.submit(&stx) {
            panic!("setup action {:?} failed: {err}", stx.tx.action);
        }
    }

    fn chain_of(&self, action: &Action) -> u64 {
        let ix = self.e.action_chain(action).unwrap_or(0);
        self.e.chain(ix).chain_id
    }

    /// Submit and assert: refused with `code`, state hash unchanged.
    fn refused(&mut self, stx: &SignedTransaction, code: &str) {
        let before = self.e.state_hash();
        let encoded_before = self.e.encode_state();
        match self.e.submit(stx) {
            Ok(out) => panic!("{:?} was accepted ({out:?}); expected {code}", stx.tx.action),
            Err(err) => {
                assert_eq!(err.code(), code, "{:?}: {err}", stx.tx.action);
                assert!(!err.to_string().is_empty());
            }
        }
        assert_eq!(self.e.state_hash(), before, "state changed after a refused {:?}", stx.tx.action);
        assert_eq!(self.e.encode_state(), encoded_before);
    }

    fn refuse(&mut self, who: &str, action: Action, code: &str) {
        let chain_id = self.chain_of(&action);
        let stx = self.sign(who, chain_id, action);
        self.refused(&stx, code);
    }
}

/// Two chains; a WETH/USDC pool with liquidity; a minted farm staking the LP with a timelocked
/// twin; a staking pool whose early exit is forbidden, with alice's locked position 0.
fn world() -> World {
    let mut e = Engine::new();
    let eth = e.create_chain("eth", 1, "ethereum", 12).unwrap_or(0);
    let bsc = e.create_chain("bsc", 56, "bnb", 3).unwrap_or(1);
    let owner = addr("owner");
    for (id, chain, dec) in
        [("WETH", eth, 18u8), ("USDC", eth, 6), ("RWD", eth, 18), ("RWD2", eth, 18), ("CAKE", bsc, 18)]
    {
        let t = e.create_token(id, chain, id, dec, Minter::Account(owner)).unwrap_or(0);
        for who in ["alice", "bob", "owner"] {
            assert!(e.faucet_mint(t, addr(who), e18(1_000_000)).is_ok());
        }
    }
    let mut w = World { e };
    w.ok("owner", Action::CreatePool { id: "P".into(), tokens: ["WETH".into(), "USDC".into()], fee_bps: 30 });
    w.ok("alice", Action::AddLiquidity { pool: "P".into(), amounts: [e18(100), e18(200_000)], min: [U256::ZERO; 2] });
    for (id, token, lock) in [("F", "RWD", 0u64), ("G", "RWD2", 2 * DAY)] {
        w.ok(
            "owner",
            Action::CreateFarm {
                id: id.into(),
                reward_token: token.into(),
                reward_per_second: e18(1),
                start: 0,
                end: None,
                funding: Funding::Minted,
                timelock_delay_s: lock,
            },
        );
    }
    w.ok(
        "owner",
        Action::AddFarmPool {
            id: "F0".into(),
            farm: "F".into(),
            stake_token: "P".into(),
            alloc_point: 100,
            deposit_fee_bps: 0,
        },
    );
    w.ok("alice", Action::Deposit { farm_pool: "F0".into(), amount: e18(10) });
    w.ok(
        "owner",
        Action::CreateStakingPool {
            id: "S".into(),
            stake_token: "CAKE".into(),
            reward_token: "CAKE".into(),
            terms: vec![Term { days: 0, boost_bps: 10_000 }, Term { days: 90, boost_bps: 15_000 }],
            early_exit: EarlyExit::Forbidden,
        },
    );
    w.ok("owner", Action::NotifyReward { staking_pool: "S".into(), amount: e18(1000), duration_s: 30 * DAY });
    w.ok("alice", Action::Stake { staking_pool: "S".into(), amount: e18(50), term_days: 90 });
    let _ = PenaltyTo::Treasury;
    for c in [eth, bsc] {
        assert!(w.e.advance(c, 3600).is_ok());
    }
    w
}

fn swap(amount_in: U256, min_out: U256) -> Action {
    Action::SwapExactIn { path: vec!["P".into()], token_in: "WETH".into(), amount_in, min_out }
}

#[test]
fn bad_signatures_are_refused() {
    let mut w = world();
    // Signed by bob's key but claiming to be alice (with alice's next nonce).
    let mut tx = w.sign("alice", 1, swap(e18(1), U256::ZERO)).tx;
    tx.sender = addr("alice");
    let stx = tx.sign(&dev_key("bob"));
    w.refused(&stx, "bad_signature");
    // A valid signature over different content.
    let mut stx = w.sign("alice", 1, swap(e18(1), U256::ZERO));
    stx.tx.action = swap(e18(2), U256::ZERO);
    w.refused(&stx, "bad_signature");
    // Malformed v and high-s.
    let mut stx = w.sign("alice", 1, swap(e18(1), U256::ZERO));
    stx.signature[64] = 30;
    w.refused(&stx, "bad_signature");
    let mut stx = w.sign("alice", 1, swap(e18(1), U256::ZERO));
    stx.signature[32..64].copy_from_slice(&[0xff; 32]);
    w.refused(&stx, "bad_signature");
}

#[test]
fn wrong_chain_expired_and_replayed_are_refused() {
    let mut w = world();
    // No chain 999.
    let stx = w.sign("alice", 999, swap(e18(1), U256::ZERO));
    w.refused(&stx, "wrong_chain");
    // Signed for BNB Chain, acting on an Ethereum pool: a cross-chain replay.
    let stx = w.sign("alice", 56, swap(e18(1), U256::ZERO));
    w.refused(&stx, "wrong_chain");
    // Expired deadline.
    let now = w.e.now(0);
    let stx = Transaction {
        chain_id: 1,
        sender: addr("alice"),
        nonce: w.e.nonce(0, addr("alice")),
        deadline: now - 1,
        action: swap(e18(1), U256::ZERO),
    }
    .sign(&dev_key("alice"));
    w.refused(&stx, "expired");
    // Replay of an accepted transaction, and a nonce from the future.
    let stx = w.sign("alice", 1, swap(e18(1), U256::ZERO));
    assert!(w.e.submit(&stx).is_ok());
    w.refused(&stx, "bad_nonce");
    let mut future = w.sign("alice", 1, swap(e18(1), U256::ZERO));
    future.tx.nonce += 5;
    let future = future.tx.sign(&dev_key("alice"));
    w.refused(&future, "bad_nonce");
}

#[test]
fn zero_and_overflowing_amounts_are_refused() {
    let mut w = world();
    w.refuse("alice", swap(U256::ZERO, U256::ZERO), "zero_amount");
    w.refuse("alice", Action::Deposit { farm_pool: "F0".into(), amount: U256::ZERO }, "zero_amount");
    w.refuse("alice", Action::Withdraw { farm_pool: "F0".into(), amount: U256::ZERO }, "zero_amount");
    w.refuse("bob", Action::Stake { staking_pool: "S".into(), amount: U256::ZERO, term_days: 0 }, "zero_amount");
    w.refuse(
        "bob",
        Action::AddLiquidity { pool: "P".into(), amounts: [U256::ZERO, e18(1)], min: [U256::ZERO; 2] },
        "zero_amount",
    );
    w.refuse(
        "alice",
        Action::RemoveLiquidity { pool: "P".into(), liquidity: U256::ZERO, min: [U256::ZERO; 2] },
        "zero_amount",
    );
    w.refuse("alice", Action::Transfer { token: "WETH".into(), to: addr("bob"), amount: U256::ZERO }, "zero_amount");
    // amount·(10000 − fee) overflows 256 bits.
    w.refuse("alice", swap(U256::MAX, U256::ZERO), "overflow");
    // A reward rate so large that the accumulator would overflow later is refused up front, so an
    // owner cannot brick withdrawals by overflow.
    w.refuse("owner", Action::SetRewardPerSecond { farm: "F".into(), reward_per_second: U256::MAX }, "invalid");
    w.refuse("owner", Action::SetAllocPoint { farm_pool: "F0".into(), alloc_point: u64::MAX }, "invalid");
}

#[test]
fn unknown_ids_are_refused() {
    let mut w = world();
    let unknown = |action: Action| action;
    let cases = [
        (
            unknown(Action::SwapExactIn {
                path: vec!["NOPE".into()],
                token_in: "WETH".into(),
                amount_in: e18(1),
                min_out: U256::ZERO,
            }),
            "unknown_pool",
        ),
        (unknown(Action::Deposit { farm_pool: "NOPE".into(), amount: e18(1) }), "unknown_farm_pool"),
        (unknown(Action::Stake { staking_pool: "NOPE".into(), amount: e18(1), term_days: 0 }), "unknown_staking_pool"),
        (unknown(Action::Claim { position: 77 }), "unknown_position"),
        (unknown(Action::Transfer { token: "NOPE".into(), to: addr("bob"), amount: e18(1) }), "unknown_token"),
    ];
    for (action, code) in cases {
        // The chain cannot be resolved from an unknown id: sign for Ethereum.
        let stx = w.sign("alice", 1, action);
        w.refused(&stx, code);
    }
    w.refuse("bob", Action::Stake { staking_pool: "S".into(), amount: e18(1), term_days: 11 }, "unknown_term");
}

#[test]
fn insufficient_balance_and_slippage_are_refused() {
    let mut w = world();
    w.refuse("alice", swap(e18(2_000_000), U256::ZERO), "insufficient_balance");
    let out = granary_engine::amm::get_amount_out(e18(1), e18(100), e18(200_000), 30).unwrap_or_default();
    w.refuse("alice", swap(e18(1), out + U256::from(1u8)), "slippage");
    w.refuse(
        "bob",
        Action::AddLiquidity { pool: "P".into(), amounts: [e18(1), e18(5000)], min: [e18(1), e18(2001)] },
        "slippage",
    );
    w.refuse(
        "alice",
        Action::RemoveLiquidity { pool: "P".into(), liquidity: e18(1), min: [e18(1000), U256::ZERO] },
        "slippage",
    );
    w.refuse("alice", Action::Withdraw { farm_pool: "F0".into(), amount: e18(11) }, "insufficient_staked");
    w.refuse(
        "alice",
        Action::SwapExactOut {
            path: vec!["P".into()],
            token_in: "WETH".into(),
            amount_out: e18(100_000),
            max_in: e18(1),
        },
        "slippage",
    );
}

#[test]
fn a_failure_after_partial_writes_is_rolled_back() {
    let mut w = world();
    // The deposit first updates the farm pool (minting an hour of rewards and paying alice's
    // pending), then fails to take a deposit larger than her LP balance.
    let lp = w.e.token_ix("P").unwrap_or(0);
    let have = w.e.balance(lp, addr("alice"));
    w.refuse(
        "alice",
        Action::Deposit { farm_pool: "F0".into(), amount: have + U256::from(1u8) },
        "insufficient_balance",
    );
    // The stake first settles the accumulator, then fails to take the tokens.
    w.refuse(
        "bob",
        Action::Stake { staking_pool: "S".into(), amount: e18(2_000_000), term_days: 0 },
        "insufficient_balance",
    );
    // The notify takes the tokens, settles, then the rate check fails.
    w.refuse(
        "owner",
        Action::NotifyReward { staking_pool: "S".into(), amount: e18(2_000_000), duration_s: DAY },
        "insufficient_balance",
    );
}

#[test]
fn locked_positions_and_other_owners_are_refused() {
    let mut w = world();
    // Alice's 90-day position in a pool that forbids early exit.
    w.refuse("alice", Action::Unstake { position: 0 }, "locked");
    // Bob acting on Alice's position, farm and pool powers.
    w.refuse("bob", Action::Unstake { position: 0 }, "not_owner");
    w.refuse("bob", Action::Claim { position: 0 }, "not_owner");
    w.refuse("bob", Action::SetAllocPoint { farm_pool: "F0".into(), alloc_point: 1 }, "not_owner");
    w.refuse("bob", Action::SetMigrator { farm: "F".into(), migrator: Some(addr("bob")) }, "not_owner");
    w.refuse("bob", Action::OwnerMint { farm: "F".into(), to: addr("bob"), amount: e18(1) }, "not_owner");
    w.refuse("bob", Action::NotifyReward { staking_pool: "S".into(), amount: e18(1), duration_s: DAY }, "not_owner");
    w.refuse("bob", Action::SetFeeTo { pool: "P".into(), fee_to: Some(addr("bob")) }, "not_owner");
    w.refuse("bob", Action::Mint { token: "WETH".into(), to: addr("bob"), amount: e18(1) }, "not_minter");
    w.refuse("bob", Action::Migrate { farm_pool: "F0".into() }, "no_migrator");
    // Timelocked powers cannot act directly, nor from the queue before the delay.
    w.refuse("owner", Action::SetRewardPerSecond { farm: "G".into(), reward_per_second: e18(100) }, "timelocked");
    w.ok(
        "owner",
        Action::QueueAdmin {
            farm: "G".into(),
            action: Box::new(Action::SetRewardPerSecond { farm: "G".into(), reward_per_second: e18(100) }),
        },
    );
    w.refuse("owner", Action::ExecuteQueued { farm: "G".into(), queue_id: 0 }, "timelocked");
    w.refuse("bob", Action::ExecuteQueued { farm: "G".into(), queue_id: 0 }, "not_owner");
    assert!(w.e.advance(0, 2 * DAY).is_ok());
    w.ok("owner", Action::ExecuteQueued { farm: "G".into(), queue_id: 0 });
    let g = w.e.farm_ix("G").unwrap_or(0);
    assert_eq!(w.e.farm(g).reward_per_second, e18(100));
}

/// Inputs the transaction fuzzer once found: non-canonical spellings that used to decode.
#[test]
fn fuzz_regressions_are_refused_as_malformed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/tx_decode");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        let bytes = std::fs::read(&path).unwrap_or_default();
        let decoded = granary_engine::SignedTransaction::from_bytes(&bytes);
        assert_eq!(decoded.as_ref().map_err(|e| e.code()).err(), Some("malformed"), "{}: {decoded:?}", path.display());
        n += 1;
    }
    assert!(n >= 5, "the regression inputs are present");
}
