//! Shared by the kiosk's end-to-end tests: a real central service in this process (HTTPS with
//! mutual TLS on loopback, SQLite on disk), a kiosk configuration pointing at it, the `kiosk`
//! binary run as a child process, and readers for what ended up where (the central's database,
//! the kiosk's journal, the printer emulator's bytes).

#![allow(dead_code, unreachable_pub)]

pub mod checks;
pub mod engine;
pub mod flaky_printer;
pub mod seniors;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use central::admin::{self, KioskDetails};
use central::clock::SystemClock;
use central::model::Role;
use central::server::{DataDir, Running, ServeOptions};
use serde_json::Value;

/// The central service, running on a runtime of its own.
pub struct Central {
    pub runtime: tokio::runtime::Runtime,
    pub data: DataDir,
    pub addr: SocketAddr,
    pub ca_pem: String,
    running: Option<Running>,
}

impl Central {
    /// Starts a central with the demo citizens on a free port, data under `dir`.
    pub fn start(dir: &Path) -> Central {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let data = DataDir::new(dir);
        let mut central = Central {
            runtime,
            data,
            addr: "127.0.0.1:0".parse().unwrap(),
            ca_pem: String::new(),
            running: None,
        };
        central.start_on(central.addr);
        central
    }

    fn start_on(&mut self, addr: SocketAddr) {
        let options = ServeOptions {
            data: self.data.clone(),
            listen: addr,
            demo: true,
            names: Vec::new(),
        };
        let running = self
            .runtime
            .block_on(central::server::start(&options, Arc::new(SystemClock)))
            .unwrap();
        self.addr = running.addr;
        self.ca_pem = running.ca_pem.clone();
        self.running = Some(running);
    }

