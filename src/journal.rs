//! The kiosk journal: `journal.db` in the data directory, a SQLite file that owns every journal
//! event until the central has accepted it, and every issuance attempt from before its request
//! leaves to its print outcome.
//!
//! # Guarantees
//!
//! - **One committed transaction per state change.** Every call that changes anything runs in
//!   one `BEGIN IMMEDIATE` transaction; an attempt's state change and its [`JournalEvent`] are
//!   written in the same one. A kill -9 at any point leaves the file as it was before the call
//!   or as it is after it, never in between.
//! - **Durable on return.** The file is in WAL mode with `synchronous=FULL`, for the whole
//!   connection: in WAL mode that fsyncs the log at every commit, so a call that returned has
//!   reached the disk even across a power cut. The kiosk writes a handful of small transactions
//!   per resident session, at human speed, so the extra fsyncs cost nothing anyone notices; one
//!   setting for every table leaves no issuance write that could be made with a weaker one.
//! - **Wrong transitions change nothing.** A call that does not fit the attempt's state fails
//!   with a typed [`JournalError`] and its transaction rolls back.
//! - **Exactly-once upload.** Events carry a uuid (the central drops duplicates by it), come out
//!   of [`Journal::pending_events`] in insertion order until [`Journal::mark_uploaded`] records
//!   the central's acknowledgement.
//! - **No personal data.** No full name, raw ID number or photo is ever stored. A person appears
//!   only as [`NewAttempt::person_key`] (a keyed hash, see [`crate::secret::KioskSecret`]), which
//!   must look like one (64 lowercase hex characters), and in details in masked form. As a last
//!   guard, any free text given to the journal (event details, reasons) is searched for words
//!   that parse as an ID number, and those are masked before they are stored.
//!
//! # Issuance attempts
//!
//! One attempt per request id. Its state follows this table; every row writes the attempt and
//! the event in one transaction, every call not in the table is an error and changes nothing.
//!
//! | call                                          | from                    | to            | event                               |
//! |-----------------------------------------------|-------------------------|---------------|-------------------------------------|
//! | [`begin_attempt`](Journal::begin_attempt)     | (no attempt)            | `Requested`   | `issue_requested`                   |
//! | `begin_attempt`, same session and action      | `Requested`, `NotIssued`| `Requested`   | `issue_requested` (`retry = true`)  |
//! | [`record_issued`](Journal::record_issued)     | `Requested`             | `Issued`      | `code_issued`                       |
//! | `record_issued`, the same code again          | `Issued`, `Printed`, `PrintFailed` | unchanged | none                     |
//! | [`record_not_issued`](Journal::record_not_issued) | `Requested`         | `NotIssued`   | `refused`                           |
//! | [`record_printed`](Journal::record_printed)   | `Issued`, `PrintFailed` | `Printed`     | `printed`                           |
//! | [`record_print_failed`](Journal::record_print_failed) | `Issued`, `PrintFailed` | `PrintFailed` | `print_failed`          |
//! | [`end_session`](Journal::end_session)         | `Issued` (that session) | `PrintFailed` | `print_failed` (reason `other`)     |
//!
//! `begin_attempt` is called again with the same request id before every retry of an issue
//! (the flow reuses the request id while the offer stays the same, and the central answers a
//! known request id with the same code); after a refusal such as an expired session or a code
//! changed elsewhere the same request id goes out again, so `NotIssued` goes back to
//! `Requested`. A request id is never reused across sessions or
//! actions ([`JournalError::RequestIdReused`]). `Printed` is final.
//!
//! The print outcome ([`Outcome`]) of an attempt is reported to the central once
//! ([`Journal::unreported_outcomes`], [`Journal::mark_outcome_reported`]); a new outcome (a
//! retry that prints after a failure) is reported again.
//!
//! # Stored forms
//!
//! Timestamps are RFC 3339 text in UTC with nine fraction digits (text order is time order;
//! they come back in UTC, equal to the instant stored), dates ISO text, enumerations their
//! `snake_case` wire names, ids hyphenated UUIDs or lowercase hex, event details JSON. The
//! schema is migrated on open (`PRAGMA user_version`, the files under `src/journal/migrations/`);
//! a file from a newer release is refused.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use protocol::IdNumber;
use protocol::api::{
    Action, CodeId, IssuedCode, JournalEvent, JournalKind, PrintFailure, RequestId,
};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// How long a call waits for another process's write lock (`kiosk sync` next to the kiosk).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every schema migration, oldest first; the version of the n-th is n.
const MIGRATIONS: &[&str] = &[include_str!("journal/migrations/0001_initial.sql")];

/// The `detail` of a print failure recorded by [`Journal::end_session`].
pub const SESSION_ENDED_BEFORE_PRINT: &str = "the session ended before the slip was printed";

