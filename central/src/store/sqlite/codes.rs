//! Issued codes: reading rows, deriving a person's code state, and the issuing transaction.

use protocol::api::{Action, CodeId, PrintFailure, RequestId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::convert::{
    DbResult, corrupt, date_from_text, date_to_text, enum_from_text, opt_timestamp_from_text,
    timestamp_from_text, timestamp_to_text,
};
use crate::model::{CitizenId, CodeRecord, CodeStatus, IssueInput, NewCode, code_state};
use crate::store::{IssueError, Issued, StoreError, same_request};

/// The columns of a code row, in the order [`RawCode::from_row`] reads them.
pub(super) const CODE_COLUMNS: &str = "code_id, citizen_id, kid, serial, issued_on, expires_on, \
     qr_text, status, request_id, action, kiosk_id, created_at, printed_at, print_failed_at, \
     print_failure, ended_at";

/// A code row as SQLite holds it, before its values are checked.
pub(super) struct RawCode {
    code_id: String,
    citizen: i64,
    kid: i64,
    serial: i64,
    issued_on: String,
    expires_on: String,
    qr_text: String,
    status: String,
    request_id: String,
    action: String,
    kiosk_id: String,
    created_at: String,
    printed_at: Option<String>,
    print_failed_at: Option<String>,
    print_failure: Option<String>,
    ended_at: Option<String>,
}

impl RawCode {
    /// Reads the [`CODE_COLUMNS`] of a row.
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            code_id: row.get(0)?,
            citizen: row.get(1)?,
            kid: row.get(2)?,
            serial: row.get(3)?,
            issued_on: row.get(4)?,
            expires_on: row.get(5)?,
            qr_text: row.get(6)?,
            status: row.get(7)?,
            request_id: row.get(8)?,
            action: row.get(9)?,
            kiosk_id: row.get(10)?,
            created_at: row.get(11)?,
            printed_at: row.get(12)?,
            print_failed_at: row.get(13)?,
            print_failure: row.get(14)?,
            ended_at: row.get(15)?,
        })
    }

    /// Checks every value; a value this build cannot read is a `Database` error.
    pub(super) fn into_record(self) -> Result<CodeRecord, StoreError> {
        let status = CodeStatus::parse(&self.status).ok_or_else(|| corrupt("codes.status"))?;
        let ended_at = opt_timestamp_from_text(self.ended_at.as_deref(), "codes.ended_at")?;
        if (status == CodeStatus::Active) != ended_at.is_none() {
            return Err(corrupt("codes.ended_at"));
        }
        let print_failure = match (self.print_failed_at, self.print_failure) {
            (None, None) => None,
            (Some(at), Some(reason)) => Some((
                timestamp_from_text(&at, "codes.print_failed_at")?,
                enum_from_text::<PrintFailure>(&reason, "codes.print_failure")?,
            )),
            _ => return Err(corrupt("codes.print_failure")),
        };
        Ok(CodeRecord {
            code_id: CodeId::parse(&self.code_id).map_err(|_| corrupt("codes.code_id"))?,
            citizen: self.citizen,
            kid: u8::try_from(self.kid).map_err(|_| corrupt("codes.kid"))?,
            serial: u16::try_from(self.serial).map_err(|_| corrupt("codes.serial"))?,
            issued_on: date_from_text(&self.issued_on, "codes.issued_on")?,
            expires_on: date_from_text(&self.expires_on, "codes.expires_on")?,
            qr_text: self.qr_text,
            status,
            request_id: request_id_from_text(&self.request_id)?,
            action: action_from_text(&self.action)?,
            kiosk_id: self.kiosk_id,
            created_at: timestamp_from_text(&self.created_at, "codes.created_at")?,
            printed_at: opt_timestamp_from_text(self.printed_at.as_deref(), "codes.printed_at")?,
            print_failure,
            ended_at,
        })
    }
}

fn request_id_from_text(text: &str) -> Result<RequestId, StoreError> {
    Uuid::parse_str(text)
        .map(RequestId::new)
        .map_err(|_| corrupt("codes.request_id"))
}

fn action_from_text(text: &str) -> Result<Action, StoreError> {
    match text {
        "apply" => Ok(Action::Apply),
        "reissue" => Ok(Action::Reissue),
        _ => Err(corrupt("codes.action")),
    }
}

