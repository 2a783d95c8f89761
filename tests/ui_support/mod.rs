//! Shared by the UI tests: fixtures (people, cards, codes) and [`Rig`], which drives the real
//! session flow and the real screens together, headless: the flow's screen goes to the UI as a
//! frame, touches on the UI (through iced_test's simulator) come back as button presses, and the
//! test plays the central, the reader, the scanner and the printer by feeding the flow inputs.

#![allow(dead_code, unreachable_pub, missing_docs)]
// Test helpers: a panic is a failing test, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use iced::{Settings, Size};
use iced_test::Simulator;
use kiosk::flow::{
    Button, CentralFailure, Ctx, Effect, Flow, Input, Millis, Screen, SessionId, Timeouts,
};
use kiosk::ui::{FONT, FONT_BYTES, Frame, Kiosk, Message, Press, Scale};
use protocol::IdNumber;
use protocol::api::{
    Action, CardKind, CardSex, CodeId, CodeState, IdCardFields, IdentifyResponse, IssuedCode,
    Person, Photo, PrintFailure, RequestId, SessionToken, Validity,
};
use protocol::eligibility::{Eligibility, IneligibleReason};
use protocol::mask::mask_id_number;
use protocol::rules::Offer;
use time::macros::{date, datetime};
use uuid::Uuid;

pub const NAME: &str = "王秀英";
pub const NUMBER: &str = "310101195203140028";

/// The font settings every simulator uses, so that text renders the same on every machine.
pub fn settings() -> Settings {
    Settings {
        fonts: vec![FONT_BYTES.into()],
        default_font: FONT,
        ..Settings::default()
    }
}

/// A simulator over a view, at the design size (1920x1080).
pub fn simulator<'a>(view: iced::Element<'a, Message>) -> Simulator<'a, Message> {
    Simulator::with_size(settings(), Size::new(1920.0, 1080.0), view)
}

pub fn card() -> Box<IdCardFields> {
    Box::new(IdCardFields {
        kind: CardKind::Resident,
        name: NAME.to_owned(),
        id_number: IdNumber::parse(NUMBER).unwrap(),
        sex: CardSex::Female,
        birth_date: date!(1952 - 03 - 14),
        valid_from: date!(2016 - 05 - 20),
        valid_until: None,
    })
}

/// A portrait as the central sends it (a drawn silhouette from the demo data).
pub fn photo() -> Photo {
    let png = central::demo::avatar_png(7, 204, 252);
    Photo {
        mime: "image/png".to_owned(),
        data_base64: base64::engine::general_purpose::STANDARD.encode(png),
    }
}

pub fn next_code() -> Validity {
    Validity {
        issued_on: date!(2026 - 11 - 22),
        expires_on: date!(2027 - 05 - 20),
    }
}

pub fn response(offer: Offer, code: CodeState) -> IdentifyResponse {
    IdentifyResponse {
        session: SessionToken::new("session-token"),
        session_expires_at: datetime!(2026-11-22 10:05 +8),
        person: Person {
            name: NAME.to_owned(),
            id_number_masked: mask_id_number(NUMBER),
            photo: Some(photo()),
            age: 74,
            eligibility: match offer {
                Offer::Nothing(reason) => Eligibility::NotEligible(reason),
                _ => Eligibility::Eligible,
            },
        },
        code,
        offer,
        next_code: next_code(),
    }
}

pub fn active_code() -> CodeState {
    CodeState::Active {
        code_id: CodeId::from_bytes([3; 16]),
        serial: 1,
        issued_on: date!(2026 - 08 - 01),
        expires_on: date!(2027 - 01 - 27),
    }
}

pub fn issued(serial: u16) -> IssuedCode {
    IssuedCode {
        code_id: CodeId::from_bytes([9; 16]),
        kid: 1,
        serial,
        issued_on: date!(2026 - 11 - 22),
        expires_on: date!(2027 - 05 - 20),
        qr_text: "SSM1:TEST".to_owned(),
        replaced: false,
    }
}

pub fn under_60() -> Offer {
    Offer::Nothing(IneligibleReason::UnderAge {
        eligible_from: date!(2050 - 06 - 01),
    })
}

/// The flow and the screens, driven together.
pub struct Rig {
    pub flow: Flow,
    pub kiosk: Kiosk,
    pub now: u64,
    /// Every effect the flow asked for, in order.
    pub effects: Vec<Effect>,
    /// Every button the screens sent.
    pub pressed: Vec<Button>,
}

impl Rig {
    pub fn new() -> Rig {
        let flow = Flow::new(Timeouts::default());
        let kiosk = Kiosk::new(Frame::from_flow(&flow, Millis(0)));
        let mut rig = Rig {
            flow,
            kiosk,
            now: 1_000,
            effects: Vec::new(),
            pressed: Vec::new(),
        };
        rig.refresh();
        rig
    }

    /// Feeds the flow one input (as the engine would) and shows the new frame.
    pub fn input(&mut self, input: Input) {
        let ctx = Ctx {
            now: Millis(self.now),
            fresh: Uuid::new_v4(),
        };
        let out = self.flow.handle(input, ctx);
        self.effects.extend(out);
        self.refresh();
    }

