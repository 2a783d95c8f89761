//! The resident session flow: a pure state machine that owns what a session is and how it moves
//! (which screen shows, what the resident sees, which credential identifies them, which request
//! id an issuance uses, which code is printed, when a step or the resident times out, and when
//! everything about the resident is dropped). It owns nothing else.
//!
//! The shell feeds it [`Input`]s, each with a [`Ctx`] (the monotonic time and one fresh uuid),
//! and carries out the [`Effect`]s that [`Flow::handle`] returns, in order. The flow is pure: no
//! I/O, no clock reads, no randomness, no logging. Time only advances through `Ctx::now`, and
//! time limits fire on [`Input::Tick`] only.
//!
//! # Sessions
//!
//! A session starts when no session runs and the kiosk can serve, by 身份证登录 / 随申办登录 on the
//! choose-login screen, or directly by a card placed or a 随申码 scanned on the home or the
//! choose-login screen (journal `session_started{session, method}`). Its [`SessionId`] is
//! `Ctx::fresh` of the call that starts it. A session ends by 返回首页 (`how=cancelled`; on the done
//! screen `how=done`), after the done screen (`done`), by the idle time-out (`timeout`), or when a
//! new card replaces it (`replaced`): the flow emits journal `session_ended{session, how}` and
//! then [`Effect::SessionEnded`], and drops the session with the credential, the person (full
//! name, photo), the session token and the code. No effect mentions a session after its
//! `SessionEnded`.
//!
//! A session keeps one issuance request id per offer: made from `Ctx::fresh` at the first
//! 申领/补领 and reused, with the same action, by every retry (also after the session token
//! expired and the resident was identified again), so that the central's idempotency answers
//! with the code it may already have issued for it. When the offer changed on identifying again
//! (申领 became 补领, or the reverse), or the issue was refused `conflict_code_changed` (the
//! central holds no live code for the request id: it refused it, or the code it had issued was
//! replaced or reported lost since, which the engine turns into that refusal), the next
//! 申领/补领 takes a fresh request id; replies to the earlier one are then ignored, so one
//! attempt never prints a second code. A print retry prints the same code with the same request id, and never
//! issues again.
//!
//! # Transition table
//!
//! "Lobby" is the home or the choose-login screen with no session. "Waiting" stages are the
//! resident-facing ones where the idle time-out applies: ChooseLogin, WaitCard, WaitScan,
//! Confirm, NotEligible, WrongData, Error. `J Kind{..}` is an [`Effect::Journal`] with those
//! detail keys; every session journal event also has `session`.
//!
//! | from | input | to | effects |
//! |------|-------|----|---------|
//! | Home | `Start` | ChooseLogin | |
//! | ChooseLogin | `LoginCard` / `LoginSuishen` | WaitCard / WaitScan (session starts) | J SessionStarted{method} |
//! | Lobby | `CardPresent` | Reading (session starts) | J SessionStarted{method=card} |
//! | Lobby | `CardRead` | Identifying (session starts) | J SessionStarted{method=card}, Identify |
//! | Lobby | `CardUnreadable` | WaitCard{retry} (session starts) | J SessionStarted{method=card} |
//! | Lobby | `Scanned` | Identifying (session starts) | J SessionStarted{method=suishen}, Identify |
//! | Lobby, unavailable | `Start`, login, card, scan | OutOfService (nothing starts) | |
//! | ChooseLogin | `Home`, or idle_ms + countdown_ms | Home | |
//! | WaitCard, WaitScan | `CardPresent` | Reading | |
//! | WaitCard, WaitScan, Reading | `CardRead` | Identifying | Identify{card} |
//! | WaitCard, WaitScan | `Scanned` | Identifying | Identify{suishen} |
//! | WaitCard, WaitScan, Reading | `CardUnreadable` | WaitCard{retry} | |
//! | Reading | `CardRemoved`, or read_ms | WaitCard{retry} | |
//! | Identifying | `Identified` Ok, offer apply/reissue | Confirm | J Identified{offer, code_state, id_number_masked} |
//! | Identifying | `Identified` Ok, offer none | NotEligible | J Refused{reason, id_number_masked} |
//! | Identifying | `Identified` Err | Error (see below) | J Error{step=identify, error} |
//! | Identifying | identify_ms | Error{CentralUnreachable, retry} | J Error{step=identify, error} |
//! | Error after identify | late `Identified` Ok | Confirm / NotEligible | as for Identifying |
//! | Confirm | `Confirm`, the offer the session's request id was made for (or none yet) | Issuing | Issue{request id: the session's, or `fresh`} |
//! | Confirm | `Confirm`, the offer changed since the session's request id was made, or the last issue was refused `conflict_code_changed` | Issuing | Issue{request id: `fresh`, the new action} |
//! | Confirm | `WrongData` | WrongData | J WrongDataReported{id_number_masked} |
//! | Issuing | `Issued` Ok | Printing | Print |
//! | Issuing | `Issued` Err unreachable / bad answer / transient refusal, or issue_ms | Error{retry: issue} | J Error{step=issue, error} |
//! | Issuing | `Issued` Err refused session_expired / unknown_session | Error{SessionExpired, retry: identify} | J Error{step=issue, error} |
//! | Issuing | `Issued` Err refused conflict_code_changed (reissued elsewhere since identify) | Error{CodeChanged, retry: identify} | J Error{step=issue, error} |
//! | Issuing | `Issued` Err other refusal | Error{Refused(code)}, no retry | J Error{step=issue, error} |
//! | Error after issue | late `Issued` Ok, same request id | Printing | Print |
//! | Printing | `Printed` Ok | Done | (the shell journals the outcome) |
//! | Printing | `Printed` Err(reason) | Error{PrintFailed(reason), retry: print} | J Error{step=print, error} |
//! | Printing | print_ms | Error{PrintFailed(NoAnswer), retry: print} | J Error{step=print, error} |
//! | Error after print | late `Printed` Ok, same request id | Done | |
//! | Error, retry identify | `Retry` | Identifying | Identify (the credential kept in memory; the request id kept) |
//! | Error, retry issue | `Retry` | Issuing | Issue (same request id and action) |
//! | Error, retry print | `Retry` | Printing | Print (same code and request id) |
//! | Confirm, NotEligible, WrongData, Done, Error after identify | `CardRead` | Identifying (new session) | J SessionEnded{how=replaced}, SessionEnded, J SessionStarted{method=card}, Identify |
//! | any stage but Reading | `CardRemoved` | unchanged (e.g. Identifying, Confirm: the card was read in full); Done shows card_on_reader=false | |
//! | Identifying, Issuing, Printing, Error after issue or print | card events | unchanged (presence tracked) | |
//! | Done | done_ms, or `Home` | Home / OutOfService | J SessionEnded{how=done}, SessionEnded |
//! | any other session stage | `Home` | Home / OutOfService | J SessionEnded{how=cancelled}, SessionEnded |
//! | Waiting | idle_ms without resident input | unchanged, [`Flow::countdown`] is `Some` | |
//! | Waiting, countdown shown | `Continue` or any resident input | countdown off (the input is handled too) | |
//! | Waiting | idle_ms + countdown_ms without resident input | Home / OutOfService | J SessionEnded{how=timeout}, SessionEnded |
//! | any | `CallStaff`, no help request standing | unchanged | J HelpRequested, HelpRequested |
//! | any | `HelpCleared`, a help request standing | unchanged | J HelpCleared |
//! | Lobby | `Availability(Some)` | OutOfService | |
//! | a session stage | `Availability(Some)` | unchanged; OutOfService once the session ends | |
//! | OutOfService | `Availability(None)` | Home | |
//! | any | `CentralReachable(b)` | unchanged; Home shows `notice_offline = !b` | |
//! | any | a reply for another session, or another request id | unchanged | |
//!
//! Identify errors: unreachable, a transient refusal (`request_timeout`, `rate_limited`,
//! `internal`, `unavailable`) -> CentralUnreachable with retry; bad answer -> BadAnswer with
//! retry; `session_expired` / `unknown_session` -> SessionExpired with retry; `card_expired`,
//! `unknown_person`, `invalid_suishen_code` -> their own error, no retry; anything else ->
//! Refused(code), no retry. Issue errors map the same way, except as listed in the table.
//!
//! Anything not in the table changes nothing and yields no effects. Resident inputs (presses,
//! card events, scans) reset the idle timer wherever they arrive; entering a stage resets both
//! the idle timer and the step timer.

