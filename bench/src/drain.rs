//! Time to drain a journal backlog: a kiosk journal holding `events` events not yet uploaded
//! (what piles up during a long outage), then the kiosk's own sync loop started against the
//! central on loopback HTTPS, timed until the central has acknowledged every event.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use kiosk::client::{CentralClient, ClientSettings};
use kiosk::journal::Journal;
use kiosk::sync::{self, KioskStatus, SyncSettings};
use protocol::api::JournalKind;
use time::OffsetDateTime;

use crate::fixture::{Backend, Central};
use crate::report::{Table, progress};

/// What a drain measured.
pub(crate) struct Drain {
    /// Events in the backlog.
    pub(crate) events: u64,
    /// From the sync loop's start to the last acknowledgement.
    pub(crate) elapsed: Duration,
    /// How long writing the backlog took (one transaction per event, as the kiosk writes).
    pub(crate) fill: Duration,
}

/// Fills a journal with `events` events and drains it.
pub(crate) fn run(events: u64) -> Result<Drain> {
    let central = Central::start(&Backend::Sqlite, 2)?;
    let certs = central.provision("K-DRAIN")?;
    let journal_path = central.scratch().join("journal.db");
    let journal = Arc::new(Journal::open(&journal_path)?);
    progress(&format!("drain: writing {events} journal events"));
    let fill_started = Instant::now();
    let kinds = [
        JournalKind::SessionStarted,
        JournalKind::Identified,
        JournalKind::IssueRequested,
        JournalKind::CodeIssued,
        JournalKind::Printed,
        JournalKind::SessionEnded,
    ];
    for i in 0..events {
        let kind = kinds
            .get(usize::try_from(i).unwrap_or(0) % kinds.len())
            .copied()
            .unwrap_or(JournalKind::Error);
        let session = uuid::Uuid::new_v4().to_string();
        let detail = [
            ("session", session),
            ("method", "card".to_owned()),
            ("id_number_masked", "310***********0029".to_owned()),
        ];
        journal.append(kind, &detail, OffsetDateTime::now_utc())?;
    }
    let fill = fill_started.elapsed();
    ensure!(journal.backlog()? == events, "the backlog was not written");

    let settings = ClientSettings::from_files(
        vec![central.url()],
        &certs.join("ca.pem"),
        &certs.join("kiosk.pem"),
        &certs.join("kiosk.key"),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiosk")
        .enable_all()
        .build()?;
    progress("drain: uploading");
    let elapsed = runtime.block_on(async {
        let client = CentralClient::new(settings)?;
        let status = Arc::new(Mutex::new(KioskStatus {
            in_service: true,
            ..KioskStatus::default()
        }));
        let started = Instant::now();
        let handle = sync::spawn(
            client,
            Arc::clone(&journal),
            status,
            SyncSettings::default(),
            kiosk::engine::VERSION.to_owned(),
        );
        let flushed = handle.flush(Duration::from_secs(600)).await;
        let elapsed = started.elapsed();
        handle.stop().await;
        ensure!(flushed, "the backlog did not drain within 10 minutes");
        anyhow::Ok(elapsed)
    })?;
    ensure!(journal.backlog()? == 0, "events left in the journal");
    let at_central = central
        .journal_events("K-DRAIN")
        .context("counting the central's events")?;
    ensure!(
        at_central == events,
        "the central holds {at_central} events, not {events}"
    );
    Ok(Drain {
        events,
        elapsed,
        fill,
    })
}

/// The table row.
pub(crate) fn table(drain: &Drain) -> Table {
    let mut table = Table::new(
        "Journal backlog drain (kiosk sync loop → central, loopback HTTPS)",
        &["events", "time to drain", "events/s", "batches"],
    );
    #[allow(clippy::cast_precision_loss)]
    let rate = drain.events as f64 / drain.elapsed.as_secs_f64().max(1e-9);
    table.row(vec![
        drain.events.to_string(),
        format!("{:.2} s", drain.elapsed.as_secs_f64()),
        format!("{rate:.0}"),
        format!(
            "≥ {}",
            drain
                .events
                .div_ceil(u64::try_from(protocol::api::MAX_JOURNAL_BATCH).unwrap_or(1))
        ),
    ]);
    table.note(format!(
        "The kiosk's sync loop with its default settings (batches of at most {} events and \
         48 KiB), from its start to the central's last acknowledgement; every event checked at \
         the central (SQLite) afterwards. Writing the backlog took {:.1} s (one transaction per \
         event, `synchronous=FULL`, as the kiosk journals).",
        protocol::api::MAX_JOURNAL_BATCH,
        drain.fill.as_secs_f64()
    ));
    table
}
