//! What only the PostgreSQL backend has to show: several service instances (several stores,
//! each with its own connection pool) on one database. Concurrent reissues for one person from
//! both sides end with one active code; one request id issued through both at once makes one
//! code, and one used at once for two people makes one code and one refusal; overlapping journal
//! batches through both store each event once; configuration changes, posters and venue
//! decisions from both get consecutive numbers; stores opening a fresh database at the same
//! moment apply each migration exactly once.
//!
//! These run whenever `CENTRAL_TEST_POSTGRES` names a server (each test creates a database of
//! its own there), whatever `CENTRAL_TEST_BACKEND` says; without it they are skipped, except
//! under CI, where they fail.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use central::model::{IssueInput, Role};
use central::store::postgres::PostgresStore;
use central::store::{IssueError, Issued, Store, StoreError};
use central::venues::{Decision, VenueApplication};
use common::backend::{PgDatabase, admin_url_if_available};
use common::issuing::{NOW, TODAY, add_citizen, input, request, sign_on};
use protocol::api::{Action, CodeId, JournalEvent, JournalKind, KioskConfig};
use protocol::rules::ActionRefused;
use protocol::venue::VenueId;
use protocol::{Eligibility, Uscc};
use time::Duration;
use uuid::Uuid;

const THREADS: usize = 8;

/// A fresh database and two stores on it: two service instances.
struct Instances {
    stores: [Arc<dyn Store>; 2],
    database: PgDatabase,
}

fn instances(test: &str) -> Option<Instances> {
    let admin = admin_url_if_available(test)?;
    let database = PgDatabase::create_on(&admin);
    let open = || -> Arc<dyn Store> { Arc::new(PostgresStore::open(&database.url).unwrap()) };
    Some(Instances {
        stores: [open(), open()],
        database,
    })
}

impl Instances {
    /// Runs `f(i, store)` on `THREADS` threads released at once, thread `i` on instance
    /// `i % 2`; returns the results in thread order.
    fn race<T: Send>(&self, f: impl Fn(usize, &dyn Store) -> T + Sync) -> Vec<T> {
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let (store, barrier, f) = (&self.stores[i % 2], &barrier, &f);
                    scope.spawn(move || {
                        barrier.wait();
                        f(i, store.as_ref())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    /// A number a query returns, read directly.
    fn count(&self, sql: &str) -> i64 {
        self.database.client().query_one(sql, &[]).unwrap().get(0)
    }
}

fn issue(store: &dyn Store, input: &IssueInput) -> Result<Issued, IssueError> {
    store.issue(input, &Eligibility::Eligible, &mut sign_on(TODAY))
}

#[test]
fn reissues_for_one_person_from_two_instances_leave_one_active_code() {
    let Some(db) = instances("reissues_for_one_person_from_two_instances") else {
        return;
    };
    let person = add_citizen(db.stores[0].as_ref(), "001", "卫十四");
    let first = issue(
        db.stores[1].as_ref(),
        &input(person, Action::Apply, request()),
    )
    .unwrap();
    let first = first.code().code_id;

    // Every session was shown the first code: one reissue replaces it, the others are refused.
    let results = db.race(|_, store| {
        let input = IssueInput {
            shown_code: Some(first),
            ..input(person, Action::Reissue, request())
        };
        issue(store, &input)
    });
    let won: Vec<u16> = results
        .iter()
        .filter_map(|r| match r {
            Ok(Issued::New(code)) => Some(code.serial),
            _ => None,
        })
        .collect();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(IssueError::Refused(ActionRefused::CodeChanged))))
        .count();
    assert_eq!(
        (won.as_slice(), refused),
        (&[2][..], THREADS - 1),
        "{results:?}"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM codes WHERE citizen_id = {person} AND status = 'active'"
        )),
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM codes WHERE citizen_id = {person}"
        )),
        2
    );
    for store in &db.stores {
        let current = store.current_code(person).unwrap().unwrap();
        assert_eq!(current.serial, 2);
    }

    // Applies for someone without a code, from both sides at once: exactly one wins.
    let other = add_citizen(db.stores[0].as_ref(), "002", "蒋十五");
    let results = db.race(|_, store| issue(store, &input(other, Action::Apply, request())));
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(Issued::New(_))))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(IssueError::Refused(ActionRefused::ActiveCode))))
        .count();
    assert_eq!((won, refused), (1, THREADS - 1), "{results:?}");
}

