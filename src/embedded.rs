//! The embedded central service (`[central] embedded = true`, the demo): the real central
//! service started in-process on a loopback port, with its own CA, fictional demo citizens and a
//! client certificate provisioned for this kiosk, so that the kiosk talks to it over the same
//! HTTPS + mutual-TLS path as to a production service.
//!
//! Its data directory is separate from the kiosk's (the sibling `central` by default), so that
//! the kiosk's own data directory never holds a citizen record.
//!
//! A [`Switch`] stops the service and starts it again on the same address and data directory:
//! the simulator panel's "central reachable / not reachable", for showing what the kiosk does
//! while the central cannot be reached.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use central::admin::{self, KioskDetails};
use central::clock::SystemClock;
use central::server::{DataDir, Running, ServeOptions};

use crate::client::ClientSettings;

/// A running embedded service and the client settings that reach it.
pub struct Embedded {
    /// The service (stop it with [`Running::shutdown`]).
    pub running: Running,
    /// How the kiosk reaches it.
    pub settings: ClientSettings,
}

/// Starts the central service on `127.0.0.1` (a free port) over `data_dir`, with demo data, and
/// enrols `kiosk_id` (its certificate goes to `<data_dir>/kiosk-<id>/`). Needs a Tokio runtime.
pub async fn start(data_dir: &Path, kiosk_id: &str) -> Result<Embedded> {
    let data = DataDir::new(data_dir);
    let options = ServeOptions {
        data: data.clone(),
        listen: "127.0.0.1:0".parse().context("the loopback address")?,
        demo: true,
        names: Vec::new(),
    };
    let running = central::server::start(&options, Arc::new(SystemClock))
        .await
        .context("starting the embedded central service")?;
    let out = data_dir.join(format!("kiosk-{kiosk_id}"));
    let details = KioskDetails {
        name: "演示服务大厅".into(),
        address: "上海市黄浦区演示路 1 号".into(),
        hours: "周一至周日 00:00-24:00".into(),
    };
    admin::provision_kiosk(&data, kiosk_id, &out, details)
        .context("enrolling the kiosk with the embedded central service")?;
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name))
            .with_context(|| format!("reading {}", out.join(name).display()))
    };
    let settings = ClientSettings::new(
        vec![format!("https://127.0.0.1:{}", running.addr.port())],
        read("ca.pem")?,
        format!("{}{}", read("kiosk.pem")?, read("kiosk.key")?),
    );
    tracing::info!(addr = %running.addr, "embedded central service started");
    Ok(Embedded { running, settings })
}

/// The embedded service, which can be stopped and started again (on the same address and data
/// directory, so that the kiosk's client reaches it as before). Clones control the same service.
#[derive(Clone)]
pub struct Switch(Arc<tokio::sync::Mutex<SwitchState>>);

struct SwitchState {
    data_dir: PathBuf,
    addr: SocketAddr,
    running: Option<Running>,
}

impl std::fmt::Debug for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switch").finish_non_exhaustive()
    }
}

impl Switch {
    /// The switch over a started service whose data lives in `data_dir`.
    pub fn new(data_dir: &Path, running: Running) -> Switch {
        Switch(Arc::new(tokio::sync::Mutex::new(SwitchState {
            data_dir: data_dir.to_owned(),
            addr: running.addr,
            running: Some(running),
        })))
    }

    /// Whether the service runs.
    pub async fn is_running(&self) -> bool {
        self.0.lock().await.running.is_some()
    }

    /// Stops the service (`false`: its connections are closed and nothing listens on its port)
    /// or starts it again on the same address (`true`). Doing what is already so does nothing.
    ///
    /// # Errors
    /// When the service does not stop cleanly, or cannot start (the port was taken meanwhile).
    pub async fn set_reachable(&self, reachable: bool) -> Result<()> {
        let mut state = self.0.lock().await;
        if reachable && state.running.is_none() {
            let options = ServeOptions {
                data: DataDir::new(&state.data_dir),
                listen: state.addr,
                // Seeded at the first start.
                demo: false,
                names: Vec::new(),
            };
            let running = central::server::start(&options, Arc::new(SystemClock))
                .await
                .context("starting the embedded central service again")?;
            tracing::info!(addr = %running.addr, "embedded central service started again");
            state.running = Some(running);
        } else if !reachable && let Some(running) = state.running.take() {
            running
                .shutdown()
                .await
                .context("stopping the embedded central service")?;
            tracing::info!("embedded central service stopped");
        }
        Ok(())
    }
}