use std::fmt;

use protocol::api::{
    Action, CodeState, ErrorCode, IdCardFields, IdentifyRequest, IdentifyResponse, IssuedCode,
    JournalKind, Person, PrintFailure, RequestId, SessionToken, Validity,
};
use protocol::eligibility::IneligibleReason;
use protocol::mask::mask_name;
use protocol::rules::Offer;
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// A kiosk session's id: fresh per resident session (given by the shell, see [`Ctx`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Monotonic milliseconds since the shell started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// Milliseconds from `earlier` to `self`; 0 if `earlier` is later.
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// What every call to [`Flow::handle`] gets from the shell besides the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// The time now.
    pub now: Millis,
    /// A new random uuid each call, used for a new [`SessionId`] or a new [`RequestId`] when
    /// the flow needs one (at most one per call).
    pub fresh: Uuid,
}

/// Time limits, in milliseconds ([`Default`]: the values documented on each field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// 60 000: no resident input in a waiting screen -> the "continue?" countdown starts.
    pub idle_ms: u64,
    /// 20 000: countdown length; then wipe and home.
    pub countdown_ms: u64,
    /// 20 000: card present but no read result -> ask to place it again.
    pub read_ms: u64,
    /// 30 000: no identify reply -> error CentralUnreachable (retry).
    pub identify_ms: u64,
    /// 45 000: no issue reply -> error (retry with the same request id).
    pub issue_ms: u64,
    /// 90 000: no print result -> print failure NoAnswer (retry the same code).
    pub print_ms: u64,
    /// 15 000: the done screen, then wipe and home.
    pub done_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            idle_ms: 60_000,
            countdown_ms: 20_000,
            read_ms: 20_000,
            identify_ms: 30_000,
            issue_ms: 45_000,
            print_ms: 90_000,
            done_ms: 15_000,
        }
    }
}

/// How the resident of a session identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// 身份证登录: an ID card on the reader.
    Card,
    /// 随申办登录: the 随申码 on a phone, shown to the scanner.
    Suishen,
}

impl Method {
    /// The journal form: `"card"` or `"suishen"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Suishen => "suishen",
        }
    }
}

/// What identifies the resident to the central. `Debug` shows neither the name nor the full ID
/// number nor the 随申码 text.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// The fields read from an ID card.
    Card(Box<IdCardFields>),
    /// The scanned 随申码 text.
    Suishen(String),
}

impl Credential {
    /// Which login this is.
    pub fn method(&self) -> Method {
        match self {
            Self::Card(_) => Method::Card,
            Self::Suishen(_) => Method::Suishen,
        }
    }

    /// The identify request body for this credential.
    pub fn to_request(&self) -> IdentifyRequest {
        match self {
            Self::Card(card) => IdentifyRequest::IdCard(card.as_ref().clone()),
            Self::Suishen(text) => IdentifyRequest::SuishenCode(text.clone()),
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Card(card) => f.debug_tuple("Card").field(card).finish(),
            Self::Suishen(_) => f.write_str("Suishen(..)"),
        }
    }
}

