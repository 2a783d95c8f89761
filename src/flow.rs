//! Placeholder until the session flow lands: only the failure type the central client maps to.

use protocol::api::ErrorCode;

/// A failed central call as the flow sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CentralFailure {
    /// No answer: connection failed, timed out, or the central was unavailable.
    Unreachable,
    /// The central refused the call with this error code.
    Refused(ErrorCode),
    /// The central answered something the kiosk cannot read.
    BadAnswer,
}