#[test]
fn one_request_id_through_both_instances_makes_one_code() {
    let Some(db) = instances("one_request_id_through_both_instances") else {
        return;
    };
    let person = add_citizen(db.stores[0].as_ref(), "003", "沈十六");
    let r = request();
    let results = db.race(|_, store| issue(store, &input(person, Action::Apply, r)).unwrap());
    assert_eq!(
        results
            .iter()
            .filter(|c| matches!(c, Issued::New(_)))
            .count(),
        1,
        "{results:?}"
    );
    let ids: BTreeSet<CodeId> = results.iter().map(|c| c.code().code_id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM codes"), 1);
}

#[test]
fn one_request_id_for_two_people_at_once_is_refused_for_one() {
    let Some(db) = instances("one_request_id_for_two_people_at_once") else {
        return;
    };
    // Two people, so the citizen locks do not serialise the two calls: the request id's unique
    // index decides. Several rounds, for the calls to meet inside the database.
    for round in 0..5 {
        let people = [
            add_citizen(db.stores[0].as_ref(), &format!("1{round}1"), "甲"),
            add_citizen(db.stores[0].as_ref(), &format!("1{round}2"), "乙"),
        ];
        let r = request();
        let results = db.race(|i, store| issue(store, &input(people[i % 2], Action::Apply, r)));
        let new: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                Ok(Issued::New(code)) => Some(code.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(new.len(), 1, "round {round}: {results:?}");
        let owner = new[0].citizen;
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(issued) => {
                    assert_eq!(
                        people[i % 2],
                        owner,
                        "round {round}: a replay for its owner"
                    );
                    assert_eq!(issued.code().code_id, new[0].code_id);
                }
                Err(IssueError::RequestIdReused) => {
                    assert_ne!(people[i % 2], owner, "round {round}: refused for the other")
                }
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        let other = people.into_iter().find(|p| *p != owner).unwrap();
        assert_eq!(db.stores[1].current_code(other).unwrap(), None);
    }
}

#[test]
fn overlapping_journal_batches_through_both_instances_store_each_event_once() {
    let Some(db) = instances("overlapping_journal_batches") else {
        return;
    };
    let events: Vec<JournalEvent> = (0..60)
        .map(|i| JournalEvent {
            id: Uuid::new_v4(),
            at: NOW + Duration::seconds(i),
            kind: JournalKind::Printed,
            detail: BTreeMap::from([("n".to_owned(), i.to_string())]),
        })
        .collect();
    // Thread i sends events [5i, 5i + 25), some backwards: neighbours overlap by 20.
    let results = db.race(|i, store| {
        let mut batch = events[5 * i..5 * i + 25].to_vec();
        if i % 3 == 0 {
            batch.reverse();
        }
        store.append_journal("K001", &batch).unwrap()
    });
    let accepted: u32 = results.iter().map(|(a, _)| a).sum();
    let duplicates: u32 = results.iter().map(|(_, d)| d).sum();
    let sent = u32::try_from(THREADS * 25).unwrap();
    let distinct = u32::try_from(5 * (THREADS - 1) + 25).unwrap();
    assert_eq!(
        (accepted, duplicates),
        (distinct, sent - distinct),
        "{results:?}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM journal"),
        i64::from(distinct)
    );
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT event_id) FROM journal"),
        i64::from(distinct)
    );
}

