//! A central outage: sessions that need the central end in a clear state, the journal keeps
//! what happens meanwhile, and once the central is back everything arrives, once.
//!
//! Real parts: the central over HTTPS with mutual TLS (stopped and started again on the same
//! port and data), the TCP printer emulator, the journal on disk; the card is placed on the
//! simulated reader.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeSet;

use kiosk::journal::Journal;
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use support::{Central, Reader};

#[test]
fn sessions_fail_clearly_during_an_outage_and_the_journal_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut central = Central::start(&dir.path().join("central"));
    let certs = central.provision("K-OUT", &dir.path().join("certs"));
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let config = support::write_config(
        dir.path(),
        "K-OUT",
        &[central.url()],
        &certs,
        &Reader::Simulated,
        &printer.url(),
    );
    let card = idcard::demo_cards().into_iter().next().unwrap();
    let run = |action: &str| {
        support::run_kiosk(&mut support::kiosk(
            &config,
            &[
                "run-once",
                "--action",
                action,
                "--demo-card",
                "0",
                "--timeout",
                "60",
            ],
        ))
    };

    let (output, summary) = run("apply");
    assert!(output.status.success(), "{summary}");
    assert_eq!(summary["serial"], 1);

    central.stop();
    let (output, summary) = run("reissue");
    assert!(!output.status.success(), "no central, no slip");
    assert_eq!(summary["outcome"], "central_unreachable", "{summary}");
    assert_eq!(summary["journal_synced"], false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no slip was printed"), "{stderr}");
    assert_eq!(support::slips_printed(&printer.received()), 1);
    let data = dir.path().join("data");
    let backlog = Journal::open(&data.join("journal.db"))
        .unwrap()
        .backlog()
        .unwrap();
    assert!(
        backlog > 0,
        "the failed session's events wait in the journal"
    );

    central.restart();
    let (output, report) = support::run_kiosk(&mut support::kiosk(&config, &["sync"]));
    assert!(output.status.success(), "{report}");
    assert_eq!(report["backlog"], 0);
    let kiosk_ids = support::kiosk_event_ids(&data);
    let central_ids = central.event_ids("K-OUT");
    assert_eq!(central_ids.len(), kiosk_ids.len());
    assert_eq!(central_ids.into_iter().collect::<BTreeSet<_>>(), kiosk_ids);

    // And service resumes: the reissue now prints serial 2.
    let (output, summary) = run("reissue");
    assert!(output.status.success(), "{summary}");
    assert_eq!(summary["serial"], 2);
    let codes = central.codes_of(card.id_number.as_str());
    assert_eq!(codes.len(), 2);
    assert_eq!(codes[0].status, "superseded");
    assert_eq!(codes[1].status, "active");
}
