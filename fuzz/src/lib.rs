//! The fuzz targets' bodies and their shared pieces. Each target in `fuzz_targets/` is one call
//! to a `check_<target>` function here, which panics when a property fails, so that
//! `tests/replay.rs` can run the committed seeds and regressions through the same checks on a
//! stable toolchain, without libFuzzer.
//!
//! Shared pieces: a small pre-built engine, the actors that own it, and well-formed signed
//! transactions against it (the seeds of `tx_decode`); the journal fixture and in-memory store
//! backend of `journal_decode` ([`journal_decode`]).

pub mod journal_decode;
pub mod price_read;
pub mod scenario_parse;
pub mod tx_decode;

pub use journal_decode::check_journal_decode;
pub use price_read::check_price_read;
pub use scenario_parse::check_scenario_parse;
pub use tx_decode::check_tx_decode;

use granary_engine::action::Action;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::tx::{SignedTransaction, Transaction, dev_key, key_address};
use granary_engine::{Address, Engine, U256};
use granary_scenario::Runner;
use std::sync::OnceLock;

/// Most steps `scenario_parse` runs from one input, so that no input runs for long.
pub const MAX_SCENARIO_STEPS: usize = 256;
/// Largest scenario text `scenario_parse` looks at.
pub const MAX_SCENARIO_BYTES: usize = 64 * 1024;

/// Actors of the fixture; every one holds tokens, and `owner` owns every object.
pub const ACTORS: [&str; 3] = ["owner", "alice", "bob"];

/// The fixture world: two chains, three tokens, a funded pool, a minted-reward farm with a
/// deposit and a timelocked farm (its pool added through the queue), and a staking pool with a reward stream and an open position.
pub const FIXTURE_SCENARIO: &str = r#"{"name": "fuzz-fixture", "steps": [
 {"op": "chain", "id": "eth", "chain_id": 1, "block_time_s": 12},
 {"op": "chain", "id": "bsc", "chain_id": 56, "block_time_s": 3},
 {"op": "token", "id": "A", "chain": "eth", "decimals": 18},
 {"op": "token", "id": "B", "chain": "eth", "decimals": 6},
 {"op": "token", "id": "R", "chain": "eth", "decimals": 18},
 {"op": "token", "id": "C", "chain": "bsc", "decimals": 18},
 {"op": "mint", "token": "A", "to": "owner", "amount": "1000000000000000000000000"},
 {"op": "mint", "token": "B", "to": "owner", "amount": "1000000000000"},
 {"op": "mint", "token": "R", "to": "owner", "amount": "1000000000000000000000000"},
 {"op": "mint", "token": "A", "to": "alice", "amount": "1000000000000000000000"},
 {"op": "mint", "token": "B", "to": "alice", "amount": "1000000000"},
 {"op": "mint", "token": "A", "to": "bob", "amount": "5000000000000000000"},
 {"op": "mint", "token": "C", "to": "bob", "amount": "7000000000000000000"},
 {"op": "cp_pool", "id": "AB", "tokens": ["A", "B"], "fee_bps": 30},
 {"op": "add_liquidity", "from": "owner", "pool": "AB", "amounts": ["100000000000000000000000", "100000000000"]},
 {"op": "cp_pool", "id": "BA", "tokens": ["B", "A"], "fee_bps": 25},
 {"op": "add_liquidity", "from": "owner", "pool": "BA", "amounts": ["50000000000", "40000000000000000000000"]},
 {"op": "farm", "id": "F", "reward_token": "R", "reward_per_second": "1000000000000000000", "start": 0},
 {"op": "farm_pool", "id": "F0", "farm": "F", "stake_token": "A", "alloc_point": 100},
 {"op": "farm_pool", "id": "F1", "farm": "F", "stake_token": "B", "alloc_point": 50, "deposit_fee_bps": 100},
 {"op": "deposit", "from": "alice", "farm_pool": "F0", "amount": "1000000000000000000"},
 {"op": "farm", "id": "G", "reward_token": "A", "reward_per_second": "1000", "funding": "budget", "timelock_delay_s": 3600},
 {"op": "queue_admin", "farm": "G", "action": {"op": "farm_pool", "id": "G0", "farm": "G", "stake_token": "B", "alloc_point": 1}},
 {"op": "advance", "chain": "eth", "seconds": 3600},
 {"op": "execute_queued", "farm": "G", "queue_id": 0},
 {"op": "fund_farm", "from": "owner", "farm": "G", "amount": "1000000000"},
 {"op": "staking_pool", "id": "S", "stake_token": "A", "reward_token": "R", "terms": [{"days": 0, "boost_bps": 10000}, {"days": 30, "boost_bps": 15000}], "early_exit": {"penalty_bps": 1000, "to": "treasury"}},
 {"op": "notify_reward", "from": "owner", "staking_pool": "S", "amount": "1000000000000000000000", "duration_s": 86400},
 {"op": "stake", "from": "alice", "id": "pos", "staking_pool": "S", "amount": "2000000000000000000", "term_days": 30},
 {"op": "advance", "chain": "eth", "seconds": 600},
 {"op": "advance", "chain": "bsc", "seconds": 60}
]}"#;

