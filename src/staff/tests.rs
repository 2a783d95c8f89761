use proptest::prelude::*;

use super::*;

const PIN: &str = "97531864";

fn rules() -> StaffRules {
    StaffRules::default()
}

fn member() -> StaffMember {
    StaffMember {
        name_masked: "李*".into(),
        pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn masked_card() -> idcard::CardView {
    idcard::demo_cards()
        .into_iter()
        .next()
        .unwrap()
        .masked_view()
}

fn staff_card() -> StaffInput {
    StaffInput::Card(Box::new(CardSeen {
        staff: Some(member()),
        masked: masked_card(),
    }))
}

/// Another staff member's card.
fn other_staff_card() -> StaffInput {
    StaffInput::Card(Box::new(CardSeen {
        staff: Some(StaffMember {
            name_masked: "王*".into(),
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXI$b3RoZXI".into(),
        }),
        masked: masked_card(),
    }))
}

fn resident_card() -> StaffInput {
    StaffInput::Card(Box::new(CardSeen {
        staff: None,
        masked: masked_card(),
    }))
}

fn press(button: StaffButton) -> StaffInput {
    StaffInput::Press(button)
}

fn at(ms: u64) -> Millis {
    Millis(ms)
}

/// A machine and a clock.
struct Run {
    staff: Staff,
    now: u64,
}

impl Run {
    fn new() -> Run {
        Run {
            staff: Staff::new(rules(), LockoutRecord::default(), at(0)),
            now: 0,
        }
    }

    fn with(record: LockoutRecord) -> Run {
        Run {
            staff: Staff::new(rules(), record, at(0)),
            now: 0,
        }
    }

    fn send(&mut self, input: StaffInput) -> Vec<StaffEffect> {
        self.staff.handle(input, at(self.now))
    }

    fn wait(&mut self, ms: u64) -> Vec<StaffEffect> {
        self.now += ms;
        self.send(StaffInput::Tick)
    }

    fn screen(&self) -> Option<StaffScreen> {
        self.staff.screen(at(self.now))
    }

    /// Types the PIN and submits it; returns the check's attempt.
    fn type_pin(&mut self, pin: &str) -> u64 {
        for d in pin.bytes() {
            assert!(self.send(press(StaffButton::Digit(d - b'0'))).is_empty());
        }
        let effects = self.send(press(StaffButton::Submit));
        match effects.as_slice() {
            [
                StaffEffect::CheckPin {
                    attempt,
                    pin: typed,
                    pin_hash,
                },
            ] => {
                assert_eq!(typed.expose(), pin);
                assert_eq!(pin_hash, &member().pin_hash);
                *attempt
            }
            other => panic!("expected one CheckPin, got {other:?}"),
        }
    }

    /// Staff card, PIN, right.
    fn enter(&mut self) -> Vec<StaffEffect> {
        assert!(self.send(staff_card()).is_empty());
        let attempt = self.type_pin(PIN);
        self.send(StaffInput::PinChecked { attempt, ok: true })
    }

    /// Staff card (if needed), PIN, wrong.
    fn wrong(&mut self) -> Vec<StaffEffect> {
        if self.staff.is_closed() {
            self.send(staff_card());
        }
        let attempt = self.type_pin("1111");
        self.send(StaffInput::PinChecked { attempt, ok: false })
    }
}

fn journal(kind: JournalKind, detail: &[(&'static str, &str)]) -> StaffEffect {
    StaffEffect::Journal {
        kind,
        detail: detail.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }
}

fn action(name: &str, extra: &[(&'static str, &str)]) -> StaffEffect {
    let mut detail = vec![("staff", "李*"), ("action", name)];
    detail.extend_from_slice(extra);
    journal(JournalKind::StaffAction, &detail)
}

fn open_on(page: Page) -> Option<StaffScreen> {
    Some(StaffScreen::Open {
        staff: "李*".into(),
        page,
    })
}

// ---------------------------------------------------------------------------------------------
// The transition table as a table
// ---------------------------------------------------------------------------------------------

/// Where a row starts.
#[derive(Debug, Clone, Copy)]
enum From {
    Closed,
    ClosedLocked,
    Prompt,
    Pin(&'static str),
    Checking,
    LockedNotice,
    Open(Page),
}

impl From {
    fn run(self) -> Run {
        let mut run = Run::new();
        let lock = |run: &mut Run| {
            for _ in 0..5 {
                run.wrong();
            }
        };
        match self {
            From::Closed => {}
            From::ClosedLocked => {
                lock(&mut run);
                run.send(press(StaffButton::Exit));
            }
            From::Prompt => {
                run.send(press(StaffButton::CornerLongPress));
            }
            From::Pin(digits) => {
                run.send(staff_card());
                for d in digits.bytes() {
                    run.send(press(StaffButton::Digit(d - b'0')));
                }
            }
            From::Checking => {
                run.send(staff_card());
                assert_eq!(run.type_pin("1234"), 1);
            }
            From::LockedNotice => lock(&mut run),
            From::Open(page) => {
                run.enter();
                run.send(press(StaffButton::Open(page)));
            }
        }
        run
    }
}

fn pin_screen(digits: usize, wrong_pin: bool, tries_left: u32) -> Option<StaffScreen> {
    Some(StaffScreen::Pin {
        staff: "李*".into(),
        digits,
        wrong_pin,
        tries_left,
    })
}

#[test]
fn every_row_of_the_transition_table() {
    use StaffButton as B;
    let checking = Some(StaffScreen::Checking {
        staff: "李*".into(),
    });
    let locked = Some(StaffScreen::Locked { seconds_left: 300 });
    let failed_1 = journal(
        JournalKind::StaffLoginFailed,
        &[("staff", "李*"), ("reason", "wrong_pin"), ("failures", "1")],
    );
    let rows: Vec<(From, StaffInput, Option<StaffScreen>, Vec<StaffEffect>)> = vec![
        (
            From::Closed,
            press(B::CornerLongPress),
            Some(StaffScreen::CardPrompt),
            vec![],
        ),
        (
            From::ClosedLocked,
            press(B::CornerLongPress),
            locked.clone(),
            vec![],
        ),
        (From::Closed, staff_card(), pin_screen(0, false, 5), vec![]),
        (From::Prompt, staff_card(), pin_screen(0, false, 5), vec![]),
        (
            From::ClosedLocked,
            staff_card(),
            locked.clone(),
            vec![journal(
                JournalKind::StaffLoginFailed,
                &[
                    ("staff", "李*"),
                    ("reason", "locked_out"),
                    ("seconds_left", "300"),
                ],
            )],
        ),
        (
            From::Closed,
            resident_card(),
            None,
            vec![StaffEffect::ToResident],
        ),
        (
            From::Prompt,
            resident_card(),
            None,
            vec![
                journal(JournalKind::StaffLoginFailed, &[("reason", "unknown_card")]),
                StaffEffect::ToResident,
                StaffEffect::Exited,
            ],
        ),
        (
            From::Pin("12"),
            press(B::Digit(3)),
            pin_screen(3, false, 5),
            vec![],
        ),
        (
            From::Pin("12345678"),
            press(B::Digit(9)),
            pin_screen(8, false, 5),
            vec![],
        ),
        (
            From::Pin("12"),
            press(B::Delete),
            pin_screen(1, false, 5),
            vec![],
        ),
        (
            From::Pin("123"),
            press(B::Submit),
            pin_screen(3, false, 5),
            vec![],
        ),
        (
            From::Pin("1234"),
            press(B::Submit),
            checking.clone(),
            vec![StaffEffect::CheckPin {
                attempt: 1,
                pin_hash: member().pin_hash,
                pin: Pin::new("1234"),
            }],
        ),
        (
            From::Checking,
            StaffInput::PinChecked {
                attempt: 1,
                ok: true,
            },
            open_on(Page::Menu),
            vec![journal(JournalKind::StaffLogin, &[("staff", "李*")])],
        ),
        (
            From::Checking,
            StaffInput::PinChecked {
                attempt: 1,
                ok: false,
            },
            pin_screen(0, true, 4),
            vec![
                failed_1,
                StaffEffect::SaveLockout(LockoutRecord {
                    failures: 1,
                    lockouts: 0,
                    remaining_ms: 0,
                }),
            ],
        ),
        (
            From::Checking,
            StaffInput::PinChecked {
                attempt: 2,
                ok: true,
            },
            checking.clone(),
            vec![],
        ),
        (From::Checking, press(B::Exit), checking.clone(), vec![]),
        (
            From::Prompt,
            press(B::Exit),
            None,
            vec![StaffEffect::Exited],
        ),
        (
            From::Pin("12"),
            press(B::Exit),
            None,
            vec![StaffEffect::Exited],
        ),
        (
            From::LockedNotice,
            press(B::Exit),
            None,
            vec![StaffEffect::Exited],
        ),
        (
            From::LockedNotice,
            staff_card(),
            locked.clone(),
            vec![journal(
                JournalKind::StaffLoginFailed,
                &[
                    ("staff", "李*"),
                    ("reason", "locked_out"),
                    ("seconds_left", "300"),
                ],
            )],
        ),
        (
            From::LockedNotice,
            resident_card(),
            None,
            vec![
                journal(JournalKind::StaffLoginFailed, &[("reason", "unknown_card")]),
                StaffEffect::ToResident,
                StaffEffect::Exited,
            ],
        ),
        (
            From::Pin("12"),
            resident_card(),
            None,
            vec![
                journal(JournalKind::StaffLoginFailed, &[("reason", "unknown_card")]),
                StaffEffect::ToResident,
                StaffEffect::Exited,
            ],
        ),
        (
            From::Pin("12"),
            other_staff_card(),
            Some(StaffScreen::Pin {
                staff: "王*".into(),
                digits: 0,
                wrong_pin: false,
                tries_left: 5,
            }),
            vec![],
        ),
        (From::Checking, resident_card(), checking.clone(), vec![]),
        (From::Checking, other_staff_card(), checking.clone(), vec![]),
        (
            From::Open(Page::Menu),
            press(B::Open(Page::Counts)),
            open_on(Page::Counts),
            vec![],
        ),
        (
            From::Open(Page::TestPrint),
            press(B::TestPrint),
            open_on(Page::TestPrint),
            vec![StaffEffect::TestPrint],
        ),
        (
            From::Open(Page::Sync),
            press(B::ForceSync),
            open_on(Page::Sync),
            vec![action("force_sync", &[]), StaffEffect::ForceSync],
        ),
        (
            From::Open(Page::Service),
            press(B::TakeOutOfService(OutOfServiceReason::NetworkFault)),
            open_on(Page::Service),
            vec![
                journal(
                    JournalKind::OutOfService,
                    &[
                        ("staff", "李*"),
                        ("reason", "network_fault"),
                        ("words", "网络故障"),
                    ],
                ),
                StaffEffect::TakeOutOfService(OutOfServiceReason::NetworkFault),
            ],
        ),
        (
            From::Open(Page::Service),
            press(B::BackInService),
            open_on(Page::Service),
            vec![
                journal(JournalKind::BackInService, &[("staff", "李*")]),
                StaffEffect::BackInService,
            ],
        ),
        (
            From::Open(Page::Menu),
            press(B::ClearHelp),
            open_on(Page::Menu),
            vec![action("clear_help", &[]), StaffEffect::ClearHelp],
        ),
        (
            From::Open(Page::Errors),
            press(B::Exit),
            None,
            vec![action("exit", &[("how", "button")]), StaffEffect::Exited],
        ),
        (
            From::Open(Page::Menu),
            resident_card(),
            open_on(Page::Menu),
            vec![],
        ),
        (
            From::Open(Page::Menu),
            staff_card(),
            open_on(Page::Menu),
            vec![],
        ),
        (
            From::Open(Page::TestCard),
            staff_card(),
            open_on(Page::TestCard),
            vec![action(
                "test_card",
                &[("outcome", "read"), ("card_type", "resident")],
            )],
        ),
        (
            From::Open(Page::Menu),
            press(B::Digit(1)),
            open_on(Page::Menu),
            vec![],
        ),
        (
            From::Open(Page::Menu),
            press(B::CornerLongPress),
            open_on(Page::Menu),
            vec![],
        ),
        (
            From::Pin("12"),
            staff_card(),
            pin_screen(2, false, 5),
            vec![],
        ),
        (
            From::Pin("12"),
            press(B::TestPrint),
            pin_screen(2, false, 5),
            vec![],
        ),
        (
            From::Prompt,
            press(B::ForceSync),
            Some(StaffScreen::CardPrompt),
            vec![],
        ),
        (
            From::Closed,
            press(B::TakeOutOfService(OutOfServiceReason::OtherMaintenance)),
            None,
            vec![],
        ),
        (
            From::Closed,
            StaffInput::Scanned(ScanSeen::of("x")),
            None,
            vec![],
        ),
        (From::Closed, StaffInput::TestPrinted(Ok(())), None, vec![]),
    ];
    for (n, (from, input, screen, effects)) in rows.into_iter().enumerate() {
        let mut run = from.run();
        let got = run.send(input.clone());
        assert_eq!(got, effects, "row {n}: {from:?} + {input:?}");
        assert_eq!(run.screen(), screen, "row {n}: {from:?} + {input:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The table, row by row
// ---------------------------------------------------------------------------------------------

#[test]
fn a_resident_card_at_home_goes_to_the_resident_flow_and_nothing_shows() {
    let mut run = Run::new();
    assert_eq!(run.send(resident_card()), [StaffEffect::ToResident]);
    assert!(run.staff.is_closed());
    assert_eq!(run.screen(), None);
}

#[test]
fn a_staff_card_at_home_opens_the_keypad() {
    let mut run = Run::new();
    assert!(run.send(staff_card()).is_empty());
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Pin {
            staff: "李*".into(),
            digits: 0,
            wrong_pin: false,
            tries_left: 5,
        })
    );
}

#[test]
fn the_corner_opens_the_card_prompt_and_a_resident_card_there_still_serves_the_resident() {
    let mut run = Run::new();
    assert!(run.send(press(StaffButton::CornerLongPress)).is_empty());
    assert_eq!(run.screen(), Some(StaffScreen::CardPrompt));
    assert_eq!(
        run.send(resident_card()),
        [
            journal(JournalKind::StaffLoginFailed, &[("reason", "unknown_card")]),
            StaffEffect::ToResident,
            StaffEffect::Exited,
        ]
    );
    assert!(run.staff.is_closed());

    run.send(press(StaffButton::CornerLongPress));
    assert!(run.send(staff_card()).is_empty());
    assert!(matches!(run.screen(), Some(StaffScreen::Pin { .. })));
}

#[test]
fn the_keypad_takes_four_to_eight_digits() {
    let mut run = Run::new();
    run.send(staff_card());
    for d in [1, 2, 3] {
        run.send(press(StaffButton::Digit(d)));
    }
    assert!(run.send(press(StaffButton::Submit)).is_empty(), "3 digits");
    assert!(run.send(press(StaffButton::Digit(10))).is_empty());
    for d in [4, 5, 6, 7, 8, 9] {
        run.send(press(StaffButton::Digit(d)));
    }
    let Some(StaffScreen::Pin { digits, .. }) = run.screen() else {
        panic!("{:?}", run.screen());
    };
    assert_eq!(digits, 8, "the ninth digit and the non-digit are dropped");
    run.send(press(StaffButton::Delete));
    run.send(press(StaffButton::Delete));
    let effects = run.send(press(StaffButton::Submit));
    let [StaffEffect::CheckPin { pin, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(pin.expose(), "123456");
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Checking {
            staff: "李*".into()
        })
    );
}

#[test]
fn the_right_pin_opens_the_menu_and_is_journaled() {
    let mut run = Run::new();
    assert_eq!(
        run.enter(),
        [journal(JournalKind::StaffLogin, &[("staff", "李*")])]
    );
    assert!(run.staff.is_open());
    assert_eq!(run.screen(), open_on(Page::Menu));
}

#[test]
fn a_wrong_pin_clears_the_digits_and_counts() {
    let mut run = Run::new();
    let effects = run.wrong();
    assert_eq!(
        effects,
        [
            journal(
                JournalKind::StaffLoginFailed,
                &[("staff", "李*"), ("reason", "wrong_pin"), ("failures", "1")]
            ),
            StaffEffect::SaveLockout(LockoutRecord {
                failures: 1,
                lockouts: 0,
                remaining_ms: 0
            }),
        ]
    );
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Pin {
            staff: "李*".into(),
            digits: 0,
            wrong_pin: true,
            tries_left: 4,
        })
    );
    // Typing again clears the "wrong" note; the right PIN then resets the count.
    run.send(press(StaffButton::Digit(9)));
    assert!(matches!(
        run.screen(),
        Some(StaffScreen::Pin {
            wrong_pin: false,
            digits: 1,
            ..
        })
    ));
    run.send(press(StaffButton::Delete));
    let attempt = run.type_pin(PIN);
    assert_eq!(
        run.send(StaffInput::PinChecked { attempt, ok: true }),
        [
            journal(JournalKind::StaffLogin, &[("staff", "李*")]),
            StaffEffect::SaveLockout(LockoutRecord::default()),
        ]
    );
}

#[test]
fn a_late_answer_for_another_attempt_changes_nothing() {
    let mut run = Run::new();
    run.send(staff_card());
    let attempt = run.type_pin(PIN);
    assert!(
        run.send(StaffInput::PinChecked {
            attempt: attempt + 1,
            ok: true
        })
        .is_empty()
    );
    assert!(matches!(run.screen(), Some(StaffScreen::Checking { .. })));
    // Exit and the idle time-out wait for the answer: a wrong PIN is always counted.
    assert!(run.send(press(StaffButton::Exit)).is_empty());
    assert!(run.wait(10 * 60_000).is_empty());
    assert!(matches!(run.screen(), Some(StaffScreen::Checking { .. })));
    run.send(StaffInput::PinChecked { attempt, ok: true });
    assert!(run.staff.is_open());
}

#[test]
fn five_wrong_pins_lock_for_five_minutes_then_entry_opens_again() {
    let mut run = Run::new();
    for n in 1..=4 {
        run.wrong();
        assert!(!run.staff.is_locked(at(run.now)), "after {n}");
    }
    let effects = run.wrong();
    assert_eq!(
        effects,
        [
            journal(
                JournalKind::StaffLoginFailed,
                &[
                    ("staff", "李*"),
                    ("reason", "wrong_pin"),
                    ("failures", "5"),
                    ("locked_seconds", "300")
                ]
            ),
            StaffEffect::SaveLockout(LockoutRecord {
                failures: 0,
                lockouts: 1,
                remaining_ms: 300_000
            }),
        ]
    );
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Locked { seconds_left: 300 })
    );

    // A staff card while locked: no keypad, and the attempt is journaled.
    run.send(press(StaffButton::Exit));
    run.now += 60_000;
    assert_eq!(
        run.send(staff_card()),
        [journal(
            JournalKind::StaffLoginFailed,
            &[
                ("staff", "李*"),
                ("reason", "locked_out"),
                ("seconds_left", "240")
            ]
        )]
    );
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Locked { seconds_left: 240 })
    );
    // The corner shows the lockout too; residents are still served.
    run.send(press(StaffButton::Exit));
    run.send(press(StaffButton::CornerLongPress));
    assert!(matches!(run.screen(), Some(StaffScreen::Locked { .. })));
    run.send(press(StaffButton::Exit));
    assert_eq!(run.send(resident_card()), [StaffEffect::ToResident]);

    // Still locked a moment before the end; open at the end.
    run.now = 300_000 - 1;
    run.send(staff_card());
    assert!(matches!(run.screen(), Some(StaffScreen::Locked { .. })));
    assert_eq!(run.wait(1), [StaffEffect::Exited], "the notice closes");
    assert!(!run.staff.is_locked(at(run.now)));
    assert!(run.send(staff_card()).is_empty());
    assert!(matches!(
        run.screen(),
        Some(StaffScreen::Pin { tries_left: 5, .. })
    ));
}

#[test]
fn each_further_lockout_lasts_twice_as_long_until_an_entry_resets_it() {
    let mut run = Run::new();
    let mut lengths = Vec::new();
    for _ in 0..4 {
        for _ in 0..5 {
            run.wrong();
        }
        let seconds = run.staff.lockout_seconds_left(at(run.now));
        lengths.push(seconds);
        run.now += seconds * 1000;
        run.send(press(StaffButton::Exit));
    }
    assert_eq!(lengths, [300, 600, 1200, 2400]);
    run.enter();
    assert_eq!(
        run.staff.lockout_record(at(run.now)),
        LockoutRecord::default()
    );
    run.send(press(StaffButton::Exit));
    for _ in 0..5 {
        run.wrong();
    }
    assert_eq!(run.staff.lockout_seconds_left(at(run.now)), 300);
}

#[test]
fn lockouts_double_up_to_a_day() {
    let r = rules();
    assert_eq!(r.lockout_for(1), 300_000);
    assert_eq!(r.lockout_for(2), 600_000);
    assert_eq!(r.lockout_for(9), 76_800_000);
    assert_eq!(r.lockout_for(10), 86_400_000);
    assert_eq!(r.lockout_for(64), 86_400_000);
    assert_eq!(r.lockout_for(u32::MAX), 86_400_000);
}

#[test]
fn a_lockout_survives_a_restart_and_cannot_be_stretched_by_the_record() {
    let mut run = Run::with(LockoutRecord {
        failures: 0,
        lockouts: 1,
        remaining_ms: 120_000,
    });
    run.send(staff_card());
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Locked { seconds_left: 120 })
    );
    // A record claiming more than the lockout can last (a clock set back) is capped.
    let run = Run::with(LockoutRecord {
        failures: 0,
        lockouts: 1,
        remaining_ms: 10 * 3_600_000,
    });
    assert_eq!(run.staff.lockout_seconds_left(at(0)), 300);
    // Wrong PINs before the restart still count.
    let mut run = Run::with(LockoutRecord {
        failures: 4,
        lockouts: 2,
        remaining_ms: 0,
    });
    run.send(staff_card());
    assert!(matches!(
        run.screen(),
        Some(StaffScreen::Pin { tries_left: 1, .. })
    ));
    run.wrong();
    assert_eq!(
        run.staff.lockout_seconds_left(at(run.now)),
        1200,
        "the third lockout"
    );
}

