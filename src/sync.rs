//! Background sync with the central service, and the reconciliation of issuance attempts after a
//! restart.
//!
//! # The loop ([`spawn`])
//!
//! One tokio task. A *round* runs at once on start, then every [`SyncSettings::upload_every`],
//! and at once when [`SyncHandle::poke`] is called. A round does, in order, stopping at the
//! first step that fails:
//!
//! 1. **Heartbeat**, when due (every [`SyncSettings::heartbeat_every`]; also in the first
//!    round, after a poke and in every round after a failed one): the [`KioskStatus`] the shell
//!    keeps current, plus the journal backlog. When the answer's `config_version` differs from
//!    the held config's (or none is held yet), the config is fetched ([`SyncState::config`]).
//! 2. **Settle attempts** left unsettled (see [`reconcile`]), except those of the session in
//!    progress ([`KioskStatus::active_session`]) and those younger than
//!    [`SyncSettings::settle_after`]: the flow settles its own attempts.
//! 3. **Report print outcomes** (printed / print-failed). A refusal about the outcome itself
//!    (unknown code, malformed) marks it reported with a warning; unreachable keeps it.
//! 4. **Upload the journal** in batches of at most [`MAX_JOURNAL_BATCH`] events and at most
//!    [`SyncSettings::batch_bytes`] of JSON, oldest first, marking each batch uploaded after the
//!    central's acknowledgement, until nothing is pending. The central drops duplicates by
//!    event id, so a batch sent twice (an acknowledgement lost on the way) is stored once.
//!
//! A round that fails is followed by back-off: the pause doubles from `upload_every` up to
//! [`SyncSettings::max_backoff`]; the first round that succeeds catches up with everything that
//! piled up. The shell reads [`SyncHandle::state`] (reachability for the home screen, backlog,
//! config); [`SyncHandle::flush`] waits until everything is up.
//!
//! A journal batch the central refuses as too large is split. An event the central refuses on
//! its own (a malformed time from a broken clock, say) is marked uploaded with a warning and
//! stays only in the kiosk's journal: one bad event must not hold back every later one. An
//! event too large for one batch goes up with its detail values shortened (`truncated = true`).
//!
//! # Reconciliation ([`reconcile`])
//!
//! Before a restarted kiosk serves anyone, `reconcile(.., at_start = true)`:
//!
//! - every attempt with a code but no print outcome becomes print-failed (`other`, "the kiosk
//!   restarted before the slip was printed"): nothing prints without a person asking;
//! - every attempt written before its request left, with no answer recorded, is asked for again
//!   with the SAME request id and the stored action and the placeholder session token `settle`
//!   (the central answers a known request id with its code before it looks at the session):
//!   a code → recorded, then print-failed as above; `unknown_session` / `session_expired` → the
//!   request never reached the central: not issued; unreachable → left for the loop.
//!
//! # Blocking
//!
//! The journal is a local SQLite file; its calls (a few milliseconds) run on the async task.
//!
//! # Personal data
//!
//! Logs carry request ids, code ids, event ids and counts; never anything about a resident.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use protocol::api::{
    DeviceReport, ErrorCode, HeartbeatRequest, IssueRequest, JournalBatch, JournalEvent,
    JournalKind, KioskConfig, MAX_JOURNAL_BATCH, PaperState, PrintFailedRequest, PrintFailure,
    PrintedRequest, SessionToken,
};
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::client::{CallError, CentralClient};
use crate::journal::{Attempt, Journal, JournalError, OutcomeKind, SESSION_ENDED_BEFORE_PRINT};

/// The print-failure detail of an attempt settled at start-up.
pub const RESTARTED_BEFORE_PRINT: &str = "the kiosk restarted before the slip was printed";
/// The not-issued reason of an attempt whose request never reached the central.
pub const NEVER_REACHED: &str = "the request never reached the central";
/// The session token sent when settling an attempt (the central answers a known request id
/// before it looks at the session; an unknown one is refused as `unknown_session`).
pub const SETTLE_TOKEN: &str = "settle";

/// JSON around the events of a batch: `{"events":[` and `]}`.
const BATCH_OVERHEAD: usize = r#"{"events":[]}"#.len();

