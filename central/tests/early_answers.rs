//! Answers given before the request body has arrived: a refused caller or an oversized body is
//! answered only once the body has been read, on a connection that stays open for the next
//! request. Without that, the server closes the connection under a client still sending and the
//! client gets a TLS EOF or a reset instead of the 4xx (Schemathesis once saw exactly that).
//! Raw HTTP/1.1 over real TLS on loopback, so that the chunks and their timing are ours.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use central::http::MAX_BODY;
use common::Service;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Pause between two chunks of a body, long enough for the server to answer in between.
const GAP: Duration = Duration::from_millis(40);

async fn connect(service: &Service) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(service.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let url = reqwest::Url::parse(&service.base).unwrap();
    let port = url.port().unwrap();
    let host = url.host_str().unwrap().to_owned();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(host).unwrap(), tcp)
        .await
        .unwrap()
}

/// Reads one HTTP/1.1 answer (headers and a `content-length` body); returns the status line,
/// the header block in lower case and the body. `None` when the connection ends first.
async fn read_answer(stream: &mut TlsStream<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => return None,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no answer within 20 s"),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let status = head.lines().next().unwrap().to_owned();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((status, head, body))
}

/// Sends a POST whose body goes out in `chunks` pieces of `size` bytes with a pause between.
/// Write errors are ignored: what matters is what comes back.
async fn slow_post(
    stream: &mut TlsStream<TcpStream>,
    path: &str,
    content_type: &str,
    chunks: usize,
    size: usize,
) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\n\r\n",
        chunks * size
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let piece = vec![b'x'; size];
    for _ in 0..chunks {
        let _ = stream.write_all(&piece).await;
        let _ = stream.flush().await;
        tokio::time::sleep(GAP).await;
    }
}

/// The same connection answers a health check after the early answer.
async fn still_answers(stream: &mut TlsStream<TcpStream>, what: &str) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("{what}: the connection was closed under the client: {e}"));
    let (status, _, _) = read_answer(stream)
        .await
        .unwrap_or_else(|| panic!("{what}: the connection ended before the next answer"));
    assert!(status.contains(" 200"), "{what}: then {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_caller_gets_its_answer_after_the_body_and_keeps_the_connection() {
    let service = Service::start().await;
    let mut stream = connect(&service).await;
    // No token: the verifier route refuses before it would read the body.
    slow_post(&mut stream, "/v1/verify", "application/json", 8, 2048).await;
    let (status, _, body) = read_answer(&mut stream)
        .await
        .expect("the refusal arrives, not a closed connection");
    assert!(status.contains(" 401"), "{status}");
    assert!(String::from_utf8_lossy(&body).contains("unauthorized"));
    still_answers(&mut stream, "after 401").await;

    // A POST to a route that only answers GET: 405 after the body.
    let mut stream = connect(&service).await;
    slow_post(&mut stream, "/v1/kiosks", "text/plain", 8, 2048).await;
    let (status, _, _) = read_answer(&mut stream).await.expect("an answer");
    assert!(status.contains(" 405"), "{status}");
    still_answers(&mut stream, "after a POST to a GET route").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_read_to_its_end_and_answered_413() {
    let service = Service::start().await;
    let mut stream = connect(&service).await;
    let size = 16 * 1024;
    let chunks = MAX_BODY / size + 4;
    slow_post(&mut stream, "/v1/verify", "application/json", chunks, size).await;
    let (status, head, body) = read_answer(&mut stream).await.expect("the 413 arrives");
    assert!(status.contains(" 413"), "{status}");
    assert!(String::from_utf8_lossy(&body).contains("body_too_large"));
    assert!(!head.contains("connection: close"), "{head}");
    still_answers(&mut stream, "after 413").await;
}
