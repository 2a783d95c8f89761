//! `kiosk check-config FILE`: checks a configuration file and everything it points at, for the
//! operator installing a kiosk and for remote support.
//!
//! The checks, in order: the file itself ([`Config::load`], with the line and column of a
//! mistake), the data directory, the certificate files (`ca`, `cert`, `key`: readable, PEM that
//! parses, the key not readable by everyone, certificate and key belonging together), each
//! central URL (`GET /v1/kiosk/config` over mutual TLS, no retries), the ID-card reader (listed
//! by PC/SC), the QR scanner (the port exists and opens) and the printer (the connection opens
//! and the printer answers a status query).
//!
//! Each check gives one line: `ok`, `skip` (nothing to check, such as a simulated device) or
//! `problem`, followed by what was checked, what was found and, for a problem, what to do. A
//! file that does not load stops there: nothing else can be checked. The command's exit status
//! is 0 only when no check found a problem.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::client::{CallError, CentralClient, ClientSettings, ClientSetupError};
use crate::config::{CentralSection, Config, IdcardConfig, PrinterConfig, ScannerConfig};

/// The command line of `kiosk check-config`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The configuration file, e.g. /etc/kiosk/kiosk.toml.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Seconds each device or central check may take.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// All is well.
    Ok,
    /// Nothing to check (a simulated device, the embedded demo service).
    Skip,
    /// Something is wrong; the check says what to do.
    Problem,
}

impl Status {
    /// The word the line starts with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skip => "skip",
            Self::Problem => "problem",
        }
    }
}

/// One check: one line of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// How it came out.
    pub status: Status,
    /// What was checked: `config`, `data_dir`, `ca`, `cert`, `key`, `central <url>`, `idcard`,
    /// `scanner`, `printer`.
    pub subject: String,
    /// What was found.
    pub finding: String,
    /// For a problem: what to do about it.
    pub fix: Option<String>,
}

impl Check {
    fn ok(subject: impl Into<String>, finding: impl Into<String>) -> Self {
        Self {
            status: Status::Ok,
            subject: subject.into(),
            finding: finding.into(),
            fix: None,
        }
    }

    fn skip(subject: impl Into<String>, finding: impl Into<String>) -> Self {
        Self {
            status: Status::Skip,
            subject: subject.into(),
            finding: finding.into(),
            fix: None,
        }
    }

    fn problem(
        subject: impl Into<String>,
        finding: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Problem,
            subject: subject.into(),
            finding: finding.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<7} {}: {}",
            self.status.as_str(),
            self.subject,
            self.finding
        )?;
        if let Some(fix) = &self.fix {
            write!(f, " -> {fix}")?;
        }
        Ok(())
    }
}

/// Every check of one run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// How many checks found a problem.
    pub fn problems(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .count()
    }

    /// Whether no check found a problem.
    pub fn all_well(&self) -> bool {
        self.problems() == 0
    }
}

/// `kiosk check-config`: runs the checks, prints one line per check on standard output and a
/// summary on standard error. Exit status 0 only when all is well.
///
/// # Errors
/// Only when standard output cannot be written.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let report = check(&args.file, Duration::from_secs(args.timeout.max(1)));
    let mut out = std::io::stdout().lock();
    for line in &report.checks {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    let problems = report.problems();
    if problems == 0 {
        writeln!(err, "kiosk: {}: all checks passed", args.file.display())?;
        Ok(ExitCode::SUCCESS)
    } else {
        let plural = if problems == 1 { "" } else { "s" };
        writeln!(
            err,
            "kiosk: {}: {problems} problem{plural} found",
            args.file.display()
        )?;
        Ok(ExitCode::FAILURE)
    }
}

