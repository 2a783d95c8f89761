#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]
//! Two central instances on one PostgreSQL database, each in its own process, sharing one data
//! directory (keys, CA, 随申码 secret), with kiosks (the kiosk's own client, configured with both
//! URLs) spread over both:
//!
//! - concurrent reissues for one person through both instances end with one new code, one clean
//!   409 and exactly one active code;
//! - one request id sent to both instances at once gets one code;
//! - one instance killed (SIGKILL) in the middle of a load: the kiosks carry on with the other,
//!   and no issued code and no journal event is lost.
//!
//! The instances are this test binary run again as `central_instance` (see there), so that one
//! can be killed like a crashed server. The database comes from `CENTRAL_TEST_POSTGRES` (an
//! administrator URL of a throwaway cluster; `scripts/test` starts one); without it the test
//! says so and passes, except under CI, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use central::admin::{self, KioskDetails};
use central::model::{CodeStatus, NewCitizen, StoredPhoto};
use central::server::DataDir;
use central::store::Store;
use kiosk::client::{CallError, CentralClient, ClientSettings};
use protocol::IdNumber;
use protocol::api::{
    Action, CardKind, CardSex, Color, ErrorCode, IdCardFields, IdentifyRequest, IssueRequest,
    IssuedCode, JournalBatch, JournalEvent, JournalKind, RequestId,
};
use protocol::idnumber::check_character;
use time::OffsetDateTime;
use uuid::Uuid;

/// The environment variables the instance process reads.
const INSTANCE_DATA: &str = "CENTRAL_INSTANCE_DATA";
const INSTANCE_DATABASE: &str = "CENTRAL_INSTANCE_DATABASE";
const INSTANCE_PORT_FILE: &str = "CENTRAL_INSTANCE_PORT_FILE";

/// Kiosks in the load, and the people each serves.
const KIOSKS: usize = 4;
const PEOPLE_PER_KIOSK: usize = 12;
/// Sessions completed (over all kiosks) when instance A is killed.
const KILL_AFTER: usize = 10;

/// One central instance: run by [`two_instances_on_one_database`] in a process of its own, with
/// the data directory, the database and a file to write its port to in the environment. Serves
/// until killed.
#[test]
#[ignore = "a central instance, started in its own process by two_instances_on_one_database"]
fn central_instance() {
    let data = std::env::var(INSTANCE_DATA).expect("the data directory");
    let database = std::env::var(INSTANCE_DATABASE).expect("the database URL");
    let port_file = std::env::var(INSTANCE_PORT_FILE).expect("the port file");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = central::server::ServeOptions {
            data: DataDir::new(data).with_database(&database).unwrap(),
            listen: "127.0.0.1:0".parse().unwrap(),
            demo: false,
            names: Vec::new(),
        };
        let running = central::server::start(&options, Arc::new(central::clock::SystemClock))
            .await
            .unwrap();
        let tmp = format!("{port_file}.tmp");
        std::fs::write(&tmp, running.addr.port().to_string()).unwrap();
        std::fs::rename(&tmp, &port_file).unwrap();
        std::future::pending::<()>().await;
    });
}

/// A central instance process.
struct Instance {
    child: Child,
    url: String,
}

