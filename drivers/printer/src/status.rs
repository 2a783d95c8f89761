//! Real-time status: the `DLE EOT n` requests (n = 1..4) and the pure mapping of their one-byte
//! answers to one [`PrinterStatus`].
//!
//! A valid answer matches the bit pattern `0xx1xx10`. The bits used:
//!
//! | n | meaning | bits |
//! |---|---|---|
//! | 1 | printer | bit 3 offline |
//! | 2 | offline cause | bit 2 cover open, bit 5 stopped at paper end, bit 6 error |
//! | 3 | error cause | bit 2 recoverable, bit 3 autocutter, bit 5 unrecoverable, bit 6 auto-recoverable |
//! | 4 | roll paper | bits 2+3 near end, bits 5+6 paper end |
//!
//! A missing answer gives [`PrinterStatus::NoAnswer`] and an invalid one
//! [`PrinterStatus::Unknown`], unless another answer already shows a definite problem; the
//! mapping never says [`PrinterStatus::Ready`] without four valid answers.

use std::fmt;

/// The printer's state, as one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrinterStatus {
    /// Ready to print.
    Ready,
    /// Ready to print, but the roll is nearly used up: a warning for staff, not a refusal.
    PaperNearEnd,
    /// No paper: the printer stopped.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// The autocutter failed, or another error the printer cannot recover from by itself.
    CutterError,
    /// The printer is offline (or stopped by a recoverable error).
    Offline,
    /// The printer did not answer in time, or could not be reached at all.
    NoAnswer,
    /// The printer answered with bytes that are not a valid status.
    Unknown,
}

impl PrinterStatus {
    /// Whether a job can be sent: [`Ready`](Self::Ready) or
    /// [`PaperNearEnd`](Self::PaperNearEnd).
    #[must_use]
    pub fn can_print(self) -> bool {
        matches!(self, Self::Ready | Self::PaperNearEnd)
    }

    /// Whether the status is a definite problem the printer reported (paper out, cover open,
    /// cutter error, offline), as opposed to ready, a warning, or not knowing.
    #[must_use]
    pub fn is_fault(self) -> bool {
        matches!(
            self,
            Self::PaperOut | Self::CoverOpen | Self::CutterError | Self::Offline
        )
    }

    /// Whether the status is unknown: no answer, or an invalid one.
    #[must_use]
    pub fn is_unknown(self) -> bool {
        matches!(self, Self::NoAnswer | Self::Unknown)
    }

    /// A stable, machine-readable name (`ready`, `paper-near-end`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::PaperNearEnd => "paper-near-end",
            Self::PaperOut => "paper-out",
            Self::CoverOpen => "cover-open",
            Self::CutterError => "cutter-error",
            Self::Offline => "offline",
            Self::NoAnswer => "no-answer",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PrinterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ready => "ready",
            Self::PaperNearEnd => "paper near end",
            Self::PaperOut => "paper out",
            Self::CoverOpen => "cover open",
            Self::CutterError => "cutter error",
            Self::Offline => "offline",
            Self::NoAnswer => "no answer",
            Self::Unknown => "unknown",
        })
    }
}

/// `DLE EOT n`: the real-time status request for `n` (1..=4).
#[must_use]
pub fn request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// The four status requests, in the order they are sent.
pub const REQUESTS: [u8; 4] = [1, 2, 3, 4];

/// Whether a byte is a valid real-time status answer (pattern `0xx1xx10`).
#[must_use]
pub fn is_valid_answer(byte: u8) -> bool {
    byte & 0b1001_0011 == 0b0001_0010
}

/// The answers to `DLE EOT 1..4`; `None` where the printer did not answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusAnswers {
    /// `DLE EOT 1`: printer status.
    pub printer: Option<u8>,
    /// `DLE EOT 2`: offline cause.
    pub offline_cause: Option<u8>,
    /// `DLE EOT 3`: error cause.
    pub error_cause: Option<u8>,
    /// `DLE EOT 4`: roll paper sensor.
    pub roll_paper: Option<u8>,
}

