//! The card's 256-byte text block: UCS-2 little-endian, fixed-width fields padded with spaces
//! (U+0020), in one of four layouts told apart by the character at byte 248.
//!
//! | byte 248 | card |
//! |---|---|
//! | space | resident identity card |
//! | `I` | foreigner's permanent residence card, 2017 edition |
//! | `Y` | foreigner's permanent residence ID card, 2023 edition |
//! | `J` | residence permit for Hong Kong, Macao and Taiwan residents |
//!
//! Resident card, and `J` (which has no nation code):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 30 | name |
//! | 30 | 2 | sex code |
//! | 32 | 4 | nation code (resident only) |
//! | 36 | 16 | birth date `YYYYMMDD` |
//! | 52 | 70 | address |
//! | 122 | 36 | ID number |
//! | 158 | 30 | issuing authority |
//! | 188 | 16 | valid from `YYYYMMDD` |
//! | 204 | 16 | valid until `YYYYMMDD`, or 长期 (no end) |
//! | 220 | 18 | `J`: pass number (reserved on the resident card) |
//! | 238 | 4 | `J`: issue count (reserved on the resident card) |
//!
//! 2017 foreigner card (`I`): 0 English name (120) · 120 sex (2) · 122 card number (30) ·
//! 152 nationality (6) · 158 Chinese name (30) · 188 valid from (16) · 204 valid until (16) ·
//! 220 birth date (16) · 236 card version (4) · 240 authority code (8).
//!
//! 2023 foreigner card (`Y`): 0 Chinese name (30) · 30 sex (2) · 32 renewal count (4) ·
//! 36 birth date (16) · 52 English name, first part (70) · 122 card number (36) ·
//! 158 issuing authority (30) · 188 valid from (16) · 204 valid until (16) ·
//! 220 English name, second part (22) · 242 nationality (6). The reference lists no field at 158
//! for this card; this module reads the issuing authority there, as on the resident card.
//!
//! # Parsing rules
//!
//! * Every field is trimmed of surrounding spaces (and NULs); a blank optional field is `None`.
//! * A resident or permit card must have a name; a foreigner card a Chinese or an English name.
//! * Sex codes are `0` not known, `1` male, `2` female, `9` not stated (GB/T 2261.1).
//! * A resident card must have a nation code of GB 3304 ([`NATIONS`]); a permit has none.
//! * Dates are `YYYYMMDD` and must be real calendar dates; "valid until" may be 长期 instead.
//! * The number must pass [`protocol::IdNumber::parse`] ([`TextError::IdNumber`] otherwise) and
//!   be of the card's kind (a resident number on a resident card, and so on).
//! * The reserved bytes are ignored. A type character of U+0000 is read as a resident card, for
//!   readers that zero the reserved area.
//!
//! [`encode_text_block`] writes a card back; `parse_text_block(&encode_text_block(&card))`
//! gives the card back whenever its fields fit their widths and carry no surrounding spaces.

use std::fmt;

use protocol::idnumber::IdKind;
use protocol::mask::{mask_id_number, mask_name};
use protocol::{IdNumber, IdNumberError};
use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Length of the text block.
pub const TEXT_BLOCK_LEN: usize = 256;

/// The word a card has instead of an end date when it does not expire: 长期.
pub const OPEN_ENDED: &str = "\u{957F}\u{671F}";

