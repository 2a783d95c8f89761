//! What the kiosk, the central service and the verifier share, with no I/O: the offline code
//! (format v1), the venue poster code, ID-number rules, unified social credit codes, masking,
//! eligibility and the JSON types of the central API v1.
//!
//! Everything here is pure: no files, no sockets, no clock reads, no threads, no randomness.
//! Time comes in as values (`time::Date`), and anything random (a code id, a key) is made by the
//! caller and passed in.

pub mod api;
pub mod base45;
pub mod code;
pub mod eligibility;
pub mod hash;
pub mod idnumber;
pub mod keys;
pub mod mask;
pub mod rules;
pub mod uscc;
pub mod venue;

pub use code::{CodeBody, CodeError, OfflineCode};
pub use eligibility::{Eligibility, IneligibleReason};
pub use idnumber::{IdKind, IdNumber, IdNumberError};
pub use keys::{KeySet, PublicKey, Signer, SoftwareSigner};
pub use uscc::{Uscc, UsccError};
pub use venue::{VenueCode, VenueCodeError, VenueId};
