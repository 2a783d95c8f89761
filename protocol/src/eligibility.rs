//! Age on a given date and eligibility for an offline code: who may apply, and if not, why not
//! and (for age) from when.
//!
//! # Birthdays on 29 February
//!
//! A person born on 29 February completes a year of life in a common year only once 28 February
//! has ended, so their birthday counts on 1 March. [`age_on`] and [`sixtieth_birthday`] follow
//! this rule consistently: `age_on(birth, sixtieth_birthday(birth)) >= 60` and the day before is
//! below 60.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Minimum age, in full years, to have an offline code.
pub const MIN_AGE: u8 = 60;

/// Why a person cannot have an offline code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IneligibleReason {
    /// Younger than 60 on the day asked about; eligible from the given date.
    UnderAge {
        /// The 60th birthday.
        eligible_from: Date,
    },
    /// Identity not verified by real-name authentication.
    NotRealNameVerified,
    /// No photo in the photo library.
    NoPhoto,
}

/// The outcome of an eligibility check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Eligibility {
    /// May apply.
    Eligible,
    /// May not apply, for this reason.
    NotEligible(IneligibleReason),
}

/// What eligibility depends on, as known about one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Facts {
    /// Birth date, from the ID number or the card.
    pub birth_date: Date,
    /// Whether the photo library holds a photo of the person.
    pub has_photo: bool,
    /// Whether the person's identity is verified by real-name authentication.
    pub realname_verified: bool,
}

/// Age in full years on the day `on` of someone born on `birth`; 0 if `on` is before `birth`.
///
/// A 29 February birthday counts on 1 March in common years (see the module documentation).
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on <= birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    // Comparing (month, day) makes a 29 February birthday fall after 28 February and before
    // 1 March, which is exactly the 1 March rule in common years.
    if (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// The 60th birthday: the first day on which [`age_on`] is at least [`MIN_AGE`].
///
/// A 29 February birth date gives 1 March when the 60th year is a common year. If the date would
/// lie beyond the last date `time::Date` can represent (9999-12-31), the result is `Date::MAX`,
/// on which such a person is not yet 60: the caller sees a date that never comes.
pub fn sixtieth_birthday(birth: Date) -> Date {
    let Some(year) = birth.year().checked_add(i32::from(MIN_AGE)) else {
        return Date::MAX;
    };
    Date::from_calendar_date(year, birth.month(), birth.day())
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
        .unwrap_or(Date::MAX)
}

/// Whether a person may have an offline code on the day `on`.
///
/// When several reasons apply, the most fundamental one is reported, in this order: under age,
/// then not real-name verified, then no photo. A person under 60 need not chase a photo.
pub fn assess(facts: &Facts, on: Date) -> Eligibility {
    let reason = if age_on(facts.birth_date, on) < u32::from(MIN_AGE) {
        IneligibleReason::UnderAge {
            eligible_from: sixtieth_birthday(facts.birth_date),
        }
    } else if !facts.realname_verified {
        IneligibleReason::NotRealNameVerified
    } else if !facts.has_photo {
        IneligibleReason::NoPhoto
    } else {
        return Eligibility::Eligible;
    };
    Eligibility::NotEligible(reason)
}
