//! Recovery and integrity (SQLite and PostgreSQL): a restart gives back exactly the state that was
//! there; flipped bytes, a truncated entry, a tampered block seal, a deleted or damaged snapshot
//! each recover the intact prefix (and say what was cut) or are refused with a clear message; a
//! second writer is refused; a reader follows the writer.

mod common;

use common::{PgDb, drive, expected_hash, genesis, policy};
use granary_store::entry::{Entry, Snapshot};
use granary_store::node::verify_journal;
use granary_store::postgres::PgBackend;
use granary_store::sqlite::SqliteBackend;
use granary_store::{Backend, Node, Reader, StoreError, replay_with};

/// Overwrite stored bytes, as disk damage would.
trait Damage: Backend {
    fn overwrite_entry(&mut self, seq: u64, bytes: &[u8]);
    fn overwrite_snapshot(&mut self, seq: u64, bytes: &[u8]);
}

impl Damage for SqliteBackend {
    fn overwrite_entry(&mut self, seq: u64, bytes: &[u8]) {
        let n = self
            .connection()
            .execute("UPDATE journal SET entry = ?1 WHERE seq = ?2", (bytes, seq as i64))
            .expect("update");
        assert_eq!(n, 1);
    }
    fn overwrite_snapshot(&mut self, seq: u64, bytes: &[u8]) {
        let n = self
            .connection()
            .execute("UPDATE snapshots SET snapshot = ?1 WHERE seq = ?2", (bytes, seq as i64))
            .expect("update");
        assert_eq!(n, 1);
    }
}

impl Damage for PgBackend {
    fn overwrite_entry(&mut self, seq: u64, bytes: &[u8]) {
        let n = self
            .client()
            .execute("UPDATE journal SET entry = $1 WHERE seq = $2", &[&bytes, &(seq as i64)])
            .expect("update");
        assert_eq!(n, 1);
    }
    fn overwrite_snapshot(&mut self, seq: u64, bytes: &[u8]) {
        let n = self
            .client()
            .execute("UPDATE snapshots SET snapshot = $1 WHERE seq = $2", &[&bytes, &(seq as i64)])
            .expect("update");
        assert_eq!(n, 1);
    }
}

/// One test's store location: opens writers and readers on it.
trait Fixture {
    type B: Damage;
    fn try_writer(&self) -> Result<Self::B, StoreError>;
    fn reader(&self) -> Self::B;
    fn writer(&self) -> Self::B {
        self.try_writer().unwrap_or_else(|e| panic!("open writer: {e}"))
    }
}

struct SqliteFixture {
    dir: std::path::PathBuf,
}

