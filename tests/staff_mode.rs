//! Hall-staff maintenance mode through the real engine: a staff card and PIN open it, its pages
//! and actions work on the real parts, every staff action reaches the central's journal, and
//! residents see what staff decide (out of service, help cleared). Cards placed on the keypad
//! and the lockout notice; the auto-exit, the lockout's end and its doubling on shortened rules
//! (`Engine::with_staff_rules`), and today's counts and recent errors as the pages read them
//! from the journal. A resident's 呼叫工作人员
//! reaches the central at once, not with the next regular heartbeat.
//!
//! Real parts: the central over HTTPS with mutual TLS (in this process, its own runtime), the
//! staff list enrolled with `central::admin::add_staff` and pulled by the kiosk, the TCP printer
//! emulator (the test slip decoded by zbarimg), the journal on disk; cards are placed on the
//! simulated reader and QR codes shown to the simulated scanner.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::time::Duration;

use kiosk::config::Config;
use kiosk::engine::{Core, Engine, EngineHandle, Snapshot};
use kiosk::flow::{Button, Screen, Unavailable};
use kiosk::staff::{
    OutOfServiceReason, Page, ScanKind, StaffButton, StaffListSource, StaffRules, StaffScreen,
    StaffView, TestCardResult, TestPrintResult,
};
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use protocol::api::{DeviceKind, HeartbeatRequest};
use support::{Central, Reader};

/// A fictional staff member: not among the demo citizens.
const STAFF_ID: &str = "310101198003150014";
const STAFF_NAME: &str = "欧阳明月";
const PIN: &str = "2468";

/// The staff member's card: a demo card with their number and name.
fn staff_card() -> idcard::IdCard {
    let mut card = idcard::demo_cards().into_iter().nth(1).unwrap();
    card.id_number = protocol::IdNumber::parse(STAFF_ID).unwrap();
    card.name = STAFF_NAME.into();
    card
}

/// A resident's card (demo card 0, eligible).
fn resident_card() -> idcard::IdCard {
    idcard::demo_cards().into_iter().next().unwrap()
}

/// A kiosk running in this process.
struct Kiosk {
    runtime: tokio::runtime::Runtime,
    core: Option<Core>,
    handle: EngineHandle,
    engine: Option<tokio::task::JoinHandle<()>>,
}

impl Kiosk {
    fn start(config: &Path) -> Kiosk {
        Kiosk::start_with(config, StaffRules::default())
    }

    /// A kiosk whose staff mode runs on these (shorter) rules.
    fn start_with(config: &Path, rules: StaffRules) -> Kiosk {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = Config::load(config).unwrap();
        let (core, handle, engine) = runtime.block_on(async {
            let core = Core::open(config).await.unwrap();
            let (engine, handle) = Engine::with_staff_rules(&core, rules).unwrap();
            let engine = tokio::spawn(engine.run());
            (core, handle, engine)
        });
        Kiosk {
            runtime,
            core: Some(core),
            handle,
            engine: Some(engine),
        }
    }

    /// Stops the engine and the core, sending what is left for a few seconds.
    fn stop(mut self) -> bool {
        self.handle.stop();
        let engine = self.engine.take().unwrap();
        let core = self.core.take().unwrap();
        self.runtime.block_on(async {
            engine.await.unwrap();
            core.close(Duration::from_secs(10)).await
        })
    }

    fn flush(&self) -> bool {
        let core = self.core.as_ref().unwrap();
        self.runtime
            .block_on(core.sync.flush(Duration::from_secs(20)))
    }

