//! The API fuzzed from its own OpenAPI document with Schemathesis (a property-based API tester,
//! from PyPI, in the project's `.venv`): a service started here over HTTPS, the kiosk routes
//! called with an enrolled kiosk's client certificate, `/v1/verify` with a verifier token and
//! `/v1/portal/report-lost` with a portal token, so that generated requests reach the handlers.
//! Valid and invalid requests alike must never get a 5xx: the `not_a_server_error` check fails
//! the run on the first one. The service must still answer afterwards.
//!
//! Schemathesis is found at `$SCHEMATHESIS`, else `.venv/bin/schemathesis` (scripts/test
//! installs it there from `PYTHON_PACKAGES`). `SCHEMATHESIS_MAX_EXAMPLES` sets the generated
//! cases per operation (default 100), `SCHEMATHESIS_SEED` the seed (printed at the start), and
//! `SCHEMATHESIS_CHECKS` the checks (default `not_a_server_error`; `all` adds Schemathesis's
//! conformance checks, which this test does not require).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use central::model::Role;
use common::{Service, people};
use protocol::api::Color;

/// Longest a single Schemathesis run may take before the test fails (it is bounded by the
/// number of examples; this only catches a hang).
const RUN_LIMIT: Duration = Duration::from_secs(300);

fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/schemathesis");
    if venv.is_file() {
        return venv;
    }
    panic!(
        "this test needs Schemathesis: run ./scripts/test (it installs the Python packages of \
         scripts/lib.sh into .venv), or `python3 -m venv .venv && .venv/bin/pip install \
         schemathesis`, or set SCHEMATHESIS=/path/to/schemathesis"
    );
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// One Schemathesis run over the operations `include` matches, with extra arguments (the
/// credentials). Returns its output; panics on any failure.
fn run(name: &str, base: &str, ca: &Path, include: &str, extra: &[String], work: &Path) -> String {
    let examples = env_number("SCHEMATHESIS_MAX_EXAMPLES", 100);
    let checks =
        std::env::var("SCHEMATHESIS_CHECKS").unwrap_or_else(|_| "not_a_server_error".into());
    let seed = env_number("SCHEMATHESIS_SEED", 0);
    let seed = if seed == 0 {
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
        )
    } else {
        seed
    };
    eprintln!(
        "schemathesis ({name}): seed {seed}, {examples} examples per operation (replay with \
         SCHEMATHESIS_SEED={seed} SCHEMATHESIS_MAX_EXAMPLES={examples})"
    );
    let openapi = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let mut command = Command::new(schemathesis());
    command
        .arg("run")
        .arg(&openapi)
        .args(["--url", base])
        .arg("--tls-verify")
        .arg(ca)
        .args(["--checks", &checks])
        .args(["--include-path-regex", include])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", &seed.to_string()])
        // One worker: threads trip a CPython 3.11 bug in hypothesis' source inspection.
        .args(["--workers", "1"])
        .args(["--request-timeout", "20"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .arg("--no-color")
        .args(extra)
        .current_dir(work)
        // The system bundle must not override the pinned CA (requests reads these), and
        // nothing may go through a proxy.
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env("NO_PROXY", "*")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("HYPOTHESIS_STORAGE_DIRECTORY", work.join(".hypothesis"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Schemathesis: {e}"));
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("Schemathesis ({name}) did not finish within {RUN_LIMIT:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!(
        "schemathesis ({name}): exit {:?} after {:?}\n{}",
        output.status.code(),
        started.elapsed(),
        summary(&stdout)
    );
    assert!(
        output.status.success(),
        "Schemathesis ({name}) found failures (a 5xx is a bug):\n{stdout}\n{stderr}"
    );
    stdout
}

/// The last lines of the report (the summary).
fn summary(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_fuzzed_from_its_openapi_document_never_answers_5xx() {
    let service = Service::start().await;
    for (number, name) in [people::SENIOR, people::SENIOR_2, people::LEAP_DAY] {
        service.citizen(number, name, true, Color::Green, true);
    }
    service.citizen(
        people::NO_PHOTO.0,
        people::NO_PHOTO.1,
        false,
        Color::Green,
        true,
    );
    service.citizen(people::YOUNG.0, people::YOUNG.1, true, Color::Yellow, true);
    // Enrols the kiosk (its files land in the service's temporary directory).
    let _ = service.kiosk("K-FUZZ");
    let certs = service.dir.path().join("kiosk-K-FUZZ");
    let verifier = service.token(Role::Verifier, "模糊测试核验员");
    let portal = service.token(Role::Portal, "模糊测试窗口");
    let base = service.base.clone();
    let ca = certs.join("ca.pem");
    let work = service.dir.path().join("schemathesis");
    std::fs::create_dir_all(&work).unwrap();

    let runs: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "kiosk and public routes, with the kiosk's certificate",
            "^/(v1/(kiosk/|keys$|kiosks$|openapi\\.json$)|healthz$)",
            vec![
                "--request-cert".into(),
                certs.join("kiosk.pem").display().to_string(),
                "--request-cert-key".into(),
                certs.join("kiosk.key").display().to_string(),
            ],
        ),
        (
            "verify, with a verifier token",
            "^/v1/verify$",
            vec!["-H".into(), format!("Authorization: Bearer {verifier}")],
        ),
        (
            "report-lost, with a portal token",
            "^/v1/portal/report-lost$",
            vec!["-H".into(), format!("Authorization: Bearer {portal}")],
        ),
    ];
    for (name, include, extra) in runs {
        let base = base.clone();
        let ca = ca.clone();
        let work = work.clone();
        let include = include.to_owned();
        let stdout =
            tokio::task::spawn_blocking(move || run(name, &base, &ca, &include, &extra, &work))
                .await
                .unwrap();
        assert!(
            !stdout.contains("No operations"),
            "{name}: the filter matched no operation:\n{stdout}"
        );
    }

    // Still up, still answering.
    let client = service.kiosk("K-AFTER");
    let (status, _) = common::get(&client, &service.url("/v1/kiosk/config")).await;
    assert_eq!(status, 200);
}