#[test]
fn two_idle_minutes_close_every_screen() {
    // The prompt and the keypad close without a journal event; the open mode journals its exit.
    let mut run = Run::new();
    run.send(press(StaffButton::CornerLongPress));
    assert!(run.wait(119_999).is_empty());
    assert_eq!(run.wait(1), [StaffEffect::Exited]);
    assert_eq!(run.screen(), None);

    let mut run = Run::new();
    run.send(staff_card());
    run.wait(60_000);
    run.send(press(StaffButton::Digit(1)));
    assert!(run.wait(119_999).is_empty(), "a digit resets the timer");
    assert_eq!(run.wait(1), [StaffEffect::Exited]);

    let mut run = Run::new();
    run.enter();
    assert_eq!(run.staff.auto_exit_in(at(run.now)), Some(120));
    run.wait(100_000);
    run.send(press(StaffButton::Open(Page::Devices)));
    assert!(run.wait(100_000).is_empty(), "a press resets the timer");
    assert_eq!(run.staff.auto_exit_in(at(run.now)), Some(20));
    assert_eq!(
        run.wait(20_000),
        [action("exit", &[("how", "idle")]), StaffEffect::Exited]
    );
    assert!(run.staff.is_closed());
}

#[test]
fn pages_and_actions_once_open() {
    let mut run = Run::new();
    run.enter();
    for page in Page::ALL {
        assert!(run.send(press(StaffButton::Open(page))).is_empty());
        assert_eq!(run.screen(), open_on(page));
    }
    assert_eq!(
        run.send(press(StaffButton::ForceSync)),
        [action("force_sync", &[]), StaffEffect::ForceSync]
    );
    assert_eq!(
        run.send(press(StaffButton::TakeOutOfService(
            OutOfServiceReason::PrinterMaintenance
        ))),
        [
            journal(
                JournalKind::OutOfService,
                &[
                    ("staff", "李*"),
                    ("reason", "printer_maintenance"),
                    ("words", "打印机维护")
                ]
            ),
            StaffEffect::TakeOutOfService(OutOfServiceReason::PrinterMaintenance),
        ]
    );
    assert_eq!(
        run.send(press(StaffButton::BackInService)),
        [
            journal(JournalKind::BackInService, &[("staff", "李*")]),
            StaffEffect::BackInService,
        ]
    );
    assert_eq!(
        run.send(press(StaffButton::ClearHelp)),
        [action("clear_help", &[]), StaffEffect::ClearHelp]
    );
    assert_eq!(
        run.send(press(StaffButton::Exit)),
        [action("exit", &[("how", "button")]), StaffEffect::Exited]
    );
}

