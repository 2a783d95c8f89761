//! The simulator backend: scans, disconnections and reconnections made by hand (a demo panel or
//! a test) through a cloneable [`SimHandle`].
//!
//! Simulated scans go through the same [`Framer`] as real ones (each followed by a CR), so repeat
//! suppression, stripping and the checks behave as with a real scanner.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::framer::{Framer, FramerConfig};
use crate::{Scanner, ScannerEvent};

/// The port name simulated scanners report.
pub const SIM_PORT: &str = "simulator";

/// A scanner driven by hand through its [`SimHandle`]s. It starts connected.
#[derive(Debug)]
pub struct SimulatedScanner {
    handle: SimHandle,
}

/// A cloneable handle that makes a [`SimulatedScanner`] scan, disconnect and reconnect.
#[derive(Debug, Clone)]
pub struct SimHandle {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    framer: Framer,
    connected: bool,
    events: Option<Sender<ScannerEvent>>,
}

impl SimulatedScanner {
    /// A simulated scanner with the default framing.
    pub fn new() -> Self {
        Self::with_framing(FramerConfig::default())
    }

    /// A simulated scanner with the given framing.
    pub fn with_framing(framing: FramerConfig) -> Self {
        Self {
            handle: SimHandle {
                state: Arc::new(Mutex::new(State {
                    framer: Framer::new(framing),
                    connected: true,
                    events: None,
                })),
            },
        }
    }

    /// A handle to drive this scanner.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }
}

impl Default for SimulatedScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner for SimulatedScanner {
    fn start(&mut self) -> Receiver<ScannerEvent> {
        let (tx, rx) = mpsc::channel();
        let mut state = self.handle.lock();
        state.framer.reset();
        if state.connected {
            // The receiver is alive: it is returned below.
            let _ = tx.send(ScannerEvent::Connected {
                port: SIM_PORT.to_owned(),
            });
        }
        state.events = Some(tx);
        rx
    }

    fn stop(&mut self) {
        self.handle.lock().events = None;
    }
}

impl SimHandle {
    /// Scans `text` as the scanner would send it (followed by a CR). Nothing happens while the
    /// scanner is disconnected or stopped.
    pub fn scan(&self, text: &str) {
        self.scan_bytes(text.as_bytes());
    }

    /// Sends raw bytes followed by a CR, for garbage and stripping demos. Nothing happens while
    /// the scanner is disconnected or stopped.
    pub fn scan_bytes(&self, bytes: &[u8]) {
        let mut state = self.lock();
        if !state.connected || state.events.is_none() {
            return;
        }
        let now = Instant::now();
        let mut events = state.framer.push(bytes, now);
        events.extend(state.framer.push(b"\r", now));
        for event in events {
            state.send(event.into());
        }
    }

    /// Unplugs the scanner: reports [`ScannerEvent::Disconnected`] if it was connected.
    pub fn disconnect(&self) {
        let mut state = self.lock();
        if state.connected {
            state.connected = false;
            state.send(ScannerEvent::Disconnected {
                port: SIM_PORT.to_owned(),
                reason: "simulated disconnection".to_owned(),
            });
        }
    }

    /// Plugs the scanner back in: reports [`ScannerEvent::Connected`] if it was disconnected.
    pub fn connect(&self) {
        let mut state = self.lock();
        if !state.connected {
            state.connected = true;
            state.send(ScannerEvent::Connected {
                port: SIM_PORT.to_owned(),
            });
        }
    }

    /// Whether the simulated scanner is plugged in.
    pub fn is_connected(&self) -> bool {
        self.lock().connected
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Sends an event; a receiver that is gone stops the scanner.
    fn send(&mut self, event: ScannerEvent) {
        if let Some(tx) = &self.events
            && tx.send(event).is_err()
        {
            self.events = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScanError, ScannerError};

    #[test]
    fn scans_disconnects_and_reconnects() {
        let mut scanner = SimulatedScanner::new();
        let handle = scanner.handle();
        let rx = scanner.start();
        handle.scan("HELLO");
        handle.scan("HELLO");
        handle.scan_bytes(&[0xFF]);
        handle.disconnect();
        handle.scan("LOST");
        handle.connect();
        handle.clone().scan("WORLD");
        scanner.stop();
        handle.scan("AFTER STOP");
        let events: Vec<_> = rx.iter().collect();
        let port = SIM_PORT.to_owned();
        assert_eq!(
            events,
            vec![
                ScannerEvent::Connected { port: port.clone() },
                ScannerEvent::Scan("HELLO".to_owned()),
                ScannerEvent::Error(ScannerError::Frame(ScanError::NotUtf8 { len: 1 })),
                ScannerEvent::Disconnected {
                    port: port.clone(),
                    reason: "simulated disconnection".to_owned()
                },
                ScannerEvent::Connected { port },
                ScannerEvent::Scan("WORLD".to_owned()),
            ]
        );
    }
}
