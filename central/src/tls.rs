//! The HTTPS accept loop: TLS (rustls) in front of an axum router, HTTP/1.1 and HTTP/2 on one
//! port, with the client certificate and the peer address of each connection handed to the
//! handlers, and a graceful shutdown.
//!
//! Every request carries two extensions:
//!
//! - [`PeerCert`]: the SM3 fingerprint of the client certificate the connection presented (already
//!   verified against the CA during the handshake), or `None`;
//! - [`axum::extract::ConnectInfo<SocketAddr>`]: the peer's address.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::pki::fingerprint;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers (HTTP/1.1).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for in-flight connections before closing them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Pause after an accept error such as running out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The client certificate of the connection a request arrived on: the SM3 fingerprint of its DER
/// (see [`crate::pki::fingerprint`]), or `None` when the client sent no certificate.
///
/// The certificate was verified against the service's CA during the handshake; handlers read this
/// as `Extension<PeerCert>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCert(pub Option<[u8; 32]>);

/// Serves `app` over TLS on `listener` until `shutdown` completes.
///
/// Each connection is handled in its own task: the TLS handshake (at most
/// [`HANDSHAKE_TIMEOUT`]), then HTTP/1.1 or HTTP/2 (by ALPN or the connection preface), with
/// [`PeerCert`] and [`ConnectInfo<SocketAddr>`] inserted into every request. Handshake failures
/// and accept errors are logged and never stop the loop.
///
/// When `shutdown` completes the listener closes, connections are asked to finish (idle ones close
/// at once, requests in flight complete), and after at most [`SHUTDOWN_GRACE`] the remaining ones
/// are dropped. Then this function returns.
///
/// # Errors
///
/// None at present: errors on individual connections are logged. The `Result` leaves room for
/// failures of the listener itself.
pub async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    let graceful = GracefulShutdown::new();
    // Tells connections still in their handshake to give up once shutdown starts.
    let (stopping_tx, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = finished
                    && error.is_panic()
                {
                    tracing::error!(%error, "connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let task = connection(
                        tcp,
                        peer,
                        acceptor.clone(),
                        app.clone(),
                        Arc::clone(&builder),
                        graceful.watcher(),
                        stopping.clone(),
                    );
                    connections.spawn(task);
                }
                Err(error) if is_connection_error(&error) => {
                    tracing::debug!(%error, "accept: connection error");
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed; backing off");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }

    drop(listener);
    let _ = stopping_tx.send(true);
    tracing::info!(
        connections = connections.len(),
        "shutting down: waiting for connections to finish"
    );
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = connections.len(),
            "connections still open after the grace period; closing them"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// One connection: handshake, then HTTP until the client leaves or shutdown asks it to finish.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: Watcher,
    mut stopping: watch::Receiver<bool>,
) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, %error, "set_nodelay failed");
    }
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%peer, %error, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        // Shutting down (or `serve` is gone): nothing was requested on this connection yet.
        _ = stopping.wait_for(|stop| *stop) => return,
    };
    let peer_cert = PeerCert(
        stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(<[_]>::first)
            .map(|cert| fingerprint(cert)),
    );

    let service = app.map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(peer_cert);
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    if let Err(error) = watcher.watch(conn).await {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// Errors of one incoming connection (the client gave up before we accepted it), as opposed to
/// errors of the listener (such as too many open files) that call for a pause.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
