//! Starts the kiosk with its screens (`kiosk` with no subcommand): opens the core and the
//! engine on a Tokio runtime of their own, hands the engine's snapshots to the screens as
//! [`Frame`]s and the screens' presses to the engine (a resident's to
//! [`EngineHandle::press`](crate::engine::EngineHandle::press), a staff member's to
//! [`EngineHandle::staff`](crate::engine::EngineHandle::staff)), opens the simulator panel when
//! devices are simulated (with the embedded central's on/off switch when there is one), and when
//! the screens close stops the engine and closes the core.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use super::shell::{self, Launch, Mode, NO_DISPLAY};
use super::sim_panel::{SimDevices, SimPanel, Suishen};
use super::{Frame, Press};
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
            staff: snapshot.staff.clone().map(Box::new),
            notice: snapshot.notice.clone(),
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
    let sim = SimPanel::new(devices, suishen);
    #[cfg(feature = "embedded-central")]
    let sim = sim.map(|panel| match central_switch(&core, runtime.handle()) {
        Some(switch) => panel
            .with_central(switch)
            .with_cards(super::sim_panel::demo_citizen_cards()),
        None => panel,
    });
    let launch = Launch {
        frames,
        press: Arc::new(move |press| match press {
            Press::Resident(button) => presses.press(button),
            Press::Staff(button) => presses.staff(button),
        }),
        sim,
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

/// The simulator panel's "central reachable / not reachable" for the embedded central service
/// of `core` (`None` when the central is a remote one): stops the service, or starts it again on
/// the same address and data directory, on `runtime` (the call waits for it, on a thread of its
/// own, so that it may come from any thread, the screens' included).
#[cfg(feature = "embedded-central")]
pub fn central_switch(
    core: &Core,
    runtime: &tokio::runtime::Handle,
) -> Option<Arc<super::sim_panel::ReachableFn>> {
    let switch = core.embedded_switch()?;
    let runtime = runtime.clone();
    Some(Arc::new(move |reachable| {
        let switch = switch.clone();
        let runtime = runtime.clone();
        std::thread::spawn(move || runtime.block_on(switch.set_reachable(reachable)))
            .join()
            .map_err(|_| anyhow::anyhow!("switching the embedded central service failed"))?
    }))
}

/// The demo citizens whose 随申码 the simulator panel can show: those of the embedded central.
fn demo_codes(config: &Config) -> Option<Suishen> {
    match &config.central {
        #[cfg(feature = "embedded-central")]
        crate::config::CentralSection::Embedded { data_dir } => Some(Suishen::embedded(data_dir)),
        _ => None,
    }
}