/// The `detail` of a print failure for a code the central answered as replaced (reissued
/// elsewhere or reported lost since it was issued for this attempt): never printed.
pub const REPLACED_BEFORE_PRINT: &str = "the code was replaced before it could be printed";

/// Why a journal call failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed (the file, the disk, a lock held too long).
    #[error("journal database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The journal's directory could not be created.
    #[error("journal directory: {0}")]
    Io(#[from] std::io::Error),
    /// A schema migration failed.
    #[error("journal schema migration: {0}")]
    Migration(String),
    /// The file was written by a newer release.
    #[error(
        "the journal has schema version {found}, newer than the newest this build knows \
         ({known}): run a newer release"
    )]
    TooNew {
        /// The file's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored value this build cannot read; names the column.
    #[error("the journal holds an unreadable value in {0}")]
    Corrupt(String),
    /// A timestamp or date outside years 0000..=9999 (UTC).
    #[error("a timestamp or date outside the storable range")]
    OutOfRange,
    /// No attempt has this request id.
    #[error("no issuance attempt has request id {0}")]
    UnknownAttempt(RequestId),
    /// The request id belongs to an attempt of another session or action.
    #[error("request id {0} already belongs to another session or action")]
    RequestIdReused(RequestId),
    /// The call does not fit the attempt's state.
    #[error("attempt {request_id} is {state}: cannot {operation}")]
    WrongState {
        /// The attempt.
        request_id: RequestId,
        /// Its state, unchanged.
        state: AttemptState,
        /// What was asked (`record printed`, ...).
        operation: &'static str,
    },
    /// `record_issued` with a code other than the one already recorded for the request id.
    #[error("attempt {0} already has a different code")]
    CodeMismatch(RequestId),
    /// A person key that is not a keyed hash (64 lowercase hex characters).
    #[error("a person key must be a keyed hash: 64 lowercase hex characters")]
    BadPersonKey,
}

/// The state of an issuance attempt (see the transition table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    /// Written before the request left; no answer recorded yet.
    Requested,
    /// The central answered with a code; not printed yet.
    Issued,
    /// The central refused, or the request never reached it.
    NotIssued,
    /// The slip was printed (final).
    Printed,
    /// The slip could not be printed (a retry may still print it).
    PrintFailed,
}

impl AttemptState {
    /// The stored (wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Issued => "issued",
            Self::NotIssued => "not_issued",
            Self::Printed => "printed",
            Self::PrintFailed => "print_failed",
        }
    }
}

impl fmt::Display for AttemptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attempt about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    /// The request id, also sent to the central.
    pub request_id: RequestId,
    /// The kiosk session it belongs to.
    pub session: Uuid,
    /// Apply or reissue.
    pub action: Action,
    /// The person's keyed hash ([`crate::secret::KioskSecret::person_key`]), when known.
    pub person_key: Option<String>,
}

/// The outcome of printing an attempt's slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Printed.
    Printed,
    /// Not printed.
    PrintFailed {
        /// Why.
        reason: PrintFailure,
        /// More words for operators.
        detail: Option<String>,
    },
}

/// An issuance attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Its request id.
    pub request_id: RequestId,
    /// The kiosk session it belongs to.
    pub session: Uuid,
    /// Apply or reissue.
    pub action: Action,
    /// The person's keyed hash, when known.
    pub person_key: Option<String>,
    /// Where it stands.
    pub state: AttemptState,
    /// When it was (last) written before its request left.
    pub requested_at: OffsetDateTime,
    /// The code, once the central answered with one.
    pub code: Option<IssuedCode>,
    /// When the code was recorded.
    pub issued_at: Option<OffsetDateTime>,
    /// Why no code was issued, when [`AttemptState::NotIssued`].
    pub not_issued_reason: Option<String>,
    /// The latest print outcome.
    pub outcome: Option<OutcomeKind>,
    /// When the latest print outcome was recorded.
    pub outcome_at: Option<OffsetDateTime>,
    /// Whether the latest print outcome has been reported to the central.
    pub outcome_reported: bool,
}

/// A print outcome to report to the central.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The attempt's request id.
    pub request_id: RequestId,
    /// The code printed (or not).
    pub code_id: CodeId,
    /// Printed or not.
    pub result: OutcomeKind,
    /// When it was recorded (kiosk clock).
    pub at: OffsetDateTime,
}

/// Counts for the staff screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Codes issued for `apply`.
    pub applies: u64,
    /// Codes issued for `reissue`.
    pub reissues: u64,
    /// Attempts whose slip was printed.
    pub printed: u64,
    /// `refused` events (not eligible, refused by the central, not issued).
    pub refusals: u64,
    /// `print_failed` events.
    pub print_failures: u64,
}