    /// Waits (up to 20 s) for a snapshot that satisfies `pred`.
    #[track_caller]
    fn wait(&self, what: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let mut snapshots = self.handle.snapshots.clone();
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let snapshot = snapshots.borrow_and_update().clone();
                if pred(&snapshot) {
                    return snapshot;
                }
                match tokio::time::timeout_at(deadline, snapshots.changed()).await {
                    Ok(Ok(())) => {}
                    _ => panic!("never saw {what}; last: {snapshot:?}"),
                }
            }
        })
    }

    /// Waits for the staff view to satisfy `pred`.
    #[track_caller]
    fn wait_staff(&self, what: &str, pred: impl Fn(&StaffView) -> bool) -> StaffView {
        self.wait(what, |s| s.staff.as_ref().is_some_and(&pred))
            .staff
            .unwrap()
    }

    /// Waits until the kiosk has pulled the central's config (and so its staff list).
    fn wait_for_central_config(&self) {
        let core = self.core.as_ref().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while core.sync.state().config.is_none() {
            assert!(std::time::Instant::now() < deadline, "no config pulled");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The engine adopts it at its next tick.
        std::thread::sleep(Duration::from_millis(600));
    }

    fn place(&self, card: idcard::IdCard) {
        let reader = self.handle.sim.reader.as_ref().unwrap();
        reader.remove();
        reader.place(card);
    }

    fn remove_card(&self) {
        self.handle.sim.reader.as_ref().unwrap().remove();
    }

    fn type_pin(&self, pin: &str) {
        for d in pin.bytes() {
            self.handle.staff(StaffButton::Digit(d - b'0'));
        }
        self.handle.staff(StaffButton::Submit);
    }

    /// Staff card, keypad, PIN: maintenance mode open on the menu.
    #[track_caller]
    fn enter_staff(&self) -> StaffView {
        self.place(staff_card());
        self.wait_staff("the PIN keypad", |v| {
            matches!(v.screen, StaffScreen::Pin { digits: 0, .. })
        });
        self.type_pin(PIN);
        self.wait_staff("the menu", |v| {
            matches!(&v.screen, StaffScreen::Open { page: Page::Menu, staff } if staff == &protocol::mask::mask_name(STAFF_NAME))
        })
    }

    /// Leaves maintenance mode and lifts the card.
    fn exit_staff(&self) {
        self.handle.staff(StaffButton::Exit);
        self.wait("staff mode closed", |s| s.staff.is_none());
        self.remove_card();
    }
}

/// A central with the staff member enrolled, a kiosk configured for it, a printer emulator.
struct Setup {
    dir: tempfile::TempDir,
    central: Central,
    printer: TcpPrinterEmulator,
    config: std::path::PathBuf,
}

