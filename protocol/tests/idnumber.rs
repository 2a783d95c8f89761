//! ID-number parsing: known numbers, every way input can be wrong, and properties.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use protocol::idnumber::{IdKind, IdNumber, IdNumberError, PermitRegion, Sex, check_character};
use time::{Date, macros::date};

/// GB 11643 check character computed independently of the crate: weight i = 2^(17-i) mod 11.
fn gb_check(first17: &str) -> char {
    assert_eq!(first17.len(), 17);
    let sum: u32 = first17
        .chars()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap() * (2_u32.pow(17 - i as u32) % 11))
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// A complete 18-character number from its first 17 digits.
fn gb(first17: &str) -> String {
    format!("{first17}{}", gb_check(first17))
}

/// ICAO 9303 check digit over the first 14 characters of a 2017 foreigner card number.
fn mrz_check(first14: &str) -> char {
    let sum: u32 = first14
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let v = if c.is_ascii_digit() {
                c as u32 - '0' as u32
            } else {
                c as u32 - 'A' as u32 + 10
            };
            v * [7, 3, 1][i % 3]
        })
        .sum();
    char::from_digit(sum % 10, 10).unwrap()
}

fn f2017(first14: &str) -> String {
    format!("{first14}{}", mrz_check(first14))
}

fn err(s: &str) -> IdNumberError {
    IdNumber::parse(s).unwrap_err()
}

// ---------------------------------------------------------------- known-good numbers

#[test]
fn the_standard_example_parses() {
    let id = IdNumber::parse("11010519491231002X").unwrap();
    assert_eq!(id.as_str(), "11010519491231002X");
    assert_eq!(id.kind(), IdKind::Resident);
    assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
    assert_eq!(id.sex(), Some(Sex::Female));
}

#[test]
fn lowercase_x_is_accepted_and_stored_uppercase() {
    let id = IdNumber::parse("11010519491231002x").unwrap();
    assert_eq!(id.as_str(), "11010519491231002X");
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let id = IdNumber::parse("  11010519491231002X\t\n").unwrap();
    assert_eq!(id.as_str(), "11010519491231002X");
    // Ideographic space, as typed on a Chinese keyboard.
    assert!(IdNumber::parse("\u{3000}11010519491231002X").is_ok());
}

#[test]
fn constructed_resident_numbers() {
    let id = IdNumber::parse(&gb("31010419600101123")).unwrap();
    assert_eq!(id.kind(), IdKind::Resident);
    assert_eq!(id.birth_date(), date!(1960 - 01 - 01));
    assert_eq!(id.sex(), Some(Sex::Male));

    let id = IdNumber::parse(&gb("65010220000229004")).unwrap();
    assert_eq!(id.birth_date(), date!(2000 - 02 - 29));
    assert_eq!(id.sex(), Some(Sex::Female));
}

#[test]
fn residence_permits() {
    for (prefix, region) in [
        ("810000", PermitRegion::HongKong),
        ("820000", PermitRegion::Macao),
        ("830000", PermitRegion::Taiwan),
    ] {
        let id = IdNumber::parse(&gb(&format!("{prefix}19550615003"))).unwrap();
        assert_eq!(id.kind(), IdKind::ResidencePermit(region));
        assert_eq!(id.birth_date(), date!(1955 - 06 - 15));
        assert_eq!(id.sex(), Some(Sex::Male));
    }
}

#[test]
fn residence_permit_with_other_region_digits_is_rejected() {
    assert_eq!(err(&gb("81010019550615003")), IdNumberError::Region);
    assert_eq!(err(&gb("84000019550615003")), IdNumberError::Region);
}

#[test]
fn foreigner_2023_published_sample() {
    let id = IdNumber::parse("932682198501010017").unwrap();
    assert_eq!(id.kind(), IdKind::Foreigner2023);
    assert_eq!(id.birth_date(), date!(1985 - 01 - 01));
    assert_eq!(id.sex(), Some(Sex::Male));
}

#[test]
fn foreigner_2023_constructed() {
    // Shanghai (31), United States (840), born 1958-07-04, sequence 002.
    let id = IdNumber::parse(&gb("93184019580704002")).unwrap();
    assert_eq!(id.kind(), IdKind::Foreigner2023);
    assert_eq!(id.birth_date(), date!(1958 - 07 - 04));
    assert_eq!(id.sex(), Some(Sex::Female));
    // Province code 99 does not exist.
    assert_eq!(err(&gb("99984019580704002")), IdNumberError::Region);
}

