//! The PC/SC backend: a reader with the security module (SAM) inside, reached through `pcscd`.
//!
//! [`PcscReader`] owns one thread, and that thread owns the PC/SC context. It waits in
//! `SCardGetStatusChange` on two things at once: the special reader `\\?PnP?\Notification`, which
//! reports readers plugged in or out, and the chosen reader, which reports cards arriving and
//! leaving. It does not poll: it blocks until PC/SC reports a change, and [`CardReader::stop`]
//! wakes it with `SCardCancel`. Only while the PC/SC service is down does it try again at
//! intervals (up to 2 s).
//!
//! When a card arrives the thread connects in shared mode, takes a transaction, and runs
//! [`read_card`] (find → select → read, with its retries) over a transport that carries each SAM
//! frame in an APDU of the reader's [`Dialect`] ([`TunnelDialect`] by default). The read answer is
//! 1295 + 2 bytes, so answers are received into a buffer of `MAX_BUFFER_SIZE_EXTENDED`.
//!
//! # Events
//!
//! * `ReaderAttached` when the chosen reader is found (at start, when plugged in, after `pcscd`
//!   came back), `ReaderDetached` when it goes (after `CardRemoved` if a card was on it).
//! * For each card: `CardPresent`, then `CardRead` or `ReadRetry`, then `CardRemoved` when it is
//!   lifted. A card lifted in the middle of the read gives `ReadRetry` with
//!   [`ReadError::CardRemoved`]; a read that runs out of time, a SAM status or a text block that
//!   does not parse give `ReadRetry` with that reason (see [`ReadError::is_retryable`]). The card is
//!   not read again until it is lifted and placed again.
//! * `Error` for what a new card will not fix: the reader failing to carry frames
//!   ([`ReadError::Transport`]), a connection refused, the PC/SC service gone (reported once; the
//!   thread keeps trying to reach it, and reports the reader attached again when it is back).
//!
//! A card lifted in the middle of an exchange does not always surface as "card removed": the
//! virtual reader driver, for one, answers nothing or "not transacted". When an exchange fails
//! that way (no answer, a communication error), the transport asks PC/SC whether the card is still
//! there, waiting up to [`PRESENCE_CONFIRM`] for the reader to notice, and reports
//! [`TransportError::CardRemoved`] if it is not, [`TransportError::Timeout`] (no answer; placing
//! the card again may help) if it is.
//!
//! Plain functions for diagnostics: [`list_readers`] and the blocking [`read_one`].

use std::ffi::{CStr, CString};
use std::fmt;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::pcsc::{
    Card, Context, Disposition, MAX_BUFFER_SIZE_EXTENDED, PNP_NOTIFICATION, Protocols, ReaderState,
    Scope, ShareMode, State,
};

use crate::apdu::{Dialect, TunnelDialect};
use crate::read::{ReadError, ReadPolicy, SamTransport, TransportError, read_card};
use crate::text::IdCard;
use crate::{CardReader, ReaderEvent};

/// How long a transport waits for PC/SC to notice a card that stopped answering has left.
pub const PRESENCE_CONFIRM: Duration = Duration::from_millis(1500);

/// Pauses between attempts to reach the PC/SC service while it is down.
const SERVICE_RETRY_MIN: Duration = Duration::from_millis(200);
const SERVICE_RETRY_MAX: Duration = Duration::from_secs(2);
/// How often `stop` repeats `SCardCancel` while the thread has not finished (a cancel sent just
/// before the thread starts waiting is lost).
const CANCEL_REPEAT: Duration = Duration::from_millis(50);

/// Which reader to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReaderSelection {
    /// The first reader PC/SC lists; kept while it stays plugged in.
    #[default]
    First,
    /// The reader with this name; failing an exact match, the first whose name starts with it
    /// (PC/SC appends slot numbers, e.g. `"Virtual PCD"` matches `"Virtual PCD 00 00"`).
    Named(String),
}

