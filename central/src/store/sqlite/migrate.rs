//! Schema migrations, run when the store opens.
//!
//! The `schema_migrations` table lists the versions applied. Each migration runs once, in
//! order, in its own `BEGIN IMMEDIATE` transaction that first re-reads the version, so two
//! processes opening a new file at once apply each migration exactly once. A database whose
//! version is newer than the newest migration this build knows was written by a newer release:
//! opening it is refused rather than risking writes this build does not understand.

use rusqlite::{Connection, TransactionBehavior, params};
use time::OffsetDateTime;

use super::conn::{DbResult, db_error};
use crate::store::StoreError;
use crate::store::convert::timestamp_to_text;
use crate::store::migrate::{Migration, refuse_newer};

/// Every migration, oldest first.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "venues",
        sql: include_str!("../../../migrations/sqlite/0002_venues.sql"),
    },
    Migration {
        version: 3,
        name: "session_shown_code",
        sql: include_str!("../../../migrations/sqlite/0003_session_shown_code.sql"),
    },
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    crate::store::migrate::latest_version(MIGRATIONS)
}

/// Brings the database up to [`latest_version`]; refuses a newer one.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let latest = latest_version();
    // There is always at least one migration, so the version is always checked.
    for migration in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db("begin migration")?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )",
        )
        .db("create schema_migrations")?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |row| row.get(0),
            )
            .db("read schema version")?;
        refuse_newer(current, latest)?;
        if migration.version > current {
            tx.execute_batch(migration.sql)
                .map_err(|e| db_error(&format!("migration {}", migration.version), &e))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![
                    migration.version,
                    migration.name,
                    timestamp_to_text(OffsetDateTime::now_utc())?
                ],
            )
            .db("record migration")?;
        }
        tx.commit().db("commit migration")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        crate::store::migrate::check_list(MIGRATIONS);
    }
}
