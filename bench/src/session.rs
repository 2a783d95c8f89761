//! The kiosk's own overhead per resident session: the real [`Engine`] in this process, driven
//! through its [`EngineHandle`] as the screens drive it, with a simulated card reader that reads
//! at once, a TCP printer that answers at once ([`PrinterSink`]) and the central on loopback over
//! HTTPS with mutual TLS.
//!
//! Per session (each a different senior, so that every one is a first 申领):
//! - **card → confirm**: from the card placed on the reader to the snapshot showing the confirm
//!   screen (card read, journal, identify over HTTPS, the photo decoded in the answer);
//! - **申领 → printer**: from the press on 申领 to the last byte of the slip arriving at the
//!   printer (journal before the wire, issue over HTTPS with the SM2 signature at the central,
//!   journal, fetching the issuer key once, laying out the slip, rendering it and decoding its QR
//!   for the pre-print check, verifying the signature, the printer's status, the bytes).
//!
//! Then 返回首页 and the card is lifted. The background sync runs as in a real kiosk.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use kiosk::config::Config;
use kiosk::engine::{Core, Engine, EngineHandle};
use kiosk::flow::{Button, Screen};

use crate::fixture::{Backend, Central, write_kiosk_config};
use crate::people;
use crate::printer_sink::PrinterSink;
use crate::report::{Percentiles, Table, ms, progress};

/// Sessions run first and not counted (connections, caches, the issuer key).
const WARM_UP: usize = 20;
/// Longest wait for one step.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// What one run measured.
pub(crate) struct SessionTimes {
    /// Card placed → confirm screen.
    pub(crate) to_confirm: Vec<Duration>,
    /// 申领 pressed → last byte at the printer.
    pub(crate) to_printer: Vec<Duration>,
}

/// Runs `sessions` sessions (plus the warm-up).
pub(crate) fn run(sessions: usize) -> Result<SessionTimes> {
    let total = sessions + WARM_UP;
    let central = Central::start(&Backend::Sqlite, 2)?;
    progress(&format!("sessions: importing {total} citizens"));
    let seniors = people::seniors(total)?;
    central.import(&seniors)?;
    let certs = central.provision("K-BENCH")?;
    let mut printer = PrinterSink::start()?;
    let dir = central.scratch().join("kiosk");
    std::fs::create_dir_all(&dir)?;
    let devices = format!(
        r#"[devices.idcard]
backend = "simulated"

[devices.scanner]
backend = "simulated"

[devices.printer]
backend = "escpos"
connection = "{}"
profile = "generic-58"
"#,
        printer.url()
    );
    let config_path = write_kiosk_config(&dir, "K-BENCH", &central, &certs, &devices)?;
    let config = Config::load(&config_path)?;

    // The kiosk's runtime: two workers, as the kiosk binary has.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiosk")
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let core = Core::open(config).await?;
        let (engine, handle) = Engine::new(&core)?;
        let engine = tokio::spawn(engine.run());
        let result = drive(&handle, &seniors, &mut printer).await;
        handle.stop();
        let _ = engine.await;
        core.close(Duration::from_secs(30)).await;
        let (to_confirm, to_printer) = result?;
        Ok(SessionTimes {
            to_confirm: to_confirm.into_iter().skip(WARM_UP).collect(),
            to_printer: to_printer.into_iter().skip(WARM_UP).collect(),
        })
    })
}

type Times = (Vec<Duration>, Vec<Duration>);

async fn drive(
    handle: &EngineHandle,
    seniors: &[people::Senior],
    printer: &mut PrinterSink,
) -> Result<Times> {
    let reader = handle
        .sim
        .reader
        .clone()
        .context("the reader is simulated")?;
    let mut snapshots = handle.snapshots.clone();
    wait_for(&mut snapshots, "home", |s| matches!(s, Screen::Home { .. })).await?;
    let mut to_confirm = Vec::with_capacity(seniors.len());
    let mut to_printer = Vec::with_capacity(seniors.len());
    for (index, senior) in seniors.iter().enumerate() {
        if index % 200 == 0 {
            progress(&format!("sessions: {index} of {}", seniors.len()));
        }
        printer.drain();
        let placed = Instant::now();
        reader.place(senior.card.clone());
        wait_for(&mut snapshots, "confirm", |s| {
            matches!(s, Screen::Confirm { .. })
        })
        .await?;
        to_confirm.push(placed.elapsed());

        let pressed = Instant::now();
        handle.press(Button::Confirm);
        let slip = printer
            .next_slip(STEP_LIMIT)
            .await
            .context("no slip reached the printer")?;
        to_printer.push(slip.saturating_duration_since(pressed));
        wait_for(&mut snapshots, "done", |s| matches!(s, Screen::Done { .. })).await?;

        handle.press(Button::Home);
        wait_for(&mut snapshots, "home", |s| matches!(s, Screen::Home { .. })).await?;
        reader.remove();
    }
    Ok((to_confirm, to_printer))
}

async fn wait_for(
    snapshots: &mut tokio::sync::watch::Receiver<kiosk::engine::Snapshot>,
    what: &str,
    done: impl Fn(&Screen) -> bool,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + STEP_LIMIT;
    loop {
        let screen = snapshots.borrow_and_update().screen.clone();
        if done(&screen) {
            return Ok(());
        }
        if let Screen::Error { error, .. } = &screen {
            bail!("the session failed on the way to {what}: {error:?}");
        }
        if tokio::time::timeout_at(deadline, snapshots.changed())
            .await
            .is_err()
        {
            bail!("waited in vain for the {what} screen (showing {screen:?})");
        }
    }
}

/// The table rows of a run.
pub(crate) fn table(times: &SessionTimes) -> Table {
    let mut table = Table::new(
        "Kiosk overhead per session (devices answer at once, central on loopback HTTPS)",
        &["step", "sessions", "p50", "p99", "max"],
    );
    for (name, samples) in [
        ("card event → confirm data ready", &times.to_confirm),
        ("申领 → last byte handed to the printer", &times.to_printer),
    ] {
        let p = Percentiles::of(samples);
        table.row(vec![
            name.to_owned(),
            p.count.to_string(),
            ms(p.p50),
            ms(p.p99),
            ms(p.max),
        ]);
    }
    table.note(format!(
        "The kiosk's `Engine` in-process (2 runtime workers), simulated reader (reads at once), \
         ESC/POS over TCP to a printer that answers at once (profile generic-58), the central \
         in the same process on its own 2-worker runtime (SQLite). Each session is a different \
         senior's first 申领; {WARM_UP} warm-up sessions are not counted."
    ));
    table
}
