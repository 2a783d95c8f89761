//! Tests of the session flow: every row of the transition table, the journeys the contract
//! names, and a property test over random input sequences.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use protocol::IdNumber;
use protocol::api::{
    Action, CardKind, CardSex, CodeId, CodeState, ErrorCode, IdCardFields, IdentifyResponse,
    IssuedCode, JournalKind, Person, Photo, PrintFailure, RequestId, SessionToken, Validity,
};
use protocol::eligibility::{Eligibility, IneligibleReason};
use protocol::mask::mask_id_number;
use protocol::rules::Offer;
use time::macros::{date, datetime};
use uuid::Uuid;

use super::*;

const NAME: &str = "欧阳娜娜";
const NUMBER: &str = "310101195003150029";
const OTHER_NAME: &str = "李四光";
const OTHER_NUMBER: &str = "11010519491231002X";
const TOKEN: &str = "session-token-secret";
const SUISHEN: &str = "SUISHEN-TOKEN-0123456789";

// --- fixtures -----------------------------------------------------------------------------

fn card_of(name: &str, number: &str) -> Box<IdCardFields> {
    Box::new(IdCardFields {
        kind: CardKind::Resident,
        name: name.to_owned(),
        id_number: IdNumber::parse(number).unwrap(),
        sex: CardSex::Female,
        birth_date: date!(1950 - 03 - 15),
        valid_from: date!(2015 - 01 - 01),
        valid_until: None,
    })
}

fn card() -> Box<IdCardFields> {
    card_of(NAME, NUMBER)
}

fn response_for(name: &str, number: &str, offer: Offer) -> IdentifyResponse {
    IdentifyResponse {
        session: SessionToken::new(TOKEN),
        session_expires_at: datetime!(2025-03-14 10:05 +8),
        person: Person {
            name: name.to_owned(),
            id_number_masked: mask_id_number(number),
            photo: Some(Photo {
                mime: "image/png".to_owned(),
                data_base64: "iVBORw0KGgo=".to_owned(),
            }),
            age: 75,
            eligibility: match offer {
                Offer::Nothing(reason) => Eligibility::NotEligible(reason),
                _ => Eligibility::Eligible,
            },
        },
        code: match offer {
            Offer::Reissue => CodeState::Lost {
                code_id: CodeId::from_bytes([7; 16]),
                serial: 1,
                lost_on: date!(2025 - 03 - 01),
            },
            _ => CodeState::None,
        },
        offer,
        next_code: Validity {
            issued_on: date!(2025 - 03 - 14),
            expires_on: date!(2025 - 09 - 09),
        },
    }
}

fn response(offer: Offer) -> IdentifyResponse {
    response_for(NAME, NUMBER, offer)
}

fn code(n: u8) -> IssuedCode {
    IssuedCode {
        code_id: CodeId::from_bytes([n; 16]),
        kid: 1,
        serial: u16::from(n),
        issued_on: date!(2025 - 03 - 14),
        expires_on: date!(2025 - 09 - 09),
        qr_text: format!("SSM1:TESTCODE{n}"),
        replaced: false,
    }
}

/// A flow driven with a test clock and counter-made fresh uuids, logging every effect.
struct Rig {
    flow: Flow,
    now: u64,
    next: u128,
    log: Vec<Effect>,
}

impl Rig {
    fn new() -> Self {
        Rig {
            flow: Flow::new(Timeouts::default()),
            now: 1_000,
            next: 1,
            log: Vec::new(),
        }
    }

    fn send(&mut self, input: Input) -> Vec<Effect> {
        let ctx = Ctx {
            now: Millis(self.now),
            fresh: Uuid::from_u128(self.next),
        };
        self.next += 1;
        let out = self.flow.handle(input, ctx);
        self.log.extend(out.iter().cloned());
        out
    }

    fn press(&mut self, button: Button) -> Vec<Effect> {
        self.send(Input::Press(button))
    }

    /// Lets `ms` pass, then ticks.
    fn wait(&mut self, ms: u64) -> Vec<Effect> {
        self.now += ms;
        self.send(Input::Tick)
    }

    fn sid(&self) -> SessionId {
        self.flow.session().expect("a session runs")
    }