/// Checks the configuration at `path` and what it points at; `timeout` bounds each device and
/// central check.
pub fn check(path: &Path, timeout: Duration) -> Report {
    let mut report = Report::default();
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(error) => {
            let fix = if error.line == 0 {
                "give the path of the kiosk's configuration (the package installs /etc/kiosk/kiosk.toml)"
            } else {
                "correct that line and run check-config again"
            };
            report
                .checks
                .push(Check::problem("config", error.to_string(), fix));
            return report;
        }
    };
    report.checks.push(Check::ok(
        "config",
        format!("{} is valid (kiosk {})", path.display(), config.kiosk.id),
    ));
    report.checks.push(data_dir(&config.kiosk.data_dir));
    report.checks.extend(central(&config.central, timeout));
    report.checks.push(idcard(&config.devices.idcard));
    report
        .checks
        .push(scanner(&config.devices.scanner, timeout));
    report
        .checks
        .push(printer(&config.devices.printer, timeout));
    report
}

// ---------------------------------------------------------------------------------------------
// Data directory
// ---------------------------------------------------------------------------------------------

fn data_dir(dir: &Path) -> Check {
    const SUBJECT: &str = "data_dir";
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let probe = dir.join(format!(".check-config-{}", std::process::id()));
            match std::fs::write(&probe, b"") {
                Ok(()) => {
                    let _ = std::fs::remove_file(&probe);
                    Check::ok(SUBJECT, format!("{shown} is writable"))
                }
                Err(e) => Check::problem(
                    SUBJECT,
                    format!("{shown} is not writable by this user ({e})"),
                    "run the check as the kiosk's user (sudo -u ssm-kiosk), or give that user the \
                     directory (chown -R ssm-kiosk: DIR)",
                ),
            }
        }
        Ok(_) => Check::problem(
            SUBJECT,
            format!("{shown} is not a directory"),
            "move the file away or set [kiosk] data_dir to a directory",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Check::ok(
            SUBJECT,
            format!("{shown} does not exist yet; the kiosk creates it at its first start"),
        ),
        Err(e) => Check::problem(
            SUBJECT,
            format!("cannot look at {shown} ({e})"),
            "check the permissions of its parent directories",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates and the central service
// ---------------------------------------------------------------------------------------------

fn central(section: &CentralSection, timeout: Duration) -> Vec<Check> {
    match section {
        CentralSection::Embedded { .. } => vec![embedded()],
        CentralSection::Remote {
            urls,
            ca,
            cert,
            key,
        } => {
            let mut checks = Vec::new();
            let ca_check = ca_file(ca);
            let cert_check = cert_file(cert);
            let (key_check, key_usable) = key_file(key);
            let files_usable =
                ca_check.status == Status::Ok && cert_check.status == Status::Ok && key_usable;
            checks.extend([ca_check, cert_check, key_check]);
            if !files_usable {
                checks.extend(urls.iter().map(|url| not_checked(url)));
                return checks;
            }
            let settings = match ClientSettings::from_files(urls.clone(), ca, cert, key) {
                Ok(settings) => settings,
                Err(e) => {
                    checks.push(Check::problem(
                        "central",
                        format!("cannot read the certificate files ({e})"),
                        "check the files named in [central]",
                    ));
                    return checks;
                }
            };
            // The pair (cert, key) and the CA as the client uses them.
            if let Err(e) = CentralClient::new(settings.clone()) {
                let key_problem = match &e {
                    ClientSetupError::BadIdentity(_) => true,
                    ClientSetupError::Build(message) => {
                        let lower = message.to_ascii_lowercase();
                        lower.contains("key") || lower.contains("certificate")
                    }
                    _ => false,
                };
                let (subject, fix) = match &e {
                    _ if key_problem => (
                        "key",
                        "kiosk.pem and kiosk.key must come from the same `central \
                         provision-kiosk` run: copy both again",
                    ),
                    ClientSetupError::BadCa(_) => {
                        ("ca", "copy ca.pem from `central provision-kiosk` again")
                    }
                    _ => ("central", "check [central] url/urls"),
                };
                let problem = Check::problem(subject, e.to_string(), fix);
                // It replaces the file's own line, which could not see this.
                match checks.iter_mut().find(|c| c.subject == subject) {
                    Some(line) => *line = problem,
                    None => checks.push(problem),
                }
                checks.extend(urls.iter().map(|url| not_checked(url)));
                return checks;
            }
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    checks.push(Check::problem(
                        "central",
                        format!("cannot start the async runtime ({e})"),
                        "try again; the system may be out of resources",
                    ));
                    return checks;
                }
            };
            for url in urls {
                checks.push(runtime.block_on(central_url(&settings, url, timeout)));
            }
            checks
        }
    }
}

