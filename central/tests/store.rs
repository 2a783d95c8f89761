//! The store against its contract, on the backend under test (SQLite, or PostgreSQL with
//! `CENTRAL_TEST_BACKEND=postgres`): migrations, citizens, the life of a code, concurrent
//! issuing (in one store and across two stores on one database), sessions, principals, kiosks,
//! heartbeats, the journal, the verification log, the kiosk configuration, and where personal
//! data may live. Every test uses a real database of its own.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use central::model::{
    CitizenId, CodeStatus, HeartbeatRecord, IssueInput, KioskRecord, NewCode, Role, SessionRecord,
    VerificationLogEntry,
};
use central::store::{IssueError, Issued, Store, StoreError};
use common::backend::{Raw, TestData, data_dir};
use common::issuing::{
    NOW, TODAY, add_citizen, citizen, id_number, input, input_on, request, sign_on,
};
use protocol::api::{
    Action, CodeId, Color, DeviceKind, DeviceReport, DeviceState, HeartbeatRequest, JournalEvent,
    JournalKind, KioskConfig, PaperState, PrintFailure, ServiceHours, StaffEntry, VerifyResult,
};
use protocol::rules::ActionRefused;
use protocol::{Eligibility, IneligibleReason};
use tempfile::TempDir;
use time::macros::{date, datetime, time};
use time::{Duration, OffsetDateTime, Weekday};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A database of the backend under test, and direct access to it.
struct Db {
    test_data: TestData,
    raw: Raw,
    _dir: TempDir,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let raw = Raw::new(&test_data);
    Db {
        test_data,
        raw,
        _dir: dir,
    }
}

/// Opens a store on the database (another instance, each time).
fn open(db: &Db) -> Arc<dyn Store> {
    db.test_data.data.store().unwrap()
}

/// The code a session identified now would be shown (active or lost), as the service records it.
fn shown(store: &dyn Store, person: CitizenId) -> Option<CodeId> {
    store
        .current_code(person)
        .unwrap()
        .filter(|code| code.status != CodeStatus::Superseded)
        .map(|code| code.code_id)
}

/// `input` for a reissue in a session identified just now: it names the current code.
fn reissue_now(store: &dyn Store, input: &IssueInput) -> IssueInput {
    let mut input = input.clone();
    if input.action == Action::Reissue && input.shown_code.is_none() {
        input.shown_code = shown(store, input.citizen);
    }
    input
}

fn issue(store: &dyn Store, input: &IssueInput) -> Result<Issued, IssueError> {
    let input = reissue_now(store, input);
    store.issue(&input, &Eligibility::Eligible, &mut sign_on(input.today))
}

fn issue_new(store: &dyn Store, input: &IssueInput) -> central::model::CodeRecord {
    match issue(store, input).unwrap() {
        Issued::New(code) => code,
        Issued::Replayed(code) => panic!("expected a new code, got a replay of {:?}", code.code_id),
    }
}

fn count(db: &Db, sql: &str) -> i64 {
    db.raw.count(sql, &[])
}

fn hash(byte: u8) -> [u8; 32] {
    [byte; 32]
}

fn kiosk(id: &str, fingerprint: u8) -> KioskRecord {
    KioskRecord {
        kiosk_id: id.into(),
        name: format!("{id} 徐汇区行政服务中心"),
        address: "漕溪北路 336 号".into(),
        hours: "周一至周五 09:00-17:00".into(),
        cert_fingerprint: hash(fingerprint),
    }
}

fn heartbeat(paper: PaperState, sent_at: OffsetDateTime) -> HeartbeatRequest {
    HeartbeatRequest {
        kiosk_version: "0.1.0".into(),
        sent_at,
        devices: vec![DeviceReport {
            device: DeviceKind::Printer,
            state: DeviceState::Degraded,
            last_error: Some("paper near end".into()),
        }],
        paper,
        journal_backlog: 3,
        in_service: true,
        out_of_service_reason: None,
        help_requested_at: None,
    }
}

