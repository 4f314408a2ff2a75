//! `journal_decode`: the store's journal and snapshot readers, and recovery from a journal built
//! from the input.
//!
//! The input is read two ways, both on every run.
//!
//! 1. As one stored blob: `Entry::decode` and `Snapshot::decode` of the bytes as they are, and of
//!    the bytes with a valid CRC-32 appended (arbitrary bytes almost never carry a valid
//!    checksum, so without the second form nothing behind the checksum would be reached), and
//!    `Engine::decode_state` of the bytes and of a decoded snapshot's state. Properties: no
//!    panic; a decoded entry or snapshot re-encodes to exactly the bytes it came from (the format
//!    has one encoding per value: every field is fixed-width or length-prefixed, flags are 0 or 1,
//!    strings must be UTF-8, nothing may trail, and the checksum is over the whole body); an
//!    unknown version is only reported under a valid checksum; a decoded state re-encodes to an
//!    encoding that decodes to the same encoding again (`decode_state` accepts some non-canonical
//!    orders, e.g. unsorted balances, so the identity is only on canonical encodings).
//! 2. As a program that writes a journal into an in-memory [`MemBackend`]: entries of a small
//!    fixture journal (genesis, transactions, block-closing `Advance`s with their seals) in order,
//!    out of order, skipped, with a byte flipped under a stale or a recomputed checksum, truncated,
//!    with a field changed and re-encoded (seq, seal, record), and raw input bytes with or without
//!    a checksum, at consecutive positions or with gaps; plus a choice of the fixture's snapshots
//!    and snapshots made from the input (raw, a fixture snapshot with a byte flipped, a fixture
//!    state with a byte flipped under its original hash, both under a fresh checksum, a snapshot
//!    stored under the wrong position). Then `Node::open` recovers it. Properties: no panic; it refuses to start only for
//!    a snapshot in an unknown format version; it loads the newest snapshot that decodes and
//!    hashes to its recorded hash; it keeps the longest run of entries after the snapshot that are
//!    stored at consecutive positions, decode, record their own position and apply with matching
//!    block seals, and its state hash is that of the snapshot's state (or genesis) with that run
//!    replayed by a plain engine; an entry that does not apply leaves the state untouched; it
//!    deletes every entry after the kept prefix, touches nothing else, and says why it cut; a
//!    `Reader` recovers the same without writing; `replay_with` (run first, as the server does)
//!    visits exactly the kept prefix whenever the loaded snapshot agrees with the journal before
//!    it; `verify_journal` passes only on a journal that replays whole; and the writer goes on
//!    from the cut: its next entry gets the next position and a second open is clean and gives
//!    the same state.
//!
//! Not modelled: a snapshot whose recorded state hash was forged to match a changed state. The
//! hash detects damage, it does not authenticate, and `Engine::decode_state` checks indices but
//! not the invariants between objects (a pool's reserves against its token balances, for one), so
//! such a state loads and can trip the engine's debug assertions when the journal is replayed on it.

use granary_engine::codec::keccak;
use granary_engine::snapshot::STATE_ENCODING_VERSION;
use granary_engine::tx::{dev_key, key_address};
use granary_engine::{Action, Address, B256, Engine, SystemOp, U256};
use granary_store::entry::{Damage, ENTRY_VERSION, Entry, Record, Snapshot};
use granary_store::node::verify_journal;
use granary_store::{Backend, Node, Reader, SnapshotPolicy, StoreError, replay_with};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

/// A journal and its snapshots in memory: the `Backend` the recovery half of `journal_decode`
/// writes and recovers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemBackend {
    pub journal: BTreeMap<u64, Vec<u8>>,
    pub snapshots: BTreeMap<u64, Vec<u8>>,
}

impl Backend for MemBackend {
    fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> granary_store::Result<()> {
        // Like the SQL backends' primary key: a position stored twice fails the whole batch.
        let mut seen = std::collections::BTreeSet::new();
        if let Some((seq, _)) = entries.iter().find(|(seq, _)| self.journal.contains_key(seq) || !seen.insert(*seq)) {
            return Err(StoreError::Backend(format!("memory: entry {seq} is already stored")));
        }
        self.journal.extend(entries.iter().cloned());
        Ok(())
    }

