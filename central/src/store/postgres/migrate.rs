//! Schema migrations, run when the store opens.
//!
//! The `schema_migrations` table lists the versions applied. Each migration runs in its own
//! transaction that first takes a transaction-level advisory lock on [`MIGRATION_LOCK`] and then
//! re-reads the version, so that service instances starting together on one database apply each
//! migration exactly once: the others wait for the lock, then find it applied. PostgreSQL's DDL
//! is transactional, so a migration that fails leaves nothing behind. A database whose version
//! is newer than the newest migration this build knows was written by a newer release: opening
//! it is refused rather than risking writes this build does not understand.

use postgres::Client;
use time::OffsetDateTime;

use super::conn::pg_error;
use crate::store::StoreError;
use crate::store::convert::timestamp_to_text;
use crate::store::migrate::{Migration, refuse_newer};

/// The advisory lock key that serialises migrations ("central" in ASCII).
pub(super) const MIGRATION_LOCK: i64 = 0x0063_656e_7472_616c;

/// Every migration, oldest first (table for table those of the SQLite backend).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "venues",
        sql: include_str!("../../../migrations/postgres/0002_venues.sql"),
    },
    Migration {
        version: 3,
        name: "session_shown_code",
        sql: include_str!("../../../migrations/postgres/0003_session_shown_code.sql"),
    },
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    crate::store::migrate::latest_version(MIGRATIONS)
}

/// Brings the database up to [`latest_version`]; refuses a newer one.
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let latest = latest_version();
    for migration in MIGRATIONS {
        let mut tx = client
            .transaction()
            .map_err(|e| pg_error("begin migration", &e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| pg_error("lock migrations", &e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                name       TEXT COLLATE \"C\" NOT NULL,
                applied_at TEXT COLLATE \"C\" NOT NULL
            )",
        )
        .map_err(|e| pg_error("create schema_migrations", &e))?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .and_then(|row| row.try_get(0))
            .map_err(|e| pg_error("read schema version", &e))?;
        refuse_newer(current, latest)?;
        if migration.version > current {
            tx.batch_execute(migration.sql)
                .map_err(|e| pg_error(&format!("migration {}", migration.version), &e))?;
            let applied_at = timestamp_to_text(OffsetDateTime::now_utc())?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&migration.version, &migration.name, &applied_at],
            )
            .map_err(|e| pg_error("record migration", &e))?;
        }
        tx.commit().map_err(|e| pg_error("commit migration", &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one_and_match_sqlite() {
        crate::store::migrate::check_list(MIGRATIONS);
        assert_eq!(
            latest_version(),
            crate::store::sqlite::SqliteStore::schema_version()
        );
    }
}
