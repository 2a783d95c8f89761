//! Where the printer is, as a URL, and the byte transport to it.
//!
//! - `file:///dev/usb/lp0`: the kernel's usblp device (or any file path);
//! - `serial:///dev/ttyUSB0?baud=115200`: a serial port, 8N1, 9600 baud when `baud` is absent;
//! - `tcp://HOST:9100`: a network printer (port 9100 when absent; IPv6 hosts in brackets).
//!
//! [`Connection::open`] gives a [`Transport`]: `Read + Write` with time-outs, where a read that
//! gets nothing in time fails with [`std::io::ErrorKind::TimedOut`] and `Ok(0)` means the other
//! end closed the connection.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The default TCP port of network printers ("raw" / JetDirect).
pub const DEFAULT_TCP_PORT: u16 = 9100;
/// The default serial speed when the URL gives none.
pub const DEFAULT_BAUD: u32 = 9600;

/// Where the printer is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Connection {
    /// A device file such as `/dev/usb/lp0`.
    File {
        /// The absolute path.
        path: PathBuf,
    },
    /// A serial port, 8N1.
    Serial {
        /// The port's device path, such as `/dev/ttyUSB0`.
        path: String,
        /// The speed in baud.
        baud: u32,
    },
    /// A network printer.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
}

/// Why a printer URL is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme://`.
    #[error("printer URL {0:?} has no scheme (expected file://, serial:// or tcp://)")]
    MissingScheme(String),
    /// A scheme other than `file`, `serial` and `tcp`.
    #[error("unknown printer URL scheme {0:?} (expected file, serial or tcp)")]
    UnknownScheme(String),
    /// `file://` or `serial://` without an absolute path.
    #[error("printer URL {0:?} needs an absolute device path (three slashes: file:///dev/usb/lp0)")]
    MissingPath(String),
    /// `tcp://` without a host.
    #[error("printer URL {0:?} has no host")]
    MissingHost(String),
    /// A port that is not a number in 1..=65535.
    #[error("invalid TCP port {0:?}")]
    BadPort(String),
    /// A baud rate that is not a positive number.
    #[error("invalid baud rate {0:?}")]
    BadBaud(String),
    /// A query parameter this scheme does not know.
    #[error("unknown parameter {0:?} in printer URL")]
    UnknownParameter(String),
    /// A path or query where the scheme takes none.
    #[error("unexpected {0:?} in printer URL")]
    Unexpected(String),
}

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot open printer at {connection}: {reason}")]
pub struct OpenError {
    /// The connection, as a URL.
    pub connection: String,
    /// Why, as the system said it.
    pub reason: String,
}