    /// Shows the flow's current frame on the screens (what the engine's snapshot carries).
    pub fn refresh(&mut self) {
        let frame = Frame::from_flow(&self.flow, Millis(self.now));
        let _ = self.kiosk.update(Message::Frame(Box::new(frame)));
    }

    /// Lets `ms` pass, then ticks the flow.
    pub fn wait(&mut self, ms: u64) {
        self.now += ms;
        self.input(Input::Tick);
    }

    pub fn screen(&self) -> Screen {
        self.flow.screen()
    }

    /// Every text the screens show now.
    pub fn texts(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut ui = simulator(self.kiosk.view());
        let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
            if let iced_test::selector::Candidate::Text { content, .. } = candidate {
                found.push(content.to_owned());
            }
            None::<()>
        });
        found
    }

    /// Whether the screens show exactly this text somewhere.
    pub fn shows(&self, text: &str) -> bool {
        simulator(self.kiosk.view()).find(text).is_ok()
    }

    /// Whether some text on the screens contains `part`.
    pub fn shows_part(&self, part: &str) -> bool {
        self.texts().iter().any(|text| text.contains(part))
    }

    /// Asserts that the screens show this text.
    #[track_caller]
    pub fn sees(&self, text: &str) {
        assert!(
            self.shows(text),
            "{text:?} is not on the screen {:?}; it shows {:?}",
            self.screen(),
            self.texts()
        );
    }

    /// Asserts that the screens do not show this text.
    #[track_caller]
    pub fn does_not_see(&self, text: &str) {
        assert!(
            !self.shows(text),
            "{text:?} is on the screen {:?}",
            self.screen()
        );
    }

    /// Touches the button (or text) with this label, through the real view and update; the
    /// buttons the screens send go to the flow. Where the label shows more than once, the one
    /// drawn on top (the last in the tree: the idle dialog's) is touched.
    #[track_caller]
    pub fn touch(&mut self, label: &str) {
        let messages: Vec<Message> = {
            let mut centres = Vec::new();
            let mut ui = simulator(self.kiosk.view());
            let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
                if let iced_test::selector::Candidate::Text {
                    content,
                    visible_bounds: Some(bounds),
                    ..
                } = candidate
                    && content == label
                {
                    centres.push(bounds.center());
                }
                None::<()>
            });
            let Some(centre) = centres.last() else {
                panic!(
                    "cannot touch {label:?} on {:?}: not shown; it shows {:?}",
                    self.screen(),
                    self.texts()
                );
            };
            ui.point_at(*centre);
            let _ = ui.simulate(iced_test::simulator::click());
            ui.into_messages().collect()
        };
        assert!(!messages.is_empty(), "touching {label:?} did nothing");
        for message in messages {
            match self.kiosk.update(message) {
                Some(Press::Resident(button)) => {
                    self.pressed.push(button);
                    self.input(Input::Press(button));
                }
                Some(Press::Staff(button)) => panic!("a resident's screen sent {button:?}"),
                None => {}
            }
        }
    }

    // --- playing the devices and the central ---------------------------------------------

    pub fn session(&self) -> SessionId {
        self.flow.session().expect("a session runs")
    }

    /// The last effect of a kind.
    pub fn last_identify(&self) -> Option<SessionId> {
        self.effects.iter().rev().find_map(|e| match e {
            Effect::Identify { session, .. } => Some(*session),
            _ => None,
        })
    }

    pub fn last_issue(&self) -> Option<(SessionId, RequestId, Action)> {
        self.effects.iter().rev().find_map(|e| match e {
            Effect::Issue {
                session,
                request_id,
                action,
                ..
            } => Some((*session, *request_id, *action)),
            _ => None,
        })
    }

    pub fn last_print(&self) -> Option<(SessionId, RequestId)> {
        self.effects.iter().rev().find_map(|e| match e {
            Effect::Print {
                session,
                request_id,
                ..
            } => Some((*session, *request_id)),
            _ => None,
        })
    }

    pub fn count(&self, pred: impl Fn(&Effect) -> bool) -> usize {
        self.effects.iter().filter(|e| pred(e)).count()
    }

    /// The central answers the last identify.
    pub fn central_identifies(&mut self, result: Result<IdentifyResponse, CentralFailure>) {
        let session = self.last_identify().expect("an identify was asked for");
        self.input(Input::Identified { session, result });
    }

    /// The central answers the last issue.
    pub fn central_issues(&mut self, result: Result<IssuedCode, CentralFailure>) {
        let (session, request_id, _) = self.last_issue().expect("an issue was asked for");
        self.input(Input::Issued {
            session,
            request_id,
            result,
        });
    }

    /// The printer answers the last print.
    pub fn printer_prints(&mut self, result: Result<(), PrintFailure>) {
        let (session, request_id) = self.last_print().expect("a print was asked for");
        self.input(Input::Printed {
            session,
            request_id,
            result,
        });
    }

    /// The flow's screens in the order the UI saw them would be nice, but the flow is the
    /// judge: this asserts the flow's screen is of the expected kind.
    #[track_caller]
    pub fn on(&self, what: fn(&Screen) -> bool) {
        assert!(
            what(&self.screen()),
            "unexpected screen {:?}",
            self.screen()
        );
    }

    pub fn with_scale(mut self, scale: Scale) -> Rig {
        self.kiosk = self.kiosk.with_scale(scale);
        self
    }
}
