//! JSON types of the central API v1, shared by the kiosk (client) and the central service
//! (server), and read by the verifier and portal pages.
//!
//! Conventions, for every body in this module:
//! - field names and enum values are `snake_case`;
//! - request bodies reject unknown fields (`deny_unknown_fields`); response bodies do not, so an
//!   older kiosk keeps reading the answers of a newer central service;
//! - timestamps are RFC 3339 strings (`2025-03-14T09:26:53+08:00`), calendar dates are
//!   `YYYY-MM-DD`, wall-clock times are `HH:MM`;
//! - an `Option` field is always written (as `null` when absent) and may be left out when read;
//! - personal data goes out masked (see [`crate::mask`]) except to the holder's own screen
//!   ([`Person::name`]); the `Debug` output of the types that carry a full name, a photo, a session
//!   token or a 随申码 token leaves those out, so that a logged value leaks nothing.
//!
//! The routes are listed in [`routes`]; errors are an [`ErrorBody`] with an [`ErrorCode`] whose
//! [`ErrorCode::status`] is the HTTP status.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime, Time, Weekday};
use uuid::Uuid;

use crate::eligibility::Eligibility;
use crate::idnumber::IdNumber;
use crate::rules::Offer;

/// The paths of API v1. Path parameters are written in braces, as the central's router takes them.
pub mod routes {
    use super::CodeId;

    /// `POST`: [`IdentifyRequest`](super::IdentifyRequest) -> [`IdentifyResponse`](super::IdentifyResponse).
    pub const IDENTIFY: &str = "/v1/kiosk/identify";
    /// `POST`: [`IssueRequest`](super::IssueRequest) -> [`IssuedCode`](super::IssuedCode).
    pub const CODES: &str = "/v1/kiosk/codes";
    /// `POST`: [`PrintedRequest`](super::PrintedRequest) -> [`Ack`](super::Ack).
    pub const CODE_PRINTED: &str = "/v1/kiosk/codes/{code_id}/printed";
    /// `POST`: [`PrintFailedRequest`](super::PrintFailedRequest) -> [`Ack`](super::Ack).
    pub const CODE_PRINT_FAILED: &str = "/v1/kiosk/codes/{code_id}/print-failed";
    /// `POST`: [`HeartbeatRequest`](super::HeartbeatRequest) -> [`HeartbeatResponse`](super::HeartbeatResponse).
    pub const HEARTBEAT: &str = "/v1/kiosk/heartbeat";
    /// `POST`: [`JournalBatch`](super::JournalBatch) -> [`JournalAck`](super::JournalAck).
    pub const JOURNAL: &str = "/v1/kiosk/journal";
    /// `GET` -> [`KioskConfig`](super::KioskConfig).
    pub const CONFIG: &str = "/v1/kiosk/config";
    /// `GET` -> [`KeysResponse`](super::KeysResponse). Public.
    pub const KEYS: &str = "/v1/keys";
    /// `POST` (verifier token): [`VerifyRequest`](super::VerifyRequest) -> [`VerifyResponse`](super::VerifyResponse).
    pub const VERIFY: &str = "/v1/verify";
    /// `POST` (portal token): [`ReportLostRequest`](super::ReportLostRequest) -> [`ReportLostResponse`](super::ReportLostResponse).
    pub const REPORT_LOST: &str = "/v1/portal/report-lost";
    /// `GET` -> [`KioskDirectory`](super::KioskDirectory). Public.
    pub const KIOSKS: &str = "/v1/kiosks";
    /// `POST`: [`VenueScanRequest`](super::VenueScanRequest) -> [`VenueScanResponse`](super::VenueScanResponse).
    /// No bearer token: the 随申码 token in the body is the credential.
    pub const VENUE_SCANS: &str = "/v1/venue-scans";

    /// The concrete path of [`CODE_PRINTED`] for one code.
    pub fn code_printed(code_id: &CodeId) -> String {
        format!("/v1/kiosk/codes/{code_id}/printed")
    }

    /// The concrete path of [`CODE_PRINT_FAILED`] for one code.
    pub fn code_print_failed(code_id: &CodeId) -> String {
        format!("/v1/kiosk/codes/{code_id}/print-failed")
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The body of every error answer: `{"error": "<code>", "message": "<plain words>"}`.
///
/// `message` is for logs and operators; screens choose their own words from `error`. It never
/// contains personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable, machine-readable code.
    pub error: ErrorCode,
    /// A short human-readable explanation.
    pub message: String,
}

impl ErrorBody {
    /// An error body with the given code and message.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
        }
    }
}

