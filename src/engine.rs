//! The engine: the imperative shell around the pure [`flow`](crate::flow). It opens everything a
//! kiosk needs ([`Core`]: journal, secret, central client, sync; then the devices), feeds device
//! events, central replies, button presses and ticks into the flow, carries out the effects the
//! flow returns, and publishes what the screen should show as [`Snapshot`]s.
//!
//! Ordering guarantees kept here (DESIGN.md §6):
//! - an issuance attempt is journaled (with its request id) before its request leaves;
//! - the central's answer is journaled before the slip is printed;
//! - the print outcome is journaled as soon as the printer answers, then reported to the
//!   central by the sync loop (which retries until the central has it).
//!
//! The screens (and `kiosk run-once`) only read snapshots and send button presses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use protocol::KeySet;
use protocol::api::{
    DeviceKind, DeviceReport, DeviceState, IdentifyRequest, IssueRequest, IssuedCode, PaperState,
};
use protocol::keys::PublicKey;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use crate::client::{CentralClient, ClientSettings};
use crate::config::{CentralSection, Config};
use crate::devices::{DeviceEvent, Devices, PrintOrder, PrinterQueue, SimHandles, card_fields};
use crate::failpoint::{self, Point};
use crate::flow::{
    Button, Credential, Ctx, Effect, Flow, Input, Millis, Screen, SessionId, Timeouts, Unavailable,
};
use crate::journal::{Journal, NewAttempt};
use crate::secret::KioskSecret;
use crate::sync::{self, KioskStatus, SyncHandle, SyncSettings};

/// Shanghai is UTC+8 all year.
pub const SHANGHAI: time::UtcOffset = match time::UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => time::UtcOffset::UTC,
};

/// How often the flow gets a tick.
pub const TICK: Duration = Duration::from_millis(250);

/// The shortest idle time a central config may set: seniors are never rushed.
pub const MIN_IDLE_SECONDS: u32 = 30;

/// The kiosk software version, as heartbeats report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the screen shows now.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The screen.
    pub screen: Screen,
    /// Seconds left in the idle dialog, while it shows.
    pub countdown: Option<u64>,
    /// Whether a help request stands.
    pub help_requested: bool,
    /// The current resident session.
    pub session: Option<SessionId>,
    /// The last code this kiosk printed in this run (for `run-once`'s summary; no personal data).
    pub last_printed: Option<IssuedCode>,
}

/// Everything but the devices: the journal, the secret, the central client and the sync loop.
pub struct Core {
    /// The configuration.
    pub config: Config,
    /// The journal.
    pub journal: Arc<Journal>,
    /// The per-kiosk secret.
    pub secret: KioskSecret,
    /// The central client.
    pub client: CentralClient,
    /// The background sync.
    pub sync: SyncHandle,
    /// What heartbeats report.
    pub status: Arc<Mutex<KioskStatus>>,
    #[cfg(feature = "embedded-central")]
    embedded: Option<central::server::Running>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("kiosk", &self.config.kiosk.id)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Opens the data directory, the journal and the secret, reaches the central (starting the
    /// embedded one if configured), settles what a previous run left unfinished, and starts the
    /// sync loop. Needs a Tokio runtime.
    pub async fn open(config: Config) -> Result<Core> {
        create_private_dir(&config.kiosk.data_dir)?;
        let journal = Arc::new(
            Journal::open(&config.kiosk.data_dir.join("journal.db"))
                .context("opening the journal")?,
        );
        let secret = KioskSecret::load_or_create(&config.kiosk.data_dir.join("kiosk.secret"))
            .context("loading the kiosk secret")?;
        #[cfg(feature = "embedded-central")]
        let mut embedded = None;
        let settings = match &config.central {
            CentralSection::Remote {
                urls,
                ca,
                cert,
                key,
            } => ClientSettings::from_files(urls.clone(), ca, cert, key)
                .context("reading the kiosk's certificates")?,
            #[cfg(feature = "embedded-central")]
            CentralSection::Embedded { data_dir } => {
                let started = crate::embedded::start(data_dir, &config.kiosk.id).await?;
                embedded = Some(started.running);
                started.settings
            }
            #[cfg(not(feature = "embedded-central"))]
            CentralSection::Embedded { .. } => anyhow::bail!(
                "this kiosk was built without the embedded central service: set [central] url, ca, cert and key"
            ),
        };
        let client = CentralClient::new(settings).context("setting up the central client")?;
        match sync::reconcile(&client, &journal, true).await {
            Ok(done) => tracing::info!(?done, "start-up reconciliation"),
            Err(error) => tracing::warn!(%error, "start-up reconciliation left work for later"),
        }
        let status = Arc::new(Mutex::new(KioskStatus {
            in_service: true,
            ..KioskStatus::default()
        }));
        let settings = SyncSettings {
            heartbeat_every: Duration::from_secs(config.sync.heartbeat_seconds),
            upload_every: Duration::from_secs(config.sync.upload_seconds),
            ..SyncSettings::default()
        };
        let sync = sync::spawn(
            client.clone(),
            Arc::clone(&journal),
            Arc::clone(&status),
            settings,
            VERSION.to_owned(),
        );
        Ok(Core {
            config,
            journal,
            secret,
            client,
            sync,
            status,
            #[cfg(feature = "embedded-central")]
            embedded,
        })
    }

    /// Sends what is left (journal events, print outcomes) for up to `within`, stops the sync
    /// loop and the embedded service. Returns whether everything reached the central.
    pub async fn close(self, within: Duration) -> bool {
        let flushed = self.sync.flush(within).await;
        self.sync.stop().await;
        #[cfg(feature = "embedded-central")]
        if let Some(running) = self.embedded
            && let Err(error) = running.shutdown().await
        {
            tracing::warn!(%error, "stopping the embedded central service");
        }
        flushed
    }
}

fn create_private_dir(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("creating the data directory {}", path.display()))
}