#[test]
fn foreigner_2017_published_sample() {
    let id = IdNumber::parse("KAZ110090123105").unwrap();
    assert_eq!(id.kind(), IdKind::Foreigner2017);
    assert_eq!(id.birth_date(), date!(1990 - 12 - 31));
    assert_eq!(id.sex(), None);
    assert_eq!(id.as_str(), "KAZ110090123105");
}

#[test]
fn foreigner_2017_lowercase_letters_are_uppercased() {
    let id = IdNumber::parse("kaz110090123105").unwrap();
    assert_eq!(id.as_str(), "KAZ110090123105");
}

#[test]
fn foreigner_2017_century_rule() {
    // YY >= 24: 1900s.
    let id = IdNumber::parse(&f2017("USA31012401011")).unwrap();
    assert_eq!(id.birth_date(), date!(1924 - 01 - 01));
    let id = IdNumber::parse(&f2017("GBR31016303011")).unwrap();
    assert_eq!(id.birth_date(), date!(1963 - 03 - 01));
    // YY <= 23: 2000s.
    let id = IdNumber::parse(&f2017("DEU44012312311")).unwrap();
    assert_eq!(id.birth_date(), date!(2023 - 12 - 31));
    let id = IdNumber::parse(&f2017("FRA11000002291")).unwrap();
    assert_eq!(id.birth_date(), date!(2000 - 02 - 29));
}

#[test]
fn foreigner_2017_errors() {
    // Wrong check digit.
    assert_eq!(
        err("KAZ110090123104"),
        IdNumberError::CheckCharacter {
            expected: '5',
            found: '4'
        }
    );
    // Impossible date: 1999-02-30.
    assert_eq!(err(&f2017("KAZ11009902301")), IdNumberError::BirthDate);
    // Unknown province code 00.
    assert_eq!(err(&f2017("KAZ00009012311")), IdNumberError::Region);
    // Letters where digits belong and digits where letters belong.
    assert_eq!(
        err("KAZ11009012310X"),
        IdNumberError::Character { position: 15 }
    );
    assert_eq!(
        err("K4Z110090123105"),
        IdNumberError::Character { position: 2 }
    );
    assert_eq!(
        err("KAZA10090123105"),
        IdNumberError::Character { position: 4 }
    );
}

#[test]
fn fifteen_digits_are_obsolete() {
    assert_eq!(err("110105491231002"), IdNumberError::Obsolete);
}

// ---------------------------------------------------------------- wrong input

#[test]
fn wrong_check_character() {
    assert_eq!(
        err("110105194912310021"),
        IdNumberError::CheckCharacter {
            expected: 'X',
            found: '1'
        }
    );
    assert_eq!(
        err("932682198501010018"),
        IdNumberError::CheckCharacter {
            expected: '7',
            found: '8'
        }
    );
}

#[test]
fn impossible_dates() {
    assert_eq!(err(&gb("11010519990230002")), IdNumberError::BirthDate);
    assert_eq!(err(&gb("11010519990229002")), IdNumberError::BirthDate); // 1999 is common
    assert_eq!(err(&gb("11010519001301002")), IdNumberError::BirthDate);
    assert_eq!(err(&gb("11010519000100002")), IdNumberError::BirthDate);
    assert_eq!(err(&gb("11010519000431002")), IdNumberError::BirthDate);
    assert_eq!(err(&gb("11010519000229002")), IdNumberError::BirthDate); // 1900 is common
    assert!(IdNumber::parse(&gb("11010520000229002")).is_ok()); // 2000 is leap
}

#[test]
fn unknown_regions() {
    assert_eq!(err(&gb("01010519491231002")), IdNumberError::Region);
    assert_eq!(err(&gb("16010519491231002")), IdNumberError::Region);
    assert_eq!(err(&gb("70010519491231002")), IdNumberError::Region);
}

#[test]
fn empty_and_blank() {
    assert_eq!(err(""), IdNumberError::Empty);
    assert_eq!(err("   \t\n"), IdNumberError::Empty);
}

