//! The HTTP API v1: the router, the extractors that authenticate kiosks (client certificate) and
//! bearer-token holders, the handlers, and the one error type every failure becomes.
//!
//! Handlers are thin: they check the caller, call storage on a blocking thread, and apply the
//! shared rules of `protocol`. Every failure answers `{"error", "message"}` with a 4xx; a 5xx is a
//! bug or a storage outage, and its details go to the log, not to the caller.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use protocol::api::{
    Ack, CodeId, CodeState, ErrorBody, ErrorCode, HeartbeatRequest, HeartbeatResponse, Holder,
    IdentifyRequest, IdentifyResponse, IssueRequest, IssuedCode, JournalAck, JournalBatch,
    KeyEntry, KeysResponse, KioskConfig, KioskDirectory, KioskListing, Person, Photo,
    PrintFailedRequest, PrintedRequest, ReportLostRequest, ReportLostResponse, SessionToken,
    Validity, VenueScanRequest, VenueScanResponse, VerifyRequest, VerifyResponse, VerifyResult,
    routes,
};
use protocol::code::{CodeError, OfflineCode, VALIDITY_DAYS};
use protocol::eligibility::{self, Facts};
use protocol::{Eligibility, mask};
use serde::de::DeserializeOwned;
use time::{Date, Duration, OffsetDateTime};
use tower_http::trace::TraceLayer;

use crate::clock::{Clock, SHANGHAI};
use crate::issuer::{IssuerKeys, sign_new_code};
use crate::model::{
    Citizen, CodeRecord, CodeStatus, HeartbeatRecord, IssueInput, KioskRecord, Principal, Role,
    SessionRecord, VerificationLogEntry, code_state,
};
use crate::store::{IssueError, Store, StoreError};
use crate::tls::PeerCert;
use crate::tokens::{self, SuishenSecret};

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// How long an identify session may be used to issue a code.
pub const SESSION_TTL: Duration = Duration::minutes(5);
/// A kiosk whose last heartbeat is older than this is shown offline.
pub const HEARTBEAT_STALE: Duration = Duration::minutes(3);
/// Most bytes of an oversized body read and thrown away before the 413 answer, so that a client
/// still sending sees the answer rather than a closed connection.
pub const DRAIN_LIMIT: usize = 1024 * 1024;
/// Longest time a request may take.
pub const REQUEST_TIMEOUT: StdDuration = StdDuration::from_secs(15);

/// Every API route as (method, path): the OpenAPI document lists exactly these.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("POST", routes::IDENTIFY),
    ("POST", routes::CODES),
    ("POST", routes::CODE_PRINTED),
    ("POST", routes::CODE_PRINT_FAILED),
    ("POST", routes::HEARTBEAT),
    ("POST", routes::JOURNAL),
    ("GET", routes::CONFIG),
    ("GET", routes::KEYS),
    ("POST", routes::VERIFY),
    ("POST", routes::REPORT_LOST),
    ("GET", routes::KIOSKS),
    ("POST", routes::VENUE_SCANS),
    ("GET", OPENAPI_PATH),
    ("GET", HEALTH_PATH),
];

/// Where a load balancer asks whether this instance can serve (no authentication).
pub const HEALTH_PATH: &str = "/healthz";
/// How long the health check waits for the database.
pub const HEALTH_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";
/// The OpenAPI document of this API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The issuer keys (re-read when the key directory changes).
    pub keys: Arc<Mutex<IssuerKeys>>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Signs and checks 随申码 tokens.
    pub suishen: SuishenSecret,
}

