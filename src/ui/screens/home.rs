//! The home screen: 随申码离线服务 (the start button), the notice from the central's config (the
//! operator's free text, shown as written in either language), a notice while the central is
//! unreachable, and the language toggle (drawn in the footer, where other screens have
//! 返回首页).

use iced::Element;
use iced::widget::column;

use crate::flow::Button;
use crate::ui::theme::{self, ButtonKind};
use crate::ui::widgets::{big_button, body, notice};
use crate::ui::{Action, Look, Text};

/// The step indicator: none on home.
pub const STEP: Option<u8> = None;

/// The home screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Show "the central cannot be reached".
    pub notice_offline: bool,
    /// The notice from the central's config, if it sets one.
    pub notice: Option<String>,
}

/// What can be touched on home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 随申码离线服务.
    Start,
    /// English / 中文.
    ToggleLanguage,
}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {
        Message::Start => Action::Press(Button::Start),
        Message::ToggleLanguage => Action::ToggleLanguage,
    }
}

/// The content of the home screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let mut content = column![
        iced::widget::text(look.t(Text::HomeTitle))
            .size(look.px(theme::HERO))
            .width(iced::Length::Fill)
            .align_x(iced::alignment::Horizontal::Center),
        body(look, look.t(Text::HomeIntro)),
        iced::widget::container(big_button(
            look,
            look.t(Text::Start),
            ButtonKind::Primary,
            Message::Start,
        ))
        .center_x(iced::Length::Fill),
    ]
    .spacing(look.px(theme::GAP * 1.5));
    if let Some(text) = state.notice.as_deref().map(str::trim)
        && !text.is_empty()
    {
        content = content.push(notice(look, text));
    }
    if state.notice_offline {
        content = content.push(notice(look, look.t(Text::CentralOffline)));
    }
    content.into()
}
