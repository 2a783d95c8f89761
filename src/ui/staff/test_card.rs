//! Test the card reader: 请放置身份证, then the masked parse of the card placed (type, name,
//! number, sex, birth date, validity, address: as `kiosk doctor idcard` prints them), or why it
//! could not be read. Nothing is kept; it is forgotten when maintenance closes.

use iced::widget::{Column, column, row};
use iced::{Element, Length};

use super::clip;
use crate::staff::{StaffView, TestCardResult};
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed, fault_line, field, heading};
use crate::ui::{Look, Text};

/// Nothing is touched here but the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// A card type in words.
pub fn card_type_words(card_type: idcard::CardType) -> Text {
    match card_type {
        idcard::CardType::Resident => Text::CardResident,
        idcard::CardType::Permit => Text::CardPermit,
        idcard::CardType::Foreigner2017 => Text::CardForeigner2017,
        idcard::CardType::Foreigner2023 => Text::CardForeigner2023,
    }
}

fn sex_words(sex: idcard::Sex) -> Text {
    match sex {
        idcard::Sex::Male => Text::SexMale,
        idcard::Sex::Female => Text::SexFemale,
        idcard::Sex::NotKnown | idcard::Sex::NotStated => Text::SexOther,
    }
}

fn parse<'a>(look: Look, card: &idcard::CardView) -> Element<'a, Message> {
    let until = card
        .valid_until
        .clone()
        .unwrap_or_else(|| look.t(Text::LongTerm).to_owned());
    let valid = look.fill(
        Text::ValidRange,
        &[("from", &card.valid_from), ("to", &until)],
    );
    let gap = look.px(theme::staff::LINE_GAP);
    let left = Column::new()
        .spacing(gap)
        .width(Length::Fill)
        .push(field(
            look,
            look.t(Text::CardTypeLabel),
            look.t(card_type_words(card.card_type)),
        ))
        .push(field(look, look.t(Text::LabelName), card.name.clone()))
        .push(field(
            look,
            look.t(Text::LabelIdNumber),
            card.id_number.clone(),
        ))
        .push(field(
            look,
            look.t(Text::CardSexLabel),
            look.t(sex_words(card.sex)),
        ));
    let mut right = Column::new()
        .spacing(gap)
        .width(Length::Fill)
        .push(field(
            look,
            look.t(Text::CardBirthLabel),
            card.birth_date.clone(),
        ))
        .push(field(look, look.t(Text::CardValidLabel), valid));
    if let Some(address) = &card.address {
        right = right.push(field(
            look,
            look.t(Text::CardAddressLabel),
            clip(address, 24),
        ));
    }
    row![left, right].spacing(look.px(theme::GAP)).into()
}

/// The content of the test-card page.
pub fn view(view: &StaffView, look: Look) -> Element<'_, Message> {
    let mut content = column![
        heading(look, look.t(Text::TestCardTitle)),
        body(look, look.t(Text::TestCardHint)),
    ]
    .spacing(look.px(theme::GAP))
    .width(Length::Fill);
    match &view.test_card {
        Some(TestCardResult::Read(card)) => {
            content = content.push(boxed(look, BoxKind::Panel, parse(look, card)));
        }
        Some(TestCardResult::Unreadable(reason)) => {
            content = content.push(boxed(
                look,
                BoxKind::Panel,
                fault_line(
                    look,
                    look.fill(Text::TestCardUnreadable, &[("reason", &clip(reason, 70))]),
                ),
            ));
        }
        None => {}
    }
    content.into()
}
