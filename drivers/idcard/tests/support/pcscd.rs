//! Test support for the PC/SC tests: a `pcscd` with the vpcd driver. Shared by this crate's
//! tests and the kiosk's `doctor` test (included by path).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idcard::pcsc::{self, PcscError};

/// What to do when the PC/SC stack is missing.
const INSTALL: &str = "the PC/SC tests need pcscd and its virtual reader driver: install the \
Debian packages pcscd and vsmartcard-vpcd (scripts/test does), and run as root or with /run/pcscd \
writable";

/// How long pcscd may take to start or stop; reached only when something is broken.
const SERVICE_WAIT: Duration = Duration::from_secs(20);
/// How often to look again while waiting for pcscd.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

/// A `pcscd` offering the vpcd reader: one already running, or one this test started (and stops
/// when dropped).
pub(crate) struct Pcscd {
    child: Option<Child>,
    reader: String,
    log: PathBuf,
}

impl Pcscd {
    /// Uses the running pcscd if its socket answers, else starts one in the foreground; either
    /// way waits until `reader` is listed. Panics with installation advice when that fails.
    pub(crate) fn ensure(reader: &str) -> Self {
        let mut pcscd = Self {
            child: None,
            reader: reader.to_owned(),
            log: Path::new(env!("CARGO_TARGET_TMPDIR")).join("pcscd.log"),
        };
        match pcsc::list_readers() {
            Ok(_) => pcscd.wait_for_reader(),
            Err(PcscError::NoService) => pcscd.start(),
            Err(error) => panic!("PC/SC does not answer properly ({error}); {INSTALL}"),
        }
        pcscd
    }

    /// Whether this test started pcscd (and may stop it).
    pub(crate) fn is_ours(&self) -> bool {
        self.child.is_some()
    }

    /// Stops the pcscd this test started and starts it again.
    pub(crate) fn restart(&mut self) {
        assert!(
            self.is_ours(),
            "only a pcscd this test started is restarted"
        );
        self.stop();
        self.start();
    }

    fn start(&mut self) {
        let Some(binary) = find_pcscd() else {
            panic!("pcscd not found; {INSTALL}");
        };
        let log = File::create(&self.log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", self.log.display()));
        let stderr = log.try_clone().unwrap();
        let child = Command::new(binary)
            .args(["--foreground", "--apdu"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start pcscd: {e}; {INSTALL}"));
        self.child = Some(child);
        self.wait_for_reader();
    }

    /// Waits until PC/SC answers and lists the reader.
    fn wait_for_reader(&mut self) {
        let deadline = Instant::now() + SERVICE_WAIT;
        loop {
            let readers = pcsc::list_readers();
            if let Ok(readers) = &readers
                && readers.contains(&self.reader)
            {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "pcscd exited ({status}) at start:\n{}\n{INSTALL}",
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "PC/SC did not offer the reader {:?} within {SERVICE_WAIT:?} (it answers \
                     {readers:?}):\n{}\n{INSTALL}",
                    self.reader,
                    self.log_tail()
                );
            }
            std::thread::sleep(LOOK_AGAIN);
        }
    }

    /// Stops the pcscd this test started: SIGTERM, so that it removes its socket, and SIGKILL if
    /// it does not exit in time.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + SERVICE_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(LOOK_AGAIN);
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pcscd binary: on `PATH`, or in the sbin directories a non-root `PATH` may lack.
fn find_pcscd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("pcscd"))
        .find(|candidate| candidate.is_file())
}

/// Waits until PC/SC sees no card on `reader` (after an emulator went away and no backend is
/// watching): a card placed before that could be mistaken for the old one.
pub(crate) fn wait_until_empty(reader: &str) {
    use ::pcsc::{Context, ReaderState, Scope, State};
    let context = Context::establish(Scope::User).expect("PC/SC context");
    let name = std::ffi::CString::new(reader).unwrap();
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    let deadline = Instant::now() + SERVICE_WAIT;
    let mut timeout = Duration::ZERO;
    loop {
        context
            .get_status_change(timeout, &mut states)
            .unwrap_or_else(|e| panic!("waiting for {reader} to be empty: {e}"));
        if states[0].event_state().contains(State::EMPTY) {
            return;
        }
        states[0].sync_current_state();
        timeout = deadline.saturating_duration_since(Instant::now());
    }
}