/// Nation codes of GB 3304 and the nations' names, as on resident cards.
pub const NATIONS: [(&str, &str); 58] = [
    ("01", "汉"),
    ("02", "蒙古"),
    ("03", "回"),
    ("04", "藏"),
    ("05", "维吾尔"),
    ("06", "苗"),
    ("07", "彝"),
    ("08", "壮"),
    ("09", "布依"),
    ("10", "朝鲜"),
    ("11", "满"),
    ("12", "侗"),
    ("13", "瑶"),
    ("14", "白"),
    ("15", "土家"),
    ("16", "哈尼"),
    ("17", "哈萨克"),
    ("18", "傣"),
    ("19", "黎"),
    ("20", "傈僳"),
    ("21", "佤"),
    ("22", "畲"),
    ("23", "高山"),
    ("24", "拉祜"),
    ("25", "水"),
    ("26", "东乡"),
    ("27", "纳西"),
    ("28", "景颇"),
    ("29", "柯尔克孜"),
    ("30", "土"),
    ("31", "达斡尔"),
    ("32", "仫佬"),
    ("33", "羌"),
    ("34", "布朗"),
    ("35", "撒拉"),
    ("36", "毛南"),
    ("37", "仡佬"),
    ("38", "锡伯"),
    ("39", "阿昌"),
    ("40", "普米"),
    ("41", "塔吉克"),
    ("42", "怒"),
    ("43", "乌孜别克"),
    ("44", "俄罗斯"),
    ("45", "鄂温克"),
    ("46", "德昂"),
    ("47", "保安"),
    ("48", "裕固"),
    ("49", "京"),
    ("50", "塔塔尔"),
    ("51", "独龙"),
    ("52", "鄂伦春"),
    ("53", "赫哲"),
    ("54", "门巴"),
    ("55", "珞巴"),
    ("56", "基诺"),
    ("97", "其他"),
    ("98", "外国血统中国籍人士"),
];

/// The name of the nation with this GB 3304 code (`"01"` → `"汉"`).
pub fn nation_name(code: &str) -> Option<&'static str> {
    NATIONS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The GB 3304 code of the nation with this name (`"汉"` → `"01"`).
pub fn nation_code(name: &str) -> Option<&'static str> {
    NATIONS.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

/// Which document the card is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CardType {
    /// Resident identity card (type character: space).
    #[serde(rename = "resident")]
    Resident,
    /// Foreigner's permanent residence card, 2017 edition (`I`).
    #[serde(rename = "foreigner_2017")]
    Foreigner2017,
    /// Foreigner's permanent residence ID card, 2023 edition (`Y`).
    #[serde(rename = "foreigner_2023")]
    Foreigner2023,
    /// Residence permit for Hong Kong, Macao and Taiwan residents (`J`).
    #[serde(rename = "permit")]
    Permit,
}

impl CardType {
    /// Every card type.
    pub const ALL: [Self; 4] = [
        Self::Resident,
        Self::Foreigner2017,
        Self::Foreigner2023,
        Self::Permit,
    ];

    /// The type character at byte 248.
    pub fn code(self) -> char {
        match self {
            Self::Resident => ' ',
            Self::Foreigner2017 => 'I',
            Self::Foreigner2023 => 'Y',
            Self::Permit => 'J',
        }
    }

    /// The name used in JSON: `resident`, `foreigner_2017`, `foreigner_2023` or `permit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resident => "resident",
            Self::Foreigner2017 => "foreigner_2017",
            Self::Foreigner2023 => "foreigner_2023",
            Self::Permit => "permit",
        }
    }

    /// Whether a number of this kind belongs on this card.
    fn accepts(self, kind: IdKind) -> bool {
        matches!(
            (self, kind),
            (Self::Resident, IdKind::Resident)
                | (Self::Permit, IdKind::ResidencePermit(_))
                | (Self::Foreigner2017, IdKind::Foreigner2017)
                | (Self::Foreigner2023, IdKind::Foreigner2023)
        )
    }
}

/// Sex as the card states it (GB/T 2261.1 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// `0`: not known.
    NotKnown,
    /// `1`: male.
    Male,
    /// `2`: female.
    Female,
    /// `9`: not stated.
    NotStated,
}

impl Sex {
    /// Every sex code.
    pub const ALL: [Self; 4] = [Self::NotKnown, Self::Male, Self::Female, Self::NotStated];

    /// The code on the card: `0`, `1`, `2` or `9`.
    pub fn code(self) -> char {
        match self {
            Self::NotKnown => '0',
            Self::Male => '1',
            Self::Female => '2',
            Self::NotStated => '9',
        }
    }

