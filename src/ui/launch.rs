//! Starts the kiosk with its screens (`kiosk` with no subcommand): opens the core and the
//! engine on a Tokio runtime of their own, hands the engine's snapshots to the screens as
//! [`Frame`]s and the screens' presses to the engine, opens the simulator panel when devices
//! are simulated, and when the screens close stops the engine and closes the core.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use super::Frame;
use super::shell::{self, Launch, Mode, NO_DISPLAY};
use super::sim_panel::{SimDevices, SimPanel, Suishen};
use crate::config::Config;
use crate::engine::{Core, Engine, Snapshot};

/// How long the core gets, after the screens closed, to hand what is left to the central.
pub const CLOSE_WITHIN: Duration = Duration::from_secs(5);

impl From<&Snapshot> for Frame {
    fn from(snapshot: &Snapshot) -> Frame {
        Frame {
            screen: snapshot.screen.clone(),
            countdown: snapshot.countdown,
            help_requested: snapshot.help_requested,
        }
    }
}

/// Runs the kiosk with its screens until they close. Fails at once, before opening anything,
/// where there is no display ([`NO_DISPLAY`]).
pub fn start(config: Config, mode: Mode) -> Result<()> {
    if !shell::display_available() {
        anyhow::bail!(NO_DISPLAY);
    }
    let suishen = demo_codes(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (core, engine, handle) = runtime.block_on(async {
        let core = Core::open(config).await?;
        let (engine, handle) = Engine::new(&core)?;
        anyhow::Ok((core, engine, handle))
    })?;
    let engine = runtime.spawn(engine.run());

    // The screens get a frame only when what they show changed (the engine publishes on every
    // tick).
    let mut snapshots = handle.snapshots.clone();
    let (frames_tx, frames) = watch::channel(Frame::from(&*snapshots.borrow_and_update()));
    runtime.spawn(async move {
        while snapshots.changed().await.is_ok() {
            let frame = Frame::from(&*snapshots.borrow_and_update());
            frames_tx.send_if_modified(|shown| {
                let changed = *shown != frame;
                if changed {
                    *shown = frame;
                }
                changed
            });
        }
    });

    let devices = SimDevices {
        reader: handle.sim.reader.clone(),
        scanner: handle.sim.scanner.clone(),
        printer: handle.sim.printer.clone(),
    };
    let presses = handle.clone();
    let launch = Launch {
        frames,
        press: Arc::new(move |button| presses.press(button)),
        sim: SimPanel::new(devices, suishen),
        mode,
    };
    let shown = shell::run(launch);

    handle.stop();
    runtime.block_on(async {
        let _ = engine.await;
        if !core.close(CLOSE_WITHIN).await {
            tracing::warn!("some journal events or print outcomes are left for the next start");
        }
    });
    shown
}

/// The demo citizens whose 随申码 the simulator panel can show: those of the embedded central.
fn demo_codes(config: &Config) -> Option<Suishen> {
    match &config.central {
        #[cfg(feature = "embedded-central")]
        crate::config::CentralSection::Embedded { data_dir } => Some(Suishen::embedded(data_dir)),
        _ => None,
    }
}
