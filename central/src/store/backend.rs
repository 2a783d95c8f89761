//! The one implementation of [`Store`], over any [`Backend`]: a database that runs closures in
//! read and write transactions on a [`Conn`]. The statements, the order of the steps and the
//! checks of every value read live here once; a backend only connects, migrates, runs
//! transactions and says how it locks rows.
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
//!   from the service's clock. A batch inserts its events in event-id order, so that two
//!   overlapping batches stored at once take their row locks in one order.
//! - [`Store::record_entry`] checks the venue's status and, for a poster scan, that the poster
//!   is the current one, in its own write transaction under a lock on the venue's row, so that
//!   a reprint or a suspension committed before it always wins. [`Store::venue_entries`] masks
//!   names as it reads them: no full name leaves storage on the venue path.
//! - [`Store::set_kiosk_config`] locks the configuration's row (inserting the default first if
//!   there is none), so that concurrent changes get consecutive versions.

use std::collections::BTreeMap;

use protocol::IdNumber;
use protocol::api::{
    CodeId, Color, JournalEvent, JournalKind, KioskConfig, PrintFailure, RequestId,
};
use protocol::venue::VenueId;
use time::OffsetDateTime;

use crate::model::{
    Citizen, CitizenId, CodeRecord, HeartbeatRecord, IssueInput, KioskRecord, NewCitizen, NewCode,
    Principal, Role, SessionRecord, VerificationLogEntry,
};
use crate::store::convert::{
    corrupt, enum_to_text, from_json, timestamp_from_text, timestamp_to_text, to_json,
};
use crate::store::rows::{
    self, CITIZEN_COLUMNS, KIOSK_COLUMNS, KIOSK_CONFIG_KEY, PRINCIPAL_COLUMNS, default_kiosk_config,
};
use crate::store::sql::{Conn, Lock, Param};
use crate::store::{IssueError, Issued, Retryable, Store, StoreError, StoreHealth, codes, venues};
use crate::venues::{
    Decision, EntryRefused, EntryView, NewEntry, PosterRecord, Venue, VenueApplication, VenueRowId,
};