    /// The request id of the first Issue effect.
    fn first_request(&self) -> RequestId {
        self.log
            .iter()
            .find_map(|e| match e {
                Effect::Issue { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .expect("an Issue effect")
    }

    /// The request id of the last Issue effect.
    fn request(&self) -> RequestId {
        self.log
            .iter()
            .rev()
            .find_map(|e| match e {
                Effect::Issue { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .expect("an Issue effect")
    }

    fn identified(&mut self, result: Result<IdentifyResponse, CentralFailure>) -> Vec<Effect> {
        let session = self.sid();
        self.send(Input::Identified { session, result })
    }

    fn issued(&mut self, result: Result<IssuedCode, CentralFailure>) -> Vec<Effect> {
        let (session, request_id) = (self.sid(), self.request());
        self.send(Input::Issued {
            session,
            request_id,
            result,
        })
    }

    fn printed(&mut self, result: Result<(), PrintFailure>) -> Vec<Effect> {
        let (session, request_id) = (self.sid(), self.request());
        self.send(Input::Printed {
            session,
            request_id,
            result,
        })
    }

    fn screen(&self) -> String {
        screen_name(&self.flow.screen())
    }
}

fn screen_name(screen: &Screen) -> String {
    match screen {
        Screen::Home { notice_offline } => {
            if *notice_offline {
                "Home(offline)".into()
            } else {
                "Home".into()
            }
        }
        Screen::ChooseLogin => "ChooseLogin".into(),
        Screen::WaitCard { retry } => {
            if *retry {
                "WaitCard(retry)".into()
            } else {
                "WaitCard".into()
            }
        }
        Screen::WaitScan => "WaitScan".into(),
        Screen::Reading => "Reading".into(),
        Screen::Identifying => "Identifying".into(),
        Screen::Confirm { offer, .. } => format!("Confirm({})", offer_str(*offer)),
        Screen::NotEligible { reason } => format!("NotEligible({})", ineligible_str(*reason)),
        Screen::WrongData => "WrongData".into(),
        Screen::Issuing => "Issuing".into(),
        Screen::Printing => "Printing".into(),
        Screen::Done {
            card_on_reader,
            serial,
        } => format!("Done(card={card_on_reader},serial={serial})"),
        Screen::Error { error, can_retry } => {
            let retry = if *can_retry { ",retry" } else { "" };
            format!("Error({}{retry})", error.code())
        }
        Screen::OutOfService { .. } => "OutOfService".into(),
    }
}

fn kinds(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Identify { .. } => "Identify".to_owned(),
            Effect::Issue { .. } => "Issue".to_owned(),
            Effect::Print { .. } => "Print".to_owned(),
            Effect::Journal { kind, .. } => format!("J:{kind:?}"),
            Effect::SessionEnded { .. } => "SessionEnded".to_owned(),
            Effect::HelpRequested => "HelpRequested".to_owned(),
        })
        .collect()
}

fn detail_of<'a>(effect: &'a Effect, key: &str) -> Option<&'a str> {
    match effect {
        Effect::Journal { detail, .. } => detail
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str()),
        _ => None,
    }
}

// --- states to start a row from -----------------------------------------------------------

fn home(_: &mut Rig) {}

fn choose(r: &mut Rig) {
    r.press(Button::Start);
}

fn wait_card(r: &mut Rig) {
    choose(r);
    r.press(Button::LoginCard);
}

fn wait_scan(r: &mut Rig) {
    choose(r);
    r.press(Button::LoginSuishen);
}

fn reading(r: &mut Rig) {
    r.send(Input::CardPresent);
}

fn identifying(r: &mut Rig) {
    reading(r);
    r.send(Input::CardRead { card: card() });
}

fn confirm(r: &mut Rig) {
    identifying(r);
    r.identified(Ok(response(Offer::Apply)));
}

fn not_eligible(r: &mut Rig) {
    identifying(r);
    r.identified(Ok(response(Offer::Nothing(IneligibleReason::NoPhoto))));
}

fn wrong_data(r: &mut Rig) {
    confirm(r);
    r.press(Button::WrongData);
}

fn issuing(r: &mut Rig) {
    confirm(r);
    r.press(Button::Confirm);
}

fn printing(r: &mut Rig) {
    issuing(r);
    r.issued(Ok(code(1)));
}

fn done(r: &mut Rig) {
    printing(r);
    r.printed(Ok(()));
}

fn error_identify(r: &mut Rig) {
    identifying(r);
    r.identified(Err(CentralFailure::Unreachable));
}

fn error_issue(r: &mut Rig) {
    issuing(r);
    r.issued(Err(CentralFailure::Unreachable));
}

fn error_issue_expired(r: &mut Rig) {
    issuing(r);
    r.issued(Err(CentralFailure::Refused(ErrorCode::SessionExpired)));
}

/// 申领 refused because the session token expired; 重试 identified the resident again, and the
/// offer is still 申领: the confirm screen again.
fn confirm_again_same_offer(r: &mut Rig) {
    issuing(r);
    r.issued(Err(CentralFailure::Refused(ErrorCode::SessionExpired)));
    r.press(Button::Retry);
    r.identified(Ok(response(Offer::Apply)));
}

/// 补领 refused because the code changed elsewhere since identify (or the code issued for the
/// request was replaced since); 重试 identified the resident again, and the offer is still 补领:
/// the confirm screen again.
fn confirm_again_code_changed(r: &mut Rig) {
    identifying(r);
    r.identified(Ok(response(Offer::Reissue)));
    r.press(Button::Confirm);
    r.issued(Err(CentralFailure::Refused(ErrorCode::ConflictCodeChanged)));
    r.press(Button::Retry);
    r.identified(Ok(response(Offer::Reissue)));
}

/// 申领 refused because the session token expired; 重试 identified the resident again, and by
/// then a code had been issued elsewhere: the confirm screen again, offering 补领.
fn confirm_again_new_offer(r: &mut Rig) {
    issuing(r);
    r.issued(Err(CentralFailure::Refused(ErrorCode::SessionExpired)));
    r.press(Button::Retry);
    r.identified(Ok(response(Offer::Reissue)));
}

/// Issuing under a fresh request id after the offer changed (see [`confirm_again_new_offer`]).
fn issuing_new_offer(r: &mut Rig) {
    confirm_again_new_offer(r);
    r.press(Button::Confirm);
}

/// The request id and action of the Issue effect among `effects`.
fn issue_of(effects: &[Effect]) -> Option<(RequestId, Action)> {
    effects.iter().find_map(|e| match e {
        Effect::Issue {
            request_id, action, ..
        } => Some((*request_id, *action)),
        _ => None,
    })
}

fn error_print(r: &mut Rig) {
    printing(r);
    r.printed(Err(PrintFailure::PaperOut));
}

fn out_of_service(r: &mut Rig) {
    r.send(Input::Availability(Some(Unavailable::Printer)));
}

/// Brings a fresh rig to a state.
type Reach = fn(&mut Rig);
/// Acts on a rig, returning the effects.
type Act = fn(&mut Rig) -> Vec<Effect>;

/// One row of the transition table: start state, input, resulting screen and effects.
struct Row {
    from: (&'static str, Reach),
    act: Act,
    screen: &'static str,
    effects: &'static [&'static str],
}

const STARTED: &str = "J:SessionStarted";
const ENDED: [&str; 2] = ["J:SessionEnded", "SessionEnded"];

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    macro_rules! row {
        ($from:ident, $act:expr, $screen:expr, $effects:expr) => {
            Row {
                from: (stringify!($from), $from),
                act: $act,
                screen: $screen,
                effects: $effects,
            }
        };
    }
    vec![
        // Lobby.
        row!(home, |r| r.press(Button::Start), "ChooseLogin", &[]),
        row!(home, |r| r.send(Input::CardPresent), "Reading", &[STARTED]),
        row!(home, |r| r.send(Input::CardRead { card: card() }), "Identifying", &[STARTED, "Identify"]),
        row!(home, |r| r.send(Input::CardUnreadable), "WaitCard(retry)", &[STARTED]),
        row!(home, |r| r.send(Input::Scanned(SUISHEN.into())), "Identifying", &[STARTED, "Identify"]),
        row!(home, |r| r.send(Input::Scanned("  ".into())), "Home", &[]),
        row!(home, |r| r.send(Input::CardRemoved), "Home", &[]),
        row!(home, |r| r.press(Button::Home), "Home", &[]),
        row!(home, |r| r.press(Button::Confirm), "Home", &[]),
        row!(home, |r| r.press(Button::Retry), "Home", &[]),
        row!(home, |r| r.send(Input::CentralReachable(false)), "Home(offline)", &[]),
        row!(home, |r| r.send(Input::Availability(Some(Unavailable::OutsideHours))), "OutOfService", &[]),
        row!(home, |r| r.wait(1_000_000), "Home", &[]),
        row!(choose, |r| r.press(Button::LoginCard), "WaitCard", &[STARTED]),
        row!(choose, |r| r.press(Button::LoginSuishen), "WaitScan", &[STARTED]),
        row!(choose, |r| r.send(Input::CardPresent), "Reading", &[STARTED]),
        row!(choose, |r| r.send(Input::CardRead { card: card() }), "Identifying", &[STARTED, "Identify"]),
        row!(choose, |r| r.send(Input::Scanned(SUISHEN.into())), "Identifying", &[STARTED, "Identify"]),
        row!(choose, |r| r.press(Button::Home), "Home", &[]),
        row!(choose, |r| r.wait(79_999), "ChooseLogin", &[]),
        row!(choose, |r| r.wait(80_000), "Home", &[]),
        row!(choose, |r| r.send(Input::Availability(Some(Unavailable::Printer))), "OutOfService", &[]),
        // Out of service.
        row!(out_of_service, |r| r.press(Button::Start), "OutOfService", &[]),
        row!(out_of_service, |r| r.send(Input::CardPresent), "OutOfService", &[]),
        row!(out_of_service, |r| r.send(Input::CardRead { card: card() }), "OutOfService", &[]),
        row!(out_of_service, |r| r.send(Input::CardUnreadable), "OutOfService", &[]),
        row!(out_of_service, |r| r.send(Input::Scanned(SUISHEN.into())), "OutOfService", &[]),
        row!(out_of_service, |r| r.send(Input::Availability(None)), "Home", &[]),
        row!(out_of_service, |r| r.press(Button::CallStaff), "OutOfService", &["J:HelpRequested", "HelpRequested"]),
        // Waiting for a credential.
        row!(wait_card, |r| r.send(Input::CardPresent), "Reading", &[]),
        row!(wait_card, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["Identify"]),
        row!(wait_card, |r| r.send(Input::Scanned(SUISHEN.into())), "Identifying", &["Identify"]),
        row!(wait_card, |r| r.send(Input::CardUnreadable), "WaitCard(retry)", &[]),
        row!(wait_card, |r| r.send(Input::CardRemoved), "WaitCard", &[]),
        row!(wait_card, |r| r.press(Button::Home), "Home", &ENDED),
        row!(wait_card, |r| r.wait(79_999), "WaitCard", &[]),
        row!(wait_card, |r| r.wait(80_000), "Home", &ENDED),
        row!(wait_scan, |r| r.send(Input::Scanned(SUISHEN.into())), "Identifying", &["Identify"]),
        row!(wait_scan, |r| r.send(Input::CardPresent), "Reading", &[]),
        row!(wait_scan, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["Identify"]),
        row!(wait_scan, |r| r.send(Input::CardUnreadable), "WaitCard(retry)", &[]),
        row!(wait_scan, |r| r.press(Button::Home), "Home", &ENDED),
        row!(wait_scan, |r| r.wait(80_000), "Home", &ENDED),
        // Reading.
        row!(reading, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["Identify"]),
        row!(reading, |r| r.send(Input::CardRemoved), "WaitCard(retry)", &[]),
        row!(reading, |r| r.send(Input::CardUnreadable), "WaitCard(retry)", &[]),
        row!(reading, |r| r.send(Input::Scanned(SUISHEN.into())), "Reading", &[]),
        row!(reading, |r| r.wait(19_999), "Reading", &[]),
        row!(reading, |r| r.wait(20_000), "WaitCard(retry)", &[]),
        row!(reading, |r| r.press(Button::Home), "Home", &ENDED),
        // Identifying.
        row!(identifying, |r| r.identified(Ok(response(Offer::Apply))), "Confirm(apply)", &["J:Identified"]),
        row!(identifying, |r| r.identified(Ok(response(Offer::Reissue))), "Confirm(reissue)", &["J:Identified"]),
        row!(identifying, |r| r.identified(Ok(response(Offer::Nothing( IneligibleReason::NotRealNameVerified )))), "NotEligible(not_real_name_verified)", &["J:Refused"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Unreachable)), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::BadAnswer)), "Error(bad_answer,retry)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::CardExpired))), "Error(card_expired)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::UnknownPerson))), "Error(unknown_person)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::InvalidSuishenCode))), "Error(invalid_suishen_code)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::SessionExpired))), "Error(session_expired,retry)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::Unavailable))), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(identifying, |r| r.identified(Err(CentralFailure::Refused(ErrorCode::NotEligible))), "Error(not_eligible)", &["J:Error"]),
        row!(identifying, |r| r.wait(29_999), "Identifying", &[]),
        row!(identifying, |r| r.wait(30_000), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(identifying, |r| r.wait(1_000_000), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(identifying, |r| r.send(Input::CardRemoved), "Identifying", &[]),
        row!(identifying, |r| r.send(Input::CardRead { card: card() }), "Identifying", &[]),
        row!(identifying, |r| r.send(Input::Scanned(SUISHEN.into())), "Identifying", &[]),
        row!(identifying, |r| r.press(Button::Confirm), "Identifying", &[]),
        row!(identifying, |r| r.press(Button::Home), "Home", &ENDED),
        // Confirm.
        row!(confirm, |r| r.press(Button::Confirm), "Issuing", &["Issue"]),
        row!(confirm, |r| r.press(Button::WrongData), "WrongData", &["J:WrongDataReported"]),
        row!(confirm, |r| r.press(Button::Retry), "Confirm(apply)", &[]),
        row!(confirm, |r| r.press(Button::Home), "Home", &ENDED),
        row!(confirm, |r| r.send(Input::CardRemoved), "Confirm(apply)", &[]),
        row!(confirm, |r| r.send(Input::CardPresent), "Confirm(apply)", &[]),
        row!(confirm, |r| r.send(Input::Scanned(SUISHEN.into())), "Confirm(apply)", &[]),
        row!(confirm, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["J:SessionEnded", "SessionEnded", STARTED, "Identify"]),
        row!(confirm, |r| r.identified(Ok(response(Offer::Reissue))), "Confirm(apply)", &[]),
        row!(confirm, |r| r.wait(60_000), "Confirm(apply)", &[]),
        row!(confirm, |r| r.wait(80_000), "Home", &ENDED),
        // Not eligible, wrong data.
        row!(not_eligible, |r| r.press(Button::Confirm), "NotEligible(no_photo)", &[]),
        row!(not_eligible, |r| r.press(Button::Home), "Home", &ENDED),
        row!(not_eligible, |r| r.wait(80_000), "Home", &ENDED),
        row!(not_eligible, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["J:SessionEnded", "SessionEnded", STARTED, "Identify"]),
        row!(wrong_data, |r| r.press(Button::Confirm), "WrongData", &[]),
        row!(wrong_data, |r| r.press(Button::Home), "Home", &ENDED),
        row!(wrong_data, |r| r.wait(80_000), "Home", &ENDED),
        row!(wrong_data, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["J:SessionEnded", "SessionEnded", STARTED, "Identify"]),
        // Issuing.
        row!(issuing, |r| r.issued(Ok(code(1))), "Printing", &["Print"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Unreachable)), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::BadAnswer)), "Error(bad_answer,retry)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Refused(ErrorCode::RateLimited))), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Refused(ErrorCode::SessionExpired))), "Error(session_expired,retry)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Refused(ErrorCode::UnknownSession))), "Error(session_expired,retry)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Refused(ErrorCode::ConflictActiveCode))), "Error(conflict_active_code)", &["J:Error"]),
        row!(issuing, |r| r.issued(Err(CentralFailure::Refused(ErrorCode::ConflictCodeChanged))), "Error(conflict_code_changed,retry)", &["J:Error"]),
        row!(issuing, |r| r.wait(44_999), "Issuing", &[]),
        row!(issuing, |r| r.wait(45_000), "Error(central_unreachable,retry)", &["J:Error"]),
        row!(issuing, |r| r.send(Input::CardRead { card: card() }), "Issuing", &[]),
        row!(issuing, |r| r.send(Input::CardRemoved), "Issuing", &[]),
        row!(issuing, |r| r.press(Button::Confirm), "Issuing", &[]),
        row!(issuing, |r| r.press(Button::Home), "Home", &ENDED),
        // Printing.
        row!(printing, |r| r.printed(Ok(())), "Done(card=true,serial=1)", &[]),
        row!(printing, |r| r.printed(Err(PrintFailure::PaperOut)), "Error(paper_out,retry)", &["J:Error"]),
        row!(printing, |r| r.printed(Err(PrintFailure::SlipCheckFailed)), "Error(slip_check_failed,retry)", &["J:Error"]),
        row!(printing, |r| r.wait(89_999), "Printing", &[]),
        row!(printing, |r| r.wait(90_000), "Error(no_answer,retry)", &["J:Error"]),
        row!(printing, |r| r.issued(Ok(code(2))), "Printing", &[]),
        row!(printing, |r| r.send(Input::CardRead { card: card() }), "Printing", &[]),
        // Done.
        row!(done, |r| r.wait(14_999), "Done(card=true,serial=1)", &[]),
        row!(done, |r| r.wait(15_000), "Home", &ENDED),
        row!(done, |r| r.send(Input::CardRemoved), "Done(card=false,serial=1)", &[]),
        row!(done, |r| r.press(Button::Home), "Home", &ENDED),
        row!(done, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["J:SessionEnded", "SessionEnded", STARTED, "Identify"]),
        row!(done, |r| r.printed(Ok(())), "Done(card=true,serial=1)", &[]),
        // Errors.
        row!(error_identify, |r| r.press(Button::Retry), "Identifying", &["Identify"]),
        row!(error_identify, |r| r.identified(Ok(response(Offer::Apply))), "Confirm(apply)", &["J:Identified"]),
        row!(error_identify, |r| r.identified(Err(CentralFailure::BadAnswer)), "Error(central_unreachable,retry)", &[]),
        row!(error_identify, |r| r.send(Input::CardRead { card: card() }), "Identifying", &["J:SessionEnded", "SessionEnded", STARTED, "Identify"]),
        row!(error_identify, |r| r.press(Button::Home), "Home", &ENDED),
        row!(error_identify, |r| r.wait(80_000), "Home", &ENDED),
        row!(error_issue, |r| r.press(Button::Retry), "Issuing", &["Issue"]),
        row!(error_issue, |r| r.issued(Ok(code(1))), "Printing", &["Print"]),
        row!(error_issue, |r| r.send(Input::CardRead { card: card() }), "Error(central_unreachable,retry)", &[]),
        row!(error_issue, |r| r.wait(80_000), "Home", &ENDED),
        row!(error_issue_expired, |r| r.press(Button::Retry), "Identifying", &["Identify"]),
        // Identified again after a refusal: the same offer keeps the request id, a changed one
        // takes a fresh one (and the old one's replies are ignored), and so does the same offer
        // after conflict_code_changed (the central holds no live code for the old id).
        row!(error_issue_expired, |r| r.identified(Ok(response(Offer::Apply))), "Error(session_expired,retry)", &[]),
        row!(confirm_again_same_offer, |r| {
            let first = r.request();
            let out = r.press(Button::Confirm);
            assert_eq!(issue_of(&out), Some((first, Action::Apply)), "the same request id");
            out
        }, "Issuing", &["Issue"]),
        row!(confirm_again_code_changed, |r| {
            let first = r.request();
            let out = r.press(Button::Confirm);
            let (id, action) = issue_of(&out).unwrap();
            assert_ne!(id, first, "a fresh request id after the code changed");
            assert_eq!(action, Action::Reissue);
            // The old request's late code is not printed.
            let session = r.sid();
            let late = r.send(Input::Issued { session, request_id: first, result: Ok(code(1)) });
            assert!(late.is_empty(), "{late:?}");
            out
        }, "Issuing", &["Issue"]),
        row!(confirm_again_new_offer, |r| {
            let first = r.request();
            let out = r.press(Button::Confirm);
            let (id, action) = issue_of(&out).unwrap();
            assert_ne!(id, first, "a fresh request id for the changed offer");
            assert_eq!(action, Action::Reissue);
            out
        }, "Issuing", &["Issue"]),
        row!(issuing_new_offer, |r| {
            let (session, request_id) = (r.sid(), r.first_request());
            r.send(Input::Issued { session, request_id, result: Ok(code(1)) })
        }, "Issuing", &[]),
        row!(issuing_new_offer, |r| r.issued(Ok(code(2))), "Printing", &["Print"]),
        row!(error_print, |r| r.press(Button::Retry), "Printing", &["Print"]),
        row!(error_print, |r| r.printed(Ok(())), "Done(card=true,serial=1)", &[]),
        row!(error_print, |r| r.printed(Err(PrintFailure::CoverOpen)), "Error(paper_out,retry)", &[]),
        row!(error_print, |r| r.send(Input::CardRead { card: card() }), "Error(paper_out,retry)", &[]),
        row!(error_print, |r| r.press(Button::Home), "Home", &ENDED),
        // Help, anywhere.
        row!(home, |r| r.press(Button::CallStaff), "Home", &["J:HelpRequested", "HelpRequested"]),
        row!(confirm, |r| r.press(Button::CallStaff), "Confirm(apply)", &["J:HelpRequested", "HelpRequested"]),
        row!(printing, |r| r.press(Button::CallStaff), "Printing", &["J:HelpRequested", "HelpRequested"]),
        row!(error_print, |r| r.press(Button::CallStaff), "Error(paper_out,retry)", &["J:HelpRequested", "HelpRequested"]),
        row!(confirm, |r| r.send(Input::HelpCleared), "Confirm(apply)", &[]),
        // Availability during a session: the session goes on.
        row!(confirm, |r| r.send(Input::Availability(Some(Unavailable::Staff("换纸".into())))), "Confirm(apply)", &[]),
        row!(confirm, |r| r.send(Input::CentralReachable(false)), "Confirm(apply)", &[]),
    ]
}

