//! The PostgreSQL side of the shared SQL interface: statements on a `postgres` transaction
//! (prepared once per connection), rows read by position, and PostgreSQL's errors classified by
//! SQLSTATE and described without row values.

use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Row, Statement, Transaction};

use crate::store::StoreError;
use crate::store::convert::corrupt;
use crate::store::sql::{Columns, Conn, Lock, Param, SqlError};

/// A transaction and the statements prepared on its connection.
pub(super) struct PgConn<'a, 'b> {
    /// The transaction.
    pub(super) tx: &'a mut Transaction<'b>,
    /// The connection's prepared statements.
    pub(super) statements: &'a mut HashMap<String, Statement>,
}

impl PgConn<'_, '_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, SqlError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .tx
            .prepare(&placeholders(sql))
            .map_err(|e| classify(&e))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

fn pg_params<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| -> &(dyn ToSql + Sync) {
            match param {
                Param::Int(value) => value,
                Param::Text(value) => value,
                Param::Blob(value) => value,
            }
        })
        .collect()
}

impl Conn for PgConn<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError> {
        let statement = self.statement(sql)?;
        self.tx
            .execute(&statement, &pg_params(params))
            .map_err(|e| classify(&e))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), SqlError> {
        let statement = self.statement(sql)?;
        let rows = self
            .tx
            .query(&statement, &pg_params(params))
            .map_err(|e| classify(&e))?;
        for row in &rows {
            each(&PgRow(row)).map_err(SqlError::Row)?;
        }
        Ok(())
    }

    fn lock_clause(&self, lock: Lock) -> &'static str {
        match lock {
            // Not FOR UPDATE: rows referring to the locked one (a session for the citizen, an
            // entry at the venue) may still be inserted meanwhile.
            Lock::Update => " FOR NO KEY UPDATE",
            Lock::Share => " FOR SHARE",
        }
    }
}

/// The statement with `?N` placeholders written as PostgreSQL's `$N`. (The shared statements
/// hold no `?` anywhere else.)
pub(super) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

struct PgRow<'a>(&'a Row);

impl PgRow<'_> {
    fn column_type(&self, index: usize, column: &str) -> Result<&Type, StoreError> {
        self.0
            .columns()
            .get(index)
            .map(postgres::Column::type_)
            .ok_or_else(|| corrupt(column))
    }
}

impl Columns for PgRow<'_> {
    fn opt_int(&self, index: usize, column: &str) -> Result<Option<i64>, StoreError> {
        let ty = self.column_type(index, column)?;
        let value = if *ty == Type::INT8 {
            self.0.try_get::<_, Option<i64>>(index)
        } else if *ty == Type::INT4 {
            self.0
                .try_get::<_, Option<i32>>(index)
                .map(|v| v.map(i64::from))
        } else if *ty == Type::INT2 {
            self.0
                .try_get::<_, Option<i16>>(index)
                .map(|v| v.map(i64::from))
        } else {
            return Err(corrupt(column));
        };
        value.map_err(|_| corrupt(column))
    }

    fn opt_text(&self, index: usize, column: &str) -> Result<Option<String>, StoreError> {
        self.0
            .try_get::<_, Option<String>>(index)
            .map_err(|_| corrupt(column))
    }

    fn opt_blob(&self, index: usize, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .try_get::<_, Option<Vec<u8>>>(index)
            .map_err(|_| corrupt(column))
    }
}

/// Classifies a PostgreSQL error by its SQLSTATE.
pub(super) fn classify(error: &postgres::Error) -> SqlError {
    let message = describe(error);
    let Some(db) = error.as_db_error() else {
        return if lost_connection(error) {
            SqlError::Closed(message)
        } else {
            SqlError::Other(message)
        };
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        SqlError::Unique {
            constraint: db.constraint().unwrap_or_default().to_owned(),
            message,
        }
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        SqlError::ForeignKey(message)
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        SqlError::Transient(message)
    } else if code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
    {
        // The server ended the session (a restart, a terminated backend): the connection is
        // gone, not the statement wrong.
        SqlError::Closed(message)
    } else {
        SqlError::Other(message)
    }
}

/// Whether the error is the connection's (closed, or failed underneath), not the statement's.
pub(super) fn lost_connection(error: &postgres::Error) -> bool {
    error.is_closed()
        || std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>())
}

/// A description of a PostgreSQL error that carries no row values. The server's messages name
/// tables, columns and constraints; its details (which quote the values of a conflicting row)
/// are left out, and so are the messages of data exceptions (class 22), which can quote an
/// input value.
pub(super) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if db.code().code().starts_with("22") => {
            format!(
                "{} (SQLSTATE {}): data exception",
                db.severity(),
                db.code().code()
            )
        }
        Some(db) => format!(
            "{} (SQLSTATE {}): {}",
            db.severity(),
            db.code().code(),
            db.message()
        ),
        None => error.to_string(),
    }
}

/// The error of a failed connection attempt: the database is unavailable.
pub(super) fn connect_error(error: &postgres::Error) -> StoreError {
    StoreError::Unavailable(format!(
        "cannot connect to the PostgreSQL database: {}",
        describe(error)
    ))
}

/// Maps a PostgreSQL error of `operation` to a [`StoreError`].
pub(super) fn pg_error(operation: &str, error: &postgres::Error) -> StoreError {
    classify(error).into_store(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?10) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $10) AND d = '?'"
        );
    }
}