/// The router of the API v1, without TLS (the listener adds the peer certificate).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(routes::IDENTIFY, post(identify))
        .route(routes::CODES, post(issue))
        .route(routes::CODE_PRINTED, post(printed))
        .route(routes::CODE_PRINT_FAILED, post(print_failed))
        .route(routes::HEARTBEAT, post(heartbeat))
        .route(routes::JOURNAL, post(journal))
        .route(routes::CONFIG, get(config))
        .route(routes::KEYS, get(keys))
        .route(routes::VERIFY, post(verify))
        .route(routes::REPORT_LOST, post(report_lost))
        .route(routes::KIOSKS, get(kiosks))
        .route(routes::VENUE_SCANS, post(venue_scan))
        .route(OPENAPI_PATH, get(openapi))
        .route(HEALTH_PATH, get(health))
        .merge(crate::pages::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(whole_body_first))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// An error answer: a code from the API's list and a message for the caller.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A fault on our side: logged in full, answered with a generic message.
    pub fn internal(what: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{what}");
        Self::new(
            ErrorCode::Internal,
            "internal error; the operator has been told",
        )
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody::new(self.code, self.message))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::new(ErrorCode::NotFound, "not found"),
            StoreError::Unavailable(reason) => {
                tracing::error!(%reason, "storage unavailable");
                Self::new(
                    ErrorCode::Unavailable,
                    "the service cannot reach its storage; retry later",
                )
            }
            other => Self::internal("storage failed", &other),
        }
    }
}

/// Answers `request_timeout` when a request takes longer than [`REQUEST_TIMEOUT`].
async fn time_limit(request: Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::RequestTimeout,
            "the request took too long; try again",
        )
        .into_response(),
    }
}

/// Reads the whole request body before any handler answers.
///
/// A handler that answers without reading the body (a wrong content type, a refused caller)
/// would otherwise leave bytes in flight; the server then closes the connection and the client,
/// still sending, loses the answer ("connection reset" or a TLS EOF instead of a 4xx). A body
/// over [`MAX_BODY`] is read on up to [`DRAIN_LIMIT`] and answered `body_too_large`; beyond that
/// the answer says `Connection: close`.
async fn whole_body_first(request: Request, next: axum::middleware::Next) -> Response {
    use http_body_util::BodyExt;

    let (parts, mut body) = request.into_parts();
    let mut kept = Vec::new();
    let mut seen = 0_usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ApiError::new(ErrorCode::BadRequest, "the body could not be read")
                .into_response();
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_BODY {
            kept.extend_from_slice(&data);
        } else if seen > DRAIN_LIMIT {
            let mut response = too_large().into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    }
    if seen > MAX_BODY {
        return too_large().into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(kept)))
        .await
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::BodyTooLarge,
        format!("the body is larger than {MAX_BODY} bytes"),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take this method",
    )
}

/// Runs `f` on the issuer keys, re-read first if the key directory changed (a key rotated by the
/// command line while serving).
pub(crate) fn with_keys<T>(
    state: &AppState,
    f: impl FnOnce(&IssuerKeys) -> T,
) -> Result<T, ApiError> {
    let mut keys = state
        .keys
        .lock()
        .map_err(|_| ApiError::internal("issuer keys", &"poisoned lock"))?;
    if let Err(e) = keys.refresh() {
        tracing::warn!(error = %e, "could not re-read the issuer keys; using the loaded ones");
    }
    Ok(f(&keys))
}

/// Runs a storage call on a blocking thread.
pub(crate) async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .map_err(|e| ApiError::internal("storage task failed", &e))?
        .map_err(ApiError::from)
}

// ---------------------------------------------------------------------------------------------
// Extractors
// ---------------------------------------------------------------------------------------------

/// A JSON body whose every rejection is an [`ApiError`].
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(ErrorCode::InvalidJson, "the body is not valid JSON")
        }
        JsonRejection::JsonDataError(e) => {
            // The message names the field and problem; ID numbers never appear in it (their
            // deserializer reports a fixed text).
            let detail = e.body_text();
            ApiError::new(ErrorCode::for_deserialize_error(&detail), detail)
        }
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        other => ApiError::new(ErrorCode::BadRequest, other.body_text()),
    }
}

/// The kiosk calling, known by its client certificate.
pub struct Kiosk(pub KioskRecord);

impl FromRequestParts<AppState> for Kiosk {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let fingerprint = parts
            .extensions
            .get::<PeerCert>()
            .and_then(|peer| peer.0)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "kiosk calls need the kiosk's client certificate",
                )
            })?;
        let kiosk = blocking(state, move |store| store.kiosk_by_fingerprint(&fingerprint)).await?;
        kiosk.map(Self).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                "this certificate belongs to no enrolled kiosk",
            )
        })
    }
}

