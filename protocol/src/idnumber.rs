//! ID numbers: parsing and validating the numbers of the documents the kiosk accepts (resident
//! identity cards, Hong Kong / Macao / Taiwan residence permits, both editions of the foreigner's
//! permanent residence card), and the birth date and sex they encode.
//!
//! # Formats
//!
//! * **GB 11643-1999, 18 characters** (resident identity card, residence permit, 2023 foreigner
//!   card): 17 digits and a check character. The check character is
//!   `"10X98765432"[S mod 11]` where `S` is the sum of digit *i* times weight *i*, weights
//!   `7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2` (ISO 7064 MOD 11-2). See [`check_character`].
//!   * Resident identity card: 6-digit region code (GB/T 2260; the first two digits are a
//!     province-level code), 8-digit birth date `YYYYMMDD`, 3-digit sequence (odd = male,
//!     even = female), check character.
//!   * Residence permit for Hong Kong, Macao and Taiwan residents: the same layout with the
//!     region code `810000`, `820000` or `830000`.
//!   * Foreigner's permanent residence ID card, 2023 edition: `9`, 2-digit province code of the
//!     accepting authority, 3-digit numeric nationality code (ISO 3166-1 numeric), 8-digit birth
//!     date, 3-digit sequence (odd = male, even = female), GB 11643 check character. Source: the
//!     National Immigration Administration's notice on adapting systems to the new card
//!     ("新版外国人永久居留身份证适配性改造要点", 2023, republished by card-reader vendors, e.g.
//!     <http://www.eastcoms.com/service/pro/840.html>): the number went from 15 characters
//!     (3 Latin letters + 12 digits) to 18 (17 digits + check), the letter nationality code became
//!     numeric, the first digit is always `9`, and the check character is MOD 11-2 as for
//!     citizens. Published sample: `932682198501010017` (Jiangsu, Saudi Arabia, 1985-01-01,
//!     male).
//! * **2017 foreigner's permanent residence card, 15 characters**: 3 letters (ISO 3166-1
//!   alpha-3 nationality), 4-digit code of the accepting authority (2-digit province +
//!   2-digit city), 6-digit birth date `YYMMDD`, 1-digit sequence, 1 check digit. The check digit
//!   is the ICAO 9303 machine-readable-zone rule: letters count `A` = 10 … `Z` = 35, weights
//!   `7 3 1` repeat from the first character, check = sum mod 10. Sources: public validators
//!   that put the birth date at characters 8–13 (e.g. the `[A-Z]{3}\d{4}` + `YYMMDD` + 2 digits
//!   patterns circulated with the 2023 adaptation notice), and the published sample
//!   `KAZ110090123105`, whose last digit satisfies the 7-3-1 rule. Some descriptions give a
//!   2-digit province code and a 2-digit sequence instead; that adds up to 14 characters, not
//!   15, so this module follows the 4-digit reading. Whether the sequence digit encodes sex is
//!   not documented by any source found, so [`IdNumber::sex`] is `None` for this edition.
//!
//! # The 2017 card's two-digit year
//!
//! This crate reads no clock, so the century of `YYMMDD` comes from a fixed rule: `YY >= 24`
//! means 19YY and `YY <= 23` means 20YY. The 2017 edition was replaced on 1 December 2023, so no
//! holder of one can have been born in 2024 or later. The rule is wrong only for a holder born in
//! 1900–1923 (read as 2000–2023); the offline code depends on age 60 and over, and such holders,
//! if any, will have renewed to the 2023 edition, whose number carries the full year.
//!
//! # What is not checked
//!
//! Region codes are checked at province level only (GB/T 2260 province codes, with 71 allowed for
//! resident numbers and exactly 810000/820000/830000 for residence permits); nationality codes
//! are not checked against ISO 3166-1. Birth dates must be real calendar dates; whether they lie
//! in the past is the caller's business, since there is no clock here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::mask::mask_id_number;

/// GB 11643-1999 weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643-1999 check characters, indexed by the weighted sum mod 11.
const CHECK_CHARACTERS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// ICAO 9303 weights of the 2017 foreigner card number, repeated.
const MRZ_WEIGHTS: [u32; 3] = [7, 3, 1];