    /// The sex with this code.
    pub fn from_code(code: char) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The name used in JSON: `not_known`, `male`, `female` or `not_stated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotKnown => "not_known",
            Self::Male => "male",
            Self::Female => "female",
            Self::NotStated => "not_stated",
        }
    }
}

/// What a card says, for all four card types.
///
/// Fields a card type does not have are `None`. `Debug` masks the names, the number, the
/// address and the pass number; use [`IdCard::view`] where the full values are really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCard {
    /// The card type.
    pub card_type: CardType,
    /// The Chinese name (for foreigner cards the Chinese name, which may be empty).
    pub name: String,
    /// The English name (foreigner cards).
    pub english_name: Option<String>,
    /// Sex.
    pub sex: Sex,
    /// The nation's name, e.g. `汉` (resident cards only).
    pub nation: Option<String>,
    /// The nation's GB 3304 code, e.g. `01` (resident cards only).
    pub nation_code: Option<String>,
    /// The nationality as on the card (foreigner cards), e.g. `USA`.
    pub nationality: Option<String>,
    /// Birth date.
    pub birth_date: Date,
    /// Address (resident cards and permits).
    pub address: Option<String>,
    /// The ID number, validated.
    pub id_number: IdNumber,
    /// Issuing authority (for the 2017 foreigner card, the authority's code).
    pub authority: Option<String>,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity; `None` for 长期 (does not expire).
    pub valid_until: Option<Date>,
    /// Pass number (permits).
    pub pass_number: Option<String>,
    /// Issue count (permits).
    pub issue_count: Option<String>,
    /// Card version (2017 foreigner card).
    pub card_version: Option<String>,
    /// Renewal count (2023 foreigner card).
    pub renewal_count: Option<String>,
}

/// The masked view of a card ([`IdCard::masked`]).
pub type MaskedCard = CardView;

/// A card as printed by `kiosk doctor idcard --json`: one flat object, masked or not.
///
/// `card_type` is `resident`, `foreigner_2017`, `foreigner_2023` or `permit`; `sex` is `male`,
/// `female`, `not_known` or `not_stated`; dates are `YYYY-MM-DD`; `valid_until` is `null` for
/// 长期. `name` is the Chinese name, or the English name when the card has no Chinese name;
/// `nation` is the nation's name on a resident card, the nationality on a foreigner card and
/// `null` on a permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardView {
    /// The card type.
    pub card_type: CardType,
    /// The name (masked in the masked view).
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Nation (resident) or nationality (foreigner).
    pub nation: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Address (masked in the masked view: only the first 6 characters are kept).
    pub address: Option<String>,
    /// The ID number (masked in the masked view).
    pub id_number: String,
    /// Issuing authority.
    pub authority: Option<String>,
    /// First day of validity, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day of validity, `YYYY-MM-DD`, or `null` for 长期.
    pub valid_until: Option<String>,
}

/// Why a text block is not a card.
///
/// Messages never contain the holder's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The block is not 256 bytes long.
    #[error("the text block has {found} bytes, 256 expected")]
    Length {
        /// The block's length.
        found: usize,
    },
    /// A field is not valid UTF-16 (an unpaired surrogate).
    #[error("the {field} field is not valid UCS-2")]
    Utf16 {
        /// The field.
        field: &'static str,
    },
    /// A field does not hold what it should.
    #[error("the {field} field is invalid: {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The ID number fails validation.
    #[error("the ID number on the card is invalid: {0}")]
    IdNumber(IdNumberError),
    /// The type character at byte 248 is none of space, `I`, `Y`, `J`.
    #[error("unknown card type character U+{0:04X}")]
    UnknownCardType(u16),
}

impl From<IdNumberError> for TextError {
    fn from(e: IdNumberError) -> Self {
        Self::IdNumber(e)
    }
}

/// A field of a layout: its name (for errors), byte offset and byte length.
#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    offset: usize,
    len: usize,
}

const fn field(name: &'static str, offset: usize, len: usize) -> Field {
    Field { name, offset, len }
}

/// The type character.
const TYPE: Field = field("card_type", 248, 2);

/// Resident card and permit.
mod resident {
    use super::{Field, field};
    pub(super) const NAME: Field = field("name", 0, 30);
    pub(super) const SEX: Field = field("sex", 30, 2);
    pub(super) const NATION: Field = field("nation", 32, 4);
    pub(super) const BIRTH: Field = field("birth_date", 36, 16);
    pub(super) const ADDRESS: Field = field("address", 52, 70);
    pub(super) const NUMBER: Field = field("id_number", 122, 36);
    pub(super) const AUTHORITY: Field = field("authority", 158, 30);
    pub(super) const FROM: Field = field("valid_from", 188, 16);
    pub(super) const UNTIL: Field = field("valid_until", 204, 16);
    pub(super) const PASS_NUMBER: Field = field("pass_number", 220, 18);
    pub(super) const ISSUE_COUNT: Field = field("issue_count", 238, 4);
}

/// 2017 foreigner card (`I`).
mod foreigner2017 {
    use super::{Field, field};
    pub(super) const ENGLISH_NAME: Field = field("english_name", 0, 120);
    pub(super) const SEX: Field = field("sex", 120, 2);
    pub(super) const NUMBER: Field = field("id_number", 122, 30);
    pub(super) const NATIONALITY: Field = field("nationality", 152, 6);
    pub(super) const NAME: Field = field("name", 158, 30);
    pub(super) const FROM: Field = field("valid_from", 188, 16);
    pub(super) const UNTIL: Field = field("valid_until", 204, 16);
    pub(super) const BIRTH: Field = field("birth_date", 220, 16);
    pub(super) const VERSION: Field = field("card_version", 236, 4);
    pub(super) const AUTHORITY: Field = field("authority", 240, 8);
}

/// 2023 foreigner card (`Y`).
mod foreigner2023 {
    use super::{Field, field};
    pub(super) const NAME: Field = field("name", 0, 30);
    pub(super) const SEX: Field = field("sex", 30, 2);
    pub(super) const RENEWAL: Field = field("renewal_count", 32, 4);
    pub(super) const BIRTH: Field = field("birth_date", 36, 16);
    pub(super) const ENGLISH_NAME_1: Field = field("english_name", 52, 70);
    pub(super) const NUMBER: Field = field("id_number", 122, 36);
    pub(super) const AUTHORITY: Field = field("authority", 158, 30);
    pub(super) const FROM: Field = field("valid_from", 188, 16);
    pub(super) const UNTIL: Field = field("valid_until", 204, 16);
    pub(super) const ENGLISH_NAME_2: Field = field("english_name", 220, 22);
    pub(super) const NATIONALITY: Field = field("nationality", 242, 6);
}

/// Reading the fields of one block.
struct Reader<'a> {
    block: &'a [u8; TEXT_BLOCK_LEN],
}

fn is_padding(c: char) -> bool {
    c == ' ' || c == '\0'
}

impl Reader<'_> {
    /// The field's characters, padding included.
    fn raw(&self, f: Field) -> Result<String, TextError> {
        let bytes = self
            .block
            .get(f.offset..f.offset + f.len)
            .unwrap_or_default();
        let (pairs, _) = bytes.as_chunks::<2>();
        let units: Vec<u16> = pairs.iter().map(|pair| u16::from_le_bytes(*pair)).collect();
        String::from_utf16(&units).map_err(|_| TextError::Utf16 { field: f.name })
    }

    /// The field, trimmed.
    fn text(&self, f: Field) -> Result<String, TextError> {
        Ok(self.raw(f)?.trim_matches(is_padding).to_owned())
    }

    /// The field, trimmed; `None` if blank.
    fn optional(&self, f: Field) -> Result<Option<String>, TextError> {
        let s = self.text(f)?;
        Ok((!s.is_empty()).then_some(s))
    }

    /// The field, which must not be blank.
    fn required(&self, f: Field) -> Result<String, TextError> {
        self.optional(f)?.ok_or(TextError::Field {
            field: f.name,
            problem: "missing",
        })
    }

    fn sex(&self, f: Field) -> Result<Sex, TextError> {
        let s = self.text(f)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Sex::from_code(c),
            _ => None,
        }
        .ok_or(TextError::Field {
            field: f.name,
            problem: "not a sex code (0, 1, 2 or 9)",
        })
    }

    fn date(&self, f: Field) -> Result<Date, TextError> {
        parse_date(&self.text(f)?).ok_or(TextError::Field {
            field: f.name,
            problem: "not a calendar date YYYYMMDD",
        })
    }

    fn valid_until(&self, f: Field) -> Result<Option<Date>, TextError> {
        if self.text(f)? == OPEN_ENDED {
            Ok(None)
        } else {
            self.date(f).map(Some)
        }
    }

    fn id_number(&self, f: Field, card_type: CardType) -> Result<IdNumber, TextError> {
        let number = IdNumber::parse(&self.text(f)?)?;
        if !card_type.accepts(number.kind()) {
            return Err(TextError::Field {
                field: f.name,
                problem: "the number is not of this card type",
            });
        }
        Ok(number)
    }
}

/// A date written `YYYYMMDD`.
fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let month: u8 = s.get(4..6)?.parse().ok()?;
    let day: u8 = s.get(6..8)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// A date as `YYYYMMDD`.
fn compact_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A date as `YYYY-MM-DD`.
fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses a 256-byte text block into a card (rules in the module documentation).
pub fn parse_text_block(block: &[u8]) -> Result<IdCard, TextError> {
    let block = <&[u8; TEXT_BLOCK_LEN]>::try_from(block)
        .map_err(|_| TextError::Length { found: block.len() })?;
    let r = Reader { block };
    let type_unit = match block.get(TYPE.offset..TYPE.offset + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    };
    let card_type = match type_unit {
        0x0020 | 0x0000 => CardType::Resident,
        0x0049 => CardType::Foreigner2017,
        0x0059 => CardType::Foreigner2023,
        0x004A => CardType::Permit,
        other => return Err(TextError::UnknownCardType(other)),
    };
    match card_type {
        CardType::Resident | CardType::Permit => parse_resident(&r, card_type),
        CardType::Foreigner2017 => parse_foreigner_2017(&r),
        CardType::Foreigner2023 => parse_foreigner_2023(&r),
    }
}

fn parse_resident(r: &Reader<'_>, card_type: CardType) -> Result<IdCard, TextError> {
    use resident::*;
    let permit = card_type == CardType::Permit;
    let name = r.required(NAME)?;
    let sex = r.sex(SEX)?;
    let (nation, nation_code) = if permit {
        (None, None)
    } else {
        let code = r.required(NATION)?;
        let nation = nation_name(&code).ok_or(TextError::Field {
            field: NATION.name,
            problem: "not a GB 3304 nation code",
        })?;
        (Some(nation.to_owned()), Some(code))
    };
    let birth_date = r.date(BIRTH)?;
    let address = r.optional(ADDRESS)?;
    let id_number = r.id_number(NUMBER, card_type)?;
    let authority = r.optional(AUTHORITY)?;
    let valid_from = r.date(FROM)?;
    let valid_until = r.valid_until(UNTIL)?;
    let (pass_number, issue_count) = if permit {
        (r.optional(PASS_NUMBER)?, r.optional(ISSUE_COUNT)?)
    } else {
        (None, None)
    };
    Ok(IdCard {
        card_type,
        name,
        english_name: None,
        sex,
        nation,
        nation_code,
        nationality: None,
        birth_date,
        address,
        id_number,
        authority,
        valid_from,
        valid_until,
        pass_number,
        issue_count,
        card_version: None,
        renewal_count: None,
    })
}

/// A foreigner card needs a Chinese or an English name.
fn check_some_name(name: &str, english_name: Option<&String>) -> Result<(), TextError> {
    if name.is_empty() && english_name.is_none() {
        return Err(TextError::Field {
            field: "name",
            problem: "neither a Chinese nor an English name",
        });
    }
    Ok(())
}

fn parse_foreigner_2017(r: &Reader<'_>) -> Result<IdCard, TextError> {
    use foreigner2017::*;
    let english_name = r.optional(ENGLISH_NAME)?;
    let sex = r.sex(SEX)?;
    let id_number = r.id_number(NUMBER, CardType::Foreigner2017)?;
    let nationality = r.optional(NATIONALITY)?;
    let name = r.text(NAME)?;
    check_some_name(&name, english_name.as_ref())?;
    let valid_from = r.date(FROM)?;
    let valid_until = r.valid_until(UNTIL)?;
    let birth_date = r.date(BIRTH)?;
    let card_version = r.optional(VERSION)?;
    let authority = r.optional(AUTHORITY)?;
    Ok(IdCard {
        card_type: CardType::Foreigner2017,
        name,
        english_name,
        sex,
        nation: None,
        nation_code: None,
        nationality,
        birth_date,
        address: None,
        id_number,
        authority,
        valid_from,
        valid_until,
        pass_number: None,
        issue_count: None,
        card_version,
        renewal_count: None,
    })
}

fn parse_foreigner_2023(r: &Reader<'_>) -> Result<IdCard, TextError> {
    use foreigner2023::*;
    let name = r.text(NAME)?;
    let sex = r.sex(SEX)?;
    let renewal_count = r.optional(RENEWAL)?;
    let birth_date = r.date(BIRTH)?;
    // The English name runs on from the first part into the second; the first part is full
    // whenever there is a second, so the raw parts are joined before trimming.
    let english = r.raw(ENGLISH_NAME_1)? + &r.raw(ENGLISH_NAME_2)?;
    let english = english.trim_matches(is_padding);
    let english_name = (!english.is_empty()).then(|| english.to_owned());
    check_some_name(&name, english_name.as_ref())?;
    let id_number = r.id_number(NUMBER, CardType::Foreigner2023)?;
    let authority = r.optional(AUTHORITY)?;
    let valid_from = r.date(FROM)?;
    let valid_until = r.valid_until(UNTIL)?;
    let nationality = r.optional(NATIONALITY)?;
    Ok(IdCard {
        card_type: CardType::Foreigner2023,
        name,
        english_name,
        sex,
        nation: None,
        nation_code: None,
        nationality,
        birth_date,
        address: None,
        id_number,
        authority,
        valid_from,
        valid_until,
        pass_number: None,
        issue_count: None,
        card_version: None,
        renewal_count,
    })
}

/// Writing the fields of one block.
struct Writer {
    block: [u8; TEXT_BLOCK_LEN],
}

impl Writer {
    /// A block of spaces.
    fn new() -> Self {
        let mut block = [0; TEXT_BLOCK_LEN];
        for pair in block.as_chunks_mut::<2>().0 {
            *pair = [0x20, 0x00];
        }
        Self { block }
    }

    /// Writes as many whole characters of `s` as fit; returns the rest.
    fn put<'s>(&mut self, f: Field, s: &'s str) -> &'s str {
        let Some(dest) = self.block.get_mut(f.offset..f.offset + f.len) else {
            return s;
        };
        let mut at = 0;
        for (index, c) in s.char_indices() {
            let mut units = [0; 2];
            let units = c.encode_utf16(&mut units);
            let needed = 2 * units.len();
            let Some(slot) = dest.get_mut(at..at + needed) else {
                return s.get(index..).unwrap_or_default();
            };
            for (pair, unit) in slot.chunks_exact_mut(2).zip(units.iter()) {
                pair.copy_from_slice(&unit.to_le_bytes());
            }
            at += needed;
        }
        ""
    }

    fn put_opt(&mut self, f: Field, s: Option<&String>) {
        if let Some(s) = s {
            self.put(f, s);
        }
    }

    fn put_date(&mut self, f: Field, d: Date) {
        self.put(f, &compact_date(d));
    }

    fn put_until(&mut self, f: Field, d: Option<Date>) {
        match d {
            Some(d) => self.put_date(f, d),
            None => {
                self.put(f, OPEN_ENDED);
            }
        }
    }

    fn put_char(&mut self, f: Field, c: char) {
        self.put(f, c.encode_utf8(&mut [0; 4]));
    }
}

/// Writes a card as a text block: the inverse of [`parse_text_block`], for emulators and round
/// trips.
///
/// Fields are padded with spaces; a value too long for its field is cut at the last whole
/// character that fits. Fields the card type does not have are not written. On a resident
/// card the nation code is written from `nation_code`, or else looked up from `nation`.
pub fn encode_text_block(card: &IdCard) -> [u8; TEXT_BLOCK_LEN] {
    let mut w = Writer::new();
    match card.card_type {
        CardType::Resident | CardType::Permit => {
            use resident::*;
            w.put(NAME, &card.name);
            w.put_char(SEX, card.sex.code());
            if card.card_type == CardType::Resident {
                let code = card
                    .nation_code
                    .as_deref()
                    .or_else(|| card.nation.as_deref().and_then(nation_code));
                if let Some(code) = code {
                    w.put(NATION, code);
                }
            }
            w.put_date(BIRTH, card.birth_date);
            w.put_opt(ADDRESS, card.address.as_ref());
            w.put(NUMBER, card.id_number.as_str());
            w.put_opt(AUTHORITY, card.authority.as_ref());
            w.put_date(FROM, card.valid_from);
            w.put_until(UNTIL, card.valid_until);
            if card.card_type == CardType::Permit {
                w.put_opt(PASS_NUMBER, card.pass_number.as_ref());
                w.put_opt(ISSUE_COUNT, card.issue_count.as_ref());
            }
        }
        CardType::Foreigner2017 => {
            use foreigner2017::*;
            w.put_opt(ENGLISH_NAME, card.english_name.as_ref());
            w.put_char(SEX, card.sex.code());
            w.put(NUMBER, card.id_number.as_str());
            w.put_opt(NATIONALITY, card.nationality.as_ref());
            w.put(NAME, &card.name);
            w.put_date(FROM, card.valid_from);
            w.put_until(UNTIL, card.valid_until);
            w.put_date(BIRTH, card.birth_date);
            w.put_opt(VERSION, card.card_version.as_ref());
            w.put_opt(AUTHORITY, card.authority.as_ref());
        }
        CardType::Foreigner2023 => {
            use foreigner2023::*;
            w.put(NAME, &card.name);
            w.put_char(SEX, card.sex.code());
            w.put_opt(RENEWAL, card.renewal_count.as_ref());
            w.put_date(BIRTH, card.birth_date);
            if let Some(english) = &card.english_name {
                let rest = w.put(ENGLISH_NAME_1, english);
                w.put(ENGLISH_NAME_2, rest);
            }
            w.put(NUMBER, card.id_number.as_str());
            w.put_opt(AUTHORITY, card.authority.as_ref());
            w.put_date(FROM, card.valid_from);
            w.put_until(UNTIL, card.valid_until);
            w.put_opt(NATIONALITY, card.nationality.as_ref());
        }
    }
    w.put_char(TYPE, card.card_type.code());
    w.block
}

/// Masks an address: keeps the first 6 characters (province and district, as a rule) and
/// hides the rest, one `*` per character.
pub fn mask_address(address: &str) -> String {
    address
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || c.is_whitespace() { c } else { '*' })
        .collect()
}

impl IdCard {
    /// The name to show: the Chinese name, or the English name when there is none.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            self.english_name.as_deref().unwrap_or_default()
        } else {
            &self.name
        }
    }

    /// The nation (resident cards) or the nationality (foreigner cards).
    fn nation_or_nationality(&self) -> Option<String> {
        self.nation.clone().or_else(|| self.nationality.clone())
    }

    /// The full, unmasked view: for the holder's own screen and `--unmasked`, never for logs.
    pub fn view(&self) -> CardView {
        CardView {
            card_type: self.card_type,
            name: self.display_name().to_owned(),
            sex: self.sex,
            nation: self.nation_or_nationality(),
            birth_date: iso_date(self.birth_date),
            address: self.address.clone(),
            id_number: self.id_number.as_str().to_owned(),
            authority: self.authority.clone(),
            valid_from: iso_date(self.valid_from),
            valid_until: self.valid_until.map(iso_date),
        }
    }

    /// The masked view: name, number and address masked (see [`protocol::mask`] and
    /// [`mask_address`]), everything else as in [`IdCard::view`].
    pub fn masked_view(&self) -> CardView {
        CardView {
            name: mask_name(self.display_name()),
            address: self.address.as_deref().map(mask_address),
            id_number: self.id_number.masked(),
            ..self.view()
        }
    }

    /// The same as [`IdCard::masked_view`].
    pub fn masked(&self) -> MaskedCard {
        self.masked_view()
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("card_type", &self.card_type)
            .field("name", &mask_name(&self.name))
            .field("english_name", &self.english_name.as_deref().map(mask_name))
            .field("sex", &self.sex)
            .field("nation", &self.nation)
            .field("nationality", &self.nationality)
            .field("birth_date", &self.birth_date)
            .field("address", &self.address.as_deref().map(mask_address))
            .field("id_number", &self.id_number)
            .field("authority", &self.authority)
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field(
                "pass_number",
                &self.pass_number.as_deref().map(mask_id_number),
            )
            .field("issue_count", &self.issue_count)
            .field("card_version", &self.card_version)
            .field("renewal_count", &self.renewal_count)
            .finish()
    }
}
