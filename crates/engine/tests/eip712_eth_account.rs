//! Independent check of the EIP-712 transaction signing path against Python's `eth_account`.
//!
//! The test builds a fixed set of transactions, writes them as full EIP-712 typed-data messages
//! (with the signer's private key and the engine's own signature) to a temporary file, and runs
//! `tests/eth_account_sign.py`, which computes the digest, signs and recovers with eth_account.
//! The typed-data `types` below are written out from the published type strings, not taken from
//! the engine, so a drift in either encoding shows up here.
//!
//! The interpreter is `$GRANARY_PYTHON` if set, else `<workspace>/.oracles/venv/bin/python`; that
//! virtual environment is created (and eth-account installed into it) on first use. The test
//! fails, never skips, when no working interpreter can be had.

use granary_engine::action::Action;
use granary_engine::farm::Funding;
use granary_engine::secp256k1_key::SecretKey;
use granary_engine::staking::{EarlyExit, PenaltyTo, Term};
use granary_engine::tx::{self, SignedTransaction, Transaction, dev_key, key_address, recover};
use granary_engine::{Address, B256, EngineError, U256};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// secp256k1 group order n.
const ORDER: U256 = U256::from_limbs([0xbfd25e8cd0364141, 0xbaaedce6af48a03b, 0xfffffffffffffffe, 0xffffffffffffffff]);

// ---------------------------------------------------------------------------------------------
// The transaction set
// ---------------------------------------------------------------------------------------------

const CHAIN_IDS: [u64; 6] = [1, 56, 137, 42161, 8453, 43114];

fn pow2(bits: usize) -> U256 {
    U256::from(1u8) << bits
}

fn key_from_u256(v: U256) -> SecretKey {
    SecretKey::from_byte_array(v.to_be_bytes::<32>()).expect("a valid secret key")
}

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

