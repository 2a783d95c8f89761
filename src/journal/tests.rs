use std::time::Duration as StdDuration;

use protocol::api::CodeId;
use time::Duration;
use time::macros::{date, datetime};

use super::*;
use crate::secret::KioskSecret;

/// A valid resident ID number (fictional) and a name, for the personal-data checks.
const ID_NUMBER: &str = "310101194912310013";
const NAME: &str = "张三丰";

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    journal: Journal,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("journal.db");
    let journal = Journal::open(&path).unwrap();
    Fixture {
        _dir: dir,
        path,
        journal,
    }
}

fn t(seconds: i64) -> OffsetDateTime {
    datetime!(2025-03-14 09:00 +08:00) + Duration::seconds(seconds)
}

fn request(n: u128) -> RequestId {
    RequestId::new(Uuid::from_u128(0x1000 + n))
}

fn session(n: u128) -> Uuid {
    Uuid::from_u128(0x2000 + n)
}

fn code(n: u8) -> IssuedCode {
    IssuedCode {
        code_id: CodeId::from_bytes([n; 16]),
        kid: 1,
        serial: u16::from(n),
        issued_on: date!(2025 - 03 - 14),
        expires_on: date!(2025 - 09 - 13),
        qr_text: format!("SSM1:QRTEXT{n}"),
        replaced: false,
    }
}

fn new_attempt(r: u128, s: u128, action: Action) -> NewAttempt {
    NewAttempt {
        request_id: request(r),
        session: session(s),
        action,
        person_key: Some("ab".repeat(32)),
    }
}

/// Everything a failed call must leave as it was.
fn snapshot(j: &Journal, r: RequestId) -> (Option<Attempt>, u64, Vec<JournalEvent>) {
    (
        j.attempt(r).unwrap(),
        j.backlog().unwrap(),
        j.pending_events(usize::MAX).unwrap(),
    )
}

fn last_event(j: &Journal) -> JournalEvent {
    j.pending_events(usize::MAX).unwrap().pop().unwrap()
}