impl ReaderSelection {
    /// The reader this selection means among `readers`, if any.
    pub fn pick<'a>(&self, readers: &'a [String]) -> Option<&'a str> {
        match self {
            Self::First => readers.first(),
            Self::Named(name) => readers
                .iter()
                .find(|r| *r == name)
                .or_else(|| readers.iter().find(|r| r.starts_with(name.as_str()))),
        }
        .map(String::as_str)
    }
}

impl fmt::Display for ReaderSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::First => f.write_str("the first reader"),
            Self::Named(name) => write!(f, "reader \"{name}\""),
        }
    }
}

/// What went wrong outside a card read (diagnostics: [`list_readers`], [`read_one`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcscError {
    /// `pcscd` is not running or not reachable.
    #[error("the PC/SC service is not running (install and start pcscd)")]
    NoService,
    /// Any other PC/SC failure.
    #[error("PC/SC: {0}")]
    Pcsc(::pcsc::Error),
    /// No reader matching the selection appeared in time.
    #[error("no card reader found ({selection})")]
    NoReader {
        /// The selection that matched nothing.
        selection: ReaderSelection,
    },
    /// No card was read in time.
    #[error("no card was read within {} s{}", waited.as_secs_f32(), last_attempt(last.as_ref()))]
    Timeout {
        /// How long [`read_one`] waited.
        waited: Duration,
        /// Why the last attempt failed, if a card was placed.
        last: Option<ReadError>,
    },
    /// The reader reported an error that a new card will not fix.
    #[error("{}{message}", reader.as_deref().map(|r| format!("{r}: ")).unwrap_or_default())]
    Reader {
        /// The reader concerned, if known.
        reader: Option<String>,
        /// What went wrong.
        message: String,
    },
    /// The reader thread ended unexpectedly.
    #[error("the reader thread stopped")]
    Stopped,
}

fn last_attempt(last: Option<&ReadError>) -> String {
    last.map(|e| format!(" (last attempt: {e})"))
        .unwrap_or_default()
}

impl From<::pcsc::Error> for PcscError {
    fn from(error: ::pcsc::Error) -> Self {
        match error {
            ::pcsc::Error::NoService | ::pcsc::Error::ServiceStopped => Self::NoService,
            other => Self::Pcsc(other),
        }
    }
}

/// The names of the PC/SC readers plugged in now (empty when there are none).
pub fn list_readers() -> Result<Vec<String>, PcscError> {
    let context = Context::establish(Scope::User)?;
    Ok(reader_names(&context)?
        .into_iter()
        .map(|(_, name)| name)
        .collect())
}

/// Waits up to `timeout` for a card on the selected reader and reads it (for diagnostics).
///
/// A failed read (card lifted too early, …) is not the end: the card may be placed again until
/// the time is up, and the error then says why the last attempt failed. An error that a new card
/// will not fix ends the wait at once.
pub fn read_one(
    selection: &ReaderSelection,
    policy: &ReadPolicy,
    timeout: Duration,
) -> Result<IdCard, PcscError> {
    // Fail at once, with a plain message, when there is no PC/SC service at all.
    drop(Context::establish(Scope::User)?);
    let mut reader = PcscReader::new(selection.clone()).with_policy(policy.clone());
    let events = reader.start();
    let deadline = Instant::now() + timeout;
    let mut saw_reader = false;
    let mut last = None;
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(ReaderEvent::CardRead { card, .. }) => break Ok(*card),
            Ok(ReaderEvent::ReaderAttached { .. }) => saw_reader = true,
            Ok(ReaderEvent::ReadRetry { reason, .. }) => last = Some(reason),
            Ok(ReaderEvent::Error {
                reader: Some(reader),
                error,
            }) => {
                break Err(PcscError::Reader {
                    reader: Some(reader),
                    message: error,
                });
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) if !saw_reader => {
                break Err(PcscError::NoReader {
                    selection: selection.clone(),
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                break Err(PcscError::Timeout {
                    waited: timeout,
                    last,
                });
            }
            Err(RecvTimeoutError::Disconnected) => break Err(PcscError::Stopped),
        }
    };
    reader.stop();
    result
}