/// The buttons a resident can press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// 随申码离线服务, on the home screen.
    Start,
    /// 身份证登录, on the choose-login screen.
    LoginCard,
    /// 随申办登录, on the choose-login screen.
    LoginSuishen,
    /// 申领 or 补领 (whichever the offer is), on the confirm screen.
    Confirm,
    /// 信息有误, on the confirm screen.
    WrongData,
    /// 重试 / 重新打印, on an error screen that allows it.
    Retry,
    /// 返回首页, on every screen.
    Home,
    /// 继续办理, in the idle countdown.
    Continue,
    /// 呼叫工作人员, on any screen.
    CallStaff,
}

/// A failed central call as the flow sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CentralFailure {
    /// No answer (connection failure, time-out, 5xx after retries).
    Unreachable,
    /// A 4xx answer with this code.
    Refused(ErrorCode),
    /// An answer that does not parse.
    BadAnswer,
}

/// Why the kiosk cannot serve residents now (computed by the shell).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unavailable {
    /// Taken out of service by staff, with the staff's reason.
    Staff(String),
    /// The printer failed or is out of paper.
    Printer,
    /// Outside the service hours.
    OutsideHours,
}

/// What happens to the flow: resident actions, device events, central and printer replies, and
/// the shell's status. `Debug` does not show card data or scanned text.
#[derive(Clone, PartialEq)]
pub enum Input {
    /// Time passed (the shell ticks a few times a second).
    Tick,
    /// A button was pressed.
    Press(Button),
    /// A card arrived on the reader; reading.
    CardPresent,
    /// The card was read and parsed.
    CardRead {
        /// Its fields.
        card: Box<IdCardFields>,
    },
    /// The read failed, or the card was removed mid-read: place it again.
    CardUnreadable,
    /// The card left the reader.
    CardRemoved,
    /// Raw scanner text.
    Scanned(String),
    /// The central's answer to [`Effect::Identify`].
    Identified {
        /// The session it was asked for.
        session: SessionId,
        /// The answer.
        result: Result<IdentifyResponse, CentralFailure>,
    },
    /// The central's answer to [`Effect::Issue`].
    Issued {
        /// The session it was asked for.
        session: SessionId,
        /// The request id it was asked with.
        request_id: RequestId,
        /// The answer.
        result: Result<IssuedCode, CentralFailure>,
    },
    /// The outcome of [`Effect::Print`].
    Printed {
        /// The session it was asked for.
        session: SessionId,
        /// The request id of the printed code.
        request_id: RequestId,
        /// The outcome.
        result: Result<(), PrintFailure>,
    },
    /// Whether the kiosk can serve: `None` = it can.
    Availability(Option<Unavailable>),
    /// Whether the central answers (from sync); only shown on the home screen.
    CentralReachable(bool),
    /// Staff cleared the help request.
    HelpCleared,
}

impl Input {
    /// Whether a resident caused this input (it resets the idle timer).
    fn is_resident(&self) -> bool {
        matches!(
            self,
            Self::Press(_)
                | Self::CardPresent
                | Self::CardRead { .. }
                | Self::CardUnreadable
                | Self::CardRemoved
                | Self::Scanned(_)
        )
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tick => f.write_str("Tick"),
            Self::Press(button) => f.debug_tuple("Press").field(button).finish(),
            Self::CardPresent => f.write_str("CardPresent"),
            Self::CardRead { card } => f.debug_struct("CardRead").field("card", card).finish(),
            Self::CardUnreadable => f.write_str("CardUnreadable"),
            Self::CardRemoved => f.write_str("CardRemoved"),
            Self::Scanned(_) => f.write_str("Scanned(..)"),
            Self::Identified { session, result } => f
                .debug_struct("Identified")
                .field("session", session)
                .field("result", result)
                .finish(),
            Self::Issued {
                session,
                request_id,
                result,
            } => f
                .debug_struct("Issued")
                .field("session", session)
                .field("request_id", request_id)
                .field("result", result)
                .finish(),
            Self::Printed {
                session,
                request_id,
                result,
            } => f
                .debug_struct("Printed")
                .field("session", session)
                .field("request_id", request_id)
                .field("result", result)
                .finish(),
            Self::Availability(a) => f.debug_tuple("Availability").field(a).finish(),
            Self::CentralReachable(r) => f.debug_tuple("CentralReachable").field(r).finish(),
            Self::HelpCleared => f.write_str("HelpCleared"),
        }
    }
}

/// What the shell must do, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Ask the central who this is; answer with [`Input::Identified`].
    Identify {
        /// The session asking.
        session: SessionId,
        /// Who to identify.
        credential: Credential,
    },
    /// Issue a code; answer with [`Input::Issued`]. The shell journals the attempt (request id)
    /// BEFORE sending.
    Issue {
        /// The session asking.
        session: SessionId,
        /// The session's one request id.
        request_id: RequestId,
        /// Apply or reissue.
        action: Action,
        /// The token from the identify answer.
        token: SessionToken,
    },
    /// Print the slip for this code (the shell lays it out, checks it, prints, journals the
    /// outcome); answer with [`Input::Printed`].
    Print {
        /// The session asking.
        session: SessionId,
        /// The request id the code was issued for.
        request_id: RequestId,
        /// What the slip needs.
        job: PrintJob,
    },
    /// Append a journal event (no personal data in detail: masked forms only).
    Journal {
        /// What happened.
        kind: JournalKind,
        /// Key/value details.
        detail: Vec<(&'static str, String)>,
    },
    /// The session ended: the shell settles any of its attempts left unfinished (issued but
    /// unprinted -> print-failed) and drops everything about the resident.
    SessionEnded {
        /// The session that ended.
        session: SessionId,
    },
    /// A resident asked for staff: the shell sends a heartbeat at once.
    HelpRequested,
}

