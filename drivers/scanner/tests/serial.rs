//! The serial backend on real pseudo-terminals: socat joins two ptys, the scanner opens one end
//! and the test writes to the other as a scanner would.
//!
//! Needs socat (the Debian package socat; the project's test script installs it). Waits are
//! bounded but generous; nothing asserts on timing.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::thread::sleep;
use std::time::{Duration, Instant};

use scanner::{
    FramerConfig, ScanError, Scanner, ScannerConfig, ScannerError, ScannerEvent, SerialScanner,
};

/// Upper bound for anything to happen; reached only when something is broken.
const WAIT: Duration = Duration::from_secs(15);

/// A socat process joining two ptys, linked as `scanner` and `host` in a temporary directory.
struct Pty {
    dir: tempfile::TempDir,
    socat: Option<Child>,
}

impl Pty {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut pty = Self { dir, socat: None };
        pty.start_socat();
        pty
    }

    fn scanner_path(&self) -> PathBuf {
        self.dir.path().join("scanner")
    }

    fn host_path(&self) -> PathBuf {
        self.dir.path().join("host")
    }

    /// Starts socat and waits until both links exist.
    fn start_socat(&mut self) {
        assert!(self.socat.is_none());
        let log = std::fs::File::create(self.dir.path().join("socat.log")).unwrap();
        let child = Command::new("socat")
            .arg("-d")
            .arg("-d")
            .arg(format!(
                "pty,raw,echo=0,link={}",
                self.scanner_path().display()
            ))
            .arg(format!(
                "pty,raw,echo=0,link={}",
                self.host_path().display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(error) if error.kind() == ErrorKind::NotFound => panic!(
                "socat is not installed: install the Debian package socat \
                 (apt-get install socat; scripts/test installs it)"
            ),
            Err(error) => panic!("cannot start socat: {error}"),
        };
        self.socat = Some(child);
        let deadline = Instant::now() + WAIT;
        while !(self.scanner_path().exists() && self.host_path().exists()) {
            if let Some(status) = self.socat.as_mut().unwrap().try_wait().unwrap() {
                panic!("socat exited early ({status}): {}", self.socat_log());
            }
            assert!(
                Instant::now() < deadline,
                "socat made no ptys in time: {}",
                self.socat_log()
            );
            sleep(Duration::from_millis(10));
        }
    }

    /// Kills socat (so both ptys close, as when a scanner is unplugged) and removes its links.
    fn kill_socat(&mut self) {
        if let Some(mut child) = self.socat.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for link in [self.scanner_path(), self.host_path()] {
            match std::fs::remove_file(&link) {
                Ok(()) => {}
                Err(error) if error.kind() == ErrorKind::NotFound => {}
                Err(error) => panic!("cannot remove {}: {error}", link.display()),
            }
        }
    }

    fn socat_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("socat.log")).unwrap_or_default()
    }

    /// Opens the host end, where the test plays the scanner.
    fn host(&self) -> Host {
        let port = serialport::new(self.host_path().to_string_lossy(), 9600)
            .timeout(WAIT)
            .open()
            .unwrap();
        Host { port }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.kill_socat();
    }
}

/// The end of the pty pair where the test writes what a scanner would send.
struct Host {
    port: Box<dyn serialport::SerialPort>,
}

impl Host {
    fn write(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).unwrap();
        self.port.flush().unwrap();
    }
}

/// A started serial scanner on the pty pair, with its events.
struct Running {
    scanner: SerialScanner,
    events: Receiver<ScannerEvent>,
    port: String,
}

impl Running {
    fn start(pty: &Pty, framing: FramerConfig) -> Self {
        let config = ScannerConfig {
            framing,
            ..ScannerConfig::new(pty.scanner_path())
        };
        let port = config.port.display().to_string();
        let mut scanner = SerialScanner::new(config);
        let events = scanner.start();
        let running = Self {
            scanner,
            events,
            port,
        };
        running.expect(ScannerEvent::Connected {
            port: running.port.clone(),
        });
        running
    }

    fn next(&self) -> ScannerEvent {
        self.events
            .recv_timeout(WAIT)
            .unwrap_or_else(|error| panic!("no scanner event within {WAIT:?}: {error}"))
    }

