//! `kiosk doctor scanner --json` on a real pseudo-terminal pair made by socat: each scan written
//! on the host side comes out as one JSON line, garbage as an error line.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn doctor_scanner_prints_one_json_line_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let scanner = dir.path().join("scanner");
    let host = dir.path().join("host");
    let mut socat = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", scanner.display()))
        .arg(format!("pty,raw,echo=0,link={}", host.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is needed (apt-get install socat; scripts/test installs it)");
    let deadline = Instant::now() + WAIT;
    while !(scanner.exists() && host.exists()) {
        assert!(Instant::now() < deadline, "socat made no ptys");
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut doctor = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args([
            "doctor",
            "scanner",
            "--port",
            scanner.to_str().unwrap(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (send, lines) = mpsc::channel();
    let stdout = doctor.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });

    let mut port = std::fs::OpenOptions::new().write(true).open(&host).unwrap();
    // The doctor may open the port a moment after it starts: repeat the first scan until it
    // shows (repeats within the window are suppressed, so it shows once).
    let first = loop {
        port.write_all(b"SSM1:FIRST\r\n").unwrap();
        match lines.recv_timeout(Duration::from_millis(300)) {
            Ok(line) => break line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline + WAIT,
                    "the doctor printed nothing"
                );
            }
            Err(e) => panic!("the doctor stopped: {e}"),
        }
    };
    assert_eq!(first, r#"{"payload":"SSM1:FIRST"}"#);
    port.write_all(b"\xFF\xFEbad\r\n").unwrap();
    let line = lines.recv_timeout(WAIT).unwrap();
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(value["error"].is_string(), "{line}");
    port.write_all(b"SSM1:SECOND\n").unwrap();
    assert_eq!(
        lines.recv_timeout(WAIT).unwrap(),
        r#"{"payload":"SSM1:SECOND"}"#
    );

    doctor.kill().unwrap();
    doctor.wait().unwrap();
    socat.kill().unwrap();
    socat.wait().unwrap();
}