/// What the slip needs besides the kiosk's own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    /// The code to print.
    pub code: IssuedCode,
    /// The holder's masked name.
    pub name_masked: String,
    /// The holder's masked ID number.
    pub id_number_masked: String,
    /// Whether this is a reissue (补领).
    pub reissue: bool,
}

/// What to show now. `Debug` does not show the full name or the photo.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// The home screen.
    Home {
        /// Show the "central unreachable" note.
        notice_offline: bool,
    },
    /// 身份证登录 or 随申办登录.
    ChooseLogin,
    /// 请将身份证放在读卡区.
    WaitCard {
        /// Say "please place it again".
        retry: bool,
    },
    /// Show the 随申码 to the scanner.
    WaitScan,
    /// Reading the card.
    Reading,
    /// Asking the central.
    Identifying,
    /// The holder's own data and the offer: 申领 / 补领 or 信息有误.
    Confirm {
        /// Who this is (full name and photo: this screen only).
        person: Person,
        /// The current code.
        code: CodeState,
        /// Apply or Reissue.
        offer: Offer,
        /// The validity a slip issued now would carry.
        next_code: Validity,
    },
    /// Not eligible, with the reason and where to go instead.
    NotEligible {
        /// Why.
        reason: IneligibleReason,
    },
    /// Please contact the counter staff; nothing issued.
    WrongData,
    /// Issuing the code.
    Issuing,
    /// Printing the slip.
    Printing,
    /// Take the slip (and the card).
    Done {
        /// Whether the card is still on the reader.
        card_on_reader: bool,
        /// Which issue the printed code is.
        serial: u16,
    },
    /// Something failed.
    Error {
        /// What.
        error: FlowError,
        /// Whether 重试 / 重新打印 is offered.
        can_retry: bool,
    },
    /// Residents cannot be served now.
    OutOfService {
        /// Why.
        reason: Unavailable,
    },
}

/// What an error screen says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowError {
    /// The central did not answer.
    CentralUnreachable,
    /// The card could not be read.
    CardUnreadable,
    /// The ID card's validity has ended.
    CardExpired,
    /// The central does not know the person.
    UnknownPerson,
    /// The 随申码 is malformed, forged or expired.
    InvalidSuishenCode,
    /// The session at the central expired: identify again.
    SessionExpired,
    /// The person's code was replaced (at another kiosk) after identify: identify again to see
    /// the code now.
    CodeChanged,
    /// The central refused, with this code.
    Refused(ErrorCode),
    /// The slip was not printed.
    PrintFailed(PrintFailure),
    /// The central's answer made no sense.
    BadAnswer,
}

impl FlowError {
    /// The journal form, e.g. `"central_unreachable"`, an error code (`"conflict_active_code"`)
    /// or a print failure (`"paper_out"`).
    pub fn code(self) -> &'static str {
        match self {
            Self::CentralUnreachable => "central_unreachable",
            Self::CardUnreadable => "card_unreadable",
            Self::CardExpired => "card_expired",
            Self::UnknownPerson => "unknown_person",
            Self::InvalidSuishenCode => "invalid_suishen_code",
            Self::SessionExpired => "session_expired",
            Self::CodeChanged => "conflict_code_changed",
            Self::Refused(code) => code.as_str(),
            Self::PrintFailed(reason) => print_failure_str(reason),
            Self::BadAnswer => "bad_answer",
        }
    }
}

fn print_failure_str(reason: PrintFailure) -> &'static str {
    match reason {
        PrintFailure::PaperOut => "paper_out",
        PrintFailure::CoverOpen => "cover_open",
        PrintFailure::CutterError => "cutter_error",
        PrintFailure::Offline => "offline",
        PrintFailure::NoAnswer => "no_answer",
        PrintFailure::SlipCheckFailed => "slip_check_failed",
        PrintFailure::Other => "other",
    }
}

fn ineligible_str(reason: IneligibleReason) -> &'static str {
    match reason {
        IneligibleReason::UnderAge { .. } => "under_age",
        IneligibleReason::NotRealNameVerified => "not_real_name_verified",
        IneligibleReason::NoPhoto => "no_photo",
    }
}

fn offer_str(offer: Offer) -> &'static str {
    match offer {
        Offer::Apply => "apply",
        Offer::Reissue => "reissue",
        Offer::Nothing(_) => "none",
    }
}

fn code_state_str(code: &CodeState) -> &'static str {
    match code {
        CodeState::None => "none",
        CodeState::Active { .. } => "active",
        CodeState::Lost { .. } => "lost",
        CodeState::Expired { .. } => "expired",
    }
}

/// A central refusal that means "try again later" rather than "no".
fn transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RequestTimeout
            | ErrorCode::RateLimited
            | ErrorCode::Internal
            | ErrorCode::Unavailable
    )
}

/// The error screen for a failed identify, and whether Retry identifies again.
fn identify_failure(failure: CentralFailure) -> (FlowError, bool) {
    match failure {
        CentralFailure::Unreachable => (FlowError::CentralUnreachable, true),
        CentralFailure::BadAnswer => (FlowError::BadAnswer, true),
        CentralFailure::Refused(ErrorCode::CardExpired) => (FlowError::CardExpired, false),
        CentralFailure::Refused(ErrorCode::UnknownPerson) => (FlowError::UnknownPerson, false),
        CentralFailure::Refused(ErrorCode::InvalidSuishenCode) => {
            (FlowError::InvalidSuishenCode, false)
        }
        CentralFailure::Refused(ErrorCode::SessionExpired | ErrorCode::UnknownSession) => {
            (FlowError::SessionExpired, true)
        }
        CentralFailure::Refused(code) if transient(code) => (FlowError::CentralUnreachable, true),
        CentralFailure::Refused(code) => (FlowError::Refused(code), false),
    }
}

