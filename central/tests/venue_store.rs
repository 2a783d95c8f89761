//! Venue storage on the backend under test (SQLite, or PostgreSQL with
//! `CENTRAL_TEST_BACKEND=postgres`): migration 2 on a database written by the previous release,
//! the venue state machine, one live registration per credit code, one current poster per venue,
//! the checks of `record_entry`, the retention boundary of the clean-up, and the `purge-entries`
//! subcommand.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::sync::Arc;

use central::model::{NewCitizen, Role};
use central::store::{Store, StoreError};
use central::venues::{
    Decision, EntryRefused, EntryVia, NewEntry, VenueApplication, VenueStatus,
    purge_expired_entries,
};
use common::backend::{Backend, Raw, TestData, backend, data_dir};
use protocol::api::Color;
use protocol::venue::VenueId;
use protocol::{IdNumber, Uscc};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 +8);
const USCC: &str = "91310101MA1FL2X0PL";

fn application(name: &str) -> VenueApplication {
    VenueApplication {
        name: name.into(),
        uscc: Uscc::parse(USCC).unwrap(),
        address: "上海市黄浦区示例路 100 号".into(),
        contact_name: "李联系".into(),
        contact_phone: "13800138000".into(),
    }
}

fn sign(serial: u16) -> Result<(u8, String), String> {
    Ok((1, format!("SSMV1:TEST{serial}")))
}

struct Db {
    store: Arc<dyn Store>,
    test_data: TestData,
    _dir: tempfile::TempDir,
    operator: i64,
    citizen: i64,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let store = test_data.data.store().unwrap();
    let operator = store
        .add_principal(Role::Operator, "值班运维", "示例单位", &[1; 32])
        .unwrap();
    let citizen = store
        .upsert_citizen(&NewCitizen {
            id_number: IdNumber::parse("310101195003150029").unwrap(),
            name: "王秀英".into(),
            photo: None,
            color: Color::Green,
            realname_verified: true,
        })
        .unwrap();
    Db {
        store,
        test_data,
        _dir: dir,
        operator,
        citizen,
    }
}

fn entry(db: &Db, venue: i64, at: OffsetDateTime, via: EntryVia) -> Result<i64, EntryRefused> {
    db.store
        .record_entry(&NewEntry {
            venue,
            at,
            citizen: db.citizen,
            color: Color::Green,
            via,
        })
        .unwrap()
}

#[test]
fn migration_2_keeps_a_version_1_database_and_its_token_holders() {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    std::fs::create_dir_all(test_data.data.path()).unwrap();
    // A database as the previous release left it: schema version 1 and a verifier.
    let (initial, zero_hash) = match backend() {
        Backend::Sqlite => (
            include_str!("../migrations/sqlite/0001_initial.sql"),
            "zeroblob(32)",
        ),
        Backend::Postgres => (
            include_str!("../migrations/postgres/0001_initial.sql"),
            "decode(repeat('00', 32), 'hex')",
        ),
    };
    let raw = Raw::new(&test_data);
    let without_comments: String = initial
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .map(|line| format!("{line}\n"))
        .collect();
    for statement in without_comments.split(';').filter(|s| !s.trim().is_empty()) {
        raw.execute(statement, &[]);
    }
    raw.execute(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
             applied_at TEXT NOT NULL)",
        &[],
    );
    raw.execute(
        "INSERT INTO schema_migrations VALUES (1, 'initial', '2026-01-01T00:00:00.000000000Z')",
        &[],
    );
    raw.execute(
        &format!(
            "INSERT INTO principals (role, name, org, token_hash, created_at) \
             VALUES ('verifier', '赵核验', '示例单位', {zero_hash}, \
                     '2026-01-01T00:00:00.000000000Z')"
        ),
        &[],
    );
    let store = test_data.data.store().unwrap();
    assert!(
        store.health().unwrap().schema_version >= 2,
        "migrated past the venues version"
    );
    let verifier = store.principal(&[0; 32]).unwrap().unwrap();
    assert_eq!(verifier.name, "赵核验");
    assert_eq!(verifier.venue, None, "old tokens are bound to no venue");
    assert!(store.venues().unwrap().is_empty());
}

