//! Conversions between the model's values and their stored forms, the same for every backend:
//! timestamps are fixed-width UTC text (text order is time order), dates ISO text, enumerations
//! their wire names, structured values JSON, hashes 32-byte blobs.
//!
//! Error messages name the operation and the column, never a stored value: a row may hold an ID
//! number or a name, and errors end up in logs.

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::store::StoreError;

/// Stored timestamps: UTC with nine fraction digits, so that text order is time order.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// Stored calendar dates.
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A timestamp in its stored form; `Database` when it lies outside years 0000..=9999 in UTC.
pub(crate) fn timestamp_to_text(at: OffsetDateTime) -> Result<String, StoreError> {
    let utc = at
        .checked_to_offset(UtcOffset::UTC)
        .filter(|utc| (0..=9999).contains(&utc.year()))
        .ok_or_else(|| StoreError::Database("timestamp out of the storable range".into()))?;
    utc.format(TIMESTAMP)
        .map_err(|_| StoreError::Database("timestamp cannot be formatted".into()))
}

/// A stored timestamp (in UTC).
pub(crate) fn timestamp_from_text(text: &str, column: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(text, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| corrupt(column))
}

/// An optional stored timestamp.
pub(crate) fn opt_timestamp_from_text(
    text: Option<&str>,
    column: &str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    text.map(|t| timestamp_from_text(t, column)).transpose()
}

/// A calendar date in its stored form.
pub(crate) fn date_to_text(date: Date) -> Result<String, StoreError> {
    if !(0..=9999).contains(&date.year()) {
        return Err(StoreError::Database(
            "date out of the storable range".into(),
        ));
    }
    date.format(DATE)
        .map_err(|_| StoreError::Database("date cannot be formatted".into()))
}

/// A stored calendar date.
pub(crate) fn date_from_text(text: &str, column: &str) -> Result<Date, StoreError> {
    Date::parse(text, DATE).map_err(|_| corrupt(column))
}

/// The stored form of a unit-variant enum: its serde (`snake_case`) name.
pub(crate) fn enum_to_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        _ => Err(StoreError::Database(
            "value has no text form for storage".into(),
        )),
    }
}

/// A unit-variant enum from its stored serde name.
pub(crate) fn enum_from_text<T: DeserializeOwned>(
    text: &str,
    column: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| corrupt(column))
}

/// A value serialised as JSON for storage.
pub(crate) fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|_| StoreError::Database(format!("{what} cannot be serialised")))
}

/// A value from its stored JSON.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, column: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt(column))
}

/// A 32-byte hash or fingerprint from a stored blob.
pub(crate) fn hash_from_blob(bytes: &[u8], column: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| corrupt(column))
}

/// A row holds a value this build cannot read.
pub(crate) fn corrupt(column: &str) -> StoreError {
    StoreError::Database(format!("unreadable value in column {column}"))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc_and_round_trip() {
        let at = datetime!(2025-03-14 09:26:53.5 +08:00);
        let text = timestamp_to_text(at).unwrap_or_default();
        assert_eq!(text, "2025-03-14T01:26:53.500000000Z");
        assert!(matches!(timestamp_from_text(&text, "t"), Ok(back) if back == at));
        let later = timestamp_to_text(datetime!(2025-03-14 01:26:54 UTC)).unwrap_or_default();
        assert!(later > text);
    }

    #[test]
    fn unstorable_timestamps_are_errors() {
        assert!(timestamp_to_text(datetime!(0000-01-01 00:00 +01:00)).is_err());
        assert!(timestamp_from_text("yesterday", "t").is_err());
    }

    #[test]
    fn dates_round_trip() {
        let text = date_to_text(date!(2025 - 09 - 09)).unwrap_or_default();
        assert_eq!(text, "2025-09-09");
        assert!(matches!(date_from_text(&text, "d"), Ok(d) if d == date!(2025 - 09 - 09)));
        assert!(date_from_text("2025-02-30", "d").is_err());
    }

    #[test]
    fn enums_use_their_wire_names() {
        use protocol::api::PrintFailure;
        assert_eq!(
            enum_to_text(&PrintFailure::PaperOut).unwrap_or_default(),
            "paper_out"
        );
        assert!(matches!(
            enum_from_text::<PrintFailure>("cover_open", "c"),
            Ok(PrintFailure::CoverOpen)
        ));
        assert!(enum_from_text::<PrintFailure>("\"cover_open\"", "c").is_err());
    }
}