/// The PC/SC reader backend ([module documentation](self)).
pub struct PcscReader {
    selection: ReaderSelection,
    policy: ReadPolicy,
    dialect: Arc<dyn Dialect>,
    running: Option<Running>,
}

impl fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcscReader")
            .field("selection", &self.selection)
            .field("policy", &self.policy)
            .field("dialect", &self.dialect.name())
            .field("running", &self.running.is_some())
            .finish()
    }
}

/// The thread of a started reader.
struct Running {
    control: Arc<Control>,
    /// Disconnected when the thread ends.
    done: Receiver<()>,
    thread: JoinHandle<()>,
}

impl PcscReader {
    /// A reader backend for `selection`, with the default [`ReadPolicy`] and the
    /// [`TunnelDialect`]. Nothing happens until [`CardReader::start`].
    pub fn new(selection: ReaderSelection) -> Self {
        Self {
            selection,
            policy: ReadPolicy::default(),
            dialect: Arc::new(TunnelDialect),
            running: None,
        }
    }

    /// Uses `policy` for every read (takes effect at the next start).
    #[must_use]
    pub fn with_policy(mut self, policy: ReadPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Uses another APDU dialect (takes effect at the next start).
    #[must_use]
    pub fn with_dialect(mut self, dialect: Arc<dyn Dialect>) -> Self {
        self.dialect = dialect;
        self
    }
}

impl CardReader for PcscReader {
    fn start(&mut self) -> Receiver<ReaderEvent> {
        self.stop();
        let (events, receiver) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let control = Arc::new(Control::default());
        let worker = Worker {
            selection: self.selection.clone(),
            policy: self.policy.clone(),
            dialect: Arc::clone(&self.dialect),
            control: Arc::clone(&control),
            events: events.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("idcard-pcsc".into())
            .spawn(move || {
                let _done = done_tx;
                worker.run();
            });
        match spawned {
            Ok(thread) => {
                self.running = Some(Running {
                    control,
                    done,
                    thread,
                });
            }
            Err(error) => {
                let _ = events.send(ReaderEvent::Error {
                    reader: None,
                    error: format!("could not start the reader thread: {error}"),
                });
            }
        }
        receiver
    }

    fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        running.control.request_stop();
        // The thread may be between two waits, where a cancel is lost, or in a read (bounded by
        // the read policy): cancel again until it is gone.
        while let Err(RecvTimeoutError::Timeout) = running.done.recv_timeout(CANCEL_REPEAT) {
            running.control.cancel();
        }
        let _ = running.thread.join();
    }
}

impl Drop for PcscReader {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Shared between [`PcscReader`] and its thread: the stop flag and the context to cancel.
#[derive(Default)]
struct Control {
    stopped: Mutex<bool>,
    wake: Condvar,
    context: Mutex<Option<Context>>,
}

impl Control {
    fn stopped(&self) -> MutexGuard<'_, bool> {
        self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopped(&self) -> bool {
        *self.stopped()
    }

    fn request_stop(&self) {
        *self.stopped() = true;
        self.wake.notify_all();
        self.cancel();
    }

    /// Wakes the thread out of `SCardGetStatusChange`.
    fn cancel(&self) {
        let context = self.context.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(context) = context.as_ref() {
            let _ = context.cancel();
        }
    }

    fn set_context(&self, context: Option<Context>) {
        *self.context.lock().unwrap_or_else(PoisonError::into_inner) = context;
    }

