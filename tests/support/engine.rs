//! The kiosk's engine in the test process, for the reliability tests that keep one kiosk running
//! through device and central faults: [`Core`] and [`Engine`] on a runtime of their own, driven
//! through the [`EngineHandle`] as the screens drive it, with blocking helpers that wait for a
//! screen.

use std::path::Path;
use std::time::{Duration, Instant};

use kiosk::config::Config;
use kiosk::engine::{Core, Engine, EngineHandle, Snapshot};
use kiosk::flow::{Button, Screen};

/// A running kiosk.
pub struct RunningKiosk {
    pub runtime: tokio::runtime::Runtime,
    pub handle: EngineHandle,
    core: Option<Core>,
    engine: Option<tokio::task::JoinHandle<()>>,
}

impl RunningKiosk {
    /// Opens the kiosk of the configuration at `config` and starts its engine.
    pub fn start(config: &Path) -> RunningKiosk {
        let config = Config::load(config).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (core, engine, handle) = runtime.block_on(async {
            let core = Core::open(config).await.unwrap();
            let (engine, handle) = Engine::new(&core).unwrap();
            (core, engine, handle)
        });
        let engine = runtime.spawn(engine.run());
        RunningKiosk {
            runtime,
            handle,
            core: Some(core),
            engine: Some(engine),
        }
    }

    /// The core (journal, sync).
    pub fn core(&self) -> &Core {
        self.core.as_ref().unwrap()
    }

    /// What the screen shows now.
    pub fn screen(&self) -> Screen {
        self.handle.snapshots.borrow().screen.clone()
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Snapshot {
        self.handle.snapshots.borrow().clone()
    }

    /// Waits up to `limit` for a screen that `wanted` accepts; panics with what shows instead.
    pub fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        wanted: impl Fn(&Screen) -> bool,
    ) -> Screen {
        let deadline = Instant::now() + limit;
        let mut seen: Vec<Screen> = Vec::new();
        loop {
            let screen = self.screen();
            if wanted(&screen) {
                return screen;
            }
            if seen.last() != Some(&screen) {
                seen.push(screen.clone());
            }
            assert!(
                Instant::now() < deadline,
                "waited {limit:?} in vain for {what}; the kiosk showed {seen:#?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Presses a button.
    pub fn press(&self, button: Button) {
        self.handle.press(button);
    }

    /// Waits until the sync loop has sent everything (journal, outcomes, attempts).
    pub fn flush(&self, within: Duration) -> bool {
        let core = self.core();
        self.runtime.block_on(core.sync.flush(within))
    }

    /// Stops the engine and closes the core (sending what is left for up to `within`).
    pub fn stop(mut self, within: Duration) -> bool {
        self.handle.stop();
        if let Some(engine) = self.engine.take() {
            let _ = self.runtime.block_on(engine);
        }
        let core = self.core.take().unwrap();
        self.runtime.block_on(core.close(within))
    }
}

impl Drop for RunningKiosk {
    fn drop(&mut self) {
        self.handle.stop();
        if let Some(engine) = self.engine.take() {
            let _ = self.runtime.block_on(engine);
        }
        if let Some(core) = self.core.take() {
            let _ = self.runtime.block_on(core.close(Duration::from_secs(1)));
        }
    }
}

/// Whether the screen is the home screen.
pub fn is_home(screen: &Screen) -> bool {
    matches!(screen, Screen::Home { .. })
}

/// Whether the screen is the confirm screen.
pub fn is_confirm(screen: &Screen) -> bool {
    matches!(screen, Screen::Confirm { .. })
}

/// Whether the screen is the done screen.
pub fn is_done(screen: &Screen) -> bool {
    matches!(screen, Screen::Done { .. })
}

/// Whether the screen is an error screen.
pub fn is_error(screen: &Screen) -> bool {
    matches!(screen, Screen::Error { .. })
}
