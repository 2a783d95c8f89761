//! An emulated ID-card reader behind the vpcd protocol, for tests and demonstrations of the PC/SC
//! backend without hardware.
//!
//! The `vsmartcard-vpcd` driver gives `pcscd` a reader ("Virtual PCD 00 00") whose card is a
//! program connecting to it over TCP (127.0.0.1, port 35963 for the first reader). This module is
//! such a program: it plays a reader with the security module (SAM) inside, behind the
//! [`TunnelDialect`], loaded with one [`IdCard`]. Being connected to vpcd is what `pcscd` sees as
//! a card on the reader: [`Emulator::insert`] connects, [`Emulator::remove`] disconnects.
//!
//! # The vpcd wire protocol
//!
//! Every message, both ways, is a 2-byte big-endian length and then that many bytes. A 1-byte
//! message from vpcd is a control code: `00` power off, `01` power on, `02` reset (none of them
//! answered) and `04` get ATR, answered with [`ATR`]. vpcd asks for the ATR every few hundred
//! milliseconds to learn whether the card is still there. A longer message is a command APDU,
//! answered with the response APDU.
//!
//! # The emulated SAM
//!
//! | command | answer |
//! |---|---|
//! | reset SAM `10 FF`, SAM status `11 FF` | `90` |
//! | read SAM id `12 FF` | `90` and 16 bytes |
//! | find card `20 01` | `80` while no card, and the first [`EmulatorConfig::settle_no_card`] times after each insertion; then `9F` and 4 zero bytes |
//! | select card `20 02` | `90` and 8 zero bytes once the card was found, else `81` |
//! | read text + photo `30 01` | `90`, lengths `01 00` `04 00`, the 256-byte text block from [`encode_text_block`], 1024 zero photo bytes: a 1295-byte frame |
//! | read text + photo + fingerprint `30 10` | the same with a third, zero length |
//! | read appended address `30 03` | `91` (no such content) |
//! | a frame with a bad checksum / length / unknown command | `10` / `11` / `21` |
//!
//! An APDU that is not a tunnel APDU is answered with an ISO status word (see
//! [`TunnelDialect::frame_from_command`]). Faults for the tests are set in [`EmulatorConfig`]: a
//! bad checksum on the first read answer, a `41` for the first read, or the connection closed when
//! the first read command arrives (the card lifted in the middle of a read; the emulator then stays
//! removed until [`Emulator::insert`]).
//!
//! Nothing received from the socket can make the emulator panic: every malformed message gets a
//! status answer or is ignored.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::apdu::TunnelDialect;
use crate::sam::{self, Command, FrameError, Status};
use crate::text::{IdCard, encode_text_block};

/// The TCP port of vpcd's first reader ("Virtual PCD 00 00").
pub const DEFAULT_PORT: u16 = 35963;
/// The answer to reset the emulated reader gives: direct convention, T=0 and T=1, no historical
/// bytes.
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];
/// The 16 bytes the emulated SAM answers to "read SAM id".
pub const SAM_ID: [u8; 16] = [
    0x05, 0x00, 0x01, 0x00, 0x20, 0x26, 0x11, 0x21, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
];

/// vpcd control codes.
const CTRL_POWER_OFF: u8 = 0x00;
const CTRL_POWER_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_GET_ATR: u8 = 0x04;

/// Lengths in the read answer.
const TEXT_LEN: u16 = 256;
const PHOTO_LEN: u16 = 1024;

/// Waits between attempts to reach vpcd (pcscd may not be listening yet).
const CONNECT_BACKOFF_MIN: Duration = Duration::from_millis(50);
const CONNECT_BACKOFF_MAX: Duration = Duration::from_millis(500);

/// What the emulated reader holds and which faults it injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// vpcd's TCP port on 127.0.0.1 ([`DEFAULT_PORT`] for the first virtual reader).
    pub port: u16,
    /// The card on the reader at start; `None` starts with the reader empty (not connected).
    pub card: Option<IdCard>,
    /// After each insertion, answer "find card" with `80` (no card) this many times first, as a
    /// card that is still settling does.
    pub settle_no_card: u32,
    /// Corrupt the checksum of the first read answer (once per emulator).
    pub corrupt_checksum_once: bool,
    /// Answer the first read with `41` (read failed) (once per emulator).
    pub fail_read_once: bool,
    /// Close the connection when the first read command arrives: the card is lifted in the middle
    /// of a read and stays off until [`Emulator::insert`] (once per emulator).
    pub drop_during_read: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            card: None,
            settle_no_card: 0,
            corrupt_checksum_once: false,
            fail_read_once: false,
            drop_during_read: false,
        }
    }
}