/// Stable error codes. The wire form is the `snake_case` name; [`ErrorCode::status`] gives the
/// HTTP status the central answers with. Every code but `internal` and `unavailable` is a 4xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed in a way no more specific code covers.
    BadRequest,
    /// 400: the body is not valid JSON, or does not have the expected shape (unknown or missing
    /// fields, wrong types, unknown enum values).
    InvalidJson,
    /// 413: the body is larger than the service accepts.
    BodyTooLarge,
    /// 413: a journal batch holds more than [`MAX_JOURNAL_BATCH`] events.
    BatchTooLarge,
    /// 415: the body is not declared as `application/json`.
    UnsupportedMediaType,
    /// 422: an ID number fails the format or check-character rules.
    InvalidIdNumber,
    /// 400: a code id (in a path) is not 32 lowercase hex characters.
    InvalidCodeId,
    /// 422: the ID card's validity ended before today.
    CardExpired,
    /// 422: the 随申码 token is malformed, forged or expired.
    InvalidSuishenCode,
    /// 404: no citizen record for this ID number.
    UnknownPerson,
    /// 404: no code with this code id (or not one this kiosk issued).
    UnknownCode,
    /// 409: the person may not have an offline code (under 60, no photo, not real-name verified).
    NotEligible,
    /// 410: the session token was valid but has expired: identify again.
    SessionExpired,
    /// 404: the session token is not one the service issued.
    UnknownSession,
    /// 409: `apply` while the person holds an active code: use `reissue`.
    ConflictActiveCode,
    /// 409: `apply` while the person's code is reported lost: use `reissue`.
    ConflictLostCode,
    /// 409: `reissue` while the person holds no current code (none, or only an expired one): use
    /// `apply`.
    ConflictNoCode,
    /// 409: a request id already used for a different request (another session or action).
    ConflictRequestId,
    /// 409: `reissue` of a code that is no longer the person's current one: it was replaced (at
    /// another kiosk, say) after this session's identify. Identify again to see the code now.
    ConflictCodeChanged,
    /// 401: no credentials, or credentials the service does not accept.
    Unauthorized,
    /// 403: valid credentials that do not allow this call.
    Forbidden,
    /// 404: no such route or resource.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 408: the request took too long to arrive or to answer.
    RequestTimeout,
    /// 429: too many requests; retry later.
    RateLimited,
    /// 500: a bug in the service.
    Internal,
    /// 503: the service is starting, shutting down or cannot reach its storage; retry later.
    Unavailable,
    /// 422: the venue poster code is malformed, or its signature does not verify.
    InvalidVenueCode,
    /// 410: the venue poster code was replaced by a reprint; scan the poster now on the door.
    VenueCodeRetired,
    /// 404: a correctly signed venue poster code for a venue the service does not know.
    UnknownVenue,
    /// 403: the venue is not (or no longer) approved: rejected or suspended.
    VenueNotActive,
}

