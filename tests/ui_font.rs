//! The bundled font (a subset made for the slip) must draw every character the screens show:
//! every text of the table in both languages, the digits and punctuation of dates and numbers,
//! the names of the demo people, and any name on an ID card: names may use any CJK Unified
//! Ideograph, rare ones included. A character outside the subset would show as an empty box.

use ab_glyph::{Font, FontRef};
use kiosk::ui::{FONT_BYTES, Text};

fn missing(text: &str, font: &FontRef<'_>) -> Vec<char> {
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .filter(|c| font.glyph_id(*c).0 == 0)
        .collect()
}

#[test]
fn every_character_of_the_screens_is_in_the_bundled_font() {
    let font = FontRef::try_from_slice(FONT_BYTES).unwrap();
    let mut absent = Vec::new();
    for text in Text::ALL {
        for form in [text.zh(), text.en()] {
            for c in missing(form, &font) {
                absent.push((*text, c));
            }
        }
    }
    assert!(
        absent.is_empty(),
        "characters missing from the font: {absent:?}"
    );
}

#[test]
fn numbers_dates_masks_and_demo_names_render() {
    let font = FontRef::try_from_slice(FONT_BYTES).unwrap();
    let mut sample = String::from("0123456789*-/:：（）()，。、！？“”「」·");
    for card in idcard::demo_cards() {
        sample.push_str(&card.name);
    }
    for person in central::demo::demo_citizens() {
        sample.push_str(&person.citizen.name);
    }
    assert_eq!(missing(&sample, &font), Vec::<char>::new());
}

#[test]
fn rare_names_render() {
    let font = FontRef::try_from_slice(FONT_BYTES).unwrap();
    // Names with hanzi outside GB2312 (玥, 堃, 喆, 赟, 昇, 珺, 琤) and from Extension A (㛃, 䶮).
    let names = "王玥堃 张喆 李赟 陈昇 刘珺 周琤 吴㛃 龚䶮";
    assert_eq!(missing(names, &font), Vec::<char>::new());
}

#[test]
fn every_cjk_unified_ideograph_the_source_font_has_is_in_the_subset() {
    // U+4E00-U+9FEF and Extension A U+3400-U+4DB5 (Noto Sans CJK 2.004 predates the later
    // additions U+9FF0-U+9FFF and U+4DB6-U+4DBF).
    let font = FontRef::try_from_slice(FONT_BYTES).unwrap();
    let absent: Vec<char> = (0x4E00..=0x9FEF_u32)
        .chain(0x3400..=0x4DB5)
        .filter_map(char::from_u32)
        .filter(|c| font.glyph_id(*c).0 == 0)
        .collect();
    assert!(absent.is_empty(), "{} missing: {absent:?}", absent.len());
}