/// The line of a central URL that cannot be checked for want of usable certificate files.
fn not_checked(url: &str) -> Check {
    Check::problem(
        format!("central {url}"),
        "not checked: the certificate files above are not usable",
        "fix the certificate files first",
    )
}

#[cfg(feature = "embedded-central")]
fn embedded() -> Check {
    Check::skip(
        "central",
        "embedded demo service: nothing to reach (a production kiosk sets url, ca, cert and key)",
    )
}

#[cfg(not(feature = "embedded-central"))]
fn embedded() -> Check {
    Check::problem(
        "central",
        "embedded = true, but this kiosk was built without the embedded demo service",
        "set [central] url (or urls), ca, cert and key to the files `central provision-kiosk` wrote",
    )
}

/// Reads a PEM file the kiosk needs, with a plain problem when it cannot.
fn read_pem(subject: &str, path: &Path, what: &str) -> Result<String, Check> {
    std::fs::read_to_string(path).map_err(|e| {
        let shown = path.display();
        match e.kind() {
            std::io::ErrorKind::NotFound => Check::problem(
                subject,
                format!("{shown} does not exist"),
                format!(
                    "copy {what} written by `central provision-kiosk` there (or fix [central] {subject})"
                ),
            ),
            std::io::ErrorKind::PermissionDenied => Check::problem(
                subject,
                format!("{shown} is not readable by this user"),
                "chown root:ssm-kiosk FILE and chmod 0640 FILE (run the check as ssm-kiosk)",
            ),
            _ => Check::problem(
                subject,
                format!("cannot read {shown} ({e})"),
                format!("put {what} there (or fix [central] {subject})"),
            ),
        }
    })
}

fn ca_file(path: &Path) -> Check {
    let text = match read_pem("ca", path, "ca.pem") {
        Ok(text) => text,
        Err(check) => return check,
    };
    let shown = path.display();
    match reqwest::Certificate::from_pem_bundle(text.as_bytes()) {
        Ok(certs) if !certs.is_empty() => {
            let count = certs.len();
            let plural = if count == 1 { "" } else { "s" };
            Check::ok("ca", format!("{shown} holds {count} certificate{plural}"))
        }
        Ok(_) => Check::problem(
            "ca",
            format!("{shown} holds no PEM certificate"),
            "copy ca.pem written by `central provision-kiosk` there",
        ),
        Err(e) => Check::problem(
            "ca",
            format!("{shown} does not parse ({e})"),
            "copy ca.pem written by `central provision-kiosk` there",
        ),
    }
}

fn cert_file(path: &Path) -> Check {
    let text = match read_pem("cert", path, "kiosk.pem") {
        Ok(text) => text,
        Err(check) => return check,
    };
    let shown = path.display();
    if text.contains("PRIVATE KEY-----") {
        return Check::problem(
            "cert",
            format!("{shown} holds a private key, not a certificate"),
            "cert is kiosk.pem and key is kiosk.key: swap them in [central]",
        );
    }
    match reqwest::Certificate::from_pem_bundle(text.as_bytes()) {
        Ok(certs) if !certs.is_empty() => {
            Check::ok("cert", format!("{shown} holds the kiosk's certificate"))
        }
        Ok(_) => Check::problem(
            "cert",
            format!("{shown} holds no PEM certificate"),
            "copy kiosk.pem written by `central provision-kiosk` there",
        ),
        Err(e) => Check::problem(
            "cert",
            format!("{shown} does not parse ({e})"),
            "copy kiosk.pem written by `central provision-kiosk` there",
        ),
    }
}

