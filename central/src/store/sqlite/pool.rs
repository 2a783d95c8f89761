//! A small pool of connections to one database file.
//!
//! Every connection is set up the same way: a 5 s busy timeout (so that a command-line
//! subcommand and a running service can write the same file, each waiting its turn),
//! `foreign_keys=ON` and `synchronous=FULL`. The journal mode (WAL) is a property of the file and
//! is set once, when the store opens it.
//!
//! Connections are handed out one per call and come back afterwards; at most [`MAX_IDLE`] are
//! kept, more are opened when calls overlap and closed when they are no longer needed.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::conn::DbResult;
use crate::store::StoreError;

/// How long a connection waits for another writer's lock before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections kept open between calls.
const MAX_IDLE: usize = 8;

/// Connections to one database file.
pub(super) struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// A pool for the file at `path`, starting with `first` (already set up).
    pub(super) fn new(path: &Path, first: Connection) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
        }
    }

    /// Runs `f` with a connection of the pool, then returns the connection to it.
    ///
    /// A connection left inside a transaction (which the callers never do: their transactions
    /// roll back when dropped) is closed rather than reused.
    pub(super) fn with<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.checkout()?;
        let result = f(&mut conn);
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result
    }

    fn checkout(&self) -> Result<Connection, StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(conn) => Ok(conn),
            None => connect(&self.path),
        }
    }
}

/// Opens (creating if needed) the database file and sets up the connection.
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).db("open database")?;
    conn.busy_timeout(BUSY_TIMEOUT).db("set busy timeout")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .db("enable foreign keys")?;
    conn.pragma_update(None, "synchronous", "FULL")
        .db("set synchronous")?;
    Ok(conn)
}

/// Switches the file to WAL journal mode (a no-op when it already is).
pub(super) fn enable_wal(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .db("set journal mode")?;
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(StoreError::Database(format!(
            "the database refused WAL journal mode (got {mode})"
        )))
    }
}
