//! The serial-port backend: a scanner on a USB-CDC (`/dev/ttyACM*`) or RS-232 / USB-UART
//! (`/dev/ttyUSB*`) port, 8N1 without flow control.
//!
//! [`SerialScanner::start`] spawns one thread that owns the port. It reads with a short time-out
//! (so idle gaps and [`Scanner::stop`] are noticed quickly), feeds the [`Framer`] with the time each
//! chunk arrived, and sends [`ScannerEvent`]s on the channel. When the port goes away (a read
//! error, end of file, or its path vanishing) it reports [`ScannerEvent::Disconnected`], drops the
//! unfinished frame and tries to reopen the port with a back-off (200 ms doubling up to 2 s by
//! default), reporting [`ScannerEvent::Connected`] when it is back. A port that cannot be opened at
//! start is reported once as [`ScannerError::Open`] and retried the same way.
//!
//! The thread ends when the scanner is stopped or dropped, or when the receiver is dropped.

use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::{DataBits, FlowControl, Parity, SerialPort, StopBits};

use crate::framer::{Framer, FramerConfig};
use crate::{Scanner, ScannerError, ScannerEvent};

/// Default baud rate: the factory setting of most scanners.
pub const DEFAULT_BAUD: u32 = 9600;
/// Default first delay before reopening a port that went away.
pub const DEFAULT_RECONNECT_MIN: Duration = Duration::from_millis(200);
/// Default longest delay between attempts to reopen a port.
pub const DEFAULT_RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Longest read time-out: bounds how late an idle gap or a stop is noticed.
const MAX_READ_TIMEOUT: Duration = Duration::from_millis(50);
/// Shortest read time-out, so a tiny idle gap does not make the thread spin.
const MIN_READ_TIMEOUT: Duration = Duration::from_millis(5);
/// How often the port's path is checked while the port is quiet.
const PATH_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Where the scanner is and how its bytes are framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerConfig {
    /// The serial device, such as `/dev/ttyACM0` (a symbolic link is followed on every open).
    pub port: PathBuf,
    /// Baud rate (8 data bits, no parity, 1 stop bit, no flow control).
    pub baud: u32,
    /// Framing, length cap, stripping and repeat suppression.
    pub framing: FramerConfig,
    /// First delay before reopening a port that went away; doubled after each failed attempt.
    pub reconnect_min: Duration,
    /// Longest delay between attempts to reopen the port.
    pub reconnect_max: Duration,
}

impl ScannerConfig {
    /// The defaults (9600 baud, default framing and back-off) for the given port.
    pub fn new(port: impl Into<PathBuf>) -> Self {
        Self {
            port: port.into(),
            baud: DEFAULT_BAUD,
            framing: FramerConfig::default(),
            reconnect_min: DEFAULT_RECONNECT_MIN,
            reconnect_max: DEFAULT_RECONNECT_MAX,
        }
    }
}

/// A scanner on a serial port. See the [module documentation](self).
#[derive(Debug)]
pub struct SerialScanner {
    config: ScannerConfig,
    worker: Option<Worker>,
}

#[derive(Debug)]
struct Worker {
    /// Dropping it tells the thread to stop.
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl SerialScanner {
    /// A scanner for the given configuration; nothing is opened until [`Scanner::start`].
    pub fn new(config: ScannerConfig) -> Self {
        Self {
            config,
            worker: None,
        }
    }

    /// The configuration this scanner runs with.
    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }
}