#[test]
fn transition_table() {
    let rows = rows();
    for (i, row) in rows.iter().enumerate() {
        let mut r = Rig::new();
        (row.from.1)(&mut r);
        let effects = (row.act)(&mut r);
        let context = format!("row {i} from {}", row.from.0);
        assert_eq!(r.screen(), row.screen, "screen, {context}");
        assert_eq!(kinds(&effects), row.effects, "effects, {context}");
        // A session exists exactly on the session screens.
        let lobby = matches!(
            r.flow.screen(),
            Screen::Home { .. } | Screen::ChooseLogin | Screen::OutOfService { .. }
        );
        assert_eq!(r.flow.session().is_none(), lobby, "session, {context}");
    }
    assert!(rows.len() > 100, "{} rows", rows.len());
}

#[test]
fn start_states_are_as_named() {
    let cases: [(Reach, &str); 16] = [
        (home, "Home"),
        (choose, "ChooseLogin"),
        (wait_card, "WaitCard"),
        (wait_scan, "WaitScan"),
        (reading, "Reading"),
        (identifying, "Identifying"),
        (confirm, "Confirm(apply)"),
        (not_eligible, "NotEligible(no_photo)"),
        (wrong_data, "WrongData"),
        (issuing, "Issuing"),
        (printing, "Printing"),
        (done, "Done(card=true,serial=1)"),
        (error_identify, "Error(central_unreachable,retry)"),
        (error_issue, "Error(central_unreachable,retry)"),
        (error_issue_expired, "Error(session_expired,retry)"),
        (error_print, "Error(paper_out,retry)"),
    ];
    for (reach, want) in cases {
        let mut r = Rig::new();
        reach(&mut r);
        assert_eq!(r.screen(), want);
    }
}