/// A bearer-token holder.
pub struct Bearer(pub Principal);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "sign in with your token"))?;
        principal_for_token(state, token)
            .await?
            .map(Self)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "this token is not valid"))
    }
}

/// The holder of a bearer token, if the token is one the service issued.
pub(crate) async fn principal_for_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Principal>, ApiError> {
    let hash = tokens::token_hash(token);
    blocking(state, move |store| store.principal(&hash)).await
}

impl Bearer {
    fn require(self, role: Role) -> Result<Principal, ApiError> {
        if self.0.role == role {
            Ok(self.0)
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "this token does not allow this call",
            ))
        }
    }
}

fn no_store<T: IntoResponse>(body: T) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// ---------------------------------------------------------------------------------------------
// Shared rules
// ---------------------------------------------------------------------------------------------

/// The person's eligibility today.
pub fn eligibility_for(citizen: &Citizen, today: Date) -> Eligibility {
    eligibility::assess(
        &Facts {
            birth_date: citizen.id_number.birth_date(),
            has_photo: citizen.photo.is_some(),
            realname_verified: citizen.realname_verified,
        },
        today,
    )
}

fn photo_of(citizen: &Citizen) -> Option<Photo> {
    citizen.photo.as_ref().map(|p| Photo {
        mime: p.mime.clone(),
        data_base64: STANDARD.encode(&p.bytes),
    })
}

fn validity_from(today: Date) -> Validity {
    let expires_on = today
        .checked_add(Duration::days(i64::from(VALIDITY_DAYS) - 1))
        .unwrap_or(Date::MAX);
    Validity {
        issued_on: today,
        expires_on,
    }
}

fn issued_code(code: &CodeRecord) -> IssuedCode {
    IssuedCode {
        code_id: code.code_id,
        kid: code.kid,
        serial: code.serial,
        issued_on: code.issued_on,
        expires_on: code.expires_on,
        qr_text: code.qr_text.clone(),
        replaced: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Kiosk routes
// ---------------------------------------------------------------------------------------------

async fn identify(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    ApiJson(request): ApiJson<IdentifyRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let today = state.clock.today();
    let citizen = match request {
        IdentifyRequest::IdCard(card) => {
            if card.valid_until.is_some_and(|until| until < today) {
                return Err(ApiError::new(
                    ErrorCode::CardExpired,
                    "the ID card has expired: please renew it at the counter",
                ));
            }
            let id_number = card.id_number.clone();
            let citizen =
                blocking(&state, move |store| store.citizen_by_id_number(&id_number)).await?;
            match citizen {
                Some(c) if c.name.trim() == card.name.trim() => c,
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::UnknownPerson,
                        "no record matches this card: please ask the counter staff",
                    ));
                }
            }
        }
        IdentifyRequest::SuishenCode(token) => {
            let id = state.suishen.check(&token, now).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidSuishenCode,
                    format!("{e}: refresh it in 随申办"),
                )
            })?;
            blocking(&state, move |store| store.citizen(id))
                .await?
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::UnknownPerson, "no record for this 随申码")
                })?
        }
    };
    let citizen_id = citizen.id;
    let current = blocking(&state, move |store| store.current_code(citizen_id)).await?;
    let eligibility = eligibility_for(&citizen, today);
    let code = code_state(current.as_ref(), today);
    let token = tokens::random_token("s_").map_err(|e| ApiError::internal("no randomness", &e))?;
    let expires_at = now + SESSION_TTL;
    let hash = tokens::token_hash(&token);
    let record = SessionRecord {
        citizen: citizen.id,
        kiosk_id: kiosk.kiosk_id,
        shown_code: match &code {
            CodeState::Active { code_id, .. } | CodeState::Lost { code_id, .. } => Some(*code_id),
            CodeState::None | CodeState::Expired { .. } => None,
        },
        expires_at,
    };
    blocking(&state, move |store| store.create_session(&hash, &record)).await?;
    let response = IdentifyResponse {
        session: SessionToken::new(token),
        session_expires_at: expires_at,
        person: Person {
            name: citizen.name.clone(),
            id_number_masked: citizen.id_number.masked(),
            photo: photo_of(&citizen),
            age: eligibility::age_on(citizen.id_number.birth_date(), today),
            eligibility,
        },
        offer: protocol::rules::offer(&eligibility, &code),
        code,
        next_code: validity_from(today),
    };
    Ok(no_store(Json(response)))
}

