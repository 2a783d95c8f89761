//! The central service under test, started in this process on loopback ports over HTTPS, each
//! instance on a runtime of its own, with a throw-away data directory; and what the benchmarks
//! need from it (kiosk certificates, tokens, citizens).
//!
//! [`Backend`] names the storage: SQLite in the data directory (one instance), or PostgreSQL in a
//! fresh database of the server the harness was given (`--postgres`), served by one or by two
//! instances sharing the data directory, as a deployment behind a load balancer would.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use central::admin::{self, KioskDetails};
use central::clock::SystemClock;
use central::model::Role;
use central::server::{DataDir, Running, ServeOptions};

use crate::people::Senior;

/// The central's storage backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite in the data directory (WAL, `synchronous=FULL`): one node.
    Sqlite,
    /// PostgreSQL: a fresh database on the server of `admin_url` (an administrator's URL),
    /// served by `instances` instances sharing one data directory.
    Postgres {
        /// Where to create the database.
        admin_url: String,
        /// How many instances serve it.
        instances: usize,
    },
}

impl Backend {
    /// Every backend the load benchmark measures, one row each: SQLite, and, given a PostgreSQL
    /// server, PostgreSQL with one instance and with two.
    pub(crate) fn all(postgres: Option<&str>) -> Vec<Backend> {
        let mut all = vec![Backend::Sqlite];
        if let Some(admin_url) = postgres {
            for instances in [1, 2] {
                all.push(Backend::Postgres {
                    admin_url: admin_url.to_owned(),
                    instances,
                });
            }
        }
        all
    }

    /// The name in the table.
    pub(crate) fn name(&self) -> String {
        match self {
            Backend::Sqlite => "SQLite".to_owned(),
            Backend::Postgres { instances: 1, .. } => "PostgreSQL, 1 instance".to_owned(),
            Backend::Postgres { instances, .. } => format!("PostgreSQL, {instances} instances"),
        }
    }
}

/// Creates an empty database on the server of `admin_url`; returns its URL.
fn fresh_database(admin_url: &str) -> Result<String> {
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls)
        .context("connecting to the PostgreSQL server")?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .context("creating the benchmark database")?;
    let mut url = reqwest::Url::parse(admin_url).context("the PostgreSQL URL")?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// A running central (one instance or several on one database) with its data directory.
pub(crate) struct Central {
    /// One per instance: its runtime and what runs on it.
    instances: Vec<(tokio::runtime::Runtime, Option<Running>)>,
    data: DataDir,
    dir: tempfile::TempDir,
    /// The ports the instances listen on (127.0.0.1), in order.
    pub(crate) ports: Vec<u16>,
}

impl Central {
    /// Starts a central on `backend`, without demo data, each instance on a runtime of `workers`
    /// threads.
    pub(crate) fn start(backend: &Backend, workers: usize) -> Result<Central> {
        let dir = tempfile::Builder::new()
            .prefix("bench-central-")
            .tempdir()
            .context("a temporary directory")?;
        let mut data = DataDir::new(dir.path().join("data"));
        let count = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres {
                admin_url,
                instances,
            } => {
                data = data.with_database(&fresh_database(admin_url)?)?;
                (*instances).max(1)
            }
        };
        let mut instances = Vec::new();
        let mut ports = Vec::new();
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name(format!("central-{i}"))
                .enable_all()
                .build()
                .context("the central's runtime")?;
            let options = ServeOptions {
                data: data.clone(),
                listen: "127.0.0.1:0".parse().context("an address")?,
                demo: false,
                names: Vec::new(),
            };
            let running = runtime
                .block_on(central::server::start(&options, Arc::new(SystemClock)))
                .context("starting the central service")?;
            ports.push(running.addr.port());
            instances.push((runtime, Some(running)));
        }
        Ok(Central {
            instances,
            data,
            dir,
            ports,
        })
    }

    /// The base URL of the first instance.
    pub(crate) fn url(&self) -> String {
        self.urls().into_iter().next().unwrap_or_default()
    }

    /// The base URLs of every instance.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("https://127.0.0.1:{port}"))
            .collect()
    }

    /// A scratch folder that lives as long as the central.
    pub(crate) fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Enrols a kiosk; returns the folder with `ca.pem`, `kiosk.pem` and `kiosk.key`.
    pub(crate) fn provision(&self, kiosk_id: &str) -> Result<PathBuf> {
        let out = self.dir.path().join(format!("certs-{kiosk_id}"));
        let details = KioskDetails {
            name: format!("{kiosk_id} 基准测试"),
            address: "上海市黄浦区测试路 1 号".into(),
            hours: "周一至周日 00:00-24:00".into(),
        };
        admin::provision_kiosk(&self.data, kiosk_id, &out, details)?;
        Ok(out)
    }

    /// A token for `role`.
    pub(crate) fn token(&self, role: Role) -> Result<String> {
        admin::add_token(&self.data, role, "基准测试", "基准测试单位")
    }

    /// Imports the citizens (one transaction each, as `central import-citizens` does).
    pub(crate) fn import(&self, people: &[Senior]) -> Result<()> {
        let store = self.data.store()?;
        for person in people {
            store.upsert_citizen(&person.citizen)?;
        }
        Ok(())
    }

    /// How many journal events the central holds for `kiosk_id`.
    pub(crate) fn journal_events(&self, kiosk_id: &str) -> Result<u64> {
        let db = rusqlite::Connection::open_with_flags(
            self.data.path().join("central.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let count: i64 = db.query_row(
            "SELECT COUNT(*) FROM journal WHERE kiosk_id = ?1",
            [kiosk_id],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        for (runtime, running) in &mut self.instances {
            if let Some(running) = running.take() {
                let _ = runtime.block_on(running.shutdown());
            }
        }
    }
}

/// A client that pins the central's CA and holds the kiosk certificate in `certs`.
pub(crate) fn kiosk_client(certs: &Path, pool: usize) -> Result<reqwest::Client> {
    let ca = std::fs::read(certs.join("ca.pem"))?;
    let mut identity = std::fs::read(certs.join("kiosk.pem"))?;
    identity.push(b'\n');
    identity.extend(std::fs::read(certs.join("kiosk.key"))?);
    Ok(reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .identity(reqwest::Identity::from_pem(&identity)?)
        .pool_max_idle_per_host(pool)
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// Writes a `kiosk.toml` in `dir` for a kiosk of `central` with its certificates in `certs`;
/// `devices` is the text of the `[devices.*]` sections.
pub(crate) fn write_kiosk_config(
    dir: &Path,
    kiosk_id: &str,
    central: &Central,
    certs: &Path,
    devices: &str,
) -> Result<PathBuf> {
    let text = format!(
        r#"[kiosk]
id = "{kiosk_id}"
data_dir = "data"

[central]
url = "{url}"
ca = "{certs}/ca.pem"
cert = "{certs}/kiosk.pem"
key = "{certs}/kiosk.key"

{devices}
"#,
        url = central.url(),
        certs = certs.display(),
    );
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