// --- journeys -----------------------------------------------------------------------------

#[test]
fn card_journey_effects_in_detail() {
    let mut r = Rig::new();
    r.press(Button::Start);
    let started = r.press(Button::LoginCard);
    let sid = r.sid();
    assert_eq!(
        sid,
        SessionId(Uuid::from_u128(2)),
        "the fresh uuid of the call"
    );
    assert_eq!(detail_of(&started[0], "method"), Some("card"));
    assert_eq!(detail_of(&started[0], "session"), Some(&*sid.to_string()));
    r.send(Input::CardPresent);
    let out = r.send(Input::CardRead { card: card() });
    assert_eq!(
        out,
        vec![Effect::Identify {
            session: sid,
            credential: Credential::Card(card()),
        }]
    );
    let out = r.identified(Ok(response(Offer::Reissue)));
    assert_eq!(detail_of(&out[0], "offer"), Some("reissue"));
    assert_eq!(detail_of(&out[0], "code_state"), Some("lost"));
    assert_eq!(
        detail_of(&out[0], "id_number_masked"),
        Some("310***********0029")
    );
    match r.flow.screen() {
        Screen::Confirm {
            person,
            offer,
            next_code,
            ..
        } => {
            assert_eq!(person.name, NAME);
            assert_eq!(offer, Offer::Reissue);
            assert_eq!(next_code.expires_on, date!(2025 - 09 - 09));
        }
        other => panic!("{other:?}"),
    }
    let fresh = Uuid::from_u128(r.next);
    let out = r.press(Button::Confirm);
    assert_eq!(
        out,
        vec![Effect::Issue {
            session: sid,
            request_id: RequestId::new(fresh),
            action: Action::Reissue,
            token: SessionToken::new(TOKEN),
        }]
    );
    let out = r.issued(Ok(code(2)));
    assert_eq!(
        out,
        vec![Effect::Print {
            session: sid,
            request_id: RequestId::new(fresh),
            job: PrintJob {
                code: code(2),
                name_masked: "欧阳**".to_owned(),
                id_number_masked: "310***********0029".to_owned(),
                reissue: true,
            },
        }]
    );
    assert!(r.printed(Ok(())).is_empty());
    assert_eq!(r.screen(), "Done(card=true,serial=2)");
    let out = r.wait(15_000);
    assert_eq!(detail_of(&out[0], "how"), Some("done"));
    assert_eq!(out[1], Effect::SessionEnded { session: sid });
    assert!(r.flow.session.is_none());
}

