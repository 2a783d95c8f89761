//! What only the SQLite backend has: its file (WAL journal mode, a file that is not a database),
//! and the queue its writers wait in beyond SQLite's busy timeout. The store's behaviour on
//! either backend is tested in `store.rs`.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Barrier;

use central::model::{CitizenId, SessionRecord};
use central::store::sqlite::SqliteStore;
use central::store::{IssueError, Issued, Store, StoreError};
use common::issuing::{NOW, TODAY, add_citizen, input, request, sign_on};
use protocol::Eligibility;
use protocol::api::Action;

const THREADS: usize = 8;

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).unwrap()
}

#[test]
fn the_file_uses_wal_and_the_connections_enforce_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("central.db");
    let store = open(&path);
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    let session = SessionRecord {
        citizen: 4242,
        kiosk_id: "K001".into(),
        shown_code: None,
        expires_at: NOW,
    };
    assert!(matches!(
        store.create_session(&[1; 32], &session),
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.backend(), "sqlite");
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("central.db");
    std::fs::write(&path, b"this is not a sqlite database, just some text....").unwrap();
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Database(_))
    ));
}

#[test]
fn writers_of_one_store_wait_their_turn_beyond_the_busy_timeout() {
    // Eight applies (for eight people) whose signing takes 0.8 s each hold the write lock for
    // 6.4 s in all, more than the 5 s busy timeout: the last one must still get its turn.
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("central.db"));
    let people: Vec<CitizenId> = (0..THREADS)
        .map(|i| add_citizen(&store, &format!("{:03}", 300 + i), "杨十七"))
        .collect();
    let barrier = Barrier::new(THREADS);
    let results: Vec<Result<Issued, IssueError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = people
            .iter()
            .map(|&person| {
                let (store, barrier) = (&store, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut fast = sign_on(TODAY);
                    let mut slow = |serial| {
                        std::thread::sleep(std::time::Duration::from_millis(800));
                        fast(serial)
                    };
                    store.issue(
                        &input(person, Action::Apply, request()),
                        &Eligibility::Eligible,
                        &mut slow,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let issued: BTreeSet<CitizenId> = results
        .into_iter()
        .map(|r| match r {
            Ok(Issued::New(code)) => code.citizen,
            other => panic!("every apply should succeed, got {other:?}"),
        })
        .collect();
    assert_eq!(issued.len(), THREADS);
}