/// The error screen for a failed issue, and what Retry does.
fn issue_failure(failure: CentralFailure) -> (FlowError, Option<Step>) {
    match failure {
        CentralFailure::Unreachable => (FlowError::CentralUnreachable, Some(Step::Issue)),
        CentralFailure::BadAnswer => (FlowError::BadAnswer, Some(Step::Issue)),
        CentralFailure::Refused(ErrorCode::SessionExpired | ErrorCode::UnknownSession) => {
            (FlowError::SessionExpired, Some(Step::Identify))
        }
        CentralFailure::Refused(ErrorCode::ConflictCodeChanged) => {
            (FlowError::CodeChanged, Some(Step::Identify))
        }
        CentralFailure::Refused(code) if transient(code) => {
            (FlowError::CentralUnreachable, Some(Step::Issue))
        }
        CentralFailure::Refused(code) => (FlowError::Refused(code), None),
    }
}

fn journal(kind: JournalKind, detail: Vec<(&'static str, String)>) -> Effect {
    Effect::Journal { kind, detail }
}

/// A call to the central or the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Step {
    Identify,
    Issue,
    Print,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Self::Identify => "identify",
            Self::Issue => "issue",
            Self::Print => "print",
        }
    }
}

/// Where a running session is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    WaitCard {
        retry: bool,
    },
    WaitScan,
    Reading,
    Identifying,
    Confirm,
    NotEligible {
        reason: IneligibleReason,
    },
    WrongData,
    Issuing,
    Printing,
    Done,
    Error {
        error: FlowError,
        /// The call that failed.
        step: Step,
        /// The call that Retry makes, if offered.
        retry: Option<Step>,
    },
}

impl Stage {
    /// A resident-facing waiting stage: the idle time-out applies.
    fn idle_applies(&self) -> bool {
        matches!(
            self,
            Self::WaitCard { .. }
                | Self::WaitScan
                | Self::Confirm
                | Self::NotEligible { .. }
                | Self::WrongData
                | Self::Error { .. }
        )
    }

    /// A new card read here ends the session and starts another: no issuance work is pending.
    fn replaceable(&self) -> bool {
        matches!(
            self,
            Self::Confirm
                | Self::NotEligible { .. }
                | Self::WrongData
                | Self::Done
                | Self::Error {
                    step: Step::Identify,
                    ..
                }
        )
    }

    /// Waiting for a credential.
    fn awaits_credential(&self) -> bool {
        matches!(self, Self::WaitCard { .. } | Self::WaitScan)
    }
}

/// Everything about one resident. Dropped whole when the session ends.
#[derive(Debug, Clone)]
struct Session {
    id: SessionId,
    stage: Stage,
    /// Kept to identify again (retry, expired session token).
    credential: Option<Credential>,
    /// The last identify answer with an offer (person, token, code state).
    identity: Option<Box<IdentifyResponse>>,
    /// The session's issuance request (id and the action it was made for), once 申领/补领 was
    /// pressed.
    request: Option<(RequestId, Action)>,
    /// The issued code, once the central answered.
    code: Option<IssuedCode>,
}

impl Session {
    fn detail(&self) -> (&'static str, String) {
        ("session", self.id.to_string())
    }

    fn issue_effect(&self) -> Option<Effect> {
        let (request_id, action) = self.request?;
        let identity = self.identity.as_ref()?;
        Some(Effect::Issue {
            session: self.id,
            request_id,
            action,
            token: identity.session.clone(),
        })
    }

    fn print_effect(&self) -> Option<Effect> {
        let (request_id, action) = self.request?;
        let identity = self.identity.as_ref()?;
        let code = self.code.clone()?;
        Some(Effect::Print {
            session: self.id,
            request_id,
            job: PrintJob {
                code,
                name_masked: mask_name(&identity.person.name),
                id_number_masked: identity.person.id_number_masked.clone(),
                reissue: action == Action::Reissue,
            },
        })
    }
}

/// The screen shown while no session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lobby {
    Home,
    ChooseLogin,
}

/// What a tick does.
enum TickAction {
    Stage(Stage),
    Fail(Step, FlowError, Option<Step>),
    End(&'static str),
}

/// The session state machine (see the module documentation). `Debug` shows no personal data.
#[derive(Debug, Clone)]
pub struct Flow {
    timeouts: Timeouts,
    lobby: Lobby,
    session: Option<Session>,
    unavailable: Option<Unavailable>,
    central_reachable: bool,
    card_on_reader: bool,
    help: bool,
    /// When the current stage (or lobby screen) was entered: step and done timers.
    entered: Millis,
    /// The later of `entered` and the last resident input: the idle timer.
    active: Millis,
}

impl Flow {
    /// A flow on the home screen, available, central assumed reachable, no help request.
    pub fn new(timeouts: Timeouts) -> Flow {
        Flow {
            timeouts,
            lobby: Lobby::Home,
            session: None,
            unavailable: None,
            central_reachable: true,
            card_on_reader: false,
            help: false,
            entered: Millis(0),
            active: Millis(0),
        }
    }