    /// Waits `timeout` unless stopped first; returns whether stopped.
    fn pause(&self, timeout: Duration) -> bool {
        let stopped = self.stopped();
        *self
            .wake
            .wait_timeout_while(stopped, timeout, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }
}

/// The reader thread.
struct Worker {
    selection: ReaderSelection,
    policy: ReadPolicy,
    dialect: Arc<dyn Dialect>,
    control: Arc<Control>,
    events: Sender<ReaderEvent>,
}

/// The reader the thread watches.
struct Watched {
    name: CString,
    label: String,
    /// The PC/SC event count when the card on the reader arrived; `None` when empty.
    card: Option<u32>,
}

impl Worker {
    fn emit(&self, event: ReaderEvent) {
        if self.control.is_stopped() {
            return;
        }
        if self.events.send(event).is_err() {
            // Nobody listens any more: there is no point in going on.
            *self.control.stopped() = true;
        }
    }

    /// Establishes the context, watches, and starts again whenever the service goes away.
    fn run(&self) {
        let mut retry = SERVICE_RETRY_MIN;
        let mut reported = false;
        let mut watched = None;
        loop {
            if self.control.is_stopped() {
                return;
            }
            let failure = match Context::establish(Scope::User) {
                Ok(context) => {
                    reported = false;
                    retry = SERVICE_RETRY_MIN;
                    self.control.set_context(Some(context.clone()));
                    let result = self.watch(&context, &mut watched);
                    self.control.set_context(None);
                    match result {
                        Ok(()) => return,
                        Err(error) => error,
                    }
                }
                Err(error) => error,
            };
            if let Some(gone) = watched.take() {
                self.reader_gone(gone);
            }
            // Once per outage; the attempts to reach the service again are quiet.
            if !reported {
                self.emit(ReaderEvent::Error {
                    reader: None,
                    error: format!("PC/SC service unavailable: {failure}"),
                });
                reported = true;
            }
            if self.control.pause(retry) {
                return;
            }
            retry = (retry * 2).min(SERVICE_RETRY_MAX);
        }
    }

    /// Watches readers and cards on one context until stopped (`Ok`) or the context fails.
    fn watch(&self, context: &Context, watched: &mut Option<Watched>) -> Result<(), ::pcsc::Error> {
        let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
        let mut relist = true;
        loop {
            if self.control.is_stopped() {
                return Ok(());
            }
            if relist {
                relist = false;
                let readers = reader_names(context)?;
                self.update_watched(&readers, watched, &mut states);
            }
            for state in &mut states {
                state.sync_current_state();
            }
            match context.get_status_change(None, &mut states) {
                Ok(()) => {}
                Err(::pcsc::Error::Cancelled | ::pcsc::Error::Timeout) => continue,
                Err(::pcsc::Error::UnknownReader) => {
                    relist = true;
                    continue;
                }
                Err(error) => return Err(error),
            }
            if states
                .first()
                .is_some_and(|pnp| pnp.event_state().contains(State::CHANGED))
            {
                relist = true;
            }
            let Some(reader) = states.get(1) else {
                continue;
            };
            let event = reader.event_state();
            if event.intersects(State::UNKNOWN | State::IGNORE) {
                relist = true;
            } else if let Some(watched) = watched.as_mut() {
                self.card_state(context, watched, event, reader.event_count());
            }
        }
    }

    /// Follows the chosen reader through the current list of readers.
    fn update_watched(
        &self,
        readers: &[(CString, String)],
        watched: &mut Option<Watched>,
        states: &mut Vec<ReaderState>,
    ) {
        let still_there = watched
            .as_ref()
            .is_some_and(|w| readers.iter().any(|(name, _)| *name == w.name));
        if still_there {
            // Start over with a fresh state for it (after UNKNOWN, the old one says nothing).
            if let Some(w) = watched.as_ref() {
                states.truncate(1);
                states.push(ReaderState::new(w.name.clone(), State::UNAWARE));
            }
            return;
        }
        if let Some(gone) = watched.take() {
            self.reader_gone(gone);
        }
        states.truncate(1);
        let labels: Vec<String> = readers.iter().map(|(_, label)| label.clone()).collect();
        let Some(label) = self.selection.pick(&labels) else {
            return;
        };
        let Some((name, label)) = readers.iter().find(|(_, l)| l == label) else {
            return;
        };
        self.emit(ReaderEvent::ReaderAttached {
            reader: label.clone(),
        });
        states.push(ReaderState::new(name.clone(), State::UNAWARE));
        *watched = Some(Watched {
            name: name.clone(),
            label: label.clone(),
            card: None,
        });
    }

