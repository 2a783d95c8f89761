//! The card prompt (after the hidden corner was held): 请放置工作人员身份证, with the picture of
//! the reader. Any other card starts a resident's session, as it would at home; 取消 is on the
//! page.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading, picture};
use crate::ui::{Look, Text, card_illustration};

/// Nothing is touched here but the page's 取消.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// The content of the card prompt.
pub fn view<'a>(look: Look) -> Element<'a, Message> {
    column![
        heading(look, look.t(Text::StaffCardTitle)),
        body(look, look.t(Text::StaffCardHint)),
        picture(
            look,
            card_illustration(),
            theme::ILLUSTRATION_WIDTH,
            theme::ILLUSTRATION_HEIGHT,
        ),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
