//! Reliability: one kiosk keeps running (its engine in this process, driven as the screens drive
//! it) while the central, the printer and the card reader go away and come back in the middle
//! of sessions. Afterwards it keeps serving residents, no attempt issued a second code, nothing
//! printed without a resident asking (a reprint only after 重新打印), and every journal event
//! reached the central exactly once, without a restart.
//!
//! - a central outage: the central stops while a resident is on the confirm screen; 申领 fails
//!   plainly; the central comes back on the same port and 重试 issues with the same request id;
//! - the code changed elsewhere between two attempts: 补领 fails (central stopped), the resident
//!   reissues at another kiosk meanwhile, 重试 is refused (the code changed), and after
//!   identifying again 补领 goes out with a fresh request id: the slip carries the code active
//!   at the central, and no attempt has two codes;
//! - an answer lost on the way back: 补领 reaches the central and a code is issued, but the
//!   answer never arrives; the resident reissues at another kiosk meanwhile, and 重试 gets the
//!   first code back marked replaced: it is not printed, and after identifying again 补领 prints
//!   the active code;
//! - the printer switched off and on: off before 申领 (nothing sent, 重新打印 after it is back),
//!   off in the middle of a slip, and off between sessions (out of service until it is back);
//! - the emulated PC/SC reader's card link going away and coming back: the emulator drops its
//!   vpcd connection in the middle of a read, is stopped on the confirm screen, and a new
//!   emulator connects; and, when this test started pcscd itself, pcscd restarts so that the
//!   reader itself disappears and comes back.
//!
//! Real parts: the central over HTTPS with mutual TLS (stopped and started on the same port and
//! data), a TCP printer that can be switched off (tests/support/flaky_printer.rs), pcscd + vpcd + the
//! emulated card, the journal on disk.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../drivers/idcard/tests/support/pcscd.rs"]
mod pcscd;

use std::time::Duration;

use idcard::emulator::{Emulator, EmulatorConfig};
use kiosk::flow::{Button, FlowError, Screen};
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use support::checks::{self, slip_qr_texts};
use support::engine::{RunningKiosk, is_done, is_error, is_home};
use support::flaky_printer::FlakyPrinter;
use support::{Central, Reader, seniors};

/// Generous bounds: the machine may be busy; nothing here is timed, only bounded.
const STEP: Duration = Duration::from_secs(60);
/// The printer worker reads the status every 10 s between jobs.
const STATUS_POLL: Duration = Duration::from_secs(35);

/// The confirm screen of the holder of `card` (not of an earlier resident).
fn confirm_for(card: &idcard::IdCard) -> impl Fn(&Screen) -> bool + use<> {
    let name = card.name.clone();
    let masked = card.id_number.masked();
    move |screen| {
        matches!(screen, Screen::Confirm { person, .. }
            if person.name == name && person.id_number_masked == masked)
    }
}

/// Places `card` on the simulated reader, confirms, and waits for the done screen; then home.
fn simulated_session(kiosk: &RunningKiosk, card: idcard::IdCard) {
    let reader = kiosk.handle.sim.reader.clone().unwrap();
    let confirm = confirm_for(&card);
    reader.place(card);
    kiosk.wait_for("the confirm screen", STEP, confirm);
    kiosk.press(Button::Confirm);
    kiosk.wait_for("the done screen", STEP, is_done);
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
    reader.remove();
}

