//! The central service's records: what the storage keeps and the handlers work with.
//!
//! Personal data (the full ID number, name and photo) lives only in [`Citizen`]; every other
//! record refers to a citizen by [`CitizenId`], a storage row id that means nothing outside.

use protocol::IdNumber;
use protocol::api::{
    Action, CodeId, CodeState, Color, HeartbeatRequest, PaperState, PrintFailure, RequestId,
};
use time::{Date, OffsetDateTime};

use crate::clock::SHANGHAI;

/// How long a kiosk waits for a resident before asking whether they are still there, unless the
/// central's configuration says otherwise: the kiosk's own 60 s, so that pulling the default
/// configuration changes nothing.
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: u32 = 60;

/// A citizen's row id in storage.
pub type CitizenId = i64;

/// A photo from the photo library.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// `image/png` or `image/jpeg`.
    pub mime: String,
    /// The image bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for StoredPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPhoto")
            .field("mime", &self.mime)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A citizen as the health and population systems know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    /// Storage row id.
    pub id: CitizenId,
    /// The full ID number (its `Debug` is masked).
    pub id_number: IdNumber,
    /// The full name.
    pub name: String,
    /// The photo in the photo library, if any.
    pub photo: Option<StoredPhoto>,
    /// The current health colour.
    pub color: Color,
    /// Whether the identity passed real-name verification.
    pub realname_verified: bool,
}

/// A citizen to insert or update (keyed by ID number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCitizen {
    /// The full ID number.
    pub id_number: IdNumber,
    /// The full name.
    pub name: String,
    /// The photo, if any.
    pub photo: Option<StoredPhoto>,
    /// The health colour.
    pub color: Color,
    /// Real-name verification passed.
    pub realname_verified: bool,
}

/// The life of an issued code as stored. Expiry is not stored: it follows from the code's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeStatus {
    /// The person's current code.
    Active,
    /// Replaced by a reissue; never verifies again.
    Superseded,
    /// Reported lost; never verifies again.
    Lost,
}

impl CodeStatus {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Superseded => "superseded",
            Self::Lost => "lost",
        }
    }

    /// Parses the stored text form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "superseded" => Some(Self::Superseded),
            "lost" => Some(Self::Lost),
            _ => None,
        }
    }
}

/// An issued code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// The code id inside the QR.
    pub code_id: CodeId,
    /// Whose code it is.
    pub citizen: CitizenId,
    /// Which issuer key signed it.
    pub kid: u8,
    /// 1 for the first slip, +1 per reissue.
    pub serial: u16,
    /// First valid day.
    pub issued_on: Date,
    /// Last valid day.
    pub expires_on: Date,
    /// The QR text (no personal data in it).
    pub qr_text: String,
    /// Active, superseded or lost.
    pub status: CodeStatus,
    /// The kiosk request that created it; the same request id always returns this code.
    pub request_id: RequestId,
    /// Apply or reissue.
    pub action: Action,
    /// The kiosk that issued it.
    pub kiosk_id: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When the kiosk reported the slip printed.
    pub printed_at: Option<OffsetDateTime>,
    /// When and why the kiosk reported the print failed (the latest report).
    pub print_failure: Option<(OffsetDateTime, PrintFailure)>,
    /// When it stopped verifying (superseded or lost).
    pub ended_at: Option<OffsetDateTime>,
}

/// The person's code state on `today`, from their current code (see `Store::current_code`): an
/// active code past its last valid day is expired; a lost code stays lost (a reissue replaces
/// it); a person whose codes are all superseded holds none. The one rule that the offer on the
/// kiosk's screen and the issuing transaction both use.
pub fn code_state(current: Option<&CodeRecord>, today: Date) -> CodeState {
    let Some(code) = current else {
        return CodeState::None;
    };
    match code.status {
        CodeStatus::Superseded => CodeState::None,
        CodeStatus::Active if code.expires_on < today => CodeState::Expired {
            code_id: code.code_id,
            serial: code.serial,
            expires_on: code.expires_on,
        },
        CodeStatus::Active => CodeState::Active {
            code_id: code.code_id,
            serial: code.serial,
            issued_on: code.issued_on,
            expires_on: code.expires_on,
        },
        CodeStatus::Lost => CodeState::Lost {
            code_id: code.code_id,
            serial: code.serial,
            lost_on: code
                .ended_at
                .and_then(|at| at.checked_to_offset(SHANGHAI))
                .map_or(today, OffsetDateTime::date),
        },
    }
}