/// The message fragment by which a deserialization error names an invalid ID number
/// (see [`ErrorCode::for_deserialize_error`]).
pub const INVALID_ID_NUMBER_MESSAGE: &str = "invalid ID number";
/// The message fragment by which a deserialization error names an invalid code id
/// (see [`ErrorCode::for_deserialize_error`]).
pub const INVALID_CODE_ID_MESSAGE: &str = "invalid code id";

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 31] = [
        Self::BadRequest,
        Self::InvalidJson,
        Self::BodyTooLarge,
        Self::BatchTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidIdNumber,
        Self::InvalidCodeId,
        Self::CardExpired,
        Self::InvalidSuishenCode,
        Self::UnknownPerson,
        Self::UnknownCode,
        Self::NotEligible,
        Self::SessionExpired,
        Self::UnknownSession,
        Self::ConflictActiveCode,
        Self::ConflictLostCode,
        Self::ConflictNoCode,
        Self::ConflictRequestId,
        Self::ConflictCodeChanged,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::RateLimited,
        Self::Internal,
        Self::Unavailable,
        Self::InvalidVenueCode,
        Self::VenueCodeRetired,
        Self::UnknownVenue,
        Self::VenueNotActive,
    ];

    /// The HTTP status code the central answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidJson | Self::InvalidCodeId => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::VenueNotActive => 403,
            Self::UnknownPerson
            | Self::UnknownCode
            | Self::UnknownSession
            | Self::NotFound
            | Self::UnknownVenue => 404,
            Self::MethodNotAllowed => 405,
            Self::RequestTimeout => 408,
            Self::NotEligible
            | Self::ConflictActiveCode
            | Self::ConflictLostCode
            | Self::ConflictNoCode
            | Self::ConflictRequestId
            | Self::ConflictCodeChanged => 409,
            Self::SessionExpired | Self::VenueCodeRetired => 410,
            Self::BodyTooLarge | Self::BatchTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::InvalidIdNumber
            | Self::CardExpired
            | Self::InvalidSuishenCode
            | Self::InvalidVenueCode => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The wire form, e.g. `"conflict_active_code"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidJson => "invalid_json",
            Self::BodyTooLarge => "body_too_large",
            Self::BatchTooLarge => "batch_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidIdNumber => "invalid_id_number",
            Self::InvalidCodeId => "invalid_code_id",
            Self::CardExpired => "card_expired",
            Self::InvalidSuishenCode => "invalid_suishen_code",
            Self::UnknownPerson => "unknown_person",
            Self::UnknownCode => "unknown_code",
            Self::NotEligible => "not_eligible",
            Self::SessionExpired => "session_expired",
            Self::UnknownSession => "unknown_session",
            Self::ConflictActiveCode => "conflict_active_code",
            Self::ConflictLostCode => "conflict_lost_code",
            Self::ConflictNoCode => "conflict_no_code",
            Self::ConflictRequestId => "conflict_request_id",
            Self::ConflictCodeChanged => "conflict_code_changed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RequestTimeout => "request_timeout",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::InvalidVenueCode => "invalid_venue_code",
            Self::VenueCodeRetired => "venue_code_retired",
            Self::UnknownVenue => "unknown_venue",
            Self::VenueNotActive => "venue_not_active",
        }
    }

    /// The code for a body that failed to deserialize, from the error's message: an invalid ID
    /// number or code id inside otherwise well-formed JSON gets its own code, anything else is
    /// `invalid_json`. (Error messages can quote parts of the input, so a crafted body may steer
    /// which of these three 4xx codes it gets; never more than that.)
    pub fn for_deserialize_error(message: &str) -> Self {
        if message.contains(INVALID_ID_NUMBER_MESSAGE) {
            Self::InvalidIdNumber
        } else if message.contains(INVALID_CODE_ID_MESSAGE) {
            Self::InvalidCodeId
        } else {
            Self::InvalidJson
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------

/// The 16-byte random id of an offline code, assigned by the central service. Its text form
/// (JSON and paths) is exactly 32 lowercase hex characters; anything else is refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeId([u8; 16]);

/// Why a string is not a code id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeIdError {
    /// Not 32 characters long.
    #[error("invalid code id: expected 32 hex characters, got {0}")]
    Length(usize),
    /// A character that is not `0-9` or `a-f`.
    #[error("invalid code id: only lowercase hex characters are allowed")]
    NotLowercaseHex,
}

impl CodeId {
    /// A code id from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 16 bytes, by value.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Parses the 32-lowercase-hex text form.
    pub fn parse(s: &str) -> Result<Self, CodeIdError> {
        let len = s.chars().count();
        if len != 32 {
            return Err(CodeIdError::Length(len));
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(CodeIdError::NotLowercaseHex);
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| CodeIdError::NotLowercaseHex)?;
        Ok(Self(bytes))
    }
}

impl From<[u8; 16]> for CodeId {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl FromStr for CodeId {
    type Err = CodeIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeId({self})")
    }
}

impl Serialize for CodeId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CodeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The id of an issuance request, chosen (randomly) by the kiosk and written to its journal
/// before the request leaves. The same request id always yields the same code. JSON: the
/// hyphenated lowercase UUID string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(Uuid);

impl RequestId {
    /// A request id from a UUID (made by the caller: this crate has no randomness).
    pub const fn new(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for RequestId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// The opaque, short-lived session token identify hands out and issuing takes back. The kiosk
/// never looks inside it. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// Serde for [`IdNumber`] as its plain text; reading validates it.
mod id_number_serde {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::INVALID_ID_NUMBER_MESSAGE;
    use crate::idnumber::IdNumber;

    pub(super) fn serialize<S: Serializer>(
        id: &IdNumber,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(id.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<IdNumber, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The number itself is personal data: the message names the problem, never the input.
        IdNumber::parse(&text)
            .map_err(|e| D::Error::custom(format!("{INVALID_ID_NUMBER_MESSAGE}: {e}")))
    }
}

/// Serde for a [`Weekday`] as its ISO number, 1 = Monday .. 7 = Sunday.
mod weekday_number {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Weekday;

    pub(super) fn serialize<S: Serializer>(
        day: &Weekday,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(day.number_from_monday())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Weekday, D::Error> {
        let n = u8::deserialize(deserializer)?;
        match n {
            1 => Ok(Weekday::Monday),
            2 => Ok(Weekday::Tuesday),
            3 => Ok(Weekday::Wednesday),
            4 => Ok(Weekday::Thursday),
            5 => Ok(Weekday::Friday),
            6 => Ok(Weekday::Saturday),
            7 => Ok(Weekday::Sunday),
            _ => Err(D::Error::custom(format!(
                "weekday must be 1 (Monday) to 7 (Sunday), got {n}"
            ))),
        }
    }
}

time::serde::format_description!(hh_mm, Time, "[hour]:[minute]");

// ---------------------------------------------------------------------------------------------
// POST /v1/kiosk/identify
// ---------------------------------------------------------------------------------------------

/// Who is at the kiosk: `{"id_card": {...}}` when a card was read, `{"suishen_code": "..."}`
/// when a 随申码 was scanned.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentifyRequest {
    /// The fields read from an ID card.
    IdCard(IdCardFields),
    /// The text of the 随申码 shown on the resident's phone, as the scanner read it.
    SuishenCode(String),
}

impl fmt::Debug for IdentifyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IdCard(fields) => f.debug_tuple("IdCard").field(fields).finish(),
            Self::SuishenCode(_) => f.write_str("SuishenCode(..)"),
        }
    }
}

/// Which of the four card types the reader saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// 居民身份证, resident identity card.
    Resident,
    /// 港澳台居民居住证, residence permit for Hong Kong, Macao and Taiwan residents.
    ResidencePermit,
    /// 外国人永久居留证 (2017 edition, 15-character number).
    #[serde(rename = "foreigner_2017")]
    Foreigner2017,
    /// 外国人永久居留身份证 (2023 edition, 18-digit number).
    #[serde(rename = "foreigner_2023")]
    Foreigner2023,
}

/// The sex recorded on a card (GB/T 2261.1 codes 0, 1, 2, 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSex {
    /// Code 1.
    Male,
    /// Code 2.
    Female,
    /// Code 0: not known.
    NotKnown,
    /// Code 9: not stated.
    NotStated,
}

/// The card fields the central needs to find the person. The card's photo block is never sent
/// (the product uses the photo library), nor the address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdCardFields {
    /// The card type.
    pub kind: CardKind,
    /// The name as printed on the card: Chinese, or English on a foreigner's card without a
    /// Chinese name.
    pub name: String,
    /// The ID (or card) number; validated when read.
    #[serde(with = "id_number_serde")]
    pub id_number: IdNumber,
    /// The sex on the card.
    pub sex: CardSex,
    /// The birth date on the card.
    pub birth_date: Date,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity; `None` for 长期 (no end).
    pub valid_until: Option<Date>,
}

impl fmt::Debug for IdCardFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCardFields")
            .field("kind", &self.kind)
            .field("id_number", &self.id_number)
            .finish_non_exhaustive()
    }
}

/// The person and what the kiosk may offer them: everything the confirm screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifyResponse {
    /// The session token to send with [`IssueRequest`].
    pub session: SessionToken,
    /// When the session token stops being accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub session_expires_at: OffsetDateTime,
    /// Who this is.
    pub person: Person,
    /// The person's current code.
    pub code: CodeState,
    /// What the kiosk offers (see [`crate::rules::offer`]).
    pub offer: Offer,
    /// The validity a slip issued now would carry, for the confirm screen.
    pub next_code: Validity,
}

/// The person as the holder's own confirm screen shows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The full name, for the holder's own screen only: never logged, never stored by the kiosk.
    pub name: String,
    /// The masked ID number.
    pub id_number_masked: String,
    /// The photo from the photo library, if there is one.
    pub photo: Option<Photo>,
    /// Age in whole years on the service's today.
    pub age: u32,
    /// Whether the person may have an offline code, and why not.
    pub eligibility: Eligibility,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("id_number_masked", &self.id_number_masked)
            .field("age", &self.age)
            .field("eligibility", &self.eligibility)
            .finish_non_exhaustive()
    }
}

/// A photo as base64 text. The central checks the data before sending it; the kiosk and the
/// verifier page decode it themselves.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    /// The media type: `image/jpeg` or `image/png`.
    pub mime: String,
    /// The image bytes in standard base64 (RFC 4648 §4, with padding).
    pub data_base64: String,
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Photo")
            .field("mime", &self.mime)
            .field("base64_len", &self.data_base64.len())
            .finish()
    }
}

/// A person's current offline code, tagged on `"state"`. A superseded code never shows here: the
/// code that superseded it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CodeState {
    /// The person never had a code.
    None,
    /// A code that verifies today.
    Active {
        /// Its id.
        code_id: CodeId,
        /// Which issue it is (1 = first slip).
        serial: u16,
        /// The day it was issued.
        issued_on: Date,
        /// Its last valid day.
        expires_on: Date,
    },
    /// A code reported lost: it no longer verifies; a reissue replaces it.
    Lost {
        /// Its id.
        code_id: CodeId,
        /// Which issue it is.
        serial: u16,
        /// The day it was reported lost.
        lost_on: Date,
    },
    /// The latest code's validity has ended: the person applies again.
    Expired {
        /// Its id.
        code_id: CodeId,
        /// Which issue it is.
        serial: u16,
        /// Its last valid day.
        expires_on: Date,
    },
}

/// The validity of a code: first and last valid day (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Validity {
    /// The first valid day.
    pub issued_on: Date,
    /// The last valid day.
    pub expires_on: Date,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/kiosk/codes
// ---------------------------------------------------------------------------------------------

/// What the resident asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 申领: a first code, or a new one after the last expired.
    Apply,
    /// 补领: a new slip replacing an active or lost one (serial + 1; the old one stops verifying).
    Reissue,
}

impl Action {
    /// The wire form: `"apply"` or `"reissue"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "apply",
            Self::Reissue => "reissue",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Issue a code. Idempotent on `request_id`: the same id always answers with the same code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The token from [`IdentifyResponse::session`].
    pub session: SessionToken,
    /// Apply or reissue.
    pub action: Action,
    /// The kiosk's id for this attempt.
    pub request_id: RequestId,
}

