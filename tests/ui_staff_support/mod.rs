//! Shared by the maintenance-screen tests: fixtures of what the engine gathers for the staff
//! pages (devices, counts, sync, errors), and [`StaffRig`], which drives the real resident flow,
//! the real staff machine and the real screens together, headless, routing cards and presses
//! between the flow and the staff machine the way the engine does (a card at home goes to the
//! staff machine first; staff presses go to it; while staff mode shows, resident presses are
//! dropped; out of service and back, and a cleared help request, reach the flow). The test plays
//! the reader, the printer and the PIN check.

#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kiosk::flow::{Button, Ctx, Effect, Flow, Input, Millis, Screen, Timeouts, Unavailable};
use kiosk::staff::{
    CardSeen, DeviceLine, LockoutRecord, RecentError, ScanSeen, Staff, StaffButton, StaffEffect,
    StaffInput, StaffListSource, StaffMember, StaffRules, StaffScreen, StaffView, SyncView,
    TestPrintResult, TodayCounts,
};
use kiosk::ui::{Frame, Kiosk, Message, Press};
use protocol::api::{DeviceKind, DeviceState, JournalKind, PaperState, StaffEntry};
use time::macros::datetime;
use uuid::Uuid;

use crate::ui_support::simulator;

/// The demo staff member's PIN (their card is `kiosk::sample::demo_staff_card()`).
pub const STAFF_PIN: &str = kiosk::sample::DEMO_STAFF_PIN;

/// The demo staff member's allow-list entry.
pub fn staff_entry() -> StaffEntry {
    let card = kiosk::sample::demo_staff_card().unwrap();
    StaffEntry::new(&card.id_number, &card.name, STAFF_PIN, [7; 16], [9; 16]).unwrap()
}

/// The devices as the engine reports them: the reader fine, the scanner never heard from, the
/// printer degraded with paper near its end.
pub fn devices() -> Vec<DeviceLine> {
    vec![
        DeviceLine {
            device: DeviceKind::Idcard,
            state: Some(DeviceState::Connected),
            last_error: None,
        },
        DeviceLine {
            device: DeviceKind::Scanner,
            state: Some(DeviceState::Failed),
            last_error: Some("/dev/ttyACM0: No such file or directory".to_owned()),
        },
        DeviceLine {
            device: DeviceKind::Printer,
            state: Some(DeviceState::Degraded),
            last_error: Some("paper-near-end".to_owned()),
        },
    ]
}

pub fn counts() -> TodayCounts {
    TodayCounts {
        applies: 12,
        reissues: 3,
        printed: 14,
        refusals: 4,
        refusals_by_reason: vec![("under_age".to_owned(), 3), ("no_photo".to_owned(), 1)],
        print_failures: 1,
        print_failures_by_reason: vec![("paper_out".to_owned(), 1)],
    }
}

pub fn sync() -> SyncView {
    SyncView {
        reachable: Some(false),
        last_heartbeat_at: Some(datetime!(2026-11-22 02:14:05 UTC)),
        backlog: 37,
        unsettled: 1,
        unreported_outcomes: 0,
        last_error: Some(
            "the central service is unreachable: tcp connect error: Connection refused".to_owned(),
        ),
        config_version: Some(4),
        staff_list: StaffListSource::CachedCentral,
    }
}

pub fn recent_errors() -> Vec<RecentError> {
    vec![
        RecentError {
            at: datetime!(2026-11-22 02:10:00 UTC),
            kind: JournalKind::PrintFailed,
            summary: "reason=paper_out detail=paper end sensor".to_owned(),
        },
        RecentError {
            at: datetime!(2026-11-22 01:55:31 UTC),
            kind: JournalKind::StaffLoginFailed,
            summary: "staff=林*岚 reason=wrong_pin failures=1".to_owned(),
        },
        RecentError {
            at: datetime!(2026-11-22 01:20:07 UTC),
            kind: JournalKind::Error,
            summary: "step=identify error=central unreachable".to_owned(),
        },
    ]
}

/// A view of `screen` with the fixtures above: in service, no help request, no test results.
pub fn view(screen: StaffScreen) -> StaffView {
    StaffView {
        screen,
        auto_exit_in: Some(118),
        lockout_seconds_left: 0,
        devices: devices(),
        paper: PaperState::NearEnd,
        in_service: true,
        out_of_service_reason: None,
        resident_screen_blocked: false,
        help_requested: false,
        counts: counts(),
        sync: sync(),
        recent_errors: recent_errors(),
        test_print: None,
        test_card: None,
        test_scan: None,
    }
}

