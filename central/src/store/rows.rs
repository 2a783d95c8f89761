//! Reading records from rows, the same for every backend: each reader takes the columns its
//! `*_COLUMNS` list names, in that order, and checks every value. A value this build cannot read
//! is a `Database` error naming the column, never quoting the value.

use protocol::IdNumber;
use protocol::api::{Action, CodeId, HeartbeatRequest, KioskConfig, PrintFailure, RequestId};
use protocol::venue::{VENUE_ID_LEN, VenueId};
use uuid::Uuid;

use crate::model::{
    Citizen, CodeRecord, CodeStatus, DEFAULT_IDLE_TIMEOUT_SECONDS, HeartbeatRecord, KioskRecord,
    Principal, Role, StoredPhoto,
};
use crate::store::StoreError;
use crate::store::convert::{
    corrupt, date_from_text, enum_from_text, from_json, hash_from_blob, opt_timestamp_from_text,
    timestamp_from_text,
};
use crate::store::sql::Columns;
use crate::venues::{PosterRecord, Venue, VenueStatus};

/// The `settings` key of the kiosk configuration.
pub(crate) const KIOSK_CONFIG_KEY: &str = "kiosk_config";

/// The kiosk configuration before anything was set: always open, no notice, no staff.
pub(crate) fn default_kiosk_config() -> KioskConfig {
    KioskConfig {
        version: 0,
        notice: None,
        service_hours: Vec::new(),
        staff: Vec::new(),
        idle_timeout_seconds: DEFAULT_IDLE_TIMEOUT_SECONDS,
    }
}

/// The columns [`citizen`] reads.
pub(crate) const CITIZEN_COLUMNS: &str =
    "id, id_number, name, photo_mime, photo, color, realname_verified";

/// A citizen from the [`CITIZEN_COLUMNS`] of a row.
pub(crate) fn citizen(row: &dyn Columns) -> Result<Citizen, StoreError> {
    let photo = match (
        row.opt_text(3, "citizens.photo_mime")?,
        row.opt_blob(4, "citizens.photo")?,
    ) {
        (None, None) => None,
        (Some(mime), Some(bytes)) => Some(StoredPhoto { mime, bytes }),
        _ => return Err(corrupt("citizens.photo")),
    };
    Ok(Citizen {
        id: row.int(0, "citizens.id")?,
        id_number: IdNumber::parse(&row.text(1, "citizens.id_number")?)
            .map_err(|_| corrupt("citizens.id_number"))?,
        name: row.text(2, "citizens.name")?,
        photo,
        color: enum_from_text(&row.text(5, "citizens.color")?, "citizens.color")?,
        realname_verified: match row.int(6, "citizens.realname_verified")? {
            0 => false,
            1 => true,
            _ => return Err(corrupt("citizens.realname_verified")),
        },
    })
}

/// The columns [`kiosk`] reads (of `kiosks k`).
pub(crate) const KIOSK_COLUMNS: &str = "k.kiosk_id, k.name, k.address, k.hours, k.cert_fingerprint";

/// A kiosk from the [`KIOSK_COLUMNS`] of a row.
pub(crate) fn kiosk(row: &dyn Columns) -> Result<KioskRecord, StoreError> {
    Ok(KioskRecord {
        kiosk_id: row.text(0, "kiosks.kiosk_id")?,
        name: row.text(1, "kiosks.name")?,
        address: row.text(2, "kiosks.address")?,
        hours: row.text(3, "kiosks.hours")?,
        cert_fingerprint: hash_from_blob(
            &row.blob(4, "kiosks.cert_fingerprint")?,
            "kiosks.cert_fingerprint",
        )?,
    })
}

/// A kiosk's heartbeat from the `received_at` and `report_json` columns at `at` and `at + 1`
/// (both NULL when the kiosk never sent one).
pub(crate) fn heartbeat(
    row: &dyn Columns,
    at: usize,
) -> Result<Option<HeartbeatRecord>, StoreError> {
    match (
        row.opt_text(at, "heartbeats.received_at")?,
        row.opt_text(at + 1, "heartbeats.report_json")?,
    ) {
        (None, None) => Ok(None),
        (Some(received_at), Some(report)) => Ok(Some(HeartbeatRecord {
            received_at: timestamp_from_text(&received_at, "heartbeats.received_at")?,
            report: from_json::<HeartbeatRequest>(&report, "heartbeats.report_json")?,
        })),
        _ => Err(corrupt("heartbeats")),
    }
}

/// The columns [`principal`] reads.
pub(crate) const PRINCIPAL_COLUMNS: &str = "id, role, name, org, venue_id";

/// A principal from the [`PRINCIPAL_COLUMNS`] of a row.
pub(crate) fn principal(row: &dyn Columns) -> Result<Principal, StoreError> {
    Ok(Principal {
        id: row.int(0, "principals.id")?,
        role: Role::parse(&row.text(1, "principals.role")?)
            .ok_or_else(|| corrupt("principals.role"))?,
        name: row.text(2, "principals.name")?,
        org: row.text(3, "principals.org")?,
        venue: row.opt_int(4, "principals.venue_id")?,
    })
}

/// The columns [`code`] reads, in order (also the column list of an insert).
pub(crate) const CODE_COLUMNS: &str = "code_id, citizen_id, kid, serial, issued_on, expires_on, \
     qr_text, status, request_id, action, kiosk_id, created_at, printed_at, print_failed_at, \
     print_failure, ended_at";

