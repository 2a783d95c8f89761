//! The SAM frame codec: the reference's literal frames, every error, round trips, and no panic on
//! arbitrary bytes.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration;

use idcard::sam::{
    Command, FrameError, PREAMBLE, Response, Status, checksum, encode_command, encode_response,
    frame_length, parse_command, parse_read_fingerprint_payload, parse_read_payload,
    parse_response,
};
use proptest::prelude::*;

const SAM_OK: [u8; 11] = [
    0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94,
];
const NO_CARD: [u8; 11] = [
    0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84,
];

/// Every status byte the reference names, with its variant.
const NAMED: [(u8, Status); 20] = [
    (0x90, Status::Ok),
    (0x9F, Status::CardFound),
    (0x91, Status::NoContent),
    (0x10, Status::ChecksumError),
    (0x11, Status::LengthError),
    (0x21, Status::CommandError),
    (0x23, Status::Unauthorised),
    (0x24, Status::UnknownError),
    (0x31, Status::CardAuthFailed),
    (0x32, Status::SamAuthFailed),
    (0x33, Status::InfoCheckError),
    (0x37, Status::FingerprintCheckFailed),
    (0x3F, Status::InfoLengthError),
    (0x40, Status::UnknownCardType),
    (0x41, Status::ReadFailed),
    (0x47, Status::ChallengeFailed),
    (0x60, Status::SamSelfTestFailed),
    (0x66, Status::SamNotAuthorised),
    (0x80, Status::FindFailed),
    (0x81, Status::SelectFailed),
];

/// A read answer's data: lengths, then the blocks.
fn read_data(text: &[u8], photo: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(&u16::try_from(text.len()).unwrap().to_be_bytes());
    data.extend_from_slice(&u16::try_from(photo.len()).unwrap().to_be_bytes());
    data.extend_from_slice(text);
    data.extend_from_slice(photo);
    data
}

fn ok_with(data: Vec<u8>) -> Response {
    Response {
        status: Status::Ok,
        data,
    }
}

