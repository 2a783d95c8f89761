//! Reliability: SIGKILL at random points over many sessions. One kiosk (the `kiosk` binary, one
//! `run-once` per resident, each resident a different senior applying for the first time) is
//! killed with SIGKILL at a random moment of most sessions: after a random delay within the length
//! of a whole session (so anywhere: start-up, reconciliation, the card read over PC/SC, identify,
//! the journal writes, issuing, printing, the sync loop's uploads), or at one of the named pause
//! points of an issuance, or not at all. The next session is the restart. At the end `kiosk sync`
//! settles and uploads what is left, and the checks of the kiosk's crash test hold over the whole
//! run: no attempt issued a second code, nothing printed that the current resident did not ask
//! for (every slip printed during a session carries that session's resident's code, and no code
//! is printed twice), and every journal event is at the central exactly once.
//!
//! Real parts: pcscd + vpcd + the emulated card, the TCP printer emulator, the central over
//! HTTPS with mutual TLS, the journal on disk.
//!
//! `RELIABILITY_SESSIONS` sets the number of sessions (default 200), `RELIABILITY_SEED` the
//! seed of the random schedule (printed at the start; the schedule of kills replays exactly, the
//! instruction a timed kill lands on within a few milliseconds).

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

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use idcard::emulator::{Emulator, EmulatorConfig};
use kiosk::failpoint::Point;
use kiosk::journal::{AttemptState, Journal};
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use protocol::api::RequestId;
use support::checks::{self, slip_qr_texts};
use support::{Central, Reader, seniors};

const READER: &str = "Virtual PCD 00 00";
const KIOSK_ID: &str = "K-REL";

/// splitmix64: small and deterministic, so that a schedule replays from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How a session ends.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// It runs to its end.
    Finish,
    /// SIGKILL at a named pause point.
    At(Point),
    /// SIGKILL this long after the start.
    After(Duration),
}

