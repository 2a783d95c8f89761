//! Hall-staff maintenance mode: a pure state machine that owns who may enter (a staff card on
//! the allow-list, then the PIN), the lockout after wrong PINs, which maintenance page shows,
//! the staff actions and the auto-exit. It owns nothing else: the engine matches cards against
//! the allow-list, checks PINs (argon2, off the engine task), prints, syncs, and gathers the data
//! the pages show ([`StaffView`]).
//!
//! Like the [resident flow](crate::flow), it is pure: [`Staff::handle`] takes a [`StaffInput`]
//! and the monotonic time and returns [`StaffEffect`]s for the shell to carry out, in order. No
//! I/O, no clock reads, no randomness, no logging.
//!
//! # The PIN
//!
//! The digits typed so far live in one [`Pin`] (wiped on drop, `Debug` shows `Pin(..)`). They
//! leave the machine in exactly one place: [`StaffEffect::CheckPin`], handed to the shell to
//! verify. Views show how many digits were typed, never which.
//!
//! # Lockout
//!
//! [`StaffRules::max_failures`] (5) wrong PINs in a row lock staff entry for
//! [`StaffRules::lockout_ms`] (5 minutes); each further lockout before a successful entry lasts
//! twice as long as the one before (10, 20, 40 minutes, …, at most [`StaffRules::max_lockout_ms`],
//! one day). The count of wrong PINs starts again after each lockout; a successful entry resets
//! both counts. The state that must survive a restart is a [`LockoutRecord`], emitted with
//! [`StaffEffect::SaveLockout`] whenever it changes and given back to [`Staff::new`]. The lockout
//! is for the kiosk, not for one card: any staff card meets it.
//!
//! # Transition table
//!
//! `J Kind{..}` is a [`StaffEffect::Journal`]; every staff journal event but `unknown_card` has
//! `staff` (the masked name). "Locked" means a lockout is running.
//!
//! | from | input | to | effects |
//! |------|-------|----|---------|
//! | Closed | `CornerLongPress`, not locked | CardPrompt | |
//! | Closed | `CornerLongPress`, locked | Locked | |
//! | Closed, CardPrompt, Locked | a staff card, locked | Locked | J StaffLoginFailed{reason=locked_out, seconds_left} |
//! | Closed, CardPrompt, Locked | a staff card, not locked (the lockout just ended) | Pin | |
//! | Pin | the same staff card again | Pin, digits kept | |
//! | Pin | another staff card | Pin for that card, digits cleared | |
//! | Closed | a card not on the allow-list | Closed | ToResident |
//! | CardPrompt, Pin, Locked | a card not on the allow-list | Closed | J StaffLoginFailed{reason=unknown_card}, ToResident, Exited |
//! | Checking | any card | unchanged | |
//! | Pin | `Digit` (fewer than 8 typed) / `Delete` | Pin | |
//! | Pin | `Submit`, 4 to 8 digits | Checking | CheckPin{attempt, pin} |
//! | Pin | `Submit`, fewer than 4 digits | Pin | |
//! | Checking | `PinChecked` ok, this attempt | Open{Menu} | J StaffLogin, SaveLockout (when counts were not zero) |
//! | Checking | `PinChecked` wrong, this attempt, failures < 5 | Pin{wrong, digits cleared} | J StaffLoginFailed{reason=wrong_pin, failures}, SaveLockout |
//! | Checking | `PinChecked` wrong, this attempt, 5th failure | Locked | J StaffLoginFailed{reason=wrong_pin, failures, locked_seconds}, SaveLockout |
//! | any | `PinChecked` for another attempt | unchanged | |
//! | CardPrompt, Pin, Locked | `Exit`, or idle 2 min | Closed | Exited |
//! | Locked | the lockout ends | Closed | Exited |
//! | Open | `Open(page)` | Open{page} | |
//! | Open | `TestPrint`, none running | unchanged, test print running | TestPrint |
//! | any | `TestPrinted` while one runs | unchanged | J StaffAction{action=test_print, outcome[, error]} |
//! | Open{TestCard} | a card / an unreadable card | unchanged, result kept | J StaffAction{action=test_card, outcome[, card_type]} |
//! | Open{TestScan} | a scan | unchanged, result kept | J StaffAction{action=test_scan, kind, length} |
//! | Open | `ForceSync` | unchanged | J StaffAction{action=force_sync}, ForceSync |
//! | Open | `TakeOutOfService(r)` | unchanged | J OutOfService{reason, words}, TakeOutOfService(r) |
//! | Open | `BackInService` | unchanged | J BackInService, BackInService |
//! | Open | `ClearHelp` | unchanged | J StaffAction{action=clear_help}, ClearHelp |
//! | Open | `Exit` / idle 2 min | Closed | J StaffAction{action=exit, how=button/idle}, Exited |
//!
//! Anything not in the table changes nothing and yields no effects (a card or scan on another
//! page is swallowed: while staff mode is open nothing reaches the resident flow). In Checking,
//! `Exit` and the idle time-out wait for the check's result, so a wrong PIN is always counted.
//!
//! Cards before the menu: a resident's card on the card prompt, the PIN keypad or the lockout
//! notice closes staff mode and goes to the resident flow, which starts their session as it
//! would from home (the resident sees nothing of staff mode). A staff card on the lockout notice
//! is refused and journaled like one placed at home. A staff card on the keypad makes the PIN
//! typed next the one checked for that card: the same card keeps the digits typed, another card
//! starts the PIN over (never a PIN typed for one card checked against another's). While the PIN
//! is being checked a card changes nothing: the check's answer decides, and a resident places
//! their card again once the screen is back.
//! Presses, cards and scans reset the idle timer; entering a state resets it too.