/// A newly signed code, made inside the issuing transaction once the serial is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    /// The code id inside the QR.
    pub code_id: CodeId,
    /// Which issuer key signed it.
    pub kid: u8,
    /// First valid day.
    pub issued_on: Date,
    /// Last valid day.
    pub expires_on: Date,
    /// The QR text.
    pub qr_text: String,
}

/// What the issuing transaction needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueInput {
    /// The kiosk's request id (idempotency key).
    pub request_id: RequestId,
    /// Whose code.
    pub citizen: CitizenId,
    /// Apply or reissue.
    pub action: Action,
    /// The issuing kiosk.
    pub kiosk_id: String,
    /// The code the session's identify answered with (active or lost), if any: a reissue must
    /// replace exactly this one (`protocol::rules::check_issue`).
    pub shown_code: Option<CodeId>,
    /// Today, in Shanghai, by the service's clock.
    pub today: Date,
    /// Now, by the service's clock.
    pub now: OffsetDateTime,
}

/// A signed-in party other than a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Scans slips at a venue door.
    Verifier,
    /// The 一网通办 portal (report lost).
    Portal,
    /// Runs the service (fleet view).
    Operator,
}

impl Role {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verifier => "verifier",
            Self::Portal => "portal",
            Self::Operator => "operator",
        }
    }

    /// Parses the stored text form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "verifier" => Some(Self::Verifier),
            "portal" => Some(Self::Portal),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// A bearer-token holder. Only a hash of the token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Storage row id.
    pub id: i64,
    /// What the token allows.
    pub role: Role,
    /// The holder's name (shown in the verifier watermark).
    pub name: String,
    /// The holder's organisation.
    pub org: String,
    /// For a verifier at a venue's door: the venue their valid scans record entries at.
    pub venue: Option<crate::venues::VenueRowId>,
}

/// A short-lived identify session, created by identify and consumed by issuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who was identified.
    pub citizen: CitizenId,
    /// At which kiosk (a session is valid only there).
    pub kiosk_id: String,
    /// The person's code identify answered with, when it was active or lost (what a reissue in
    /// this session replaces).
    pub shown_code: Option<CodeId>,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
}

/// A provisioned kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskRecord {
    /// The kiosk id (`K001`).
    pub kiosk_id: String,
    /// Its display name (the hall).
    pub name: String,
    /// Its street address.
    pub address: String,
    /// Opening hours, in words.
    pub hours: String,
    /// Fingerprint (SM3) of its client certificate's DER.
    pub cert_fingerprint: [u8; 32],
}

/// The last heartbeat of a kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRecord {
    /// When the central received it.
    pub received_at: OffsetDateTime,
    /// What the kiosk said.
    pub report: HeartbeatRequest,
}

impl HeartbeatRecord {
    /// Whether the printer can print, from this heartbeat alone.
    pub fn has_paper(&self) -> bool {
        matches!(self.report.paper, PaperState::Ok | PaperState::NearEnd)
    }
}

/// One row of the verification log. It copies no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationLogEntry {
    /// The verifier (a [`Principal`] id).
    pub verifier: i64,
    /// When.
    pub at: OffsetDateTime,
    /// The code, when the payload was a readable code.
    pub code_id: Option<CodeId>,
    /// The result given (`valid`, `lost`, ...).
    pub result: protocol::api::VerifyResult,
}