#[test]
fn command_frames_are_as_in_the_reference() {
    let expected: [(Command, [u8; 2]); 8] = [
        (Command::ResetSam, [0x10, 0xFF]),
        (Command::SamStatus, [0x11, 0xFF]),
        (Command::ReadSamId, [0x12, 0xFF]),
        (Command::FindCard, [0x20, 0x01]),
        (Command::SelectCard, [0x20, 0x02]),
        (Command::ReadText, [0x30, 0x01]),
        (Command::ReadAddress, [0x30, 0x03]),
        (Command::ReadTextFingerprint, [0x30, 0x10]),
    ];
    for (command, [cmd, para]) in expected {
        assert_eq!(command.code(), (cmd, para));
        let frame = encode_command(command);
        assert_eq!(
            frame,
            [
                0xAA,
                0xAA,
                0xAA,
                0x96,
                0x69,
                0x00,
                0x03,
                cmd,
                para,
                0x03 ^ cmd ^ para
            ]
        );
        assert_eq!(parse_command(&frame), Ok(command));
        assert_eq!(Command::from_code(cmd, para), Some(command));
    }
    assert_eq!(
        encode_command(Command::FindCard),
        [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
    );
}

#[test]
fn timeouts_are_as_in_the_reference() {
    let ms = |c: Command| c.timeout().as_millis();
    assert_eq!(ms(Command::FindCard), 100);
    assert_eq!(ms(Command::SelectCard), 100);
    assert_eq!(ms(Command::ReadSamId), 300);
    assert_eq!(ms(Command::ReadText), 2000);
    assert_eq!(ms(Command::ReadAddress), 1500);
    assert_eq!(ms(Command::ReadTextFingerprint), 3000);
    assert_eq!(Command::ResetSam.timeout(), Duration::from_secs(1));
    assert_eq!(Command::SamStatus.timeout(), Duration::from_secs(1));
}

#[test]
fn literal_responses_parse() {
    assert_eq!(parse_response(&SAM_OK), Ok(ok_with(Vec::new())));
    assert_eq!(
        parse_response(&NO_CARD),
        Ok(Response {
            status: Status::FindFailed,
            data: Vec::new()
        })
    );
    assert_eq!(encode_response(Status::Ok, &[]), SAM_OK);
    assert_eq!(encode_response(Status::FindFailed, &[]), NO_CARD);
    assert_eq!(frame_length(&SAM_OK), Ok(11));
}

#[test]
fn every_status_byte_maps_both_ways() {
    for (byte, status) in NAMED {
        assert_eq!(Status::from_byte(byte), status);
        assert_eq!(status.to_byte(), byte);
    }
    for byte in 0..=u8::MAX {
        let status = Status::from_byte(byte);
        assert_eq!(status.to_byte(), byte);
        if !NAMED.iter().any(|(b, _)| *b == byte) {
            assert_eq!(status, Status::Other(byte));
        }
    }
    assert_eq!(Status::ReadFailed.to_string(), "41 (read failed)");
}

#[test]
fn every_frame_error() {
    // Too short for a header, and shorter than LEN says.
    assert_eq!(
        parse_response(&SAM_OK[..6]),
        Err(FrameError::TooShort {
            found: 6,
            needed: 7
        })
    );
    assert_eq!(
        parse_response(&SAM_OK[..10]),
        Err(FrameError::TooShort {
            found: 10,
            needed: 11
        })
    );
    assert_eq!(
        parse_response(&[]),
        Err(FrameError::TooShort {
            found: 0,
            needed: 7
        })
    );

    // Preamble.
    let mut bad = SAM_OK;
    bad[3] = 0x97;
    assert_eq!(parse_response(&bad), Err(FrameError::Preamble));

    // Trailing bytes, and a LEN too small for status and checksum.
    let mut long = SAM_OK.to_vec();
    long.push(0);
    assert_eq!(
        parse_response(&long),
        Err(FrameError::Length {
            declared: 4,
            actual: 5
        })
    );
    let tiny = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x01, 0x01];
    assert_eq!(
        parse_response(&tiny),
        Err(FrameError::Length {
            declared: 1,
            actual: 1
        })
    );
    let empty = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x00];
    assert!(matches!(
        parse_response(&empty),
        Err(FrameError::Length { declared: 0, .. })
    ));

    // Checksum.
    let mut bad = SAM_OK;
    bad[10] = 0x95;
    assert_eq!(
        parse_response(&bad),
        Err(FrameError::Checksum {
            expected: 0x94,
            found: 0x95
        })
    );

    // SW1 / SW2.
    let mut bad = SAM_OK;
    bad[7] = 0x01;
    bad[10] ^= 0x01;
    assert_eq!(parse_response(&bad), Err(FrameError::StatusBytes));

    // Unknown command.
    let frame = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x09, 0x2A];
    assert_eq!(
        parse_command(&frame),
        Err(FrameError::UnknownCommand {
            cmd: 0x20,
            para: 0x09
        })
    );
    // A command needs CMD and PARA.
    let short = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x20, 0x22];
    assert!(matches!(
        parse_command(&short),
        Err(FrameError::Length { declared: 2, .. })
    ));
}

#[test]
fn the_read_answer_gives_the_text_and_drops_the_photo() {
    let text: Vec<u8> = (0..=255).collect();
    let frame = encode_response(Status::Ok, &read_data(&text, &[0x5A; 1024]));
    assert_eq!(frame.len(), 1295);
    assert_eq!(
        frame[..10],
        [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90]
    );
    assert_eq!(frame[10..14], [0x01, 0x00, 0x04, 0x00]);
    let resp = parse_response(&frame).unwrap();
    let payload = parse_read_payload(&resp).unwrap();
    assert_eq!(payload.text.as_slice(), text.as_slice());
    // Neither the payload nor the response shows data in Debug.
    assert_eq!(format!("{payload:?}"), "ReadPayload { .. }");
    let debug = format!("{resp:?}");
    assert!(debug.contains("data_len: 1284"), "{debug}");
    assert!(!debug.contains('['), "{debug}");
}

