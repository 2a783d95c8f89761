//! SQLite storage: the [`Store`] of a single node, in one database file under the data directory.
//!
//! # The file
//!
//! [`SqliteStore::open`] creates the file if needed, switches it to WAL journal mode and brings
//! its schema up to date (the migrations under `central/migrations/sqlite/`, recorded in
//! `schema_migrations`). A file written by a newer release (a schema version this build does not
//! know) is refused. Every connection uses `synchronous=FULL`, `foreign_keys=ON` and a 5 s busy
//! timeout, so that a command-line subcommand can write the file while `serve` runs on it: each
//! waits for the other's write transaction to end.
//!
//! # Concurrency
//!
//! The store hands out connections from a small pool, one per call, so calls on tokio's
//! blocking threads run side by side. Reads run in a deferred transaction (a consistent
//! snapshot; in WAL mode they never wait for writers). Writes run in `BEGIN IMMEDIATE`
//! transactions: they take the file's write lock before reading anything, so two writers, in
//! this process or another, are serialised and each sees what the other committed. In
//! particular, two `issue` calls for one person run one after the other, and the schema backs
//! this with a partial unique index allowing one active code per person.
//!
//! SQLite admits one writer at a time anyway, so the writers of one store also queue on a mutex
//! before they ask SQLite for the lock. They then wait their turn however long the queue is
//! (SQLite's busy handler polls and has no notion of order, so under a burst of writes and a
//! slow disk a waiter could otherwise give up after the busy timeout while others get through);
//! the busy timeout only applies between processes, such as a subcommand and `serve`.
//!
//! # Stored forms
//!
//! Timestamps are RFC 3339 text in UTC with nine fraction digits (text order is time order;
//! they come back in UTC, which compares equal to the instant stored), dates are ISO text,
//! enumerations their `snake_case` wire names, code ids lowercase hex, request and event ids
//! hyphenated UUIDs, token hashes and certificate fingerprints 32-byte blobs, heartbeat reports,
//! journal details and the kiosk configuration JSON.
//!
//! # Personal data
//!
//! Only the `citizens` table holds full ID numbers, names and photos; every other table refers
//! to a person by row id. Journal details are stored as the kiosk sent them (the kiosk puts only
//! keyed hashes and masked forms in them). Error messages never quote a stored value.
//!
//! # Choices the trait leaves open
//!
//! - [`Store::report_lost`] marks the person's code lost when its status is active, whether or
//!   not it has passed its last valid day (the call has no "today"). The person then replaces it
//!   with a reissue.
//! - [`Store::mark_printed`] keeps the first time reported; [`Store::mark_print_failed`] keeps
//!   the latest report. Both answer `NotFound` for an unknown code.
//! - [`Store::record_heartbeat`] and [`Store::log_verification`] answer `NotFound` for an
//!   unknown kiosk or verifier; [`Store::create_session`] for an unknown citizen.
//! - Journal events are unique per kiosk and event id; the time a batch was received is taken
//!   from the service's clock.
//! - [`Store::record_entry`] checks the venue's status and, for a poster scan, that the poster
//!   is the current one, in its own write transaction, so that a reprint or a suspension
//!   committed before it always wins. [`Store::venue_entries`] masks names as it reads them: no
//!   full name leaves storage on the venue path.

