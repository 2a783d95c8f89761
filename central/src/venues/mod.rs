//! Venue poster codes (单位张贴码): organisations registered in Shanghai apply for a poster, an
//! operator approves them, the approved organisation prints its A4 poster ([`poster`]) and puts
//! it up at its entrance. People scan it with 随申办 (`POST /v1/venue-scans`); holders of an
//! offline code are scanned at the same door by a verifier bound to the venue. Every entry is
//! recorded with the person's colour at that moment and kept [`ENTRY_RETENTION`].
//!
//! # Life of a venue
//!
//! ```text
//! pending --approve--> approved --suspend--> suspended
//!    |                    ^                      |
//!    +--reject--> rejected +------reinstate------+
//! ```
//!
//! Approval makes the organisation's token (`u_...`, shown once to the operator, who hands it
//! over; only its hash is stored) and its first poster. A rejected organisation may apply again
//! with the same unified social credit code; a pending, approved or suspended one may not.
//!
//! # Posters
//!
//! A poster's QR carries a [`protocol::venue::VenueCode`]: the venue's random 8-byte id, a serial
//! and the SM2 signature of the current issuer key. A reprint retires the current poster and makes
//! the next serial; scans of a retired poster are refused (`venue_code_retired`).
//!
//! # Entries
//!
//! Scanning the poster with 随申办 records `(venue, time, citizen row id, colour, poster serial)`;
//! a door verifier's valid scan of an offline code records `(venue, time, citizen, colour,
//! verifier)`. Nothing else about the person is copied: the organisation's page shows the masked
//! name, looked up when the page is made. A forged or retired poster, an unknown venue or one that
//! is not approved is refused with a 4xx and nothing is recorded. Entries older than
//! [`ENTRY_RETENTION`] are deleted by [`purge_expired_entries`], which `serve` runs at start and
//! every [`CLEANUP_INTERVAL`], and which the operator page and `central purge-entries` run on
//! demand.

pub mod poster;

use std::fmt;
use std::sync::Arc;

use protocol::api::{Color, ErrorCode, VenueScanRequest, VenueScanResponse};
use protocol::keys::Signer;
use protocol::venue::{VENUE_ID_LEN, VenueCode, VenueCodeError, VenueId};
use protocol::{Uscc, mask};
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, SHANGHAI};
use crate::http::{ApiError, AppState, blocking, with_keys};
use crate::issuer::IssuerKeys;
use crate::model::CitizenId;
use crate::store::{Store, StoreError};

/// How long entries are kept.
pub const ENTRY_RETENTION: Duration = Duration::days(28);
/// How often `serve` deletes expired entries.
pub const CLEANUP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);
/// The prefix of an organisation's token.
pub const TOKEN_PREFIX: &str = "u_";
/// The longest name an organisation may register (it must fit the poster).
pub const MAX_NAME_CHARS: usize = 40;
/// The longest address.
pub const MAX_ADDRESS_CHARS: usize = 80;
/// The longest contact name.
pub const MAX_CONTACT_CHARS: usize = 20;

/// A venue's row id in storage (never shown outside: posters carry the random [`VenueId`]).
pub type VenueRowId = i64;

/// Where a venue's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VenueStatus {
    /// Applied; waiting for an operator.
    Pending,
    /// Approved: its poster records entries.
    Approved,
    /// Refused by an operator.
    Rejected,
    /// Approved once, now stopped by an operator: its poster records nothing.
    Suspended,
}

impl VenueStatus {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
        }
    }

    /// Parses the stored text form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }

    /// In words, for the pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待审核",
            Self::Approved => "已通过",
            Self::Rejected => "未通过",
            Self::Suspended => "已暂停",
        }
    }
}

/// What an organisation gives when it applies.
#[derive(Clone, PartialEq, Eq)]
pub struct VenueApplication {
    /// The registered name.
    pub name: String,
    /// The unified social credit code.
    pub uscc: Uscc,
    /// The address of the entrance the poster goes up at.
    pub address: String,
    /// Who to call about the registration.
    pub contact_name: String,
    /// Their phone number.
    pub contact_phone: String,
}

impl fmt::Debug for VenueApplication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contact is a person: neither their name nor their number goes to a log.
        f.debug_struct("VenueApplication")
            .field("name", &self.name)
            .field("uscc", &self.uscc)
            .finish_non_exhaustive()
    }
}

