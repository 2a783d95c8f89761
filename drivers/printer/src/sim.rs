//! [`SimulatedPrinter`]: a printer without hardware, for the demo and for tests.
//!
//! It keeps every job it prints; its status is set through a cloneable [`SimPrinterHandle`].
//! Given an output folder, it writes each job there as `job-N.bin` (N from 1), and through
//! [`write_renderings`] as `job-N.png` and `job-N.pdf`, for a person to look at.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::status::PrinterStatus;
use crate::{PrintError, PrintReport, Printer};

#[derive(Debug)]
struct State {
    status: PrinterStatus,
    after_next_job: Option<PrinterStatus>,
    jobs: Vec<Vec<u8>>,
}

/// A simulated printer.
#[derive(Debug)]
pub struct SimulatedPrinter {
    state: Arc<Mutex<State>>,
    output: Option<(PathBuf, u16)>,
}

/// Drives a [`SimulatedPrinter`] from elsewhere (tests, the demo's staff screen).
#[derive(Debug, Clone)]
pub struct SimPrinterHandle {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for SimulatedPrinter {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedPrinter {
    /// A ready printer that keeps its jobs in memory only.
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                status: PrinterStatus::Ready,
                after_next_job: None,
                jobs: Vec::new(),
            })),
            output: None,
        }
    }

    /// Also writes each job to `folder` (created if missing), drawn at `dots_per_line`.
    #[must_use]
    pub fn with_output(mut self, folder: impl Into<PathBuf>, dots_per_line: u16) -> Self {
        self.output = Some((folder.into(), dots_per_line));
        self
    }

    /// A handle to set the status and read the jobs.
    #[must_use]
    pub fn handle(&self) -> SimPrinterHandle {
        SimPrinterHandle {
            state: Arc::clone(&self.state),
        }
    }

    fn write_output(folder: &Path, dots: u16, n: usize, job: &[u8]) -> Result<(), PrintError> {
        let fail = |path: &Path, e: std::io::Error| PrintError::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(folder).map_err(|e| fail(folder, e))?;
        let bin = folder.join(format!("job-{n}.bin"));
        std::fs::write(&bin, job).map_err(|e| fail(&bin, e))?;
        write_renderings(folder, &format!("job-{n}"), job, dots)
    }
}

/// Writes the pictures of one job next to its `.bin`: `STEM.png` (drawn by
/// [`render_png`](crate::render::render_png)) and `STEM.pdf` (by
/// [`slip_pdf`](crate::pdf::slip_pdf), paper width).
///
/// A job the renderer cannot draw is still printed: the reason goes to `STEM.error.txt` instead.
///
/// # Errors
/// [`PrintError::Output`] when a file cannot be written.
pub fn write_renderings(
    folder: &Path,
    stem: &str,
    job: &[u8],
    dots_per_line: u16,
) -> Result<(), PrintError> {
    let write = |name: String, bytes: &[u8]| {
        let path = folder.join(name);
        std::fs::write(&path, bytes).map_err(|e| PrintError::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    let mut problems = Vec::new();
    match crate::render::render_png(job, dots_per_line) {
        Ok(png) => write(format!("{stem}.png"), &png)?,
        Err(e) => problems.push(format!("png: {e}")),
    }
    match crate::pdf::slip_pdf(job, dots_per_line, crate::pdf::PdfPage::PaperWidth) {
        Ok(pdf) => write(format!("{stem}.pdf"), &pdf)?,
        Err(e) => problems.push(format!("pdf: {e}")),
    }
    if !problems.is_empty() {
        write(format!("{stem}.error.txt"), problems.join("\n").as_bytes())?;
    }
    Ok(())
}

impl SimPrinterHandle {
    /// Sets the status the printer reports from now on.
    pub fn set_status(&self, status: PrinterStatus) {
        lock(&self.state).status = status;
    }

    /// The status the printer reports now.
    #[must_use]
    pub fn status(&self) -> PrinterStatus {
        lock(&self.state).status
    }

    /// Makes the status change to `status` once the next job has been printed (a cover opened,
    /// or the roll running out, during the job).
    pub fn set_status_after_next_job(&self, status: PrinterStatus) {
        lock(&self.state).after_next_job = Some(status);
    }

    /// Every job printed so far, oldest first.
    #[must_use]
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        lock(&self.state).jobs.clone()
    }

    /// How many jobs were printed.
    #[must_use]
    pub fn job_count(&self) -> usize {
        lock(&self.state).jobs.len()
    }
}

impl Printer for SimulatedPrinter {
    fn status(&mut self) -> PrinterStatus {
        lock(&self.state).status
    }

    fn print(&mut self, job: &[u8]) -> Result<PrintReport, PrintError> {
        let (before, n) = {
            let state = lock(&self.state);
            (state.status, state.jobs.len() + 1)
        };
        if !before.can_print() {
            return Err(PrintError::Refused(before));
        }
        if let Some((folder, dots)) = &self.output {
            Self::write_output(folder, *dots, n, job)?;
        }
        let mut state = lock(&self.state);
        state.jobs.push(job.to_vec());
        if let Some(next) = state.after_next_job.take() {
            state.status = next;
        }
        Ok(PrintReport {
            before,
            after: state.status,
            bytes_sent: job.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_jobs_and_refuses_on_paper_out() {
        let mut printer = SimulatedPrinter::new();
        let handle = printer.handle();
        assert_eq!(printer.status(), PrinterStatus::Ready);
        assert!(printer.print(b"one").is_ok());
        handle.set_status(PrinterStatus::PaperOut);
        assert_eq!(
            printer.print(b"two"),
            Err(PrintError::Refused(PrinterStatus::PaperOut))
        );
        assert_eq!(handle.jobs(), vec![b"one".to_vec()]);
    }

    #[test]
    fn near_end_is_a_warning_and_after_job_status_is_reported() {
        let mut printer = SimulatedPrinter::new();
        let handle = printer.handle();
        handle.set_status(PrinterStatus::PaperNearEnd);
        handle.set_status_after_next_job(PrinterStatus::CoverOpen);
        let report = printer.print(b"job");
        assert_eq!(
            report,
            Ok(PrintReport {
                before: PrinterStatus::PaperNearEnd,
                after: PrinterStatus::CoverOpen,
                bytes_sent: 3
            })
        );
        assert_eq!(handle.status(), PrinterStatus::CoverOpen);
    }

    #[test]
    fn writes_jobs_to_the_folder() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut printer = SimulatedPrinter::new().with_output(dir.path().join("out"), 384);
        printer.print(b"\x1b@hello")?;
        printer.print(b"\x1b@again")?;
        assert_eq!(
            std::fs::read(dir.path().join("out/job-1.bin"))?,
            b"\x1b@hello"
        );
        assert_eq!(
            std::fs::read(dir.path().join("out/job-2.bin"))?,
            b"\x1b@again"
        );
        Ok(())
    }
}