#[test]
fn wrong_lengths() {
    assert_eq!(err("1101051949123100"), IdNumberError::Length { found: 16 });
    assert_eq!(
        err("11010519491231002X0"),
        IdNumberError::Length { found: 19 }
    );
    assert_eq!(err("X"), IdNumberError::Length { found: 1 });
    // Characters, not bytes.
    assert_eq!(err("一二三"), IdNumberError::Length { found: 3 });
}

#[test]
fn garbage_characters() {
    assert_eq!(
        err("1101051949123100XX"),
        IdNumberError::Character { position: 17 }
    );
    assert_eq!(
        err("11010519491231002Y"),
        IdNumberError::Character { position: 18 }
    );
    assert_eq!(
        err("1101 519491231002X"),
        IdNumberError::Character { position: 5 }
    );
    assert_eq!(
        err("11010519491231002-"),
        IdNumberError::Character { position: 18 }
    );
    // Non-ASCII digits are not digits.
    assert_eq!(
        err("１1010519491231002X"),
        IdNumberError::Character { position: 1 }
    );
    assert_eq!(
        err("11010519491231002é"),
        IdNumberError::Character { position: 18 }
    );
    assert_eq!(
        err("ÄAZ110090123105"),
        IdNumberError::Character { position: 1 }
    );
}

