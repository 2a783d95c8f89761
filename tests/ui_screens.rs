//! Pictures of every screen (the residents' and the hall staff's maintenance screens), rendered
//! headless (iced_test, tiny-skia) at 1920x1080 with the bundled font, and compared with the
//! ones checked into `docs/screens/`. A missing picture is written (and the test passes), except
//! under CI (`CI=true`), where a missing picture fails the test; to redraw them all after
//! changing the screens, run with `KIOSK_UPDATE_SCREENS=1`, look at them, and commit them.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod ui_staff_support;
mod ui_support;

use iced::{Size, Theme};
use iced_test::Simulator;
use kiosk::flow::{FlowError, Screen, Unavailable};
use kiosk::staff::{
    OutOfServiceReason, Page, ScanSeen, StaffScreen, StaffView, TestCardResult, TestPrintResult,
};
use kiosk::ui::sim_panel::{SimDevices, SimPanel, Suishen};
use kiosk::ui::{Frame, Kiosk, Lang, Message, Scale};
use protocol::api::{CodeState, PrintFailure};
use protocol::eligibility::IneligibleReason;
use protocol::rules::Offer;
use ui_support::*;

/// The folder the pictures live in.
const FOLDER: &str = "docs/screens";

/// An operator's notice from the central's config (`central set-notice`).
const NOTICE: &str = "3月15日（周六）9:00-12:00 系统维护，暂停服务。";

fn frame(screen: Screen) -> Frame {
    Frame {
        screen,
        countdown: None,
        help_requested: false,
        staff: None,
        notice: None,
    }
}

/// A maintenance screen over home.
fn staff(view: StaffView) -> Frame {
    Frame {
        staff: Some(Box::new(view)),
        ..frame(Screen::Home {
            notice_offline: false,
        })
    }
}

fn open(page: Page) -> StaffView {
    ui_staff_support::view(StaffScreen::Open {
        staff: "林*岚".to_owned(),
        page,
    })
}

/// The maintenance screens' pictures.
fn staff_pictures() -> Vec<(&'static str, Frame, Lang)> {
    use Lang::{En, Zh};
    let view = ui_staff_support::view;
    let card = idcard::demo_cards()
        .into_iter()
        .next()
        .unwrap()
        .masked_view();
    vec![
        (
            "26-staff-card-prompt",
            staff(view(StaffScreen::CardPrompt)),
            Zh,
        ),
        (
            "27-staff-pin-wrong",
            staff(view(StaffScreen::Pin {
                staff: "林*岚".to_owned(),
                digits: 2,
                wrong_pin: true,
                tries_left: 3,
            })),
            Zh,
        ),
        (
            "28-staff-checking",
            staff(StaffView {
                auto_exit_in: None,
                ..view(StaffScreen::Checking {
                    staff: "林*岚".to_owned(),
                })
            }),
            Zh,
        ),
        (
            "29-staff-locked",
            staff(StaffView {
                lockout_seconds_left: 287,
                ..view(StaffScreen::Locked { seconds_left: 287 })
            }),
            Zh,
        ),
        (
            "30-staff-menu-help-requested",
            staff(StaffView {
                help_requested: true,
                ..open(Page::Menu)
            }),
            Zh,
        ),
        ("31-staff-devices", staff(open(Page::Devices)), Zh),
        (
            "32-staff-test-print",
            staff(StaffView {
                test_print: Some(TestPrintResult::Printed),
                ..open(Page::TestPrint)
            }),
            Zh,
        ),
        (
            "33-staff-test-card",
            staff(StaffView {
                test_card: Some(TestCardResult::Read(card)),
                ..open(Page::TestCard)
            }),
            Zh,
        ),
        (
            "34-staff-test-scan",
            staff(StaffView {
                test_scan: Some(ScanSeen::of(&format!("SSM1:{}", "7".repeat(134)))),
                ..open(Page::TestScan)
            }),
            Zh,
        ),
        ("35-staff-counts", staff(open(Page::Counts)), Zh),
        ("36-staff-sync", staff(open(Page::Sync)), Zh),
        ("37-staff-service", staff(open(Page::Service)), Zh),
        (
            "38-staff-service-out",
            staff(StaffView {
                in_service: false,
                out_of_service_reason: Some(OutOfServiceReason::PrinterMaintenance.words().into()),
                resident_screen_blocked: true,
                ..open(Page::Service)
            }),
            Zh,
        ),
        ("39-staff-errors", staff(open(Page::Errors)), Zh),
        (
            "40-staff-auto-exit",
            staff(StaffView {
                auto_exit_in: Some(25),
                ..open(Page::Devices)
            }),
            Zh,
        ),
        ("41-staff-menu-english", staff(open(Page::Menu)), En),
    ]
}

