//! The TLS side of the central service over real HTTPS on loopback: the CA on disk, client
//! certificates, who may connect, HTTP/1.1 and HTTP/2, and graceful shutdown.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Extension};
use axum::routing::get;
use axum::{Json, Router};
use central::pki::{self, ClientBundle, Pki};
use central::tls::{self, PeerCert};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// A running server on 127.0.0.1:0.
struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// Triggers shutdown and waits (bounded) for `serve` to return.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), self.handle)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
            .expect("serve result");
    }
}

async fn whoami(
    Extension(PeerCert(cert)): Extension<PeerCert>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Json<Value> {
    Json(json!({
        "has_cert": cert.is_some(),
        "fingerprint": cert.map(hex::encode),
        "peer_ip": peer.ip().to_string(),
    }))
}

fn router(slow_started: Arc<Notify>) -> Router {
    Router::new().route("/whoami", get(whoami)).route(
        "/slow",
        get(move || {
            let started = Arc::clone(&slow_started);
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }
        }),
    )
}

async fn start_with(pki: &Pki, slow_started: Arc<Notify>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = pki.server_config().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(tls::serve(
        listener,
        config,
        router(slow_started),
        async move {
            let _ = rx.await;
        },
    ));
    Server {
        addr,
        shutdown: Some(tx),
        handle,
    }
}

async fn start(pki: &Pki) -> Server {
    start_with(pki, Arc::new(Notify::new())).await
}

/// A client that trusts only `ca_pem` (no built-in or system roots, no proxy), optionally with a
/// client certificate.
fn client_builder(ca_pem: &str, identity: Option<&ClientBundle>) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .timeout(Duration::from_secs(10));
    if let Some(bundle) = identity {
        let pem = format!("{}{}", bundle.cert_pem, bundle.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder
}

fn client(ca_pem: &str, identity: Option<&ClientBundle>) -> reqwest::Client {
    client_builder(ca_pem, identity).build().unwrap()
}

async fn get_whoami(client: &reqwest::Client, server: &Server) -> reqwest::Result<Value> {
    client
        .get(server.url("/whoami"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn client_certificate_fingerprint_reaches_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let server = start(&pki).await;
    let bundle = pki.issue_client_cert("kiosk-xuhui-01").unwrap();
    assert_eq!(
        bundle.fingerprint,
        pki::fingerprint(&pem_to_der(&bundle.cert_pem))
    );

    let with_cert = get_whoami(&client(pki.ca_pem(), Some(&bundle)), &server)
        .await
        .unwrap();
    assert_eq!(with_cert["has_cert"], true);
    assert_eq!(with_cert["fingerprint"], hex::encode(bundle.fingerprint));
    assert_eq!(with_cert["peer_ip"], "127.0.0.1");

    let anonymous = get_whoami(&client(pki.ca_pem(), None), &server)
        .await
        .unwrap();
    assert_eq!(anonymous["has_cert"], false);
    assert_eq!(anonymous["fingerprint"], Value::Null);

    server.stop().await;
}

/// The DER of a PEM certificate, decoded by hand (base64 between the armour lines).
fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[tokio::test]
async fn certificate_from_another_ca_is_refused_at_tls_level() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let other = Pki::load_or_create(other_dir.path(), &[]).unwrap();
    assert_ne!(pki.ca_pem(), other.ca_pem());
    let server = start(&pki).await;

    let foreign = other.issue_client_cert("kiosk-rogue").unwrap();
    let err = get_whoami(&client(pki.ca_pem(), Some(&foreign)), &server)
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "refused before HTTP: {err:?}");
    assert!(err.is_connect() || err.is_request(), "{err:?}");

    // The server keeps serving others.
    let ok = get_whoami(&client(pki.ca_pem(), None), &server)
        .await
        .unwrap();
    assert_eq!(ok["has_cert"], false);
    server.stop().await;
}

#[tokio::test]
async fn client_that_does_not_trust_the_ca_fails() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let other = Pki::load_or_create_ca(other_dir.path()).unwrap();
    let server = start(&pki).await;

    let bundle = pki.issue_client_cert("kiosk-1").unwrap();
    let err = get_whoami(&client(other.ca_pem(), Some(&bundle)), &server)
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    // Only our CA: the system roots do not help either.
    let system_roots_only = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(get_whoami(&system_roots_only, &server).await.is_err());

    server.stop().await;
}