impl Scanner for SerialScanner {
    fn start(&mut self) -> Receiver<ScannerEvent> {
        self.stop();
        let (events_tx, events_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel();
        let config = self.config.clone();
        let thread = std::thread::Builder::new()
            .name("qr-scanner".to_owned())
            .spawn(move || Reader::new(config, events_tx, stop_rx).run());
        match thread {
            Ok(thread) => {
                self.worker = Some(Worker {
                    stop: stop_tx,
                    thread,
                });
            }
            Err(error) => {
                // No thread: report it; the channel then closes as the sender is dropped.
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(ScannerEvent::Error(ScannerError::Open {
                    port: self.config.port.display().to_string(),
                    reason: format!("cannot start the reader thread: {error}"),
                }));
                return rx;
            }
        }
        events_rx
    }

    fn stop(&mut self) {
        if let Some(worker) = self.worker.take() {
            drop(worker.stop);
            // A panic in the thread has nothing more to report here.
            let _ = worker.thread.join();
        }
    }
}

impl Drop for SerialScanner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why the reading of an open port ended.
enum End {
    /// Stopped, or nobody listens any more: the thread ends.
    Stop,
    /// The port went away, for this reason.
    Lost(String),
}

/// The reader thread's state.
struct Reader {
    config: ScannerConfig,
    port_name: String,
    framer: Framer,
    events: Sender<ScannerEvent>,
    stop: Receiver<()>,
}

impl Reader {
    fn new(config: ScannerConfig, events: Sender<ScannerEvent>, stop: Receiver<()>) -> Self {
        Self {
            port_name: config.port.display().to_string(),
            framer: Framer::new(config.framing.clone()),
            config,
            events,
            stop,
        }
    }

    /// Opens, reads, reopens, until stopped.
    fn run(mut self) {
        let mut backoff = self.config.reconnect_min;
        // Open failures are reported once: at start; after a disconnection that was reported.
        let mut failure_reported = false;
        loop {
            match self.open() {
                Ok(port) => {
                    backoff = self.config.reconnect_min;
                    failure_reported = true;
                    let connected = ScannerEvent::Connected {
                        port: self.port_name.clone(),
                    };
                    if self.send(connected).is_err() {
                        return;
                    }
                    let reason = match self.read(port) {
                        End::Stop => return,
                        End::Lost(reason) => reason,
                    };
                    self.framer.reset();
                    let disconnected = ScannerEvent::Disconnected {
                        port: self.port_name.clone(),
                        reason,
                    };
                    if self.send(disconnected).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    if !failure_reported {
                        failure_reported = true;
                        let open = ScannerEvent::Error(ScannerError::Open {
                            port: self.port_name.clone(),
                            reason: error.to_string(),
                        });
                        if self.send(open).is_err() {
                            return;
                        }
                    }
                }
            }
            match self.stop.recv_timeout(backoff) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            backoff = backoff
                .saturating_mul(2)
                .min(self.config.reconnect_max)
                .max(self.config.reconnect_min);
        }
    }

    fn open(&self) -> serialport::Result<Box<dyn SerialPort>> {
        let read_timeout =
            (self.config.framing.idle_gap / 2).clamp(MIN_READ_TIMEOUT, MAX_READ_TIMEOUT);
        serialport::new(self.config.port.to_string_lossy(), self.config.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(read_timeout)
            .open()
    }

    /// Reads the open port until it goes away or the thread must stop.
    fn read(&mut self, mut port: Box<dyn SerialPort>) -> End {
        let mut buf = [0_u8; 512];
        let mut last_path_check = Instant::now();
        loop {
            match self.stop.try_recv() {
                Err(TryRecvError::Empty) => {}
                Ok(()) | Err(TryRecvError::Disconnected) => return End::Stop,
            }
            match port.read(&mut buf) {
                Ok(0) => return End::Lost("the port reported end of file".to_owned()),
                Ok(n) => {
                    let chunk = buf.get(..n).unwrap_or_default();
                    for event in self.framer.push(chunk, Instant::now()) {
                        if self.send(event.into()).is_err() {
                            return End::Stop;
                        }
                    }
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::TimedOut | ErrorKind::Interrupted | ErrorKind::WouldBlock
                    ) => {}
                Err(error) => return End::Lost(format!("read failed: {error}")),
            }
            let now = Instant::now();
            if let Some(event) = self.framer.poll(now)
                && self.send(event.into()).is_err()
            {
                return End::Stop;
            }
            if now.saturating_duration_since(last_path_check) >= PATH_CHECK_INTERVAL {
                last_path_check = now;
                if !self.config.port.exists() {
                    return End::Lost("the port's device vanished".to_owned());
                }
            }
        }
    }

    fn send(&self, event: ScannerEvent) -> Result<(), End> {
        self.events.send(event).map_err(|_| End::Stop)
    }
}
