//! The unified social credit code (统一社会信用代码, GB 32100-2015) of an organisation registered
//! in China: 18 characters, validated with its check character.
//!
//! | positions | meaning | characters |
//! |---|---|---|
//! | 1 | registration authority (登记管理部门): `1` 机构编制, `2` 外交, `3` 司法行政, `4` 文化, `5` 民政, `6` 旅游, `7` 宗教, `8` 工会, `9` 市场监管, `A` 中央军委改革和编制办公室, `N` 农业, `Y` 其他 | one of those |
//! | 2 | organisation category (机构类别) within the authority | the code set |
//! | 3–8 | administrative division of the registering office (登记管理机关行政区划码) | digits |
//! | 9–17 | the entity identifier (主体标识码, the organisation code of GB 11714) | the code set |
//! | 18 | check character | the code set |
//!
//! The code set is the digits and the capital letters without `I`, `O`, `S`, `V` and `Z`:
//! `0123456789ABCDEFGHJKLMNPQRTUWXY`, valued 0 to 30 in that order. The check character is the
//! one valued `31 − (Σ value(cᵢ) · wᵢ mod 31)` (0 when that is 31), with weights
//! `wᵢ = 3^(i−1) mod 31` for positions 1 to 17. Since 31 is prime and no weight is a multiple of
//! it, a single wrong character and a swap of two different adjacent characters among the first
//! seventeen always change the check character.
//!
//! Parsing trims surrounding whitespace and accepts lower-case letters (they are upper-cased);
//! every other deviation is a typed error. The entity identifier's own GB 11714 check character
//! is not checked: codes of some registrations (individual businesses among them) do not follow
//! it, and GB 32100 does not require it.

use std::fmt;

use thiserror::Error;

/// The length of a code.
pub const LEN: usize = 18;
/// The 31 characters of the code set, in value order.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of positions 1 to 17: `3^(i−1) mod 31`.
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// The registration authorities of position 1.
pub const AUTHORITIES: &[u8] = b"123456789ANY";

/// Why a text is not a unified social credit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UsccError {
    /// Not 18 characters long.
    #[error("a unified social credit code has 18 characters, this one has {0}")]
    Length(usize),
    /// A character outside the code set (`I`, `O`, `S`, `V`, `Z`, punctuation, ...).
    #[error(
        "character {found:?} at position {position} is not allowed in a unified social credit code"
    )]
    Character {
        /// One-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Position 1 names no registration authority.
    #[error("{0:?} is not a registration authority code")]
    Authority(char),
    /// Positions 3 to 8 (the administrative division) are not all digits.
    #[error("positions 3 to 8 must be the digits of an administrative division")]
    Region,
    /// The check character does not match.
    #[error("the check character should be {expected:?}, not {found:?}")]
    Check {
        /// What the first 17 characters call for.
        expected: char,
        /// What the code has.
        found: char,
    },
}

/// A valid unified social credit code, in upper case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Parses a code (rules in the module documentation).
    pub fn parse(text: &str) -> Result<Self, UsccError> {
        let text = text.trim();
        let count = text.chars().count();
        if count != LEN {
            return Err(UsccError::Length(count));
        }
        let mut values = [0u32; LEN];
        let mut upper = String::with_capacity(LEN);
        for ((position, found), slot) in text.chars().enumerate().zip(values.iter_mut()) {
            let c = found.to_ascii_uppercase();
            *slot = value_of(c).ok_or(UsccError::Character {
                position: position + 1,
                found,
            })?;
            upper.push(c);
        }
        let bytes = upper.as_bytes();
        let authority = bytes.first().copied().unwrap_or(b'0');
        if !AUTHORITIES.contains(&authority) {
            return Err(UsccError::Authority(char::from(authority)));
        }
        if !bytes
            .get(2..8)
            .is_some_and(|region| region.iter().all(u8::is_ascii_digit))
        {
            return Err(UsccError::Region);
        }
        let (body, check) = values.split_at(LEN - 1);
        let expected = check_char_of_values(body);
        let found = char::from(bytes.get(LEN - 1).copied().unwrap_or(b'0'));
        if check.first().copied() != value_of(expected) {
            return Err(UsccError::Check { expected, found });
        }
        Ok(Self(upper))
    }

    /// The code, 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1: the registration authority.
    pub fn authority(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }

    /// Positions 3 to 8: the administrative division of the registering office (e.g. `310101`).
    pub fn region(&self) -> &str {
        self.0.get(2..8).unwrap_or_default()
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An organisation's code is public information, unlike a person's ID number.
        write!(f, "Uscc({})", self.0)
    }
}