/// The journal: one connection to `journal.db`. `Send + Sync`; all methods take `&self` and
/// run one after the other.
pub struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal at `path` (creating the file and its directory if needed), switches it
    /// to WAL and brings its schema up to date.
    ///
    /// # Errors
    /// When the file cannot be opened or is not a SQLite database, when WAL cannot be used, or
    /// when the file was written by a newer release ([`JournalError::TooNew`]).
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Migration(format!(
                "the file cannot use WAL journal mode (got {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Journal {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction rolled it back while unwinding: the connection is fine.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled back
    /// otherwise.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in a deferred (read) transaction: one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    // -----------------------------------------------------------------------------------------
    // Events
    // -----------------------------------------------------------------------------------------

    /// Appends an event (fresh uuid id) and returns it. Later duplicates of a key replace
    /// earlier ones; words in the values that parse as an ID number are masked.
    ///
    /// # Errors
    /// SQLite errors, or `at` outside the storable range.
    pub fn append(
        &self,
        kind: JournalKind,
        detail: &[(&str, String)],
        at: OffsetDateTime,
    ) -> Result<JournalEvent, JournalError> {
        let detail = detail
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        self.write(|tx| insert_event(tx, kind, detail, at))
    }

    /// Events not yet accepted by the central, oldest first, at most `limit`.
    ///
    /// # Errors
    /// SQLite errors, or a stored event this build cannot read.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<JournalEvent>, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, at, kind, detail_json FROM events WHERE uploaded_at IS NULL \
                 ORDER BY seq LIMIT ?1",
            )?;
            read_events(&mut stmt, params![limit])
        })
    }

    /// Records that the central accepted these events (as new or as duplicates). Ids that are
    /// unknown or already marked are ignored.
    ///
    /// # Errors
    /// SQLite errors, or `at` outside the storable range.
    pub fn mark_uploaded(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), JournalError> {
        let at = timestamp_to_text(at)?;
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "UPDATE events SET uploaded_at = ?2 WHERE id = ?1 AND uploaded_at IS NULL",
            )?;
            for id in ids {
                stmt.execute(params![id.hyphenated().to_string(), at])?;
            }
            Ok(())
        })
    }

    /// The number of events not yet accepted by the central.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn backlog(&self) -> Result<u64, JournalError> {
        self.read(|tx| {
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM events WHERE uploaded_at IS NULL",
                [],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// The ids of every event, uploaded or not, oldest first (for support and for checking
    /// that the central holds them all).
    ///
    /// # Errors
    /// SQLite errors, or an id that is not a UUID.
    pub fn all_event_ids(&self) -> Result<Vec<Uuid>, JournalError> {
        self.read(|tx| {
            let mut statement = tx.prepare("SELECT id FROM events ORDER BY seq")?;
            let texts = statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            texts
                .iter()
                .map(|t| {
                    Uuid::parse_str(t)
                        .map_err(|_| JournalError::Corrupt(format!("event id {t} is not a UUID")))
                })
                .collect()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Issuance attempts
    // -----------------------------------------------------------------------------------------

    /// Writes an attempt before its request leaves, with an `issue_requested` event; again
    /// (same session and action) before a retry goes out.
    ///
    /// # Errors
    /// [`JournalError::RequestIdReused`] for another session or action,
    /// [`JournalError::WrongState`] once the attempt has a code,
    /// [`JournalError::BadPersonKey`] for a person key that is not a keyed hash.
    pub fn begin_attempt(&self, a: &NewAttempt, at: OffsetDateTime) -> Result<(), JournalError> {
        if let Some(key) = &a.person_key
            && !is_person_key(key)
        {
            return Err(JournalError::BadPersonKey);
        }
        let at_text = timestamp_to_text(at)?;
        self.write(|tx| {
            let mut detail = BTreeMap::from([
                ("session".to_owned(), a.session.hyphenated().to_string()),
                ("request_id".to_owned(), a.request_id.to_string()),
                ("action".to_owned(), a.action.as_str().to_owned()),
            ]);
            match load_attempt(tx, a.request_id)? {
                None => {
                    tx.execute(
                        "INSERT INTO attempts (request_id, session, action, person_key, state, \
                         requested_at) VALUES (?1, ?2, ?3, ?4, 'requested', ?5)",
                        params![
                            a.request_id.to_string(),
                            a.session.hyphenated().to_string(),
                            a.action.as_str(),
                            a.person_key,
                            at_text
                        ],
                    )?;
                }
                Some(old) if old.session != a.session || old.action != a.action => {
                    return Err(JournalError::RequestIdReused(a.request_id));
                }
                Some(old)
                    if matches!(old.state, AttemptState::Requested | AttemptState::NotIssued) =>
                {
                    tx.execute(
                        "UPDATE attempts SET state = 'requested', not_issued_reason = NULL, \
                         requested_at = ?2, person_key = COALESCE(?3, person_key) \
                         WHERE request_id = ?1",
                        params![a.request_id.to_string(), at_text, a.person_key],
                    )?;
                    detail.insert("retry".to_owned(), "true".to_owned());
                }
                Some(old) => {
                    return Err(JournalError::WrongState {
                        request_id: a.request_id,
                        state: old.state,
                        operation: "send its request again",
                    });
                }
            }
            insert_event(tx, JournalKind::IssueRequested, detail, at)?;
            Ok(())
        })
    }

    /// Records the central's code for an attempt, with a `code_issued` event. Recording the same
    /// code again changes nothing.
    ///
    /// # Errors
    /// [`JournalError::UnknownAttempt`], [`JournalError::WrongState`] when the attempt is
    /// `NotIssued`, [`JournalError::CodeMismatch`] for a different code than the one recorded.
    pub fn record_issued(
        &self,
        request_id: RequestId,
        code: &IssuedCode,
        at: OffsetDateTime,
    ) -> Result<(), JournalError> {
        let at_text = timestamp_to_text(at)?;
        let issued_on = date_to_text(code.issued_on)?;
        let expires_on = date_to_text(code.expires_on)?;
        self.write(|tx| {
            let old =
                load_attempt(tx, request_id)?.ok_or(JournalError::UnknownAttempt(request_id))?;
            match old.state {
                AttemptState::Requested => {}
                AttemptState::Issued | AttemptState::Printed | AttemptState::PrintFailed => {
                    return if old.code.as_ref() == Some(code) {
                        Ok(())
                    } else {
                        Err(JournalError::CodeMismatch(request_id))
                    };
                }
                AttemptState::NotIssued => {
                    return Err(JournalError::WrongState {
                        request_id,
                        state: old.state,
                        operation: "record a code",
                    });
                }
            }
            tx.execute(
                "UPDATE attempts SET state = 'issued', code_id = ?2, kid = ?3, serial = ?4, \
                 issued_on = ?5, expires_on = ?6, qr_text = ?7, issued_at = ?8 \
                 WHERE request_id = ?1",
                params![
                    request_id.to_string(),
                    code.code_id.to_string(),
                    code.kid,
                    code.serial,
                    issued_on,
                    expires_on,
                    code.qr_text,
                    at_text
                ],
            )?;
            let detail = BTreeMap::from([
                ("session".to_owned(), old.session.hyphenated().to_string()),
                ("request_id".to_owned(), request_id.to_string()),
                ("action".to_owned(), old.action.as_str().to_owned()),
                ("code_id".to_owned(), code.code_id.to_string()),
                ("kid".to_owned(), code.kid.to_string()),
                ("serial".to_owned(), code.serial.to_string()),
                ("issued_on".to_owned(), issued_on),
                ("expires_on".to_owned(), expires_on),
            ]);
            insert_event(tx, JournalKind::CodeIssued, detail, at)?;
            Ok(())
        })
    }

    /// Records that no code was issued for an attempt (the central refused, or the request never
    /// reached it), with a `refused` event whose `reason` is `why`.
    ///
    /// # Errors
    /// [`JournalError::UnknownAttempt`], [`JournalError::WrongState`] unless `Requested`.
    pub fn record_not_issued(
        &self,
        request_id: RequestId,
        why: &str,
        at: OffsetDateTime,
    ) -> Result<(), JournalError> {
        let why = scrub(why).into_owned();
        self.write(|tx| {
            let old =
                load_attempt(tx, request_id)?.ok_or(JournalError::UnknownAttempt(request_id))?;
            if old.state != AttemptState::Requested {
                return Err(JournalError::WrongState {
                    request_id,
                    state: old.state,
                    operation: "record that no code was issued",
                });
            }
            tx.execute(
                "UPDATE attempts SET state = 'not_issued', not_issued_reason = ?2 \
                 WHERE request_id = ?1",
                params![request_id.to_string(), why],
            )?;
            let detail = BTreeMap::from([
                ("session".to_owned(), old.session.hyphenated().to_string()),
                ("request_id".to_owned(), request_id.to_string()),
                ("action".to_owned(), old.action.as_str().to_owned()),
                ("reason".to_owned(), why),
            ]);
            insert_event(tx, JournalKind::Refused, detail, at)?;
            Ok(())
        })
    }

    /// Records that an attempt's slip was printed, with a `printed` event.
    ///
    /// # Errors
    /// [`JournalError::UnknownAttempt`], [`JournalError::WrongState`] unless `Issued` or
    /// `PrintFailed`.
    pub fn record_printed(
        &self,
        request_id: RequestId,
        at: OffsetDateTime,
    ) -> Result<(), JournalError> {
        self.write(|tx| set_outcome(tx, request_id, &OutcomeKind::Printed, at).map(|_| ()))
    }

    /// Records that an attempt's slip could not be printed, with a `print_failed` event.
    ///
    /// # Errors
    /// [`JournalError::UnknownAttempt`], [`JournalError::WrongState`] unless `Issued` or
    /// `PrintFailed`.
    pub fn record_print_failed(
        &self,
        request_id: RequestId,
        reason: PrintFailure,
        detail: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), JournalError> {
        let outcome = OutcomeKind::PrintFailed {
            reason,
            detail: detail.map(|d| scrub(d).into_owned()),
        };
        self.write(|tx| set_outcome(tx, request_id, &outcome, at).map(|_| ()))
    }

    /// Settles a session that ended: its issued-but-unprinted attempts become print-failed
    /// (`other`, [`SESSION_ENDED_BEFORE_PRINT`]), in one transaction; returns how many.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn end_session(&self, session: Uuid, at: OffsetDateTime) -> Result<usize, JournalError> {
        let outcome = OutcomeKind::PrintFailed {
            reason: PrintFailure::Other,
            detail: Some(SESSION_ENDED_BEFORE_PRINT.to_owned()),
        };
        self.write(|tx| {
            let ids = {
                let mut stmt = tx.prepare(
                    "SELECT request_id FROM attempts WHERE session = ?1 AND state = 'issued' \
                     ORDER BY seq",
                )?;
                let rows = stmt.query_map(params![session.hyphenated().to_string()], |row| {
                    row.get::<_, String>(0)
                })?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            for id in &ids {
                set_outcome(
                    tx,
                    request_id_from_text(id, "attempts.request_id")?,
                    &outcome,
                    at,
                )?;
            }
            Ok(ids.len())
        })
    }

    /// The attempt with this request id, if any.
    ///
    /// # Errors
    /// SQLite errors, or a stored value this build cannot read.
    pub fn attempt(&self, request_id: RequestId) -> Result<Option<Attempt>, JournalError> {
        self.read(|tx| load_attempt(tx, request_id))
    }

    /// Attempts written before their request left, with no answer recorded, oldest first (to
    /// settle with the central). Includes an attempt whose request is in flight right now.
    ///
    /// # Errors
    /// SQLite errors, or a stored value this build cannot read.
    pub fn unsettled(&self) -> Result<Vec<Attempt>, JournalError> {
        self.read(|tx| load_attempts(tx, "state = 'requested'"))
    }

    /// Attempts with a code but no print outcome, oldest first. At start-up all of them become
    /// print-failed: nothing prints without a person asking.
    ///
    /// # Errors
    /// SQLite errors, or a stored value this build cannot read.
    pub fn issued_unprinted(&self) -> Result<Vec<Attempt>, JournalError> {
        self.read(|tx| load_attempts(tx, "state = 'issued'"))
    }

    /// Print outcomes (printed / print-failed) not yet reported to the central, oldest first.
    ///
    /// # Errors
    /// SQLite errors, or a stored value this build cannot read.
    pub fn unreported_outcomes(&self) -> Result<Vec<Outcome>, JournalError> {
        self.read(|tx| {
            let attempts = load_attempts(tx, "outcome_at IS NOT NULL AND outcome_reported = 0")?;
            Ok(attempts
                .iter()
                .filter_map(Attempt::current_outcome)
                .collect())
        })
    }

    /// Records that `outcome` was reported to the central. Returns `false`, marking nothing,
    /// when the attempt has had a newer outcome since (a retry that printed after a failure):
    /// that one is still to be reported.
    ///
    /// # Errors
    /// [`JournalError::UnknownAttempt`]; SQLite errors.
    pub fn mark_outcome_reported(&self, outcome: &Outcome) -> Result<bool, JournalError> {
        let request_id = outcome.request_id;
        self.write(|tx| {
            let attempt =
                load_attempt(tx, request_id)?.ok_or(JournalError::UnknownAttempt(request_id))?;
            if attempt.current_outcome().as_ref() != Some(outcome) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE attempts SET outcome_reported = 1 WHERE request_id = ?1",
                params![request_id.to_string()],
            )?;
            Ok(true)
        })
    }

    /// Counts for the staff screen since `since`: codes issued by action, slips printed,
    /// refusals and print failures.
    ///
    /// # Errors
    /// SQLite errors, or `since` outside the storable range.
    pub fn counts_since(&self, since: OffsetDateTime) -> Result<Counts, JournalError> {
        let since = timestamp_to_text(since)?;
        self.read(|tx| {
            let count = |sql: &str| -> Result<u64, JournalError> {
                let n: i64 = tx.query_row(sql, params![since], |row| row.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            Ok(Counts {
                applies: count(
                    "SELECT COUNT(*) FROM attempts WHERE action = 'apply' AND issued_at >= ?1",
                )?,
                reissues: count(
                    "SELECT COUNT(*) FROM attempts WHERE action = 'reissue' AND issued_at >= ?1",
                )?,
                printed: count(
                    "SELECT COUNT(*) FROM attempts WHERE state = 'printed' AND outcome_at >= ?1",
                )?,
                refusals: count("SELECT COUNT(*) FROM events WHERE kind = 'refused' AND at >= ?1")?,
                print_failures: count(
                    "SELECT COUNT(*) FROM events WHERE kind = 'print_failed' AND at >= ?1",
                )?,
            })
        })
    }

    /// The latest events of these kinds, newest first, at most `limit` (the staff screen's
    /// recent errors; the last out-of-service or back-in-service at start).
    ///
    /// # Errors
    /// SQLite errors, or a stored event this build cannot read.
    pub fn recent_events(
        &self,
        kinds: &[JournalKind],
        limit: usize,
    ) -> Result<Vec<JournalEvent>, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let kinds = kinds
            .iter()
            .map(enum_to_text)
            .collect::<Result<Vec<_>, _>>()?;
        let kinds = serde_json::to_string(&kinds).map_err(|_| corrupt("kinds"))?;
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, at, kind, detail_json FROM events \
                 WHERE kind IN (SELECT value FROM json_each(?1)) ORDER BY seq DESC LIMIT ?2",
            )?;
            read_events(&mut stmt, params![kinds, limit])
        })
    }

    /// Events of one kind since `since`, counted by the value of one detail key (`reason`), most
    /// frequent first (then by value); events without the key count under `""`.
    ///
    /// # Errors
    /// SQLite errors, or `since` outside the storable range.
    pub fn count_by_detail_since(
        &self,
        kind: JournalKind,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<(String, u64)>, JournalError> {
        let since = timestamp_to_text(since)?;
        let kind = enum_to_text(&kind)?;
        let path = format!("$.\"{}\"", key.replace('"', ""));
        self.read(|tx| {
            let mut stmt = tx.prepare(
                "SELECT COALESCE(json_extract(detail_json, ?3), '') AS value, COUNT(*) AS n \
                 FROM events WHERE kind = ?1 AND at >= ?2 \
                 GROUP BY value ORDER BY n DESC, value",
            )?;
            let rows = stmt.query_map(params![kind, since, path], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                let (value, n) = row?;
                counts.push((value, u64::try_from(n).unwrap_or(0)));
            }
            Ok(counts)
        })
    }
}

impl Attempt {
    /// The latest print outcome as reported to the central, if there is one.
    fn current_outcome(&self) -> Option<Outcome> {
        Some(Outcome {
            request_id: self.request_id,
            code_id: self.code.as_ref()?.code_id,
            result: self.outcome.clone()?,
            at: self.outcome_at?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Writing inside a transaction
// ---------------------------------------------------------------------------------------------

/// Inserts one event with a fresh id; free text in `detail` is scrubbed of ID numbers.
fn insert_event(
    tx: &Connection,
    kind: JournalKind,
    detail: BTreeMap<String, String>,
    at: OffsetDateTime,
) -> Result<JournalEvent, JournalError> {
    let detail: BTreeMap<String, String> = detail
        .into_iter()
        .map(|(key, value)| {
            let value = match scrub(&value) {
                Cow::Borrowed(_) => value,
                Cow::Owned(masked) => {
                    tracing::warn!(key = %key, "an ID number in a journal detail was masked");
                    masked
                }
            };
            (key, value)
        })
        .collect();
    let event = JournalEvent {
        id: Uuid::new_v4(),
        at,
        kind,
        detail,
    };
    let detail_json = serde_json::to_string(&event.detail)
        .map_err(|_| JournalError::Corrupt("event detail cannot be serialised".into()))?;
    tx.execute(
        "INSERT INTO events (id, at, kind, detail_json) VALUES (?1, ?2, ?3, ?4)",
        params![
            event.id.hyphenated().to_string(),
            timestamp_to_text(at)?,
            enum_to_text(&kind)?,
            detail_json
        ],
    )?;
    Ok(event)
}

/// Sets an attempt's print outcome (from `Issued` or `PrintFailed`) and writes its event.
fn set_outcome(
    tx: &Connection,
    request_id: RequestId,
    outcome: &OutcomeKind,
    at: OffsetDateTime,
) -> Result<JournalEvent, JournalError> {
    let at_text = timestamp_to_text(at)?;
    let old = load_attempt(tx, request_id)?.ok_or(JournalError::UnknownAttempt(request_id))?;
    let code = match (&old.state, &old.code) {
        (AttemptState::Issued | AttemptState::PrintFailed, Some(code)) => code,
        _ => {
            return Err(JournalError::WrongState {
                request_id,
                state: old.state,
                operation: match outcome {
                    OutcomeKind::Printed => "record printed",
                    OutcomeKind::PrintFailed { .. } => "record a print failure",
                },
            });
        }
    };
    let mut detail = BTreeMap::from([
        ("session".to_owned(), old.session.hyphenated().to_string()),
        ("request_id".to_owned(), request_id.to_string()),
        ("code_id".to_owned(), code.code_id.to_string()),
        ("serial".to_owned(), code.serial.to_string()),
    ]);
    let kind = match outcome {
        OutcomeKind::Printed => {
            tx.execute(
                "UPDATE attempts SET state = 'printed', print_failure = NULL, \
                 print_detail = NULL, outcome_at = ?2, outcome_reported = 0 \
                 WHERE request_id = ?1",
                params![request_id.to_string(), at_text],
            )?;
            JournalKind::Printed
        }
        OutcomeKind::PrintFailed {
            reason,
            detail: words,
        } => {
            let reason = enum_to_text(reason)?;
            tx.execute(
                "UPDATE attempts SET state = 'print_failed', print_failure = ?2, \
                 print_detail = ?3, outcome_at = ?4, outcome_reported = 0 \
                 WHERE request_id = ?1",
                params![request_id.to_string(), reason, words, at_text],
            )?;
            detail.insert("reason".to_owned(), reason);
            if let Some(words) = words {
                detail.insert("detail".to_owned(), words.clone());
            }
            JournalKind::PrintFailed
        }
    };
    insert_event(tx, kind, detail, at)
}

// ---------------------------------------------------------------------------------------------
// Reading attempts
// ---------------------------------------------------------------------------------------------

const ATTEMPT_COLUMNS: &str = "request_id, session, action, person_key, state, requested_at, \
     code_id, kid, serial, issued_on, expires_on, qr_text, issued_at, not_issued_reason, \
     print_failure, print_detail, outcome_at, outcome_reported";

/// An attempt row before its values are checked.
struct RawAttempt {
    request_id: String,
    session: String,
    action: String,
    person_key: Option<String>,
    state: String,
    requested_at: String,
    code_id: Option<String>,
    kid: Option<u8>,
    serial: Option<u16>,
    issued_on: Option<String>,
    expires_on: Option<String>,
    qr_text: Option<String>,
    issued_at: Option<String>,
    not_issued_reason: Option<String>,
    print_failure: Option<String>,
    print_detail: Option<String>,
    outcome_at: Option<String>,
    outcome_reported: i64,
}

impl RawAttempt {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            request_id: row.get(0)?,
            session: row.get(1)?,
            action: row.get(2)?,
            person_key: row.get(3)?,
            state: row.get(4)?,
            requested_at: row.get(5)?,
            code_id: row.get(6)?,
            kid: row.get(7)?,
            serial: row.get(8)?,
            issued_on: row.get(9)?,
            expires_on: row.get(10)?,
            qr_text: row.get(11)?,
            issued_at: row.get(12)?,
            not_issued_reason: row.get(13)?,
            print_failure: row.get(14)?,
            print_detail: row.get(15)?,
            outcome_at: row.get(16)?,
            outcome_reported: row.get(17)?,
        })
    }

    fn into_attempt(self) -> Result<Attempt, JournalError> {
        let state: AttemptState = enum_from_text(&self.state, "attempts.state")?;
        let code = match (
            self.code_id,
            self.kid,
            self.serial,
            self.issued_on,
            self.expires_on,
            self.qr_text,
        ) {
            (None, None, None, None, None, None) => None,
            (
                Some(code_id),
                Some(kid),
                Some(serial),
                Some(issued_on),
                Some(expires_on),
                Some(qr_text),
            ) => Some(IssuedCode {
                code_id: CodeId::parse(&code_id).map_err(|_| corrupt("attempts.code_id"))?,
                kid,
                serial,
                issued_on: date_from_text(&issued_on, "attempts.issued_on")?,
                expires_on: date_from_text(&expires_on, "attempts.expires_on")?,
                qr_text,
                replaced: false,
            }),
            _ => return Err(corrupt("attempts.code_id")),
        };
        let outcome = match (state, self.print_failure) {
            (AttemptState::Printed, None) => Some(OutcomeKind::Printed),
            (AttemptState::PrintFailed, Some(reason)) => Some(OutcomeKind::PrintFailed {
                reason: enum_from_text(&reason, "attempts.print_failure")?,
                detail: self.print_detail,
            }),
            (AttemptState::Printed | AttemptState::PrintFailed, _) => {
                return Err(corrupt("attempts.print_failure"));
            }
            _ => None,
        };
        Ok(Attempt {
            request_id: request_id_from_text(&self.request_id, "attempts.request_id")?,
            session: Uuid::parse_str(&self.session).map_err(|_| corrupt("attempts.session"))?,
            action: enum_from_text(&self.action, "attempts.action")?,
            person_key: self.person_key,
            state,
            requested_at: timestamp_from_text(&self.requested_at, "attempts.requested_at")?,
            code,
            issued_at: self
                .issued_at
                .map(|t| timestamp_from_text(&t, "attempts.issued_at"))
                .transpose()?,
            not_issued_reason: self.not_issued_reason,
            outcome,
            outcome_at: self
                .outcome_at
                .map(|t| timestamp_from_text(&t, "attempts.outcome_at"))
                .transpose()?,
            outcome_reported: self.outcome_reported != 0,
        })
    }
}

fn load_attempt(tx: &Connection, request_id: RequestId) -> Result<Option<Attempt>, JournalError> {
    tx.query_row(
        &format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE request_id = ?1"),
        params![request_id.to_string()],
        RawAttempt::from_row,
    )
    .optional()?
    .map(RawAttempt::into_attempt)
    .transpose()
}

/// The attempts matching `condition` (a fixed SQL expression), oldest first.
fn load_attempts(tx: &Connection, condition: &str) -> Result<Vec<Attempt>, JournalError> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE {condition} ORDER BY seq"
    ))?;
    let rows = stmt.query_map([], RawAttempt::from_row)?;
    let mut attempts = Vec::new();
    for row in rows {
        attempts.push(row?.into_attempt()?);
    }
    Ok(attempts)
}

