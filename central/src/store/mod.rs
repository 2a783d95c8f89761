//! Storage: one trait the handlers use, with two backends behind it: SQLite ([`sqlite`], one
//! file, for a single node) and PostgreSQL ([`postgres`], one database shared by several
//! service instances).
//!
//! Methods are blocking; async callers run them with `tokio::task::spawn_blocking` (the
//! PostgreSQL client panics on a thread that drives async tasks). Every method is one
//! transaction.
//!
//! Both backends run the same statements and checks (`backend`): the SQL both databases
//! understand, written once over a small connection interface (`sql`), the stored forms of
//! values (`convert`) and the reading of rows into records (`rows`). A backend only connects,
//! migrates its schema, runs transactions and says how rows are locked. Their schemas mirror each
//! other table for table (`central/migrations/sqlite/`, `central/migrations/postgres/`).

mod backend;
mod codes;
mod convert;
mod migrate;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;
mod venues;

use protocol::IdNumber;
use std::collections::BTreeMap;

use protocol::api::{
    CodeId, Color, JournalEvent, JournalKind, KioskConfig, PrintFailure, RequestId,
};
use protocol::rules::ActionRefused;
use time::OffsetDateTime;

use crate::model::{
    Citizen, CitizenId, CodeRecord, HeartbeatRecord, IssueInput, KioskRecord, NewCitizen, NewCode,
    Principal, Role, SessionRecord, VerificationLogEntry,
};
use crate::venues::{
    Decision, EntryRefused, EntryView, NewEntry, PosterRecord, Venue, VenueApplication, VenueRowId,
};
use protocol::venue::VenueId;

/// A storage failure. Anything but the typed refusals is a server-side fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or holds data it should not.
    #[error("database error: {0}")]
    Database(String),
    /// A record that must exist does not.
    #[error("not found")]
    NotFound,
    /// A unique value (kiosk id, certificate) is taken.
    #[error("already exists: {0}")]
    Duplicate(String),
    /// The database cannot be reached (it is down, restarting, or every connection is busy);
    /// the call may be repeated later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Concurrent transactions got in each other's way (a deadlock or a serialization failure)
    /// more often than the store retries; nothing was changed, and the call may be repeated.
    #[error("conflict with concurrent transactions: {0}")]
    Conflict(String),
}

/// Whether a failed transaction may be run again: a concurrent one got in its way.
pub(crate) trait Retryable {
    /// True for a transient conflict.
    fn is_transient(&self) -> bool;
}

impl Retryable for StoreError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Conflict(_))
    }
}

impl Retryable for IssueError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_transient())
    }
}

/// What a health check found: the database answered, with this schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    /// The backend: `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The schema version the database has.
    pub schema_version: i64,
    /// The schema version this build writes.
    pub expected_schema_version: i64,
}

impl StoreHealth {
    /// Whether the database has the schema this build writes.
    pub fn is_current(&self) -> bool {
        self.schema_version == self.expected_schema_version
    }
}