/// What the heartbeat reports; the shell keeps it current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskStatus {
    /// One entry per device.
    pub devices: Vec<DeviceReport>,
    /// The printer's paper.
    pub paper: PaperState,
    /// Whether residents can start a session.
    pub in_service: bool,
    /// Why the kiosk is out of service (staff's words), when it is.
    pub out_of_service_reason: Option<String>,
    /// When a resident asked for staff, while the request stands.
    pub help_requested_at: Option<OffsetDateTime>,
    /// The resident session in progress, if any (not sent): the sync leaves its unsettled
    /// attempts to the flow.
    pub active_session: Option<Uuid>,
}

impl Default for KioskStatus {
    fn default() -> Self {
        Self {
            devices: Vec::new(),
            paper: PaperState::Unknown,
            in_service: false,
            out_of_service_reason: None,
            help_requested_at: None,
            active_session: None,
        }
    }
}

/// How often and how much the loop syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// Time between heartbeats (default 30 s).
    pub heartbeat_every: Duration,
    /// Time between rounds (default 5 s).
    pub upload_every: Duration,
    /// Longest pause after failed rounds (default 60 s).
    pub max_backoff: Duration,
    /// Most JSON bytes in one journal batch (default 48 KiB; the central takes 64 KiB).
    pub batch_bytes: usize,
    /// Age an unsettled attempt must reach before the loop settles it (default 2 min: longer
    /// than any issue call with its retries takes).
    pub settle_after: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            heartbeat_every: Duration::from_secs(30),
            upload_every: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            batch_bytes: 48 * 1024,
            settle_after: Duration::from_secs(120),
        }
    }
}

/// What the loop knows, as of its last round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// Whether the central answered the last call (`None` before the first).
    pub reachable: Option<bool>,
    /// When the central last answered a heartbeat (kiosk clock).
    pub last_heartbeat_at: Option<OffsetDateTime>,
    /// Journal events not yet accepted by the central.
    pub backlog: u64,
    /// The latest config from the central.
    pub config: Option<KioskConfig>,
    /// The last round's failure, if it failed.
    pub last_error: Option<String>,
    /// Issuance attempts with no answer recorded.
    pub unsettled: usize,
    /// Print outcomes not yet reported to the central.
    pub unreported_outcomes: usize,
}

impl SyncState {
    /// Whether nothing waits to go up: no backlog, no unreported outcome, nothing unsettled.
    pub fn is_flushed(&self) -> bool {
        self.backlog == 0 && self.unreported_outcomes == 0 && self.unsettled == 0
    }
}

/// What the loop publishes after each round.
#[derive(Debug, Clone, Default)]
struct Published {
    state: SyncState,
    /// Rounds completed.
    rounds: u64,
    /// Whether the last round could read the journal's counts.
    journal_ok: bool,
}

/// The handle of the sync task. Clones share the task; it ends with [`SyncHandle::stop`] or
/// when every handle is dropped.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    published: watch::Receiver<Published>,
    poke: Arc<Notify>,
    stop: Arc<watch::Sender<bool>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl SyncHandle {
    /// The state as of the last round.
    pub fn state(&self) -> SyncState {
        self.published.borrow().state.clone()
    }

    /// Runs a round now, heartbeat included (a help request, a forced sync), even while backing
    /// off.
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    /// Pokes and waits until a round ends with no backlog, every outcome reported and nothing
    /// unsettled; `false` if that did not happen within `within` or the task has stopped.
    pub async fn flush(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let mut published = self.published.clone();
        let start = published.borrow_and_update().rounds;
        self.poke();
        loop {
            {
                let now = published.borrow_and_update();
                if now.rounds > start && now.journal_ok && now.state.is_flushed() {
                    return true;
                }
            }
            match tokio::time::timeout_at(deadline, published.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return false,
            }
        }
    }

    /// Stops the task (a round in progress is abandoned; every step is idempotent) and waits
    /// for it to end.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the sync task failed");
        }
    }
}

/// Starts the sync loop on the current tokio runtime.
pub fn spawn(
    client: CentralClient,
    journal: Arc<Journal>,
    status: Arc<Mutex<KioskStatus>>,
    settings: SyncSettings,
    kiosk_version: String,
) -> SyncHandle {
    let (published_tx, published) = watch::channel(Published::default());
    let (stop, stop_rx) = watch::channel(false);
    let poke = Arc::new(Notify::new());
    let worker = Worker {
        client,
        journal,
        status,
        settings,
        kiosk_version,
        published: published_tx,
        reachable: None,
        last_heartbeat_at: None,
        config: None,
    };
    let task = tokio::spawn(run(worker, Arc::clone(&poke), stop_rx));
    SyncHandle {
        published,
        poke,
        stop: Arc::new(stop),
        task: Arc::new(Mutex::new(Some(task))),
    }
}

