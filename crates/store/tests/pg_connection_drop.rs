//! A PostgreSQL connection dropped in the middle of a journal write, for real: another session
//! holds the journal table locked, so the writer's batch waits inside its transaction (after
//! BEGIN, in its INSERT); that session then terminates the writer's connection. The batch must not
//! be acknowledged, the node must refuse further work, a reopened node must recover exactly the
//! acknowledged journal (the batch rolled back with the connection), and the same transactions
//! sent again must apply once.
//!
//! Needs the server at `GRANARY_PG_URL` (see `common::PgDb`); in CI an unreachable server fails.

mod common;

use common::{Item, PgDb, drive, genesis, item, policy};
use granary_store::postgres::PgBackend;
use granary_store::{Node, StoreError};
use std::time::{Duration, Instant};

#[test]
fn a_connection_dropped_mid_transaction_loses_only_the_unacknowledged_batch() {
    let Some(db) = PgDb::create("conndrop") else { return };
    let (mut node, _) = Node::open(PgBackend::open_writer(&db.url).expect("writer"), policy(1_000)).expect("open");
    drive(&mut node, 0, 100, 16);
    let acked = node.next_seq() - 1;
    assert_eq!(acked, genesis().len() as u64 + 100);
    let acked_hash = node.engine().state_hash();
    let pid: i32 = node.backend().client().query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);

    // The next batch, built exactly as the stream goes on.
    let batch: Vec<_> = (100..110)
        .filter_map(|i| match item(i) {
            Item::Tx(stx) => Some(stx),
            Item::Advance => None,
        })
        .collect();
    assert!(batch.len() >= 8);

    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("admin connection");
    let mut lock = admin.transaction().expect("begin");
    lock.batch_execute("LOCK TABLE journal IN ACCESS EXCLUSIVE MODE").expect("lock the journal");
    let writer = std::thread::spawn(move || {
        let r = node.submit_batch(batch.clone());
        (node, batch, r)
    });
    // Wait until the writer is inside its transaction, blocked on the lock.
    let started = Instant::now();
    let mut monitor = postgres::Client::connect(&db.url, postgres::NoTls).expect("monitor connection");
    loop {
        let waiting: bool = monitor
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND state = 'active')",
                &[&pid],
            )
            .expect("pg_stat_activity")
            .get(0);
        if waiting {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the writer never reached its INSERT");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed: bool = monitor.query_one("SELECT pg_terminate_backend($1)", &[&pid]).expect("terminate").get(0);
    assert!(killed);
    lock.rollback().expect("release the lock");
    let (mut node, batch, r) = writer.join().expect("writer thread");
    let err = r.expect_err("a batch whose connection dropped is not acknowledged");
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    assert!(matches!(node.submit_batch(batch.clone()), Err(StoreError::Poisoned)), "the node refuses further work");
    drop(node);

    // Recovery: exactly the acknowledged journal.
    let (mut node, report) =
        Node::open(PgBackend::open_writer(&db.url).expect("writer"), policy(1_000)).expect("reopen");
    assert_eq!(report.entries_kept, acked, "{report}");
    assert_eq!(node.engine().state_hash(), acked_hash);
    // Sent again, the batch applies once; a third time, every transaction is refused by its nonce.
    let results = node.submit_batch(batch.clone()).expect("durable");
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(node.next_seq() - 1, acked + batch.len() as u64);
    let again = node.submit_batch(batch.clone()).expect("durable");
    assert!(again.iter().all(|r| r.as_ref().is_err_and(|e| e.code() == "bad_nonce")), "{again:?}");
    assert_eq!(node.next_seq() - 1, acked + batch.len() as u64, "nothing applied twice");
}
