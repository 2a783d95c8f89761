//! A TCP printer for tests and demos: listens on 127.0.0.1, records every byte it receives, and
//! answers each `DLE EOT n` with a scripted byte (or stays silent for that request).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};

/// The answers of a printer with nothing wrong (`0x12` is a valid reply with no fault bits).
pub const ALL_FINE: [Option<u8>; 4] = [Some(0x12); 4];
/// The answers of a printer out of paper (roll paper sensor, bits 5 and 6).
pub const PAPER_OUT: [Option<u8>; 4] = [Some(0x12), Some(0x12), Some(0x12), Some(0x72)];

/// A running emulator; it serves until the process ends.
#[derive(Debug, Clone)]
pub struct TcpPrinterEmulator {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
}

impl TcpPrinterEmulator {
    /// Starts an emulator answering `DLE EOT 1..4` with `answers[n - 1]`.
    pub fn start(answers: [Option<u8>; 4]) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut tail: Vec<u8> = Vec::new();
                    loop {
                        let n = match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let chunk = buf.get(..n).unwrap_or_default();
                        log.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .extend_from_slice(chunk);
                        // Status requests may straddle reads: look at the last two bytes too.
                        tail.extend_from_slice(chunk);
                        let mut replies = Vec::new();
                        for w in tail.windows(3) {
                            if let [0x10, 0x04, k @ 1..=4] = *w {
                                let index = usize::from(k - 1);
                                if let Some(Some(answer)) = answers.get(index) {
                                    replies.push(*answer);
                                }
                            }
                        }
                        let keep = tail.len().saturating_sub(2);
                        tail.drain(..keep);
                        if !replies.is_empty() && stream.write_all(&replies).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(Self { port, received })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The printer URL of this emulator.
    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Every byte received so far.
    pub fn received(&self) -> Vec<u8> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
