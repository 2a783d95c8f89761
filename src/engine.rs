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
//!
//! # Staff maintenance mode
//!
//! The engine also runs the pure [`staff`](crate::staff) machine and routes devices between it
//! and the flow:
//! - while no resident session runs and staff mode is closed, a card read is first matched
//!   against the staff allow-list; a staff card opens the PIN keypad, any other card goes to the
//!   flow as before (a card arriving at home is held back until it is read, with the screen
//!   showing Reading, so that a staff card never starts a resident session);
//! - while staff mode shows, card reads and scans go to the staff machine, never to the flow,
//!   and resident presses are dropped; the machine hands a resident's card placed on the card
//!   prompt, the keypad or the lockout notice back (`ToResident`), and the flow then starts that
//!   resident's session as from home;
//! - the allow-list is the central config's `staff` (cached in `<data_dir>/central-config.json`
//!   so that a restart without network still knows it), or kiosk.toml's `[[staff]]` until a
//!   central config has been seen;
//! - PINs are checked with argon2 on the blocking pool, never on the engine task;
//! - the lockout is stored in `<data_dir>/staff-lockout.json` (a wall-clock end), and the
//!   out-of-service switch is restored at start from the journal's last `out_of_service` /
//!   `back_in_service` event;
//! - `<data_dir>/status.json` is rewritten every few seconds for `kiosk doctor all`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use protocol::KeySet;
use protocol::api::{
    DeviceKind, DeviceReport, DeviceState, IdentifyRequest, IssueRequest, IssuedCode, JournalKind,
    KioskConfig, PaperState, PrintFailure, RequestId, StaffEntry,
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
use crate::journal::{Journal, JournalError, NewAttempt, REPLACED_BEFORE_PRINT};
use crate::secret::KioskSecret;
use crate::staff::{
    CardSeen, DeviceLine, LockoutRecord, RecentError, ScanSeen, Staff, StaffButton, StaffEffect,
    StaffInput, StaffListSource, StaffMember, StaffRules, StaffView, SyncView, TodayCounts,
};
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
    /// Staff maintenance mode, while it (or its card prompt, PIN keypad or lockout notice)
    /// shows: the screens then render this instead of [`Snapshot::screen`].
    pub staff: Option<StaffView>,
    /// The notice for the home screen from the central's config, if it sets one.
    pub notice: Option<String>,
    /// How long the flow waits without input before the idle dialog (the central's config may
    /// change it).
    pub idle_timeout: Duration,
}