#[test]
fn the_test_print_runs_once_at_a_time_and_its_outcome_is_journaled() {
    let mut run = Run::new();
    run.enter();
    run.send(press(StaffButton::Open(Page::TestPrint)));
    assert_eq!(
        run.send(press(StaffButton::TestPrint)),
        [StaffEffect::TestPrint]
    );
    assert!(
        run.send(press(StaffButton::TestPrint)).is_empty(),
        "one at a time"
    );
    assert_eq!(run.staff.test_print(), Some(&TestPrintResult::Printing));
    assert_eq!(
        run.send(StaffInput::TestPrinted(Ok(()))),
        [action("test_print", &[("outcome", "printed")])]
    );
    assert_eq!(run.staff.test_print(), Some(&TestPrintResult::Printed));
    assert!(
        run.send(StaffInput::TestPrinted(Ok(()))).is_empty(),
        "not asked for"
    );
    run.send(press(StaffButton::TestPrint));
    assert_eq!(
        run.send(StaffInput::TestPrinted(Err("paper_out".into()))),
        [action(
            "test_print",
            &[("outcome", "failed"), ("error", "paper_out")]
        )]
    );
    assert_eq!(
        run.staff.test_print(),
        Some(&TestPrintResult::Failed("paper_out".into()))
    );
}

