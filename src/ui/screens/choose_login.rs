//! The choose-login screen: 身份证登录 or 随申办登录.

use iced::Element;
use iced::widget::column;

use crate::flow::Button;
use crate::ui::theme::{self, ButtonKind};
use crate::ui::widgets::{big_button_with_hint, button_row, heading};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(1);

/// The choose-login screen's state (nothing to keep).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State;

/// What can be touched here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 身份证登录.
    Card,
    /// 随申办登录.
    Suishen,
}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {
        Message::Card => Action::Press(Button::LoginCard),
        Message::Suishen => Action::Press(Button::LoginSuishen),
    }
}

/// The content of the choose-login screen.
pub fn view(_state: &State, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::ChooseTitle)),
        button_row(
            look,
            vec![
                big_button_with_hint(
                    look,
                    look.t(Text::LoginCard),
                    look.t(Text::LoginCardHint),
                    ButtonKind::Primary,
                    Message::Card,
                ),
                big_button_with_hint(
                    look,
                    look.t(Text::LoginSuishen),
                    look.t(Text::LoginSuishenHint),
                    ButtonKind::Primary,
                    Message::Suishen,
                ),
            ],
        ),
    ]
    .spacing(look.px(theme::GAP * 2.0))
    .into()
}