/// What the screens and `run-once` hold to drive a running engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    /// What the screen shows; changes after every input.
    pub snapshots: watch::Receiver<Snapshot>,
    /// Handles on the simulated devices.
    pub sim: SimHandles,
    presses: mpsc::UnboundedSender<Button>,
    stop: mpsc::UnboundedSender<()>,
}

impl EngineHandle {
    /// A resident (or `run-once`) touched a button.
    pub fn press(&self, button: Button) {
        let _ = self.presses.send(button);
    }

    /// Asks the engine to stop; [`Engine::run`] then returns.
    pub fn stop(&self) {
        let _ = self.stop.send(());
    }
}

/// The engine: the flow and everything its effects touch.
pub struct Engine {
    flow: Flow,
    started: Instant,
    journal: Arc<Journal>,
    secret: KioskSecret,
    client: CentralClient,
    sync: SyncHandle,
    status: Arc<Mutex<KioskStatus>>,
    kiosk_id: String,
    devices: Devices,
    printer: PrinterQueue,
    keys: Arc<Mutex<KeySet>>,
    /// Keyed hashes of the card numbers of live sessions (for the journal's attempt rows).
    person_keys: HashMap<SessionId, String>,
    results_tx: mpsc::UnboundedSender<Input>,
    results: mpsc::UnboundedReceiver<Input>,
    presses: mpsc::UnboundedReceiver<Button>,
    stop: mpsc::UnboundedReceiver<()>,
    snapshots: watch::Sender<Snapshot>,
    availability: Option<Option<Unavailable>>,
    reachable: Option<bool>,
    device_reports: HashMap<DeviceKind, DeviceReport>,
    paper: PaperState,
    last_printed: Option<IssuedCode>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// Starts the devices and builds the engine over `core`.
    pub fn new(core: &Core) -> Result<(Engine, EngineHandle)> {
        let devices = Devices::start(&core.config).context("starting the devices")?;
        let (results_tx, results) = mpsc::unbounded_channel();
        let (presses_tx, presses) = mpsc::unbounded_channel();
        let (stop_tx, stop) = mpsc::unbounded_channel();
        let flow = Flow::new(Timeouts::default());
        let snapshot = Snapshot {
            screen: flow.screen(),
            countdown: None,
            help_requested: false,
            session: None,
            last_printed: None,
        };
        let (snapshots_tx, snapshots) = watch::channel(snapshot);
        let handle = EngineHandle {
            snapshots,
            sim: devices.sim.clone(),
            presses: presses_tx,
            stop: stop_tx,
        };
        let engine = Engine {
            flow,
            started: Instant::now(),
            journal: Arc::clone(&core.journal),
            secret: core.secret.clone(),
            client: core.client.clone(),
            sync: core.sync.clone(),
            status: Arc::clone(&core.status),
            kiosk_id: core.config.kiosk.id.clone(),
            printer: devices.printer(),
            devices,
            keys: Arc::new(Mutex::new(KeySet::new())),
            person_keys: HashMap::new(),
            results_tx,
            results,
            presses,
            stop,
            snapshots: snapshots_tx,
            availability: None,
            reachable: None,
            device_reports: HashMap::new(),
            paper: PaperState::Unknown,
            last_printed: None,
        };
        Ok((engine, handle))
    }