use std::fmt;

use protocol::api::{
    DeviceKind, DeviceState, JournalKind, PIN_MAX_DIGITS, PIN_MIN_DIGITS, PaperState,
};
use time::OffsetDateTime;
use zeroize::Zeroize;

use crate::flow::Millis;

#[cfg(test)]
mod tests;

/// Time limits and the lockout rule ([`Default`]: the values documented on each field). Not
/// configurable from `kiosk.toml`: production always uses the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffRules {
    /// 120 000: no staff input for this long closes staff mode.
    pub idle_ms: u64,
    /// 5: wrong PINs in a row that lock staff entry.
    pub max_failures: u32,
    /// 300 000: the first lockout; each further one (before a successful entry) doubles.
    pub lockout_ms: u64,
    /// 86 400 000: the longest lockout.
    pub max_lockout_ms: u64,
}

impl Default for StaffRules {
    fn default() -> Self {
        Self {
            idle_ms: 120_000,
            max_failures: 5,
            lockout_ms: 300_000,
            max_lockout_ms: 86_400_000,
        }
    }
}

impl StaffRules {
    /// How long the `n`-th lockout (1-based) lasts.
    pub fn lockout_for(&self, n: u32) -> u64 {
        let factor = 1u64.checked_shl(n.saturating_sub(1)).unwrap_or(u64::MAX);
        self.lockout_ms
            .saturating_mul(factor)
            .min(self.max_lockout_ms)
    }
}

/// The PIN as typed. `Debug` never shows it; the digits are wiped when it is dropped (its
/// buffer is made large enough for the longest PIN up front, so typing never leaves a copy
/// behind in a reallocated one).
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Default for Pin {
    fn default() -> Self {
        Pin(String::with_capacity(PIN_MAX_DIGITS))
    }
}

impl Pin {
    /// A PIN from its text (tests; the machine builds its own from key presses).
    pub fn new(text: &str) -> Pin {
        Pin(text.to_owned())
    }

    /// The digits, for the one place that needs them: the PIN check.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// How many digits were typed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, digit: u8) {
        if let Some(c) = char::from_digit(u32::from(digit), 10) {
            self.0.push(c);
        }
    }

    fn pop(&mut self) {
        self.0.pop();
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(..)")
    }
}

/// A staff member from the allow-list, as the machine needs them (never the ID number).
#[derive(Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// The masked name, for the screen and the journal.
    pub name_masked: String,
    /// The PIN's argon2id PHC string, to check the PIN against.
    pub pin_hash: String,
}

impl fmt::Debug for StaffMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffMember")
            .field("name_masked", &self.name_masked)
            .finish_non_exhaustive()
    }
}

/// A card read while the machine decides where cards go: whether it is on the allow-list
/// (matched by the shell), and its masked parse for the test page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSeen {
    /// The staff member this card belongs to, if it is on the allow-list.
    pub staff: Option<StaffMember>,
    /// The card, masked (name, ID number, address), as `kiosk doctor idcard` prints it.
    pub masked: idcard::CardView,
}

/// What a scan was, for the test page (never the whole text: a 随申码 is a live token).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanSeen {
    /// What it looks like.
    pub kind: ScanKind,
    /// Its length in characters.
    pub length: usize,
    /// Its first few characters, then `…`.
    pub preview: String,
}

