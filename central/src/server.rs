//! The service as a whole: the data directory's layout, opening everything in it, seeding demo
//! data, and running the HTTPS listener until shutdown.
//!
//! Data directory layout (everything a running `serve` and the command line share):
//!
//! ```text
//! central.db          SQLite database (WAL), unless the database is PostgreSQL
//! keys/issuer-N.key   SM2 issuer keys, one per kid (0600)
//! tls/                the service CA and the server certificate (keys 0600)
//! suishen.secret      signs 随申码 tokens (0600)
//! ```
//!
//! The database is SQLite in the data directory by default, or a PostgreSQL database named by
//! a `postgres://` URL ([`DataDir::with_database`]). Several instances of the service share one
//! PostgreSQL database and the rest of the data directory (keys, certificates, secret).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use protocol::IdNumber;
use protocol::api::Action;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::demo::{DemoCode, demo_citizens};
use crate::http::{AppState, eligibility_for, router};
use crate::issuer::{IssuerKeys, sign_new_code};
use crate::model::IssueInput;
use crate::pki::Pki;
use crate::store::Store;
use crate::store::postgres::{PostgresStore, is_postgres_url};
use crate::store::sqlite::SqliteStore;
use crate::tokens::SuishenSecret;

/// Where the database is.
#[derive(Clone, Default, PartialEq, Eq)]
enum Database {
    /// `central.db` in the data directory.
    #[default]
    Sqlite,
    /// The PostgreSQL database this URL names.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite => f.write_str("Sqlite"),
            // The URL may carry a password: only where it points is shown.
            Self::Postgres(url) => {
                let place = url
                    .rsplit_once('@')
                    .map_or(url.as_str(), |(_, place)| place);
                write!(f, "Postgres({place})")
            }
        }
    }
}

/// The files of a data directory, and where the database is.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
    database: Database,
}

impl DataDir {
    /// The data directory at `path` (created on first use), with the SQLite database
    /// `central.db` in it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            database: Database::Sqlite,
        }
    }

    /// The same directory with the PostgreSQL database that `url` (`postgres://...` or
    /// `postgresql://...`) names instead of `central.db`. Any other scheme is an error.
    pub fn with_database(self, url: &str) -> Result<Self> {
        if !is_postgres_url(url) {
            let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
            anyhow::bail!(
                "unsupported database URL scheme {scheme:?}: use postgres://USER@HOST/DB \
                 (or postgresql://...), or no database URL for SQLite in the data directory"
            );
        }
        Ok(Self {
            database: Database::Postgres(url.to_owned()),
            ..self
        })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The backend the database is on: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.database {
            Database::Sqlite => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Creates the directory (mode 0700) if needed.
    pub fn create(&self) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .with_context(|| format!("creating the data directory {}", self.path.display()))
    }

    /// Opens the database (SQLite or PostgreSQL), running migrations.
    pub fn store(&self) -> Result<Arc<dyn Store>> {
        match &self.database {
            Database::Sqlite => {
                self.create()?;
                let store = SqliteStore::open(&self.path.join("central.db"))
                    .context("opening the SQLite database")?;
                Ok(Arc::new(store))
            }
            Database::Postgres(url) => {
                let store = PostgresStore::open(url).context("opening the PostgreSQL database")?;
                Ok(Arc::new(store))
            }
        }
    }

    /// Takes the directory's lock (an exclusive `flock` on `.lock`), waiting for any other
    /// holder, in this process or another; released when the guard is dropped.
    ///
    /// Instances sharing one data directory (several `serve` over one PostgreSQL database, and
    /// the command line beside them) take it while they create or change the keys, the CA and the
    /// 随申码 secret, so that two starting together agree on one of each and two rotations never
    /// pick the same kid.
    pub fn lock(&self) -> Result<DirLock> {
        use std::os::unix::fs::OpenOptionsExt;
        self.create()?;
        let path = self.path.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(DirLock { _file: file })
    }

    /// Loads the issuer keys, creating the first one if there is none.
    pub fn issuer_keys(&self) -> Result<IssuerKeys> {
        let _lock = self.lock()?;
        IssuerKeys::load_or_create(&self.path.join("keys")).context("loading the issuer keys")
    }

    /// Makes a new issuer key the current one (under the directory's lock, so that rotations
    /// from several hosts sharing the directory each get their own kid); returns its kid.
    /// Running instances pick it up at their next signing (`IssuerKeys::refresh`).
    pub fn rotate_issuer_key(&self) -> Result<protocol::keys::Kid> {
        let _lock = self.lock()?;
        let mut keys = IssuerKeys::load_or_create(&self.path.join("keys"))
            .context("loading the issuer keys")?;
        keys.rotate().context("rotating the issuer key")
    }

    /// Loads the CA and server certificate, creating them if needed.
    pub fn pki(&self, extra_names: &[String]) -> Result<Pki> {
        let _lock = self.lock()?;
        Pki::load_or_create(&self.path.join("tls"), extra_names).context("loading the service CA")
    }

    /// Loads only the CA (creating it if needed), leaving the server certificate of a running
    /// `serve` alone: for enrolling kiosks.
    pub fn ca(&self) -> Result<Pki> {
        let _lock = self.lock()?;
        Pki::load_or_create_ca(&self.path.join("tls")).context("loading the service CA")
    }

    /// Loads the 随申码 token secret, creating it if needed.
    pub fn suishen_secret(&self) -> Result<SuishenSecret> {
        let _lock = self.lock()?;
        SuishenSecret::load_or_create(&self.path.join("suishen.secret"))
            .context("loading the 随申码 token secret")
    }
}