fn journal_event(kind: JournalKind, detail: &[(&str, &str)]) -> JournalEvent {
    JournalEvent {
        id: Uuid::new_v4(),
        at: NOW,
        kind,
        detail: detail
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

// ---------------------------------------------------------------------------------------------
// Opening and migrations
// ---------------------------------------------------------------------------------------------

fn migrations(db: &Db) -> Vec<Vec<Option<String>>> {
    db.raw.rows(
        "SELECT CAST(version AS TEXT), applied_at FROM schema_migrations ORDER BY version",
        &[],
    )
}

#[test]
fn migrations_run_once_and_reopening_is_a_no_op() {
    let db = db();
    let store = open(&db);
    let health = store.health().unwrap();
    assert!(health.is_current(), "{health:?}");
    assert_eq!(health.backend, db.test_data.data.backend());
    drop(store);
    let first = migrations(&db);
    assert_eq!(
        first.len(),
        usize::try_from(health.expected_schema_version).unwrap()
    );
    assert_eq!(
        first.last().unwrap()[0],
        Some(health.expected_schema_version.to_string())
    );

    let store = open(&db);
    let id = add_citizen(&*store, "001", "张三");
    drop(store);
    let store = open(&db);
    assert!(
        store.citizen(id).unwrap().is_some(),
        "data survives a reopen"
    );
    assert_eq!(first, migrations(&db), "reopening applies nothing");
}

#[test]
fn the_database_enforces_foreign_keys() {
    let db = db();
    let store = open(&db);
    // A session for a citizen who does not exist is refused by the foreign key.
    let session = SessionRecord {
        citizen: 4242,
        kiosk_id: "K001".into(),
        shown_code: None,
        expires_at: NOW,
    };
    assert!(matches!(
        store.create_session(&hash(1), &session),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn a_newer_schema_version_is_refused() {
    let db = db();
    let expected = open(&db).health().unwrap().expected_schema_version;
    let newer = (expected + 1).to_string();
    db.raw.execute(
        &format!(
            "INSERT INTO schema_migrations (version, name, applied_at) \
             VALUES ({newer}, 'future', 'x')"
        ),
        &[],
    );
    match db.test_data.data.store() {
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                message.contains(&format!("schema version {newer}")),
                "{message}"
            );
        }
        Ok(store) => panic!("expected a refusal, got a store on {}", store.backend()),
    }
}

// ---------------------------------------------------------------------------------------------
// Citizens
// ---------------------------------------------------------------------------------------------

#[test]
fn citizens_are_inserted_updated_and_found() {
    let db = db();
    let store = open(&db);
    let number = id_number("19550607", "123");
    let mut new = citizen(number.clone(), "李四");
    let id = store.upsert_citizen(&new).unwrap();

    let found = store.citizen_by_id_number(&number).unwrap().unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.id_number, number);
    assert_eq!(found.name, "李四");
    assert_eq!(found.photo, new.photo);
    assert_eq!(found.color, Color::Green);
    assert!(found.realname_verified);
    assert_eq!(store.citizen(id).unwrap(), Some(found));

    new.name = "李四光".into();
    new.photo = None;
    new.color = Color::Yellow;
    new.realname_verified = false;
    assert_eq!(
        store.upsert_citizen(&new).unwrap(),
        id,
        "same ID number, same row"
    );
    let updated = store.citizen(id).unwrap().unwrap();
    assert_eq!(updated.name, "李四光");
    assert_eq!(updated.photo, None);
    assert_eq!(updated.color, Color::Yellow);
    assert!(!updated.realname_verified);

    store.set_color(&number, Color::Red).unwrap();
    assert_eq!(store.citizen(id).unwrap().unwrap().color, Color::Red);

    let stranger = id_number("19400101", "999");
    assert!(store.citizen_by_id_number(&stranger).unwrap().is_none());
    assert!(store.citizen(id + 1000).unwrap().is_none());
    assert!(matches!(
        store.set_color(&stranger, Color::Green),
        Err(StoreError::NotFound)
    ));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM citizens"), 1);
}

#[test]
fn a_corrupt_row_is_a_database_error_that_quotes_nothing() {
    let db = db();
    let store = open(&db);
    let id = add_citizen(&*store, "002", "王五");
    let secret = "GARBAGE-NUMBER-42";
    db.raw.execute(
        &format!("UPDATE citizens SET id_number = $1 WHERE id = {id}"),
        &[secret],
    );
    match store.citizen(id) {
        Err(StoreError::Database(message)) => {
            assert!(!message.contains(secret), "{message}");
            assert!(!message.contains("王五"), "{message}");
        }
        other => panic!("expected a database error, got {other:?}"),
    }

    let other = add_citizen(&*store, "003", "赵六");
    let code = issue_new(&*store, &input(other, Action::Apply, request()));
    db.raw.execute(
        "UPDATE codes SET issued_on = 'someday' WHERE code_id = $1",
        &[&code.code_id.to_string()],
    );
    match store.code(&code.code_id) {
        Err(StoreError::Database(message)) => assert!(!message.contains("someday"), "{message}"),
        other => panic!("expected a database error, got {other:?}"),
    }
    assert!(matches!(
        store.current_code(other),
        Err(StoreError::Database(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// The life of a code
// ---------------------------------------------------------------------------------------------

#[test]
fn the_full_life_of_a_code() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "011", "孙七");
    assert_eq!(store.current_code(person).unwrap(), None);
    assert_eq!(store.max_serial(person).unwrap(), 0);

    // Apply.
    let r1 = request();
    let first = issue_new(&*store, &input(person, Action::Apply, r1));
    assert_eq!(first.serial, 1);
    assert_eq!(first.status, CodeStatus::Active);
    assert_eq!(first.citizen, person);
    assert_eq!(first.request_id, r1);
    assert_eq!(first.action, Action::Apply);
    assert_eq!(first.kiosk_id, "K001");
    assert_eq!(first.created_at, NOW);
    assert_eq!(first.issued_on, TODAY);
    assert_eq!(first.expires_on, TODAY + Duration::days(179));
    assert_eq!(first.qr_text, "SSM1:TEST-1");
    assert_eq!(first.ended_at, None);
    assert_eq!(first.printed_at, None);
    assert_eq!(store.current_code(person).unwrap().as_ref(), Some(&first));
    assert_eq!(store.code(&first.code_id).unwrap().as_ref(), Some(&first));

    // The same request id returns the same code, without signing.
    let mut never = |_serial: u16| -> Result<NewCode, String> { panic!("a replay signs nothing") };
    match store
        .issue(
            &input(person, Action::Apply, r1),
            &Eligibility::Eligible,
            &mut never,
        )
        .unwrap()
    {
        Issued::Replayed(code) => assert_eq!(code, first),
        Issued::New(_) => panic!("expected a replay"),
    }
    // ... but not for another action.
    assert!(matches!(
        issue(&*store, &input(person, Action::Reissue, r1)),
        Err(IssueError::RequestIdReused)
    ));

    // Apply again: refused.
    assert!(matches!(
        issue(&*store, &input(person, Action::Apply, request())),
        Err(IssueError::Refused(ActionRefused::ActiveCode))
    ));

    // Printed, then a print failure reported later: both kept; printed keeps the first time.
    let printed_at = datetime!(2025-03-14 09:27:10 +08:00);
    store.mark_printed(&first.code_id, printed_at).unwrap();
    store
        .mark_printed(&first.code_id, printed_at + Duration::minutes(5))
        .unwrap();
    store
        .mark_print_failed(&first.code_id, printed_at, PrintFailure::PaperOut)
        .unwrap();
    store
        .mark_print_failed(
            &first.code_id,
            printed_at + Duration::seconds(1),
            PrintFailure::CoverOpen,
        )
        .unwrap();
    let marked = store.code(&first.code_id).unwrap().unwrap();
    assert_eq!(marked.printed_at, Some(printed_at));
    assert_eq!(
        marked.print_failure,
        Some((printed_at + Duration::seconds(1), PrintFailure::CoverOpen))
    );
    let unknown = CodeId::from_bytes([7; 16]);
    assert!(matches!(
        store.mark_printed(&unknown, printed_at),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.mark_print_failed(&unknown, printed_at, PrintFailure::Other),
        Err(StoreError::NotFound)
    ));

    // Reissue: serial 2, the first superseded at once.
    let later = NOW + Duration::days(3);
    let second = issue_new(
        &*store,
        &input_on(
            person,
            Action::Reissue,
            request(),
            TODAY + Duration::days(3),
            later,
        ),
    );
    assert_eq!(second.serial, 2);
    assert_eq!(second.action, Action::Reissue);
    let old = store.code(&first.code_id).unwrap().unwrap();
    assert_eq!(old.status, CodeStatus::Superseded);
    assert_eq!(old.ended_at, Some(later));
    assert_eq!(store.current_code(person).unwrap().as_ref(), Some(&second));
    assert_eq!(store.max_serial(person).unwrap(), 2);

    // Report lost.
    let lost_at = datetime!(2025-03-20 23:30 +08:00);
    let lost = store.report_lost(person, lost_at).unwrap();
    assert_eq!(lost.code_id, second.code_id);
    assert_eq!(lost.status, CodeStatus::Lost);
    assert_eq!(lost.ended_at, Some(lost_at));
    assert_eq!(store.current_code(person).unwrap().as_ref(), Some(&lost));
    assert!(matches!(
        store.report_lost(person, lost_at),
        Err(StoreError::NotFound)
    ));

    // Apply while lost: refused.
    assert!(matches!(
        issue(
            &*store,
            &input_on(
                person,
                Action::Apply,
                request(),
                date!(2025 - 03 - 21),
                lost_at
            )
        ),
        Err(IssueError::Refused(ActionRefused::LostCode))
    ));

    // Reissue after the loss: serial 3; the lost code superseded.
    let after_loss = datetime!(2025-03-21 10:00 +08:00);
    let third = issue_new(
        &*store,
        &input_on(
            person,
            Action::Reissue,
            request(),
            date!(2025 - 03 - 21),
            after_loss,
        ),
    );
    assert_eq!(third.serial, 3);
    let lost_then = store.code(&second.code_id).unwrap().unwrap();
    assert_eq!(lost_then.status, CodeStatus::Superseded);
    assert_eq!(lost_then.ended_at, Some(after_loss));
    assert_eq!(store.current_code(person).unwrap().as_ref(), Some(&third));

    // The third code expires: reissue refused, apply allowed (serial 4), the expired code
    // superseded so that one code is active.
    let past = third.expires_on + Duration::days(1);
    let past_now = datetime!(2025-09-30 08:00 +08:00);
    assert!(past_now.date() >= past);
    assert!(matches!(
        issue(
            &*store,
            &input_on(person, Action::Reissue, request(), past, past_now)
        ),
        Err(IssueError::Refused(ActionRefused::NoCode))
    ));
    // On its last valid day it is still active.
    assert!(matches!(
        issue(
            &*store,
            &input_on(person, Action::Apply, request(), third.expires_on, past_now)
        ),
        Err(IssueError::Refused(ActionRefused::ActiveCode))
    ));
    let fourth = issue_new(
        &*store,
        &input_on(person, Action::Apply, request(), past, past_now),
    );
    assert_eq!(fourth.serial, 4);
    assert_eq!(fourth.issued_on, past);
    let expired = store.code(&third.code_id).unwrap().unwrap();
    assert_eq!(expired.status, CodeStatus::Superseded);
    assert_eq!(expired.ended_at, Some(past_now));

    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM codes WHERE status = 'active'"),
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM codes"), 4);
}

#[test]
fn reporting_lost_without_an_active_code_is_not_found() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "012", "周八");
    assert!(matches!(
        store.report_lost(person, NOW),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.report_lost(9999, NOW),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn a_request_id_reused_for_another_person_is_refused() {
    let db = db();
    let store = open(&db);
    let a = add_citizen(&*store, "021", "吴九");
    let b = add_citizen(&*store, "022", "郑十");
    let r = request();
    issue_new(&*store, &input(a, Action::Apply, r));
    assert!(matches!(
        issue(&*store, &input(b, Action::Apply, r)),
        Err(IssueError::RequestIdReused)
    ));
    assert_eq!(store.current_code(b).unwrap(), None);
}

#[test]
fn a_failing_signature_leaves_nothing_behind() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "031", "冯十一");
    let mut failing = |_serial: u16| -> Result<NewCode, String> { Err("the key is gone".into()) };

    let r = request();
    match store.issue(
        &input(person, Action::Apply, r),
        &Eligibility::Eligible,
        &mut failing,
    ) {
        Err(IssueError::Sign(message)) => assert_eq!(message, "the key is gone"),
        other => panic!("expected a signing failure, got {other:?}"),
    }
    assert_eq!(store.current_code(person).unwrap(), None);
    assert_eq!(store.max_serial(person).unwrap(), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM codes"), 0);

    // With a code in place, a failed reissue leaves it active and unchanged.
    let first = issue_new(&*store, &input(person, Action::Apply, request()));
    assert!(matches!(
        store.issue(
            &reissue_now(&*store, &input(person, Action::Reissue, request())),
            &Eligibility::Eligible,
            &mut failing
        ),
        Err(IssueError::Sign(_))
    ));
    assert_eq!(store.current_code(person).unwrap(), Some(first.clone()));
    assert_eq!(store.code(&first.code_id).unwrap(), Some(first));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM codes"), 1);

    // The request id of the failed attempt is still free.
    assert!(matches!(
        issue(&*store, &input(person, Action::Reissue, r)),
        Ok(Issued::New(code)) if code.serial == 2
    ));
}

#[test]
fn an_ineligible_person_is_refused_and_nothing_is_signed() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "041", "陈十二");
    let mut never = |_serial: u16| -> Result<NewCode, String> { panic!("nothing to sign") };
    for reason in [
        IneligibleReason::NoPhoto,
        IneligibleReason::NotRealNameVerified,
        IneligibleReason::UnderAge {
            eligible_from: date!(2031 - 05 - 01),
        },
    ] {
        for action in [Action::Apply, Action::Reissue] {
            match store.issue(
                &input(person, action, request()),
                &Eligibility::NotEligible(reason),
                &mut never,
            ) {
                Err(IssueError::Refused(ActionRefused::NotEligible(r))) => assert_eq!(r, reason),
                other => panic!("expected not eligible, got {other:?}"),
            }
        }
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM codes"), 0);
}

#[test]
fn issuing_for_an_unknown_citizen_is_not_found() {
    let db = db();
    let store = open(&db);
    assert!(matches!(
        issue(&*store, &input(777, Action::Apply, request())),
        Err(IssueError::Store(StoreError::NotFound))
    ));
}

#[test]
fn an_exhausted_serial_is_a_database_error() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "051", "褚十三");
    let code = issue_new(&*store, &input(person, Action::Apply, request()));
    db.raw.execute(
        "UPDATE codes SET serial = 65535 WHERE code_id = $1",
        &[&code.code_id.to_string()],
    );
    assert!(matches!(
        issue(&*store, &input(person, Action::Reissue, request())),
        Err(IssueError::Store(StoreError::Database(_)))
    ));
    assert_eq!(
        store.code(&code.code_id).unwrap().unwrap().status,
        CodeStatus::Active
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

const THREADS: usize = 8;

/// Runs `THREADS` reissues for one person at once, thread `i` on `stores[i % stores.len()]`,
/// each in a session shown the same code: exactly one makes a new code, every other one is
/// refused with `CodeChanged`, and one code is active.
fn concurrent_reissues(db: &Db, stores: &[Arc<dyn Store>]) {
    let person = add_citizen(&*stores[0], "061", "卫十四");
    let first = issue_new(&*stores[0], &input(person, Action::Apply, request()));

    let barrier = Barrier::new(THREADS);
    let results: Vec<Result<Issued, IssueError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let store = &stores[i % stores.len()];
                let barrier = &barrier;
                let input = IssueInput {
                    shown_code: Some(first.code_id),
                    ..input(person, Action::Reissue, request())
                };
                scope.spawn(move || {
                    barrier.wait();
                    store.issue(&input, &Eligibility::Eligible, &mut sign_on(TODAY))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let (mut new, mut refused) = (Vec::new(), 0);
    for result in results {
        match result {
            Ok(Issued::New(code)) => new.push(code),
            Err(IssueError::Refused(ActionRefused::CodeChanged)) => refused += 1,
            other => panic!("expected a new code or a refusal, got {other:?}"),
        }
    }
    assert_eq!(new.len(), 1, "exactly one reissue wins");
    assert_eq!(refused, THREADS - 1);
    assert_eq!(new[0].serial, 2);

    let active = db.raw.count(
        &format!("SELECT COUNT(*) FROM codes WHERE citizen_id = {person} AND status = 'active'"),
        &[],
    );
    assert_eq!(active, 1);
    let total = db.raw.count(
        &format!("SELECT COUNT(*) FROM codes WHERE citizen_id = {person}"),
        &[],
    );
    assert_eq!(total, 2, "the first code and the one reissue");
    let current = stores[0].current_code(person).unwrap().unwrap();
    assert_eq!(current.status, CodeStatus::Active);
    assert_eq!(current.code_id, new[0].code_id);
    assert_eq!(
        stores[0].code(&first.code_id).unwrap().unwrap().status,
        CodeStatus::Superseded
    );
}

/// Runs `THREADS` applies for one person with no code at once: exactly one wins.
fn concurrent_applies(db: &Db, stores: &[Arc<dyn Store>]) {
    let person = add_citizen(&*stores[0], "062", "蒋十五");
    let barrier = Barrier::new(THREADS);
    let results: Vec<Result<Issued, IssueError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let store = &stores[i % stores.len()];
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    issue(store.as_ref(), &input(person, Action::Apply, request()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(Issued::New(_))))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(IssueError::Refused(ActionRefused::ActiveCode))))
        .count();
    assert_eq!((won, refused), (1, THREADS - 1), "{results:?}");
    assert_eq!(
        count(
            db,
            &format!("SELECT COUNT(*) FROM codes WHERE citizen_id = {person}")
        ),
        1
    );
}

#[test]
fn concurrent_issues_on_one_store_leave_one_active_code() {
    let db = db();
    let stores = [open(&db)];
    concurrent_reissues(&db, &stores);
    concurrent_applies(&db, &stores);
}

#[test]
fn concurrent_issues_on_two_stores_over_one_database_leave_one_active_code() {
    let db = db();
    let stores = [open(&db), open(&db)];
    concurrent_reissues(&db, &stores);
    concurrent_applies(&db, &stores);
}

#[test]
fn concurrent_replays_of_one_request_id_return_one_code() {
    let db = db();
    let stores = [open(&db), open(&db)];
    let person = add_citizen(&*stores[0], "063", "沈十六");
    let r = request();
    let barrier = Barrier::new(THREADS);
    let codes: Vec<Issued> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let store = &stores[i % 2];
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    issue(store.as_ref(), &input(person, Action::Apply, r)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        codes.iter().filter(|c| matches!(c, Issued::New(_))).count(),
        1
    );
    let ids: BTreeSet<CodeId> = codes.iter().map(|c| c.code().code_id).collect();
    assert_eq!(ids.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Sessions, principals, kiosks, heartbeats
// ---------------------------------------------------------------------------------------------

#[test]
fn sessions_are_created_read_and_purged() {
    let db = db();
    let store = open(&db);
    let person = add_citizen(&*store, "071", "韩十七");
    let early = SessionRecord {
        citizen: person,
        kiosk_id: "K001".into(),
        shown_code: None,
        expires_at: datetime!(2025-03-14 09:30 +08:00),
    };
    let late = SessionRecord {
        expires_at: datetime!(2025-03-14 09:40:00.5 +08:00),
        ..early.clone()
    };
    store.create_session(&hash(1), &early).unwrap();
    store.create_session(&hash(2), &late).unwrap();
    assert!(matches!(
        store.create_session(&hash(1), &late),
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(store.session(&hash(1)).unwrap(), Some(early.clone()));
    assert_eq!(store.session(&hash(2)).unwrap(), Some(late.clone()));
    assert_eq!(store.session(&hash(3)).unwrap(), None);

    // Expired but not purged: still returned (the caller checks the time).
    assert_eq!(
        store.purge_sessions(early.expires_at).unwrap(),
        0,
        "not before now"
    );
    // Comparison is by instant, whatever the offset.
    let now = datetime!(2025-03-14 01:35 UTC);
    assert_eq!(store.purge_sessions(now).unwrap(), 1);
    assert_eq!(store.session(&hash(1)).unwrap(), None);
    assert_eq!(store.session(&hash(2)).unwrap(), Some(late.clone()));
    assert_eq!(
        store
            .purge_sessions(late.expires_at + Duration::nanoseconds(1))
            .unwrap(),
        1
    );
    assert_eq!(store.session(&hash(2)).unwrap(), None);
}

#[test]
fn principals_are_found_by_token_hash() {
    let db = db();
    let store = open(&db);
    let verifier = store
        .add_principal(Role::Verifier, "检查员甲", "徐汇区卫健委", &hash(10))
        .unwrap();
    let portal = store
        .add_principal(Role::Portal, "一网通办", "市大数据中心", &hash(11))
        .unwrap();
    assert_ne!(verifier, portal);
    let found = store.principal(&hash(10)).unwrap().unwrap();
    assert_eq!(found.id, verifier);
    assert_eq!(found.role, Role::Verifier);
    assert_eq!(found.name, "检查员甲");
    assert_eq!(found.org, "徐汇区卫健委");
    assert_eq!(
        store.principal(&hash(11)).unwrap().unwrap().role,
        Role::Portal
    );
    assert_eq!(store.principal(&hash(12)).unwrap(), None);
    assert!(matches!(
        store.add_principal(Role::Operator, "x", "y", &hash(10)),
        Err(StoreError::Duplicate(_))
    ));
}

#[test]
fn kiosks_are_upserted_and_fingerprints_are_unique() {
    let db = db();
    let store = open(&db);
    store.upsert_kiosk(&kiosk("K002", 2)).unwrap();
    store.upsert_kiosk(&kiosk("K001", 1)).unwrap();
    assert_eq!(
        store.kiosk_by_fingerprint(&hash(1)).unwrap(),
        Some(kiosk("K001", 1))
    );
    assert_eq!(store.kiosk_by_fingerprint(&hash(9)).unwrap(), None);

    // Another kiosk may not take K002's certificate.
    match store.upsert_kiosk(&kiosk("K003", 2)) {
        Err(StoreError::Duplicate(_)) => {}
        other => panic!("expected a duplicate, got {other:?}"),
    }
    match store.upsert_kiosk(&kiosk("K001", 2)) {
        Err(StoreError::Duplicate(_)) => {}
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(
        store.kiosk_by_fingerprint(&hash(1)).unwrap(),
        Some(kiosk("K001", 1))
    );

    // Re-provisioning replaces details and certificate.
    let mut moved = kiosk("K001", 5);
    moved.name = "长宁区行政服务中心".into();
    moved.address = "愚园路 1320 号".into();
    moved.hours = "每天 08:30-20:00".into();
    store.upsert_kiosk(&moved).unwrap();
    store.upsert_kiosk(&moved).unwrap();
    assert_eq!(store.kiosk_by_fingerprint(&hash(1)).unwrap(), None);
    assert_eq!(
        store.kiosk_by_fingerprint(&hash(5)).unwrap(),
        Some(moved.clone())
    );

    let all: Vec<KioskRecord> = store
        .kiosks()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(all, vec![moved, kiosk("K002", 2)]);
    assert!(
        matches!(store.upsert_kiosk(&kiosk("K003", 1)), Ok(())),
        "a released fingerprint can be reused"
    );
}

#[test]
fn heartbeats_keep_the_latest_per_kiosk() {
    let db = db();
    let store = open(&db);
    store.upsert_kiosk(&kiosk("K001", 1)).unwrap();
    store.upsert_kiosk(&kiosk("K002", 2)).unwrap();

    let first = HeartbeatRecord {
        received_at: datetime!(2025-03-14 09:00 +08:00),
        report: heartbeat(PaperState::Ok, datetime!(2025-03-14 08:59:59 +08:00)),
    };
    let second = HeartbeatRecord {
        received_at: datetime!(2025-03-14 09:01 +08:00),
        report: HeartbeatRequest {
            help_requested_at: Some(datetime!(2025-03-14 09:00:30 +08:00)),
            in_service: false,
            out_of_service_reason: Some("更换纸卷".into()),
            ..heartbeat(PaperState::Out, datetime!(2025-03-14 09:00:59 +08:00))
        },
    };
    store.record_heartbeat("K001", &first).unwrap();
    store.record_heartbeat("K001", &second).unwrap();
    assert!(matches!(
        store.record_heartbeat("K404", &first),
        Err(StoreError::NotFound)
    ));

    let listed = store.kiosks().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].0.kiosk_id, "K001");
    assert_eq!(listed[0].1.as_ref(), Some(&second));
    assert!(!listed[0].1.as_ref().unwrap().has_paper());
    assert_eq!(listed[1].0.kiosk_id, "K002");
    assert_eq!(listed[1].1, None);
}

// ---------------------------------------------------------------------------------------------
// Journal, verification log, settings
// ---------------------------------------------------------------------------------------------

#[test]
fn journal_batches_are_idempotent_per_event() {
    let db = db();
    let store = open(&db);
    let batch: Vec<JournalEvent> = vec![
        journal_event(JournalKind::SessionStarted, &[("session", "s-1")]),
        journal_event(
            JournalKind::IssueRequested,
            &[("request_id", "r-1"), ("session", "s-1")],
        ),
        journal_event(JournalKind::Printed, &[]),
    ];
    assert_eq!(store.append_journal("K001", &batch).unwrap(), (3, 0));
    assert_eq!(store.append_journal("K001", &batch).unwrap(), (0, 3));

    // A batch overlapping the last one, with a duplicate inside itself.
    let fresh = journal_event(JournalKind::SessionEnded, &[("reason", "done")]);
    let mixed = vec![batch[2].clone(), fresh.clone(), fresh.clone()];
    assert_eq!(store.append_journal("K001", &mixed).unwrap(), (1, 2));
    assert_eq!(store.append_journal("K001", &[]).unwrap(), (0, 0));

    // Another kiosk's events are its own, even with a colliding id.
    assert_eq!(store.append_journal("K002", &batch[..1]).unwrap(), (1, 0));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM journal"), 5);

    // Stored as given.
    let row = db.raw.rows(
        "SELECT kind, detail_json, at FROM journal WHERE kiosk_id = 'K001' AND event_id = $1",
        &[&batch[1].id.to_string()],
    );
    let [kind, detail, at] = [0, 1, 2].map(|i| row[0][i].clone().unwrap());
    assert_eq!(kind, "issue_requested");
    assert_eq!(
        serde_json::from_str::<BTreeMap<String, String>>(&detail).unwrap(),
        batch[1].detail
    );
    assert_eq!(at, "2025-03-14T01:26:53.250000000Z");
}

#[test]
fn verifications_are_logged_without_personal_data() {
    let db = db();
    let store = open(&db);
    let verifier = store
        .add_principal(Role::Verifier, "检查员乙", "静安区", &hash(20))
        .unwrap();
    let code = CodeId::from_bytes([0xab; 16]);
    store
        .log_verification(&VerificationLogEntry {
            verifier,
            at: NOW,
            code_id: Some(code),
            result: VerifyResult::Valid,
        })
        .unwrap();
    store
        .log_verification(&VerificationLogEntry {
            verifier,
            at: NOW + Duration::seconds(2),
            code_id: None,
            result: VerifyResult::Forged,
        })
        .unwrap();
    assert!(matches!(
        store.log_verification(&VerificationLogEntry {
            verifier: verifier + 100,
            at: NOW,
            code_id: None,
            result: VerifyResult::Unknown,
        }),
        Err(StoreError::NotFound)
    ));

    let rows = db.raw.rows(
        "SELECT CAST(verifier_id AS TEXT), at, code_id, result FROM verification_log ORDER BY id",
        &[],
    );
    let verifier_text = Some(verifier.to_string());
    assert_eq!(
        rows,
        vec![
            vec![
                verifier_text.clone(),
                Some("2025-03-14T01:26:53.250000000Z".into()),
                Some(code.to_string()),
                Some("valid".into())
            ],
            vec![
                verifier_text,
                Some("2025-03-14T01:26:55.250000000Z".into()),
                None,
                Some("forged".into())
            ],
        ]
    );
    let columns = db.raw.columns("verification_log");
    assert_eq!(columns, ["id", "verifier_id", "at", "code_id", "result"]);
}

#[test]
fn kiosk_config_has_a_default_and_a_version_that_counts_changes() {
    let db = db();
    let store = open(&db);
    let default = store.kiosk_config().unwrap();
    assert_eq!(
        default,
        KioskConfig {
            version: 0,
            notice: None,
            service_hours: vec![],
            staff: vec![],
            idle_timeout_seconds: 60,
        }
    );

    let config = KioskConfig {
        version: 77, // ignored: the store numbers versions
        notice: Some("3月15日系统维护，暂停服务".into()),
        service_hours: vec![ServiceHours {
            weekday: Weekday::Monday,
            opens: time!(09:00),
            closes: time!(17:00),
        }],
        staff: vec![StaffEntry {
            salt_hex: "cd".repeat(16),
            id_hash_hex: "ab".repeat(32),
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            name_masked: "张*".into(),
        }],
        idle_timeout_seconds: 90,
    };
    assert_eq!(store.set_kiosk_config(&config).unwrap(), 1);
    assert_eq!(
        store.kiosk_config().unwrap(),
        KioskConfig {
            version: 1,
            ..config.clone()
        }
    );
    assert_eq!(store.set_kiosk_config(&default).unwrap(), 2);
    assert_eq!(
        store.kiosk_config().unwrap(),
        KioskConfig {
            version: 2,
            ..default
        }
    );
    // Survives a reopen.
    drop(store);
    assert_eq!(open(&db).kiosk_config().unwrap().version, 2);
}

// ---------------------------------------------------------------------------------------------
// Personal data
// ---------------------------------------------------------------------------------------------

#[test]
fn no_table_but_citizens_holds_an_id_number_or_a_name() {
    let db = db();
    let store = open(&db);
    let name = "欧阳娜娜";
    let number = id_number("19451010", "246");
    let person = store
        .upsert_citizen(&citizen(number.clone(), name))
        .unwrap();

    // A full journey, touching every table.
    store.upsert_kiosk(&kiosk("K001", 1)).unwrap();
    store
        .record_heartbeat(
            "K001",
            &HeartbeatRecord {
                received_at: NOW,
                report: heartbeat(PaperState::NearEnd, NOW),
            },
        )
        .unwrap();
    store
        .create_session(
            &hash(3),
            &SessionRecord {
                citizen: person,
                kiosk_id: "K001".into(),
                shown_code: None,
                expires_at: NOW + Duration::minutes(5),
            },
        )
        .unwrap();
    let first = issue_new(&*store, &input(person, Action::Apply, request()));
    store.mark_printed(&first.code_id, NOW).unwrap();
    let verifier = store
        .add_principal(Role::Verifier, "检查员丙", "黄浦区", &hash(30))
        .unwrap();
    store
        .log_verification(&VerificationLogEntry {
            verifier,
            at: NOW,
            code_id: Some(first.code_id),
            result: VerifyResult::Valid,
        })
        .unwrap();
    store.report_lost(person, NOW + Duration::hours(1)).unwrap();
    let second = issue_new(
        &*store,
        &input_on(
            person,
            Action::Reissue,
            request(),
            TODAY,
            NOW + Duration::hours(2),
        ),
    );
    store
        .mark_print_failed(&second.code_id, NOW, PrintFailure::PaperOut)
        .unwrap();
    store
        .append_journal(
            "K001",
            &[
                journal_event(JournalKind::Identified, &[("id_masked", &number.masked())]),
                journal_event(
                    JournalKind::CodeIssued,
                    &[("code_id", &second.code_id.to_string())],
                ),
            ],
        )
        .unwrap();
    store.set_color(&number, Color::Yellow).unwrap();
    store
        .set_kiosk_config(&store.kiosk_config().unwrap())
        .unwrap();

    let tables = db.raw.tables();
    for expected in [
        "citizens",
        "codes",
        "heartbeats",
        "journal",
        "kiosks",
        "principals",
        "schema_migrations",
        "sessions",
        "settings",
        "verification_log",
    ] {
        assert!(tables.iter().any(|t| t == expected), "no table {expected}");
    }

    let mut checked = 0;
    for table in tables.iter().filter(|t| *t != "citizens") {
        let columns = db.raw.columns(table);
        assert!(!columns.is_empty(), "{table}");
        for column in &columns {
            let hits = |needle: &str| db.raw.hits(table, column, needle);
            assert_eq!(
                hits(number.as_str()),
                0,
                "the ID number is in {table}.{column}"
            );
            assert_eq!(hits(name), 0, "the name is in {table}.{column}");
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} columns checked");

    // The check itself finds what is there.
    assert_eq!(db.raw.hits("citizens", "id_number", number.as_str()), 1);
    assert_eq!(db.raw.hits("citizens", "name", name), 1);
}