fn kinds(j: &Journal) -> Vec<JournalKind> {
    j.pending_events(usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn state(j: &Journal, r: RequestId) -> AttemptState {
    j.attempt(r).unwrap().unwrap().state
}

fn wrong_state(result: Result<(), JournalError>, expected: AttemptState) {
    match result {
        Err(JournalError::WrongState { state, .. }) => assert_eq!(state, expected),
        other => panic!("expected WrongState({expected}), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Opening and migrations
// ---------------------------------------------------------------------------------------------

#[test]
fn journal_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Journal>();
}

#[test]
fn open_creates_the_schema_in_wal_with_full_sync() {
    let f = fixture();
    assert!(f.path.exists());
    let conn = f.journal.lock();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, Journal::schema_version());
    assert_eq!(version, 1);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let busy: i64 = conn
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    assert_eq!(busy, 5000);
}

#[test]
fn reopening_keeps_everything_and_migrates_nothing_twice() {
    let f = fixture();
    f.journal
        .append(
            JournalKind::SessionStarted,
            &[("method", "card".into())],
            t(0),
        )
        .unwrap();
    f.journal
        .begin_attempt(&new_attempt(1, 1, Action::Apply), t(1))
        .unwrap();
    let before = snapshot(&f.journal, request(1));
    drop(f.journal);
    for _ in 0..2 {
        let journal = Journal::open(&f.path).unwrap();
        assert_eq!(snapshot(&journal, request(1)), before);
    }
}

#[test]
fn a_file_from_a_newer_release_is_refused() {
    let f = fixture();
    drop(f.journal);
    let conn = Connection::open(&f.path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match Journal::open(&f.path) {
        Err(JournalError::TooNew { found: 99, known }) => assert_eq!(known, 1),
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    std::fs::write(&path, vec![0x42; 4096]).unwrap();
    assert!(Journal::open(&path).is_err());
}

#[test]
fn migrations_have_no_transaction_statements() {
    for sql in MIGRATIONS {
        let upper = sql.to_ascii_uppercase();
        assert!(!upper.contains("BEGIN") && !upper.contains("COMMIT"));
    }
}

#[test]
fn another_connection_waits_for_the_write_lock() {
    // `kiosk sync` may write while the kiosk runs: a second writer waits, it does not fail.
    let f = fixture();
    let other = Journal::open(&f.path).unwrap();
    let conn = Connection::open(&f.path).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let writer = std::thread::spawn(move || {
        other
            .append(JournalKind::StaffAction, &[("action", "sync".into())], t(0))
            .map(|_| ())
    });
    std::thread::sleep(StdDuration::from_millis(300));
    conn.execute_batch("COMMIT").unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(f.journal.backlog().unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------
// Events: append, pending, mark_uploaded, backlog
// ---------------------------------------------------------------------------------------------

#[test]
fn append_returns_the_stored_event() {
    let f = fixture();
    let event = f
        .journal
        .append(
            JournalKind::SessionEnded,
            &[
                ("session", session(1).to_string()),
                ("how", "timeout".into()),
                ("how", "done".into()),
            ],
            t(5),
        )
        .unwrap();
    assert_eq!(event.kind, JournalKind::SessionEnded);
    assert_eq!(event.at, t(5));
    assert_eq!(event.detail.get("how").map(String::as_str), Some("done"));
    assert_eq!(event.detail.len(), 2);
    assert_eq!(f.journal.pending_events(10).unwrap(), vec![event]);
}

#[test]
fn pending_events_come_in_insertion_order_and_leave_once_uploaded() {
    let f = fixture();
    // Insertion order, not time order: the clock may step back.
    let times = [t(10), t(5), t(20), t(20), t(1)];
    let events: Vec<JournalEvent> = times
        .iter()
        .enumerate()
        .map(|(i, at)| {
            f.journal
                .append(JournalKind::Error, &[("what", format!("e{i}"))], *at)
                .unwrap()
        })
        .collect();
    assert_eq!(f.journal.backlog().unwrap(), 5);
    assert_eq!(f.journal.pending_events(3).unwrap(), events[..3].to_vec());
    assert_eq!(f.journal.pending_events(0).unwrap(), vec![]);

    f.journal
        .mark_uploaded(&[events[0].id, events[2].id, Uuid::from_u128(7)], t(30))
        .unwrap();
    assert_eq!(f.journal.backlog().unwrap(), 3);
    assert_eq!(
        f.journal.pending_events(10).unwrap(),
        vec![events[1].clone(), events[3].clone(), events[4].clone()]
    );

    // Marking again changes nothing; the rest go.
    f.journal.mark_uploaded(&[events[0].id], t(40)).unwrap();
    assert_eq!(f.journal.backlog().unwrap(), 3);
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    f.journal.mark_uploaded(&ids, t(50)).unwrap();
    assert_eq!(f.journal.backlog().unwrap(), 0);
    assert!(f.journal.pending_events(10).unwrap().is_empty());

    // The first upload time is kept.
    let conn = f.journal.lock();
    let uploaded: String = conn
        .query_row(
            "SELECT uploaded_at FROM events WHERE id = ?1",
            params![events[0].id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(uploaded, timestamp_to_text(t(30)).unwrap());
}

#[test]
fn event_ids_are_unique_and_times_round_trip() {
    let f = fixture();
    let at = datetime!(2025-03-14 23:59:59.123456789 +08:00);
    let a = f
        .journal
        .append(JournalKind::HelpRequested, &[], at)
        .unwrap();
    let b = f.journal.append(JournalKind::HelpCleared, &[], at).unwrap();
    assert_ne!(a.id, b.id);
    let pending = f.journal.pending_events(10).unwrap();
    assert_eq!(pending[0].at, at);
    assert_eq!(pending, vec![a, b]);
}

#[test]
fn timestamps_outside_the_storable_range_are_refused() {
    let f = fixture();
    let result = f
        .journal
        .append(JournalKind::Error, &[], datetime!(0000-01-01 00:00 +01:00));
    assert!(matches!(result, Err(JournalError::OutOfRange)));
    assert_eq!(f.journal.backlog().unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// Attempts: the transition table, row by row
// ---------------------------------------------------------------------------------------------

#[test]
fn a_full_attempt_writes_each_step_with_its_event() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Requested);
    assert_eq!(a.session, session(1));
    assert_eq!(a.action, Action::Apply);
    assert_eq!(a.person_key, Some("ab".repeat(32)));
    assert_eq!(a.requested_at, t(0));
    assert_eq!((a.code, a.outcome, a.issued_at), (None, None, None));
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::IssueRequested);
    assert_eq!(e.at, t(0));
    assert_eq!(e.detail["request_id"], r.to_string());
    assert_eq!(e.detail["session"], session(1).to_string());
    assert_eq!(e.detail["action"], "apply");
    assert!(!e.detail.contains_key("retry"));

    j.record_issued(r, &code(3), t(1)).unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Issued);
    assert_eq!(a.code, Some(code(3)));
    assert_eq!(a.issued_at, Some(t(1)));
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::CodeIssued);
    assert_eq!(e.detail["code_id"], code(3).code_id.to_string());
    assert_eq!(e.detail["serial"], "3");
    assert_eq!(e.detail["expires_on"], "2025-09-13");
    assert!(!e.detail.values().any(|v| v.contains("QRTEXT")));

    j.record_printed(r, t(2)).unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Printed);
    assert_eq!(a.outcome, Some(OutcomeKind::Printed));
    assert_eq!(a.outcome_at, Some(t(2)));
    assert!(!a.outcome_reported);
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::Printed);
    assert_eq!(e.detail["request_id"], r.to_string());

    assert_eq!(
        kinds(j),
        vec![
            JournalKind::IssueRequested,
            JournalKind::CodeIssued,
            JournalKind::Printed
        ]
    );
}

#[test]
fn begin_again_for_a_retry_keeps_the_attempt() {
    let f = fixture();
    let j = &f.journal;
    j.begin_attempt(&new_attempt(1, 1, Action::Reissue), t(0))
        .unwrap();
    let retry = NewAttempt {
        person_key: None,
        ..new_attempt(1, 1, Action::Reissue)
    };
    j.begin_attempt(&retry, t(5)).unwrap();
    let a = j.attempt(request(1)).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Requested);
    assert_eq!(a.requested_at, t(5));
    assert_eq!(
        a.person_key,
        Some("ab".repeat(32)),
        "kept when not given again"
    );
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::IssueRequested);
    assert_eq!(e.detail["retry"], "true");
    assert_eq!(j.unsettled().unwrap().len(), 1);
}

#[test]
fn begin_again_after_a_refusal_sends_the_same_request_again() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_not_issued(r, "session_expired", t(1)).unwrap();
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(2))
        .unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Requested);
    assert_eq!(a.not_issued_reason, None);
    j.record_issued(r, &code(1), t(3)).unwrap();
    assert_eq!(
        kinds(j),
        vec![
            JournalKind::IssueRequested,
            JournalKind::Refused,
            JournalKind::IssueRequested,
            JournalKind::CodeIssued
        ]
    );
}