/// The key file's check, and whether the key can be used (a key readable by everyone is a
/// problem, but it still works).
fn key_file(path: &Path) -> (Check, bool) {
    let text = match read_pem("key", path, "kiosk.key") {
        Ok(text) => text,
        Err(check) => return (check, false),
    };
    let shown = path.display();
    if !text.contains("-----BEGIN") || !text.contains("PRIVATE KEY-----") {
        let finding = if text.contains("BEGIN CERTIFICATE") {
            format!("{shown} holds a certificate, not a private key")
        } else {
            format!("{shown} holds no PEM private key")
        };
        let check = Check::problem(
            "key",
            finding,
            "copy kiosk.key written by `central provision-kiosk` there",
        );
        return (check, false);
    }
    let check = match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o004 != 0 => Check::problem(
            "key",
            format!("{shown} is readable by everyone"),
            "chown root:ssm-kiosk FILE and chmod 0640 FILE",
        ),
        _ => Check::ok("key", format!("{shown} holds a private key")),
    };
    (check, true)
}

/// `GET /v1/kiosk/config` at one URL, with no retry and no fail-over.
async fn central_url(settings: &ClientSettings, url: &str, timeout: Duration) -> Check {
    let subject = format!("central {url}");
    let mut one = settings.clone();
    one.urls = vec![url.to_owned()];
    one.retries = 0;
    one.connect_timeout = timeout;
    one.request_timeout = timeout;
    let client = match CentralClient::new(one) {
        Ok(client) => client,
        Err(e) => {
            return Check::problem(subject, e.to_string(), "check [central] url/urls");
        }
    };
    match client.config().await {
        Ok(config) => {
            let staff = config.staff.len();
            Check::ok(
                subject,
                format!(
                    "answers GET /v1/kiosk/config over mutual TLS (config version {}, {staff} \
                     staff entries)",
                    config.version
                ),
            )
        }
        Err(CallError::Refused(body)) => Check::problem(
            subject,
            format!(
                "the central refused this kiosk ({}: {})",
                body.error, body.message
            ),
            "enrol the kiosk on the central (central provision-kiosk) and copy its three files here",
        ),
        Err(CallError::BadAnswer(message)) => Check::problem(
            subject,
            format!("answered something unexpected ({message})"),
            "check that the URL is the 随申码 central service",
        ),
        Err(CallError::Unreachable(message)) => {
            let fix = unreachable_fix(&message, timeout);
            Check::problem(subject, format!("no answer ({message})"), fix)
        }
    }
}

