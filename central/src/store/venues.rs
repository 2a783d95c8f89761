//! Venues, their posters and their entries (schema version 2).
//!
//! Every change to a venue, a new poster and every entry first lock the venue's row
//! ([`Lock::Update`] to change it, [`Lock::Share`] to record an entry), so that a decision, a
//! reprint and an entry at one venue never interleave, whichever service instance runs them.

use protocol::api::Color;
use protocol::mask;
use protocol::venue::VenueId;
use time::OffsetDateTime;

use crate::store::StoreError;
use crate::store::convert::{
    corrupt, enum_from_text, enum_to_text, timestamp_from_text, timestamp_to_text,
};
use crate::store::rows::{self, POSTER_COLUMNS, VENUE_COLUMNS};
use crate::store::sql::{Conn, Lock, Param};
use crate::venues::{
    Decision, EntryRefused, EntryVia, EntryView, NewEntry, PosterRecord, Venue, VenueApplication,
    VenueRowId, VenueStatus,
};

/// The venue matching `condition` (an SQL expression on `venues` with one parameter), locked
/// as `lock` asks.
pub(crate) fn venue_where(
    conn: &mut dyn Conn,
    condition: &str,
    param: Param<'_>,
    lock: Option<Lock>,
) -> Result<Option<Venue>, StoreError> {
    let lock = lock.map_or("", |lock| conn.lock_clause(lock));
    conn.query_opt(
        "read venue",
        &format!("SELECT {VENUE_COLUMNS} FROM venues WHERE {condition}{lock}"),
        &[param],
        rows::venue,
    )
}

/// Every venue, newest application first.
pub(crate) fn all_venues(conn: &mut dyn Conn) -> Result<Vec<Venue>, StoreError> {
    conn.query_all(
        "list venues",
        &format!("SELECT {VENUE_COLUMNS} FROM venues ORDER BY applied_at DESC, id DESC"),
        &[],
        rows::venue,
    )
}

/// Inserts an application.
pub(crate) fn apply_in(
    tx: &mut dyn Conn,
    key: &VenueId,
    application: &VenueApplication,
    at: OffsetDateTime,
) -> Result<VenueRowId, StoreError> {
    let at = timestamp_to_text(at)?;
    tx.try_query_opt(
        "INSERT INTO venues (venue_key, name, uscc, address, contact_name, contact_phone, \
             status, applied_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7) RETURNING id",
        &[
            key.0.as_slice().into(),
            application.name.as_str().into(),
            application.uscc.as_str().into(),
            application.address.as_str().into(),
            application.contact_name.as_str().into(),
            application.contact_phone.as_str().into(),
            at.as_str().into(),
        ],
        |row| row.int(0, "venues.id"),
    )
    .map_err(|e| e.on_insert("apply venue", "venue"))?
    .ok_or_else(|| StoreError::Database("apply venue: no id returned".into()))
}

/// Applies a decision when the venue has the status it starts from.
pub(crate) fn decide_in(
    tx: &mut dyn Conn,
    id: VenueRowId,
    decision: &Decision,
    by: i64,
    at: OffsetDateTime,
) -> Result<Option<Venue>, StoreError> {
    let current =
        venue_where(tx, "id = ?1", id.into(), Some(Lock::Update))?.ok_or(StoreError::NotFound)?;
    let (from, to) = decision.transition();
    if current.status != from {
        return Ok(None);
    }
    let at = timestamp_to_text(at)?;
    let (to, at) = (to.as_str(), at.as_str());
    match decision {
        Decision::Approve { token_hash } => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = NULL, token_hash = ?5 WHERE id = ?1",
            &[
                id.into(),
                to.into(),
                at.into(),
                by.into(),
                token_hash.into(),
            ],
        ),
        Decision::Reject { note } | Decision::Suspend { note } => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = ?5 WHERE id = ?1",
            &[id.into(), to.into(), at.into(), by.into(), note.into()],
        ),
        Decision::Reinstate => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = NULL WHERE id = ?1",
            &[id.into(), to.into(), at.into(), by.into()],
        ),
    }
    .map_err(|e| e.on_insert("decide venue", "venue token"))?;
    venue_where(tx, "id = ?1", id.into(), None)
}

