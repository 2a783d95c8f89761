//! The kiosk's client for the central service: one method per API v1 call, over HTTPS with
//! mutual TLS, trusting only the pinned CA.
//!
//! # Answers
//!
//! Every call ends in one of three ways besides success ([`CallError`]):
//!
//! | What happened                                                  | Error                      |
//! |----------------------------------------------------------------|----------------------------|
//! | no connection, TLS failure, timeout, broken answer stream      | [`CallError::Unreachable`] |
//! | 5xx, 408 or 429 (the central could not do it now)              | [`CallError::Unreachable`] |
//! | any other 4xx with the central's `{"error", "message"}` body   | [`CallError::Refused`]     |
//! | a 2xx that does not parse, a 4xx without a proper error body   | [`CallError::BadAnswer`]   |
//!
//! # Retries and fail-over
//!
//! The base URLs are tried in order, starting with the one that answered last. On
//! `Unreachable`, an idempotent call (everything but identify) tries the next URL at once, and
//! when every URL failed it sleeps (exponential back-off with jitter: 200 ms × 2ⁿ, ±50 %, at
//! most 5 s) and goes round again, [`ClientSettings::retries`] more times. A refusal (4xx) is
//! never retried. Issuing is idempotent on its request id (the central answers a known request
//! id with the same code), so retrying it is safe.
//!
//! Identify creates a session at the central and is not retried: it only moves on to the next
//! URL when the connection could not be made (so the request never left).
//!
//! # Personal data
//!
//! Logs name the route, the URL and the kind of failure; never a request or answer body. The
//! `Debug` output of [`ClientSettings`] leaves out the kiosk's private key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use protocol::api::{
    Ack, CodeId, ErrorBody, HeartbeatRequest, HeartbeatResponse, IdentifyRequest, IdentifyResponse,
    IssueRequest, IssuedCode, JournalAck, JournalBatch, KeysResponse, KioskConfig,
    PrintFailedRequest, PrintedRequest, routes,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::flow::CentralFailure;

/// Default time to establish a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time for a whole request, answer included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Default number of extra rounds over the URLs for idempotent calls.
pub const DEFAULT_RETRIES: u32 = 3;

/// The first back-off pause between rounds over the URLs.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The longest back-off pause between rounds.
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How to reach the central service.
#[derive(Clone)]
pub struct ClientSettings {
    /// `https://host:port` base URLs, tried in order (fail over on unreachable).
    pub urls: Vec<String>,
    /// The pinned CA, PEM (only this CA is trusted; several certificates may be given).
    pub ca_pem: String,
    /// The kiosk's client certificate followed by its private key, PEM.
    pub identity_pem: String,
    /// Time to establish a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time for a whole request (default 15 s).
    pub request_timeout: Duration,
    /// Extra rounds over the URLs for idempotent calls (default 3).
    pub retries: u32,
}

impl ClientSettings {
    /// Settings with the default timeouts and retries.
    pub fn new(urls: Vec<String>, ca_pem: String, identity_pem: String) -> Self {
        Self {
            urls,
            ca_pem,
            identity_pem,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }

    /// Settings from the files `provision-kiosk` writes (`ca.pem`, `kiosk.pem`, `kiosk.key`),
    /// with the default timeouts and retries.
    pub fn from_files(
        urls: Vec<String>,
        ca: &Path,
        cert: &Path,
        key: &Path,
    ) -> Result<Self, ClientSetupError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| ClientSetupError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let ca_pem = read(ca)?;
        let mut identity_pem = read(cert)?;
        if !identity_pem.ends_with('\n') {
            identity_pem.push('\n');
        }
        identity_pem.push_str(&read(key)?);
        Ok(Self::new(urls, ca_pem, identity_pem))
    }
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("urls", &self.urls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Why a [`CentralClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    /// The list of URLs is empty.
    #[error("no central URL is configured")]
    NoUrls,
    /// A URL is not an `https://` URL.
    #[error("the central URL {url:?} is not usable: {reason}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The pinned CA holds no usable certificate.
    #[error("the pinned CA is not usable: {0}")]
    BadCa(String),
    /// The client certificate or key is not usable.
    #[error("the kiosk's client certificate or key is not usable: {0}")]
    BadIdentity(String),
    /// A file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Build(String),
}

/// A failed call to the central.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer: connection failure, TLS failure, timeout, or 5xx/408/429 after the retries.
    #[error("the central service is unreachable: {0}")]
    Unreachable(String),
    /// A 4xx with the central's error body.
    #[error("the central service refused: {} ({})", .0.error, .0.message)]
    Refused(ErrorBody),
    /// A 2xx that does not parse, or a 4xx without a proper error body.
    #[error("the central service answered something unreadable: {0}")]
    BadAnswer(String),
}

impl CallError {
    /// The failure as the session flow sees it.
    pub fn to_flow(&self) -> CentralFailure {
        match self {
            Self::Unreachable(_) => CentralFailure::Unreachable,
            Self::Refused(body) => CentralFailure::Refused(body.error),
            Self::BadAnswer(_) => CentralFailure::BadAnswer,
        }
    }