/// What start-up reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Issued-but-unprinted attempts made print-failed (at start only).
    pub unprinted: usize,
    /// Unsettled attempts the central answered with their code (now print-failed).
    pub issued: usize,
    /// Unsettled attempts whose request never reached the central (now not issued).
    pub not_issued: usize,
    /// Unsettled attempts still unsettled (central unreachable, or an unexpected answer).
    pub left: usize,
    /// Whether the central was unreachable.
    pub unreachable: bool,
}

/// Why reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Start-up reconciliation (see the module docs). With `at_start`, issued-but-unprinted
/// attempts become print-failed first; call it so only before the kiosk serves anyone (and
/// never while another kiosk process runs on the journal). Without `at_start`, only the
/// unsettled attempts are settled.
pub async fn reconcile(
    client: &CentralClient,
    journal: &Journal,
    at_start: bool,
) -> Result<Reconciled, SyncError> {
    let mut done = Reconciled::default();
    if at_start {
        for attempt in journal.issued_unprinted()? {
            journal.record_print_failed(
                attempt.request_id,
                PrintFailure::Other,
                Some(RESTARTED_BEFORE_PRINT),
                OffsetDateTime::now_utc(),
            )?;
            tracing::info!(request_id = %attempt.request_id, "issued but unprinted at start-up: print failed");
            done.unprinted += 1;
        }
    }
    let unsettled = journal.unsettled()?;
    let detail = if at_start {
        RESTARTED_BEFORE_PRINT
    } else {
        SESSION_ENDED_BEFORE_PRINT
    };
    settle(client, journal, &unsettled, detail, &mut done).await;
    Ok(done)
}

/// Asks the central about each attempt and records the answer; stops at the first unreachable
/// answer. Journal failures on one attempt are logged and leave it unsettled.
async fn settle(
    client: &CentralClient,
    journal: &Journal,
    attempts: &[Attempt],
    detail: &str,
    done: &mut Reconciled,
) {
    for (index, attempt) in attempts.iter().enumerate() {
        let request_id = attempt.request_id;
        let request = IssueRequest {
            session: SessionToken::new(SETTLE_TOKEN),
            action: attempt.action,
            request_id,
        };
        let now = OffsetDateTime::now_utc();
        match client.issue(&request).await {
            Ok(code) => {
                let recorded = journal
                    .record_issued(request_id, &code, now)
                    .and_then(|()| {
                        journal.record_print_failed(
                            request_id,
                            PrintFailure::Other,
                            Some(detail),
                            now,
                        )
                    });
                match recorded {
                    Ok(()) => {
                        tracing::info!(%request_id, code_id = %code.code_id, "settled: issued, not printed");
                        done.issued += 1;
                    }
                    Err(e) => {
                        tracing::error!(%request_id, error = %e, "could not record a settled attempt");
                        done.left += 1;
                    }
                }
            }
            Err(CallError::Refused(body))
                if matches!(
                    body.error,
                    ErrorCode::UnknownSession | ErrorCode::SessionExpired
                ) =>
            {
                match journal.record_not_issued(request_id, NEVER_REACHED, now) {
                    Ok(()) => {
                        tracing::info!(%request_id, "settled: the request never reached the central");
                        done.not_issued += 1;
                    }
                    Err(e) => {
                        tracing::error!(%request_id, error = %e, "could not record a settled attempt");
                        done.left += 1;
                    }
                }
            }
            Err(CallError::Unreachable(e)) => {
                tracing::info!(%request_id, error = %e, "cannot settle attempts now: unreachable");
                done.unreachable = true;
                done.left += attempts.len().saturating_sub(index);
                return;
            }
            Err(e) => {
                tracing::warn!(%request_id, error = %e, "unexpected answer settling an attempt");
                done.left += 1;
            }
        }
    }
}

/// Why a round stopped.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// The loop's own state.
struct Worker {
    client: CentralClient,
    journal: Arc<Journal>,
    status: Arc<Mutex<KioskStatus>>,
    settings: SyncSettings,
    kiosk_version: String,
    published: watch::Sender<Published>,
    reachable: Option<bool>,
    last_heartbeat_at: Option<OffsetDateTime>,
    config: Option<KioskConfig>,
}