#[test]
fn error_messages_are_lowercase_english_without_period() {
    let errors = [
        IdNumberError::Empty,
        IdNumberError::Length { found: 3 },
        IdNumberError::Character { position: 5 },
        IdNumberError::Obsolete,
        IdNumberError::Region,
        IdNumberError::BirthDate,
        IdNumberError::CheckCharacter {
            expected: 'X',
            found: '1',
        },
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(msg.chars().next().unwrap().is_ascii_lowercase(), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
    assert_eq!(
        IdNumberError::CheckCharacter {
            expected: 'X',
            found: '1'
        }
        .to_string(),
        "wrong check character: expected X, found 1"
    );
}

// ---------------------------------------------------------------- API surface

#[test]
fn check_character_function() {
    assert_eq!(check_character("11010519491231002"), Some('X'));
    assert_eq!(check_character("93268219850101001"), Some('7'));
    assert_eq!(check_character(""), None);
    assert_eq!(check_character("110105194912310021"), None);
    assert_eq!(check_character("1101051949123100a"), None);
}

#[test]
fn debug_shows_only_the_masked_number() {
    let id = IdNumber::parse("11010519491231002X").unwrap();
    let debug = format!("{id:?}");
    assert_eq!(debug, r#"IdNumber("110***********002X")"#);
    assert!(!debug.contains("19491231"));
    let pretty = format!("{id:#?}");
    assert!(!pretty.contains("19491231"));
    assert_eq!(id.masked(), "110***********002X");
    let old = IdNumber::parse("KAZ110090123105").unwrap();
    assert_eq!(format!("{old:?}"), r#"IdNumber("KAZ********3105")"#);
}

#[test]
fn conversions() {
    let a: IdNumber = "11010519491231002X".parse().unwrap();
    let b = IdNumber::try_from("11010519491231002x").unwrap();
    let c = IdNumber::try_from(String::from("11010519491231002X")).unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(String::from(a), "11010519491231002X");
    assert!("nonsense".parse::<IdNumber>().is_err());
}

#[test]
fn serde_is_the_plain_string_and_validates() {
    let id = IdNumber::parse("11010519491231002x").unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, r#""11010519491231002X""#);
    let back: IdNumber = serde_json::from_str(&json).unwrap();
    assert_eq!(back, id);

    let bad = serde_json::from_str::<IdNumber>(r#""110105194912310021""#).unwrap_err();
    assert!(bad.to_string().contains("wrong check character"), "{bad}");
    assert!(serde_json::from_str::<IdNumber>(r#""110***********002X""#).is_err());
    assert!(serde_json::from_str::<IdNumber>("12345").is_err());
}

// ---------------------------------------------------------------- properties

const RESIDENT_PROVINCES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71,
];
const MAINLAND_PROVINCES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65,
];

/// Any date with a four-digit year.
fn any_date() -> impl Strategy<Value = Date> {
    let first = date!(0000 - 01 - 01).to_julian_day();
    let last = date!(9999 - 12 - 31).to_julian_day();
    (first..=last).prop_map(|day| Date::from_julian_day(day).unwrap())
}

fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// First 17 digits of a valid 18-character number of any kind, with what it encodes.
fn valid_first17() -> impl Strategy<Value = (String, IdKind, Date, u32)> {
    let resident = (prop::sample::select(RESIDENT_PROVINCES), 0..10_000_u32)
        .prop_map(|(p, rest)| (format!("{p:02}{rest:04}"), IdKind::Resident));
    let permit = prop::sample::select(
        &[
            ("810000", PermitRegion::HongKong),
            ("820000", PermitRegion::Macao),
            ("830000", PermitRegion::Taiwan),
        ][..],
    )
    .prop_map(|(r, region)| (r.to_string(), IdKind::ResidencePermit(region)));
    let foreigner = (prop::sample::select(MAINLAND_PROVINCES), 0..1000_u32)
        .prop_map(|(p, nat)| (format!("9{p:02}{nat:03}"), IdKind::Foreigner2023));
    (
        prop_oneof![resident, permit, foreigner],
        any_date(),
        0..1000_u32,
    )
        .prop_map(|((region, kind), birth, seq)| {
            (format!("{region}{}{seq:03}", ymd(birth)), kind, birth, seq)
        })
}

proptest! {
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = IdNumber::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_near_misses(
        s in "[0-9xX]{18}|[0-9A-Za-z]{15}|[0-9 ]{14,19}|[A-Z]{3}[0-9]{12}"
    ) {
        let _ = IdNumber::parse(&s);
    }

    #[test]
    fn valid_18_round_trips((first17, kind, birth, seq) in valid_first17()) {
        let number = gb(&first17);
        let id = IdNumber::parse(&number).unwrap();
        prop_assert_eq!(id.as_str(), number.as_str());
        prop_assert_eq!(id.kind(), kind);
        prop_assert_eq!(id.birth_date(), birth);
        let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
        prop_assert_eq!(id.sex(), Some(sex));
        prop_assert_eq!(check_character(&first17), Some(gb_check(&first17)));
        // The lower-case form parses to the same number.
        prop_assert_eq!(IdNumber::parse(&number.to_lowercase()).unwrap(), id.clone());
        // Serde round trip.
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap(), id);
    }

    #[test]
    fn any_single_substitution_in_an_18_character_number_is_caught(
        (first17, _, _, _) in valid_first17()
    ) {
        let number: Vec<char> = gb(&first17).chars().collect();
        for position in 0..18 {
            let alternatives: &[char] = if position == 17 {
                &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']
            } else {
                &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
            };
            for &replacement in alternatives {
                if replacement == number[position] {
                    continue;
                }
                let mut changed = number.clone();
                changed[position] = replacement;
                let changed: String = changed.into_iter().collect();
                prop_assert!(IdNumber::parse(&changed).is_err(), "{} accepted", changed);
            }
        }
    }

    #[test]
    fn valid_2017_round_trips(
        nationality in "[A-Z]{3}",
        province in prop::sample::select(MAINLAND_PROVINCES),
        city in 0..100_u32,
        birth in (date!(1924 - 01 - 01).to_julian_day()..=date!(2023 - 12 - 31).to_julian_day())
            .prop_map(|d| Date::from_julian_day(d).unwrap()),
        seq in 0..10_u32,
    ) {
        let yymmdd = &ymd(birth)[2..];
        let number = f2017(&format!("{nationality}{province:02}{city:02}{yymmdd}{seq}"));
        let id = IdNumber::parse(&number).unwrap();
        prop_assert_eq!(id.kind(), IdKind::Foreigner2017);
        prop_assert_eq!(id.birth_date(), birth);
        prop_assert_eq!(id.sex(), None);
        prop_assert_eq!(id.as_str(), number.as_str());

        // Every single digit substitution is caught by the 7-3-1 check.
        let chars: Vec<char> = number.chars().collect();
        for position in 3..15 {
            for d in '0'..='9' {
                if d == chars[position] {
                    continue;
                }
                let mut changed = chars.clone();
                changed[position] = d;
                let changed: String = changed.into_iter().collect();
                prop_assert!(IdNumber::parse(&changed).is_err(), "{} accepted", changed);
            }
        }
    }
}