mod codes;
mod convert;
mod migrate;
mod pool;
mod venues;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use protocol::IdNumber;
use protocol::api::{
    CodeId, Color, HeartbeatRequest, JournalEvent, JournalKind, KioskConfig, PrintFailure,
    RequestId,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;

use self::convert::{
    DbResult, corrupt, db_error, enum_from_text, enum_to_text, from_json, hash_from_blob,
    is_foreign_key_violation, is_unique_violation, timestamp_from_text, timestamp_to_text, to_json,
};
use self::pool::Pool;
use crate::model::{
    Citizen, CitizenId, CodeRecord, HeartbeatRecord, IssueInput, KioskRecord, NewCitizen, NewCode,
    Principal, Role, SessionRecord, StoredPhoto, VerificationLogEntry,
};
use crate::store::{IssueError, Issued, Store, StoreError};
use crate::venues::{
    Decision, EntryRefused, EntryView, NewEntry, PosterRecord, Venue, VenueApplication, VenueRowId,
};
use protocol::venue::VenueId;

/// The `settings` key of the kiosk configuration.
const KIOSK_CONFIG_KEY: &str = "kiosk_config";

use crate::model::DEFAULT_IDLE_TIMEOUT_SECONDS;

/// The [`Store`] of a single node: one SQLite file. Cheap to share (`Send + Sync`); open it once
/// per process and share it.
pub struct SqliteStore {
    pool: Pool,
    /// Held by this store's writers for the length of their transaction.
    write_lock: Mutex<()>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it if needed, and migrates its schema.
    ///
    /// Fails with `Database` when the file cannot be opened, is not a SQLite database, cannot
    /// use WAL journal mode, or has a schema version newer than this build knows.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = pool::connect(path)?;
        pool::enable_wal(&conn)?;
        migrate::migrate(&mut conn)?;
        Ok(SqliteStore {
            pool: Pool::new(path, conn),
            write_lock: Mutex::new(()),
        })
    }

    /// The schema version this build creates and understands.
    pub fn schema_version() -> i64 {
        migrate::latest_version()
    }

    /// Runs `f` in a deferred (read) transaction.
    fn read<T>(
        &self,
        operation: &str,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(|conn| {
            let tx = conn.transaction().db(operation)?;
            let value = f(&tx)?;
            tx.commit().db(operation)?;
            Ok(value)
        })
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled back
    /// otherwise, after the writers of this store that came first.
    fn write<T, E: From<StoreError>>(
        &self,
        operation: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        // No data is guarded by the mutex, so a writer that panicked leaves nothing to repair.
        let _turn = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.pool.with(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db(operation)?;
            let value = f(&tx)?;
            tx.commit().db(operation)?;
            Ok(value)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Row readers
// ---------------------------------------------------------------------------------------------

const CITIZEN_COLUMNS: &str = "id, id_number, name, photo_mime, photo, color, realname_verified";

/// A citizen row before its values are checked.
struct RawCitizen {
    id: i64,
    id_number: String,
    name: String,
    photo_mime: Option<String>,
    photo: Option<Vec<u8>>,
    color: String,
    realname_verified: i64,
}

impl RawCitizen {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            id_number: row.get(1)?,
            name: row.get(2)?,
            photo_mime: row.get(3)?,
            photo: row.get(4)?,
            color: row.get(5)?,
            realname_verified: row.get(6)?,
        })
    }

    fn into_citizen(self) -> Result<Citizen, StoreError> {
        let photo = match (self.photo_mime, self.photo) {
            (None, None) => None,
            (Some(mime), Some(bytes)) => Some(StoredPhoto { mime, bytes }),
            _ => return Err(corrupt("citizens.photo")),
        };
        Ok(Citizen {
            id: self.id,
            id_number: IdNumber::parse(&self.id_number)
                .map_err(|_| corrupt("citizens.id_number"))?,
            name: self.name,
            photo,
            color: enum_from_text(&self.color, "citizens.color")?,
            realname_verified: match self.realname_verified {
                0 => false,
                1 => true,
                _ => return Err(corrupt("citizens.realname_verified")),
            },
        })
    }
}

fn query_citizen(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Citizen>, StoreError> {
    conn.query_row(sql, params, RawCitizen::from_row)
        .optional()
        .db("read citizen")?
        .map(RawCitizen::into_citizen)
        .transpose()
}

const KIOSK_COLUMNS: &str = "k.kiosk_id, k.name, k.address, k.hours, k.cert_fingerprint";

/// A kiosk row (with its heartbeat, when joined) before its values are checked.
struct RawKiosk {
    kiosk_id: String,
    name: String,
    address: String,
    hours: String,
    cert_fingerprint: Vec<u8>,
}

impl RawKiosk {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            kiosk_id: row.get(0)?,
            name: row.get(1)?,
            address: row.get(2)?,
            hours: row.get(3)?,
            cert_fingerprint: row.get(4)?,
        })
    }

    fn into_record(self) -> Result<KioskRecord, StoreError> {
        Ok(KioskRecord {
            cert_fingerprint: hash_from_blob(&self.cert_fingerprint, "kiosks.cert_fingerprint")?,
            kiosk_id: self.kiosk_id,
            name: self.name,
            address: self.address,
            hours: self.hours,
        })
    }
}

