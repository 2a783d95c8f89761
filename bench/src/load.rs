//! The central under concurrent load from a load generator in this process, over loopback HTTPS
//! (HTTP/1.1 keep-alive, the kiosk's client certificate for kiosk routes, a verifier token for
//! verification), for each storage [`Backend`]. With several instances, client `i` talks to
//! instance `i mod n` (its identify and its issue both), as kiosks spread over a load balancer.
//!
//! Two phases, each for a fixed time with a fixed number of concurrent clients:
//! - **issuance**: each client loops over its own share of the citizens: `identify` with the
//!   card, then `codes` with the action offered (申领 the first time, 补领 after), as a kiosk
//!   does; both calls are timed separately;
//! - **verification**: each client posts the QR texts issued in the first phase to `verify`
//!   (valid or superseded; every verification is logged, so it writes too).
//!
//! The generator and the service share the machine's cores: on 2 cores the numbers are a floor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use central::model::Role;
use protocol::api::{
    IdentifyRequest, IdentifyResponse, IssueRequest, IssuedCode, RequestId, VerifyRequest, routes,
};

use crate::fixture::{Backend, Central, kiosk_client};
use crate::people::{self, Senior};
use crate::report::{Percentiles, Table, ms, progress};

/// How to load the central.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadSettings {
    /// Concurrent clients.
    pub(crate) concurrency: usize,
    /// How long each phase lasts.
    pub(crate) phase: Duration,
    /// Citizens the issuance phase cycles over.
    pub(crate) citizens: usize,
}

/// Runs every backend's phases: SQLite, and PostgreSQL with one and two instances when
/// `postgres` (an administrator's URL of a server to create databases on) is given.
pub(crate) fn run(settings: LoadSettings, postgres: Option<&str>) -> Result<Vec<OpResult>> {
    let mut results = Vec::new();
    for backend in Backend::all(postgres) {
        results.extend(run_backend(&backend, settings)?);
    }
    Ok(results)
}

/// What one operation measured.
#[derive(Debug, Clone)]
pub(crate) struct OpResult {
    /// The backend.
    pub(crate) backend: Backend,
    /// The operation's name.
    pub(crate) name: &'static str,
    /// Latencies of the successful calls.
    pub(crate) latencies: Vec<Duration>,
    /// Calls that did not answer 200.
    pub(crate) errors: u64,
    /// How long the phase ran.
    pub(crate) elapsed: Duration,
}

fn run_backend(backend: &Backend, settings: LoadSettings) -> Result<Vec<OpResult>> {
    // The central gets the same 2 workers as the kiosk-side generator.
    let central = Central::start(backend, 2)?;
    progress(&format!(
        "load ({}): importing {} citizens",
        backend.name(),
        settings.citizens
    ));
    // Seniors far from the session benchmark's, so that nothing is shared by accident.
    let seniors: Vec<Senior> = (0..settings.citizens)
        .map(|i| people::senior(100_000 + i))
        .collect::<Result<_>>()?;
    central.import(&seniors)?;
    let certs = central.provision("K-LOAD")?;
    let verifier = central.token(Role::Verifier)?;
    let bases = central.urls();
    let client = kiosk_client(&certs, settings.concurrency)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()?;
    let seniors = Arc::new(seniors);
    runtime.block_on(async move {
        progress(&format!(
            "load ({}): issuance, {} clients for {} s",
            backend.name(),
            settings.concurrency,
            settings.phase.as_secs()
        ));
        let (identify, issue, codes) = issuance(&client, &bases, &seniors, settings).await;
        anyhow::ensure!(!codes.is_empty(), "no code was issued under load");
        progress(&format!(
            "load ({}): verification, {} clients for {} s",
            backend.name(),
            settings.concurrency,
            settings.phase.as_secs()
        ));
        let verify = verification(&client, &bases, &verifier, &codes, settings).await;
        Ok(vec![
            OpResult {
                backend: backend.clone(),
                name: "identify (POST /v1/kiosk/identify)",
                ..identify
            },
            OpResult {
                backend: backend.clone(),
                name: "issue 申领/补领 (POST /v1/kiosk/codes)",
                ..issue
            },
            OpResult {
                backend: backend.clone(),
                name: "verify (POST /v1/verify)",
                ..verify
            },
        ])
    })
}

fn empty(elapsed: Duration) -> OpResult {
    OpResult {
        backend: Backend::Sqlite,
        name: "",
        latencies: Vec::new(),
        errors: 0,
        elapsed,
    }
}