    /// Whether the central did not answer (as opposed to answering no).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}

/// The central client. Cheap to clone: clones share the connection pool and the memory of which
/// URL answered last.
#[derive(Clone)]
pub struct CentralClient {
    http: reqwest::Client,
    urls: Arc<[String]>,
    /// Index into `urls` of the URL that answered last: tried first.
    preferred: Arc<AtomicUsize>,
    retries: u32,
}

impl std::fmt::Debug for CentralClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralClient")
            .field("urls", &self.urls)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Whether a failed call may go to another URL or be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Idempotent: fail over and retry with back-off.
    Yes,
    /// Not idempotent: fail over only when the request never left.
    No,
}

/// One try against one URL.
enum Try<T> {
    /// The central answered (success, refusal or an unreadable answer).
    Answered(Result<T, CallError>),
    /// No usable answer; `sent` says whether the request may have reached the central.
    Unreachable { message: String, sent: bool },
}

impl CentralClient {
    /// A client trusting only the pinned CA and presenting the kiosk's certificate.
    pub fn new(settings: ClientSettings) -> Result<Self, ClientSetupError> {
        if settings.urls.is_empty() {
            return Err(ClientSetupError::NoUrls);
        }
        let mut urls = Vec::with_capacity(settings.urls.len());
        for url in &settings.urls {
            let parsed = reqwest::Url::parse(url).map_err(|e| ClientSetupError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            if parsed.scheme() != "https" {
                return Err(ClientSetupError::BadUrl {
                    url: url.clone(),
                    reason: "only https:// is allowed".to_owned(),
                });
            }
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(ClientSetupError::BadUrl {
                    url: url.clone(),
                    reason: "a base URL has no query or fragment".to_owned(),
                });
            }
            urls.push(url.trim_end_matches('/').to_owned());
        }
        let cas = reqwest::Certificate::from_pem_bundle(settings.ca_pem.as_bytes())
            .map_err(|e| ClientSetupError::BadCa(e.to_string()))?;
        if cas.is_empty() {
            return Err(ClientSetupError::BadCa(
                "no certificate in the PEM text".to_owned(),
            ));
        }
        let identity = reqwest::Identity::from_pem(settings.identity_pem.as_bytes())
            .map_err(|e| ClientSetupError::BadIdentity(error_chain(&e)))?;
        let http = reqwest::Client::builder()
            .tls_certs_only(cas)
            .identity(identity)
            .https_only(true)
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientSetupError::Build(error_chain(&e)))?;
        Ok(Self {
            http,
            urls: urls.into(),
            preferred: Arc::new(AtomicUsize::new(0)),
            retries: settings.retries,
        })
    }

    /// Who is at the kiosk. Not retried: a second identify would open a second session.
    pub async fn identify(&self, req: &IdentifyRequest) -> Result<IdentifyResponse, CallError> {
        self.call(Method::POST, routes::IDENTIFY, Some(req), Retry::No)
            .await
    }

    /// Issues a code. Retried: the central answers the same request id with the same code.
    pub async fn issue(&self, req: &IssueRequest) -> Result<IssuedCode, CallError> {
        self.call(Method::POST, routes::CODES, Some(req), Retry::Yes)
            .await
    }