    /// Runs until [`EngineHandle::stop`]; then stops the devices.
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(event) = self.devices.events.recv() => self.device_event(event),
                Some(input) = self.results.recv() => self.input(input),
                Some(button) = self.presses.recv() => self.input(Input::Press(button)),
                _ = tick.tick() => {
                    self.refresh_service_state();
                    self.input(Input::Tick);
                }
                _ = self.stop.recv() => break,
            }
        }
        let devices = self.devices;
        let _ = tokio::task::spawn_blocking(move || devices.stop()).await;
    }

    fn now(&self) -> Millis {
        Millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Hands one input to the flow, carries out its effects, and publishes the new snapshot.
    fn input(&mut self, input: Input) {
        let ctx = Ctx {
            now: self.now(),
            fresh: uuid::Uuid::new_v4(),
        };
        let effects = self.flow.handle(input, ctx);
        for effect in effects {
            self.effect(effect);
        }
        let now = self.now();
        let snapshot = Snapshot {
            screen: self.flow.screen(),
            countdown: self.flow.countdown(now),
            help_requested: self.flow.help_requested(),
            session: self.flow.session(),
            last_printed: self.last_printed.clone(),
        };
        lock(&self.status).active_session = snapshot.session.map(|s| s.0);
        self.snapshots.send_replace(snapshot);
    }

    fn effect(&mut self, effect: Effect) {
        let wall = OffsetDateTime::now_utc();
        match effect {
            Effect::Identify {
                session,
                credential,
            } => {
                let request = match credential {
                    Credential::Card(fields) => IdentifyRequest::IdCard(*fields),
                    Credential::Suishen(text) => IdentifyRequest::SuishenCode(text),
                };
                let client = self.client.clone();
                let results = self.results_tx.clone();
                tokio::spawn(async move {
                    let result = client.identify(&request).await.map_err(|e| e.to_flow());
                    let _ = results.send(Input::Identified { session, result });
                });
            }
            Effect::Issue {
                session,
                request_id,
                action,
                token,
            } => {
                let attempt = NewAttempt {
                    request_id,
                    session: session.0,
                    action,
                    person_key: self.person_keys.get(&session).cloned(),
                };
                let journal = Arc::clone(&self.journal);
                let client = self.client.clone();
                let results = self.results_tx.clone();
                tokio::spawn(async move {
                    let result = issue(&journal, &client, attempt, token).await;
                    let _ = results.send(Input::Issued {
                        session,
                        request_id,
                        result,
                    });
                });
            }
            Effect::Print {
                session,
                request_id,
                job,
            } => {
                let content = printer::slip::SlipContent {
                    qr_text: job.code.qr_text.clone(),
                    name_masked: job.name_masked,
                    id_number_masked: job.id_number_masked,
                    issued_on: job.code.issued_on,
                    expires_on: job.code.expires_on,
                    serial: job.code.serial,
                    reissue: job.reissue,
                    kiosk_id: self.kiosk_id.clone(),
                    printed_at: wall,
                };
                let kid = job.code.kid;
                let keys = Arc::clone(&self.keys);
                let client = self.client.clone();
                let printer = self.printer.clone();
                tokio::spawn(async move {
                    let keys = keys_with(&keys, &client, kid).await;
                    printer.print(PrintOrder {
                        session,
                        request_id,
                        content,
                        keys,
                    });
                });
            }
            Effect::Journal { kind, detail } => {
                if let Err(error) = self.journal.append(kind, &detail, wall) {
                    tracing::error!(%error, ?kind, "cannot write the journal");
                }
            }
            Effect::SessionEnded { session } => {
                self.person_keys.remove(&session);
                match self.journal.end_session(session.0, wall) {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(n, "a session ended with an issued code unprinted");
                        self.sync.poke();
                    }
                    Err(error) => tracing::error!(%error, "cannot settle the session's attempts"),
                }
            }
            Effect::HelpRequested => {
                lock(&self.status).help_requested_at = Some(wall);
                self.sync.poke();
            }
        }
    }

    fn device_event(&mut self, event: DeviceEvent) {
        use idcard::ReaderEvent as R;
        use scanner::ScannerEvent as S;
        match event {
            DeviceEvent::Reader(event) => match event {
                R::ReaderAttached { .. } => {
                    self.device(DeviceKind::Idcard, DeviceState::Connected, None)
                }
                R::ReaderDetached { reader } => self.device(
                    DeviceKind::Idcard,
                    DeviceState::Failed,
                    Some(format!("reader {reader} unplugged")),
                ),
                R::CardPresent { .. } => self.input(Input::CardPresent),
                R::CardRead { card, .. } => {
                    let fields = card_fields(&card);
                    let key = self.secret.person_key(&card.id_number);
                    drop(card);
                    self.input(Input::CardRead {
                        card: Box::new(fields),
                    });
                    if let Some(session) = self.flow.session() {
                        self.person_keys.insert(session, key);
                    }
                }
                R::ReadRetry { reason, .. } => {
                    tracing::info!(%reason, "card read failed; asking to place it again");
                    self.input(Input::CardUnreadable);
                }
                R::CardRemoved { .. } => self.input(Input::CardRemoved),
                R::Error { error, .. } => {
                    self.device(DeviceKind::Idcard, DeviceState::Failed, Some(error));
                }
            },
            DeviceEvent::Scanner(event) => match event {
                S::Connected { .. } => {
                    self.device(DeviceKind::Scanner, DeviceState::Connected, None)
                }
                S::Disconnected { port, reason } => self.device(
                    DeviceKind::Scanner,
                    DeviceState::Failed,
                    Some(format!("{port}: {reason}")),
                ),
                S::Scan(text) => self.input(Input::Scanned(text)),
                S::Error(error) => {
                    let state = match error {
                        scanner::ScannerError::Open { .. } => DeviceState::Failed,
                        scanner::ScannerError::Frame(_) => DeviceState::Connected,
                    };
                    self.device(DeviceKind::Scanner, state, Some(error.to_string()));
                }
            },
            DeviceEvent::PrinterStatus(status) => self.printer_status(status),
            DeviceEvent::Printed {
                session,
                request_id,
                result,
            } => {
                let wall = OffsetDateTime::now_utc();
                let recorded = match &result {
                    Ok(_) => self.journal.record_printed(request_id, wall),
                    Err((reason, detail)) => {
                        self.journal
                            .record_print_failed(request_id, *reason, Some(detail), wall)
                    }
                };
                if let Err(error) = recorded {
                    tracing::error!(%error, "cannot journal the print outcome");
                }
                failpoint::check(Point::AfterPrint);
                self.sync.poke();
                if result.is_ok()
                    && let Ok(Some(attempt)) = self.journal.attempt(request_id)
                {
                    self.last_printed = attempt.code;
                }
                self.input(Input::Printed {
                    session,
                    request_id,
                    result: result.map(|_| ()).map_err(|(reason, _)| reason),
                });
            }
        }
    }

    fn device(&mut self, device: DeviceKind, state: DeviceState, last_error: Option<String>) {
        let last_error = last_error.or_else(|| {
            self.device_reports
                .get(&device)
                .and_then(|r| r.last_error.clone())
        });
        self.device_reports.insert(
            device,
            DeviceReport {
                device,
                state,
                last_error,
            },
        );
        let mut reports: Vec<DeviceReport> = self.device_reports.values().cloned().collect();
        reports.sort_by_key(|r| r.device);
        lock(&self.status).devices = reports;
    }

    fn printer_status(&mut self, status: printer::PrinterStatus) {
        use printer::PrinterStatus as P;
        let (state, paper) = match status {
            P::Ready => (DeviceState::Connected, PaperState::Ok),
            P::PaperNearEnd => (DeviceState::Degraded, PaperState::NearEnd),
            P::PaperOut => (DeviceState::Degraded, PaperState::Out),
            P::CoverOpen => (DeviceState::Degraded, self.paper),
            P::CutterError | P::Offline | P::NoAnswer | P::Unknown => {
                (DeviceState::Failed, PaperState::Unknown)
            }
        };
        self.paper = paper;
        lock(&self.status).paper = paper;
        let error = (status != P::Ready).then(|| status.as_str().to_owned());
        self.device(DeviceKind::Printer, state, error);
    }

    /// Feeds the flow what decides whether residents can be served: staff's out-of-service, the
    /// printer, the service hours from the central's config, and whether the central answers.
    fn refresh_service_state(&mut self) {
        let sync = self.sync.state();
        let printer_ok = self
            .device_reports
            .get(&DeviceKind::Printer)
            .is_none_or(|r| r.state != DeviceState::Failed)
            && self.paper != PaperState::Out;
        let (in_service, reason) = {
            let status = lock(&self.status);
            (status.in_service, status.out_of_service_reason.clone())
        };
        if let Some(config) = &sync.config {
            let idle_ms = u64::from(config.idle_timeout_seconds.max(MIN_IDLE_SECONDS)) * 1000;
            let timeouts = self.flow.timeouts();
            if timeouts.idle_ms != idle_ms {
                self.flow.set_timeouts(Timeouts {
                    idle_ms,
                    ..timeouts
                });
            }
        }
        let local = OffsetDateTime::now_utc().to_offset(SHANGHAI);
        let in_hours = sync
            .config
            .as_ref()
            .is_none_or(|c| c.in_service_hours(local.weekday(), local.time()));
        let availability = if !in_service {
            Some(Unavailable::Staff(reason.unwrap_or_default()))
        } else if !printer_ok {
            Some(Unavailable::Printer)
        } else if !in_hours {
            Some(Unavailable::OutsideHours)
        } else {
            None
        };
        if self.availability.as_ref() != Some(&availability) {
            self.availability = Some(availability.clone());
            self.input(Input::Availability(availability));
        }
        if let Some(reachable) = sync.reachable
            && self.reachable != Some(reachable)
        {
            self.reachable = Some(reachable);
            self.input(Input::CentralReachable(reachable));
        }
    }
}