/// What kind of text a scan carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    /// An offline-code slip (`SSM1:`…).
    OfflineCode,
    /// Anything else (a 随申码 token, another QR).
    Other,
}

impl ScanKind {
    /// The journal form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfflineCode => "offline_code",
            Self::Other => "other",
        }
    }
}

impl ScanSeen {
    /// The summary of a scanned text: kind, length and the first 6 characters.
    pub fn of(text: &str) -> ScanSeen {
        const PREVIEW: usize = 6;
        let length = text.chars().count();
        let mut preview: String = text.chars().take(PREVIEW).collect();
        if length > PREVIEW {
            preview.push('…');
        }
        ScanSeen {
            kind: if text.starts_with("SSM1:") {
                ScanKind::OfflineCode
            } else {
                ScanKind::Other
            },
            length,
            preview,
        }
    }
}

/// The maintenance pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Page {
    /// The menu of pages and actions.
    Menu,
    /// Each device's status, last error, the printer's paper.
    Devices,
    /// Print a sample slip.
    TestPrint,
    /// Place a card: its masked parse.
    TestCard,
    /// Show a QR to the scanner: what it read.
    TestScan,
    /// Today's counts.
    Counts,
    /// The sync state, with force sync.
    Sync,
    /// Take out of service / back in service.
    Service,
    /// Recent errors.
    Errors,
}

impl Page {
    /// Every page, menu first.
    pub const ALL: [Page; 9] = [
        Page::Menu,
        Page::Devices,
        Page::TestPrint,
        Page::TestCard,
        Page::TestScan,
        Page::Counts,
        Page::Sync,
        Page::Service,
        Page::Errors,
    ];
}

/// Why staff take the kiosk out of service: a fixed list (there is no keyboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfServiceReason {
    /// 打印机维护.
    PrinterMaintenance,
    /// 读卡器故障.
    ReaderFault,
    /// 网络故障.
    NetworkFault,
    /// 其他维护.
    OtherMaintenance,
}

impl OutOfServiceReason {
    /// Every reason, in the order the service page lists them.
    pub const ALL: [OutOfServiceReason; 4] = [
        Self::PrinterMaintenance,
        Self::ReaderFault,
        Self::NetworkFault,
        Self::OtherMaintenance,
    ];

    /// The words residents and the fleet view see (`打印机维护`, …).
    pub fn words(self) -> &'static str {
        match self {
            Self::PrinterMaintenance => "打印机维护",
            Self::ReaderFault => "读卡器故障",
            Self::NetworkFault => "网络故障",
            Self::OtherMaintenance => "其他维护",
        }
    }

    /// The journal form (`printer_maintenance`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::PrinterMaintenance => "printer_maintenance",
            Self::ReaderFault => "reader_fault",
            Self::NetworkFault => "network_fault",
            Self::OtherMaintenance => "other_maintenance",
        }
    }
}

/// What staff can press on the maintenance screens (and the hidden corner on the home screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffButton {
    /// The hidden long-press in a corner of the home screen: opens the card prompt.
    CornerLongPress,
    /// A keypad digit, 0 to 9 (others are ignored).
    Digit(u8),
    /// The keypad's delete key.
    Delete,
    /// The keypad's confirm key.
    Submit,
    /// Go to a page (`Open(Page::Menu)` is "back to the menu").
    Open(Page),
    /// Print a sample slip.
    TestPrint,
    /// Sync with the central now.
    ForceSync,
    /// Take the kiosk out of service for this reason.
    TakeOutOfService(OutOfServiceReason),
    /// Put the kiosk back in service.
    BackInService,
    /// Clear the resident's standing help request (呼叫工作人员).
    ClearHelp,
    /// Leave (cancel the prompt or the PIN, or close maintenance mode).
    Exit,
}

/// What happens to the staff machine. `Debug` shows no card data beyond the masked parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffInput {
    /// Time passed.
    Tick,
    /// A staff button.
    Press(StaffButton),
    /// A card was read (given to the machine while no resident session runs, or while staff
    /// mode is up).
    Card(Box<CardSeen>),
    /// A card could not be read while staff mode is up, with the reader's reason.
    CardUnreadable(String),
    /// A scan while staff mode is up.
    Scanned(ScanSeen),
    /// The answer to [`StaffEffect::CheckPin`].
    PinChecked {
        /// The attempt it answers.
        attempt: u64,
        /// Whether the PIN was right.
        ok: bool,
    },
    /// The outcome of [`StaffEffect::TestPrint`]: `Err` carries the reason in words.
    TestPrinted(Result<(), String>),
}