/// The central config last pulled, cached in the data directory.
pub const CENTRAL_CONFIG_FILE: &str = "central-config.json";
/// The staff lockout state, in the data directory.
pub const STAFF_LOCKOUT_FILE: &str = "staff-lockout.json";
/// How long a card arriving at home is held back from the flow while it is read (to tell a
/// staff card from a resident's) before the flow is told anyway.
pub const HOLD_CARD: Duration = Duration::from_secs(5);
/// How often the staff pages' journal figures (counts, recent errors) are read again.
const STAFF_DATA_EVERY: Duration = Duration::from_secs(2);
/// How many recent errors the staff page lists.
const RECENT_ERRORS: usize = 20;

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
    embedded: Option<crate::embedded::Switch>,
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
                embedded = Some(crate::embedded::Switch::new(data_dir, started.running));
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
        let (in_service, out_of_service_reason) = service_switch(&journal);
        if !in_service {
            tracing::info!("staff took this kiosk out of service before the restart: it stays so");
        }
        let status = Arc::new(Mutex::new(KioskStatus {
            in_service,
            out_of_service_reason,
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
        if let Some(switch) = self.embedded
            && let Err(error) = switch.set_reachable(false).await
        {
            tracing::warn!(%error, "stopping the embedded central service");
        }
        flushed
    }

    /// The embedded central service's switch (`None` with a remote central), for the simulator
    /// panel.
    #[cfg(feature = "embedded-central")]
    pub fn embedded_switch(&self) -> Option<crate::embedded::Switch> {
        self.embedded.clone()
    }

    /// Makes the embedded central service reachable or not: stops it, or starts it again on the
    /// same address and data directory (the demo's "central not reachable").
    ///
    /// # Errors
    /// With a remote central; when the service does not stop or start.
    #[cfg(feature = "embedded-central")]
    pub async fn set_embedded_reachable(&self, reachable: bool) -> Result<()> {
        match &self.embedded {
            Some(switch) => switch.set_reachable(reachable).await,
            None => anyhow::bail!("this kiosk's central service is not embedded"),
        }
    }
}

/// The staff's out-of-service switch as the journal last recorded it: in service unless the
/// last `out_of_service` / `back_in_service` event is an `out_of_service`.
pub fn service_switch(journal: &Journal) -> (bool, Option<String>) {
    match journal.recent_events(&[JournalKind::OutOfService, JournalKind::BackInService], 1) {
        Ok(events) => match events.first() {
            Some(event) if event.kind == JournalKind::OutOfService => {
                let words = event
                    .detail
                    .get("words")
                    .or_else(|| event.detail.get("reason"))
                    .cloned()
                    .unwrap_or_default();
                (false, Some(words))
            }
            _ => (true, None),
        },
        Err(error) => {
            tracing::error!(%error, "cannot read the service switch from the journal");
            (true, None)
        }
    }
}

fn create_private_dir(path: &Path) -> Result<()> {
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
    staff: mpsc::UnboundedSender<StaffInput>,
    stop: mpsc::UnboundedSender<()>,
}

impl EngineHandle {
    /// A resident (or `run-once`) touched a button. Dropped while staff mode shows.
    pub fn press(&self, button: Button) {
        let _ = self.presses.send(button);
    }

    /// Staff touched a button of the maintenance screens (or the hidden corner of the home
    /// screen: [`StaffButton::CornerLongPress`], which only counts while no resident session
    /// runs).
    pub fn staff(&self, button: StaffButton) {
        let _ = self.staff.send(StaffInput::Press(button));
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
    data_dir: PathBuf,
    staff: Staff,
    staff_list: StaffList,
    /// Staff presses from the handle, and PIN check results.
    staff_tx: mpsc::UnboundedSender<StaffInput>,
    staff_rx: mpsc::UnboundedReceiver<StaffInput>,
    /// A card arrived at home and is being read: when (the flow has not been told yet).
    held_card: Option<Millis>,
    /// The request id of the test print running, if one runs.
    test_print: Option<RequestId>,
    /// The staff pages' journal figures, and when they were read.
    staff_data: Option<(Millis, TodayCounts, Vec<RecentError>)>,
    /// When `status.json` was last written, and the write in progress.
    status_written: Option<Millis>,
    status_task: Option<tokio::task::JoinHandle<()>>,
}

/// The staff allow-list in use and where it comes from.
#[derive(Debug, Clone)]
struct StaffList {
    entries: Vec<StaffEntry>,
    source: StaffListSource,
    /// The version of the central config it came from.
    version: Option<u64>,
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
        Engine::with_staff_rules(core, StaffRules::default())
    }

    /// [`Engine::new`] with other staff rules (shorter idle time-out and lockouts, for tests;
    /// the kiosk itself always runs the defaults).
    pub fn with_staff_rules(core: &Core, rules: StaffRules) -> Result<(Engine, EngineHandle)> {
        let devices = Devices::start(&core.config).context("starting the devices")?;
        let (results_tx, results) = mpsc::unbounded_channel();
        let (presses_tx, presses) = mpsc::unbounded_channel();
        let (stop_tx, stop) = mpsc::unbounded_channel();
        let (staff_tx, staff_rx) = mpsc::unbounded_channel();
        let flow = Flow::new(Timeouts::default());
        let snapshot = Snapshot {
            screen: flow.screen(),
            countdown: None,
            help_requested: false,
            session: None,
            last_printed: None,
            staff: None,
            notice: None,
            idle_timeout: Duration::from_millis(flow.timeouts().idle_ms),
        };
        let (snapshots_tx, snapshots) = watch::channel(snapshot);
        let handle = EngineHandle {
            snapshots,
            sim: devices.sim.clone(),
            presses: presses_tx,
            staff: staff_tx.clone(),
            stop: stop_tx,
        };
        let data_dir = core.config.kiosk.data_dir.clone();
        let staff_list = initial_staff_list(&data_dir, &core.config.staff);
        let started = Instant::now();
        let staff = Staff::new(rules, load_lockout(&data_dir), Millis(0));
        let engine = Engine {
            flow,
            started,
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
            data_dir,
            staff,
            staff_list,
            staff_tx,
            staff_rx,
            held_card: None,
            test_print: None,
            staff_data: None,
            status_written: None,
            status_task: None,
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
                Some(button) = self.presses.recv() => self.press(button),
                Some(input) = self.staff_rx.recv() => self.staff_from_outside(input),
                _ = tick.tick() => {
                    self.refresh_service_state();
                    self.refresh_staff_list();
                    self.release_held_card();
                    self.staff_input(StaffInput::Tick);
                    self.input(Input::Tick);
                    self.write_status();
                }
                _ = self.stop.recv() => break,
            }
        }
        self.write_final_status().await;
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
        self.publish();
    }

    /// Publishes what the screens show now.
    fn publish(&mut self) {
        let now = self.now();
        let mut screen = self.flow.screen();
        if self.held_card.is_some()
            && self.flow.session().is_none()
            && matches!(screen, Screen::Home { .. } | Screen::ChooseLogin)
        {
            screen = Screen::Reading;
        }
        let staff = self.staff_view(now);
        let snapshot = Snapshot {
            screen,
            countdown: self.flow.countdown(now),
            help_requested: self.flow.help_requested(),
            session: self.flow.session(),
            last_printed: self.last_printed.clone(),
            staff,
            notice: self.sync.state().config.and_then(|c| c.notice),
            idle_timeout: Duration::from_millis(self.flow.timeouts().idle_ms),
        };
        lock(&self.status).active_session = snapshot.session.map(|s| s.0);
        self.snapshots.send_replace(snapshot);
    }

    /// A resident's press: dropped while staff mode shows.
    fn press(&mut self, button: Button) {
        if self.staff.is_closed() {
            self.input(Input::Press(button));
        }
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
                R::CardPresent { .. } => {
                    if !self.staff.is_closed() {
                        // Staff mode: the read result goes to the test page.
                    } else if self.flow.session().is_none() {
                        // At home: hold it until the read says whose card it is.
                        self.held_card = Some(self.now());
                        self.publish();
                    } else {
                        self.input(Input::CardPresent);
                    }
                }
                R::CardRead { card, .. } => self.card_read(card),
                R::ReadRetry { reason, .. } => {
                    if self.staff.is_closed() {
                        tracing::info!(%reason, "card read failed; asking to place it again");
                        self.release_card_present();
                        self.input(Input::CardUnreadable);
                    } else {
                        self.staff_input(StaffInput::CardUnreadable(reason.to_string()));
                    }
                }
                R::CardRemoved { .. } => {
                    if self.staff.is_closed() {
                        self.release_card_present();
                        self.input(Input::CardRemoved);
                    }
                }
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
                S::Scan(text) => {
                    if self.staff.is_closed() {
                        self.input(Input::Scanned(text));
                    } else {
                        self.staff_input(StaffInput::Scanned(ScanSeen::of(&text)));
                    }
                }
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
                request_id, result, ..
            } if self.test_print == Some(request_id) => {
                self.test_print = None;
                let result = match result {
                    Ok(_) => Ok(()),
                    Err((reason, detail)) => {
                        tracing::warn!(?reason, %detail, "the test slip was not printed");
                        Err(detail)
                    }
                };
                self.staff_input(StaffInput::TestPrinted(result));
            }
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

    /// A card was read: at home or in staff mode the staff machine decides whose it is first.
    fn card_read(&mut self, card: Box<idcard::IdCard>) {
        let at_home = self.flow.session().is_none();
        if self.staff.is_closed() && !at_home {
            self.resident_card(&card);
            return;
        }
        let staff = self
            .staff_list
            .entries
            .iter()
            .find(|entry| entry.matches_id_number(&card.id_number))
            .map(|entry| StaffMember {
                name_masked: entry.name_masked.clone(),
                pin_hash: entry.pin_hash.clone(),
            });
        let seen = CardSeen {
            staff,
            masked: card.masked_view(),
        };
        let held = self.held_card.take().is_some();
        if self.staff_input(StaffInput::Card(Box::new(seen))) {
            // A resident's card: the flow hears of it as it would have without staff mode.
            if held && self.flow.session().is_none() {
                self.input(Input::CardPresent);
            }
            self.resident_card(&card);
        }
    }

    /// Hands a resident's card to the flow, and keeps its keyed hash for the session's attempt.
    fn resident_card(&mut self, card: &idcard::IdCard) {
        let fields = card_fields(card);
        let key = self.secret.person_key(&card.id_number);
        self.input(Input::CardRead {
            card: Box::new(fields),
        });
        if let Some(session) = self.flow.session() {
            self.person_keys.insert(session, key);
        }
    }

    /// Tells the flow about a card held back at home (its read failed or it left).
    fn release_card_present(&mut self) {
        if self.held_card.take().is_some() && self.flow.session().is_none() {
            self.input(Input::CardPresent);
        }
    }

    /// A card held back for too long (no read result): the flow takes over its time limits.
    fn release_held_card(&mut self) {
        if let Some(since) = self.held_card
            && self.now().since(since) >= millis(HOLD_CARD)
        {
            self.release_card_present();
        }
    }

    /// A staff press from the handle, or a PIN check's result.
    fn staff_from_outside(&mut self, input: StaffInput) {
        if input == StaffInput::Press(StaffButton::CornerLongPress)
            && (self.flow.session().is_some() || self.held_card.is_some())
        {
            return;
        }
        self.staff_input(input);
    }

    /// Hands one input to the staff machine, carries out its effects, publishes. Returns
    /// whether the machine handed a card to the resident flow.
    fn staff_input(&mut self, input: StaffInput) -> bool {
        let tick = input == StaffInput::Tick;
        let effects = self.staff.handle(input, self.now());
        let mut to_resident = false;
        for effect in effects {
            if effect == StaffEffect::ToResident {
                to_resident = true;
            } else {
                self.staff_effect(effect);
            }
        }
        // Ticks publish through the flow's tick that follows; a card for the resident flow
        // publishes when the flow has it.
        if !tick && !to_resident {
            self.publish();
        }
        to_resident
    }

    fn staff_effect(&mut self, effect: StaffEffect) {
        let wall = OffsetDateTime::now_utc();
        match effect {
            StaffEffect::CheckPin {
                attempt,
                pin_hash,
                pin,
            } => {
                let results = self.staff_tx.clone();
                tokio::spawn(async move {
                    let checked = tokio::task::spawn_blocking(move || {
                        protocol::api::verify_staff_pin(&pin_hash, pin.expose())
                    })
                    .await;
                    let ok = checked.unwrap_or(false);
                    let _ = results.send(StaffInput::PinChecked { attempt, ok });
                });
            }
            StaffEffect::Journal { kind, detail } => {
                if let Err(error) = self.journal.append(kind, &detail, wall) {
                    tracing::error!(%error, ?kind, "cannot write the journal");
                }
                self.staff_data = None;
                self.sync.poke();
            }
            StaffEffect::TestPrint => match crate::sample::test_slip(&self.kiosk_id) {
                Ok((content, keys)) => {
                    let request_id = RequestId::new(uuid::Uuid::new_v4());
                    self.test_print = Some(request_id);
                    self.printer.print(PrintOrder {
                        session: SessionId(uuid::Uuid::new_v4()),
                        request_id,
                        content,
                        keys,
                    });
                }
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "cannot make the test slip");
                    let _ = self
                        .staff_tx
                        .send(StaffInput::TestPrinted(Err(format!("{error:#}"))));
                }
            },
            StaffEffect::ForceSync => self.sync.poke(),
            StaffEffect::TakeOutOfService(reason) => {
                {
                    let mut status = lock(&self.status);
                    status.in_service = false;
                    status.out_of_service_reason = Some(reason.words().to_owned());
                }
                self.sync.poke();
                self.refresh_service_state();
            }
            StaffEffect::BackInService => {
                {
                    let mut status = lock(&self.status);
                    status.in_service = true;
                    status.out_of_service_reason = None;
                }
                self.sync.poke();
                self.refresh_service_state();
            }
            StaffEffect::ClearHelp => {
                self.input(Input::HelpCleared);
                lock(&self.status).help_requested_at = None;
                self.sync.poke();
            }
            StaffEffect::SaveLockout(record) => {
                if let Err(error) = save_lockout(&self.data_dir, record, wall) {
                    tracing::error!(%error, "cannot store the staff lockout");
                }
            }
            StaffEffect::ToResident => {}
            StaffEffect::Exited => self.staff_data = None,
        }
    }

    /// The staff allow-list follows the central's config once one has been pulled, and the
    /// config is cached on disk for a restart without network.
    fn refresh_staff_list(&mut self) {
        let Some(config) = self.sync.state().config else {
            return;
        };
        if self.staff_list.source == StaffListSource::Central
            && self.staff_list.version == Some(config.version)
        {
            return;
        }
        if let Err(error) = write_central_config(&self.data_dir, &config) {
            tracing::warn!(%error, "cannot cache the central config");
        }
        self.staff_list = StaffList {
            entries: usable_entries(&config.staff),
            source: StaffListSource::Central,
            version: Some(config.version),
        };
    }

    /// What the staff screens show, while staff mode shows.
    fn staff_view(&mut self, now: Millis) -> Option<StaffView> {
        let screen = self.staff.screen(now)?;
        let stale = self
            .staff_data
            .as_ref()
            .is_none_or(|(at, ..)| now.since(*at) >= millis(STAFF_DATA_EVERY));
        if stale && self.staff.is_open() {
            let (counts, errors) = self.journal_figures();
            self.staff_data = Some((now, counts, errors));
        }
        let (counts, recent_errors) = self
            .staff_data
            .as_ref()
            .map(|(_, counts, errors)| (counts.clone(), errors.clone()))
            .unwrap_or_default();
        let status = lock(&self.status).clone();
        Some(StaffView {
            screen,
            auto_exit_in: self.staff.auto_exit_in(now),
            lockout_seconds_left: self.staff.lockout_seconds_left(now),
            devices: self.device_lines(),
            paper: self.paper,
            in_service: status.in_service,
            out_of_service_reason: status.out_of_service_reason,
            resident_screen_blocked: self.availability.as_ref().is_some_and(Option::is_some),
            help_requested: self.flow.help_requested(),
            counts,
            sync: self.sync_view(),
            recent_errors,
            test_print: self.staff.test_print().cloned(),
            test_card: self.staff.test_card().cloned(),
            test_scan: self.staff.test_scan().cloned(),
        })
    }

    fn device_lines(&self) -> Vec<DeviceLine> {
        [DeviceKind::Idcard, DeviceKind::Scanner, DeviceKind::Printer]
            .into_iter()
            .map(|device| {
                let report = self.device_reports.get(&device);
                DeviceLine {
                    device,
                    state: report.map(|r| r.state),
                    last_error: report.and_then(|r| r.last_error.clone()),
                }
            })
            .collect()
    }

    fn sync_view(&self) -> SyncView {
        let state = self.sync.state();
        SyncView {
            reachable: state.reachable,
            last_heartbeat_at: state.last_heartbeat_at,
            backlog: state.backlog,
            unsettled: state.unsettled,
            unreported_outcomes: state.unreported_outcomes,
            last_error: state.last_error,
            config_version: state.config.as_ref().map(|c| c.version),
            staff_list: self.staff_list.source,
        }
    }

    /// Today's counts and the recent errors, from the journal.
    fn journal_figures(&self) -> (TodayCounts, Vec<RecentError>) {
        let midnight = OffsetDateTime::now_utc()
            .to_offset(SHANGHAI)
            .replace_time(time::Time::MIDNIGHT);
        let counts = match self.journal.counts_since(midnight) {
            Ok(c) => TodayCounts {
                applies: c.applies,
                reissues: c.reissues,
                printed: c.printed,
                refusals: c.refusals,
                refusals_by_reason: self
                    .journal
                    .count_by_detail_since(JournalKind::Refused, "reason", midnight)
                    .unwrap_or_default(),
                print_failures: c.print_failures,
                print_failures_by_reason: self
                    .journal
                    .count_by_detail_since(JournalKind::PrintFailed, "reason", midnight)
                    .unwrap_or_default(),
            },
            Err(error) => {
                tracing::error!(%error, "cannot count today's work");
                TodayCounts::default()
            }
        };
        let kinds = [
            JournalKind::Error,
            JournalKind::PrintFailed,
            JournalKind::StaffLoginFailed,
        ];
        let errors = match self.journal.recent_events(&kinds, RECENT_ERRORS) {
            Ok(events) => events.iter().map(recent_error).collect(),
            Err(error) => {
                tracing::error!(%error, "cannot read the recent errors");
                Vec::new()
            }
        };
        (counts, errors)
    }

    /// Rewrites `status.json` every few seconds (on the blocking pool; one write at a time).
    fn write_status(&mut self) {
        let now = self.now();
        if self
            .status_written
            .is_some_and(|at| now.since(at) < millis(crate::status::WRITE_EVERY))
            || self.status_task.as_ref().is_some_and(|t| !t.is_finished())
        {
            return;
        }
        self.status_written = Some(now);
        let file = self.status_file(true);
        let dir = self.data_dir.clone();
        self.status_task = Some(tokio::task::spawn_blocking(move || {
            if let Err(error) = crate::status::write(&dir, &file) {
                tracing::warn!(%error, "cannot write status.json");
            }
        }));
    }

    /// Writes `status.json` a last time, saying the kiosk stopped.
    async fn write_final_status(&mut self) {
        if let Some(task) = self.status_task.take() {
            let _ = task.await;
        }
        let file = self.status_file(false);
        let dir = self.data_dir.clone();
        let written = tokio::task::spawn_blocking(move || crate::status::write(&dir, &file)).await;
        if let Ok(Err(error)) = written {
            tracing::warn!(%error, "cannot write status.json");
        }
    }

    fn status_file(&self, running: bool) -> crate::status::KioskStatusFile {
        let status = lock(&self.status).clone();
        crate::status::KioskStatusFile {
            written_at: OffsetDateTime::now_utc(),
            running,
            pid: std::process::id(),
            kiosk_id: self.kiosk_id.clone(),
            version: VERSION.to_owned(),
            devices: self.device_lines(),
            paper: self.paper,
            in_service: status.in_service,
            out_of_service_reason: status.out_of_service_reason,
            help_requested: self.flow.help_requested(),
            staff_mode: !self.staff.is_closed(),
            resident_session: self.flow.session().is_some(),
            sync: self.sync_view(),
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
        let (state, paper) = printer_health(status, self.paper);
        self.paper = paper;
        lock(&self.status).paper = paper;
        let error = (status != printer::PrinterStatus::Ready).then(|| status.as_str().to_owned());
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

/// What a printer status means for the device report and the paper (`paper` is what was known
/// before, kept while the cover is open).
pub fn printer_health(
    status: printer::PrinterStatus,
    paper: PaperState,
) -> (DeviceState, PaperState) {
    use printer::PrinterStatus as P;
    match status {
        P::Ready => (DeviceState::Connected, PaperState::Ok),
        P::PaperNearEnd => (DeviceState::Degraded, PaperState::NearEnd),
        P::PaperOut => (DeviceState::Degraded, PaperState::Out),
        P::CoverOpen => (DeviceState::Degraded, paper),
        P::CutterError | P::Offline | P::NoAnswer | P::Unknown => {
            (DeviceState::Failed, PaperState::Unknown)
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A journal event as one line of the recent-errors page (ids of sessions and requests left
/// out).
fn recent_error(event: &protocol::api::JournalEvent) -> RecentError {
    let summary = event
        .detail
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "session" | "request_id"))
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(" ");
    RecentError {
        at: event.at,
        kind: event.kind,
        summary,
    }
}

/// The entries of a list that are well formed (a malformed one is logged and left out).
fn usable_entries(entries: &[StaffEntry]) -> Vec<StaffEntry> {
    entries
        .iter()
        .filter(|entry| match entry.check() {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, staff = %entry.name_masked, "a staff entry is malformed; ignoring it");
                false
            }
        })
        .cloned()
        .collect()
}

/// The allow-list at start: the cached central config's, or kiosk.toml's `[[staff]]`.
fn initial_staff_list(data_dir: &Path, fallback: &[StaffEntry]) -> StaffList {
    match read_central_config(data_dir) {
        Ok(Some(config)) => StaffList {
            entries: usable_entries(&config.staff),
            source: StaffListSource::CachedCentral,
            version: Some(config.version),
        },
        other => {
            if let Err(error) = other {
                tracing::warn!(%error, "cannot read the cached central config; using kiosk.toml's staff");
            }
            StaffList {
                entries: usable_entries(fallback),
                source: StaffListSource::KioskToml,
                version: None,
            }
        }
    }
}

/// The central config cached by an earlier run, if any.
///
/// # Errors
/// I/O errors other than a missing file; `InvalidData` for a file that does not parse.
pub fn read_central_config(data_dir: &Path) -> std::io::Result<Option<KioskConfig>> {
    match std::fs::read(data_dir.join(CENTRAL_CONFIG_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_central_config(data_dir: &Path, config: &KioskConfig) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
    write_atomically(data_dir, CENTRAL_CONFIG_FILE, &bytes)
}

/// Writes `name` in `dir` atomically (a synced temporary file renamed over it), mode 0600.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(name))
}

/// The lockout as stored: wall-clock end, so that it survives a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredLockout {
    /// Wrong PINs in a row since the last lockout or entry.
    pub failures: u32,
    /// Lockouts since the last successful entry.
    pub lockouts: u32,
    /// When the running lockout ends, if one runs.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
}

fn save_lockout(
    data_dir: &Path,
    record: LockoutRecord,
    now: OffsetDateTime,
) -> std::io::Result<()> {
    let stored = StoredLockout {
        failures: record.failures,
        lockouts: record.lockouts,
        locked_until: (record.remaining_ms > 0).then(|| {
            now + time::Duration::milliseconds(
                i64::try_from(record.remaining_ms).unwrap_or(i64::MAX),
            )
        }),
    };
    let bytes = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
    write_atomically(data_dir, STAFF_LOCKOUT_FILE, &bytes)
}

/// The lockout a previous run stored (none when there is no file). A file that cannot be read
/// is logged and counts as none.
fn load_lockout(data_dir: &Path) -> LockoutRecord {
    let stored: StoredLockout = match std::fs::read(data_dir.join(STAFF_LOCKOUT_FILE)) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%error, "the staff lockout file does not parse; ignoring it");
                return LockoutRecord::default();
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return LockoutRecord::default(),
        Err(error) => {
            tracing::error!(%error, "cannot read the staff lockout file");
            return LockoutRecord::default();
        }
    };
    let remaining = stored.locked_until.map_or(0, |until| {
        let left = until - OffsetDateTime::now_utc();
        u64::try_from(left.whole_milliseconds()).unwrap_or(0)
    });
    LockoutRecord {
        failures: stored.failures,
        lockouts: stored.lockouts,
        remaining_ms: remaining,
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
    // Every send is journaled first. A retry of an attempt that is still open, or that ended
    // NotIssued (refused, e.g. the code changed elsewhere), reopens it under the same request id,
    // so that the code the central answers with is recorded against it and printed. An attempt
    // that already has a code is sent as it is: the central answers with that same code.
    match journal.begin_attempt(&attempt, wall) {
        Ok(()) | Err(JournalError::WrongState { .. }) => {}
        Err(error) => {
            tracing::error!(%error, "cannot journal the attempt: not sending it");
            return Err(crate::flow::CentralFailure::BadAnswer);
        }
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
            if code.replaced {
                // A replay of this request id whose code was replaced elsewhere or reported lost
                // since: its slip would not verify. Recorded as not printed; the flow identifies
                // the resident again as for a changed code.
                tracing::warn!(%request_id, code_id = %code.code_id, "the code of this request was replaced since: not printing it");
                if let Err(error) = journal.record_print_failed(
                    request_id,
                    PrintFailure::Other,
                    Some(REPLACED_BEFORE_PRINT),
                    wall,
                ) {
                    tracing::error!(%error, "cannot journal the replaced code");
                }
                return Err(crate::flow::CentralFailure::Refused(
                    protocol::api::ErrorCode::ConflictCodeChanged,
                ));
            }
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
