//! [`EscPosPrinter`]: a real ESC/POS printer over a [`Connection`].
//!
//! The status is read with raw `DLE EOT 1..4` requests, each answered with one byte within the
//! status time-out. Jobs are sent as they are (the slip's bytes are already ESC/POS), between a
//! status read before (which may refuse the job) and one after.
//!
//! The connection opens on first use. When it breaks (the printer was unplugged, the network
//! printer restarted) it is dropped, and the next call opens it again; a status read that finds
//! the connection broken reopens it once at once, so a printer that came back answers on the
//! first call. A printer that does not answer in time also has its connection dropped, so a late
//! answer cannot be taken for the answer to a later request.

use std::io::{self, Read, Write};
use std::time::Duration;

use crate::connection::{Connection, OpenError, Transport};
use crate::status::{self, PrinterStatus, StatusAnswers};
use crate::{PrintError, PrintReport, Printer};

/// The default time a printer has to answer one status request.
pub const DEFAULT_STATUS_TIMEOUT: Duration = Duration::from_millis(500);
/// The default time-out of one write call (and of a TCP connect).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// A printer speaking ESC/POS over a file, serial or TCP connection.
#[derive(Debug)]
pub struct EscPosPrinter {
    connection: Connection,
    transport: Option<Transport>,
    status_timeout: Duration,
    write_timeout: Duration,
    print_unanswered: bool,
}

/// How one status read went wrong.
enum QueryError {
    /// No answer in time: the printer may be busy, or unable to answer at all.
    Silent,
    /// The connection is broken (closed, reset, device gone).
    Broken,
}

impl EscPosPrinter {
    /// A printer at `connection`, with a status time-out of [`DEFAULT_STATUS_TIMEOUT`] per
    /// request. Nothing is opened until the first call.
    #[must_use]
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            transport: None,
            status_timeout: DEFAULT_STATUS_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            print_unanswered: false,
        }
    }

    /// Sets the time the printer has to answer each status request.
    #[must_use]
    pub fn with_status_timeout(mut self, timeout: Duration) -> Self {
        self.status_timeout = timeout;
        self
    }

    /// Sets the time-out of each write call and of a TCP connect.
    #[must_use]
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Whether to print on a printer that gives no valid status answer ([`PrinterStatus::NoAnswer`]
    /// or [`PrinterStatus::Unknown`]), for one-way connections. Off by default: such a job is
    /// refused. A printer that reports a fault is refused either way.
    #[must_use]
    pub fn print_without_status(mut self, allow: bool) -> Self {
        self.print_unanswered = allow;
        self
    }

    /// The printer's connection.
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Whether a connection is open now.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.transport.is_some()
    }

    fn ensure_open(&mut self) -> Result<&mut Transport, OpenError> {
        match self.transport {
            Some(ref mut transport) => Ok(transport),
            None => {
                let transport = self
                    .connection
                    .open(self.status_timeout, self.write_timeout)?;
                Ok(self.transport.insert(transport))
            }
        }
    }

    /// Sends the four requests, one at a time, each waiting for its answer.
    fn query(transport: &mut Transport) -> Result<StatusAnswers, (QueryError, StatusAnswers)> {
        let mut answers = StatusAnswers::default();
        for n in status::REQUESTS {
            if transport
                .write_all(&status::request(n))
                .and_then(|()| transport.flush())
                .is_err()
            {
                return Err((QueryError::Broken, answers));
            }
            let mut byte = [0u8; 1];
            match transport.read(&mut byte) {
                Ok(1) => {
                    let [answer] = byte;
                    answers.set(n, Some(answer));
                }
                Ok(_) if transport.is_file() => return Err((QueryError::Silent, answers)),
                Ok(_) => return Err((QueryError::Broken, answers)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Err((QueryError::Silent, answers));
                }
                Err(_) => return Err((QueryError::Broken, answers)),
            }
        }
        Ok(answers)
    }

    /// One status read on the current (or a newly opened) connection. `Err` when the
    /// connection turned out broken (it is then dropped).
    fn try_status(&mut self) -> Result<PrinterStatus, Option<PrinterStatus>> {
        let Ok(transport) = self.ensure_open() else {
            return Err(None);
        };
        match Self::query(transport) {
            Ok(answers) => Ok(answers.status()),
            Err((QueryError::Silent, answers)) => {
                self.transport = None;
                Ok(answers.status())
            }
            Err((QueryError::Broken, answers)) => {
                self.transport = None;
                Err(Some(answers.status()))
            }
        }
    }
}

impl Printer for EscPosPrinter {
    fn status(&mut self) -> PrinterStatus {
        let had_connection = self.transport.is_some();
        match self.try_status() {
            Ok(status) => status,
            // A connection that was open may have gone stale (printer unplugged and back, or
            // restarted): try once more on a fresh one.
            Err(_) if had_connection => self.try_status().unwrap_or(PrinterStatus::NoAnswer),
            Err(_) => PrinterStatus::NoAnswer,
        }
    }

    fn print(&mut self, job: &[u8]) -> Result<PrintReport, PrintError> {
        let before = self.status();
        let allowed = before.can_print() || (self.print_unanswered && before.is_unknown());
        if !allowed {
            return Err(PrintError::Refused(before));
        }
        let transport = self.ensure_open()?;
        let mut sent = 0;
        while sent < job.len() {
            let rest = job.get(sent..).unwrap_or_default();
            match transport.write(rest) {
                Ok(0) => {
                    self.transport = None;
                    return Err(PrintError::Interrupted {
                        sent,
                        total: job.len(),
                        reason: "the printer took no more data".to_owned(),
                    });
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.transport = None;
                    return Err(PrintError::Interrupted {
                        sent,
                        total: job.len(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        if let Err(e) = transport.flush() {
            self.transport = None;
            return Err(PrintError::Interrupted {
                sent,
                total: job.len(),
                reason: e.to_string(),
            });
        }
        let after = match self.try_status() {
            Ok(status) | Err(Some(status)) => status,
            Err(None) => PrinterStatus::NoAnswer,
        };
        Ok(PrintReport {
            before,
            after,
            bytes_sent: sent,
        })
    }
}
