//! The mapping of `DLE EOT 1..4` answers to one printer status, seen from outside the crate.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use printer::status::{REQUESTS, is_valid_answer, map_answers, request};
use printer::{PrinterStatus, StatusAnswers};

const OK: u8 = 0x12;

#[test]
fn every_valid_byte_is_valid_and_nothing_else() {
    let valid: Vec<u8> = (0..=255u8).filter(|b| is_valid_answer(*b)).collect();
    // 0xx1xx10: four free bits.
    assert_eq!(valid.len(), 16);
    assert!(
        valid
            .iter()
            .all(|b| b & 0x80 == 0 && b & 0x10 != 0 && b & 0x03 == 0x02)
    );
}

#[test]
fn no_invalid_or_missing_answer_is_ever_ready() {
    for n in REQUESTS {
        for byte in 0..=255u8 {
            let mut answers = StatusAnswers::from_bytes([OK; 4]);
            answers.set(n, Some(byte));
            let status = map_answers(&answers);
            if !is_valid_answer(byte) {
                assert!(!status.can_print(), "n={n} byte={byte:#04x}: {status}");
            }
        }
        let mut answers = StatusAnswers::from_bytes([OK; 4]);
        answers.set(n, None);
        assert_eq!(map_answers(&answers), PrinterStatus::NoAnswer);
    }
}

#[test]
fn typical_printer_answers() {
    // Paper end: offline (n=1), stopped at paper end (n=2), paper end sensor (n=4).
    let paper_out = StatusAnswers::from_bytes([0x1A, 0x32, 0x12, 0x72]);
    assert_eq!(paper_out.status(), PrinterStatus::PaperOut);
    // Cover open: offline, cover open.
    let cover = StatusAnswers::from_bytes([0x1A, 0x16, 0x12, 0x12]);
    assert_eq!(cover.status(), PrinterStatus::CoverOpen);
    // Cutter jam: offline, error, autocutter.
    let cutter = StatusAnswers::from_bytes([0x1A, 0x52, 0x1A, 0x12]);
    assert_eq!(cutter.status(), PrinterStatus::CutterError);
    let near_end = StatusAnswers::from_bytes([0x12, 0x12, 0x12, 0x1E]);
    assert_eq!(near_end.status(), PrinterStatus::PaperNearEnd);
    assert_eq!(request(2), [0x10, 0x04, 0x02]);
}

#[test]
fn names_are_stable() {
    assert_eq!(PrinterStatus::PaperNearEnd.as_str(), "paper-near-end");
    assert_eq!(PrinterStatus::NoAnswer.to_string(), "no answer");
    assert!(PrinterStatus::CoverOpen.is_fault());
    assert!(PrinterStatus::Unknown.is_unknown());
}
