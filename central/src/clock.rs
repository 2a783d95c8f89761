//! The service's notion of now. Handlers never read the system clock directly, so tests can move
//! time forward (for expiry) with a [`ManualClock`].

use std::sync::{Arc, Mutex};

use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Shanghai time: UTC+8 all year. Dates on codes are Shanghai dates.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in Shanghai time.
    fn now(&self) -> OffsetDateTime;

    /// Today's date in Shanghai.
    fn today(&self) -> Date {
        self.now().to_offset(SHANGHAI).date()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(SHANGHAI)
    }
}

/// A clock that moves only when told, for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(at.to_offset(SHANGHAI))))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now.saturating_add(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
