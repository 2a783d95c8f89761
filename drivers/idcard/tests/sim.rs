//! The simulated reader: the order of its events for every way a card and a reader come and go.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use idcard::read::ReadError;
use idcard::sim::{SimHandle, SimulatedReader};
use idcard::text::IdCard;
use idcard::{CardReader, ReaderEvent, demo_cards};

const NAME: &str = "Simulated reader 0";

fn attached() -> ReaderEvent {
    ReaderEvent::ReaderAttached {
        reader: NAME.to_owned(),
    }
}

fn detached() -> ReaderEvent {
    ReaderEvent::ReaderDetached {
        reader: NAME.to_owned(),
    }
}

fn present() -> ReaderEvent {
    ReaderEvent::CardPresent {
        reader: NAME.to_owned(),
    }
}

fn read(card: &IdCard) -> ReaderEvent {
    ReaderEvent::CardRead {
        reader: NAME.to_owned(),
        card: Box::new(card.clone()),
    }
}

fn retry(reason: ReadError) -> ReaderEvent {
    ReaderEvent::ReadRetry {
        reader: NAME.to_owned(),
        reason,
    }
}

fn removed() -> ReaderEvent {
    ReaderEvent::CardRemoved {
        reader: NAME.to_owned(),
    }
}

/// Stops the reader and returns every event it sent (the channel closes when its thread ends).
fn stop_and_collect(
    reader: &mut SimulatedReader,
    events: Receiver<ReaderEvent>,
) -> Vec<ReaderEvent> {
    reader.stop();
    events.iter().collect()
}

fn started() -> (SimulatedReader, SimHandle, Receiver<ReaderEvent>) {
    let mut reader = SimulatedReader::new(NAME);
    let handle = reader.handle();
    let events = reader.start();
    (reader, handle, events)
}

#[test]
fn place_and_remove() {
    let card = demo_cards().remove(0);
    let (mut reader, handle, events) = started();
    handle.place(card.clone());
    handle.remove();
    handle.remove();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [attached(), present(), read(&card), removed()]
    );
}

#[test]
fn events_arrive_as_they_happen() {
    let card = demo_cards().remove(1);
    let (mut reader, handle, events) = started();
    let next = || events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(next(), attached());
    handle.place(card.clone());
    assert_eq!(next(), present());
    assert_eq!(next(), read(&card));
    handle.remove();
    assert_eq!(next(), removed());
    assert!(events.recv_timeout(Duration::from_millis(50)).is_err());
    reader.stop();
}

#[test]
fn every_demo_card_is_read() {
    let cards = demo_cards();
    let (mut reader, handle, events) = started();
    let mut expected = vec![attached()];
    for card in &cards {
        handle.place(card.clone());
        handle.remove();
        expected.extend([present(), read(card), removed()]);
    }
    assert_eq!(stop_and_collect(&mut reader, events), expected);
}

#[test]
fn a_new_card_replaces_the_one_on_the_reader() {
    let cards = demo_cards();
    let (mut reader, handle, events) = started();
    handle.place(cards[0].clone());
    handle.place(cards[1].clone());
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [
            attached(),
            present(),
            read(&cards[0]),
            removed(),
            present(),
            read(&cards[1])
        ]
    );
}

#[test]
fn commands_given_before_the_start_follow_the_attach() {
    let card = demo_cards().remove(0);
    let mut reader = SimulatedReader::new(NAME);
    let handle = reader.handle();
    handle.place(card.clone());
    let events = reader.start();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [attached(), present(), read(&card)]
    );
}

#[test]
fn unplugging_and_plugging_the_reader() {
    let cards = demo_cards();
    let (mut reader, handle, events) = started();
    handle.place(cards[0].clone());
    handle.detach_reader();
    handle.detach_reader();
    // Nothing is reported while the reader is away; the card on it is read when it comes back.
    handle.remove();
    handle.place(cards[2].clone());
    handle.attach_reader();
    handle.attach_reader();
    handle.remove();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [
            attached(),
            present(),
            read(&cards[0]),
            removed(),
            detached(),
            attached(),
            present(),
            read(&cards[2]),
            removed(),
        ]
    );
}

#[test]
fn an_unreadable_card_asks_for_a_retry() {
    let (mut reader, handle, events) = started();
    handle.place_unreadable(ReadError::Timeout);
    handle.remove();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [attached(), present(), retry(ReadError::Timeout), removed()]
    );
}

#[test]
fn removal_during_a_slow_read_is_a_retry() {
    let card = demo_cards().remove(0);
    let mut reader = SimulatedReader::new(NAME).with_read_delay(Duration::from_secs(30));
    let handle = reader.handle();
    let events = reader.start();
    handle.place(card);
    handle.remove();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [
            attached(),
            present(),
            retry(ReadError::CardRemoved),
            removed()
        ]
    );
}

#[test]
fn a_slow_read_finishes_after_the_delay() {
    let card = demo_cards().remove(0);
    let delay = Duration::from_millis(100);
    let mut reader = SimulatedReader::new(NAME).with_read_delay(delay);
    let handle = reader.handle();
    let events = reader.start();
    let next = || events.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(next(), attached());
    let placed = Instant::now();
    handle.place(card.clone());
    assert_eq!(next(), present());
    assert_eq!(next(), read(&card));
    assert!(placed.elapsed() >= delay);
    reader.stop();
}

#[test]
fn stop_is_prompt_during_a_slow_read_and_the_reader_restarts() {
    let card = demo_cards().remove(0);
    let mut reader = SimulatedReader::new(NAME).with_read_delay(Duration::from_secs(30));
    let handle = reader.handle();
    let events = reader.start();
    handle.place(card);
    let start = Instant::now();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [attached(), present()]
    );
    assert!(start.elapsed() < Duration::from_secs(5));

    // The card is still on the reader when it starts again.
    let events = reader.start();
    handle.remove();
    assert_eq!(
        stop_and_collect(&mut reader, events),
        [
            attached(),
            present(),
            retry(ReadError::CardRemoved),
            removed()
        ]
    );
}

#[test]
fn the_handle_works_from_other_threads_and_the_reader_is_a_card_reader() {
    let card = demo_cards().remove(0);
    let mut reader: Box<dyn CardReader> = Box::new(SimulatedReader::new(NAME));
    let events = reader.start();
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)).unwrap(),
        attached()
    );
    reader.stop();
    reader.stop();
    assert!(events.recv().is_err());

    let mut reader = SimulatedReader::new(NAME);
    let handle = reader.handle();
    let events = reader.start();
    let placer = {
        let handle = handle.clone();
        let card = card.clone();
        std::thread::spawn(move || handle.place(card))
    };
    placer.join().unwrap();
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)).unwrap(),
        attached()
    );
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)).unwrap(),
        present()
    );
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)).unwrap(),
        read(&card)
    );
    drop(reader);
    assert!(events.recv().is_err());
    // A handle outliving its reader does nothing.
    handle.remove();
}

#[test]
fn debug_of_an_event_masks_the_card() {
    let card = demo_cards().remove(0);
    let debug = format!("{:?}", read(&card));
    assert!(!debug.contains(card.id_number.as_str()));
    assert!(!debug.contains(&card.name));
}
