//! Venues, their posters and their entries (schema version 2).

use protocol::api::Color;
use protocol::mask;
use protocol::venue::{VENUE_ID_LEN, VenueId};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use time::OffsetDateTime;

use super::convert::{
    DbResult, corrupt, enum_from_text, enum_to_text, opt_timestamp_from_text, timestamp_from_text,
    timestamp_to_text,
};
use crate::store::StoreError;
use crate::venues::{
    Decision, EntryRefused, EntryVia, EntryView, NewEntry, PosterRecord, Venue, VenueApplication,
    VenueRowId, VenueStatus,
};

/// The columns of a venue row, in the order [`RawVenue::from_row`] reads them.
const VENUE_COLUMNS: &str = "id, venue_key, name, uscc, address, contact_name, contact_phone, \
     status, applied_at, decided_at, decision_note";

/// A venue row before its values are checked.
struct RawVenue {
    id: i64,
    key: Vec<u8>,
    name: String,
    uscc: String,
    address: String,
    contact_name: String,
    contact_phone: String,
    status: String,
    applied_at: String,
    decided_at: Option<String>,
    decision_note: Option<String>,
}

impl RawVenue {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            key: row.get(1)?,
            name: row.get(2)?,
            uscc: row.get(3)?,
            address: row.get(4)?,
            contact_name: row.get(5)?,
            contact_phone: row.get(6)?,
            status: row.get(7)?,
            applied_at: row.get(8)?,
            decided_at: row.get(9)?,
            decision_note: row.get(10)?,
        })
    }

    fn into_venue(self) -> Result<Venue, StoreError> {
        let key: [u8; VENUE_ID_LEN] = self
            .key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("venues.venue_key"))?;
        Ok(Venue {
            id: self.id,
            key: VenueId(key),
            name: self.name,
            uscc: self.uscc,
            address: self.address,
            contact_name: self.contact_name,
            contact_phone: self.contact_phone,
            status: VenueStatus::parse(&self.status).ok_or_else(|| corrupt("venues.status"))?,
            applied_at: timestamp_from_text(&self.applied_at, "venues.applied_at")?,
            decided_at: opt_timestamp_from_text(self.decided_at.as_deref(), "venues.decided_at")?,
            decision_note: self.decision_note,
        })
    }
}

/// The venue matching `condition` (an SQL expression on `venues` with one parameter).
pub(super) fn venue_where(
    conn: &Connection,
    condition: &str,
    param: impl rusqlite::ToSql,
) -> Result<Option<Venue>, StoreError> {
    conn.query_row(
        &format!("SELECT {VENUE_COLUMNS} FROM venues WHERE {condition}"),
        [param],
        RawVenue::from_row,
    )
    .optional()
    .db("read venue")?
    .map(RawVenue::into_venue)
    .transpose()
}

/// Every venue, newest application first.
pub(super) fn all_venues(conn: &Connection) -> Result<Vec<Venue>, StoreError> {
    let mut statement = conn
        .prepare(&format!(
            "SELECT {VENUE_COLUMNS} FROM venues ORDER BY applied_at DESC, id DESC"
        ))
        .db("list venues")?;
    let rows = statement
        .query_map([], RawVenue::from_row)
        .db("list venues")?;
    let mut venues = Vec::new();
    for row in rows {
        venues.push(row.db("list venues")?.into_venue()?);
    }
    Ok(venues)
}

/// Inserts an application.
pub(super) fn apply_in(
    tx: &Transaction<'_>,
    key: &VenueId,
    application: &VenueApplication,
    at: OffsetDateTime,
) -> Result<VenueRowId, StoreError> {
    let at = timestamp_to_text(at)?;
    tx.query_row(
        "INSERT INTO venues (venue_key, name, uscc, address, contact_name, contact_phone, \
             status, applied_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7) RETURNING id",
        params![
            key.0.as_slice(),
            application.name,
            application.uscc.as_str(),
            application.address,
            application.contact_name,
            application.contact_phone,
            at
        ],
        |row| row.get(0),
    )
    .map_err(|e| super::insert_error("apply venue", "venue", &e))
}