#[test]
fn configuration_posters_and_decisions_from_both_instances_are_serialised() {
    let Some(db) = instances("configuration_posters_and_decisions") else {
        return;
    };
    // Every change to the kiosk configuration gets its own version.
    let versions: BTreeSet<u64> = db
        .race(|i, store| {
            let mut config: KioskConfig = store.kiosk_config().unwrap();
            config.notice = Some(format!("通知 {i}"));
            store.set_kiosk_config(&config).unwrap()
        })
        .into_iter()
        .collect();
    let expected: BTreeSet<u64> = (1..=u64::try_from(THREADS).unwrap()).collect();
    assert_eq!(versions, expected);
    for store in &db.stores {
        assert_eq!(
            store.kiosk_config().unwrap().version,
            u64::try_from(THREADS).unwrap()
        );
    }

    // An approved venue; posters printed from both sides get consecutive serials, one current.
    let operator = db.stores[0]
        .add_principal(Role::Operator, "值班运维", "示例单位", &[1; 32])
        .unwrap();
    let application = VenueApplication {
        name: "上海市示例文化中心".into(),
        uscc: Uscc::parse("91310101MA1FL2X0PL").unwrap(),
        address: "上海市黄浦区示例路 100 号".into(),
        contact_name: "李联系".into(),
        contact_phone: "13800138000".into(),
    };
    let venue = db.stores[0]
        .apply_venue(&VenueId([7; 8]), &application, NOW)
        .unwrap();
    // One approval wins; the others find the venue no longer pending.
    let decided = db.race(|i, store| {
        let approve = Decision::Approve {
            token_hash: [u8::try_from(10 + i).unwrap(); 32],
        };
        store.decide_venue(venue, &approve, operator, NOW).unwrap()
    });
    assert_eq!(
        decided.iter().filter(|d| d.is_some()).count(),
        1,
        "{decided:?}"
    );
    let serials: BTreeSet<u16> = db
        .race(|_, store| {
            store
                .new_poster(venue, NOW, &mut |serial| {
                    Ok((1, format!("SSMV1:TEST{serial}")))
                })
                .unwrap()
                .serial
        })
        .into_iter()
        .collect();
    let expected: BTreeSet<u16> = (1..=u16::try_from(THREADS).unwrap()).collect();
    assert_eq!(serials, expected);
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM venue_posters WHERE venue_id = {venue} AND retired_at IS NULL"
        )),
        1
    );
    assert_eq!(
        db.stores[1].current_poster(venue).unwrap().unwrap().serial,
        u16::try_from(THREADS).unwrap()
    );
}

