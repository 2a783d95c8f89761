//! PostgreSQL storage: the [`Store`](crate::store::Store) of several service instances sharing
//! one database.
//!
//! # The database
//!
//! [`PostgresStore::open`] connects to the database a `postgres://` (or `postgresql://`) URL
//! names and brings its schema up to date (the migrations under `central/migrations/postgres/`,
//! recorded in `schema_migrations`, applied under an advisory lock so that instances starting
//! together apply each once). A database written by a newer release is refused. The schema
//! mirrors SQLite's table for table, with the same stored forms (see [`super::sqlite`]); the
//! statements and checks are shared. Connections are plain TCP or unix-socket connections
//! (no TLS): the database belongs on the service's private network.
//!
//! # Concurrency
//!
//! Several processes write the database at once, so every invariant holds in the database, not
//! in a process:
//!
//! - writes run at READ COMMITTED; what must be serialised locks rows first: `issue` and
//!   `report_lost` lock the citizen's row (`FOR NO KEY UPDATE`), so two issues for one person
//!   from any two instances run one after the other and the second sees the first's code (a
//!   replay of its request id, or the state its action is checked against); a decision on a
//!   venue and a new poster lock the venue's row, an entry locks it `FOR SHARE`; a change of
//!   the kiosk configuration locks its row, so versions go up by one per change;
//! - unique indexes back every rule: one active code per person, one current poster per venue,
//!   request ids (a request id used at the same moment for another person is a unique violation,
//!   answered as reused), journal events per kiosk and event id (`ON CONFLICT DO NOTHING`);
//! - a transaction that fails with a serialization failure or a deadlock (SQLSTATE 40001,
//!   40P01) is rolled back and run again, a few times, before the call fails with
//!   `StoreError::Conflict`;
//! - reads run in a read-only REPEATABLE READ transaction: one snapshot.
//!
//! Unique and foreign-key violations map to `Duplicate` and `NotFound` as in SQLite. Error
//! messages carry the server's words and SQLSTATE, never its details (which quote row values).

mod conn;
mod migrate;
mod pool;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use postgres::{Config, IsolationLevel};

use self::conn::{PgConn, classify};
use self::pool::{Pool, connect};
use crate::store::backend::Backend;
use crate::store::sql::{Conn, SqlError};
use crate::store::{Retryable, StoreError};

/// How many times a transaction runs at most when concurrent ones keep getting in its way.
const ATTEMPTS: u32 = 5;