async fn issuance(
    client: &reqwest::Client,
    bases: &[String],
    seniors: &Arc<Vec<Senior>>,
    settings: LoadSettings,
) -> (OpResult, OpResult, Vec<String>) {
    let started = Instant::now();
    let deadline = started + settings.phase;
    let errors_identify = Arc::new(AtomicU64::new(0));
    let errors_issue = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..settings.concurrency {
        let client = client.clone();
        let base = bases
            .get(worker % bases.len().max(1))
            .cloned()
            .unwrap_or_default();
        let identify_url = format!("{base}{}", routes::IDENTIFY);
        let codes_url = format!("{base}{}", routes::CODES);
        let seniors = Arc::clone(seniors);
        let errors_identify = Arc::clone(&errors_identify);
        let errors_issue = Arc::clone(&errors_issue);
        let concurrency = settings.concurrency;
        tasks.push(tokio::spawn(async move {
            let mut identify = Vec::new();
            let mut issue = Vec::new();
            let mut codes = Vec::new();
            // This worker's citizens: worker, worker + concurrency, … (never two at once).
            let mine: Vec<&Senior> = seniors.iter().skip(worker).step_by(concurrency).collect();
            let mut turn = 0usize;
            while Instant::now() < deadline && !mine.is_empty() {
                let Some(senior) = mine.get(turn % mine.len()) else {
                    break;
                };
                turn += 1;
                let request = IdentifyRequest::IdCard(kiosk::devices::card_fields(&senior.card));
                let t = Instant::now();
                let answer = call::<_, IdentifyResponse>(&client, &identify_url, &request).await;
                let Ok(identified) = answer else {
                    errors_identify.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                identify.push(t.elapsed());
                let Some(action) = identified.offer.action() else {
                    errors_issue.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let request = IssueRequest {
                    session: identified.session,
                    action,
                    request_id: RequestId::new(uuid::Uuid::new_v4()),
                };
                let t = Instant::now();
                match call::<_, IssuedCode>(&client, &codes_url, &request).await {
                    Ok(code) => {
                        issue.push(t.elapsed());
                        codes.push(code.qr_text);
                    }
                    Err(_) => {
                        errors_issue.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            (identify, issue, codes)
        }));
    }
    let mut identify = empty(Duration::ZERO);
    let mut issue = empty(Duration::ZERO);
    let mut codes = Vec::new();
    for task in tasks {
        if let Ok((a, b, c)) = task.await {
            identify.latencies.extend(a);
            issue.latencies.extend(b);
            codes.extend(c);
        }
    }
    let elapsed = started.elapsed();
    identify.elapsed = elapsed;
    issue.elapsed = elapsed;
    identify.errors = errors_identify.load(Ordering::Relaxed);
    issue.errors = errors_issue.load(Ordering::Relaxed);
    (identify, issue, codes)
}

async fn verification(
    client: &reqwest::Client,
    bases: &[String],
    token: &str,
    codes: &[String],
    settings: LoadSettings,
) -> OpResult {
    let started = Instant::now();
    let deadline = started + settings.phase;
    let errors = Arc::new(AtomicU64::new(0));
    let codes = Arc::new(codes.to_vec());
    let mut tasks = Vec::new();
    for worker in 0..settings.concurrency {
        let client = client.clone();
        let base = bases
            .get(worker % bases.len().max(1))
            .cloned()
            .unwrap_or_default();
        let url = format!("{base}{}", routes::VERIFY);
        let token = token.to_owned();
        let codes = Arc::clone(&codes);
        let errors = Arc::clone(&errors);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut turn = worker;
            while Instant::now() < deadline {
                let Some(payload) = codes.get(turn % codes.len().max(1)) else {
                    break;
                };
                turn += 7;
                let request = VerifyRequest {
                    payload: payload.clone(),
                };
                let t = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&request)
                    .send()
                    .await;
                match answer {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut result = empty(Duration::ZERO);
    for task in tasks {
        if let Ok(latencies) = task.await {
            result.latencies.extend(latencies);
        }
    }
    result.elapsed = started.elapsed();
    result.errors = errors.load(Ordering::Relaxed);
    result
}

async fn call<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    request: &Req,
) -> Result<Resp> {
    let response = client.post(url).json(request).send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{url}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).context("the answer")
}

/// The table: one row per backend and operation.
pub(crate) fn table(results: &[OpResult], settings: LoadSettings) -> Table {
    let mut table = Table::new(
        "Central under concurrent load (loopback HTTPS)",
        &[
            "backend",
            "operation",
            "requests",
            "requests/s",
            "p50",
            "p99",
            "errors",
        ],
    );
    for result in results {
        let p = Percentiles::of(&result.latencies);
        #[allow(clippy::cast_precision_loss)]
        let rps = p.count as f64 / result.elapsed.as_secs_f64().max(1e-9);
        table.row(vec![
            result.backend.name(),
            result.name.to_owned(),
            p.count.to_string(),
            format!("{rps:.0}"),
            ms(p.p50),
            ms(p.p99),
            result.errors.to_string(),
        ]);
    }
    table.note(format!(
        "{} concurrent clients per phase, {} s per phase, {} citizens; issuance = identify then \
         codes, one after the other per client (requests/s counts each call on its own row). \
         The load generator (2 runtime workers) and each central instance (2 runtime workers) \
         share the machine's cores, with the PostgreSQL server where there is one; with two \
         instances, half the clients talk to each.",
        settings.concurrency,
        settings.phase.as_secs(),
        settings.citizens
    ));
    table
}
