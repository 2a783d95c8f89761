#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
//! The central client against a real central service over HTTPS with mutual TLS.

mod sync_support;

use std::collections::BTreeMap;

use kiosk::client::{CallError, CentralClient, ClientSettings};
use protocol::api::{
    Action, ErrorCode, HeartbeatRequest, IssueRequest, JournalBatch, JournalEvent, JournalKind,
    PaperState, PrintFailedRequest, PrintFailure, PrintedRequest, RequestId, SessionToken,
};
use protocol::rules::Offer;
use sync_support::{Central, dead_url, people};
use time::OffsetDateTime;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_issue_idempotent_reissue_and_printed() {
    let central = Central::start().await;
    let client = central.client("K1");

    let who = central.identify(&client, people::SENIOR).await;
    assert_eq!(who.offer, Offer::Apply);

    let request_id = RequestId::new(Uuid::new_v4());
    let request = IssueRequest {
        session: who.session.clone(),
        action: Action::Apply,
        request_id,
    };
    let code = client.issue(&request).await.unwrap();
    assert_eq!(code.serial, 1);
    assert!(code.qr_text.starts_with("SSM1:"));

    // The same request id again: the same code, not a second one.
    let again = client.issue(&request).await.unwrap();
    assert_eq!(again, code);
    // ... even with a session token the central never issued (how a restarted kiosk settles).
    let settle = IssueRequest {
        session: SessionToken::new("settle"),
        ..request.clone()
    };
    assert_eq!(client.issue(&settle).await.unwrap(), code);

    // A new request id to apply again is refused (4xx, with the central's error code).
    let second = IssueRequest {
        request_id: RequestId::new(Uuid::new_v4()),
        ..request.clone()
    };
    match client.issue(&second).await {
        Err(CallError::Refused(body)) => assert_eq!(body.error, ErrorCode::ConflictActiveCode),
        other => panic!("expected a refusal, got {other:?}"),
    }

    client
        .print_failed(
            &code.code_id,
            &PrintFailedRequest {
                request_id,
                reason: PrintFailure::PaperOut,
                detail: Some("paper end sensor".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        central.code(&code.code_id).print_failure.map(|(_, r)| r),
        Some(PrintFailure::PaperOut)
    );
    client
        .printed(
            &code.code_id,
            &PrintedRequest {
                request_id,
                printed_at: OffsetDateTime::now_utc(),
            },
        )
        .await
        .unwrap();
    assert!(central.code(&code.code_id).printed_at.is_some());

    // Printed with a request id that is not the code's: refused as an unknown code.
    let wrong = client
        .printed(
            &code.code_id,
            &PrintedRequest {
                request_id: RequestId::new(Uuid::new_v4()),
                printed_at: OffsetDateTime::now_utc(),
            },
        )
        .await;
    match wrong {
        Err(CallError::Refused(body)) => assert_eq!(body.error, ErrorCode::UnknownCode),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_session_is_refused_not_retried() {
    let central = Central::start().await;
    let mut settings = central.kiosk("K1");
    settings.retries = 3;
    let client = CentralClient::new(settings).unwrap();
    let request = IssueRequest {
        session: SessionToken::new("s_not_a_session"),
        action: Action::Apply,
        request_id: RequestId::new(Uuid::new_v4()),
    };
    let error = client.issue(&request).await.unwrap_err();
    match &error {
        CallError::Refused(body) => assert_eq!(body.error, ErrorCode::UnknownSession),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        error.to_flow(),
        kiosk::flow::CentralFailure::Refused(ErrorCode::UnknownSession)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_config_and_keys() {
    let central = Central::start().await;
    let client = central.client("K1");
    let answer = client
        .heartbeat(&HeartbeatRequest {
            kiosk_version: "test".into(),
            sent_at: OffsetDateTime::now_utc(),
            devices: Vec::new(),
            paper: PaperState::Ok,
            journal_backlog: 7,
            in_service: true,
            out_of_service_reason: None,
            help_requested_at: None,
        })
        .await
        .unwrap();
    let config = client.config().await.unwrap();
    assert_eq!(config.version, answer.config_version);
    let keys = client.keys().await.unwrap();
    assert!(!keys.keys.is_empty());
    let kiosks = central.store().kiosks().unwrap();
    let (_, heartbeat) = kiosks.iter().find(|(k, _)| k.kiosk_id == "K1").unwrap();
    assert_eq!(heartbeat.as_ref().unwrap().report.journal_backlog, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pinning_another_ca_gets_no_answer() {
    let central = Central::start().await;
    let other = Central::start().await;
    let mut settings = central.kiosk("K1");
    settings.ca_pem = other.ca_pem.clone();
    assert_ne!(settings.ca_pem, central.ca_pem);
    let client = CentralClient::new(settings).unwrap();
    match client.config().await {
        Err(CallError::Unreachable(message)) => {
            assert!(message.to_lowercase().contains("certificate"), "{message}");
        }
        other => panic!("a server under another CA must not be trusted: {other:?}"),
    }
    // Identify (no retries, no fail-over once sent) fails the same way.
    central.citizen(people::SENIOR);
    let request = central.suishen(people::SENIOR);
    assert!(matches!(
        client.identify(&request).await,
        Err(CallError::Unreachable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_kiosk_certificate_is_refused_or_cut_off() {
    let central = Central::start().await;
    let good = central.kiosk("K1");
    let other = Central::start().await;
    // A certificate from another central's CA: the handshake fails, or the central refuses.
    let foreign = other.kiosk("K1");
    let settings = ClientSettings {
        identity_pem: foreign.identity_pem,
        ..good
    };
    let client = CentralClient::new(settings).unwrap();
    match client.config().await {
        Err(CallError::Unreachable(_)) => {}
        Err(CallError::Refused(body)) => assert!(matches!(
            body.error,
            ErrorCode::Unauthorized | ErrorCode::Forbidden
        )),
        other => panic!("a foreign certificate must not get through: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_from_a_dead_url_to_a_live_one() {
    let central = Central::start().await;
    let mut settings = central.kiosk("K1");
    settings.urls = vec![dead_url(), dead_url(), central.url()];
    let client = CentralClient::new(settings.clone()).unwrap();
    client.config().await.unwrap();
    // Identify is not retried, but it does move on when the connection could not be made.
    let who = central.identify(&client, people::SENIOR).await;
    assert_eq!(who.offer, Offer::Apply);
    // Issue fails over too; then the live URL is tried first.
    let request = IssueRequest {
        session: who.session,
        action: Action::Apply,
        request_id: RequestId::new(Uuid::new_v4()),
    };
    let fresh = CentralClient::new(settings).unwrap();
    let code = fresh.issue(&request).await.unwrap();
    assert_eq!(fresh.issue(&request).await.unwrap(), code);

    // Every URL dead: unreachable, after the retries.
    let mut dead = central.kiosk("K2");
    dead.urls = vec![dead_url(), dead_url()];
    dead.retries = 2;
    let client = CentralClient::new(dead).unwrap();
    central.citizen(people::SENIOR_2);
    assert!(matches!(
        client.config().await,
        Err(CallError::Unreachable(_))
    ));
    assert!(matches!(
        client.identify(&central.suishen(people::SENIOR_2)).await,
        Err(CallError::Unreachable(_))
    ));
}

fn event(n: usize) -> JournalEvent {
    JournalEvent {
        id: Uuid::new_v4(),
        at: OffsetDateTime::now_utc(),
        kind: JournalKind::StaffAction,
        detail: BTreeMap::from([("n".to_owned(), n.to_string())]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_batch_sent_twice_is_stored_once() {
    let central = Central::start().await;
    let client = central.client("K1");
    let batch = JournalBatch {
        events: (0..25).map(event).collect(),
    };
    let first = client.journal(&batch).await.unwrap();
    assert_eq!((first.accepted, first.duplicates), (25, 0));
    let second = client.journal(&batch).await.unwrap();
    assert_eq!((second.accepted, second.duplicates), (0, 25));
    assert_eq!(central.journal_rows("K1"), (25, 25));

    // More than the central takes at once: refused as a whole, nothing stored.
    let too_many = JournalBatch {
        events: (0..protocol::api::MAX_JOURNAL_BATCH + 1)
            .map(event)
            .collect(),
    };
    match client.journal(&too_many).await {
        Err(CallError::Refused(body)) => assert!(matches!(
            body.error,
            ErrorCode::BatchTooLarge | ErrorCode::BodyTooLarge
        )),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(central.journal_rows("K1"), (25, 25));
}
