//! The kiosk's log when it is not written to a terminal (under systemd it goes to journald): plain
//! text lines without terminal colour codes, which journald would otherwise store as raw bytes.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::process::{Command, Stdio};

#[test]
fn a_log_written_to_a_pipe_carries_no_colour_codes() {
    // The root kiosk.toml in a scratch directory: its relative data directory lands there, and
    // the embedded central service it starts logs at info.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk.toml"),
        &config,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--config")
        .arg(&config)
        .arg("sync")
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kiosk sync failed:\n{log}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" INFO ")).collect();
    assert!(!lines.is_empty(), "nothing was logged at info:\n{log}");
    assert!(
        !log.contains('\u{1b}'),
        "the log holds terminal escape codes:\n{log}"
    );
}
