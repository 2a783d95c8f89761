//! The PC/SC backend end to end: `pcscd` with the vpcd driver, our emulated reader connected to
//! it, and [`PcscReader`] reading through the real PC/SC stack.
//!
//! Needs the Debian packages `pcscd` and `vsmartcard-vpcd` (`scripts/test` installs them). If
//! `pcscd` is not running, the test starts it in the foreground (as root, or with `/run/pcscd`
//! writable) and stops it at the end. vpcd's port is fixed, so every scenario runs in the one
//! test function, one after the other.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use idcard::emulator::{Emulator, EmulatorConfig};
use idcard::pcsc::{self, PcscError, PcscReader, ReaderSelection};
use idcard::{CardReader, CardType, IdCard, ReadError, ReadPolicy, ReaderEvent, demo_cards};
use support::Pcscd;

/// The virtual reader vpcd offers on its default port.
const READER: &str = "Virtual PCD 00 00";
/// An upper bound for any one event; normally they take well under a second.
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

fn card_of(card_type: CardType) -> IdCard {
    demo_cards()
        .into_iter()
        .find(|c| c.card_type == card_type)
        .unwrap()
}

fn selection() -> ReaderSelection {
    ReaderSelection::Named(READER.to_owned())
}

/// The next event, which must satisfy `expected`.
fn expect(
    events: &Receiver<ReaderEvent>,
    what: &str,
    expected: impl FnOnce(&ReaderEvent) -> bool,
) -> ReaderEvent {
    let event = events
        .recv_timeout(EVENT_TIMEOUT)
        .unwrap_or_else(|e| panic!("no event while waiting for {what}: {e}"));
    assert!(expected(&event), "waiting for {what}, got {event:?}");
    event
}

fn expect_present(events: &Receiver<ReaderEvent>) {
    expect(
        events,
        "CardPresent",
        |e| matches!(e, ReaderEvent::CardPresent { reader } if reader == READER),
    );
}

fn expect_read(events: &Receiver<ReaderEvent>, card: &IdCard) {
    expect(
        events,
        "CardRead",
        |e| matches!(e, ReaderEvent::CardRead { reader, card: read } if reader == READER && **read == *card),
    );
}

fn expect_removed(events: &Receiver<ReaderEvent>) {
    expect(
        events,
        "CardRemoved",
        |e| matches!(e, ReaderEvent::CardRemoved { reader } if reader == READER),
    );
}

/// Places `config`'s card, expects it read, lifts it; returns what the emulator did.
fn read_with(
    events: &Receiver<ReaderEvent>,
    config: EmulatorConfig,
) -> idcard::emulator::EmulatorStats {
    let card = config.card.clone().unwrap();
    let mut emulator = Emulator::start(config).unwrap();
    expect_present(events);
    expect_read(events, &card);
    let stats = emulator.stats();
    emulator.stop();
    expect_removed(events);
    stats
}