async fn issue(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    ApiJson(request): ApiJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let today = state.clock.today();
    // A request id seen before answers with its code, even once the session has expired: this is
    // how a kiosk that crashed mid-issue settles its attempt. A code replaced or lost since is
    // marked so, and the kiosk does not print it.
    let request_id = request.request_id;
    if let Some(code) = blocking(&state, move |store| store.code_by_request_id(&request_id)).await?
    {
        if code.kiosk_id == kiosk.kiosk_id && code.action == request.action {
            let replayed = IssuedCode {
                replaced: code.status != CodeStatus::Active,
                ..issued_code(&code)
            };
            return Ok(Json(replayed).into_response());
        }
        return Err(ApiError::new(
            ErrorCode::ConflictRequestId,
            "this request id was used for another request",
        ));
    }
    let hash = tokens::token_hash(request.session.as_str());
    let session = blocking(&state, move |store| store.session(&hash)).await?;
    let session = session
        .filter(|s| s.kiosk_id == kiosk.kiosk_id)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::UnknownSession, "unknown session: identify again")
        })?;
    if session.expires_at < now {
        return Err(ApiError::new(
            ErrorCode::SessionExpired,
            "the session expired: identify again",
        ));
    }
    let citizen_id = session.citizen;
    let citizen = blocking(&state, move |store| store.citizen(citizen_id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownPerson, "no record for this session"))?;
    let eligibility = eligibility_for(&citizen, today);
    let signer = with_keys(&state, |keys| keys.current().cloned())?
        .ok_or_else(|| ApiError::internal("issuer keys", &"no key"))?;
    let input = IssueInput {
        request_id,
        citizen: citizen.id,
        action: request.action,
        kiosk_id: kiosk.kiosk_id,
        shown_code: session.shown_code,
        today,
        now,
    };
    let store = Arc::clone(&state.store);
    let outcome = tokio::task::spawn_blocking(move || {
        store.issue(&input, &eligibility, &mut |serial| {
            sign_new_code(&signer, serial, today)
        })
    })
    .await
    .map_err(|e| ApiError::internal("issuing task failed", &e))?;
    match outcome {
        Ok(issued) => Ok(Json(issued_code(issued.code())).into_response()),
        Err(IssueError::Refused(refused)) => {
            Err(ApiError::new(refused.error_code(), refused.to_string()))
        }
        Err(IssueError::RequestIdReused) => Err(ApiError::new(
            ErrorCode::ConflictRequestId,
            "this request id was used for another request",
        )),
        Err(IssueError::Sign(e)) => Err(ApiError::internal("signing failed", &e)),
        Err(IssueError::Store(e)) => Err(e.into()),
    }
}

/// A kiosk's timestamp must lie within years 2000 to 2999: anything else is a broken clock or a
/// broken client, refused rather than stored.
fn plausible_time(at: OffsetDateTime, field: &str) -> Result<OffsetDateTime, ApiError> {
    match at.checked_to_offset(time::UtcOffset::UTC) {
        Some(utc) if (2000..3000).contains(&utc.year()) => Ok(at),
        _ => Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("{field} must be a time between the years 2000 and 2999"),
        )),
    }
}

fn parse_code_id(text: &str) -> Result<CodeId, ApiError> {
    CodeId::parse(text).map_err(|e| ApiError::new(ErrorCode::InvalidCodeId, e.to_string()))
}

async fn kiosk_code(
    state: &AppState,
    kiosk: &KioskRecord,
    code_id: CodeId,
    request_id: protocol::api::RequestId,
) -> Result<CodeRecord, ApiError> {
    let code = blocking(state, move |store| store.code(&code_id)).await?;
    code.filter(|c| c.kiosk_id == kiosk.kiosk_id && c.request_id == request_id)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownCode, "this kiosk issued no such code"))
}

async fn printed(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    Path(code_id): Path<String>,
    ApiJson(request): ApiJson<PrintedRequest>,
) -> Result<Json<Ack>, ApiError> {
    let code_id = parse_code_id(&code_id)?;
    let at = plausible_time(request.printed_at, "printed_at")?;
    kiosk_code(&state, &kiosk, code_id, request.request_id).await?;
    blocking(&state, move |store| store.mark_printed(&code_id, at)).await?;
    Ok(Json(Ack::OK))
}

