//! The out-of-service screen: 暂停服务, the reason, and where to go instead. It has no 返回首页:
//! it stands in for home while no session can start, so going back to the start would only show
//! it again (呼叫工作人员 stays, and staff reach maintenance through the hidden corner).

use iced::Element;
use iced::widget::column;

use crate::flow::Unavailable;
use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed};
use crate::ui::{Action, Look, Text};

/// The step indicator: none (no session runs).
pub const STEP: Option<u8> = None;

/// The out-of-service screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Why.
    pub reason: Unavailable,
}

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The reason, in words.
pub fn reason_words(look: Look, reason: &Unavailable) -> String {
    match reason {
        Unavailable::Staff(reason) if !reason.trim().is_empty() => {
            look.fill(Text::OutReason, &[("reason", reason.trim())])
        }
        Unavailable::Staff(_) => String::new(),
        Unavailable::Printer => look.t(Text::OutPrinter).to_owned(),
        Unavailable::OutsideHours => look.t(Text::OutHours).to_owned(),
    }
}

/// The content of the out-of-service screen.
pub fn view(state: &State, look: Look) -> Element<'_, Message> {
    let mut panel = column![].spacing(look.px(theme::GAP));
    let reason = reason_words(look, &state.reason);
    if !reason.is_empty() {
        panel = panel.push(body(look, reason));
    }
    panel = panel.push(body(look, look.t(Text::OutWhere)));
    column![
        iced::widget::text(look.t(Text::OutOfServiceTitle))
            .size(look.px(theme::HERO))
            .width(iced::Length::Fill)
            .align_x(iced::alignment::Horizontal::Center),
        boxed(look, BoxKind::Panel, panel.into()),
    ]
    .spacing(look.px(theme::GAP * 2.0))
    .into()
}