/// The fixture engine, built once per process.
pub fn fixture() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let steps = granary_scenario::parse_steps(FIXTURE_SCENARIO).expect("the fixture scenario parses");
        let mut runner = Runner::new();
        for (i, step) in steps.iter().enumerate() {
            let line = runner.step_line(i, step);
            assert_eq!(line.get("ok").and_then(|v| v.as_bool()), Some(true), "fixture step {i} failed: {line}");
        }
        runner.world
    })
}

/// The key and address of a fixture actor.
pub fn actor(name: &str) -> (SecretKey, Address) {
    let k = dev_key(name);
    (k, key_address(&k))
}

/// Sign `action` as `actor` for the chain the action acts on, with the actor's next nonce and no
/// deadline, so that `engine` accepts the envelope and the action itself is what gets checked.
/// `None` when the action names nothing the engine knows (no chain to sign for).
pub fn sign_for(engine: &Engine, actor_name: &str, action: Action) -> Option<SignedTransaction> {
    sign_with(engine, &actor(actor_name).0, action)
}

/// [`sign_for`] with a key rather than a fixture actor's name.
pub fn sign_with(engine: &Engine, key: &SecretKey, action: Action) -> Option<SignedTransaction> {
    let sender = key_address(key);
    let chain = engine.action_chain(&action).ok()?;
    let tx = Transaction {
        chain_id: engine.chain(chain).chain_id,
        sender,
        nonce: engine.nonce(chain, sender),
        deadline: u64::MAX,
        action,
    };
    Some(tx.sign(key))
}

fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u8))
}