/// A newly issued code. The kiosk checks `qr_text` (its fields and signature) before printing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCode {
    /// Its id.
    pub code_id: CodeId,
    /// The issuer key that signed it.
    pub kid: u8,
    /// Which issue it is (1 = first slip).
    pub serial: u16,
    /// The first valid day.
    pub issued_on: Date,
    /// The last valid day.
    pub expires_on: Date,
    /// The QR text: `SSM1:` followed by base45.
    pub qr_text: String,
    /// True only in the answer to a request id seen before, when the code issued for it has
    /// since been replaced (reissued elsewhere) or reported lost, so its slip would not verify:
    /// the kiosk must not print it. Read as false when absent (an older central).
    #[serde(default)]
    pub replaced: bool,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/kiosk/codes/{code_id}/printed and /print-failed
// ---------------------------------------------------------------------------------------------

/// The slip for the code in the path was printed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintedRequest {
    /// The request id the code was issued for.
    pub request_id: RequestId,
    /// When the printer reported the job done (kiosk clock).
    #[serde(with = "time::serde::rfc3339")]
    pub printed_at: OffsetDateTime,
}

/// The slip for the code in the path could not be printed. The code stays issued; the kiosk may
/// print it again later, and reports `printed` if it then succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintFailedRequest {
    /// The request id the code was issued for.
    pub request_id: RequestId,
    /// Why.
    pub reason: PrintFailure,
    /// More words for operators (the printer's last error); no personal data.
    pub detail: Option<String>,
}

/// Why a slip was not printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintFailure {
    /// Paper end.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// The cutter jammed or failed.
    CutterError,
    /// The printer is disconnected.
    Offline,
    /// The printer did not answer the status query.
    NoAnswer,
    /// The rendered slip failed its check (QR decode or signature): it was never printed.
    SlipCheckFailed,
    /// Anything else; see `detail`.
    Other,
}

/// The answer to a call that returns nothing but success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ack {
    /// Always `true` in a 2xx answer.
    pub ok: bool,
}

