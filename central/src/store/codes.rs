//! Issued codes: reading them, deriving a person's code state, and the issuing transaction.

use protocol::api::{CodeId, RequestId};

use crate::model::{CitizenId, CodeRecord, IssueInput, NewCode, code_state};
use crate::store::convert::{corrupt, date_to_text, timestamp_to_text};
use crate::store::rows::{self, CODE_COLUMNS};
use crate::store::sql::{Conn, Lock};
use crate::store::{IssueError, Issued, StoreError, same_request};

/// A code by id.
pub(crate) fn code_by_id(
    conn: &mut dyn Conn,
    code_id: &CodeId,
) -> Result<Option<CodeRecord>, StoreError> {
    conn.query_opt(
        "read code",
        &format!("SELECT {CODE_COLUMNS} FROM codes WHERE code_id = ?1"),
        &[code_id.to_string().as_str().into()],
        rows::code,
    )
}

/// The code a request id created, if any.
pub(crate) fn code_by_request_id(
    conn: &mut dyn Conn,
    request_id: &RequestId,
) -> Result<Option<CodeRecord>, StoreError> {
    conn.query_opt(
        "read code by request id",
        &format!("SELECT {CODE_COLUMNS} FROM codes WHERE request_id = ?1"),
        &[request_id.to_string().as_str().into()],
        rows::code,
    )
}

/// The person's latest code that is not superseded, else the latest superseded one.
pub(crate) fn current_code(
    conn: &mut dyn Conn,
    citizen: CitizenId,
) -> Result<Option<CodeRecord>, StoreError> {
    conn.query_opt(
        "read current code",
        &format!(
            "SELECT {CODE_COLUMNS} FROM codes WHERE citizen_id = ?1 \
             ORDER BY status = 'superseded', serial DESC LIMIT 1"
        ),
        &[citizen.into()],
        rows::code,
    )
}

/// The highest serial the person has had, 0 if none.
pub(crate) fn max_serial(conn: &mut dyn Conn, citizen: CitizenId) -> Result<u16, StoreError> {
    let max = conn.query_int(
        "read max serial",
        "SELECT COALESCE(MAX(serial), 0) FROM codes WHERE citizen_id = ?1",
        &[citizen.into()],
    )?;
    u16::try_from(max).map_err(|_| corrupt("codes.serial"))
}

/// Locks the citizen's row against other issuing (and loss reports) for the person until the
/// transaction ends; `false` when there is no such citizen.
pub(crate) fn lock_citizen(conn: &mut dyn Conn, citizen: CitizenId) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT id FROM citizens WHERE id = ?1{}",
        conn.lock_clause(Lock::Update)
    );
    Ok(conn
        .query_opt("lock citizen", &sql, &[citizen.into()], |row| {
            row.int(0, "citizens.id")
        })?
        .is_some())
}

/// The body of the issuing transaction (see `Store::issue`); the backend commits it only on
/// `Ok`.
///
/// The citizen's row is locked first, so that two calls for one person, in this process or
/// another, run one after the other and each sees what the other committed. A request id
/// used concurrently for another person is caught by its unique index and answered as reused.
pub(crate) fn issue_in(
    tx: &mut dyn Conn,
    input: &IssueInput,
    eligibility: &protocol::Eligibility,
    sign: &mut dyn FnMut(u16) -> Result<NewCode, String>,
) -> Result<Issued, IssueError> {
    if !lock_citizen(tx, input.citizen)? {
        return Err(StoreError::NotFound.into());
    }
    if let Some(code) = code_by_request_id(tx, &input.request_id)? {
        return if same_request(&code, input) {
            Ok(Issued::Replayed(code))
        } else {
            Err(IssueError::RequestIdReused)
        };
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
    tx.exec(
        "supersede previous code",
        "UPDATE codes SET status = 'superseded', ended_at = ?2 \
         WHERE citizen_id = ?1 AND status IN ('active', 'lost')",
        &[input.citizen.into(), now.as_str().into()],
    )?;
    let code_id = new.code_id.to_string();
    let request_id = input.request_id.to_string();
    let (issued_on, expires_on) = (date_to_text(new.issued_on)?, date_to_text(new.expires_on)?);
    tx.execute(
        &format!(
            "INSERT INTO codes ({CODE_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9, ?10, ?11, \
                     NULL, NULL, NULL, NULL)"
        ),
        &[
            code_id.as_str().into(),
            input.citizen.into(),
            new.kid.into(),
            serial.into(),
            issued_on.as_str().into(),
            expires_on.as_str().into(),
            new.qr_text.as_str().into(),
            request_id.as_str().into(),
            input.action.as_str().into(),
            input.kiosk_id.as_str().into(),
            now.as_str().into(),
        ],
    )
    .map_err(|e| {
        if e.is_unique_on("request_id") {
            IssueError::RequestIdReused
        } else {
            e.into_store("insert code").into()
        }
    })?;

    let code = code_by_id(tx, &new.code_id)?
        .ok_or_else(|| StoreError::Database("inserted code not found".into()))?;
    Ok(Issued::New(code))
}

/// Makes the person's active code lost (see `Store::report_lost`).
pub(crate) fn report_lost_in(
    tx: &mut dyn Conn,
    citizen: CitizenId,
    at: &str,
) -> Result<CodeRecord, StoreError> {
    if !lock_citizen(tx, citizen)? {
        return Err(StoreError::NotFound);
    }
    let code_id = tx
        .query_opt(
            "report lost",
            "UPDATE codes SET status = 'lost', ended_at = ?2 \
             WHERE citizen_id = ?1 AND status = 'active' RETURNING code_id",
            &[citizen.into(), at.into()],
            |row| row.text(0, "codes.code_id"),
        )?
        .ok_or(StoreError::NotFound)?;
    let code_id = CodeId::parse(&code_id).map_err(|_| corrupt("codes.code_id"))?;
    code_by_id(tx, &code_id)?.ok_or_else(|| StoreError::Database("lost code not found".into()))
}