/// A database the shared store logic runs on.
pub(crate) trait Backend: Send + Sync + 'static {
    /// The backend's name, as `/healthz` reports it.
    const NAME: &'static str;

    /// The schema version this build writes.
    fn schema_version() -> i64;

    /// Runs `f` in a read-only transaction (a consistent snapshot).
    fn read<T>(
        &self,
        operation: &str,
        f: impl FnMut(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Runs `f` in a write transaction, committed when it returns `Ok` and rolled back
    /// otherwise. A backend may run `f` again after a transient failure.
    fn write<T, E: From<StoreError> + Retryable>(
        &self,
        operation: &str,
        f: impl FnMut(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E>;
}

/// Fails with `NotFound` when a statement changed no row.
fn changed_some(changed: u64) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn read_kiosk_config(conn: &mut dyn Conn, lock: &str) -> Result<KioskConfig, StoreError> {
    let stored = conn.query_opt(
        "read kiosk config",
        &format!("SELECT value FROM settings WHERE key = ?1{lock}"),
        &[KIOSK_CONFIG_KEY.into()],
        |row| row.text(0, "settings.value"),
    )?;
    match stored {
        Some(json) => from_json(&json, "settings.value"),
        None => Ok(default_kiosk_config()),
    }
}

fn query_citizen(
    conn: &mut dyn Conn,
    condition: &str,
    param: Param<'_>,
) -> Result<Option<Citizen>, StoreError> {
    conn.query_opt(
        "read citizen",
        &format!("SELECT {CITIZEN_COLUMNS} FROM citizens WHERE {condition}"),
        &[param],
        rows::citizen,
    )
}

impl<B: Backend> Store for B {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn health(&self) -> Result<StoreHealth, StoreError> {
        let found = self.read("read schema version", |conn| {
            conn.query_int(
                "read schema version",
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
        })?;
        Ok(StoreHealth {
            backend: B::NAME,
            schema_version: found,
            expected_schema_version: B::schema_version(),
        })
    }

    fn upsert_citizen(&self, citizen: &NewCitizen) -> Result<CitizenId, StoreError> {
        let color = enum_to_text(&citizen.color)?;
        self.write("upsert citizen", |tx| {
            tx.query_opt(
                "upsert citizen",
                "INSERT INTO citizens \
                     (id_number, name, photo_mime, photo, color, realname_verified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id_number) DO UPDATE SET \
                     name = excluded.name, photo_mime = excluded.photo_mime, \
                     photo = excluded.photo, color = excluded.color, \
                     realname_verified = excluded.realname_verified \
                 RETURNING id",
                &[
                    citizen.id_number.as_str().into(),
                    citizen.name.as_str().into(),
                    citizen.photo.as_ref().map(|p| p.mime.as_str()).into(),
                    citizen.photo.as_ref().map(|p| p.bytes.as_slice()).into(),
                    color.as_str().into(),
                    citizen.realname_verified.into(),
                ],
                |row| row.int(0, "citizens.id"),
            )?
            .ok_or_else(|| StoreError::Database("upsert citizen: no id returned".into()))
        })
    }

    fn citizen_by_id_number(&self, id_number: &IdNumber) -> Result<Option<Citizen>, StoreError> {
        self.read("read citizen", |conn| {
            query_citizen(conn, "id_number = ?1", id_number.as_str().into())
        })
    }

    fn citizen(&self, id: CitizenId) -> Result<Option<Citizen>, StoreError> {
        self.read("read citizen", |conn| {
            query_citizen(conn, "id = ?1", id.into())
        })
    }

    fn set_color(&self, id_number: &IdNumber, color: Color) -> Result<(), StoreError> {
        let color = enum_to_text(&color)?;
        self.write("set colour", |tx| {
            changed_some(tx.exec(
                "set colour",
                "UPDATE citizens SET color = ?2 WHERE id_number = ?1",
                &[id_number.as_str().into(), color.as_str().into()],
            )?)
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
        let code_id = code_id.to_string();
        self.write("mark printed", |tx| {
            changed_some(tx.exec(
                "mark printed",
                "UPDATE codes SET printed_at = COALESCE(printed_at, ?2) WHERE code_id = ?1",
                &[code_id.as_str().into(), at.as_str().into()],
            )?)
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
        let code_id = code_id.to_string();
        self.write("mark print failed", |tx| {
            changed_some(tx.exec(
                "mark print failed",
                "UPDATE codes SET print_failed_at = ?2, print_failure = ?3 WHERE code_id = ?1",
                &[
                    code_id.as_str().into(),
                    at.as_str().into(),
                    reason.as_str().into(),
                ],
            )?)
        })
    }

    fn report_lost(
        &self,
        citizen: CitizenId,
        at: OffsetDateTime,
    ) -> Result<CodeRecord, StoreError> {
        let at = timestamp_to_text(at)?;
        self.write("report lost", |tx| codes::report_lost_in(tx, citizen, &at))
    }

    fn create_session(
        &self,
        token_hash: &[u8; 32],
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        let expires_at = timestamp_to_text(session.expires_at)?;
        let shown = session.shown_code.map(|id| id.to_string());
        self.write("create session", |tx| {
            tx.execute(
                "INSERT INTO sessions \
                     (token_hash, citizen_id, kiosk_id, expires_at, shown_code_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                &[
                    token_hash.into(),
                    session.citizen.into(),
                    session.kiosk_id.as_str().into(),
                    expires_at.as_str().into(),
                    shown.as_deref().into(),
                ],
            )
            .map_err(|e| e.on_insert("create session", "session token"))?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.read("read session", |conn| {
            conn.query_opt(
                "read session",
                "SELECT citizen_id, kiosk_id, expires_at, shown_code_id \
                 FROM sessions WHERE token_hash = ?1",
                &[token_hash.into()],
                |row| {
                    Ok(SessionRecord {
                        citizen: row.int(0, "sessions.citizen_id")?,
                        kiosk_id: row.text(1, "sessions.kiosk_id")?,
                        shown_code: row
                            .opt_text(3, "sessions.shown_code_id")?
                            .map(|id| {
                                CodeId::parse(&id).map_err(|_| corrupt("sessions.shown_code_id"))
                            })
                            .transpose()?,
                        expires_at: timestamp_from_text(
                            &row.text(2, "sessions.expires_at")?,
                            "sessions.expires_at",
                        )?,
                    })
                },
            )
        })
    }

    fn purge_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = timestamp_to_text(now)?;
        self.write("purge sessions", |tx| {
            tx.exec(
                "purge sessions",
                "DELETE FROM sessions WHERE expires_at < ?1",
                &[now.as_str().into()],
            )
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
            tx.try_query_opt(
                "INSERT INTO principals (role, name, org, token_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                &[
                    role.as_str().into(),
                    name.into(),
                    org.into(),
                    token_hash.into(),
                    created_at.as_str().into(),
                ],
                |row| row.int(0, "principals.id"),
            )
            .map_err(|e| e.on_insert("add principal", "principal token"))?
            .ok_or_else(|| StoreError::Database("add principal: no id returned".into()))
        })
    }

    fn principal(&self, token_hash: &[u8; 32]) -> Result<Option<Principal>, StoreError> {
        self.read("read principal", |conn| {
            conn.query_opt(
                "read principal",
                &format!("SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE token_hash = ?1"),
                &[token_hash.into()],
                rows::principal,
            )
        })
    }

    fn upsert_kiosk(&self, kiosk: &KioskRecord) -> Result<(), StoreError> {
        self.write("upsert kiosk", |tx| {
            let taken = tx
                .query_opt(
                    "check certificate fingerprint",
                    "SELECT kiosk_id FROM kiosks WHERE cert_fingerprint = ?1 AND kiosk_id <> ?2",
                    &[
                        kiosk.cert_fingerprint.as_slice().into(),
                        kiosk.kiosk_id.as_str().into(),
                    ],
                    |_| Ok(()),
                )?
                .is_some();
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
                &[
                    kiosk.kiosk_id.as_str().into(),
                    kiosk.name.as_str().into(),
                    kiosk.address.as_str().into(),
                    kiosk.hours.as_str().into(),
                    kiosk.cert_fingerprint.as_slice().into(),
                ],
            )
            .map_err(|e| e.on_insert("upsert kiosk", "kiosk"))?;
            Ok(())
        })
    }

    fn kiosk_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<KioskRecord>, StoreError> {
        self.read("read kiosk", |conn| {
            conn.query_opt(
                "read kiosk",
                &format!("SELECT {KIOSK_COLUMNS} FROM kiosks k WHERE k.cert_fingerprint = ?1"),
                &[fingerprint.into()],
                rows::kiosk,
            )
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
                &[
                    kiosk_id.into(),
                    received_at.as_str().into(),
                    report.as_str().into(),
                ],
            )
            .map_err(|e| e.on_insert("record heartbeat", "heartbeat"))?;
            Ok(())
        })
    }

    fn kiosks(&self) -> Result<Vec<(KioskRecord, Option<HeartbeatRecord>)>, StoreError> {
        self.read("list kiosks", |conn| {
            conn.query_all(
                "list kiosks",
                &format!(
                    "SELECT {KIOSK_COLUMNS}, h.received_at, h.report_json \
                     FROM kiosks k LEFT JOIN heartbeats h ON h.kiosk_id = k.kiosk_id \
                     ORDER BY k.kiosk_id"
                ),
                &[],
                |row| Ok((rows::kiosk(row)?, rows::heartbeat(row, 5)?)),
            )
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
        // One order for every batch, so that overlapping batches never wait on each other in a
        // cycle. The first of two copies in a batch is the one stored.
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        self.write("append journal", |tx| {
            let (mut accepted, mut duplicates) = (0u32, 0u32);
            for (event_id, at, kind, detail) in &rows {
                let inserted = tx.exec(
                    "append journal",
                    "INSERT INTO journal \
                         (kiosk_id, event_id, at, kind, detail_json, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (kiosk_id, event_id) DO NOTHING",
                    &[
                        kiosk_id.into(),
                        event_id.as_str().into(),
                        at.as_str().into(),
                        kind.as_str().into(),
                        detail.as_str().into(),
                        received_at.as_str().into(),
                    ],
                )?;
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
            let rows = conn.query_all(
                "count journal events",
                "SELECT kiosk_id, COUNT(*) FROM journal \
                 WHERE kind = ?1 AND at >= ?2 AND at < ?3 GROUP BY kiosk_id",
                &[
                    kind.as_str().into(),
                    from.as_str().into(),
                    until.as_str().into(),
                ],
                |row| {
                    let count = row.int(1, "journal count")?;
                    Ok((
                        row.text(0, "journal.kiosk_id")?,
                        u64::try_from(count).map_err(|_| corrupt("journal count"))?,
                    ))
                },
            )?;
            Ok(rows.into_iter().collect())
        })
    }

    fn log_verification(&self, entry: &VerificationLogEntry) -> Result<(), StoreError> {
        let at = timestamp_to_text(entry.at)?;
        let result = enum_to_text(&entry.result)?;
        let code_id = entry.code_id.map(|id| id.to_string());
        self.write("log verification", |tx| {
            tx.execute(
                "INSERT INTO verification_log (verifier_id, at, code_id, result) \
                 VALUES (?1, ?2, ?3, ?4)",
                &[
                    entry.verifier.into(),
                    at.as_str().into(),
                    code_id.as_deref().into(),
                    result.as_str().into(),
                ],
            )
            .map_err(|e| e.on_insert("log verification", "verification"))?;
            Ok(())
        })
    }

    fn kiosk_config(&self) -> Result<KioskConfig, StoreError> {
        self.read("read kiosk config", |conn| read_kiosk_config(conn, ""))
    }

    fn set_kiosk_config(&self, config: &KioskConfig) -> Result<u64, StoreError> {
        let default = to_json(&default_kiosk_config(), "kiosk config")?;
        self.write("set kiosk config", |tx| {
            // A row to lock, also the first time.
            tx.exec(
                "set kiosk config",
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                &[KIOSK_CONFIG_KEY.into(), default.as_str().into()],
            )?;
            let lock = tx.lock_clause(Lock::Update);
            let version = read_kiosk_config(tx, lock)?
                .version
                .checked_add(1)
                .ok_or_else(|| StoreError::Database("kiosk config version exhausted".into()))?;
            let stored = to_json(
                &KioskConfig {
                    version,
                    ..config.clone()
                },
                "kiosk config",
            )?;
            tx.exec(
                "set kiosk config",
                "UPDATE settings SET value = ?2 WHERE key = ?1",
                &[KIOSK_CONFIG_KEY.into(), stored.as_str().into()],
            )?;
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
            venues::venue_where(conn, "id = ?1", id.into(), None)
        })
    }

    fn venue_by_key(&self, key: &VenueId) -> Result<Option<Venue>, StoreError> {
        self.read("read venue", |conn| {
            venues::venue_where(conn, "venue_key = ?1", key.0.as_slice().into(), None)
        })
    }

    fn venue_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Venue>, StoreError> {
        self.read("read venue", |conn| {
            venues::venue_where(conn, "token_hash = ?1", token_hash.into(), None)
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