#[test]
fn suishen_journey() {
    let mut r = Rig::new();
    r.press(Button::Start);
    let out = r.press(Button::LoginSuishen);
    assert_eq!(detail_of(&out[0], "method"), Some("suishen"));
    let out = r.send(Input::Scanned(SUISHEN.into()));
    let sid = r.sid();
    assert_eq!(
        out,
        vec![Effect::Identify {
            session: sid,
            credential: Credential::Suishen(SUISHEN.into()),
        }]
    );
    r.identified(Ok(response(Offer::Apply)));
    r.press(Button::Confirm);
    assert!(matches!(
        r.log.last(),
        Some(Effect::Issue {
            action: Action::Apply,
            ..
        })
    ));
    r.issued(Ok(code(1)));
    r.printed(Ok(()));
    assert_eq!(r.screen(), "Done(card=false,serial=1)");
}

#[test]
fn a_scan_at_home_starts_a_suishen_session() {
    let mut r = Rig::new();
    let out = r.send(Input::Scanned(SUISHEN.into()));
    assert_eq!(kinds(&out), [STARTED, "Identify"]);
    assert_eq!(detail_of(&out[0], "method"), Some("suishen"));
}

#[test]
fn late_reply_from_an_earlier_session_is_ignored() {
    let mut r = Rig::new();
    identifying(&mut r);
    let first = r.sid();
    r.press(Button::Home);
    identifying(&mut r);
    let second = r.sid();
    assert_ne!(first, second);
    let before = r.flow.screen();
    for input in [
        Input::Identified {
            session: first,
            result: Ok(response(Offer::Apply)),
        },
        Input::Identified {
            session: first,
            result: Err(CentralFailure::Unreachable),
        },
    ] {
        assert!(r.send(input).is_empty());
        assert_eq!(r.flow.screen(), before);
    }
    // The second session's own reply still counts.
    r.identified(Ok(response(Offer::Apply)));
    r.press(Button::Confirm);
    let request_id = r.request();
    // An issue or print reply for the first session, even with the right request id: ignored.
    let stale = [
        Input::Issued {
            session: first,
            request_id,
            result: Ok(code(9)),
        },
        Input::Printed {
            session: first,
            request_id,
            result: Ok(()),
        },
        Input::Issued {
            session: second,
            request_id: RequestId::new(Uuid::from_u128(999)),
            result: Ok(code(9)),
        },
    ];
    for input in stale {
        assert!(r.send(input).is_empty());
        assert_eq!(r.screen(), "Issuing");
    }
}

#[test]
fn card_removed_during_identify_keeps_the_session() {
    let mut r = Rig::new();
    identifying(&mut r);
    let sid = r.sid();
    assert!(r.send(Input::CardRemoved).is_empty());
    assert_eq!(r.screen(), "Identifying");
    r.identified(Ok(response(Offer::Apply)));
    assert_eq!(r.screen(), "Confirm(apply)");
    r.press(Button::Confirm);
    r.issued(Ok(code(1)));
    r.printed(Ok(()));
    assert_eq!(r.sid(), sid);
    assert_eq!(
        r.flow.screen(),
        Screen::Done {
            card_on_reader: false,
            serial: 1
        }
    );
}

#[test]
fn paper_out_then_retry_prints_the_same_code_and_never_issues_again() {
    let mut r = Rig::new();
    printing(&mut r);
    let first_print = r.log.last().cloned().unwrap();
    let request_id = r.request();
    r.printed(Err(PrintFailure::PaperOut));
    assert_eq!(
        r.flow.screen(),
        Screen::Error {
            error: FlowError::PrintFailed(PrintFailure::PaperOut),
            can_retry: true
        }
    );
    let out = r.press(Button::Retry);
    assert_eq!(out, vec![first_print.clone()]);
    let Effect::Print {
        request_id: again,
        job,
        ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*again, request_id);
    assert_eq!(job.code, code(1));
    // A second failure and a third try: still the same job.
    r.printed(Err(PrintFailure::PaperOut));
    assert_eq!(r.press(Button::Retry), vec![first_print]);
    r.printed(Ok(()));
    assert_eq!(r.screen(), "Done(card=true,serial=1)");
    let issues = r
        .log
        .iter()
        .filter(|e| matches!(e, Effect::Issue { .. }))
        .count();
    assert_eq!(issues, 1);
}

#[test]
fn print_timeout_then_late_success() {
    let mut r = Rig::new();
    printing(&mut r);
    r.wait(90_000);
    assert_eq!(r.screen(), "Error(no_answer,retry)");
    assert!(r.printed(Ok(())).is_empty());
    assert_eq!(r.screen(), "Done(card=true,serial=1)");
}

#[test]
fn central_unreachable_at_identify_retries_with_the_same_credential() {
    let mut r = Rig::new();
    identifying(&mut r);
    let sent = r.log.last().cloned().unwrap();
    let out = r.identified(Err(CentralFailure::Unreachable));
    assert_eq!(detail_of(&out[0], "step"), Some("identify"));
    assert_eq!(detail_of(&out[0], "error"), Some("central_unreachable"));
    assert_eq!(r.press(Button::Retry), vec![sent.clone()]);
    // A time-out is the same error; retry again.
    r.wait(30_000);
    assert_eq!(r.screen(), "Error(central_unreachable,retry)");
    assert_eq!(r.press(Button::Retry), vec![sent]);
    r.identified(Ok(response(Offer::Apply)));
    assert_eq!(r.screen(), "Confirm(apply)");
}

#[test]
fn errors_without_retry_ignore_retry() {
    let mut r = Rig::new();
    identifying(&mut r);
    r.identified(Err(CentralFailure::Refused(ErrorCode::UnknownPerson)));
    assert!(r.press(Button::Retry).is_empty());
    assert_eq!(r.screen(), "Error(unknown_person)");
    let mut r = Rig::new();
    issuing(&mut r);
    r.issued(Err(CentralFailure::Refused(ErrorCode::ConflictLostCode)));
    assert!(r.press(Button::Retry).is_empty());
    assert_eq!(r.screen(), "Error(conflict_lost_code)");
}

#[test]
fn central_unreachable_at_issue_retries_with_the_same_request_id() {
    let mut r = Rig::new();
    issuing(&mut r);
    let first = r.log.last().cloned().unwrap();
    let out = r.issued(Err(CentralFailure::Unreachable));
    assert_eq!(detail_of(&out[0], "step"), Some("issue"));
    for _ in 0..3 {
        assert_eq!(r.press(Button::Retry), vec![first.clone()]);
        r.issued(Err(CentralFailure::Refused(ErrorCode::Unavailable)));
        assert_eq!(r.screen(), "Error(central_unreachable,retry)");
    }
    r.press(Button::Retry);
    r.issued(Ok(code(1)));
    assert_eq!(r.screen(), "Printing");
    let ids: HashSet<_> = r
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Issue { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1);
}