impl Connection {
    /// Parses a printer URL (see the [module docs](self)).
    ///
    /// # Errors
    /// [`UrlError`] says what is wrong.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| UrlError::MissingScheme(url.to_owned()))?;
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                if rest.contains('?') {
                    return Err(UrlError::Unexpected(rest.to_owned()));
                }
                if !rest.starts_with('/') || rest.len() < 2 {
                    return Err(UrlError::MissingPath(url.to_owned()));
                }
                Ok(Self::File {
                    path: PathBuf::from(rest),
                })
            }
            "serial" => {
                let (path, query) = match rest.split_once('?') {
                    Some((path, query)) => (path, Some(query)),
                    None => (rest, None),
                };
                if !path.starts_with('/') || path.len() < 2 {
                    return Err(UrlError::MissingPath(url.to_owned()));
                }
                let mut baud = DEFAULT_BAUD;
                for pair in query.into_iter().flat_map(|q| q.split('&')) {
                    if pair.is_empty() {
                        continue;
                    }
                    match pair.split_once('=') {
                        Some(("baud", value)) => {
                            baud = value
                                .parse::<u32>()
                                .ok()
                                .filter(|b| *b > 0)
                                .ok_or_else(|| UrlError::BadBaud(value.to_owned()))?;
                        }
                        _ => return Err(UrlError::UnknownParameter(pair.to_owned())),
                    }
                }
                Ok(Self::Serial {
                    path: path.to_owned(),
                    baud,
                })
            }
            "tcp" => {
                let authority = rest.strip_suffix('/').unwrap_or(rest);
                if authority.contains(['/', '?']) {
                    return Err(UrlError::Unexpected(authority.to_owned()));
                }
                let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
                    let (host, after) = bracketed
                        .split_once(']')
                        .ok_or_else(|| UrlError::MissingHost(url.to_owned()))?;
                    let port = match after {
                        "" => None,
                        _ => Some(
                            after
                                .strip_prefix(':')
                                .ok_or_else(|| UrlError::Unexpected(after.to_owned()))?,
                        ),
                    };
                    (host, port)
                } else {
                    match authority.split_once(':') {
                        Some((host, port)) => (host, Some(port)),
                        None => (authority, None),
                    }
                };
                if host.is_empty() {
                    return Err(UrlError::MissingHost(url.to_owned()));
                }
                let port = match port {
                    None => DEFAULT_TCP_PORT,
                    Some(p) => p
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| UrlError::BadPort(p.to_owned()))?,
                };
                Ok(Self::Tcp {
                    host: host.to_owned(),
                    port,
                })
            }
            other => Err(UrlError::UnknownScheme(other.to_owned())),
        }
    }

    /// Opens the transport. `read_timeout` bounds each read (status answers); `write_timeout`
    /// bounds each write call, and the TCP connect.
    ///
    /// # Errors
    /// [`OpenError`] when the device or host cannot be opened.
    pub fn open(
        &self,
        read_timeout: Duration,
        write_timeout: Duration,
    ) -> Result<Transport, OpenError> {
        let fail = |reason: String| OpenError {
            connection: self.to_string(),
            reason,
        };
        let read_timeout = read_timeout.max(Duration::from_millis(1));
        let write_timeout = write_timeout.max(Duration::from_millis(1));
        let kind = match self {
            Self::File { path } => {
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)
                    .map_err(|e| fail(e.to_string()))?;
                Kind::File(file)
            }
            Self::Serial { path, baud } => {
                let port = serialport::new(path, *baud)
                    .timeout(read_timeout)
                    .open()
                    .map_err(|e| fail(e.to_string()))?;
                Kind::Serial(port)
            }
            Self::Tcp { host, port } => {
                let addrs = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| fail(e.to_string()))?;
                let mut last = None;
                let mut stream = None;
                for addr in addrs {
                    match TcpStream::connect_timeout(&addr, write_timeout) {
                        Ok(s) => {
                            stream = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let stream = stream.ok_or_else(|| {
                    fail(last.map_or_else(|| "no address".to_owned(), |e| e.to_string()))
                })?;
                stream
                    .set_read_timeout(Some(read_timeout))
                    .and_then(|()| stream.set_write_timeout(Some(write_timeout)))
                    .and_then(|()| stream.set_nodelay(true))
                    .map_err(|e| fail(e.to_string()))?;
                Kind::Tcp(stream)
            }
        };
        Ok(Transport {
            kind,
            read_timeout,
            write_timeout,
        })
    }
}

impl FromStr for Connection {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path } => write!(f, "file://{}", path.display()),
            Self::Serial { path, baud } => write!(f, "serial://{path}?baud={baud}"),
            Self::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            Self::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

enum Kind {
    File(File),
    Serial(Box<dyn serialport::SerialPort>),
    Tcp(TcpStream),
}

/// An open byte stream to the printer, with time-outs.
///
/// A read that gets nothing within the read time-out fails with
/// [`io::ErrorKind::TimedOut`]; `Ok(0)` means the other end closed (TCP).
pub struct Transport {
    kind: Kind,
    read_timeout: Duration,
    write_timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::File(_) => "file",
            Kind::Serial(_) => "serial",
            Kind::Tcp(_) => "tcp",
        };
        f.debug_struct("Transport")
            .field("kind", &kind)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish()
    }
}

const POLL: Duration = Duration::from_millis(5);

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the printer did not answer in time",
    )
}