#[test]
fn venues_move_only_along_the_allowed_decisions() {
    let db = db();
    let key = VenueId([7; 8]);
    let id = db
        .store
        .apply_venue(&key, &application("上海市示例文化中心"), NOW)
        .unwrap();
    let venue = db.store.venue(id).unwrap().unwrap();
    assert_eq!(venue.status, VenueStatus::Pending);
    assert_eq!(db.store.venue_by_key(&key).unwrap().unwrap().id, id);
    // One live registration per credit code.
    assert!(matches!(
        db.store
            .apply_venue(&VenueId([8; 8]), &application("别名"), NOW),
        Err(StoreError::Duplicate(_))
    ));

    let by = db.operator;
    let suspend = Decision::Suspend { note: "x".into() };
    assert_eq!(db.store.decide_venue(id, &suspend, by, NOW).unwrap(), None);
    assert_eq!(
        db.store
            .decide_venue(id, &Decision::Reinstate, by, NOW)
            .unwrap(),
        None
    );
    let approve = Decision::Approve {
        token_hash: [9; 32],
    };
    let approved = db
        .store
        .decide_venue(id, &approve, by, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(approved.status, VenueStatus::Approved);
    assert_eq!(db.store.venue_by_token(&[9; 32]).unwrap().unwrap().id, id);
    assert_eq!(db.store.decide_venue(id, &approve, by, NOW).unwrap(), None);
    let reject = Decision::Reject { note: "x".into() };
    assert_eq!(db.store.decide_venue(id, &reject, by, NOW).unwrap(), None);
    let suspended = db
        .store
        .decide_venue(id, &suspend, by, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(suspended.status, VenueStatus::Suspended);
    assert_eq!(suspended.decision_note.as_deref(), Some("x"));
    assert!(
        db.store.venue_by_token(&[9; 32]).unwrap().is_some(),
        "a suspended organisation still signs in"
    );
    let back = db
        .store
        .decide_venue(id, &Decision::Reinstate, by, NOW)
        .unwrap()
        .unwrap();
    assert_eq!(back.status, VenueStatus::Approved);
    assert!(matches!(
        db.store.decide_venue(4242, &Decision::Reinstate, by, NOW),
        Err(StoreError::NotFound)
    ));

    // A rejected organisation may apply again with the same code.
    let other = db
        .store
        .apply_venue(
            &VenueId([3; 8]),
            &VenueApplication {
                uscc: Uscc::parse("91350100M000100Y43").unwrap(),
                ..application("另一家")
            },
            NOW,
        )
        .unwrap();
    db.store
        .decide_venue(other, &reject, by, NOW)
        .unwrap()
        .unwrap();
    db.store
        .apply_venue(
            &VenueId([4; 8]),
            &VenueApplication {
                uscc: Uscc::parse("91350100M000100Y43").unwrap(),
                ..application("另一家")
            },
            NOW,
        )
        .unwrap();
}

#[test]
fn entries_need_an_approved_venue_and_its_current_poster() {
    let db = db();
    let id = db
        .store
        .apply_venue(&VenueId([7; 8]), &application("上海市示例文化中心"), NOW)
        .unwrap();
    let poster = EntryVia::Poster { serial: 1 };
    assert_eq!(
        entry(&db, id, NOW, poster),
        Err(EntryRefused::VenueNotActive)
    );
    db.store
        .decide_venue(
            id,
            &Decision::Approve {
                token_hash: [9; 32],
            },
            db.operator,
            NOW,
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        entry(&db, id, NOW, poster),
        Err(EntryRefused::UnknownPoster)
    );

    let first = db.store.new_poster(id, NOW, &mut sign).unwrap();
    assert_eq!((first.serial, first.retired_at), (1, None));
    assert!(entry(&db, id, NOW, poster).is_ok());
    let second = db.store.new_poster(id, NOW, &mut sign).unwrap();
    assert_eq!(second.serial, 2);
    assert_eq!(db.store.current_poster(id).unwrap().unwrap().serial, 2);
    assert_eq!(
        entry(&db, id, NOW, poster),
        Err(EntryRefused::PosterRetired)
    );
    assert!(entry(&db, id, NOW, EntryVia::Poster { serial: 2 }).is_ok());
    assert_eq!(
        entry(&db, id, NOW, EntryVia::Poster { serial: 3 }),
        Err(EntryRefused::UnknownPoster)
    );

    // Door verifiers are verifiers bound to the venue, named after it.
    let door = db
        .store
        .add_venue_verifier(id, "门卫老周", &[5; 32])
        .unwrap();
    let principal = db.store.principal(&[5; 32]).unwrap().unwrap();
    assert_eq!(
        (principal.role, principal.venue, principal.org.as_str()),
        (Role::Verifier, Some(id), "上海市示例文化中心")
    );
    assert!(entry(&db, id, NOW, EntryVia::DoorVerifier { verifier: door }).is_ok());
    db.store
        .decide_venue(
            id,
            &Decision::Suspend { note: "x".into() },
            db.operator,
            NOW,
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        entry(&db, id, NOW, EntryVia::DoorVerifier { verifier: door }),
        Err(EntryRefused::VenueNotActive)
    );

    let seen = db
        .store
        .venue_entries(id, NOW - Duration::hours(1), NOW + Duration::hours(1))
        .unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|e| e.name_masked == "王*英"));
    assert_eq!(seen[2].via, EntryVia::DoorVerifier { verifier: door });
}