#[test]
fn issue_timeout_then_late_success() {
    let mut r = Rig::new();
    issuing(&mut r);
    let out = r.wait(45_000);
    assert_eq!(kinds(&out), ["J:Error"]);
    assert_eq!(
        r.flow.screen(),
        Screen::Error {
            error: FlowError::CentralUnreachable,
            can_retry: true
        }
    );
    let out = r.issued(Ok(code(1)));
    assert_eq!(kinds(&out), ["Print"]);
    assert_eq!(r.screen(), "Printing");
    // A duplicate answer (e.g. to a retry that also left) changes nothing.
    assert!(r.issued(Ok(code(1))).is_empty());
}

#[test]
fn expired_session_token_reidentifies_and_keeps_the_request_id() {
    let mut r = Rig::new();
    issuing(&mut r);
    let first = r.request();
    r.issued(Err(CentralFailure::Refused(ErrorCode::SessionExpired)));
    assert_eq!(r.screen(), "Error(session_expired,retry)");
    let out = r.press(Button::Retry);
    assert!(matches!(out[..], [Effect::Identify { .. }]));
    let mut fresh = response(Offer::Apply);
    fresh.session = SessionToken::new("a-new-token");
    r.identified(Ok(fresh));
    assert_eq!(r.screen(), "Confirm(apply)");
    let out = r.press(Button::Confirm);
    assert_eq!(
        out,
        vec![Effect::Issue {
            session: r.sid(),
            request_id: first,
            action: Action::Apply,
            token: SessionToken::new("a-new-token"),
        }]
    );
}

#[test]
fn idle_countdown_continue_and_wipe() {
    let t = Timeouts::default();
    let mut r = Rig::new();
    confirm(&mut r);
    let sid = r.sid();
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
    r.wait(t.idle_ms - 1);
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
    r.wait(1);
    assert_eq!(r.flow.countdown(Millis(r.now)), Some(20));
    assert_eq!(
        r.screen(),
        "Confirm(apply)",
        "the screen stays under the dialog"
    );
    r.wait(5_500);
    assert_eq!(r.flow.countdown(Millis(r.now)), Some(15));
    // Continue: the countdown goes away and the full idle time starts again.
    assert!(r.press(Button::Continue).is_empty());
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
    r.wait(t.idle_ms + t.countdown_ms - 1);
    assert_eq!(r.screen(), "Confirm(apply)");
    assert_eq!(r.flow.countdown(Millis(r.now)), Some(1));
    // Without Continue: wiped.
    let out = r.wait(1);
    assert_eq!(kinds(&out), ENDED);
    assert_eq!(detail_of(&out[0], "how"), Some("timeout"));
    assert_eq!(detail_of(&out[0], "session"), Some(&*sid.to_string()));
    assert_eq!(out[1], Effect::SessionEnded { session: sid });
    assert_eq!(r.screen(), "Home");
    assert_eq!(r.flow.session(), None);
    assert!(
        r.flow.session.is_none(),
        "no person, token or credential left"
    );
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
}

#[test]
fn any_input_turns_the_countdown_off() {
    let mut r = Rig::new();
    wait_card(&mut r);
    r.wait(61_000);
    assert!(r.flow.countdown(Millis(r.now)).is_some());
    r.send(Input::CardPresent);
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
    assert_eq!(r.screen(), "Reading");
    // Not a resident input: the countdown goes on.
    let mut r = Rig::new();
    error_identify(&mut r);
    r.wait(61_000);
    r.send(Input::CentralReachable(false));
    r.send(Input::HelpCleared);
    assert!(r.flow.countdown(Millis(r.now)).is_some());
}

#[test]
fn no_idle_timeout_while_working() {
    let mut r = Rig::new();
    issuing(&mut r);
    r.wait(44_000);
    r.press(Button::Continue);
    assert_eq!(r.flow.countdown(Millis(r.now)), None);
    // A press during Issuing does not extend the issue time limit.
    r.wait(1_000);
    assert_eq!(r.screen(), "Error(central_unreachable,retry)");
}

#[test]
fn done_timeout_wipes() {
    let mut r = Rig::new();
    done(&mut r);
    let sid = r.sid();
    // Input on the done screen does not keep it.
    r.wait(10_000);
    r.press(Button::Continue);
    let out = r.wait(5_000);
    assert_eq!(kinds(&out), ENDED);
    assert_eq!(detail_of(&out[0], "how"), Some("done"));
    assert_eq!(out[1], Effect::SessionEnded { session: sid });
    assert_eq!(r.screen(), "Home");
    assert!(r.flow.session.is_none());
}

#[test]
fn home_cancels() {
    let mut r = Rig::new();
    confirm(&mut r);
    let out = r.press(Button::Home);
    assert_eq!(detail_of(&out[0], "how"), Some("cancelled"));
    assert!(r.flow.session.is_none());
}

#[test]
fn a_new_card_replaces_the_session_at_confirm() {
    let mut r = Rig::new();
    confirm(&mut r);
    let old = r.sid();
    let out = r.send(Input::CardRead {
        card: card_of(OTHER_NAME, OTHER_NUMBER),
    });
    let new = r.sid();
    assert_ne!(old, new);
    assert_eq!(detail_of(&out[0], "how"), Some("replaced"));
    assert_eq!(detail_of(&out[0], "session"), Some(&*old.to_string()));
    assert_eq!(out[1], Effect::SessionEnded { session: old });
    assert_eq!(detail_of(&out[2], "session"), Some(&*new.to_string()));
    assert_eq!(
        out[3],
        Effect::Identify {
            session: new,
            credential: Credential::Card(card_of(OTHER_NAME, OTHER_NUMBER)),
        }
    );
    assert_eq!(r.screen(), "Identifying");
    // The first person is gone from the state.
    let s = r.flow.session.as_ref().unwrap();
    assert!(s.identity.is_none() && s.request.is_none() && s.code.is_none());
    // The old session's reply is ignored; the new one's counts.
    let late = Input::Identified {
        session: old,
        result: Ok(response(Offer::Apply)),
    };
    assert!(r.send(late).is_empty());
    r.identified(Ok(response_for(OTHER_NAME, OTHER_NUMBER, Offer::Apply)));
    match r.flow.screen() {
        Screen::Confirm { person, .. } => assert_eq!(person.name, OTHER_NAME),
        other => panic!("{other:?}"),
    }
}

#[test]
fn out_of_service_blocks_at_home_and_waits_for_a_running_session() {
    let mut r = Rig::new();
    out_of_service(&mut r);
    assert_eq!(
        r.flow.screen(),
        Screen::OutOfService {
            reason: Unavailable::Printer
        }
    );
    for input in [
        Input::Press(Button::Start),
        Input::CardPresent,
        Input::CardRead { card: card() },
        Input::Scanned(SUISHEN.into()),
    ] {
        assert!(r.send(input).is_empty());
        assert_eq!(r.flow.session(), None);
    }
    r.send(Input::Availability(None));
    assert_eq!(r.screen(), "Home");

    // During a session: it finishes, then out of service shows.
    confirm(&mut r);
    let reason = Unavailable::Staff("设备维护".into());
    r.send(Input::Availability(Some(reason.clone())));
    assert_eq!(r.screen(), "Confirm(apply)");
    r.press(Button::Confirm);
    r.issued(Ok(code(1)));
    r.printed(Ok(()));
    assert_eq!(r.screen(), "Done(card=true,serial=1)");
    let out = r.wait(15_000);
    assert_eq!(kinds(&out), ENDED);
    assert_eq!(r.flow.screen(), Screen::OutOfService { reason });
    // A card left on the reader does not start anything.
    assert!(r.send(Input::CardRead { card: card() }).is_empty());
    r.send(Input::Availability(None));
    assert_eq!(r.screen(), "Home");
}

