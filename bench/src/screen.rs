//! Kiosk start to first frame, and memory on the home screen, under Xvfb; side by side with
//! headless Chromium showing a static HTML page of the same home screen.
//!
//! - **The kiosk**: the release `kiosk` binary, fullscreen (production mode) on an Xvfb display
//!   of 1920x1080x24 with a black root (`-br`) and no window manager, with the production device
//!   backends (a PC/SC reader that is not plugged in, a serial scanner that is absent, ESC/POS
//!   over TCP to a printer that answers at once) and the central in this process over loopback
//!   HTTPS. *First frame* = the first time a pixel in the header (20, 20) of the root window
//!   differs from the black root, polled every 2 ms over the X protocol (`GetImage`); *mapped* =
//!   the first time a top-level window is viewable (`QueryTree` + `GetWindowAttributes`). Both
//!   from the `spawn` of the process.
//! - **The demo kiosk**: the same binary on the repository's own `kiosk.toml` (simulated
//!   devices, the central embedded in the kiosk's process, the simulator panel in a second
//!   window), its data in the scratch folder: what `scripts/run` starts. Measured the same way.
//! - **Chromium**: `chromium --headless` at 1920x1080 loading the page from a small HTTP server
//!   in this process (the page, and the kiosk's bundled font so that both draw the same glyphs).
//!   *First frame* = the page's `document.fonts.ready` followed by two `requestAnimationFrame`s
//!   (a frame has been produced), reported by a `fetch` back to the server, from the `spawn`.
//! - **Memory**: 3 s after the first frame, the sum of PSS (`/proc/PID/smaps_rollup`) over the
//!   process and all its descendants; RSS summed the same way for comparison (RSS counts shared
//!   pages once per process, so it overstates a multi-process browser).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, MapState};

use crate::fixture::{Backend, Central, write_kiosk_config};
use crate::printer_sink::PrinterSink;
use crate::report::{Percentiles, Table, mib, ms, progress};

/// The repository's `kiosk.toml` (simulated devices, embedded central), for the demo kiosk.
const DEMO_CONFIG: &str = include_str!("../../kiosk.toml");
/// The bundled font, served to Chromium so that both draw the same glyphs.
const FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-Regular-cjk.otf");
/// How long after the first frame memory is read.
const SETTLE: Duration = Duration::from_secs(3);
/// Longest wait for a first frame.
const FRAME_LIMIT: Duration = Duration::from_secs(60);
/// The kiosk watches for this reader, which no machine has: it must not touch the card of a
/// PC/SC reader that tests may be using on the same machine.
const ABSENT_READER: &str = "Bench reader (absent)";
/// Where the first-frame probe looks: inside the header band.
const PROBE: (i16, i16) = (20, 20);

/// One start of one program.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// Spawn → window viewable (the kiosk only).
    pub(crate) mapped: Option<Duration>,
    /// Spawn → first frame.
    pub(crate) first_frame: Duration,
    /// Sum of PSS over the process tree, KiB.
    pub(crate) pss_kib: u64,
    /// Sum of RSS over the process tree, KiB.
    pub(crate) rss_kib: u64,
    /// Processes in the tree.
    pub(crate) processes: usize,
}

/// What the screen benchmark found.
pub(crate) struct ScreenResults {
    /// The kiosk's starts.
    pub(crate) kiosk: Vec<Start>,
    /// The demo kiosk's starts (the default `kiosk.toml`).
    pub(crate) demo: Vec<Start>,
    /// Chromium's starts.
    pub(crate) chromium: Vec<Start>,
    /// Chromium's version line.
    pub(crate) chromium_version: String,
}

