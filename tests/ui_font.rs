//! The bundled font (a subset made for the slip) must draw every character the screens show:
//! every text of the table in both languages, the digits and punctuation of dates and numbers,
//! and the names of the demo people. A character outside the subset would show as an empty box.

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