impl Setup {
    fn new(kiosk_id: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let central = Central::start(&dir.path().join("central"));
        let certs = central.provision(kiosk_id, &dir.path().join("certs"));
        central::admin::add_staff(&central.data, STAFF_ID, STAFF_NAME, PIN).unwrap();
        let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
        let config = support::write_config(
            dir.path(),
            kiosk_id,
            &[central.url()],
            &certs,
            &Reader::Simulated,
            &printer.url(),
        );
        Setup {
            dir,
            central,
            printer,
            config,
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// The kiosk's last heartbeat at the central.
    fn heartbeat(&self, kiosk_id: &str) -> Option<HeartbeatRequest> {
        let store = self.central.data.store().unwrap();
        store
            .kiosks()
            .unwrap()
            .into_iter()
            .find(|(k, _)| k.kiosk_id == kiosk_id)
            .and_then(|(_, h)| h)
            .map(|h| h.report)
    }

    /// Waits (up to 20 s) for the central's last heartbeat to satisfy `pred`.
    #[track_caller]
    fn wait_heartbeat(&self, kiosk_id: &str, what: &str, pred: impl Fn(&HeartbeatRequest) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(report) = self.heartbeat(kiosk_id)
                && pred(&report)
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the central never heard {what}: {:?}",
                self.heartbeat(kiosk_id)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The journal events the central holds for a kiosk: (kind, detail).
    fn central_journal(&self, kiosk_id: &str) -> Vec<(String, serde_json::Value)> {
        let db = rusqlite::Connection::open_with_flags(
            self.central.data.path().join("central.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut statement = db
            .prepare("SELECT kind, detail_json FROM journal WHERE kiosk_id = ?1 ORDER BY at")
            .unwrap();
        statement
            .query_map([kiosk_id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .unwrap()
            .map(|r| {
                let (kind, detail) = r.unwrap();
                (kind, serde_json::from_str(&detail).unwrap())
            })
            .collect()
    }
}

fn staff_actions(journal: &[(String, serde_json::Value)]) -> Vec<String> {
    journal
        .iter()
        .filter(|(kind, _)| kind == "staff_action")
        .map(|(_, d)| d["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn staff_enter_with_card_and_pin_and_every_action_reaches_the_central() {
    const K: &str = "K-STAFF";
    let setup = Setup::new(K);
    let kiosk = Kiosk::start(&setup.config);
    kiosk.wait_for_central_config();

    // Entry: the staff card opens the keypad, not a resident session.
    kiosk.place(staff_card());
    let view = kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    assert_eq!(
        view.screen,
        StaffScreen::Pin {
            staff: protocol::mask::mask_name(STAFF_NAME),
            digits: 0,
            wrong_pin: false,
            tries_left: 5,
        }
    );
    let snapshot = kiosk.handle.snapshots.borrow().clone();
    assert_eq!(
        snapshot.session, None,
        "no resident session for a staff card"
    );
    assert!(matches!(snapshot.screen, Screen::Home { .. }));
    assert_eq!(view.sync.staff_list, StaffListSource::Central);
    // Digits typed show as a count only.
    kiosk.handle.staff(StaffButton::Digit(2));
    kiosk.handle.staff(StaffButton::Digit(4));
    let view = kiosk.wait_staff("two digits", |v| {
        matches!(v.screen, StaffScreen::Pin { digits: 2, .. })
    });
    // The screen holds a count, never the digits (the rest of the view carries times and
    // counters that may contain "24" by chance).
    assert_eq!(
        view.screen,
        StaffScreen::Pin {
            staff: protocol::mask::mask_name(STAFF_NAME),
            digits: 2,
            wrong_pin: false,
            tries_left: 5,
        }
    );
    kiosk.handle.staff(StaffButton::Digit(6));
    kiosk.handle.staff(StaffButton::Digit(8));
    kiosk.handle.staff(StaffButton::Submit);
    let view = kiosk.wait_staff("the menu", |v| {
        matches!(
            v.screen,
            StaffScreen::Open {
                page: Page::Menu,
                ..
            }
        )
    });
    assert!(view.auto_exit_in.is_some_and(|s| s > 100));

    // Devices: all three listed, the printer's paper known.
    kiosk.handle.staff(StaffButton::Open(Page::Devices));
    let view = kiosk.wait_staff("the printer's status", |v| {
        v.devices
            .iter()
            .any(|d| d.device == DeviceKind::Printer && d.state.is_some())
    });
    let kinds: Vec<DeviceKind> = view.devices.iter().map(|d| d.device).collect();
    assert_eq!(
        kinds,
        [DeviceKind::Idcard, DeviceKind::Scanner, DeviceKind::Printer]
    );
    assert_eq!(view.paper, protocol::api::PaperState::Ok);

    // Test print: a sample slip through the printer worker to the emulator, decoded by zbarimg.
    kiosk.handle.staff(StaffButton::Open(Page::TestPrint));
    kiosk.handle.staff(StaffButton::TestPrint);
    let view = kiosk.wait_staff("the test print", |v| {
        matches!(
            v.test_print,
            Some(TestPrintResult::Printed | TestPrintResult::Failed(_))
        )
    });
    assert_eq!(view.test_print, Some(TestPrintResult::Printed));
    let bytes = setup.printer.received();
    assert_eq!(support::slips_printed(&bytes), 1);
    let decoded = support::decode_slips(&bytes, setup.dir.path());
    assert_eq!(decoded.len(), 1, "{decoded:?}");
    assert!(decoded[0].starts_with("SSM1:") && decoded[0].len() == 139);
    // The test code is not a real one: the central does not know it.
    let verdict = setup.central.verify(&decoded[0]);
    assert_ne!(verdict["result"], "valid", "{verdict}");

    // Test card: the masked parse of a resident's card; no session starts.
    kiosk.handle.staff(StaffButton::Open(Page::TestCard));
    kiosk.wait_staff("the card page", |v| {
        matches!(
            v.screen,
            StaffScreen::Open {
                page: Page::TestCard,
                ..
            }
        )
    });
    kiosk.place(resident_card());
    let view = kiosk.wait_staff("the test card", |v| v.test_card.is_some());
    let Some(TestCardResult::Read(card)) = &view.test_card else {
        panic!("{:?}", view.test_card);
    };
    let resident = resident_card();
    assert_eq!(card.id_number, resident.id_number.masked());
    assert_eq!(card.name, protocol::mask::mask_name(&resident.name));
    assert!(!format!("{view:?}").contains(resident.id_number.as_str()));
    assert_eq!(kiosk.handle.snapshots.borrow().session, None);

    // Test scan.
    kiosk.handle.staff(StaffButton::Open(Page::TestScan));
    kiosk.wait_staff("the scan page", |v| {
        matches!(
            v.screen,
            StaffScreen::Open {
                page: Page::TestScan,
                ..
            }
        )
    });
    kiosk.handle.sim.scanner.as_ref().unwrap().scan(&decoded[0]);
    let view = kiosk.wait_staff("the test scan", |v| v.test_scan.is_some());
    let scan = view.test_scan.unwrap();
    assert_eq!((scan.kind, scan.length), (ScanKind::OfflineCode, 139));
    assert_eq!(kiosk.handle.snapshots.borrow().session, None);

    // Counts and sync.
    kiosk.handle.staff(StaffButton::Open(Page::Counts));
    kiosk.handle.staff(StaffButton::Open(Page::Sync));
    kiosk.handle.staff(StaffButton::ForceSync);
    let view = kiosk.wait_staff("a heartbeat", |v| v.sync.last_heartbeat_at.is_some());
    assert_eq!(view.sync.reachable, Some(true));
    assert!(view.sync.config_version.is_some());

    // Out of service: the heartbeat says so, residents cannot start a session.
    kiosk.handle.staff(StaffButton::Open(Page::Service));
    kiosk.handle.staff(StaffButton::TakeOutOfService(
        OutOfServiceReason::PrinterMaintenance,
    ));
    let view = kiosk.wait_staff("out of service", |v| !v.in_service);
    assert_eq!(view.out_of_service_reason.as_deref(), Some("打印机维护"));
    setup.wait_heartbeat(K, "out of service", |h| {
        !h.in_service && h.out_of_service_reason.as_deref() == Some("打印机维护")
    });
    kiosk.exit_staff();
    kiosk.wait("暂停服务", |s| {
        s.screen
            == Screen::OutOfService {
                reason: Unavailable::Staff("打印机维护".into()),
            }
    });
    kiosk.place(resident_card());
    std::thread::sleep(Duration::from_secs(2));
    let snapshot = kiosk.handle.snapshots.borrow().clone();
    assert_eq!(snapshot.session, None, "no session while out of service");
    assert!(matches!(snapshot.screen, Screen::OutOfService { .. }));
    assert!(snapshot.staff.is_none());
    kiosk.remove_card();

    // Staff can still enter while out of service, and put it back.
    kiosk.enter_staff();
    kiosk.handle.staff(StaffButton::BackInService);
    kiosk.wait_staff("back in service", |v| v.in_service);
    setup.wait_heartbeat(K, "back in service", |h| h.in_service);
    kiosk.exit_staff();
    kiosk.wait("the home screen", |s| {
        matches!(s.screen, Screen::Home { .. })
    });

    // A resident asks for help; the request stands until staff clear it at the kiosk.
    kiosk.handle.press(Button::CallStaff);
    kiosk.wait("the help request", |s| s.help_requested);
    setup.wait_heartbeat(K, "the help request", |h| h.help_requested_at.is_some());
    let view = kiosk.enter_staff();
    assert!(view.help_requested);
    kiosk.handle.staff(StaffButton::ClearHelp);
    kiosk.wait("help cleared", |s| !s.help_requested);
    setup.wait_heartbeat(K, "help cleared", |h| h.help_requested_at.is_none());
    kiosk.exit_staff();

    // Every staff action is in the central's journal.
    assert!(kiosk.flush());
    let journal = setup.central_journal(K);
    let kinds: Vec<&str> = journal.iter().map(|(k, _)| k.as_str()).collect();
    for kind in [
        "staff_login",
        "out_of_service",
        "back_in_service",
        "help_cleared",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "staff_login").count(), 3);
    let actions = staff_actions(&journal);
    for action in [
        "test_print",
        "test_card",
        "test_scan",
        "force_sync",
        "clear_help",
        "exit",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
    assert_eq!(actions.iter().filter(|a| *a == "exit").count(), 3);
    let (_, out) = journal.iter().find(|(k, _)| k == "out_of_service").unwrap();
    assert_eq!(out["reason"], "printer_maintenance");
    assert_eq!(out["staff"], protocol::mask::mask_name(STAFF_NAME));
    // Neither the staff member's number nor their name went up.
    let text = serde_json::to_string(&journal).unwrap();
    assert!(!text.contains(STAFF_ID) && !text.contains(STAFF_NAME));
    assert!(!text.contains(PIN), "{text}");
    assert!(kiosk.stop());
}

#[test]
fn a_help_request_reaches_the_central_at_once_not_with_the_next_heartbeat() {
    const K: &str = "K-HELP";
    let setup = Setup::new(K);
    // The longest heartbeat interval the config allows, and uploads as rare as it allows: only
    // the immediate round the help request asks for can bring it to the central in time.
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let rare = text.replace(
        "heartbeat_seconds = 2\nupload_seconds = 1",
        "heartbeat_seconds = 120\nupload_seconds = 3600",
    );
    assert_ne!(rare, text);
    std::fs::write(&setup.config, rare).unwrap();
    let kiosk = Kiosk::start(&setup.config);
    // The first round (heartbeat, config) is behind us: the next regular one is 120 s away.
    kiosk.wait_for_central_config();
    setup.wait_heartbeat(K, "the first heartbeat", |h| h.help_requested_at.is_none());
    assert!(
        !setup
            .central_journal(K)
            .iter()
            .any(|(kind, _)| kind == "help_requested")
    );

    kiosk.handle.press(Button::CallStaff);
    kiosk.wait("the help request", |s| s.help_requested);
    // Well within the interval (the wait gives up after 20 s of the 120): the heartbeat carries
    // the request, and the help_requested event is in the central's journal.
    setup.wait_heartbeat(K, "the help request", |h| h.help_requested_at.is_some());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !setup
        .central_journal(K)
        .iter()
        .any(|(kind, _)| kind == "help_requested")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no help_requested event at the central: {:?}",
            setup.central_journal(K)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(kiosk.stop());
}

#[test]
fn a_resident_card_starts_a_session_and_nothing_hints_at_staff_mode() {
    const K: &str = "K-RESIDENT";
    let setup = Setup::new(K);
    let kiosk = Kiosk::start(&setup.config);
    kiosk.wait_for_central_config();

    kiosk.place(resident_card());
    let snapshot = kiosk.wait("the confirm screen", |s| {
        matches!(s.screen, Screen::Confirm { .. })
    });
    assert!(snapshot.session.is_some());
    assert!(snapshot.staff.is_none());
    // The staff button of the hidden corner is ignored during a session.
    kiosk.handle.staff(StaffButton::CornerLongPress);
    std::thread::sleep(Duration::from_millis(600));
    assert!(kiosk.handle.snapshots.borrow().staff.is_none());
    kiosk.handle.press(Button::Home);
    kiosk.wait("home", |s| s.session.is_none());
    kiosk.remove_card();

    // At home the corner opens the card prompt; a resident's card there still serves them.
    kiosk.handle.staff(StaffButton::CornerLongPress);
    kiosk.wait_staff("the card prompt", |v| v.screen == StaffScreen::CardPrompt);
    kiosk.place(resident_card());
    let snapshot = kiosk.wait("a resident session", |s| s.session.is_some());
    assert!(snapshot.staff.is_none());
    kiosk.wait("the confirm screen", |s| {
        matches!(s.screen, Screen::Confirm { .. })
    });
    kiosk.handle.press(Button::Home);
    assert!(kiosk.flush());
    let journal = setup.central_journal(K);
    let failed: Vec<&serde_json::Value> = journal
        .iter()
        .filter(|(k, _)| k == "staff_login_failed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["reason"], "unknown_card");
    assert!(kiosk.stop());
}

/// Places a resident's card and waits for their confirm screen, with nothing of staff mode
/// showing; then back home with the card lifted.
#[track_caller]
fn resident_session_starts(kiosk: &Kiosk) {
    kiosk.place(resident_card());
    let snapshot = kiosk.wait("the resident's confirm screen", |s| {
        matches!(s.screen, Screen::Confirm { .. })
    });
    assert!(snapshot.session.is_some());
    assert!(snapshot.staff.is_none(), "{:?}", snapshot.staff);
    kiosk.handle.press(Button::Home);
    kiosk.wait("home", |s| s.session.is_none());
    kiosk.remove_card();
}

#[test]
fn a_card_on_the_keypad_or_the_lockout_notice() {
    const K: &str = "K-CARDS";
    let setup = Setup::new(K);
    let rules = StaffRules {
        max_failures: 2,
        ..StaffRules::default()
    };
    let kiosk = Kiosk::start_with(&setup.config, rules);
    kiosk.wait_for_central_config();

    // On the keypad, with a digit typed: a resident's card serves the resident.
    kiosk.place(staff_card());
    kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    kiosk.handle.staff(StaffButton::Digit(1));
    kiosk.wait_staff("a digit", |v| {
        matches!(v.screen, StaffScreen::Pin { digits: 1, .. })
    });
    resident_session_starts(&kiosk);

    // Locked: the staff card again is refused (and journaled) and the notice stays; a
    // resident's card serves the resident.
    kiosk.place(staff_card());
    kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    kiosk.type_pin("1357");
    kiosk.wait_staff("a wrong PIN", |v| {
        matches!(
            v.screen,
            StaffScreen::Pin {
                wrong_pin: true,
                tries_left: 1,
                ..
            }
        )
    });
    kiosk.type_pin("1357");
    kiosk.wait_staff("the lockout", |v| {
        matches!(v.screen, StaffScreen::Locked { .. })
    });
    kiosk.place(staff_card());
    std::thread::sleep(Duration::from_secs(1));
    let view = kiosk.handle.snapshots.borrow().staff.clone().unwrap();
    assert!(
        matches!(view.screen, StaffScreen::Locked { .. }),
        "{:?}",
        view.screen
    );
    assert_eq!(kiosk.handle.snapshots.borrow().session, None);
    resident_session_starts(&kiosk);

    assert!(kiosk.flush());
    let reasons: Vec<String> = setup
        .central_journal(K)
        .into_iter()
        .filter(|(k, _)| k == "staff_login_failed")
        .map(|(_, d)| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        [
            "unknown_card",
            "wrong_pin",
            "wrong_pin",
            "locked_out",
            "unknown_card"
        ]
    );
    assert!(
        !setup
            .central_journal(K)
            .iter()
            .any(|(k, _)| k == "staff_login"),
        "nobody entered"
    );
    assert!(kiosk.stop());
}

#[test]
fn auto_exit_lockout_end_and_doubling_and_the_journal_figures_on_short_rules() {
    const K: &str = "K-RULES";
    let setup = Setup::new(K);
    let rules = StaffRules {
        idle_ms: 5_000,
        max_failures: 2,
        lockout_ms: 2_000,
        max_lockout_ms: 60_000,
    };
    let kiosk = Kiosk::start_with(&setup.config, rules);
    kiosk.wait_for_central_config();

    // A resident's 申领, for today's counts.
    kiosk.place(resident_card());
    kiosk.wait("the confirm screen", |s| {
        matches!(s.screen, Screen::Confirm { .. })
    });
    kiosk.handle.press(Button::Confirm);
    kiosk.wait("the done screen", |s| {
        matches!(s.screen, Screen::Done { .. })
    });
    kiosk.handle.press(Button::Home);
    kiosk.wait("home", |s| s.session.is_none());
    kiosk.remove_card();

    // Auto-exit: the menu left alone closes after the idle time, counting down to it.
    let view = kiosk.enter_staff();
    assert!(
        view.auto_exit_in.is_some_and(|s| (1..=5).contains(&s)),
        "{:?}",
        view.auto_exit_in
    );
    let started = std::time::Instant::now();
    kiosk.wait("the auto-exit", |s| s.staff.is_none());
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "closed after {:?}",
        started.elapsed()
    );
    kiosk.remove_card();

    // Two wrong PINs lock for 2 s; the notice closes by itself when the lockout ends (before
    // the 5 s idle time-out could close it).
    let lock = |seconds: std::ops::RangeInclusive<u64>| {
        kiosk.place(staff_card());
        kiosk.wait_staff("the keypad", |v| {
            matches!(v.screen, StaffScreen::Pin { .. })
        });
        kiosk.type_pin("1357");
        kiosk.wait_staff("a wrong PIN", |v| {
            matches!(
                v.screen,
                StaffScreen::Pin {
                    wrong_pin: true,
                    ..
                }
            )
        });
        kiosk.type_pin("1357");
        let view = kiosk.wait_staff("the lockout", |v| {
            matches!(v.screen, StaffScreen::Locked { .. })
        });
        assert!(
            seconds.contains(&view.lockout_seconds_left),
            "{} s left, expected {seconds:?}",
            view.lockout_seconds_left
        );
        let started = std::time::Instant::now();
        kiosk.wait("the lockout's end", |s| s.staff.is_none());
        kiosk.remove_card();
        started.elapsed()
    };
    let first = lock(1..=2);
    // The next lockout (no entry in between) lasts twice as long.
    let second = lock(3..=4);
    assert!(second > first, "{first:?} then {second:?}");
    assert!(second >= Duration::from_millis(2_500), "{second:?}");

    // Entry works again; the pages show today's counts and the recent errors from the journal.
    kiosk.enter_staff();
    kiosk.handle.staff(StaffButton::Open(Page::Counts));
    let view = kiosk.wait_staff("today's counts", |v| v.counts.printed > 0);
    assert_eq!(view.counts.applies, 1, "{:?}", view.counts);
    assert_eq!(view.counts.reissues, 0, "{:?}", view.counts);
    assert_eq!(view.counts.printed, 1, "{:?}", view.counts);
    assert_eq!(view.counts.print_failures, 0, "{:?}", view.counts);
    kiosk.handle.staff(StaffButton::Open(Page::Errors));
    let view = kiosk.wait_staff("the recent errors", |v| {
        matches!(
            v.screen,
            StaffScreen::Open {
                page: Page::Errors,
                ..
            }
        )
    });
    let wrong: Vec<_> = view
        .recent_errors
        .iter()
        .filter(|e| {
            e.kind == protocol::api::JournalKind::StaffLoginFailed
                && e.summary.contains("wrong_pin")
        })
        .collect();
    assert_eq!(wrong.len(), 4, "{:?}", view.recent_errors);
    kiosk.exit_staff();

    assert!(kiosk.flush());
    let journal = setup.central_journal(K);
    let exits: Vec<&str> = journal
        .iter()
        .filter(|(k, d)| k == "staff_action" && d["action"] == "exit")
        .map(|(_, d)| d["how"].as_str().unwrap())
        .collect();
    assert_eq!(exits, ["idle", "button"]);
    let locked: Vec<&str> = journal
        .iter()
        .filter(|(k, d)| k == "staff_login_failed" && d.get("locked_seconds").is_some())
        .map(|(_, d)| d["locked_seconds"].as_str().unwrap())
        .collect();
    assert_eq!(locked, ["2", "4"]);
    assert!(kiosk.stop());
}

/// Rewrites the stored lockout so that it ended a moment ago: what five minutes of waiting do.
fn expire_lockout(data_dir: &Path) {
    let path = data_dir.join(kiosk::engine::STAFF_LOCKOUT_FILE);
    let mut stored: kiosk::engine::StoredLockout =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let until = stored.locked_until.expect("a lockout runs");
    let left = until - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(4) && left <= time::Duration::minutes(5),
        "{left}"
    );
    stored.locked_until = Some(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
    std::fs::write(&path, serde_json::to_vec(&stored).unwrap()).unwrap();
}

#[test]
fn five_wrong_pins_lock_staff_entry_across_a_restart_until_the_lockout_ends() {
    const K: &str = "K-LOCK";
    let setup = Setup::new(K);
    let kiosk = Kiosk::start(&setup.config);
    kiosk.wait_for_central_config();

    kiosk.place(staff_card());
    kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    for n in 1..=4u32 {
        kiosk.type_pin("1357");
        kiosk.wait_staff("a wrong PIN", |v| {
            matches!(v.screen, StaffScreen::Pin { wrong_pin: true, tries_left, .. } if tries_left == 5 - n)
        });
    }
    kiosk.type_pin("1357");
    let view = kiosk.wait_staff("the lockout", |v| {
        matches!(v.screen, StaffScreen::Locked { .. })
    });
    assert!(
        (295..=300).contains(&view.lockout_seconds_left),
        "{}",
        view.lockout_seconds_left
    );
    // The right PIN cannot even be typed now; the notice closes with Exit.
    kiosk.handle.staff(StaffButton::Exit);
    kiosk.wait("the notice closed", |s| s.staff.is_none());
    kiosk.remove_card();

    // A resident's card still serves residents during the lockout.
    kiosk.place(resident_card());
    kiosk.wait("a resident session", |s| {
        s.session.is_some() && s.staff.is_none()
    });
    kiosk.handle.press(Button::Home);
    kiosk.wait("home", |s| s.session.is_none());
    kiosk.remove_card();
    assert!(kiosk.flush());
    let failed: Vec<serde_json::Value> = setup
        .central_journal(K)
        .into_iter()
        .filter(|(k, _)| k == "staff_login_failed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(failed.len(), 5, "{failed:?}");
    assert_eq!(failed[4]["locked_seconds"], "300");
    assert!(kiosk.stop());

    // The lockout survives a restart.
    let kiosk = Kiosk::start(&setup.config);
    kiosk.place(staff_card());
    let view = kiosk.wait_staff("the lockout after a restart", |v| {
        matches!(v.screen, StaffScreen::Locked { .. })
    });
    assert!(view.lockout_seconds_left > 280);
    kiosk.handle.staff(StaffButton::Exit);
    kiosk.wait("closed", |s| s.staff.is_none());
    kiosk.remove_card();
    assert!(kiosk.stop());

    // Once it has ended, the staff card and the right PIN open maintenance mode again.
    expire_lockout(&setup.data_dir());
    let kiosk = Kiosk::start(&setup.config);
    kiosk.enter_staff();
    kiosk.exit_staff();
    assert!(kiosk.flush());
    let journal = setup.central_journal(K);
    let failed: Vec<&str> = journal
        .iter()
        .filter(|(k, _)| k == "staff_login_failed")
        .map(|(_, d)| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "locked_out"
        ]
    );
    assert!(journal.iter().any(|(k, _)| k == "staff_login"));
    assert!(kiosk.stop());
}

#[test]
fn without_the_central_the_kiosk_toml_list_then_the_cached_central_list_let_staff_in() {
    const K: &str = "K-OFFLINE";
    let setup = Setup::new(K);
    // 1. Never synced, central unreachable: kiosk.toml's [[staff]] (another PIN) lets staff in.
    let number = protocol::IdNumber::parse(STAFF_ID).unwrap();
    let local =
        protocol::api::StaffEntry::new(&number, STAFF_NAME, "8642", [1; 16], [2; 16]).unwrap();
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace(&setup.central.url(), "https://127.0.0.1:9")
        + &format!(
            "\n[[staff]]\nsalt_hex = \"{}\"\nid_hash_hex = \"{}\"\npin_hash = \"{}\"\nname_masked = \"{}\"\n",
            local.salt_hex, local.id_hash_hex, local.pin_hash, local.name_masked
        );
    let offline = setup.dir.path().join("offline.toml");
    std::fs::write(&offline, &text).unwrap();
    let kiosk = Kiosk::start(&offline);
    kiosk.place(staff_card());
    let view = kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    assert_eq!(view.sync.staff_list, StaffListSource::KioskToml);
    kiosk.type_pin("8642");
    kiosk.wait_staff("the menu", |v| matches!(v.screen, StaffScreen::Open { .. }));
    kiosk.exit_staff();
    kiosk.stop();

    // 2. Once the central's list has been pulled, it replaces kiosk.toml's, also after a restart
    //    without network (cached on disk).
    let online = setup.dir.path().join("online.toml");
    std::fs::write(
        &online,
        text.replace("https://127.0.0.1:9", &setup.central.url()),
    )
    .unwrap();
    let kiosk = Kiosk::start(&online);
    kiosk.wait_for_central_config();
    let view = kiosk.enter_staff();
    assert_eq!(view.sync.staff_list, StaffListSource::Central);
    kiosk.exit_staff();
    kiosk.stop();

    let kiosk = Kiosk::start(&offline);
    kiosk.place(staff_card());
    let view = kiosk.wait_staff("the keypad", |v| {
        matches!(v.screen, StaffScreen::Pin { .. })
    });
    assert_eq!(view.sync.staff_list, StaffListSource::CachedCentral);
    kiosk.type_pin("8642");
    kiosk.wait_staff("a wrong PIN: kiosk.toml's list is no longer used", |v| {
        matches!(
            v.screen,
            StaffScreen::Pin {
                wrong_pin: true,
                ..
            }
        )
    });
    kiosk.type_pin(PIN);
    kiosk.wait_staff("the menu", |v| matches!(v.screen, StaffScreen::Open { .. }));
    kiosk.exit_staff();
    kiosk.stop();
}

#[test]
fn doctor_all_reads_the_running_kiosk_and_probes_a_stopped_one() {
    const K: &str = "K-DOCTOR";
    let setup = Setup::new(K);
    let kiosk = Kiosk::start(&setup.config);
    kiosk.wait_for_central_config();
    let doctor = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["doctor", "all", "--config"])
            .arg(&setup.config)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            stdout.lines().count(),
            1,
            "one JSON object on one line: {stdout}"
        );
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };

    // Running: what the kiosk wrote a moment ago.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = doctor();
        if report["source"] == "running_kiosk"
            && report["sync"]["reachable"] == true
            && report["devices"][2]["state"] == "connected"
        {
            break report;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(report["kiosk_id"], K);
    assert_eq!(report["in_service"], true);
    assert_eq!(report["paper"], "ok");
    let devices: Vec<&str> = report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device"].as_str().unwrap())
        .collect();
    assert_eq!(devices, ["idcard", "scanner", "printer"]);
    assert!(report["sync"]["backlog"].is_u64());
    assert!(report["status_age_seconds"].as_i64().unwrap() <= 15);

    // Out of service shows too.
    kiosk.enter_staff();
    kiosk.handle.staff(StaffButton::TakeOutOfService(
        OutOfServiceReason::NetworkFault,
    ));
    kiosk.exit_staff();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let report = loop {
        let report = doctor();
        if report["in_service"] == false {
            break report;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(report["out_of_service_reason"], "网络故障");
    assert!(kiosk.stop());

    // Stopped: the doctor probes the devices itself and reads the journal; the service switch is
    // the journal's.
    let data = setup.data_dir();
    let report = doctor();
    assert_eq!(report["source"], "probe", "{report}");
    assert!(
        report["probe_reason"]
            .as_str()
            .unwrap()
            .contains("the kiosk stopped"),
        "{report}"
    );
    // The same once its status file has grown old.
    let mut status = kiosk::status::read(&data).unwrap();
    assert!(!status.running);
    status.running = true;
    status.written_at -= time::Duration::minutes(10);
    kiosk::status::write(&data, &status).unwrap();
    let report = doctor();
    assert_eq!(report["source"], "probe", "{report}");
    assert!(
        report["probe_reason"].as_str().unwrap().contains("stale"),
        "{report}"
    );
    assert_eq!(report["devices"][0]["backend"], "simulated");
    assert_eq!(report["devices"][1]["backend"], "simulated");
    assert_eq!(report["devices"][2]["backend"], "escpos");
    assert_eq!(report["devices"][2]["state"], "connected");
    assert_eq!(report["paper"], "ok");
    assert_eq!(report["sync"]["backlog"], 0);
    assert_eq!(report["in_service"], false);
    assert_eq!(report["out_of_service_reason"], "网络故障");

    // Restarted, the kiosk is still out of service (the journal says so) until staff say not.
    let kiosk = Kiosk::start(&setup.config);
    kiosk.wait("暂停服务 after the restart", |s| {
        s.screen
            == Screen::OutOfService {
                reason: Unavailable::Staff("网络故障".into()),
            }
    });
    kiosk.wait_for_central_config();
    kiosk.enter_staff();
    kiosk.handle.staff(StaffButton::BackInService);
    kiosk.exit_staff();
    kiosk.wait("home", |s| matches!(s.screen, Screen::Home { .. }));
    assert!(kiosk.stop());
}