#[test]
fn a_request_id_is_never_reused_for_another_session_or_action() {
    let f = fixture();
    let j = &f.journal;
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    let before = snapshot(j, request(1));
    for other in [
        new_attempt(1, 2, Action::Apply),
        new_attempt(1, 1, Action::Reissue),
    ] {
        assert!(matches!(
            j.begin_attempt(&other, t(1)),
            Err(JournalError::RequestIdReused(r)) if r == request(1)
        ));
        assert_eq!(snapshot(j, request(1)), before);
    }
}

#[test]
fn begin_is_refused_once_the_attempt_has_a_code() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(1), t(1)).unwrap();
    for (step, expected) in [
        (None, AttemptState::Issued),
        (Some(false), AttemptState::PrintFailed),
        (Some(true), AttemptState::Printed),
    ] {
        match step {
            Some(false) => j
                .record_print_failed(r, PrintFailure::PaperOut, None, t(2))
                .unwrap(),
            Some(true) => j.record_printed(r, t(3)).unwrap(),
            None => {}
        }
        let before = snapshot(j, r);
        wrong_state(
            j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(4)),
            expected,
        );
        assert_eq!(snapshot(j, r), before);
    }
}

#[test]
fn a_person_key_must_be_a_keyed_hash() {
    let f = fixture();
    for key in [
        ID_NUMBER.to_owned(),
        "AB".repeat(32),
        "ab".repeat(31),
        String::new(),
    ] {
        let a = NewAttempt {
            person_key: Some(key),
            ..new_attempt(1, 1, Action::Apply)
        };
        assert!(matches!(
            f.journal.begin_attempt(&a, t(0)),
            Err(JournalError::BadPersonKey)
        ));
    }
    assert_eq!(f.journal.attempt(request(1)).unwrap(), None);
    assert_eq!(f.journal.backlog().unwrap(), 0);
    let without = NewAttempt {
        person_key: None,
        ..new_attempt(1, 1, Action::Apply)
    };
    f.journal.begin_attempt(&without, t(0)).unwrap();
}

