//! Age, the 60th birthday and eligibility: tables around birthdays, leap days, reason order,
//! the JSON shape, and properties.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use protocol::eligibility::{
    Eligibility, Facts, IneligibleReason, MIN_AGE, age_on, assess, sixtieth_birthday,
};
use time::{Date, macros::date};

#[test]
fn min_age_is_sixty() {
    assert_eq!(MIN_AGE, 60);
}

#[test]
fn ages_around_birthdays() {
    let cases = [
        // (birth, on, age)
        (date!(1960 - 06 - 15), date!(2020 - 06 - 14), 59),
        (date!(1960 - 06 - 15), date!(2020 - 06 - 15), 60),
        (date!(1960 - 06 - 15), date!(2020 - 06 - 16), 60),
        (date!(1960 - 06 - 15), date!(2021 - 06 - 14), 60),
        (date!(1960 - 06 - 15), date!(2021 - 06 - 15), 61),
        (date!(1960 - 12 - 31), date!(2020 - 12 - 30), 59),
        (date!(1960 - 12 - 31), date!(2020 - 12 - 31), 60),
        (date!(1960 - 12 - 31), date!(2021 - 01 - 01), 60),
        (date!(1961 - 01 - 01), date!(2020 - 12 - 31), 59),
        (date!(1961 - 01 - 01), date!(2021 - 01 - 01), 60),
        (date!(1960 - 03 - 01), date!(2020 - 02 - 29), 59),
        (date!(1960 - 03 - 01), date!(2020 - 03 - 01), 60),
        (date!(1960 - 02 - 28), date!(2020 - 02 - 28), 60),
        (date!(1960 - 02 - 28), date!(2021 - 02 - 27), 60),
        (date!(1960 - 02 - 28), date!(2021 - 02 - 28), 61),
    ];
    for (birth, on, age) in cases {
        assert_eq!(age_on(birth, on), age, "born {birth}, on {on}");
    }
}

#[test]
fn leap_day_birthdays() {
    let birth = date!(2000 - 02 - 29);
    let cases = [
        (date!(2001 - 02 - 28), 0),
        (date!(2001 - 03 - 01), 1),
        (date!(2004 - 02 - 28), 3),
        (date!(2004 - 02 - 29), 4),
        (date!(2060 - 02 - 28), 59),
        (date!(2060 - 02 - 29), 60), // 2060 is a leap year
        (date!(2060 - 03 - 01), 60),
        (date!(2061 - 02 - 28), 60), // common year: birthday counts on 1 March
        (date!(2061 - 03 - 01), 61),
    ];
    for (on, age) in cases {
        assert_eq!(age_on(birth, on), age, "on {on}");
    }
    assert_eq!(sixtieth_birthday(birth), date!(2060 - 02 - 29));
}

#[test]
fn leap_day_birth_with_a_common_sixtieth_year() {
    // 2100 is a common year (divisible by 100, not by 400).
    let birth = date!(2040 - 02 - 29);
    assert_eq!(sixtieth_birthday(birth), date!(2100 - 03 - 01));
    assert_eq!(age_on(birth, date!(2100 - 02 - 28)), 59);
    assert_eq!(age_on(birth, date!(2100 - 03 - 01)), 60);
    // 1900 likewise.
    assert_eq!(
        sixtieth_birthday(date!(1840 - 02 - 29)),
        date!(1900 - 03 - 01)
    );
}

#[test]
fn on_before_or_at_birth_is_zero() {
    let birth = date!(1960 - 06 - 15);
    assert_eq!(age_on(birth, date!(1960 - 06 - 14)), 0);
    assert_eq!(age_on(birth, date!(1900 - 01 - 01)), 0);
    assert_eq!(age_on(birth, birth), 0);
    assert_eq!(age_on(Date::MAX, Date::MIN), 0);
}

#[test]
fn sixtieth_birthday_and_the_day_before() {
    let birth = date!(1965 - 08 - 20);
    let sixtieth = sixtieth_birthday(birth);
    assert_eq!(sixtieth, date!(2025 - 08 - 20));
    assert_eq!(age_on(birth, sixtieth), 60);
    assert_eq!(age_on(birth, sixtieth.previous_day().unwrap()), 59);
}

#[test]
fn sixtieth_birthday_beyond_the_calendar_saturates() {
    assert_eq!(sixtieth_birthday(date!(9950 - 01 - 01)), Date::MAX);
    assert_eq!(sixtieth_birthday(Date::MAX), Date::MAX);
    assert_eq!(
        sixtieth_birthday(date!(9939 - 12 - 31)),
        date!(9999 - 12 - 31)
    );
    // The extremes do not panic.
    let _ = sixtieth_birthday(Date::MIN);
    let _ = age_on(Date::MIN, Date::MAX);
}

fn facts(birth_date: Date, realname_verified: bool, has_photo: bool) -> Facts {
    Facts {
        birth_date,
        has_photo,
        realname_verified,
    }
}

