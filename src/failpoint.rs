//! Pause points for the crash tests: with `KIOSK_PAUSE_AT=<point>` in the environment, the kiosk
//! stops at that point of an issuance (after writing everything it writes before it), says so on
//! standard error, and waits there for ever, so that a test can kill it with SIGKILL at a known
//! step. Without the variable (every real deployment) [`check`] does nothing.

use std::io::Write;
use std::sync::OnceLock;

/// The steps of an issuance a test can stop at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The attempt is journaled; the request has not left.
    BeforeRequest,
    /// The central's answer is journaled; nothing is printed yet.
    AfterResponse,
    /// The slip's bytes went to the printer; the outcome is not journaled.
    DuringPrint,
    /// The print outcome is journaled; the central has not been told.
    AfterPrint,
}

impl Point {
    /// The name used in `KIOSK_PAUSE_AT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BeforeRequest => "before-request",
            Self::AfterResponse => "after-response",
            Self::DuringPrint => "during-print",
            Self::AfterPrint => "after-print",
        }
    }

    /// Every point, in the order an issuance passes them.
    pub const ALL: [Point; 4] = [
        Self::BeforeRequest,
        Self::AfterResponse,
        Self::DuringPrint,
        Self::AfterPrint,
    ];
}

/// The environment variable naming the pause point.
pub const ENV: &str = "KIOSK_PAUSE_AT";

fn configured() -> Option<Point> {
    static POINT: OnceLock<Option<Point>> = OnceLock::new();
    *POINT.get_or_init(|| {
        let name = std::env::var(ENV).ok()?;
        Point::ALL.into_iter().find(|p| p.as_str() == name)
    })
}

/// Stops here for ever when `point` is the configured pause point.
pub fn check(point: Point) {
    if configured() != Some(point) {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "kiosk: paused at {}", point.as_str());
    let _ = err.flush();
    drop(err);
    loop {
        std::thread::park();
    }
}