    fn reader_gone(&self, gone: Watched) {
        if gone.card.is_some() {
            self.emit(ReaderEvent::CardRemoved {
                reader: gone.label.clone(),
            });
        }
        self.emit(ReaderEvent::ReaderDetached { reader: gone.label });
    }

    /// Reacts to the chosen reader's new state: a card arrived, left, or was swapped.
    fn card_state(&self, context: &Context, watched: &mut Watched, event: State, count: u32) {
        let present = event.contains(State::PRESENT);
        match watched.card {
            Some(arrived) if !present || arrived != count => {
                watched.card = None;
                self.emit(ReaderEvent::CardRemoved {
                    reader: watched.label.clone(),
                });
            }
            _ => {}
        }
        if !present || watched.card.is_some() {
            return;
        }
        watched.card = Some(count);
        self.emit(ReaderEvent::CardPresent {
            reader: watched.label.clone(),
        });
        let event = match self.read(context, &watched.name, count) {
            Ok(card) => ReaderEvent::CardRead {
                reader: watched.label.clone(),
                card: Box::new(card),
            },
            Err(ReadError::Transport(message)) => ReaderEvent::Error {
                reader: Some(watched.label.clone()),
                error: message,
            },
            Err(reason) => ReaderEvent::ReadRetry {
                reader: watched.label.clone(),
                reason,
            },
        };
        self.emit(event);
    }

    /// Connects to the card on `reader` and reads it.
    fn read(&self, context: &Context, reader: &CStr, count: u32) -> Result<IdCard, ReadError> {
        let presence = Presence {
            context,
            reader,
            count,
        };
        let mut card = context
            .connect(reader, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| ReadError::from(presence.classify(e, "connect")))?;
        let result = match card.transaction() {
            Ok(transaction) => {
                let mut transport = PcscTransport {
                    card: &transaction,
                    presence,
                    dialect: self.dialect.as_ref(),
                    buffer: vec![0; MAX_BUFFER_SIZE_EXTENDED],
                };
                let result = read_card(&mut transport, &self.policy);
                drop(transaction);
                result
            }
            Err(error) => Err(presence.classify(error, "begin transaction").into()),
        };
        // Leave the card (and the SAM's state) as it is; dropping would reset it.
        let _ = card.disconnect(Disposition::LeaveCard);
        result
    }
}

/// The readers PC/SC lists: the C name and the name as text.
fn reader_names(context: &Context) -> Result<Vec<(CString, String)>, ::pcsc::Error> {
    Ok(context
        .list_readers_owned()?
        .into_iter()
        .map(|name| {
            let label = name.to_string_lossy().into_owned();
            (name, label)
        })
        .collect())
}

/// Asks PC/SC whether the card a read started with is still on the reader.
#[derive(Clone, Copy)]
struct Presence<'a> {
    context: &'a Context,
    reader: &'a CStr,
    /// The reader's event count when the card arrived.
    count: u32,
}

impl Presence<'_> {
    /// Maps a PC/SC failure of `what` to a transport error, checking whether the card left when
    /// the failure is ambiguous.
    fn classify(&self, error: ::pcsc::Error, what: &str) -> TransportError {
        use ::pcsc::Error as E;
        match error {
            E::RemovedCard | E::ResetCard | E::NoSmartcard => TransportError::CardRemoved,
            E::UnknownReader | E::ReaderUnavailable | E::NoReadersAvailable => {
                TransportError::NoReader
            }
            E::Timeout => TransportError::Timeout,
            E::NotTransacted
            | E::CommError
            | E::CommDataLost
            | E::UnresponsiveCard
            | E::UnpoweredCard => self.lost(),
            other => TransportError::Io(format!("{what}: {other}")),
        }
    }

