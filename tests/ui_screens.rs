//! Pictures of every screen, rendered headless (iced_test, tiny-skia) at 1920x1080 with the
//! bundled font, and compared with the ones checked into `docs/screens/`. A missing picture is
//! written (and the test passes); to redraw them all after changing the screens, run with
//! `KIOSK_UPDATE_SCREENS=1`, look at them, and commit them.

mod ui_support;

use iced::{Size, Theme};
use iced_test::Simulator;
use kiosk::flow::{FlowError, Screen, Unavailable};
use kiosk::ui::sim_panel::{SimDevices, SimPanel, Suishen};
use kiosk::ui::{Frame, Kiosk, Lang, Message, Scale};
use protocol::api::{CodeState, PrintFailure};
use protocol::eligibility::IneligibleReason;
use protocol::rules::Offer;
use ui_support::*;

/// The folder the pictures live in.
const FOLDER: &str = "docs/screens";

fn frame(screen: Screen) -> Frame {
    Frame {
        screen,
        countdown: None,
        help_requested: false,
    }
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
}

fn update_requested() -> bool {
    std::env::var_os("KIOSK_UPDATE_SCREENS").is_some_and(|v| !v.is_empty())
}

fn check(name: &str, snapshot: iced_test::simulator::Snapshot) -> Result<(), iced_test::Error> {
    let base = std::path::Path::new(FOLDER).join(name);
    if update_requested() {
        let _ = std::fs::remove_file(base.with_file_name(format!("{name}-tiny-skia.png")));
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
    let panel = SimPanel::new(devices, Some(suishen)).unwrap();
    let mut ui = Simulator::with_size(settings(), Size::new(620.0, 920.0), panel.view());
    check("25-simulator-panel", ui.snapshot(&Theme::Light).unwrap()).unwrap();
}

#[test]
fn the_picture_list_names_every_file() {
    // docs/screens/README.md lists the pictures: keep it in step with this test.
    let readme = std::fs::read_to_string(format!("{FOLDER}/README.md")).unwrap();
    for (name, _, _) in pictures() {
        assert!(
            readme.contains(&format!("{name}-tiny-skia.png")),
            "{name} is not listed"
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
    for (name, frame, lang) in pictures().into_iter().chain(with_help) {
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
