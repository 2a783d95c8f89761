//! `kiosk check-config`: on a good configuration (a real central service over HTTPS with mutual
//! TLS, the vpcd reader through pcscd, a socat pseudo-terminal as the scanner, the TCP printer
//! emulator) every line says ok and the exit status is 0; on broken ones (a misspelt key, a
//! missing certificate file, a private key that does not parse, the central down, the printer
//! unreachable or out of paper, the scanner unplugged, a reader PC/SC does not list) the one line
//! concerned says what is wrong and what to do, and the exit status is not 0.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../drivers/idcard/tests/support/pcscd.rs"]
mod pcscd;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use printer::emulator::{ALL_FINE, PAPER_OUT, TcpPrinterEmulator};
use support::Central;

const READER: &str = "Virtual PCD 00 00";

/// What a run of check-config printed.
struct Run {
    success: bool,
    lines: Vec<String>,
    stderr: String,
}

impl Run {
    /// The line of one check (`config`, `cert`, `central https://…`, `printer`, …).
    fn line(&self, subject: &str) -> &str {
        let prefix = format!("{subject}:");
        self.lines
            .iter()
            .find(|l| l.get(8..).is_some_and(|rest| rest.starts_with(&prefix)))
            .unwrap_or_else(|| panic!("no line for {subject}:\n{}", self.lines.join("\n")))
    }

    fn problems(&self) -> Vec<&String> {
        self.lines
            .iter()
            .filter(|l| l.starts_with("problem"))
            .collect()
    }

    fn shown(&self) -> String {
        format!("{}\n--- stderr:\n{}", self.lines.join("\n"), self.stderr)
    }
}

fn check_config(config: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["check-config", "--timeout", "5"])
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    Run {
        success: output.status.success(),
        lines: String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The pieces of a kiosk.toml.
#[derive(Clone)]
struct Setup {
    urls: Vec<String>,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    idcard: String,
    scanner: String,
    printer: String,
}

impl Setup {
    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let urls = self
            .urls
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            r#"[kiosk]
id = "K001"
data_dir = "data"

[central]
urls = [{urls}]
ca = "{ca}"
cert = "{cert}"
key = "{key}"

[devices.idcard]
{idcard}

[devices.scanner]
{scanner}

[devices.printer]
backend = "escpos"
connection = "{printer}"
profile = "generic-58"
"#,
            ca = self.ca.display(),
            cert = self.cert.display(),
            key = self.key.display(),
            idcard = self.idcard,
            scanner = self.scanner,
            printer = self.printer,
        );
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kiosk.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// One central service for every test of this file, with kiosk K001 enrolled.
struct Shared {
    central: Central,
    certs: PathBuf,
    _dir: tempfile::TempDir,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let central = Central::start(&dir.path().join("central"));
        let certs = central.provision("K001", &dir.path().join("certs"));
        Shared {
            central,
            certs,
            _dir: dir,
        }
    })
}

