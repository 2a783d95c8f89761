//! The SAM frame codec: the frames the host exchanges with the reader's security module (SAM).
//!
//! ```text
//! host -> SAM : AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [DATA]     | CHK
//! SAM -> host : AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [DATA]  | CHK
//! ```
//!
//! * `LEN` (big-endian) counts every byte after itself, `CHK` included: a frame is `7 + LEN`
//!   bytes.
//! * `CHK` is the XOR of every byte from `LEN_H` through the last data byte (the preamble is
//!   excluded).
//! * In a response only `SW3` carries the status ([`Status`]); `SW1` and `SW2` are `00`.
//!
//! Example: find card is `AA AA AA 96 69 00 03 20 01 22`; the SAM answers "card found" with
//! `AA AA AA 96 69 00 04 00 00 9F 9B` and "no card" with `AA AA AA 96 69 00 04 00 00 80 84`.
//!
//! Everything here is pure and total: any byte string gives a value or a [`FrameError`], never a
//! panic. The answer to "read text + photo" carries the holder's personal data; [`Response`] and
//! [`ReadPayload`] therefore never show their data in `Debug`, and the photo is dropped by
//! [`parse_read_payload`] without being copied anywhere.

use std::fmt;
use std::time::Duration;

/// The five bytes every frame starts with.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Bytes before the data of any frame: the preamble and `LEN`.
pub const HEADER_LEN: usize = 7;

/// Length of the card's text block.
pub const TEXT_LEN: usize = 256;

/// Largest `LEN` a frame can declare.
const MAX_LEN: usize = u16::MAX as usize;

/// A command the host sends to the SAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Reset the SAM (`10 FF`).
    ResetSam,
    /// Ask for the SAM's status (`11 FF`).
    SamStatus,
    /// Read the SAM's 16-byte id (`12 FF`).
    ReadSamId,
    /// Look for a card in the field (`20 01`); answered with [`Status::CardFound`].
    FindCard,
    /// Select the card found (`20 02`).
    SelectCard,
    /// Read the text block and the photo (`30 01`).
    ReadText,
    /// Read the appended address (`30 03`).
    ReadAddress,
    /// Read the text block, the photo and the fingerprints (`30 10`).
    ReadTextFingerprint,
}

impl Command {
    /// Every command.
    pub const ALL: [Self; 8] = [
        Self::ResetSam,
        Self::SamStatus,
        Self::ReadSamId,
        Self::FindCard,
        Self::SelectCard,
        Self::ReadText,
        Self::ReadAddress,
        Self::ReadTextFingerprint,
    ];

    /// The command's `CMD` and `PARA` bytes.
    pub fn code(self) -> (u8, u8) {
        match self {
            Self::ResetSam => (0x10, 0xFF),
            Self::SamStatus => (0x11, 0xFF),
            Self::ReadSamId => (0x12, 0xFF),
            Self::FindCard => (0x20, 0x01),
            Self::SelectCard => (0x20, 0x02),
            Self::ReadText => (0x30, 0x01),
            Self::ReadAddress => (0x30, 0x03),
            Self::ReadTextFingerprint => (0x30, 0x10),
        }
    }

    /// The command with these `CMD` and `PARA` bytes, if any.
    pub fn from_code(cmd: u8, para: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == (cmd, para))
    }

    /// How long the SAM may take to answer: find and select 100 ms, read SAM id 300 ms, read
    /// text 2 s, read address 1.5 s, read text with fingerprints 3 s, the others 1 s.
    pub fn timeout(self) -> Duration {
        match self {
            Self::FindCard | Self::SelectCard => Duration::from_millis(100),
            Self::ReadSamId => Duration::from_millis(300),
            Self::ReadText => Duration::from_secs(2),
            Self::ReadAddress => Duration::from_millis(1500),
            Self::ReadTextFingerprint => Duration::from_secs(3),
            Self::ResetSam | Self::SamStatus => Duration::from_secs(1),
        }
    }
}