/// What to do about an unreachable central, from the words of the failure.
fn unreachable_fix(message: &str, timeout: Duration) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "the central's certificate does not carry this host name: use a name it carries, or add \
         --name HOST to CENTRAL_ARGS in /etc/default/ssm-central on the central and restart it"
            .to_owned()
    } else if lower.contains("expired") || lower.contains("notvalidyet") {
        "the central's certificate is out of its validity dates: check the kiosk's clock \
         (timedatectl), then the central's"
            .to_owned()
    } else if lower.contains("invalid peer certificate")
        || lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
    {
        "the central's TLS certificate does not verify against ca.pem: copy ca.pem from this \
         central's `central provision-kiosk` again"
            .to_owned()
    } else if lower.contains("certificate")
        || lower.contains("alert")
        || lower.contains("handshake")
    {
        "the TLS handshake failed: the central may not accept this kiosk's certificate; enrol \
         the kiosk again (central provision-kiosk) and copy its three files here"
            .to_owned()
    } else if lower.contains("refused") {
        "nothing listens at that address: check the URL's host and port, and that the central \
         runs (systemctl status ssm-central on the central)"
            .to_owned()
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        "the host name does not resolve: check the URL and the kiosk's DNS settings".to_owned()
    } else if lower.contains("timed out") || lower.contains("timeout") {
        format!(
            "no answer within {} s: check the network, the firewall (the central's port) and \
             that the central runs",
            timeout.as_secs()
        )
    } else {
        "check the URL, the network and that the central runs (systemctl status ssm-central)"
            .to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------------------------

fn idcard(config: &IdcardConfig) -> Check {
    const SUBJECT: &str = "idcard";
    let reader = match config {
        IdcardConfig::Simulated => {
            return Check::skip(
                SUBJECT,
                "simulated reader (a production kiosk uses backend = \"pcsc\")",
            );
        }
        IdcardConfig::Pcsc { reader } => reader,
    };
    let readers = match idcard::pcsc::list_readers() {
        Ok(readers) => readers,
        Err(idcard::pcsc::PcscError::NoService) => {
            return Check::problem(
                SUBJECT,
                "the PC/SC service is not running",
                "systemctl start pcscd.socket (Debian package pcscd)",
            );
        }
        Err(e) => {
            return Check::problem(
                SUBJECT,
                format!("PC/SC does not answer properly ({e})"),
                "systemctl restart pcscd, then check again",
            );
        }
    };
    let selection = match reader {
        Some(name) => idcard::pcsc::ReaderSelection::Named(name.clone()),
        None => idcard::pcsc::ReaderSelection::First,
    };
    match selection.pick(&readers) {
        Some(found) => Check::ok(SUBJECT, format!("reader \"{found}\" is listed by PC/SC")),
        None if readers.is_empty() => Check::problem(
            SUBJECT,
            "PC/SC lists no reader",
            "plug in the ID-card reader (and install its driver), then check again",
        ),
        None => Check::problem(
            SUBJECT,
            format!(
                "{selection} is not listed by PC/SC (listed: {})",
                readers
                    .iter()
                    .map(|r| format!("\"{r}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "set [devices.idcard] reader to one of those names (or its start), or leave it out",
        ),
    }
}

fn scanner(config: &ScannerConfig, timeout: Duration) -> Check {
    use scanner::{Scanner as _, ScannerError, ScannerEvent, SerialScanner};
    const SUBJECT: &str = "scanner";
    let (port, baud) = match config {
        ScannerConfig::Simulated => {
            return Check::skip(
                SUBJECT,
                "simulated scanner (a production kiosk uses backend = \"serial\")",
            );
        }
        ScannerConfig::Serial { port, baud } => (port, *baud),
    };
    let shown = port.display();
    if !port.exists() {
        return Check::problem(
            SUBJECT,
            format!("{shown} does not exist"),
            "plug in the scanner, or set [devices.scanner] port to its device \
             (ls /dev/ttyACM* /dev/ttyUSB*)",
        );
    }
    let mut settings = scanner::ScannerConfig::new(port.clone());
    settings.baud = baud;
    let mut device = SerialScanner::new(settings);
    let events = device.start();
    // The first event says whether the port opened.
    let outcome = match events.recv_timeout(timeout) {
        // Connected; a scan or a framing error also means the port is open.
        Ok(
            ScannerEvent::Connected { .. }
            | ScannerEvent::Scan(_)
            | ScannerEvent::Error(ScannerError::Frame(_)),
        ) => Check::ok(SUBJECT, format!("{shown} opens at {baud} baud")),
        Ok(ScannerEvent::Error(ScannerError::Open { reason, .. })) => {
            let lower = reason.to_ascii_lowercase();
            let fix = if lower.contains("permission") {
                "the kiosk's user may not open it: check that the udev rules of the package \
                 gave the device to the group ssm-kiosk (ls -l the device), and run the check \
                 as ssm-kiosk"
            } else if lower.contains("busy") {
                "another program holds the port: stop the kiosk (systemctl stop ssm-kiosk) \
                 and check again"
            } else {
                "check the cable and that the port is the scanner's"
            };
            Check::problem(SUBJECT, format!("cannot open {shown} ({reason})"), fix)
        }
        Ok(ScannerEvent::Disconnected { reason, .. }) => Check::problem(
            SUBJECT,
            format!("{shown} opened, then went away ({reason})"),
            "check the cable and the scanner's power",
        ),
        Err(_) => Check::problem(
            SUBJECT,
            format!("{shown} did not open within {} s", timeout.as_secs()),
            "check the cable, then check again",
        ),
    };
    device.stop();
    outcome
}

fn printer(config: &PrinterConfig, timeout: Duration) -> Check {
    use printer::Printer as _;
    const SUBJECT: &str = "printer";
    let url = match config {
        PrinterConfig::Simulated { .. } => {
            return Check::skip(
                SUBJECT,
                "simulated printer (a production kiosk uses backend = \"escpos\")",
            );
        }
        PrinterConfig::EscPos { connection, .. } => connection,
    };
    let connection = match printer::Connection::parse(url) {
        Ok(connection) => connection,
        Err(e) => {
            return Check::problem(SUBJECT, e.to_string(), "fix [devices.printer] connection");
        }
    };
    let status_timeout = Duration::from_millis(500).min(timeout);
    if let Err(e) = connection.open(status_timeout, timeout) {
        let lower = e.reason.to_ascii_lowercase();
        let fix = if lower.contains("permission") {
            "the kiosk's user may not open it: check that the udev rules of the package gave the \
             device to the group ssm-kiosk (ls -l the device), and run the check as ssm-kiosk"
        } else {
            match connection {
                printer::Connection::Tcp { .. } => {
                    "check the printer's power and network cable, and its address and port in \
                     [devices.printer] connection"
                }
                printer::Connection::File { .. } | printer::Connection::Serial { .. } => {
                    "check the printer's power and USB cable (ls /dev/usb/lp* /dev/ttyUSB*), and \
                     [devices.printer] connection"
                }
            }
        };
        return Check::problem(SUBJECT, e.to_string(), fix);
    }
    let mut device = printer::EscPosPrinter::new(connection.clone())
        .with_status_timeout(status_timeout)
        .with_write_timeout(timeout);
    let status = device.status();
    let fix = match status {
        printer::PrinterStatus::Ready => {
            return Check::ok(
                SUBJECT,
                format!("{connection} answers the status query: ready"),
            );
        }
        printer::PrinterStatus::PaperNearEnd => {
            return Check::ok(
                SUBJECT,
                format!(
                    "{connection} answers the status query: ready, paper near end (load a new \
                     roll soon)"
                ),
            );
        }
        printer::PrinterStatus::PaperOut => "load a paper roll",
        printer::PrinterStatus::CoverOpen => "close the printer's cover",
        printer::PrinterStatus::CutterError => {
            "clear the paper jam at the cutter, then switch the printer off and on"
        }
        printer::PrinterStatus::Offline => "switch the printer on-line (or off and on)",
        printer::PrinterStatus::NoAnswer => {
            "the printer does not answer ESC/POS status queries (DLE EOT): check that it is an \
             ESC/POS printer, switched on, and that the connection is the printer's"
        }
        printer::PrinterStatus::Unknown => {
            "the printer answers with bytes that are not an ESC/POS status: check the connection \
             (serial speed) and the printer model"
        }
    };
    Check::problem(SUBJECT, format!("{connection} reports: {status}"), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_with_the_status() {
        let ok = Check::ok("printer", "ready");
        assert_eq!(ok.to_string(), "ok      printer: ready");
        let problem = Check::problem("key", "missing", "copy it");
        assert_eq!(problem.to_string(), "problem key: missing -> copy it");
        let report = Report {
            checks: vec![ok, problem, Check::skip("idcard", "simulated")],
        };
        assert_eq!(report.problems(), 1);
        assert!(!report.all_well());
    }

    #[test]
    fn unreachable_words_name_the_cause() {
        let t = Duration::from_secs(3);
        assert!(unreachable_fix("invalid peer certificate: UnknownIssuer", t).contains("ca.pem"));
        assert!(unreachable_fix("tcp connect error: Connection refused", t).contains("listens"));
        assert!(unreachable_fix("operation timed out", t).contains("3 s"));
    }

    #[test]
    fn a_missing_file_is_one_problem() {
        let report = check(Path::new("/nonexistent/kiosk.toml"), Duration::from_secs(1));
        assert_eq!(report.checks.len(), 1);
        assert_eq!(report.problems(), 1);
        assert!(report.checks[0].finding.contains("cannot read"));
    }
}