/// Every action kind, with long swap paths, empty id and amount lists, optional addresses left
/// out (signed as empty strings), unusual UTF-8 and JSON-escaped ids, amounts at 0 and near
/// 2^256 − 1, and admin actions nested in `queue_admin`.
fn actions() -> Vec<Action> {
    let max = U256::MAX;
    let s = |x: &str| x.to_string();
    let admin_inner = vec![
        Action::SetAllocPoint { farm_pool: s("fp-weth-usdc"), alloc_point: u64::MAX },
        Action::SetRewardPerSecond { farm: s("farm-main"), reward_per_second: max },
        Action::SetMigrator { farm: s("farm-main"), migrator: None },
        Action::SetMigrator { farm: s("farm-main"), migrator: Some(addr(0xab)) },
        Action::SetPaused { farm: s("farm-main"), paused: true },
        Action::OwnerMint { farm: s("farm-main"), to: addr(0x01), amount: max - U256::from(1u8) },
        // Signable even if the engine would refuse it as a queued action: the digest must still
        // agree (an inner action with no ids).
        Action::Unstake { position: u64::MAX },
    ];
    let mut v = vec![
        Action::Transfer { token: s("USDC"), to: addr(0x11), amount: max },
        Action::Transfer { token: s("weth"), to: Address::ZERO, amount: U256::ZERO },
        Action::CreateToken {
            id: s("gran"),
            chain_id: 43114,
            symbol: s("GRAN"),
            decimals: 18,
            initial_supply: pow2(255),
        },
        Action::Mint { token: s("gran"), to: addr(0xfe), amount: pow2(128) + U256::from(1u8) },
        Action::CreatePool { id: s("weth-usdc"), tokens: [s("weth"), s("USDC")], fee_bps: 30 },
        Action::SetFeeTo { pool: s("weth-usdc"), fee_to: Some(addr(0x22)) },
        Action::SetFeeTo { pool: s("weth-usdc"), fee_to: None },
        Action::AddLiquidity {
            pool: s("weth-usdc"),
            amounts: [max, max - U256::from(12345u64)],
            min: [U256::ZERO, pow2(200)],
        },
        Action::RemoveLiquidity {
            pool: s("weth-usdc"),
            liquidity: pow2(112) - U256::from(1u8),
            min: [U256::from(1u8), max],
        },
        Action::SwapExactIn {
            path: vec![s("weth-usdc")],
            token_in: s("weth"),
            amount_in: U256::from(10u64).pow(U256::from(18u8)),
            min_out: U256::ZERO,
        },
        Action::SwapExactIn {
            path: vec![s("a-b"), s("b-c"), s("c-d"), s("d-e"), s("e-f")],
            token_in: s("a"),
            amount_in: max,
            min_out: max,
        },
        Action::SwapExactOut {
            path: vec![s("usdc-dai"), s("dai-weth"), s("weth-gran")],
            token_in: s("USDC"),
            amount_out: U256::from(7u8),
            max_in: max,
        },
        Action::CreateFarm {
            id: s("farm-main"),
            reward_token: s("gran"),
            reward_per_second: U256::from(10u64).pow(U256::from(18u8)),
            start: 0,
            end: None,
            funding: Funding::Minted,
            timelock_delay_s: 0,
        },
        Action::CreateFarm {
            id: s("farm-budget"),
            reward_token: s("gran"),
            reward_per_second: max,
            start: u64::MAX - 1,
            end: Some(u64::MAX),
            funding: Funding::Budget,
            timelock_delay_s: 86_400 * 2,
        },
        Action::AddFarmPool {
            id: s("fp-weth-usdc"),
            farm: s("farm-main"),
            stake_token: s("lp:weth-usdc"),
            alloc_point: 1000,
            deposit_fee_bps: 400,
        },
        Action::SetAllocPoint { farm_pool: s("fp-weth-usdc"), alloc_point: 0 },
        Action::SetRewardPerSecond { farm: s("farm-main"), reward_per_second: U256::ZERO },
        Action::SetMigrator { farm: s("farm-main"), migrator: Some(addr(0x33)) },
        Action::SetMigrator { farm: s("farm-main"), migrator: None },
        Action::SetPaused { farm: s("farm-main"), paused: false },
        Action::OwnerMint { farm: s("farm-main"), to: addr(0x44), amount: max },
        Action::Migrate { farm_pool: s("fp-weth-usdc") },
        Action::FundFarm { farm: s("farm-budget"), amount: pow2(96) },
        Action::ExecuteQueued { farm: s("farm-main"), queue_id: u64::MAX },
        Action::Deposit { farm_pool: s("fp-weth-usdc"), amount: max },
        Action::Withdraw { farm_pool: s("fp-weth-usdc"), amount: U256::from(1u8) },
        Action::Harvest { farm_pool: s("fp-weth-usdc") },
        Action::EmergencyWithdraw { farm_pool: s("fp-weth-usdc") },
        Action::CreateStakingPool {
            id: s("stake-gran"),
            stake_token: s("gran"),
            reward_token: s("gran"),
            terms: vec![],
            early_exit: EarlyExit::Forbidden,
        },
        Action::CreateStakingPool {
            id: s("stake-gran-locked"),
            stake_token: s("gran"),
            reward_token: s("USDC"),
            terms: vec![
                Term { days: 0, boost_bps: 10_000 },
                Term { days: 30, boost_bps: 12_500 },
                Term { days: 365, boost_bps: 25_000 },
            ],
            early_exit: EarlyExit::Penalty { penalty_bps: 1_000, forfeit_rewards: true, to: PenaltyTo::Treasury },
        },
        Action::CreateStakingPool {
            id: s("stake-shared"),
            stake_token: s("gran"),
            reward_token: s("gran"),
            terms: vec![Term { days: u32::MAX, boost_bps: u32::MAX }],
            early_exit: EarlyExit::Penalty { penalty_bps: 5_000, forfeit_rewards: false, to: PenaltyTo::Stakers },
        },
        Action::NotifyReward { staking_pool: s("stake-gran"), amount: max, duration_s: u64::MAX },
        Action::Stake { staking_pool: s("stake-gran-locked"), amount: pow2(200), term_days: 365 },
        Action::Unstake { position: 0 },
        Action::Unstake { position: u64::MAX },
        Action::Claim { position: 7 },
        // Non-ASCII UTF-8 (2-, 3- and 4-byte sequences) and characters JSON must escape.
        Action::Harvest { farm_pool: s("pool-é✓-🌾") },
        Action::Transfer { token: s("quote\"back\\slash\ttab\u{1}ctl"), to: addr(0x55), amount: U256::from(1u8) },
        // A 256-character id (the wire format's longest string).
        Action::Migrate { farm_pool: "x".repeat(256) },
    ];
    for inner in admin_inner {
        v.push(Action::QueueAdmin { farm: s("farm-main"), action: Box::new(inner) });
    }
    v
}