/// One issuance: journal the attempt, send it, journal the answer. The flow gets the answer only
/// once it is on disk.
async fn issue(
    journal: &Journal,
    client: &CentralClient,
    attempt: NewAttempt,
    token: protocol::api::SessionToken,
) -> Result<IssuedCode, crate::flow::CentralFailure> {
    let request_id = attempt.request_id;
    let wall = OffsetDateTime::now_utc();
    // A retry of the same attempt (same request id) is already journaled.
    let known = matches!(journal.attempt(request_id), Ok(Some(_)));
    if !known && let Err(error) = journal.begin_attempt(&attempt, wall) {
        tracing::error!(%error, "cannot journal the attempt: not sending it");
        return Err(crate::flow::CentralFailure::BadAnswer);
    }
    failpoint::check(Point::BeforeRequest);
    let request = IssueRequest {
        session: token,
        action: attempt.action,
        request_id,
    };
    let answer = client.issue(&request).await;
    let wall = OffsetDateTime::now_utc();
    match &answer {
        Ok(code) => {
            if let Err(error) = journal.record_issued(request_id, code, wall) {
                tracing::error!(%error, "cannot journal the issued code: not printing it");
                return Err(crate::flow::CentralFailure::BadAnswer);
            }
            failpoint::check(Point::AfterResponse);
        }
        // The session token expired: the flow identifies again and retries with the same
        // request id, so the attempt stays open.
        Err(crate::client::CallError::Refused(body))
            if matches!(
                body.error,
                protocol::api::ErrorCode::SessionExpired | protocol::api::ErrorCode::UnknownSession
            ) => {}
        Err(crate::client::CallError::Refused(body)) => {
            if let Err(error) = journal.record_not_issued(request_id, body.error.as_str(), wall) {
                tracing::error!(%error, "cannot journal the refusal");
            }
        }
        // Unreachable or a bad answer: the request may or may not have arrived. The attempt
        // stays open; a retry (same request id) or the reconciliation settles it.
        Err(_) => {}
    }
    answer.map_err(|e| e.to_flow())
}