    fn expect(&self, expected: ScannerEvent) {
        assert_eq!(self.next(), expected);
    }

    fn expect_scan(&self, text: &str) {
        self.expect(ScannerEvent::Scan(text.to_owned()));
    }

    fn expect_error(&self, error: ScanError) {
        self.expect(ScannerEvent::Error(ScannerError::Frame(error)));
    }
}

fn default_scanner() -> (Pty, Running, Host) {
    let pty = Pty::new();
    let running = Running::start(&pty, FramerConfig::default());
    let host = pty.host();
    (pty, running, host)
}

#[test]
fn a_payload_written_in_three_chunks_is_one_scan() {
    let pty = Pty::new();
    // A long idle gap so the pauses between the chunks can never end the frame, however slow the
    // machine.
    let running = Running::start(
        &pty,
        FramerConfig {
            idle_gap: Duration::from_secs(5),
            ..FramerConfig::default()
        },
    );
    let mut host = pty.host();
    host.write(b"HTTPS://EXAMPLE");
    sleep(Duration::from_millis(20));
    host.write(b".COM/CODE/");
    sleep(Duration::from_millis(20));
    host.write(b"12345\r");
    running.expect_scan("HTTPS://EXAMPLE.COM/CODE/12345");
    // A CR and its LF in separate writes are one terminator.
    host.write(b"SPLIT\r");
    sleep(Duration::from_millis(20));
    host.write(b"\nNEXT\r\n");
    running.expect_scan("SPLIT");
    running.expect_scan("NEXT");
}

#[test]
fn crlf_cr_and_lf_terminators() {
    let (_pty, running, mut host) = default_scanner();
    host.write(b"CRLF-1\r\nCRLF-2\r\n");
    running.expect_scan("CRLF-1");
    running.expect_scan("CRLF-2");
    host.write(b"CR-1\rCR-2\r");
    running.expect_scan("CR-1");
    running.expect_scan("CR-2");
    host.write(b"LF-1\nLF-2\n");
    running.expect_scan("LF-1");
    running.expect_scan("LF-2");
    // Chinese text is fine as UTF-8.
    host.write("随申码 OK\r".as_bytes());
    running.expect_scan("随申码 OK");
}

#[test]
fn an_over_long_line_is_reported_once_and_the_next_scan_arrives() {
    let pty = Pty::new();
    // A long idle gap: the 2 KiB may arrive in several reads, and a stalled machine must not turn
    // its tail into a scan of its own.
    let running = Running::start(
        &pty,
        FramerConfig {
            idle_gap: Duration::from_secs(5),
            ..FramerConfig::default()
        },
    );
    let mut host = pty.host();
    let mut long = vec![b'A'; 2048];
    long.extend_from_slice(b"\r");
    host.write(&long);
    host.write(b"GOOD\r");
    running.expect_error(ScanError::TooLong { limit: 1024 });
    running.expect_scan("GOOD");
}

#[test]
fn garbage_bytes_are_errors_not_scans() {
    let (_pty, running, mut host) = default_scanner();
    host.write(&[0xFF, 0xFE, 0x80, b'\r']);
    running.expect_error(ScanError::NotUtf8 { len: 3 });
    host.write(b"AB\x07CD\r");
    running.expect_error(ScanError::ControlCharacter {
        code: 0x07,
        offset: 2,
    });
    host.write(b"\x1b[0m\r");
    running.expect_error(ScanError::ControlCharacter {
        code: 0x1b,
        offset: 0,
    });
    host.write(b"CLEAN\r");
    running.expect_scan("CLEAN");
}

#[test]
fn repeats_within_the_window_are_suppressed() {
    let window = Duration::from_millis(500);
    let pty = Pty::new();
    let running = Running::start(
        &pty,
        FramerConfig {
            repeat_window: window,
            ..FramerConfig::default()
        },
    );
    let mut host = pty.host();
    // Written at once, the repeat lands well within the window.
    host.write(b"SAME\rSAME\r");
    running.expect_scan("SAME");
    // Had the repeat come through, it would arrive before this.
    host.write(b"OTHER\r");
    running.expect_scan("OTHER");
    // After the window the same code is a new scan. The framer stamps it after this sleep, and
    // the first one was stamped before it was received, so the window has surely passed.
    sleep(window + Duration::from_millis(100));
    host.write(b"SAME\r");
    running.expect_scan("SAME");
}