/// A venue applied for, approved and with its first poster (serial 1), all at `NOW`.
fn approved_venue_with_a_poster(db: &Db) -> i64 {
    let id = db
        .store
        .apply_venue(&VenueId([7; 8]), &application("上海市示例文化中心"), NOW)
        .unwrap();
    db.store
        .decide_venue(
            id,
            &Decision::Approve {
                token_hash: [9; 32],
            },
            db.operator,
            NOW,
        )
        .unwrap()
        .unwrap();
    db.store.new_poster(id, NOW, &mut sign).unwrap();
    id
}

#[test]
fn the_clean_up_deletes_exactly_what_is_older_than_28_days() {
    let db = db();
    let id = approved_venue_with_a_poster(&db);
    let poster = EntryVia::Poster { serial: 1 };
    for age in [
        Duration::days(28) + Duration::seconds(1),
        Duration::days(28),
        Duration::days(1),
    ] {
        entry(&db, id, NOW - age, poster).unwrap();
    }
    assert_eq!(purge_expired_entries(db.store.as_ref(), NOW).unwrap(), 1);
    assert_eq!(purge_expired_entries(db.store.as_ref(), NOW).unwrap(), 0);
    let left = db
        .store
        .venue_entries(id, NOW - Duration::days(60), NOW)
        .unwrap();
    assert_eq!(left.len(), 2, "28 days old exactly is kept");
}

#[test]
fn the_purge_entries_subcommand_deletes_the_old_entries_and_says_how_many() {
    let db = db();
    let id = approved_venue_with_a_poster(&db);
    // The command runs on the system clock: entries 40 and 29 days old go, 27 days and an hour
    // old stay.
    let now = OffsetDateTime::now_utc();
    let poster = EntryVia::Poster { serial: 1 };
    for age in [
        Duration::days(40),
        Duration::days(29),
        Duration::days(27),
        Duration::hours(1),
    ] {
        entry(&db, id, now - age, poster).unwrap();
    }
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_central"));
        command
            .args(["purge-entries", "--data"])
            .arg(db.test_data.data.path())
            .env("RUST_LOG", "warn");
        db.test_data.configure(&mut command);
        let out = command.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(run(), "deleted 2 venue entries older than 28 days");
    let left = db
        .store
        .venue_entries(id, now - Duration::days(60), now + Duration::days(1))
        .unwrap();
    let ages: Vec<i64> = left.iter().map(|e| (now - e.at).whole_days()).collect();
    assert_eq!(ages, [27, 0], "the recent entries stay");
    assert_eq!(run(), "deleted 0 venue entries older than 28 days");
}

#[test]
fn the_clean_up_loop_runs_again_each_interval_on_the_service_clock() {
    let db = db();
    let id = approved_venue_with_a_poster(&db);
    let poster = EntryVia::Poster { serial: 1 };
    entry(&db, id, NOW - Duration::days(27), poster).unwrap();
    entry(&db, id, NOW - Duration::hours(1), poster).unwrap();
    let clock = central::clock::ManualClock::new(NOW);
    let left = || {
        db.store
            .venue_entries(id, NOW - Duration::days(60), NOW + Duration::days(60))
            .unwrap()
            .len()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let task = runtime.spawn(central::venues::cleanup_loop_every(
        Arc::clone(&db.store),
        Arc::new(clock.clone()),
        std::time::Duration::from_millis(50),
    ));
    // Several rounds pass with nothing old enough: both entries stay.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(left(), 2);
    // Two days later by the service's clock the older entry is 29 days old: a later round
    // deletes it, without a restart.
    clock.advance(Duration::days(2));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while left() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the next round never came"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(left(), 1, "the recent entry stays");
    task.abort();
}
