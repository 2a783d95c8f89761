//! `kiosk.toml`: the kiosk's configuration file, read once at start. This module owns its format,
//! its defaults and its checks; the repository's `kiosk.toml` is the annotated example.
//!
//! # Format
//!
//! ```toml
//! [kiosk]
//! id = "K001"                 # 1 to 32 letters, digits, '-' or '_' (as in its certificate)
//! data_dir = "var/kiosk"      # journal.db and the kiosk's secret
//!
//! [central]                   # either the in-process demo service ...
//! embedded = true
//! data_dir = "var/central"    # optional; default: the sibling "central" of [kiosk] data_dir
//! # ... or a real one, by HTTPS with a client certificate:
//! # url = "https://central.example:8443"      (or urls = ["https://a", "https://b"], in order)
//! # ca = "tls/ca.pem"
//! # cert = "tls/kiosk.pem"
//! # key = "tls/kiosk.key"
//!
//! [devices.idcard]
//! backend = "pcsc"            # or "simulated"
//! reader = "ACS ACR39U"       # optional (pcsc): the reader's name or its start; default the first
//!
//! [devices.scanner]
//! backend = "serial"          # or "simulated"
//! port = "/dev/ttyACM0"       # required (serial): an absolute device path
//! baud = 9600                 # optional (serial), default 9600
//!
//! [devices.printer]
//! backend = "escpos"          # or "simulated"
//! connection = "file:///dev/usb/lp0"   # required (escpos): file://, serial:// or tcp:// URL
//! profile = "generic-58"      # generic-58, generic-80 or raster-only-58; required for escpos,
//!                             # default generic-58 for simulated
//!
//! [sync]                      # optional
//! heartbeat_seconds = 30      # 1..=120 (the central shows a kiosk offline after 3 minutes)
//! upload_seconds = 5          # 1..=3600
//!
//! [[staff]]                   # optional, repeated: who may open maintenance mode until the
//!                             # central's config arrives (`kiosk staff-entry` prints one)
//! salt_hex = "…"              # 32 lowercase hex characters
//! id_hash_hex = "…"           # 64 lowercase hex: HMAC-SM3(salt, ID number)
//! pin_hash = "$argon2id$v=19$…"
//! name_masked = "李*"
//! ```
//!
//! Relative paths resolve against the directory of the configuration file. Base URLs are kept
//! without a trailing `/`.
//!
//! # Errors
//!
//! Every mistake is a [`ConfigError`] naming the file, the 1-based line and column (counted in
//! characters) of the offending key or value, and what is wrong in plain words:
//! `kiosk.toml:12:11: unknown printer profile "generic-57" (expected generic-58, generic-80 or
//! raster-only-58)`. Unknown keys are errors everywhere, and so are keys that the chosen backend
//! does not use: a typo never silently falls back to a default.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use protocol::api::StaffEntry;
use serde::Deserialize;
use toml::Spanned;

/// The kiosk's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[kiosk]`.
    pub kiosk: KioskSection,
    /// `[central]`.
    pub central: CentralSection,
    /// `[devices.*]`.
    pub devices: Devices,
    /// `[sync]` (defaults when absent).
    pub sync: SyncSection,
    /// `[[staff]]`: the staff allow-list used until the central's config has been pulled once
    /// (the central's list, cached in the data directory, replaces it from then on).
    pub staff: Vec<StaffEntry>,
}

/// `[kiosk]`: who this kiosk is and where it keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskSection {
    /// The kiosk id, as in its client certificate.
    pub id: String,
    /// The data directory (journal, secret), resolved.
    pub data_dir: PathBuf,
}

/// `[central]`: where the central service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CentralSection {
    /// Started in-process (the demo), with its data here.
    Embedded {
        /// The embedded service's data directory, resolved.
        data_dir: PathBuf,
    },
    /// A real service over HTTPS with mutual TLS.
    Remote {
        /// Base URLs (`https://host:port`, no trailing `/`), tried in order.
        urls: Vec<String>,
        /// The CA certificate the service's certificate must chain to (PEM).
        ca: PathBuf,
        /// The kiosk's client certificate (PEM).
        cert: PathBuf,
        /// The kiosk's private key (PEM).
        key: PathBuf,
    },
}