    fn scan(&mut self, from: u64, visit: &mut dyn FnMut(u64, &[u8]) -> bool) -> granary_store::Result<()> {
        for (seq, bytes) in self.journal.range(from..) {
            if !visit(*seq, bytes) {
                break;
            }
        }
        Ok(())
    }

    fn truncate_from(&mut self, from: u64) -> granary_store::Result<u64> {
        Ok(self.journal.split_off(&from).len() as u64)
    }

    fn last_seq(&mut self) -> granary_store::Result<Option<u64>> {
        Ok(self.journal.keys().next_back().copied())
    }

    fn put_snapshot(&mut self, seq: u64, bytes: &[u8]) -> granary_store::Result<()> {
        self.snapshots.insert(seq, bytes.to_vec());
        Ok(())
    }

    fn snapshot_seqs(&mut self) -> granary_store::Result<Vec<u64>> {
        Ok(self.snapshots.keys().rev().copied().collect())
    }

    fn load_snapshot(&mut self, seq: u64) -> granary_store::Result<Option<Vec<u8>>> {
        Ok(self.snapshots.get(&seq).cloned())
    }

    fn delete_snapshot(&mut self, seq: u64) -> granary_store::Result<()> {
        self.snapshots.remove(&seq);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// Snapshots never come due on their own (the fixture and the checks take them explicitly or
/// not at all), so that nothing depends on the wall clock.
pub fn no_snapshots() -> SnapshotPolicy {
    SnapshotPolicy { every_blocks: u64::MAX, every: Duration::MAX, keep: usize::MAX }
}

/// The fixture journal as the store wrote it: entry `i` (0-based) is stored at position `i + 1`;
/// a snapshot was taken after each block-closing `Advance`.
#[derive(Debug, Clone)]
pub struct FixtureJournal {
    pub entries: Vec<Vec<u8>>,
    pub snapshots: Vec<(u64, Vec<u8>)>,
    pub state_hash: B256,
}

fn fixture_actor(i: usize) -> (granary_engine::secp256k1_key::SecretKey, Address) {
    let key = dev_key(&format!("journal{i}"));
    (key, key_address(&key))
}

fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u8))
}

/// One item of the fixture: an operator action or a transaction `(actor, action)`.
enum Item {
    Op(SystemOp),
    Tx(usize, Action),
}

fn advance(chain: &str, seconds: u64) -> Item {
    Item::Op(SystemOp::Advance { chain: chain.into(), seconds })
}