impl Transport {
    /// Whether the transport is a file (one that may not answer, and whose end-of-file means
    /// "nothing to read yet" rather than "closed").
    #[must_use]
    pub fn is_file(&self) -> bool {
        matches!(self.kind, Kind::File(_))
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.kind {
            Kind::File(file) => {
                let deadline = Instant::now() + self.read_timeout;
                loop {
                    match file.read(buf) {
                        Ok(0) => {}
                        Ok(n) => return Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                    if Instant::now() >= deadline {
                        return Err(timed_out());
                    }
                    std::thread::sleep(POLL);
                }
            }
            Kind::Serial(port) => {
                port.set_timeout(self.read_timeout)
                    .map_err(io::Error::other)?;
                match port.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(timed_out()),
                    other => other,
                }
            }
            Kind::Tcp(stream) => match stream.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(timed_out()),
                other => other,
            },
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::File(file) => {
                let deadline = Instant::now() + self.write_timeout;
                loop {
                    match file.write(buf) {
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                            ) => {}
                        other => return other,
                    }
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the printer took no data in time",
                        ));
                    }
                    std::thread::sleep(POLL);
                }
            }
            Kind::Serial(port) => {
                port.set_timeout(self.write_timeout)
                    .map_err(io::Error::other)?;
                port.write(buf)
            }
            Kind::Tcp(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::File(file) => file.flush(),
            Kind::Serial(port) => port.flush(),
            Kind::Tcp(stream) => stream.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Connection, UrlError> {
        Connection::parse(url)
    }

    #[test]
    fn file_url() {
        assert_eq!(
            parse("file:///dev/usb/lp0"),
            Ok(Connection::File {
                path: PathBuf::from("/dev/usb/lp0")
            })
        );
    }

    #[test]
    fn serial_url_with_baud() {
        assert_eq!(
            parse("serial:///dev/ttyUSB0?baud=115200"),
            Ok(Connection::Serial {
                path: "/dev/ttyUSB0".to_owned(),
                baud: 115_200
            })
        );
    }

    #[test]
    fn serial_url_default_baud() {
        assert_eq!(
            parse("serial:///dev/ttyACM0"),
            Ok(Connection::Serial {
                path: "/dev/ttyACM0".to_owned(),
                baud: 9600
            })
        );
    }

    #[test]
    fn tcp_url() {
        assert_eq!(
            parse("tcp://192.168.1.50:9100"),
            Ok(Connection::Tcp {
                host: "192.168.1.50".to_owned(),
                port: 9100
            })
        );
        assert_eq!(
            parse("tcp://printer.local"),
            Ok(Connection::Tcp {
                host: "printer.local".to_owned(),
                port: 9100
            })
        );
        assert_eq!(
            parse("tcp://[::1]:9101/"),
            Ok(Connection::Tcp {
                host: "::1".to_owned(),
                port: 9101
            })
        );
    }

    #[test]
    fn display_round_trips() {
        for url in [
            "file:///dev/usb/lp0",
            "serial:///dev/ttyUSB0?baud=115200",
            "tcp://10.0.0.2:9100",
            "tcp://[::1]:9100",
        ] {
            assert_eq!(parse(url).map(|c| c.to_string()), Ok(url.to_owned()));
        }
    }

    #[test]
    fn bad_urls() {
        assert!(matches!(
            parse("/dev/usb/lp0"),
            Err(UrlError::MissingScheme(_))
        ));
        assert!(matches!(parse("usb://x"), Err(UrlError::UnknownScheme(_))));
        assert!(matches!(
            parse("file://dev/usb/lp0"),
            Err(UrlError::MissingPath(_))
        ));
        assert!(matches!(parse("file://"), Err(UrlError::MissingPath(_))));
        assert!(matches!(parse("serial://"), Err(UrlError::MissingPath(_))));
        assert!(matches!(
            parse("serial:///dev/ttyUSB0?baud=fast"),
            Err(UrlError::BadBaud(_))
        ));
        assert!(matches!(
            parse("serial:///dev/ttyUSB0?baud=0"),
            Err(UrlError::BadBaud(_))
        ));
        assert!(matches!(
            parse("serial:///dev/ttyUSB0?parity=even"),
            Err(UrlError::UnknownParameter(_))
        ));
        assert!(matches!(
            parse("tcp://:9100"),
            Err(UrlError::MissingHost(_))
        ));
        assert!(matches!(
            parse("tcp://host:99999"),
            Err(UrlError::BadPort(_))
        ));
        assert!(matches!(parse("tcp://host:0"), Err(UrlError::BadPort(_))));
        assert!(matches!(parse("tcp://host:abc"), Err(UrlError::BadPort(_))));
        assert!(matches!(
            parse("tcp://host:9100/x"),
            Err(UrlError::Unexpected(_))
        ));
        assert!(matches!(
            parse("file:///dev/lp0?x=1"),
            Err(UrlError::Unexpected(_))
        ));
    }

    #[test]
    fn open_missing_file_fails() {
        let c = Connection::File {
            path: PathBuf::from("/nonexistent/printer/lp9"),
        };
        assert!(
            c.open(Duration::from_millis(10), Duration::from_millis(10))
                .is_err()
        );
    }
}