/// Which kind of document an ID number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// Resident identity card of the PRC (GB 11643-1999).
    Resident,
    /// Residence permit for Hong Kong, Macao or Taiwan residents (region 810000/820000/830000).
    ResidencePermit(PermitRegion),
    /// Foreigner's permanent residence card, 2017 edition: 15 characters, 3 letters first.
    Foreigner2017,
    /// Foreigner's permanent residence ID card, 2023 edition: 18 characters, leading 9.
    Foreigner2023,
}

/// Where a residence-permit holder comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermitRegion {
    /// Region code 810000.
    HongKong,
    /// Region code 820000.
    Macao,
    /// Region code 830000.
    Taiwan,
}

/// Sex as encoded in an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Odd sequence digit.
    Male,
    /// Even sequence digit.
    Female,
}

/// A validated ID number.
///
/// Holds the number in canonical form (surrounding whitespace removed, letters upper-case),
/// with what it encodes. `Debug` shows only the masked form, and there is deliberately no
/// `Display`: the full number must never reach a log by accident. Use [`IdNumber::as_str`] where
/// the full number is really needed. Serialises as the plain string; deserialising validates.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber {
    text: String,
    kind: IdKind,
    birth_date: Date,
    sex: Option<Sex>,
}

/// Why a string is not a valid ID number.
///
/// Positions count characters from 1, after surrounding whitespace is removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Nothing but whitespace.
    #[error("the ID number is empty")]
    Empty,
    /// Neither 18 nor 15 characters.
    #[error("an ID number has 18 or 15 characters, found {found}")]
    Length {
        /// How many characters there were.
        found: usize,
    },
    /// A character that cannot stand at this position.
    #[error("unexpected character at position {position}")]
    Character {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// 15 digits: a first-generation resident ID number, no longer valid.
    #[error("first-generation 15-digit ID numbers are no longer valid")]
    Obsolete,
    /// The region (or province) code is not one that is issued.
    #[error("unknown region code")]
    Region,
    /// The birth date is not a real calendar date.
    #[error("the birth date is not a real calendar date")]
    BirthDate,
    /// The check character does not match the rest of the number.
    #[error("wrong check character: expected {expected}, found {found}")]
    CheckCharacter {
        /// What the rest of the number calls for.
        expected: char,
        /// What the number has.
        found: char,
    },
}

impl IdNumber {
    /// Parses and validates an ID number of any supported kind.
    ///
    /// Surrounding whitespace is ignored; a lower-case check character `x` (and lower-case
    /// nationality letters of a 2017 foreigner card number) are accepted and stored upper-case.
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        if let Ok(chars) = <[char; 18]>::try_from(chars.as_slice()) {
            parse_18(&chars)
        } else if let Ok(chars) = <[char; 15]>::try_from(chars.as_slice()) {
            parse_15(&chars)
        } else {
            Err(IdNumberError::Length { found: chars.len() })
        }
    }

    /// The full number in canonical form. Never log it; log [`IdNumber::masked`] instead.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The kind of document.
    pub fn kind(&self) -> IdKind {
        self.kind
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The sex encoded in the number, where the format encodes it (`None` for the 2017
    /// foreigner card).
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }

    /// The number masked for display to anyone but the holder, e.g. `110***********002X`.
    pub fn masked(&self) -> String {
        mask_id_number(&self.text)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

impl FromStr for IdNumber {
    type Err = IdNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for IdNumber {
    type Error = IdNumberError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> Self {
        id.text
    }
}

/// The GB 11643-1999 check character for the first 17 digits of an 18-character number, or
/// `None` unless `first17` is exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * weight;
    }
    check_character_of_sum(sum)
}

fn check_character_of_sum(sum: u32) -> Option<char> {
    CHECK_CHARACTERS
        .get(usize::try_from(sum % 11).ok()?)
        .copied()
}

/// Province-level codes of GB/T 2260 on the mainland.
fn is_mainland_province(code: u32) -> bool {
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65)
}