impl StatusAnswers {
    /// Answers from four bytes in request order (n = 1..4).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        let [printer, offline_cause, error_cause, roll_paper] = bytes;
        Self {
            printer: Some(printer),
            offline_cause: Some(offline_cause),
            error_cause: Some(error_cause),
            roll_paper: Some(roll_paper),
        }
    }

    /// Sets the answer to request `n` (1..=4); other values of `n` are ignored.
    pub fn set(&mut self, n: u8, answer: Option<u8>) {
        match n {
            1 => self.printer = answer,
            2 => self.offline_cause = answer,
            3 => self.error_cause = answer,
            4 => self.roll_paper = answer,
            _ => {}
        }
    }

    /// The one status these answers mean. See [`map_answers`].
    #[must_use]
    pub fn status(&self) -> PrinterStatus {
        map_answers(self)
    }
}

fn bit(byte: u8, n: u8) -> bool {
    byte & (1 << n) != 0
}

/// Maps the four answers to one status.
///
/// Only valid answers are read. In order of precedence: paper out (n=2 bit 5, or n=4 bits 5+6),
/// cover open (n=2 bit 2), cutter error (n=3 bit 3 autocutter or bit 5 unrecoverable), offline
/// (n=1 bit 3, n=2 bit 6, n=3 bit 2 or bit 6); then, if any answer is missing, no answer; if any
/// is invalid, unknown; then paper near end (n=4 bits 2+3); else ready.
#[must_use]
pub fn map_answers(answers: &StatusAnswers) -> PrinterStatus {
    let valid = |a: Option<u8>| a.filter(|b| is_valid_answer(*b));
    let printer = valid(answers.printer);
    let offline = valid(answers.offline_cause);
    let error = valid(answers.error_cause);
    let paper = valid(answers.roll_paper);

    let paper_end =
        offline.is_some_and(|b| bit(b, 5)) || paper.is_some_and(|b| bit(b, 5) || bit(b, 6));
    if paper_end {
        return PrinterStatus::PaperOut;
    }
    if offline.is_some_and(|b| bit(b, 2)) {
        return PrinterStatus::CoverOpen;
    }
    if error.is_some_and(|b| bit(b, 3) || bit(b, 5)) {
        return PrinterStatus::CutterError;
    }
    if printer.is_some_and(|b| bit(b, 3))
        || offline.is_some_and(|b| bit(b, 6))
        || error.is_some_and(|b| bit(b, 2) || bit(b, 6))
    {
        return PrinterStatus::Offline;
    }
    let all = [
        answers.printer,
        answers.offline_cause,
        answers.error_cause,
        answers.roll_paper,
    ];
    if all.iter().any(Option::is_none) {
        return PrinterStatus::NoAnswer;
    }
    if all.iter().flatten().any(|b| !is_valid_answer(*b)) {
        return PrinterStatus::Unknown;
    }
    if paper.is_some_and(|b| bit(b, 2) || bit(b, 3)) {
        return PrinterStatus::PaperNearEnd;
    }
    PrinterStatus::Ready
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: u8 = 0x12;

    fn with(n: u8, byte: u8) -> StatusAnswers {
        let mut answers = StatusAnswers::from_bytes([OK; 4]);
        answers.set(n, Some(byte));
        answers
    }

    #[test]
    fn all_clear_is_ready() {
        assert_eq!(
            map_answers(&StatusAnswers::from_bytes([OK; 4])),
            PrinterStatus::Ready
        );
    }

    #[test]
    fn valid_pattern() {
        assert!(is_valid_answer(0x12));
        assert!(is_valid_answer(0x7E));
        assert!(!is_valid_answer(0x00));
        assert!(!is_valid_answer(0xFF));
        assert!(!is_valid_answer(0x92));
        assert!(!is_valid_answer(0x13));
        assert!(!is_valid_answer(0x10));
        assert!(!is_valid_answer(0x02));
    }

    #[test]
    fn request_bytes() {
        assert_eq!(request(1), [0x10, 0x04, 0x01]);
        assert_eq!(request(4), [0x10, 0x04, 0x04]);
    }

    #[test]
    fn n1_offline_bit3() {
        assert_eq!(with(1, OK | 1 << 3).status(), PrinterStatus::Offline);
        // Drawer (bit 2), waiting (bit 5) and feed button (bit 6) are not faults by themselves.
        assert_eq!(with(1, OK | 1 << 2).status(), PrinterStatus::Ready);
    }

    #[test]
    fn n2_cover_open_bit2() {
        assert_eq!(with(2, OK | 1 << 2).status(), PrinterStatus::CoverOpen);
    }

    #[test]
    fn n2_paper_end_stop_bit5() {
        assert_eq!(with(2, OK | 1 << 5).status(), PrinterStatus::PaperOut);
    }

    #[test]
    fn n2_error_bit6_is_offline() {
        assert_eq!(with(2, OK | 1 << 6).status(), PrinterStatus::Offline);
    }

    #[test]
    fn n3_autocutter_bit3() {
        assert_eq!(with(3, OK | 1 << 3).status(), PrinterStatus::CutterError);
    }

    #[test]
    fn n3_unrecoverable_bit5() {
        assert_eq!(with(3, OK | 1 << 5).status(), PrinterStatus::CutterError);
    }

    #[test]
    fn n4_near_end_bits_2_3() {
        assert_eq!(with(4, OK | 0b1100).status(), PrinterStatus::PaperNearEnd);
        assert_eq!(with(4, OK | 0b0100).status(), PrinterStatus::PaperNearEnd);
    }

    #[test]
    fn n4_paper_end_bits_5_6() {
        assert_eq!(with(4, OK | 0b0110_0000).status(), PrinterStatus::PaperOut);
    }

    #[test]
    fn paper_out_takes_precedence() {
        let mut answers = StatusAnswers::from_bytes([OK | 1 << 3, OK | 1 << 5, OK, OK | 0x60]);
        assert_eq!(answers.status(), PrinterStatus::PaperOut);
        answers.set(2, Some(OK | 1 << 2));
        answers.set(4, Some(OK));
        assert_eq!(answers.status(), PrinterStatus::CoverOpen);
    }

    #[test]
    fn missing_answer_is_never_ready() {
        assert_eq!(StatusAnswers::default().status(), PrinterStatus::NoAnswer);
        for n in REQUESTS {
            let mut answers = StatusAnswers::from_bytes([OK; 4]);
            answers.set(n, None);
            assert_eq!(answers.status(), PrinterStatus::NoAnswer);
        }
        // A near-end warning with a missing answer is still not known to be printable.
        let mut answers = with(4, OK | 0b1100);
        answers.set(1, None);
        assert_eq!(answers.status(), PrinterStatus::NoAnswer);
    }

    #[test]
    fn invalid_answer_is_unknown() {
        for n in REQUESTS {
            assert_eq!(with(n, 0x00).status(), PrinterStatus::Unknown);
            assert_eq!(with(n, 0xFF).status(), PrinterStatus::Unknown);
        }
    }

    #[test]
    fn invalid_bytes_are_not_read_for_bits() {
        // 0xFF has every fault bit set but is not a valid answer.
        assert_eq!(with(2, 0xFF).status(), PrinterStatus::Unknown);
    }

    #[test]
    fn fault_wins_over_missing() {
        let mut answers = with(2, OK | 1 << 2);
        answers.set(4, None);
        assert_eq!(answers.status(), PrinterStatus::CoverOpen);
    }

    #[test]
    fn can_print() {
        assert!(PrinterStatus::Ready.can_print());
        assert!(PrinterStatus::PaperNearEnd.can_print());
        for s in [
            PrinterStatus::PaperOut,
            PrinterStatus::CoverOpen,
            PrinterStatus::CutterError,
            PrinterStatus::Offline,
            PrinterStatus::NoAnswer,
            PrinterStatus::Unknown,
        ] {
            assert!(!s.can_print(), "{s}");
        }
    }
}