/// A registered (or applying) organisation.
#[derive(Clone, PartialEq, Eq)]
pub struct Venue {
    /// Storage row id.
    pub id: VenueRowId,
    /// The random id its posters carry.
    pub key: VenueId,
    /// The registered name.
    pub name: String,
    /// The unified social credit code.
    pub uscc: String,
    /// The address.
    pub address: String,
    /// The contact's name.
    pub contact_name: String,
    /// The contact's phone number.
    pub contact_phone: String,
    /// Where the registration stands.
    pub status: VenueStatus,
    /// When it applied.
    pub applied_at: OffsetDateTime,
    /// When an operator last decided on it.
    pub decided_at: Option<OffsetDateTime>,
    /// The operator's note (why it was rejected or suspended).
    pub decision_note: Option<String>,
}

impl fmt::Debug for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Venue")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("name", &self.name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// An operator's decision on a venue.
#[derive(Clone, PartialEq, Eq)]
pub enum Decision {
    /// Pending -> approved, with the hash of the organisation's new token.
    Approve {
        /// SM3 of the token.
        token_hash: [u8; 32],
    },
    /// Pending -> rejected.
    Reject {
        /// Why, in words the organisation will be told.
        note: String,
    },
    /// Approved -> suspended.
    Suspend {
        /// Why.
        note: String,
    },
    /// Suspended -> approved.
    Reinstate,
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approve { .. } => "Approve",
            Self::Reject { .. } => "Reject",
            Self::Suspend { .. } => "Suspend",
            Self::Reinstate => "Reinstate",
        })
    }
}

impl Decision {
    /// The status a venue must have for this decision, and the one it gets.
    pub fn transition(&self) -> (VenueStatus, VenueStatus) {
        match self {
            Self::Approve { .. } => (VenueStatus::Pending, VenueStatus::Approved),
            Self::Reject { .. } => (VenueStatus::Pending, VenueStatus::Rejected),
            Self::Suspend { .. } => (VenueStatus::Approved, VenueStatus::Suspended),
            Self::Reinstate => (VenueStatus::Suspended, VenueStatus::Approved),
        }
    }
}

/// One of a venue's posters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterRecord {
    /// Whose.
    pub venue: VenueRowId,
    /// 1 for the first, +1 per reprint.
    pub serial: u16,
    /// The issuer key that signed it.
    pub kid: u8,
    /// The QR text.
    pub qr_text: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When a reprint replaced it.
    pub retired_at: Option<OffsetDateTime>,
}

/// How an entry was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryVia {
    /// The person scanned this poster with 随申办.
    Poster {
        /// The poster's serial.
        serial: u16,
    },
    /// A verifier bound to the venue scanned the person's offline code.
    DoorVerifier {
        /// The verifier (a principal id).
        verifier: i64,
    },
}

impl EntryVia {
    /// In words, for the page and the CSV.
    pub fn label(self) -> &'static str {
        match self {
            Self::Poster { .. } => "随申码",
            Self::DoorVerifier { .. } => "离线码",
        }
    }
}

/// An entry to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry {
    /// Where.
    pub venue: VenueRowId,
    /// When (the service's clock).
    pub at: OffsetDateTime,
    /// Who.
    pub citizen: CitizenId,
    /// Their colour then.
    pub color: Color,
    /// How.
    pub via: EntryVia,
}

/// Why an entry was not recorded (checked in the recording transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryRefused {
    /// The venue is not approved (pending, rejected or suspended).
    #[error("the venue is not approved")]
    VenueNotActive,
    /// The poster was replaced by a reprint.
    #[error("the poster was replaced by a reprint")]
    PosterRetired,
    /// The venue never had a poster with this serial.
    #[error("no such poster")]
    UnknownPoster,
}

/// An entry as the organisation sees it: no full name, no ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryView {
    /// When.
    pub at: OffsetDateTime,
    /// The masked name.
    pub name_masked: String,
    /// The colour at entry.
    pub color: Color,
    /// How.
    pub via: EntryVia,
}

/// A fresh random venue id.
pub fn new_venue_key() -> Result<VenueId, getrandom::Error> {
    let mut bytes = [0u8; VENUE_ID_LEN];
    getrandom::fill(&mut bytes)?;
    Ok(VenueId(bytes))
}

