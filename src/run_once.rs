//! `kiosk run-once`: one resident session through the same engine and flow as the screens, with
//! no screen, confirming by itself. It waits for a card on the reader (or a scan), identifies,
//! issues, prints, ends the session, sends the journal, and returns a one-line summary.
//! Operators use it to smoke-test an installed kiosk; the end-to-end tests use it too.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use protocol::api::{Action, CodeId, ErrorCode, PrintFailure};
use serde::Serialize;
use time::Date;

use crate::config::Config;
use crate::engine::{Core, Engine, Snapshot};
use crate::flow::{Button, FlowError, Screen};

/// What `run-once` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOnce {
    /// Apply or reissue; the session fails when the person is offered the other.
    pub action: Action,
    /// How long to wait for the whole session.
    pub timeout: Duration,
    /// Places this demo card (index into [`idcard::demo_cards`]) on a simulated reader.
    pub demo_card: Option<usize>,
    /// Scans this text on a simulated scanner.
    pub scan: Option<String>,
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The slip was printed.
    Printed,
    /// The person may not have a code.
    NotEligible,
    /// The person is offered the other action (apply instead of reissue, or the reverse).
    WrongAction,
    /// The central refused.
    Refused,
    /// The central did not answer.
    CentralUnreachable,
    /// The printer could not print the slip (the code stays issued; it was reported).
    PrintFailed,
    /// The card could not be read or has expired.
    CardProblem,
    /// The kiosk is out of service.
    OutOfService,
    /// Nothing finished in time.
    Timeout,
}

/// The one-line JSON summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// How it ended.
    pub outcome: Outcome,
    /// What was asked.
    pub action: Action,
    /// The printed code's id.
    pub code_id: Option<CodeId>,
    /// Which issue the printed code is.
    pub serial: Option<u16>,
    /// Its first valid day.
    pub issued_on: Option<Date>,
    /// Its last valid day.
    pub expires_on: Option<Date>,
    /// Plain words when it did not print.
    pub message: Option<String>,
    /// Whether the journal reached the central before exit (what did not stays queued).
    pub journal_synced: bool,
}

/// Runs one session. Needs a Tokio runtime.
pub async fn run(config: Config, args: RunOnce) -> Result<Summary> {
    let core = Core::open(config).await?;
    let (engine, handle) = Engine::new(&core)?;
    let engine = tokio::spawn(engine.run());

    if let Some(index) = args.demo_card {
        let reader = handle
            .sim
            .reader
            .as_ref()
            .context("--demo-card needs [devices.idcard] backend = \"simulated\"")?;
        let cards = idcard::demo_cards();
        let Some(card) = cards.get(index) else {
            bail!(
                "there are {} demo cards (0 to {})",
                cards.len(),
                cards.len().saturating_sub(1)
            );
        };
        reader.place(card.clone());
    }
    if let Some(text) = &args.scan {
        handle
            .sim
            .scanner
            .as_ref()
            .context("--scan needs [devices.scanner] backend = \"simulated\"")?
            .scan(text);
    }

    let mut snapshots = handle.snapshots.clone();
    let mut confirmed = false;
    let deadline = tokio::time::Instant::now() + args.timeout;
    let (outcome, message, printed) = loop {
        let snapshot = snapshots.borrow_and_update().clone();
        if let Some(end) = decide(&snapshot, args.action, &mut confirmed, &handle) {
            break end;
        }
        match tokio::time::timeout_at(deadline, snapshots.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break (Outcome::Timeout, Some("the engine stopped".into()), None),
            Err(_) => {
                break (
                    Outcome::Timeout,
                    Some(format!(
                        "nothing finished within {} s (no card placed?)",
                        args.timeout.as_secs()
                    )),
                    None,
                );
            }
        }
    };

    // End the session (the resident's data is dropped and the session's end journaled).
    handle.press(Button::Home);
    let settle = tokio::time::Instant::now() + Duration::from_secs(3);
    while snapshots.borrow().session.is_some() {
        if tokio::time::timeout_at(settle, snapshots.changed())
            .await
            .is_err()
        {
            break;
        }
    }
    handle.stop();
    let _ = engine.await;
    let journal_synced = core.close(Duration::from_secs(15)).await;
    Ok(Summary {
        outcome,
        action: args.action,
        code_id: printed.as_ref().map(|c| c.code_id),
        serial: printed.as_ref().map(|c| c.serial),
        issued_on: printed.as_ref().map(|c| c.issued_on),
        expires_on: printed.as_ref().map(|c| c.expires_on),
        message,
        journal_synced,
    })
}

type End = (Outcome, Option<String>, Option<protocol::api::IssuedCode>);

/// What to do on this screen: nothing yet (`None`), or the end of the run.
fn decide(
    snapshot: &Snapshot,
    action: Action,
    confirmed: &mut bool,
    handle: &crate::engine::EngineHandle,
) -> Option<End> {
    match &snapshot.screen {
        Screen::Confirm { offer, .. } => {
            if *confirmed {
                return None;
            }
            if offer.action() == Some(action) {
                *confirmed = true;
                handle.press(Button::Confirm);
                None
            } else {
                let offered = offer.action().map_or("nothing", Action::as_str);
                Some((
                    Outcome::WrongAction,
                    Some(format!(
                        "this person is offered {offered}, not {}",
                        action.as_str()
                    )),
                    None,
                ))
            }
        }
        Screen::NotEligible { reason } => Some((
            Outcome::NotEligible,
            Some(format!("not eligible: {reason:?}")),
            None,
        )),
        Screen::Done { .. } => Some((Outcome::Printed, None, snapshot.last_printed.clone())),
        Screen::Error { error, .. } => Some(error_outcome(error)),
        Screen::OutOfService { reason } => Some((
            Outcome::OutOfService,
            Some(format!("the kiosk is out of service: {reason:?}")),
            None,
        )),
        Screen::WrongData => Some((Outcome::Refused, Some("wrong data reported".into()), None)),
        _ => None,
    }
}

fn error_outcome(error: &FlowError) -> End {
    let (outcome, message) = match error {
        FlowError::CentralUnreachable => (
            Outcome::CentralUnreachable,
            "the central service did not answer".to_owned(),
        ),
        FlowError::PrintFailed(reason) => (
            Outcome::PrintFailed,
            format!("the slip was not printed: {}", print_failure_words(*reason)),
        ),
        FlowError::CardUnreadable | FlowError::CardExpired => {
            (Outcome::CardProblem, format!("card problem: {error:?}"))
        }
        FlowError::Refused(code) => (Outcome::Refused, refusal_words(*code)),
        other => (Outcome::Refused, format!("refused: {other:?}")),
    };
    (outcome, Some(message), None)
}

fn print_failure_words(reason: PrintFailure) -> &'static str {
    match reason {
        PrintFailure::PaperOut => "the printer is out of paper",
        PrintFailure::CoverOpen => "the printer's cover is open",
        PrintFailure::CutterError => "the printer's cutter failed",
        PrintFailure::Offline => "the printer is offline",
        PrintFailure::NoAnswer => "the printer does not answer",
        PrintFailure::SlipCheckFailed => "the rendered slip failed its check",
        PrintFailure::Other => "the printer failed",
    }
}

fn refusal_words(code: ErrorCode) -> String {
    format!("the central service refused: {code}")
}
