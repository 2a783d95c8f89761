//! `kiosk doctor`: device checks for hall staff and remote support, on the real backends. Each
//! command prints plain lines (or JSON with `--json`) and exits non-zero with a plain message when
//! the device does not answer.
//!
//! `kiosk doctor all --config FILE` prints every device's status and the sync state as one JSON
//! object. When the kiosk runs, it reads what the kiosk wrote in `<data_dir>/status.json` a few
//! seconds ago (`"source": "running_kiosk"`): the devices are the kiosk's and must not be opened
//! twice. Otherwise (`"source": "probe"`, with `"probe_reason"`) it checks the configured devices
//! itself (PC/SC readers listed, the scanner's device file, the printer's status over its
//! connection; simulated devices are reported as such) and reads the journal for the backlog and
//! the service switch.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

/// What `kiosk doctor` can check.
#[derive(Debug, Subcommand)]
pub(crate) enum Doctor {
    /// Every device's status and the sync state as one JSON object (for remote support).
    All {
        /// The configuration file.
        #[arg(long, default_value = "kiosk.toml")]
        config: PathBuf,
    },
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
        Doctor::All { config } => all(&config),
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
        let (content, keys) = kiosk::sample::test_slip("TEST")?;
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

/// `kiosk doctor all`.
fn all(config: &std::path::Path) -> Result<()> {
    let config = kiosk::config::Config::load(config)?;
    let value = report_all(&config);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    Ok(())
}

/// The JSON object `kiosk doctor all` prints.
fn report_all(config: &kiosk::config::Config) -> serde_json::Value {
    use time::OffsetDateTime;
    let now = OffsetDateTime::now_utc();
    let data_dir = &config.kiosk.data_dir;
    let probe_reason = match kiosk::status::read(data_dir) {
        Ok(status) if status.is_live(now) => {
            let mut value = serde_json::to_value(&status).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.insert("source".into(), "running_kiosk".into());
                fields.insert("checked_at".into(), rfc3339(now).into());
                let age = (now - status.written_at).whole_seconds().max(0);
                fields.insert("status_age_seconds".into(), age.into());
            }
            return value;
        }
        Ok(status) if !status.running || status.is_fresh(now) => format!(
            "the kiosk stopped (status.json written {} s ago by pid {})",
            (now - status.written_at).whole_seconds(),
            status.pid
        ),
        Ok(status) => format!(
            "status.json is stale (written {} s ago): the kiosk is not running",
            (now - status.written_at).whole_seconds()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "no status.json: the kiosk has not run here".to_owned()
        }
        Err(e) => format!("status.json cannot be read: {e}"),
    };
    let (devices, paper) = probe_devices(config);
    let journal_path = data_dir.join("journal.db");
    let (sync, in_service, reason) = if journal_path.exists() {
        match kiosk::journal::Journal::open(&journal_path) {
            Ok(journal) => {
                let (in_service, reason) = kiosk::engine::service_switch(&journal);
                let sync = serde_json::json!({
                    "backlog": journal.backlog().ok(),
                    "unsettled": journal.unsettled().ok().map(|u| u.len()),
                    "unreported_outcomes": journal.unreported_outcomes().ok().map(|u| u.len()),
                    "reachable": null,
                    "last_heartbeat_at": null,
                });
                (sync, Some(in_service), reason)
            }
            Err(e) => (
                serde_json::json!({ "error": format!("the journal cannot be opened: {e}") }),
                None,
                None,
            ),
        }
    } else {
        (serde_json::json!({ "error": "no journal yet" }), None, None)
    };
    let config_version = kiosk::engine::read_central_config(data_dir)
        .ok()
        .flatten()
        .map(|c| c.version);
    serde_json::json!({
        "source": "probe",
        "probe_reason": probe_reason,
        "checked_at": rfc3339(now),
        "kiosk_id": config.kiosk.id,
        "version": kiosk::engine::VERSION,
        "devices": devices,
        "paper": paper,
        "in_service": in_service,
        "out_of_service_reason": reason,
        "sync": sync,
        "cached_config_version": config_version,
    })
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Checks each configured device once: `[{device, backend, state, last_error}]` and the paper.
fn probe_devices(config: &kiosk::config::Config) -> (serde_json::Value, serde_json::Value) {
    use kiosk::config::{IdcardConfig, PrinterConfig, ScannerConfig};
    use protocol::api::{DeviceState, PaperState};
    let line = |device: &str, backend: &str, state: Option<DeviceState>, error: Option<String>| {
        serde_json::json!({
            "device": device,
            "backend": backend,
            "state": state,
            "last_error": error,
        })
    };
    let idcard = match &config.devices.idcard {
        IdcardConfig::Simulated => line("idcard", "simulated", None, None),
        IdcardConfig::Pcsc { reader } => match idcard::pcsc::list_readers() {
            Ok(readers) => {
                let found = readers.iter().any(|r| {
                    reader
                        .as_ref()
                        .is_none_or(|name| r.starts_with(name.as_str()))
                });
                if found {
                    line("idcard", "pcsc", Some(DeviceState::Connected), None)
                } else {
                    line(
                        "idcard",
                        "pcsc",
                        Some(DeviceState::Failed),
                        Some("no matching reader is connected".into()),
                    )
                }
            }
            Err(e) => line(
                "idcard",
                "pcsc",
                Some(DeviceState::Failed),
                Some(format!("cannot reach the PC/SC service: {e}")),
            ),
        },
    };
    let scanner = match &config.devices.scanner {
        ScannerConfig::Simulated => line("scanner", "simulated", None, None),
        // Opening the port could take it from a kiosk starting up: its presence is checked.
        ScannerConfig::Serial { port, .. } => {
            if port.exists() {
                line("scanner", "serial", Some(DeviceState::Connected), None)
            } else {
                line(
                    "scanner",
                    "serial",
                    Some(DeviceState::Failed),
                    Some(format!("{} is not there", port.display())),
                )
            }
        }
    };
    let (printer, paper) = match &config.devices.printer {
        PrinterConfig::Simulated { .. } => (
            line("printer", "simulated", None, None),
            serde_json::to_value(PaperState::Unknown).unwrap_or_default(),
        ),
        PrinterConfig::EscPos { connection, .. } => match printer::Connection::parse(connection) {
            Ok(connection) => {
                use printer::Printer as _;
                let status = printer::EscPosPrinter::new(connection).status();
                let (state, paper) = kiosk::engine::printer_health(status, PaperState::Unknown);
                let error =
                    (status != printer::PrinterStatus::Ready).then(|| status.as_str().to_owned());
                (
                    line("printer", "escpos", Some(state), error),
                    serde_json::to_value(paper).unwrap_or_default(),
                )
            }
            Err(e) => (
                line(
                    "printer",
                    "escpos",
                    Some(DeviceState::Failed),
                    Some(e.to_string()),
                ),
                serde_json::to_value(PaperState::Unknown).unwrap_or_default(),
            ),
        },
    };
    (serde_json::json!([idcard, scanner, printer]), paper)
}