impl Ack {
    /// `{"ok": true}`.
    pub const OK: Ack = Ack { ok: true };
}

// ---------------------------------------------------------------------------------------------
// POST /v1/kiosk/heartbeat
// ---------------------------------------------------------------------------------------------

/// The kiosk's periodic status. The kiosk is known from its client certificate, so its id is not
/// in the body. Sent at once (not waiting for the period) when a resident asks for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The kiosk software version.
    pub kiosk_version: String,
    /// When the kiosk sent this (kiosk clock; the central compares it with its own).
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// One entry per device.
    pub devices: Vec<DeviceReport>,
    /// The printer's paper.
    pub paper: PaperState,
    /// Journal events not yet accepted by the central.
    pub journal_backlog: u64,
    /// Whether residents can start a session.
    pub in_service: bool,
    /// Why the kiosk is out of service (staff's words), when it is.
    pub out_of_service_reason: Option<String>,
    /// When a resident pressed 呼叫工作人员, while that request stands (staff clear it).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub help_requested_at: Option<OffsetDateTime>,
}

/// The status of one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceReport {
    /// Which device.
    pub device: DeviceKind,
    /// How it is.
    pub state: DeviceState,
    /// Its last error, in words for operators.
    pub last_error: Option<String>,
}

/// The device classes of a kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// The ID card reader.
    Idcard,
    /// The QR scanner.
    Scanner,
    /// The slip printer.
    Printer,
}

/// A device's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working.
    Connected,
    /// Working with a problem (e.g. paper near end, retries).
    Degraded,
    /// Not working.
    Failed,
}

/// The printer's paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperState {
    /// Enough paper.
    Ok,
    /// The near-end sensor is on: a few slips left.
    NearEnd,
    /// No paper.
    Out,
    /// The printer did not say.
    Unknown,
}

/// The central's answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// The central's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub server_time: OffsetDateTime,
    /// The current [`KioskConfig::version`]: the kiosk pulls the config when it differs from
    /// the one it holds.
    pub config_version: u64,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/kiosk/journal
// ---------------------------------------------------------------------------------------------

/// The largest number of events in one [`JournalBatch`]. A kiosk also keeps a batch's JSON
/// under the central's body-size limit, splitting it further when events carry long details.
pub const MAX_JOURNAL_BATCH: usize = 500;

/// A batch of journal events, oldest first. Idempotent per event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalBatch {
    /// At most [`MAX_JOURNAL_BATCH`] events.
    pub events: Vec<JournalEvent>,
}

impl JournalBatch {
    /// Whether the batch is within [`MAX_JOURNAL_BATCH`].
    pub fn within_limit(&self) -> bool {
        self.events.len() <= MAX_JOURNAL_BATCH
    }
}

/// One journal event. Never a raw ID number, full name or photo in `detail`: only keyed hashes
/// and masked forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEvent {
    /// Unique per event, made by the kiosk; the central drops duplicates by it.
    pub id: Uuid,
    /// When it happened (kiosk clock).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: JournalKind,
    /// Free key/value details (e.g. `session`, `request_id`, `code_id`, `reason`), sorted by key.
    pub detail: BTreeMap<String, String>,
}

/// What a journal event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    /// A resident session began (card placed, code scanned or button pressed).
    SessionStarted,
    /// A resident session ended (done, cancelled, timed out) and was wiped.
    SessionEnded,
    /// The central identified the resident.
    Identified,
    /// Nothing was offered or issued (not eligible, refused by the central).
    Refused,
    /// The resident pressed 信息有误: the shown data is wrong; sent to the counter staff.
    WrongDataReported,
    /// An issuance request is about to leave (written before it does).
    IssueRequested,
    /// The central answered an issuance request with a code.
    CodeIssued,
    /// A slip was printed.
    Printed,
    /// A slip could not be printed.
    PrintFailed,
    /// Any other error worth an operator's attention.
    Error,
    /// A resident pressed 呼叫工作人员.
    HelpRequested,
    /// Staff cleared a help request at the kiosk.
    HelpCleared,
    /// A staff member entered maintenance mode.
    StaffLogin,
    /// A wrong PIN or a locked-out attempt at maintenance mode.
    StaffLoginFailed,
    /// A staff action in maintenance mode (test print, force sync, exit, ...).
    StaffAction,
    /// The kiosk was taken out of service.
    OutOfService,
    /// The kiosk was put back in service.
    BackInService,
    /// A new central config was applied.
    ConfigApplied,
}

/// The answer to a journal batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JournalAck {
    /// Events stored now.
    pub accepted: u32,
    /// Events already stored earlier (same id), ignored. `accepted + duplicates` is the batch size.
    pub duplicates: u32,
}

// ---------------------------------------------------------------------------------------------
// GET /v1/kiosk/config
// ---------------------------------------------------------------------------------------------

/// Settings the central manages for a kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskConfig {
    /// Increases whenever anything below changes.
    pub version: u64,
    /// A notice for the home screen, if any.
    pub notice: Option<String>,
    /// When residents are served, in local (Shanghai) time. Empty: no restriction.
    pub service_hours: Vec<ServiceHours>,
    /// Who may open the maintenance screen.
    pub staff: Vec<StaffEntry>,
    /// Seconds without input before the kiosk asks whether to continue.
    pub idle_timeout_seconds: u32,
}