#[test]
fn cards_are_read_through_pcscd_and_vpcd() {
    let mut pcscd = Pcscd::ensure(READER);

    assert!(
        pcsc::list_readers().unwrap().iter().any(|r| r == READER),
        "list_readers shows {READER}"
    );

    let mut reader = PcscReader::new(selection());
    let events = reader.start();
    expect(
        &events,
        "ReaderAttached",
        |e| matches!(e, ReaderEvent::ReaderAttached { reader } if reader == READER),
    );

    // Every card type, fault-free.
    for card_type in CardType::ALL {
        let stats = read_with(&events, EmulatorConfig::with_card(card_of(card_type)));
        assert_eq!(stats.reads_answered, 1, "{card_type:?}: {stats:?}");
    }

    // A card that settles: find answers 80 three times first.
    let stats = read_with(
        &events,
        EmulatorConfig {
            settle_no_card: 3,
            ..EmulatorConfig::with_card(card_of(CardType::Resident))
        },
    );
    assert_eq!(stats.finds_no_card, 3, "{stats:?}");

    // A corrupted checksum once: the read is retried.
    let stats = read_with(
        &events,
        EmulatorConfig {
            corrupt_checksum_once: true,
            ..EmulatorConfig::with_card(card_of(CardType::Foreigner2023))
        },
    );
    assert_eq!(
        (stats.checksums_corrupted, stats.reads_answered),
        (1, 2),
        "{stats:?}"
    );

    // A 41 read failure once: the read is retried.
    let stats = read_with(
        &events,
        EmulatorConfig {
            fail_read_once: true,
            ..EmulatorConfig::with_card(card_of(CardType::Permit))
        },
    );
    assert_eq!(
        (stats.reads_failed, stats.reads_answered),
        (1, 1),
        "{stats:?}"
    );

    // The card lifted in the middle of the read: a retry event, not a crash; placed again, it
    // reads.
    let card = card_of(CardType::Foreigner2017);
    let emulator = Emulator::start(EmulatorConfig {
        drop_during_read: true,
        ..EmulatorConfig::with_card(card.clone())
    })
    .unwrap();
    expect_present(&events);
    expect(
        &events,
        "ReadRetry (card removed)",
        |e| matches!(e, ReaderEvent::ReadRetry { reader, reason: ReadError::CardRemoved } if reader == READER),
    );
    expect_removed(&events);
    assert_eq!(emulator.stats().drops, 1);
    emulator.insert(card.clone());
    expect_present(&events);
    expect_read(&events, &card);
    // Swapping the card: the old one leaves, the new one is read.
    let other = card_of(CardType::Resident);
    emulator.insert(other.clone());
    expect_removed(&events);
    expect_present(&events);
    expect_read(&events, &other);
    emulator.remove();
    expect_removed(&events);

    // stop() returns promptly, also while waiting for a card.
    let started = Instant::now();
    reader.stop();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    assert!(events.recv_timeout(Duration::from_secs(1)).is_err());
    drop(emulator);

    // The blocking helper for diagnostics: no card is a time-out, a card is read.
    let policy = ReadPolicy::default();
    match pcsc::read_one(&selection(), &policy, Duration::from_secs(1)) {
        Err(PcscError::Timeout { last: None, .. }) => {}
        other => panic!("read_one without a card: {other:?}"),
    }
    match pcsc::read_one(
        &ReaderSelection::Named("No Such Reader".into()),
        &policy,
        Duration::from_secs(1),
    ) {
        Err(PcscError::NoReader { .. }) => {}
        other => panic!("read_one on a missing reader: {other:?}"),
    }
    let card = card_of(CardType::Resident);
    let emulator = Emulator::start(EmulatorConfig::with_card(card.clone())).unwrap();
    assert_eq!(
        pcsc::read_one(&selection(), &policy, EVENT_TIMEOUT).unwrap(),
        card
    );
    drop(emulator);
    support::wait_until_empty(READER);

    // The emulator program, with faults from its command line.
    let mut program =
        support::spawn_emulator(&["--card", "permit", "--fail-read-once", "--settle", "2"]);
    let read = pcsc::read_one(&selection(), &policy, EVENT_TIMEOUT);
    program.kill().unwrap();
    program.wait().unwrap();
    assert_eq!(read.unwrap(), card_of(CardType::Permit));
    support::wait_until_empty(READER);

    // The service going away and coming back (only when this test runs pcscd): the reader is
    // detached, attached again, and reads without a restart.
    if pcscd.is_ours() {
        let mut reader = PcscReader::new(selection());
        let events = reader.start();
        expect(&events, "ReaderAttached", |e| {
            matches!(e, ReaderEvent::ReaderAttached { .. })
        });
        let card = card_of(CardType::Foreigner2023);
        let _emulator = Emulator::start(EmulatorConfig::with_card(card.clone())).unwrap();
        expect_present(&events);
        expect_read(&events, &card);
        pcscd.restart();
        // Until the reader is back: the card and the reader go, the outage is reported (once
        // per outage, but a restart may look like two).
        let mut outage = Vec::new();
        loop {
            let event = expect(&events, "ReaderAttached again", |_| true);
            if matches!(&event, ReaderEvent::ReaderAttached { reader } if reader == READER) {
                break;
            }
            outage.push(event);
        }
        assert!(
            matches!(
                outage.as_slice(),
                [
                    ReaderEvent::CardRemoved { .. },
                    ReaderEvent::ReaderDetached { .. },
                    ReaderEvent::Error { reader: None, .. },
                    ..
                ]
            ) && outage[2..]
                .iter()
                .all(|e| matches!(e, ReaderEvent::Error { reader: None, .. })),
            "events while pcscd restarted: {outage:?}"
        );
        expect_present(&events);
        expect_read(&events, &card);
        reader.stop();
    }
}
