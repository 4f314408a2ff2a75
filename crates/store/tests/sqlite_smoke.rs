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