#[test]
fn read_answer_lengths_are_checked() {
    let text = [0x20; 256];
    // The text must be 256 bytes.
    assert_eq!(
        parse_read_payload(&ok_with(read_data(&text[..255], &[]))),
        Err(FrameError::TextLength { found: 255 })
    );
    // The photo must fit.
    let mut data = read_data(&text, &[0; 1024]);
    data.truncate(data.len() - 1);
    assert_eq!(
        parse_read_payload(&ok_with(data)),
        Err(FrameError::PayloadLength {
            announced: 4 + 256 + 1024,
            available: 4 + 256 + 1023
        })
    );
    // The lengths themselves must be there.
    assert!(matches!(
        parse_read_payload(&ok_with(vec![0x01])),
        Err(FrameError::PayloadLength { .. })
    ));
    // No photo is fine; so is trailing padding.
    assert!(parse_read_payload(&ok_with(read_data(&text, &[]))).is_ok());
    let mut padded = read_data(&text, &[1, 2, 3]);
    padded.extend_from_slice(&[0; 8]);
    assert!(parse_read_payload(&ok_with(padded)).is_ok());
}

#[test]
fn the_fingerprint_variant_starts_the_text_two_bytes_later() {
    let text: Vec<u8> = (0..=255).rev().collect();
    let mut data = vec![0x01, 0x00, 0x04, 0x00, 0x04, 0x00];
    data.extend_from_slice(&text);
    data.extend_from_slice(&[0; 2048]);
    let payload = parse_read_fingerprint_payload(&ok_with(data.clone())).unwrap();
    assert_eq!(payload.text.as_slice(), text.as_slice());
    data.truncate(data.len() - 1);
    assert!(matches!(
        parse_read_fingerprint_payload(&ok_with(data)),
        Err(FrameError::PayloadLength { .. })
    ));
}

fn any_status() -> impl Strategy<Value = Status> {
    any::<u8>().prop_map(Status::from_byte)
}

fn any_command() -> impl Strategy<Value = Command> {
    prop::sample::select(Command::ALL.to_vec())
}

proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1400)) {
        let _ = parse_response(&bytes);
        let _ = parse_command(&bytes);
        let _ = frame_length(&bytes);
        let resp = Response { status: Status::Ok, data: bytes.clone() };
        let _ = parse_read_payload(&resp);
        let _ = parse_read_fingerprint_payload(&resp);
    }

    #[test]
    fn arbitrary_bytes_after_a_preamble_never_panic(tail in prop::collection::vec(any::<u8>(), 0..1400)) {
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend_from_slice(&tail);
        let _ = parse_response(&bytes);
        let _ = parse_command(&bytes);
    }

    #[test]
    fn responses_round_trip(status in any_status(), data in prop::collection::vec(any::<u8>(), 0..1400)) {
        let frame = encode_response(status, &data);
        prop_assert_eq!(frame.len(), 7 + 3 + data.len() + 1);
        prop_assert_eq!(frame_length(&frame), Ok(frame.len()));
        prop_assert_eq!(checksum(&frame[5..frame.len() - 1]), frame[frame.len() - 1]);
        prop_assert_eq!(parse_response(&frame), Ok(Response { status, data }));
    }

    #[test]
    fn commands_round_trip(command in any_command()) {
        prop_assert_eq!(parse_command(&encode_command(command)), Ok(command));
    }

    #[test]
    fn any_corrupted_byte_is_caught(
        status in any_status(),
        data in prop::collection::vec(any::<u8>(), 0..64),
        index in any::<prop::sample::Index>(),
        flip in 1..=u8::MAX,
    ) {
        let mut frame = encode_response(status, &data);
        let at = index.index(frame.len());
        frame[at] ^= flip;
        let result = parse_response(&frame);
        prop_assert!(result.is_err(), "corrupting byte {} went unnoticed", at);
    }
}