/// Waits until no client holds the card on `reader` (pcscd has cleaned up after a client killed
/// with the card in use).
fn wait_until_released(reader: &str) {
    use pcsc::{Context, ReaderState, Scope, State};
    let context = Context::establish(Scope::User).unwrap();
    let name = std::ffi::CString::new(reader).unwrap();
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        context
            .get_status_change(Duration::from_millis(200), &mut states)
            .or_else(|e| {
                if e == pcsc::Error::Timeout {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .unwrap();
        let state = states[0].event_state();
        if !state.intersects(State::INUSE | State::EXCLUSIVE) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{reader} stays in use: {state:?}"
        );
        states[0].sync_current_state();
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

#[test]
fn random_sigkills_over_many_sessions_never_issue_twice_never_print_unasked_and_lose_no_event() {
    let sessions = usize::try_from(env_number("RELIABILITY_SESSIONS", 200)).unwrap();
    assert!(sessions >= 1, "RELIABILITY_SESSIONS must be at least 1");
    let seed = env_number(
        "RELIABILITY_SEED",
        u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % u128::from(u64::MAX),
        )
        .unwrap(),
    );
    eprintln!(
        "reliability: {sessions} sessions, seed {seed} (replay with RELIABILITY_SEED={seed} \
         RELIABILITY_SESSIONS={sessions})"
    );
    let mut rng = Rng(seed);
    let started = Instant::now();

    let _pcscd = pcscd::Pcscd::ensure(READER);
    pcscd::wait_until_empty(READER);
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("central"));
    seniors::import(central.data.store().unwrap().as_ref(), 0..sessions);
    let certs = central.provision(KIOSK_ID, &dir.path().join("certs"));
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let config = support::write_config(
        dir.path(),
        KIOSK_ID,
        &[central.url()],
        &certs,
        &Reader::Pcsc(READER),
        &printer.url(),
    );
    let mut emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let run_once = || {
        support::kiosk(
            &config,
            &["run-once", "--action", "apply", "--timeout", "90"],
        )
    };

    // The length of a whole session, measured on the first one (which is never killed): timed
    // kills fall anywhere in it.
    let mut whole = Duration::from_secs(3);
    let mut plans: BTreeMap<&str, usize> = BTreeMap::new();
    let mut printed_sessions = 0;
    for session in 0..sessions {
        let card = seniors::card(session);
        let holder = card.id_number.as_str().to_owned();
        // pcscd done with the killed kiosk's card handle (it resets the card for a client that
        // died in a transaction), the last resident's card off and seen off by pcscd (vpcd
        // polls: a card swapped faster than that looks like the same card), then this
        // resident's card on.
        wait_until_released(READER);
        emulator.remove();
        pcscd::wait_until_empty(READER);
        emulator.insert(card);
        let plan = if session == 0 {
            Plan::Finish
        } else {
            match rng.below(100) {
                0..20 => Plan::At(Point::ALL[usize::try_from(rng.below(4)).unwrap()]),
                20..90 => {
                    let window = u64::try_from(whole.as_millis()).unwrap() * 11 / 10;
                    Plan::After(Duration::from_millis(rng.below(window + 1)))
                }
                _ => Plan::Finish,
            }
        };
        let before = printer.received().len();
        let t = Instant::now();
        match plan {
            Plan::Finish => {
                *plans.entry("finish").or_default() += 1;
                let (output, summary) = support::run_kiosk(&mut run_once());
                assert!(
                    output.status.success(),
                    "session {session} (not killed) did not print: {summary}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                assert_eq!(summary["outcome"], "printed", "session {session}");
                if session == 0 {
                    whole = t.elapsed();
                    eprintln!("reliability: a whole session takes {whole:?}");
                }
            }
            Plan::At(point) => {
                *plans.entry(point.as_str()).or_default() += 1;
                support::kill_at(
                    &mut run_once(),
                    point.as_str(),
                    &format!("session {session}"),
                );
            }
            Plan::After(delay) => {
                *plans.entry("timed").or_default() += 1;
                let mut child = run_once()
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                std::thread::sleep(delay);
                let _ = child.kill(); // SIGKILL (nothing happens if it had finished)
                child.wait().unwrap();
            }
        }

        // What reached the printer during this session is this resident's slip, or nothing.
        let received = printer.received();
        let fresh = &received[before..];
        let texts = slip_qr_texts(fresh);
        assert!(
            texts.len() <= 1,
            "session {session} ({plan:?}): {} QR codes printed in one session",
            texts.len()
        );
        if let Some(text) = texts.first() {
            let codes = checks::codes_of_kiosk(&central, KIOSK_ID);
            let code = codes
                .iter()
                .find(|c| c.qr_text == *text)
                .unwrap_or_else(|| {
                    panic!("session {session} ({plan:?}) printed a code the central never issued")
                });
            assert_eq!(
                code.id_number, holder,
                "session {session} ({plan:?}) printed another resident's code: nobody asked"
            );
            printed_sessions += 1;
        }
        if matches!(plan, Plan::Finish) {
            assert_eq!(support::slips_printed(fresh), 1, "session {session}");
        }
    }
    emulator.remove();
    emulator.stop();
    eprintln!(
        "reliability: {sessions} sessions in {:?} ({plans:?}); {printed_sessions} printed a slip",
        started.elapsed()
    );

    // Everything left goes up; nothing prints.
    let before = printer.received().len();
    let (output, report) = support::run_kiosk(&mut support::kiosk(&config, &["sync"]));
    assert!(
        output.status.success(),
        "kiosk sync: {report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(report["backlog"], 0);
    assert_eq!(report["unsettled"], 0);
    assert_eq!(printer.received().len(), before, "kiosk sync printed");

    // No attempt issued twice; every code belongs to an attempt the kiosk journaled.
    let codes = checks::codes_of_kiosk(&central, KIOSK_ID);
    checks::assert_one_code_per_person(&codes);
    let data = dir.path().join("data");
    let journal = Journal::open(&data.join("journal.db")).unwrap();
    assert!(journal.unsettled().unwrap().is_empty());
    for code in &codes {
        let request_id = RequestId::new(uuid::Uuid::parse_str(&code.request_id).unwrap());
        let attempt = journal
            .attempt(request_id)
            .unwrap()
            .unwrap_or_else(|| panic!("code {} has no attempt in the journal", code.code_id));
        match attempt.state {
            AttemptState::Printed => assert!(code.printed, "{code:?}"),
            AttemptState::PrintFailed => {
                assert!(code.print_failed && !code.printed, "{code:?}");
            }
            other => panic!("attempt of {} left {other:?}", code.code_id),
        }
    }

    // No code printed twice; every code the central counts as printed is on a slip.
    let all = slip_qr_texts(&printer.received());
    let mut seen = BTreeMap::new();
    for text in &all {
        *seen.entry(text.as_str()).or_insert(0) += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "a code was printed more than once"
    );
    for code in codes.iter().filter(|c| c.printed) {
        assert!(
            seen.contains_key(code.qr_text.as_str()),
            "{} counts as printed but no slip carries it",
            code.code_id
        );
    }

    // Every event the kiosk journaled is at the central, once.
    checks::assert_journal_exactly_once(&central, KIOSK_ID, &data);
    eprintln!(
        "reliability: {} codes issued, {} slips, done in {:?}",
        codes.len(),
        all.len(),
        started.elapsed()
    );
}