// ---------------------------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------------------------

/// Brings the file up to [`Journal::schema_version`]; refuses a newer one. Each migration runs
/// once, in its own `BEGIN IMMEDIATE` transaction that first re-reads `user_version` (which
/// SQLite writes transactionally, with the schema change).
fn migrate(conn: &mut Connection) -> Result<(), JournalError> {
    let latest = Journal::schema_version();
    for (version, sql) in (1..).zip(MIGRATIONS) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if current > latest {
            return Err(JournalError::TooNew {
                found: current,
                known: latest,
            });
        }
        if version > current {
            tx.execute_batch(sql)
                .map_err(|e| JournalError::Migration(format!("version {version}: {e}")))?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Stored forms
// ---------------------------------------------------------------------------------------------

/// Stored timestamps: UTC with nine fraction digits, so that text order is time order.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// Stored calendar dates.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

fn timestamp_to_text(at: OffsetDateTime) -> Result<String, JournalError> {
    at.checked_to_offset(UtcOffset::UTC)
        .filter(|utc| (0..=9999).contains(&utc.year()))
        .ok_or(JournalError::OutOfRange)?
        .format(TIMESTAMP)
        .map_err(|_| JournalError::OutOfRange)
}

fn timestamp_from_text(text: &str, column: &str) -> Result<OffsetDateTime, JournalError> {
    PrimitiveDateTime::parse(text, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| corrupt(column))
}

fn date_to_text(date: Date) -> Result<String, JournalError> {
    if !(0..=9999).contains(&date.year()) {
        return Err(JournalError::OutOfRange);
    }
    date.format(DATE).map_err(|_| JournalError::OutOfRange)
}

fn date_from_text(text: &str, column: &str) -> Result<Date, JournalError> {
    Date::parse(text, DATE).map_err(|_| corrupt(column))
}

fn request_id_from_text(text: &str, column: &str) -> Result<RequestId, JournalError> {
    Uuid::parse_str(text)
        .map(RequestId::new)
        .map_err(|_| corrupt(column))
}

/// The stored form of a unit-variant enum: its serde (`snake_case`) name.
fn enum_to_text<T: Serialize>(value: &T) -> Result<String, JournalError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        _ => Err(JournalError::Corrupt("a value with no text form".into())),
    }
}