impl Drop for SqliteFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sqlite_fixture(tag: &str) -> SqliteFixture {
    let dir = std::env::temp_dir().join(format!("granary-recovery-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    SqliteFixture { dir }
}

impl Fixture for SqliteFixture {
    type B = SqliteBackend;
    fn try_writer(&self) -> Result<SqliteBackend, StoreError> {
        SqliteBackend::open_writer(&self.dir)
    }
    fn reader(&self) -> SqliteBackend {
        SqliteBackend::open_reader(&self.dir).expect("reader")
    }
}

struct PgFixture {
    db: PgDb,
}

impl Fixture for PgFixture {
    type B = PgBackend;
    fn try_writer(&self) -> Result<PgBackend, StoreError> {
        PgBackend::open_writer(&self.db.url)
    }
    fn reader(&self) -> PgBackend {
        PgBackend::open_reader(&self.db.url).expect("reader")
    }
}

fn entry_bytes<B: Backend>(b: &mut B, seq: u64) -> Vec<u8> {
    let mut out = Vec::new();
    b.scan(seq, &mut |s, bytes| {
        if s == seq {
            out = bytes.to_vec();
        }
        false
    })
    .expect("scan");
    assert!(!out.is_empty(), "entry {seq} exists");
    out
}

const ITEMS: u64 = 400;

/// Write genesis + ITEMS through a node (snapshots every 2 blocks); return the entry count.
fn populate<F: Fixture>(f: &F) -> u64 {
    let (mut node, report) = Node::open(f.writer(), policy(2)).expect("open");
    assert_eq!(report.entries_kept, 0);
    drive(&mut node, 0, ITEMS, 32);
    let n = node.next_seq() - 1;
    assert_eq!(n, genesis().len() as u64 + ITEMS);
    n
}

fn restart_gives_back_the_same_state<F: Fixture>(f: &F) {
    let n = populate(f);
    let (node, report) = Node::open(f.writer(), policy(2)).expect("reopen");
    println!("{}: {report}", node_describe(&node));
    assert_eq!(report.entries_kept, n);
    assert_eq!(report.entries_dropped, 0);
    assert!(report.snapshot_seq.is_some(), "a snapshot was used");
    assert!(report.replayed < n, "only the tail after the snapshot is replayed");
    assert_eq!(node.engine().state_hash(), expected_hash(n));
    drop(node);
    let mut b = f.writer();
    let v = verify_journal(&mut b).expect("verify");
    assert_eq!(v.replayed, n);
    assert!(v.seals_checked >= ITEMS / 40);
    assert_eq!(v.state_hash, expected_hash(n));
}

fn node_describe<B: Backend>(node: &Node<B>) -> String {
    format!("{} entries", node.next_seq() - 1)
}

/// Damage entry `at`; recovery must keep entries < at, drop the rest, say why, and go on writing.
fn damaged_entry_cuts_the_tail<F: Fixture>(f: &F, damage: impl Fn(&mut Vec<u8>), why: &str) {
    let n = populate(f);
    let at = n - 150;
    {
        let mut b = f.writer();
        let mut bytes = entry_bytes(&mut b, at);
        damage(&mut bytes);
        b.overwrite_entry(at, &bytes);
        // Snapshots taken after the damage point would hide it; remove them.
        for s in b.snapshot_seqs().expect("seqs") {
            if s >= at {
                b.delete_snapshot(s).expect("delete");
            }
        }
    }
    let (mut node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    println!("{report}");
    assert_eq!(report.entries_kept, at - 1);
    assert_eq!(report.entries_dropped, n - at + 1);
    let reason = report.cut_reason.clone().unwrap_or_default();
    assert!(reason.contains(&format!("entry {at}")) && reason.contains(why), "{reason}");
    assert_eq!(node.engine().state_hash(), expected_hash(at - 1), "the intact prefix, nothing invented");
    // The journal goes on from the cut, and a second restart is clean.
    let seq = node
        .system(granary_engine::SystemOp::Advance { chain: "eth".into(), seconds: 1 })
        .expect("durable")
        .expect("applies")
        .0;
    assert_eq!(seq, at);
    let hash = node.engine().state_hash();
    drop(node);
    let (node, report) = Node::open(f.writer(), policy(2)).expect("reopen");
    assert_eq!(report.entries_dropped, 0);
    assert_eq!(node.engine().state_hash(), hash);
}

#[allow(clippy::ptr_arg)] // same signature as `truncate_mid_entry`, which needs the Vec
fn flip_a_byte(bytes: &mut Vec<u8>) {
    let i = bytes.len() / 2;
    bytes[i] ^= 0x40;
}

fn truncate_mid_entry(bytes: &mut Vec<u8>) {
    bytes.truncate(bytes.len() / 2);
}

/// A block seal rewritten with a valid checksum: the replayed state disagrees with it.
fn tampered_seal_is_detected<F: Fixture>(f: &F) {
    let n = populate(f);
    let g = genesis().len() as u64;
    let at = g + 39 + 40 * 3 + 1; // the fourth Advance of the stream
    {
        let mut b = f.writer();
        let mut entry = Entry::decode(&entry_bytes(&mut b, at)).expect("decodes");
        assert!(entry.seal.is_some(), "entry {at} closes a block");
        entry.seal = Some(granary_engine::B256::repeat_byte(7));
        b.overwrite_entry(at, &entry.encode());
        for s in b.snapshot_seqs().expect("seqs") {
            if s >= at {
                b.delete_snapshot(s).expect("delete");
            }
        }
        let err = verify_journal(&mut b).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("ends with state hash"), "verify: {err}");
    }
    let (node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    let reason = report.cut_reason.clone().unwrap_or_default();
    assert!(reason.contains("ends with state hash"), "{reason}");
    assert_eq!(report.entries_kept, at - 1);
    assert_eq!(report.entries_dropped, n - at + 1);
    assert_eq!(node.engine().state_hash(), expected_hash(at - 1));
}

/// An entry whose block seal does not fit its record, rewritten with a valid checksum: a
/// block-closing `Advance` without its seal, a seal on another operator action or on a
/// transaction. Recovery cuts it off without applying it (it used to apply the action and then
/// cut it, so the recovered state included an entry the journal no longer had), and the
/// history replay (`replay_with`) stops at the same entry.
fn misplaced_seal_is_cut_unapplied<F: Fixture>(f: &F, at: fn(u64) -> u64, reseal: fn(&mut Entry), why: &str) {
    let n = populate(f);
    let at = at(genesis().len() as u64);
    {
        let mut b = f.writer();
        let mut entry = Entry::decode(&entry_bytes(&mut b, at)).expect("decodes");
        reseal(&mut entry);
        b.overwrite_entry(at, &entry.encode());
        for s in b.snapshot_seqs().expect("seqs") {
            if s >= at {
                b.delete_snapshot(s).expect("delete");
            }
        }
        assert_eq!(replay_with(&mut b, |_, _, _| {}).expect("replay"), at - 1, "the history stops at the entry");
        let err = verify_journal(&mut b).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("entry {at}: {why}")), "verify: {err}");
    }
    let (node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    let reason = report.cut_reason.clone().unwrap_or_default();
    assert!(reason.contains(&format!("entry {at}: {why}")), "{reason}");
    assert_eq!((report.entries_kept, report.entries_dropped), (at - 1, n - at + 1));
    assert_eq!(node.engine().state_hash(), expected_hash(at - 1), "the cut entry was not applied");
}

const NO_SEAL: &str = "the block-closing action carries no block seal";
const STRAY_SEAL: &str = "the recorded block seal does not match the action";

fn drop_seal(e: &mut Entry) {
    e.seal = None;
}

fn add_seal(e: &mut Entry) {
    e.seal = Some(granary_engine::B256::repeat_byte(1));
}

/// Seq of the fourth `Advance` of the stream, given the genesis length.
fn fourth_advance(g: u64) -> u64 {
    g + 39 + 40 * 3 + 1
}

/// An entry that records another position than the one it is stored at: recovery cuts it, and
/// `verify_journal` (which used to decode it without looking at its position) refuses it.
fn entry_out_of_place_is_refused<F: Fixture>(f: &F) {
    let n = populate(f);
    let at = n - 100;
    {
        let mut b = f.writer();
        let mut entry = Entry::decode(&entry_bytes(&mut b, at)).expect("decodes");
        entry.seq += 1000;
        b.overwrite_entry(at, &entry.encode());
        for s in b.snapshot_seqs().expect("seqs") {
            if s >= at {
                b.delete_snapshot(s).expect("delete");
            }
        }
        let err = verify_journal(&mut b).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("entry {at} records position {}", at + 1000)), "verify: {err}");
        assert_eq!(replay_with(&mut b, |_, _, _| {}).expect("replay"), at - 1);
    }
    let (node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    assert_eq!(report.entries_kept, at - 1);
    assert_eq!(node.engine().state_hash(), expected_hash(at - 1));
}

/// A snapshot whose state fails to decode with an error that quotes an id containing "version"
/// (a chain "version" twice) is damage to skip, not a snapshot in an unknown format version.
fn snapshot_error_quoting_version_is_skipped<F: Fixture>(f: &F) {
    let n = populate(f);
    let mut b = f.writer();
    let seqs = b.snapshot_seqs().expect("seqs");
    let empty = granary_engine::Engine::new().encode_state();
    let mut one = granary_engine::Engine::new();
    one.create_chain("version", 7, "v", 12).expect("a chain");
    let one = one.encode_state();
    // version | chain count | chains | the empty rest: repeat the chain, count 2.
    let chain = &one[5..one.len() - (empty.len() - 5)];
    let mut state = vec![empty[0], 0, 0, 0, 2];
    state.extend_from_slice(chain);
    state.extend_from_slice(chain);
    state.extend_from_slice(&empty[5..]);
    let err = granary_engine::Engine::decode_state(&state).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("version appears twice"), "{err}");
    let snap = Snapshot { seq: seqs[0], state_hash: granary_engine::B256::ZERO, state };
    b.overwrite_snapshot(seqs[0], &snap.encode());
    drop(b);
    let (node, report) = Node::open(f.writer(), policy(2)).expect("the damaged snapshot is skipped");
    assert_eq!(report.snapshot_seq, Some(seqs[1]));
    assert!(report.snapshots_skipped[0].1.contains("appears twice"), "{report}");
    assert_eq!(node.engine().state_hash(), expected_hash(n));
}