/// The issuer keys, fetched from the central when `kid` is not among them yet.
async fn keys_with(keys: &Mutex<KeySet>, client: &CentralClient, kid: u8) -> KeySet {
    if lock(keys).get(kid).is_none() {
        match client.keys().await {
            Ok(answer) => {
                let mut held = lock(keys);
                for entry in answer.keys {
                    match PublicKey::from_hex(&entry.public_key_hex) {
                        Ok(key) => held.insert(entry.kid, key),
                        Err(error) => tracing::warn!(kid = entry.kid, %error, "bad issuer key"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot fetch the issuer keys"),
        }
    }
    lock(keys).clone()
}

/// What `kiosk sync` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncReport {
    /// Whether everything reached the central: no event left, no outcome unreported, no attempt
    /// unsettled.
    pub done: bool,
    /// Journal events still waiting.
    pub backlog: u64,
    /// Issuance attempts still waiting for the central's word.
    pub unsettled: usize,
}

/// `kiosk sync`: opens the kiosk's core (which settles unfinished attempts), sends everything
/// for up to `within`, and reports what is left. No device is opened, nothing is printed.
pub async fn sync_now(config: Config, within: Duration) -> Result<SyncReport> {
    let core = Core::open(config).await?;
    let journal = Arc::clone(&core.journal);
    let done = core.close(within).await;
    let backlog = journal.backlog().context("reading the journal")?;
    let unsettled = journal.unsettled().context("reading the journal")?.len();
    Ok(SyncReport {
        done,
        backlog,
        unsettled,
    })
}