fn fixture_items() -> Vec<Item> {
    let s = |x: &str| x.to_string();
    let (_, a0) = fixture_actor(0);
    let (_, a1) = fixture_actor(1);
    let (_, a2) = fixture_actor(2);
    let mut items = vec![
        Item::Op(SystemOp::CreateChain { id: s("eth"), chain_id: 1, name: s("ethereum"), block_time_s: 12 }),
        Item::Op(SystemOp::CreateChain { id: s("bsc"), chain_id: 56, name: s("bnb chain"), block_time_s: 3 }),
        Item::Op(SystemOp::SetGasModel { chain: s("bsc"), native_symbol: s("BNB"), gas_price_wei: U256::from(5u8) }),
        Item::Op(SystemOp::CreateToken {
            id: s("WETH"),
            chain: s("eth"),
            symbol: s("WETH"),
            decimals: 18,
            minter: None,
        }),
        Item::Op(SystemOp::CreateToken {
            id: s("USDC"),
            chain: s("eth"),
            symbol: s("USDC"),
            decimals: 6,
            minter: Some(a0),
        }),
        Item::Op(SystemOp::CreateToken {
            id: s("CAKE"),
            chain: s("bsc"),
            symbol: s("CAKE"),
            decimals: 18,
            minter: None,
        }),
    ];
    for to in [a0, a1, a2] {
        items.push(Item::Op(SystemOp::FaucetMint { token: s("WETH"), to, amount: e18(1_000) }));
        items.push(Item::Op(SystemOp::FaucetMint { token: s("USDC"), to, amount: U256::from(10_000_000_000u64) }));
    }
    items.push(Item::Op(SystemOp::FaucetMint { token: s("CAKE"), to: a2, amount: e18(50) }));
    items.push(advance("eth", 12));
    items.extend([
        Item::Tx(0, Action::CreatePool { id: s("P"), tokens: [s("WETH"), s("USDC")], fee_bps: 30 }),
        Item::Tx(
            0,
            Action::AddLiquidity {
                pool: s("P"),
                amounts: [e18(100), U256::from(300_000_000_000u64 / 1000)],
                min: [U256::ZERO; 2],
            },
        ),
        Item::Tx(
            1,
            Action::SwapExactIn { path: vec![s("P")], token_in: s("WETH"), amount_in: e18(1), min_out: U256::ZERO },
        ),
        Item::Tx(2, Action::Transfer { token: s("USDC"), to: a1, amount: U256::from(1_000_000u64) }),
        Item::Tx(0, Action::Mint { token: s("USDC"), to: a2, amount: U256::from(5_000_000u64) }),
    ]);
    items.push(advance("eth", 60));
    items.extend([
        Item::Tx(
            0,
            Action::CreateFarm {
                id: s("F"),
                reward_token: s("WETH"),
                reward_per_second: U256::from(1_000u32),
                start: 0,
                end: None,
                funding: granary_engine::farm::Funding::Budget,
                timelock_delay_s: 60,
            },
        ),
        Item::Tx(0, Action::FundFarm { farm: s("F"), amount: e18(10) }),
        Item::Tx(
            0,
            Action::QueueAdmin {
                farm: s("F"),
                action: Box::new(Action::AddFarmPool {
                    id: s("F0"),
                    farm: s("F"),
                    stake_token: s("USDC"),
                    alloc_point: 10,
                    deposit_fee_bps: 0,
                }),
            },
        ),
        Item::Tx(
            1,
            Action::SwapExactIn {
                path: vec![s("P")],
                token_in: s("USDC"),
                amount_in: U256::from(2_000_000u64),
                min_out: U256::ZERO,
            },
        ),
    ]);
    items.push(advance("eth", 120));
    items.extend([
        Item::Tx(0, Action::ExecuteQueued { farm: s("F"), queue_id: 0 }),
        Item::Tx(1, Action::Deposit { farm_pool: s("F0"), amount: U256::from(3_000_000u64) }),
        Item::Tx(2, Action::Transfer { token: s("CAKE"), to: a0, amount: e18(2) }),
        Item::Tx(
            0,
            Action::CreateStakingPool {
                id: s("S"),
                stake_token: s("WETH"),
                reward_token: s("WETH"),
                terms: vec![granary_engine::staking::Term { days: 0, boost_bps: 10_000 }],
                early_exit: granary_engine::staking::EarlyExit::Forbidden,
            },
        ),
        Item::Tx(0, Action::NotifyReward { staking_pool: s("S"), amount: e18(5), duration_s: 3600 }),
        Item::Tx(2, Action::Stake { staking_pool: s("S"), amount: e18(1), term_days: 0 }),
    ]);
    items.push(advance("bsc", 3));
    items.extend([
        Item::Tx(1, Action::Harvest { farm_pool: s("F0") }),
        Item::Tx(2, Action::Claim { position: 0 }),
        Item::Tx(
            1,
            Action::SwapExactIn { path: vec![s("P")], token_in: s("WETH"), amount_in: e18(2), min_out: U256::ZERO },
        ),
    ]);
    items.push(advance("eth", 12));
    items
}