/// The data directory's lock, held while this value lives ([`DataDir::lock`]).
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

/// How to run the service.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data directory.
    pub data: DataDir,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Seed fictional demo citizens.
    pub demo: bool,
    /// Extra host names for the server certificate.
    pub names: Vec<String>,
}

/// A running service.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The PEM of the CA that signed its server certificate (what clients pin).
    pub ca_pem: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// Deletes venue entries past their retention, periodically.
    cleanup: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits for the listener to end.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.cleanup.abort();
        self.task
            .await
            .context("the listener task failed")?
            .context("the listener failed")
    }
}

/// Opens the data directory, seeds demo data if asked, binds the listener and starts serving in
/// the background, with the clean-up of old venue entries
/// ([`crate::venues::cleanup_loop`]) beside it.
pub async fn start(options: &ServeOptions, clock: Arc<dyn Clock>) -> Result<Running> {
    // Storage and files are blocking work (the PostgreSQL client may not run on an async
    // thread at all): open everything on a blocking thread.
    let (store, keys, pki, suishen) = {
        let (options, clock) = (options.clone(), Arc::clone(&clock));
        tokio::task::spawn_blocking(move || open_all(&options, clock.as_ref()))
            .await
            .context("the start-up task failed")??
    };
    let for_cleanup = (Arc::clone(&store), Arc::clone(&clock));
    let state = AppState {
        store,
        keys: Arc::new(Mutex::new(keys)),
        clock,
        suishen,
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("listening on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let config = pki
        .server_config()
        .context("building the TLS configuration")?;
    let cleanup = tokio::spawn(crate::venues::cleanup_loop(for_cleanup.0, for_cleanup.1));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(crate::tls::serve(
        listener,
        config,
        router(state),
        async move {
            let _ = stopped.await;
        },
    ));
    tracing::info!(%addr, "central service listening (HTTPS)");
    Ok(Running {
        addr,
        ca_pem: pki.ca_pem().to_owned(),
        stop: Some(stop),
        task,
        cleanup,
    })
}

/// Opens the store, the keys, the certificates and the token secret of the data directory, and
/// seeds the demo data if asked.
fn open_all(
    options: &ServeOptions,
    clock: &dyn Clock,
) -> Result<(Arc<dyn Store>, IssuerKeys, Pki, SuishenSecret)> {
    let data = &options.data;
    let store = data.store()?;
    let keys = data.issuer_keys()?;
    let pki = data.pki(&options.names)?;
    let suishen = data.suishen_secret()?;
    if options.demo {
        seed_demo(store.as_ref(), &keys, clock).context("seeding the demo data")?;
        // Demo only: a fresh verifier token each start, so the verifier page can be tried at once.
        let token =
            crate::admin::add_token(data, crate::model::Role::Verifier, "演示核验员", "演示单位")?;
        tracing::info!(token = %token, "demo verifier token");
    }
    Ok((store, keys, pki, suishen))
}

/// Runs the service until `shutdown` completes.
pub async fn run(
    options: &ServeOptions,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let running = start(options, clock).await?;
    shutdown.await;
    tracing::info!("shutting down");
    running.shutdown().await
}

/// Seeds the fictional demo citizens and the codes their journeys need. Idempotent: a citizen
/// who already has a code is left alone.
pub fn seed_demo(store: &dyn Store, keys: &IssuerKeys, clock: &dyn Clock) -> Result<()> {
    let signer = keys.current().context("no issuer key")?.clone();
    let today = clock.today();
    let now = clock.now();
    for demo in demo_citizens() {
        let id = store.upsert_citizen(&demo.citizen)?;
        if demo.code == DemoCode::None || store.current_code(id)?.is_some() {
            continue;
        }
        let citizen = store.citizen(id)?.context("a seeded citizen vanished")?;
        let input = IssueInput {
            request_id: protocol::api::RequestId::new(uuid::Uuid::new_v4()),
            citizen: id,
            action: Action::Apply,
            kiosk_id: "DEMO".to_owned(),
            shown_code: None,
            today,
            now,
        };
        let eligibility = eligibility_for(&citizen, today);
        store
            .issue(&input, &eligibility, &mut |serial| {
                sign_new_code(&signer, serial, today)
            })
            .map_err(|e| anyhow::anyhow!("issuing a demo code: {e}"))?;
        if demo.code == DemoCode::Lost {
            store.report_lost(id, now)?;
        }
    }
    seed_demo_staff(store)
}

/// Enrols the demo hall staff member unless the kiosk config already has them.
fn seed_demo_staff(store: &dyn Store) -> Result<()> {
    use crate::demo::{DEMO_STAFF_ID_NUMBER, DEMO_STAFF_NAME, DEMO_STAFF_PIN};
    let id_number = IdNumber::parse(DEMO_STAFF_ID_NUMBER)
        .map_err(|e| anyhow::anyhow!("the demo staff number: {e}"))?;
    let mut config = store.kiosk_config()?;
    if config.staff.iter().any(|e| e.matches_id_number(&id_number)) {
        return Ok(());
    }
    let mut salt = [0u8; protocol::api::STAFF_SALT_LEN];
    let mut pin_salt = [0u8; protocol::api::STAFF_SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    getrandom::fill(&mut pin_salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let entry =
        protocol::api::StaffEntry::new(&id_number, DEMO_STAFF_NAME, DEMO_STAFF_PIN, salt, pin_salt)
            .map_err(|e| anyhow::anyhow!("the demo staff entry: {e}"))?;
    config.staff.push(entry);
    store.set_kiosk_config(&config)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_sqlite_unless_a_postgres_url_is_given() {
        let data = DataDir::new("/srv/central");
        assert_eq!(data.backend(), "sqlite");
        let shared = data
            .clone()
            .with_database("postgresql://central:s3cret@db.internal:5432/central")
            .unwrap();
        assert_eq!(shared.backend(), "postgres");
        assert_eq!(shared.path(), data.path());
        let shown = format!("{shared:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal:5432/central"), "{shown}");
        let refused = DataDir::new("/srv/central")
            .with_database("mysql://central@db.internal/central")
            .unwrap_err();
        assert!(refused.to_string().contains("\"mysql\""), "{refused}");
    }
}