/// Runs `runs` starts of each.
pub(crate) fn run(
    kiosk_binary: &Path,
    runs: usize,
    screenshot: Option<&Path>,
) -> Result<ScreenResults> {
    let xvfb = find_program("Xvfb").context(
        "Xvfb is needed for the screen benchmark: install Debian's xvfb package \
         (scripts/bench does)",
    )?;
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(find_program)
        .context("Chromium is needed for the comparison: install Debian's chromium package")?;
    anyhow::ensure!(
        kiosk_binary.is_file(),
        "no kiosk binary at {} (build it with `cargo build --release -p kiosk`)",
        kiosk_binary.display()
    );

    let display = Xvfb::start(&xvfb)?;
    let central = Central::start(&Backend::Sqlite, 1)?;
    let certs = central.provision("K-SCREEN")?;
    let printer = PrinterSink::start()?;
    let mut kiosk = Vec::new();
    for run in 0..runs {
        progress(&format!("screen: kiosk start {} of {runs}", run + 1));
        let dir = central.scratch().join(format!("kiosk-{run}"));
        std::fs::create_dir_all(&dir)?;
        let devices = format!(
            r#"[devices.idcard]
backend = "pcsc"
reader = "{ABSENT_READER}"

[devices.scanner]
backend = "serial"
port = "/dev/ttyBENCH-absent"

[devices.printer]
backend = "escpos"
connection = "{}"
profile = "generic-58"
"#,
            printer.url()
        );
        let config = write_kiosk_config(&dir, "K-SCREEN", &central, &certs, &devices)?;
        let shot = if run == 0 { screenshot } else { None };
        kiosk.push(kiosk_start(kiosk_binary, &config, &display, &dir, shot)?);
    }
    let mut demo = Vec::new();
    for run in 0..runs {
        progress(&format!("screen: demo kiosk start {} of {runs}", run + 1));
        let dir = central.scratch().join(format!("demo-{run}"));
        std::fs::create_dir_all(&dir)?;
        let config = demo_kiosk_config(&dir)?;
        demo.push(kiosk_start(kiosk_binary, &config, &display, &dir, None)?);
    }
    let chromium_version = Command::new(&chromium)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut browser = Vec::new();
    for run in 0..runs {
        progress(&format!("screen: Chromium start {} of {runs}", run + 1));
        browser.push(chromium_start(&chromium, central.scratch())?);
    }
    drop(display);
    Ok(ScreenResults {
        kiosk,
        demo,
        chromium: browser,
        chromium_version,
    })
}

/// The repository's `kiosk.toml` in `dir`, its data (and the embedded central's) beside it.
fn demo_kiosk_config(dir: &Path) -> Result<PathBuf> {
    let moved = DEMO_CONFIG.replace("data_dir = \"var/kiosk\"", "data_dir = \"data\"");
    anyhow::ensure!(
        moved != DEMO_CONFIG,
        "kiosk.toml no longer sets data_dir = \"var/kiosk\""
    );
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, moved).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// An Xvfb display of our own, stopped when dropped.
struct Xvfb {
    child: Child,
    name: String,
}