struct Case {
    key: SecretKey,
    signed: SignedTransaction,
}

fn keys() -> Vec<SecretKey> {
    vec![
        dev_key("alice"),
        dev_key("bob"),
        dev_key("owner"),
        dev_key("carol"),
        // The smallest and largest secret keys.
        key_from_u256(U256::from(1u8)),
        key_from_u256(ORDER - U256::from(1u8)),
    ]
}

fn cases() -> Vec<Case> {
    let keys = keys();
    let nonces = [0, 1, 42, u64::MAX, 1 << 63, 1_000_000_007];
    let deadlines = [u64::MAX, 0, 1_700_000_000, u64::MAX - 1, 1];
    actions()
        .into_iter()
        .enumerate()
        .map(|(i, action)| {
            let key = keys[i % keys.len()];
            let tx = Transaction {
                chain_id: CHAIN_IDS[i % CHAIN_IDS.len()],
                sender: key_address(&key),
                nonce: nonces[(i / 2) % nonces.len()],
                deadline: deadlines[i % deadlines.len()],
                action,
            };
            Case { key, signed: tx.sign(&key) }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// JSON out (typed data) and in (the oracle's flat result objects)
// ---------------------------------------------------------------------------------------------

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The full EIP-712 message of a transaction, as a wallet's `eth_signTypedData_v4` takes it.
/// uint256 values are JSON integers (Python reads them exactly at any size).
fn typed_data_json(tx: &Transaction) -> String {
    let p = tx.action.to_parts();
    let mut o = String::new();
    o.push_str(
        r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"}],"Transaction":[{"name":"chainId","type":"uint256"},{"name":"sender","type":"address"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"},{"name":"action","type":"Action"}],"Action":[{"name":"kind","type":"string"},{"name":"ids","type":"string[]"},{"name":"amounts","type":"uint256[]"}]},"primaryType":"Transaction","#,
    );
    let _ = write!(o, r#""domain":{{"name":"Granary","version":"1","chainId":{}}},"#, tx.chain_id);
    let _ = write!(
        o,
        r#""message":{{"chainId":{},"sender":"{}","nonce":{},"deadline":{},"action":{{"kind":"#,
        tx.chain_id,
        hex(tx.sender.as_slice()),
        tx.nonce,
        tx.deadline
    );
    json_str(&mut o, &p.kind);
    o.push_str(r#","ids":["#);
    for (i, id) in p.ids.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_str(&mut o, id);
    }
    o.push_str(r#"],"amounts":["#);
    for (i, a) in p.amounts.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "{a}");
    }
    o.push_str("]}}}");
    o
}

/// One oracle input: the message, the key, and the signature to recover.
fn case_json(key: &SecretKey, tx: &Transaction, our_signature: &[u8; 65]) -> String {
    format!(
        r#"{{"private_key":"{}","our_signature":"{}","typed_data":{}}}"#,
        hex(&key.secret_bytes()),
        hex(our_signature),
        typed_data_json(tx)
    )
}

/// A flat JSON object whose values are strings without escapes or non-negative integers: the
/// only shape the oracle prints.
fn parse_flat_object(line: &str) -> Vec<(String, String)> {
    let fail = |why: &str| -> ! { panic!("oracle line is not a flat JSON object ({why}): {line}") };
    let body = line.trim().strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap_or_else(|| fail("braces"));
    let mut fields = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let r = rest.strip_prefix('"').unwrap_or_else(|| fail("key quote"));
        let end = r.find('"').unwrap_or_else(|| fail("key end"));
        let key = r[..end].to_string();
        let r = r[end + 1..].trim_start();
        let r = r.strip_prefix(':').unwrap_or_else(|| fail("colon")).trim_start();
        let (value, r) = if let Some(r) = r.strip_prefix('"') {
            let end = r.find('"').unwrap_or_else(|| fail("value end"));
            let v = &r[..end];
            if v.contains('\\') {
                fail("escaped value");
            }
            (v.to_string(), &r[end + 1..])
        } else {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if end == 0 {
                fail("value");
            }
            (r[..end].to_string(), &r[end..])
        };
        fields.push((key, value));
        let r = r.trim_start();
        rest = match r.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if r.is_empty() => r,
            None => fail("separator"),
        };
    }
    fields
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("oracle output lacks `{key}`: {fields:?}"))
}