#[test]
fn stores_opening_a_fresh_database_at_once_apply_each_migration_once() {
    let Some(admin) = admin_url_if_available("stores_opening_a_fresh_database_at_once") else {
        return;
    };
    let database = PgDatabase::create_on(&admin);
    let barrier = Barrier::new(THREADS);
    let opened: Vec<Result<PostgresStore, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (barrier, url) = (&barrier, &database.url);
                scope.spawn(move || {
                    barrier.wait();
                    PostgresStore::open(url)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for store in &opened {
        let store = store.as_ref().unwrap();
        let health = store.health().unwrap();
        assert!(health.is_current(), "{health:?}");
        assert_eq!(health.backend, "postgres");
    }
    let mut client = database.client();
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let expected: Vec<i64> = (1..=PostgresStore::schema_version()).collect();
    assert_eq!(versions, expected, "each migration applied exactly once");
}

#[test]
fn a_dropped_database_is_unavailable_and_errors_quote_no_values() {
    let Some(db) = instances("a_dropped_database_is_unavailable") else {
        return;
    };
    let store = db.stores[0].as_ref();
    // A unique violation's details name the conflicting value; the error does not.
    store
        .add_principal(Role::Verifier, "检查员", "某区", &[0xab; 32])
        .unwrap();
    match store.add_principal(Role::Verifier, "检查员", "某区", &[0xab; 32]) {
        Err(StoreError::Duplicate(what)) => assert_eq!(what, "principal token"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let person = add_citizen(store, "004", "欧阳娜娜");
    let secret = "GARBAGE-NUMBER-42";
    db.database
        .client()
        .execute(
            "UPDATE citizens SET id_number = $1 WHERE id = $2",
            &[&secret, &person],
        )
        .unwrap();
    match store.citizen(person) {
        Err(StoreError::Database(message)) => {
            assert!(
                !message.contains(secret) && !message.contains("欧阳"),
                "{message}"
            )
        }
        other => panic!("expected a database error, got {other:?}"),
    }

    let url = db.database.url.clone();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin = admin_url_if_available("a_dropped_database_is_unavailable").unwrap();
    postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    assert!(matches!(store.health(), Err(StoreError::Unavailable(_))));
    assert!(matches!(
        store.kiosk_config(),
        Err(StoreError::Unavailable(_))
    ));
    match PostgresStore::open(&url) {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("cannot connect"), "{message}")
        }
        other => panic!("expected the database to be unavailable, got {other:?}"),
    }
}

#[test]
fn a_request_id_committed_meanwhile_for_another_person_is_reused() {
    let Some(db) = instances("a_request_id_committed_meanwhile_for_another_person") else {
        return;
    };
    let store = db.stores[0].as_ref();
    let (a, b) = (
        add_citizen(store, "005", "朱十八"),
        add_citizen(store, "006", "秦十九"),
    );
    let r = request();
    // Another instance's transaction has inserted a code with this request id for A and not
    // committed yet: B's issue cannot see it, gets as far as its own insert, and waits there.
    let mut other = db.database.client();
    let mut tx = other.transaction().unwrap();
    tx.execute(
        "INSERT INTO codes (code_id, citizen_id, kid, serial, issued_on, expires_on, qr_text, \
             status, request_id, action, kiosk_id, created_at) \
         VALUES ($1, $2, 1, 1, '2025-03-14', '2025-09-09', 'SSM1:OTHER', 'active', $3, 'apply', \
             'K002', '2025-03-14T01:26:53.250000000Z')",
        &[&"ab".repeat(16), &a, &r.to_string()],
    )
    .unwrap();
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| issue(store, &input(b, Action::Apply, r)));
        let mut watcher = db.database.client();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let blocked: i64 = watcher
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .unwrap()
                .get(0);
            if blocked == 1 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the issue never waited"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        tx.commit().unwrap();
        assert!(matches!(
            waiting.join().unwrap(),
            Err(IssueError::RequestIdReused)
        ));
    });
    assert_eq!(store.current_code(b).unwrap(), None);
    assert_eq!(store.code_by_request_id(&r).unwrap().unwrap().citizen, a);
}

#[test]
fn connections_cut_by_the_server_are_replaced_without_an_error() {
    let Some(db) = instances("connections_cut_by_the_server_are_replaced") else {
        return;
    };
    // Fill instance 0's pool with idle connections, then have the server end all of them (as a
    // restart would).
    let person = add_citizen(db.stores[0].as_ref(), "007", "许二十");
    let store = Arc::clone(&db.stores[0]);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let (store, barrier) = (&store, &barrier);
            scope.spawn(move || {
                barrier.wait();
                store.citizen(person).unwrap().unwrap()
            });
        }
    });
    let mut admin = db.database.client();
    let cut: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND application_name = 'central'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(cut >= 2, "only {cut} connections were open");
    std::thread::sleep(std::time::Duration::from_millis(200));
    // Every idle connection is dead; the calls still succeed, reads and writes.
    assert_eq!(store.citizen(person).unwrap().unwrap().id, person);
    assert!(store.health().unwrap().is_current());
    issue(store.as_ref(), &input(person, Action::Apply, request())).unwrap();
}