/// How long to wait for the server to accept a connection, unless the URL says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The [`Store`](crate::store::Store) on a PostgreSQL database. Cheap to share
/// (`Send + Sync`); open it once per process and share it. Several processes may open the same
/// database.
pub struct PostgresStore {
    pool: Pool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The connection settings of a `postgres://` URL, with this service's defaults.
fn config(url: &str) -> Result<Config, StoreError> {
    if !is_postgres_url(url) {
        return Err(StoreError::Database(
            "a PostgreSQL URL starts with postgres:// or postgresql://".into(),
        ));
    }
    // The parser's messages name the option at fault, not the URL (which may hold a password).
    let mut config = Config::from_str(url)
        .map_err(|e| StoreError::Database(format!("the database URL is not valid: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("central");
    }
    Ok(config)
}

impl PostgresStore {
    /// Connects to the database `url` names and migrates its schema.
    ///
    /// Fails with `Unavailable` when the database cannot be reached, and with `Database` when
    /// the URL is not a PostgreSQL URL or the schema version is newer than this build knows.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = config(url)?;
        let mut first = connect(&config)?;
        migrate::migrate(&mut first.client)?;
        // Statements were not prepared yet; nothing in the cache refers to the old schema.
        Ok(PostgresStore {
            pool: Pool::new(config, first),
        })
    }

    /// The schema version this build creates and understands.
    pub fn schema_version() -> i64 {
        migrate::latest_version()
    }

    /// Runs `f` in a read-only (REPEATABLE READ) or a write (READ COMMITTED) transaction on a
    /// pooled connection: again on another connection when the transaction could not even
    /// begin (a connection the server closed while it was idle: after a restart, every idle one
    /// is), and again after a transient conflict, up to [`ATTEMPTS`] runs of `f` in all.
    fn transaction<T, E: From<StoreError> + Retryable>(
        &self,
        operation: &str,
        read_only: bool,
        mut f: impl FnMut(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let (mut attempt, mut broken) = (1, 0);
        loop {
            let last = attempt >= ATTEMPTS;
            // A fresh connection is the last one worth trying.
            let last_connection = broken > pool::MAX_CONNECTIONS;
            let mut lease = self.pool.checkout()?;
            // `None`: the transaction could not begin on this connection, and another may do.
            let outcome: Option<Result<T, E>> = {
                let Some(session) = lease.session() else {
                    return Err(StoreError::Database(format!("{operation}: no connection")).into());
                };
                let begun = if read_only {
                    session
                        .client
                        .build_transaction()
                        .isolation_level(IsolationLevel::RepeatableRead)
                        .read_only(true)
                        .start()
                } else {
                    session.client.transaction()
                };
                match begun.map_err(|e| classify(&e)) {
                    // The connection is gone (the server closed it while it was idle, or
                    // restarted), and nothing was done on it: another one may do.
                    Err(SqlError::Closed(reason)) if !last_connection => {
                        tracing::debug!(%reason, "{operation}: dropping a broken connection");
                        None
                    }
                    Err(e) => Some(Err(e.into_store(operation).into())),
                    Ok(mut tx) => Some(
                        f(&mut PgConn {
                            tx: &mut tx,
                            statements: &mut session.statements,
                        })
                        .and_then(|value| {
                            tx.commit()
                                .map(|()| value)
                                .map_err(|e| E::from(classify(&e).into_store(operation)))
                        }),
                    ),
                }
            };
            match outcome {
                None => {
                    lease.discard();
                    broken += 1;
                }
                Some(Err(e)) if e.is_transient() && !last => {
                    tracing::debug!("{operation}: conflict with a concurrent transaction; again");
                    drop(lease);
                    std::thread::sleep(Duration::from_millis(5 * u64::from(attempt)));
                    attempt += 1;
                }
                Some(other) => return other,
            }
        }
    }
}

impl Backend for PostgresStore {
    const NAME: &'static str = "postgres";

    fn schema_version() -> i64 {
        migrate::latest_version()
    }

    fn read<T>(
        &self,
        operation: &str,
        f: impl FnMut(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(operation, true, f)
    }

    fn write<T, E: From<StoreError> + Retryable>(
        &self,
        operation: &str,
        f: impl FnMut(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(operation, false, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn the_store_can_be_shared_across_threads() {
        assert_send_sync::<PostgresStore>();
    }

    #[test]
    fn only_postgres_urls_are_taken() {
        assert!(is_postgres_url("postgres://u@localhost/db"));
        assert!(is_postgres_url("postgresql://u@localhost:5433/db"));
        assert!(!is_postgres_url("mysql://u@localhost/db"));
        assert!(matches!(
            config("sqlite:///x"),
            Err(StoreError::Database(_))
        ));
        let parsed = config("postgres://u:secret@db.example:5433/central").unwrap();
        assert_eq!(parsed.get_dbname(), Some("central"));
        assert_eq!(parsed.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(parsed.get_application_name(), Some("central"));
    }

    #[test]
    fn an_unreachable_database_is_unavailable() {
        // Port 1 on the loopback address: nothing listens there.
        match PostgresStore::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2") {
            Err(StoreError::Unavailable(message)) => {
                assert!(message.contains("cannot connect"), "{message}");
            }
            other => panic!("expected a connection failure, got {other:?}"),
        }
    }
}