#[test]
fn help_request_raised_once_and_cleared() {
    let mut r = Rig::new();
    error_print(&mut r);
    let sid = r.sid();
    let out = r.press(Button::CallStaff);
    assert_eq!(kinds(&out), ["J:HelpRequested", "HelpRequested"]);
    assert_eq!(detail_of(&out[0], "session"), Some(&*sid.to_string()));
    assert!(r.flow.help_requested());
    assert!(
        r.press(Button::CallStaff).is_empty(),
        "once while it stands"
    );
    assert_eq!(r.sid(), sid, "help does not end the session");
    assert_eq!(r.screen(), "Error(paper_out,retry)");
    // It outlives the session.
    r.press(Button::Home);
    assert!(r.flow.help_requested());
    let out = r.send(Input::HelpCleared);
    assert_eq!(kinds(&out), ["J:HelpCleared"]);
    assert!(!r.flow.help_requested());
    assert!(r.send(Input::HelpCleared).is_empty());
    // And it can be raised again.
    assert_eq!(
        kinds(&r.press(Button::CallStaff)),
        ["J:HelpRequested", "HelpRequested"]
    );
}

#[test]
fn no_personal_data_in_journal_or_debug() {
    let mut r = Rig::new();
    let mut debug = Vec::new();
    r.press(Button::CallStaff);
    r.press(Button::Start);
    r.press(Button::LoginCard);
    r.send(Input::CardPresent);
    let read = Input::CardRead { card: card() };
    debug.push(format!("{read:?}"));
    r.send(read);
    r.identified(Err(CentralFailure::Unreachable));
    r.press(Button::Retry);
    r.identified(Ok(response(Offer::Apply)));
    debug.push(format!("{:?}", r.flow.screen()));
    debug.push(format!("{:?}", r.flow));
    r.press(Button::Confirm);
    r.wait(45_000);
    r.press(Button::Retry);
    r.issued(Ok(code(1)));
    r.printed(Err(PrintFailure::PaperOut));
    r.press(Button::Retry);
    r.printed(Ok(()));
    r.send(Input::HelpCleared);
    r.wait(15_000);
    // A second resident: wrong data, then a 随申码 that is not eligible.
    confirm(&mut r);
    r.press(Button::WrongData);
    r.press(Button::Home);
    let scan = Input::Scanned(SUISHEN.into());
    debug.push(format!("{scan:?}"));
    r.send(scan);
    debug.push(format!("{:?}", r.flow));
    r.identified(Ok(response(Offer::Nothing(IneligibleReason::UnderAge {
        eligible_from: date!(2031 - 05 - 01),
    }))));
    r.wait(80_000);

    let journal_kinds: HashSet<_> = r
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Journal { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    for kind in [
        JournalKind::SessionStarted,
        JournalKind::SessionEnded,
        JournalKind::Identified,
        JournalKind::Refused,
        JournalKind::WrongDataReported,
        JournalKind::Error,
        JournalKind::HelpRequested,
        JournalKind::HelpCleared,
    ] {
        assert!(journal_kinds.contains(&kind), "{kind:?} journalled");
    }
    let secrets = [NAME, NUMBER, TOKEN, SUISHEN, "iVBORw0KGgo"];
    for effect in &r.log {
        let text = format!("{effect:?}");
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        if let Effect::Journal { detail, .. } = effect {
            for (key, value) in detail {
                for secret in secrets {
                    assert!(!value.contains(secret), "{secret} in {key}");
                }
                assert!(!value.contains("1950"), "no birth date: {key}={value}");
            }
        }
    }
    for text in debug {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[test]
fn credential_debug_and_request() {
    let card = Credential::Card(card());
    assert!(!format!("{card:?}").contains(NAME));
    assert_eq!(card.method(), Method::Card);
    assert!(matches!(
        card.to_request(),
        IdentifyRequest::IdCard(fields) if fields.name == NAME
    ));
    let scan = Credential::Suishen(SUISHEN.into());
    assert_eq!(format!("{scan:?}"), "Suishen(..)");
    assert_eq!(scan.method().as_str(), "suishen");
}

// --- property test ------------------------------------------------------------------------

/// Which session a generated reply names.
#[derive(Debug, Clone)]
enum Pick {
    Current,
    Previous,
    Random(u64),
}

/// Which request id a generated reply names.
#[derive(Debug, Clone)]
enum ReqPick {
    Current,
    Random(u64),
}

#[derive(Debug, Clone)]
enum Op {
    Wait(u64),
    Press(Button),
    CardPresent,
    CardRead(bool),
    CardUnreadable,
    CardRemoved,
    Scanned(String),
    Identified(Pick, Result<Offer, CentralFailure>),
    Issued(Pick, ReqPick, Result<u8, CentralFailure>),
    Printed(Pick, ReqPick, Result<(), PrintFailure>),
    Availability(Option<u8>),
    CentralReachable(bool),
    HelpCleared,
}

fn button() -> impl Strategy<Value = Button> {
    // Confirm and Retry weigh more, so that sequences reach issuing and printing often.
    prop_oneof![
        1 => Just(Button::Start),
        1 => Just(Button::LoginCard),
        1 => Just(Button::LoginSuishen),
        4 => Just(Button::Confirm),
        1 => Just(Button::WrongData),
        3 => Just(Button::Retry),
        1 => Just(Button::Home),
        1 => Just(Button::Continue),
        1 => Just(Button::CallStaff),
    ]
}

fn failure() -> impl Strategy<Value = CentralFailure> {
    prop_oneof![
        Just(CentralFailure::Unreachable),
        Just(CentralFailure::BadAnswer),
        prop::sample::select(ErrorCode::ALL.to_vec()).prop_map(CentralFailure::Refused),
    ]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => Just(Pick::Current),
        1 => Just(Pick::Previous),
        1 => any::<u64>().prop_map(Pick::Random),
    ]
}

fn req_pick() -> impl Strategy<Value = ReqPick> {
    prop_oneof![
        5 => Just(ReqPick::Current),
        1 => any::<u64>().prop_map(ReqPick::Random),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let offer = prop_oneof![
        Just(Offer::Apply),
        Just(Offer::Reissue),
        Just(Offer::Nothing(IneligibleReason::NoPhoto)),
    ];
    prop_oneof![
        3 => prop_oneof![
            Just(0u64), Just(500), Just(15_000), Just(20_000), Just(30_000), Just(45_000),
            Just(60_000), Just(90_000), 0u64..200_000,
        ].prop_map(Op::Wait),
        4 => button().prop_map(Op::Press),
        1 => Just(Op::CardPresent),
        1 => any::<bool>().prop_map(Op::CardRead),
        1 => Just(Op::CardUnreadable),
        1 => Just(Op::CardRemoved),
        1 => prop_oneof![Just(SUISHEN.to_owned()), Just(String::new()), ".{0,8}"].prop_map(Op::Scanned),
        3 => (pick(), prop_oneof![3 => offer.prop_map(Ok), 1 => failure().prop_map(Err)])
            .prop_map(|(p, r)| Op::Identified(p, r)),
        3 => (pick(), req_pick(), prop_oneof![3 => (1u8..6).prop_map(Ok), 1 => failure().prop_map(Err)])
            .prop_map(|(p, q, r)| Op::Issued(p, q, r)),
        3 => (pick(), req_pick(), prop_oneof![
            3 => Just(Ok(())),
            1 => prop::sample::select(vec![PrintFailure::PaperOut, PrintFailure::NoAnswer, PrintFailure::Other]).prop_map(Err),
        ]).prop_map(|(p, q, r)| Op::Printed(p, q, r)),
        1 => prop::option::weighted(0.3, 0u8..3).prop_map(Op::Availability),
        1 => any::<bool>().prop_map(Op::CentralReachable),
        1 => Just(Op::HelpCleared),
    ]
}

/// Whether an effect names this session (in a field or in journal details).
fn mentions(effect: &Effect, id: SessionId) -> bool {
    match effect {
        Effect::Identify { session, .. }
        | Effect::Issue { session, .. }
        | Effect::Print { session, .. }
        | Effect::SessionEnded { session } => *session == id,
        Effect::Journal { detail, .. } => {
            let text = id.to_string();
            detail.iter().any(|(_, v)| v.contains(&text))
        }
        Effect::HelpRequested => false,
    }
}

fn run_ops(ops: Vec<Op>) {
    let mut r = Rig::new();
    let mut previous: Option<SessionId> = None;
    let mut ended: HashSet<SessionId> = HashSet::new();
    // Per session, its request ids in the order they were made; per request id, its action.
    let mut request_ids: HashMap<SessionId, Vec<RequestId>> = HashMap::new();
    let mut actions: HashMap<RequestId, Action> = HashMap::new();
    let mut print_sent: HashSet<SessionId> = HashSet::new();
    let mut codes_in: HashMap<(SessionId, RequestId), Vec<IssuedCode>> = HashMap::new();
    let random = |n: u64| SessionId(Uuid::from_u128((1 << 127) | u128::from(n)));
    for op in ops {
        let current = r.flow.session();
        let resolve = |p: &Pick| match p {
            Pick::Current => current.unwrap_or(random(0)),
            Pick::Previous => previous.unwrap_or(random(1)),
            Pick::Random(n) => random(*n),
        };
        let resolve_req = |q: &ReqPick, session: SessionId| match q {
            ReqPick::Current => request_ids
                .get(&session)
                .and_then(|ids| ids.last().copied())
                .unwrap_or(RequestId::new(Uuid::nil())),
            ReqPick::Random(n) => RequestId::new(Uuid::from_u128(u128::from(*n))),
        };
        let input = match &op {
            Op::Wait(ms) => {
                r.now += ms;
                Input::Tick
            }
            Op::Press(b) => Input::Press(*b),
            Op::CardPresent => Input::CardPresent,
            Op::CardRead(other) => Input::CardRead {
                card: if *other {
                    card_of(OTHER_NAME, OTHER_NUMBER)
                } else {
                    card()
                },
            },
            Op::CardUnreadable => Input::CardUnreadable,
            Op::CardRemoved => Input::CardRemoved,
            Op::Scanned(text) => Input::Scanned(text.clone()),
            Op::Identified(p, result) => Input::Identified {
                session: resolve(p),
                result: result.map(response),
            },
            Op::Issued(p, q, result) => {
                let session = resolve(p);
                let result = result.map(code);
                let request_id = resolve_req(q, session);
                if let Ok(code) = &result {
                    codes_in
                        .entry((session, request_id))
                        .or_default()
                        .push(code.clone());
                }
                Input::Issued {
                    session,
                    request_id,
                    result,
                }
            }
            Op::Printed(p, q, result) => {
                let session = resolve(p);
                Input::Printed {
                    session,
                    request_id: resolve_req(q, session),
                    result: *result,
                }
            }
            Op::Availability(a) => Input::Availability(a.map(|n| match n {
                0 => Unavailable::Printer,
                1 => Unavailable::OutsideHours,
                _ => Unavailable::Staff("维护".into()),
            })),
            Op::CentralReachable(b) => Input::CentralReachable(*b),
            Op::HelpCleared => Input::HelpCleared,
        };
        let out = r.send(input);
        for effect in &out {
            for id in &ended {
                assert!(!mentions(effect, *id), "{effect:?} after {id} ended");
            }
            match effect {
                Effect::Issue {
                    session,
                    request_id,
                    action,
                    ..
                } => {
                    let ids = request_ids.entry(*session).or_default();
                    if ids.last() != Some(request_id) {
                        assert!(!ids.contains(request_id), "a request id came back");
                        ids.push(*request_id);
                    }
                    let action_of = actions.entry(*request_id).or_insert(*action);
                    assert_eq!(action_of, action, "one action per request id");
                    assert!(
                        !print_sent.contains(session),
                        "a new request after a slip was sent"
                    );
                }
                Effect::Print {
                    session,
                    request_id,
                    job,
                } => {
                    // Only a code issued for this very request id (the session's current one).
                    let known = codes_in
                        .get(&(*session, *request_id))
                        .is_some_and(|c| c.contains(&job.code));
                    assert!(known, "printed a code never issued to {session}'s request");
                    let current = request_ids.get(session).and_then(|ids| ids.last());
                    assert_eq!(current, Some(request_id), "a slip for an earlier request");
                    print_sent.insert(*session);
                }
                Effect::SessionEnded { session } => {
                    ended.insert(*session);
                    previous = Some(*session);
                }
                _ => {}
            }
        }
        // A session exists exactly on the session screens; the person only while it lives.
        let screen = r.flow.screen();
        let lobby = matches!(
            screen,
            Screen::Home { .. } | Screen::ChooseLogin | Screen::OutOfService { .. }
        );
        assert_eq!(r.flow.session().is_none(), lobby);
        if let Some(id) = r.flow.session() {
            assert!(!ended.contains(&id), "a session never comes back");
        }
        if let Some(left) = r.flow.countdown(Millis(r.now)) {
            assert!(left <= Timeouts::default().countdown_ms / 1000);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_keep_the_invariants(ops in prop::collection::vec(op(), 0..80)) {
        run_ops(ops);
    }
}

/// The property test's runner on a journey known to reach every stage, so that the generator's
/// pieces are exercised deterministically too.
#[test]
fn property_runner_on_a_full_journey() {
    run_ops(vec![
        Op::Press(Button::Start),
        Op::Press(Button::LoginCard),
        Op::CardPresent,
        Op::CardRead(false),
        Op::Identified(Pick::Current, Ok(Offer::Apply)),
        Op::Press(Button::Confirm),
        Op::Issued(
            Pick::Current,
            ReqPick::Current,
            Err(CentralFailure::Unreachable),
        ),
        Op::Press(Button::Retry),
        Op::Issued(Pick::Current, ReqPick::Current, Ok(1)),
        Op::Printed(Pick::Current, ReqPick::Current, Err(PrintFailure::PaperOut)),
        Op::Press(Button::Retry),
        Op::Printed(Pick::Current, ReqPick::Current, Ok(())),
        Op::Wait(15_000),
        Op::Identified(Pick::Previous, Ok(Offer::Apply)),
        Op::Issued(Pick::Previous, ReqPick::Current, Ok(1)),
        Op::CardRead(true),
        Op::Identified(Pick::Current, Ok(Offer::Reissue)),
        Op::CardRead(false),
        Op::Wait(200_000),
    ]);
}