async fn print_failed(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    Path(code_id): Path<String>,
    ApiJson(request): ApiJson<PrintFailedRequest>,
) -> Result<Json<Ack>, ApiError> {
    let code_id = parse_code_id(&code_id)?;
    kiosk_code(&state, &kiosk, code_id, request.request_id).await?;
    let now = state.clock.now();
    let reason = request.reason;
    blocking(&state, move |store| {
        store.mark_print_failed(&code_id, now, reason)
    })
    .await?;
    Ok(Json(Ack::OK))
}

async fn heartbeat(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    ApiJson(report): ApiJson<HeartbeatRequest>,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    plausible_time(report.sent_at, "sent_at")?;
    if let Some(at) = report.help_requested_at {
        plausible_time(at, "help_requested_at")?;
    }
    let now = state.clock.now();
    let record = HeartbeatRecord {
        received_at: now,
        report,
    };
    let config_version = blocking(&state, move |store| {
        store.record_heartbeat(&kiosk.kiosk_id, &record)?;
        Ok(store.kiosk_config()?.version)
    })
    .await?;
    Ok(Json(HeartbeatResponse {
        server_time: now,
        config_version,
    }))
}

async fn journal(
    State(state): State<AppState>,
    Kiosk(kiosk): Kiosk,
    ApiJson(batch): ApiJson<JournalBatch>,
) -> Result<Json<JournalAck>, ApiError> {
    for event in &batch.events {
        plausible_time(event.at, "at")?;
    }
    if !batch.within_limit() {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "send at most {} events at once",
                protocol::api::MAX_JOURNAL_BATCH
            ),
        ));
    }
    let (accepted, duplicates) = blocking(&state, move |store| {
        store.append_journal(&kiosk.kiosk_id, &batch.events)
    })
    .await?;
    Ok(Json(JournalAck {
        accepted,
        duplicates,
    }))
}

async fn config(
    State(state): State<AppState>,
    Kiosk(_kiosk): Kiosk,
) -> Result<Json<KioskConfig>, ApiError> {
    Ok(Json(blocking(&state, |store| store.kiosk_config()).await?))
}

// ---------------------------------------------------------------------------------------------
// Public, verifier and portal routes
// ---------------------------------------------------------------------------------------------

async fn keys(State(state): State<AppState>) -> Result<Json<KeysResponse>, ApiError> {
    let set = with_keys(&state, IssuerKeys::key_set)?;
    let keys = set
        .iter()
        .map(|(kid, key)| KeyEntry {
            kid,
            alg: protocol::api::ALG_SM2_SM3.to_owned(),
            public_key_hex: key.to_hex(),
        })
        .collect();
    Ok(Json(KeysResponse { keys }))
}

async fn verify(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    let verifier = bearer.require(Role::Verifier)?;
    let response = verify_payload(&state, &verifier, &request.payload).await?;
    Ok(no_store(Json(response)))
}