#[test]
fn every_reason_and_their_order() {
    let on = date!(2025 - 06 - 01);
    let old = date!(1950 - 01 - 01);
    let young = date!(1967 - 03 - 01);
    let under_age = Eligibility::NotEligible(IneligibleReason::UnderAge {
        eligible_from: date!(2027 - 03 - 01),
    });
    let cases = [
        // (birth, realname_verified, has_photo, expected)
        (old, true, true, Eligibility::Eligible),
        (
            old,
            true,
            false,
            Eligibility::NotEligible(IneligibleReason::NoPhoto),
        ),
        (
            old,
            false,
            true,
            Eligibility::NotEligible(IneligibleReason::NotRealNameVerified),
        ),
        (
            old,
            false,
            false,
            Eligibility::NotEligible(IneligibleReason::NotRealNameVerified),
        ),
        (young, true, true, under_age),
        (young, true, false, under_age),
        (young, false, true, under_age),
        (young, false, false, under_age),
    ];
    for (birth, verified, photo, expected) in cases {
        assert_eq!(
            assess(&facts(birth, verified, photo), on),
            expected,
            "born {birth}, verified {verified}, photo {photo}"
        );
    }
}

#[test]
fn eligible_exactly_on_the_sixtieth_birthday() {
    let birth = date!(1965 - 06 - 01);
    let f = facts(birth, true, true);
    assert_eq!(assess(&f, date!(2025 - 06 - 01)), Eligibility::Eligible);
    assert_eq!(
        assess(&f, date!(2025 - 05 - 31)),
        Eligibility::NotEligible(IneligibleReason::UnderAge {
            eligible_from: date!(2025 - 06 - 01)
        })
    );
}

#[test]
fn json_shape() {
    assert_eq!(
        serde_json::to_string(&Eligibility::Eligible).unwrap(),
        r#"{"status":"eligible"}"#
    );
    let under_age = Eligibility::NotEligible(IneligibleReason::UnderAge {
        eligible_from: date!(2027 - 03 - 01),
    });
    let json = serde_json::to_string(&under_age).unwrap();
    assert_eq!(
        json,
        r#"{"status":"not_eligible","reason":"under_age","eligible_from":"2027-03-01"}"#
    );
    assert_eq!(
        serde_json::from_str::<Eligibility>(&json).unwrap(),
        under_age
    );
    for (reason, text) in [
        (
            IneligibleReason::NoPhoto,
            r#"{"status":"not_eligible","reason":"no_photo"}"#,
        ),
        (
            IneligibleReason::NotRealNameVerified,
            r#"{"status":"not_eligible","reason":"not_real_name_verified"}"#,
        ),
    ] {
        let e = Eligibility::NotEligible(reason);
        assert_eq!(serde_json::to_string(&e).unwrap(), text);
        assert_eq!(serde_json::from_str::<Eligibility>(text).unwrap(), e);
    }
}

/// Dates whose 60th birthday still fits in the calendar.
fn birth_date() -> impl Strategy<Value = Date> {
    (date!(1800 - 01 - 01).to_julian_day()..=date!(9939 - 12 - 31).to_julian_day())
        .prop_map(|d| Date::from_julian_day(d).unwrap())
}

fn any_date() -> impl Strategy<Value = Date> {
    (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
        .prop_map(|d| Date::from_julian_day(d).unwrap())
}

proptest! {
    #[test]
    fn age_is_monotonic_in_on(birth in any_date(), a in any_date(), b in any_date()) {
        let (earlier, later) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(age_on(birth, earlier) <= age_on(birth, later));
    }

    #[test]
    fn age_grows_by_at_most_one_per_day(birth in any_date(), on in any_date()) {
        if let Some(next) = on.next_day() {
            let (today, tomorrow) = (age_on(birth, on), age_on(birth, next));
            prop_assert!(tomorrow == today || tomorrow == today + 1);
        }
    }

    #[test]
    fn sixtieth_birthday_is_the_first_day_at_sixty(birth in birth_date()) {
        let sixtieth = sixtieth_birthday(birth);
        prop_assert!(age_on(birth, sixtieth) >= 60);
        prop_assert!(age_on(birth, sixtieth.previous_day().unwrap()) < 60);
    }

    #[test]
    fn under_age_reports_the_sixtieth_birthday(birth in birth_date(), on in any_date()) {
        let result = assess(&facts(birth, false, false), on);
        if age_on(birth, on) < 60 {
            prop_assert_eq!(
                result,
                Eligibility::NotEligible(IneligibleReason::UnderAge {
                    eligible_from: sixtieth_birthday(birth)
                })
            );
            prop_assert!(on < sixtieth_birthday(birth));
        } else {
            prop_assert_eq!(result, Eligibility::NotEligible(IneligibleReason::NotRealNameVerified));
            prop_assert!(on >= sixtieth_birthday(birth));
        }
    }
}
