//! The wait-scan screen: show the 随申码 on a phone to the scanner.

use iced::Element;
use iced::widget::column;

use crate::ui::theme;
use crate::ui::widgets::{body, heading, picture};
use crate::ui::{Action, Look, Text, scan_illustration};

/// The step indicator.
pub const STEP: Option<u8> = Some(1);

/// The wait-scan screen's state (nothing to keep).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State;

/// Nothing is touched here but the page's own buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {}

/// Turns a touch into what the app does.
pub fn update(_state: &mut State, message: Message) -> Action {
    match message {}
}

/// The content of the wait-scan screen.
pub fn view(_state: &State, look: Look) -> Element<'_, Message> {
    column![
        heading(look, look.t(Text::WaitScanTitle)),
        picture(
            look,
            scan_illustration(),
            theme::ILLUSTRATION_WIDTH,
            theme::ILLUSTRATION_HEIGHT,
        ),
        body(look, look.t(Text::WaitScanHint)),
    ]
    .spacing(look.px(theme::GAP))
    .into()
}
