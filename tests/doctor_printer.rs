//! `kiosk doctor printer` against a TCP printer emulator: the status, a checked test print that
//! arrives whole, and a plain refusal when the paper is out.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::process::Command;

use printer::emulator::{ALL_FINE, PAPER_OUT, TcpPrinterEmulator};
use serde_json::Value;

fn doctor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("doctor")
        .arg("printer")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn status_and_test_print_on_a_ready_printer() {
    let emulator = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    let output = doctor(&["--connection", &emulator.url(), "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["status"], "ready");
    assert_eq!(status["ready"], true);

    let output = doctor(&[
        "--connection",
        &emulator.url(),
        "--test-print",
        "--json",
        "--profile",
        "generic-80",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["test_print"]["printed"], true);
    let received = emulator.received();
    // The slip arrived: a native QR store command and the profile's cut.
    assert!(
        received.windows(3).any(|w| w == [0x1D, 0x28, 0x6B]),
        "no QR in the job"
    );
    assert!(
        received.windows(3).any(|w| w == [0x1D, 0x56, 0x01]),
        "no cut in the job"
    );
}

#[test]
fn paper_out_is_a_plain_refusal_and_nothing_prints() {
    let emulator = TcpPrinterEmulator::start(PAPER_OUT).unwrap();
    let output = doctor(&["--connection", &emulator.url(), "--test-print"]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("paper out"), "{stdout}");
    assert!(stderr.contains("not ready"), "{stderr}");
    assert!(
        !emulator
            .received()
            .windows(3)
            .any(|w| w == [0x1D, 0x28, 0x6B]),
        "a slip was sent"
    );

    let bad = doctor(&["--connection", "ftp://printer"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not valid"));
}