#[test]
fn calls_on_an_unknown_attempt_are_errors() {
    let f = fixture();
    let j = &f.journal;
    let r = request(9);
    let unknown = |result: Result<(), JournalError>| {
        assert!(matches!(result, Err(JournalError::UnknownAttempt(x)) if x == r));
    };
    unknown(j.record_issued(r, &code(1), t(0)));
    unknown(j.record_not_issued(r, "refused", t(0)));
    unknown(j.record_printed(r, t(0)));
    unknown(j.record_print_failed(r, PrintFailure::Offline, None, t(0)));
    let outcome = Outcome {
        request_id: r,
        code_id: code(1).code_id,
        result: OutcomeKind::Printed,
        at: t(0),
    };
    assert!(matches!(
        j.mark_outcome_reported(&outcome),
        Err(JournalError::UnknownAttempt(_))
    ));
    assert_eq!(j.attempt(r).unwrap(), None);
    assert_eq!(j.backlog().unwrap(), 0);
}

#[test]
fn record_issued_again_with_the_same_code_changes_nothing() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(1), t(1)).unwrap();
    let before = snapshot(j, r);
    j.record_issued(r, &code(1), t(2)).unwrap();
    assert_eq!(snapshot(j, r), before);
    // Also after printing.
    j.record_printed(r, t(3)).unwrap();
    let before = snapshot(j, r);
    j.record_issued(r, &code(1), t(4)).unwrap();
    assert_eq!(snapshot(j, r), before);
}

#[test]
fn record_issued_with_another_code_is_refused() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(1), t(1)).unwrap();
    let before = snapshot(j, r);
    assert!(matches!(
        j.record_issued(r, &code(2), t(2)),
        Err(JournalError::CodeMismatch(x)) if x == r
    ));
    assert_eq!(snapshot(j, r), before);
}

#[test]
fn record_issued_after_not_issued_is_refused() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_not_issued(r, "the request never reached the central", t(1))
        .unwrap();
    let before = snapshot(j, r);
    wrong_state(j.record_issued(r, &code(1), t(2)), AttemptState::NotIssued);
    assert_eq!(snapshot(j, r), before);
}

#[test]
fn record_not_issued_writes_a_refusal() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Reissue), t(0))
        .unwrap();
    j.record_not_issued(r, "conflict_no_code", t(1)).unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::NotIssued);
    assert_eq!(a.not_issued_reason.as_deref(), Some("conflict_no_code"));
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::Refused);
    assert_eq!(e.detail["reason"], "conflict_no_code");
    assert_eq!(e.detail["action"], "reissue");
    assert!(j.unsettled().unwrap().is_empty());
}

#[test]
fn record_not_issued_only_from_requested() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_not_issued(r, "refused", t(1)).unwrap();
    let before = snapshot(j, r);
    wrong_state(
        j.record_not_issued(r, "again", t(2)),
        AttemptState::NotIssued,
    );
    assert_eq!(snapshot(j, r), before);

    let r = request(2);
    j.begin_attempt(&new_attempt(2, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(2), t(1)).unwrap();
    for expected in [
        AttemptState::Issued,
        AttemptState::PrintFailed,
        AttemptState::Printed,
    ] {
        match expected {
            AttemptState::PrintFailed => j
                .record_print_failed(r, PrintFailure::CoverOpen, None, t(2))
                .unwrap(),
            AttemptState::Printed => j.record_printed(r, t(3)).unwrap(),
            _ => {}
        }
        let before = snapshot(j, r);
        wrong_state(j.record_not_issued(r, "refused", t(4)), expected);
        assert_eq!(snapshot(j, r), before);
    }
}

