//! Fictional seniors for tests that need many residents: for each index a valid GB 11643 number
//! (born 1950-1959, so 60 or over), a name, the ID card a reader reads, and the citizen record
//! to put into the central's store. Indices below 1,000,000 give distinct numbers.

use central::model::{NewCitizen, StoredPhoto};
use central::store::Store;
use idcard::{CardType, IdCard, Sex};
use protocol::IdNumber;
use protocol::api::Color;
use protocol::idnumber::check_character;
use time::{Date, Month};

const FAMILY: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: [&str; 10] = [
    "秀英", "建国", "桂兰", "志强", "玉珍", "国华", "淑芬", "明德", "丽华", "文杰",
];

/// The card of senior `index`.
pub fn card(index: usize) -> IdCard {
    let year = 1950 + i32::try_from(index % 10).unwrap();
    let month = Month::try_from(u8::try_from(1 + (index / 10) % 12).unwrap()).unwrap();
    let day = u8::try_from(1 + (index / 120) % 28).unwrap();
    let birth = Date::from_calendar_date(year, month, day).unwrap();
    let district = 310_101 + (index / 3360) % 20;
    let sequence = (index % 3360) % 1000;
    let first17 = format!(
        "{district}{year:04}{:02}{day:02}{sequence:03}",
        u8::from(month)
    );
    let check = check_character(&first17).unwrap();
    let id_number = IdNumber::parse(&format!("{first17}{check}")).unwrap();
    let name = format!(
        "{}{}",
        FAMILY[index % FAMILY.len()],
        GIVEN[(index / FAMILY.len()) % GIVEN.len()]
    );
    IdCard {
        card_type: CardType::Resident,
        name,
        english_name: None,
        sex: if sequence % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        },
        nation: Some("汉".to_owned()),
        nation_code: Some("01".to_owned()),
        nationality: None,
        birth_date: birth,
        address: Some("上海市黄浦区测试路 1 号".to_owned()),
        id_number,
        authority: Some("上海市公安局黄浦分局".to_owned()),
        valid_from: Date::from_calendar_date(2016, Month::May, 20).unwrap(),
        valid_until: None,
        pass_number: None,
        issue_count: None,
        card_version: None,
        renewal_count: None,
    }
}

/// Adds seniors `range` to a central's store (eligible: photo, real-name verified, green).
pub fn import(store: &dyn Store, range: std::ops::Range<usize>) {
    for index in range {
        let card = card(index);
        store
            .upsert_citizen(&NewCitizen {
                id_number: card.id_number.clone(),
                name: card.name.clone(),
                photo: Some(StoredPhoto {
                    mime: "image/png".into(),
                    bytes: central::demo::avatar_png(u64::try_from(index).unwrap(), 102, 126),
                }),
                color: Color::Green,
                realname_verified: true,
            })
            .unwrap();
    }
}
