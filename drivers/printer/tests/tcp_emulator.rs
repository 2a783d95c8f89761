//! A TCP printer emulator on 127.0.0.1 that records what it receives and answers `DLE EOT n`
//! with scripted bytes, driving [`EscPosPrinter`] through refusal, warnings, silence and
//! reconnection.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use printer::{Connection, EscPosPrinter, PrintError, Printer, PrinterStatus};

const READY: [Option<u8>; 4] = [Some(0x12); 4];

#[derive(Default)]
struct Shared {
    /// Answers to DLE EOT 1..4 (None: stay silent).
    answers: [Option<u8>; 4],
    /// Answers from the first job byte on.
    answers_after_job: Option<[Option<u8>; 4]>,
    /// Every byte received.
    received: Vec<u8>,
    /// The bytes received that were not status requests.
    job: Vec<u8>,
    connections: usize,
}

struct Emulator {
    port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    fn start(answers: [Option<u8>; 4]) -> Self {
        Self::start_on(0, answers)
    }

    fn start_on(port: u16, answers: [Option<u8>; 4]) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared {
            answers,
            ..Shared::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || serve(&listener, &shared, &stop))
        };
        Self {
            port,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> Connection {
        Connection::parse(&format!("tcp://127.0.0.1:{}", self.port)).unwrap()
    }

    fn after_job(&self, answers: [Option<u8>; 4]) {
        self.shared.lock().unwrap().answers_after_job = Some(answers);
    }

    fn job(&self) -> Vec<u8> {
        self.shared.lock().unwrap().job.clone()
    }

    fn received(&self) -> Vec<u8> {
        self.shared.lock().unwrap().received.clone()
    }

    fn connections(&self) -> usize {
        self.shared.lock().unwrap().connections
    }

    /// Closes the listener and every connection.
    fn shut_down(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: &TcpListener, shared: &Mutex<Shared>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.lock().unwrap().connections += 1;
                handle(stream, shared, stop);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Serves one connection until the client closes it or the emulator stops.
fn handle(mut stream: TcpStream, shared: &Mutex<Shared>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    // Bytes of a possible DLE EOT not yet complete.
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let n = match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        };
        let mut replies = Vec::new();
        {
            let mut s = shared.lock().unwrap();
            s.received.extend_from_slice(&buf[..n]);
            for &byte in &buf[..n] {
                pending.push(byte);
                match pending.as_slice() {
                    [0x10] | [0x10, 0x04] => {}
                    [0x10, 0x04, k @ 1..=4] => {
                        let answers = s.answers;
                        if let Some(answer) = answers[usize::from(*k - 1)] {
                            replies.push(answer);
                        }
                        pending.clear();
                    }
                    _ => {
                        let bytes = std::mem::take(&mut pending);
                        s.job.extend_from_slice(&bytes);
                        if let Some(after) = s.answers_after_job.take() {
                            s.answers = after;
                        }
                    }
                }
            }
        }
        if !replies.is_empty() && stream.write_all(&replies).is_err() {
            return;
        }
    }
}

fn printer_for(emulator: &Emulator) -> EscPosPrinter {
    EscPosPrinter::new(emulator.url()).with_status_timeout(Duration::from_millis(200))
}

const JOB: &[u8] = b"\x1b@\x1c&hello\n\x1d\x56\x01";

#[test]
fn ready_printer_prints() {
    let emulator = Emulator::start(READY);
    let mut printer = printer_for(&emulator);
    assert_eq!(printer.status(), PrinterStatus::Ready);
    let report = printer.print(JOB).unwrap();
    assert!(report.is_clean());
    assert_eq!(report.bytes_sent, JOB.len());
    assert_eq!(emulator.job(), JOB);
    // Exactly the status requests and the job: no stray bytes.
    let requests: Vec<u8> = (1..=4).flat_map(|n| [0x10, 0x04, n]).collect();
    let mut expected = requests.repeat(2);
    expected.extend_from_slice(JOB);
    expected.extend_from_slice(&requests);
    assert_eq!(emulator.received(), expected);
}

#[test]
fn paper_out_refuses_and_sends_nothing() {
    let emulator = Emulator::start([Some(0x1A), Some(0x32), Some(0x12), Some(0x72)]);
    let mut printer = printer_for(&emulator);
    assert_eq!(
        printer.print(JOB),
        Err(PrintError::Refused(PrinterStatus::PaperOut))
    );
    assert!(emulator.job().is_empty());
    assert!(
        emulator
            .received()
            .chunks(3)
            .all(|c| c[..2] == [0x10, 0x04])
    );
}