/// What the shell must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffEffect {
    /// Check the PIN against the hash (slow: off the engine task); answer with
    /// [`StaffInput::PinChecked`] with the same attempt.
    CheckPin {
        /// Which check this is.
        attempt: u64,
        /// The PHC string to check against.
        pin_hash: String,
        /// The PIN typed.
        pin: Pin,
    },
    /// Append a journal event (masked forms only).
    Journal {
        /// What happened.
        kind: JournalKind,
        /// Key/value details.
        detail: Vec<(&'static str, String)>,
    },
    /// Print a sample slip; answer with [`StaffInput::TestPrinted`].
    TestPrint,
    /// Run a sync round now (heartbeat, journal).
    ForceSync,
    /// Take the kiosk out of service: residents see 暂停服务 and no session starts.
    TakeOutOfService(OutOfServiceReason),
    /// Put the kiosk back in service.
    BackInService,
    /// Clear the resident's help request (the flow's `HelpCleared`, the heartbeat's field).
    ClearHelp,
    /// Store the lockout state, so that it survives a restart.
    SaveLockout(LockoutRecord),
    /// The card just given to the machine is a resident's: hand it to the resident flow.
    ToResident,
    /// Maintenance mode (or its prompt) closed.
    Exited,
}

/// The lockout state that survives a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LockoutRecord {
    /// Wrong PINs in a row since the last lockout or entry.
    pub failures: u32,
    /// Lockouts since the last successful entry (the next one lasts twice as long).
    pub lockouts: u32,
    /// Milliseconds of the running lockout left (0: none runs).
    pub remaining_ms: u64,
}

/// What the staff screen shows now (the machine's part of a [`StaffView`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum StaffScreen {
    /// 请工作人员刷卡: place the staff card.
    CardPrompt,
    /// The PIN keypad.
    Pin {
        /// Who (masked name).
        staff: String,
        /// How many digits are typed (never which).
        digits: usize,
        /// The last PIN was wrong.
        wrong_pin: bool,
        /// Wrong PINs left before the lockout.
        tries_left: u32,
    },
    /// Checking the PIN.
    Checking {
        /// Who (masked name).
        staff: String,
    },
    /// Staff entry is locked.
    Locked {
        /// Seconds until it opens again.
        seconds_left: u64,
    },
    /// Maintenance mode, on this page.
    Open {
        /// Who (masked name).
        staff: String,
        /// The page.
        page: Page,
    },
}

/// The last test print.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "error", rename_all = "snake_case")]
pub enum TestPrintResult {
    /// Sent to the printer; waiting for its outcome.
    Printing,
    /// Printed.
    Printed,
    /// Not printed, with the reason in words.
    Failed(String),
}

/// The last test card read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "card", rename_all = "snake_case")]
pub enum TestCardResult {
    /// Read: the masked parse.
    Read(idcard::CardView),
    /// Not read, with the reader's reason.
    Unreadable(String),
}

