//! The read loop against a scripted transport: settling, retries after bad checksums and `41`,
//! the time-out, removal mid-read and garbage answers.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use idcard::demo_cards;
use idcard::read::{ReadError, ReadPolicy, SamTransport, TransportError, read_card};
use idcard::sam::{Command, FrameError, Status, encode_response, parse_command};
use idcard::text::{IdCard, TextError, encode_text_block};
use proptest::prelude::*;

/// What the fake answers to one command.
#[derive(Clone)]
enum Answer {
    Bytes(Vec<u8>),
    Fail(TransportError),
}

/// A transport that expects exactly the scripted commands, in order, and gives the canned
/// answers; it fails the test on any other call, and [`Script::finish`] checks it was used up.
struct Script {
    steps: VecDeque<(Command, Answer)>,
    /// Answered to every call once the steps are used up.
    forever: Option<(Command, Answer)>,
    calls: usize,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = (Command, Answer)>) -> Self {
        Self {
            steps: steps.into_iter().collect(),
            forever: None,
            calls: 0,
        }
    }

    fn then_forever(mut self, command: Command, answer: Answer) -> Self {
        self.forever = Some((command, answer));
        self
    }

    fn finish(self) -> usize {
        assert!(
            self.steps.is_empty(),
            "{} scripted calls were not made",
            self.steps.len()
        );
        self.calls
    }
}

impl SamTransport for Script {
    fn transceive(&mut self, frame: &[u8], timeout: Duration) -> Result<Vec<u8>, TransportError> {
        let command = parse_command(frame).expect("the host sends well-formed commands");
        assert_eq!(
            timeout,
            command.timeout(),
            "{command:?} with the wrong time-out"
        );
        let (expected, answer) = self
            .steps
            .pop_front()
            .or_else(|| self.forever.clone())
            .unwrap_or_else(|| panic!("unexpected call: {command:?}"));
        assert_eq!(command, expected, "call {}", self.calls);
        self.calls += 1;
        match answer {
            Answer::Bytes(bytes) => Ok(bytes),
            Answer::Fail(e) => Err(e),
        }
    }
}

fn status(s: Status) -> Answer {
    Answer::Bytes(encode_response(s, &[]))
}

fn read_answer_of_block(text: &[u8; 256]) -> Vec<u8> {
    let mut data = vec![0x01, 0x00, 0x04, 0x00];
    data.extend_from_slice(text);
    data.extend_from_slice(&[0x77; 1024]);
    encode_response(Status::Ok, &data)
}

fn read_ok(card: &IdCard) -> Answer {
    Answer::Bytes(read_answer_of_block(&encode_text_block(card)))
}

/// The answer with its checksum broken.
fn corrupt(answer: Answer) -> Answer {
    match answer {
        Answer::Bytes(mut bytes) => {
            *bytes.last_mut().unwrap() ^= 0xFF;
            Answer::Bytes(bytes)
        }
        fail => fail,
    }
}

fn found() -> (Command, Answer) {
    (Command::FindCard, status(Status::CardFound))
}

fn selected() -> (Command, Answer) {
    (
        Command::SelectCard,
        Answer::Bytes(encode_response(Status::Ok, &[0; 8])),
    )
}

fn policy() -> ReadPolicy {
    ReadPolicy {
        settle_attempts: 5,
        read_timeout: Duration::from_millis(300),
        retry_pause: Duration::from_millis(1),
    }
}

fn card() -> IdCard {
    demo_cards().into_iter().next().unwrap()
}

fn run(mut script: Script) -> (Result<IdCard, ReadError>, usize) {
    let result = read_card(&mut script, &policy());
    (result, script.finish())
}

#[test]
fn default_policy() {
    let p = ReadPolicy::default();
    assert_eq!(p.settle_attempts, 5);
    assert_eq!(p.read_timeout, Duration::from_secs(3));
    assert_eq!(p.retry_pause, Duration::from_millis(50));
}

#[test]
fn every_card_type_is_read() {
    for card in demo_cards() {
        let script = Script::new([found(), selected(), (Command::ReadText, read_ok(&card))]);
        assert_eq!(run(script), (Ok(card), 3));
    }
}

#[test]
fn a_settling_card_is_found() {
    let card = card();
    let mut steps = vec![(Command::FindCard, status(Status::FindFailed)); 5];
    steps.extend([found(), selected(), (Command::ReadText, read_ok(&card))]);
    assert_eq!(run(Script::new(steps)), (Ok(card), 8));
}

#[test]
fn no_card_after_the_settle_attempts() {
    let steps = vec![(Command::FindCard, status(Status::FindFailed)); 6];
    assert_eq!(run(Script::new(steps)), (Err(ReadError::NoCard), 6));
}

#[test]
fn a_bad_checksum_is_retried_at_every_step() {
    let card = card();
    let script = Script::new([
        (Command::FindCard, corrupt(status(Status::CardFound))),
        found(),
        (Command::SelectCard, corrupt(selected().1)),
        selected(),
        (Command::ReadText, corrupt(read_ok(&card))),
        (Command::ReadText, read_ok(&card)),
    ]);
    assert_eq!(run(script), (Ok(card), 6));
}

#[test]
fn a_read_failure_is_retried() {
    let card = card();
    let script = Script::new([
        found(),
        selected(),
        (Command::ReadText, status(Status::ReadFailed)),
        (Command::ReadText, read_ok(&card)),
    ]);
    assert_eq!(run(script), (Ok(card), 4));
}