/// The number the decimal digits spell.
fn number(digits: &[u32]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + d)
}

fn calendar_date(year: u32, month: u32, day: u32) -> Option<Date> {
    let year = i32::try_from(year).ok()?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let day = u8::try_from(day).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn sex_of(digit: u32) -> Sex {
    if digit % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    }
}

fn parse_18(chars: &[char; 18]) -> Result<IdNumber, IdNumberError> {
    let mut digits = [0_u32; 17];
    for (position, (digit, c)) in (1..).zip(digits.iter_mut().zip(chars)) {
        *digit = c
            .to_digit(10)
            .ok_or(IdNumberError::Character { position })?;
    }
    let found = match chars[17] {
        c @ ('0'..='9' | 'X') => c,
        'x' => 'X',
        _ => return Err(IdNumberError::Character { position: 18 }),
    };

    let kind = match digits[0] {
        9 if is_mainland_province(number(&digits[1..3])) => IdKind::Foreigner2023,
        8 if matches!(digits[1], 1..=3) => {
            if digits[2..6] != [0, 0, 0, 0] {
                return Err(IdNumberError::Region);
            }
            IdKind::ResidencePermit(match digits[1] {
                1 => PermitRegion::HongKong,
                2 => PermitRegion::Macao,
                _ => PermitRegion::Taiwan,
            })
        }
        _ => {
            let province = number(&digits[0..2]);
            if !(is_mainland_province(province) || province == 71) {
                return Err(IdNumberError::Region);
            }
            IdKind::Resident
        }
    };

    let birth_date = calendar_date(
        number(&digits[6..10]),
        number(&digits[10..12]),
        number(&digits[12..14]),
    )
    .ok_or(IdNumberError::BirthDate)?;

    let sum = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let expected = check_character_of_sum(sum).ok_or(IdNumberError::Character { position: 18 })?;
    if found != expected {
        return Err(IdNumberError::CheckCharacter { expected, found });
    }

    let mut text: String = digits
        .iter()
        .filter_map(|d| char::from_digit(*d, 10))
        .collect();
    text.push(found);
    Ok(IdNumber {
        text,
        kind,
        birth_date,
        sex: Some(sex_of(digits[16])),
    })
}

fn parse_15(chars: &[char; 15]) -> Result<IdNumber, IdNumberError> {
    if chars.iter().all(char::is_ascii_digit) {
        return Err(IdNumberError::Obsolete);
    }
    // Value of each character for the check digit: digits as such, letters A = 10 .. Z = 35.
    let mut values = [0_u32; 15];
    let mut text = String::with_capacity(15);
    for (index, (value, &c)) in values.iter_mut().zip(chars).enumerate() {
        let position = index + 1;
        let upper = c.to_ascii_uppercase();
        *value = match (index < 3, upper) {
            (true, 'A'..='Z') => u32::from(upper) - u32::from('A') + 10,
            (false, '0'..='9') => u32::from(upper) - u32::from('0'),
            _ => return Err(IdNumberError::Character { position }),
        };
        text.push(upper);
    }

    if !is_mainland_province(number(&values[3..5])) {
        return Err(IdNumberError::Region);
    }

    let yy = number(&values[7..9]);
    let year = if yy >= 24 { 1900 + yy } else { 2000 + yy };
    let birth_date = calendar_date(year, number(&values[9..11]), number(&values[11..13]))
        .ok_or(IdNumberError::BirthDate)?;

    let sum: u32 = values[..14]
        .iter()
        .zip(MRZ_WEIGHTS.iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    let expected =
        char::from_digit(sum % 10, 10).ok_or(IdNumberError::Character { position: 15 })?;
    let found = chars[14];
    if found != expected {
        return Err(IdNumberError::CheckCharacter { expected, found });
    }

    Ok(IdNumber {
        text,
        kind: IdKind::Foreigner2017,
        birth_date,
        sex: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_character_of_the_standard_example() {
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("1101051949123100a"), None);
        assert_eq!(check_character("110105194912310é"), None);
    }
}