/// Applies a decision when the venue has the status it starts from.
pub(super) fn decide_in(
    tx: &Transaction<'_>,
    id: VenueRowId,
    decision: &Decision,
    by: i64,
    at: OffsetDateTime,
) -> Result<Option<Venue>, StoreError> {
    let current = venue_where(tx, "id = ?1", id)?.ok_or(StoreError::NotFound)?;
    let (from, to) = decision.transition();
    if current.status != from {
        return Ok(None);
    }
    let at = timestamp_to_text(at)?;
    match decision {
        Decision::Approve { token_hash } => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = NULL, token_hash = ?5 WHERE id = ?1",
            params![id, to.as_str(), at, by, token_hash.as_slice()],
        ),
        Decision::Reject { note } | Decision::Suspend { note } => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = ?5 WHERE id = ?1",
            params![id, to.as_str(), at, by, note],
        ),
        Decision::Reinstate => tx.execute(
            "UPDATE venues SET status = ?2, decided_at = ?3, decided_by = ?4, \
                 decision_note = NULL WHERE id = ?1",
            params![id, to.as_str(), at, by],
        ),
    }
    .map_err(|e| super::insert_error("decide venue", "venue token", &e))?;
    venue_where(tx, "id = ?1", id)
}

const POSTER_COLUMNS: &str = "venue_id, serial, kid, qr_text, created_at, retired_at";

fn poster_from_row(
    row: &Row<'_>,
) -> rusqlite::Result<(i64, i64, i64, String, String, Option<String>)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn poster_record(
    (venue, serial, kid, qr_text, created_at, retired_at): (
        i64,
        i64,
        i64,
        String,
        String,
        Option<String>,
    ),
) -> Result<PosterRecord, StoreError> {
    Ok(PosterRecord {
        venue,
        serial: u16::try_from(serial).map_err(|_| corrupt("venue_posters.serial"))?,
        kid: u8::try_from(kid).map_err(|_| corrupt("venue_posters.kid"))?,
        qr_text,
        created_at: timestamp_from_text(&created_at, "venue_posters.created_at")?,
        retired_at: opt_timestamp_from_text(retired_at.as_deref(), "venue_posters.retired_at")?,
    })
}

/// The venue's poster with this serial.
pub(super) fn poster(
    conn: &Connection,
    venue: VenueRowId,
    serial: u16,
) -> Result<Option<PosterRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {POSTER_COLUMNS} FROM venue_posters WHERE venue_id = ?1 AND serial = ?2"),
        params![venue, serial],
        poster_from_row,
    )
    .optional()
    .db("read poster")?
    .map(poster_record)
    .transpose()
}

/// The venue's current poster.
pub(super) fn current_poster(
    conn: &Connection,
    venue: VenueRowId,
) -> Result<Option<PosterRecord>, StoreError> {
    conn.query_row(
        &format!(
            "SELECT {POSTER_COLUMNS} FROM venue_posters WHERE venue_id = ?1 AND retired_at IS NULL"
        ),
        [venue],
        poster_from_row,
    )
    .optional()
    .db("read current poster")?
    .map(poster_record)
    .transpose()
}