fn parse_hex<const N: usize>(s: &str) -> [u8; N] {
    let h = s.strip_prefix("0x").unwrap_or_else(|| panic!("{s} lacks 0x"));
    assert_eq!(h.len(), 2 * N, "{s} is not {N} bytes");
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or_else(|_| panic!("{s} is not hex"));
    }
    out
}

struct OracleResult {
    address: String,
    digest: B256,
    message_hash: B256,
    signature: [u8; 65],
    recovered: String,
    recovered_ours: String,
}

/// Run the oracle over `(key, tx, our signature)` triples.
fn run_oracle(inputs: &[(SecretKey, Transaction, [u8; 65])]) -> (String, Vec<OracleResult>) {
    let python = granary_testkit::python_with_eth_account();
    let mut doc = String::from(r#"{"cases":["#);
    for (i, (key, tx, sig)) in inputs.iter().enumerate() {
        if i > 0 {
            doc.push_str(",\n");
        }
        doc.push_str(&case_json(key, tx, sig));
    }
    doc.push_str("]}\n");

    let dir = std::env::temp_dir().join(format!("granary-eip712-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    let input = dir.join("cases.json");
    std::fs::write(&input, &doc).expect("write the oracle input");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eth_account_sign.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&input)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the eth_account oracle failed ({}):\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("oracle output is UTF-8");
    let mut lines = stdout.lines();
    let header = parse_flat_object(lines.next().expect("oracle header line"));
    let version = field(&header, "eth_account").to_string();
    assert_eq!(field(&header, "count"), inputs.len().to_string(), "the oracle read a different number of cases");
    let results: Vec<OracleResult> = lines
        .enumerate()
        .map(|(i, line)| {
            let f = parse_flat_object(line);
            assert_eq!(field(&f, "index"), i.to_string(), "oracle output order");
            OracleResult {
                address: field(&f, "address").to_string(),
                digest: B256::from(parse_hex::<32>(field(&f, "digest"))),
                message_hash: B256::from(parse_hex::<32>(field(&f, "message_hash"))),
                signature: parse_hex::<65>(field(&f, "signature")),
                recovered: field(&f, "recovered").to_string(),
                recovered_ours: field(&f, "recovered_ours").to_string(),
            }
        })
        .collect();
    assert_eq!(results.len(), inputs.len(), "one oracle line per case");
    (version, results)
}

fn lower(a: Address) -> String {
    hex(a.as_slice())
}

/// Variants of a signed transaction with one signed field changed and the original signature kept.
fn tampered(s: &SignedTransaction) -> Vec<(&'static str, SignedTransaction)> {
    let mut out = Vec::new();
    let mut t = s.clone();
    t.tx.nonce = t.tx.nonce.wrapping_add(1);
    out.push(("nonce", t));
    let mut t = s.clone();
    t.tx.deadline ^= 1;
    out.push(("deadline", t));
    let mut t = s.clone();
    t.tx.chain_id = if t.tx.chain_id == 1 { 10 } else { 1 };
    out.push(("chain_id", t));
    let mut t = s.clone();
    t.tx.sender = addr(0x99);
    out.push(("sender", t));
    let mut t = s.clone();
    t.tx.action = match t.tx.action.clone() {
        Action::Transfer { token, to, amount } => Action::Transfer { token, to, amount: amount ^ U256::from(1u8) },
        Action::SwapExactIn { mut path, token_in, amount_in, min_out } => {
            path.swap(0, 1);
            Action::SwapExactIn { path, token_in, amount_in, min_out }
        }
        Action::Unstake { position } => Action::Claim { position },
        other => panic!("no action tamper for {other:?}"),
    };
    out.push(("action", t));
    out
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn eip712_digests_and_signatures_match_eth_account() {
    let cases = cases();
    assert!(cases.len() >= 30, "at least 30 transactions");
    let kinds: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.signed.tx.action.kind()).collect();
    assert!(kinds.len() >= 28, "every action kind is covered: {kinds:?}");

    // Negative cases: a transfer, a multi-pool swap and an unstake, each with every tamper.
    let mut negatives = Vec::new();
    for c in &cases {
        let multi_swap = matches!(&c.signed.tx.action, Action::SwapExactIn { path, .. } if path.len() > 1);
        let take = multi_swap
            || matches!(c.signed.tx.action, Action::Unstake { .. })
            || matches!(&c.signed.tx.action, Action::Transfer { token, .. } if token == "USDC");
        if take {
            for (what, t) in tampered(&c.signed) {
                negatives.push((what, c.key, c.signed.clone(), t));
            }
        }
    }
    assert!(negatives.len() >= 15, "tampered cases: {}", negatives.len());

    let mut inputs: Vec<(SecretKey, Transaction, [u8; 65])> =
        cases.iter().map(|c| (c.key, c.signed.tx.clone(), c.signed.signature)).collect();
    // For tampered cases the oracle recovers the *original* signature over the tampered message.
    inputs.extend(negatives.iter().map(|(_, key, orig, t)| (*key, t.tx.clone(), orig.signature)));
    let (version, results) = run_oracle(&inputs);
    let (good, bad) = results.split_at(cases.len());

    let mut matched = 0;
    for (i, (c, r)) in cases.iter().zip(good).enumerate() {
        let tx = &c.signed.tx;
        let sender = lower(tx.sender);
        let ctx = format!("case {i} ({} on chain {})", tx.action.kind(), tx.chain_id);
        let digest = tx.signing_hash();
        assert_eq!(r.address, sender, "{ctx}: key → address");
        assert_eq!(digest, r.digest, "{ctx}: EIP-712 digest");
        assert_eq!(digest, r.message_hash, "{ctx}: eth_account's message_hash");

        // eth_account's signature verifies with the engine.
        assert_eq!(
            recover(digest, &r.signature).map(lower),
            Ok(sender.clone()),
            "{ctx}: recover(eth_account signature)"
        );
        let theirs = SignedTransaction { tx: tx.clone(), signature: r.signature };
        assert!(theirs.clone().verify().is_ok(), "{ctx}: verify(eth_account signature)");
        // Every signable transaction round-trips through the wire bytes unchanged.
        let decoded = SignedTransaction::from_bytes(&theirs.to_bytes());
        assert_eq!(decoded, Ok(theirs), "{ctx}: wire round trip");

        // Both sides sign deterministically (RFC 6979, low-s), so the bytes agree.
        assert_eq!(hex(&c.signed.signature), hex(&r.signature), "{ctx}: signature bytes");
        // eth_account accepts the engine's signature.
        assert_eq!(r.recovered, sender, "{ctx}: eth_account recovers its own");
        assert_eq!(r.recovered_ours, sender, "{ctx}: eth_account recovers ours");
        matched += 1;
    }

    for ((what, _, orig, t), r) in negatives.iter().zip(bad) {
        let ctx = format!("tampered {what} of {} on chain {}", orig.tx.action.kind(), orig.tx.chain_id);
        let digest = t.tx.signing_hash();
        assert_ne!(digest, orig.tx.signing_hash(), "{ctx}: digest changes");
        assert_eq!(digest, r.digest, "{ctx}: eth_account agrees on the digest");
        let err = t.clone().verify().expect_err("a tampered transaction must not verify");
        assert_eq!(err.code(), "bad_signature", "{ctx}: {err}");
        // Neither side recovers the original signature to the claimed sender.
        assert_ne!(r.recovered_ours, lower(t.tx.sender), "{ctx}: eth_account");
    }

    // A tampered signature is refused too.
    let mut t = cases[0].signed.clone();
    // The other recovery id: a different public key.
    t.signature[64] = if t.signature[64] == 27 { 28 } else { 27 };
    assert_eq!(t.clone().verify().map(|_| ()).map_err(|e| e.code()), Err("bad_signature"));
    t.signature[64] = 29;
    assert_eq!(t.verify().map(|_| ()), Err(EngineError::MalformedSignature));

    eprintln!(
        "eth_account {version}: {matched} transactions matched (digest, signature bytes, recovery both ways); {} tampered cases rejected",
        negatives.len()
    );
}

fn sample_signature() -> (B256, Address, [u8; 65]) {
    let key = dev_key("alice");
    let tx = Transaction {
        chain_id: 1,
        sender: key_address(&key),
        nonce: 3,
        deadline: u64::MAX,
        action: Action::Harvest { farm_pool: "fp".into() },
    };
    let digest = tx.signing_hash();
    let signed = tx.sign(&key);
    (digest, signed.tx.sender, signed.signature)
}

#[test]
fn recover_refuses_high_s() {
    let half: U256 = ORDER >> 1usize;
    let (digest, sender, sig) = sample_signature();
    let s = U256::from_be_slice(&sig[32..64]);
    assert!(s <= half, "the engine signs low-s");
    assert_eq!(recover(digest, &sig), Ok(sender));

    // (r, n − s) with the other recovery id is the same ECDSA signature in its high-s form.
    let mut high = sig;
    high[32..64].copy_from_slice(&(ORDER - s).to_be_bytes::<32>());
    high[64] = if sig[64] == 27 { 28 } else { 27 };
    assert_eq!(recover(digest, &high), Err(EngineError::MalformedSignature));
    for v in [27u8, 28] {
        high[64] = v;
        assert_eq!(recover(digest, &high), Err(EngineError::MalformedSignature));
    }

    // The boundary: s = n/2 (rounded down) is still low, n/2 + 1 is high.
    let mut edge = sig;
    edge[32..64].copy_from_slice(&half.to_be_bytes::<32>());
    assert_ne!(recover(digest, &edge), Err(EngineError::MalformedSignature));
    edge[32..64].copy_from_slice(&(half + U256::from(1u8)).to_be_bytes::<32>());
    assert_eq!(recover(digest, &edge), Err(EngineError::MalformedSignature));
    edge[32..64].copy_from_slice(&U256::MAX.to_be_bytes::<32>());
    assert_eq!(recover(digest, &edge), Err(EngineError::MalformedSignature));

    let signed = SignedTransaction {
        tx: Transaction {
            chain_id: 1,
            sender,
            nonce: 3,
            deadline: u64::MAX,
            action: Action::Harvest { farm_pool: "fp".into() },
        },
        signature: high,
    };
    assert_eq!(signed.verify().map(|_| ()).map_err(|e| e.code()), Err("bad_signature"));
}

#[test]
fn recover_refuses_bad_v() {
    let (digest, sender, sig) = sample_signature();
    let rec = sig[64] - 27;
    for v in 0..=u8::MAX {
        let mut s = sig;
        s[64] = v;
        let got = recover(digest, &s);
        match v {
            27 | 28 => {
                let same = v - 27 == rec;
                assert!(got.is_ok(), "v = {v}: {got:?}");
                assert_eq!(got == Ok(sender), same, "v = {v}");
            }
            _ => assert_eq!(got, Err(EngineError::MalformedSignature), "v = {v}"),
        }
    }
}

#[test]
fn recover_rejects_degenerate_signatures_without_panicking() {
    let (digest, _, sig) = sample_signature();
    let order = ORDER.to_be_bytes::<32>();
    let mut cases: Vec<[u8; 65]> = Vec::new();
    let mut zero = [0u8; 65];
    zero[64] = 27;
    cases.push(zero); // r = s = 0
    let mut r0 = sig;
    r0[..32].fill(0);
    cases.push(r0); // r = 0
    let mut s0 = sig;
    s0[32..64].fill(0);
    cases.push(s0); // s = 0
    let mut rn = sig;
    rn[..32].copy_from_slice(&order);
    cases.push(rn); // r = n
    let mut rmax = sig;
    rmax[..32].fill(0xff);
    cases.push(rmax); // r > n
    for c in cases {
        assert_eq!(recover(digest, &c), Err(EngineError::MalformedSignature), "{}", hex(&c));
    }
    // The domain separator differs per chain.
    assert_ne!(tx::domain_separator(1), tx::domain_separator(56));
}