/// The loop: rounds on schedule, on pokes, with back-off after failures, until stopped.
async fn run(mut worker: Worker, poke: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let settings = worker.settings;
    let mut next_round = Instant::now();
    let mut next_heartbeat = Instant::now();
    let mut failures: u32 = 0;
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        let poked = tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
            () = poke.notified() => true,
            () = tokio::time::sleep_until(next_round) => false,
        };
        let started = Instant::now();
        let heartbeat = poked || failures > 0 || started >= next_heartbeat;
        let ok = tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
                continue;
            }
            ok = worker.round(heartbeat) => ok,
        };
        if ok {
            failures = 0;
            next_round = started + settings.upload_every;
            if heartbeat {
                next_heartbeat = started + settings.heartbeat_every;
            }
        } else {
            failures = failures.saturating_add(1);
            let pause = settings
                .upload_every
                .saturating_mul(2u32.saturating_pow(failures.min(16)))
                .min(settings.max_backoff)
                .max(settings.upload_every.min(settings.max_backoff));
            next_round = started + pause;
        }
    }
    tracing::debug!("sync loop stopped");
}

impl Worker {
    /// One round; publishes the state and returns whether it succeeded.
    async fn round(&mut self, heartbeat: bool) -> bool {
        let result = self.steps(heartbeat).await;
        let mut state = SyncState {
            reachable: self.reachable,
            last_heartbeat_at: self.last_heartbeat_at,
            config: self.config.clone(),
            ..SyncState::default()
        };
        let mut ok = true;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "sync round failed");
            state.last_error = Some(e.to_string());
            ok = false;
        }
        let counts = self.counts();
        if let Err(e) = &counts {
            tracing::error!(error = %e, "cannot read the journal");
            state.last_error = Some(e.to_string());
            ok = false;
        }
        self.published.send_modify(|p| {
            // Counts the journal could not give stay as they were.
            if let Ok((backlog, unreported, unsettled)) = counts {
                state.backlog = backlog;
                state.unreported_outcomes = unreported;
                state.unsettled = unsettled;
            } else {
                state.backlog = p.state.backlog;
                state.unreported_outcomes = p.state.unreported_outcomes;
                state.unsettled = p.state.unsettled;
            }
            p.journal_ok = counts.is_ok();
            p.state = state;
            p.rounds = p.rounds.saturating_add(1);
        });
        ok
    }

    fn counts(&self) -> Result<(u64, usize, usize), JournalError> {
        Ok((
            self.journal.backlog()?,
            self.journal.unreported_outcomes()?.len(),
            self.journal.unsettled()?.len(),
        ))
    }

    async fn steps(&mut self, heartbeat: bool) -> Result<(), RoundError> {
        if heartbeat {
            self.heartbeat().await?;
        }
        self.settle().await?;
        self.report_outcomes().await?;
        self.upload().await
    }

    /// Notes whether a call's answer shows the central reachable.
    fn note<T>(&mut self, result: &Result<T, CallError>) {
        let reachable = !matches!(result, Err(CallError::Unreachable(_)));
        if self.reachable != Some(reachable) {
            tracing::info!(reachable, "central reachability changed");
        }
        self.reachable = Some(reachable);
    }

    async fn heartbeat(&mut self) -> Result<(), RoundError> {
        let status = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sent_at = OffsetDateTime::now_utc();
        let request = HeartbeatRequest {
            kiosk_version: self.kiosk_version.clone(),
            sent_at,
            devices: status.devices,
            paper: status.paper,
            journal_backlog: self.journal.backlog()?,
            in_service: status.in_service,
            out_of_service_reason: status.out_of_service_reason,
            help_requested_at: status.help_requested_at,
        };
        let result = self.client.heartbeat(&request).await;
        self.note(&result);
        let answer = result?;
        let now = OffsetDateTime::now_utc();
        self.last_heartbeat_at = Some(now);
        let skew = (answer.server_time - now).abs();
        if skew > time::Duration::minutes(5) {
            tracing::warn!(
                skew_seconds = skew.whole_seconds(),
                "the kiosk clock differs from the central's"
            );
        }
        if self.config.as_ref().map(|c| c.version) != Some(answer.config_version) {
            let result = self.client.config().await;
            self.note(&result);
            let config = result?;
            tracing::info!(version = config.version, "new config from the central");
            // A change while running is journaled; the first pull after start is not (the
            // journal would otherwise grow by one event per restart).
            if let Some(old) = &self.config {
                let detail = [
                    ("from_version", old.version.to_string()),
                    ("version", config.version.to_string()),
                ];
                if let Err(error) = self
                    .journal
                    .append(JournalKind::ConfigApplied, &detail, now)
                {
                    tracing::error!(%error, "cannot journal the new config");
                }
            }
            self.config = Some(config);
        }
        Ok(())
    }

    /// Settles unsettled attempts that are neither the active session's nor recent.
    async fn settle(&mut self) -> Result<(), RoundError> {
        let active = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .active_session;
        let now = OffsetDateTime::now_utc();
        let settle_after =
            time::Duration::try_from(self.settings.settle_after).unwrap_or(time::Duration::MAX);
        let attempts: Vec<Attempt> = self
            .journal
            .unsettled()?
            .into_iter()
            .filter(|a| Some(a.session) != active && now - a.requested_at >= settle_after)
            .collect();
        if attempts.is_empty() {
            return Ok(());
        }
        let mut done = Reconciled::default();
        settle(
            &self.client,
            &self.journal,
            &attempts,
            SESSION_ENDED_BEFORE_PRINT,
            &mut done,
        )
        .await;
        if done.unreachable {
            self.reachable = Some(false);
            return Err(CallError::Unreachable("settling attempts".to_owned()).into());
        }
        self.reachable = Some(true);
        Ok(())
    }

    async fn report_outcomes(&mut self) -> Result<(), RoundError> {
        for outcome in self.journal.unreported_outcomes()? {
            let request_id = outcome.request_id;
            let result = match &outcome.result {
                OutcomeKind::Printed => {
                    let request = PrintedRequest {
                        request_id,
                        printed_at: outcome.at,
                    };
                    self.client.printed(&outcome.code_id, &request).await
                }
                OutcomeKind::PrintFailed { reason, detail } => {
                    let request = PrintFailedRequest {
                        request_id,
                        reason: *reason,
                        detail: detail.clone(),
                    };
                    self.client.print_failed(&outcome.code_id, &request).await
                }
            };
            self.note(&result);
            match result {
                Ok(()) => {}
                Err(CallError::Refused(body)) if !kiosk_level(body.error) => {
                    tracing::warn!(%request_id, code_id = %outcome.code_id, error = %body.error,
                        "the central refused a print outcome; not sending it again");
                }
                Err(e) => return Err(e.into()),
            }
            self.journal.mark_outcome_reported(&outcome)?;
        }
        Ok(())
    }

    async fn upload(&mut self) -> Result<(), RoundError> {
        let mut max_events = MAX_JOURNAL_BATCH;
        let mut max_bytes = self.settings.batch_bytes;
        loop {
            let pending = self.journal.pending_events(max_events)?;
            if pending.is_empty() {
                return Ok(());
            }
            let events = next_batch(pending, max_bytes);
            let count = events.len();
            let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
            let batch = JournalBatch { events };
            let result = self.client.journal(&batch).await;
            self.note(&result);
            match result {
                Ok(ack) => {
                    self.journal
                        .mark_uploaded(&ids, OffsetDateTime::now_utc())?;
                    tracing::debug!(
                        count,
                        accepted = ack.accepted,
                        duplicates = ack.duplicates,
                        "journal batch uploaded"
                    );
                    max_events = MAX_JOURNAL_BATCH;
                    max_bytes = self.settings.batch_bytes;
                }
                Err(CallError::Refused(body)) if count > 1 && splittable(body.error) => {
                    tracing::warn!(count, error = %body.error, "the central refused a journal batch; splitting it");
                    max_events = count / 2;
                    if matches!(body.error, ErrorCode::BodyTooLarge) {
                        max_bytes = (max_bytes / 2).max(BATCH_OVERHEAD + 1);
                    }
                }
                Err(CallError::Refused(body)) if count == 1 && splittable(body.error) => {
                    tracing::warn!(event_id = ?ids, error = %body.error, message = %body.message,
                        "the central refused a journal event; it stays only in the kiosk journal");
                    self.journal
                        .mark_uploaded(&ids, OffsetDateTime::now_utc())?;
                    max_events = MAX_JOURNAL_BATCH;
                    max_bytes = self.settings.batch_bytes;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Refusals about the kiosk as a whole (its certificate), not about what it sent: whatever was
/// sent stays to be sent again.
fn kiosk_level(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unauthorized
            | ErrorCode::Forbidden
            | ErrorCode::RateLimited
            | ErrorCode::Unavailable
            | ErrorCode::Internal
            | ErrorCode::RequestTimeout
    )
}

/// Refusals of a journal batch that come from its content: split it to find the culprit.
fn splittable(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BadRequest
            | ErrorCode::InvalidJson
            | ErrorCode::BodyTooLarge
            | ErrorCode::BatchTooLarge
    )
}

/// The first events of `pending` (oldest first) that fit in `max_bytes` of batch JSON; at least
/// one (shortened by [`shrink`] when it alone does not fit).
fn next_batch(pending: Vec<JournalEvent>, max_bytes: usize) -> Vec<JournalEvent> {
    let mut batch = Vec::new();
    let mut total = BATCH_OVERHEAD;
    for event in pending {
        let size = json_len(&event);
        let separator = usize::from(!batch.is_empty());
        if total + separator + size > max_bytes {
            if batch.is_empty() {
                batch.push(shrink(event, max_bytes.saturating_sub(BATCH_OVERHEAD)));
            }
            break;
        }
        total += separator + size;
        batch.push(event);
    }
    batch
}

/// The JSON size of an event.
fn json_len(event: &JournalEvent) -> usize {
    serde_json::to_vec(event).map_or(usize::MAX, |v| v.len())
}

/// An event with its detail values cut (marked `truncated = true`) until its JSON fits in
/// `max_bytes`, or as short as they go.
fn shrink(mut event: JournalEvent, max_bytes: usize) -> JournalEvent {
    let original = event.detail.clone();
    let mut keep = original
        .values()
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0);
    while json_len(&event) > max_bytes && keep > 0 {
        keep /= 2;
        event.detail = original
            .iter()
            .map(|(k, v)| (k.clone(), v.chars().take(keep).collect()))
            .collect();
        event
            .detail
            .insert("truncated".to_owned(), "true".to_owned());
    }
    tracing::warn!(event_id = %event.id, "a journal event too large for one batch goes up shortened");
    event
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use protocol::api::JournalKind;

    use super::*;

    fn event(detail_len: usize) -> JournalEvent {
        JournalEvent {
            id: Uuid::new_v4(),
            at: OffsetDateTime::now_utc(),
            kind: JournalKind::Error,
            detail: BTreeMap::from([("what".to_owned(), "x".repeat(detail_len))]),
        }
    }

    fn batch_len(events: &[JournalEvent]) -> usize {
        serde_json::to_vec(&JournalBatch {
            events: events.to_vec(),
        })
        .unwrap()
        .len()
    }

    #[test]
    fn batches_respect_the_byte_cap() {
        let cap = 48 * 1024;
        let mut pending: Vec<JournalEvent> = (0..200).map(|_| event(2000)).collect();
        assert!(batch_len(&pending) > 64 * 1024);
        let mut batches = 0;
        while !pending.is_empty() {
            let batch = next_batch(pending.clone(), cap);
            assert!(!batch.is_empty());
            assert!(batch_len(&batch) <= cap, "{}", batch_len(&batch));
            assert_eq!(batch, pending[..batch.len()], "oldest first, unchanged");
            pending.drain(..batch.len());
            batches += 1;
        }
        assert!(batches >= 200 * 2000 / cap);
    }

    #[test]
    fn small_events_fill_a_batch_exactly_to_the_cap() {
        let pending: Vec<JournalEvent> = (0..10).map(|_| event(10)).collect();
        let all = batch_len(&pending);
        assert_eq!(next_batch(pending.clone(), all).len(), 10);
        assert_eq!(next_batch(pending, all - 1).len(), 9);
    }

    #[test]
    fn an_oversized_event_goes_alone_and_shortened() {
        let big = event(100_000);
        let id = big.id;
        let batch = next_batch(vec![big, event(10)], 48 * 1024);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].id, id);
        assert_eq!(batch[0].detail["truncated"], "true");
        assert!(batch_len(&batch) <= 48 * 1024);
    }
}