#[test]
fn cards_and_scans_go_to_their_test_pages_and_are_swallowed_elsewhere() {
    let mut run = Run::new();
    run.enter();
    // On the menu a card (even a resident's) and a scan do nothing, and never reach residents.
    assert!(run.send(resident_card()).is_empty());
    assert!(
        run.send(StaffInput::Scanned(ScanSeen::of("SSM1:ABC")))
            .is_empty()
    );
    assert_eq!(run.staff.test_card(), None);

    run.send(press(StaffButton::Open(Page::TestCard)));
    assert_eq!(
        run.send(resident_card()),
        [action(
            "test_card",
            &[("outcome", "read"), ("card_type", "resident")]
        )]
    );
    assert_eq!(
        run.staff.test_card(),
        Some(&TestCardResult::Read(masked_card()))
    );
    assert_eq!(
        run.send(StaffInput::CardUnreadable("card removed".into())),
        [action(
            "test_card",
            &[("outcome", "unreadable"), ("error", "card removed")]
        )]
    );

    run.send(press(StaffButton::Open(Page::TestScan)));
    let long = "SSM1:".to_owned() + &"A".repeat(134);
    assert_eq!(
        run.send(StaffInput::Scanned(ScanSeen::of(&long))),
        [action(
            "test_scan",
            &[("kind", "offline_code"), ("length", "139")]
        )]
    );
    assert_eq!(
        run.staff.test_scan(),
        Some(&ScanSeen {
            kind: ScanKind::OfflineCode,
            length: 139,
            preview: "SSM1:A…".into(),
        })
    );
    // The results are dropped when the mode closes.
    run.send(press(StaffButton::Exit));
    assert_eq!(run.staff.test_card(), None);
    assert_eq!(run.staff.test_scan(), None);
}