    /// Reports a slip printed.
    pub async fn printed(&self, code: &CodeId, req: &PrintedRequest) -> Result<(), CallError> {
        let _: Ack = self
            .call(
                Method::POST,
                &routes::code_printed(code),
                Some(req),
                Retry::Yes,
            )
            .await?;
        Ok(())
    }

    /// Reports a slip that could not be printed.
    pub async fn print_failed(
        &self,
        code: &CodeId,
        req: &PrintFailedRequest,
    ) -> Result<(), CallError> {
        let _: Ack = self
            .call(
                Method::POST,
                &routes::code_print_failed(code),
                Some(req),
                Retry::Yes,
            )
            .await?;
        Ok(())
    }

    /// Sends the kiosk's status.
    pub async fn heartbeat(&self, req: &HeartbeatRequest) -> Result<HeartbeatResponse, CallError> {
        self.call(Method::POST, routes::HEARTBEAT, Some(req), Retry::Yes)
            .await
    }

    /// Uploads a batch of journal events (idempotent per event id).
    pub async fn journal(&self, batch: &JournalBatch) -> Result<JournalAck, CallError> {
        self.call(Method::POST, routes::JOURNAL, Some(batch), Retry::Yes)
            .await
    }

    /// The central-managed settings.
    pub async fn config(&self) -> Result<KioskConfig, CallError> {
        self.call::<(), _>(Method::GET, routes::CONFIG, None, Retry::Yes)
            .await
    }

    /// The issuer public keys.
    pub async fn keys(&self) -> Result<KeysResponse, CallError> {
        self.call::<(), _>(Method::GET, routes::KEYS, None, Retry::Yes)
            .await
    }

    /// The configured base URLs, in order.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// One call: over the URLs (starting with the one that answered last), then, if allowed,
    /// again after a back-off pause.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<T, CallError> {
        let body = match body {
            Some(body) => Some(serde_json::to_vec(body).map_err(|e| {
                CallError::BadAnswer(format!("the request could not be encoded: {e}"))
            })?),
            None => None,
        };
        let rounds = rounds(retry, self.retries);
        let count = self.urls.len();
        let mut last = String::from("no URL was tried");
        for round in 0..rounds {
            if round > 0 {
                let pause = backoff(round - 1);
                tracing::debug!(path, round, pause_ms = pause.as_millis(), "retrying");
                tokio::time::sleep(pause).await;
            }
            let first = self.preferred.load(Ordering::Relaxed);
            for step in 0..count {
                let index = (first + step) % count;
                let Some(base) = self.urls.get(index) else {
                    continue;
                };
                match self.try_once(&method, base, path, body.as_deref()).await {
                    Try::Answered(result) => {
                        if index != first {
                            tracing::info!(url = %base, "switched to another central URL");
                        }
                        self.preferred.store(index, Ordering::Relaxed);
                        return result;
                    }
                    Try::Unreachable { message, sent } => {
                        tracing::warn!(url = %base, path, error = %message, "central call failed");
                        last = message;
                        if sent && retry == Retry::No {
                            return Err(CallError::Unreachable(last));
                        }
                    }
                }
            }
        }
        Err(CallError::Unreachable(last))
    }

    /// One request to one base URL.
    async fn try_once<T: DeserializeOwned>(
        &self,
        method: &Method,
        base: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Try<T> {
        let mut request = self.http.request(method.clone(), format!("{base}{path}"));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return Try::Unreachable {
                    message: error_chain(&e),
                    sent: !e.is_connect(),
                };
            }
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => {
                return Try::Unreachable {
                    message: format!("reading the answer ({status}): {}", error_chain(&e)),
                    sent: true,
                };
            }
        };
        if status.is_success() {
            return Try::Answered(serde_json::from_slice(&bytes).map_err(|e| {
                CallError::BadAnswer(format!("a {status} answer that does not parse: {e}"))
            }));
        }
        let error_body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
        if status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
        {
            let message = match error_body {
                Some(body) => format!("{status}: {} ({})", body.error, body.message),
                None => status.to_string(),
            };
            return Try::Unreachable {
                message,
                sent: true,
            };
        }
        if status.is_client_error() {
            return Try::Answered(Err(match error_body {
                Some(body) => CallError::Refused(body),
                None => CallError::BadAnswer(format!("a {status} answer without an error body")),
            }));
        }
        Try::Answered(Err(CallError::BadAnswer(format!(
            "an unexpected {status} answer"
        ))))
    }
}