#[test]
fn print_outcomes_need_a_code() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    for expected in [AttemptState::Requested, AttemptState::NotIssued] {
        if expected == AttemptState::NotIssued {
            j.record_not_issued(r, "refused", t(1)).unwrap();
        }
        let before = snapshot(j, r);
        wrong_state(j.record_printed(r, t(2)), expected);
        wrong_state(
            j.record_print_failed(r, PrintFailure::PaperOut, Some("x"), t(2)),
            expected,
        );
        assert_eq!(snapshot(j, r), before);
    }
}

#[test]
fn printed_is_final() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(1), t(1)).unwrap();
    j.record_printed(r, t(2)).unwrap();
    let before = snapshot(j, r);
    wrong_state(j.record_printed(r, t(3)), AttemptState::Printed);
    wrong_state(
        j.record_print_failed(r, PrintFailure::CutterError, None, t(3)),
        AttemptState::Printed,
    );
    assert_eq!(snapshot(j, r), before);
}

#[test]
fn a_failed_print_may_fail_again_and_then_print() {
    let f = fixture();
    let j = &f.journal;
    let r = request(1);
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_issued(r, &code(1), t(1)).unwrap();
    j.record_print_failed(r, PrintFailure::PaperOut, Some("paper end sensor"), t(2))
        .unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::PrintFailed);
    assert_eq!(
        a.outcome,
        Some(OutcomeKind::PrintFailed {
            reason: PrintFailure::PaperOut,
            detail: Some("paper end sensor".into())
        })
    );
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::PrintFailed);
    assert_eq!(e.detail["reason"], "paper_out");
    assert_eq!(e.detail["detail"], "paper end sensor");
    assert_eq!(e.detail["code_id"], code(1).code_id.to_string());

    j.record_print_failed(r, PrintFailure::NoAnswer, None, t(3))
        .unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(
        a.outcome,
        Some(OutcomeKind::PrintFailed {
            reason: PrintFailure::NoAnswer,
            detail: None
        })
    );
    assert!(!last_event(j).detail.contains_key("detail"));

    j.record_printed(r, t(4)).unwrap();
    let a = j.attempt(r).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::Printed);
    assert_eq!(a.outcome, Some(OutcomeKind::Printed));
    assert_eq!(a.outcome_at, Some(t(4)));
    assert_eq!(
        kinds(j),
        vec![
            JournalKind::IssueRequested,
            JournalKind::CodeIssued,
            JournalKind::PrintFailed,
            JournalKind::PrintFailed,
            JournalKind::Printed
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions, settling, outcomes, counts
// ---------------------------------------------------------------------------------------------

#[test]
fn end_session_settles_only_its_issued_unprinted_attempts() {
    let f = fixture();
    let j = &f.journal;
    // Session 1: one issued (unprinted), one printed, one still requested, one failed.
    for (r, action) in [
        (1, Action::Apply),
        (2, Action::Reissue),
        (3, Action::Apply),
        (4, Action::Apply),
    ] {
        j.begin_attempt(&new_attempt(r, 1, action), t(0)).unwrap();
    }
    j.record_issued(request(1), &code(1), t(1)).unwrap();
    j.record_issued(request(2), &code(2), t(1)).unwrap();
    j.record_printed(request(2), t(2)).unwrap();
    j.record_issued(request(4), &code(4), t(1)).unwrap();
    j.record_print_failed(request(4), PrintFailure::Offline, None, t(2))
        .unwrap();
    // Session 2: issued, unprinted.
    j.begin_attempt(&new_attempt(5, 2, Action::Apply), t(0))
        .unwrap();
    j.record_issued(request(5), &code(5), t(1)).unwrap();
    let backlog = j.backlog().unwrap();

    assert_eq!(j.end_session(session(1), t(9)).unwrap(), 1);
    let a = j.attempt(request(1)).unwrap().unwrap();
    assert_eq!(a.state, AttemptState::PrintFailed);
    assert_eq!(
        a.outcome,
        Some(OutcomeKind::PrintFailed {
            reason: PrintFailure::Other,
            detail: Some(SESSION_ENDED_BEFORE_PRINT.into())
        })
    );
    assert_eq!(a.outcome_at, Some(t(9)));
    let e = last_event(j);
    assert_eq!(e.kind, JournalKind::PrintFailed);
    assert_eq!(e.detail["reason"], "other");
    assert_eq!(e.detail["request_id"], request(1).to_string());
    assert_eq!(j.backlog().unwrap(), backlog + 1);

    assert_eq!(state(j, request(2)), AttemptState::Printed);
    assert_eq!(state(j, request(3)), AttemptState::Requested);
    assert_eq!(state(j, request(4)), AttemptState::PrintFailed);
    assert_eq!(
        j.attempt(request(4)).unwrap().unwrap().outcome_at,
        Some(t(2))
    );
    assert_eq!(state(j, request(5)), AttemptState::Issued);

    // Again: nothing left to settle.
    assert_eq!(j.end_session(session(1), t(10)).unwrap(), 0);
    assert_eq!(j.end_session(session(7), t(10)).unwrap(), 0);
    assert_eq!(j.backlog().unwrap(), backlog + 1);
}

#[test]
fn unsettled_and_issued_unprinted_list_the_right_attempts_oldest_first() {
    let f = fixture();
    let j = &f.journal;
    for r in [3, 1, 2, 4, 5] {
        j.begin_attempt(&new_attempt(r, r, Action::Apply), t(0))
            .unwrap();
    }
    j.record_issued(request(1), &code(1), t(1)).unwrap();
    j.record_issued(request(4), &code(4), t(1)).unwrap();
    j.record_issued(request(5), &code(5), t(1)).unwrap();
    j.record_printed(request(5), t(2)).unwrap();
    j.record_not_issued(request(2), "refused", t(1)).unwrap();

    let unsettled: Vec<RequestId> = j
        .unsettled()
        .unwrap()
        .into_iter()
        .map(|a| a.request_id)
        .collect();
    assert_eq!(unsettled, vec![request(3)]);
    let issued: Vec<RequestId> = j
        .issued_unprinted()
        .unwrap()
        .into_iter()
        .map(|a| a.request_id)
        .collect();
    assert_eq!(issued, vec![request(1), request(4)]);
}

#[test]
fn outcomes_are_reported_once_and_a_newer_one_again() {
    let f = fixture();
    let j = &f.journal;
    for r in 1..=3 {
        j.begin_attempt(&new_attempt(r, 1, Action::Apply), t(0))
            .unwrap();
        j.record_issued(request(r), &code(u8::try_from(r).unwrap()), t(1))
            .unwrap();
    }
    assert!(j.unreported_outcomes().unwrap().is_empty());
    j.record_print_failed(request(2), PrintFailure::PaperOut, Some("paper"), t(2))
        .unwrap();
    j.record_printed(request(1), t(3)).unwrap();

    let outcomes = j.unreported_outcomes().unwrap();
    assert_eq!(
        outcomes,
        vec![
            Outcome {
                request_id: request(1),
                code_id: code(1).code_id,
                result: OutcomeKind::Printed,
                at: t(3),
            },
            Outcome {
                request_id: request(2),
                code_id: code(2).code_id,
                result: OutcomeKind::PrintFailed {
                    reason: PrintFailure::PaperOut,
                    detail: Some("paper".into())
                },
                at: t(2),
            },
        ]
    );

    // The print failure of #2 is being reported while a retry prints the slip.
    j.record_printed(request(2), t(4)).unwrap();
    assert!(j.mark_outcome_reported(&outcomes[0]).unwrap());
    assert!(!j.mark_outcome_reported(&outcomes[1]).unwrap());
    let left = j.unreported_outcomes().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].request_id, request(2));
    assert_eq!(left[0].result, OutcomeKind::Printed);
    assert!(j.mark_outcome_reported(&left[0]).unwrap());
    // Idempotent.
    assert!(j.mark_outcome_reported(&left[0]).unwrap());
    assert!(j.unreported_outcomes().unwrap().is_empty());
    assert!(j.attempt(request(2)).unwrap().unwrap().outcome_reported);

    // A reported failure followed by a print: the print is reported too.
    j.record_print_failed(request(3), PrintFailure::Offline, None, t(5))
        .unwrap();
    let failed = j.unreported_outcomes().unwrap();
    assert!(j.mark_outcome_reported(&failed[0]).unwrap());
    j.record_printed(request(3), t(6)).unwrap();
    let outcomes = j.unreported_outcomes().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, OutcomeKind::Printed);
}