/// The fixture journal, built once per process through a real `Node` on a `MemBackend`.
pub fn fixture_journal() -> &'static FixtureJournal {
    static JOURNAL: OnceLock<FixtureJournal> = OnceLock::new();
    JOURNAL.get_or_init(|| {
        let (mut node, _) = Node::open(MemBackend::default(), no_snapshots()).expect("an empty store opens");
        for (i, item) in fixture_items().into_iter().enumerate() {
            match item {
                Item::Op(op) => {
                    let closes = matches!(op, SystemOp::Advance { .. });
                    let r = node.system(op).expect("the memory backend stores");
                    assert!(r.is_ok(), "fixture item {i} applies: {r:?}");
                    if closes {
                        node.snapshot().expect("the memory backend stores");
                    }
                }
                Item::Tx(who, action) => {
                    let stx = crate::sign_with(node.engine(), &fixture_actor(who).0, action)
                        .expect("the fixture action names a known chain");
                    let r = node.submit(stx).expect("the memory backend stores");
                    assert!(r.is_ok(), "fixture item {i} applies: {r:?}");
                }
            }
        }
        let state_hash = node.engine().state_hash();
        let b = node.backend();
        assert_eq!(b.journal.keys().copied().collect::<Vec<_>>(), (1..=b.journal.len() as u64).collect::<Vec<_>>());
        FixtureJournal {
            entries: b.journal.values().cloned().collect(),
            snapshots: b.snapshots.iter().map(|(s, bytes)| (*s, bytes.clone())).collect(),
            state_hash,
        }
    })
}

/// `body` followed by its CRC-32, as the store seals entries and snapshots.
pub fn with_crc(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&crc32fast::hash(body).to_be_bytes());
    out
}

/// Whether `bytes` end with a valid CRC-32 of what comes before (and hold at least one byte).
fn crc_ok(bytes: &[u8]) -> bool {
    bytes.len() >= 5 && {
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        crc32fast::hash(body).to_be_bytes() == crc
    }
}

/// Reads the program half of the input a byte at a time; past the end every read is `None`.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    /// A length byte, then up to that many bytes.
    fn chunk(&mut self) -> Option<Vec<u8>> {
        let n = usize::from(self.u8()?).min(self.0.len());
        let (chunk, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(chunk.to_vec())
    }
}

/// Flip the bits `mask` (never 0) of the byte at `pos` (modulo the length) of `bytes`.
fn flip(bytes: &mut [u8], pos: u16, mask: u8) {
    if !bytes.is_empty() {
        let i = usize::from(pos) % bytes.len();
        bytes[i] ^= mask.max(1);
    }
}

/// Most entries one program writes, so that no input runs for long.
const MAX_PROGRAM_ENTRIES: usize = 96;