fn confirm(offer: Offer, code: CodeState) -> Screen {
    let answer = response(offer, code);
    Screen::Confirm {
        person: answer.person,
        code: answer.code,
        offer: answer.offer,
        next_code: answer.next_code,
    }
}

/// Every picture: its file name and the frame it shows, in Chinese unless it says English.
fn pictures() -> Vec<(&'static str, Frame, Lang)> {
    use Lang::{En, Zh};
    let error = |error, can_retry| Screen::Error { error, can_retry };
    vec![
        (
            "01-home",
            frame(Screen::Home {
                notice_offline: false,
            }),
            Zh,
        ),
        (
            "01b-home-notice",
            Frame {
                notice: Some(NOTICE.to_owned()),
                ..frame(Screen::Home {
                    notice_offline: false,
                })
            },
            Zh,
        ),
        (
            "02-home-central-unreachable",
            frame(Screen::Home {
                notice_offline: true,
            }),
            Zh,
        ),
        (
            "03-home-english",
            frame(Screen::Home {
                notice_offline: false,
            }),
            En,
        ),
        ("04-choose-login", frame(Screen::ChooseLogin), Zh),
        ("05-wait-card", frame(Screen::WaitCard { retry: false }), Zh),
        (
            "06-wait-card-again",
            frame(Screen::WaitCard { retry: true }),
            Zh,
        ),
        ("07-wait-scan", frame(Screen::WaitScan), Zh),
        ("08-reading", frame(Screen::Reading), Zh),
        ("09-identifying", frame(Screen::Identifying), Zh),
        (
            "10-confirm-apply",
            frame(confirm(Offer::Apply, CodeState::None)),
            Zh,
        ),
        (
            "11-confirm-reissue",
            frame(confirm(Offer::Reissue, active_code())),
            Zh,
        ),
        (
            "12-confirm-english",
            frame(confirm(Offer::Apply, CodeState::None)),
            En,
        ),
        (
            "13-not-eligible-under-60",
            frame(Screen::NotEligible {
                reason: match under_60() {
                    Offer::Nothing(reason) => reason,
                    _ => unreachable!(),
                },
            }),
            Zh,
        ),
        (
            "14-not-eligible-no-photo",
            frame(Screen::NotEligible {
                reason: IneligibleReason::NoPhoto,
            }),
            Zh,
        ),
        ("15-wrong-data", frame(Screen::WrongData), Zh),
        (
            "16-wrong-data-staff-coming",
            Frame {
                help_requested: true,
                ..frame(Screen::WrongData)
            },
            Zh,
        ),
        ("17-issuing", frame(Screen::Issuing), Zh),
        ("18-printing", frame(Screen::Printing), Zh),
        (
            "19-done-card-on-reader",
            frame(Screen::Done {
                card_on_reader: true,
                serial: 1,
            }),
            Zh,
        ),
        (
            "20-error-central-unreachable",
            frame(error(FlowError::CentralUnreachable, true)),
            Zh,
        ),
        (
            "21-error-paper-out",
            frame(error(FlowError::PrintFailed(PrintFailure::PaperOut), true)),
            Zh,
        ),
        (
            "22-error-card-expired",
            frame(error(FlowError::CardExpired, false)),
            Zh,
        ),
        (
            "23-idle-countdown",
            Frame {
                countdown: Some(15),
                ..frame(confirm(Offer::Apply, CodeState::None))
            },
            Zh,
        ),
        (
            "24-out-of-service",
            frame(Screen::OutOfService {
                reason: Unavailable::Staff("设备维护".to_owned()),
            }),
            Zh,
        ),
    ]
    .into_iter()
    .chain(staff_pictures())
    .collect()
}

fn update_requested() -> bool {
    std::env::var_os("KIOSK_UPDATE_SCREENS").is_some_and(|v| !v.is_empty())
}

/// Whether this runs under CI, where every picture must already be checked in.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn check(name: &str, snapshot: iced_test::simulator::Snapshot) -> Result<(), iced_test::Error> {
    let base = std::path::Path::new(FOLDER).join(name);
    let file = base.with_file_name(format!("{name}-tiny-skia.png"));
    if update_requested() {
        let _ = std::fs::remove_file(&file);
    } else {
        assert!(
            file.exists() || !under_ci(),
            "{} is missing: draw it with KIOSK_UPDATE_SCREENS=1 outside CI, look at it, and commit it",
            file.display()
        );
    }
    assert!(
        snapshot.matches_image(&base)?,
        "{name} does not look like {FOLDER}/{name}-tiny-skia.png (redraw with KIOSK_UPDATE_SCREENS=1)"
    );
    Ok(())
}