/// A unit-variant enum from its stored serde name.
fn enum_from_text<T: DeserializeOwned>(text: &str, column: &str) -> Result<T, JournalError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| corrupt(column))
}

/// Reads `id, at, kind, detail_json` rows of the events table as events.
fn read_events(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<JournalEvent>, JournalError> {
    let rows = stmt.query_map(params, |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (id, at, kind, detail) = row?;
        events.push(JournalEvent {
            id: Uuid::parse_str(&id).map_err(|_| corrupt("events.id"))?,
            at: timestamp_from_text(&at, "events.at")?,
            kind: enum_from_text(&kind, "events.kind")?,
            detail: serde_json::from_str(&detail).map_err(|_| corrupt("events.detail_json"))?,
        });
    }
    Ok(events)
}

fn corrupt(column: &str) -> JournalError {
    JournalError::Corrupt(column.to_owned())
}

/// Whether `key` looks like a keyed hash: 64 lowercase hex characters.
fn is_person_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `text` with every word (run of ASCII letters and digits) that parses as an ID number
/// replaced by its masked form.
fn scrub(text: &str) -> Cow<'_, str> {
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| matches!(word.len(), 15 | 18))
        .filter_map(|word| IdNumber::parse(word).ok().map(|id| (word, id.masked())));
    let mut scrubbed = Cow::Borrowed(text);
    for (word, masked) in words {
        scrubbed = Cow::Owned(scrubbed.replace(word, &masked));
    }
    scrubbed
}
