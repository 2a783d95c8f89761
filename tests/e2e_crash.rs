//! Crash safety: the kiosk is killed with SIGKILL at each step of an issuance in turn (the
//! attempt journaled but not sent, the answer journaled but not printed, the slip sent to the
//! printer but its outcome not journaled, the outcome journaled but not reported), then started
//! again. After the restart there is never a second code for the attempt, never a print nobody
//! asked for, and every journal event reaches the central exactly once.
//!
//! Real parts: pcscd + vpcd + the emulated card, the TCP printer emulator, the central over
//! HTTPS with mutual TLS, the journal on disk.

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

use std::collections::BTreeSet;

use idcard::emulator::{Emulator, EmulatorConfig};
use kiosk::failpoint::Point;
use kiosk::journal::{AttemptState, Journal};
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use protocol::api::RequestId;
use support::{Central, Reader};

const READER: &str = "Virtual PCD 00 00";

#[test]
fn a_kill_at_any_step_never_issues_twice_never_prints_unasked_and_loses_no_event() {
    let _pcscd = pcscd::Pcscd::ensure(READER);
    let card = idcard::demo_cards().into_iter().next().unwrap();
    let id_number = card.id_number.as_str().to_owned();

    for point in Point::ALL {
        let name = point.as_str();
        pcscd::wait_until_empty(READER);
        let dir = tempfile::tempdir().unwrap();
        let central = Central::start(&dir.path().join("central"));
        let certs = central.provision("K-CRASH", &dir.path().join("certs"));
        let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
        let config = support::write_config(
            dir.path(),
            "K-CRASH",
            &[central.url()],
            &certs,
            &Reader::Pcsc(READER),
            &printer.url(),
        );

        // The session, killed at the step.
        let mut emulator = Emulator::start(EmulatorConfig::with_card(card.clone())).unwrap();
        support::kill_at(
            &mut support::kiosk(
                &config,
                &["run-once", "--action", "apply", "--timeout", "90"],
            ),
            name,
            &format!("killed at {name}"),
        );
        emulator.stop();
        pcscd::wait_until_empty(READER);
        let printed_before = support::slips_printed(&printer.received());
        let expected_prints = usize::from(matches!(point, Point::DuringPrint | Point::AfterPrint));
        assert_eq!(
            printed_before, expected_prints,
            "{name}: slips before the kill"
        );

        // The restart: the same kiosk with its printer and no card, for a few seconds.
        let (output, summary) = support::run_kiosk(&mut support::kiosk(
            &config,
            &["run-once", "--action", "apply", "--timeout", "4"],
        ));
        assert!(!output.status.success(), "{name}: no card, no session");
        assert_eq!(summary["outcome"], "timeout", "{name}: {summary}");
        assert_eq!(
            support::slips_printed(&printer.received()),
            printed_before,
            "{name}: nothing printed after the restart"
        );

        // Then everything left goes up.
        let (output, report) = support::run_kiosk(&mut support::kiosk(&config, &["sync"]));
        assert!(
            output.status.success(),
            "{name}: {report} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(report["backlog"], 0, "{name}");
        assert_eq!(report["unsettled"], 0, "{name}");

        // At most one code, and only for the attempt the kiosk journaled.
        let codes = central.codes_of(&id_number);
        let data = dir.path().join("data");
        let journal = Journal::open(&data.join("journal.db")).unwrap();
        match point {
            Point::BeforeRequest => {
                assert!(
                    codes.is_empty(),
                    "{name}: the request never left: {codes:?}"
                );
            }
            _ => {
                assert_eq!(codes.len(), 1, "{name}: exactly one code: {codes:?}");
                let code = &codes[0];
                let request_id = RequestId::new(uuid::Uuid::parse_str(&code.request_id).unwrap());
                let attempt = journal.attempt(request_id).unwrap().unwrap();
                let expected = if point == Point::AfterPrint {
                    AttemptState::Printed
                } else {
                    AttemptState::PrintFailed
                };
                assert_eq!(attempt.state, expected, "{name}");
                assert_eq!(code.printed, point == Point::AfterPrint, "{name}: {code:?}");
                assert_eq!(
                    code.print_failed,
                    point != Point::AfterPrint,
                    "{name}: the central knows the slip may be missing: {code:?}"
                );
            }
        }

        // Every event the kiosk journaled is at the central, once.
        let kiosk_ids = support::kiosk_event_ids(&data);
        let central_ids = central.event_ids("K-CRASH");
        assert_eq!(central_ids.len(), kiosk_ids.len(), "{name}");
        assert_eq!(
            central_ids.into_iter().collect::<BTreeSet<_>>(),
            kiosk_ids,
            "{name}"
        );
    }
}