#[test]
fn every_screen_looks_as_pictured() {
    for (name, frame, lang) in pictures() {
        // Half the design size at iced_test's 2x: exactly 1920x1080 pixels.
        // As a resident gets there: English is chosen on home.
        let mut kiosk = Kiosk::new(Frame::default()).with_scale(Scale(0.5));
        if lang == Lang::En {
            let _ = kiosk.update(Message::Home(
                kiosk::ui::screens::home::Message::ToggleLanguage,
            ));
        }
        let _ = kiosk.update(Message::Frame(Box::new(frame)));
        assert_eq!(kiosk.lang(), lang, "{name}");
        let mut ui: Simulator<'_, Message> =
            Simulator::with_size(settings(), Size::new(960.0, 540.0), kiosk.view());
        let snapshot = ui.snapshot(&Theme::Light).unwrap();
        check(name, snapshot).unwrap();
    }
}

#[test]
fn the_simulator_panel_looks_as_pictured() {
    let devices = SimDevices {
        reader: Some(idcard::SimulatedReader::new("reader").handle()),
        scanner: Some(scanner::SimulatedScanner::new().handle()),
        printer: Some(printer::SimulatedPrinter::new().handle()),
    };
    let suishen = Suishen {
        citizens: vec![
            ("王秀英".to_owned(), "310101195203140028".to_owned()),
            ("周晓明".to_owned(), "310101199001010010".to_owned()),
        ],
        mint: std::sync::Arc::new(|_| Ok("SUISHEN-DEMO".to_owned())),
    };
    let panel = SimPanel::new(devices, Some(suishen))
        .unwrap()
        .with_central(std::sync::Arc::new(|_| Ok(())));
    let mut ui = Simulator::with_size(settings(), Size::new(620.0, 920.0), panel.view());
    check("25-simulator-panel", ui.snapshot(&Theme::Light).unwrap()).unwrap();
}

#[test]
fn the_picture_list_names_every_file() {
    // docs/screens/README.md shows the pictures: keep it in step with this test.
    let readme = std::fs::read_to_string(format!("{FOLDER}/README.md")).unwrap();
    for (name, _, _) in pictures() {
        assert!(
            readme.contains(&format!("{name}-tiny-skia.png")),
            "{name} is not listed"
        );
    }
    // Every picture in the folder (the central's pages' too) is shown as an image with a
    // caption: a line of its own before the image.
    let lines: Vec<&str> = readme.lines().collect();
    for entry in std::fs::read_dir(FOLDER).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if !file.ends_with(".png") {
            continue;
        }
        let at = lines
            .iter()
            .position(|l| l.starts_with("![") && l.ends_with(&format!("]({file})")))
            .unwrap_or_else(|| panic!("{file} is not shown as an image"));
        let image = lines[at];
        assert!(
            image.len() > format!("![]({file})").len(),
            "{file} has no alt text"
        );
        assert!(
            at >= 2 && lines[at - 1].is_empty() && !lines[at - 2].trim().is_empty(),
            "{file} has no caption above it"
        );
    }
    assert!(readme.contains("25-simulator-panel-tiny-skia.png"));
}

