#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
//! The sync loop and start-up reconciliation against a real central service over HTTPS with
//! mutual TLS, and a real kiosk journal.

mod sync_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk::client::{CentralClient, ClientSettings};
use kiosk::journal::{AttemptState, Journal, NewAttempt, OutcomeKind};
use kiosk::sync::{
    self, KioskStatus, RESTARTED_BEFORE_PRINT, Reconciled, SyncHandle, SyncSettings,
};
use protocol::api::{
    Action, DeviceKind, DeviceReport, DeviceState, HeartbeatRequest, IssueRequest, IssuedCode,
    JournalKind, MAX_JOURNAL_BATCH, PaperState, PrintFailure, RequestId,
};
use sync_support::{Central, DEADLINE, journal, people, wait_until};
use time::OffsetDateTime;
use uuid::Uuid;

/// Fast rounds, so that tests do not wait on the defaults.
fn fast() -> SyncSettings {
    SyncSettings {
        heartbeat_every: Duration::from_millis(500),
        upload_every: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        batch_bytes: 48 * 1024,
        settle_after: Duration::ZERO,
    }
}

fn status() -> Arc<Mutex<KioskStatus>> {
    Arc::new(Mutex::new(KioskStatus {
        paper: PaperState::Ok,
        in_service: true,
        ..KioskStatus::default()
    }))
}

fn start_sync(settings: ClientSettings, journal: &Arc<Journal>) -> SyncHandle {
    sync::spawn(
        CentralClient::new(settings).unwrap(),
        Arc::clone(journal),
        status(),
        fast(),
        "test-1.0".into(),
    )
}

fn append(journal: &Journal, n: usize, detail_len: usize) -> Vec<Uuid> {
    (0..n)
        .map(|i| {
            journal
                .append(
                    JournalKind::StaffAction,
                    &[
                        ("n", i.to_string()),
                        ("words", "说明".repeat(detail_len / 2)),
                    ],
                    OffsetDateTime::now_utc(),
                )
                .unwrap()
                .id
        })
        .collect()
}

/// Log lines written while the guard lives, on this thread (a current-thread runtime runs the
/// sync task on the test's thread).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// Current-thread runtime: the log capture sees the sync task.
#[tokio::test]
async fn uploads_everything_once_in_batches_and_sends_heartbeats() {
    let log = Captured::default();
    let _guard = log.install();
    let central = Central::start().await;
    let (_dir, journal) = journal();
    // More events than one batch may hold, and events long enough that a batch of them would
    // exceed the central's 64 KiB body limit.
    let mut ids = append(&journal, MAX_JOURNAL_BATCH * 2 + 17, 10);
    ids.extend(append(&journal, 120, 2_000));
    assert_eq!(journal.backlog().unwrap(), ids.len() as u64);

    let sync = start_sync(central.kiosk("K1"), &journal);
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    let state = sync.state();
    assert_eq!(state.backlog, 0);
    assert_eq!(state.reachable, Some(true));
    assert!(state.last_error.is_none(), "{state:?}");
    assert!(state.last_heartbeat_at.is_some());
    assert!(
        state.config.is_some(),
        "the first heartbeat fetches the config"
    );
    assert_eq!(
        central.journal_rows("K1"),
        (ids.len() as i64, ids.len() as i64)
    );
    assert!(central.has_events("K1", &ids));
    assert_eq!(journal.backlog().unwrap(), 0);

    // The central saw the heartbeat.
    let kiosks = central.store().kiosks().unwrap();
    let (_, heartbeat) = kiosks.iter().find(|(k, _)| k.kiosk_id == "K1").unwrap();
    let heartbeat = heartbeat.as_ref().unwrap();
    assert_eq!(heartbeat.report.kiosk_version, "test-1.0");
    assert!(heartbeat.report.in_service);

    // More events later: they go up too, and nothing twice.
    let more = append(&journal, 3, 10);
    assert!(sync.flush(DEADLINE).await);
    let total = (ids.len() + more.len()) as i64;
    assert_eq!(central.journal_rows("K1"), (total, total));
    sync.stop().await;
    // No batch was too large for the central (which would have been split after a refusal).
    let log = log.text();
    assert!(!log.contains("refused"), "{log}");
}