impl EmulatorConfig {
    /// A fault-free emulator on [`DEFAULT_PORT`] with `card` on the reader.
    pub fn with_card(card: IdCard) -> Self {
        Self {
            card: Some(card),
            ..Self::default()
        }
    }
}

/// Counters of what the emulator did, for tests to check that a fault was really exercised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Connections made to vpcd (card insertions as pcscd sees them).
    pub connections: u32,
    /// Well-formed SAM commands answered.
    pub commands: u32,
    /// "Find card" answered with `80`.
    pub finds_no_card: u32,
    /// Read answers sent with status `90` (including a corrupted one).
    pub reads_answered: u32,
    /// Read answers sent with a corrupted checksum.
    pub checksums_corrupted: u32,
    /// Reads answered with `41`.
    pub reads_failed: u32,
    /// Connections closed in the middle of a read.
    pub drops: u32,
    /// Messages that were not tunnel APDUs or not SAM frames.
    pub malformed: u32,
}

/// A running emulated reader: its own thread, connected to vpcd while a card is on it.
///
/// Dropping the handle stops the emulator.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Emulator {
    /// Starts the emulator's thread. With a card in `config` it starts connecting to vpcd at
    /// once, and keeps retrying while vpcd is not listening (pcscd still starting).
    pub fn start(config: EmulatorConfig) -> io::Result<Self> {
        let port = config.port;
        let shared = Arc::new(Shared::new(config));
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("idcard-emulator".into())
            .spawn(move || worker_loop(&worker, port))?;
        Ok(Self {
            shared,
            thread: Some(thread),
            port,
        })
    }

    /// The vpcd port this emulator connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Places `card` on the reader. If a card is already on it, that card is lifted first (the
    /// connection is closed and made again), so pcscd sees a removal and an insertion.
    pub fn insert(&self, card: IdCard) {
        let mut state = self.shared.lock();
        state.sam.card = Some(card);
        state.present = true;
        state.generation = state.generation.wrapping_add(1);
        state.close_stream();
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Lifts the card: closes the connection to vpcd, which pcscd sees as the card removed.
    pub fn remove(&self) {
        let mut state = self.shared.lock();
        state.sam.card = None;
        state.present = false;
        state.generation = state.generation.wrapping_add(1);
        state.close_stream();
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Whether the emulator is connected to vpcd right now.
    pub fn is_connected(&self) -> bool {
        self.shared.lock().connected
    }

    /// Waits until the emulator is connected to vpcd, or `timeout` passes; returns whether it is.
    pub fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !state.connected {
            let now = Instant::now();
            let Some(left) = deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                return false;
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// What the emulator has done so far.
    pub fn stats(&self) -> EmulatorStats {
        self.shared.lock().stats
    }

    /// Stops the emulator: closes the connection (the card leaves the reader) and joins the
    /// thread.
    pub fn stop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            state.close_stream();
        }
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs an emulator until `stop` is set (checked every 100 ms), then stops it.
pub fn run(config: EmulatorConfig, stop: Arc<AtomicBool>) -> io::Result<()> {
    let mut emulator = Emulator::start(config)?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::park_timeout(Duration::from_millis(100));
    }
    emulator.stop();
    Ok(())
}

/// State shared by the handle and the emulator's thread.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    stop: bool,
    /// Whether a card is on the reader, i.e. whether to be connected to vpcd.
    present: bool,
    /// Bumped by every insert and remove: a connection made for an older generation is stale.
    generation: u64,
    /// A handle on the live connection, shut down to interrupt the thread's blocking read.
    stream: Option<TcpStream>,
    connected: bool,
    sam: Sam,
    stats: EmulatorStats,
}