/// `[devices.*]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices {
    /// `[devices.idcard]`.
    pub idcard: IdcardConfig,
    /// `[devices.scanner]`.
    pub scanner: ScannerConfig,
    /// `[devices.printer]`.
    pub printer: PrinterConfig,
}

/// The ID card reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdcardConfig {
    /// A PC/SC reader through `pcscd`.
    Pcsc {
        /// The reader's name (or its start); `None`: the first reader.
        reader: Option<String>,
    },
    /// The simulator.
    Simulated,
}

/// The QR scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerConfig {
    /// A serial (or USB CDC) scanner.
    Serial {
        /// The device path, absolute.
        port: PathBuf,
        /// Its speed.
        baud: u32,
    },
    /// The simulator.
    Simulated,
}

/// The slip printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterConfig {
    /// An ESC/POS printer.
    EscPos {
        /// Where it is: a URL that [`printer::Connection::parse`] accepts (checked).
        connection: String,
        /// A built-in profile name ([`printer::profile::BUILTIN_NAMES`], checked).
        profile: String,
    },
    /// The simulator.
    Simulated {
        /// A built-in profile name (checked).
        profile: String,
    },
}

impl PrinterConfig {
    /// The profile name, whichever the backend.
    pub fn profile(&self) -> &str {
        match self {
            Self::EscPos { profile, .. } | Self::Simulated { profile } => profile,
        }
    }
}

/// `[sync]`: how often the kiosk talks to the central.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSection {
    /// Seconds between heartbeats (default 30).
    pub heartbeat_seconds: u64,
    /// Seconds between journal uploads (default 5).
    pub upload_seconds: u64,
}

impl Default for SyncSection {
    fn default() -> Self {
        Self {
            heartbeat_seconds: DEFAULT_HEARTBEAT_SECONDS,
            upload_seconds: DEFAULT_UPLOAD_SECONDS,
        }
    }
}

impl SyncSection {
    /// [`Self::heartbeat_seconds`] as a duration.
    pub fn heartbeat_every(&self) -> Duration {
        Duration::from_secs(self.heartbeat_seconds)
    }

    /// [`Self::upload_seconds`] as a duration.
    pub fn upload_every(&self) -> Duration {
        Duration::from_secs(self.upload_seconds)
    }
}

/// The default `[sync] heartbeat_seconds`.
pub const DEFAULT_HEARTBEAT_SECONDS: u64 = 30;
/// The default `[sync] upload_seconds`.
pub const DEFAULT_UPLOAD_SECONDS: u64 = 5;
/// The largest `heartbeat_seconds`: the central shows a kiosk offline after 3 minutes without a
/// heartbeat, so at least one retry must fit in that time.
pub const MAX_HEARTBEAT_SECONDS: u64 = 120;
/// The largest `upload_seconds`.
pub const MAX_UPLOAD_SECONDS: u64 = 3600;
/// The profile of a simulated printer when none is given.
pub const DEFAULT_SIMULATED_PROFILE: &str = "generic-58";

/// A mistake in the configuration file, or a file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as given.
    pub file: String,
    /// 1-based line of the offending key or value; 0 when the file could not be read.
    pub line: usize,
    /// 1-based column (in characters); 0 when the file could not be read.
    pub column: usize,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and checks the file at `path`. Relative paths in it resolve against its directory
    /// (made absolute from the current directory when `path` is relative).
    ///
    /// # Errors
    /// [`ConfigError`] for a file that cannot be read (line 0) or any mistake in it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read the configuration: {e}"),
        })?;
        let base = std::path::absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        parse_with_base(&text, &path.display().to_string(), &base)
    }

    /// Checks the text of a configuration file. `origin` is the file's path: it names the file
    /// in errors, and relative paths resolve against its directory (as given: no file system
    /// access).
    ///
    /// # Errors
    /// [`ConfigError`] for any mistake.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let base = origin.parent().map(Path::to_path_buf).unwrap_or_default();
        parse_with_base(text, &origin.display().to_string(), &base)
    }
}

