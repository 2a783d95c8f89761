//! The read loop: find → select → read over any [`SamTransport`], with the retries a real reader
//! needs.
//!
//! * **Find** ([`Command::FindCard`]) must answer [`Status::CardFound`] (`9F`; `90` is accepted
//!   too). A card that has just arrived may answer [`Status::FindFailed`] (`80`) while it
//!   settles: find is sent again up to [`ReadPolicy::settle_attempts`] more times, with
//!   [`ReadPolicy::retry_pause`] between; then the read ends with [`ReadError::NoCard`].
//! * **Select** ([`Command::SelectCard`]) and **read** ([`Command::ReadText`]) must answer
//!   [`Status::Ok`] (`90`).
//! * At any step, an answer with a bad checksum, a SAM status saying our command arrived with a
//!   bad checksum (`10`), or [`Status::ReadFailed`] (`41`) sends the same command again after
//!   [`ReadPolicy::retry_pause`], as long as less than [`ReadPolicy::read_timeout`] has passed
//!   since the read began; after that the read ends with [`ReadError::Timeout`].
//! * The card leaving ([`TransportError::CardRemoved`]) ends the read at once with
//!   [`ReadError::CardRemoved`]. Any other status ends it with [`ReadError::Status`], any other
//!   malformed answer with [`ReadError::Frame`].
//!
//! This is the imperative shell around the pure codec: it sleeps and reads the monotonic clock.

use std::thread;
use std::time::{Duration, Instant};

use crate::sam::{self, Command, FrameError, Response, Status};
use crate::text::{self, IdCard, TextError};

/// Carries SAM frames to the reader's security module and back (PC/SC, serial, a test fake).
pub trait SamTransport {
    /// Sends one command frame and returns the whole response frame, waiting at most `timeout`.
    fn transceive(&mut self, frame: &[u8], timeout: Duration) -> Result<Vec<u8>, TransportError>;
}

/// Why a transport could not carry a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The card left the reader.
    #[error("the card was removed")]
    CardRemoved,
    /// The reader is gone.
    #[error("no reader")]
    NoReader,
    /// Any other failure of the transport.
    #[error("transport error: {0}")]
    Io(String),
    /// No answer in time.
    #[error("the reader did not answer in time")]
    Timeout,
}

/// How patient [`read_card`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPolicy {
    /// How many more times find is sent while it answers `80` (a card just placed settles);
    /// default 5.
    pub settle_attempts: u32,
    /// Total time for retries after bad checksums and `41` read failures, counted from the start
    /// of the read; default 3 s.
    pub read_timeout: Duration,
    /// Pause before each retry; default 50 ms.
    pub retry_pause: Duration,
}

impl Default for ReadPolicy {
    fn default() -> Self {
        Self {
            settle_attempts: 5,
            read_timeout: Duration::from_secs(3),
            retry_pause: Duration::from_millis(50),
        }
    }
}

/// Why a card could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Find kept answering "no card".
    #[error("no card on the reader")]
    NoCard,
    /// The card left during the read.
    #[error("the card was removed during the read")]
    CardRemoved,
    /// An answer was not a well-formed frame.
    #[error("malformed answer from the reader: {0}")]
    Frame(FrameError),
    /// The SAM answered with a status that ends the read.
    #[error("the reader answered {0}")]
    Status(Status),
    /// The text block is not a valid card.
    #[error("the card's data is invalid: {0}")]
    Text(TextError),
    /// Retries took longer than the read time-out, or the reader did not answer in time.
    #[error("the read timed out")]
    Timeout,
    /// The transport failed (reader gone, I/O error).
    #[error("{0}")]
    Transport(String),
}

impl From<FrameError> for ReadError {
    fn from(e: FrameError) -> Self {
        Self::Frame(e)
    }
}

impl From<TextError> for ReadError {
    fn from(e: TextError) -> Self {
        Self::Text(e)
    }
}

impl From<TransportError> for ReadError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved => Self::CardRemoved,
            TransportError::Timeout => Self::Timeout,
            TransportError::NoReader => Self::Transport(e.to_string()),
            TransportError::Io(message) => Self::Transport(message),
        }
    }
}

impl ReadError {
    /// Whether placing the card again may help (as opposed to a broken reader or card).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::NoCard
                | Self::CardRemoved
                | Self::Timeout
                | Self::Frame(FrameError::Checksum { .. })
                | Self::Status(Status::ReadFailed | Status::FindFailed | Status::SelectFailed)
        )
    }
}

/// One read in progress.
struct Session<'t> {
    transport: &'t mut dyn SamTransport,
    policy: &'t ReadPolicy,
    start: Instant,
}

impl Session<'_> {
    /// Sends `cmd` and returns the answer, retrying bad checksums and `41` within the read
    /// time-out.
    fn exchange(&mut self, cmd: Command) -> Result<Response, ReadError> {
        let frame = sam::encode_command(cmd);
        loop {
            let bytes = self.transport.transceive(&frame, cmd.timeout())?;
            match sam::parse_response(&bytes) {
                Ok(resp) if !matches!(resp.status, Status::ReadFailed | Status::ChecksumError) => {
                    return Ok(resp);
                }
                Ok(_) | Err(FrameError::Checksum { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            if self.start.elapsed() >= self.policy.read_timeout {
                return Err(ReadError::Timeout);
            }
            thread::sleep(self.policy.retry_pause);
        }
    }

    fn find(&mut self) -> Result<(), ReadError> {
        let mut settles = 0;
        loop {
            match self.exchange(Command::FindCard)?.status {
                Status::CardFound | Status::Ok => return Ok(()),
                Status::FindFailed if settles < self.policy.settle_attempts => {
                    settles += 1;
                    thread::sleep(self.policy.retry_pause);
                }
                Status::FindFailed => return Err(ReadError::NoCard),
                other => return Err(ReadError::Status(other)),
            }
        }
    }

    fn select(&mut self) -> Result<(), ReadError> {
        match self.exchange(Command::SelectCard)?.status {
            Status::Ok => Ok(()),
            other => Err(ReadError::Status(other)),
        }
    }

    fn read(&mut self) -> Result<IdCard, ReadError> {
        let resp = self.exchange(Command::ReadText)?;
        if resp.status != Status::Ok {
            return Err(ReadError::Status(resp.status));
        }
        let payload = sam::parse_read_payload(&resp)?;
        Ok(text::parse_text_block(&payload.text)?)
    }
}

/// Reads the card on the reader: find → select → read, with the retries of the module
/// documentation.
pub fn read_card(t: &mut dyn SamTransport, policy: &ReadPolicy) -> Result<IdCard, ReadError> {
    let mut session = Session {
        transport: t,
        policy,
        start: Instant::now(),
    };
    session.find()?;
    session.select()?;
    session.read()
}