/// How many rounds over the URLs a call makes: idempotent calls `1 + retries`, others one.
fn rounds(retry: Retry, retries: u32) -> u32 {
    match retry {
        Retry::Yes => retries.saturating_add(1),
        Retry::No => 1,
    }
}

/// The pause before retry round `n + 1`: 200 ms × 2ⁿ, ±50 % jitter, at most 5 s.
pub(crate) fn backoff(n: u32) -> Duration {
    backoff_with(n, getrandom::u32().ok())
}

/// [`backoff`] with the random draw given: `None` (no randomness) means no jitter.
fn backoff_with(n: u32, random: Option<u32>) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(2u32.saturating_pow(n.min(16)));
    jitter_with(exp.min(BACKOFF_CAP), random).min(BACKOFF_CAP)
}

/// `d` scaled by 0.5 + `random` / 2³² (from half of `d` to 1.5 times it, rounded to the
/// nanosecond); `d` itself for `None`.
fn jitter_with(d: Duration, random: Option<u32>) -> Duration {
    match random {
        Some(r) => d.mul_f64(0.5 + f64::from(r) / (f64::from(u32::MAX) + 1.0)),
        None => d,
    }
}

/// An error and its sources on one line (reqwest's own message is often just "error sending
/// request"; the TLS or connect reason is further down).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn backoff_grows_and_is_capped() {
        for n in 0..40 {
            let pause = backoff(n);
            let nominal = BACKOFF_BASE
                .saturating_mul(2u32.saturating_pow(n.min(16)))
                .min(BACKOFF_CAP);
            assert!(pause >= nominal / 2, "round {n}: {pause:?}");
            assert!(pause <= BACKOFF_CAP, "round {n}: {pause:?}");
        }
    }

    #[test]
    fn backoff_without_jitter_doubles_from_200_ms_to_the_5_s_cap() {
        let pauses: Vec<Duration> = (0..8).map(|n| backoff_with(n, None)).collect();
        assert_eq!(
            pauses,
            [
                MS(200),
                MS(400),
                MS(800),
                MS(1_600),
                MS(3_200),
                MS(5_000),
                MS(5_000),
                MS(5_000)
            ]
        );
        // Far rounds neither overflow nor pass the cap.
        assert_eq!(backoff_with(u32::MAX, None), MS(5_000));
        assert_eq!(backoff_with(u32::MAX, Some(u32::MAX)), MS(5_000));
    }

    #[test]
    fn jitter_spans_half_to_one_and_a_half_times() {
        assert_eq!(jitter_with(MS(1_000), None), MS(1_000));
        assert_eq!(jitter_with(MS(1_000), Some(0)), MS(500));
        assert_eq!(jitter_with(MS(1_000), Some(1 << 31)), MS(1_000));
        let top = jitter_with(MS(1_000), Some(u32::MAX));
        assert!(top <= MS(1_500) && top > MS(1_499), "{top:?}");
        // The bounds of each round, before the cap: nominal / 2 to nominal × 1.5.
        for n in 0..5 {
            let nominal = backoff_with(n, None);
            assert_eq!(backoff_with(n, Some(0)), nominal / 2, "round {n}");
            let high = backoff_with(n, Some(u32::MAX));
            assert!(
                high <= nominal * 3 / 2 && high > nominal,
                "round {n}: {high:?}"
            );
        }
        // Once the nominal pause is capped (round 5 on), jitter only shortens it: [2.5 s, 5 s].
        for n in [5, 9, 40] {
            assert_eq!(backoff_with(n, Some(0)), MS(2_500), "round {n}");
            assert_eq!(backoff_with(n, Some(1 << 31)), MS(5_000), "round {n}");
            assert_eq!(backoff_with(n, Some(u32::MAX)), MS(5_000), "round {n}");
        }
    }

    #[test]
    fn random_jitter_spreads_the_pauses() {
        // Round 2: 800 ms nominal.
        let pauses: Vec<Duration> = (0..200).map(|_| backoff(2)).collect();
        assert!(pauses.iter().all(|p| (MS(400)..=MS(1_200)).contains(p)));
        // Two hundred draws from 0.4 s to 1.2 s: both halves are hit (a failure here has odds
        // of 2 × 2⁻²⁰⁰).
        assert!(pauses.iter().any(|p| *p < MS(800)), "{pauses:?}");
        assert!(pauses.iter().any(|p| *p >= MS(800)), "{pauses:?}");
    }

    #[test]
    fn only_idempotent_calls_go_round_again() {
        assert_eq!(rounds(Retry::No, 0), 1);
        assert_eq!(rounds(Retry::No, 3), 1, "identify is never retried");
        assert_eq!(rounds(Retry::Yes, 0), 1);
        assert_eq!(rounds(Retry::Yes, 3), 4);
        assert_eq!(rounds(Retry::Yes, u32::MAX), u32::MAX);
    }

    /// A loopback port that accepts connections and closes them at once (no TLS answer), and
    /// counts them.
    async fn closing_listener() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        (format!("https://127.0.0.1:{port}"), count)
    }

    fn client_for(url: String, retries: u32) -> CentralClient {
        let (ca, identity) = test_identity();
        let mut settings = ClientSettings::new(vec![url], ca, identity);
        settings.retries = retries;
        settings.connect_timeout = Duration::from_secs(5);
        CentralClient::new(settings).unwrap()
    }

    /// A self-signed certificate and key, as the CA and the client identity (the listener never
    /// gets as far as checking them).
    fn test_identity() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert = cert.pem();
        (cert.clone(), format!("{cert}{}", key.serialize_pem()))
    }

    #[tokio::test]
    async fn identify_tries_once_and_idempotent_calls_retry_with_back_off() {
        let (url, count) = closing_listener().await;
        let client = client_for(url, 2);
        let request = IdentifyRequest::SuishenCode("token".to_owned());
        let result = client.identify(&request).await;
        assert!(
            matches!(result, Err(CallError::Unreachable(_))),
            "{result:?}"
        );
        assert_eq!(count.load(Ordering::SeqCst), 1, "identify: one try");

        count.store(0, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let result = client.config().await;
        assert!(
            matches!(result, Err(CallError::Unreachable(_))),
            "{result:?}"
        );
        assert_eq!(count.load(Ordering::SeqCst), 3, "config: 1 + 2 retries");
        // Two pauses of at least 100 ms and 200 ms (200 ms and 400 ms, jittered down to half).
        assert!(started.elapsed() >= MS(300), "{:?}", started.elapsed());
    }

    #[test]
    fn settings_reject_plain_http_and_empty_lists() {
        let settings = ClientSettings::new(Vec::new(), String::new(), String::new());
        assert!(matches!(
            CentralClient::new(settings),
            Err(ClientSetupError::NoUrls)
        ));
        let settings = ClientSettings::new(
            vec!["http://localhost:1".to_owned()],
            String::new(),
            String::new(),
        );
        assert!(matches!(
            CentralClient::new(settings),
            Err(ClientSetupError::BadUrl { .. })
        ));
        let settings = ClientSettings::new(
            vec!["https://localhost:1".to_owned()],
            "not a certificate".to_owned(),
            String::new(),
        );
        assert!(matches!(
            CentralClient::new(settings),
            Err(ClientSetupError::BadCa(_))
        ));
    }

    #[test]
    fn debug_leaves_out_the_key() {
        let settings = ClientSettings::new(
            vec!["https://localhost:1".to_owned()],
            "CA".to_owned(),
            "-----BEGIN PRIVATE KEY-----secret".to_owned(),
        );
        let text = format!("{settings:?}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn errors_map_to_the_flow() {
        use protocol::api::ErrorCode;
        assert!(matches!(
            CallError::Unreachable("x".into()).to_flow(),
            CentralFailure::Unreachable
        ));
        assert!(matches!(
            CallError::Refused(ErrorBody::new(ErrorCode::SessionExpired, "x")).to_flow(),
            CentralFailure::Refused(ErrorCode::SessionExpired)
        ));
        assert!(matches!(
            CallError::BadAnswer("x".into()).to_flow(),
            CentralFailure::BadAnswer
        ));
    }
}