    /// The time limits in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Changes the time limits (the central's config sets the idle time); they apply from the
    /// next input on.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Feeds one input; returns the effects for the shell to carry out, in order.
    pub fn handle(&mut self, input: Input, ctx: Ctx) -> Vec<Effect> {
        let mut out = Vec::new();
        let now = ctx.now;
        if input.is_resident() {
            self.active = now;
        }
        match input {
            Input::Tick => self.on_tick(now, &mut out),
            Input::Press(button) => self.on_press(button, ctx, &mut out),
            Input::CardPresent => self.on_card_present(ctx, &mut out),
            Input::CardRead { card } => self.on_card_read(card, ctx, &mut out),
            Input::CardUnreadable => self.on_card_unreadable(ctx, &mut out),
            Input::CardRemoved => {
                self.card_on_reader = false;
                if self.stage() == Some(&Stage::Reading) {
                    self.set_stage(Stage::WaitCard { retry: true }, now);
                }
            }
            Input::Scanned(text) => self.on_scanned(text, ctx, &mut out),
            Input::Identified { session, result } => {
                self.on_identified(session, result, now, &mut out);
            }
            Input::Issued {
                session,
                request_id,
                result,
            } => self.on_issued(session, request_id, result, now, &mut out),
            Input::Printed {
                session,
                request_id,
                result,
            } => self.on_printed(session, request_id, result, now, &mut out),
            Input::Availability(unavailable) => {
                let blocked = unavailable.is_some();
                self.unavailable = unavailable;
                if blocked && self.session.is_none() && self.lobby != Lobby::Home {
                    self.lobby = Lobby::Home;
                    self.mark(now);
                }
            }
            Input::CentralReachable(reachable) => self.central_reachable = reachable,
            Input::HelpCleared => {
                if self.help {
                    self.help = false;
                    let detail = self.session.iter().map(Session::detail).collect();
                    out.push(journal(JournalKind::HelpCleared, detail));
                }
            }
        }
        out
    }

    /// What to show now.
    pub fn screen(&self) -> Screen {
        let Some(session) = &self.session else {
            if let Some(reason) = &self.unavailable {
                return Screen::OutOfService {
                    reason: reason.clone(),
                };
            }
            return match self.lobby {
                Lobby::Home => Screen::Home {
                    notice_offline: !self.central_reachable,
                },
                Lobby::ChooseLogin => Screen::ChooseLogin,
            };
        };
        match &session.stage {
            Stage::WaitCard { retry } => Screen::WaitCard { retry: *retry },
            Stage::WaitScan => Screen::WaitScan,
            Stage::Reading => Screen::Reading,
            Stage::Identifying => Screen::Identifying,
            // Confirm is only entered with an identity; Identifying is a safe stand-in.
            Stage::Confirm => match &session.identity {
                Some(identity) => Screen::Confirm {
                    person: identity.person.clone(),
                    code: identity.code,
                    offer: identity.offer,
                    next_code: identity.next_code,
                },
                None => Screen::Identifying,
            },
            Stage::NotEligible { reason } => Screen::NotEligible { reason: *reason },
            Stage::WrongData => Screen::WrongData,
            Stage::Issuing => Screen::Issuing,
            Stage::Printing => Screen::Printing,
            Stage::Done => Screen::Done {
                card_on_reader: self.card_on_reader,
                serial: session.code.as_ref().map_or(0, |code| code.serial),
            },
            Stage::Error { error, retry, .. } => Screen::Error {
                error: *error,
                can_retry: retry.is_some(),
            },
        }
    }

    /// The running session, if any.
    pub fn session(&self) -> Option<SessionId> {
        self.session.as_ref().map(|s| s.id)
    }

    /// Whether a help request stands (raised by 呼叫工作人员, until staff clear it).
    pub fn help_requested(&self) -> bool {
        self.help
    }

    /// Whole seconds left in the idle countdown ("继续办理?"), if it is shown.
    pub fn countdown(&self, now: Millis) -> Option<u64> {
        let waiting = match &self.session {
            Some(session) => session.stage.idle_applies(),
            None => self.lobby == Lobby::ChooseLogin && self.unavailable.is_none(),
        };
        let idle = now.since(self.active);
        if !waiting || idle < self.timeouts.idle_ms {
            return None;
        }
        let left = self
            .timeouts
            .idle_ms
            .saturating_add(self.timeouts.countdown_ms)
            .saturating_sub(idle);
        Some(left.div_ceil(1000))
    }

    // --- helpers -------------------------------------------------------------------------

    fn stage(&self) -> Option<&Stage> {
        self.session.as_ref().map(|s| &s.stage)
    }

    /// Whether a new session may start now: none runs and the kiosk can serve.
    fn can_start(&self) -> bool {
        self.session.is_none() && self.unavailable.is_none()
    }

    /// Restarts the step and idle timers.
    fn mark(&mut self, now: Millis) {
        self.entered = now;
        self.active = now;
    }

    fn set_stage(&mut self, stage: Stage, now: Millis) {
        if let Some(session) = self.session.as_mut() {
            session.stage = stage;
            self.mark(now);
        }
    }

    fn start_session(&mut self, method: Method, stage: Stage, ctx: Ctx, out: &mut Vec<Effect>) {
        let id = SessionId(ctx.fresh);
        out.push(journal(
            JournalKind::SessionStarted,
            vec![
                ("session", id.to_string()),
                ("method", method.as_str().to_owned()),
            ],
        ));
        self.session = Some(Session {
            id,
            stage,
            credential: None,
            identity: None,
            request: None,
            code: None,
        });
        self.mark(ctx.now);
    }

    fn end_session(&mut self, how: &'static str, now: Millis, out: &mut Vec<Effect>) {
        if let Some(session) = self.session.take() {
            out.push(journal(
                JournalKind::SessionEnded,
                vec![session.detail(), ("how", how.to_owned())],
            ));
            out.push(Effect::SessionEnded {
                session: session.id,
            });
        }
        self.lobby = Lobby::Home;
        self.mark(now);
    }