#[test]
fn the_sam_reporting_a_corrupted_command_is_retried() {
    let card = card();
    let script = Script::new([
        (Command::FindCard, status(Status::ChecksumError)),
        found(),
        selected(),
        (Command::ReadText, read_ok(&card)),
    ]);
    assert_eq!(run(script), (Ok(card), 4));
}

#[test]
fn read_failures_forever_time_out() {
    let mut script = Script::new([found(), selected()])
        .then_forever(Command::ReadText, status(Status::ReadFailed));
    let start = Instant::now();
    let result = read_card(&mut script, &policy());
    let elapsed = start.elapsed();
    assert_eq!(result, Err(ReadError::Timeout));
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(script.finish() > 3);
}

#[test]
fn bad_checksums_forever_time_out() {
    let mut script =
        Script::new([]).then_forever(Command::FindCard, corrupt(status(Status::CardFound)));
    assert_eq!(read_card(&mut script, &policy()), Err(ReadError::Timeout));
}

#[test]
fn removal_mid_read_ends_the_read_at_once() {
    let script = Script::new([
        found(),
        selected(),
        (Command::ReadText, Answer::Fail(TransportError::CardRemoved)),
    ]);
    assert_eq!(run(script), (Err(ReadError::CardRemoved), 3));

    let script = Script::new([(Command::FindCard, Answer::Fail(TransportError::CardRemoved))]);
    assert_eq!(run(script), (Err(ReadError::CardRemoved), 1));
}

#[test]
fn other_transport_failures() {
    for (failure, expected) in [
        (TransportError::Timeout, ReadError::Timeout),
        (
            TransportError::NoReader,
            ReadError::Transport("no reader".to_owned()),
        ),
        (
            TransportError::Io("gone".to_owned()),
            ReadError::Transport("gone".to_owned()),
        ),
    ] {
        let script = Script::new([found(), (Command::SelectCard, Answer::Fail(failure))]);
        assert_eq!(run(script), (Err(expected), 2));
    }
}

#[test]
fn other_statuses_end_the_read() {
    let script = Script::new([(Command::FindCard, status(Status::SamSelfTestFailed))]);
    assert_eq!(
        run(script),
        (Err(ReadError::Status(Status::SamSelfTestFailed)), 1)
    );

    let script = Script::new([found(), (Command::SelectCard, status(Status::SelectFailed))]);
    assert_eq!(
        run(script),
        (Err(ReadError::Status(Status::SelectFailed)), 2)
    );

    let script = Script::new([
        found(),
        selected(),
        (Command::ReadText, status(Status::UnknownCardType)),
    ]);
    assert_eq!(
        run(script),
        (Err(ReadError::Status(Status::UnknownCardType)), 3)
    );
}

#[test]
fn garbage_answers_are_frame_errors() {
    let script = Script::new([(Command::FindCard, Answer::Bytes(b"hello, world".to_vec()))]);
    assert_eq!(
        run(script),
        (Err(ReadError::Frame(FrameError::Preamble)), 1)
    );

    let script = Script::new([(Command::FindCard, Answer::Bytes(Vec::new()))]);
    assert!(matches!(
        run(script),
        (Err(ReadError::Frame(FrameError::TooShort { .. })), 1)
    ));

    // A read answer whose text length is wrong.
    let mut data = vec![0x00, 0xFF, 0x00, 0x00];
    data.extend_from_slice(&[0x20; 255]);
    let script = Script::new([
        found(),
        selected(),
        (
            Command::ReadText,
            Answer::Bytes(encode_response(Status::Ok, &data)),
        ),
    ]);
    assert_eq!(
        run(script),
        (
            Err(ReadError::Frame(FrameError::TextLength { found: 255 })),
            3
        )
    );

    // A well-framed read answer whose text is not a card: all spaces.
    let mut blank = [0; 256];
    for pair in blank.chunks_exact_mut(2) {
        pair[0] = 0x20;
    }
    let script = Script::new([
        found(),
        selected(),
        (
            Command::ReadText,
            Answer::Bytes(read_answer_of_block(&blank)),
        ),
    ]);
    assert_eq!(
        run(script),
        (
            Err(ReadError::Text(TextError::Field {
                field: "name",
                problem: "missing"
            })),
            3
        )
    );
}

#[test]
fn which_errors_are_worth_a_new_attempt() {
    assert!(ReadError::CardRemoved.is_retryable());
    assert!(ReadError::Timeout.is_retryable());
    assert!(ReadError::NoCard.is_retryable());
    assert!(!ReadError::Status(Status::SamNotAuthorised).is_retryable());
    assert!(!ReadError::Transport("gone".to_owned()).is_retryable());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn garbage_at_any_step_never_panics(
        step in 0_usize..3,
        garbage in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let card = card();
        let mut steps = vec![found(), selected(), (Command::ReadText, read_ok(&card))];
        steps.truncate(step);
        let command = [Command::FindCard, Command::SelectCard, Command::ReadText][step];
        let mut script = Script::new(steps).then_forever(command, Answer::Bytes(garbage));
        let policy = ReadPolicy { read_timeout: Duration::from_millis(20), ..policy() };
        prop_assert!(read_card(&mut script, &policy).is_err());
    }
}