/// Signs poster `serial` of `venue` with `signer`: (kid, QR text).
pub fn sign_poster(
    signer: &dyn Signer,
    venue: VenueId,
    serial: u16,
) -> Result<(u8, String), String> {
    let code = VenueCode::issue(signer, venue, serial).map_err(|e| e.to_string())?;
    Ok((code.body().kid(), code.to_qr_text()))
}

/// Makes the venue's next poster with the current issuer key, retiring the current one.
pub fn new_poster(
    store: &dyn Store,
    keys: &IssuerKeys,
    venue: &Venue,
    now: OffsetDateTime,
) -> Result<PosterRecord, StoreError> {
    let signer = keys
        .current()
        .ok_or_else(|| StoreError::Database("no issuer key".into()))?
        .clone();
    let key = venue.key;
    store.new_poster(venue.id, now, &mut |serial| {
        sign_poster(&signer, key, serial)
    })
}

/// [`new_poster`] for a handler: the issuer keys re-read if they changed, storage on a blocking
/// thread.
pub(crate) async fn make_poster(state: &AppState, venue: &Venue) -> Result<PosterRecord, ApiError> {
    let signer = with_keys(state, |keys| keys.current().cloned())?
        .ok_or_else(|| ApiError::internal("issuer keys", &"no key"))?;
    let (id, key, now) = (venue.id, venue.key, state.clock.now());
    blocking(state, move |store| {
        store.new_poster(id, now, &mut |serial| sign_poster(&signer, key, serial))
    })
    .await
}

/// Deletes the entries older than [`ENTRY_RETENTION`] at `now`; returns how many.
pub fn purge_expired_entries(store: &dyn Store, now: OffsetDateTime) -> Result<u64, StoreError> {
    store.purge_venue_entries(now - ENTRY_RETENTION)
}

/// Runs [`purge_expired_entries`] now and every [`CLEANUP_INTERVAL`], with the service's clock,
/// until the task is aborted.
pub async fn cleanup_loop(store: Arc<dyn Store>, clock: Arc<dyn Clock>) {
    cleanup_loop_every(store, clock, CLEANUP_INTERVAL).await;
}

/// [`cleanup_loop`] with another interval (tests use a short one).
pub async fn cleanup_loop_every(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    interval: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = clock.now();
        let store = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || purge_expired_entries(store.as_ref(), now)).await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "deleted venue entries older than 28 days"),
            Ok(Err(e)) => tracing::error!(error = %e, "deleting old venue entries failed"),
            Err(e) => tracing::error!(error = %e, "the clean-up task failed"),
        }
    }
}

/// The UTC bounds of the Shanghai day of `now`: `[00:00, next 00:00)`.
pub fn day_bounds(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let start = now
        .to_offset(SHANGHAI)
        .date()
        .midnight()
        .assume_offset(SHANGHAI);
    (start, start.saturating_add(Duration::days(1)))
}

/// The colour in words.
pub fn color_label(color: Color) -> &'static str {
    match color {
        Color::Green => "绿码",
        Color::Yellow => "黄码",
        Color::Red => "红码",
    }
}