/// Why issuing did not produce a code.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The rules refuse the action (409).
    #[error(transparent)]
    Refused(#[from] ActionRefused),
    /// The request id was used before for another person or action (409).
    #[error("request id reused for a different request")]
    RequestIdReused,
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How issuing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issued {
    /// A new code was made (and, for a reissue, the previous one superseded).
    New(CodeRecord),
    /// The request id was seen before: the code it made then.
    Replayed(CodeRecord),
}

impl Issued {
    /// The code, new or replayed.
    pub fn code(&self) -> &CodeRecord {
        match self {
            Self::New(code) | Self::Replayed(code) => code,
        }
    }
}

/// Everything the central service keeps.
pub trait Store: Send + Sync + 'static {
    // The database itself.

    /// The backend's name: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks the database: one round trip that reads its schema version. An error when the
    /// database does not answer.
    fn health(&self) -> Result<StoreHealth, StoreError>;

    // Citizens (the only place with full ID numbers, names and photos).

    /// Inserts a citizen or updates the one with the same ID number; returns its id.
    fn upsert_citizen(&self, citizen: &NewCitizen) -> Result<CitizenId, StoreError>;
    /// The citizen with this ID number.
    fn citizen_by_id_number(&self, id_number: &IdNumber) -> Result<Option<Citizen>, StoreError>;
    /// The citizen with this row id.
    fn citizen(&self, id: CitizenId) -> Result<Option<Citizen>, StoreError>;
    /// Sets the health colour; `NotFound` if there is no such citizen.
    fn set_color(&self, id_number: &IdNumber, color: Color) -> Result<(), StoreError>;

    // Codes.

    /// The person's latest code that is not superseded (active or lost), or, failing that, the
    /// latest superseded one. `None` if the person never had a code.
    fn current_code(&self, citizen: CitizenId) -> Result<Option<CodeRecord>, StoreError>;
    /// A code by id.
    fn code(&self, code_id: &CodeId) -> Result<Option<CodeRecord>, StoreError>;
    /// The code a kiosk request created, if any.
    fn code_by_request_id(&self, request_id: &RequestId) -> Result<Option<CodeRecord>, StoreError>;
    /// The highest serial the person has had (0 if none).
    fn max_serial(&self, citizen: CitizenId) -> Result<u16, StoreError>;
    /// Issues a code in one transaction: a known request id returns its code (`Replayed`; a
    /// different person or action is `RequestIdReused`); otherwise the current code state is
    /// derived with `input.today` (an active code past its expiry counts as expired), the action
    /// is checked with `protocol::rules::check_issue` against `eligibility` and
    /// `input.shown_code` (a reissue replaces only the code the session was shown), `sign` is called
    /// with the next serial (max + 1) to make the code, the previous active or lost code becomes
    /// superseded (for a reissue), and the new code is inserted as active. Two concurrent calls for
    /// one person never leave two active codes.
    fn issue(
        &self,
        input: &IssueInput,
        eligibility: &protocol::Eligibility,
        sign: &mut dyn FnMut(u16) -> Result<NewCode, String>,
    ) -> Result<Issued, IssueError>;
    /// Records that the slip was printed (idempotent).
    fn mark_printed(&self, code_id: &CodeId, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records that printing failed (the latest report wins).
    fn mark_print_failed(
        &self,
        code_id: &CodeId,
        at: OffsetDateTime,
        reason: PrintFailure,
    ) -> Result<(), StoreError>;
    /// Makes the person's active code lost; `NotFound` if there is no active code.
    fn report_lost(&self, citizen: CitizenId, at: OffsetDateTime)
    -> Result<CodeRecord, StoreError>;

    // Identify sessions (only a hash of the token is stored).

    /// Stores a session under the hash of its token.
    fn create_session(
        &self,
        token_hash: &[u8; 32],
        session: &SessionRecord,
    ) -> Result<(), StoreError>;
    /// The session with this token hash, expired or not.
    fn session(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError>;
    /// Deletes sessions that expired before `now`; returns how many.
    fn purge_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    // Bearer tokens (only a hash is stored).

    /// Adds a principal with the hash of its token; returns its id.
    fn add_principal(
        &self,
        role: Role,
        name: &str,
        org: &str,
        token_hash: &[u8; 32],
    ) -> Result<i64, StoreError>;
    /// The principal with this token hash.
    fn principal(&self, token_hash: &[u8; 32]) -> Result<Option<Principal>, StoreError>;

    // Kiosks.

    /// Adds a kiosk, or replaces its details and certificate fingerprint (re-provisioning).
    fn upsert_kiosk(&self, kiosk: &KioskRecord) -> Result<(), StoreError>;
    /// The kiosk whose client certificate has this fingerprint.
    fn kiosk_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<KioskRecord>, StoreError>;
    /// Stores the latest heartbeat of a kiosk.
    fn record_heartbeat(
        &self,
        kiosk_id: &str,
        heartbeat: &HeartbeatRecord,
    ) -> Result<(), StoreError>;
    /// Every kiosk with its latest heartbeat, ordered by kiosk id.
    fn kiosks(&self) -> Result<Vec<(KioskRecord, Option<HeartbeatRecord>)>, StoreError>;

    // Journal and logs.

    /// Stores a batch of a kiosk's journal events, each once by event id; returns
    /// (accepted, duplicates).
    fn append_journal(
        &self,
        kiosk_id: &str,
        events: &[JournalEvent],
    ) -> Result<(u32, u32), StoreError>;
    /// How many journal events of `kind` each kiosk recorded with a time (`at`, the kiosk's clock)
    /// in `[from, until)`, by kiosk id; kiosks with none are absent.
    fn journal_counts(
        &self,
        kind: JournalKind,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<BTreeMap<String, u64>, StoreError>;
    /// Writes a verification-log row.
    fn log_verification(&self, entry: &VerificationLogEntry) -> Result<(), StoreError>;

    // Settings.

    /// The configuration kiosks pull.
    fn kiosk_config(&self) -> Result<KioskConfig, StoreError>;
    /// Replaces the kiosk configuration, bumping its version; returns the new version.
    fn set_kiosk_config(&self, config: &KioskConfig) -> Result<u64, StoreError>;

    // Venues (see `crate::venues`).

    /// Records an application (pending) under the random id `key`; `Duplicate` when the same
    /// unified social credit code is pending, approved or suspended already.
    fn apply_venue(
        &self,
        key: &VenueId,
        application: &VenueApplication,
        at: OffsetDateTime,
    ) -> Result<VenueRowId, StoreError>;
    /// Every venue, newest application first.
    fn venues(&self) -> Result<Vec<Venue>, StoreError>;
    /// A venue by row id.
    fn venue(&self, id: VenueRowId) -> Result<Option<Venue>, StoreError>;
    /// The venue whose posters carry `key`.
    fn venue_by_key(&self, key: &VenueId) -> Result<Option<Venue>, StoreError>;
    /// The venue whose token has this hash (approved or suspended venues have one).
    fn venue_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<Venue>, StoreError>;
    /// Applies an operator's decision when the venue has the status the decision starts from
    /// (`Decision::transition`); `Ok(None)` when it has another, `NotFound` when there is no such
    /// venue.
    fn decide_venue(
        &self,
        id: VenueRowId,
        decision: &Decision,
        by: i64,
        at: OffsetDateTime,
    ) -> Result<Option<Venue>, StoreError>;
    /// Retires the venue's current poster (if any) and adds the next serial, signed by `sign`
    /// (serial -> (kid, QR text)), in one transaction.
    fn new_poster(
        &self,
        venue: VenueRowId,
        at: OffsetDateTime,
        sign: &mut dyn FnMut(u16) -> Result<(u8, String), String>,
    ) -> Result<PosterRecord, StoreError>;
    /// The venue's current poster.
    fn current_poster(&self, venue: VenueRowId) -> Result<Option<PosterRecord>, StoreError>;
    /// Records an entry, after checking in the same transaction that the venue is approved and,
    /// for a poster scan, that the poster is the current one; returns the entry's row id.
    fn record_entry(&self, entry: &NewEntry) -> Result<Result<i64, EntryRefused>, StoreError>;
    /// The venue's entries with a time in `[from, until)`, oldest first, names masked.
    fn venue_entries(
        &self,
        venue: VenueRowId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<EntryView>, StoreError>;
    /// Deletes every venue's entries older than `before`; returns how many.
    fn purge_venue_entries(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
    /// Adds a verifier bound to the venue (its valid scans record entries there); the
    /// organisation is the venue's name. Returns the principal id.
    fn add_venue_verifier(
        &self,
        venue: VenueRowId,
        name: &str,
        token_hash: &[u8; 32],
    ) -> Result<i64, StoreError>;
}

/// Whether the request ids match an earlier code for the same person and action.
pub fn same_request(code: &CodeRecord, input: &IssueInput) -> bool {
    code.request_id == input.request_id
        && code.citizen == input.citizen
        && code.action == input.action
}