    /// Stops the service (the port closes; the data stays).
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown()).unwrap();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        let addr = self.addr;
        for _ in 0..50 {
            let options = ServeOptions {
                data: self.data.clone(),
                listen: addr,
                demo: true,
                names: Vec::new(),
            };
            match self
                .runtime
                .block_on(central::server::start(&options, Arc::new(SystemClock)))
            {
                Ok(running) => {
                    self.running = Some(running);
                    return;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        panic!("cannot listen on {addr} again");
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// Enrols a kiosk; returns the folder holding ca.pem, kiosk.pem and kiosk.key.
    pub fn provision(&self, kiosk_id: &str, out: &Path) -> PathBuf {
        let details = KioskDetails {
            name: format!("{kiosk_id} 测试大厅"),
            address: "上海市黄浦区测试路 1 号".into(),
            hours: "周一至周日 00:00-24:00".into(),
        };
        admin::provision_kiosk(&self.data, kiosk_id, out, details).unwrap();
        out.to_owned()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data.path().join("central.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// Every code of the citizen with this ID number: (code_id, serial, status, request_id,
    /// printed, print_failed).
    pub fn codes_of(&self, id_number: &str) -> Vec<CodeRow> {
        let db = self.db();
        let mut statement = db
            .prepare(
                "SELECT c.code_id, c.serial, c.status, c.request_id, c.printed_at IS NOT NULL, \
                 c.print_failed_at IS NOT NULL, c.qr_text \
                 FROM codes c JOIN citizens p ON p.id = c.citizen_id \
                 WHERE p.id_number = ?1 ORDER BY c.serial",
            )
            .unwrap();
        statement
            .query_map([id_number], |row| {
                Ok(CodeRow {
                    code_id: row.get(0)?,
                    serial: row.get(1)?,
                    status: row.get(2)?,
                    request_id: row.get(3)?,
                    printed: row.get(4)?,
                    print_failed: row.get(5)?,
                    qr_text: row.get(6)?,
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The journal event ids the central holds for a kiosk, with how often each occurs.
    pub fn event_ids(&self, kiosk_id: &str) -> Vec<String> {
        let db = self.db();
        let mut statement = db
            .prepare("SELECT event_id FROM journal WHERE kiosk_id = ?1 ORDER BY event_id")
            .unwrap();
        statement
            .query_map([kiosk_id], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// POST /v1/verify with a fresh verifier token; returns the JSON answer.
    pub fn verify(&self, payload: &str) -> Value {
        let token = admin::add_token(&self.data, Role::Verifier, "测试核验员", "测试单位").unwrap();
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([ca])
            .no_proxy()
            .build()
            .unwrap();
        let url = format!("{}/v1/verify", self.url());
        self.runtime.block_on(async {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "payload": payload }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            response.json::<Value>().await.unwrap()
        })
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One row of the central's `codes` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub code_id: String,
    pub serial: u16,
    pub status: String,
    pub request_id: String,
    pub printed: bool,
    pub print_failed: bool,
    pub qr_text: String,
}

/// The reader section of a kiosk.toml.
pub enum Reader {
    /// PC/SC, this reader.
    Pcsc(&'static str),
    /// The simulator (cards placed with `--demo-card`).
    Simulated,
}

/// Writes `<dir>/kiosk.toml` for a kiosk talking to `central` (certificates under `certs`), with
/// its data in `<dir>/data`, and returns its path.
pub fn write_config(
    dir: &Path,
    kiosk_id: &str,
    urls: &[String],
    certs: &Path,
    reader: &Reader,
    printer_url: &str,
) -> PathBuf {
    let idcard = match reader {
        Reader::Pcsc(name) => format!("backend = \"pcsc\"\nreader = \"{name}\""),
        Reader::Simulated => "backend = \"simulated\"".to_owned(),
    };
    let urls = urls
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"[kiosk]
id = "{kiosk_id}"
data_dir = "data"

[central]
urls = [{urls}]
ca = "{certs}/ca.pem"
cert = "{certs}/kiosk.pem"
key = "{certs}/kiosk.key"

[devices.idcard]
{idcard}

[devices.scanner]
backend = "simulated"

[devices.printer]
backend = "escpos"
connection = "{printer_url}"
profile = "generic-58"

[sync]
heartbeat_seconds = 2
upload_seconds = 1
"#,
        certs = certs.display()
    );
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The kiosk binary with a config and arguments; logs quiet unless the test asks.
pub fn kiosk(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    command.args(args).arg("--config").arg(config);
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "warn");
    }
    command
}

/// Runs a kiosk command to its end; returns the output and the JSON line it printed.
pub fn run_kiosk(command: &mut Command) -> (Output, Value) {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (output, json)
}

/// Starts a kiosk command with a pause point; waits until it says it paused there, then kills it
/// with SIGKILL. Returns everything it wrote on stderr. `context` (e.g. the session) starts
/// every failure message.
pub fn kill_at(command: &mut Command, point: &str, context: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut child: Child = command
        .env("KIOSK_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("kiosk: paused at") {
                let _ = tx.send(seen.clone());
            }
        }
        let _ = tx.send(seen);
    });
    let seen = rx.recv_timeout(Duration::from_secs(90));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let seen = seen.unwrap_or_else(|_| {
        let said = rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        panic!("{context}: the kiosk never paused at {point}; it said:\n{said}")
    });
    assert!(
        seen.contains(&format!("kiosk: paused at {point}")),
        "{context}: the kiosk ended without pausing at {point}:\n{seen}"
    );
    seen
}

/// The journal event ids the kiosk holds (all of them, uploaded or not).
pub fn kiosk_event_ids(data_dir: &Path) -> BTreeSet<String> {
    let journal = kiosk::journal::Journal::open(&data_dir.join("journal.db")).unwrap();
    journal
        .all_event_ids()
        .unwrap()
        .into_iter()
        .map(|id| id.to_string())
        .collect()
}

/// How many slips the printer received (one cut per slip).
pub fn slips_printed(bytes: &[u8]) -> usize {
    bytes.windows(2).filter(|w| *w == [0x1D, 0x56]).count()
}

/// The QR texts zbarimg reads from the slips in `bytes`, drawn by the project's ESC/POS renderer.
pub fn decode_slips(bytes: &[u8], dir: &Path) -> Vec<String> {
    let png = printer::render::render_png(bytes, 384).unwrap();
    let path = dir.join("slips.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("zbarimg is needed (Debian: zbar-tools): {e}"));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}