/// The venue's poster with this serial.
fn poster(
    conn: &mut dyn Conn,
    venue: VenueRowId,
    serial: u16,
) -> Result<Option<PosterRecord>, StoreError> {
    conn.query_opt(
        "read poster",
        &format!("SELECT {POSTER_COLUMNS} FROM venue_posters WHERE venue_id = ?1 AND serial = ?2"),
        &[venue.into(), serial.into()],
        rows::poster,
    )
}

/// The venue's current poster.
pub(crate) fn current_poster(
    conn: &mut dyn Conn,
    venue: VenueRowId,
) -> Result<Option<PosterRecord>, StoreError> {
    conn.query_opt(
        "read current poster",
        &format!(
            "SELECT {POSTER_COLUMNS} FROM venue_posters WHERE venue_id = ?1 AND retired_at IS NULL"
        ),
        &[venue.into()],
        rows::poster,
    )
}

/// Retires the current poster and adds the next serial.
pub(crate) fn new_poster_in(
    tx: &mut dyn Conn,
    venue: VenueRowId,
    at: OffsetDateTime,
    sign: &mut dyn FnMut(u16) -> Result<(u8, String), String>,
) -> Result<PosterRecord, StoreError> {
    venue_where(tx, "id = ?1", venue.into(), Some(Lock::Update))?.ok_or(StoreError::NotFound)?;
    let last = tx.query_int(
        "read last poster serial",
        "SELECT COALESCE(MAX(serial), 0) FROM venue_posters WHERE venue_id = ?1",
        &[venue.into()],
    )?;
    let serial = last
        .checked_add(1)
        .and_then(|next| u16::try_from(next).ok())
        .ok_or_else(|| StoreError::Database("poster serials exhausted".into()))?;
    let (kid, qr_text) =
        sign(serial).map_err(|e| StoreError::Database(format!("signing a poster: {e}")))?;
    let at_text = timestamp_to_text(at)?;
    tx.exec(
        "retire poster",
        "UPDATE venue_posters SET retired_at = ?2 WHERE venue_id = ?1 AND retired_at IS NULL",
        &[venue.into(), at_text.as_str().into()],
    )?;
    tx.execute(
        "INSERT INTO venue_posters (venue_id, serial, kid, qr_text, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            venue.into(),
            serial.into(),
            kid.into(),
            qr_text.as_str().into(),
            at_text.as_str().into(),
        ],
    )
    .map_err(|e| e.on_insert("add poster", "poster"))?;
    Ok(PosterRecord {
        venue,
        serial,
        kid,
        qr_text,
        created_at: at,
        retired_at: None,
    })
}

/// Records an entry after the checks of `Store::record_entry`.
pub(crate) fn record_entry_in(
    tx: &mut dyn Conn,
    entry: &NewEntry,
) -> Result<Result<i64, EntryRefused>, StoreError> {
    let venue = venue_where(tx, "id = ?1", entry.venue.into(), Some(Lock::Share))?
        .ok_or(StoreError::NotFound)?;
    if venue.status != VenueStatus::Approved {
        return Ok(Err(EntryRefused::VenueNotActive));
    }
    let (channel, serial, verifier) = match entry.via {
        EntryVia::Poster { serial } => {
            match poster(tx, entry.venue, serial)? {
                None => return Ok(Err(EntryRefused::UnknownPoster)),
                Some(p) if p.retired_at.is_some() => return Ok(Err(EntryRefused::PosterRetired)),
                Some(_) => {}
            }
            ("suishen_code", Some(serial), None)
        }
        EntryVia::DoorVerifier { verifier } => ("offline_code", None, Some(verifier)),
    };
    let (at, color) = (timestamp_to_text(entry.at)?, enum_to_text(&entry.color)?);
    let id = tx
        .try_query_opt(
            "INSERT INTO venue_entries \
                 (venue_id, at, citizen_id, channel, color, poster_serial, verifier_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            &[
                entry.venue.into(),
                at.as_str().into(),
                entry.citizen.into(),
                channel.into(),
                color.as_str().into(),
                serial.into(),
                verifier.into(),
            ],
            |row| row.int(0, "venue_entries.id"),
        )
        .map_err(|e| e.on_insert("record entry", "entry"))?
        .ok_or_else(|| StoreError::Database("record entry: no id returned".into()))?;
    Ok(Ok(id))
}