/// The value of a character of the code set (upper case only).
pub fn value_of(c: char) -> Option<u32> {
    let byte = u8::try_from(c).ok()?;
    CHARSET
        .iter()
        .position(|&b| b == byte)
        .and_then(|v| u32::try_from(v).ok())
}

fn check_char_of_values(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let value = (31 - sum % 31) % 31;
    CHARSET.get(value as usize).map_or('0', |&b| char::from(b))
}

/// The check character for the first 17 characters of a code, or `None` when `first_17` is not
/// 17 characters of the code set (upper case).
pub fn check_char(first_17: &str) -> Option<char> {
    if first_17.chars().count() != LEN - 1 {
        return None;
    }
    let values: Option<Vec<u32>> = first_17.chars().map(value_of).collect();
    values.map(|v| check_char_of_values(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Completes 17 characters with their check character.
    fn complete(first_17: &str) -> String {
        format!("{first_17}{}", check_char(first_17).unwrap())
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1u32;
        for weight in WEIGHTS {
            assert_eq!(weight, w);
            w = w * 3 % 31;
        }
        assert_eq!(CHARSET.len(), 31);
        for forbidden in ['I', 'O', 'S', 'V', 'Z'] {
            assert_eq!(value_of(forbidden), None);
        }
    }

    #[test]
    fn the_example_of_the_standard_is_valid() {
        // The example printed in GB 32100-2015 and on many registration guides.
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.authority(), '9');
        assert_eq!(code.region(), "350100");
    }

    #[test]
    fn constructed_codes_of_each_kind_are_valid() {
        // Built the way registries build them: authority, category, the Shanghai district of
        // registration, a nine-character entity identifier, then the check character computed by
        // hand with the weights above.
        // 9 1 310101 MA1FL2X0P: a company registered in Huangpu.
        // Σ = 9·1 + 1·3 + 3·9 + 1·27 + 0·19 + 1·26 + 0·16 + 1·17 + M(21)·20 + A(10)·29
        //   + 1·25 + F(15)·13 + L(20)·8 + 2·24 + X(29)·10 + 0·30 + P(23)·28 = 2181;
        // 2181 mod 31 = 11; 31 − 11 = 20, the value of L.
        assert_eq!(check_char("91310101MA1FL2X0P"), Some('L'));
        for code in [
            "91310101MA1FL2X0PL",
            &complete("52310104MJ5041234"), // 民政: a social organisation in Xuhui
            &complete("12310000425012345"), // 机构编制: a public institution of the city
            &complete("92310115MA1K3XY4T"), // 市场监管: an individual business in Pudong
            &complete("Y1310106ABCDEF012"), // other authorities
        ] {
            let parsed = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn each_way_of_being_wrong_has_its_own_error() {
        let good = "91310101MA1FL2X0PL";
        assert_eq!(Uscc::parse(&good[..17]), Err(UsccError::Length(17)));
        assert_eq!(Uscc::parse(&format!("{good}0")), Err(UsccError::Length(19)));
        assert_eq!(Uscc::parse(""), Err(UsccError::Length(0)));
        assert_eq!(
            Uscc::parse("91310101MA1FL2X0PI"),
            Err(UsccError::Character {
                position: 18,
                found: 'I'
            })
        );
        assert_eq!(
            Uscc::parse("91310101MA1FL2X0P？"),
            Err(UsccError::Character {
                position: 18,
                found: '？'
            })
        );
        assert_eq!(
            Uscc::parse(&complete("B1310101MA1FL2X0P")),
            Err(UsccError::Authority('B'))
        );
        assert_eq!(
            Uscc::parse(&complete("9131A101MA1FL2X0P")),
            Err(UsccError::Region)
        );
        assert_eq!(
            Uscc::parse("91310101MA1FL2X0PK"),
            Err(UsccError::Check {
                expected: 'L',
                found: 'K'
            })
        );
    }

    #[test]
    fn surrounding_space_and_lower_case_are_accepted() {
        let parsed = Uscc::parse("  91310101ma1fl2x0pl\n").unwrap();
        assert_eq!(parsed.as_str(), "91310101MA1FL2X0PL");
        assert_eq!(parsed.to_string(), "91310101MA1FL2X0PL");
    }

    #[test]
    fn check_char_needs_17_characters_of_the_set() {
        assert_eq!(check_char("91310101MA1FL2X0"), None);
        assert_eq!(check_char("91310101MA1FL2X0S"), None);
        assert_eq!(check_char("91310101ma1fl2x0p"), None);
    }

    fn body() -> impl Strategy<Value = String> {
        (
            prop::sample::select(AUTHORITIES.to_vec()),
            prop::sample::select(CHARSET.to_vec()),
            "[0-9]{6}",
            proptest::collection::vec(prop::sample::select(CHARSET.to_vec()), 9),
        )
            .prop_map(|(a, c, region, id)| {
                let mut s = String::new();
                s.push(char::from(a));
                s.push(char::from(c));
                s.push_str(&region);
                s.extend(id.into_iter().map(char::from));
                s
            })
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".{0,40}") {
            let _ = Uscc::parse(&text);
        }

        #[test]
        fn never_panics_on_text_of_the_right_shape(text in "[0-9A-Za-z ？]{16,20}") {
            let _ = Uscc::parse(&text);
        }

        #[test]
        fn a_completed_body_is_valid(first in body()) {
            let code = complete(&first);
            prop_assert_eq!(Uscc::parse(&code).map(|c| c.as_str().to_owned()), Ok(code));
        }

        #[test]
        fn one_wrong_character_is_always_caught(
            first in body(),
            position in 0usize..18,
            replacement in prop::sample::select(CHARSET.to_vec()),
        ) {
            let code = complete(&first);
            let mut bytes = code.clone().into_bytes();
            prop_assume!(bytes[position] != replacement);
            bytes[position] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Uscc::parse(&changed).is_err(), "{} -> {}", code, changed);
        }

        #[test]
        fn any_other_character_in_positions_9_to_18_is_always_caught(
            first in body(),
            position in 8usize..18,
            replacement in any::<char>(),
        ) {
            // Positions 9 to 18 (the entity identifier and the check character): whatever
            // replaces one of them, from the code set or not, the code no longer parses; only
            // the same letter in lower case reads as the same code.
            let code = complete(&first);
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(!chars[position].eq_ignore_ascii_case(&replacement));
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(Uscc::parse(&changed).is_err(), "{} -> {:?}", code, changed);
        }

        #[test]
        fn never_panics_on_arbitrary_strings(text in any::<String>()) {
            let _ = Uscc::parse(&text);
            let _ = check_char(&text);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes_read_as_text(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = Uscc::parse(&text);
            let _ = check_char(&text);
        }

        #[test]
        fn a_swap_of_adjacent_characters_is_always_caught(first in body(), position in 0usize..16) {
            let code = complete(&first);
            let mut bytes = code.clone().into_bytes();
            prop_assume!(bytes[position] != bytes[position + 1]);
            bytes.swap(position, position + 1);
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Uscc::parse(&changed).is_err(), "{} -> {}", code, changed);
        }
    }
}