/// What the engine publishes around a machine's screen (the parts the machine does not own are
/// the fixtures above).
pub fn view_of(
    staff: &Staff,
    now: Millis,
    flow: &Flow,
    in_service: &Option<String>,
) -> Option<StaffView> {
    Some(StaffView {
        screen: staff.screen(now)?,
        auto_exit_in: staff.auto_exit_in(now),
        lockout_seconds_left: staff.lockout_seconds_left(now),
        devices: devices(),
        paper: PaperState::NearEnd,
        in_service: in_service.is_none(),
        out_of_service_reason: in_service.clone(),
        resident_screen_blocked: in_service.is_some(),
        help_requested: flow.help_requested(),
        counts: counts(),
        sync: sync(),
        recent_errors: recent_errors(),
        test_print: staff.test_print().cloned(),
        test_card: staff.test_card().cloned(),
        test_scan: staff.test_scan().cloned(),
    })
}

/// The flow, the staff machine and the screens, routed as the engine routes them.
pub struct StaffRig {
    pub flow: Flow,
    pub staff: Staff,
    pub kiosk: Kiosk,
    pub allow_list: Vec<StaffEntry>,
    pub now: u64,
    /// Staff's reason while out of service.
    pub out_of_service: Option<String>,
    pub effects: Vec<Effect>,
    pub staff_effects: Vec<StaffEffect>,
    /// Everything the screens sent.
    pub sent: Vec<Press>,
    /// A PIN check asked for and not answered yet.
    pub pending_pin: Option<(u64, bool)>,
    /// The lockout as last stored.
    pub lockout: LockoutRecord,
}

