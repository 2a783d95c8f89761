//! Shared by the central's integration tests: a real service on 127.0.0.1:0 over HTTPS with a
//! temporary data directory and a clock the test moves, enrolled kiosks with client certificates,
//! and token holders made through the same functions the command line uses. The database is
//! the backend under test ([`backend`]: SQLite, or a fresh PostgreSQL database).

#![allow(dead_code, unreachable_pub)]

pub mod backend;
pub mod issuing;

use std::path::PathBuf;
use std::sync::Arc;

use backend::{TestData, off_runtime};
use std::time::Duration;

use central::admin::{self, KioskDetails};
use central::clock::ManualClock;
use central::model::{NewCitizen, Role, StoredPhoto};
use central::server::{DataDir, Running, ServeOptions};
use central::store::Store;
use protocol::IdNumber;
use protocol::api::Color;
use serde_json::Value;
use time::macros::datetime;

/// A running service and what a test needs to talk to it.
pub struct Service {
    pub running: Option<Running>,
    pub data: DataDir,
    /// The data directory's database (kept for the test's length).
    pub test_data: TestData,
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub base: String,
    pub ca_pem: String,
}

/// A fixed start for the test clock: 2026-11-21 10:00 in Shanghai.
pub fn start_clock() -> ManualClock {
    ManualClock::new(datetime!(2026-11-21 10:00 +8))
}

impl Service {
    /// Starts a service on a fresh data directory, on the backend under test.
    pub async fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let test_data = backend::data_dir(dir.path().join("data"));
        Self::start_on(dir, test_data).await
    }

    /// Starts a service on `test_data` (a data directory inside `dir`).
    pub async fn start_on(dir: tempfile::TempDir, test_data: TestData) -> Service {
        let data = test_data.data.clone();
        let clock = start_clock();
        let options = ServeOptions {
            data: data.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            demo: false,
            names: Vec::new(),
        };
        let running = central::server::start(&options, Arc::new(clock.clone()))
            .await
            .unwrap();
        let base = format!("https://localhost:{}", running.addr.port());
        let ca_pem = running.ca_pem.clone();
        Service {
            running: Some(running),
            data,
            test_data,
            dir,
            clock,
            base,
            ca_pem,
        }
    }

    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Enrols a kiosk and returns a client holding its certificate.
    pub fn kiosk(&self, kiosk_id: &str) -> reqwest::Client {
        let out = self.dir.path().join(format!("kiosk-{kiosk_id}"));
        let details = KioskDetails {
            name: format!("{kiosk_id} 服务大厅"),
            address: "上海市黄浦区示例路 1 号".into(),
            hours: "周一至周日 9:00-17:00".into(),
        };
        off_runtime(|| admin::provision_kiosk(&self.data, kiosk_id, &out, details)).unwrap();
        let cert = std::fs::read_to_string(out.join("kiosk.pem")).unwrap();
        let key = std::fs::read_to_string(out.join("kiosk.key")).unwrap();
        let ca = std::fs::read_to_string(out.join("ca.pem")).unwrap();
        assert_eq!(
            ca, self.ca_pem,
            "the kiosk pins the CA that signed the server certificate"
        );
        client(&ca, Some(&format!("{cert}{key}")))
    }

    /// A client without a client certificate.
    pub fn anonymous(&self) -> reqwest::Client {
        client(&self.ca_pem, None)
    }

    /// Adds a token holder; returns the token.
    pub fn token(&self, role: Role, name: &str) -> String {
        off_runtime(|| admin::add_token(&self.data, role, name, "示例单位")).unwrap()
    }

    /// The service's storage (the same database the service uses). Blocking: async tests call
    /// it through [`off_runtime`] (or [`Service::with_store`]).
    pub fn store(&self) -> Arc<dyn Store> {
        off_runtime(|| self.data.store().unwrap())
    }

    /// Runs `f` on the service's storage, on a thread of its own.
    pub fn with_store<T: Send>(&self, f: impl FnOnce(&dyn Store) -> T + Send) -> T {
        off_runtime(|| f(self.data.store().unwrap().as_ref()))
    }

    /// Adds a citizen.
    pub fn citizen(&self, id_number: &str, name: &str, photo: bool, color: Color, verified: bool) {
        let citizen = NewCitizen {
            id_number: IdNumber::parse(id_number).unwrap(),
            name: name.into(),
            photo: photo.then(|| StoredPhoto {
                mime: "image/png".into(),
                bytes: central::demo::avatar_png(7, 102, 126),
            }),
            color,
            realname_verified: verified,
        };
        self.with_store(|store| store.upsert_citizen(&citizen).unwrap());
    }

    /// Path of the data directory.
    pub fn data_path(&self) -> PathBuf {
        self.data.path().to_owned()
    }
}

/// A client that trusts only `ca_pem`, optionally with a client identity (cert + key PEM).
pub fn client(ca_pem: &str, identity: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .timeout(Duration::from_secs(20));
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// POSTs JSON and returns (status, body as JSON).
pub async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let response = client.post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// POSTs JSON with a bearer token.
pub async fn post_bearer(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// GETs and returns (status, body as JSON).
pub async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Fictional people used across tests (valid check characters, Shanghai region codes).
pub mod people {
    /// Born 1950-03-15, eligible.
    pub const SENIOR: (&str, &str) = ("310101195003150029", "王秀英");
    /// Born 1948-01-01, eligible.
    pub const SENIOR_2: (&str, &str) = ("310105194801010056", "张建国");
    /// Born 1944-02-29, eligible.
    pub const LEAP_DAY: (&str, &str) = ("310115194402290049", "赵桂兰");
    /// Born 1952-08-17; no photo in the library.
    pub const NO_PHOTO: (&str, &str) = ("31011519520817003X", "陈志强");
    /// Born 1990-06-01, under 60.
    pub const YOUNG: (&str, &str) = ("310104199006010010", "李明");
}