/// The last heartbeat the central stored for a kiosk.
fn last_heartbeat(central: &Central, kiosk_id: &str) -> Option<HeartbeatRequest> {
    central
        .store()
        .kiosks()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k.kiosk_id == kiosk_id)
        .and_then(|(_, h)| h)
        .map(|h| h.report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_carries_devices_paper_version_and_backlog_as_the_central_stores_them() {
    let central = Central::start().await;
    let (_dir, journal) = journal();
    let pending = append(&journal, 7, 10);
    let devices = vec![
        DeviceReport {
            device: DeviceKind::Idcard,
            state: DeviceState::Connected,
            last_error: None,
        },
        DeviceReport {
            device: DeviceKind::Scanner,
            state: DeviceState::Failed,
            last_error: Some("/dev/ttyACM0: unplugged".into()),
        },
        DeviceReport {
            device: DeviceKind::Printer,
            state: DeviceState::Degraded,
            last_error: Some("paper near end".into()),
        },
    ];
    let status = Arc::new(Mutex::new(KioskStatus {
        devices: devices.clone(),
        paper: PaperState::NearEnd,
        in_service: true,
        ..KioskStatus::default()
    }));
    // One heartbeat at start, then only when poked: each one the central stores is known.
    let settings = SyncSettings {
        heartbeat_every: Duration::from_secs(3600),
        ..fast()
    };
    let sync = sync::spawn(
        CentralClient::new(central.kiosk("K-HB")).unwrap(),
        Arc::clone(&journal),
        Arc::clone(&status),
        settings,
        "2.3.4-test".into(),
    );

    // The first round's heartbeat goes before its upload: the 7 events are still waiting.
    wait_until("the first heartbeat", || {
        let seen = last_heartbeat(&central, "K-HB").is_some();
        async move { seen }
    })
    .await;
    let first = last_heartbeat(&central, "K-HB").unwrap();
    assert_eq!(first.kiosk_version, "2.3.4-test");
    assert_eq!(first.devices, devices);
    assert_eq!(first.paper, PaperState::NearEnd);
    assert_eq!(first.journal_backlog, pending.len() as u64);
    assert!(first.in_service);
    assert_eq!(first.out_of_service_reason, None);
    assert_eq!(first.help_requested_at, None);

    // Everything uploaded; then the printer runs out of paper and staff take the kiosk out of
    // service: the next heartbeat says so, with nothing left in the journal.
    wait_until("the events uploaded", || {
        let backlog = journal.backlog().unwrap();
        async move { backlog == 0 }
    })
    .await;
    assert!(central.has_events("K-HB", &pending));
    {
        let mut status = status.lock().unwrap();
        status.paper = PaperState::Out;
        status.devices[2] = DeviceReport {
            device: DeviceKind::Printer,
            state: DeviceState::Failed,
            last_error: Some("paper out".into()),
        };
        status.in_service = false;
        status.out_of_service_reason = Some("打印机维护".into());
    }
    sync.poke();
    wait_until("the second heartbeat", || {
        let paper = last_heartbeat(&central, "K-HB").map(|h| h.paper);
        async move { paper == Some(PaperState::Out) }
    })
    .await;
    let second = last_heartbeat(&central, "K-HB").unwrap();
    assert_eq!(second.journal_backlog, 0);
    assert_eq!(second.devices[0], devices[0]);
    assert_eq!(second.devices[1], devices[1]);
    assert_eq!(second.devices[2].state, DeviceState::Failed);
    assert_eq!(second.devices[2].last_error.as_deref(), Some("paper out"));
    assert!(!second.in_service);
    assert_eq!(second.out_of_service_reason.as_deref(), Some("打印机维护"));
    assert_eq!(second.kiosk_version, "2.3.4-test");
    sync.stop().await;
}

#[tokio::test]
async fn a_batch_the_central_finds_too_large_is_split() {
    let log = Captured::default();
    let _guard = log.install();
    let central = Central::start().await;
    let (_dir, journal) = journal();
    let ids = append(&journal, 60, 2_000);
    // A byte cap above the central's body limit: the central refuses, the kiosk splits.
    let settings = SyncSettings {
        batch_bytes: 4 * 1024 * 1024,
        ..fast()
    };
    let sync = sync::spawn(
        central.client("K1"),
        Arc::clone(&journal),
        status(),
        settings,
        "test-1.0".into(),
    );
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert_eq!(central.journal_rows("K1"), (60, 60));
    assert!(central.has_events("K1", &ids));
    sync.stop().await;
    let log = log.text();
    assert!(log.contains("splitting"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_too_large_for_any_batch_goes_up_shortened() {
    let central = Central::start().await;
    let (_dir, journal) = journal();
    let big = append(&journal, 1, 100_000);
    let after = append(&journal, 2, 10);
    let sync = start_sync(central.kiosk("K1"), &journal);
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert_eq!(central.journal_rows("K1"), (3, 3));
    assert!(central.has_events("K1", &big));
    assert!(central.has_events("K1", &after));
    sync.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_keeps_events_pending_until_the_central_is_back() {
    let mut central = Central::start().await;
    let (_dir, journal) = journal();
    let before = append(&journal, 5, 10);
    let sync = start_sync(central.kiosk("K1"), &journal);
    assert!(sync.flush(DEADLINE).await);
    assert_eq!(central.journal_rows("K1"), (5, 5));

    central.stop().await;
    let during = append(&journal, 40, 10);
    sync.poke();
    wait_until("the sync sees the central unreachable", || {
        let state = sync.state();
        async move { state.reachable == Some(false) && state.backlog == 40 }
    })
    .await;
    let state = sync.state();
    assert!(state.last_error.is_some(), "{state:?}");
    assert_eq!(journal.backlog().unwrap(), 40, "nothing is lost or dropped");
    assert_eq!(journal.pending_events(100).unwrap().len(), 40);
    // Flushing cannot succeed while the central is away.
    assert!(!sync.flush(Duration::from_millis(300)).await);

    central.restart().await;
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    let state = sync.state();
    assert_eq!(state.reachable, Some(true));
    assert_eq!(state.backlog, 0);
    assert!(state.last_error.is_none(), "{state:?}");
    assert_eq!(central.journal_rows("K1"), (45, 45), "every event once");
    assert!(central.has_events("K1", &before));
    assert!(central.has_events("K1", &during));
    sync.stop().await;
}

/// An attempt written to the journal whose request then reached the central; the kiosk
/// "crashed" before recording the answer. Returns the request id and the code the central made.
async fn attempt_that_reached_the_central(
    central: &Central,
    client: &CentralClient,
    journal: &Journal,
    person: (&str, &str),
) -> (RequestId, IssuedCode) {
    let who = central.identify(client, person).await;
    let request_id = RequestId::new(Uuid::new_v4());
    journal
        .begin_attempt(
            &NewAttempt {
                request_id,
                session: Uuid::new_v4(),
                action: Action::Apply,
                person_key: None,
            },
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    let code = client
        .issue(&IssueRequest {
            session: who.session,
            action: Action::Apply,
            request_id,
        })
        .await
        .unwrap();
    (request_id, code)
}

/// An attempt written to the journal whose request never left.
fn attempt_that_never_left(journal: &Journal, session: Uuid) -> RequestId {
    let request_id = RequestId::new(Uuid::new_v4());
    journal
        .begin_attempt(
            &NewAttempt {
                request_id,
                session,
                action: Action::Reissue,
                person_key: None,
            },
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    request_id
}

fn state_of(journal: &Journal, request_id: RequestId) -> AttemptState {
    journal.attempt(request_id).unwrap().unwrap().state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_reconciliation_settles_every_attempt_and_prints_nothing() {
    let central = Central::start().await;
    let client = central.client("K1");
    let (_dir, journal) = journal();

    // 1. Reached the central, answer never recorded.
    let (reached, code) =
        attempt_that_reached_the_central(&central, &client, &journal, people::SENIOR).await;
    // 2. Never left.
    let never = attempt_that_never_left(&journal, Uuid::new_v4());
    // 3. Issued and recorded, but the kiosk went down before printing.
    let (unprinted, unprinted_code) =
        attempt_that_reached_the_central(&central, &client, &journal, people::SENIOR_2).await;
    journal
        .record_issued(unprinted, &unprinted_code, OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(journal.unsettled().unwrap().len(), 2);
    assert_eq!(journal.issued_unprinted().unwrap().len(), 1);

    let done = sync::reconcile(&client, &journal, true).await.unwrap();
    assert_eq!(
        done,
        Reconciled {
            unprinted: 1,
            issued: 1,
            not_issued: 1,
            left: 0,
            unreachable: false,
        }
    );

    // The same code came back for the request that reached the central, and it is print-failed.
    let attempt = journal.attempt(reached).unwrap().unwrap();
    assert_eq!(attempt.state, AttemptState::PrintFailed);
    assert_eq!(attempt.code.as_ref(), Some(&code));
    assert_eq!(
        attempt.outcome,
        Some(OutcomeKind::PrintFailed {
            reason: PrintFailure::Other,
            detail: Some(RESTARTED_BEFORE_PRINT.to_owned()),
        })
    );
    assert_eq!(state_of(&journal, never), AttemptState::NotIssued);
    assert_eq!(state_of(&journal, unprinted), AttemptState::PrintFailed);
    assert!(journal.unsettled().unwrap().is_empty());
    assert!(journal.issued_unprinted().unwrap().is_empty());
    // Nothing printed anywhere: no attempt is printed, and the central has no print time.
    assert!(central.code(&code.code_id).printed_at.is_none());
    assert!(central.code(&unprinted_code.code_id).printed_at.is_none());

    // Running it again changes nothing.
    let again = sync::reconcile(&client, &journal, true).await.unwrap();
    assert_eq!(again, Reconciled::default());

    // The loop tells the central about both print failures, and uploads the events.
    assert_eq!(journal.unreported_outcomes().unwrap().len(), 2);
    let sync = start_sync(central.kiosk("K1"), &journal);
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert!(journal.unreported_outcomes().unwrap().is_empty());
    for code_id in [code.code_id, unprinted_code.code_id] {
        let record = central.code(&code_id);
        assert_eq!(
            record.print_failure.map(|(_, r)| r),
            Some(PrintFailure::Other)
        );
        assert!(record.printed_at.is_none());
    }
    assert_eq!(journal.backlog().unwrap(), 0);
    sync.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsettled_attempts_wait_for_the_central_and_the_loop_settles_them() {
    let mut central = Central::start().await;
    let client = central.client("K1");
    let (_dir, journal) = journal();
    let (reached, code) =
        attempt_that_reached_the_central(&central, &client, &journal, people::LEAP_DAY).await;
    let never = attempt_that_never_left(&journal, Uuid::new_v4());

    central.stop().await;
    let done = sync::reconcile(&client, &journal, true).await.unwrap();
    assert!(done.unreachable);
    assert_eq!(done.left, 2);
    assert_eq!(state_of(&journal, reached), AttemptState::Requested);
    assert_eq!(state_of(&journal, never), AttemptState::Requested);

    let sync = start_sync(central.kiosk("K1"), &journal);
    wait_until("the sync sees the central unreachable", || {
        let state = sync.state();
        async move { state.reachable == Some(false) && state.unsettled == 2 }
    })
    .await;

    central.restart().await;
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert_eq!(sync.state().unsettled, 0);
    let attempt = journal.attempt(reached).unwrap().unwrap();
    assert_eq!(attempt.state, AttemptState::PrintFailed);
    assert_eq!(attempt.code, Some(code.clone()));
    assert_eq!(state_of(&journal, never), AttemptState::NotIssued);
    assert_eq!(
        central.code(&code.code_id).print_failure.map(|(_, r)| r),
        Some(PrintFailure::Other)
    );
    sync.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_leaves_the_active_sessions_attempt_to_the_flow() {
    let central = Central::start().await;
    let (_dir, journal) = journal();
    let session = Uuid::new_v4();
    let mine = attempt_that_never_left(&journal, session);
    let status = status();
    status.lock().unwrap().active_session = Some(session);
    let sync = sync::spawn(
        CentralClient::new(central.kiosk("K1")).unwrap(),
        Arc::clone(&journal),
        Arc::clone(&status),
        fast(),
        "test-1.0".into(),
    );
    // A round that uploaded the attempt's event has been through the settling step.
    wait_until("a round has run", || {
        let state = sync.state();
        async move { state.reachable == Some(true) && state.backlog == 0 }
    })
    .await;
    assert_eq!(sync.state().unsettled, 1);
    assert_eq!(state_of(&journal, mine), AttemptState::Requested);

    // The session ends: now the loop settles it.
    status.lock().unwrap().active_session = None;
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert_eq!(state_of(&journal, mine), AttemptState::NotIssued);
    sync.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_outcomes_reach_the_central() {
    let central = Central::start().await;
    let client = central.client("K1");
    let (_dir, journal) = journal();
    let (request_id, code) =
        attempt_that_reached_the_central(&central, &client, &journal, people::SENIOR).await;
    let now = OffsetDateTime::now_utc();
    journal.record_issued(request_id, &code, now).unwrap();
    journal
        .record_print_failed(request_id, PrintFailure::PaperOut, None, now)
        .unwrap();
    journal.record_printed(request_id, now).unwrap();

    let sync = start_sync(central.kiosk("K1"), &journal);
    assert!(sync.flush(DEADLINE).await, "{:?}", sync.state());
    assert!(central.code(&code.code_id).printed_at.is_some());
    assert!(journal.unreported_outcomes().unwrap().is_empty());
    sync.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_changed_on_the_central_is_pulled_and_journaled() {
    let central = Central::start().await;
    let (_dir, journal) = journal();
    let sync = start_sync(central.kiosk("K1"), &journal);
    wait_until("the first config arrives", || {
        let state = sync.state();
        async move { state.config.is_some() }
    })
    .await;
    let first = sync.state().config.unwrap();
    assert_eq!(
        journal.backlog().unwrap(),
        0,
        "the first pull is not an event"
    );

    let changed = protocol::api::KioskConfig {
        notice: Some("今日 12:00-13:00 暂停服务".into()),
        ..first.clone()
    };
    let version = central.store().set_kiosk_config(&changed).unwrap();
    assert!(version > first.version);
    wait_until("the new config arrives", || {
        let state = sync.state();
        async move { state.config.as_ref().map(|c| c.version) == Some(version) }
    })
    .await;
    assert_eq!(
        sync.state().config.unwrap().notice.as_deref(),
        Some("今日 12:00-13:00 暂停服务")
    );
    assert!(sync.flush(DEADLINE).await);
    let (rows, _) = central.journal_rows("K1");
    assert_eq!(rows, 1, "one config_applied event reached the central");
    sync.stop().await;
}
