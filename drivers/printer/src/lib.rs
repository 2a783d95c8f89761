//! The thermal printer over ESC/POS (USB, serial or TCP 9100): printer profiles, status polling,
//! the slip layout and its bytes, and a simulator, behind one narrow trait.
//!
//! This crate is the only place that talks to the printer; nothing here knows about screens or HTTP.
//!
//! - [`profile`]: what a printer model can do ([`Profile`]);
//! - [`connection`]: printer URLs (`file://`, `serial://`, `tcp://`) and their transports;
//! - [`status`]: `DLE EOT 1..4` and the mapping of the answers to one [`PrinterStatus`];
//! - [`escpos_backend`]: [`EscPosPrinter`], a real printer over a [`Connection`];
//! - [`sim`]: [`SimulatedPrinter`], driven through a [`SimPrinterHandle`];
//! - [`slip`]: the slip's layout and its ESC/POS bytes;
//! - [`render`], [`pdf`]: the slip's bytes drawn as PNG and PDF;
//! - [`check`]: the check that a slip's QR decodes and verifies before it is printed.
//! - [`printing`]: the printing path: lay out, check, print.
//!
//! Both printers implement [`Printer`]: read the status, or print a job of ready-made bytes.

pub mod check;
pub mod connection;
pub mod emulator;
pub mod escpos_backend;
pub mod pdf;
pub mod printing;
pub mod profile;
pub mod render;
pub mod sim;
pub mod slip;
pub mod status;

pub use connection::{Connection, OpenError, Transport, UrlError};
pub use escpos_backend::EscPosPrinter;
pub use profile::{CutKind, Profile, ProfileError, TextEncoding};
pub use sim::{SimPrinterHandle, SimulatedPrinter};
pub use status::{PrinterStatus, StatusAnswers};

/// A printer: reads its status, and prints jobs of ready-made ESC/POS bytes.
pub trait Printer: Send {
    /// The printer's status now. Never [`PrinterStatus::Ready`] unless the printer said so.
    fn status(&mut self) -> PrinterStatus;

    /// Prints one job: reads the status, refuses the job without sending any byte of it when
    /// the printer cannot print ([`PrintError::Refused`]), sends it, and reads the status again.
    ///
    /// # Errors
    /// [`PrintError`] says why the job was not (or not wholly) printed.
    fn print(&mut self, job: &[u8]) -> Result<PrintReport, PrintError>;
}

/// What happened to a printed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintReport {
    /// The status read before the job was sent.
    pub before: PrinterStatus,
    /// The status read after the job was sent (a cover opened during the job shows here).
    pub after: PrinterStatus,
    /// How many bytes were sent.
    pub bytes_sent: usize,
}

impl PrintReport {
    /// The statuses other than ready seen before or after the job, in that order and without
    /// repeats: warnings for staff (paper near end; a fault that appeared during the job).
    #[must_use]
    pub fn warnings(&self) -> Vec<PrinterStatus> {
        let mut warnings = Vec::new();
        for status in [self.before, self.after] {
            if status != PrinterStatus::Ready && !warnings.contains(&status) {
                warnings.push(status);
            }
        }
        warnings
    }

    /// Whether the printer was ready both before and after the job.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.before == PrinterStatus::Ready && self.after == PrinterStatus::Ready
    }
}

/// Why a job was not printed, or not wholly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    /// The printer could not print (paper out, cover open, offline, cutter error, or no valid
    /// answer): no byte of the job was sent.
    #[error("printer not ready ({0}); nothing was sent")]
    Refused(PrinterStatus),
    /// The printer could not be reached: nothing was sent.
    #[error(transparent)]
    Connection(#[from] OpenError),
    /// The connection failed while the job was sent: part of it may have been printed.
    #[error("the connection failed after {sent} of {total} bytes: {reason}")]
    Interrupted {
        /// Bytes sent before the failure.
        sent: usize,
        /// The job's length.
        total: usize,
        /// Why, as the system said it.
        reason: String,
    },
    /// The simulator could not write its output folder.
    #[error("cannot write printer output {path}: {reason}")]
    Output {
        /// The file concerned.
        path: String,
        /// Why, as the system said it.
        reason: String,
    },
}