/// Well-formed transactions against the fixture, one per action kind and more: accepted ones and
/// ones the engine rejects (slippage, balance, timelock, lock, ownership).
pub fn seed_transactions() -> Vec<(String, SignedTransaction)> {
    let e = fixture();
    let s = |x: &str| x.to_string();
    let (_, alice) = actor("alice");
    let (_, bob) = actor("bob");
    let list: Vec<(&str, &str, Action)> = vec![
        ("transfer", "alice", Action::Transfer { token: s("A"), to: bob, amount: e18(1) }),
        ("transfer_too_much", "bob", Action::Transfer { token: s("A"), to: alice, amount: U256::MAX }),
        (
            "create_token",
            "bob",
            Action::CreateToken {
                id: s("NEW"),
                chain_id: 56,
                symbol: s("NEW"),
                decimals: 8,
                initial_supply: U256::from(1_000_000u64),
            },
        ),
        ("mint", "owner", Action::Mint { token: s("A"), to: bob, amount: e18(3) }),
        ("create_pool", "alice", Action::CreatePool { id: s("AR"), tokens: [s("A"), s("R")], fee_bps: 5 }),
        ("set_fee_to", "owner", Action::SetFeeTo { pool: s("AB"), fee_to: Some(bob) }),
        ("set_fee_to_none", "owner", Action::SetFeeTo { pool: s("AB"), fee_to: None }),
        (
            "add_liquidity",
            "alice",
            Action::AddLiquidity {
                pool: s("AB"),
                amounts: [e18(10), U256::from(10_000_000u64)],
                min: [U256::ZERO, U256::ZERO],
            },
        ),
        (
            "remove_liquidity",
            "owner",
            Action::RemoveLiquidity {
                pool: s("AB"),
                liquidity: U256::from(1_000_000_000u64),
                min: [U256::ZERO, U256::ZERO],
            },
        ),
        (
            "swap_exact_in",
            "alice",
            Action::SwapExactIn { path: vec![s("AB")], token_in: s("A"), amount_in: e18(1), min_out: U256::ZERO },
        ),
        (
            "swap_exact_in_two_hops",
            "alice",
            Action::SwapExactIn {
                path: vec![s("AB"), s("BA")],
                token_in: s("A"),
                amount_in: e18(1),
                min_out: U256::from(1u8),
            },
        ),
        (
            "swap_exact_in_slippage",
            "alice",
            Action::SwapExactIn { path: vec![s("AB")], token_in: s("A"), amount_in: e18(1), min_out: U256::MAX },
        ),
        (
            "swap_exact_out",
            "alice",
            Action::SwapExactOut { path: vec![s("BA")], token_in: s("B"), amount_out: e18(1), max_in: U256::MAX },
        ),
        (
            "create_farm",
            "owner",
            Action::CreateFarm {
                id: s("H"),
                reward_token: s("R"),
                reward_per_second: U256::from(5u8),
                start: 1000,
                end: Some(100_000),
                funding: granary_engine::farm::Funding::Budget,
                timelock_delay_s: 0,
            },
        ),
        (
            "add_farm_pool",
            "owner",
            Action::AddFarmPool { id: s("F2"), farm: s("F"), stake_token: s("R"), alloc_point: 10, deposit_fee_bps: 0 },
        ),
        ("set_alloc_point", "owner", Action::SetAllocPoint { farm_pool: s("F0"), alloc_point: 0 }),
        ("set_reward_per_second", "owner", Action::SetRewardPerSecond { farm: s("F"), reward_per_second: e18(2) }),
        ("set_migrator", "owner", Action::SetMigrator { farm: s("F"), migrator: Some(bob) }),
        ("set_paused", "owner", Action::SetPaused { farm: s("F"), paused: true }),
        ("owner_mint", "owner", Action::OwnerMint { farm: s("F"), to: alice, amount: e18(1) }),
        ("migrate_without_migrator", "bob", Action::Migrate { farm_pool: s("F0") }),
        ("fund_farm", "owner", Action::FundFarm { farm: s("G"), amount: U256::from(500u32) }),
        (
            "queue_admin",
            "owner",
            Action::QueueAdmin {
                farm: s("G"),
                action: Box::new(Action::SetRewardPerSecond { farm: s("G"), reward_per_second: U256::from(7u8) }),
            },
        ),
        ("timelocked_direct", "owner", Action::SetAllocPoint { farm_pool: s("G0"), alloc_point: 3 }),
        ("execute_queued_unknown", "owner", Action::ExecuteQueued { farm: s("G"), queue_id: 0 }),
        ("deposit", "alice", Action::Deposit { farm_pool: s("F1"), amount: U256::from(1_000_000u64) }),
        ("withdraw", "alice", Action::Withdraw { farm_pool: s("F0"), amount: e18(1) }),
        ("harvest", "alice", Action::Harvest { farm_pool: s("F0") }),
        ("emergency_withdraw", "alice", Action::EmergencyWithdraw { farm_pool: s("F0") }),
        (
            "create_staking_pool",
            "owner",
            Action::CreateStakingPool {
                id: s("T"),
                stake_token: s("R"),
                reward_token: s("R"),
                terms: vec![granary_engine::staking::Term { days: 7, boost_bps: 11_000 }],
                early_exit: granary_engine::staking::EarlyExit::Penalty {
                    penalty_bps: 500,
                    forfeit_rewards: true,
                    to: granary_engine::staking::PenaltyTo::Stakers,
                },
            },
        ),
        ("notify_reward", "owner", Action::NotifyReward { staking_pool: s("S"), amount: e18(10), duration_s: 3600 }),
        ("stake", "bob", Action::Stake { staking_pool: s("S"), amount: e18(1), term_days: 0 }),
        ("unstake_early_with_penalty", "alice", Action::Unstake { position: 0 }),
        ("claim", "alice", Action::Claim { position: 0 }),
    ];
    let mut out = Vec::new();
    for (name, who, action) in list {
        let stx = sign_for(e, who, action).unwrap_or_else(|| panic!("seed {name} names objects of the fixture"));
        out.push((name.to_string(), stx));
    }
    // Envelope rejections: a foreign signer, a stale nonce, an expired deadline, a wrong chain.
    let base = out[0].1.clone();
    let mut foreign = base.clone();
    foreign.tx.sender = bob;
    let chain = e.chain_ix_by_eip155(foreign.tx.chain_id).expect("the fixture has the chain");
    foreign.tx.nonce = e.nonce(chain, bob);
    out.push(("bad_signature".into(), foreign));
    let (alice_key, _) = actor("alice");
    let mut stale = base.tx.clone();
    stale.nonce += 1;
    out.push(("bad_nonce".into(), stale.sign(&alice_key)));
    let mut expired = base.tx.clone();
    expired.deadline = 1;
    out.push(("expired".into(), expired.sign(&alice_key)));
    let mut wrong = base.tx.clone();
    wrong.chain_id = 56;
    out.push(("wrong_chain".into(), wrong.sign(&alice_key)));
    out
}