    /// Sends the credential to the central (and keeps it for a retry).
    fn identify(&mut self, credential: Credential, now: Millis, out: &mut Vec<Effect>) {
        if let Some(session) = self.session.as_mut() {
            session.credential = Some(credential.clone());
            session.stage = Stage::Identifying;
            out.push(Effect::Identify {
                session: session.id,
                credential,
            });
            self.mark(now);
        }
    }

    fn fail(
        &mut self,
        step: Step,
        error: FlowError,
        retry: Option<Step>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        if let Some(session) = self.session.as_mut() {
            out.push(journal(
                JournalKind::Error,
                vec![
                    session.detail(),
                    ("step", step.as_str().to_owned()),
                    ("error", error.code().to_owned()),
                ],
            ));
            session.stage = Stage::Error { error, step, retry };
            self.mark(now);
        }
    }

    // --- inputs --------------------------------------------------------------------------

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Effect>) {
        let t = self.timeouts;
        let in_stage = now.since(self.entered);
        let idle_over = now.since(self.active) >= t.idle_ms.saturating_add(t.countdown_ms);
        let Some(session) = &self.session else {
            if self.lobby == Lobby::ChooseLogin && idle_over {
                self.lobby = Lobby::Home;
                self.mark(now);
            }
            return;
        };
        let action = match &session.stage {
            Stage::Reading if in_stage >= t.read_ms => {
                Some(TickAction::Stage(Stage::WaitCard { retry: true }))
            }
            Stage::Identifying if in_stage >= t.identify_ms => Some(TickAction::Fail(
                Step::Identify,
                FlowError::CentralUnreachable,
                Some(Step::Identify),
            )),
            Stage::Issuing if in_stage >= t.issue_ms => Some(TickAction::Fail(
                Step::Issue,
                FlowError::CentralUnreachable,
                Some(Step::Issue),
            )),
            Stage::Printing if in_stage >= t.print_ms => Some(TickAction::Fail(
                Step::Print,
                FlowError::PrintFailed(PrintFailure::NoAnswer),
                Some(Step::Print),
            )),
            Stage::Done if in_stage >= t.done_ms => Some(TickAction::End("done")),
            stage if stage.idle_applies() && idle_over => Some(TickAction::End("timeout")),
            _ => None,
        };
        match action {
            Some(TickAction::Stage(stage)) => self.set_stage(stage, now),
            Some(TickAction::Fail(step, error, retry)) => self.fail(step, error, retry, now, out),
            Some(TickAction::End(how)) => self.end_session(how, now, out),
            None => {}
        }
    }

    fn on_press(&mut self, button: Button, ctx: Ctx, out: &mut Vec<Effect>) {
        let now = ctx.now;
        match button {
            Button::CallStaff => {
                if !self.help {
                    self.help = true;
                    let detail = self.session.iter().map(Session::detail).collect();
                    out.push(journal(JournalKind::HelpRequested, detail));
                    out.push(Effect::HelpRequested);
                }
            }
            // The idle timer was reset by the press itself.
            Button::Continue => {}
            Button::Home => match self.stage() {
                Some(Stage::Done) => self.end_session("done", now, out),
                Some(_) => self.end_session("cancelled", now, out),
                None => {
                    if self.lobby != Lobby::Home {
                        self.lobby = Lobby::Home;
                        self.mark(now);
                    }
                }
            },
            Button::Start => {
                if self.can_start() && self.lobby == Lobby::Home {
                    self.lobby = Lobby::ChooseLogin;
                    self.mark(now);
                }
            }
            Button::LoginCard | Button::LoginSuishen => {
                if self.can_start() && self.lobby == Lobby::ChooseLogin {
                    let (method, stage) = if button == Button::LoginCard {
                        (Method::Card, Stage::WaitCard { retry: false })
                    } else {
                        (Method::Suishen, Stage::WaitScan)
                    };
                    self.start_session(method, stage, ctx, out);
                }
            }
            Button::Confirm => self.on_confirm(ctx, out),
            Button::WrongData => {
                if let Some(session) = self.session.as_mut()
                    && session.stage == Stage::Confirm
                {
                    let mut detail = vec![session.detail()];
                    if let Some(identity) = &session.identity {
                        detail.push(("id_number_masked", identity.person.id_number_masked.clone()));
                    }
                    out.push(journal(JournalKind::WrongDataReported, detail));
                    session.stage = Stage::WrongData;
                    self.mark(now);
                }
            }
            Button::Retry => self.on_retry(now, out),
        }
    }

    fn on_confirm(&mut self, ctx: Ctx, out: &mut Vec<Effect>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if session.stage != Stage::Confirm {
            return;
        }
        let Some(action) = session.identity.as_ref().and_then(|i| i.offer.action()) else {
            return;
        };
        // The first 申领/补领 of the session makes its request id; every later one for the same
        // offer reuses it (the central answers it with the code it may already have issued). An
        // offer that changed on identifying again (the code changed elsewhere) is another
        // request: it takes a fresh id, and replies to the old one are ignored from now on.
        match session.request {
            Some((_, made_for)) if made_for == action => {}
            _ => session.request = Some((RequestId::new(ctx.fresh), action)),
        }
        if let Some(effect) = session.issue_effect() {
            session.stage = Stage::Issuing;
            out.push(effect);
            self.mark(ctx.now);
        }
    }

    fn on_retry(&mut self, now: Millis, out: &mut Vec<Effect>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let Stage::Error {
            retry: Some(step), ..
        } = session.stage
        else {
            return;
        };
        match step {
            Step::Identify => {
                if let Some(credential) = session.credential.clone() {
                    self.identify(credential, now, out);
                }
            }
            Step::Issue => {
                if let Some(effect) = session.issue_effect() {
                    session.stage = Stage::Issuing;
                    out.push(effect);
                    self.mark(now);
                }
            }
            Step::Print => {
                if let Some(effect) = session.print_effect() {
                    session.stage = Stage::Printing;
                    out.push(effect);
                    self.mark(now);
                }
            }
        }
    }

