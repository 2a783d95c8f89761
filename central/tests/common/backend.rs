//! Which database the central's tests run on. `CENTRAL_TEST_BACKEND` unset (or `sqlite`): SQLite
//! in each test's data directory. `CENTRAL_TEST_BACKEND=postgres`: every fixture creates a fresh
//! PostgreSQL database with a random name through the administrator URL in
//! `CENTRAL_TEST_POSTGRES` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`, as
//! `scripts/test` exports it), uses it, and drops it afterwards.
//!
//! The PostgreSQL client is blocking and runs its own runtime: it cannot be called on a thread
//! that drives async tasks. [`off_runtime`] runs a closure on a plain thread for the helpers
//! that async tests call.

#![allow(
    clippy::panic,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

use central::server::DataDir;

/// The variable that chooses the backend.
pub const BACKEND_VAR: &str = "CENTRAL_TEST_BACKEND";
/// The variable with the PostgreSQL administrator URL.
pub const POSTGRES_VAR: &str = "CENTRAL_TEST_POSTGRES";

/// The backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend `CENTRAL_TEST_BACKEND` names.
pub fn backend() -> Backend {
    match std::env::var(BACKEND_VAR).as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("{BACKEND_VAR}={other}: use sqlite or postgres"),
    }
}

/// The administrator URL, required: a test on PostgreSQL cannot run without it.
pub fn admin_url() -> String {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => panic!(
            "{BACKEND_VAR}=postgres needs {POSTGRES_VAR}, the URL of a PostgreSQL server's \
             administrator database (e.g. postgres://postgres@127.0.0.1:5432/postgres); \
             scripts/test starts a throwaway cluster and sets it"
        ),
    }
}

/// The administrator URL for tests that need PostgreSQL whatever the backend under test: `None`
/// (the test is skipped, saying so) when it is not set, except under CI, where it must be.
pub fn admin_url_if_available(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{test}: {POSTGRES_VAR} is not set; under CI the PostgreSQL tests must run \
             (scripts/test starts a cluster)"
        ),
        _ => {
            eprintln!("{test}: skipped, {POSTGRES_VAR} is not set");
            None
        }
    }
}

/// Runs `f` on a thread of its own (no async runtime there) and returns what it returns.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A fresh PostgreSQL database, dropped with its connections when this is dropped.
pub struct PgDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates a database with a random name on the server of `admin` (an administrator URL).
    pub fn create_on(admin: &str) -> PgDatabase {
        let name = format!("central_test_{}", uuid::Uuid::new_v4().simple());
        let (base, _) = admin
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("{POSTGRES_VAR} has no database name"));
        let url = format!("{base}/{name}");
        let admin = admin.to_owned();
        off_runtime(|| {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_VAR}: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
        });
        PgDatabase { admin, name, url }
    }

    /// Creates a database on the server of `CENTRAL_TEST_POSTGRES`.
    pub fn create() -> PgDatabase {
        Self::create_on(&admin_url())
    }

    /// A plain client of the database, for looking at its tables directly.
    pub fn client(&self) -> postgres::Client {
        let url = self.url.clone();
        off_runtime(move || postgres::Client::connect(&url, postgres::NoTls).unwrap())
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Best effort: the cluster is thrown away at the end of the run anyway.
        off_runtime(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    }
}

/// A data directory on the backend under test; keep it (and its database) for the test.
pub struct TestData {
    /// The data directory.
    pub data: DataDir,
    /// The PostgreSQL database, on that backend.
    pub database: Option<PgDatabase>,
}

impl TestData {
    /// The database URL to hand to the `central` binary, on PostgreSQL.
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(|db| db.url.as_str())
    }

    /// Points a `central` command at the same database (`CENTRAL_DATABASE`), or at SQLite in
    /// its data directory.
    pub fn configure(&self, command: &mut Command) {
        match self.database_url() {
            Some(url) => command.env("CENTRAL_DATABASE", url),
            None => command.env_remove("CENTRAL_DATABASE"),
        };
    }
}

/// A data directory at `path` with the database of the backend under test.
pub fn data_dir(path: impl Into<PathBuf>) -> TestData {
    let plain = DataDir::new(path);
    match backend() {
        Backend::Sqlite => TestData {
            data: plain,
            database: None,
        },
        Backend::Postgres => {
            let database = PgDatabase::create();
            TestData {
                data: plain.with_database(&database.url).unwrap(),
                database: Some(database),
            }
        }
    }
}

/// Direct access to a test's database, for looking at (or breaking) what the store wrote.
/// Statements use `$1`, `$2`, ... placeholders (turned into `?1`, ... for SQLite), take text
/// parameters, and return columns as text (cast other columns in the statement). Each call opens
/// its own connection on a thread of its own, so async tests may call it too.
pub enum Raw {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Raw {
    /// The database of `test_data`.
    pub fn new(test_data: &TestData) -> Raw {
        match test_data.database_url() {
            Some(url) => Raw::Postgres(url.to_owned()),
            None => Raw::Sqlite(test_data.data.path().join("central.db")),
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[&str]) -> u64 {
        match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let changed = conn
                    .execute(
                        &sqlite_placeholders(sql),
                        rusqlite::params_from_iter(params),
                    )
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                u64::try_from(changed).unwrap()
            }
            Raw::Postgres(url) => off_runtime(|| {
                let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                client
                    .execute(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
        }
    }

    /// Every row a query returns, each column as text (`None` for NULL).
    pub fn rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut statement = conn
                    .prepare(&sqlite_placeholders(sql))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let width = statement.column_count();
                statement
                    .query_map(rusqlite::params_from_iter(params), |row| {
                        (0..width)
                            .map(|i| row.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Raw::Postgres(url) => off_runtime(|| {
                let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                client
                    .query(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| row.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect()
            }),
        }
    }

    /// The single text value a query returns.
    pub fn text(&self, sql: &str, params: &[&str]) -> Option<String> {
        let rows = self.rows(sql, params);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows.into_iter().next().unwrap().into_iter().next().unwrap()
    }

    /// The single number a query such as `SELECT COUNT(*) ...` returns.
    pub fn count(&self, sql: &str, params: &[&str]) -> i64 {
        let sql = format!("SELECT CAST(({sql}) AS TEXT)");
        self.text(&sql, params).unwrap().parse().unwrap()
    }

    /// The tables, by name.
    pub fn tables(&self) -> Vec<String> {
        let sql = match self {
            Raw::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            Raw::Postgres(_) => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            }
        };
        self.rows(sql, &[])
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect()
    }

    /// A table's columns, in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self {
            Raw::Sqlite(_) => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            Raw::Postgres(_) => {
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position"
            }
        };
        self.rows(sql, &[table])
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect()
    }

    /// How many rows of `table` hold `needle` anywhere in `column` (text or bytes).
    pub fn hits(&self, table: &str, column: &str, needle: &str) -> i64 {
        let condition = match self {
            Raw::Sqlite(_) => format!("instr(CAST(\"{column}\" AS TEXT), $1) > 0"),
            Raw::Postgres(_) => {
                let ty = self
                    .text(
                        "SELECT CAST(data_type AS TEXT) FROM information_schema.columns \
                         WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                        &[table, column],
                    )
                    .unwrap();
                if ty == "bytea" {
                    format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
                } else {
                    format!("strpos(CAST(\"{column}\" AS TEXT), $1) > 0")
                }
            }
        };
        self.count(
            &format!("SELECT COUNT(*) FROM \"{table}\" WHERE {condition}"),
            &[needle],
        )
    }
}

/// `$N` placeholders as SQLite's `?N`.
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}