impl KioskConfig {
    /// Whether residents are served at this local weekday and time: inside one of the
    /// [`ServiceHours`], or always when there are none.
    pub fn in_service_hours(&self, weekday: Weekday, time: Time) -> bool {
        self.service_hours.is_empty()
            || self.service_hours.iter().any(|h| h.contains(weekday, time))
    }
}

/// One opening period: `{"weekday": 1, "opens": "09:00", "closes": "17:00"}`. A day may have
/// several periods (e.g. a lunch break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceHours {
    /// The day, as 1 = Monday .. 7 = Sunday.
    #[serde(with = "weekday_number")]
    pub weekday: Weekday,
    /// Opening time, `HH:MM`, inclusive.
    #[serde(with = "hh_mm")]
    pub opens: Time,
    /// Closing time, `HH:MM`, exclusive. A period with `closes <= opens` is never open.
    #[serde(with = "hh_mm")]
    pub closes: Time,
}

impl ServiceHours {
    /// Whether this period covers the local weekday and time.
    pub fn contains(&self, weekday: Weekday, time: Time) -> bool {
        weekday == self.weekday && self.opens <= time && time < self.closes
    }
}

/// One staff member allowed into maintenance mode.
///
/// No key is shared across the fleet: each entry has its own random salt, and
/// `id_hash_hex = hex(HMAC-SM3(salt, id_number))`. A kiosk checks a placed card against each
/// entry ([`StaffEntry::matches_id_number`]). The PIN is kept as an argon2id PHC string only
/// ([`StaffEntry::verify_pin`]: slow on purpose, run it off any event loop). Neither the full ID
/// number nor the full name is ever in an entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffEntry {
    /// This entry's random salt ([`STAFF_SALT_LEN`] bytes), lowercase hex: the HMAC key of
    /// [`Self::id_hash_hex`].
    pub salt_hex: String,
    /// HMAC-SM3 of the staff member's ID number under [`Self::salt_hex`], lowercase hex; the
    /// kiosk hashes the number on the placed card the same way and compares.
    pub id_hash_hex: String,
    /// The PIN's argon2id hash as a PHC string (`$argon2id$v=19$...`).
    pub pin_hash: String,
    /// The masked name, for the maintenance screen and the journal.
    pub name_masked: String,
}

/// The length of a [`StaffEntry`]'s salt, and of its PIN hash's salt, in bytes.
pub const STAFF_SALT_LEN: usize = 16;
/// The fewest digits of a staff PIN.
pub const PIN_MIN_DIGITS: usize = 4;
/// The most digits of a staff PIN.
pub const PIN_MAX_DIGITS: usize = 8;

/// Whether `pin` is a staff PIN: [`PIN_MIN_DIGITS`] to [`PIN_MAX_DIGITS`] ASCII digits.
pub fn valid_pin(pin: &str) -> bool {
    (PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Why a [`StaffEntry`] could not be made, or is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffEntryError {
    /// The PIN is not 4 to 8 digits.
    #[error("a PIN is 4 to 8 digits")]
    BadPin,
    /// The name is empty.
    #[error("a name is needed")]
    NoName,
    /// The salt is not [`STAFF_SALT_LEN`] bytes of lowercase hex.
    #[error("salt_hex must be {} lowercase hex characters", STAFF_SALT_LEN * 2)]
    BadSalt,
    /// The ID hash is not 64 lowercase hex characters.
    #[error("id_hash_hex must be 64 lowercase hex characters")]
    BadIdHash,
    /// The PIN hash is not an argon2id PHC string.
    #[error("pin_hash must be an argon2id PHC string ($argon2id$v=19$...)")]
    BadPinHash,
}

impl StaffEntry {
    /// A new entry for this person and PIN. `salt` keys the ID hash and `pin_salt` salts the
    /// PIN hash: both must be fresh random bytes (the caller makes them; this module has no
    /// randomness). The name is stored masked.
    ///
    /// # Errors
    /// [`StaffEntryError::BadPin`] unless the PIN is 4 to 8 digits; [`StaffEntryError::NoName`]
    /// for an empty name.
    pub fn new(
        id_number: &IdNumber,
        name: &str,
        pin: &str,
        salt: [u8; STAFF_SALT_LEN],
        pin_salt: [u8; STAFF_SALT_LEN],
    ) -> Result<StaffEntry, StaffEntryError> {
        use argon2::PasswordHasher as _;
        if !valid_pin(pin) {
            return Err(StaffEntryError::BadPin);
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(StaffEntryError::NoName);
        }
        let pin_salt = argon2::password_hash::SaltString::encode_b64(&pin_salt)
            .map_err(|_| StaffEntryError::BadPinHash)?;
        let pin_hash = argon2::Argon2::default()
            .hash_password(pin.as_bytes(), &pin_salt)
            .map_err(|_| StaffEntryError::BadPinHash)?
            .to_string();
        Ok(StaffEntry {
            salt_hex: hex::encode(salt),
            id_hash_hex: staff_id_hash(&salt, id_number),
            pin_hash,
            name_masked: crate::mask::mask_name(name),
        })
    }

    /// Whether the entry is well formed: salt, ID hash and PIN hash as documented.
    ///
    /// # Errors
    /// The first field that is not.
    pub fn check(&self) -> Result<(), StaffEntryError> {
        if self.salt_hex.len() != STAFF_SALT_LEN * 2 || !is_lower_hex(&self.salt_hex) {
            return Err(StaffEntryError::BadSalt);
        }
        if self.id_hash_hex.len() != 64 || !is_lower_hex(&self.id_hash_hex) {
            return Err(StaffEntryError::BadIdHash);
        }
        match argon2::PasswordHash::new(&self.pin_hash) {
            Ok(hash) if hash.algorithm == argon2::Algorithm::Argon2id.ident() => Ok(()),
            _ => Err(StaffEntryError::BadPinHash),
        }
    }

    /// Whether this entry is the person with this ID number (constant-time comparison). A
    /// malformed salt never matches.
    pub fn matches_id_number(&self, id_number: &IdNumber) -> bool {
        let Ok(salt) = hex::decode(&self.salt_hex) else {
            return false;
        };
        if salt.len() != STAFF_SALT_LEN {
            return false;
        }
        crate::hash::constant_time_eq(
            staff_id_hash(&salt, id_number).as_bytes(),
            self.id_hash_hex.as_bytes(),
        )
    }

    /// Whether `pin` is this entry's PIN. Argon2id: tens of milliseconds of CPU and about
    /// 19 MiB of memory per call, so run it off any event loop. A PIN that is not 4 to 8 digits,
    /// or a hash that is not argon2id, is never right.
    pub fn verify_pin(&self, pin: &str) -> bool {
        verify_staff_pin(&self.pin_hash, pin)
    }
}

/// Whether `pin` matches `pin_hash`, a [`StaffEntry::pin_hash`]: see [`StaffEntry::verify_pin`].
pub fn verify_staff_pin(pin_hash: &str, pin: &str) -> bool {
    use argon2::PasswordVerifier as _;
    if !valid_pin(pin) {
        return false;
    }
    match argon2::PasswordHash::new(pin_hash) {
        Ok(hash) if hash.algorithm == argon2::Algorithm::Argon2id.ident() => {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &hash)
                .is_ok()
        }
        _ => false,
    }
}

/// `hex(HMAC-SM3(salt, id_number))`: a [`StaffEntry::id_hash_hex`].
fn staff_id_hash(salt: &[u8], id_number: &IdNumber) -> String {
    hex::encode(crate::hash::hmac_sm3(salt, id_number.as_str().as_bytes()))
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------------------------
// GET /v1/keys
// ---------------------------------------------------------------------------------------------

/// The `alg` of an SM2 signature with SM3 (format v1, alg byte 1).
pub const ALG_SM2_SM3: &str = crate::keys::ALG_NAME;

/// The issuer public keys: `{"keys": [{"kid": 1, "alg": "SM2-SM3", "public_key_hex": "04…"}]}`.
/// Retired keys stay listed while codes they signed can still be valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysResponse {
    /// Every key, by kid.
    pub keys: Vec<KeyEntry>,
}

/// One issuer public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The key id carried in the code.
    pub kid: u8,
    /// The algorithm: [`ALG_SM2_SM3`].
    pub alg: String,
    /// The uncompressed SEC1 point (`04 || x || y`), lowercase hex.
    pub public_key_hex: String,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/verify
// ---------------------------------------------------------------------------------------------

/// A scanned slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The QR text exactly as scanned.
    pub payload: String,
}

