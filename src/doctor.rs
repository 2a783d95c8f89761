//! `kiosk doctor`: device checks for hall staff and remote support, on the real backends. Each
//! command prints plain lines (or JSON with `--json`) and exits non-zero with a plain message when
//! the device does not answer.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

/// What `kiosk doctor` can check.
#[derive(Debug, Subcommand)]
pub(crate) enum Doctor {
    /// Lists the PC/SC readers.
    Readers,
    /// Waits for an ID card on the reader and prints what was read (masked unless --unmasked).
    Idcard {
        /// The reader's name (default: the first reader).
        #[arg(long)]
        reader: Option<String>,
        /// Seconds to wait for a card.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
        /// Shows the full name and ID number (only with the holder present).
        #[arg(long)]
        unmasked: bool,
    },
    /// Prints each scan from the QR scanner until interrupted.
    Scanner {
        /// The serial port, e.g. /dev/ttyACM0.
        #[arg(long)]
        port: PathBuf,
        /// The port's speed.
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one doctor command.
pub(crate) fn run(command: Doctor) -> Result<()> {
    match command {
        Doctor::Readers => readers(),
        Doctor::Idcard {
            reader,
            timeout,
            json,
            unmasked,
        } => idcard(reader, Duration::from_secs(timeout), json, unmasked),
        Doctor::Scanner { port, baud, json } => scanner(port, baud, json),
    }
}

fn readers() -> Result<()> {
    let readers = idcard::pcsc::list_readers()
        .context("cannot reach the PC/SC service (is pcscd running?)")?;
    let mut out = std::io::stdout().lock();
    if readers.is_empty() {
        writeln!(out, "no reader is connected")?;
    }
    for reader in readers {
        writeln!(out, "{reader}")?;
    }
    Ok(())
}

fn idcard(reader: Option<String>, timeout: Duration, json: bool, unmasked: bool) -> Result<()> {
    let selection = match reader {
        Some(name) => idcard::pcsc::ReaderSelection::Named(name),
        None => idcard::pcsc::ReaderSelection::First,
    };
    let card =
        match idcard::pcsc::read_one(&selection, &idcard::read::ReadPolicy::default(), timeout) {
            Ok(card) => card,
            Err(e) => bail!("no card was read: {e}"),
        };
    let view = if unmasked {
        card.view()
    } else {
        card.masked_view()
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(&view)?)?;
    } else {
        let value = serde_json::to_value(&view)?;
        if let Some(fields) = value.as_object() {
            for (key, value) in fields {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                writeln!(out, "{key}: {text}")?;
            }
        }
    }
    Ok(())
}

fn scanner(port: PathBuf, baud: u32, json: bool) -> Result<()> {
    use scanner::{Scanner as _, ScannerConfig, ScannerEvent, SerialScanner};
    let mut config = ScannerConfig::new(port);
    config.baud = baud;
    let mut device = SerialScanner::new(config);
    let events = device.start();
    let mut out = std::io::stdout().lock();
    for event in events {
        let line = match (&event, json) {
            (ScannerEvent::Scan(payload), true) => {
                serde_json::json!({ "payload": payload }).to_string()
            }
            (ScannerEvent::Error(error), true) => {
                serde_json::json!({ "error": error.to_string() }).to_string()
            }
            (ScannerEvent::Disconnected { reason, .. }, true) => {
                serde_json::json!({ "error": format!("scanner disconnected: {reason}") })
                    .to_string()
            }
            (ScannerEvent::Connected { .. }, true) => continue,
            (ScannerEvent::Scan(payload), false) => format!("scan: {payload}"),
            (ScannerEvent::Error(error), false) => format!("error: {error}"),
            (ScannerEvent::Connected { port }, false) => format!("connected: {port}"),
            (ScannerEvent::Disconnected { port, reason }, false) => {
                format!("disconnected: {port} ({reason}); waiting for it to come back")
            }
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    device.stop();
    Ok(())
}