#[tokio::test]
async fn server_certificate_names() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &["central.example.test".to_owned()]).unwrap();
    let server = start(&pki).await;
    for host in ["localhost", "central.example.test"] {
        let c = client_builder(pki.ca_pem(), None)
            .resolve(host, server.addr)
            .build()
            .unwrap();
        let url = format!("https://{host}:{}/whoami", server.addr.port());
        let resp = c.get(url).send().await.unwrap();
        assert!(resp.status().is_success(), "{host}");
    }
    let c = client_builder(pki.ca_pem(), None)
        .resolve("not-ours.example.test", server.addr)
        .build()
        .unwrap();
    let url = format!(
        "https://not-ours.example.test:{}/whoami",
        server.addr.port()
    );
    assert!(c.get(url).send().await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn ca_survives_reload() {
    let dir = tempfile::tempdir().unwrap();
    let first = Pki::load_or_create(dir.path(), &[]).unwrap();
    let ca_before = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let server_before = std::fs::read(dir.path().join("server.pem")).unwrap();
    let bundle = first.issue_client_cert("kiosk-before-restart").unwrap();
    drop(first);

    let second = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(std::fs::read(dir.path().join("ca.pem")).unwrap(), ca_before);
    assert_eq!(second.ca_pem().as_bytes(), ca_before.as_slice());
    // Same names: the server certificate is kept.
    assert_eq!(
        std::fs::read(dir.path().join("server.pem")).unwrap(),
        server_before
    );

    // A certificate issued before the restart is still accepted, and certificates issued after it
    // chain to the same CA.
    let server = start(&second).await;
    let seen = get_whoami(&client(second.ca_pem(), Some(&bundle)), &server)
        .await
        .unwrap();
    assert_eq!(seen["fingerprint"], hex::encode(bundle.fingerprint));
    let after = second.issue_client_cert("kiosk-after-restart").unwrap();
    let seen = get_whoami(
        &client(&String::from_utf8(ca_before.clone()).unwrap(), Some(&after)),
        &server,
    )
    .await
    .unwrap();
    assert_eq!(seen["fingerprint"], hex::encode(after.fingerprint));
    server.stop().await;

    // CA-only loading (as a command beside a running server would) leaves the server files alone.
    let ca_only = Pki::load_or_create_ca(dir.path()).unwrap();
    assert_eq!(ca_only.ca_pem().as_bytes(), ca_before.as_slice());
    assert_eq!(
        std::fs::read(dir.path().join("server.pem")).unwrap(),
        server_before
    );

    // New extra names: a new server certificate from the same CA.
    let third = Pki::load_or_create(dir.path(), &["10.1.2.3".to_owned()]).unwrap();
    assert_eq!(third.ca_pem().as_bytes(), ca_before.as_slice());
    assert_ne!(
        std::fs::read(dir.path().join("server.pem")).unwrap(),
        server_before
    );
    let server = start(&third).await;
    let seen = get_whoami(&client(third.ca_pem(), Some(&bundle)), &server)
        .await
        .unwrap();
    assert_eq!(seen["has_cert"], true);
    server.stop().await;
}

#[tokio::test]
async fn broken_or_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let ca = pki.ca_pem().to_owned();
    drop(pki);

    // A damaged server certificate is replaced; the CA stays.
    std::fs::write(dir.path().join("server.pem"), "garbage").unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(pki.ca_pem(), ca);
    let server = start(&pki).await;
    get_whoami(&client(&ca, None), &server).await.unwrap();
    server.stop().await;

    // A missing CA key is an error, never a silently replaced CA.
    std::fs::remove_file(dir.path().join("ca.key")).unwrap();
    assert!(matches!(
        Pki::load_or_create(dir.path(), &[]),
        Err(pki::PkiError::MissingCaKey { .. })
    ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.pem")).unwrap(),
        ca
    );

    // A damaged CA certificate is an error too.
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_create_ca(dir.path()).unwrap();
    std::fs::write(dir.path().join("ca.pem"), "garbage").unwrap();
    assert!(Pki::load_or_create(dir.path(), &[]).is_err());

    // Invalid extra names are refused.
    let dir = tempfile::tempdir().unwrap();
    assert!(Pki::load_or_create(dir.path(), &["not a name".to_owned()]).is_err());
}

#[tokio::test]
async fn key_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let _pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
    assert_eq!(mode(&dir.path().join("server.key")), 0o600);
    assert!(dir.path().join("ca.pem").is_file());
    assert!(dir.path().join("server.pem").is_file());
    // No temporary files left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ca.key", "ca.pem", "server.key", "server.pem"]);

    // A key file someone loosened is tightened again at the next load.
    let key = dir.path().join("server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    assert_eq!(mode(&key), 0o600);
}

#[tokio::test]
async fn http1_and_http2() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let server = start(&pki).await;
    let bundle = pki.issue_client_cert("kiosk-h2").unwrap();

    let h2 = client(pki.ca_pem(), Some(&bundle));
    let resp = h2.get(server.url("/whoami")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["fingerprint"], hex::encode(bundle.fingerprint));

    let h1 = client_builder(pki.ca_pem(), Some(&bundle))
        .http1_only()
        .build()
        .unwrap();
    let resp = h1.get(server.url("/whoami")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["fingerprint"], hex::encode(bundle.fingerprint));

    server.stop().await;
}

#[tokio::test]
async fn bad_clients_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let server = start(&pki).await;

    // Plain HTTP on the TLS port, and a client that connects and never speaks.
    let mut plain = TcpStream::connect(server.addr).await.unwrap();
    plain
        .write_all(b"GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let _silent = TcpStream::connect(server.addr).await.unwrap();
    // A connection that is dropped straight away.
    drop(TcpStream::connect(server.addr).await.unwrap());

    let ok = get_whoami(&client(pki.ca_pem(), None), &server)
        .await
        .unwrap();
    assert_eq!(ok["has_cert"], false);

    // Shutdown does not wait for the silent client's handshake.
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_requests_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
    let slow_started = Arc::new(Notify::new());
    let mut server = start_with(&pki, Arc::clone(&slow_started)).await;
    let c = client(pki.ca_pem(), None);

    let url = server.url("/slow");
    let request = tokio::spawn({
        let c = c.clone();
        async move { c.get(url).send().await?.error_for_status()?.text().await }
    });
    tokio::time::timeout(Duration::from_secs(10), slow_started.notified())
        .await
        .expect("the slow handler started");

    let started = std::time::Instant::now();
    let _ = server.shutdown.take().unwrap().send(());
    let body = request
        .await
        .unwrap()
        .expect("the request in flight completes");
    assert_eq!(body, "done");
    tokio::time::timeout(Duration::from_secs(5), &mut server.handle)
        .await
        .expect("serve returns once the request is done")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));

    // The listener is closed: new connections fail.
    assert!(get_whoami(&c, &server).await.is_err());
}
