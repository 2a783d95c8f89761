//! The small SQL interface the shared store logic is written against, so that one implementation
//! of [`crate::store::Store`] runs on SQLite and on PostgreSQL: statement parameters, reading a
//! row's columns, classified statement errors, and a connection inside a transaction.
//!
//! Statements are written once, with `?1`, `?2`, ... placeholders (the PostgreSQL backend turns
//! them into `$1`, `$2`, ...) and in the SQL both databases understand. Where they differ (row
//! locks), the connection says what to write ([`Conn::lock_clause`]).

use crate::store::StoreError;
use crate::store::convert::corrupt;

/// A statement parameter: every integer column is a 64-bit integer, and every value has one of
/// three types. `None` binds NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    /// An integer.
    Int(Option<i64>),
    /// Text.
    Text(Option<&'a str>),
    /// Bytes.
    Blob(Option<&'a [u8]>),
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<u16> for Param<'_> {
    fn from(value: u16) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

impl From<u8> for Param<'_> {
    fn from(value: u8) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Self::Int(Some(i64::from(value)))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<Option<u16>> for Param<'_> {
    fn from(value: Option<u16>) -> Self {
        Self::Int(value.map(i64::from))
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(value: &'a String) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Self::Text(value)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(value: &'a [u8]) -> Self {
        Self::Blob(Some(value))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Param<'a> {
    fn from(value: &'a [u8; N]) -> Self {
        Self::Blob(Some(value.as_slice()))
    }
}

impl<'a> From<Option<&'a [u8]>> for Param<'a> {
    fn from(value: Option<&'a [u8]>) -> Self {
        Self::Blob(value)
    }
}

/// The columns of one result row, read by position. A value of another type than asked for is
/// a `Database` error naming `column` (the table and column, for the message), never the value.
pub(crate) trait Columns {
    /// The integer at `index`, `None` for NULL.
    fn opt_int(&self, index: usize, column: &str) -> Result<Option<i64>, StoreError>;
    /// The text at `index`, `None` for NULL.
    fn opt_text(&self, index: usize, column: &str) -> Result<Option<String>, StoreError>;
    /// The bytes at `index`, `None` for NULL.
    fn opt_blob(&self, index: usize, column: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

impl dyn Columns + '_ {
    /// The integer at `index`; NULL is an error.
    pub(crate) fn int(&self, index: usize, column: &str) -> Result<i64, StoreError> {
        self.opt_int(index, column)?.ok_or_else(|| corrupt(column))
    }

    /// The text at `index`; NULL is an error.
    pub(crate) fn text(&self, index: usize, column: &str) -> Result<String, StoreError> {
        self.opt_text(index, column)?.ok_or_else(|| corrupt(column))
    }

    /// The bytes at `index`; NULL is an error.
    pub(crate) fn blob(&self, index: usize, column: &str) -> Result<Vec<u8>, StoreError> {
        self.opt_blob(index, column)?.ok_or_else(|| corrupt(column))
    }
}

/// Why a statement failed. The messages carry the database's own words (tables, columns,
/// constraints), never a row value.
#[derive(Debug)]
pub(crate) enum SqlError {
    /// A UNIQUE or PRIMARY KEY constraint refused the row; `constraint` names it (its name, or
    /// the table and columns where the database gives no name).
    Unique {
        /// The constraint.
        constraint: String,
        /// The database's message.
        message: String,
    },
    /// A FOREIGN KEY constraint refused the row: what it refers to does not exist.
    ForeignKey(String),
    /// A concurrent transaction got in the way (serialization failure, deadlock): the
    /// transaction was rolled back and may be run again.
    Transient(String),
    /// The database cannot be reached: the connection is closed or failed (the server went away
    /// or restarted).
    Closed(String),
    /// Any other failure.
    Other(String),
    /// A row was read but a value in it could not be.
    Row(StoreError),
}

impl SqlError {
    /// The [`StoreError`] of a failed `operation`: `Conflict` for a transient failure,
    /// `Unavailable` when the database cannot be reached, the row's own error for an unreadable
    /// row, `Database` otherwise.
    pub(crate) fn into_store(self, operation: &str) -> StoreError {
        match self {
            Self::Row(error) => error,
            Self::Transient(message) => StoreError::Conflict(format!("{operation}: {message}")),
            Self::Closed(message) => StoreError::Unavailable(format!("{operation}: {message}")),
            Self::Unique { message, .. } | Self::ForeignKey(message) | Self::Other(message) => {
                StoreError::Database(format!("{operation}: {message}"))
            }
        }
    }

    /// The [`StoreError`] of a failed insert or update: a foreign-key violation is `NotFound`
    /// (what the row refers to does not exist), a unique violation `Duplicate(what)`.
    pub(crate) fn on_insert(self, operation: &str, what: &str) -> StoreError {
        match self {
            Self::ForeignKey(_) => StoreError::NotFound,
            Self::Unique { .. } => StoreError::Duplicate(what.to_owned()),
            other => other.into_store(operation),
        }
    }

    /// Whether this is a unique violation of a constraint whose name (or column list) contains
    /// `needle`.
    pub(crate) fn is_unique_on(&self, needle: &str) -> bool {
        matches!(self, Self::Unique { constraint, .. } if constraint.contains(needle))
    }
}

/// How a locking read locks the rows it returns, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// Against other writers of the row and other `Update` and `Share` locks (rows that refer
    /// to it may still be inserted).
    Update,
    /// Against writers of the row and `Update` locks; other `Share` locks may be held at once.
    Share,
}

/// A connection inside a transaction (the backend begins it and commits or rolls it back).
pub(crate) trait Conn {
    /// Runs a statement that returns no rows; returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError>;
    /// Runs a statement and hands each row it returns to `each`, in order.
    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), SqlError>;
    /// What to append to a `SELECT` so that it locks the rows it returns: empty where the
    /// transaction holds the whole database's write lock anyway (SQLite).
    fn lock_clause(&self, lock: Lock) -> &'static str;
}

impl dyn Conn + '_ {
    /// Runs a statement that returns no rows; errors name `operation`.
    pub(crate) fn exec(
        &mut self,
        operation: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        self.execute(sql, params)
            .map_err(|e| e.into_store(operation))
    }

    /// The first row a statement returns, read by `read`, if any.
    pub(crate) fn query_opt<T>(
        &mut self,
        operation: &str,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.try_query_opt(sql, params, read)
            .map_err(|e| e.into_store(operation))
    }

    /// [`Self::query_opt`] keeping the classified error, for callers that tell unique or
    /// foreign-key violations apart.
    pub(crate) fn try_query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Option<T>, SqlError> {
        let mut first = None;
        self.query(sql, params, &mut |row| {
            if first.is_none() {
                first = Some(read(row)?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// Every row a statement returns, read by `read`, in order.
    pub(crate) fn query_all<T>(
        &mut self,
        operation: &str,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        self.query(sql, params, &mut |row| {
            all.push(read(row)?);
            Ok(())
        })
        .map_err(|e| e.into_store(operation))?;
        Ok(all)
    }

    /// The single integer a statement such as `SELECT COUNT(*) ...` returns.
    pub(crate) fn query_int(
        &mut self,
        operation: &str,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<i64, StoreError> {
        self.query_opt(operation, sql, params, |row| row.int(0, operation))?
            .ok_or_else(|| StoreError::Database(format!("{operation}: no row returned")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_keep_their_type_and_nulls() {
        assert_eq!(Param::from(7u16), Param::Int(Some(7)));
        assert_eq!(Param::from(true), Param::Int(Some(1)));
        assert_eq!(Param::from(None::<&str>), Param::Text(None));
        assert_eq!(Param::from(&[1u8, 2]), Param::Blob(Some(&[1, 2][..])));
    }

    #[test]
    fn insert_errors_map_to_not_found_and_duplicate() {
        assert!(matches!(
            SqlError::ForeignKey("fk".into()).on_insert("op", "x"),
            StoreError::NotFound
        ));
        let unique = SqlError::Unique {
            constraint: "codes_request_id_key".into(),
            message: "m".into(),
        };
        assert!(unique.is_unique_on("request_id"));
        assert!(!unique.is_unique_on("serial"));
        assert!(matches!(unique.on_insert("op", "code"), StoreError::Duplicate(w) if w == "code"));
        assert!(matches!(
            SqlError::Transient("deadlock".into()).into_store("op"),
            StoreError::Conflict(m) if m == "op: deadlock"
        ));
    }
}