    /// The card stopped answering: [`TransportError::CardRemoved`] if PC/SC confirms it left,
    /// else [`TransportError::Timeout`] (no answer came; placing the card again may help).
    fn lost(&self) -> TransportError {
        if self.card_left() {
            TransportError::CardRemoved
        } else {
            TransportError::Timeout
        }
    }

    /// Whether the card left (or was swapped), waiting up to [`PRESENCE_CONFIRM`] for PC/SC to
    /// notice.
    fn card_left(&self) -> bool {
        let gone = |state: &ReaderState| {
            !state.event_state().contains(State::PRESENT) || state.event_count() != self.count
        };
        let deadline = Instant::now() + PRESENCE_CONFIRM;
        let mut states = [ReaderState::new(self.reader.to_owned(), State::UNAWARE)];
        let mut timeout = Duration::ZERO;
        loop {
            match self.context.get_status_change(timeout, &mut states) {
                Ok(()) => {}
                Err(::pcsc::Error::UnknownReader) => return true,
                Err(_) => return false,
            }
            let [state] = &mut states;
            if state
                .event_state()
                .intersects(State::UNKNOWN | State::IGNORE)
                || gone(state)
            {
                return true;
            }
            state.sync_current_state();
            timeout = deadline.saturating_duration_since(Instant::now());
            if timeout.is_zero() {
                return false;
            }
        }
    }
}

/// Carries SAM frames over one PC/SC card connection in the reader's dialect.
struct PcscTransport<'a> {
    card: &'a Card,
    presence: Presence<'a>,
    dialect: &'a dyn Dialect,
    buffer: Vec<u8>,
}

impl SamTransport for PcscTransport<'_> {
    /// PC/SC has no per-exchange time-out; the driver's own applies, and the read policy bounds
    /// the retries.
    fn transceive(&mut self, frame: &[u8], _timeout: Duration) -> Result<Vec<u8>, TransportError> {
        let apdu = self
            .dialect
            .command_apdu(frame)
            .map_err(|e| TransportError::Io(e.to_string()))?;
        let answer = match self.card.transmit(&apdu, &mut self.buffer) {
            Ok(answer) => answer.to_vec(),
            Err(error) => return Err(self.presence.classify(error, "transmit")),
        };
        if answer.is_empty() {
            return Err(self.presence.lost());
        }
        self.dialect
            .response_frame(&answer)
            .map_err(|e| TransportError::Io(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_picks_first_or_by_name() {
        let readers = vec![
            "Virtual PCD 00 00".to_owned(),
            "Virtual PCD 00 01".to_owned(),
            "ACS ACR122U 01 00".to_owned(),
        ];
        assert_eq!(
            ReaderSelection::First.pick(&readers),
            Some("Virtual PCD 00 00")
        );
        assert_eq!(ReaderSelection::First.pick(&[]), None);
        let named = |n: &str| ReaderSelection::Named(n.to_owned());
        assert_eq!(
            named("Virtual PCD 00 01").pick(&readers),
            Some("Virtual PCD 00 01")
        );
        assert_eq!(named("ACS").pick(&readers), Some("ACS ACR122U 01 00"));
        assert_eq!(
            named("Virtual PCD").pick(&readers),
            Some("Virtual PCD 00 00")
        );
        assert_eq!(named("Omnikey").pick(&readers), None);
    }

    #[test]
    fn errors_read_plainly() {
        assert_eq!(
            PcscError::from(::pcsc::Error::NoService).to_string(),
            "the PC/SC service is not running (install and start pcscd)"
        );
        assert_eq!(
            PcscError::Timeout {
                waited: Duration::from_secs(10),
                last: Some(ReadError::CardRemoved)
            }
            .to_string(),
            "no card was read within 10 s (last attempt: the card was removed during the read)"
        );
        assert_eq!(
            PcscError::NoReader {
                selection: ReaderSelection::Named("X".into())
            }
            .to_string(),
            "no card reader found (reader \"X\")"
        );
    }
}
