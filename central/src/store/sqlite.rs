//! SQLite storage: the [`Store`](crate::store::Store) of a single node, in one database file under
//! the data directory.
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
//! journal details and the kiosk configuration JSON. The PostgreSQL backend stores the same
//! forms; the statements and checks are shared (see the parent module).
//!
//! # Personal data
//!
//! Only the `citizens` table holds full ID numbers, names and photos; every other table refers
//! to a person by row id. Journal details are stored as the kiosk sent them (the kiosk puts only
//! keyed hashes and masked forms in them). Error messages never quote a stored value.
//!
//! The choices the trait leaves open are the shared implementation's (`store::backend`).

mod conn;
mod migrate;
mod pool;

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::TransactionBehavior;

use self::conn::{DbResult, SqliteConn};
use self::pool::Pool;
use crate::store::backend::Backend;
use crate::store::sql::Conn;
use crate::store::{Retryable, StoreError};

/// The [`Store`](crate::store::Store) of a single node: one SQLite file. Cheap to share
/// (`Send + Sync`); open it once per process and share it.
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
}

impl Backend for SqliteStore {
    const NAME: &'static str = "sqlite";

    fn schema_version() -> i64 {
        migrate::latest_version()
    }

    /// Runs `f` in a deferred (read) transaction.
    fn read<T>(
        &self,
        operation: &str,
        mut f: impl FnMut(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.pool.with(|conn| {
            let tx = conn.transaction().db(operation)?;
            let value = f(&mut SqliteConn(&tx))?;
            tx.commit().db(operation)?;
            Ok(value)
        })
    }

    /// Runs `f` once in a `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled
    /// back otherwise, after the writers of this store that came first. (Writers are serialised,
    /// so there is no conflict to retry.)
    fn write<T, E: From<StoreError> + Retryable>(
        &self,
        operation: &str,
        mut f: impl FnMut(&mut dyn Conn) -> Result<T, E>,
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
            let value = f(&mut SqliteConn(&tx))?;
            tx.commit().db(operation)?;
            Ok(value)
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
}