#[test]
fn the_central_going_away_mid_session_and_coming_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut central = Central::start(&dir.path().join("central"));
    seniors::import(central.data.store().unwrap().as_ref(), 1000..1003);
    let certs = central.provision("K-OUTAGE", &dir.path().join("certs"));
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let config = support::write_config(
        dir.path(),
        "K-OUTAGE",
        &[central.url()],
        &certs,
        &Reader::Simulated,
        &printer.url(),
    );
    let kiosk = RunningKiosk::start(&config);
    kiosk.wait_for("home", STEP, is_home);
    let reader = kiosk.handle.sim.reader.clone().unwrap();

    simulated_session(&kiosk, seniors::card(1000));

    // The central stops while the resident looks at the confirm screen.
    reader.place(seniors::card(1001));
    kiosk.wait_for(
        "the confirm screen",
        STEP,
        confirm_for(&seniors::card(1001)),
    );
    central.stop();
    kiosk.press(Button::Confirm);
    let screen = kiosk.wait_for("an error screen", STEP, is_error);
    assert!(
        matches!(
            screen,
            Screen::Error {
                error: FlowError::CentralUnreachable,
                can_retry: true
            }
        ),
        "{screen:?}"
    );
    assert_eq!(
        support::slips_printed(&printer.received()),
        1,
        "nothing printed"
    );
    let backlog = kiosk.core().journal.backlog().unwrap();
    assert!(backlog > 0, "the session's events wait in the journal");

    // Back on the same port: 重试 issues with the same request id, once.
    central.restart();
    kiosk.press(Button::Retry);
    kiosk.wait_for("the done screen after 重试", STEP, is_done);
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
    reader.remove();

    // And the kiosk goes on serving.
    simulated_session(&kiosk, seniors::card(1002));
    assert!(kiosk.flush(STEP), "the journal caught up");
    let codes = checks::codes_of_kiosk(&central, "K-OUTAGE");
    assert_eq!(codes.len(), 3, "{codes:?}");
    checks::assert_one_code_per_person(&codes);
    assert!(codes.iter().all(|c| c.printed), "{codes:?}");
    let slips = slip_qr_texts(&printer.received());
    assert_eq!(
        slips,
        codes.iter().map(|c| c.qr_text.clone()).collect::<Vec<_>>()
    );
    assert!(kiosk.stop(STEP));
    checks::assert_journal_exactly_once(&central, "K-OUTAGE", &dir.path().join("data"));
}

/// The central's journal events of a kiosk that name `request_id`, by kind, in order.
fn events_of_request(central: &Central, kiosk_id: &str, request_id: &str) -> Vec<String> {
    kiosk_events(central, kiosk_id)
        .into_iter()
        .filter(|(_, detail)| detail["request_id"] == request_id)
        .map(|(kind, _)| kind)
        .collect()
}

