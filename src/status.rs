//! `<data_dir>/status.json`: what the running kiosk says about itself (devices, paper, service
//! state, sync), rewritten every few seconds, atomically (a temporary file renamed over the old
//! one), for `kiosk doctor all` and remote support; a kiosk that stops writes it a last time with
//! `running: false`. No personal data: device states, counts and
//! times only.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use protocol::api::PaperState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::staff::{DeviceLine, SyncView};

/// The file's name in the data directory.
pub const STATUS_FILE: &str = "status.json";

/// How often the running kiosk rewrites it.
pub const WRITE_EVERY: Duration = Duration::from_secs(3);

/// How old the file may be and still describe a running kiosk.
pub const FRESH_FOR: Duration = Duration::from_secs(15);

/// The file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskStatusFile {
    /// When it was written (kiosk clock).
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
    /// `false` in the last write of a kiosk that stopped.
    pub running: bool,
    /// The writing process.
    pub pid: u32,
    /// The kiosk id.
    pub kiosk_id: String,
    /// The kiosk software version.
    pub version: String,
    /// Every device: idcard, scanner, printer.
    pub devices: Vec<DeviceLine>,
    /// The printer's paper.
    pub paper: PaperState,
    /// Whether staff have the kiosk in service.
    pub in_service: bool,
    /// Staff's reason while out of service.
    pub out_of_service_reason: Option<String>,
    /// Whether a resident's help request stands.
    pub help_requested: bool,
    /// Whether maintenance mode (or its prompt) shows.
    pub staff_mode: bool,
    /// Whether a resident session runs.
    pub resident_session: bool,
    /// The sync with the central.
    pub sync: SyncView,
}

/// The file's path in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATUS_FILE)
}

/// Writes the file atomically (0644: no secrets in it).
///
/// # Errors
/// I/O errors.
pub fn write(data_dir: &Path, status: &KioskStatusFile) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(status).map_err(io::Error::other)?;
    let target = path(data_dir);
    let tmp = data_dir.join(format!(".{STATUS_FILE}.tmp"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)?;
    file.write_all(&text)?;
    file.write_all(b"\n")?;
    drop(file);
    std::fs::rename(&tmp, &target)
}

/// Reads the file.
///
/// # Errors
/// I/O errors; `InvalidData` for a file that does not parse.
pub fn read(data_dir: &Path) -> io::Result<KioskStatusFile> {
    let text = std::fs::read(path(data_dir))?;
    serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl KioskStatusFile {
    /// Whether the process that wrote it still runs (Linux: `/proc/<pid>` exists; a pid reused
    /// within [`FRESH_FOR`] is unlikely enough).
    pub fn writer_runs(&self) -> bool {
        Path::new("/proc").join(self.pid.to_string()).exists()
    }

    /// Whether it describes a kiosk running now: written less than [`FRESH_FOR`] before `now`,
    /// not the last write of a kiosk that stopped, and by a process that still runs.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.running && self.is_fresh(now) && self.writer_runs()
    }

    /// Whether it was written less than [`FRESH_FOR`] before `now`.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        let age = now - self.written_at;
        age >= -time::Duration::seconds(5)
            && age <= time::Duration::try_from(FRESH_FOR).unwrap_or(time::Duration::ZERO)
    }
}