#[test]
fn counts_since_counts_todays_work() {
    let f = fixture();
    let j = &f.journal;
    // Yesterday: one apply, printed.
    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(-86_400))
        .unwrap();
    j.record_issued(request(1), &code(1), t(-86_400)).unwrap();
    j.record_printed(request(1), t(-86_400)).unwrap();
    // Today: two applies (one printed, one failed), one reissue printed after a failure, one
    // refused attempt and a refusal from the flow.
    for (r, action) in [(2, Action::Apply), (3, Action::Apply), (4, Action::Reissue)] {
        j.begin_attempt(&new_attempt(r, r, action), t(10)).unwrap();
        j.record_issued(request(r), &code(u8::try_from(r).unwrap()), t(11))
            .unwrap();
    }
    j.record_printed(request(2), t(12)).unwrap();
    j.record_print_failed(request(3), PrintFailure::PaperOut, None, t(12))
        .unwrap();
    j.record_print_failed(request(4), PrintFailure::CoverOpen, None, t(12))
        .unwrap();
    j.record_printed(request(4), t(13)).unwrap();
    j.begin_attempt(&new_attempt(5, 5, Action::Apply), t(10))
        .unwrap();
    j.record_not_issued(request(5), "not_eligible", t(11))
        .unwrap();
    j.append(
        JournalKind::Refused,
        &[("reason", "under_60".into())],
        t(14),
    )
    .unwrap();

    assert_eq!(
        j.counts_since(t(0)).unwrap(),
        Counts {
            applies: 2,
            reissues: 1,
            printed: 2,
            refusals: 2,
            print_failures: 2,
        }
    );
    assert_eq!(
        j.counts_since(t(-100_000)).unwrap(),
        Counts {
            applies: 3,
            reissues: 1,
            printed: 3,
            refusals: 2,
            print_failures: 2,
        }
    );
    assert_eq!(j.counts_since(t(1000)).unwrap(), Counts::default());
}