/// The status a SAM reports in `SW3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `90`: success.
    Ok,
    /// `9F`: a card was found.
    CardFound,
    /// `91`: no such content (e.g. no appended address).
    NoContent,
    /// `10`: the SAM received a command with a bad checksum.
    ChecksumError,
    /// `11`: the SAM received a command with a bad length.
    LengthError,
    /// `21`: command error.
    CommandError,
    /// `23`: unauthorised.
    Unauthorised,
    /// `24`: unknown error.
    UnknownError,
    /// `31`: the card failed to authenticate the SAM.
    CardAuthFailed,
    /// `32`: the SAM failed to authenticate the card.
    SamAuthFailed,
    /// `33`: information check error.
    InfoCheckError,
    /// `37`: fingerprint check failed.
    FingerprintCheckFailed,
    /// `3F`: information length error.
    InfoLengthError,
    /// `40`: unknown card type.
    UnknownCardType,
    /// `41`: the read failed.
    ReadFailed,
    /// `47`: get-challenge failed.
    ChallengeFailed,
    /// `60`: the SAM's self-test failed.
    SamSelfTestFailed,
    /// `66`: the SAM is not authorised.
    SamNotAuthorised,
    /// `80`: find failed (no card, or a card that has already been read).
    FindFailed,
    /// `81`: select failed.
    SelectFailed,
    /// Any other byte.
    Other(u8),
}

impl Status {
    /// The status `SW3` stands for.
    pub fn from_byte(byte: u8) -> Self {
        match byte {
            0x90 => Self::Ok,
            0x9F => Self::CardFound,
            0x91 => Self::NoContent,
            0x10 => Self::ChecksumError,
            0x11 => Self::LengthError,
            0x21 => Self::CommandError,
            0x23 => Self::Unauthorised,
            0x24 => Self::UnknownError,
            0x31 => Self::CardAuthFailed,
            0x32 => Self::SamAuthFailed,
            0x33 => Self::InfoCheckError,
            0x37 => Self::FingerprintCheckFailed,
            0x3F => Self::InfoLengthError,
            0x40 => Self::UnknownCardType,
            0x41 => Self::ReadFailed,
            0x47 => Self::ChallengeFailed,
            0x60 => Self::SamSelfTestFailed,
            0x66 => Self::SamNotAuthorised,
            0x80 => Self::FindFailed,
            0x81 => Self::SelectFailed,
            other => Self::Other(other),
        }
    }

    /// The `SW3` byte of this status.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Ok => 0x90,
            Self::CardFound => 0x9F,
            Self::NoContent => 0x91,
            Self::ChecksumError => 0x10,
            Self::LengthError => 0x11,
            Self::CommandError => 0x21,
            Self::Unauthorised => 0x23,
            Self::UnknownError => 0x24,
            Self::CardAuthFailed => 0x31,
            Self::SamAuthFailed => 0x32,
            Self::InfoCheckError => 0x33,
            Self::FingerprintCheckFailed => 0x37,
            Self::InfoLengthError => 0x3F,
            Self::UnknownCardType => 0x40,
            Self::ReadFailed => 0x41,
            Self::ChallengeFailed => 0x47,
            Self::SamSelfTestFailed => 0x60,
            Self::SamNotAuthorised => 0x66,
            Self::FindFailed => 0x80,
            Self::SelectFailed => 0x81,
            Self::Other(byte) => byte,
        }
    }

    /// What the status means, in a few English words.
    pub fn description(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::CardFound => "card found",
            Self::NoContent => "no such content",
            Self::ChecksumError => "checksum error",
            Self::LengthError => "length error",
            Self::CommandError => "command error",
            Self::Unauthorised => "unauthorised",
            Self::UnknownError => "unknown error",
            Self::CardAuthFailed => "the card failed to authenticate the SAM",
            Self::SamAuthFailed => "the SAM failed to authenticate the card",
            Self::InfoCheckError => "information check error",
            Self::FingerprintCheckFailed => "fingerprint check failed",
            Self::InfoLengthError => "information length error",
            Self::UnknownCardType => "unknown card type",
            Self::ReadFailed => "read failed",
            Self::ChallengeFailed => "get-challenge failed",
            Self::SamSelfTestFailed => "SAM self-test failed",
            Self::SamNotAuthorised => "SAM not authorised",
            Self::FindFailed => "no card found",
            Self::SelectFailed => "select failed",
            Self::Other(_) => "unknown status",
        }
    }
}

impl fmt::Display for Status {
    /// The byte in hex and its meaning, e.g. `41 (read failed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X} ({})", self.to_byte(), self.description())
    }
}

