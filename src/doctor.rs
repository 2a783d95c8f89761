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
    /// Reads the printer's status; with --test-print, prints a sample slip.
    Printer {
        /// The printer: file:///dev/usb/lp0, serial:///dev/ttyUSB0?baud=115200 or tcp://HOST:9100.
        #[arg(long)]
        connection: String,
        /// The printer profile: generic-58, generic-80 or raster-only-58.
        #[arg(long, default_value = "generic-58")]
        profile: String,
        /// Prints the status (the default when nothing else is asked).
        #[arg(long)]
        status: bool,
        /// Prints a sample slip carrying a sample code (checked before it is sent).
        #[arg(long)]
        test_print: bool,
        /// One JSON object instead of lines.
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
        Doctor::Printer {
            connection,
            profile,
            status: _,
            test_print,
            json,
        } => printer(&connection, &profile, test_print, json),
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

fn printer(url: &str, profile: &str, test_print: bool, json: bool) -> Result<()> {
    use printer::Printer as _;
    let connection = printer::Connection::parse(url)
        .map_err(|e| anyhow::anyhow!("the printer connection is not valid: {e}"))?;
    let profile = printer::Profile::builtin(profile).with_context(|| {
        format!(
            "unknown profile; use one of {}",
            printer::profile::BUILTIN_NAMES.join(", ")
        )
    })?;
    let mut device = printer::EscPosPrinter::new(connection);
    let status = device.status();
    let mut printed = None;
    if test_print && status.can_print() {
        let (content, keys) = crate::Sample::slip()?;
        let report = printer::printing::print_slip(&mut device, &content, &profile, &keys)
            .map_err(|e| anyhow::anyhow!("the test slip was not printed: {e}"))?;
        printed = Some(report.after);
    }
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "status": status.as_str(),
            "ready": status.can_print(),
            "test_print": printed.map(|after| serde_json::json!({"printed": true, "status_after": after.as_str()})),
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "status: {status}")?;
        if let Some(after) = printed {
            writeln!(out, "test slip printed; status after: {after}")?;
        }
    }
    if !status.can_print() {
        bail!("the printer is not ready ({status}): check paper, cover and cable, then try again");
    }
    Ok(())
}