/// The machine: where staff mode is, the lockout, and the last test results.
#[derive(Debug, Clone)]
pub struct Staff {
    rules: StaffRules,
    state: State,
    lock: Lock,
    next_attempt: u64,
    /// The idle timer: the later of the last staff input and entering the state.
    active: Millis,
    test_print: Option<TestPrintResult>,
    test_card: Option<TestCardResult>,
    test_scan: Option<ScanSeen>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Closed,
    CardPrompt,
    Pin {
        member: StaffMember,
        digits: Pin,
        wrong: bool,
    },
    Checking {
        member: StaffMember,
        attempt: u64,
    },
    Locked,
    Open {
        staff: String,
        page: Page,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Lock {
    failures: u32,
    lockouts: u32,
    until: Option<Millis>,
}

impl Staff {
    /// A closed machine with the lockout state a previous run left (`remaining_ms` counted from
    /// `now`, at most as long as that lockout can last).
    pub fn new(rules: StaffRules, restored: LockoutRecord, now: Millis) -> Staff {
        let longest = rules.lockout_for(restored.lockouts.max(1));
        let until = (restored.remaining_ms > 0)
            .then(|| Millis(now.0.saturating_add(restored.remaining_ms.min(longest))));
        Staff {
            rules,
            state: State::Closed,
            lock: Lock {
                failures: restored.failures.min(rules.max_failures.saturating_sub(1)),
                lockouts: restored.lockouts,
                until,
            },
            next_attempt: 1,
            active: now,
            test_print: None,
            test_card: None,
            test_scan: None,
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> StaffRules {
        self.rules
    }

    /// Whether nothing of staff mode shows (cards and scans go to the resident flow, except a
    /// card at home, which the shell first gives to [`Staff::handle`]).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether maintenance mode is open (past the PIN).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open { .. })
    }

    /// Whether a lockout runs at `now`.
    pub fn is_locked(&self, now: Millis) -> bool {
        self.lock.until.is_some_and(|until| now < until)
    }

    /// Seconds of the running lockout left at `now` (0: none).
    pub fn lockout_seconds_left(&self, now: Millis) -> u64 {
        self.lock
            .until
            .map_or(0, |until| until.since(now).div_ceil(1000))
    }

    /// The lockout state to store (as of `now`).
    pub fn lockout_record(&self, now: Millis) -> LockoutRecord {
        LockoutRecord {
            failures: self.lock.failures,
            lockouts: self.lock.lockouts,
            remaining_ms: self.lock.until.map_or(0, |until| until.since(now)),
        }
    }

    /// Seconds until staff mode closes for lack of input (`None` while closed or checking).
    pub fn auto_exit_in(&self, now: Millis) -> Option<u64> {
        match self.state {
            State::Closed | State::Checking { .. } => None,
            _ => Some(
                self.rules
                    .idle_ms
                    .saturating_sub(now.since(self.active))
                    .div_ceil(1000),
            ),
        }
    }

    /// What the staff screen shows, or `None` while closed.
    pub fn screen(&self, now: Millis) -> Option<StaffScreen> {
        Some(match &self.state {
            State::Closed => return None,
            State::CardPrompt => StaffScreen::CardPrompt,
            State::Pin {
                member,
                digits,
                wrong,
            } => StaffScreen::Pin {
                staff: member.name_masked.clone(),
                digits: digits.len(),
                wrong_pin: *wrong,
                tries_left: self.rules.max_failures.saturating_sub(self.lock.failures),
            },
            State::Checking { member, .. } => StaffScreen::Checking {
                staff: member.name_masked.clone(),
            },
            State::Locked => StaffScreen::Locked {
                seconds_left: self.lockout_seconds_left(now),
            },
            State::Open { staff, page } => StaffScreen::Open {
                staff: staff.clone(),
                page: *page,
            },
        })
    }

    /// The last test print's result (kept while the kiosk runs).
    pub fn test_print(&self) -> Option<&TestPrintResult> {
        self.test_print.as_ref()
    }

    /// The last test card read's result (dropped when maintenance mode closes).
    pub fn test_card(&self) -> Option<&TestCardResult> {
        self.test_card.as_ref()
    }

    /// The last test scan's summary (dropped when maintenance mode closes).
    pub fn test_scan(&self) -> Option<&ScanSeen> {
        self.test_scan.as_ref()
    }

    /// Feeds one input at `now`; returns the effects for the shell to carry out, in order.
    pub fn handle(&mut self, input: StaffInput, now: Millis) -> Vec<StaffEffect> {
        let mut out = Vec::new();
        if self.lock.until.is_some_and(|until| now >= until) {
            self.lock.until = None;
        }
        let touches = matches!(
            input,
            StaffInput::Press(_)
                | StaffInput::Card(_)
                | StaffInput::CardUnreadable(_)
                | StaffInput::Scanned(_)
        );
        if touches && !self.is_closed() {
            self.active = now;
        }
        match input {
            StaffInput::Tick => self.on_tick(now, &mut out),
            StaffInput::Press(button) => self.on_press(button, now, &mut out),
            StaffInput::Card(card) => self.on_card(*card, now, &mut out),
            StaffInput::CardUnreadable(reason) => {
                if matches!(
                    self.state,
                    State::Open {
                        page: Page::TestCard,
                        ..
                    }
                ) {
                    out.push(self.action(
                        "test_card",
                        vec![("outcome", "unreadable".into()), ("error", reason.clone())],
                    ));
                    self.test_card = Some(TestCardResult::Unreadable(reason));
                }
            }
            StaffInput::Scanned(scan) => {
                if matches!(
                    self.state,
                    State::Open {
                        page: Page::TestScan,
                        ..
                    }
                ) {
                    out.push(self.action(
                        "test_scan",
                        vec![
                            ("kind", scan.kind.as_str().into()),
                            ("length", scan.length.to_string()),
                        ],
                    ));
                    self.test_scan = Some(scan);
                }
            }
            StaffInput::PinChecked { attempt, ok } => self.on_checked(attempt, ok, now, &mut out),
            StaffInput::TestPrinted(result) => {
                if self.test_print == Some(TestPrintResult::Printing) {
                    let detail = match &result {
                        Ok(()) => vec![("outcome", "printed".into())],
                        Err(error) => vec![("outcome", "failed".into()), ("error", error.clone())],
                    };
                    out.push(self.action("test_print", detail));
                    self.test_print = Some(match result {
                        Ok(()) => TestPrintResult::Printed,
                        Err(error) => TestPrintResult::Failed(error),
                    });
                }
            }
        }
        out
    }

    // --- transitions ----------------------------------------------------------------------

    fn on_tick(&mut self, now: Millis, out: &mut Vec<StaffEffect>) {
        match &self.state {
            State::Closed | State::Checking { .. } => {}
            State::Locked if !self.is_locked(now) => self.close(out),
            State::Open { .. } if now.since(self.active) >= self.rules.idle_ms => {
                out.push(self.action("exit", vec![("how", "idle".into())]));
                self.close(out);
            }
            _ if now.since(self.active) >= self.rules.idle_ms => self.close(out),
            _ => {}
        }
    }

    fn on_press(&mut self, button: StaffButton, now: Millis, out: &mut Vec<StaffEffect>) {
        match (&mut self.state, button) {
            (State::Closed, StaffButton::CornerLongPress) => {
                if self.is_locked(now) {
                    self.enter(State::Locked, now);
                } else {
                    self.enter(State::CardPrompt, now);
                }
            }
            (State::CardPrompt | State::Pin { .. } | State::Locked, StaffButton::Exit) => {
                self.close(out);
            }
            (State::Pin { digits, wrong, .. }, StaffButton::Digit(d))
                if d <= 9 && digits.len() < PIN_MAX_DIGITS =>
            {
                digits.push(d);
                *wrong = false;
            }
            (State::Pin { digits, .. }, StaffButton::Delete) => digits.pop(),
            (State::Pin { member, digits, .. }, StaffButton::Submit)
                if digits.len() >= PIN_MIN_DIGITS =>
            {
                let attempt = self.next_attempt;
                self.next_attempt = self.next_attempt.saturating_add(1);
                let member = member.clone();
                let pin = std::mem::take(digits);
                out.push(StaffEffect::CheckPin {
                    attempt,
                    pin_hash: member.pin_hash.clone(),
                    pin,
                });
                self.enter(State::Checking { member, attempt }, now);
            }
            (State::Open { .. }, button) => self.on_open_press(button, out),
            _ => {}
        }
    }

    fn on_open_press(&mut self, button: StaffButton, out: &mut Vec<StaffEffect>) {
        match button {
            StaffButton::Open(to) => {
                if let State::Open { page, .. } = &mut self.state {
                    *page = to;
                }
            }
            StaffButton::TestPrint => {
                if self.test_print != Some(TestPrintResult::Printing) {
                    self.test_print = Some(TestPrintResult::Printing);
                    out.push(StaffEffect::TestPrint);
                }
            }
            StaffButton::ForceSync => {
                out.push(self.action("force_sync", Vec::new()));
                out.push(StaffEffect::ForceSync);
            }
            StaffButton::TakeOutOfService(reason) => {
                out.push(StaffEffect::Journal {
                    kind: JournalKind::OutOfService,
                    detail: vec![
                        ("staff", self.staff_name()),
                        ("reason", reason.code().into()),
                        ("words", reason.words().into()),
                    ],
                });
                out.push(StaffEffect::TakeOutOfService(reason));
            }
            StaffButton::BackInService => {
                out.push(StaffEffect::Journal {
                    kind: JournalKind::BackInService,
                    detail: vec![("staff", self.staff_name())],
                });
                out.push(StaffEffect::BackInService);
            }
            StaffButton::ClearHelp => {
                out.push(self.action("clear_help", Vec::new()));
                out.push(StaffEffect::ClearHelp);
            }
            StaffButton::Exit => {
                out.push(self.action("exit", vec![("how", "button".into())]));
                self.close(out);
            }
            StaffButton::CornerLongPress
            | StaffButton::Digit(_)
            | StaffButton::Delete
            | StaffButton::Submit => {}
        }
    }

    fn on_card(&mut self, card: CardSeen, now: Millis, out: &mut Vec<StaffEffect>) {
        match (&self.state, card.staff) {
            (State::Closed, None) => out.push(StaffEffect::ToResident),
            (State::CardPrompt | State::Pin { .. } | State::Locked, None) => {
                out.push(StaffEffect::Journal {
                    kind: JournalKind::StaffLoginFailed,
                    detail: vec![("reason", "unknown_card".into())],
                });
                out.push(StaffEffect::ToResident);
                self.close(out);
            }
            (State::Pin { member: typing, .. }, Some(member)) if *typing != member => {
                self.enter(
                    State::Pin {
                        member,
                        digits: Pin::default(),
                        wrong: false,
                    },
                    now,
                );
            }
            (State::Closed | State::CardPrompt | State::Locked, Some(member)) => {
                if self.is_locked(now) {
                    out.push(StaffEffect::Journal {
                        kind: JournalKind::StaffLoginFailed,
                        detail: vec![
                            ("staff", member.name_masked.clone()),
                            ("reason", "locked_out".into()),
                            ("seconds_left", self.lockout_seconds_left(now).to_string()),
                        ],
                    });
                    self.enter(State::Locked, now);
                } else {
                    self.enter(
                        State::Pin {
                            member,
                            digits: Pin::default(),
                            wrong: false,
                        },
                        now,
                    );
                }
            }
            (
                State::Open {
                    page: Page::TestCard,
                    ..
                },
                _,
            ) => {
                out.push(self.action(
                    "test_card",
                    vec![
                        ("outcome", "read".into()),
                        ("card_type", card_type_str(card.masked.card_type).into()),
                    ],
                ));
                self.test_card = Some(TestCardResult::Read(card.masked));
            }
            _ => {}
        }
    }

    fn on_checked(&mut self, attempt: u64, ok: bool, now: Millis, out: &mut Vec<StaffEffect>) {
        let State::Checking {
            member,
            attempt: expected,
        } = &self.state
        else {
            return;
        };
        if attempt != *expected {
            return;
        }
        let member = member.clone();
        if ok {
            let before = self.lock;
            self.lock = Lock::default();
            out.push(StaffEffect::Journal {
                kind: JournalKind::StaffLogin,
                detail: vec![("staff", member.name_masked.clone())],
            });
            if before != self.lock {
                out.push(StaffEffect::SaveLockout(self.lockout_record(now)));
            }
            self.test_card = None;
            self.test_scan = None;
            self.enter(
                State::Open {
                    staff: member.name_masked,
                    page: Page::Menu,
                },
                now,
            );
            return;
        }
        self.lock.failures = self.lock.failures.saturating_add(1);
        let mut detail = vec![
            ("staff", member.name_masked.clone()),
            ("reason", "wrong_pin".into()),
            ("failures", self.lock.failures.to_string()),
        ];
        if self.lock.failures >= self.rules.max_failures {
            self.lock.lockouts = self.lock.lockouts.saturating_add(1);
            self.lock.failures = 0;
            let length = self.rules.lockout_for(self.lock.lockouts);
            self.lock.until = Some(Millis(now.0.saturating_add(length)));
            detail.push(("locked_seconds", length.div_ceil(1000).to_string()));
            out.push(StaffEffect::Journal {
                kind: JournalKind::StaffLoginFailed,
                detail,
            });
            out.push(StaffEffect::SaveLockout(self.lockout_record(now)));
            self.enter(State::Locked, now);
        } else {
            out.push(StaffEffect::Journal {
                kind: JournalKind::StaffLoginFailed,
                detail,
            });
            out.push(StaffEffect::SaveLockout(self.lockout_record(now)));
            self.enter(
                State::Pin {
                    member,
                    digits: Pin::default(),
                    wrong: true,
                },
                now,
            );
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    fn enter(&mut self, state: State, now: Millis) {
        self.state = state;
        self.active = now;
    }

    fn close(&mut self, out: &mut Vec<StaffEffect>) {
        self.state = State::Closed;
        self.test_card = None;
        self.test_scan = None;
        out.push(StaffEffect::Exited);
    }

    fn staff_name(&self) -> String {
        match &self.state {
            State::Open { staff, .. } => staff.clone(),
            State::Pin { member, .. } | State::Checking { member, .. } => {
                member.name_masked.clone()
            }
            State::Closed | State::CardPrompt | State::Locked => String::new(),
        }
    }

    /// A `staff_action` journal effect with `action` and the staff member.
    fn action(&self, action: &'static str, mut detail: Vec<(&'static str, String)>) -> StaffEffect {
        detail.insert(0, ("action", action.to_owned()));
        detail.insert(0, ("staff", self.staff_name()));
        StaffEffect::Journal {
            kind: JournalKind::StaffAction,
            detail,
        }
    }
}

/// The journal form of a card type.
fn card_type_str(card_type: idcard::CardType) -> &'static str {
    match card_type {
        idcard::CardType::Resident => "resident",
        idcard::CardType::Permit => "permit",
        idcard::CardType::Foreigner2017 => "foreigner_2017",
        idcard::CardType::Foreigner2023 => "foreigner_2023",
    }
}

// ---------------------------------------------------------------------------------------------
// The view the staff screens render
// ---------------------------------------------------------------------------------------------

/// Everything the staff screens show: the machine's screen and test results plus what the
/// engine gathers (devices, paper, service state, counts, sync, recent errors). Never the PIN,
/// never a full ID number or name. Published in [`Snapshot::staff`](crate::engine::Snapshot)
/// while staff mode shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaffView {
    /// Which staff screen, and on it what the machine knows.
    pub screen: StaffScreen,
    /// Seconds until staff mode closes for lack of input (`None` while the PIN is checked).
    pub auto_exit_in: Option<u64>,
    /// Seconds of the running lockout left (0: none).
    pub lockout_seconds_left: u64,
    /// Every device, idcard, scanner, printer, in that order.
    pub devices: Vec<DeviceLine>,
    /// The printer's paper.
    pub paper: PaperState,
    /// Whether residents are served (staff's switch; the printer or the hours may still stop
    /// them, see [`StaffView::resident_screen_blocked`]).
    pub in_service: bool,
    /// Staff's reason, while out of service (`打印机维护`, …).
    pub out_of_service_reason: Option<String>,
    /// Whether residents see 暂停服务 now, for whatever reason.
    pub resident_screen_blocked: bool,
    /// Whether a resident's help request (呼叫工作人员) stands.
    pub help_requested: bool,
    /// Today's counts (Shanghai day).
    pub counts: TodayCounts,
    /// The sync with the central.
    pub sync: SyncView,
    /// The latest errors, newest first.
    pub recent_errors: Vec<RecentError>,
    /// The last test print.
    pub test_print: Option<TestPrintResult>,
    /// The last test card read (this visit).
    pub test_card: Option<TestCardResult>,
    /// The last test scan (this visit).
    pub test_scan: Option<ScanSeen>,
}

/// One device on the device page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceLine {
    /// Which device.
    pub device: DeviceKind,
    /// Its state; `None` until it reported anything.
    pub state: Option<DeviceState>,
    /// Its last error, in words for operators.
    pub last_error: Option<String>,
}

/// Today's counts, from the journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TodayCounts {
    /// Codes issued by 申领.
    pub applies: u64,
    /// Codes issued by 补领.
    pub reissues: u64,
    /// Slips printed.
    pub printed: u64,
    /// Refusals (not eligible, refused by the central, not issued).
    pub refusals: u64,
    /// Refusals by reason (`under_age`, `no_photo`, …), most frequent first.
    pub refusals_by_reason: Vec<(String, u64)>,
    /// Print failures.
    pub print_failures: u64,
    /// Print failures by reason (`paper_out`, …), most frequent first.
    pub print_failures_by_reason: Vec<(String, u64)>,
}

/// The sync page.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncView {
    /// Whether the central answered the last call (`None` before the first).
    pub reachable: Option<bool>,
    /// When the central last answered a heartbeat.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_heartbeat_at: Option<OffsetDateTime>,
    /// Journal events not yet at the central.
    pub backlog: u64,
    /// Issuance attempts with no answer recorded.
    pub unsettled: usize,
    /// Print outcomes not yet reported.
    pub unreported_outcomes: usize,
    /// The last round's failure, if it failed.
    pub last_error: Option<String>,
    /// The version of the central config in use (`None`: none pulled yet).
    pub config_version: Option<u64>,
    /// Where the staff allow-list comes from.
    pub staff_list: StaffListSource,
}

/// Where the staff allow-list in use comes from.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum StaffListSource {
    /// The central's config, pulled in this run.
    Central,
    /// The central's config as cached on disk by an earlier run.
    CachedCentral,
    /// The `[[staff]]` entries of kiosk.toml (no central config yet).
    #[default]
    KioskToml,
}

/// One line of the recent-errors page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecentError {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What kind of event (`error`, `print_failed`, `staff_login_failed`).
    pub kind: JournalKind,
    /// The event's details in one line (`step=print error=paper_out`).
    pub summary: String,
}
