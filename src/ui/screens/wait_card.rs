//! The wait-card screen: 请将身份证放在读卡区, with a picture of where the reader is, and a
//! "place it again" notice after a failed read.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading, notice, picture};
use crate::ui::{Action, Look, Text, card_illustration};

/// The step indicator.
pub const STEP: Option<u8> = Some(1);

/// The wait-card screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The last read failed: ask to place the card again.
    pub retry: bool,
}

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The content of the wait-card screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let mut content =
        column![heading(look, look.t(Text::WaitCardTitle))].spacing(look.px(theme::GAP));
    if state.retry {
        content = content.push(notice(look, look.t(Text::WaitCardRetry)));
    }
    content
        .push(picture(
            look,
            card_illustration(),
            theme::ILLUSTRATION_WIDTH,
            theme::ILLUSTRATION_HEIGHT,
        ))
        .push(body(look, look.t(Text::WaitCardHint)))
        .into()
}