/// A configuration that passes every check but the devices, which are simulated except the
/// printer (the emulator).
fn base(printer: &TcpPrinterEmulator) -> Setup {
    let shared = shared();
    Setup {
        urls: vec![shared.central.url()],
        ca: shared.certs.join("ca.pem"),
        cert: shared.certs.join("kiosk.pem"),
        key: shared.certs.join("kiosk.key"),
        idcard: "backend = \"simulated\"".to_owned(),
        scanner: "backend = \"simulated\"".to_owned(),
        printer: printer.url(),
    }
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A socat pseudo-terminal pair: the scanner's end and the host's end.
struct Pty {
    child: Child,
    scanner: PathBuf,
}

impl Pty {
    fn start(dir: &Path) -> Pty {
        let scanner = dir.join("scanner");
        let host = dir.join("host");
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", scanner.display()))
            .arg(format!("pty,raw,echo=0,link={}", host.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is needed (apt-get install socat; scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !(scanner.exists() && host.exists()) {
            assert!(Instant::now() < deadline, "socat made no ptys");
            std::thread::sleep(Duration::from_millis(10));
        }
        Pty { child, scanner }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_good_configuration_is_all_ok() {
    let _pcscd = pcscd::Pcscd::ensure(READER);
    let dir = tempfile::tempdir().unwrap();
    let pty = Pty::start(dir.path());
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let setup = Setup {
        idcard: format!("backend = \"pcsc\"\nreader = \"{READER}\""),
        scanner: format!("backend = \"serial\"\nport = \"{}\"", pty.scanner.display()),
        ..base(&printer)
    };
    let config = setup.write(dir.path(), "good");
    let run = check_config(&config);
    assert!(run.success, "{}", run.shown());
    assert!(run.problems().is_empty(), "{}", run.shown());
    let url = shared().central.url();
    for subject in [
        "config",
        "data_dir",
        "ca",
        "cert",
        "key",
        &format!("central {url}"),
        "idcard",
        "scanner",
        "printer",
    ] {
        let line = run.line(subject);
        assert!(line.starts_with("ok "), "{line}");
    }
    assert_eq!(run.lines.len(), 9, "one line per check:\n{}", run.shown());
    assert!(run.line(&format!("central {url}")).contains("mutual TLS"));
    assert!(run.line("idcard").contains(READER));
    assert!(run.line("printer").contains("ready"));
    assert!(run.stderr.contains("all checks passed"), "{}", run.shown());
}

#[test]
fn a_misspelt_key_is_named_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let config = base(&printer).write(dir.path(), "typo");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("profile = \"generic-58\"", "profle = \"generic-58\"");
    std::fs::write(&config, text).unwrap();
    let run = check_config(&config);
    assert!(!run.success, "{}", run.shown());
    assert_eq!(
        run.lines.len(),
        1,
        "nothing else can be checked:\n{}",
        run.shown()
    );
    let line = run.line("config");
    assert!(line.starts_with("problem "), "{line}");
    assert!(
        line.contains(&format!(
            "{}:20:1: unknown key \"profle\"",
            config.display()
        )),
        "{line}"
    );
    assert!(line.contains("correct that line"), "{line}");
}

#[test]
fn a_missing_certificate_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let missing = dir.path().join("nowhere/kiosk.pem");
    let setup = Setup {
        cert: missing.clone(),
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "missing-cert"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("cert");
    assert!(line.starts_with("problem "), "{line}");
    assert!(
        line.contains(&format!("{} does not exist", missing.display())),
        "{line}"
    );
    assert!(line.contains("central provision-kiosk"), "{line}");
    // The central cannot be checked without it; the rest still is.
    let url = shared().central.url();
    assert!(run.line(&format!("central {url}")).contains("not checked"));
    assert!(run.line("printer").starts_with("ok "));
    assert_eq!(run.problems().len(), 2, "{}", run.shown());
}

#[test]
fn a_private_key_that_does_not_parse_is_a_problem() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let key = dir.path().join("broken.key");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let setup = Setup {
        key,
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "bad-key"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("key");
    assert!(line.starts_with("problem "), "{line}");
    assert!(line.contains("private key"), "{line}");
    assert!(
        line.contains("same `central provision-kiosk` run"),
        "{line}"
    );
    // The central cannot be reached without a key.
    let url = shared().central.url();
    assert!(run.line(&format!("central {url}")).contains("not checked"));
    assert_eq!(run.problems().len(), 2, "{}", run.shown());
    assert_eq!(run.lines.len(), 9, "one line per check:\n{}", run.shown());
}

#[test]
fn a_key_readable_by_everyone_is_a_problem() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let key = dir.path().join("open.key");
    std::fs::copy(shared().certs.join("kiosk.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let setup = Setup {
        key,
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "open-key"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("key");
    assert!(line.contains("readable by everyone"), "{line}");
    assert!(line.contains("chmod 0640"), "{line}");
    // The key still works: the central is checked, and answers.
    let url = shared().central.url();
    assert!(run.line(&format!("central {url}")).starts_with("ok "));
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn a_central_that_is_down_is_a_problem_per_url() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let down = format!("https://127.0.0.1:{}", closed_port());
    let up = shared().central.url();
    let setup = Setup {
        urls: vec![down.clone(), up.clone()],
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "central-down"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line(&format!("central {down}"));
    assert!(line.starts_with("problem "), "{line}");
    assert!(line.contains("nothing listens"), "{line}");
    assert!(line.contains("systemctl status ssm-central"), "{line}");
    assert!(run.line(&format!("central {up}")).starts_with("ok "));
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn a_central_with_another_ca_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    // Another central's CA: the real central's certificate does not chain to it.
    let other = Central::start(&dir.path().join("other-central"));
    let other_certs = other.provision("K001", &dir.path().join("other-certs"));
    let setup = Setup {
        ca: other_certs.join("ca.pem"),
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "other-ca"));
    assert!(!run.success, "{}", run.shown());
    let url = shared().central.url();
    let line = run.line(&format!("central {url}"));
    assert!(line.starts_with("problem "), "{line}");
    assert!(line.contains("does not verify against ca.pem"), "{line}");
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn an_unreachable_printer_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let port = closed_port();
    let setup = Setup {
        printer: format!("tcp://127.0.0.1:{port}"),
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "printer-down"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("printer");
    assert!(line.starts_with("problem "), "{line}");
    assert!(
        line.contains(&format!("cannot open printer at tcp://127.0.0.1:{port}")),
        "{line}"
    );
    assert!(line.contains("power and network"), "{line}");
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn a_printer_out_of_paper_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(PAPER_OUT).unwrap();
    let run = check_config(&base(&printer).write(dir.path(), "paper-out"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("printer");
    assert!(line.contains("paper out"), "{line}");
    assert!(line.contains("load a paper roll"), "{line}");
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn a_missing_scanner_port_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let port = dir.path().join("ttyACM9");
    let setup = Setup {
        scanner: format!("backend = \"serial\"\nport = \"{}\"", port.display()),
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "no-scanner"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("scanner");
    assert!(
        line.contains(&format!("{} does not exist", port.display())),
        "{line}"
    );
    assert!(line.contains("plug in the scanner"), "{line}");
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}

#[test]
fn a_reader_that_is_not_listed_is_named_with_the_ones_that_are() {
    let _pcscd = pcscd::Pcscd::ensure(READER);
    let dir = tempfile::tempdir().unwrap();
    let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let setup = Setup {
        idcard: "backend = \"pcsc\"\nreader = \"No Such Reader\"".to_owned(),
        ..base(&printer)
    };
    let run = check_config(&setup.write(dir.path(), "wrong-reader"));
    assert!(!run.success, "{}", run.shown());
    let line = run.line("idcard");
    assert!(line.starts_with("problem "), "{line}");
    assert!(line.contains("No Such Reader"), "{line}");
    assert!(
        line.contains(READER),
        "the listed readers are named: {line}"
    );
    assert!(line.contains("set [devices.idcard] reader"), "{line}");
    assert_eq!(run.problems().len(), 1, "{}", run.shown());
}
