//! The QR scanner on a serial port (USB-CDC or RS-232): terminator and idle-gap framing, a
//! length cap, repeat suppression, reconnection, and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the scanner; nothing here knows about screens or HTTP.
//!
//! - [`framer`]: the pure framing core (bytes and time in, [`ScanEvent`]s out);
//! - [`serial`]: the serial-port backend, [`SerialScanner`], with its own reader thread;
//! - [`sim`]: the simulator backend, [`SimulatedScanner`], driven through a [`SimHandle`].
//!
//! Both backends implement [`Scanner`]: `start` returns a channel of [`ScannerEvent`]s, `stop`
//! ends the backend's work.

pub mod framer;
pub mod serial;
pub mod sim;

use std::sync::mpsc::Receiver;

pub use framer::{Framer, FramerConfig, ScanError, ScanEvent};
pub use serial::{ScannerConfig, SerialScanner};
pub use sim::{SimHandle, SimulatedScanner};

/// A QR scanner: starts delivering events on a channel, and stops.
pub trait Scanner: Send {
    /// Starts the scanner (restarting it if it runs) and returns the channel of its events.
    /// The channel closes when the scanner is stopped.
    fn start(&mut self) -> Receiver<ScannerEvent>;
    /// Stops the scanner and waits for its work to end. Does nothing if it is not running.
    fn stop(&mut self);
}

/// What a scanner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerEvent {
    /// The scanner's port is open (at start, or again after a disconnection).
    Connected {
        /// The port's name, for staff.
        port: String,
    },
    /// The port went away; the backend keeps trying to reopen it.
    Disconnected {
        /// The port's name, for staff.
        port: String,
        /// Why, in words for staff.
        reason: String,
    },
    /// A scanned code.
    Scan(String),
    /// A bad scan or a port that cannot be opened.
    Error(ScannerError),
}

/// A problem a scanner reports without stopping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScannerError {
    /// A frame that could not become a scan.
    #[error(transparent)]
    Frame(#[from] ScanError),
    /// The port could not be opened at start; the backend keeps retrying and reports
    /// [`ScannerEvent::Connected`] once it opens.
    #[error("cannot open scanner port {port}: {reason}")]
    Open {
        /// The port's name.
        port: String,
        /// Why, as the system said it.
        reason: String,
    },
}

impl From<ScanEvent> for ScannerEvent {
    fn from(event: ScanEvent) -> Self {
        match event {
            ScanEvent::Payload(text) => Self::Scan(text),
            ScanEvent::Error(error) => Self::Error(ScannerError::Frame(error)),
        }
    }
}