/// A code from the [`CODE_COLUMNS`] of a row.
pub(crate) fn code(row: &dyn Columns) -> Result<CodeRecord, StoreError> {
    let status =
        CodeStatus::parse(&row.text(7, "codes.status")?).ok_or_else(|| corrupt("codes.status"))?;
    let ended_at = opt_timestamp_from_text(
        row.opt_text(15, "codes.ended_at")?.as_deref(),
        "codes.ended_at",
    )?;
    if (status == CodeStatus::Active) != ended_at.is_none() {
        return Err(corrupt("codes.ended_at"));
    }
    let print_failure = match (
        row.opt_text(13, "codes.print_failed_at")?,
        row.opt_text(14, "codes.print_failure")?,
    ) {
        (None, None) => None,
        (Some(at), Some(reason)) => Some((
            timestamp_from_text(&at, "codes.print_failed_at")?,
            enum_from_text::<PrintFailure>(&reason, "codes.print_failure")?,
        )),
        _ => return Err(corrupt("codes.print_failure")),
    };
    Ok(CodeRecord {
        code_id: CodeId::parse(&row.text(0, "codes.code_id")?)
            .map_err(|_| corrupt("codes.code_id"))?,
        citizen: row.int(1, "codes.citizen_id")?,
        kid: u8::try_from(row.int(2, "codes.kid")?).map_err(|_| corrupt("codes.kid"))?,
        serial: u16::try_from(row.int(3, "codes.serial")?).map_err(|_| corrupt("codes.serial"))?,
        issued_on: date_from_text(&row.text(4, "codes.issued_on")?, "codes.issued_on")?,
        expires_on: date_from_text(&row.text(5, "codes.expires_on")?, "codes.expires_on")?,
        qr_text: row.text(6, "codes.qr_text")?,
        status,
        request_id: Uuid::parse_str(&row.text(8, "codes.request_id")?)
            .map(RequestId::new)
            .map_err(|_| corrupt("codes.request_id"))?,
        action: match row.text(9, "codes.action")?.as_str() {
            "apply" => Action::Apply,
            "reissue" => Action::Reissue,
            _ => return Err(corrupt("codes.action")),
        },
        kiosk_id: row.text(10, "codes.kiosk_id")?,
        created_at: timestamp_from_text(&row.text(11, "codes.created_at")?, "codes.created_at")?,
        printed_at: opt_timestamp_from_text(
            row.opt_text(12, "codes.printed_at")?.as_deref(),
            "codes.printed_at",
        )?,
        print_failure,
        ended_at,
    })
}

/// The columns [`venue`] reads.
pub(crate) const VENUE_COLUMNS: &str = "id, venue_key, name, uscc, address, contact_name, \
     contact_phone, status, applied_at, decided_at, decision_note";

/// A venue from the [`VENUE_COLUMNS`] of a row.
pub(crate) fn venue(row: &dyn Columns) -> Result<Venue, StoreError> {
    let key: [u8; VENUE_ID_LEN] = row
        .blob(1, "venues.venue_key")?
        .as_slice()
        .try_into()
        .map_err(|_| corrupt("venues.venue_key"))?;
    Ok(Venue {
        id: row.int(0, "venues.id")?,
        key: VenueId(key),
        name: row.text(2, "venues.name")?,
        uscc: row.text(3, "venues.uscc")?,
        address: row.text(4, "venues.address")?,
        contact_name: row.text(5, "venues.contact_name")?,
        contact_phone: row.text(6, "venues.contact_phone")?,
        status: VenueStatus::parse(&row.text(7, "venues.status")?)
            .ok_or_else(|| corrupt("venues.status"))?,
        applied_at: timestamp_from_text(&row.text(8, "venues.applied_at")?, "venues.applied_at")?,
        decided_at: opt_timestamp_from_text(
            row.opt_text(9, "venues.decided_at")?.as_deref(),
            "venues.decided_at",
        )?,
        decision_note: row.opt_text(10, "venues.decision_note")?,
    })
}

/// The columns [`poster`] reads.
pub(crate) const POSTER_COLUMNS: &str = "venue_id, serial, kid, qr_text, created_at, retired_at";

/// A poster from the [`POSTER_COLUMNS`] of a row.
pub(crate) fn poster(row: &dyn Columns) -> Result<PosterRecord, StoreError> {
    Ok(PosterRecord {
        venue: row.int(0, "venue_posters.venue_id")?,
        serial: u16::try_from(row.int(1, "venue_posters.serial")?)
            .map_err(|_| corrupt("venue_posters.serial"))?,
        kid: u8::try_from(row.int(2, "venue_posters.kid")?)
            .map_err(|_| corrupt("venue_posters.kid"))?,
        qr_text: row.text(3, "venue_posters.qr_text")?,
        created_at: timestamp_from_text(
            &row.text(4, "venue_posters.created_at")?,
            "venue_posters.created_at",
        )?,
        retired_at: opt_timestamp_from_text(
            row.opt_text(5, "venue_posters.retired_at")?.as_deref(),
            "venue_posters.retired_at",
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_always_open_with_no_staff() {
        let config = default_kiosk_config();
        assert_eq!(config.version, 0);
        assert!(config.notice.is_none());
        assert!(config.service_hours.is_empty());
        assert!(config.staff.is_empty());
        assert_eq!(config.idle_timeout_seconds, 60);
    }
}
