//! Shared by the client and sync tests: a real central service started in-process on
//! 127.0.0.1 over HTTPS (stoppable and restartable on the same port and data directory), an
//! enrolled kiosk's client settings, citizens, and a look into the central's database.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use central::admin::{self, KioskDetails};
use central::clock::ManualClock;
use central::model::{CodeRecord, NewCitizen, StoredPhoto};
use central::server::{DataDir, Running, ServeOptions};
use central::store::Store;
use kiosk::client::{CentralClient, ClientSettings};
use kiosk::journal::Journal;
use protocol::IdNumber;
use protocol::api::{CodeId, Color, IdentifyRequest, IdentifyResponse};
use time::OffsetDateTime;

/// Fictional people (valid check characters, Shanghai region codes), all eligible.
pub mod people {
    /// Born 1950-03-15.
    pub const SENIOR: (&str, &str) = ("310101195003150029", "王秀英");
    /// Born 1948-01-01.
    pub const SENIOR_2: (&str, &str) = ("310105194801010056", "张建国");
    /// Born 1944-02-29.
    pub const LEAP_DAY: (&str, &str) = ("310115194402290049", "赵桂兰");
}

/// How long a test waits for something that should happen soon. Generous: only a hung test
/// runs into it.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A central service on a temporary data directory.
pub struct Central {
    running: Option<Running>,
    /// The temporary directory (data and kiosk files).
    pub dir: tempfile::TempDir,
    /// The data directory.
    pub data: DataDir,
    /// The service's clock (standing at the time of start).
    pub clock: ManualClock,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA a kiosk pins.
    pub ca_pem: String,
}

impl Central {
    /// Starts a service on a fresh data directory and a free port.
    pub async fn start() -> Central {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        let clock = ManualClock::new(OffsetDateTime::now_utc());
        let running = Self::serve(&data, &clock, "127.0.0.1:0".parse().unwrap()).await;
        let addr = running.addr;
        let ca_pem = running.ca_pem.clone();
        Central {
            running: Some(running),
            dir,
            data,
            clock,
            addr,
            ca_pem,
        }
    }

    async fn serve(data: &DataDir, clock: &ManualClock, listen: SocketAddr) -> Running {
        let options = ServeOptions {
            data: data.clone(),
            listen,
            demo: false,
            names: Vec::new(),
        };
        central::server::start(&options, Arc::new(clock.clone()))
            .await
            .unwrap()
    }

    /// Stops the service (the listener closes; the data stays).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
    }

    /// Starts the service again on the same port and data directory.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop it first");
        let running = Self::serve(&self.data, &self.clock, self.addr).await;
        assert_eq!(running.addr, self.addr);
        assert_eq!(running.ca_pem, self.ca_pem, "same data, same CA");
        self.running = Some(running);
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// Enrols a kiosk; returns its client settings (this service's URL, no retries, short
    /// connect timeout).
    pub fn kiosk(&self, kiosk_id: &str) -> ClientSettings {
        let out = self.dir.path().join(format!("kiosk-{kiosk_id}"));
        let details = KioskDetails {
            name: format!("{kiosk_id} 服务大厅"),
            address: "上海市黄浦区示例路 1 号".into(),
            hours: "周一至周日 9:00-17:00".into(),
        };
        admin::provision_kiosk(&self.data, kiosk_id, &out, details).unwrap();
        let mut settings = ClientSettings::from_files(
            vec![self.url()],
            &out.join("ca.pem"),
            &out.join("kiosk.pem"),
            &out.join("kiosk.key"),
        )
        .unwrap();
        assert_eq!(settings.ca_pem, self.ca_pem);
        settings.retries = 0;
        settings.connect_timeout = Duration::from_secs(3);
        settings.request_timeout = Duration::from_secs(20);
        settings
    }

    /// Enrols a kiosk and builds its client.
    pub fn client(&self, kiosk_id: &str) -> CentralClient {
        CentralClient::new(self.kiosk(kiosk_id)).unwrap()
    }

    /// The service's storage (the same database file).
    pub fn store(&self) -> Arc<dyn Store> {
        self.data.store().unwrap()
    }

    /// Adds an eligible citizen (photo, real-name verified).
    pub fn citizen(&self, person: (&str, &str)) {
        let citizen = NewCitizen {
            id_number: IdNumber::parse(person.0).unwrap(),
            name: person.1.into(),
            photo: Some(StoredPhoto {
                mime: "image/png".into(),
                bytes: central::demo::avatar_png(7, 102, 126),
            }),
            color: Color::Green,
            realname_verified: true,
        };
        self.store().upsert_citizen(&citizen).unwrap();
    }

    /// A current 随申码 token for the person, as their phone would show it.
    pub fn suishen(&self, person: (&str, &str)) -> IdentifyRequest {
        use central::clock::Clock;
        let token = admin::suishen_code(&self.data, person.0, self.clock.now()).unwrap();
        IdentifyRequest::SuishenCode(token)
    }

    /// Adds the person and identifies them through `client`.
    pub async fn identify(&self, client: &CentralClient, person: (&str, &str)) -> IdentifyResponse {
        self.citizen(person);
        client.identify(&self.suishen(person)).await.unwrap()
    }

    /// A code as the central stores it.
    pub fn code(&self, code_id: &CodeId) -> CodeRecord {
        self.store().code(code_id).unwrap().unwrap()
    }

    /// (rows, distinct event ids) in the central's journal table for the kiosk.
    pub fn journal_rows(&self, kiosk_id: &str) -> (i64, i64) {
        let db = rusqlite::Connection::open_with_flags(
            self.data.path().join("central.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        db.query_row(
            "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM journal WHERE kiosk_id = ?1",
            [kiosk_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    }

    /// Whether the central holds each of these event ids for the kiosk.
    pub fn has_events(&self, kiosk_id: &str, ids: &[uuid::Uuid]) -> bool {
        let db = rusqlite::Connection::open_with_flags(
            self.data.path().join("central.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        ids.iter().all(|id| {
            db.query_row(
                "SELECT COUNT(*) FROM journal WHERE kiosk_id = ?1 AND event_id = ?2",
                [kiosk_id, &id.hyphenated().to_string()],
                |row| row.get::<_, i64>(0),
            )
            .unwrap()
                == 1
        })
    }

    /// Path of the data directory.
    pub fn data_path(&self) -> PathBuf {
        self.data.path().to_owned()
    }
}

/// A fresh kiosk journal in its own temporary directory.
pub fn journal() -> (tempfile::TempDir, Arc<Journal>) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    (dir, Arc::new(journal))
}

/// A URL on which nothing listens (a port bound and released).
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://localhost:{port}")
}

/// Waits (polling) until `check` holds; panics with `what` after [`DEADLINE`].
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
