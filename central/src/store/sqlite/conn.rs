//! The SQLite side of the shared SQL interface: statements on a `rusqlite` connection, rows read
//! by position, and SQLite's errors classified and described without row values.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ffi};

use crate::store::StoreError;
use crate::store::convert::corrupt;
use crate::store::sql::{Columns, Conn, Lock, Param, SqlError};

/// A connection inside a transaction the store began.
pub(super) struct SqliteConn<'a>(pub(super) &'a Connection);

impl Conn for SqliteConn<'_> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError> {
        let mut statement = self.0.prepare_cached(sql).map_err(|e| classify(&e))?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params))
            .map_err(|e| classify(&e))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), SqlError> {
        let mut statement = self.0.prepare_cached(sql).map_err(|e| classify(&e))?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| classify(&e))?;
        while let Some(row) = rows.next().map_err(|e| classify(&e))? {
            each(&SqliteRow(row)).map_err(SqlError::Row)?;
        }
        Ok(())
    }

    fn lock_clause(&self, _lock: Lock) -> &'static str {
        // Write transactions begin with BEGIN IMMEDIATE: they hold the database's write lock
        // from their first statement, which is more than any row lock.
        ""
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Int(Some(value)) => ValueRef::Integer(value),
            Param::Text(Some(text)) => ValueRef::Text(text.as_bytes()),
            Param::Blob(Some(bytes)) => ValueRef::Blob(bytes),
            Param::Int(None) | Param::Text(None) | Param::Blob(None) => ValueRef::Null,
        }))
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl SqliteRow<'_, '_> {
    fn value(&self, index: usize, column: &str) -> Result<ValueRef<'_>, StoreError> {
        self.0.get_ref(index).map_err(|_| corrupt(column))
    }
}

impl Columns for SqliteRow<'_, '_> {
    fn opt_int(&self, index: usize, column: &str) -> Result<Option<i64>, StoreError> {
        match self.value(index, column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(value) => Ok(Some(value)),
            _ => Err(corrupt(column)),
        }
    }

    fn opt_text(&self, index: usize, column: &str) -> Result<Option<String>, StoreError> {
        match self.value(index, column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
                .map(Some)
                .map_err(|_| corrupt(column)),
            _ => Err(corrupt(column)),
        }
    }

    fn opt_blob(&self, index: usize, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.value(index, column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) => Ok(Some(bytes.to_vec())),
            _ => Err(corrupt(column)),
        }
    }
}

/// Classifies a SQLite error: unique and foreign-key violations apart from the rest.
fn classify(error: &rusqlite::Error) -> SqlError {
    let message = describe(error);
    match error {
        rusqlite::Error::SqliteFailure(e, detail)
            if e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            // "UNIQUE constraint failed: codes.request_id": the table and columns.
            let constraint = detail
                .as_deref()
                .and_then(|d| d.split_once(": "))
                .map_or_else(String::new, |(_, columns)| columns.to_owned());
            SqlError::Unique {
                constraint,
                message,
            }
        }
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            SqlError::ForeignKey(message)
        }
        _ => SqlError::Other(message),
    }
}

/// Maps a SQLite error to `Database`, naming the operation but never a stored value.
pub(super) fn db_error(operation: &str, error: &rusqlite::Error) -> StoreError {
    StoreError::Database(format!("{operation}: {}", describe(error)))
}

/// A description of a SQLite error that carries no row values. SQLite's own messages name
/// tables, columns and constraints, not values; rusqlite's conversion errors can quote a value,
/// so they are described by kind only.
fn describe(error: &rusqlite::Error) -> String {
    use rusqlite::Error as E;
    match error {
        E::SqliteFailure(e, Some(message)) => {
            format!("{:?} ({}): {message}", e.code, e.extended_code)
        }
        E::SqliteFailure(e, None) => format!("{:?} ({})", e.code, e.extended_code),
        E::QueryReturnedNoRows => "query returned no rows".into(),
        E::QueryReturnedMoreThanOneRow => "query returned more than one row".into(),
        E::InvalidColumnType(index, name, ty) => {
            format!("column {name} (#{index}) has unexpected type {ty}")
        }
        E::InvalidColumnIndex(index) => format!("no column #{index}"),
        E::InvalidColumnName(name) => format!("no column {name}"),
        E::FromSqlConversionFailure(index, ty, _) => {
            format!("column #{index} of type {ty} cannot be converted")
        }
        E::IntegralValueOutOfRange(index, _) => format!("column #{index} is out of range"),
        E::Utf8Error(..) => "text is not valid UTF-8".into(),
        E::ToSqlConversionFailure(_) => "a parameter cannot be converted".into(),
        E::InvalidParameterCount(given, wanted) => {
            format!("{given} parameters given, {wanted} expected")
        }
        E::ExecuteReturnedResults => "statement returned rows".into(),
        E::StatementChangedRows(n) => format!("statement changed {n} rows"),
        E::MultipleStatement => "more than one statement".into(),
        E::SqlInputError { error, msg, .. } => {
            format!("{:?} ({}): {msg}", error.code, error.extended_code)
        }
        E::InvalidPath(_) => "invalid database path".into(),
        _ => "sqlite error".into(),
    }
}

/// Attaches an operation name to a SQLite result.
pub(super) trait DbResult<T> {
    /// Maps the error to `StoreError::Database`, naming `operation`.
    fn db(self, operation: &str) -> Result<T, StoreError>;
}

impl<T> DbResult<T> for Result<T, rusqlite::Error> {
    fn db(self, operation: &str) -> Result<T, StoreError> {
        self.map_err(|e| db_error(operation, &e))
    }
}