/// Build the stored journal and snapshots the program in `data` describes.
fn build_store(data: &[u8]) -> MemBackend {
    let fx = fixture_journal();
    let mut input = Input(data);
    let mut b = MemBackend::default();
    let Some(mask) = input.u8() else {
        return b;
    };
    for (i, (seq, bytes)) in fx.snapshots.iter().enumerate() {
        if mask & (1 << (i % 8)) != 0 {
            b.snapshots.insert(*seq, bytes.clone());
        }
    }
    for _ in 0..input.u8().map_or(0, |n| n % 3) {
        let (Some(kind), Some(which)) = (input.u8(), input.u8()) else { break };
        let (seq, snap) = &fx.snapshots[usize::from(which) % fx.snapshots.len()];
        match kind % 4 {
            0 => {
                let Some(bytes) = input.chunk() else { break };
                b.snapshots.insert(u64::from(which), bytes);
            }
            1 => {
                let (Some(pos), Some(mask)) = (input.u16(), input.u8()) else { break };
                let mut bytes = snap[..snap.len() - 4].to_vec();
                flip(&mut bytes, pos, mask);
                b.snapshots.insert(*seq, with_crc(&bytes));
            }
            2 => {
                let (Some(pos), Some(mask)) = (input.u16(), input.u8()) else { break };
                let mut s = Snapshot::decode(snap).expect("a fixture snapshot decodes");
                flip(&mut s.state, pos, mask);
                // Damaged before it was sealed: a fresh checksum over the original state hash.
                b.snapshots.insert(*seq, s.encode());
            }
            _ => {
                let Some(at) = input.u8() else { break };
                b.snapshots.insert(u64::from(at), snap.clone());
            }
        }
    }
    let n = fx.entries.len();
    let mut next = 0usize; // the next fixture entry
    let mut seq = 1u64; // where the next stored entry goes
    while b.journal.len() < MAX_PROGRAM_ENTRIES {
        let Some(op) = input.u8() else { break };
        let entry = fx.entries.get(next).cloned();
        let bytes = match op % 10 {
            0 => entry,
            1 => {
                let Some(i) = input.u8() else { break };
                next = usize::from(i) % n;
                Some(fx.entries[next].clone())
            }
            2 | 3 => {
                let (Some(pos), Some(mask)) = (input.u16(), input.u8()) else { break };
                entry.map(|mut e| {
                    let body = e.len() - 4;
                    flip(&mut e[..body], pos, mask);
                    if op % 10 == 3 { with_crc(&e[..body]) } else { e }
                })
            }
            4 => {
                let Some(len) = input.u16() else { break };
                entry.map(|mut e| {
                    e.truncate(usize::from(len) % e.len());
                    e
                })
            }
            5 => {
                let Some(bytes) = input.chunk() else { break };
                b.journal.insert(seq, bytes);
                seq += 1;
                continue;
            }
            6 => {
                let Some(bytes) = input.chunk() else { break };
                b.journal.insert(seq, with_crc(&bytes));
                seq += 1;
                continue;
            }
            7 => {
                let Some(k) = input.u8() else { break };
                seq += 1 + u64::from(k % 4);
                continue;
            }
            8 => {
                let (Some(what), Some(v)) = (input.u8(), input.u8()) else { break };
                entry.map(|bytes| {
                    let mut e = Entry::decode(&bytes).expect("a fixture entry decodes");
                    match what % 5 {
                        0 => e.seq = e.seq.wrapping_add(u64::from(v)).wrapping_sub(128),
                        1 => e.seal = if e.seal.is_some() { None } else { Some(B256::repeat_byte(v)) },
                        2 => e.seal = e.seal.map(|h| B256::from(keccak(h.as_slice()))),
                        3 => e.record = Entry::decode(&fx.entries[usize::from(v) % n]).expect("decodes").record,
                        _ => {
                            e.block = e.block.wrapping_add(u64::from(v));
                            e.timestamp ^= u64::from(v);
                        }
                    }
                    e.encode()
                })
            }
            _ => {
                // Skip a fixture entry: the ones after it may no longer apply.
                next += 1;
                continue;
            }
        };
        next += 1;
        if let Some(bytes) = bytes {
            b.journal.insert(seq, bytes);
            seq += 1;
        }
    }
    b
}

/// What recovery of a store must give, computed with a plain engine and the format's decoders.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// Start-up refuses: a snapshot in a format version this build does not read.
    Refused,
    Recovered {
        snapshot: Option<u64>,
        kept: u64,
        state_hash: B256,
    },
}

/// Apply one stored entry the way its record says; `false` (with the state untouched) when it
/// does not decode to its own position or does not apply with a matching block seal.
fn reference_apply(engine: &mut Engine, seq: u64, bytes: &[u8]) -> bool {
    let Ok(entry) = Entry::decode(bytes) else {
        return false;
    };
    if entry.seq != seq {
        return false;
    }
    // Only a block-closing Advance carries a seal, and it always does.
    let closes = matches!(entry.record, Record::System(SystemOp::Advance { .. }));
    if closes != entry.seal.is_some() {
        return false;
    }
    match entry.record {
        // A refused transaction leaving the state untouched is `tx_decode`'s concern.
        Record::Tx(stx) => engine.apply_verified(&stx.assume_verified()).is_ok(),
        Record::System(op) => {
            let before = engine.state_hash();
            // The seal is the state the block closes on.
            if entry.seal.is_some_and(|h| h != before) {
                return false;
            }
            match engine.apply_system(&op) {
                Ok(seal) => {
                    assert_eq!(seal.map(|s| s.state_hash), entry.seal, "an Advance seals the state it closes on");
                    true
                }
                Err(_) => {
                    assert_eq!(engine.state_hash(), before, "a refused operator action changed the engine");
                    false
                }
            }
        }
    }
}