/// The first code a query returns, if any.
pub(super) fn query_code(
    conn: &Connection,
    operation: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<CodeRecord>, StoreError> {
    conn.query_row(sql, params, RawCode::from_row)
        .optional()
        .db(operation)?
        .map(RawCode::into_record)
        .transpose()
}

/// A code by id.
/// The code a request id created, if any.
pub(super) fn code_by_request_id(
    conn: &Connection,
    request_id: &RequestId,
) -> Result<Option<CodeRecord>, StoreError> {
    query_code(
        conn,
        "read code by request id",
        &format!("SELECT {CODE_COLUMNS} FROM codes WHERE request_id = ?1"),
        [request_id.to_string()],
    )
}

pub(super) fn code_by_id(
    conn: &Connection,
    code_id: &CodeId,
) -> Result<Option<CodeRecord>, StoreError> {
    query_code(
        conn,
        "read code",
        &format!("SELECT {CODE_COLUMNS} FROM codes WHERE code_id = ?1"),
        [code_id.to_string()],
    )
}

/// The person's latest code that is not superseded, else the latest superseded one.
pub(super) fn current_code(
    conn: &Connection,
    citizen: CitizenId,
) -> Result<Option<CodeRecord>, StoreError> {
    query_code(
        conn,
        "read current code",
        &format!(
            "SELECT {CODE_COLUMNS} FROM codes WHERE citizen_id = ?1 \
             ORDER BY status = 'superseded', serial DESC LIMIT 1"
        ),
        [citizen],
    )
}

/// The highest serial the person has had, 0 if none.
pub(super) fn max_serial(conn: &Connection, citizen: CitizenId) -> Result<u16, StoreError> {
    let max: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(serial), 0) FROM codes WHERE citizen_id = ?1",
            [citizen],
            |row| row.get(0),
        )
        .db("read max serial")?;
    u16::try_from(max).map_err(|_| corrupt("codes.serial"))
}

/// The body of the issuing transaction; the caller opened it with `BEGIN IMMEDIATE` and
/// commits only on `Ok(Issued::New(_))`.
pub(super) fn issue_in(
    tx: &Connection,
    input: &IssueInput,
    eligibility: &protocol::Eligibility,
    sign: &mut dyn FnMut(u16) -> Result<NewCode, String>,
) -> Result<Issued, IssueError> {
    let request_id = input.request_id.to_string();
    let earlier = query_code(
        tx,
        "read code by request id",
        &format!("SELECT {CODE_COLUMNS} FROM codes WHERE request_id = ?1"),
        [&request_id],
    )?;
    if let Some(code) = earlier {
        return if same_request(&code, input) {
            Ok(Issued::Replayed(code))
        } else {
            Err(IssueError::RequestIdReused)
        };
    }

    let exists: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM citizens WHERE id = ?1)",
            [input.citizen],
            |row| row.get(0),
        )
        .db("check citizen")?;
    if !exists {
        return Err(StoreError::NotFound.into());
    }

    let current = current_code(tx, input.citizen)?;
    let state = code_state(current.as_ref(), input.today);
    protocol::rules::check_issue(input.action, eligibility, &state, input.shown_code)?;

    let serial = max_serial(tx, input.citizen)?
        .checked_add(1)
        .ok_or_else(|| StoreError::Database("the person's code serials are exhausted".into()))?;
    let new = sign(serial).map_err(IssueError::Sign)?;
    let now = timestamp_to_text(input.now)?;

    // The previous code (active, possibly expired, or lost) stops verifying. Done before the
    // insert so the one-active-code index holds at every step.
    tx.execute(
        "UPDATE codes SET status = 'superseded', ended_at = ?2 \
         WHERE citizen_id = ?1 AND status IN ('active', 'lost')",
        params![input.citizen, now],
    )
    .db("supersede previous code")?;
    tx.execute(
        &format!(
            "INSERT INTO codes ({CODE_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9, ?10, ?11, \
                     NULL, NULL, NULL, NULL)"
        ),
        params![
            new.code_id.to_string(),
            input.citizen,
            new.kid,
            serial,
            date_to_text(new.issued_on)?,
            date_to_text(new.expires_on)?,
            new.qr_text,
            request_id,
            input.action.as_str(),
            input.kiosk_id,
            now,
        ],
    )
    .db("insert code")?;

    let code = code_by_id(tx, &new.code_id)?
        .ok_or_else(|| StoreError::Database("inserted code not found".into()))?;
    Ok(Issued::New(code))
}
