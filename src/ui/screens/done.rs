//! The done screen: 请取走离线码和身份证, which issue the slip is, and a reminder while the
//! card is still on the reader.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading, notice};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(3);

/// The done screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Whether the card is still on the reader.
    pub card_on_reader: bool,
    /// Which issue the printed code is.
    pub serial: u16,
}

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The content of the done screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let mut content = column![heading(look, look.t(Text::DoneTitle))].spacing(look.px(theme::GAP));
    if state.card_on_reader {
        content = content.push(notice(look, look.t(Text::CardStillThere)));
    }
    if state.serial > 0 {
        content = content.push(body(
            look,
            look.fill(Text::DoneSerial, &[("serial", &state.serial.to_string())]),
        ));
    }
    content.into()
}