/// Replay the stored entries from `from` on `engine` while they apply; returns the last position
/// kept and, if `at` was reached, the state hash there.
fn reference_replay(engine: &mut Engine, journal: &BTreeMap<u64, Vec<u8>>, from: u64, at: u64) -> (u64, Option<B256>) {
    let mut hash_at = (at + 1 == from).then(|| engine.state_hash());
    let mut expected = from;
    for (&seq, bytes) in journal.range(from..) {
        if seq != expected || !reference_apply(engine, seq, bytes) {
            break;
        }
        if seq == at {
            hash_at = Some(engine.state_hash());
        }
        expected += 1;
    }
    (expected - 1, hash_at)
}

fn expected_recovery(b: &MemBackend) -> (Expected, Option<Engine>) {
    let mut base = None;
    for (&seq, bytes) in b.snapshots.iter().rev() {
        let snap = match Snapshot::decode(bytes) {
            Ok(s) => s,
            Err(Damage::UnknownVersion(_)) => return (Expected::Refused, None),
            Err(_) => continue,
        };
        if snap.state.first().is_some_and(|v| *v != STATE_ENCODING_VERSION) {
            return (Expected::Refused, None);
        }
        if let Ok(e) = Engine::decode_state(&snap.state)
            && e.state_hash() == snap.state_hash
            && snap.seq == seq
        {
            base = Some((seq, e));
            break;
        }
    }
    let (snapshot, mut engine) = match base {
        Some((seq, e)) => (Some(seq), e),
        None => (None, Engine::new()),
    };
    let from = snapshot.unwrap_or(0) + 1;
    let (kept, _) = reference_replay(&mut engine, &b.journal, from, 0);
    (Expected::Recovered { snapshot, kept, state_hash: engine.state_hash() }, Some(engine))
}

/// Part 1: the bytes as one stored entry or snapshot.
fn check_blobs(data: &[u8]) {
    for (bytes, sealed) in [(data.to_vec(), false), (with_crc(data), true)] {
        let valid_crc = crc_ok(&bytes);
        assert!(!sealed || data.is_empty() || valid_crc, "a CRC-32 was appended");
        match Entry::decode(&bytes) {
            Ok(e) => {
                assert!(valid_crc && bytes[0] == ENTRY_VERSION);
                assert!(e.encode() == bytes, "entry decode/encode is not the identity: {bytes:02x?} gave {e:?}");
            }
            Err(Damage::Checksum) => assert!(!valid_crc, "a valid checksum reported as damaged"),
            Err(Damage::UnknownVersion(v)) => assert!(valid_crc && v != ENTRY_VERSION),
            Err(d) => assert!(valid_crc || bytes.len() < 5, "{d} reported before the checksum was checked"),
        }
        match Snapshot::decode(&bytes) {
            Ok(s) => {
                assert!(valid_crc);
                assert!(s.encode() == bytes, "snapshot decode/encode is not the identity: {bytes:02x?} gave {s:?}");
                check_state(&s.state);
            }
            Err(Damage::Checksum) => assert!(!valid_crc, "a valid checksum reported as damaged"),
            Err(d) => assert!(valid_crc || bytes.len() < 5, "{d} reported before the checksum was checked"),
        }
    }
    check_state(data);
}

/// `Engine::decode_state`: no panic; what decodes re-encodes to a canonical encoding.
fn check_state(state: &[u8]) {
    let Ok(e) = Engine::decode_state(state) else {
        return;
    };
    let canonical = e.encode_state();
    let again = Engine::decode_state(&canonical).expect("a re-encoded state decodes");
    assert!(again.encode_state() == canonical, "the re-encoded state is not canonical");
}