/// Verifies a scanned payload for a verifier and logs the verification: the code path of
/// `POST /v1/verify`, shared with the verifier page.
///
/// A verifier bound to a venue (a door verifier, see [`crate::venues`]) is refused with
/// `venue_not_active` while the venue is not approved, and each of their `valid` verdicts records
/// an entry at the venue with the holder's colour.
pub(crate) async fn verify_payload(
    state: &AppState,
    verifier: &Principal,
    payload: &str,
) -> Result<VerifyResponse, ApiError> {
    let now = state.clock.now();
    let today = state.clock.today();
    if let Some(venue_id) = verifier.venue {
        let venue = blocking(state, move |store| store.venue(venue_id)).await?;
        if venue.is_none_or(|v| v.status != crate::venues::VenueStatus::Approved) {
            return Err(ApiError::new(
                ErrorCode::VenueNotActive,
                "this verifier's venue is not approved (or is suspended): nothing was checked",
            ));
        }
    }
    let key_set = with_keys(state, IssuerKeys::key_set)?;
    let watermark = format!(
        "{} · {} · {}",
        verifier.name,
        verifier.org,
        now.to_offset(SHANGHAI)
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default()
    );
    let mut response = VerifyResponse {
        result: VerifyResult::Unknown,
        color: None,
        holder: None,
        serial: None,
        expires_on: None,
        checked_at: now,
        watermark,
    };
    let mut logged_code = None;
    match OfflineCode::verify(payload.trim_end_matches(['\r', '\n']), &key_set) {
        Err(CodeError::Prefix | CodeError::UnknownKid(_)) => {
            response.result = VerifyResult::Unknown
        }
        Err(_) => response.result = VerifyResult::Forged,
        Ok(code) => {
            let code_id = CodeId::from_bytes(code.body().code_id());
            logged_code = Some(code_id);
            let record = blocking(state, move |store| store.code(&code_id)).await?;
            match record {
                None => response.result = VerifyResult::Unknown,
                Some(record)
                    if record.serial != code.body().serial() || record.kid != code.body().kid() =>
                {
                    response.result = VerifyResult::Forged;
                }
                Some(record) => {
                    let citizen_id = record.citizen;
                    let citizen = blocking(state, move |store| store.citizen(citizen_id))
                        .await?
                        .ok_or_else(|| {
                            ApiError::internal("verify", &"a code refers to no citizen")
                        })?;
                    response.result = match record.status {
                        CodeStatus::Superseded => VerifyResult::Superseded,
                        CodeStatus::Lost => VerifyResult::Lost,
                        CodeStatus::Active if code.body().check_date(today).is_err() => {
                            if today > record.expires_on {
                                VerifyResult::Expired
                            } else {
                                VerifyResult::NotYetValid
                            }
                        }
                        CodeStatus::Active => VerifyResult::Valid,
                    };
                    let valid = response.result == VerifyResult::Valid;
                    if let (true, Some(venue)) = (valid, verifier.venue) {
                        let entry = crate::venues::NewEntry {
                            venue,
                            at: now,
                            citizen: citizen.id,
                            color: citizen.color,
                            via: crate::venues::EntryVia::DoorVerifier {
                                verifier: verifier.id,
                            },
                        };
                        let recorded =
                            blocking(state, move |store| store.record_entry(&entry)).await?;
                        if recorded.is_err() {
                            return Err(ApiError::new(
                                ErrorCode::VenueNotActive,
                                "this verifier's venue is not approved (or is suspended)",
                            ));
                        }
                    }
                    response.serial = Some(record.serial);
                    response.expires_on = Some(record.expires_on);
                    response.color = valid.then_some(citizen.color);
                    response.holder = Some(Holder {
                        name: mask::mask_name(&citizen.name),
                        id_number: citizen.id_number.masked(),
                        photo: if valid { photo_of(&citizen) } else { None },
                    });
                }
            }
        }
    }
    let entry = VerificationLogEntry {
        verifier: verifier.id,
        at: now,
        code_id: logged_code,
        result: response.result,
    };
    blocking(state, move |store| store.log_verification(&entry)).await?;
    Ok(response)
}

async fn report_lost(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(request): ApiJson<ReportLostRequest>,
) -> Result<Json<ReportLostResponse>, ApiError> {
    bearer.require(Role::Portal)?;
    let (_, lost) = report_lost_for(&state, request.id_number).await?;
    Ok(Json(lost))
}

/// Makes the active code of the person with this ID number lost at once: the code path of
/// `POST /v1/portal/report-lost`, shared with the counter page. Returns the person (for the
/// counter's confirmation, masked there) and the answer of the API.
pub(crate) async fn report_lost_for(
    state: &AppState,
    id_number: protocol::IdNumber,
) -> Result<(Citizen, ReportLostResponse), ApiError> {
    let now = state.clock.now();
    let citizen = blocking(state, move |store| store.citizen_by_id_number(&id_number))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownPerson, "no record for this ID number"))?;
    let citizen_id = citizen.id;
    let lost = blocking(state, move |store| {
        match store.report_lost(citizen_id, now) {
            Err(StoreError::NotFound) => Ok(None),
            other => other.map(Some),
        }
    })
    .await?
    .ok_or_else(|| {
        ApiError::new(
            ErrorCode::ConflictNoCode,
            "this person holds no active offline code",
        )
    })?;
    let response = ReportLostResponse {
        code_id: lost.code_id,
        serial: lost.serial,
        lost_at: now,
    };
    Ok((citizen, response))
}

