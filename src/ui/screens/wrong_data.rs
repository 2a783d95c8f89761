//! The wrong-data screen: the resident said the data shown is wrong; 请联系窗口工作人员.
//! Nothing is issued.

use iced::Element;
use iced::widget::column;

use crate::ui::theme::{self, BoxKind};
use crate::ui::widgets::{body, boxed, heading};
use crate::ui::{Action, Look, Text};

/// The step indicator.
pub const STEP: Option<u8> = Some(2);

/// The wrong-data screen's state (nothing to keep).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State;

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The content of the wrong-data screen.
pub fn view(_state: &State, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::WrongDataTitle)),
        boxed(
            look,
            BoxKind::Panel,
            iced::widget::text(look.t(Text::ContactCounter))
                .size(look.px(theme::HEADING))
                .width(iced::Length::Fill)
                .align_x(iced::alignment::Horizontal::Center)
                .into(),
        ),
        body(look, look.t(Text::NothingIssued)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
