//! `kiosk` with no subcommand where there is no display: one plain line naming the
//! alternatives, and a non-zero exit, before anything is opened.

use std::process::Command;

#[test]
fn without_a_display_the_kiosk_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["--config", "does-not-matter.toml"])
        .current_dir(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("no display"), "{stderr}");
    assert!(lines[0].contains("kiosk run-once"), "{stderr}");
    assert!(lines[0].contains("Xvfb"), "{stderr}");
    // Nothing was opened: no data directory appeared.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