#[test]
fn faults_refuse_the_job() {
    for (answers, status) in [
        (
            [Some(0x1A), Some(0x16), Some(0x12), Some(0x12)],
            PrinterStatus::CoverOpen,
        ),
        (
            [Some(0x1A), Some(0x12), Some(0x12), Some(0x12)],
            PrinterStatus::Offline,
        ),
        (
            [Some(0x1A), Some(0x52), Some(0x1A), Some(0x12)],
            PrinterStatus::CutterError,
        ),
    ] {
        let emulator = Emulator::start(answers);
        let mut printer = printer_for(&emulator);
        assert_eq!(printer.print(JOB), Err(PrintError::Refused(status)));
        assert!(emulator.job().is_empty());
    }
}

#[test]
fn cover_opened_during_the_job_is_reported_after_it() {
    let emulator = Emulator::start(READY);
    emulator.after_job([Some(0x1A), Some(0x16), Some(0x12), Some(0x12)]);
    let mut printer = printer_for(&emulator);
    let report = printer.print(JOB).unwrap();
    assert_eq!(report.before, PrinterStatus::Ready);
    assert_eq!(report.after, PrinterStatus::CoverOpen);
    assert_eq!(report.warnings(), vec![PrinterStatus::CoverOpen]);
    assert_eq!(emulator.job(), JOB);
}

#[test]
fn near_end_is_a_warning_not_a_refusal() {
    let emulator = Emulator::start([Some(0x12), Some(0x12), Some(0x12), Some(0x1E)]);
    let mut printer = printer_for(&emulator);
    let report = printer.print(JOB).unwrap();
    assert_eq!(report.before, PrinterStatus::PaperNearEnd);
    assert_eq!(report.warnings(), vec![PrinterStatus::PaperNearEnd]);
    assert_eq!(emulator.job(), JOB);
}

#[test]
fn no_answer_is_never_ready() {
    let emulator = Emulator::start([None; 4]);
    let mut printer = printer_for(&emulator);
    assert_eq!(printer.status(), PrinterStatus::NoAnswer);
    assert_eq!(
        printer.print(JOB),
        Err(PrintError::Refused(PrinterStatus::NoAnswer))
    );
    assert!(emulator.job().is_empty());
    // A printer that answers n=1 only is not ready either.
    let partial = Emulator::start([Some(0x12), None, None, None]);
    assert_eq!(printer_for(&partial).status(), PrinterStatus::NoAnswer);
}

#[test]
fn garbage_answers_are_unknown() {
    let emulator = Emulator::start([Some(0x00), Some(0xFF), Some(0x12), Some(0x12)]);
    let mut printer = printer_for(&emulator);
    assert_eq!(printer.status(), PrinterStatus::Unknown);
    assert_eq!(
        printer.print(JOB),
        Err(PrintError::Refused(PrinterStatus::Unknown))
    );
    assert!(emulator.job().is_empty());
}

#[test]
fn unanswered_printer_may_print_when_allowed() {
    let emulator = Emulator::start([None; 4]);
    let mut printer = printer_for(&emulator).print_without_status(true);
    let report = printer.print(JOB).unwrap();
    assert_eq!(report.before, PrinterStatus::NoAnswer);
    assert_eq!(emulator.job(), JOB);
}

#[test]
fn nobody_listening_is_no_answer() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Connection::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let mut printer = EscPosPrinter::new(url).with_status_timeout(Duration::from_millis(100));
    assert_eq!(printer.status(), PrinterStatus::NoAnswer);
    assert_eq!(
        printer.print(JOB),
        Err(PrintError::Refused(PrinterStatus::NoAnswer))
    );
}

#[test]
fn reconnects_after_the_printer_comes_back() {
    let first = Emulator::start(READY);
    let port = first.port;
    let mut printer = printer_for(&first);
    assert_eq!(printer.status(), PrinterStatus::Ready);
    assert!(printer.is_connected());
    first.shut_down();

    // Unplugged: nothing answers.
    assert_eq!(printer.status(), PrinterStatus::NoAnswer);

    // Back on the same port, now with the roll nearly out so its answers are recognisable.
    let second = Emulator::start_on(port, [Some(0x12), Some(0x12), Some(0x12), Some(0x1E)]);
    assert_eq!(printer.status(), PrinterStatus::PaperNearEnd);
    let report = printer.print(JOB).unwrap();
    assert_eq!(report.before, PrinterStatus::PaperNearEnd);
    assert_eq!(second.job(), JOB);
}

#[test]
fn reconnects_on_the_first_call_after_a_restart() {
    let first = Emulator::start(READY);
    let port = first.port;
    let mut printer = printer_for(&first);
    assert_eq!(printer.status(), PrinterStatus::Ready);
    first.shut_down();
    // The printer restarted while we were not looking: the stale connection is replaced at once.
    let second = Emulator::start_on(port, READY);
    assert_eq!(printer.status(), PrinterStatus::Ready);
    assert_eq!(printer.print(JOB).map(|r| r.bytes_sent), Ok(JOB.len()));
    assert_eq!(second.job(), JOB);
    assert_eq!(second.connections(), 1);
}