/// A parsed SAM response.
///
/// `Debug` shows the status and the length of the data, never the data: the answer to a read
/// holds the card's text and photo.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// `SW3`.
    pub status: Status,
    /// The bytes between `SW3` and `CHK`.
    pub data: Vec<u8>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Why a byte string is not a well-formed frame (or read answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the header, or than `LEN` announces.
    #[error("frame too short: {found} bytes, {needed} needed")]
    TooShort {
        /// How many bytes there are.
        found: usize,
        /// How many the frame needs.
        needed: usize,
    },
    /// The frame does not start with `AA AA AA 96 69`.
    #[error("the frame does not start with AA AA AA 96 69")]
    Preamble,
    /// `LEN` disagrees with the bytes after it, or is too small for the status (or command) and
    /// the checksum.
    #[error("LEN says {declared} bytes follow, but {actual} do")]
    Length {
        /// What `LEN` says.
        declared: usize,
        /// How many bytes follow `LEN`.
        actual: usize,
    },
    /// `CHK` is not the XOR of the bytes it covers.
    #[error("checksum mismatch: computed {expected:02X}, frame has {found:02X}")]
    Checksum {
        /// The XOR of the covered bytes.
        expected: u8,
        /// The frame's `CHK`.
        found: u8,
    },
    /// `SW1` or `SW2` of a response is not `00`.
    #[error("SW1 and SW2 of a response must be 00")]
    StatusBytes,
    /// A command frame with `CMD PARA` that is none of [`Command`].
    #[error("unknown command {cmd:02X} {para:02X}")]
    UnknownCommand {
        /// `CMD`.
        cmd: u8,
        /// `PARA`.
        para: u8,
    },
    /// The text length in a read answer is not 256.
    #[error("the text block has {found} bytes, 256 expected")]
    TextLength {
        /// The length the answer gives.
        found: usize,
    },
    /// The lengths in a read answer add up to more than the answer holds.
    #[error("the read answer announces {announced} bytes but holds {available}")]
    PayloadLength {
        /// Length fields plus the blocks they announce.
        announced: usize,
        /// The length of the answer's data.
        available: usize,
    },
}

/// The checksum of the bytes from `LEN_H` through the last data byte.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// A frame around `body` (the bytes between `LEN` and `CHK`), or `None` if it is too long.
fn frame(body: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(body.len() + 1).ok()?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    let chk = checksum(out.get(PREAMBLE.len()..).unwrap_or_default());
    out.push(chk);
    Some(out)
}

/// The frame of a command, e.g. find = `AA AA AA 96 69 00 03 20 01 22`.
pub fn encode_command(cmd: Command) -> Vec<u8> {
    let (c, p) = cmd.code();
    frame(&[c, p]).unwrap_or_default()
}

/// A response frame with this status and data, for emulators and round trips.
///
/// Data longer than a frame can hold (65 531 bytes) is cut to that length.
pub fn encode_response(status: Status, data: &[u8]) -> Vec<u8> {
    let data = data.get(..MAX_LEN - 4).unwrap_or(data);
    let mut body = Vec::with_capacity(3 + data.len());
    body.extend_from_slice(&[0, 0, status.to_byte()]);
    body.extend_from_slice(data);
    frame(&body).unwrap_or_default()
}

/// The total length of the frame whose first 7 bytes (at least) are `header`: `7 + LEN`.
///
/// For byte streams (serial readers): read 7 bytes, ask this, then read the rest.
pub fn frame_length(header: &[u8]) -> Result<usize, FrameError> {
    let Some(&[a, b, c, d, e, len_h, len_l]) = header.get(..HEADER_LEN) else {
        return Err(FrameError::TooShort {
            found: header.len(),
            needed: HEADER_LEN,
        });
    };
    if [a, b, c, d, e] != PREAMBLE {
        return Err(FrameError::Preamble);
    }
    Ok(HEADER_LEN + usize::from(u16::from_be_bytes([len_h, len_l])))
}

/// Checks preamble, `LEN` and `CHK`; returns the bytes between `LEN` and `CHK`.
fn unframe(bytes: &[u8], min_body: usize) -> Result<&[u8], FrameError> {
    let total = frame_length(bytes)?;
    let declared = total - HEADER_LEN;
    let actual = bytes.len() - HEADER_LEN;
    if bytes.len() < total {
        return Err(FrameError::TooShort {
            found: bytes.len(),
            needed: total,
        });
    }
    if bytes.len() > total || declared < min_body + 1 {
        return Err(FrameError::Length { declared, actual });
    }
    let (covered, chk) = match bytes.split_last() {
        Some((&chk, rest)) => (rest.get(PREAMBLE.len()..).unwrap_or_default(), chk),
        None => return Err(FrameError::Length { declared, actual }),
    };
    let expected = checksum(covered);
    if expected != chk {
        return Err(FrameError::Checksum {
            expected,
            found: chk,
        });
    }
    Ok(covered.get(2..).unwrap_or_default())
}