#[test]
fn an_idle_gap_ends_a_frame_without_terminator() {
    let (_pty, running, mut host) = default_scanner();
    host.write(b"NO-TERMINATOR");
    running.expect_scan("NO-TERMINATOR");
    host.write(b"SECOND");
    running.expect_scan("SECOND");
}

#[test]
fn the_port_closed_and_reopened_reconnects() {
    let mut pty = Pty::new();
    let running = Running::start(&pty, FramerConfig::default());
    let mut host = pty.host();
    host.write(b"BEFORE\r");
    running.expect_scan("BEFORE");

    drop(host);
    pty.kill_socat();
    match running.next() {
        ScannerEvent::Disconnected { port, reason } => {
            assert_eq!(port, running.port);
            assert!(!reason.is_empty());
        }
        other => panic!("expected a disconnection, got {other:?}"),
    }

    pty.start_socat();
    running.expect(ScannerEvent::Connected {
        port: running.port.clone(),
    });
    let mut host = pty.host();
    host.write(b"AFTER\r");
    running.expect_scan("AFTER");

    // And once more, to see the back-off was reset.
    drop(host);
    pty.kill_socat();
    assert!(matches!(running.next(), ScannerEvent::Disconnected { .. }));
    pty.start_socat();
    running.expect(ScannerEvent::Connected {
        port: running.port.clone(),
    });
    let mut host = pty.host();
    host.write(b"AGAIN\r");
    running.expect_scan("AGAIN");
}

#[test]
fn a_missing_port_is_reported_then_connects_when_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let mut scanner = SerialScanner::new(ScannerConfig::new(dir.path().join("scanner")));
    let events = scanner.start();
    match events.recv_timeout(WAIT).unwrap() {
        ScannerEvent::Error(ScannerError::Open { port, reason }) => {
            assert!(port.ends_with("scanner"));
            assert!(!reason.is_empty());
        }
        other => panic!("expected an open error, got {other:?}"),
    }
    // Reuse the directory for socat's links.
    let mut pty = Pty { dir, socat: None };
    pty.start_socat();
    assert_eq!(
        events.recv_timeout(WAIT).unwrap(),
        ScannerEvent::Connected {
            port: pty.scanner_path().display().to_string()
        }
    );
    let mut host = pty.host();
    host.write(b"LATE\r");
    assert_eq!(
        events.recv_timeout(WAIT).unwrap(),
        ScannerEvent::Scan("LATE".to_owned())
    );
    scanner.stop();
    // Stopping closes the channel.
    assert!(events.recv_timeout(WAIT).is_err());
}

#[test]
fn stop_joins_and_start_again_works() {
    let pty = Pty::new();
    let mut running = Running::start(&pty, FramerConfig::default());
    running.scanner.stop();
    assert!(running.events.recv_timeout(WAIT).is_err());
    running.events = running.scanner.start();
    running.expect(ScannerEvent::Connected {
        port: running.port.clone(),
    });
    let mut host = pty.host();
    host.write(b"RESTARTED\r");
    running.expect_scan("RESTARTED");
    // Dropping the scanner stops it too.
    let Running {
        scanner, events, ..
    } = running;
    drop(scanner);
    assert!(events.recv_timeout(WAIT).is_err());
}

#[test]
fn the_port_path_vanishing_is_a_disconnection() {
    let pty = Pty::new();
    let running = Running::start(&pty, FramerConfig::default());
    let target = std::fs::read_link(pty.scanner_path()).unwrap();
    std::fs::remove_file(pty.scanner_path()).unwrap();
    match running.next() {
        ScannerEvent::Disconnected { reason, .. } => assert!(reason.contains("vanished")),
        other => panic!("expected a disconnection, got {other:?}"),
    }
    std::os::unix::fs::symlink(&target, pty.scanner_path()).unwrap();
    running.expect(ScannerEvent::Connected {
        port: running.port.clone(),
    });
    let mut host = pty.host();
    host.write(b"BACK\r");
    running.expect_scan("BACK");
}
