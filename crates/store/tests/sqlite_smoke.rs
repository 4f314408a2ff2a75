mod common;
use granary_store::Node;
use granary_store::sqlite::SqliteBackend;

#[test]
fn write_reopen_same_state() {
    let dir = std::env::temp_dir().join(format!("granary-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let hash = {
        let (mut node, report) =
            Node::open(SqliteBackend::open_writer(&dir).expect("open"), common::policy(5)).expect("recover");
        assert_eq!(report.entries_kept, 0);
        common::drive(&mut node, 0, 500, 50);
        node.engine().state_hash()
    };
    let (node, report) =
        Node::open(SqliteBackend::open_writer(&dir).expect("open"), common::policy(5)).expect("recover");
    println!("{report}");
    assert_eq!(node.engine().state_hash(), hash);
    assert!(report.snapshot_seq.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The wall-clock policy snapshots a transaction-only stream too.
#[test]
fn time_policy_snapshots_without_blocks() {
    let dir = std::env::temp_dir().join(format!("granary-smoke-time-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let policy = granary_store::SnapshotPolicy { every_blocks: u64::MAX, every: std::time::Duration::ZERO, keep: 2 };
    let (mut node, _) = Node::open(SqliteBackend::open_writer(&dir).expect("open"), policy).expect("recover");
    common::drive(&mut node, 0, 30, 8);
    let seqs = granary_store::Backend::snapshot_seqs(node.backend()).expect("seqs");
    assert_eq!(seqs.len(), 2, "the newest two are kept: {seqs:?}");
    assert_eq!(seqs[0], node.next_seq() - 1, "the newest covers the last entry");
    let _ = std::fs::remove_dir_all(&dir);
}