impl Instance {
    fn start(dir: &Path, name: &str, data: &Path, database: &str) -> Instance {
        let port_file = dir.join(format!("{name}.port"));
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "central_instance", "--ignored", "--nocapture"])
            .env(INSTANCE_DATA, data)
            .env(INSTANCE_DATABASE, database)
            .env(INSTANCE_PORT_FILE, &port_file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break text.trim().parse::<u16>().unwrap();
            }
            assert!(Instant::now() < deadline, "instance {name} did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Instance {
            child,
            url: format!("https://localhost:{port}"),
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or a pulled plug would.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database in the test cluster; `None` when no cluster is configured.
fn fresh_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("CENTRAL_TEST_POSTGRES") else {
        assert!(
            std::env::var("CI").is_err(),
            "CENTRAL_TEST_POSTGRES is not set: scripts/test starts a PostgreSQL cluster for this test"
        );
        eprintln!("skipped: set CENTRAL_TEST_POSTGRES (scripts/test does) to run this test");
        return None;
    };
    let name = format!("instances_{}", Uuid::new_v4().simple());
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut url = reqwest::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A fictional eligible person: born in 1950, Shanghai region code, sequence `seq`.
fn person(seq: usize) -> (String, String) {
    let first17 = format!("31010119500101{:03}", seq % 1000);
    let id = format!("{first17}{}", check_character(&first17).unwrap());
    (id, format!("测试{seq}"))
}

fn add_citizen(store: &dyn Store, (id, name): &(String, String)) {
    store
        .upsert_citizen(&NewCitizen {
            id_number: IdNumber::parse(id).unwrap(),
            name: name.clone(),
            photo: Some(StoredPhoto {
                mime: "image/png".into(),
                bytes: central::demo::avatar_png(7, 102, 126),
            }),
            color: Color::Green,
            realname_verified: true,
        })
        .unwrap();
}

/// Enrols a kiosk (in the shared data directory and database) and returns its client settings
/// for these URLs, in this order.
fn kiosk(data: &DataDir, dir: &Path, kiosk_id: &str, urls: &[&str]) -> ClientSettings {
    let out = dir.join(format!("kiosk-{kiosk_id}"));
    if !out.join("kiosk.pem").exists() {
        let details = KioskDetails {
            name: format!("{kiosk_id} 服务大厅"),
            address: "上海市黄浦区示例路 1 号".into(),
            hours: "周一至周日 9:00-17:00".into(),
        };
        admin::provision_kiosk(data, kiosk_id, &out, details).unwrap();
    }
    let mut settings = ClientSettings::from_files(
        urls.iter().map(|u| (*u).to_owned()).collect(),
        &out.join("ca.pem"),
        &out.join("kiosk.pem"),
        &out.join("kiosk.key"),
    )
    .unwrap();
    settings.connect_timeout = Duration::from_secs(2);
    settings.request_timeout = Duration::from_secs(10);
    settings
}

/// Identifies the person by ID card, going round until a central answers (identify is not
/// retried by the client once sent: a kiosk's resident would press 重试).
async fn identify(
    client: &CentralClient,
    who: &(String, String),
) -> protocol::api::IdentifyResponse {
    let id_number = IdNumber::parse(&who.0).unwrap();
    let request = IdentifyRequest::IdCard(IdCardFields {
        kind: CardKind::Resident,
        name: who.1.clone(),
        birth_date: id_number.birth_date(),
        id_number,
        sex: CardSex::Female,
        valid_from: time::macros::date!(2020 - 01 - 01),
        valid_until: None,
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match client.identify(&request).await {
            Ok(answer) => return answer,
            Err(CallError::Unreachable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("identify failed: {e:?}"),
        }
    }
}

/// Issues, trying again with the same request id while no central answers (as the kiosk's
/// 重试 does).
async fn issue(client: &CentralClient, request: &IssueRequest) -> IssuedCode {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match client.issue(request).await {
            Ok(code) => return code,
            Err(CallError::Unreachable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("issue failed: {e:?}"),
        }
    }
}

/// Uploads a batch until a central acknowledges it (as the kiosk's sync loop does).
async fn upload(client: &CentralClient, batch: &JournalBatch) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match client.journal(batch).await {
            Ok(_) => return,
            Err(CallError::Unreachable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("journal upload failed: {e:?}"),
        }
    }
}

fn event(kind: JournalKind, request_id: RequestId) -> JournalEvent {
    JournalEvent {
        id: Uuid::new_v4(),
        at: OffsetDateTime::now_utc(),
        kind,
        detail: BTreeMap::from([("request_id".to_owned(), request_id.to_string())]),
    }
}

/// What one kiosk did in the load.
#[derive(Default)]
struct Served {
    /// request id -> the code the kiosk was given.
    codes: Vec<(RequestId, IssuedCode)>,
    /// Journal events acknowledged by a central.
    events: usize,
}

#[test]
fn two_instances_on_one_database() {
    let Some(database) = fresh_database() else {
        return;
    };
    // The client calls run on this runtime; the store (blocking, like the service's own
    // spawn_blocking calls) is used from this thread, outside it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data_path: PathBuf = dir.path().join("data");
    let data = DataDir::new(&data_path).with_database(&database).unwrap();
    let store = data.store().unwrap();

    let mut a = Instance::start(dir.path(), "a", &data_path, &database);
    let b = Instance::start(dir.path(), "b", &data_path, &database);
    let (url_a, url_b) = (a.url.clone(), b.url.clone());

    // --- Concurrent reissues for one person, one through each instance. ---
    let x = person(900);
    add_citizen(store.as_ref(), &x);
    let at_a = CentralClient::new(kiosk(&data, dir.path(), "K901", &[&url_a])).unwrap();
    let at_b = CentralClient::new(kiosk(&data, dir.path(), "K902", &[&url_b])).unwrap();
    let (first_code, got_a, got_b) = rt.block_on(async {
        let first = identify(&at_a, &x).await;
        let first_code = issue(
            &at_a,
            &IssueRequest {
                session: first.session,
                action: Action::Apply,
                request_id: RequestId::new(Uuid::new_v4()),
            },
        )
        .await;
        let (who_a, who_b) = tokio::join!(identify(&at_a, &x), identify(&at_b, &x));
        let reissue = |session| IssueRequest {
            session,
            action: Action::Reissue,
            request_id: RequestId::new(Uuid::new_v4()),
        };
        let (ra, rb) = (reissue(who_a.session), reissue(who_b.session));
        let (got_a, got_b) = tokio::join!(at_a.issue(&ra), at_b.issue(&rb));
        (first_code, got_a, got_b)
    });
    let (winner, loser) = match (got_a, got_b) {
        (Ok(code), Err(refusal)) | (Err(refusal), Ok(code)) => (code, refusal),
        other => panic!("expected one new code and one refusal, got {other:?}"),
    };
    match loser {
        CallError::Refused(body) => assert_eq!(body.error, ErrorCode::ConflictCodeChanged),
        other => panic!("expected a 409, got {other:?}"),
    }
    let x_id = store
        .citizen_by_id_number(&IdNumber::parse(&x.0).unwrap())
        .unwrap()
        .unwrap()
        .id;
    let current = store.current_code(x_id).unwrap().unwrap();
    assert_eq!(current.code_id, winner.code_id);
    assert_eq!(current.status, CodeStatus::Active);
    assert_eq!(store.max_serial(x_id).unwrap(), 2, "one new code, not two");
    assert_eq!(
        store.code(&first_code.code_id).unwrap().unwrap().status,
        CodeStatus::Superseded
    );

    // --- One request id sent to both instances at the same moment: one code. ---
    let y = person(901);
    add_citizen(store.as_ref(), &y);
    let k903_a = CentralClient::new(kiosk(&data, dir.path(), "K903", &[&url_a])).unwrap();
    let k903_b = CentralClient::new(kiosk(&data, dir.path(), "K903", &[&url_b])).unwrap();
    let (via_a, via_b) = rt.block_on(async {
        let who = identify(&k903_a, &y).await;
        let request = IssueRequest {
            session: who.session,
            action: Action::Apply,
            request_id: RequestId::new(Uuid::new_v4()),
        };
        tokio::join!(k903_a.issue(&request), k903_b.issue(&request))
    });
    let (via_a, via_b) = (via_a.unwrap(), via_b.unwrap());
    assert_eq!(
        via_a, via_b,
        "the same request id gets the same code from both"
    );
    let y_id = store
        .citizen_by_id_number(&IdNumber::parse(&y.0).unwrap())
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(store.max_serial(y_id).unwrap(), 1);

    // --- A load over both instances; instance A is killed in the middle of it. ---
    let people: Vec<Vec<(String, String)>> = (0..KIOSKS)
        .map(|k| {
            (0..PEOPLE_PER_KIOSK)
                .map(|i| person(k * PEOPLE_PER_KIOSK + i))
                .collect()
        })
        .collect();
    for who in people.iter().flatten() {
        add_citizen(store.as_ref(), who);
    }
    let clients: Vec<(String, CentralClient)> = (0..KIOSKS)
        .map(|k| {
            let kiosk_id = format!("K{:03}", k + 1);
            // Spread: half the kiosks prefer A, half B.
            let urls: [&str; 2] = if k % 2 == 0 {
                [&url_a, &url_b]
            } else {
                [&url_b, &url_a]
            };
            let client = CentralClient::new(kiosk(&data, dir.path(), &kiosk_id, &urls)).unwrap();
            (kiosk_id, client)
        })
        .collect();
    let done = Arc::new(AtomicUsize::new(0));
    let started = OffsetDateTime::now_utc();
    let mut tasks = Vec::new();
    for ((kiosk_id, client), people) in clients.into_iter().zip(people.clone()) {
        let done = Arc::clone(&done);
        tasks.push(rt.spawn(async move {
            let mut served = Served::default();
            for who in &people {
                let identified = identify(&client, who).await;
                let request = IssueRequest {
                    session: identified.session,
                    action: Action::Apply,
                    request_id: RequestId::new(Uuid::new_v4()),
                };
                let code = issue(&client, &request).await;
                let batch = JournalBatch {
                    events: vec![
                        event(JournalKind::CodeIssued, request.request_id),
                        event(JournalKind::Printed, request.request_id),
                    ],
                };
                upload(&client, &batch).await;
                served.events += batch.events.len();
                served.codes.push((request.request_id, code));
                done.fetch_add(1, Ordering::SeqCst);
            }
            (kiosk_id, served)
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "the load did not get going");
        std::thread::sleep(Duration::from_millis(5));
    }
    a.kill();
    let killed_at = done.load(Ordering::SeqCst);
    let results: Vec<(String, Served)> = rt.block_on(async {
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    let until = OffsetDateTime::now_utc() + Duration::from_secs(60);
    assert!(
        killed_at < KIOSKS * PEOPLE_PER_KIOSK,
        "instance A was killed before the load ended"
    );
    // B still answers for a load balancer.
    let health = rt.block_on(async {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(
                std::fs::read(dir.path().join("kiosk-K001/ca.pem"))
                    .unwrap()
                    .as_slice(),
            )
            .unwrap()])
            .build()
            .unwrap()
            .get(format!("{url_b}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(health.as_u16(), 200);

    // Every code a kiosk was given is stored, active, under its request id; one per person.
    let mut seen = BTreeSet::new();
    for (kiosk_id, served) in &results {
        assert_eq!(served.codes.len(), PEOPLE_PER_KIOSK, "{kiosk_id}");
        for (request_id, code) in &served.codes {
            let stored = store.code_by_request_id(request_id).unwrap();
            let stored = stored.unwrap_or_else(|| panic!("{kiosk_id}: a code was lost"));
            assert_eq!(stored.code_id, code.code_id);
            assert_eq!(stored.qr_text, code.qr_text);
            assert_eq!(stored.status, CodeStatus::Active);
            assert_eq!(
                stored.serial, 1,
                "one code per person, however often retried"
            );
            assert!(seen.insert(stored.citizen), "two codes for one person");
        }
    }
    // Every journal event acknowledged is stored, once.
    for kind in [JournalKind::CodeIssued, JournalKind::Printed] {
        let counts = store.journal_counts(kind, started, until).unwrap();
        for (kiosk_id, served) in &results {
            assert_eq!(
                counts.get(kiosk_id).copied(),
                Some(u64::try_from(served.events / 2).unwrap()),
                "{kiosk_id} {kind:?}"
            );
        }
    }
    drop(b);
}