/// The verdict on a scanned slip.
///
/// `holder`, `serial` and `expires_on` are present whenever the code is one the central issued
/// (`valid`, `superseded`, `lost`, `expired`), so that the verifier can compare the photo with
/// the person; `color` only with `valid`. For `forged` and `unknown` all four are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    /// The verdict.
    pub result: VerifyResult,
    /// The holder's current colour, when the code is valid.
    pub color: Option<Color>,
    /// Masked holder data.
    pub holder: Option<Holder>,
    /// Which issue the code is.
    pub serial: Option<u16>,
    /// The code's last valid day.
    pub expires_on: Option<Date>,
    /// When the central checked (its clock).
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// The text of the watermark naming the verifier (name, organisation), for the page to
    /// repeat over the result.
    pub watermark: String,
}

/// The verdict on a scanned slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyResult {
    /// Signed, current and not lost: show the colour.
    Valid,
    /// A reissue replaced it.
    Superseded,
    /// Reported lost.
    Lost,
    /// Past its last valid day.
    Expired,
    /// Dated after today: its first valid day has not come yet (a slip made with a wrong
    /// clock, or a forgery with a changed date).
    NotYetValid,
    /// Not a well-formed code, or its signature does not verify.
    Forged,
    /// Well formed and correctly signed, but the central has no record of it.
    Unknown,
}

/// The health colour, looked up at verification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    /// Nothing abnormal, or released from medical management.
    Green,
    /// Arrived from a key region less than 14 days ago.
    Yellow,
    /// Under medical management.
    Red,
}

/// The holder as a verifier sees them: masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The masked name.
    pub name: String,
    /// The masked ID number.
    pub id_number: String,
    /// The photo, for the person-to-code check.
    pub photo: Option<Photo>,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/portal/report-lost
// ---------------------------------------------------------------------------------------------

/// Report the active code of a person lost. Refused with `conflict_no_code` when there is no
/// active code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLostRequest {
    /// The holder's ID number; validated when read.
    #[serde(with = "id_number_serde")]
    pub id_number: IdNumber,
}

/// The code that is now lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReportLostResponse {
    /// Its id.
    pub code_id: CodeId,
    /// Which issue it was.
    pub serial: u16,
    /// When it stopped verifying.
    #[serde(with = "time::serde::rfc3339")]
    pub lost_at: OffsetDateTime,
}

// ---------------------------------------------------------------------------------------------
// GET /v1/kiosks
// ---------------------------------------------------------------------------------------------