/// Whether a kiosk can issue right now, from its latest heartbeat.
pub fn listing(
    kiosk: &KioskRecord,
    heartbeat: Option<&HeartbeatRecord>,
    now: OffsetDateTime,
) -> KioskListing {
    let online = heartbeat.is_some_and(|h| now - h.received_at <= HEARTBEAT_STALE);
    let in_service = heartbeat.is_some_and(|h| h.report.in_service);
    let paper = heartbeat.map_or(protocol::api::PaperState::Unknown, |h| h.report.paper);
    let devices_ok = heartbeat.is_some_and(|h| {
        h.report
            .devices
            .iter()
            .all(|d| d.state != protocol::api::DeviceState::Failed)
    });
    KioskListing {
        kiosk_id: kiosk.kiosk_id.clone(),
        name: kiosk.name.clone(),
        address: kiosk.address.clone(),
        hours: kiosk.hours.clone(),
        can_issue: online
            && in_service
            && devices_ok
            && heartbeat.is_some_and(HeartbeatRecord::has_paper),
        online,
        paper,
        in_service,
        last_heartbeat_at: heartbeat.map(|h| h.received_at),
    }
}

async fn kiosks(State(state): State<AppState>) -> Result<Json<KioskDirectory>, ApiError> {
    let now = state.clock.now();
    let all = blocking(&state, |store| store.kiosks()).await?;
    let kiosks = all
        .iter()
        .map(|(k, h)| listing(k, h.as_ref(), now))
        .collect();
    Ok(Json(KioskDirectory { kiosks }))
}

async fn venue_scan(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VenueScanRequest>,
) -> Result<Response, ApiError> {
    let answer: VenueScanResponse = crate::venues::scan_poster(&state, request).await?;
    Ok(no_store(Json(answer)))
}

/// Whether an instance can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// The database answers and has the schema this build writes.
    Ok,
    /// It does not: send requests to another instance.
    Unavailable,
}

/// The answer of `GET /healthz`: 200 with `ok`, 503 with `unavailable` and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: HealthStatus,
    /// The storage backend: `sqlite` or `postgres`.
    pub backend: String,
    /// The database's schema version, when it answered.
    pub schema_version: Option<i64>,
    /// Why the instance is unavailable (`null` when it is not).
    pub reason: Option<String>,
}

/// `GET /healthz`: one round trip to the database, within [`HEALTH_TIMEOUT`]. The details of a
/// failure go to the log; the answer says only what kind of failure it was.
async fn health(State(state): State<AppState>) -> Response {
    let store = Arc::clone(&state.store);
    let backend = store.backend().to_owned();
    let checked = tokio::time::timeout(
        HEALTH_TIMEOUT,
        tokio::task::spawn_blocking(move || store.health()),
    )
    .await;
    let unavailable = |schema_version: Option<i64>, reason: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Health {
                status: HealthStatus::Unavailable,
                backend: backend.clone(),
                schema_version,
                reason: Some(reason),
            },
        )
    };
    let (code, health) = match checked {
        Ok(Ok(Ok(found))) if found.is_current() => (
            StatusCode::OK,
            Health {
                status: HealthStatus::Ok,
                backend: backend.clone(),
                schema_version: Some(found.schema_version),
                reason: None,
            },
        ),
        Ok(Ok(Ok(found))) => {
            tracing::warn!(
                found = found.schema_version,
                expected = found.expected_schema_version,
                "health check: the database has another schema version"
            );
            unavailable(
                Some(found.schema_version),
                format!(
                    "the database has schema version {}; this build writes {}",
                    found.schema_version, found.expected_schema_version
                ),
            )
        }
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            unavailable(None, "the database does not answer".to_owned())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: the check failed");
            unavailable(None, "the health check failed".to_owned())
        }
        Err(_) => {
            tracing::error!("health check: the database did not answer in time");
            unavailable(None, "the database did not answer in time".to_owned())
        }
    };
    no_store((code, Json(health)))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