impl State {
    fn close_stream(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Shared {
    fn new(config: EmulatorConfig) -> Self {
        let present = config.card.is_some();
        Self {
            state: Mutex::new(State {
                stop: false,
                present,
                generation: 0,
                stream: None,
                connected: false,
                sam: Sam::new(config),
                stats: EmulatorStats::default(),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout`, returning early on stop or on an insert/remove.
    fn pause(&self, generation: u64, timeout: Duration) {
        let state = self.lock();
        let _ = self
            .changed
            .wait_timeout_while(state, timeout, |s| !s.stop && s.generation == generation)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// How one connection to vpcd ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionEnd {
    /// vpcd closed it (pcscd stopped, or vpcd gave up on us): connect again.
    PeerClosed,
    /// We closed it on purpose: stop, insert or remove.
    Interrupted,
    /// We closed it in the middle of a read (injected fault): the card stays off.
    Dropped,
}

fn worker_loop(shared: &Shared, port: u16) {
    let mut backoff = CONNECT_BACKOFF_MIN;
    loop {
        let generation = {
            let mut state = shared.lock();
            while !state.stop && !state.present {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.stop {
                return;
            }
            state.generation
        };
        let stream = match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            Ok(stream) => stream,
            Err(_) => {
                // vpcd is not listening yet (pcscd starting, or stopped): try again shortly.
                shared.pause(generation, backoff);
                backoff = (backoff * 2).min(CONNECT_BACKOFF_MAX);
                continue;
            }
        };
        backoff = CONNECT_BACKOFF_MIN;
        let _ = stream.set_nodelay(true);
        {
            let mut state = shared.lock();
            if state.stop || !state.present || state.generation != generation {
                continue;
            }
            let Ok(handle) = stream.try_clone() else {
                drop(state);
                shared.pause(generation, backoff);
                continue;
            };
            state.stream = Some(handle);
            state.connected = true;
            state.stats.connections = state.stats.connections.saturating_add(1);
            state.sam.inserted();
        }
        shared.changed.notify_all();

        let end = serve(shared, stream, generation);

        {
            let mut state = shared.lock();
            state.stream = None;
            state.connected = false;
            if end == SessionEnd::Dropped && state.generation == generation {
                state.present = false;
            }
        }
        shared.changed.notify_all();
        if end == SessionEnd::PeerClosed {
            shared.pause(generation, CONNECT_BACKOFF_MIN);
        }
    }
}

/// Answers vpcd's messages on one connection until it ends.
fn serve(shared: &Shared, mut stream: TcpStream, generation: u64) -> SessionEnd {
    let ended = |shared: &Shared| {
        let state = shared.lock();
        if state.stop || state.generation != generation {
            SessionEnd::Interrupted
        } else {
            SessionEnd::PeerClosed
        }
    };
    loop {
        let mut header = [0u8; 2];
        if stream.read_exact(&mut header).is_err() {
            return ended(shared);
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(header))];
        if stream.read_exact(&mut payload).is_err() {
            return ended(shared);
        }
        let reply = {
            let mut state = shared.lock();
            if state.stop || state.generation != generation {
                return SessionEnd::Interrupted;
            }
            let State { sam, stats, .. } = &mut *state;
            sam.answer(&payload, stats)
        };
        match reply {
            Reply::Nothing => {}
            Reply::Send(bytes) => {
                let Ok(len) = u16::try_from(bytes.len()) else {
                    let _ = stream.shutdown(Shutdown::Both);
                    return SessionEnd::PeerClosed;
                };
                let mut message = Vec::with_capacity(bytes.len() + 2);
                message.extend_from_slice(&len.to_be_bytes());
                message.extend_from_slice(&bytes);
                if stream
                    .write_all(&message)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return ended(shared);
                }
            }
            Reply::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return SessionEnd::Dropped;
            }
        }
    }
}

/// What to send back for one vpcd message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Nothing,
    Send(Vec<u8>),
    /// Close the connection without an answer.
    Drop,
}

/// The emulated SAM with its card and its pending faults.
#[derive(Debug)]
struct Sam {
    card: Option<IdCard>,
    settle_per_insertion: u32,
    settle_left: u32,
    found: bool,
    corrupt_pending: bool,
    fail_read_pending: bool,
    drop_pending: bool,
}

impl Sam {
    fn new(config: EmulatorConfig) -> Self {
        Self {
            card: config.card,
            settle_per_insertion: config.settle_no_card,
            settle_left: config.settle_no_card,
            found: false,
            corrupt_pending: config.corrupt_checksum_once,
            fail_read_pending: config.fail_read_once,
            drop_pending: config.drop_during_read,
        }
    }

    /// A new connection: the card has just arrived.
    fn inserted(&mut self) {
        self.settle_left = self.settle_per_insertion;
        self.found = false;
    }

    fn answer(&mut self, message: &[u8], stats: &mut EmulatorStats) -> Reply {
        match message {
            [] => Reply::Nothing,
            [CTRL_GET_ATR] => Reply::Send(ATR.to_vec()),
            [CTRL_POWER_OFF | CTRL_RESET] => {
                self.found = false;
                Reply::Nothing
            }
            [CTRL_POWER_ON] | [_] => Reply::Nothing,
            apdu => self.answer_apdu(apdu, stats),
        }
    }

    fn answer_apdu(&mut self, apdu: &[u8], stats: &mut EmulatorStats) -> Reply {
        let frame = match TunnelDialect.frame_from_command(apdu) {
            Ok(frame) => frame,
            Err(sw) => {
                stats.malformed = stats.malformed.saturating_add(1);
                return Reply::Send(sw.to_vec());
            }
        };
        let response = match sam::parse_command(frame) {
            Ok(command) => {
                stats.commands = stats.commands.saturating_add(1);
                match self.execute(command, stats) {
                    Some(response) => response,
                    None => return Reply::Drop,
                }
            }
            Err(error) => {
                stats.malformed = stats.malformed.saturating_add(1);
                sam::encode_response(status_for(&error), &[])
            }
        };
        Reply::Send(TunnelDialect.response_apdu(&response))
    }

    /// The response frame to one SAM command, or `None` to close the connection.
    fn execute(&mut self, command: Command, stats: &mut EmulatorStats) -> Option<Vec<u8>> {
        let frame = match command {
            Command::ResetSam | Command::SamStatus => sam::encode_response(Status::Ok, &[]),
            Command::ReadSamId => sam::encode_response(Status::Ok, &SAM_ID),
            Command::FindCard => {
                if self.card.is_none() || self.settle_left > 0 {
                    self.settle_left = self.settle_left.saturating_sub(1);
                    stats.finds_no_card = stats.finds_no_card.saturating_add(1);
                    sam::encode_response(Status::FindFailed, &[])
                } else {
                    self.found = true;
                    sam::encode_response(Status::CardFound, &[0; 4])
                }
            }
            Command::SelectCard => {
                if self.found && self.card.is_some() {
                    sam::encode_response(Status::Ok, &[0; 8])
                } else {
                    sam::encode_response(Status::SelectFailed, &[])
                }
            }
            Command::ReadText | Command::ReadTextFingerprint => {
                if self.drop_pending {
                    self.drop_pending = false;
                    stats.drops = stats.drops.saturating_add(1);
                    return None;
                }
                let text = match &self.card {
                    Some(card) if self.found && !self.fail_read_pending => encode_text_block(card),
                    _ => {
                        self.fail_read_pending = false;
                        stats.reads_failed = stats.reads_failed.saturating_add(1);
                        return Some(sam::encode_response(Status::ReadFailed, &[]));
                    }
                };
                let fingerprint = command == Command::ReadTextFingerprint;
                let mut frame = sam::encode_response(Status::Ok, &read_payload(&text, fingerprint));
                stats.reads_answered = stats.reads_answered.saturating_add(1);
                if self.corrupt_pending {
                    self.corrupt_pending = false;
                    stats.checksums_corrupted = stats.checksums_corrupted.saturating_add(1);
                    if let Some(checksum) = frame.last_mut() {
                        *checksum ^= 0x5A;
                    }
                }
                frame
            }
            Command::ReadAddress => sam::encode_response(Status::NoContent, &[]),
        };
        Some(frame)
    }
}

/// The data of a read answer: the lengths, the text block and a blank photo.
fn read_payload(text: &[u8; 256], fingerprint: bool) -> Vec<u8> {
    let mut data = Vec::with_capacity(6 + 256 + 1024);
    data.extend_from_slice(&TEXT_LEN.to_be_bytes());
    data.extend_from_slice(&PHOTO_LEN.to_be_bytes());
    if fingerprint {
        data.extend_from_slice(&0u16.to_be_bytes());
    }
    data.extend_from_slice(text);
    data.resize(data.len() + usize::from(PHOTO_LEN), 0);
    data
}

/// The SAM status for a command frame the codec refused.
fn status_for(error: &FrameError) -> Status {
    match error {
        FrameError::Checksum { .. } => Status::ChecksumError,
        FrameError::TooShort { .. } | FrameError::Length { .. } => Status::LengthError,
        _ => Status::CommandError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::Dialect;

    fn card() -> IdCard {
        crate::sim::demo_cards().into_iter().next().unwrap()
    }

    fn send(sam: &mut Sam, command: Command) -> Reply {
        let apdu = TunnelDialect
            .command_apdu(&sam::encode_command(command))
            .unwrap();
        sam.answer(&apdu, &mut EmulatorStats::default())
    }

    fn status(reply: &Reply) -> Status {
        let Reply::Send(apdu) = reply else {
            panic!("no answer: {reply:?}")
        };
        let frame = TunnelDialect.response_frame(apdu).unwrap();
        sam::parse_response(&frame).unwrap().status
    }

    #[test]
    fn control_codes() {
        let mut sam = Sam::new(EmulatorConfig::with_card(card()));
        let mut stats = EmulatorStats::default();
        assert_eq!(sam.answer(&[4], &mut stats), Reply::Send(ATR.to_vec()));
        for code in [0, 1, 2, 3, 0xFF] {
            assert_eq!(sam.answer(&[code], &mut stats), Reply::Nothing);
        }
        assert_eq!(sam.answer(&[], &mut stats), Reply::Nothing);
    }

    #[test]
    fn find_select_read_gives_a_1295_byte_frame_that_parses() {
        let card = card();
        let mut sam = Sam::new(EmulatorConfig::with_card(card.clone()));
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::CardFound
        );
        assert_eq!(status(&send(&mut sam, Command::SelectCard)), Status::Ok);
        let Reply::Send(apdu) = send(&mut sam, Command::ReadText) else {
            panic!("no answer")
        };
        assert_eq!(apdu.len(), 1297);
        assert_eq!(
            apdu[..10],
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90]
        );
        let frame = TunnelDialect.response_frame(&apdu).unwrap();
        let response = sam::parse_response(&frame).unwrap();
        let payload = sam::parse_read_payload(&response).unwrap();
        assert_eq!(crate::text::parse_text_block(&payload.text).unwrap(), card);
    }

    #[test]
    fn settling_then_found() {
        let mut sam = Sam::new(EmulatorConfig {
            settle_no_card: 2,
            ..EmulatorConfig::with_card(card())
        });
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::FindFailed
        );
        assert_eq!(
            status(&send(&mut sam, Command::SelectCard)),
            Status::SelectFailed
        );
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::FindFailed
        );
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::CardFound
        );
        sam.inserted();
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::FindFailed
        );
    }

    #[test]
    fn faults_fire_once() {
        let mut sam = Sam::new(EmulatorConfig {
            corrupt_checksum_once: true,
            fail_read_once: true,
            drop_during_read: true,
            ..EmulatorConfig::with_card(card())
        });
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::CardFound
        );
        assert_eq!(send(&mut sam, Command::ReadText), Reply::Drop);
        assert_eq!(
            status(&send(&mut sam, Command::ReadText)),
            Status::ReadFailed
        );
        let Reply::Send(apdu) = send(&mut sam, Command::ReadText) else {
            panic!("no answer")
        };
        let frame = TunnelDialect.response_frame(&apdu).unwrap();
        assert!(matches!(
            sam::parse_response(&frame),
            Err(FrameError::Checksum { .. })
        ));
        assert_eq!(status(&send(&mut sam, Command::ReadText)), Status::Ok);
    }

    #[test]
    fn no_card_and_other_commands() {
        let mut sam = Sam::new(EmulatorConfig::default());
        assert_eq!(
            status(&send(&mut sam, Command::FindCard)),
            Status::FindFailed
        );
        assert_eq!(
            status(&send(&mut sam, Command::ReadText)),
            Status::ReadFailed
        );
        assert_eq!(status(&send(&mut sam, Command::SamStatus)), Status::Ok);
        assert_eq!(
            status(&send(&mut sam, Command::ReadAddress)),
            Status::NoContent
        );
    }

    #[test]
    fn malformed_input_gets_a_status_not_a_panic() {
        let mut sam = Sam::new(EmulatorConfig::with_card(card()));
        let mut stats = EmulatorStats::default();
        assert_eq!(
            sam.answer(&[0x00, 0xA4, 0x04, 0x00], &mut stats),
            Reply::Send(vec![0x6E, 0x00])
        );
        // A tunnel APDU whose frame has a bad checksum.
        let mut frame = sam::encode_command(Command::FindCard);
        if let Some(last) = frame.last_mut() {
            *last ^= 1;
        }
        let apdu = TunnelDialect.command_apdu(&frame).unwrap();
        assert_eq!(
            status(&sam.answer(&apdu, &mut stats)),
            Status::ChecksumError
        );
        // Every short prefix and a run of arbitrary bytes.
        let good = TunnelDialect
            .command_apdu(&sam::encode_command(Command::ReadText))
            .unwrap();
        for end in 0..good.len() {
            let _ = sam.answer(&good[..end], &mut stats);
        }
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x.to_le_bytes()[0]
                })
                .collect();
            let _ = sam.answer(&bytes, &mut stats);
        }
    }
}
