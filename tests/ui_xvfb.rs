//! The real kiosk binary on the repository's own `kiosk.toml` (simulated devices, the embedded
//! central), under Xvfb at 1920x1080, as the README's first command starts it: both windows
//! (the fullscreen screens and the simulator panel) come up, the kiosk stays up, and SIGTERM
//! (what systemd sends) stops it cleanly, with its last `status.json` saying so.
//!
//! Xvfb picks a free display itself (`-displayfd`) and the kiosk's data goes to a temporary
//! copy of `kiosk.toml`'s folder, so the test runs beside any other. Nothing here is timed: each
//! wait polls with a generous limit. Xvfb and xwininfo come with `scripts/test`'s packages
//! (`xvfb`, `x11-utils`); without them the test fails and says so.

#![cfg(feature = "embedded-central")]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk::status::KioskStatusFile;

/// How long anything may take to come up on a busy machine (a debug build draws in software).
const LIMIT: Duration = Duration::from_secs(180);

/// A process killed when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts Xvfb at 1920x1080 on a display it chooses; returns it and the display (":N").
fn xvfb() -> (Reaped, String) {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1920x1080x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start Xvfb ({e}): install it (`xvfb`, as scripts/test does)")
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let number = line.trim();
    assert!(
        !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()),
        "Xvfb named no display: {line:?}"
    );
    (Reaped(child), format!(":{number}"))
}

/// The repository's `kiosk.toml` in a folder of its own, its data beside it.
fn default_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kiosk.toml")).unwrap();
    let moved = text.replace("data_dir = \"var/kiosk\"", "data_dir = \"data\"");
    assert_ne!(
        moved, text,
        "kiosk.toml no longer sets data_dir = \"var/kiosk\""
    );
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, moved).unwrap();
    path
}

/// The top-level windows on `display`, as `xwininfo -root -children` lists them.
fn windows(display: &str) -> String {
    let out = Command::new("xwininfo")
        .args(["-root", "-children", "-display", display])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xwininfo ({e}): install it (`x11-utils`, as scripts/test does)")
        });
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status(data: &Path) -> Option<KioskStatusFile> {
    let bytes = std::fs::read(kiosk::status::path(data)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_kiosk_starts_under_xvfb_on_the_default_kiosk_toml_stays_up_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = default_config(dir.path());
    let data = dir.path().join("data");
    let (_xvfb, display) = xvfb();
    let log_path = dir.path().join("kiosk.log");
    let mut kiosk = Reaped(
        Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .arg("--config")
            .arg(&config)
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("RUST_LOG", "info,iced_winit=warn,winit=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );

    // Up: the engine writes status.json, and both windows are mapped at their sizes (the
    // screens fullscreen, the simulator panel beside them).
    let started = Instant::now();
    loop {
        if let Some(exit) = kiosk.0.try_wait().unwrap() {
            panic!("the kiosk exited with {exit}:\n{}", log(&log_path));
        }
        let listed = windows(&display);
        let up = status(&data).is_some_and(|s| s.running)
            && listed.contains("1920x1080+")
            && listed.contains("620x920+");
        if up {
            break;
        }
        assert!(
            started.elapsed() < LIMIT,
            "the kiosk did not come up; windows:\n{listed}\nlog:\n{}",
            log(&log_path)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let first = status(&data).unwrap();
    assert_eq!(first.kiosk_id, "K001");
    assert_eq!(first.pid, kiosk.0.id());

    // Still up a little later, and still writing its status.
    let later = Instant::now();
    loop {
        assert!(
            kiosk.0.try_wait().unwrap().is_none(),
            "the kiosk stopped by itself:\n{}",
            log(&log_path)
        );
        if status(&data).is_some_and(|s| s.running && s.written_at > first.written_at) {
            break;
        }
        assert!(
            later.elapsed() < LIMIT,
            "status.json was not rewritten:\n{}",
            log(&log_path)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(kiosk.0.try_wait().unwrap().is_none());
    assert!(windows(&display).contains("1920x1080+"));

    // SIGTERM: the screens close, the engine and the core stop, the process exits with 0.
    let pid = kiosk.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let asked = Instant::now();
    let exit = loop {
        if let Some(exit) = kiosk.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            asked.elapsed() < LIMIT,
            "the kiosk did not stop after SIGTERM:\n{}",
            log(&log_path)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = log(&log_path);
    assert!(exit.success(), "the kiosk exited with {exit}:\n{said}");
    assert!(
        status(&data).is_some_and(|s| !s.running),
        "the last status.json does not say it stopped:\n{said}"
    );
    assert!(
        !said.lines().any(|l| l.contains("ERROR")),
        "the kiosk logged errors:\n{said}"
    );
}