fn heartbeat_from_parts(
    received_at: Option<String>,
    report_json: Option<String>,
) -> Result<Option<HeartbeatRecord>, StoreError> {
    match (received_at, report_json) {
        (None, None) => Ok(None),
        (Some(received_at), Some(report)) => Ok(Some(HeartbeatRecord {
            received_at: timestamp_from_text(&received_at, "heartbeats.received_at")?,
            report: from_json::<HeartbeatRequest>(&report, "heartbeats.report_json")?,
        })),
        _ => Err(corrupt("heartbeats")),
    }
}

fn default_kiosk_config() -> KioskConfig {
    KioskConfig {
        version: 0,
        notice: None,
        service_hours: Vec::new(),
        staff: Vec::new(),
        idle_timeout_seconds: DEFAULT_IDLE_TIMEOUT_SECONDS,
    }
}

fn read_kiosk_config(conn: &Connection) -> Result<KioskConfig, StoreError> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [KIOSK_CONFIG_KEY],
            |row| row.get(0),
        )
        .optional()
        .db("read kiosk config")?;
    match stored {
        Some(json) => from_json(&json, "settings.value"),
        None => Ok(default_kiosk_config()),
    }
}

/// Maps an insert's error: a foreign-key violation to `NotFound`, a unique violation to
/// `Duplicate(what)`, anything else to `Database`.
fn insert_error(operation: &str, what: &str, error: &rusqlite::Error) -> StoreError {
    if is_foreign_key_violation(error) {
        StoreError::NotFound
    } else if is_unique_violation(error) {
        StoreError::Duplicate(what.to_owned())
    } else {
        db_error(operation, error)
    }
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

impl Store for SqliteStore {
    fn upsert_citizen(&self, citizen: &NewCitizen) -> Result<CitizenId, StoreError> {
        let color = enum_to_text(&citizen.color)?;
        self.write("upsert citizen", |tx| {
            tx.query_row(
                "INSERT INTO citizens \
                     (id_number, name, photo_mime, photo, color, realname_verified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id_number) DO UPDATE SET \
                     name = excluded.name, photo_mime = excluded.photo_mime, \
                     photo = excluded.photo, color = excluded.color, \
                     realname_verified = excluded.realname_verified \
                 RETURNING id",
                params![
                    citizen.id_number.as_str(),
                    citizen.name,
                    citizen.photo.as_ref().map(|p| p.mime.as_str()),
                    citizen.photo.as_ref().map(|p| p.bytes.as_slice()),
                    color,
                    citizen.realname_verified,
                ],
                |row| row.get(0),
            )
            .db("upsert citizen")
        })
    }

    fn citizen_by_id_number(&self, id_number: &IdNumber) -> Result<Option<Citizen>, StoreError> {
        self.read("read citizen", |conn| {
            query_citizen(
                conn,
                &format!("SELECT {CITIZEN_COLUMNS} FROM citizens WHERE id_number = ?1"),
                [id_number.as_str()],
            )
        })
    }

    fn citizen(&self, id: CitizenId) -> Result<Option<Citizen>, StoreError> {
        self.read("read citizen", |conn| {
            query_citizen(
                conn,
                &format!("SELECT {CITIZEN_COLUMNS} FROM citizens WHERE id = ?1"),
                [id],
            )
        })
    }

    fn set_color(&self, id_number: &IdNumber, color: Color) -> Result<(), StoreError> {
        let color = enum_to_text(&color)?;
        self.write("set colour", |tx| {
            let changed = tx
                .execute(
                    "UPDATE citizens SET color = ?2 WHERE id_number = ?1",
                    params![id_number.as_str(), color],
                )
                .db("set colour")?;
            if changed == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    fn current_code(&self, citizen: CitizenId) -> Result<Option<CodeRecord>, StoreError> {
        self.read("read current code", |conn| {
            codes::current_code(conn, citizen)
        })
    }

    fn code(&self, code_id: &CodeId) -> Result<Option<CodeRecord>, StoreError> {
        self.read("read code", |conn| codes::code_by_id(conn, code_id))
    }

    fn code_by_request_id(&self, request_id: &RequestId) -> Result<Option<CodeRecord>, StoreError> {
        self.read("read code by request id", |conn| {
            codes::code_by_request_id(conn, request_id)
        })
    }

    fn max_serial(&self, citizen: CitizenId) -> Result<u16, StoreError> {
        self.read("read max serial", |conn| codes::max_serial(conn, citizen))
    }

    fn issue(
        &self,
        input: &IssueInput,
        eligibility: &protocol::Eligibility,
        sign: &mut dyn FnMut(u16) -> Result<NewCode, String>,
    ) -> Result<Issued, IssueError> {
        self.write("issue code", |tx| {
            codes::issue_in(tx, input, eligibility, sign)
        })
    }

    fn mark_printed(&self, code_id: &CodeId, at: OffsetDateTime) -> Result<(), StoreError> {
        let at = timestamp_to_text(at)?;
        self.write("mark printed", |tx| {
            let changed = tx
                .execute(
                    "UPDATE codes SET printed_at = COALESCE(printed_at, ?2) WHERE code_id = ?1",
                    params![code_id.to_string(), at],
                )
                .db("mark printed")?;
            if changed == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    fn mark_print_failed(
        &self,
        code_id: &CodeId,
        at: OffsetDateTime,
        reason: PrintFailure,
    ) -> Result<(), StoreError> {
        let at = timestamp_to_text(at)?;
        let reason = enum_to_text(&reason)?;
        self.write("mark print failed", |tx| {
            let changed = tx
                .execute(
                    "UPDATE codes SET print_failed_at = ?2, print_failure = ?3 \
                     WHERE code_id = ?1",
                    params![code_id.to_string(), at, reason],
                )
                .db("mark print failed")?;
            if changed == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    fn report_lost(
        &self,
        citizen: CitizenId,
        at: OffsetDateTime,
    ) -> Result<CodeRecord, StoreError> {
        let at = timestamp_to_text(at)?;
        self.write("report lost", |tx| {
            let code_id: Option<String> = tx
                .query_row(
                    "UPDATE codes SET status = 'lost', ended_at = ?2 \
                     WHERE citizen_id = ?1 AND status = 'active' RETURNING code_id",
                    params![citizen, at],
                    |row| row.get(0),
                )
                .optional()
                .db("report lost")?;
            let code_id = code_id.ok_or(StoreError::NotFound)?;
            let code_id = CodeId::parse(&code_id).map_err(|_| corrupt("codes.code_id"))?;
            codes::code_by_id(tx, &code_id)?
                .ok_or_else(|| StoreError::Database("lost code not found".into()))
        })
    }

    fn create_session(
        &self,
        token_hash: &[u8; 32],
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        let expires_at = timestamp_to_text(session.expires_at)?;
        self.write("create session", |tx| {
            tx.execute(
                "INSERT INTO sessions \
                     (token_hash, citizen_id, kiosk_id, expires_at, shown_code_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    token_hash.as_slice(),
                    session.citizen,
                    session.kiosk_id,
                    expires_at,
                    session.shown_code.map(|id| id.to_string()),
                ],
            )
            .map_err(|e| insert_error("create session", "session token", &e))?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.read("read session", |conn| {
            let raw: Option<(i64, String, String, Option<String>)> = conn
                .query_row(
                    "SELECT citizen_id, kiosk_id, expires_at, shown_code_id \
                     FROM sessions WHERE token_hash = ?1",
                    [token_hash.as_slice()],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .optional()
                .db("read session")?;
            raw.map(|(citizen, kiosk_id, expires_at, shown)| {
                Ok(SessionRecord {
                    citizen,
                    kiosk_id,
                    shown_code: shown
                        .map(|id| CodeId::parse(&id).map_err(|_| corrupt("sessions.shown_code_id")))
                        .transpose()?,
                    expires_at: timestamp_from_text(&expires_at, "sessions.expires_at")?,
                })
            })
            .transpose()
        })
    }

    fn purge_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = timestamp_to_text(now)?;
        self.write("purge sessions", |tx| {
            let removed = tx
                .execute("DELETE FROM sessions WHERE expires_at < ?1", [now])
                .db("purge sessions")?;
            u64::try_from(removed)
                .map_err(|_| StoreError::Database("purged count out of range".into()))
        })
    }

    fn add_principal(
        &self,
        role: Role,
        name: &str,
        org: &str,
        token_hash: &[u8; 32],
    ) -> Result<i64, StoreError> {
        let created_at = timestamp_to_text(OffsetDateTime::now_utc())?;
        self.write("add principal", |tx| {
            tx.query_row(
                "INSERT INTO principals (role, name, org, token_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![role.as_str(), name, org, token_hash.as_slice(), created_at],
                |row| row.get(0),
            )
            .map_err(|e| insert_error("add principal", "principal token", &e))
        })
    }

    fn principal(&self, token_hash: &[u8; 32]) -> Result<Option<Principal>, StoreError> {
        self.read("read principal", |conn| {
            let raw: Option<(i64, String, String, String, Option<i64>)> = conn
                .query_row(
                    "SELECT id, role, name, org, venue_id FROM principals WHERE token_hash = ?1",
                    [token_hash.as_slice()],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .optional()
                .db("read principal")?;
            raw.map(|(id, role, name, org, venue)| {
                Ok(Principal {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("principals.role"))?,
                    name,
                    org,
                    venue,
                })
            })
            .transpose()
        })
    }

    fn upsert_kiosk(&self, kiosk: &KioskRecord) -> Result<(), StoreError> {
        self.write("upsert kiosk", |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM kiosks \
                     WHERE cert_fingerprint = ?1 AND kiosk_id <> ?2)",
                    params![kiosk.cert_fingerprint.as_slice(), kiosk.kiosk_id],
                    |row| row.get(0),
                )
                .db("check certificate fingerprint")?;
            if taken {
                return Err(StoreError::Duplicate(
                    "certificate fingerprint already belongs to another kiosk".into(),
                ));
            }
            tx.execute(
                "INSERT INTO kiosks (kiosk_id, name, address, hours, cert_fingerprint) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (kiosk_id) DO UPDATE SET \
                     name = excluded.name, address = excluded.address, \
                     hours = excluded.hours, cert_fingerprint = excluded.cert_fingerprint",
                params![
                    kiosk.kiosk_id,
                    kiosk.name,
                    kiosk.address,
                    kiosk.hours,
                    kiosk.cert_fingerprint.as_slice()
                ],
            )
            .map_err(|e| insert_error("upsert kiosk", "kiosk", &e))?;
            Ok(())
        })
    }

    fn kiosk_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<KioskRecord>, StoreError> {
        self.read("read kiosk", |conn| {
            conn.query_row(
                &format!("SELECT {KIOSK_COLUMNS} FROM kiosks k WHERE k.cert_fingerprint = ?1"),
                [fingerprint.as_slice()],
                RawKiosk::from_row,
            )
            .optional()
            .db("read kiosk")?
            .map(RawKiosk::into_record)
            .transpose()
        })
    }

    fn record_heartbeat(
        &self,
        kiosk_id: &str,
        heartbeat: &HeartbeatRecord,
    ) -> Result<(), StoreError> {
        let received_at = timestamp_to_text(heartbeat.received_at)?;
        let report = to_json(&heartbeat.report, "heartbeat")?;
        self.write("record heartbeat", |tx| {
            tx.execute(
                "INSERT INTO heartbeats (kiosk_id, received_at, report_json) \
                 VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kiosk_id) DO UPDATE SET \
                     received_at = excluded.received_at, report_json = excluded.report_json",
                params![kiosk_id, received_at, report],
            )
            .map_err(|e| insert_error("record heartbeat", "heartbeat", &e))?;
            Ok(())
        })
    }

    fn kiosks(&self) -> Result<Vec<(KioskRecord, Option<HeartbeatRecord>)>, StoreError> {
        self.read("list kiosks", |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {KIOSK_COLUMNS}, h.received_at, h.report_json \
                     FROM kiosks k LEFT JOIN heartbeats h ON h.kiosk_id = k.kiosk_id \
                     ORDER BY k.kiosk_id"
                ))
                .db("list kiosks")?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        RawKiosk::from_row(row)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<String>>(6)?,
                    ))
                })
                .db("list kiosks")?;
            let mut kiosks = Vec::new();
            for row in rows {
                let (kiosk, received_at, report) = row.db("list kiosks")?;
                kiosks.push((
                    kiosk.into_record()?,
                    heartbeat_from_parts(received_at, report)?,
                ));
            }
            Ok(kiosks)
        })
    }

    fn append_journal(
        &self,
        kiosk_id: &str,
        events: &[JournalEvent],
    ) -> Result<(u32, u32), StoreError> {
        let received_at = timestamp_to_text(OffsetDateTime::now_utc())?;
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            rows.push((
                event.id.hyphenated().to_string(),
                timestamp_to_text(event.at)?,
                enum_to_text(&event.kind)?,
                to_json(&event.detail, "journal detail")?,
            ));
        }
        self.write("append journal", |tx| {
            let mut insert = tx
                .prepare(
                    "INSERT INTO journal (kiosk_id, event_id, at, kind, detail_json, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (kiosk_id, event_id) DO NOTHING",
                )
                .db("append journal")?;
            let (mut accepted, mut duplicates) = (0u32, 0u32);
            for (event_id, at, kind, detail) in &rows {
                let inserted = insert
                    .execute(params![kiosk_id, event_id, at, kind, detail, received_at])
                    .db("append journal")?;
                if inserted == 0 {
                    duplicates = duplicates.saturating_add(1);
                } else {
                    accepted = accepted.saturating_add(1);
                }
            }
            Ok((accepted, duplicates))
        })
    }

    fn journal_counts(
        &self,
        kind: JournalKind,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let kind = enum_to_text(&kind)?;
        let from = timestamp_to_text(from)?;
        let until = timestamp_to_text(until)?;
        self.read("count journal events", |conn| {
            let mut statement = conn
                .prepare(
                    "SELECT kiosk_id, COUNT(*) FROM journal \
                     WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY kiosk_id",
                )
                .db("count journal events")?;
            let rows = statement
                .query_map(params![kind, from, until], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })
                .db("count journal events")?;
            let mut counts = BTreeMap::new();
            for row in rows {
                let (kiosk_id, count) = row.db("count journal events")?;
                counts.insert(
                    kiosk_id,
                    u64::try_from(count).map_err(|_| corrupt("journal count"))?,
                );
            }
            Ok(counts)
        })
    }

    fn log_verification(&self, entry: &VerificationLogEntry) -> Result<(), StoreError> {
        let at = timestamp_to_text(entry.at)?;
        let result = enum_to_text(&entry.result)?;
        self.write("log verification", |tx| {
            tx.execute(
                "INSERT INTO verification_log (verifier_id, at, code_id, result) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    entry.verifier,
                    at,
                    entry.code_id.map(|id| id.to_string()),
                    result
                ],
            )
            .map_err(|e| insert_error("log verification", "verification", &e))?;
            Ok(())
        })
    }

    fn kiosk_config(&self) -> Result<KioskConfig, StoreError> {
        self.read("read kiosk config", read_kiosk_config)
    }

    fn set_kiosk_config(&self, config: &KioskConfig) -> Result<u64, StoreError> {
        self.write("set kiosk config", |tx| {
            let version = read_kiosk_config(tx)?
                .version
                .checked_add(1)
                .ok_or_else(|| StoreError::Database("kiosk config version exhausted".into()))?;
            let stored = KioskConfig {
                version,
                ..config.clone()
            };
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![KIOSK_CONFIG_KEY, to_json(&stored, "kiosk config")?],
            )
            .db("set kiosk config")?;
            Ok(version)
        })
    }

    fn apply_venue(
        &self,
        key: &VenueId,
        application: &VenueApplication,
        at: OffsetDateTime,
    ) -> Result<VenueRowId, StoreError> {
        self.write("apply venue", |tx| {
            venues::apply_in(tx, key, application, at)
        })
    }

    fn venues(&self) -> Result<Vec<Venue>, StoreError> {
        self.read("list venues", venues::all_venues)
    }

    fn venue(&self, id: VenueRowId) -> Result<Option<Venue>, StoreError> {
        self.read("read venue", |conn| {
            venues::venue_where(conn, "id = ?1", id)
        })
    }

    fn venue_by_key(&self, key: &VenueId) -> Result<Option<Venue>, StoreError> {
        self.read("read venue", |conn| {
            venues::venue_where(conn, "venue_key = ?1", key.0.as_slice())
        })
    }

    fn venue_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Venue>, StoreError> {
        self.read("read venue", |conn| {
            venues::venue_where(conn, "token_hash = ?1", token_hash.as_slice())
        })
    }

    fn decide_venue(
        &self,
        id: VenueRowId,
        decision: &Decision,
        by: i64,
        at: OffsetDateTime,
    ) -> Result<Option<Venue>, StoreError> {
        self.write("decide venue", |tx| {
            venues::decide_in(tx, id, decision, by, at)
        })
    }

    fn new_poster(
        &self,
        venue: VenueRowId,
        at: OffsetDateTime,
        sign: &mut dyn FnMut(u16) -> Result<(u8, String), String>,
    ) -> Result<PosterRecord, StoreError> {
        self.write("new poster", |tx| {
            venues::new_poster_in(tx, venue, at, sign)
        })
    }

    fn current_poster(&self, venue: VenueRowId) -> Result<Option<PosterRecord>, StoreError> {
        self.read("read current poster", |conn| {
            venues::current_poster(conn, venue)
        })
    }

    fn record_entry(&self, entry: &NewEntry) -> Result<Result<i64, EntryRefused>, StoreError> {
        self.write("record entry", |tx| venues::record_entry_in(tx, entry))
    }

    fn venue_entries(
        &self,
        venue: VenueRowId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<EntryView>, StoreError> {
        self.read("list entries", |conn| {
            venues::entries(conn, venue, from, until)
        })
    }

    fn purge_venue_entries(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.write("purge entries", |tx| venues::purge_in(tx, before))
    }

    fn add_venue_verifier(
        &self,
        venue: VenueRowId,
        name: &str,
        token_hash: &[u8; 32],
    ) -> Result<i64, StoreError> {
        self.write("add venue verifier", |tx| {
            venues::add_verifier_in(tx, venue, name, token_hash)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn the_store_can_be_shared_across_threads() {
        assert_send_sync::<SqliteStore>();
    }

    #[test]
    fn default_config_is_always_open_with_no_staff() {
        let config = default_kiosk_config();
        assert_eq!(config.version, 0);
        assert!(config.notice.is_none());
        assert!(config.service_hours.is_empty());
        assert!(config.staff.is_empty());
        assert_eq!(config.idle_timeout_seconds, 120);
    }
}