#[test]
fn counts_by_reason_and_recent_events_of_some_kinds() {
    let f = fixture();
    let j = &f.journal;
    j.append(
        JournalKind::Refused,
        &[("reason", "under_age".into())],
        t(-10),
    )
    .unwrap();
    for (n, reason) in ["no_photo", "under_age", "under_age"].iter().enumerate() {
        j.append(
            JournalKind::Refused,
            &[("reason", (*reason).into())],
            t(i64::try_from(n).unwrap()),
        )
        .unwrap();
    }
    j.append(JournalKind::Refused, &[], t(5)).unwrap();
    j.append(JournalKind::Error, &[("step", "print".into())], t(6))
        .unwrap();
    j.append(JournalKind::StaffLogin, &[("staff", "李*".into())], t(7))
        .unwrap();
    j.append(
        JournalKind::PrintFailed,
        &[("reason", "paper_out".into())],
        t(8),
    )
    .unwrap();

    assert_eq!(
        j.count_by_detail_since(JournalKind::Refused, "reason", t(0))
            .unwrap(),
        vec![
            ("under_age".to_owned(), 2),
            (String::new(), 1),
            ("no_photo".to_owned(), 1),
        ]
    );
    assert_eq!(
        j.count_by_detail_since(JournalKind::PrintFailed, "reason", t(0))
            .unwrap(),
        vec![("paper_out".to_owned(), 1)]
    );
    assert!(
        j.count_by_detail_since(JournalKind::Printed, "reason", t(0))
            .unwrap()
            .is_empty()
    );

    let recent = j
        .recent_events(&[JournalKind::Error, JournalKind::PrintFailed], 10)
        .unwrap();
    let kinds: Vec<JournalKind> = recent.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [JournalKind::PrintFailed, JournalKind::Error]);
    assert_eq!(recent[0].detail["reason"], "paper_out");
    let last = j
        .recent_events(&[JournalKind::Refused, JournalKind::StaffLogin], 1)
        .unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].kind, JournalKind::StaffLogin);
    assert!(j.recent_events(&[], 5).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Personal data
// ---------------------------------------------------------------------------------------------

#[test]
fn id_numbers_in_free_text_are_masked() {
    let f = fixture();
    let j = &f.journal;
    let masked = IdNumber::parse(ID_NUMBER).unwrap().masked();
    let event = j
        .append(
            JournalKind::Error,
            &[("what", format!("card {ID_NUMBER}: unreadable"))],
            t(0),
        )
        .unwrap();
    assert_eq!(event.detail["what"], format!("card {masked}: unreadable"));
    assert_eq!(j.pending_events(1).unwrap()[0], event);

    j.begin_attempt(&new_attempt(1, 1, Action::Apply), t(0))
        .unwrap();
    j.record_not_issued(request(1), &format!("refused for {ID_NUMBER}"), t(1))
        .unwrap();
    assert_eq!(
        j.attempt(request(1)).unwrap().unwrap().not_issued_reason,
        Some(format!("refused for {masked}"))
    );

    // Things that merely look long are left alone.
    let code_id = code(1).code_id.to_string();
    assert_eq!(scrub(&code_id), code_id);
    assert_eq!(scrub("3101**********0015"), "3101**********0015");
    assert_eq!(scrub("123456789012345678"), "123456789012345678");
}

#[test]
fn no_id_number_or_name_reaches_the_file() {
    let f = fixture();
    let j = &f.journal;
    let id = IdNumber::parse(ID_NUMBER).unwrap();
    let secret = KioskSecret::from_bytes([9; 32]);
    let session = session(1);
    let r = request(1);
    // What the shell writes for a card holder's whole session (masked forms only).
    j.append(
        JournalKind::SessionStarted,
        &[("session", session.to_string()), ("method", "card".into())],
        t(0),
    )
    .unwrap();
    j.append(
        JournalKind::Identified,
        &[
            ("session", session.to_string()),
            ("offer", "apply".into()),
            ("code_state", "none".into()),
            ("id_number_masked", id.masked()),
            ("name_masked", protocol::mask::mask_name(NAME)),
        ],
        t(1),
    )
    .unwrap();
    j.begin_attempt(
        &NewAttempt {
            request_id: r,
            session,
            action: Action::Apply,
            person_key: Some(secret.person_key(&id)),
        },
        t(2),
    )
    .unwrap();
    j.record_issued(r, &code(1), t(3)).unwrap();
    j.record_print_failed(
        r,
        PrintFailure::PaperOut,
        Some(&format!("job for {ID_NUMBER}")),
        t(4),
    )
    .unwrap();
    j.record_printed(r, t(5)).unwrap();
    j.append(
        JournalKind::SessionEnded,
        &[("session", session.to_string()), ("how", "done".into())],
        t(6),
    )
    .unwrap();
    drop(f.journal);

    let needles: [&[u8]; 3] = [
        ID_NUMBER.as_bytes(),
        NAME.as_bytes(),
        &ID_NUMBER.as_bytes()[6..14], // the birth date alone
    ];
    let dir = f.path.parent().unwrap();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "personal data found in the journal's files"
            );
        }
    }
    assert!(scanned > 0);
    // The masked forms and the key are there, so the scan did look at the data.
    let journal = Journal::open(&f.path).unwrap();
    let events = journal.pending_events(100).unwrap();
    assert_eq!(events[1].detail["id_number_masked"], id.masked());
    assert_eq!(
        journal.attempt(r).unwrap().unwrap().person_key,
        Some(secret.person_key(&id))
    );
}