#[test]
fn no_text_a_resident_sees_is_smaller_than_body_text() {
    // iced lays a line of text out 1.3 times its size high: a 32 px text is 41.6 px high.
    let smallest_line = kiosk::ui::theme::rules::MIN_BODY * 1.3 - 0.5;
    let with_help = pictures().into_iter().map(|(name, frame, lang)| {
        let frame = Frame {
            help_requested: true,
            ..frame
        };
        (name, frame, lang)
    });
    // The longest notice an operator can set, beside the unreachable notice, in both languages.
    let longest = |lang| {
        let frame = Frame {
            notice: Some("系统维护".repeat(central::admin::NOTICE_MAX_CHARS / 4)),
            ..frame(Screen::Home {
                notice_offline: true,
            })
        };
        ("home-longest-notice", frame, lang)
    };
    let extra = [longest(Lang::Zh), longest(Lang::En)];
    for (name, frame, lang) in pictures().into_iter().chain(with_help).chain(extra) {
        let mut kiosk = Kiosk::new(Frame::default());
        if lang == Lang::En {
            let _ = kiosk.update(Message::Home(
                kiosk::ui::screens::home::Message::ToggleLanguage,
            ));
        }
        let _ = kiosk.update(Message::Frame(Box::new(frame)));
        let mut heights = Vec::new();
        let mut ui = Simulator::with_size(settings(), Size::new(1920.0, 1080.0), kiosk.view());
        let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
            if let iced_test::selector::Candidate::Text {
                content, bounds, ..
            } = candidate
            {
                heights.push((content.to_owned(), bounds));
            }
            None::<()>
        });
        assert!(!heights.is_empty(), "{name}");
        // Nothing is pushed off the screen or drawn over something else (the idle dialog is
        // meant to cover the page).
        if kiosk.frame().countdown.is_none() {
            for (i, (a, bounds_a)) in heights.iter().enumerate() {
                assert!(
                    bounds_a.y + bounds_a.height <= 1080.5,
                    "{name}: {a:?} is off the screen"
                );
                for (b, bounds_b) in heights.iter().skip(i + 1) {
                    assert!(
                        bounds_a
                            .intersection(bounds_b)
                            .is_none_or(|r| r.width * r.height < 1.0),
                        "{name} (help {}): {a:?} overlaps {b:?}",
                        kiosk.frame().help_requested
                    );
                }
            }
        }
        for (content, bounds) in heights {
            let height = bounds.height;
            assert!(
                height >= smallest_line,
                "{name} (help {}): {content:?} is {height} px high",
                kiosk.frame().help_requested
            );
        }
    }
}

#[test]
fn back_to_start_is_on_every_residents_screen_but_home_and_out_of_service() {
    // Home needs none, and 暂停服务 stands in for home while no session can start: there is
    // nowhere to go back to (the screen would only show itself again).
    let mut checked = 0;
    for (name, frame, lang) in pictures() {
        if frame.staff.is_some() {
            continue;
        }
        let lobby = matches!(
            frame.screen,
            Screen::Home { .. } | Screen::OutOfService { .. }
        );
        let mut kiosk = Kiosk::new(Frame::default());
        if lang == Lang::En {
            let _ = kiosk.update(Message::Home(
                kiosk::ui::screens::home::Message::ToggleLanguage,
            ));
        }
        let _ = kiosk.update(Message::Frame(Box::new(frame)));
        let label = kiosk::ui::Text::GoHome.get(lang);
        let mut ui = Simulator::with_size(settings(), Size::new(1920.0, 1080.0), kiosk.view());
        assert_eq!(ui.find(label).is_ok(), !lobby, "{name}: {label}");
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
}

/// Whether `outer` holds `inner` (half a pixel of slack).
fn holds(outer: &iced::Rectangle, inner: &iced::Rectangle) -> bool {
    outer.x <= inner.x + 0.5
        && outer.y <= inner.y + 0.5
        && outer.x + outer.width + 0.5 >= inner.x + inner.width
        && outer.y + outer.height + 0.5 >= inner.y + inner.height
}

/// The space between two rectangles that do not overlap (0 if they do).
fn gap(a: &iced::Rectangle, b: &iced::Rectangle) -> f32 {
    let dx = (b.x - (a.x + a.width)).max(a.x - (b.x + b.width));
    let dy = (b.y - (a.y + a.height)).max(a.y - (b.y + b.height));
    dx.max(dy).max(0.0)
}

#[test]
fn headings_and_buttons_keep_their_sizes_on_every_residents_screen() {
    // Measured on the drawn screens at 1920x1080, not only as theme constants: the screen's
    // heading (its first text below the header) is at least 56 px, every button at least
    // 120 px tall and at least 24 px from the next.
    use kiosk::ui::Text as T;
    use kiosk::ui::theme::{HEADER_HEIGHT, rules};
    let labels = [
        T::Start,
        T::OtherLanguage,
        T::LoginCard,
        T::LoginSuishen,
        T::Apply,
        T::Reissue,
        T::WrongData,
        T::Retry,
        T::Reprint,
        T::GoHome,
        T::CallStaff,
        T::Continue,
    ];
    let mut buttons_seen = 0;
    for (name, frame, lang) in pictures() {
        if frame.staff.is_some() {
            continue;
        }
        let dialog = frame.countdown.is_some();
        let mut kiosk = Kiosk::new(Frame::default());
        if lang == Lang::En {
            let _ = kiosk.update(Message::Home(
                kiosk::ui::screens::home::Message::ToggleLanguage,
            ));
        }
        let _ = kiosk.update(Message::Frame(Box::new(frame)));
        let mut texts = Vec::new();
        let mut containers = Vec::new();
        let mut ui = Simulator::with_size(settings(), Size::new(1920.0, 1080.0), kiosk.view());
        let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
            use iced_test::selector::Candidate;
            match candidate {
                Candidate::Text {
                    content, bounds, ..
                } => texts.push((content.to_owned(), bounds)),
                Candidate::Container { bounds, .. } => containers.push(bounds),
                _ => {}
            }
            None::<()>
        });

        if !dialog {
            let (heading, bounds) = texts
                .iter()
                .filter(|(_, b)| b.y >= HEADER_HEIGHT)
                .min_by(|(_, a), (_, b)| a.y.total_cmp(&b.y))
                .unwrap_or_else(|| panic!("{name}: no text below the header"));
            assert!(
                bounds.height >= rules::MIN_HEADING * 1.3 - 0.5,
                "{name}: the heading {heading:?} is {} px high",
                bounds.height
            );
        }

        // A button is the smallest container around its label with room above it (the button's
        // padding, or the centring of a label with a hint under it; the column holding label and
        // hint starts where the label does).
        let buttons: Vec<(&str, iced::Rectangle)> = texts
            .iter()
            .filter(|(content, _)| labels.iter().any(|l| l.get(lang) == content))
            .map(|(content, label)| {
                let button = containers
                    .iter()
                    .filter(|c| holds(c, label) && c.y < label.y - 0.5)
                    .min_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
                    .unwrap_or_else(|| panic!("{name}: {content:?} is in no button"));
                (content.as_str(), *button)
            })
            .collect();
        assert!(!buttons.is_empty(), "{name}: no button");
        for (label, bounds) in &buttons {
            assert!(
                bounds.height >= rules::MIN_TARGET - 0.5,
                "{name}: {label:?} is {} px tall",
                bounds.height
            );
        }
        // Under the idle dialog the page's buttons are covered (and cannot be touched).
        if !dialog {
            for (i, (a, bounds_a)) in buttons.iter().enumerate() {
                for (b, bounds_b) in buttons.iter().skip(i + 1) {
                    assert!(
                        gap(bounds_a, bounds_b) >= rules::MIN_TARGET_GAP - 0.5,
                        "{name}: {a:?} and {b:?} are {} px apart",
                        gap(bounds_a, bounds_b)
                    );
                }
            }
        }
        buttons_seen += buttons.len();
    }
    assert!(buttons_seen > 40, "{buttons_seen}");
}