    fn on_card_present(&mut self, ctx: Ctx, out: &mut Vec<Effect>) {
        self.card_on_reader = true;
        if self.can_start() {
            self.start_session(Method::Card, Stage::Reading, ctx, out);
        } else if self.stage().is_some_and(Stage::awaits_credential) {
            self.set_stage(Stage::Reading, ctx.now);
        }
    }

    fn on_card_read(&mut self, card: Box<IdCardFields>, ctx: Ctx, out: &mut Vec<Effect>) {
        self.card_on_reader = true;
        let credential = Credential::Card(card);
        match self.stage() {
            None if self.can_start() => {}
            Some(stage) if stage.awaits_credential() || *stage == Stage::Reading => {
                self.identify(credential, ctx.now, out);
                return;
            }
            Some(stage) if stage.replaceable() => self.end_session("replaced", ctx.now, out),
            _ => return,
        }
        // A new session: from the lobby, or replacing the one that ended above.
        if self.can_start() {
            self.start_session(Method::Card, Stage::Identifying, ctx, out);
            self.identify(credential, ctx.now, out);
        }
    }

    fn on_card_unreadable(&mut self, ctx: Ctx, out: &mut Vec<Effect>) {
        let retry = Stage::WaitCard { retry: true };
        if self.can_start() {
            self.start_session(Method::Card, retry, ctx, out);
        } else if self
            .stage()
            .is_some_and(|s| s.awaits_credential() || *s == Stage::Reading)
        {
            self.set_stage(retry, ctx.now);
        }
    }

    fn on_scanned(&mut self, text: String, ctx: Ctx, out: &mut Vec<Effect>) {
        if text.trim().is_empty() {
            return;
        }
        let credential = Credential::Suishen(text);
        if self.can_start() {
            self.start_session(Method::Suishen, Stage::Identifying, ctx, out);
            self.identify(credential, ctx.now, out);
        } else if self.stage().is_some_and(Stage::awaits_credential) {
            self.identify(credential, ctx.now, out);
        }
    }

    fn on_identified(
        &mut self,
        id: SessionId,
        result: Result<IdentifyResponse, CentralFailure>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let late = matches!(
            session.stage,
            Stage::Error {
                step: Step::Identify,
                ..
            }
        );
        let expected = session.stage == Stage::Identifying || (late && result.is_ok());
        if session.id != id || !expected {
            return;
        }
        match result {
            Ok(response) => {
                let masked = response.person.id_number_masked.clone();
                match response.offer {
                    Offer::Nothing(reason) => {
                        out.push(journal(
                            JournalKind::Refused,
                            vec![
                                session.detail(),
                                ("reason", ineligible_str(reason).to_owned()),
                                ("id_number_masked", masked),
                            ],
                        ));
                        session.identity = None;
                        session.stage = Stage::NotEligible { reason };
                    }
                    Offer::Apply | Offer::Reissue => {
                        out.push(journal(
                            JournalKind::Identified,
                            vec![
                                session.detail(),
                                ("offer", offer_str(response.offer).to_owned()),
                                ("code_state", code_state_str(&response.code).to_owned()),
                                ("id_number_masked", masked),
                            ],
                        ));
                        session.identity = Some(Box::new(response));
                        session.stage = Stage::Confirm;
                    }
                }
                self.mark(now);
            }
            Err(failure) => {
                let (error, retry) = identify_failure(failure);
                let retry = retry.then_some(Step::Identify);
                self.fail(Step::Identify, error, retry, now, out);
            }
        }
    }

    fn on_issued(
        &mut self,
        id: SessionId,
        request_id: RequestId,
        result: Result<IssuedCode, CentralFailure>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let late = matches!(
            session.stage,
            Stage::Error {
                step: Step::Issue,
                ..
            }
        );
        let expected = session.stage == Stage::Issuing || (late && result.is_ok());
        let ours = session.id == id && session.request.map(|(r, _)| r) == Some(request_id);
        if !ours || !expected || session.code.is_some() {
            return;
        }
        match result {
            Ok(code) => {
                session.code = Some(code);
                if let Some(effect) = session.print_effect() {
                    session.stage = Stage::Printing;
                    out.push(effect);
                    self.mark(now);
                } else {
                    session.code = None;
                }
            }
            Err(failure) => {
                // The code changed since identify: the central holds no live code for this
                // request id (it refused it, or the code it had issued for it was replaced or
                // reported lost since), so the next 申领/补领 takes a fresh one.
                if matches!(
                    failure,
                    CentralFailure::Refused(ErrorCode::ConflictCodeChanged)
                ) {
                    session.request = None;
                }
                let (error, retry) = issue_failure(failure);
                self.fail(Step::Issue, error, retry, now, out);
            }
        }
    }

    fn on_printed(
        &mut self,
        id: SessionId,
        request_id: RequestId,
        result: Result<(), PrintFailure>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let late = matches!(
            session.stage,
            Stage::Error {
                step: Step::Print,
                ..
            }
        );
        let expected = session.stage == Stage::Printing || (late && result.is_ok());
        let ours = session.id == id && session.request.map(|(r, _)| r) == Some(request_id);
        if !ours || !expected || session.code.is_none() {
            return;
        }
        match result {
            Ok(()) => {
                session.stage = Stage::Done;
                self.mark(now);
            }
            Err(reason) => {
                self.fail(
                    Step::Print,
                    FlowError::PrintFailed(reason),
                    Some(Step::Print),
                    now,
                    out,
                );
            }
        }
    }
}
