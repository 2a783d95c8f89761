//! The reading screen: the card is on the reader and being read.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(1);

/// This screen's state (nothing to keep).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State;

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The content of this screen.
pub fn view(_state: &State, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::ReadingTitle)),
        body(look, look.t(Text::ReadingHint)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