/// Retires the current poster and adds the next serial.
pub(super) fn new_poster_in(
    tx: &Transaction<'_>,
    venue: VenueRowId,
    at: OffsetDateTime,
    sign: &mut dyn FnMut(u16) -> Result<(u8, String), String>,
) -> Result<PosterRecord, StoreError> {
    venue_where(tx, "id = ?1", venue)?.ok_or(StoreError::NotFound)?;
    let last: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(serial), 0) FROM venue_posters WHERE venue_id = ?1",
            [venue],
            |row| row.get(0),
        )
        .db("read last poster serial")?;
    let serial = u16::try_from(last + 1)
        .map_err(|_| StoreError::Database("poster serials exhausted".into()))?;
    let (kid, qr_text) =
        sign(serial).map_err(|e| StoreError::Database(format!("signing a poster: {e}")))?;
    let at_text = timestamp_to_text(at)?;
    tx.execute(
        "UPDATE venue_posters SET retired_at = ?2 WHERE venue_id = ?1 AND retired_at IS NULL",
        params![venue, at_text],
    )
    .db("retire poster")?;
    tx.execute(
        "INSERT INTO venue_posters (venue_id, serial, kid, qr_text, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![venue, serial, kid, qr_text, at_text],
    )
    .map_err(|e| super::insert_error("add poster", "poster", &e))?;
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
pub(super) fn record_entry_in(
    tx: &Transaction<'_>,
    entry: &NewEntry,
) -> Result<Result<i64, EntryRefused>, StoreError> {
    let venue = venue_where(tx, "id = ?1", entry.venue)?.ok_or(StoreError::NotFound)?;
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
    let id = tx
        .query_row(
            "INSERT INTO venue_entries \
                 (venue_id, at, citizen_id, channel, color, poster_serial, verifier_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![
                entry.venue,
                timestamp_to_text(entry.at)?,
                entry.citizen,
                channel,
                enum_to_text(&entry.color)?,
                serial,
                verifier
            ],
            |row| row.get(0),
        )
        .map_err(|e| super::insert_error("record entry", "entry", &e))?;
    Ok(Ok(id))
}

/// The venue's entries in `[from, until)`, names masked here so that no full name leaves storage
/// on this path.
pub(super) fn entries(
    conn: &Connection,
    venue: VenueRowId,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<EntryView>, StoreError> {
    let mut statement = conn
        .prepare(
            "SELECT e.at, c.name, e.color, e.channel, e.poster_serial, e.verifier_id \
             FROM venue_entries e JOIN citizens c ON c.id = e.citizen_id \
             WHERE e.venue_id = ?1 AND e.at >= ?2 AND e.at < ?3 ORDER BY e.at, e.id",
        )
        .db("list entries")?;
    let rows = statement
        .query_map(
            params![venue, timestamp_to_text(from)?, timestamp_to_text(until)?],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            },
        )
        .db("list entries")?;
    let mut out = Vec::new();
    for row in rows {
        let (at, name, color, channel, serial, verifier) = row.db("list entries")?;
        let via = match (channel.as_str(), serial, verifier) {
            ("suishen_code", Some(serial), None) => EntryVia::Poster {
                serial: u16::try_from(serial)
                    .map_err(|_| corrupt("venue_entries.poster_serial"))?,
            },
            ("offline_code", None, Some(verifier)) => EntryVia::DoorVerifier { verifier },
            _ => return Err(corrupt("venue_entries.channel")),
        };
        out.push(EntryView {
            at: timestamp_from_text(&at, "venue_entries.at")?,
            name_masked: mask::mask_name(&name),
            color: enum_from_text::<Color>(&color, "venue_entries.color")?,
            via,
        });
    }
    Ok(out)
}

/// Deletes entries older than `before`.
pub(super) fn purge_in(tx: &Transaction<'_>, before: OffsetDateTime) -> Result<u64, StoreError> {
    let removed = tx
        .execute(
            "DELETE FROM venue_entries WHERE at < ?1",
            [timestamp_to_text(before)?],
        )
        .db("purge entries")?;
    u64::try_from(removed).map_err(|_| StoreError::Database("purged count out of range".into()))
}

/// Adds a verifier bound to a venue.
pub(super) fn add_verifier_in(
    tx: &Transaction<'_>,
    venue: VenueRowId,
    name: &str,
    token_hash: &[u8; 32],
) -> Result<i64, StoreError> {
    let org = venue_where(tx, "id = ?1", venue)?
        .ok_or(StoreError::NotFound)?
        .name;
    let created_at = timestamp_to_text(OffsetDateTime::now_utc())?;
    tx.query_row(
        "INSERT INTO principals (role, name, org, token_hash, created_at, venue_id) \
         VALUES ('verifier', ?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![name, org, token_hash.as_slice(), created_at, venue],
        |row| row.get(0),
    )
    .map_err(|e| super::insert_error("add venue verifier", "principal token", &e))
}