impl Xvfb {
    fn start(binary: &Path) -> Result<Xvfb> {
        let number = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number")?;
        let name = format!(":{number}");
        let child = Command::new(binary)
            .args([
                &name,
                "-screen",
                "0",
                "1920x1080x24",
                "-nolisten",
                "tcp",
                "-br",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting Xvfb")?;
        let xvfb = Xvfb { child, name };
        let deadline = Instant::now() + Duration::from_secs(20);
        while x11rb::connect(Some(&xvfb.name)).is_err() {
            if Instant::now() > deadline {
                bail!("Xvfb {} did not start", xvfb.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(xvfb)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kiosk_start(
    binary: &Path,
    config: &Path,
    display: &Xvfb,
    dir: &Path,
    screenshot: Option<&Path>,
) -> Result<Start> {
    let (conn, screen) = x11rb::connect(Some(&display.name)).context("connecting to Xvfb")?;
    let root = conn.setup().roots.get(screen).context("the X screen")?.root;
    let probe = |conn: &x11rb::rust_connection::RustConnection| -> Result<Vec<u8>> {
        Ok(conn
            .get_image(ImageFormat::Z_PIXMAP, root, PROBE.0, PROBE.1, 1, 1, !0)?
            .reply()?
            .data)
    };
    let mapped = |conn: &x11rb::rust_connection::RustConnection| -> Result<bool> {
        for child in conn.query_tree(root)?.reply()?.children {
            if conn.get_window_attributes(child)?.reply()?.map_state == MapState::VIEWABLE {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let before = probe(&conn)?;
    anyhow::ensure!(
        !mapped(&conn)?,
        "a window is already on the display {}",
        display.name
    );
    let log = std::fs::File::create(dir.join("kiosk.log"))?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg("--config")
        .arg(config)
        .env("DISPLAY", &display.name)
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut seen_mapped = None;
    let first_frame = loop {
        if seen_mapped.is_none() && mapped(&conn)? {
            seen_mapped = Some(started.elapsed());
        }
        if probe(&conn)? != before {
            break started.elapsed();
        }
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(dir.join("kiosk.log")).unwrap_or_default();
            bail!("the kiosk exited ({status}) before its first frame:\n{log}");
        }
        if started.elapsed() > FRAME_LIMIT {
            kill_group(&mut child);
            bail!("no first frame from the kiosk within {FRAME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    std::thread::sleep(SETTLE);
    let (pss_kib, rss_kib, processes) = tree_memory(child.id());
    if let Some(path) = screenshot {
        save_root(&conn, root, path)?;
    }
    kill_group(&mut child);
    // Let the display settle back to black before the next start.
    let deadline = Instant::now() + Duration::from_secs(10);
    while (mapped(&conn)? || probe(&conn)? != before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Start {
        mapped: seen_mapped,
        first_frame,
        pss_kib,
        rss_kib,
        processes,
    })
}

fn chromium_start(binary: &Path, scratch: &Path) -> Result<Start> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (painted_tx, painted) = mpsc::channel();
    std::thread::Builder::new()
        .name("page-server".into())
        .spawn(move || serve_page(&listener, &painted_tx))?;
    let profile = tempfile::Builder::new()
        .prefix("bench-chromium-")
        .tempdir_in(scratch)?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--password-store=basic",
            "--hide-scrollbars",
            "--mute-audio",
            "--lang=zh-CN",
            "--force-device-scale-factor=1",
            "--window-size=1920,1080",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("http://127.0.0.1:{port}/"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let first_frame = match painted.recv_timeout(FRAME_LIMIT) {
        Ok(at) => at.saturating_duration_since(started),
        Err(_) => {
            kill_group(&mut child);
            bail!("Chromium did not draw the page within {FRAME_LIMIT:?}");
        }
    };
    std::thread::sleep(SETTLE);
    let (pss_kib, rss_kib, processes) = tree_memory(child.id());
    kill_group(&mut child);
    Ok(Start {
        mapped: None,
        first_frame,
        pss_kib,
        rss_kib,
        processes,
    })
}

/// Serves the page, the font and the "painted" beacon until the browser is gone.
fn serve_page(listener: &TcpListener, painted: &mpsc::Sender<Instant>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => continue,
        });
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        // Skip the headers (and a small body, if any).
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length.min(4096)];
        let _ = reader.read_exact(&mut body);
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let (status, kind, bytes): (&str, &str, &[u8]) = match path {
            "/" => ("200 OK", "text/html; charset=utf-8", HOME_HTML.as_bytes()),
            "/font.otf" => ("200 OK", "font/otf", FONT),
            "/painted" => {
                let _ = painted.send(Instant::now());
                ("204 No Content", "text/plain", b"")
            }
            _ => ("404 Not Found", "text/plain", b""),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            bytes.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(bytes);
    }
}

/// The kiosk's home screen as a static page: the same texts, sizes and colours
/// (`src/ui/theme.rs`), the same font.
const HOME_HTML: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>随申码离线服务</title>
<style>
@font-face { font-family: "Kiosk"; src: url("/font.otf") format("opentype"); font-display: block; }
html, body { margin: 0; height: 100%; background: #fff; color: #141414; font-family: "Kiosk"; }
body { display: flex; flex-direction: column; width: 1920px; height: 1080px; overflow: hidden; }
header { height: 120px; background: #0A2E6E; color: #fff; font-size: 34px; display: flex;
  align-items: center; padding: 0 48px; }
main { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 32px; }
h1 { font-size: 72px; font-weight: normal; margin: 0; }
p { font-size: 36px; margin: 0; }
button { font-family: "Kiosk"; border-radius: 16px; cursor: pointer; }
.primary { width: 620px; height: 140px; background: #0A2E6E; color: #fff; border: 0; font-size: 44px; }
footer { display: flex; justify-content: space-between; padding: 48px; }
.footer { width: 420px; height: 120px; font-size: 44px; }
.lang { background: #fff; color: #141414; border: 4px solid #0A2E6E; }
.help { background: #7A0000; color: #fff; border: 0; }
</style></head>
<body>
<header>一网通办自助服务</header>
<main>
<h1>随申码离线码</h1>
<p>年满60周岁的老年人，可在这里打印随申码离线码，不用智能手机。</p>
<button class="primary">随申码离线服务</button>
</main>
<footer><button class="footer lang">English</button><button class="footer help">呼叫工作人员</button></footer>
<script>
document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() =>
  fetch("/painted", { method: "POST", body: "1" }))));
</script>
</body></html>
"#;

/// Saves the X root window (1920x1080, 24-bit in 32-bit pixels, BGRX) as a PNG.
fn save_root(conn: &x11rb::rust_connection::RustConnection, root: u32, path: &Path) -> Result<()> {
    let (width, height) = (1920u16, 1080u16);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root, 0, 0, width, height, !0)?
        .reply()?;
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(4)
        .flat_map(|px| match px {
            [b, g, r, _] => [*r, *g, *b],
            _ => [0, 0, 0],
        })
        .collect();
    image::save_buffer(
        path,
        &rgb,
        u32::from(width),
        u32::from(height),
        image::ExtendedColorType::Rgb8,
    )
    .with_context(|| format!("saving {}", path.display()))?;
    progress(&format!(
        "screen: the kiosk's home screen saved to {}",
        path.display()
    ));
    Ok(())
}

/// Kills a process group made with `process_group(0)` (the program and all it started).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// PSS and RSS (KiB) summed over `pid` and its descendants, and how many processes.
fn tree_memory(pid: u32) -> (u64, u64, usize) {
    let tree = descendants(pid);
    let mut pss = 0;
    let mut rss = 0;
    for pid in &tree {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(key), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            let value: u64 = value.parse().unwrap_or(0);
            match key {
                "Pss:" => pss += value,
                "Rss:" => rss += value,
                _ => {}
            }
        }
    }
    (pss, rss, tree.len())
}

/// `pid` and every process below it, from the parent ids in `/proc/*/stat`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
                continue;
            };
            // The parent id is the second field after the command name in parentheses.
            let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
                continue;
            };
            if let Some(ppid) = after
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok())
            {
                parents.push((child, ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut index = 0;
    while let Some(&parent) = tree.get(index) {
        for (child, ppid) in &parents {
            if *ppid == parent && !tree.contains(child) {
                tree.push(*child);
            }
        }
        index += 1;
    }
    tree
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The table: kiosk and Chromium side by side (medians over the runs).
pub(crate) fn table(results: &ScreenResults) -> Table {
    let mut table = Table::new(
        "Start to first frame and memory on the home screen (Xvfb 1920x1080)",
        &[
            "program",
            "runs",
            "start → window mapped",
            "start → first frame (p50)",
            "first frame (max)",
            "memory, PSS summed",
            "memory, RSS summed",
            "processes",
        ],
    );
    for (name, starts) in [
        ("kiosk (iced 0.14, tiny-skia)", &results.kiosk),
        (
            "demo kiosk (default kiosk.toml: simulated devices, embedded central, simulator panel)",
            &results.demo,
        ),
        (
            if results.chromium_version.is_empty() {
                "headless Chromium, static page"
            } else {
                results.chromium_version.as_str()
            },
            &results.chromium,
        ),
    ] {
        let frames: Vec<Duration> = starts.iter().map(|s| s.first_frame).collect();
        let mapped: Vec<Duration> = starts.iter().filter_map(|s| s.mapped).collect();
        let f = Percentiles::of(&frames);
        let median = |values: Vec<u64>| -> u64 {
            let mut values = values;
            values.sort_unstable();
            values.get(values.len() / 2).copied().unwrap_or(0)
        };
        let pss = median(starts.iter().map(|s| s.pss_kib).collect());
        let rss = median(starts.iter().map(|s| s.rss_kib).collect());
        let processes = starts.iter().map(|s| s.processes).max().unwrap_or(0);
        table.row(vec![
            name.to_owned(),
            starts.len().to_string(),
            if mapped.is_empty() {
                "— (headless)".to_owned()
            } else {
                ms(Percentiles::of(&mapped).p50)
            },
            ms(f.p50),
            ms(f.max),
            mib(pss),
            mib(rss),
            processes.to_string(),
        ]);
    }
    table.note(
        "Kiosk: the release binary in production mode (fullscreen, PC/SC reader (one that is not \
         plugged in), serial scanner (absent), ESC/POS printer over TCP), the central in the harness over loopback HTTPS. Demo kiosk: the same binary on the repository's kiosk.toml (simulated devices, the central embedded in the kiosk's process with its demo data, the simulator panel's window), as `scripts/run` starts it. First frame \
         = the first change of the pixel at (20, 20) of the X root window (the header band), \
         polled every 2 ms; mapped = a top-level window viewable. Chromium: `--headless`, the \
         same home screen as a static page with the kiosk's font; first frame = \
         `document.fonts.ready` and two `requestAnimationFrame`s, reported back over HTTP. \
         Memory 3 s after the first frame: PSS (proportional set size, shared pages split \
         between the processes sharing them) summed over the process and its descendants from \
         /proc/PID/smaps_rollup; RSS summed the same way for comparison.",
    );
    table
}