impl StaffRig {
    pub fn new() -> StaffRig {
        let flow = Flow::new(Timeouts::default());
        let mut rig = StaffRig {
            kiosk: Kiosk::new(Frame::from_flow(&flow, Millis(0))),
            flow,
            staff: Staff::new(StaffRules::default(), LockoutRecord::default(), Millis(0)),
            allow_list: vec![staff_entry()],
            now: 1_000,
            out_of_service: None,
            effects: Vec::new(),
            staff_effects: Vec::new(),
            sent: Vec::new(),
            pending_pin: None,
            lockout: LockoutRecord::default(),
        };
        rig.refresh();
        rig
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            now: Millis(self.now),
            fresh: Uuid::new_v4(),
        }
    }

    /// What the engine publishes now, shown on the screens.
    pub fn refresh(&mut self) {
        let now = Millis(self.now);
        let frame = Frame {
            staff: view_of(&self.staff, now, &self.flow, &self.out_of_service).map(Box::new),
            ..Frame::from_flow(&self.flow, now)
        };
        let _ = self.kiosk.update(Message::Frame(Box::new(frame)));
    }

    /// One input to the flow.
    pub fn input(&mut self, input: Input) {
        let out = self.flow.handle(input, self.ctx());
        self.effects.extend(out);
        self.refresh();
    }

    /// One input to the staff machine; carries out its effects as the engine does. Returns
    /// whether the machine handed a card to the resident flow.
    pub fn staff_input(&mut self, input: StaffInput) -> bool {
        let out = self.staff.handle(input, Millis(self.now));
        let mut to_resident = false;
        for effect in out {
            self.staff_effects.push(effect.clone());
            match effect {
                StaffEffect::CheckPin {
                    attempt,
                    pin_hash,
                    pin,
                } => {
                    let ok = protocol::api::verify_staff_pin(&pin_hash, pin.expose());
                    self.pending_pin = Some((attempt, ok));
                }
                StaffEffect::TakeOutOfService(reason) => {
                    self.out_of_service = Some(reason.words().to_owned());
                    self.input(Input::Availability(Some(Unavailable::Staff(
                        reason.words().to_owned(),
                    ))));
                }
                StaffEffect::BackInService => {
                    self.out_of_service = None;
                    self.input(Input::Availability(None));
                }
                StaffEffect::ClearHelp => self.input(Input::HelpCleared),
                StaffEffect::SaveLockout(record) => self.lockout = record,
                StaffEffect::ToResident => to_resident = true,
                StaffEffect::Journal { .. }
                | StaffEffect::TestPrint
                | StaffEffect::ForceSync
                | StaffEffect::Exited => {}
            }
        }
        self.refresh();
        to_resident
    }

    /// A card is placed and read (the engine holds a card at home until it is read, then asks
    /// the staff machine first).
    pub fn place_card(&mut self, card: &idcard::IdCard) {
        let at_home = self.flow.session().is_none();
        if self.staff.is_closed() && !at_home {
            self.input(Input::CardPresent);
            self.resident_card(card);
            return;
        }
        let staff = self
            .allow_list
            .iter()
            .find(|entry| entry.matches_id_number(&card.id_number))
            .map(|entry| StaffMember {
                name_masked: entry.name_masked.clone(),
                pin_hash: entry.pin_hash.clone(),
            });
        let seen = CardSeen {
            staff,
            masked: card.masked_view(),
        };
        if self.staff_input(StaffInput::Card(Box::new(seen))) {
            self.input(Input::CardPresent);
            self.resident_card(card);
        }
    }

    fn resident_card(&mut self, card: &idcard::IdCard) {
        self.input(Input::CardRead {
            card: Box::new(kiosk::devices::card_fields(card)),
        });
    }

    /// A scan (to the staff machine while staff mode shows, else to the flow).
    pub fn scan(&mut self, text: &str) {
        if self.staff.is_closed() {
            self.input(Input::Scanned(text.to_owned()));
        } else {
            self.staff_input(StaffInput::Scanned(ScanSeen::of(text)));
        }
    }

    /// The PIN check answers (as argon2 said).
    pub fn pin_checked(&mut self) {
        let (attempt, ok) = self.pending_pin.take().expect("a PIN check was asked for");
        self.staff_input(StaffInput::PinChecked { attempt, ok });
    }

    /// The printer answers the test print.
    pub fn test_printed(&mut self, result: Result<(), String>) {
        assert!(
            self.staff_effects.contains(&StaffEffect::TestPrint),
            "no test print was asked for"
        );
        self.staff_input(StaffInput::TestPrinted(result));
    }

    /// Lets `ms` pass, then ticks the staff machine and the flow (as the engine's tick does).
    pub fn wait(&mut self, ms: u64) {
        self.now += ms;
        self.staff_input(StaffInput::Tick);
        self.input(Input::Tick);
    }

    /// Sends what the screens sent on, as the engine's handle does.
    pub fn send(&mut self, press: Press) {
        self.sent.push(press);
        match press {
            Press::Resident(button) => {
                if self.staff.is_closed() {
                    self.input(Input::Press(button));
                }
            }
            Press::Staff(button) => {
                if button == StaffButton::CornerLongPress && self.flow.session().is_some() {
                    return;
                }
                self.staff_input(StaffInput::Press(button));
            }
        }
    }

    /// Hands a message to the screens (as iced would) and sends on what they answer.
    pub fn message(&mut self, message: Message) {
        if let Some(press) = self.kiosk.update(message) {
            self.send(press);
        }
    }

    // --- what the screens show -----------------------------------------------------------

    pub fn screen(&self) -> Screen {
        self.flow.screen()
    }

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

    pub fn shows(&self, text: &str) -> bool {
        self.texts().iter().any(|t| t == text)
    }

    pub fn shows_part(&self, part: &str) -> bool {
        self.texts().iter().any(|t| t.contains(part))
    }

    #[track_caller]
    pub fn sees(&self, text: &str) {
        assert!(
            self.shows(text),
            "{text:?} is not on the screen; it shows {:?}",
            self.texts()
        );
    }

    #[track_caller]
    pub fn sees_part(&self, part: &str) {
        assert!(
            self.shows_part(part),
            "nothing on the screen contains {part:?}; it shows {:?}",
            self.texts()
        );
    }

    #[track_caller]
    pub fn does_not_see(&self, text: &str) {
        assert!(!self.shows(text), "{text:?} is on the screen");
    }

    /// Touches the text with this label (the last one drawn, if it shows more than once),
    /// through the real view and update.
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
                    "cannot touch {label:?}: not shown; it shows {:?}",
                    self.texts()
                );
            };
            ui.point_at(*centre);
            let _ = ui.simulate(iced_test::simulator::click());
            ui.into_messages().collect()
        };
        assert!(!messages.is_empty(), "touching {label:?} did nothing");
        for message in messages {
            self.message(message);
        }
    }

    /// Types a PIN on the keypad and presses 确定 (the check is left pending).
    #[track_caller]
    pub fn type_pin(&mut self, pin: &str) {
        for digit in pin.chars() {
            self.touch(&digit.to_string());
        }
        self.touch("确定");
    }

    /// The demo staff member gets in: card, PIN, the check.
    #[track_caller]
    pub fn sign_in(&mut self) {
        self.place_card(&kiosk::sample::demo_staff_card().unwrap());
        self.sees("请输入密码");
        self.type_pin(STAFF_PIN);
        self.pin_checked();
        self.sees("维护模式 · 维护菜单");
    }

    pub fn test_print_result(&self) -> Option<TestPrintResult> {
        self.staff.test_print().cloned()
    }

    /// How many times the screens sent this resident button.
    pub fn resident_presses(&self, button: Button) -> usize {
        self.sent
            .iter()
            .filter(|p| **p == Press::Resident(button))
            .count()
    }
}
