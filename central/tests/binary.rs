//! The `central` binary as an operator runs it: `serve --demo` in one process, the other
//! subcommands on the same data directory while it runs (the service sees each change at once),
//! kiosk and verifier calls over HTTPS, a clean exit on SIGTERM, and no full ID number or name in
//! anything it logged, even at debug level.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::backend::{TestData, data_dir};
use common::{client, get, post, post_bearer};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_central");

/// Runs a subcommand to completion on the database of `test_data` (named by
/// `CENTRAL_DATABASE`, as an operator's environment would) and returns its last line of output.
fn run(test_data: &TestData, args: &[&str]) -> String {
    let mut command = Command::new(BIN);
    test_data.configure(&mut command);
    let output = command
        .args(args)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "central {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().last().unwrap_or_default().to_owned()
}

struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Served {
    /// `central serve` on the database of `test_data`, named by `--database` when it is
    /// PostgreSQL.
    fn start(test_data: &TestData) -> Served {
        let mut command = Command::new(BIN);
        command.env_remove("CENTRAL_DATABASE");
        if let Some(url) = test_data.database_url() {
            command.args(["--database", url]);
        }
        let mut child = command
            .args([
                "serve",
                "--data",
                test_data.data.path().to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--demo",
            ])
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle` (or finds one already seen) and returns it.
    fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.log.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "no log line with {needle:?}; log so far:\n{}",
            self.log.join("\n")
        );
    }

    /// Sends SIGTERM, waits for the exit, and returns the whole log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "serve exited with {status}");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.log.push(line);
        }
        self.log.join("\n")
    }
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
    line[start..].split_whitespace().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_the_service_and_its_commands() {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let data_arg = test_data.data.path().to_str().unwrap();
    let mut served = Served::start(&test_data);
    let listening = served.wait_for("central service listening");
    let port = field(&listening, "addr")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let demo_token = field(&served.wait_for("demo verifier token"), "token").to_owned();
    let base = format!("https://localhost:{port}");

    // Enrol a kiosk and a portal while the service runs.
    let kiosk_dir = dir.path().join("k001");
    run(
        &test_data,
        &[
            "provision-kiosk",
            "--data",
            data_arg,
            "--kiosk-id",
            "K001",
            "--out",
            kiosk_dir.to_str().unwrap(),
        ],
    );
    let read = |name: &str| std::fs::read_to_string(kiosk_dir.join(name)).unwrap();
    let kiosk = client(
        &read("ca.pem"),
        Some(&format!("{}{}", read("kiosk.pem"), read("kiosk.key"))),
    );

    // The kiosk's config: the default idle time-out and no notice; then the operator sets a
    // notice, and the kiosk's next pull carries it as written; --clear removes it.
    let (status, config) = get(&kiosk, &format!("{base}/v1/kiosk/config")).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["idle_timeout_seconds"], 60);
    assert!(config["notice"].is_null(), "{config}");
    let notice = "3月15日（周六）9:00-12:00 系统维护，暂停服务。";
    let said = run(
        &test_data,
        &["set-notice", "--data", data_arg, "--text", notice],
    );
    assert!(said.starts_with("notice set"), "{said}");
    let (status, with_notice) = get(&kiosk, &format!("{base}/v1/kiosk/config")).await;
    assert_eq!(status, 200, "{with_notice}");
    assert_eq!(with_notice["notice"], notice);
    assert!(with_notice["version"].as_u64() > config["version"].as_u64());
    assert!(
        said.ends_with(&format!("version {}", with_notice["version"])),
        "{said}"
    );
    assert!(
        run(&test_data, &["set-notice", "--data", data_arg, "--clear"])
            .starts_with("notice removed")
    );
    let (_, cleared) = get(&kiosk, &format!("{base}/v1/kiosk/config")).await;
    assert!(cleared["notice"].is_null(), "{cleared}");
    assert!(cleared["version"].as_u64() > with_notice["version"].as_u64());

    let verifier = run(
        &test_data,
        &[
            "add-verifier",
            "--data",
            data_arg,
            "--name",
            "钱核验",
            "--org",
            "某某商场",
        ],
    );
    let portal = run(
        &test_data,
        &[
            "add-token",
            "--data",
            data_arg,
            "--role",
            "portal",
            "--name",
            "一网通办",
        ],
    );
    assert!(verifier.starts_with("v_") && portal.starts_with("p_"));

    // Import a citizen from CSV, photo beside it.
    let photo = dir.path().join("photo.png");
    std::fs::write(&photo, central::demo::avatar_png(3, 102, 126)).unwrap();
    let id_number = "310101195003150029";
    let csv = dir.path().join("citizens.csv");
    std::fs::write(&csv, format!("id_number,name,photo,color,realname_verified\n{id_number},孙美华,photo.png,green,true\n")).unwrap();
    assert_eq!(
        run(
            &test_data,
            &["import-citizens", "--data", data_arg, csv.to_str().unwrap()]
        ),
        "imported 1 citizens"
    );

    // The resident shows the 随申码 the app would show; the kiosk identifies and applies.
    let token = run(
        &test_data,
        &["suishen-code", "--data", data_arg, "--id-number", id_number],
    );
    let (status, who) = post(
        &kiosk,
        &format!("{base}/v1/kiosk/identify"),
        &json!({"suishen_code": token}),
    )
    .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["person"]["name"], "孙美华");
    let (status, code) = post(
        &kiosk,
        &format!("{base}/v1/kiosk/codes"),
        &json!({"session": who["session"], "action": "apply", "request_id": "3a1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b"}),
    )
    .await;
    assert_eq!(status, 200, "{code}");
    let qr = code["qr_text"].as_str().unwrap().to_owned();
    let anonymous = client(&read("ca.pem"), None);
    // A load balancer sees it healthy, on the database it was given.
    let (status, health) = get(&anonymous, &format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backend"], test_data.data.backend());
    let verify = |token: String| {
        let anonymous = anonymous.clone();
        let url = format!("{base}/v1/verify");
        let qr = qr.clone();
        async move {
            post_bearer(&anonymous, &url, &token, &json!({"payload": qr}))
                .await
                .1
        }
    };
    assert_eq!(verify(verifier.clone()).await["result"], "valid");
    assert_eq!(verify(demo_token.clone()).await["color"], "green");

    // Colour and loss set from the command line show at the next verification.
    run(
        &test_data,
        &[
            "set-color",
            "--data",
            data_arg,
            "--id-number",
            id_number,
            "--color",
            "red",
        ],
    );
    assert_eq!(verify(verifier.clone()).await["color"], "red");
    run(
        &test_data,
        &["report-lost", "--data", data_arg, "--id-number", id_number],
    );
    assert_eq!(verify(verifier.clone()).await["result"], "lost");

    // A key rotated while serving: new codes use it, the old ones still verify.
    run(&test_data, &["rotate-key", "--data", data_arg]);
    let (_, keys) = get(&anonymous, &format!("{base}/v1/keys")).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);

    // The demo data is there: a demo senior with a lost code is offered a reissue.
    let lost_demo = central::demo::demo_citizens()
        .into_iter()
        .find(|d| d.code == central::demo::DemoCode::Lost)
        .unwrap();
    let demo_token = run(
        &test_data,
        &[
            "suishen-code",
            "--data",
            data_arg,
            "--id-number",
            lost_demo.citizen.id_number.as_str(),
        ],
    );
    let (_, demo_who) = post(
        &kiosk,
        &format!("{base}/v1/kiosk/identify"),
        &json!({"suishen_code": demo_token}),
    )
    .await;
    assert_eq!(demo_who["code"]["state"], "lost");
    assert_eq!(demo_who["offer"]["action"], "reissue");

    // Unknown and malformed ID numbers in requests.
    let unknown = "310105194801010056";
    let mut card = json!({"id_card": {"kind": "resident", "name": "无此人", "id_number": unknown,
        "sex": "male", "birth_date": "1948-01-01", "valid_from": "2015-01-01", "valid_until": null}});
    let (status, _) = post(&kiosk, &format!("{base}/v1/kiosk/identify"), &card).await;
    assert_eq!(status, 404);
    card["id_card"]["id_number"] = json!("310105194801010057");
    let (status, _) = post(&kiosk, &format!("{base}/v1/kiosk/identify"), &card).await;
    assert_eq!(status, 422);
    let (status, _) = post_bearer(
        &anonymous,
        &format!("{base}/v1/portal/report-lost"),
        &portal,
        &json!({"id_number": unknown}),
    )
    .await;
    assert_eq!(status, 404);

    let log = served.stop();
    assert!(log.contains("shutting down"), "{log}");
    // Nothing it logged holds a full ID number or a name.
    let mut secrets: Vec<String> = vec![
        id_number.into(),
        unknown.into(),
        "310105194801010057".into(),
        "孙美华".into(),
        "无此人".into(),
    ];
    for demo in central::demo::demo_citizens() {
        secrets.push(demo.citizen.id_number.as_str().to_owned());
        secrets.push(demo.citizen.name.clone());
    }
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "the log holds {secret:?}");
    }
    assert!(
        log.lines().count() > 20,
        "debug logging produced too little to be a real check"
    );
}

#[test]
fn an_unknown_database_scheme_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args([
            "add-token",
            "--role",
            "portal",
            "--name",
            "一网通办",
            "--data",
        ])
        .arg(dir.path().join("data"))
        .args(["--database", "mysql://central@127.0.0.1/central"])
        .env_remove("CENTRAL_DATABASE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported database URL scheme \"mysql\""),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data/central.db").exists(),
        "no SQLite database instead"
    );
}

#[test]
fn a_notice_that_a_kiosk_could_not_show_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let data = &test_data.data;
    let version = central::admin::set_notice(data, Some("  今日下午暂停服务  ")).unwrap();
    let config = data.store().unwrap().kiosk_config().unwrap();
    assert_eq!(config.version, version);
    assert_eq!(
        config.notice.as_deref(),
        Some("今日下午暂停服务"),
        "trimmed"
    );
    let too_long = "停".repeat(central::admin::NOTICE_MAX_CHARS + 1);
    for bad in ["", "   ", "第一行\n第二行", too_long.as_str()] {
        assert!(
            central::admin::set_notice(data, Some(bad)).is_err(),
            "{bad:?}"
        );
    }
    let unchanged = data.store().unwrap().kiosk_config().unwrap();
    assert_eq!(unchanged, config);
    // Neither --text nor --clear, or both: refused by the command line.
    let data_arg = data.path().to_str().unwrap();
    for args in [
        vec!["set-notice", "--data", data_arg],
        vec!["set-notice", "--data", data_arg, "--text", "x", "--clear"],
    ] {
        let mut command = Command::new(BIN);
        test_data.configure(&mut command);
        let output = command.args(&args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
    }
    assert_eq!(data.store().unwrap().kiosk_config().unwrap(), unchanged);
}