#[test]
fn cards_on_the_keypad_and_the_lockout_notice() {
    // The same staff card again keeps the digits; another one starts over, and the PIN typed
    // then is checked against that card's hash.
    let mut run = Run::new();
    run.send(staff_card());
    run.send(press(StaffButton::Digit(1)));
    assert!(run.send(staff_card()).is_empty());
    assert_eq!(run.screen(), pin_screen(1, false, 5));
    assert!(run.send(other_staff_card()).is_empty());
    for d in [2, 4, 6, 8] {
        run.send(press(StaffButton::Digit(d)));
    }
    let effects = run.send(press(StaffButton::Submit));
    let [StaffEffect::CheckPin { pin, pin_hash, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(pin.expose(), "2468", "only the digits typed for this card");
    assert!(
        pin_hash.ends_with("b3RoZXI"),
        "checked against the other card's hash"
    );

    // A resident's card on the keypad: staff mode closes, the card goes to the resident.
    let mut run = Run::new();
    run.send(staff_card());
    run.send(press(StaffButton::Digit(5)));
    let effects = run.send(resident_card());
    assert!(effects.contains(&StaffEffect::ToResident), "{effects:?}");
    assert!(run.staff.is_closed() && run.screen().is_none());

    // On the lockout notice: a staff card is refused and journaled each time; the lockout does
    // not grow; a resident's card closes the notice and serves the resident.
    let mut run = Run::new();
    for _ in 0..5 {
        run.wrong();
    }
    run.now += 60_000;
    let effects = run.send(staff_card());
    assert_eq!(
        effects,
        [journal(
            JournalKind::StaffLoginFailed,
            &[
                ("staff", "李*"),
                ("reason", "locked_out"),
                ("seconds_left", "240"),
            ],
        )]
    );
    assert_eq!(
        run.screen(),
        Some(StaffScreen::Locked { seconds_left: 240 })
    );
    assert_eq!(run.staff.lockout_record(at(run.now)).remaining_ms, 240_000);
    let effects = run.send(resident_card());
    assert_eq!(
        effects,
        [
            journal(JournalKind::StaffLoginFailed, &[("reason", "unknown_card")]),
            StaffEffect::ToResident,
            StaffEffect::Exited,
        ]
    );
    assert!(run.staff.is_locked(at(run.now)), "the lockout runs on");
    // Once it has ended (no tick yet), a staff card on the notice opens the keypad.
    let mut run = Run::new();
    for _ in 0..5 {
        run.wrong();
    }
    run.now += 300_000;
    assert!(run.send(staff_card()).is_empty());
    assert_eq!(run.screen(), pin_screen(0, false, 5));
}

#[test]
fn nothing_but_check_pin_carries_the_pin_and_debug_never_shows_it() {
    let mut run = Run::new();
    run.send(staff_card());
    for d in PIN.bytes() {
        run.send(press(StaffButton::Digit(d - b'0')));
    }
    let debug = format!("{:?}", run.staff);
    assert!(debug.contains("Pin(..)"), "{debug}");
    assert!(!debug.contains(PIN), "{debug}");
    assert!(!format!("{:?}", run.screen()).contains(PIN));
    let effects = run.send(press(StaffButton::Submit));
    let debug = format!("{effects:?}");
    assert!(!debug.contains(PIN), "{debug}");
    assert!(debug.contains("Pin(..)"));
    assert!(!format!("{:?}", run.staff).contains(PIN));
    assert!(
        !format!("{:?}", member()).contains("argon2"),
        "no hash in logs"
    );
}

#[test]
fn scans_are_summarised_without_their_text() {
    assert_eq!(
        ScanSeen::of("tok"),
        ScanSeen {
            kind: ScanKind::Other,
            length: 3,
            preview: "tok".into()
        }
    );
    let token = "SSB1.0123456789abcdef";
    let seen = ScanSeen::of(token);
    assert_eq!(seen.kind, ScanKind::Other);
    assert_eq!(seen.preview, "SSB1.0…");
    assert!(!format!("{seen:?}").contains("0123456789"));
}

#[test]
fn out_of_service_reasons_are_a_fixed_list_with_words() {
    let words: Vec<&str> = OutOfServiceReason::ALL.iter().map(|r| r.words()).collect();
    assert_eq!(words, ["打印机维护", "读卡器故障", "网络故障", "其他维护"]);
    let codes: Vec<&str> = OutOfServiceReason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            "printer_maintenance",
            "reader_fault",
            "network_fault",
            "other_maintenance"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Properties over random input sequences
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Step {
    Wait(u64),
    Press(StaffButton),
    StaffCard,
    ResidentCard,
    Unreadable,
    Scan,
    /// The answer to the latest check (or to a stale one), right or wrong.
    Answer {
        latest: bool,
        ok: bool,
    },
    Printed(bool),
}

fn button() -> impl Strategy<Value = StaffButton> {
    prop_oneof![
        Just(StaffButton::CornerLongPress),
        (0u8..12).prop_map(StaffButton::Digit),
        Just(StaffButton::Delete),
        Just(StaffButton::Submit),
        proptest::sample::select(Page::ALL.to_vec()).prop_map(StaffButton::Open),
        Just(StaffButton::TestPrint),
        Just(StaffButton::ForceSync),
        proptest::sample::select(OutOfServiceReason::ALL.to_vec())
            .prop_map(StaffButton::TakeOutOfService),
        Just(StaffButton::BackInService),
        Just(StaffButton::ClearHelp),
        Just(StaffButton::Exit),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u64..400_000).prop_map(Step::Wait),
        6 => button().prop_map(Step::Press),
        2 => Just(Step::StaffCard),
        1 => Just(Step::ResidentCard),
        1 => Just(Step::Unreadable),
        1 => Just(Step::Scan),
        3 => (any::<bool>(), any::<bool>()).prop_map(|(latest, ok)| Step::Answer { latest, ok }),
        1 => any::<bool>().prop_map(Step::Printed),
    ]
}

/// What a run produced, with every PIN digit replaced by the same digit: two runs that differ
/// only in the digits typed must be identical here.
#[derive(Debug, PartialEq)]
struct Trace {
    debug: Vec<String>,
    pins: Vec<String>,
}

/// Runs the steps; `digit` maps every typed digit (so two runs can type different PINs).
fn trace(
    steps: &[Step],
    digit: impl Fn(u8) -> u8,
) -> (Trace, Staff, Vec<(Step, Vec<StaffEffect>)>) {
    let mut staff = Staff::new(rules(), LockoutRecord::default(), at(0));
    let mut now = 0u64;
    let mut latest = 0u64;
    let mut out = Trace {
        debug: Vec::new(),
        pins: Vec::new(),
    };
    let mut log = Vec::new();
    for step in steps {
        let input = match step {
            Step::Wait(ms) => {
                now += ms;
                StaffInput::Tick
            }
            Step::Press(StaffButton::Digit(d)) if *d <= 9 => {
                StaffInput::Press(StaffButton::Digit(digit(*d)))
            }
            Step::Press(button) => StaffInput::Press(*button),
            Step::StaffCard => staff_card(),
            Step::ResidentCard => resident_card(),
            Step::Unreadable => StaffInput::CardUnreadable("no answer".into()),
            Step::Scan => StaffInput::Scanned(ScanSeen::of("SSM1:XYZ")),
            Step::Answer { latest: true, ok } => StaffInput::PinChecked {
                attempt: latest,
                ok: *ok,
            },
            Step::Answer { latest: false, ok } => StaffInput::PinChecked {
                attempt: latest.wrapping_sub(1),
                ok: *ok,
            },
            Step::Printed(ok) => {
                StaffInput::TestPrinted(if *ok { Ok(()) } else { Err("x".into()) })
            }
        };
        let effects = staff.handle(input, at(now));
        for effect in &effects {
            if let StaffEffect::CheckPin { attempt, pin, .. } = effect {
                latest = *attempt;
                out.pins.push(pin.expose().to_owned());
            }
        }
        out.debug
            .push(format!("{effects:?} {:?} {staff:?}", staff.screen(at(now))));
        log.push((step.clone(), effects));
    }
    (out, staff, log)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Non-interference: what the machine shows, logs and emits does not depend on the digits
    /// typed, except the PIN inside CheckPin (which Debug shows as `Pin(..)`).
    #[test]
    fn the_pin_leaks_nowhere_but_check_pin(steps in proptest::collection::vec(step(), 0..80)) {
        let (a, ..) = trace(&steps, |d| d);
        let (b, ..) = trace(&steps, |d| 9 - d);
        prop_assert_eq!(&a.debug, &b.debug);
        prop_assert_eq!(a.pins.len(), b.pins.len());
        for (pa, pb) in a.pins.iter().zip(&b.pins) {
            prop_assert!(protocol::api::valid_pin(pa), "{}", pa.len());
            let flipped: String = pa.bytes().map(|c| char::from(b'9' - (c - b'0'))).collect();
            prop_assert_eq!(&flipped, pb);
        }
    }

    /// The invariants of entry, lockout and auto-exit over random inputs.
    #[test]
    fn entry_lockout_and_auto_exit_hold(steps in proptest::collection::vec(step(), 0..120)) {
        let (_, _, log) = trace(&steps, |d| d);
        // Replay, checking each step against the state before it.
        let mut staff = Staff::new(rules(), LockoutRecord::default(), at(0));
        let mut now = 0u64;
        let mut latest = 0u64;
        let mut wrong_in_a_row = 0u32;
        for (step, expected) in log {
            let before_closed = staff.is_closed();
            let before_open = staff.is_open();
            let before_screen = staff.screen(at(now));
            let was_locked = staff.is_locked(at(now));
            let input = match &step {
                Step::Wait(ms) => { now += ms; StaffInput::Tick }
                Step::Press(button) => StaffInput::Press(*button),
                Step::StaffCard => staff_card(),
                Step::ResidentCard => resident_card(),
                Step::Unreadable => StaffInput::CardUnreadable("no answer".into()),
                Step::Scan => StaffInput::Scanned(ScanSeen::of("SSM1:XYZ")),
                Step::Answer { latest: l, ok } => StaffInput::PinChecked {
                    attempt: if *l { latest } else { latest.wrapping_sub(1) },
                    ok: *ok,
                },
                Step::Printed(ok) => StaffInput::TestPrinted(if *ok { Ok(()) } else { Err("x".into()) }),
            };
            let checking = matches!(before_screen, Some(StaffScreen::Checking { .. }));
            let effects = staff.handle(input.clone(), at(now));
            prop_assert_eq!(&effects, &expected, "deterministic");
            for effect in &effects {
                if let StaffEffect::CheckPin { attempt, .. } = effect { latest = *attempt; }
            }
            let answered = checking && matches!(&input, StaffInput::PinChecked { attempt, .. } if *attempt == latest);

            // Maintenance mode opens only on the right PIN for the check in progress.
            if staff.is_open() && !before_open {
                prop_assert!(answered && matches!(input, StaffInput::PinChecked { ok: true, .. }), "opened without a right answer");
            }
            // Never past the keypad while locked.
            if staff.is_locked(at(now)) {
                prop_assert!(
                    !matches!(
                        staff.screen(at(now)),
                        Some(StaffScreen::Pin { .. } | StaffScreen::Checking { .. } | StaffScreen::Open { .. })
                    ),
                    "locked but {:?}",
                    staff.screen(at(now))
                );
            }
            if was_locked && before_closed {
                prop_assert!(!matches!(staff.screen(at(now)), Some(StaffScreen::Pin { .. })), "keypad while locked");
            }
            // Five wrong answers in a row lock; a right one resets the count.
            if answered {
                if matches!(input, StaffInput::PinChecked { ok: true, .. }) {
                    wrong_in_a_row = 0;
                } else {
                    wrong_in_a_row += 1;
                    if wrong_in_a_row == 5 {
                        prop_assert!(staff.is_locked(at(now)));
                        prop_assert!(matches!(staff.screen(at(now)), Some(StaffScreen::Locked { .. })), "no lockout notice");
                        wrong_in_a_row = 0;
                    } else {
                        prop_assert!(!staff.is_locked(at(now)));
                    }
                }
            }
            // Auto-exit: after a tick, nothing but a check in progress is older than 2 minutes.
            if matches!(input, StaffInput::Tick) && !staff.is_closed() && !matches!(staff.screen(at(now)), Some(StaffScreen::Checking { .. })) {
                prop_assert!(staff.auto_exit_in(at(now)).is_some_and(|s| s > 0));
            }
            // Exited exactly when something closed.
            let exited = effects.contains(&StaffEffect::Exited);
            prop_assert_eq!(exited, !before_closed && staff.is_closed());
            // A card goes to residents only from home or a screen before the menu (card prompt,
            // keypad, lockout notice; never while a PIN is checked), and only a resident's card;
            // a resident's card there always does, and closes staff mode.
            let before_menu = matches!(
                before_screen,
                Some(StaffScreen::CardPrompt | StaffScreen::Pin { .. } | StaffScreen::Locked { .. })
            );
            if effects.contains(&StaffEffect::ToResident) {
                prop_assert!(matches!(step, Step::ResidentCard));
                prop_assert!(before_closed || before_menu);
            }
            if matches!(step, Step::ResidentCard) && before_menu {
                prop_assert!(effects.contains(&StaffEffect::ToResident));
                prop_assert!(staff.is_closed());
            }
            // A staff card while locked is journaled as locked out.
            if matches!(step, Step::StaffCard) && was_locked && (before_closed || before_menu) {
                let refused = effects.iter().any(|e| matches!(e, StaffEffect::Journal { kind: JournalKind::StaffLoginFailed, detail } if detail.contains(&("reason", "locked_out".to_owned()))));
                prop_assert!(refused, "{:?}", effects);
            }
            if matches!(step, Step::ResidentCard) && before_closed {
                prop_assert_eq!(&effects, &vec![StaffEffect::ToResident]);
            }
            // Actions only once open.
            for effect in &effects {
                if matches!(effect, StaffEffect::ForceSync | StaffEffect::TakeOutOfService(_) | StaffEffect::BackInService | StaffEffect::ClearHelp | StaffEffect::TestPrint) {
                    prop_assert!(before_open);
                }
            }
        }
    }
}
