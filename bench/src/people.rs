//! Fictional seniors for the benchmarks: for each index a valid GB 11643 number (born 1950-1959),
//! a name, the ID card a reader would read, and the citizen record the central imports.

use anyhow::{Context, Result};
use central::model::{NewCitizen, StoredPhoto};
use idcard::{CardType, IdCard, Sex};
use protocol::IdNumber;
use protocol::api::Color;
use protocol::idnumber::check_character;
use time::{Date, Month};

const FAMILY: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: [&str; 10] = [
    "秀英", "建国", "桂兰", "志强", "玉珍", "国华", "淑芬", "明德", "丽华", "文杰",
];

/// One fictional senior.
#[derive(Clone)]
pub(crate) struct Senior {
    /// The card on the reader.
    pub(crate) card: IdCard,
    /// The record at the central.
    pub(crate) citizen: NewCitizen,
}

/// Senior number `index` (distinct numbers for indices below 1,000,000).
pub(crate) fn senior(index: usize) -> Result<Senior> {
    let year = 1950 + i32::try_from(index % 10).unwrap_or(0);
    let month =
        Month::try_from(u8::try_from(1 + (index / 10) % 12).unwrap_or(1)).context("a month")?;
    let day = u8::try_from(1 + (index / 120) % 28).unwrap_or(1);
    let birth = Date::from_calendar_date(year, month, day).context("a birth date")?;
    // Districts of Shanghai (310101, 310104, …) spread the rest of the index.
    let district = 310_101 + (index / 3360) % 20;
    let sequence = (index % 3360) % 1000;
    let first17 = format!(
        "{district}{year:04}{:02}{day:02}{sequence:03}",
        u8::from(month)
    );
    let check = check_character(&first17).context("a check character")?;
    let id_number = IdNumber::parse(&format!("{first17}{check}"))
        .map_err(|e| anyhow::anyhow!("generated ID number {index}: {e}"))?;
    let family = FAMILY.get(index % FAMILY.len()).copied().unwrap_or("王");
    let given = GIVEN
        .get((index / FAMILY.len()) % GIVEN.len())
        .copied()
        .unwrap_or("秀英");
    let name = format!("{family}{given}");
    let sex = if sequence % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    let card = IdCard {
        card_type: CardType::Resident,
        name: name.clone(),
        english_name: None,
        sex,
        nation: Some("汉".to_owned()),
        nation_code: Some("01".to_owned()),
        nationality: None,
        birth_date: birth,
        address: Some("上海市黄浦区测试路 1 号".to_owned()),
        id_number: id_number.clone(),
        authority: Some("上海市公安局黄浦分局".to_owned()),
        valid_from: Date::from_calendar_date(2016, Month::May, 20).context("a date")?,
        valid_until: None,
        pass_number: None,
        issue_count: None,
        card_version: None,
        renewal_count: None,
    };
    let citizen = NewCitizen {
        id_number,
        name,
        photo: Some(StoredPhoto {
            mime: "image/png".to_owned(),
            bytes: central::demo::avatar_png(u64::try_from(index).unwrap_or(0), 102, 126),
        }),
        color: Color::Green,
        realname_verified: true,
    };
    Ok(Senior { card, citizen })
}

/// Seniors `0..count`.
pub(crate) fn seniors(count: usize) -> Result<Vec<Senior>> {
    (0..count).map(senior).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_distinct_and_valid() {
        let people = seniors(3000).unwrap();
        let numbers: std::collections::BTreeSet<String> = people
            .iter()
            .map(|p| p.card.id_number.as_str().to_owned())
            .collect();
        assert_eq!(numbers.len(), people.len());
    }
}