fn deleted_or_damaged_snapshots_fall_back<F: Fixture>(f: &F) {
    let n = populate(f);
    let mut b = f.writer();
    let seqs = b.snapshot_seqs().expect("seqs");
    assert!(seqs.len() >= 3, "three snapshots kept: {seqs:?}");
    // Delete the newest: the next one is used.
    b.delete_snapshot(seqs[0]).expect("delete");
    // Damage the second newest: it is skipped, with the reason.
    let mut bytes = b.load_snapshot(seqs[1]).expect("load").expect("exists");
    flip_a_byte(&mut bytes);
    b.overwrite_snapshot(seqs[1], &bytes);
    drop(b);
    let (node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    println!("{report}");
    assert_eq!(report.snapshot_seq, Some(seqs[2]));
    assert_eq!(report.snapshots_skipped.len(), 1);
    assert!(report.snapshots_skipped[0].1.contains("checksum"));
    assert_eq!(report.entries_kept, n);
    assert_eq!(node.engine().state_hash(), expected_hash(n));
}

/// A snapshot forged by someone who can write the store: the newest one's state with a token's
/// total supply raised by one, recorded under the forged state's own hash and a fresh checksum.
/// It decodes and hashes as recorded, but its supply no longer equals the sum of the balances, so
/// recovery skips it, says why, and recovers the true state from the next snapshot.
fn forged_snapshot_breaking_an_invariant_is_skipped<F: Fixture>(f: &F) {
    let n = populate(f);
    let mut b = f.writer();
    let seqs = b.snapshot_seqs().expect("seqs");
    let bytes = b.load_snapshot(seqs[0]).expect("load").expect("exists");
    let snap = Snapshot::decode(&bytes).expect("intact");
    let engine = granary_engine::Engine::decode_state(&snap.state).expect("decodes");
    let supply = engine.token(0).total_supply;
    let pattern = supply.to_be_bytes::<32>();
    let at = snap.state.windows(32).position(|w| w == pattern).expect("the supply is in the state");
    let mut state = snap.state.clone();
    state[at..at + 32].copy_from_slice(&(supply + granary_engine::U256::from(1u8)).to_be_bytes::<32>());
    let forged_engine = granary_engine::Engine::decode_state(&state).expect("the forged state decodes");
    assert_eq!(forged_engine.token(0).total_supply, supply + granary_engine::U256::from(1u8));
    assert!(forged_engine.check_invariants().is_err());
    let forged = Snapshot { seq: snap.seq, state_hash: forged_engine.state_hash(), state };
    b.overwrite_snapshot(seqs[0], &forged.encode());
    drop(b);
    let (node, report) = Node::open(f.writer(), policy(2)).expect("recover");
    assert_eq!(report.snapshot_seq, Some(seqs[1]), "{report}");
    assert_eq!(report.snapshots_skipped.len(), 1, "{report}");
    assert!(report.snapshots_skipped[0].1.contains("breaks an invariant"), "{report}");
    assert!(report.snapshots_skipped[0].1.contains("total supply"), "{report}");
    assert_eq!(report.entries_kept, n);
    assert_eq!(node.engine().state_hash(), expected_hash(n));
    assert_eq!(node.engine().token(0).total_supply, supply);
}

fn unknown_snapshot_version_is_refused<F: Fixture>(f: &F) {
    populate(f);
    let mut b = f.writer();
    let newest = b.snapshot_seqs().expect("seqs")[0];
    let snap = Snapshot::decode(&b.load_snapshot(newest).expect("load").expect("exists")).expect("valid");
    let mut bytes = snap.encode();
    bytes[0] = 9; // a future format, with a valid checksum
    let body_len = bytes.len() - 4;
    let crc = crc32(&bytes[..body_len]);
    bytes[body_len..].copy_from_slice(&crc.to_be_bytes());
    b.overwrite_snapshot(newest, &bytes);
    drop(b);
    match Node::open(f.writer(), policy(2)) {
        Err(e @ StoreError::SnapshotVersion { version: 9, .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("format version 9") && msg.contains("move the snapshot aside"), "{msg}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a snapshot of an unknown version was accepted"),
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    // The same CRC-32 (IEEE) the store uses.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn second_writer_is_refused<F: Fixture>(f: &F) {
    let (node, _) = Node::open(f.writer(), policy(2)).expect("first writer");
    let msg = f.try_writer().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("another granary process"), "second writer: {msg}");
    drop(node);
    // Once the first writer is gone, a new one may open.
    assert!(f.try_writer().is_ok());
}

fn rejected_transactions_are_not_journaled<F: Fixture>(f: &F) {
    let (mut node, _) = Node::open(f.writer(), policy(2)).expect("open");
    drive(&mut node, 0, 10, 4);
    let before = (node.next_seq(), node.engine().state_hash());
    // Item 0 again: a replayed nonce.
    let common::Item::Tx(stx) = common::item(0) else { panic!("item 0 is a transaction") };
    let r = node.submit_batch(vec![stx]).expect("durable");
    assert_eq!(r[0].as_ref().err().map(|e| e.code()), Some("bad_nonce"));
    assert_eq!((node.next_seq(), node.engine().state_hash()), before);
}

fn reader_follows_the_writer<F: Fixture>(f: &F) {
    let (mut node, _) = Node::open(f.writer(), policy(1000)).expect("writer");
    drive(&mut node, 0, 100, 16);
    let (mut reader, report) = Reader::open(f.reader()).expect("reader");
    assert_eq!(report.entries_kept, node.next_seq() - 1);
    assert_eq!(reader.engine().state_hash(), node.engine().state_hash());
    drive(&mut node, 100, 250, 16);
    let applied = reader.catch_up().expect("catch up");
    assert_eq!(applied, 150);
    assert_eq!(reader.engine().state_hash(), node.engine().state_hash());
}

macro_rules! both_backends {
    ($($name:ident => $body:expr;)*) => {
        mod sqlite {
            use super::*;
            $(#[test] fn $name() { let f = sqlite_fixture(stringify!($name)); ($body)(&f); })*
        }
        mod postgres {
            use super::*;
            $(#[test] fn $name() { if let Some(db) = PgDb::create(stringify!($name)) { let f = PgFixture { db }; ($body)(&f); } })*
        }
    };
}

both_backends! {
    restart => restart_gives_back_the_same_state;
    flipped_byte => |f| damaged_entry_cuts_the_tail(f, flip_a_byte, "checksum");
    truncated_entry => |f| damaged_entry_cuts_the_tail(f, truncate_mid_entry, "checksum");
    tampered_seal => tampered_seal_is_detected;
    advance_without_seal => |f| misplaced_seal_is_cut_unapplied(f, fourth_advance, drop_seal, NO_SEAL);
    seal_on_faucet_mint => |f| misplaced_seal_is_cut_unapplied(f, |g| g, add_seal, STRAY_SEAL);
    seal_on_transaction => |f| misplaced_seal_is_cut_unapplied(f, |g| g + 1, add_seal, STRAY_SEAL);
    entry_out_of_place => entry_out_of_place_is_refused;
    snapshot_error_quoting_version => snapshot_error_quoting_version_is_skipped;
    snapshots => deleted_or_damaged_snapshots_fall_back;
    forged_snapshot => forged_snapshot_breaking_an_invariant_is_skipped;
    snapshot_version => unknown_snapshot_version_is_refused;
    second_writer => second_writer_is_refused;
    rejected_not_journaled => rejected_transactions_are_not_journaled;
    reader => reader_follows_the_writer;
}