/// The request ids of the kiosk's events of `kind` at the central, in order.
fn request_ids_of(central: &Central, kiosk_id: &str, kind: &str) -> Vec<String> {
    kiosk_events(central, kiosk_id)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, detail)| detail["request_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every journal event of the kiosk at the central, in order: kind and detail.
fn kiosk_events(central: &Central, kiosk_id: &str) -> Vec<(String, serde_json::Value)> {
    let db = rusqlite::Connection::open_with_flags(
        central.data.path().join("central.db"),
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
        .map(Result::unwrap)
        .map(|(kind, detail)| (kind, serde_json::from_str(&detail).unwrap()))
        .collect()
}

/// On the code-changed error: 重试 identifies again, the confirm screen shows `card`'s holder,
/// 补领 prints, and home shows.
fn retry_identify_and_print(kiosk: &RunningKiosk, card: &idcard::IdCard) {
    kiosk.press(Button::Retry);
    kiosk.wait_for("the confirm screen again", STEP, confirm_for(card));
    kiosk.press(Button::Confirm);
    kiosk.wait_for("the done screen", STEP, is_done);
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
}

/// A kiosk with the simulated reader, enrolled on `central` as `kiosk_id`, printing to `printer`;
/// its files under `root`.
fn start_kiosk(
    central: &Central,
    url: &str,
    root: &std::path::Path,
    kiosk_id: &str,
    printer: &TcpPrinterEmulator,
) -> RunningKiosk {
    let certs = central.provision(kiosk_id, &root.join(format!("certs-{kiosk_id}")));
    let home = root.join(kiosk_id);
    std::fs::create_dir_all(&home).unwrap();
    let config = support::write_config(
        &home,
        kiosk_id,
        &[url.to_owned()],
        &certs,
        &Reader::Simulated,
        &printer.url(),
    );
    RunningKiosk::start(&config)
}

/// One resident (without a code) and two kiosks on one central, each with its TCP printer:
/// `here`, reaching the central through a [`LossyRelay`] when asked, and `other`, in another
/// hall; both on home.
struct TwoHalls {
    dir: tempfile::TempDir,
    central: Central,
    resident: idcard::IdCard,
    id_number: String,
    printer: TcpPrinterEmulator,
    here: RunningKiosk,
    other_printer: TcpPrinterEmulator,
    other: RunningKiosk,
    relay: Option<LossyRelay>,
}

impl TwoHalls {
    fn start(senior: usize, through_relay: bool) -> TwoHalls {
        let dir = tempfile::tempdir().unwrap();
        let central = Central::start(&dir.path().join("central"));
        seniors::import(central.data.store().unwrap().as_ref(), senior..senior + 1);
        let resident = seniors::card(senior);
        let id_number = resident.id_number.as_str().to_owned();
        let relay = through_relay.then(|| {
            let port = central.url().rsplit(':').next().unwrap().parse().unwrap();
            LossyRelay::start(port, central.data.path().join("central.db"))
        });
        let url = relay
            .as_ref()
            .map_or_else(|| central.url(), LossyRelay::url);
        let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
        let here = start_kiosk(&central, &url, dir.path(), "K-HERE", &printer);
        let other_printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
        let other = start_kiosk(
            &central,
            &central.url(),
            dir.path(),
            "K-ELSEWHERE",
            &other_printer,
        );
        here.wait_for("home", STEP, is_home);
        other.wait_for("home", STEP, is_home);
        TwoHalls {
            dir,
            central,
            resident,
            id_number,
            printer,
            here,
            other_printer,
            other,
            relay,
        }
    }
}

#[test]
fn a_retry_after_the_code_changed_elsewhere_prints_the_active_code() {
    let TwoHalls {
        dir,
        mut central,
        resident,
        id_number,
        printer,
        here,
        other_printer,
        other,
        relay: _,
    } = TwoHalls::start(4000, false);

    // 申领 here: code 1, printed.
    simulated_session(&here, resident.clone());
    let first = central.codes_of(&id_number);
    assert_eq!(first.len(), 1, "{first:?}");

    // Back for 补领; the central goes away as they press it.
    let reader = here.handle.sim.reader.clone().unwrap();
    reader.place(resident.clone());
    let screen = here.wait_for("the confirm screen", STEP, confirm_for(&resident));
    assert!(
        matches!(
            screen,
            Screen::Confirm {
                offer: protocol::rules::Offer::Reissue,
                ..
            }
        ),
        "{screen:?}"
    );
    central.stop();
    here.press(Button::Confirm);
    let screen = here.wait_for("an error screen", STEP, is_error);
    assert!(
        matches!(
            screen,
            Screen::Error {
                error: FlowError::CentralUnreachable,
                can_retry: true
            }
        ),
        "{screen:?}"
    );

    // Meanwhile the resident reissues at the other kiosk: code 2 is now the active one.
    central.restart();
    simulated_session(&other, resident.clone());
    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert_eq!(codes[1].status, "active");

    // 重试 here: the same request goes out again and is refused, the code having changed.
    here.press(Button::Retry);
    let screen = here.wait_for("the code-changed error", STEP, |s| {
        matches!(
            s,
            Screen::Error {
                error: FlowError::CodeChanged,
                ..
            }
        )
    });
    assert_eq!(
        screen,
        Screen::Error {
            error: FlowError::CodeChanged,
            can_retry: true
        }
    );
    assert_eq!(central.codes_of(&id_number).len(), 2, "nothing issued");

    // 重试 identifies again; the confirm screen offers 补领 again, and 补领 prints.
    retry_identify_and_print(&here, &resident);
    reader.remove();

    // The slip carries the code active at the central, issued under a fresh request id.
    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 3, "{codes:?}");
    let active: Vec<_> = codes.iter().filter(|c| c.status == "active").collect();
    assert_eq!(active.len(), 1, "{codes:?}");
    let active = active[0];
    assert_eq!(active.serial, 3);
    let slips = slip_qr_texts(&printer.received());
    assert_eq!(
        slips.len(),
        2,
        "the 申领 slip and the 补领 slip, nothing else"
    );
    assert_eq!(slips[0], codes[0].qr_text);
    assert_eq!(
        slips[1], active.qr_text,
        "the 补领 slip carries the active code"
    );
    assert_eq!(
        slip_qr_texts(&other_printer.received()),
        [codes[1].qr_text.clone()]
    );
    assert_eq!(central.verify(&slips[1])["result"], "valid");

    // One attempt, one code: the refused request went out twice (unreachable, refused) and has
    // no code; after the code changed the 补领 took a fresh request id, which has exactly one.
    let request_id = active.request_id.clone();
    let ids: std::collections::BTreeSet<&str> =
        codes.iter().map(|c| c.request_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        codes.len(),
        "a request id with two codes: {codes:?}"
    );
    assert!(here.flush(STEP), "the journal caught up");
    let events = events_of_request(&central, "K-HERE", &request_id);
    assert_eq!(
        events,
        ["issue_requested", "code_issued", "printed"],
        "request {request_id}"
    );
    let refused = request_ids_of(&central, "K-HERE", "refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    let refused_id = refused[0].clone();
    assert_ne!(refused_id, request_id);
    assert_eq!(
        events_of_request(&central, "K-HERE", &refused_id),
        ["issue_requested", "issue_requested", "refused"],
        "request {refused_id}"
    );
    let attempt = here
        .core()
        .journal
        .attempt(protocol::api::RequestId::new(request_id.parse().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(attempt.state, kiosk::journal::AttemptState::Printed);
    assert_eq!(
        attempt.code.as_ref().map(|c| c.qr_text.as_str()),
        Some(active.qr_text.as_str())
    );
    assert!(here.stop(STEP));
    assert!(other.stop(STEP));
    checks::assert_journal_exactly_once(&central, "K-HERE", &dir.path().join("K-HERE/data"));
    checks::assert_journal_exactly_once(
        &central,
        "K-ELSEWHERE",
        &dir.path().join("K-ELSEWHERE/data"),
    );
}

#[test]
fn the_printer_switched_off_and_on_mid_session() {
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("central"));
    seniors::import(central.data.store().unwrap().as_ref(), 2000..2004);
    let certs = central.provision("K-PRINTER", &dir.path().join("certs"));
    let mut printer = FlakyPrinter::start();
    let config = support::write_config(
        dir.path(),
        "K-PRINTER",
        &[central.url()],
        &certs,
        &Reader::Simulated,
        &printer.url(),
    );
    let kiosk = RunningKiosk::start(&config);
    kiosk.wait_for("home", STEP, is_home);
    let reader = kiosk.handle.sim.reader.clone().unwrap();

    simulated_session(&kiosk, seniors::card(2000));
    assert_eq!(slip_qr_texts(&printer.received()).len(), 1);

    // 1. Off before 申领: the code is issued, the slip is refused, nothing is sent.
    reader.place(seniors::card(2001));
    kiosk.wait_for(
        "the confirm screen",
        STEP,
        confirm_for(&seniors::card(2001)),
    );
    printer.close();
    let before = printer.received().len();
    kiosk.press(Button::Confirm);
    let screen = kiosk.wait_for("a print error", STEP, is_error);
    assert!(
        matches!(
            screen,
            Screen::Error {
                error: FlowError::PrintFailed(_),
                can_retry: true
            }
        ),
        "{screen:?}"
    );
    assert_eq!(
        printer.received().len(),
        before,
        "nothing reached the printer"
    );
    // Back on: nothing prints until the resident presses 重新打印.
    printer.reopen();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        slip_qr_texts(&printer.received()[before..]).is_empty(),
        "a slip printed without 重新打印"
    );
    kiosk.press(Button::Retry);
    kiosk.wait_for("the done screen after 重新打印", STEP, is_done);
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
    reader.remove();
    let reprinted = slip_qr_texts(&printer.received()[before..]);
    assert_eq!(reprinted.len(), 1, "one slip after 重新打印");

    // 2. Off in the middle of a slip: the printer takes 64 bytes of the job and goes away. Over
    // TCP the kiosk may not notice (the bytes left its socket); either way it goes on serving,
    // and what it reports matches what the central records.
    reader.place(seniors::card(2002));
    kiosk.wait_for(
        "the confirm screen",
        STEP,
        confirm_for(&seniors::card(2002)),
    );
    printer.close_after(64);
    kiosk.press(Button::Confirm);
    let screen = kiosk.wait_for("the end of the print", STEP, |s| is_done(s) || is_error(s));
    assert_eq!(printer.closes_fired(), 1, "the printer went away mid-slip");
    eprintln!("printer gone mid-slip: the kiosk shows {screen:?}");
    printer.reopen();
    if is_error(&screen) {
        kiosk.press(Button::Retry);
        kiosk.wait_for("the done screen after 重新打印", STEP, is_done);
    }
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
    reader.remove();

    // 3. Off between sessions: the kiosk notices at its next status read and stops serving;
    // back on, it serves again.
    printer.close();
    kiosk.wait_for("out of service (printer)", STATUS_POLL, |s| {
        matches!(s, Screen::OutOfService { .. })
    });
    printer.reopen();
    kiosk.wait_for("home once the printer is back", STATUS_POLL, is_home);
    simulated_session(&kiosk, seniors::card(2003));

    assert!(kiosk.flush(STEP), "the journal caught up");
    let codes = checks::codes_of_kiosk(&central, "K-PRINTER");
    assert_eq!(codes.len(), 4, "{codes:?}");
    checks::assert_one_code_per_person(&codes);
    // Every slip carries one of these codes; none but the resumed one twice (the cut-short
    // slip and its reprint).
    let slips = slip_qr_texts(&printer.received());
    for text in &slips {
        assert!(
            codes.iter().any(|c| c.qr_text == *text),
            "an unknown code printed"
        );
    }
    for code in &codes {
        let n = slips.iter().filter(|t| **t == code.qr_text).count();
        let most = if code.id_number == seniors::card(2002).id_number.as_str() {
            2
        } else {
            1
        };
        assert!(
            (1..=most).contains(&n),
            "{} printed {n} times",
            code.code_id
        );
    }
    assert!(kiosk.stop(STEP));
    checks::assert_journal_exactly_once(&central, "K-PRINTER", &dir.path().join("data"));
}

const READER: &str = "Virtual PCD 00 00";

#[test]
fn the_card_reader_going_away_and_coming_back() {
    let mut pcscd = pcscd::Pcscd::ensure(READER);
    pcscd::wait_until_empty(READER);
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("central"));
    seniors::import(central.data.store().unwrap().as_ref(), 3000..3005);
    let certs = central.provision("K-READER", &dir.path().join("certs"));
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let config = support::write_config(
        dir.path(),
        "K-READER",
        &[central.url()],
        &certs,
        &Reader::Pcsc(READER),
        &printer.url(),
    );
    let kiosk = RunningKiosk::start(&config);
    kiosk.wait_for("home", STEP, is_home);

    let pcsc_session = |emulator: &Emulator, index: usize| {
        emulator.insert(seniors::card(index));
        kiosk.wait_for(
            "the confirm screen",
            STEP,
            confirm_for(&seniors::card(index)),
        );
        kiosk.press(Button::Confirm);
        kiosk.wait_for("the done screen", STEP, is_done);
        kiosk.press(Button::Home);
        kiosk.wait_for("home", STEP, is_home);
        emulator.remove();
        // vpcd tells pcscd about a card by polling: a card placed before pcscd saw the reader
        // empty would look like the old one still there.
        pcscd::wait_until_empty(READER);
    };

    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    pcsc_session(&emulator, 3000);
    drop(emulator);

    // 1. The link to vpcd drops in the middle of a read: the resident is asked to place the
    // card again; when the emulator connects again, the read and the session go through.
    let flaky = Emulator::start(EmulatorConfig {
        drop_during_read: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    flaky.insert(seniors::card(3001));
    kiosk.wait_for("the place-again prompt", STEP, |s| {
        matches!(s, Screen::WaitCard { retry: true })
    });
    assert_eq!(flaky.stats().drops, 1, "the link dropped mid-read");
    pcscd::wait_until_empty(READER);
    flaky.insert(seniors::card(3001));
    kiosk.wait_for(
        "the confirm screen",
        STEP,
        confirm_for(&seniors::card(3001)),
    );
    kiosk.press(Button::Confirm);
    kiosk.wait_for("the done screen", STEP, is_done);
    kiosk.press(Button::Home);
    kiosk.wait_for("home", STEP, is_home);
    flaky.remove();
    drop(flaky);
    pcscd::wait_until_empty(READER);

    // 2. The emulator stops altogether on the confirm screen (the reader's card link is gone),
    // then a new one connects with the next resident's card: a new session starts and prints.
    let mut emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    emulator.insert(seniors::card(3002));
    kiosk.wait_for(
        "the confirm screen",
        STEP,
        confirm_for(&seniors::card(3002)),
    );
    emulator.stop();
    drop(emulator);
    pcscd::wait_until_empty(READER);
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    pcsc_session(&emulator, 3003);
    drop(emulator);

    // 3. The reader itself disappears (pcscd stops) and comes back, when pcscd is ours.
    if pcscd.is_ours() {
        pcscd.restart();
        // The kiosk reaches the new pcscd on its own (it retries while the service is gone).
        let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
        pcsc_session(&emulator, 3004);
        drop(emulator);
    } else {
        eprintln!("pcscd was already running: its restart is left out");
    }

    assert!(kiosk.flush(STEP), "the journal caught up");
    let codes = checks::codes_of_kiosk(&central, "K-READER");
    checks::assert_one_code_per_person(&codes);
    let expected = if pcscd.is_ours() { 4 } else { 3 };
    assert_eq!(codes.len(), expected, "{codes:?}");
    assert!(
        !codes
            .iter()
            .any(|c| c.id_number == seniors::card(3002).id_number.as_str()),
        "nothing issued for the resident whose card went away before 申领"
    );
    assert_eq!(slip_qr_texts(&printer.received()).len(), expected);
    assert!(kiosk.stop(STEP));
    checks::assert_journal_exactly_once(&central, "K-READER", &dir.path().join("data"));
}

/// A TCP relay in front of the central that can lose the central's answers: once armed, and
/// from the moment the central holds a given number of codes, what the kiosk sends still
/// reaches the central, but every answer is dropped and the kiosk's connection closed, as when
/// the network fails on the way back. (Until then handshakes and heartbeats pass, so the issue
/// request itself is sure to arrive.)
struct LossyRelay {
    port: u16,
    lose: std::sync::Arc<std::sync::atomic::AtomicBool>,
    from_codes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl LossyRelay {
    fn start(central_port: u16, central_db: std::path::PathBuf) -> LossyRelay {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::Ordering;

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let lose = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let from_codes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let losing = std::sync::Arc::clone(&lose);
        let threshold = std::sync::Arc::clone(&from_codes);
        let codes_held = move || -> usize {
            let db = rusqlite::Connection::open_with_flags(
                &central_db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            let count: i64 = db
                .query_row("SELECT COUNT(*) FROM codes", [], |row| row.get(0))
                .unwrap();
            usize::try_from(count).unwrap()
        };
        let codes_held = std::sync::Arc::new(codes_held);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { continue };
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", central_port)) else {
                    continue;
                };
                let (mut from_client, mut to_server) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_client, &mut to_server);
                    let _ = to_server.shutdown(Shutdown::Write);
                });
                let losing = std::sync::Arc::clone(&losing);
                let threshold = std::sync::Arc::clone(&threshold);
                let codes_held = std::sync::Arc::clone(&codes_held);
                std::thread::spawn(move || {
                    let mut buffer = [0_u8; 16 * 1024];
                    loop {
                        match server.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(_)
                                if losing.load(Ordering::SeqCst)
                                    && codes_held() >= threshold.load(Ordering::SeqCst) =>
                            {
                                break;
                            }
                            Ok(n) => {
                                if client.write_all(&buffer[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = server.shutdown(Shutdown::Both);
                });
            }
        });
        LossyRelay {
            port,
            lose,
            from_codes,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Loses every answer once the central holds `codes` codes.
    fn lose_answers_from(&self, codes: usize) {
        use std::sync::atomic::Ordering;
        self.from_codes.store(codes, Ordering::SeqCst);
        self.lose.store(true, Ordering::SeqCst);
    }

    fn keep_answers(&self) {
        self.lose.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_code_replaced_while_its_answer_was_lost_is_never_printed() {
    let TwoHalls {
        dir,
        central,
        resident,
        id_number,
        printer,
        here,
        other_printer: _other_printer,
        other,
        relay,
    } = TwoHalls::start(4100, true);
    let relay = relay.unwrap();

    // 申领 here: code 1, printed.
    simulated_session(&here, resident.clone());
    assert_eq!(central.codes_of(&id_number).len(), 1);

    // Back for 补领; the central issues code 2 for it, but its answer is lost on the way back.
    let reader = here.handle.sim.reader.clone().unwrap();
    reader.place(resident.clone());
    here.wait_for("the confirm screen", STEP, confirm_for(&resident));
    relay.lose_answers_from(2);
    here.press(Button::Confirm);
    here.wait_for("an error screen", STEP, is_error);
    relay.keep_answers();
    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 2, "the request reached the central: {codes:?}");
    let lost_answer = codes[1].clone();

    // Meanwhile the resident reissues at the other kiosk: code 3 replaces code 2.
    simulated_session(&other, resident.clone());
    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert_eq!(codes[1].status, "superseded");

    // 重试 here: the same request id gets code 2 back, marked replaced; it is not printed.
    here.press(Button::Retry);
    here.wait_for("the code-changed error", STEP, |s| {
        matches!(
            s,
            Screen::Error {
                error: FlowError::CodeChanged,
                ..
            }
        )
    });
    assert_eq!(
        slip_qr_texts(&printer.received()).len(),
        1,
        "only the 申领 slip"
    );

    // 重试 identifies again; 补领 (the same offer) goes out under a fresh request id and prints
    // the active code.
    retry_identify_and_print(&here, &resident);
    reader.remove();

    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 4, "{codes:?}");
    let active: Vec<_> = codes.iter().filter(|c| c.status == "active").collect();
    assert_eq!(active.len(), 1, "{codes:?}");
    assert_ne!(active[0].request_id, lost_answer.request_id);
    let slips = slip_qr_texts(&printer.received());
    assert_eq!(slips, [codes[0].qr_text.clone(), active[0].qr_text.clone()]);
    assert!(!slips.contains(&lost_answer.qr_text));
    assert_eq!(central.verify(&slips[1])["result"], "valid");

    // The lost answer's attempt: issued, never printed, reported print-failed.
    assert!(here.flush(STEP), "the journal caught up");
    let events = events_of_request(&central, "K-HERE", &lost_answer.request_id);
    assert!(events.contains(&"code_issued".to_owned()), "{events:?}");
    assert!(!events.contains(&"printed".to_owned()), "{events:?}");
    let reported = &central.codes_of(&id_number)[1];
    assert!(reported.print_failed && !reported.printed, "{reported:?}");
    assert!(here.stop(STEP));
    assert!(other.stop(STEP));
    checks::assert_journal_exactly_once(&central, "K-HERE", &dir.path().join("K-HERE/data"));
}