#[test]
fn staff_touch_targets_stay_clear_of_the_simulator_panel() {
    // On a fullscreen demo the simulator panel covers the top right of the screen: every button
    // of a maintenance screen is left of it or in the footer.
    use kiosk::ui::Text as T;
    let reach = kiosk::ui::theme::staff::REACH;
    let mut labels: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let mut texts = vec![
        T::StaffPinDelete,
        T::StaffPinSubmit,
        T::TestPrintButton,
        T::SyncNow,
        T::ServiceBackIn,
        T::StaffClearHelp,
        T::StaffCancel,
        T::StaffBackToMenu,
        T::StaffExit,
        T::StaffKeepOpen,
    ];
    for page in kiosk::ui::staff::menu::PAGES {
        texts.push(kiosk::ui::staff::page_name(page));
    }
    for reason in OutOfServiceReason::ALL {
        texts.push(kiosk::ui::staff::service::reason_words(reason));
    }
    for text in texts {
        labels.push(text.zh().to_owned());
        labels.push(text.en().to_owned());
    }
    let mut checked = 0;
    for (name, frame, lang) in staff_pictures() {
        let mut kiosk = Kiosk::new(Frame::default());
        if lang == Lang::En {
            let _ = kiosk.update(Message::Home(
                kiosk::ui::screens::home::Message::ToggleLanguage,
            ));
        }
        let _ = kiosk.update(Message::Frame(Box::new(frame)));
        let mut ui = Simulator::with_size(settings(), Size::new(1920.0, 1080.0), kiosk.view());
        let _ = ui.find(|candidate: iced_test::selector::Candidate<'_>| {
            if let iced_test::selector::Candidate::Text {
                content, bounds, ..
            } = candidate
                && labels.iter().any(|label| label == content)
            {
                checked += 1;
                assert!(
                    bounds.x + bounds.width <= reach || bounds.y >= 920.0,
                    "{name}: {content:?} is under the simulator panel at {bounds:?}"
                );
            }
            None::<()>
        });
    }
    assert!(checked > 50, "{checked}");
}