/// The public kiosk directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskDirectory {
    /// Every kiosk, by id.
    pub kiosks: Vec<KioskListing>,
}

/// One kiosk as residents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskListing {
    /// The kiosk id (as in its certificate and kiosk.toml).
    pub kiosk_id: String,
    /// The place's name.
    pub name: String,
    /// The street address.
    pub address: String,
    /// Opening hours in words (e.g. `周一至周五 09:00-17:00`).
    pub hours: String,
    /// Whether it can issue a slip right now: online, in service, paper not out, printer not
    /// failed.
    pub can_issue: bool,
    /// Whether its last heartbeat is recent.
    pub online: bool,
    /// Its paper, from the last heartbeat (`unknown` before the first).
    pub paper: PaperState,
    /// Whether it is in service, from the last heartbeat.
    pub in_service: bool,
    /// When the last heartbeat arrived, if ever.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_heartbeat_at: Option<OffsetDateTime>,
}

// ---------------------------------------------------------------------------------------------
// POST /v1/venue-scans
// ---------------------------------------------------------------------------------------------

/// A person scanned a venue's poster with 随申办: record their entry and answer their colour.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueScanRequest {
    /// The person's current 随申码 token, as 随申办 holds it (the same text the kiosk's scanner
    /// reads from the phone).
    pub suishen_code: String,
    /// The text of the poster's QR code (`SSMV1:...`) as the phone's camera read it.
    pub venue_code: String,
}

impl fmt::Debug for VenueScanRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VenueScanRequest")
            .field("venue_code", &self.venue_code)
            .finish_non_exhaustive()
    }
}

/// The entry was recorded: what the phone shows.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueScanResponse {
    /// The organisation's registered name.
    pub venue_name: String,
    /// The person's masked name.
    pub holder_name: String,
    /// The person's current colour.
    pub color: Color,
    /// When the entry was recorded (the central's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
}

impl fmt::Debug for VenueScanResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VenueScanResponse")
            .field("venue_name", &self.venue_name)
            .field("color", &self.color)
            .field("scanned_at", &self.scanned_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod staff_entry_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// A valid resident number from its first 17 digits.
    fn id(first17: &str) -> IdNumber {
        let check = crate::idnumber::check_character(first17).unwrap();
        IdNumber::parse(&format!("{first17}{check}")).unwrap()
    }

    #[test]
    fn an_entry_matches_its_number_and_pin_only() {
        let number = id("31010119491231001");
        let entry = StaffEntry::new(&number, "李四", "2468", [7; 16], [9; 16]).unwrap();
        entry.check().unwrap();
        assert_eq!(entry.name_masked, crate::mask::mask_name("李四"));
        assert_eq!(entry.salt_hex, "07".repeat(16));
        assert_eq!(
            entry.id_hash_hex,
            hex::encode(crate::hash::hmac_sm3(&[7; 16], number.as_str().as_bytes()))
        );
        assert!(entry.pin_hash.starts_with("$argon2id$v=19$"));
        assert!(!entry.pin_hash.contains("2468"));
        assert!(entry.matches_id_number(&number));
        assert!(!entry.matches_id_number(&id("11010519491231002")));
        assert!(entry.verify_pin("2468"));
        assert!(!entry.verify_pin("2469"));
        assert!(!entry.verify_pin("24680"));
        assert!(!entry.verify_pin(""));
    }

    #[test]
    fn the_same_person_hashes_differently_under_another_salt() {
        let number = id("31010119491231001");
        let a = StaffEntry::new(&number, "李四", "2468", [1; 16], [1; 16]).unwrap();
        let b = StaffEntry::new(&number, "李四", "2468", [2; 16], [1; 16]).unwrap();
        assert_ne!(a.id_hash_hex, b.id_hash_hex);
        let mut crossed = a.clone();
        crossed.salt_hex = b.salt_hex.clone();
        assert!(!crossed.matches_id_number(&number));
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        for good in ["0000", "1234", "12345678"] {
            assert!(valid_pin(good), "{good}");
        }
        for bad in ["", "123", "123456789", "12a4", "１２３４", " 1234"] {
            assert!(!valid_pin(bad), "{bad}");
        }
        let number = id("31010119491231001");
        assert_eq!(
            StaffEntry::new(&number, "李四", "12", [0; 16], [0; 16]),
            Err(StaffEntryError::BadPin)
        );
        assert_eq!(
            StaffEntry::new(&number, " ", "1234", [0; 16], [0; 16]),
            Err(StaffEntryError::NoName)
        );
    }

    #[test]
    fn malformed_entries_are_refused_and_never_match() {
        let number = id("31010119491231001");
        let good = StaffEntry::new(&number, "李四", "2468", [3; 16], [3; 16]).unwrap();
        let mut bad = good.clone();
        bad.salt_hex = "zz".into();
        assert_eq!(bad.check(), Err(StaffEntryError::BadSalt));
        assert!(!bad.matches_id_number(&number));
        let mut bad = good.clone();
        bad.id_hash_hex = good.id_hash_hex.to_uppercase();
        assert_eq!(bad.check(), Err(StaffEntryError::BadIdHash));
        let mut bad = good.clone();
        bad.pin_hash =
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$bHNmb2FpZW5mb2FpZW5mb2Fp".into();
        assert_eq!(bad.check(), Err(StaffEntryError::BadPinHash));
        assert!(!bad.verify_pin("2468"));
        bad.pin_hash = "2468".into();
        assert!(!bad.verify_pin("2468"));
    }
}