/// Parses a response frame: checks the preamble, `LEN`, the checksum and `SW1 = SW2 = 00`.
pub fn parse_response(bytes: &[u8]) -> Result<Response, FrameError> {
    let body = unframe(bytes, 3)?;
    let Some((&[sw1, sw2, sw3], data)) = body.split_first_chunk::<3>() else {
        return Err(FrameError::TooShort {
            found: bytes.len(),
            needed: HEADER_LEN + 4,
        });
    };
    if sw1 != 0 || sw2 != 0 {
        return Err(FrameError::StatusBytes);
    }
    Ok(Response {
        status: Status::from_byte(sw3),
        data: data.to_vec(),
    })
}

/// Parses a command frame (for emulators): checks the preamble, `LEN` and the checksum, and
/// names the command. Data after `CMD PARA` is ignored (no command here takes any).
pub fn parse_command(bytes: &[u8]) -> Result<Command, FrameError> {
    let body = unframe(bytes, 2)?;
    let Some(&[cmd, para]) = body.first_chunk::<2>() else {
        return Err(FrameError::TooShort {
            found: bytes.len(),
            needed: HEADER_LEN + 3,
        });
    };
    Command::from_code(cmd, para).ok_or(FrameError::UnknownCommand { cmd, para })
}

/// The text block of a read answer. The photo is not kept.
///
/// `Debug` does not show the text.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadPayload {
    /// The 256-byte text block (see [`crate::text`]).
    pub text: [u8; TEXT_LEN],
}

impl fmt::Debug for ReadPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadPayload { .. }")
    }
}

/// Reads `count` big-endian `u16` lengths from the start of `data`.
fn lengths<const N: usize>(data: &[u8]) -> Result<[usize; N], FrameError> {
    let mut out = [0; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let pair = data
            .get(2 * i..2 * i + 2)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .ok_or(FrameError::PayloadLength {
                announced: 2 * N,
                available: data.len(),
            })?;
        *slot = usize::from(u16::from_be_bytes(pair));
    }
    Ok(out)
}

/// Takes the text block out of a read answer whose data is `[text len][blocks' lengths][text]…`.
fn text_block<const N: usize>(data: &[u8]) -> Result<ReadPayload, FrameError> {
    let lens = lengths::<N>(data)?;
    let text_len = lens.first().copied().unwrap_or_default();
    if text_len != TEXT_LEN {
        return Err(FrameError::TextLength { found: text_len });
    }
    let announced = 2 * N + lens.iter().sum::<usize>();
    if announced > data.len() {
        return Err(FrameError::PayloadLength {
            announced,
            available: data.len(),
        });
    }
    let text = data
        .get(2 * N..2 * N + TEXT_LEN)
        .and_then(|s| <[u8; TEXT_LEN]>::try_from(s).ok())
        .ok_or(FrameError::PayloadLength {
            announced,
            available: data.len(),
        })?;
    Ok(ReadPayload { text })
}

/// The text block of the answer to [`Command::ReadText`], whose data is
/// `[text len BE u16][photo len BE u16][text][photo]`.
///
/// The text length must be 256 and both blocks must fit in the data; the photo is dropped.
/// The status is not looked at (the caller checks it is [`Status::Ok`]).
pub fn parse_read_payload(resp: &Response) -> Result<ReadPayload, FrameError> {
    text_block::<2>(&resp.data)
}

/// The text block of the answer to [`Command::ReadTextFingerprint`], whose data is
/// `[text len][photo len][fingerprint len][text][photo][fingerprints]` (lengths BE u16).
///
/// The text length must be 256 and every block must fit; photo and fingerprints are dropped.
pub fn parse_read_fingerprint_payload(resp: &Response) -> Result<ReadPayload, FrameError> {
    text_block::<3>(&resp.data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn find_card_frame_is_the_reference_example() {
        assert_eq!(
            encode_command(Command::FindCard),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
        );
    }

    #[test]
    fn known_literal_responses_parse() {
        let ok = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94,
        ];
        let resp = parse_response(&ok).unwrap();
        assert_eq!(resp.status, Status::Ok);
        assert!(resp.data.is_empty());

        let no_card = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84,
        ];
        let resp = parse_response(&no_card).unwrap();
        assert_eq!(resp.status, Status::FindFailed);
        assert!(resp.data.is_empty());

        assert_eq!(encode_response(Status::Ok, &[]), ok);
        assert_eq!(encode_response(Status::FindFailed, &[]), no_card);
    }

    #[test]
    fn read_answer_header_is_the_reference_one() {
        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.extend_from_slice(&[0x20; 256 + 1024]);
        let frame = encode_response(Status::Ok, &data);
        assert_eq!(frame.len(), 1295);
        assert_eq!(
            frame[..10],
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90]
        );
        let payload = parse_read_payload(&parse_response(&frame).unwrap()).unwrap();
        assert_eq!(payload.text, [0x20; 256]);
    }
}