/// The entries as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the
/// Chinese right): `时间,姓名,健康码,方式`, times in Shanghai time.
pub fn entries_csv(entries: &[EntryView]) -> String {
    let mut out = String::from("\u{feff}时间,姓名,健康码,方式\r\n");
    for entry in entries {
        let fields = [
            crate::pages::html::date_time(entry.at),
            entry.name_masked.clone(),
            color_label(entry.color).to_owned(),
            entry.via.label().to_owned(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-`
/// or `@` is escaped with a quote mark so that a spreadsheet never takes it for a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Counts by colour: (green, yellow, red).
pub fn counts(entries: &[EntryView]) -> (usize, usize, usize) {
    entries
        .iter()
        .fold((0, 0, 0), |(g, y, r), entry| match entry.color {
            Color::Green => (g + 1, y, r),
            Color::Yellow => (g, y + 1, r),
            Color::Red => (g, y, r + 1),
        })
}

/// `POST /v1/venue-scans`: checks the 随申码 token and the poster code, records the entry and
/// answers the person's colour. Every refusal records nothing.
pub(crate) async fn scan_poster(
    state: &AppState,
    request: VenueScanRequest,
) -> Result<VenueScanResponse, ApiError> {
    let now = state.clock.now();
    let citizen_id = state
        .suishen
        .check(&request.suishen_code, now)
        .map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidSuishenCode,
                format!("{e}: refresh it in 随申办"),
            )
        })?;
    let keys = with_keys(state, IssuerKeys::key_set)?;
    let text = request.venue_code.trim_end_matches(['\r', '\n']);
    let code = VenueCode::verify(text, &keys).map_err(|e| {
        let message = match e {
            VenueCodeError::Prefix => "this is not a venue poster code".to_owned(),
            other => format!("this venue poster code is not genuine: {other}"),
        };
        ApiError::new(ErrorCode::InvalidVenueCode, message)
    })?;
    let key = code.body().venue_id();
    let venue = blocking(state, move |store| store.venue_by_key(&key))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownVenue, "no venue has this poster code"))?;
    let citizen = blocking(state, move |store| store.citizen(citizen_id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownPerson, "no record for this 随申码"))?;
    let entry = NewEntry {
        venue: venue.id,
        at: now,
        citizen: citizen.id,
        color: citizen.color,
        via: EntryVia::Poster {
            serial: code.body().serial(),
        },
    };
    let recorded = blocking(state, move |store| store.record_entry(&entry)).await?;
    match recorded {
        Ok(_) => Ok(VenueScanResponse {
            venue_name: venue.name,
            holder_name: mask::mask_name(&citizen.name),
            color: citizen.color,
            scanned_at: now,
        }),
        Err(EntryRefused::VenueNotActive) => Err(ApiError::new(
            ErrorCode::VenueNotActive,
            "this venue's poster code is not in use (the registration is not approved or is \
             suspended)",
        )),
        Err(EntryRefused::PosterRetired) => Err(ApiError::new(
            ErrorCode::VenueCodeRetired,
            "this poster was replaced by a new one: scan the poster now at the entrance",
        )),
        Err(EntryRefused::UnknownPoster) => Err(ApiError::new(
            ErrorCode::InvalidVenueCode,
            "this venue never had a poster with this number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn view(color: Color, name: &str) -> EntryView {
        EntryView {
            at: datetime!(2026-11-21 02:00:05 UTC),
            name_masked: name.into(),
            color,
            via: EntryVia::Poster { serial: 1 },
        }
    }

    #[test]
    fn decisions_move_between_the_right_states() {
        use VenueStatus::*;
        let approve = Decision::Approve {
            token_hash: [0; 32],
        };
        assert_eq!(approve.transition(), (Pending, Approved));
        assert_eq!(
            Decision::Reject { note: "x".into() }.transition(),
            (Pending, Rejected)
        );
        assert_eq!(
            Decision::Suspend { note: "x".into() }.transition(),
            (Approved, Suspended)
        );
        assert_eq!(Decision::Reinstate.transition(), (Suspended, Approved));
        assert!(!format!("{approve:?}").contains('0'));
        for status in [Pending, Approved, Rejected, Suspended] {
            assert_eq!(VenueStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn csv_has_a_header_quotes_what_needs_it_and_defuses_formulas() {
        let csv = entries_csv(&[
            view(Color::Green, "王*英"),
            view(Color::Red, "Z****, S**"),
            view(Color::Yellow, "=1+2"),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "\u{feff}时间,姓名,健康码,方式");
        assert_eq!(lines[1], "2026-11-21 10:00:05,王*英,绿码,随申码");
        assert_eq!(lines[2], "2026-11-21 10:00:05,\"Z****, S**\",红码,随申码");
        assert_eq!(lines[3], "2026-11-21 10:00:05,'=1+2,黄码,随申码");
        assert_eq!(lines[4], "");
    }

    #[test]
    fn counts_are_by_colour_and_days_are_shanghai_days() {
        let entries = [
            view(Color::Green, "a"),
            view(Color::Green, "b"),
            view(Color::Red, "c"),
        ];
        assert_eq!(counts(&entries), (2, 0, 1));
        let (from, until) = day_bounds(datetime!(2026-11-20 16:30 UTC));
        assert_eq!(from, datetime!(2026-11-21 00:00 +8));
        assert_eq!(until, datetime!(2026-11-22 00:00 +8));
    }
}