/// The venue's entries in `[from, until)`, names masked here so that no full name leaves storage
/// on this path.
pub(crate) fn entries(
    conn: &mut dyn Conn,
    venue: VenueRowId,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<EntryView>, StoreError> {
    let (from, until) = (timestamp_to_text(from)?, timestamp_to_text(until)?);
    conn.query_all(
        "list entries",
        "SELECT e.at, c.name, e.color, e.channel, e.poster_serial, e.verifier_id \
         FROM venue_entries e JOIN citizens c ON c.id = e.citizen_id \
         WHERE e.venue_id = ?1 AND e.at >= ?2 AND e.at < ?3 ORDER BY e.at, e.id",
        &[venue.into(), from.as_str().into(), until.as_str().into()],
        |row| {
            let channel = row.text(3, "venue_entries.channel")?;
            let serial = row.opt_int(4, "venue_entries.poster_serial")?;
            let verifier = row.opt_int(5, "venue_entries.verifier_id")?;
            let via = match (channel.as_str(), serial, verifier) {
                ("suishen_code", Some(serial), None) => EntryVia::Poster {
                    serial: u16::try_from(serial)
                        .map_err(|_| corrupt("venue_entries.poster_serial"))?,
                },
                ("offline_code", None, Some(verifier)) => EntryVia::DoorVerifier { verifier },
                _ => return Err(corrupt("venue_entries.channel")),
            };
            Ok(EntryView {
                at: timestamp_from_text(&row.text(0, "venue_entries.at")?, "venue_entries.at")?,
                name_masked: mask::mask_name(&row.text(1, "citizens.name")?),
                color: enum_from_text::<Color>(
                    &row.text(2, "venue_entries.color")?,
                    "venue_entries.color",
                )?,
                via,
            })
        },
    )
}

/// Deletes entries older than `before`.
pub(crate) fn purge_in(tx: &mut dyn Conn, before: OffsetDateTime) -> Result<u64, StoreError> {
    let before = timestamp_to_text(before)?;
    tx.exec(
        "purge entries",
        "DELETE FROM venue_entries WHERE at < ?1",
        &[before.as_str().into()],
    )
}

/// Adds a verifier bound to a venue.
pub(crate) fn add_verifier_in(
    tx: &mut dyn Conn,
    venue: VenueRowId,
    name: &str,
    token_hash: &[u8; 32],
) -> Result<i64, StoreError> {
    let org = venue_where(tx, "id = ?1", venue.into(), None)?
        .ok_or(StoreError::NotFound)?
        .name;
    let created_at = timestamp_to_text(OffsetDateTime::now_utc())?;
    tx.try_query_opt(
        "INSERT INTO principals (role, name, org, token_hash, created_at, venue_id) \
         VALUES ('verifier', ?1, ?2, ?3, ?4, ?5) RETURNING id",
        &[
            name.into(),
            org.as_str().into(),
            token_hash.into(),
            created_at.as_str().into(),
            venue.into(),
        ],
        |row| row.int(0, "principals.id"),
    )
    .map_err(|e| e.on_insert("add venue verifier", "principal token"))?
    .ok_or_else(|| StoreError::Database("add venue verifier: no id returned".into()))
}