// ---------------------------------------------------------------------------------------------
// The file as written
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawConfig {
    kiosk: Option<Spanned<RawKiosk>>,
    central: Option<Spanned<RawCentral>>,
    devices: Option<Spanned<RawDevices>>,
    sync: Option<Spanned<RawSync>>,
    staff: Option<Vec<Spanned<RawStaff>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawKiosk {
    id: Spanned<String>,
    data_dir: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawCentral {
    embedded: Option<Spanned<bool>>,
    data_dir: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<Spanned<String>>>>,
    ca: Option<Spanned<String>>,
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawDevices {
    idcard: Option<Spanned<RawIdcard>>,
    scanner: Option<Spanned<RawScanner>>,
    printer: Option<Spanned<RawPrinter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawIdcard {
    backend: Spanned<String>,
    reader: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawScanner {
    backend: Spanned<String>,
    port: Option<Spanned<String>>,
    baud: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawPrinter {
    backend: Spanned<String>,
    connection: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawStaff {
    salt_hex: Spanned<String>,
    id_hash_hex: Spanned<String>,
    pin_hash: Spanned<String>,
    name_masked: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawSync {
    heartbeat_seconds: Option<Spanned<i64>>,
    upload_seconds: Option<Spanned<i64>>,
}

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

/// The file being checked: makes errors with positions.
struct Source<'a> {
    text: &'a str,
    file: &'a str,
    base: &'a Path,
}

impl Source<'_> {
    /// An error at the start of `span`.
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error at a value.
    fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error(value.span(), message)
    }

    /// A path value, resolved against the file's directory.
    fn path(&self, value: &Spanned<String>, what: &str) -> Result<PathBuf, ConfigError> {
        let text = value.get_ref();
        if text.trim().is_empty() {
            return Err(self.at(value, format!("{what} is empty")));
        }
        let path = Path::new(text);
        Ok(if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        })
    }

    /// A value that the chosen backend does not use.
    fn unused<T>(
        &self,
        value: Option<&Spanned<T>>,
        key: &str,
        backend: &str,
    ) -> Result<(), ConfigError> {
        match value {
            Some(value) => Err(self.at(
                value,
                format!("{key} is not used with backend \"{backend}\""),
            )),
            None => Ok(()),
        }
    }
}

fn parse_with_base(text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
    let src = Source { text, file, base };
    let raw: RawConfig = toml::from_str(text)
        .map_err(|e| src.error(e.span().unwrap_or(0..0), plain_message(e.message())))?;
    let kiosk = raw
        .kiosk
        .ok_or_else(|| src.error(0..0, "missing section [kiosk]"))?;
    let kiosk = check_kiosk(&src, kiosk.get_ref())?;
    let central = raw
        .central
        .ok_or_else(|| src.error(0..0, "missing section [central]"))?;
    let central = check_central(&src, &central, &kiosk.data_dir)?;
    let devices = raw
        .devices
        .ok_or_else(|| src.error(0..0, "missing section [devices.idcard]"))?;
    let devices = check_devices(&src, &devices)?;
    let sync = match raw.sync {
        Some(sync) => check_sync(&src, sync.get_ref())?,
        None => SyncSection::default(),
    };
    let staff = raw
        .staff
        .unwrap_or_default()
        .iter()
        .map(|entry| check_staff(&src, entry.get_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Config {
        kiosk,
        central,
        devices,
        sync,
        staff,
    })
}

fn check_staff(src: &Source<'_>, raw: &RawStaff) -> Result<StaffEntry, ConfigError> {
    use protocol::api::StaffEntryError as E;
    let entry = StaffEntry {
        salt_hex: raw.salt_hex.get_ref().clone(),
        id_hash_hex: raw.id_hash_hex.get_ref().clone(),
        pin_hash: raw.pin_hash.get_ref().clone(),
        name_masked: raw.name_masked.get_ref().clone(),
    };
    if entry.name_masked.trim().is_empty() {
        return Err(src.at(&raw.name_masked, "name_masked is empty"));
    }
    match entry.check() {
        Ok(()) => Ok(entry),
        Err(error) => {
            let at = match error {
                E::BadSalt => &raw.salt_hex,
                E::BadIdHash => &raw.id_hash_hex,
                E::BadPinHash | E::BadPin => &raw.pin_hash,
                E::NoName => &raw.name_masked,
            };
            Err(src.at(
                at,
                format!("{error} (`kiosk staff-entry` prints a [[staff]] entry)"),
            ))
        }
    }
}

fn check_kiosk(src: &Source<'_>, raw: &RawKiosk) -> Result<KioskSection, ConfigError> {
    let id = raw.id.get_ref();
    if id.is_empty()
        || id.len() > 32
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(src.at(
            &raw.id,
            format!("invalid kiosk id {id:?} (1 to 32 letters, digits, '-' or '_')"),
        ));
    }
    Ok(KioskSection {
        id: id.clone(),
        data_dir: src.path(&raw.data_dir, "data_dir")?,
    })
}

fn check_central(
    src: &Source<'_>,
    section: &Spanned<RawCentral>,
    kiosk_data_dir: &Path,
) -> Result<CentralSection, ConfigError> {
    let raw = section.get_ref();
    let embedded = raw.embedded.as_ref().filter(|e| *e.get_ref());
    let remote_key = raw
        .url
        .as_ref()
        .map(Spanned::span)
        .or_else(|| raw.urls.as_ref().map(Spanned::span));
    match (embedded, remote_key) {
        (Some(_), Some(span)) => Err(src.error(
            span,
            "[central] is either embedded = true or url/urls, not both",
        )),
        (None, None) => Err(src.error(
            section.span(),
            "[central] needs embedded = true or url = \"https://…\" (or urls = [\"https://…\", …])",
        )),
        (Some(_), None) => {
            for (value, key) in [(&raw.ca, "ca"), (&raw.cert, "cert"), (&raw.key, "key")] {
                if let Some(value) = value {
                    return Err(src.at(
                        value,
                        format!("{key} is only used with url/urls, not with embedded = true"),
                    ));
                }
            }
            let data_dir = match &raw.data_dir {
                Some(dir) => src.path(dir, "data_dir")?,
                None => kiosk_data_dir
                    .parent()
                    .map_or_else(|| kiosk_data_dir.join("central"), |p| p.join("central")),
            };
            Ok(CentralSection::Embedded { data_dir })
        }
        (None, Some(_)) => {
            if let Some(dir) = &raw.data_dir {
                return Err(src.at(
                    dir,
                    "data_dir is only used with embedded = true, not with url/urls",
                ));
            }
            let given: Vec<&Spanned<String>> = match (&raw.url, &raw.urls) {
                (Some(_), Some(urls)) => {
                    return Err(src.at(urls, "give either url or urls, not both"));
                }
                (Some(url), None) => vec![url],
                (None, Some(urls)) if urls.get_ref().is_empty() => {
                    return Err(src.at(urls, "urls is empty"));
                }
                (None, Some(urls)) => urls.get_ref().iter().collect(),
                (None, None) => Vec::new(),
            };
            let urls = given
                .into_iter()
                .map(|url| check_url(src, url))
                .collect::<Result<Vec<_>, _>>()?;
            let file = |value: &Option<Spanned<String>>, key: &str| match value {
                Some(value) => src.path(value, key),
                None => Err(src.error(
                    section.span(),
                    format!("[central] with url/urls needs {key} = \"<path to PEM file>\""),
                )),
            };
            Ok(CentralSection::Remote {
                urls,
                ca: file(&raw.ca, "ca")?,
                cert: file(&raw.cert, "cert")?,
                key: file(&raw.key, "key")?,
            })
        }
    }
}

/// A central base URL: `https://host[:port][/path]`, nothing else; kept without trailing `/`.
fn check_url(src: &Source<'_>, value: &Spanned<String>) -> Result<String, ConfigError> {
    let text = value.get_ref().trim();
    let url = reqwest::Url::parse(text)
        .map_err(|e| src.at(value, format!("invalid URL {text:?}: {e}")))?;
    if url.scheme() != "https" {
        return Err(src.at(
            value,
            format!(
                "the central's URL must start with https:// (got {:?})",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(src.at(value, format!("URL {text:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(src.at(
            value,
            "the central's URL must not carry a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(src.at(
            value,
            format!("URL {text:?} must not have a query or fragment"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn check_devices(src: &Source<'_>, section: &Spanned<RawDevices>) -> Result<Devices, ConfigError> {
    let raw = section.get_ref();
    let missing =
        |name: &str| src.error(section.span(), format!("missing section [devices.{name}]"));
    let idcard = raw.idcard.as_ref().ok_or_else(|| missing("idcard"))?;
    let scanner = raw.scanner.as_ref().ok_or_else(|| missing("scanner"))?;
    let printer = raw.printer.as_ref().ok_or_else(|| missing("printer"))?;
    Ok(Devices {
        idcard: check_idcard(src, idcard.get_ref())?,
        scanner: check_scanner(src, scanner.get_ref())?,
        printer: check_printer(src, printer.get_ref())?,
    })
}

fn check_idcard(src: &Source<'_>, raw: &RawIdcard) -> Result<IdcardConfig, ConfigError> {
    match raw.backend.get_ref().as_str() {
        "pcsc" => {
            let reader = match &raw.reader {
                Some(reader) if reader.get_ref().trim().is_empty() => {
                    return Err(src.at(
                        reader,
                        "reader is empty (leave it out to use the first reader)",
                    ));
                }
                Some(reader) => Some(reader.get_ref().clone()),
                None => None,
            };
            Ok(IdcardConfig::Pcsc { reader })
        }
        "simulated" => {
            src.unused(raw.reader.as_ref(), "reader", "simulated")?;
            Ok(IdcardConfig::Simulated)
        }
        other => Err(src.at(
            &raw.backend,
            format!("unknown idcard backend {other:?} (expected pcsc or simulated)"),
        )),
    }
}

fn check_scanner(src: &Source<'_>, raw: &RawScanner) -> Result<ScannerConfig, ConfigError> {
    match raw.backend.get_ref().as_str() {
        "serial" => {
            let port = raw.port.as_ref().ok_or_else(|| {
                src.at(
                    &raw.backend,
                    "backend \"serial\" needs port = \"/dev/…\" (the scanner's device)",
                )
            })?;
            if !Path::new(port.get_ref()).is_absolute() {
                return Err(src.at(
                    port,
                    format!(
                        "port {:?} must be an absolute device path, such as /dev/ttyACM0",
                        port.get_ref()
                    ),
                ));
            }
            let baud = match &raw.baud {
                Some(baud) => u32::try_from(*baud.get_ref())
                    .ok()
                    .filter(|b| *b > 0)
                    .ok_or_else(|| src.at(baud, format!("invalid baud rate {}", baud.get_ref())))?,
                None => scanner::serial::DEFAULT_BAUD,
            };
            Ok(ScannerConfig::Serial {
                port: PathBuf::from(port.get_ref()),
                baud,
            })
        }
        "simulated" => {
            src.unused(raw.port.as_ref(), "port", "simulated")?;
            src.unused(raw.baud.as_ref(), "baud", "simulated")?;
            Ok(ScannerConfig::Simulated)
        }
        other => Err(src.at(
            &raw.backend,
            format!("unknown scanner backend {other:?} (expected serial or simulated)"),
        )),
    }
}

fn check_printer(src: &Source<'_>, raw: &RawPrinter) -> Result<PrinterConfig, ConfigError> {
    let profile = |default: Option<&str>| -> Result<String, ConfigError> {
        match &raw.profile {
            Some(profile) => {
                let name = profile.get_ref();
                if printer::Profile::builtin(name).is_none() {
                    return Err(src.at(
                        profile,
                        format!(
                            "unknown printer profile {name:?} (expected {})",
                            one_of(&printer::profile::BUILTIN_NAMES)
                        ),
                    ));
                }
                Ok(name.clone())
            }
            None => default.map(str::to_owned).ok_or_else(|| {
                src.at(
                    &raw.backend,
                    format!(
                        "backend \"escpos\" needs profile = \"…\" ({})",
                        one_of(&printer::profile::BUILTIN_NAMES)
                    ),
                )
            }),
        }
    };
    match raw.backend.get_ref().as_str() {
        "escpos" => {
            let connection = raw.connection.as_ref().ok_or_else(|| {
                src.at(
                    &raw.backend,
                    "backend \"escpos\" needs connection = \"file:///dev/usb/lp0\" \
                     (or serial:///dev/ttyUSB0?baud=115200, tcp://HOST:9100)",
                )
            })?;
            printer::Connection::parse(connection.get_ref())
                .map_err(|e| src.at(connection, e.to_string()))?;
            Ok(PrinterConfig::EscPos {
                connection: connection.get_ref().trim().to_owned(),
                profile: profile(None)?,
            })
        }
        "simulated" => {
            src.unused(raw.connection.as_ref(), "connection", "simulated")?;
            Ok(PrinterConfig::Simulated {
                profile: profile(Some(DEFAULT_SIMULATED_PROFILE))?,
            })
        }
        other => Err(src.at(
            &raw.backend,
            format!("unknown printer backend {other:?} (expected escpos or simulated)"),
        )),
    }
}

fn check_sync(src: &Source<'_>, raw: &RawSync) -> Result<SyncSection, ConfigError> {
    let seconds = |value: &Option<Spanned<i64>>,
                   key: &str,
                   default: u64,
                   max: u64|
     -> Result<u64, ConfigError> {
        match value {
            None => Ok(default),
            Some(value) => u64::try_from(*value.get_ref())
                .ok()
                .filter(|s| (1..=max).contains(s))
                .ok_or_else(|| {
                    src.at(
                        value,
                        format!("{key} must be 1 to {max} seconds, got {}", value.get_ref()),
                    )
                }),
        }
    };
    Ok(SyncSection {
        heartbeat_seconds: seconds(
            &raw.heartbeat_seconds,
            "heartbeat_seconds",
            DEFAULT_HEARTBEAT_SECONDS,
            MAX_HEARTBEAT_SECONDS,
        )?,
        upload_seconds: seconds(
            &raw.upload_seconds,
            "upload_seconds",
            DEFAULT_UPLOAD_SECONDS,
            MAX_UPLOAD_SECONDS,
        )?,
    })
}

// ---------------------------------------------------------------------------------------------
// Positions and messages
// ---------------------------------------------------------------------------------------------

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The TOML parser's message in the words of this file's errors: keys rather than fields, and
/// no Rust type names.
fn plain_message(message: &str) -> String {
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if message.starts_with("unknown field")
        && let [key, expected @ ..] = quoted.as_slice()
    {
        return if expected.is_empty() {
            format!("unknown key {key:?}")
        } else {
            format!("unknown key {key:?} (expected {})", one_of(expected))
        };
    }
    if message.starts_with("missing field")
        && let [key, ..] = quoted.as_slice()
    {
        return format!("missing key {key:?}");
    }
    message
        .replace("expected i64", "expected an integer")
        .replace(" as i128", "")
}

#[cfg(test)]
mod tests;