/// Part 2: recover the store the program in `data` describes.
fn check_recovery(data: &[u8]) {
    let stored = build_store(data);
    let (expected, reference) = expected_recovery(&stored);
    // Each opens its own copy, as if it were the only process on the store.
    let policy = no_snapshots();
    let opened = Node::open(stored.clone(), policy);
    let reader = Reader::open(stored.clone());
    let Expected::Recovered { snapshot, kept, state_hash } = expected else {
        assert!(matches!(opened, Err(StoreError::SnapshotVersion { .. })), "recovery started past an unknown version");
        assert!(
            matches!(reader, Err(StoreError::SnapshotVersion { .. })),
            "the reader started past an unknown version"
        );
        return;
    };
    let (mut node, report) = opened.unwrap_or_else(|e| panic!("recovery failed: {e}"));
    let got = (report.snapshot_seq, report.entries_kept, report.state_hash, node.engine().state_hash());
    assert_eq!(got, (snapshot, kept, state_hash, state_hash), "recovery: {report}");
    if let Some(reference) = reference {
        assert!(reference.encode_state() == node.engine().encode_state(), "same hash, different state");
    }
    let after: Vec<u64> = stored.journal.range(kept + 1..).map(|(s, _)| *s).collect();
    assert_eq!(report.entries_dropped, after.len() as u64, "{report}");
    match (&report.cut_reason, after.first()) {
        (None, None) => {}
        (Some(why), Some(_)) => assert!(why.contains(&format!("entry {}", kept + 1)), "{why}"),
        _ => panic!("a cut is reported exactly when entries follow the kept prefix: {report}"),
    }
    let mut prefix = stored.clone();
    prefix.journal.retain(|s, _| *s <= kept);
    assert!(*node.backend() == prefix, "recovery deletes exactly the entries after the kept prefix");

    let (reader, reader_report) = reader.unwrap_or_else(|e| panic!("the writer recovered, the reader failed: {e}"));
    assert_eq!((reader_report.entries_kept, reader.engine().state_hash()), (kept, state_hash));

    // A replay from genesis, ignoring snapshots.
    let mut genesis = Engine::new();
    let at = snapshot.unwrap_or(0);
    let (whole, hash_at) = reference_replay(&mut genesis, &stored.journal, 1, at);
    // Where the loaded snapshot agrees with the journal before it, the genesis replay, and the
    // server's history (`replay_with`), end where recovery does, on the same state.
    let recorded = snapshot.map(|seq| {
        let bytes = stored.snapshots.get(&seq).expect("the loaded snapshot is stored");
        Snapshot::decode(bytes).expect("the loaded snapshot decodes").state_hash
    });
    if snapshot.is_none() || hash_at == recorded {
        assert_eq!((whole, genesis.state_hash()), (kept, state_hash), "a genesis replay gives the recovered state");
        let (mut visited, mut hash_at_kept) = (0u64, None);
        let n = replay_with(&mut stored.clone(), |engine, _, _| {
            visited += 1;
            if visited == kept {
                hash_at_kept = Some(engine.state_hash());
            }
        })
        .expect("memory");
        assert_eq!(n, kept, "replay_with visits exactly the kept prefix");
        if kept > 0 {
            assert_eq!(hash_at_kept, Some(state_hash), "replay_with ends on the recovered state");
        }
    }
    match verify_journal(&mut stored.clone()) {
        Ok(v) => {
            let n = stored.journal.len() as u64;
            assert_eq!((v.replayed, v.state_hash), (n, genesis.state_hash()), "verify_journal passed");
            assert_eq!(whole, n, "verify_journal passed a journal that does not replay whole");
        }
        Err(StoreError::Divergence(_)) => {}
        Err(e) => panic!("verify_journal: {e}"),
    }

    // The writer goes on from the cut, and a second open is clean.
    let Some(chain) = node.engine().chains().first().map(|c| c.id.clone()) else {
        return;
    };
    let Ok(Ok((seq, _))) = node.system(SystemOp::Advance { chain, seconds: 1 }) else {
        return;
    };
    assert_eq!(seq, kept + 1, "the next entry follows the kept prefix");
    let hash = node.engine().state_hash();
    let backend = std::mem::take(node.backend());
    let (node, report) = Node::open(backend, policy).expect("reopen");
    assert_eq!((report.entries_kept, report.entries_dropped, &report.cut_reason), (kept + 1, 0, &None));
    assert_eq!(node.engine().state_hash(), hash);
}

/// The body of the `journal_decode` target: panics when a property fails.
pub fn check_journal_decode(data: &[u8]) {
    check_blobs(data);
    check_recovery(data);
}
